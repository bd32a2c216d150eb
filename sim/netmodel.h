/* Network model: per directed link between P0, P1 and P2, a one-way latency, a
 * bandwidth and a per-message overhead, and the parser for the textual spec
 * given on the command line (--net) and recorded in result metadata.
 *
 * Spec grammar (spaces around items and before a unit are ignored):
 *
 *   spec     = base *( ";" override )
 *   base     = preset *( "," keyval )     a preset, optionally modified
 *            | keyval *( "," keyval )     custom; unset keys keep "none" values
 *   override = link ":" keyval *( "," keyval )
 *   link     = party "-" party            both directions between two parties
 *            | party "->" party           one direction only
 *   party    = "P0" | "P1" | "P2"
 *   keyval   = "lat=" duration            one-way latency
 *            | "ping=" duration           round trip; the one-way latency is half
 *            | "bw=" rate                 bandwidth
 *            | "overhead=" integer ["B"]  bytes added to every message
 *
 * Presets (one-way latency = ping / 2, the same on all six directed links):
 *
 *   none       0 latency, infinite bandwidth, no overhead
 *   paper-lan  625 MB/s, ping 0.22 ms   (SecureNN paper, Sec. 7.1: LAN)
 *   paper-wan  40 MB/s,  ping 58 ms     (SecureNN paper, Sec. 7.1: WAN)
 *   lan-10g    10 Gbit/s, ping 0.1 ms
 *   lan-1g     1 Gbit/s,  ping 0.2 ms
 *   wan-100m   100 Mbit/s, ping 80 ms
 *
 * Examples: "paper-wan", "paper-wan,bw=10MB/s", "lat=29ms,bw=40MB/s,overhead=64",
 * "paper-lan;P0-P2:lat=5ms,bw=100MB/s", "none;P0->P2:bw=1MB/s".
 * Later items win: an override applies on top of the base and of earlier
 * overrides. A key given twice in one item list, or both lat and ping, is an error.
 *
 * Units are case-sensitive and must be unambiguous:
 *   duration  a decimal number (optionally with an exponent, "1.5e3us") and one
 *             of ns, us, ms, s; a bare number is an error. Rounded to the
 *             nearest nanosecond.
 *   rate      bytes: B/s, kB/s, MB/s, GB/s, TB/s (powers of 10^3) and KiB/s,
 *             MiB/s, GiB/s, TiB/s (powers of 2^10);
 *             bits:  bit/s, kbit/s, Mbit/s, Gbit/s, Tbit/s and bps, kbps, Mbps,
 *             Gbps, Tbps (powers of 10^3);
 *             or "inf" for unlimited. "Mb/s", "MBps", "KB/s" and the like are
 *             rejected with a message that says what to write instead. A rate
 *             must be positive; 0 is spelled "inf".
 *
 * Numbers are parsed and printed without strtod or "%f", so neither depends
 * on the C locale's decimal point (except printing values beyond 1e+-300). */
#ifndef SNN_SIM_NETMODEL_H
#define SNN_SIM_NETMODEL_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define NETMODEL_PARTIES 3

/* A buffer of this size holds any message netmodel_parse writes untruncated
 * (for specs of reasonable length) and any netmodel_format line. */
#define NETMODEL_TEXT_LEN 1024

struct netlink {
	uint64_t latency_ns;     /* one-way propagation delay */
	double bandwidth_Bps;    /* bytes per second; 0 means infinite */
	uint64_t overhead_bytes; /* added to every message (headers) */
};

struct netmodel {
	char name[64]; /* preset name if the model equals a preset, else "custom" */
	/* [from][to]; the diagonal is unused and zero */
	struct netlink link[NETMODEL_PARTIES][NETMODEL_PARTIES];
};

/* Fill m with the "none" preset: zero latency, infinite bandwidth, no overhead. */
void netmodel_default(struct netmodel *m);

/* Parse spec (grammar above) into m. On success returns 0 and sets m->name to
 * the preset the result equals (so "lat=29ms,bw=40MB/s" is "paper-wan") or to
 * "custom". On error returns ERROR_INVAL, leaves m unchanged and writes a
 * one-line message naming the bad part and the accepted values into err
 * (which may be NULL; NETMODEL_TEXT_LEN bytes suffice). */
SNN_MUST_CHECK int netmodel_parse(struct netmodel *m, const char *spec, char *err, size_t err_len);

/* Time the link is busy sending one message of n_bytes: (n_bytes + overhead) /
 * bandwidth, in ns, rounded up; 0 for infinite bandwidth (and for a negative
 * or NaN one, which the parser never produces); saturates at UINT64_MAX.
 * Latency is not included. Exact for integer bandwidths below 1.8e16 B/s
 * (625 MB/s and 10^6 bytes give exactly 1 600 000 ns). */
uint64_t netmodel_transfer_ns(const struct netlink *l, size_t n_bytes);

/* One human-readable line with unambiguous units, truncated to len, e.g.
 * "paper-lan: 0.110 ms one-way (0.220 ms ping), 625 MB/s (5.00 Gbit/s)".
 * The line describes the setting most links share; links that differ follow as
 * "; override P0-P2: ..." (both directions) or "; override P0->P2: ...". */
void netmodel_format(const struct netmodel *m, char *buf, size_t len);

/* Parse one duration ("0.11ms", "29 ms", "500us", "1s", "250ns") into ns.
 * Returns 0, ERROR_INVAL (malformed, negative, no or unknown unit) or
 * ERROR_RANGE (more than UINT64_MAX ns). *ns is written only on success. */
SNN_MUST_CHECK int netmodel_parse_duration(const char *s, uint64_t *ns);

/* Parse one rate ("625MB/s", "40 MB/s", "10Gbit/s", "100Mbps", "1.5GiB/s",
 * "inf") into bytes per second; "inf" gives 0, the struct netlink encoding of
 * infinite. Returns 0, ERROR_INVAL (malformed, zero, negative, no, unknown or
 * ambiguous unit) or ERROR_RANGE (overflows or underflows a double). */
SNN_MUST_CHECK int netmodel_parse_rate(const char *s, double *Bps);

/* Format a rate with 3 significant digits in decimal byte units ("625 MB/s",
 * "1.25 GB/s", "40.0 MB/s"; below 0.001 B/s or from 1000 TB/s on in exponent
 * notation, "1.00e-05 B/s"); 0 and +inf give "inf", NaN and negatives
 * "invalid". The output parses back with netmodel_parse_rate. Like snprintf:
 * returns the length of the whole text and writes at most len bytes, NUL
 * included (buf may be NULL when len is 0). */
size_t netmodel_format_rate(double Bps, char *buf, size_t len);

/* Format a duration in ns, us, ms or s: whole ns below 1 us ("250 ns"), else 3
 * significant digits ("110 us", "29.0 ms", "1.00 s", "1.84e+10 s"). The output
 * parses back with netmodel_parse_duration. Returns like netmodel_format_rate. */
size_t netmodel_format_duration(uint64_t ns, char *buf, size_t len);

/* The preset names, NULL-terminated, in the order documented above. */
const char *const *netmodel_preset_names(void);

#endif
