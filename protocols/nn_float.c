/* Float reference of the layers (see nn_float.h).
 *
 * Shapes (per batch of B images, NHWC, row-major), as in nn_layers.c:
 *   FC      X: B x n_in, W: n_in x n_out, Y = X·W + b: B x n_out.
 *   Conv    cols = im2col(X): (B·oh·ow) x (k·k·c_in), Y = cols·W + b: (B·oh·ow) x c_out.
 *   MaxPool k x k windows, stride k; the output (b, oy, ox, c) is NHWC and
 *           argmax keeps the index into X of each maximum.
 *   ReLU    element-wise; backward looks at its input X >= 0.
 * Backward, with D the gradient of the layer's output:
 *   FC      dW = Xᵀ·D, db = Σ_batch D, dX = D·Wᵀ
 *   Conv    dW = colsᵀ·D, db = Σ_rows D, dX = col2im(D·Wᵀ)
 *   MaxPool dX[argmax] = D, 0 elsewhere
 *   ReLU    dX = [X >= 0] ⊙ D
 * The products go to cblas_sgemm; everything else is plain loops. */
#include "nn_float.h"

#include <cblas.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fixed.h"
#include "nn_layers.h"

#define ASM_EPS (1.0f / (float)(1u << NN_ASM_EPS_SHIFT))

/* ---- model ---- */

int nn_float_model_init(struct nn_float_model *m, const struct nn_net *net)
{
	if (!m || !net)
		return ERROR_INVAL;
	memset(m, 0, sizeof(*m));
	m->net = *net;
	for (size_t i = 0; i < net->n_layers; i++) {
		size_t nw = nn_layer_weights(&net->layer[i]), nb = nn_layer_biases(&net->layer[i]);
		if (!nw)
			continue;
		m->w[i] = calloc(nw, sizeof(float));
		m->b[i] = calloc(nb ? nb : 1, sizeof(float));
		if (!m->w[i] || !m->b[i]) {
			nn_float_model_finish(m);
			return ERROR_NOMEM;
		}
	}
	return 0;
}

void nn_float_model_finish(struct nn_float_model *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < NN_MAX_LAYERS; i++) {
		free(m->w[i]);
		free(m->b[i]);
		m->w[i] = m->b[i] = NULL;
	}
}

void nn_float_model_from_fixed(struct nn_float_model *m, const struct nn_model *fixed,
			       unsigned frac)
{
	for (size_t i = 0; i < m->net.n_layers; i++) {
		const struct nn_layer *l = &m->net.layer[i];
		if (!m->w[i])
			continue;
		for (size_t k = 0; k < nn_layer_weights(l); k++)
			m->w[i][k] = (float)fixed_decode(fixed->w[i][k], frac);
		for (size_t k = 0; k < nn_layer_biases(l); k++)
			m->b[i][k] = (float)fixed_decode(fixed->b[i][k], frac);
	}
}

int nn_float_model_to_fixed(struct nn_model *fixed, const struct nn_float_model *m, unsigned frac)
{
	for (size_t i = 0; i < m->net.n_layers; i++) {
		const struct nn_layer *l = &m->net.layer[i];
		if (!m->w[i])
			continue;
		for (size_t k = 0; k < nn_layer_weights(l); k++)
			if (fixed_encode(&fixed->w[i][k], (double)m->w[i][k], frac) < 0)
				return ERROR_RANGE;
		for (size_t k = 0; k < nn_layer_biases(l); k++)
			if (fixed_encode(&fixed->b[i][k], (double)m->b[i][k], frac) < 0)
				return ERROR_RANGE;
	}
	return 0;
}

/* ---- working memory ---- */

/* a·b, or SIZE_MAX if it overflows. */
static size_t mul(size_t a, size_t b)
{
	return a && b > SIZE_MAX / a ? SIZE_MAX : a * b;
}

/* n floats (at least one), NULL if n is SIZE_MAX or out of memory. */
static float *alloc_f(size_t n)
{
	return n == SIZE_MAX ? NULL : calloc(n ? n : 1, sizeof(float));
}

int nn_float_work_init(struct nn_float_work *w, const struct nn_net *net, size_t batch)
{
	if (!w)
		return ERROR_INVAL;
	memset(w, 0, sizeof(*w));
	if (!net || !batch || !net->n_layers || net->n_layers > NN_MAX_LAYERS)
		return ERROR_INVAL;
	w->batch = batch;
	size_t biggest = 0, scratch = 0;
	/* sgemm takes int dimensions; argmax indices are 32 bits. */
	const size_t limit = INT_MAX;
	for (size_t i = 0; i < net->n_layers; i++) {
		const struct nn_layer *l = &net->layer[i];
		size_t in = mul(nn_layer_in_size(l), batch), out = mul(nn_layer_out_size(l), batch);
		if (in > limit || out > limit)
			goto range;
		if (in > biggest)
			biggest = in;
		if (out > biggest)
			biggest = out;
		if (!(w->act[i] = alloc_f(in)))
			goto oom;
		if (l->kind == NN_CONV) {
			size_t rows = mul(mul(batch, l->out_h), l->out_w);
			size_t n = mul(rows, l->k * l->k * l->in_c);
			if (rows > limit || n > limit)
				goto range;
			if (!(w->cols[i] = alloc_f(n)))
				goto oom;
			if (n > scratch)
				scratch = n;
		} else if (l->kind == NN_MAXPOOL) {
			if (!(w->argmax[i] = calloc(out ? out : 1, sizeof(uint32_t))))
				goto oom;
		}
		size_t nw = nn_layer_weights(l);
		if (nw && (!(w->gw[i] = alloc_f(nw)) || !(w->gb[i] = alloc_f(nn_layer_biases(l)))))
			goto oom;
	}
	size_t classes = mul(nn_net_classes(net), batch);
	if (classes > limit)
		goto range;
	w->act[net->n_layers] = alloc_f(classes);
	w->prob = alloc_f(classes);
	w->delta[0] = alloc_f(biggest);
	w->delta[1] = alloc_f(biggest);
	w->scratch = alloc_f(scratch);
	if (!w->act[net->n_layers] || !w->prob || !w->delta[0] || !w->delta[1] || !w->scratch)
		goto oom;
	return 0;
range:
	nn_float_work_finish(w);
	return ERROR_RANGE;
oom:
	nn_float_work_finish(w);
	return ERROR_NOMEM;
}

void nn_float_work_finish(struct nn_float_work *w)
{
	if (!w)
		return;
	for (size_t i = 0; i <= NN_MAX_LAYERS; i++)
		free(w->act[i]);
	for (size_t i = 0; i < NN_MAX_LAYERS; i++) {
		free(w->cols[i]);
		free(w->argmax[i]);
		free(w->gw[i]);
		free(w->gb[i]);
	}
	free(w->delta[0]);
	free(w->delta[1]);
	free(w->prob);
	free(w->scratch);
	memset(w, 0, sizeof(*w));
}

/* ---- local helpers ---- */

/* C (m x n) = op(A)·op(B), op(A) m x k, op(B) k x n, all row-major. */
static void gemm(float *C, const float *A, const float *B, size_t m, size_t n, size_t k,
                 int trans_a, int trans_b)
{
	cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
		    trans_b ? CblasTrans : CblasNoTrans, (int)m, (int)n, (int)k, 1.0f, A,
		    (int)(trans_a ? m : k), B, (int)(trans_b ? k : n), 0.0f, C, (int)n);
}

/* Add b (cols) to every row of Y (rows x cols). */
static void add_bias(float *Y, const float *b, size_t rows, size_t cols)
{
	for (size_t r = 0; r < rows; r++)
		for (size_t c = 0; c < cols; c++)
			Y[r * cols + c] += b[c];
}

/* g (cols) = column sums of D (rows x cols). */
static void col_sums(float *g, const float *D, size_t rows, size_t cols)
{
	memset(g, 0, cols * sizeof(*g));
	for (size_t r = 0; r < rows; r++)
		for (size_t c = 0; c < cols; c++)
			g[c] += D[r * cols + c];
}

/* The pixel of img (in_h x in_w x in_c) at padded coordinates (y, x), NULL in
 * the padding. */
static float *pixel(float *img, const struct nn_layer *l, size_t y, size_t x)
{
	if (y < l->pad || x < l->pad || y - l->pad >= l->in_h || x - l->pad >= l->in_w)
		return NULL;
	return img + ((y - l->pad) * l->in_w + (x - l->pad)) * l->in_c;
}

/* Visit the (B·oh·ow) x (k·k·c) im2col matrix of a conv layer: gather X into
 * cols (scatter 0), or accumulate cols into X (scatter 1, the adjoint, X
 * zeroed first). Padding reads as zero and absorbs writes. Row r of cols is
 * output position (b, oy, ox); its columns run over (ky, kx, ch). */
static void im2col(float *cols, float *X, const struct nn_layer *l, size_t batch, int scatter)
{
	size_t f = l->k, c = l->in_c, st = l->stride ? l->stride : 1;
	size_t img_len = nn_layer_in_size(l), n_out = l->out_h * l->out_w;
	if (scatter)
		memset(X, 0, batch * img_len * sizeof(*X));
	float *p = cols;
	for (size_t r = 0; r < batch * n_out; r++) {
		float *img = X + r / n_out * img_len;
		size_t oy = r % n_out / l->out_w, ox = r % l->out_w;
		for (size_t ky = 0; ky < f; ky++)
			for (size_t kx = 0; kx < f; kx++, p += c) {
				float *src = pixel(img, l, oy * st + ky, ox * st + kx);
				for (size_t ch = 0; ch < c; ch++) {
					if (!scatter)
						p[ch] = src ? src[ch] : 0.0f;
					else if (src)
						src[ch] += p[ch];
				}
			}
	}
}

/* ---- forward ---- */

static void forward_layer(const struct nn_float_model *m, struct nn_float_work *w, size_t i)
{
	const struct nn_layer *l = &m->net.layer[i];
	size_t B = w->batch;
	float *X = w->act[i], *Y = w->act[i + 1];
	switch (l->kind) {
	case NN_FC: {
		size_t n_in = nn_layer_in_size(l);
		gemm(Y, X, m->w[i], B, l->out_c, n_in, 0, 0);
		add_bias(Y, m->b[i], B, l->out_c);
		return;
	}
	case NN_CONV: {
		size_t rows = B * l->out_h * l->out_w, cols = l->k * l->k * l->in_c;
		im2col(w->cols[i], X, l, B, 0);
		gemm(Y, w->cols[i], m->w[i], rows, l->out_c, cols, 0, 0);
		add_bias(Y, m->b[i], rows, l->out_c);
		return;
	}
	case NN_RELU:
		for (size_t k = 0; k < nn_layer_in_size(l) * B; k++)
			Y[k] = X[k] >= 0.0f ? X[k] : 0.0f;
		return;
	case NN_MAXPOOL: {
		size_t k = l->k, c = l->in_c, row = l->in_w * c; /* values per input row */
		size_t n_out = nn_layer_out_size(l);
		for (size_t v = 0; v < B * n_out; v++) {
			/* Output v is (b, oy, ox, ch); top: its window's first value. */
			size_t b = v / n_out, ch = v % c, ox = v / c % l->out_w;
			size_t oy = v % n_out / (c * l->out_w);
			size_t top = b * nn_layer_in_size(l) + oy * k * row + ox * k * c + ch;
			size_t best = top;
			for (size_t ky = 0; ky < k; ky++)
				for (size_t kx = 0; kx < k; kx++) {
					size_t at = top + ky * row + kx * c;
					if (X[at] >= X[best])
						best = at;
				}
			Y[v] = X[best];
			w->argmax[i][v] = (uint32_t)best;
		}
		return;
	}
	}
}

void nn_float_forward(const struct nn_float_model *m, struct nn_float_work *w)
{
	for (size_t i = 0; i < m->net.n_layers; i++)
		forward_layer(m, w, i);
}

/* ---- output ---- */

void nn_float_output_asm(const struct nn_float_model *m, struct nn_float_work *w)
{
	size_t K = nn_net_classes(&m->net);
	const float *u = w->act[m->net.n_layers];
	for (size_t b = 0; b < w->batch; b++) {
		float s = 0;
		for (size_t k = 0; k < K; k++) {
			float r = (u[b * K + k] > 0.0f ? u[b * K + k] : 0.0f) + ASM_EPS;
			w->prob[b * K + k] = r;
			s += r;
		}
		for (size_t k = 0; k < K; k++)
			w->prob[b * K + k] /= s;
	}
}

void nn_float_predict(const struct nn_float_model *m, const struct nn_float_work *w,
		      uint32_t *cls)
{
	size_t K = nn_net_classes(&m->net);
	const float *u = w->act[m->net.n_layers];
	for (size_t b = 0; b < w->batch; b++) {
		size_t best = 0;
		for (size_t k = 1; k < K; k++)
			if (u[b * K + k] >= u[b * K + best])
				best = k;
		cls[b] = (uint32_t)best;
	}
}

/* ---- backward ---- */

/* D: gradient of layer i's output; Din: gradient of its input (NULL for the
 * first layer). */
static void backward_layer(const struct nn_float_model *m, struct nn_float_work *w, size_t i,
			   const float *D, float *Din)
{
	const struct nn_layer *l = &m->net.layer[i];
	size_t B = w->batch, in = nn_layer_in_size(l) * B, out = nn_layer_out_size(l) * B;
	const float *X = w->act[i];
	switch (l->kind) {
	case NN_FC: {
		size_t n_in = nn_layer_in_size(l), n_out = l->out_c;
		gemm(w->gw[i], X, D, n_in, n_out, B, 1, 0);
		col_sums(w->gb[i], D, B, n_out);
		if (Din)
			gemm(Din, D, m->w[i], B, n_in, n_out, 0, 1);
		return;
	}
	case NN_CONV: {
		size_t rows = B * l->out_h * l->out_w, cols = l->k * l->k * l->in_c;
		gemm(w->gw[i], w->cols[i], D, cols, l->out_c, rows, 1, 0);
		col_sums(w->gb[i], D, rows, l->out_c);
		if (Din) {
			gemm(w->scratch, D, m->w[i], rows, cols, l->out_c, 0, 1);
			im2col(w->scratch, Din, l, B, 1);
		}
		return;
	}
	case NN_RELU:
		if (Din)
			for (size_t k = 0; k < in; k++)
				Din[k] = X[k] >= 0.0f ? D[k] : 0.0f;
		return;
	case NN_MAXPOOL:
		if (Din) {
			memset(Din, 0, in * sizeof(*Din));
			for (size_t v = 0; v < out; v++)
				Din[w->argmax[i][v]] += D[v];
		}
		return;
	}
}

void nn_float_backward(const struct nn_float_model *m, struct nn_float_work *w, const float *labels)
{
	size_t n_layers = m->net.n_layers, K = nn_net_classes(&m->net);
	float *D = w->delta[0], *Din = w->delta[1];
	if (w->grad == NN_GRAD_CE) {
		/* DReLU(u_j) - y_j·min(1/p_y, 2^NN_CE_CLIP_SHIFT) (nn_layers.h). */
		const float *u = w->act[n_layers], clip = (float)(1u << NN_CE_CLIP_SHIFT);
		for (size_t b = 0; b < w->batch; b++) {
			float py = 0.0f;
			for (size_t k = 0; k < K; k++)
				py += labels[b * K + k] * w->prob[b * K + k];
			float inv = py * clip > 1.0f ? 1.0f / py : clip;
			for (size_t k = 0; k < K; k++)
				D[b * K + k] = (u[b * K + k] >= 0.0f ? 1.0f : 0.0f) - labels[b * K + k] * inv;
		}
	} else if (w->grad == NN_GRAD_CE_RY) {
		/* DReLU(u_j)·p_y - y_j (nn_layers.h). */
		const float *u = w->act[n_layers];
		for (size_t b = 0; b < w->batch; b++) {
			float py = 0.0f;
			for (size_t k = 0; k < K; k++)
				py += labels[b * K + k] * w->prob[b * K + k];
			for (size_t k = 0; k < K; k++)
				D[b * K + k] = (u[b * K + k] >= 0.0f ? py : 0.0f) - labels[b * K + k];
		}
	} else {
		/* delta_L = ASM(u) - y (section 3.12). */
		for (size_t k = 0; k < K * w->batch; k++)
			D[k] = w->prob[k] - labels[k];
	}
	for (size_t i = n_layers; i-- > 0;) {
		backward_layer(m, w, i, D, i ? Din : NULL);
		float *t = D;
		D = Din;
		Din = t;
	}
}

void nn_float_sgd(struct nn_float_model *m, const struct nn_float_work *w, float step)
{
	for (size_t i = 0; i < m->net.n_layers; i++) {
		const struct nn_layer *l = &m->net.layer[i];
		if (!m->w[i])
			continue;
		cblas_saxpy((int)nn_layer_weights(l), -step, w->gw[i], 1, m->w[i], 1);
		cblas_saxpy((int)nn_layer_biases(l), -step, w->gb[i], 1, m->b[i], 1);
	}
}

void nn_float_train_step(struct nn_float_model *m, struct nn_float_work *w, const float *labels,
			 float step)
{
	nn_float_forward(m, w);
	nn_float_output_asm(m, w);
	nn_float_backward(m, w, labels);
	nn_float_sgd(m, w, step);
}
