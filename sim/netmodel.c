#include "netmodel.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* name, one-way latency in ns, bandwidth in B/s. Presets have no overhead. */
#define NETMODEL_PRESETS(X)                                                         \
	X("none", 0, 0.0)                                                           \
	X("paper-lan", 110000, 625e6)    /* ping 0.22 ms, 625 MB/s (paper 7.1) */   \
	X("paper-wan", 29000000, 40e6)   /* ping 58 ms, 40 MB/s (paper 7.1) */      \
	X("lan-10g", 50000, 1.25e9)      /* ping 0.1 ms, 10 Gbit/s */               \
	X("lan-1g", 100000, 1.25e8)      /* ping 0.2 ms, 1 Gbit/s */                \
	X("wan-100m", 40000000, 1.25e7)  /* ping 80 ms, 100 Mbit/s */

struct preset {
	const char *name;     /* as written in a spec */
	struct netlink link;  /* the same on all six directed links */
};

static const struct preset presets[] = {
#define PRESET_ENTRY(name, lat_ns, bw_Bps) {name, {lat_ns, bw_Bps, 0}},
	NETMODEL_PRESETS(PRESET_ENTRY)
#undef PRESET_ENTRY
};

static const char *const preset_names[] = {
#define PRESET_NAME(name, lat_ns, bw_Bps) name,
	NETMODEL_PRESETS(PRESET_NAME)
#undef PRESET_NAME
	NULL,
};

#define N_PRESETS (sizeof(presets) / sizeof(presets[0]))

#define PRESET_LIST "none, paper-lan, paper-wan, lan-10g, lan-1g, wan-100m"
#define KEY_LIST "lat, ping, bw, overhead"
#define DURATION_UNITS "ns, us, ms, s"
#define RATE_UNITS                                                           \
	"B/s, kB/s, MB/s, GB/s, TB/s, KiB/s, MiB/s, GiB/s, TiB/s, "          \
	"bit/s, kbit/s, Mbit/s, Gbit/s, Tbit/s, bps, kbps, Mbps, Gbps, Tbps"
#define DURATION_HELP "a duration such as 29ms or 0.11 ms; units: " DURATION_UNITS
#define RATE_HELP "a rate such as 40MB/s or 10Gbit/s, or inf; units: " RATE_UNITS

struct unit {
	const char *name; /* exact, case-sensitive spelling */
	double factor;    /* B/s in 1 unit */
};

struct time_unit {
	const char *name; /* exact, case-sensitive spelling */
	long pow10_ns;    /* 1 unit = 10^pow10_ns ns */
};

static const struct unit rate_units[] = {
	{"B/s", 1.0},
	{"kB/s", 1e3},
	{"MB/s", 1e6},
	{"GB/s", 1e9},
	{"TB/s", 1e12},
	{"KiB/s", 1024.0},
	{"MiB/s", 1048576.0},
	{"GiB/s", 1073741824.0},
	{"TiB/s", 1099511627776.0},
	{"bit/s", 0.125},
	{"kbit/s", 125.0},
	{"Mbit/s", 125e3},
	{"Gbit/s", 125e6},
	{"Tbit/s", 125e9},
	{"bps", 0.125},
	{"kbps", 125.0},
	{"Mbps", 125e3},
	{"Gbps", 125e6},
	{"Tbps", 125e9},
};

static const struct time_unit duration_units[] = {
	{"ns", 0},
	{"us", 3},
	{"\xc2\xb5s", 3}, /* U+00B5 micro sign, UTF-8 */
	{"ms", 6},
	{"s", 9},
};

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

/* A piece of the spec; never NUL-terminated. */
struct span {
	const char *p; /* first character */
	size_t n;      /* length in chars */
};

/* printf arguments for "%.*s": long pieces are cut so the message stays one line of
 * reasonable length. */
#define SPAN(s) ((s).n > 120 ? 120 : (int)(s).n), (s).p

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static struct span span_of(const char *s)
{
	return (struct span){s, strlen(s)};
}

static struct span trim(struct span s)
{
	while (s.n > 0 && is_space(s.p[0])) {
		s.p++;
		s.n--;
	}
	while (s.n > 0 && is_space(s.p[s.n - 1]))
		s.n--;
	return s;
}

static bool equals(struct span s, const char *lit)
{
	size_t n = strlen(lit);
	return s.n == n && memcmp(s.p, lit, n) == 0;
}

static bool equals_nocase(struct span s, const char *lit)
{
	if (s.n != strlen(lit))
		return false;
	for (size_t i = 0; i < s.n; i++)
		if (lower(s.p[i]) != lower(lit[i]))
			return false;
	return true;
}

static bool starts_nocase(struct span s, const char *lit)
{
	size_t n = strlen(lit);
	return s.n >= n && equals_nocase((struct span){s.p, n}, lit);
}

/* Position of c in s, or s.n. */
static size_t find(struct span s, char c)
{
	const char *hit = s.n ? memchr(s.p, c, s.n) : NULL;
	return hit ? (size_t)(hit - s.p) : s.n;
}

static struct span before(struct span s, size_t i)
{
	return (struct span){s.p, i};
}

static struct span after(struct span s, size_t i)
{
	return i >= s.n ? (struct span){s.p + s.n, 0} : (struct span){s.p + i + 1, s.n - i - 1};
}

/* Output that counts the whole length like snprintf, writing what fits. */
struct out {
	char *buf;  /* may be NULL when len is 0 */
	size_t len; /* capacity of buf in bytes, NUL included */
	size_t pos; /* length of the whole text so far */
};

static void emit(struct out *o, const char *fmt, ...) SNN_PRINTF_LIKE(2, 3);

static void emit(struct out *o, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *dst = NULL;
	size_t room = 0;
	if (o->buf && o->pos < o->len) {
		dst = o->buf + o->pos;
		room = o->len - o->pos;
	}
	int n = vsnprintf(dst, room, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->pos += (size_t)n;
}

static struct out out_start(char *buf, size_t len)
{
	if (buf && len > 0)
		buf[0] = '\0';
	return (struct out){buf, len, 0};
}

/* ------------------------------------------------------------------------ */
/* Numbers */

/* A decimal number m * 10^exp, scanned without strtod so the C locale cannot
 * change the decimal point. */
struct decimal {
	uint64_t m;   /* significand; digits that would overflow it are dropped */
	long exp;     /* power of ten */
	bool dropped; /* an integer-part digit was dropped: the integer part > UINT64_MAX */
};

static void push_digit(struct decimal *d, char c, bool fraction)
{
	uint64_t digit = (uint64_t)(c - '0');
	if (d->m < UINT64_MAX / 10 || (d->m == UINT64_MAX / 10 && digit <= UINT64_MAX % 10)) {
		d->m = d->m * 10 + digit;
		if (fraction)
			d->exp--;
	} else if (!fraction) {
		d->exp++;
		d->dropped = true;
	}
}

/* Scan digits [ "." digits ] [ ("e"|"E") [sign] digits ] from the start of *s
 * and advance *s past them. False if there is no digit. */
static bool scan_decimal(struct span *s, struct decimal *d)
{
	size_t i = 0, n_digits = 0;
	*d = (struct decimal){0, 0, false};
	for (; i < s->n && is_digit(s->p[i]); i++, n_digits++)
		push_digit(d, s->p[i], false);
	if (i < s->n && s->p[i] == '.')
		for (i++; i < s->n && is_digit(s->p[i]); i++, n_digits++)
			push_digit(d, s->p[i], true);
	if (n_digits == 0)
		return false;
	if (i < s->n && (s->p[i] == 'e' || s->p[i] == 'E')) {
		size_t j = i + 1;
		bool negative = false;
		if (j < s->n && (s->p[j] == '+' || s->p[j] == '-'))
			negative = s->p[j++] == '-';
		if (j < s->n && is_digit(s->p[j])) {
			long e = 0;
			for (; j < s->n && is_digit(s->p[j]); j++)
				if (e < 1000000) /* far beyond any representable value */
					e = e * 10 + (s->p[j] - '0');
			d->exp += negative ? -e : e;
			i = j;
		}
	}
	s->p += i;
	s->n -= i;
	return true;
}

/* m * 10^(exp + shift) rounded to the nearest integer (halves up); *inexact is
 * set when rounding changed the value. ERROR_RANGE above UINT64_MAX. */
static int decimal_to_u64(struct decimal d, long shift, uint64_t *out, bool *inexact)
{
	long e = d.exp + shift;
	uint64_t v = d.m;
	*inexact = false;
	/* the digits alone exceed UINT64_MAX and the unit does not scale them down */
	if (d.dropped && e >= 1)
		return ERROR_RANGE;
	if (v == 0) {
		*out = 0;
		return 0;
	}
	if (e >= 0) {
		for (long i = 0; i < e; i++) {
			if (v > UINT64_MAX / 10)
				return ERROR_RANGE;
			v *= 10;
		}
	} else if (e < -19) {
		/* v < 2^64 < 10^20 / 5, so v / 10^20 rounds to 0 */
		v = 0;
		*inexact = true;
	} else {
		uint64_t p = 1;
		for (long i = 0; i < -e; i++)
			p *= 10;
		uint64_t q = v / p, r = v % p;
		if (r >= p - r)
			q++;
		*inexact = r != 0;
		v = q;
	}
	*out = v;
	return 0;
}

static double pow10_of(long n)
{
	static const double exact[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
				       1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
				       1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
	if (n >= 0 && n < (long)N_OF(exact))
		return exact[n];
	return pow(10.0, (double)n);
}

/* A quantity "<number> [unit]": the number and the unit (possibly empty).
 * Rejects signs, nan, a missing number and text after the unit. what names
 * the quantity in messages ("lat", "duration"), help lists what is accepted. */
static int scan_quantity(struct span text, const char *what, const char *help,
			 struct decimal *d, struct span *unit, char *err, size_t err_len)
{
	struct span s = trim(text);
	if (s.n == 0)
		return error_fmt(err, err_len, ERROR_INVAL, "%s: missing value (expected %s)", what,
		                 help);
	if (s.p[0] == '-')
		return error_fmt(err, err_len, ERROR_INVAL,
		                 "%s '%.*s': negative value (expected %s)", what, SPAN(s), help);
	if (starts_nocase(s, "nan"))
		return error_fmt(err, err_len, ERROR_INVAL, "%s '%.*s': not a number (expected %s)",
		                 what, SPAN(s), help);
	struct span rest = s;
	if (!scan_decimal(&rest, d))
		return error_fmt(err, err_len, ERROR_INVAL, "%s '%.*s': not a number (expected %s)",
		                 what, SPAN(s), help);
	rest = trim(rest);
	size_t n = 0;
	while (n < rest.n && !is_space(rest.p[n]))
		n++;
	*unit = before(rest, n);
	struct span tail = trim((struct span){rest.p + n, rest.n - n});
	if (tail.n > 0)
		return error_fmt(err, err_len, ERROR_INVAL,
		                 "%s '%.*s': unexpected '%.*s' after the unit (expected %s)", what,
		                 SPAN(s), SPAN(tail), help);
	return 0;
}

static int parse_duration(struct span text, const char *what, uint64_t *ns, char *err,
			  size_t err_len)
{
	struct decimal d;
	struct span unit;
	TRY(scan_quantity(text, what, DURATION_HELP, &d, &unit, err, err_len));
	struct span s = trim(text);
	if (unit.n == 0)
		return error_fmt(err, err_len, ERROR_INVAL,
		                 "%s '%.*s': missing unit (accepted: %s)", what, SPAN(s),
		                 DURATION_UNITS);
	const struct time_unit *u = NULL;
	for (size_t i = 0; i < N_OF(duration_units) && !u; i++)
		if (equals(unit, duration_units[i].name))
			u = &duration_units[i];
	if (!u) {
		for (size_t i = 0; i < N_OF(duration_units); i++)
			if (equals_nocase(unit, duration_units[i].name))
				return error_fmt(
				    err, err_len, ERROR_INVAL,
				    "%s '%.*s': unknown unit '%.*s' (did you mean '%s'? "
				    "accepted: %s)",
				    what, SPAN(s), SPAN(unit), duration_units[i].name,
				    DURATION_UNITS);
		return error_fmt(err, err_len, ERROR_INVAL,
		                 "%s '%.*s': unknown unit '%.*s' (accepted: %s)", what, SPAN(s),
		                 SPAN(unit), DURATION_UNITS);
	}
	bool inexact;
	uint64_t v;
	if (decimal_to_u64(d, u->pow10_ns, &v, &inexact) < 0)
		return error_fmt(err, err_len, ERROR_RANGE,
		                 "%s '%.*s': out of range (at most 18446744073 s)", what, SPAN(s));
	*ns = v;
	return 0;
}

static const char *canonical_prefix(char c)
{
	switch (lower(c)) {
	case 'k':
		return "k";
	case 'm':
		return "M";
	case 'g':
		return "G";
	case 't':
		return "T";
	}
	return NULL;
}

/* Explain why unit is not an accepted rate unit. */
static int bad_rate_unit(struct span s, struct span unit, const char *what, char *err,
			 size_t err_len)
{
	/* "[prefix] b/s" and "[prefix] bps" in any case: bits or bytes? */
	const char *prefix = "";
	struct span body = unit;
	if (unit.n == 4 && canonical_prefix(unit.p[0])) {
		prefix = canonical_prefix(unit.p[0]);
		body = after(unit, 0);
	}
	/* "bps" in lower case says bits; only its prefix can be wrong ("Kbps") */
	if (equals_nocase(body, "b/s") || (equals_nocase(body, "bps") && !equals(body, "bps"))) {
		if (body.p[0] == 'B' && body.p != unit.p && unit.p[0] == 'K')
			return error_fmt(
			    err, err_len, ERROR_INVAL,
			    "%s '%.*s': ambiguous unit '%.*s': write kB/s for 1000 B/s "
			    "or KiB/s for 1024 B/s",
			    what, SPAN(s), SPAN(unit));
		bool slash = body.p[1] == '/';
		if (!slash || body.p[0] == 'b')
			return error_fmt(
			    err, err_len, ERROR_INVAL,
			    "%s '%.*s': ambiguous unit '%.*s': write %sB/s for bytes or "
			    "%s%s for bits",
			    what, SPAN(s), SPAN(unit), prefix, prefix, slash ? "bit/s" : "bps");
	}
	for (size_t i = 0; i < N_OF(rate_units); i++)
		if (equals_nocase(unit, rate_units[i].name))
			return error_fmt(err, err_len, ERROR_INVAL,
			                 "%s '%.*s': unknown unit '%.*s' (did you mean '%s'? "
			                 "accepted: %s)",
			                 what, SPAN(s), SPAN(unit), rate_units[i].name, RATE_UNITS);
	for (size_t i = 0; i < N_OF(rate_units); i++) {
		const char *name = rate_units[i].name;
		size_t n = strlen(name);
		if (n > 2 && strcmp(name + n - 2, "/s") == 0 && unit.n == n - 2 &&
		    memcmp(unit.p, name, n - 2) == 0)
			return error_fmt(err, err_len, ERROR_INVAL,
			                 "%s '%.*s': '%.*s' is not a rate: write %s", what, SPAN(s),
			                 SPAN(unit), name);
	}
	return error_fmt(err, err_len, ERROR_INVAL, "%s '%.*s': unknown unit '%.*s' (accepted: %s)",
	                 what, SPAN(s), SPAN(unit), RATE_UNITS);
}

static int parse_rate(struct span text, const char *what, double *Bps, char *err,
		      size_t err_len)
{
	struct span s = trim(text);
	if (equals_nocase(s, "inf")) {
		*Bps = 0.0;
		return 0;
	}
	struct decimal d;
	struct span unit;
	TRY(scan_quantity(text, what, RATE_HELP, &d, &unit, err, err_len));
	if (unit.n == 0)
		return error_fmt(err, err_len, ERROR_INVAL,
		                 "%s '%.*s': missing unit (accepted: %s, or inf)", what, SPAN(s),
		                 RATE_UNITS);
	const struct unit *u = NULL;
	for (size_t i = 0; i < N_OF(rate_units) && !u; i++)
		if (equals(unit, rate_units[i].name))
			u = &rate_units[i];
	if (!u)
		return bad_rate_unit(s, unit, what, err, err_len);
	if (d.m == 0)
		return error_fmt(err, err_len, ERROR_INVAL,
		                 "%s '%.*s': must be positive (write inf for unlimited)", what,
		                 SPAN(s));
	/* m < 2^64 and factor < 2^41, so the product cannot overflow */
	double v = (double)d.m * u->factor;
	if (d.exp > 0)
		v *= pow10_of(d.exp);
	else if (d.exp < 0)
		v /= pow10_of(-d.exp);
	if (isinf(v) || v == 0.0)
		return error_fmt(err, err_len, ERROR_RANGE,
		                 "%s '%.*s': out of range (a double holds 1e-308 to 1e308 B/s)",
		                 what, SPAN(s));
	*Bps = v;
	return 0;
}

static int parse_overhead(struct span text, uint64_t *bytes, char *err, size_t err_len)
{
	static const char help[] = "a whole number of bytes, such as 64 or 64B";
	struct decimal d;
	struct span unit;
	TRY(scan_quantity(text, "overhead", help, &d, &unit, err, err_len));
	struct span s = trim(text);
	if (unit.n > 0 && !equals(unit, "B"))
		return error_fmt(err, err_len, ERROR_INVAL,
		                 "overhead '%.*s': unknown unit '%.*s' (accepted: B or none)",
		                 SPAN(s), SPAN(unit));
	bool inexact;
	uint64_t v;
	if (decimal_to_u64(d, 0, &v, &inexact) < 0)
		return error_fmt(err, err_len, ERROR_RANGE,
		                 "overhead '%.*s': out of range (at most 18446744073709551615)",
		                 SPAN(s));
	if (inexact)
		return error_fmt(err, err_len, ERROR_INVAL,
		                 "overhead '%.*s': not a whole number (expected %s)", SPAN(s),
		                 help);
	*bytes = v;
	return 0;
}

int netmodel_parse_duration(const char *s, uint64_t *ns)
{
	if (!s || !ns)
		return ERROR_INVAL;
	return parse_duration(span_of(s), "duration", ns, NULL, 0);
}

int netmodel_parse_rate(const char *s, double *Bps)
{
	if (!s || !Bps)
		return ERROR_INVAL;
	return parse_rate(span_of(s), "rate", Bps, NULL, 0);
}

/* ------------------------------------------------------------------------ */
/* Spec */

/* The keys of one comma-separated item list. */
struct keys {
	bool has_lat;            /* lat= given */
	bool has_ping;           /* ping= given */
	bool has_bw;             /* bw= given */
	bool has_overhead;       /* overhead= given */
	uint64_t latency_ns;     /* one-way, from lat or ping / 2 */
	double bandwidth_Bps;    /* 0 means infinite */
	uint64_t overhead_bytes; /* per message */
};

static bool is_key(struct span s)
{
	return equals(s, "lat") || equals(s, "ping") || equals(s, "bw") ||
	       equals(s, "overhead");
}

static bool is_preset(struct span s)
{
	for (size_t i = 0; i < N_PRESETS; i++)
		if (equals(s, presets[i].name))
			return true;
	return false;
}

static int parse_key(struct span item, struct keys *k, char *err, size_t err_len)
{
	size_t eq = find(item, '=');
	if (eq == item.n) {
		if (is_key(item))
			return error_fmt(err, err_len, ERROR_INVAL,
			                 "'%.*s' needs a value: write %.*s=<value>", SPAN(item),
			                 SPAN(item));
		if (is_preset(item))
			return error_fmt(err, err_len, ERROR_INVAL,
			                 "preset '%.*s' must come first, before any key",
			                 SPAN(item));
		return error_fmt(err, err_len, ERROR_INVAL,
		                 "'%.*s' is not key=value (accepted keys: " KEY_LIST ")",
		                 SPAN(item));
	}
	struct span key = trim(before(item, eq));
	struct span value = after(item, eq);
	bool dup;
	if (key.n == 0)
		return error_fmt(err, err_len, ERROR_INVAL,
		                 "missing key in '%.*s' (accepted keys: " KEY_LIST ")", SPAN(item));
	if (find(key, ':') < key.n)
		return error_fmt(err, err_len, ERROR_INVAL,
		                 "'%.*s': per-link overrides follow ';' "
		                 "(e.g. 'paper-lan;P0-P2:lat=5ms')",
		                 SPAN(item));
	if (equals(key, "lat") || equals(key, "ping")) {
		bool ping = key.p[0] == 'p';
		dup = ping ? k->has_ping : k->has_lat;
		if (!dup && (k->has_lat || k->has_ping))
			return error_fmt(err, err_len, ERROR_INVAL,
			                 "'%.*s': lat and ping both set the latency; give one",
			                 SPAN(item));
		if (!dup) {
			uint64_t ns;
			TRY(parse_duration(value, ping ? "ping" : "lat", &ns, err, err_len));
			/* one-way = round trip / 2, rounded half up, without overflow */
			k->latency_ns = ping ? ns / 2 + (ns & 1) : ns;
			k->has_lat |= !ping;
			k->has_ping |= ping;
		}
	} else if (equals(key, "bw")) {
		dup = k->has_bw;
		if (!dup)
			TRY(parse_rate(value, "bw", &k->bandwidth_Bps, err, err_len));
		k->has_bw = true;
	} else if (equals(key, "overhead")) {
		dup = k->has_overhead;
		if (!dup)
			TRY(parse_overhead(value, &k->overhead_bytes, err, err_len));
		k->has_overhead = true;
	} else {
		return error_fmt(err, err_len, ERROR_INVAL,
		                 "unknown key '%.*s' in '%.*s' (accepted keys: " KEY_LIST ")",
		                 SPAN(key), SPAN(item));
	}
	if (dup)
		return error_fmt(err, err_len, ERROR_INVAL, "key '%.*s' given twice ('%.*s')",
		                 SPAN(key), SPAN(item));
	return 0;
}

/* Parse "key=value,key=value" (list is the whole comma list, for messages). */
static int parse_keys(struct span items, struct span list, struct keys *k, char *err,
		      size_t err_len)
{
	for (;;) {
		size_t comma = find(items, ',');
		struct span item = trim(before(items, comma));
		if (item.n == 0)
			return error_fmt(err, err_len, ERROR_INVAL,
			                 "empty item in '%.*s' (write key=value items separated by "
			                 "',': " KEY_LIST ")",
			                 SPAN(list));
		TRY(parse_key(item, k, err, err_len));
		if (comma == items.n)
			return 0;
		items = after(items, comma);
	}
}

static void apply_keys(const struct keys *k, struct netlink *l)
{
	if (k->has_lat || k->has_ping)
		l->latency_ns = k->latency_ns;
	if (k->has_bw)
		l->bandwidth_Bps = k->bandwidth_Bps;
	if (k->has_overhead)
		l->overhead_bytes = k->overhead_bytes;
}

static void set_all(struct netmodel *m, const struct keys *k)
{
	for (int from = 0; from < NETMODEL_PARTIES; from++)
		for (int to = 0; to < NETMODEL_PARTIES; to++)
			if (from != to)
				apply_keys(k, &m->link[from][to]);
}

static int parse_base(struct netmodel *m, struct span base, char *err, size_t err_len)
{
	size_t comma = find(base, ',');
	struct span first = trim(before(base, comma));
	struct span items = base;
	if (find(first, '=') == first.n) {
		if (find(first, ':') < first.n)
			return error_fmt(
			    err, err_len, ERROR_INVAL,
			    "'%.*s': a spec starts with a preset or key=value items, "
			    "per-link overrides follow ';' (e.g. 'none;P0->P2:bw=1MB/s')",
			    SPAN(first));
		if (is_key(first))
			return error_fmt(err, err_len, ERROR_INVAL,
			                 "'%.*s' needs a value: write %.*s=<value>", SPAN(first),
			                 SPAN(first));
		const struct preset *p = NULL;
		for (size_t i = 0; i < N_PRESETS && !p; i++)
			if (equals(first, presets[i].name))
				p = &presets[i];
		if (!p)
			return error_fmt(err, err_len, ERROR_INVAL,
			                 "unknown preset '%.*s' (accepted: " PRESET_LIST
			                 "; or keys " KEY_LIST ")",
			                 SPAN(first));
		struct keys k = {.has_lat = true,
				 .has_bw = true,
				 .has_overhead = true,
				 .latency_ns = p->link.latency_ns,
				 .bandwidth_Bps = p->link.bandwidth_Bps,
				 .overhead_bytes = p->link.overhead_bytes};
		set_all(m, &k);
		if (comma == base.n)
			return 0;
		items = after(base, comma);
	}
	struct keys k = {0};
	TRY(parse_keys(items, trim(base), &k, err, err_len));
	set_all(m, &k);
	return 0;
}

static int parse_party(struct span s, struct span link, int *party, char *err, size_t err_len)
{
	s = trim(s);
	if (s.n == 2 && s.p[0] == 'P' && s.p[1] >= '0' && s.p[1] < '0' + NETMODEL_PARTIES) {
		*party = s.p[1] - '0';
		return 0;
	}
	return error_fmt(err, err_len, ERROR_INVAL,
	                 "bad party '%.*s' in link '%.*s' (accepted: P0, P1, P2; write Pi-Pj for "
	                 "both directions or Pi->Pj for one)",
	                 SPAN(s), SPAN(link));
}

static int parse_override(struct netmodel *m, struct span section, char *err, size_t err_len)
{
	struct span s = trim(section);
	if (s.n == 0)
		return error_fmt(err, err_len, ERROR_INVAL,
		                 "empty per-link override after ';' (write e.g. 'P0-P2:lat=5ms' or "
		                 "'P0->P2:bw=1MB/s')");
	size_t colon = find(s, ':');
	if (colon == s.n)
		return error_fmt(
		    err, err_len, ERROR_INVAL,
		    "per-link override '%.*s' has no ':' (write e.g. 'P0-P2:lat=5ms' or "
		    "'P0->P2:bw=1MB/s')",
		    SPAN(s));
	struct span link = trim(before(s, colon));
	struct span items = after(s, colon);
	bool one_way = false;
	size_t dash = find(link, '-');
	if (dash + 1 < link.n && link.p[dash + 1] == '>')
		one_way = true;
	if (dash == link.n)
		return error_fmt(
		    err, err_len, ERROR_INVAL,
		    "bad link '%.*s' (write Pi-Pj for both directions or Pi->Pj for one; "
		    "parties: P0, P1, P2)",
		    SPAN(link));
	int from = 0, to = 0;
	TRY(parse_party(before(link, dash), link, &from, err, err_len));
	TRY(parse_party(after(link, dash + one_way), link, &to, err, err_len));
	if (from == to)
		return error_fmt(err, err_len, ERROR_INVAL,
		                 "link '%.*s' connects P%d to itself (accepted: two of P0, P1, P2)",
		                 SPAN(link), from);
	if (trim(items).n == 0)
		return error_fmt(
		    err, err_len, ERROR_INVAL,
		    "per-link override '%.*s' sets no keys (accepted keys: " KEY_LIST ")", SPAN(s));
	struct keys k = {0};
	TRY(parse_keys(items, trim(items), &k, err, err_len));
	apply_keys(&k, &m->link[from][to]);
	if (!one_way)
		apply_keys(&k, &m->link[to][from]);
	return 0;
}

static bool link_equal(const struct netlink *a, const struct netlink *b)
{
	return a->latency_ns == b->latency_ns && a->bandwidth_Bps == b->bandwidth_Bps &&
	       a->overhead_bytes == b->overhead_bytes;
}

static void set_name(struct netmodel *m)
{
	for (size_t i = 0; i < N_PRESETS; i++) {
		bool same = true;
		for (int from = 0; from < NETMODEL_PARTIES; from++)
			for (int to = 0; to < NETMODEL_PARTIES; to++)
				if (from != to && !link_equal(&m->link[from][to], &presets[i].link))
					same = false;
		if (same) {
			snprintf(m->name, sizeof(m->name), "%s", presets[i].name);
			return;
		}
	}
	snprintf(m->name, sizeof(m->name), "custom");
}

void netmodel_default(struct netmodel *m)
{
	memset(m, 0, sizeof(*m));
	snprintf(m->name, sizeof(m->name), "%s", presets[0].name);
}

int netmodel_parse(struct netmodel *m, const char *spec, char *err, size_t err_len)
{
	if (err && err_len > 0)
		err[0] = '\0';
	if (!m || !spec)
		return error_fmt(err, err_len, ERROR_INVAL, "netmodel_parse: NULL %s",
		                 m ? "spec" : "model");
	struct span s = trim(span_of(spec));
	if (s.n == 0)
		return error_fmt(err, err_len, ERROR_INVAL,
		                 "empty network spec (accepted: " PRESET_LIST "; or keys " KEY_LIST
		                 ")");
	struct netmodel tmp;
	netmodel_default(&tmp);
	size_t semi = find(s, ';');
	struct span base = trim(before(s, semi));
	if (base.n == 0)
		return error_fmt(err, err_len, ERROR_INVAL,
		                 "'%.*s': missing preset or keys before ';' (accepted: " PRESET_LIST
		                 "; or keys " KEY_LIST ")",
		                 SPAN(s));
	int rc = parse_base(&tmp, base, err, err_len);
	while (rc == 0 && semi < s.n) {
		s = after(s, semi);
		semi = find(s, ';');
		rc = parse_override(&tmp, before(s, semi), err, err_len);
	}
	if (rc < 0)
		return ERROR_INVAL;
	set_name(&tmp);
	*m = tmp;
	return 0;
}

const char *const *netmodel_preset_names(void)
{
	return preset_names;
}

/* ------------------------------------------------------------------------ */
/* Time and formatting */

uint64_t netmodel_transfer_ns(const struct netlink *l, size_t n_bytes)
{
	double bw = l->bandwidth_Bps;
	/* 0 means infinite; a NaN or negative bandwidth cannot come from the parser
	 * and is treated the same way rather than poisoning the clock. */
	if (!(bw > 0.0) || isinf(bw))
		return 0;
	uint64_t bytes = (uint64_t)n_bytes;
	bytes = bytes > UINT64_MAX - l->overhead_bytes ? UINT64_MAX : bytes + l->overhead_bytes;
	if (bw == floor(bw) && bw <= 1.8e16) {
		/* Exact: ceil(bytes * 10^9 / b) by long division in base 1000, so the
		 * remainder times 1000 stays below 2^64. */
		uint64_t b = (uint64_t)bw;
		uint64_t q = bytes / b, r = bytes % b;
		if (q > UINT64_MAX / 1000000000u)
			return UINT64_MAX;
		uint64_t frac = 0;
		for (int i = 0; i < 3; i++) {
			r *= 1000;
			frac = frac * 1000 + r / b;
			r %= b;
		}
		frac += r != 0;
		uint64_t ns = q * 1000000000u;
		return ns > UINT64_MAX - frac ? UINT64_MAX : ns + frac;
	}
	double t = ceil((double)bytes * 1e9 / bw);
	return t >= 18446744073709551616.0 ? UINT64_MAX : (uint64_t)t;
}

/* A display unit of a scale whose units are 1000 apart. */
struct scale_unit {
	const char *name; /* as printed; parses back */
	int pow10;        /* 1 unit = 10^pow10 base units */
};

static const struct scale_unit byte_scale[] = {
	{"B/s", 0}, {"kB/s", 3}, {"MB/s", 6}, {"GB/s", 9}, {"TB/s", 12},
};

static const struct scale_unit bit_scale[] = {
	{"bit/s", 0}, {"kbit/s", 3}, {"Mbit/s", 6}, {"Gbit/s", 9}, {"Tbit/s", 12},
};

static const struct scale_unit time_scale[] = {
	{"ns", 0}, {"us", 3}, {"ms", 6}, {"s", 9},
};

/* Latencies in netmodel_format: ms as ping reports them, s from 1000 ms on. */
static const struct scale_unit latency_scale[] = {
	{"ms", 6}, {"s", 9},
};

/* v > 0 (and within 10^+-300) rounded to 3 significant digits: r * 10^(e-2) with
 * 100 <= r <= 999. Rounding in one place decides both the digits and the unit,
 * so 999.5 ms becomes "1.00 s", never "1000 ms" or "1.000 s". */
static void round3(double v, int *r, int *e)
{
	int exp10 = (int)floor(log10(v));
	double digits = 0.0;
	/* log10 may be off by one near powers of ten, and rounding may carry */
	for (int i = 0; i < 4; i++) {
		digits = round(exp10 >= 2 ? v / pow10_of(exp10 - 2) : v * pow10_of(2 - exp10));
		if (digits >= 1000.0)
			exp10++;
		else if (digits < 100.0)
			exp10--;
		else
			break;
	}
	*r = (int)digits;
	*e = exp10;
}

/* "<number> <unit>" with 3 significant digits and the largest unit that keeps
 * the number at least 1: "625 MB/s", "40.0 MB/s", "0.110 ms". Outside the
 * units' range, exponent notation: "1.00e-05 B/s", "1.84e+10 s". Digits are
 * printed from integers, so the C locale cannot change the decimal point. */
static void emit_scaled(struct out *o, double v, const struct scale_unit *units, size_t n)
{
	if (v == 0.0) {
		emit(o, "0 %s", units[0].name);
		return;
	}
	if (!(v >= 1e-300 && v <= 1e300)) {
		emit(o, "%.2e %s", v, units[0].name);
		return;
	}
	int r, e;
	round3(v, &r, &e);
	size_t i = 0;
	while (i + 1 < n && units[i + 1].pow10 <= e)
		i++;
	int k = e - units[i].pow10; /* the number is r * 10^(k-2) */
	int d0 = r / 100, d1 = r / 10 % 10, d2 = r % 10;
	if (k >= 3 || k < -3)
		emit(o, "%d.%d%de%c%02d", d0, d1, d2, k < 0 ? '-' : '+', k < 0 ? -k : k);
	else if (k == 2)
		emit(o, "%d", r);
	else if (k == 1)
		emit(o, "%d%d.%d", d0, d1, d2);
	else if (k == 0)
		emit(o, "%d.%d%d", d0, d1, d2);
	else
		emit(o, "0.%.*s%d", -k - 1, "00", r);
	emit(o, " %s", units[i].name);
}

static void emit_rate(struct out *o, double Bps)
{
	if (Bps == 0.0 || (isinf(Bps) && Bps > 0))
		emit(o, "inf");
	else if (!(Bps > 0.0))
		emit(o, "invalid");
	else
		emit_scaled(o, Bps, byte_scale, N_OF(byte_scale));
}

static void emit_duration(struct out *o, uint64_t ns)
{
	if (ns < 1000)
		emit(o, "%" PRIu64 " ns", ns);
	else
		emit_scaled(o, (double)ns, time_scale, N_OF(time_scale));
}

size_t netmodel_format_rate(double Bps, char *buf, size_t len)
{
	struct out o = out_start(buf, len);
	emit_rate(&o, Bps);
	return o.pos;
}

size_t netmodel_format_duration(uint64_t ns, char *buf, size_t len)
{
	struct out o = out_start(buf, len);
	emit_duration(&o, ns);
	return o.pos;
}

static void emit_link(struct out *o, const struct netlink *l, bool ping)
{
	emit_scaled(o, (double)l->latency_ns, latency_scale, N_OF(latency_scale));
	emit(o, " one-way");
	if (ping) {
		emit(o, " (");
		emit_scaled(o, 2.0 * (double)l->latency_ns, latency_scale, N_OF(latency_scale));
		emit(o, " ping)");
	}
	double bw = l->bandwidth_Bps;
	if (bw == 0.0 || (isinf(bw) && bw > 0)) {
		emit(o, ", infinite bandwidth");
	} else {
		emit(o, ", ");
		emit_rate(o, bw);
		if (bw > 0.0) {
			emit(o, " (");
			emit_scaled(o, bw * 8.0, bit_scale, N_OF(bit_scale));
			emit(o, ")");
		}
	}
	if (l->overhead_bytes)
		emit(o, ", %" PRIu64 " B overhead per message", l->overhead_bytes);
}

void netmodel_format(const struct netmodel *m, char *buf, size_t len)
{
	struct out o = out_start(buf, len);
	if (!m)
		return;
	/* The setting shared by most directed links is the headline; ties go to
	 * the first in P0->P1, P0->P2, P1->P0, ... order. */
	const struct netlink *base = NULL;
	int best = 0;
	for (int a = 0; a < NETMODEL_PARTIES * NETMODEL_PARTIES; a++) {
		const struct netlink *la = &m->link[a / NETMODEL_PARTIES][a % NETMODEL_PARTIES];
		if (a / NETMODEL_PARTIES == a % NETMODEL_PARTIES)
			continue;
		int count = 0;
		for (int b = 0; b < NETMODEL_PARTIES * NETMODEL_PARTIES; b++)
			if (b / NETMODEL_PARTIES != b % NETMODEL_PARTIES &&
			    link_equal(la, &m->link[b / NETMODEL_PARTIES][b % NETMODEL_PARTIES]))
				count++;
		if (count > best) {
			best = count;
			base = la;
		}
	}
	emit(&o, "%.*s: ", (int)strnlen(m->name, sizeof(m->name)), m->name);
	emit_link(&o, base, true);
	for (int from = 0; from < NETMODEL_PARTIES; from++) {
		for (int to = 0; to < NETMODEL_PARTIES; to++) {
			const struct netlink *l = &m->link[from][to];
			const struct netlink *back = &m->link[to][from];
			if (from == to || link_equal(l, base))
				continue;
			bool both = link_equal(l, back);
			if (both && to < from)
				continue; /* printed as from-to already */
			emit(&o, "; override P%d%sP%d: ", from, both ? "-" : "->", to);
			emit_link(&o, l, both);
		}
	}
}
