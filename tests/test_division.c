#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "division.h"
#include "fixed.h"
#include "support.h"

#define F FIXED_FRAC_BITS /* 13 */
#define ONE ((ring_t)1 << F)
#define QMAX (ONE - 1) /* 1 - 2^-13: every bit of the quotient set */

struct div_arg {
	ring_t *q;          /* output share (NULL at P2) */
	const ring_t *x, *y; /* input shares (NULL at P2) */
	size_t n;           /* elements */
	unsigned frac_bits; /* f */
};

static int div_fn(struct party *p, void *v)
{
	struct div_arg *a = v;
	return division(p, a->q, a->x, a->y, a->n, a->frac_bits);
}

/* Exact quotient in ulps, saturated like the protocol: min(floor(X·2^f / Y), 2^f - 1).
 * X < 2^(63 - f) keeps the shift exact. */
static ring_t ref_quotient(ring_t X, ring_t Y, unsigned f)
{
	ring_t d = (X << f) / Y;
	ring_t top = ((ring_t)1 << f) - 1;
	return d < top ? d : top;
}

/* The bound of division.h: |Q - q*| <= ceil(f·2^f / Y). */
static ring_t ulp_bound(ring_t Y, unsigned f)
{
	ring_t num = (ring_t)f << f;
	return (num + Y - 1) / Y;
}

static ring_t abs_diff(ring_t a, ring_t b)
{
	return a > b ? a - b : b - a;
}

/* Share X (owner seed `seed`) and Y (seed + 1000), run with run seed `run_seed`,
 * reconstruct into Q; P0's output share goes to q0 if not NULL. */
static void run_division(uint64_t seed, uint64_t run_seed, const ring_t *X, const ring_t *Y,
			 ring_t *Q, ring_t *q0_out, size_t n, unsigned f, struct sim_result *res)
{
	ring_t *x0 = support_alloc(n), *x1 = support_alloc(n);
	ring_t *y0 = support_alloc(n), *y1 = support_alloc(n);
	ring_t *q0 = support_alloc(n), *q1 = support_alloc(n);
	support_share(seed, x0, x1, X, n);
	support_share(seed + 1000, y0, y1, Y, n);
	struct div_arg a0 = { q0, x0, y0, n, f }, a1 = { q1, x1, y1, n, f };
	struct div_arg a2 = { NULL, NULL, NULL, n, f };
	void *args[3] = { &a0, &a1, &a2 };
	struct sim_config cfg;
	support_config(&cfg, run_seed);
	support_run_ok(&cfg, div_fn, args, res);
	for (size_t i = 0; i < n; i++)
		Q[i] = q0[i] + q1[i];
	if (q0_out)
		memcpy(q0_out, q0, n * sizeof(ring_t));
	free(x0);
	free(x1);
	free(y0);
	free(y1);
	free(q0);
	free(q1);
}

/* Random pairs 0 <= X <= Y with Y log-uniform in [1, 2^max_log): y from 2^-13
 * (one ulp) up to 2^(max_log - 13) in real value. */
static void fill_pairs(uint64_t *st, ring_t *X, ring_t *Y, size_t n, unsigned max_log)
{
	for (size_t i = 0; i < n; i++) {
		unsigned k = (unsigned)(support_rand(st) % max_log);
		ring_t y = ((ring_t)1 << k) | (support_rand(st) & (((ring_t)1 << k) - 1));
		Y[i] = y;
		X[i] = support_rand(st) % (y + 1);
	}
}

Test(division, worked_example, .timeout = 20)
{
	/* 1/2, 1/4, 3/4, 1/3 and 5/8 with y an integer: Y is a multiple of 2^13,
	 * every truncation y / 2^i (i <= 13) is exact, and so is the quotient. */
	ring_t X[5] = { 1 * ONE, 1 * ONE, 3 * ONE, 1 * ONE, 5 * ONE };
	ring_t Y[5] = { 2 * ONE, 4 * ONE, 4 * ONE, 3 * ONE, 8 * ONE };
	ring_t want[5] = { ONE / 2, ONE / 4, 3 * ONE / 4, 2730 /* floor(8192 / 3) */, 5 * ONE / 8 };
	ring_t Q[5];
	struct sim_result res;
	run_division(1, 1, X, Y, Q, NULL, 5, F, &res);
	for (int i = 0; i < 5; i++)
		cr_assert_eq(Q[i], want[i], "case %d: got %llu, want %llu", i, (unsigned long long)Q[i],
			     (unsigned long long)want[i]);
	sim_result_finish(&res);
}

Test(division, matches_plaintext_within_the_ulp_bound, .timeout = 120)
{
	/* 10^5 pairs in one call, y from 2^-13 to 2^30. A truncation failure
	 * (probability about Y / 2^64 per element) has an expected count of
	 * about 10^-3 here; the seed is fixed, so the run is reproducible. */
	enum { N = 100000 };
	uint64_t st = 2024, seed = 11;
	ring_t *X = support_alloc(N), *Y = support_alloc(N), *Q = support_alloc(N);
	fill_pairs(&st, X, Y, N, 43);
	struct sim_result res;
	run_division(seed, seed, X, Y, Q, NULL, N, F, &res);
	size_t n_exact = 0, n_big = 0, n_big_exact = 0;
	for (size_t i = 0; i < N; i++) {
		ring_t want = ref_quotient(X[i], Y[i], F), err = abs_diff(Q[i], want);
		cr_assert_leq(Q[i], QMAX, "seed %llu index %zu: %llu is not a 13-bit quotient",
			      (unsigned long long)seed, i, (unsigned long long)Q[i]);
		cr_assert_leq(err, ulp_bound(Y[i], F),
			      "seed %llu index %zu: x %llu y %llu: got %llu, want %llu (bound %llu)",
			      (unsigned long long)seed, i, (unsigned long long)X[i],
			      (unsigned long long)Y[i], (unsigned long long)Q[i],
			      (unsigned long long)want, (unsigned long long)ulp_bound(Y[i], F));
		n_exact += err == 0;
		if (Y[i] >= ((ring_t)1 << 23)) { /* y >= 1024: truncation errors < 0.02 ulp of q */
			n_big++;
			n_big_exact += err == 0;
		}
	}
	/* Not just within a loose bound: for large y the result is floor(x/y)
	 * except where x/y is within a few hundredths of an ulp of a multiple. */
	cr_assert_geq(n_big_exact * 100, n_big * 95, "only %zu of %zu exact for y >= 1024",
		      n_big_exact, n_big);
	cr_assert_geq(n_exact * 100, (size_t)N * 60, "only %zu of %d exact", n_exact, N);
	cr_assert_eq(sim_result_bytes(&res), division_bytes(N, F));
	sim_result_finish(&res);
	free(X);
	free(Y);
	free(Q);
}

Test(division, other_precisions_within_their_bound, .timeout = 60)
{
	static const unsigned precisions[] = { 1, 2, 8, 16, 20 };
	enum { N = 2000 };
	uint64_t st = 77;
	ring_t *X = support_alloc(N), *Y = support_alloc(N), *Q = support_alloc(N);
	for (size_t t = 0; t < sizeof(precisions) / sizeof(precisions[0]); t++) {
		unsigned f = precisions[t];
		uint64_t seed = 500 + t;
		fill_pairs(&st, X, Y, N, 40);
		struct sim_result res;
		run_division(seed, seed, X, Y, Q, NULL, N, f, &res);
		for (size_t i = 0; i < N; i++)
			cr_assert_leq(abs_diff(Q[i], ref_quotient(X[i], Y[i], f)), ulp_bound(Y[i], f),
				      "f %u seed %llu index %zu: x %llu y %llu got %llu", f,
				      (unsigned long long)seed, i, (unsigned long long)X[i],
				      (unsigned long long)Y[i], (unsigned long long)Q[i]);
		cr_assert_eq(sim_result_bytes(&res), division_bytes(N, f), "f %u", f);
		sim_result_finish(&res);
	}
	free(X);
	free(Y);
	free(Q);
}

/* One call on hand-picked pairs; each case gives [lo, hi] for Q. */
struct edge {
	ring_t X, Y;   /* encodings */
	ring_t lo, hi; /* accepted range of Q */
	const char *what;
};

Test(division, edge_cases_behave_as_documented, .timeout = 20)
{
	const ring_t m1 = (ring_t)0 - 1; /* -1 ulp */
	const struct edge e[] = {
		/* x = 0: q = 0 exactly once y >= 1 (every y / 2^i rounds to >= 1). */
		{ 0, ONE, 0, 0, "x = 0, y = 1" },
		{ 0, ONE + 1, 0, 0, "x = 0, y = 1 + 2^-13" },
		{ 0, 3 * ONE + 5, 0, 0, "x = 0, y ~ 3" },
		{ 0, ((ring_t)1 << 40) + 7, 0, 0, "x = 0, y ~ 2^27" },
		{ 0, (ring_t)1 << 43, 0, 0, "x = 0, y = 2^30" },
		/* x = y: saturates at 1 - 2^-13 exactly for integer y or y > 12 ... */
		{ ONE, ONE, QMAX, QMAX, "x = y = 1" },
		{ 12 * ONE + 1, 12 * ONE + 1, QMAX, QMAX, "x = y = 12 + 2^-13" },
		{ ((ring_t)1 << 43) - 1, ((ring_t)1 << 43) - 1, QMAX, QMAX, "x = y ~ 2^30" },
		/* ... and within the bound below it otherwise: ceil(13·8192 / Y). */
		{ ONE + 1, ONE + 1, QMAX - 13, QMAX, "x = y = 1 + 2^-13" },
		{ 3 * ONE + 7, 3 * ONE + 7, QMAX - 5, QMAX, "x = y ~ 3" },
		/* x > y: 1 - 2^-13 exactly when x - y >= 12 ulps or y > 12. */
		{ 1 + 12, 1, QMAX, QMAX, "x = y + 12 ulps, y = 1 ulp" },
		{ 100 + 12, 100, QMAX, QMAX, "x = y + 12 ulps, y = 100 ulps" },
		{ 2 * ONE + 12, 2 * ONE, QMAX, QMAX, "x = 2 + 12 ulps, y = 2" },
		{ 12 * ONE + 2, 12 * ONE + 1, QMAX, QMAX, "x = y + 1 ulp, y > 12" },
		{ 2 * 1000 * ONE, 1000 * ONE, QMAX, QMAX, "x = 2y" },
		{ (ring_t)1 << 50, 3, QMAX, QMAX, "x = 2^37, y = 3 ulps" },
		/* tiny y: y / 2^i rounds to 0 or 1, nothing useful but 13 bits. */
		{ 0, 1, 0, QMAX, "x = 0, y = 1 ulp" },
		{ 1, 1, ONE / 2, QMAX, "x = y = 1 ulp: the first bit is always set" },
		/* y <= 0 (x >= 0): every bit set. */
		{ 5, 0, QMAX, QMAX, "y = 0" },
		{ 0, 0, QMAX, QMAX, "x = y = 0" },
		{ ONE, (ring_t)0 - 3 * ONE, QMAX, QMAX, "y = -3" },
		{ 7 * ONE, m1, QMAX, QMAX, "y = -1 ulp" },
		/* x < 0 (y >= 0): no bit set. */
		{ (ring_t)0 - ONE, 2 * ONE, 0, 0, "x = -1, y = 2" },
		{ m1, 1, 0, 0, "x = -1 ulp, y = 1 ulp" },
		{ m1, 0, 0, 0, "x = -1 ulp, y = 0" },
	};
	enum { N = sizeof(e) / sizeof(e[0]) };
	ring_t X[N], Y[N], Q[N];
	for (size_t i = 0; i < N; i++) {
		X[i] = e[i].X;
		Y[i] = e[i].Y;
	}
	for (uint64_t seed = 1; seed <= 4; seed++) {
		struct sim_result res;
		run_division(seed * 31, seed, X, Y, Q, NULL, N, F, &res);
		for (size_t i = 0; i < N; i++) {
			cr_assert_geq(Q[i], e[i].lo, "seed %llu case %zu (%s): %llu < %llu",
				      (unsigned long long)seed, i, e[i].what, (unsigned long long)Q[i],
				      (unsigned long long)e[i].lo);
			cr_assert_leq(Q[i], e[i].hi, "seed %llu case %zu (%s): %llu > %llu",
				      (unsigned long long)seed, i, e[i].what, (unsigned long long)Q[i],
				      (unsigned long long)e[i].hi);
		}
		sim_result_finish(&res);
	}
}

Test(division, odd_sizes_cost_exactly_704_bytes_per_bit, .timeout = 60)
{
	/* n = 1 and sizes that are not multiples of 8 or 64. */
	static const size_t sizes[] = { 1, 2, 7, 9, 63, 65, 129, 1000 };
	uint64_t st = 3;
	for (size_t t = 0; t < sizeof(sizes) / sizeof(sizes[0]); t++) {
		size_t n = sizes[t];
		uint64_t seed = 200 + t;
		ring_t *X = support_alloc(n), *Y = support_alloc(n), *Q = support_alloc(n);
		fill_pairs(&st, X, Y, n, 43);
		struct sim_result res;
		run_division(seed, seed, X, Y, Q, NULL, n, F, &res);
		for (size_t i = 0; i < n; i++)
			cr_assert_leq(abs_diff(Q[i], ref_quotient(X[i], Y[i], F)), ulp_bound(Y[i], F),
				      "n %zu seed %llu index %zu", n, (unsigned long long)seed, i);
		/* Communication oracle: Table 2's (8·l·log p + 24·l)·l_D bits per element. */
		cr_assert_eq(sim_result_bytes(&res), division_bytes(n, F), "n %zu: %llu bytes", n,
			     (unsigned long long)sim_result_bytes(&res));
		cr_assert_eq(division_bytes(n, F), 9152 * n);
		cr_assert_leq(res.rounds, 10 * F, "n %zu: %u rounds, the paper counts 130", n,
			      res.rounds);
		cr_assert_eq(res.rounds, 9 * F, "n %zu: %u rounds, DReLU 8 + product 1 per bit", n,
			     res.rounds);
		/* One DReLU and one product per iteration, all n elements at once. */
		for (int j = 0; j < PARTY_COUNT; j++) {
			const struct stats *s = &res.party[j].stats;
			int d = stats_find(s, "division/drelu"), m = stats_find(s, "division/mul");
			cr_assert_geq(d, 0, "P%d: no division/drelu scope", j);
			cr_assert_geq(m, 0, "P%d: no division/mul scope", j);
			cr_assert_eq(s->nodes[d].c.calls, F, "P%d", j);
			cr_assert_eq(s->nodes[m].c.calls, F, "P%d", j);
		}
		sim_result_finish(&res);
		free(X);
		free(Y);
		free(Q);
	}
}

Test(division, output_shares_are_fresh, .timeout = 20)
{
	/* Same input shares, another run seed: same quotient (it depends only on
	 * the input shares through the truncations), different P0 share. */
	enum { N = 16 };
	ring_t X[N], Y[N], Q[2][N], q0[2][N];
	uint64_t st = 9;
	fill_pairs(&st, X, Y, N, 43);
	for (int run = 0; run < 2; run++) {
		struct sim_result res;
		run_division(5, 40 + (uint64_t)run, X, Y, Q[run], q0[run], N, F, &res);
		sim_result_finish(&res);
	}
	for (int i = 0; i < N; i++) {
		cr_assert_eq(Q[0][i], Q[1][i], "i=%d", i);
		cr_assert_neq(q0[0][i], q0[1][i], "i=%d: P0's share did not change", i);
	}
}

/* Run with shares x0/y0, x1/y1 and the given arguments; return the run's code. */
static int run_raw(struct div_arg *a0, struct div_arg *a1, struct div_arg *a2,
		   struct sim_result *res)
{
	void *args[3] = { a0, a1, a2 };
	struct sim_config cfg;
	support_config(&cfg, 1);
	return sim_run(&cfg, div_fn, args, res);
}

Test(division, bad_arguments_fail_cleanly, .timeout = 20)
{
	ring_t x[1] = { 1 }, y[1] = { 2 }, q0[1], q1[1];
	static const unsigned bad_f[] = { 0, FIXED_MAX_FRAC_BITS + 1, 64 };
	for (size_t t = 0; t < sizeof(bad_f) / sizeof(bad_f[0]); t++) {
		for (size_t n = 0; n <= 1; n++) {
			struct div_arg a0 = { q0, x, y, n, bad_f[t] }, a1 = { q1, x, y, n, bad_f[t] };
			struct div_arg a2 = { NULL, NULL, NULL, n, bad_f[t] };
			struct sim_result res;
			int rc = run_raw(&a0, &a1, &a2, &res);
			cr_assert_eq(rc, ERROR_INVAL, "f %u n %zu: rc %d %s", bad_f[t], n, rc, res.message);
			cr_assert_neq(strstr(res.message, "fractional bits"), NULL, "%s", res.message);
			sim_result_finish(&res);
		}
	}
	/* n = 0: nothing happens, nothing is sent. */
	struct div_arg z0 = { q0, x, y, 0, F }, z1 = { q1, x, y, 0, F }, z2 = { NULL, NULL, NULL, 0, F };
	struct sim_result res;
	int rc = run_raw(&z0, &z1, &z2, &res);
	cr_assert_eq(rc, 0, "%s", res.message);
	cr_assert_eq(sim_result_bytes(&res), 0);
	sim_result_finish(&res);
	/* Too large: refused before any memory is touched. */
	size_t huge = SIZE_MAX / 8;
	struct div_arg h0 = { q0, x, y, huge, F }, h1 = { q1, x, y, huge, F };
	struct div_arg h2 = { NULL, NULL, NULL, huge, F };
	rc = run_raw(&h0, &h1, &h2, &res);
	cr_assert_eq(rc, ERROR_RANGE, "rc %d %s", rc, res.message);
	sim_result_finish(&res);
	/* Missing operand at P1. */
	struct div_arg m0 = { q0, x, y, 1, F }, m1 = { q1, NULL, y, 1, F };
	struct div_arg m2 = { NULL, NULL, NULL, 1, F };
	rc = run_raw(&m0, &m1, &m2, &res);
	cr_assert_neq(rc, 0);
	cr_assert_eq(res.party[1].err, ERROR_INVAL, "P1: %s", res.party[1].errmsg);
	sim_result_finish(&res);
}

Test(division, a_fault_at_first_middle_last_message_fails_cleanly, .timeout = 120)
{
	enum { N = 3 };
	ring_t X[N] = { 1, ONE, 5 * ONE }, Y[N] = { 3, 2 * ONE, 7 * ONE };
	ring_t x0[N], x1[N], y0[N], y1[N], q0[N], q1[N];
	support_share(1, x0, x1, X, N);
	support_share(2, y0, y1, Y, N);
	struct div_arg a0 = { q0, x0, y0, N, F }, a1 = { q1, x1, y1, N, F };
	struct div_arg a2 = { NULL, NULL, NULL, N, F };
	void *args[3] = { &a0, &a1, &a2 };

	/* Count each party's send/recv calls (the fault index) on a clean run. */
	uint64_t ops[PARTY_COUNT];
	struct sim_config cfg;
	support_config(&cfg, 1);
	struct sim_result res;
	support_run_ok(&cfg, div_fn, args, &res);
	for (int j = 0; j < PARTY_COUNT; j++) {
		const struct stats_counters *c = &res.party[j].stats.nodes[0].c;
		ops[j] = 0;
		for (int k = 0; k < PARTY_COUNT; k++)
			ops[j] += c->msgs_sent[k] + c->msgs_recv[k];
		cr_assert_gt(ops[j], 2, "P%d: %llu ops", j, (unsigned long long)ops[j]);
	}
	sim_result_finish(&res);

	for (int f = 0; f < PARTY_COUNT; f++) {
		const uint64_t at[] = { 0, 1, ops[f] / 2, ops[f] - 1, ops[f] };
		for (size_t t = 0; t < sizeof(at) / sizeof(at[0]); t++) {
			support_config(&cfg, 1);
			cfg.fault_party = f;
			cfg.fault_at = at[t];
			int rc = sim_run(&cfg, div_fn, args, &res);
			if (at[t] == ops[f]) {
				cr_assert_eq(rc, 0, "P%d fault after its last op: %s", f, res.message);
			} else {
				cr_assert_eq(rc, ERROR_FAULT, "P%d op %llu of %llu: rc %d %s", f,
					     (unsigned long long)at[t], (unsigned long long)ops[f], rc,
					     res.message);
				cr_assert_eq(res.failed_party, f, "op %llu: %s", (unsigned long long)at[t],
					     res.message);
			}
			sim_result_finish(&res);
		}
	}
}
