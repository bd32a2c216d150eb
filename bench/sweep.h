/* `snn sweep`: one verified run of a network, re-timed under a grid of
 * networks.
 *
 * The network runs once through netrun() (secure inference, or an SGD
 * iteration with --train, on synthetic data) under --network BASE with the
 * run's events recorded (sim/trace.h). trace_retime() then replays that same
 * run under every point of a log-spaced grid of one-way latencies and
 * bandwidths, applied to all six directed links (BASE's per-message
 * overhead kept), with the run's CPU segments scaled by --cpu-scale. Each
 * point reports the simulated time per iteration and the resource that
 * bounds it: the largest of compute, latency and transfer along the
 * critical path. */
#ifndef SNN_BENCH_SWEEP_H
#define SNN_BENCH_SWEEP_H

#include <stddef.h>
#include <stdint.h>

/* A log-spaced series of n values from lo to hi (lo alone when n is 1). */
struct sweep_range {
	double lo;  /* first value: ns (latency) or B/s (bandwidth; 0 = infinite) */
	double hi;  /* last value */
	unsigned n; /* points, 1..SWEEP_MAX_POINTS */
};

#define SWEEP_MAX_POINTS 64

/* The k-th value of r (0 <= k < r->n). */
double sweep_range_value(const struct sweep_range *r, unsigned k);

/* snn sweep [options]; argv holds the arguments after "sweep". Exit status:
 * 0, 1 (the run failed or did not verify), 2 (bad arguments). */
int sweep_main(int argc, char **argv);

#endif
