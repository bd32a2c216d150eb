/* Π_MSB, ComputeMSB (SecureNN Alg. 5).
 *
 * Functionality: P0, P1 hold Z_{L-1} shares of a; they get fresh Z_L shares
 * of MSB(a). In the odd ring, MSB(a) = LSB(2a): 2a either stays below L - 1
 * (even) or wraps once (2a - (L - 1), odd). LSB(2a + x) XOR LSB(x) XOR
 * wrap(2a, x) gives it from a masked value.
 *
 *   P0, P1 (common): a bit beta; a zero-sharing u of Z_L.
 *   Step 1: P2 picks x in Z_{L-1} and sends Z_{L-1} shares of x, Z_67
 *           shares of its 64 bits and Z_L shares of x[0] (one message to each).
 *   Step 2: Pj: y_j = 2·a_j, r_j = y_j + x_j (in Z_{L-1}); P0 and P1 exchange
 *           and open r = 2a + x mod (L - 1).
 *   Step 3: PrivateCompare(bits of x, r, beta): P2 learns beta' = beta XOR (x > r).
 *   Step 4: P2 sends Z_L shares of beta'.
 *   Step 5: Pj: gamma_j = beta'_j + j·beta - 2·beta·beta'_j   (gamma = x > r,
 *           which is wrap(2a, x, L - 1)); delta_j = x[0]_j + j·r[0] - 2·r[0]·x[0]_j
 *           (delta = x[0] XOR r[0]).
 *   Step 6: theta = gamma·delta (element-wise MatMul).
 *   Step 7: Pj: alpha_j = gamma_j + delta_j - 2·theta_j + u_j (alpha = gamma XOR delta).
 *
 * Who sees what: P0, P1 see r = 2a + x, uniform because x is; P2 sees the
 * PrivateCompare vector and nothing else (beta' is masked by beta).
 * Cost per element: 2·(8 + 8 + 64) down (Step 1), 2·8 exchange (Step 2),
 * 2·64 up (PC), 2·8 down (Step 4), 40 (product) = 360 bytes =
 * 4·l·log p + 13·l bits. Rounds: 5 (Step 1 needs nothing, so it travels
 * with earlier traffic). */
#include "compute_msb.h"

#include <string.h>

#include "matmul.h"
#include "private_compare.h"
#include "share.h"
#include "zp.h"


/* Message from P2 to Pj: [x_j (n) | x[0]_j (n) | bit shares (64n bytes)]. */
static size_t msg_bytes(size_t n)
{
	return n * (16 + ZP_POSITIONS);
}

static int helper(struct party *p, size_t n)
{
	size_t nb = n * ZP_POSITIONS;
	struct arena_mark mark = arena_mark(&p->arena);
	ring_t *x = arena_alloc_array(&p->arena, n, sizeof(ring_t));
	uint8_t *m0 = arena_alloc(&p->arena, msg_bytes(n)), *m1 = arena_alloc(&p->arena, msg_bytes(n));
	uint8_t *beta = arena_alloc(&p->arena, n);
	int rc = 0;
	if (!x || !m0 || !m1 || !beta) {
		rc = party_fail(p, ERROR_NOMEM, "P2: compute_msb scratch for %zu", n);
		goto out;
	}
	ring_t *x0 = (ring_t *)m0, *b0 = x0 + n, *x1 = (ring_t *)m1, *b1 = x1 + n;
	zp_t *s0 = m0 + 16 * n, *s1 = m1 + 16 * n;

	/* Step 1: x uniform in Z_{L-1}, shared three ways. */
	prg_u64s(&p->own, x, n);
	prg_u64s(&p->own, x0, n);
	prg_u64s(&p->own, b0, n);
	for (size_t i = 0; i < n; i++) {
		x[i] = ring_to_odd(x[i]);
		x0[i] = ring_to_odd(x0[i]);
		x1[i] = ring_odd_sub(x[i], x0[i]);
		b1[i] = (x[i] & 1) - b0[i];
	}
	prg_mod_u8(&p->own, s0, nb, ZP_PRIME);
	zp_share_bits(s1, s0, x, n);
	if ((rc = party_send(p, 0, m0, msg_bytes(n))) < 0 || (rc = party_send(p, 1, m1, msg_bytes(n))) < 0)
		goto out;

	/* Step 3: P2's side of PrivateCompare. */
	if ((rc = private_compare(p, beta, NULL, NULL, NULL, NULL, n)) < 0)
		goto out;

	/* Step 4: Z_L shares of beta'. */
	prg_u64s(&p->own, x0, n);
	for (size_t i = 0; i < n; i++)
		x1[i] = (ring_t)beta[i] - x0[i];
	if ((rc = party_send_u64(p, 0, x0, n)) < 0 || (rc = party_send_u64(p, 1, x1, n)) < 0)
		goto out;

	/* Step 6: P2 deals the triplets of the product. */
	rc = matmul_elementwise(p, NULL, NULL, NULL, n);
out:
	arena_reset(&p->arena, mark);
	return rc;
}

static int holder(struct party *p, ring_t *out, const ring_t *a, size_t n)
{
	int j = p->id;
	struct prg *g = party_common(p, 1 - j);
	struct arena_mark mark = arena_mark(&p->arena);
	uint8_t *msg = arena_alloc(&p->arena, msg_bytes(n));
	ring_t *r = arena_alloc_array(&p->arena, 4 * n, sizeof(ring_t)); /* r_j, r_peer, gamma, delta */
	uint8_t *beta = arena_alloc(&p->arena, n);
	int rc = 0;
	if (!msg || !r || !beta) {
		rc = party_fail(p, ERROR_NOMEM, "P%d: compute_msb scratch for %zu", j, n);
		goto out;
	}
	ring_t *rpeer = r + n, *gamma = r + 2 * n, *delta = r + 3 * n;
	const ring_t *xj = (const ring_t *)msg, *x0j = xj + n;
	const zp_t *bits = msg + 16 * n;

	prg_bits(g, beta, n);

	/* Step 1: x_j, x[0]_j and the bit shares from P2. */
	if ((rc = party_recv(p, 2, msg, msg_bytes(n))) < 0)
		goto out;

	/* Step 2: r = 2a + x in Z_{L-1}, opened between P0 and P1. */
	for (size_t i = 0; i < n; i++)
		r[i] = ring_odd_add(ring_odd_add(ring_to_odd(a[i]), ring_to_odd(a[i])), xj[i]);
	if ((rc = party_exchange(p, 1 - j, r, rpeer, n * sizeof(ring_t))) < 0)
		goto out;
	for (size_t i = 0; i < n; i++)
		r[i] = ring_odd_add(r[i], rpeer[i]);

	/* Step 3: PrivateCompare(x, r, beta). */
	if ((rc = private_compare(p, NULL, bits, r, beta, NULL, n)) < 0)
		goto out;

	/* Step 4: beta'_j from P2 (into rpeer). */
	if ((rc = party_recv_u64(p, 2, rpeer, n)) < 0)
		goto out;

	/* Step 5: gamma = beta' XOR beta, delta = x[0] XOR r[0], on shares. */
	for (size_t i = 0; i < n; i++) {
		gamma[i] = ring_pick(beta[i], (ring_t)j - rpeer[i], rpeer[i]);
		delta[i] = ring_pick((unsigned)r[i], (ring_t)j - x0j[i], x0j[i]);
	}

	/* Step 6: theta = gamma·delta (into r). */
	if ((rc = matmul_elementwise(p, r, gamma, delta, n)) < 0)
		goto out;

	/* Step 7: alpha = gamma + delta - 2·theta + u. */
	share_zero(p, out, n);
	for (size_t i = 0; i < n; i++)
		out[i] += gamma[i] + delta[i] - 2 * r[i];
out:
	arena_reset(&p->arena, mark);
	return rc;
}

int compute_msb(struct party *p, ring_t *out, const ring_t *a, size_t n)
{
	if (n == 0)
		return 0;
	if (n > SIZE_MAX / (8 * ZP_POSITIONS))
		return party_fail(p, ERROR_RANGE, "P%d: compute_msb of %zu is too large", p->id, n);
	if (p->id != 2 && (!out || !a))
		return party_fail(p, ERROR_INVAL, "P%d: compute_msb without operands", p->id);
	stats_push(p, "compute_msb");
	int rc = p->id == 2 ? helper(p, n) : holder(p, out, a, n);
	stats_pop(p);
	return rc;
}
