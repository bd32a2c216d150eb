#include "nn_train.h"

#include <string.h>


/* Copy the batch's inputs into act[0] and labels into lab. */
static void gather(const struct nn_data *d, const uint32_t *idx, size_t batch, ring_t *x,
		   ring_t *lab)
{
	for (size_t b = 0; b < batch; b++) {
		memcpy(x + b * d->in, d->x + (size_t)idx[b] * d->in, d->in * sizeof(ring_t));
		if (lab)
			memcpy(lab + b * d->classes, d->y + (size_t)idx[b] * d->classes,
			       d->classes * sizeof(ring_t));
	}
}

/* Statistics scopes of the phases (secure mode): forward, output,
 * backward, update, each holding the layers' scopes. */
static void scope(struct nn_ctx *c, const char *name)
{
	if (c->p)
		stats_push(c->p, name);
}

static void unscope(struct nn_ctx *c)
{
	if (c->p)
		stats_pop(c->p);
}

int nn_job_run(struct nn_ctx *c, struct nn_job *job)
{
	struct nn_work w;
	int rc = nn_work_init(&w, &job->model->net, job->batch);
	if (rc < 0)
		return nn_fail(c, rc, "network working memory");
	w.grad = job->grad;
	size_t K = job->data.classes;
	ring_t *lab = NULL;
	struct arena_mark mark = arena_mark(c->arena);
	if (job->train) {
		lab = arena_alloc_array(c->arena, job->batch * K, sizeof(ring_t));
		if (!lab) {
			nn_work_finish(&w);
			return nn_fail(c, ERROR_NOMEM, "labels");
		}
	}
	for (size_t it = 0; it < job->n_iter && rc == 0; it++) {
		const uint32_t *idx = job->order + it * job->batch;
		if (nn_local(c))
			gather(&job->data, idx, job->batch, w.act[0], lab);
		scope(c, "forward");
		rc = nn_forward(c, job->model, &w);
		unscope(c);
		if (rc < 0)
			break;
		if (job->train) {
			scope(c, "output");
			rc = nn_output_asm(c, job->model, &w);
			unscope(c);
			if (rc < 0)
				break;
			scope(c, "backward");
			rc = nn_backward(c, job->model, &w, lab);
			unscope(c);
			if (rc < 0)
				break;
			scope(c, "update");
			nn_sgd(c, job->model, &w, job->lr_shift);
			unscope(c);
			if (job->out && nn_local(c))
				memcpy(job->out + it * job->batch * K, w.prob, job->batch * K * sizeof(ring_t));
			if (job->progress && nn_local(c))
				job->progress(job->progress_ctx, c->p ? c->p->id : -1, it, w.prob,
					      job->batch * K);
		} else {
			ring_t *cls = job->out + it * job->batch;
			scope(c, "output");
			rc = nn_output_argmax(c, job->model, &w, cls);
			unscope(c);
			if (rc < 0)
				break;
			if (job->progress && nn_local(c))
				job->progress(job->progress_ctx, c->p ? c->p->id : -1, it, cls, job->batch);
		}
	}
	arena_reset(c->arena, mark);
	nn_work_finish(&w);
	return rc;
}

int nn_job_party_fn(struct party *p, void *arg)
{
	struct nn_job *job = arg;
	struct nn_ctx c = { .p = p, .arena = &p->arena, .frac = job->frac };
	return nn_job_run(&c, job);
}
