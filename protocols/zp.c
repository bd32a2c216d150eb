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

/* ---- AVX-512 kernels (BW for byte arithmetic, VBMI for byte permutes) ---- */

#if ZP_HAVE_AVX512
#define TARGET __attribute__((target("avx512f,avx512bw,avx512vbmi")))

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

/* a·b mod 67 for bytes < 67: 16-bit products, Barrett with 978/2^16
 * (underestimates 1/67, so one correction step suffices). */
TARGET static inline __m512i vmul67(__m512i a, __m512i b)
{
	const __m512i p16 = _mm512_set1_epi16(P), k978 = _mm512_set1_epi16(978);
	__m512i lo = _mm512_mullo_epi16(_mm512_cvtepu8_epi16(_mm512_castsi512_si256(a)),
					_mm512_cvtepu8_epi16(_mm512_castsi512_si256(b)));
	__m512i hi = _mm512_mullo_epi16(_mm512_cvtepu8_epi16(_mm512_extracti64x4_epi64(a, 1)),
					_mm512_cvtepu8_epi16(_mm512_extracti64x4_epi64(b, 1)));
	lo = _mm512_sub_epi16(lo, _mm512_mullo_epi16(_mm512_mulhi_epu16(lo, k978), p16));
	hi = _mm512_sub_epi16(hi, _mm512_mullo_epi16(_mm512_mulhi_epu16(hi, k978), p16));
	lo = _mm512_min_epu16(lo, _mm512_sub_epi16(lo, p16));
	hi = _mm512_min_epu16(hi, _mm512_sub_epi16(hi, p16));
	return _mm512_inserti64x4(_mm512_castsi256_si512(_mm512_cvtepi16_epi8(lo)),
				  _mm512_cvtepi16_epi8(hi), 1);
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

TARGET static void pc_shares_avx512(zp_t *d, const zp_t *bits, const ring_t *R,
				    const uint8_t *flip, const zp_t *s, const zp_t *z,
				    const uint8_t *perm, int j, size_t n)
{
	/* shift[t]: lane k takes lane k + 2^t (zero past the top). */
	__m512i idx[7];
	__mmask64 keep[7];
	for (int t = 0; t < 7; t++) {
		uint8_t tmp[64];
		int sh = 1 << t;
		for (int k = 0; k < 64; k++)
			tmp[k] = (uint8_t)((k + sh) & 63);
		idx[t] = _mm512_loadu_si512(tmp);
		keep[t] = sh >= 64 ? 0 : (~(__mmask64)0) >> sh;
	}
	const __m512i vj = _mm512_set1_epi8((char)j), v2j = _mm512_set1_epi8((char)(2 * j));
	for (size_t e = 0; e < n; e++) {
		__mmask64 r = (__mmask64)R[e];
		__m512i x = _mm512_loadu_si512(bits + e * 64);
		__m512i nx = vneg67(x);
		/* w_k = r_k ? j - x_k : x_k */
		__m512i w = _mm512_mask_blend_epi8(r, x, vadd67(nx, vj));
		/* Inclusive suffix sums T_k = Σ_{m>=k} w_m in six doubling steps. */
		__m512i T = w;
		for (int t = 0; t < 6; t++)
			T = vadd67(T, _mm512_maskz_permutexvar_epi8(keep[t], idx[t], T));
		/* Exclusive: S_k = T_{k+1}. */
		__m512i S = _mm512_maskz_permutexvar_epi8(keep[0], idx[0], T);
		__m512i c;
		if (!flip[e])
			c = vadd67(vadd67(nx, _mm512_mask_blend_epi8(r, vj, v2j)), S);
		else
			c = vadd67(vadd67(x, _mm512_maskz_mov_epi8(~r, vj)), S);
		__m512i m = vmul67(_mm512_loadu_si512(s + e * 64), c);
		__m512i mask = _mm512_loadu_si512(z + e * 64);
		m = vadd67(m, j == 0 ? mask : vneg67(mask));
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
	int f = (b >> 16) & 1, bw = (b >> 30) & 1, vbmi = (c >> 1) & 1;
	if (!(f && bw && vbmi))
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

/* 65536 mod s for s = 1..64: Lemire's rejection thresholds. */
static uint16_t lemire_threshold(unsigned s)
{
	return (uint16_t)(65536u % s);
}

/* j uniform in [0, s - 1] from a 16-bit word: Lemire's multiply-shift,
 * redrawing (from g) the few words that would bias it. */
static inline unsigned bounded(uint16_t word, unsigned s, const uint16_t *thr, struct prg *g)
{
	uint32_t prod = (uint32_t)word * s;
	while ((uint16_t)prod < thr[s]) {
		uint16_t extra;
		prg_bytes(g, &extra, sizeof(extra));
		prod = (uint32_t)extra * s;
	}
	return prod >> 16;
}

void zp_permutations(uint8_t *perm, struct prg *g, size_t n)
{
	enum { CHUNK = 64, DRAWS = 63, WAYS = 4 };
	uint16_t thr[65];
	for (unsigned s = 1; s <= 64; s++)
		thr[s] = lemire_threshold(s);
	uint8_t identity[64];
	for (int k = 0; k < 64; k++)
		identity[k] = (uint8_t)k;
	uint16_t rnd[CHUNK * DRAWS];
	for (size_t base = 0; base < n; base += CHUNK) {
		size_t m = n - base < CHUNK ? n - base : CHUNK;
		prg_bytes(g, rnd, m * DRAWS * sizeof(uint16_t));
		size_t e = 0;
		/* Four shuffles at a time: four independent chains of swaps. */
		for (; e + WAYS <= m; e += WAYS) {
			uint8_t *a0 = perm + (base + e) * 64, *a1 = a0 + 64, *a2 = a1 + 64, *a3 = a2 + 64;
			const uint16_t *r0 = rnd + e * DRAWS, *r1 = r0 + DRAWS, *r2 = r1 + DRAWS,
				       *r3 = r2 + DRAWS;
			memcpy(a0, identity, 64);
			memcpy(a1, identity, 64);
			memcpy(a2, identity, 64);
			memcpy(a3, identity, 64);
			for (unsigned k = 63; k >= 1; k--) {
				unsigned s = k + 1, t = 63 - k;
				uint32_t p0 = (uint32_t)r0[t] * s, p1 = (uint32_t)r1[t] * s;
				uint32_t p2 = (uint32_t)r2[t] * s, p3 = (uint32_t)r3[t] * s;
				unsigned j0, j1, j2, j3;
				if ((uint16_t)p0 < thr[s] || (uint16_t)p1 < thr[s] ||
				    (uint16_t)p2 < thr[s] || (uint16_t)p3 < thr[s]) {
					/* Rare: redraw in a fixed order (same at P0 and P1). */
					j0 = bounded(r0[t], s, thr, g);
					j1 = bounded(r1[t], s, thr, g);
					j2 = bounded(r2[t], s, thr, g);
					j3 = bounded(r3[t], s, thr, g);
				} else {
					j0 = p0 >> 16, j1 = p1 >> 16, j2 = p2 >> 16, j3 = p3 >> 16;
				}
				uint8_t t0 = a0[k], t1 = a1[k], t2 = a2[k], t3 = a3[k];
				a0[k] = a0[j0], a1[k] = a1[j1], a2[k] = a2[j2], a3[k] = a3[j3];
				a0[j0] = t0, a1[j1] = t1, a2[j2] = t2, a3[j3] = t3;
			}
		}
		for (; e < m; e++) {
			uint8_t *a = perm + (base + e) * 64;
			const uint16_t *r = rnd + e * DRAWS;
			memcpy(a, identity, 64);
			for (unsigned k = 63; k >= 1; k--) {
				unsigned jj = bounded(r[63 - k], k + 1, thr, g);
				uint8_t t = a[k];
				a[k] = a[jj];
				a[jj] = t;
			}
		}
	}
}
