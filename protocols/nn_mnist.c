/* MNIST idx loaders; see nn_mnist.h for the format and the error codes.
 *
 * Every loader follows the same order: open, read the fixed-size header,
 * check magic, then that the header's sizes do not overflow, then n and the
 * dimensions, then the header against the file's size (fstat), and only then
 * allocate and read the body in CHUNK_BYTES pieces. Files that are not
 * regular (pipes, /dev/stdin) have no size up front: their buffer grows as
 * data arrives, so a lying header cannot make us allocate terabytes. */
#include "nn_mnist.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define IDX3_MAGIC        0x00000803u
#define IDX1_MAGIC        0x00000801u
#define IDX3_HEADER_BYTES 16
#define IDX1_HEADER_BYTES 8
#define CHUNK_BYTES       ((size_t)1 << 24) /* fread size: 3 calls for the 47 MB train images */
#define IMAGE_HEAD_BYTES  4096              /* nn_mnist_load_image reads this much at most */

/* An open input file and what fstat told us about it. */
struct input {
	const char *path; /* as given, for messages */
	FILE *f;          /* open for reading */
	long long size;   /* bytes, or -1 when not a regular file */
};

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

/* *out = a * b; 0 if that overflows size_t. */
static int mul(size_t *out, size_t a, size_t b)
{
	if (a && b > SIZE_MAX / a)
		return 0;
	*out = a * b;
	return 1;
}

/* *out = a + b; 0 if that overflows size_t. */
static int add(size_t *out, size_t a, size_t b)
{
	if (b > SIZE_MAX - a)
		return 0;
	*out = a + b;
	return 1;
}

static int file_exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

static int open_input(struct input *in, const char *path, char *err, size_t err_len)
{
	in->path = path;
	in->size = -1;
	in->f = fopen(path, "rb");
	if (!in->f) {
		int e = errno;
		/* The usual slip: the .gz from the MNIST site was never unpacked. */
		const char *hint = "";
		size_t len = strlen(path);
		char *gz = malloc(len + 4);
		if (gz) {
			memcpy(gz, path, len);
			memcpy(gz + len, ".gz", 4);
			if (file_exists(gz))
				hint = " (a .gz copy exists: gunzip it)";
			free(gz);
		}
		return error_fmt(err, err_len, ERROR_IO, "%s: cannot open: %s%s", path, strerror(e),
		                 hint);
	}
	struct stat st;
	if (fstat(fileno(in->f), &st) == 0) {
		if (S_ISDIR(st.st_mode)) {
			fclose(in->f);
			in->f = NULL;
			return error_fmt(err, err_len, ERROR_IO, "%s: cannot read: %s", path,
			                 strerror(EISDIR));
		}
		if (S_ISREG(st.st_mode))
			in->size = (long long)st.st_size;
	}
	return 0;
}

static void close_input(struct input *in)
{
	if (in->f)
		fclose(in->f); /* read-only: nothing to lose on a failed close */
	in->f = NULL;
}

/* Read up to n bytes; *got is what arrived. ERROR_IO on a read error. */
static int read_some(struct input *in, uint8_t *dst, size_t n, size_t *got, char *err,
                     size_t err_len)
{
	*got = 0;
	while (*got < n) {
		size_t want = n - *got < CHUNK_BYTES ? n - *got : CHUNK_BYTES;
		errno = 0;
		size_t r = fread(dst + *got, 1, want, in->f);
		*got += r;
		if (r < want) {
			if (ferror(in->f))
				return error_fmt(err, err_len, ERROR_IO, "%s: read error: %s",
				                 in->path, strerror(errno ? errno : EIO));
			break; /* end of file */
		}
	}
	return 0;
}

/* The fixed header of an idx file (kind names it in messages: "idx3 image"). */
static int read_header(struct input *in, uint8_t *hdr, size_t hdr_bytes, uint32_t magic,
                       const char *kind, char *err, size_t err_len)
{
	size_t got;
	TRY(read_some(in, hdr, hdr_bytes, &got, err, err_len));
	if (got == 0)
		return error_fmt(err, err_len, ERROR_FORMAT,
		                 "%s: empty file (0 bytes), expected an %s file", in->path, kind);
	if (got < 4 || be32(hdr) == magic) {
		if (got < hdr_bytes)
			return error_fmt(
			    err, err_len, ERROR_FORMAT,
			    "%s: truncated header: the file has %zu bytes, an %s header needs %zu",
			    in->path, got, kind, hdr_bytes);
		return 0;
	}
	uint32_t found = be32(hdr);
	const char *hint = "";
	if (found == IDX1_MAGIC)
		hint = "; this is an idx1 label file";
	else if (found == IDX3_MAGIC)
		hint = "; this is an idx3 image file";
	else if (found >> 16 == 0x1f8b)
		hint = "; gzip-compressed? gunzip it first";
	return error_fmt(err, err_len, ERROR_FORMAT,
	                 "%s: not an %s file (magic 0x%08x, expected 0x%08x%s)", in->path, kind,
	                 (unsigned)found, (unsigned)magic, hint);
}

/* Compare the bytes the header promises (want, header included) with the file's size. */
static int check_size(const struct input *in, size_t want, const char *what, char *err,
                      size_t err_len)
{
	if (in->size < 0 || (unsigned long long)in->size == want)
		return 0;
	if ((unsigned long long)in->size < want)
		return error_fmt(
		    err, err_len, ERROR_FORMAT,
		    "%s: truncated: header says %s (%zu bytes) but the file has %lld bytes",
		    in->path, what, want, in->size);
	return error_fmt(
	    err, err_len, ERROR_FORMAT,
	    "%s: trailing garbage: header says %s (%zu bytes) but the file has %lld bytes "
	    "(%llu extra)",
	    in->path, what, want, in->size, (unsigned long long)in->size - want);
}

/* Read body_bytes after a hdr_bytes header into a new buffer, then make sure nothing
 * follows. For files of unknown size the buffer doubles as data arrives. */
static int read_body(struct input *in, uint8_t **out, size_t hdr_bytes, size_t body_bytes,
                     const char *what, char *err, size_t err_len)
{
	size_t cap = in->size >= 0 || body_bytes < CHUNK_BYTES ? body_bytes : CHUNK_BYTES;
	uint8_t *buf = malloc(cap ? cap : 1);
	if (!buf)
		return error_fmt(err, err_len, ERROR_NOMEM, "%s: out of memory for %zu bytes",
		                 in->path, cap);
	size_t have = 0;
	int rc;
	while (have < body_bytes) {
		if (have == cap) {
			size_t grown = cap > body_bytes / 2 ? body_bytes : 2 * cap;
			uint8_t *p = realloc(buf, grown);
			if (!p) {
				rc = error_fmt(err, err_len, ERROR_NOMEM,
				               "%s: out of memory for %zu bytes", in->path, grown);
				goto out_free;
			}
			buf = p;
			cap = grown;
		}
		size_t got;
		rc = read_some(in, buf + have, cap - have, &got, err, err_len);
		if (rc < 0)
			goto out_free;
		have += got;
		if (have < cap) {
			rc = error_fmt(
			    err, err_len, ERROR_FORMAT,
			    "%s: truncated: header says %s (%zu bytes) but the file has %zu bytes",
			    in->path, what, hdr_bytes + body_bytes, hdr_bytes + have);
			goto out_free;
		}
	}
	/* Also catches a regular file that grew after fstat. */
	if (fgetc(in->f) != EOF) {
		rc = error_fmt(
		    err, err_len, ERROR_FORMAT,
		    "%s: trailing garbage: header says %s (%zu bytes) but the file has more",
		    in->path, what, hdr_bytes + body_bytes);
		goto out_free;
	}
	if (ferror(in->f)) {
		rc = error_fmt(err, err_len, ERROR_IO, "%s: read error: %s", in->path,
		               strerror(errno ? errno : EIO));
		goto out_free;
	}
	*out = buf;
	return 0;
out_free:
	free(buf);
	return rc;
}

/* Check an idx3 header (magic already checked): n, rows, cols; *pixel_bytes = n x rows x cols. */
static int check_images_header(const struct input *in, const uint8_t *hdr, size_t *n,
                               size_t *pixel_bytes, char *what, size_t what_len, char *err,
                               size_t err_len)
{
	uint32_t n32 = be32(hdr + 4), rows = be32(hdr + 8), cols = be32(hdr + 12);
	size_t image_bytes, body, total;
	if (!mul(&image_bytes, rows, cols) || !mul(&body, n32, image_bytes) ||
	    !add(&total, body, IDX3_HEADER_BYTES))
		return error_fmt(
		    err, err_len, ERROR_FORMAT,
		    "%s: header says %u images of %ux%u: the size overflows (corrupt header?)",
		    in->path, (unsigned)n32, (unsigned)rows, (unsigned)cols);
	if (n32 == 0)
		return error_fmt(err, err_len, ERROR_FORMAT, "%s: no images (header says n = 0)",
		                 in->path);
	if (rows != NN_MNIST_ROWS || cols != NN_MNIST_COLS)
		return error_fmt(err, err_len, ERROR_FORMAT,
		                 "%s: images are %ux%u, this project needs %dx%d", in->path,
		                 (unsigned)rows, (unsigned)cols, NN_MNIST_ROWS, NN_MNIST_COLS);
	snprintf(what, what_len, "%u images of %ux%u", (unsigned)n32, (unsigned)rows,
	         (unsigned)cols);
	TRY(check_size(in, total, what, err, err_len));
	*n = n32;
	*pixel_bytes = body;
	return 0;
}

static int check_labels_header(const struct input *in, const uint8_t *hdr, size_t *n, char *what,
                               size_t what_len, char *err, size_t err_len)
{
	uint32_t n32 = be32(hdr + 4);
	size_t total;
	if (!add(&total, n32, IDX1_HEADER_BYTES)) /* only where size_t is 32 bits */
		return error_fmt(err, err_len, ERROR_FORMAT,
		                 "%s: header says %u labels: the size overflows", in->path,
		                 (unsigned)n32);
	if (n32 == 0)
		return error_fmt(err, err_len, ERROR_FORMAT, "%s: no labels (header says n = 0)",
		                 in->path);
	snprintf(what, what_len, "%u labels", (unsigned)n32);
	TRY(check_size(in, total, what, err, err_len));
	*n = n32;
	return 0;
}

int nn_mnist_load(struct nn_mnist *m, const char *images_path, const char *labels_path, char *err,
                  size_t err_len)
{
	if (!m || !images_path || !labels_path)
		return error_fmt(err, err_len, ERROR_INVAL, "nn_mnist_load: NULL argument");
	memset(m, 0, sizeof(*m));
	struct input img = {0}, lab = {0};
	uint8_t ihdr[IDX3_HEADER_BYTES], lhdr[IDX1_HEADER_BYTES];
	char iwhat[96], lwhat[64];
	size_t n_images = 0, n_labels = 0, pixel_bytes = 0;
	uint8_t *pixels = NULL, *labels = NULL;
	int rc;

	/* Both headers first, so a mismatch fails before 47 MB are read. */
	rc = open_input(&img, images_path, err, err_len);
	if (rc < 0)
		goto out;
	rc = read_header(&img, ihdr, sizeof(ihdr), IDX3_MAGIC, "idx3 image", err, err_len);
	if (rc < 0)
		goto out;
	rc = check_images_header(&img, ihdr, &n_images, &pixel_bytes, iwhat, sizeof(iwhat), err,
	                         err_len);
	if (rc < 0)
		goto out;
	rc = open_input(&lab, labels_path, err, err_len);
	if (rc < 0)
		goto out;
	rc = read_header(&lab, lhdr, sizeof(lhdr), IDX1_MAGIC, "idx1 label", err, err_len);
	if (rc < 0)
		goto out;
	rc = check_labels_header(&lab, lhdr, &n_labels, lwhat, sizeof(lwhat), err, err_len);
	if (rc < 0)
		goto out;
	if (n_images != n_labels) {
		rc = error_fmt(err, err_len, ERROR_SHAPE,
		               "count mismatch: %s has %zu images but %s has %zu labels",
		               images_path, n_images, labels_path, n_labels);
		goto out;
	}

	rc = read_body(&img, &pixels, IDX3_HEADER_BYTES, pixel_bytes, iwhat, err, err_len);
	if (rc < 0)
		goto out;
	rc = read_body(&lab, &labels, IDX1_HEADER_BYTES, n_labels, lwhat, err, err_len);
	if (rc < 0)
		goto out;
	for (size_t i = 0; i < n_labels; i++) {
		if (labels[i] >= NN_MNIST_CLASSES) {
			rc = error_fmt(err, err_len, ERROR_RANGE,
			               "%s: label %u at index %zu (labels must be 0..%d)",
			               labels_path, (unsigned)labels[i], i, NN_MNIST_CLASSES - 1);
			goto out;
		}
	}
	m->n = n_images;
	m->rows = NN_MNIST_ROWS;
	m->cols = NN_MNIST_COLS;
	m->pixels = pixels;
	m->labels = labels;
	pixels = labels = NULL;
	rc = 0;
out:
	free(pixels);
	free(labels);
	close_input(&img);
	close_input(&lab);
	return rc;
}

/* dir/<which>-<tail>, without a doubled '/'. NULL on out of memory. */
static char *join(const char *dir, const char *which, const char *tail)
{
	size_t dl = strlen(dir), wl = strlen(which), tl = strlen(tail);
	while (dl > 1 && dir[dl - 1] == '/')
		dl--;
	int slash = dir[dl - 1] != '/';
	if (dl > SIZE_MAX - wl - tl - 3)
		return NULL;
	char *p = malloc(dl + (size_t)slash + wl + 1 + tl + 1);
	if (!p)
		return NULL;
	char *q = p;
	memcpy(q, dir, dl);
	q += dl;
	if (slash)
		*q++ = '/';
	memcpy(q, which, wl);
	q += wl;
	*q++ = '-';
	memcpy(q, tail, tl + 1);
	return p;
}

int nn_mnist_load_dir(struct nn_mnist *m, const char *dir, const char *which, char *err,
                      size_t err_len)
{
	if (!m || !dir || !which)
		return error_fmt(err, err_len, ERROR_INVAL, "nn_mnist_load_dir: NULL argument");
	if (!*dir)
		return error_fmt(err, err_len, ERROR_INVAL,
		                 "nn_mnist_load_dir: empty directory name");
	const char *stem;
	if (!strcmp(which, "train"))
		stem = "train";
	else if (!strcmp(which, "t10k") || !strcmp(which, "test"))
		stem = "t10k";
	else
		return error_fmt(err, err_len, ERROR_INVAL,
		                 "nn_mnist_load_dir: unknown set '%s' (use train, t10k or test)",
		                 which);
	char *images = join(dir, stem, "images-idx3-ubyte");
	char *labels = join(dir, stem, "labels-idx1-ubyte");
	int rc;
	if (!images || !labels)
		rc = error_fmt(err, err_len, ERROR_NOMEM, "%s: out of memory for the file names",
		               dir);
	else
		rc = nn_mnist_load(m, images, labels, err, err_len);
	free(images);
	free(labels);
	return rc;
}

void nn_mnist_finish(struct nn_mnist *m)
{
	if (!m)
		return;
	free(m->pixels);
	free(m->labels);
	memset(m, 0, sizeof(*m));
}

static int is_space(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

/* One PGM header number at *pos (after whitespace and # comments). 0 if missing. */
static int pgm_number(const uint8_t *buf, size_t len, size_t *pos, unsigned *value)
{
	size_t i = *pos;
	for (;;) {
		while (i < len && is_space(buf[i]))
			i++;
		if (i < len && buf[i] == '#') {
			while (i < len && buf[i] != '\n' && buf[i] != '\r')
				i++;
			continue;
		}
		break;
	}
	if (i >= len || buf[i] < '0' || buf[i] > '9')
		return 0;
	unsigned v = 0;
	while (i < len && buf[i] >= '0' && buf[i] <= '9') {
		if (v > 100000)
			return 0; /* far past any valid value; stops overflow */
		v = v * 10 + (unsigned)(buf[i] - '0');
		i++;
	}
	*pos = i;
	*value = v;
	return 1;
}

/* P5 PGM in buf[0..len); total is the file size or -1 when more than len bytes may follow. */
static int parse_pgm(uint8_t *pixels, const uint8_t *buf, size_t len, long long total,
                     const char *path, char *err, size_t err_len)
{
	size_t pos = 2;
	unsigned w, h, maxval;
	if (!pgm_number(buf, len, &pos, &w) || !pgm_number(buf, len, &pos, &h) ||
	    !pgm_number(buf, len, &pos, &maxval) || pos >= len || !is_space(buf[pos]))
		return error_fmt(
		    err, err_len, ERROR_FORMAT,
		    "%s: malformed PGM header (want \"P5 width height maxval\" and one whitespace)",
		    path);
	pos++; /* the single whitespace before the pixels */
	if (w != NN_MNIST_COLS || h != NN_MNIST_ROWS)
		return error_fmt(err, err_len, ERROR_FORMAT,
		                 "%s: PGM image is %ux%u, this project needs %dx%d", path, w, h,
		                 NN_MNIST_COLS, NN_MNIST_ROWS);
	if (maxval != 255)
		return error_fmt(err, err_len, ERROR_FORMAT, "%s: PGM maxval is %u, need 255", path,
		                 maxval);
	size_t want = pos + NN_MNIST_PIXELS;
	if (total >= 0 && (unsigned long long)total < want)
		return error_fmt(
		    err, err_len, ERROR_FORMAT,
		    "%s: truncated: PGM header says 28x28 (%zu bytes) but the file has %lld bytes",
		    path, want, total);
	if (total < 0 || (unsigned long long)total > want)
		return error_fmt(
		    err, err_len, ERROR_FORMAT,
		    "%s: trailing garbage: PGM header says 28x28 (%zu bytes) but the file has more",
		    path, want);
	memcpy(pixels, buf + pos, NN_MNIST_PIXELS);
	return 0;
}

int nn_mnist_load_image(uint8_t pixels[784], const char *path, char *err, size_t err_len)
{
	if (!pixels || !path)
		return error_fmt(err, err_len, ERROR_INVAL, "nn_mnist_load_image: NULL argument");
	struct input in = {0};
	uint8_t *buf = NULL;
	int rc = open_input(&in, path, err, err_len);
	if (rc < 0)
		return rc;
	buf = malloc(IMAGE_HEAD_BYTES);
	if (!buf) {
		rc = error_fmt(err, err_len, ERROR_NOMEM, "%s: out of memory", path);
		goto out;
	}
	size_t got;
	rc = read_some(&in, buf, IMAGE_HEAD_BYTES, &got, err, err_len);
	if (rc < 0)
		goto out;
	/* Size of the whole file; a short read means we saw all of a pipe. */
	long long total = in.size >= 0 ? in.size : got < IMAGE_HEAD_BYTES ? (long long)got : -1;
	in.size = total;

	/* A valid idx3 (800+ bytes) or PGM (797+) is never 784 bytes: no ambiguity. */
	if (total == NN_MNIST_PIXELS && got == NN_MNIST_PIXELS) {
		memcpy(pixels, buf, NN_MNIST_PIXELS);
		rc = 0;
	} else if (got >= 4 && be32(buf) == IDX3_MAGIC) {
		size_t n, pixel_bytes;
		char what[96];
		if (got < IDX3_HEADER_BYTES) {
			rc =
			    error_fmt(err, err_len, ERROR_FORMAT,
			              "%s: truncated header: the file has %zu bytes, an idx3 image "
			              "header needs %d",
			              path, got, IDX3_HEADER_BYTES);
			goto out;
		}
		rc = check_images_header(&in, buf, &n, &pixel_bytes, what, sizeof(what), err,
		                         err_len);
		if (rc < 0)
			goto out;
		if (got < IDX3_HEADER_BYTES +
		              NN_MNIST_PIXELS) { /* only for pipes: check_size knew better */
			rc = error_fmt(err, err_len, ERROR_FORMAT,
			               "%s: truncated: header says %s but the file has %zu bytes",
			               path, what, got);
			goto out;
		}
		memcpy(pixels, buf + IDX3_HEADER_BYTES, NN_MNIST_PIXELS);
		rc = 0;
	} else if (got >= 2 && buf[0] == 'P' && buf[1] == '5') {
		rc = parse_pgm(pixels, buf, got, total, path, err, err_len);
	} else if (got == 0) {
		rc = error_fmt(err, err_len, ERROR_FORMAT,
		               "%s: empty file (0 bytes), expected an image", path);
	} else if (got >= 2 && buf[0] == 'P' && buf[1] >= '1' && buf[1] <= '7') {
		rc = error_fmt(err, err_len, ERROR_FORMAT,
		               "%s: netpbm type P%c is not supported, need binary PGM (P5)", path,
		               buf[1]);
	} else if (got >= 4 && be32(buf) == IDX1_MAGIC) {
		rc = error_fmt(err, err_len, ERROR_FORMAT,
		               "%s: this is an idx1 label file, not an image", path);
	} else {
		char size[32];
		if (total >= 0)
			snprintf(size, sizeof(size), "%lld bytes", total);
		else
			snprintf(size, sizeof(size), "more than %d bytes", IMAGE_HEAD_BYTES);
		rc = error_fmt(
		    err, err_len, ERROR_FORMAT,
		    "%s: not an idx3 file, a P5 PGM or a raw %d-byte image (the file has %s)", path,
		    NN_MNIST_PIXELS, size);
	}
out:
	free(buf);
	close_input(&in);
	return rc;
}

const char *nn_mnist_default_dir(void)
{
	const char *dir = getenv("SNN_DATA");
	return dir && *dir ? dir : "data/mnist";
}
