/* Output helpers for the snn commands: run metadata for TSV headers and
 * JSON, whole-file writes that an interruption cannot leave half done. */
#ifndef SNN_BENCH_REPORT_H
#define SNN_BENCH_REPORT_H

#include <stdint.h>
#include <stdio.h>

#include "cli.h"
#include "trace.h" /* trace_json_str: JSON string literals */

struct report_meta {
	char git[64];       /* git describe of the build */
	char date[40];      /* UTC, ISO 8601 */
	char compiler[96];  /* compiler id and version */
	char build[96];     /* build type, optimisation, sanitizers */
	char cpu[128];      /* /proc/cpuinfo model name */
	unsigned n_cpus;    /* online CPUs */
	char kernels[96];   /* GEMM and PRG implementations in use */
};

void report_meta_collect(struct report_meta *m);

/* "# key: value" lines: commit, date, compiler, flags, CPU, seed, network, clock.
 * network_note, if not NULL, replaces the network line (rows with their own models). */
void report_meta_tsv(FILE *f, const struct report_meta *m, const struct cli_run *run,
		     const char *network_note);

/* The same as JSON members (no braces), for --json outputs. */
void report_meta_json(FILE *f, const struct report_meta *m);

/* Whole-file output that an interruption cannot leave half written:
 * report_file_open writes to PATH.tmp (its name into tmp, at least
 * strlen(path) + 5 bytes), report_file_commit closes f and renames it onto
 * path. On failure both return NULL / -1 with "cannot write '...': reason" in
 * err, and leave no PATH.tmp behind. */
FILE *report_file_open(const char *path, char *tmp, size_t tmp_len, char *err, size_t err_len);
int report_file_commit(FILE *f, const char *tmp, const char *path, char *err, size_t err_len);

#endif
