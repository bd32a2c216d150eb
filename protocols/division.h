/* Π_DIV: fixed-point division by long division (SecureNN section 3.8, the
 * whitepaper's fixed-point version that Table 2 prices as DIV(l_D)).
 *
 * Functionality: shares of x and y with 0 <= x <= y, y > 0, fixed point
 * with f fractional bits -> fresh shares of q = x / y with f fractional
 * bits, computed bit by bit in f iterations (q < 1 needs no integer bits).
 *   p = 0, q = 0; for i = 1..f: z = y / 2^i (local truncation);
 *   b = DReLU(x - p - z); p += b·z; q += b·2^(f-i).
 * Cost per iteration: DReLU (664 bytes) + one product (40 bytes) = 704
 * bytes per element; 9 rounds (DReLU 8 + product 1; the paper counts 10).
 * In total 704·n·f bytes and 9·f rounds (117 for f = 13).
 *
 * Accuracy. Write X = x·2^f, Y = y·2^f for the encodings (integers) and
 * q* = min(floor(X·2^f / Y), 2^f - 1) for the exact quotient in ulps. Each
 * z = y / 2^i comes from a local truncation of y's shares and is
 * floor(Y / 2^i) or ceil(Y / 2^i) (an unbiased random rounding), so the
 * result Q = q·2^f satisfies, for 0 <= x <= y and y > 0,
 *
 *     |Q - q*| <= ceil(f·2^f / Y)  ulps,
 *
 * i.e. at most 1 ulp once y >= f (13.0), at most f ulps for y >= 1.0, and
 * nothing useful when y is a few ulps (then y / 2^i rounds to 0 in the
 * late iterations and x - p >= 0 sets those bits). When Y is a multiple of
 * 2^f (y an integer) every truncation is exact and Q = q* exactly. The
 * output is always a sum of distinct bits: 0 <= Q <= 2^f - 1.
 * Measured (tests/test_division.c, f = 13, 10^5 random pairs with y
 * log-uniform in [2^-13, 2^30]): the largest error is about a third of the
 * bound: 4 ulps for 1 <= y < 2, 2 ulps for 2 <= y < 8, 1 ulp above; Q = q*
 * for 69% of all pairs and 99.98% of those with y >= 1024.
 * All this unless the truncation of y's share pair fails outright
 * (SecureML), which happens with probability about Y / 2^64 per element
 * (one event for all f truncations, as they truncate the same shares):
 * 5·10^-7 for y = 2^30, f = 13. Such an element's quotient is garbage in
 * [0, 1 - 2^-f].
 *
 * Inputs the protocol cannot check (checking would leak x > y):
 *   x >= y    q saturates at 1 - 2^-f (all f bits set); exactly so when
 *             x - y >= (f - 1)·2^-f or y > f - 1, otherwise within the
 *             bound above of it (x = y: the exact quotient 1 is not
 *             representable, 1 - 2^-f is the nearest value).
 *   y <= 0    (x >= 0): every comparison x - p >= z holds, q = 1 - 2^-f.
 *   x < 0     (y >= 0): no comparison holds, q = 0.
 *   x, y < 0  unspecified, in [0, 1 - 2^-f].
 * These hold while |x| and |y| stay below 2^60 (encoded), so that
 * x - p - z meets DReLU's precondition |a| < 2^62.
 *
 * Errors: frac_bits 0 or above FIXED_MAX_FRAC_BITS (40) is ERROR_INVAL
 * (also when n = 0), n beyond memory ERROR_RANGE, NULL operands at P0/P1
 * ERROR_INVAL; n = 0 is a no-op. */
#ifndef SNN_PROTOCOLS_DIVISION_H
#define SNN_PROTOCOLS_DIVISION_H

#include <stddef.h>

#include "party.h"
#include "ring.h"

/* q = x / y element-wise, n elements with frac_bits fractional bits (SecureNN:
 * 13). P2 passes NULL for q, x, y. q may alias x or y. */
int division(struct party *p, ring_t *q, const ring_t *x, const ring_t *y, size_t n,
	     unsigned frac_bits) SNN_MUST_CHECK;

/* Bytes the protocol sends in total (all parties): 704·n·frac_bits, the
 * (8·l·log p + 24·l)·l_D bits of Table 2 per element (9152 for l_D = 13).
 * Exact for every n that division() accepts. */
size_t division_bytes(size_t n, unsigned frac_bits);

#endif
