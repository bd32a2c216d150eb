#include "party.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "sim.h"

uint64_t party_thread_cpu_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t party_mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int party_fail(struct party *p, int code, const char *fmt, ...)
{
	if (p->err == 0) {
		p->err = code;
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(p->errmsg, sizeof(p->errmsg), fmt, ap);
		va_end(ap);
	}
	return code;
}

void party_clock_update(struct party *p)
{
	if (p->cfg->clock == SIM_CLOCK_REAL) {
		p->now_ns = party_mono_ns() - p->start_mono_ns;
		return;
	}
	uint64_t cpu = party_thread_cpu_ns();
	uint64_t delta = cpu - p->cpu_mark_ns;
	p->cpu_mark_ns = cpu;
	if (p->cfg->cpu_scale == 1.0)
		p->now_ns += delta;
	else if (p->cfg->cpu_scale > 0.0)
		p->now_ns += (uint64_t)((double)delta * p->cfg->cpu_scale + 0.5);
}

struct prg *party_common(struct party *p, int peer)
{
	if (peer < 0 || peer >= PARTY_COUNT || !p->has_common[peer])
		return NULL;
	return &p->common[peer];
}

static int check_peer(struct party *p, int peer, const char *what)
{
	if (peer < 0 || peer >= PARTY_COUNT || peer == p->id)
		return party_fail(p, ERROR_INVAL, "P%d: %s with invalid peer %d", p->id, what, peer);
	return 0;
}

static int inject_fault(struct party *p, const char *what, int peer)
{
	if (p->n_ops++ != p->fault_at)
		return 0;
	return party_fail(p, ERROR_FAULT, "P%d: injected fault at message %llu (%s P%d)", p->id,
			  (unsigned long long)p->fault_at, what, peer);
}

int party_send(struct party *p, int to, const void *data, size_t n_bytes)
{
	TRY(check_peer(p, to, "send"));
	TRY(inject_fault(p, "send to", to));

	party_clock_update(p);
	uint64_t start = p->now_ns > p->link_free_ns[to] ? p->now_ns : p->link_free_ns[to];
	uint64_t busy = netmodel_transfer_ns(&p->out_link[to], n_bytes);
	p->link_free_ns[to] = start + busy;

	uint32_t round = p->recv_round + 1;
	struct channel_header hdr = {
		.n_bytes = n_bytes,
		.arrival_ns = start + busy + p->out_link[to].latency_ns,
		.round = round,
	};
	int rc = p->tr->ops->send(p->tr, to, data, &hdr);
	if (rc < 0)
		return party_fail(p, rc, "P%d: send of %zu bytes to P%d failed: %s", p->id, n_bytes, to,
				  error_strerror(rc));
	if (round > p->round)
		p->round = round;
	stats_on_send(&p->stats, to, n_bytes);
	if (p->trace)
		trace_on_send(p, to, n_bytes, round, hdr.arrival_ns);
	return 0;
}

static void sleep_until_mono(uint64_t t_ns)
{
	struct timespec ts = {
		.tv_sec = (time_t)(t_ns / 1000000000u),
		.tv_nsec = (long)(t_ns % 1000000000u),
	};
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

int party_recv(struct party *p, int from, void *data, size_t n_bytes)
{
	TRY(check_peer(p, from, "receive"));
	TRY(inject_fault(p, "receive from", from));

	party_clock_update(p);
	uint64_t wait_start_ns = p->now_ns; /* on the party's clock */
	uint64_t wait_start = party_mono_ns();
	struct channel_header hdr;
	int rc = p->tr->ops->recv(p->tr, from, data, n_bytes, p->cfg->timeout_ns, &hdr);
	if (rc == ERROR_SIZE)
		return party_fail(p, rc, "P%d: expected %zu bytes from P%d, got a message of %llu bytes",
				  p->id, n_bytes, from, (unsigned long long)hdr.n_bytes);
	if (rc == ERROR_TIMEOUT)
		return party_fail(p, rc, "P%d: nothing from P%d within %.3f s (receive of %zu bytes)",
				  p->id, from, (double)p->cfg->timeout_ns / 1e9, n_bytes);
	if (rc == ERROR_CLOSED)
		return party_fail(p, rc, "P%d: P%d closed the link (it failed or finished early) "
				  "while %zu bytes were expected", p->id, from, n_bytes);
	if (rc < 0)
		return party_fail(p, rc, "P%d: receive from P%d failed: %s", p->id, from,
				  error_strerror(rc));

	if (p->cfg->clock == SIM_CLOCK_REAL) {
		sleep_until_mono(p->start_mono_ns + hdr.arrival_ns);
		p->now_ns = party_mono_ns() - p->start_mono_ns;
	} else if (hdr.arrival_ns > p->now_ns) {
		p->now_ns = hdr.arrival_ns;
	}
	uint64_t waited = party_mono_ns() - wait_start;

	if (hdr.round > p->recv_round)
		p->recv_round = hdr.round;
	if (hdr.round > p->round)
		p->round = hdr.round;
	stats_on_recv(&p->stats, from, n_bytes, waited);
	if (p->trace)
		trace_on_recv(p, from, n_bytes, hdr.round, wait_start_ns, hdr.arrival_ns);
	if (p->cfg->on_recv)
		p->cfg->on_recv(p->cfg->on_recv_ctx, p, from, data, &hdr);
	return 0;
}

int party_exchange(struct party *p, int peer, const void *out, void *in, size_t n_bytes)
{
	TRY(party_send(p, peer, out, n_bytes));
	return party_recv(p, peer, in, n_bytes);
}

static int size_bytes(struct party *p, size_t n, size_t elem, size_t *out)
{
	if (elem && n > SIZE_MAX / elem)
		return party_fail(p, ERROR_RANGE, "P%d: message of %zu elements is too large", p->id, n);
	*out = n * elem;
	return 0;
}

int party_send_u64(struct party *p, int to, const uint64_t *x, size_t n)
{
	size_t bytes = 0;
	TRY(size_bytes(p, n, sizeof(*x), &bytes));
	return party_send(p, to, x, bytes);
}

int party_recv_u64(struct party *p, int from, uint64_t *x, size_t n)
{
	size_t bytes = 0;
	TRY(size_bytes(p, n, sizeof(*x), &bytes));
	return party_recv(p, from, x, bytes);
}

int party_send_u8(struct party *p, int to, const uint8_t *x, size_t n)
{
	return party_send(p, to, x, n);
}

int party_recv_u8(struct party *p, int from, uint8_t *x, size_t n)
{
	return party_recv(p, from, x, n);
}
