/* Π_SC, ShareConvert (SecureNN Alg. 4, the PoPETs formula).
 *
 * Functionality: P0, P1 hold Z_L shares of a (a != L - 1); they get fresh
 * Z_{L-1} shares of a. P2 learns nothing.
 *
 * Why it works: over the integers a = a0 + a1 - theta·L with
 * theta = wrap(a0, a1, L), and L = 1 mod (L - 1), so a0 + a1 - theta are
 * Z_{L-1} shares of a. The protocol computes shares of theta without anyone
 * learning it, from theta = beta0 + beta1 - alpha + delta + eta - 1.
 *
 *   P0, P1 (common): a bit eta'', r in Z_L with shares r0, r1 (both know all
 *            three) and alpha = wrap(r0, r1, L); a zero-sharing u of Z_{L-1}.
 *   Step 1: Pj: ~a_j = a_j + r_j, beta_j = wrap(a_j, r_j, L); send ~a_j to P2.
 *   Step 2: P2: x = ~a0 + ~a1, delta = wrap(~a0, ~a1, L); sends Z_67 shares
 *           of the 64 bits of x and Z_{L-1} shares of delta (one message each).
 *   Step 3: PrivateCompare(bits of x, r - 1, eta''): P2 learns
 *           eta' = eta'' XOR (x > r - 1). If r = 0, x > r - 1 is always true:
 *           the comparison is fabricated to say so (PC_FORCE_TRUE).
 *   Step 4: P2 sends Z_{L-1} shares of eta'.
 *   Step 5: Pj: eta_j = eta'_j + (1 - j)·eta'' - 2·eta''·eta'_j,
 *           theta_j = beta_j + (1 - j)(-alpha - 1) + delta_j + eta_j,
 *           y_j = a_j - theta_j + u_j (all in Z_{L-1}).
 *
 * Who sees what: P2 sees ~a0 and ~a1, each uniform (masked by r_j), and
 * eta', masked by eta''. P0, P1 see only fresh shares from P2.
 * Cost per element: 8 + 8 up (Step 1), 2·(64 + 8) down (Step 2), 2·64 up
 * (PC), 2·8 down (Step 4) = 304 bytes = 4·l·log p + 6·l bits; 4 rounds. */
#include "share_convert.h"

#include <string.h>

#include "private_compare.h"
#include "zp.h"

/* Z_{L-1} shares of v (n values, each < L - 1) for P0 (out0) and P1 (out1). */
static void odd_shares(struct prg *g, ring_t *out0, ring_t *out1, const ring_t *v, size_t n)
{
	prg_u64s(g, out0, n);
	for (size_t i = 0; i < n; i++) {
		out0[i] = ring_to_odd(out0[i]);
		out1[i] = ring_odd_sub(v[i], out0[i]);
	}
}

static int helper(struct party *p, size_t n)
{
	size_t nb = n * ZP_POSITIONS;
	struct arena_mark mark = arena_mark(&p->arena);
	ring_t *t0 = arena_alloc_array(&p->arena, n, sizeof(ring_t)); /* ~a0, then x */
	ring_t *t1 = arena_alloc_array(&p->arena, n, sizeof(ring_t)); /* ~a1, then delta */
	/* Messages to P0 and P1: [64n bit shares | n delta shares]. */
	uint8_t *m0 = arena_alloc(&p->arena, nb + 8 * n);
	uint8_t *m1 = arena_alloc(&p->arena, nb + 8 * n);
	uint8_t *eta = arena_alloc(&p->arena, n);
	int rc = 0;
	if (!t0 || !t1 || !m0 || !m1 || !eta) {
		rc = party_fail(p, ERROR_NOMEM, "P2: share_convert scratch for %zu", n);
		goto out;
	}
	/* Step 2: reconstruct x = ~a0 + ~a1 and delta = wrap(~a0, ~a1). */
	if ((rc = party_recv_u64(p, 0, t0, n)) < 0 || (rc = party_recv_u64(p, 1, t1, n)) < 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		ring_t x = t0[i] + t1[i];
		t1[i] = ring_wrap(t0[i], t1[i]);
		t0[i] = x;
	}
	prg_mod_u8(&p->own, m0, nb, ZP_PRIME);
	zp_share_bits(m1, m0, t0, n);
	odd_shares(&p->own, (ring_t *)(m0 + nb), (ring_t *)(m1 + nb), t1, n);
	if ((rc = party_send(p, 0, m0, nb + 8 * n)) < 0 || (rc = party_send(p, 1, m1, nb + 8 * n)) < 0)
		goto out;

	/* Step 3: P2's side of PrivateCompare. */
	if ((rc = private_compare(p, eta, NULL, NULL, NULL, NULL, n)) < 0)
		goto out;

	/* Step 4: Z_{L-1} shares of eta'. */
	for (size_t i = 0; i < n; i++)
		t1[i] = eta[i];
	odd_shares(&p->own, t0, t1, t1, n);
	if ((rc = party_send_u64(p, 0, t0, n)) < 0 || (rc = party_send_u64(p, 1, t1, n)) < 0)
		goto out;
out:
	arena_reset(&p->arena, mark);
	return rc;
}

static int holder(struct party *p, ring_t *out, const ring_t *a, size_t n)
{
	int j = p->id;
	struct prg *g = party_common(p, 1 - j);
	size_t nb = n * ZP_POSITIONS;
	struct arena_mark mark = arena_mark(&p->arena);
	ring_t *rj = arena_alloc_array(&p->arena, 3 * n, sizeof(ring_t)); /* r0, r1, then r - 1 */
	ring_t *ta = arena_alloc_array(&p->arena, n, sizeof(ring_t));     /* ~a_j, then eta'_j */
	uint8_t *eta2 = arena_alloc(&p->arena, n);                        /* eta'' */
	uint8_t *mode = arena_alloc(&p->arena, n);                        /* PC mode */
	uint8_t *msg = arena_alloc(&p->arena, nb + 8 * n);                /* from P2 */
	int rc = 0;
	if (!rj || !ta || !eta2 || !mode || !msg) {
		rc = party_fail(p, ERROR_NOMEM, "P%d: share_convert scratch for %zu", j, n);
		goto out;
	}
	ring_t *r0 = rj, *r1 = rj + n, *rm1 = rj + 2 * n;

	/* Common randomness, in the same order at P0 and P1. */
	prg_bits(g, eta2, n);
	prg_u64s(g, r0, n);
	prg_u64s(g, r1, n);

	/* Step 1: ~a_j = a_j + r_j, sent to P2. */
	const ring_t *mine = j == 0 ? r0 : r1;
	for (size_t i = 0; i < n; i++)
		ta[i] = a[i] + mine[i];
	if ((rc = party_send_u64(p, 2, ta, n)) < 0)
		goto out;

	/* Step 2: bit shares of x and delta_j from P2. */
	if ((rc = party_recv(p, 2, msg, nb + 8 * n)) < 0)
		goto out;

	/* Step 3: PrivateCompare(x, r - 1, eta''); r = 0 is "x > -1": true. */
	for (size_t i = 0; i < n; i++) {
		ring_t r = r0[i] + r1[i];
		rm1[i] = r - 1;
		mode[i] = r == 0 ? PC_FORCE_TRUE : PC_COMPARE;
	}
	if ((rc = private_compare(p, NULL, msg, rm1, eta2, mode, n)) < 0)
		goto out;

	/* Step 4: eta'_j from P2. */
	if ((rc = party_recv_u64(p, 2, ta, n)) < 0)
		goto out;

	/* Step 5: theta_j and the output, in Z_{L-1}. */
	const ring_t *delta = (const ring_t *)(msg + nb);
	for (size_t i = 0; i < n; i++) {
		ring_t e1 = ta[i];
		ring_t eta = ring_pick(eta2[i], ring_odd_sub((ring_t)(1 - j), e1), e1);
		ring_t beta = ring_wrap(a[i], mine[i]);
		ring_t theta = ring_odd_add(ring_odd_add(beta, delta[i]), eta);
		if (j == 0) /* (1 - j)(-alpha - 1) */
			theta = ring_odd_sub(theta, ring_wrap(r0[i], r1[i]) + 1);
		rj[i] = ring_odd_sub(ring_to_odd(a[i]), theta); /* r0 no longer needed */
	}
	/* u: zero-sharing of Z_{L-1}. */
	prg_u64s(g, ta, n);
	for (size_t i = 0; i < n; i++) {
		ring_t u = ring_to_odd(ta[i]);
		out[i] = j == 0 ? ring_odd_add(rj[i], u) : ring_odd_sub(rj[i], u);
	}
out:
	arena_reset(&p->arena, mark);
	return rc;
}

int share_convert(struct party *p, ring_t *out, const ring_t *a, size_t n)
{
	if (n == 0)
		return 0;
	if (n > SIZE_MAX / (8 * ZP_POSITIONS))
		return party_fail(p, ERROR_RANGE, "P%d: share_convert of %zu is too large", p->id, n);
	if (p->id != 2 && (!out || !a))
		return party_fail(p, ERROR_INVAL, "P%d: share_convert without operands", p->id);
	stats_push(p, "share_convert");
	int rc = p->id == 2 ? helper(p, n) : holder(p, out, a, n);
	stats_pop(p);
	return rc;
}
