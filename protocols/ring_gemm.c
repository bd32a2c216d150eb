/* Exact matrix product over Z_2^64: C (m x v) = op(A) (m x n) · op(B) (n x v).
 *
 * No party logic lives here: P0, P1 and P2 each call ring_gemm on their own
 * shares (Alg. 1 MatMul: P0 and P1 compute X_j·F + E·Y_j + Z_j locally; P2
 * computes the triple X·Y). Zero rounds, zero bytes.
 *
 * Every matrix is reached through a view, element (r, c) at p[r*rs + c*cs],
 * so the transposes of A and B (and of the whole problem, see "swap" below)
 * cost nothing but different strides; the packing routines turn any view
 * into the contiguous layout the micro-kernel wants.
 *
 * Blocking (GotoBLAS / BLIS loop order), shapes in elements:
 *
 *   for jc in steps of NC over v:                 B block  kc x nc   (L2/L3)
 *     for pc in steps of kc <= KC over n:         pack B block into b_pack
 *       for ic in steps of MC over m:             A block  mc x kc   (L2)
 *         (pack A block into a_pack, or read A in place, see below)
 *         for jr in steps of NR over nc:          B micro-panel kc x NR (L1)
 *           for ir in steps of MR over mc:        A micro-panel mr x kc
 *             micro-kernel: C[ir.., jr..] (+)= A panel · B panel
 *
 * Packed layouts:
 *   b_pack: micro-panel of columns [jr, jr + w) at b_pack + jr*kc, element
 *           (k, j) at [k*w + j], w = NR = 24, or the width of the last
 *           panel rounded up to 8 with zeros.
 *   a_pack: micro-panel of rows [ir, ir + mr) at a_pack + ir*kc, element
 *           (r, k) at [k*mr + r], mr = MR = 8 or fewer for the last panel.
 *
 * AVX-512 micro-kernel: for each k, load 1..3 zmm of B (8 columns each),
 * broadcast each of mr A values, and vpmullq + vpaddq into mr x nv
 * accumulators (named c<row><vector>; gcc keeps them in registers). There
 * is one kernel per (mr, nv), so edge tiles waste no multiplies on rows
 * and at most 7 lanes on columns.
 *
 * Shape tricks:
 *   - C^T = op(B)^T op(A)^T. When v is thin (v = 10) and m is not, the
 *     problem is solved transposed so that the thin side becomes the rows
 *     of the kernel (cheap) instead of its vector lanes (padded to 8); the
 *     kernel then writes C through an in-register 8x8 transpose.
 *   - m == 1 (or v == 1, by the same transpose) is a vector-matrix product:
 *     no packing at all, B is streamed once.
 *   - When the A block is used by few B micro-panels (thin v), A is read in
 *     place instead of packed; it is then a strided view the kernel reads
 *     through eight row pointers.
 */
#include "ring_gemm.h"

#include <float.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>

#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
#define HAVE_AVX512 1
#include <immintrin.h>
#else
#define HAVE_AVX512 0
#endif

/* Blocking parameters, in elements. NC is a multiple of NR, MC of MR. */
#define MR 8   /* rows of the AVX-512 register tile */
#define NR 16  /* columns of the AVX-512 register tile (2 zmm) */
#define KC 512 /* depth of a packed slab */
#define NC 192 /* columns of a packed B block */

#define GEN_MR 4 /* register tile of the generic kernel */
#define GEN_NR 4

/* Thread-local packing buffers, shared by both implementations. */
_Alignas(64) static _Thread_local uint64_t b_pack[KC * NC]; /* B block, kc x nc */
_Alignas(64) static _Thread_local uint64_t a_pack[MR * KC]; /* A micro-panel, kc x mr */

struct view {
	const uint64_t *p; /* element (r, c) at p[r*rs + c*cs] */
	size_t rs;	   /* row stride, elements */
	size_t cs;	   /* column stride, elements */
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

static double min_double(double a, double b)
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
static void pack_b_generic(uint64_t *dst, struct view b, size_t k0, size_t kc, size_t j0,
			   size_t nc)
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
						       C + ir * v + jc + jr, v, min_size(GEN_MR, m - ir),
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

/* Lanes [0, n) of an 8-lane mask, n <= 8. */
static __mmask8 lanes(size_t n)
{
	return (__mmask8)((1u << n) - 1u);
}

/* Masked loads are slow on Zen 4 (several times a plain load), so every
 * masked access below first checks for the common full mask. */
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
	/* t[2i] = (r0 r1 interleaved: x00 x10 x02 x12 x04 x14 x06 x16), etc. */
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
				_mm512_loadu_si512(s),		_mm512_loadu_si512(s + ld),
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
			const uint64_t *src = b.p + k0 * b.rs + j0 + jr;
			uint64_t *d = dst + jr * kc;
			for (size_t k = 0; k < kc; k++) {
				for (size_t q = 0; q < w; q += 8) {
					__mmask8 mk = lanes(min_size(8, nr - q));
					_mm512_store_si512(d + q, load_vec(src + q, mk));
				}
				src += b.rs;
				d += w;
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
			transpose_pack(dst + jr * kc + q, w, 0xff, src, b.cs, min_size(8, nr - q), kc);
		}
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
#define KERNEL_ARGS                                                                             \
	size_t kc, const uint64_t *a, size_t a_rs, size_t a_cs, const uint64_t *b, size_t b_rs, \
		uint64_t *c, size_t c_rs, size_t c_cs, size_t ncols, bool overwrite

INLINE TARGET void kernel_body(const int MR_, const int NV, KERNEL_ARGS)
{
	const __m512i z = _mm512_setzero_si512();
	__m512i c00 = z, c01 = z, c10 = z, c11 = z, c20 = z, c21 = z, c30 = z, c31 = z;
	__m512i c40 = z, c41 = z, c50 = z, c51 = z, c60 = z, c61 = z, c70 = z, c71 = z;
	/* Row pointers; rows past MR_ alias row 0 and are never read. */
	const uint64_t *a0 = a;
	const uint64_t *a1 = MR_ > 1 ? a + 1 * a_rs : a;
	const uint64_t *a2 = MR_ > 2 ? a + 2 * a_rs : a;
	const uint64_t *a3 = MR_ > 3 ? a + 3 * a_rs : a;
	const uint64_t *a4 = MR_ > 4 ? a + 4 * a_rs : a;
	const uint64_t *a5 = MR_ > 5 ? a + 5 * a_rs : a;
	const uint64_t *a6 = MR_ > 6 ? a + 6 * a_rs : a;
	const uint64_t *a7 = MR_ > 7 ? a + 7 * a_rs : a;

	for (size_t k = 0; k < kc; k++) {
		size_t o = k * a_cs;
		__m512i b0 = _mm512_loadu_si512(b);
		__m512i b1 = NV > 1 ? _mm512_loadu_si512(b + 8) : z;
		b += b_rs;
#define KERNEL_ROW(r)                                                                  \
	if (MR_ > r) {                                                                 \
		__m512i ar = _mm512_set1_epi64((long long)a##r[o]);                    \
		c##r##0 = _mm512_add_epi64(c##r##0, _mm512_mullo_epi64(ar, b0));       \
		if (NV > 1)                                                            \
			c##r##1 = _mm512_add_epi64(c##r##1, _mm512_mullo_epi64(ar, b1)); \
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
#define STORE_ROW(r)                                                                 \
	if (MR_ > r) {                                                               \
		uint64_t *cr = c + r * c_rs;                                         \
		store_vec(cr, c##r##0, NV == 1 ? last : 0xff, overwrite);           \
		if (NV > 1)                                                          \
			store_vec(cr + 8, c##r##1, last, overwrite);                 \
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
		__mmask8 rows = lanes((size_t)MR_);
		__m512i x[8];
#define STORE_T(q)                                                                 \
	if (NV > q) {                                                              \
		x[0] = c0##q, x[1] = c1##q, x[2] = c2##q, x[3] = c3##q;            \
		x[4] = c4##q, x[5] = c5##q, x[6] = c6##q, x[7] = c7##q;            \
		transpose8(x);                                                     \
		size_t w = min_size(8, ncols - 8 * q);                             \
		for (size_t j = 0; j < w; j++)                                     \
			store_vec(c + (8 * q + j) * c_cs, x[j], rows, overwrite); \
	}
		STORE_T(0)
		STORE_T(1)
#undef STORE_T
	}
}

typedef void (*kernel_fn)(KERNEL_ARGS);

#define KERNEL(mr, nv)                                                                      \
	static TARGET void kernel_##mr##_##nv(KERNEL_ARGS)                                  \
	{                                                                                   \
		kernel_body(mr, nv, kc, a, a_rs, a_cs, b, b_rs, c, c_rs, c_cs, ncols, overwrite); \
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
	const __m512i z = _mm512_setzero_si512();
	__m512i c0 = z, c1 = z, c2 = z, c3 = z, c4 = z, c5 = z, c6 = z, c7 = z;
	for (size_t k = 0; k < n; k++) {
		__m512i ak = _mm512_set1_epi64((long long)a[k]);
		const uint64_t *bk = b + k * b_rs;
#define AXPY(q)                                                                              \
	if (NV > q) {                                                                        \
		__m512i bq = load_vec(bk + 8 * q, NV == q + 1 ? last : 0xff);                 \
		c##q = _mm512_add_epi64(c##q, _mm512_mullo_epi64(ak, bq));                   \
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
#define AXPY_STORE(q) \
	if (NV > q)   \
		store_vec(c + 8 * q, c##q, NV == q + 1 ? last : 0xff, overwrite);
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

static TARGET uint64_t hsum(__m512i x)
{
	_Alignas(64) uint64_t t[8];
	_mm512_store_si512(t, x);
	return t[0] + t[1] + t[2] + t[3] + t[4] + t[5] + t[6] + t[7];
}

/* c (1 x v, contiguous) (+)= a (1 x n, contiguous) · b (n x v). */
static TARGET void gemv_avx512(uint64_t *c, const uint64_t *a, struct view b, size_t n, size_t v,
			       bool overwrite)
{
	if (b.rs == 1 && (b.cs != 1 || v == 1)) {
		/* Columns of b are contiguous: dot products, four at a time. */
		size_t j = 0;
		__mmask8 tail = lanes(n % 8);
		size_t n8 = n - n % 8;
		for (; j + 4 <= v; j += 4) {
			const uint64_t *b0 = b.p + j * b.cs, *b1 = b0 + b.cs;
			const uint64_t *b2 = b1 + b.cs, *b3 = b2 + b.cs;
			__m512i s0 = _mm512_setzero_si512(), s1 = s0, s2 = s0, s3 = s0;
			for (size_t k = 0; k < n8; k += 8) {
				__m512i ak = _mm512_loadu_si512(a + k);
				s0 = _mm512_add_epi64(s0, _mm512_mullo_epi64(ak, _mm512_loadu_si512(b0 + k)));
				s1 = _mm512_add_epi64(s1, _mm512_mullo_epi64(ak, _mm512_loadu_si512(b1 + k)));
				s2 = _mm512_add_epi64(s2, _mm512_mullo_epi64(ak, _mm512_loadu_si512(b2 + k)));
				s3 = _mm512_add_epi64(s3, _mm512_mullo_epi64(ak, _mm512_loadu_si512(b3 + k)));
			}
			if (tail) {
				__m512i ak = _mm512_maskz_loadu_epi64(tail, a + n8);
				s0 = _mm512_add_epi64(s0, _mm512_mullo_epi64(ak, _mm512_maskz_loadu_epi64(tail, b0 + n8)));
				s1 = _mm512_add_epi64(s1, _mm512_mullo_epi64(ak, _mm512_maskz_loadu_epi64(tail, b1 + n8)));
				s2 = _mm512_add_epi64(s2, _mm512_mullo_epi64(ak, _mm512_maskz_loadu_epi64(tail, b2 + n8)));
				s3 = _mm512_add_epi64(s3, _mm512_mullo_epi64(ak, _mm512_maskz_loadu_epi64(tail, b3 + n8)));
			}
			uint64_t s[4] = {hsum(s0), hsum(s1), hsum(s2), hsum(s3)};
			for (size_t r = 0; r < 4; r++)
				c[j + r] = overwrite ? s[r] : c[j + r] + s[r];
		}
		for (; j < v; j++) {
			const uint64_t *bj = b.p + j * b.cs;
			__m512i s0 = _mm512_setzero_si512();
			for (size_t k = 0; k < n8; k += 8) {
				__m512i ak = _mm512_loadu_si512(a + k);
				s0 = _mm512_add_epi64(s0, _mm512_mullo_epi64(ak, _mm512_loadu_si512(bj + k)));
			}
			if (tail) {
				__m512i ak = _mm512_maskz_loadu_epi64(tail, a + n8);
				s0 = _mm512_add_epi64(s0, _mm512_mullo_epi64(ak, _mm512_maskz_loadu_epi64(tail, bj + n8)));
			}
			uint64_t s = hsum(s0);
			c[j] = overwrite ? s : c[j] + s;
		}
		return;
	}
	/* Rows of b are contiguous: 64 columns at a time, B streamed once. */
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
	case 1: axpy_block(1, c, a, bj, b.rs, n, last, overwrite); break;
	case 2: axpy_block(2, c, a, bj, b.rs, n, last, overwrite); break;
	case 3: axpy_block(3, c, a, bj, b.rs, n, last, overwrite); break;
	case 4: axpy_block(4, c, a, bj, b.rs, n, last, overwrite); break;
	case 5: axpy_block(5, c, a, bj, b.rs, n, last, overwrite); break;
	case 6: axpy_block(6, c, a, bj, b.rs, n, last, overwrite); break;
	case 7: axpy_block(7, c, a, bj, b.rs, n, last, overwrite); break;
	default: axpy_block(8, c, a, bj, b.rs, n, last, overwrite); break;
	}
}

static size_t round8(size_t x)
{
	return (x + 7) & ~(size_t)7;
}

/* Lane r of the result = sum of the eight lanes of x_r. */
INLINE TARGET __m512i hsum8(__m512i x0, __m512i x1, __m512i x2, __m512i x3, __m512i x4,
			    __m512i x5, __m512i x6, __m512i x7)
{
	const __m512i lo = _mm512_set_epi64(13, 12, 5, 4, 9, 8, 1, 0);
	const __m512i hi = _mm512_set_epi64(15, 14, 7, 6, 11, 10, 3, 2);
	/* s01 = (x0 pair sums, x1 pair sums) interleaved, one pair per 128 bits. */
	__m512i s01 = _mm512_add_epi64(_mm512_unpacklo_epi64(x0, x1), _mm512_unpackhi_epi64(x0, x1));
	__m512i s23 = _mm512_add_epi64(_mm512_unpacklo_epi64(x2, x3), _mm512_unpackhi_epi64(x2, x3));
	__m512i s45 = _mm512_add_epi64(_mm512_unpacklo_epi64(x4, x5), _mm512_unpackhi_epi64(x4, x5));
	__m512i s67 = _mm512_add_epi64(_mm512_unpacklo_epi64(x6, x7), _mm512_unpackhi_epi64(x6, x7));
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
	__m512i x00 = z, x01 = z, x02 = z, x03 = z, x10 = z, x11 = z, x12 = z, x13 = z;
	__m512i x20 = z, x21 = z, x22 = z, x23 = z, x30 = z, x31 = z, x32 = z, x33 = z;
#define DOT_ROW(r)                                                                       \
	if (MI > r) {                                                                    \
		x##r##0 = _mm512_add_epi64(x##r##0, _mm512_mullo_epi64(va##r, vb0));     \
		if (NJ > 1)                                                              \
			x##r##1 = _mm512_add_epi64(x##r##1, _mm512_mullo_epi64(va##r, vb1)); \
		if (NJ > 2)                                                              \
			x##r##2 = _mm512_add_epi64(x##r##2, _mm512_mullo_epi64(va##r, vb2)); \
		if (NJ > 3)                                                              \
			x##r##3 = _mm512_add_epi64(x##r##3, _mm512_mullo_epi64(va##r, vb3)); \
	}
#define DOT_STEP(load)                                                   \
	{                                                                \
		__m512i va0 = load(a0 + k);                              \
		__m512i va1 = MI > 1 ? load(a1 + k) : z;                 \
		__m512i va2 = MI > 2 ? load(a2 + k) : z;                 \
		__m512i va3 = MI > 3 ? load(a3 + k) : z;                 \
		__m512i vb0 = load(b0 + k);                              \
		__m512i vb1 = NJ > 1 ? load(b1 + k) : z;                 \
		__m512i vb2 = NJ > 2 ? load(b2 + k) : z;                 \
		__m512i vb3 = NJ > 3 ? load(b3 + k) : z;                 \
		DOT_ROW(0)                                               \
		DOT_ROW(1)                                               \
		DOT_ROW(2)                                               \
		DOT_ROW(3)                                               \
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
			store_vec(c + 3 * c_rs, _mm512_shuffle_i64x2(s23, s23, 0xee), cols, overwrite);
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

#define DOT_ARGS                                                                        \
	uint64_t *c, size_t c_rs, size_t c_cs, const uint64_t *a, size_t lda, const uint64_t *bt, \
		size_t ldb, size_t n, bool overwrite
#define DOT_TILE(mi, nj)                                                      \
	static TARGET void dot_tile_##mi##_##nj(DOT_ARGS)                     \
	{                                                                     \
		dot_body(mi, nj, c, c_rs, c_cs, a, lda, bt, ldb, n, overwrite); \
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
 * contiguous, else transposed into b_pack in chunks of k. */
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
				transpose_pack(b_pack + k, ldb, lanes(rows), b.p + (k0 + k) * b.rs, b.rs,
					       rows, v);
			}
			bt = b_pack;
		}
		for (size_t i = 0; i < m; i += 4) {
			const uint64_t *ai = a.p + i * a.rs + k0;
			for (size_t j = 0; j < v; j += 4) {
				dot_tiles[min_size(4, m - i) - 1][min_size(4, v - j) - 1](
					C + i * c_rs + j * c_cs, c_rs, c_cs, ai, a.rs, bt + j * ldb, ldb,
					kc, overwrite);
			}
		}
	}
}

/* a_pack (kc x mr, element (r, k) at [k*mr + r]) <- columns of a
 * (element (r, k) at a[r + k*a_cs]). */
static TARGET void pack_a_panel(uint64_t *dst, const uint64_t *a, size_t a_cs, size_t mr,
				size_t kc)
{
	__mmask8 mk = lanes(mr);
	for (size_t k = 0; k < kc; k++)
		store_vec(dst + k * mr, load_vec(a + k * a_cs, mk), mk, true);
}

/* C view (element (i, j) at C[i*c_rs + j*c_cs]) (+)= a (m x n) · b (n x v),
 * m, v >= 2, n >= 1. A is read in place: on Zen 4 packing it was slower for
 * every shape measured (the 8-row micro-panel stays in L1 across the jr
 * loop either way). */
static TARGET void gemm_blocked_avx512(uint64_t *C, size_t c_rs, size_t c_cs, struct view a,
				       struct view b, size_t m, size_t n, size_t v, bool acc)
{
	size_t kc_max = slab_depth(n);
	/* With at most two row tiles each element of B is read once or twice:
	 * copying it would cost more than it saves. Only a partial last panel
	 * (not a multiple of 8 wide) is still packed, to pad it with zeros. */
	bool b_in_place = b.cs == 1 && m <= 2 * MR;
	bool pack_a = a.rs == 1 && a.cs >= 512 && v > NR;
	for (size_t jc = 0; jc < v; jc += NC) {
		size_t nc = min_size(NC, v - jc);
		size_t nc_in_place = b_in_place ? nc & ~(size_t)7 : 0;
		for (size_t pc = 0; pc < n; pc += kc_max) {
			size_t kc = min_size(kc_max, n - pc);
			bool overwrite = pc == 0 && !acc;
			if (nc_in_place < nc) {
				size_t j0 = nc_in_place - nc_in_place % NR;
				pack_b_avx512(b_pack + j0 * kc, b, pc, kc, jc + j0, nc - j0);
			}
			for (size_t ir = 0; ir < m; ir += MR) {
				size_t mr = min_size(MR, m - ir);
				const uint64_t *ap = a.p + ir * a.rs + pc * a.cs;
				size_t a_rs = a.rs, a_cs = a.cs;
				if (pack_a) {
					pack_a_panel(a_pack, ap, a_cs, mr, kc);
					ap = a_pack;
					a_cs = mr;
				}
				for (size_t jr = 0; jr < nc; jr += NR) {
					size_t ncols = min_size(NR, nc - jr);
					size_t nv = (ncols + 7) / 8;
					const uint64_t *bp = b_pack + jr * kc;
					size_t b_rs = 8 * nv;
					if (jr + ncols <= nc_in_place) {
						bp = b.p + pc * b.rs + jc + jr;
						b_rs = b.rs;
					}
					uint64_t *cp = C + ir * c_rs + (jc + jr) * c_cs;
					kernels[mr - 1][nv - 1](kc, ap, a_rs, a_cs, bp, b_rs, cp, c_rs, c_cs,
								ncols, overwrite);
				}
			}
		}
	}
}

/* Rough cost, in vpmullq of the blocked kernel (Zen 4 measurements: the
 * blocked kernel sustains about 3.2 G vpmullq/s, the dot kernel 2.8 G, and
 * packing an element costs about as much as 0.8 vpmullq). */
#define COST_DOT 1.15  /* per vpmullq of the dot kernel */
#define COST_PACK 0.8  /* per element packed */
#define IN_PLACE_ROWS (2 * MR) /* gemm_blocked_avx512 reads B in place up to here */

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
	if (m == 1) {
		gemv_avx512(C, a.p, b, n, v, !acc); /* a.cs == 1 when m == 1 */
		return;
	}
	if (v == 1) { /* C^T (1 x m) = op(B)^T · op(A)^T, same memory */
		gemv_avx512(C, b.p, transpose(a), n, m, !acc);
		return;
	}
	/* Pick the cheapest way: the blocked kernel pads v to 8 lanes; on the
	 * transposed problem C^T = op(B)^T op(A)^T it pads m instead; the dot
	 * kernel pads n to 8 but needs rows of its left operand contiguous. */
	double normal = cost_blocked(b, m, v);
	double swapped = cost_blocked(transpose(a), v, m);
	double dot = DBL_MAX, dot_swapped = DBL_MAX;
	double dot_work = COST_DOT * (double)m * (double)v * (double)round8(n) / (double)n / 8;
	if (a.cs == 1)
		dot = dot_work + (b.rs != 1 ? COST_PACK * (double)v : 0.0);
	if (b.rs == 1)
		dot_swapped = dot_work + COST_PACK * (double)m;
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
