/* Layers over shares against the cleartext fixed-point twin: same code,
 * same initialisation, differing only by truncation errors. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fixed.h"
#include "nn_layers.h"
#include "nn_mnist.h"
#include "nn_train.h"
#include "share.h"
#include "support.h"

#define FRAC 13

struct setup {
	struct nn_net net;
	struct nn_model plain;   /* cleartext initial model */
	struct nn_model sh[3];   /* P0, P1 shares; P2 shapes only */
	size_t n;                /* examples */
	ring_t *x, *y;           /* cleartext data */
	ring_t *xs[2], *ys[2];   /* shares */
	uint32_t *order;         /* 0..n-1 */
};

static void setup_init(struct setup *s, const char *text, size_t n, uint64_t seed)
{
	char err[256];
	memset(s, 0, sizeof(*s));
	cr_assert_eq(nn_net_parse(&s->net, text, "test", err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(nn_model_init(&s->plain, &s->net), 0);
	for (int j = 0; j < 3; j++)
		cr_assert_eq(nn_model_init(&s->sh[j], &s->net), 0);
	uint8_t key[PRG_KEY_BYTES];
	struct prg g;
	prg_derive_key(key, seed, "init");
	prg_init(&g, key);
	nn_model_init_weights(&s->plain, &g, FRAC);
	prg_finish(&g);
	size_t in = s->net.in_h * s->net.in_w * s->net.in_c, K = nn_net_classes(&s->net);
	s->n = n;
	s->x = support_alloc(n * in);
	s->y = support_alloc(n * K);
	uint64_t st = seed;
	for (size_t i = 0; i < n * in; i++) /* inputs in [0, 1) */
		s->x[i] = support_rand(&st) & (((ring_t)1 << FRAC) - 1);
	for (size_t i = 0; i < n; i++)
		s->y[i * K + support_rand(&st) % K] = (ring_t)1 << FRAC;
	s->order = malloc(n * sizeof(uint32_t));
	for (size_t i = 0; i < n; i++)
		s->order[i] = (uint32_t)i;
	prg_derive_key(key, seed, "owner");
	prg_init(&g, key);
	nn_model_share(&s->plain, &s->sh[0], &s->sh[1], &g);
	for (int j = 0; j < 2; j++) {
		s->xs[j] = support_alloc(n * in);
		s->ys[j] = support_alloc(n * K);
	}
	share_split(&g, s->xs[0], s->xs[1], s->x, n * in);
	share_split(&g, s->ys[0], s->ys[1], s->y, n * K);
	prg_finish(&g);
}

static void setup_finish(struct setup *s)
{
	nn_model_finish(&s->plain);
	for (int j = 0; j < 3; j++)
		nn_model_finish(&s->sh[j]);
	free(s->x);
	free(s->y);
	for (int j = 0; j < 2; j++) {
		free(s->xs[j]);
		free(s->ys[j]);
	}
	free(s->order);
}

static struct nn_job job_for(struct setup *s, int party, size_t batch, size_t iters, int train,
			     ring_t *out, int grad)
{
	size_t in = s->net.in_h * s->net.in_w * s->net.in_c, K = nn_net_classes(&s->net);
	struct nn_job j = {
		.model = party < 0 ? &s->plain : &s->sh[party],
		.data = { s->n, in, K, party < 0 ? s->x : party < 2 ? s->xs[party] : NULL,
			  party < 0 ? s->y : party < 2 ? s->ys[party] : NULL },
		.order = s->order, .n_iter = iters, .batch = batch, .lr_shift = 5 + 3,
		.frac = FRAC, .train = train, .out = out, .grad = grad,
	};
	return j;
}

/* Run `iters` training steps securely and in cleartext; compare the ASM
 * outputs of every step and the final weights. Each truncation may differ by
 * one ulp; the ASM division divides such differences by the score sum. */
static void check_training(const char *text, size_t batch, size_t iters, uint64_t seed,
			   int64_t tol_prob, int64_t tol_w, int grad)
{
	struct setup s;
	setup_init(&s, text, batch * iters, seed);
	size_t K = nn_net_classes(&s.net), n_out = batch * iters * K;
	ring_t *o[2] = { support_alloc(n_out), support_alloc(n_out) }, *oc = support_alloc(n_out);
	struct nn_job jobs[3] = { job_for(&s, 0, batch, iters, 1, o[0], grad),
				  job_for(&s, 1, batch, iters, 1, o[1], grad),
				  job_for(&s, 2, batch, iters, 1, NULL, grad) };
	void *args[3] = { &jobs[0], &jobs[1], &jobs[2] };
	struct sim_config cfg;
	support_config(&cfg, seed);
	struct sim_result res;
	support_run_ok(&cfg, nn_job_party_fn, args, &res);
	sim_result_finish(&res);

	/* The cleartext twin. */
	struct arena a;
	arena_init(&a, 0);
	struct nn_ctx c;
	nn_ctx_init_clear(&c, &a, FRAC);
	struct nn_job jc = job_for(&s, -1, batch, iters, 1, oc, grad);
	cr_assert_eq(nn_job_run(&c, &jc), 0);
	arena_finish(&a);

	for (size_t i = 0; i < n_out; i++) {
		/* The first step's outputs come from identical weights: only its own
		 * truncations differ, plus the Division protocol's error (at most
		 * ceil(13·2^13 / Y) ulps for a score sum of Y ulps: ~27 at 0.5). Later steps start from weights that already
		 * differ by a few ulps, which the ASM division amplifies: a loose
		 * bound of 1/8 there; the weights themselves are checked tightly. */
		int64_t d = ring_signed(o[0][i] + o[1][i] - oc[i]);
		int64_t tol = i < batch * K ? tol_prob : (int64_t)1 << (FRAC - 3);
		cr_assert_leq(llabs(d), tol, "%s: output %zu (step %zu) differs by %lld ulps", text, i,
			      i / (batch * K), (long long)d);
	}
	struct nn_model rev;
	cr_assert_eq(nn_model_init(&rev, &s.net), 0);
	nn_model_reveal(&rev, &s.sh[0], &s.sh[1]);
	for (size_t l = 0; l < s.net.n_layers; l++) {
		if (!rev.w[l])
			continue;
		for (size_t k = 0; k < nn_layer_weights(&s.net.layer[l]); k++) {
			int64_t d = ring_signed(rev.w[l][k] - s.plain.w[l][k]);
			cr_assert_leq(llabs(d), tol_w, "%s: layer %zu weight %zu differs by %lld ulps", text,
				      l + 1, k, (long long)d);
		}
	}
	nn_model_finish(&rev);
	free(o[0]);
	free(o[1]);
	free(oc);
	setup_finish(&s);
}

Test(nn_layers, fc_relu_forward_backward_match_the_twin, .timeout = 60)
{
	check_training("input 6 6 1\nfc 12\nrelu\nfc 4\n", 4, 3, 11, 64, 8, NN_GRAD_PAPER);
}

Test(nn_layers, conv_maxpool_match_the_twin, .timeout = 60)
{
	check_training("input 8 8 2\nconv 3 4 pad 1\nrelu\nmaxpool 2\nfc 5\n", 4, 2, 12, 64, 8, NN_GRAD_PAPER);
}

Test(nn_layers, strided_conv_and_odd_pool_match_the_twin, .timeout = 60)
{
	/* maxpool 3: windows of 9 (not a power of two): the one-hot scan (Alg. 12). */
	check_training("input 11 11 1\nconv 3 3 stride 1\nmaxpool 3\nrelu\nconv 2 2 stride 2 pad 1\nfc 3\n",
		       2, 2, 13, 64, 8, NN_GRAD_PAPER);
}

/* The ce output gradient (nn_layers.h) adds a Division of p_y: its secure
 * error is up to ceil(13·2^13 / Y) ulps of q = 2^-4/p_y for p_y = Y ulps,
 * times 16 in 1/p_y: a few percent of the true-class delta where p_y is
 * small, against the twin's exact floor. Over 3 steps at lr/B = 2^-8 that
 * moves weights by tens of ulps, so the weight bound is looser than the
 * paper gradient's 8. The first step's ASM outputs are before any update:
 * the same bound as there. */
Test(nn_layers, ce_gradient_matches_the_twin, .timeout = 60)
{
	check_training("input 6 6 1\nfc 12\nrelu\nfc 4\n", 4, 3, 31, 64, 64, NN_GRAD_CE);
	check_training("input 8 8 2\nconv 3 4 pad 1\nrelu\nmaxpool 2\nfc 5\n", 4, 2, 32, 64, 64,
		       NN_GRAD_CE);
}

/* ce-ry has no Division: its deltas differ from the twin's only by the
 * truncations of two products, so the paper gradient's bounds hold. */
Test(nn_layers, ce_ry_gradient_matches_the_twin, .timeout = 60)
{
	check_training("input 6 6 1\nfc 12\nrelu\nfc 4\n", 4, 3, 33, 64, 8, NN_GRAD_CE_RY);
	check_training("input 8 8 2\nconv 3 4 pad 1\nrelu\nmaxpool 2\nfc 5\n", 4, 2, 34, 64, 8,
		       NN_GRAD_CE_RY);
}

/* The ce delta by hand, in cleartext: one fc layer with zero input, so the
 * scores are the biases and the bias gradient is the delta itself.
 * Example 0: u = (2, 1, -1), label 0: p_0 = (2 + e)/(3 + 3e), 1/p_0 = 1.5 - ...,
 * delta = (1 - 1/p_0, 1, 0). Example 1: u = (2, 1, -1), label 2: u_2 <= 0, so
 * p_2 = e/(3 + 3e) is far below 2^-4: 1/p_2 clips at 16, delta = (1, 1, -16). */
Test(nn_layers, ce_gradient_by_hand, .timeout = 20)
{
	char err[256];
	struct nn_net net;
	cr_assert_eq(nn_net_parse(&net, "input 1 1 1\nfc 3\n", "test", err, sizeof(err)), 0, "%s", err);
	struct nn_model m;
	cr_assert_eq(nn_model_init(&m, &net), 0);
	const ring_t one = (ring_t)1 << FRAC;
	m.w[0][0] = m.w[0][1] = m.w[0][2] = 0;
	m.b[0][0] = 2 * one;
	m.b[0][1] = one;
	m.b[0][2] = (ring_t)0 - one;
	struct nn_work w;
	cr_assert_eq(nn_work_init(&w, &net, 2), 0);
	w.grad = NN_GRAD_CE;
	w.act[0][0] = w.act[0][1] = 0;
	ring_t y[6] = { one, 0, 0, 0, 0, one };
	struct arena a;
	arena_init(&a, 0);
	struct nn_ctx c;
	nn_ctx_init_clear(&c, &a, FRAC);
	cr_assert_eq(nn_forward(&c, &m, &w), 0);
	cr_assert_eq(nn_output_asm(&c, &m, &w), 0);
	cr_assert_eq(nn_backward(&c, &m, &w, y), 0);
	double e = 1.0 / 256, p0 = (2 + e) / (3 + 3 * e);
	double want[3] = { (1 - 1 / p0) + 1, 1 + 1, 0 - 16 }; /* summed over the two examples */
	for (int k = 0; k < 3; k++) {
		double got = (double)ring_signed(w.gb[0][k]) / (double)one;
		cr_assert(fabs(got - want[k]) < 0.01, "bias gradient %d: %g, want %g", k, got, want[k]);
	}
	/* The paper's delta on the same scores: p - y. */
	w.grad = NN_GRAD_PAPER;
	cr_assert_eq(nn_backward(&c, &m, &w, y), 0);
	double p1 = (1 + e) / (3 + 3 * e), p2 = e / (3 + 3 * e);
	double paper[3] = { 2 * p0 - 1, 2 * p1, 2 * p2 - 1 };
	for (int k = 0; k < 3; k++) {
		double got = (double)ring_signed(w.gb[0][k]) / (double)one;
		cr_assert(fabs(got - paper[k]) < 0.01, "paper bias gradient %d: %g, want %g", k, got,
			  paper[k]);
	}
	/* ce-ry: DReLU(u)·p_y - y. Example 0: (p_0 - 1, p_0, 0); example 1 (true
	 * class at -1, p_2 = e/(3 + 3e)): (p_2, p_2, -1). */
	w.grad = NN_GRAD_CE_RY;
	cr_assert_eq(nn_backward(&c, &m, &w, y), 0);
	double ry[3] = { p0 - 1 + p2, p0 + p2, -1 };
	for (int k = 0; k < 3; k++) {
		double got = (double)ring_signed(w.gb[0][k]) / (double)one;
		cr_assert(fabs(got - ry[k]) < 0.01, "ce-ry bias gradient %d: %g, want %g", k, got,
			  ry[k]);
	}
	cr_assert_str_eq(nn_grad_name(NN_GRAD_CE), "ce");
	cr_assert_str_eq(nn_grad_name(NN_GRAD_CE_RY), "ce-ry");
	cr_assert_str_eq(nn_grad_names[NN_GRAD_PAPER], "paper");
	cr_assert_null(nn_grad_names[NN_GRAD_CE_RY + 1]);
	cr_assert_null(nn_grad_name(NN_GRAD_CE_RY + 1));
	cr_assert_null(nn_grad_name(-1));
	arena_finish(&a);
	nn_work_finish(&w);
	nn_model_finish(&m);
}

/* Cleartext truncation: floor without a stream; with one (nn_ctx.round),
 * floor or floor + 1, up with probability (dropped bits) / 2^bits, like the
 * parties' share truncation: unbiased. */
Test(nn_layers, twin_random_rounding_is_unbiased, .timeout = 20)
{
	struct arena a;
	arena_init(&a, 0);
	struct nn_ctx c;
	nn_ctx_init_clear(&c, &a, FRAC);
	cr_assert_null(c.round);
	enum { N = 40000 };
	ring_t *x = support_alloc(N);
	const ring_t vals[4] = { (ring_t)5 << 13 | 0x800, (ring_t)0 - ((ring_t)3 << 13) + 0x1800,
				 (ring_t)7 << 13, (ring_t)0 - 1 };
	const double up[4] = { 0.25, 0.75, 0.0, 8191.0 / 8192 }; /* low / 2^13 */
	const int64_t lo[4] = { 5, -3, 7, -1 };
	for (int v = 0; v < 4; v++) {
		for (size_t i = 0; i < N; i++)
			x[i] = vals[v];
		nn_truncate(&c, x, N, FRAC);
		for (size_t i = 0; i < N; i++)
			cr_assert_eq(ring_signed(x[i]), lo[v], "floor of case %d", v);
	}
	uint8_t key[PRG_KEY_BYTES];
	struct prg g;
	prg_derive_key(key, 77, "rounding test");
	prg_init(&g, key);
	c.round = &g;
	for (int v = 0; v < 4; v++) {
		for (size_t i = 0; i < N; i++)
			x[i] = vals[v];
		nn_truncate(&c, x, N, FRAC);
		size_t n_up = 0;
		for (size_t i = 0; i < N; i++) {
			int64_t d = ring_signed(x[i]) - lo[v];
			cr_assert(d == 0 || d == 1, "case %d: %lld", v, (long long)ring_signed(x[i]));
			n_up += (size_t)d;
		}
		/* 5 standard deviations of a binomial(N, up) */
		double f = (double)n_up / N, sd = sqrt(up[v] * (1 - up[v]) / N);
		cr_assert(fabs(f - up[v]) <= 5 * sd + 1e-9, "case %d: up %.4f, want %.4f", v, f, up[v]);
	}
	prg_finish(&g);
	free(x);
	arena_finish(&a);
}

Test(nn_layers, inference_argmax_matches_the_twin, .timeout = 60)
{
	struct setup s;
	size_t batch = 8, iters = 2;
	setup_init(&s, "input 5 5 1\nfc 7\nrelu\nfc 10\noutput argmax\n", batch * iters, 21);
	ring_t *o[2] = { support_alloc(batch * iters), support_alloc(batch * iters) };
	ring_t *oc = support_alloc(batch * iters);
	struct nn_job jobs[3] = { job_for(&s, 0, batch, iters, 0, o[0], 0), job_for(&s, 1, batch, iters, 0, o[1], 0),
				  job_for(&s, 2, batch, iters, 0, o[0], 0) };
	ring_t *dummy = support_alloc(batch * iters);
	jobs[2].out = dummy; /* P2 passes a buffer it ignores */
	void *args[3] = { &jobs[0], &jobs[1], &jobs[2] };
	struct sim_config cfg;
	support_config(&cfg, 21);
	struct sim_result res;
	support_run_ok(&cfg, nn_job_party_fn, args, &res);
	/* argmax over 10 classes: 9 MaxPool steps, 744 bytes each, per image. */
	int node = stats_find(&res.party[0].stats, "output/argmax");
	cr_assert_geq(node, 0);
	sim_result_finish(&res);
	struct arena a;
	arena_init(&a, 0);
	struct nn_ctx c;
	nn_ctx_init_clear(&c, &a, FRAC);
	struct nn_job jc = job_for(&s, -1, batch, iters, 0, oc, 0);
	cr_assert_eq(nn_job_run(&c, &jc), 0);
	arena_finish(&a);
	for (size_t i = 0; i < batch * iters; i++)
		cr_assert_eq(o[0][i] + o[1][i], oc[i], "image %zu: class %llu vs twin %llu", i,
			     (unsigned long long)(o[0][i] + o[1][i]), (unsigned long long)oc[i]);
	free(o[0]);
	free(o[1]);
	free(oc);
	free(dummy);
	setup_finish(&s);
}

/* Secure training of Network A on an MNIST subset: test accuracy well above
 * chance (10%). Skipped when data/mnist is absent (scripts/setup fetches it). */
static double train_a_subset(size_t n_train, size_t n_test, size_t batch, unsigned lr_log,
			     size_t epochs)
{
	char err[512];
	struct nn_mnist tr, te;
	if (nn_mnist_load_dir(&tr, nn_mnist_default_dir(), "train", err, sizeof(err)) < 0)
		return -1;
	cr_assert_eq(nn_mnist_load_dir(&te, nn_mnist_default_dir(), "t10k", err, sizeof(err)), 0, "%s", err);
	struct setup s;
	memset(&s, 0, sizeof(s));
	cr_assert_eq(nn_net_builtin(&s.net, "A", err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(nn_model_init(&s.plain, &s.net), 0);
	for (int j = 0; j < 3; j++)
		cr_assert_eq(nn_model_init(&s.sh[j], &s.net), 0);
	uint8_t key[PRG_KEY_BYTES];
	struct prg g;
	prg_derive_key(key, 1, "init");
	prg_init(&g, key);
	nn_model_init_weights(&s.plain, &g, FRAC);
	prg_finish(&g);
	size_t in = 784, K = 10, n = n_train + n_test;
	s.n = n;
	s.x = support_alloc(n * in);
	s.y = support_alloc(n * K);
	for (size_t i = 0; i < n; i++) {
		const struct nn_mnist *m = i < n_train ? &tr : &te;
		size_t k = i < n_train ? i : i - n_train;
		for (size_t p = 0; p < in; p++)
			s.x[i * in + p] = (ring_t)((m->pixels[k * in + p] * ((ring_t)1 << FRAC) + 127) / 255);
		s.y[i * K + m->labels[k]] = (ring_t)1 << FRAC;
	}
	prg_derive_key(key, 1, "owner");
	prg_init(&g, key);
	nn_model_share(&s.plain, &s.sh[0], &s.sh[1], &g);
	for (int j = 0; j < 2; j++) {
		s.xs[j] = support_alloc(n * in);
		s.ys[j] = support_alloc(n * K);
	}
	share_split(&g, s.xs[0], s.xs[1], s.x, n * in);
	share_split(&g, s.ys[0], s.ys[1], s.y, n * K);
	prg_finish(&g);
	s.order = malloc(n * epochs * sizeof(uint32_t));
	for (size_t e = 0; e < epochs; e++) /* a fixed public order per epoch */
		for (size_t i = 0; i < n_train; i++)
			s.order[e * n_train + i] = (uint32_t)((i * 7919 + e * 104729) % n_train);
	struct nn_job jobs[3];
	for (int j = 0; j < 3; j++) {
		jobs[j] = job_for(&s, j, batch, epochs * n_train / batch, 1, NULL, NN_GRAD_PAPER);
		jobs[j].lr_shift = (unsigned)__builtin_ctzll(batch) + lr_log;
	}
	void *args[3] = { &jobs[0], &jobs[1], &jobs[2] };
	struct sim_config cfg;
	support_config(&cfg, 1);
	struct sim_result res;
	support_run_ok(&cfg, nn_job_party_fn, args, &res);
	sim_result_finish(&res);
	/* Secure inference on the test images (indices n_train ..). */
	uint32_t *test_order = malloc(n_test * sizeof(uint32_t));
	for (size_t i = 0; i < n_test; i++)
		test_order[i] = (uint32_t)(n_train + i);
	ring_t *cls[3] = { support_alloc(n_test), support_alloc(n_test), support_alloc(n_test) };
	for (int j = 0; j < 3; j++) {
		jobs[j] = job_for(&s, j, 100, n_test / 100, 0, cls[j], 0);
		jobs[j].order = test_order;
	}
	support_run_ok(&cfg, nn_job_party_fn, args, &res);
	sim_result_finish(&res);
	size_t right = 0;
	for (size_t i = 0; i < n_test; i++)
		right += cls[0][i] + cls[1][i] == te.labels[i];
	for (int j = 0; j < 3; j++)
		free(cls[j]);
	free(test_order);
	setup_finish(&s);
	nn_mnist_finish(&tr);
	nn_mnist_finish(&te);
	return (double)right / (double)n_test;
}

Test(nn_layers, secure_training_on_an_mnist_subset_beats_chance, .timeout = 300)
{
	double acc = train_a_subset(2048, 500, 32, 4, 1);
	if (acc < 0)
		cr_skip_test("no MNIST in %s (scripts/setup fetches it)", nn_mnist_default_dir());
	cr_assert_gt(acc, 0.6, "test accuracy %.3f after one epoch on 2048 images", acc);
	cr_log_info("network A, 2048 images, one epoch: test accuracy %.3f", acc);
}
