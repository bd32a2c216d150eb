/* Exact matrix product over Z_2^64: C (m x v) = op(A) (m x n) · op(B) (n x v).
 *
 * The local work of MatMul (Alg. 1): P2 computes the triple product A·B
 * (C1 = (A0+A1)(B0+B1) - C0 with the PRF optimisation); P0 and P1 each
 * compute X_j·F + E·Y_j (and P0 also -E·F). No party logic lives here:
 * zero rounds, zero bytes. uint64_t arithmetic wraps, so every product is
 * exact however the sums are ordered, and every path below gives the same
 * bits.
 *
 * Every matrix is reached through a view, element (r, c) at p[r*rs + c*cs],
 * so op(A), op(B) and the transposed problem C^T = op(B)^T · op(A)^T cost
 * nothing but swapped strides.
 *
 * AVX-512 paths (chosen per call by a small cost model, gemm_avx512):
 *
 *   blocked   GotoBLAS / BLIS loops around an 8 x 16 register tile:
 *
 *     for jc in steps of NC over v:           B block  kc x nc
 *       for pc in steps of kc <= KC over n:   pack B block into b_pack
 *         for ir in steps of MR over m:       A micro-panel mr x kc (L1)
 *           for jr in steps of NR over nc:    B micro-panel kc x 16 (L2)
 *             kernel: C[ir.., jr..] (+)= A micro-panel · B micro-panel
 *
 *             Per k: 2 loads of B (16 columns), mr broadcasts of A, and
 *             2*mr vpmullq + vpaddq into named accumulators c<row><vector>.
 *             One kernel per (mr, nv), so edge tiles waste no rows and at
 *             most 7 lanes.
 *
 *             b_pack holds micro-panel [jr, jr + w) at b_pack + jr*kc,
 *             element (k, j) at [k*w + j], w = 16 (or 8 for a last panel
 *             of at most 8 columns, zero padded).
 *
 *             A is read in place (packing it was slower on Zen 4 for every
 *             shape measured), except that micro-panels of a k-major A with
 *             a long stride are copied into a_pack (element (r, k) at
 *             [k*mr + r]). With m <= 16, B is read in place too and the
 *             loops over ir and jr swap.
 *
 *   swapped   the blocked path on C^T = op(B)^T · op(A)^T, when v is thinner
 *             than m: the kernel pads only columns (lanes), so the thin side
 *             goes to the rows; tiles of C^T are transposed in registers on
 *             the way out.
 *
 *   dot       C(i, j) = dot product of row i of op(A) and column j of op(B),
 *             4 x 4 outputs at a time, vectorised along k and reduced across
 *             lanes at the end. Needs rows of op(A) contiguous; pads only n
 *             to 8, so it wins for thin m or v with a long n (784x128x10).
 *
 *   gemv      m == 1 (v == 1 becomes m == 1 by the transpose): dot products
 *             if columns of op(B) are contiguous, else a sum of scaled rows
 *             of B, 64 columns at a time. No packing.
 *
 * Measured on the development machine (AMD EPYC Zen 4, 1 vpmullq zmm per
 * cycle, so at most 16 ops per cycle counting multiply and add): about 48 G
 * ops/s on 128x784x128 and 128x128x128, 35-47 G on the thin shapes.
 */
#include "ring_gemm.h"

#include <float.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>

#if defined(__x86_64__) && defined(__GNUC__)
#define HAVE_AVX512 1
#include <immintrin.h>
#else
#define HAVE_AVX512 0
#endif

/* Blocking parameters, in elements. NC is a multiple of NR and of GEN_NR. */
#define MR            8        /* rows of the AVX-512 register tile */
#define NR            16       /* columns of the AVX-512 register tile (2 zmm) */
#define KC            512      /* depth of a packed slab */
#define NC            128      /* columns of a packed B block */
#define IN_PLACE_ROWS (2 * MR) /* up to this m, B is read in place */

#define GEN_MR 4 /* register tile of the generic kernel */
#define GEN_NR 4

/* Thread-local packing buffer, shared by both implementations (512 KiB). */
_Alignas(64) static _Thread_local uint64_t b_pack[KC * NC]; /* B block, kc x nc */

struct view {
	const uint64_t *p; /* element (r, c) at p[r*rs + c*cs] */
	size_t rs;         /* row stride, elements */
	size_t cs;         /* column stride, elements */
};

static struct view transpose(struct view x)
{
	struct view t = {x.p, x.cs, x.rs};
	return t;
}

static uint64_t at(struct view x, size_t r, size_t c)
{
	return x.p[r * x.rs + c * x.cs];
}

static size_t min_size(size_t a, size_t b)
{
	return a < b ? a : b;
}

/* Split n into the fewest slabs of at most KC, all of about equal depth. */
static size_t slab_depth(size_t n)
{
	size_t n_slabs = (n + KC - 1) / KC;
	return (n + n_slabs - 1) / n_slabs;
}

void ring_gemm_naive(uint64_t *C, const uint64_t *A, const uint64_t *B, size_t m, size_t n,
                     size_t v, unsigned flags)
{
	struct view a = {A, n, 1}; /* op(A), m x n */
	struct view b = {B, v, 1}; /* op(B), n x v */
	if (flags & RING_GEMM_TRANS_A)
		a = (struct view){A, 1, m};
	if (flags & RING_GEMM_TRANS_B)
		b = (struct view){B, 1, n};
	for (size_t i = 0; i < m; i++) {
		for (size_t j = 0; j < v; j++) {
			uint64_t s = 0;
			for (size_t k = 0; k < n; k++)
				s += at(a, i, k) * at(b, k, j);
			if (flags & RING_GEMM_ACCUMULATE)
				C[i * v + j] += s;
			else
				C[i * v + j] = s;
		}
	}
}

/* ---------------------------------------------------------------------- */
/* Generic implementation: plain C, 4 x 4 register tile.                  */

/* c (1 x v, contiguous) (+)= a (1 x n) · b (n x v). */
static void gemv_generic(uint64_t *c, struct view a, struct view b, size_t n, size_t v,
                         bool overwrite)
{
	if (b.rs == 1 && (b.cs != 1 || v == 1)) {
		/* Columns of b are contiguous: one dot product per output. */
		for (size_t j = 0; j < v; j++) {
			const uint64_t *bj = b.p + j * b.cs;
			uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
			size_t k = 0;
			for (; k + 4 <= n; k += 4) {
				s0 += at(a, 0, k) * bj[k];
				s1 += at(a, 0, k + 1) * bj[k + 1];
				s2 += at(a, 0, k + 2) * bj[k + 2];
				s3 += at(a, 0, k + 3) * bj[k + 3];
			}
			for (; k < n; k++)
				s0 += at(a, 0, k) * bj[k];
			uint64_t s = s0 + s1 + s2 + s3;
			c[j] = overwrite ? s : c[j] + s;
		}
		return;
	}
	/* Rows of b are contiguous (b.cs == 1): c += a_k * (row k of b), four
	 * rows at a time. */
	if (overwrite)
		memset(c, 0, v * sizeof *c);
	size_t k = 0;
	for (; k + 4 <= n; k += 4) {
		uint64_t a0 = at(a, 0, k), a1 = at(a, 0, k + 1);
		uint64_t a2 = at(a, 0, k + 2), a3 = at(a, 0, k + 3);
		const uint64_t *b0 = b.p + k * b.rs, *b1 = b0 + b.rs;
		const uint64_t *b2 = b1 + b.rs, *b3 = b2 + b.rs;
		for (size_t j = 0; j < v; j++)
			c[j] += a0 * b0[j] + a1 * b1[j] + a2 * b2[j] + a3 * b3[j];
	}
	for (; k < n; k++) {
		uint64_t ak = at(a, 0, k);
		const uint64_t *bk = b.p + k * b.rs;
		for (size_t j = 0; j < v; j++)
			c[j] += ak * bk[j];
	}
}

/* b_pack (kc x nc, panels of GEN_NR columns, zero padded) <- b[k0.., j0..]. */
static void pack_b_generic(uint64_t *dst, struct view b, size_t k0, size_t kc, size_t j0, size_t nc)
{
	for (size_t jr = 0; jr < nc; jr += GEN_NR) {
		size_t nr = min_size(GEN_NR, nc - jr);
		for (size_t k = 0; k < kc; k++) {
			for (size_t j = 0; j < GEN_NR; j++)
				dst[k * GEN_NR + j] = j < nr ? at(b, k0 + k, j0 + jr + j) : 0;
		}
		dst += GEN_NR * kc;
	}
}

/* c[0..mr, 0..nr] (row stride ldc) (+)= a (mr x kc, element (r, k) at
 * a[r*a_rs + k*a_cs]) · b panel (kc x 4, packed). */
static void kernel_generic(size_t kc, const uint64_t *a, size_t a_rs, size_t a_cs,
                           const uint64_t *b, uint64_t *c, size_t ldc, size_t mr, size_t nr,
                           bool overwrite)
{
	/* Rows past mr repeat row 0; their sums are dropped. */
	const uint64_t *a0 = a, *a1 = mr > 1 ? a + a_rs : a;
	const uint64_t *a2 = mr > 2 ? a + 2 * a_rs : a, *a3 = mr > 3 ? a + 3 * a_rs : a;
	uint64_t c00 = 0, c01 = 0, c02 = 0, c03 = 0;
	uint64_t c10 = 0, c11 = 0, c12 = 0, c13 = 0;
	uint64_t c20 = 0, c21 = 0, c22 = 0, c23 = 0;
	uint64_t c30 = 0, c31 = 0, c32 = 0, c33 = 0;
	for (size_t k = 0, o = 0; k < kc; k++, o += a_cs) {
		uint64_t x0 = a0[o], x1 = a1[o], x2 = a2[o], x3 = a3[o];
		uint64_t y0 = b[0], y1 = b[1], y2 = b[2], y3 = b[3];
		c00 += x0 * y0, c01 += x0 * y1, c02 += x0 * y2, c03 += x0 * y3;
		c10 += x1 * y0, c11 += x1 * y1, c12 += x1 * y2, c13 += x1 * y3;
		c20 += x2 * y0, c21 += x2 * y1, c22 += x2 * y2, c23 += x2 * y3;
		c30 += x3 * y0, c31 += x3 * y1, c32 += x3 * y2, c33 += x3 * y3;
		b += GEN_NR;
	}
	const uint64_t t[GEN_MR][GEN_NR] = {
	    {c00, c01, c02, c03},
	    {c10, c11, c12, c13},
	    {c20, c21, c22, c23},
	    {c30, c31, c32, c33},
	};
	for (size_t r = 0; r < mr; r++) {
		for (size_t j = 0; j < nr; j++)
			c[r * ldc + j] = overwrite ? t[r][j] : c[r * ldc + j] + t[r][j];
	}
}

static void gemm_generic(uint64_t *C, struct view a, struct view b, size_t m, size_t n, size_t v,
                         bool acc)
{
	if (m == 1) {
		gemv_generic(C, a, b, n, v, !acc);
		return;
	}
	if (v == 1) { /* C^T (1 x m) = op(B)^T · op(A)^T, same memory */
		gemv_generic(C, transpose(b), transpose(a), n, m, !acc);
		return;
	}
	size_t kc_max = slab_depth(n);
	for (size_t jc = 0; jc < v; jc += NC) {
		size_t nc = min_size(NC, v - jc);
		for (size_t pc = 0; pc < n; pc += kc_max) {
			size_t kc = min_size(kc_max, n - pc);
			bool overwrite = pc == 0 && !acc;
			pack_b_generic(b_pack, b, pc, kc, jc, nc);
			for (size_t ir = 0; ir < m; ir += GEN_MR) {
				const uint64_t *ap = a.p + ir * a.rs + pc * a.cs;
				for (size_t jr = 0; jr < nc; jr += GEN_NR) {
					kernel_generic(kc, ap, a.rs, a.cs, b_pack + jr * kc,
					               C + ir * v + jc + jr, v,
					               min_size(GEN_MR, m - ir),
					               min_size(GEN_NR, nc - jr), overwrite);
				}
			}
		}
	}
}

/* ---------------------------------------------------------------------- */
/* AVX-512 implementation.                                                */

#if HAVE_AVX512

#define TARGET __attribute__((target("avx512f,avx512dq")))
#define INLINE static inline __attribute__((always_inline))

/* Accumulators are GNU vectors of uint64_t, added with +, not __m512i added
 * with _mm512_add_epi64: that intrinsic converts to an unsigned vector and
 * back, and at -O3 gcc 12's partial redundancy elimination then keeps both
 * views of every accumulator live across the loop, which doubles the
 * register pressure and spills. */
typedef uint64_t v8u __attribute__((vector_size(64)));

_Alignas(64) static _Thread_local uint64_t a_pack[KC * MR]; /* A micro-panel, kc x mr */

/* Lanes [0, n) of an 8-lane mask, n <= 8. */
static __mmask8 lanes(size_t n)
{
	return (__mmask8)((1u << n) - 1u);
}

/* Masked loads cost more than plain ones on Zen 4 (the dot kernel ran 20%
 * faster without them), so masked accesses first check for a full mask. */
INLINE TARGET __m512i load_vec(const uint64_t *p, __mmask8 mask)
{
	return mask == 0xff ? _mm512_loadu_si512(p) : _mm512_maskz_loadu_epi64(mask, p);
}

/* p[lanes of mask] = x, or += x when accumulating. */
INLINE TARGET void store_vec(uint64_t *p, __m512i x, __mmask8 mask, bool overwrite)
{
	if (!overwrite)
		x = _mm512_add_epi64(x, load_vec(p, mask));
	if (mask == 0xff)
		_mm512_storeu_si512(p, x);
	else
		_mm512_mask_storeu_epi64(p, mask, x);
}

/* In-place transpose of the 8 x 8 matrix whose row r is x[r]. */
INLINE TARGET void transpose8(__m512i x[8])
{
	const __m512i lo = _mm512_set_epi64(13, 12, 5, 4, 9, 8, 1, 0);
	const __m512i hi = _mm512_set_epi64(15, 14, 7, 6, 11, 10, 3, 2);
	/* With xRC = row R, column C: t0 = x00 x10 x02 x12 x04 x14 x06 x16,
	 * t1 the odd columns of rows 0 and 1, t2 and t3 those of rows 2, 3... */
	__m512i t0 = _mm512_unpacklo_epi64(x[0], x[1]);
	__m512i t1 = _mm512_unpackhi_epi64(x[0], x[1]);
	__m512i t2 = _mm512_unpacklo_epi64(x[2], x[3]);
	__m512i t3 = _mm512_unpackhi_epi64(x[2], x[3]);
	__m512i t4 = _mm512_unpacklo_epi64(x[4], x[5]);
	__m512i t5 = _mm512_unpackhi_epi64(x[4], x[5]);
	__m512i t6 = _mm512_unpacklo_epi64(x[6], x[7]);
	__m512i t7 = _mm512_unpackhi_epi64(x[6], x[7]);
	/* u0 = x00 x10 x20 x30 x04 x14 x24 x34, u1 = columns 2 and 6, ... */
	__m512i u0 = _mm512_permutex2var_epi64(t0, lo, t2);
	__m512i u1 = _mm512_permutex2var_epi64(t0, hi, t2);
	__m512i u2 = _mm512_permutex2var_epi64(t1, lo, t3);
	__m512i u3 = _mm512_permutex2var_epi64(t1, hi, t3);
	__m512i u4 = _mm512_permutex2var_epi64(t4, lo, t6);
	__m512i u5 = _mm512_permutex2var_epi64(t4, hi, t6);
	__m512i u6 = _mm512_permutex2var_epi64(t5, lo, t7);
	__m512i u7 = _mm512_permutex2var_epi64(t5, hi, t7);
	/* Join the upper and lower four rows, 256 bits at a time. */
	x[0] = _mm512_shuffle_i64x2(u0, u4, 0x44);
	x[4] = _mm512_shuffle_i64x2(u0, u4, 0xee);
	x[2] = _mm512_shuffle_i64x2(u1, u5, 0x44);
	x[6] = _mm512_shuffle_i64x2(u1, u5, 0xee);
	x[1] = _mm512_shuffle_i64x2(u2, u6, 0x44);
	x[5] = _mm512_shuffle_i64x2(u2, u6, 0xee);
	x[3] = _mm512_shuffle_i64x2(u3, u7, 0x44);
	x[7] = _mm512_shuffle_i64x2(u3, u7, 0xee);
}

/* dst[c*dst_stride + r] = src[r*ld + c] for r < rows <= 8, c < cols, with
 * lanes r in [rows, 8) written as zero where store_mask covers them. */
static TARGET void transpose_pack(uint64_t *dst, size_t dst_stride, __mmask8 store_mask,
                                  const uint64_t *src, size_t ld, size_t rows, size_t cols)
{
	size_t c0 = 0;
	if (rows == 8) {
		/* Whole 8 x 8 blocks: no masks on the loads. */
		for (; c0 + 8 <= cols; c0 += 8) {
			const uint64_t *s = src + c0;
			uint64_t *d = dst + c0 * dst_stride;
			__m512i x[8] = {
			    _mm512_loadu_si512(s),          _mm512_loadu_si512(s + ld),
			    _mm512_loadu_si512(s + 2 * ld), _mm512_loadu_si512(s + 3 * ld),
			    _mm512_loadu_si512(s + 4 * ld), _mm512_loadu_si512(s + 5 * ld),
			    _mm512_loadu_si512(s + 6 * ld), _mm512_loadu_si512(s + 7 * ld),
			};
			transpose8(x);
			for (size_t c = 0; c < 8; c++)
				store_vec(d + c * dst_stride, x[c], store_mask, true);
		}
	}
	for (; c0 < cols; c0 += 8) {
		size_t w = min_size(8, cols - c0);
		__mmask8 load_mask = lanes(w);
		__m512i x[8];
		for (size_t r = 0; r < 8; r++) {
			x[r] = r < rows ? _mm512_maskz_loadu_epi64(load_mask, src + r * ld + c0)
			                : _mm512_setzero_si512();
		}
		transpose8(x);
		for (size_t c = 0; c < w; c++)
			store_vec(dst + (c0 + c) * dst_stride, x[c], store_mask, true);
	}
}

/* b_pack <- b[k0 .. k0+kc, j0 .. j0+nc] as NR-column micro-panels. */
static TARGET void pack_b_avx512(uint64_t *dst, struct view b, size_t k0, size_t kc, size_t j0,
                                 size_t nc)
{
	if (b.cs == 1) {
		/* Rows of b are contiguous: copy one panel at a time (panel by
		 * panel is faster than row by row: the writes stay sequential). */
		for (size_t jr = 0; jr < nc; jr += NR) {
			size_t nr = min_size(NR, nc - jr);
			size_t w = (nr + 7) & ~(size_t)7; /* panel width, zero padded */
			for (size_t k = 0; k < kc; k++) {
				const uint64_t *src = b.p + (k0 + k) * b.rs + j0 + jr;
				uint64_t *d = dst + jr * kc + k * w;
				for (size_t q = 0; q < w; q += 8) {
					__mmask8 mk = lanes(min_size(8, nr - q));
					_mm512_store_si512(d + q, load_vec(src + q, mk));
				}
			}
		}
		return;
	}
	/* Columns of b are contiguous: transpose 8 columns at a time. */
	for (size_t jr = 0; jr < nc; jr += NR) {
		size_t nr = min_size(NR, nc - jr);
		size_t w = (nr + 7) & ~(size_t)7;
		for (size_t q = 0; q < w; q += 8) {
			const uint64_t *src = b.p + (j0 + jr + q) * b.cs + k0;
			transpose_pack(dst + jr * kc + q, w, 0xff, src, b.cs, min_size(8, nr - q),
			               kc);
		}
	}
}

/* Stores a tile of C^T computed by the micro-kernel: t[q][r] holds
 * C^T(r, 8q .. 8q+7), that is C(8q + j, r) in lane j; row 8q + j of C
 * starts at c + (8q + j)*c_cs and gets mr elements. */
INLINE TARGET void store_transposed(uint64_t *c, size_t c_cs, __m512i t[2][8], size_t mr,
                                    size_t ncols, bool overwrite)
{
	__mmask8 rows = lanes(mr);
	for (size_t q = 0; 8 * q < ncols; q++) {
		transpose8(t[q]);
		size_t w = min_size(8, ncols - 8 * q);
		for (size_t j = 0; j < w; j++)
			store_vec(c + (8 * q + j) * c_cs, t[q][j], rows, overwrite);
	}
}

/* The micro-kernel, one per tile shape (MR_ = 1..8 rows, NV = 1..2 zmm):
 *   C tile (MR_ x ncols, ncols <= 8*NV) (+)= A (MR_ x kc) · B (kc x 8*NV)
 * A element (r, k) at a[r*a_rs + k*a_cs]; B element (k, j) at b[k*b_rs + j]
 * (a packed panel, b_rs = 8*NV, or B itself); C element (r, j) at
 * c[r*c_rs + j*c_cs], where either c_cs == 1 (the tile is stored as is) or
 * c_rs == 1 (the tile is one of C^T: it is transposed in registers on the
 * way out). Per k: NV loads of B, MR_ broadcasts of A, MR_*NV vpmullq and
 * vpaddq into the accumulators c<row><vector>. */
#define KERNEL_ARGS                                                                                \
	size_t kc, const uint64_t *a, size_t a_rs, size_t a_cs, const uint64_t *b, size_t b_rs,    \
	    uint64_t *c, size_t c_rs, size_t c_cs, size_t ncols, bool overwrite

INLINE TARGET void kernel_body(const int MR_, const int NV, KERNEL_ARGS)
{
	const __m512i z = _mm512_setzero_si512();
	const v8u zu = {0};
	v8u c00 = zu, c01 = zu, c10 = zu, c11 = zu, c20 = zu, c21 = zu, c30 = zu, c31 = zu;
	v8u c40 = zu, c41 = zu, c50 = zu, c51 = zu, c60 = zu, c61 = zu, c70 = zu, c71 = zu;
	/* Row pointers; rows past MR_ alias row 0 and are never read. */
	const uint64_t *a0 = a;
	const uint64_t *a1 = MR_ > 1 ? a + 1 * a_rs : a;
	const uint64_t *a2 = MR_ > 2 ? a + 2 * a_rs : a;
	const uint64_t *a3 = MR_ > 3 ? a + 3 * a_rs : a;
	const uint64_t *a4 = MR_ > 4 ? a + 4 * a_rs : a;
	const uint64_t *a5 = MR_ > 5 ? a + 5 * a_rs : a;
	const uint64_t *a6 = MR_ > 6 ? a + 6 * a_rs : a;
	const uint64_t *a7 = MR_ > 7 ? a + 7 * a_rs : a;

	for (size_t k = 0, o = 0; k < kc; k++, o += a_cs) {
		const uint64_t *bk = b + k * b_rs;
		__m512i b0 = _mm512_loadu_si512(bk);
		__m512i b1 = NV > 1 ? _mm512_loadu_si512(bk + 8) : z;
#define KERNEL_ROW(r)                                                                              \
	if (MR_ > r) {                                                                             \
		__m512i ar = _mm512_set1_epi64((long long)a##r[o]);                                \
		c##r##0 += (v8u)_mm512_mullo_epi64(ar, b0);                                        \
		if (NV > 1)                                                                        \
			c##r##1 += (v8u)_mm512_mullo_epi64(ar, b1);                                \
	}
		KERNEL_ROW(0)
		KERNEL_ROW(1)
		KERNEL_ROW(2)
		KERNEL_ROW(3)
		KERNEL_ROW(4)
		KERNEL_ROW(5)
		KERNEL_ROW(6)
		KERNEL_ROW(7)
#undef KERNEL_ROW
	}

	if (c_cs == 1) {
		/* Lanes of the last vector that fall inside C. */
		__mmask8 last = lanes(ncols - 8 * (size_t)(NV - 1));
#define STORE_ROW(r)                                                                               \
	if (MR_ > r) {                                                                             \
		uint64_t *cr = c + r * c_rs;                                                       \
		store_vec(cr, (__m512i)c##r##0, NV == 1 ? last : 0xff, overwrite);                 \
		if (NV > 1)                                                                        \
			store_vec(cr + 8, (__m512i)c##r##1, last, overwrite);                      \
	}
		STORE_ROW(0)
		STORE_ROW(1)
		STORE_ROW(2)
		STORE_ROW(3)
		STORE_ROW(4)
		STORE_ROW(5)
		STORE_ROW(6)
		STORE_ROW(7)
#undef STORE_ROW
	} else {
		/* Tile of C^T: its column j is MR_ consecutive elements of C. */
		_Alignas(64) __m512i t[2][8] = {
		    {(__m512i)c00, (__m512i)c10, (__m512i)c20, (__m512i)c30, (__m512i)c40,
		     (__m512i)c50, (__m512i)c60, (__m512i)c70},
		    {(__m512i)c01, (__m512i)c11, (__m512i)c21, (__m512i)c31, (__m512i)c41,
		     (__m512i)c51, (__m512i)c61, (__m512i)c71},
		};
		store_transposed(c, c_cs, t, (size_t)MR_, ncols, overwrite);
	}
}

typedef void (*kernel_fn)(KERNEL_ARGS);

#define KERNEL(mr, nv)                                                                             \
	static TARGET void kernel_##mr##_##nv(KERNEL_ARGS)                                         \
	{                                                                                          \
		kernel_body(mr, nv, kc, a, a_rs, a_cs, b, b_rs, c, c_rs, c_cs, ncols, overwrite);  \
	}
#define KERNELS(mr) KERNEL(mr, 1) KERNEL(mr, 2)
KERNELS(1)
KERNELS(2)
KERNELS(3)
KERNELS(4)
KERNELS(5)
KERNELS(6)
KERNELS(7)
KERNELS(8)
#undef KERNELS
#undef KERNEL

/* kernels[mr - 1][nv - 1] */
static const kernel_fn kernels[MR][NR / 8] = {
    {kernel_1_1, kernel_1_2}, {kernel_2_1, kernel_2_2}, {kernel_3_1, kernel_3_2},
    {kernel_4_1, kernel_4_2}, {kernel_5_1, kernel_5_2}, {kernel_6_1, kernel_6_2},
    {kernel_7_1, kernel_7_2}, {kernel_8_1, kernel_8_2},
};

/* c[0 .. 8*NV) (+)= sum_k a[k] * b[k*b_rs + ...], b rows contiguous; only
 * the lanes of `last` in the last vector are read and written. */
INLINE TARGET void axpy_block(const int NV, uint64_t *c, const uint64_t *a, const uint64_t *b,
                              size_t b_rs, size_t n, __mmask8 last, bool overwrite)
{
	const v8u z = {0};
	v8u c0 = z, c1 = z, c2 = z, c3 = z, c4 = z, c5 = z, c6 = z, c7 = z;
	for (size_t k = 0; k < n; k++) {
		__m512i ak = _mm512_set1_epi64((long long)a[k]);
		const uint64_t *bk = b + k * b_rs;
#define AXPY(q)                                                                                    \
	if (NV > q) {                                                                              \
		__m512i bq = load_vec(bk + 8 * q, NV == q + 1 ? last : 0xff);                      \
		c##q += (v8u)_mm512_mullo_epi64(ak, bq);                                           \
	}
		AXPY(0)
		AXPY(1)
		AXPY(2)
		AXPY(3)
		AXPY(4)
		AXPY(5)
		AXPY(6)
		AXPY(7)
#undef AXPY
	}
#define AXPY_STORE(q)                                                                              \
	if (NV > q)                                                                                \
		store_vec(c + 8 * q, (__m512i)c##q, NV == q + 1 ? last : 0xff, overwrite);
	AXPY_STORE(0)
	AXPY_STORE(1)
	AXPY_STORE(2)
	AXPY_STORE(3)
	AXPY_STORE(4)
	AXPY_STORE(5)
	AXPY_STORE(6)
	AXPY_STORE(7)
#undef AXPY_STORE
}

/* c (1 x v, contiguous) (+)= a (1 x n, contiguous) · b (n x v, rows
 * contiguous): 64 columns at a time, B streamed once. */
static TARGET void gemv_avx512(uint64_t *c, const uint64_t *a, struct view b, size_t n, size_t v,
                               bool overwrite)
{
	size_t j = 0;
	for (; j + 64 <= v; j += 64)
		axpy_block(8, c + j, a, b.p + j, b.rs, n, 0xff, overwrite);
	size_t rest = v - j;
	if (rest == 0)
		return;
	size_t nv = (rest + 7) / 8;
	__mmask8 last = lanes(rest - 8 * (nv - 1));
	c += j;
	const uint64_t *bj = b.p + j;
	switch (nv) {
	case 1:
		axpy_block(1, c, a, bj, b.rs, n, last, overwrite);
		break;
	case 2:
		axpy_block(2, c, a, bj, b.rs, n, last, overwrite);
		break;
	case 3:
		axpy_block(3, c, a, bj, b.rs, n, last, overwrite);
		break;
	case 4:
		axpy_block(4, c, a, bj, b.rs, n, last, overwrite);
		break;
	case 5:
		axpy_block(5, c, a, bj, b.rs, n, last, overwrite);
		break;
	case 6:
		axpy_block(6, c, a, bj, b.rs, n, last, overwrite);
		break;
	case 7:
		axpy_block(7, c, a, bj, b.rs, n, last, overwrite);
		break;
	default:
		axpy_block(8, c, a, bj, b.rs, n, last, overwrite);
		break;
	}
}

static size_t round8(size_t x)
{
	return (x + 7) & ~(size_t)7;
}

/* Lane r of the result = sum of the eight lanes of x_r. */
INLINE TARGET __m512i hsum8(v8u y0, v8u y1, v8u y2, v8u y3, v8u y4, v8u y5, v8u y6, v8u y7)
{
	__m512i x0 = (__m512i)y0, x1 = (__m512i)y1, x2 = (__m512i)y2, x3 = (__m512i)y3;
	__m512i x4 = (__m512i)y4, x5 = (__m512i)y5, x6 = (__m512i)y6, x7 = (__m512i)y7;
	const __m512i lo = _mm512_set_epi64(13, 12, 5, 4, 9, 8, 1, 0);
	const __m512i hi = _mm512_set_epi64(15, 14, 7, 6, 11, 10, 3, 2);
	/* s01 = (x0 pair sums, x1 pair sums) interleaved, one pair per 128 bits. */
	__m512i s01 =
	    _mm512_add_epi64(_mm512_unpacklo_epi64(x0, x1), _mm512_unpackhi_epi64(x0, x1));
	__m512i s23 =
	    _mm512_add_epi64(_mm512_unpacklo_epi64(x2, x3), _mm512_unpackhi_epi64(x2, x3));
	__m512i s45 =
	    _mm512_add_epi64(_mm512_unpacklo_epi64(x4, x5), _mm512_unpackhi_epi64(x4, x5));
	__m512i s67 =
	    _mm512_add_epi64(_mm512_unpacklo_epi64(x6, x7), _mm512_unpackhi_epi64(x6, x7));
	/* s0123 = sums of lanes 0-3 of x0..x3, then of lanes 4-7. */
	__m512i s0123 = _mm512_add_epi64(_mm512_permutex2var_epi64(s01, lo, s23),
	                                 _mm512_permutex2var_epi64(s01, hi, s23));
	__m512i s4567 = _mm512_add_epi64(_mm512_permutex2var_epi64(s45, lo, s67),
	                                 _mm512_permutex2var_epi64(s45, hi, s67));
	return _mm512_add_epi64(_mm512_shuffle_i64x2(s0123, s4567, 0x44),
	                        _mm512_shuffle_i64x2(s0123, s4567, 0xee));
}

/* C tile (MI x NJ, both <= 4) (+)= A rows · B^T rows^T:
 * C(r, j) = sum_k a[r*lda + k] * bt[j*ldb + k], k < n, stored at
 * c[r*c_rs + j*c_cs]. Per 8 k: MI + NJ loads, MI*NJ vpmullq and vpaddq into
 * the accumulators x<row><column>, reduced across lanes at the end. */
INLINE TARGET void dot_body(const int MI, const int NJ, uint64_t *c, size_t c_rs, size_t c_cs,
                            const uint64_t *a, size_t lda, const uint64_t *bt, size_t ldb, size_t n,
                            bool overwrite)
{
	const uint64_t *a0 = a, *a1 = MI > 1 ? a + lda : a;
	const uint64_t *a2 = MI > 2 ? a + 2 * lda : a, *a3 = MI > 3 ? a + 3 * lda : a;
	const uint64_t *b0 = bt, *b1 = NJ > 1 ? bt + ldb : bt;
	const uint64_t *b2 = NJ > 2 ? bt + 2 * ldb : bt, *b3 = NJ > 3 ? bt + 3 * ldb : bt;
	const __m512i z = _mm512_setzero_si512();
	const v8u zu = {0};
	v8u x00 = zu, x01 = zu, x02 = zu, x03 = zu, x10 = zu, x11 = zu, x12 = zu, x13 = zu;
	v8u x20 = zu, x21 = zu, x22 = zu, x23 = zu, x30 = zu, x31 = zu, x32 = zu, x33 = zu;
#define DOT_ROW(r)                                                                                 \
	if (MI > r) {                                                                              \
		x##r##0 += (v8u)_mm512_mullo_epi64(va##r, vb0);                                    \
		if (NJ > 1)                                                                        \
			x##r##1 += (v8u)_mm512_mullo_epi64(va##r, vb1);                            \
		if (NJ > 2)                                                                        \
			x##r##2 += (v8u)_mm512_mullo_epi64(va##r, vb2);                            \
		if (NJ > 3)                                                                        \
			x##r##3 += (v8u)_mm512_mullo_epi64(va##r, vb3);                            \
	}
#define DOT_STEP(load)                                                                             \
	{                                                                                          \
		__m512i va0 = load(a0 + k);                                                        \
		__m512i va1 = MI > 1 ? load(a1 + k) : z;                                           \
		__m512i va2 = MI > 2 ? load(a2 + k) : z;                                           \
		__m512i va3 = MI > 3 ? load(a3 + k) : z;                                           \
		__m512i vb0 = load(b0 + k);                                                        \
		__m512i vb1 = NJ > 1 ? load(b1 + k) : z;                                           \
		__m512i vb2 = NJ > 2 ? load(b2 + k) : z;                                           \
		__m512i vb3 = NJ > 3 ? load(b3 + k) : z;                                           \
		DOT_ROW(0)                                                                         \
		DOT_ROW(1)                                                                         \
		DOT_ROW(2)                                                                         \
		DOT_ROW(3)                                                                         \
	}
	size_t k = 0;
	for (; k + 8 <= n; k += 8)
		DOT_STEP(_mm512_loadu_si512)
	if (k < n) {
		__mmask8 mk = lanes(n - k);
#define LOAD_TAIL(p) _mm512_maskz_loadu_epi64(mk, p)
		DOT_STEP(LOAD_TAIL)
#undef LOAD_TAIL
	}
#undef DOT_STEP
#undef DOT_ROW
	if (NJ == 4 && c_cs == 1) {
		/* s01 = (C(0, 0..3), C(1, 0..3)), s23 likewise for rows 2 and 3. */
		__m512i s01 = hsum8(x00, x01, x02, x03, x10, x11, x12, x13);
		__m512i s23 = hsum8(x20, x21, x22, x23, x30, x31, x32, x33);
		__mmask8 cols = lanes(4);
		store_vec(c, s01, cols, overwrite);
		if (MI > 1)
			store_vec(c + c_rs, _mm512_shuffle_i64x2(s01, s01, 0xee), cols, overwrite);
		if (MI > 2)
			store_vec(c + 2 * c_rs, s23, cols, overwrite);
		if (MI > 3)
			store_vec(c + 3 * c_rs, _mm512_shuffle_i64x2(s23, s23, 0xee), cols,
			          overwrite);
		return;
	}
	/* Narrow tile or transposed C: reduce, then write element by element. */
	_Alignas(64) uint64_t t[16]; /* t[r*4 + j] = C(r, j) */
	_mm512_store_si512(t, hsum8(x00, x01, x02, x03, x10, x11, x12, x13));
	_mm512_store_si512(t + 8, hsum8(x20, x21, x22, x23, x30, x31, x32, x33));
	for (size_t r = 0; r < (size_t)MI; r++) {
		for (size_t j = 0; j < (size_t)NJ; j++) {
			uint64_t *cj = c + r * c_rs + j * c_cs;
			*cj = overwrite ? t[r * 4 + j] : *cj + t[r * 4 + j];
		}
	}
}

#define DOT_ARGS                                                                                   \
	uint64_t *c, size_t c_rs, size_t c_cs, const uint64_t *a, size_t lda, const uint64_t *bt,  \
	    size_t ldb, size_t n, bool overwrite
#define DOT_TILE(mi, nj)                                                                           \
	static TARGET void dot_tile_##mi##_##nj(DOT_ARGS)                                          \
	{                                                                                          \
		dot_body(mi, nj, c, c_rs, c_cs, a, lda, bt, ldb, n, overwrite);                    \
	}
#define DOT_TILES(mi) DOT_TILE(mi, 1) DOT_TILE(mi, 2) DOT_TILE(mi, 3) DOT_TILE(mi, 4)
DOT_TILES(1)
DOT_TILES(2)
DOT_TILES(3)
DOT_TILES(4)
#undef DOT_TILES
#undef DOT_TILE

/* dot_tiles[mi - 1][nj - 1] */
static void (*const dot_tiles[4][4])(DOT_ARGS) = {
    {dot_tile_1_1, dot_tile_1_2, dot_tile_1_3, dot_tile_1_4},
    {dot_tile_2_1, dot_tile_2_2, dot_tile_2_3, dot_tile_2_4},
    {dot_tile_3_1, dot_tile_3_2, dot_tile_3_3, dot_tile_3_4},
    {dot_tile_4_1, dot_tile_4_2, dot_tile_4_3, dot_tile_4_4},
};

/* C view (element (i, j) at C[i*c_rs + j*c_cs]) (+)= a (m x n, rows
 * contiguous) · b (n x v) as m*v dot products along k: no lane is wasted
 * however thin m or v is. b^T is read in place when its columns are
 * contiguous, else transposed into b_pack in chunks of k (v <=
 * DOT_MAX_PACKED then). */
static TARGET void gemm_dot_avx512(uint64_t *C, size_t c_rs, size_t c_cs, struct view a,
                                   struct view b, size_t m, size_t n, size_t v, bool acc)
{
	size_t chunk = n, ldb = b.cs;
	if (b.rs != 1) {
		chunk = min_size(n, (sizeof b_pack / sizeof b_pack[0] / v) & ~(size_t)7);
		ldb = round8(chunk);
	}
	for (size_t k0 = 0; k0 < n; k0 += chunk) {
		size_t kc = min_size(chunk, n - k0);
		bool overwrite = k0 == 0 && !acc;
		const uint64_t *bt = b.p + k0;
		if (b.rs != 1) {
			/* b_pack[j*ldb + k] = b(k0 + k, j), 8 k at a time. */
			for (size_t k = 0; k < kc; k += 8) {
				size_t rows = min_size(8, kc - k);
				transpose_pack(b_pack + k, ldb, lanes(rows), b.p + (k0 + k) * b.rs,
				               b.rs, rows, v);
			}
			bt = b_pack;
		}
		for (size_t i = 0; i < m; i += 4) {
			const uint64_t *ai = a.p + i * a.rs + k0;
			for (size_t j = 0; j < v; j += 4) {
				dot_tiles[min_size(4, m - i) - 1][min_size(4, v - j) - 1](
				    C + i * c_rs + j * c_cs, c_rs, c_cs, ai, a.rs, bt + j * ldb,
				    ldb, kc, overwrite);
			}
		}
	}
}

/* a_pack (kc x mr, element (r, k) at [k*mr + r]) <- columns of a
 * (element (r, k) at a[r + k*a_cs]). */
static TARGET void pack_a_panel(uint64_t *dst, const uint64_t *a, size_t a_cs, size_t mr, size_t kc)
{
	__mmask8 mk = lanes(mr);
	for (size_t k = 0; k < kc; k++)
		store_vec(dst + k * mr, load_vec(a + k * a_cs, mk), mk, true);
}

/* One k-slab of one column block, shared by the tiles of gemm_blocked. */
struct slab {
	uint64_t *c;        /* C at (0, jc) */
	size_t c_rs, c_cs;  /* strides of C, elements */
	const uint64_t *b;  /* B at (pc, jc), for panels read in place */
	size_t b_rs;        /* row stride of B, elements */
	size_t kc;          /* depth of the slab */
	size_t nc_in_place; /* columns [0, nc_in_place) are read in place */
	bool overwrite;     /* first slab and not accumulating */
};

/* C tile (rows [ir, ir + mr), columns [jr, jr + ncols) of the block) (+)=
 * A micro-panel (element (r, k) at ap[r*a_rs + k*a_cs]) · B micro-panel. */
static TARGET void tile(const struct slab *s, const uint64_t *ap, size_t a_rs, size_t a_cs,
                        size_t ir, size_t mr, size_t jr, size_t ncols)
{
	size_t nv = (ncols + 7) / 8;
	const uint64_t *bp = b_pack + jr * s->kc;
	size_t b_rs = 8 * nv;
	if (jr + ncols <= s->nc_in_place) {
		bp = s->b + jr;
		b_rs = s->b_rs;
	}
	kernels[mr - 1][nv - 1](s->kc, ap, a_rs, a_cs, bp, b_rs, s->c + ir * s->c_rs + jr * s->c_cs,
	                        s->c_rs, s->c_cs, ncols, s->overwrite);
}

/* C view (element (i, j) at C[i*c_rs + j*c_cs]) (+)= a (m x n) · b (n x v),
 * m, v >= 2, n >= 1. A is read in place, except micro-panels of a k-major A
 * with a long stride (one page per k) are copied to a_pack first; packing
 * row-major A was slower on Zen 4 for every shape measured. */
static TARGET void gemm_blocked_avx512(uint64_t *C, size_t c_rs, size_t c_cs, struct view a,
                                       struct view b, size_t m, size_t n, size_t v, bool acc)
{
	size_t kc_max = slab_depth(n);
	/* With at most two row tiles each element of B is read once or twice:
	 * copying it would cost more than it saves. Only a partial last panel
	 * (not a multiple of 8 wide) is still packed, to pad it with zeros. */
	bool b_in_place = b.cs == 1 && m <= IN_PLACE_ROWS;
	bool pack_a = !b_in_place && a.rs == 1 && a.cs >= 512 && v > NR;
	for (size_t jc = 0; jc < v; jc += NC) {
		size_t nc = min_size(NC, v - jc);
		for (size_t pc = 0; pc < n; pc += kc_max) {
			struct slab s = {
			    .c = C + jc * c_cs,
			    .c_rs = c_rs,
			    .c_cs = c_cs,
			    .b = b.p + pc * b.rs + jc,
			    .b_rs = b.rs,
			    .kc = min_size(kc_max, n - pc),
			    .nc_in_place = b_in_place ? nc & ~(size_t)7 : 0,
			    .overwrite = pc == 0 && !acc,
			};
			if (s.nc_in_place < nc) {
				size_t j0 = s.nc_in_place - s.nc_in_place % NR;
				pack_b_avx512(b_pack + j0 * s.kc, b, pc, s.kc, jc + j0, nc - j0);
			}
			if (b_in_place) {
				/* Few row tiles: each B panel stays in L1 across them. */
				for (size_t jr = 0; jr < nc; jr += NR) {
					for (size_t ir = 0; ir < m; ir += MR) {
						tile(&s, a.p + ir * a.rs + pc * a.cs, a.rs, a.cs,
						     ir, min_size(MR, m - ir), jr,
						     min_size(NR, nc - jr));
					}
				}
				continue;
			}
			/* Many row tiles: each A micro-panel stays in L1 across the
			 * B panels, which stream from L2. */
			for (size_t ir = 0; ir < m; ir += MR) {
				size_t mr = min_size(MR, m - ir);
				const uint64_t *ap = a.p + ir * a.rs + pc * a.cs;
				size_t a_cs = a.cs;
				if (pack_a) {
					pack_a_panel(a_pack, ap, a.cs, mr, s.kc);
					ap = a_pack;
					a_cs = mr;
				}
				for (size_t jr = 0; jr < nc; jr += NR)
					tile(&s, ap, a.rs, a_cs, ir, mr, jr, min_size(NR, nc - jr));
			}
		}
	}
}

static double min_double(double a, double b)
{
	return a < b ? a : b;
}

/* Rough cost, in vpmullq of the blocked kernel (Zen 4 measurements: the
 * blocked kernel sustains about 3.2 G vpmullq/s, the dot kernel 2.8 G, and
 * packing an element costs about as much as 0.8 vpmullq). */
#define COST_DOT       1.15 /* per vpmullq of the dot kernel */
#define COST_PACK      0.8  /* per element packed */
#define DOT_MAX_PACKED 1024 /* widest b^T the dot path packs (chunks of >= 64 k) */

/* Work per unit of n of the blocked kernel on a (m x n) · b (n x v). */
static double cost_blocked(struct view b, size_t m, size_t v)
{
	double vmul = (double)m * (double)((v + 7) / 8);
	bool pack = b.cs != 1 || m > IN_PLACE_ROWS;
	return vmul + (pack ? COST_PACK * (double)v : 0.0);
}

static void gemm_avx512(uint64_t *C, struct view a, struct view b, size_t m, size_t n, size_t v,
                        bool acc)
{
	if (v == 1 && m > 1) {
		/* C^T (1 x m) = op(B)^T · op(A)^T is the same memory. */
		struct view t = a;
		a = transpose(b);
		b = transpose(t);
		v = m;
		m = 1;
	}
	if (m == 1) {
		/* A vector-matrix product; a.cs == 1 here. One dot product per
		 * output if columns of b are contiguous, else rows of b scaled
		 * and summed. */
		if (b.rs == 1 && (b.cs != 1 || v == 1))
			gemm_dot_avx512(C, v, 1, a, b, 1, n, v, acc);
		else
			gemv_avx512(C, a.p, b, n, v, !acc);
		return;
	}
	/* Pick the cheapest way: the blocked kernel pads v to 8 lanes; on the
	 * transposed problem C^T = op(B)^T op(A)^T it pads m instead; the dot
	 * kernel pads n to 8 but needs rows of its left operand contiguous. */
	double normal = cost_blocked(b, m, v);
	double swapped = cost_blocked(transpose(a), v, m);
	double dot = DBL_MAX, dot_swapped = DBL_MAX;
	double dot_work = COST_DOT * (double)m * (double)v * (double)round8(n) / (double)n / 8;
	if (a.cs == 1 && (b.rs == 1 || v <= DOT_MAX_PACKED))
		dot = dot_work + (b.rs != 1 ? COST_PACK * (double)v : 0.0);
	if (b.rs == 1 && (a.cs == 1 || m <= DOT_MAX_PACKED))
		dot_swapped = dot_work + (a.cs != 1 ? COST_PACK * (double)m : 0.0);
	double best = min_double(min_double(normal, swapped), min_double(dot, dot_swapped));
	if (dot == best)
		gemm_dot_avx512(C, v, 1, a, b, m, n, v, acc);
	else if (dot_swapped == best)
		gemm_dot_avx512(C, 1, v, transpose(b), transpose(a), v, n, m, acc);
	else if (swapped == best)
		gemm_blocked_avx512(C, 1, v, transpose(b), transpose(a), v, n, m, acc);
	else
		gemm_blocked_avx512(C, v, 1, a, b, m, n, v, acc);
}

static bool cpu_has_avx512(void)
{
	__builtin_cpu_init();
	return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq");
}

#endif /* HAVE_AVX512 */

/* ---------------------------------------------------------------------- */
/* Dispatch.                                                              */

enum impl {
	IMPL_UNSET = -1,
	IMPL_GENERIC = 0,
	IMPL_AVX512 = 1,
};

static _Atomic int impl_choice = IMPL_UNSET;

static int detect_impl(void)
{
#if HAVE_AVX512
	if (cpu_has_avx512())
		return IMPL_AVX512;
#endif
	return IMPL_GENERIC;
}

static int current_impl(void)
{
	int impl = atomic_load_explicit(&impl_choice, memory_order_relaxed);
	if (impl == IMPL_UNSET) {
		impl = detect_impl();
		atomic_store_explicit(&impl_choice, impl, memory_order_relaxed);
	}
	return impl;
}

const char *ring_gemm_impl_name(void)
{
	return current_impl() == IMPL_AVX512 ? "avx512" : "generic";
}

int ring_gemm_set_impl(const char *name)
{
	int impl;
	if (name == NULL)
		return ERROR_INVAL;
	if (strcmp(name, "auto") == 0) {
		impl = detect_impl();
	} else if (strcmp(name, "generic") == 0) {
		impl = IMPL_GENERIC;
	} else if (strcmp(name, "avx512") == 0) {
		if (detect_impl() != IMPL_AVX512)
			return ERROR_UNSUPPORTED;
		impl = IMPL_AVX512;
	} else {
		return ERROR_INVAL;
	}
	atomic_store_explicit(&impl_choice, impl, memory_order_relaxed);
	return 0;
}

void ring_gemm(uint64_t *C, const uint64_t *A, const uint64_t *B, size_t m, size_t n, size_t v,
               unsigned flags)
{
	bool acc = flags & RING_GEMM_ACCUMULATE;
	if (m == 0 || v == 0)
		return;
	if (n == 0) {
		if (!acc)
			memset(C, 0, m * v * sizeof *C);
		return;
	}
	struct view a = {A, n, 1}; /* op(A), m x n */
	struct view b = {B, v, 1}; /* op(B), n x v */
	if (flags & RING_GEMM_TRANS_A)
		a = (struct view){A, 1, m};
	if (flags & RING_GEMM_TRANS_B)
		b = (struct view){B, 1, n};
#if HAVE_AVX512
	if (current_impl() == IMPL_AVX512) {
		gemm_avx512(C, a, b, m, n, v, acc);
		return;
	}
#endif
	gemm_generic(C, a, b, m, n, v, acc);
}
