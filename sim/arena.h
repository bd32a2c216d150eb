/* Per-party scratch memory: a bump allocator that grows in chunks.
 *
 * Protocols take temporaries from their party's arena and give them back
 * with arena_reset() to a mark taken on entry, so hot loops never call malloc.
 * Not thread-safe: an arena belongs to one party thread. */
#ifndef SNN_SIM_ARENA_H
#define SNN_SIM_ARENA_H

#include <stddef.h>

#include "error.h"

#define ARENA_ALIGN 64 /* bytes: one cache line, enough for AVX-512 loads */

struct arena_chunk;

struct arena {
	struct arena_chunk *head;    /* first chunk (list in allocation order) */
	struct arena_chunk *current; /* chunk being bumped */
	size_t chunk_bytes;          /* default size of a new chunk */
	size_t high_water_bytes;     /* largest total in use seen */
	size_t in_use_bytes;         /* bytes handed out and not reset */
};

struct arena_mark {
	struct arena_chunk *chunk; /* chunk current when the mark was taken */
	size_t used;               /* its fill level then, in bytes */
	size_t in_use_bytes;       /* arena in_use_bytes then */
};

void arena_init(struct arena *a, size_t chunk_bytes);
void arena_finish(struct arena *a);

/* n_bytes of 64-byte aligned memory, or NULL if out of memory. */
void *arena_alloc(struct arena *a, size_t n_bytes);

/* n elements of size bytes each, with overflow check; NULL on overflow/OOM. */
void *arena_alloc_array(struct arena *a, size_t n, size_t size);

struct arena_mark arena_mark(const struct arena *a);
void arena_reset(struct arena *a, struct arena_mark mark);

#endif
