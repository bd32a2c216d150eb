/* Tests for ring_gemm: exact matrix product over Z_2^64.
 *
 * Every implementation the CPU supports is checked against the triple loop
 * ring_gemm_naive. To test the four transpose combinations cheaply, the
 * logical operands op(A), op(B) are drawn once and also stored transposed,
 * so one reference product serves every combination. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ring_gemm.h"

static uint64_t splitmix64(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15u);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
	return z ^ (z >> 31);
}

static uint64_t *alloc_u64(size_t count)
{
	uint64_t *p = malloc((count ? count : 1) * sizeof *p);
	cr_assert_not_null(p, "malloc of %zu words", count);
	return p;
}

static void transpose_copy(uint64_t *dst, const uint64_t *src, size_t rows, size_t cols)
{
	for (size_t r = 0; r < rows; r++) {
		for (size_t c = 0; c < cols; c++)
			dst[c * rows + r] = src[r * cols + c];
	}
}

static const char *const impls[] = {"generic", "avx512"};
#define N_IMPLS (sizeof impls / sizeof impls[0])

/* Select an implementation; false if this CPU lacks it. */
static bool use_impl(const char *name)
{
	int rc = ring_gemm_set_impl(name);
	if (rc == ERROR_UNSUPPORTED)
		return false;
	cr_assert_eq(rc, 0, "ring_gemm_set_impl(%s) = %d", name, rc);
	cr_assert_str_eq(ring_gemm_impl_name(), name);
	return true;
}

/* Check every supported implementation, all four transpose combinations,
 * with and without ACCUMULATE, on op(A) = a (m x n), op(B) = b (n x v). */
static void check_all(uint64_t seed, const uint64_t *a, const uint64_t *b, size_t m, size_t n,
                      size_t v)
{
	uint64_t *at = alloc_u64(m * n), *bt = alloc_u64(n * v);
	uint64_t *want = alloc_u64(m * v), *c0 = alloc_u64(m * v), *c = alloc_u64(m * v);
	transpose_copy(at, a, m, n);
	transpose_copy(bt, b, n, v);
	ring_gemm_naive(want, a, b, m, n, v, 0);
	uint64_t state = seed ^ 0x5eed;
	for (size_t i = 0; i < m * v; i++)
		c0[i] = splitmix64(&state);

	for (size_t x = 0; x < N_IMPLS; x++) {
		if (!use_impl(impls[x]))
			continue;
		for (unsigned flags = 0; flags < 8; flags++) {
			const uint64_t *pa = (flags & RING_GEMM_TRANS_A) ? at : a;
			const uint64_t *pb = (flags & RING_GEMM_TRANS_B) ? bt : b;
			bool acc = flags & RING_GEMM_ACCUMULATE;
			memcpy(c, c0, m * v * sizeof *c);
			ring_gemm(c, pa, pb, m, n, v, flags);
			for (size_t i = 0; i < m * v; i++) {
				uint64_t expect = acc ? c0[i] + want[i] : want[i];
				cr_assert_eq(
				    c[i], expect,
				    "%s seed %#llx shape %zux%zux%zu flags %u: C[%zu][%zu] = "
				    "%#llx, want %#llx",
				    impls[x], (unsigned long long)seed, m, n, v, flags, i / v,
				    i % v, (unsigned long long)c[i], (unsigned long long)expect);
			}
		}
	}
	free(at);
	free(bt);
	free(want);
	free(c0);
	free(c);
}

static void check_random(uint64_t seed, size_t m, size_t n, size_t v)
{
	uint64_t state = seed;
	uint64_t *a = alloc_u64(m * n), *b = alloc_u64(n * v);
	for (size_t i = 0; i < m * n; i++)
		a[i] = splitmix64(&state);
	for (size_t i = 0; i < n * v; i++)
		b[i] = splitmix64(&state);
	check_all(seed, a, b, m, n, v);
	free(a);
	free(b);
}

/* The naive loop itself, on the transposes, against a hand computation. */
Test(ring_gemm, worked_example_wraps_modulo_2_64)
{
	const uint64_t M = UINT64_MAX; /* -1 */
	/* A = [[-1, 2, 2^63], [3, -2, 1]], B = [[-1, 1], [2^63, 5], [2, -1]]. */
	const uint64_t A[6] = {M, 2, 1ull << 63, 3, M - 1, 1};
	const uint64_t B[6] = {M, 1, 1ull << 63, 5, 2, M};
	/* C[0][0] = 1 + 2^64 + 2^64 = 1; C[0][1] = -1 + 10 - 2^63 = 9 + 2^63;
	 * C[1][0] = -3 - 2^64 + 2 = -1; C[1][1] = 3 - 10 - 1 = -8. */
	const uint64_t want[4] = {1, 9 + (1ull << 63), M, M - 7};
	const uint64_t At[6] = {A[0], A[3], A[1], A[4], A[2], A[5]}; /* 3 x 2 */
	const uint64_t Bt[6] = {B[0], B[2], B[4], B[1], B[3], B[5]}; /* 2 x 3 */

	for (int x = -1; x < (int)N_IMPLS; x++) {
		if (x >= 0 && !use_impl(impls[x]))
			continue;
		for (unsigned flags = 0; flags < 4; flags++) {
			const uint64_t *pa = (flags & RING_GEMM_TRANS_A) ? At : A;
			const uint64_t *pb = (flags & RING_GEMM_TRANS_B) ? Bt : B;
			uint64_t c[4] = {7, 7, 7, 7};
			if (x < 0)
				ring_gemm_naive(c, pa, pb, 2, 3, 2, flags);
			else
				ring_gemm(c, pa, pb, 2, 3, 2, flags);
			for (int i = 0; i < 4; i++)
				cr_assert_eq(c[i], want[i],
				             "%s flags %u: C[%d] = %#llx, want %#llx",
				             x < 0 ? "naive" : impls[x], flags, i,
				             (unsigned long long)c[i], (unsigned long long)want[i]);
			ring_gemm(c, pa, pb, 2, 3, 2, flags | RING_GEMM_ACCUMULATE);
			for (int i = 0; i < 4; i++)
				cr_assert_eq(c[i], 2 * want[i], "%s flags %u accumulate: C[%d]",
				             x < 0 ? "naive" : impls[x], flags, i);
		}
	}
}

Test(ring_gemm, small_shapes_match_naive_exhaustively)
{
	static const size_t sizes[] = {1, 2, 3, 7, 8, 9, 15, 16, 17};
	const size_t n_sizes = sizeof sizes / sizeof sizes[0];
	uint64_t seed = 1;
	for (size_t i = 0; i < n_sizes; i++)
		for (size_t k = 0; k < n_sizes; k++)
			for (size_t j = 0; j < n_sizes; j++)
				check_random(seed++, sizes[i], sizes[k], sizes[j]);
}

/* Every edge tile: m and v from 1 to 24 cover all row counts of the
 * register tiles and all widths of the last panel, in both orientations. */
Test(ring_gemm, every_edge_tile_matches_naive)
{
	static const size_t depths[] = {1, 5, 19};
	uint64_t seed = 500;
	for (size_t m = 1; m <= 24; m++)
		for (size_t v = 1; v <= 24; v++)
			for (size_t d = 0; d < 3; d++)
				check_random(seed++, m, depths[d], v);
}

/* Vector-matrix products (m == 1) and matrix-vector products (v == 1) up to
 * more than two 64-column blocks. */
Test(ring_gemm, vector_products_match_naive)
{
	static const size_t depths[] = {1, 9, 70};
	uint64_t seed = 20000;
	for (size_t len = 1; len <= 140; len++) {
		for (size_t d = 0; d < 3; d++) {
			check_random(seed++, 1, depths[d], len);
			check_random(seed++, len, depths[d], 1);
		}
	}
}

Test(ring_gemm, random_shapes_match_naive)
{
	static const size_t sizes[] = {1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 33, 64, 65, 100, 129, 257};
	const size_t n_sizes = sizeof sizes / sizeof sizes[0];
	uint64_t state = 0x600d;
	for (int t = 0; t < 120; t++) {
		uint64_t seed = 1000 + (uint64_t)t;
		size_t m = sizes[splitmix64(&state) % n_sizes];
		size_t n = sizes[splitmix64(&state) % n_sizes];
		size_t v = sizes[splitmix64(&state) % n_sizes];
		if (m * n * v > 2000000) /* keep the reference loop cheap */
			n = 17;
		check_random(seed, m, n, v);
	}
}

Test(ring_gemm, paper_shapes_match_naive)
{
	static const size_t shapes[][3] = {
	    {128, 784, 128}, {784, 128, 10}, {1, 500, 100},  {576, 25, 20},
	    {128, 128, 128}, {1, 100, 1},    {10, 128, 784}, {100, 500, 1},
	};
	for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
		check_random(2000 + s, shapes[s][0], shapes[s][1], shapes[s][2]);
}

/* Shapes that reach every code path of the blocked implementation: k split
 * into slabs (n > KC = 512), v into blocks (v > NC = 128), B read in place
 * (m <= 16) with a padded last panel, A micro-panels packed (A transposed
 * with m >= 512), the dot-product path with B^T packed in chunks of k. */
Test(ring_gemm, blocking_boundaries_match_naive)
{
	check_random(3000, 130, 1100, 400);
	check_random(3001, 400, 300, 129);
	check_random(3002, 9, 1000, 790);
	check_random(3003, 520, 40, 40);
	check_random(3004, 64, 9000, 12);
	check_random(3005, 12, 9000, 64);
}

Test(ring_gemm, zero_sizes_leave_or_zero_c)
{
	const uint64_t A[4] = {1, 2, 3, 4}, B[4] = {5, 6, 7, 8};
	for (int x = -1; x < (int)N_IMPLS; x++) {
		if (x >= 0 && !use_impl(impls[x]))
			continue;
		const char *name = x < 0 ? "naive" : impls[x];
		for (unsigned flags = 0; flags < 8; flags++) {
			void (*f)(uint64_t *, const uint64_t *, const uint64_t *, size_t, size_t,
			          size_t, unsigned) = x < 0 ? ring_gemm_naive : ring_gemm;
			uint64_t c[4] = {9, 9, 9, 9};
			f(c, A, B, 0, 2, 2, flags);
			f(c, A, B, 2, 2, 0, flags);
			f(c, A, B, 0, 0, 0, flags);
			for (int i = 0; i < 4; i++)
				cr_assert_eq(c[i], 9, "%s flags %u: m or v = 0 wrote C[%d]", name,
				             flags, i);
			f(c, A, B, 2, 0, 2, flags);
			uint64_t expect = (flags & RING_GEMM_ACCUMULATE) ? 9 : 0;
			for (int i = 0; i < 4; i++)
				cr_assert_eq(c[i], expect, "%s flags %u: n = 0, C[%d] = %llu", name,
				             flags, i, (unsigned long long)c[i]);
			/* NULL operands are fine when nothing is read. */
			f(c, NULL, NULL, 2, 0, 2, flags);
		}
	}
}

Test(ring_gemm, boundary_values_match_naive)
{
	static const uint64_t values[] = {0, 1, UINT64_MAX, 1ull << 63, (1ull << 63) - 1};
	static const size_t shapes[][3] = {{1, 1, 1},   {8, 8, 8},  {17, 33, 25},
	                                   {1, 65, 31}, {40, 9, 1}, {64, 300, 64}};
	uint64_t state = 77;
	for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
		size_t m = shapes[s][0], n = shapes[s][1], v = shapes[s][2];
		uint64_t *a = alloc_u64(m * n), *b = alloc_u64(n * v);
		/* Every operand one of the boundary values; then all-maximal. */
		for (int round = 0; round < 2; round++) {
			for (size_t i = 0; i < m * n; i++)
				a[i] = round ? UINT64_MAX : values[splitmix64(&state) % 5];
			for (size_t i = 0; i < n * v; i++)
				b[i] = round ? UINT64_MAX : values[splitmix64(&state) % 5];
			check_all(4000 + 2 * s + (uint64_t)round, a, b, m, n, v);
		}
		free(a);
		free(b);
	}
}

Test(ring_gemm, set_impl_rejects_unknown_names)
{
	cr_assert_eq(ring_gemm_set_impl("sse9"), ERROR_INVAL);
	cr_assert_eq(ring_gemm_set_impl(NULL), ERROR_INVAL);
	cr_assert_eq(ring_gemm_set_impl("generic"), 0);
	cr_assert_str_eq(ring_gemm_impl_name(), "generic");
	int rc = ring_gemm_set_impl("avx512");
	cr_assert(rc == 0 || rc == ERROR_UNSUPPORTED, "avx512: %d", rc);
	cr_assert_eq(ring_gemm_set_impl("auto"), 0);
	const char *name = ring_gemm_impl_name();
	cr_assert_str_eq(name, rc == 0 ? "avx512" : "generic");
}
