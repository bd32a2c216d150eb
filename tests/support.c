#include "support.h"

#include <criterion/criterion.h>
#include <stdlib.h>

#include "share.h"

uint64_t support_rand(uint64_t *state)
{
	uint64_t z = (*state += UINT64_C(0x9E3779B97F4A7C15));
	z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
	return z ^ (z >> 31);
}

void support_fill(uint64_t *state, ring_t *x, size_t n)
{
	for (size_t i = 0; i < n; i++)
		x[i] = support_rand(state);
}

void support_fill_signed(uint64_t *state, ring_t *x, size_t n, unsigned bits)
{
	for (size_t i = 0; i < n; i++) {
		uint64_t r = support_rand(state);
		uint64_t mag = bits >= 64 ? r : r & ((UINT64_C(1) << bits) - 1);
		x[i] = (support_rand(state) & 1) ? (ring_t)0 - mag : mag;
	}
}

void support_share(uint64_t seed, ring_t *s0, ring_t *s1, const ring_t *x, size_t n)
{
	uint8_t key[PRG_KEY_BYTES];
	prg_derive_key(key, seed, "owner");
	struct prg g;
	prg_init(&g, key);
	share_split(&g, s0, s1, x, n);
	prg_finish(&g);
}

void support_config(struct sim_config *cfg, uint64_t seed)
{
	sim_config_default(cfg);
	cfg->timeout_ns = 20ull * 1000000000ull;
	cfg->seed = seed;
}

void support_run_ok(const struct sim_config *cfg, sim_fn fn, void *const args[3],
		    struct sim_result *res)
{
	int rc = sim_run(cfg, fn, args, res);
	cr_assert_eq(rc, 0, "run failed (seed %llu): %s", (unsigned long long)cfg->seed,
		     res->message);
}

ring_t *support_alloc(size_t n)
{
	ring_t *p = calloc(n ? n : 1, sizeof(ring_t));
	cr_assert_not_null(p, "out of memory for %zu elements", n);
	return p;
}
