/* Float reference: the layers, ASM output and SGD of nn_layers.h in single
 * precision floating point (OpenBLAS sgemm for fc and for conv by im2col),
 * with no party and no fixed point. It answers how far the fixed-point
 * training (secure, or its cleartext twin) is from the real-valued training
 * it approximates, and finds learning-rate recipes quickly.
 *
 * Everything mirrors nn_layers.h: the same layer kinds and shapes (NHWC,
 * weights fc n_in x n_out, conv (k·k·in_c) x out_c), the same tie rules
 * (ReLU passes the gradient where its input is >= 0, MaxPool picks the later
 * of equal values in window order (ky, kx)), the same ASM
 *     p_i = (ReLU(u_i) + eps) / (Σ_k ReLU(u_k) + K·eps),  eps = 2^-8,
 * the same gradient delta = p - y at the output, and the same step
 * W <- W - (lr / B)·Σ_batch dW. Start it from the fixed-point model
 * (nn_float_model_from_fixed) and it starts where the twin starts.
 *
 * Not secret, not shared: the data owner's own computation. */
#ifndef SNN_PROTOCOLS_NN_FLOAT_H
#define SNN_PROTOCOLS_NN_FLOAT_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "nn_layers.h"
#include "nn_net.h"

/* Parameters of a network in float. */
struct nn_float_model {
	struct nn_net net;        /* the description */
	float *w[NN_MAX_LAYERS];  /* weights of layer i (layout of nn_layers.h), NULL if none */
	float *b[NN_MAX_LAYERS];  /* biases of layer i (out_c), NULL if none */
};

/* Zeroed parameters for net; ERROR_INVAL for a NULL argument, ERROR_NOMEM. */
int nn_float_model_init(struct nn_float_model *m, const struct nn_net *net) SNN_MUST_CHECK;
void nn_float_model_finish(struct nn_float_model *m);

/* m = the real values of the cleartext fixed-point model fixed (frac bits);
 * both for the same network. */
void nn_float_model_from_fixed(struct nn_float_model *m, const struct nn_model *fixed,
			       unsigned frac);

/* fixed = m rounded to frac bits; ERROR_RANGE if a value does not fit (or is
 * not finite), and then fixed is unchanged from that value on. */
int nn_float_model_to_fixed(struct nn_model *fixed, const struct nn_float_model *m,
			    unsigned frac) SNN_MUST_CHECK;

/* Working memory for a batch (the float counterpart of struct nn_work). */
struct nn_float_work {
	size_t batch;                    /* images per batch */
	float *act[NN_MAX_LAYERS + 1];   /* act[0]: input (B x in), act[i+1]: layer i's output */
	float *cols[NN_MAX_LAYERS];      /* conv: im2col of the input, (B·oh·ow) x (k·k·in_c) */
	uint32_t *argmax[NN_MAX_LAYERS]; /* maxpool: index into act[i] of each max (B·out) */
	float *gw[NN_MAX_LAYERS];        /* weight gradients (Σ over the batch) */
	float *gb[NN_MAX_LAYERS];        /* bias gradients */
	float *delta[2];                 /* backward buffers (largest activation) */
	float *prob;                     /* ASM output (batch x classes) */
	int grad;                        /* enum nn_grad (nn_layers.h): the output gradient */
	float *scratch;                  /* conv backward D·Wᵀ, (B·oh·ow) x (k·k·in_c) */
};

/* ERROR_INVAL for batch 0 or a NULL argument, ERROR_RANGE if a buffer's size
 * overflows, ERROR_NOMEM. */
int nn_float_work_init(struct nn_float_work *w, const struct nn_net *net,
                       size_t batch) SNN_MUST_CHECK;
void nn_float_work_finish(struct nn_float_work *w);

/* Forward pass of w->act[0] (filled by the caller); scores in w->act[n_layers]. */
void nn_float_forward(const struct nn_float_model *m, struct nn_float_work *w);

/* ASM of the scores into w->prob (batch x classes). */
void nn_float_output_asm(const struct nn_float_model *m, struct nn_float_work *w);

/* Backward pass from the output gradient w->grad (nn_layers.h: paper
 * prob - labels, or ce) of prob and labels (batch x classes, one-hot),
 * filling w->gw, w->gb. */
void nn_float_backward(const struct nn_float_model *m, struct nn_float_work *w,
                       const float *labels);

/* m -= step · gradients (step = lr / batch). */
void nn_float_sgd(struct nn_float_model *m, const struct nn_float_work *w, float step);

/* One training step on the batch in w->act[0]: forward, ASM, backward, SGD. */
void nn_float_train_step(struct nn_float_model *m, struct nn_float_work *w, const float *labels,
			 float step);

/* cls (batch) = argmax of each image's scores after nn_float_forward (ties:
 * the later class, as the MaxPool protocol). */
void nn_float_predict(const struct nn_float_model *m, const struct nn_float_work *w,
		      uint32_t *cls);

#endif
