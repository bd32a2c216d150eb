/* Figures for the snn commands: run one of the gnuplot scripts in plots/.
 *
 * plot_render(script, in, out_base, vars, ...) runs, without a shell
 * (posix_spawn, so no quoting problems),
 *
 *     gnuplot -e "in='\"IN\"'; out='OUT_BASE'; NAME='VALUE'; ..." DIR/SCRIPT.gp
 *
 * which writes OUT_BASE.png and OUT_BASE.svg (plots/README.md lists the
 * scripts, their inputs and their variables). Every value is passed as a
 * gnuplot single-quoted string (' doubled; gnuplot substitutes nothing inside
 * one); the input path is also double-quoted inside it, as the scripts split
 * `in` into words. A path that starts with '<' or '|' (gnuplot's pipes) gets a
 * "./" in front. The output's folder must exist.
 *
 * DIR is the first of these that holds SCRIPT.gp:
 *   1. $SNN_PLOTS, when set (and then only it);
 *   2. the source tree's plots/ seen from the executable: /proc/self/exe is
 *      BUILD/bench/snn, so BUILD/bench/../../plots;
 *   3. ./plots.
 * A script name with a '/' is used as a path as it is.
 *
 * Before gnuplot runs, the input is checked: readable, and a header line and
 * at least one row after the '#' comment lines.
 *
 * Return codes (with a message in err, which may be NULL):
 *   0                 OUT_BASE.png and OUT_BASE.svg written
 *   PLOT_NO_GNUPLOT   no gnuplot on PATH: the caller prints
 *                     "gnuplot not found: plots skipped" and goes on
 *   ERROR_INVAL       NULL arguments, a variable name that is not an
 *                     identifier (or is in, out or fig), a line break in a
 *                     value, a '"' in the input path
 *   ERROR_IO          no such script ("no plot script 'x.gp' (looked in ...)"),
 *                     unreadable input, no output folder, gnuplot could not
 *                     be started, or it failed: "gnuplot failed (exit
 *                     status 1): <its last message line>"
 *   ERROR_FORMAT      the input has no data rows
 *   ERROR_NOMEM */
#ifndef SNN_BENCH_PLOT_H
#define SNN_BENCH_PLOT_H

#include <stddef.h>

#include "error.h"

#define PLOT_NO_GNUPLOT ERROR_UNSUPPORTED /* gnuplot is not on PATH */

/* 1 if an executable gnuplot is on PATH, else 0. */
int plot_available(void);

/* Render plots/<script>.gp (".gp" may be given or left out) from the TSV
 * file in into out_base.png and out_base.svg. vars: NULL, or pairs of
 * name, value ending with NULL, e.g. (const char *[]){"title", "Network A",
 * NULL}; each becomes name='value' for the script. */
int plot_render(const char *script, const char *in, const char *out_base, const char *const *vars,
                char *err, size_t err_len) SNN_MUST_CHECK;

#endif
