/* Network descriptions: the built-in networks A-D (and their -bench
 * variants), a strict parser for the text format in nn_net.h, shape
 * inference, and the formatter that writes a description back.
 *
 * Plaintext bookkeeping only: nothing here is secret or involves a party.
 * The layers' shapes decide every protocol's sizes downstream; for a conv
 * or fc layer at batch B the MatMul is m x n times n x v with
 *     m = out_h·out_w·B,  n = k·k·in_c (conv) or in_h·in_w·in_c (fc),
 *     v = out_c,
 * and costs 8·(2mn + 2nv + mv) bytes (spec section 9).
 *
 * Shape inference, per image (NHWC):
 *   conv k n [stride s] [pad p]   out = (in + 2p - k)/s + 1 (floor), n channels;
 *                                 needs k <= in + 2p in both directions
 *   maxpool k                     out = in/k, same channels; k divides h and w
 *   relu                          same shape
 *   fc n                          flattens: in_h·in_w·in_c inputs, 1 x 1 x n out
 * Limits: every number and every inferred dimension <= 2^20, at most 2^31 - 1
 * values per image at any layer, fewer than 2^31 parameters in all, 1 to
 * NN_MAX_LAYERS layers.
 *
 * The built-in networks are kept as descriptions in the text format and
 * parsed like any file (then their line numbers are cleared to 0). */
#include "nn_net.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DIM_MAX    ((uint64_t)1 << 20)       /* any number or dimension */
#define VALUES_MAX (((uint64_t)1 << 31) - 1) /* values per image at a layer */
#define PARAMS_MAX (((uint64_t)1 << 31) - 1) /* parameters of a network */
#define FILE_MAX   ((size_t)64 * 1024)       /* bytes of a description file */
#define SHOW_MAX   48                        /* characters of a line quoted in an error */
#define TOKENS_MAX 8                         /* tokens kept per line (conv uses 7) */
#define HEAD_LEN   (SHOW_MAX + 48)           /* "line N (text)" */

static const char *const builtin_names[] = {
    "A", "B", "C", "D", "A-bench", "B-bench", "C-bench", "D-bench", NULL,
};

/* Same order as builtin_names. */
static const char *const builtin_text[] = {
    /* A: SecureML, 784-128-128-10 */
    "input 28 28 1\n"
    "fc 128\nrelu\n"
    "fc 128\nrelu\n"
    "fc 10\n"
    "output asm\n",
    /* B: MiniONN; 24x24x16 -> 12x12x16 -> 8x8x16 -> 4x4x16 = 256 */
    "input 28 28 1\n"
    "conv 5 16\nrelu\nmaxpool 2\n"
    "conv 5 16\nrelu\nmaxpool 2\n"
    "fc 100\nrelu\n"
    "fc 10\n"
    "output asm\n",
    /* C: LeNet; 24x24x20 -> 12x12x20 -> 8x8x50 -> 4x4x50 = 800 */
    "input 28 28 1\n"
    "conv 5 20\nrelu\nmaxpool 2\n"
    "conv 5 50\nrelu\nmaxpool 2\n"
    "fc 500\nrelu\n"
    "fc 10\n"
    "output asm\n",
    /* D: Chameleon as the paper describes it; 14x14x5 = 980 */
    "input 28 28 1\n"
    "conv 5 5 stride 2 pad 2\nrelu\n"
    "fc 100\nrelu\n"
    "fc 10\n"
    "output asm\n",
    /* A-bench: relu after every fc, argmax */
    "input 28 28 1\n"
    "fc 128\nrelu\n"
    "fc 128\nrelu\n"
    "fc 10\nrelu\n"
    "output argmax\n",
    /* B-bench: maxpool before relu */
    "input 28 28 1\n"
    "conv 5 16\nmaxpool 2\nrelu\n"
    "conv 5 16\nmaxpool 2\nrelu\n"
    "fc 100\nrelu\n"
    "fc 10\nrelu\n"
    "output argmax\n",
    /* C-bench */
    "input 28 28 1\n"
    "conv 5 20\nmaxpool 2\nrelu\n"
    "conv 5 50\nmaxpool 2\nrelu\n"
    "fc 500\nrelu\n"
    "fc 10\nrelu\n"
    "output argmax\n",
    /* D-bench: the reference code's stride-1 conv + 2x2 pool; 12x12x5 = 720 */
    "input 28 28 1\n"
    "conv 5 5\nmaxpool 2\nrelu\n"
    "fc 100\nrelu\n"
    "fc 10\nrelu\n"
    "output argmax\n",
};

/* ---- small helpers ---- */

static uint64_t mul_sat(uint64_t a, uint64_t b)
{
	if (a && b > UINT64_MAX / a)
		return UINT64_MAX;
	return a * b;
}

static uint64_t add_sat(uint64_t a, uint64_t b)
{
	return b > UINT64_MAX - a ? UINT64_MAX : a + b;
}

/* "head: message" into err; head names the line (or layer) and its text. */
SNN_PRINTF_LIKE(5, 6)
static int fail_at(char *err, size_t err_len, const char *head, int code, const char *fmt, ...)
{
	if (err && err_len) {
		int n = snprintf(err, err_len, "%s: ", head);
		if (n >= 0 && (size_t)n < err_len) {
			va_list ap;
			va_start(ap, fmt);
			vsnprintf(err + n, err_len - (size_t)n, fmt, ap);
			va_end(ap);
		}
	}
	return code;
}

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* Printable copy of s[0..n) for an error message: whitespace becomes ' ',
 * other control and non-ASCII bytes '?'; longer than SHOW_MAX ends in "...".
 * out has room for SHOW_MAX + 4 bytes. */
static void show(char *out, const char *s, size_t n)
{
	size_t m = n > SHOW_MAX ? SHOW_MAX - 3 : n, i;
	for (i = 0; i < m; i++) {
		unsigned char c = (unsigned char)s[i];
		out[i] = is_space(s[i]) ? ' ' : (c < 0x20 || c >= 0x7f) ? '?' : s[i];
	}
	if (n > m) {
		memcpy(out + i, "...", 3);
		i += 3;
	}
	out[i] = '\0';
}

static void copy_name(char dst[NN_NAME_LEN], const char *src)
{
	size_t n = src ? strlen(src) : 0;
	if (n > NN_NAME_LEN - 1)
		n = NN_NAME_LEN - 1;
	if (n)
		memcpy(dst, src, n);
	dst[n] = '\0';
}

/* "A, B, C, ..." */
static void list_names(char *out, size_t len)
{
	size_t pos = 0;
	out[0] = '\0';
	for (size_t i = 0; builtin_names[i]; i++) {
		int n = snprintf(out + pos, len - pos, "%s%s", i ? ", " : "", builtin_names[i]);
		if (n < 0 || (size_t)n >= len - pos)
			return;
		pos += (size_t)n;
	}
}

/* ---- layer sizes ---- */

size_t nn_layer_in_size(const struct nn_layer *l)
{
	return l ? l->in_h * l->in_w * l->in_c : 0;
}

size_t nn_layer_out_size(const struct nn_layer *l)
{
	return l ? l->out_h * l->out_w * l->out_c : 0;
}

size_t nn_layer_weights(const struct nn_layer *l)
{
	if (!l)
		return 0;
	switch (l->kind) {
	case NN_FC:
		return nn_layer_in_size(l) * l->out_c; /* n_in x n_out */
	case NN_CONV:
		return l->k * l->k * l->in_c * l->out_c; /* (k·k·in_c) x out_c */
	case NN_MAXPOOL:
	case NN_RELU:
		break;
	}
	return 0;
}

size_t nn_layer_biases(const struct nn_layer *l)
{
	if (!l)
		return 0;
	return l->kind == NN_FC || l->kind == NN_CONV ? l->out_c : 0;
}

size_t nn_net_params(const struct nn_net *net)
{
	size_t total = 0;
	if (!net)
		return 0;
	for (size_t i = 0; i < net->n_layers && i < NN_MAX_LAYERS; i++)
		total += nn_layer_weights(&net->layer[i]) + nn_layer_biases(&net->layer[i]);
	return total;
}

size_t nn_net_classes(const struct nn_net *net)
{
	if (!net || !net->n_layers || net->n_layers > NN_MAX_LAYERS)
		return 0;
	return nn_layer_out_size(&net->layer[net->n_layers - 1]);
}

int nn_layer_format(const struct nn_layer *l, char *buf, size_t len)
{
	if (!l || (!buf && len))
		return ERROR_INVAL;
	switch (l->kind) {
	case NN_FC:
		return snprintf(buf, len, "fc %zu", l->out_c);
	case NN_CONV: {
		char stride[32] = "", pad[32] = "";
		if (l->stride != 1)
			snprintf(stride, sizeof stride, " stride %zu", l->stride);
		if (l->pad != 0)
			snprintf(pad, sizeof pad, " pad %zu", l->pad);
		return snprintf(buf, len, "conv %zu %zu%s%s", l->k, l->out_c, stride, pad);
	}
	case NN_MAXPOOL:
		return snprintf(buf, len, "maxpool %zu", l->k);
	case NN_RELU:
		return snprintf(buf, len, "relu");
	}
	return ERROR_INVAL;
}

/* ---- shape inference ---- */

/* Append layer l to net: l carries kind, k, out_c (conv, fc), stride and pad
 * (conv) and line; its input shape is the previous layer's output (or the
 * image), its output shape is inferred here. head names l in messages. */
static int push(struct nn_net *net, struct nn_layer l, const char *head, char *err, size_t err_len)
{
	if (net->n_layers >= NN_MAX_LAYERS)
		return fail_at(err, err_len, head, ERROR_RANGE, "more than %d layers",
		               NN_MAX_LAYERS);
	if (net->n_layers) {
		const struct nn_layer *prev = &net->layer[net->n_layers - 1];
		l.in_h = prev->out_h;
		l.in_w = prev->out_w;
		l.in_c = prev->out_c;
	} else {
		l.in_h = net->in_h;
		l.in_w = net->in_w;
		l.in_c = net->in_c;
	}
	uint64_t weights = 0, biases = 0;
	switch (l.kind) {
	case NN_CONV: {
		if (l.k == 0 || l.out_c == 0 || l.stride == 0)
			return fail_at(err, err_len, head, ERROR_SHAPE,
			               "filter size, channels and stride must be at least 1");
		if (l.k > DIM_MAX || l.out_c > DIM_MAX || l.stride > DIM_MAX || l.pad > DIM_MAX)
			return fail_at(err, err_len, head, ERROR_RANGE, "a number exceeds %llu",
			               (unsigned long long)DIM_MAX);
		uint64_t ph = (uint64_t)l.in_h + 2 * (uint64_t)l.pad;
		uint64_t pw = (uint64_t)l.in_w + 2 * (uint64_t)l.pad;
		if (l.k > ph || l.k > pw) {
			if (l.pad)
				return fail_at(err, err_len, head, ERROR_SHAPE,
				               "a %zux%zu filter does not fit a %zux%zu input with "
				               "padding %zu",
				               l.k, l.k, l.in_h, l.in_w, l.pad);
			return fail_at(err, err_len, head, ERROR_SHAPE,
			               "a %zux%zu filter does not fit a %zux%zu input", l.k, l.k,
			               l.in_h, l.in_w);
		}
		uint64_t oh = (ph - l.k) / l.stride + 1, ow = (pw - l.k) / l.stride + 1;
		if (oh > DIM_MAX || ow > DIM_MAX)
			return fail_at(err, err_len, head, ERROR_RANGE,
			               "output %llux%llu exceeds %llu in a dimension",
			               (unsigned long long)oh, (unsigned long long)ow,
			               (unsigned long long)DIM_MAX);
		l.out_h = (size_t)oh;
		l.out_w = (size_t)ow;
		weights = mul_sat(mul_sat(mul_sat(l.k, l.k), l.in_c), l.out_c);
		biases = l.out_c;
		break;
	}
	case NN_MAXPOOL:
		if (l.k == 0)
			return fail_at(err, err_len, head, ERROR_SHAPE,
			               "window must be at least 1");
		if (l.in_h % l.k || l.in_w % l.k)
			return fail_at(err, err_len, head, ERROR_SHAPE,
			               "%zu does not divide %zux%zu", l.k, l.in_h, l.in_w);
		l.out_h = l.in_h / l.k;
		l.out_w = l.in_w / l.k;
		l.out_c = l.in_c;
		l.stride = l.k;
		l.pad = 0;
		break;
	case NN_RELU:
		l.k = 0;
		l.out_h = l.in_h;
		l.out_w = l.in_w;
		l.out_c = l.in_c;
		l.stride = 1;
		l.pad = 0;
		break;
	case NN_FC:
		if (l.out_c == 0)
			return fail_at(err, err_len, head, ERROR_SHAPE,
			               "outputs must be at least 1");
		if (l.out_c > DIM_MAX)
			return fail_at(err, err_len, head, ERROR_RANGE, "%zu outputs exceed %llu",
			               l.out_c, (unsigned long long)DIM_MAX);
		l.k = 0;
		l.out_h = 1;
		l.out_w = 1;
		l.stride = 1;
		l.pad = 0;
		weights = mul_sat(mul_sat(mul_sat(l.in_h, l.in_w), l.in_c), l.out_c);
		biases = l.out_c;
		break;
	default:
		return fail_at(err, err_len, head, ERROR_INVAL, "unknown layer kind %d",
		               (int)l.kind);
	}
	uint64_t values = mul_sat(mul_sat(l.out_h, l.out_w), l.out_c);
	if (values > VALUES_MAX)
		return fail_at(err, err_len, head, ERROR_RANGE,
		               "output %zux%zux%zu has more than 2^31 - 1 values", l.out_h, l.out_w,
		               l.out_c);
	uint64_t params = add_sat(weights, biases);
	for (size_t i = 0; i < net->n_layers; i++)
		params = add_sat(params, (uint64_t)nn_layer_weights(&net->layer[i]) +
		                             nn_layer_biases(&net->layer[i]));
	if (params > PARAMS_MAX)
		return fail_at(err, err_len, head, ERROR_RANGE,
		               "the network would have more than 2^31 - 1 parameters");
	net->layer[net->n_layers++] = l;
	return 0;
}

static int check_input(const struct nn_net *net, const char *head, char *err, size_t err_len)
{
	if (!net->in_h || !net->in_w || !net->in_c)
		return fail_at(err, err_len, head, ERROR_SHAPE,
		               "input dimensions must be at least 1");
	if (net->in_h > DIM_MAX || net->in_w > DIM_MAX || net->in_c > DIM_MAX)
		return fail_at(err, err_len, head, ERROR_RANGE, "an input dimension exceeds %llu",
		               (unsigned long long)DIM_MAX);
	if (mul_sat(mul_sat(net->in_h, net->in_w), net->in_c) > VALUES_MAX)
		return fail_at(err, err_len, head, ERROR_RANGE,
		               "input %zux%zux%zu has more than 2^31 - 1 values", net->in_h,
		               net->in_w, net->in_c);
	return 0;
}

int nn_net_check(const struct nn_net *net, char *err, size_t err_len)
{
	if (err && err_len)
		err[0] = '\0';
	if (!net)
		return error_fmt(err, err_len, ERROR_INVAL, "nn_net_check: NULL network");
	char head[HEAD_LEN];
	snprintf(head, sizeof head, "input %zu %zu %zu", net->in_h, net->in_w, net->in_c);
	TRY(check_input(net, head, err, err_len));
	if (!net->n_layers)
		return error_fmt(err, err_len, ERROR_FORMAT, "no layers");
	if (net->n_layers > NN_MAX_LAYERS)
		return error_fmt(err, err_len, ERROR_RANGE, "%zu layers, more than %d",
		                 net->n_layers, NN_MAX_LAYERS);
	if (net->output != NN_OUT_ASM && net->output != NN_OUT_ARGMAX && net->output != NN_OUT_NONE)
		return error_fmt(err, err_len, ERROR_INVAL, "unknown output layer %d",
		                 (int)net->output);
	struct nn_net *re = malloc(sizeof *re); /* the net rebuilt from its parameters */
	if (!re)
		return error_fmt(err, err_len, ERROR_NOMEM, "out of memory");
	memset(re, 0, sizeof *re);
	re->in_h = net->in_h;
	re->in_w = net->in_w;
	re->in_c = net->in_c;
	int rc = 0;
	for (size_t i = 0; i < net->n_layers && !rc; i++) {
		const struct nn_layer *l = &net->layer[i];
		char text[SHOW_MAX + 4] = "?";
		if (nn_layer_format(l, text, sizeof text) < 0)
			snprintf(text, sizeof text, "kind %d", (int)l->kind);
		if (l->line > 0)
			snprintf(head, sizeof head, "line %d (%s)", l->line, text);
		else
			snprintf(head, sizeof head, "layer %zu (%s)", i + 1, text);
		struct nn_layer want = {
		    .kind = l->kind,
		    .k = l->k,
		    .out_c = l->out_c,
		    .stride = l->stride,
		    .pad = l->pad,
		    .line = l->line,
		};
		rc = push(re, want, head, err, err_len);
		if (rc)
			break;
		const struct nn_layer *got = &re->layer[i];
		if (l->in_h != got->in_h || l->in_w != got->in_w || l->in_c != got->in_c ||
		    l->out_h != got->out_h || l->out_w != got->out_w || l->out_c != got->out_c)
			rc = fail_at(
			    err, err_len, head, ERROR_SHAPE,
			    "recorded shape %zux%zux%zu -> %zux%zux%zu, inferred %zux%zux%zu -> "
			    "%zux%zux%zu",
			    l->in_h, l->in_w, l->in_c, l->out_h, l->out_w, l->out_c, got->in_h,
			    got->in_w, got->in_c, got->out_h, got->out_w, got->out_c);
	}
	free(re);
	return rc;
}

/* ---- parser ---- */

struct token {
	const char *s; /* not NUL-terminated */
	size_t n;      /* length */
};

static int tok_is(const struct token *t, const char *word)
{
	return t->n == strlen(word) && memcmp(t->s, word, t->n) == 0;
}

/* A decimal number 0..2^20 (pad) or 1..2^20 (everything else). */
static int number(size_t *out, const struct token *t, const char *what, int allow_zero,
                  const char *head, char *err, size_t err_len)
{
	char shown[SHOW_MAX + 4];
	uint64_t v = 0;
	show(shown, t->s, t->n);
	for (size_t i = 0; i < t->n; i++) {
		if (t->s[i] < '0' || t->s[i] > '9')
			return fail_at(err, err_len, head, ERROR_FORMAT,
			               "%s must be a whole number, not '%s'", what, shown);
		if (v <= DIM_MAX)
			v = v * 10 + (uint64_t)(t->s[i] - '0');
	}
	if (v > DIM_MAX)
		return fail_at(err, err_len, head, ERROR_RANGE, "%s %s exceeds %llu", what, shown,
		               (unsigned long long)DIM_MAX);
	if (v == 0 && !allow_zero)
		return fail_at(err, err_len, head, ERROR_FORMAT, "%s must be at least 1", what);
	*out = (size_t)v;
	return 0;
}

/* Exactly want arguments after the keyword. */
static int n_args(size_t n_tok, const struct token *tok, size_t want, const char *usage,
                  const char *head, char *err, size_t err_len)
{
	if (n_tok - 1 < want)
		return fail_at(err, err_len, head, ERROR_FORMAT, "missing argument (expected '%s')",
		               usage);
	if (n_tok - 1 > want) {
		char shown[SHOW_MAX + 4];
		show(shown, tok[want + 1].s, tok[want + 1].n);
		return fail_at(err, err_len, head, ERROR_FORMAT,
		               "unexpected argument '%s' (expected '%s')", shown, usage);
	}
	return 0;
}

/* Parser state across lines. */
struct parse {
	struct nn_net *net;
	int input_line;  /* line of 'input', 0 before it */
	int output_line; /* line of 'output', 0 before it */
};

/* One non-empty line: n_tok tokens (only the first TOKENS_MAX kept). */
static int parse_line(struct parse *ps, int line, const struct token *tok, size_t n_tok,
                      const char *head, char *err, size_t err_len)
{
	struct nn_net *net = ps->net;
	const struct token *kw = &tok[0];
	if (ps->output_line)
		return fail_at(err, err_len, head, ERROR_FORMAT,
		               "nothing may follow 'output' (line %d)", ps->output_line);
	if (!ps->input_line) {
		if (!tok_is(kw, "input"))
			return fail_at(err, err_len, head, ERROR_FORMAT,
			               "the first line must be 'input H W C'");
		TRY(n_args(n_tok, tok, 3, "input H W C", head, err, err_len));
		TRY(number(&net->in_h, &tok[1], "height", 0, head, err, err_len));
		TRY(number(&net->in_w, &tok[2], "width", 0, head, err, err_len));
		TRY(number(&net->in_c, &tok[3], "channels", 0, head, err, err_len));
		TRY(check_input(net, head, err, err_len));
		ps->input_line = line;
		return 0;
	}
	if (tok_is(kw, "input"))
		return fail_at(err, err_len, head, ERROR_FORMAT,
		               "'input' may appear only once (first on line %d)", ps->input_line);
	if (tok_is(kw, "output")) {
		TRY(n_args(n_tok, tok, 1, "output asm|argmax|none", head, err, err_len));
		if (tok_is(&tok[1], "asm"))
			net->output = NN_OUT_ASM;
		else if (tok_is(&tok[1], "argmax"))
			net->output = NN_OUT_ARGMAX;
		else if (tok_is(&tok[1], "none"))
			net->output = NN_OUT_NONE;
		else {
			char shown[SHOW_MAX + 4];
			show(shown, tok[1].s, tok[1].n);
			return fail_at(err, err_len, head, ERROR_FORMAT,
			               "unknown output '%s' (expected asm, argmax or none)", shown);
		}
		if (!net->n_layers)
			return fail_at(err, err_len, head, ERROR_FORMAT,
			               "no layers between 'input' and 'output'");
		ps->output_line = line;
		return 0;
	}
	struct nn_layer l = {.stride = 1, .pad = 0, .line = line};
	if (tok_is(kw, "conv")) {
		static const char usage[] = "conv F N [stride S] [pad P]";
		int seen_stride = 0, seen_pad = 0;
		l.kind = NN_CONV;
		if (n_tok < 3)
			return fail_at(err, err_len, head, ERROR_FORMAT,
			               "missing argument (expected '%s')", usage);
		TRY(number(&l.k, &tok[1], "filter size", 0, head, err, err_len));
		TRY(number(&l.out_c, &tok[2], "output channels", 0, head, err, err_len));
		for (size_t i = 3; i < n_tok; i += 2) {
			char shown[SHOW_MAX + 4];
			int is_stride = i < TOKENS_MAX && tok_is(&tok[i], "stride");
			int is_pad = i < TOKENS_MAX && tok_is(&tok[i], "pad");
			if (i >= TOKENS_MAX || (!is_stride && !is_pad)) {
				if (i >= TOKENS_MAX)
					snprintf(shown, sizeof shown, "...");
				else
					show(shown, tok[i].s, tok[i].n);
				return fail_at(err, err_len, head, ERROR_FORMAT,
				               "unexpected argument '%s' (expected '%s')", shown,
				               usage);
			}
			if ((is_stride && seen_stride) || (is_pad && seen_pad))
				return fail_at(err, err_len, head, ERROR_FORMAT, "'%s' given twice",
				               is_stride ? "stride" : "pad");
			if (i + 1 >= n_tok)
				return fail_at(err, err_len, head, ERROR_FORMAT,
				               "'%s' needs a value (expected '%s')",
				               is_stride ? "stride" : "pad", usage);
			if (i + 1 >= TOKENS_MAX)
				return fail_at(err, err_len, head, ERROR_FORMAT,
				               "too many arguments (expected '%s')", usage);
			if (is_stride) {
				TRY(number(&l.stride, &tok[i + 1], "stride", 0, head, err,
				           err_len));
				seen_stride = 1;
			} else {
				TRY(number(&l.pad, &tok[i + 1], "pad", 1, head, err, err_len));
				seen_pad = 1;
			}
		}
	} else if (tok_is(kw, "maxpool")) {
		l.kind = NN_MAXPOOL;
		TRY(n_args(n_tok, tok, 1, "maxpool K", head, err, err_len));
		TRY(number(&l.k, &tok[1], "window", 0, head, err, err_len));
	} else if (tok_is(kw, "relu")) {
		l.kind = NN_RELU;
		TRY(n_args(n_tok, tok, 0, "relu", head, err, err_len));
	} else if (tok_is(kw, "fc")) {
		l.kind = NN_FC;
		TRY(n_args(n_tok, tok, 1, "fc N", head, err, err_len));
		TRY(number(&l.out_c, &tok[1], "outputs", 0, head, err, err_len));
	} else {
		char shown[SHOW_MAX + 4];
		show(shown, kw->s, kw->n);
		return fail_at(err, err_len, head, ERROR_FORMAT,
		               "unknown keyword '%s' (expected input, conv, maxpool, relu, fc or "
		               "output)",
		               shown);
	}
	return push(net, l, head, err, err_len);
}

int nn_net_parse(struct nn_net *net, const char *text, const char *name, char *err, size_t err_len)
{
	if (err && err_len)
		err[0] = '\0';
	if (!net || !text)
		return error_fmt(err, err_len, ERROR_INVAL, "nn_net_parse: NULL argument");
	memset(net, 0, sizeof *net);
	struct parse ps = {.net = net};
	int line = 0, rc = 0;
	for (const char *p = text; *p && !rc;) {
		const char *end = strchr(p, '\n');
		if (!end)
			end = p + strlen(p);
		if (line == INT_MAX) {
			rc = error_fmt(err, err_len, ERROR_RANGE, "more than %d lines", INT_MAX);
			break;
		}
		line++;
		const char *hash = memchr(p, '#', (size_t)(end - p));
		const char *stop = hash ? hash : end;
		struct token tok[TOKENS_MAX];
		size_t n_tok = 0;
		const char *first = NULL, *last = NULL; /* the line's text, trimmed */
		for (const char *q = p; q < stop;) {
			if (is_space(*q)) {
				q++;
				continue;
			}
			const char *s = q;
			while (q < stop && !is_space(*q))
				q++;
			if (n_tok < TOKENS_MAX)
				tok[n_tok] = (struct token){.s = s, .n = (size_t)(q - s)};
			n_tok++;
			if (!first)
				first = s;
			last = q;
		}
		if (n_tok) {
			char shown[SHOW_MAX + 4], head[HEAD_LEN];
			show(shown, first, (size_t)(last - first));
			snprintf(head, sizeof head, "line %d (%s)", line, shown);
			rc = parse_line(&ps, line, tok, n_tok, head, err, err_len);
		}
		p = *end ? end + 1 : end;
	}
	if (!rc && !ps.input_line)
		rc = error_fmt(err, err_len, ERROR_FORMAT,
		               "empty description: no 'input H W C' line");
	if (!rc && !net->n_layers)
		rc = error_fmt(err, err_len, ERROR_FORMAT, "no layers after 'input' (line %d)",
		               ps.input_line);
	if (rc) {
		memset(net, 0, sizeof *net);
		return rc;
	}
	copy_name(net->name, name);
	return 0;
}

/* ---- built-ins and files ---- */

const char *const *nn_net_builtin_names(void)
{
	return builtin_names;
}

int nn_net_builtin(struct nn_net *net, const char *name, char *err, size_t err_len)
{
	if (err && err_len)
		err[0] = '\0';
	if (!net || !name)
		return error_fmt(err, err_len, ERROR_INVAL, "nn_net_builtin: NULL argument");
	for (size_t i = 0; builtin_names[i]; i++) {
		if (strcmp(name, builtin_names[i]) != 0)
			continue;
		TRY(nn_net_parse(net, builtin_text[i], name, err, err_len));
		for (size_t j = 0; j < net->n_layers; j++)
			net->layer[j].line = 0;
		return 0;
	}
	memset(net, 0, sizeof *net);
	char names[128];
	list_names(names, sizeof names);
	return error_fmt(err, err_len, ERROR_INVAL, "unknown network '%s' (built-in: %s)", name,
	                 names);
}

int nn_net_load(struct nn_net *net, const char *name_or_path, char *err, size_t err_len)
{
	if (err && err_len)
		err[0] = '\0';
	if (!net || !name_or_path)
		return error_fmt(err, err_len, ERROR_INVAL, "nn_net_load: NULL argument");
	memset(net, 0, sizeof *net);
	const char *path = name_or_path;
	for (size_t i = 0; builtin_names[i]; i++)
		if (strcmp(path, builtin_names[i]) == 0)
			return nn_net_builtin(net, path, err, err_len);

	FILE *f = fopen(path, "rb");
	if (!f) {
		char names[128];
		int e = errno;
		list_names(names, sizeof names);
		return error_fmt(err, err_len, ERROR_IO,
		                 "cannot read '%s': %s (and it is not a built-in network: %s)",
		                 path, strerror(e), names);
	}
	int rc = 0;
	char *text = malloc(FILE_MAX + 2); /* FILE_MAX + 1 bytes read at most, then a NUL */
	if (!text) {
		rc = error_fmt(err, err_len, ERROR_NOMEM, "'%s': out of memory", path);
		goto out;
	}
	size_t n = fread(text, 1, FILE_MAX + 1, f);
	if (ferror(f)) {
		int e = errno;
		rc = error_fmt(err, err_len, ERROR_IO, "cannot read '%s': %s", path, strerror(e));
		goto out;
	}
	if (n > FILE_MAX) {
		rc = error_fmt(err, err_len, ERROR_RANGE, "'%s' is larger than %zu KiB", path,
		               FILE_MAX / 1024);
		goto out;
	}
	if (memchr(text, '\0', n)) {
		rc = error_fmt(err, err_len, ERROR_FORMAT, "'%s' contains a NUL byte", path);
		goto out;
	}
	text[n] = '\0';
	const char *slash = strrchr(path, '/');
	const char *base = slash && slash[1] ? slash + 1 : path;
	char msg[256];
	rc = nn_net_parse(net, text, base, msg, sizeof msg);
	if (rc)
		error_fmt(err, err_len, rc, "%s: %s", path, msg);
out:
	free(text);
	fclose(f);
	return rc;
}

/* ---- formatter ---- */

/* snprintf onto the end of buf[0..len); pos counts every byte wanted. */
struct out {
	char *buf;  /* len bytes, or NULL when len is 0 */
	size_t len; /* capacity */
	size_t pos; /* bytes the full text needs so far (excluding the NUL) */
};

SNN_PRINTF_LIKE(2, 3)
static void put(struct out *o, const char *fmt, ...)
{
	char dummy[1];
	va_list ap;
	va_start(ap, fmt);
	int n = o->pos < o->len ? vsnprintf(o->buf + o->pos, o->len - o->pos, fmt, ap)
	                        : vsnprintf(dummy, 0, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->pos += (size_t)n;
}

size_t nn_net_pool_first(struct nn_net *net)
{
	size_t swaps = 0;
	for (size_t i = 0; i + 1 < net->n_layers; i++) {
		struct nn_layer *r = &net->layer[i], *p = &net->layer[i + 1];
		if (r->kind != NN_RELU || p->kind != NN_MAXPOOL)
			continue;
		struct nn_layer pool = *p, relu = *r;
		pool.in_h = r->in_h;
		pool.in_w = r->in_w;
		pool.in_c = r->in_c;
		relu.in_h = relu.out_h = p->out_h;
		relu.in_w = relu.out_w = p->out_w;
		relu.in_c = relu.out_c = p->out_c;
		*r = pool;
		*p = relu;
		swaps++;
		i++;
	}
	return swaps;
}

int nn_net_format(const struct nn_net *net, char *buf, size_t len)
{
	if (!net || (!buf && len) || net->n_layers > NN_MAX_LAYERS)
		return ERROR_INVAL;
	static const char *const outputs[] = {
	    [NN_OUT_ASM] = "asm", [NN_OUT_ARGMAX] = "argmax", [NN_OUT_NONE] = "none"};
	if ((unsigned)net->output > NN_OUT_NONE)
		return ERROR_INVAL;
	if (len)
		buf[0] = '\0';
	struct out o = {.buf = buf, .len = len};
	if (net->name[0]) {
		char shown[SHOW_MAX + 4];
		show(shown, net->name, strnlen(net->name, NN_NAME_LEN - 1));
		put(&o, "# network %s\n", shown);
	}
	put(&o, "input %zu %zu %zu\n", net->in_h, net->in_w, net->in_c);
	for (size_t i = 0; i < net->n_layers; i++) {
		char text[96];
		if (nn_layer_format(&net->layer[i], text, sizeof text) < 0)
			return ERROR_INVAL;
		put(&o, "%s\n", text);
	}
	put(&o, "output %s\n", outputs[net->output]);
	if (o.pos > INT_MAX)
		return ERROR_RANGE;
	return (int)o.pos;
}
