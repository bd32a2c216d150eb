/* Π_PC, PrivateCompare (SecureNN Alg. 3).
 *
 * Functionality: P0 and P1 hold Z_p shares (p = 67) of the 64 bits of a
 * secret x; both know a public r and a common random bit beta. P2 learns
 * beta' = beta XOR (x > r), and nothing else. P0 and P1 learn nothing.
 * Vectorised over n comparisons, one message from each of P0, P1 to P2.
 *
 * Layout: bits are n x 64 bytes, element-major, byte k of element e holds
 * the share of bit k of x_e (k = 0 is the least significant bit).
 * Cost: 2·64·8 bits per comparison (one byte per Z_p element), 1 round. */
#ifndef SNN_PROTOCOLS_PRIVATE_COMPARE_H
#define SNN_PROTOCOLS_PRIVATE_COMPARE_H

#include <stddef.h>
#include <stdint.h>

#include "party.h"
#include "ring.h"

#define PC_BITS 64

/* What P0 and P1 ask of one comparison (known to both, never to P2). */
enum pc_mode {
	PC_COMPARE = 0,    /* P2 learns beta XOR (x > r) */
	PC_FORCE_TRUE = 1, /* the answer is known to be "x > r": P2 learns beta XOR 1 */
};

/* P0/P1: bits (n x 64 Z_p shares), r (n), beta (n, 0/1), mode (n, or NULL
 * for all PC_COMPARE). P2: out_beta (n, 0/1) receives beta'; other
 * pointers NULL. */
int private_compare(struct party *p, uint8_t *out_beta, const zp_t *bits, const ring_t *r,
		    const uint8_t *beta, const uint8_t *mode, size_t n) SNN_MUST_CHECK;

#endif
