/* snn: the command line of the SecureNN simulator. */
#include <malloc.h>
#include <stdio.h>
#include <string.h>

#include "bench.h"
#include "eval.h"
#include "profile.h"
#include "repro.h"
#include "snn_config.h"
#include "snn_git.h"
#include "sweep.h"
#include "train.h"

struct command {
	const char *name;                  /* subcommand */
	int (*main)(int argc, char **argv); /* gets the arguments after the name */
	const char *summary;               /* one line for snn help */
};

static int help_main(int argc, char **argv);

static const struct command commands[] = {
	{ "repro", repro_main, "the paper's Tables 3-8 measured here beside the published figures" },
	{ "bench", bench_main, "verify and measure a protocol; --paper prints Table 8 beside ours" },
	{ "eval", eval_main, "run one protocol on your own values; --views shows what each party saw" },
	{ "train", train_main, "train a network on MNIST securely; checkpoints, --resume" },
	{ "infer", train_infer_main, "secure inference with a trained model; confusion matrix" },
	{ "profile", profile_main, "where a network's bytes and time go, per layer and protocol, beside the formulas" },
	{ "sweep", sweep_main, "one network run re-timed over a grid of latencies and bandwidths: what bounds it" },
	{ "help", help_main, "this text; snn <command> --help for a command's options" },
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *out)
{
	fprintf(out, "snn %s (git %s): SecureNN three-party protocols, simulated on one machine\n\n"
		     "usage: snn <command> [options]\n\ncommands:\n",
		SNN_VERSION, SNN_GIT_DESCRIBE);
	for (size_t k = 0; k < N_COMMANDS; k++)
		fprintf(out, "  %-8s %s\n", commands[k].name, commands[k].summary);
}

static int help_main(int argc, char **argv)
{
	if (argc > 0) {
		for (size_t k = 0; k < N_COMMANDS; k++) {
			if (strcmp(argv[0], commands[k].name) == 0 && commands[k].main != help_main) {
				char help[] = "--help";
				char *args[] = { help, NULL };
				return commands[k].main(1, args);
			}
		}
		fprintf(stderr, "snn help: unknown command '%s'\n", argv[0]);
		return 2;
	}
	usage(stdout);
	return 0;
}

int main(int argc, char **argv)
{
	/* Message and scratch buffers of a few MB are allocated and freed at every
	 * step; keep them in the heap instead of mmap/munmap, so they are not
	 * faulted in and zeroed by the kernel again each time. */
	mallopt(M_MMAP_THRESHOLD, 1 << 30);
	mallopt(M_TRIM_THRESHOLD, 1 << 30);
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
		return help_main(0, NULL);
	if (strcmp(argv[1], "--version") == 0) {
		printf("snn %s (git %s)\n", SNN_VERSION, SNN_GIT_DESCRIBE);
		return 0;
	}
	for (size_t k = 0; k < N_COMMANDS; k++)
		if (strcmp(argv[1], commands[k].name) == 0)
			return commands[k].main(argc - 2, argv + 2);
	fprintf(stderr, "snn: unknown command '%s'; accepted:", argv[1]);
	for (size_t k = 0; k < N_COMMANDS; k++)
		fprintf(stderr, " %s", commands[k].name);
	fprintf(stderr, "\n");
	return 2;
}
