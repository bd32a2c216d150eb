#include "zp.h"

#include <string.h>

#include "error.h"
#include "prg.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <cpuid.h>
#include <immintrin.h>
#define ZP_HAVE_AVX512 1
#else
#define ZP_HAVE_AVX512 0
#endif

#define P ZP_PRIME

static inline zp_t add67(unsigned a, unsigned b)
{
	unsigned v = a + b;
	return (zp_t)(v >= P ? v - P : v);
}

static inline zp_t neg67(unsigned a)
{
	return (zp_t)(a ? P - a : 0);
}

/* ---- portable kernels ---- */

static void share_bits_generic(zp_t *s1, const zp_t *s0, const ring_t *x, size_t n)
{
	for (size_t e = 0; e < n; e++)
		for (int k = 0; k < ZP_POSITIONS; k++)
			s1[e * 64 + k] = add67(neg67(s0[e * 64 + k]), (unsigned)(x[e] >> k) & 1u);
}

static void pc_shares_generic(zp_t *d, const zp_t *bits, const ring_t *R, const uint8_t *flip,
			      const zp_t *s, const zp_t *z, const uint8_t *perm, int j, size_t n)
{
	zp_t c[ZP_POSITIONS];
	for (size_t e = 0; e < n; e++) {
		const zp_t *x = bits + e * 64;
		ring_t r = R[e];
		unsigned sum = 0; /* Σ of w over the more significant positions */
		for (int k = ZP_POSITIONS - 1; k >= 0; k--) {
			unsigned rk = (unsigned)(r >> k) & 1u;
			unsigned xk = x[k];
			/* w_k = x_k XOR r_k as a share: x_k + j·r_k - 2·r_k·x_k. */
			zp_t w = rk ? add67((unsigned)j, neg67(xk)) : (zp_t)xk;
			if (!flip[e])
				/* beta = 0: c_k = j·r_k - x_k + j + Σ_{m>k} w_m. */
				c[k] = add67(add67(rk ? 2u * (unsigned)j : (unsigned)j, neg67(xk)), sum);
			else
				/* beta = 1 (R = t): c_k = -j·t_k + x_k + j + Σ_{m>k} w_m. */
				c[k] = add67(add67(xk, rk ? 0u : (unsigned)j), sum);
			sum = add67(sum, w);
		}
		/* d_k = s_k·c_k, masked, then permuted: out[k] = d[perm[k]]. */
		zp_t dk[ZP_POSITIONS];
		for (int k = 0; k < ZP_POSITIONS; k++) {
			unsigned m = (unsigned)s[e * 64 + k] * c[k] % P;
			unsigned mask = z[e * 64 + k];
			dk[k] = j == 0 ? add67(m, mask) : add67(m, neg67(mask));
		}
		for (int k = 0; k < ZP_POSITIONS; k++)
			d[e * 64 + k] = dk[perm[e * 64 + k]];
	}
}

static void pc_reveal_generic(uint8_t *beta, const zp_t *d0, const zp_t *d1, size_t n)
{
	for (size_t e = 0; e < n; e++) {
		uint8_t zero = 0;
		for (int k = 0; k < ZP_POSITIONS; k++)
			zero |= add67(d0[e * 64 + k], d1[e * 64 + k]) == 0;
		beta[e] = zero;
	}
}

/* ---- AVX-512 kernels (BW for byte arithmetic, VBMI for byte permutes, VL for
 * the 256- and 128-bit ones) ---- */

#if ZP_HAVE_AVX512
#define TARGET __attribute__((target("avx512f,avx512bw,avx512vbmi,avx512vl")))

TARGET static inline __m512i vadd67(__m512i a, __m512i b)
{
	__m512i v = _mm512_add_epi8(a, b);
	/* v < 134: min(v, v - 67) picks v - 67 exactly when v >= 67. */
	return _mm512_min_epu8(v, _mm512_sub_epi8(v, _mm512_set1_epi8((char)P)));
}

TARGET static inline __m512i vneg67(__m512i a)
{
	__m512i v = _mm512_sub_epi8(_mm512_set1_epi8((char)P), a);
	return _mm512_min_epu8(v, _mm512_sub_epi8(v, _mm512_set1_epi8((char)P)));
}

TARGET static void share_bits_avx512(zp_t *s1, const zp_t *s0, const ring_t *x, size_t n)
{
	const __m512i one = _mm512_set1_epi8(1);
	for (size_t e = 0; e < n; e++) {
		__m512i neg = vneg67(_mm512_loadu_si512(s0 + e * 64));
		__m512i v = _mm512_mask_blend_epi8((__mmask64)x[e], neg, vadd67(neg, one));
		_mm512_storeu_si512(s1 + e * 64, v);
	}
}

/* a - b mod 67 for bytes < 67: a wrapped difference is >= 190, and adding
 * 67 brings it below 67 (min picks whichever is reduced). */
TARGET static inline __m512i vsub67(__m512i a, __m512i b)
{
	__m512i v = _mm512_sub_epi8(a, b);
	return _mm512_min_epu8(v, _mm512_add_epi8(v, _mm512_set1_epi8((char)P)));
}

/* v mod 67 for bytes v < 134. */
TARGET static inline __m512i vred67(__m512i v)
{
	return _mm512_min_epu8(v, _mm512_sub_epi8(v, _mm512_set1_epi8((char)P)));
}

TARGET static void pc_shares_avx512(zp_t *d, const zp_t *bits, const ring_t *R,
				    const uint8_t *flip, const zp_t *s, const zp_t *z,
				    const uint8_t *perm, int j, size_t n)
{
	/* shift[t]: lane k takes lane k + 2^t (zero past the top). */
	__m512i idx[6];
	__mmask64 keep[6];
	for (int t = 0; t < 6; t++) {
		uint8_t tmp[64];
		int sh = 1 << t;
		for (int k = 0; k < 64; k++)
			tmp[k] = (uint8_t)((k + sh) & 63);
		idx[t] = _mm512_loadu_si512(tmp);
		keep[t] = (~(__mmask64)0) >> sh;
	}
	/* Z_67^* is cyclic with generator 2: a·b = 2^(log a + log b) for a, b != 0.
	 * Tables of 128 bytes (two registers, indexed by 7 bits); only the entries
	 * below 67 (log) and 66 (exp) are used. */
	uint8_t lg[128] = { 0 }, ex[128] = { 0 };
	for (unsigned i = 0, e = 1; i < P - 1; i++, e = e * 2 % P) {
		ex[i] = (uint8_t)e;
		lg[e] = (uint8_t)i;
	}
	const __m512i lg0 = _mm512_loadu_si512(lg), lg1 = _mm512_loadu_si512(lg + 64);
	const __m512i ex0 = _mm512_loadu_si512(ex), ex1 = _mm512_loadu_si512(ex + 64);
	const __m512i p1 = _mm512_set1_epi8((char)(P - 1));
	const __m512i vj = _mm512_set1_epi8((char)j);
	for (size_t e = 0; e < n; e++) {
		__mmask64 r = (__mmask64)R[e];
		__m512i x = _mm512_loadu_si512(bits + e * 64);
		__m512i jmx = vsub67(vj, x);
		/* w_k = r_k ? j - x_k : x_k */
		__m512i w = _mm512_mask_blend_epi8(r, x, jmx);
		/* Inclusive suffix sums T_k = Σ_{m>=k} w_m in six doubling steps. */
		__m512i T = w;
		for (int t = 0; t < 6; t++)
			T = vred67(_mm512_add_epi8(T, _mm512_maskz_permutexvar_epi8(keep[t], idx[t], T)));
		/* Exclusive: S_k = T_{k+1}. */
		__m512i S = _mm512_maskz_permutexvar_epi8(keep[0], idx[0], T);
		/* beta = 0: c = j - x + j·r + S; beta = 1: c = x + j·(1 - r) + S.
		 * Without a branch (flip is uniform); the sum stays below 134. */
		__mmask64 f = (__mmask64)0 - (flip[e] & 1u);
		__m512i base = _mm512_mask_blend_epi8(f, jmx, x);
		__m512i c = vred67(_mm512_add_epi8(_mm512_mask_add_epi8(base, r ^ f, base, vj), S));
		/* m = s·c: 0 where c = 0, else 2^((log s + log c) mod 66). */
		__m512i l = _mm512_add_epi8(_mm512_permutex2var_epi8(lg0, c, lg1),
					    _mm512_permutex2var_epi8(lg0, _mm512_loadu_si512(s + e * 64), lg1));
		l = _mm512_min_epu8(l, _mm512_sub_epi8(l, p1));
		__m512i m = _mm512_maskz_permutex2var_epi8(_mm512_test_epi8_mask(c, c), ex0, l, ex1);
		__m512i mask = _mm512_loadu_si512(z + e * 64);
		m = j == 0 ? vadd67(m, mask) : vsub67(m, mask);
		_mm512_storeu_si512(d + e * 64,
				    _mm512_permutexvar_epi8(_mm512_loadu_si512(perm + e * 64), m));
	}
}

TARGET static void pc_reveal_avx512(uint8_t *beta, const zp_t *d0, const zp_t *d1, size_t n)
{
	const __m512i p = _mm512_set1_epi8((char)P);
	for (size_t e = 0; e < n; e++) {
		__m512i v = _mm512_add_epi8(_mm512_loadu_si512(d0 + e * 64),
					    _mm512_loadu_si512(d1 + e * 64));
		__mmask64 zero = _mm512_cmpeq_epi8_mask(v, _mm512_setzero_si512()) |
				 _mm512_cmpeq_epi8_mask(v, p);
		beta[e] = zero != 0;
	}
}

static int cpu_has_avx512_vbmi(void)
{
	unsigned a, b, c, d;
	if (!__get_cpuid_count(7, 0, &a, &b, &c, &d))
		return 0;
	int f = (b >> 16) & 1, bw = (b >> 30) & 1, vl = (b >> 31) & 1, vbmi = (c >> 1) & 1;
	if (!(f && bw && vl && vbmi))
		return 0;
	/* The OS must save the zmm state (XCR0 bits 1, 2, 5, 6, 7). */
	if (!__get_cpuid(1, &a, &b, &c, &d) || !((c >> 27) & 1))
		return 0;
	unsigned lo, hi;
	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	return (lo & 0xE6) == 0xE6;
}
#endif

/* ---- dispatch ---- */

enum { IMPL_UNSET = 0, IMPL_GENERIC, IMPL_AVX512 };
static int impl = IMPL_UNSET;

static int best_impl(void)
{
#if ZP_HAVE_AVX512
	static int cached = IMPL_UNSET;
	if (cached == IMPL_UNSET)
		cached = cpu_has_avx512_vbmi() ? IMPL_AVX512 : IMPL_GENERIC;
	return cached;
#else
	return IMPL_GENERIC;
#endif
}

static int current(void)
{
	int i = __atomic_load_n(&impl, __ATOMIC_RELAXED);
	if (i == IMPL_UNSET) {
		i = best_impl();
		__atomic_store_n(&impl, i, __ATOMIC_RELAXED);
	}
	return i;
}

const char *zp_impl_name(void)
{
	return current() == IMPL_AVX512 ? "avx512" : "generic";
}

int zp_set_impl(const char *name)
{
	if (strcmp(name, "generic") == 0) {
		__atomic_store_n(&impl, IMPL_GENERIC, __ATOMIC_RELAXED);
		return 0;
	}
	if (strcmp(name, "avx512") == 0 || strcmp(name, "auto") == 0) {
		if (strcmp(name, "avx512") == 0 && best_impl() != IMPL_AVX512)
			return ERROR_UNSUPPORTED;
		__atomic_store_n(&impl, best_impl(), __ATOMIC_RELAXED);
		return 0;
	}
	return ERROR_INVAL;
}

void zp_share_bits(zp_t *s1, const zp_t *s0, const ring_t *x, size_t n)
{
#if ZP_HAVE_AVX512
	if (current() == IMPL_AVX512) {
		share_bits_avx512(s1, s0, x, n);
		return;
	}
#endif
	share_bits_generic(s1, s0, x, n);
}

void zp_pc_shares(zp_t *d, const zp_t *bits, const ring_t *R, const uint8_t *flip, const zp_t *s,
		  const zp_t *z, const uint8_t *perm, int j, size_t n)
{
#if ZP_HAVE_AVX512
	if (current() == IMPL_AVX512) {
		pc_shares_avx512(d, bits, R, flip, s, z, perm, j, n);
		return;
	}
#endif
	pc_shares_generic(d, bits, R, flip, s, z, perm, j, n);
}

void zp_pc_reveal(uint8_t *beta, const zp_t *d0, const zp_t *d1, size_t n)
{
#if ZP_HAVE_AVX512
	if (current() == IMPL_AVX512) {
		pc_reveal_avx512(beta, d0, d1, n);
		return;
	}
#endif
	pc_reveal_generic(beta, d0, d1, n);
}

/* ---- permutations ----
 *
 * The draws: a chunk of up to 64 permutations takes 63 16-bit words each
 * from g (prg_bytes, 63 x 2 bytes per permutation, in order). Word t of a
 * permutation is the draw of Fisher-Yates step k = 63 - t: j_k uniform in
 * [0, k] by Lemire's multiply-shift, j = (word·(k + 1)) >> 16, accepted
 * unless the low 16 bits of the product are below 2^16 mod (k + 1). The few
 * rejected draws are then redrawn, each from fresh 16-bit words of g, in
 * the order (permutation, t) of the chunk. The permutation is Fisher-Yates
 * on the identity: for k = 63 down to 1, swap positions k and j_k. Both
 * implementations follow this definition, so P0 and P1 always agree. */

enum { PERM_CHUNK = 64, PERM_DRAWS = 63 };

/* 2^16 mod s for s = 1..64: below it, a draw would bias j. */
static const uint16_t lemire_thr[65] = {
#define T(s) (uint16_t)(65536u % (s))
	0,     T(1),  T(2),  T(3),  T(4),  T(5),  T(6),  T(7),  T(8),  T(9),  T(10), T(11), T(12),
	T(13), T(14), T(15), T(16), T(17), T(18), T(19), T(20), T(21), T(22), T(23), T(24), T(25),
	T(26), T(27), T(28), T(29), T(30), T(31), T(32), T(33), T(34), T(35), T(36), T(37), T(38),
	T(39), T(40), T(41), T(42), T(43), T(44), T(45), T(46), T(47), T(48), T(49), T(50), T(51),
	T(52), T(53), T(54), T(55), T(56), T(57), T(58), T(59), T(60), T(61), T(62), T(63), T(64),
#undef T
};

/* j uniform in [0, s - 1] from a 16-bit word, redrawing (from g) while the
 * word falls in the biased range. */
static inline unsigned bounded(uint16_t word, unsigned s, struct prg *g)
{
	uint32_t prod = (uint32_t)word * s;
	while ((uint16_t)prod < lemire_thr[s]) {
		uint16_t extra;
		prg_bytes(g, &extra, sizeof(extra));
		prod = (uint32_t)extra * s;
	}
	return prod >> 16;
}

/* m permutations (m x 64) from their draws rnd (m x 63 words): the
 * definition, step by step. */
static void permutations_generic(uint8_t *perm, const uint16_t *rnd, size_t m, struct prg *g)
{
	for (size_t e = 0; e < m; e++) {
		uint8_t *a = perm + e * 64;
		const uint16_t *r = rnd + e * PERM_DRAWS;
		for (int k = 0; k < 64; k++)
			a[k] = (uint8_t)k;
		for (unsigned k = 63; k >= 1; k--) {
			unsigned j = bounded(r[63 - k], k + 1, g);
			uint8_t t = a[k];
			a[k] = a[j];
			a[j] = t;
		}
	}
}

#if ZP_HAVE_AVX512
/* The same permutations with the array in a register: each swap is one byte
 * permute (vpermb) of the positions, and 8 permutations run side by side so
 * that their permutes overlap.
 *
 * The index vector of a swap comes from a small table because the register
 * holds the array in a rotating frame: before step k, lane i holds position
 * (i - (63 - k)) mod 64, so position k is always lane 63 and j_k is lane
 * q = j_k + 63 - k. Row q of step64 swaps lanes 63 and q and then rotates up
 * by one lane (lane i takes lane i - 1), which gives the frame of step k - 1.
 * The positions already fixed collect in the low lanes, in order: after step
 * 32, lanes 0..31 hold positions 32..63 and lanes 32..63 positions 0..31.
 * Steps 31..16 then run on that upper half alone (256 bits, step32, frame
 * offset 31 - k), and steps 15..0 on the 16 positions still moving (128
 * bits, offset 15 - k; step 0 is j_0 = 0, a plain rotation that leaves
 * position i in lane i), two steps per permute (pair16[16 q + q'] is row q
 * of step16 followed by row q'). Narrower permutes cost less. The loads of
 * the table rows limit the speed, so their byte offsets are computed ahead
 * and read four at a time. */

/* Entry i of row q of the step table of a W-lane register: lane 0 takes
 * lane q, lane q + 1 takes lane W - 1, any other lane i takes lane i - 1. */
#define STEP(W, q, i) (uint8_t)((i) == 0 ? (q) : (i) == (q) + 1 ? (W) - 1 : (i) - 1)
#define STEP8(W, q, i)                                                                      \
	STEP(W, q, i), STEP(W, q, (i) + 1), STEP(W, q, (i) + 2), STEP(W, q, (i) + 3),       \
		STEP(W, q, (i) + 4), STEP(W, q, (i) + 5), STEP(W, q, (i) + 6),              \
		STEP(W, q, (i) + 7)
#define ROW32(q) { STEP8(32, q, 0), STEP8(32, q, 8), STEP8(32, q, 16), STEP8(32, q, 24) }
#define ROW64(q)                                                                            \
	{ STEP8(64, q, 0),  STEP8(64, q, 8),  STEP8(64, q, 16), STEP8(64, q, 24),           \
	  STEP8(64, q, 32), STEP8(64, q, 40), STEP8(64, q, 48), STEP8(64, q, 56) }
#define ROWS8(R, q)                                                                         \
	R(q), R((q) + 1), R((q) + 2), R((q) + 3), R((q) + 4), R((q) + 5), R((q) + 6),       \
		R((q) + 7)
/* Two 16-lane steps, row q then row q2: entry i is entry STEP(16, q2, i) of row q. */
#define PAIR(q, q2, i) STEP(16, q, STEP(16, q2, i))
#define PAIR8(q, q2, i)                                                                     \
	PAIR(q, q2, i), PAIR(q, q2, (i) + 1), PAIR(q, q2, (i) + 2), PAIR(q, q2, (i) + 3),   \
		PAIR(q, q2, (i) + 4), PAIR(q, q2, (i) + 5), PAIR(q, q2, (i) + 6),           \
		PAIR(q, q2, (i) + 7)
#define PROW(q, q2) { PAIR8(q, q2, 0), PAIR8(q, q2, 8) }
#define PROWS(q)                                                                            \
	PROW(q, 0), PROW(q, 1), PROW(q, 2), PROW(q, 3), PROW(q, 4), PROW(q, 5), PROW(q, 6), \
		PROW(q, 7), PROW(q, 8), PROW(q, 9), PROW(q, 10), PROW(q, 11), PROW(q, 12),  \
		PROW(q, 13), PROW(q, 14), PROW(q, 15)

static const uint8_t step64[64][64] __attribute__((aligned(64))) = {
	ROWS8(ROW64, 0),  ROWS8(ROW64, 8),  ROWS8(ROW64, 16), ROWS8(ROW64, 24),
	ROWS8(ROW64, 32), ROWS8(ROW64, 40), ROWS8(ROW64, 48), ROWS8(ROW64, 56),
};
static const uint8_t step32[32][32] __attribute__((aligned(32))) = {
	ROWS8(ROW32, 0), ROWS8(ROW32, 8), ROWS8(ROW32, 16), ROWS8(ROW32, 24),
};
static const uint8_t pair16[16 * 16][16] __attribute__((aligned(16))) = {
	PROWS(0),  PROWS(1),  PROWS(2),  PROWS(3),  PROWS(4),  PROWS(5),  PROWS(6),  PROWS(7),
	PROWS(8),  PROWS(9),  PROWS(10), PROWS(11), PROWS(12), PROWS(13), PROWS(14), PROWS(15),
};
#undef PROWS
#undef PROW
#undef PAIR8
#undef PAIR
#undef ROWS8
#undef ROW64
#undef ROW32
#undef STEP8
#undef STEP

enum { SIDE = 8 }; /* permutations run side by side */

/* Field u (0..3) of four 16-bit offsets read at once. */
static inline unsigned field(uint64_t w, int u)
{
	return (unsigned)(w >> 16 * u) & 0xFFFF;
}

/* m permutations (m x 64) from the j of their steps (m x 64: j of step
 * 63 - t at [t], 0 at [63]). */
TARGET static void fisher_yates_avx512(uint8_t *perm, const uint8_t *jr, size_t m)
{
	/* Per permutation, byte offsets of the table rows: [t] for the steps
	 * t = 0..31 (step64) and 32..47 (step32), [48 + p] for the pairs of steps
	 * 48 + 2p, 49 + 2p (pair16). Rows of SIDE, the last padded with j = 0. */
	uint16_t o[PERM_CHUNK + SIDE][56];
	/* q - j of step t = 63 - k: the frame offset 63 - k, 31 - k or 15 - k. */
	uint8_t ov[64];
	for (int t = 0; t < 64; t++)
		ov[t] = (uint8_t)(t < 32 ? t : t < 48 ? t - 32 : t - 48);
	const __m512i off = _mm512_loadu_si512(ov);
	const __m512i row64 = _mm512_set1_epi16(6); /* log2 of the row sizes */
	const __m512i row32 = _mm512_set1_epi16(5);
	const __m512i low = _mm512_set1_epi16(0xFF);
	size_t m_side = (m + SIDE - 1) / SIDE * SIDE;
	for (size_t e = 0; e < m_side; e++) {
		__m512i j = e < m ? _mm512_loadu_si512(jr + e * 64) : _mm512_setzero_si512();
		__m512i q = _mm512_add_epi8(j, off);
		__m512i q0 = _mm512_cvtepu8_epi16(_mm512_castsi512_si256(q));
		__m512i q1 = _mm512_cvtepu8_epi16(_mm512_extracti64x4_epi64(q, 1));
		/* As 16-bit words, word 24 + p of q holds the pair p. */
		__m512i pq = _mm512_or_si512(_mm512_slli_epi16(_mm512_and_si512(q, low), 8),
					     _mm512_slli_epi16(_mm512_srli_epi16(q, 8), 4));
		_mm512_storeu_si512(o[e], _mm512_sllv_epi16(q0, row64));
		_mm256_storeu_si256((__m256i *)(o[e] + 32),
				    _mm512_castsi512_si256(_mm512_sllv_epi16(q1, row32)));
		_mm_storeu_si128((__m128i *)(o[e] + 48), _mm512_extracti32x4_epi32(pq, 3));
	}

	const char *t64 = (const char *)step64, *t32 = (const char *)step32;
	const char *t16 = (const char *)pair16;
	uint8_t spare[64]; /* output of the padding lanes */
	for (size_t e0 = 0; e0 < m; e0 += SIDE) {
		uint16_t(*og)[56] = o + e0;
		uint8_t *out[SIDE];
		__m512i a[SIDE];
		__m256i b[SIDE];
		__m128i c[SIDE];
#pragma GCC unroll 8
		for (int g = 0; g < SIDE; g++) {
			out[g] = e0 + (size_t)g < m ? perm + (e0 + (size_t)g) * 64 : spare;
			/* Step 63 on the identity is its index vector. */
			a[g] = _mm512_load_si512(t64 + og[g][0]);
		}
		/* Steps 62..32, all 64 positions. */
		for (int t = 0; t < 32; t += 4) {
			uint64_t w[SIDE];
#pragma GCC unroll 8
			for (int g = 0; g < SIDE; g++)
				memcpy(&w[g], og[g] + t, sizeof(w[g]));
#pragma GCC unroll 4
			for (int u = t == 0; u < 4; u++)
#pragma GCC unroll 8
				for (int g = 0; g < SIDE; g++)
					a[g] = _mm512_permutexvar_epi8(
						_mm512_load_si512(t64 + field(w[g], u)), a[g]);
		}
#pragma GCC unroll 8
		for (int g = 0; g < SIDE; g++) {
			_mm256_storeu_si256((__m256i *)(out[g] + 32), _mm512_castsi512_si256(a[g]));
			b[g] = _mm512_extracti64x4_epi64(a[g], 1);
		}
		/* Steps 31..16 on positions 0..31. */
		for (int t = 32; t < 48; t += 4) {
			uint64_t w[SIDE];
#pragma GCC unroll 8
			for (int g = 0; g < SIDE; g++)
				memcpy(&w[g], og[g] + t, sizeof(w[g]));
#pragma GCC unroll 4
			for (int u = 0; u < 4; u++)
#pragma GCC unroll 8
				for (int g = 0; g < SIDE; g++)
					b[g] = _mm256_permutexvar_epi8(
						_mm256_load_si256(
							(const __m256i *)(t32 + field(w[g], u))),
						b[g]);
		}
#pragma GCC unroll 8
		for (int g = 0; g < SIDE; g++) {
			_mm_storeu_si128((__m128i *)(out[g] + 16), _mm256_castsi256_si128(b[g]));
			c[g] = _mm256_extracti128_si256(b[g], 1);
		}
		/* Steps 15..0 on positions 0..15, two at a time. */
		for (int t = 48; t < 56; t += 4) {
			uint64_t w[SIDE];
#pragma GCC unroll 8
			for (int g = 0; g < SIDE; g++)
				memcpy(&w[g], og[g] + t, sizeof(w[g]));
#pragma GCC unroll 4
			for (int u = 0; u < 4; u++)
#pragma GCC unroll 8
				for (int g = 0; g < SIDE; g++)
					c[g] = _mm_shuffle_epi8(
						c[g], _mm_load_si128(
							      (const __m128i *)(t16 + field(w[g], u))));
		}
#pragma GCC unroll 8
		for (int g = 0; g < SIDE; g++)
			_mm_storeu_si128((__m128i *)out[g], c[g]);
	}
}

TARGET static void permutations_avx512(uint8_t *perm, const uint16_t *rnd, size_t m,
				       struct prg *g)
{
	uint8_t jr[PERM_CHUNK * 64]; /* m x 64: j of step 63 - t at [t], 0 at [63] */
	uint64_t reject[PERM_CHUNK]; /* m: bit t set if draw t must be redrawn */
	uint16_t sv[64], tv[64];
	uint8_t even[64];
	for (int t = 0; t < 64; t++) {
		unsigned s = t < 63 ? 64u - (unsigned)t : 1u; /* lane 63: j_0 = 0 */
		sv[t] = (uint16_t)s;
		tv[t] = lemire_thr[s];
		even[t] = (uint8_t)(2 * t);
	}
	const __m512i s0 = _mm512_loadu_si512(sv), s1 = _mm512_loadu_si512(sv + 32);
	const __m512i t0 = _mm512_loadu_si512(tv), t1 = _mm512_loadu_si512(tv + 32);
	const __m512i pack = _mm512_loadu_si512(even);

	/* Draws: 63 multiply-shifts per permutation, 32 at a time. */
	uint64_t any = 0;
	for (size_t e = 0; e < m; e++) {
		const uint16_t *r = rnd + e * PERM_DRAWS;
		__m512i r0 = _mm512_loadu_si512(r);
		__m512i r1 = _mm512_maskz_loadu_epi16(0x7FFFFFFF, r + 32);
		__mmask32 b0 = _mm512_cmplt_epu16_mask(_mm512_mullo_epi16(r0, s0), t0);
		__mmask32 b1 = _mm512_cmplt_epu16_mask(_mm512_mullo_epi16(r1, s1), t1);
		__m512i j = _mm512_permutex2var_epi8(_mm512_mulhi_epu16(r0, s0), pack,
						     _mm512_mulhi_epu16(r1, s1));
		_mm512_storeu_si512(jr + e * 64, j);
		reject[e] = (uint64_t)b0 | (uint64_t)b1 << 32;
		any |= reject[e];
	}
	/* Rare: redraw the rejected ones, in the order of the definition. */
	if (any)
		for (size_t e = 0; e < m; e++)
			for (uint64_t b = reject[e]; b; b &= b - 1) {
				int t = __builtin_ctzll(b);
				jr[e * 64 + t] = (uint8_t)bounded(rnd[e * PERM_DRAWS + t],
								  64u - (unsigned)t, g);
			}
	fisher_yates_avx512(perm, jr, m);
}
#endif

void zp_permutations(uint8_t *perm, struct prg *g, size_t n)
{
	uint16_t rnd[PERM_CHUNK * PERM_DRAWS]; /* draws of one chunk */
	for (size_t base = 0; base < n; base += PERM_CHUNK) {
		size_t m = n - base < PERM_CHUNK ? n - base : PERM_CHUNK;
		prg_bytes(g, rnd, m * PERM_DRAWS * sizeof(uint16_t));
#if ZP_HAVE_AVX512
		if (current() == IMPL_AVX512) {
			permutations_avx512(perm + base * 64, rnd, m, g);
			continue;
		}
#endif
		permutations_generic(perm + base * 64, rnd, m, g);
	}
}
