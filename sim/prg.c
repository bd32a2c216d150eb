/* AES-128-CTR streams with three interchangeable block functions.
 *
 * Each implementation turns a run of counters into keystream blocks; everything above that
 * (buffering, draws, rejection sampling) is shared, so the streams agree byte for byte.
 *
 *   vaes-avx512  VAES on 512-bit registers: 8 registers x 4 blocks = 32 blocks in flight,
 *                twice the latency x throughput of current cores. On a Zen 4 EPYC (KVM) it
 *                is bound by AES throughput: 22 GB/s with 4, 8, 12 or 16 registers alike.
 *   aesni        AES-NI on 128-bit registers, 8 blocks in flight.
 *   openssl      EVP aes-128-ecb over counter blocks written into the output. EVP's own CTR
 *                mode counts big-endian, the stream's counter is little-endian, hence ECB.
 *
 * The counter is kept in 64 bits: the upper half of the 128-bit counter block stays zero
 * until 2^64 blocks (2^68 bytes) have been drawn from one stream, which no run reaches. */
#include "prg.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#if defined(__x86_64__) || defined(__i386__)
#define PRG_X86 1
#include <cpuid.h>
#include <immintrin.h>
#else
#define PRG_X86 0
#endif

#if defined(__BYTE_ORDER__) && defined(__ORDER_LITTLE_ENDIAN__)
#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "prg.c assumes a little-endian host (prg_u64 reads stream bytes with memcpy)"
#endif
#endif

#define BLOCK_BYTES 16

/* Largest request encrypted in one EVP_EncryptUpdate call: counters are written into the
 * output first, so keep them in L1. */
#define EVP_CHUNK_BLOCKS 1024

enum impl {
	IMPL_OPENSSL,
	IMPL_AESNI,
	IMPL_VAES,
	IMPL_COUNT,
};

static const char *const impl_names[IMPL_COUNT] = {
	[IMPL_OPENSSL] = "openssl",
	[IMPL_AESNI] = "aesni",
	[IMPL_VAES] = "vaes-avx512",
};

/* -1: pick the fastest available; otherwise an enum impl forced by prg_set_impl. Atomic
 * because tests may set it while other threads initialise streams. */
static atomic_int forced_impl = -1;

/* Bit i: implementation i runs on this CPU; FEATURE_VBMI2: the byte sampler can use
 * vpcompressb. */
#define FEATURE_VBMI2 (1 << IMPL_COUNT)

#if PRG_X86
/* CPUID leaf 7 ECX bits. Clang's __builtin_cpu_supports does not know "vaes" or
 * "avx512vbmi2"; the operating-system check (XCR0) comes with "avx512f". */
#define CPUID7_ECX_VBMI2 (1u << 6)
#define CPUID7_ECX_VAES (1u << 9)
#endif

static int detect_features(void)
{
	int f = 1 << IMPL_OPENSSL;
#if PRG_X86
	unsigned a, b, c = 0, d;
	if (!__get_cpuid_count(7, 0, &a, &b, &c, &d))
		c = 0;
	__builtin_cpu_init();
	bool aesni = __builtin_cpu_supports("aes") && __builtin_cpu_supports("sse4.1");
	bool avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
		      __builtin_cpu_supports("avx512vl");
	if (aesni)
		f |= 1 << IMPL_AESNI;
	if (aesni && avx512 && (c & CPUID7_ECX_VAES))
		f |= 1 << IMPL_VAES;
	if (avx512 && (c & CPUID7_ECX_VBMI2) && __builtin_cpu_supports("popcnt"))
		f |= FEATURE_VBMI2;
#endif
	return f;
}

/* CPUID traps to the hypervisor in a virtual machine (microseconds), so detect once. Racing
 * first calls compute the same value. */
static atomic_int cpu_features = -1;

static int features(void)
{
	int f = atomic_load_explicit(&cpu_features, memory_order_relaxed);
	if (f < 0) {
		f = detect_features();
		atomic_store_explicit(&cpu_features, f, memory_order_relaxed);
	}
	return f;
}

static bool cpu_has(int impl)
{
	return (features() >> impl) & 1;
}

static int current_impl(void)
{
	int f = atomic_load_explicit(&forced_impl, memory_order_relaxed);
	if (f >= 0)
		return f;
	if (cpu_has(IMPL_VAES))
		return IMPL_VAES;
	if (cpu_has(IMPL_AESNI))
		return IMPL_AESNI;
	return IMPL_OPENSSL;
}

const char *prg_impl_name(void)
{
	return impl_names[current_impl()];
}

int prg_set_impl(const char *name)
{
	if (!name)
		return ERROR_INVAL;
	if (strcmp(name, "auto") == 0) {
		atomic_store_explicit(&forced_impl, -1, memory_order_relaxed);
		return 0;
	}
	for (int i = 0; i < IMPL_COUNT; i++) {
		if (strcmp(name, impl_names[i]) != 0)
			continue;
		if (!cpu_has(i))
			return ERROR_UNSUPPORTED;
		atomic_store_explicit(&forced_impl, i, memory_order_relaxed);
		return 0;
	}
	return ERROR_INVAL;
}

/* ---- Block functions: out[16 i .. 16 i + 15] = AES(counter block + i), i < n_blocks ---- */

#if PRG_X86

#define TARGET_AESNI __attribute__((target("aes,sse4.1")))
#define TARGET_VAES __attribute__((target("vaes,aes,sse4.1,avx512f,avx512bw,avx512vl")))
#define TARGET_VBMI2 __attribute__((target("avx512f,avx512bw,avx512vbmi2,popcnt")))

TARGET_AESNI static __m128i expand_step(__m128i k, __m128i assist)
{
	assist = _mm_shuffle_epi32(assist, 0xff);
	k = _mm_xor_si128(k, _mm_slli_si128(k, 4));
	k = _mm_xor_si128(k, _mm_slli_si128(k, 4));
	k = _mm_xor_si128(k, _mm_slli_si128(k, 4));
	return _mm_xor_si128(k, assist);
}

/* FIPS-197 key expansion; the round constant must be an immediate, hence the macro. */
TARGET_AESNI static void expand_key(uint8_t round_keys[11 * 16], const uint8_t key[16])
{
	__m128i rk[11];
	rk[0] = _mm_loadu_si128((const void *)key);
#define EXPAND(i, rcon) rk[i] = expand_step(rk[i - 1], _mm_aeskeygenassist_si128(rk[i - 1], rcon))
	EXPAND(1, 0x01);
	EXPAND(2, 0x02);
	EXPAND(3, 0x04);
	EXPAND(4, 0x08);
	EXPAND(5, 0x10);
	EXPAND(6, 0x20);
	EXPAND(7, 0x40);
	EXPAND(8, 0x80);
	EXPAND(9, 0x1b);
	EXPAND(10, 0x36);
#undef EXPAND
	for (int i = 0; i < 11; i++)
		_mm_storeu_si128((void *)(round_keys + 16 * i), rk[i]);
}

#define ROUND8(f, x, k)                                                              \
	do {                                                                         \
		x##0 = f(x##0, k);                                                   \
		x##1 = f(x##1, k);                                                   \
		x##2 = f(x##2, k);                                                   \
		x##3 = f(x##3, k);                                                   \
		x##4 = f(x##4, k);                                                   \
		x##5 = f(x##5, k);                                                   \
		x##6 = f(x##6, k);                                                   \
		x##7 = f(x##7, k);                                                   \
	} while (0)

TARGET_AESNI static void blocks_aesni(const uint8_t *round_keys, uint8_t *out, uint64_t block,
	size_t n_blocks)
{
#define KEY(r) _mm_loadu_si128((const void *)(round_keys + 16 * (r)))
	const __m128i k0 = KEY(0), k1 = KEY(1), k2 = KEY(2), k3 = KEY(3), k4 = KEY(4);
	const __m128i k5 = KEY(5), k6 = KEY(6), k7 = KEY(7), k8 = KEY(8), k9 = KEY(9);
	const __m128i k10 = KEY(10);
#undef KEY
	const __m128i one = _mm_set_epi64x(0, 1);
	__m128i c = _mm_set_epi64x(0, (long long)block);

	for (; n_blocks >= 8; n_blocks -= 8, out += 8 * BLOCK_BYTES) {
		__m128i x0 = _mm_xor_si128(c, k0);
		c = _mm_add_epi64(c, one);
		__m128i x1 = _mm_xor_si128(c, k0);
		c = _mm_add_epi64(c, one);
		__m128i x2 = _mm_xor_si128(c, k0);
		c = _mm_add_epi64(c, one);
		__m128i x3 = _mm_xor_si128(c, k0);
		c = _mm_add_epi64(c, one);
		__m128i x4 = _mm_xor_si128(c, k0);
		c = _mm_add_epi64(c, one);
		__m128i x5 = _mm_xor_si128(c, k0);
		c = _mm_add_epi64(c, one);
		__m128i x6 = _mm_xor_si128(c, k0);
		c = _mm_add_epi64(c, one);
		__m128i x7 = _mm_xor_si128(c, k0);
		c = _mm_add_epi64(c, one);
		ROUND8(_mm_aesenc_si128, x, k1);
		ROUND8(_mm_aesenc_si128, x, k2);
		ROUND8(_mm_aesenc_si128, x, k3);
		ROUND8(_mm_aesenc_si128, x, k4);
		ROUND8(_mm_aesenc_si128, x, k5);
		ROUND8(_mm_aesenc_si128, x, k6);
		ROUND8(_mm_aesenc_si128, x, k7);
		ROUND8(_mm_aesenc_si128, x, k8);
		ROUND8(_mm_aesenc_si128, x, k9);
		ROUND8(_mm_aesenclast_si128, x, k10);
		_mm_storeu_si128((void *)(out + 0 * BLOCK_BYTES), x0);
		_mm_storeu_si128((void *)(out + 1 * BLOCK_BYTES), x1);
		_mm_storeu_si128((void *)(out + 2 * BLOCK_BYTES), x2);
		_mm_storeu_si128((void *)(out + 3 * BLOCK_BYTES), x3);
		_mm_storeu_si128((void *)(out + 4 * BLOCK_BYTES), x4);
		_mm_storeu_si128((void *)(out + 5 * BLOCK_BYTES), x5);
		_mm_storeu_si128((void *)(out + 6 * BLOCK_BYTES), x6);
		_mm_storeu_si128((void *)(out + 7 * BLOCK_BYTES), x7);
	}
	for (; n_blocks > 0; n_blocks--, out += BLOCK_BYTES) {
		__m128i x = _mm_xor_si128(c, k0);
		c = _mm_add_epi64(c, one);
		x = _mm_aesenc_si128(x, k1);
		x = _mm_aesenc_si128(x, k2);
		x = _mm_aesenc_si128(x, k3);
		x = _mm_aesenc_si128(x, k4);
		x = _mm_aesenc_si128(x, k5);
		x = _mm_aesenc_si128(x, k6);
		x = _mm_aesenc_si128(x, k7);
		x = _mm_aesenc_si128(x, k8);
		x = _mm_aesenc_si128(x, k9);
		x = _mm_aesenclast_si128(x, k10);
		_mm_storeu_si128((void *)out, x);
	}
}

/* Each 512-bit register holds 4 consecutive counter blocks: 64-bit lanes (i, 0, i+1, 0, ...). */
TARGET_VAES static void blocks_vaes(const uint8_t *round_keys, uint8_t *out, uint64_t block,
	size_t n_blocks)
{
#define KEY(r) _mm512_broadcast_i32x4(_mm_loadu_si128((const void *)(round_keys + 16 * (r))))
	const __m512i k0 = KEY(0), k1 = KEY(1), k2 = KEY(2), k3 = KEY(3), k4 = KEY(4);
	const __m512i k5 = KEY(5), k6 = KEY(6), k7 = KEY(7), k8 = KEY(8), k9 = KEY(9);
	const __m512i k10 = KEY(10);
#undef KEY
	const __m512i four = _mm512_set_epi64(0, 4, 0, 4, 0, 4, 0, 4);
	const long long b = (long long)block;
	__m512i c = _mm512_set_epi64(0, b + 3, 0, b + 2, 0, b + 1, 0, b);

	for (; n_blocks >= 32; n_blocks -= 32, out += 32 * BLOCK_BYTES) {
		__m512i x0 = _mm512_xor_si512(c, k0);
		c = _mm512_add_epi64(c, four);
		__m512i x1 = _mm512_xor_si512(c, k0);
		c = _mm512_add_epi64(c, four);
		__m512i x2 = _mm512_xor_si512(c, k0);
		c = _mm512_add_epi64(c, four);
		__m512i x3 = _mm512_xor_si512(c, k0);
		c = _mm512_add_epi64(c, four);
		__m512i x4 = _mm512_xor_si512(c, k0);
		c = _mm512_add_epi64(c, four);
		__m512i x5 = _mm512_xor_si512(c, k0);
		c = _mm512_add_epi64(c, four);
		__m512i x6 = _mm512_xor_si512(c, k0);
		c = _mm512_add_epi64(c, four);
		__m512i x7 = _mm512_xor_si512(c, k0);
		c = _mm512_add_epi64(c, four);
		ROUND8(_mm512_aesenc_epi128, x, k1);
		ROUND8(_mm512_aesenc_epi128, x, k2);
		ROUND8(_mm512_aesenc_epi128, x, k3);
		ROUND8(_mm512_aesenc_epi128, x, k4);
		ROUND8(_mm512_aesenc_epi128, x, k5);
		ROUND8(_mm512_aesenc_epi128, x, k6);
		ROUND8(_mm512_aesenc_epi128, x, k7);
		ROUND8(_mm512_aesenc_epi128, x, k8);
		ROUND8(_mm512_aesenc_epi128, x, k9);
		ROUND8(_mm512_aesenclast_epi128, x, k10);
		_mm512_storeu_si512(out + 0 * 64, x0);
		_mm512_storeu_si512(out + 1 * 64, x1);
		_mm512_storeu_si512(out + 2 * 64, x2);
		_mm512_storeu_si512(out + 3 * 64, x3);
		_mm512_storeu_si512(out + 4 * 64, x4);
		_mm512_storeu_si512(out + 5 * 64, x5);
		_mm512_storeu_si512(out + 6 * 64, x6);
		_mm512_storeu_si512(out + 7 * 64, x7);
	}
	while (n_blocks > 0) {
		__m512i x = _mm512_xor_si512(c, k0);
		c = _mm512_add_epi64(c, four);
		x = _mm512_aesenc_epi128(x, k1);
		x = _mm512_aesenc_epi128(x, k2);
		x = _mm512_aesenc_epi128(x, k3);
		x = _mm512_aesenc_epi128(x, k4);
		x = _mm512_aesenc_epi128(x, k5);
		x = _mm512_aesenc_epi128(x, k6);
		x = _mm512_aesenc_epi128(x, k7);
		x = _mm512_aesenc_epi128(x, k8);
		x = _mm512_aesenc_epi128(x, k9);
		x = _mm512_aesenclast_epi128(x, k10);
		if (n_blocks >= 4) {
			_mm512_storeu_si512(out, x);
			out += 4 * BLOCK_BYTES;
			n_blocks -= 4;
		} else {
			/* 1 to 3 blocks left: store 2 64-bit lanes per block. */
			__mmask8 m = (__mmask8)((1u << (2 * n_blocks)) - 1);
			_mm512_mask_storeu_epi64(out, m, x);
			n_blocks = 0;
		}
	}
}

#undef ROUND8

#endif /* PRG_X86 */

/* On failure the stream outputs zeros and keeps its status negative (see prg_init). */
static void blocks_openssl(struct prg *g, uint8_t *out, uint64_t block, size_t n_blocks)
{
	EVP_CIPHER_CTX *ctx = g->evp;
	while (n_blocks > 0) {
		size_t n = n_blocks < EVP_CHUNK_BLOCKS ? n_blocks : EVP_CHUNK_BLOCKS;
		for (size_t i = 0; i < n; i++) {
			uint64_t lo = block + i, hi = 0;
			memcpy(out + BLOCK_BYTES * i, &lo, 8);
			memcpy(out + BLOCK_BYTES * i + 8, &hi, 8);
		}
		int n_out = 0;
		/* ECB in place: EVP allows exactly overlapping input and output. */
		if (!ctx || EVP_EncryptUpdate(ctx, out, &n_out, out, (int)(n * BLOCK_BYTES)) != 1 ||
		    n_out != (int)(n * BLOCK_BYTES)) {
			memset(out, 0, n * BLOCK_BYTES);
			if (g->status == 0)
				g->status = ERROR_IO;
		}
		out += n * BLOCK_BYTES;
		block += n;
		n_blocks -= n;
	}
}

/* Encrypt the next n_blocks counters into out and advance the counter. */
static void blocks(struct prg *g, uint8_t *out, size_t n_blocks)
{
	switch (g->impl) {
#if PRG_X86
	case IMPL_VAES:
		blocks_vaes(g->round_keys, out, g->next_block, n_blocks);
		break;
	case IMPL_AESNI:
		blocks_aesni(g->round_keys, out, g->next_block, n_blocks);
		break;
#endif
	default:
		blocks_openssl(g, out, g->next_block, n_blocks);
		break;
	}
	g->next_block += n_blocks;
}

static void refill(struct prg *g)
{
	blocks(g, g->buf, PRG_BUF_BYTES / BLOCK_BYTES);
	g->pos = 0;
}

/* ---- Keys and lifecycle ---- */

int prg_derive_key_checked(uint8_t key[PRG_KEY_BYTES], uint64_t seed, const char *label)
{
	static const char domain[] = "snn-prg-v1";
	if (!key)
		return ERROR_INVAL;
	memset(key, 0, PRG_KEY_BYTES);
	if (!label)
		return ERROR_INVAL;

	uint8_t seed_le[8];
	for (int i = 0; i < 8; i++)
		seed_le[i] = (uint8_t)(seed >> (8 * i));
	unsigned char digest[EVP_MAX_MD_SIZE];
	unsigned int n_digest = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	if (!ctx)
		return ERROR_NOMEM;
	int ok = EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 &&
		 EVP_DigestUpdate(ctx, domain, sizeof domain - 1) == 1 &&
		 EVP_DigestUpdate(ctx, seed_le, sizeof seed_le) == 1 &&
		 EVP_DigestUpdate(ctx, label, strlen(label)) == 1 &&
		 EVP_DigestFinal_ex(ctx, digest, &n_digest) == 1 && n_digest >= PRG_KEY_BYTES;
	EVP_MD_CTX_free(ctx);
	if (!ok)
		return ERROR_NOMEM;
	memcpy(key, digest, PRG_KEY_BYTES);
	OPENSSL_cleanse(digest, sizeof digest);
	return 0;
}

void prg_derive_key(uint8_t key[PRG_KEY_BYTES], uint64_t seed, const char *label)
{
	/* The checked variant already zeroed the key on failure. */
	if (prg_derive_key_checked(key, seed, label) < 0)
		return;
}

int prg_init_checked(struct prg *g, const uint8_t key[PRG_KEY_BYTES])
{
	if (!g)
		return ERROR_INVAL;
	memset(g, 0, sizeof *g);
	g->pos = PRG_BUF_BYTES; /* empty: the first draw refills from block 0 */
	g->impl = current_impl();
	if (!key) {
		g->impl = IMPL_OPENSSL;
		g->status = ERROR_INVAL;
		return g->status;
	}
#if PRG_X86
	if (g->impl != IMPL_OPENSSL) {
		expand_key(g->round_keys, key);
		return 0;
	}
#endif
	g->impl = IMPL_OPENSSL;
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	if (!ctx) {
		g->status = ERROR_NOMEM;
		return g->status;
	}
	if (EVP_EncryptInit_ex(ctx, EVP_aes_128_ecb(), NULL, key, NULL) != 1 ||
	    EVP_CIPHER_CTX_set_padding(ctx, 0) != 1) {
		EVP_CIPHER_CTX_free(ctx);
		g->status = ERROR_NOMEM;
		return g->status;
	}
	g->evp = ctx;
	return 0;
}

void prg_init(struct prg *g, const uint8_t key[PRG_KEY_BYTES])
{
	/* A failure is kept in g->status (see prg_status). */
	if (prg_init_checked(g, key) < 0)
		return;
}

int prg_status(const struct prg *g)
{
	return g ? g->status : ERROR_INVAL;
}

void prg_finish(struct prg *g)
{
	if (!g)
		return;
	EVP_CIPHER_CTX_free(g->evp);
	OPENSSL_cleanse(g, sizeof *g);
}

/* ---- Draws ---- */

void prg_bytes(struct prg *g, void *out, size_t n_bytes)
{
	if (n_bytes == 0)
		return;
	uint8_t *dst = out;
	size_t avail = PRG_BUF_BYTES - g->pos;
	if (n_bytes <= avail) {
		memcpy(dst, g->buf + g->pos, n_bytes);
		g->pos += n_bytes;
		return;
	}
	memcpy(dst, g->buf + g->pos, avail);
	g->pos = PRG_BUF_BYTES;
	dst += avail;
	n_bytes -= avail;
	if (n_bytes >= PRG_BUF_BYTES) {
		/* Whole blocks straight into the caller's memory; the buffer is empty, so the
		 * stream continues at next_block. */
		size_t n_blocks = n_bytes / BLOCK_BYTES;
		blocks(g, dst, n_blocks);
		dst += n_blocks * BLOCK_BYTES;
		n_bytes -= n_blocks * BLOCK_BYTES;
	}
	if (n_bytes > 0) {
		refill(g);
		memcpy(dst, g->buf, n_bytes);
		g->pos = n_bytes;
	}
}

uint64_t prg_u64(struct prg *g)
{
	uint64_t v;
	if (g->pos <= PRG_BUF_BYTES - sizeof v) {
		memcpy(&v, g->buf + g->pos, sizeof v);
		g->pos += sizeof v;
		return v;
	}
	prg_bytes(g, &v, sizeof v);
	return v;
}

void prg_u64s(struct prg *g, uint64_t *out, size_t n)
{
	/* n * 8 cannot overflow for an array that fits in memory. */
	prg_bytes(g, out, n * sizeof *out);
}

uint64_t prg_below(struct prg *g, uint64_t bound)
{
	if (bound == 0)
		return prg_u64(g);
	/* [2^64 mod bound, 2^64) holds a whole number of periods of x mod bound. */
	uint64_t threshold = (0 - bound) % bound;
	for (;;) {
		uint64_t x = prg_u64(g);
		if (x >= threshold)
			return x % bound;
	}
}

/* b mod q for b < 2^16, 1 <= q <= 2^16, without a division (Lemire, Kaser, Kurz 2019). */
static inline unsigned fastmod(unsigned b, uint32_t m, unsigned q)
{
	uint32_t low = m * (uint32_t)b;
	return (unsigned)(((uint64_t)low * q) >> 32);
}

/* Rejection sampler shared by prg_mod_u8 and prg_nonzero_mod_u8: stream bytes b < limit
 * (a multiple of q, at most 256) are accepted as add + b mod q. The scalar loop writes every
 * candidate and advances only on acceptance, so it has no data-dependent branch; it stops
 * right after the n-th accepted byte, which defines how much of the stream is consumed. */
static size_t sample_scalar(struct prg *g, uint8_t *out, size_t k, size_t n, size_t max_bytes,
	unsigned q, unsigned limit, unsigned add)
{
	const uint32_t m = (uint32_t)(UINT32_MAX / q) + 1; /* 0 for q = 1: b mod 1 = 0 */
	const uint8_t *src = g->buf;
	size_t i = g->pos, end = g->pos + max_bytes;
	/* While more than 8 values are missing, 8 bytes cannot finish the draw: no stop test. */
	while (end - i >= 8 && n - k > 8) {
		for (int j = 0; j < 8; j++) {
			unsigned b = src[i + (size_t)j];
			out[k] = (uint8_t)(add + fastmod(b, m, q));
			k += b < limit;
		}
		i += 8;
	}
	while (i < end && k < n) {
		unsigned b = src[i++];
		out[k] = (uint8_t)(add + fastmod(b, m, q));
		k += b < limit;
	}
	g->pos = i;
	return k;
}

#if PRG_X86
/* 64 stream bytes per step: accept with one compare, reduce with conditional subtractions
 * of q * 2^j, pack the accepted bytes with vpcompressb. A step is taken only while it yields
 * fewer values than still needed, so the scalar loop finishes the draw and both consume the
 * same stream bytes. */
TARGET_VBMI2 static size_t sample_vbmi2(struct prg *g, uint8_t *out, size_t k, size_t n,
	unsigned q, unsigned limit, unsigned add)
{
	const __m512i vlimit = _mm512_set1_epi8((char)(limit - 1));
	const __m512i vadd = _mm512_set1_epi8((char)add);
	int top = 0; /* largest j with q * 2^j < limit */
	while ((q << (top + 1)) < limit)
		top++;
	size_t pos = g->pos; /* local: stores to out may alias *g */
	for (; pos <= PRG_BUF_BYTES - 64; pos += 64) {
		__m512i v = _mm512_loadu_si512(g->buf + pos);
		__mmask64 accept = _mm512_cmple_epu8_mask(v, vlimit);
		unsigned c = (unsigned)__builtin_popcountll(accept);
		if (c >= n - k)
			break;
		for (int j = top; j >= 0; j--) {
			const __m512i s = _mm512_set1_epi8((char)(q << j));
			__mmask64 ge = _mm512_cmpge_epu8_mask(v, s);
			v = _mm512_mask_sub_epi8(v, ge, v, s);
		}
		v = _mm512_add_epi8(v, vadd);
		v = _mm512_maskz_compress_epi8(accept, v);
		__mmask64 store = c == 64 ? ~(__mmask64)0 : (((__mmask64)1 << c) - 1);
		_mm512_mask_storeu_epi8(out + k, store, v);
		k += c;
	}
	g->pos = pos;
	return k;
}
#endif

static void sample(struct prg *g, uint8_t *out, size_t n, unsigned q, unsigned add)
{
	const unsigned limit = 256 - 256 % q;
#if PRG_X86
	const bool vector = g->impl == IMPL_VAES && (features() & FEATURE_VBMI2);
#endif
	size_t k = 0;
	while (k < n) {
		if (g->pos == PRG_BUF_BYTES)
			refill(g);
#if PRG_X86
		if (vector) {
			k = sample_vbmi2(g, out, k, n, q, limit, add);
			if (k == n)
				break;
		}
#endif
		size_t avail = PRG_BUF_BYTES - g->pos;
#if PRG_X86
		/* At most one vector step's worth, then back to the vector loop. */
		if (vector && avail > 64)
			avail = 64;
#endif
		k = sample_scalar(g, out, k, n, avail, q, limit, add);
	}
}

void prg_mod_u8(struct prg *g, uint8_t *out, size_t n, unsigned p)
{
	if (p < 2 || p > 256)
		return;
	sample(g, out, n, p, 0);
}

void prg_nonzero_mod_u8(struct prg *g, uint8_t *out, size_t n, unsigned p)
{
	if (p < 2 || p > 256)
		return;
	sample(g, out, n, p - 1, 1);
}

void prg_bits(struct prg *g, uint8_t *out, size_t n)
{
	uint8_t bytes[256];
	while (n > 0) {
		size_t n_bits = n < 8 * sizeof bytes ? n : 8 * sizeof bytes;
		size_t n_bytes = (n_bits + 7) / 8;
		prg_bytes(g, bytes, n_bytes);
		size_t i = 0;
		for (; 8 * i + 8 <= n_bits; i++) {
			/* Byte j of x is bit j of the stream byte, moved to bit 0. */
			uint64_t x = (bytes[i] * UINT64_C(0x0101010101010101)) &
				     UINT64_C(0x8040201008040201);
			x = ((x + UINT64_C(0x7f7f7f7f7f7f7f7f)) >> 7) & UINT64_C(0x0101010101010101);
			memcpy(out + 8 * i, &x, 8);
		}
		for (size_t j = 8 * i; j < n_bits; j++)
			out[j] = (uint8_t)((bytes[j / 8] >> (j % 8)) & 1);
		out += n_bits;
		n -= n_bits;
	}
}

void prg_permutation(struct prg *g, uint8_t *perm, size_t n)
{
	if (n > 256)
		return;
	for (size_t i = 0; i < n; i++)
		perm[i] = (uint8_t)i;
	for (size_t i = n; i-- > 1;) {
		size_t j = (size_t)prg_below(g, i + 1);
		uint8_t t = perm[i];
		perm[i] = perm[j];
		perm[j] = t;
	}
}
