/*
 * store_sqlite: the spine of the SQLite backend: creating the database
 * (mode 0600, WAL, synchronous=NORMAL plus group commit), the one writer
 * connection and the helpers every part uses.  The schema lives in
 * store_sqlite_schema.c, transactions in store_sqlite_sync.c, lookups in
 * store_sqlite_read.c; the rest of the write side in store_sqlite_cert.c,
 * store_sqlite_mail.c and store_sqlite_life.c (schedule, removal, purges);
 * what keydird state shows in store_sqlite_admin.c.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "store_sqlite_int.h"
#include "str.h"
#include "xmalloc.h"

#define SQ_BUSY_MS 5000


/*
 * Process-wide settings, before SQLite's first use: no memory statistics
 * (they take a global mutex on every allocation, which lookups on several
 * threads would fight over); connections are each used by one thread at a
 * time, so multi-thread mode is enough.
 */
static void
sq_global_init(void)
{
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
	sqlite3_config(SQLITE_CONFIG_MULTITHREAD);
	sqlite3_initialize();
}

/*
 * Map a SQLite result to e: busy means run again; a full disk means try
 * later (ERR_UNAVAIL, a 503: it passes once the operator makes room, and
 * keydird takes writes again without a restart), logged, since nothing
 * else tells the operator why writes fail; the rest is ours.
 */
int
sq_err(sqlite3 *db, int rc, struct err *e)
{
	int base = rc & 0xff, sys;

	if (base == SQLITE_BUSY || base == SQLITE_LOCKED)
		return err_set(e, ERR_RETRY, "database busy");
	sys = base == SQLITE_IOERR && db != NULL ? sqlite3_system_errno(db) :
	    0;
	if (base == SQLITE_FULL || sys == ENOSPC || sys == EDQUOT) {
		log_warnx("database: the disk is full (%s): writes are "
		    "refused until there is room", db != NULL ?
		    sqlite3_errmsg(db) : sqlite3_errstr(rc));
		return err_set(e, ERR_UNAVAIL, "The server's disk is full. "
		    "Nothing was changed; try again later.");
	}
	return err_set(e, ERR_INTERNAL, "database: %s",
	    db != NULL ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
}

/* The cached statement for slot, prepared on first use. */
sqlite3_stmt *
sq_prep(struct sq_conn *c, enum sq_slot slot, const char *sql, struct err *e)
{
	int rc;

	if (c->st[slot] != NULL)
		return c->st[slot];
	rc = sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT,
	    &c->st[slot], NULL);
	if (rc != SQLITE_OK) {
		sq_err(c->db, rc, e);
		c->st[slot] = NULL;
		return NULL;
	}
	return c->st[slot];
}

/*
 * Step a statement that returns no rows we want, then reset it.  bindrc
 * is the binds' results or'ed together: anything but SQLITE_OK fails.
 */
int
sq_run(struct sq_conn *c, sqlite3_stmt *st, int bindrc, struct err *e)
{
	int rc = SQLITE_ERROR;

	if (bindrc == SQLITE_OK) {
		rc = sqlite3_step(st);
		if (rc == SQLITE_DONE || rc == SQLITE_ROW)
			rc = SQLITE_OK;
	}
	if (rc != SQLITE_OK)
		sq_err(c->db, rc, e);
	sqlite3_reset(st);
	return rc == SQLITE_OK ? 0 : -1;
}

/* Bind n bytes as a blob; NULL or empty binds an empty blob, not NULL. */
int
sq_bind_bytes(sqlite3_stmt *st, int i, const void *p, size_t n)
{
	if (p == NULL || n == 0)
		return sqlite3_bind_zeroblob(st, i, 0);
	return sqlite3_bind_blob64(st, i, p, n, SQLITE_STATIC);
}

/* Copy a text column into a fixed buffer; NULL becomes "". */
void
sq_col_cpy(sqlite3_stmt *st, int i, char *dst, size_t sz)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	str_lcpy(dst, t != NULL ? (const char *)t : "", sz);
}

/* Heap copy of a column's bytes, NUL-terminated; the caller frees. */
char *
sq_col_dup(sqlite3_stmt *st, int i, size_t *len)
{
	const void *p = sqlite3_column_blob(st, i);
	size_t n = (size_t)sqlite3_column_bytes(st, i);
	char *d = xmalloc(n + 1);

	if (n > 0 && p != NULL)
		memcpy(d, p, n);
	else
		n = 0;
	d[n] = '\0';
	if (len != NULL)
		*len = n;
	return d;
}

/* Run every statement of a fixed script; rows are ignored. */
int
sq_script(sqlite3 *db, const char *sql, struct err *e)
{
	sqlite3_stmt *st;
	const char *tail;
	int rc;

	while (*sql != '\0') {
		rc = sqlite3_prepare_v2(db, sql, -1, &st, &tail);
		if (rc != SQLITE_OK)
			return sq_err(db, rc, e);
		sql = tail;
		if (st == NULL)	/* whitespace or a comment */
			continue;
		while ((rc = sqlite3_step(st)) == SQLITE_ROW)
			;
		if (rc != SQLITE_DONE) {
			sq_err(db, rc, e);
			sqlite3_finalize(st);
			return -1;
		}
		sqlite3_finalize(st);
	}
	return 0;
}

/* The single-value answer of a PRAGMA as an int, or its text in buf. */
int
sq_pragma(sqlite3 *db, const char *sql, int *v, char *buf, size_t sz,
    struct err *e)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL)) != SQLITE_OK)
		return sq_err(db, rc, e);
	if ((rc = sqlite3_step(st)) != SQLITE_ROW) {
		sq_err(db, rc, e);
		sqlite3_finalize(st);
		return -1;
	}
	if (v != NULL)
		*v = sqlite3_column_int(st, 0);
	if (buf != NULL)
		sq_col_cpy(st, 0, buf, sz);
	sqlite3_finalize(st);
	return 0;
}

/* Open one connection with the settings every connection shares. */
int
sq_conn_open(struct sq_conn *c, const char *path, bool readonly,
    struct err *e)
{
	int flags, rc;

	flags = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_PRIVATECACHE |
	    (readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE);
	if ((rc = sqlite3_open_v2(path, &c->db, flags, NULL)) != SQLITE_OK) {
		err_set(e, ERR_INTERNAL, "database \"%s\": %s", path,
		    c->db != NULL ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc));
		return -1;
	}
	sqlite3_extended_result_codes(c->db, 1);
	sqlite3_busy_timeout(c->db, SQ_BUSY_MS);
	sqlite3_db_config(c->db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
	sqlite3_db_config(c->db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL);
	return sq_script(c->db, "PRAGMA foreign_keys = ON", e);
}

/* Finalize a connection's statements and close it; safe to repeat. */
void
sq_conn_close(struct sq_conn *c)
{
	for (size_t i = 0; i < SQ_NSLOT; i++) {
		sqlite3_finalize(c->st[i]);
		c->st[i] = NULL;
	}
	sqlite3_close(c->db);
	c->db = NULL;
}

/*
 * Create the file ourselves so it is 0600 whatever the umask; SQLite gives
 * the -wal and -shm files the mode of the database.
 */
static int
sq_create(const char *path, struct err *e)
{
	int fd;

	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) == -1)
		return err_set(e, ERR_INTERNAL, "database \"%s\": %s", path,
		    strerror(errno));
	close(fd);
	return 0;
}

/* WAL so readers never wait for the writer; synchronous NORMAL because
 * the group commit (store_sqlite_sync.c) makes each acknowledged commit
 * durable with its own fdatasync of the WAL. */
static int
sq_writer_setup(struct sq_conn *c, struct err *e)
{
	char mode[16];

	if (sq_pragma(c->db, "PRAGMA journal_mode = WAL", NULL, mode,
	    sizeof(mode), e) == -1)
		return -1;
	if (strcmp(mode, "wal") != 0)
		return err_set(e, ERR_INTERNAL,
		    "database: cannot use WAL (journal mode \"%s\")", mode);
	/* durability comes from sq_sync_wait (group commit) */
	return sq_script(c->db, "PRAGMA synchronous = NORMAL", e);
}

/* Close and free everything; also undoes a half-done open. */
static void
sq_close(struct store *s)
{
	struct sq *q = s->impl;

	if (q == NULL)
		return;
	sq_readers_close(q);
	if (q->w.db != NULL) {
		sq_ckpt_stop(q);
		sq_batch_flush(q);
	}
	sq_conn_close(&q->w);
	sq_sync_close(q);
	pthread_cond_destroy(&q->pcond);
	pthread_mutex_destroy(&q->plock);
	pthread_mutex_destroy(&q->wlock);
	free(q->path);
	free(q);
	s->impl = NULL;
}

/* Open or create the database at path and bring its schema up to date. */
static int
sq_open(struct store *s, const char *path, bool readonly, struct err *e)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	struct stat sb;
	struct sq *q;

	pthread_once(&once, sq_global_init);
	if (*path == '\0')
		return err_set(e, ERR_INVALID, "database: empty path");
	q = xcalloc(1, sizeof(*q));
	q->path = xstrdup(path);
	pthread_mutex_init(&q->wlock, NULL);
	pthread_mutex_init(&q->plock, NULL);
	pthread_cond_init(&q->pcond, NULL);
	sq_sync_init(q);
	s->impl = q;
	if (readonly) {
		/* no writer, no migration, no checkpointer: readers only */
		if (stat(path, &sb) == -1) {
			sq_close(s);
			return err_set(e, ERR_NOTFOUND, "no database at %s",
			    path);
		}
		if (sq_readers_init(q, e) == -1 || sq_readers_schema(q, e) ==
		    -1) {
			sq_close(s);
			return -1;
		}
		return 0;
	}
	if (sq_create(path, e) == -1 ||
	    sq_conn_open(&q->w, path, false, e) == -1 ||
	    sq_writer_setup(&q->w, e) == -1 ||
	    sq_migrate(&q->w, e) == -1 ||
	    sq_readers_init(q, e) == -1 ||
	    sq_ckpt_start(q, e) == -1) {
		sq_close(s);
		return -1;
	}
	return 0;
}

/*
 * Nodes (store.h): one keydird serve per SQLite database (the data
 * directory's lock), so there is no other node to know alive: a node's
 * leases end with their time or its successor's outbox_reclaim, and the
 * maintenance turn is always this handle's.
 */
static int
sq_node_join(struct store *s, const char *owner, struct err *e)
{
	(void)s;
	(void)owner;
	(void)e;
	return 1;
}

static int
sq_node_check(struct store *s, struct err *e)
{
	(void)s;
	(void)e;
	return 0;
}

static int
sq_maint_try(struct store *s, bool *got, struct err *e)
{
	(void)s;
	(void)e;
	*got = true;
	return 0;
}

static void
sq_maint_release(struct store *s)
{
	(void)s;
}

const struct store_ops store_sqlite_ops = {
	.name = "sqlite",
	.open = sq_open,
	.close = sq_close,
	.lookup = sq_lookup,
	.begin = sq_begin,
	.commit = sq_commit,
	.rollback = sq_rollback,
	.cert_get = sq_cert_get,
	.cert_put = sq_cert_put,
	.addr_owner = sq_addr_owner,
	.addr_list = sq_addr_list,
	.addr_set = sq_addr_set,
	.addr_del = sq_addr_del,
	.addr_get = sq_addr_get,
	.addr_confirmed = sq_addr_confirmed,
	.addr_asked = sq_addr_asked,
	.addr_due = sq_addr_due,
	.addr_stale = sq_addr_stale,
	.cert_del = sq_cert_del,
	.cert_purge_unconfirmed = sq_cert_purge_unconfirmed,
	.token_purge = sq_token_purge,
	.nonce_use = sq_nonce_use,
	.nonce_purge = sq_nonce_purge,
	.outbox_purge = sq_outbox_purge,
	.rate_purge = sq_rate_purge,
	.token_put = sq_token_put,
	.token_get = sq_token_get,
	.token_use = sq_token_use,
	.token_pending = sq_token_pending,
	.upload_mark = sq_upload_mark,
	.upload_view = sq_upload_view,
	.rate_get = sq_rate_get,
	.rate_set = sq_rate_set,
	.outbox_add = sq_outbox_add,
	.outbox_due = sq_outbox_due,
	.outbox_reclaim = sq_outbox_reclaim,
	.outbox_fail = sq_outbox_fail,
	.outbox_done = sq_outbox_done,
	.outbox_retry = sq_outbox_retry,
	.outbox_release = sq_outbox_release,
	.recovery_put = sq_recovery_put,
	.recovery_get = sq_recovery_get,
	.outbox_next = sq_outbox_next,
	.begin_read = sq_begin_read,
	.certs_scan = sq_certs_scan,
	.wkd_scan = sq_wkd_scan,
	.addr_restore = sq_addr_restore,
	.cert_restore_meta = sq_cert_restore_meta,
	.stats = sq_stats,
	.cert_state = sq_cert_state,
	.outbox_list = sq_outbox_list,
	.client_keys = sq_client_keys,
	.client_forget = sq_client_forget,
	.unconfirmed_room = sq_unconfirmed_room,
	.outbox_sent_since = sq_outbox_sent_since,
	.node_join = sq_node_join,
	.node_check = sq_node_check,
	.maint_try = sq_maint_try,
	.maint_release = sq_maint_release,
};
