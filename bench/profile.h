/* `snn profile`: where a network's communication and time go.
 *
 * One verified run of a network through netrun() (secure inference =
 * forward pass + argmax, or SGD iterations with --train, on synthetic data)
 * and a breakdown of the three parties' statistics trees (sim/stats.h):
 *
 *     total > phase (forward, output, backward, update)
 *           > layerN (N counts layers in the order they run: relu+maxpool
 *             pairs are run as maxpool+relu, nn_net_pool_first)
 *           > protocol (matmul, drelu, relu, maxpool, maxpool_derivative,
 *             mul; in the output phase argmax or asm directly under it)
 *           > sub-protocols (share_convert, compute_msb, private_compare,
 *             mul, division ...) as the protocols call each other.
 *
 * The parties' trees are merged by path. For every scope: bytes and
 * messages sent by all parties, calls (P0's), rounds (the largest of P0's
 * and P1's: P2's scope deltas include catching up on rounds it took no part
 * in), CPU time per party, wall time blocked receiving summed over parties
 * (wait) and simulated time (the largest over parties).
 *
 * Beside it the specification's cost (spec section 9 and Tables 1-2),
 * built from the network alone (profile_model_build): bytes of every scope
 * the protocols open, and the paper's rounds where Tables 1-2 give them.
 * Measured bytes are expected to equal the formula at every scope; a
 * difference means the protocols and the cost model disagree.
 *
 * Per element or window, in bytes (l = 64 bits, Z_67 elements one byte):
 *     matmul m x n x v     8(2mn + 2nv + mv)             rounds 2
 *     conv layer           matmul with m = out_h·out_w·batch, n = f²·C_in, v = C_out
 *     drelu                664 = share_convert 304 + compute_msb 360   rounds 8
 *     share_convert        304 (private_compare 128)     rounds 4
 *     compute_msb          360 (private_compare 128, mul 40)  rounds 5
 *     private_compare      128                           rounds 1
 *     relu (after DReLU)   40 (mul 40)                   rounds 2
 *     mul (a product)      40                            rounds 2
 *     maxpool, window n    744(n-1) = (664 + 2·40)(n-1)  rounds 9(n-1)
 *     maxpool_onehot       (664 + 40(n+1))(n-1)          (Alg. 12: no paper rounds)
 *     maxpool_derivative   2 + 16n (n <= 256), 16 + 16n  rounds 2
 *     division             704 per element and iteration, l_D = frac iterations
 *                          (division_bytes)              rounds 10·l_D
 *     argmax over K        maxpool with window K per image
 *     asm                  relu on batch·K, then division of batch·K
 * Backward: per FC/conv layer the weight-gradient product (and, except at
 * the first layer, the input-gradient product); relu 40 per element;
 * maxpool the derivative plus a 40-byte product per pre-pool value.
 * Nothing is sent in the update phase. Whole-run figures are totals over
 * the iterations: formula x iterations. */
#ifndef SNN_BENCH_PROFILE_H
#define SNN_BENCH_PROFILE_H

#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

#include "nn_net.h"
#include "sim.h"
#include "stats.h"

#define PROFILE_PATH_LEN 256    /* "backward/layer10/maxpool/drelu/compute_msb/..." */
#define PROFILE_FORMULA_LEN 96  /* formula text */
#define PROFILE_DESC_LEN 48     /* layer description */

/* The specification's cost of one scope (whole run, all parties). */
struct profile_expect {
	char path[PROFILE_PATH_LEN];       /* scope path below the root, "" for the root */
	uint64_t bytes;                    /* bytes sent by all parties */
	uint64_t rounds;                   /* the paper's rounds, summed over calls */
	int has_rounds;                    /* 0: the paper gives no round count here */
	char formula[PROFILE_FORMULA_LEN]; /* "8(2mn+2nv+mv) 1x784x128"; "" for sums of scopes */
};

struct profile_model {
	struct profile_expect *e; /* n entries, in the order the scopes first open */
	size_t n;                 /* entries in use */
	size_t cap;               /* entries allocated */
	int nomem;                /* an allocation failed while building */
};

/* The costs of every scope a run of net opens: batch images per iteration,
 * iters iterations, training (forward, output asm, backward, update) or
 * inference (forward, output argmax), frac fractional bits (division
 * iterations). net is the model's network; the layers are numbered in the
 * order run (nn_net_pool_first is applied to a copy). Release with
 * profile_model_finish (also after an error). ERROR_INVAL for a NULL net or
 * zero batch or iterations, ERROR_NOMEM. */
int profile_model_build(struct profile_model *m, const struct nn_net *net, size_t batch,
			size_t iters, int train, unsigned frac) SNN_MUST_CHECK;
void profile_model_finish(struct profile_model *m);

/* The entry for path, or NULL. */
const struct profile_expect *profile_model_find(const struct profile_model *m, const char *path);

/* A layer in a few words: "fc 784x128", "conv 5x5x20", "conv 5x5x5 s2 p2",
 * "maxpool 2x2 24x24x20" (window, input shape), "relu 12x12x20", "relu 128". */
void profile_layer_desc(const struct nn_layer *l, char *buf, size_t len);

/* One scope of the merged tree. */
struct profile_node {
	char name[STATS_NAME_LEN];     /* scope name ("total" for the root) */
	char path[PROFILE_PATH_LEN];   /* '/'-separated below the root, "" for the root */
	char phase[STATS_NAME_LEN];    /* depth-1 ancestor (or itself): "forward" ...; "" at the root */
	int parent;                    /* node index, -1 for the root */
	int first_child;               /* node index or -1 */
	int next_sibling;              /* node index or -1 */
	int depth;                     /* 0 at the root */
	int layer;                     /* 1-based layer of the layerN scope at or above, 0 if none */
	int top;                       /* 1: a protocol directly under a layer (or under the output phase) */
	int src[PARTY_COUNT];          /* the node in party i's tree, -1 if it has none */
	uint64_t bytes;                /* bytes sent by all parties */
	uint64_t msgs;                 /* messages sent by all parties */
	uint64_t calls;                /* times entered (P0's count) */
	uint32_t rounds;               /* rounds: the larger of P0's and P1's */
	uint64_t cpu_ns[PARTY_COUNT];  /* CPU time per party */
	uint64_t wait_ns;              /* wall time blocked receiving, summed over parties and peers */
	uint64_t sim_ns;               /* simulated time, the largest over parties */
	uint64_t wall_ns;              /* wall time, the largest over parties */
	const struct profile_expect *expect; /* the formula, or NULL */
};

struct profile {
	struct profile_node *node;     /* n nodes, node[0] is the root; parents before children */
	size_t n;                      /* nodes in use */
	size_t cap;                    /* nodes allocated */
	struct profile_model model;    /* the formulas */
	struct nn_net net;             /* the network in the order run */
	char layer_desc[NN_MAX_LAYERS][PROFILE_DESC_LEN]; /* profile_layer_desc of each layer run */
	size_t n_formula;              /* scopes with a byte formula */
	size_t n_mismatch;             /* ... whose measured bytes differ from it */
	size_t n_missing;              /* formula entries no party opened */
	uint64_t n_dropped;            /* scopes the parties could not record (sim/stats.h) */
};

/* Merge the parties' statistics trees of a run of net (as netrun ran it:
 * batch, iters, train, frac) and attach the formulas. Release with
 * profile_finish (also after an error). ERROR_INVAL, ERROR_NOMEM. */
int profile_build(struct profile *pr, const struct sim_result *res, const struct nn_net *net,
		  size_t batch, size_t iters, int train, unsigned frac) SNN_MUST_CHECK;
void profile_finish(struct profile *pr);

/* Formula entries of pr->model no party opened, in order: call with
 * k = 0, 1, ... until it returns NULL. */
const struct profile_expect *profile_missing(const struct profile *pr, size_t k);

/* The communication per layer (as run) and top-level protocol: a '#' line,
 * then columns layer, protocol, bytes, phase (plots/comm-layers.gp). */
void profile_write_comm(FILE *f, const struct profile *pr);

/* `snn profile`: arguments after the command name. Exit status: 0, 1 (the
 * run failed, its output did not match the cleartext twin, or bytes differ
 * from the formula somewhere), 2 (bad input). */
int profile_main(int argc, char **argv);

#endif
