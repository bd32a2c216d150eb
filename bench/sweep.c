#include "sweep.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "fixed.h"
#include "netrun.h"
#include "nn_net.h"
#include "party.h"
#include "report.h"
#include "trace.h"

#define DEFAULT_LATENCY    "0.1ms..100ms:8"
#define DEFAULT_BANDWIDTH  "10MB/s..10GB/s:6"
#define DEFAULT_LAT_POINTS 8 /* a latency range without :N */
#define DEFAULT_BW_POINTS  6 /* a bandwidth range without :N */

enum bound { BOUND_COMPUTE, BOUND_LATENCY, BOUND_BANDWIDTH };

static const char *const bound_names[] = {"compute", "latency", "bandwidth"};
static const char bound_letters[] = {'C', 'L', 'B'};

struct opts {
	struct cli_run run;     /* --network BASE, --seed, --cpu-scale, --clock ... */
	struct netrun_flags nf;     /* --net, --batch, --iters, --train */
	int json;               /* --json */
	const char *tsv_path;   /* --tsv */
	const char *lat_text;   /* --latency as given */
	const char *bw_text;    /* --bandwidth as given */
	struct sweep_range lat; /* latencies, ns */
	struct sweep_range bw;  /* bandwidths, B/s */
};

/* One re-timed grid point. */
struct point {
	uint64_t latency_ns;    /* one-way, every link */
	double bandwidth_Bps;   /* every link; 0 = infinite */
	struct trace_timing tm; /* the whole run re-timed */
	enum bound bound;       /* largest share of the critical path */
};

double sweep_range_value(const struct sweep_range *r, unsigned k)
{
	if (r->n <= 1 || k == 0)
		return r->lo;
	if (k + 1 >= r->n)
		return r->hi;
	return r->lo * pow(r->hi / r->lo, (double)k / (double)(r->n - 1));
}

/* ---- parsing ---- */

/* One latency or bandwidth through the network-model parser, so the units
 * and messages are --network's. */
static int parse_one(const char *flag, const char *key, const char *text, double *out)
{
	char spec[256], err[NETMODEL_TEXT_LEN];
	if (!*text || strpbrk(text, ",;=") ||
	    snprintf(spec, sizeof(spec), "%s=%s", key, text) >= (int)sizeof(spec)) {
		fprintf(stderr, "snn sweep: %s: '%s' is not one %s\n", flag, text,
		        key[0] == 'l' ? "duration (such as 0.1ms, 50us, 1s)"
		                      : "rate (such as 10MB/s, 1Gbit/s, inf)");
		return -1;
	}
	struct netmodel m;
	if (netmodel_parse(&m, spec, err, sizeof(err)) < 0) {
		const char *q = strchr(err, '\'');
		fprintf(stderr, "snn sweep: %s: %s\n", flag, q ? q : err);
		return -1;
	}
	*out = key[0] == 'l' ? (double)m.link[0][1].latency_ns : m.link[0][1].bandwidth_Bps;
	return 0;
}

/* "A", "A..B" or "A..B:N" (N points, log-spaced). */
static int parse_range(const char *flag, const char *key, const char *s, unsigned n_default,
                       struct sweep_range *r)
{
	char buf[256];
	if (snprintf(buf, sizeof(buf), "%s", s) >= (int)sizeof(buf)) {
		fprintf(stderr, "snn sweep: %s: too long\n", flag);
		return -1;
	}
	int is_lat = key[0] == 'l';
	const char *what = is_lat ? "0.1ms..100ms:8" : "10MB/s..10GB/s:6";
	uint64_t n = 0;
	char *colon = strrchr(buf, ':');
	if (colon) {
		*colon = '\0';
		char flag_n[64];
		snprintf(flag_n, sizeof(flag_n), "%s: points after ':'", flag);
		if (cli_parse_u64("sweep", flag_n, colon + 1, 1, SWEEP_MAX_POINTS, &n) < 0)
			return -1;
	}
	char *dots = strstr(buf, "..");
	if (!dots) {
		if (n > 1) {
			fprintf(stderr, "snn sweep: %s: %llu points need a range A..B, as in %s\n",
			        flag, (unsigned long long)n, what);
			return -1;
		}
		if (parse_one(flag, key, buf, &r->lo) < 0)
			return -1;
		r->hi = r->lo;
		r->n = 1;
		return 0;
	}
	*dots = '\0';
	if (parse_one(flag, key, buf, &r->lo) < 0 || parse_one(flag, key, dots + 2, &r->hi) < 0)
		return -1;
	r->n = n ? (unsigned)n : n_default;
	if (r->n == 1) {
		fprintf(stderr,
		        "snn sweep: %s: a range A..B needs at least 2 points (or give one value)\n",
		        flag);
		return -1;
	}
	if (r->lo <= 0 || r->hi <= 0) {
		fprintf(stderr,
		        "snn sweep: %s: a range is log-spaced, so both ends must be %s, got '%s'\n",
		        flag, is_lat ? "above 0" : "finite (not inf)", s);
		return -1;
	}
	if (!(r->lo < r->hi)) {
		fprintf(stderr, "snn sweep: %s: a range A..B needs A < B, got '%s'\n", flag, s);
		return -1;
	}
	return 0;
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: snn sweep --net NAME|FILE [options]\n\n"
		"Runs the network once (verified against its cleartext twin, with every event\n"
		"recorded) and re-times that same run under a grid of one-way latencies and\n"
		"bandwidths (every link; the base model's per-message overhead kept). For each\n"
		"point: simulated time per iteration and what bounds it, the largest share of\n"
		"the critical path: C compute, L latency, B bandwidth (transfer).\n\n"
		"options:\n"
		"  --net NAME|FILE    network: A, B, C, D, A-bench ... D-bench, or a description\n"
		"                     file (see snn train --help)\n"
		"  --batch N          images per iteration (default 1)\n"
		"  --train            an SGD iteration instead of inference; the batch must be a\n"
		"                     power of two (paper learning rate)\n"
		"  --iters N          iterations in the run (default 1); times are per iteration\n"
		"  --latency A..B[:N] one-way latencies, N log-spaced points (default\n"
		"                     " DEFAULT_LATENCY "; N defaults to %d), or one value\n"
		"  --bandwidth A..B[:N]  bandwidths (default " DEFAULT_BANDWIDTH "; N defaults\n"
		"                     to %d), or one value (inf allowed); units as --network:\n"
		"                     ns, us, ms, s; B/s, kB/s, MB/s, GB/s, MiB/s, Mbit/s, Gbit/s ...\n"
		"  --json             one JSON object per grid point on stdout\n"
		"  --tsv FILE         the grid as TSV with '#' metadata: net, batch, mode,\n"
		"                     latency_ms, bandwidth_MBps, sim_s, compute_s, latency_s,\n"
		"                     transfer_s, bound\n"
		"  --network BASE     the model of the one real run (default none); --cpu-scale\n"
		"                     also scales the recorded CPU time in every re-timing\n",
		DEFAULT_LAT_POINTS, DEFAULT_BW_POINTS);
	cli_print_run_flags(out);
}

/* 0: go on; 1: help printed; 2: bad arguments. */
static int parse(struct opts *o, int argc, char **argv)
{
	memset(o, 0, sizeof(*o));
	cli_run_default(&o->run);
	netrun_flags_default(&o->nf);
	o->lat_text = DEFAULT_LATENCY;
	o->bw_text = DEFAULT_BANDWIDTH;
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		int r = netrun_parse_flag("sweep", &o->nf, &o->run, argc, argv, &i);
		if (r < 0)
			return 2;
		if (r > 0)
			continue;
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			usage(stdout);
			return 1;
		} else if (strcmp(a, "--json") == 0) {
			o->json = 1;
		} else if (cli_is(a, "--latency")) {
			if (!(o->lat_text = cli_value("sweep", argc, argv, &i)))
				return 2;
		} else if (cli_is(a, "--bandwidth")) {
			if (!(o->bw_text = cli_value("sweep", argc, argv, &i)))
				return 2;
		} else if (cli_is(a, "--tsv")) {
			if (!(o->tsv_path = cli_value("sweep", argc, argv, &i)))
				return 2;
		} else {
			return cli_reject("sweep", a);
		}
	}
	if (parse_range("--latency", "lat", o->lat_text, DEFAULT_LAT_POINTS, &o->lat) < 0 ||
	    parse_range("--bandwidth", "bw", o->bw_text, DEFAULT_BW_POINTS, &o->bw) < 0)
		return 2;
	if (netrun_flags_check("sweep", &o->nf) < 0)
		return 2;
	return 0;
}

/* ---- the grid ---- */

static enum bound bound_of(const struct trace_timing *tm)
{
	enum bound b = BOUND_COMPUTE;
	uint64_t best = tm->compute_ns;
	if (tm->latency_ns > best) {
		b = BOUND_LATENCY;
		best = tm->latency_ns;
	}
	if (tm->transfer_ns > best)
		b = BOUND_BANDWIDTH;
	return b;
}

/* BASE with the latency and bandwidth of every link replaced. */
static void grid_model(struct netmodel *m, const struct netmodel *base, uint64_t lat_ns,
                       double bw_Bps)
{
	*m = *base;
	snprintf(m->name, sizeof(m->name), "custom");
	for (int i = 0; i < NETMODEL_PARTIES; i++)
		for (int j = 0; j < NETMODEL_PARTIES; j++)
			if (i != j) {
				m->link[i][j].latency_ns = lat_ns;
				m->link[i][j].bandwidth_Bps = bw_Bps;
			}
}

static int retime_grid(const struct opts *o, const struct trace *t, struct point *pts)
{
	for (unsigned a = 0; a < o->lat.n; a++) {
		for (unsigned b = 0; b < o->bw.n; b++) {
			struct point *p = &pts[a * o->bw.n + b];
			p->latency_ns = (uint64_t)llround(sweep_range_value(&o->lat, a));
			p->bandwidth_Bps = sweep_range_value(&o->bw, b);
			struct netmodel m;
			grid_model(&m, &o->run.cfg.net, p->latency_ns, p->bandwidth_Bps);
			TRY(trace_retime(t, &m, o->run.cfg.cpu_scale, &p->tm));
			p->bound = bound_of(&p->tm);
		}
	}
	return 0;
}

/* ---- output ---- */

static double per_iter_s(uint64_t ns, uint64_t iters)
{
	return (double)ns / 1e9 / (double)iters;
}

static void print_mbps(FILE *f, double Bps)
{
	if (Bps > 0)
		fprintf(f, "%.6g", Bps / 1e6);
	else
		fprintf(f, "inf");
}

static void human(const struct opts *o, const struct nn_net *net, const struct netrun_result *r,
                  const struct trace_timing *own, const struct point *pts, double sweep_s)
{
	char base[NETMODEL_TEXT_LEN], buf[64];
	netmodel_format(&o->run.cfg.net, base, sizeof(base));
	printf(
	    "snn sweep: network %s, batch %llu, %s, %llu iteration%s; one verified run under %s\n",
	    net->name, (unsigned long long)o->nf.batch, o->nf.train ? "training" : "inference",
	    (unsigned long long)o->nf.iters, o->nf.iters == 1 ? "" : "s", base);
	printf("  per iteration: %.4g MB, %.0f messages, %.0f rounds, CPU P0 %.3f s, P1 %.3f s, "
	       "P2 %.3f s; wall %.3f s, simulated %.4f s\n",
	       r->bytes / 1e6, r->msgs, r->rounds, r->cpu_s[0], r->cpu_s[1], r->cpu_s[2], r->wall_s,
	       r->sim_s);
	printf("  the run re-timed under its own model: %.4f s (%s); %u grid point(s) re-timed in "
	       "%.3f s\n",
	       per_iter_s(own->total_ns, r->iters),
	       own->total_ns == r->res.sim_ns       ? "equal to the run"
	       : o->run.cfg.clock == SIM_CLOCK_REAL ? "the run was on the real clock"
	                                            : "DIFFERS from the run",
	       o->lat.n * o->bw.n, sweep_s);
	printf(
	    "\nsimulated time per iteration (s) and its bound: C compute, L latency, B bandwidth;\n"
	    "'|' the bound changes from the cell on the left, '^' from the cell above\n\n");
	printf("%-12s", "latency");
	for (unsigned b = 0; b < o->bw.n; b++) {
		netmodel_format_rate(pts[b].bandwidth_Bps, buf, sizeof(buf));
		printf(" %12s", buf);
	}
	printf("\n");
	for (unsigned a = 0; a < o->lat.n; a++) {
		const struct point *row = &pts[a * o->bw.n];
		netmodel_format_duration(row[0].latency_ns, buf, sizeof(buf));
		printf("%-12s", buf);
		for (unsigned b = 0; b < o->bw.n; b++) {
			const struct point *p = &row[b];
			int left = b > 0 && row[b - 1].bound != p->bound;
			int above = a > 0 && pts[(a - 1) * o->bw.n + b].bound != p->bound;
			printf(" %c%9.4f %c%c", left ? '|' : ' ',
			       per_iter_s(p->tm.total_ns, r->iters), bound_letters[p->bound],
			       above ? '^' : ' ');
		}
		printf("\n");
	}
	/* Where the bound changes, in words. */
	int n_changes = 0;
	for (unsigned a = 0; a < o->lat.n; a++) {
		const struct point *row = &pts[a * o->bw.n];
		for (unsigned b = 1; b < o->bw.n; b++) {
			if (row[b].bound == row[b - 1].bound)
				continue;
			char lat[32], lo[32], hi[32];
			netmodel_format_duration(row[b].latency_ns, lat, sizeof(lat));
			netmodel_format_rate(row[b - 1].bandwidth_Bps, lo, sizeof(lo));
			netmodel_format_rate(row[b].bandwidth_Bps, hi, sizeof(hi));
			if (!n_changes++)
				printf("\n");
			printf("  at %s: %s-bound up to %s, %s-bound from %s\n", lat,
			       bound_names[row[b - 1].bound], lo, bound_names[row[b].bound], hi);
		}
	}
	if (!n_changes)
		printf("\n  %s-bound at every point\n", bound_names[pts[0].bound]);
}

static void json_points(const struct opts *o, const struct nn_net *net,
                        const struct netrun_result *r, const struct point *pts)
{
	for (unsigned a = 0; a < o->lat.n; a++) {
		for (unsigned b = 0; b < o->bw.n; b++) {
			const struct point *p = &pts[a * o->bw.n + b];
			int left = b > 0 && pts[a * o->bw.n + b - 1].bound != p->bound;
			int above = a > 0 && pts[(a - 1) * o->bw.n + b].bound != p->bound;
			printf("{\"net\":");
			trace_json_str(stdout, net->name);
			printf(",\"batch\":%llu,\"mode\":\"%s\",\"iters\":%zu,\"run_network\":",
			       (unsigned long long)o->nf.batch, o->nf.train ? "train" : "infer",
			       r->iters);
			trace_json_str(stdout, o->run.network);
			printf(",\"latency_ms\":%.9g,\"bandwidth_MBps\":",
			       (double)p->latency_ns / 1e6);
			if (p->bandwidth_Bps > 0)
				printf("%.9g", p->bandwidth_Bps / 1e6);
			else
				printf("null");
			printf(",\"sim_s\":%.9g,\"compute_s\":%.9g,\"latency_s\":%.9g,\"transfer_"
			       "s\":%.9g,"
			       "\"msgs_on_path\":%.9g,\"bound\":\"%s\",\"bound_changes_left\":%s,"
			       "\"bound_changes_above\":%s,\"bytes\":%.9g,\"rounds\":%.9g}\n",
			       per_iter_s(p->tm.total_ns, r->iters),
			       per_iter_s(p->tm.compute_ns, r->iters),
			       per_iter_s(p->tm.latency_ns, r->iters),
			       per_iter_s(p->tm.transfer_ns, r->iters),
			       (double)p->tm.n_msgs / (double)r->iters, bound_names[p->bound],
			       left ? "true" : "false", above ? "true" : "false", r->bytes,
			       r->rounds);
		}
	}
}

static void tsv_points(FILE *f, const struct opts *o, const struct nn_net *net,
                       const struct netrun_result *r, const struct point *pts)
{
	struct report_meta meta;
	report_meta_collect(&meta);
	char base[NETMODEL_TEXT_LEN], note[NETMODEL_TEXT_LEN + 160];
	netmodel_format(&o->run.cfg.net, base, sizeof(base));
	snprintf(note, sizeof(note),
	         "one run under %s, re-timed under each row's latency and "
	         "bandwidth on every link (overhead kept)",
	         base);
	report_meta_tsv(f, &meta, &o->run, note);
	fprintf(f,
	        "# run: %s, batch %llu, %s, %zu iteration(s); per iteration %.0f bytes, %.0f "
	        "messages, %.0f rounds, CPU s P0 %.4f P1 %.4f P2 %.4f, simulated %.6f s\n",
	        net->name, (unsigned long long)o->nf.batch, o->nf.train ? "train" : "infer", r->iters,
	        r->bytes, r->msgs, r->rounds, r->cpu_s[0], r->cpu_s[1], r->cpu_s[2], r->sim_s);
	fprintf(f,
	        "# grid: --latency %s --bandwidth %s; times per iteration; compute_s + "
	        "latency_s + transfer_s = sim_s along the critical path; bound = the largest\n",
	        o->lat_text, o->bw_text);
	fprintf(f, "net\tbatch\tmode\tlatency_ms\tbandwidth_MBps\tsim_s\tcompute_s\tlatency_s\t"
	           "transfer_s\tbound\n");
	for (unsigned k = 0; k < o->lat.n * o->bw.n; k++) {
		const struct point *p = &pts[k];
		fprintf(f, "%s\t%llu\t%s\t%.6g\t", net->name, (unsigned long long)o->nf.batch,
		        o->nf.train ? "train" : "infer", (double)p->latency_ns / 1e6);
		print_mbps(f, p->bandwidth_Bps);
		fprintf(f, "\t%.6g\t%.6g\t%.6g\t%.6g\t%s\n", per_iter_s(p->tm.total_ns, r->iters),
		        per_iter_s(p->tm.compute_ns, r->iters),
		        per_iter_s(p->tm.latency_ns, r->iters),
		        per_iter_s(p->tm.transfer_ns, r->iters), bound_names[p->bound]);
	}
}

int sweep_main(int argc, char **argv)
{
	struct opts o;
	int rc = parse(&o, argc, argv);
	if (rc)
		return rc == 1 ? 0 : rc;

	struct nn_net net;
	char err[512];
	struct netrun_spec spec;
	if (netrun_flags_spec("sweep", &o.nf, o.run.cfg.seed, &net, &spec) < 0)
		return 2;
	FILE *tsv = NULL;
	if (o.tsv_path && !(tsv = fopen(o.tsv_path, "w"))) {
		fprintf(stderr, "snn sweep: --tsv: cannot write '%s'\n", o.tsv_path);
		return 2;
	}

	int status = 1;
	struct trace *t = NULL;
	struct point *pts = NULL;
	int have_run = 0;
	struct netrun_result r;
	if (trace_create(&t) < 0 || !(pts = calloc((size_t)o.lat.n * o.bw.n, sizeof(*pts)))) {
		fprintf(stderr, "snn sweep: out of memory\n");
		goto out;
	}
	struct sim_config cfg = o.run.cfg;
	cfg.trace = t;
	have_run = 1;
	if (netrun(&spec, &cfg, &r, err, sizeof(err)) < 0) {
		fprintf(stderr, "snn sweep: %s\n", err);
		goto out;
	}

	/* First the run under its own model: the re-timing must give its time. */
	struct trace_timing own;
	uint64_t t0 = party_mono_ns();
	if ((rc = trace_retime(t, &o.run.cfg.net, o.run.cfg.cpu_scale, &own)) < 0 ||
	    (rc = retime_grid(&o, t, pts)) < 0) {
		fprintf(stderr, "snn sweep: re-timing the run failed: %s\n", error_strerror(rc));
		goto out;
	}
	double sweep_s = (double)(party_mono_ns() - t0) / 1e9;
	if (o.run.cfg.clock == SIM_CLOCK_VIRTUAL && own.total_ns != r.res.sim_ns) {
		fprintf(stderr,
		        "snn sweep: internal error: the run re-timed under its own model takes "
		        "%llu ns, the run %llu ns\n",
		        (unsigned long long)own.total_ns, (unsigned long long)r.res.sim_ns);
		goto out;
	}

	if (o.json)
		json_points(&o, &net, &r, pts);
	else
		human(&o, &net, &r, &own, pts, sweep_s);
	if (tsv)
		tsv_points(tsv, &o, &net, &r, pts);
	status = 0;
out:
	if (have_run)
		netrun_finish(&r);
	free(pts);
	trace_destroy(t);
	if (tsv && fclose(tsv) != 0) {
		fprintf(stderr, "snn sweep: --tsv: error writing '%s'\n", o.tsv_path);
		status = status ? status : 1;
	}
	return status;
}
