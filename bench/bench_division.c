/* Benchmark case of Π_DIV (fixed-point long division, f = 13), with the
 * inputs of its use in ASM: x_k a ReLU output and y the sum of the ten
 * ReLU outputs of x_k's group, so 0 <= x_k <= y. Dims: n, the number of
 * divisions (n / 10 groups of ten; a last smaller group if n is not a
 * multiple of 10). Table 8 has no division row. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "division.h"
#include "fixed.h"
#include "prg.h"
#include "share.h"

#define DIV_GROUP 10 /* ASM over a 10-way output layer */

struct div_state {
	size_t n;          /* divisions */
	ring_t *x, *y;     /* plaintext operands (n each), fixed point */
	ring_t *xs[2];     /* P0's and P1's shares of x */
	ring_t *ys[2];     /* shares of y */
	ring_t *qs[2];     /* output shares */
};

static void div_release(struct bench_inst *b)
{
	struct div_state *st = b->state;
	if (!st)
		return;
	free(st->x);
	free(st->y);
	for (int j = 0; j < 2; j++) {
		free(st->xs[j]);
		free(st->ys[j]);
		free(st->qs[j]);
	}
	free(st);
	b->state = NULL;
}

/* A ReLU output: max(u, 0) for u uniform in (-4, 4), fixed point (|u| < 2^15). */
static ring_t relu_draw(struct prg *g)
{
	ring_t r = prg_u64(g);
	ring_t mag = r & ((UINT64_C(1) << (FIXED_FRAC_BITS + 2)) - 1);
	return (r >> 63) ? 0 : mag;
}

static int div_prepare(struct bench_inst *b, uint64_t seed, char *err, size_t len)
{
	size_t n = b->dims[0];
	if (n > SIZE_MAX / 1024) {
		snprintf(err, len, "division: %zu divisions is too many", n);
		return ERROR_RANGE;
	}
	struct div_state *st = calloc(1, sizeof(*st));
	if (!st)
		goto oom;
	b->state = st;
	st->n = n;
	st->x = malloc(n * sizeof(ring_t));
	st->y = malloc(n * sizeof(ring_t));
	if (!st->x || !st->y)
		goto oom;
	for (int j = 0; j < 2; j++) {
		st->xs[j] = malloc(n * sizeof(ring_t));
		st->ys[j] = malloc(n * sizeof(ring_t));
		st->qs[j] = malloc(n * sizeof(ring_t));
		if (!st->xs[j] || !st->ys[j] || !st->qs[j])
			goto oom;
	}
	struct prg g;
	bench_stream(&g, seed, "bench-inputs");
	for (size_t start = 0; start < n; start += DIV_GROUP) {
		size_t end = n - start < DIV_GROUP ? n : start + DIV_GROUP;
		ring_t sum = 0;
		for (size_t k = start; k < end; k++) {
			st->x[k] = relu_draw(&g);
			sum += st->x[k];
		}
		/* A group of zeros would divide by 0: give it one positive output. */
		while (sum == 0) {
			st->x[start] = relu_draw(&g);
			sum = st->x[start];
		}
		for (size_t k = start; k < end; k++)
			st->y[k] = sum;
	}
	prg_finish(&g);
	bench_stream(&g, seed, "owner");
	share_split(&g, st->xs[0], st->xs[1], st->x, n);
	share_split(&g, st->ys[0], st->ys[1], st->y, n);
	prg_finish(&g);
	for (int i = 0; i < PARTY_COUNT; i++)
		b->args[i] = st; /* each party reads only its own shares */
	return 0;
oom:
	snprintf(err, len, "out of memory for %s %s", b->bc->name, b->dims_text);
	div_release(b);
	return ERROR_NOMEM;
}

static int div_fn(struct party *p, void *arg)
{
	struct div_state *st = arg;
	if (p->id == 2)
		return division(p, NULL, NULL, NULL, st->n, FIXED_FRAC_BITS);
	return division(p, st->qs[p->id], st->xs[p->id], st->ys[p->id], st->n, FIXED_FRAC_BITS);
}

/* Plaintext: q* = min(floor(x·2^f / y), 2^f - 1); the protocol may differ
 * by ceil(f·2^f / y) ulps (division.h). */
static int div_verify(struct bench_inst *b, char *err, size_t len)
{
	const struct div_state *st = b->state;
	const unsigned f = FIXED_FRAC_BITS;
	const ring_t top = ((ring_t)1 << f) - 1;
	for (size_t i = 0; i < st->n; i++) {
		ring_t got = st->qs[0][i] + st->qs[1][i];
		ring_t want = (st->x[i] << f) / st->y[i];
		want = want < top ? want : top;
		ring_t bound = (((ring_t)f << f) + st->y[i] - 1) / st->y[i];
		ring_t diff = got > want ? got - want : want - got;
		if (diff > bound) {
			snprintf(err, len,
				 "%s %s: output %zu is %llu/2^%u, plaintext gives %llu/2^%u (x %llu, y %llu;"
				 " allowed error %llu ulps)",
				 b->bc->name, b->dims_text, i, (unsigned long long)got, f,
				 (unsigned long long)want, f, (unsigned long long)st->x[i],
				 (unsigned long long)st->y[i], (unsigned long long)bound);
			return ERROR_PROTOCOL;
		}
	}
	return 0;
}

static uint64_t div_formula(const struct bench_inst *b)
{
	return division_bytes(((const struct div_state *)b->state)->n, FIXED_FRAC_BITS);
}

/* Table 2: 10·l_D rounds. */
static unsigned div_rounds(const struct bench_inst *b)
{
	(void)b;
	return 10 * FIXED_FRAC_BITS;
}

const struct bench_case bench_case_division = {
	.name = "division",
	.dims_names = "n",
	.n_dims = 1,
	.summary = "n fixed-point divisions x/y, 0 <= x <= y, 13 bits (long division, as in ASM)",
	.prepare = div_prepare,
	.fn = div_fn,
	.verify = div_verify,
	.formula_bytes = div_formula,
	.paper_rounds = div_rounds,
	.paper_dims = NULL,
	.paper_item = NULL,
	.release = div_release,
};
