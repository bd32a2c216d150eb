#include "transport.h"

#include <stddef.h>

static int mem_send(struct transport *t, int to, const void *data, struct channel_header *hdr)
{
	struct transport_mem *net = t->impl;
	return channel_send(net->channel[t->self][to], data, hdr);
}

static int mem_recv(struct transport *t, int from, void *data, size_t n_bytes, uint64_t timeout_ns,
		    struct channel_header *hdr)
{
	struct transport_mem *net = t->impl;
	return channel_recv(net->channel[from][t->self], data, n_bytes, timeout_ns, hdr);
}

static void mem_close(struct transport *t, int reason)
{
	struct transport_mem *net = t->impl;
	for (int k = 0; k < TRANSPORT_PARTIES; k++) {
		if (k == t->self)
			continue;
		channel_close(net->channel[t->self][k], reason);
		channel_close(net->channel[k][t->self], reason);
	}
}

static void mem_finish(struct transport *t)
{
	struct transport_mem *net = t->impl;
	for (int k = 0; k < TRANSPORT_PARTIES; k++)
		if (k != t->self)
			channel_close(net->channel[t->self][k], 0);
}

static const struct transport_ops mem_ops = {
	.send = mem_send,
	.recv = mem_recv,
	.close = mem_close,
	.finish = mem_finish,
};

int transport_mem_init(struct transport_mem *net)
{
	for (int i = 0; i < TRANSPORT_PARTIES; i++)
		for (int j = 0; j < TRANSPORT_PARTIES; j++)
			net->channel[i][j] = NULL;
	for (int i = 0; i < TRANSPORT_PARTIES; i++) {
		for (int j = 0; j < TRANSPORT_PARTIES; j++) {
			if (i == j)
				continue;
			int rc = channel_create(&net->channel[i][j]);
			if (rc < 0) {
				transport_mem_finish(net);
				return rc;
			}
		}
	}
	return 0;
}

void transport_mem_finish(struct transport_mem *net)
{
	for (int i = 0; i < TRANSPORT_PARTIES; i++) {
		for (int j = 0; j < TRANSPORT_PARTIES; j++) {
			channel_destroy(net->channel[i][j]);
			net->channel[i][j] = NULL;
		}
	}
}

void transport_mem_attach(struct transport_mem *net, int self, struct transport *t)
{
	t->ops = &mem_ops;
	t->self = self;
	t->impl = net;
}
