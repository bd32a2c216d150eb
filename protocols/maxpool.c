/* Π_MP, MaxPool with argmax (SecureNN Alg. 9), its one-hot variant
 * (Alg. 12), and the derivative of MaxPool (Alg. 10).
 *
 * Functionality. P0 and P1 hold Z_L shares of n_windows windows of k values
 * each (window-major: window w is x[w·k .. w·k + k - 1]). They get fresh
 * shares of every window's maximum and of where it is: its index (an
 * integer, not fixed point) or the one-hot vector of that index. The
 * derivative turns index shares into one-hot shares. P2 has no input and
 * no output.
 *
 * MaxPool, a linear scan vectorised over all windows (Alg. 9):
 *   max = x_0, ind = 0 (the zero vector: both shares 0).
 *   for i = 1 .. k-1, all windows at once:
 *     P0, P1: w = x_i - max (local).
 *     all:    beta = DReLU(w), 1 iff x_i >= max: ties go to the LATER index.
 *     all:    max = SS(beta; max, x_i) = max + beta·(x_i - max)
 *             ind = SS(beta; ind, i)   = ind + beta·(i - ind)
 *             as ONE element-wise product of 2·n_windows values, so a step
 *             has one exchange for the selection. The shares of the public
 *             index i are P0: 0, P1: i.
 *   output max + u, ind + v (fresh zero-sharings).
 * P2 deals the DReLU's masks and comparisons and the product's triplets; it
 * must know whether the index is wanted (maxpool's argmax at P2 is NULL or
 * a non-NULL pointer never dereferenced, matching P0 and P1).
 *
 * Cost per window, per step (k - 1 steps):
 *   with argmax    664 (DReLU) + 2·40 (two selections) = 744 bytes
 *   argmax NULL    664 + 40 = 704 bytes (only the max is selected)
 *   one-hot        664 + 40·(1 + k) bytes (the max and k one-hot entries)
 * Rounds: DReLU's plus one for the product, per step: 9·(k - 1) at most
 * (Table 2). The steps depend on each other: the scan is sequential.
 *
 * Derivative (Alg. 10, k a power of two, so k divides 2^64):
 *   P0, P1: a common random r per window (P0-P1 stream), g = r mod k.
 *   P0 -> P2: (ind_0 + r) mod k;  P1 -> P2: ind_1 mod k     (1 byte each)
 *   P2:     t = sum mod k = (ind + g) mod k; sends fresh shares of the
 *           one-hot vector E_t: share0 (from its own stream) to P0, E_t -
 *           share0 to P1                             (k ring elements each)
 *   P0, P1: rotate LEFT by g: D[m] = E[(m + g) mod k], which is 1 exactly
 *           at m = ind; output D + U (fresh zero-sharing).
 * Cost: 2 + 16·k bytes per window, 2 rounds (the paper's 2(k + 1)·64 bits
 * sends the indices as ring elements; so do we for k > 256: 16 + 16·k).
 *
 * Who sees what (spec 3.13). P2 sees DReLU's masked values (uniform) and,
 * in the derivative, (ind + r) mod k, uniform because r is; ind_1 mod k is
 * a uniform share. P0 and P1 see the masked E, F of every product and
 * otherwise only fresh shares. Nobody sees a max, an index or a beta.
 *
 * k == 1: max = x, index 0, one-hot 1; no message is sent (re-randomising
 * with a zero-sharing is local). */
#include "maxpool.h"

#include <stdint.h>
#include <string.h>

#include "matmul.h"
#include "relu.h"
#include "share.h"

/* Which "position" vector the scan selects beside the max. */
enum track {
	TRACK_NONE = 0,   /* max only */
	TRACK_INDEX = 1,  /* one integer index per window */
	TRACK_ONEHOT = 2, /* a one-hot vector of k per window */
};

/* Largest element count of any scratch array: 64 bytes per element keeps
 * the element-wise product's 6n-value scratch and every message in size_t. */
#define MAXPOOL_MAX_ELEMS (SIZE_MAX / 64)

static int check_shape(struct party *p, const char *what, size_t n_windows, size_t k)
{
	if (k == 0 || n_windows == 0)
		return party_fail(p, ERROR_SHAPE, "P%d: %s of %zu windows of %zu values: need at "
				  "least one window of at least one value", p->id, what, n_windows, k);
	/* n_windows·(k + 1) values are selected at once in the one-hot scan. */
	if (k >= MAXPOOL_MAX_ELEMS || n_windows > MAXPOOL_MAX_ELEMS / (k + 1))
		return party_fail(p, ERROR_RANGE, "P%d: %s of %zu windows of %zu values is too large",
				  p->id, what, n_windows, k);
	return 0;
}

/* The scan of Alg. 9 / Alg. 12 at P0, P1 (x, max, pos non-NULL) or P2
 * (all NULL). pos receives n_windows x m values: m = 0 (TRACK_NONE), 1
 * (TRACK_INDEX) or k (TRACK_ONEHOT). Outputs are written at the end only,
 * so they may alias x. */
static int scan(struct party *p, ring_t *max, ring_t *pos, const ring_t *x, size_t n_windows,
		size_t k, enum track track)
{
	size_t n = n_windows;
	size_t m = track == TRACK_NONE ? 0 : track == TRACK_INDEX ? 1 : k;
	size_t nm = n * m;
	size_t n_sel = n + nm; /* values selected per step: the max and the positions */
	int j = p->id;
	int holder = j != 2;
	struct arena_mark mark = arena_mark(&p->arena);
	int rc = 0;

	/* P0, P1: cur (n), state (n x m), w (n), beta (n), and the product's
	 * operands a = [beta | beta per position] and b = [w | target - state]
	 * (n_sel each; the product c overwrites a). */
	ring_t *cur = NULL, *state = NULL, *w = NULL, *beta = NULL, *a = NULL, *b = NULL;
	if (holder) {
		cur = arena_alloc_array(&p->arena, n, sizeof(ring_t));
		state = arena_alloc_array(&p->arena, nm ? nm : 1, sizeof(ring_t));
		beta = arena_alloc_array(&p->arena, n, sizeof(ring_t));
		a = arena_alloc_array(&p->arena, n_sel, sizeof(ring_t));
		b = arena_alloc_array(&p->arena, n_sel, sizeof(ring_t));
		if (!cur || !state || !beta || !a || !b) {
			rc = party_fail(p, ERROR_NOMEM, "P%d: maxpool scratch for %zu windows of %zu",
					j, n, k);
			goto out;
		}
		w = b; /* w is the first block of b: DReLU reads it, the product reuses it */

		/* Step 1 (Alg. 9): max = x_0; ind = 0 (both shares 0) or the
		 * one-hot E_0 (P0: zeros, P1: the unit vector). */
		for (size_t v = 0; v < n; v++)
			cur[v] = x[v * k];
		if (nm)
			memset(state, 0, nm * sizeof(ring_t));
		if (track == TRACK_ONEHOT && j == 1)
			for (size_t v = 0; v < n; v++)
				state[v * k] = 1;
	}

	for (size_t i = 1; i < k; i++) {
		/* Step 2 (Alg. 9): w = x_i - max. */
		if (holder)
			for (size_t v = 0; v < n; v++)
				w[v] = x[v * k + i] - cur[v];

		/* Step 2 (Alg. 9): beta = DReLU(w) for all windows at once. */
		rc = drelu(p, beta, holder ? w : NULL, n);
		if (rc < 0)
			goto out;

		/* Step 2 (Alg. 9 / Alg. 12): SS(beta; max, x_i) and SS(beta; ind, i)
		 * or SS(beta; DMP, E_i), i.e. old + beta·(new - old), in one product:
		 * a = [beta (n) | beta repeated m times per window (n x m)],
		 * b = [w = x_i - max (n) | target - state (n x m)]. */
		if (holder) {
			memcpy(a, beta, n * sizeof(ring_t));
			ring_t *ap = a + n, *bp = b + n;
			for (size_t v = 0; v < n; v++) {
				for (size_t e = 0; e < m; e++) {
					/* Shares of the target: P0 holds 0, P1 holds i (index)
					 * or the unit vector E_i (one-hot). */
					ring_t target = 0;
					if (j == 1)
						target = track == TRACK_INDEX ? (ring_t)i : (ring_t)(e == i);
					ap[v * m + e] = beta[v];
					bp[v * m + e] = target - state[v * m + e];
				}
			}
		}
		rc = matmul_elementwise(p, a, a, b, n_sel);
		if (rc < 0)
			goto out;
		if (holder) {
			ring_add(cur, cur, a, n);
			ring_add(state, state, a + n, nm);
		}
	}

	/* Step 3 (Alg. 9): output max + u, ind + v with fresh zero-sharings. */
	if (holder) {
		share_rerandomize(p, cur, n);
		share_rerandomize(p, state, nm);
		if (max)
			memcpy(max, cur, n * sizeof(ring_t));
		if (nm)
			memcpy(pos, state, nm * sizeof(ring_t));
	}
out:
	arena_reset(&p->arena, mark);
	return rc;
}

int maxpool(struct party *p, ring_t *max, ring_t *argmax, const ring_t *x, size_t n_windows,
	    size_t k)
{
	TRY(check_shape(p, "maxpool", n_windows, k));
	if (p->id != 2 && (!max || !x))
		return party_fail(p, ERROR_INVAL, "P%d: maxpool without input or output", p->id);
	stats_push(p, "maxpool");
	int rc = scan(p, p->id == 2 ? NULL : max, p->id == 2 ? NULL : argmax,
		      p->id == 2 ? NULL : x, n_windows, k, argmax ? TRACK_INDEX : TRACK_NONE);
	stats_pop(p);
	return rc;
}

int maxpool_onehot(struct party *p, ring_t *max, ring_t *onehot, const ring_t *x, size_t n_windows,
		   size_t k)
{
	TRY(check_shape(p, "maxpool_onehot", n_windows, k));
	if (p->id != 2 && (!onehot || !x))
		return party_fail(p, ERROR_INVAL, "P%d: maxpool_onehot without input or output", p->id);
	stats_push(p, "maxpool_onehot");
	int rc = scan(p, p->id == 2 ? NULL : max, p->id == 2 ? NULL : onehot,
		      p->id == 2 ? NULL : x, n_windows, k, TRACK_ONEHOT);
	stats_pop(p);
	return rc;
}

/* Alg. 10 at P2: reconstruct t = (ind + r) mod k, send fresh shares of E_t. */
static int dmp_assistant(struct party *p, size_t n, size_t k, int wide)
{
	struct arena_mark mark = arena_mark(&p->arena);
	int rc = 0;
	size_t nk = n * k;
	/* t (n), share0 (n x k), share1 (n x k); received bytes or ring values (2n). */
	ring_t *t = arena_alloc_array(&p->arena, n, sizeof(ring_t));
	ring_t *s0 = arena_alloc_array(&p->arena, nk, sizeof(ring_t));
	ring_t *s1 = arena_alloc_array(&p->arena, nk, sizeof(ring_t));
	void *in = arena_alloc_array(&p->arena, 2 * n, wide ? sizeof(ring_t) : 1);
	if (!t || !s0 || !s1 || !in) {
		rc = party_fail(p, ERROR_NOMEM, "P2: maxpool derivative scratch for %zu windows of %zu",
				n, k);
		goto out;
	}

	/* Step 2 (Alg. 10): receive (ind_0 + r) and ind_1, reduced mod k. */
	if (wide) {
		ring_t *c = in;
		rc = party_recv_u64(p, 0, c, n);
		if (rc == 0)
			rc = party_recv_u64(p, 1, c + n, n);
		if (rc < 0)
			goto out;
		for (size_t v = 0; v < n; v++)
			t[v] = (c[v] + c[n + v]) & (k - 1); /* (a mod 2^64) mod k = a mod k: k | 2^64 */
	} else {
		uint8_t *c = in;
		rc = party_recv_u8(p, 0, c, n);
		if (rc == 0)
			rc = party_recv_u8(p, 1, c + n, n);
		if (rc < 0)
			goto out;
		for (size_t v = 0; v < n; v++)
			t[v] = ((ring_t)c[v] + c[n + v]) & (k - 1);
	}

	/* Step 3 (Alg. 10): fresh shares of E_t: share0 uniform from P2's own
	 * stream, share1 = E_t - share0. */
	prg_u64s(&p->own, s0, nk);
	for (size_t v = 0; v < n; v++)
		for (size_t e = 0; e < k; e++)
			s1[v * k + e] = (ring_t)(e == t[v]) - s0[v * k + e];
	rc = party_send_u64(p, 0, s0, nk);
	if (rc == 0)
		rc = party_send_u64(p, 1, s1, nk);
out:
	arena_reset(&p->arena, mark);
	return rc;
}

/* Alg. 10 at P0, P1. */
static int dmp_holder(struct party *p, ring_t *onehot, const ring_t *argmax, size_t n, size_t k,
		      int wide)
{
	int j = p->id;
	struct arena_mark mark = arena_mark(&p->arena);
	int rc = 0;
	/* r (n), the received shares of E_t (n x k), the message (n bytes or n values). */
	ring_t *r = arena_alloc_array(&p->arena, n, sizeof(ring_t));
	ring_t *e = arena_alloc_array(&p->arena, n * k, sizeof(ring_t));
	void *msg = arena_alloc_array(&p->arena, n, wide ? sizeof(ring_t) : 1);
	if (!r || !e || !msg) {
		rc = party_fail(p, ERROR_NOMEM, "P%d: maxpool derivative scratch for %zu windows of %zu",
				j, n, k);
		goto out;
	}

	/* Common randomness (Alg. 10): r uniform in Z_L per window, from the
	 * P0-P1 stream (both draw it, only P0 adds it). */
	prg_u64s(party_common(p, 1 - j), r, n);

	/* Step 2 (Alg. 10): P0 sends ind_0 + r, P1 sends ind_1 (mod k, one byte,
	 * when k <= 256). */
	if (wide) {
		ring_t *c = msg;
		for (size_t v = 0; v < n; v++)
			c[v] = argmax[v] + (j == 0 ? r[v] : 0);
		rc = party_send_u64(p, 2, c, n);
	} else {
		uint8_t *c = msg;
		for (size_t v = 0; v < n; v++)
			c[v] = (uint8_t)((argmax[v] + (j == 0 ? r[v] : 0)) & (k - 1));
		rc = party_send_u8(p, 2, c, n);
	}
	if (rc == 0)
		rc = party_recv_u64(p, 2, e, n * k);
	if (rc < 0)
		goto out;

	/* Step 4 (Alg. 10, left rotation): D[m] = E[(m + g) mod k], g = r mod k. */
	for (size_t v = 0; v < n; v++) {
		size_t g = (size_t)(r[v] & (k - 1));
		const ring_t *src = e + v * k;
		ring_t *dst = onehot + v * k;
		memcpy(dst, src + g, (k - g) * sizeof(ring_t));
		memcpy(dst + (k - g), src, g * sizeof(ring_t));
	}

	/* Step 5 (Alg. 10): output D + U. */
	share_rerandomize(p, onehot, n * k);
out:
	arena_reset(&p->arena, mark);
	return rc;
}

int maxpool_derivative(struct party *p, ring_t *onehot, const ring_t *argmax, size_t n_windows,
		       size_t k)
{
	TRY(check_shape(p, "maxpool_derivative", n_windows, k));
	if (k & (k - 1))
		return party_fail(p, ERROR_UNSUPPORTED, "P%d: maxpool_derivative needs a power-of-two "
				  "window (Alg. 10: k must divide 2^64), got k = %zu; use maxpool_onehot "
				  "(Alg. 12) for any k", p->id, k);
	if (p->id != 2 && (!onehot || !argmax))
		return party_fail(p, ERROR_INVAL, "P%d: maxpool_derivative without input or output",
				  p->id);
	stats_push(p, "maxpool_derivative");
	int rc = 0;
	if (k == 1) {
		/* The only index is 0: the one-hot vector is 1 (P1 holds 1). */
		if (p->id != 2) {
			for (size_t v = 0; v < n_windows; v++)
				onehot[v] = p->id == 1;
			share_rerandomize(p, onehot, n_windows);
		}
	} else {
		int wide = k > 256;
		rc = p->id == 2 ? dmp_assistant(p, n_windows, k, wide)
				: dmp_holder(p, onehot, argmax, n_windows, k, wide);
	}
	stats_pop(p);
	return rc;
}
