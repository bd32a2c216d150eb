#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "relu.h"
#include "select_share.h"
#include "support.h"

enum op { OP_DRELU, OP_RELU, OP_SELECT };

struct r_arg {
	const ring_t *a, *x, *y; /* input shares (NULL at P2) */
	ring_t *out, *bits;      /* output shares */
	size_t n;
	enum op op;
};

static int r_fn(struct party *p, void *v)
{
	struct r_arg *a = v;
	switch (a->op) {
	case OP_DRELU:
		return drelu(p, a->out, a->a, a->n);
	case OP_RELU:
		return relu(p, a->out, a->bits, a->a, a->n);
	case OP_SELECT:
		return select_share(p, a->out, a->a, a->x, a->y, a->n);
	}
	return ERROR_INVAL;
}

/* Share a, run op, reveal out (and bits for relu). */
static void run_op(uint64_t seed, enum op op, const ring_t *a, size_t n, ring_t *out, ring_t *bits,
		   struct sim_result *res, const struct sim_config *cfg_in)
{
	ring_t *s[2], *o[2], *b[2];
	for (int j = 0; j < 2; j++) {
		s[j] = support_alloc(n);
		o[j] = support_alloc(n);
		b[j] = support_alloc(n);
	}
	support_share(seed, s[0], s[1], a, n);
	struct r_arg args_[3];
	for (int j = 0; j < 3; j++) {
		struct r_arg x = { j < 2 ? s[j] : NULL, NULL, NULL, j < 2 ? o[j] : NULL,
				   j < 2 ? b[j] : NULL, n, op };
		args_[j] = x;
	}
	void *args[3] = { &args_[0], &args_[1], &args_[2] };
	struct sim_config cfg;
	if (cfg_in)
		cfg = *cfg_in;
	else
		support_config(&cfg, seed);
	int rc = sim_run(&cfg, r_fn, args, res);
	if (!cfg_in)
		cr_assert_eq(rc, 0, "seed %llu: %s", (unsigned long long)seed, res->message);
	for (size_t i = 0; i < n; i++) {
		out[i] = o[0][i] + o[1][i];
		if (bits)
			bits[i] = b[0][i] + b[1][i];
	}
	for (int j = 0; j < 2; j++) {
		free(s[j]);
		free(o[j]);
		free(b[j]);
	}
}

Test(drelu, worked_example, .timeout = 20)
{
	ring_t a[5] = { 0, 1, UINT64_MAX, 8192, (ring_t)0 - 8192 }, out[5];
	struct sim_result res;
	run_op(1, OP_DRELU, a, 5, out, NULL, &res, NULL);
	ring_t want[5] = { 1, 1, 0, 1, 0 };
	for (int i = 0; i < 5; i++)
		cr_assert_eq(out[i], want[i], "index %d", i);
	sim_result_finish(&res);
}

Test(drelu, matches_plaintext_on_random_inputs, .timeout = 60)
{
	enum { N = 100000 };
	ring_t *a = support_alloc(N), *out = support_alloc(N);
	uint64_t st = 123;
	support_fill_signed(&st, a, N, 61); /* |a| < 2^61 */
	struct sim_result res;
	run_op(123, OP_DRELU, a, N, out, NULL, &res, NULL);
	for (size_t i = 0; i < N; i++)
		cr_assert_eq(out[i], (ring_t)(ring_signed(a[i]) >= 0), "index %zu a=%lld", i,
			     (long long)ring_signed(a[i]));
	cr_assert_eq(sim_result_bytes(&res), 664 * (uint64_t)N, "664 bytes per element");
	cr_assert_leq(res.rounds, 8, "paper: 8 rounds");
	sim_result_finish(&res);
	free(a);
	free(out);
}

Test(drelu, range_limits_and_odd_sizes, .timeout = 30)
{
	/* +-(2^62 - 1), +-1, 0 and sizes 1, 3, 63, 65, 1000. */
	static const ring_t edge[] = { 0, 1, UINT64_MAX, ((ring_t)1 << 62) - 1,
				       (ring_t)0 - (((ring_t)1 << 62) - 1), 2, (ring_t)0 - 2 };
	static const size_t sizes[] = { 1, 3, 63, 65, 1000 };
	uint64_t st = 5;
	for (size_t t = 0; t < sizeof(sizes) / sizeof(sizes[0]); t++) {
		size_t n = sizes[t];
		ring_t *a = support_alloc(n), *out = support_alloc(n);
		support_fill_signed(&st, a, n, 62);
		for (size_t i = 0; i < n && i < sizeof(edge) / sizeof(edge[0]); i++)
			a[i] = edge[i];
		struct sim_result res;
		run_op(10 + t, OP_DRELU, a, n, out, NULL, &res, NULL);
		for (size_t i = 0; i < n; i++)
			cr_assert_eq(out[i], (ring_t)(ring_signed(a[i]) >= 0), "n=%zu index %zu", n, i);
		cr_assert_eq(sim_result_bytes(&res), 664 * n);
		sim_result_finish(&res);
		free(a);
		free(out);
	}
}

Test(relu, matches_plaintext_and_keeps_drelu_bits, .timeout = 60)
{
	enum { N = 100000 };
	ring_t *a = support_alloc(N), *out = support_alloc(N), *bits = support_alloc(N);
	uint64_t st = 321;
	support_fill_signed(&st, a, N, 50);
	struct sim_result res;
	run_op(321, OP_RELU, a, N, out, bits, &res, NULL);
	for (size_t i = 0; i < N; i++) {
		int pos = ring_signed(a[i]) >= 0;
		cr_assert_eq(out[i], pos ? a[i] : 0, "index %zu", i);
		cr_assert_eq(bits[i], (ring_t)pos, "index %zu", i);
	}
	cr_assert_eq(sim_result_bytes(&res), (664 + 40) * (uint64_t)N, "DReLU + 40 bytes");
	cr_assert_leq(res.rounds, 10);
	sim_result_finish(&res);
	free(a);
	free(out);
	free(bits);
}

struct sel_arg {
	const ring_t *alpha, *x, *y; /* shares */
	ring_t *out;
	size_t n;
};

static int sel_fn(struct party *p, void *v)
{
	struct sel_arg *a = v;
	return select_share(p, a->out, a->alpha, a->x, a->y, a->n);
}

Test(select_share, picks_by_bit_and_costs_40_bytes, .timeout = 20)
{
	enum { N = 100003 };
	ring_t *al = support_alloc(N), *x = support_alloc(N), *y = support_alloc(N);
	ring_t(*s)[2][N] = malloc(sizeof(ring_t[3][2][N]));
	ring_t(*o)[N] = malloc(sizeof(ring_t[2][N]));
	cr_assert(s && o);
	uint64_t st = 8;
	support_fill(&st, x, N);
	support_fill(&st, y, N);
	for (int i = 0; i < N; i++)
		al[i] = support_rand(&st) & 1;
	support_share(1, s[0][0], s[0][1], al, N);
	support_share(2, s[1][0], s[1][1], x, N);
	support_share(3, s[2][0], s[2][1], y, N);
	struct sel_arg a0 = { s[0][0], s[1][0], s[2][0], o[0], N };
	struct sel_arg a1 = { s[0][1], s[1][1], s[2][1], o[1], N };
	struct sel_arg a2 = { NULL, NULL, NULL, NULL, N };
	void *args[3] = { &a0, &a1, &a2 };
	struct sim_config cfg;
	support_config(&cfg, 8);
	struct sim_result res;
	support_run_ok(&cfg, sel_fn, args, &res);
	for (int i = 0; i < N; i++)
		cr_assert_eq(o[0][i] + o[1][i], al[i] ? y[i] : x[i], "index %d", i);
	cr_assert_eq(sim_result_bytes(&res), 40 * (uint64_t)N);
	cr_assert_leq(res.rounds, 2);
	sim_result_finish(&res);
	free(al);
	free(x);
	free(y);
	free(s);
	free(o);
}

Test(drelu, a_fault_at_every_message_fails_cleanly, .timeout = 120)
{
	ring_t a[3] = { 5, (ring_t)0 - 5, 0 }, out[3];
	/* Count each party's messages first. */
	struct sim_result res;
	run_op(1, OP_DRELU, a, 3, out, NULL, &res, NULL);
	uint64_t ops[3];
	for (int i = 0; i < 3; i++) {
		const struct stats_counters *c = &res.party[i].stats.nodes[0].c;
		ops[i] = 0;
		for (int k = 0; k < 3; k++)
			ops[i] += c->msgs_sent[k] + c->msgs_recv[k];
	}
	sim_result_finish(&res);
	for (int f = 0; f < 3; f++) {
		for (uint64_t k = 0; k < ops[f]; k++) {
			struct sim_config cfg;
			support_config(&cfg, 1);
			cfg.fault_party = f;
			cfg.fault_at = k;
			run_op(1, OP_DRELU, a, 3, out, NULL, &res, &cfg);
			cr_assert_eq(res.status, ERROR_FAULT, "P%d op %llu: %d %s", f, (unsigned long long)k,
				     res.status, res.message);
			cr_assert_eq(res.failed_party, f);
			for (int i = 0; i < 3; i++)
				cr_assert_neq(res.party[i].err == 0 && i == f, 1);
			sim_result_finish(&res);
		}
	}
}
