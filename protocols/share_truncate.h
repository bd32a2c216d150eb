/* SecureML local truncation (SecureNN App. B, Alg. 11).
 *
 * Divides a shared fixed-point value by 2^bits without communication:
 *   P0: x0 <- x0 >> bits (arithmetic);  P1: x1 <- -((-x1) >> bits).
 * The result is floor(x / 2^bits) or one more, except with probability about
 * 2^(lx + 1 - 64) for |x| < 2^lx, where it is wildly wrong (the share pair
 * wrapped around 2^64 at the wrong place). P2 does nothing. 0 rounds, 0 bytes. */
#ifndef SNN_PROTOCOLS_SHARE_TRUNCATE_H
#define SNN_PROTOCOLS_SHARE_TRUNCATE_H

#include <stddef.h>

#include "party.h"
#include "ring.h"

void share_truncate(struct party *p, ring_t *x, size_t n, unsigned bits);

/* The same on a share held outside a run (party 0 or 1). */
void share_truncate_local(int party_id, ring_t *x, size_t n, unsigned bits);

#endif
