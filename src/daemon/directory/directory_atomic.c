/*
 * directory_atomic: one unit of work, all of it or nothing, run again
 * when the store could not serialise it.  A check and the write that
 * depends on it (a rate mark then a token, addr_owner then addr_set) sit
 * in one unit, so they stay right on a backend that runs writers at once
 * (PostgreSQL's serialisable transactions) as on one that runs them one
 * at a time (SQLite).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "buf.h"
#include "daemon.h"
#include "directory_int.h"
#include "log.h"
#include "store.h"

#define DIR_RETRIES 5		/* runs after the first */
#define DIR_BACKOFF_MS 2	/* the first wait; doubles each time */

/* Wait a little before running again: 2, 4, 8 ... ms, with jitter so
 * two writers that collided do not collide again. */
static void
dir_backoff(int attempt)
{
	long ms = (long)DIR_BACKOFF_MS << attempt;
	struct timespec ts;

	ms += (long)randombytes_uniform((uint32_t)ms + 1);
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000L;
	nanosleep(&ts, NULL);
}

/* The log lines of the unit running on this thread, held until it
 * commits: a run rolled back must not log a link nobody can use. */
static _Thread_local struct buf *dir_notes;

void
dir_note(const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (dir_notes == NULL)
		log_info("%s", line);
	else if (buf_printf(dir_notes, "%s\n", line) == -1) {
		/* a unit that says this much: drop its lines, say so */
		buf_reset(dir_notes);
		buf_addstr(dir_notes, "(the log lines of one change did not "
		    "fit: dropped)\n");
	}
}

/* Log the held lines, one by one. */
static void
dir_notes_flush(const struct buf *b)
{
	const char *p = b->data, *nl;

	for (; (nl = strchr(p, '\n')) != NULL; p = nl + 1)
		log_info("%.*s", (int)(nl - p), p);
}

int
dir_atomic(struct daemon *d, dir_unit_fn unit, void *arg, struct err *e)
{
	struct buf notes;
	int attempt, rc;

	buf_init(&notes, 256 * 1024);
	for (attempt = 0;; attempt++) {
		err_clear(e);
		buf_reset(&notes);
		dir_notes = &notes;
		if ((rc = store_begin(d->store, e)) == 0) {
			if ((rc = unit(d, arg, e)) == 0)
				rc = store_commit(d->store, e);
			else
				store_rollback(d->store);
		}
		dir_notes = NULL;
		if (rc == 0)
			dir_notes_flush(&notes);
		if (rc == 0 || e == NULL || e->code != ERR_RETRY ||
		    attempt == DIR_RETRIES)
			break;
		dir_backoff(attempt);
	}
	buf_release(&notes);
	return rc;
}
