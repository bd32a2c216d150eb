/* Run one function as the three parties P0, P1, P2 on three threads.
 *
 *     struct sim_config cfg;
 *     sim_config_default(&cfg);
 *     netmodel_parse(&cfg.net, "paper-wan", err, sizeof(err));
 *     struct sim_result res;
 *     int rc = sim_run(&cfg, my_protocol, args, &res);   // args[i] goes to party i
 *     ... res.party[i].stats, res.message ...
 *     sim_result_finish(&res);
 *
 * Keys: the runner derives from cfg.seed one private key per party and one
 * common key per pair (P0-P1, P0-P2, P1-P2) and gives each party only its
 * own and those of the pairs it belongs to. */
#ifndef SNN_SIM_SIM_H
#define SNN_SIM_SIM_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "netmodel.h"
#include "party.h"
#include "stats.h"
#include "trace.h"

enum sim_clock {
	SIM_CLOCK_VIRTUAL = 0, /* simulated per-party clocks (default) */
	SIM_CLOCK_REAL = 1,    /* deliveries really delayed and paced */
};

struct sim_config {
	struct netmodel net;   /* network model; default "none" */
	enum sim_clock clock;  /* default SIM_CLOCK_VIRTUAL */
	double cpu_scale;      /* virtual clock: simulated ns per CPU ns; default 1.0, 0 = network only */
	uint64_t timeout_ns;   /* a receive waiting longer fails; default 120 s, 0 = never */
	uint64_t seed;         /* all keys derive from it; default 1 */
	int fault_party;       /* party that fails on purpose, -1 (default) for none */
	uint64_t fault_at;     /* ...at its send/recv call with this index (0-based) */
	size_t arena_chunk_bytes; /* scratch arena chunk; default 1 MiB */
	/* Called by each party thread for every message it receives (NULL: off).
	 * Runs on the receiving party's thread; it must touch only state that
	 * belongs to that party (e.g. one file per party). */
	void (*on_recv)(void *ctx, const struct party *p, int from, const void *data,
			const struct channel_header *hdr);
	void *on_recv_ctx;        /* passed to on_recv */
	/* Record the run's events into this trace (trace.h; sim_run clears it
	 * first). NULL (default): off, no cost. One run at a time per trace. */
	struct trace *trace;
};

struct sim_party_result {
	struct stats stats;            /* moved out of the party; freed by sim_result_finish */
	uint64_t sim_ns;               /* party's clock at the end */
	uint64_t cpu_ns;               /* party thread's CPU time */
	uint32_t rounds;               /* party's final round */
	int err;                       /* party's error code, 0 if none */
	char errmsg[PARTY_ERRMSG_LEN]; /* party's error message */
};

struct sim_result {
	int status;                    /* 0 or the first error's code */
	int failed_party;              /* who failed first, -1 if none */
	char message[PARTY_ERRMSG_LEN + 16]; /* "P1: receive timed out ..." */
	uint64_t wall_ns;              /* wall time of the whole run */
	uint64_t sim_ns;               /* simulated time: max over parties */
	uint32_t rounds;               /* max over parties */
	struct sim_party_result party[PARTY_COUNT];
};

typedef int (*sim_fn)(struct party *p, void *arg);

void sim_config_default(struct sim_config *cfg);

/* Run fn(party_i, args[i]) on three threads. Returns res->status.
 * After a successful run it also checks that both ends of every link agree
 * on bytes and messages (ERROR_PROTOCOL if something was sent and never
 * received). res must be released with sim_result_finish(). */
int sim_run(const struct sim_config *cfg, sim_fn fn, void *const args[PARTY_COUNT],
	    struct sim_result *res) SNN_MUST_CHECK;

void sim_result_finish(struct sim_result *res);

/* Bytes sent by all parties (over the whole run). */
uint64_t sim_result_bytes(const struct sim_result *res);
uint64_t sim_result_msgs(const struct sim_result *res);

#endif
