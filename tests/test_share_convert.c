#include <criterion/criterion.h>
#include <stdlib.h>

#include "compute_msb.h"
#include "share_convert.h"
#include "support.h"

struct un_arg {
	const ring_t *in; /* input share (NULL at P2) */
	ring_t *out;      /* output share */
	size_t n;
	int msb;          /* 0: share_convert, 1: compute_msb */
};

static int un_fn(struct party *p, void *v)
{
	struct un_arg *a = v;
	if (a->msb)
		return compute_msb(p, a->out, a->in, a->n);
	return share_convert(p, a->out, a->in, a->n);
}

static void run(uint64_t seed, const ring_t *s0, const ring_t *s1, ring_t *o0, ring_t *o1, size_t n,
		int msb, struct sim_result *res)
{
	struct un_arg a0 = { s0, o0, n, msb }, a1 = { s1, o1, n, msb }, a2 = { NULL, NULL, n, msb };
	void *args[3] = { &a0, &a1, &a2 };
	struct sim_config cfg;
	support_config(&cfg, seed);
	support_run_ok(&cfg, un_fn, args, res);
}

static ring_t odd_add(ring_t a, ring_t b)
{
	return ring_odd_add(a, b);
}

/* ShareConvert of a with the given Z_L shares; check Z_{L-1} reconstruction. */
static void check_sc(uint64_t seed, const ring_t *a, const ring_t *s0, const ring_t *s1, size_t n)
{
	ring_t *o0 = support_alloc(n), *o1 = support_alloc(n);
	struct sim_result res;
	run(seed, s0, s1, o0, o1, n, 0, &res);
	for (size_t i = 0; i < n; i++) {
		cr_assert_lt(o0[i], UINT64_MAX, "share not in Z_{L-1}, index %zu", i);
		cr_assert_lt(o1[i], UINT64_MAX, "share not in Z_{L-1}, index %zu", i);
		cr_assert_eq(odd_add(o0[i], o1[i]), a[i], "seed %llu index %zu: a=%llu shares %llu,%llu",
			     (unsigned long long)seed, i, (unsigned long long)a[i],
			     (unsigned long long)s0[i], (unsigned long long)s1[i]);
	}
	cr_assert_eq(sim_result_bytes(&res), 304 * n, "Table 1: 4 l log p + 6 l bits");
	cr_assert_leq(res.rounds, 4);
	sim_result_finish(&res);
	free(o0);
	free(o1);
}

Test(share_convert, worked_example, .timeout = 20)
{
	/* a = 10 with shares that wrap (2^64 - 5, 15) and that do not (3, 7). */
	ring_t a[2] = { 10, 10 }, s0[2] = { (ring_t)0 - 5, 3 }, s1[2] = { 15, 7 };
	check_sc(1, a, s0, s1, 2);
}

Test(share_convert, matches_plaintext_on_random_inputs, .timeout = 60)
{
	enum { N = 100000 };
	ring_t *a = support_alloc(N), *s0 = support_alloc(N), *s1 = support_alloc(N);
	uint64_t st = 77;
	for (size_t i = 0; i < N; i++) {
		a[i] = support_rand(&st);
		if (a[i] == UINT64_MAX)
			a[i] = 0;
	}
	support_share(78, s0, s1, a, N);
	check_sc(77, a, s0, s1, N);
	free(a);
	free(s0);
	free(s1);
}

Test(share_convert, edges_wrap_and_no_wrap, .timeout = 20)
{
	static const ring_t vals[] = { 0, 1, 2, 0x7FFFFFFFFFFFFFFFull, 0x8000000000000000ull, UINT64_MAX - 1 };
	enum { V = sizeof(vals) / sizeof(vals[0]) };
	ring_t a[V * 4], s0[V * 4], s1[V * 4];
	size_t n = 0;
	for (int i = 0; i < V; i++) {
		/* shares: (0, a), (a, 0), (2^64 - 1, a + 1) (wraps), (a + 1, 2^64 - 1) */
		ring_t v = vals[i];
		a[n] = v, s0[n] = 0, s1[n++] = v;
		a[n] = v, s0[n] = v, s1[n++] = 0;
		a[n] = v, s0[n] = UINT64_MAX, s1[n++] = v + 1;
		a[n] = v, s0[n] = v + 1, s1[n++] = UINT64_MAX;
	}
	check_sc(5, a, s0, s1, n);
}

Test(compute_msb, matches_plaintext_on_random_inputs, .timeout = 60)
{
	enum { N = 100000 };
	ring_t *a = support_alloc(N), *s0 = support_alloc(N), *s1 = support_alloc(N);
	ring_t *o0 = support_alloc(N), *o1 = support_alloc(N);
	uint64_t st = 91;
	for (size_t i = 0; i < N; i++) {
		ring_t v = support_rand(&st);
		a[i] = v == UINT64_MAX ? 0 : v;
		if (i < 8) /* edges of Z_{L-1} */
			a[i] = (ring_t[]){ 0, 1, 2, 0x7FFFFFFFFFFFFFFFull, 0x8000000000000000ull,
					   UINT64_MAX - 1, UINT64_MAX - 2, 0x8000000000000001ull }[i];
		s0[i] = support_rand(&st);
		s0[i] = s0[i] == UINT64_MAX ? 0 : s0[i];
		s1[i] = ring_odd_sub(a[i], s0[i]);
	}
	struct sim_result res;
	run(91, s0, s1, o0, o1, N, 1, &res);
	for (size_t i = 0; i < N; i++)
		cr_assert_eq(o0[i] + o1[i], a[i] >> 63, "index %zu: a=%llu", i, (unsigned long long)a[i]);
	cr_assert_eq(sim_result_bytes(&res), 360 * N, "Table 1: 4 l log p + 13 l bits");
	cr_assert_leq(res.rounds, 5);
	sim_result_finish(&res);
	free(a);
	free(s0);
	free(s1);
	free(o0);
	free(o1);
}
