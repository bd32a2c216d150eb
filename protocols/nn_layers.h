/* Layers over shares: forward and backward passes of fully connected,
 * convolution, MaxPool and ReLU layers, the approximate-softmax output
 * (SecureNN section 3.12) and SGD, all through nn_ops so the same code runs
 * securely (three parties) or in cleartext (the fixed-point twin).
 *
 * Fixed point with f = ctx->frac fractional bits: every product of two
 * fixed-point values is truncated by f bits; products with DReLU bits and
 * one-hot vectors (integers 0/1) need no truncation. The SGD step
 * W <- W - (lr / B)·dW is a truncation by log2(B) + log2(1/lr) bits, so
 * batch size and learning rate are powers of two, as in the paper.
 *
 * ASM: p_i = (ReLU(u_i) + eps) / (Σ_k ReLU(u_k) + K·eps) with eps = 2^-8: the
 * paper's ReLU(u_i) / Σ_k ReLU(u_k) with a small smoothing term, so an
 * all-zero score vector gives the uniform 1/K instead of a division by zero;
 * x <= y holds by construction, as the Division protocol requires.
 *
 * The backward pass starts from the gradient at the scores u, one of:
 *   NN_GRAD_PAPER  delta = p - y (section 3.12), the paper's: the gradient of
 *                  softmax's cross-entropy, applied although the output is ASM.
 *                  It does not shrink as the scores grow (ASM is scale-free),
 *                  so under SGD the scores grow without bound: Network A
 *                  trains, Network C collapses within an epoch at any rate.
 *   NN_GRAD_CE     the gradient of ASM's own cross-entropy -log p_y, times
 *                  the sum S = Σ_k (ReLU(u_k) + eps) (a per-example scale):
 *                  delta_j = DReLU(u_j) - y_j·min(1/p_y, 2^NN_CE_CLIP_SHIFT).
 *                  The exact form is d/du_j (-log p_y)·S = DReLU(u_j) - y_j·
 *                  DReLU(u_y)/p_y; it is orthogonal to u (no growth) but has
 *                  no pull on a true class whose score is <= 0, and 1/p_y is
 *                  unbounded. The clip gives both: a true class at or below 0
 *                  (p_y = eps/S, tiny) is pulled up with weight 2^4. Secure
 *                  cost beyond ASM: p_y = Σ y⊙p (one product of B·K), one
 *                  Division of B values (2^-4 / p_y, which saturates at 1 when
 *                  p_y < 2^-4, as the long division does), one product of
 *                  B·K; DReLU(u) are the bits ASM's ReLU already computed.
 *   NN_GRAD_CE_RY  the same gradient times r_y = ReLU(u_y) + eps instead of S:
 *                  delta_j = DReLU(u_j)·p_y - y_j. Exact where u_y > 0
 *                  (d/du_j (-log p_y)·r_y = DReLU(u_j)·r_y/S - y_j), also
 *                  orthogonal to u, and bounded by 1 like softmax's p - y: it
 *                  vanishes as p_y -> 1 and does not weight hard examples by
 *                  up to 2^4 as ce does, so it takes a larger learning rate.
 *                  A true class at or below 0 is pulled up with weight 1 (the
 *                  exact value there is 0: no pull at all). Secure cost beyond
 *                  ASM: two products of B·K (p_y = Σ y⊙p, then DReLU(u)·p_y),
 *                  no Division. */

#ifndef SNN_PROTOCOLS_NN_LAYERS_H
#define SNN_PROTOCOLS_NN_LAYERS_H

#include <stddef.h>

#include "nn_net.h"
#include "nn_ops.h"
#include "prg.h"
#include "ring.h"

#define NN_ASM_EPS_SHIFT 8 /* eps = 2^-8 */
#define NN_CE_CLIP_SHIFT 4 /* 1/p_y at most 2^4 */

enum nn_grad {
	NN_GRAD_PAPER = 0, /* delta = ASM(u) - y */
	NN_GRAD_CE = 1,    /* ASM's cross-entropy gradient, clipped (above) */
	NN_GRAD_CE_RY = 2, /* ASM's cross-entropy gradient times r_y (above) */
};

/* The names, indexed by enum nn_grad: "paper", "ce", "ce-ry", then NULL. */
extern const char *const nn_grad_names[];
/* nn_grad_names[grad], or NULL for a value that is not an enum nn_grad. */
const char *nn_grad_name(int grad);

/* Parameters of a network: shares at P0/P1, plain values in cleartext. */
struct nn_model {
	struct nn_net net;             /* the description */
	ring_t *w[NN_MAX_LAYERS];      /* weights of layer i (NULL if none) */
	ring_t *b[NN_MAX_LAYERS];      /* biases of layer i (NULL if none) */
};

int nn_model_init(struct nn_model *m, const struct nn_net *net) SNN_MUST_CHECK;
void nn_model_finish(struct nn_model *m);
/* He initialisation (normal, std sqrt(2/fan_in)) in fixed point from g; biases 0. */
void nn_model_init_weights(struct nn_model *m, struct prg *g, unsigned frac);
/* Split a cleartext model into two share models with the data owner's stream. */
void nn_model_share(const struct nn_model *plain, struct nn_model *s0, struct nn_model *s1,
		    struct prg *owner);
/* plain = s0 + s1. */
void nn_model_reveal(struct nn_model *plain, const struct nn_model *s0, const struct nn_model *s1);

/* Per-party working memory for a batch: activations and what backward needs. */
struct nn_work {
	struct nn_net net;               /* the order run: the model's, relu+maxpool as
					  * maxpool+relu (nn_net_pool_first) */
	size_t batch;                    /* images per batch */
	ring_t *act[NN_MAX_LAYERS + 1];  /* act[0]: input (batch x in), act[i+1]: output of layer i */
	ring_t *keep[NN_MAX_LAYERS];     /* ReLU: DReLU bits; MaxPool: argmax or one-hot; conv: im2col */
	ring_t *gw[NN_MAX_LAYERS];       /* weight gradients */
	ring_t *gb[NN_MAX_LAYERS];       /* bias gradients */
	ring_t *delta[2];                /* backward buffers (largest activation) */
	ring_t *prob;                    /* ASM output (batch x classes) */
	ring_t *pos;                     /* DReLU bits of the scores (batch x classes) */
	int grad;                        /* enum nn_grad: the output gradient (0: paper) */
	ring_t *scratch;                 /* largest temporary (windows, im2col of deltas) */
	size_t scratch_len;              /* elements in scratch */
};

/* Buffers for net at batch size batch; w->net is the order the passes run. */
int nn_work_init(struct nn_work *w, const struct nn_net *net, size_t batch) SNN_MUST_CHECK;
void nn_work_finish(struct nn_work *w);

/* Forward pass of w->act[0] (batch images, filled by the caller) through all
 * layers; the scores are in w->act[n_layers]. */
int nn_forward(struct nn_ctx *c, const struct nn_model *m, struct nn_work *w) SNN_MUST_CHECK;

/* ASM of the scores into w->prob (batch x classes). */
int nn_output_asm(struct nn_ctx *c, const struct nn_model *m, struct nn_work *w) SNN_MUST_CHECK;

/* Secure argmax of the scores (MaxPool protocol with index over the classes):
 * out (batch) gets shares of the predicted class. */
int nn_output_argmax(struct nn_ctx *c, const struct nn_model *m, struct nn_work *w,
		     ring_t *out) SNN_MUST_CHECK;

/* Backward pass from the output gradient w->grad of prob and labels
 * (labels: batch x classes, one-hot fixed point), filling w->gw, w->gb. */
int nn_backward(struct nn_ctx *c, const struct nn_model *m, struct nn_work *w,
		const ring_t *labels) SNN_MUST_CHECK;

/* m -= gradients / 2^shift (shift = log2(batch) + log2(1/lr)). */
void nn_sgd(struct nn_ctx *c, struct nn_model *m, struct nn_work *w, unsigned shift);

#endif
