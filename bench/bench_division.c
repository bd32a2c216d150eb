/* PLACEHOLDER so the tree builds until the division helper writes this file. */
#include "bench.h"

const struct bench_case bench_case_division = {
	.name = "division",
	.dims_names = "n",
	.n_dims = 1,
	.summary = "(not written yet)",
};
