/* Π_DReLU (SecureNN Alg. 6) and Π_ReLU (Alg. 7).
 *
 * DReLU: Z_L shares of a -> Z_L shares of ReLU'(a) = 1 if a >= 0 else 0
 * (MSB(a) = 0), the bit as the integer 0/1 (not fixed point).
 *   c_j = 2·a_j;  y = ShareConvert(c);  alpha = ComputeMSB(y);  out_j = j - alpha_j + u_j.
 * Precondition (Lemma 4): |a| < 2^62 as a signed value; outside it the
 * result is unspecified (doubling can flip the sign).
 * Cost: 8·64·8 + 19·64 bits = 664 bytes per element, 8 rounds.
 *
 * ReLU: DReLU, then the element-wise product alpha·a: 40 more bytes per
 * element, 1 more round (the paper counts 2). The DReLU bits are returned
 * for back-propagation. */
#ifndef SNN_PROTOCOLS_RELU_H
#define SNN_PROTOCOLS_RELU_H

#include <stddef.h>

#include "party.h"
#include "ring.h"

int drelu(struct party *p, ring_t *out, const ring_t *a, size_t n) SNN_MUST_CHECK;

/* out = max(a, 0); bits (may be NULL) receives the DReLU shares. */
int relu(struct party *p, ring_t *out, ring_t *bits, const ring_t *a, size_t n) SNN_MUST_CHECK;

/* out = bits ⊙ a: ReLU from DReLU bits already known (40 bytes/element). */
int relu_from_drelu(struct party *p, ring_t *out, const ring_t *bits, const ring_t *a,
		    size_t n) SNN_MUST_CHECK;

#endif
