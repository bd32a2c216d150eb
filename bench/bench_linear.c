/* Benchmark cases of the linear protocols: MatMul and Conv2d. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "conv2d.h"
#include "matmul.h"
#include "prg.h"
#include "ring_gemm.h"
#include "share.h"

/* Inputs, their shares and the output shares of one two-operand instance. */
struct lin_state {
	size_t nx, ny, nz;        /* element counts of X, Y, Z */
	ring_t *x, *y;            /* plaintext operands */
	ring_t *xs[2], *ys[2];    /* P0's and P1's shares */
	ring_t *zs[2];            /* output shares */
	struct conv2d_shape conv; /* conv2d only */
	size_t m, n, v;           /* MatMul dimensions (im2col ones for conv2d) */
};

static void lin_release(struct bench_inst *b)
{
	struct lin_state *st = b->state;
	if (!st)
		return;
	free(st->x);
	free(st->y);
	for (int j = 0; j < 2; j++) {
		free(st->xs[j]);
		free(st->ys[j]);
		free(st->zs[j]);
	}
	free(st);
	b->state = NULL;
}

static int lin_alloc(struct bench_inst *b, size_t nx, size_t ny, size_t nz, uint64_t seed,
		     char *err, size_t len)
{
	struct lin_state *st = calloc(1, sizeof(*st));
	if (!st)
		goto oom;
	b->state = st;
	st->nx = nx;
	st->ny = ny;
	st->nz = nz;
	st->x = malloc(nx * sizeof(ring_t));
	st->y = malloc(ny * sizeof(ring_t));
	if (!st->x || !st->y)
		goto oom;
	for (int j = 0; j < 2; j++) {
		st->xs[j] = malloc(nx * sizeof(ring_t));
		st->ys[j] = malloc(ny * sizeof(ring_t));
		st->zs[j] = malloc(nz * sizeof(ring_t));
		if (!st->xs[j] || !st->ys[j] || !st->zs[j])
			goto oom;
	}
	/* Uniform ring inputs: the protocols are exact over Z_2^64. */
	struct prg g;
	bench_stream(&g, seed, "bench-inputs");
	prg_u64s(&g, st->x, nx);
	prg_u64s(&g, st->y, ny);
	prg_finish(&g);
	bench_stream(&g, seed, "owner");
	share_split(&g, st->xs[0], st->xs[1], st->x, nx);
	share_split(&g, st->ys[0], st->ys[1], st->y, ny);
	prg_finish(&g);
	for (int i = 0; i < PARTY_COUNT; i++)
		b->args[i] = st; /* each party reads only its own shares */
	return 0;
oom:
	snprintf(err, len, "out of memory for inputs of %s %s", b->bc->name, b->dims_text);
	lin_release(b);
	return ERROR_NOMEM;
}

static int lin_compare(struct bench_inst *b, const ring_t *want, char *err, size_t len)
{
	struct lin_state *st = b->state;
	for (size_t i = 0; i < st->nz; i++) {
		ring_t got = st->zs[0][i] + st->zs[1][i];
		if (got != want[i]) {
			snprintf(err, len, "%s %s: output %zu is %llu, plaintext gives %llu", b->bc->name,
				 b->dims_text, i, (unsigned long long)got, (unsigned long long)want[i]);
			return ERROR_PROTOCOL;
		}
	}
	return 0;
}

/* ---- MatMul (m, n, v) ---- */

static int matmul_prepare(struct bench_inst *b, uint64_t seed, char *err, size_t len)
{
	size_t m = b->dims[0], n = b->dims[1], v = b->dims[2];
	TRY(lin_alloc(b, m * n, n * v, m * v, seed, err, len));
	struct lin_state *st = b->state;
	st->m = m;
	st->n = n;
	st->v = v;
	return 0;
}

static int matmul_fn(struct party *p, void *arg)
{
	struct lin_state *st = arg;
	if (p->id == 2)
		return matmul(p, NULL, NULL, NULL, st->m, st->n, st->v, 0);
	return matmul(p, st->zs[p->id], st->xs[p->id], st->ys[p->id], st->m, st->n, st->v, 0);
}

static int matmul_verify(struct bench_inst *b, char *err, size_t len)
{
	struct lin_state *st = b->state;
	ring_t *want = malloc(st->nz * sizeof(ring_t));
	if (!want) {
		snprintf(err, len, "out of memory");
		return ERROR_NOMEM;
	}
	ring_gemm_naive(want, st->x, st->y, st->m, st->n, st->v, 0);
	int rc = lin_compare(b, want, err, len);
	free(want);
	return rc;
}

static uint64_t matmul_formula(const struct bench_inst *b)
{
	const struct lin_state *st = b->state;
	return matmul_bytes(st->m, st->n, st->v);
}

static unsigned two_rounds(const struct bench_inst *b)
{
	(void)b;
	return 2;
}

static const char *matmul_paper_dims(const struct bench_inst *b, char *buf, size_t len)
{
	snprintf(buf, len, "m=%zu,n=%zu,v=%zu", b->dims[0], b->dims[1], b->dims[2]);
	return buf;
}

const struct bench_case bench_case_matmul = {
	.name = "matmul",
	.dims_names = "m,n,v",
	.n_dims = 3,
	.summary = "X (m x n) times Y (n x v) over Z_2^64 (Alg. 1 with PRF triplets)",
	.prepare = matmul_prepare,
	.fn = matmul_fn,
	.verify = matmul_verify,
	.formula_bytes = matmul_formula,
	.paper_rounds = two_rounds,
	.paper_dims = matmul_paper_dims,
	.paper_item = "matmul",
	.release = lin_release,
};

/* ---- Conv2d (m, f, i, o): m x m input, f x f filter, i in, o out channels ---- */

static int conv_prepare(struct bench_inst *b, uint64_t seed, char *err, size_t len)
{
	struct conv2d_shape s = {
		.batch = 1, .height = b->dims[0], .width = b->dims[0], .in_ch = b->dims[2],
		.out_ch = b->dims[3], .kernel = b->dims[1], .stride = 1, .pad = 0,
	};
	size_t oh, ow, m, n, v;
	TRY(conv2d_dims(&s, &oh, &ow, &m, &n, &v, err, len));
	TRY(lin_alloc(b, s.height * s.width * s.in_ch, n * v, m * v, seed, err, len));
	struct lin_state *st = b->state;
	st->conv = s;
	st->m = m;
	st->n = n;
	st->v = v;
	return 0;
}

static int conv_fn(struct party *p, void *arg)
{
	struct lin_state *st = arg;
	if (p->id == 2)
		return conv2d(p, NULL, NULL, NULL, &st->conv);
	return conv2d(p, st->zs[p->id], st->xs[p->id], st->ys[p->id], &st->conv);
}

static int conv_verify(struct bench_inst *b, char *err, size_t len)
{
	struct lin_state *st = b->state;
	ring_t *cols = malloc(st->m * st->n * sizeof(ring_t));
	ring_t *want = malloc(st->nz * sizeof(ring_t));
	int rc = ERROR_NOMEM;
	snprintf(err, len, "out of memory");
	if (cols && want) {
		conv2d_im2col(cols, st->x, &st->conv);
		ring_gemm_naive(want, cols, st->y, st->m, st->n, st->v, 0);
		rc = lin_compare(b, want, err, len);
	}
	free(cols);
	free(want);
	return rc;
}

static const char *conv_paper_dims(const struct bench_inst *b, char *buf, size_t len)
{
	snprintf(buf, len, "m=%zu,f=%zu,i=%zu,o=%zu", b->dims[0], b->dims[1], b->dims[2], b->dims[3]);
	return buf;
}

const struct bench_case bench_case_conv2d = {
	.name = "conv2d",
	.dims_names = "m,f,i,o",
	.n_dims = 4,
	.summary = "valid convolution of an m x m x i input with o f x f filters (im2col + MatMul)",
	.prepare = conv_prepare,
	.fn = conv_fn,
	.verify = conv_verify,
	.formula_bytes = matmul_formula,
	.paper_rounds = two_rounds,
	.paper_dims = conv_paper_dims,
	.paper_item = "conv2d",
	.release = lin_release,
};
