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

/* Arithmetic in Z_{L-1} (inputs must be < L - 1), without branches: these
 * run on uniform data, where a branch mispredicts half of the time. */

/* A 64-bit word as an element of Z_{L-1}: L - 1 maps to 0 (a uniform word
 * gives an element at statistical distance 2^-64 from uniform). */
static inline ring_t ring_to_odd(ring_t v)
{
	return v & -(ring_t)(v != UINT64_MAX);
}

static inline ring_t ring_odd_add(ring_t a, ring_t b)
{
	ring_t s = a + b;
	s += s < a; /* 2^64 = 1 mod (L - 1) */
	return ring_to_odd(s);
}

/* -b = (L - 1) - b = ~b; b = 0 gives L - 1, which the addition folds. */
static inline ring_t ring_odd_neg(ring_t a)
{
	return ring_to_odd(~a);
}

static inline ring_t ring_odd_sub(ring_t a, ring_t b)
{
	return ring_odd_add(a, ~b);
}

/* c ? x : y for a bit c, without a branch. */
static inline ring_t ring_pick(unsigned c, ring_t x, ring_t y)
{
	ring_t m = (ring_t)0 - (ring_t)(c & 1u);
	return (x & m) | (y & ~m);
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
