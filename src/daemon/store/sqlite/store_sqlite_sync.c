/*
 * store_sqlite_sync: write transactions and group commit.
 *
 * Writers that queue up for the writer lock share one SQLite transaction
 * (a batch): each runs inside a SAVEPOINT of it, so one writer's failure
 * undoes only its own part, and the last writer in the queue commits for
 * all.  Pages several writers touch (the table's last leaf, the file
 * header, upper index levels) then go to the WAL once per batch instead
 * of once per writer.  Nobody is told "done" before the batch's COMMIT
 * has succeeded and is on disk; if SQLite rolls the whole transaction
 * back (disk full, I/O error), every writer in the batch gets the error.
 *
 * SQLite runs with synchronous=NORMAL, so COMMIT appends to the WAL
 * without waiting for the disk; before a commit is acknowledged,
 * sq_sync_wait makes the WAL durable with fdatasync outside the writer
 * lock.  One fdatasync covers every commit that finished before it
 * started, so concurrent uploads share the disk wait instead of queueing
 * behind it, and nothing acknowledged is lost.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <unistd.h>

#include "store_sqlite_int.h"
#include "xmalloc.h"

/* Writers in one batch at most: bounds how long the first one waits. */
#define SQ_BATCH_MAX 32

/* One write transaction shared by the writers that queued up for it. */
struct sq_batch {
	int		 n;		/* writers so far; wlock */
	int		 refs;		/* writers yet to read the result; smu */
	int64_t		 changes;	/* total_changes at BEGIN; wlock */
	bool		 done;		/* ended; smu */
	int		 rc;		/* 0: committed; -1: nothing was */
	uint64_t	 seq;		/* its COMMIT, for sq_sync_wait */
	struct err	 err;		/* why not, when rc is -1 */
};

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
	pthread_cond_init(&q->bcv, NULL);
	atomic_init(&q->nwait, 0);
}

/* Tear it down. */
void
sq_sync_close(struct sq *q)
{
	if (q->walfd != -1)
		close(q->walfd);
	q->walfd = -1;
	pthread_cond_destroy(&q->bcv);
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
	while (rc == 0 && q->synced < seq) {
		/* a failed fdatasync may have lost pages that a retry would
		 * not report again (Linux): nothing is acknowledged after
		 * one, also not by those already waiting for it */
		if (q->sync_failed) {
			rc = err_set(e, ERR_UNAVAIL, "database: an earlier "
			    "write to disk failed; restart keydird");
			break;
		}
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

/* Run one of the writer's fixed statements. */
static int
sq_exec(struct sq *q, enum sq_slot slot, const char *sql, struct err *e)
{
	sqlite3_stmt *st;

	if ((st = sq_prep(&q->w, slot, sql, e)) == NULL)
		return -1;
	return sq_run(&q->w, st, SQLITE_OK, e);
}

/*
 * End the open batch (wlock held): COMMIT it, or roll it back if SQLite
 * already did or COMMIT fails, and tell its writers.  Freed here if no
 * writer holds it any more, else by the last one (sq_batch_put).
 */
static void
sq_batch_end(struct sq *q)
{
	struct sq_batch *b = q->batch;
	struct err e;
	bool unheld;
	int rc = -1;

	/* rolled back whole by a part that could not be undone alone (or
	 * by SQLite): the other parts were fine and nothing of them was
	 * kept, so their units may run again */
	if (sqlite3_get_autocommit(q->w.db))
		err_set(&e, ERR_RETRY, "database: the transaction was rolled "
		    "back (%s)", sqlite3_errmsg(q->w.db));
	else if ((rc = sq_exec(q, SQ_COMMIT, "COMMIT", &e)) == -1 &&
	    !sqlite3_get_autocommit(q->w.db))
		sq_exec(q, SQ_ROLLBACK, "ROLLBACK", NULL);
	b->rc = rc;
	if (rc == -1)
		b->err = e;
	else if (sqlite3_total_changes64(q->w.db) != b->changes)
		b->seq = sq_sync_note(q);
	else	/* it may have read what is not on disk yet */
		b->seq = sq_sync_last(q);
	q->batch = NULL;
	q->nbatches++;
	pthread_mutex_lock(&q->smu);
	b->done = true;
	unheld = b->refs == 0;
	pthread_cond_broadcast(&q->bcv);
	pthread_mutex_unlock(&q->smu);
	if (unheld)
		free(b);
}

/* A writer's part is over (wlock held): end the batch unless another
 * writer is already waiting to join it. */
static void
sq_batch_next(struct sq *q)
{
	if (sqlite3_get_autocommit(q->w.db) ||
	    atomic_load(&q->nwait) == 0 || q->batch->n >= SQ_BATCH_MAX)
		sq_batch_end(q);
}

/* End the open batch, if any, before the writer does something else. */
void
sq_batch_flush(struct sq *q)
{
	if (q->batch != NULL)
		sq_batch_end(q);
}

/* Drop a writer's hold on b; the last one frees it once it has ended. */
static void
sq_batch_put(struct sq *q, struct sq_batch *b)
{
	bool last;

	pthread_mutex_lock(&q->smu);
	last = --b->refs == 0 && b->done;
	pthread_mutex_unlock(&q->smu);
	if (last)
		free(b);
}

/* Wait until batch b has ended. */
static void
sq_batch_wait(struct sq *q, struct sq_batch *b)
{
	pthread_mutex_lock(&q->smu);
	while (!b->done)
		pthread_cond_wait(&q->bcv, &q->smu);
	pthread_mutex_unlock(&q->smu);
}

/* Take the writer and join the open write transaction or begin one. */
int
sq_begin(struct store *s, struct err *e)
{
	struct sq *q = s->impl;
	struct sq_batch *b;

	/* a unit of work is a thread's only transaction: a write begun
	 * inside a read would run on the read-only reader and never free
	 * the writer; a second begin would wait for itself */
	if (sq_in_txn(q))
		return err_set(e, ERR_INTERNAL, "database: begin inside a "
		    "transaction");
	if (q->w.db == NULL)
		return err_set(e, ERR_INTERNAL, "database: opened read-only");
	atomic_fetch_add(&q->nwait, 1);
	pthread_mutex_lock(&q->wlock);
	atomic_fetch_sub(&q->nwait, 1);
	if ((b = q->batch) == NULL) {
		if (sq_exec(q, SQ_BEGIN, "BEGIN IMMEDIATE", e) == -1) {
			pthread_mutex_unlock(&q->wlock);
			return -1;
		}
		b = q->batch = xcalloc(1, sizeof(*b));
		b->changes = sqlite3_total_changes64(q->w.db);
	}
	if (sq_exec(q, SQ_SAVEPOINT, "SAVEPOINT w", e) == -1) {
		/* the batch goes on without this writer */
		sq_batch_next(q);
		pthread_mutex_unlock(&q->wlock);
		return -1;
	}
	b->n++;
	pthread_mutex_lock(&q->smu);
	b->refs++;
	pthread_mutex_unlock(&q->smu);
	sq_writing(q, true);
	return 0;
}

/*
 * This writer's part is over (wlock held): keep it (RELEASE) or undo it
 * (ROLLBACK TO).  Then leave the transaction open for a writer already
 * waiting, or end it.  Releases the writer lock; returns the batch, still
 * held, and in *kept whether this part is in it.
 */
static struct sq_batch *
sq_part_end(struct sq *q, bool keep, bool *kept, struct err *e)
{
	struct sq_batch *b = q->batch;

	*kept = keep && sq_exec(q, SQ_RELEASE, "RELEASE w", e) == 0;
	/* a part that cannot be undone alone takes the batch with it */
	if (!*kept && !sqlite3_get_autocommit(q->w.db) &&
	    (sq_exec(q, SQ_ROLLBACK_TO, "ROLLBACK TO w", NULL) == -1 ||
	    sq_exec(q, SQ_RELEASE, "RELEASE w", NULL) == -1))
		sq_exec(q, SQ_ROLLBACK, "ROLLBACK", NULL);
	sq_batch_next(q);
	sq_writing(q, false);
	pthread_mutex_unlock(&q->wlock);
	return b;
}

/* Commit this writer's part; returns once its batch is on disk.  On
 * failure nothing of this part was written. */
int
sq_commit(struct store *s, struct err *e)
{
	struct sq *q = s->impl;
	struct sq_batch *b;
	uint64_t seq;
	bool kept;
	int rc;

	if ((rc = sq_end_read(q, true, e)) != 1)
		return rc;
	if (q->batch == NULL)
		return err_set(e, ERR_INTERNAL, "database: commit without begin");
	b = sq_part_end(q, true, &kept, e);
	sq_batch_wait(q, b);
	rc = kept ? b->rc : -1;
	if (kept && rc == -1)
		*e = b->err;
	seq = b->seq;
	sq_batch_put(q, b);
	/* acknowledged only once on disk; others may commit meanwhile */
	if (rc == 0 && seq != 0)
		rc = sq_sync_wait(q, seq, e);
	return rc;
}

/*
 * Undo this writer's part and release the writer.  Callers that only
 * read end that way too; if the batch held other writers' parts, what
 * was read may include them, so return only once the batch has ended.
 */
void
sq_rollback(struct store *s)
{
	struct sq *q = s->impl;
	struct sq_batch *b;
	bool kept, shared;

	if (sq_end_read(q, false, NULL) != 1)
		return;
	if ((b = q->batch) == NULL)
		return;
	shared = b->n > 1;
	b = sq_part_end(q, false, &kept, NULL);
	if (shared)
		sq_batch_wait(q, b);
	sq_batch_put(q, b);
}
