/* Π_SS, SelectShare (SecureNN Alg. 2).
 *
 *   Step 1: Pj: w_j = y_j - x_j.
 *   Step 2: c = alpha·w (element-wise MatMul, PRF triplets from P2).
 *   Step 3: Pj: out_j = x_j + c_j + u_j.
 * out = x + alpha·(y - x): y where alpha = 1, x where alpha = 0.
 * Cost: 40 bytes per element, 1 round (the paper counts 2). */
#include "select_share.h"

#include "matmul.h"
#include "share.h"

int select_share(struct party *p, ring_t *out, const ring_t *alpha, const ring_t *x,
		 const ring_t *y, size_t n)
{
	if (n == 0)
		return 0;
	if (n > SIZE_MAX / 64)
		return party_fail(p, ERROR_RANGE, "P%d: select_share of %zu is too large", p->id, n);
	if (p->id != 2 && (!out || !alpha || !x || !y))
		return party_fail(p, ERROR_INVAL, "P%d: select_share without operands", p->id);
	stats_push(p, "select_share");
	struct arena_mark mark = arena_mark(&p->arena);
	int rc = 0;
	ring_t *w = NULL;
	if (p->id != 2) {
		w = arena_alloc_array(&p->arena, 2 * n, sizeof(ring_t)); /* w, then c */
		if (!w) {
			rc = party_fail(p, ERROR_NOMEM, "P%d: select_share scratch for %zu", p->id, n);
			goto out;
		}
		/* Step 1 */
		ring_sub(w, y, x, n);
	}
	/* Step 2 */
	if ((rc = matmul_elementwise(p, w ? w + n : NULL, alpha, w, n)) < 0)
		goto out;
	if (p->id != 2) {
		/* Step 3: the product's shares are already fresh; u_j keeps the
		 * algorithm's form (out may alias x or y: each element reads them first). */
		ring_t *c = w + n;
		ring_t *u = w;
		share_zero(p, u, n);
		for (size_t i = 0; i < n; i++)
			out[i] = x[i] + c[i] + u[i];
	}
out:
	arena_reset(&p->arena, mark);
	stats_pop(p);
	return rc;
}
