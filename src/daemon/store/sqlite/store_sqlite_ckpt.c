/*
 * store_sqlite_ckpt: checkpoints beside the writers, not inside them.
 *
 * SQLite's own checkpoint runs in the COMMIT that makes the WAL longer
 * than 1000 pages: that writer copies the pages back into the database
 * file and syncs it while holding the writer lock, and every other
 * writer waits.  Here a thread with its own connection does that work
 * instead.  A first PASSIVE checkpoint copies what is in the WAL while
 * writers go on; a second one, with the writer lock held, copies the
 * little they added meanwhile, so the WAL is complete in the database
 * file and the next transaction starts it over from the beginning
 * instead of making it ever longer.
 */
#include <string.h>

#include "log.h"
#include "store_sqlite_int.h"

/* WAL length (pages) that wakes the checkpointer: SQLite's default. */
#define SQ_CKPT_PAGES 1000

/* After each COMMIT on the writer (lock held).  Setting this hook turns
 * SQLite's own automatic checkpoints off. */
static int
sq_wal_hook(void *arg, sqlite3 *db, const char *name, int pages)
{
	struct sq *q = arg;

	(void)db;
	(void)name;
	/* once asked, again only after another quarter of the threshold:
	 * a reader that keeps the WAL from starting over must not make
	 * the checkpointer take the writer lock after every commit */
	if (pages < q->cklast)
		q->cklast = 0;
	if (pages >= SQ_CKPT_PAGES && pages - q->cklast >= SQ_CKPT_PAGES / 4) {
		q->cklast = pages;
		pthread_mutex_lock(&q->smu);
		q->ckwant = true;
		pthread_cond_signal(&q->ckcv);
		pthread_mutex_unlock(&q->smu);
	}
	return SQLITE_OK;
}

/* One PASSIVE checkpoint on the checkpointer's connection; PASSIVE never
 * waits for a reader or the writer, so BUSY only means "not all yet". */
static void
sq_ckpt_once(struct sq *q)
{
	int rc;

	rc = sqlite3_wal_checkpoint_v2(q->ck.db, NULL,
	    SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
	if (rc != SQLITE_OK && (rc & 0xff) != SQLITE_BUSY)
		log_warnx("database: checkpoint: %s", sqlite3_errmsg(q->ck.db));
}

static void *
sq_ckpt_main(void *arg)
{
	struct sq *q = arg;

	pthread_mutex_lock(&q->smu);
	for (;;) {
		while (!q->ckwant && !q->ckstop)
			pthread_cond_wait(&q->ckcv, &q->smu);
		if (q->ckstop)
			break;
		q->ckwant = false;
		pthread_mutex_unlock(&q->smu);
		sq_ckpt_once(q);
		pthread_mutex_lock(&q->wlock);
		sq_batch_flush(q);
		sq_ckpt_once(q);
		pthread_mutex_unlock(&q->wlock);
		pthread_mutex_lock(&q->smu);
	}
	pthread_mutex_unlock(&q->smu);
	return NULL;
}

/* Open the checkpointer's connection and start it. */
int
sq_ckpt_start(struct sq *q, struct err *e)
{
	int rc;

	/* until it has read the file, a connection does not know the
	 * database is in WAL mode, and a checkpoint on it does nothing */
	if (sq_conn_open(&q->ck, q->path, false, e) == -1 ||
	    sq_script(q->ck.db, "PRAGMA journal_mode = WAL", e) == -1) {
		sq_conn_close(&q->ck);
		return -1;
	}
	pthread_cond_init(&q->ckcv, NULL);
	q->ckwant = q->ckstop = false;
	if ((rc = pthread_create(&q->ckthread, NULL, sq_ckpt_main, q)) != 0) {
		pthread_cond_destroy(&q->ckcv);
		sq_conn_close(&q->ck);
		return err_set(e, ERR_INTERNAL, "database: checkpointer: %s",
		    strerror(rc));
	}
	sqlite3_wal_hook(q->w.db, sq_wal_hook, q);
	return 0;
}

/* Stop the checkpointer, if it runs.  Whatever the WAL still holds is
 * copied when the last connection closes. */
void
sq_ckpt_stop(struct sq *q)
{
	if (q->ck.db == NULL)
		return;
	sqlite3_wal_hook(q->w.db, NULL, NULL);
	pthread_mutex_lock(&q->smu);
	q->ckstop = true;
	pthread_cond_signal(&q->ckcv);
	pthread_mutex_unlock(&q->smu);
	pthread_join(q->ckthread, NULL);
	pthread_cond_destroy(&q->ckcv);
	sq_conn_close(&q->ck);
}
