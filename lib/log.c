/*
 * log: timestamped lines on stderr.  Each line is written with one
 * write(2) so lines from threads do not interleave.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static int log_quiet;

/* Turn info lines off or on. */
void
log_set_quiet(int quiet)
{
	log_quiet = quiet;
}

static void
log_vline(const char *level, int saved_errno, const char *fmt, va_list ap)
{
	/* formatted once a second per thread: gmtime_r takes a global lock */
	static _Thread_local time_t last;
	static _Thread_local char ts[32];
	char line[2048];
	struct tm tm;
	time_t now = time(NULL);
	int n;

	if (now != last) {
		gmtime_r(&now, &tm);
		strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
		last = now;
	}
	n = snprintf(line, sizeof(line), "%s keydird %s: ", ts, level);
	if (n < 0 || (size_t)n >= sizeof(line))
		return;
	vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	n = (int)strlen(line);
	if (saved_errno && (size_t)n < sizeof(line) - 3)
		snprintf(line + n, sizeof(line) - (size_t)n, ": %s",
		    strerror(saved_errno));
	n = (int)strlen(line);
	if ((size_t)n >= sizeof(line) - 1)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	if (write(STDERR_FILENO, line, (size_t)n) < 0)
		return;
}

/* Informational line. */
void
log_info(const char *fmt, ...)
{
	va_list ap;

	if (log_quiet)
		return;
	va_start(ap, fmt);
	log_vline("info", 0, fmt, ap);
	va_end(ap);
}

/* Warning with errno text. */
void
log_warn(const char *fmt, ...)
{
	va_list ap;
	int e = errno;

	va_start(ap, fmt);
	log_vline("warn", e, fmt, ap);
	va_end(ap);
}

/* Warning without errno text. */
void
log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vline("warn", 0, fmt, ap);
	va_end(ap);
}

/* Fatal with errno text: startup failures and broken invariants only. */
void
log_fatal(const char *fmt, ...)
{
	va_list ap;
	int e = errno;

	va_start(ap, fmt);
	log_vline("fatal", e, fmt, ap);
	va_end(ap);
	exit(1);
}

/* Fatal without errno text. */
void
log_fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vline("fatal", 0, fmt, ap);
	va_end(ap);
	exit(1);
}
