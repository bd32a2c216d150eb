#include "ring.h"

void ring_add(ring_t *z, const ring_t *x, const ring_t *y, size_t n)
{
	for (size_t i = 0; i < n; i++)
		z[i] = x[i] + y[i];
}

void ring_sub(ring_t *z, const ring_t *x, const ring_t *y, size_t n)
{
	for (size_t i = 0; i < n; i++)
		z[i] = x[i] - y[i];
}

void ring_neg(ring_t *z, const ring_t *x, size_t n)
{
	for (size_t i = 0; i < n; i++)
		z[i] = (ring_t)0 - x[i];
}

void ring_scale(ring_t *z, const ring_t *x, ring_t c, size_t n)
{
	for (size_t i = 0; i < n; i++)
		z[i] = c * x[i];
}
