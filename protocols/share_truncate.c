#include "share_truncate.h"

static inline ring_t sar(ring_t x, unsigned bits)
{
	/* Arithmetic shift right, portable: sign-fill the top bits. */
	ring_t sign = (ring_t)0 - (x >> 63);
	return (x >> bits) | (bits ? sign << (64 - bits) : 0);
}

void share_truncate_local(int party_id, ring_t *x, size_t n, unsigned bits)
{
	if (bits == 0 || bits >= 64)
		return;
	if (party_id == 0) {
		for (size_t i = 0; i < n; i++)
			x[i] = sar(x[i], bits);
	} else if (party_id == 1) {
		for (size_t i = 0; i < n; i++)
			x[i] = (ring_t)0 - sar((ring_t)0 - x[i], bits);
	}
}

void share_truncate(struct party *p, ring_t *x, size_t n, unsigned bits)
{
	share_truncate_local(p->id, x, n, bits);
}
