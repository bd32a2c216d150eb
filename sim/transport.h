/* How a party's messages reach its peers.
 *
 * Parties talk only through a struct transport. The in-memory transport
 * below connects three threads of one process with six channels; a TCP
 * transport for three processes on three hosts implements the same
 * operations, so protocol code never changes. Timing and accounting live
 * above this layer (party.c); a transport only moves headers and bytes. */
#ifndef SNN_SIM_TRANSPORT_H
#define SNN_SIM_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

#include "channel.h"
#include "error.h"

#define TRANSPORT_PARTIES 3

struct transport;

struct transport_ops {
	/* Deliver a copy of data (hdr->n_bytes bytes) to party `to`. */
	int (*send)(struct transport *t, int to, const void *data, struct channel_header *hdr);
	/* Next message from party `from`; must be n_bytes long (else ERROR_SIZE). */
	int (*recv)(struct transport *t, int from, void *data, size_t n_bytes, uint64_t timeout_ns,
		    struct channel_header *hdr);
	/* Close every link to and from this party so blocked peers wake up. */
	void (*close)(struct transport *t, int reason);
	/* This party sends nothing more: close its outgoing links (peers still
	 * receive what is queued, then ERROR_CLOSED instead of waiting). */
	void (*finish)(struct transport *t);
};

struct transport {
	const struct transport_ops *ops; /* implementation */
	int self;                        /* this party's id, 0..2 */
	void *impl;                      /* implementation state */
};

/* The in-memory network: channel[from][to] for the six ordered pairs. */
struct transport_mem {
	struct channel *channel[TRANSPORT_PARTIES][TRANSPORT_PARTIES]; /* [from][to], diagonal NULL */
};

int transport_mem_init(struct transport_mem *net) SNN_MUST_CHECK;
void transport_mem_finish(struct transport_mem *net);

/* Fill t with party `self`'s endpoint of net. */
void transport_mem_attach(struct transport_mem *net, int self, struct transport *t);

#endif
