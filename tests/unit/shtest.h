/*
 * shtest: what the unit tests that drive gpg at test time share: running
 * shell commands and reading the files they write.  Header-only; the
 * including test defines `static char tmp[]`, its scratch directory,
 * before including this.
 */
#ifndef KEYDIR_SHTEST_H
#define KEYDIR_SHTEST_H

#include <sys/wait.h>

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Run a shell command built printf-style; its exit status. */
static int __attribute__((format(printf, 1, 2), unused))
sh(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* First line a shell command prints, into out. */
static void __attribute__((format(printf, 3, 4), unused))
sh_line(char *out, size_t sz, const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	FILE *f;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	out[0] = '\0';
	if ((f = popen(cmd, "r")) == NULL)
		return;
	if (fgets(out, (int)sz, f) != NULL)
		out[strcspn(out, "\n")] = '\0';
	pclose(f);
}

/* Contents of tmp/name; *len gets the size.  NULL when missing. */
static uint8_t * __attribute__((unused))
slurp(const char *name, size_t *len)
{
	char path[256];
	uint8_t *p;
	long n;
	FILE *f;

	*len = 0;
	snprintf(path, sizeof(path), "%s/%s", tmp, name);
	if ((f = fopen(path, "rb")) == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	p = malloc((size_t)n + 1);
	*len = fread(p, 1, (size_t)n, f);
	fclose(f);
	return p;
}

#endif
