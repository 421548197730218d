/*
 * store_sqlite: the spine of the SQLite backend: creating the database
 * (mode 0600, WAL, synchronous=NORMAL plus group commit), numbered schema
 * migrations, the one writer connection and its transactions.  Lookups live in
 * store_sqlite_read.c; the rest of the write side in store_sqlite_cert.c,
 * store_sqlite_mail.c and store_sqlite_life.c (schedule, removal, purges).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "store_sqlite.h"
#include "str.h"
#include "xmalloc.h"

#define SQ_BUSY_MS 5000

/*
 * Schema migrations: entry i takes user_version i to i + 1 in one
 * transaction.  Append only; never edit an entry that has shipped.
 *
 * keyids holds the primary and every subkey of each cert, so lookup by
 * any fingerprint or key id is one indexed read.  Its key is (fpr, cert):
 * anyone can bind somebody else's encryption subkey to their own cert, so
 * a subkey fingerprint may appear under two certs, and key ids collide.
 * The primary key on addresses.address is what enforces "one key per
 * address".  expires 0 means never.
 */
static const char *const sq_migrations[] = {
	/* 1: initial schema */
	"CREATE TABLE certs ("
	" fpr TEXT PRIMARY KEY NOT NULL,"
	" keyid TEXT NOT NULL,"
	" algo INTEGER NOT NULL,"
	" bits INTEGER NOT NULL,"
	" created INTEGER NOT NULL,"
	" expires INTEGER NOT NULL,"
	" revoked INTEGER NOT NULL,"
	" full BLOB NOT NULL,"
	" published BLOB NOT NULL,"
	" hkp_index TEXT NOT NULL,"
	" etag TEXT NOT NULL,"
	" updated INTEGER NOT NULL);"
	"CREATE TABLE keyids ("
	" fpr TEXT NOT NULL,"
	" keyid TEXT NOT NULL,"
	" cert TEXT NOT NULL REFERENCES certs(fpr) ON DELETE CASCADE,"
	" PRIMARY KEY (fpr, cert));"
	"CREATE INDEX keyids_keyid ON keyids(keyid);"
	"CREATE INDEX keyids_cert ON keyids(cert);"
	"CREATE TABLE addresses ("
	" address TEXT PRIMARY KEY NOT NULL,"
	" fpr TEXT NOT NULL REFERENCES certs(fpr) ON DELETE CASCADE,"
	" published INTEGER NOT NULL);"
	"CREATE INDEX addresses_fpr ON addresses(fpr);"
	"CREATE TABLE tokens ("
	" hash BLOB PRIMARY KEY NOT NULL CHECK (length(hash) = 32),"
	" kind INTEGER NOT NULL,"
	" fpr TEXT NOT NULL,"
	" address TEXT NOT NULL,"
	" created INTEGER NOT NULL,"
	" expires INTEGER NOT NULL,"
	" used INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX tokens_fpr_address ON tokens(fpr, address);"
	"CREATE TABLE mail_rate ("
	" address TEXT PRIMARY KEY NOT NULL,"
	" last INTEGER NOT NULL);"
	"CREATE TABLE outbox ("
	" id INTEGER PRIMARY KEY,"
	" rcpt TEXT NOT NULL,"
	" data BLOB NOT NULL,"
	" created INTEGER NOT NULL,"
	" attempts INTEGER NOT NULL DEFAULT 0,"
	" next_attempt INTEGER NOT NULL,"
	" sent INTEGER,"
	" last_error TEXT);"
	"CREATE INDEX outbox_due ON outbox(sent, next_attempt);",
	/* 2: the addresses an upload session may ask to verify */
	"CREATE TABLE token_addrs ("
	" hash BLOB NOT NULL REFERENCES tokens(hash) ON DELETE CASCADE,"
	" address TEXT NOT NULL,"
	" PRIMARY KEY (hash, address));",
	/*
	 * 3: the key lifecycle.  verified is when the owner last confirmed an
	 * address and asked when a re-verification mail went out (0: none
	 * outstanding); first_stored and had_address let keys nobody ever
	 * confirmed be purged; nonces stop a signed removal being replayed.
	 */
	"ALTER TABLE addresses ADD COLUMN verified INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE addresses ADD COLUMN asked INTEGER NOT NULL DEFAULT 0;"
	"UPDATE addresses SET verified = published;"
	"ALTER TABLE certs ADD COLUMN first_stored INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE certs ADD COLUMN had_address INTEGER NOT NULL DEFAULT 0;"
	"UPDATE certs SET first_stored = updated, had_address = 1;"
	"CREATE INDEX addresses_schedule ON addresses(asked, verified);"
	"CREATE INDEX certs_unconfirmed ON certs(had_address, first_stored);"
	"CREATE INDEX tokens_expires ON tokens(expires);"
	"CREATE TABLE nonces ("
	" nonce TEXT PRIMARY KEY NOT NULL,"
	" until INTEGER NOT NULL);"
	"CREATE INDEX nonces_until ON nonces(until);",
	/*
	 * 4: upload sessions are sealed tokens now (no token_addrs); a
	 * repeated upload of the same bytes is recognised by their hash.
	 */
	"DROP TABLE token_addrs;"
	"ALTER TABLE certs ADD COLUMN upload_hash BLOB;"
	"ALTER TABLE certs ADD COLUMN upload_addrs TEXT NOT NULL DEFAULT '';"
	"CREATE INDEX certs_upload_hash ON certs(upload_hash);",
	/*
	 * 5: lookups touch fewer B-trees.  certs gets an INTEGER PRIMARY KEY
	 * (id), which addresses and keyids carry as cid, so a lookup by
	 * address or key id goes from its row straight to the cert's row
	 * instead of through the index on certs.fpr.  addresses and keyids
	 * are WITHOUT ROWID tables, whose rows sit in their primary-key
	 * B-tree itself; an address row holds cid instead of the 40-byte
	 * fingerprint, so more of them fit a page.  keyids.pos keeps the
	 * subkey order rowid gave.
	 * Runs with foreign keys off, as every migration does (dropping the
	 * old certs would cascade); sq_migrate checks them before COMMIT.
	 */
	"CREATE TABLE certs5 ("
	" id INTEGER PRIMARY KEY,"
	" fpr TEXT UNIQUE NOT NULL,"
	" keyid TEXT NOT NULL,"
	" algo INTEGER NOT NULL,"
	" bits INTEGER NOT NULL,"
	" created INTEGER NOT NULL,"
	" expires INTEGER NOT NULL,"
	" revoked INTEGER NOT NULL,"
	" full BLOB NOT NULL,"
	" published BLOB NOT NULL,"
	" hkp_index TEXT NOT NULL,"
	" etag TEXT NOT NULL,"
	" updated INTEGER NOT NULL,"
	" first_stored INTEGER NOT NULL DEFAULT 0,"
	" had_address INTEGER NOT NULL DEFAULT 0,"
	" upload_hash BLOB,"
	" upload_addrs TEXT NOT NULL DEFAULT '');"
	"INSERT INTO certs5 (id, fpr, keyid, algo, bits, created, expires,"
	" revoked, full, published, hkp_index, etag, updated, first_stored,"
	" had_address, upload_hash, upload_addrs)"
	" SELECT rowid, fpr, keyid, algo, bits, created, expires, revoked,"
	" full, published, hkp_index, etag, updated, first_stored,"
	" had_address, upload_hash, upload_addrs FROM certs ORDER BY rowid;"
	"CREATE TABLE addresses5 ("
	" address TEXT PRIMARY KEY NOT NULL,"
	" cid INTEGER NOT NULL REFERENCES certs(id) ON DELETE CASCADE,"
	" published INTEGER NOT NULL,"
	" verified INTEGER NOT NULL DEFAULT 0,"
	" asked INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;"
	"INSERT INTO addresses5 (address, cid, published, verified, asked)"
	" SELECT a.address, c.id, a.published, a.verified, a.asked"
	" FROM addresses a JOIN certs5 c ON c.fpr = a.fpr;"
	"CREATE TABLE keyids5 ("
	" fpr TEXT NOT NULL,"
	" keyid TEXT NOT NULL,"
	" cert TEXT NOT NULL REFERENCES certs(fpr) ON DELETE CASCADE,"
	" cid INTEGER NOT NULL,"
	" pos INTEGER NOT NULL,"
	" PRIMARY KEY (fpr, cert)) WITHOUT ROWID;"
	"INSERT INTO keyids5 (fpr, keyid, cert, cid, pos)"
	" SELECT k.fpr, k.keyid, k.cert, c.id, k.rowid"
	" FROM keyids k JOIN certs5 c ON c.fpr = k.cert;"
	"DROP TABLE keyids;"
	"DROP TABLE addresses;"
	"DROP TABLE certs;"
	"ALTER TABLE certs5 RENAME TO certs;"
	"ALTER TABLE addresses5 RENAME TO addresses;"
	"ALTER TABLE keyids5 RENAME TO keyids;"
	"CREATE INDEX certs_unconfirmed ON certs(had_address, first_stored);"
	"CREATE INDEX certs_upload_hash ON certs(upload_hash);"
	"CREATE INDEX addresses_cid ON addresses(cid);"
	"CREATE INDEX addresses_schedule ON addresses(asked, verified);"
	/* with cid, a lookup by key id reads only this index, then certs */
	"CREATE INDEX keyids_keyid ON keyids(keyid, cid);"
	"CREATE INDEX keyids_cert ON keyids(cert);"
};
#define SQ_NMIGRATIONS ((int)(sizeof(sq_migrations) / sizeof(sq_migrations[0])))

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

/* Map a SQLite result to e: busy means try later, the rest is ours. */
int
sq_err(sqlite3 *db, int rc, struct err *e)
{
	int base = rc & 0xff;

	if (base == SQLITE_BUSY || base == SQLITE_LOCKED)
		return err_set(e, ERR_UNAVAIL, "database busy");
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
static int
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
static int
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

/* WAL so readers never wait for the writer; FULL so a commit survives
 * power loss. */
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

/* Fail unless every foreign key of the database holds. */
static int
sq_fk_check(struct sq_conn *c, struct err *e)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(c->db, "PRAGMA foreign_key_check", -1, &st,
	    NULL) != SQLITE_OK)
		return sq_err(c->db, SQLITE_ERROR, e);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		err_set(e, ERR_INTERNAL, "database: migration broke a "
		    "foreign key (table %s)", sqlite3_column_text(st, 0));
	else if (rc != SQLITE_DONE)
		sq_err(c->db, rc, e);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* The migrations the database lacks, one transaction each. */
static int
sq_migrate_all(struct sq_conn *c, struct err *e)
{
	char sql[64];
	int v;

	for (;;) {
		if (sq_script(c->db, "BEGIN IMMEDIATE", e) == -1)
			return -1;
		if (sq_pragma(c->db, "PRAGMA user_version", &v, NULL, 0,
		    e) == -1)
			goto fail;
		if (v < 0 || v > SQ_NMIGRATIONS) {
			err_set(e, ERR_INTERNAL, "database: schema version %d "
			    "is not one this keydird knows (0..%d)", v,
			    SQ_NMIGRATIONS);
			goto fail;
		}
		if (v == SQ_NMIGRATIONS)
			break;
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", v + 1);
		if (sq_script(c->db, sq_migrations[v], e) == -1 ||
		    sq_fk_check(c, e) == -1 ||
		    sq_script(c->db, sql, e) == -1 ||
		    sq_script(c->db, "COMMIT", e) == -1)
			goto fail;
		log_info("database: schema migrated to version %d", v + 1);
	}
	return sq_script(c->db, "COMMIT", e);
fail:
	if (!sqlite3_get_autocommit(c->db))
		sq_script(c->db, "ROLLBACK", NULL);
	return -1;
}

/*
 * Apply the migrations the database lacks, one transaction each, with
 * foreign keys off: a migration that rebuilds a table must not cascade
 * into its children.  Each is checked with foreign_key_check instead.
 */
static int
sq_migrate(struct sq_conn *c, struct err *e)
{
	int rc;

	if (sq_script(c->db, "PRAGMA foreign_keys = OFF", e) == -1)
		return -1;
	rc = sq_migrate_all(c, e);
	if (sq_script(c->db, "PRAGMA foreign_keys = ON", rc == 0 ? e : NULL)
	    == -1)
		rc = -1;
	return rc;
}

/* Close and free everything; also undoes a half-done open. */
static void
sq_close(struct store *s)
{
	struct sq *q = s->impl;

	if (q == NULL)
		return;
	sq_readers_close(q);
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
sq_open(struct store *s, const char *path, struct err *e)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
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
	if (sq_create(path, e) == -1 ||
	    sq_conn_open(&q->w, path, false, e) == -1 ||
	    sq_writer_setup(&q->w, e) == -1 ||
	    sq_migrate(&q->w, e) == -1 ||
	    sq_readers_init(q, e) == -1) {
		sq_close(s);
		return -1;
	}
	return 0;
}

/* Take the writer and open a write transaction. */
static int
sq_begin(struct store *s, struct err *e)
{
	struct sq *q = s->impl;
	sqlite3_stmt *st;

	pthread_mutex_lock(&q->wlock);
	if ((st = sq_prep(&q->w, SQ_BEGIN, "BEGIN IMMEDIATE", e)) == NULL ||
	    sq_run(&q->w, st, SQLITE_OK, e) == -1) {
		pthread_mutex_unlock(&q->wlock);
		return -1;
	}
	q->in_tx = true;
	q->changes = sqlite3_total_changes64(q->w.db);
	return 0;
}

/* Roll back what is open on the writer, ignoring errors. */
static void
sq_abort(struct sq *q)
{
	sqlite3_stmt *st;

	if (sqlite3_get_autocommit(q->w.db))
		return;		/* SQLite already rolled back */
	if ((st = sq_prep(&q->w, SQ_ROLLBACK, "ROLLBACK", NULL)) != NULL)
		sq_run(&q->w, st, SQLITE_OK, NULL);
}

/* Commit and release the writer; on failure nothing was written. */
static int
sq_commit(struct store *s, struct err *e)
{
	struct sq *q = s->impl;
	sqlite3_stmt *st;
	uint64_t seq = 0;
	int rc = -1;

	if (!q->in_tx)
		return err_set(e, ERR_INTERNAL, "database: commit without begin");
	if ((st = sq_prep(&q->w, SQ_COMMIT, "COMMIT", e)) != NULL)
		rc = sq_run(&q->w, st, SQLITE_OK, e);
	if (rc == -1)
		sq_abort(q);
	else if (sqlite3_total_changes64(q->w.db) != q->changes)
		seq = sq_sync_note(q);
	else
		seq = sq_sync_last(q);
	q->in_tx = false;
	pthread_mutex_unlock(&q->wlock);
	/* acknowledged only once on disk; others may commit meanwhile */
	if (seq != 0 && sq_sync_wait(q, seq, e) == -1)
		return -1;
	return rc;
}

/* Discard the transaction and release the writer. */
static void
sq_rollback(struct store *s)
{
	struct sq *q = s->impl;

	if (!q->in_tx)
		return;
	sq_abort(q);
	q->in_tx = false;
	pthread_mutex_unlock(&q->wlock);
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
	.outbox_done = sq_outbox_done,
	.outbox_retry = sq_outbox_retry,
	.outbox_next = sq_outbox_next,
	.begin_read = sq_begin_read,
	.certs_scan = sq_certs_scan,
	.addr_restore = sq_addr_restore,
	.cert_restore_meta = sq_cert_restore_meta,
};
