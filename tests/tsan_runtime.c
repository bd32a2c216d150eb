/* The threaded runtime under ThreadSanitizer.
 *
 * Criterion 2.4.1 cannot start under TSan (its inheritable arena and TSan's
 * address reservations collide), so this plain program drives the code that
 * runs on several threads: channels between threads, full protocol runs (one
 * recording an event trace), failures at every message, the real clock,
 * early finish and timeouts. It prints "tsan_runtime: N passed, N failed"
 * and exits non-zero on failure.
 * It runs in every build; the TSan build runs only it. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "channel.h"
#include "matmul.h"
#include "maxpool.h"
#include "relu.h"
#include "ring_gemm.h"
#include "share.h"
#include "sim.h"
#include "trace.h"

static int passed, failed;

#define CHECK(cond, ...)                                                                     \
	do {                                                                                 \
		if (cond) {                                                                  \
			passed++;                                                            \
		} else {                                                                     \
			failed++;                                                            \
			fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                 \
			fprintf(stderr, __VA_ARGS__);                                        \
			fprintf(stderr, "\n");                                               \
		}                                                                            \
	} while (0)

static uint64_t rnd(uint64_t *s)
{
	uint64_t z = (*s += UINT64_C(0x9E3779B97F4A7C15));
	z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
	return z ^ (z >> 31);
}

static void cfg_default(struct sim_config *cfg, uint64_t seed)
{
	sim_config_default(cfg);
	cfg->seed = seed;
	cfg->timeout_ns = 30ull * 1000000000ull;
}

/* ---- channel between two threads ---- */

enum { N_MSGS = 5000 };

static void *producer(void *v)
{
	struct channel *ch = v;
	for (uint32_t i = 0; i < N_MSGS; i++) {
		uint32_t buf[8] = { i, i * 3 };
		struct channel_header h = { .n_bytes = 4u * (1 + i % 8) };
		if (channel_send(ch, buf, &h) < 0)
			break;
	}
	channel_close(ch, 0);
	return NULL;
}

static void channel_between_threads(void)
{
	struct channel *ch;
	CHECK(channel_create(&ch) == 0, "channel_create");
	pthread_t t;
	pthread_create(&t, NULL, producer, ch);
	int in_order = 1;
	for (uint32_t i = 0; i < N_MSGS; i++) {
		uint32_t buf[8];
		struct channel_header h;
		if (channel_recv(ch, buf, 4u * (1 + i % 8), 0, &h) < 0 || buf[0] != i || h.seq != i)
			in_order = 0;
	}
	struct channel_header h;
	uint32_t x;
	CHECK(channel_recv(ch, &x, 4, 0, &h) == ERROR_CLOSED, "closed after the last message");
	pthread_join(t, NULL);
	CHECK(in_order, "messages arrive in order across threads");
	channel_destroy(ch);
}

/* ---- protocols ---- */

struct run_arg {
	ring_t *in[2];   /* shares of the first operand */
	ring_t *in2[2];  /* shares of the second operand */
	ring_t *out[2];  /* output shares */
	ring_t *out2[2]; /* second output */
	size_t n, m, v;
	int op;          /* 0 matmul, 1 drelu, 2 maxpool */
};

static int run_fn(struct party *p, void *v)
{
	struct run_arg *a = v;
	int j = p->id, h = j < 2;
	static ring_t want_index;
	switch (a->op) {
	case 0:
		return matmul(p, h ? a->out[j] : NULL, h ? a->in[j] : NULL, h ? a->in2[j] : NULL, a->m,
			      a->n, a->v, 0);
	case 1:
		return drelu(p, h ? a->out[j] : NULL, h ? a->in[j] : NULL, a->n);
	default:
		return maxpool(p, h ? a->out[j] : NULL, h ? a->out2[j] : &want_index,
			       h ? a->in[j] : NULL, a->n, 4);
	}
}

static ring_t *alloc(size_t n)
{
	ring_t *p = calloc(n ? n : 1, sizeof(ring_t));
	if (!p) {
		fprintf(stderr, "out of memory\n");
		exit(2);
	}
	return p;
}

static void share(uint64_t *s, const ring_t *x, ring_t *s0, ring_t *s1, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		s0[i] = rnd(s);
		s1[i] = x[i] - s0[i];
	}
}

static void protocols_across_threads(void)
{
	uint64_t s = 1;
	/* MatMul 17 x 9 x 33 */
	size_t m = 17, n = 9, v = 33;
	ring_t *X = alloc(m * n), *Y = alloc(n * v), *Z = alloc(m * v);
	for (size_t i = 0; i < m * n; i++)
		X[i] = rnd(&s);
	for (size_t i = 0; i < n * v; i++)
		Y[i] = rnd(&s);
	ring_gemm_naive(Z, X, Y, m, n, v, 0);
	struct run_arg a = { .m = m, .n = n, .v = v, .op = 0 };
	for (int j = 0; j < 2; j++) {
		a.in[j] = alloc(m * n);
		a.in2[j] = alloc(n * v);
		a.out[j] = alloc(m * v);
	}
	share(&s, X, a.in[0], a.in[1], m * n);
	share(&s, Y, a.in2[0], a.in2[1], n * v);
	void *args[3] = { &a, &a, &a };
	struct sim_config cfg;
	cfg_default(&cfg, 3);
	struct sim_result res;
	int rc = sim_run(&cfg, run_fn, args, &res);
	CHECK(rc == 0, "matmul run: %s", res.message);
	int ok = 1;
	for (size_t i = 0; i < m * v; i++)
		ok &= a.out[0][i] + a.out[1][i] == Z[i];
	CHECK(ok, "matmul matches plaintext");
	sim_result_finish(&res);
	for (int j = 0; j < 2; j++) {
		free(a.in[j]);
		free(a.in2[j]);
		free(a.out[j]);
	}
	free(X);
	free(Y);
	free(Z);

	/* DReLU of 1000 and MaxPool of 100 windows of 4. */
	for (int op = 1; op <= 2; op++) {
		size_t cnt = op == 1 ? 1000 : 100, len = op == 1 ? cnt : 4 * cnt;
		ring_t *x = alloc(len);
		for (size_t i = 0; i < len; i++)
			x[i] = (rnd(&s) & ((1ull << 40) - 1)) - (1ull << 39);
		struct run_arg b = { .n = cnt, .op = op };
		for (int j = 0; j < 2; j++) {
			b.in[j] = alloc(len);
			b.out[j] = alloc(cnt);
			b.out2[j] = alloc(cnt);
		}
		share(&s, x, b.in[0], b.in[1], len);
		void *bargs[3] = { &b, &b, &b };
		cfg_default(&cfg, 4);
		rc = sim_run(&cfg, run_fn, bargs, &res);
		CHECK(rc == 0, "op %d run: %s", op, res.message);
		ok = 1;
		for (size_t i = 0; i < cnt; i++) {
			ring_t got = b.out[0][i] + b.out[1][i];
			if (op == 1) {
				ok &= got == (ring_t)((int64_t)x[i] >= 0);
			} else {
				ring_t best = x[4 * i];
				for (int k = 1; k < 4; k++)
					if ((int64_t)(x[4 * i + k] - best) >= 0)
						best = x[4 * i + k];
				ok &= got == best;
			}
		}
		CHECK(ok, "op %d matches plaintext", op);
		sim_result_finish(&res);
		for (int j = 0; j < 2; j++) {
			free(b.in[j]);
			free(b.out[j]);
			free(b.out2[j]);
		}
		free(x);
	}
}

static void faults_at_every_message(void)
{
	uint64_t s = 9;
	ring_t x[3] = { 5, (ring_t)0 - 5, 0 };
	struct run_arg a = { .n = 3, .op = 1 };
	for (int j = 0; j < 2; j++) {
		a.in[j] = alloc(3);
		a.out[j] = alloc(3);
	}
	share(&s, x, a.in[0], a.in[1], 3);
	void *args[3] = { &a, &a, &a };
	struct sim_config cfg;
	cfg_default(&cfg, 5);
	struct sim_result res;
	CHECK(sim_run(&cfg, run_fn, args, &res) == 0, "clean drelu run");
	uint64_t ops[3];
	for (int i = 0; i < 3; i++) {
		const struct stats_counters *c = &res.party[i].stats.nodes[0].c;
		ops[i] = 0;
		for (int k = 0; k < 3; k++)
			ops[i] += c->msgs_sent[k] + c->msgs_recv[k];
	}
	sim_result_finish(&res);
	int all_clean = 1;
	for (int f = 0; f < 3; f++)
		for (uint64_t k = 0; k < ops[f]; k++) {
			cfg_default(&cfg, 5);
			cfg.fault_party = f;
			cfg.fault_at = k;
			int rc = sim_run(&cfg, run_fn, args, &res);
			all_clean &= rc == ERROR_FAULT && res.failed_party == f;
			sim_result_finish(&res);
		}
	CHECK(all_clean, "a fault at every message gives ERROR_FAULT from that party");
	for (int j = 0; j < 2; j++) {
		free(a.in[j]);
		free(a.out[j]);
	}
}

/* ---- event trace: each party appends to its own log ---- */

static void trace_across_threads(void)
{
	uint64_t s = 13;
	size_t n = 200;
	ring_t *x = alloc(n);
	for (size_t i = 0; i < n; i++)
		x[i] = (rnd(&s) & ((1ull << 40) - 1)) - (1ull << 39);
	struct run_arg a = { .n = n, .op = 1 };
	for (int j = 0; j < 2; j++) {
		a.in[j] = alloc(n);
		a.out[j] = alloc(n);
	}
	share(&s, x, a.in[0], a.in[1], n);
	void *args[3] = { &a, &a, &a };
	struct trace *t = NULL;
	CHECK(trace_create(&t) == 0, "trace_create");
	struct sim_config cfg;
	cfg_default(&cfg, 6);
	char err[256];
	CHECK(netmodel_parse(&cfg.net, "paper-lan", err, sizeof(err)) == 0, "%s", err);
	cfg.trace = t;
	struct sim_result res;
	CHECK(sim_run(&cfg, run_fn, args, &res) == 0, "traced drelu run: %s", res.message);
	struct trace_timing tm;
	CHECK(trace_retime(t, &cfg.net, cfg.cpu_scale, &tm) == 0 && tm.total_ns == res.sim_ns,
	      "trace re-timed under its own model gives the run's time");
	FILE *f = fopen("/dev/null", "w");
	CHECK(f && trace_write_chrome(t, f) == 0, "chrome trace written");
	if (f)
		fclose(f);
	sim_result_finish(&res);
	trace_destroy(t);
	for (int j = 0; j < 2; j++) {
		free(a.in[j]);
		free(a.out[j]);
	}
	free(x);
}

/* ---- clocks, early finish, timeout ---- */

static int pingpong(struct party *p, void *v)
{
	(void)v;
	uint64_t x = 0;
	for (int i = 0; i < 5; i++) {
		if (p->id == 0) {
			TRY(party_send(p, 1, &x, 8));
			TRY(party_recv(p, 1, &x, 8));
		} else if (p->id == 1) {
			TRY(party_recv(p, 0, &x, 8));
			x++;
			TRY(party_send(p, 0, &x, 8));
		}
	}
	return 0;
}

static int early_finish(struct party *p, void *v)
{
	(void)v;
	uint64_t x;
	if (p->id == 1)
		return party_recv(p, 0, &x, 8); /* P0 never sends */
	return 0;
}

static int silent_peer(struct party *p, void *v)
{
	(void)v;
	uint64_t x = 0;
	if (p->id == 1)
		return party_recv(p, 2, &x, 8);
	if (p->id == 2) {
		struct timespec ts = { 0, 300 * 1000000 };
		nanosleep(&ts, NULL);
		return party_send(p, 1, &x, 8);
	}
	return 0;
}

static void clocks_and_failures(void)
{
	struct sim_config cfg;
	struct sim_result res;
	char err[256];
	cfg_default(&cfg, 1);
	cfg.clock = SIM_CLOCK_REAL;
	CHECK(netmodel_parse(&cfg.net, "lat=2ms", err, sizeof(err)) == 0, "%s", err);
	CHECK(sim_run(&cfg, pingpong, NULL, &res) == 0, "real clock ping-pong: %s", res.message);
	CHECK(res.wall_ns >= 20000000, "10 messages at 2 ms take >= 20 ms, took %llu ns",
	      (unsigned long long)res.wall_ns);
	sim_result_finish(&res);

	cfg_default(&cfg, 1);
	int rc = sim_run(&cfg, early_finish, NULL, &res);
	CHECK(rc == ERROR_CLOSED && res.wall_ns < 5000000000ull, "early finish: %d %s", rc, res.message);
	sim_result_finish(&res);

	cfg_default(&cfg, 1);
	cfg.timeout_ns = 50 * 1000000ull;
	rc = sim_run(&cfg, silent_peer, NULL, &res);
	CHECK(rc == ERROR_TIMEOUT, "timeout: %d %s", rc, res.message);
	sim_result_finish(&res);
}

int main(void)
{
	channel_between_threads();
	protocols_across_threads();
	faults_at_every_message();
	trace_across_threads();
	clocks_and_failures();
	printf("tsan_runtime: %d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
