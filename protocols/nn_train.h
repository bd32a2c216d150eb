/* Training and inference loops over batches, run by each party (secure) or
 * by the cleartext twin, on data the data owner has already secret-shared.
 *
 * The order of the examples is public (a shuffle from the seed); the
 * examples and labels are not. The last partial batch is dropped, as in the
 * paper (60000 / 128 = 468 batches per epoch). */
#ifndef SNN_PROTOCOLS_NN_TRAIN_H
#define SNN_PROTOCOLS_NN_TRAIN_H

#include <stddef.h>
#include <stdint.h>

#include "nn_layers.h"

/* One party's view of a data set: shares at P0/P1, values in cleartext,
 * NULL arrays at P2 (sizes only). */
struct nn_data {
	size_t n;        /* examples */
	size_t in;       /* values per example (h·w·c) */
	size_t classes;  /* classes (one-hot width) */
	const ring_t *x; /* n x in, fixed point */
	const ring_t *y; /* n x classes, one-hot in fixed point (1.0 = 2^frac) */
};

struct nn_job {
	struct nn_model *model;   /* this party's parameters (P2: shapes only) */
	struct nn_data data;      /* this party's view of the data */
	const uint32_t *order;    /* n_iter·batch example indices, public */
	size_t n_iter;            /* batches to run */
	size_t batch;             /* examples per batch */
	unsigned lr_shift;        /* SGD: log2(batch) + log2(1/lr) */
	unsigned frac;            /* fixed-point fractional bits */
	int grad;                 /* enum nn_grad (nn_layers.h): the output gradient */
	int train;                /* 1: train; 0: inference with argmax */
	ring_t *out;              /* inference: n_iter·batch class shares; training: NULL or
				   * n_iter·batch·classes ASM output shares */
	/* Called after every iteration with this party's output shares of the
	 * batch (P0 and P1; the data owner combines them), may be NULL. */
	void (*progress)(void *ctx, int party, size_t iter, const ring_t *out_share, size_t n);
	void *progress_ctx;
};

/* Run the job in ctx's mode. */
int nn_job_run(struct nn_ctx *c, struct nn_job *job) SNN_MUST_CHECK;

/* sim_fn: arg is this party's struct nn_job. */
int nn_job_party_fn(struct party *p, void *arg);

#endif
