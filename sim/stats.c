#include "stats.h"

#include <stdlib.h>
#include <string.h>

#include "party.h"

static int node_new(struct stats *s, const char *name, int parent)
{
	if (s->n_nodes == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 32;
		struct stats_node *nodes = realloc(s->nodes, cap * sizeof(*nodes));
		if (!nodes)
			return -1;
		s->nodes = nodes;
		s->cap = cap;
	}
	int idx = (int)s->n_nodes++;
	struct stats_node *n = &s->nodes[idx];
	memset(n, 0, sizeof(*n));
	size_t len = strlen(name);
	if (len >= STATS_NAME_LEN)
		len = STATS_NAME_LEN - 1;
	memcpy(n->name, name, len);
	n->name[len] = '\0';
	n->parent = parent;
	n->first_child = -1;
	n->next_sibling = -1;
	if (parent >= 0) {
		/* Append, so children keep the order in which they first ran. */
		int *link = &s->nodes[parent].first_child;
		while (*link >= 0)
			link = &s->nodes[*link].next_sibling;
		*link = idx;
	}
	return idx;
}

int stats_init(struct stats *s)
{
	memset(s, 0, sizeof(*s));
	if (node_new(s, "total", -1) < 0)
		return ERROR_NOMEM;
	s->stack[0] = 0;
	s->depth = 1;
	return 0;
}

void stats_finish(struct stats *s)
{
	free(s->nodes);
	memset(s, 0, sizeof(*s));
}

static int child_named(const struct stats *s, int parent, const char *name, size_t len)
{
	for (int c = s->nodes[parent].first_child; c >= 0; c = s->nodes[c].next_sibling)
		if (strncmp(s->nodes[c].name, name, len) == 0 && s->nodes[c].name[len] == '\0')
			return c;
	return -1;
}

static void node_open(struct party *p, struct stats_node *n)
{
	n->cpu_start_ns = party_thread_cpu_ns();
	n->wall_start_ns = party_mono_ns();
	n->sim_start_ns = p->now_ns;
	n->round_start = p->round;
	n->c.calls++;
}

void stats_push(struct party *p, const char *name)
{
	struct stats *s = &p->stats;
	if (s->depth == 0)
		return; /* not initialised or already closed */
	int top = s->stack[s->depth - 1];
	if (s->depth == STATS_MAX_DEPTH) {
		s->n_dropped++;
		s->n_overflow++;
		return;
	}
	size_t len = strlen(name);
	if (len >= STATS_NAME_LEN)
		len = STATS_NAME_LEN - 1;
	int idx = child_named(s, top, name, len);
	if (idx < 0)
		idx = node_new(s, name, top);
	if (idx < 0) {
		/* Count in the parent: push it again so pops still pair up. */
		s->n_dropped++;
		s->stack[s->depth++] = top;
		return;
	}
	party_clock_update(p);
	node_open(p, &s->nodes[idx]);
	s->stack[s->depth++] = idx;
	if (p->trace)
		trace_on_scope(p, TRACE_OPEN, idx);
}

static void node_close(struct party *p, struct stats_node *n)
{
	n->c.cpu_ns += party_thread_cpu_ns() - n->cpu_start_ns;
	n->c.wall_ns += party_mono_ns() - n->wall_start_ns;
	n->c.sim_ns += p->now_ns - n->sim_start_ns;
	n->c.rounds += p->round - n->round_start;
}

void stats_pop(struct party *p)
{
	struct stats *s = &p->stats;
	if (s->depth <= 1)
		return; /* the root is closed by the runner only */
	if (s->n_overflow) {
		/* A push at full depth was dropped without a stack entry. */
		s->n_overflow--;
		return;
	}
	int idx = s->stack[--s->depth];
	if (idx == s->stack[s->depth - 1])
		return; /* a dropped push that re-pushed its parent */
	party_clock_update(p);
	node_close(p, &s->nodes[idx]);
	if (p->trace)
		trace_on_scope(p, TRACE_CLOSE, idx);
}

void stats_open_root(struct party *p)
{
	party_clock_update(p);
	node_open(p, &p->stats.nodes[0]);
	if (p->trace)
		trace_on_scope(p, TRACE_OPEN, 0);
}

void stats_close_root(struct party *p)
{
	party_clock_update(p);
	node_close(p, &p->stats.nodes[0]);
	if (p->trace)
		trace_on_scope(p, TRACE_CLOSE, 0);
}

void stats_on_send(struct stats *s, int to, uint64_t n_bytes)
{
	for (int d = 0; d < s->depth; d++) {
		struct stats_counters *c = &s->nodes[s->stack[d]].c;
		if (d > 0 && s->stack[d] == s->stack[d - 1])
			continue;
		c->bytes_sent[to] += n_bytes;
		c->msgs_sent[to]++;
	}
}

void stats_on_recv(struct stats *s, int from, uint64_t n_bytes, uint64_t wait_ns)
{
	for (int d = 0; d < s->depth; d++) {
		struct stats_counters *c = &s->nodes[s->stack[d]].c;
		if (d > 0 && s->stack[d] == s->stack[d - 1])
			continue;
		c->bytes_recv[from] += n_bytes;
		c->msgs_recv[from]++;
		c->wait_ns[from] += wait_ns;
	}
}

int stats_find(const struct stats *s, const char *path)
{
	if (!s->nodes)
		return -1;
	int node = 0;
	while (*path) {
		const char *slash = strchr(path, '/');
		size_t len = slash ? (size_t)(slash - path) : strlen(path);
		node = child_named(s, node, path, len);
		if (node < 0)
			return -1;
		path += len;
		if (*path == '/')
			path++;
	}
	return node;
}

void stats_path(const struct stats *s, int node, char *buf, size_t len)
{
	int chain[STATS_MAX_DEPTH + 1];
	int n = 0;
	for (int k = node; k > 0 && n < STATS_MAX_DEPTH; k = s->nodes[k].parent)
		chain[n++] = k;
	size_t used = 0;
	if (len == 0)
		return;
	buf[0] = '\0';
	for (int i = n - 1; i >= 0; i--) {
		const char *name = s->nodes[chain[i]].name;
		size_t nl = strlen(name);
		size_t need = nl + (used ? 1 : 0);
		if (used + need + 1 > len)
			break;
		if (used)
			buf[used++] = '/';
		memcpy(buf + used, name, nl);
		used += nl;
		buf[used] = '\0';
	}
}

uint64_t stats_bytes_sent(const struct stats_counters *c)
{
	uint64_t t = 0;
	for (int k = 0; k < STATS_PARTIES; k++)
		t += c->bytes_sent[k];
	return t;
}

uint64_t stats_msgs_sent(const struct stats_counters *c)
{
	uint64_t t = 0;
	for (int k = 0; k < STATS_PARTIES; k++)
		t += c->msgs_sent[k];
	return t;
}
