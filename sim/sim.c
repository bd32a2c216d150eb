#include "sim.h"

#include <pthread.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

void sim_config_default(struct sim_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	netmodel_default(&cfg->net);
	cfg->clock = SIM_CLOCK_VIRTUAL;
	cfg->cpu_scale = 1.0;
	cfg->timeout_ns = 120ull * 1000000000ull;
	cfg->seed = 1;
	cfg->fault_party = -1;
	cfg->fault_at = 0;
	cfg->arena_chunk_bytes = (size_t)1 << 20;
}

struct runner {
	struct party party[PARTY_COUNT];
	struct transport tr[PARTY_COUNT];
	struct transport_mem net;
	sim_fn fn;
	void *arg[PARTY_COUNT];
	pthread_mutex_t lock;  /* guards first_failed */
	int first_failed;      /* party that recorded the first error, -1 */
};

struct thread_arg {
	struct runner *run; /* shared runner (each thread touches only its own party) */
	int id;             /* party id */
};

static void *party_main(void *v)
{
	struct thread_arg *ta = v;
	struct runner *run = ta->run;
	struct party *p = &run->party[ta->id];

	p->cpu_mark_ns = party_thread_cpu_ns();
	if (p->trace)
		trace_on_start(p);
	stats_open_root(p);
	int rc = run->fn(p, run->arg[ta->id]);
	if (rc == 0 && p->err)
		rc = p->err;
	if (rc < 0 && !p->err)
		party_fail(p, rc, "P%d: %s", p->id, error_strerror(rc));
	stats_close_root(p);

	if (rc < 0) {
		pthread_mutex_lock(&run->lock);
		if (run->first_failed < 0)
			run->first_failed = p->id;
		pthread_mutex_unlock(&run->lock);
		/* Wake every peer blocked on this party. */
		p->tr->ops->close(p->tr, rc);
	} else {
		p->tr->ops->finish(p->tr);
	}
	return NULL;
}

static void derive_keys(struct party *parties, uint64_t seed)
{
	static const char *const own_label[PARTY_COUNT] = { "P0", "P1", "P2" };
	static const char *const pair_label[PARTY_COUNT][PARTY_COUNT] = {
		{ NULL, "P0-P1", "P0-P2" },
		{ "P0-P1", NULL, "P1-P2" },
		{ "P0-P2", "P1-P2", NULL },
	};
	uint8_t key[PRG_KEY_BYTES];
	for (int i = 0; i < PARTY_COUNT; i++) {
		prg_derive_key(key, seed, own_label[i]);
		prg_init(&parties[i].own, key);
		for (int k = 0; k < PARTY_COUNT; k++) {
			parties[i].has_common[k] = 0;
			if (k == i)
				continue;
			prg_derive_key(key, seed, pair_label[i][k]);
			prg_init(&parties[i].common[k], key);
			parties[i].has_common[k] = 1;
		}
	}
	memset(key, 0, sizeof(key));
}

static void check_links(struct sim_result *res)
{
	for (int i = 0; i < PARTY_COUNT; i++) {
		for (int j = 0; j < PARTY_COUNT; j++) {
			if (i == j)
				continue;
			const struct stats_counters *si = &res->party[i].stats.nodes[0].c;
			const struct stats_counters *sj = &res->party[j].stats.nodes[0].c;
			if (si->bytes_sent[j] == sj->bytes_recv[i] && si->msgs_sent[j] == sj->msgs_recv[i])
				continue;
			res->status = ERROR_PROTOCOL;
			res->failed_party = j;
			snprintf(res->message, sizeof(res->message),
				 "link P%d->P%d: %llu bytes in %llu messages sent but %llu bytes in %llu "
				 "messages received",
				 i, j, (unsigned long long)si->bytes_sent[j],
				 (unsigned long long)si->msgs_sent[j], (unsigned long long)sj->bytes_recv[i],
				 (unsigned long long)sj->msgs_recv[i]);
			return;
		}
	}
}

int sim_run(const struct sim_config *cfg, sim_fn fn, void *const args[PARTY_COUNT],
	    struct sim_result *res)
{
	memset(res, 0, sizeof(*res));
	res->failed_party = -1;
	if (!cfg || !fn) {
		res->status = ERROR_INVAL;
		snprintf(res->message, sizeof(res->message), "sim_run: no config or function");
		return res->status;
	}

	static struct runner zero_runner;
	struct runner *run = malloc(sizeof(*run));
	if (!run) {
		res->status = ERROR_NOMEM;
		snprintf(res->message, sizeof(res->message), "sim_run: out of memory");
		return res->status;
	}
	*run = zero_runner;
	run->fn = fn;
	run->first_failed = -1;
	int rc = transport_mem_init(&run->net);
	if (rc < 0) {
		free(run);
		res->status = rc;
		snprintf(res->message, sizeof(res->message), "sim_run: %s", error_strerror(rc));
		return rc;
	}
	pthread_mutex_init(&run->lock, NULL);
	derive_keys(run->party, cfg->seed);
	if (cfg->trace)
		trace_begin(cfg->trace, cfg);

	int init_rc = 0;
	for (int i = 0; i < PARTY_COUNT; i++) {
		struct party *p = &run->party[i];
		p->id = i;
		p->cfg = cfg;
		transport_mem_attach(&run->net, i, &run->tr[i]);
		p->tr = &run->tr[i];
		for (int k = 0; k < PARTY_COUNT; k++)
			p->out_link[k] = cfg->net.link[i][k];
		p->fault_at = (cfg->fault_party == i) ? cfg->fault_at : UINT64_MAX;
		p->trace = trace_log_of(cfg->trace, i);
		arena_init(&p->arena, cfg->arena_chunk_bytes);
		if (stats_init(&p->stats) < 0)
			init_rc = ERROR_NOMEM;
		run->arg[i] = args ? args[i] : NULL;
	}

	pthread_t tid[PARTY_COUNT];
	struct thread_arg targ[PARTY_COUNT];
	int started = 0;
	/* One start time for all: real-clock arrival times are relative to it. */
	uint64_t t0 = party_mono_ns();
	for (int i = 0; i < PARTY_COUNT; i++)
		run->party[i].start_mono_ns = t0;
	if (init_rc == 0) {
		for (; started < PARTY_COUNT; started++) {
			targ[started].run = run;
			targ[started].id = started;
			if (pthread_create(&tid[started], NULL, party_main, &targ[started]) != 0) {
				init_rc = ERROR_THREAD;
				/* Parties already running must not wait for the missing one. */
				for (int k = 0; k < PARTY_COUNT; k++)
					run->tr[k].ops->close(&run->tr[k], ERROR_THREAD);
				break;
			}
		}
	}
	for (int i = 0; i < started; i++)
		pthread_join(tid[i], NULL);
	res->wall_ns = party_mono_ns() - t0;

	for (int i = 0; i < PARTY_COUNT; i++) {
		struct party *p = &run->party[i];
		struct sim_party_result *pr = &res->party[i];
		pr->stats = p->stats;
		memset(&p->stats, 0, sizeof(p->stats));
		pr->sim_ns = p->now_ns;
		pr->cpu_ns = pr->stats.nodes ? pr->stats.nodes[0].c.cpu_ns : 0;
		pr->rounds = p->round;
		pr->err = p->err;
		memcpy(pr->errmsg, p->errmsg, sizeof(pr->errmsg));
		if (p->now_ns > res->sim_ns)
			res->sim_ns = p->now_ns;
		if (p->round > res->rounds)
			res->rounds = p->round;
		prg_finish(&p->own);
		for (int k = 0; k < PARTY_COUNT; k++)
			if (p->has_common[k])
				prg_finish(&p->common[k]);
		arena_finish(&p->arena);
	}

	if (init_rc < 0) {
		res->status = init_rc;
		snprintf(res->message, sizeof(res->message), "sim_run: %s", error_strerror(init_rc));
	} else if (run->first_failed >= 0) {
		int f = run->first_failed;
		res->status = res->party[f].err;
		res->failed_party = f;
		snprintf(res->message, sizeof(res->message), "%s", res->party[f].errmsg);
	} else {
		check_links(res);
	}

	pthread_mutex_destroy(&run->lock);
	transport_mem_finish(&run->net);
	free(run);
	return res->status;
}

void sim_result_finish(struct sim_result *res)
{
	for (int i = 0; i < PARTY_COUNT; i++)
		stats_finish(&res->party[i].stats);
}

uint64_t sim_result_bytes(const struct sim_result *res)
{
	uint64_t t = 0;
	for (int i = 0; i < PARTY_COUNT; i++)
		if (res->party[i].stats.nodes)
			t += stats_bytes_sent(&res->party[i].stats.nodes[0].c);
	return t;
}

uint64_t sim_result_msgs(const struct sim_result *res)
{
	uint64_t t = 0;
	for (int i = 0; i < PARTY_COUNT; i++)
		if (res->party[i].stats.nodes)
			t += stats_msgs_sent(&res->party[i].stats.nodes[0].c);
	return t;
}
