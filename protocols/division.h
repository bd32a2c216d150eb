/* Π_DIV: fixed-point division by long division (SecureNN section 3.8, the
 * whitepaper's fixed-point version that Table 2 prices as DIV(l_D)).
 *
 * Functionality: shares of x and y with 0 <= x <= y, y > 0, fixed point
 * with f fractional bits -> shares of q = x / y with f fractional bits,
 * computed bit by bit in f iterations (q < 1 needs no integer bits).
 *   p = 0, q = 0; for i = 1..f: z = y / 2^i (local truncation);
 *   b = DReLU(x - p - z); p += b·z; q += b·2^(f-i).
 * Cost per iteration: DReLU (664 bytes) + one product (40 bytes) = 704
 * bytes per element; 9 rounds (the paper counts 10). */
#ifndef SNN_PROTOCOLS_DIVISION_H
#define SNN_PROTOCOLS_DIVISION_H

#include <stddef.h>

#include "party.h"
#include "ring.h"

int division(struct party *p, ring_t *q, const ring_t *x, const ring_t *y, size_t n,
	     unsigned frac_bits) SNN_MUST_CHECK;

#endif
