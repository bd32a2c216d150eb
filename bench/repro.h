/* `snn repro`: the paper's Tables 3-8 measured here and printed beside the
 * published figures.
 *
 * Every network figure comes from netrun() (a verified secure run on
 * synthetic data), every Table 8 row from the protocol benchmarks; both
 * under the paper-lan and paper-wan models with the virtual clock. Training
 * tables time iterations and extrapolate to epochs as the paper did
 * (per-iteration time x epochs x 60000 / batch), and say so. */
#ifndef SNN_BENCH_REPRO_H
#define SNN_BENCH_REPRO_H

#include <stddef.h>
#include <stdio.h>

/* One output row: a figure of ours beside the published one. */
struct repro_row {
	char table[8];       /* "3" ... "8", or "speed" */
	char item[24];       /* "A", "drelu", "SecureML-2PC" */
	char dims[40];       /* "-", "128x128", "m=784,n=128,v=10" */
	int batch;           /* 0 when not applicable */
	int epochs;          /* 0 when not applicable */
	char metric[16];     /* lan_time, wan_time, comm, lan_iter, wall_iter, accuracy ... */
	double ours;         /* NAN: not measured here */
	double published;    /* NAN: none */
	char published_text[16]; /* as printed, "-" if none */
	char unit[8];        /* s, ms, h, MB, % */
	int match;           /* comm rows: enum paper_match or REPRO_MATCH_EXPLAINED; -1 elsewhere */
	char note[200];      /* why a figure differs, what it is */
};

/* A mismatch the output explains exactly (the Network D variants). */
#define REPRO_MATCH_EXPLAINED 3

/* "rounded", "truncated", "explained", "no". */
const char *repro_match_name(int match);

/* ours / published, NAN when either is missing. */
double repro_ratio(const struct repro_row *r);

/* Write rows as TSV (header line, one row per line; no metadata) or as
 * JSON objects, one per line. */
void repro_write_tsv(FILE *f, const struct repro_row *rows, size_t n);
void repro_write_json(FILE *f, const struct repro_row *rows, size_t n);

/* Hours for a training run: per-iteration seconds x epochs x samples / batch. */
double repro_extrapolate_h(double iter_s, int epochs, int batch, int samples);

int repro_main(int argc, char **argv);

#endif
