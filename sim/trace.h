/* Event trace of one run: what each party did and when, on the simulated
 * clock and on its thread's CPU clock, so the run can be looked at
 * (Chrome trace-event JSON for Perfetto or chrome://tracing) and re-timed
 * under another network model without running it again.
 *
 *     struct trace *t;
 *     TRY(trace_create(&t));
 *     cfg.trace = t;                       // sim_run records into it
 *     rc = sim_run(&cfg, fn, args, &res);
 *     struct trace_timing tm;
 *     rc = trace_retime(t, &wan, 1.0, &tm); // the same run under `wan`
 *     trace_write_chrome(t, f);
 *     trace_destroy(t);
 *
 * Recording. sim_run clears the trace and each party thread appends to its
 * own log only (no locks): the scopes it opens and closes (stats_push/pop
 * and the root "total"), every message it sends (to, bytes, round, the
 * clock when sent, the arrival the model gave) and every message it
 * receives (from, bytes, round, the clock when it started waiting, the
 * arrival, the clock when it resumed). Each event also holds the thread's
 * CPU time since the party started. Scope names are interned per party.
 * An event is 48 bytes; a training iteration of network C at batch 128 is a
 * few thousand messages. If memory runs out the log stops growing and the
 * trace is marked incomplete (retime and export then fail with ERROR_NOMEM);
 * the run itself is not disturbed.
 *
 * Re-timing. A party's computation between two consecutive events is a CPU
 * segment. trace_retime replays each party's events in order under another
 * model: a segment advances the party's clock by its CPU time times
 * cpu_scale (when cpu_scale equals the recorded run's and the run used the
 * virtual clock, by exactly what it advanced the run's clock); a send
 * occupies its link from max(clock, link free) for netmodel_transfer_ns and
 * arrives one latency later; a receive moves the clock to max(clock,
 * arrival). That is party.c's virtual clock, so re-timing a virtual-clock
 * run under its own model and cpu_scale gives its times to the nanosecond,
 * and with cpu_scale 0 the result depends on the messages only. */
#ifndef SNN_SIM_TRACE_H
#define SNN_SIM_TRACE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "error.h"
#include "netmodel.h"

#define TRACE_PARTIES 3

struct party;
struct sim_config;
struct trace;
struct trace_log;

enum trace_kind {
	TRACE_OPEN = 0,  /* a scope opened */
	TRACE_CLOSE = 1, /* the innermost open scope closed */
	TRACE_SEND = 2,  /* a message sent */
	TRACE_RECV = 3,  /* a message received */
};

struct trace_event {
	uint8_t kind;        /* enum trace_kind */
	uint8_t peer;        /* send: receiver; receive: sender; scopes: 0 */
	uint16_t unused;     /* zero */
	uint32_t arg;        /* send, receive: the message's round; scopes: scope id */
	uint64_t bytes;      /* send, receive: payload bytes; scopes: 0 */
	uint64_t t_ns;       /* party clock at the event; receive: when it began waiting */
	uint64_t arrival_ns; /* send, receive: arrival the model gave; scopes: t_ns */
	uint64_t end_ns;     /* receive: clock when the party resumed; others: t_ns */
	uint64_t cpu_ns;     /* thread CPU time since the party started */
};

/* Re-timed run. The critical path is the chain of computation and messages
 * that ends when the last party ends: compute_ns + latency_ns + transfer_ns
 * equals total_ns. */
struct trace_timing {
	uint64_t party_ns[TRACE_PARTIES]; /* each party's clock at its end */
	uint64_t total_ns;                /* max over the parties */
	int last_party;                   /* the party that ends last (lowest id on a tie) */
	uint64_t compute_ns;              /* critical path: CPU segments */
	uint64_t latency_ns;              /* critical path: one-way latencies */
	uint64_t transfer_ns;             /* critical path: (bytes + overhead) / bandwidth */
	uint64_t n_msgs;                  /* messages on the critical path */
};

int trace_create(struct trace **out) SNN_MUST_CHECK;
void trace_destroy(struct trace *t); /* NULL-safe */

/* Forget the recorded run (keeps the memory for the next). */
void trace_reset(struct trace *t);

/* Events party recorded (NULL and *n = 0 if none); valid until the trace
 * is reset or destroyed. */
const struct trace_event *trace_events(const struct trace *t, int party, size_t *n);

/* Name of a scope id of a party's TRACE_OPEN/CLOSE events ("drelu"), or
 * NULL; trace_scope_path writes its path below the root ("relu/drelu"). */
const char *trace_scope_name(const struct trace *t, int party, uint32_t scope);
void trace_scope_path(const struct trace *t, int party, uint32_t scope, char *buf, size_t len);

/* The recorded run's network model, clock (enum sim_clock) and cpu_scale. */
const struct netmodel *trace_netmodel(const struct trace *t);
int trace_clock(const struct trace *t);
double trace_cpu_scale(const struct trace *t);

/* 1 if every party's log is complete (no allocation failed). */
int trace_complete(const struct trace *t);

/* Chrome trace-event JSON (Perfetto / chrome://tracing), one event per line:
 * process "snn" (pid 1) with one thread track per party named "P0", "P1",
 * "P2" (tid 1, 2, 3); a B/E slice per scope named by its innermost name
 * (args.path the whole path), nested as the scopes nest; a B/E slice "wait"
 * where a receive waited; every message a flow ("s" on the sender's track
 * at its send time, "f" on the receiver's at its arrival, the same id, args
 * bytes, round, from, to). Times in microseconds on the simulated clock
 * (three decimals: nanoseconds). Errors: ERROR_INVAL (NULL), ERROR_NOMEM
 * (incomplete trace), ERROR_IO (a write failed). */
int trace_write_chrome(const struct trace *t, FILE *f) SNN_MUST_CHECK;

/* The recorded run re-timed under net with CPU segments scaled by cpu_scale
 * (see the top of this file). Errors: ERROR_INVAL (NULL, no run recorded,
 * cpu_scale negative or not finite), ERROR_NOMEM (incomplete trace or no
 * memory), ERROR_PROTOCOL (a receive without its send: the run failed). */
int trace_retime(const struct trace *t, const struct netmodel *net, double cpu_scale,
                 struct trace_timing *out) SNN_MUST_CHECK;

/* ---- recording hooks: called by the runtime (sim.c, party.c, stats.c) on
 * the party's own thread, only when p->trace is set. ---- */

/* The runner: clear t for a run with cfg and give party i its log. */
void trace_begin(struct trace *t, const struct sim_config *cfg);
struct trace_log *trace_log_of(struct trace *t, int party);

/* A party thread starts (its CPU clock's zero). */
void trace_on_start(struct party *p);
/* Scope node `node` of p->stats opened / closed. */
void trace_on_scope(struct party *p, enum trace_kind kind, int node);
/* A message sent: clock p->now_ns, arrival from its header. */
void trace_on_send(struct party *p, int to, uint64_t n_bytes, uint32_t round, uint64_t arrival_ns);
/* A message received: the clock when the wait began; p->now_ns is the resume. */
void trace_on_recv(struct party *p, int from, uint64_t n_bytes, uint32_t round, uint64_t wait_ns,
                   uint64_t arrival_ns);

/* s as a JSON string literal, with '"', '\\' and control characters escaped. */
void trace_json_str(FILE *f, const char *s);

#endif
