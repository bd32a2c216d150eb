/* The figures published in the SecureNN paper (PoPETs 2019), embedded from
 * results/paper-tables.tsv, so every comparison prints the paper's number as
 * printed there. */
#ifndef SNN_BENCH_PAPER_H
#define SNN_BENCH_PAPER_H

struct paper_row {
	int table;          /* 3..8 */
	const char *item;   /* "matmul", "A", "SecureML-2PC", ... */
	const char *dims;   /* "m=784,n=128,v=10", "-" */
	int batch;          /* 0 when not given */
	int epochs;         /* 0 when not given */
	const char *metric; /* "lan_time", "wan_time", "comm", "accuracy", ... */
	const char *value;  /* as printed in the paper */
	const char *unit;   /* "ms", "s", "h", "MB", "%" */
};

/* The row, or NULL. batch 0 matches any batch. */
const struct paper_row *paper_find(int table, const char *item, const char *dims, int batch,
				   const char *metric);

/* The same with the number of epochs (Tables 3-5; 0 matches any). */
const struct paper_row *paper_find_epochs(int table, const char *item, const char *dims, int batch,
					  int epochs, const char *metric);

double paper_value(const struct paper_row *row);

/* Decimal places of the printed value ("0.0032" -> 4). */
int paper_decimals(const struct paper_row *row);

enum paper_match {
	PAPER_MATCH_NO = 0,        /* differs at the printed precision */
	PAPER_MATCH_ROUNDED = 1,   /* ours rounded to the printed digits is the printed value */
	PAPER_MATCH_TRUNCATED = 2, /* ours truncated to the printed digits is (the paper truncated) */
};

/* Does ours agree with the printed value at its precision? */
int paper_matches(const struct paper_row *row, double ours);

#endif
