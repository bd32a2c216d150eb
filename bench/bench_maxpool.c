/* Benchmark cases of MaxPool (Alg. 9, with argmax) and of its derivative
 * (Alg. 10 plus the back-propagation product, as Table 8 measures it).
 *
 * Dims for both: h,w,c,k, an h x w x c feature map pooled with k x k
 * windows (stride k): n_windows = (h/k)·(w/k)·c windows of k·k values.
 * The protocols only see windows, so the inputs are drawn window-major
 * (n_windows x k·k) directly; the feature-map layout would change nothing
 * but a local gather. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "matmul.h"
#include "maxpool.h"
#include "prg.h"
#include "share.h"

/* Inputs, their shares and the output shares of one instance. */
struct mp_state {
	size_t n_windows;   /* (h/k)·(w/k)·c */
	size_t window;      /* k·k values per window */
	ring_t *x;          /* maxpool: plaintext windows (n_windows x window);
	                       dmaxpool: plaintext argmax (n_windows) */
	ring_t *grad;       /* dmaxpool: plaintext incoming gradient (n_windows) */
	ring_t *xs[2];      /* P0's and P1's shares of x */
	ring_t *gs[2];      /* dmaxpool: shares of grad */
	ring_t *out[2];     /* maxpool: max shares (n_windows);
	                       dmaxpool: routed gradient shares (n_windows x window) */
	ring_t *ind[2];     /* maxpool: argmax shares (n_windows) */
};

static void mp_release(struct bench_inst *b)
{
	struct mp_state *st = b->state;
	if (!st)
		return;
	free(st->x);
	free(st->grad);
	for (int j = 0; j < 2; j++) {
		free(st->xs[j]);
		free(st->gs[j]);
		free(st->out[j]);
		free(st->ind[j]);
	}
	free(st);
	b->state = NULL;
}

/* n_windows and window size from h,w,c,k, or ERROR_SHAPE / ERROR_RANGE. */
static int mp_dims(const struct bench_inst *b, size_t *n_windows, size_t *window, char *err,
		   size_t len)
{
	size_t h = b->dims[0], w = b->dims[1], c = b->dims[2], k = b->dims[3];
	if (k == 0 || h % k != 0 || w % k != 0) {
		snprintf(err, len, "%s %s: the window size k = %zu must divide h = %zu and w = %zu",
			 b->bc->name, b->dims_text, k, h, w);
		return ERROR_SHAPE;
	}
	size_t oh = h / k, ow = w / k;
	/* Every array below holds at most n_windows·k·k values of 8 bytes. */
	size_t lim = SIZE_MAX / 64;
	if (k > lim / k || oh > lim / ow || oh * ow > lim / c || oh * ow * c > lim / (k * k)) {
		snprintf(err, len, "%s %s: too large", b->bc->name, b->dims_text);
		return ERROR_RANGE;
	}
	*n_windows = oh * ow * c;
	*window = k * k;
	return 0;
}

/* Allocate the state: n_x plaintext inputs, n_out outputs per party, and
 * (dmaxpool) the gradient. */
static int mp_alloc(struct bench_inst *b, size_t n_windows, size_t window, size_t n_x,
		    size_t n_out, int with_grad, char *err, size_t len)
{
	struct mp_state *st = calloc(1, sizeof(*st));
	if (!st)
		goto oom;
	b->state = st;
	st->n_windows = n_windows;
	st->window = window;
	st->x = malloc(n_x * sizeof(ring_t));
	if (!st->x)
		goto oom;
	if (with_grad && !(st->grad = malloc(n_windows * sizeof(ring_t))))
		goto oom;
	for (int j = 0; j < 2; j++) {
		st->xs[j] = malloc(n_x * sizeof(ring_t));
		st->out[j] = malloc(n_out * sizeof(ring_t));
		st->ind[j] = malloc(n_windows * sizeof(ring_t));
		if (!st->xs[j] || !st->out[j] || !st->ind[j])
			goto oom;
		if (with_grad && !(st->gs[j] = malloc(n_windows * sizeof(ring_t))))
			goto oom;
	}
	for (int i = 0; i < PARTY_COUNT; i++)
		b->args[i] = st; /* each party reads only its own shares */
	return 0;
oom:
	snprintf(err, len, "out of memory for inputs of %s %s", b->bc->name, b->dims_text);
	mp_release(b);
	return ERROR_NOMEM;
}

/* Signed values with |v| < 2^bits from g. */
static void fill_signed(struct prg *g, ring_t *v, size_t n, unsigned bits)
{
	prg_u64s(g, v, n);
	for (size_t i = 0; i < n; i++) {
		ring_t mag = v[i] & (((ring_t)1 << bits) - 1);
		v[i] = (v[i] >> 63) ? (ring_t)0 - mag : mag;
	}
}

/* Share x (n values) into xs[0], xs[1] with the data owner's stream. */
static void owner_share(uint64_t seed, const char *label, ring_t *s0, ring_t *s1, const ring_t *x,
			size_t n)
{
	struct prg g;
	bench_stream(&g, seed, label);
	share_split(&g, s0, s1, x, n);
	prg_finish(&g);
}

static const char *mp_paper_dims(const struct bench_inst *b, char *buf, size_t len)
{
	snprintf(buf, len, "%zux%zux%zu,%zux%zu", b->dims[0], b->dims[1], b->dims[2], b->dims[3],
		 b->dims[3]);
	return buf;
}

/* ---- MaxPool with argmax ---- */

static int maxpool_prepare(struct bench_inst *b, uint64_t seed, char *err, size_t len)
{
	size_t n = 0, win = 0;
	TRY(mp_dims(b, &n, &win, err, len));
	TRY(mp_alloc(b, n, win, n * win, n, 0, err, len));
	struct mp_state *st = b->state;
	/* Signed inputs, |x| < 2^40: well inside DReLU's precondition. */
	struct prg g;
	bench_stream(&g, seed, "bench-inputs");
	fill_signed(&g, st->x, n * win, 40);
	prg_finish(&g);
	owner_share(seed, "owner", st->xs[0], st->xs[1], st->x, n * win);
	return 0;
}

static int maxpool_fn(struct party *p, void *arg)
{
	struct mp_state *st = arg;
	if (p->id == 2) {
		/* P2's argmax only says "with index" (never dereferenced). */
		ring_t with_index;
		return maxpool(p, NULL, &with_index, NULL, st->n_windows, st->window);
	}
	return maxpool(p, st->out[p->id], st->ind[p->id], st->xs[p->id], st->n_windows, st->window);
}

static int maxpool_verify(struct bench_inst *b, char *err, size_t len)
{
	struct mp_state *st = b->state;
	size_t k = st->window;
	for (size_t v = 0; v < st->n_windows; v++) {
		/* Plaintext scan; ties go to the later index. */
		const ring_t *x = st->x + v * k;
		ring_t want = x[0], want_ind = 0;
		for (size_t i = 1; i < k; i++) {
			if (ring_signed(x[i]) >= ring_signed(want)) {
				want = x[i];
				want_ind = i;
			}
		}
		ring_t got = st->out[0][v] + st->out[1][v];
		ring_t got_ind = st->ind[0][v] + st->ind[1][v];
		if (got != want || got_ind != want_ind) {
			snprintf(err, len, "%s %s: window %zu gives max %lld at %llu, plaintext %lld at %llu",
				 b->bc->name, b->dims_text, v, (long long)ring_signed(got),
				 (unsigned long long)got_ind, (long long)ring_signed(want),
				 (unsigned long long)want_ind);
			return ERROR_PROTOCOL;
		}
	}
	return 0;
}

/* Section 9: 744 bytes per window and comparison (one DReLU, two selections). */
static uint64_t maxpool_formula(const struct bench_inst *b)
{
	const struct mp_state *st = b->state;
	return (uint64_t)744 * (st->window - 1) * st->n_windows;
}

static unsigned maxpool_rounds(const struct bench_inst *b)
{
	const struct mp_state *st = b->state;
	return 9u * (unsigned)(st->window - 1);
}

const struct bench_case bench_case_maxpool = {
	.name = "maxpool",
	.dims_names = "h,w,c,k",
	.n_dims = 4,
	.summary = "max and argmax of the k x k windows of an h x w x c map (Alg. 9)",
	.prepare = maxpool_prepare,
	.fn = maxpool_fn,
	.verify = maxpool_verify,
	.formula_bytes = maxpool_formula,
	.paper_rounds = maxpool_rounds,
	.paper_dims = mp_paper_dims,
	.paper_item = "maxpool",
	.release = mp_release,
};

/* ---- Derivative of MaxPool, with the back-propagation product ---- */

static int dmaxpool_prepare(struct bench_inst *b, uint64_t seed, char *err, size_t len)
{
	size_t n = 0, win = 0;
	TRY(mp_dims(b, &n, &win, err, len));
	if (win & (win - 1)) {
		snprintf(err, len, "%s %s: Alg. 10 needs a power-of-two window; k = %zu gives %zu",
			 b->bc->name, b->dims_text, b->dims[3], win);
		return ERROR_UNSUPPORTED;
	}
	TRY(mp_alloc(b, n, win, n, n * win, 1, err, len));
	struct mp_state *st = b->state;
	struct prg g;
	bench_stream(&g, seed, "bench-inputs");
	/* Argmax indices, uniform in [0, k·k); gradients fixed point (13
	 * fractional bits) in (-128, 128): |g| < 2^20. */
	for (size_t v = 0; v < n; v++)
		st->x[v] = prg_below(&g, win);
	fill_signed(&g, st->grad, n, 20);
	prg_finish(&g);
	owner_share(seed, "owner", st->xs[0], st->xs[1], st->x, n);
	owner_share(seed, "owner-grad", st->gs[0], st->gs[1], st->grad, n);
	return 0;
}

/* D = maxpool_derivative(argmax) (n_windows x window), then the routed
 * gradient D ⊙ (each window's gradient repeated window times). The one-hot
 * vector is integer 0/1, so the product needs no truncation. */
static int dmaxpool_fn(struct party *p, void *arg)
{
	struct mp_state *st = arg;
	size_t n = st->n_windows, k = st->window;
	if (p->id == 2) {
		TRY(maxpool_derivative(p, NULL, NULL, n, k));
		return matmul_elementwise(p, NULL, NULL, NULL, n * k);
	}
	int j = p->id;
	struct arena_mark mark = arena_mark(&p->arena);
	ring_t *d = arena_alloc_array(&p->arena, n * k, sizeof(ring_t));  /* n x k one-hot */
	ring_t *gr = arena_alloc_array(&p->arena, n * k, sizeof(ring_t)); /* n x k gradient */
	int rc = 0;
	if (!d || !gr) {
		rc = party_fail(p, ERROR_NOMEM, "P%d: dmaxpool scratch", j);
		goto out;
	}
	rc = maxpool_derivative(p, d, st->xs[j], n, k);
	if (rc < 0)
		goto out;
	for (size_t v = 0; v < n; v++)
		for (size_t e = 0; e < k; e++)
			gr[v * k + e] = st->gs[j][v];
	rc = matmul_elementwise(p, st->out[j], d, gr, n * k);
out:
	arena_reset(&p->arena, mark);
	return rc;
}

static int dmaxpool_verify(struct bench_inst *b, char *err, size_t len)
{
	struct mp_state *st = b->state;
	size_t k = st->window;
	for (size_t v = 0; v < st->n_windows; v++) {
		for (size_t e = 0; e < k; e++) {
			ring_t got = st->out[0][v * k + e] + st->out[1][v * k + e];
			ring_t want = e == st->x[v] ? st->grad[v] : 0;
			if (got != want) {
				snprintf(err, len, "%s %s: window %zu entry %zu is %lld, plaintext %lld "
					 "(argmax %llu)", b->bc->name, b->dims_text, v, e,
					 (long long)ring_signed(got), (long long)ring_signed(want),
					 (unsigned long long)st->x[v]);
				return ERROR_PROTOCOL;
			}
		}
	}
	return 0;
}

/* The reference code's convention, which Table 8's DMP figures follow
 * (spec section 9): per window 2 + 16·n bytes for the derivative (two
 * one-byte index shares up, n ring elements down to each of P0 and P1;
 * Alg. 10 alone prices 2(n + 1)·64 bits) plus a 40-byte product per
 * pre-pool value, n = k·k. Above n = 256 the indices travel as ring
 * elements: 16 + 16·n. */
static uint64_t dmaxpool_formula(const struct bench_inst *b)
{
	const struct mp_state *st = b->state;
	uint64_t n = st->window;
	uint64_t dmp = n == 1 ? 0 : n <= 256 ? 2 + 16 * n : 16 + 16 * n;
	return (dmp + 40 * n) * st->n_windows;
}

static unsigned two_rounds(const struct bench_inst *b)
{
	(void)b;
	return 2;
}

const struct bench_case bench_case_dmaxpool = {
	.name = "dmaxpool",
	.dims_names = "h,w,c,k",
	.n_dims = 4,
	.summary = "MaxPool derivative (Alg. 10) and the gradient routed through it",
	.prepare = dmaxpool_prepare,
	.fn = dmaxpool_fn,
	.verify = dmaxpool_verify,
	.formula_bytes = dmaxpool_formula,
	.paper_rounds = two_rounds,
	.paper_dims = mp_paper_dims,
	.paper_item = "dmaxpool",
	.release = mp_release,
};
