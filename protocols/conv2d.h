/* Conv2d over shares (SecureNN section 5.1): im2col, then Π_MatMul.
 *
 * Layouts (row-major): input batch x height x width x in_ch (NHWC);
 * kernel (f·f·in_ch) x out_ch, row index (ky·f + kx)·in_ch + c;
 * output batch x out_h x out_w x out_ch. Zero padding of `pad` pixels on
 * every side, stride `stride`. Each output position's receptive field is one
 * row of the im2col matrix X (m = batch·out_h·out_w rows, n = f²·in_ch
 * columns); the output is X·K, so the cost is MatMul's with those m, n and
 * v = out_ch: (2mn + 2nv + mv)·64 bits, 1 round (the paper counts 2). */
#ifndef SNN_PROTOCOLS_CONV2D_H
#define SNN_PROTOCOLS_CONV2D_H

#include <stddef.h>

#include "error.h"
#include "party.h"
#include "ring.h"

struct conv2d_shape {
	size_t batch;  /* images */
	size_t height; /* input rows */
	size_t width;  /* input columns */
	size_t in_ch;  /* input channels */
	size_t out_ch; /* output channels (filters) */
	size_t kernel; /* f: filters are f x f */
	size_t stride; /* >= 1 */
	size_t pad;    /* zero padding on each side */
};

/* Check the shape and give the output size and the MatMul dimensions.
 * ERROR_SHAPE (with a message in err) if it does not fit. */
int conv2d_dims(const struct conv2d_shape *s, size_t *out_h, size_t *out_w, size_t *m, size_t *n,
		size_t *v, char *err, size_t err_len) SNN_MUST_CHECK;

/* Lay the receptive fields of in out as rows: cols is m x n. Local. */
void conv2d_im2col(ring_t *cols, const ring_t *in, const struct conv2d_shape *s);

/* out = conv(in, kernel). P2 passes NULLs. */
int conv2d(struct party *p, ring_t *out, const ring_t *in, const ring_t *kernel,
	   const struct conv2d_shape *s) SNN_MUST_CHECK;

#endif
