/* Π_SC, ShareConvert (SecureNN Alg. 4, PoPETs version).
 *
 * Functionality: Z_L shares of a (a != L - 1) -> Z_{L-1} shares of a.
 * Cost: 4·64·8 + 6·64 bits per element (304 bytes), 4 rounds. */
#ifndef SNN_PROTOCOLS_SHARE_CONVERT_H
#define SNN_PROTOCOLS_SHARE_CONVERT_H

#include <stddef.h>

#include "party.h"
#include "ring.h"

/* out (Z_{L-1} shares) from a (Z_L shares); n elements; P2 passes NULLs.
 * out may alias a. */
int share_convert(struct party *p, ring_t *out, const ring_t *a, size_t n) SNN_MUST_CHECK;

#endif
