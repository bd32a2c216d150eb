/* Command-line helpers shared by the snn subcommands: checked parsing of
 * flag values with messages that name the flag and the accepted values. */
#ifndef SNN_BENCH_CLI_H
#define SNN_BENCH_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "netmodel.h"
#include "sim.h"

/* Every parser prints "snn <cmd>: <flag>: <problem>" to stderr and returns
 * -1 on bad input; 0 on success. */
int cli_parse_u64(const char *cmd, const char *flag, const char *s, uint64_t min, uint64_t max,
		  uint64_t *out);
int cli_parse_double(const char *cmd, const char *flag, const char *s, double min, double max,
		     double *out);
/* "784x128x10" or "784,128,10": exactly n positive integers. */
int cli_parse_dims(const char *cmd, const char *flag, const char *s, size_t *dims, size_t n,
		   const char *names);
int cli_parse_network(const char *cmd, const char *flag, const char *s, struct netmodel *m);
/* One of choices (NULL-terminated); *out is its index. */
int cli_parse_choice(const char *cmd, const char *flag, const char *s, const char *const *choices,
		     int *out);

/* Take the value of flag argv[*i] ("--x v" or "--x=v"): NULL (with a message) if missing. */
const char *cli_value(const char *cmd, int argc, char **argv, int *i);

/* 1 if argv[i] is flag, as "--flag" or "--flag=..." */
int cli_is(const char *arg, const char *flag);

/* An argument the command does not take: prints "snn CMD: unknown option 'A'
 * (see snn CMD --help)" if it starts with '-' (and is not "-" alone), else
 * "snn CMD: unexpected argument 'A' (see snn CMD --help)"; returns 2, the
 * exit status of a usage error. */
int cli_reject(const char *cmd, const char *arg);

/* The common run flags every protocol-running command takes. */
struct cli_run {
	struct sim_config cfg; /* network, clock, seed, timeout, cpu scale */
	const char *network;   /* the --network text as given */
};

void cli_run_default(struct cli_run *r);

/* If argv[*i] is one of --network, --clock, --seed, --cpu-scale, --timeout,
 * parse it (advancing *i) and return 1; 0 if it is not one of them; -1 on a
 * bad value. */
int cli_parse_run_flag(const char *cmd, struct cli_run *r, int argc, char **argv, int *i);

/* Help text for the run flags. */
void cli_print_run_flags(FILE *out);

#endif
