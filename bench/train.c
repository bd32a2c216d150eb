#include "train.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "fixed.h"
#include "model_file.h"
#include "nn_float.h"
#include "nn_layers.h"
#include "nn_mnist.h"
#include "nn_net.h"
#include "nn_ops.h"
#include "nn_train.h"
#include "party.h"
#include "plot.h"
#include "prg.h"
#include "report.h"
#include "share.h"
#include "sim.h"

#define INFER_BATCH_DEFAULT 100 /* test-set inference batch (10000 = 100 x 100) */
#define BATCH_MAX           65536
#define LR_LOG_MAX          40   /* lr >= 2^-40 */
#define LOSS_CLAMP          1e-4 /* probabilities below count as this in the loss */
#define PATH_LEN            4096

/* ---- small helpers ---- */

static double now_s(void)
{
	return (double)party_mono_ns() / 1e9;
}

static void fmt_bytes(char *buf, size_t len, uint64_t b)
{
	if (b >= 1000000000ull)
		snprintf(buf, len, "%.2f GB", (double)b / 1e9);
	else if (b >= 1000000ull)
		snprintf(buf, len, "%.1f MB", (double)b / 1e6);
	else if (b >= 1000ull)
		snprintf(buf, len, "%.1f kB", (double)b / 1e3);
	else
		snprintf(buf, len, "%llu B", (unsigned long long)b);
}

static void fmt_duration(char *buf, size_t len, double s)
{
	if (!(s >= 0) || s > 1e7)
		snprintf(buf, len, "?");
	else if (s >= 3600)
		snprintf(buf, len, "%dh%02dm", (int)(s / 3600), (int)fmod(s / 60, 60));
	else if (s >= 60)
		snprintf(buf, len, "%dm%02ds", (int)(s / 60), (int)fmod(s, 60));
	else
		snprintf(buf, len, "%.1fs", s);
}

/* A 64-bit value from a seed and a label (the first 8 bytes of the derived key). */
static uint64_t derive_seed(uint64_t seed, const char *label)
{
	uint8_t key[PRG_KEY_BYTES];
	prg_derive_key(key, seed, label);
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = (v << 8) | key[i];
	return v;
}

static void prg_from(struct prg *g, uint64_t seed, const char *label)
{
	uint8_t key[PRG_KEY_BYTES];
	prg_derive_key(key, seed, label);
	prg_init(g, key);
}

/* A random identifier for a training run's pair of share files (not a
 * secret and not part of any computation, so not from the seeded streams). */
static uint64_t random_pair_id(void)
{
	uint64_t v = 0;
	int fd = open("/dev/urandom", O_RDONLY);
	if (fd >= 0) {
		if (read(fd, &v, sizeof(v)) != (ssize_t)sizeof(v))
			v = 0;
		close(fd);
	}
	if (!v) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		v = ((uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec) ^
		    ((uint64_t)getpid() * 0x9e3779b97f4a7c15ull);
	}
	return v ? v : 1;
}

static int is_pow2(uint64_t v)
{
	return v && (v & (v - 1)) == 0;
}

static unsigned log2_u64(uint64_t v)
{
	unsigned k = 0;
	while (v > 1) {
		v >>= 1;
		k++;
	}
	return k;
}

/* --lr: "2^-k" or a decimal power of two <= 1; *k = log2(1/lr). */
static int parse_lr(const char *cmd, const char *s, unsigned *k)
{
	if (strncmp(s, "2^", 2) == 0) {
		const char *e = s + 2;
		char *end;
		errno = 0;
		long v = strtol(e, &end, 10);
		if (*e && !errno && !*end && v <= 0 && v >= -LR_LOG_MAX && e[0] != '+' &&
		    e[0] != ' ') {
			*k = (unsigned)-v;
			return 0;
		}
	} else {
		char *end;
		errno = 0;
		double v = strtod(s, &end);
		int e;
		if (*s && !*end && !errno && isfinite(v) && v > 0 && v <= 1 &&
		    frexp(v, &e) == 0.5 && 1 - e <= LR_LOG_MAX) {
			*k = (unsigned)(1 - e);
			return 0;
		}
	}
	fprintf(stderr,
	        "snn %s: --lr: '%s' must be a power of two from 2^-%d to 1, written 2^-k or as a "
	        "decimal (0.0078125): SGD scales by truncation\n",
	        cmd, s, LR_LOG_MAX);
	return -1;
}

/* mkdir -p of the directory part of path. */
static int make_parent_dirs(const char *cmd, const char *path)
{
	char buf[PATH_LEN];
	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf)) {
		fprintf(stderr, "snn %s: path '%s' is too long\n", cmd, path);
		return -1;
	}
	char *slash = strrchr(buf, '/');
	if (!slash || slash == buf)
		return 0;
	*slash = '\0';
	for (char *p = buf + 1;; p++) {
		if (*p == '/' || *p == '\0') {
			char c = *p;
			*p = '\0';
			if (mkdir(buf, 0777) != 0 && errno != EEXIST) {
				fprintf(stderr, "snn %s: cannot create directory '%s': %s\n", cmd,
				        buf, strerror(errno));
				return -1;
			}
			*p = c;
			if (!c)
				break;
		}
	}
	struct stat st;
	if (stat(buf, &st) != 0 || !S_ISDIR(st.st_mode) || access(buf, W_OK) != 0) {
		fprintf(stderr, "snn %s: cannot write in directory '%s'\n", cmd, buf);
		return -1;
	}
	return 0;
}

/* ---- the data owner ---- */

/* A data set as the data owner holds it after sharing. */
struct owner_set {
	size_t n;        /* examples */
	size_t in;       /* values per example (784) */
	ring_t *x[2];    /* P0's and P1's shares of the images, n x in */
	ring_t *y[2];    /* shares of the one-hot labels, n x classes, or NULL */
	ring_t *x_clear; /* cleartext encoding (for the twin), n x in, or NULL */
	ring_t *y_clear; /* n x classes or NULL */
	uint8_t *labels; /* n cleartext labels, or NULL (images without labels) */
};

static void owner_set_finish(struct owner_set *s)
{
	for (int j = 0; j < 2; j++) {
		free(s->x[j]);
		free(s->y[j]);
	}
	free(s->x_clear);
	free(s->y_clear);
	free(s->labels);
	memset(s, 0, sizeof(*s));
}

/* Encode n images (and labels if given) and share them with owner.
 * with_y: also share one-hot labels; keep_clear: keep the encoding; owner
 * NULL: no shares, only the encoding (the cleartext twin alone). */
static int owner_share(struct owner_set *s, const uint8_t *pixels, const uint8_t *labels, size_t n,
                       unsigned frac, struct prg *owner, int with_y, int keep_clear)
{
	const size_t in = NN_MNIST_PIXELS, K = NN_MNIST_CLASSES;
	memset(s, 0, sizeof(*s));
	s->n = n;
	s->in = in;
	ring_t enc[256];
	for (unsigned p = 0; p < 256; p++) /* round(p / 255 · 2^frac) */
		enc[p] = (((ring_t)p << (frac + 1)) + 255) / 510;
	ring_t one = (ring_t)1 << frac;
	ring_t img[NN_MNIST_PIXELS], hot[NN_MNIST_CLASSES];
	for (int j = 0; j < 2 && owner; j++) {
		s->x[j] = malloc(n * in * sizeof(ring_t));
		if (with_y)
			s->y[j] = malloc(n * K * sizeof(ring_t));
		if (!s->x[j] || (with_y && !s->y[j]))
			goto oom;
	}
	if (keep_clear) {
		s->x_clear = malloc(n * in * sizeof(ring_t));
		s->y_clear = malloc(n * K * sizeof(ring_t));
		if (!s->x_clear || !s->y_clear)
			goto oom;
	}
	if (labels) {
		if (!(s->labels = malloc(n)))
			goto oom;
		memcpy(s->labels, labels, n);
	}
	/* Images first, then labels: one owner stream, in this order. */
	for (size_t i = 0; i < n; i++) {
		ring_t *e = keep_clear ? s->x_clear + i * in : img;
		for (size_t k = 0; k < in; k++)
			e[k] = enc[pixels[i * in + k]];
		if (owner)
			share_split(owner, s->x[0] + i * in, s->x[1] + i * in, e, in);
	}
	if (with_y)
		for (size_t i = 0; i < n; i++) {
			ring_t *e = keep_clear ? s->y_clear + i * K : hot;
			for (size_t k = 0; k < K; k++)
				e[k] = k == labels[i] ? one : 0;
			if (owner)
				share_split(owner, s->y[0] + i * K, s->y[1] + i * K, e, K);
		}
	return 0;
oom:
	owner_set_finish(s);
	return ERROR_NOMEM;
}

/* A data set for the float reference: pixel/255 and one-hot labels. */
struct float_set {
	size_t n;        /* examples */
	float *x;        /* n x 784 */
	float *y;        /* n x classes, or NULL */
	uint8_t *labels; /* n cleartext labels */
};

static void float_set_finish(struct float_set *s)
{
	free(s->x);
	free(s->y);
	free(s->labels);
	memset(s, 0, sizeof(*s));
}

static int float_set_init(struct float_set *s, const uint8_t *pixels, const uint8_t *labels,
                          size_t n, int with_y)
{
	const size_t in = NN_MNIST_PIXELS, K = NN_MNIST_CLASSES;
	memset(s, 0, sizeof(*s));
	s->n = n;
	s->x = malloc(n * in * sizeof(float));
	s->labels = malloc(n ? n : 1);
	if (with_y)
		s->y = calloc(n * K, sizeof(float));
	if (!s->x || !s->labels || (with_y && !s->y)) {
		float_set_finish(s);
		return ERROR_NOMEM;
	}
	for (size_t i = 0; i < n * in; i++)
		s->x[i] = (float)pixels[i] / 255.0f;
	memcpy(s->labels, labels, n);
	for (size_t i = 0; i < n && with_y; i++)
		s->y[i * K + labels[i]] = 1.0f;
	return 0;
}

/* ---- progress: the data owner combines P0's and P1's output shares ---- */

/* One iteration's output shares, until both P0's and P1's are in. */
struct progress_slot {
	size_t iter;      /* iteration held, SIZE_MAX: none */
	unsigned arrived; /* bit j: P_j's share is in */
	ring_t *share[2]; /* cap values per party */
};

struct progress {
	pthread_mutex_t lock;  /* P0 and P1 call the hook: guards the whole struct */
	int train;             /* 1: ASM outputs (batch x classes); 0: class shares (batch) */
	size_t batch;          /* examples per iteration */
	size_t classes;        /* K */
	size_t n_iter;         /* iterations of the run */
	unsigned frac;         /* fractional bits of the ASM outputs */
	const uint32_t *order; /* n_iter·batch example indices */
	const uint8_t *labels; /* cleartext labels of the data set, or NULL */
	int tty;               /* stderr is a terminal: one line redrawn */
	int quiet;             /* no progress output */
	char what[64];         /* "epoch 2/15" */
	double start_s;        /* monotonic start of the run */
	struct progress_slot slot[2]; /* iterations i and i+1 may overlap */
	size_t cap;                   /* values a slot holds */
	double *prob;                 /* training: one batch's ASM outputs in real values */
	/* totals, written by the second party of each iteration */
	size_t iters_done;  /* iterations combined */
	double loss_sum;    /* Σ batch mean cross-entropy */
	size_t correct;     /* examples classified right */
	size_t seen;        /* examples scored */
	int last_tenth;     /* plain output: tenths of the run printed */
	double last_draw_s; /* terminal: time of the last redraw */
	int drawn;          /* terminal: a progress line is on screen */
};

static int progress_init(struct progress *pr, int train, size_t batch, size_t classes,
                         size_t n_iter, unsigned frac, const uint32_t *order, const uint8_t *labels,
                         const char *what, int quiet)
{
	memset(pr, 0, sizeof(*pr));
	pr->train = train;
	pr->batch = batch;
	pr->classes = classes;
	pr->n_iter = n_iter;
	pr->frac = frac;
	pr->order = order;
	pr->labels = labels;
	pr->tty = isatty(STDERR_FILENO);
	pr->quiet = quiet;
	snprintf(pr->what, sizeof(pr->what), "%s", what);
	pr->cap = train ? batch * classes : batch;
	for (int s = 0; s < 2; s++) {
		pr->slot[s].iter = SIZE_MAX;
		for (int j = 0; j < 2; j++)
			if (!(pr->slot[s].share[j] = calloc(pr->cap, sizeof(ring_t))))
				goto oom;
	}
	if (!(pr->prob = calloc(pr->cap, sizeof(double))))
		goto oom;
	if (pthread_mutex_init(&pr->lock, NULL) != 0)
		goto oom;
	pr->start_s = now_s();
	return 0;
oom:
	for (int s = 0; s < 2; s++)
		for (int j = 0; j < 2; j++)
			free(pr->slot[s].share[j]);
	free(pr->prob);
	return ERROR_NOMEM;
}

static void progress_finish(struct progress *pr)
{
	if (pr->drawn)
		fprintf(stderr, "\r\033[K");
	pthread_mutex_destroy(&pr->lock);
	for (int s = 0; s < 2; s++)
		for (int j = 0; j < 2; j++)
			free(pr->slot[s].share[j]);
	free(pr->prob);
}

/* Score training iteration iter from its ASM outputs in pr->prob (lock held). */
static void score_train(struct progress *pr, size_t iter)
{
	size_t B = pr->batch, K = pr->classes;
	double loss = 0;
	for (size_t b = 0; b < B; b++) {
		int label = pr->labels ? pr->labels[pr->order[iter * B + b]] : -1;
		size_t best = 0;
		double pbest = -1e300, ptrue = 0;
		for (size_t k = 0; k < K; k++) {
			double p = pr->prob[b * K + k];
			if (p > pbest) {
				pbest = p;
				best = k;
			}
			if ((int)k == label)
				ptrue = p;
		}
		loss += -log(ptrue > LOSS_CLAMP ? ptrue : LOSS_CLAMP);
		pr->correct += (int)best == label;
	}
	pr->loss_sum += loss / (double)B;
	pr->seen += B;
	pr->iters_done++;
}

/* Score iteration iter from the two shares (lock held). */
static void combine(struct progress *pr, size_t iter, ring_t *const share[2])
{
	size_t B = pr->batch;
	if (pr->train) {
		for (size_t k = 0; k < B * pr->classes; k++)
			pr->prob[k] = fixed_decode(share[0][k] + share[1][k], pr->frac);
		score_train(pr, iter);
		return;
	}
	for (size_t b = 0; b < B; b++) {
		int label = pr->labels ? pr->labels[pr->order[iter * B + b]] : -1;
		ring_t cls = share[0][b] + share[1][b];
		pr->correct += label >= 0 && cls == (ring_t)label;
	}
	pr->seen += B;
	pr->iters_done++;
}

static void show(struct progress *pr)
{
	if (pr->quiet)
		return;
	double t = now_s(), el = t - pr->start_s;
	size_t done = pr->iters_done;
	int last = done == pr->n_iter;
	if (pr->tty && !last && t - pr->last_draw_s < 0.2)
		return;
	int tenth = (int)(done * 10 / (pr->n_iter ? pr->n_iter : 1));
	if (!pr->tty && tenth <= pr->last_tenth)
		return;
	pr->last_tenth = tenth;
	pr->last_draw_s = t;
	double rate = el > 0 ? (double)(done * pr->batch) / el : 0;
	char eta[32], elapsed[32];
	fmt_duration(eta, sizeof(eta), done ? el / (double)done * (double)(pr->n_iter - done) : -1);
	fmt_duration(elapsed, sizeof(elapsed), el);
	char score[96];
	double acc = pr->seen ? (double)pr->correct / (double)pr->seen : 0;
	if (pr->train)
		snprintf(score, sizeof(score), "loss %.4f  acc %.4f",
		         done ? pr->loss_sum / (double)done : 0.0, acc);
	else if (pr->labels)
		snprintf(score, sizeof(score), "acc %.4f", acc);
	else
		score[0] = '\0';
	fprintf(stderr, "%s%s  %zu/%zu  %s  %.0f img/s  wall %s  ETA %s%s", pr->tty ? "\r" : "",
	        pr->what, done, pr->n_iter, score, rate, elapsed, eta, pr->tty ? "\033[K" : "\n");
	fflush(stderr);
	pr->drawn = pr->tty;
}

/* struct nn_job.progress: runs on P0's and P1's threads, or with party -1
 * on the cleartext twin's (the values themselves). */
static void progress_hook(void *ctx, int party, size_t iter, const ring_t *out_share, size_t n)
{
	struct progress *pr = ctx;
	if (party < -1 || party > 1)
		return;
	pthread_mutex_lock(&pr->lock);
	if (party < 0) {
		struct progress_slot *s = &pr->slot[0];
		memcpy(s->share[0], out_share, (n < pr->cap ? n : pr->cap) * sizeof(ring_t));
		memset(s->share[1], 0, pr->cap * sizeof(ring_t));
		combine(pr, iter, s->share);
		show(pr);
		pthread_mutex_unlock(&pr->lock);
		return;
	}
	struct progress_slot *s = &pr->slot[iter & 1];
	if (s->iter != iter) {
		s->iter = iter;
		s->arrived = 0;
	}
	memcpy(s->share[party], out_share, (n < pr->cap ? n : pr->cap) * sizeof(ring_t));
	s->arrived |= 1u << party;
	if (s->arrived == 3) {
		combine(pr, iter, s->share);
		s->iter = SIZE_MAX;
		s->arrived = 0;
		show(pr);
	}
	pthread_mutex_unlock(&pr->lock);
}

/* The float reference's ASM outputs of iteration iter (batch x classes). */
static void progress_float(struct progress *pr, size_t iter, const float *prob)
{
	pthread_mutex_lock(&pr->lock);
	for (size_t k = 0; k < pr->cap; k++)
		pr->prob[k] = (double)prob[k];
	score_train(pr, iter);
	show(pr);
	pthread_mutex_unlock(&pr->lock);
}

/* ---- runs ---- */

struct run_cost {
	double wall_s;             /* wall time of the run */
	double sim_s;              /* simulated time */
	uint64_t bytes;            /* sent by all parties */
	double cpu_s[PARTY_COUNT]; /* per-party CPU time */
};

static void cost_from(struct run_cost *c, const struct sim_result *res)
{
	c->wall_s = (double)res->wall_ns / 1e9;
	c->sim_s = (double)res->sim_ns / 1e9;
	c->bytes = sim_result_bytes(res);
	for (int j = 0; j < PARTY_COUNT; j++)
		c->cpu_s[j] = (double)res->party[j].cpu_ns / 1e9;
}

static void cost_add(struct run_cost *sum, const struct run_cost *c)
{
	sum->wall_s += c->wall_s;
	sum->sim_s += c->sim_s;
	sum->bytes += c->bytes;
	for (int j = 0; j < PARTY_COUNT; j++)
		sum->cpu_s[j] += c->cpu_s[j];
}

/* The job of party j on data set d (P2 sees sizes only). */
static void job_for(struct nn_job *job, int j, struct nn_model *model, const struct owner_set *d,
                    const uint32_t *order, size_t n_iter, size_t batch, unsigned frac)
{
	memset(job, 0, sizeof(*job));
	job->model = model;
	job->data.n = d->n;
	job->data.in = d->in;
	job->data.classes = NN_MNIST_CLASSES;
	job->data.x = j < 2 ? d->x[j] : NULL;
	job->data.y = j < 2 ? d->y[j] : NULL;
	job->order = order;
	job->n_iter = n_iter;
	job->batch = batch;
	job->frac = frac;
}

/* Secure inference of the first n examples of d (n a multiple of batch):
 * pred gets the classes (0..9, or 255 for an out-of-range reconstruction). */
static int run_infer(const char *cmd, const struct cli_run *run, uint64_t sim_seed,
                     struct nn_model *const models[PARTY_COUNT], const struct owner_set *d,
                     size_t n, size_t batch, unsigned frac, const char *what, int quiet,
                     uint8_t *pred, struct run_cost *cost)
{
	size_t n_iter = n / batch;
	uint32_t *order = malloc(n * sizeof(uint32_t));
	ring_t *out[PARTY_COUNT] = {NULL, NULL, NULL};
	struct progress pr;
	int progress_ok = 0, rc = ERROR_NOMEM;
	if (!order)
		goto out;
	for (size_t i = 0; i < n; i++)
		order[i] = (uint32_t)i;
	for (int j = 0; j < PARTY_COUNT; j++)
		if (!(out[j] = calloc(n, sizeof(ring_t))))
			goto out;
	if (progress_init(&pr, 0, batch, NN_MNIST_CLASSES, n_iter, frac, order, d->labels, what,
	                  quiet) < 0)
		goto out;
	progress_ok = 1;
	struct nn_job jobs[PARTY_COUNT];
	void *args[PARTY_COUNT];
	for (int j = 0; j < PARTY_COUNT; j++) {
		job_for(&jobs[j], j, models[j], d, order, n_iter, batch, frac);
		jobs[j].data.y = NULL;
		jobs[j].train = 0;
		jobs[j].out = out[j];
		jobs[j].progress = progress_hook;
		jobs[j].progress_ctx = &pr;
		args[j] = &jobs[j];
	}
	struct sim_config cfg = run->cfg;
	cfg.seed = sim_seed;
	struct sim_result res;
	rc = sim_run(&cfg, nn_job_party_fn, args, &res);
	progress_finish(&pr);
	progress_ok = 0;
	if (rc < 0) {
		fprintf(stderr, "snn %s: %s: %s\n", cmd, what,
		        res.message[0] ? res.message : error_strerror(rc));
		sim_result_finish(&res);
		goto out;
	}
	cost_from(cost, &res);
	sim_result_finish(&res);
	for (size_t i = 0; i < n; i++) {
		ring_t c = out[0][i] + out[1][i];
		pred[i] = c < NN_MNIST_CLASSES ? (uint8_t)c : 255;
	}
	rc = 0;
out:
	if (rc == ERROR_NOMEM)
		fprintf(stderr, "snn %s: out of memory\n", cmd);
	if (progress_ok)
		progress_finish(&pr);
	for (int j = 0; j < PARTY_COUNT; j++)
		free(out[j]);
	free(order);
	return rc;
}

/* Copy the parameters of src into dst (initialised for another network with
 * the same parameter layers, model_file_net_equal(.., 1)). */
static void copy_params(struct nn_model *dst, const struct nn_model *src)
{
	size_t j = 0;
	for (size_t i = 0; i < dst->net.n_layers; i++) {
		const struct nn_layer *l = &dst->net.layer[i];
		size_t nw = nn_layer_weights(l);
		if (!nw)
			continue;
		while (j < src->net.n_layers && !nn_layer_weights(&src->net.layer[j]))
			j++;
		memcpy(dst->w[i], src->w[j], nw * sizeof(ring_t));
		memcpy(dst->b[i], src->b[j], nn_layer_biases(l) * sizeof(ring_t));
		j++;
	}
}

/* The network to run: built-in name or description file, checked against MNIST. */
static int load_net(const char *cmd, struct nn_net *net, const char *name)
{
	char err[512];
	if (nn_net_load(net, name, err, sizeof(err)) < 0) {
		fprintf(stderr, "snn %s: --net: %s\n", cmd, err);
		return -1;
	}
	if (net->in_h != NN_MNIST_ROWS || net->in_w != NN_MNIST_COLS || net->in_c != 1 ||
	    nn_net_classes(net) != NN_MNIST_CLASSES) {
		fprintf(
		    stderr,
		    "snn %s: --net %s takes %zux%zux%zu inputs and has %zu classes; MNIST needs "
		    "28x28x1 and 10\n",
		    cmd, name, net->in_h, net->in_w, net->in_c, nn_net_classes(net));
		return -1;
	}
	return 0;
}

/* ---- snn train ---- */

/* A revealed weight above this (in real value) comes from a failed share
 * truncation: with inputs in [0, 1] and He initialisation trained weights stay
 * in single digits, while a failure lands 2^64 / 2^(f + shift) (about 2^26 in
 * an SGD step) or, through an activation or gradient, hundreds to thousands
 * (seen: 2950 in network A, lr 2^-5, epoch 5, where the cleartext twin stayed
 * within 1 of its previous epoch). */
#define TRUNCATION_FAILURE_LIMIT 256.0
#define MAX_ATTEMPTS 5
/* --shadow: the probe batch (the first training images), and when a layer is
 * flagged: its secure activations differ from the cleartext ones computed
 * with the same weights by more than SHADOW_ALARM + SHADOW_ALARM_REL times
 * their largest magnitude. The protocols' own error is a few ulps per
 * truncation, carried through the weights (0.1-1.5 seen at activations of
 * 1e6 in network A); a failed truncation is off by 2^(64 - 2f) in real
 * units (2^38 at 13 bits), an overflow by anything. */
#define PROBE_BATCH      128
#define SHADOW_ALARM     1.0
#define SHADOW_ALARM_REL (1.0 / 1024)

enum train_mode {
	MODE_SECURE = 0, /* the three parties (and the twin with --shadow) */
	MODE_FIXED = 1,  /* the cleartext fixed-point twin alone */
	MODE_FLOAT = 2,  /* the float reference alone */
};

static const char *const mode_names[] = {"secure", "fixed", "float", NULL};

static void model_copy(struct nn_model *dst, const struct nn_model *src)
{
	for (size_t i = 0; i < src->net.n_layers; i++) {
		if (!src->w[i])
			continue;
		memcpy(dst->w[i], src->w[i], nn_layer_weights(&src->net.layer[i]) * sizeof(ring_t));
		memcpy(dst->b[i], src->b[i], nn_layer_biases(&src->net.layer[i]) * sizeof(ring_t));
	}
}

/* Largest |parameter| of the model the shares s0, s1 reveal (real value). */
static double model_max_abs(struct nn_model *plain, const struct nn_model *s0,
                            const struct nn_model *s1, unsigned frac)
{
	nn_model_reveal(plain, s0, s1);
	double m = 0;
	for (size_t i = 0; i < plain->net.n_layers; i++) {
		if (!plain->w[i])
			continue;
		size_t nw = nn_layer_weights(&plain->net.layer[i]), nb = nn_layer_biases(&plain->net.layer[i]);
		for (size_t k = 0; k < nw + nb; k++) {
			double v = fabs(fixed_decode(k < nw ? plain->w[i][k] : plain->b[i][k - nw], frac));
			if (v > m)
				m = v;
		}
	}
	return m;
}

/* --shadow, one layer as the passes run it (nn_work.net). */
struct shadow_layer {
	char text[48];   /* the layer ("fc 128", "maxpool 2") */
	double act_max;  /* probe outputs: max |cleartext with the secure weights| (real) */
	double act_twin; /* max |secure - twin| (real) */
	double act_same; /* max |secure - cleartext with the secure weights| (real) */
	int has_params;  /* fc or conv: dw, db are set */
	uint64_t dw, db; /* weights, biases: max |secure - twin| in ulps */
};

struct epoch_result {
	unsigned epoch;        /* 1-based */
	unsigned lr_log;       /* the epoch's learning rate is 2^-lr_log */
	unsigned retries;      /* epochs replayed after a truncation failure */
	double loss;           /* mean over the epoch's batches */
	double train_accuracy; /* on the training batches, while training */
	double test_accuracy;  /* -1: not measured */
	struct run_cost train; /* the training run (cleartext modes: wall, cpu_s[0]) */
	struct run_cost test;  /* the test-set inference */
	size_t n_shadow;       /* entries in shadow (0: no --shadow) */
	struct shadow_layer *shadow; /* --shadow: per layer */
};

struct train_opts {
	const char *net_name; /* --net */
	const char *data_dir; /* --data */
	const char *save;     /* --save PREFIX */
	const char *resume;   /* --resume PREFIX */
	const char *reveal;   /* --reveal FILE */
	const char *curve;    /* --curve FILE or "none"; NULL: the default */
	int mode;             /* enum train_mode */
	uint64_t epochs;      /* total epochs */
	uint64_t batch;       /* power of two */
	int have_batch;       /* --batch given */
	unsigned lr_log;      /* lr = 2^-lr_log (epoch 1) */
	int have_lr;          /* --lr given */
	uint32_t decay[MODEL_FILE_DECAY_MAX]; /* --lr-decay: epochs that halve the rate */
	unsigned n_decay;     /* entries in decay */
	int have_decay;       /* --lr-decay given */
	int change_lr;        /* --change-lr */
	int grad;             /* --grad: enum nn_grad */
	int have_grad;        /* --grad given */
	uint64_t frac;        /* --frac-bits */
	uint64_t train_limit; /* training images used */
	uint64_t test_limit;  /* test images used; 0: no test */
	int shadow;           /* --shadow */
	int json;             /* --json */
	int quiet;            /* --quiet: no progress */
	int seed_given;       /* --seed on the command line */
};

static void train_usage(FILE *out)
{
	fprintf(
	    out,
	    "usage: snn train --net A|B|C|D|FILE [options]\n\n"
	    "Trains the network on MNIST inside the three-party simulation: this process is\n"
	    "the data owner and secret-shares images, labels and initial weights between P0\n"
	    "and P1; every epoch is one run of the three parties, followed by a secure\n"
	    "inference on the test set and a checkpoint of P0's and P1's shares.\n"
	    "--mode fixed and --mode float train the same network from the same initial\n"
	    "weights in the same order without the parties, in minutes, to find recipes.\n\n"
	    "options:\n"
	    "  --net NAME|FILE    network: A, B, C, D (or the -bench variants), or a\n"
	    "                     description file (see nn_net.h)\n"
	    "  --mode M           secure (default): the three parties; fixed: only the\n"
	    "                     cleartext fixed-point twin (the same arithmetic; its\n"
	    "                     truncations round at random without bias, as the\n"
	    "                     parties' do, from a stream of their own);\n"
	    "                     float: only the float reference (OpenBLAS).\n"
	    "                     fixed and float write no checkpoints (no --save, --resume,\n"
	    "                     --shadow); --reveal writes their final model\n"
	    "  --epochs N         total epochs, counting those of --resume (default 1)\n"
	    "  --batch B          examples per SGD step, a power of two (default 128)\n"
	    "  --lr R             learning rate of epoch 1, 2^-k, as 2^-7 or 0.0078125\n"
	    "                     (default 2^-7 for A, 2^-5 otherwise, as in the paper)\n"
	    "  --lr-decay E,...   halve the learning rate at the start of each epoch E\n"
	    "                     (increasing, from 2; at most 16), e.g. 5,10; none: never\n"
	    "  --grad G           the output layer's gradient: paper (default: delta =\n"
	    "                     ASM(u) - y, section 3.12; trains A, but C collapses) or\n"
	    "                     ce (the gradient of ASM's own cross-entropy times the\n"
	    "                     score sum, clipped: trains C; one more Division of B\n"
	    "                     values per step) or ce-ry (that gradient times the\n"
	    "                     true class's score: bounded like softmax's, takes a\n"
	    "                     larger --lr; two more products per step)\n"
	    "  --frac-bits F      fixed-point fractional bits (default 13)\n"
	    "  --data DIR         MNIST idx files (default $SNN_DATA or data/mnist)\n"
	    "  --train-limit N    use the first N training images (default all 60000)\n"
	    "  --test-limit N     test on the first N test images, 0 for none (default all);\n"
	    "                     rounded down to a multiple of the inference batch (100)\n"
	    "  --save PREFIX      checkpoint to PREFIX.p0 and PREFIX.p1 after every epoch,\n"
	    "                     replacing them (default: the --resume prefix, else\n"
	    "                     results/ckpt/<net>); they record the learning rate, its\n"
	    "                     decay and the batch size\n"
	    "  --resume PREFIX    continue the run saved in PREFIX.p0, PREFIX.p1 (same\n"
	    "                     network, frac bits and seed) up to --epochs in all, with\n"
	    "                     the stored learning rate, decay and batch size; giving\n"
	    "                     other ones is an error (files of snn before format 2 store\n"
	    "                     none: then --lr and --batch as in the first run)\n"
	    "  --change-lr        with --resume: train on with the --lr, --lr-decay and\n"
	    "                     --batch given instead of the stored ones (and store them)\n"
	    "  --reveal FILE      at the end, write the cleartext model to FILE\n"
	    "  --curve FILE|none  after every epoch, write the training curve (a TSV row per\n"
	    "                     epoch: epoch loss train_acc test_acc wall_s sim_s lr ...)\n"
	    "                     to FILE and, with gnuplot, its figure to FILE without .tsv\n"
	    "                     plus .png and .svg (default: the checkpoint prefix + .tsv;\n"
	    "                     --mode fixed, float: results/ckpt/<net>-<mode>.tsv); with\n"
	    "                     --resume it keeps the rows up to the checkpoint's epoch\n"
	    "  --shadow           also train the cleartext fixed-point twin on the same data;\n"
	    "                     after every epoch print per layer how far the secure\n"
	    "                     weights are from it, and how far the revealed activations\n"
	    "                     of a probe batch (the first 128 training images) are from\n"
	    "                     the twin's and from cleartext ones with the secure weights\n"
	    "                     (a truncation failure or an overflow is flagged there)\n"
	    "  --quiet            no progress output on stderr\n"
	    "  --json             last line: one JSON object with the results\n");
	cli_print_run_flags(out);
}

/* --lr-decay: "none" or increasing epochs from 2, comma-separated. */
static int parse_decay(struct train_opts *o, const char *s)
{
	o->n_decay = 0;
	o->have_decay = 1;
	if (strcmp(s, "none") == 0)
		return 0;
	const char *p = s;
	for (;;) {
		char *end;
		errno = 0;
		unsigned long v = *p >= '0' && *p <= '9' ? strtoul(p, &end, 10) : 0;
		if (!v || errno || (*end != ',' && *end) || v < 2 || v > 100000 ||
		    (o->n_decay && v <= o->decay[o->n_decay - 1]) ||
		    o->n_decay == MODEL_FILE_DECAY_MAX) {
			fprintf(stderr,
			        "snn train: --lr-decay: '%s' must be 'none' or up to %d increasing "
			        "epochs from 2 to 100000, comma-separated (5,10)\n",
			        s, MODEL_FILE_DECAY_MAX);
			return -1;
		}
		o->decay[o->n_decay++] = (uint32_t)v;
		if (!*end)
			return 0;
		p = end + 1;
	}
}

static int train_parse(struct train_opts *o, struct cli_run *run, int argc, char **argv)
{
	memset(o, 0, sizeof(*o));
	o->epochs = 1;
	o->batch = 128;
	o->frac = FIXED_FRAC_BITS;
	o->train_limit = UINT64_MAX;
	o->test_limit = UINT64_MAX;
	o->data_dir = nn_mnist_default_dir();
	const char *cmd = "train";
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		if (cli_is(a, "--seed"))
			o->seed_given = 1;
		int r = cli_parse_run_flag(cmd, run, argc, argv, &i);
		if (r < 0)
			return 2;
		if (r > 0)
			continue;
		const char *v;
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			train_usage(stdout);
			return 0;
		} else if (strcmp(a, "--json") == 0) {
			o->json = 1;
		} else if (strcmp(a, "--shadow") == 0) {
			o->shadow = 1;
		} else if (strcmp(a, "--quiet") == 0) {
			o->quiet = 1;
		} else if (strcmp(a, "--change-lr") == 0) {
			o->change_lr = 1;
		} else if (cli_is(a, "--mode")) {
			if (!(v = cli_value(cmd, argc, argv, &i)) ||
			    cli_parse_choice(cmd, "--mode", v, mode_names, &o->mode) < 0)
				return 2;
		} else if (cli_is(a, "--net")) {
			if (!(o->net_name = cli_value(cmd, argc, argv, &i)))
				return 2;
		} else if (cli_is(a, "--data")) {
			if (!(o->data_dir = cli_value(cmd, argc, argv, &i)))
				return 2;
		} else if (cli_is(a, "--save")) {
			if (!(o->save = cli_value(cmd, argc, argv, &i)))
				return 2;
			if (!*o->save) {
				fprintf(stderr, "snn train: --save needs a non-empty prefix\n");
				return 2;
			}
		} else if (cli_is(a, "--resume")) {
			if (!(o->resume = cli_value(cmd, argc, argv, &i)))
				return 2;
		} else if (cli_is(a, "--reveal")) {
			if (!(o->reveal = cli_value(cmd, argc, argv, &i)))
				return 2;
		} else if (cli_is(a, "--curve")) {
			if (!(o->curve = cli_value(cmd, argc, argv, &i)))
				return 2;
			if (!*o->curve) {
				fprintf(stderr, "snn train: --curve needs a file name or 'none'\n");
				return 2;
			}
		} else if (cli_is(a, "--epochs")) {
			if (!(v = cli_value(cmd, argc, argv, &i)) ||
			    cli_parse_u64(cmd, "--epochs", v, 1, 100000, &o->epochs) < 0)
				return 2;
		} else if (cli_is(a, "--batch")) {
			if (!(v = cli_value(cmd, argc, argv, &i)) ||
			    cli_parse_u64(cmd, "--batch", v, 1, BATCH_MAX, &o->batch) < 0)
				return 2;
			if (!is_pow2(o->batch)) {
				fprintf(
				    stderr,
				    "snn train: --batch: %s must be a power of two: SGD scales by "
				    "truncation\n",
				    v);
				return 2;
			}
			o->have_batch = 1;
		} else if (cli_is(a, "--lr")) {
			if (!(v = cli_value(cmd, argc, argv, &i)) ||
			    parse_lr(cmd, v, &o->lr_log) < 0)
				return 2;
			o->have_lr = 1;
		} else if (cli_is(a, "--grad")) {
			if (!(v = cli_value(cmd, argc, argv, &i)) ||
			    cli_parse_choice(cmd, "--grad", v, nn_grad_names, &o->grad) < 0)
				return 2;
			o->have_grad = 1;
		} else if (cli_is(a, "--lr-decay")) {
			if (!(v = cli_value(cmd, argc, argv, &i)) || parse_decay(o, v) < 0)
				return 2;
		} else if (cli_is(a, "--frac-bits")) {
			if (!(v = cli_value(cmd, argc, argv, &i)) ||
			    cli_parse_u64(cmd, "--frac-bits", v, 1, FIXED_MAX_FRAC_BITS, &o->frac) <
			        0)
				return 2;
		} else if (cli_is(a, "--train-limit")) {
			if (!(v = cli_value(cmd, argc, argv, &i)) ||
			    cli_parse_u64(cmd, "--train-limit", v, 1, UINT32_MAX, &o->train_limit) <
			        0)
				return 2;
		} else if (cli_is(a, "--test-limit")) {
			if (!(v = cli_value(cmd, argc, argv, &i)) ||
			    cli_parse_u64(cmd, "--test-limit", v, 0, UINT32_MAX, &o->test_limit) <
			        0)
				return 2;
		} else {
			return cli_reject("train", a);
		}
	}
	if (!o->net_name) {
		fprintf(stderr,
		        "snn train: --net is required (A, B, C, D or a description file)\n");
		return 2;
	}
	if (o->mode != MODE_SECURE) {
		const char *flag = o->save     ? "--save"
		                   : o->resume ? "--resume"
		                   : o->shadow ? "--shadow"
		                               : NULL;
		if (flag) {
			fprintf(
			    stderr,
			    "snn train: %s is for --mode secure (--mode %s keeps no checkpoints; "
			    "--reveal FILE writes its final model)\n",
			    flag, mode_names[o->mode]);
			return 2;
		}
	}
	if (o->change_lr && !o->resume) {
		fprintf(stderr, "snn train: --change-lr goes with --resume (it replaces the "
		                "checkpoint's learning rate)\n");
		return 2;
	}
	return -1; /* go on */
}

/* Largest |a - b| (as signed ring values) over n values. */
static uint64_t max_abs_diff(const ring_t *a, const ring_t *b, size_t n)
{
	uint64_t m = 0;
	for (size_t i = 0; i < n; i++) {
		int64_t d = ring_signed(a[i] - b[i]);
		uint64_t ad = d < 0 ? (uint64_t)0 - (uint64_t)d : (uint64_t)d;
		if (ad > m)
			m = ad;
	}
	return m;
}

/* Fisher-Yates over 0..n-1 from the epoch's public shuffle stream. */
static void shuffle(uint32_t *order, size_t n, uint64_t seed, unsigned epoch)
{
	struct prg g;
	prg_from(&g, seed ^ ((uint64_t)epoch * 0x9e3779b97f4a7c15ull), "shuffle");
	for (size_t i = 0; i < n; i++)
		order[i] = (uint32_t)i;
	for (size_t i = n; i-- > 1;) {
		size_t k = (size_t)prg_below(&g, i + 1);
		uint32_t t = order[i];
		order[i] = order[k];
		order[k] = t;
	}
	prg_finish(&g);
}

static void print_json_cost(const struct run_cost *c, const char *prefix, int secure)
{
	if (secure)
		printf("\"%swall_s\":%.3f,\"%ssim_s\":%.3f,\"%sbytes\":%" PRIu64, prefix,
		       c->wall_s, prefix, c->sim_s, prefix, c->bytes);
	else
		printf("\"%swall_s\":%.3f,\"%ssim_s\":null,\"%sbytes\":null", prefix, c->wall_s,
		       prefix, prefix);
}

static double cpu_now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- --shadow: the probe batch through every layer ---- */

/* One party's forward pass of the probe batch. */
struct probe_job {
	const struct nn_model *model; /* this party's parameters (P2: shapes only) */
	const ring_t *x;              /* batch x in input shares, NULL at P2 */
	size_t batch;                 /* images */
	unsigned frac;                /* fixed-point fractional bits */
	ring_t *act;                  /* P0, P1: every layer's output shares, concatenated */
	size_t act_len;               /* values in act */
};

static int probe_party_fn(struct party *p, void *arg)
{
	struct probe_job *job = arg;
	struct nn_ctx c = {.p = p, .arena = &p->arena, .frac = job->frac};
	struct nn_work w;
	int rc = nn_work_init(&w, &job->model->net, job->batch);
	if (rc < 0)
		return nn_fail(&c, rc, "probe working memory");
	size_t in = nn_layer_in_size(&w.net.layer[0]) * job->batch;
	if (nn_local(&c))
		memcpy(w.act[0], job->x, in * sizeof(ring_t));
	rc = nn_forward(&c, job->model, &w);
	if (rc == 0 && nn_local(&c)) {
		size_t pos = 0;
		for (size_t i = 0; i < w.net.n_layers; i++) {
			size_t n = nn_layer_out_size(&w.net.layer[i]) * job->batch;
			if (pos + n > job->act_len)
				break;
			memcpy(job->act + pos, w.act[i + 1], n * sizeof(ring_t));
			pos += n;
		}
	}
	nn_work_finish(&w);
	return rc;
}

/* Largest |(a0 + a1) - b| over n values, in real units. */
static double act_diff(const ring_t *a0, const ring_t *a1, const ring_t *b, size_t n, unsigned frac)
{
	uint64_t m = 0;
	for (size_t i = 0; i < n; i++) {
		int64_t d = ring_signed(a0[i] + a1[i] - b[i]);
		uint64_t ad = d < 0 ? (uint64_t)0 - (uint64_t)d : (uint64_t)d;
		if (ad > m)
			m = ad;
	}
	return ldexp((double)m, -(int)frac);
}

/* The shadow report of one epoch into er: the probe batch (the first P
 * training images) forward through the secure model (a run of the three
 * parties), the twin, and the revealed secure model in cleartext; and the
 * weight differences. rev holds the revealed secure model. */
static int shadow_epoch(struct epoch_result *er, const struct cli_run *run, uint64_t sim_seed,
                        struct nn_model *const models[PARTY_COUNT], const struct nn_model *rev,
                        const struct nn_model *twin, const struct owner_set *d, size_t P,
                        unsigned frac, struct arena *arena)
{
	struct nn_work wt, wr;
	ring_t *act[2] = {NULL, NULL};
	int rc;
	memset(&wr, 0, sizeof(wr));
	if ((rc = nn_work_init(&wt, &twin->net, P)) < 0 ||
	    (rc = nn_work_init(&wr, &twin->net, P)) < 0)
		goto fail;
	const struct nn_net *run_net = &wt.net; /* the order the passes run */
	size_t total = 0, in = nn_layer_in_size(&run_net->layer[0]) * P;
	for (size_t i = 0; i < run_net->n_layers; i++)
		total += nn_layer_out_size(&run_net->layer[i]) * P;
	rc = ERROR_NOMEM;
	if (!(act[0] = calloc(total, sizeof(ring_t))) || !(act[1] = calloc(total, sizeof(ring_t))))
		goto fail;
	if (!er->shadow && !(er->shadow = calloc(NN_MAX_LAYERS, sizeof(*er->shadow))))
		goto fail;
	struct probe_job jobs[PARTY_COUNT];
	void *args[PARTY_COUNT];
	for (int j = 0; j < PARTY_COUNT; j++) {
		jobs[j] = (struct probe_job){.model = models[j],
		                             .x = j < 2 ? d->x[j] : NULL,
		                             .batch = P,
		                             .frac = frac,
		                             .act = j < 2 ? act[j] : NULL,
		                             .act_len = j < 2 ? total : 0};
		args[j] = &jobs[j];
	}
	struct sim_config cfg = run->cfg;
	cfg.seed = sim_seed;
	struct sim_result res;
	rc = sim_run(&cfg, probe_party_fn, args, &res);
	if (rc < 0) {
		fprintf(stderr, "snn train: --shadow probe: %s\n",
		        res.message[0] ? res.message : error_strerror(rc));
		sim_result_finish(&res);
		goto out;
	}
	sim_result_finish(&res);
	struct nn_ctx cc;
	nn_ctx_init_clear(&cc, arena, frac);
	memcpy(wt.act[0], d->x_clear, in * sizeof(ring_t));
	memcpy(wr.act[0], d->x_clear, in * sizeof(ring_t));
	if ((rc = nn_forward(&cc, twin, &wt)) < 0 || (rc = nn_forward(&cc, rev, &wr)) < 0)
		goto fail;
	size_t pos = 0;
	er->n_shadow = run_net->n_layers;
	for (size_t i = 0; i < run_net->n_layers; i++) {
		const struct nn_layer *l = &run_net->layer[i];
		struct shadow_layer *sl = &er->shadow[i];
		size_t n = nn_layer_out_size(l) * P;
		nn_layer_format(l, sl->text, sizeof(sl->text));
		sl->act_twin = act_diff(act[0] + pos, act[1] + pos, wt.act[i + 1], n, frac);
		sl->act_same = act_diff(act[0] + pos, act[1] + pos, wr.act[i + 1], n, frac);
		sl->act_max = 0;
		for (size_t k = 0; k < n; k++) {
			double v = fabs(fixed_decode(wr.act[i + 1][k], frac));
			if (v > sl->act_max)
				sl->act_max = v;
		}
		pos += n;
		sl->has_params = rev->w[i] != NULL;
		if (sl->has_params) {
			sl->dw = max_abs_diff(rev->w[i], twin->w[i], nn_layer_weights(l));
			sl->db = max_abs_diff(rev->b[i], twin->b[i], nn_layer_biases(l));
		}
	}
	rc = 0;
	goto out;
fail:
	fprintf(stderr, "snn train: --shadow probe: %s\n", error_strerror(rc));
out:
	nn_work_finish(&wt);
	nn_work_finish(&wr);
	free(act[0]);
	free(act[1]);
	return rc;
}

static void print_shadow(const struct epoch_result *er, unsigned frac, size_t P)
{
	printf("  shadow: a probe of %zu training images through each layer, largest values in "
	       "real units: |act| its activations, |secure - twin|, |secure - same weights| "
	       "(the cleartext pass with the revealed secure weights)\n",
	       P);
	for (size_t i = 0; i < er->n_shadow; i++) {
		const struct shadow_layer *sl = &er->shadow[i];
		printf("  shadow layer %zu (%s): |act| %.6g, |secure - twin| %.6g, "
		       "|secure - same weights| %.6g",
		       i + 1, sl->text, sl->act_max, sl->act_twin, sl->act_same);
		if (sl->has_params)
			printf("; weights %" PRIu64 " ulps (%.6g), biases %" PRIu64 " ulps (%.6g)",
			       sl->dw, ldexp((double)sl->dw, -(int)frac), sl->db,
			       ldexp((double)sl->db, -(int)frac));
		if (!(sl->act_same <= SHADOW_ALARM + SHADOW_ALARM_REL * sl->act_max))
			printf("  <-- secure activations off: a failed truncation or an overflow "
			       "in this layer");
		printf("\n");
	}
}

/* ---- the cleartext modes ---- */

/* Cleartext fixed-point inference of the first n examples of d (clear
 * encoding) in batches: pred gets the classes (255: out of range). */
static int infer_fixed(struct nn_model *m, struct arena *arena, const struct owner_set *d, size_t n,
                       size_t batch, unsigned frac, uint8_t *pred)
{
	uint32_t *order = malloc(n * sizeof(uint32_t));
	ring_t *out = calloc(n, sizeof(ring_t));
	int rc = ERROR_NOMEM;
	if (!order || !out)
		goto out;
	for (size_t i = 0; i < n; i++)
		order[i] = (uint32_t)i;
	struct owner_set view = *d;
	view.x[0] = view.x_clear;
	view.y[0] = NULL;
	struct nn_job job;
	job_for(&job, 0, m, &view, order, n / batch, batch, frac);
	job.train = 0;
	job.out = out;
	struct nn_ctx cc;
	nn_ctx_init_clear(&cc, arena, frac);
	if ((rc = nn_job_run(&cc, &job)) < 0)
		goto out;
	for (size_t i = 0; i < n; i++)
		pred[i] = out[i] < NN_MNIST_CLASSES ? (uint8_t)out[i] : 255;
out:
	free(order);
	free(out);
	return rc;
}

/* One epoch of the float reference in the given order. */
static void train_float_epoch(struct nn_float_model *m, struct nn_float_work *w, float *labels,
                              const struct float_set *d, const uint32_t *order, size_t n_iter,
                              size_t batch, float step, struct progress *pr)
{
	const size_t in = NN_MNIST_PIXELS, K = NN_MNIST_CLASSES;
	for (size_t it = 0; it < n_iter; it++) {
		for (size_t b = 0; b < batch; b++) {
			size_t k = order[it * batch + b];
			memcpy(w->act[0] + b * in, d->x + k * in, in * sizeof(float));
			memcpy(labels + b * K, d->y + k * K, K * sizeof(float));
		}
		nn_float_train_step(m, w, labels, step);
		progress_float(pr, it, w->prob);
	}
}

/* Float inference of the first n examples of d (a multiple of batch). */
static int infer_float(const struct nn_float_model *m, const struct float_set *d, size_t n,
                       size_t batch, uint8_t *pred)
{
	struct nn_float_work w;
	int rc = nn_float_work_init(&w, &m->net, batch);
	uint32_t *cls = malloc(batch * sizeof(uint32_t));
	if (rc < 0 || !cls) {
		nn_float_work_finish(&w);
		free(cls);
		return rc < 0 ? rc : ERROR_NOMEM;
	}
	for (size_t it = 0; it < n / batch; it++) {
		memcpy(w.act[0], d->x + it * batch * NN_MNIST_PIXELS,
		       batch * NN_MNIST_PIXELS * sizeof(float));
		nn_float_forward(m, &w);
		nn_float_predict(m, &w, cls);
		for (size_t b = 0; b < batch; b++)
			pred[it * batch + b] = cls[b] < NN_MNIST_CLASSES ? (uint8_t)cls[b] : 255;
	}
	nn_float_work_finish(&w);
	free(cls);
	return 0;
}

/* Train the cleartext twin for one epoch on d's cleartext values, as the
 * job tj describes (job_for and the training fields; its data are replaced),
 * with the parties' unbiased random rounding of truncations (nn_ctx.round)
 * from a stream of its own per epoch, so a resumed run rounds as an
 * uninterrupted one. */
static int twin_train_epoch(struct nn_job *tj, const struct owner_set *d, struct arena *a,
                            unsigned frac, uint64_t seed, unsigned epoch)
{
	tj->data.x = d->x_clear;
	tj->data.y = d->y_clear;
	char label[48];
	uint8_t key[PRG_KEY_BYTES];
	struct prg g;
	snprintf(label, sizeof(label), "twin rounding, epoch %u", epoch);
	prg_derive_key(key, seed, label);
	prg_init(&g, key);
	struct nn_ctx cc;
	nn_ctx_init_clear(&cc, a, frac);
	cc.round = &g;
	int rc = nn_job_run(&cc, tj);
	prg_finish(&g);
	return rc;
}

/* The run's schedule from the options and, on --resume, the checkpoint's:
 * sched gets the one to train (and store) with. Prints and returns -1 if an
 * explicit value contradicts a stored one without --change-lr. */
static int merge_schedule(struct model_file_info *sched, const struct train_opts *o,
                          const struct model_file_info *stored, const char *prefix)
{
	memset(sched, 0, sizeof(*sched));
	sched->has_schedule = 1;
	sched->lr_log = o->lr_log;
	sched->grad = o->grad;
	sched->batch = o->batch;
	sched->n_decay = o->n_decay;
	memcpy(sched->decay, o->decay, sizeof(o->decay));
	if (!stored)
		return 0;
	if (!stored->has_schedule) {
		fprintf(stderr,
		        "snn train: %s.p0 is a checkpoint of format version 1, which does not "
		        "store the learning rate: training on with lr 2^-%u, batch %" PRIu64
		        " (give --lr and --batch as in the first run)\n",
		        prefix, o->lr_log, o->batch);
		return 0;
	}
	int decay_differs = o->n_decay != stored->n_decay;
	for (unsigned i = 0; i < o->n_decay && !decay_differs; i++)
		decay_differs = o->decay[i] != stored->decay[i];
	const char *flag = o->have_lr && o->lr_log != stored->lr_log         ? "--lr"
	                   : o->have_batch && o->batch != stored->batch     ? "--batch"
	                   : o->have_decay && decay_differs                 ? "--lr-decay"
	                   : o->have_grad && o->grad != stored->grad        ? "--grad"
	                                                                    : NULL;
	if (flag && !o->change_lr) {
		char have[160];
		model_file_schedule_text(stored, have, sizeof(have));
		fprintf(stderr,
		        "snn train: --resume: %s.p0 was trained with %s; %s differs (drop --lr, "
		        "--batch, --lr-decay and --grad to continue with the stored ones, or add "
		        "--change-lr to train on with the new ones)\n",
		        prefix, have, flag);
		return -1;
	}
	if (!o->change_lr || !o->have_lr)
		sched->lr_log = stored->lr_log;
	if (!o->change_lr || !o->have_batch)
		sched->batch = stored->batch;
	if (!o->change_lr || !o->have_grad)
		sched->grad = stored->grad;
	if (!o->change_lr || !o->have_decay) {
		sched->n_decay = stored->n_decay;
		memcpy(sched->decay, stored->decay, sizeof(sched->decay));
	}
	return 0;
}

/* ---- --curve: the training curve as TSV (plots/train.gp) and its figure ---- */

/* The columns: plots/train.gp reads the first four; extra ones come after
 * the six it documents. */
#define CURVE_HEADER                                                                               \
	"epoch\tloss\ttrain_acc\ttest_acc\twall_s\tsim_s\tlr\tcpu_s\tcpu_p0_s\tcpu_p1_s\t"         \
	"cpu_p2_s\tbytes\ttest_wall_s\ttest_sim_s\ttest_bytes\tretries"

struct curve {
	char path[PATH_LEN];          /* the TSV; "": --curve none */
	char stem[PATH_LEN];          /* path without .tsv: the figure is stem.png, stem.svg */
	char title[NN_NAME_LEN + 32]; /* of the figure: "Network A, secure" */
	char *earlier;   /* --resume: "# earlier command" lines carried over, or NULL */
	char *head;      /* '#' lines and the header line */
	char *rows;      /* one line per epoch so far */
	size_t rows_len; /* bytes in rows */
	size_t rows_cap; /* bytes allocated for rows */
	int plot;        /* 1: render after every row; 0: no gnuplot, no test set or a failure */
	int plotted;     /* the figure was written at least once */
};

static void curve_finish(struct curve *c)
{
	free(c->earlier);
	free(c->head);
	free(c->rows);
	memset(c, 0, sizeof(*c));
}

static int curve_append(struct curve *c, const char *line, size_t n)
{
	if (c->rows_len + n + 1 > c->rows_cap) {
		size_t cap = c->rows_cap ? c->rows_cap : 4096;
		while (cap < c->rows_len + n + 1)
			cap *= 2;
		char *p = realloc(c->rows, cap);
		if (!p)
			return ERROR_NOMEM;
		c->rows = p;
		c->rows_cap = cap;
	}
	memcpy(c->rows + c->rows_len, line, n);
	c->rows_len += n;
	c->rows[c->rows_len] = '\0';
	return 0;
}

/* An argument as a POSIX shell reads it back: as is, or in single quotes. */
static void put_arg(FILE *f, const char *s)
{
	if (*s && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	                    "_-+=.,:/@%^") == strlen(s)) {
		fputs(s, f);
		return;
	}
	fputc('\'', f);
	for (; *s; s++) {
		if (*s == '\'')
			fputs("'\\''", f);
		else if (*s == '\n')
			fputs("'$'\\n''", f); /* keeps the metadata line one line */
		else
			fputc(*s, f);
	}
	fputc('\'', f);
}

/* --resume: keep the rows of epochs 1..last of the curve in from (written by
 * an earlier invocation of the same run: the same seed), and carry its
 * command lines over as "# earlier command". Returns 0, or -1 with the
 * reason in why (the caller starts a new curve). */
static int curve_load(struct curve *c, const char *from, uint64_t seed, unsigned last, size_t *kept,
                      size_t *dropped, char *why, size_t why_len)
{
	*kept = *dropped = 0;
	FILE *f = fopen(from, "r");
	if (!f) {
		snprintf(why, why_len, "cannot read '%s': %s", from, strerror(errno));
		return -1;
	}
	char *line = NULL, *earlier = NULL, date[64] = "?";
	size_t cap = 0, earlier_len = 0;
	FILE *e = open_memstream(&earlier, &earlier_len);
	int header = 0, rc = -1;
	ssize_t n;
	if (!e) {
		snprintf(why, why_len, "out of memory");
		goto out;
	}
	while ((n = getline(&line, &cap, f)) > 0) {
		if (line[n - 1] == '\n')
			line[--n] = '\0';
		if (line[0] == '#') {
			if (strncmp(line, "# date: ", 8) == 0) {
				snprintf(date, sizeof(date), "%s", line + 8);
			} else if (strncmp(line, "# seed: ", 8) == 0 &&
			           strtoull(line + 8, NULL, 10) != seed) {
				snprintf(why, why_len,
				         "'%s' is the curve of another run (%s, not %" PRIu64 ")",
				         from, line + 2, seed);
				goto out;
			}
			if (strncmp(line, "# earlier command ", 18) == 0)
				fprintf(e, "%s\n", line);
			else if (strncmp(line, "# command: ", 11) == 0)
				fprintf(e, "# earlier command (%s): %s\n", date, line + 11);
			continue;
		}
		if (!header) {
			if (strcmp(line, CURVE_HEADER) != 0) {
				snprintf(why, why_len,
				         "'%s' does not have the columns this snn writes", from);
				goto out;
			}
			header = 1;
			continue;
		}
		char *end;
		errno = 0;
		unsigned long epoch = strtoul(line, &end, 10);
		if (errno || end == line || *end != '\t' || epoch == 0)
			continue; /* not a row of ours */
		if (epoch > last) {
			(*dropped)++;
			continue;
		}
		line[n++] = '\n';
		if (curve_append(c, line, (size_t)n) < 0) {
			snprintf(why, why_len, "out of memory");
			goto out;
		}
		(*kept)++;
	}
	if (ferror(f)) {
		snprintf(why, why_len, "cannot read '%s': %s", from, strerror(errno));
		goto out;
	}
	if (!header) {
		snprintf(why, why_len, "'%s' has no header line", from);
		goto out;
	}
	rc = 0;
out:
	if (e && fclose(e) == 0 && rc == 0) {
		c->earlier = earlier;
		earlier = NULL;
	}
	free(earlier);
	free(line);
	fclose(f);
	if (rc < 0) { /* start afresh */
		c->rows_len = 0;
		if (c->rows)
			c->rows[0] = '\0';
		*kept = 0;
	}
	return rc;
}

/* The metadata lines and the header (c->head). */
static int curve_head(struct curve *c, int argc, char **argv, const struct report_meta *meta,
                      const struct cli_run *run, int mode, const char *net_text,
                      const char *sched_text, unsigned frac, size_t n_train, size_t n_iter,
                      size_t n_test, const char *data_dir, const char *resumed)
{
	size_t len = 0;
	FILE *f = open_memstream(&c->head, &len);
	if (!f)
		return ERROR_NOMEM;
	char note[64];
	snprintf(note, sizeof(note), "none (--mode %s: no parties, nothing simulated)",
	         mode_names[mode]);
	fprintf(f, "# snn train: training curve, one row per epoch (plots/train.gp draws it)\n");
	report_meta_tsv(f, meta, run, mode == MODE_SECURE ? NULL : note);
	if (c->earlier)
		fputs(c->earlier, f);
	fprintf(f, "# command: snn train");
	for (int i = 0; i < argc; i++) {
		fputc(' ', f);
		put_arg(f, argv[i]);
	}
	fprintf(f, "\n# mode: %s\n# net: %s\n# schedule: %s\n# frac bits: %u\n", mode_names[mode],
	        net_text, sched_text, frac);
	fprintf(f, "# data: %s: %zu training images (%zu iterations per epoch), %zu test images\n",
	        data_dir, n_train, n_iter, n_test);
	if (resumed)
		fprintf(f, "# %s\n", resumed);
	fprintf(f, "# columns: loss, train_acc: mean over the epoch's training batches; test_acc: "
	           "on the test set after the epoch ('-': no test set); accuracies are fractions "
	           "(0..1); wall_s, sim_s, cpu_*, bytes: the epoch's training; sim_s: its "
	           "simulated time under the network model, 0 in --mode fixed and float (nothing "
	           "is simulated); lr: the epoch's learning rate; cpu_s: CPU seconds of the three "
	           "parties together (--mode fixed, float: of this process; then cpu_p0_s.."
	           "cpu_p2_s and the bytes are 0); test_*: the test-set inference; retries: "
	           "replays of the epoch after a share truncation failure\n");
	fprintf(f, "%s\n", CURVE_HEADER);
	return fclose(f) == 0 ? 0 : ERROR_NOMEM;
}

/* One epoch's row. */
static int curve_add(struct curve *c, const struct epoch_result *er, int secure)
{
	char line[512], test[32];
	if (er->test_accuracy >= 0)
		snprintf(test, sizeof(test), "%.6f", er->test_accuracy);
	else
		snprintf(test, sizeof(test), "-");
	const struct run_cost *t = &er->train;
	double cpu = secure ? t->cpu_s[0] + t->cpu_s[1] + t->cpu_s[2] : t->cpu_s[0];
	double p[PARTY_COUNT] = {0};
	for (int j = 0; j < PARTY_COUNT && secure; j++)
		p[j] = t->cpu_s[j];
	int n = snprintf(line, sizeof(line),
	                 "%u\t%.6f\t%.6f\t%s\t%.3f\t%.3f\t%.17g\t%.3f\t%.3f\t%.3f\t%.3f\t%" PRIu64
	                 "\t%.3f\t%.3f\t%" PRIu64 "\t%u\n",
	                 er->epoch, er->loss, er->train_accuracy, test, t->wall_s,
	                 secure ? t->sim_s : 0.0, ldexp(1.0, -(int)er->lr_log), cpu, p[0], p[1],
	                 p[2], secure ? t->bytes : 0, er->test.wall_s,
	                 secure ? er->test.sim_s : 0.0, secure ? er->test.bytes : 0, er->retries);
	if (n < 0 || (size_t)n >= sizeof(line))
		return ERROR_INVAL;
	return curve_append(c, line, (size_t)n);
}

/* The whole file through PATH.tmp and a rename: an interruption leaves the
 * previous version or the new one. */
static int curve_write(const struct curve *c, char *err, size_t err_len)
{
	char tmp[PATH_LEN + 8];
	FILE *f = report_file_open(c->path, tmp, sizeof(tmp), err, err_len);
	if (!f)
		return ERROR_IO;
	fputs(c->head, f);
	if (c->rows_len)
		fwrite(c->rows, 1, c->rows_len, f);
	return report_file_commit(f, tmp, c->path, err, err_len) < 0 ? ERROR_IO : 0;
}

/* The figure of the curve so far; failures are warnings, and stop the
 * rendering for the rest of the run. */
static void curve_render(struct curve *c)
{
	if (!c->plot)
		return;
	char err[512];
	const char *vars[] = {"title", c->title, NULL};
	if (plot_render("train", c->path, c->stem, vars, err, sizeof(err)) < 0) {
		fprintf(stderr, "snn train: warning: figure of %s: %s; no more figures this run\n",
		        c->path, err);
		c->plot = 0;
		return;
	}
	c->plotted = 1;
}

int train_main(int argc, char **argv)
{
	double t0 = now_s();
	struct cli_run run;
	cli_run_default(&run);
	struct train_opts o;
	int rc = train_parse(&o, &run, argc, argv);
	if (rc >= 0)
		return rc;
	const int secure = o.mode == MODE_SECURE;

	int status = 1;
	char err[1024];
	struct nn_net net;
	struct nn_mnist tr, te;
	struct owner_set train_set, test_set;
	struct float_set ftrain, ftest;
	struct nn_model model[PARTY_COUNT], clear, twin;
	struct nn_float_model fmodel;
	struct nn_float_work fwork;
	float *flabels = NULL;
	struct arena twin_arena;
	int twin_ready = 0;
	uint32_t *order = NULL;
	uint8_t *pred = NULL;
	struct epoch_result *results = NULL;
	size_t n_done = 0;
	struct nn_model backup[2], check; /* epoch-start shares; the owner's revealed view */
	struct curve curve;
	memset(&curve, 0, sizeof(curve));
	memset(backup, 0, sizeof(backup));
	memset(&check, 0, sizeof(check));
	memset(&tr, 0, sizeof(tr));
	memset(&te, 0, sizeof(te));
	memset(&train_set, 0, sizeof(train_set));
	memset(&test_set, 0, sizeof(test_set));
	memset(&ftrain, 0, sizeof(ftrain));
	memset(&ftest, 0, sizeof(ftest));
	memset(model, 0, sizeof(model));
	memset(&clear, 0, sizeof(clear));
	memset(&twin, 0, sizeof(twin));
	memset(&fmodel, 0, sizeof(fmodel));
	memset(&fwork, 0, sizeof(fwork));

	if (load_net("train", &net, o.net_name) < 0)
		return 2;
	unsigned frac = (unsigned)o.frac;
	if (!o.have_lr)
		o.lr_log =
		    (net.name[0] == 'A' && (net.name[1] == '\0' || net.name[1] == '-')) ? 7 : 5;
	uint64_t seed = run.cfg.seed;
	uint64_t pair_id = 0;
	unsigned first_epoch = 1;
	struct model_file_info sched; /* the learning rate, its decay and the batch size */

	char save[PATH_LEN] = "";
	if (secure) {
		if (o.save)
			snprintf(save, sizeof(save), "%s", o.save);
		else if (o.resume)
			snprintf(save, sizeof(save), "%s", o.resume);
		else
			snprintf(save, sizeof(save), "results/ckpt/%s", net.name);
		if (make_parent_dirs("train", save) < 0)
			return 1;
	}
	if (o.reveal && make_parent_dirs("train", o.reveal) < 0)
		return 1;
	if (!o.curve || strcmp(o.curve, "none") != 0) {
		/* Check now that the curve can be written, not after the first epoch. */
		int w = o.curve  ? snprintf(curve.path, sizeof(curve.path), "%s", o.curve)
		        : secure ? snprintf(curve.path, sizeof(curve.path), "%s.tsv", save)
		                 : snprintf(curve.path, sizeof(curve.path),
		                            "results/ckpt/%s-%s.tsv", net.name, mode_names[o.mode]);
		if (w < 0 || (size_t)w >= sizeof(curve.path) - 8) {
			fprintf(stderr, "snn train: --curve: path '%s' is too long\n", curve.path);
			return 2;
		}
		if (make_parent_dirs("train", curve.path) < 0)
			return 1;
		char tmp[PATH_LEN + 8];
		snprintf(tmp, sizeof(tmp), "%s.tmp", curve.path);
		FILE *f = fopen(tmp, "w");
		if (!f) {
			fprintf(stderr, "snn train: --curve: cannot write '%s': %s\n", tmp,
			        strerror(errno));
			return 1;
		}
		fclose(f);
		remove(tmp);
		size_t n = strlen(curve.path);
		snprintf(curve.stem, sizeof(curve.stem), "%.*s",
		         (int)(n > 4 && strcmp(curve.path + n - 4, ".tsv") == 0 ? n - 4 : n),
		         curve.path);
		snprintf(curve.title, sizeof(curve.title), "Network %s, %s", net.name,
		         mode_names[o.mode]);
	}

	/* The parties' models: shares at P0 and P1, shapes only at P2. */
	for (int j = 0; j < PARTY_COUNT && secure; j++)
		if (nn_model_init(&model[j], &net) < 0)
			goto oom;
	if (nn_model_init(&clear, &net) < 0)
		goto oom;
	if (o.resume) {
		struct model_file_info info;
		struct model_file_want want = {
		    .net = &net, .params_only = 0, .frac_bits = frac, .kind = -1};
		nn_model_finish(&model[0]);
		nn_model_finish(&model[1]);
		if (model_file_read_pair(&model[0], &model[1], &info, o.resume, &want, err,
		                         sizeof(err)) < 0) {
			fprintf(stderr, "snn train: --resume: %s\n", err);
			goto out;
		}
		/* Keep the description the user named (the file's may carry another name). */
		model[0].net = net;
		model[1].net = net;
		if (o.seed_given && seed != info.seed) {
			fprintf(stderr,
			        "snn train: --seed %" PRIu64 " differs from the seed %" PRIu64
			        " the run in %s.p0 started with; drop --seed to resume it\n",
			        seed, info.seed, o.resume);
			status = 2;
			goto out;
		}
		seed = info.seed;
		pair_id = info.pair_id;
		if (info.epochs >= o.epochs) {
			fprintf(stderr,
			        "snn train: %s.p0 has %" PRIu64 " epochs already; --epochs is the "
			        "total (ask for more than %" PRIu64 ")\n",
			        o.resume, info.epochs, info.epochs);
			status = 2;
			goto out;
		}
		first_epoch = (unsigned)info.epochs + 1;
		if (merge_schedule(&sched, &o, &info, o.resume) < 0) {
			status = 2;
			goto out;
		}
	} else {
		merge_schedule(&sched, &o, NULL, NULL);
		struct prg g;
		prg_from(&g, seed, "init");
		nn_model_init_weights(&clear, &g, frac);
		prg_finish(&g);
		if (secure) {
			prg_from(&g, seed, "owner-model");
			nn_model_share(&clear, &model[0], &model[1], &g);
			prg_finish(&g);
		}
		pair_id = random_pair_id();
	}
	if (sched.lr_log + sched.n_decay > LR_LOG_MAX) {
		fprintf(
		    stderr,
		    "snn train: --lr-decay: the learning rate would fall to 2^-%u, below 2^-%d\n",
		    sched.lr_log + sched.n_decay, LR_LOG_MAX);
		status = 2;
		goto out;
	}
	size_t batch = (size_t)sched.batch;

	/* The data owner: load, encode, share. */
	if (nn_mnist_load_dir(&tr, o.data_dir, "train", err, sizeof(err)) < 0 ||
	    (o.test_limit && nn_mnist_load_dir(&te, o.data_dir, "t10k", err, sizeof(err)) < 0)) {
		fprintf(stderr, "snn train: %s\n", err);
		goto out;
	}
	size_t n_train = tr.n < o.train_limit ? tr.n : (size_t)o.train_limit;
	size_t n_iter = n_train / batch;
	if (n_iter == 0) {
		fprintf(stderr,
		        "snn train: %zu training images (--train-limit) make no batch of %zu\n",
		        n_train, batch);
		status = 2;
		goto out;
	}
	size_t n_test = o.test_limit ? (te.n < o.test_limit ? te.n : (size_t)o.test_limit) : 0;
	size_t test_batch = n_test < INFER_BATCH_DEFAULT ? n_test : INFER_BATCH_DEFAULT;
	if (test_batch)
		n_test = n_test / test_batch * test_batch;
	size_t probe = n_train < PROBE_BATCH ? n_train : PROBE_BATCH;
	if (o.mode == MODE_FLOAT) {
		rc = float_set_init(&ftrain, tr.pixels, tr.labels, n_train, 1);
		if (rc == 0 && n_test)
			rc = float_set_init(&ftest, te.pixels, te.labels, n_test, 0);
		if (rc < 0)
			goto oom;
	} else {
		struct prg owner;
		struct prg *g = secure ? &owner : NULL; /* the twin alone needs no shares */
		if (secure)
			prg_from(&owner, seed, "owner");
		rc = owner_share(&train_set, tr.pixels, tr.labels, n_train, frac, g, 1,
		                 o.shadow || !secure);
		if (rc == 0 && n_test)
			rc = owner_share(&test_set, te.pixels, te.labels, n_test, frac, g, 0,
			                 !secure);
		if (secure)
			prg_finish(&owner);
		if (rc < 0)
			goto oom;
	}
	nn_mnist_finish(&tr);
	nn_mnist_finish(&te);

	if (o.shadow || o.mode == MODE_FIXED) {
		if (nn_model_init(&twin, &net) < 0)
			goto oom;
		if (o.resume)
			nn_model_reveal(&twin, &model[0], &model[1]);
		else
			model_copy(&twin, &clear);
		arena_init(&twin_arena, 1 << 20);
		twin_ready = 1;
	}
	if (o.mode == MODE_FLOAT) {
		if (nn_float_model_init(&fmodel, &net) < 0 ||
		    nn_float_work_init(&fwork, &net, batch) < 0 ||
		    !(flabels = malloc(batch * NN_MNIST_CLASSES * sizeof(float))))
			goto oom;
		nn_float_model_from_fixed(&fmodel, &clear, frac);
		fwork.grad = sched.grad;
	}
	order = malloc(n_train * sizeof(uint32_t));
	pred = malloc(n_test ? n_test : 1);
	results = calloc(o.epochs, sizeof(*results));
	if (!order || !pred || !results)
		goto oom;

	char netsum[160], lrtext[32], schedtext[200];
	model_file_net_summary(&net, netsum, sizeof(netsum));
	model_file_schedule_text(&sched, schedtext, sizeof(schedtext));
	snprintf(lrtext, sizeof(lrtext), "2^-%u", sched.lr_log);
	if (!o.quiet) {
		fprintf(stderr,
		        "snn train: network %s (%s), mode %s, %zu training images (%zu iterations "
		        "of %zu), %s, %u fractional bits, %zu test images, epochs %u..%" PRIu64,
		        net.name, netsum, mode_names[o.mode], n_train, n_iter, batch, schedtext,
		        frac, n_test, first_epoch, o.epochs);
		if (secure)
			fprintf(stderr, ", network model %s, checkpoints %s.p0/.p1", run.network,
			        save);
		fprintf(stderr, "\n");
	}

	if (curve.path[0]) {
		char resumed[2 * PATH_LEN + 256] = "", why[PATH_LEN + 160];
		if (o.resume) {
			/* The rows before the checkpoint: from the curve beside it, or
			 * the one --curve names; else from the other of the two. */
			char beside[PATH_LEN + 8];
			snprintf(beside, sizeof(beside), "%s.tsv", o.resume);
			const char *first = o.curve ? curve.path : beside;
			const char *other = o.curve ? beside : curve.path;
			const char *from =
			    access(first, F_OK) != 0 && access(other, F_OK) == 0 ? other : first;
			size_t kept, dropped;
			unsigned last = first_epoch - 1;
			if (curve_load(&curve, from, seed, last, &kept, &dropped, why,
			               sizeof(why)) < 0) {
				fprintf(stderr,
				        "snn train: note: --curve: %s: a new curve starts at epoch "
				        "%u\n",
				        why, first_epoch);
				snprintf(resumed, sizeof(resumed),
				         "resumed at epoch %u: no rows of the epochs before (%s)",
				         first_epoch, why);
			} else {
				if (kept != last)
					fprintf(
					    stderr,
					    "snn train: note: --curve: '%s' has rows for %zu of "
					    "the epochs 1..%u before the checkpoint's\n",
					    from, kept, last);
				snprintf(resumed, sizeof(resumed),
				         "resumed at epoch %u: the %zu row%s before come from %s%s",
				         first_epoch, kept, kept == 1 ? "" : "s", from,
				         dropped ? " (its rows of later epochs dropped)" : "");
			}
		}
		struct report_meta meta;
		report_meta_collect(&meta);
		char net_text[NN_NAME_LEN + 200];
		snprintf(net_text, sizeof(net_text), "%s (%s)", net.name, netsum);
		struct cli_run meta_run = run;
		meta_run.cfg.seed = seed; /* --resume: the checkpoint's */
		if (curve_head(&curve, argc, argv, &meta, &meta_run, o.mode, net_text, schedtext,
		               frac, n_train, n_iter, n_test, o.data_dir,
		               resumed[0] ? resumed : NULL) < 0)
			goto oom;
		if (!n_test) {
			fprintf(stderr,
			        "snn train: note: --curve: no test set (--test-limit 0): no "
			        "figure of the curve\n");
		} else if (!plot_available()) {
			fprintf(stderr, "snn train: gnuplot not found: plots skipped\n");
		} else {
			curve.plot = 1;
		}
	}

	struct run_cost total = {0};
	unsigned attempt = 0;
	if (secure && (nn_model_init(&backup[0], &net) < 0 || nn_model_init(&backup[1], &net) < 0 ||
	               nn_model_init(&check, &net) < 0))
		goto oom;
	for (unsigned e = first_epoch; e <= o.epochs; e++) {
		struct epoch_result *er = &results[n_done];
		er->epoch = e;
		er->lr_log = model_file_lr_log_at(&sched, e);
		er->test_accuracy = -1;
		unsigned lr_shift = log2_u64(batch) + er->lr_log;
		shuffle(order, n_train, seed, e);
		char what[64], label[32];
		snprintf(what, sizeof(what), "epoch %u/%" PRIu64, e, o.epochs);

		/* Training: one run of the three parties, or the twin, or the float reference. */
		struct progress pr;
		if (progress_init(&pr, 1, batch, NN_MNIST_CLASSES, n_iter, frac, order,
		                  secure ? train_set.labels
		                  : o.mode == MODE_FIXED ? train_set.labels
		                                         : ftrain.labels,
		                  what, o.quiet) < 0)
			goto oom;
		if (o.mode == MODE_FIXED) {
			double w0 = now_s(), c0 = cpu_now_s();
			struct nn_job tj;
			job_for(&tj, 0, &twin, &train_set, order, n_iter, batch, frac);
			tj.train = 1;
			tj.grad = sched.grad;
			tj.lr_shift = lr_shift;
			tj.progress = progress_hook;
			tj.progress_ctx = &pr;
			rc = twin_train_epoch(&tj, &train_set, &twin_arena, frac, seed, e);
			progress_finish(&pr);
			if (rc < 0) {
				fprintf(stderr, "snn train: %s: %s\n", what, error_strerror(rc));
				goto out;
			}
			er->train.wall_s = now_s() - w0;
			er->train.cpu_s[0] = cpu_now_s() - c0;
		} else if (o.mode == MODE_FLOAT) {
			double w0 = now_s(), c0 = cpu_now_s();
			train_float_epoch(&fmodel, &fwork, flabels, &ftrain, order, n_iter, batch,
			                  (float)(ldexp(1.0, -(int)er->lr_log) / (double)batch),
			                  &pr);
			progress_finish(&pr);
			er->train.wall_s = now_s() - w0;
			er->train.cpu_s[0] = cpu_now_s() - c0;
		} else {
			struct nn_job jobs[PARTY_COUNT];
			void *args[PARTY_COUNT];
			for (int j = 0; j < PARTY_COUNT; j++) {
				job_for(&jobs[j], j, &model[j], &train_set, order, n_iter, batch,
				        frac);
				jobs[j].train = 1;
				jobs[j].grad = sched.grad;
				jobs[j].lr_shift = lr_shift;
				jobs[j].progress = progress_hook;
				jobs[j].progress_ctx = &pr;
				args[j] = &jobs[j];
			}
			struct sim_config cfg = run.cfg;
			snprintf(label, sizeof(label), "train %u", e);
			if (attempt)
				snprintf(label, sizeof(label), "train %u retry %u", e, attempt);
			cfg.seed = derive_seed(seed, label);
			model_copy(&backup[0], &model[0]);
			model_copy(&backup[1], &model[1]);
			struct sim_result res;
			rc = sim_run(&cfg, nn_job_party_fn, args, &res);
			progress_finish(&pr);
			if (rc < 0) {
				fprintf(stderr, "snn train: %s: %s\n", what,
				        res.message[0] ? res.message : error_strerror(rc));
				sim_result_finish(&res);
				goto out;
			}
			cost_from(&er->train, &res);
			sim_result_finish(&res);
		}
		er->loss = pr.loss_sum / (double)n_iter;
		er->train_accuracy = pr.seen ? (double)pr.correct / (double)pr.seen : 0;

		if (secure) {
			/* SecureML's local truncation fails with probability ~|x|/2^63 per
			 * value, and a failure throws weights far off: the data owner
			 * checks its revealed model and replays the epoch from its start
			 * with another seed. */
			double wmax = model_max_abs(&check, &model[0], &model[1], frac);
			if (wmax > TRUNCATION_FAILURE_LIMIT) {
				attempt++;
				fprintf(stderr,
				        "snn train: %s: a share truncation failed (a weight of "
				        "magnitude %.3g); replaying the epoch from its start with "
				        "another seed (attempt %u of %u)\n",
				        what, wmax, attempt + 1, MAX_ATTEMPTS);
				model_copy(&model[0], &backup[0]);
				model_copy(&model[1], &backup[1]);
				if (attempt + 1 >= MAX_ATTEMPTS) {
					fprintf(stderr,
					        "snn train: %s: giving up after %u attempts\n",
					        what, MAX_ATTEMPTS);
					rc = ERROR_PROTOCOL;
					goto out;
				}
				er->retries++;
				e--;
				continue;
			}
			attempt = 0;

			/* Checkpoint first: an interruption from here on loses nothing. */
			struct model_file_info info = sched;
			info.kind = MODEL_FILE_SHARE_P0;
			info.frac_bits = frac;
			info.epochs = e;
			info.seed = seed;
			info.pair_id = pair_id;
			if (model_file_write_pair(save, &info, &model[0], &model[1], err,
			                          sizeof(err)) < 0) {
				fprintf(stderr, "snn train: checkpoint after %s: %s\n", what, err);
				goto out;
			}
		}

		/* The cleartext twin on the same order, then the probe batch. */
		if (o.shadow) {
			struct nn_job tj;
			job_for(&tj, 0, &twin, &train_set, order, n_iter, batch, frac);
			tj.train = 1;
			tj.grad = sched.grad;
			tj.lr_shift = lr_shift;
			if ((rc = twin_train_epoch(&tj, &train_set, &twin_arena, frac, seed, e)) < 0) {
				fprintf(stderr, "snn train: %s: cleartext twin: %s\n", what,
				        error_strerror(rc));
				goto out;
			}
			nn_model_reveal(&check, &model[0], &model[1]);
			snprintf(label, sizeof(label), "probe %u", e);
			struct nn_model *ms[PARTY_COUNT] = {&model[0], &model[1], &model[2]};
			if (shadow_epoch(er, &run, derive_seed(seed, label), ms, &check, &twin,
			                 &train_set, probe, frac, &twin_arena) < 0)
				goto out;
		}

		/* Inference on the test set. */
		if (n_test) {
			char twhat[80];
			snprintf(twhat, sizeof(twhat), "%s test", what);
			snprintf(label, sizeof(label), "test %u", e);
			double w0 = now_s();
			if (secure) {
				struct nn_model *ms[PARTY_COUNT] = {&model[0], &model[1],
				                                    &model[2]};
				if (run_infer("train", &run, derive_seed(seed, label), ms,
				              &test_set, n_test, test_batch, frac, twhat, o.quiet,
				              pred, &er->test) < 0)
					goto out;
			} else {
				rc = o.mode == MODE_FIXED
				         ? infer_fixed(&twin, &twin_arena, &test_set, n_test,
				                       test_batch, frac, pred)
				         : infer_float(&fmodel, &ftest, n_test, test_batch, pred);
				if (rc < 0) {
					fprintf(stderr, "snn train: %s: %s\n", twhat,
					        error_strerror(rc));
					goto out;
				}
				er->test.wall_s = now_s() - w0;
			}
			const uint8_t *labels =
			    o.mode == MODE_FLOAT ? ftest.labels : test_set.labels;
			size_t correct = 0;
			for (size_t i = 0; i < n_test; i++)
				correct += pred[i] == labels[i];
			er->test_accuracy = (double)correct / (double)n_test;
		}
		n_done++;
		cost_add(&total, &er->train);
		cost_add(&total, &er->test);

		char tb[32], testtext[64];
		fmt_bytes(tb, sizeof(tb), er->train.bytes);
		if (er->test_accuracy >= 0)
			snprintf(testtext, sizeof(testtext), "%.4f", er->test_accuracy);
		else
			snprintf(testtext, sizeof(testtext), "-");
		printf("epoch %u/%" PRIu64 ": lr 2^-%u, loss %.4f, train acc %.4f, test acc %s | "
		       "train %zu it: wall %.1f s",
		       e, o.epochs, er->lr_log, er->loss, er->train_accuracy, testtext, n_iter,
		       er->train.wall_s);
		if (secure)
			printf(", sim %.1f s, %s, cpu P0/P1/P2 %.1f/%.1f/%.1f s", er->train.sim_s,
			       tb, er->train.cpu_s[0], er->train.cpu_s[1], er->train.cpu_s[2]);
		else
			printf(", cpu %.1f s", er->train.cpu_s[0]);
		if (n_test) {
			printf(" | test %zu img: wall %.1f s", n_test, er->test.wall_s);
			if (secure) {
				fmt_bytes(tb, sizeof(tb), er->test.bytes);
				printf(", sim %.1f s, %s", er->test.sim_s, tb);
			}
		}
		if (er->retries)
			printf(" | replayed %u time%s after a truncation failure", er->retries,
			       er->retries == 1 ? "" : "s");
		printf("\n");
		if (o.shadow)
			print_shadow(er, frac, probe);
		fflush(stdout); /* a log file shows each epoch as it ends */
		if (curve.path[0]) {
			/* A failed write loses only the curve: warn and train on. */
			char cerr[PATH_LEN + 256];
			if ((rc = curve_add(&curve, er, secure)) < 0)
				goto oom;
			if (curve_write(&curve, cerr, sizeof(cerr)) < 0)
				fprintf(stderr, "snn train: warning: --curve: %s\n", cerr);
			else
				curve_render(&curve);
		}
	}

	if (o.reveal) {
		const struct nn_model *out_model = &clear;
		if (secure) {
			nn_model_reveal(&clear, &model[0], &model[1]);
		} else if (o.mode == MODE_FIXED) {
			out_model = &twin;
		} else if (nn_float_model_to_fixed(&clear, &fmodel, frac) < 0) {
			fprintf(stderr,
			        "snn train: --reveal: a weight of the float model does not fit %u "
			        "fractional bits\n",
			        frac);
			goto out;
		}
		struct model_file_info info = sched;
		info.kind = MODEL_FILE_CLEAR;
		info.frac_bits = frac;
		info.epochs = o.epochs;
		info.seed = seed;
		info.pair_id = pair_id;
		if (model_file_write(o.reveal, &info, out_model, err, sizeof(err)) < 0) {
			fprintf(stderr, "snn train: --reveal: %s\n", err);
			goto out;
		}
		if (!o.json)
			printf("cleartext model written to %s%s\n", o.reveal,
			       o.mode == MODE_FLOAT ? " (the float model rounded to fixed point)"
			                            : "");
	}

	if (curve.path[0] && !o.json) {
		printf("training curve written to %s", curve.path);
		if (curve.plotted)
			printf(" (figure %s.png, .svg)", curve.stem);
		printf("\n");
	}

	if (o.json) {
		double last_test = n_done ? results[n_done - 1].test_accuracy : -1;
		printf("{\"net\":");
		trace_json_str(stdout, net.name);
		printf(",\"mode\":\"%s\",\"epochs\":%" PRIu64 ",\"first_epoch\":%u,\"batch\":%zu"
		       ",\"lr\":%.17g,\"lr_text\":\"%s\",\"lr_decay\":[",
		       mode_names[o.mode], o.epochs, first_epoch, batch,
		       ldexp(1.0, -(int)sched.lr_log), lrtext);
		for (unsigned i = 0; i < sched.n_decay; i++)
			printf("%s%u", i ? "," : "", (unsigned)sched.decay[i]);
		printf("],\"grad\":\"%s\",\"frac_bits\":%u,", nn_grad_name(sched.grad), frac);
		if (last_test >= 0)
			printf("\"test_accuracy\":%.6f,", last_test);
		else
			printf("\"test_accuracy\":null,");
		printf("\"images\":%zu,\"train_images\":%zu,\"test_images\":%zu,\"iterations\":%zu,"
		       "\"wall_s\":%.3f,",
		       n_done * n_iter * batch, n_train, n_test, n_done * n_iter, now_s() - t0);
		if (secure) {
			printf("\"sim_s\":%.3f,\"network\":", total.sim_s);
			trace_json_str(stdout, run.network);
			printf(",\"bytes\":%" PRIu64 ",", total.bytes);
		} else {
			printf("\"sim_s\":null,\"network\":null,\"bytes\":null,");
		}
		printf("\"seed\":%" PRIu64 ",\"save\":", seed);
		if (secure)
			trace_json_str(stdout, save);
		else
			printf("null");
		printf(",\"curve\":");
		if (curve.path[0])
			trace_json_str(stdout, curve.path);
		else
			printf("null");
		printf(",\"per_epoch\":[");
		for (size_t k = 0; k < n_done; k++) {
			const struct epoch_result *er = &results[k];
			printf("%s{\"epoch\":%u,\"lr\":%.17g,\"retries\":%u,\"loss\":%.6f,"
			       "\"train_accuracy\":%.6f,",
			       k ? "," : "", er->epoch, ldexp(1.0, -(int)er->lr_log), er->retries,
			       er->loss, er->train_accuracy);
			if (er->test_accuracy >= 0)
				printf("\"test_accuracy\":%.6f,", er->test_accuracy);
			else
				printf("\"test_accuracy\":null,");
			print_json_cost(&er->train, "", secure);
			if (secure)
				printf(",\"cpu_s\":[%.3f,%.3f,%.3f],", er->train.cpu_s[0],
				       er->train.cpu_s[1], er->train.cpu_s[2]);
			else
				printf(",\"cpu_s\":[%.3f],", er->train.cpu_s[0]);
			print_json_cost(&er->test, "test_", secure);
			if (er->n_shadow) {
				printf(",\"shadow\":[");
				for (size_t i = 0; i < er->n_shadow; i++) {
					const struct shadow_layer *sl = &er->shadow[i];
					printf("%s{\"layer\":%zu,\"kind\":", i ? "," : "", i + 1);
					trace_json_str(stdout, sl->text);
					printf(",\"act_max\":%.9g,\"act_twin\":%.9g,"
					       "\"act_same_weights\":%.9g",
					       sl->act_max, sl->act_twin, sl->act_same);
					if (sl->has_params)
						printf(",\"weights_ulps\":%" PRIu64
						       ",\"biases_ulps\":%" PRIu64,
						       sl->dw, sl->db);
					printf("}");
				}
				printf("]");
			}
			printf("}");
		}
		printf("],");
		struct report_meta meta;
		report_meta_collect(&meta);
		report_meta_json(stdout, &meta);
		printf("}\n");
	}
	status = 0;
	goto out;
oom:
	fprintf(stderr, "snn train: out of memory\n");
	status = 1;
out:
	nn_mnist_finish(&tr);
	nn_mnist_finish(&te);
	owner_set_finish(&train_set);
	owner_set_finish(&test_set);
	float_set_finish(&ftrain);
	float_set_finish(&ftest);
	for (int j = 0; j < PARTY_COUNT; j++)
		nn_model_finish(&model[j]);
	nn_model_finish(&clear);
	nn_model_finish(&twin);
	nn_model_finish(&backup[0]);
	nn_model_finish(&backup[1]);
	nn_model_finish(&check);
	nn_float_model_finish(&fmodel);
	nn_float_work_finish(&fwork);
	free(flabels);
	curve_finish(&curve);
	if (twin_ready)
		arena_finish(&twin_arena);
	free(order);
	free(pred);
	if (results)
		for (size_t k = 0; k < o.epochs; k++)
			free(results[k].shadow);
	free(results);
	return status;
}

/* ---- snn infer ---- */

static void infer_usage(FILE *out)
{
	fprintf(
	    out,
	    "usage: snn infer --model PREFIX|FILE [options]\n\n"
	    "Secure inference (forward pass and argmax among P0, P1, P2) with a trained model:\n"
	    "the share pair PREFIX.p0/PREFIX.p1 of snn train, or a cleartext model file\n"
	    "(snn train --reveal), which this process then secret-shares as the model owner.\n"
	    "Prints the test accuracy and the confusion matrix, or with --image the class of\n"
	    "each image.\n\n"
	    "options:\n"
	    "  --model PREFIX|FILE   the model (required)\n"
	    "  --net NAME|FILE       run this network instead of the model's own; it must have\n"
	    "                        the same parameter layers (e.g. C-bench for a C model)\n"
	    "  --data DIR            MNIST idx files (default $SNN_DATA or data/mnist)\n"
	    "  --batch B             images per inference batch (default 100)\n"
	    "  --test-limit N        the first N test images (default all 10000), rounded down\n"
	    "                        to a multiple of the batch\n"
	    "  --image FILE ...      classify these images (idx, raw 784 bytes or 28x28 PGM)\n"
	    "  --quiet               no progress output on stderr\n"
	    "  --json                last line: one JSON object with the results\n");
	cli_print_run_flags(out);
}

/* Load --model: a share pair, a cleartext file, or one half of a pair. */
static int load_model(struct nn_model *s0, struct nn_model *s1, struct model_file_info *info,
                      const char *spec, int *was_clear, char *shown, char *err, size_t err_len)
{
	char path[PATH_LEN];
	struct model_file_want any = {.net = NULL, .params_only = 0, .frac_bits = 0, .kind = -1};
	*was_clear = 0;
	snprintf(path, sizeof(path), "%s.p0", spec);
	snprintf(shown, PATH_LEN, "%s", path);
	if (access(path, F_OK) == 0)
		return model_file_read_pair(s0, s1, info, spec, &any, err, err_len);
	snprintf(shown, PATH_LEN, "%s", spec);
	if (access(spec, F_OK) != 0) {
		snprintf(err, err_len, "cannot read model '%s': neither %s.p0 nor %s exists", spec,
		         spec, spec);
		return ERROR_IO;
	}
	TRY(model_file_read(s0, info, spec, err, err_len));
	if (info->kind == MODEL_FILE_CLEAR) {
		*was_clear = 1;
		return 0;
	}
	nn_model_finish(s0);
	size_t n = strlen(spec);
	if (n > 3 && (strcmp(spec + n - 3, ".p0") == 0 || strcmp(spec + n - 3, ".p1") == 0) &&
	    n - 3 < sizeof(path)) {
		memcpy(path, spec, n - 3);
		path[n - 3] = '\0';
		return model_file_read_pair(s0, s1, info, path, &any, err, err_len);
	}
	snprintf(err, err_len, "%s holds %s: give the prefix of the pair (without .p0/.p1)", spec,
	         model_file_kind_name(info->kind));
	return ERROR_INVAL;
}

int train_infer_main(int argc, char **argv)
{
	struct cli_run run;
	cli_run_default(&run);
	const char *cmd = "infer";
	const char *net_name = NULL, *model_spec = NULL, *data_dir = nn_mnist_default_dir();
	uint64_t batch = INFER_BATCH_DEFAULT, test_limit = UINT64_MAX;
	int json = 0, quiet = 0, batch_given = 0;
	const char **images = calloc((size_t)argc + 1, sizeof(char *));
	size_t n_images = 0;
	int image_mode = 0;
	if (!images) {
		fprintf(stderr, "snn infer: out of memory\n");
		return 1;
	}
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		int r = cli_parse_run_flag(cmd, &run, argc, argv, &i);
		if (r < 0)
			goto usage_error;
		if (r > 0)
			continue;
		const char *v;
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			infer_usage(stdout);
			free(images);
			return 0;
		} else if (strcmp(a, "--json") == 0) {
			json = 1;
		} else if (strcmp(a, "--quiet") == 0) {
			quiet = 1;
		} else if (cli_is(a, "--net")) {
			if (!(net_name = cli_value(cmd, argc, argv, &i)))
				goto usage_error;
		} else if (cli_is(a, "--model")) {
			if (!(model_spec = cli_value(cmd, argc, argv, &i)))
				goto usage_error;
		} else if (cli_is(a, "--data")) {
			if (!(data_dir = cli_value(cmd, argc, argv, &i)))
				goto usage_error;
		} else if (cli_is(a, "--batch")) {
			if (!(v = cli_value(cmd, argc, argv, &i)) ||
			    cli_parse_u64(cmd, "--batch", v, 1, BATCH_MAX, &batch) < 0)
				goto usage_error;
			batch_given = 1;
		} else if (cli_is(a, "--test-limit")) {
			if (!(v = cli_value(cmd, argc, argv, &i)) ||
			    cli_parse_u64(cmd, "--test-limit", v, 1, UINT32_MAX, &test_limit) < 0)
				goto usage_error;
		} else if (cli_is(a, "--image")) {
			if (!(v = cli_value(cmd, argc, argv, &i)))
				goto usage_error;
			images[n_images++] = v;
			image_mode = 1;
		} else if (a[0] == '-' && a[1] != '\0') {
			cli_reject("infer", a);
			goto usage_error;
		} else if (image_mode) {
			images[n_images++] = a;
		} else {
			fprintf(stderr,
			        "snn infer: unexpected argument '%s' (images go after --image)\n",
			        a);
			goto usage_error;
		}
	}
	if (!model_spec) {
		fprintf(stderr, "snn infer: --model is required (a PREFIX of .p0/.p1 files or a "
		                "cleartext model file)\n");
		goto usage_error;
	}

	int status = 1;
	char err[1024];
	struct nn_net net;
	struct nn_model file_model[2], model[PARTY_COUNT];
	struct model_file_info info;
	struct owner_set set;
	struct nn_mnist te;
	uint8_t *pixels = NULL, *pred = NULL;
	memset(file_model, 0, sizeof(file_model));
	memset(model, 0, sizeof(model));
	memset(&set, 0, sizeof(set));
	memset(&te, 0, sizeof(te));
	int was_clear;
	char shown[PATH_LEN]; /* the file named in messages */
	if (load_model(&file_model[0], &file_model[1], &info, model_spec, &was_clear, shown, err,
	               sizeof(err)) < 0) {
		fprintf(stderr, "snn infer: --model: %s\n", err);
		goto out;
	}
	if (net_name) {
		if (load_net(cmd, &net, net_name) < 0) {
			status = 2;
			goto out;
		}
		struct model_file_want want = {
		    .net = &net, .params_only = 1, .frac_bits = 0, .kind = -1};
		if (model_file_check(shown, &info, &file_model[0], &want, err, sizeof(err)) < 0) {
			fprintf(stderr, "snn infer: %s\n", err);
			goto out;
		}
	} else {
		net = file_model[0].net;
		if (net.in_h != NN_MNIST_ROWS || net.in_w != NN_MNIST_COLS || net.in_c != 1 ||
		    nn_net_classes(&net) != NN_MNIST_CLASSES) {
			fprintf(stderr,
			        "snn infer: the model's network '%s' is not for 28x28x1 images "
			        "in 10 classes\n",
			        net.name);
			goto out;
		}
	}
	unsigned frac = info.frac_bits;
	for (int j = 0; j < PARTY_COUNT; j++)
		if (nn_model_init(&model[j], &net) < 0)
			goto oom;
	if (was_clear) {
		/* The model owner shares the cleartext weights. */
		struct nn_model plain;
		if (nn_model_init(&plain, &net) < 0)
			goto oom;
		copy_params(&plain, &file_model[0]);
		struct prg g;
		prg_from(&g, run.cfg.seed, "owner-model");
		nn_model_share(&plain, &model[0], &model[1], &g);
		prg_finish(&g);
		nn_model_finish(&plain);
	} else {
		copy_params(&model[0], &file_model[0]);
		copy_params(&model[1], &file_model[1]);
	}
	nn_model_finish(&file_model[0]);
	nn_model_finish(&file_model[1]);

	/* The data: image files, or the test set. */
	size_t n;
	const uint8_t *labels = NULL;
	if (image_mode) {
		n = n_images;
		if (!(pixels = malloc(n * NN_MNIST_PIXELS)))
			goto oom;
		for (size_t k = 0; k < n; k++)
			if (nn_mnist_load_image(pixels + k * NN_MNIST_PIXELS, images[k], err,
			                        sizeof(err)) < 0) {
				fprintf(stderr, "snn infer: --image: %s\n", err);
				goto out;
			}
		if (!batch_given || batch > n)
			batch = n;
		if (n % batch) {
			fprintf(stderr,
			        "snn infer: %zu images do not fill batches of %" PRIu64
			        " (drop --batch)\n",
			        n, batch);
			status = 2;
			goto out;
		}
	} else {
		if (nn_mnist_load_dir(&te, data_dir, "t10k", err, sizeof(err)) < 0) {
			fprintf(stderr, "snn infer: %s\n", err);
			goto out;
		}
		n = te.n < test_limit ? te.n : (size_t)test_limit;
		if (batch > n)
			batch = n;
		n = n / batch * batch;
		labels = te.labels;
	}
	{
		struct prg owner;
		prg_from(&owner, run.cfg.seed, "owner");
		int rc = owner_share(&set, image_mode ? pixels : te.pixels, labels, n, frac, &owner,
		                     0, 0);
		prg_finish(&owner);
		if (rc < 0)
			goto oom;
	}
	nn_mnist_finish(&te);
	if (!(pred = malloc(n)))
		goto oom;

	char netsum[160];
	model_file_net_summary(&net, netsum, sizeof(netsum));
	if (!quiet)
		fprintf(stderr,
		        "snn infer: network %s (%s), model %s (%s, %" PRIu64
		        " epochs, %u fractional bits), %zu images in batches of %" PRIu64
		        ", network model %s\n",
		        net.name, netsum, model_spec, was_clear ? "cleartext" : "shares",
		        info.epochs, frac, n, batch, run.network);
	struct run_cost cost = {0};
	struct nn_model *ms[PARTY_COUNT] = {&model[0], &model[1], &model[2]};
	if (run_infer(cmd, &run, derive_seed(run.cfg.seed, "infer"), ms, &set, n, (size_t)batch,
	              frac, "inference", quiet, pred, &cost) < 0)
		goto out;

	char tb[32];
	fmt_bytes(tb, sizeof(tb), cost.bytes);
	size_t confusion[NN_MNIST_CLASSES][NN_MNIST_CLASSES] = {{0}};
	size_t correct = 0, invalid = 0;
	if (image_mode) {
		for (size_t k = 0; k < n; k++) {
			if (pred[k] < NN_MNIST_CLASSES)
				printf("%s: class %u\n", images[k], pred[k]);
			else
				printf("%s: no class (reconstructed index out of range)\n",
				       images[k]);
		}
	} else {
		for (size_t k = 0; k < n; k++) {
			if (pred[k] < NN_MNIST_CLASSES)
				confusion[set.labels[k]][pred[k]]++;
			else
				invalid++;
			correct += pred[k] == set.labels[k];
		}
		printf("network %s, %zu test images, batch %" PRIu64
		       ": accuracy %.4f (%zu of %zu)\n",
		       net.name, n, batch, (double)correct / (double)n, correct, n);
		if (invalid)
			printf("%zu predictions were not a class 0-9 (counted as wrong)\n",
			       invalid);
		printf("confusion matrix (rows: true class, columns: predicted class):\n      ");
		for (int c = 0; c < NN_MNIST_CLASSES; c++)
			printf("%6d", c);
		printf("\n");
		for (int r = 0; r < NN_MNIST_CLASSES; r++) {
			printf("  %2d  ", r);
			for (int c = 0; c < NN_MNIST_CLASSES; c++)
				printf("%6zu", confusion[r][c]);
			printf("\n");
		}
	}
	printf(
	    "wall %.2f s, simulated %.2f s (network %s), %s sent, cpu P0/P1/P2 %.2f/%.2f/%.2f s\n",
	    cost.wall_s, cost.sim_s, run.network, tb, cost.cpu_s[0], cost.cpu_s[1], cost.cpu_s[2]);
	if (json) {
		printf("{\"net\":");
		trace_json_str(stdout, net.name);
		printf(",\"model\":");
		trace_json_str(stdout, model_spec);
		printf(",\"model_epochs\":%" PRIu64 ",\"frac_bits\":%u,\"batch\":%" PRIu64 ",",
		       info.epochs, frac, batch);
		if (image_mode)
			printf("\"test_accuracy\":null,");
		else
			printf("\"test_accuracy\":%.6f,", (double)correct / (double)n);
		printf("\"images\":%zu,\"wall_s\":%.3f,\"sim_s\":%.3f,\"network\":", n, cost.wall_s,
		       cost.sim_s);
		trace_json_str(stdout, run.network);
		printf(",\"bytes\":%" PRIu64 ",\"cpu_s\":[%.3f,%.3f,%.3f],\"confusion\":",
		       cost.bytes, cost.cpu_s[0], cost.cpu_s[1], cost.cpu_s[2]);
		if (image_mode) {
			printf("null,\"predictions\":[");
			for (size_t k = 0; k < n; k++) {
				printf("%s{\"file\":", k ? "," : "");
				trace_json_str(stdout, images[k]);
				if (pred[k] < NN_MNIST_CLASSES)
					printf(",\"class\":%u}", pred[k]);
				else
					printf(",\"class\":null}");
			}
			printf("]");
		} else {
			printf("[");
			for (int r = 0; r < NN_MNIST_CLASSES; r++) {
				printf("%s[", r ? "," : "");
				for (int c = 0; c < NN_MNIST_CLASSES; c++)
					printf("%s%zu", c ? "," : "", confusion[r][c]);
				printf("]");
			}
			printf("]");
		}
		printf(",");
		struct report_meta meta;
		report_meta_collect(&meta);
		report_meta_json(stdout, &meta);
		printf("}\n");
	}
	status = 0;
	goto out;
oom:
	fprintf(stderr, "snn infer: out of memory\n");
	status = 1;
out:
	nn_model_finish(&file_model[0]);
	nn_model_finish(&file_model[1]);
	for (int j = 0; j < PARTY_COUNT; j++)
		nn_model_finish(&model[j]);
	owner_set_finish(&set);
	nn_mnist_finish(&te);
	free(pixels);
	free(pred);
	free(images);
	return status;
usage_error:
	free(images);
	return 2;
}
