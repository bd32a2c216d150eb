/* Seeded pseudo-random streams: AES-128 in counter mode.
 *
 * Every random value in snn comes from a struct prg (a private stream per party, a common
 * stream per party pair), so a whole run replays from one 64-bit seed.
 *
 * The stream is a byte stream: byte j is byte (j mod 16) of AES_key(block j/16), where the
 * block index is the 128-bit little-endian counter (block 0 is sixteen zero bytes). Every
 * draw consumes the next bytes of that stream, whatever the implementation (VAES + AVX-512,
 * AES-NI, or OpenSSL) and however draws of different sizes are mixed. How many bytes each
 * draw consumes is part of the definition and documented on each function below.
 *
 * A struct prg is used by one thread only and is not copied (the OpenSSL implementation owns a
 * cipher context; a copy would also replay the same randomness). Values are little-endian. */
#ifndef SNN_SIM_PRG_H
#define SNN_SIM_PRG_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define PRG_KEY_BYTES 16
/* Keystream produced ahead of time for small draws; a multiple of 64. */
#define PRG_BUF_BYTES 2048

/* No over-alignment: a struct prg may live in malloc or arena memory. */
struct prg {
	size_t pos;                        /* bytes of buf already consumed, 0..PRG_BUF_BYTES */
	uint64_t next_block;               /* counter of the next block to encrypt, blocks */
	int impl;                          /* implementation chosen at prg_init (private enum) */
	int status;                        /* 0, or a negative code if the stream is unusable */
	void *evp;                         /* EVP_CIPHER_CTX * of the OpenSSL implementation */
	uint8_t round_keys[11 * 16];       /* AES-128 key schedule, 11 round keys x 16 bytes */
	uint8_t buf[PRG_BUF_BYTES];        /* keystream; bytes [pos, PRG_BUF_BYTES) not yet used */
};

/* Derive a key from a seed and a label ("P0", "P0-P1", "owner", ...): the first 16 bytes of
 * SHA-256("snn-prg-v1" || seed as 8 bytes little-endian || label without its NUL).
 * prg_derive_key_checked returns ERROR_INVAL for a NULL argument and ERROR_NOMEM if libcrypto
 * fails (out of memory, broken provider configuration); on failure, both write an all-zero
 * key when key is not NULL. */
void prg_derive_key(uint8_t key[PRG_KEY_BYTES], uint64_t seed, const char *label);
SNN_MUST_CHECK int prg_derive_key_checked(uint8_t key[PRG_KEY_BYTES], uint64_t seed,
	const char *label);

/* Start a stream at block 0 with the implementation currently selected (prg_impl_name).
 * Only the OpenSSL implementation can fail (it allocates a cipher context); prg_init then
 * leaves a stream that outputs zeros and whose prg_status is negative, while
 * prg_init_checked returns the code (ERROR_INVAL for NULL arguments, ERROR_NOMEM). */
void prg_init(struct prg *g, const uint8_t key[PRG_KEY_BYTES]);
SNN_MUST_CHECK int prg_init_checked(struct prg *g, const uint8_t key[PRG_KEY_BYTES]);
/* 0 if the stream works, else the negative code of the failure in prg_init (or ERROR_IO
 * if libcrypto later refused to encrypt); a failed stream outputs zeros. */
SNN_MUST_CHECK int prg_status(const struct prg *g);
/* Free the OpenSSL context and wipe the key, schedule and buffered keystream. */
void prg_finish(struct prg *g);

/* The next n_bytes of the stream. Large requests are encrypted straight into out. */
void prg_bytes(struct prg *g, void *out, size_t n_bytes);
/* The next 8 bytes as a little-endian value. */
uint64_t prg_u64(struct prg *g);
/* n values, 8 bytes each: the same bytes as prg_bytes(g, out, 8 * n). The hot path. */
void prg_u64s(struct prg *g, uint64_t *out, size_t n);

/* Uniform in [0, bound) by rejection: draws 8-byte values x until x >= 2^64 mod bound and
 * returns x mod bound (bound 1 still consumes 8 bytes). bound 0 means 2^64: one prg_u64. */
uint64_t prg_below(struct prg *g, uint64_t bound);

/* n values uniform in [0, p), 2 <= p <= 256, by rejection: takes stream bytes b one at a
 * time, accepts b < 256 - (256 mod p) (201 for p = 67) as b mod p, and stops right after the
 * n-th accepted byte. p outside [2, 256] leaves out untouched and consumes nothing. */
void prg_mod_u8(struct prg *g, uint8_t *out, size_t n, unsigned p);
/* n values uniform in [1, p-1]: as prg_mod_u8 with q = p - 1 (accept b < 256 - (256 mod q),
 * output 1 + b mod q; 198 and 1 + b mod 66 for p = 67). */
void prg_nonzero_mod_u8(struct prg *g, uint8_t *out, size_t n, unsigned p);
/* n values in {0, 1}: out[i] is bit (i mod 8) of stream byte i / 8 (ceil(n / 8) bytes). */
void prg_bits(struct prg *g, uint8_t *out, size_t n);
/* Uniform permutation of 0..n-1, n <= 256: Fisher-Yates, for i = n-1 down to 1 swap perm[i]
 * with perm[prg_below(g, i + 1)]. n > 256 leaves perm untouched and consumes nothing. */
void prg_permutation(struct prg *g, uint8_t *perm, size_t n);

/* "vaes-avx512", "aesni" or "openssl": what new streams use on this CPU (the fastest
 * available unless prg_set_impl forced one). */
const char *prg_impl_name(void);
/* For tests and benchmarks: force one of the names above for streams initialised from now
 * on, or "auto" to go back to the fastest. ERROR_UNSUPPORTED if this CPU lacks it,
 * ERROR_INVAL if the name is unknown or NULL. Process-wide; existing streams keep theirs. */
SNN_MUST_CHECK int prg_set_impl(const char *name);

#endif
