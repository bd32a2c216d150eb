/* Π_MP, MaxPool with argmax (SecureNN Alg. 9), and the derivative of
 * MaxPool (Alg. 10 for window sizes dividing 2^64, Alg. 12 for any size).
 *
 * Windows are laid out window-major: x is n_windows x k, window w holding
 * x[w·k .. w·k + k - 1]. Indices are 0-based; ties go to the later element
 * (the scan keeps x_i when x_i >= max). Values must satisfy DReLU's
 * precondition: every difference x_i - max must be below 2^62 in size.
 * Outputs are fresh shares; they may alias the input.
 *
 * Cost per window (rounds: 9·(k - 1) at most, the scan is sequential):
 *   maxpool with argmax   744·(k - 1) bytes = (664 + 2·40)·(k - 1) (Table 2)
 *   maxpool, argmax NULL  704·(k - 1) bytes (only the max is selected)
 *   maxpool_onehot        (664 + 40·(k + 1))·(k - 1) bytes
 *   maxpool_derivative    2 + 16·k bytes (k <= 256, indices as one byte),
 *                         16 + 16·k bytes (k > 256), 2 rounds
 * k = 1 sends nothing.
 *
 * Errors: k = 0 or n_windows = 0 is ERROR_SHAPE, sizes beyond memory
 * ERROR_RANGE, a derivative with k not a power of two ERROR_UNSUPPORTED. */
#ifndef SNN_PROTOCOLS_MAXPOOL_H
#define SNN_PROTOCOLS_MAXPOOL_H

#include <stddef.h>

#include "party.h"
#include "ring.h"

/* max (n_windows) and, if argmax is not NULL, the index of the maximum in
 * its window (n_windows, integer shares). P2 passes NULL for max and x; its
 * argmax only tells whether the index is wanted (the three parties must
 * agree, else the run fails with ERROR_SIZE): P2 passes NULL, or any
 * non-NULL pointer, which is never dereferenced, when P0 and P1 want it. */
int maxpool(struct party *p, ring_t *max, ring_t *argmax, const ring_t *x, size_t n_windows,
	    size_t k) SNN_MUST_CHECK;

/* Alg. 12: max (n_windows; may be NULL) and the one-hot vector of the
 * argmax (n_windows x k, integer 0/1 shares), for any k. P2 passes NULLs. */
int maxpool_onehot(struct party *p, ring_t *max, ring_t *onehot, const ring_t *x, size_t n_windows,
		   size_t k) SNN_MUST_CHECK;

/* Alg. 10: the one-hot vectors (n_windows x k, integer 0/1 shares) from
 * argmax shares (n_windows); k must be a power of two (ERROR_UNSUPPORTED
 * otherwise: use maxpool_onehot). P2 passes NULLs. */
int maxpool_derivative(struct party *p, ring_t *onehot, const ring_t *argmax, size_t n_windows,
		       size_t k) SNN_MUST_CHECK;

#endif
