/* Model files (format in model_file.h). Files are small (Network C: 431 080
 * parameters, 3.4 MB), so they are built and parsed in memory. */
#include "model_file.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define READ_MAX     ((uint64_t)1 << 34) /* bytes: more than 2^31 parameters */
#define PATH_MAX_LEN 4096

uint64_t model_file_fnv1a(const uint8_t *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (size_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get32(const uint8_t *p)
{
	uint32_t v = 0;
	for (int i = 3; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

const char *model_file_kind_name(enum model_file_kind kind)
{
	switch (kind) {
	case MODEL_FILE_SHARE_P0:
		return "P0's shares";
	case MODEL_FILE_SHARE_P1:
		return "P1's shares";
	case MODEL_FILE_CLEAR:
		return "the cleartext model";
	}
	return "an unknown kind";
}

unsigned model_file_lr_log_at(const struct model_file_info *info, uint64_t epoch)
{
	unsigned k = info->lr_log;
	for (unsigned i = 0; i < info->n_decay && i < MODEL_FILE_DECAY_MAX; i++)
		k += info->decay[i] <= epoch;
	return k;
}

void model_file_schedule_text(const struct model_file_info *info, char *buf, size_t len)
{
	if (!len)
		return;
	if (!info->has_schedule) {
		snprintf(buf, len, "no training schedule");
		return;
	}
	int n = snprintf(buf, len, "lr 2^-%u, batch %llu", info->lr_log,
	                 (unsigned long long)info->batch);
	size_t pos = n > 0 ? (size_t)n : 0;
	for (unsigned i = 0; i < info->n_decay && i < MODEL_FILE_DECAY_MAX && pos < len; i++) {
		n = snprintf(buf + pos, len - pos, "%s%u", i ? ", " : ", halved at epochs ",
		             (unsigned)info->decay[i]);
		pos += n > 0 ? (size_t)n : 0;
	}
	if (info->grad != NN_GRAD_PAPER && pos < len)
		snprintf(buf + pos, len - pos, ", output gradient %s",
		         nn_grad_name(info->grad) ? nn_grad_name(info->grad) : "?");
}

/* "malformed" text for a schedule breaking the limits of model_file.h, or NULL. */
static const char *schedule_problem(const struct model_file_info *info)
{
	if (!info->has_schedule)
		return NULL;
	if (info->lr_log > MODEL_FILE_LR_LOG_MAX)
		return "learning rate below 2^-40";
	if (info->batch == 0 || info->batch > MODEL_FILE_BATCH_MAX ||
	    (info->batch & (info->batch - 1)))
		return "batch size not a power of two up to 2^20";
	if (info->n_decay > MODEL_FILE_DECAY_MAX)
		return "more than 16 decay epochs";
	if (!nn_grad_name(info->grad))
		return "unknown output gradient";
	for (unsigned i = 0; i < info->n_decay; i++)
		if (info->decay[i] < 2 || (i && info->decay[i] <= info->decay[i - 1]))
			return "decay epochs not increasing from 2";
	return NULL;
}

void model_file_net_summary(const struct nn_net *net, char *buf, size_t len)
{
	if (!len)
		return;
	buf[0] = '\0';
	int only_fc = 1;
	for (size_t i = 0; i < net->n_layers; i++)
		if (net->layer[i].kind != NN_FC && net->layer[i].kind != NN_RELU)
			only_fc = 0;
	size_t pos = 0;
#define APPEND(...)                                                                                \
	do {                                                                                       \
		if (pos < len) {                                                                   \
			int n_ = snprintf(buf + pos, len - pos, __VA_ARGS__);                      \
			pos += n_ > 0 ? (size_t)n_ : 0;                                            \
		}                                                                                  \
	} while (0)
	if (only_fc) {
		APPEND("%zu", net->in_h * net->in_w * net->in_c);
		for (size_t i = 0; i < net->n_layers; i++)
			if (net->layer[i].kind == NN_FC)
				APPEND("-%zu", net->layer[i].out_c);
		return;
	}
	APPEND("%zux%zux%zu", net->in_h, net->in_w, net->in_c);
	for (size_t i = 0; i < net->n_layers; i++) {
		const struct nn_layer *l = &net->layer[i];
		switch (l->kind) {
		case NN_FC:
			APPEND(" fc%zu", l->out_c);
			break;
		case NN_CONV:
			APPEND(" conv%zux%zu", l->k, l->out_c);
			if (l->stride != 1 || l->pad)
				APPEND("/s%zup%zu", l->stride, l->pad);
			break;
		case NN_MAXPOOL:
			APPEND(" pool%zu", l->k);
			break;
		case NN_RELU:
			APPEND(" relu");
			break;
		}
	}
#undef APPEND
}

static int same_layer(const struct nn_layer *a, const struct nn_layer *b)
{
	return a->kind == b->kind && a->k == b->k && a->stride == b->stride && a->pad == b->pad &&
	       a->in_h == b->in_h && a->in_w == b->in_w && a->in_c == b->in_c &&
	       a->out_h == b->out_h && a->out_w == b->out_w && a->out_c == b->out_c;
}

static int has_params(const struct nn_layer *l)
{
	return l->kind == NN_FC || l->kind == NN_CONV;
}

int model_file_net_equal(const struct nn_net *a, const struct nn_net *b, int params_only)
{
	if (a->in_h != b->in_h || a->in_w != b->in_w || a->in_c != b->in_c)
		return 0;
	if (!params_only) {
		if (a->n_layers != b->n_layers || a->output != b->output)
			return 0;
		for (size_t i = 0; i < a->n_layers; i++)
			if (!same_layer(&a->layer[i], &b->layer[i]))
				return 0;
		return 1;
	}
	size_t i = 0, j = 0;
	for (;;) {
		while (i < a->n_layers && !has_params(&a->layer[i]))
			i++;
		while (j < b->n_layers && !has_params(&b->layer[j]))
			j++;
		if (i == a->n_layers || j == b->n_layers)
			return i == a->n_layers && j == b->n_layers;
		if (!same_layer(&a->layer[i], &b->layer[j]))
			return 0;
		i++;
		j++;
	}
}

/* Bytes of the parameter section of net (counts and values). */
static size_t params_bytes(const struct nn_net *net)
{
	size_t n = 0;
	for (size_t i = 0; i < net->n_layers; i++) {
		const struct nn_layer *l = &net->layer[i];
		if (nn_layer_weights(l))
			n += 16 + 8 * (nn_layer_weights(l) + nn_layer_biases(l));
	}
	return n;
}

int model_file_encode(uint8_t **buf, size_t *len, const struct model_file_info *info,
                      const struct nn_model *m)
{
	if (!buf || !len || !info || !m)
		return ERROR_INVAL;
	*buf = NULL;
	*len = 0;
	int d = nn_net_format(&m->net, NULL, 0);
	if (d < 0)
		return d;
	if (d == 0 || d > MODEL_FILE_DESC_MAX)
		return ERROR_RANGE;
	if (schedule_problem(info))
		return ERROR_INVAL;
	size_t total = MODEL_FILE_HEADER_BYTES + (size_t)d + params_bytes(&m->net) + 8;
	uint8_t *p = calloc(total, 1);
	if (!p)
		return ERROR_NOMEM;
	memcpy(p, MODEL_FILE_MAGIC, 8);
	put32(p + 8, MODEL_FILE_VERSION);
	put32(p + 12, (uint32_t)info->kind);
	put32(p + 16, info->frac_bits);
	put32(p + 20, info->has_schedule ? (uint32_t)info->grad : 0);
	put64(p + 24, info->epochs);
	put64(p + 32, info->seed);
	put64(p + 40, info->pair_id);
	if (info->has_schedule) {
		put32(p + 48, info->lr_log);
		put32(p + 52, info->n_decay);
		put64(p + 56, info->batch);
		for (unsigned i = 0; i < info->n_decay; i++)
			put32(p + 64 + 4 * i, info->decay[i]);
	}
	put64(p + MODEL_FILE_HEADER_BYTES - 8, (uint64_t)d);
	/* nn_net_format writes a NUL after the text: give it the room, then overwrite. */
	char *text = malloc((size_t)d + 1);
	if (!text) {
		free(p);
		return ERROR_NOMEM;
	}
	nn_net_format(&m->net, text, (size_t)d + 1);
	memcpy(p + MODEL_FILE_HEADER_BYTES, text, (size_t)d);
	free(text);
	size_t pos = MODEL_FILE_HEADER_BYTES + (size_t)d;
	for (size_t i = 0; i < m->net.n_layers; i++) {
		const struct nn_layer *l = &m->net.layer[i];
		size_t nw = nn_layer_weights(l), nb = nn_layer_biases(l);
		if (!nw)
			continue;
		put64(p + pos, nw);
		pos += 8;
		for (size_t k = 0; k < nw; k++, pos += 8)
			put64(p + pos, m->w[i][k]);
		put64(p + pos, nb);
		pos += 8;
		for (size_t k = 0; k < nb; k++, pos += 8)
			put64(p + pos, m->b[i][k]);
	}
	put64(p + pos, model_file_fnv1a(p, pos));
	*buf = p;
	*len = total;
	return 0;
}

/* The description's network; its name comes from the "# network NAME" line. */
static int parse_desc(struct nn_net *net, const uint8_t *desc, size_t d, char *msg, size_t msg_len)
{
	if (memchr(desc, '\0', d))
		return error_fmt(msg, msg_len, ERROR_FORMAT,
		                 "a NUL byte in the network description");
	char *text = malloc(d + 1);
	if (!text)
		return error_fmt(msg, msg_len, ERROR_NOMEM, "out of memory");
	memcpy(text, desc, d);
	text[d] = '\0';
	char name[NN_NAME_LEN] = "";
	static const char head[] = "# network ";
	if (strncmp(text, head, sizeof(head) - 1) == 0) {
		const char *s = text + sizeof(head) - 1;
		size_t n = strcspn(s, "\n");
		if (n > NN_NAME_LEN - 1)
			n = NN_NAME_LEN - 1;
		memcpy(name, s, n);
		name[n] = '\0';
	}
	int rc = nn_net_parse(net, text, name, msg, msg_len);
	free(text);
	return rc;
}

int model_file_decode(struct nn_model *m, struct model_file_info *info, const uint8_t *buf,
                      size_t len, const char *name, char *err, size_t err_len)
{
	if (m)
		memset(m, 0, sizeof(*m));
	if (!m || !info || (!buf && len))
		return error_fmt(err, err_len, ERROR_INVAL, "model_file_decode: NULL argument");
	if (!name)
		name = "model file";
	if (len < 8) {
		if (len == 0 || memcmp(buf, MODEL_FILE_MAGIC, len) == 0)
			return error_fmt(err, err_len, ERROR_FORMAT,
			                 "%s: truncated: %zu bytes, a model file has at least %zu",
			                 name, len, (size_t)MODEL_FILE_V1_HEADER_BYTES + 1 + 8);
	}
	if (len < 8 || memcmp(buf, MODEL_FILE_MAGIC, 8) != 0)
		return error_fmt(err, err_len, ERROR_FORMAT,
		                 "%s: not an snn model file (bad magic; expected \"%s\")", name,
		                 MODEL_FILE_MAGIC);
	if (len < 12)
		return error_fmt(err, err_len, ERROR_FORMAT,
		                 "%s: truncated: %zu bytes, a model file has at least %zu", name,
		                 len, (size_t)MODEL_FILE_V1_HEADER_BYTES + 1 + 8);
	uint32_t version = get32(buf + 8);
	if (version != 1 && version != MODEL_FILE_VERSION)
		return error_fmt(
		    err, err_len, ERROR_UNSUPPORTED,
		    "%s: unsupported format version %u (this snn reads versions 1 and %d)", name,
		    version, MODEL_FILE_VERSION);
	/* Header bytes up to the description, and the smallest whole file. */
	const size_t hdr = version == 1 ? MODEL_FILE_V1_HEADER_BYTES : MODEL_FILE_HEADER_BYTES;
	const size_t min_len = hdr + 1 + 8;
	if (len < min_len)
		return error_fmt(
		    err, err_len, ERROR_FORMAT,
		    "%s: truncated: %zu bytes, a version %u model file has at least %zu", name, len,
		    version, min_len);
	uint64_t d = get64(buf + hdr - 8);
	struct nn_net *net = calloc(1, sizeof(*net));
	if (!net)
		return error_fmt(err, err_len, ERROR_NOMEM, "%s: out of memory", name);
	char msg[256];
	int rc = 0;
	/* The size the header and description announce, if they can be read. */
	size_t expected = 0;
	int desc_ok = d >= 1 && d <= MODEL_FILE_DESC_MAX && d <= len - min_len + 1;
	if (desc_ok && parse_desc(net, buf + hdr, (size_t)d, msg, sizeof(msg)) == 0)
		expected = hdr + (size_t)d + params_bytes(net) + 8;
	uint64_t stored = get64(buf + len - 8);
	if (model_file_fnv1a(buf, len - 8) != stored) {
		if (d >= 1 && d <= MODEL_FILE_DESC_MAX && !desc_ok)
			rc = error_fmt(
			    err, err_len, ERROR_FORMAT,
			    "%s: truncated: %zu bytes, expected at least %zu (checksum mismatch)",
			    name, len, hdr + (size_t)d + 8);
		else if (expected && len < expected)
			rc = error_fmt(err, err_len, ERROR_FORMAT,
			               "%s: truncated: %zu bytes, expected %zu (checksum mismatch)",
			               name, len, expected);
		else
			rc = error_fmt(err, err_len, ERROR_FORMAT,
			               "%s: checksum mismatch: the file is damaged", name);
		goto out;
	}
	/* The checksum holds: what follows are files written wrongly, not damage. */
	memset(info, 0, sizeof(*info));
	info->kind = (enum model_file_kind)get32(buf + 12);
	info->frac_bits = get32(buf + 16);
	info->epochs = get64(buf + 24);
	info->seed = get64(buf + 32);
	info->pair_id = get64(buf + 40);
	if (get32(buf + 12) > MODEL_FILE_CLEAR) {
		rc = error_fmt(err, err_len, ERROR_FORMAT, "%s: malformed: unknown kind %u", name,
		               get32(buf + 12));
		goto out;
	}
	if (info->frac_bits < 1 || info->frac_bits > 40 || (version < 2 && get32(buf + 20) != 0)) {
		rc =
		    error_fmt(err, err_len, ERROR_FORMAT,
		              "%s: malformed: %u fractional bits (1 to 40) or reserved field not 0",
		              name, info->frac_bits);
		goto out;
	}
	if (version >= 2) {
		uint32_t n_decay = get32(buf + 52);
		uint64_t batch = get64(buf + 56);
		info->has_schedule = batch != 0;
		info->lr_log = get32(buf + 48);
		uint32_t grad = get32(buf + 20);
		info->grad = grad <= INT_MAX && nn_grad_name((int)grad) ? (int)grad : -1;
		info->batch = batch;
		info->n_decay =
		    n_decay <= MODEL_FILE_DECAY_MAX ? n_decay : MODEL_FILE_DECAY_MAX + 1;
		/* schedule fields without one */
		int stray = !batch && (info->lr_log || n_decay || get32(buf + 20));
		for (unsigned i = 0; i < MODEL_FILE_DECAY_MAX; i++) {
			uint32_t v = get32(buf + 64 + 4 * i);
			if (i < info->n_decay)
				info->decay[i] = v;
			else
				stray |= v != 0;
		}
		const char *bad = stray ? "schedule fields set without a batch size, or unused "
		                          "decay entries not 0"
		                        : schedule_problem(info);
		if (bad) {
			rc = error_fmt(err, err_len, ERROR_FORMAT,
			               "%s: malformed: training schedule: %s", name, bad);
			goto out;
		}
	}
	if (d < 1 || d > MODEL_FILE_DESC_MAX || d > len - min_len + 1) {
		rc = error_fmt(err, err_len, ERROR_FORMAT,
		               "%s: malformed: network description of %llu bytes", name,
		               (unsigned long long)d);
		goto out;
	}
	if ((rc = parse_desc(net, buf + hdr, (size_t)d, msg, sizeof(msg))) < 0) {
		rc = error_fmt(err, err_len, ERROR_FORMAT, "%s: malformed network description: %s",
		               name, msg);
		goto out;
	}
	if (len != expected) {
		rc = error_fmt(err, err_len, ERROR_FORMAT,
		               "%s: malformed: %zu bytes, network '%s' needs %zu", name, len,
		               net->name, expected);
		goto out;
	}
	size_t pos = hdr + (size_t)d;
	for (size_t i = 0; i < net->n_layers; i++) {
		const struct nn_layer *l = &net->layer[i];
		size_t nw = nn_layer_weights(l), nb = nn_layer_biases(l);
		if (!nw)
			continue;
		uint64_t fw = get64(buf + pos);
		uint64_t fb = get64(buf + pos + 8 + 8 * nw);
		if (fw != nw || fb != nb) {
			rc = error_fmt(err, err_len, ERROR_FORMAT,
			               "%s: malformed: layer %zu has %llu weights and %llu biases, "
			               "expected %zu and %zu",
			               name, i + 1, (unsigned long long)fw, (unsigned long long)fb,
			               nw, nb);
			goto out;
		}
		pos += 16 + 8 * (nw + nb);
	}
	if ((rc = nn_model_init(m, net)) < 0) {
		rc = error_fmt(err, err_len, rc, "%s: out of memory", name);
		goto out;
	}
	pos = hdr + (size_t)d;
	for (size_t i = 0; i < net->n_layers; i++) {
		size_t nw = nn_layer_weights(&net->layer[i]), nb = nn_layer_biases(&net->layer[i]);
		if (!nw)
			continue;
		pos += 8;
		for (size_t k = 0; k < nw; k++, pos += 8)
			m->w[i][k] = get64(buf + pos);
		pos += 8;
		for (size_t k = 0; k < nb; k++, pos += 8)
			m->b[i][k] = get64(buf + pos);
	}
out:
	free(net);
	return rc;
}

/* Write buf to path, flushed to disk. */
static int write_file(const char *path, const uint8_t *buf, size_t len, char *err, size_t err_len)
{
	FILE *f = fopen(path, "wb");
	if (!f)
		return error_fmt(err, err_len, ERROR_IO, "cannot write '%s': %s", path,
		                 strerror(errno));
	int ok = fwrite(buf, 1, len, f) == len && fflush(f) == 0 && fsync(fileno(f)) == 0;
	int e = errno;
	if (fclose(f) != 0 && ok) {
		ok = 0;
		e = errno;
	}
	if (!ok) {
		remove(path);
		return error_fmt(err, err_len, ERROR_IO, "cannot write '%s': %s", path,
		                 strerror(e));
	}
	return 0;
}

static int path_join(char *out, const char *a, const char *b, char *err, size_t err_len)
{
	int n = snprintf(out, PATH_MAX_LEN, "%s%s", a, b);
	if (n < 0 || n >= PATH_MAX_LEN)
		return error_fmt(err, err_len, ERROR_RANGE, "path '%s%s' is too long", a, b);
	return 0;
}

static int do_rename(const char *from, const char *to, char *err, size_t err_len)
{
	if (rename(from, to) != 0)
		return error_fmt(err, err_len, ERROR_IO, "cannot rename '%s' to '%s': %s", from, to,
		                 strerror(errno));
	return 0;
}

int model_file_write(const char *path, const struct model_file_info *info, const struct nn_model *m,
                     char *err, size_t err_len)
{
	if (!path || !info || !m)
		return error_fmt(err, err_len, ERROR_INVAL, "model_file_write: NULL argument");
	char tmp[PATH_MAX_LEN];
	TRY(path_join(tmp, path, ".tmp", err, err_len));
	uint8_t *buf;
	size_t len;
	int rc = model_file_encode(&buf, &len, info, m);
	if (rc < 0)
		return error_fmt(err, err_len, rc, "%s: cannot encode the model: %s", path,
		                 error_strerror(rc));
	rc = write_file(tmp, buf, len, err, err_len);
	free(buf);
	if (rc == 0 && (rc = do_rename(tmp, path, err, err_len)) < 0)
		remove(tmp);
	return rc;
}

int model_file_write_pair(const char *prefix, const struct model_file_info *info,
                          const struct nn_model *s0, const struct nn_model *s1, char *err,
                          size_t err_len)
{
	if (!prefix || !info || !s0 || !s1)
		return error_fmt(err, err_len, ERROR_INVAL, "model_file_write_pair: NULL argument");
	char path[2][PATH_MAX_LEN], tmp[2][PATH_MAX_LEN];
	const struct nn_model *s[2] = {s0, s1};
	for (int j = 0; j < 2; j++) {
		TRY(path_join(path[j], prefix, j ? ".p1" : ".p0", err, err_len));
		TRY(path_join(tmp[j], path[j], ".tmp", err, err_len));
	}
	for (int j = 0; j < 2; j++) {
		struct model_file_info fi = *info;
		fi.kind = j ? MODEL_FILE_SHARE_P1 : MODEL_FILE_SHARE_P0;
		uint8_t *buf;
		size_t len;
		int rc = model_file_encode(&buf, &len, &fi, s[j]);
		if (rc < 0)
			return error_fmt(err, err_len, rc, "%s: cannot encode the model: %s",
			                 path[j], error_strerror(rc));
		rc = write_file(tmp[j], buf, len, err, err_len);
		free(buf);
		if (rc < 0) {
			if (j)
				remove(tmp[0]);
			return rc;
		}
	}
	/* Only now replace the previous pair; read_pair recovers a half-done rename. */
	for (int j = 0; j < 2; j++)
		TRY(do_rename(tmp[j], path[j], err, err_len));
	return 0;
}

int model_file_read(struct nn_model *m, struct model_file_info *info, const char *path, char *err,
                    size_t err_len)
{
	if (m)
		memset(m, 0, sizeof(*m));
	if (!m || !info || !path)
		return error_fmt(err, err_len, ERROR_INVAL, "model_file_read: NULL argument");
	FILE *f = fopen(path, "rb");
	if (!f)
		return error_fmt(err, err_len, ERROR_IO, "cannot read model file '%s': %s", path,
		                 strerror(errno));
	struct stat st;
	if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
		fclose(f);
		return error_fmt(err, err_len, ERROR_IO,
		                 "cannot read model file '%s': not a regular file", path);
	}
	if ((uint64_t)st.st_size > READ_MAX) {
		fclose(f);
		return error_fmt(err, err_len, ERROR_FORMAT,
		                 "%s: %lld bytes, too large for a model file", path,
		                 (long long)st.st_size);
	}
	size_t len = (size_t)st.st_size;
	uint8_t *buf = malloc(len ? len : 1);
	if (!buf) {
		fclose(f);
		return error_fmt(err, err_len, ERROR_NOMEM, "%s: out of memory", path);
	}
	size_t got = fread(buf, 1, len, f);
	int rc = 0;
	if (ferror(f))
		rc = error_fmt(err, err_len, ERROR_IO, "cannot read model file '%s': %s", path,
		               strerror(errno));
	fclose(f);
	if (rc == 0)
		rc = model_file_decode(m, info, buf, got, path, err, err_len);
	free(buf);
	return rc;
}

int model_file_check(const char *path, const struct model_file_info *info, const struct nn_model *m,
                     const struct model_file_want *want, char *err, size_t err_len)
{
	if (!path || !info || !m || !want)
		return error_fmt(err, err_len, ERROR_INVAL, "model_file_check: NULL argument");
	if (want->net && !model_file_net_equal(&m->net, want->net, want->params_only)) {
		char have[160], need[160];
		model_file_net_summary(&m->net, have, sizeof(have));
		model_file_net_summary(want->net, need, sizeof(need));
		return error_fmt(err, err_len, ERROR_SHAPE,
		                 "model file %s is for network '%s' (%s), not '%s' (%s)", path,
		                 m->net.name, have, want->net->name, need);
	}
	if (want->frac_bits && info->frac_bits != want->frac_bits)
		return error_fmt(err, err_len, ERROR_RANGE,
		                 "model file %s has %u fractional bits, not %u (--frac-bits)", path,
		                 info->frac_bits, want->frac_bits);
	if (want->kind >= 0 && (int)info->kind != want->kind)
		return error_fmt(err, err_len, ERROR_INVAL, "model file %s holds %s, expected %s",
		                 path, model_file_kind_name(info->kind),
		                 model_file_kind_name((enum model_file_kind)want->kind));
	return 0;
}

static int read_checked(struct nn_model *m, struct model_file_info *info, const char *path,
                        const struct model_file_want *want, int kind, char *err, size_t err_len)
{
	struct model_file_want w = *want;
	w.kind = kind;
	int rc = model_file_read(m, info, path, err, err_len);
	if (rc == 0 && (rc = model_file_check(path, info, m, &w, err, err_len)) < 0)
		nn_model_finish(m);
	return rc;
}

static int same_schedule(const struct model_file_info *a, const struct model_file_info *b)
{
	if (a->has_schedule != b->has_schedule || a->lr_log != b->lr_log || a->batch != b->batch ||
	    a->n_decay != b->n_decay || a->grad != b->grad)
		return 0;
	for (unsigned i = 0; i < a->n_decay && i < MODEL_FILE_DECAY_MAX; i++)
		if (a->decay[i] != b->decay[i])
			return 0;
	return 1;
}

int model_file_read_pair(struct nn_model *s0, struct nn_model *s1, struct model_file_info *info,
                         const char *prefix, const struct model_file_want *want, char *err,
                         size_t err_len)
{
	if (s0)
		memset(s0, 0, sizeof(*s0));
	if (s1)
		memset(s1, 0, sizeof(*s1));
	if (!s0 || !s1 || !info || !prefix || !want)
		return error_fmt(err, err_len, ERROR_INVAL, "model_file_read_pair: NULL argument");
	char path[2][PATH_MAX_LEN], tmp[PATH_MAX_LEN];
	TRY(path_join(path[0], prefix, ".p0", err, err_len));
	TRY(path_join(path[1], prefix, ".p1", err, err_len));
	struct nn_model *s[2] = {s0, s1};
	struct model_file_info fi[2];
	int rc = 0;
	for (int j = 0; j < 2 && rc == 0; j++)
		rc = read_checked(s[j], &fi[j], path[j], want, j, err, err_len);
	if (rc < 0)
		goto fail_out;
	if (fi[0].pair_id == fi[1].pair_id && fi[0].epochs != fi[1].epochs) {
		/* Interrupted between the two renames: the older half's .tmp is the newer. */
		int old = fi[0].epochs < fi[1].epochs ? 0 : 1;
		struct nn_model m;
		struct model_file_info ti;
		char terr[16];
		if (path_join(tmp, path[old], ".tmp", terr, sizeof(terr)) == 0 &&
		    access(tmp, F_OK) == 0 &&
		    read_checked(&m, &ti, tmp, want, old, terr, sizeof(terr)) == 0) {
			if (ti.pair_id == fi[old].pair_id && ti.epochs == fi[1 - old].epochs) {
				nn_model_finish(s[old]);
				*s[old] = m;
				fi[old] = ti;
			} else {
				nn_model_finish(&m);
			}
		}
	}
	if (fi[0].pair_id != fi[1].pair_id) {
		rc = error_fmt(
		    err, err_len, ERROR_INVAL,
		    "%s and %s are from different training runs (pair ids %016llx and %016llx)",
		    path[0], path[1], (unsigned long long)fi[0].pair_id,
		    (unsigned long long)fi[1].pair_id);
		goto fail_out;
	}
	if (fi[0].epochs != fi[1].epochs) {
		int old = fi[0].epochs < fi[1].epochs ? 0 : 1;
		rc = error_fmt(
		    err, err_len, ERROR_INVAL,
		    "%s has %llu epochs and %s %llu: saving epoch %llu was interrupted and "
		    "%s.tmp, which would complete the pair, is missing or damaged",
		    path[0], (unsigned long long)fi[0].epochs, path[1],
		    (unsigned long long)fi[1].epochs, (unsigned long long)fi[1 - old].epochs,
		    path[old]);
		goto fail_out;
	}
	if (fi[0].seed != fi[1].seed || fi[0].frac_bits != fi[1].frac_bits ||
	    !same_schedule(&fi[0], &fi[1]) || !model_file_net_equal(&s0->net, &s1->net, 0)) {
		rc = error_fmt(
		    err, err_len, ERROR_INVAL,
		    "%s and %s do not belong together (epochs %llu and %llu, seeds %llu and "
		    "%llu, frac bits %u and %u, networks '%s' and '%s', or their training "
		    "schedules)",
		    path[0], path[1], (unsigned long long)fi[0].epochs,
		    (unsigned long long)fi[1].epochs, (unsigned long long)fi[0].seed,
		    (unsigned long long)fi[1].seed, fi[0].frac_bits, fi[1].frac_bits, s0->net.name,
		    s1->net.name);
		goto fail_out;
	}
	*info = fi[0];
	return 0;
fail_out:
	nn_model_finish(s0);
	nn_model_finish(s1);
	return rc;
}
