#include "eval.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "compute_msb.h"
#include "division.h"
#include "fixed.h"
#include "matmul.h"
#include "maxpool.h"
#include "private_compare.h"
#include "relu.h"
#include "select_share.h"
#include "share.h"
#include "share_convert.h"
#include "share_truncate.h"
#include "zp.h"

enum proto {
	P_RELU, P_DRELU, P_MSB, P_SHARE_CONVERT, P_PRIVATE_COMPARE, P_SELECT_SHARE, P_MUL,
	P_MATMUL, P_MAXPOOL, P_DMAXPOOL, P_DIVISION,
};

struct proto_info {
	const char *name;  /* command-line name */
	int arity;         /* values per line; 0: --window values per line; -1: --dims */
	const char *input; /* what a line holds */
	const char *output;/* what is printed */
};

static const struct proto_info protos[] = {
	[P_RELU] = { "relu", 1, "a", "max(a, 0)" },
	[P_DRELU] = { "drelu", 1, "a", "1 if a >= 0 else 0" },
	[P_MSB] = { "msb", 1, "a (in Z_{2^64-1}: not -1 ulp)", "MSB(a) (ComputeMSB, Alg. 5)" },
	[P_SHARE_CONVERT] = { "share_convert", 1, "a (not 2^64-1)", "a, reconstructed in Z_{2^64-1}" },
	[P_PRIVATE_COMPARE] = { "private_compare", 2, "x r (integers)", "1 if x > r else 0" },
	[P_SELECT_SHARE] = { "select_share", 3, "alpha x y (alpha 0 or 1)", "alpha ? y : x" },
	[P_MUL] = { "mul", 2, "x y", "x·y (fixed point: truncated)" },
	[P_MATMUL] = { "matmul", -1, "X (m·n values) then Y (n·v values)", "X·Y, one row per line" },
	[P_MAXPOOL] = { "maxpool", 0, "a window of --window values", "max and its index" },
	[P_DMAXPOOL] = { "dmaxpool", 0, "a window of --window values", "one-hot vector of the argmax" },
	[P_DIVISION] = { "division", 2, "x y with 0 <= x <= y, y > 0", "x/y (13 iterations)" },
};
#define N_PROTOS (sizeof(protos) / sizeof(protos[0]))

struct eval_state {
	enum proto proto;
	int raw;               /* values are ring integers */
	unsigned frac;         /* fractional bits */
	size_t n;              /* items: lines, windows, or output elements */
	size_t k;              /* window size */
	size_t dims[3];        /* matmul m, n, v */
	size_t n_ops;          /* operand arrays */
	size_t op_len[3];      /* elements of each operand */
	ring_t *op[3];         /* plaintext operands */
	ring_t *sh[2][3];      /* shares per holder and operand */
	zp_t *bits[2];         /* private_compare: Z_67 shares of x's bits */
	size_t out_len[2];     /* elements of each output */
	ring_t *out[2][2];     /* output shares per holder: [party][output] */
	uint8_t *beta;         /* private_compare: beta drawn by P0 */
	uint8_t *beta2;        /* private_compare: beta' learnt by P2 */
};

/* ---- input ---- */

static int parse_value(const char *tok, int raw, unsigned frac, ring_t *out, char *err, size_t len)
{
	char *end;
	errno = 0;
	if (raw) {
		if (tok[0] == '-') {
			long long v = strtoll(tok, &end, 0);
			if (errno || *end)
				goto bad_int;
			*out = (ring_t)v;
		} else {
			unsigned long long v = strtoull(tok, &end, 0);
			if (errno || *end || tok[0] == '+')
				goto bad_int;
			*out = v;
		}
		return 0;
bad_int:
		snprintf(err, len, "'%s' is not an integer in [-2^63, 2^64)", tok);
		return -1;
	}
	double v = strtod(tok, &end);
	if (end == tok || *end || isnan(v)) {
		snprintf(err, len, "'%s' is not a number (use --raw for ring integers)", tok);
		return -1;
	}
	if (fixed_encode(out, v, frac) < 0) {
		snprintf(err, len, "'%s' is out of range: |x| must be below %.6g with %u fractional bits",
			 tok, fixed_max(frac), frac);
		return -1;
	}
	return 0;
}

/* Read whitespace-separated values; per_line > 0 enforces that many per line. */
static int read_values(FILE *f, const char *name, int per_line, int raw, unsigned frac, ring_t **vals,
		       size_t *n_vals)
{
	size_t cap = 1024, n = 0;
	ring_t *v = malloc(cap * sizeof(*v));
	char *line = NULL;
	size_t line_cap = 0;
	long lineno = 0;
	if (!v)
		goto oom;
	while (getline(&line, &line_cap, f) >= 0) {
		lineno++;
		char *hash = strchr(line, '#');
		if (hash)
			*hash = '\0';
		int on_line = 0;
		for (char *tok = strtok(line, " \t\r\n,"); tok; tok = strtok(NULL, " \t\r\n,")) {
			char err[200];
			if (n == cap) {
				if (cap > SIZE_MAX / 2 / sizeof(*v))
					goto oom;
				ring_t *nv = realloc(v, 2 * cap * sizeof(*v));
				if (!nv)
					goto oom;
				v = nv;
				cap *= 2;
			}
			if (parse_value(tok, raw, frac, &v[n], err, sizeof(err)) < 0) {
				fprintf(stderr, "snn eval: %s:%ld: %s\n", name, lineno, err);
				goto fail;
			}
			n++;
			on_line++;
		}
		if (per_line > 0 && on_line != 0 && on_line != per_line) {
			fprintf(stderr, "snn eval: %s:%ld: expected %d value%s per line, got %d\n", name, lineno,
				per_line, per_line == 1 ? "" : "s", on_line);
			goto fail;
		}
	}
	if (ferror(f)) {
		fprintf(stderr, "snn eval: %s: read error\n", name);
		goto fail;
	}
	free(line);
	*vals = v;
	*n_vals = n;
	return 0;
oom:
	fprintf(stderr, "snn eval: out of memory reading %s\n", name);
fail:
	free(line);
	free(v);
	return -1;
}

/* ---- the parties ---- */

static int party_fn(struct party *p, void *arg)
{
	struct eval_state *st = arg;
	int j = p->id;
	int h = j < 2;
	ring_t *const *in = h ? st->sh[j] : NULL;
	ring_t *o0 = h ? st->out[j][0] : NULL, *o1 = h ? st->out[j][1] : NULL;
	/* P2 passes a non-NULL (never dereferenced) argmax to say the index is wanted. */
	static ring_t want_index;
	size_t n = st->n;
	switch (st->proto) {
	case P_RELU:
		return relu(p, o0, NULL, h ? in[0] : NULL, n);
	case P_DRELU:
		return drelu(p, o0, h ? in[0] : NULL, n);
	case P_MSB:
		return compute_msb(p, o0, h ? in[0] : NULL, n);
	case P_SHARE_CONVERT:
		return share_convert(p, o0, h ? in[0] : NULL, n);
	case P_PRIVATE_COMPARE:
		if (!h)
			return private_compare(p, st->beta2, NULL, NULL, NULL, NULL, n);
		/* beta: common random bits of P0 and P1; P0 reports its copy. */
		{
			uint8_t *beta = malloc(n);
			if (!beta)
				return party_fail(p, ERROR_NOMEM, "P%d: out of memory", j);
			prg_bits(party_common(p, 1 - j), beta, n);
			if (j == 0)
				memcpy(st->beta, beta, n);
			int rc = private_compare(p, NULL, st->bits[j], st->op[1], beta, NULL, n);
			free(beta);
			return rc;
		}
	case P_SELECT_SHARE:
		return select_share(p, o0, h ? in[0] : NULL, h ? in[1] : NULL, h ? in[2] : NULL, n);
	case P_MUL:
		TRY(matmul_elementwise(p, o0, h ? in[0] : NULL, h ? in[1] : NULL, n));
		if (!st->raw && h)
			share_truncate(p, o0, n, st->frac);
		return 0;
	case P_MATMUL:
		TRY(matmul(p, o0, h ? in[0] : NULL, h ? in[1] : NULL, st->dims[0], st->dims[1],
			   st->dims[2], 0));
		if (!st->raw && h)
			share_truncate(p, o0, st->dims[0] * st->dims[2], st->frac);
		return 0;
	case P_MAXPOOL:
		return maxpool(p, o0, h ? o1 : &want_index, h ? in[0] : NULL, n, st->k);
	case P_DMAXPOOL:
		if ((st->k & (st->k - 1)) == 0) {
			/* o0: argmax, then the one-hot vectors */
			TRY(maxpool(p, o1, h ? o0 : &want_index, h ? in[0] : NULL, n, st->k));
			if (!h)
				return maxpool_derivative(p, NULL, NULL, n, st->k);
			ring_t *idx = malloc(n * sizeof(ring_t));
			if (!idx)
				return party_fail(p, ERROR_NOMEM, "P%d: out of memory", j);
			memcpy(idx, o0, n * sizeof(ring_t));
			int rc = maxpool_derivative(p, o0, idx, n, st->k);
			free(idx);
			return rc;
		}
		return maxpool_onehot(p, o1, o0, h ? in[0] : NULL, n, st->k);
	case P_DIVISION:
		return division(p, o0, h ? in[0] : NULL, h ? in[1] : NULL, n, st->frac);
	}
	return ERROR_INVAL;
}

/* ---- views ---- */

struct views {
	FILE *f[PARTY_COUNT]; /* one file per party, written by its thread only */
	uint64_t count[PARTY_COUNT];
};

static void on_recv(void *ctx, const struct party *p, int from, const void *data,
		    const struct channel_header *hdr)
{
	struct views *v = ctx;
	FILE *f = v->f[p->id];
	if (!f)
		return;
	char scope[256];
	stats_path(&p->stats, p->stats.stack[p->stats.depth - 1], scope, sizeof(scope));
	fprintf(f, "msg %llu from P%d round %u bytes %llu scope %s\n",
		(unsigned long long)++v->count[p->id], from, hdr->round,
		(unsigned long long)hdr->n_bytes, scope[0] ? scope : "-");
	const unsigned char *b = data;
	for (uint64_t i = 0; i < hdr->n_bytes; i++)
		fprintf(f, "%s%02x%s", i % 32 == 0 ? "  " : "", b[i],
			(i % 32 == 31 || i + 1 == hdr->n_bytes) ? "\n" : " ");
}

static int views_open(struct views *v, const char *dir, const char *proto, uint64_t seed, size_t n)
{
	memset(v, 0, sizeof(*v));
	if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
		fprintf(stderr, "snn eval: --views: cannot create '%s': %s\n", dir, strerror(errno));
		return -1;
	}
	for (int i = 0; i < PARTY_COUNT; i++) {
		char path[4096];
		snprintf(path, sizeof(path), "%s/P%d.txt", dir, i);
		v->f[i] = fopen(path, "w");
		if (!v->f[i]) {
			fprintf(stderr, "snn eval: --views: cannot write '%s': %s\n", path, strerror(errno));
			return -1;
		}
		fprintf(v->f[i],
			"# snn views: every message P%d received in `snn eval %s` on %zu inputs, seed %llu.\n"
			"# One block per message, in the order received: a line\n"
			"#   msg <k> from P<sender> round <r> bytes <n> scope <protocol/sub-protocol>\n"
			"# then the payload as hex bytes, 32 per line. Ring elements are 8 bytes,\n"
			"# little endian; Z_67 elements (PrivateCompare, bit shares) are one byte.\n",
			i, proto, n, (unsigned long long)seed);
	}
	return 0;
}

static int views_close(struct views *v)
{
	int rc = 0;
	for (int i = 0; i < PARTY_COUNT; i++)
		if (v->f[i] && fclose(v->f[i]) != 0)
			rc = -1;
	return rc;
}

/* ---- command ---- */

static void usage(FILE *out)
{
	fprintf(out, "usage: snn eval <protocol> [FILE] [options]\n\n"
		     "Secret-shares the values in FILE (or stdin), runs the protocol among P0, P1, P2,\n"
		     "reveals the output and prints it, one per line. Values are decimal fixed-point\n"
		     "numbers (13 fractional bits), or ring integers with --raw. '#' starts a comment.\n\n"
		     "protocols (input per line -> output):\n");
	for (size_t k = 0; k < N_PROTOS; k++)
		fprintf(out, "  %-16s %s -> %s\n", protos[k].name, protos[k].input, protos[k].output);
	fprintf(out, "\noptions:\n"
		     "  --raw              values are integers of Z_2^64 (e.g. -5, 18446744073709551611, 0x1f)\n"
		     "  --frac-bits F      fixed-point fractional bits (default 13)\n"
		     "  --window K         maxpool, dmaxpool: values per window (per line)\n"
		     "  --dims M,N,V       matmul: X is M x N, Y is N x V\n"
		     "  --json             one JSON object with outputs and costs\n"
		     "  --views DIR        write DIR/P0.txt, P1.txt, P2.txt: every message each party\n"
		     "                     received, in order, with round, size and protocol scope\n");
	cli_print_run_flags(out);
}

static void print_value(FILE *f, ring_t v, int raw, unsigned frac, int integer)
{
	if (raw || integer)
		fprintf(f, "%" PRId64, ring_signed(v));
	else
		fprintf(f, "%.6f", fixed_decode(v, frac));
}

static int alloc_state(struct eval_state *st)
{
	for (size_t o = 0; o < st->n_ops; o++)
		for (int j = 0; j < 2; j++)
			if (!(st->sh[j][o] = calloc(st->op_len[o] ? st->op_len[o] : 1, sizeof(ring_t))))
				return -1;
	for (int k = 0; k < 2; k++)
		for (int j = 0; j < 2; j++)
			if (!(st->out[j][k] = calloc(st->out_len[k] ? st->out_len[k] : 1, sizeof(ring_t))))
				return -1;
	return 0;
}

static void free_state(struct eval_state *st)
{
	for (int o = 0; o < 3; o++) {
		free(st->op[o]);
		for (int j = 0; j < 2; j++)
			free(st->sh[j][o]);
	}
	for (int k = 0; k < 2; k++)
		for (int j = 0; j < 2; j++)
			free(st->out[j][k]);
	free(st->bits[0]);
	free(st->bits[1]);
	free(st->beta);
	free(st->beta2);
}

/* Check the data owner's view of the inputs against each protocol's precondition. */
static int check_inputs(struct eval_state *st)
{
	ring_t lim = (ring_t)1 << 62;
	for (size_t i = 0; i < st->n; i++) {
		switch (st->proto) {
		case P_RELU:
		case P_DRELU: {
			ring_t a = st->op[0][i];
			if (a >= lim && a <= (ring_t)0 - lim) {
				fprintf(stderr, "snn eval: input %zu: |a| must be below 2^62 (DReLU's precondition)\n", i + 1);
				return -1;
			}
			break;
		}
		case P_MSB:
		case P_SHARE_CONVERT:
			if (st->op[0][i] == UINT64_MAX) {
				fprintf(stderr, "snn eval: input %zu: 2^64 - 1 (-1 ulp) is not allowed for %s\n",
					i + 1, protos[st->proto].name);
				return -1;
			}
			break;
		case P_SELECT_SHARE:
			if (st->op[0][i] > 1) {
				fprintf(stderr, "snn eval: line %zu: alpha must be 0 or 1 (use --raw, or 0 and 0.000122 is not 1)\n", i + 1);
				return -1;
			}
			break;
		case P_DIVISION: {
			int64_t x = ring_signed(st->op[0][i]), y = ring_signed(st->op[1][i]);
			if (y <= 0 || x < 0 || x > y) {
				fprintf(stderr, "snn eval: line %zu: division needs 0 <= x <= y and y > 0\n", i + 1);
				return -1;
			}
			break;
		}
		default:
			break;
		}
	}
	return 0;
}

int eval_main(int argc, char **argv)
{
	struct cli_run run;
	cli_run_default(&run);
	const char *proto_name = NULL, *path = NULL, *views_dir = NULL;
	int raw = 0, json = 0;
	uint64_t frac = FIXED_FRAC_BITS, window = 0;
	size_t dims[3] = { 0, 0, 0 };
	int have_dims = 0;

	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		int r = cli_parse_run_flag("eval", &run, argc, argv, &i);
		if (r < 0)
			return 2;
		if (r > 0)
			continue;
		const char *v;
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			usage(stdout);
			return 0;
		} else if (strcmp(a, "--raw") == 0) {
			raw = 1;
		} else if (strcmp(a, "--json") == 0) {
			json = 1;
		} else if (cli_is(a, "--frac-bits")) {
			if (!(v = cli_value("eval", argc, argv, &i)) ||
			    cli_parse_u64("eval", "--frac-bits", v, 1, FIXED_MAX_FRAC_BITS, &frac) < 0)
				return 2;
		} else if (cli_is(a, "--window")) {
			if (!(v = cli_value("eval", argc, argv, &i)) ||
			    cli_parse_u64("eval", "--window", v, 1, 4096, &window) < 0)
				return 2;
		} else if (cli_is(a, "--dims")) {
			if (!(v = cli_value("eval", argc, argv, &i)) ||
			    cli_parse_dims("eval", "--dims", v, dims, 3, "M,N,V") < 0)
				return 2;
			have_dims = 1;
		} else if (cli_is(a, "--views")) {
			if (!(views_dir = cli_value("eval", argc, argv, &i)))
				return 2;
		} else if ((a[0] == '-' && a[1] != '\0') || path) {
			return cli_reject("eval", a);
		} else if (!proto_name) {
			proto_name = a;
		} else {
			path = a;
		}
	}
	if (!proto_name) {
		usage(stderr);
		return 2;
	}
	struct eval_state st;
	memset(&st, 0, sizeof(st));
	size_t pk = 0;
	for (; pk < N_PROTOS; pk++)
		if (strcmp(proto_name, protos[pk].name) == 0)
			break;
	if (pk == N_PROTOS) {
		fprintf(stderr, "snn eval: unknown protocol '%s'; accepted:", proto_name);
		for (size_t k = 0; k < N_PROTOS; k++)
			fprintf(stderr, " %s", protos[k].name);
		fprintf(stderr, "\n");
		return 2;
	}
	st.proto = (enum proto)pk;
	st.raw = raw || st.proto == P_PRIVATE_COMPARE || st.proto == P_SHARE_CONVERT;
	st.frac = (unsigned)frac;
	const struct proto_info *info = &protos[pk];
	if ((st.proto == P_MAXPOOL || st.proto == P_DMAXPOOL) && !window) {
		fprintf(stderr, "snn eval: %s needs --window K (values per window)\n", info->name);
		return 2;
	}
	if (st.proto == P_MATMUL && !have_dims) {
		fprintf(stderr, "snn eval: matmul needs --dims M,N,V\n");
		return 2;
	}
	if (st.proto == P_DIVISION && raw) {
		fprintf(stderr, "snn eval: division works on fixed-point values: drop --raw\n");
		return 2;
	}

	FILE *in = stdin;
	if (path && strcmp(path, "-") != 0) {
		in = fopen(path, "r");
		if (!in) {
			fprintf(stderr, "snn eval: cannot read '%s': %s\n", path, strerror(errno));
			return 2;
		}
	}
	ring_t *vals = NULL;
	size_t n_vals = 0;
	int per_line = info->arity > 0 ? info->arity : info->arity == 0 ? (int)window : 0;
	int rc = read_values(in, path ? path : "stdin", per_line, st.raw, st.frac, &vals, &n_vals);
	if (in != stdin)
		fclose(in);
	if (rc < 0)
		return 2;
	int status = 1;

	/* Lay the operands out. */
	if (st.proto == P_MATMUL) {
		size_t nx = dims[0] * dims[1], ny = dims[1] * dims[2];
		if (n_vals != nx + ny) {
			fprintf(stderr, "snn eval: matmul %zux%zux%zu needs %zu values (X then Y), got %zu\n",
				dims[0], dims[1], dims[2], nx + ny, n_vals);
			free(vals);
			return 2;
		}
		memcpy(st.dims, dims, sizeof(dims));
		st.n_ops = 2;
		st.op_len[0] = nx;
		st.op_len[1] = ny;
		st.n = dims[0] * dims[2];
		st.out_len[0] = st.n;
	} else if (info->arity <= 0) {
		st.k = window;
		st.n = n_vals / window;
		st.n_ops = 1;
		st.op_len[0] = n_vals;
		st.out_len[0] = st.proto == P_DMAXPOOL ? n_vals : st.n;
		st.out_len[1] = st.n;
	} else {
		st.n = n_vals / (size_t)info->arity;
		st.n_ops = (size_t)info->arity;
		for (size_t o = 0; o < st.n_ops; o++)
			st.op_len[o] = st.n;
		st.out_len[0] = st.n;
	}
	if (st.n == 0) {
		fprintf(stderr, "snn eval: no input values\n");
		free(vals);
		return 2;
	}
	for (size_t o = 0; o < st.n_ops; o++) {
		st.op[o] = malloc(st.op_len[o] * sizeof(ring_t));
		if (!st.op[o])
			goto oom;
	}
	if (st.proto == P_MATMUL || info->arity <= 0) {
		memcpy(st.op[0], vals, st.op_len[0] * sizeof(ring_t));
		if (st.n_ops > 1)
			memcpy(st.op[1], vals + st.op_len[0], st.op_len[1] * sizeof(ring_t));
	} else {
		for (size_t i = 0; i < st.n; i++)
			for (size_t o = 0; o < st.n_ops; o++)
				st.op[o][i] = vals[i * st.n_ops + o];
	}
	free(vals);
	vals = NULL;
	if (st.proto == P_SELECT_SHARE && !raw) {
		/* alpha is a bit, not a fixed-point number: take the line's integer. */
		for (size_t i = 0; i < st.n; i++)
			st.op[0][i] = (ring_t)(ring_signed(st.op[0][i]) >> st.frac);
	}
	if (check_inputs(&st) < 0) {
		status = 2;
		goto out;
	}
	if (alloc_state(&st) < 0)
		goto oom;

	/* The data owner shares each operand (over Z_{L-1} for msb). */
	uint8_t key[PRG_KEY_BYTES];
	struct prg owner;
	prg_derive_key(key, run.cfg.seed, "owner");
	prg_init(&owner, key);
	for (size_t o = 0; o < st.n_ops; o++) {
		share_split(&owner, st.sh[0][o], st.sh[1][o], st.op[o], st.op_len[o]);
		if (st.proto == P_MSB)
			for (size_t i = 0; i < st.op_len[o]; i++) {
				ring_t s0 = st.sh[0][o][i] == UINT64_MAX ? 0 : st.sh[0][o][i];
				st.sh[0][o][i] = s0;
				st.sh[1][o][i] = ring_odd_sub(st.op[o][i], s0);
			}
	}
	if (st.proto == P_PRIVATE_COMPARE) {
		st.bits[0] = malloc(st.n * 64);
		st.bits[1] = malloc(st.n * 64);
		st.beta = calloc(st.n, 1);
		st.beta2 = calloc(st.n, 1);
		if (!st.bits[0] || !st.bits[1] || !st.beta || !st.beta2) {
			prg_finish(&owner);
			goto oom;
		}
		prg_mod_u8(&owner, st.bits[0], st.n * 64, ZP_PRIME);
		zp_share_bits(st.bits[1], st.bits[0], st.op[0], st.n);
	}
	prg_finish(&owner);

	struct views views;
	if (views_dir) {
		if (views_open(&views, views_dir, info->name, run.cfg.seed, st.n) < 0) {
			views_close(&views);
			status = 2;
			goto out;
		}
		run.cfg.on_recv = on_recv;
		run.cfg.on_recv_ctx = &views;
	}
	void *args[3] = { &st, &st, &st };
	struct sim_result res;
	rc = sim_run(&run.cfg, party_fn, args, &res);
	if (views_dir && views_close(&views) < 0) {
		fprintf(stderr, "snn eval: --views: error writing files in '%s'\n", views_dir);
		rc = rc ? rc : ERROR_IO;
	}
	if (rc < 0) {
		fprintf(stderr, "snn eval: %s: %s\n", info->name, res.message[0] ? res.message : error_strerror(rc));
		sim_result_finish(&res);
		goto out;
	}

	/* Reveal. */
	int integer = st.proto == P_DRELU || st.proto == P_MSB || st.proto == P_DMAXPOOL;
	if (json)
		printf("{\"protocol\":\"%s\",\"outputs\":[", info->name);
	size_t rows = st.proto == P_DMAXPOOL ? st.n : st.proto == P_MATMUL ? st.dims[0] : st.out_len[0];
	for (size_t i = 0; i < rows; i++) {
		if (json && i)
			printf(",");
		if (st.proto == P_PRIVATE_COMPARE) {
			printf("%d", st.beta[i] ^ st.beta2[i]);
		} else if (st.proto == P_SHARE_CONVERT) {
			printf("%" PRIu64, ring_odd_add(st.out[0][0][i], st.out[1][0][i]));
		} else if (st.proto == P_MAXPOOL) {
			if (json)
				printf("[");
			print_value(stdout, st.out[0][0][i] + st.out[1][0][i], st.raw, st.frac, 0);
			printf(json ? "," : " ");
			print_value(stdout, st.out[0][1][i] + st.out[1][1][i], 0, 0, 1);
			if (json)
				printf("]");
		} else if (st.proto == P_DMAXPOOL || st.proto == P_MATMUL) {
			size_t w = st.proto == P_DMAXPOOL ? st.k : st.dims[2];
			if (json)
				printf("[");
			for (size_t c = 0; c < w; c++) {
				ring_t v = st.out[0][0][i * w + c] + st.out[1][0][i * w + c];
				if (c)
					printf(json ? "," : " ");
				print_value(stdout, v, st.raw, st.frac, integer);
			}
			if (json)
				printf("]");
		} else {
			print_value(stdout, st.out[0][0][i] + st.out[1][0][i], st.raw, st.frac, integer);
		}
		if (!json)
			printf("\n");
	}
	if (json)
		printf("],\"items\":%zu,\"bytes\":%llu,\"messages\":%llu,\"rounds\":%u,\"sim_s\":%.9f,"
		       "\"wall_s\":%.9f}\n",
		       rows, (unsigned long long)sim_result_bytes(&res),
		       (unsigned long long)sim_result_msgs(&res), res.rounds, (double)res.sim_ns / 1e9,
		       (double)res.wall_ns / 1e9);
	else
		fprintf(stderr, "# %s on %zu item%s: %llu bytes, %llu messages, %u rounds\n", info->name,
			st.n, st.n == 1 ? "" : "s", (unsigned long long)sim_result_bytes(&res),
			(unsigned long long)sim_result_msgs(&res), res.rounds);
	sim_result_finish(&res);
	status = 0;
	goto out;
oom:
	fprintf(stderr, "snn eval: out of memory\n");
	status = 1;
out:
	free(vals);
	free_state(&st);
	return status;
}
