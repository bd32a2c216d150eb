/* An ordered, in-memory, one-directional message queue between two party
 * threads. The only object the party threads share; internally locked.
 *
 * A send copies the payload, so the sender may reuse its buffer at once and
 * never blocks. A receive blocks until a message is there, the channel is
 * closed, or the timeout passes; it checks that the message has exactly the
 * size the receiver expects. */
#ifndef SNN_SIM_CHANNEL_H
#define SNN_SIM_CHANNEL_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

/* What travels with every payload. */
struct channel_header {
	uint64_t n_bytes;    /* payload size */
	uint64_t arrival_ns; /* when it reaches the receiver, on the run's clock */
	uint32_t round;      /* the message's round (see party.h) */
	uint32_t seq;        /* per-channel sequence number, from 0 */
};

struct channel;

int channel_create(struct channel **out) SNN_MUST_CHECK;
void channel_destroy(struct channel *ch);

/* Queue a copy of data. ERROR_CLOSED if the channel was closed,
 * ERROR_NOMEM if the copy cannot be made. hdr->seq is filled in. */
int channel_send(struct channel *ch, const void *data, struct channel_header *hdr) SNN_MUST_CHECK;

/* Receive the next message into data, which must hold exactly n_bytes.
 * Errors: ERROR_SIZE (the message has another size; it is consumed),
 * ERROR_CLOSED (closed and drained), ERROR_TIMEOUT (nothing within
 * timeout_ns of wall time; 0 means wait forever). */
int channel_recv(struct channel *ch, void *data, size_t n_bytes, uint64_t timeout_ns,
		 struct channel_header *hdr) SNN_MUST_CHECK;

/* Close: senders get ERROR_CLOSED at once; receivers get the messages already
 * queued, then ERROR_CLOSED. Idempotent. reason is kept for diagnostics. */
void channel_close(struct channel *ch, int reason);

/* Messages and bytes queued and not yet received. */
void channel_pending(struct channel *ch, size_t *n_msgs, uint64_t *n_bytes);

#endif
