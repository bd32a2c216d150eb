#include "paper.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const struct paper_row rows[] = {
#define PAPER_ROW(t, item, dims, batch, epochs, metric, value, unit)                             \
	{ t, item, dims, batch, epochs, metric, value, unit },
#include "paper_data.h"
#undef PAPER_ROW
};

const struct paper_row *paper_find_epochs(int table, const char *item, const char *dims, int batch,
					  int epochs, const char *metric)
{
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct paper_row *r = &rows[i];
		if (r->table == table && strcmp(r->item, item) == 0 && strcmp(r->dims, dims) == 0 &&
		    (batch == 0 || r->batch == batch) && (epochs == 0 || r->epochs == epochs) &&
		    strcmp(r->metric, metric) == 0)
			return r;
	}
	return NULL;
}

const struct paper_row *paper_find(int table, const char *item, const char *dims, int batch,
				   const char *metric)
{
	return paper_find_epochs(table, item, dims, batch, 0, metric);
}

double paper_value(const struct paper_row *row)
{
	return strtod(row->value, NULL);
}

int paper_decimals(const struct paper_row *row)
{
	const char *dot = strchr(row->value, '.');
	return dot ? (int)strlen(dot + 1) : 0;
}

int paper_matches(const struct paper_row *row, double ours)
{
	double scale = pow(10.0, paper_decimals(row));
	if (llround(ours * scale) == llround(paper_value(row) * scale))
		return PAPER_MATCH_ROUNDED;
	/* The paper sometimes truncates (0.4288 MB printed as 0.42). */
	if ((long long)floor(ours * scale + 1e-9) == llround(paper_value(row) * scale))
		return PAPER_MATCH_TRUNCATED;
	return PAPER_MATCH_NO;
}
