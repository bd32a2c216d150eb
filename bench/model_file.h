/* Model files: a trained network's parameters, as P0's share, P1's share or
 * in cleartext, with enough metadata to check that a file belongs to the
 * network, the precision and the training run it is used with.
 *
 * `snn train --save PREFIX` writes PREFIX.p0 (P0's shares) and PREFIX.p1
 * (P1's shares) after every epoch; P2 holds nothing. `--reveal FILE` writes
 * the cleartext model (kind "clear") in the same format. `snn infer` and
 * `snn train --resume` read them back.
 *
 * Format, version 2. All integers little-endian, offsets in bytes:
 *
 *   off  size      field
 *   0    8         magic "SNNMODEL" (no NUL)
 *   8    4         format version (uint32) = 2
 *   12   4         kind (uint32): 0 = share of P0, 1 = share of P1, 2 = cleartext
 *   16   4         fixed-point fractional bits (uint32), 1..40
 *   20   4         output gradient (uint32), enum nn_grad: 0 = paper (delta =
 *                  ASM - y), 1 = ce; part of the schedule (0 without one).
 *                  Version 1 files: reserved, 0
 *   24   8         epochs completed (uint64)
 *   32   8         training seed (uint64)
 *   40   8         pair id (uint64): random, the same in the .p0 and .p1 of one
 *                  training run, so halves of different runs are detected
 *   48   4         lr_log (uint32), 0..40: epoch 1's learning rate is 2^-lr_log
 *   52   4         n_decay (uint32), 0..16: entries of the decay list
 *   56   8         batch (uint64): examples per SGD step, a power of two up to
 *                  2^20; 0 when no training schedule is recorded (then lr_log
 *                  and n_decay are 0 too)
 *   64   4·16      decay list (uint32 each): epochs, increasing, each >= 2, at
 *                  whose start the learning rate halves; unused entries 0
 *   128  8         d = length of the network description (uint64), 1..65536
 *   136  d         the description in the text format of nn_net.h, as written
 *                  by nn_net_format (its first line "# network NAME" names it)
 *   then for every layer with parameters (fc, conv), in layer order:
 *        8         n_w = weight count (uint64), nn_layer_weights()
 *        8·n_w     weights (uint64 ring elements, fixed point; layout of nn_layers.h)
 *        8         n_b = bias count (uint64), nn_layer_biases()
 *        8·n_b     biases
 *   end  8         checksum: FNV-1a 64 of every byte before it (uint64)
 *
 * Version 1 (still read; written by earlier snn) is the same without bytes
 * 48..127: d at offset 48, the description at 56. It records no training
 * schedule (has_schedule 0).
 *
 * Shares are elements of Z_2^64: a share file alone is uniformly random and
 * says nothing about the model.
 *
 * Reading checks, in this order, and every message starts with the file name:
 * the magic ("not an snn model file"), a file shorter than its header or than
 * the size its header announces ("truncated"), the version ("unsupported
 * format version"), the checksum ("checksum mismatch"; flipping any byte
 * after the version is caught here), then the content (kind, frac bits,
 * schedule, description, counts: "malformed"). The expectations of the
 * caller come after: network, frac bits, kind, and for a pair the pair id
 * and epochs.
 *
 * Error codes: ERROR_IO (open, read, write, rename; with strerror),
 * ERROR_FORMAT (magic, truncated, checksum, malformed), ERROR_UNSUPPORTED
 * (version), ERROR_SHAPE (another network), ERROR_RANGE (other frac bits),
 * ERROR_INVAL (wrong kind, halves of different runs, NULL arguments, a
 * schedule to encode that breaks the limits above), ERROR_NOMEM. */
#ifndef SNN_BENCH_MODEL_FILE_H
#define SNN_BENCH_MODEL_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "nn_layers.h"

#define MODEL_FILE_MAGIC           "SNNMODEL"
#define MODEL_FILE_VERSION         2
#define MODEL_FILE_HEADER_BYTES    136                 /* up to the description (version 2) */
#define MODEL_FILE_V1_HEADER_BYTES 56                  /* the same in version 1 */
#define MODEL_FILE_DESC_MAX        (64 * 1024)         /* bytes of the description */
#define MODEL_FILE_DECAY_MAX       16                  /* entries of the decay list */
#define MODEL_FILE_LR_LOG_MAX      40                  /* learning rates down to 2^-40 */
#define MODEL_FILE_BATCH_MAX       ((uint64_t)1 << 20) /* examples per SGD step */

enum model_file_kind {
	MODEL_FILE_SHARE_P0 = 0, /* P0's additive shares */
	MODEL_FILE_SHARE_P1 = 1, /* P1's additive shares */
	MODEL_FILE_CLEAR = 2,    /* the cleartext model */
};

struct model_file_info {
	enum model_file_kind kind; /* whose values */
	unsigned frac_bits;        /* fixed-point fractional bits */
	uint64_t epochs;           /* training epochs completed */
	uint64_t seed;             /* seed of the training run */
	uint64_t pair_id;          /* identifies the training run's pair of share files */
	/* The training schedule (version 2; zero in version 1 files). */
	int has_schedule;                     /* 1: lr_log, batch and decay are recorded */
	unsigned lr_log;                      /* epoch 1's learning rate is 2^-lr_log */
	int grad;                             /* enum nn_grad: the output gradient */
	uint64_t batch;                       /* examples per SGD step */
	unsigned n_decay;                     /* entries in decay */
	uint32_t decay[MODEL_FILE_DECAY_MAX]; /* epochs at whose start the rate halves */
};

/* What a caller expects of a file; NULL net, -1 kind, 0 frac_bits: anything. */
struct model_file_want {
	const struct nn_net *net; /* network the model must be for */
	int params_only;          /* 1: compare input shape and parameter layers only (so
	                           * C-bench may run a model trained as C); 0: every layer */
	unsigned frac_bits;       /* 0: any */
	int kind;                 /* enum model_file_kind, or -1 */
};

/* "P0's shares", "P1's shares", "the cleartext model". */
const char *model_file_kind_name(enum model_file_kind kind);

/* Learning rate exponent of epoch e (1-based) under info's schedule:
 * lr_log plus the decay entries <= e. */
unsigned model_file_lr_log_at(const struct model_file_info *info, uint64_t epoch);

/* The schedule for messages, like snprintf: "lr 2^-5, batch 128", with
 * ", halved at epochs 5, 10" when it decays, or "no training schedule". */
void model_file_schedule_text(const struct model_file_info *info, char *buf, size_t len);

/* A short description of a network for messages: "784-128-128-10" for
 * networks of fc and relu layers only, else the layers in brief
 * ("28x28x1 conv5x20 relu pool2 ... fc10"). Truncated to len like snprintf. */
void model_file_net_summary(const struct nn_net *net, char *buf, size_t len);

/* 1 if the networks have the same input and layers (params_only: the same
 * sequence of parameter layers with the same shapes), 0 otherwise. Names,
 * line numbers and (params_only) the output layer are ignored. */
int model_file_net_equal(const struct nn_net *a, const struct nn_net *b, int params_only);

/* The file image of m with info in a new buffer (*buf, *len; free() it),
 * always in the current version; without info->has_schedule the schedule
 * fields are written as 0. */
int model_file_encode(uint8_t **buf, size_t *len, const struct model_file_info *info,
                      const struct nn_model *m) SNN_MUST_CHECK;

/* Parse a file image. On success m is initialised (nn_model_init with the
 * file's network; release with nn_model_finish) and info filled; on error m
 * is left empty (safe to finish) and err holds "<name>: <problem>". */
int model_file_decode(struct nn_model *m, struct model_file_info *info, const uint8_t *buf,
                      size_t len, const char *name, char *err, size_t err_len) SNN_MUST_CHECK;

/* Write atomically: path.tmp, flushed to disk, then renamed to path. */
int model_file_write(const char *path, const struct model_file_info *info, const struct nn_model *m,
                     char *err, size_t err_len) SNN_MUST_CHECK;

/* Read and decode a file (at most 2^34 bytes). */
int model_file_read(struct nn_model *m, struct model_file_info *info, const char *path, char *err,
                    size_t err_len) SNN_MUST_CHECK;

/* Check a decoded file against what the caller wants:
 * "model file x.p0 is for network 'A' (784-128-128-10), not 'C' (...)",
 * "model file x.p0 has 16 fractional bits, not 13", "model file x.p0 holds
 * P1's shares, expected P0's shares". */
int model_file_check(const char *path, const struct model_file_info *info, const struct nn_model *m,
                     const struct model_file_want *want, char *err, size_t err_len) SNN_MUST_CHECK;

/* The two share files of a training run: PREFIX.p0 and PREFIX.p1 are written
 * to PREFIX.p0.tmp and PREFIX.p1.tmp first, then both renamed, so a crash
 * leaves at worst one of them renamed; model_file_read_pair then takes the
 * other's .tmp, so at most the epoch being saved is lost. info->kind is
 * ignored (set per file). */
int model_file_write_pair(const char *prefix, const struct model_file_info *info,
                          const struct nn_model *s0, const struct nn_model *s1, char *err,
                          size_t err_len) SNN_MUST_CHECK;

/* Read PREFIX.p0 and PREFIX.p1, check each against want (kind is set per
 * file) and that they belong together: same pair id ("x.p0 and x.p1 are
 * from different training runs"), epochs, frac bits, seed, schedule and
 * network.
 * info gets the pair's metadata (kind MODEL_FILE_SHARE_P0). On error both
 * models are left empty. */
int model_file_read_pair(struct nn_model *s0, struct nn_model *s1, struct model_file_info *info,
                         const char *prefix, const struct model_file_want *want, char *err,
                         size_t err_len) SNN_MUST_CHECK;

/* FNV-1a 64 of n bytes (offset basis 0xcbf29ce484222325, prime 0x100000001b3). */
uint64_t model_file_fnv1a(const uint8_t *p, size_t n);

#endif
