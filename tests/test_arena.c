#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "arena.h"

/* splitmix64: test-side randomness. */
static uint64_t rand_next(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static int is_aligned(const void *p)
{
	return ((uintptr_t)p % ARENA_ALIGN) == 0;
}

static unsigned char pattern(size_t block, size_t i)
{
	return (unsigned char)(block * 131u + i * 7u + 1u);
}

Test(arena, worked_example)
{
	struct arena a;
	arena_init(&a, 1024);
	unsigned char *x = arena_alloc(&a, 10);
	unsigned char *y = arena_alloc(&a, 100);
	cr_assert_not_null(x);
	cr_assert_not_null(y);
	cr_assert(is_aligned(x), "x=%p", (void *)x);
	cr_assert(is_aligned(y), "y=%p", (void *)y);
	/* 10 bytes round up to one 64-byte slot; y follows in the same chunk. */
	cr_assert_eq(y - x, 64, "y - x = %td", y - x);
	memset(x, 0xaa, 10);
	memset(y, 0x55, 100);
	cr_assert_eq(x[9], 0xaa);
	cr_assert_eq(y[99], 0x55);
	cr_assert_eq(a.in_use_bytes, 64 + 128);
	cr_assert_eq(a.high_water_bytes, 64 + 128);
	arena_finish(&a);
	cr_assert_eq(a.in_use_bytes, 0);
}

Test(arena, zero_chunk_size_means_default)
{
	struct arena a;
	arena_init(&a, 0);
	cr_assert_eq(a.chunk_bytes, (size_t)1 << 20);
	void *p = arena_alloc(&a, 1);
	cr_assert_not_null(p);
	arena_finish(&a);
}

Test(arena, every_allocation_is_aligned_and_disjoint)
{
	for (uint64_t seed = 1; seed <= 5; seed++) {
		enum { N = 400 };
		uint64_t st = seed;
		struct arena a;
		/* Small chunks so the run crosses many chunk boundaries. */
		arena_init(&a, 512 + 64 * (size_t)seed);
		unsigned char *blk[N];
		size_t len[N];
		for (size_t i = 0; i < N; i++) {
			uint64_t r = rand_next(&st);
			/* Mostly small, sometimes 0, sometimes larger than a chunk. */
			len[i] = (r % 16 == 0)   ? 0
				 : (r % 16 == 1) ? 2000 + r % 3000
						 : (size_t)(r >> 8) % 300;
			blk[i] = arena_alloc(&a, len[i]);
			cr_assert_not_null(blk[i], "seed=%llu i=%zu len=%zu",
					   (unsigned long long)seed, i, len[i]);
			cr_assert(is_aligned(blk[i]), "seed=%llu i=%zu len=%zu p=%p",
				  (unsigned long long)seed, i, len[i], (void *)blk[i]);
			for (size_t j = 0; j < len[i]; j++)
				blk[i][j] = pattern(i, j);
		}
		/* No later allocation overwrote an earlier one. */
		for (size_t i = 0; i < N; i++)
			for (size_t j = 0; j < len[i]; j++)
				cr_assert_eq(blk[i][j], pattern(i, j),
					     "seed=%llu block=%zu byte=%zu",
					     (unsigned long long)seed, i, j);
		arena_finish(&a);
	}
}

Test(arena, zero_byte_allocations_are_distinct)
{
	struct arena a;
	arena_init(&a, 256);
	void *p = arena_alloc(&a, 0);
	void *q = arena_alloc(&a, 0);
	cr_assert_not_null(p);
	cr_assert_not_null(q);
	cr_assert_neq(p, q);
	cr_assert(is_aligned(p) && is_aligned(q));
	arena_finish(&a);
}

Test(arena, reset_to_mark_reuses_the_same_memory)
{
	struct arena a;
	arena_init(&a, 4096);
	void *keep = arena_alloc(&a, 100);
	cr_assert_not_null(keep);
	memset(keep, 0x11, 100);
	struct arena_mark m = arena_mark(&a);
	size_t in_use = a.in_use_bytes;
	void *first_p = NULL, *first_q = NULL;
	for (int round = 0; round < 10; round++) {
		void *p = arena_alloc(&a, 300);
		void *q = arena_alloc(&a, 5);
		cr_assert_not_null(p, "round=%d", round);
		cr_assert_not_null(q, "round=%d", round);
		if (round == 0) {
			first_p = p;
			first_q = q;
		}
		cr_assert_eq(p, first_p, "round=%d: same pointer after reset", round);
		cr_assert_eq(q, first_q, "round=%d: same pointer after reset", round);
		memset(p, 0xee, 300);
		arena_reset(&a, m);
		cr_assert_eq(a.in_use_bytes, in_use, "round=%d", round);
	}
	/* Memory below the mark is untouched. */
	for (int i = 0; i < 100; i++)
		cr_assert_eq(((unsigned char *)keep)[i], 0x11, "i=%d", i);
	arena_finish(&a);
}

Test(arena, reset_to_mark_taken_on_empty_arena_frees_everything)
{
	struct arena a;
	arena_init(&a, 256);
	struct arena_mark empty = arena_mark(&a);
	void *first = arena_alloc(&a, 64);
	for (int i = 0; i < 20; i++)
		cr_assert_not_null(arena_alloc(&a, 200), "i=%d", i);
	arena_reset(&a, empty);
	cr_assert_eq(a.in_use_bytes, 0);
	void *again = arena_alloc(&a, 64);
	cr_assert_eq(again, first, "first allocation after a full reset reuses the first chunk");
	arena_finish(&a);
}

Test(arena, reset_across_chunks_reuses_later_chunks)
{
	struct arena a;
	arena_init(&a, 256); /* four 64-byte slots per chunk */
	struct arena_mark empty = arena_mark(&a);
	void *p[12];
	for (int i = 0; i < 12; i++) {
		p[i] = arena_alloc(&a, 64);
		cr_assert_not_null(p[i], "i=%d", i);
	}
	arena_reset(&a, empty);
	cr_assert_eq(a.in_use_bytes, 0);
	for (int i = 0; i < 6; i++)
		cr_assert_eq(arena_alloc(&a, 64), p[i], "i=%d", i);
	/* Mark in the middle of the second chunk, then refill: the same slots come back. */
	struct arena_mark m = arena_mark(&a);
	for (int round = 0; round < 3; round++) {
		for (int i = 6; i < 12; i++)
			cr_assert_eq(arena_alloc(&a, 64), p[i], "round=%d i=%d", round, i);
		arena_reset(&a, m);
		cr_assert_eq(a.in_use_bytes, 6 * 64, "round=%d", round);
	}
	arena_finish(&a);
}

Test(arena, growth_across_chunks_preserves_data)
{
	enum { N = 100, LEN = 100 };
	struct arena a;
	arena_init(&a, 256); /* two 100-byte blocks per chunk */
	unsigned char *blk[N];
	for (size_t i = 0; i < N; i++) {
		blk[i] = arena_alloc(&a, LEN);
		cr_assert_not_null(blk[i], "i=%zu", i);
		for (size_t j = 0; j < LEN; j++)
			blk[i][j] = pattern(i, j);
	}
	for (size_t i = 0; i < N; i++)
		for (size_t j = 0; j < LEN; j++)
			cr_assert_eq(blk[i][j], pattern(i, j), "block=%zu byte=%zu", i, j);
	cr_assert_eq(a.in_use_bytes, N * 128);
	arena_finish(&a);
}

Test(arena, array_size_overflow_returns_null)
{
	struct arena a;
	arena_init(&a, 1024);
	cr_assert_null(arena_alloc_array(&a, SIZE_MAX, 2));
	cr_assert_null(arena_alloc_array(&a, SIZE_MAX / 8 + 1, 8));
	cr_assert_null(arena_alloc_array(&a, 2, SIZE_MAX));
	cr_assert_null(arena_alloc_array(&a, (size_t)1 << (sizeof(size_t) * 4),
					 (size_t)1 << (sizeof(size_t) * 4)));
	cr_assert_null(arena_alloc(&a, SIZE_MAX));
	cr_assert_null(arena_alloc(&a, SIZE_MAX - ARENA_ALIGN + 1));
	cr_assert_eq(a.in_use_bytes, 0, "failed allocations use nothing");
	/* The arena still works, and the non-overflowing cases do. */
	uint64_t *x = arena_alloc_array(&a, 10, sizeof(uint64_t));
	cr_assert_not_null(x);
	cr_assert(is_aligned(x));
	for (int i = 0; i < 10; i++)
		x[i] = (uint64_t)i;
	cr_assert_not_null(arena_alloc_array(&a, 0, 8));
	cr_assert_not_null(arena_alloc_array(&a, 8, 0));
	cr_assert_eq(a.in_use_bytes, 128 + 64 + 64);
	arena_finish(&a);
}

Test(arena, allocation_larger_than_a_chunk)
{
	struct arena a;
	arena_init(&a, 1024);
	struct arena_mark empty = arena_mark(&a);
	unsigned char *small = arena_alloc(&a, 32);
	cr_assert_not_null(small);
	small[0] = 7;
	size_t big_len = 10000;
	unsigned char *big = arena_alloc(&a, big_len);
	cr_assert_not_null(big);
	cr_assert(is_aligned(big));
	memset(big, 0x5a, big_len);
	unsigned char *after = arena_alloc(&a, 32);
	cr_assert_not_null(after);
	cr_assert(after + 32 <= big || after >= big + big_len, "no overlap with the large block");
	after[0] = 9;
	for (size_t i = 0; i < big_len; i++)
		cr_assert_eq(big[i], 0x5a, "i=%zu", i);
	cr_assert_eq(small[0], 7);
	cr_assert_eq(a.in_use_bytes, 64 + 10048 + 64);

	/* After a reset the large chunk is reused instead of allocating another. */
	arena_reset(&a, empty);
	cr_assert_eq(arena_alloc(&a, 32), small);
	unsigned char *big2 = arena_alloc(&a, big_len);
	cr_assert_eq(big2, big, "the large chunk comes back");
	memset(big2, 1, big_len);
	arena_finish(&a);
}

Test(arena, high_water_tracks_largest_use)
{
	struct arena a;
	arena_init(&a, 512);
	cr_assert_eq(a.high_water_bytes, 0);
	struct arena_mark m0 = arena_mark(&a);
	cr_assert_not_null(arena_alloc(&a, 1)); /* rounds up to 64 */
	cr_assert_eq(a.in_use_bytes, 64);
	cr_assert_eq(a.high_water_bytes, 64);
	cr_assert_not_null(arena_alloc(&a, 1000)); /* 1024, a chunk of its own */
	cr_assert_eq(a.in_use_bytes, 64 + 1024);
	cr_assert_eq(a.high_water_bytes, 64 + 1024);
	arena_reset(&a, m0);
	cr_assert_eq(a.in_use_bytes, 0);
	cr_assert_eq(a.high_water_bytes, 64 + 1024, "reset keeps the high water mark");
	cr_assert_not_null(arena_alloc(&a, 128));
	cr_assert_eq(a.high_water_bytes, 64 + 1024);
	struct arena_mark m1 = arena_mark(&a);
	for (int i = 0; i < 20; i++)
		cr_assert_not_null(arena_alloc(&a, 64), "i=%d", i);
	cr_assert_eq(a.in_use_bytes, 128 + 20 * 64);
	cr_assert_eq(a.high_water_bytes, 128 + 20 * 64);
	arena_reset(&a, m1);
	cr_assert_eq(a.in_use_bytes, 128);
	cr_assert_eq(a.high_water_bytes, 128 + 20 * 64);
	arena_finish(&a);
}

Test(arena, usable_again_after_finish)
{
	struct arena a;
	arena_init(&a, 256);
	cr_assert_not_null(arena_alloc(&a, 1000));
	arena_finish(&a);
	arena_finish(&a); /* idempotent */
	void *p = arena_alloc(&a, 10);
	cr_assert_not_null(p);
	cr_assert(is_aligned(p));
	arena_finish(&a);
}
