#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "nn_mnist.h"

/* Every test gets a fresh directory for its synthetic idx files. */
static char tmp_dir[256];

static void setup(void)
{
	const char *base = getenv("TMPDIR");
	snprintf(tmp_dir, sizeof(tmp_dir), "%s/test_nn_mnist_XXXXXX",
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
		if (remove(path) != 0)
			rmdir(path);
	}
	closedir(d);
	rmdir(tmp_dir);
}

TestSuite(nn_mnist, .init = setup, .fini = teardown);

/* A growable byte string for building files. */
struct bytes {
	uint8_t *p; /* n bytes */
	size_t n;   /* used */
	size_t cap; /* allocated */
};

static void put(struct bytes *b, const void *x, size_t n)
{
	if (b->n + n > b->cap) {
		b->cap = (b->n + n) * 2 + 64;
		b->p = realloc(b->p, b->cap);
		cr_assert_not_null(b->p);
	}
	if (n)
		memcpy(b->p + b->n, x, n);
	b->n += n;
}

static void put32(struct bytes *b, uint32_t v)
{
	uint8_t x[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
	put(b, x, 4);
}

static void put_str(struct bytes *b, const char *s)
{
	put(b, s, strlen(s));
}

/* The synthetic pixel k: covers 0..255. */
static uint8_t pixel(size_t k)
{
	return (uint8_t)(k * 131 + 17);
}

/* idx3 header (magic, n, rows, cols) and body_bytes pattern pixels. */
static struct bytes images_file(uint32_t magic, uint32_t n, uint32_t rows, uint32_t cols,
                                size_t body_bytes)
{
	struct bytes b = {0};
	put32(&b, magic);
	put32(&b, n);
	put32(&b, rows);
	put32(&b, cols);
	for (size_t k = 0; k < body_bytes; k++) {
		uint8_t v = pixel(k);
		put(&b, &v, 1);
	}
	return b;
}

static struct bytes good_images(uint32_t n)
{
	return images_file(0x803, n, 28, 28, (size_t)n * 784);
}

static struct bytes labels_file(uint32_t magic, uint32_t n, const uint8_t *labels, size_t n_bytes)
{
	struct bytes b = {0};
	put32(&b, magic);
	put32(&b, n);
	put(&b, labels, n_bytes);
	return b;
}

static const uint8_t three_labels[3] = {5, 0, 9};

/* Write b to tmp_dir/name; path receives the full name. */
static void write_file(char path[512], const char *name, const struct bytes *b)
{
	snprintf(path, 512, "%s/%s", tmp_dir, name);
	FILE *f = fopen(path, "wb");
	cr_assert_not_null(f, "fopen(%s): %s", path, strerror(errno));
	if (b->n)
		cr_assert_eq(fwrite(b->p, 1, b->n, f), b->n, "fwrite(%s)", path);
	cr_assert_eq(fclose(f), 0, "fclose(%s)", path);
}

/* Load images and labels given as bytes from files named "img" and "lab". */
static int load_pair(struct nn_mnist *m, const struct bytes *img, const struct bytes *lab,
                     char ipath[512], char lpath[512], char *err, size_t err_len)
{
	write_file(ipath, "img", img);
	write_file(lpath, "lab", lab);
	return nn_mnist_load(m, ipath, lpath, err, err_len);
}

/* rc is code, the message is one line and contains the file name and each key word. */
static void expect_error(int rc, int code, const char *err, const char *file, const char *w1,
                         const char *w2)
{
	cr_assert_eq(rc, code, "rc %d (%s), want %d (%s); message: %s", rc, error_name(rc), code,
	             error_name(code), err);
	cr_assert_null(strchr(err, '\n'), "message is not one line: %s", err);
	if (file)
		cr_assert_not_null(strstr(err, file), "message does not name %s: %s", file, err);
	if (w1)
		cr_assert_not_null(strstr(err, w1), "message lacks \"%s\": %s", w1, err);
	if (w2)
		cr_assert_not_null(strstr(err, w2), "message lacks \"%s\": %s", w2, err);
}

/* After a failed load the struct is empty and nn_mnist_finish is harmless. */
static void expect_empty(struct nn_mnist *m)
{
	cr_assert_eq(m->n, 0);
	cr_assert_null(m->pixels);
	cr_assert_null(m->labels);
	nn_mnist_finish(m);
}

static void free_bytes(struct bytes *b)
{
	free(b->p);
	b->p = NULL;
	b->n = b->cap = 0;
}

/* ---- a tiny worked example ---- */

Test(nn_mnist, loads_tiny_pair_exactly)
{
	struct bytes img = good_images(3), lab = labels_file(0x801, 3, three_labels, 3);
	char ip[512], lp[512], err[512] = "";
	struct nn_mnist m;
	cr_assert_eq(load_pair(&m, &img, &lab, ip, lp, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(m.n, 3);
	cr_assert_eq(m.rows, 28);
	cr_assert_eq(m.cols, 28);
	for (size_t k = 0; k < 3 * 784; k++)
		cr_assert_eq(m.pixels[k], pixel(k), "pixel %zu", k);
	for (size_t i = 0; i < 3; i++)
		cr_assert_eq(m.labels[i], three_labels[i], "label %zu", i);
	nn_mnist_finish(&m);
	cr_assert_null(m.pixels);
	cr_assert_eq(m.n, 0);
	nn_mnist_finish(&m); /* twice is fine */
	free_bytes(&img);
	free_bytes(&lab);
}

Test(nn_mnist, loads_one_image_and_every_label_value)
{
	static const uint8_t all[10] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
	struct bytes img = good_images(10), lab = labels_file(0x801, 10, all, 10);
	char ip[512], lp[512], err[512] = "";
	struct nn_mnist m;
	cr_assert_eq(load_pair(&m, &img, &lab, ip, lp, err, sizeof(err)), 0, "%s", err);
	for (size_t i = 0; i < 10; i++)
		cr_assert_eq(m.labels[i], i, "label %zu", i);
	nn_mnist_finish(&m);
	free_bytes(&img);
	free_bytes(&lab);

	img = good_images(1);
	lab = labels_file(0x801, 1, all + 9, 1);
	cr_assert_eq(load_pair(&m, &img, &lab, ip, lp, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(m.n, 1);
	cr_assert_eq(m.labels[0], 9);
	cr_assert_eq(m.pixels[783], pixel(783));
	nn_mnist_finish(&m);
	free_bytes(&img);
	free_bytes(&lab);
}

Test(nn_mnist, load_dir_finds_train_and_t10k)
{
	static const uint8_t one[1] = {3};
	struct bytes img3 = good_images(3), lab3 = labels_file(0x801, 3, three_labels, 3);
	struct bytes img1 = good_images(1), lab1 = labels_file(0x801, 1, one, 1);
	char p[512], err[512] = "", slash[300];
	write_file(p, "train-images-idx3-ubyte", &img3);
	write_file(p, "train-labels-idx1-ubyte", &lab3);
	write_file(p, "t10k-images-idx3-ubyte", &img1);
	write_file(p, "t10k-labels-idx1-ubyte", &lab1);
	struct nn_mnist m;
	cr_assert_eq(nn_mnist_load_dir(&m, tmp_dir, "train", err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(m.n, 3);
	cr_assert_eq(m.labels[2], 9);
	nn_mnist_finish(&m);
	cr_assert_eq(nn_mnist_load_dir(&m, tmp_dir, "t10k", err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(m.n, 1);
	cr_assert_eq(m.labels[0], 3);
	nn_mnist_finish(&m);
	snprintf(slash, sizeof(slash), "%s//", tmp_dir);
	cr_assert_eq(nn_mnist_load_dir(&m, slash, "test", err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(m.n, 1);
	nn_mnist_finish(&m);

	int rc = nn_mnist_load_dir(&m, tmp_dir, "valid", err, sizeof(err));
	expect_error(rc, ERROR_INVAL, err, NULL, "valid", "train");
	free_bytes(&img3);
	free_bytes(&lab3);
	free_bytes(&img1);
	free_bytes(&lab1);
}

Test(nn_mnist, load_dir_names_the_missing_file)
{
	char err[512] = "";
	struct nn_mnist m;
	int rc = nn_mnist_load_dir(&m, tmp_dir, "train", err, sizeof(err));
	expect_error(rc, ERROR_IO, err, "train-images-idx3-ubyte", "cannot open", strerror(ENOENT));
	cr_assert_not_null(strstr(err, tmp_dir), "%s", err);
	expect_empty(&m);
}

/* ---- rejections, one per check ---- */

Test(nn_mnist, rejects_wrong_image_magic)
{
	struct bytes img = images_file(0x801, 3, 28, 28, 3 * 784),
	             lab = labels_file(0x801, 3, three_labels, 3);
	char ip[512], lp[512], err[512] = "";
	struct nn_mnist m;
	int rc = load_pair(&m, &img, &lab, ip, lp, err, sizeof(err));
	expect_error(rc, ERROR_FORMAT, err, ip, "not an idx3 image file", "magic 0x00000801");
	expect_empty(&m);
	free_bytes(&img);
	free_bytes(&lab);
}

Test(nn_mnist, rejects_wrong_label_magic)
{
	struct bytes img = good_images(3), lab = labels_file(0x803, 3, three_labels, 3);
	char ip[512], lp[512], err[512] = "";
	struct nn_mnist m;
	int rc = load_pair(&m, &img, &lab, ip, lp, err, sizeof(err));
	expect_error(rc, ERROR_FORMAT, err, lp, "not an idx1 label file", "magic 0x00000803");
	expect_empty(&m);
	free_bytes(&img);
	free_bytes(&lab);
}

Test(nn_mnist, rejects_swapped_files_and_gzip)
{
	struct bytes img = good_images(3), lab = labels_file(0x801, 3, three_labels, 3);
	char ip[512], lp[512], err[512] = "";
	struct nn_mnist m;
	write_file(ip, "img", &img);
	write_file(lp, "lab", &lab);
	int rc = nn_mnist_load(&m, lp, ip, err, sizeof(err));
	expect_error(rc, ERROR_FORMAT, err, lp, "not an idx3 image file", "label file");

	struct bytes gz = {0};
	put32(&gz, 0x1f8b0808);
	put32(&gz, 0);
	put32(&gz, 0);
	put32(&gz, 0);
	write_file(ip, "img.gz", &gz);
	rc = nn_mnist_load(&m, ip, lp, err, sizeof(err));
	expect_error(rc, ERROR_FORMAT, err, ip, "magic 0x1f8b0808", "gunzip");
	free_bytes(&img);
	free_bytes(&lab);
	free_bytes(&gz);
}

Test(nn_mnist, rejects_wrong_dimensions)
{
	static const uint32_t dims[][2] = {{32, 32}, {28, 27}, {0, 28}, {784, 1}, {1, 784}};
	struct bytes lab = labels_file(0x801, 3, three_labels, 3);
	for (size_t t = 0; t < sizeof(dims) / sizeof(dims[0]); t++) {
		uint32_t r = dims[t][0], c = dims[t][1];
		struct bytes img = images_file(0x803, 3, r, c, (size_t)3 * r * c);
		char ip[512], lp[512], err[512] = "", found[32];
		struct nn_mnist m;
		int rc = load_pair(&m, &img, &lab, ip, lp, err, sizeof(err));
		snprintf(found, sizeof(found), "%ux%u", r, c);
		expect_error(rc, ERROR_FORMAT, err, ip, found, "needs 28x28");
		expect_empty(&m);
		free_bytes(&img);
	}
	free_bytes(&lab);
}

Test(nn_mnist, rejects_truncated_images)
{
	struct bytes img = images_file(0x803, 3, 28, 28, 2 * 784 + 100),
	             lab = labels_file(0x801, 3, three_labels, 3);
	char ip[512], lp[512], err[512] = "";
	struct nn_mnist m;
	int rc = load_pair(&m, &img, &lab, ip, lp, err, sizeof(err));
	expect_error(rc, ERROR_FORMAT, err, ip,
	             "truncated: header says 3 images of 28x28 (2368 bytes)",
	             "the file has 1684 bytes");
	expect_empty(&m);
	free_bytes(&img);
	free_bytes(&lab);
}

Test(nn_mnist, rejects_truncated_labels)
{
	struct bytes img = good_images(3), lab = labels_file(0x801, 3, three_labels, 2);
	char ip[512], lp[512], err[512] = "";
	struct nn_mnist m;
	int rc = load_pair(&m, &img, &lab, ip, lp, err, sizeof(err));
	expect_error(rc, ERROR_FORMAT, err, lp, "truncated: header says 3 labels (11 bytes)",
	             "the file has 10 bytes");
	expect_empty(&m);
	free_bytes(&img);
	free_bytes(&lab);
}

Test(nn_mnist, rejects_truncated_headers)
{
	struct bytes img = good_images(3), lab = labels_file(0x801, 3, three_labels, 3);
	struct bytes short_img = {0}, short_lab = {0};
	put(&short_img, img.p, 10);
	put(&short_lab, lab.p, 6);
	char ip[512], lp[512], err[512] = "";
	struct nn_mnist m;
	int rc = load_pair(&m, &short_img, &lab, ip, lp, err, sizeof(err));
	expect_error(rc, ERROR_FORMAT, err, ip, "truncated header", "10 bytes");
	rc = load_pair(&m, &img, &short_lab, ip, lp, err, sizeof(err));
	expect_error(rc, ERROR_FORMAT, err, lp, "truncated header", "6 bytes");
	free_bytes(&img);
	free_bytes(&lab);
	free_bytes(&short_img);
	free_bytes(&short_lab);
}

Test(nn_mnist, rejects_trailing_bytes)
{
	struct bytes img = good_images(3), lab = labels_file(0x801, 3, three_labels, 3);
	char ip[512], lp[512], err[512] = "";
	struct nn_mnist m;
	put_str(&img, "xyz");
	int rc = load_pair(&m, &img, &lab, ip, lp, err, sizeof(err));
	expect_error(rc, ERROR_FORMAT, err, ip, "trailing", "2371 bytes (3 extra)");
	expect_empty(&m);

	img.n -= 3;
	put_str(&lab, "\n");
	rc = load_pair(&m, &img, &lab, ip, lp, err, sizeof(err));
	expect_error(rc, ERROR_FORMAT, err, lp, "trailing", "header says 3 labels (11 bytes)");
	expect_empty(&m);
	free_bytes(&img);
	free_bytes(&lab);
}

Test(nn_mnist, rejects_count_mismatch)
{
	struct bytes img = good_images(3), lab = labels_file(0x801, 2, three_labels, 2);
	char ip[512], lp[512], err[512] = "";
	struct nn_mnist m;
	int rc = load_pair(&m, &img, &lab, ip, lp, err, sizeof(err));
	expect_error(rc, ERROR_SHAPE, err, ip, "3 images", "2 labels");
	cr_assert_not_null(strstr(err, lp), "%s", err);
	expect_empty(&m);
	free_bytes(&img);
	free_bytes(&lab);
}

Test(nn_mnist, rejects_label_10_and_255)
{
	static const uint8_t bad[2][3] = {{5, 10, 1}, {0, 1, 255}};
	static const char *want[2] = {"label 10 at index 1", "label 255 at index 2"};
	struct bytes img = good_images(3);
	for (size_t t = 0; t < 2; t++) {
		struct bytes lab = labels_file(0x801, 3, bad[t], 3);
		char ip[512], lp[512], err[512] = "";
		struct nn_mnist m;
		int rc = load_pair(&m, &img, &lab, ip, lp, err, sizeof(err));
		expect_error(rc, ERROR_RANGE, err, lp, want[t], "0..9");
		expect_empty(&m);
		free_bytes(&lab);
	}
	free_bytes(&img);
}

Test(nn_mnist, rejects_zero_images_and_labels)
{
	struct bytes img = good_images(0), lab = labels_file(0x801, 0, NULL, 0);
	struct bytes img3 = good_images(3), lab3 = labels_file(0x801, 3, three_labels, 3);
	char ip[512], lp[512], err[512] = "";
	struct nn_mnist m;
	int rc = load_pair(&m, &img, &lab, ip, lp, err, sizeof(err));
	expect_error(rc, ERROR_FORMAT, err, ip, "no images", "n = 0");
	rc = load_pair(&m, &img3, &lab, ip, lp, err, sizeof(err));
	expect_error(rc, ERROR_FORMAT, err, lp, "no labels", "n = 0");
	expect_empty(&m);
	free_bytes(&img);
	free_bytes(&lab);
	free_bytes(&img3);
	free_bytes(&lab3);
}

/* Header counts that would need terabytes: rejected from the file size, before any
 * malloc (ASan would abort on such an allocation). */
Test(nn_mnist, rejects_huge_counts_before_malloc)
{
	struct bytes lab = labels_file(0x801, 3, three_labels, 3);
	struct bytes img = images_file(0x803, 0xffffffffu, 28, 28, 784);
	char ip[512], lp[512], err[512] = "";
	struct nn_mnist m;
	int rc = load_pair(&m, &img, &lab, ip, lp, err, sizeof(err));
	expect_error(rc, ERROR_FORMAT, err, ip, "truncated: header says 4294967295 images of 28x28",
	             "the file has 800 bytes");
	free_bytes(&img);

	/* n x rows x cols overflows 64 bits. */
	img = images_file(0x803, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0);
	rc = load_pair(&m, &img, &lab, ip, lp, err, sizeof(err));
	expect_error(rc, ERROR_FORMAT, err, ip, "overflow", "4294967295x4294967295");
	free_bytes(&img);

	struct bytes big_lab = labels_file(0x801, 0xfffffff0u, three_labels, 3);
	img = good_images(3);
	rc = load_pair(&m, &img, &big_lab, ip, lp, err, sizeof(err));
	expect_error(rc, ERROR_FORMAT, err, lp, "truncated: header says 4294967280 labels",
	             "11 bytes");
	expect_empty(&m);
	free_bytes(&img);
	free_bytes(&lab);
	free_bytes(&big_lab);
}

Test(nn_mnist, rejects_empty_files)
{
	struct bytes empty = {0}, img = good_images(3),
	             lab = labels_file(0x801, 3, three_labels, 3);
	char ip[512], lp[512], err[512] = "";
	struct nn_mnist m;
	int rc = load_pair(&m, &empty, &lab, ip, lp, err, sizeof(err));
	expect_error(rc, ERROR_FORMAT, err, ip, "empty file", "idx3");
	rc = load_pair(&m, &img, &empty, ip, lp, err, sizeof(err));
	expect_error(rc, ERROR_FORMAT, err, lp, "empty file", "idx1");
	expect_empty(&m);
	free_bytes(&img);
	free_bytes(&lab);
}

Test(nn_mnist, rejects_missing_files_and_directories)
{
	struct bytes img = good_images(3), lab = labels_file(0x801, 3, three_labels, 3);
	char ip[512], lp[512], missing[512], err[512] = "";
	struct nn_mnist m;
	write_file(ip, "img", &img);
	write_file(lp, "lab", &lab);
	snprintf(missing, sizeof(missing), "%s/no-such-file", tmp_dir);
	int rc = nn_mnist_load(&m, missing, lp, err, sizeof(err));
	expect_error(rc, ERROR_IO, err, missing, "cannot open", strerror(ENOENT));
	rc = nn_mnist_load(&m, ip, missing, err, sizeof(err));
	expect_error(rc, ERROR_IO, err, missing, "cannot open", strerror(ENOENT));
	rc = nn_mnist_load(&m, tmp_dir, lp, err, sizeof(err));
	expect_error(rc, ERROR_IO, err, tmp_dir, strerror(EISDIR), NULL);
	expect_empty(&m);

	/* The downloaded .gz next to the missing file earns a hint. */
	char gz[512];
	write_file(gz, "img2.gz", &img);
	snprintf(missing, sizeof(missing), "%s/img2", tmp_dir);
	rc = nn_mnist_load(&m, missing, lp, err, sizeof(err));
	expect_error(rc, ERROR_IO, err, missing, strerror(ENOENT), "gunzip");
	free_bytes(&img);
	free_bytes(&lab);
}

Test(nn_mnist, rejects_null_arguments_and_tolerates_no_err_buffer)
{
	struct bytes img = good_images(3), lab = labels_file(0x801, 2, three_labels, 2);
	char ip[512], lp[512], err[512] = "";
	struct nn_mnist m;
	uint8_t px[784];
	write_file(ip, "img", &img);
	write_file(lp, "lab", &lab);
	cr_assert_eq(nn_mnist_load(NULL, ip, lp, err, sizeof(err)), ERROR_INVAL);
	cr_assert_eq(nn_mnist_load(&m, NULL, lp, err, sizeof(err)), ERROR_INVAL);
	cr_assert_eq(nn_mnist_load(&m, ip, NULL, err, sizeof(err)), ERROR_INVAL);
	cr_assert_eq(nn_mnist_load_dir(&m, NULL, "train", err, sizeof(err)), ERROR_INVAL);
	cr_assert_eq(nn_mnist_load_dir(&m, "", "train", err, sizeof(err)), ERROR_INVAL);
	cr_assert_eq(nn_mnist_load_dir(&m, tmp_dir, NULL, err, sizeof(err)), ERROR_INVAL);
	cr_assert_eq(nn_mnist_load_image(NULL, ip, err, sizeof(err)), ERROR_INVAL);
	cr_assert_eq(nn_mnist_load_image(px, NULL, err, sizeof(err)), ERROR_INVAL);
	/* Count mismatch with no message buffer, and with a tiny one (truncated, terminated). */
	cr_assert_eq(nn_mnist_load(&m, ip, lp, NULL, 0), ERROR_SHAPE);
	cr_assert_eq(nn_mnist_load(&m, ip, lp, err, 1), ERROR_SHAPE);
	cr_assert_str_eq(err, "");
	cr_assert_eq(nn_mnist_load(&m, ip, lp, err, 8), ERROR_SHAPE);
	cr_assert_eq(strlen(err), 7);
	nn_mnist_finish(NULL);
	free_bytes(&img);
	free_bytes(&lab);
}

/* Every prefix of a good pair, and seeded random byte damage: never a crash; either a
 * load or an error with a message naming a file. */
Test(nn_mnist, survives_every_truncation_and_random_damage, .timeout = 60)
{
	struct bytes img = good_images(2), lab = labels_file(0x801, 2, three_labels, 2);
	char ip[512], lp[512], err[512];
	struct nn_mnist m;
	write_file(lp, "lab", &lab);
	for (size_t len = 0; len < img.n; len++) {
		struct bytes cut = {0};
		put(&cut, img.p, len);
		write_file(ip, "img", &cut);
		err[0] = 0;
		int rc = nn_mnist_load(&m, ip, lp, err, sizeof(err));
		cr_assert_eq(rc, ERROR_FORMAT, "length %zu: rc %d: %s", len, rc, err);
		cr_assert_not_null(strstr(err, ip), "length %zu: %s", len, err);
		free_bytes(&cut);
	}
	uint64_t seed = 0x6d6e697374ull;
	uint64_t s = seed;
	for (int t = 0; t < 2000; t++) {
		struct bytes a = {0}, b = {0};
		put(&a, img.p, img.n);
		put(&b, lab.p, lab.n);
		/* splitmix64 steps pick a file, a header byte (mostly) and a value. */
		s += 0x9e3779b97f4a7c15ull;
		uint64_t z = s;
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
		z ^= z >> 31;
		struct bytes *victim = z & 1 ? &a : &b;
		size_t at = (z >> 8) % (z & 2 ? 16 : victim->n);
		if (at >= victim->n)
			at = victim->n - 1;
		victim->p[at] = (uint8_t)(z >> 40);
		write_file(ip, "img", &a);
		write_file(lp, "lab", &b);
		err[0] = 0;
		int rc = nn_mnist_load(&m, ip, lp, err, sizeof(err));
		if (rc == 0) {
			cr_assert_eq(m.n, 2, "seed %llx trial %d", (unsigned long long)seed, t);
			nn_mnist_finish(&m);
		} else {
			cr_assert_lt(rc, 0, "seed %llx trial %d", (unsigned long long)seed, t);
			cr_assert_eq(strstr(err, ip) || strstr(err, lp), 1,
			             "seed %llx trial %d: %s", (unsigned long long)seed, t, err);
		}
		free_bytes(&a);
		free_bytes(&b);
	}
	free_bytes(&img);
	free_bytes(&lab);
}

/* ---- files without a size: a FIFO fed by a child process ---- */

static pid_t feed_fifo(char path[512], const char *name, const struct bytes *b)
{
	snprintf(path, 512, "%s/%s", tmp_dir, name);
	cr_assert_eq(mkfifo(path, 0600), 0, "mkfifo(%s): %s", path, strerror(errno));
	pid_t pid = fork();
	cr_assert_neq(pid, -1, "fork: %s", strerror(errno));
	if (pid == 0) {
		signal(SIGPIPE, SIG_IGN); /* the reader may stop early */
		FILE *f = fopen(path, "wb");
		if (f) {
			fwrite(b->p, 1, b->n, f);
			fclose(f);
		}
		_exit(0);
	}
	return pid;
}

/* The loader has returned: the child has nothing left to do, or is stuck on a FIFO
 * the loader never opened. */
static void reap(pid_t pid, char path[512])
{
	int status;
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	unlink(path);
}

Test(nn_mnist, reads_fifos_and_checks_them_too, .timeout = 20)
{
	struct bytes img = good_images(3), lab = labels_file(0x801, 3, three_labels, 3);
	char ip[512], lp[512], err[512] = "";
	struct nn_mnist m;
	write_file(lp, "lab", &lab);

	pid_t pid = feed_fifo(ip, "fifo", &img);
	int rc = nn_mnist_load(&m, ip, lp, err, sizeof(err));
	reap(pid, ip);
	cr_assert_eq(rc, 0, "%s", err);
	cr_assert_eq(m.pixels[3 * 784 - 1], pixel(3 * 784 - 1));
	nn_mnist_finish(&m);

	struct bytes cut = {0};
	put(&cut, img.p, img.n - 1);
	pid = feed_fifo(ip, "fifo", &cut);
	rc = nn_mnist_load(&m, ip, lp, err, sizeof(err));
	reap(pid, ip);
	expect_error(rc, ERROR_FORMAT, err, ip, "truncated", "the file has 2367 bytes");

	put_str(&img, "!");
	pid = feed_fifo(ip, "fifo", &img);
	rc = nn_mnist_load(&m, ip, lp, err, sizeof(err));
	reap(pid, ip);
	expect_error(rc, ERROR_FORMAT, err, ip, "trailing", "2368 bytes");

	/* A huge count on a pipe: the buffer only grows with the data. */
	struct bytes huge = images_file(0x803, 0xffffffffu, 28, 28, 784);
	struct bytes big_lab = labels_file(0x801, 0xffffffffu, three_labels, 3);
	char fifo_lab[512];
	pid = feed_fifo(ip, "fifo", &huge);
	pid_t pid_lab = feed_fifo(fifo_lab, "fifo-lab", &big_lab);
	rc = nn_mnist_load(&m, ip, fifo_lab, err, sizeof(err));
	reap(pid, ip);
	reap(pid_lab, fifo_lab);
	expect_error(rc, ERROR_FORMAT, err, ip, "truncated: header says 4294967295 images",
	             "the file has 800 bytes");
	expect_empty(&m);

	/* A single image through a pipe. */
	struct bytes raw = {0};
	for (size_t k = 0; k < 784; k++) {
		uint8_t v = (uint8_t)(255 - k);
		put(&raw, &v, 1);
	}
	uint8_t px[784];
	pid = feed_fifo(ip, "fifo", &raw);
	rc = nn_mnist_load_image(px, ip, err, sizeof(err));
	reap(pid, ip);
	cr_assert_eq(rc, 0, "%s", err);
	cr_assert_eq(px[10], 245);
	free_bytes(&img);
	free_bytes(&lab);
	free_bytes(&cut);
	free_bytes(&huge);
	free_bytes(&big_lab);
	free_bytes(&raw);
}

/* ---- single images ---- */

Test(nn_mnist, load_image_from_idx_takes_the_first)
{
	char p[512], err[512] = "";
	uint8_t px[784];
	for (uint32_t n = 1; n <= 3; n++) {
		struct bytes img = good_images(n);
		write_file(p, "one-idx", &img);
		cr_assert_eq(nn_mnist_load_image(px, p, err, sizeof(err)), 0, "n %u: %s", n, err);
		for (size_t k = 0; k < 784; k++)
			cr_assert_eq(px[k], pixel(k), "n %u pixel %zu", n, k);
		free_bytes(&img);
	}
	/* The same checks as the set loader. */
	struct bytes bad = images_file(0x803, 2, 28, 28, 784);
	write_file(p, "short-idx", &bad);
	int rc = nn_mnist_load_image(px, p, err, sizeof(err));
	expect_error(rc, ERROR_FORMAT, err, p, "truncated", "2 images of 28x28");
	free_bytes(&bad);
	bad = images_file(0x803, 1, 14, 56, 784);
	write_file(p, "wide-idx", &bad);
	rc = nn_mnist_load_image(px, p, err, sizeof(err));
	expect_error(rc, ERROR_FORMAT, err, p, "14x56", "28x28");
	free_bytes(&bad);
	bad = images_file(0x803, 0, 28, 28, 0);
	write_file(p, "zero-idx", &bad);
	rc = nn_mnist_load_image(px, p, err, sizeof(err));
	expect_error(rc, ERROR_FORMAT, err, p, "no images", NULL);
	free_bytes(&bad);
}

Test(nn_mnist, load_image_from_raw_784_bytes)
{
	struct bytes raw = {0};
	for (size_t k = 0; k < 784; k++) {
		uint8_t v = pixel(k * 3);
		put(&raw, &v, 1);
	}
	/* Starting with the idx3 magic or "P5" does not matter: 784 bytes is raw. */
	raw.p[0] = 0;
	raw.p[1] = 0;
	raw.p[2] = 8;
	raw.p[3] = 3;
	char p[512], err[512] = "";
	uint8_t px[784];
	write_file(p, "raw", &raw);
	cr_assert_eq(nn_mnist_load_image(px, p, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(memcmp(px, raw.p, 784), 0);
	raw.p[0] = 'P';
	raw.p[1] = '5';
	write_file(p, "raw", &raw);
	cr_assert_eq(nn_mnist_load_image(px, p, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(px[0], 'P');
	cr_assert_eq(px[783], raw.p[783]);

	/* 783 or 785 bytes of no known format. */
	raw.p[0] = 1;
	raw.n = 783;
	write_file(p, "raw783", &raw);
	int rc = nn_mnist_load_image(px, p, err, sizeof(err));
	expect_error(rc, ERROR_FORMAT, err, p, "not an idx3 file, a P5 PGM or a raw 784-byte image",
	             "783 bytes");
	raw.n = 784;
	put_str(&raw, "x");
	write_file(p, "raw785", &raw);
	rc = nn_mnist_load_image(px, p, err, sizeof(err));
	expect_error(rc, ERROR_FORMAT, err, p, "raw 784-byte", "785 bytes");
	free_bytes(&raw);
}

static struct bytes pgm(const char *header, size_t n_pixels)
{
	struct bytes b = {0};
	put_str(&b, header);
	for (size_t k = 0; k < n_pixels; k++) {
		uint8_t v = pixel(k + 5);
		put(&b, &v, 1);
	}
	return b;
}

Test(nn_mnist, load_image_from_pgm)
{
	static const char *good[] = {"P5\n28 28\n255\n", "P5 28 28 255 ",
	                             "P5\n# made by hand\n28 # width\n28\n# maxval next\n255\n"};
	char p[512], err[512] = "";
	uint8_t px[784];
	for (size_t t = 0; t < sizeof(good) / sizeof(good[0]); t++) {
		struct bytes b = pgm(good[t], 784);
		write_file(p, "img.pgm", &b);
		cr_assert_eq(nn_mnist_load_image(px, p, err, sizeof(err)), 0, "header %zu: %s", t,
		             err);
		for (size_t k = 0; k < 784; k++)
			cr_assert_eq(px[k], pixel(k + 5), "header %zu pixel %zu", t, k);
		free_bytes(&b);
	}
	/* The pixel right after the header may be whitespace-valued. */
	struct bytes b = pgm("P5\n28 28\n255\n", 784);
	b.p[13] = '\n';
	write_file(p, "img.pgm", &b);
	cr_assert_eq(nn_mnist_load_image(px, p, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(px[0], '\n');
	free_bytes(&b);
}

Test(nn_mnist, load_image_rejects_bad_pgm)
{
	static const struct {
		const char *header;
		size_t n_pixels;
		const char *w1, *w2;
	} bad[] = {
	    {"P5\n32 32\n255\n", 1024, "32x32", "28x28"},
	    {"P5\n28 28\n15\n", 784, "maxval is 15", "255"},
	    {"P5\n28 28\n65535\n", 1568, "maxval is 65535", NULL},
	    {"P5\n28 28\n255\n", 783, "truncated", "797 bytes"},
	    {"P5\n28 28\n255\n", 785, "trailing", NULL},
	    {"P5\n28\n", 0, "malformed PGM header", NULL},
	    {"P5\n28 x 255\n", 784, "malformed PGM header", NULL},
	    {"P5\n28 28\n255", 0, "malformed PGM header", NULL},
	    {"P5\n28 28 99999999999999999999\n", 784, "malformed PGM header", NULL},
	    {"P2\n28 28\n255\n", 784, "P2", "not supported"},
	};
	for (size_t t = 0; t < sizeof(bad) / sizeof(bad[0]); t++) {
		struct bytes b = pgm(bad[t].header, bad[t].n_pixels);
		char p[512], err[512] = "";
		uint8_t px[784];
		write_file(p, "bad.pgm", &b);
		int rc = nn_mnist_load_image(px, p, err, sizeof(err));
		cr_assert_eq(rc, ERROR_FORMAT, "case %zu: rc %d: %s", t, rc, err);
		expect_error(rc, ERROR_FORMAT, err, p, bad[t].w1, bad[t].w2);
		free_bytes(&b);
	}
}

Test(nn_mnist, load_image_rejects_empty_missing_and_labels)
{
	char p[512], err[512] = "";
	uint8_t px[784];
	struct bytes empty = {0}, lab = labels_file(0x801, 3, three_labels, 3);
	write_file(p, "empty", &empty);
	int rc = nn_mnist_load_image(px, p, err, sizeof(err));
	expect_error(rc, ERROR_FORMAT, err, p, "empty file", NULL);
	write_file(p, "lab", &lab);
	rc = nn_mnist_load_image(px, p, err, sizeof(err));
	expect_error(rc, ERROR_FORMAT, err, p, "idx1 label file", NULL);
	snprintf(p, sizeof(p), "%s/missing.pgm", tmp_dir);
	rc = nn_mnist_load_image(px, p, err, sizeof(err));
	expect_error(rc, ERROR_IO, err, p, "cannot open", strerror(ENOENT));
	free_bytes(&lab);
}

/* ---- the real data set, when scripts/setup has fetched it ---- */

static const char *real_dir(void)
{
	const char *dir = nn_mnist_default_dir();
	char p[512];
	snprintf(p, sizeof(p), "%s/train-labels-idx1-ubyte", dir);
	return access(p, R_OK) == 0 ? dir : NULL;
}

static void check_real(const char *which, size_t n, uint8_t first, const size_t counts[10])
{
	const char *dir = real_dir();
	if (!dir)
		cr_skip_test("no MNIST in %s (run scripts/setup or set SNN_DATA)",
		             nn_mnist_default_dir());
	char err[512] = "";
	struct nn_mnist m;
	cr_assert_eq(nn_mnist_load_dir(&m, dir, which, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(m.n, n, "%s: n = %zu", which, m.n);
	cr_assert_eq(m.rows, 28);
	cr_assert_eq(m.cols, 28);
	cr_assert_eq(m.labels[0], first, "%s: first label %u", which, m.labels[0]);
	size_t seen[10] = {0}, sum = 0;
	for (size_t i = 0; i < m.n; i++)
		seen[m.labels[i]]++;
	for (size_t c = 0; c < 10; c++) {
		cr_assert_eq(seen[c], counts[c], "%s: %zu images of digit %zu, want %zu", which,
		             seen[c], c, counts[c]);
		sum += seen[c];
	}
	cr_assert_eq(sum, n);
	/* Digits are drawn: the first image has ink, and the corner pixel is background. */
	unsigned long ink = 0;
	for (size_t k = 0; k < 784; k++)
		ink += m.pixels[k];
	cr_assert_gt(ink, 0);
	cr_assert_eq(m.pixels[0], 0);
	cr_assert_eq(m.pixels[(m.n - 1) * 784], 0);

	/* The single-image loader agrees on the idx file's first image. */
	uint8_t px[784];
	char p[512];
	snprintf(p, sizeof(p), "%s/%s-images-idx3-ubyte", dir,
	         !strcmp(which, "train") ? "train" : "t10k");
	cr_assert_eq(nn_mnist_load_image(px, p, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(memcmp(px, m.pixels, 784), 0);
	nn_mnist_finish(&m);
}

Test(nn_mnist, real_train_set_has_60000_images_first_label_5, .timeout = 60)
{
	static const size_t counts[10] = {5923, 6742, 5958, 6131, 5842,
	                                  5421, 5918, 6265, 5851, 5949};
	check_real("train", 60000, 5, counts);
}

Test(nn_mnist, real_t10k_set_has_10000_images_first_label_7, .timeout = 60)
{
	static const size_t counts[10] = {980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009};
	check_real("test", 10000, 7, counts);
}
