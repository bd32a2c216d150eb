#include "trace.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "party.h"
#include "sim.h"
#include "stats.h"

/* One party's log. Written only by that party's thread during a run. */
struct trace_log {
	struct trace_event *ev;        /* n_ev events, in the order they happened */
	size_t n_ev;                   /* events recorded */
	size_t cap_ev;                 /* events allocated */
	char (*names)[STATS_NAME_LEN]; /* scope id (= the stats node index) -> name */
	int *parent;                   /* scope id -> parent scope id, -1 for the root */
	size_t n_names;                /* scope ids known */
	size_t cap_names;              /* scope ids allocated */
	uint64_t cpu0_ns;              /* thread CPU time when the party started */
	int lost;                      /* an allocation failed: the log is incomplete */
};

struct trace {
	struct trace_log log[TRACE_PARTIES]; /* one per party */
	struct netmodel net;                 /* the recorded run's model */
	int clock;                           /* its enum sim_clock */
	double cpu_scale;                    /* its cpu_scale */
	int recorded;                        /* 1 once a run was begun */
};

int trace_create(struct trace **out)
{
	if (!out)
		return ERROR_INVAL;
	struct trace *t = calloc(1, sizeof(*t));
	if (!t)
		return ERROR_NOMEM;
	netmodel_default(&t->net);
	*out = t;
	return 0;
}

void trace_destroy(struct trace *t)
{
	if (!t)
		return;
	for (int i = 0; i < TRACE_PARTIES; i++) {
		free(t->log[i].ev);
		free(t->log[i].names);
		free(t->log[i].parent);
	}
	free(t);
}

void trace_reset(struct trace *t)
{
	if (!t)
		return;
	for (int i = 0; i < TRACE_PARTIES; i++) {
		struct trace_log *l = &t->log[i];
		l->n_ev = 0;
		l->n_names = 0;
		l->cpu0_ns = 0;
		l->lost = 0;
	}
	netmodel_default(&t->net);
	t->clock = SIM_CLOCK_VIRTUAL;
	t->cpu_scale = 1.0;
	t->recorded = 0;
}

void trace_begin(struct trace *t, const struct sim_config *cfg)
{
	trace_reset(t);
	t->net = cfg->net;
	t->clock = (int)cfg->clock;
	t->cpu_scale = cfg->cpu_scale;
	t->recorded = 1;
}

struct trace_log *trace_log_of(struct trace *t, int party)
{
	return t && party >= 0 && party < TRACE_PARTIES ? &t->log[party] : NULL;
}

const struct trace_event *trace_events(const struct trace *t, int party, size_t *n)
{
	*n = 0;
	if (!t || party < 0 || party >= TRACE_PARTIES)
		return NULL;
	*n = t->log[party].n_ev;
	return *n ? t->log[party].ev : NULL;
}

const char *trace_scope_name(const struct trace *t, int party, uint32_t scope)
{
	if (!t || party < 0 || party >= TRACE_PARTIES || scope >= t->log[party].n_names)
		return NULL;
	return t->log[party].names[scope];
}

void trace_scope_path(const struct trace *t, int party, uint32_t scope, char *buf, size_t len)
{
	if (len == 0)
		return;
	buf[0] = '\0';
	if (!trace_scope_name(t, party, scope))
		return;
	const struct trace_log *l = &t->log[party];
	int chain[STATS_MAX_DEPTH + 1];
	int n = 0;
	for (int k = (int)scope; k > 0 && n <= STATS_MAX_DEPTH; k = l->parent[k])
		chain[n++] = k;
	size_t used = 0;
	for (int i = n - 1; i >= 0; i--) {
		const char *name = l->names[chain[i]];
		size_t nl = strlen(name), need = nl + (used ? 1 : 0);
		if (used + need + 1 > len)
			break;
		if (used)
			buf[used++] = '/';
		memcpy(buf + used, name, nl);
		used += nl;
		buf[used] = '\0';
	}
}

const struct netmodel *trace_netmodel(const struct trace *t)
{
	return t ? &t->net : NULL;
}

int trace_clock(const struct trace *t)
{
	return t ? t->clock : SIM_CLOCK_VIRTUAL;
}

double trace_cpu_scale(const struct trace *t)
{
	return t ? t->cpu_scale : 1.0;
}

int trace_complete(const struct trace *t)
{
	if (!t)
		return 0;
	for (int i = 0; i < TRACE_PARTIES; i++)
		if (t->log[i].lost)
			return 0;
	return 1;
}

/* ---- recording ---- */

/* The CPU clock of an event. The virtual clock has just read it into
 * cpu_mark_ns (every hook follows a party_clock_update); the real clock does
 * not keep it, so read it here. */
static uint64_t event_cpu(const struct party *p)
{
	uint64_t cpu = p->cfg->clock == SIM_CLOCK_REAL ? party_thread_cpu_ns() : p->cpu_mark_ns;
	return cpu - p->trace->cpu0_ns;
}

static struct trace_event *append(struct trace_log *l)
{
	if (l->lost)
		return NULL;
	if (l->n_ev == l->cap_ev) {
		size_t cap = l->cap_ev ? l->cap_ev * 2 : 1024;
		struct trace_event *ev = NULL;
		if (cap <= SIZE_MAX / sizeof(*ev))
			ev = realloc(l->ev, cap * sizeof(*ev));
		if (!ev) {
			l->lost = 1;
			return NULL;
		}
		l->ev = ev;
		l->cap_ev = cap;
	}
	struct trace_event *e = &l->ev[l->n_ev++];
	memset(e, 0, sizeof(*e));
	return e;
}

/* Copy the names of stats nodes up to `node` (node indices only grow). */
static int intern(struct trace_log *l, const struct stats *s, int node)
{
	if (node < 0 || (size_t)node >= s->n_nodes)
		return -1;
	while (l->n_names <= (size_t)node) {
		if (l->n_names == l->cap_names) {
			size_t cap = l->cap_names ? l->cap_names * 2 : 64;
			char(*names)[STATS_NAME_LEN] = realloc(l->names, cap * sizeof(*names));
			if (!names)
				return -1;
			l->names = names;
			int *parent = realloc(l->parent, cap * sizeof(*parent));
			if (!parent)
				return -1;
			l->parent = parent;
			l->cap_names = cap;
		}
		const struct stats_node *n = &s->nodes[l->n_names];
		memcpy(l->names[l->n_names], n->name, STATS_NAME_LEN);
		l->parent[l->n_names] = n->parent;
		l->n_names++;
	}
	return 0;
}

void trace_on_start(struct party *p)
{
	p->trace->cpu0_ns =
	    p->cfg->clock == SIM_CLOCK_REAL ? party_thread_cpu_ns() : p->cpu_mark_ns;
}

void trace_on_scope(struct party *p, enum trace_kind kind, int node)
{
	struct trace_log *l = p->trace;
	if (l->lost)
		return;
	if (intern(l, &p->stats, node) < 0) {
		l->lost = 1;
		return;
	}
	struct trace_event *e = append(l);
	if (!e)
		return;
	e->kind = (uint8_t)kind;
	e->arg = (uint32_t)node;
	e->t_ns = e->arrival_ns = e->end_ns = p->now_ns;
	e->cpu_ns = event_cpu(p);
}

void trace_on_send(struct party *p, int to, uint64_t n_bytes, uint32_t round, uint64_t arrival_ns)
{
	struct trace_event *e = append(p->trace);
	if (!e)
		return;
	e->kind = TRACE_SEND;
	e->peer = (uint8_t)to;
	e->arg = round;
	e->bytes = n_bytes;
	e->t_ns = e->end_ns = p->now_ns;
	e->arrival_ns = arrival_ns;
	e->cpu_ns = event_cpu(p);
}

void trace_on_recv(struct party *p, int from, uint64_t n_bytes, uint32_t round, uint64_t wait_ns,
                   uint64_t arrival_ns)
{
	struct trace_event *e = append(p->trace);
	if (!e)
		return;
	e->kind = TRACE_RECV;
	e->peer = (uint8_t)from;
	e->arg = round;
	e->bytes = n_bytes;
	e->t_ns = wait_ns;
	e->arrival_ns = arrival_ns;
	e->end_ns = p->now_ns;
	e->cpu_ns = event_cpu(p);
}

/* ---- re-timing ---- */

/* One message as re-timed. */
struct msg {
	size_t ev;        /* the sender's event index */
	uint64_t sent;    /* sender's clock at the send */
	uint64_t start;   /* when it started to occupy the link */
	uint64_t busy;    /* time on the link */
	uint64_t arrival; /* start + busy + latency */
	int done;         /* the sender has got this far */
};

struct replay {
	struct msg *msg[TRACE_PARTIES][TRACE_PARTIES]; /* [from][to][seq] */
	size_t n_msg[TRACE_PARTIES][TRACE_PARTIES];    /* messages on each link */
	uint64_t *before[TRACE_PARTIES];               /* per event: clock after its CPU segment */
	uint64_t *after[TRACE_PARTIES]; /* per event: clock after it (receive: resumed) */
	uint32_t *seq[TRACE_PARTIES];   /* per send/receive event: its index on the link */
	size_t pos[TRACE_PARTIES];      /* each party's next event */
	uint64_t clock[TRACE_PARTIES];  /* each party's clock */
	uint64_t link_free[TRACE_PARTIES][TRACE_PARTIES]; /* [from][to]: when the link is idle */
	size_t n_sent[TRACE_PARTIES][TRACE_PARTIES];      /* [from][to]: messages sent so far */
	size_t n_got[TRACE_PARTIES][TRACE_PARTIES];       /* [from][to]: messages received so far */
};

static void replay_finish(struct replay *r)
{
	for (int i = 0; i < TRACE_PARTIES; i++) {
		for (int j = 0; j < TRACE_PARTIES; j++)
			free(r->msg[i][j]);
		free(r->before[i]);
		free(r->after[i]);
		free(r->seq[i]);
	}
}

static int replay_alloc(struct replay *r, const struct trace *t)
{
	memset(r, 0, sizeof(*r));
	for (int i = 0; i < TRACE_PARTIES; i++) {
		const struct trace_log *l = &t->log[i];
		for (size_t k = 0; k < l->n_ev; k++)
			if (l->ev[k].kind == TRACE_SEND && l->ev[k].peer < TRACE_PARTIES)
				r->n_msg[i][l->ev[k].peer]++;
		size_t n = l->n_ev ? l->n_ev : 1;
		r->before[i] = malloc(n * sizeof(uint64_t));
		r->after[i] = malloc(n * sizeof(uint64_t));
		r->seq[i] = malloc(n * sizeof(uint32_t));
		if (!r->before[i] || !r->after[i] || !r->seq[i])
			return ERROR_NOMEM;
		for (int j = 0; j < TRACE_PARTIES; j++) {
			size_t m = r->n_msg[i][j] ? r->n_msg[i][j] : 1;
			if (!(r->msg[i][j] = calloc(m, sizeof(struct msg))))
				return ERROR_NOMEM;
		}
	}
	return 0;
}

/* The party clock's advance over the CPU segment before event k. */
static uint64_t segment(const struct trace_log *l, size_t k, double cpu_scale, int recorded)
{
	const struct trace_event *e = &l->ev[k];
	if (recorded) {
		uint64_t prev = 0;
		if (k > 0)
			prev = l->ev[k - 1].kind == TRACE_RECV ? l->ev[k - 1].end_ns
			                                       : l->ev[k - 1].t_ns;
		return e->t_ns > prev ? e->t_ns - prev : 0;
	}
	uint64_t prev_cpu = k > 0 ? l->ev[k - 1].cpu_ns : 0;
	uint64_t delta = e->cpu_ns > prev_cpu ? e->cpu_ns - prev_cpu : 0;
	/* As party_clock_update scales it. */
	if (cpu_scale == 1.0)
		return delta;
	if (cpu_scale > 0.0)
		return (uint64_t)((double)delta * cpu_scale + 0.5);
	return 0;
}

/* Walk back from the end of the last party along what it waited for. */
static void critical_path(const struct trace *t, const struct netmodel *net, struct replay *r,
                          struct trace_timing *out)
{
	int i = out->last_party;
	size_t k = t->log[i].n_ev;
	while (k > 0) {
		size_t e = k - 1;
		const struct trace_event *ev = &t->log[i].ev[e];
		if (ev->kind == TRACE_RECV && r->after[i][e] > r->before[i][e]) {
			/* It waited: the time is the message's. */
			int from = ev->peer;
			uint32_t seq = r->seq[i][e];
			const struct msg *m = &r->msg[from][i][seq];
			out->latency_ns += net->link[from][i].latency_ns;
			out->n_msgs++;
			for (;;) {
				out->transfer_ns += m->busy;
				if (m->start <= m->sent || seq == 0)
					break;
				/* Queued behind the previous message on the link. */
				m = &r->msg[from][i][--seq];
			}
			i = from;
			k = m->ev + 1;
			continue;
		}
		uint64_t prev = e > 0 ? r->after[i][e - 1] : 0;
		out->compute_ns += r->before[i][e] - prev;
		k = e;
	}
}

/* Replay party i's next event: 1 done, 0 blocked (its message is not sent
 * yet), ERROR_PROTOCOL if the trace cannot be replayed. */
static int replay_event(struct replay *r, const struct trace *t, const struct netmodel *net, int i,
                        double cpu_scale, int recorded)
{
	const struct trace_log *l = &t->log[i];
	size_t k = r->pos[i];
	const struct trace_event *e = &l->ev[k];
	int peer = e->peer;
	int is_msg = e->kind == TRACE_SEND || e->kind == TRACE_RECV;
	if (is_msg && (peer >= TRACE_PARTIES || peer == i))
		return ERROR_PROTOCOL;
	struct msg *m = NULL;
	if (e->kind == TRACE_RECV) {
		size_t seq = r->n_got[peer][i];
		if (seq >= r->n_msg[peer][i])
			return ERROR_PROTOCOL; /* received more than was sent */
		m = &r->msg[peer][i][seq];
		if (!m->done)
			return 0;
	}
	uint64_t now = r->clock[i] + segment(l, k, cpu_scale, recorded);
	r->before[i][k] = now;
	if (e->kind == TRACE_SEND) {
		/* As party_send: the link is busy from max(now, link free). */
		const struct netlink *link = &net->link[i][peer];
		size_t seq = r->n_sent[i][peer]++;
		uint64_t free_ns = r->link_free[i][peer];
		m = &r->msg[i][peer][seq];
		m->ev = k;
		m->sent = now;
		m->start = now > free_ns ? now : free_ns;
		m->busy = netmodel_transfer_ns(link, (size_t)e->bytes);
		r->link_free[i][peer] = m->start + m->busy;
		m->arrival = m->start + m->busy + link->latency_ns;
		m->done = 1;
		r->seq[i][k] = (uint32_t)seq;
	} else if (e->kind == TRACE_RECV) {
		/* As party_recv: the clock moves to max(now, arrival). */
		r->seq[i][k] = (uint32_t)r->n_got[peer][i]++;
		if (m->arrival > now)
			now = m->arrival;
	}
	r->after[i][k] = now;
	r->clock[i] = now;
	r->pos[i]++;
	return 1;
}

int trace_retime(const struct trace *t, const struct netmodel *net, double cpu_scale,
                 struct trace_timing *out)
{
	if (!t || !net || !out || !t->recorded || !(cpu_scale >= 0.0) || isinf(cpu_scale))
		return ERROR_INVAL;
	memset(out, 0, sizeof(*out));
	if (!trace_complete(t))
		return ERROR_NOMEM;
	int recorded = t->clock == SIM_CLOCK_VIRTUAL && cpu_scale == t->cpu_scale;

	struct replay r;
	int rc = replay_alloc(&r, t);
	/* Run each party until it blocks on a message not yet sent, in turns,
	 * until all are done; a turn without progress is a deadlock (a receive
	 * whose send is not in the trace). */
	for (int done = 0; rc == 0 && !done;) {
		int progress = 0;
		done = 1;
		for (int i = 0; i < TRACE_PARTIES && rc == 0; i++) {
			while (r.pos[i] < t->log[i].n_ev &&
			       (rc = replay_event(&r, t, net, i, cpu_scale, recorded)) > 0)
				progress = 1;
			if (rc > 0)
				rc = 0;
			if (r.pos[i] < t->log[i].n_ev)
				done = 0;
		}
		if (rc == 0 && !done && !progress)
			rc = ERROR_PROTOCOL;
	}
	if (rc == 0) {
		for (int i = 0; i < TRACE_PARTIES; i++) {
			out->party_ns[i] = r.clock[i];
			if (r.clock[i] > out->total_ns) {
				out->total_ns = r.clock[i];
				out->last_party = i;
			}
		}
		critical_path(t, net, &r, out);
	}
	replay_finish(&r);
	return rc;
}

/* ---- Chrome trace-event JSON ---- */

struct writer {
	FILE *f;  /* output */
	size_t n; /* events written */
};

void trace_json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

/* Start an event line: separator, phase, track, time (us, 3 decimals). */
static void event_start(struct writer *w, const char *ph, int party, uint64_t t_ns)
{
	fprintf(w->f, "%s{\"ph\":\"%s\",\"pid\":1,\"tid\":%d,\"ts\":%" PRIu64 ".%03u",
	        w->n ? ",\n" : "", ph, party + 1, t_ns / 1000, (unsigned)(t_ns % 1000));
	w->n++;
}

/* Flow ids: one per message, from its link and its index on the link. */
static uint64_t flow_id(int from, int to, uint64_t seq)
{
	return 1 + (uint64_t)(from * TRACE_PARTIES + to) +
	       (uint64_t)(TRACE_PARTIES * TRACE_PARTIES) * seq;
}

/* Messages received on each link: a failed run may leave some sent and never
 * received, and a flow needs both ends. */
static void count_received(const struct trace *t, uint64_t n_recv[TRACE_PARTIES][TRACE_PARTIES])
{
	memset(n_recv, 0, sizeof(uint64_t) * TRACE_PARTIES * TRACE_PARTIES);
	for (int i = 0; i < TRACE_PARTIES; i++)
		for (size_t k = 0; k < t->log[i].n_ev; k++)
			if (t->log[i].ev[k].kind == TRACE_RECV &&
			    t->log[i].ev[k].peer < TRACE_PARTIES)
				n_recv[t->log[i].ev[k].peer][i]++;
}

static void write_party(struct writer *w, const struct trace *t, int i,
                        const uint64_t n_recv[TRACE_PARTIES][TRACE_PARTIES])
{
	const struct trace_log *l = &t->log[i];
	uint64_t n_sent[TRACE_PARTIES] = {0}, n_got[TRACE_PARTIES] = {0};
	int depth = 0;
	uint64_t last = 0;
	char path[512];
	for (size_t k = 0; k < l->n_ev; k++) {
		const struct trace_event *e = &l->ev[k];
		last = e->end_ns;
		switch (e->kind) {
		case TRACE_OPEN: {
			const char *name = trace_scope_name(t, i, e->arg);
			trace_scope_path(t, i, e->arg, path, sizeof(path));
			event_start(w, "B", i, e->t_ns);
			fprintf(w->f, ",\"name\":");
			trace_json_str(w->f, name ? name : "?");
			fprintf(w->f, ",\"args\":{\"path\":");
			trace_json_str(w->f, e->arg == 0 ? "total" : path);
			fprintf(w->f, "}}");
			depth++;
			break;
		}
		case TRACE_CLOSE:
			if (depth == 0)
				break; /* cannot happen: closes follow their opens */
			event_start(w, "E", i, e->t_ns);
			fprintf(w->f, "}");
			depth--;
			break;
		case TRACE_SEND:
			if (e->peer >= TRACE_PARTIES || n_sent[e->peer] >= n_recv[i][e->peer])
				break; /* never received */
			event_start(w, "s", i, e->t_ns);
			fprintf(w->f,
			        ",\"id\":%" PRIu64
			        ",\"cat\":\"msg\",\"name\":\"msg\",\"args\":{\"bytes\":%" PRIu64
			        ",\"round\":%" PRIu32 ",\"from\":\"P%d\",\"to\":\"P%d\"}}",
			        flow_id(i, e->peer, n_sent[e->peer]++), e->bytes, e->arg, i,
			        e->peer);
			break;
		case TRACE_RECV:
			if (e->peer >= TRACE_PARTIES)
				break;
			if (e->end_ns > e->t_ns) {
				event_start(w, "B", i, e->t_ns);
				fprintf(w->f, ",\"name\":\"wait\",\"args\":{\"from\":\"P%d\"}}",
				        e->peer);
				event_start(w, "E", i, e->end_ns);
				fprintf(w->f, "}");
			}
			event_start(w, "f", i, e->arrival_ns);
			fprintf(w->f,
			        ",\"bp\":\"e\",\"id\":%" PRIu64
			        ",\"cat\":\"msg\",\"name\":\"msg\",\"args\":{\"bytes\":%" PRIu64
			        ",\"round\":%" PRIu32 ",\"from\":\"P%d\",\"to\":\"P%d\"}}",
			        flow_id(e->peer, i, n_got[e->peer]++), e->bytes, e->arg, e->peer,
			        i);
			break;
		}
	}
	/* A failed run may leave scopes open: close them at the party's last time. */
	for (; depth > 0; depth--) {
		event_start(w, "E", i, last);
		fprintf(w->f, "}");
	}
}

int trace_write_chrome(const struct trace *t, FILE *f)
{
	if (!t || !f)
		return ERROR_INVAL;
	if (!trace_complete(t))
		return ERROR_NOMEM;
	struct writer w = {f, 0};
	fprintf(f, "{\"traceEvents\":[\n");
	fprintf(f,
	        "{\"ph\":\"M\",\"pid\":1,\"name\":\"process_name\",\"args\":{\"name\":\"snn\"}}");
	w.n++;
	for (int i = 0; i < TRACE_PARTIES; i++) {
		fprintf(f,
		        ",\n{\"ph\":\"M\",\"pid\":1,\"tid\":%d,\"name\":\"thread_name\","
		        "\"args\":{\"name\":\"P%d\"}}",
		        i + 1, i);
		fprintf(f,
		        ",\n{\"ph\":\"M\",\"pid\":1,\"tid\":%d,\"name\":\"thread_sort_index\","
		        "\"args\":{\"sort_index\":%d}}",
		        i + 1, i);
	}
	uint64_t n_recv[TRACE_PARTIES][TRACE_PARTIES];
	count_received(t, n_recv);
	for (int i = 0; i < TRACE_PARTIES; i++)
		write_party(&w, t, i, (const uint64_t(*)[TRACE_PARTIES])n_recv);
	char net[NETMODEL_TEXT_LEN];
	netmodel_format(&t->net, net, sizeof(net));
	fprintf(f, "\n],\n\"displayTimeUnit\":\"ns\",\n\"otherData\":{\"network\":");
	trace_json_str(f, net);
	fprintf(f, ",\"clock\":\"%s\",\"cpu_scale\":%.17g}}\n",
	        t->clock == SIM_CLOCK_REAL ? "real" : "virtual",
	        isfinite(t->cpu_scale) ? t->cpu_scale : 0.0);
	if (fflush(f) != 0 || ferror(f))
		return ERROR_IO;
	return 0;
}
