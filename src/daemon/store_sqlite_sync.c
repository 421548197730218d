/*
 * store_sqlite_sync: group commit.  SQLite runs with synchronous=NORMAL, so
 * COMMIT appends to the WAL without waiting for the disk; before a commit
 * is acknowledged, sq_sync_wait makes the WAL durable with fdatasync
 * outside the writer lock.  One fdatasync covers every commit that
 * finished before it started, so concurrent uploads share the disk wait
 * instead of queueing behind it, and nothing acknowledged is lost.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "store_sqlite.h"

/* Set up the group-commit state of q. */
void
sq_sync_init(struct sq *q)
{
	q->walfd = -1;
	q->committed = q->synced = 0;
	q->syncing = false;
	q->sync_failed = false;
	pthread_mutex_init(&q->smu, NULL);
	pthread_cond_init(&q->scv, NULL);
}

/* Tear it down. */
void
sq_sync_close(struct sq *q)
{
	if (q->walfd != -1)
		close(q->walfd);
	q->walfd = -1;
	pthread_cond_destroy(&q->scv);
	pthread_mutex_destroy(&q->smu);
}

/* The last COMMIT noted: a transaction that wrote nothing still waits
 * for it, since it may have read what is not on disk yet. */
uint64_t
sq_sync_last(struct sq *q)
{
	uint64_t seq;

	pthread_mutex_lock(&q->smu);
	seq = q->committed;
	pthread_mutex_unlock(&q->smu);
	return seq;
}

/* Note a finished COMMIT (called with the writer lock held); returns its
 * sequence number for sq_sync_wait. */
uint64_t
sq_sync_note(struct sq *q)
{
	uint64_t seq;

	pthread_mutex_lock(&q->smu);
	seq = ++q->committed;
	pthread_mutex_unlock(&q->smu);
	return seq;
}

/* fdatasync the WAL, opening it the first time. */
static int
sq_sync_wal(struct sq *q, struct err *e)
{
	char path[4096];

	if (q->walfd == -1) {
		snprintf(path, sizeof(path), "%s-wal", q->path);
		if ((q->walfd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
			return err_set(e, ERR_INTERNAL, "database: cannot "
			    "open %s: %s", path, strerror(errno));
	}
	if (fdatasync(q->walfd) == -1)
		return err_set(e, ERR_INTERNAL, "database: fdatasync: %s",
		    strerror(errno));
	return 0;
}

/* Return once commit seq is on disk, syncing or waiting for a sync. */
int
sq_sync_wait(struct sq *q, uint64_t seq, struct err *e)
{
	uint64_t target;
	int rc = 0;

	pthread_mutex_lock(&q->smu);
	/* a failed fdatasync may have lost pages that a retry would not
	 * report again (Linux): nothing is acknowledged after one */
	if (q->sync_failed)
		rc = err_set(e, ERR_UNAVAIL, "database: an earlier write to "
		    "disk failed; restart keydird");
	while (rc == 0 && q->synced < seq) {
		if (q->syncing) {
			pthread_cond_wait(&q->scv, &q->smu);
			continue;
		}
		q->syncing = true;
		target = q->committed;
		pthread_mutex_unlock(&q->smu);
		rc = sq_sync_wal(q, e);
		pthread_mutex_lock(&q->smu);
		q->syncing = false;
		if (rc == 0)
			q->synced = target;
		else
			q->sync_failed = true;
		pthread_cond_broadcast(&q->scv);
	}
	pthread_mutex_unlock(&q->smu);
	return rc;
}
