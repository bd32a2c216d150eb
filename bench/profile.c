#include "profile.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "division.h"
#include "fixed.h"
#include "matmul.h"
#include "netrun.h"
#include "paper.h"
#include "report.h"
#include "trace.h"

/* ---- the cost model (spec section 9, Tables 1-2) ---- */

#define NO_ROUNDS (-1) /* rounds_per_call: the paper gives no round count */

/* path = parent/name ("name" below the root), cut to len - 1 bytes (the
 * protocols nest 6 deep, far from PROFILE_PATH_LEN). */
static void join(char *path, size_t len, const char *parent, const char *name)
{
	int n = snprintf(path, len, "%s%s%s", parent, parent[0] ? "/" : "", name);
	if (n < 0 || (size_t)n >= len)
		path[len - 1] = '\0';
}

static struct profile_expect *entry(struct profile_model *m, const char *path)
{
	for (size_t i = 0; i < m->n; i++)
		if (strcmp(m->e[i].path, path) == 0)
			return &m->e[i];
	if (m->n == m->cap) {
		size_t cap = m->cap ? 2 * m->cap : 64;
		struct profile_expect *e = realloc(m->e, cap * sizeof(*e));
		if (!e) {
			m->nomem = 1;
			return NULL;
		}
		m->e = e;
		m->cap = cap;
	}
	struct profile_expect *x = &m->e[m->n++];
	memset(x, 0, sizeof(*x));
	snprintf(x->path, sizeof(x->path), "%s", path);
	return x;
}

/* Add bytes and rounds (per call, times calls) to the scope parent/name; a
 * second call on the same scope (two products in one backward layer) adds
 * to it and joins the texts with " + ". Returns the bytes added. */
static uint64_t add(struct profile_model *m, const char *parent, const char *name, uint64_t bytes,
		    int64_t rounds_per_call, uint64_t calls, const char *fmt, ...)
	__attribute__((format(printf, 7, 8)));

static uint64_t add(struct profile_model *m, const char *parent, const char *name, uint64_t bytes,
		    int64_t rounds_per_call, uint64_t calls, const char *fmt, ...)
{
	char path[PROFILE_PATH_LEN];
	join(path, sizeof(path), parent, name);
	struct profile_expect *x = entry(m, path);
	if (!x)
		return bytes;
	int first = x->formula[0] == '\0';
	x->bytes += bytes;
	if (rounds_per_call == NO_ROUNDS) {
		x->has_rounds = 0;
	} else {
		x->rounds += (uint64_t)rounds_per_call * calls;
		if (first)
			x->has_rounds = 1;
	}
	char text[PROFILE_FORMULA_LEN];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	size_t used = strlen(x->formula);
	snprintf(x->formula + used, sizeof(x->formula) - used, "%s%s", used ? " + " : "", text);
	return bytes;
}

/* A scope whose cost is per element: calls calls of n elements each
 * ("664/elem x 128", "664/elem x 2880 x 3 calls"). */
static uint64_t per_elem(struct profile_model *m, const char *parent, const char *name,
			 uint64_t bytes_per, uint64_t n, uint64_t calls, int64_t rounds)
{
	if (calls == 1)
		return add(m, parent, name, bytes_per * n, rounds, 1, "%llu/elem x %llu",
			   (unsigned long long)bytes_per, (unsigned long long)n);
	return add(m, parent, name, bytes_per * n * calls, rounds, calls,
		   "%llu/elem x %llu x %llu calls", (unsigned long long)bytes_per,
		   (unsigned long long)n, (unsigned long long)calls);
}

static uint64_t m_mul(struct profile_model *m, const char *parent, uint64_t n, uint64_t calls)
{
	return per_elem(m, parent, "mul", 40, n, calls, 2);
}

/* DReLU (Alg. 6) = ShareConvert (Alg. 4) + ComputeMSB (Alg. 5). */
static uint64_t m_drelu(struct profile_model *m, const char *parent, uint64_t n, uint64_t calls)
{
	char d[PROFILE_PATH_LEN], sc[PROFILE_PATH_LEN], msb[PROFILE_PATH_LEN];
	join(d, sizeof(d), parent, "drelu");
	uint64_t b = per_elem(m, parent, "drelu", 664, n, calls, 8);
	per_elem(m, d, "share_convert", 304, n, calls, 4);
	join(sc, sizeof(sc), d, "share_convert");
	per_elem(m, sc, "private_compare", 128, n, calls, 1);
	per_elem(m, d, "compute_msb", 360, n, calls, 5);
	join(msb, sizeof(msb), d, "compute_msb");
	per_elem(m, msb, "private_compare", 128, n, calls, 1);
	m_mul(m, msb, n, calls);
	return b;
}

/* ReLU after DReLU (Alg. 7): one product. */
static uint64_t m_relu(struct profile_model *m, const char *parent, uint64_t n)
{
	char r[PROFILE_PATH_LEN];
	join(r, sizeof(r), parent, "relu");
	uint64_t b = per_elem(m, parent, "relu", 40, n, 1, 2);
	m_mul(m, r, n, 1);
	return b;
}

static uint64_t m_matmul(struct profile_model *m, const char *parent, size_t a, size_t n, size_t v)
{
	return add(m, parent, "matmul", matmul_bytes(a, n, v), 2, 1, "8(2mn+2nv+mv) %zux%zux%zu", a,
		   n, v);
}

/* MaxPool (Alg. 9) of w windows of k: per step one DReLU of w and one
 * product of the selections (max and index: 2w; max only: w). */
static uint64_t m_maxpool(struct profile_model *m, const char *parent, const char *name,
			  uint64_t w, uint64_t k)
{
	char p[PROFILE_PATH_LEN];
	join(p, sizeof(p), parent, name);
	uint64_t b = add(m, parent, name, 744 * (k - 1) * w, (int64_t)(9 * (k - 1)), 1,
			 "744(n-1)/window, n=%llu x %llu", (unsigned long long)k,
			 (unsigned long long)w);
	if (strcmp(name, "maxpool") != 0) {
		/* argmax: the maxpool scope inside, with the same cost. */
		m_maxpool(m, p, "maxpool", w, k);
		return b;
	}
	if (k > 1) {
		m_drelu(m, p, w, k - 1);
		m_mul(m, p, 2 * w, k - 1);
	}
	return b;
}

/* Alg. 12 (windows that are not a power of two): the selections carry the
 * one-hot vector, k + 1 values per window and step. */
static uint64_t m_maxpool_onehot(struct profile_model *m, const char *parent, uint64_t w,
				 uint64_t k)
{
	char p[PROFILE_PATH_LEN];
	join(p, sizeof(p), parent, "maxpool_onehot");
	uint64_t b = add(m, parent, "maxpool_onehot", (664 + 40 * (k + 1)) * (k - 1) * w, NO_ROUNDS,
			 1, "(664+40(n+1))(n-1)/window, n=%llu x %llu", (unsigned long long)k,
			 (unsigned long long)w);
	if (k > 1) {
		m_drelu(m, p, w, k - 1);
		m_mul(m, p, (k + 1) * w, k - 1);
	}
	return b;
}

/* Alg. 10: two one-byte index shares up (ring elements above 256), k ring
 * elements down to each of P0 and P1. */
static uint64_t m_dmp(struct profile_model *m, const char *parent, uint64_t w, uint64_t k)
{
	uint64_t per = k == 1 ? 0 : k <= 256 ? 2 + 16 * k : 16 + 16 * k;
	return add(m, parent, "maxpool_derivative", per * w, k == 1 ? 0 : 2, 1,
		   "%s/window, n=%llu x %llu", k <= 256 ? "2+16n" : "16+16n", (unsigned long long)k,
		   (unsigned long long)w);
}

/* Division (WP Alg. 8): frac iterations of a DReLU and a product. */
static uint64_t m_division(struct profile_model *m, const char *parent, uint64_t n, unsigned frac)
{
	char p[PROFILE_PATH_LEN];
	join(p, sizeof(p), parent, "division");
	uint64_t b = add(m, parent, "division", division_bytes(n, frac), 10 * (int64_t)frac, 1,
			 "704/elem/iteration x %u x %llu", frac, (unsigned long long)n);
	m_drelu(m, p, n, frac);
	m_mul(m, p, n, frac);
	return b;
}

static int is_pow2(size_t k)
{
	return k && (k & (k - 1)) == 0;
}

static uint64_t forward_layer(struct profile_model *m, const char *lp, const struct nn_layer *l,
			      size_t B)
{
	size_t in = nn_layer_in_size(l) * B, out = nn_layer_out_size(l) * B;
	switch (l->kind) {
	case NN_FC:
		return m_matmul(m, lp, B, nn_layer_in_size(l), l->out_c);
	case NN_CONV:
		return m_matmul(m, lp, B * l->out_h * l->out_w, l->k * l->k * l->in_c, l->out_c);
	case NN_RELU:
		return m_drelu(m, lp, in, 1) + m_relu(m, lp, in);
	case NN_MAXPOOL:
		if (is_pow2(l->k * l->k))
			return m_maxpool(m, lp, "maxpool", out, l->k * l->k);
		return m_maxpool_onehot(m, lp, out, l->k * l->k);
	}
	return 0;
}

static uint64_t backward_layer(struct profile_model *m, const char *lp, const struct nn_layer *l,
			       size_t B, int first)
{
	size_t in = nn_layer_in_size(l) * B, out = nn_layer_out_size(l) * B;
	switch (l->kind) {
	case NN_FC: {
		size_t n_in = nn_layer_in_size(l), n_out = l->out_c;
		uint64_t b = m_matmul(m, lp, n_in, B, n_out);
		return first ? b : b + m_matmul(m, lp, B, n_out, n_in);
	}
	case NN_CONV: {
		size_t rows = B * l->out_h * l->out_w, cols = l->k * l->k * l->in_c;
		uint64_t b = m_matmul(m, lp, cols, rows, l->out_c);
		return first ? b : b + m_matmul(m, lp, rows, l->out_c, cols);
	}
	case NN_RELU:
		return first ? 0 : m_relu(m, lp, in);
	case NN_MAXPOOL: {
		if (first)
			return 0;
		size_t win = l->k * l->k;
		uint64_t b = is_pow2(win) ? m_dmp(m, lp, out, win) : 0;
		return b + m_mul(m, lp, in, 1);
	}
	}
	return 0;
}

/* A scope whose bytes are the sum of its children's. */
static uint64_t sum(struct profile_model *m, const char *path, uint64_t bytes)
{
	struct profile_expect *x = entry(m, path);
	if (x)
		x->bytes = bytes;
	return bytes;
}

int profile_model_build(struct profile_model *m, const struct nn_net *net, size_t batch,
			size_t iters, int train, unsigned frac)
{
	memset(m, 0, sizeof(*m));
	if (!net || !batch || !iters || !net->n_layers || net->n_layers > NN_MAX_LAYERS)
		return ERROR_INVAL;
	struct nn_net run = *net;
	nn_net_pool_first(&run);
	size_t B = batch, K = nn_net_classes(&run), L = run.n_layers;
	char lp[PROFILE_PATH_LEN];
	uint64_t total = 0, phase = 0;

	/* The root first, then the scopes in the order they open. */
	entry(m, "");
	entry(m, "forward");
	for (size_t i = 0; i < L; i++) {
		snprintf(lp, sizeof(lp), "forward/layer%zu", i + 1);
		entry(m, lp);
		phase += sum(m, lp, forward_layer(m, lp, &run.layer[i], B));
	}
	total += sum(m, "forward", phase);

	entry(m, "output");
	if (train) {
		uint64_t n = (uint64_t)B * K;
		entry(m, "output/asm"); /* the scope before its children */
		uint64_t b = m_drelu(m, "output/asm", n, 1) + m_relu(m, "output/asm", n) +
			     m_division(m, "output/asm", n, frac);
		add(m, "output", "asm", b, NO_ROUNDS, 1, "ReLU 704/elem + division %llu/elem x %llu",
		    (unsigned long long)(704ull * frac), (unsigned long long)n);
		total += sum(m, "output", b);
	} else {
		total += sum(m, "output", m_maxpool(m, "output", "argmax", B, K));
	}

	if (train) {
		phase = 0;
		entry(m, "backward");
		for (size_t i = L; i-- > 0;) {
			snprintf(lp, sizeof(lp), "backward/layer%zu", i + 1);
			entry(m, lp);
			phase += sum(m, lp, backward_layer(m, lp, &run.layer[i], B, i == 0));
		}
		total += sum(m, "backward", phase);
		sum(m, "update", 0);
	}
	sum(m, "", total);

	for (size_t i = 0; i < m->n; i++) {
		m->e[i].bytes *= iters;
		m->e[i].rounds *= iters;
		if (iters > 1 && m->e[i].formula[0]) {
			size_t used = strlen(m->e[i].formula);
			snprintf(m->e[i].formula + used, sizeof(m->e[i].formula) - used, " (x %zu it)",
				 iters);
		}
	}
	return m->nomem ? ERROR_NOMEM : 0;
}

void profile_model_finish(struct profile_model *m)
{
	free(m->e);
	memset(m, 0, sizeof(*m));
}

const struct profile_expect *profile_model_find(const struct profile_model *m, const char *path)
{
	for (size_t i = 0; i < m->n; i++)
		if (strcmp(m->e[i].path, path) == 0)
			return &m->e[i];
	return NULL;
}

void profile_layer_desc(const struct nn_layer *l, char *buf, size_t len)
{
	switch (l->kind) {
	case NN_FC:
		snprintf(buf, len, "fc %zux%zu", nn_layer_in_size(l), l->out_c);
		return;
	case NN_CONV: {
		char extra[48] = "";
		size_t used = 0;
		if (l->stride != 1)
			used += (size_t)snprintf(extra, sizeof(extra), " s%zu", l->stride);
		if (l->pad)
			snprintf(extra + used, sizeof(extra) - used, " p%zu", l->pad);
		snprintf(buf, len, "conv %zux%zux%zu%s", l->k, l->k, l->out_c, extra);
		return;
	}
	case NN_MAXPOOL:
		snprintf(buf, len, "maxpool %zux%zu %zux%zux%zu", l->k, l->k, l->in_h, l->in_w, l->in_c);
		return;
	case NN_RELU:
		if (l->in_h == 1 && l->in_w == 1)
			snprintf(buf, len, "relu %zu", l->in_c);
		else
			snprintf(buf, len, "relu %zux%zux%zu", l->in_h, l->in_w, l->in_c);
		return;
	}
	snprintf(buf, len, "?");
}

/* ---- the merged tree ---- */

static int node_child(const struct profile *pr, int parent, const char *name)
{
	for (int c = pr->node[parent].first_child; c >= 0; c = pr->node[c].next_sibling)
		if (strcmp(pr->node[c].name, name) == 0)
			return c;
	return -1;
}

static int node_new(struct profile *pr, int parent, const char *name)
{
	if (pr->n == pr->cap) {
		size_t cap = pr->cap ? 2 * pr->cap : 64;
		struct profile_node *n = realloc(pr->node, cap * sizeof(*n));
		if (!n)
			return -1;
		pr->node = n;
		pr->cap = cap;
	}
	int idx = (int)pr->n++;
	struct profile_node *x = &pr->node[idx];
	memset(x, 0, sizeof(*x));
	snprintf(x->name, sizeof(x->name), "%s", name);
	x->parent = parent;
	x->first_child = x->next_sibling = -1;
	for (int i = 0; i < PARTY_COUNT; i++)
		x->src[i] = -1;
	if (parent < 0)
		return idx;
	const struct profile_node *p = &pr->node[parent];
	x->depth = p->depth + 1;
	join(x->path, sizeof(x->path), p->path, name);
	snprintf(x->phase, sizeof(x->phase), "%s", x->depth == 1 ? name : p->phase);
	x->layer = p->layer;
	unsigned long n = 0;
	char rest;
	if (x->depth == 2 && sscanf(name, "layer%lu%c", &n, &rest) == 1 && n >= 1 &&
	    n <= NN_MAX_LAYERS)
		x->layer = (int)n;
	/* A protocol directly under a layer, or directly under a phase without layers. */
	x->top = (x->depth == 3 && p->layer) || (x->depth == 2 && !x->layer);
	int *link = &pr->node[parent].first_child;
	while (*link >= 0)
		link = &pr->node[*link].next_sibling;
	*link = idx;
	return idx;
}

int profile_build(struct profile *pr, const struct sim_result *res, const struct nn_net *net,
		  size_t batch, size_t iters, int train, unsigned frac)
{
	memset(pr, 0, sizeof(*pr));
	if (!res || !net)
		return ERROR_INVAL;
	TRY(profile_model_build(&pr->model, net, batch, iters, train, frac));
	pr->net = *net;
	nn_net_pool_first(&pr->net);
	for (size_t i = 0; i < pr->net.n_layers; i++)
		profile_layer_desc(&pr->net.layer[i], pr->layer_desc[i], sizeof(pr->layer_desc[i]));
	if (node_new(pr, -1, "total") < 0)
		return ERROR_NOMEM;

	for (int p = 0; p < PARTY_COUNT; p++) {
		const struct stats *s = &res->party[p].stats;
		if (!s->nodes || !s->n_nodes)
			continue;
		pr->n_dropped += s->n_dropped;
		int *map = malloc(s->n_nodes * sizeof(int));
		if (!map)
			return ERROR_NOMEM;
		/* Parents come before their children in a stats tree. */
		for (size_t k = 0; k < s->n_nodes; k++) {
			const struct stats_node *sn = &s->nodes[k];
			int idx = 0;
			if (sn->parent >= 0) {
				int parent = map[sn->parent];
				idx = node_child(pr, parent, sn->name);
				if (idx < 0 && (idx = node_new(pr, parent, sn->name)) < 0) {
					free(map);
					return ERROR_NOMEM;
				}
			}
			map[k] = idx;
			struct profile_node *x = &pr->node[idx];
			const struct stats_counters *c = &sn->c;
			x->src[p] = (int)k;
			x->bytes += stats_bytes_sent(c);
			x->msgs += stats_msgs_sent(c);
			x->cpu_ns[p] = c->cpu_ns;
			for (int q = 0; q < PARTY_COUNT; q++)
				x->wait_ns += c->wait_ns[q];
			if (c->sim_ns > x->sim_ns)
				x->sim_ns = c->sim_ns;
			if (c->wall_ns > x->wall_ns)
				x->wall_ns = c->wall_ns;
			if (p == 0 || x->src[0] < 0)
				x->calls = c->calls;
			if (p < 2 && c->rounds > x->rounds)
				x->rounds = c->rounds;
		}
		free(map);
	}
	/* P2 alone (no holder opened the scope): its rounds, lacking better. */
	for (size_t i = 0; i < pr->n; i++) {
		struct profile_node *x = &pr->node[i];
		if (x->src[0] < 0 && x->src[1] < 0 && x->src[2] >= 0)
			x->rounds = res->party[2].stats.nodes[x->src[2]].c.rounds;
		x->expect = profile_model_find(&pr->model, x->path);
		if (x->expect) {
			pr->n_formula++;
			pr->n_mismatch += x->bytes != x->expect->bytes;
		}
	}
	for (size_t k = 0; profile_missing(pr, k); k++)
		pr->n_missing++;
	return 0;
}

void profile_finish(struct profile *pr)
{
	free(pr->node);
	profile_model_finish(&pr->model);
	memset(pr, 0, sizeof(*pr));
}

const struct profile_expect *profile_missing(const struct profile *pr, size_t k)
{
	for (size_t i = 0; i < pr->model.n; i++) {
		int found = 0;
		for (size_t j = 0; j < pr->n && !found; j++)
			found = strcmp(pr->node[j].path, pr->model.e[i].path) == 0;
		if (!found && k-- == 0)
			return &pr->model.e[i];
	}
	return NULL;
}

/* ---- output ---- */

struct opts {
	struct cli_run run;       /* network model, clock, seed ... */
	struct netrun_flags nf;     /* --net, --batch, --iters, --train */
	int json;                 /* --json */
	const char *tsv_path;     /* --tsv */
	const char *comm_path;    /* --comm-tsv, or derived from --tsv */
	const char *trace_path;   /* --trace */
	char comm_buf[1024];      /* the derived --comm-tsv path */
};

static const char *layer_desc(const struct profile *pr, const struct profile_node *x)
{
	if (x->layer >= 1 && (size_t)x->layer <= pr->net.n_layers)
		return pr->layer_desc[x->layer - 1];
	return "";
}

/* "L3 relu 12x12x20" for the communication table; "output" for the output phase. */
static void layer_label(const struct profile *pr, const struct profile_node *x, char *buf,
			size_t len)
{
	if (x->layer)
		snprintf(buf, len, "L%d %s", x->layer, layer_desc(pr, x));
	else
		snprintf(buf, len, "%s", x->phase);
}

static double ms(uint64_t ns)
{
	return (double)ns / 1e6;
}

static double sec(uint64_t ns)
{
	return (double)ns / 1e9;
}

static void human_row(const struct profile *pr, const struct profile_node *x)
{
	char scope[96], formula[24], diff[32], rounds[32], cpu[64];
	if (x->depth == 0)
		snprintf(scope, sizeof(scope), "total");
	else if (x->depth == 2 && x->layer)
		snprintf(scope, sizeof(scope), "%*s%s %s", 2 * x->depth, "", x->name,
			 layer_desc(pr, x));
	else
		snprintf(scope, sizeof(scope), "%*s%s", 2 * x->depth, "", x->name);
	const struct profile_expect *e = x->expect;
	if (e) {
		snprintf(formula, sizeof(formula), "%llu", (unsigned long long)e->bytes);
		if (x->bytes == e->bytes)
			snprintf(diff, sizeof(diff), "0");
		else
			snprintf(diff, sizeof(diff), "%+lld !",
				 (long long)x->bytes - (long long)e->bytes);
	} else {
		snprintf(formula, sizeof(formula), "-");
		snprintf(diff, sizeof(diff), "-");
	}
	if (e && e->has_rounds)
		snprintf(rounds, sizeof(rounds), "%u/%llu", x->rounds, (unsigned long long)e->rounds);
	else
		snprintf(rounds, sizeof(rounds), "%u/-", x->rounds);
	snprintf(cpu, sizeof(cpu), "%.3f/%.3f/%.3f", ms(x->cpu_ns[0]), ms(x->cpu_ns[1]),
		 ms(x->cpu_ns[2]));
	printf("%-38s %12llu %12s %9s %6llu %6llu %9s %28s %10.3f %11.3f", scope,
	       (unsigned long long)x->bytes, formula, diff, (unsigned long long)x->calls,
	       (unsigned long long)x->msgs, rounds, cpu, ms(x->wait_ns), ms(x->sim_ns));
	if (e && e->formula[0])
		printf("  %s", e->formula);
	printf("\n");
}

static void human_tree(const struct profile *pr, int idx)
{
	for (; idx >= 0; idx = pr->node[idx].next_sibling) {
		human_row(pr, &pr->node[idx]);
		human_tree(pr, pr->node[idx].first_child);
	}
}

static const char *run_kind(int train)
{
	return train ? "training (forward, ASM output, backward, SGD update)"
		     : "inference (forward, argmax)";
}

/* Table 7 beside ours, for the -bench networks at batch 1 or 128. */
static void human_paper(const struct opts *o, const struct netrun_result *r)
{
	const char *name = o->nf.net_name;
	size_t len = strlen(name);
	if (o->nf.train || len != 7 || strcmp(name + 1, "-bench") != 0 ||
	    (o->nf.batch != 1 && o->nf.batch != 128))
		return;
	char item[2] = { name[0], '\0' };
	const struct paper_row *pc = paper_find(7, item, "-", (int)o->nf.batch, "comm");
	if (!pc)
		return;
	double mb = r->bytes / 1e6;
	printf("Table 7, network %s, batch %llu: %s MB published, %.3f MB here (%s)", item,
	       (unsigned long long)o->nf.batch, pc->value, mb,
	       paper_matches(pc, mb) ? "matches at the printed precision" : "DIFFERS");
	const char *metric = strcmp(o->run.network, "paper-lan") == 0   ? "lan_time"
			     : strcmp(o->run.network, "paper-wan") == 0 ? "wan_time"
									: NULL;
	const struct paper_row *pt = metric ? paper_find(7, item, "-", (int)o->nf.batch, metric) : NULL;
	if (pt)
		printf("; %s s published, %.3f s simulated here", pt->value, r->sim_s);
	printf(".\n");
}

static void human(const struct profile *pr, const struct opts *o, const struct netrun_result *r)
{
	const struct sim_result *res = &r->res;
	char net[NETMODEL_TEXT_LEN];
	netmodel_format(&o->run.cfg.net, net, sizeof(net));
	printf("snn profile: network %s (%zu layers as run), batch %llu, %llu iteration%s, %s\n",
	       o->nf.net_name, pr->net.n_layers, (unsigned long long)o->nf.batch,
	       (unsigned long long)o->nf.iters, o->nf.iters == 1 ? "" : "s", run_kind(o->nf.train));
	printf("network model %s (%s), %s clock, seed %llu\n", o->run.network, net,
	       o->run.cfg.clock == SIM_CLOCK_REAL ? "real" : "virtual",
	       (unsigned long long)o->run.cfg.seed);
	uint64_t images = o->nf.batch * o->nf.iters;
	if (o->nf.train)
		printf("verified against the cleartext twin: %zu values (the first iteration's ASM "
		       "outputs within 2^-5, every weight after the last within 2^-7 per iteration + 10%% of its layer's largest update; largest "
		       "difference %.5f)\n", r->checked, r->max_diff);
	else if (r->checked == images)
		printf("verified: the secure argmax equals the cleartext twin's for all %llu images\n",
		       (unsigned long long)images);
	else
		printf("verified: the secure argmax equals the cleartext twin's for %zu of %llu images "
		       "(the others' two best scores are within 2^-6)\n", r->checked,
		       (unsigned long long)images);
	printf("whole run: %llu bytes, %llu messages, %u rounds, %.3f ms wall, %.3f ms simulated\n\n",
	       (unsigned long long)sim_result_bytes(res), (unsigned long long)sim_result_msgs(res),
	       res->rounds, ms(res->wall_ns), ms(res->sim_ns));

	printf("%-38s %12s %12s %9s %6s %6s %9s %28s %10s %11s  %s\n", "scope", "bytes", "formula",
	       "diff", "calls", "msgs", "rounds", "cpu ms P0/P1/P2", "wait ms", "sim ms",
	       "formula (bytes, all parties)");
	human_tree(pr, 0);

	printf("\n%-6s %14s %14s %10s %10s %12s %11s %12s\n", "party", "bytes sent", "bytes recv",
	       "msgs sent", "msgs recv", "cpu ms", "wait ms", "sim ms");
	for (int p = 0; p < PARTY_COUNT; p++) {
		const struct stats *s = &res->party[p].stats;
		if (!s->nodes)
			continue;
		const struct stats_counters *c = &s->nodes[0].c;
		uint64_t recv = 0, mrecv = 0, wait = 0;
		for (int q = 0; q < PARTY_COUNT; q++) {
			recv += c->bytes_recv[q];
			mrecv += c->msgs_recv[q];
			wait += c->wait_ns[q];
		}
		printf("P%-5d %14llu %14llu %10llu %10llu %12.3f %11.3f %12.3f\n", p,
		       (unsigned long long)stats_bytes_sent(c), (unsigned long long)recv,
		       (unsigned long long)stats_msgs_sent(c), (unsigned long long)mrecv,
		       ms(res->party[p].cpu_ns), ms(wait), ms(res->party[p].sim_ns));
	}
	printf("\n%-8s %14s %10s %11s\n", "link", "bytes", "msgs", "wait ms");
	for (int p = 0; p < PARTY_COUNT; p++) {
		for (int q = 0; q < PARTY_COUNT; q++) {
			const struct stats *s = &res->party[p].stats, *t = &res->party[q].stats;
			if (p == q || !s->nodes || !t->nodes)
				continue;
			/* wait: the receiver's time blocked on this link. */
			printf("P%d->P%d   %14llu %10llu %11.3f\n", p, q,
			       (unsigned long long)s->nodes[0].c.bytes_sent[q],
			       (unsigned long long)s->nodes[0].c.msgs_sent[q],
			       ms(t->nodes[0].c.wait_ns[p]));
		}
	}
	printf("\n");
	human_paper(o, r);
	if (pr->n_mismatch)
		printf("FORMULA MISMATCH: measured bytes differ from the formula at %zu of %zu scopes "
		       "(marked '!')\n", pr->n_mismatch, pr->n_formula);
	else
		printf("formula check: measured bytes equal the formula at all %zu scopes that have "
		       "one\n", pr->n_formula);
	const struct profile_expect *e;
	for (size_t k = 0; (e = profile_missing(pr, k)); k++)
		printf("  expected but not opened by any party: %s (%llu bytes)\n", e->path,
		       (unsigned long long)e->bytes);
	if (pr->n_dropped)
		printf("warning: %llu scopes could not be recorded (too deep or out of memory); their "
		       "costs are in the enclosing scope\n", (unsigned long long)pr->n_dropped);
	printf("rounds: ours/paper (Tables 1-2, summed over calls); ours are P0's and P1's. With "
	       "PRF triplets P2's\n"
	       "message in a product depends on nothing it receives, so MatMul, ReLU and every "
	       "product take 1\n"
	       "round where the paper counts 2, ComputeMSB 4 where it counts 5 (DReLU 8 as in the "
	       "paper), and\n"
	       "a Division iteration 9 where it counts 10.\n"
	       "wait: wall time blocked receiving, all parties; sim: simulated time, the "
	       "largest over parties.\n");
}

static void json_u64_or_null(FILE *f, int have, uint64_t v)
{
	if (have)
		fprintf(f, "%llu", (unsigned long long)v);
	else
		fputs("null", f);
}

static void json_doc(const struct profile *pr, const struct opts *o, const struct netrun_result *r)
{
	const struct sim_result *res = &r->res;
	struct report_meta meta;
	report_meta_collect(&meta);
	char net[NETMODEL_TEXT_LEN];
	netmodel_format(&o->run.cfg.net, net, sizeof(net));
	printf("{\"command\":\"profile\",\"net\":");
	trace_json_str(stdout, o->nf.net_name);
	printf(",\"batch\":%llu,\"iters\":%llu,\"train\":%s,\"network\":",
	       (unsigned long long)o->nf.batch, (unsigned long long)o->nf.iters,
	       o->nf.train ? "true" : "false");
	trace_json_str(stdout, o->run.network);
	printf(",\"network_model\":");
	trace_json_str(stdout, net);
	printf(",\"clock\":\"%s\",\"seed\":%llu,",
	       o->run.cfg.clock == SIM_CLOCK_REAL ? "real" : "virtual",
	       (unsigned long long)o->run.cfg.seed);
	report_meta_json(stdout, &meta);
	printf(",\n\"verified\":{\"checked\":%zu,\"max_diff\":%.9g},\n", r->checked, r->max_diff);
	printf("\"totals\":{\"bytes\":%llu,\"formula_bytes\":%llu,\"msgs\":%llu,\"rounds\":%u,"
	       "\"wall_s\":%.9f,\"sim_s\":%.9f,\"mismatches\":%zu,\"formula_scopes\":%zu},\n",
	       (unsigned long long)sim_result_bytes(res),
	       (unsigned long long)(pr->node[0].expect ? pr->node[0].expect->bytes : 0),
	       (unsigned long long)sim_result_msgs(res), res->rounds, sec(res->wall_ns),
	       sec(res->sim_ns), pr->n_mismatch, pr->n_formula);
	printf("\"layers\":[");
	for (size_t i = 0; i < pr->net.n_layers; i++) {
		printf("%s{\"layer\":%zu,\"desc\":", i ? "," : "", i + 1);
		trace_json_str(stdout, pr->layer_desc[i]);
		printf("}");
	}
	printf("],\n\"parties\":[");
	for (int p = 0; p < PARTY_COUNT; p++) {
		const struct stats *s = &res->party[p].stats;
		const struct stats_counters *c = s->nodes ? &s->nodes[0].c : NULL;
		printf("%s{\"party\":%d,\"bytes_sent\":[%llu,%llu,%llu],\"msgs_sent\":[%llu,%llu,%llu],"
		       "\"bytes_recv\":[%llu,%llu,%llu],\"wait_s\":[%.9f,%.9f,%.9f],\"cpu_s\":%.9f,"
		       "\"sim_s\":%.9f,\"rounds\":%u}",
		       p ? "," : "", p, (unsigned long long)(c ? c->bytes_sent[0] : 0),
		       (unsigned long long)(c ? c->bytes_sent[1] : 0),
		       (unsigned long long)(c ? c->bytes_sent[2] : 0),
		       (unsigned long long)(c ? c->msgs_sent[0] : 0),
		       (unsigned long long)(c ? c->msgs_sent[1] : 0),
		       (unsigned long long)(c ? c->msgs_sent[2] : 0),
		       (unsigned long long)(c ? c->bytes_recv[0] : 0),
		       (unsigned long long)(c ? c->bytes_recv[1] : 0),
		       (unsigned long long)(c ? c->bytes_recv[2] : 0), c ? sec(c->wait_ns[0]) : 0.0,
		       c ? sec(c->wait_ns[1]) : 0.0, c ? sec(c->wait_ns[2]) : 0.0,
		       sec(res->party[p].cpu_ns), sec(res->party[p].sim_ns), res->party[p].rounds);
	}
	printf("],\n\"nodes\":[\n");
	for (size_t i = 0; i < pr->n; i++) {
		const struct profile_node *x = &pr->node[i];
		const struct profile_expect *e = x->expect;
		printf("%s{\"path\":", i ? ",\n" : "");
		trace_json_str(stdout, x->path);
		printf(",\"name\":");
		trace_json_str(stdout, x->name);
		printf(",\"depth\":%d,\"phase\":", x->depth);
		trace_json_str(stdout, x->phase);
		printf(",\"layer\":%d,\"layer_desc\":", x->layer);
		trace_json_str(stdout, layer_desc(pr, x));
		printf(",\"top\":%s,\"calls\":%llu,\"bytes\":%llu,\"formula_bytes\":",
		       x->top ? "true" : "false", (unsigned long long)x->calls,
		       (unsigned long long)x->bytes);
		json_u64_or_null(stdout, e != NULL, e ? e->bytes : 0);
		printf(",\"diff_bytes\":");
		if (e)
			printf("%lld", (long long)x->bytes - (long long)e->bytes);
		else
			printf("null");
		printf(",\"formula\":");
		if (e && e->formula[0])
			trace_json_str(stdout, e->formula);
		else
			printf("null");
		printf(",\"msgs\":%llu,\"rounds\":%u,\"paper_rounds\":", (unsigned long long)x->msgs,
		       x->rounds);
		json_u64_or_null(stdout, e && e->has_rounds, e ? e->rounds : 0);
		printf(",\"cpu_s\":[%.9f,%.9f,%.9f],\"wait_s\":%.9f,\"sim_s\":%.9f,\"wall_s\":%.9f}",
		       sec(x->cpu_ns[0]), sec(x->cpu_ns[1]), sec(x->cpu_ns[2]), sec(x->wait_ns),
		       sec(x->sim_ns), sec(x->wall_ns));
	}
	printf("\n],\n\"missing\":[");
	const struct profile_expect *e;
	for (size_t k = 0; (e = profile_missing(pr, k)); k++) {
		printf("%s{\"path\":", k ? "," : "");
		trace_json_str(stdout, e->path);
		printf(",\"formula_bytes\":%llu}", (unsigned long long)e->bytes);
	}
	printf("]}\n");
}

static void tsv_tree(FILE *f, const struct profile *pr, const struct opts *o)
{
	fprintf(f, "# snn profile --net %s --batch %llu --iters %llu%s\n", o->nf.net_name,
		(unsigned long long)o->nf.batch, (unsigned long long)o->nf.iters,
		o->nf.train ? " --train" : "");
	fprintf(f, "# one row per scope of the merged statistics tree; whole-run totals; '-': no "
		   "formula\n");
	fprintf(f, "path\tphase\tlayer\tlayer_desc\tprotocol\tdepth\tcalls\tbytes\tformula_bytes\t"
		   "diff_bytes\tmsgs\trounds\tpaper_rounds\tcpu_p0_s\tcpu_p1_s\tcpu_p2_s\twait_s\t"
		   "sim_s\twall_s\tformula\n");
	for (size_t i = 0; i < pr->n; i++) {
		const struct profile_node *x = &pr->node[i];
		const struct profile_expect *e = x->expect;
		int proto = x->depth >= 3 || (x->depth == 2 && !x->layer);
		fprintf(f, "%s\t%s\t", x->depth ? x->path : "total", x->phase[0] ? x->phase : "-");
		if (x->layer)
			fprintf(f, "%d\t%s\t", x->layer, layer_desc(pr, x));
		else
			fprintf(f, "-\t-\t");
		fprintf(f, "%s\t%d\t%llu\t%llu\t", proto ? x->name : "-", x->depth,
			(unsigned long long)x->calls, (unsigned long long)x->bytes);
		if (e)
			fprintf(f, "%llu\t%lld\t", (unsigned long long)e->bytes,
				(long long)x->bytes - (long long)e->bytes);
		else
			fprintf(f, "-\t-\t");
		fprintf(f, "%llu\t%u\t", (unsigned long long)x->msgs, x->rounds);
		if (e && e->has_rounds)
			fprintf(f, "%llu\t", (unsigned long long)e->rounds);
		else
			fprintf(f, "-\t");
		fprintf(f, "%.9f\t%.9f\t%.9f\t%.9f\t%.9f\t%.9f\t%s\n", sec(x->cpu_ns[0]),
			sec(x->cpu_ns[1]), sec(x->cpu_ns[2]), sec(x->wait_ns), sec(x->sim_ns),
			sec(x->wall_ns), e && e->formula[0] ? e->formula : "-");
	}
}

/* Bytes per layer and top-level protocol: a stacked bar chart's table. */
static void tsv_comm(FILE *f, const struct profile *pr, const struct opts *o)
{
	fprintf(f, "# snn profile --net %s --batch %llu --iters %llu%s\n", o->nf.net_name,
		(unsigned long long)o->nf.batch, (unsigned long long)o->nf.iters,
		o->nf.train ? " --train" : "");
	profile_write_comm(f, pr);
}

void profile_write_comm(FILE *f, const struct profile *pr)
{
	fprintf(f, "# bytes sent by all parties per layer (as run) and top-level protocol; outside "
		   "the forward phase the protocol is prefixed with the phase\n");
	fprintf(f, "layer\tprotocol\tbytes\tphase\n");
	for (size_t i = 0; i < pr->n; i++) {
		const struct profile_node *x = &pr->node[i];
		if (!x->top)
			continue;
		char label[PROFILE_DESC_LEN + 16];
		layer_label(pr, x, label, sizeof(label));
		int prefix = strcmp(x->phase, "forward") != 0 && strcmp(x->phase, "output") != 0;
		fprintf(f, "%s\t%s%s%s\t%llu\t%s\n", label, prefix ? x->phase : "", prefix ? ":" : "",
			x->name, (unsigned long long)x->bytes, x->phase);
	}
}

/* ---- snn profile ---- */

static void usage(FILE *out)
{
	fprintf(out,
		"usage: snn profile --net NAME|FILE [options]\n\n"
		"Runs the network once, verified against its cleartext fixed-point twin (secure\n"
		"inference = forward pass and argmax; with --train SGD iterations), on synthetic\n"
		"data, and shows where the bytes and the time go: per phase (forward, output,\n"
		"backward, update), layer (numbered as run: relu+maxpool pairs run as maxpool+relu),\n"
		"protocol and sub-protocol, each beside the spec's byte formula (section 9) and\n"
		"the paper's rounds (Tables 1-2); then totals per party and per link. A scope\n"
		"whose bytes differ from its formula is marked '!' (exit status 1).\n\n"
		"options:\n"
		"  --net NAME|FILE    network: A, B, C, D, A-bench ... D-bench, or a description\n"
		"                     file (see snn train --help)\n"
		"  --batch N          images per iteration (default 1)\n"
		"  --train            SGD iterations with the ASM output instead of inference;\n"
		"                     the batch must be a power of two (paper learning rate)\n"
		"  --iters N          iterations in the run (default 1); figures are totals\n"
		"  --json             one JSON document on stdout: run, totals, parties, links,\n"
		"                     and \"nodes\", one object per scope in tree order\n"
		"  --tsv FILE         the tree as TSV with '#' metadata: path, phase, layer,\n"
		"                     layer_desc, protocol, depth, calls, bytes, formula_bytes,\n"
		"                     diff_bytes, msgs, rounds, paper_rounds, cpu_p0_s, cpu_p1_s,\n"
		"                     cpu_p2_s, wait_s, sim_s, wall_s, formula ('-': none)\n"
		"  --comm-tsv FILE    bytes per layer and top-level protocol (layer, protocol,\n"
		"                     bytes, phase) for a stacked bar chart; default with --tsv:\n"
		"                     beside it, X.tsv -> X-comm.tsv\n"
		"  --trace FILE       write the run's events as a Chrome trace (chrome://tracing,\n"
		"                     ui.perfetto.dev)\n");
	cli_print_run_flags(out);
}

static int parse(struct opts *o, int argc, char **argv)
{
	memset(o, 0, sizeof(*o));
	cli_run_default(&o->run);
	netrun_flags_default(&o->nf);
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		int r = netrun_parse_flag("profile", &o->nf, &o->run, argc, argv, &i);
		if (r < 0)
			return 2;
		if (r > 0)
			continue;
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			usage(stdout);
			return 1;
		} else if (strcmp(a, "--json") == 0) {
			o->json = 1;
		} else if (cli_is(a, "--tsv")) {
			if (!(o->tsv_path = cli_value("profile", argc, argv, &i)))
				return 2;
		} else if (cli_is(a, "--comm-tsv")) {
			if (!(o->comm_path = cli_value("profile", argc, argv, &i)))
				return 2;
		} else if (cli_is(a, "--trace")) {
			if (!(o->trace_path = cli_value("profile", argc, argv, &i)))
				return 2;
		} else {
			return cli_reject("profile", a);
		}
	}
	if (netrun_flags_check("profile", &o->nf) < 0)
		return 2;
	if (o->tsv_path && !o->comm_path) {
		const char *dot = strrchr(o->tsv_path, '.'), *slash = strrchr(o->tsv_path, '/');
		int stem = dot && (!slash || dot > slash) ? (int)(dot - o->tsv_path)
							  : (int)strlen(o->tsv_path);
		snprintf(o->comm_buf, sizeof(o->comm_buf), "%.*s-comm.tsv", stem, o->tsv_path);
		o->comm_path = o->comm_buf;
	}
	return 0;
}

static FILE *open_out(const char *flag, const char *path)
{
	FILE *f = fopen(path, "w");
	if (!f)
		fprintf(stderr, "snn profile: %s: cannot write '%s'\n", flag, path);
	return f;
}

static int close_out(FILE *f, const char *flag, const char *path)
{
	if (f && fclose(f) != 0) {
		fprintf(stderr, "snn profile: %s: error writing '%s'\n", flag, path);
		return -1;
	}
	return 0;
}

int profile_main(int argc, char **argv)
{
	struct opts o;
	int rc = parse(&o, argc, argv);
	if (rc)
		return rc == 1 ? 0 : rc;

	struct nn_net net;
	char err[512];
	struct netrun_spec spec;
	if (netrun_flags_spec("profile", &o.nf, o.run.cfg.seed, &net, &spec) < 0)
		return 2;

	int status = 2;
	FILE *tsv = NULL, *comm = NULL, *trace = NULL;
	struct trace *t = NULL;
	if (o.tsv_path && !(tsv = open_out("--tsv", o.tsv_path)))
		goto out;
	if (o.comm_path && !(comm = open_out("--comm-tsv", o.comm_path)))
		goto out;
	if (o.trace_path && !(trace = open_out("--trace", o.trace_path)))
		goto out;

	struct sim_config cfg = o.run.cfg;
	if (trace && trace_create(&t) < 0) {
		fprintf(stderr, "snn profile: --trace: out of memory\n");
		goto out;
	}
	cfg.trace = t;
	struct netrun_result r;
	status = 1;
	if (netrun(&spec, &cfg, &r, err, sizeof(err)) < 0) {
		fprintf(stderr, "snn profile: %s\n", err);
		netrun_finish(&r);
		goto out;
	}
	struct profile pr;
	int brc = profile_build(&pr, &r.res, &net, spec.batch, spec.iters, o.nf.train, spec.frac);
	if (brc < 0) {
		fprintf(stderr, "snn profile: %s\n", error_strerror(brc));
		profile_finish(&pr);
		netrun_finish(&r);
		goto out;
	}
	if (o.json)
		json_doc(&pr, &o, &r);
	else
		human(&pr, &o, &r);
	if (tsv || comm) {
		struct report_meta meta;
		report_meta_collect(&meta);
		if (tsv) {
			report_meta_tsv(tsv, &meta, &o.run, NULL);
			tsv_tree(tsv, &pr, &o);
		}
		if (comm) {
			report_meta_tsv(comm, &meta, &o.run, NULL);
			tsv_comm(comm, &pr, &o);
		}
	}
	int trc = 0;
	if (t && (trc = trace_write_chrome(t, trace)) < 0)
		fprintf(stderr, "snn profile: --trace: cannot write '%s': %s\n", o.trace_path,
			error_strerror(trc));
	status = pr.n_mismatch || pr.n_missing || trc < 0 ? 1 : 0;
	profile_finish(&pr);
	netrun_finish(&r);
out:
	trace_destroy(t);
	if (close_out(tsv, "--tsv", o.tsv_path) < 0 || close_out(comm, "--comm-tsv", o.comm_path) < 0 ||
	    close_out(trace, "--trace", o.trace_path) < 0)
		status = status ? status : 1;
	return status;
}
