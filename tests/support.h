/* Shared helpers for the Criterion tests: seeded test randomness, the data
 * owner's sharing, and running a protocol on three parties. */
#ifndef SNN_TESTS_SUPPORT_H
#define SNN_TESTS_SUPPORT_H

#include <stddef.h>
#include <stdint.h>

#include "ring.h"
#include "sim.h"

/* splitmix64: test-side randomness, independent of the project's PRG. */
uint64_t support_rand(uint64_t *state);
void support_fill(uint64_t *state, ring_t *x, size_t n);
/* Signed values with |x| < 2^bits. */
void support_fill_signed(uint64_t *state, ring_t *x, size_t n, unsigned bits);

/* Share x into s0, s1 as the data owner does (owner stream from seed). */
void support_share(uint64_t seed, ring_t *s0, ring_t *s1, const ring_t *x, size_t n);

/* A config for tests: no network, 20 s receive timeout, given seed. */
void support_config(struct sim_config *cfg, uint64_t seed);

/* Run fn on three parties; on failure fail the test with the run's message. */
void support_run_ok(const struct sim_config *cfg, sim_fn fn, void *const args[3],
		    struct sim_result *res);

/* Allocate n ring elements (test fails on OOM). */
ring_t *support_alloc(size_t n);

#endif
