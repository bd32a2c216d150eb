/* Π_DReLU (SecureNN Alg. 6) and Π_ReLU (Alg. 7).
 *
 * DReLU(a) = 1 - MSB(a). ShareConvert needs its input to differ from L - 1,
 * so the parties convert c = 2a instead (even, never L - 1); doubling keeps
 * the sign when |a| < 2^62 (Lemma 4), and ComputeMSB on Z_{L-1} shares of c
 * gives MSB(c) = MSB(a).
 *
 *   Step 1: Pj: c_j = 2·a_j.
 *   Step 2: y = ShareConvert(c)          (Z_L -> Z_{L-1}; 4 rounds, 304 bytes)
 *   Step 3: alpha = ComputeMSB(y)        (Z_L shares of MSB; 5 rounds, 360 bytes)
 *   Step 4: Pj: out_j = j - alpha_j + u_j.
 *
 * ComputeMSB's first message (from P2) depends on nothing, so the two
 * protocols take 8 rounds together, as the paper counts; 664 bytes.
 * ReLU then multiplies: out = DReLU(a)·a (40 bytes, 1 round). */
#include "relu.h"

#include "compute_msb.h"
#include "matmul.h"
#include "share.h"
#include "share_convert.h"

int drelu(struct party *p, ring_t *out, const ring_t *a, size_t n)
{
	if (n == 0)
		return 0;
	if (n > SIZE_MAX / (8 * 64))
		return party_fail(p, ERROR_RANGE, "P%d: drelu of %zu is too large", p->id, n);
	if (p->id != 2 && (!out || !a))
		return party_fail(p, ERROR_INVAL, "P%d: drelu without operands", p->id);
	stats_push(p, "drelu");
	struct arena_mark mark = arena_mark(&p->arena);
	int rc = 0;
	ring_t *c = NULL;
	if (p->id != 2) {
		c = arena_alloc_array(&p->arena, n, sizeof(ring_t));
		if (!c) {
			rc = party_fail(p, ERROR_NOMEM, "P%d: drelu scratch for %zu", p->id, n);
			goto out;
		}
		/* Step 1: c = 2a. */
		for (size_t i = 0; i < n; i++)
			c[i] = 2 * a[i];
	}
	/* Steps 2-3, in place: c -> y (Z_{L-1}) -> alpha (Z_L). */
	if ((rc = share_convert(p, c, c, n)) < 0 || (rc = compute_msb(p, c, c, n)) < 0)
		goto out;
	if (p->id != 2) {
		/* Step 4: out = 1 - alpha, re-randomised. */
		share_zero(p, out, n);
		ring_t j = (ring_t)p->id;
		for (size_t i = 0; i < n; i++)
			out[i] += j - c[i];
	}
out:
	arena_reset(&p->arena, mark);
	stats_pop(p);
	return rc;
}

int relu_from_drelu(struct party *p, ring_t *out, const ring_t *bits, const ring_t *a, size_t n)
{
	stats_push(p, "relu");
	int rc = matmul_elementwise(p, out, bits, a, n);
	stats_pop(p);
	return rc;
}

int relu(struct party *p, ring_t *out, ring_t *bits, const ring_t *a, size_t n)
{
	if (n == 0)
		return 0;
	struct arena_mark mark = arena_mark(&p->arena);
	ring_t *b = bits;
	int rc = 0;
	if (p->id != 2 && !b) {
		b = arena_alloc_array(&p->arena, n, sizeof(ring_t));
		if (!b) {
			rc = party_fail(p, ERROR_NOMEM, "P%d: relu scratch for %zu", p->id, n);
			goto out;
		}
	}
	if ((rc = drelu(p, b, a, n)) < 0)
		goto out;
	rc = relu_from_drelu(p, out, b, a, n);
out:
	arena_reset(&p->arena, mark);
	return rc;
}
