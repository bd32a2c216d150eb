#include "cli.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

int cli_is(const char *arg, const char *flag)
{
	size_t n = strlen(flag);
	return strncmp(arg, flag, n) == 0 && (arg[n] == '\0' || arg[n] == '=');
}

int cli_reject(const char *cmd, const char *arg)
{
	fprintf(stderr, "snn %s: %s '%s' (see snn %s --help)\n", cmd,
	        arg[0] == '-' && arg[1] != '\0' ? "unknown option" : "unexpected argument", arg,
	        cmd);
	return 2;
}

const char *cli_value(const char *cmd, int argc, char **argv, int *i)
{
	const char *eq = strchr(argv[*i], '=');
	if (eq && strncmp(argv[*i], "--", 2) == 0)
		return eq + 1;
	if (*i + 1 >= argc) {
		fprintf(stderr, "snn %s: %s needs a value\n", cmd, argv[*i]);
		return NULL;
	}
	(*i)++;
	return argv[*i];
}

int cli_parse_u64(const char *cmd, const char *flag, const char *s, uint64_t min, uint64_t max,
		  uint64_t *out)
{
	char *end;
	errno = 0;
	if (!s || !*s || *s == '-' || *s == '+' || *s == ' ')
		goto bad;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end || v < min || v > max)
		goto bad;
	*out = v;
	return 0;
bad:
	fprintf(stderr, "snn %s: %s: expected an integer from %llu to %llu, got '%s'\n", cmd, flag,
		(unsigned long long)min, (unsigned long long)max, s ? s : "");
	return -1;
}

int cli_parse_double(const char *cmd, const char *flag, const char *s, double min, double max,
		     double *out)
{
	char *end;
	errno = 0;
	double v = s && *s ? strtod(s, &end) : NAN;
	if (!s || !*s || errno || *end || isnan(v) || v < min || v > max) {
		fprintf(stderr, "snn %s: %s: expected a number from %g to %g, got '%s'\n", cmd, flag,
			min, max, s ? s : "");
		return -1;
	}
	*out = v;
	return 0;
}

int cli_parse_dims(const char *cmd, const char *flag, const char *s, size_t *dims, size_t n,
		   const char *names)
{
	const char *p = s;
	for (size_t k = 0; k < n; k++) {
		char *end;
		errno = 0;
		if (*p < '0' || *p > '9')
			goto bad;
		unsigned long long v = strtoull(p, &end, 10);
		if (errno || v == 0 || v > (1ull << 24))
			goto bad;
		dims[k] = (size_t)v;
		p = end;
		if (k + 1 < n) {
			if (*p != 'x' && *p != ',')
				goto bad;
			p++;
		}
	}
	if (*p)
		goto bad;
	return 0;
bad:
	fprintf(stderr, "snn %s: %s: expected %zu positive integers %s (separated by 'x' or ','), got '%s'\n",
		cmd, flag, n, names, s);
	return -1;
}

int cli_parse_network(const char *cmd, const char *flag, const char *s, struct netmodel *m)
{
	char err[NETMODEL_TEXT_LEN];
	if (netmodel_parse(m, s, err, sizeof(err)) < 0) {
		fprintf(stderr, "snn %s: %s: %s\n", cmd, flag, err);
		return -1;
	}
	return 0;
}

int cli_parse_choice(const char *cmd, const char *flag, const char *s, const char *const *choices,
		     int *out)
{
	for (int k = 0; choices[k]; k++) {
		if (strcmp(s, choices[k]) == 0) {
			*out = k;
			return 0;
		}
	}
	fprintf(stderr, "snn %s: %s: unknown value '%s'; accepted:", cmd, flag, s);
	for (int k = 0; choices[k]; k++)
		fprintf(stderr, "%s %s", k ? "," : "", choices[k]);
	fprintf(stderr, "\n");
	return -1;
}

void cli_run_default(struct cli_run *r)
{
	sim_config_default(&r->cfg);
	r->network = "none";
}

int cli_parse_run_flag(const char *cmd, struct cli_run *r, int argc, char **argv, int *i)
{
	static const char *const clocks[] = { "virtual", "real", NULL };
	const char *arg = argv[*i];
	const char *v;
	if (cli_is(arg, "--network")) {
		if (!(v = cli_value(cmd, argc, argv, i)) ||
		    cli_parse_network(cmd, "--network", v, &r->cfg.net) < 0)
			return -1;
		r->network = v;
		return 1;
	}
	if (cli_is(arg, "--clock")) {
		int c;
		if (!(v = cli_value(cmd, argc, argv, i)) ||
		    cli_parse_choice(cmd, "--clock", v, clocks, &c) < 0)
			return -1;
		r->cfg.clock = c == 0 ? SIM_CLOCK_VIRTUAL : SIM_CLOCK_REAL;
		return 1;
	}
	if (cli_is(arg, "--seed")) {
		if (!(v = cli_value(cmd, argc, argv, i)) ||
		    cli_parse_u64(cmd, "--seed", v, 0, UINT64_MAX, &r->cfg.seed) < 0)
			return -1;
		return 1;
	}
	if (cli_is(arg, "--cpu-scale")) {
		if (!(v = cli_value(cmd, argc, argv, i)) ||
		    cli_parse_double(cmd, "--cpu-scale", v, 0.0, 1e6, &r->cfg.cpu_scale) < 0)
			return -1;
		return 1;
	}
	if (cli_is(arg, "--timeout")) {
		uint64_t ns;
		if (!(v = cli_value(cmd, argc, argv, i)))
			return -1;
		if (netmodel_parse_duration(v, &ns) < 0 || ns == 0) {
			fprintf(stderr, "snn %s: --timeout: expected a positive duration like 30s or 500ms, got '%s'\n",
				cmd, v);
			return -1;
		}
		r->cfg.timeout_ns = ns;
		return 1;
	}
	return 0;
}

void cli_print_run_flags(FILE *out)
{
	const char *const *names = netmodel_preset_names();
	fprintf(out, "  --network SPEC     network model (default none): a preset (");
	for (int k = 0; names[k]; k++)
		fprintf(out, "%s%s", k ? ", " : "", names[k]);
	fprintf(out, "),\n"
		     "                     or lat=29ms|ping=58ms,bw=40MB/s[,overhead=64B], a preset\n"
		     "                     followed by such keys, and per-link overrides after ';'\n"
		     "                     (P0-P2:lat=5ms both directions, P0->P2:bw=1MB/s one)\n"
		     "  --clock MODE       virtual (default: simulated clocks, runs at compute speed)\n"
		     "                     or real (deliveries really delayed)\n"
		     "  --cpu-scale X      virtual clock: simulated time per CPU time (default 1;\n"
		     "                     0 = communication only, deterministic)\n"
		     "  --seed N           seed of every key and input (default 1)\n"
		     "  --timeout T        a receive waiting longer fails (default 120s)\n");
}
