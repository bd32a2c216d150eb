/* Per-party accounting: bytes and messages per link and direction, time
 * blocked per link, CPU time, simulated time and rounds, kept for the whole
 * run and for every nested scope a protocol opens with stats_push().
 *
 * Scopes form a tree per party ("total" > "relu" > "drelu" > "share_convert"
 * ...); entering the same name under the same parent again adds to the same
 * node, so a loop of 1000 DReLUs is one node with calls = 1000. Counters are
 * inclusive: a node counts everything done while it was open. */
#ifndef SNN_SIM_STATS_H
#define SNN_SIM_STATS_H

#include <stddef.h>
#include <stdint.h>

#define STATS_PARTIES 3
#define STATS_NAME_LEN 40
#define STATS_MAX_DEPTH 24

struct party;

struct stats_counters {
	uint64_t bytes_sent[STATS_PARTIES]; /* payload bytes sent to party k */
	uint64_t msgs_sent[STATS_PARTIES];  /* messages sent to party k */
	uint64_t bytes_recv[STATS_PARTIES]; /* payload bytes received from party k */
	uint64_t msgs_recv[STATS_PARTIES];  /* messages received from party k */
	uint64_t wait_ns[STATS_PARTIES];    /* wall time blocked receiving from k */
	uint64_t cpu_ns;                    /* thread CPU time */
	uint64_t sim_ns;                    /* simulated time elapsed */
	uint64_t wall_ns;                   /* wall time elapsed */
	uint64_t calls;                     /* times the scope was entered */
	uint32_t rounds;                    /* message rounds, summed over entries */
};

struct stats_node {
	char name[STATS_NAME_LEN]; /* scope name, NUL-terminated */
	int parent;                /* node index, -1 for the root */
	int first_child;           /* node index or -1 */
	int next_sibling;          /* node index or -1 */
	struct stats_counters c;   /* inclusive totals */
	uint64_t cpu_start_ns;     /* thread CPU time at the open entry */
	uint64_t sim_start_ns;     /* simulated time at the open entry */
	uint64_t wall_start_ns;    /* monotonic time at the open entry */
	uint32_t round_start;      /* party's round at the open entry */
};

struct stats {
	struct stats_node *nodes;      /* n_nodes nodes; nodes[0] is "total" */
	size_t n_nodes;                /* nodes in use */
	size_t cap;                    /* nodes allocated */
	int stack[STATS_MAX_DEPTH];    /* open scopes, stack[0] = 0 */
	int depth;                     /* open scopes */
	uint64_t n_dropped;            /* pushes that could not get a node */
	uint32_t n_overflow;           /* dropped pushes still open beyond STATS_MAX_DEPTH */
};

int stats_init(struct stats *s);
void stats_finish(struct stats *s);

/* Open / close a scope of party p. Never fail: when no node can be had
 * (out of memory, too deep), the time is counted in the enclosing scope
 * and n_dropped says so. Pushes and pops must pair up. */
void stats_push(struct party *p, const char *name);
void stats_pop(struct party *p);

/* The runner opens and closes the root ("total") around the party's function. */
void stats_open_root(struct party *p);
void stats_close_root(struct party *p);

/* Accounting hooks, called by party.c for every message. */
void stats_on_send(struct stats *s, int to, uint64_t n_bytes);
void stats_on_recv(struct stats *s, int from, uint64_t n_bytes, uint64_t wait_ns);

/* Node index for a '/'-separated path below the root ("relu/drelu"),
 * "" for the root itself, or -1. */
int stats_find(const struct stats *s, const char *path);

/* Write the node's path ("relu/drelu") into buf. */
void stats_path(const struct stats *s, int node, char *buf, size_t len);

/* Totals of a counter set. */
uint64_t stats_bytes_sent(const struct stats_counters *c);
uint64_t stats_msgs_sent(const struct stats_counters *c);

#endif
