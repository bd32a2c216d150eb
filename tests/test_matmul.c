#include <criterion/criterion.h>
#include <stdlib.h>

#include "matmul.h"
#include "ring_gemm.h"
#include "support.h"

struct mm_arg {
	const ring_t *X; /* share of X (NULL at P2) */
	const ring_t *Y; /* share of Y (NULL at P2) */
	ring_t *Z;       /* share of the product (NULL at P2) */
	size_t m, n, v;  /* dimensions */
	unsigned flags;  /* MATMUL_TRANS_* */
	int elementwise; /* run matmul_elementwise on n values instead */
};

static int mm_fn(struct party *p, void *v)
{
	struct mm_arg *a = v;
	if (a->elementwise)
		return matmul_elementwise(p, a->Z, a->X, a->Y, a->n);
	return matmul(p, a->Z, a->X, a->Y, a->m, a->n, a->v, a->flags);
}

/* Share X, Y, run, reconstruct into Z; returns the run's result (caller finishes). */
static void run_matmul(uint64_t seed, const ring_t *X, const ring_t *Y, ring_t *Z, size_t m,
		       size_t n, size_t v, unsigned flags, int elementwise, struct sim_result *res)
{
	size_t nx = elementwise ? n : m * n, ny = elementwise ? n : n * v, nz = elementwise ? n : m * v;
	ring_t *x0 = support_alloc(nx), *x1 = support_alloc(nx);
	ring_t *y0 = support_alloc(ny), *y1 = support_alloc(ny);
	ring_t *z0 = support_alloc(nz), *z1 = support_alloc(nz);
	support_share(seed, x0, x1, X, nx);
	support_share(seed + 1000, y0, y1, Y, ny);
	struct mm_arg a0 = { x0, y0, z0, m, n, v, flags, elementwise };
	struct mm_arg a1 = { x1, y1, z1, m, n, v, flags, elementwise };
	struct mm_arg a2 = { NULL, NULL, NULL, m, n, v, flags, elementwise };
	void *args[3] = { &a0, &a1, &a2 };
	struct sim_config cfg;
	support_config(&cfg, seed);
	support_run_ok(&cfg, mm_fn, args, res);
	for (size_t i = 0; i < nz; i++)
		Z[i] = z0[i] + z1[i];
	free(x0);
	free(x1);
	free(y0);
	free(y1);
	free(z0);
	free(z1);
}

Test(matmul, worked_example_2x2, .timeout = 20)
{
	/* [1 2; 3 4] · [5 6; 7 8] = [19 22; 43 50]; and with -1 = 2^64 - 1. */
	ring_t X[4] = { 1, 2, 3, UINT64_MAX }, Y[4] = { 5, 6, 7, 8 }, Z[4];
	struct sim_result res;
	run_matmul(1, X, Y, Z, 2, 2, 2, 0, 0, &res);
	cr_assert_eq(Z[0], 19);
	cr_assert_eq(Z[1], 22);
	cr_assert_eq(Z[2], 3 * 5 - 7);
	cr_assert_eq(Z[3], 3 * 6 - 8);
	sim_result_finish(&res);
}

Test(matmul, matches_plaintext_on_random_shapes, .timeout = 60)
{
	static const size_t dims[][3] = {
		{ 1, 1, 1 }, { 1, 100, 1 }, { 1, 500, 100 }, { 3, 7, 5 }, { 17, 9, 33 },
		{ 64, 65, 1 }, { 2, 1, 129 }, { 784, 128, 10 }, { 31, 64, 17 },
	};
	uint64_t st = 99;
	for (size_t t = 0; t < sizeof(dims) / sizeof(dims[0]); t++) {
		size_t m = dims[t][0], n = dims[t][1], v = dims[t][2];
		for (unsigned flags = 0; flags < 4; flags++) {
			ring_t *X = support_alloc(m * n), *Y = support_alloc(n * v);
			ring_t *Z = support_alloc(m * v), *W = support_alloc(m * v);
			support_fill(&st, X, m * n);
			support_fill(&st, Y, n * v);
			struct sim_result res;
			uint64_t seed = 100 + t * 4 + flags;
			run_matmul(seed, X, Y, Z, m, n, v, flags, 0, &res);
			ring_gemm_naive(W, X, Y, m, n, v,
					((flags & MATMUL_TRANS_X) ? RING_GEMM_TRANS_A : 0u) |
						((flags & MATMUL_TRANS_Y) ? RING_GEMM_TRANS_B : 0u));
			for (size_t i = 0; i < m * v; i++)
				cr_assert_eq(Z[i], W[i], "seed %llu shape %zux%zux%zu flags %u index %zu",
					     (unsigned long long)seed, m, n, v, flags, i);
			/* Communication oracle: Table 1 with PRF, exactly. */
			cr_assert_eq(sim_result_bytes(&res), matmul_bytes(m, n, v),
				     "shape %zux%zux%zu: %llu bytes", m, n, v,
				     (unsigned long long)sim_result_bytes(&res));
			cr_assert_eq(sim_result_msgs(&res), 3);
			cr_assert_leq(res.rounds, 2, "paper: 2 rounds");
			cr_assert_eq(res.rounds, 1, "P2's message and the E/F exchange are one round");
			sim_result_finish(&res);
			free(X);
			free(Y);
			free(Z);
			free(W);
		}
	}
}

Test(matmul, table8_bytes_are_exact, .timeout = 20)
{
	/* Table 8: 0.0032, 0.81, 1.69 MB; section 9: 3216, 808800, 1688800 bytes. */
	cr_assert_eq(matmul_bytes(1, 100, 1), 3208);
	cr_assert_eq(matmul_bytes(1, 500, 100), 808800);
	cr_assert_eq(matmul_bytes(784, 128, 10), 1688832);
}

Test(matmul, elementwise_matches_plaintext_and_costs_40_bytes, .timeout = 20)
{
	static const size_t sizes[] = { 1, 2, 7, 8, 9, 1000, 4097 };
	uint64_t st = 5;
	for (size_t t = 0; t < sizeof(sizes) / sizeof(sizes[0]); t++) {
		size_t n = sizes[t];
		ring_t *x = support_alloc(n), *y = support_alloc(n), *z = support_alloc(n);
		support_fill(&st, x, n);
		support_fill(&st, y, n);
		x[0] = UINT64_MAX;
		y[0] = (ring_t)1 << 63;
		struct sim_result res;
		run_matmul(300 + t, x, y, z, 1, n, 1, 0, 1, &res);
		for (size_t i = 0; i < n; i++)
			cr_assert_eq(z[i], x[i] * y[i], "n=%zu index %zu", n, i);
		cr_assert_eq(sim_result_bytes(&res), 40 * n);
		cr_assert_eq(res.rounds, 1);
		sim_result_finish(&res);
		free(x);
		free(y);
		free(z);
	}
}

Test(matmul, output_shares_are_fresh, .timeout = 20)
{
	/* Same inputs and shares, another seed: P0's output share changes, the value does not. */
	enum { M = 4, N = 3, V = 2 };
	ring_t X[M * N], Y[N * V];
	uint64_t st = 8;
	support_fill(&st, X, M * N);
	support_fill(&st, Y, N * V);
	ring_t x0[M * N], x1[M * N], y0[N * V], y1[N * V], z0[2][M * V], z1[2][M * V];
	support_share(1, x0, x1, X, M * N);
	support_share(2, y0, y1, Y, N * V);
	for (int run = 0; run < 2; run++) {
		struct mm_arg a0 = { x0, y0, z0[run], M, N, V, 0, 0 };
		struct mm_arg a1 = { x1, y1, z1[run], M, N, V, 0, 0 };
		struct mm_arg a2 = { NULL, NULL, NULL, M, N, V, 0, 0 };
		void *args[3] = { &a0, &a1, &a2 };
		struct sim_config cfg;
		support_config(&cfg, 40 + (uint64_t)run);
		struct sim_result res;
		support_run_ok(&cfg, mm_fn, args, &res);
		sim_result_finish(&res);
	}
	for (int i = 0; i < M * V; i++) {
		cr_assert_eq(z0[0][i] + z1[0][i], z0[1][i] + z1[1][i], "i=%d", i);
		cr_assert_neq(z0[0][i], z0[1][i], "i=%d: P0's share did not change", i);
	}
}

Test(matmul, empty_dimension_is_a_shape_error, .timeout = 20)
{
	ring_t X[1] = { 1 }, Y[1] = { 1 }, Z[1];
	struct mm_arg a0 = { X, Y, Z, 0, 1, 1, 0, 0 }, a1 = a0, a2 = { NULL, NULL, NULL, 0, 1, 1, 0, 0 };
	void *args[3] = { &a0, &a1, &a2 };
	struct sim_config cfg;
	support_config(&cfg, 1);
	struct sim_result res;
	int rc = sim_run(&cfg, mm_fn, args, &res);
	cr_assert_eq(rc, ERROR_SHAPE, "got %d: %s", rc, res.message);
	cr_assert_neq(strstr(res.message, "empty dimension"), NULL, "%s", res.message);
	sim_result_finish(&res);
}

Test(matmul, a_fault_at_every_message_fails_cleanly, .timeout = 60)
{
	enum { M = 3, N = 4, V = 2 };
	ring_t x0[M * N] = { 0 }, x1[M * N] = { 0 }, y0[N * V] = { 0 }, y1[N * V] = { 0 };
	ring_t z0[M * V], z1[M * V];
	struct mm_arg a0 = { x0, y0, z0, M, N, V, 0, 0 }, a1 = { x1, y1, z1, M, N, V, 0, 0 };
	struct mm_arg a2 = { NULL, NULL, NULL, M, N, V, 0, 0 };
	void *args[3] = { &a0, &a1, &a2 };
	/* P0: send, recv (2 ops); P1: send, recv, recv (3); P2: send (1). */
	static const int ops[3] = { 2, 3, 1 };
	for (int f = 0; f < 3; f++) {
		for (int k = 0; k <= ops[f]; k++) {
			struct sim_config cfg;
			support_config(&cfg, 1);
			cfg.fault_party = f;
			cfg.fault_at = (uint64_t)k;
			struct sim_result res;
			int rc = sim_run(&cfg, mm_fn, args, &res);
			if (k == ops[f]) {
				cr_assert_eq(rc, 0, "P%d fault after its last op: %s", f, res.message);
			} else {
				cr_assert_eq(rc, ERROR_FAULT, "P%d op %d: rc %d %s", f, k, rc, res.message);
				cr_assert_eq(res.failed_party, f);
			}
			sim_result_finish(&res);
		}
	}
}
