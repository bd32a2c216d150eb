/* The rings of SecureNN and element-wise helpers.
 *
 *   Z_L,     L = 2^64: ring_t (uint64_t), wrap-around arithmetic.
 *   Z_{L-1}: also ring_t, values in [0, 2^64 - 2]; needed so that
 *            MSB(a) = LSB(2a) (the ring has odd order).
 *   Z_p,     p = 67: zp_t (one byte), shares of single bits.
 *
 * Ring values are always unsigned: signed overflow is undefined in C. */
#ifndef SNN_PROTOCOLS_RING_H
#define SNN_PROTOCOLS_RING_H

#include <stddef.h>
#include <stdint.h>

typedef uint64_t ring_t; /* element of Z_{2^64} */
typedef uint8_t zp_t;    /* element of Z_67 */

#define RING_BITS 64
#define RING_BYTES 8
#define ZP_PRIME 67u
#define RING_ODD_MAX UINT64_C(0xFFFFFFFFFFFFFFFE) /* largest element of Z_{L-1} */

/* z = x + y, z = x - y, z = -x, z = c * x (element-wise over Z_L; z may alias). */
void ring_add(ring_t *z, const ring_t *x, const ring_t *y, size_t n);
void ring_sub(ring_t *z, const ring_t *x, const ring_t *y, size_t n);
void ring_neg(ring_t *z, const ring_t *x, size_t n);
void ring_scale(ring_t *z, const ring_t *x, ring_t c, size_t n);

/* Addition and subtraction in Z_{L-1} (inputs must be < L - 1). */
static inline ring_t ring_odd_add(ring_t a, ring_t b)
{
	ring_t s = a + b;
	/* a + b overflowed 2^64, or reached L - 1: reduce once. */
	if (s < a)
		s += 1; /* 2^64 = 1 mod (2^64 - 1) */
	if (s == UINT64_MAX)
		s = 0;
	return s;
}

static inline ring_t ring_odd_neg(ring_t a)
{
	return a == 0 ? 0 : RING_ODD_MAX - a + 1;
}

static inline ring_t ring_odd_sub(ring_t a, ring_t b)
{
	return ring_odd_add(a, ring_odd_neg(b));
}

/* Signed view of a ring element (two's complement). */
static inline int64_t ring_signed(ring_t x)
{
	return x <= (ring_t)INT64_MAX ? (int64_t)x : -(int64_t)(~x) - 1;
}

/* wrap(x, y, L) = 1 iff x + y >= 2^64 over the integers. */
static inline ring_t ring_wrap(ring_t x, ring_t y)
{
	return (ring_t)(x + y < x);
}

#endif
