#include <criterion/criterion.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "channel.h"

#define MS 1000000ull /* ns */

/* splitmix64: test-side randomness. */
static uint64_t rand_next(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void sleep_ns(uint64_t ns)
{
	struct timespec ts = { .tv_sec = (time_t)(ns / 1000000000u),
			       .tv_nsec = (long)(ns % 1000000000u) };
	while (nanosleep(&ts, &ts) != 0)
		;
}

static unsigned char pattern(size_t msg, size_t i)
{
	return (unsigned char)(msg * 31u + i * 13u + 5u);
}

static struct channel *make_channel(void)
{
	struct channel *ch = NULL;
	cr_assert_eq(channel_create(&ch), 0);
	cr_assert_not_null(ch);
	return ch;
}

static int send_bytes(struct channel *ch, const void *data, uint64_t n_bytes, uint32_t round,
		      uint64_t arrival_ns)
{
	struct channel_header hdr = { .n_bytes = n_bytes,
				      .arrival_ns = arrival_ns,
				      .round = round };
	return channel_send(ch, data, &hdr);
}

Test(channel, worked_example)
{
	struct channel *ch = make_channel();
	struct channel_header hdr = { .n_bytes = 6, .arrival_ns = 1234, .round = 3, .seq = 99 };
	cr_assert_eq(channel_send(ch, "hello", &hdr), 0);
	cr_assert_eq(hdr.seq, 0, "seq is filled in by the channel");
	char buf[6] = { 0 };
	struct channel_header got;
	memset(&got, 0xff, sizeof(got));
	cr_assert_eq(channel_recv(ch, buf, 6, 0, &got), 0);
	cr_assert_str_eq(buf, "hello");
	cr_assert_eq(got.n_bytes, 6);
	cr_assert_eq(got.arrival_ns, 1234);
	cr_assert_eq(got.round, 3);
	cr_assert_eq(got.seq, 0);
	channel_destroy(ch);
}

Test(channel, destroy_is_null_safe_and_frees_queued_messages)
{
	channel_destroy(NULL);
	struct channel *ch = make_channel();
	char data[100] = { 0 };
	for (int i = 0; i < 10; i++)
		cr_assert_eq(send_bytes(ch, data, sizeof(data), 1, 0), 0, "i=%d", i);
	channel_destroy(ch); /* the sanitizer build checks that nothing leaks */
}

Test(channel, fifo_order_of_many_messages_of_varying_sizes)
{
	for (uint64_t seed = 1; seed <= 4; seed++) {
		enum { N = 500 };
		uint64_t st = seed;
		size_t len[N];
		uint32_t round[N];
		uint64_t arrival[N];
		unsigned char buf[5000];
		struct channel *ch = make_channel();
		for (size_t i = 0; i < N; i++) {
			uint64_t r = rand_next(&st);
			len[i] = (r % 10 == 0) ? 0 : (size_t)(r >> 16) % sizeof(buf);
			round[i] = (uint32_t)(r >> 40);
			arrival[i] = rand_next(&st);
			for (size_t j = 0; j < len[i]; j++)
				buf[j] = pattern(i, j);
			struct channel_header hdr = { .n_bytes = len[i],
						      .arrival_ns = arrival[i],
						      .round = round[i] };
			cr_assert_eq(channel_send(ch, buf, &hdr), 0, "seed=%llu i=%zu",
				     (unsigned long long)seed, i);
			cr_assert_eq(hdr.seq, (uint32_t)i, "seed=%llu i=%zu",
				     (unsigned long long)seed, i);
		}
		for (size_t i = 0; i < N; i++) {
			struct channel_header hdr;
			memset(buf, 0, sizeof(buf));
			cr_assert_eq(channel_recv(ch, buf, len[i], 0, &hdr), 0, "seed=%llu i=%zu",
				     (unsigned long long)seed, i);
			cr_assert_eq(hdr.seq, (uint32_t)i, "seed=%llu i=%zu",
				     (unsigned long long)seed, i);
			cr_assert_eq(hdr.n_bytes, len[i], "seed=%llu i=%zu",
				     (unsigned long long)seed, i);
			cr_assert_eq(hdr.round, round[i], "seed=%llu i=%zu",
				     (unsigned long long)seed, i);
			cr_assert_eq(hdr.arrival_ns, arrival[i], "seed=%llu i=%zu",
				     (unsigned long long)seed, i);
			for (size_t j = 0; j < len[i]; j++)
				cr_assert_eq(buf[j], pattern(i, j), "seed=%llu i=%zu byte=%zu",
					     (unsigned long long)seed, i, j);
		}
		size_t n_msgs = 1;
		uint64_t n_bytes = 1;
		channel_pending(ch, &n_msgs, &n_bytes);
		cr_assert_eq(n_msgs, 0, "seed=%llu", (unsigned long long)seed);
		cr_assert_eq(n_bytes, 0, "seed=%llu", (unsigned long long)seed);
		channel_destroy(ch);
	}
}

struct producer {
	struct channel *ch; /* where to send */
	size_t n;           /* messages to send */
	int rc;             /* first failing channel_send code, 0 if none */
};

static void *produce(void *v)
{
	struct producer *pr = v;
	unsigned char buf[64];
	for (size_t i = 0; i < pr->n; i++) {
		size_t len = i % 64;
		for (size_t j = 0; j < len; j++)
			buf[j] = pattern(i, j);
		int rc = send_bytes(pr->ch, buf, len, (uint32_t)i, i * 10);
		if (rc < 0) {
			pr->rc = rc;
			break;
		}
	}
	return NULL;
}

Test(channel, fifo_order_between_threads, .timeout = 20)
{
	struct producer pr = { .ch = make_channel(), .n = 20000, .rc = 0 };
	pthread_t t;
	cr_assert_eq(pthread_create(&t, NULL, produce, &pr), 0);
	unsigned char buf[64];
	for (size_t i = 0; i < pr.n; i++) {
		size_t len = i % 64;
		struct channel_header hdr;
		int rc = channel_recv(pr.ch, buf, len, 10000 * MS, &hdr);
		cr_assert_eq(rc, 0, "i=%zu rc=%d", i, rc);
		cr_assert_eq(hdr.seq, (uint32_t)i, "i=%zu", i);
		cr_assert_eq(hdr.round, (uint32_t)i, "i=%zu", i);
		cr_assert_eq(hdr.arrival_ns, i * 10, "i=%zu", i);
		for (size_t j = 0; j < len; j++)
			cr_assert_eq(buf[j], pattern(i, j), "i=%zu byte=%zu", i, j);
	}
	pthread_join(t, NULL);
	cr_assert_eq(pr.rc, 0);
	channel_destroy(pr.ch);
}

Test(channel, size_mismatch_consumes_the_message_and_the_next_one_arrives)
{
	struct channel *ch = make_channel();
	uint64_t a = 0x1111, b[2] = { 0x2222, 0x3333 };
	cr_assert_eq(send_bytes(ch, &a, sizeof(a), 1, 0), 0);
	cr_assert_eq(send_bytes(ch, b, sizeof(b), 2, 0), 0);
	uint64_t in[2] = { 0, 0 };
	struct channel_header hdr;
	cr_assert_eq(channel_recv(ch, in, sizeof(in), 0, &hdr), ERROR_SIZE);
	cr_assert_eq(hdr.n_bytes, sizeof(a), "the header tells the size that came");
	cr_assert_eq(hdr.seq, 0);
	cr_assert_eq(in[0], 0, "nothing is copied on a mismatch");
	size_t n_msgs;
	channel_pending(ch, &n_msgs, NULL);
	cr_assert_eq(n_msgs, 1, "the mismatched message is consumed");
	cr_assert_eq(channel_recv(ch, in, sizeof(in), 0, &hdr), 0);
	cr_assert_eq(hdr.seq, 1);
	cr_assert_eq(in[0], 0x2222);
	cr_assert_eq(in[1], 0x3333);
	/* Smaller than expected the other way round, and a 0-byte receive of data. */
	cr_assert_eq(send_bytes(ch, b, sizeof(b), 3, 0), 0);
	cr_assert_eq(channel_recv(ch, &a, sizeof(a), 0, &hdr), ERROR_SIZE);
	cr_assert_eq(hdr.n_bytes, sizeof(b));
	cr_assert_eq(send_bytes(ch, b, 1, 3, 0), 0);
	cr_assert_eq(channel_recv(ch, NULL, 0, 0, &hdr), ERROR_SIZE);
	channel_destroy(ch);
}

Test(channel, zero_byte_messages_keep_their_place)
{
	struct channel *ch = make_channel();
	uint32_t x = 0xabcdef01;
	cr_assert_eq(send_bytes(ch, NULL, 0, 1, 0), 0);
	cr_assert_eq(send_bytes(ch, &x, sizeof(x), 2, 0), 0);
	cr_assert_eq(send_bytes(ch, &x, 0, 3, 0), 0);
	size_t n_msgs;
	uint64_t n_bytes;
	channel_pending(ch, &n_msgs, &n_bytes);
	cr_assert_eq(n_msgs, 3);
	cr_assert_eq(n_bytes, sizeof(x));
	struct channel_header hdr;
	cr_assert_eq(channel_recv(ch, NULL, 0, 0, &hdr), 0);
	cr_assert_eq(hdr.round, 1);
	cr_assert_eq(hdr.n_bytes, 0);
	uint32_t y = 0;
	cr_assert_eq(channel_recv(ch, &y, sizeof(y), 0, &hdr), 0);
	cr_assert_eq(y, x);
	cr_assert_eq(hdr.round, 2);
	cr_assert_eq(channel_recv(ch, &y, 0, 0, &hdr), 0);
	cr_assert_eq(hdr.round, 3);
	cr_assert_eq(hdr.seq, 2);
	channel_destroy(ch);
}

Test(channel, pending_counts_queued_messages_and_bytes)
{
	struct channel *ch = make_channel();
	size_t n_msgs = 99;
	uint64_t n_bytes = 99;
	channel_pending(ch, &n_msgs, &n_bytes);
	cr_assert_eq(n_msgs, 0);
	cr_assert_eq(n_bytes, 0);
	unsigned char buf[1000] = { 0 };
	uint64_t total = 0;
	for (size_t i = 1; i <= 10; i++) {
		cr_assert_eq(send_bytes(ch, buf, i * 10, 1, 0), 0, "i=%zu", i);
		total += i * 10;
		channel_pending(ch, &n_msgs, &n_bytes);
		cr_assert_eq(n_msgs, i, "i=%zu", i);
		cr_assert_eq(n_bytes, total, "i=%zu", i);
	}
	channel_pending(ch, NULL, NULL); /* both outputs optional */
	for (size_t i = 1; i <= 10; i++) {
		struct channel_header hdr;
		cr_assert_eq(channel_recv(ch, buf, i * 10, 0, &hdr), 0, "i=%zu", i);
		total -= i * 10;
		channel_pending(ch, &n_msgs, NULL);
		cr_assert_eq(n_msgs, 10 - i, "i=%zu", i);
		channel_pending(ch, NULL, &n_bytes);
		cr_assert_eq(n_bytes, total, "i=%zu", i);
	}
	/* Pending survives a close until drained. */
	cr_assert_eq(send_bytes(ch, buf, 7, 1, 0), 0);
	channel_close(ch, ERROR_FAULT);
	channel_pending(ch, &n_msgs, &n_bytes);
	cr_assert_eq(n_msgs, 1);
	cr_assert_eq(n_bytes, 7);
	channel_destroy(ch);
}

Test(channel, close_drains_queued_messages_then_reports_closed)
{
	struct channel *ch = make_channel();
	for (uint32_t i = 0; i < 3; i++)
		cr_assert_eq(send_bytes(ch, &i, sizeof(i), i, 0), 0, "i=%u", i);
	channel_close(ch, 0);
	for (uint32_t i = 0; i < 3; i++) {
		uint32_t v = 99;
		struct channel_header hdr;
		cr_assert_eq(channel_recv(ch, &v, sizeof(v), 0, &hdr), 0, "i=%u", i);
		cr_assert_eq(v, i, "i=%u", i);
	}
	for (int k = 0; k < 3; k++) {
		uint32_t v;
		struct channel_header hdr;
		/* Also with a timeout: closed wins, no waiting. */
		uint64_t t0 = mono_ns();
		cr_assert_eq(channel_recv(ch, &v, sizeof(v), k ? 1000 * MS : 0, &hdr), ERROR_CLOSED,
			     "k=%d", k);
		cr_assert_lt(mono_ns() - t0, 100 * MS, "k=%d", k);
	}
	channel_destroy(ch);
}

Test(channel, send_after_close_is_closed)
{
	struct channel *ch = make_channel();
	uint64_t x = 5;
	channel_close(ch, ERROR_FAULT);
	channel_close(ch, 0); /* idempotent */
	struct channel_header hdr = { .n_bytes = sizeof(x) };
	cr_assert_eq(channel_send(ch, &x, &hdr), ERROR_CLOSED);
	cr_assert_eq(send_bytes(ch, NULL, 0, 1, 0), ERROR_CLOSED);
	size_t n_msgs;
	uint64_t n_bytes;
	channel_pending(ch, &n_msgs, &n_bytes);
	cr_assert_eq(n_msgs, 0, "a refused send queues nothing");
	cr_assert_eq(n_bytes, 0);
	cr_assert_eq(channel_recv(ch, &x, sizeof(x), 0, &hdr), ERROR_CLOSED);
	channel_destroy(ch);
}

struct blocked_recv {
	struct channel *ch;  /* channel to receive from */
	uint64_t timeout_ns; /* passed to channel_recv */
	int rc;              /* what channel_recv returned */
	uint64_t done_ns;    /* monotonic time it returned */
	uint64_t value;      /* payload, when one came */
};

static void *recv_thread(void *v)
{
	struct blocked_recv *br = v;
	struct channel_header hdr;
	br->rc = channel_recv(br->ch, &br->value, sizeof(br->value), br->timeout_ns, &hdr);
	br->done_ns = mono_ns();
	return NULL;
}

Test(channel, close_wakes_a_receiver_blocked_in_another_thread, .timeout = 20)
{
	/* Once waiting forever, once with a long timeout. */
	for (int k = 0; k < 2; k++) {
		struct blocked_recv br = { .ch = make_channel(), .timeout_ns = k ? 10000 * MS : 0 };
		pthread_t t;
		cr_assert_eq(pthread_create(&t, NULL, recv_thread, &br), 0);
		sleep_ns(50 * MS); /* let it block */
		uint64_t t_close = mono_ns();
		channel_close(br.ch, ERROR_FAULT);
		pthread_join(t, NULL);
		cr_assert_eq(br.rc, ERROR_CLOSED, "k=%d rc=%d", k, br.rc);
		cr_assert_lt(br.done_ns - t_close, 200 * MS, "k=%d: woke %llu ns after the close",
			     k, (unsigned long long)(br.done_ns - t_close));
		channel_destroy(br.ch);
	}
}

Test(channel, message_wakes_a_receiver_blocked_with_timeout, .timeout = 20)
{
	struct blocked_recv br = { .ch = make_channel(), .timeout_ns = 10000 * MS };
	pthread_t t;
	cr_assert_eq(pthread_create(&t, NULL, recv_thread, &br), 0);
	sleep_ns(30 * MS);
	uint64_t x = 0x123456789ull;
	uint64_t t_send = mono_ns();
	cr_assert_eq(send_bytes(br.ch, &x, sizeof(x), 1, 0), 0);
	pthread_join(t, NULL);
	cr_assert_eq(br.rc, 0);
	cr_assert_eq(br.value, x);
	cr_assert_lt(br.done_ns - t_send, 200 * MS);
	channel_destroy(br.ch);
}

Test(channel, receive_times_out_after_about_the_timeout, .timeout = 20)
{
	/* Tolerance: never earlier than the timeout (CLOCK_MONOTONIC deadline),
	 * at most 150 ms later (scheduling under sanitizers). */
	static const uint64_t timeout_ms[] = { 1, 20, 100 };
	for (size_t k = 0; k < sizeof(timeout_ms) / sizeof(timeout_ms[0]); k++) {
		struct channel *ch = make_channel();
		uint64_t v;
		struct channel_header hdr;
		uint64_t t0 = mono_ns();
		int rc = channel_recv(ch, &v, sizeof(v), timeout_ms[k] * MS, &hdr);
		uint64_t elapsed = mono_ns() - t0;
		cr_assert_eq(rc, ERROR_TIMEOUT, "timeout=%llu ms rc=%d",
			     (unsigned long long)timeout_ms[k], rc);
		cr_assert_geq(elapsed, timeout_ms[k] * MS, "timeout=%llu ms elapsed=%llu ns",
			      (unsigned long long)timeout_ms[k], (unsigned long long)elapsed);
		cr_assert_lt(elapsed, timeout_ms[k] * MS + 150 * MS,
			     "timeout=%llu ms elapsed=%llu ns", (unsigned long long)timeout_ms[k],
			     (unsigned long long)elapsed);
		/* A timeout consumes nothing: a later message is still received. */
		uint64_t x = 42;
		cr_assert_eq(send_bytes(ch, &x, sizeof(x), 1, 0), 0);
		cr_assert_eq(channel_recv(ch, &v, sizeof(v), timeout_ms[k] * MS, &hdr), 0);
		cr_assert_eq(v, 42);
		cr_assert_eq(hdr.seq, 0);
		channel_destroy(ch);
	}
}

Test(channel, timeout_does_not_fire_when_a_message_is_queued)
{
	struct channel *ch = make_channel();
	uint64_t x = 7, v = 0;
	cr_assert_eq(send_bytes(ch, &x, sizeof(x), 1, 0), 0);
	struct channel_header hdr;
	cr_assert_eq(channel_recv(ch, &v, sizeof(v), 1, &hdr), 0, "1 ns timeout, message ready");
	cr_assert_eq(v, 7);
	channel_destroy(ch);
}
