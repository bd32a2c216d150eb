/* Layers over shares: forward, backward, ASM output and SGD (see nn_layers.h).
 *
 * Shapes (per batch of B images, NHWC, row-major):
 *   FC      X: B x n_in, W: n_in x n_out, Y = X·W + b: B x n_out.
 *   Conv    cols = im2col(X): (B·oh·ow) x (k·k·c_in), Y = cols·W + b: (B·oh·ow) x c_out
 *           (which is NHWC), W: (k·k·c_in) x c_out.
 *   MaxPool windows of k x k, stride k, gathered window-major in the order of
 *           the output (b, oy, ox, c), so the max is NHWC directly.
 *   ReLU    element-wise, DReLU bits kept for the backward pass.
 * Backward, with D the gradient of the layer's output:
 *   FC      dW = Xᵀ·D, db = Σ_batch D, dX = D·Wᵀ       (each product truncated by f)
 *   Conv    dW = colsᵀ·D, db = Σ_rows D, dX = col2im(D·Wᵀ)
 *   MaxPool dX = scatter(onehot(argmax) ⊙ D)           (DMP, Alg. 10 or 12)
 *   ReLU    dX = DReLU bits ⊙ D
 * P2 runs the same code: it passes its (unused) buffers to the protocols and
 * skips every local computation. */
#include "nn_layers.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conv2d.h"
#include "fixed.h"
#include "matmul.h"
#include "share.h"

static int is_pow2(size_t k)
{
	return k && (k & (k - 1)) == 0;
}

/* ---- model ---- */

int nn_model_init(struct nn_model *m, const struct nn_net *net)
{
	memset(m, 0, sizeof(*m));
	m->net = *net;
	for (size_t i = 0; i < net->n_layers; i++) {
		size_t nw = nn_layer_weights(&net->layer[i]), nb = nn_layer_biases(&net->layer[i]);
		if (!nw)
			continue;
		m->w[i] = calloc(nw, sizeof(ring_t));
		m->b[i] = calloc(nb ? nb : 1, sizeof(ring_t));
		if (!m->w[i] || !m->b[i]) {
			nn_model_finish(m);
			return ERROR_NOMEM;
		}
	}
	return 0;
}

void nn_model_finish(struct nn_model *m)
{
	for (size_t i = 0; i < NN_MAX_LAYERS; i++) {
		free(m->w[i]);
		free(m->b[i]);
		m->w[i] = m->b[i] = NULL;
	}
}

/* A standard normal value from two uniform words (Box-Muller). */
static double normal(struct prg *g)
{
	double u1 = ((double)(prg_u64(g) >> 11) + 1.0) / 9007199254740993.0;
	double u2 = (double)(prg_u64(g) >> 11) / 9007199254740992.0;
	return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

void nn_model_init_weights(struct nn_model *m, struct prg *g, unsigned frac)
{
	for (size_t i = 0; i < m->net.n_layers; i++) {
		const struct nn_layer *l = &m->net.layer[i];
		size_t nw = nn_layer_weights(l);
		if (!nw)
			continue;
		size_t fan_in = nw / l->out_c;
		double sd = sqrt(2.0 / (double)fan_in);
		for (size_t k = 0; k < nw; k++) {
			ring_t v = 0;
			/* |He sample| is far below the fixed-point range. */
			if (fixed_encode(&v, sd * normal(g), frac) < 0)
				v = 0;
			m->w[i][k] = v;
		}
		memset(m->b[i], 0, nn_layer_biases(l) * sizeof(ring_t));
	}
}

void nn_model_share(const struct nn_model *plain, struct nn_model *s0, struct nn_model *s1,
		    struct prg *owner)
{
	for (size_t i = 0; i < plain->net.n_layers; i++) {
		const struct nn_layer *l = &plain->net.layer[i];
		if (!plain->w[i])
			continue;
		share_split(owner, s0->w[i], s1->w[i], plain->w[i], nn_layer_weights(l));
		share_split(owner, s0->b[i], s1->b[i], plain->b[i], nn_layer_biases(l));
	}
}

void nn_model_reveal(struct nn_model *plain, const struct nn_model *s0, const struct nn_model *s1)
{
	for (size_t i = 0; i < plain->net.n_layers; i++) {
		const struct nn_layer *l = &plain->net.layer[i];
		if (!plain->w[i])
			continue;
		share_combine(plain->w[i], s0->w[i], s1->w[i], nn_layer_weights(l));
		share_combine(plain->b[i], s0->b[i], s1->b[i], nn_layer_biases(l));
	}
}

/* ---- working memory ---- */

static ring_t *alloc_ring(size_t n)
{
	return calloc(n ? n : 1, sizeof(ring_t));
}

int nn_work_init(struct nn_work *w, const struct nn_net *model_net, size_t batch)
{
	memset(w, 0, sizeof(*w));
	w->net = *model_net;
	nn_net_pool_first(&w->net);
	const struct nn_net *net = &w->net;
	w->batch = batch;
	size_t biggest = 0, scratch = 0;
	for (size_t i = 0; i < net->n_layers; i++) {
		const struct nn_layer *l = &net->layer[i];
		size_t in = nn_layer_in_size(l) * batch, out = nn_layer_out_size(l) * batch;
		if (in > biggest)
			biggest = in;
		if (out > biggest)
			biggest = out;
		w->act[i] = alloc_ring(in);
		if (!w->act[i])
			goto oom;
		size_t keep = 0, tmp = 0;
		if (l->kind == NN_RELU) {
			keep = in;
		} else if (l->kind == NN_MAXPOOL) {
			size_t win = l->k * l->k;
			keep = is_pow2(win) ? out : in; /* argmax, or one-hot vectors */
			tmp = 2 * in;                   /* windows, then one-hot products */
		} else if (l->kind == NN_CONV) {
			keep = batch * l->out_h * l->out_w * l->k * l->k * l->in_c; /* im2col */
			tmp = keep;                                                    /* D·Wᵀ */
		}
		if (keep && !(w->keep[i] = alloc_ring(keep)))
			goto oom;
		if (tmp > scratch)
			scratch = tmp;
		size_t nw = nn_layer_weights(l);
		if (nw && (!(w->gw[i] = alloc_ring(nw)) || !(w->gb[i] = alloc_ring(nn_layer_biases(l)))))
			goto oom;
	}
	size_t classes = nn_net_classes(net);
	w->act[net->n_layers] = alloc_ring(classes * batch);
	w->prob = alloc_ring(classes * batch);
	w->pos = alloc_ring(classes * batch);
	w->delta[0] = alloc_ring(biggest);
	w->delta[1] = alloc_ring(biggest);
	w->scratch = alloc_ring(scratch);
	w->scratch_len = scratch;
	if (!w->act[net->n_layers] || !w->prob || !w->pos || !w->delta[0] || !w->delta[1] || !w->scratch)
		goto oom;
	return 0;
oom:
	nn_work_finish(w);
	return ERROR_NOMEM;
}

void nn_work_finish(struct nn_work *w)
{
	for (size_t i = 0; i <= NN_MAX_LAYERS; i++)
		free(w->act[i]);
	for (size_t i = 0; i < NN_MAX_LAYERS; i++) {
		free(w->keep[i]);
		free(w->gw[i]);
		free(w->gb[i]);
	}
	free(w->delta[0]);
	free(w->delta[1]);
	free(w->prob);
	free(w->pos);
	free(w->scratch);
	memset(w, 0, sizeof(*w));
}

/* ---- local helpers ---- */

static struct conv2d_shape conv_shape(const struct nn_layer *l, size_t batch)
{
	struct conv2d_shape s = {
		.batch = batch, .height = l->in_h, .width = l->in_w, .in_ch = l->in_c,
		.out_ch = l->out_c, .kernel = l->k, .stride = l->stride ? l->stride : 1, .pad = l->pad,
	};
	return s;
}

/* Add the bias (out_c values) to every row of Y (rows x out_c). */
static void add_bias(ring_t *Y, const ring_t *b, size_t rows, size_t cols)
{
	for (size_t r = 0; r < rows; r++)
		for (size_t c = 0; c < cols; c++)
			Y[r * cols + c] += b[c];
}

/* Column sums of D (rows x cols) into g (cols). */
static void col_sums(ring_t *g, const ring_t *D, size_t rows, size_t cols)
{
	memset(g, 0, cols * sizeof(*g));
	for (size_t r = 0; r < rows; r++)
		for (size_t c = 0; c < cols; c++)
			g[c] += D[r * cols + c];
}

/* The adjoint of im2col: accumulate rows of dcols into dX. */
static void col2im(ring_t *dX, const ring_t *dcols, const struct conv2d_shape *s, size_t oh,
		   size_t ow)
{
	size_t f = s->kernel, c = s->in_ch, st = s->stride;
	memset(dX, 0, s->batch * s->height * s->width * c * sizeof(*dX));
	const ring_t *src = dcols;
	for (size_t b = 0; b < s->batch; b++) {
		ring_t *img = dX + b * s->height * s->width * c;
		for (size_t oy = 0; oy < oh; oy++)
			for (size_t ox = 0; ox < ow; ox++)
				for (size_t ky = 0; ky < f; ky++)
					for (size_t kx = 0; kx < f; kx++, src += c) {
						size_t y = oy * st + ky, x = ox * st + kx;
						if (y < s->pad || x < s->pad || y - s->pad >= s->height ||
						    x - s->pad >= s->width)
							continue;
						ring_t *dst = img + ((y - s->pad) * s->width + (x - s->pad)) * c;
						for (size_t ch = 0; ch < c; ch++)
							dst[ch] += src[ch];
					}
	}
}

/* Gather k x k windows of X (B x h x w x c) window-major into win, or (scatter)
 * write win back into X. Window order (b, oy, ox, ch); entries (ky, kx). */
static void windows(ring_t *win, ring_t *X, const struct nn_layer *l, size_t batch, int scatter)
{
	size_t k = l->k, h = l->in_h, wd = l->in_w, c = l->in_c, oh = h / k, ow = wd / k;
	size_t idx = 0;
	for (size_t b = 0; b < batch; b++)
		for (size_t oy = 0; oy < oh; oy++)
			for (size_t ox = 0; ox < ow; ox++)
				for (size_t ch = 0; ch < c; ch++)
					for (size_t ky = 0; ky < k; ky++)
						for (size_t kx = 0; kx < k; kx++, idx++) {
							ring_t *x = &X[((b * h + oy * k + ky) * wd + ox * k + kx) * c + ch];
							if (scatter)
								*x = win[idx];
							else
								win[idx] = *x;
						}
}

/* ---- forward ---- */

static int forward_layer(struct nn_ctx *c, const struct nn_model *m, struct nn_work *w, size_t i)
{
	const struct nn_layer *l = &w->net.layer[i];
	size_t B = w->batch, in = nn_layer_in_size(l) * B, out = nn_layer_out_size(l) * B;
	ring_t *X = w->act[i], *Y = w->act[i + 1];
	int loc = nn_local(c);
	switch (l->kind) {
	case NN_FC: {
		size_t n_in = nn_layer_in_size(l), n_out = l->out_c;
		TRY(nn_matmul(c, Y, X, m->w[i], B, n_in, n_out, 0));
		if (loc) {
			nn_truncate(c, Y, out, c->frac);
			add_bias(Y, m->b[i], B, n_out);
		}
		return 0;
	}
	case NN_CONV: {
		struct conv2d_shape s = conv_shape(l, B);
		size_t rows = B * l->out_h * l->out_w, cols = l->k * l->k * l->in_c;
		if (loc)
			conv2d_im2col(w->keep[i], X, &s);
		TRY(nn_matmul(c, Y, w->keep[i], m->w[i], rows, cols, l->out_c, 0));
		if (loc) {
			nn_truncate(c, Y, out, c->frac);
			add_bias(Y, m->b[i], rows, l->out_c);
		}
		return 0;
	}
	case NN_RELU:
		return nn_relu(c, Y, w->keep[i], X, in);
	case NN_MAXPOOL: {
		size_t win = l->k * l->k;
		if (loc)
			windows(w->scratch, X, l, B, 0);
		if (is_pow2(win))
			return nn_maxpool(c, Y, w->keep[i], w->scratch, out, win);
		return nn_maxpool_onehot(c, Y, w->keep[i], w->scratch, out, win);
	}
	}
	return nn_fail(c, ERROR_INVAL, "unknown layer kind");
}

int nn_forward(struct nn_ctx *c, const struct nn_model *m, struct nn_work *w)
{
	for (size_t i = 0; i < m->net.n_layers; i++) {
		if (c->p) {
			char name[32];
			snprintf(name, sizeof(name), "layer%zu", i + 1);
			stats_push(c->p, name);
		}
		int rc = forward_layer(c, m, w, i);
		if (c->p)
			stats_pop(c->p);
		TRY(rc);
	}
	return 0;
}

/* ---- output ---- */

int nn_output_asm(struct nn_ctx *c, const struct nn_model *m, struct nn_work *w)
{
	size_t K = nn_net_classes(&m->net), n = K * w->batch;
	const ring_t *u = w->act[m->net.n_layers];
	struct arena_mark mark = arena_mark(c->arena);
	ring_t *r = arena_alloc_array(c->arena, 2 * n, sizeof(ring_t)); /* ReLU(u)+eps, then Σ */
	if (!r)
		return nn_fail(c, ERROR_NOMEM, "asm scratch");
	ring_t *y = r + n;
	if (c->p)
		stats_push(c->p, "asm");
	int rc = nn_relu(c, r, w->pos, u, n);
	if (rc == 0 && nn_local(c)) {
		ring_t eps = (ring_t)1 << (c->frac > NN_ASM_EPS_SHIFT ? c->frac - NN_ASM_EPS_SHIFT : 0);
		nn_add_public(c, r, eps, n);
		for (size_t b = 0; b < w->batch; b++) {
			ring_t s = 0;
			for (size_t k = 0; k < K; k++)
				s += r[b * K + k];
			for (size_t k = 0; k < K; k++)
				y[b * K + k] = s;
		}
	}
	if (rc == 0)
		rc = nn_division(c, w->prob, r, y, n);
	if (c->p)
		stats_pop(c->p);
	arena_reset(c->arena, mark);
	return rc;
}

int nn_output_argmax(struct nn_ctx *c, const struct nn_model *m, struct nn_work *w, ring_t *out)
{
	size_t K = nn_net_classes(&m->net);
	if (c->p)
		stats_push(c->p, "argmax");
	int rc = nn_maxpool(c, w->prob, out, w->act[m->net.n_layers], w->batch, K);
	if (c->p)
		stats_pop(c->p);
	return rc;
}

/* ---- backward ---- */

/* D: gradient of layer i's output; Din: where to put the gradient of its
 * input (NULL for the first layer). */
static int backward_layer(struct nn_ctx *c, const struct nn_model *m, struct nn_work *w, size_t i,
			  const ring_t *D, ring_t *Din)
{
	const struct nn_layer *l = &w->net.layer[i];
	size_t B = w->batch, in = nn_layer_in_size(l) * B, out = nn_layer_out_size(l) * B;
	const ring_t *X = w->act[i];
	int loc = nn_local(c);
	switch (l->kind) {
	case NN_FC: {
		size_t n_in = nn_layer_in_size(l), n_out = l->out_c;
		TRY(nn_matmul(c, w->gw[i], X, D, n_in, B, n_out, MATMUL_TRANS_X));
		if (loc) {
			nn_truncate(c, w->gw[i], n_in * n_out, c->frac);
			col_sums(w->gb[i], D, B, n_out);
		}
		if (Din) {
			TRY(nn_matmul(c, Din, D, m->w[i], B, n_out, n_in, MATMUL_TRANS_Y));
			if (loc)
				nn_truncate(c, Din, in, c->frac);
		}
		return 0;
	}
	case NN_CONV: {
		struct conv2d_shape s = conv_shape(l, B);
		size_t rows = B * l->out_h * l->out_w, cols = l->k * l->k * l->in_c;
		TRY(nn_matmul(c, w->gw[i], w->keep[i], D, cols, rows, l->out_c, MATMUL_TRANS_X));
		if (loc) {
			nn_truncate(c, w->gw[i], cols * l->out_c, c->frac);
			col_sums(w->gb[i], D, rows, l->out_c);
		}
		if (Din) {
			TRY(nn_matmul(c, w->scratch, D, m->w[i], rows, l->out_c, cols, MATMUL_TRANS_Y));
			if (loc) {
				nn_truncate(c, w->scratch, rows * cols, c->frac);
				col2im(Din, w->scratch, &s, l->out_h, l->out_w);
			}
		}
		return 0;
	}
	case NN_RELU:
		if (!Din)
			return 0;
		return nn_relu_from_bits(c, Din, w->keep[i], D, in);
	case NN_MAXPOOL: {
		if (!Din)
			return 0;
		size_t win = l->k * l->k;
		ring_t *onehot = w->scratch, *prod = w->scratch + in;
		if (is_pow2(win))
			TRY(nn_maxpool_derivative(c, onehot, w->keep[i], out, win));
		else if (loc)
			memcpy(onehot, w->keep[i], in * sizeof(ring_t));
		/* Route each window's gradient to its argmax: onehot ⊙ broadcast(D). */
		if (loc)
			for (size_t v = 0; v < out; v++)
				for (size_t e = 0; e < win; e++)
					prod[v * win + e] = D[v];
		TRY(nn_mul(c, prod, onehot, prod, in));
		if (loc)
			windows(prod, Din, l, B, 1);
		return 0;
	}
	}
	return nn_fail(c, ERROR_INVAL, "unknown layer kind");
}

#define STRINGIFY_(x) #x
#define STRINGIFY(x)  STRINGIFY_(x)

const char *const nn_grad_names[] = {
	[NN_GRAD_PAPER] = "paper",
	[NN_GRAD_CE] = "ce",
	[NN_GRAD_CE_RY] = "ce-ry",
	NULL,
};

const char *nn_grad_name(int grad)
{
	int n = (int)(sizeof(nn_grad_names) / sizeof(nn_grad_names[0])) - 1; /* without the NULL */
	return grad >= 0 && grad < n ? nn_grad_names[grad] : NULL;
}

/* p_y = Σ_k y_k·p_k per example: one product of B·K (scratch t), then local
 * row sums into py. */
static int target_prob(struct nn_ctx *c, const struct nn_work *w, const ring_t *labels,
		       ring_t *t, ring_t *py, size_t K)
{
	size_t B = w->batch, n = B * K;
	TRY(nn_mul(c, t, labels, w->prob, n));
	if (nn_local(c)) {
		nn_truncate(c, t, n, c->frac);
		for (size_t b = 0; b < B; b++) {
			ring_t s = 0;
			for (size_t k = 0; k < K; k++)
				s += t[b * K + k];
			py[b] = s;
		}
	}
	return 0;
}

/* D = DReLU(u) - y ⊙ min(1/p_y, 2^NN_CE_CLIP_SHIFT) (NN_GRAD_CE, nn_layers.h). */
static int output_delta_ce(struct nn_ctx *c, struct nn_work *w, const ring_t *labels, ring_t *D,
			   size_t K)
{
	size_t B = w->batch, n = B * K;
	int loc = nn_local(c);
	if (c->frac <= NN_CE_CLIP_SHIFT)
		return nn_fail(c, ERROR_RANGE, "the ce output gradient needs more than "
						STRINGIFY(NN_CE_CLIP_SHIFT) " fractional bits");
	struct arena_mark mark = arena_mark(c->arena);
	ring_t *t = arena_alloc_array(c->arena, n + 3 * B, sizeof(ring_t));
	if (!t)
		return nn_fail(c, ERROR_NOMEM, "output gradient scratch");
	ring_t *py = t + n, *x = py + B, *inv = x + B;
	if (c->p)
		stats_push(c->p, "ce-grad");
	int rc = target_prob(c, w, labels, t, py, K);
	if (rc == 0 && loc) {
		memset(x, 0, B * sizeof(ring_t));
		nn_add_public(c, x, (ring_t)1 << (c->frac - NN_CE_CLIP_SHIFT), B);
	}
	/* 2^-4 / p_y, saturating at 1 - 2^-f where p_y <= 2^-4; times 2^4 (exact). */
	if (rc == 0)
		rc = nn_division(c, inv, x, py, B);
	if (rc == 0 && loc)
		for (size_t b = 0; b < B; b++) {
			inv[b] <<= NN_CE_CLIP_SHIFT;
			for (size_t k = 0; k < K; k++)
				t[b * K + k] = inv[b];
		}
	if (rc == 0)
		rc = nn_mul(c, t, labels, t, n);
	if (rc == 0 && loc) {
		nn_truncate(c, t, n, c->frac);
		for (size_t k = 0; k < n; k++)
			D[k] = (w->pos[k] << c->frac) - t[k];
	}
	if (c->p)
		stats_pop(c->p);
	arena_reset(c->arena, mark);
	return rc;
}

/* D = DReLU(u)·p_y - y (NN_GRAD_CE_RY, nn_layers.h): the DReLU bits are
 * integers, so their product with p_y needs no truncation. */
static int output_delta_ce_ry(struct nn_ctx *c, struct nn_work *w, const ring_t *labels,
			      ring_t *D, size_t K)
{
	size_t B = w->batch, n = B * K;
	int loc = nn_local(c);
	struct arena_mark mark = arena_mark(c->arena);
	ring_t *t = arena_alloc_array(c->arena, n + B, sizeof(ring_t));
	if (!t)
		return nn_fail(c, ERROR_NOMEM, "output gradient scratch");
	ring_t *py = t + n;
	if (c->p)
		stats_push(c->p, "ce-grad");
	int rc = target_prob(c, w, labels, t, py, K);
	if (rc == 0 && loc)
		for (size_t b = 0; b < B; b++)
			for (size_t k = 0; k < K; k++)
				t[b * K + k] = py[b];
	if (rc == 0)
		rc = nn_mul(c, t, w->pos, t, n);
	if (rc == 0 && loc)
		ring_sub(D, t, labels, n);
	if (c->p)
		stats_pop(c->p);
	arena_reset(c->arena, mark);
	return rc;
}

int nn_backward(struct nn_ctx *c, const struct nn_model *m, struct nn_work *w, const ring_t *labels)
{
	size_t n_layers = m->net.n_layers, K = nn_net_classes(&m->net);
	ring_t *D = w->delta[0], *Din = w->delta[1];
	if (w->grad == NN_GRAD_CE) {
		TRY(output_delta_ce(c, w, labels, D, K));
	} else if (w->grad == NN_GRAD_CE_RY) {
		TRY(output_delta_ce_ry(c, w, labels, D, K));
	} else if (nn_local(c)) {
		/* delta_L = ASM(u) - y (section 3.12). */
		for (size_t k = 0; k < K * w->batch; k++)
			D[k] = w->prob[k] - labels[k];
	}
	for (size_t i = n_layers; i-- > 0;) {
		if (c->p) {
			char name[32];
			snprintf(name, sizeof(name), "layer%zu", i + 1);
			stats_push(c->p, name);
		}
		int rc = backward_layer(c, m, w, i, D, i ? Din : NULL);
		if (c->p)
			stats_pop(c->p);
		TRY(rc);
		ring_t *t = D;
		D = Din;
		Din = t;
	}
	return 0;
}

void nn_sgd(struct nn_ctx *c, struct nn_model *m, struct nn_work *w, unsigned shift)
{
	if (!nn_local(c))
		return;
	for (size_t i = 0; i < m->net.n_layers; i++) {
		const struct nn_layer *l = &m->net.layer[i];
		if (!m->w[i])
			continue;
		size_t nw = nn_layer_weights(l), nb = nn_layer_biases(l);
		nn_truncate(c, w->gw[i], nw, shift);
		nn_truncate(c, w->gb[i], nb, shift);
		ring_sub(m->w[i], m->w[i], w->gw[i], nw);
		ring_sub(m->b[i], m->b[i], w->gb[i], nb);
	}
}
