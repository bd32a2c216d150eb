#include "nn_ops.h"

#include <string.h>

#include "division.h"
#include "fixed.h"
#include "matmul.h"
#include "maxpool.h"
#include "relu.h"
#include "ring_gemm.h"
#include "share.h"
#include "share_truncate.h"

__extension__ typedef unsigned __int128 u128;

void nn_ctx_init_clear(struct nn_ctx *c, struct arena *a, unsigned frac)
{
	c->p = NULL;
	c->arena = a;
	c->frac = frac;
	c->round = NULL;
}

int nn_fail(struct nn_ctx *c, int code, const char *what)
{
	if (c->p)
		return party_fail(c->p, code, "P%d: %s: %s", c->p->id, what, error_strerror(code));
	return code;
}

static unsigned gemm_flags(unsigned flags)
{
	return ((flags & MATMUL_TRANS_X) ? RING_GEMM_TRANS_A : 0u) |
	       ((flags & MATMUL_TRANS_Y) ? RING_GEMM_TRANS_B : 0u);
}

int nn_matmul(struct nn_ctx *c, ring_t *Z, const ring_t *X, const ring_t *Y, size_t m, size_t n,
	      size_t v, unsigned flags)
{
	if (c->p)
		return matmul(c->p, Z, X, Y, m, n, v, flags);
	ring_gemm(Z, X, Y, m, n, v, gemm_flags(flags));
	return 0;
}

int nn_mul(struct nn_ctx *c, ring_t *z, const ring_t *x, const ring_t *y, size_t n)
{
	if (c->p)
		return matmul_elementwise(c->p, z, x, y, n);
	for (size_t i = 0; i < n; i++)
		z[i] = x[i] * y[i];
	return 0;
}

void nn_truncate(struct nn_ctx *c, ring_t *x, size_t n, unsigned bits)
{
	if (c->p) {
		share_truncate(c->p, x, n, bits);
		return;
	}
	if (!c->round || bits == 0 || bits >= 64) {
		/* Exact floor: P0's rule applied to the whole value. */
		share_truncate_local(0, x, n, bits);
		return;
	}
	/* floor(x / 2^bits) + 1 with probability low / 2^bits (low: the bits
	 * dropped), so the expected result is x / 2^bits exactly. */
	ring_t mask = ((ring_t)1 << bits) - 1, r[256];
	for (size_t i = 0; i < n; i += 256) {
		size_t m = n - i < 256 ? n - i : 256;
		prg_u64s(c->round, r, m);
		for (size_t k = 0; k < m; k++)
			r[k] = (r[k] & mask) < (x[i + k] & mask); /* round up */
		share_truncate_local(0, x + i, m, bits);
		for (size_t k = 0; k < m; k++)
			x[i + k] += r[k];
	}
}

int nn_relu(struct nn_ctx *c, ring_t *out, ring_t *bits, const ring_t *a, size_t n)
{
	if (c->p)
		return relu(c->p, out, bits, a, n);
	for (size_t i = 0; i < n; i++) {
		ring_t pos = (ring_t)(ring_signed(a[i]) >= 0);
		if (bits)
			bits[i] = pos;
		out[i] = pos ? a[i] : 0;
	}
	return 0;
}

int nn_relu_from_bits(struct nn_ctx *c, ring_t *out, const ring_t *bits, const ring_t *a, size_t n)
{
	if (c->p)
		return relu_from_drelu(c->p, out, bits, a, n);
	for (size_t i = 0; i < n; i++)
		out[i] = bits[i] * a[i];
	return 0;
}

/* Plaintext MaxPool: ties go to the later element, as in the protocol. */
static void clear_maxpool(ring_t *max, ring_t *argmax, ring_t *onehot, const ring_t *x,
			  size_t n_windows, size_t k)
{
	for (size_t w = 0; w < n_windows; w++) {
		const ring_t *win = x + w * k;
		size_t best = 0;
		for (size_t i = 1; i < k; i++)
			if (ring_signed(win[i] - win[best]) >= 0)
				best = i;
		if (max)
			max[w] = win[best];
		if (argmax)
			argmax[w] = best;
		if (onehot)
			for (size_t i = 0; i < k; i++)
				onehot[w * k + i] = i == best;
	}
}

int nn_maxpool(struct nn_ctx *c, ring_t *max, ring_t *argmax, const ring_t *x, size_t n_windows,
	       size_t k)
{
	if (c->p)
		return maxpool(c->p, max, argmax, x, n_windows, k);
	clear_maxpool(max, argmax, NULL, x, n_windows, k);
	return 0;
}

int nn_maxpool_onehot(struct nn_ctx *c, ring_t *max, ring_t *onehot, const ring_t *x,
		      size_t n_windows, size_t k)
{
	if (c->p)
		return maxpool_onehot(c->p, max, onehot, x, n_windows, k);
	clear_maxpool(max, NULL, onehot, x, n_windows, k);
	return 0;
}

int nn_maxpool_derivative(struct nn_ctx *c, ring_t *onehot, const ring_t *argmax, size_t n_windows,
			  size_t k)
{
	if (c->p)
		return maxpool_derivative(c->p, onehot, argmax, n_windows, k);
	for (size_t w = 0; w < n_windows; w++)
		for (size_t i = 0; i < k; i++)
			onehot[w * k + i] = argmax[w] == i;
	return 0;
}

int nn_division(struct nn_ctx *c, ring_t *q, const ring_t *x, const ring_t *y, size_t n)
{
	if (c->p)
		return division(c->p, q, x, y, n, c->frac);
	/* The long division's result: floor(x·2^f / y), at most 1 - 2^-f. */
	ring_t cap = ((ring_t)1 << c->frac) - 1;
	for (size_t i = 0; i < n; i++) {
		int64_t xs = ring_signed(x[i]), ys = ring_signed(y[i]);
		if (ys <= 0 || xs < 0) {
			q[i] = ys <= 0 ? cap : 0;
			continue;
		}
		u128 num = (u128)(uint64_t)xs << c->frac;
		u128 quo = num / (uint64_t)ys;
		q[i] = quo > cap ? cap : (ring_t)quo;
	}
	return 0;
}

void nn_add_public(struct nn_ctx *c, ring_t *x, ring_t v, size_t n)
{
	if (c->p) {
		share_add_public(c->p, x, v, n);
		return;
	}
	for (size_t i = 0; i < n; i++)
		x[i] += v;
}
