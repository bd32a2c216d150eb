#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "conv2d.h"
#include "matmul.h"
#include "support.h"

/* Direct convolution, no im2col: the plaintext reference. */
static void conv_reference(ring_t *out, const ring_t *in, const ring_t *k, const struct conv2d_shape *s)
{
	size_t f = s->kernel;
	size_t oh = (s->height + 2 * s->pad - f) / s->stride + 1;
	size_t ow = (s->width + 2 * s->pad - f) / s->stride + 1;
	for (size_t b = 0; b < s->batch; b++)
		for (size_t oy = 0; oy < oh; oy++)
			for (size_t ox = 0; ox < ow; ox++)
				for (size_t o = 0; o < s->out_ch; o++) {
					ring_t acc = 0;
					for (size_t ky = 0; ky < f; ky++)
						for (size_t kx = 0; kx < f; kx++)
							for (size_t c = 0; c < s->in_ch; c++) {
								long y = (long)(oy * s->stride + ky) - (long)s->pad;
								long x = (long)(ox * s->stride + kx) - (long)s->pad;
								if (y < 0 || x < 0 || y >= (long)s->height ||
								    x >= (long)s->width)
									continue;
								ring_t a = in[((b * s->height + (size_t)y) * s->width +
									       (size_t)x) * s->in_ch + c];
								ring_t w = k[((ky * f + kx) * s->in_ch + c) * s->out_ch + o];
								acc += a * w;
							}
					out[((b * oh + oy) * ow + ox) * s->out_ch + o] = acc;
				}
}

struct conv_arg {
	const ring_t *in, *k; /* shares (NULL at P2) */
	ring_t *out;          /* share of the output */
	struct conv2d_shape s;
};

static int conv_fn(struct party *p, void *v)
{
	struct conv_arg *a = v;
	return conv2d(p, a->out, a->in, a->k, &a->s);
}

static void check_conv(uint64_t seed, struct conv2d_shape s)
{
	size_t oh, ow, m, n, v;
	char err[160];
	cr_assert_eq(conv2d_dims(&s, &oh, &ow, &m, &n, &v, err, sizeof(err)), 0, "%s", err);
	size_t nin = s.batch * s.height * s.width * s.in_ch, nk = n * v, nout = m * v;
	ring_t *in = support_alloc(nin), *k = support_alloc(nk), *want = support_alloc(nout);
	ring_t *i0 = support_alloc(nin), *i1 = support_alloc(nin), *k0 = support_alloc(nk);
	ring_t *k1 = support_alloc(nk), *o0 = support_alloc(nout), *o1 = support_alloc(nout);
	uint64_t st = seed;
	support_fill(&st, in, nin);
	support_fill(&st, k, nk);
	conv_reference(want, in, k, &s);
	support_share(seed, i0, i1, in, nin);
	support_share(seed + 1, k0, k1, k, nk);
	struct conv_arg a0 = { i0, k0, o0, s }, a1 = { i1, k1, o1, s }, a2 = { NULL, NULL, NULL, s };
	void *args[3] = { &a0, &a1, &a2 };
	struct sim_config cfg;
	support_config(&cfg, seed);
	struct sim_result res;
	support_run_ok(&cfg, conv_fn, args, &res);
	for (size_t i = 0; i < nout; i++)
		cr_assert_eq(o0[i] + o1[i], want[i],
			     "seed %llu in %zux%zux%zu b%zu f%zu o%zu s%zu p%zu: index %zu",
			     (unsigned long long)seed, s.height, s.width, s.in_ch, s.batch, s.kernel,
			     s.out_ch, s.stride, s.pad, i);
	/* Communication: MatMul on the im2col matrix, (2mn + 2nv + mv)·8 bytes. */
	cr_assert_eq(sim_result_bytes(&res), matmul_bytes(m, n, v));
	cr_assert_leq(res.rounds, 2);
	sim_result_finish(&res);
	free(in);
	free(k);
	free(want);
	free(i0);
	free(i1);
	free(k0);
	free(k1);
	free(o0);
	free(o1);
}

Test(conv2d, worked_example_3x3_input_2x2_kernel, .timeout = 20)
{
	/* Paper section 5.1: 3x3 input, 2x2 kernel, 4 outputs. */
	ring_t in[9] = { 1, 2, 3, 4, 5, 6, 7, 8, 9 }, k[4] = { 1, 0, 0, 1 }, want[4] = { 6, 8, 12, 14 };
	ring_t out[4];
	struct conv2d_shape s = { .batch = 1, .height = 3, .width = 3, .in_ch = 1, .out_ch = 1, .kernel = 2, .stride = 1 };
	conv_reference(out, in, k, &s);
	for (int i = 0; i < 4; i++)
		cr_assert_eq(out[i], want[i], "reference, index %d", i);
	ring_t cols[16];
	conv2d_im2col(cols, in, &s);
	static const ring_t rows[16] = { 1, 2, 4, 5, 2, 3, 5, 6, 4, 5, 7, 8, 5, 6, 8, 9 };
	for (int i = 0; i < 16; i++)
		cr_assert_eq(cols[i], rows[i], "im2col index %d", i);
	check_conv(1, s);
}

Test(conv2d, matches_plaintext_on_random_shapes, .timeout = 60)
{
	static const size_t shapes[][8] = {
		/* batch, h, w, in, out, f, stride, pad */
		{ 1, 28, 28, 1, 20, 5, 1, 0 }, { 1, 28, 28, 1, 20, 3, 1, 0 }, { 1, 8, 8, 16, 50, 5, 1, 0 },
		{ 2, 12, 12, 3, 4, 5, 1, 0 }, { 1, 7, 9, 2, 3, 3, 2, 1 }, { 3, 5, 5, 1, 1, 5, 1, 0 },
		{ 1, 6, 6, 1, 2, 3, 3, 2 }, { 1, 1, 1, 1, 1, 1, 1, 0 }, { 2, 10, 4, 3, 5, 4, 2, 3 },
		{ 1, 28, 28, 1, 5, 5, 2, 2 },
	};
	for (size_t t = 0; t < sizeof(shapes) / sizeof(shapes[0]); t++) {
		const size_t *d = shapes[t];
		struct conv2d_shape s = { d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7] };
		check_conv(500 + t, s);
	}
}

Test(conv2d, table8_bytes_use_valid_output_positions)
{
	/* Table 8 rows: 0.42, 0.2, 0.33 MB; section 9: 428800, 208384, 330560 bytes. */
	static const size_t rows[][5] = { { 8, 5, 16, 50, 428800 }, { 28, 3, 1, 20, 208384 }, { 28, 5, 1, 20, 330560 } };
	for (int r = 0; r < 3; r++) {
		struct conv2d_shape s = { .batch = 1, .height = rows[r][0], .width = rows[r][0],
					  .in_ch = rows[r][2], .out_ch = rows[r][3], .kernel = rows[r][1],
					  .stride = 1 };
		size_t oh, ow, m, n, v;
		char err[160];
		cr_assert_eq(conv2d_dims(&s, &oh, &ow, &m, &n, &v, err, sizeof(err)), 0);
		cr_assert_eq(oh, rows[r][0] - rows[r][1] + 1);
		cr_assert_eq(matmul_bytes(m, n, v), rows[r][4], "row %d: %zu", r, matmul_bytes(m, n, v));
	}
}

Test(conv2d, shapes_that_do_not_fit_are_refused)
{
	size_t oh, ow, m, n, v;
	char err[160];
	struct conv2d_shape big = { .batch = 1, .height = 4, .width = 4, .in_ch = 1, .out_ch = 1, .kernel = 5, .stride = 1 };
	cr_assert_eq(conv2d_dims(&big, &oh, &ow, &m, &n, &v, err, sizeof(err)), ERROR_SHAPE);
	cr_assert_neq(strstr(err, "does not fit"), NULL, "%s", err);
	big.pad = 1; /* 6x6 padded: fits */
	cr_assert_eq(conv2d_dims(&big, &oh, &ow, &m, &n, &v, err, sizeof(err)), 0);
	cr_assert_eq(oh, 2);
	struct conv2d_shape nostride = { .batch = 1, .height = 4, .width = 4, .in_ch = 1, .out_ch = 1, .kernel = 2 };
	cr_assert_eq(conv2d_dims(&nostride, &oh, &ow, &m, &n, &v, err, sizeof(err)), ERROR_SHAPE);
	struct conv2d_shape zero = { .batch = 1, .height = 4, .width = 0, .in_ch = 1, .out_ch = 1, .kernel = 2, .stride = 1 };
	cr_assert_eq(conv2d_dims(&zero, &oh, &ow, &m, &n, &v, err, sizeof(err)), ERROR_SHAPE);
}
