/* One party of a run: its identity, its keys, its clocks, its accounting.
 *
 * A struct party is touched only by its own thread. Everything it shares
 * with a peer goes through party_send()/party_recv(), which also drive the
 * virtual clock and the round and byte accounting.
 *
 * Clocks. In virtual mode a party's clock advances by the thread's CPU time
 * between messages (times cpu_scale); a message of b bytes sent at t on a
 * link leaves at max(t, link free), occupies the link for b/bandwidth and
 * arrives one latency later; a receive moves the clock to max(own, arrival).
 * In real mode the clock is the monotonic time since the run started and a
 * receive really waits until the arrival time.
 *
 * Rounds. A message's round is one more than the highest round this party
 * had received when sending it; a party's round is the highest round it
 * sent or received. */
#ifndef SNN_SIM_PARTY_H
#define SNN_SIM_PARTY_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "error.h"
#include "netmodel.h"
#include "prg.h"
#include "stats.h"
#include "trace.h"
#include "transport.h"

#define PARTY_COUNT 3
#define PARTY_ERRMSG_LEN 256

struct sim_config;

struct party {
	int id;                               /* 0, 1 or 2 */
	const struct sim_config *cfg;         /* run settings, read-only */
	struct transport *tr;                 /* this party's endpoint */
	struct prg own;                       /* private stream */
	struct prg common[PARTY_COUNT];       /* common[k]: the stream shared with party k; common[id] unused */
	int has_common[PARTY_COUNT];          /* 1 where common[k] holds a key */
	struct netlink out_link[PARTY_COUNT]; /* outgoing link parameters, [to] */
	uint64_t link_free_ns[PARTY_COUNT];   /* when the outgoing link to k is next idle */
	uint64_t now_ns;                      /* this party's clock */
	uint64_t cpu_mark_ns;                 /* thread CPU time when now_ns was last advanced */
	uint64_t start_mono_ns;               /* monotonic time at the run's start (real clock) */
	uint32_t recv_round;                  /* highest round received */
	uint32_t round;                       /* highest round sent or received */
	uint64_t n_ops;                       /* send/recv calls so far (fault injection index) */
	uint64_t fault_at;                    /* fail at this op index; UINT64_MAX: never */
	struct stats stats;                   /* accounting */
	struct trace_log *trace;              /* this party's event log; NULL: not recording */
	struct arena arena;                   /* scratch memory */
	void *user;                           /* for the code running on this party */
	int err;                              /* first error code, 0 if none */
	char errmsg[PARTY_ERRMSG_LEN];        /* its message */
};

/* Send n_bytes to party `to` (a copy is made; never blocks). */
int party_send(struct party *p, int to, const void *data, size_t n_bytes) SNN_MUST_CHECK;

/* Receive exactly n_bytes from party `from`. */
int party_recv(struct party *p, int from, void *data, size_t n_bytes) SNN_MUST_CHECK;

/* Send to peer and receive the same amount back: one exchange. */
int party_exchange(struct party *p, int peer, const void *out, void *in, size_t n_bytes) SNN_MUST_CHECK;

/* Typed helpers: arrays of n uint64 / uint8 values. */
int party_send_u64(struct party *p, int to, const uint64_t *x, size_t n) SNN_MUST_CHECK;
int party_recv_u64(struct party *p, int from, uint64_t *x, size_t n) SNN_MUST_CHECK;
int party_send_u8(struct party *p, int to, const uint8_t *x, size_t n) SNN_MUST_CHECK;
int party_recv_u8(struct party *p, int from, uint8_t *x, size_t n) SNN_MUST_CHECK;

/* Record the first error of this party (printf-style message) and return code. */
int party_fail(struct party *p, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Advance the clock by the CPU time used since the last call. */
void party_clock_update(struct party *p);

/* Thread CPU time / monotonic time in ns. */
uint64_t party_thread_cpu_ns(void);
uint64_t party_mono_ns(void);

/* Stream shared with `peer` (must be one this party holds a key for). */
struct prg *party_common(struct party *p, int peer);

#endif
