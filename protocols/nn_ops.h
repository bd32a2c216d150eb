/* The operations neural-network layers are built from, in two modes.
 *
 * Secure mode (ctx->p set): each operation is the SecureNN protocol run by
 * this party; P0 and P1 pass their shares, P2 passes buffers of the same
 * sizes whose contents it ignores (it only helps).
 * Cleartext mode (ctx->p NULL): the same fixed-point arithmetic on plain
 * values, with exact truncation (floor) where the secure mode truncates
 * shares probabilistically. Layers written once against this interface give
 * the secure network and its cleartext twin; the two differ only by the
 * truncation errors (at most one ulp per truncation, except with
 * probability ~2^-20 per value). */
#ifndef SNN_PROTOCOLS_NN_OPS_H
#define SNN_PROTOCOLS_NN_OPS_H

#include <stddef.h>

#include "arena.h"
#include "party.h"
#include "prg.h"
#include "ring.h"

struct nn_ctx {
	struct party *p;      /* the party (secure mode) or NULL (cleartext) */
	struct arena *arena;  /* scratch: the party's, or ctx-owned in cleartext */
	unsigned frac;        /* fixed-point fractional bits */
	struct prg *round;    /* cleartext: NULL floors every truncation; a stream here
			       * rounds up with probability (the dropped bits)/2^bits,
			       * the unbiased rounding share truncation gives */
};

/* Cleartext context using the caller's arena a (truncations floor; set
 * c->round for the parties' random rounding). */
void nn_ctx_init_clear(struct nn_ctx *c, struct arena *a, unsigned frac);

/* 1 where this context holds values (P0, P1, cleartext), 0 at P2. */
static inline int nn_local(const struct nn_ctx *c)
{
	return !c->p || c->p->id != 2;
}

/* Fail with a message (secure: recorded in the party; cleartext: returned). */
int nn_fail(struct nn_ctx *c, int code, const char *what);

/* Z (m x v) = op(X)·op(Y), no truncation (flags: MATMUL_TRANS_*). */
int nn_matmul(struct nn_ctx *c, ring_t *Z, const ring_t *X, const ring_t *Y, size_t m, size_t n,
	      size_t v, unsigned flags) SNN_MUST_CHECK;
/* z = x ⊙ y (no truncation). */
int nn_mul(struct nn_ctx *c, ring_t *z, const ring_t *x, const ring_t *y, size_t n) SNN_MUST_CHECK;
/* Divide by 2^bits: share truncation, or in cleartext floor (round NULL) or
 * random rounding from c->round. */
void nn_truncate(struct nn_ctx *c, ring_t *x, size_t n, unsigned bits);
/* out = max(a, 0), bits = DReLU(a) (integer 0/1). */
int nn_relu(struct nn_ctx *c, ring_t *out, ring_t *bits, const ring_t *a, size_t n) SNN_MUST_CHECK;
/* out = bits ⊙ a. */
int nn_relu_from_bits(struct nn_ctx *c, ring_t *out, const ring_t *bits, const ring_t *a,
		      size_t n) SNN_MUST_CHECK;
/* Max and argmax of n_windows windows of k (window-major). */
int nn_maxpool(struct nn_ctx *c, ring_t *max, ring_t *argmax, const ring_t *x, size_t n_windows,
	       size_t k) SNN_MUST_CHECK;
/* Max and one-hot argmax (any k). */
int nn_maxpool_onehot(struct nn_ctx *c, ring_t *max, ring_t *onehot, const ring_t *x,
		      size_t n_windows, size_t k) SNN_MUST_CHECK;
/* One-hot vectors from argmax (k a power of two). */
int nn_maxpool_derivative(struct nn_ctx *c, ring_t *onehot, const ring_t *argmax, size_t n_windows,
			  size_t k) SNN_MUST_CHECK;
/* q = x / y (0 <= x <= y, y > 0), frac bits. */
int nn_division(struct nn_ctx *c, ring_t *q, const ring_t *x, const ring_t *y, size_t n) SNN_MUST_CHECK;
/* x += public constant v (secure: P0 adds it; cleartext: added). */
void nn_add_public(struct nn_ctx *c, ring_t *x, ring_t v, size_t n);

#endif
