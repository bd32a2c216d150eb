#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "private_compare.h"
#include "support.h"
#include "zp.h"

/* The data owner's Z_67 shares of the bits of x. */
static void share_bits(uint64_t *st, zp_t *b0, zp_t *b1, const ring_t *x, size_t n)
{
	for (size_t i = 0; i < n * 64; i++)
		b0[i] = (zp_t)(support_rand(st) % 67);
	zp_share_bits(b1, b0, x, n);
}

struct pc_arg {
	const zp_t *bits;    /* P0/P1 */
	const ring_t *r;     /* public */
	const uint8_t *beta; /* common */
	const uint8_t *mode; /* NULL or per element */
	uint8_t *out;        /* P2: beta' */
	size_t n;
};

static int pc_fn(struct party *p, void *v)
{
	struct pc_arg *a = v;
	if (p->id == 2)
		return private_compare(p, a->out, NULL, NULL, NULL, NULL, a->n);
	return private_compare(p, NULL, a->bits, a->r, a->beta, a->mode, a->n);
}

/* Run PC on x vs r with beta; check P2's output is beta XOR (x > r). */
static void check_pc(uint64_t seed, const ring_t *x, const ring_t *r, const uint8_t *beta,
		     size_t n, struct sim_result *res_out)
{
	uint64_t st = seed;
	zp_t *b0 = malloc(n * 64), *b1 = malloc(n * 64);
	uint8_t *out = calloc(n, 1);
	cr_assert(b0 && b1 && out);
	share_bits(&st, b0, b1, x, n);
	struct pc_arg a0 = { b0, r, beta, NULL, NULL, n }, a1 = { b1, r, beta, NULL, NULL, n };
	struct pc_arg a2 = { NULL, NULL, NULL, NULL, out, n };
	void *args[3] = { &a0, &a1, &a2 };
	struct sim_config cfg;
	support_config(&cfg, seed);
	struct sim_result res;
	support_run_ok(&cfg, pc_fn, args, &res);
	for (size_t i = 0; i < n; i++)
		cr_assert_eq(out[i], beta[i] ^ (x[i] > r[i]),
			     "seed %llu index %zu: x=%llu r=%llu beta=%u gave %u",
			     (unsigned long long)seed, i, (unsigned long long)x[i],
			     (unsigned long long)r[i], beta[i], out[i]);
	cr_assert_eq(sim_result_bytes(&res), 128 * n, "2 x 64 bytes per comparison");
	cr_assert_eq(res.rounds, 1);
	if (res_out)
		*res_out = res;
	else
		sim_result_finish(&res);
	free(b0);
	free(b1);
	free(out);
}

Test(private_compare, worked_example, .timeout = 20)
{
	ring_t x[4] = { 5, 5, 5, 5 }, r[4] = { 4, 5, 4, 5 };
	uint8_t beta[4] = { 0, 0, 1, 1 };
	check_pc(1, x, r, beta, 4, NULL);
}

Test(private_compare, matches_plaintext_on_random_inputs, .timeout = 60)
{
	enum { N = 100000 };
	ring_t *x = support_alloc(N), *r = support_alloc(N);
	uint8_t *beta = malloc(N);
	uint64_t st = 42;
	for (size_t i = 0; i < N; i++) {
		x[i] = support_rand(&st);
		/* A quarter of the r share a long prefix with x, to reach low bits. */
		r[i] = (i % 4 == 0) ? x[i] ^ (support_rand(&st) & 0xFF) : support_rand(&st);
		beta[i] = support_rand(&st) & 1;
	}
	check_pc(42, x, r, beta, N, NULL);
	free(x);
	free(r);
	free(beta);
}

Test(private_compare, edge_values_of_r_and_x, .timeout = 30)
{
	static const ring_t vals[] = { 0, 1, 2, 0x7FFFFFFFFFFFFFFFull, 0x8000000000000000ull,
				       UINT64_MAX - 1, UINT64_MAX, 12345 };
	enum { V = sizeof(vals) / sizeof(vals[0]) };
	/* Every pair (x, r) from vals, x = r, x = r ± 1, both betas. */
	ring_t x[V * V * 2 + V * 6], r[V * V * 2 + V * 6];
	uint8_t beta[V * V * 2 + V * 6];
	size_t n = 0;
	for (int a = 0; a < V; a++) {
		for (int b = 0; b < V; b++)
			for (int bt = 0; bt < 2; bt++) {
				x[n] = vals[a];
				r[n] = vals[b];
				beta[n++] = (uint8_t)bt;
			}
		for (int bt = 0; bt < 2; bt++) {
			x[n] = vals[a] + 1;
			r[n] = vals[a];
			beta[n++] = (uint8_t)bt;
			x[n] = vals[a] - 1;
			r[n] = vals[a];
			beta[n++] = (uint8_t)bt;
			x[n] = vals[a];
			r[n] = vals[a];
			beta[n++] = (uint8_t)bt;
		}
	}
	check_pc(7, x, r, beta, n, NULL);
}

Test(private_compare, exhaustive_small_widths, .timeout = 60)
{
	/* All x, r < 2^6 (and the same in the top bits), both betas. */
	enum { W = 64, N = W * W * 2 * 2 };
	ring_t *x = support_alloc(N), *r = support_alloc(N);
	uint8_t *beta = malloc(N);
	size_t n = 0;
	for (int top = 0; top < 2; top++)
		for (ring_t a = 0; a < W; a++)
			for (ring_t b = 0; b < W; b++)
				for (int bt = 0; bt < 2; bt++) {
					x[n] = top ? a << 58 : a;
					r[n] = top ? b << 58 : b;
					beta[n++] = (uint8_t)bt;
				}
	check_pc(9, x, r, beta, n, NULL);
	free(x);
	free(r);
	free(beta);
}

Test(private_compare, forced_comparisons_say_true, .timeout = 20)
{
	enum { N = 64 };
	ring_t x[N], r[N];
	uint8_t beta[N], mode[N], out[N];
	zp_t b0[N * 64], b1[N * 64];
	uint64_t st = 3;
	for (int i = 0; i < N; i++) {
		x[i] = support_rand(&st);
		r[i] = UINT64_MAX; /* x > r is false, but the caller knows better */
		beta[i] = (uint8_t)(i & 1);
		mode[i] = PC_FORCE_TRUE;
	}
	share_bits(&st, b0, b1, x, N);
	struct pc_arg a0 = { b0, r, beta, mode, NULL, N }, a1 = { b1, r, beta, mode, NULL, N };
	struct pc_arg a2 = { NULL, NULL, NULL, NULL, out, N };
	void *args[3] = { &a0, &a1, &a2 };
	struct sim_config cfg;
	support_config(&cfg, 3);
	struct sim_result res;
	support_run_ok(&cfg, pc_fn, args, &res);
	sim_result_finish(&res);
	for (int i = 0; i < N; i++)
		cr_assert_eq(out[i], beta[i] ^ 1, "index %d", i);
}

Test(private_compare, kernels_agree, .timeout = 20)
{
	/* The AVX-512 and portable kernels give identical bytes. */
	enum { N = 257 };
	zp_t bits[N * 64], s[N * 64], z[N * 64], d_fast[N * 64], d_slow[N * 64];
	uint8_t perm[N * 64], flip[N], beta_fast[N], beta_slow[N];
	ring_t R[N];
	uint64_t st = 11;
	for (int i = 0; i < N * 64; i++) {
		bits[i] = (zp_t)(support_rand(&st) % 67);
		s[i] = (zp_t)(1 + support_rand(&st) % 66);
		z[i] = (zp_t)(support_rand(&st) % 67);
	}
	for (int e = 0; e < N; e++) {
		for (int k = 0; k < 64; k++)
			perm[e * 64 + k] = (uint8_t)((k * 5 + e) & 63);
		R[e] = support_rand(&st);
		flip[e] = (uint8_t)(support_rand(&st) & 1);
	}
	if (zp_set_impl("avx512") != 0)
		cr_skip_test("no AVX-512 VBMI on this CPU");
	for (int j = 0; j < 2; j++) {
		cr_assert_eq(zp_set_impl("avx512"), 0);
		zp_pc_shares(d_fast, bits, R, flip, s, z, perm, j, N);
		zp_pc_reveal(beta_fast, d_fast, bits, N);
		cr_assert_eq(zp_set_impl("generic"), 0);
		zp_pc_shares(d_slow, bits, R, flip, s, z, perm, j, N);
		zp_pc_reveal(beta_slow, d_slow, bits, N);
		cr_assert_eq(memcmp(d_fast, d_slow, sizeof(d_fast)), 0, "party %d", j);
		cr_assert_eq(memcmp(beta_fast, beta_slow, sizeof(beta_fast)), 0, "party %d", j);
	}
	cr_assert_eq(zp_set_impl("auto"), 0);
}

Test(private_compare, permutations_are_uniform_permutations)
{
	/* Position of element 0 after many permutations: uniform over 64. */
	enum { N = 64 * 400 };
	uint8_t *perm = malloc((size_t)N * 64);
	uint8_t key[PRG_KEY_BYTES];
	prg_derive_key(key, 5, "perm-test");
	struct prg g;
	prg_init(&g, key);
	zp_permutations(perm, &g, N);
	prg_finish(&g);
	double count[64] = { 0 };
	for (size_t e = 0; e < N; e++) {
		uint64_t seen = 0;
		for (int k = 0; k < 64; k++) {
			seen |= 1ull << perm[e * 64 + k];
			if (perm[e * 64 + k] == 0)
				count[k] += 1;
		}
		cr_assert_eq(seen, UINT64_MAX, "permutation %zu is not a permutation", e);
	}
	double chi = 0, expect = N / 64.0;
	for (int k = 0; k < 64; k++)
		chi += (count[k] - expect) * (count[k] - expect) / expect;
	/* 63 degrees of freedom: p = 0.001 at 103.4. */
	cr_assert_lt(chi, 103.4, "chi-square %g", chi);
	free(perm);
}

Test(private_compare, permutations_agree_across_kernels, .timeout = 20)
{
	/* Same stream, same permutations: P0 and P1 may run different kernels.
	 * 64 x 300 + 37 permutations include a few hundred redrawn steps and a
	 * partial chunk; the stream must also end at the same place. */
	enum { N = 64 * 300 + 37 };
	uint8_t *fast = malloc((size_t)N * 64), *slow = malloc((size_t)N * 64);
	cr_assert(fast && slow);
	if (zp_set_impl("avx512") != 0)
		cr_skip_test("no AVX-512 VBMI on this CPU");
	uint8_t key[PRG_KEY_BYTES];
	prg_derive_key(key, 17, "perm-agree");
	uint64_t next[2];
	for (int v = 0; v < 2; v++) {
		cr_assert_eq(zp_set_impl(v == 0 ? "avx512" : "generic"), 0);
		struct prg g;
		prg_init(&g, key);
		zp_permutations(v == 0 ? fast : slow, &g, N);
		next[v] = prg_u64(&g);
		prg_finish(&g);
	}
	cr_assert_eq(zp_set_impl("auto"), 0);
	for (size_t e = 0; e < N; e++)
		cr_assert_eq(memcmp(fast + e * 64, slow + e * 64, 64), 0, "permutation %zu differs", e);
	cr_assert_eq(next[0], next[1], "the kernels consumed different amounts of the stream");
	free(fast);
	free(slow);
}

Test(private_compare, permutations_agree_across_kernels_for_every_small_n, .timeout = 20)
{
	/* n = 0 .. 2 chunks + 9, one stream (seed n) each: every partial group
	 * of the 8 permutations the AVX-512 kernel runs side by side, and every
	 * partial chunk of 64; the stream must end at the same place. */
	enum { MAX_N = 2 * 64 + 9 };
	if (zp_set_impl("avx512") != 0)
		cr_skip_test("no AVX-512 VBMI on this CPU");
	for (size_t n = 0; n <= MAX_N; n++) {
		/* Exactly n permutations, so that the sanitizers see any write past them. */
		uint8_t *fast = malloc(n ? n * 64 : 1), *slow = malloc(n ? n * 64 : 1);
		cr_assert(fast && slow);
		uint8_t key[PRG_KEY_BYTES];
		prg_derive_key(key, n, "perm-small");
		uint64_t next[2];
		for (int v = 0; v < 2; v++) {
			cr_assert_eq(zp_set_impl(v == 0 ? "avx512" : "generic"), 0);
			struct prg g;
			prg_init(&g, key);
			zp_permutations(v == 0 ? fast : slow, &g, n);
			next[v] = prg_u64(&g);
			prg_finish(&g);
		}
		for (size_t e = 0; e < n; e++)
			cr_assert_eq(memcmp(fast + e * 64, slow + e * 64, 64), 0,
				     "seed %zu: permutation %zu differs", n, e);
		cr_assert_eq(next[0], next[1],
			     "seed %zu: the kernels consumed different amounts of the stream", n);
		free(fast);
		free(slow);
	}
	cr_assert_eq(zp_set_impl("auto"), 0);
}
