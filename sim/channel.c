#include "channel.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CHANNEL_SPARES 4 /* message buffers a channel keeps for reuse */

struct msg {
	struct msg *next;           /* next in FIFO order */
	size_t cap;                 /* payload capacity in bytes */
	struct channel_header hdr;  /* metadata */
	unsigned char payload[];    /* hdr.n_bytes bytes */
};

struct channel {
	pthread_mutex_t lock;
	pthread_cond_t ready; /* signalled on enqueue and on close */
	struct msg *head;     /* oldest message */
	struct msg *tail;     /* newest message */
	size_t n_msgs;        /* queued messages */
	uint64_t n_bytes;     /* queued payload bytes */
	uint32_t next_seq;    /* seq of the next message sent */
	int closed;           /* 1 once channel_close ran */
	int close_reason;     /* code passed to channel_close */
	/* Received messages kept for the sender to reuse: protocols send
	 * the same large sizes again and again, and fresh memory for each
	 * one costs page faults (a quarter of a training run's CPU time). */
	struct msg *spare[CHANNEL_SPARES];
};

int channel_create(struct channel **out)
{
	struct channel *ch = calloc(1, sizeof(*ch));
	if (!ch)
		return ERROR_NOMEM;
	pthread_condattr_t attr;
	if (pthread_condattr_init(&attr) != 0)
		goto fail_free;
	/* Timeouts are measured on the monotonic clock, not wall time. */
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	if (pthread_cond_init(&ch->ready, &attr) != 0) {
		pthread_condattr_destroy(&attr);
		goto fail_free;
	}
	pthread_condattr_destroy(&attr);
	if (pthread_mutex_init(&ch->lock, NULL) != 0) {
		pthread_cond_destroy(&ch->ready);
		goto fail_free;
	}
	*out = ch;
	return 0;
fail_free:
	free(ch);
	return ERROR_NOMEM;
}

void channel_destroy(struct channel *ch)
{
	if (!ch)
		return;
	struct msg *m = ch->head;
	while (m) {
		struct msg *next = m->next;
		free(m);
		m = next;
	}
	for (int i = 0; i < CHANNEL_SPARES; i++)
		free(ch->spare[i]);
	pthread_mutex_destroy(&ch->lock);
	pthread_cond_destroy(&ch->ready);
	free(ch);
}

/* The smallest spare that holds n_bytes, taken out of the pool, or NULL. */
static struct msg *spare_take(struct channel *ch, size_t n_bytes)
{
	int best = -1;
	pthread_mutex_lock(&ch->lock);
	for (int i = 0; i < CHANNEL_SPARES; i++)
		if (ch->spare[i] && ch->spare[i]->cap >= n_bytes &&
		    (best < 0 || ch->spare[i]->cap < ch->spare[best]->cap))
			best = i;
	struct msg *m = NULL;
	if (best >= 0) {
		m = ch->spare[best];
		ch->spare[best] = NULL;
	}
	pthread_mutex_unlock(&ch->lock);
	return m;
}

/* Keep m for reuse in a free slot or in place of a smaller spare. */
static void spare_give(struct channel *ch, struct msg *m)
{
	pthread_mutex_lock(&ch->lock);
	int slot = 0;
	for (int i = 0; i < CHANNEL_SPARES; i++) {
		if (!ch->spare[i]) {
			slot = i;
			break;
		}
		if (ch->spare[i]->cap < ch->spare[slot]->cap)
			slot = i;
	}
	struct msg *old = ch->spare[slot];
	if (!old || old->cap < m->cap) {
		ch->spare[slot] = m;
		m = old;
	}
	pthread_mutex_unlock(&ch->lock);
	free(m);
}

int channel_send(struct channel *ch, const void *data, struct channel_header *hdr)
{
	if (hdr->n_bytes > SIZE_MAX - sizeof(struct msg))
		return ERROR_INVAL;
	struct msg *m = spare_take(ch, (size_t)hdr->n_bytes);
	if (!m) {
		m = malloc(sizeof(*m) + (size_t)hdr->n_bytes);
		if (!m)
			return ERROR_NOMEM;
		m->cap = (size_t)hdr->n_bytes;
	}
	m->next = NULL;
	if (hdr->n_bytes)
		memcpy(m->payload, data, (size_t)hdr->n_bytes);

	pthread_mutex_lock(&ch->lock);
	if (ch->closed) {
		pthread_mutex_unlock(&ch->lock);
		free(m);
		return ERROR_CLOSED;
	}
	hdr->seq = ch->next_seq++;
	m->hdr = *hdr;
	if (ch->tail)
		ch->tail->next = m;
	else
		ch->head = m;
	ch->tail = m;
	ch->n_msgs++;
	ch->n_bytes += hdr->n_bytes;
	pthread_cond_signal(&ch->ready);
	pthread_mutex_unlock(&ch->lock);
	return 0;
}

static void deadline_after(struct timespec *ts, uint64_t ns)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	uint64_t total = (uint64_t)ts->tv_nsec + ns % 1000000000u;
	ts->tv_sec += (time_t)(ns / 1000000000u + total / 1000000000u);
	ts->tv_nsec = (long)(total % 1000000000u);
}

int channel_recv(struct channel *ch, void *data, size_t n_bytes, uint64_t timeout_ns,
		 struct channel_header *hdr)
{
	struct timespec deadline;
	if (timeout_ns)
		deadline_after(&deadline, timeout_ns);

	pthread_mutex_lock(&ch->lock);
	while (!ch->head && !ch->closed) {
		int rc = timeout_ns ? pthread_cond_timedwait(&ch->ready, &ch->lock, &deadline)
				    : pthread_cond_wait(&ch->ready, &ch->lock);
		if (rc == ETIMEDOUT && !ch->head && !ch->closed) {
			pthread_mutex_unlock(&ch->lock);
			return ERROR_TIMEOUT;
		}
	}
	struct msg *m = ch->head;
	if (!m) {
		pthread_mutex_unlock(&ch->lock);
		return ERROR_CLOSED;
	}
	ch->head = m->next;
	if (!ch->head)
		ch->tail = NULL;
	ch->n_msgs--;
	ch->n_bytes -= m->hdr.n_bytes;
	pthread_mutex_unlock(&ch->lock);

	*hdr = m->hdr;
	int rc = 0;
	if (m->hdr.n_bytes != n_bytes)
		rc = ERROR_SIZE;
	else if (n_bytes)
		memcpy(data, m->payload, n_bytes);
	spare_give(ch, m);
	return rc;
}

void channel_close(struct channel *ch, int reason)
{
	pthread_mutex_lock(&ch->lock);
	if (!ch->closed) {
		ch->closed = 1;
		ch->close_reason = reason;
	}
	pthread_cond_broadcast(&ch->ready);
	pthread_mutex_unlock(&ch->lock);
}

void channel_pending(struct channel *ch, size_t *n_msgs, uint64_t *n_bytes)
{
	pthread_mutex_lock(&ch->lock);
	if (n_msgs)
		*n_msgs = ch->n_msgs;
	if (n_bytes)
		*n_bytes = ch->n_bytes;
	pthread_mutex_unlock(&ch->lock);
}
