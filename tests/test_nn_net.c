#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nn_net.h"

/* Expected shape of one layer. */
struct shape {
	enum nn_kind kind;
	size_t in_h, in_w, in_c;
	size_t out_h, out_w, out_c;
};

static struct nn_net load_builtin(const char *name)
{
	struct nn_net net;
	char err[256];
	int rc = nn_net_builtin(&net, name, err, sizeof err);
	cr_assert_eq(rc, 0, "%s: %s", name, err);
	cr_assert_str_eq(net.name, name);
	return net;
}

static void check_shapes(const struct nn_net *net, const struct shape *want, size_t n)
{
	cr_assert_eq(net->n_layers, n, "%s: %zu layers", net->name, net->n_layers);
	cr_assert_eq(net->in_h, 28, "%s", net->name);
	cr_assert_eq(net->in_w, 28, "%s", net->name);
	cr_assert_eq(net->in_c, 1, "%s", net->name);
	for (size_t i = 0; i < n; i++) {
		const struct nn_layer *l = &net->layer[i];
		const struct shape *w = &want[i];
		cr_assert_eq(l->kind, w->kind, "%s layer %zu kind", net->name, i);
		cr_assert_eq(l->in_h, w->in_h, "%s layer %zu in_h %zu", net->name, i, l->in_h);
		cr_assert_eq(l->in_w, w->in_w, "%s layer %zu in_w %zu", net->name, i, l->in_w);
		cr_assert_eq(l->in_c, w->in_c, "%s layer %zu in_c %zu", net->name, i, l->in_c);
		cr_assert_eq(l->out_h, w->out_h, "%s layer %zu out_h %zu", net->name, i, l->out_h);
		cr_assert_eq(l->out_w, w->out_w, "%s layer %zu out_w %zu", net->name, i, l->out_w);
		cr_assert_eq(l->out_c, w->out_c, "%s layer %zu out_c %zu", net->name, i, l->out_c);
		cr_assert_eq(l->line, 0, "%s layer %zu: built-ins have line 0", net->name, i);
	}
}

/* Section 9: MatMul m x n times n x v costs 8·(2mn + 2nv + mv) bytes, with
 * m = out_h·out_w·batch, n = k·k·in_c (conv) or in_h·in_w·in_c (fc), v = out_c. */
static uint64_t matmul_bytes(const struct nn_layer *l, uint64_t batch)
{
	uint64_t m = (uint64_t)l->out_h * l->out_w * batch;
	uint64_t n = l->kind == NN_CONV ? (uint64_t)l->k * l->k * l->in_c : nn_layer_in_size(l);
	uint64_t v = l->out_c;
	return 8 * (2 * m * n + 2 * n * v + m * v);
}

/* Section 9's batch-1 inference breakdown for a -bench net: MatMul per
 * conv/fc, 744·(k²-1) per pool window, 664 + 40 per ReLU, 744·(classes-1)
 * for the argmax. out[] gets one entry per layer plus the argmax. */
static size_t breakdown(const struct nn_net *net, uint64_t *out)
{
	size_t n = 0;
	for (size_t i = 0; i < net->n_layers; i++) {
		const struct nn_layer *l = &net->layer[i];
		switch (l->kind) {
		case NN_CONV:
		case NN_FC:
			out[n++] = matmul_bytes(l, 1);
			break;
		case NN_MAXPOOL:
			out[n++] = 744 * (l->k * l->k - 1) * nn_layer_out_size(l);
			break;
		case NN_RELU:
			out[n++] = (664 + 40) * nn_layer_out_size(l);
			break;
		}
	}
	out[n++] = 744 * (nn_net_classes(net) - 1);
	return n;
}

static void check_breakdown(const char *name, const uint64_t *want, size_t n_want)
{
	struct nn_net net = load_builtin(name);
	uint64_t got[NN_MAX_LAYERS + 1];
	size_t n = breakdown(&net, got);
	cr_assert_eq(n, n_want, "%s: %zu entries", name, n);
	for (size_t i = 0; i < n; i++)
		cr_assert_eq(got[i], want[i], "%s entry %zu: %llu, section 9 says %llu", name, i,
		             (unsigned long long)got[i], (unsigned long long)want[i]);
}

/* ---- the tiny worked example ---- */

Test(nn_net, network_A_shapes_and_params)
{
	struct nn_net net = load_builtin("A");
	static const struct shape want[] = {
	    {NN_FC, 28, 28, 1, 1, 1, 128}, {NN_RELU, 1, 1, 128, 1, 1, 128},
	    {NN_FC, 1, 1, 128, 1, 1, 128}, {NN_RELU, 1, 1, 128, 1, 1, 128},
	    {NN_FC, 1, 1, 128, 1, 1, 10},
	};
	check_shapes(&net, want, 5);
	cr_assert_eq(net.output, NN_OUT_ASM);
	/* 784·128+128 + 128·128+128 + 128·10+10 = 100480 + 16512 + 1290 */
	cr_assert_eq(nn_net_params(&net), 118282);
	cr_assert_eq(nn_net_classes(&net), 10);
	cr_assert_eq(nn_layer_in_size(&net.layer[0]), 784);
	cr_assert_eq(nn_layer_weights(&net.layer[0]), 784 * 128);
	cr_assert_eq(nn_layer_biases(&net.layer[0]), 128);
	cr_assert_eq(nn_layer_weights(&net.layer[1]), 0);
	cr_assert_eq(nn_layer_biases(&net.layer[1]), 0);
	cr_assert_eq(matmul_bytes(&net.layer[0], 1), 1619200);
	cr_assert_eq(matmul_bytes(&net.layer[2], 1), 265216);
	cr_assert_eq(matmul_bytes(&net.layer[4], 1), 22608);
}

/* ---- every built-in ---- */

Test(nn_net, network_B_shapes_and_params)
{
	struct nn_net net = load_builtin("B");
	static const struct shape want[] = {
	    {NN_CONV, 28, 28, 1, 24, 24, 16},     {NN_RELU, 24, 24, 16, 24, 24, 16},
	    {NN_MAXPOOL, 24, 24, 16, 12, 12, 16}, {NN_CONV, 12, 12, 16, 8, 8, 16},
	    {NN_RELU, 8, 8, 16, 8, 8, 16},        {NN_MAXPOOL, 8, 8, 16, 4, 4, 16},
	    {NN_FC, 4, 4, 16, 1, 1, 100},         {NN_RELU, 1, 1, 100, 1, 1, 100},
	    {NN_FC, 1, 1, 100, 1, 1, 10},
	};
	check_shapes(&net, want, 9);
	cr_assert_eq(net.output, NN_OUT_ASM);
	cr_assert_eq(nn_layer_in_size(&net.layer[6]), 256);
	/* conv1 5·5·1·16+16 = 416; conv2 5·5·16·16+16 = 6416; fc 256·100+100 = 25700;
	 * fc 100·10+10 = 1010; total 33542 */
	cr_assert_eq(nn_layer_weights(&net.layer[0]) + nn_layer_biases(&net.layer[0]), 416);
	cr_assert_eq(nn_layer_weights(&net.layer[3]) + nn_layer_biases(&net.layer[3]), 6416);
	cr_assert_eq(nn_net_params(&net), 33542);
	cr_assert_eq(nn_net_classes(&net), 10);
	cr_assert_eq(net.layer[0].k, 5);
	cr_assert_eq(net.layer[0].stride, 1);
	cr_assert_eq(net.layer[0].pad, 0);
	cr_assert_eq(net.layer[2].k, 2);
	/* section 9, batch 1: conv1 m=576 n=25 v=16; conv2 m=64 n=400 v=16 */
	cr_assert_eq(matmul_bytes(&net.layer[0], 1), 310528);
	cr_assert_eq(matmul_bytes(&net.layer[3], 1), 520192);
	cr_assert_eq(matmul_bytes(&net.layer[6], 1), 414496);
	cr_assert_eq(matmul_bytes(&net.layer[8], 1), 17680);
}

Test(nn_net, network_C_shapes_and_params)
{
	struct nn_net net = load_builtin("C");
	static const struct shape want[] = {
	    {NN_CONV, 28, 28, 1, 24, 24, 20},     {NN_RELU, 24, 24, 20, 24, 24, 20},
	    {NN_MAXPOOL, 24, 24, 20, 12, 12, 20}, {NN_CONV, 12, 12, 20, 8, 8, 50},
	    {NN_RELU, 8, 8, 50, 8, 8, 50},        {NN_MAXPOOL, 8, 8, 50, 4, 4, 50},
	    {NN_FC, 4, 4, 50, 1, 1, 500},         {NN_RELU, 1, 1, 500, 1, 1, 500},
	    {NN_FC, 1, 1, 500, 1, 1, 10},
	};
	check_shapes(&net, want, 9);
	cr_assert_eq(nn_layer_in_size(&net.layer[6]), 800);
	/* conv1 25·20+20 = 520; conv2 25·20·50+50 = 25050; fc 800·500+500 = 400500;
	 * fc 500·10+10 = 5010; total 431080 */
	cr_assert_eq(nn_net_params(&net), 431080);
	cr_assert_eq(matmul_bytes(&net.layer[0], 1), 330560);
	cr_assert_eq(matmul_bytes(&net.layer[3], 1), 937600);
	cr_assert_eq(matmul_bytes(&net.layer[6], 1), 6416800);
	cr_assert_eq(matmul_bytes(&net.layer[8], 1), 88080);
}

Test(nn_net, network_D_is_the_papers_stride_2_conv)
{
	struct nn_net net = load_builtin("D");
	static const struct shape want[] = {
	    {NN_CONV, 28, 28, 1, 14, 14, 5}, {NN_RELU, 14, 14, 5, 14, 14, 5},
	    {NN_FC, 14, 14, 5, 1, 1, 100},   {NN_RELU, 1, 1, 100, 1, 1, 100},
	    {NN_FC, 1, 1, 100, 1, 1, 10},
	};
	check_shapes(&net, want, 5);
	cr_assert_eq(net.layer[0].stride, 2);
	cr_assert_eq(net.layer[0].pad, 2);
	cr_assert_eq(nn_layer_in_size(&net.layer[2]), 980);
	cr_assert_eq(net.output, NN_OUT_ASM);
	/* conv 25·5+5 = 130; fc 980·100+100 = 98100; fc 1010; total 99240 */
	cr_assert_eq(nn_net_params(&net), 99240);
	/* section 9's D line prices FC 980->100 (the code's declared size) */
	cr_assert_eq(matmul_bytes(&net.layer[2], 1), 1584480);
	cr_assert_eq(matmul_bytes(&net.layer[4], 1), 17680);
}

Test(nn_net, bench_variants_shapes)
{
	struct nn_net a = load_builtin("A-bench");
	static const struct shape wa[] = {
	    {NN_FC, 28, 28, 1, 1, 1, 128}, {NN_RELU, 1, 1, 128, 1, 1, 128},
	    {NN_FC, 1, 1, 128, 1, 1, 128}, {NN_RELU, 1, 1, 128, 1, 1, 128},
	    {NN_FC, 1, 1, 128, 1, 1, 10},  {NN_RELU, 1, 1, 10, 1, 1, 10},
	};
	check_shapes(&a, wa, 6);
	cr_assert_eq(a.output, NN_OUT_ARGMAX);
	cr_assert_eq(nn_net_params(&a), 118282);

	struct nn_net b = load_builtin("B-bench");
	static const struct shape wb[] = {
	    {NN_CONV, 28, 28, 1, 24, 24, 16},  {NN_MAXPOOL, 24, 24, 16, 12, 12, 16},
	    {NN_RELU, 12, 12, 16, 12, 12, 16}, {NN_CONV, 12, 12, 16, 8, 8, 16},
	    {NN_MAXPOOL, 8, 8, 16, 4, 4, 16},  {NN_RELU, 4, 4, 16, 4, 4, 16},
	    {NN_FC, 4, 4, 16, 1, 1, 100},      {NN_RELU, 1, 1, 100, 1, 1, 100},
	    {NN_FC, 1, 1, 100, 1, 1, 10},      {NN_RELU, 1, 1, 10, 1, 1, 10},
	};
	check_shapes(&b, wb, 10);
	cr_assert_eq(b.output, NN_OUT_ARGMAX);
	cr_assert_eq(nn_net_params(&b), 33542);

	struct nn_net c = load_builtin("C-bench");
	static const struct shape wc[] = {
	    {NN_CONV, 28, 28, 1, 24, 24, 20},  {NN_MAXPOOL, 24, 24, 20, 12, 12, 20},
	    {NN_RELU, 12, 12, 20, 12, 12, 20}, {NN_CONV, 12, 12, 20, 8, 8, 50},
	    {NN_MAXPOOL, 8, 8, 50, 4, 4, 50},  {NN_RELU, 4, 4, 50, 4, 4, 50},
	    {NN_FC, 4, 4, 50, 1, 1, 500},      {NN_RELU, 1, 1, 500, 1, 1, 500},
	    {NN_FC, 1, 1, 500, 1, 1, 10},      {NN_RELU, 1, 1, 10, 1, 1, 10},
	};
	check_shapes(&c, wc, 10);
	cr_assert_eq(nn_net_params(&c), 431080);

	struct nn_net d = load_builtin("D-bench");
	static const struct shape wd[] = {
	    {NN_CONV, 28, 28, 1, 24, 24, 5}, {NN_MAXPOOL, 24, 24, 5, 12, 12, 5},
	    {NN_RELU, 12, 12, 5, 12, 12, 5}, {NN_FC, 12, 12, 5, 1, 1, 100},
	    {NN_RELU, 1, 1, 100, 1, 1, 100}, {NN_FC, 1, 1, 100, 1, 1, 10},
	    {NN_RELU, 1, 1, 10, 1, 1, 10},
	};
	check_shapes(&d, wd, 7);
	cr_assert_eq(d.layer[0].stride, 1);
	cr_assert_eq(d.layer[0].pad, 0);
	cr_assert_eq(nn_layer_in_size(&d.layer[3]), 720);
	/* conv 130; fc 720·100+100 = 72100; fc 1010; total 73240 */
	cr_assert_eq(nn_net_params(&d), 73240);
}

/* The whole batch-1 inference breakdown of section 9, layer by layer. */
Test(nn_net, bench_variants_reproduce_section_9_breakdown)
{
	static const uint64_t a[] = {1619200, 90112, 265216, 90112, 22608, 7040, 6696};
	check_breakdown("A-bench", a, sizeof a / sizeof a[0]);
	static const uint64_t b[] = {310528, 5142528, 1622016, 520192, 571392, 180224,
	                             414496, 70400,   17680,   7040,   6696};
	check_breakdown("B-bench", b, sizeof b / sizeof b[0]);
	static const uint64_t c[] = {330560,  6428160, 2027520, 937600, 1785600, 563200,
	                             6416800, 352000,  88080,   7040,   6696};
	check_breakdown("C-bench", c, sizeof c / sizeof c[0]);
	/* D(code): the spec prices FC 980->100 = 1584480, but 720 values arrive:
	 * 8·(2·720 + 2·720·100 + 100) = 1164320 (network D checks the 980 figure). */
	static const uint64_t d[] = {255440, 1607040, 506880, 1164320, 70400, 17680, 7040, 6696};
	check_breakdown("D-bench", d, sizeof d / sizeof d[0]);

	/* Totals: A 2.101 MB, B 8.863 MB, C 18.943 MB (Table 7). */
	uint64_t sum_a = 0, sum_b = 0, sum_c = 0;
	for (size_t i = 0; i < sizeof a / sizeof a[0]; i++)
		sum_a += a[i];
	for (size_t i = 0; i < sizeof b / sizeof b[0]; i++)
		sum_b += b[i];
	for (size_t i = 0; i < sizeof c / sizeof c[0]; i++)
		sum_c += c[i];
	cr_assert_eq((sum_a + 500) / 1000, 2101, "A %llu", (unsigned long long)sum_a);
	cr_assert_eq((sum_b + 500) / 1000, 8863, "B %llu", (unsigned long long)sum_b);
	cr_assert_eq((sum_c + 500) / 1000, 18943, "C %llu", (unsigned long long)sum_c);
}

Test(nn_net, builtin_names_and_unknown_names)
{
	const char *const *names = nn_net_builtin_names();
	static const char *const want[] = {"A",       "B",       "C",       "D",
	                                   "A-bench", "B-bench", "C-bench", "D-bench"};
	size_t n = 0;
	while (names[n])
		n++;
	cr_assert_eq(n, 8);
	for (size_t i = 0; i < n; i++) {
		cr_assert_str_eq(names[i], want[i]);
		struct nn_net net = load_builtin(names[i]);
		char err[256];
		cr_assert_eq(nn_net_check(&net, err, sizeof err), 0, "%s: %s", names[i], err);
	}
	struct nn_net net;
	char err[256];
	cr_assert_eq(nn_net_builtin(&net, "a", err, sizeof err), ERROR_INVAL);
	cr_assert_neq(strstr(err, "'a'"), NULL, "%s", err);
	cr_assert_neq(strstr(err, "A, B, C, D, A-bench, B-bench, C-bench, D-bench"), NULL, "%s",
	              err);
	cr_assert_eq(net.n_layers, 0);
	cr_assert_eq(nn_net_builtin(&net, "A-BENCH", NULL, 0), ERROR_INVAL);
	cr_assert_eq(nn_net_builtin(&net, "", err, sizeof err), ERROR_INVAL);
	cr_assert_eq(nn_net_builtin(NULL, "A", err, sizeof err), ERROR_INVAL);
	cr_assert_eq(nn_net_builtin(&net, NULL, err, sizeof err), ERROR_INVAL);
}

/* ---- parser ---- */

static void assert_same_net(const struct nn_net *x, const struct nn_net *y, const char *what)
{
	cr_assert_eq(x->in_h, y->in_h, "%s", what);
	cr_assert_eq(x->in_w, y->in_w, "%s", what);
	cr_assert_eq(x->in_c, y->in_c, "%s", what);
	cr_assert_eq(x->output, y->output, "%s", what);
	cr_assert_eq(x->n_layers, y->n_layers, "%s", what);
	for (size_t i = 0; i < x->n_layers; i++) {
		struct nn_layer a = x->layer[i], b = y->layer[i];
		a.line = b.line = 0;
		cr_assert_eq(memcmp(&a, &b, sizeof a), 0, "%s: layer %zu differs", what, i);
	}
}

Test(nn_net, parses_a_custom_net_with_comments_and_whitespace)
{
	static const char text[] = "# a small CIFAR-like net\n"
	                           "\n"
	                           "  input 32 32 3   # h w c\r\n"
	                           "conv 3 8 pad 1\n"
	                           "\trelu\n"
	                           "maxpool 2\n"
	                           "conv 3 16 pad 1 stride 2   \n"
	                           "relu\n"
	                           "   # just a comment\n"
	                           "fc 10\n"
	                           "output none"; /* no final newline */
	struct nn_net net;
	char err[256];
	int rc = nn_net_parse(&net, text, "small", err, sizeof err);
	cr_assert_eq(rc, 0, "%s", err);
	cr_assert_str_eq(net.name, "small");
	cr_assert_eq(net.in_h, 32);
	cr_assert_eq(net.in_c, 3);
	cr_assert_eq(net.n_layers, 6);
	cr_assert_eq(net.output, NN_OUT_NONE);
	/* conv 3 8 pad 1: (32 + 2 - 3)/1 + 1 = 32 */
	cr_assert_eq(net.layer[0].out_h, 32);
	cr_assert_eq(net.layer[0].out_c, 8);
	cr_assert_eq(net.layer[0].line, 4);
	cr_assert_eq(net.layer[1].line, 5);
	cr_assert_eq(net.layer[2].out_h, 16);
	/* conv 3 16 stride 2 pad 1 on 16x16: (16 + 2 - 3)/2 + 1 = 8 (floor) */
	cr_assert_eq(net.layer[3].out_h, 8);
	cr_assert_eq(net.layer[3].out_w, 8);
	cr_assert_eq(net.layer[3].stride, 2);
	cr_assert_eq(net.layer[3].pad, 1);
	cr_assert_eq(net.layer[3].line, 7);
	cr_assert_eq(nn_layer_in_size(&net.layer[5]), 1024);
	cr_assert_eq(net.layer[5].line, 10);
	cr_assert_eq(nn_net_classes(&net), 10);
	/* 3·3·3·8+8 + 3·3·8·16+16 + 1024·10+10 = 224 + 1168 + 10250 */
	cr_assert_eq(nn_net_params(&net), 11642);

	char buf[1024];
	int n = nn_net_format(&net, buf, sizeof buf);
	cr_assert_gt(n, 0);
	cr_assert_eq((size_t)n, strlen(buf));
	cr_assert_neq(strstr(buf, "conv 3 16 stride 2 pad 1\n"), NULL, "%s", buf);
	struct nn_net back;
	rc = nn_net_parse(&back, buf, "again", err, sizeof err);
	cr_assert_eq(rc, 0, "%s\n%s", err, buf);
	assert_same_net(&net, &back, "custom");
	cr_assert_eq(nn_net_check(&back, err, sizeof err), 0, "%s", err);
}

Test(nn_net, shape_rules)
{
	struct nn_net net;
	char err[256];
	/* floor: (28 - 5)/2 + 1 = 12 */
	cr_assert_eq(
	    nn_net_parse(&net, "input 28 28 1\nconv 5 4 stride 2\n", NULL, err, sizeof err), 0,
	    "%s", err);
	cr_assert_eq(net.layer[0].out_h, 12);
	cr_assert_str_eq(net.name, "");
	cr_assert_eq(net.output, NN_OUT_ASM, "output defaults to asm");
	/* a 1x1 conv after an fc: the general rule allows it */
	cr_assert_eq(
	    nn_net_parse(&net, "input 4 4 1\nfc 8\nconv 1 4\nmaxpool 1\n", NULL, err, sizeof err),
	    0, "%s", err);
	cr_assert_eq(net.layer[1].in_c, 8);
	cr_assert_eq(nn_layer_out_size(&net.layer[1]), 4);
	cr_assert_eq(nn_net_classes(&net), 4);
	/* non-square input, filter exactly as large as the padded input */
	cr_assert_eq(nn_net_parse(&net, "input 3 5 2\nconv 5 1 pad 1\n", NULL, err, sizeof err), 0,
	             "%s", err);
	cr_assert_eq(net.layer[0].out_h, 1);
	cr_assert_eq(net.layer[0].out_w, 3);
	/* a net ending in relu (any last layer) and a single output */
	cr_assert_eq(
	    nn_net_parse(&net, "input 1 1 1\nrelu\noutput argmax\n", NULL, err, sizeof err), 0,
	    "%s", err);
	cr_assert_eq(nn_net_classes(&net), 1);
	cr_assert_eq(nn_net_params(&net), 0);
	/* the limits themselves are fine */
	cr_assert_eq(nn_net_parse(&net, "input 1048576 1 1\nfc 1\n", NULL, err, sizeof err), 0,
	             "%s", err);
	/* 1024·1024·2047 + 2047 = 2^31 - 2^20 + 2047 < 2^31 */
	cr_assert_eq(nn_net_parse(&net, "input 1024 1024 1\nfc 2047\n", NULL, err, sizeof err), 0,
	             "%s", err);
	cr_assert_eq(nn_net_params(&net), 2147483647ull - 1048576 + 2048);
	/* NN_MAX_LAYERS layers */
	char text[512] = "input 2 2 1\n";
	for (int i = 0; i < NN_MAX_LAYERS; i++)
		strcat(text, "relu\n");
	cr_assert_eq(nn_net_parse(&net, text, NULL, err, sizeof err), 0, "%s", err);
	cr_assert_eq(net.n_layers, NN_MAX_LAYERS);
	strcat(text, "relu\n");
	cr_assert_eq(nn_net_parse(&net, text, NULL, err, sizeof err), ERROR_RANGE);
	cr_assert_str_eq(err, "line 34 (relu): more than 32 layers");
}

struct bad {
	const char *text; /* description */
	int code;         /* expected error */
	const char *head; /* "line N (text)" that starts the message, NULL: no line */
	const char *what; /* a part of the rest of the message */
};

static const struct bad bad_cases[] = {
    /* keywords */
    {"input 28 28 1\nconvolution 5 16\n", ERROR_FORMAT, "line 2 (convolution 5 16)",
     "unknown keyword"},
    {"input 28 28 1\nFC 10\n", ERROR_FORMAT, "line 2 (FC 10)", "unknown keyword 'FC'"},
    {"input 28 28 1\nsoftmax\n", ERROR_FORMAT, "line 2 (softmax)", "unknown keyword"},
    /* missing arguments */
    {"input 28 28\nfc 10\n", ERROR_FORMAT, "line 1 (input 28 28)", "missing"},
    {"input 28 28 1\nfc\n", ERROR_FORMAT, "line 2 (fc)", "missing"},
    {"input 28 28 1\nmaxpool\n", ERROR_FORMAT, "line 2 (maxpool)", "missing"},
    {"input 28 28 1\nconv 5\n", ERROR_FORMAT, "line 2 (conv 5)", "missing"},
    {"input 28 28 1\nconv 5 16 stride\n", ERROR_FORMAT, "line 2 (conv 5 16 stride)",
     "needs a value"},
    {"input 28 28 1\nfc 10\noutput\n", ERROR_FORMAT, "line 3 (output)", "missing"},
    /* extra arguments */
    {"input 28 28 1 1\nfc 10\n", ERROR_FORMAT, "line 1 (input 28 28 1 1)",
     "unexpected argument '1'"},
    {"input 28 28 1\nrelu 3\n", ERROR_FORMAT, "line 2 (relu 3)", "unexpected argument '3'"},
    {"input 28 28 1\nfc 10 20\n", ERROR_FORMAT, "line 2 (fc 10 20)", "unexpected argument '20'"},
    {"input 28 28 1\nmaxpool 2 2\n", ERROR_FORMAT, "line 2 (maxpool 2 2)", "unexpected"},
    {"input 28 28 1\nconv 5 16 7\n", ERROR_FORMAT, "line 2 (conv 5 16 7)",
     "unexpected argument '7'"},
    {"input 28 28 1\nconv 5 16 stride 1 pad 0 x\n", ERROR_FORMAT,
     "line 2 (conv 5 16 stride 1 pad 0 x)", "unexpected argument 'x'"},
    {"input 28 28 1\nconv 5 16 stride 1 pad 0 stride 1 pad 0\n", ERROR_FORMAT,
     "line 2 (conv 5 16 stride 1 pad 0 stride 1 pad 0)", "twice"},
    {"input 28 28 1\nconv 5 16 pad 1 pad 1\n", ERROR_FORMAT, "line 2 (conv 5 16 pad 1 pad 1)",
     "'pad' given twice"},
    {"input 28 28 1\nconv 5 16 a b c d e f g h i\n", ERROR_FORMAT,
     "line 2 (conv 5 16 a b c d e f g h i)", "unexpected argument 'a'"},
    {"input 28 28 1\nfc 10\noutput asm argmax\n", ERROR_FORMAT, "line 3 (output asm argmax)",
     "unexpected argument 'argmax'"},
    /* not numbers, trailing garbage */
    {"input 28 28 1\nfc ten\n", ERROR_FORMAT, "line 2 (fc ten)", "not 'ten'"},
    {"input 28 28 1\nfc 10x\n", ERROR_FORMAT, "line 2 (fc 10x)", "not '10x'"},
    {"input 28 28 1\nfc -5\n", ERROR_FORMAT, "line 2 (fc -5)", "whole number"},
    {"input 28 28 1\nfc +5\n", ERROR_FORMAT, "line 2 (fc +5)", "whole number"},
    {"input 28 28 1\nfc 1.5\n", ERROR_FORMAT, "line 2 (fc 1.5)", "whole number"},
    {"input 28 28 1\nfc 0x10\n", ERROR_FORMAT, "line 2 (fc 0x10)", "whole number"},
    {"input 28 28 1\nconv 5 16 stride two\n", ERROR_FORMAT, "line 2 (conv 5 16 stride two)",
     "stride must be a whole number"},
    {"input 28 28 1\nconv 5 16 pad -1\n", ERROR_FORMAT, "line 2 (conv 5 16 pad -1)", "pad must be"},
    {"input 28 28a 1\nfc 10\n", ERROR_FORMAT, "line 1 (input 28 28a 1)",
     "width must be a whole number"},
    {"input 28 28 1\nfc 1\x01\n", ERROR_FORMAT, "line 2 (fc 1?)", "whole number"},
    /* zero */
    {"input 0 28 1\nfc 10\n", ERROR_FORMAT, "line 1 (input 0 28 1)", "height must be at least 1"},
    {"input 28 28 0\nfc 10\n", ERROR_FORMAT, "line 1 (input 28 28 0)", "at least 1"},
    {"input 28 28 1\nfc 0\n", ERROR_FORMAT, "line 2 (fc 0)", "at least 1"},
    {"input 28 28 1\nmaxpool 0\n", ERROR_FORMAT, "line 2 (maxpool 0)", "at least 1"},
    {"input 28 28 1\nconv 0 16\n", ERROR_FORMAT, "line 2 (conv 0 16)",
     "filter size must be at least 1"},
    {"input 28 28 1\nconv 5 0\n", ERROR_FORMAT, "line 2 (conv 5 0)", "at least 1"},
    {"input 28 28 1\nconv 5 16 stride 0\n", ERROR_FORMAT, "line 2 (conv 5 16 stride 0)",
     "stride must be at least 1"},
    /* input not first, repeated */
    {"fc 10\ninput 28 28 1\n", ERROR_FORMAT, "line 1 (fc 10)", "first line must be 'input"},
    {"# comment\n\n  relu\ninput 28 28 1\n", ERROR_FORMAT, "line 3 (relu)", "first line"},
    {"output asm\n", ERROR_FORMAT, "line 1 (output asm)", "first line"},
    {"input 28 28 1\nfc 10\ninput 28 28 1\n", ERROR_FORMAT, "line 3 (input 28 28 1)",
     "only once (first on line 1)"},
    /* output not last, repeated, bad value, without layers */
    {"input 28 28 1\nfc 10\noutput asm\nrelu\n", ERROR_FORMAT, "line 4 (relu)",
     "nothing may follow 'output' (line 3)"},
    {"input 28 28 1\nfc 10\noutput asm\n\n# end\noutput asm\n", ERROR_FORMAT, "line 6 (output asm)",
     "nothing may follow"},
    {"input 28 28 1\nfc 10\noutput softmax\n", ERROR_FORMAT, "line 3 (output softmax)",
     "unknown output 'softmax'"},
    {"input 28 28 1\nfc 10\noutput ASM\n", ERROR_FORMAT, "line 3 (output ASM)", "unknown output"},
    {"input 28 28 1\noutput asm\n", ERROR_FORMAT, "line 2 (output asm)", "no layers"},
    /* no layers at all */
    {"", ERROR_FORMAT, NULL, "no 'input"},
    {"# only a comment\n\n   \n", ERROR_FORMAT, NULL, "no 'input"},
    {"input 28 28 1\n", ERROR_FORMAT, NULL, "no layers after 'input' (line 1)"},
    /* shapes */
    {"input 8 8 1\nrelu\nrelu\nrelu\nmaxpool 3\n", ERROR_SHAPE, "line 5 (maxpool 3)",
     "3 does not divide 8x8"},
    {"input 8 6 1\nmaxpool 4\n", ERROR_SHAPE, "line 2 (maxpool 4)", "4 does not divide 8x6"},
    {"input 4 4 1\n# x\n\nconv 5 16\n", ERROR_SHAPE, "line 4 (conv 5 16)",
     "a 5x5 filter does not fit a 4x4 input"},
    {"input 28 3 1\nconv 5 16 pad 0\n", ERROR_SHAPE, "line 2 (conv 5 16 pad 0)",
     "does not fit a 28x3 input"},
    {"input 2 2 1\nconv 7 1 pad 2\n", ERROR_SHAPE, "line 2 (conv 7 1 pad 2)",
     "a 7x7 filter does not fit a 2x2 input with padding 2"},
    {"input 28 28 1\nfc 10\nconv 3 4\n", ERROR_SHAPE, "line 3 (conv 3 4)",
     "does not fit a 1x1 input"},
    {"input 28 28 1\nfc 10\nmaxpool 2\n", ERROR_SHAPE, "line 3 (maxpool 2)",
     "2 does not divide 1x1"},
    /* limits */
    {"input 1048577 1 1\nfc 1\n", ERROR_RANGE, "line 1 (input 1048577 1 1)", "exceeds 1048576"},
    {"input 28 28 1\nfc 1048577\n", ERROR_RANGE, "line 2 (fc 1048577)", "exceeds"},
    {"input 28 28 1\nfc 99999999999999999999999999\n", ERROR_RANGE,
     "line 2 (fc 99999999999999999999999999)", "exceeds"},
    {"input 1048576 1048576 1\nrelu\n", ERROR_RANGE, "line 1 (input 1048576 1048576 1)",
     "2^31 - 1 values"},
    {"input 1 1 1\nconv 1 1 pad 1048576\n", ERROR_RANGE, "line 2 (conv 1 1 pad 1048576)",
     "exceeds"},
    {"input 1024 1024 1\nfc 2048\n", ERROR_RANGE, "line 2 (fc 2048)", "parameters"},
    /* 2^30 + 2^10, then 2^20 + 2^10, then 1025·(2^20 - 1): the sum passes 2^31 - 1 */
    {"input 1024 1024 1\nfc 1024\nfc 1024\nfc 1048575\n", ERROR_RANGE, "line 4 (fc 1048575)",
     "parameters"},
    {"input 1024 1024 1\nconv 1 4096\n", ERROR_RANGE, "line 2 (conv 1 4096)", "values"},
};

Test(nn_net, rejects_malformed_descriptions)
{
	for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
		const struct bad *b = &bad_cases[i];
		struct nn_net net;
		char err[256];
		memset(&net, 0xab, sizeof net);
		memset(err, 0, sizeof err);
		int rc = nn_net_parse(&net, b->text, "bad", err, sizeof err);
		cr_assert_eq(rc, b->code, "case %zu: rc %d (%s), want %d; message '%s'", i, rc,
		             error_name(rc), b->code, err);
		if (b->head) {
			size_t n = strlen(b->head);
			cr_assert_eq(strncmp(err, b->head, n), 0,
			             "case %zu: '%s' does not start with '%s'", i, err, b->head);
			cr_assert_eq(err[n], ':', "case %zu: '%s'", i, err);
		}
		cr_assert_neq(strstr(err, b->what), NULL, "case %zu: '%s' lacks '%s'", i, err,
		              b->what);
		cr_assert_eq(net.n_layers, 0, "case %zu: net not cleared", i);
		cr_assert_eq(net.in_h, 0, "case %zu: net not cleared", i);
		cr_assert_eq(net.name[0], '\0', "case %zu: net not cleared", i);
		/* no message buffer, and a tiny one */
		cr_assert_eq(nn_net_parse(&net, b->text, "bad", NULL, 0), b->code, "case %zu", i);
		char tiny[6] = "xxxxx";
		cr_assert_eq(nn_net_parse(&net, b->text, "bad", tiny, 4), b->code, "case %zu", i);
		cr_assert_eq(tiny[3], '\0', "case %zu", i);
		cr_assert_eq(tiny[4], 'x', "case %zu: wrote past err_len", i);
	}
}

Test(nn_net, exact_messages)
{
	struct nn_net net;
	char err[256];
	cr_assert_eq(
	    nn_net_parse(&net, "input 8 8 1\nrelu\nrelu\nrelu\nmaxpool 3\n", NULL, err, sizeof err),
	    ERROR_SHAPE);
	cr_assert_str_eq(err, "line 5 (maxpool 3): 3 does not divide 8x8");
	cr_assert_eq(nn_net_parse(&net, "input 4 4 1\n# x\n\nconv 5 16\n", NULL, err, sizeof err),
	             ERROR_SHAPE);
	cr_assert_str_eq(err, "line 4 (conv 5 16): a 5x5 filter does not fit a 4x4 input");
	/* the quoted text drops the comment and the surrounding blanks */
	cr_assert_eq(
	    nn_net_parse(&net, "input 28 28 1\n  fc  ten   # ten outputs\n", NULL, err, sizeof err),
	    ERROR_FORMAT);
	cr_assert_str_eq(err, "line 2 (fc  ten): outputs must be a whole number, not 'ten'");
	/* a long line is cut in the message */
	char text[400] = "input 28 28 1\nfc ";
	for (int i = 0; i < 300; i++)
		strcat(text, "9");
	strcat(text, "x\n");
	cr_assert_eq(nn_net_parse(&net, text, NULL, err, sizeof err), ERROR_FORMAT);
	cr_assert_eq(strncmp(err, "line 2 (fc 999", 14), 0, "%s", err);
	cr_assert_neq(strstr(err, "...)"), NULL, "%s", err);
	cr_assert_lt(strlen(err), 160, "%s", err);
	/* NULL arguments */
	cr_assert_eq(nn_net_parse(NULL, "input 1 1 1\nrelu\n", NULL, err, sizeof err), ERROR_INVAL);
	cr_assert_eq(nn_net_parse(&net, NULL, NULL, err, sizeof err), ERROR_INVAL);
}

Test(nn_net, long_names_are_truncated)
{
	char name[200];
	memset(name, 'n', sizeof name - 1);
	name[sizeof name - 1] = '\0';
	struct nn_net net;
	char err[256];
	cr_assert_eq(nn_net_parse(&net, "input 1 1 1\nfc 1\n", name, err, sizeof err), 0, "%s",
	             err);
	cr_assert_eq(strlen(net.name), NN_NAME_LEN - 1);
}

/* ---- formatter ---- */

Test(nn_net, builtins_round_trip_through_the_text_format)
{
	const char *const *names = nn_net_builtin_names();
	for (size_t i = 0; names[i]; i++) {
		struct nn_net net = load_builtin(names[i]), back;
		char buf[2048], err[256];
		int n = nn_net_format(&net, buf, sizeof buf);
		cr_assert_gt(n, 0, "%s", names[i]);
		cr_assert_eq((size_t)n, strlen(buf), "%s", names[i]);
		cr_assert_eq(nn_net_format(&net, NULL, 0), n, "%s: measuring", names[i]);
		int rc = nn_net_parse(&back, buf, "copy", err, sizeof err);
		cr_assert_eq(rc, 0, "%s: %s\n%s", names[i], err, buf);
		assert_same_net(&net, &back, names[i]);
		cr_assert_str_eq(back.name, "copy");
		/* a short buffer: cut and terminated, the full length returned */
		char small[16];
		memset(small, 'x', sizeof small);
		cr_assert_eq(nn_net_format(&net, small, 10), n, "%s", names[i]);
		cr_assert_eq(strlen(small), 9, "%s", names[i]);
		cr_assert_eq(small[10], 'x', "%s", names[i]);
	}
	struct nn_net d = load_builtin("D");
	char buf[2048];
	cr_assert_gt(nn_net_format(&d, buf, sizeof buf), 0);
	cr_assert_str_eq(buf, "# network D\n"
	                      "input 28 28 1\n"
	                      "conv 5 5 stride 2 pad 2\n"
	                      "relu\n"
	                      "fc 100\n"
	                      "relu\n"
	                      "fc 10\n"
	                      "output asm\n");
	cr_assert_eq(nn_net_format(NULL, buf, sizeof buf), ERROR_INVAL);
	cr_assert_eq(nn_net_format(&d, NULL, 10), ERROR_INVAL);
	d.layer[1].kind = (enum nn_kind)99;
	cr_assert_eq(nn_net_format(&d, buf, sizeof buf), ERROR_INVAL);
}

Test(nn_net, check_catches_hand_made_mistakes)
{
	struct nn_net net = load_builtin("B");
	char err[256];
	cr_assert_eq(nn_net_check(&net, err, sizeof err), 0, "%s", err);
	net.layer[6].in_c = 15; /* fc claims 4x4x15 inputs */
	cr_assert_eq(nn_net_check(&net, err, sizeof err), ERROR_SHAPE);
	cr_assert_eq(strncmp(err, "layer 7 (fc 100):", 17), 0, "%s", err);
	net = load_builtin("B");
	net.layer[0].k = 29;
	cr_assert_eq(nn_net_check(&net, err, sizeof err), ERROR_SHAPE);
	cr_assert_str_eq(err, "layer 1 (conv 29 16): a 29x29 filter does not fit a 28x28 input");
	net = load_builtin("B");
	net.n_layers = 0;
	cr_assert_eq(nn_net_check(&net, err, sizeof err), ERROR_FORMAT);
	net.n_layers = NN_MAX_LAYERS + 1;
	cr_assert_eq(nn_net_check(&net, err, sizeof err), ERROR_RANGE);
	net = load_builtin("B");
	net.output = (enum nn_output)7;
	cr_assert_eq(nn_net_check(&net, err, sizeof err), ERROR_INVAL);
	cr_assert_eq(nn_net_check(NULL, err, sizeof err), ERROR_INVAL);
	/* a parsed net's messages use its lines */
	cr_assert_eq(nn_net_parse(&net, "input 8 8 1\n\nmaxpool 2\n", NULL, err, sizeof err), 0);
	net.layer[0].out_h = 3;
	cr_assert_eq(nn_net_check(&net, err, sizeof err), ERROR_SHAPE);
	cr_assert_eq(strncmp(err, "line 3 (maxpool 2):", 19), 0, "%s", err);
}

Test(nn_net, null_layers_have_no_size)
{
	cr_assert_eq(nn_layer_in_size(NULL), 0);
	cr_assert_eq(nn_layer_out_size(NULL), 0);
	cr_assert_eq(nn_layer_weights(NULL), 0);
	cr_assert_eq(nn_layer_biases(NULL), 0);
	cr_assert_eq(nn_net_params(NULL), 0);
	cr_assert_eq(nn_net_classes(NULL), 0);
}

/* ---- files ---- */

/* A temporary file holding n bytes of data; the path goes into path[64]. */
static void temp_file(char path[64], const char *data, size_t n)
{
	snprintf(path, 64, "/tmp/test_nn_net_XXXXXX");
	int fd = mkstemp(path);
	cr_assert_geq(fd, 0, "mkstemp");
	FILE *f = fdopen(fd, "wb");
	cr_assert_not_null(f);
	cr_assert_eq(fwrite(data, 1, n, f), n);
	cr_assert_eq(fclose(f), 0);
}

Test(nn_net, loads_a_file_and_builtin_names)
{
	static const char text[] = "input 28 28 1\nconv 5 6 pad 2\nrelu\nmaxpool 2\nfc 10\n"
	                           "output argmax\n";
	char path[64], err[512];
	temp_file(path, text, strlen(text));
	struct nn_net net;
	int rc = nn_net_load(&net, path, err, sizeof err);
	cr_assert_eq(rc, 0, "%s", err);
	cr_assert_str_eq(net.name, strrchr(path, '/') + 1);
	cr_assert_eq(net.n_layers, 4);
	cr_assert_eq(net.layer[0].out_h, 28);
	cr_assert_eq(nn_layer_in_size(&net.layer[3]), 14 * 14 * 6);
	cr_assert_eq(net.layer[3].line, 5);
	cr_assert_eq(net.output, NN_OUT_ARGMAX);
	unlink(path);

	/* a built-in name wins over the file system */
	cr_assert_eq(nn_net_load(&net, "C-bench", err, sizeof err), 0, "%s", err);
	cr_assert_str_eq(net.name, "C-bench");
	cr_assert_eq(net.n_layers, 10);
	cr_assert_eq(net.layer[0].line, 0);
}

Test(nn_net, load_errors_name_the_file)
{
	struct nn_net net;
	char err[512];
	const char *missing = "/nonexistent-dir/no-such-net.txt";
	cr_assert_eq(nn_net_load(&net, missing, err, sizeof err), ERROR_IO);
	cr_assert_neq(strstr(err, "cannot read '/nonexistent-dir/no-such-net.txt': No such file"),
	              NULL, "%s", err);
	cr_assert_neq(strstr(err, "A, B, C, D, A-bench, B-bench, C-bench, D-bench"), NULL, "%s",
	              err);
	cr_assert_eq(net.n_layers, 0);
	/* names are case-sensitive: "a-bench" is a (missing) path */
	cr_assert_eq(nn_net_load(&net, "a-bench", err, sizeof err), ERROR_IO, "%s", err);
	cr_assert_eq(nn_net_load(&net, "/tmp", err, sizeof err), ERROR_IO, "%s", err);
	cr_assert_neq(strstr(err, "cannot read '/tmp'"), NULL, "%s", err);
	cr_assert_eq(nn_net_load(NULL, "A", err, sizeof err), ERROR_INVAL);
	cr_assert_eq(nn_net_load(&net, NULL, err, sizeof err), ERROR_INVAL);

	/* a parse error is prefixed with the path */
	char path[64];
	static const char bad[] = "input 28 28 1\nfc 10 # fine\nmaxpool 3\n";
	temp_file(path, bad, strlen(bad));
	cr_assert_eq(nn_net_load(&net, path, err, sizeof err), ERROR_SHAPE);
	char want[160];
	snprintf(want, sizeof want, "%s: line 3 (maxpool 3): 3 does not divide 1x1", path);
	cr_assert_str_eq(err, want);
	unlink(path);

	/* a NUL byte */
	static const char nul[] = "input 28 28 1\nfc 10\0\n";
	temp_file(path, nul, sizeof nul - 1);
	cr_assert_eq(nn_net_load(&net, path, err, sizeof err), ERROR_FORMAT);
	cr_assert_neq(strstr(err, "NUL"), NULL, "%s", err);
	unlink(path);

	/* exactly 64 KiB is fine, one byte more is not */
	size_t max = 64 * 1024;
	char *big = malloc(max + 1);
	cr_assert_not_null(big);
	static const char head[] = "input 28 28 1\nfc 10\n#";
	memset(big, 'x', max + 1);
	memcpy(big, head, strlen(head));
	big[max - 1] = '\n';
	temp_file(path, big, max);
	cr_assert_eq(nn_net_load(&net, path, err, sizeof err), 0, "%s", err);
	cr_assert_eq(net.n_layers, 1);
	unlink(path);
	big[max] = '\n';
	temp_file(path, big, max + 1);
	cr_assert_eq(nn_net_load(&net, path, err, sizeof err), ERROR_RANGE);
	cr_assert_neq(strstr(err, "larger than 64 KiB"), NULL, "%s", err);
	cr_assert_eq(net.n_layers, 0);
	unlink(path);
	free(big);
}

/* relu + maxpool pairs run as maxpool + relu: C becomes C-bench's body. */
Test(nn_net, pool_first_rewrites_relu_maxpool_pairs)
{
	struct nn_net c = load_builtin("C"), cb = load_builtin("C-bench");
	cr_assert_eq(nn_net_pool_first(&c), 2);
	char err[256];
	cr_assert_eq(nn_net_check(&c, err, sizeof(err)), 0, "%s", err);
	/* The same layers as C-bench up to its extra last relu. */
	for (size_t i = 0; i < c.n_layers; i++) {
		cr_assert_eq(c.layer[i].kind, cb.layer[i].kind, "layer %zu", i);
		cr_assert_eq(c.layer[i].in_h, cb.layer[i].in_h, "layer %zu", i);
		cr_assert_eq(c.layer[i].out_h, cb.layer[i].out_h, "layer %zu", i);
		cr_assert_eq(c.layer[i].out_c, cb.layer[i].out_c, "layer %zu", i);
	}
	cr_assert_eq(nn_net_params(&c), nn_net_params(&cb));
	/* Nothing to rewrite: A, or a second pass. */
	struct nn_net a = load_builtin("A");
	cr_assert_eq(nn_net_pool_first(&a), 0);
	cr_assert_eq(nn_net_pool_first(&c), 0);
}
