/* Π_MatMul (SecureNN Alg. 1 with the PRF optimisation of section 4.6).
 *
 * Functionality: P0 and P1 hold shares of X (m x n) and Y (n x v) over
 * Z_{2^64}; they get fresh shares of Z = X·Y (m x v). P2 learns nothing.
 *
 *   P2:  derives A0, B0, C0 from the P0-P2 key and A1, B1 from the P1-P2
 *        key (P0 and P1 derive the same), forms C = (A0+A1)(B0+B1) and
 *        sends C1 = C - C0 to P1 only.                          (mv elements)
 *   Pj:  E_j = X_j - A_j, F_j = Y_j - B_j; P0 and P1 exchange them and
 *        open E = X - A, F = Y - B.                    (2(mn + nv) elements)
 *   Pj:  Z_j = -j·E·F + X_j·F + E·Y_j + C_j + U_j  with U0 + U1 = 0.
 *
 * Communication (Table 1, with PRF): (2mn + 2nv + mv)·64 bits.
 * Rounds: the paper counts 2; P2's message does not depend on anything P2
 * receives, so it travels in the same round as the E/F exchange: 1 round.
 * What P0/P1 see: E and F, uniformly masked by P2's A and B.
 *
 * No truncation here: for fixed-point operands follow with share_truncate. */
#ifndef SNN_PROTOCOLS_MATMUL_H
#define SNN_PROTOCOLS_MATMUL_H

#include <stddef.h>

#include "error.h"
#include "party.h"
#include "ring.h"

enum matmul_flags {
	MATMUL_TRANS_X = 1u << 0, /* X is stored n x m: use its transpose */
	MATMUL_TRANS_Y = 1u << 1, /* Y is stored v x n: use its transpose */
};

/* Z (m x v) = op(X) · op(Y). P2 passes NULL for Z, X, Y. Z must not
 * overlap X or Y. */
int matmul(struct party *p, ring_t *Z, const ring_t *X, const ring_t *Y, size_t m, size_t n,
	   size_t v, unsigned flags) SNN_MUST_CHECK;

/* Element-wise product z = x ⊙ y of n values: n independent 1x1x1
 * MatMuls in one exchange; 5·64 bits per element. P2 passes NULLs.
 * z may be x or y. */
int matmul_elementwise(struct party *p, ring_t *z, const ring_t *x, const ring_t *y,
		       size_t n) SNN_MUST_CHECK;

/* Bytes the protocol sends in total (all parties), for the cost oracle. */
size_t matmul_bytes(size_t m, size_t n, size_t v);

#endif
