/* Π_PC, PrivateCompare (SecureNN Alg. 3), vectorised over n comparisons.
 *
 * Functionality: P0, P1 hold Z_67 shares of the 64 bits of x; r and a bit
 * beta are known to both. P2 learns beta' = beta XOR (x > r), nothing else.
 *
 *   P0, P1 (common randomness from their shared key, fresh per comparison):
 *     s_k in Z_67^* (64), a permutation pi of the 64 positions, and a
 *     zero-sharing mask z_k in Z_67 (64).
 *   Step 1: w_k = x_k XOR r_k computed on shares: x_k + j·r_k - 2·r_k·x_k.
 *   Step 2: beta = 0: c_k = j·r_k - x_k + j + Σ_{m>k} w_m, which is 0 exactly
 *           at the highest bit where x and r differ if x has a 1 there
 *           (x > r), and non-zero everywhere else;
 *           beta = 1 (r != 2^64 - 1): the same test of t = r + 1 > x
 *           (x <= r), c_k = -j·t_k + x_k + j + Σ_{m>k} w_m;
 *           beta = 1, r = 2^64 - 1 (x <= r always): P0, P1 fabricate shares
 *           of one zero and 63 ones (fresh u_k in Z_67^*).
 *   Step 3: d_k = s_k·c_k, shares masked with ±z_k, permuted by pi, sent to P2.
 *   Step 4: P2 adds the shares and outputs beta' = 1 iff some d_k = 0.
 *
 * The mask z is our addition: without it P2 would see s_k·c_k^0 and
 * s_k·c_k^1 separately, and since P2 dealt the bit shares (ShareConvert,
 * ComputeMSB) their ratio c_k^0/c_k^1 tells it about r. With it, P2's view
 * is exactly the spec's: a permuted vector of uniform non-zero values with
 * at most one zero, whose presence is masked by beta.
 *
 * PC_FORCE_TRUE comparisons (ShareConvert with r = 0, where "x > r - 1" is
 * known to be true) are fabricated the same way so that P2 learns
 * beta XOR 1 from a view identical to a real comparison.
 *
 * Cost: P0 and P1 each send 64 bytes per comparison: 2·l·log p bits with one
 * byte per Z_67 element; 1 round. P0 and P1 receive nothing. */
#include "private_compare.h"

#include <string.h>

#include "zp.h"

/* Shares of a fabricated comparison: c = 1 at every position, except 0 at
 * position 0 if has_zero (the permutation hides where). */
static void fabricate(zp_t *d, const zp_t *u, const zp_t *s, const zp_t *z, const uint8_t *perm,
		      int j, int has_zero)
{
	zp_t dk[ZP_POSITIONS];
	for (int k = 0; k < ZP_POSITIONS; k++) {
		/* P0: u_k + 1 (or u_k), P1: -u_k; they add to 1 (or 0). */
		unsigned c = j == 0 ? (u[k] + (has_zero && k == 0 ? 0u : 1u)) % ZP_PRIME
				    : (ZP_PRIME - u[k]) % ZP_PRIME;
		unsigned m = (unsigned)s[k] * c % ZP_PRIME;
		unsigned mask = j == 0 ? z[k] : (ZP_PRIME - z[k]) % ZP_PRIME;
		dk[k] = (zp_t)((m + mask) % ZP_PRIME);
	}
	for (int k = 0; k < ZP_POSITIONS; k++)
		d[k] = dk[perm[k]];
}

static int holder(struct party *p, const zp_t *bits, const ring_t *r, const uint8_t *beta,
		  const uint8_t *mode, size_t n)
{
	int j = p->id;
	struct prg *g = party_common(p, 1 - j);
	size_t nb = n * ZP_POSITIONS;
	struct arena_mark mark = arena_mark(&p->arena);
	zp_t *s = arena_alloc(&p->arena, nb);          /* n x 64 multipliers */
	zp_t *z = arena_alloc(&p->arena, nb);          /* n x 64 masks */
	uint8_t *perm = arena_alloc(&p->arena, nb);    /* n x 64 permutations */
	zp_t *d = arena_alloc(&p->arena, nb);          /* n x 64 to send */
	ring_t *R = arena_alloc_array(&p->arena, n, sizeof(ring_t)); /* compared value */
	uint8_t *flip = arena_alloc(&p->arena, n);     /* 1: the beta = 1 form */
	int rc = 0;
	if (!s || !z || !perm || !d || !R || !flip) {
		rc = party_fail(p, ERROR_NOMEM, "P%d: private_compare scratch for %zu", j, n);
		goto out;
	}
	/* Common randomness, drawn in the same order by P0 and P1. */
	prg_nonzero_mod_u8(g, s, nb, ZP_PRIME);
	prg_mod_u8(g, z, nb, ZP_PRIME);
	zp_permutations(perm, g, n);

	/* Branch-free (beta and r are uniform); n_fab > 0 iff a row is fabricated. */
	size_t n_fab = 0;
	for (size_t e = 0; e < n; e++) {
		flip[e] = beta[e] & 1u;
		R[e] = r[e] + flip[e];
		n_fab += flip[e] & (r[e] == UINT64_MAX);
	}
	if (mode)
		for (size_t e = 0; e < n; e++)
			n_fab += mode[e] == PC_FORCE_TRUE;

	/* Steps 1-3 for every comparison at once. */
	zp_pc_shares(d, bits, R, flip, s, z, perm, j, n);

	/* Fabricated comparisons overwrite their rows (rare: r = 2^64 - 1 or forced). */
	if (n_fab) {
		zp_t u[ZP_POSITIONS];
		for (size_t e = 0; e < n; e++) {
			int forced = mode && mode[e] == PC_FORCE_TRUE;
			if (!forced && !(flip[e] && r[e] == UINT64_MAX))
				continue;
			/* P2 must learn beta XOR (x > r): forced means x > r holds,
			 * r = 2^64 - 1 means it does not. */
			int known = forced ? 1 : 0;
			prg_nonzero_mod_u8(g, u, ZP_POSITIONS, ZP_PRIME);
			fabricate(d + e * 64, u, s + e * 64, z + e * 64, perm + e * 64, j,
				  (flip[e] ^ known) & 1);
		}
	}

	/* Step 3: one message to P2. */
	rc = party_send_u8(p, 2, d, nb);
out:
	arena_reset(&p->arena, mark);
	return rc;
}

static int helper(struct party *p, uint8_t *out_beta, size_t n)
{
	size_t nb = n * ZP_POSITIONS;
	struct arena_mark mark = arena_mark(&p->arena);
	zp_t *d0 = arena_alloc(&p->arena, nb), *d1 = arena_alloc(&p->arena, nb);
	int rc = 0;
	if (!d0 || !d1) {
		rc = party_fail(p, ERROR_NOMEM, "P2: private_compare scratch for %zu", n);
		goto out;
	}
	rc = party_recv_u8(p, 0, d0, nb);
	if (rc == 0)
		rc = party_recv_u8(p, 1, d1, nb);
	if (rc == 0)
		/* Step 4: beta' = 1 iff a position reconstructs to zero. */
		zp_pc_reveal(out_beta, d0, d1, n);
out:
	arena_reset(&p->arena, mark);
	return rc;
}

int private_compare(struct party *p, uint8_t *out_beta, const zp_t *bits, const ring_t *r,
		    const uint8_t *beta, const uint8_t *mode, size_t n)
{
	if (n == 0)
		return 0;
	if (n > SIZE_MAX / (4 * ZP_POSITIONS))
		return party_fail(p, ERROR_RANGE, "P%d: private_compare of %zu is too large", p->id, n);
	if (p->id == 2 ? !out_beta : (!bits || !r || !beta))
		return party_fail(p, ERROR_INVAL, "P%d: private_compare without operands", p->id);
	stats_push(p, "private_compare");
	int rc = p->id == 2 ? helper(p, out_beta, n) : holder(p, bits, r, beta, mode, n);
	stats_pop(p);
	return rc;
}
