#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "model_file.h"
#include "nn_layers.h"
#include "nn_net.h"

/* Every test gets a fresh directory for its files. */
static char tmp_dir[256];

static void setup(void)
{
	const char *base = getenv("TMPDIR");
	snprintf(tmp_dir, sizeof(tmp_dir), "%s/test_model_file_XXXXXX",
	         base && *base ? base : "/tmp");
	cr_assert_not_null(mkdtemp(tmp_dir), "mkdtemp(%s): %s", tmp_dir, strerror(errno));
}

static void teardown(void)
{
	DIR *d = opendir(tmp_dir);
	if (!d)
		return;
	struct dirent *e;
	char path[512];
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		snprintf(path, sizeof(path), "%s/%s", tmp_dir, e->d_name);
		remove(path);
	}
	closedir(d);
	rmdir(tmp_dir);
}

TestSuite(model_file, .init = setup, .fini = teardown);

static const char tiny_text[] = "input 2 2 1\nfc 3\nrelu\nfc 2\noutput asm\n";

/* splitmix64: test values independent of the project's PRG. */
static uint64_t next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void make_net(struct nn_net *net, const char *name)
{
	char err[256];
	int rc = nn_net_builtin(net, name, err, sizeof(err));
	cr_assert_eq(rc, 0, "nn_net_builtin(%s): %s", name, err);
}

static void make_tiny(struct nn_net *net)
{
	char err[256];
	int rc = nn_net_parse(net, tiny_text, "tiny", err, sizeof(err));
	cr_assert_eq(rc, 0, "parse: %s", err);
}

/* A model of net with values from seed. */
static void make_model(struct nn_model *m, const struct nn_net *net, uint64_t seed)
{
	cr_assert_eq(nn_model_init(m, net), 0);
	for (size_t i = 0; i < net->n_layers; i++) {
		if (!m->w[i])
			continue;
		for (size_t k = 0; k < nn_layer_weights(&net->layer[i]); k++)
			m->w[i][k] = next(&seed);
		for (size_t k = 0; k < nn_layer_biases(&net->layer[i]); k++)
			m->b[i][k] = next(&seed);
	}
}

static void assert_same_values(const struct nn_model *a, const struct nn_model *b, uint64_t seed)
{
	cr_assert_eq(a->net.n_layers, b->net.n_layers, "seed %llu", (unsigned long long)seed);
	for (size_t i = 0; i < a->net.n_layers; i++) {
		cr_assert_eq(a->w[i] == NULL, b->w[i] == NULL, "seed %llu layer %zu",
		             (unsigned long long)seed, i);
		if (!a->w[i])
			continue;
		for (size_t k = 0; k < nn_layer_weights(&a->net.layer[i]); k++)
			cr_assert_eq(a->w[i][k], b->w[i][k], "seed %llu layer %zu weight %zu",
			             (unsigned long long)seed, i, k);
		for (size_t k = 0; k < nn_layer_biases(&a->net.layer[i]); k++)
			cr_assert_eq(a->b[i][k], b->b[i][k], "seed %llu layer %zu bias %zu",
			             (unsigned long long)seed, i, k);
	}
}

static const struct model_file_info info_default = {
    .kind = MODEL_FILE_SHARE_P0,
    .frac_bits = 13,
    .epochs = 3,
    .seed = 42,
    .pair_id = 0x0123456789abcdefull,
};

static void encode(uint8_t **buf, size_t *len, const struct nn_model *m,
                   const struct model_file_info *info)
{
	int rc = model_file_encode(buf, len, info, m);
	cr_assert_eq(rc, 0, "encode: %d", rc);
}

static void path_in_tmp(char *out, size_t len, const char *name)
{
	snprintf(out, len, "%s/%s", tmp_dir, name);
}

static void write_bytes(const char *path, const uint8_t *buf, size_t len)
{
	FILE *f = fopen(path, "wb");
	cr_assert_not_null(f, "%s: %s", path, strerror(errno));
	cr_assert_eq(fwrite(buf, 1, len, f), len);
	cr_assert_eq(fclose(f), 0);
}

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* Re-sign a buffer after a deliberate change. */
static void reseal(uint8_t *buf, size_t len)
{
	put64(buf + len - 8, model_file_fnv1a(buf, len - 8));
}

/* ---- a tiny worked example ---- */

Test(model_file, tiny_network_layout_and_round_trip)
{
	struct nn_net net;
	make_tiny(&net);
	struct nn_model m, back;
	make_model(&m, &net, 1);
	uint8_t *buf;
	size_t len;
	struct model_file_info in = info_default;
	in.has_schedule = 1;
	in.lr_log = 5;
	in.batch = 128;
	in.n_decay = 2;
	in.decay[0] = 4;
	in.decay[1] = 300;
	in.grad = NN_GRAD_CE;
	encode(&buf, &len, &m, &in);
	/* Header 136, description, fc 4x3: 16 + 8·(12 + 3), fc 3x2: 16 + 8·(6 + 2), checksum 8. */
	int d = nn_net_format(&net, NULL, 0);
	cr_assert_gt(d, 0);
	cr_assert_eq(len, 136 + (size_t)d + 16 + 8 * 15 + 16 + 8 * 8 + 8);
	cr_assert_eq(memcmp(buf, "SNNMODEL", 8), 0);
	cr_assert_eq(buf[8], 2);  /* version, little-endian */
	cr_assert_eq(buf[12], 0); /* kind: P0 */
	cr_assert_eq(buf[16], 13);
	cr_assert_eq(buf[20], 1); /* output gradient: ce */
	cr_assert_eq(buf[24], 3); /* epochs */
	cr_assert_eq(buf[32], 42);
	cr_assert_eq(buf[40], 0xef); /* pair id, low byte first */
	cr_assert_eq(buf[48], 5);    /* lr_log */
	cr_assert_eq(buf[52], 2);    /* n_decay */
	cr_assert_eq(buf[56], 128);  /* batch */
	cr_assert_eq(buf[64], 4);    /* decay[0] */
	cr_assert_eq(buf[68], 300 & 0xff);
	cr_assert_eq(buf[69], 300 >> 8);
	cr_assert_eq(buf[72], 0); /* unused entries */
	cr_assert_eq(buf[128], (uint8_t)d);
	cr_assert_eq(memcmp(buf + 136, "# network tiny\n", 15), 0);
	cr_assert_eq(buf[136 + d], 12); /* first weight count */
	struct model_file_info info;
	char err[256];
	int rc = model_file_decode(&back, &info, buf, len, "tiny.p0", err, sizeof(err));
	cr_assert_eq(rc, 0, "%s", err);
	cr_assert_str_eq(back.net.name, "tiny");
	cr_assert_eq(model_file_net_equal(&back.net, &net, 0), 1);
	cr_assert_eq(info.kind, MODEL_FILE_SHARE_P0);
	cr_assert_eq(info.frac_bits, 13);
	cr_assert_eq(info.epochs, 3);
	cr_assert_eq(info.seed, 42);
	cr_assert_eq(info.pair_id, 0x0123456789abcdefull);
	cr_assert_eq(info.has_schedule, 1);
	cr_assert_eq(info.lr_log, 5);
	cr_assert_eq(info.batch, 128);
	cr_assert_eq(info.n_decay, 2);
	cr_assert_eq(info.decay[0], 4);
	cr_assert_eq(info.decay[1], 300);
	cr_assert_eq(info.grad, NN_GRAD_CE);
	assert_same_values(&m, &back, 1);
	char text[128];
	model_file_schedule_text(&info, text, sizeof(text));
	cr_assert_str_eq(text, "lr 2^-5, batch 128, halved at epochs 4, 300, output gradient ce");
	cr_assert_eq(model_file_lr_log_at(&info, 1), 5);
	cr_assert_eq(model_file_lr_log_at(&info, 3), 5);
	cr_assert_eq(model_file_lr_log_at(&info, 4), 6);
	cr_assert_eq(model_file_lr_log_at(&info, 299), 6);
	cr_assert_eq(model_file_lr_log_at(&info, 300), 7);
	free(buf);
	nn_model_finish(&m);
	nn_model_finish(&back);
}

/* ---- version 1 and the training schedule ---- */

/* A version 1 image of the same model: bytes 48..127 of version 2 dropped. */
static uint8_t *to_version_1(const uint8_t *v2, size_t len, size_t *len1)
{
	*len1 = len - 80;
	uint8_t *v1 = malloc(*len1);
	cr_assert_not_null(v1);
	memcpy(v1, v2, 48);
	memcpy(v1 + 48, v2 + 128, len - 128 - 8);
	v1[8] = 1;
	reseal(v1, *len1);
	return v1;
}

Test(model_file, version_1_files_are_read_without_a_schedule)
{
	struct nn_net net;
	make_tiny(&net);
	struct nn_model m, back;
	make_model(&m, &net, 30);
	uint8_t *buf;
	size_t len, len1;
	struct model_file_info in = info_default, info;
	in.has_schedule = 1;
	in.lr_log = 7;
	in.batch = 64;
	encode(&buf, &len, &m, &in);
	uint8_t *v1 = to_version_1(buf, len, &len1);
	char err[256];
	int rc = model_file_decode(&back, &info, v1, len1, "old.p0", err, sizeof(err));
	cr_assert_eq(rc, 0, "%s", err);
	cr_assert_eq(info.has_schedule, 0);
	cr_assert_eq(info.lr_log, 0);
	cr_assert_eq(info.batch, 0);
	cr_assert_eq(info.epochs, 3);
	cr_assert_eq(info.pair_id, info_default.pair_id);
	cr_assert_str_eq(back.net.name, "tiny");
	assert_same_values(&m, &back, 30);
	nn_model_finish(&back);
	char text[64];
	model_file_schedule_text(&info, text, sizeof(text));
	cr_assert_str_eq(text, "no training schedule");
	/* Every truncation of a version 1 file is still an error. */
	for (size_t n = 0; n < len1; n++) {
		rc = model_file_decode(&back, &info, v1, n, "old.p0", err, sizeof(err));
		cr_assert_eq(rc, ERROR_FORMAT, "length %zu: rc %d (%s)", n, rc, err);
		nn_model_finish(&back);
	}
	free(v1);
	free(buf);
	nn_model_finish(&m);
}

Test(model_file, malformed_schedules_are_rejected)
{
	struct nn_net net;
	make_tiny(&net);
	struct nn_model m, out;
	make_model(&m, &net, 31);
	uint8_t *buf, *bad;
	size_t len;
	struct model_file_info in = info_default, info;
	in.has_schedule = 1;
	in.lr_log = 5;
	in.batch = 128;
	in.n_decay = 1;
	in.decay[0] = 5;
	encode(&buf, &len, &m, &in);
	bad = malloc(len);
	cr_assert_not_null(bad);
	char err[256];
	struct {
		size_t off;      /* byte changed */
		uint8_t value;   /* its new value */
		const char *why; /* expected in the message */
	} cases[] = {
	    {48, 41, "below 2^-40"},         /* lr_log 41 */
	    {56, 100, "power of two"},       /* batch 100 */
	    {58, 0x20, "power of two"},      /* batch 128 + 2^21 */
	    {52, 17, "more than 16"},        /* n_decay 17 */
	    {64, 1, "increasing from 2"},    /* decay[0] = 1 */
	    {68, 3, "unused decay entries"}, /* decay[1] set, n_decay 1 */
	    {20, 3, "unknown output gradient"}, /* enum nn_grad: 0, 1 or 2 */
	};
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		memcpy(bad, buf, len);
		bad[cases[k].off] = cases[k].value;
		reseal(bad, len);
		int rc = model_file_decode(&out, &info, bad, len, "s", err, sizeof(err));
		cr_assert_eq(rc, ERROR_FORMAT, "case %zu: rc %d", k, rc);
		cr_assert_not_null(strstr(err, "malformed: training schedule"), "case %zu: '%s'", k,
		                   err);
		cr_assert_not_null(strstr(err, cases[k].why), "case %zu: '%s'", k, err);
		cr_assert_null(out.w[0]);
	}
	/* No batch but an output gradient: set without a schedule. */
	memcpy(bad, buf, len);
	memset(bad + 48, 0, 80);
	bad[20] = 1;
	reseal(bad, len);
	cr_assert_eq(model_file_decode(&out, &info, bad, len, "s", err, sizeof(err)), ERROR_FORMAT);
	cr_assert_not_null(strstr(err, "without a batch size"), "'%s'", err);
	/* No batch but an lr: fields set without a schedule. */
	memcpy(bad, buf, len);
	memset(bad + 56, 0, 8);
	reseal(bad, len);
	int rc = model_file_decode(&out, &info, bad, len, "s", err, sizeof(err));
	cr_assert_eq(rc, ERROR_FORMAT);
	cr_assert_not_null(strstr(err, "without a batch size"), "'%s'", err);
	/* Encoding refuses what decoding would refuse. */
	uint8_t *p;
	size_t n;
	in.decay[0] = 1;
	cr_assert_eq(model_file_encode(&p, &n, &in, &m), ERROR_INVAL);
	in.decay[0] = 5;
	in.batch = 96;
	cr_assert_eq(model_file_encode(&p, &n, &in, &m), ERROR_INVAL);
	/* Without has_schedule the fields are not written. */
	in.has_schedule = 0;
	encode(&p, &n, &m, &in);
	cr_assert_eq(model_file_decode(&out, &info, p, n, "s", err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(info.has_schedule, 0);
	cr_assert_eq(info.lr_log, 0);
	nn_model_finish(&out);
	free(p);
	free(bad);
	free(buf);
	nn_model_finish(&m);
}

Test(model_file, halves_with_different_schedules_do_not_belong_together)
{
	struct nn_net net;
	make_tiny(&net);
	struct nn_model s0, s1, r0, r1, t;
	make_model(&s0, &net, 32);
	make_model(&s1, &net, 33);
	char prefix[512], p1[600], err[512];
	path_in_tmp(prefix, sizeof(prefix), "sch");
	struct model_file_info info = info_default, got, ti;
	info.has_schedule = 1;
	info.lr_log = 5;
	info.batch = 128;
	cr_assert_eq(model_file_write_pair(prefix, &info, &s0, &s1, err, sizeof(err)), 0, "%s",
	             err);
	struct model_file_want want = {.net = &net, .params_only = 0, .frac_bits = 13, .kind = -1};
	cr_assert_eq(model_file_read_pair(&r0, &r1, &got, prefix, &want, err, sizeof(err)), 0, "%s",
	             err);
	cr_assert_eq(got.has_schedule, 1);
	cr_assert_eq(got.lr_log, 5);
	cr_assert_eq(got.batch, 128);
	nn_model_finish(&r0);
	nn_model_finish(&r1);
	/* p1 rewritten with lr 2^-6. */
	snprintf(p1, sizeof(p1), "%s.p1", prefix);
	cr_assert_eq(model_file_read(&t, &ti, p1, err, sizeof(err)), 0, "%s", err);
	ti.lr_log = 6;
	cr_assert_eq(model_file_write(p1, &ti, &t, err, sizeof(err)), 0, "%s", err);
	nn_model_finish(&t);
	int rc = model_file_read_pair(&r0, &r1, &got, prefix, &want, err, sizeof(err));
	cr_assert_eq(rc, ERROR_INVAL);
	cr_assert_not_null(strstr(err, "do not belong together"), "'%s'", err);
	nn_model_finish(&s0);
	nn_model_finish(&s1);
}

/* ---- round trips ---- */

Test(model_file, round_trip_of_every_builtin_network_through_files, .timeout = 60)
{
	const char *const *names = nn_net_builtin_names();
	for (size_t k = 0; names[k]; k++) {
		struct nn_net net;
		make_net(&net, names[k]);
		struct nn_model m, back;
		uint64_t seed = 100 + k;
		make_model(&m, &net, seed);
		struct model_file_info info = info_default, got;
		info.kind = MODEL_FILE_CLEAR;
		info.seed = seed;
		char path[512], err[512];
		path_in_tmp(path, sizeof(path), names[k]);
		int rc = model_file_write(path, &info, &m, err, sizeof(err));
		cr_assert_eq(rc, 0, "%s: %s", names[k], err);
		char tmp[600];
		snprintf(tmp, sizeof(tmp), "%s.tmp", path);
		cr_assert_neq(access(tmp, F_OK), 0, "%s: the .tmp file is left behind", names[k]);
		rc = model_file_read(&back, &got, path, err, sizeof(err));
		cr_assert_eq(rc, 0, "%s: %s", names[k], err);
		cr_assert_str_eq(back.net.name, names[k]);
		cr_assert_eq(model_file_net_equal(&back.net, &net, 0), 1, "%s", names[k]);
		cr_assert_eq(got.kind, MODEL_FILE_CLEAR, "%s", names[k]);
		cr_assert_eq(got.seed, seed, "%s", names[k]);
		assert_same_values(&m, &back, seed);
		nn_model_finish(&m);
		nn_model_finish(&back);
	}
}

Test(model_file, pair_round_trip_and_boundary_values)
{
	struct nn_net net;
	make_tiny(&net);
	struct nn_model s0, s1, r0, r1;
	make_model(&s0, &net, 7);
	make_model(&s1, &net, 8);
	s0.w[0][0] = 0;
	s0.w[0][1] = UINT64_MAX;
	s0.w[0][2] = (uint64_t)1 << 63;
	s0.w[0][3] = ((uint64_t)1 << 63) - 1;
	s1.b[2][1] = 1;
	struct model_file_info info = info_default, got;
	info.epochs = UINT64_MAX;
	info.seed = 0;
	info.frac_bits = 40;
	char prefix[512], err[512];
	path_in_tmp(prefix, sizeof(prefix), "run");
	int rc = model_file_write_pair(prefix, &info, &s0, &s1, err, sizeof(err));
	cr_assert_eq(rc, 0, "%s", err);
	struct model_file_want want = {.net = &net, .params_only = 0, .frac_bits = 40, .kind = -1};
	rc = model_file_read_pair(&r0, &r1, &got, prefix, &want, err, sizeof(err));
	cr_assert_eq(rc, 0, "%s", err);
	cr_assert_eq(got.epochs, UINT64_MAX);
	cr_assert_eq(got.seed, 0);
	cr_assert_eq(got.frac_bits, 40);
	cr_assert_eq(got.pair_id, info_default.pair_id);
	assert_same_values(&s0, &r0, 7);
	assert_same_values(&s1, &r1, 8);
	nn_model_finish(&s0);
	nn_model_finish(&s1);
	nn_model_finish(&r0);
	nn_model_finish(&r1);
}

/* ---- corruption ---- */

Test(model_file, every_flipped_byte_is_detected, .timeout = 60)
{
	struct nn_net net;
	make_tiny(&net);
	struct nn_model m;
	make_model(&m, &net, 3);
	uint8_t *buf;
	size_t len;
	encode(&buf, &len, &m, &info_default);
	uint8_t *bad = malloc(len);
	cr_assert_not_null(bad);
	for (size_t i = 0; i < len; i++) {
		for (unsigned bit = 0; bit < 8; bit++) {
			memcpy(bad, buf, len);
			bad[i] ^= (uint8_t)(1u << bit);
			struct nn_model out;
			struct model_file_info info;
			char err[256] = "";
			int rc = model_file_decode(&out, &info, bad, len, "f.p0", err, sizeof(err));
			cr_assert_lt(rc, 0, "byte %zu bit %u: accepted", i, bit);
			cr_assert_eq(strncmp(err, "f.p0: ", 6), 0, "byte %zu: message '%s'", i,
			             err);
			if (i < 8)
				cr_assert_eq(rc, ERROR_FORMAT, "byte %zu: %s", i, err);
			else if (i < 12)
				cr_assert_eq(rc, ERROR_UNSUPPORTED, "byte %zu: %s", i, err);
			else
				cr_assert_not_null(strstr(err, "checksum"), "byte %zu bit %u: '%s'",
				                   i, bit, err);
			cr_assert_null(out.w[0], "byte %zu: model not left empty", i);
			nn_model_finish(&out);
		}
	}
	free(bad);
	free(buf);
	nn_model_finish(&m);
}

Test(model_file, truncation_at_every_length_is_an_error, .timeout = 60)
{
	struct nn_net net;
	make_tiny(&net);
	struct nn_model m;
	make_model(&m, &net, 4);
	uint8_t *buf;
	size_t len;
	encode(&buf, &len, &m, &info_default);
	for (size_t n = 0; n < len; n++) {
		/* A copy of exactly n bytes, so reading past it is an ASan error. */
		uint8_t *cut = malloc(n ? n : 1);
		cr_assert_not_null(cut);
		memcpy(cut, buf, n);
		struct nn_model out;
		struct model_file_info info;
		char err[256] = "";
		int rc = model_file_decode(&out, &info, cut, n, "t.p0", err, sizeof(err));
		cr_assert_eq(rc, ERROR_FORMAT, "length %zu: rc %d (%s)", n, rc, err);
		cr_assert_not_null(strstr(err, "truncated"), "length %zu: '%s'", n, err);
		nn_model_finish(&out);
		free(cut);
	}
	/* The same through a file: the message names it. */
	char path[512], err[512];
	path_in_tmp(path, sizeof(path), "cut.p0");
	write_bytes(path, buf, len / 2);
	struct nn_model out;
	struct model_file_info info;
	int rc = model_file_read(&out, &info, path, err, sizeof(err));
	cr_assert_eq(rc, ERROR_FORMAT);
	cr_assert_eq(strncmp(err, path, strlen(path)), 0, "'%s'", err);
	cr_assert_not_null(strstr(err, "truncated"), "'%s'", err);
	free(buf);
	nn_model_finish(&m);
}

Test(model_file, trailing_bytes_are_an_error)
{
	struct nn_net net;
	make_tiny(&net);
	struct nn_model m, out;
	make_model(&m, &net, 5);
	uint8_t *buf;
	size_t len;
	encode(&buf, &len, &m, &info_default);
	uint8_t *big = calloc(len + 8, 1);
	cr_assert_not_null(big);
	memcpy(big, buf, len);
	struct model_file_info info;
	char err[256];
	/* Appended bytes break the checksum... */
	int rc = model_file_decode(&out, &info, big, len + 8, "x", err, sizeof(err));
	cr_assert_eq(rc, ERROR_FORMAT, "%s", err);
	/* ...and re-signed they do not fit the network. */
	reseal(big, len + 8);
	rc = model_file_decode(&out, &info, big, len + 8, "x", err, sizeof(err));
	cr_assert_eq(rc, ERROR_FORMAT, "%s", err);
	cr_assert_not_null(strstr(err, "malformed"), "'%s'", err);
	free(big);
	free(buf);
	nn_model_finish(&m);
}

Test(model_file, bad_magic_version_kind_and_counts)
{
	struct nn_net net;
	make_tiny(&net);
	struct nn_model m, out;
	make_model(&m, &net, 6);
	uint8_t *buf;
	size_t len;
	encode(&buf, &len, &m, &info_default);
	struct model_file_info info;
	char err[256];

	const char junk[] = "hello, this is not a model file at all, not even close to one....";
	int rc = model_file_decode(&out, &info, (const uint8_t *)junk, sizeof(junk), "junk", err,
	                           sizeof(err));
	cr_assert_eq(rc, ERROR_FORMAT);
	cr_assert_not_null(strstr(err, "not an snn model file"), "'%s'", err);

	uint8_t *bad = malloc(len);
	cr_assert_not_null(bad);
	memcpy(bad, buf, len);
	bad[8] = 3; /* version 3, correctly signed */
	reseal(bad, len);
	rc = model_file_decode(&out, &info, bad, len, "v3", err, sizeof(err));
	cr_assert_eq(rc, ERROR_UNSUPPORTED);
	cr_assert_str_eq(err, "v3: unsupported format version 3 (this snn reads versions 1 and 2)");
	memcpy(bad, buf, len);
	bad[8] = 0; /* version 0 */
	reseal(bad, len);
	rc = model_file_decode(&out, &info, bad, len, "v0", err, sizeof(err));
	cr_assert_eq(rc, ERROR_UNSUPPORTED);

	memcpy(bad, buf, len);
	bad[12] = 3; /* kind 3 */
	reseal(bad, len);
	rc = model_file_decode(&out, &info, bad, len, "k3", err, sizeof(err));
	cr_assert_eq(rc, ERROR_FORMAT);
	cr_assert_not_null(strstr(err, "unknown kind 3"), "'%s'", err);

	memcpy(bad, buf, len);
	bad[16] = 41; /* frac bits */
	reseal(bad, len);
	rc = model_file_decode(&out, &info, bad, len, "f41", err, sizeof(err));
	cr_assert_eq(rc, ERROR_FORMAT);

	memcpy(bad, buf, len);
	int d = nn_net_format(&net, NULL, 0);
	bad[136 + d] = 11; /* first layer announces 11 weights instead of 12 */
	reseal(bad, len);
	rc = model_file_decode(&out, &info, bad, len, "cnt", err, sizeof(err));
	cr_assert_eq(rc, ERROR_FORMAT);
	cr_assert_not_null(strstr(err, "layer 1 has 11 weights"), "'%s'", err);

	memcpy(bad, buf, len);
	memcpy(bad + 136 + 15, "fc 3", 4); /* "input" becomes "fc 3t" */
	reseal(bad, len);
	rc = model_file_decode(&out, &info, bad, len, "desc", err, sizeof(err));
	cr_assert_eq(rc, ERROR_FORMAT);
	cr_assert_not_null(strstr(err, "malformed network description"), "'%s'", err);
	nn_model_finish(&out);

	free(bad);
	free(buf);
	nn_model_finish(&m);
}

Test(model_file, missing_file_names_it)
{
	char path[512], err[512];
	path_in_tmp(path, sizeof(path), "none.p0");
	struct nn_model out;
	struct model_file_info info;
	int rc = model_file_read(&out, &info, path, err, sizeof(err));
	cr_assert_eq(rc, ERROR_IO);
	cr_assert_not_null(strstr(err, path), "'%s'", err);
	char prefix[512];
	path_in_tmp(prefix, sizeof(prefix), "none");
	struct nn_model a, b;
	struct model_file_want any = {.net = NULL, .params_only = 0, .frac_bits = 0, .kind = -1};
	rc = model_file_read_pair(&a, &b, &info, prefix, &any, err, sizeof(err));
	cr_assert_eq(rc, ERROR_IO);
	cr_assert_not_null(strstr(err, "none.p0"), "'%s'", err);
}

/* ---- mismatches ---- */

Test(model_file, network_mismatch_names_both_networks)
{
	struct nn_net a, c;
	make_net(&a, "A");
	make_net(&c, "C");
	struct nn_model m, out;
	make_model(&m, &a, 9);
	struct model_file_info info = info_default, got;
	char path[512], err[512], want_msg[1024];
	path_in_tmp(path, sizeof(path), "x.p0");
	int rc = model_file_write(path, &info, &m, err, sizeof(err));
	cr_assert_eq(rc, 0, "%s", err);
	rc = model_file_read(&out, &got, path, err, sizeof(err));
	cr_assert_eq(rc, 0, "%s", err);
	struct model_file_want want = {.net = &c, .params_only = 0, .frac_bits = 13, .kind = -1};
	rc = model_file_check(path, &got, &out, &want, err, sizeof(err));
	cr_assert_eq(rc, ERROR_SHAPE);
	snprintf(
	    want_msg, sizeof(want_msg),
	    "model file %s is for network 'A' (784-128-128-10), not 'C' (28x28x1 conv5x20 relu "
	    "pool2 conv5x50 relu pool2 fc500 relu fc10)",
	    path);
	cr_assert_str_eq(err, want_msg);
	/* A-bench has the same parameters: accepted for inference, not for training. */
	struct nn_net ab;
	make_net(&ab, "A-bench");
	want.net = &ab;
	want.params_only = 1;
	cr_assert_eq(model_file_check(path, &got, &out, &want, err, sizeof(err)), 0, "%s", err);
	want.params_only = 0;
	cr_assert_eq(model_file_check(path, &got, &out, &want, err, sizeof(err)), ERROR_SHAPE);
	nn_model_finish(&m);
	nn_model_finish(&out);
}

Test(model_file, network_equality)
{
	struct nn_net a, ab, c, cb, d, db;
	make_net(&a, "A");
	make_net(&ab, "A-bench");
	make_net(&c, "C");
	make_net(&cb, "C-bench");
	make_net(&d, "D");
	make_net(&db, "D-bench");
	cr_assert_eq(model_file_net_equal(&c, &c, 0), 1);
	cr_assert_eq(model_file_net_equal(&c, &cb, 0), 0);
	cr_assert_eq(model_file_net_equal(&c, &cb, 1), 1);
	cr_assert_eq(model_file_net_equal(&a, &ab, 1), 1);
	cr_assert_eq(model_file_net_equal(&a, &c, 1), 0);
	/* D (stride 2, 980 into fc) and D-bench (pool, 720) differ in their parameters. */
	cr_assert_eq(model_file_net_equal(&d, &db, 1), 0);
	char s[160];
	model_file_net_summary(&d, s, sizeof(s));
	cr_assert_str_eq(s, "28x28x1 conv5x5/s2p2 relu fc100 relu fc10");
	model_file_net_summary(&ab, s, sizeof(s));
	cr_assert_str_eq(s, "784-128-128-10");
	model_file_net_summary(&a, s, 5); /* cut like snprintf */
	cr_assert_str_eq(s, "784-");
}

Test(model_file, frac_and_kind_mismatch)
{
	struct nn_net net;
	make_tiny(&net);
	struct nn_model m;
	make_model(&m, &net, 10);
	struct model_file_info info = info_default;
	info.kind = MODEL_FILE_SHARE_P1;
	char err[256];
	struct model_file_want want = {.net = &net, .params_only = 0, .frac_bits = 16, .kind = -1};
	int rc = model_file_check("x.p1", &info, &m, &want, err, sizeof(err));
	cr_assert_eq(rc, ERROR_RANGE);
	cr_assert_str_eq(err, "model file x.p1 has 13 fractional bits, not 16 (--frac-bits)");
	want.frac_bits = 13;
	want.kind = MODEL_FILE_SHARE_P0;
	rc = model_file_check("x.p1", &info, &m, &want, err, sizeof(err));
	cr_assert_eq(rc, ERROR_INVAL);
	cr_assert_str_eq(err, "model file x.p1 holds P1's shares, expected P0's shares");
	nn_model_finish(&m);
}

Test(model_file, swapped_halves_and_halves_of_different_runs)
{
	struct nn_net net;
	make_tiny(&net);
	struct nn_model s0, s1, r0, r1;
	make_model(&s0, &net, 11);
	make_model(&s1, &net, 12);
	char a[512], b[512], pa[600], pb[600], err[512];
	path_in_tmp(a, sizeof(a), "a");
	path_in_tmp(b, sizeof(b), "b");
	struct model_file_info info = info_default, got;
	int rc = model_file_write_pair(a, &info, &s0, &s1, err, sizeof(err));
	cr_assert_eq(rc, 0, "%s", err);
	info.pair_id = 77;
	rc = model_file_write_pair(b, &info, &s0, &s1, err, sizeof(err));
	cr_assert_eq(rc, 0, "%s", err);
	struct model_file_want want = {.net = &net, .params_only = 0, .frac_bits = 13, .kind = -1};

	/* b.p1 replaced by a.p1: another run. */
	snprintf(pa, sizeof(pa), "%s.p1", a);
	snprintf(pb, sizeof(pb), "%s.p1", b);
	struct nn_model t;
	struct model_file_info ti;
	cr_assert_eq(model_file_read(&t, &ti, pa, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(model_file_write(pb, &ti, &t, err, sizeof(err)), 0, "%s", err);
	nn_model_finish(&t);
	rc = model_file_read_pair(&r0, &r1, &got, b, &want, err, sizeof(err));
	cr_assert_eq(rc, ERROR_INVAL);
	cr_assert_not_null(strstr(err, "from different training runs"), "'%s'", err);
	cr_assert_null(r0.w[0]);
	cr_assert_null(r1.w[0]);

	/* a.p0 and a.p1 swapped: each has the wrong kind. */
	snprintf(pa, sizeof(pa), "%s.p0", a);
	snprintf(pb, sizeof(pb), "%s.p1", a);
	char tmp[600];
	snprintf(tmp, sizeof(tmp), "%s.swap", a);
	cr_assert_eq(rename(pa, tmp), 0);
	cr_assert_eq(rename(pb, pa), 0);
	cr_assert_eq(rename(tmp, pb), 0);
	rc = model_file_read_pair(&r0, &r1, &got, a, &want, err, sizeof(err));
	cr_assert_eq(rc, ERROR_INVAL);
	cr_assert_not_null(strstr(err, "holds P1's shares, expected P0's shares"), "'%s'", err);
	nn_model_finish(&s0);
	nn_model_finish(&s1);
}

Test(model_file, interrupted_pair_save_is_recovered_from_tmp)
{
	struct nn_net net;
	make_tiny(&net);
	struct nn_model old0, old1, new0, new1, r0, r1;
	make_model(&old0, &net, 20);
	make_model(&old1, &net, 21);
	make_model(&new0, &net, 22);
	make_model(&new1, &net, 23);
	char prefix[512], err[512], p1[600], p1tmp[600];
	path_in_tmp(prefix, sizeof(prefix), "ck");
	struct model_file_info info = info_default, got;
	info.epochs = 4;
	cr_assert_eq(model_file_write_pair(prefix, &info, &old0, &old1, err, sizeof(err)), 0, "%s",
	             err);
	info.epochs = 5;
	cr_assert_eq(model_file_write_pair(prefix, &info, &new0, &new1, err, sizeof(err)), 0, "%s",
	             err);
	/* Undo the second rename: p1 is epoch 4 again, epoch 5's p1 waits in .tmp. */
	snprintf(p1, sizeof(p1), "%s.p1", prefix);
	snprintf(p1tmp, sizeof(p1tmp), "%s.p1.tmp", prefix);
	cr_assert_eq(rename(p1, p1tmp), 0);
	info.epochs = 4;
	info.kind = MODEL_FILE_SHARE_P1;
	char other[600];
	snprintf(other, sizeof(other), "%s.old", prefix); /* writing p1 itself would use p1.tmp */
	cr_assert_eq(model_file_write(other, &info, &old1, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(rename(other, p1), 0);
	struct model_file_want want = {.net = &net, .params_only = 0, .frac_bits = 13, .kind = -1};
	int rc = model_file_read_pair(&r0, &r1, &got, prefix, &want, err, sizeof(err));
	cr_assert_eq(rc, 0, "%s", err);
	cr_assert_eq(got.epochs, 5);
	assert_same_values(&new0, &r0, 22);
	assert_same_values(&new1, &r1, 23);
	nn_model_finish(&r0);
	nn_model_finish(&r1);
	/* Without the .tmp the halves do not belong together. */
	cr_assert_eq(remove(p1tmp), 0);
	rc = model_file_read_pair(&r0, &r1, &got, prefix, &want, err, sizeof(err));
	cr_assert_eq(rc, ERROR_INVAL);
	cr_assert_not_null(strstr(err, "has 5 epochs and"), "'%s'", err);
	nn_model_finish(&old0);
	nn_model_finish(&old1);
	nn_model_finish(&new0);
	nn_model_finish(&new1);
}
