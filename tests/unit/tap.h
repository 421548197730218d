/*
 * tap: the smallest TAP producer that prove accepts.  Header-only; each
 * unit test is one program.
 */
#ifndef KEYDIR_TAP_H
#define KEYDIR_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int tap_n, tap_fail;

#define ok(cond, ...) tap_ok(!!(cond), __FILE__, __LINE__, __VA_ARGS__)
#define is_str(got, want, ...) \
	tap_is_str((got), (want), __FILE__, __LINE__, __VA_ARGS__)

static void __attribute__((format(printf, 4, 5), unused))
tap_ok(int pass, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	tap_n++;
	printf("%sok %d - ", pass ? "" : "not ", tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!pass) {
		tap_fail++;
		printf("#   failed at %s:%d\n", file, line);
	}
	fflush(stdout);
}

static void __attribute__((format(printf, 5, 6), unused))
tap_is_str(const char *got, const char *want, const char *file, int line,
    const char *fmt, ...)
{
	va_list ap;
	int pass = (got == NULL && want == NULL) ||
	    (got != NULL && want != NULL && strcmp(got, want) == 0);

	tap_n++;
	printf("%sok %d - ", pass ? "" : "not ", tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!pass) {
		tap_fail++;
		printf("#   failed at %s:%d\n#   got: '%s'\n#   want: '%s'\n",
		    file, line, got ? got : "(null)", want ? want : "(null)");
	}
	fflush(stdout);
}

/* Print the plan and return the exit status. */
static int
tap_done(void)
{
	printf("1..%d\n", tap_n);
	return tap_fail ? 1 : 0;
}

#endif
