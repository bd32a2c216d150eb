#include "arena.h"

#include <stdint.h>
#include <stdlib.h>

struct arena_chunk {
	struct arena_chunk *next; /* next chunk in allocation order */
	size_t size;              /* usable bytes in data */
	size_t used;              /* bytes bumped so far */
	unsigned char *data;      /* ARENA_ALIGN-aligned storage */
};

void arena_init(struct arena *a, size_t chunk_bytes)
{
	a->head = NULL;
	a->current = NULL;
	a->chunk_bytes = chunk_bytes ? chunk_bytes : ((size_t)1 << 20);
	a->high_water_bytes = 0;
	a->in_use_bytes = 0;
}

void arena_finish(struct arena *a)
{
	struct arena_chunk *c = a->head;
	while (c) {
		struct arena_chunk *next = c->next;
		free(c->data);
		free(c);
		c = next;
	}
	a->head = a->current = NULL;
	a->in_use_bytes = 0;
}

static struct arena_chunk *chunk_new(size_t size)
{
	struct arena_chunk *c = malloc(sizeof(*c));
	if (!c)
		return NULL;
	void *data = NULL;
	if (posix_memalign(&data, ARENA_ALIGN, size) != 0) {
		free(c);
		return NULL;
	}
	c->next = NULL;
	c->size = size;
	c->used = 0;
	c->data = data;
	return c;
}

void *arena_alloc(struct arena *a, size_t n_bytes)
{
	if (n_bytes > SIZE_MAX - ARENA_ALIGN)
		return NULL;
	size_t need = (n_bytes + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
	if (need == 0)
		need = ARENA_ALIGN;

	/* Walk forward from the current chunk: chunks after it are free
	 * after a reset, so they are reused before anything new is made. */
	struct arena_chunk *c = a->current;
	while (c && c->size - c->used < need) {
		c = c->next;
		if (c)
			c->used = 0;
	}
	if (!c) {
		size_t size = need > a->chunk_bytes ? need : a->chunk_bytes;
		c = chunk_new(size);
		if (!c)
			return NULL;
		if (!a->head) {
			a->head = c;
		} else {
			struct arena_chunk *tail = a->current ? a->current : a->head;
			while (tail->next)
				tail = tail->next;
			tail->next = c;
		}
	}
	a->current = c;
	void *p = c->data + c->used;
	c->used += need;
	a->in_use_bytes += need;
	if (a->in_use_bytes > a->high_water_bytes)
		a->high_water_bytes = a->in_use_bytes;
	return p;
}

void *arena_alloc_array(struct arena *a, size_t n, size_t size)
{
	if (size != 0 && n > SIZE_MAX / size)
		return NULL;
	return arena_alloc(a, n * size);
}

struct arena_mark arena_mark(const struct arena *a)
{
	struct arena_mark m = {
		.chunk = a->current,
		.used = a->current ? a->current->used : 0,
		.in_use_bytes = a->in_use_bytes,
	};
	return m;
}

void arena_reset(struct arena *a, struct arena_mark mark)
{
	if (!mark.chunk) {
		/* Mark taken on an empty arena: everything is free again. */
		a->current = a->head;
		if (a->current)
			a->current->used = 0;
	} else {
		a->current = mark.chunk;
		a->current->used = mark.used;
	}
	a->in_use_bytes = mark.in_use_bytes;
}
