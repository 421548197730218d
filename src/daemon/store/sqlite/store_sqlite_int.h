/*
 * store_sqlite: what the files of the SQLite backend share, and nothing
 * else includes: the connection type, the per-connection statement cache,
 * error mapping and column helpers.  Internal names use the sq_ prefix.
 */
#ifndef KEYDIR_STORE_SQLITE_H
#define KEYDIR_STORE_SQLITE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "err.h"
#include "store_int.h"

/* Statement cache slots; readers prepare only the first SQ_NREAD. */
enum sq_slot {
	SQ_BY_FPR,
	SQ_BY_SUBFPR,
	SQ_BY_KEYID,
	SQ_BY_EMAIL,
	SQ_BY_WKD,
	SQ_BY_UPLOAD,
	SQ_ADDR_STATUS,
	SQ_PUB_ADDRS,
	SQ_NREAD,
	SQ_BEGIN = SQ_NREAD,
	SQ_COMMIT,
	SQ_ROLLBACK,
	SQ_SAVEPOINT,
	SQ_RELEASE,
	SQ_ROLLBACK_TO,
	SQ_CERT_GET,
	SQ_CERT_SUBS,
	SQ_CERT_PUT,
	SQ_WKD_DEL,
	SQ_WKD_ADD,
	SQ_WKD_SCAN,
	SQ_KEYIDS_DEL,
	SQ_KEYIDS_ADD,
	SQ_ADDR_OWNER,
	SQ_ADDR_LIST,
	SQ_ADDR_SET,
	SQ_ADDR_DEL,
	SQ_ADDR_HAD,
	SQ_ADDR_GET,
	SQ_ADDR_CONFIRMED,
	SQ_ADDR_ASKED,
	SQ_ADDR_DUE,
	SQ_ADDR_STALE,
	SQ_CERT_DEL,
	SQ_CERT_DEL_TOKENS,
	SQ_PURGE_TOKENS,
	SQ_PURGE_CERTS,
	SQ_TOKEN_PURGE,
	SQ_NONCE_USE,
	SQ_NONCE_PURGE,
	SQ_OUTBOX_PURGE,
	SQ_RATE_PURGE,
	SQ_TOKEN_PUT,
	SQ_TOKEN_GET,
	SQ_TOKEN_USE,
	SQ_TOKEN_PENDING,
	SQ_UPLOAD_MARK,
	SQ_RATE_GET,
	SQ_RATE_SET,
	SQ_OUTBOX_ADD,
	SQ_OUTBOX_DUE,
	SQ_OUTBOX_LEASE,
	SQ_OUTBOX_DONE,
	SQ_OUTBOX_RETRY,
	SQ_OUTBOX_NEXT,
	SQ_OUTBOX_RELEASE,
	SQ_OUTBOX_RECLAIM,
	SQ_OUTBOX_FAIL,
	SQ_RECOVERY_PUT,
	SQ_RECOVERY_DEL,
	SQ_RECOVERY_GET,
	SQ_BEGIN_READ,
	SQ_CERTS_SCAN,
	SQ_SCAN_ADDRS,
	SQ_ADDR_RESTORE,
	SQ_CERT_META,
	SQ_STATS,
	SQ_STATS_TOKENS,
	SQ_STATE_CERT,
	SQ_STATE_KEYIDS,
	SQ_STATE_ADDRS,
	SQ_STATE_TOKENS,
	SQ_OUTBOX_LIST,
	SQ_CLIENT_KEYS,
	SQ_CLIENT_FORGET,
	SQ_ROOM_TOTAL,
	SQ_ROOM_SCAN,
	SQ_OUTBOX_SENT,
	SQ_NSLOT
};

/* One connection, used by one thread at a time, and its statements. */
struct sq_conn {
	sqlite3 *db;
	sqlite3_stmt *st[SQ_NSLOT];
	struct sq_conn *next;	/* reader free list */
};

struct sq_batch;

struct sq {
	char *path;
	pthread_mutex_t wlock;	/* held from begin to commit/rollback */
	struct sq_batch *batch;	/* the open write transaction; wlock */
	atomic_int nwait;	/* threads waiting to begin */
	uint64_t nbatches;	/* batches ended (tests); wlock */
	struct sq_conn w;	/* the one read-write connection */
	pthread_mutex_t plock;	/* guards the reader pool below */
	pthread_cond_t pcond;
	struct sq_conn *idle;
	struct sq_conn *held;	/* readers kept by a thread */
	size_t nbound;		/* how many (plock) */
	size_t nreaders;	/* open readers, idle or in use */
	int walfd;		/* group commit (store_sqlite_sync.c) */
	pthread_mutex_t smu;
	pthread_cond_t scv;
	uint64_t committed;	/* COMMITs done; smu */
	uint64_t synced;	/* of those, durable on disk; smu */
	bool syncing;		/* an fdatasync is running; smu */
	bool sync_failed;	/* one failed: acknowledge nothing more */
	pthread_cond_t bcv;	/* a batch ended; smu */
	struct sq_conn ck;	/* the checkpointer's connection */
	pthread_t ckthread;
	pthread_cond_t ckcv;	/* wakes the checkpointer; smu */
	bool ckwant;		/* the WAL is long; smu */
	int cklast;		/* WAL pages when last asked; wlock */
	bool ckstop;		/* smu */
	unsigned long gen;	/* tells this store from an earlier one at
				 * the same address (thread-local binding) */
};

/* store_sqlite.c */
int sq_conn_open(struct sq_conn *c, const char *path, bool readonly,
    struct err *e);
void sq_conn_close(struct sq_conn *c);
int sq_err(sqlite3 *db, int rc, struct err *e);
sqlite3_stmt *sq_prep(struct sq_conn *c, enum sq_slot slot, const char *sql,
    struct err *e);
int sq_run(struct sq_conn *c, sqlite3_stmt *st, int bindrc, struct err *e);
int sq_script(sqlite3 *db, const char *sql, struct err *e);
int sq_pragma(sqlite3 *db, const char *sql, int *v, char *buf, size_t sz,
    struct err *e);
int sq_bind_bytes(sqlite3_stmt *st, int i, const void *p, size_t n);
void sq_col_cpy(sqlite3_stmt *st, int i, char *dst, size_t sz);
char *sq_col_dup(sqlite3_stmt *st, int i, size_t *len);

/* store_sqlite_schema.c */
int sq_migrate(struct sq_conn *c, struct err *e);
/* The schema is this keydird's, read through a reader (read-only open). */
int sq_schema_check(struct sq_conn *c, struct err *e);

/* store_sqlite_sync.c */
void sq_sync_init(struct sq *q);
void sq_sync_close(struct sq *q);
uint64_t sq_sync_note(struct sq *q);
uint64_t sq_sync_last(struct sq *q);
int sq_sync_wait(struct sq *q, uint64_t seq, struct err *e);
int sq_begin(struct store *s, struct err *e);
int sq_commit(struct store *s, struct err *e);
void sq_rollback(struct store *s);
void sq_batch_flush(struct sq *q);

/* store_sqlite_ckpt.c */
int sq_ckpt_start(struct sq *q, struct err *e);
void sq_ckpt_stop(struct sq *q);

/* store_sqlite_read.c */
/* The connection the calling thread's calls run on: its read
 * transaction's reader (begin_read), else the writer's. */
struct sq_conn *sq_conn_for(struct store *s);
/* The calling thread holds q's writer (on) or no longer does. */
void sq_writing(const struct sq *q, bool on);
bool sq_in_txn(const struct sq *q);
int sq_end_read(struct sq *q, bool commit, struct err *e);
int sq_readers_init(struct sq *q, struct err *e);
int sq_readers_schema(struct sq *q, struct err *e);
void sq_readers_close(struct sq *q);
int sq_upload_view(struct store *s, const uint8_t hash[STORE_HASH_LEN],
    int64_t now, int64_t rate_since, struct store_upload_view *out,
    struct err *e);
int sq_lookup(struct store *s, enum store_by by, const char *key,
    struct store_pub *out, struct err *e);

/* store_sqlite_cert.c */
int sq_cert_get(struct store *s, const char *fpr, struct store_cert *out,
    struct err *e);
int sq_cert_put(struct store *s, const struct store_cert *c, struct err *e);
int sq_addr_owner(struct store *s, const char *address,
    char fpr[FPR_LEN + 1], struct err *e);
int sq_addr_list(struct store *s, const char *fpr, char ***addrs, size_t *n,
    struct err *e);
int sq_addr_set(struct store *s, const char *address, const char *fpr,
    int64_t now, struct err *e);
int sq_addr_del(struct store *s, const char *address, struct err *e);

/* store_sqlite_life.c */
int sq_addr_get(struct store *s, const char *address, struct store_addr *out,
    struct err *e);
int sq_addr_confirmed(struct store *s, const char *address, int64_t now,
    struct err *e);
int sq_addr_asked(struct store *s, const char *address, int64_t now,
    struct err *e);
int sq_addr_due(struct store *s, int64_t verified_before, size_t max,
    struct store_addr **rows, size_t *n, struct err *e);
int sq_addr_stale(struct store *s, int64_t asked_before, size_t max,
    struct store_addr **rows, size_t *n, struct err *e);
int sq_cert_del(struct store *s, const char *fpr, struct err *e);
int sq_cert_purge_unconfirmed(struct store *s, int64_t before, size_t *n,
    struct err *e);
int sq_token_purge(struct store *s, int64_t now, size_t *n, struct err *e);
int sq_nonce_use(struct store *s, const char *nonce, int64_t until,
    struct err *e);
int sq_nonce_purge(struct store *s, int64_t now, struct err *e);
int sq_outbox_purge(struct store *s, int64_t before, size_t *n,
    struct err *e);
int sq_rate_purge(struct store *s, int64_t before, size_t *n, struct err *e);

/* store_sqlite_xfer.c */
int sq_begin_read(struct store *s, struct err *e);
int sq_wkd_scan(struct store *s, const char *after, size_t max,
    struct store_wkd **rows, size_t *n, struct err *e);
int sq_certs_scan(struct store *s, const char *after, size_t max,
    struct store_cert **rows, size_t *n, struct err *e);
int sq_addr_restore(struct store *s, const struct store_addr *a,
    struct err *e);
int sq_cert_restore_meta(struct store *s, const char *fpr,
    int64_t first_stored, bool had_address, struct err *e);

/* store_sqlite_admin.c */
int sq_stats(struct store *s, struct store_stats *out, struct err *e);
int sq_cert_state(struct store *s, const char *fpr,
    struct store_cert_state *out, struct err *e);
int sq_outbox_list(struct store *s, int64_t after, size_t max,
    struct store_outbox_row **rows, size_t *n, struct err *e);

/* store_sqlite_limits.c */
int sq_client_keys(struct store *s, const char *client, int64_t since,
    int64_t *n, int64_t *oldest, struct err *e);
int sq_client_forget(struct store *s, int64_t before, size_t *n,
    struct err *e);
int sq_unconfirmed_room(struct store *s, uint64_t max, const char *keep,
    size_t *n, struct err *e);
int sq_outbox_sent_since(struct store *s, int64_t since, int64_t *n,
    int64_t *oldest, struct err *e);

/* store_sqlite_mail.c */
int sq_token_put(struct store *s, const struct store_token *t,
    struct err *e);
int sq_token_get(struct store *s, const uint8_t hash[STORE_HASH_LEN],
    struct store_token *out, struct err *e);
int sq_token_use(struct store *s, const uint8_t hash[STORE_HASH_LEN],
    int64_t now, struct err *e);
int sq_token_pending(struct store *s, const char *fpr, const char *address,
    int64_t now, bool *pending, struct err *e);
int sq_upload_mark(struct store *s, const char *fpr,
    const uint8_t hash[STORE_HASH_LEN], const struct store_upload_addr *addrs,
    size_t n, struct err *e);
int sq_rate_get(struct store *s, const char *address, int64_t *last,
    struct err *e);
int sq_rate_set(struct store *s, const char *address, int64_t now,
    struct err *e);
int sq_outbox_add(struct store *s, const char *rcpt, const char *data,
    size_t len, int64_t now, struct err *e);
int sq_outbox_due(struct store *s, int64_t now, int64_t lease_until,
    const char *owner, size_t max, struct store_mail **rows, size_t *n,
    struct err *e);
int sq_outbox_reclaim(struct store *s, const char *owner, int64_t at,
    size_t *n, struct err *e);
int sq_outbox_fail(struct store *s, int64_t id, int attempts, int64_t now,
    const char *why, struct err *e);
int sq_outbox_done(struct store *s, int64_t id, int64_t now, struct err *e);
int sq_outbox_release(struct store *s, int64_t id, int64_t at,
    struct err *e);
int sq_recovery_put(struct store *s, const char *fpr, const uint8_t *data,
    size_t len, int64_t now, struct err *e);
int sq_recovery_get(struct store *s, const char *fpr, uint8_t **data,
    size_t *len, int64_t *updated, struct err *e);
int sq_outbox_next(struct store *s, int64_t *when, struct err *e);
int sq_outbox_retry(struct store *s, int64_t id, int attempts, int64_t next,
    const char *why, struct err *e);

#endif
