/* snn repro's table logic and report formats (bench/repro.h). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "paper.h"
#include "repro.h"

static struct repro_row row(const char *metric, double ours, double published, const char *unit)
{
	struct repro_row r;
	memset(&r, 0, sizeof(r));
	snprintf(r.table, sizeof(r.table), "7");
	snprintf(r.item, sizeof(r.item), "C");
	snprintf(r.dims, sizeof(r.dims), "-");
	r.batch = 128;
	snprintf(r.metric, sizeof(r.metric), "%s", metric);
	r.ours = ours;
	r.published = published;
	snprintf(r.unit, sizeof(r.unit), "%s", unit);
	snprintf(r.note, sizeof(r.note), "a \"quoted\" note");
	r.match = -1;
	return r;
}

/* The paper's own arithmetic: A, 1.03 h for 15 epochs of 60000/128 iterations
 * is 0.527 s per iteration. */
Test(repro, extrapolation_is_the_papers)
{
	double h = repro_extrapolate_h(0.52736, 15, 128, 60000);
	cr_assert_float_eq(h, 1.03, 1e-3, "%f", h);
	cr_assert_float_eq(repro_extrapolate_h(2.0, 5, 4, 60000), 2.0 * 5 * 15000 / 3600, 1e-9);
}

Test(repro, ratio_needs_both_figures)
{
	struct repro_row r = row("lan_time", 2.0, 8.0, "s");
	cr_assert_float_eq(repro_ratio(&r), 0.25, 1e-12);
	r.published = NAN;
	cr_assert(isnan(repro_ratio(&r)));
	r = row("lan_time", NAN, 8.0, "s");
	cr_assert(isnan(repro_ratio(&r)));
	r = row("lan_time", 1.0, 0.0, "s");
	cr_assert(isnan(repro_ratio(&r)));
}

Test(repro, tsv_has_the_documented_columns)
{
	struct repro_row rows[2] = { row("lan_time", 3.0, 10.82, "s"), row("comm", 1550.0, 1550, "MB") };
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	cr_assert_not_null(f);
	repro_write_tsv(f, rows, 2);
	fclose(f);
	cr_assert_not_null(strstr(buf, "7\tC\t-\t128\t0\tlan_time\t3\t10.82\t0.2773\ts\t"), "%s", buf);
	char *save = NULL, *line = strtok_r(buf, "\n", &save);
	cr_assert_str_eq(line, "table\titem\tdims\tbatch\tepochs\tmetric\tours\tpublished\tratio\tunit\tnote");
	int n = 0;
	while ((line = strtok_r(NULL, "\n", &save))) {
		int tabs = 0;
		for (const char *c = line; *c; c++)
			tabs += *c == '\t';
		cr_assert_eq(tabs, 10, "%s", line);
		n++;
	}
	cr_assert_eq(n, 2);
	free(buf);
}

Test(repro, json_rows_have_the_required_keys)
{
	struct repro_row rows[2] = { row("wan_time", 30.0, NAN, "s"), row("comm", 4.0, 4.05, "MB") };
	rows[1].match = REPRO_MATCH_EXPLAINED;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	repro_write_json(f, rows, 2);
	fclose(f);
	/* Missing numbers are null, not NaN (which JSON does not have). */
	cr_assert_not_null(strstr(buf, "\"published\":null,\"ratio\":null"), "%s", buf);
	cr_assert_not_null(strstr(buf, "\"match\":\"explained\""), "%s", buf);
	cr_assert_null(strstr(buf, "nan"), "%s", buf);
	static const char *const keys[] = { "\"table\":", "\"item\":", "\"dims\":", "\"batch\":",
					    "\"metric\":", "\"ours\":", "\"published\":", "\"ratio\":",
					    "\"unit\":" };
	char *save = NULL;
	int n = 0;
	for (char *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save), n++) {
		cr_assert_eq(line[0], '{');
		cr_assert_eq(line[strlen(line) - 1], '}');
		for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
			cr_assert_not_null(strstr(line, keys[k]), "%s lacks %s", line, keys[k]);
		cr_assert_not_null(strstr(line, "\\\"quoted\\\""), "%s", line);
	}
	cr_assert_eq(n, 2);
	free(buf);
}

/* Every published row the tables print can be found, epochs included. */
Test(repro, published_rows_are_found)
{
	const struct paper_row *p = paper_find_epochs(3, "B", "-", 128, 10, "lan_time");
	cr_assert_not_null(p);
	cr_assert_str_eq(p->value, "11.6");
	p = paper_find_epochs(4, "C", "-", 16, 5, "wan_time");
	cr_assert_not_null(p);
	cr_assert_str_eq(p->value, "46.2");
	cr_assert_not_null(paper_find(5, "SecureNN", "A", 128, "wan_time"));
	cr_assert_not_null(paper_find(6, "Gazelle", "D", 1, "comm"));
	cr_assert_null(paper_find_epochs(3, "A", "-", 128, 5, "lan_time"));
	/* Comm matches at the printed precision, truncated or rounded. */
	p = paper_find(7, "B", "-", 128, "comm");
	cr_assert_eq(paper_matches(p, 1066.6), PAPER_MATCH_TRUNCATED);
	p = paper_find(7, "C", "-", 1, "comm");
	cr_assert_eq(paper_matches(p, 18.943), PAPER_MATCH_ROUNDED);
	cr_assert_eq(paper_matches(p, 18.96), PAPER_MATCH_NO);
}
