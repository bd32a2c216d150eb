/* The float reference against hand-computed values and against the
 * cleartext fixed-point twin (nn_layers through nn_ops in cleartext): from
 * the same He-initialised weights and data, the forward pass and one SGD step
 * agree within the fixed-point error (floor truncations of 2^-13 per
 * product layer, the Division's floor, the SGD step's floor). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fixed.h"
#include "nn_float.h"
#include "nn_layers.h"
#include "nn_train.h"
#include "prg.h"
#include "support.h"

#define FRAC 13
#define ULP  (1.0 / (double)(1u << FRAC))

static void parse(struct nn_net *net, const char *text)
{
	char err[256];
	int rc = nn_net_parse(net, text, "test", err, sizeof(err));
	cr_assert_eq(rc, 0, "%s: %s", text, err);
}

/* ---- a tiny worked example ---- */

/* input 1x1x2, fc 2: x = (0.5, 0.25), W = [[1, 2], [3, 4]], b = (0.5, -1):
 * u = x·W + b = (1.75, 1), ASM p = (u + eps) / (2.75 + 2 eps), label 0:
 * delta = (p0 - 1, p1), dW = xᵀ·delta, db = delta, W -= lr·dW (batch 1). */
Test(nn_float, fc_forward_asm_and_sgd_by_hand)
{
	struct nn_net net;
	parse(&net, "input 1 1 2\nfc 2\n");
	struct nn_float_model m;
	struct nn_float_work w;
	cr_assert_eq(nn_float_model_init(&m, &net), 0);
	cr_assert_eq(nn_float_work_init(&w, &net, 1), 0);
	const float W[4] = {1, 2, 3, 4}, b[2] = {0.5f, -1};
	memcpy(m.w[0], W, sizeof(W));
	memcpy(m.b[0], b, sizeof(b));
	w.act[0][0] = 0.5f;
	w.act[0][1] = 0.25f;
	nn_float_forward(&m, &w);
	cr_assert_float_eq(w.act[1][0], 1.75f, 1e-6, "u0 %g", (double)w.act[1][0]);
	cr_assert_float_eq(w.act[1][1], 1.0f, 1e-6, "u1 %g", (double)w.act[1][1]);
	nn_float_output_asm(&m, &w);
	double eps = 1.0 / 256, s = 2.75 + 2 * eps;
	double p0 = (1.75 + eps) / s, p1 = (1 + eps) / s;
	cr_assert_float_eq(w.prob[0], p0, 1e-6, "p0 %g want %g", (double)w.prob[0], p0);
	cr_assert_float_eq(w.prob[1], p1, 1e-6, "p1 %g want %g", (double)w.prob[1], p1);
	uint32_t cls;
	nn_float_predict(&m, &w, &cls);
	cr_assert_eq(cls, 0);
	const float y[2] = {1, 0};
	nn_float_backward(&m, &w, y);
	double d0 = p0 - 1, d1 = p1;
	const double gw[4] = {0.5 * d0, 0.5 * d1, 0.25 * d0, 0.25 * d1};
	for (int k = 0; k < 4; k++)
		cr_assert_float_eq(w.gw[0][k], gw[k], 1e-6, "dW[%d] %g want %g", k,
				   (double)w.gw[0][k], gw[k]);
	cr_assert_float_eq(w.gb[0][0], d0, 1e-6);
	cr_assert_float_eq(w.gb[0][1], d1, 1e-6);
	nn_float_sgd(&m, &w, 0.5f);
	for (int k = 0; k < 4; k++)
		cr_assert_float_eq(m.w[0][k], W[k] - 0.5 * gw[k], 1e-6, "W[%d] %g", k,
				   (double)m.w[0][k]);
	cr_assert_float_eq(m.b[0][1], -1 - 0.5 * d1, 1e-6);
	nn_float_work_finish(&w);
	nn_float_model_finish(&m);
}

/* 2x2 input, conv 2 1 with pad 1 (3x3 out), then maxpool 3 over the whole map,
 * all weights 1: each output sums the pixels its window covers. */
Test(nn_float, padded_conv_and_maxpool_by_hand)
{
	struct nn_net net;
	parse(&net, "input 2 2 1\nconv 2 1 pad 1\nmaxpool 3\nfc 1\n");
	struct nn_float_model m;
	struct nn_float_work w;
	cr_assert_eq(nn_float_model_init(&m, &net), 0);
	cr_assert_eq(nn_float_work_init(&w, &net, 1), 0);
	for (int k = 0; k < 4; k++)
		m.w[0][k] = 1;
	m.w[2][0] = 2;
	const float x[4] = {1, 2, 3, 4}; /* [[1, 2], [3, 4]] */
	memcpy(w.act[0], x, sizeof(x));
	nn_float_forward(&m, &w);
	/* Padded conv: corners see one pixel, edges two, the centre all four. */
	const float conv[9] = {1, 3, 2, 4, 10, 6, 3, 7, 4};
	for (int k = 0; k < 9; k++)
		cr_assert_float_eq(w.act[1][k], conv[k], 1e-6, "conv %d: %g", k,
		                   (double)w.act[1][k]);
	cr_assert_float_eq(w.act[2][0], 10, 1e-6);
	cr_assert_eq(w.argmax[1][0], 4);
	cr_assert_float_eq(w.act[3][0], 20, 1e-6);
	/* The gradient reaches only the centre, then every pixel through the 4 taps. */
	nn_float_output_asm(&m, &w);
	const float y[1] = {0};
	nn_float_backward(&m, &w, y);
	double d = (double)w.prob[0]; /* 1: a single class */
	cr_assert_float_eq(d, 1.0, 1e-6);
	for (int k = 0; k < 4; k++) /* dW = Σ over the centre window = the 4 pixels, ·2·d */
		cr_assert_float_eq(w.gw[0][k], 2 * d * x[k], 1e-5, "dW[%d] %g", k,
		                   (double)w.gw[0][k]);
	cr_assert_float_eq(w.gb[0][0], 2 * d, 1e-6);
	nn_float_work_finish(&w);
	nn_float_model_finish(&m);
}

/* ---- agreement with the cleartext fixed-point twin ---- */

struct pair {
	struct nn_net net;
	struct nn_model fixed;       /* the twin (cleartext fixed point) */
	struct nn_float_model flt;   /* the float reference, same values */
	size_t n, in, K;             /* examples, values per example, classes */
	ring_t *x, *y;               /* n x in inputs in [0, 1), n x K one-hot (fixed point) */
	float *xf, *yf;              /* the same in float */
	uint32_t *order;             /* 0..n-1 */
};

static void pair_init(struct pair *p, const char *text, size_t n, uint64_t seed)
{
	memset(p, 0, sizeof(*p));
	parse(&p->net, text);
	cr_assert_eq(nn_model_init(&p->fixed, &p->net), 0);
	uint8_t key[PRG_KEY_BYTES];
	struct prg g;
	prg_derive_key(key, seed, "init");
	prg_init(&g, key);
	nn_model_init_weights(&p->fixed, &g, FRAC);
	prg_finish(&g);
	cr_assert_eq(nn_float_model_init(&p->flt, &p->net), 0);
	nn_float_model_from_fixed(&p->flt, &p->fixed, FRAC);
	p->n = n;
	p->in = p->net.in_h * p->net.in_w * p->net.in_c;
	p->K = nn_net_classes(&p->net);
	p->x = support_alloc(n * p->in);
	p->y = support_alloc(n * p->K);
	p->xf = calloc(n * p->in, sizeof(float));
	p->yf = calloc(n * p->K, sizeof(float));
	p->order = calloc(n, sizeof(uint32_t));
	cr_assert_not_null(p->xf);
	cr_assert_not_null(p->yf);
	cr_assert_not_null(p->order);
	uint64_t st = seed;
	for (size_t i = 0; i < n * p->in; i++) {
		p->x[i] = support_rand(&st) & (((ring_t)1 << FRAC) - 1);
		p->xf[i] = (float)fixed_decode(p->x[i], FRAC);
	}
	for (size_t i = 0; i < n; i++) {
		size_t k = support_rand(&st) % p->K;
		p->y[i * p->K + k] = (ring_t)1 << FRAC;
		p->yf[i * p->K + k] = 1;
		p->order[i] = (uint32_t)i;
	}
}

static void pair_finish(struct pair *p)
{
	nn_model_finish(&p->fixed);
	nn_float_model_finish(&p->flt);
	free(p->x);
	free(p->y);
	free(p->xf);
	free(p->yf);
	free(p->order);
}

/* Largest |float - fixed| over n values, in ulps of the fixed point. */
static double max_diff_ulps(const float *f, const ring_t *x, size_t n, size_t *at)
{
	double m = 0;
	for (size_t i = 0; i < n; i++) {
		double d = fabs((double)f[i] - fixed_decode(x[i], FRAC)) / ULP;
		if (d > m) {
			m = d;
			*at = i;
		}
	}
	return m;
}

/* Forward pass of the batch of all n examples: scores of both. */
static void check_forward(const char *text, size_t n, uint64_t seed, double tol_ulps)
{
	struct pair p;
	pair_init(&p, text, n, seed);
	struct nn_work w;
	struct nn_float_work fw;
	cr_assert_eq(nn_work_init(&w, &p.net, n), 0);
	cr_assert_eq(nn_float_work_init(&fw, &p.net, n), 0);
	memcpy(w.act[0], p.x, n * p.in * sizeof(ring_t));
	memcpy(fw.act[0], p.xf, n * p.in * sizeof(float));
	struct arena a;
	arena_init(&a, 0);
	struct nn_ctx c;
	nn_ctx_init_clear(&c, &a, FRAC);
	cr_assert_eq(nn_forward(&c, &p.fixed, &w), 0);
	cr_assert_eq(nn_output_asm(&c, &p.fixed, &w), 0);
	nn_float_forward(&p.flt, &fw);
	nn_float_output_asm(&p.flt, &fw);
	size_t at = 0, L = p.net.n_layers;
	double d = max_diff_ulps(fw.act[L], w.act[L], n * p.K, &at);
	cr_assert_leq(d, tol_ulps, "%s seed %llu: score %zu differs by %.2f ulps", text,
		      (unsigned long long)seed, at, d);
	/* ASM: the Division's floor plus the scores' error over their sum. */
	d = max_diff_ulps(fw.prob, w.prob, n * p.K, &at);
	cr_assert_leq(d, 2 * tol_ulps + 2, "%s seed %llu: probability %zu differs by %.2f ulps",
		      text, (unsigned long long)seed, at, d);
	arena_finish(&a);
	nn_work_finish(&w);
	nn_float_work_finish(&fw);
	pair_finish(&p);
}

/* One SGD step at lr 2^-lr_log on a batch of n: the updated weights. The
 * twin's step floors lr/B·dW (up to 1 ulp) after flooring dW itself; the
 * gradients also carry the forward pass's error. */
static void check_step(const char *text, size_t n, unsigned lr_log, uint64_t seed,
		       double tol_ulps, int grad)
{
	struct pair p;
	pair_init(&p, text, n, seed);
	struct arena a;
	arena_init(&a, 0);
	struct nn_ctx c;
	nn_ctx_init_clear(&c, &a, FRAC);
	struct nn_job j = {
		.model = &p.fixed,
		.data = {p.n, p.in, p.K, p.x, p.y},
		.order = p.order,
		.n_iter = 1,
		.batch = n,
		.lr_shift = (unsigned)__builtin_ctzll(n) + lr_log,
		.frac = FRAC,
		.train = 1,
		.grad = grad,
	};
	cr_assert_eq(nn_job_run(&c, &j), 0);
	arena_finish(&a);
	struct nn_float_work fw;
	cr_assert_eq(nn_float_work_init(&fw, &p.net, n), 0);
	fw.grad = grad;
	memcpy(fw.act[0], p.xf, n * p.in * sizeof(float));
	nn_float_train_step(&p.flt, &fw, p.yf, ldexpf(1.0f, -(int)lr_log) / (float)n);
	for (size_t i = 0; i < p.net.n_layers; i++) {
		const struct nn_layer *l = &p.net.layer[i];
		if (!p.flt.w[i])
			continue;
		size_t at = 0;
		double d = max_diff_ulps(p.flt.w[i], p.fixed.w[i], nn_layer_weights(l), &at);
		cr_assert_leq(d, tol_ulps,
		              "%s seed %llu: layer %zu weight %zu differs by %.2f ulps", text,
		              (unsigned long long)seed, i + 1, at, d);
		d = max_diff_ulps(p.flt.b[i], p.fixed.b[i], nn_layer_biases(l), &at);
		cr_assert_leq(d, tol_ulps, "%s seed %llu: layer %zu bias %zu differs by %.2f ulps",
			      text, (unsigned long long)seed, i + 1, at, d);
	}
	nn_float_work_finish(&fw);
	pair_finish(&p);
}

static const char *const nets[] = {
	"input 6 6 1\nfc 12\nrelu\nfc 4\n",
	"input 8 8 2\nconv 3 4 pad 1\nrelu\nmaxpool 2\nfc 5\n",
	"input 11 11 1\nconv 3 3\nmaxpool 3\nrelu\nconv 2 2 stride 2 pad 1\nfc 3\n",
	"input 9 7 1\nconv 3 5 stride 2\nrelu\nfc 6\nrelu\nfc 10\n", /* non-square */
};

Test(nn_float, forward_matches_the_fixed_point_twin, .timeout = 60)
{
	for (size_t k = 0; k < sizeof(nets) / sizeof(nets[0]); k++)
		for (uint64_t seed = 1; seed <= 8; seed++)
			check_forward(nets[k], 8, seed * 100 + k, 16);
}

Test(nn_float, one_sgd_step_matches_the_fixed_point_twin, .timeout = 60)
{
	for (size_t k = 0; k < sizeof(nets) / sizeof(nets[0]); k++)
		for (uint64_t seed = 1; seed <= 8; seed++)
			check_step(nets[k], 8, 3, seed * 100 + k, 4, NN_GRAD_PAPER);
}

/* The ce gradient: 1/p_y through the twin's fixed point against float's
 * exact one. p_y itself carries an ulp or two (the ASM division's floor),
 * which 1/p_y magnifies by 1/p_y^2, up to 256 where the clip starts (p_y =
 * 2^-4): up to ~500 ulps in one example's delta, summed over a batch of 8 at
 * lr/B = 2^-6: at most 64 ulps in a step, 9 the worst seen here. */
Test(nn_float, one_sgd_step_with_the_ce_gradient_matches_the_twin, .timeout = 60)
{
	for (size_t k = 0; k < sizeof(nets) / sizeof(nets[0]); k++)
		for (uint64_t seed = 1; seed <= 8; seed++)
			check_step(nets[k], 8, 3, seed * 100 + k, 32, NN_GRAD_CE);
}

/* ce-ry: p_y enters linearly (no 1/p_y), so the paper gradient's bound. */
Test(nn_float, one_sgd_step_with_the_ce_ry_gradient_matches_the_twin, .timeout = 60)
{
	for (size_t k = 0; k < sizeof(nets) / sizeof(nets[0]); k++)
		for (uint64_t seed = 1; seed <= 8; seed++)
			check_step(nets[k], 8, 3, seed * 100 + k, 4, NN_GRAD_CE_RY);
}

/* The twin's floors all round down, so their errors add up with one sign
 * where a gradient sums many rows: conv 1 of C sums B·24·24 = 2304 rows of
 * deltas that each carry a few ulps of floor bias, scaled by lr/B = 2^-7:
 * about 20 ulps in the step, against the 1-2 ulps of the small nets. */
Test(nn_float, network_a_and_c_match_the_twin_on_a_batch, .timeout = 120)
{
	char err[256];
	const char *names[] = {"A", "C"};
	const double tol_step[] = {8, 40};
	for (int k = 0; k < 2; k++) {
		struct nn_net net;
		cr_assert_eq(nn_net_builtin(&net, names[k], err, sizeof(err)), 0, "%s", err);
		char text[1024];
		cr_assert_gt(nn_net_format(&net, text, sizeof(text)), 0);
		check_forward(text, 4, 7, 64);
		check_step(text, 4, 5, 7, tol_step[k], NN_GRAD_PAPER);
	}
}

/* ---- the backward pass is the gradient ---- */

/* <D, u(W)> for the fixed output gradient D (batch x K): its derivative in
 * every parameter is what nn_float_backward computes from delta = D. */
static double dot_scores(const struct nn_float_model *m, struct nn_float_work *w, const float *x,
			 size_t in, const float *D, size_t n)
{
	memcpy(w->act[0], x, w->batch * in * sizeof(float));
	nn_float_forward(m, w);
	double s = 0;
	for (size_t k = 0; k < n; k++)
		s += (double)D[k] * (double)w->act[m->net.n_layers][k];
	return s;
}

Test(nn_float, backward_matches_finite_differences, .timeout = 60)
{
	static const char *const texts[] = {
		"input 6 6 2\nconv 3 3 pad 1\nrelu\nmaxpool 2\nconv 2 4\nrelu\nfc 5\n",
		"input 7 7 1\nconv 3 2 stride 2 pad 1\nmaxpool 2\nrelu\nfc 6\nrelu\nfc 3\n",
	};
	for (size_t t = 0; t < 2; t++) {
		struct pair p;
		uint64_t seed = 500 + t;
		pair_init(&p, texts[t], 3, seed);
		struct nn_float_work w;
		cr_assert_eq(nn_float_work_init(&w, &p.net, p.n), 0);
		memcpy(w.act[0], p.xf, p.n * p.in * sizeof(float));
		nn_float_forward(&p.flt, &w);
		nn_float_output_asm(&p.flt, &w);
		nn_float_backward(&p.flt, &w, p.yf);
		float *D = calloc(p.n * p.K, sizeof(float));
		cr_assert_not_null(D);
		for (size_t k = 0; k < p.n * p.K; k++)
			D[k] = w.prob[k] - p.yf[k];
		uint64_t st = seed;
		for (size_t i = 0; i < p.net.n_layers; i++) {
			const struct nn_layer *l = &p.net.layer[i];
			if (!p.flt.w[i])
				continue;
			size_t nw = nn_layer_weights(l), nb = nn_layer_biases(l);
			for (size_t trial = 0; trial < 12; trial++) {
				size_t k = support_rand(&st) % (nw + nb);
				float *v = k < nw ? &p.flt.w[i][k] : &p.flt.b[i][k - nw];
				double g = k < nw ? w.gw[i][k] : w.gb[i][k - nw];
				const float h = 1.0f / 512;
				float keep = *v;
				*v = keep + h;
				double up = dot_scores(&p.flt, &w, p.xf, p.in, D, p.n * p.K);
				*v = keep - h;
				double down = dot_scores(&p.flt, &w, p.xf, p.in, D, p.n * p.K);
				*v = keep;
				double fd = (up - down) / (2.0 * (double)h);
				cr_assert_leq(
				    fabs(fd - g), 2e-3 + 0.02 * fabs(g),
				    "%s seed %llu: layer %zu parameter %zu: backward %.6g, "
				    "finite difference %.6g",
				    texts[t], (unsigned long long)seed, i + 1, k, g, fd);
			}
		}
		free(D);
		nn_float_work_finish(&w);
		pair_finish(&p);
	}
}

/* ---- boundary values ---- */

Test(nn_float, batch_one_and_ties)
{
	/* maxpool 2 over equal values picks the last (as the protocol);
	 * ReLU passes the gradient at exactly 0. */
	struct nn_net net;
	parse(&net, "input 2 2 1\nrelu\nmaxpool 2\nfc 2\n");
	struct nn_float_model m;
	struct nn_float_work w;
	cr_assert_eq(nn_float_model_init(&m, &net), 0);
	cr_assert_eq(nn_float_work_init(&w, &net, 1), 0);
	m.w[2][0] = 1;
	m.w[2][1] = -1;
	for (int k = 0; k < 4; k++)
		w.act[0][k] = 0;
	nn_float_forward(&m, &w);
	cr_assert_eq(w.argmax[1][0], 3);
	uint32_t cls;
	nn_float_predict(&m, &w, &cls);
	cr_assert_eq(cls, 1, "equal scores: the later class");
	nn_float_output_asm(&m, &w);
	cr_assert_float_eq(w.prob[0], 0.5, 1e-7);
	const float y[2] = {1, 0};
	nn_float_backward(&m, &w, y);
	/* dW = x·delta = 0 (x = 0), db = delta = (-0.5, 0.5). */
	cr_assert_float_eq(w.gb[2][0], -0.5, 1e-7);
	cr_assert_float_eq(w.gb[2][1], 0.5, 1e-7);
	nn_float_work_finish(&w);
	nn_float_model_finish(&m);
}

Test(nn_float, bad_arguments_and_unrepresentable_values)
{
	struct nn_net net;
	parse(&net, "input 2 2 1\nfc 2\n");
	struct nn_float_work w;
	cr_assert_eq(nn_float_work_init(&w, &net, 0), ERROR_INVAL);
	cr_assert_eq(nn_float_work_init(&w, NULL, 4), ERROR_INVAL);
	cr_assert_eq(nn_float_work_init(NULL, &net, 4), ERROR_INVAL);
	cr_assert_eq(nn_float_work_init(&w, &net, (size_t)1 << 62), ERROR_RANGE);
	nn_float_work_finish(&w);
	struct nn_float_model m;
	cr_assert_eq(nn_float_model_init(&m, NULL), ERROR_INVAL);
	cr_assert_eq(nn_float_model_init(&m, &net), 0);
	struct nn_model fixed;
	cr_assert_eq(nn_model_init(&fixed, &net), 0);
	m.w[0][1] = -1.5f;
	m.b[0][0] = 0.25f;
	cr_assert_eq(nn_float_model_to_fixed(&fixed, &m, FRAC), 0);
	cr_assert_eq(fixed.w[0][1], (ring_t)0 - 3 * (1u << (FRAC - 1)));
	cr_assert_eq(fixed.b[0][0], (ring_t)1 << (FRAC - 2));
	m.w[0][2] = 1e30f; /* beyond 2^62 ulps */
	cr_assert_eq(nn_float_model_to_fixed(&fixed, &m, FRAC), ERROR_RANGE);
	m.w[0][2] = NAN;
	cr_assert_eq(nn_float_model_to_fixed(&fixed, &m, FRAC), ERROR_RANGE);
	nn_model_finish(&fixed);
	nn_float_model_finish(&m);
	nn_float_model_finish(NULL);
	nn_float_work_finish(NULL);
}
