/* Exact matrix product over the ring Z_2^64.
 *
 * Secret shares are uint64_t and all arithmetic wraps modulo 2^64, so the
 * product of two share matrices is an ordinary integer GEMM whose multiply
 * and add simply drop the carries. Every party computes its local share
 * products with ring_gemm (MatMul, Alg. 1); it is the hottest loop of the
 * whole project.
 *
 * Two implementations, chosen once at run time:
 *   "avx512"  vpmullq/vpaddq kernels (an 8 x 16 register tile with
 *             GotoBLAS-style blocking, a dot-product kernel for thin shapes,
 *             a vector-matrix path for m == 1 or v == 1); needs AVX512F and
 *             AVX512DQ.
 *   "generic" plain C, 4 x 4 register tile, the same blocking.
 * Both give bit-identical results. Single-threaded, and safe to call from
 * several threads at once: the packing buffers are thread-local, 544 KiB
 * per thread (glibc carves static TLS out of each thread's stack, so a
 * thread created with a small explicit stack size may fail to start).
 */
#ifndef SNN_PROTOCOLS_RING_GEMM_H
#define SNN_PROTOCOLS_RING_GEMM_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

enum ring_gemm_flags {
	RING_GEMM_TRANS_A = 1u << 0,   /* A is stored n x m (row-major); use its transpose */
	RING_GEMM_TRANS_B = 1u << 1,   /* B is stored v x n (row-major); use its transpose */
	RING_GEMM_ACCUMULATE = 1u << 2 /* C += op(A)·op(B) instead of C = op(A)·op(B) */
};

/* C (m x v, row-major, contiguous) = op(A) (m x n) · op(B) (n x v) mod 2^64.
 * Any m, n, v >= 0 (zero sizes: C is left as is, or zeroed when not
 * accumulating and n == 0). C must not alias A or B. Never fails and never
 * allocates. */
void ring_gemm(uint64_t *C, const uint64_t *A, const uint64_t *B, size_t m, size_t n, size_t v,
               unsigned flags);

/* Reference triple loop with the same contract, for tests. */
void ring_gemm_naive(uint64_t *C, const uint64_t *A, const uint64_t *B, size_t m, size_t n,
                     size_t v, unsigned flags);

/* "avx512" or "generic": what ring_gemm uses now. */
const char *ring_gemm_impl_name(void);

/* Force an implementation for every thread: "avx512", "generic", or "auto"
 * (the best one this CPU supports, the default). Returns 0, ERROR_UNSUPPORTED
 * if the CPU (or this build) lacks it, ERROR_INVAL if the name is unknown or
 * NULL. Not meant to be called while another thread is inside ring_gemm
 * (harmless, but that call may use either implementation). */
SNN_MUST_CHECK int ring_gemm_set_impl(const char *name);

#endif
