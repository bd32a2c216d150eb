#include "matmul.h"

#include <stdint.h>

#include "ring_gemm.h"
#include "share.h"

size_t matmul_bytes(size_t m, size_t n, size_t v)
{
	return RING_BYTES * (2 * m * n + 2 * n * v + m * v);
}

static int sizes_ok(struct party *p, size_t m, size_t n, size_t v, size_t *mn, size_t *nv,
		    size_t *mv)
{
	if (m == 0 || n == 0 || v == 0)
		return party_fail(p, ERROR_SHAPE, "P%d: matmul with an empty dimension (%zu x %zu x %zu)",
				  p->id, m, n, v);
	/* Two mn + nv blocks travel in one message: keep everything below SIZE_MAX / 16. */
	size_t lim = SIZE_MAX / 16;
	if (m > lim / n || n > lim / v || m > lim / v || m * n > lim - n * v)
		return party_fail(p, ERROR_RANGE, "P%d: matmul %zu x %zu x %zu is too large", p->id, m,
				  n, v);
	*mn = m * n;
	*nv = n * v;
	*mv = m * v;
	return 0;
}

/* gemm flags for op(X)·op(Y) */
static unsigned gemm_flags(unsigned flags)
{
	return ((flags & MATMUL_TRANS_X) ? RING_GEMM_TRANS_A : 0u) |
	       ((flags & MATMUL_TRANS_Y) ? RING_GEMM_TRANS_B : 0u);
}

/* Step 1 at P2: C1 = (A0 + A1)(B0 + B1) - C0, sent to P1. */
static int dealer(struct party *p, size_t m, size_t n, size_t v, size_t mn, size_t nv, size_t mv,
		  unsigned flags)
{
	struct arena_mark mark = arena_mark(&p->arena);
	ring_t *A = arena_alloc_array(&p->arena, mn, sizeof(ring_t));  /* op(A) stored like X */
	ring_t *A1 = arena_alloc_array(&p->arena, mn, sizeof(ring_t));
	ring_t *B = arena_alloc_array(&p->arena, nv, sizeof(ring_t));  /* stored like Y */
	ring_t *B1 = arena_alloc_array(&p->arena, nv, sizeof(ring_t));
	ring_t *C = arena_alloc_array(&p->arena, mv, sizeof(ring_t));  /* m x v */
	int rc = 0;
	if (!A || !A1 || !B || !B1 || !C) {
		rc = party_fail(p, ERROR_NOMEM, "P2: matmul scratch of %zu x %zu x %zu", m, n, v);
		goto out;
	}
	struct prg *g0 = party_common(p, 0), *g1 = party_common(p, 1);
	/* Same draw order as P0 and P1: A_j, B_j, then (P0 only) C0. */
	prg_u64s(g0, A, mn);
	prg_u64s(g0, B, nv);
	prg_u64s(g0, C, mv); /* C0 */
	prg_u64s(g1, A1, mn);
	prg_u64s(g1, B1, nv);
	ring_add(A, A, A1, mn);
	ring_add(B, B, B1, nv);
	/* C1 = A·B - C0: negate C0, then accumulate the product. */
	ring_neg(C, C, mv);
	ring_gemm(C, A, B, m, n, v, gemm_flags(flags) | RING_GEMM_ACCUMULATE);
	rc = party_send_u64(p, 1, C, mv);
out:
	arena_reset(&p->arena, mark);
	return rc;
}

/* Steps 2-4 at P0 / P1. */
static int holder(struct party *p, ring_t *Z, const ring_t *X, const ring_t *Y, size_t m,
		  size_t n, size_t v, size_t mn, size_t nv, size_t mv, unsigned flags)
{
	int j = p->id;
	struct arena_mark mark = arena_mark(&p->arena);
	/* Send buffer [E_j | F_j] and receive buffer [E_{1-j} | F_{1-j}]: (mn + nv) each. */
	ring_t *mine = arena_alloc_array(&p->arena, mn + nv, sizeof(ring_t));
	ring_t *theirs = arena_alloc_array(&p->arena, mn + nv, sizeof(ring_t));
	ring_t *C = arena_alloc_array(&p->arena, mv, sizeof(ring_t));
	int rc = 0;
	if (!mine || !theirs || !C) {
		rc = party_fail(p, ERROR_NOMEM, "P%d: matmul scratch of %zu x %zu x %zu", j, m, n, v);
		goto out;
	}
	ring_t *E = mine, *F = mine + mn;

	/* Step 1 (Alg. 1, PRF variant): A_j, B_j (and C0 at P0) from the key shared with P2. */
	struct prg *g2 = party_common(p, 2);
	prg_u64s(g2, E, mn);
	prg_u64s(g2, F, nv);
	if (j == 0)
		prg_u64s(g2, C, mv);

	/* Step 2: E_j = X_j - A_j, F_j = Y_j - B_j. */
	ring_sub(E, X, E, mn);
	ring_sub(F, Y, F, nv);

	/* Step 3: exchange and open E, F; P1 also gets C1 from P2. */
	rc = party_send_u64(p, 1 - j, mine, mn + nv);
	if (rc == 0 && j == 1)
		rc = party_recv_u64(p, 2, C, mv);
	if (rc == 0)
		rc = party_recv_u64(p, 1 - j, theirs, mn + nv);
	if (rc < 0)
		goto out;
	ring_add(E, E, theirs, mn);
	ring_add(F, F, theirs + mn, nv);

	/* Step 4: Z_j = X_j·F + E·(Y_j - j·F) + C_j + U_j. */
	share_zero(p, Z, mv);          /* U_j */
	ring_add(Z, Z, C, mv);         /* + C_j */
	unsigned gf = gemm_flags(flags) | RING_GEMM_ACCUMULATE;
	ring_gemm(Z, X, F, m, n, v, gf);
	if (j == 1)
		ring_sub(theirs + mn, Y, F, nv); /* Y_1 - F, reusing the receive buffer */
	ring_gemm(Z, E, j == 1 ? theirs + mn : Y, m, n, v, gf);
out:
	arena_reset(&p->arena, mark);
	return rc;
}

int matmul(struct party *p, ring_t *Z, const ring_t *X, const ring_t *Y, size_t m, size_t n,
	   size_t v, unsigned flags)
{
	size_t mn = 0, nv = 0, mv = 0;
	TRY(sizes_ok(p, m, n, v, &mn, &nv, &mv));
	if (p->id != 2 && (!Z || !X || !Y))
		return party_fail(p, ERROR_INVAL, "P%d: matmul without operands", p->id);
	stats_push(p, "matmul");
	int rc = p->id == 2 ? dealer(p, m, n, v, mn, nv, mv, flags)
			    : holder(p, Z, X, Y, m, n, v, mn, nv, mv, flags);
	stats_pop(p);
	return rc;
}

int matmul_elementwise(struct party *p, ring_t *z, const ring_t *x, const ring_t *y, size_t n)
{
	if (n == 0)
		return 0;
	if (n > SIZE_MAX / 32)
		return party_fail(p, ERROR_RANGE, "P%d: element-wise product of %zu is too large",
				  p->id, n);
	if (p->id != 2 && (!z || !x || !y))
		return party_fail(p, ERROR_INVAL, "P%d: element-wise product without operands", p->id);
	stats_push(p, "mul");
	struct arena_mark mark = arena_mark(&p->arena);
	int rc = 0;
	if (p->id == 2) {
		/* a = a0 + a1, b = b0 + b1, c1 = a·b - c0. */
		ring_t *a = arena_alloc_array(&p->arena, 5 * n, sizeof(ring_t));
		if (!a) {
			rc = party_fail(p, ERROR_NOMEM, "P2: scratch for %zu products", n);
			goto out;
		}
		ring_t *b = a + n, *c = b + n, *a1 = c + n, *b1 = a1 + n;
		struct prg *g0 = party_common(p, 0), *g1 = party_common(p, 1);
		prg_u64s(g0, a, n);
		prg_u64s(g0, b, n);
		prg_u64s(g0, c, n);
		prg_u64s(g1, a1, n);
		prg_u64s(g1, b1, n);
		for (size_t i = 0; i < n; i++)
			c[i] = (a[i] + a1[i]) * (b[i] + b1[i]) - c[i];
		rc = party_send_u64(p, 1, c, n);
		goto out;
	}
	int j = p->id;
	/* [e_j | f_j] sent, [e' | f'] received, c_j, u_j: 6n values. */
	ring_t *mine = arena_alloc_array(&p->arena, 6 * n, sizeof(ring_t));
	if (!mine) {
		rc = party_fail(p, ERROR_NOMEM, "P%d: scratch for %zu products", j, n);
		goto out;
	}
	ring_t *e = mine, *f = mine + n, *theirs = mine + 2 * n, *c = mine + 4 * n, *u = mine + 5 * n;
	struct prg *g2 = party_common(p, 2);
	prg_u64s(g2, e, n);
	prg_u64s(g2, f, n);
	if (j == 0)
		prg_u64s(g2, c, n);
	for (size_t i = 0; i < n; i++) {
		e[i] = x[i] - e[i];
		f[i] = y[i] - f[i];
	}
	rc = party_send_u64(p, 1 - j, mine, 2 * n);
	if (rc == 0 && j == 1)
		rc = party_recv_u64(p, 2, c, n);
	if (rc == 0)
		rc = party_recv_u64(p, 1 - j, theirs, 2 * n);
	if (rc < 0)
		goto out;
	share_zero(p, u, n);
	/* z may alias x or y: each z[i] reads only x[i], y[i]. */
	for (size_t i = 0; i < n; i++) {
		ring_t E = e[i] + theirs[i], F = f[i] + theirs[n + i];
		z[i] = u[i] + x[i] * F + E * y[i] + c[i] - (ring_t)j * E * F;
	}
out:
	arena_reset(&p->arena, mark);
	stats_pop(p);
	return rc;
}
