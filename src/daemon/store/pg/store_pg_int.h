/*
 * store_pg_int: the PostgreSQL backend's own header (libpq only here).
 *
 * Connections.  A fixed pool (PG_POOL_MAX) per store.  A unit of work
 * (begin ... commit/rollback) takes a connection for its thread from
 * begin to its end; a call outside one (a lookup) takes one for the call.
 * Inside a unit every op runs on the thread's connection (pg_conn).
 *
 * Isolation.  store_begin is SERIALIZABLE: PostgreSQL then fails one of
 * two units that could not have run one after the other (SQLSTATE
 * 40001) or that deadlock (40P01), and pg_err maps both to ERR_RETRY,
 * which dir_atomic answers by running the unit again.  So the check-
 * then-write rules of the directory hold with several nodes at once
 * without a lock of ours.  store_begin_read is REPEATABLE READ, READ
 * ONLY (one snapshot, never waiting for writers).
 *
 * Statements.  Each op names its statement; pg_exec prepares it on a
 * connection the first time that connection runs it (PQprepare), then
 * runs it with PQexecPrepared: no SQL text per call, no injection (every
 * value is a parameter).  PgBouncer in transaction mode keeps prepared
 * statements only from version 1.21 (max_prepared_statements): see
 * README.  Results come as text (bytea decoded by pg_bytes).
 */
#ifndef KEYDIR_STORE_PG_INT_H
#define KEYDIR_STORE_PG_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "store_int.h"

#define PG_POOL_MAX 64
#define PG_ARGS_MAX 16

/* One connection and the names of the statements prepared on it. */
struct pg_conn {
	PGconn *c;
	char **prepared;	/* names, sorted */
	size_t nprepared;
	bool busy;		/* taken (pool lock) */
	bool in_txn;
	bool writes;		/* in_txn, and a write unit (pg_begin) */
};

struct pg_cache;
struct pg_listen;

struct pg {
	char *conninfo;
	const char *app;	/* application_name of its connections */
	bool readonly;
	struct pg *read;	/* database_read's pool, or NULL */
	struct pg_cache *cache;	/* lookup_cache, or NULL */
	struct pg_listen *listen;	/* with either of them */
	_Atomic int64_t room_at;	/* unconfirmed_room's committed total, */
	_Atomic int64_t room_bytes;	/* read then (pg_now_ms) */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct pg_conn pool[PG_POOL_MAX];
	size_t npool;		/* opened so far */
	size_t max;		/* at most this many */
	unsigned long gen;	/* which store a thread's binding is for */
	struct pg_node *node;	/* store_pg_node.c's; NULL until used */
};

/* The parameters of one statement, built by the pg_arg_* helpers. */
struct pg_args {
	const char *v[PG_ARGS_MAX];
	int len[PG_ARGS_MAX];
	int fmt[PG_ARGS_MAX];	/* 0 text, 1 binary */
	char num[PG_ARGS_MAX][24];
	int n;
};

void pg_args_init(struct pg_args *a);
void pg_arg_text(struct pg_args *a, const char *s);	/* NULL: SQL NULL */
void pg_arg_int(struct pg_args *a, int64_t v);
void pg_arg_bool(struct pg_args *a, bool v);
void pg_arg_bytes(struct pg_args *a, const void *p, size_t n);

/* The thread's connection inside a unit of work, else NULL. */
struct pg_conn *pg_conn(struct store *s);
/* The same for an op that must run inside a unit: NULL with
 * ERR_INTERNAL "store: outside a unit of work" outside one. */
struct pg_conn *pg_unit(struct store *s, struct err *e);
/* A connection for one call outside a unit (the thread's inside one);
 * give it back with pg_put. */
struct pg_conn *pg_take(struct store *s, struct err *e);
/* A connection that is not the thread's unit's: lookups, which never see
 * a unit's uncommitted writes, its own thread's either (store.h). */
struct pg_conn *pg_take_free(struct store *s, struct err *e);
void pg_put(struct store *s, struct pg_conn *c);
/* The same on a pool of its own (database_read's). */
struct pg_conn *pg_pool_take(struct pg *q, struct err *e);
/* The same, but NULL (ERR_RETRY) rather than waiting for one. */
struct pg_conn *pg_pool_try(struct pg *q, struct err *e);
void pg_pool_put(struct pg *q, struct pg_conn *c);
/* A connection of its own, named app (application_name); NULL with e. */
PGconn *pg_connect_as(const char *conninfo, const char *app,
    struct err *e);

/*
 * Run statement name (sql, prepared on c the first time) with a's
 * parameters.  The result (PGRES_TUPLES_OK or PGRES_COMMAND_OK) into
 * *res, to PQclear; -1 with e set (pg_err) and *res NULL.
 */
int pg_exec(struct pg_conn *c, const char *name, const char *sql,
    const struct pg_args *a, PGresult **res, struct err *e);
/* Run a statement outside the cache (BEGIN, COMMIT, DDL). */
int pg_exec_plain(struct pg_conn *c, const char *sql, struct err *e);
/* e from a failed result r (or c's state when r is NULL): 40001 and
 * 40P01 are ERR_RETRY, a full disk ERR_UNAVAIL, a lost connection
 * ERR_RETRY, the rest ERR_INTERNAL with PostgreSQL's words. */
int pg_err(struct pg_conn *c, const PGresult *r, struct err *e);

/* Row i, column j of r: text ("" for NULL), as a number, as a bool, as
 * bytes (bytea; malloc'd, *n its length), as a malloc'd string. */
const char *pg_text(const PGresult *r, int i, int j);
int64_t pg_int(const PGresult *r, int i, int j);
bool pg_bool(const PGresult *r, int i, int j);
bool pg_null(const PGresult *r, int i, int j);
uint8_t *pg_bytes(const PGresult *r, int i, int j, size_t *n);
char *pg_dup(const PGresult *r, int i, int j, size_t *n);
/* Copy column j of row i into out (sz bytes, cut). */
void pg_cpy(const PGresult *r, int i, int j, char *out, size_t sz);

/* The ops, by file; each follows store.h's contract for the op of the
 * same name, on pg_conn(s) inside a unit (store_begin/begin_read) or on
 * a connection of pg_take for the call outside one. */
/* store_pg_read.c */
int pgs_lookup(struct store *s, enum store_by by, const char *q, struct store_pub *out, struct err *e);
int pgs_upload_view(struct store *s, const uint8_t hash[STORE_HASH_LEN], int64_t now, int64_t rate_since, struct store_upload_view *out, struct err *e);

/* store_pg_cert.c */
int pgs_cert_get(struct store *s, const char *fpr, struct store_cert *out, struct err *e);
int pgs_cert_put(struct store *s, const struct store_cert *c, struct err *e);
int pgs_addr_owner(struct store *s, const char *address, char fpr[FPR_LEN + 1], struct err *e);
int pgs_addr_list(struct store *s, const char *fpr, char ***addrs, size_t *n, struct err *e);
int pgs_addr_set(struct store *s, const char *address, const char *fpr, int64_t now, struct err *e);
int pgs_addr_del(struct store *s, const char *address, struct err *e);
int pgs_addr_get(struct store *s, const char *address, struct store_addr *out, struct err *e);
int pgs_addr_confirmed(struct store *s, const char *address, int64_t now, struct err *e);
int pgs_addr_asked(struct store *s, const char *address, int64_t now, struct err *e);
int pgs_addr_due(struct store *s, int64_t verified_before, size_t max, struct store_addr **rows, size_t *n, struct err *e);
int pgs_addr_stale(struct store *s, int64_t asked_before, size_t max, struct store_addr **rows, size_t *n, struct err *e);
int pgs_token_pending(struct store *s, const char *fpr, const char *address, int64_t now, bool *pending, struct err *e);
int pgs_upload_mark(struct store *s, const char *fpr, const uint8_t hash[STORE_HASH_LEN], const struct store_upload_addr *addrs, size_t n, struct err *e);

/* store_pg_mail.c */
int pgs_nonce_use(struct store *s, const char *nonce, int64_t until, struct err *e);
int pgs_token_put(struct store *s, const struct store_token *t, struct err *e);
int pgs_token_get(struct store *s, const uint8_t hash[STORE_HASH_LEN], struct store_token *out, struct err *e);
int pgs_token_use(struct store *s, const uint8_t hash[STORE_HASH_LEN], int64_t now, struct err *e);
int pgs_rate_get(struct store *s, const char *address, int64_t *last, struct err *e);
int pgs_rate_set(struct store *s, const char *address, int64_t now, struct err *e);
int pgs_outbox_add(struct store *s, const char *rcpt, const char *data, size_t len, int64_t now, struct err *e);
int pgs_outbox_due(struct store *s, int64_t now, int64_t lease_until, const char *owner, size_t max, struct store_mail **rows, size_t *n, struct err *e);
int pgs_outbox_reclaim(struct store *s, const char *owner, int64_t at, size_t *n, struct err *e);
int pgs_outbox_fail(struct store *s, int64_t id, int attempts, int64_t now, const char *why, struct err *e);
int pgs_outbox_done(struct store *s, int64_t id, int64_t now, struct err *e);
int pgs_outbox_retry(struct store *s, int64_t id, int attempts, int64_t next, const char *why, struct err *e);
int pgs_recovery_put(struct store *s, const char *fpr, const uint8_t *data, size_t len, int64_t now, struct err *e);
int pgs_recovery_get(struct store *s, const char *fpr, uint8_t **data, size_t *len, int64_t *updated, struct err *e);
int pgs_outbox_release(struct store *s, int64_t id, int64_t at, struct err *e);
int pgs_outbox_next(struct store *s, int64_t *when, struct err *e);
int pgs_outbox_sent_since(struct store *s, int64_t since, int64_t *n, int64_t *oldest, struct err *e);

/* store_pg_life.c */
int pgs_cert_del(struct store *s, const char *fpr, struct err *e);
int pgs_cert_purge_unconfirmed(struct store *s, int64_t before, size_t *n, struct err *e);
int pgs_token_purge(struct store *s, int64_t now, size_t *n, struct err *e);
int pgs_nonce_purge(struct store *s, int64_t now, struct err *e);
int pgs_outbox_purge(struct store *s, int64_t before, size_t *n, struct err *e);
int pgs_rate_purge(struct store *s, int64_t before, size_t *n, struct err *e);
int pgs_certs_scan(struct store *s, const char *after, size_t max, struct store_cert **rows, size_t *n, struct err *e);
int pgs_wkd_scan(struct store *s, const char *after, size_t max, struct store_wkd **rows, size_t *n, struct err *e);
int pgs_addr_restore(struct store *s, const struct store_addr *a, struct err *e);
int pgs_cert_restore_meta(struct store *s, const char *fpr, int64_t first_stored, bool had_address, struct err *e);
int pgs_stats(struct store *s, struct store_stats *out, struct err *e);
int pgs_cert_state(struct store *s, const char *fpr, struct store_cert_state *out, struct err *e);
int pgs_outbox_list(struct store *s, int64_t after, size_t max, struct store_outbox_row **rows, size_t *n, struct err *e);
int pgs_client_keys(struct store *s, const char *client, int64_t since, int64_t *n, int64_t *oldest, struct err *e);
int pgs_client_forget(struct store *s, int64_t before, size_t *n, struct err *e);
int pgs_unconfirmed_room(struct store *s, uint64_t max, const char *keep, size_t *n, struct err *e);

/* The lookup cache (store_pg_cache.c).  pgc_get: 0 found (out a chain to
 * store_pub_release), 1 known not found, -1 not kept.  pgc_put stores
 * ans (NULL or an empty fpr: not found) for the query unless an
 * invalidation came after gen (pgc_gen before the read), or, for an
 * answer read from a replica, after as_of.  pgc_inval applies one name
 * of the listener's (see the file). */
struct pg_cache_stats {
	uint64_t hits, misses, stale, invals, dropped, evicted, flushes;
	size_t entries, bytes;
};
struct pg_cache *pgc_new(size_t max_bytes);
int pgc_get(struct pg_cache *c, enum store_by by, const char *key, struct store_pub *out);
uint64_t pgc_gen(struct pg_cache *c);
void pgc_put(struct pg_cache *c, uint64_t gen, bool replica, int64_t as_of, enum store_by by, const char *key, const struct store_pub *ans);
void pgc_inval(struct pg_cache *c, const char *what, int64_t now);
void pgc_flush(struct pg_cache *c, int64_t now);
void pgc_stats(struct pg_cache *c, struct pg_cache_stats *out);
void pgc_free(struct pg_cache *c);

/* The listener and the replica watcher (store_pg_listen.c): the cache
 * and the replica may answer a lookup at now only while they are proven
 * to hold every change committed PGL_WINDOW_MS before. */
#define PGL_WINDOW_MS 500	/* the rest of the second: the answer's way */
int64_t pg_now_ms(void);	/* CLOCK_MONOTONIC */
struct pg_listen *pgl_start(const char *conninfo, const char *read_conninfo, struct pg_cache *cache, struct err *e);
bool pgl_cache_ok(struct pg_listen *l, int64_t now);
bool pgl_replica_ok(struct pg_listen *l, int64_t now, int64_t *as_of);
/* After a write unit of this node commits: returns once the cache holds
 * nothing that commit changed (NULL, or no cache: at once). */
void pgl_settle(struct pg_listen *l);
void pgl_stop(struct pg_listen *l);

/*
 * store_pg_node.c: node liveness and the maintenance turn (store.h,
 * "Nodes").  A handle that joins as a node, or takes the maintenance
 * turn, keeps a connection of its own (application_name keydird-node)
 * outside the pool for its life.  A node's lock is a shared session-level
 * advisory lock (PG_NODE_CLASS, PG_NODE_KEY(name)); the maintenance
 * turn an exclusive one (PG_MAINT_CLASS, 0).  The two-key form never
 * meets the one-key migration lock (store_pg_schema.c): PostgreSQL keeps
 * them apart (pg_locks.objsubid 2, not 1).
 */
#define PG_NODE_CLASS 1801743972	/* "kdnd" */
#define PG_MAINT_CLASS 1801743732	/* "kdmt" */
#define PG_STR(x) PG_STR_(x)
#define PG_STR_(x) #x
/* SQL: the lock key of the node named by the text expression x (32 bits
 * of its MD5, an int4; pg_locks shows it as an oid) */
#define PG_NODE_KEY(x) "('x' || substr(md5(" x "), 1, 8))::bit(32)::int"
/* SQL: x names a node ("node@...") whose lock no session holds: no open
 * handle is that node; NULL when x is */
#define PG_NODE_GONE(x) "(starts_with(" x ", '" STORE_NODE_PREFIX "') AND " \
	PG_NODE_KEY(x) "::oid NOT IN (SELECT l.objid FROM pg_locks l WHERE " \
	"l.locktype = 'advisory' AND l.classid = " PG_STR(PG_NODE_CLASS) \
	" AND l.objsubid = 2 AND l.granted AND l.database = (SELECT oid " \
	"FROM pg_database WHERE datname = current_database())))"
int pgs_node_join(struct store *s, const char *owner, struct err *e);
int pgs_node_check(struct store *s, struct err *e);
int pgs_maint_try(struct store *s, bool *got, struct err *e);
void pgs_maint_release(struct store *s);
/* End q's node (its locks go at once) and free it; from pg_close. */
void pg_node_free(struct pg *q);

/* The schema's migrations, applied in order on open (store_pg_schema.c). */
int pg_migrate(struct pg_conn *c, struct err *e);

#endif
