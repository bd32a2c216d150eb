/* Figures for the snn commands (interface and search order in plot.h). */
#include "plot.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define PATH_LEN   4096 /* bytes of a path we build */
#define STDERR_MAX 4096 /* bytes of gnuplot's stderr kept for the message */

static int is_file(const char *path, int mode)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, mode) == 0;
}

/* The first executable gnuplot on PATH (an empty entry is the current folder). */
static int find_gnuplot(char *path, size_t len)
{
	const char *dirs = getenv("PATH");
	if (!dirs || !*dirs)
		dirs = "/usr/bin:/bin";
	for (const char *p = dirs;; p++) {
		const char *end = strchr(p, ':');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		int w = n ? snprintf(path, len, "%.*s/gnuplot", (int)n, p)
		          : snprintf(path, len, "gnuplot");
		if (w > 0 && (size_t)w < len && is_file(path, X_OK))
			return 0;
		if (!end)
			break;
		p = end;
	}
	return PLOT_NO_GNUPLOT;
}

int plot_available(void)
{
	char path[PATH_LEN];
	return find_gnuplot(path, sizeof path) == 0;
}

/* path = dir/name if that is a readable file. */
static int try_dir(char *path, size_t len, const char *dir, const char *name)
{
	int w = snprintf(path, len, "%s/%s", dir, name);
	return w > 0 && (size_t)w < len && is_file(path, R_OK);
}

static int find_script(char *path, size_t len, const char *script, char *err, size_t err_len)
{
	size_t n = strlen(script);
	const char *ext = n > 3 && strcmp(script + n - 3, ".gp") == 0 ? "" : ".gp";
	char name[PATH_LEN];
	int w = snprintf(name, sizeof name, "%s%s", script, ext);
	if (w < 0 || (size_t)w >= sizeof name)
		return error_fmt(err, err_len, ERROR_INVAL, "plot script name too long");
	if (strchr(name, '/')) {
		if (snprintf(path, len, "%s", name) < (int)len && is_file(path, R_OK))
			return 0;
		return error_fmt(err, err_len, ERROR_IO, "cannot read plot script '%s'", name);
	}

	const char *env = getenv("SNN_PLOTS");
	if (env && *env) {
		if (try_dir(path, len, env, name))
			return 0;
		return error_fmt(err, err_len, ERROR_IO, "no plot script '%s' in SNN_PLOTS=%s",
		                 name, env);
	}

	/* BUILD/bench/snn -> BUILD/bench/../../plots. The kernel's link is
	 * already resolved, so dropping three components is the same. */
	char dir[PATH_LEN] = "";
	ssize_t r = readlink("/proc/self/exe", dir, sizeof dir - sizeof "/plots");
	if (r > 0) {
		dir[r] = '\0';
		for (int up = 0; up < 3; up++) {
			char *slash = strrchr(dir, '/');
			if (slash)
				*slash = '\0';
		}
		strcat(dir, "/plots");
		if (try_dir(path, len, dir, name))
			return 0;
	}
	if (try_dir(path, len, "plots", name))
		return 0;
	return error_fmt(err, err_len, ERROR_IO,
	                 "no plot script '%s' (looked in %s%s./plots; set SNN_PLOTS)", name, dir,
	                 *dir ? ", " : "");
}

/* A header line and at least one row after the comments. */
static int check_input(const char *in, char *err, size_t err_len)
{
	FILE *f = fopen(in, "r");
	if (!f)
		return error_fmt(err, err_len, ERROR_IO, "cannot read '%s': %s", in,
		                 strerror(errno));
	char *line = NULL;
	size_t cap = 0;
	int lines = 0;
	while (lines < 2 && getline(&line, &cap, f) >= 0) {
		if (line[0] != '#' && line[strspn(line, " \t\r\n")] != '\0')
			lines++;
	}
	int bad = ferror(f);
	free(line);
	fclose(f);
	if (bad)
		return error_fmt(err, err_len, ERROR_IO, "cannot read '%s'", in);
	if (lines < 2)
		return error_fmt(
		    err, err_len, ERROR_FORMAT,
		    "'%s' has no data rows (expected '#' comments, a header line, rows)", in);
	return 0;
}

/* The folder of out_base exists (gnuplot would only say "cannot open file"). */
static int check_output(const char *out_base, char *err, size_t err_len)
{
	const char *slash = strrchr(out_base, '/');
	if (!slash)
		return 0;
	char dir[PATH_LEN];
	int n = slash == out_base ? 1 : (int)(slash - out_base);
	if (snprintf(dir, sizeof dir, "%.*s", n, out_base) >= (int)sizeof dir)
		return error_fmt(err, err_len, ERROR_INVAL, "plot output path too long");
	struct stat st;
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
		return error_fmt(err, err_len, ERROR_IO, "plot output folder '%s' does not exist",
		                 dir);
	return 0;
}

static int is_identifier(const char *s)
{
	if (!(*s == '_' || (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z')))
		return 0;
	for (; *s; s++) {
		if (!(*s == '_' || (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9')))
			return 0;
	}
	return 1;
}

/* name='value'; as a gnuplot single-quoted string (' doubled). A path gets
 * "./" before a leading '<' or '|', and dq wraps it in double quotes. */
static void put_var(FILE *f, const char *name, const char *value, int is_path, int dq)
{
	fprintf(f, "%s='%s%s", name, dq ? "\"" : "",
	        is_path && (value[0] == '<' || value[0] == '|') ? "./" : "");
	for (const char *c = value; *c; c++) {
		if (*c == '\'')
			fputc('\'', f);
		fputc(*c, f);
	}
	fprintf(f, "%s'; ", dq ? "\"" : "");
}

/* The -e argument, in *expr (free() it). */
static int build_expr(char **expr, const char *in, const char *out_base, const char *const *vars,
                      char *err, size_t err_len)
{
	if (strchr(in, '"'))
		return error_fmt(err, err_len, ERROR_INVAL, "plot input path has a '\"': %s", in);
	if (strpbrk(in, "\r\n") || strpbrk(out_base, "\r\n"))
		return error_fmt(err, err_len, ERROR_INVAL, "plot path has a line break");
	for (size_t i = 0; vars && vars[i]; i += 2) {
		if (!vars[i + 1])
			return error_fmt(err, err_len, ERROR_INVAL,
			                 "plot variable '%s' has no value", vars[i]);
		if (!is_identifier(vars[i]) || !strcmp(vars[i], "in") || !strcmp(vars[i], "out") ||
		    !strcmp(vars[i], "fig"))
			return error_fmt(err, err_len, ERROR_INVAL, "bad plot variable name '%s'",
			                 vars[i]);
		if (strpbrk(vars[i + 1], "\r\n"))
			return error_fmt(err, err_len, ERROR_INVAL,
			                 "plot variable %s has a line break", vars[i]);
	}

	size_t size = 0;
	FILE *f = open_memstream(expr, &size);
	if (!f)
		return error_fmt(err, err_len, ERROR_NOMEM, "out of memory");
	put_var(f, "in", in, 1, 1);
	put_var(f, "out", out_base, 1, 0);
	for (size_t i = 0; vars && vars[i]; i += 2)
		put_var(f, vars[i], vars[i + 1], 0, 0);
	if (fclose(f) != 0) {
		free(*expr);
		*expr = NULL;
		return error_fmt(err, err_len, ERROR_NOMEM, "out of memory");
	}
	return 0;
}

/* Read the child's stderr to the end, keeping its last STDERR_MAX - 1 bytes. */
static void drain(int fd, char *tail, size_t *n)
{
	char buf[STDERR_MAX / 2];
	for (;;) {
		ssize_t r = read(fd, buf, sizeof buf);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		if (*n + (size_t)r >= STDERR_MAX) {
			size_t keep = STDERR_MAX / 2 - 1;
			memmove(tail, tail + *n - keep, keep);
			*n = keep;
		}
		memcpy(tail + *n, buf, (size_t)r);
		*n += (size_t)r;
	}
	tail[*n] = '\0';
}

/* The last non-blank line of s, trimmed, in place. */
static const char *last_line(char *s)
{
	size_t n = strlen(s);
	while (n && strchr(" \t\r\n", s[n - 1]))
		s[--n] = '\0';
	char *nl = strrchr(s, '\n');
	return nl ? nl + 1 : s;
}

/* gnuplot -e expr script, stdin and stdout on /dev/null, stderr read back. */
static int run(const char *gnuplot, char *script, char *expr, char *err, size_t err_len)
{
	char *argv[] = {"gnuplot", "-e", expr, script, NULL};
	char tail[STDERR_MAX];
	size_t n = 0;
	int fds[2], status = 0, rc = 0, e;
	const char *msg;
	pid_t pid;
	posix_spawn_file_actions_t fa;

	if (pipe(fds) != 0)
		return error_fmt(err, err_len, ERROR_IO, "cannot start gnuplot: %s",
		                 strerror(errno));
	fcntl(fds[0], F_SETFD, FD_CLOEXEC);
	fcntl(fds[1], F_SETFD, FD_CLOEXEC);
	if (posix_spawn_file_actions_init(&fa) != 0) {
		rc = error_fmt(err, err_len, ERROR_NOMEM, "out of memory");
		goto close_pipe;
	}
	if (posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0) ||
	    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0) ||
	    posix_spawn_file_actions_adddup2(&fa, fds[1], 2)) {
		rc = error_fmt(err, err_len, ERROR_NOMEM, "out of memory");
		goto destroy;
	}
	e = posix_spawn(&pid, gnuplot, &fa, NULL, argv, environ);
	if (e != 0) {
		rc = error_fmt(err, err_len, ERROR_IO, "cannot start %s: %s", gnuplot, strerror(e));
		goto destroy;
	}
	close(fds[1]);
	fds[1] = -1;
	drain(fds[0], tail, &n);
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			rc = error_fmt(err, err_len, ERROR_IO, "waiting for gnuplot: %s",
			               strerror(errno));
			goto destroy;
		}
	}
	msg = last_line(tail);
	if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
		rc = error_fmt(err, err_len, ERROR_IO, "gnuplot failed (exit status %d): %s",
		               WEXITSTATUS(status), *msg ? msg : script);
	else if (WIFSIGNALED(status))
		rc = error_fmt(err, err_len, ERROR_IO, "gnuplot killed by signal %d: %s",
		               WTERMSIG(status), script);
destroy:
	posix_spawn_file_actions_destroy(&fa);
close_pipe:
	close(fds[0]);
	if (fds[1] >= 0)
		close(fds[1]);
	return rc;
}

int plot_render(const char *script, const char *in, const char *out_base, const char *const *vars,
                char *err, size_t err_len)
{
	if (!script || !in || !out_base || !*script || !*in || !*out_base)
		return error_fmt(err, err_len, ERROR_INVAL,
		                 "plot_render: missing script, input or output");
	char gnuplot[PATH_LEN], script_path[PATH_LEN];
	if (find_gnuplot(gnuplot, sizeof gnuplot) != 0)
		return error_fmt(err, err_len, PLOT_NO_GNUPLOT, "gnuplot not found");
	int rc = find_script(script_path, sizeof script_path, script, err, err_len);
	if (!rc)
		rc = check_input(in, err, err_len);
	if (!rc)
		rc = check_output(out_base, err, err_len);
	char *expr = NULL;
	if (!rc)
		rc = build_expr(&expr, in, out_base, vars, err, err_len);
	if (!rc)
		rc = run(gnuplot, script_path, expr, err, err_len);
	free(expr);
	return rc;
}
