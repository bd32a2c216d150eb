/* One verified run of a whole network: secure inference (forward pass and
 * argmax) or secure SGD iterations, on seeded synthetic data, checked
 * against the cleartext fixed-point twin. The measuring core of
 * `snn repro` (Tables 3, 4, 5, 7), `snn profile` and `snn sweep`.
 *
 * Data: images uniform in [0, 1) and random one-hot labels from the seed
 * (stream "bench-inputs"), He-initialised weights (stream "init"); the data
 * owner shares them between P0 and P1 (stream "owner"). Timing needs no real
 * images: the protocols' costs do not depend on the values.
 *
 * Verification (the run's own outputs; a mismatch is an error, nothing is
 * reported): inference: the secure argmax equals the twin's wherever the
 * twin's two best scores are more than 2^-6 apart; training: the first
 * iteration's ASM outputs are within 2^-5 of the twin's and every weight
 * and bias after the last iteration within 2^-7 per iteration plus a tenth
 * of its layer's largest update, so the forward pass, the
 * gradients and the SGD updates all agree. */
#ifndef SNN_BENCH_NETRUN_H
#define SNN_BENCH_NETRUN_H

#include <stddef.h>
#include <stdint.h>

#include "nn_net.h"
#include "sim.h"

struct netrun_spec {
	const struct nn_net *net; /* the network */
	size_t batch;             /* images per iteration */
	size_t iters;             /* iterations in the one run */
	int train;                /* 1: SGD iterations; 0: inference with argmax */
	unsigned frac;            /* fixed-point fractional bits */
	unsigned lr_shift;        /* training: log2(batch) + log2(1/lr) */
	uint64_t seed;            /* data and weights (the run's keys: cfg->seed) */
};

struct netrun_result {
	struct sim_result res;  /* the run: per-party statistics trees */
	size_t iters;           /* iterations the per-iteration figures divide by */
	double wall_s;          /* wall time per iteration */
	double sim_s;           /* simulated time per iteration */
	double cpu_s[PARTY_COUNT]; /* CPU time per party and iteration */
	double bytes;           /* bytes sent by all parties per iteration */
	double msgs;            /* messages per iteration */
	double rounds;          /* rounds per iteration */
	size_t checked;         /* values (training) or images (inference) compared */
	double max_diff;        /* largest difference seen, real units */
};

/* Run, verify, fill out (release with netrun_finish, also after an error
 * once out->res was filled). Errors: the run's error, or ERROR_PROTOCOL
 * with err saying what did not match. */
int netrun(const struct netrun_spec *s, const struct sim_config *cfg, struct netrun_result *out,
	   char *err, size_t len) SNN_MUST_CHECK;
void netrun_finish(struct netrun_result *r);

/* The flags of the commands that run one network (snn profile, snn sweep):
 * --net NAME|FILE, --batch B, --iters N, --train. */
struct netrun_flags {
	const char *net_name; /* --net (required) */
	uint64_t batch;       /* --batch (default 1) */
	uint64_t iters;       /* --iters (default 1) */
	int train;            /* --train: SGD iterations instead of inference */
};

void netrun_flags_default(struct netrun_flags *f);

struct cli_run;

/* If argv[*i] is one of the flags above or a common run flag (into run,
 * cli_parse_run_flag), parse it (advancing *i) and return 1; 0 if it is
 * neither; -1 on a bad value (message printed as "snn <cmd>: ..."). */
int netrun_parse_flag(const char *cmd, struct netrun_flags *f, struct cli_run *run, int argc,
                      char **argv, int *i);

/* After parsing: --net given, a power-of-two batch with --train; 0 or -1
 * with a message. */
int netrun_flags_check(const char *cmd, const struct netrun_flags *f);

/* Load the network and fill s (13 fractional bits, the paper's learning
 * rate, seed); 0 or -1 with a message. */
int netrun_flags_spec(const char *cmd, const struct netrun_flags *f, uint64_t seed,
		      struct nn_net *net, struct netrun_spec *s);

/* The lr_shift of the paper's learning rate for net at batch size batch
 * (2^-7 for A, 2^-5 otherwise; batch a power of two). */
unsigned netrun_paper_lr_shift(const struct nn_net *net, size_t batch);

#endif
