/* Π_SS, SelectShare (SecureNN Alg. 2).
 *
 * Functionality: P0, P1 hold Z_L shares of a bit alpha and of x, y; they get
 * fresh shares of (1 - alpha)·x + alpha·y, i.e. y where alpha = 1, else x.
 *   Pj: w_j = y_j - x_j;  c = alpha·w (element-wise MatMul);  out_j = x_j + c_j + u_j.
 * P2 only deals the multiplication triplet.
 * Cost: 5·64 bits per element (40 bytes), 1 round (the paper counts 2). */
#ifndef SNN_PROTOCOLS_SELECT_SHARE_H
#define SNN_PROTOCOLS_SELECT_SHARE_H

#include <stddef.h>

#include "party.h"
#include "ring.h"

/* out = alpha ? y : x, n elements. P2 passes NULLs. out may alias x or y. */
int select_share(struct party *p, ring_t *out, const ring_t *alpha, const ring_t *x,
		 const ring_t *y, size_t n) SNN_MUST_CHECK;

#endif
