#include <criterion/criterion.h>

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "netmodel.h"

static const char *const links[] = {"P0->P1", "P0->P2", "P1->P0", "P1->P2", "P2->P0", "P2->P1"};

/* Assert one directed link; ctx names the spec in failure messages. */
static void check_link(const struct netmodel *m, int from, int to, uint64_t lat_ns,
		       double bw_Bps, uint64_t overhead, const char *ctx)
{
	const struct netlink *l = &m->link[from][to];
	cr_assert_eq(l->latency_ns, lat_ns, "%s: P%d->P%d latency %llu ns, want %llu", ctx, from,
		     to, (unsigned long long)l->latency_ns, (unsigned long long)lat_ns);
	cr_assert_eq(l->bandwidth_Bps, bw_Bps, "%s: P%d->P%d bandwidth %.17g B/s, want %.17g",
		     ctx, from, to, l->bandwidth_Bps, bw_Bps);
	cr_assert_eq(l->overhead_bytes, overhead, "%s: P%d->P%d overhead %llu B, want %llu", ctx,
		     from, to, (unsigned long long)l->overhead_bytes,
		     (unsigned long long)overhead);
}

static void check_all_links(const struct netmodel *m, uint64_t lat_ns, double bw_Bps,
			    uint64_t overhead, const char *ctx)
{
	for (int from = 0; from < NETMODEL_PARTIES; from++)
		for (int to = 0; to < NETMODEL_PARTIES; to++)
			if (from != to)
				check_link(m, from, to, lat_ns, bw_Bps, overhead, ctx);
}

static struct netmodel parse_ok(const char *spec)
{
	struct netmodel m;
	char err[NETMODEL_TEXT_LEN];
	int rc = netmodel_parse(&m, spec, err, sizeof(err));
	cr_assert_eq(rc, 0, "spec '%s' rejected: %s", spec, err);
	return m;
}

/* The spec is rejected with ERROR_INVAL, the message names every needle, and
 * the model is left as it was. */
static void check_rejected(const char *spec, const char *needle, const char *needle2)
{
	struct netmodel m, before;
	netmodel_default(&m);
	m.link[0][1].latency_ns = 12345; /* a marker that must survive */
	before = m;
	char err[NETMODEL_TEXT_LEN] = "";
	int rc = netmodel_parse(&m, spec, err, sizeof(err));
	cr_assert_eq(rc, ERROR_INVAL, "spec '%s' returned %d, want ERROR_INVAL", spec, rc);
	cr_assert_neq(err[0], '\0', "spec '%s': empty message", spec);
	cr_assert_null(strchr(err, '\n'), "spec '%s': message is not one line: %s", spec, err);
	cr_assert_not_null(strstr(err, needle), "spec '%s': message \"%s\" does not name '%s'",
			   spec, err, needle);
	if (needle2)
		cr_assert_not_null(strstr(err, needle2),
				   "spec '%s': message \"%s\" does not mention '%s'", spec, err,
				   needle2);
	cr_assert_eq(memcmp(&m, &before, sizeof(m)), 0, "spec '%s': model changed on error",
		     spec);
}

static void check_format(const char *spec, const char *want)
{
	struct netmodel m = parse_ok(spec);
	char buf[NETMODEL_TEXT_LEN];
	netmodel_format(&m, buf, sizeof(buf));
	cr_assert_str_eq(buf, want, "spec '%s'", spec);
}

/* Half a unit in the third significant digit of v. */
static double half_ulp3(double v)
{
	return 0.5 * pow(10.0, floor(log10(v)) - 2.0) * (1.0 + 1e-9);
}

/* ---- a tiny worked example ------------------------------------------------ */

Test(netmodel, paper_lan_worked_example)
{
	struct netmodel m = parse_ok("paper-lan");
	cr_assert_str_eq(m.name, "paper-lan");
	/* 0.22 ms ping is 0.11 ms each way; 1 MB at 625 MB/s takes 1.6 ms */
	cr_assert_eq(m.link[0][1].latency_ns, 110000);
	cr_assert_eq(netmodel_transfer_ns(&m.link[0][1], 1000000), 1600000);
	char buf[NETMODEL_TEXT_LEN];
	netmodel_format(&m, buf, sizeof(buf));
	cr_assert_str_eq(buf,
			 "paper-lan: 0.110 ms one-way (0.220 ms ping), 625 MB/s (5.00 Gbit/s)");
}

/* ---- presets -------------------------------------------------------------- */

Test(netmodel, preset_none_is_zero_latency_infinite_bandwidth)
{
	struct netmodel m = parse_ok("none");
	cr_assert_str_eq(m.name, "none");
	check_all_links(&m, 0, 0.0, 0, "none");
	for (int p = 0; p < NETMODEL_PARTIES; p++)
		check_link(&m, p, p, 0, 0.0, 0, "none diagonal");
}

Test(netmodel, preset_paper_lan_is_625MBps_and_0_22ms_ping)
{
	struct netmodel m = parse_ok("paper-lan");
	cr_assert_str_eq(m.name, "paper-lan");
	check_all_links(&m, 110000, 625e6, 0, "paper-lan");
}

Test(netmodel, preset_paper_wan_is_40MBps_and_58ms_ping)
{
	struct netmodel m = parse_ok("paper-wan");
	cr_assert_str_eq(m.name, "paper-wan");
	check_all_links(&m, 29000000, 40e6, 0, "paper-wan");
}

Test(netmodel, preset_lan_10g_is_10Gbitps_and_0_1ms_ping)
{
	struct netmodel m = parse_ok("lan-10g");
	cr_assert_str_eq(m.name, "lan-10g");
	check_all_links(&m, 50000, 1.25e9, 0, "lan-10g");
}

Test(netmodel, preset_lan_1g_is_1Gbitps_and_0_2ms_ping)
{
	struct netmodel m = parse_ok("lan-1g");
	cr_assert_str_eq(m.name, "lan-1g");
	check_all_links(&m, 100000, 1.25e8, 0, "lan-1g");
}

Test(netmodel, preset_wan_100m_is_100Mbitps_and_80ms_ping)
{
	struct netmodel m = parse_ok("wan-100m");
	cr_assert_str_eq(m.name, "wan-100m");
	check_all_links(&m, 40000000, 1.25e7, 0, "wan-100m");
}

Test(netmodel, preset_names_are_listed_in_order_and_parse_to_themselves)
{
	static const char *const want[] = {"none",    "paper-lan", "paper-wan",
					   "lan-10g", "lan-1g",    "wan-100m"};
	const char *const *names = netmodel_preset_names();
	size_t n = 0;
	for (; names[n]; n++) {
		cr_assert_lt(n, sizeof(want) / sizeof(want[0]), "more presets than documented");
		cr_assert_str_eq(names[n], want[n], "preset %zu", n);
		struct netmodel m = parse_ok(names[n]);
		cr_assert_str_eq(m.name, names[n], "preset %zu", n);
	}
	cr_assert_eq(n, sizeof(want) / sizeof(want[0]));
}

Test(netmodel, default_is_the_none_preset)
{
	struct netmodel m, none = parse_ok("none");
	memset(&m, 0xab, sizeof(m));
	netmodel_default(&m);
	cr_assert_str_eq(m.name, "none");
	check_all_links(&m, 0, 0.0, 0, "default");
	for (int p = 0; p < NETMODEL_PARTIES; p++)
		check_link(&m, p, p, 0, 0.0, 0, "default diagonal");
	cr_assert_eq(memcmp(&m.link, &none.link, sizeof(m.link)), 0);
}

/* ---- custom specs --------------------------------------------------------- */

Test(netmodel, custom_keys_set_every_link)
{
	struct netmodel m = parse_ok("lat=1.5ms,bw=100MB/s,overhead=64");
	cr_assert_str_eq(m.name, "custom");
	check_all_links(&m, 1500000, 100e6, 64, "custom");
	m = parse_ok("overhead=64B,lat=250ns");
	check_all_links(&m, 250, 0.0, 64, "overhead=64B,lat=250ns");
}

Test(netmodel, custom_spec_equal_to_a_preset_takes_its_name)
{
	struct netmodel m = parse_ok("lat=29ms,bw=40MB/s");
	cr_assert_str_eq(m.name, "paper-wan");
	m = parse_ok("ping=0.1ms,bw=10Gbit/s");
	cr_assert_str_eq(m.name, "lan-10g");
	m = parse_ok("lat=0s");
	cr_assert_str_eq(m.name, "none");
}

Test(netmodel, ping_is_halved_into_one_way_latency)
{
	struct netmodel m = parse_ok("ping=58ms");
	check_all_links(&m, 29000000, 0.0, 0, "ping=58ms");
	m = parse_ok("ping=0.22ms,bw=625MB/s");
	check_all_links(&m, 110000, 625e6, 0, "ping=0.22ms");
	/* odd nanoseconds round half up */
	m = parse_ok("ping=3ns");
	check_all_links(&m, 2, 0.0, 0, "ping=3ns");
}

Test(netmodel, unset_keys_keep_the_none_values)
{
	struct netmodel m = parse_ok("bw=40MB/s");
	check_all_links(&m, 0, 40e6, 0, "bw only");
	m = parse_ok("lat=5ms");
	check_all_links(&m, 5000000, 0.0, 0, "lat only");
}

Test(netmodel, spaces_around_items_and_before_units_are_ignored)
{
	struct netmodel m = parse_ok("  paper-wan , bw = 10 MB/s ; P0 - P2 : lat = 5 ms  ");
	check_link(&m, 0, 1, 29000000, 10e6, 0, "spaced");
	check_link(&m, 0, 2, 5000000, 10e6, 0, "spaced");
	check_link(&m, 2, 0, 5000000, 10e6, 0, "spaced");
}

Test(netmodel, preset_followed_by_keys_is_modified)
{
	struct netmodel m = parse_ok("paper-wan,bw=10MB/s");
	cr_assert_str_eq(m.name, "custom");
	check_all_links(&m, 29000000, 10e6, 0, "paper-wan,bw=10MB/s");
	m = parse_ok("paper-lan,ping=1ms,overhead=40");
	check_all_links(&m, 500000, 625e6, 40, "paper-lan,ping=1ms,overhead=40");
	m = parse_ok("paper-lan,bw=inf");
	check_all_links(&m, 110000, 0.0, 0, "paper-lan,bw=inf");
}

Test(netmodel, override_with_dash_sets_both_directions)
{
	struct netmodel m = parse_ok("paper-lan;P0-P2:lat=5ms,bw=100MB/s");
	cr_assert_str_eq(m.name, "custom");
	check_link(&m, 0, 2, 5000000, 100e6, 0, "P0-P2");
	check_link(&m, 2, 0, 5000000, 100e6, 0, "P0-P2");
	check_link(&m, 0, 1, 110000, 625e6, 0, "P0-P2");
	check_link(&m, 1, 0, 110000, 625e6, 0, "P0-P2");
	check_link(&m, 1, 2, 110000, 625e6, 0, "P0-P2");
	check_link(&m, 2, 1, 110000, 625e6, 0, "P0-P2");
}

Test(netmodel, override_with_arrow_sets_one_direction)
{
	struct netmodel m = parse_ok("paper-lan;P0->P2:bw=1MB/s");
	check_link(&m, 0, 2, 110000, 1e6, 0, "P0->P2");
	check_link(&m, 2, 0, 110000, 625e6, 0, "P0->P2");
	m = parse_ok("none;P2->P1:overhead=8");
	check_link(&m, 2, 1, 0, 0.0, 8, "P2->P1");
	check_link(&m, 1, 2, 0, 0.0, 0, "P2->P1");
}

Test(netmodel, later_overrides_apply_on_top_of_earlier_ones)
{
	struct netmodel m = parse_ok("paper-wan;P0-P1:lat=1ms;P1->P0:bw=1MB/s;P0-P1:overhead=16");
	check_link(&m, 0, 1, 1000000, 40e6, 16, "layered");
	check_link(&m, 1, 0, 1000000, 1e6, 16, "layered");
	check_link(&m, 0, 2, 29000000, 40e6, 0, "layered");
	/* an override that restores the base makes the model a preset again */
	m = parse_ok("paper-wan;P0-P1:lat=1ms;P0-P1:lat=29ms");
	cr_assert_str_eq(m.name, "paper-wan");
}

/* ---- durations and rates -------------------------------------------------- */

Test(netmodel, durations_parse_exactly_in_every_unit)
{
	static const struct {
		const char *text;
		uint64_t ns;
	} cases[] = {
		{"0.11ms", 110000},	{"29 ms", 29000000},	  {"500us", 500000},
		{"1s", 1000000000},	{"250ns", 250},		  {"0.22ms", 220000},
		{"0ns", 0},		{"1.5e3us", 1500000},
		{".5s", 500000000},	{"5.ms", 5000000},	  {"0.5ns", 1},
		{"0.4ns", 0},		{"1E-3s", 1000000},
		{"18446744073s", 18446744073000000000u},
		{"18446744073709551615ns", UINT64_MAX},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t ns = 42;
		int rc = netmodel_parse_duration(cases[i].text, &ns);
		cr_assert_eq(rc, 0, "case %zu '%s'", i, cases[i].text);
		cr_assert_eq(ns, cases[i].ns, "case %zu '%s': %llu ns", i, cases[i].text,
			     (unsigned long long)ns);
	}
	uint64_t ns;
	cr_assert_eq(netmodel_parse_duration("2\xc2\xb5s", &ns), 0);
	cr_assert_eq(ns, 2000);
	cr_assert_eq(netmodel_parse_duration("\xc2\xb5s", &ns), ERROR_INVAL, "unit alone");
}

Test(netmodel, rates_parse_exactly_in_every_unit)
{
	static const struct {
		const char *text;
		double Bps;
	} cases[] = {
		{"625MB/s", 625e6},	 {"40 MB/s", 40e6},	   {"10Gbit/s", 1.25e9},
		{"100Mbps", 1.25e7},	 {"1.5GiB/s", 1610612736.0}, {"inf", 0.0},
		{"INF", 0.0},		 {"1B/s", 1.0},		   {"1kB/s", 1e3},
		{"1GB/s", 1e9},		 {"1TB/s", 1e12},	   {"1KiB/s", 1024.0},
		{"1MiB/s", 1048576.0},	 {"2TiB/s", 2199023255552.0}, {"8bit/s", 1.0},
		{"8kbit/s", 1e3},	 {"8Mbit/s", 1e6},	   {"1Tbit/s", 125e9},
		{"8bps", 1.0},		 {"8kbps", 1e3},	   {"1Gbps", 125e6},
		{"1Tbps", 125e9},	 {"0.3MB/s", 3e5},	   {"1e3kB/s", 1e6},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		double Bps = -1.0;
		int rc = netmodel_parse_rate(cases[i].text, &Bps);
		cr_assert_eq(rc, 0, "case %zu '%s'", i, cases[i].text);
		cr_assert_eq(Bps, cases[i].Bps, "case %zu '%s': %.17g B/s", i, cases[i].text, Bps);
	}
}

Test(netmodel, standalone_parsers_return_inval_or_range)
{
	uint64_t ns = 7;
	double Bps = 7.0;
	cr_assert_eq(netmodel_parse_duration("29", &ns), ERROR_INVAL);
	cr_assert_eq(netmodel_parse_duration("18446744074s", &ns), ERROR_RANGE);
	cr_assert_eq(netmodel_parse_duration("18446744073709551616ns", &ns), ERROR_RANGE);
	cr_assert_eq(netmodel_parse_duration(NULL, &ns), ERROR_INVAL);
	cr_assert_eq(ns, 7, "output written on error");
	cr_assert_eq(netmodel_parse_rate("40Mb/s", &Bps), ERROR_INVAL);
	cr_assert_eq(netmodel_parse_rate("1e400MB/s", &Bps), ERROR_RANGE);
	cr_assert_eq(netmodel_parse_rate("1e-400MB/s", &Bps), ERROR_RANGE);
	cr_assert_eq(netmodel_parse_rate("0MB/s", &Bps), ERROR_INVAL);
	cr_assert_eq(netmodel_parse_rate("1MB/s", NULL), ERROR_INVAL);
	cr_assert_eq(Bps, 7.0, "output written on error");
}

/* ---- transfer time -------------------------------------------------------- */

Test(netmodel, transfer_time_is_exact)
{
	struct netlink lan = {110000, 625e6, 0};
	cr_assert_eq(netmodel_transfer_ns(&lan, 1000000), 1600000);
	cr_assert_eq(netmodel_transfer_ns(&lan, 0), 0);
	cr_assert_eq(netmodel_transfer_ns(&lan, 625), 1000);
	/* 1 byte at 625 MB/s is 1.6 ns, rounded up */
	cr_assert_eq(netmodel_transfer_ns(&lan, 1), 2);
	/* 2^20 bytes: 1677721.6 ns, rounded up */
	cr_assert_eq(netmodel_transfer_ns(&lan, 1048576), 1677722);
	struct netlink wan = {29000000, 40e6, 0};
	cr_assert_eq(netmodel_transfer_ns(&wan, 40000000), 1000000000);
	cr_assert_eq(netmodel_transfer_ns(&wan, 123456789), 3086419725);
	/* large messages stay exact where a double product would not */
	struct netlink fast = {0, 1e10, 0};
	cr_assert_eq(netmodel_transfer_ns(&fast, (size_t)1 << 40), 109951162778);
}

Test(netmodel, transfer_time_counts_overhead_per_message)
{
	struct netlink l = {0, 1e6, 64};
	cr_assert_eq(netmodel_transfer_ns(&l, 0), 64000);
	cr_assert_eq(netmodel_transfer_ns(&l, 936), 1000000);
	struct netmodel m = parse_ok("bw=1MB/s,overhead=64B");
	cr_assert_eq(netmodel_transfer_ns(&m.link[1][2], 1000), 1064000);
}

Test(netmodel, transfer_time_is_zero_for_infinite_bandwidth)
{
	struct netlink l = {5000000, 0.0, 64};
	cr_assert_eq(netmodel_transfer_ns(&l, 0), 0);
	cr_assert_eq(netmodel_transfer_ns(&l, SIZE_MAX), 0);
	l.bandwidth_Bps = INFINITY;
	cr_assert_eq(netmodel_transfer_ns(&l, 1000000), 0);
}

Test(netmodel, transfer_time_rounds_up_for_fractional_bandwidth)
{
	struct netlink l = {0, 1.5, 0};
	cr_assert_eq(netmodel_transfer_ns(&l, 3), 2000000000);
	cr_assert_eq(netmodel_transfer_ns(&l, 1), 666666667);
}

Test(netmodel, transfer_time_saturates)
{
	struct netlink slow = {0, 1.0, 0};
	cr_assert_eq(netmodel_transfer_ns(&slow, SIZE_MAX), UINT64_MAX);
	struct netlink tiny = {0, 1e-300, 0};
	cr_assert_eq(netmodel_transfer_ns(&tiny, 1), UINT64_MAX);
	struct netlink big_overhead = {0, 1e9, UINT64_MAX};
	cr_assert_eq(netmodel_transfer_ns(&big_overhead, 10), UINT64_MAX);
}

/* ---- rejections ----------------------------------------------------------- */

Test(netmodel, rejects_ambiguous_rate_units_with_an_explanation)
{
	check_rejected("bw=40Mb/s",
		       "ambiguous unit 'Mb/s': write MB/s for bytes or Mbit/s for bits", NULL);
	check_rejected("bw=40mb/s", "ambiguous unit 'mb/s'", "MB/s");
	check_rejected("bw=40MBps", "ambiguous unit 'MBps'", "Mbps");
	check_rejected("bw=40MBPS", "ambiguous unit 'MBPS'", "MB/s");
	check_rejected("bw=40Gb/s", "'Gb/s'", "Gbit/s");
	check_rejected("bw=40kb/s", "'kb/s'", "kbit/s");
	check_rejected("bw=40b/s", "'b/s'", "bit/s");
	check_rejected("bw=40Bps", "'Bps'", "B/s");
	check_rejected("bw=40KB/s", "ambiguous unit 'KB/s'", "KiB/s");
}

Test(netmodel, rejects_unknown_rate_units_listing_accepted_ones)
{
	check_rejected("bw=40MB", "'MB' is not a rate", "MB/s");
	check_rejected("bw=40mB/s", "'mB/s'", "did you mean 'MB/s'");
	check_rejected("bw=40gbit/s", "'gbit/s'", "did you mean 'Gbit/s'");
	check_rejected("bw=40Kbps", "'Kbps'", "did you mean 'kbps'");
	check_rejected("bw=40mbps", "'mbps'", "did you mean 'Mbps'");
	check_rejected("bw=40furlongs", "unknown unit 'furlongs'", "Mbit/s");
	check_rejected("bw=40", "bw '40': missing unit", "MB/s");
}

Test(netmodel, rejects_bare_numbers_and_unknown_duration_units)
{
	check_rejected("lat=29", "lat '29': missing unit", "ns, us, ms, s");
	check_rejected("ping=58", "ping '58': missing unit", "ms");
	check_rejected("lat=29MS", "unknown unit 'MS'", "did you mean 'ms'");
	check_rejected("lat=1min", "unknown unit 'min'", "ns, us, ms, s");
	check_rejected("lat=5 ms x", "unexpected 'x'", NULL);
}

Test(netmodel, rejects_negative_nan_and_overflowing_values)
{
	check_rejected("lat=-5ms", "'-5ms': negative", NULL);
	check_rejected("bw=-1MB/s", "'-1MB/s': negative", NULL);
	check_rejected("overhead=-64", "'-64': negative", NULL);
	check_rejected("lat=nanms", "'nanms': not a number", NULL);
	check_rejected("bw=NaN MB/s", "'NaN MB/s': not a number", NULL);
	check_rejected("lat=1e30s", "'1e30s': out of range", NULL);
	check_rejected("ping=99999999999999999999ns", "out of range", NULL);
	check_rejected("bw=1e999GB/s", "'1e999GB/s': out of range", NULL);
	check_rejected("overhead=99999999999999999999", "out of range", NULL);
	check_rejected("bw=0MB/s", "'0MB/s': must be positive", "inf");
	check_rejected("overhead=1.5", "'1.5': not a whole number", NULL);
	check_rejected("overhead=64kB", "unknown unit 'kB'", NULL);
}

Test(netmodel, rejects_empty_values_and_garbage)
{
	check_rejected("", "empty network spec", "paper-lan");
	check_rejected("   ", "empty network spec", "lat");
	check_rejected("lat=", "lat: missing value", NULL);
	check_rejected("bw=MB/s", "'MB/s': not a number", NULL);
	check_rejected("lat=ms5", "'ms5': not a number", NULL);
	check_rejected("paper-lan,", "empty item in 'paper-lan,'", NULL);
	check_rejected("lat=1ms,,bw=1MB/s", "empty item", NULL);
	check_rejected("=5ms", "missing key in '=5ms'", "lat, ping, bw, overhead");
	check_rejected("paper-lan;", "empty per-link override", "P0-P2");
	check_rejected(";P0-P1:lat=1ms", "missing preset or keys before ';'", "none");
	check_rejected("lat=5mss", "unknown unit 'mss'", NULL);
}

Test(netmodel, rejects_unknown_keys_and_presets)
{
	check_rejected("latency=5ms", "unknown key 'latency'", "lat, ping, bw, overhead");
	check_rejected("paper-lan,speed=1MB/s", "unknown key 'speed'", "bw");
	check_rejected("paper-lann", "unknown preset 'paper-lann'",
		       "none, paper-lan, paper-wan, lan-10g, lan-1g, wan-100m");
	check_rejected("Paper-LAN", "unknown preset 'Paper-LAN'", "paper-lan");
	check_rejected("paper-lan,fast", "'fast' is not key=value", "lat");
	check_rejected("bw=1MB/s,paper-lan", "preset 'paper-lan' must come first", NULL);
	check_rejected("paper-lan,paper-wan", "preset 'paper-wan' must come first", NULL);
	check_rejected("lat", "'lat' needs a value", "lat=");
}

Test(netmodel, rejects_repeated_or_conflicting_keys)
{
	check_rejected("lat=1ms,lat=2ms", "key 'lat' given twice", NULL);
	check_rejected("bw=1MB/s,bw=2MB/s", "key 'bw' given twice", NULL);
	check_rejected("lat=1ms,ping=2ms", "lat and ping", "'ping=2ms'");
	check_rejected("paper-lan;P0-P1:overhead=1,overhead=2", "key 'overhead' given twice",
		       NULL);
}

Test(netmodel, rejects_bad_party_names_and_links)
{
	check_rejected("paper-lan;P0-P3:lat=1ms", "bad party 'P3'", "P0, P1, P2");
	check_rejected("paper-lan;p0-P1:lat=1ms", "bad party 'p0'", "P0, P1, P2");
	check_rejected("paper-lan;P0->Q1:lat=1ms", "bad party 'Q1'", "Pi->Pj");
	check_rejected("paper-lan;P0<->P1:lat=1ms", "bad party 'P0<'", NULL);
	check_rejected("paper-lan;P0P1:lat=1ms", "bad link 'P0P1'", "P0, P1, P2");
	check_rejected("paper-lan;P1-P1:lat=1ms", "link 'P1-P1' connects P1 to itself", NULL);
	check_rejected("paper-lan;P0-P1", "override 'P0-P1' has no ':'", "P0-P2:lat=5ms");
	check_rejected("paper-lan;P0-P1:", "override 'P0-P1:' sets no keys", "lat");
	check_rejected("paper-lan;P0-P1:fast", "'fast' is not key=value", NULL);
	check_rejected("P0-P1:lat=1ms", "'P0-P1:lat=1ms': per-link overrides follow ';'", NULL);
	check_rejected("P0-P1:bw", "'P0-P1:bw'", "none;P0->P2");
	check_rejected("paper-lan,P0-P1:lat=1ms", "per-link overrides follow ';'", NULL);
}

Test(netmodel, rejects_very_long_specs_with_a_bounded_message)
{
	static char spec[20000];
	memset(spec, 'x', sizeof(spec) - 1);
	memcpy(spec, "lat=5", 5);
	char err[NETMODEL_TEXT_LEN];
	struct netmodel m;
	cr_assert_eq(netmodel_parse(&m, spec, err, sizeof(err)), ERROR_INVAL);
	cr_assert_lt(strlen(err), sizeof(err) - 1, "message was cut: %s", err);
	cr_assert_not_null(strstr(err, "unknown unit 'xxx"), "%s", err);
}

Test(netmodel, rejection_tolerates_null_and_tiny_error_buffers)
{
	struct netmodel m;
	netmodel_default(&m);
	cr_assert_eq(netmodel_parse(&m, "bw=1Mb/s", NULL, 0), ERROR_INVAL);
	char err[8];
	cr_assert_eq(netmodel_parse(&m, "bw=1Mb/s", err, sizeof(err)), ERROR_INVAL);
	cr_assert_eq(strlen(err), sizeof(err) - 1);
	cr_assert_eq(netmodel_parse(NULL, "none", err, sizeof(err)), ERROR_INVAL);
	cr_assert_eq(netmodel_parse(&m, NULL, err, sizeof(err)), ERROR_INVAL);
	cr_assert_str_eq(m.name, "none");
}

/* ---- formatting ----------------------------------------------------------- */

Test(netmodel, format_describes_every_preset)
{
	check_format("none", "none: 0 ms one-way (0 ms ping), infinite bandwidth");
	check_format("paper-wan",
		     "paper-wan: 29.0 ms one-way (58.0 ms ping), 40.0 MB/s (320 Mbit/s)");
	check_format("lan-10g",
		     "lan-10g: 0.0500 ms one-way (0.100 ms ping), 1.25 GB/s (10.0 Gbit/s)");
	check_format("lan-1g", "lan-1g: 0.100 ms one-way (0.200 ms ping), 125 MB/s (1.00 Gbit/s)");
	check_format("wan-100m",
		     "wan-100m: 40.0 ms one-way (80.0 ms ping), 12.5 MB/s (100 Mbit/s)");
}

Test(netmodel, format_mentions_overhead_and_per_link_overrides)
{
	check_format("lat=2s,bw=1.5GiB/s,overhead=64",
		     "custom: 2.00 s one-way (4.00 s ping), 1.61 GB/s (12.9 Gbit/s), 64 B "
		     "overhead per message");
	check_format("paper-lan;P0-P2:lat=5ms,bw=100MB/s",
		     "custom: 0.110 ms one-way (0.220 ms ping), 625 MB/s (5.00 Gbit/s); override "
		     "P0-P2: 5.00 ms one-way (10.0 ms ping), 100 MB/s (800 Mbit/s)");
	check_format("paper-lan;P2->P0:bw=1MB/s",
		     "custom: 0.110 ms one-way (0.220 ms ping), 625 MB/s (5.00 Gbit/s); override "
		     "P2->P0: 0.110 ms one-way, 1.00 MB/s (8.00 Mbit/s)");
	/* the headline is what most links share, even if P0->P1 differs */
	check_format("paper-wan;P0-P1:bw=inf",
		     "custom: 29.0 ms one-way (58.0 ms ping), 40.0 MB/s (320 Mbit/s); override "
		     "P0-P1: 29.0 ms one-way (58.0 ms ping), infinite bandwidth");
}

Test(netmodel, format_truncates_like_snprintf)
{
	char buf[8];
	size_t n = netmodel_format_rate(625e6, buf, sizeof(buf));
	cr_assert_eq(n, strlen("625 MB/s"));
	cr_assert_str_eq(buf, "625 MB/");
	cr_assert_eq(netmodel_format_duration(110000, NULL, 0), strlen("110 us"));
	struct netmodel m = parse_ok("paper-lan");
	char line[16];
	netmodel_format(&m, line, sizeof(line));
	cr_assert_str_eq(line, "paper-lan: 0.11");
}

Test(netmodel, format_rate_and_duration_examples)
{
	static const struct {
		double Bps;
		const char *text;
	} rates[] = {
		{625e6, "625 MB/s"}, {40e6, "40.0 MB/s"}, {1.25e9, "1.25 GB/s"},
		{999.4e6, "999 MB/s"}, {999.5e6, "1.00 GB/s"}, {9.996e6, "10.0 MB/s"},
		{0.5, "0.500 B/s"},	 {1e-5, "1.00e-05 B/s"}, {2e15, "2.00e+03 TB/s"},
		{0.0, "inf"},		 {INFINITY, "inf"},	 {-1.0, "invalid"},
		{NAN, "invalid"},
	};
	char buf[64];
	for (size_t i = 0; i < sizeof(rates) / sizeof(rates[0]); i++) {
		netmodel_format_rate(rates[i].Bps, buf, sizeof(buf));
		cr_assert_str_eq(buf, rates[i].text, "rate case %zu", i);
	}
	static const struct {
		uint64_t ns;
		const char *text;
	} durations[] = {
		{0, "0 ns"},	       {250, "250 ns"},		{999, "999 ns"},
		{1000, "1.00 us"},     {110000, "110 us"},	{999499, "999 us"},
		{999500, "1.00 ms"},   {29000000, "29.0 ms"},	{1000000000, "1.00 s"},
		{UINT64_MAX, "1.84e+10 s"},
	};
	for (size_t i = 0; i < sizeof(durations) / sizeof(durations[0]); i++) {
		netmodel_format_duration(durations[i].ns, buf, sizeof(buf));
		cr_assert_str_eq(buf, durations[i].text, "duration case %zu", i);
	}
}

Test(netmodel, formatted_rates_parse_back_to_3_significant_digits)
{
	char buf[64];
	/* geometric sweep from 10^-6 to 10^20 B/s, plus rounding boundaries */
	for (int i = 0; i <= 600; i++) {
		double v = 1e-6 * pow(10.0, i * 26.0 / 600.0);
		if (i % 50 == 7)
			v = 999.5 * pow(10.0, i / 50);
		netmodel_format_rate(v, buf, sizeof(buf));
		double back = -1.0;
		int rc = netmodel_parse_rate(buf, &back);
		cr_assert_eq(rc, 0, "index %d: '%s' (from %.17g) does not parse", i, buf, v);
		cr_assert_float_eq(back, v, half_ulp3(v), "index %d: %.17g -> '%s' -> %.17g", i,
				   v, buf, back);
	}
}

Test(netmodel, formatted_durations_parse_back_to_3_significant_digits)
{
	char buf[64];
	for (int i = 0; i <= 640; i++) {
		/* 1 ns to 2^64 ns: 2^(i/10), then the values around unit changes */
		double d = pow(2.0, i / 10.0);
		uint64_t ns = d >= 18446744073709551615.0 ? UINT64_MAX : (uint64_t)d;
		if (i % 40 == 3)
			ns = 999500 * (uint64_t)pow(10.0, (i / 40) % 14);
		netmodel_format_duration(ns, buf, sizeof(buf));
		uint64_t back = 0;
		int rc = netmodel_parse_duration(buf, &back);
		cr_assert_eq(rc, 0, "index %d: '%s' (from %llu ns) does not parse", i, buf,
			     (unsigned long long)ns);
		if (ns < 1000)
			cr_assert_eq(back, ns, "index %d: '%s'", i, buf);
		else
			cr_assert_float_eq((double)back, (double)ns, half_ulp3((double)ns),
					   "index %d: %llu ns -> '%s' -> %llu", i,
					   (unsigned long long)ns, buf, (unsigned long long)back);
	}
}

Test(netmodel, formatted_model_lists_every_override_link)
{
	struct netmodel m = parse_ok("none;P0->P1:lat=1ms;P1->P2:lat=2ms;P2->P0:lat=3ms");
	char buf[NETMODEL_TEXT_LEN];
	netmodel_format(&m, buf, sizeof(buf));
	for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i += 1) {
		const char *l = links[i];
		bool changed = !strcmp(l, "P0->P1") || !strcmp(l, "P1->P2") || !strcmp(l, "P2->P0");
		cr_assert_eq(strstr(buf, l) != NULL, changed, "link %s in '%s'", l, buf);
	}
}
