#include "conv2d.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "matmul.h"

int conv2d_dims(const struct conv2d_shape *s, size_t *out_h, size_t *out_w, size_t *m, size_t *n,
		size_t *v, char *err, size_t err_len)
{
	if (!s->batch || !s->height || !s->width || !s->in_ch || !s->out_ch || !s->kernel) {
		snprintf(err, err_len, "conv2d: every dimension must be at least 1");
		return ERROR_SHAPE;
	}
	if (!s->stride) {
		snprintf(err, err_len, "conv2d: stride must be at least 1");
		return ERROR_SHAPE;
	}
	size_t lim = (size_t)1 << 24; /* any one dimension */
	if (s->height > lim || s->width > lim || s->in_ch > lim || s->out_ch > lim ||
	    s->kernel > lim || s->pad > lim || s->batch > lim || s->stride > lim) {
		snprintf(err, err_len, "conv2d: a dimension exceeds %zu", lim);
		return ERROR_RANGE;
	}
	size_t ph = s->height + 2 * s->pad, pw = s->width + 2 * s->pad;
	if (s->kernel > ph || s->kernel > pw) {
		snprintf(err, err_len, "conv2d: %zux%zu filter does not fit a %zux%zu input with padding %zu",
			 s->kernel, s->kernel, s->height, s->width, s->pad);
		return ERROR_SHAPE;
	}
	size_t oh = (ph - s->kernel) / s->stride + 1, ow = (pw - s->kernel) / s->stride + 1;
	size_t rows = oh * ow;
	if (rows > SIZE_MAX / 64 / s->batch) {
		snprintf(err, err_len, "conv2d: output too large");
		return ERROR_RANGE;
	}
	size_t cols = s->kernel * s->kernel;
	if (cols > SIZE_MAX / 64 / s->in_ch || rows * s->batch > SIZE_MAX / 64 / (cols * s->in_ch)) {
		snprintf(err, err_len, "conv2d: im2col matrix too large");
		return ERROR_RANGE;
	}
	*out_h = oh;
	*out_w = ow;
	*m = s->batch * rows;
	*n = cols * s->in_ch;
	*v = s->out_ch;
	return 0;
}

void conv2d_im2col(ring_t *cols, const ring_t *in, const struct conv2d_shape *s)
{
	size_t f = s->kernel, c = s->in_ch;
	size_t ph = s->height + 2 * s->pad, pw = s->width + 2 * s->pad;
	size_t oh = (ph - f) / s->stride + 1, ow = (pw - f) / s->stride + 1;
	ring_t *dst = cols;
	for (size_t b = 0; b < s->batch; b++) {
		const ring_t *img = in + b * s->height * s->width * c;
		for (size_t oy = 0; oy < oh; oy++) {
			for (size_t ox = 0; ox < ow; ox++) {
				for (size_t ky = 0; ky < f; ky++) {
					/* Padded coordinates; outside the image means zero. */
					size_t y = oy * s->stride + ky;
					int row_in = y >= s->pad && y - s->pad < s->height;
					size_t x0 = ox * s->stride;
					if (row_in && x0 >= s->pad && x0 + f - s->pad <= s->width) {
						/* Whole kernel row inside: one copy of f·c values. */
						memcpy(dst, img + ((y - s->pad) * s->width + (x0 - s->pad)) * c,
						       f * c * sizeof(ring_t));
						dst += f * c;
						continue;
					}
					for (size_t kx = 0; kx < f; kx++) {
						size_t x = x0 + kx;
						if (row_in && x >= s->pad && x - s->pad < s->width)
							memcpy(dst, img + ((y - s->pad) * s->width + (x - s->pad)) * c,
							       c * sizeof(ring_t));
						else
							memset(dst, 0, c * sizeof(ring_t));
						dst += c;
					}
				}
			}
		}
	}
}

int conv2d(struct party *p, ring_t *out, const ring_t *in, const ring_t *kernel,
	   const struct conv2d_shape *s)
{
	size_t oh, ow, m, n, v;
	char err[160];
	int rc = conv2d_dims(s, &oh, &ow, &m, &n, &v, err, sizeof(err));
	if (rc < 0)
		return party_fail(p, rc, "P%d: %s", p->id, err);
	if (p->id != 2 && (!out || !in || !kernel))
		return party_fail(p, ERROR_INVAL, "P%d: conv2d without operands", p->id);
	stats_push(p, "conv2d");
	struct arena_mark mark = arena_mark(&p->arena);
	ring_t *cols = NULL;
	if (p->id != 2) {
		cols = arena_alloc_array(&p->arena, m * n, sizeof(ring_t)); /* m x n */
		if (!cols) {
			rc = party_fail(p, ERROR_NOMEM, "P%d: im2col of %zu x %zu", p->id, m, n);
			goto out;
		}
		conv2d_im2col(cols, in, s);
	}
	rc = matmul(p, out, cols, kernel, m, n, v, 0);
out:
	arena_reset(&p->arena, mark);
	stats_pop(p);
	return rc;
}
