/*
 * kd_state: what the client remembers, in plain lines: the server keys
 * it pinned ($XDG_CONFIG_HOME/keydir/pins: "SERVER FPR") and the
 * directory version of each key it fetched ($XDG_STATE_HOME/keydir/seen:
 * "SERVER FPR UPDATED"), so that a lookup fetches only what changed.
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client.h"
#include "str.h"

/* Make dir and the folders above it that are missing (mode 0700). */
static void
mkdir_p(const char *dir)
{
	char p[1024];
	size_t i;

	str_lcpy(p, dir, sizeof(p));
	for (i = 1; p[i] != '\0'; i++)
		if (p[i] == '/') {
			p[i] = '\0';
			if (mkdir(p, 0700) == -1 && errno != EEXIST)
				return;
			p[i] = '/';
		}
	mkdir(p, 0700);
}

/* $VAR/keydir/name, or ~/DEFAULT/keydir/name; the folder made. */
static int
kd_path(const char *var, const char *dflt, const char *name, char *out,
    size_t sz)
{
	const char *base = getenv(var), *home = getenv("HOME");
	char dir[1024];

	if (base != NULL && *base == '/')
		snprintf(dir, sizeof(dir), "%s/keydir", base);
	else if (home != NULL)
		snprintf(dir, sizeof(dir), "%s/%s/keydir", home, dflt);
	else
		return -1;
	mkdir_p(dir);
	return (size_t)snprintf(out, sz, "%s/%s", dir, name) < sz ? 0 : -1;
}

/* The value of the line "SERVER FPR VALUE" (VALUE optional) in path. */
static int
kd_line_get(const char *path, const char *server, const char *fpr,
    char *val, size_t sz)
{
	char line[1024], s[512], f[64], v[64];
	FILE *fp;
	int rc = 1, n;

	if ((fp = fopen(path, "r")) == NULL)
		return 1;
	while (fgets(line, sizeof(line), fp) != NULL) {
		v[0] = '\0';
		n = sscanf(line, "%511s %63s %63s", s, f, v);
		if (n < 2 || strcmp(s, server) != 0 ||
		    (fpr != NULL && strcmp(f, fpr) != 0))
			continue;
		str_lcpy(val, fpr != NULL ? v : f, sz);
		rc = 0;
	}
	fclose(fp);
	return rc;
}

/* Rewrite path without the lines of (server, fpr or any), plus line. */
static int
kd_line_set(const char *path, const char *server, const char *fpr,
    const char *newline)
{
	char tmp[1100], line[1024], s[512], f[64];
	FILE *in, *out;
	int rc;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if ((out = fopen(tmp, "w")) == NULL)
		return -1;
	if ((in = fopen(path, "r")) != NULL) {
		while (fgets(line, sizeof(line), in) != NULL) {
			if (sscanf(line, "%511s %63s", s, f) == 2 &&
			    strcmp(s, server) == 0 &&
			    (fpr == NULL || strcmp(f, fpr) == 0))
				continue;
			fputs(line, out);
		}
		fclose(in);
	}
	fprintf(out, "%s\n", newline);
	rc = fflush(out) == 0 && fsync(fileno(out)) == 0 ? 0 : -1;
	if (fclose(out) != 0 || rc == -1 || rename(tmp, path) == -1) {
		unlink(tmp);
		return -1;
	}
	return 0;
}

int64_t
kd_seen_get(const char *server, const char *fpr)
{
	char path[1100], v[64];

	if (kd_path("XDG_STATE_HOME", ".local/state", "seen", path,
	    sizeof(path)) == -1 || kd_line_get(path, server, fpr, v,
	    sizeof(v)) != 0)
		return 0;
	return strtoll(v, NULL, 10);
}

void
kd_seen_set(const char *server, const char *fpr, int64_t updated)
{
	char path[1100], line[700];

	if (kd_path("XDG_STATE_HOME", ".local/state", "seen", path,
	    sizeof(path)) == -1)
		return;
	snprintf(line, sizeof(line), "%s %s %lld", server, fpr,
	    (long long)updated);
	kd_line_set(path, server, fpr, line);
}

int
kd_pin_get(const char *server, char fpr[FPR_LEN + 1])
{
	char path[1100];

	if (kd_path("XDG_CONFIG_HOME", ".config", "pins", path,
	    sizeof(path)) == -1)
		return 1;
	return kd_line_get(path, server, NULL, fpr, FPR_LEN + 1);
}

int
kd_pin_set(const char *server, const char *fpr, struct err *e)
{
	char path[1100], line[700];

	snprintf(line, sizeof(line), "%s %s", server, fpr);
	if (kd_path("XDG_CONFIG_HOME", ".config", "pins", path,
	    sizeof(path)) == -1 || kd_line_set(path, server, NULL, line) == -1)
		return err_set(e, ERR_INTERNAL, "cannot write the pin file");
	return 0;
}
