/* Fixed-point encoding of reals in Z_{2^64}: two's complement with
 * frac_bits fractional bits (SecureNN: 13). 2^15 is 4.0 when frac_bits = 13,
 * 2^64 - 2^13 is -1.0.
 *
 * Encodable values are those with |x| * 2^frac_bits < 2^62, so that the
 * doubling inside DReLU cannot change the sign (DReLU's precondition,
 * Lemma 4). Larger values, NaN and infinities are refused. */
#ifndef SNN_PROTOCOLS_FIXED_H
#define SNN_PROTOCOLS_FIXED_H

#include <stddef.h>

#include "error.h"
#include "ring.h"

#define FIXED_FRAC_BITS 13   /* SecureNN's precision (l_D) */
#define FIXED_MAX_FRAC_BITS 40
#define FIXED_LIMIT_BITS 62  /* |encoded| < 2^62 */

/* Largest encodable magnitude for frac_bits: the largest double whose
 * encoding is below 2^62, i.e. (2^62 - 2^9) / 2^frac_bits. */
double fixed_max(unsigned frac_bits);

/* Round x to the nearest multiple of 2^-frac_bits. ERROR_RANGE if it does
 * not fit, ERROR_INVAL for NaN or frac_bits > FIXED_MAX_FRAC_BITS. */
int fixed_encode(ring_t *out, double x, unsigned frac_bits) SNN_MUST_CHECK;
int fixed_encode_array(ring_t *out, const double *x, size_t n, unsigned frac_bits,
		       size_t *bad_index) SNN_MUST_CHECK;

double fixed_decode(ring_t x, unsigned frac_bits);
void fixed_decode_array(double *out, const ring_t *x, size_t n, unsigned frac_bits);

/* Cleartext product of two encoded values, truncated like the protocols
 * do (arithmetic shift of the 128-bit-free ring product). */
ring_t fixed_mul(ring_t a, ring_t b, unsigned frac_bits);

#endif
