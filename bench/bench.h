/* `snn bench`: verify, then measure, one protocol at a time.
 *
 * Each protocol is a struct bench_case: how to make seeded inputs and share
 * them, the party function, how to check the revealed output against
 * plaintext, and the spec's byte and round formulas. The driver verifies
 * every instance before timing it and reports bytes, messages, rounds, wall
 * time, per-party CPU time and simulated time under the chosen network. */
#ifndef SNN_BENCH_BENCH_H
#define SNN_BENCH_BENCH_H

#include <stddef.h>
#include <stdint.h>

#include "cli.h"
#include "prg.h"
#include "sim.h"

#define BENCH_MAX_DIMS 6

struct bench_case;

struct bench_inst {
	const struct bench_case *bc; /* the protocol */
	size_t dims[BENCH_MAX_DIMS]; /* as given on the command line */
	char dims_text[64];          /* "784x128x10" */
	void *state;                 /* the case's inputs, shares and outputs */
	void *args[PARTY_COUNT];     /* per-party arguments of bc->fn */
};

struct bench_case {
	const char *name;        /* "matmul" */
	const char *dims_names;  /* "m,n,v" */
	size_t n_dims;           /* how many dims */
	const char *summary;     /* one line for the help */
	/* Make inputs from seed and share them. */
	int (*prepare)(struct bench_inst *b, uint64_t seed, char *err, size_t len);
	sim_fn fn;               /* the party function; arg = b->args[i] */
	/* Reveal the outputs of the last run and compare with plaintext. */
	int (*verify)(struct bench_inst *b, char *err, size_t len);
	uint64_t (*formula_bytes)(const struct bench_inst *b); /* the spec's total bytes */
	unsigned (*paper_rounds)(const struct bench_inst *b);  /* the paper's rounds */
	/* Key of the Table 8 row ("m=784,n=128,v=10"), or NULL if none. */
	const char *(*paper_dims)(const struct bench_inst *b, char *buf, size_t len);
	const char *paper_item;  /* item name in Table 8, NULL if not there */
	void (*release)(struct bench_inst *b);
};

struct bench_measure {
	int reps;                   /* measured repetitions */
	double wall_s;              /* wall time per repetition (mean) */
	double sim_s;               /* simulated time per repetition (mean) */
	double cpu_s[PARTY_COUNT];  /* CPU time per party and repetition (mean) */
	uint64_t bytes;             /* total bytes sent by all parties (one run) */
	uint64_t msgs;              /* messages (one run) */
	uint32_t rounds;            /* rounds (one run) */
	uint64_t formula_bytes;     /* the spec's bytes for this instance */
	unsigned paper_rounds;      /* the paper's rounds */
};

/* A PRG stream for a case's data: label "bench-inputs" for the plaintext
 * inputs, "owner" for the data owner's sharing (finish with prg_finish). */
void bench_stream(struct prg *g, uint64_t seed, const char *label);

/* The cases, NULL-terminated. */
extern const struct bench_case *const bench_cases[];

/* Defined in bench_linear.c, bench_relu.c, bench_maxpool.c, bench_division.c. */
extern const struct bench_case bench_case_matmul;
extern const struct bench_case bench_case_conv2d;
extern const struct bench_case bench_case_drelu;
extern const struct bench_case bench_case_relu;
extern const struct bench_case bench_case_maxpool;
extern const struct bench_case bench_case_dmaxpool;
extern const struct bench_case bench_case_division;

int bench_main(int argc, char **argv);

/* The case named name, or NULL. */
const struct bench_case *bench_find_case(const char *name);

/* "784x128x10". */
void bench_dims_text(char *buf, size_t len, const size_t *dims, size_t n);

/* The rows of the paper's Table 8, in its order. */
struct bench_table8_row {
	const char *name;            /* case name */
	size_t dims[BENCH_MAX_DIMS]; /* its dimensions */
};
extern const struct bench_table8_row bench_table8[];
extern const size_t bench_table8_rows;

/* Prepare inst of case bc with dims; verify once, then time reps runs under run. */
int bench_measure_case(const struct bench_case *bc, const size_t *dims, const struct cli_run *run,
		       int reps, struct bench_measure *out, char *err, size_t len);

/* The local ring GEMM kernel on its own: verify against the naive product, then time. */
int bench_gemm(size_t m, size_t n, size_t v, int reps, double *gops, char *err, size_t len);

#endif
