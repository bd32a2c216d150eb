/* Tests for sim/prg: AES-128-CTR streams, their draws, and implementation agreement. */
#include <criterion/criterion.h>

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "prg.h"

static const char *const impls[] = {"vaes-avx512", "aesni", "openssl"};
#define N_IMPLS (sizeof impls / sizeof impls[0])

/* Start g with implementation name; false if this CPU lacks it. The choice is reset to the
 * default afterwards so other streams are unaffected. */
static bool init_with(struct prg *g, const char *name, const uint8_t key[PRG_KEY_BYTES])
{
	int rc = prg_set_impl(name);
	if (rc == ERROR_UNSUPPORTED)
		return false;
	cr_assert_eq(rc, 0, "prg_set_impl(%s) = %d", name, rc);
	cr_assert_str_eq(prg_impl_name(), name);
	cr_assert_eq(prg_init_checked(g, key), 0, "init with %s", name);
	cr_assert_eq(prg_set_impl("auto"), 0);
	return true;
}

static void seeded_key(uint8_t key[PRG_KEY_BYTES], uint64_t seed, const char *label)
{
	cr_assert_eq(prg_derive_key_checked(key, seed, label), 0, "seed %llu label %s",
		(unsigned long long)seed, label);
}

/* AES-128-ECB of n blocks with OpenSSL: the oracle for the keystream. */
static void ecb_oracle(uint8_t *out, const uint8_t *in, size_t n_blocks, const uint8_t key[16])
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	cr_assert_not_null(ctx);
	cr_assert_eq(EVP_EncryptInit_ex(ctx, EVP_aes_128_ecb(), NULL, key, NULL), 1);
	cr_assert_eq(EVP_CIPHER_CTX_set_padding(ctx, 0), 1);
	int n_out = 0;
	cr_assert_eq(EVP_EncryptUpdate(ctx, out, &n_out, in, (int)(16 * n_blocks)), 1);
	cr_assert_eq(n_out, (int)(16 * n_blocks));
	EVP_CIPHER_CTX_free(ctx);
}

static void counter_block(uint8_t block[16], uint64_t i)
{
	memset(block, 0, 16);
	for (int b = 0; b < 8; b++)
		block[b] = (uint8_t)(i >> (8 * b));
}

static void hex_to_bytes(uint8_t *out, const char *hex, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned v = 0;
		for (int j = 0; j < 2; j++) {
			char c = hex[2 * i + (size_t)j];
			v = 16 * v + (unsigned)(c <= '9' ? c - '0' : c - 'a' + 10);
		}
		out[i] = (uint8_t)v;
	}
}

static size_t first_difference(const uint8_t *a, const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (a[i] != b[i])
			return i;
	return n;
}

/* ---- Worked example: FIPS-197 key, counter blocks 0 and 1 ---- */

Test(prg, known_answer_fips197_key)
{
	uint8_t key[16], plain[16], expect[16], got[16];
	hex_to_bytes(key, "000102030405060708090a0b0c0d0e0f", 16);

	/* The oracle itself reproduces FIPS-197 appendix C.1. */
	hex_to_bytes(plain, "00112233445566778899aabbccddeeff", 16);
	hex_to_bytes(expect, "69c4e0d86a7b0430d8cdb78070b4c55a", 16);
	ecb_oracle(got, plain, 1, key);
	cr_assert_eq(memcmp(got, expect, 16), 0, "OpenSSL ECB disagrees with FIPS-197");

	/* Blocks 0 and 1 of the stream: AES of the counter blocks 00..00 and 01 00..00. */
	uint8_t block0[16], block1[16];
	hex_to_bytes(block0, "c6a13b37878f5b826f4f8162a1c8d879", 16);
	hex_to_bytes(block1, "e37cd363dd7c87a09aff0e3e60e09c82", 16);

	enum { N_BLOCKS = 5000 };
	uint8_t *counters = malloc(16 * N_BLOCKS), *oracle = malloc(16 * N_BLOCKS);
	uint8_t *stream = malloc(16 * N_BLOCKS);
	cr_assert_not_null(counters);
	cr_assert_not_null(oracle);
	cr_assert_not_null(stream);
	for (uint64_t i = 0; i < N_BLOCKS; i++)
		counter_block(counters + 16 * i, i);
	ecb_oracle(oracle, counters, N_BLOCKS, key);
	cr_assert_eq(memcmp(oracle, block0, 16), 0);
	cr_assert_eq(memcmp(oracle + 16, block1, 16), 0);

	for (size_t t = 0; t < N_IMPLS; t++) {
		struct prg g;
		if (!init_with(&g, impls[t], key))
			continue;
		/* Small draw through the buffer, then a bulk draw straight into stream. */
		prg_bytes(&g, stream, 5);
		prg_bytes(&g, stream + 5, 16 * N_BLOCKS - 5);
		size_t d = first_difference(stream, oracle, 16 * N_BLOCKS);
		cr_assert_eq(d, (size_t)16 * N_BLOCKS, "%s: byte %zu differs from AES-ECB(counter)",
			impls[t], d);
		prg_finish(&g);
	}
	free(counters);
	free(oracle);
	free(stream);
}

Test(prg, derive_key_is_sha256_of_domain_seed_label)
{
	/* Expected values from Python: hashlib.sha256(b"snn-prg-v1" +
	 * struct.pack("<Q", seed) + label).hexdigest()[:32]. */
	static const struct {
		uint64_t seed;
		const char *label;
		const char *hex;
	} cases[] = {
		{1, "P0", "5f120cc7a7baeae9e1faa2b1d8f4157d"},
		{0, "", "d8986d06e0845744034e555216867400"},
		{UINT64_C(0x0123456789abcdef), "P0-P1", "959a22496b1f3a35973cfa5d2d3c97db"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		uint8_t expect[16], key[16], key2[16];
		hex_to_bytes(expect, cases[i].hex, 16);
		seeded_key(key, cases[i].seed, cases[i].label);
		cr_assert_eq(memcmp(key, expect, 16), 0, "case %zu (label %s)", i, cases[i].label);
		prg_derive_key(key2, cases[i].seed, cases[i].label);
		cr_assert_eq(memcmp(key2, expect, 16), 0, "case %zu unchecked variant", i);
	}
}

/* ---- Determinism and key separation ---- */

Test(prg, same_key_gives_same_stream)
{
	const uint64_t seed = 42;
	uint8_t key[16];
	seeded_key(key, seed, "P0");
	struct prg a, b;
	prg_init(&a, key);
	prg_init(&b, key);
	cr_assert_eq(prg_status(&a), 0);
	for (int i = 0; i < 2000; i++) {
		uint64_t x = prg_u64(&a), y = prg_u64(&b);
		cr_assert_eq(x, y, "seed %llu draw %d", (unsigned long long)seed, i);
		uint8_t u[67], v[67];
		prg_mod_u8(&a, u, (size_t)(i % 67), 67);
		prg_mod_u8(&b, v, (size_t)(i % 67), 67);
		cr_assert_eq(memcmp(u, v, (size_t)(i % 67)), 0, "seed 42 mod draw %d", i);
	}
	prg_finish(&a);
	prg_finish(&b);
}

Test(prg, labels_and_seeds_give_different_keys_and_streams)
{
	static const char *const labels[] = {"P0", "P1", "P2", "P0-P1", "P1-P2", "P0-P2", "owner",
		"P0-"};
	static const uint64_t seeds[] = {0, 1, 2, UINT64_MAX};
	enum { N_LABELS = sizeof labels / sizeof labels[0], N_SEEDS = sizeof seeds / sizeof seeds[0] };
	enum { N = N_LABELS * N_SEEDS };
	uint8_t keys[N][16];
	uint64_t first[N];
	for (size_t s = 0; s < N_SEEDS; s++) {
		for (size_t l = 0; l < N_LABELS; l++) {
			size_t i = s * N_LABELS + l;
			seeded_key(keys[i], seeds[s], labels[l]);
			struct prg g;
			prg_init(&g, keys[i]);
			first[i] = prg_u64(&g);
			prg_finish(&g);
		}
	}
	for (size_t i = 0; i < N; i++) {
		for (size_t j = i + 1; j < N; j++) {
			cr_assert_neq(memcmp(keys[i], keys[j], 16), 0, "keys %zu and %zu equal", i, j);
			cr_assert_neq(first[i], first[j], "streams %zu and %zu start alike", i, j);
		}
	}
}

/* ---- Implementations agree; draws interleave as one byte stream ---- */

struct transcript {
	uint8_t *data; /* recorded outputs, [n_bytes] */
	size_t n_bytes; /* bytes recorded */
	size_t cap_bytes; /* bytes allocated */
};

static void record(struct transcript *t, const void *p, size_t n)
{
	if (t->n_bytes + n > t->cap_bytes) {
		size_t cap = 2 * (t->n_bytes + n);
		t->data = realloc(t->data, cap);
		cr_assert_not_null(t->data);
		t->cap_bytes = cap;
	}
	memcpy(t->data + t->n_bytes, p, n);
	t->n_bytes += n;
}

/* A fixed script mixing every kind of draw at sizes around the block (16), vector (64) and
 * buffer (2048) boundaries, recorded in order. */
static void run_script(struct prg *g, struct transcript *t)
{
	static const size_t byte_sizes[] = {1, 7, 8, 63, 64, 65, 4096 + 3, 2047, 2048, 2049, 15,
		16, 17, (1u << 20) + 5, 3, 4096, 1, 2 * 2048 + 1};
	static const size_t u64_counts[] = {1, 3, 300, 1u << 17, 255, 256, 257};
	static const size_t u8_counts[] = {1, 5, 63, 64, 65, 1000, 100000};
	static const unsigned moduli[] = {67, 2, 3, 66, 128, 200, 255, 256};
	uint8_t *buf = malloc((1u << 20) + 4096);
	cr_assert_not_null(buf);
	for (size_t r = 0; r < 3; r++) {
		for (size_t i = 0; i < sizeof byte_sizes / sizeof byte_sizes[0]; i++) {
			prg_bytes(g, buf, byte_sizes[i]);
			record(t, buf, byte_sizes[i]);
			uint64_t x = prg_u64(g);
			record(t, &x, 8);
		}
		for (size_t i = 0; i < sizeof u64_counts / sizeof u64_counts[0]; i++) {
			prg_u64s(g, (uint64_t *)(void *)buf, u64_counts[i]);
			record(t, buf, 8 * u64_counts[i]);
			prg_bytes(g, buf, 1);
			record(t, buf, 1);
		}
		for (size_t i = 0; i < sizeof u8_counts / sizeof u8_counts[0]; i++) {
			for (size_t m = 0; m < sizeof moduli / sizeof moduli[0]; m++) {
				prg_mod_u8(g, buf, u8_counts[i], moduli[m]);
				record(t, buf, u8_counts[i]);
				prg_nonzero_mod_u8(g, buf, u8_counts[i], moduli[m]);
				record(t, buf, u8_counts[i]);
			}
			prg_bits(g, buf, 8 * u8_counts[i] + 3);
			record(t, buf, 8 * u8_counts[i] + 3);
			uint64_t y = prg_below(g, u8_counts[i] + UINT64_C(0x8000000000000000));
			record(t, &y, 8);
		}
		prg_permutation(g, buf, 256);
		record(t, buf, 256);
		prg_permutation(g, buf, 3);
		record(t, buf, 3);
	}
	free(buf);
}

Test(prg, implementations_agree_byte_for_byte, .timeout = 60)
{
	const uint64_t seed = 7;
	uint8_t key[16];
	seeded_key(key, seed, "P0-P1");
	struct transcript ref = {0};
	size_t n_run = 0;
	for (size_t i = 0; i < N_IMPLS; i++) {
		struct prg g;
		if (!init_with(&g, impls[i], key))
			continue;
		struct transcript t = {0};
		run_script(&g, &t);
		prg_finish(&g);
		n_run++;
		if (!ref.data) {
			ref = t;
			continue;
		}
		cr_assert_eq(t.n_bytes, ref.n_bytes);
		size_t d = first_difference(t.data, ref.data, ref.n_bytes);
		cr_assert_eq(d, ref.n_bytes, "seed %llu: %s differs from %s at transcript byte %zu",
			(unsigned long long)seed, impls[i], impls[0], d);
		free(t.data);
	}
	cr_assert_geq(n_run, 1);
	free(ref.data);
}

Test(prg, mixed_draws_read_one_byte_stream)
{
	static const size_t sizes[] = {1, 7, 8, 63, 64, 65, 4096 + 3, 1, 2048, 2047, 2049, 8,
		100000, 5, 16, 9, 3 * 2048, 11};
	const uint64_t seed = 11;
	uint8_t key[16];
	seeded_key(key, seed, "P2");
	size_t total = 0;
	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
		total += sizes[i] + 8 + 24;
	uint8_t *whole = malloc(total), *pieces = malloc(total);
	cr_assert_not_null(whole);
	cr_assert_not_null(pieces);
	for (size_t t = 0; t < N_IMPLS; t++) {
		struct prg a, b;
		if (!init_with(&a, impls[t], key))
			continue;
		cr_assert(init_with(&b, impls[t], key));
		prg_bytes(&a, whole, total);
		size_t at = 0;
		for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
			prg_bytes(&b, pieces + at, sizes[i]);
			at += sizes[i];
			uint64_t x = prg_u64(&b);
			memcpy(pieces + at, &x, 8);
			at += 8;
			uint64_t y[3];
			prg_u64s(&b, y, 3);
			memcpy(pieces + at, y, 24);
			at += 24;
		}
		cr_assert_eq(at, total);
		size_t d = first_difference(whole, pieces, total);
		cr_assert_eq(d, total, "seed %llu %s: byte %zu differs", (unsigned long long)seed,
			impls[t], d);
		prg_finish(&a);
		prg_finish(&b);
	}
	free(whole);
	free(pieces);
}

Test(prg, bulk_draws_write_exactly_n_bytes)
{
	/* Fresh streams have an empty buffer, so requests of 2048 bytes or more are encrypted
	 * straight into out: cover every block count modulo 32 and ragged ends. */
	enum { CANARY = 64, MAX = 16 * (128 + 40) + 15 };
	uint8_t key[16];
	seeded_key(key, 23, "P0");
	uint8_t *buf = malloc(MAX + CANARY), *ref = malloc(MAX + 1);
	cr_assert_not_null(buf);
	cr_assert_not_null(ref);
	for (size_t t = 0; t < N_IMPLS; t++) {
		struct prg r;
		if (!init_with(&r, impls[t], key))
			continue;
		prg_bytes(&r, ref, MAX + 1);
		prg_finish(&r);
		for (size_t n = 2048 - 1; n <= MAX; n += (n < 2048 + 80 ? 1 : 13)) {
			struct prg g;
			cr_assert(init_with(&g, impls[t], key));
			memset(buf, 0xa5, MAX + CANARY);
			prg_bytes(&g, buf, n);
			cr_assert_eq(first_difference(buf, ref, n), n, "%s n %zu", impls[t], n);
			for (size_t i = n; i < n + CANARY; i++)
				cr_assert_eq(buf[i], 0xa5, "%s n %zu: wrote byte %zu", impls[t], n, i);
			uint8_t next;
			prg_bytes(&g, &next, 1);
			cr_assert_eq(next, ref[n], "%s n %zu: next byte", impls[t], n);
			prg_finish(&g);
		}
	}
	free(buf);
	free(ref);
}

/* ---- Sampling in Z_p ---- */

/* The documented rejection rule, read one stream byte at a time from a twin stream. */
static void reference_sample(struct prg *g, uint8_t *out, size_t n, unsigned q, unsigned add)
{
	unsigned limit = 256 - 256 % q;
	for (size_t k = 0; k < n;) {
		uint8_t b;
		prg_bytes(g, &b, 1);
		if (b < limit)
			out[k++] = (uint8_t)(add + b % q);
	}
}

Test(prg, mod_u8_follows_rejection_rule_and_consumption)
{
	static const unsigned moduli[] = {2, 3, 66, 67, 100, 128, 200, 255, 256};
	static const size_t counts[] = {1, 63, 64, 65, 1000, 30000};
	const uint64_t seed = 3;
	uint8_t key[16];
	seeded_key(key, seed, "owner");
	uint8_t *got = malloc(30000), *want = malloc(30000);
	cr_assert_not_null(got);
	cr_assert_not_null(want);
	for (size_t t = 0; t < N_IMPLS; t++) {
		struct prg g, ref;
		if (!init_with(&g, impls[t], key))
			continue;
		cr_assert(init_with(&ref, "openssl", key));
		for (size_t m = 0; m < sizeof moduli / sizeof moduli[0]; m++) {
			for (size_t c = 0; c < sizeof counts / sizeof counts[0]; c++) {
				unsigned p = moduli[m];
				size_t n = counts[c];
				/* An odd offset first, so the sampler starts mid-block. */
				uint8_t skip[3];
				prg_bytes(&g, skip, 1 + c % 3);
				prg_bytes(&ref, skip, 1 + c % 3);
				prg_mod_u8(&g, got, n, p);
				reference_sample(&ref, want, n, p, 0);
				size_t d = first_difference(got, want, n);
				cr_assert_eq(d, n, "seed 3 %s p %u n %zu: value %zu", impls[t], p, n, d);
				prg_nonzero_mod_u8(&g, got, n, p);
				reference_sample(&ref, want, n, p - 1, 1);
				d = first_difference(got, want, n);
				cr_assert_eq(d, n, "seed 3 %s nonzero p %u n %zu: value %zu", impls[t], p,
					n, d);
				cr_assert_eq(prg_u64(&g), prg_u64(&ref),
					"seed 3 %s p %u n %zu: stream position differs", impls[t], p, n);
			}
		}
		/* Every small n, so each way a draw can end inside a 64-byte step occurs. */
		for (size_t n = 1; n <= 300; n++) {
			unsigned p = n % 3 == 0 ? 67 : n % 3 == 1 ? 3 : 200;
			prg_mod_u8(&g, got, n, p);
			reference_sample(&ref, want, n, p, 0);
			cr_assert_eq(first_difference(got, want, n), n, "seed 3 %s p %u n %zu", impls[t],
				p, n);
			prg_nonzero_mod_u8(&g, got, n, 67);
			reference_sample(&ref, want, n, 66, 1);
			cr_assert_eq(first_difference(got, want, n), n, "seed 3 %s nonzero n %zu",
				impls[t], n);
			cr_assert_eq(prg_u64(&g), prg_u64(&ref), "seed 3 %s n %zu: position", impls[t], n);
		}
		prg_finish(&g);
		prg_finish(&ref);
	}
	free(got);
	free(want);
}

/* Pearson's statistic sum (o - e)^2 / e over n_bins equally likely bins. */
static double chi_square(const uint64_t *counts, size_t n_bins, uint64_t n_samples)
{
	double e = (double)n_samples / (double)n_bins, s = 0;
	for (size_t i = 0; i < n_bins; i++) {
		double d = (double)counts[i] - e;
		s += d * d / e;
	}
	return s;
}

/* 66 degrees of freedom: P(chi2 > 118) is about 1e-4. */
#define CHI2_DF66_LIMIT 118.0

Test(prg, mod_u8_67_is_below_67_and_uniform)
{
	enum { N = 1 << 20 };
	const uint64_t seed = 67;
	uint8_t key[16];
	seeded_key(key, seed, "P0");
	uint8_t *v = malloc(N);
	cr_assert_not_null(v);

	struct prg g;
	prg_init(&g, key);
	prg_mod_u8(&g, v, N, 67);
	prg_finish(&g);
	uint64_t counts[67] = {0};
	for (size_t i = 0; i < N; i++) {
		cr_assert_lt(v[i], 67, "seed 67 index %zu", i);
		counts[v[i]]++;
	}
	double chi2 = chi_square(counts, 67, N);
	cr_assert_lt(chi2, CHI2_DF66_LIMIT, "seed 67: chi-square %.1f", chi2);

	/* The same test must reject byte % 67 without rejection (0..54 are 4/3 as likely as
	 * 55..66), or it proves nothing. */
	prg_init(&g, key);
	prg_bytes(&g, v, N);
	prg_finish(&g);
	uint64_t biased[67] = {0};
	for (size_t i = 0; i < N; i++)
		biased[v[i] % 67]++;
	double chi2_biased = chi_square(biased, 67, N);
	cr_assert_gt(chi2_biased, CHI2_DF66_LIMIT, "seed 67: biased sampler passes (%.1f)",
		chi2_biased);
	free(v);
}

Test(prg, nonzero_mod_u8_never_zero_and_uniform)
{
	enum { N = 1 << 20 };
	const uint64_t seed = 66;
	uint8_t key[16];
	seeded_key(key, seed, "P1");
	uint8_t *v = malloc(N);
	cr_assert_not_null(v);
	struct prg g;
	prg_init(&g, key);
	prg_nonzero_mod_u8(&g, v, N, 67);
	uint64_t counts[66] = {0};
	for (size_t i = 0; i < N; i++) {
		cr_assert_neq(v[i], 0, "seed 66 index %zu", i);
		cr_assert_lt(v[i], 67, "seed 66 index %zu", i);
		counts[v[i] - 1]++;
	}
	/* 65 degrees of freedom; the df-66 limit is slightly stricter than 1e-4. */
	double chi2 = chi_square(counts, 66, N);
	cr_assert_lt(chi2, CHI2_DF66_LIMIT, "seed 66: chi-square %.1f", chi2);

	/* p = 2: the only nonzero value is 1. */
	prg_nonzero_mod_u8(&g, v, 1000, 2);
	for (size_t i = 0; i < 1000; i++)
		cr_assert_eq(v[i], 1, "seed 66 p 2 index %zu", i);
	prg_finish(&g);
	free(v);
}

Test(prg, mod_u8_rejects_bad_modulus_without_consuming)
{
	uint8_t key[16];
	seeded_key(key, 5, "P0");
	struct prg a, b;
	prg_init(&a, key);
	prg_init(&b, key);
	static const unsigned bad[] = {0, 1, 257, 1000};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		uint8_t out[4] = {0xaa, 0xaa, 0xaa, 0xaa};
		prg_mod_u8(&a, out, 4, bad[i]);
		prg_nonzero_mod_u8(&a, out, 4, bad[i]);
		for (int j = 0; j < 4; j++)
			cr_assert_eq(out[j], 0xaa, "p %u index %d", bad[i], j);
	}
	cr_assert_eq(prg_u64(&a), prg_u64(&b));
	prg_finish(&a);
	prg_finish(&b);
}

/* ---- Bits, permutations, bounded integers ---- */

Test(prg, bits_are_bits_of_stream_bytes)
{
	static const size_t counts[] = {1, 7, 8, 9, 2048 * 8 + 5, 64};
	uint8_t key[16];
	seeded_key(key, 9, "P0");
	struct prg g, ref;
	prg_init(&g, key);
	prg_init(&ref, key);
	uint8_t *bits = malloc(2048 * 8 + 5), *bytes = malloc(2048 + 1);
	cr_assert_not_null(bits);
	cr_assert_not_null(bytes);
	uint64_t ones = 0, total = 0;
	for (size_t c = 0; c < sizeof counts / sizeof counts[0]; c++) {
		size_t n = counts[c];
		prg_bits(&g, bits, n);
		prg_bytes(&ref, bytes, (n + 7) / 8);
		for (size_t i = 0; i < n; i++) {
			cr_assert_eq(bits[i], (bytes[i / 8] >> (i % 8)) & 1, "seed 9 n %zu bit %zu", n, i);
			ones += bits[i];
		}
		total += n;
	}
	/* 16.5k fair bits: the count of ones is within 5 standard deviations of half. */
	double dev = (double)ones - (double)total / 2;
	cr_assert_lt(dev * dev, 25.0 * (double)total / 4, "ones %llu of %llu",
		(unsigned long long)ones, (unsigned long long)total);
	cr_assert_eq(prg_u64(&g), prg_u64(&ref));
	prg_finish(&g);
	prg_finish(&ref);
	free(bits);
	free(bytes);
}

Test(prg, permutation_is_a_permutation)
{
	static const size_t sizes[] = {0, 1, 2, 3, 10, 255, 256};
	uint8_t key[16];
	seeded_key(key, 13, "P0-P2");
	struct prg g;
	prg_init(&g, key);
	for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
		for (int rep = 0; rep < 20; rep++) {
			uint8_t perm[256];
			bool seen[256] = {false};
			prg_permutation(&g, perm, sizes[s]);
			for (size_t i = 0; i < sizes[s]; i++) {
				cr_assert_lt(perm[i], sizes[s], "seed 13 n %zu rep %d index %zu", sizes[s],
					rep, i);
				cr_assert(!seen[perm[i]], "seed 13 n %zu rep %d: %u twice", sizes[s], rep,
					perm[i]);
				seen[perm[i]] = true;
			}
		}
	}
	prg_finish(&g);

	/* n > 256 is refused without touching perm or the stream. */
	struct prg a, b;
	prg_init(&a, key);
	prg_init(&b, key);
	uint8_t big[300];
	memset(big, 0xaa, sizeof big);
	prg_permutation(&a, big, 300);
	for (size_t i = 0; i < sizeof big; i++)
		cr_assert_eq(big[i], 0xaa, "index %zu", i);
	cr_assert_eq(prg_u64(&a), prg_u64(&b));
	prg_finish(&a);
	prg_finish(&b);
}

/* Index of a permutation of {0, 1, 2} in 0..5. */
static size_t perm3_index(const uint8_t p[3])
{
	return 2 * (size_t)p[0] + (p[1] > p[2]);
}

/* 5 degrees of freedom: P(chi2 > 25.7) is about 1e-4. */
#define CHI2_DF5_LIMIT 25.7

Test(prg, permutation_of_three_is_uniform)
{
	enum { N = 60000 };
	const uint64_t seed = 21;
	uint8_t key[16];
	seeded_key(key, seed, "P1-P2");
	struct prg g;
	prg_init(&g, key);
	uint64_t counts[6] = {0}, naive[6] = {0};
	for (int i = 0; i < N; i++) {
		uint8_t p[3];
		prg_permutation(&g, p, 3);
		counts[perm3_index(p)]++;
		/* The classic wrong shuffle (swap with any position) for contrast. */
		uint8_t q[3] = {0, 1, 2};
		for (size_t k = 0; k < 3; k++) {
			size_t j = (size_t)prg_below(&g, 3);
			uint8_t t = q[k];
			q[k] = q[j];
			q[j] = t;
		}
		naive[perm3_index(q)]++;
	}
	prg_finish(&g);
	double chi2 = chi_square(counts, 6, N), chi2_naive = chi_square(naive, 6, N);
	cr_assert_lt(chi2, CHI2_DF5_LIMIT, "seed 21: chi-square %.2f", chi2);
	cr_assert_gt(chi2_naive, CHI2_DF5_LIMIT, "seed 21: naive shuffle passes (%.2f)", chi2_naive);
}

Test(prg, below_handles_edge_bounds)
{
	static const uint64_t bounds[] = {1, 2, 3, UINT64_C(0x8000000000000001), UINT64_MAX, 0};
	const uint64_t seed = 17;
	uint8_t key[16];
	seeded_key(key, seed, "P0");
	struct prg g, ref;
	prg_init(&g, key);
	prg_init(&ref, key);
	for (size_t b = 0; b < sizeof bounds / sizeof bounds[0]; b++) {
		uint64_t bound = bounds[b], n_low = 0, n_rejected = 0;
		for (int i = 0; i < 4000; i++) {
			uint64_t x = prg_below(&g, bound);
			if (bound != 0)
				cr_assert_lt(x, bound, "seed 17 bound %llu draw %d",
					(unsigned long long)bound, i);
			n_low += bound != 0 && x < bound / 2;
			/* Reference: the documented rejection rule on the twin stream. */
			uint64_t want;
			if (bound == 0) {
				want = prg_u64(&ref);
			} else {
				uint64_t threshold = (0 - bound) % bound;
				for (;;) {
					want = prg_u64(&ref);
					if (want >= threshold)
						break;
					n_rejected++;
				}
				want %= bound;
			}
			cr_assert_eq(x, want, "seed 17 bound %llu draw %d", (unsigned long long)bound, i);
		}
		if (bound == 1)
			cr_assert_eq(n_low, 0);
		if (bound == 2) {
			/* 4000 fair coins: 0 comes up between 1800 and 2200 times. */
			cr_assert_gt(n_low, 1800);
			cr_assert_lt(n_low, 2200);
		}
		if (bound == UINT64_C(0x8000000000000001)) {
			/* Almost half of all 64-bit values are rejected, and both halves occur. */
			cr_assert_gt(n_rejected, 1000, "rejected %llu", (unsigned long long)n_rejected);
			cr_assert_gt(n_low, 1000);
			cr_assert_lt(n_low, 3000);
		}
	}
	prg_finish(&g);
	prg_finish(&ref);
}

/* ---- Interface boundaries ---- */

Test(prg, set_impl_validates_names)
{
	cr_assert_eq(prg_set_impl(NULL), ERROR_INVAL);
	cr_assert_eq(prg_set_impl("aes"), ERROR_INVAL);
	cr_assert_eq(prg_set_impl(""), ERROR_INVAL);
	cr_assert_eq(prg_set_impl("openssl"), 0);
	cr_assert_str_eq(prg_impl_name(), "openssl");
	for (size_t i = 0; i < N_IMPLS; i++) {
		int rc = prg_set_impl(impls[i]);
		cr_assert(rc == 0 || rc == ERROR_UNSUPPORTED, "%s: %d", impls[i], rc);
		if (rc == 0)
			cr_assert_str_eq(prg_impl_name(), impls[i]);
	}
	cr_assert_eq(prg_set_impl("auto"), 0);
	const char *best = prg_impl_name();
	bool known = false;
	for (size_t i = 0; i < N_IMPLS; i++)
		known = known || strcmp(best, impls[i]) == 0;
	cr_assert(known, "%s", best);
}

Test(prg, null_arguments_are_rejected)
{
	uint8_t key[16];
	cr_assert_eq(prg_derive_key_checked(NULL, 1, "P0"), ERROR_INVAL);
	memset(key, 0xaa, sizeof key);
	cr_assert_eq(prg_derive_key_checked(key, 1, NULL), ERROR_INVAL);
	for (int i = 0; i < 16; i++)
		cr_assert_eq(key[i], 0, "byte %d", i);
	struct prg g;
	cr_assert_eq(prg_init_checked(NULL, key), ERROR_INVAL);
	cr_assert_eq(prg_init_checked(&g, NULL), ERROR_INVAL);
	cr_assert_eq(prg_status(&g), ERROR_INVAL);
	cr_assert_eq(prg_status(NULL), ERROR_INVAL);
	prg_finish(&g);
	prg_finish(NULL);
}

Test(prg, finish_wipes_key_material)
{
	uint8_t key[16];
	seeded_key(key, 99, "P0");
	for (size_t t = 0; t < N_IMPLS; t++) {
		struct prg g;
		if (!init_with(&g, impls[t], key))
			continue;
		(void)prg_u64(&g);
		prg_finish(&g);
		const uint8_t *raw = (const uint8_t *)&g;
		for (size_t i = 0; i < sizeof g; i++)
			cr_assert_eq(raw[i], 0, "%s: byte %zu of struct prg", impls[t], i);
	}
}
