#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "sim.h"

#define MS 1000000ull /* ns */
#define US 1000ull    /* ns */

/* splitmix64: test-side randomness. */
static uint64_t rand_next(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void sleep_ns(uint64_t ns)
{
	struct timespec ts = { .tv_sec = (time_t)(ns / 1000000000u),
			       .tv_nsec = (long)(ns % 1000000000u) };
	while (nanosleep(&ts, &ts) != 0)
		;
}

/* Virtual clock driven by the network only (cpu_scale 0), so simulated times
 * are exact; 10 s receive timeout so a deadlock fails instead of hanging. */
static void config_net(struct sim_config *cfg, const char *spec)
{
	sim_config_default(cfg);
	cfg->cpu_scale = 0.0;
	cfg->timeout_ns = 10000 * MS;
	char err[NETMODEL_TEXT_LEN] = "";
	int rc = netmodel_parse(&cfg->net, spec, err, sizeof(err));
	cr_assert_eq(rc, 0, "spec \"%s\": %s", spec, err);
}

/* ---- Scripted parties ------------------------------------------------------------------- */

enum op_kind { OP_SEND, OP_RECV, OP_EXCHANGE, OP_PUSH, OP_POP };

struct op {
	int party;         /* who runs it */
	enum op_kind kind; /* what it does */
	int peer;          /* the other party (send, recv, exchange) */
	size_t n_bytes;    /* payload size */
	const char *scope; /* OP_PUSH: scope name */
};

/* One message from a to b: a sends, b receives. */
#define MSG(a, b, n) { (a), OP_SEND, (b), (n), NULL }, { (b), OP_RECV, (a), (n), NULL }
#define XCHG(a, b, n) { (a), OP_EXCHANGE, (b), (n), NULL }, { (b), OP_EXCHANGE, (a), (n), NULL }
#define N_OF(x) (sizeof(x) / sizeof((x)[0]))

#define SCRIPT_MAX_OPS 160

struct script_arg {
	const struct op *ops;            /* the whole script, shared read-only */
	size_t n_ops;                    /* its length */
	uint64_t now_ns[SCRIPT_MAX_OPS]; /* this party's clock after each of its ops */
	size_t n_done;                   /* this party's ops completed */
	uint64_t n_calls;                /* p->n_ops at the end (send/recv calls) */
};

/* Payload byte j of the seq-th message on link from->to. */
static unsigned char payload_byte(int from, int to, uint32_t seq, size_t j)
{
	return (unsigned char)(from * 97 + to * 59 + seq * 31u + j * 7u + 3u);
}

static void fill(unsigned char *buf, int from, int to, uint32_t seq, size_t n)
{
	for (size_t j = 0; j < n; j++)
		buf[j] = payload_byte(from, to, seq, j);
}

static int check(struct party *p, const unsigned char *buf, int from, uint32_t seq, size_t n)
{
	for (size_t j = 0; j < n; j++)
		if (buf[j] != payload_byte(from, p->id, seq, j))
			return party_fail(p, ERROR_PROTOCOL,
					  "P%d: message %u from P%d wrong at byte %zu", p->id, seq,
					  from, j);
	return 0;
}

static int script_fn(struct party *p, void *v)
{
	struct script_arg *a = v;
	uint32_t n_sent[PARTY_COUNT] = { 0 }, n_got[PARTY_COUNT] = { 0 };
	for (size_t i = 0; i < a->n_ops; i++) {
		const struct op *o = &a->ops[i];
		if (o->party != p->id)
			continue;
		struct arena_mark mark = arena_mark(&p->arena);
		unsigned char *out = arena_alloc(&p->arena, o->n_bytes);
		unsigned char *in = arena_alloc(&p->arena, o->n_bytes);
		if (!out || !in)
			return party_fail(p, ERROR_NOMEM, "P%d: arena", p->id);
		int rc = 0;
		switch (o->kind) {
		case OP_SEND:
			fill(out, p->id, o->peer, n_sent[o->peer]++, o->n_bytes);
			rc = party_send(p, o->peer, out, o->n_bytes);
			break;
		case OP_RECV:
			rc = party_recv(p, o->peer, in, o->n_bytes);
			if (rc == 0)
				rc = check(p, in, o->peer, n_got[o->peer]++, o->n_bytes);
			break;
		case OP_EXCHANGE:
			fill(out, p->id, o->peer, n_sent[o->peer]++, o->n_bytes);
			rc = party_exchange(p, o->peer, out, in, o->n_bytes);
			if (rc == 0)
				rc = check(p, in, o->peer, n_got[o->peer]++, o->n_bytes);
			break;
		case OP_PUSH:
			stats_push(p, o->scope);
			break;
		case OP_POP:
			stats_pop(p);
			break;
		}
		arena_reset(&p->arena, mark);
		if (rc < 0)
			return rc;
		if (a->n_done < SCRIPT_MAX_OPS)
			a->now_ns[a->n_done] = p->now_ns;
		a->n_done++;
	}
	a->n_calls = p->n_ops;
	return 0;
}

static int run_script(const struct sim_config *cfg, const struct op *ops, size_t n_ops,
		      struct script_arg arg[PARTY_COUNT], struct sim_result *res)
{
	void *args[PARTY_COUNT];
	for (int i = 0; i < PARTY_COUNT; i++) {
		memset(&arg[i], 0, sizeof(arg[i]));
		arg[i].ops = ops;
		arg[i].n_ops = n_ops;
		args[i] = &arg[i];
	}
	return sim_run(cfg, script_fn, args, res);
}

static void run_script_ok(const struct sim_config *cfg, const struct op *ops, size_t n_ops,
			  struct script_arg arg[PARTY_COUNT], struct sim_result *res)
{
	int rc = run_script(cfg, ops, n_ops, arg, res);
	cr_assert_eq(rc, 0, "run failed: %s", res->message);
	cr_assert_eq(res->status, 0);
	cr_assert_eq(res->failed_party, -1);
}

static const struct stats_counters *total(const struct sim_result *res, int party)
{
	return &res->party[party].stats.nodes[0].c;
}

/* ---- A worked example -------------------------------------------------------------------- */

struct ring_arg {
	uint64_t x[16];      /* P0: the values sent; after the run, what came back */
	uint8_t tag[3];      /* P0 -> P1 small side message */
	uint8_t tag_seen[3]; /* P1: what it received */
};

static int ring_fn(struct party *p, void *v)
{
	struct ring_arg *a = v;
	uint64_t y[16];
	switch (p->id) {
	case 0:
		TRY(party_send_u64(p, 1, a->x, 16));
		TRY(party_send_u8(p, 1, a->tag, 3));
		TRY(party_recv_u64(p, 2, a->x, 16));
		return 0;
	case 1:
		TRY(party_recv_u64(p, 0, y, 16));
		TRY(party_recv_u8(p, 0, a->tag_seen, 3));
		for (int i = 0; i < 16; i++)
			y[i] += 1;
		return party_send_u64(p, 2, y, 16);
	default:
		TRY(party_recv_u64(p, 1, y, 16));
		for (int i = 0; i < 16; i++)
			y[i] *= 3;
		return party_send_u64(p, 0, y, 16);
	}
}

Test(sim, round_trip_p0_p1_p2_p0_carries_data, .timeout = 20)
{
	struct sim_config cfg;
	config_net(&cfg, "none");
	struct ring_arg a0 = { .tag = { 7, 8, 9 } }, a1 = { .x = { 0 } }, a2 = { .x = { 0 } };
	uint64_t st = 11;
	uint64_t x[16];
	for (int i = 0; i < 16; i++)
		a0.x[i] = x[i] = rand_next(&st);
	void *args[PARTY_COUNT] = { &a0, &a1, &a2 };
	struct sim_result res;
	int rc = sim_run(&cfg, ring_fn, args, &res);
	cr_assert_eq(rc, 0, "%s", res.message);
	for (int i = 0; i < 16; i++)
		cr_assert_eq(a0.x[i], (x[i] + 1) * 3, "seed=11 i=%d", i);
	for (int i = 0; i < 3; i++)
		cr_assert_eq(a1.tag_seen[i], 7 + i, "i=%d", i);
	/* P0->P1 (2 messages, round 1), P1->P2 (round 2), P2->P0 (round 3). */
	cr_assert_eq(res.rounds, 3);
	cr_assert_eq(res.party[0].rounds, 3);
	cr_assert_eq(res.party[1].rounds, 2);
	cr_assert_eq(res.party[2].rounds, 3);
	cr_assert_eq(sim_result_msgs(&res), 4);
	cr_assert_eq(sim_result_bytes(&res), 3 * 128 + 3);
	cr_assert_eq(total(&res, 0)->bytes_sent[1], 131);
	cr_assert_eq(total(&res, 0)->msgs_sent[1], 2);
	cr_assert_eq(total(&res, 2)->bytes_recv[1], 128);
	sim_result_finish(&res);
}

Test(sim, rejects_missing_config_or_function)
{
	struct sim_config cfg;
	sim_config_default(&cfg);
	struct sim_result res;
	cr_assert_eq(sim_run(NULL, script_fn, NULL, &res), ERROR_INVAL);
	cr_assert_eq(res.status, ERROR_INVAL);
	sim_result_finish(&res);
	cr_assert_eq(sim_run(&cfg, NULL, NULL, &res), ERROR_INVAL);
	cr_assert_eq(res.failed_party, -1);
	sim_result_finish(&res);
}

Test(sim, config_defaults_are_documented_values)
{
	struct sim_config cfg;
	sim_config_default(&cfg);
	cr_assert_eq(cfg.clock, SIM_CLOCK_VIRTUAL);
	cr_assert_float_eq(cfg.cpu_scale, 1.0, 0.0);
	cr_assert_eq(cfg.timeout_ns, 120ull * 1000000000ull);
	cr_assert_eq(cfg.seed, 1);
	cr_assert_eq(cfg.fault_party, -1);
	cr_assert_eq(cfg.arena_chunk_bytes, (size_t)1 << 20);
	for (int i = 0; i < PARTY_COUNT; i++)
		for (int j = 0; j < PARTY_COUNT; j++) {
			cr_assert_eq(cfg.net.link[i][j].latency_ns, 0, "i=%d j=%d", i, j);
			cr_assert_float_eq(cfg.net.link[i][j].bandwidth_Bps, 0.0, 0.0, "i=%d j=%d",
					   i, j);
		}
}

/* ---- Rounds ------------------------------------------------------------------------------ */

Test(sim, chain_of_k_dependent_messages_is_k_rounds, .timeout = 20)
{
	for (size_t k = 1; k <= 9; k++) {
		struct op ops[2 * 9];
		for (size_t i = 0; i < k; i++) {
			int from = (int)(i % 3), to = (int)((i + 1) % 3);
			ops[2 * i] = (struct op){ from, OP_SEND, to, 8 + i, NULL };
			ops[2 * i + 1] = (struct op){ to, OP_RECV, from, 8 + i, NULL };
		}
		struct sim_config cfg;
		config_net(&cfg, "none");
		struct script_arg arg[PARTY_COUNT];
		struct sim_result res;
		run_script_ok(&cfg, ops, 2 * k, arg, &res);
		cr_assert_eq(res.rounds, k, "k=%zu rounds=%u", k, res.rounds);
		cr_assert_eq(sim_result_msgs(&res), k, "k=%zu", k);
		/* The receiver of message i (0-based) reached round i + 1. */
		for (int q = 0; q < PARTY_COUNT; q++) {
			uint32_t want = 0;
			for (size_t i = 0; i < k; i++)
				if ((int)((i + 1) % 3) == q || (int)(i % 3) == q)
					want = (uint32_t)(i + 1);
			cr_assert_eq(res.party[q].rounds, want, "k=%zu party=%d", k, q);
			cr_assert_eq(total(&res, q)->rounds, want, "k=%zu party=%d (root node)", k,
				     q);
		}
		sim_result_finish(&res);
	}
}

Test(sim, independent_messages_sent_before_receiving_are_one_round, .timeout = 20)
{
	for (size_t k = 1; k <= 6; k++) {
		/* Every party sends k messages to each peer, then receives everything. */
		struct op ops[3 * 2 * 6 * 2];
		size_t n = 0;
		for (int q = 0; q < PARTY_COUNT; q++)
			for (size_t i = 0; i < k; i++)
				for (int d = 1; d <= 2; d++)
					ops[n++] = (struct op){ q, OP_SEND, (q + d) % 3, 16, NULL };
		for (int q = 0; q < PARTY_COUNT; q++)
			for (size_t i = 0; i < k; i++)
				for (int d = 1; d <= 2; d++)
					ops[n++] = (struct op){ q, OP_RECV, (q + d) % 3, 16, NULL };
		struct sim_config cfg;
		config_net(&cfg, "none");
		struct script_arg arg[PARTY_COUNT];
		struct sim_result res;
		run_script_ok(&cfg, ops, n, arg, &res);
		cr_assert_eq(res.rounds, 1, "k=%zu rounds=%u", k, res.rounds);
		for (int q = 0; q < PARTY_COUNT; q++)
			cr_assert_eq(res.party[q].rounds, 1, "k=%zu party=%d", k, q);
		cr_assert_eq(sim_result_msgs(&res), 6 * k, "k=%zu", k);
		sim_result_finish(&res);
	}
}

Test(sim, exchange_is_one_round_per_exchange, .timeout = 20)
{
	/* P0 and P1 both send, then both receive: one round. */
	static const struct op by_hand[] = {
		{ 0, OP_SEND, 1, 8, NULL }, { 1, OP_SEND, 0, 8, NULL },
		{ 0, OP_RECV, 1, 8, NULL }, { 1, OP_RECV, 0, 8, NULL },
	};
	struct sim_config cfg;
	config_net(&cfg, "none");
	struct script_arg arg[PARTY_COUNT];
	struct sim_result res;
	run_script_ok(&cfg, by_hand, N_OF(by_hand), arg, &res);
	cr_assert_eq(res.rounds, 1);
	cr_assert_eq(res.party[0].rounds, 1);
	cr_assert_eq(res.party[1].rounds, 1);
	cr_assert_eq(res.party[2].rounds, 0, "P2 took no part");
	sim_result_finish(&res);

	/* With party_exchange, m exchanges in a row are m rounds. */
	for (size_t m = 1; m <= 4; m++) {
		struct op ops[2 * 4];
		for (size_t i = 0; i < m; i++) {
			ops[2 * i] = (struct op){ 0, OP_EXCHANGE, 1, 24, NULL };
			ops[2 * i + 1] = (struct op){ 1, OP_EXCHANGE, 0, 24, NULL };
		}
		run_script_ok(&cfg, ops, 2 * m, arg, &res);
		cr_assert_eq(res.rounds, m, "m=%zu rounds=%u", m, res.rounds);
		cr_assert_eq(sim_result_msgs(&res), 2 * m, "m=%zu", m);
		cr_assert_eq(sim_result_bytes(&res), 2 * 24 * m, "m=%zu", m);
		sim_result_finish(&res);
	}
}

/* ---- Byte and message accounting ---------------------------------------------------------- */

Test(sim, bytes_and_messages_per_link_and_direction, .timeout = 20)
{
	for (uint64_t seed = 1; seed <= 6; seed++) {
		uint64_t st = seed;
		uint64_t want_bytes[3][3] = { { 0 } }, want_msgs[3][3] = { { 0 } };
		struct op ops[SCRIPT_MAX_OPS];
		size_t n = 0;
		size_t sizes[3][3][6];
		for (int i = 0; i < 3; i++)
			for (int j = 0; j < 3; j++) {
				if (i == j)
					continue;
				want_msgs[i][j] = rand_next(&st) % 6;
				for (size_t m = 0; m < want_msgs[i][j]; m++) {
					uint64_t r = rand_next(&st);
					sizes[i][j][m] = (r % 5 == 0) ? 0 : (size_t)(r >> 8) % 3000;
					want_bytes[i][j] += sizes[i][j][m];
					ops[n++] =
						(struct op){ i, OP_SEND, j, sizes[i][j][m], NULL };
				}
			}
		for (int j = 0; j < 3; j++)
			for (int i = 0; i < 3; i++)
				for (size_t m = 0; i != j && m < want_msgs[i][j]; m++)
					ops[n++] =
						(struct op){ j, OP_RECV, i, sizes[i][j][m], NULL };
		struct sim_config cfg;
		config_net(&cfg, "lat=1ms,bw=100MB/s");
		struct script_arg arg[PARTY_COUNT];
		struct sim_result res;
		run_script_ok(&cfg, ops, n, arg, &res);
		uint64_t all_bytes = 0, all_msgs = 0;
		for (int i = 0; i < 3; i++) {
			const struct stats_counters *c = total(&res, i);
			for (int j = 0; j < 3; j++) {
				cr_assert_eq(c->bytes_sent[j], want_bytes[i][j],
					     "seed=%llu P%d->P%d", (unsigned long long)seed, i, j);
				cr_assert_eq(c->msgs_sent[j], want_msgs[i][j], "seed=%llu P%d->P%d",
					     (unsigned long long)seed, i, j);
				cr_assert_eq(c->bytes_recv[j], want_bytes[j][i],
					     "seed=%llu P%d<-P%d", (unsigned long long)seed, i, j);
				cr_assert_eq(c->msgs_recv[j], want_msgs[j][i], "seed=%llu P%d<-P%d",
					     (unsigned long long)seed, i, j);
				all_bytes += want_bytes[i][j];
				all_msgs += want_msgs[i][j];
			}
			cr_assert_eq(c->bytes_sent[i], 0, "seed=%llu P%d to itself",
				     (unsigned long long)seed, i);
			cr_assert_eq(stats_bytes_sent(c),
				     want_bytes[i][0] + want_bytes[i][1] + want_bytes[i][2],
				     "seed=%llu P%d", (unsigned long long)seed, i);
			cr_assert_eq(stats_msgs_sent(c),
				     want_msgs[i][0] + want_msgs[i][1] + want_msgs[i][2],
				     "seed=%llu P%d", (unsigned long long)seed, i);
		}
		cr_assert_eq(sim_result_bytes(&res), all_bytes, "seed=%llu",
			     (unsigned long long)seed);
		cr_assert_eq(sim_result_msgs(&res), all_msgs, "seed=%llu",
			     (unsigned long long)seed);
		cr_assert_eq(res.rounds, all_msgs ? 1u : 0u, "seed=%llu", (unsigned long long)seed);
		sim_result_finish(&res);
	}
}

/* ---- Scopes ------------------------------------------------------------------------------- */

static void assert_inclusive(const struct sim_result *res)
{
	for (int q = 0; q < PARTY_COUNT; q++) {
		const struct stats *s = &res->party[q].stats;
		for (size_t n = 1; n < s->n_nodes; n++) {
			const struct stats_counters *c = &s->nodes[n].c;
			int par = s->nodes[n].parent;
			cr_assert_geq(par, 0, "party=%d node=%zu", q, n);
			const struct stats_counters *pc = &s->nodes[par].c;
			for (int k = 0; k < 3; k++) {
				cr_assert_geq(pc->bytes_sent[k], c->bytes_sent[k],
					      "party=%d node=%s k=%d", q, s->nodes[n].name, k);
				cr_assert_geq(pc->msgs_sent[k], c->msgs_sent[k],
					      "party=%d node=%s k=%d", q, s->nodes[n].name, k);
				cr_assert_geq(pc->bytes_recv[k], c->bytes_recv[k],
					      "party=%d node=%s k=%d", q, s->nodes[n].name, k);
				cr_assert_geq(pc->msgs_recv[k], c->msgs_recv[k],
					      "party=%d node=%s k=%d", q, s->nodes[n].name, k);
				cr_assert_geq(pc->wait_ns[k], c->wait_ns[k],
					      "party=%d node=%s k=%d", q, s->nodes[n].name, k);
			}
			cr_assert_geq(pc->sim_ns, c->sim_ns, "party=%d node=%s", q,
				      s->nodes[n].name);
			cr_assert_geq(pc->wall_ns, c->wall_ns, "party=%d node=%s", q,
				      s->nodes[n].name);
			cr_assert_geq(pc->cpu_ns, c->cpu_ns, "party=%d node=%s", q,
				      s->nodes[n].name);
			cr_assert_geq(pc->rounds, c->rounds, "party=%d node=%s", q,
				      s->nodes[n].name);
		}
	}
}

#define PUSH(q, name) { (q), OP_PUSH, 0, 0, (name) }
#define POP(q) { (q), OP_POP, 0, 0, NULL }

Test(sim, scopes_nest_accumulate_and_are_inclusive, .timeout = 20)
{
	static const struct op ops[] = {
		PUSH(0, "a"), { 0, OP_SEND, 1, 10, NULL },
		PUSH(0, "b"), { 0, OP_SEND, 1, 20, NULL }, POP(0), POP(0),
		PUSH(0, "a"), PUSH(0, "b"), { 0, OP_SEND, 1, 5, NULL }, POP(0), POP(0),
		PUSH(0, "a"), PUSH(0, "b"), { 0, OP_SEND, 1, 5, NULL }, POP(0), POP(0),
		PUSH(0, "a"), PUSH(0, "b"), { 0, OP_SEND, 1, 5, NULL }, POP(0), POP(0),
		PUSH(0, "c"), PUSH(0, "b"), POP(0), POP(0),
		POP(0), /* unbalanced: ignored, the root stays open */
		{ 1, OP_RECV, 0, 10, NULL }, { 1, OP_RECV, 0, 20, NULL },
		PUSH(1, "r"), { 1, OP_RECV, 0, 5, NULL }, { 1, OP_RECV, 0, 5, NULL },
		{ 1, OP_RECV, 0, 5, NULL }, POP(1),
	};
	struct sim_config cfg;
	config_net(&cfg, "lat=10ms,bw=1MB/s");
	struct script_arg arg[PARTY_COUNT];
	struct sim_result res;
	run_script_ok(&cfg, ops, N_OF(ops), arg, &res);

	const struct stats *s0 = &res.party[0].stats;
	cr_assert_eq(stats_find(s0, ""), 0);
	int a = stats_find(s0, "a"), ab = stats_find(s0, "a/b"), c = stats_find(s0, "c"),
	    cb = stats_find(s0, "c/b");
	cr_assert_gt(a, 0);
	cr_assert_gt(ab, 0);
	cr_assert_gt(c, 0);
	cr_assert_gt(cb, 0);
	cr_assert_neq(ab, cb, "same name under different parents: different nodes");
	cr_assert_eq(stats_find(s0, "b"), -1, "b is not at the top level");
	cr_assert_eq(stats_find(s0, "a/b/c"), -1);
	cr_assert_eq(stats_find(s0, "x"), -1);
	cr_assert_eq(s0->n_nodes, 5, "total, a, a/b, c, c/b");
	cr_assert_eq(s0->nodes[ab].parent, a);
	char path[64];
	stats_path(s0, ab, path, sizeof(path));
	cr_assert_str_eq(path, "a/b");
	stats_path(s0, 0, path, sizeof(path));
	cr_assert_str_eq(path, "");

	cr_assert_eq(s0->nodes[0].c.calls, 1);
	cr_assert_eq(s0->nodes[a].c.calls, 4);
	cr_assert_eq(s0->nodes[ab].c.calls, 4);
	cr_assert_eq(s0->nodes[c].c.calls, 1);
	cr_assert_eq(s0->nodes[0].c.bytes_sent[1], 45);
	cr_assert_eq(s0->nodes[0].c.msgs_sent[1], 5);
	cr_assert_eq(s0->nodes[a].c.bytes_sent[1], 45);
	cr_assert_eq(s0->nodes[a].c.msgs_sent[1], 5);
	cr_assert_eq(s0->nodes[ab].c.bytes_sent[1], 35);
	cr_assert_eq(s0->nodes[ab].c.msgs_sent[1], 4);
	cr_assert_eq(s0->nodes[c].c.bytes_sent[1], 0);
	cr_assert_eq(s0->nodes[a].c.rounds, 1, "round 0 -> 1 in the first entry only");
	cr_assert_eq(s0->nodes[0].c.rounds, 1);

	/* P1: 10 B arrives at 10.010 ms, 20 B at 10.030 ms (queued behind it),
	 * then 5 B each at 10.035, 10.040, 10.045 ms: scope r spans 15 us. */
	const struct stats *s1 = &res.party[1].stats;
	int r = stats_find(s1, "r");
	cr_assert_gt(r, 0);
	cr_assert_eq(s1->nodes[r].c.msgs_recv[0], 3);
	cr_assert_eq(s1->nodes[r].c.bytes_recv[0], 15);
	cr_assert_eq(s1->nodes[r].c.sim_ns, 15 * US, "r: %llu ns",
		     (unsigned long long)s1->nodes[r].c.sim_ns);
	cr_assert_eq(s1->nodes[0].c.sim_ns, 10 * MS + 45 * US);
	cr_assert_eq(res.party[1].sim_ns, 10 * MS + 45 * US);
	cr_assert_eq(res.party[0].sim_ns, 0, "sending does not advance the sender's clock");
	assert_inclusive(&res);
	sim_result_finish(&res);
}

struct deep_arg {
	int depth; /* scopes to nest */
};

static int deep_fn(struct party *p, void *v)
{
	struct deep_arg *a = v;
	uint8_t buf[16] = { 0 };
	if (p->id == 1) {
		TRY(party_recv(p, 0, buf, 8));
		TRY(party_recv(p, 0, buf, 4));
		return party_recv(p, 0, buf, 16);
	}
	if (p->id != 0)
		return 0;
	char name[16];
	for (int d = 0; d < a->depth; d++) {
		snprintf(name, sizeof(name), "d%d", d);
		stats_push(p, name);
	}
	TRY(party_send(p, 1, buf, 8));
	/* Pop only the dropped levels: the deepest kept scope is still open. */
	int kept = STATS_MAX_DEPTH - 1;
	for (int d = kept; d < a->depth; d++)
		stats_pop(p);
	TRY(party_send(p, 1, buf, 4));
	for (int d = 0; d < kept; d++)
		stats_pop(p);
	stats_push(p, "x");
	TRY(party_send(p, 1, buf, 16));
	stats_pop(p);
	return 0;
}

Test(sim, scopes_deeper_than_the_limit_are_counted_in_the_deepest_one, .timeout = 20)
{
	struct sim_config cfg;
	config_net(&cfg, "none");
	struct deep_arg da = { .depth = STATS_MAX_DEPTH + 6 };
	void *args[PARTY_COUNT] = { &da, &da, &da };
	struct sim_result res;
	int rc = sim_run(&cfg, deep_fn, args, &res);
	cr_assert_eq(rc, 0, "%s", res.message);
	const struct stats *s = &res.party[0].stats;
	/* The root is depth 1, so STATS_MAX_DEPTH - 1 scopes fit. */
	int kept = STATS_MAX_DEPTH - 1;
	cr_assert_eq(s->n_dropped, (uint64_t)(da.depth - kept), "n_dropped=%llu",
		     (unsigned long long)s->n_dropped);
	char path[STATS_MAX_DEPTH * 5] = "";
	size_t used = 0;
	for (int d = 0; d < kept; d++)
		used += (size_t)snprintf(path + used, sizeof(path) - used, "%sd%d", d ? "/" : "",
					 d);
	int deepest = stats_find(s, path);
	cr_assert_gt(deepest, 0, "path %s", path);
	cr_assert_eq(s->nodes[deepest].c.bytes_sent[1], 12, "8 B sent below it, 4 B in it");
	cr_assert_eq(s->nodes[deepest].c.msgs_sent[1], 2);
	int d0 = stats_find(s, "d0");
	int x = stats_find(s, "x");
	cr_assert_gt(x, 0, "pops paired up, so x is at the top level again");
	cr_assert_eq(s->nodes[x].c.bytes_sent[1], 16);
	cr_assert_eq(s->nodes[d0].c.bytes_sent[1], 12, "x's bytes are not in d0");
	cr_assert_eq(s->nodes[0].c.bytes_sent[1], 28);
	assert_inclusive(&res);
	sim_result_finish(&res);
}

/* ---- Virtual clock ------------------------------------------------------------------------ */

static void assert_times(const struct script_arg arg[PARTY_COUNT],
			 const uint64_t *want[PARTY_COUNT], const size_t n_want[PARTY_COUNT],
			 const char *what)
{
	for (int q = 0; q < PARTY_COUNT; q++) {
		cr_assert_eq(arg[q].n_done, n_want[q], "%s: party %d did %zu ops", what, q,
			     arg[q].n_done);
		for (size_t i = 0; i < n_want[q]; i++)
			cr_assert_eq(arg[q].now_ns[i], want[q][i],
				     "%s: party %d op %zu: %llu ns, want %llu", what, q, i,
				     (unsigned long long)arg[q].now_ns[i],
				     (unsigned long long)want[q][i]);
	}
}

Test(sim, one_message_arrives_after_latency_plus_transfer, .timeout = 20)
{
	static const struct op ops[] = { MSG(0, 1, 1000) };
	struct sim_config cfg;
	config_net(&cfg, "lat=10ms,bw=1MB/s");
	struct script_arg arg[PARTY_COUNT];
	struct sim_result res;
	run_script_ok(&cfg, ops, N_OF(ops), arg, &res);
	cr_assert_eq(arg[1].now_ns[0], 11 * MS, "%llu", (unsigned long long)arg[1].now_ns[0]);
	cr_assert_eq(res.party[0].sim_ns, 0);
	cr_assert_eq(res.party[1].sim_ns, 11 * MS);
	cr_assert_eq(res.party[2].sim_ns, 0);
	cr_assert_eq(res.sim_ns, 11 * MS);
	sim_result_finish(&res);
}

Test(sim, back_to_back_messages_queue_on_a_link, .timeout = 20)
{
	struct sim_config cfg;
	config_net(&cfg, "lat=10ms,bw=1MB/s");
	struct script_arg arg[PARTY_COUNT];
	struct sim_result res;

	/* Two 1000-byte sends: the second waits for the first to leave. */
	static const struct op two[] = {
		{ 0, OP_SEND, 1, 1000, NULL }, { 0, OP_SEND, 1, 1000, NULL },
		{ 1, OP_RECV, 0, 1000, NULL }, { 1, OP_RECV, 0, 1000, NULL },
	};
	run_script_ok(&cfg, two, N_OF(two), arg, &res);
	cr_assert_eq(arg[1].now_ns[0], 11 * MS);
	cr_assert_eq(arg[1].now_ns[1], 12 * MS);
	cr_assert_eq(res.sim_ns, 12 * MS);
	sim_result_finish(&res);

	/* 1000 then 3000 bytes: 10 + 1 ms, then 10 + 1 + 3 ms. */
	static const struct op mixed[] = {
		{ 0, OP_SEND, 1, 1000, NULL }, { 0, OP_SEND, 1, 3000, NULL },
		{ 1, OP_RECV, 0, 1000, NULL }, { 1, OP_RECV, 0, 3000, NULL },
	};
	run_script_ok(&cfg, mixed, N_OF(mixed), arg, &res);
	cr_assert_eq(arg[1].now_ns[0], 11 * MS);
	cr_assert_eq(arg[1].now_ns[1], 14 * MS);
	sim_result_finish(&res);

	/* Different links do not queue behind each other. */
	static const struct op fan[] = {
		{ 0, OP_SEND, 1, 1000, NULL }, { 0, OP_SEND, 2, 1000, NULL },
		{ 1, OP_RECV, 0, 1000, NULL }, { 2, OP_RECV, 0, 1000, NULL },
	};
	run_script_ok(&cfg, fan, N_OF(fan), arg, &res);
	cr_assert_eq(arg[1].now_ns[0], 11 * MS);
	cr_assert_eq(arg[2].now_ns[0], 11 * MS);
	sim_result_finish(&res);

	/* A link idle since 1 ms does not delay a send at 11 ms: it arrives at 22 ms. */
	static const struct op idle[] = {
		{ 0, OP_SEND, 1, 1000, NULL }, MSG(2, 0, 1000), { 0, OP_SEND, 1, 1000, NULL },
		{ 1, OP_RECV, 0, 1000, NULL }, { 1, OP_RECV, 0, 1000, NULL },
	};
	run_script_ok(&cfg, idle, N_OF(idle), arg, &res);
	cr_assert_eq(arg[0].now_ns[1], 11 * MS);
	cr_assert_eq(arg[1].now_ns[0], 11 * MS);
	cr_assert_eq(arg[1].now_ns[1], 22 * MS);
	sim_result_finish(&res);
}

Test(sim, ping_pong_of_n_messages_takes_n_times_latency_plus_transfer, .timeout = 20)
{
	for (size_t n = 1; n <= 8; n++) {
		/* n messages of 500 bytes alternating P0 -> P1 -> P0 ...: 10.5 ms each. */
		struct op ops[2 * 8];
		for (size_t i = 0; i < n; i++) {
			int from = (int)(i % 2), to = 1 - from;
			ops[2 * i] = (struct op){ from, OP_SEND, to, 500, NULL };
			ops[2 * i + 1] = (struct op){ to, OP_RECV, from, 500, NULL };
		}
		struct sim_config cfg;
		config_net(&cfg, "lat=10ms,bw=1MB/s");
		struct script_arg arg[PARTY_COUNT];
		struct sim_result res;
		run_script_ok(&cfg, ops, 2 * n, arg, &res);
		uint64_t leg = 10 * MS + 500 * US;
		cr_assert_eq(res.sim_ns, n * leg, "n=%zu sim_ns=%llu", n,
			     (unsigned long long)res.sim_ns);
		/* Message i arrives at (i + 1) legs. P0 and P1 each do one op per message,
		 * so message i is op i of its receiver. */
		for (size_t i = 0; i < n; i++) {
			int to = 1 - (int)(i % 2);
			cr_assert_eq(arg[to].now_ns[i], (i + 1) * leg, "n=%zu message=%zu: %llu ns",
				     n, i, (unsigned long long)arg[to].now_ns[i]);
		}
		cr_assert_eq(res.party[n % 2 == 1 ? 1 : 0].sim_ns, n * leg, "n=%zu", n);
		cr_assert_eq(res.party[n % 2 == 1 ? 0 : 1].sim_ns, (n - 1) * leg, "n=%zu", n);
		cr_assert_eq(res.party[2].sim_ns, 0, "n=%zu", n);
		cr_assert_eq(res.rounds, n, "n=%zu", n);
		sim_result_finish(&res);
	}
}

Test(sim, exchange_both_sides_see_the_other_message_arrive, .timeout = 20)
{
	/* P0 sends 1000 B, P1 sends 3000 B at the same time: P1 has P0's at 11 ms, P0 has
	 * P1's at 13 ms; a second exchange starts at 11 resp. 13 ms. */
	static const struct op ops[] = {
		{ 0, OP_SEND, 1, 1000, NULL }, { 1, OP_SEND, 0, 3000, NULL },
		{ 0, OP_RECV, 1, 3000, NULL }, { 1, OP_RECV, 0, 1000, NULL },
		XCHG(0, 1, 2000),
	};
	struct sim_config cfg;
	config_net(&cfg, "lat=10ms,bw=1MB/s");
	struct script_arg arg[PARTY_COUNT];
	struct sim_result res;
	run_script_ok(&cfg, ops, N_OF(ops), arg, &res);
	cr_assert_eq(arg[0].now_ns[1], 13 * MS);
	cr_assert_eq(arg[1].now_ns[1], 11 * MS);
	/* Exchange: P1 sends at 11 -> arrives 23 ms at P0 (max(13, 23)); P0 sends at 13 -> 25 at
	 * P1. */
	cr_assert_eq(arg[0].now_ns[2], 23 * MS, "%llu", (unsigned long long)arg[0].now_ns[2]);
	cr_assert_eq(arg[1].now_ns[2], 25 * MS, "%llu", (unsigned long long)arg[1].now_ns[2]);
	cr_assert_eq(res.sim_ns, 25 * MS);
	cr_assert_eq(res.rounds, 2);
	sim_result_finish(&res);
}

Test(sim, per_message_overhead_counts_in_the_transfer_time, .timeout = 20)
{
	static const struct op ops[] = {
		{ 0, OP_SEND, 1, 1000, NULL }, { 0, OP_SEND, 1, 1000, NULL },
		{ 1, OP_RECV, 0, 1000, NULL }, { 1, OP_RECV, 0, 1000, NULL },
		MSG(0, 2, 0),
	};
	struct sim_config cfg;
	config_net(&cfg, "lat=10ms,bw=1MB/s,overhead=24");
	struct script_arg arg[PARTY_COUNT];
	struct sim_result res;
	run_script_ok(&cfg, ops, N_OF(ops), arg, &res);
	cr_assert_eq(arg[1].now_ns[0], 11 * MS + 24 * US, "%llu",
		     (unsigned long long)arg[1].now_ns[0]);
	cr_assert_eq(arg[1].now_ns[1], 12 * MS + 48 * US, "%llu",
		     (unsigned long long)arg[1].now_ns[1]);
	cr_assert_eq(arg[2].now_ns[0], 10 * MS + 24 * US,
		     "an empty message still pays the overhead");
	/* Overhead is network time only; the byte counters are payload. */
	cr_assert_eq(total(&res, 0)->bytes_sent[1], 2000);
	cr_assert_eq(total(&res, 0)->bytes_sent[2], 0);
	cr_assert_eq(total(&res, 0)->msgs_sent[2], 1);
	sim_result_finish(&res);
}

/* Six dependent 8-byte messages: P0->P2, P2->P0, P0->P1, P1->P0, P1->P2, P2->P1. */
static const struct op link_ring[] = {
	MSG(0, 2, 8), MSG(2, 0, 8), MSG(0, 1, 8), { 1, OP_SEND, 0, 8, NULL },
	{ 1, OP_SEND, 2, 8, NULL }, { 0, OP_RECV, 1, 8, NULL }, { 2, OP_RECV, 1, 8, NULL },
	MSG(2, 1, 8),
};

Test(sim, per_link_overrides_apply_to_the_right_direction, .timeout = 20)
{
	struct {
		const char *spec;
		uint64_t p0[4], p1[4], p2[4]; /* clocks after each op, ms */
	} cases[] = {
		/* P0 ops: send P2, recv P2, send P1, recv P1; P1: recv P0, send P0, send P2,
		 * recv P2; P2: recv P0, send P0, recv P1, send P1. */
		{ "lat=1ms", { 0, 2, 2, 4 }, { 3, 3, 3, 5 }, { 1, 1, 4, 4 } },
		{ "lat=1ms;P0->P2:lat=5ms", { 0, 6, 6, 8 }, { 7, 7, 7, 9 }, { 5, 5, 8, 8 } },
		{ "lat=1ms;P2->P0:lat=5ms", { 0, 6, 6, 8 }, { 7, 7, 7, 9 }, { 1, 1, 8, 8 } },
		{ "lat=1ms;P0-P2:lat=5ms", { 0, 10, 10, 12 }, { 11, 11, 11, 13 },
		  { 5, 5, 12, 12 } },
		{ "lat=1ms;P1->P2:lat=3ms", { 0, 2, 2, 4 }, { 3, 3, 3, 7 }, { 1, 1, 6, 6 } },
		{ "lat=1ms;P2->P1:lat=3ms", { 0, 2, 2, 4 }, { 3, 3, 3, 7 }, { 1, 1, 4, 4 } },
	};
	for (size_t c = 0; c < N_OF(cases); c++) {
		struct sim_config cfg;
		config_net(&cfg, cases[c].spec);
		struct script_arg arg[PARTY_COUNT];
		struct sim_result res;
		run_script_ok(&cfg, link_ring, N_OF(link_ring), arg, &res);
		uint64_t w0[4], w1[4], w2[4], max = 0;
		for (int i = 0; i < 4; i++) {
			w0[i] = cases[c].p0[i] * MS;
			w1[i] = cases[c].p1[i] * MS;
			w2[i] = cases[c].p2[i] * MS;
		}
		const uint64_t *want[PARTY_COUNT] = { w0, w1, w2 };
		const size_t n_want[PARTY_COUNT] = { 4, 4, 4 };
		assert_times(arg, want, n_want, cases[c].spec);
		for (int q = 0; q < PARTY_COUNT; q++) {
			cr_assert_eq(res.party[q].sim_ns, want[q][3], "%s party %d", cases[c].spec,
				     q);
			if (want[q][3] > max)
				max = want[q][3];
		}
		cr_assert_eq(res.sim_ns, max, "%s", cases[c].spec);
		sim_result_finish(&res);
	}
}

/* The virtual clock of party.h computed independently, in the script's global order
 * (valid because every receive comes after its send in that order). */
static void reference_times(const struct netmodel *net, const struct op *ops, size_t n_ops,
			    uint64_t want[PARTY_COUNT][SCRIPT_MAX_OPS], size_t n_want[PARTY_COUNT])
{
	uint64_t clock[3] = { 0 }, link_free[3][3] = { { 0 } };
	uint64_t queue[3][3][SCRIPT_MAX_OPS];
	size_t head[3][3] = { { 0 } }, tail[3][3] = { { 0 } };
	for (int q = 0; q < 3; q++)
		n_want[q] = 0;
	for (size_t i = 0; i < n_ops; i++) {
		const struct op *o = &ops[i];
		int me = o->party, k = o->peer;
		if (o->kind == OP_SEND) {
			const struct netlink *l = &net->link[me][k];
			uint64_t start =
				clock[me] > link_free[me][k] ? clock[me] : link_free[me][k];
			link_free[me][k] = start + netmodel_transfer_ns(l, o->n_bytes);
			queue[me][k][tail[me][k]++] = link_free[me][k] + l->latency_ns;
		} else if (o->kind == OP_RECV) {
			uint64_t arrival = queue[k][me][head[k][me]++];
			if (arrival > clock[me])
				clock[me] = arrival;
		}
		want[me][n_want[me]++] = clock[me];
	}
}

/* A random script in a valid global order: sends, and receives of pending messages. */
static size_t random_script(uint64_t *st, struct op *ops, size_t max_ops)
{
	size_t sizes[3][3][SCRIPT_MAX_OPS];
	size_t head[3][3] = { { 0 } }, tail[3][3] = { { 0 } };
	size_t n = 0, pending = 0;
	while (n + pending < max_ops) {
		uint64_t r = rand_next(st);
		if (r % 100 < 55 || pending == 0) {
			int from = (int)((r >> 8) % 3), to = (from + 1 + (int)((r >> 16) % 2)) % 3;
			size_t len = (r >> 24) % 4 == 0 ? 0 : (size_t)(r >> 32) % 5000;
			sizes[from][to][tail[from][to]++] = len;
			ops[n++] = (struct op){ from, OP_SEND, to, len, NULL };
			pending++;
		} else {
			int pick = (int)((r >> 8) % pending), from = 0, to = 0;
			for (int i = 0; i < 3; i++)
				for (int j = 0; j < 3; j++) {
					size_t here = tail[i][j] - head[i][j];
					if (pick >= 0 && (size_t)pick < here) {
						from = i;
						to = j;
						pick = -1;
					} else if (pick >= 0) {
						pick -= (int)here;
					}
				}
			ops[n++] = (struct op){ to, OP_RECV, from,
						sizes[from][to][head[from][to]++], NULL };
			pending--;
		}
	}
	for (int i = 0; i < 3; i++)
		for (int j = 0; j < 3; j++)
			while (head[i][j] < tail[i][j])
				ops[n++] = (struct op){ j, OP_RECV, i, sizes[i][j][head[i][j]++],
							NULL };
	return n;
}

Test(sim, virtual_clock_matches_a_reference_model_on_random_scripts, .timeout = 20)
{
	static const char *const specs[] = {
		"lat=10ms,bw=1MB/s",
		"lat=3ms,bw=10MB/s,overhead=40;P0-P2:lat=7ms",
		"lat=250us,bw=625MB/s;P1->P0:bw=1MB/s,lat=2ms",
		"paper-wan",
		"none;P0->P2:bw=1MB/s",
	};
	for (uint64_t seed = 1; seed <= 20; seed++) {
		const char *spec = specs[seed % N_OF(specs)];
		uint64_t st = seed * 1000003;
		struct op ops[SCRIPT_MAX_OPS];
		size_t n = random_script(&st, ops, 60);
		struct sim_config cfg;
		config_net(&cfg, spec);
		static uint64_t want[PARTY_COUNT][SCRIPT_MAX_OPS];
		size_t n_want[PARTY_COUNT];
		reference_times(&cfg.net, ops, n, want, n_want);
		struct script_arg arg[PARTY_COUNT];
		struct sim_result res;
		int rc = run_script(&cfg, ops, n, arg, &res);
		cr_assert_eq(rc, 0, "seed=%llu spec=%s: %s", (unsigned long long)seed, spec,
			     res.message);
		uint64_t max = 0;
		for (int q = 0; q < PARTY_COUNT; q++) {
			cr_assert_eq(arg[q].n_done, n_want[q], "seed=%llu party=%d",
				     (unsigned long long)seed, q);
			for (size_t i = 0; i < n_want[q]; i++)
				cr_assert_eq(
					arg[q].now_ns[i], want[q][i],
					"seed=%llu spec=%s party=%d op=%zu: %llu ns, want %llu",
					(unsigned long long)seed, spec, q, i,
					(unsigned long long)arg[q].now_ns[i],
					(unsigned long long)want[q][i]);
			uint64_t last = n_want[q] ? want[q][n_want[q] - 1] : 0;
			cr_assert_eq(res.party[q].sim_ns, last, "seed=%llu party=%d",
				     (unsigned long long)seed, q);
			if (last > max)
				max = last;
		}
		cr_assert_eq(res.sim_ns, max, "seed=%llu", (unsigned long long)seed);
		sim_result_finish(&res);
	}
}

/* Twelve messages among all pairs, with scopes; used for determinism and fault injection. */
static const struct op mixed_protocol[] = {
	PUSH(0, "setup"), PUSH(1, "setup"), PUSH(2, "setup"),
	MSG(0, 1, 8), MSG(1, 2, 16), MSG(2, 0, 24),
	POP(0), POP(1), POP(2),
	XCHG(0, 1, 8), MSG(0, 2, 32), MSG(2, 1, 8),
	PUSH(1, "mix"), PUSH(2, "mix"),
	XCHG(1, 2, 16), MSG(1, 0, 8), MSG(2, 0, 40),
	POP(1), POP(2),
	MSG(0, 1, 8),
};

Test(sim, same_run_twice_gives_identical_simulated_times, .timeout = 20)
{
	struct sim_config cfg;
	config_net(&cfg, "lat=3ms,bw=10MB/s,overhead=40;P0-P2:lat=7ms");
	struct script_arg a[PARTY_COUNT], b[PARTY_COUNT];
	struct sim_result ra, rb;
	run_script_ok(&cfg, mixed_protocol, N_OF(mixed_protocol), a, &ra);
	run_script_ok(&cfg, mixed_protocol, N_OF(mixed_protocol), b, &rb);
	cr_assert_gt(ra.sim_ns, 0);
	cr_assert_eq(ra.sim_ns, rb.sim_ns);
	cr_assert_eq(ra.rounds, rb.rounds);
	cr_assert_eq(sim_result_msgs(&ra), 12);
	for (int q = 0; q < PARTY_COUNT; q++) {
		cr_assert_eq(ra.party[q].sim_ns, rb.party[q].sim_ns, "party=%d", q);
		cr_assert_eq(a[q].n_done, b[q].n_done, "party=%d", q);
		for (size_t i = 0; i < a[q].n_done; i++)
			cr_assert_eq(a[q].now_ns[i], b[q].now_ns[i], "party=%d op=%zu", q, i);
		int mix_a = stats_find(&ra.party[q].stats, "mix"),
		    mix_b = stats_find(&rb.party[q].stats, "mix");
		cr_assert_eq(mix_a, mix_b, "party=%d", q);
		if (mix_a > 0)
			cr_assert_eq(ra.party[q].stats.nodes[mix_a].c.sim_ns,
				     rb.party[q].stats.nodes[mix_b].c.sim_ns, "party=%d", q);
	}
	sim_result_finish(&ra);
	sim_result_finish(&rb);
}

/* ---- Real clock --------------------------------------------------------------------------- */

struct pingpong_arg {
	int n_round_trips; /* P0 -> P1 -> P0 repetitions */
	uint64_t wall_ns;  /* P0: wall time of its function */
};

static int pingpong_fn(struct party *p, void *v)
{
	struct pingpong_arg *a = v;
	uint64_t x = 1;
	uint64_t t0 = party_mono_ns();
	for (int i = 0; i < a->n_round_trips; i++) {
		if (p->id == 0) {
			TRY(party_send_u64(p, 1, &x, 1));
			TRY(party_recv_u64(p, 1, &x, 1));
		} else if (p->id == 1) {
			TRY(party_recv_u64(p, 0, &x, 1));
			x++;
			TRY(party_send_u64(p, 0, &x, 1));
		}
	}
	a->wall_ns = party_mono_ns() - t0;
	if (p->id == 0 && x != (uint64_t)a->n_round_trips + 1)
		return party_fail(p, ERROR_PROTOCOL, "P0: got %llu", (unsigned long long)x);
	return 0;
}

Test(sim, real_clock_really_waits_for_the_latency, .timeout = 20)
{
	struct sim_config cfg;
	config_net(&cfg, "lat=20ms");
	cfg.clock = SIM_CLOCK_REAL;
	struct pingpong_arg a[PARTY_COUNT] = { { 5, 0 }, { 5, 0 }, { 5, 0 } };
	void *args[PARTY_COUNT] = { &a[0], &a[1], &a[2] };
	struct sim_result res;
	int rc = sim_run(&cfg, pingpong_fn, args, &res);
	cr_assert_eq(rc, 0, "%s", res.message);
	/* 5 round trips = 10 one-way messages of 20 ms. */
	cr_assert_geq(a[0].wall_ns, 200 * MS, "P0 wall %llu ns", (unsigned long long)a[0].wall_ns);
	cr_assert_geq(res.wall_ns, 200 * MS, "run wall %llu ns", (unsigned long long)res.wall_ns);
	cr_assert_lt(res.wall_ns, 600 * MS, "run wall %llu ns", (unsigned long long)res.wall_ns);
	cr_assert_geq(res.party[0].sim_ns, 200 * MS, "%llu",
		      (unsigned long long)res.party[0].sim_ns);
	cr_assert_geq(res.party[1].sim_ns, 180 * MS, "%llu",
		      (unsigned long long)res.party[1].sim_ns);
	/* Tolerance: simulated time is each party's own monotonic time since its start,
	 * so it cannot exceed the run's wall time, and lags it by thread start and
	 * join only: 50 ms is generous even under ThreadSanitizer. */
	cr_assert_leq(res.sim_ns, res.wall_ns);
	cr_assert_lt(res.wall_ns - res.sim_ns, 50 * MS, "wall %llu sim %llu",
		     (unsigned long long)res.wall_ns, (unsigned long long)res.sim_ns);
	cr_assert_geq(total(&res, 0)->wait_ns[1], 150 * MS, "P0 blocked on P1 most of the time");
	cr_assert_eq(res.rounds, 10);
	sim_result_finish(&res);
}

struct start_arg {
	uint64_t start_mono_ns; /* the party's p->start_mono_ns */
};

static int start_fn(struct party *p, void *v)
{
	struct start_arg *a = v;
	a->start_mono_ns = p->start_mono_ns;
	return 0;
}

Test(sim, real_clock_parties_share_one_start_time, .timeout = 20)
{
	/* party.h: in real mode the clock is "the monotonic time since the run started",
	 * and start_mono_ns is "monotonic time at the run's start". A sender stamps
	 * arrival_ns on its own clock and the receiver sleeps until its own start plus
	 * arrival_ns, so if the parties' starts differ, every delivery is early or late
	 * by the difference (thread start skew: microseconds, sometimes milliseconds). */
	for (int run = 0; run < 3; run++) {
		struct sim_config cfg;
		config_net(&cfg, "lat=1ms");
		cfg.clock = SIM_CLOCK_REAL;
		struct start_arg a[PARTY_COUNT] = { { 0 }, { 0 }, { 0 } };
		void *args[PARTY_COUNT] = { &a[0], &a[1], &a[2] };
		struct sim_result res;
		int rc = sim_run(&cfg, start_fn, args, &res);
		cr_assert_eq(rc, 0, "%s", res.message);
		for (int q = 1; q < PARTY_COUNT; q++)
			cr_assert_eq(a[q].start_mono_ns, a[0].start_mono_ns,
				     "run=%d: P%d starts %lld ns after P0", run, q,
				     (long long)(a[q].start_mono_ns - a[0].start_mono_ns));
		sim_result_finish(&res);
	}
}

Test(sim, real_clock_paces_messages_by_bandwidth, .timeout = 20)
{
	static const struct op ops[] = {
		{ 0, OP_SEND, 1, 1000, NULL }, { 0, OP_SEND, 1, 1000, NULL },
		{ 1, OP_RECV, 0, 1000, NULL }, { 1, OP_RECV, 0, 1000, NULL },
	};
	struct sim_config cfg;
	config_net(&cfg, "lat=10ms,bw=100kB/s"); /* 1000 B take 10 ms on the wire */
	cfg.clock = SIM_CLOCK_REAL;
	struct script_arg arg[PARTY_COUNT];
	struct sim_result res;
	run_script_ok(&cfg, ops, N_OF(ops), arg, &res);
	cr_assert_geq(arg[1].now_ns[0], 20 * MS, "%llu", (unsigned long long)arg[1].now_ns[0]);
	cr_assert_lt(arg[1].now_ns[0], 70 * MS, "%llu", (unsigned long long)arg[1].now_ns[0]);
	cr_assert_geq(arg[1].now_ns[1], 30 * MS, "%llu", (unsigned long long)arg[1].now_ns[1]);
	cr_assert_lt(arg[1].now_ns[1], 80 * MS, "%llu", (unsigned long long)arg[1].now_ns[1]);
	cr_assert_geq(res.wall_ns, 30 * MS);
	sim_result_finish(&res);
}

/* ---- Errors ------------------------------------------------------------------------------- */

struct fail_arg {
	int failing;        /* party that fails */
	int code;           /* its error */
	int use_party_fail; /* 1: record a message with party_fail; 0: bare return */
};

static int fail_fn(struct party *p, void *v)
{
	const struct fail_arg *a = v;
	if (p->id == a->failing) {
		sleep_ns(20 * MS); /* let the others block first */
		if (a->use_party_fail)
			return party_fail(p, a->code, "P%d: custom failure %d", p->id, 42);
		return a->code;
	}
	uint64_t x;
	/* The next party waits on the failing one, the third on the next (a chain). */
	if (p->id == (a->failing + 1) % 3)
		return party_recv_u64(p, a->failing, &x, 1);
	return party_recv_u64(p, (a->failing + 1) % 3, &x, 1);
}

Test(sim, failing_party_is_reported_and_peers_wake_with_closed, .timeout = 20)
{
	for (int f = 0; f < PARTY_COUNT; f++) {
		for (int use = 0; use < 2; use++) {
			struct sim_config cfg;
			config_net(&cfg, "none");
			struct fail_arg fa = { .failing = f,
					       .code = use ? ERROR_RANGE : ERROR_SHAPE,
					       .use_party_fail = use };
			void *args[PARTY_COUNT] = { &fa, &fa, &fa };
			struct sim_result res;
			int rc = sim_run(&cfg, fail_fn, args, &res);
			cr_assert_eq(rc, fa.code, "f=%d use=%d rc=%d %s", f, use, rc, res.message);
			cr_assert_eq(res.status, fa.code, "f=%d use=%d", f, use);
			cr_assert_eq(res.failed_party, f, "f=%d use=%d", f, use);
			if (use) {
				char want[64];
				snprintf(want, sizeof(want), "P%d: custom failure 42", f);
				cr_assert_str_eq(res.message, want, "f=%d", f);
			} else {
				char who[16];
				snprintf(who, sizeof(who), "P%d", f);
				cr_assert_not_null(strstr(res.message, who), "f=%d: %s", f,
						   res.message);
				cr_assert_not_null(strstr(res.message, error_strerror(ERROR_SHAPE)),
						   "f=%d: %s", f, res.message);
			}
			cr_assert_str_eq(res.party[f].errmsg, res.message, "f=%d use=%d", f, use);
			cr_assert_eq(res.party[f].err, fa.code, "f=%d use=%d", f, use);
			for (int q = 0; q < PARTY_COUNT; q++) {
				if (q == f)
					continue;
				cr_assert_eq(res.party[q].err, ERROR_CLOSED,
					     "f=%d use=%d party=%d: %s", f, use, q,
					     res.party[q].errmsg);
			}
			cr_assert_lt(res.wall_ns, 2000 * MS,
				     "f=%d use=%d: no waiting for the timeout", f, use);
			sim_result_finish(&res);
		}
	}
}

static int wrong_size_fn(struct party *p, void *v)
{
	(void)v;
	uint8_t buf[40] = { 0 };
	if (p->id == 0)
		return party_send(p, 1, buf, 24);
	if (p->id == 1)
		return party_recv(p, 0, buf, 40);
	return 0;
}

Test(sim, receive_of_the_wrong_size_names_both_sizes, .timeout = 20)
{
	struct sim_config cfg;
	config_net(&cfg, "none");
	struct sim_result res;
	int rc = sim_run(&cfg, wrong_size_fn, NULL, &res);
	cr_assert_eq(rc, ERROR_SIZE, "%s", res.message);
	cr_assert_eq(res.failed_party, 1);
	cr_assert_not_null(strstr(res.message, "40"), "%s", res.message);
	cr_assert_not_null(strstr(res.message, "24"), "%s", res.message);
	cr_assert_not_null(strstr(res.message, "P0"), "%s", res.message);
	cr_assert_eq(res.party[0].err, 0);
	cr_assert_eq(res.party[2].err, 0);
	sim_result_finish(&res);
}

struct early_arg {
	uint64_t recv_ns; /* P1: how long its failing receive took */
	int first_rc;     /* P1: the receive of the queued message */
	uint64_t value;   /* P1: what it received */
};

static int early_fn(struct party *p, void *v)
{
	struct early_arg *a = v;
	uint64_t x = 77;
	if (p->id == 0)
		return party_send_u64(p, 1, &x, 1); /* then finishes */
	if (p->id == 1) {
		sleep_ns(30 * MS); /* P0 is done by now */
		a->first_rc = party_recv_u64(p, 0, &a->value, 1);
		uint64_t t0 = party_mono_ns();
		int rc = party_recv_u64(p, 0, &x, 1);
		a->recv_ns = party_mono_ns() - t0;
		return rc;
	}
	return party_recv_u64(p, 1, &x, 1); /* P2 waits on P1, which will fail */
}

Test(sim, party_finishing_early_wakes_its_waiting_peer, .timeout = 20)
{
	struct sim_config cfg;
	config_net(&cfg, "none");
	cfg.timeout_ns = 10000 * MS;
	struct early_arg ea = { 0 };
	void *args[PARTY_COUNT] = { NULL, &ea, NULL };
	struct sim_result res;
	int rc = sim_run(&cfg, early_fn, args, &res);
	cr_assert_eq(rc, ERROR_CLOSED, "%s", res.message);
	cr_assert_eq(res.failed_party, 1);
	cr_assert_eq(ea.first_rc, 0, "what was sent before finishing is still delivered");
	cr_assert_eq(ea.value, 77);
	cr_assert_lt(ea.recv_ns, 500 * MS, "woke after %llu ns (timeout is 10 s)",
		     (unsigned long long)ea.recv_ns);
	cr_assert_not_null(strstr(res.message, "P0"), "%s", res.message);
	cr_assert_eq(res.party[0].err, 0);
	cr_assert_eq(res.party[2].err, ERROR_CLOSED);
	cr_assert_lt(res.wall_ns, 2000 * MS);
	sim_result_finish(&res);
}

static int unreceived_fn(struct party *p, void *v)
{
	(void)v;
	uint64_t x[3] = { 1, 2, 3 };
	if (p->id == 2)
		return party_send_u64(p, 1, x, 3);
	return 0;
}

Test(sim, message_never_received_fails_the_link_check, .timeout = 20)
{
	struct sim_config cfg;
	config_net(&cfg, "none");
	struct sim_result res;
	int rc = sim_run(&cfg, unreceived_fn, NULL, &res);
	cr_assert_eq(rc, ERROR_PROTOCOL, "%s", res.message);
	cr_assert_eq(res.status, ERROR_PROTOCOL);
	cr_assert_eq(res.failed_party, 1);
	cr_assert_not_null(strstr(res.message, "P2->P1"), "%s", res.message);
	cr_assert_not_null(strstr(res.message, "24"), "%s", res.message);
	for (int q = 0; q < PARTY_COUNT; q++)
		cr_assert_eq(res.party[q].err, 0, "party=%d", q);
	sim_result_finish(&res);
}

struct timeout_arg {
	uint64_t recv_ns; /* P1: how long its receive took */
};

static int timeout_fn(struct party *p, void *v)
{
	struct timeout_arg *a = v;
	uint64_t x = 5;
	if (p->id == 0) {
		sleep_ns(300 * MS); /* alive, but silent past P1's timeout */
		return party_send_u64(p, 1, &x, 1);
	}
	if (p->id == 1) {
		uint64_t t0 = party_mono_ns();
		int rc = party_recv_u64(p, 0, &x, 1);
		a->recv_ns = party_mono_ns() - t0;
		return rc;
	}
	return 0;
}

Test(sim, receive_timeout_fails_the_run, .timeout = 20)
{
	struct sim_config cfg;
	config_net(&cfg, "none");
	cfg.timeout_ns = 50 * MS;
	struct timeout_arg ta = { 0 };
	void *args[PARTY_COUNT] = { NULL, &ta, NULL };
	struct sim_result res;
	int rc = sim_run(&cfg, timeout_fn, args, &res);
	cr_assert_eq(rc, ERROR_TIMEOUT, "%s", res.message);
	cr_assert_eq(res.failed_party, 1);
	cr_assert_not_null(strstr(res.message, "P0"), "%s", res.message);
	cr_assert_geq(ta.recv_ns, 50 * MS, "%llu", (unsigned long long)ta.recv_ns);
	cr_assert_lt(ta.recv_ns, 250 * MS, "%llu", (unsigned long long)ta.recv_ns);
	/* P0's late send finds P1's link closed. */
	cr_assert_eq(res.party[0].err, ERROR_CLOSED, "%s", res.party[0].errmsg);
	cr_assert_geq(res.wall_ns, 300 * MS);
	sim_result_finish(&res);
}

static int bad_peer_fn(struct party *p, void *v)
{
	(void)v;
	uint64_t x = 0;
	if (p->id == 0)
		return party_send_u64(p, 0, &x, 1);
	if (p->id == 2)
		return party_recv_u64(p, 3, &x, 1);
	/* P1: an element count whose byte size overflows size_t. */
	return party_send_u64(p, 2, &x, SIZE_MAX / 4);
}

Test(sim, invalid_peer_or_oversized_message_fails_cleanly, .timeout = 20)
{
	struct sim_config cfg;
	config_net(&cfg, "none");
	struct sim_result res;
	int rc = sim_run(&cfg, bad_peer_fn, NULL, &res);
	cr_assert(rc == ERROR_INVAL || rc == ERROR_RANGE, "rc=%d %s", rc, res.message);
	cr_assert_geq(res.failed_party, 0);
	cr_assert_eq(res.status, res.party[res.failed_party].err);
	cr_assert_eq(res.party[0].err, ERROR_INVAL, "%s", res.party[0].errmsg);
	cr_assert_eq(res.party[1].err, ERROR_RANGE, "%s", res.party[1].errmsg);
	cr_assert_eq(res.party[2].err, ERROR_INVAL, "%s", res.party[2].errmsg);
	sim_result_finish(&res);
}

/* ---- Fault injection ---------------------------------------------------------------------- */

Test(sim, fault_at_every_call_of_every_party_fails_cleanly, .timeout = 20)
{
	static const char *const specs[] = { "none", "lat=1ms,bw=1MB/s" };
	for (size_t sp = 0; sp < N_OF(specs); sp++) {
		struct sim_config cfg;
		config_net(&cfg, specs[sp]);
		struct script_arg arg[PARTY_COUNT];
		struct sim_result res;
		run_script_ok(&cfg, mixed_protocol, N_OF(mixed_protocol), arg, &res);
		uint64_t n_calls[PARTY_COUNT];
		for (int q = 0; q < PARTY_COUNT; q++) {
			n_calls[q] = arg[q].n_calls;
			cr_assert_gt(n_calls[q], 0, "party=%d", q);
		}
		cr_assert_eq(n_calls[0] + n_calls[1] + n_calls[2], 24, "12 messages, 24 calls");
		sim_result_finish(&res);

		for (int f = 0; f < PARTY_COUNT; f++) {
			for (uint64_t k = 0; k < n_calls[f] + 3; k++) {
				cfg.fault_party = f;
				cfg.fault_at = k;
				int rc = run_script(&cfg, mixed_protocol, N_OF(mixed_protocol), arg,
						    &res);
				if (k >= n_calls[f]) {
					cr_assert_eq(rc, 0, "spec=%s f=%d k=%llu: %s", specs[sp], f,
						     (unsigned long long)k, res.message);
					sim_result_finish(&res);
					continue;
				}
				cr_assert_eq(rc, ERROR_FAULT, "spec=%s f=%d k=%llu rc=%d: %s",
					     specs[sp], f, (unsigned long long)k, rc, res.message);
				cr_assert_eq(res.failed_party, f, "spec=%s f=%d k=%llu", specs[sp],
					     f, (unsigned long long)k);
				cr_assert_not_null(strstr(res.message, "injected fault"),
						   "spec=%s f=%d k=%llu: %s", specs[sp], f,
						   (unsigned long long)k, res.message);
				cr_assert_eq(res.party[f].err, ERROR_FAULT, "spec=%s f=%d k=%llu",
					     specs[sp], f, (unsigned long long)k);
				for (int q = 0; q < PARTY_COUNT; q++)
					if (q != f)
						cr_assert(res.party[q].err == 0 ||
								  res.party[q].err == ERROR_CLOSED,
							  "spec=%s f=%d k=%llu party=%d err=%d: %s",
							  specs[sp], f, (unsigned long long)k, q,
							  res.party[q].err, res.party[q].errmsg);
				cr_assert_str_eq(res.party[f].errmsg, res.message,
						 "spec=%s f=%d k=%llu", specs[sp], f,
						 (unsigned long long)k);
				cr_assert_lt(res.wall_ns, 2000 * MS, "spec=%s f=%d k=%llu: no hang",
					     specs[sp], f, (unsigned long long)k);
				sim_result_finish(&res);
			}
		}
		/* Far beyond: never fires. */
		cfg.fault_party = 1;
		cfg.fault_at = UINT64_MAX - 1;
		int rc = run_script(&cfg, mixed_protocol, N_OF(mixed_protocol), arg, &res);
		cr_assert_eq(rc, 0, "%s", res.message);
		sim_result_finish(&res);
	}
}

/* ---- Keys --------------------------------------------------------------------------------- */

struct key_arg {
	uint8_t own[32];                 /* first 32 bytes of the private stream */
	uint8_t common[PARTY_COUNT][32]; /* first 32 bytes of common[k] */
	int has_common[PARTY_COUNT];     /* copy of p->has_common */
	int common_ok[PARTY_COUNT];      /* party_common(p, k) == &p->common[k] */
	int self_null;                   /* party_common(p, own id) == NULL */
	int out_of_range_null;           /* party_common(p, -1) and (p, 3) are NULL */
};

static int keys_fn(struct party *p, void *v)
{
	struct key_arg *a = v;
	prg_bytes(&p->own, a->own, sizeof(a->own));
	for (int k = 0; k < PARTY_COUNT; k++) {
		a->has_common[k] = p->has_common[k];
		struct prg *g = party_common(p, k);
		a->common_ok[k] = g == &p->common[k];
		if (g)
			prg_bytes(g, a->common[k], sizeof(a->common[k]));
	}
	a->self_null = party_common(p, p->id) == NULL;
	a->out_of_range_null = party_common(p, -1) == NULL && party_common(p, 3) == NULL;
	/* Each pair checks that it drew the same bytes. */
	for (int k = 0; k < PARTY_COUNT; k++) {
		if (k == p->id)
			continue;
		uint8_t theirs[32];
		TRY(party_exchange(p, k, a->common[k], theirs, sizeof(theirs)));
		if (memcmp(theirs, a->common[k], sizeof(theirs)) != 0)
			return party_fail(p, ERROR_PROTOCOL, "P%d: common stream with P%d differs",
					  p->id, k);
	}
	return 0;
}

static void run_keys(uint64_t seed, struct key_arg a[PARTY_COUNT])
{
	struct sim_config cfg;
	config_net(&cfg, "none");
	cfg.seed = seed;
	memset(a, 0, sizeof(*a) * PARTY_COUNT);
	void *args[PARTY_COUNT] = { &a[0], &a[1], &a[2] };
	struct sim_result res;
	int rc = sim_run(&cfg, keys_fn, args, &res);
	cr_assert_eq(rc, 0, "seed=%llu: %s", (unsigned long long)seed, res.message);
	sim_result_finish(&res);
}

static int same32(const uint8_t *x, const uint8_t *y)
{
	return memcmp(x, y, 32) == 0;
}

Test(sim, keys_are_shared_by_exactly_the_right_pairs, .timeout = 20)
{
	for (uint64_t seed = 1; seed <= 3; seed++) {
		struct key_arg a[PARTY_COUNT];
		run_keys(seed, a);
		for (int i = 0; i < PARTY_COUNT; i++) {
			cr_assert(a[i].self_null, "seed=%llu party=%d: own id gives NULL",
				  (unsigned long long)seed, i);
			cr_assert(a[i].out_of_range_null, "seed=%llu party=%d",
				  (unsigned long long)seed, i);
			for (int k = 0; k < PARTY_COUNT; k++) {
				cr_assert_eq(a[i].has_common[k], k != i, "seed=%llu party=%d k=%d",
					     (unsigned long long)seed, i, k);
				if (k != i)
					cr_assert(a[i].common_ok[k], "seed=%llu party=%d k=%d",
						  (unsigned long long)seed, i, k);
			}
		}
		/* Both ends of a pair draw the same stream. */
		cr_assert(same32(a[0].common[1], a[1].common[0]), "seed=%llu P0-P1",
			  (unsigned long long)seed);
		cr_assert(same32(a[0].common[2], a[2].common[0]), "seed=%llu P0-P2",
			  (unsigned long long)seed);
		cr_assert(same32(a[1].common[2], a[2].common[1]), "seed=%llu P1-P2",
			  (unsigned long long)seed);
		/* The three pair streams and the three private ones all differ. */
		const uint8_t *all[6] = { a[0].common[1], a[0].common[2], a[1].common[2],
					  a[0].own,       a[1].own,       a[2].own };
		for (int x = 0; x < 6; x++)
			for (int y = x + 1; y < 6; y++)
				cr_assert(!same32(all[x], all[y]), "seed=%llu streams %d and %d",
					  (unsigned long long)seed, x, y);
		/* P2 holds P0-P2 and P1-P2 only, neither of which is P0-P1. */
		cr_assert(!same32(a[2].common[0], a[0].common[1]), "seed=%llu",
			  (unsigned long long)seed);
		cr_assert(!same32(a[2].common[1], a[0].common[1]), "seed=%llu",
			  (unsigned long long)seed);
	}
}

Test(sim, same_seed_same_streams_other_seed_other_streams, .timeout = 20)
{
	struct key_arg a[PARTY_COUNT], b[PARTY_COUNT], c[PARTY_COUNT];
	run_keys(42, a);
	run_keys(42, b);
	run_keys(43, c);
	for (int i = 0; i < PARTY_COUNT; i++) {
		cr_assert(same32(a[i].own, b[i].own), "seed=42 party=%d", i);
		cr_assert(!same32(a[i].own, c[i].own), "seeds 42/43 party=%d", i);
		for (int k = 0; k < PARTY_COUNT; k++) {
			if (k == i)
				continue;
			cr_assert(same32(a[i].common[k], b[i].common[k]), "seed=42 party=%d k=%d",
				  i, k);
			cr_assert(!same32(a[i].common[k], c[i].common[k]),
				  "seeds 42/43 party=%d k=%d", i, k);
		}
	}
}
