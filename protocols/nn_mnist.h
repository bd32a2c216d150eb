/* MNIST loaders: the idx files of LeCun et al. (and Fashion-MNIST, which uses
 * the same format), plus single images for inference.
 *
 * Plaintext input only: the data owner reads these files before sharing the
 * pixels among P0 and P1, so nothing here is secret or involves P2.
 *
 * idx format (all integers big-endian, 32 bits):
 *   images (idx3): magic 0x00000803, n, rows, cols, then n x rows x cols bytes
 *   labels (idx1): magic 0x00000801, n, then n bytes
 * This project fixes rows = cols = 28. Every header is checked against the
 * file's size before anything is allocated, so a damaged or hostile file
 * gives an error with a message, never a crash or a huge malloc.
 *
 * Error codes (messages are one line, "<file>: <problem>"):
 *   ERROR_INVAL  NULL argument, unknown `which`
 *   ERROR_IO     cannot open or read (the message carries strerror)
 *   ERROR_FORMAT wrong magic, dimensions, n = 0, truncated file, trailing
 *                bytes, header counts whose size overflows, bad PGM header
 *   ERROR_SHAPE  images and labels files hold different counts
 *   ERROR_RANGE  a label greater than 9
 *   ERROR_NOMEM  out of memory */
#ifndef SNN_PROTOCOLS_NN_MNIST_H
#define SNN_PROTOCOLS_NN_MNIST_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define NN_MNIST_ROWS    28
#define NN_MNIST_COLS    28
#define NN_MNIST_PIXELS  (NN_MNIST_ROWS * NN_MNIST_COLS) /* 784 bytes per image */
#define NN_MNIST_CLASSES 10                              /* labels are 0..9 */

struct nn_mnist {
	size_t n;          /* images */
	size_t rows, cols; /* 28 x 28 */
	uint8_t *pixels;   /* n x rows x cols, row-major, 0..255 */
	uint8_t *labels;   /* n, 0..9 */
};

/* Load images and labels; on error returns a negative code from sim/error.h and writes a
 * one-line message into err that names the file and the problem. On error *m is left
 * empty (all zero), so nn_mnist_finish is safe either way. err may be NULL. */
int nn_mnist_load(struct nn_mnist *m, const char *images_path, const char *labels_path, char *err,
                  size_t err_len) SNN_MUST_CHECK;

/* dir/train-images-idx3-ubyte and dir/train-labels-idx1-ubyte (which = "train"), or the
 * t10k-* pair (which = "t10k" or "test"). */
int nn_mnist_load_dir(struct nn_mnist *m, const char *dir, const char *which, char *err,
                      size_t err_len) SNN_MUST_CHECK;

/* Free what nn_mnist_load allocated and zero *m. */
void nn_mnist_finish(struct nn_mnist *m);

/* A single image from a file: idx3 with n = 1 (or more: take the first), or a raw 784-byte file,
 * or a PGM (P5, 28x28, maxval 255, nothing after the pixels). */
int nn_mnist_load_image(uint8_t pixels[784], const char *path, char *err,
                        size_t err_len) SNN_MUST_CHECK;

/* The MNIST directory: $SNN_DATA if set and not empty, else "data/mnist" (relative to the
 * repository root). */
const char *nn_mnist_default_dir(void);

#endif
