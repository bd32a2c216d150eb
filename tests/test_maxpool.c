#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "maxpool.h"
#include "support.h"

enum mp_op {
	OP_MAXPOOL = 0,  /* maxpool (argmax if want_argmax) */
	OP_ONEHOT = 1,   /* maxpool_onehot */
	OP_DERIV = 2,    /* maxpool_derivative on index shares */
	OP_COMPOSED = 3, /* maxpool with argmax, then maxpool_derivative on its output */
};

struct mp_arg {
	enum mp_op op;   /* what to run */
	const ring_t *x; /* input share: n x k values (n indices for OP_DERIV); NULL at P2 */
	ring_t *max;     /* max share (n); NULL at P2 */
	ring_t *pos;     /* argmax share (n) or one-hot share (n x k); see run_mp for P2 */
	ring_t *tmp;     /* OP_COMPOSED: argmax share (n); NULL at P2 */
	size_t n, k;     /* windows, window size */
};

/* Never dereferenced: P2's "the index is wanted" flag for maxpool. */
static ring_t p2_wants_argmax;

static int mp_fn(struct party *p, void *v)
{
	struct mp_arg *a = v;
	switch (a->op) {
	case OP_MAXPOOL:
		return maxpool(p, a->max, a->pos, a->x, a->n, a->k);
	case OP_ONEHOT:
		return maxpool_onehot(p, a->max, a->pos, a->x, a->n, a->k);
	case OP_DERIV:
		return maxpool_derivative(p, a->pos, a->x, a->n, a->k);
	case OP_COMPOSED:
		TRY(maxpool(p, a->max, p->id == 2 ? &p2_wants_argmax : a->tmp, a->x, a->n, a->k));
		return maxpool_derivative(p, a->pos, a->tmp, a->n, a->k);
	}
	return ERROR_INVAL;
}

/* Elements of the position output: n (index), n x k (one-hot), 0 (none). */
static size_t pos_len(enum mp_op op, size_t n, size_t k, int want_argmax)
{
	if (op == OP_MAXPOOL)
		return want_argmax ? n : 0;
	return n * k;
}

/* Share the input (n x k values, or n indices for OP_DERIV), run op, and
 * reconstruct max (n, may be NULL) and pos. res is left for the caller. */
static void run_mp(uint64_t seed, enum mp_op op, const ring_t *in, size_t n, size_t k,
		   int want_argmax, ring_t *max, ring_t *pos, struct sim_result *res)
{
	size_t n_in = op == OP_DERIV ? n : n * k, n_pos = pos_len(op, n, k, want_argmax);
	ring_t *x0 = support_alloc(n_in), *x1 = support_alloc(n_in);
	ring_t *m0 = support_alloc(n), *m1 = support_alloc(n);
	ring_t *p0 = support_alloc(n_pos), *p1 = support_alloc(n_pos);
	ring_t *t0 = support_alloc(n), *t1 = support_alloc(n);
	support_share(seed, x0, x1, in, n_in);
	struct mp_arg a0 = { op, x0, m0, n_pos ? p0 : NULL, t0, n, k };
	struct mp_arg a1 = { op, x1, m1, n_pos ? p1 : NULL, t1, n, k };
	struct mp_arg a2 = { op, NULL, NULL, NULL, NULL, n, k };
	if (op == OP_MAXPOOL && want_argmax)
		a2.pos = &p2_wants_argmax;
	void *args[3] = { &a0, &a1, &a2 };
	struct sim_config cfg;
	support_config(&cfg, seed);
	support_run_ok(&cfg, mp_fn, args, res);
	if (max)
		for (size_t i = 0; i < n; i++)
			max[i] = m0[i] + m1[i];
	for (size_t i = 0; i < n_pos; i++)
		pos[i] = p0[i] + p1[i];
	free(x0);
	free(x1);
	free(m0);
	free(m1);
	free(p0);
	free(p1);
	free(t0);
	free(t1);
}

/* Plaintext max and argmax of each window; ties go to the later index. */
static void plain_maxpool(ring_t *max, size_t *ind, const ring_t *x, size_t n, size_t k)
{
	for (size_t v = 0; v < n; v++) {
		max[v] = x[v * k];
		ind[v] = 0;
		for (size_t i = 1; i < k; i++) {
			if (ring_signed(x[v * k + i]) >= ring_signed(max[v])) {
				max[v] = x[v * k + i];
				ind[v] = i;
			}
		}
	}
}

/* Check max, the index or the one-hot vector of every window against plaintext. */
static void check_windows(const char *what, uint64_t seed, enum mp_op op, const ring_t *x,
			  size_t n, size_t k, const ring_t *max, const ring_t *pos)
{
	ring_t *want = support_alloc(n);
	size_t *ind = calloc(n, sizeof(size_t));
	cr_assert_not_null(ind);
	plain_maxpool(want, ind, x, n, k);
	for (size_t v = 0; v < n; v++) {
		if (max)
			cr_assert_eq(max[v], want[v], "%s seed %llu k %zu n %zu window %zu: max %lld, want %lld",
				     what, (unsigned long long)seed, k, n, v, (long long)ring_signed(max[v]),
				     (long long)ring_signed(want[v]));
		if (!pos)
			continue;
		if (op == OP_MAXPOOL) {
			cr_assert_eq(pos[v], ind[v], "%s seed %llu k %zu n %zu window %zu: argmax %llu, want %zu",
				     what, (unsigned long long)seed, k, n, v, (unsigned long long)pos[v], ind[v]);
		} else {
			for (size_t e = 0; e < k; e++)
				cr_assert_eq(pos[v * k + e], (ring_t)(e == ind[v]),
					     "%s seed %llu k %zu n %zu window %zu entry %zu: %llu (argmax %zu)",
					     what, (unsigned long long)seed, k, n, v, e,
					     (unsigned long long)pos[v * k + e], ind[v]);
		}
	}
	free(want);
	free(ind);
}

Test(maxpool, worked_example_two_windows_of_four, .timeout = 20)
{
	/* Window 0: 3, -1, 7, 2  -> max 7 at 2.
	 * Window 1: 5, 5, -2, 5  -> max 5 at 3 (ties go to the later index). */
	ring_t x[8] = { 3, (ring_t)-1, 7, 2, 5, 5, (ring_t)-2, 5 };
	ring_t max[2], ind[2], onehot[8];
	struct sim_result res;
	run_mp(1, OP_MAXPOOL, x, 2, 4, 1, max, ind, &res);
	cr_assert_eq(max[0], 7);
	cr_assert_eq(ind[0], 2);
	cr_assert_eq(max[1], 5);
	cr_assert_eq(ind[1], 3);
	cr_assert_eq(sim_result_bytes(&res), 744 * 3 * 2, "%llu bytes",
		     (unsigned long long)sim_result_bytes(&res));
	sim_result_finish(&res);

	run_mp(2, OP_ONEHOT, x, 2, 4, 0, max, onehot, &res);
	static const ring_t want[8] = { 0, 0, 1, 0, 0, 0, 0, 1 };
	for (int i = 0; i < 8; i++)
		cr_assert_eq(onehot[i], want[i], "one-hot entry %d", i);
	sim_result_finish(&res);

	ring_t idx[2] = { 2, 3 };
	run_mp(3, OP_DERIV, idx, 2, 4, 0, NULL, onehot, &res);
	for (int i = 0; i < 8; i++)
		cr_assert_eq(onehot[i], want[i], "derivative entry %d", i);
	cr_assert_eq(sim_result_bytes(&res), (2 + 16 * 4) * 2);
	sim_result_finish(&res);
}

Test(maxpool, matches_plaintext_on_random_windows, .timeout = 60)
{
	static const size_t ks[] = { 1, 2, 3, 4, 5, 9, 16 };
	static const size_t ns[] = { 1, 7, 100, 1000 };
	uint64_t st = 17;
	for (size_t a = 0; a < sizeof(ks) / sizeof(ks[0]); a++) {
		for (size_t b = 0; b < sizeof(ns) / sizeof(ns[0]); b++) {
			size_t k = ks[a], n = ns[b];
			uint64_t seed = 1000 + 10 * a + b;
			ring_t *x = support_alloc(n * k), *max = support_alloc(n), *ind = support_alloc(n);
			support_fill_signed(&st, x, n * k, 40);
			struct sim_result res;
			run_mp(seed, OP_MAXPOOL, x, n, k, 1, max, ind, &res);
			check_windows("maxpool", seed, OP_MAXPOOL, x, n, k, max, ind);
			/* Communication oracle: Table 2 / section 9, 744 bytes per window and step. */
			cr_assert_eq(sim_result_bytes(&res), (uint64_t)744 * (k - 1) * n,
				     "seed %llu k %zu n %zu: %llu bytes", (unsigned long long)seed, k, n,
				     (unsigned long long)sim_result_bytes(&res));
			cr_assert_leq(res.rounds, 9 * (k - 1), "seed %llu k %zu: %u rounds",
				      (unsigned long long)seed, k, res.rounds);
			sim_result_finish(&res);
			free(x);
			free(max);
			free(ind);
		}
	}
}

Test(maxpool, matches_plaintext_on_100000_elements, .timeout = 60)
{
	/* 25000 windows of 4 (10^5 elements), values down to tiny differences. */
	size_t k = 4, n = 25000;
	uint64_t st = 4242, seed = 4242;
	ring_t *x = support_alloc(n * k), *max = support_alloc(n), *ind = support_alloc(n);
	support_fill_signed(&st, x, n * k, 40);
	for (size_t i = 0; i < n * k; i += 7)
		x[i] = x[i + 1 < n * k ? i + 1 : i] + (support_rand(&st) & 1); /* near-ties */
	struct sim_result res;
	run_mp(seed, OP_MAXPOOL, x, n, k, 1, max, ind, &res);
	check_windows("maxpool", seed, OP_MAXPOOL, x, n, k, max, ind);
	cr_assert_eq(sim_result_bytes(&res), (uint64_t)744 * (k - 1) * n);
	sim_result_finish(&res);
	free(x);
	free(max);
	free(ind);
}

Test(maxpool, ties_and_all_equal_windows_go_to_the_later_index, .timeout = 30)
{
	static const size_t ks[] = { 2, 3, 5, 8 };
	enum { N = 200 };
	uint64_t st = 23;
	for (size_t a = 0; a < sizeof(ks) / sizeof(ks[0]); a++) {
		size_t k = ks[a];
		ring_t *x = support_alloc(N * k), *max = support_alloc(N), *ind = support_alloc(N);
		/* Values in -2..2: most windows have ties; the first 20 are all equal. */
		for (size_t i = 0; i < N * k; i++)
			x[i] = (ring_t)(support_rand(&st) % 5) - 2;
		for (size_t v = 0; v < 20; v++)
			for (size_t i = 0; i < k; i++)
				x[v * k + i] = (ring_t)v - 10;
		uint64_t seed = 2000 + a;
		struct sim_result res;
		run_mp(seed, OP_MAXPOOL, x, N, k, 1, max, ind, &res);
		check_windows("ties", seed, OP_MAXPOOL, x, N, k, max, ind);
		for (size_t v = 0; v < 20; v++)
			cr_assert_eq(ind[v], k - 1, "seed %llu k %zu all-equal window %zu: argmax %llu",
				     (unsigned long long)seed, k, v, (unsigned long long)ind[v]);
		sim_result_finish(&res);
		free(x);
		free(max);
		free(ind);
	}
}

Test(maxpool, boundary_values, .timeout = 20)
{
	/* 0, 1, -1 and the largest magnitudes DReLU's precondition allows for
	 * differences (|x| < 2^60, so |x_i - max| < 2^61 < 2^62). */
	const ring_t big = ((ring_t)1 << 60) - 1;
	ring_t x[] = {
		0, 1, (ring_t)-1, 0,      /* max 1 at 1 */
		(ring_t)-1, (ring_t)-1, (ring_t)-2, (ring_t)-1, /* max -1 at 3 */
		(ring_t)0 - big, big, 0, big - 1, /* max big at 1 */
		(ring_t)0 - big, (ring_t)0 - big, (ring_t)0 - big, (ring_t)0 - big, /* -big at 3 */
		big, (ring_t)0 - big, 1, (ring_t)-1, /* max big at 0 */
	};
	enum { N = 5, K = 4 };
	ring_t max[N], ind[N], onehot[N * K];
	struct sim_result res;
	run_mp(7, OP_MAXPOOL, x, N, K, 1, max, ind, &res);
	check_windows("boundary", 7, OP_MAXPOOL, x, N, K, max, ind);
	sim_result_finish(&res);
	run_mp(8, OP_ONEHOT, x, N, K, 0, max, onehot, &res);
	check_windows("boundary one-hot", 8, OP_ONEHOT, x, N, K, max, onehot);
	sim_result_finish(&res);
}

Test(maxpool, max_only_costs_704_bytes_per_step, .timeout = 20)
{
	static const size_t ks[] = { 2, 4, 9 };
	enum { N = 50 };
	uint64_t st = 31;
	for (size_t a = 0; a < sizeof(ks) / sizeof(ks[0]); a++) {
		size_t k = ks[a];
		ring_t *x = support_alloc(N * k), *max = support_alloc(N);
		support_fill_signed(&st, x, N * k, 40);
		uint64_t seed = 3000 + a;
		struct sim_result res;
		run_mp(seed, OP_MAXPOOL, x, N, k, 0, max, NULL, &res);
		check_windows("max only", seed, OP_MAXPOOL, x, N, k, max, NULL);
		cr_assert_eq(sim_result_bytes(&res), (uint64_t)704 * (k - 1) * N,
			     "k %zu: %llu bytes", k, (unsigned long long)sim_result_bytes(&res));
		sim_result_finish(&res);
		free(x);
		free(max);
	}
}

Test(maxpool, onehot_matches_plaintext_for_any_k, .timeout = 30)
{
	static const size_t ks[] = { 1, 2, 3, 5, 6, 7, 9 };
	static const size_t ns[] = { 1, 60 };
	uint64_t st = 41;
	for (size_t a = 0; a < sizeof(ks) / sizeof(ks[0]); a++) {
		for (size_t b = 0; b < sizeof(ns) / sizeof(ns[0]); b++) {
			size_t k = ks[a], n = ns[b];
			ring_t *x = support_alloc(n * k), *max = support_alloc(n);
			ring_t *onehot = support_alloc(n * k);
			support_fill_signed(&st, x, n * k, 40);
			/* A few ties too. */
			if (k > 1 && n > 1)
				x[k + 1] = x[k];
			uint64_t seed = 4000 + 10 * a + b;
			struct sim_result res;
			run_mp(seed, OP_ONEHOT, x, n, k, 0, max, onehot, &res);
			check_windows("one-hot", seed, OP_ONEHOT, x, n, k, max, onehot);
			cr_assert_eq(sim_result_bytes(&res), (uint64_t)(664 + 40 * (k + 1)) * (k - 1) * n,
				     "seed %llu k %zu n %zu: %llu bytes", (unsigned long long)seed, k, n,
				     (unsigned long long)sim_result_bytes(&res));
			cr_assert_leq(res.rounds, 9 * (k - 1));
			sim_result_finish(&res);
			free(x);
			free(max);
			free(onehot);
		}
	}
}

Test(maxpool, derivative_matches_plaintext_and_costs_2_plus_16k_bytes, .timeout = 30)
{
	static const size_t ks[] = { 1, 2, 4, 16, 256, 512 };
	static const size_t ns[] = { 1, 100 };
	uint64_t st = 53;
	for (size_t a = 0; a < sizeof(ks) / sizeof(ks[0]); a++) {
		for (size_t b = 0; b < sizeof(ns) / sizeof(ns[0]); b++) {
			size_t k = ks[a], n = ns[b];
			ring_t *idx = support_alloc(n), *onehot = support_alloc(n * k);
			for (size_t v = 0; v < n; v++)
				idx[v] = support_rand(&st) % k;
			idx[0] = k - 1;
			uint64_t seed = 5000 + 10 * a + b;
			struct sim_result res;
			run_mp(seed, OP_DERIV, idx, n, k, 0, NULL, onehot, &res);
			for (size_t v = 0; v < n; v++)
				for (size_t e = 0; e < k; e++)
					cr_assert_eq(onehot[v * k + e], (ring_t)(e == idx[v]),
						     "seed %llu k %zu window %zu entry %zu: %llu (index %llu)",
						     (unsigned long long)seed, k, v, e,
						     (unsigned long long)onehot[v * k + e],
						     (unsigned long long)idx[v]);
			/* One byte per index share up to k = 256, a ring element above;
			 * k = 1 needs no message. */
			uint64_t per = k == 1 ? 0 : k <= 256 ? 2 + 16 * k : 16 + 16 * k;
			cr_assert_eq(sim_result_bytes(&res), per * n, "seed %llu k %zu n %zu: %llu bytes",
				     (unsigned long long)seed, k, n,
				     (unsigned long long)sim_result_bytes(&res));
			cr_assert_leq(res.rounds, 2, "k %zu: %u rounds", k, res.rounds);
			sim_result_finish(&res);
			free(idx);
			free(onehot);
		}
	}
}

Test(maxpool, derivative_of_maxpool_output_is_the_onehot_argmax, .timeout = 30)
{
	static const size_t ks[] = { 2, 4, 8 };
	enum { N = 64 };
	uint64_t st = 61;
	for (size_t a = 0; a < sizeof(ks) / sizeof(ks[0]); a++) {
		size_t k = ks[a];
		ring_t *x = support_alloc(N * k), *max = support_alloc(N);
		ring_t *onehot = support_alloc(N * k);
		support_fill_signed(&st, x, N * k, 40);
		uint64_t seed = 6000 + a;
		struct sim_result res;
		run_mp(seed, OP_COMPOSED, x, N, k, 1, max, onehot, &res);
		check_windows("maxpool + derivative", seed, OP_ONEHOT, x, N, k, max, onehot);
		cr_assert_eq(sim_result_bytes(&res), (uint64_t)(744 * (k - 1) + 2 + 16 * k) * N);
		sim_result_finish(&res);
		free(x);
		free(max);
		free(onehot);
	}
}

Test(maxpool, outputs_are_fresh_shares, .timeout = 20)
{
	/* Same input shares, another seed: P0's shares change, the values do
	 * not; k = 1 included, where the output is the input re-randomised. */
	enum { N = 4, KMAX = 3 };
	static const size_t ks[] = { 1, KMAX };
	for (size_t a = 0; a < 2; a++) {
		size_t k = ks[a];
		ring_t x[N * KMAX], x0[N * KMAX], x1[N * KMAX];
		uint64_t st = 71;
		support_fill_signed(&st, x, N * k, 40);
		support_share(9, x0, x1, x, N * k);
		ring_t m0[2][N], m1[2][N], i0[2][N], i1[2][N];
		for (int run = 0; run < 2; run++) {
			struct mp_arg a0 = { OP_MAXPOOL, x0, m0[run], i0[run], NULL, N, k };
			struct mp_arg a1 = { OP_MAXPOOL, x1, m1[run], i1[run], NULL, N, k };
			struct mp_arg a2 = { OP_MAXPOOL, NULL, NULL, &p2_wants_argmax, NULL, N, k };
			void *args[3] = { &a0, &a1, &a2 };
			struct sim_config cfg;
			support_config(&cfg, 80 + (uint64_t)run);
			struct sim_result res;
			support_run_ok(&cfg, mp_fn, args, &res);
			sim_result_finish(&res);
		}
		for (int v = 0; v < N; v++) {
			cr_assert_eq(m0[0][v] + m1[0][v], m0[1][v] + m1[1][v], "k %zu window %d", k, v);
			cr_assert_eq(i0[0][v] + i1[0][v], i0[1][v] + i1[1][v], "k %zu window %d", k, v);
			cr_assert_neq(m0[0][v], m0[1][v], "k %zu window %d: P0's max share did not change",
				      k, v);
			cr_assert_neq(m0[0][v], x0[v * k], "k %zu window %d: P0's max share is its input",
				      k, v);
			cr_assert_neq(i0[0][v], i0[1][v], "k %zu window %d: P0's index share did not change",
				      k, v);
		}
	}
}

/* Run one party function expecting it to fail with code; the message must contain needle. */
static void expect_error(struct mp_arg *a0, struct mp_arg *a1, struct mp_arg *a2, int code,
			 const char *needle)
{
	void *args[3] = { a0, a1, a2 };
	struct sim_config cfg;
	support_config(&cfg, 1);
	struct sim_result res;
	int rc = sim_run(&cfg, mp_fn, args, &res);
	cr_assert_eq(rc, code, "op %d n %zu k %zu: got %d: %s", a0->op, a0->n, a0->k, rc, res.message);
	cr_assert_neq(strstr(res.message, needle), NULL, "%s", res.message);
	sim_result_finish(&res);
}

Test(maxpool, derivative_of_a_non_power_of_two_window_is_unsupported, .timeout = 20)
{
	ring_t idx[2] = { 0, 0 }, out[12];
	struct mp_arg a0 = { OP_DERIV, idx, NULL, out, NULL, 2, 6 }, a1 = a0;
	struct mp_arg a2 = { OP_DERIV, NULL, NULL, NULL, NULL, 2, 6 };
	expect_error(&a0, &a1, &a2, ERROR_UNSUPPORTED, "maxpool_onehot");
}

Test(maxpool, empty_shapes_are_shape_errors, .timeout = 20)
{
	ring_t in[4] = { 0 }, m[4], pos[4];
	static const size_t shapes[][2] = { { 0, 2 }, { 2, 0 }, { 0, 0 } };
	for (int op = OP_MAXPOOL; op <= OP_DERIV; op++) {
		for (size_t s = 0; s < 3; s++) {
			size_t n = shapes[s][0], k = shapes[s][1];
			struct mp_arg a0 = { (enum mp_op)op, in, m, pos, NULL, n, k }, a1 = a0;
			struct mp_arg a2 = { (enum mp_op)op, NULL, NULL, NULL, NULL, n, k };
			expect_error(&a0, &a1, &a2, ERROR_SHAPE, "window");
		}
	}
}

Test(maxpool, oversized_shapes_are_range_errors, .timeout = 20)
{
	ring_t in[1] = { 0 }, m[1], pos[1];
	size_t n = SIZE_MAX / 4, k = 4;
	for (int op = OP_MAXPOOL; op <= OP_DERIV; op++) {
		struct mp_arg a0 = { (enum mp_op)op, in, m, pos, NULL, n, k }, a1 = a0;
		struct mp_arg a2 = { (enum mp_op)op, NULL, NULL, NULL, NULL, n, k };
		expect_error(&a0, &a1, &a2, ERROR_RANGE, "too large");
	}
}

/* ---- What P2 sees in the derivative ---- */

/* P2's view: the payloads it receives from P0 and P1, recorded by the
 * runner's on_recv hook on P2's thread (nothing else writes here). */
struct p2_view {
	uint8_t *seen[2]; /* [j]: the bytes from Pj, n each */
	size_t n;         /* capacity of seen[j] */
	size_t got[2];    /* bytes received from Pj */
	int n_msgs[2];    /* messages received from Pj */
};

static void record_p2_view(void *ctx, const struct party *p, int from, const void *data,
			   const struct channel_header *hdr)
{
	struct p2_view *v = ctx;
	if (p->id != 2 || from > 1)
		return;
	v->n_msgs[from]++;
	size_t room = v->n - v->got[from];
	size_t take = hdr->n_bytes < room ? (size_t)hdr->n_bytes : room;
	memcpy(v->seen[from] + v->got[from], data, take);
	v->got[from] += (size_t)hdr->n_bytes;
}

/* Pearson's chi-square statistic of n values in [0, k) against uniform. */
static double chi_square(const size_t *vals, size_t n, size_t k)
{
	size_t count[16] = { 0 };
	for (size_t i = 0; i < n; i++)
		count[vals[i]]++;
	double expect = (double)n / (double)k, chi = 0;
	for (size_t c = 0; c < k; c++)
		chi += ((double)count[c] - expect) * ((double)count[c] - expect) / expect;
	return chi;
}

Test(maxpool, p2_sees_uniform_masked_indices_in_the_derivative, .timeout = 20)
{
	/* Every argmax is 0, so whatever P2 can tell apart comes from the mask. */
	enum { N = 4096, K = 16 };
	/* chi-square, 15 degrees of freedom: P(X > 37.70) = 0.001. */
	const double threshold = 37.70;
	ring_t *ind = support_alloc(N), *s0 = support_alloc(N), *s1 = support_alloc(N);
	ring_t *o0 = support_alloc(N * K), *o1 = support_alloc(N * K);
	struct p2_view view = { { calloc(N, 1), calloc(N, 1) }, N, { 0, 0 }, { 0, 0 } };
	size_t *t = calloc(N, sizeof(size_t));
	cr_assert_not_null(view.seen[0]);
	cr_assert_not_null(view.seen[1]);
	cr_assert_not_null(t);
	support_share(11, s0, s1, ind, N);
	struct mp_arg a0 = { OP_DERIV, s0, NULL, o0, NULL, N, K };
	struct mp_arg a1 = { OP_DERIV, s1, NULL, o1, NULL, N, K };
	struct mp_arg a2 = { OP_DERIV, NULL, NULL, NULL, NULL, N, K };
	void *args[3] = { &a0, &a1, &a2 };
	struct sim_config cfg;
	support_config(&cfg, 12);
	cfg.on_recv = record_p2_view;
	cfg.on_recv_ctx = &view;
	struct sim_result res;
	support_run_ok(&cfg, mp_fn, args, &res);
	sim_result_finish(&res);
	for (size_t i = 0; i < (size_t)N * K; i++)
		cr_assert_eq(o0[i] + o1[i], (ring_t)(i % K == 0), "entry %zu", i);
	/* P2's whole view: one message of one byte per window from each of P0, P1. */
	for (int j = 0; j < 2; j++) {
		cr_assert_eq(view.n_msgs[j], 1, "messages from P%d", j);
		cr_assert_eq(view.got[j], (size_t)N, "bytes from P%d", j);
	}

	/* What P2 reconstructs, t = (ind + r) mod k, is uniform. */
	for (size_t w = 0; w < N; w++)
		t[w] = (view.seen[0][w] + view.seen[1][w]) % K;
	double chi = chi_square(t, N, K);
	cr_assert_lt(chi, threshold, "P2's t: chi-square %.2f", chi);
	/* So is each byte alone. */
	for (int j = 0; j < 2; j++) {
		for (size_t w = 0; w < N; w++) {
			cr_assert_lt(view.seen[j][w], K, "P%d's byte %zu", j, w);
			t[w] = view.seen[j][w];
		}
		chi = chi_square(t, N, K);
		cr_assert_lt(chi, threshold, "P%d's byte: chi-square %.2f", j, chi);
	}

	/* The same statistic catches a broken mask: with r = 0, P2 would see
	 * (ind_0 + ind_1) mod k = ind mod k, always 0 here... */
	for (size_t w = 0; w < N; w++)
		t[w] = (size_t)((s0[w] + s1[w]) % K);
	chi = chi_square(t, N, K);
	cr_assert_gt(chi, threshold, "unmasked indices: chi-square %.2f", chi);
	/* ...and with one r for all windows, a constant too. */
	for (size_t w = 0; w < N; w++)
		t[w] = (size_t)((s0[w] + 5 + s1[w]) % K);
	chi = chi_square(t, N, K);
	cr_assert_gt(chi, threshold, "one mask for all windows: chi-square %.2f", chi);

	free(ind);
	free(s0);
	free(s1);
	free(o0);
	free(o1);
	free(view.seen[0]);
	free(view.seen[1]);
	free(t);
}

/* ---- Faults ---- */

Test(maxpool, a_fault_at_every_message_fails_cleanly, .timeout = 120)
{
	enum { N = 3, K = 3 };
	ring_t x[N * K], x0[N * K], x1[N * K], m0[N], m1[N], i0[N], i1[N];
	uint64_t st = 91;
	support_fill_signed(&st, x, N * K, 40);
	support_share(5, x0, x1, x, N * K);
	struct mp_arg a0 = { OP_MAXPOOL, x0, m0, i0, NULL, N, K };
	struct mp_arg a1 = { OP_MAXPOOL, x1, m1, i1, NULL, N, K };
	struct mp_arg a2 = { OP_MAXPOOL, NULL, NULL, &p2_wants_argmax, NULL, N, K };
	void *args[3] = { &a0, &a1, &a2 };

	/* Every send and receive is one operation: count them in a clean run. */
	uint64_t ops[3];
	struct sim_config cfg;
	support_config(&cfg, 1);
	struct sim_result res;
	support_run_ok(&cfg, mp_fn, args, &res);
	for (int f = 0; f < 3; f++) {
		const struct stats_counters *c = &res.party[f].stats.nodes[0].c;
		ops[f] = stats_msgs_sent(c);
		for (int k = 0; k < 3; k++)
			ops[f] += c->msgs_recv[k];
		cr_assert_gt(ops[f], 0, "P%d took part", f);
	}
	sim_result_finish(&res);

	for (int f = 0; f < 3; f++) {
		for (uint64_t k = 0; k <= ops[f]; k++) {
			support_config(&cfg, 1);
			cfg.fault_party = f;
			cfg.fault_at = k;
			int rc = sim_run(&cfg, mp_fn, args, &res);
			if (k == ops[f]) {
				cr_assert_eq(rc, 0, "P%d fault after its last op: %s", f, res.message);
			} else {
				cr_assert_eq(rc, ERROR_FAULT, "P%d op %llu: rc %d %s", f,
					     (unsigned long long)k, rc, res.message);
				cr_assert_eq(res.failed_party, f, "P%d op %llu: %s", f,
					     (unsigned long long)k, res.message);
			}
			sim_result_finish(&res);
		}
	}
}
