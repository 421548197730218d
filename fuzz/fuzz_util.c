/*
 * fuzz_util: the helpers of fuzz.h, linked into every target, under
 * libFuzzer and under replay.c alike.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

#ifndef FUZZ_DIR
#define FUZZ_DIR "fuzz"
#endif

/* The input up to its first NUL, as a string. */
char *
fuzz_str(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (s == NULL)
		abort();
	if (size > 0)
		memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* A fixture file, whole. */
uint8_t *
fuzz_fixture(const char *name, size_t *len)
{
	const char *dir = getenv("KEYDIR_FUZZ_DIR");
	char path[4096];
	uint8_t *p;
	long n;
	FILE *f;

	snprintf(path, sizeof(path), "%s/keys/%s", dir ? dir : FUZZ_DIR, name);
	if ((f = fopen(path, "rb")) == NULL || fseek(f, 0, SEEK_END) != 0 ||
	    (n = ftell(f)) <= 0 || fseek(f, 0, SEEK_SET) != 0) {
		fprintf(stderr, "fuzz: cannot read the fixture %s "
		    "(KEYDIR_FUZZ_DIR names the fuzz/ folder)\n", path);
		exit(2);
	}
	if ((p = malloc((size_t)n)) == NULL ||
	    fread(p, 1, (size_t)n, f) != (size_t)n) {
		fprintf(stderr, "fuzz: short read of %s\n", path);
		exit(2);
	}
	fclose(f);
	*len = (size_t)n;
	return p;
}

/* Say what an input came to, when asked. */
void
fuzz_log(const char *fmt, ...)
{
	static int verbose = -1;
	va_list ap;

	if (verbose == -1)
		verbose = getenv("KEYDIR_FUZZ_VERBOSE") != NULL;
	if (!verbose)
		return;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

/* The sanitizers' report channel, when they are linked in: make fuzz
 * closes the target's stderr (-close_fd_mask=2), not that. */
void __sanitizer_report_error_summary(const char *summary)
    __attribute__((weak));

/* Abort on a broken invariant, naming it. */
void
fuzz_check(int cond, const char *msg, const char *file, int line)
{
	char s[512];

	if (cond)
		return;
	snprintf(s, sizeof(s), "%s:%d: invariant broken: %s", file, line, msg);
	fprintf(stderr, "%s\n", s);
	if (__sanitizer_report_error_summary != NULL)
		__sanitizer_report_error_summary(s);
	abort();
}
