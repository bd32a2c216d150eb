/* Network descriptions: the paper's networks A-D (and the variants its
 * benchmarks assume) and user networks from a small text file.
 *
 * A network is a list of layers applied to one image of in_h x in_w x in_c
 * values (NHWC); shapes are inferred layer by layer and checked. The last
 * layer's output is the class scores (n_classes values).
 *
 * Text format, one layer per line ('#' starts a comment, blank lines ignored):
 *     input 28 28 1             # height width channels (first line)
 *     conv 5 16 [stride S] [pad P]   # f x f filters, 16 output channels
 *     maxpool 2                 # k x k windows, stride k (k must divide h and w)
 *     relu
 *     fc 100                    # fully connected to 100 outputs (flattens)
 *     output asm|argmax|none    # last line (optional, default asm): the output layer
 * Keywords are lower case; numbers are decimal digits only, 1..2^20 (pad may
 * be 0); stride and pad may come in either order, each at most once.
 * Errors name the line and the layer: "line 4 (conv 5 16): a 5x5 filter does
 * not fit a 4x4 input".
 *
 * Shapes: conv out = (in + 2·pad - k)/stride + 1 (floor; k <= in + 2·pad),
 * maxpool out = in/k (k divides h and w), relu keeps the shape, fc gives
 * 1 x 1 x n from all in_h·in_w·in_c values. Limits: every number and
 * dimension <= 2^20, at most 2^31 - 1 values per image at any layer, fewer
 * than 2^31 parameters in all, 1 to NN_MAX_LAYERS layers.
 *
 * Error codes (the message is one line; err may be NULL):
 *   ERROR_FORMAT syntax: unknown keyword, missing/extra/non-numeric/zero
 *                argument, 'input' not first or repeated, 'output' not last
 *                or unknown, no layers, a NUL byte in a file
 *   ERROR_SHAPE  a filter does not fit, a pool window does not divide
 *   ERROR_RANGE  a limit above is exceeded, a file larger than 64 KiB
 *   ERROR_IO     a file cannot be read ("cannot read 'x': <strerror>")
 *   ERROR_INVAL  NULL argument, unknown built-in name
 * On error *net is zeroed. */
#ifndef SNN_PROTOCOLS_NN_NET_H
#define SNN_PROTOCOLS_NN_NET_H

#include <stddef.h>

#include "error.h"

#define NN_MAX_LAYERS 32
#define NN_NAME_LEN 64

enum nn_kind {
	NN_FC = 1,      /* y = x·W + b; W is n_in x n_out */
	NN_CONV = 2,    /* valid or padded convolution; W is (k·k·in_c) x out_c */
	NN_MAXPOOL = 3, /* k x k windows, stride k */
	NN_RELU = 4,    /* max(x, 0) */
};

enum nn_output {
	NN_OUT_ASM = 0,    /* approximate softmax ReLU(u_i) / Σ ReLU(u_k) (training) */
	NN_OUT_ARGMAX = 1, /* 10-way argmax with the MaxPool protocol (inference benchmarks) */
	NN_OUT_NONE = 2,   /* raw scores */
};

struct nn_layer {
	enum nn_kind kind;
	size_t in_h, in_w, in_c;    /* input shape per image */
	size_t out_h, out_w, out_c; /* output shape per image */
	size_t k;                   /* conv filter size / pool window; 0 for fc, relu */
	size_t stride, pad;         /* conv (1, 0 by default); maxpool k, 0; fc, relu 1, 0 */
	int line;                   /* line in the description file, 0 for built-ins */
};

struct nn_net {
	char name[NN_NAME_LEN];     /* "A", "C", "D-paper", or the file name */
	size_t in_h, in_w, in_c;    /* input image shape */
	size_t n_layers;            /* layers in use */
	struct nn_layer layer[NN_MAX_LAYERS];
	enum nn_output output;      /* output layer */
};

/* Values per image at a layer's input / output. */
size_t nn_layer_in_size(const struct nn_layer *l);
size_t nn_layer_out_size(const struct nn_layer *l);

/* Weights and biases of a layer (0 for maxpool/relu). */
size_t nn_layer_weights(const struct nn_layer *l);
size_t nn_layer_biases(const struct nn_layer *l);

/* Total parameters, and the number of classes (last layer's outputs). */
size_t nn_net_params(const struct nn_net *net);
size_t nn_net_classes(const struct nn_net *net);

/* Built-in networks:
 *   "A"        SecureML: fc 128, relu, fc 128, relu, fc 10 (784-128-128-10)
 *   "B"        MiniONN: conv 5 16, relu, maxpool 2, conv 5 16, relu, maxpool 2,
 *              fc 100, relu, fc 10
 *   "C"        LeNet: conv 5 20, relu, maxpool 2, conv 5 50, relu, maxpool 2,
 *              fc 500, relu, fc 10
 *   "D"        Chameleon as the paper describes it: conv 5 5 stride 2 pad 2 (14x14x5
 *              = 980), relu, fc 100, relu, fc 10
 *   "A-bench", "B-bench", "C-bench", "D-bench": the variants the published
 *              inference numbers assume: maxpool before relu, relu after the last
 *              fc, argmax output; D-bench is the reference code's stride-1 conv
 *              5 5 + maxpool 2 (720 values into fc 100).
 * The training variants end with output asm, the -bench ones with argmax. */
int nn_net_builtin(struct nn_net *net, const char *name, char *err, size_t err_len) SNN_MUST_CHECK;

/* Names of the built-in networks, NULL-terminated. */
const char *const *nn_net_builtin_names(void);

/* Parse a description (the text format above); name (may be NULL: "") becomes
 * net->name, truncated to NN_NAME_LEN - 1 bytes. Layers record their line. */
int nn_net_parse(struct nn_net *net, const char *text, const char *name, char *err,
		 size_t err_len) SNN_MUST_CHECK;

/* Built-in name (exact, case-sensitive) or path of a description file (at most
 * 64 KiB; the net is named after the file's base name). Messages about a
 * file start with its path. */
int nn_net_load(struct nn_net *net, const char *name_or_path, char *err, size_t err_len) SNN_MUST_CHECK;

/* The description in the text format (round-trips through nn_net_parse; a
 * first comment line names the network). Like snprintf: writes at most len
 * bytes (NUL-terminated when len > 0; buf may be NULL when len is 0) and
 * returns the length of the whole text, so a return >= len means it was cut.
 * ERROR_INVAL for a NULL net or an unknown layer kind or output. */
int nn_net_format(const struct nn_net *net, char *buf, size_t len);

/* One layer as its line in the text format ("conv 5 16 stride 2"); returns
 * like snprintf, ERROR_INVAL for an unknown kind. */
int nn_layer_format(const struct nn_layer *l, char *buf, size_t len);

/* Rewrite every "relu, maxpool k" pair as "maxpool k, relu" (shapes
 * updated), the order the reference code computes: ReLU is monotone, so
 * relu(max(x)) = max(relu(x)), and the gradients are equal too (the max of a
 * window with a positive entry is positive and picks the same position; a
 * window without one passes no gradient either way), but the ReLU then runs
 * on k·k times fewer values. Parameter layers keep their indices. Returns
 * the number of pairs rewritten. */
size_t nn_net_pool_first(struct nn_net *net);

/* Check a network built by hand (or changed) as the parser would: input and
 * output, the limits, and every layer's recorded in/out shapes against the
 * shapes inferred from its kind, k, out_c (conv, fc), stride and pad. */
int nn_net_check(const struct nn_net *net, char *err, size_t err_len) SNN_MUST_CHECK;

#endif
