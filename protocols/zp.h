/* Vector kernels over Z_67, the field of PrivateCompare.
 *
 * A Z_67 element is one byte (0..66). The 64 bit positions of one
 * comparison are 64 consecutive bytes, position k holding bit k (k = 0 is
 * the least significant bit), so one AVX-512 register holds a whole
 * comparison and a 64-bit ring value is directly a lane mask. Each kernel
 * has an AVX-512 (BW, VBMI, VL) version and a portable one, chosen at run time;
 * both give identical bytes. */
#ifndef SNN_PROTOCOLS_ZP_H
#define SNN_PROTOCOLS_ZP_H

#include <stddef.h>
#include <stdint.h>

#include "ring.h"

#define ZP_POSITIONS 64

/* P2's bit decomposition: s1 = bits(x) - s0 (mod 67), n x 64 bytes each. */
void zp_share_bits(zp_t *s1, const zp_t *s0, const ring_t *x, size_t n);

/* PrivateCompare, Steps 1-3 at party j for n comparisons (spec 3.3):
 * R[e] is the public value compared against (r, or t = r + 1 when
 * flip[e] = 1, the beta = 1 form). s (n x 64, non-zero), z (n x 64) are the
 * common multipliers and the zero-sharing mask, perm (n x 64) the common
 * permutations. d (n x 64) receives the permuted, masked shares to send. */
void zp_pc_shares(zp_t *d, const zp_t *bits, const ring_t *R, const uint8_t *flip, const zp_t *s,
		  const zp_t *z, const uint8_t *perm, int j, size_t n);

/* P2: beta[e] = 1 iff d0[e] + d1[e] has a zero position (mod 67). */
void zp_pc_reveal(uint8_t *beta, const zp_t *d0, const zp_t *d1, size_t n);

/* n uniform random permutations of 0..63 (n x 64 bytes) drawn from g:
 * Fisher-Yates with Lemire's unbiased bounded draws on 16-bit words, taken
 * in chunks of 64 permutations (zp.c defines the exact use of the stream).
 * Both kernels give the same permutations from the same stream. */
struct prg;
void zp_permutations(uint8_t *perm, struct prg *g, size_t n);

/* "avx512" or "generic"; zp_set_impl forces one (for tests). */
const char *zp_impl_name(void);
int zp_set_impl(const char *name);

#endif
