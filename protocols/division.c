/* Π_DIV, fixed-point long division (SecureNN section 3.8, second version:
 * the whitepaper's Alg. 8 and the reference code's funcDivisionMPC).
 *
 * Functionality: P0 and P1 hold Z_L shares of x and y (n values each, fixed
 * point with f fractional bits, 0 <= x <= y, y > 0); they get fresh shares
 * of q = x / y with f fractional bits. It is schoolbook long division in
 * base 2: q has no integer bit (q < 1), and bit i after the binary point
 * (worth 2^(f-i) ulps) is 1 iff what is left of x, x - p, still holds
 * y / 2^i. In iteration i = 1..f:
 *
 *   Pj:  z_j = trunc(y_j, i)               y / 2^i, local (SecureML, Alg. 11)
 *   all: b = DReLU(x - p - z)              1 iff x - p >= z      (Alg. 6)
 *   all: p += b·z                          one element-wise MatMul (Alg. 1)
 *   Pj:  q_j += 2^(f-i)·b_j                public constant times a share
 *
 * and at the end Pj outputs q_j + u_j with a fresh zero-sharing u0 + u1 = 0.
 * b is the integer 0/1 of DReLU (not fixed point), so b·z is already in
 * y's scale: no truncation after the product, and no rounding error from it.
 *
 * What each party does:
 *   P0, P1: the truncations and the q update (local), their side of
 *           DReLU and of the product, the final re-randomisation.
 *   P2:     its side of DReLU (ShareConvert and ComputeMSB: it reconstructs
 *           masked values and evaluates PrivateCompare) and deals the
 *           product's triplet. It has no input and no output.
 *
 * Communication per element and iteration: DReLU 664 bytes (8·l·log p + 19·l
 * bits with one Z_67 element per byte), the product b·z 40 bytes (5·l bits:
 * E and F both ways, C1 from P2 to P1), so 704 bytes = (8·l·log p + 24·l)
 * bits, Table 2's DIV(l_D) exactly; 704·n·f in total (division_bytes), 9152
 * bytes per element for f = 13. The reference code sends 824 bytes per
 * element and iteration (664 + 2·80) because its DReLU bits are fixed point
 * and it computes both b·z and b·2^(f-i) as Beaver products with fully
 * transmitted triplets (P2 sends all of A, B, C to both parties). Here the
 * triplet comes from the PRF keys and b·2^(f-i) is a public constant times
 * a share, which is what Table 2 prices.
 *
 * Rounds: DReLU takes 8; the product's E/F exchange needs b (one more round;
 * P2's C1 does not depend on anything and travels alongside); the next
 * DReLU needs p. So 9 per iteration, 9·f in total (117 for f = 13), where
 * the paper counts 10 per iteration (2 for the product).
 *
 * Who sees what: P0 and P1 see E = b - A and F = z - B of every product
 * (uniform, masked by P2's A and B) and what DReLU shows them (2a + x masked
 * by P2's x in ComputeMSB, fresh shares otherwise); P2 sees only DReLU's
 * masked values (uniform ã0, ã1; PrivateCompare vectors masked by the common
 * bits). Nobody sees x, y, the bits b, p or q; f and n are public.
 *
 * Accuracy (the bound stated in division.h). In ulps, with X, Y the
 * encodings, z_i = Y/2^i - e_i where |e_i| < 1 (the truncation rounds
 * Y/2^i down or up). Let P = Σ b_i z_i and R = X - P >= 0 (a bit is only
 * taken when x - p >= z). Q·Y/2^f = Σ b_i Y/2^i = P + Σ b_i e_i, so
 *
 *   X·2^f/Y - Q = (R - Σ b_i e_i)·2^f / Y.
 *
 * R is below Y/2^f + Σ e_i over the iterations after the last untaken bit
 * (an untaken bit i leaves R < z_i, a taken one subtracts z_i from a rest
 * below Y/2^(i-1) + carry), so X·2^f/Y - Q lies in (-f·2^f/Y, 1 + (f-1)·2^f/Y)
 * and |Q - floor(X·2^f/Y)| <= ceil(f·2^f/Y). An exhaustive search over all
 * 2^13 rounding patterns on random pairs finds at most about half of that;
 * with random shares the roundings are unbiased (ceil with probability
 * frac(Y/2^i)) and the typical error is smaller still.
 * x >= y: a bit is left out only when Σ_{k<=i} z_k > X; with z_k <=
 * ceil(Y/2^k) that cannot happen once X >= Y + f - 1, or X >= Y and
 * Y > (f-1)·2^f: all bits set. y <= 0: z <= 0 and p <= 0, x - p - z >= x
 * >= 0, all bits set. x < 0 <= y: p stays 0 and x - z < 0, no bit set. */
#include "division.h"

#include <stdint.h>
#include <string.h>

#include "fixed.h"
#include "matmul.h"
#include "relu.h"
#include "share.h"
#include "share_truncate.h"

size_t division_bytes(size_t n, unsigned frac_bits)
{
	return (size_t)704 * n * frac_bits;
}

/* The f iterations at P2: its side of DReLU and the product's triplet. */
static int assistant(struct party *p, size_t n, unsigned f)
{
	for (unsigned i = 1; i <= f; i++) {
		TRY(drelu(p, NULL, NULL, n));
		TRY(matmul_elementwise(p, NULL, NULL, NULL, n));
	}
	return 0;
}

/* The f iterations at P0 / P1, then the re-randomised output. */
static int holder(struct party *p, ring_t *q, const ring_t *x, const ring_t *y, size_t n,
		  unsigned f)
{
	int j = p->id;
	struct arena_mark mark = arena_mark(&p->arena);
	/* z, a = x - p - z, b, p and the q accumulator: 5 arrays of n. The
	 * accumulator lets q alias x or y. */
	ring_t *z = arena_alloc_array(&p->arena, 5 * n, sizeof(ring_t));
	int rc = 0;
	if (!z) {
		rc = party_fail(p, ERROR_NOMEM, "P%d: division scratch for %zu elements", j, n);
		goto out;
	}
	ring_t *a = z + n, *b = a + n, *acc = b + n, *qacc = acc + n;
	memset(acc, 0, n * sizeof(ring_t));  /* shares of p = 0 */
	memset(qacc, 0, n * sizeof(ring_t)); /* shares of q = 0 */

	/* The loop of WP Alg. 8, bit i worth 2^(f-i) ulps of q. */
	for (unsigned i = 1; i <= f; i++) {
		/* Step 1: z = y / 2^i, a local truncation (Alg. 11) of a copy of
		 * y's shares: no communication. */
		memcpy(z, y, n * sizeof(ring_t));
		share_truncate(p, z, n, i);

		/* Step 2: b = DReLU(x - p - z), 1 iff x - p >= z; all n elements at once. */
		for (size_t k = 0; k < n; k++)
			a[k] = x[k] - acc[k] - z[k];
		rc = drelu(p, b, a, n);
		if (rc < 0)
			goto out;

		/* Step 3: p += b·z, one element-wise product (b is an integer 0/1,
		 * so b·z needs no truncation). z is overwritten by b·z. */
		rc = matmul_elementwise(p, z, b, z, n);
		if (rc < 0)
			goto out;
		ring_add(acc, acc, z, n);

		/* Step 4: q += b·2^(f-i), a public constant times a share. */
		ring_t w = (ring_t)1 << (f - i);
		for (size_t k = 0; k < n; k++)
			qacc[k] += w * b[k];
	}

	/* Step 5: output q + u with a fresh zero-sharing u. */
	share_rerandomize(p, qacc, n);
	memcpy(q, qacc, n * sizeof(ring_t));
out:
	arena_reset(&p->arena, mark);
	return rc;
}

int division(struct party *p, ring_t *q, const ring_t *x, const ring_t *y, size_t n,
	     unsigned frac_bits)
{
	if (frac_bits == 0 || frac_bits > FIXED_MAX_FRAC_BITS)
		return party_fail(p, ERROR_INVAL,
				  "P%d: division with %u fractional bits (1..%d allowed)", p->id,
				  frac_bits, FIXED_MAX_FRAC_BITS);
	if (n == 0)
		return 0;
	/* The scratch here is 40 bytes per element; DReLU's bit vectors take 64
	 * Z_p bytes per element and its messages up to 128: stay far from overflow. */
	if (n > SIZE_MAX / 1024 / frac_bits)
		return party_fail(p, ERROR_RANGE, "P%d: division of %zu elements is too large", p->id,
				  n);
	if (p->id != 2 && (!q || !x || !y))
		return party_fail(p, ERROR_INVAL, "P%d: division without operands", p->id);
	stats_push(p, "division");
	int rc = p->id == 2 ? assistant(p, n, frac_bits) : holder(p, q, x, y, n, frac_bits);
	stats_pop(p);
	return rc;
}
