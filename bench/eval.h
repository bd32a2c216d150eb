/* `snn eval <protocol>`: run one protocol on the user's own values.
 *
 * Reads values (fixed-point decimals, or raw ring integers with --raw) from
 * a file or stdin, secret-shares them as the data owner, runs the protocol
 * among the three simulated parties, reveals and prints the outputs one per
 * line (or --json). --views DIR writes what each party received, message by
 * message (format in README.md and in the files' headers). */
#ifndef SNN_BENCH_EVAL_H
#define SNN_BENCH_EVAL_H

int eval_main(int argc, char **argv);

#endif
