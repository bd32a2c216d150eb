/* Π_MSB, ComputeMSB (SecureNN Alg. 5).
 *
 * Functionality: Z_{L-1} shares of a -> Z_L shares of MSB(a) (0 or 1).
 * Cost: 4·64·8 + 13·64 bits per element (360 bytes), 5 rounds. */
#ifndef SNN_PROTOCOLS_COMPUTE_MSB_H
#define SNN_PROTOCOLS_COMPUTE_MSB_H

#include <stddef.h>

#include "party.h"
#include "ring.h"

int compute_msb(struct party *p, ring_t *out, const ring_t *a, size_t n) SNN_MUST_CHECK;

#endif
