#include "report.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "prg.h"
#include "ring_gemm.h"
#include "snn_config.h"
#include "snn_git.h"
#include "zp.h"

static void cpu_model(char *buf, size_t len)
{
	snprintf(buf, len, "unknown");
	FILE *f = fopen("/proc/cpuinfo", "r");
	if (!f)
		return;
	char line[256];
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "model name", 10) == 0) {
			char *colon = strchr(line, ':');
			if (colon) {
				colon++;
				while (*colon == ' ' || *colon == '\t')
					colon++;
				colon[strcspn(colon, "\n")] = '\0';
				snprintf(buf, len, "%s", colon);
			}
			break;
		}
	}
	fclose(f);
}

void report_meta_collect(struct report_meta *m)
{
	memset(m, 0, sizeof(*m));
	snprintf(m->git, sizeof(m->git), "%s", SNN_GIT_DESCRIBE);
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(m->date, sizeof(m->date), "%Y-%m-%dT%H:%M:%SZ", &tm);
	snprintf(m->compiler, sizeof(m->compiler), "%s", SNN_COMPILER);
	snprintf(m->build, sizeof(m->build), "%s", SNN_BUILDTYPE);
	cpu_model(m->cpu, sizeof(m->cpu));
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	m->n_cpus = n > 0 ? (unsigned)n : 0;
	snprintf(m->kernels, sizeof(m->kernels), "gemm=%s prg=%s z67=%s", ring_gemm_impl_name(),
		 prg_impl_name(), zp_impl_name());
}

void report_meta_tsv(FILE *f, const struct report_meta *m, const struct cli_run *run,
		     const char *network_note)
{
	fprintf(f, "# snn %s (git %s)\n", SNN_VERSION, m->git);
	fprintf(f, "# date: %s\n", m->date);
	fprintf(f, "# compiler: %s; build: %s\n", m->compiler, m->build);
	fprintf(f, "# cpu: %s (%u online)\n", m->cpu, m->n_cpus);
	fprintf(f, "# kernels: %s\n", m->kernels);
	if (run) {
		char net[NETMODEL_TEXT_LEN];
		netmodel_format(&run->cfg.net, net, sizeof(net));
		fprintf(f, "# seed: %llu\n", (unsigned long long)run->cfg.seed);
		fprintf(f, "# network: %s\n", network_note ? network_note : net);
		fprintf(f, "# clock: %s, cpu scale %g\n",
			run->cfg.clock == SIM_CLOCK_REAL ? "real" : "virtual", run->cfg.cpu_scale);
	}
}

void report_meta_json(FILE *f, const struct report_meta *m)
{
	fprintf(f, "\"git\":");
	trace_json_str(f, m->git);
	fprintf(f, ",\"date\":");
	trace_json_str(f, m->date);
	fprintf(f, ",\"compiler\":");
	trace_json_str(f, m->compiler);
	fprintf(f, ",\"cpu\":");
	trace_json_str(f, m->cpu);
}

FILE *report_file_open(const char *path, char *tmp, size_t tmp_len, char *err, size_t err_len)
{
	int n = snprintf(tmp, tmp_len, "%s.tmp", path);
	if (n < 0 || (size_t)n >= tmp_len) {
		snprintf(err, err_len, "cannot write '%s': path too long", path);
		return NULL;
	}
	FILE *f = fopen(tmp, "w");
	if (!f)
		snprintf(err, err_len, "cannot write '%s': %s", tmp, strerror(errno));
	return f;
}

int report_file_commit(FILE *f, const char *tmp, const char *path, char *err, size_t err_len)
{
	int bad = ferror(f);
	if (fclose(f) != 0 || bad || rename(tmp, path) != 0) {
		snprintf(err, err_len, "cannot write '%s': %s", path,
			 bad && !errno ? "write error" : strerror(errno));
		remove(tmp);
		return -1;
	}
	return 0;
}
