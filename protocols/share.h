/* Additive secret sharing over Z_{2^64} between P0 and P1.
 *
 * Share(x): pick r uniform, P0 holds r, P1 holds x - r. Either share alone
 * is uniform and says nothing about x. The data owner (outside the three
 * parties) shares inputs with share_split(); inside a run the parties use
 * the functions below. P2 never holds shares of data: in every function
 * here P2 does nothing and returns 0. */
#ifndef SNN_PROTOCOLS_SHARE_H
#define SNN_PROTOCOLS_SHARE_H

#include <stddef.h>

#include "error.h"
#include "party.h"
#include "prg.h"
#include "ring.h"

/* Data owner's side: s0 = r (uniform from g), s1 = x - r. */
void share_split(struct prg *g, ring_t *s0, ring_t *s1, const ring_t *x, size_t n);

/* x = s0 + s1. */
void share_combine(ring_t *x, const ring_t *s0, const ring_t *s1, size_t n);

/* P0 and P1 open their shares xs (n) to each other: both get x (n).
 * One exchange, 8n bytes each way. P2: no-op. */
int share_reveal(struct party *p, ring_t *x, const ring_t *xs, size_t n) SNN_MUST_CHECK;

/* Fresh shares of zero from the P0-P1 common stream: P0 gets u, P1 gets -u
 * (n values). No communication. P2: no-op. */
void share_zero(struct party *p, ring_t *u, size_t n);

/* x += fresh zero-sharing: re-randomises P0's and P1's shares of x. */
void share_rerandomize(struct party *p, ring_t *x, size_t n);

/* Add a public constant c to the shared value (P0 adds it). */
void share_add_public(struct party *p, ring_t *x, ring_t c, size_t n);

#endif
