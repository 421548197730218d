/*
 * directory_atomic: one unit of work, all of it or nothing, run again
 * when the store could not serialise it.  A check and the write that
 * depends on it (a rate mark then a token, addr_owner then addr_set) sit
 * in one unit, so they stay right on a backend that runs writers at once
 * (PostgreSQL's serialisable transactions) as on one that runs them one
 * at a time (SQLite).
 */
#include <time.h>

#include <sodium.h>

#include "daemon.h"
#include "directory_int.h"
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

int
dir_atomic(struct daemon *d, dir_unit_fn unit, void *arg, struct err *e)
{
	int attempt, rc;

	for (attempt = 0;; attempt++) {
		err_clear(e);
		if ((rc = store_begin(d->store, e)) == 0) {
			if ((rc = unit(d, arg, e)) == 0)
				rc = store_commit(d->store, e);
			else
				store_rollback(d->store);
		}
		if (rc == 0 || e == NULL || e->code != ERR_RETRY ||
		    attempt == DIR_RETRIES)
			return rc;
		dir_backoff(attempt);
	}
}
