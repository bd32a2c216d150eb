/* What each party sees: the messages a party receives must be uniform and
 * independent of the secrets. Each test captures the received messages with
 * the runtime's on_recv hook, computes what that party can reconstruct, and
 * checks it with a chi-square test at a fixed seed; it also shows that the
 * same statistic rejects what a broken mask would reveal. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "compute_msb.h"
#include "matmul.h"
#include "private_compare.h"
#include "share_convert.h"
#include "support.h"
#include "zp.h"

#define MAX_MSGS 64

struct capture {
	struct {
		int from;       /* sender */
		size_t n_bytes; /* payload size */
		uint8_t *data;  /* copy */
	} msg[MAX_MSGS];
	int n;              /* messages captured */
};

/* Runs on the receiving party's thread; touches only that party's capture. */
static void on_recv(void *ctx, const struct party *p, int from, const void *data,
		    const struct channel_header *hdr)
{
	struct capture *c = &((struct capture *)ctx)[p->id];
	if (c->n == MAX_MSGS)
		return;
	c->msg[c->n].from = from;
	c->msg[c->n].n_bytes = hdr->n_bytes;
	c->msg[c->n].data = malloc(hdr->n_bytes ? hdr->n_bytes : 1);
	if (c->msg[c->n].data)
		memcpy(c->msg[c->n].data, data, hdr->n_bytes);
	c->n++;
}

static void capture_free(struct capture *c)
{
	for (int p = 0; p < 3; p++)
		for (int i = 0; i < c[p].n; i++)
			free(c[p].msg[i].data);
}

/* Chi-square statistic of the top 4 bits of n ring values (15 dof). */
static double chi_top4(const ring_t *v, size_t n)
{
	double count[16] = { 0 };
	for (size_t i = 0; i < n; i++)
		count[v[i] >> 60] += 1;
	double chi = 0, e = (double)n / 16;
	for (int b = 0; b < 16; b++)
		chi += (count[b] - e) * (count[b] - e) / e;
	return chi;
}

/* Chi-square over buckets lo..hi of bytes (hi - lo dof). */
static double chi_bytes(const uint8_t *v, size_t n, int lo, int hi)
{
	double count[256] = { 0 };
	size_t used = 0;
	for (size_t i = 0; i < n; i++)
		if (v[i] >= lo && v[i] <= hi) {
			count[v[i]] += 1;
			used++;
		}
	double chi = 0, e = (double)used / (hi - lo + 1);
	for (int b = lo; b <= hi; b++)
		chi += (count[b] - e) * (count[b] - e) / e;
	return chi;
}

#define CHI15 37.7   /* p = 0.001, 15 dof */
#define CHI63 103.4  /* p = 0.001, 63 dof */
#define CHI65 106.0  /* p = 0.001, 65 dof */
#define CHI66 107.3  /* p = 0.001, 66 dof */

struct one_arg {
	const ring_t *in; /* share */
	ring_t *out;      /* output share */
	size_t n;
	int which;        /* 0 share_convert, 1 compute_msb */
};

static int one_fn(struct party *p, void *v)
{
	struct one_arg *a = v;
	return a->which ? compute_msb(p, a->out, a->in, a->n) : share_convert(p, a->out, a->in, a->n);
}

static void run_captured(uint64_t seed, int which, const ring_t *a, size_t n, struct capture *cap)
{
	ring_t *s0 = support_alloc(n), *s1 = support_alloc(n), *o0 = support_alloc(n), *o1 = support_alloc(n);
	if (which) { /* Z_{L-1} shares for compute_msb */
		uint64_t st = seed;
		for (size_t i = 0; i < n; i++) {
			ring_t r = support_rand(&st);
			s0[i] = r == UINT64_MAX ? 0 : r;
			s1[i] = ring_odd_sub(a[i], s0[i]);
		}
	} else {
		support_share(seed, s0, s1, a, n);
	}
	struct one_arg a0 = { s0, o0, n, which }, a1 = { s1, o1, n, which }, a2 = { NULL, NULL, n, which };
	void *args[3] = { &a0, &a1, &a2 };
	struct sim_config cfg;
	support_config(&cfg, seed);
	memset(cap, 0, 3 * sizeof(*cap));
	cfg.on_recv = on_recv;
	cfg.on_recv_ctx = cap;
	struct sim_result res;
	support_run_ok(&cfg, one_fn, args, &res);
	sim_result_finish(&res);
	free(s0);
	free(s1);
	free(o0);
	free(o1);
}

enum { N = 20000 };

/* PrivateCompare on m comparisons; the argument layout is shared by the tests below. */
struct pcarg {
	const zp_t *bits;    /* P0/P1 */
	const ring_t *r;     /* public */
	const uint8_t *beta; /* common */
	uint8_t *out;        /* P2 */
};

static int pc_m(struct party *p, void *v, size_t m)
{
	struct pcarg *a = v;
	if (p->id == 2)
		return private_compare(p, a->out, NULL, NULL, NULL, NULL, m);
	return private_compare(p, NULL, a->bits, a->r, a->beta, NULL, m);
}

static int fn_large(struct party *p, void *v)
{
	return pc_m(p, v, 64 * 200);
}

static int fn_small(struct party *p, void *v)
{
	return pc_m(p, v, 64 * 100);
}

/* Inputs: all zero, or large values near the top of the range. */
static void inputs(ring_t *a, int large)
{
	uint64_t st = 99;
	for (size_t i = 0; i < N; i++)
		a[i] = large ? (((ring_t)1 << 61) | (support_rand(&st) >> 4)) : 0;
}

Test(views, share_convert_p2_sees_uniform_masked_values, .timeout = 60)
{
	ring_t *a = support_alloc(N), *x = support_alloc(N);
	for (int large = 0; large < 2; large++) {
		inputs(a, large);
		struct capture cap[3];
		run_captured(5 + (uint64_t)large, 0, a, N, cap);
		/* P2's first two messages: ~a0 from P0 and ~a1 from P1 (8 bytes each). */
		cr_assert_eq(cap[2].msg[0].n_bytes, 8 * N);
		cr_assert_eq(cap[2].msg[1].n_bytes, 8 * N);
		const ring_t *t0 = (const ring_t *)cap[2].msg[0].data, *t1 = (const ring_t *)cap[2].msg[1].data;
		for (size_t i = 0; i < N; i++)
			x[i] = t0[i] + t1[i];
		double chi = chi_top4(x, N);
		cr_assert_lt(chi, CHI15, "large=%d: P2's x = a + r is not uniform (chi %g)", large, chi);
		/* Without the mask r, x would be a itself: the statistic must see that. */
		cr_assert_gt(chi_top4(a, N), 10 * CHI15, "the test cannot tell a from uniform");
		/* PrivateCompare vectors (64 bytes each from P0, P1): every share byte
		 * is uniform in Z_67, and the reconstruction has at most one zero, the
		 * rest uniform in 1..66. */
		const uint8_t *d0 = cap[2].msg[2].data, *d1 = cap[2].msg[3].data;
		cr_assert_eq(cap[2].msg[2].n_bytes, 64 * N);
		double c0 = chi_bytes(d0, 64 * (size_t)N, 0, 66), c1 = chi_bytes(d1, 64 * (size_t)N, 0, 66);
		cr_assert_lt(c0, CHI66, "large=%d: P0's PC shares not uniform (chi %g)", large, c0);
		cr_assert_lt(c1, CHI66, "large=%d: P1's PC shares not uniform (chi %g)", large, c1);
		uint8_t *d = malloc(64 * (size_t)N);
		for (size_t i = 0; i < 64 * (size_t)N; i++)
			d[i] = (uint8_t)((d0[i] + d1[i]) % 67);
		for (size_t e = 0; e < N; e++) {
			int zeros = 0;
			for (int k = 0; k < 64; k++)
				zeros += d[e * 64 + k] == 0;
			cr_assert_leq(zeros, 1, "comparison %zu has %d zeros", e, zeros);
		}
		double cd = chi_bytes(d, 64 * (size_t)N, 1, 66);
		cr_assert_lt(cd, CHI65, "large=%d: P2's reconstructed d not uniform (chi %g)", large, cd);
		free(d);
		capture_free(cap);
	}
	free(a);
	free(x);
}

Test(views, private_compare_hides_where_the_zero_is, .timeout = 60)
{
	/* x > r with the first differing bit always at position 5: with the
	 * permutation the zero P2 sees is anywhere; without it, always at 5. */
	enum { M = 64 * 200 };
	ring_t *x = support_alloc(M), *r = support_alloc(M);
	uint8_t *beta = calloc(M, 1), *out = calloc(M, 1);
	zp_t *b0 = malloc(64 * (size_t)M), *b1 = malloc(64 * (size_t)M);
	uint64_t st = 4;
	for (size_t i = 0; i < M; i++) {
		r[i] = support_rand(&st) & ~((ring_t)63);
		x[i] = r[i] | 32; /* x > r, differing first at bit 5 */
	}
	for (size_t i = 0; i < 64 * (size_t)M; i++)
		b0[i] = (zp_t)(support_rand(&st) % 67);
	zp_share_bits(b1, b0, x, M);
	struct capture cap[3];
	memset(cap, 0, sizeof(cap));
	struct sim_config cfg;
	support_config(&cfg, 4);
	cfg.on_recv = on_recv;
	cfg.on_recv_ctx = cap;
	struct pcarg a0 = { b0, r, beta, NULL }, a1 = { b1, r, beta, NULL }, a2 = { NULL, NULL, NULL, out };
	void *args[3] = { &a0, &a1, &a2 };
	struct sim_result res;
	support_run_ok(&cfg, fn_large, args, &res);
	sim_result_finish(&res);
	double count[64] = { 0 };
	for (size_t e = 0; e < M; e++) {
		cr_assert_eq(out[e], 1, "x > r must be found, comparison %zu", e);
		for (int k = 0; k < 64; k++)
			if ((cap[2].msg[0].data[e * 64 + k] + cap[2].msg[1].data[e * 64 + k]) % 67 == 0)
				count[k] += 1;
	}
	double chi = 0, broken = 0, e_ = M / 64.0;
	for (int k = 0; k < 64; k++) {
		chi += (count[k] - e_) * (count[k] - e_) / e_;
		/* Without the permutation every zero would sit at position 5. */
		double b = k == 5 ? (double)M : 0.0;
		broken += (b - e_) * (b - e_) / e_;
	}
	cr_assert_lt(chi, CHI63, "zero positions not uniform (chi %g)", chi);
	cr_assert_gt(broken, CHI63, "the statistic cannot see an unpermuted vector (chi %g)", broken);
	capture_free(cap);
	free(x);
	free(r);
	free(beta);
	free(out);
	free(b0);
	free(b1);
}



struct mm_arg {
	const ring_t *x, *y; /* shares */
	ring_t *z;
	size_t m, n, v;
};

static int mm_fn(struct party *p, void *v)
{
	struct mm_arg *a = v;
	return matmul(p, a->z, a->x, a->y, a->m, a->n, a->v, 0);
}

Test(views, matmul_holders_see_uniform_masked_operands, .timeout = 60)
{
	enum { M = 100, K = 100, V = 2 };
	ring_t *X = support_alloc(M * K), *Y = support_alloc(K * V), *E = support_alloc(M * K);
	ring_t *s[2][2], *z[2];
	for (int j = 0; j < 2; j++) {
		s[j][0] = support_alloc(M * K);
		s[j][1] = support_alloc(K * V);
		z[j] = support_alloc(M * V);
	}
	for (int large = 0; large < 2; large++) {
		uint64_t st = 12;
		for (size_t i = 0; i < M * K; i++)
			X[i] = large ? ((ring_t)1 << 62) + (support_rand(&st) >> 8) : 0;
		support_share(30 + (uint64_t)large, s[0][0], s[1][0], X, M * K);
		support_share(40 + (uint64_t)large, s[0][1], s[1][1], Y, K * V);
		struct mm_arg a0 = { s[0][0], s[0][1], z[0], M, K, V }, a1 = { s[1][0], s[1][1], z[1], M, K, V };
		struct mm_arg a2 = { NULL, NULL, NULL, M, K, V };
		void *args[3] = { &a0, &a1, &a2 };
		struct capture cap[3];
		memset(cap, 0, sizeof(cap));
		struct sim_config cfg;
		support_config(&cfg, 50 + (uint64_t)large);
		cfg.on_recv = on_recv;
		cfg.on_recv_ctx = cap;
		struct sim_result res;
		support_run_ok(&cfg, mm_fn, args, &res);
		sim_result_finish(&res);
		/* P0 received [E1 | F1] from P1; with its own E0 = X0 - A0 it opens E = X - A.
		 * We recover E as P0 can: E = E1 + (X0 - A0) = received + (X0 - A0); A0 is
		 * unknown to the test, but E1 alone and E together must look uniform:
		 * check E1 (what P0 received) and E1 + X0 (reconstruction without A). */
		cr_assert_eq(cap[0].n, 1);
		const ring_t *E1 = (const ring_t *)cap[0].msg[0].data;
		double c1 = chi_top4(E1, M * K);
		cr_assert_lt(c1, CHI15, "large=%d: E1 not uniform (chi %g)", large, c1);
		for (size_t i = 0; i < M * K; i++)
			E[i] = E1[i] + s[0][0][i];
		double ce = chi_top4(E, M * K);
		cr_assert_lt(ce, CHI15, "large=%d: X - A1 not uniform (chi %g)", large, ce);
		/* Unmasked, that sum would be X: the statistic rejects it for both inputs. */
		cr_assert_gt(chi_top4(X, M * K), 10 * CHI15);
		capture_free(cap);
	}
	free(X);
	free(Y);
	free(E);
	for (int j = 0; j < 2; j++) {
		free(s[j][0]);
		free(s[j][1]);
		free(z[j]);
	}
}

Test(views, compute_msb_holders_see_uniform_r, .timeout = 60)
{
	ring_t *a = support_alloc(N), *r = support_alloc(N);
	for (int large = 0; large < 2; large++) {
		inputs(a, large);
		struct capture cap[3];
		run_captured(60 + (uint64_t)large, 1, a, N, cap);
		/* P0's messages: [x_0 | x[0]_0 | bits] from P2, then r_1 from P1. */
		int k = 0;
		while (k < cap[0].n && cap[0].msg[k].from != 1)
			k++;
		cr_assert_lt(k, cap[0].n, "no message from P1");
		cr_assert_eq(cap[0].msg[k].n_bytes, 8 * N);
		const ring_t *r1 = (const ring_t *)cap[0].msg[k].data;
		/* P0 opens r = r_0 + r_1 = 2a + x. What it receives, r_1, must be
		 * uniform, and so must r_1 + x_0, which still carries P2's mask x_1. */
		double c1 = chi_top4(r1, N);
		cr_assert_lt(c1, CHI15, "large=%d: r_1 not uniform (chi %g)", large, c1);
		const ring_t *x0 = (const ring_t *)cap[0].msg[0].data;
		for (size_t i = 0; i < N; i++)
			r[i] = r1[i] + x0[i];
		cr_assert_lt(chi_top4(r, N), CHI15, "large=%d", large);
		cr_assert_gt(chi_top4(a, N), 10 * CHI15);
		capture_free(cap);
	}
	free(a);
	free(r);
}

Test(views, private_compare_shares_are_masked_even_when_p2_dealt_the_bits, .timeout = 60)
{
	/* P2 deals the bit shares in ShareConvert and ComputeMSB, so it knows them.
	 * Take P0's bit shares all zero (a legal sharing), r = 0, beta = 0: then
	 * P0's c_k is 0 at every position and, without the mask z, P0 would send
	 * s_k·0 = 0: a view that depends on the shares. With the mask P0's vector
	 * is uniform in Z_67. */
	enum { M = 64 * 100 };
	ring_t *x = support_alloc(M), *r = support_alloc(M);
	uint8_t *beta = calloc(M, 1), *out = calloc(M, 1);
	zp_t *b0 = calloc(64 * (size_t)M, 1), *b1 = malloc(64 * (size_t)M);
	uint64_t st = 8;
	support_fill(&st, x, M);
	zp_share_bits(b1, b0, x, M);
	struct capture cap[3];
	memset(cap, 0, sizeof(cap));
	struct sim_config cfg;
	support_config(&cfg, 8);
	cfg.on_recv = on_recv;
	cfg.on_recv_ctx = cap;
	struct pcarg a0 = { b0, r, beta, NULL }, a1 = { b1, r, beta, NULL }, a2 = { NULL, NULL, NULL, out };
	void *args[3] = { &a0, &a1, &a2 };
	struct sim_result res;
	support_run_ok(&cfg, fn_small, args, &res);
	sim_result_finish(&res);
	const uint8_t *d0 = cap[2].msg[0].from == 0 ? cap[2].msg[0].data : cap[2].msg[1].data;
	double chi = chi_bytes(d0, 64 * (size_t)M, 0, 66);
	cr_assert_lt(chi, CHI66, "P0's PrivateCompare vector depends on its shares (chi %g)", chi);
	for (size_t e = 0; e < M; e++)
		cr_assert_eq(out[e], x[e] > 0, "comparison %zu", e);
	capture_free(cap);
	free(x);
	free(r);
	free(beta);
	free(out);
	free(b0);
	free(b1);
}
