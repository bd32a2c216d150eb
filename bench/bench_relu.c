/* Benchmark cases of DReLU and ReLU (after DReLU), Table 8. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "prg.h"
#include "relu.h"
#include "share.h"

struct relu_state {
	size_t n;              /* elements */
	ring_t *a;             /* plaintext inputs, |a| < 2^40 */
	ring_t *bits;          /* plaintext DReLU(a) */
	ring_t *as[2];         /* shares of a */
	ring_t *bs[2];         /* shares of the DReLU bits (relu_after_drelu input) */
	ring_t *out[2];        /* output shares */
};

static void relu_release(struct bench_inst *b)
{
	struct relu_state *st = b->state;
	if (!st)
		return;
	free(st->a);
	free(st->bits);
	for (int j = 0; j < 2; j++) {
		free(st->as[j]);
		free(st->bs[j]);
		free(st->out[j]);
	}
	free(st);
	b->state = NULL;
}

static int relu_prepare(struct bench_inst *b, uint64_t seed, char *err, size_t len)
{
	size_t n = b->dims[0] * b->dims[1];
	struct relu_state *st = calloc(1, sizeof(*st));
	if (!st)
		goto oom;
	b->state = st;
	st->n = n;
	st->a = malloc(n * sizeof(ring_t));
	st->bits = malloc(n * sizeof(ring_t));
	if (!st->a || !st->bits)
		goto oom;
	for (int j = 0; j < 2; j++) {
		st->as[j] = malloc(n * sizeof(ring_t));
		st->bs[j] = malloc(n * sizeof(ring_t));
		st->out[j] = malloc(n * sizeof(ring_t));
		if (!st->as[j] || !st->bs[j] || !st->out[j])
			goto oom;
	}
	struct prg g;
	bench_stream(&g, seed, "bench-inputs");
	prg_u64s(&g, st->a, n);
	for (size_t i = 0; i < n; i++) {
		/* Signed fixed-point-like values with |a| < 2^40. */
		ring_t mag = st->a[i] & ((UINT64_C(1) << 40) - 1);
		st->a[i] = (st->a[i] >> 63) ? (ring_t)0 - mag : mag;
		st->bits[i] = ring_signed(st->a[i]) >= 0;
	}
	prg_finish(&g);
	bench_stream(&g, seed, "owner");
	share_split(&g, st->as[0], st->as[1], st->a, n);
	share_split(&g, st->bs[0], st->bs[1], st->bits, n);
	prg_finish(&g);
	for (int i = 0; i < PARTY_COUNT; i++)
		b->args[i] = st; /* each party reads only its own shares */
	return 0;
oom:
	snprintf(err, len, "out of memory for %s %s", b->bc->name, b->dims_text);
	relu_release(b);
	return ERROR_NOMEM;
}

static int drelu_fn(struct party *p, void *arg)
{
	struct relu_state *st = arg;
	if (p->id == 2)
		return drelu(p, NULL, NULL, st->n);
	return drelu(p, st->out[p->id], st->as[p->id], st->n);
}

static int relu_after_fn(struct party *p, void *arg)
{
	struct relu_state *st = arg;
	if (p->id == 2)
		return relu_from_drelu(p, NULL, NULL, NULL, st->n);
	return relu_from_drelu(p, st->out[p->id], st->bs[p->id], st->as[p->id], st->n);
}

static int check(struct bench_inst *b, int want_relu, char *err, size_t len)
{
	struct relu_state *st = b->state;
	for (size_t i = 0; i < st->n; i++) {
		ring_t got = st->out[0][i] + st->out[1][i];
		ring_t want = want_relu ? (st->bits[i] ? st->a[i] : 0) : st->bits[i];
		if (got != want) {
			snprintf(err, len, "%s %s: output %zu is %lld, plaintext gives %lld", b->bc->name,
				 b->dims_text, i, (long long)ring_signed(got), (long long)ring_signed(want));
			return ERROR_PROTOCOL;
		}
	}
	return 0;
}

static int drelu_verify(struct bench_inst *b, char *err, size_t len)
{
	return check(b, 0, err, len);
}

static int relu_verify(struct bench_inst *b, char *err, size_t len)
{
	return check(b, 1, err, len);
}

static uint64_t drelu_formula(const struct bench_inst *b)
{
	return 664 * (uint64_t)((const struct relu_state *)b->state)->n;
}

static uint64_t relu_formula(const struct bench_inst *b)
{
	return 40 * (uint64_t)((const struct relu_state *)b->state)->n;
}

static unsigned drelu_rounds(const struct bench_inst *b)
{
	(void)b;
	return 8;
}

static unsigned relu_rounds(const struct bench_inst *b)
{
	(void)b;
	return 2;
}

static const char *relu_paper_dims(const struct bench_inst *b, char *buf, size_t len)
{
	snprintf(buf, len, "%zux%zu", b->dims[0], b->dims[1]);
	return buf;
}

const struct bench_case bench_case_drelu = {
	.name = "drelu",
	.dims_names = "rows,cols",
	.n_dims = 2,
	.summary = "ReLU'(a) of rows x cols values (Alg. 6: ShareConvert + ComputeMSB)",
	.prepare = relu_prepare,
	.fn = drelu_fn,
	.verify = drelu_verify,
	.formula_bytes = drelu_formula,
	.paper_rounds = drelu_rounds,
	.paper_dims = relu_paper_dims,
	.paper_item = "drelu",
	.release = relu_release,
};

const struct bench_case bench_case_relu = {
	.name = "relu",
	.dims_names = "rows,cols",
	.n_dims = 2,
	.summary = "ReLU after DReLU: the product with known DReLU bits (Alg. 7)",
	.prepare = relu_prepare,
	.fn = relu_after_fn,
	.verify = relu_verify,
	.formula_bytes = relu_formula,
	.paper_rounds = relu_rounds,
	.paper_dims = relu_paper_dims,
	.paper_item = "relu_after_drelu",
	.release = relu_release,
};
