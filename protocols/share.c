#include "share.h"


void share_split(struct prg *g, ring_t *s0, ring_t *s1, const ring_t *x, size_t n)
{
	prg_u64s(g, s0, n);
	for (size_t i = 0; i < n; i++)
		s1[i] = x[i] - s0[i];
}

void share_combine(ring_t *x, const ring_t *s0, const ring_t *s1, size_t n)
{
	for (size_t i = 0; i < n; i++)
		x[i] = s0[i] + s1[i];
}

int share_reveal(struct party *p, ring_t *x, const ring_t *xs, size_t n)
{
	if (p->id == 2)
		return 0;
	stats_push(p, "reveal");
	int peer = 1 - p->id;
	int rc = party_send_u64(p, peer, xs, n);
	if (rc == 0)
		rc = party_recv_u64(p, peer, x, n);
	if (rc == 0)
		for (size_t i = 0; i < n; i++)
			x[i] += xs[i];
	stats_pop(p);
	return rc;
}

void share_zero(struct party *p, ring_t *u, size_t n)
{
	if (p->id == 2)
		return;
	prg_u64s(party_common(p, 1 - p->id), u, n);
	if (p->id == 1)
		for (size_t i = 0; i < n; i++)
			u[i] = (ring_t)0 - u[i];
}

void share_rerandomize(struct party *p, ring_t *x, size_t n)
{
	if (p->id == 2)
		return;
	struct prg *g = party_common(p, 1 - p->id);
	ring_t buf[256];
	for (size_t done = 0; done < n;) {
		size_t k = n - done < 256 ? n - done : 256;
		prg_u64s(g, buf, k);
		if (p->id == 0)
			for (size_t i = 0; i < k; i++)
				x[done + i] += buf[i];
		else
			for (size_t i = 0; i < k; i++)
				x[done + i] -= buf[i];
		done += k;
	}
}

void share_add_public(struct party *p, ring_t *x, ring_t c, size_t n)
{
	if (p->id != 0)
		return;
	for (size_t i = 0; i < n; i++)
		x[i] += c;
}
