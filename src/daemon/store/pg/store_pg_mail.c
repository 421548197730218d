/*
 * store_pg_mail: what confirmation mail needs kept: token hashes, removal
 * nonces, the per-address send rate, the outbox and recovery data.
 * Every call runs inside the caller's unit of work (pg_conn).
 *
 * The outbox is shared by every node on the database.  outbox_due
 * claims its rows in one statement: it picks the due rows FOR UPDATE
 * SKIP LOCKED (a row another drain is leasing right now is passed over,
 * not waited for) and leases them (next_attempt = the lease's end,
 * leased_by = the owner) before the unit ends; the SERIALIZABLE unit
 * turns whatever else two drains could race on into ERR_RETRY.  The
 * per-recipient order is SQLite's: a row goes out only if no older
 * unsettled row to the same address is left (locked or not), so mail to
 * one address is sent in the order queued.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store_pg_int.h"
#include "xmalloc.h"

/* Run a statement that returns no rows; *n the rows it touched. */
static int
run(struct store *s, const char *name, const char *sql,
    const struct pg_args *a, int64_t *n, struct err *e)
{
	struct pg_conn *c;
	PGresult *r;

	if (n != NULL)
		*n = 0;
	if ((c = pg_unit(s, e)) == NULL)
		return -1;
	if (pg_exec(c, name, sql, a, &r, e) == -1)
		return -1;
	if (n != NULL)
		*n = strtoll(PQcmdTuples(r), NULL, 10);
	PQclear(r);
	return 0;
}

/* Run an UPDATE; 1 if it matched no row. */
static int
update(struct store *s, const char *name, const char *sql,
    const struct pg_args *a, struct err *e)
{
	int64_t n;

	if (run(s, name, sql, a, &n, e) == -1)
		return -1;
	return n == 0 ? 1 : 0;
}

/* Run a query; its result into *r (to PQclear). */
static int
query(struct store *s, const char *name, const char *sql,
    const struct pg_args *a, PGresult **r, struct err *e)
{
	struct pg_conn *c;

	*r = NULL;
	if ((c = pg_unit(s, e)) == NULL)
		return -1;
	return pg_exec(c, name, sql, a, r, e);
}

/* A bytea column as a heap copy, NUL-terminated (as SQLite's are). */
static char *
bytes_dup(const PGresult *r, int i, int j, size_t *len)
{
	uint8_t *p = pg_bytes(r, i, j, len);
	char *d = xmalloc(*len + 1);

	if (p != NULL && *len > 0)
		memcpy(d, p, *len);
	else
		*len = 0;
	d[*len] = '\0';
	free(p);
	return d;
}

/* Store a new token (only its hash). */
int
pgs_token_put(struct store *s, const struct store_token *t, struct err *e)
{
	struct pg_args a;

	pg_args_init(&a);
	pg_arg_bytes(&a, t->hash, STORE_HASH_LEN);
	pg_arg_int(&a, (int64_t)t->kind);
	pg_arg_text(&a, t->fpr);
	pg_arg_text(&a, t->address);
	pg_arg_int(&a, t->created);
	pg_arg_int(&a, t->expires);
	pg_arg_int(&a, t->used);
	return run(s, "mail_token_put", "INSERT INTO tokens (hash, kind, "
	    "fpr, address, created, expires, used) "
	    "VALUES ($1, $2, $3, $4, $5, $6, $7)", &a, NULL, e);
}

/* The token with this hash, used or expired alike; 1 if none. */
int
pgs_token_get(struct store *s, const uint8_t hash[STORE_HASH_LEN],
    struct store_token *out, struct err *e)
{
	struct pg_args a;
	PGresult *r;
	int ret = 1;

	memset(out, 0, sizeof(*out));
	pg_args_init(&a);
	pg_arg_bytes(&a, hash, STORE_HASH_LEN);
	if (query(s, "mail_token_get", "SELECT kind, fpr, address, created, "
	    "expires, used FROM tokens WHERE hash = $1", &a, &r, e) == -1)
		return -1;
	if (PQntuples(r) > 0) {
		memcpy(out->hash, hash, STORE_HASH_LEN);
		out->kind = (enum token_kind)pg_int(r, 0, 0);
		pg_cpy(r, 0, 1, out->fpr, sizeof(out->fpr));
		pg_cpy(r, 0, 2, out->address, sizeof(out->address));
		out->created = pg_int(r, 0, 3);
		out->expires = pg_int(r, 0, 4);
		out->used = pg_int(r, 0, 5);
		ret = 0;
	}
	PQclear(r);
	return ret;
}

/* Mark the token used at now; 1 if it was already used or is unknown. */
int
pgs_token_use(struct store *s, const uint8_t hash[STORE_HASH_LEN],
    int64_t now, struct err *e)
{
	struct pg_args a;

	pg_args_init(&a);
	pg_arg_bytes(&a, hash, STORE_HASH_LEN);
	pg_arg_int(&a, now);
	return update(s, "mail_token_use", "UPDATE tokens SET used = $2 "
	    "WHERE hash = $1 AND used = 0", &a, e);
}

/* Record a removal nonce until `until`; 1 if it was already recorded. */
int
pgs_nonce_use(struct store *s, const char *nonce, int64_t until,
    struct err *e)
{
	struct pg_args a;
	int64_t n;

	pg_args_init(&a);
	pg_arg_text(&a, nonce);
	pg_arg_int(&a, until);
	if (run(s, "mail_nonce_use", "INSERT INTO nonces (nonce, until) "
	    "VALUES ($1, $2) ON CONFLICT (nonce) DO NOTHING", &a, &n, e) == -1)
		return -1;
	return n == 0 ? 1 : 0;
}

/* When mail last went to address; 1 if never. */
int
pgs_rate_get(struct store *s, const char *address, int64_t *last,
    struct err *e)
{
	struct pg_args a;
	PGresult *r;
	int ret = 1;

	*last = 0;
	pg_args_init(&a);
	pg_arg_text(&a, address);
	if (query(s, "mail_rate_get", "SELECT last FROM mail_rate "
	    "WHERE address = $1", &a, &r, e) == -1)
		return -1;
	if (PQntuples(r) > 0) {
		*last = pg_int(r, 0, 0);
		ret = 0;
	}
	PQclear(r);
	return ret;
}

/* Record that mail went to address at now. */
int
pgs_rate_set(struct store *s, const char *address, int64_t now,
    struct err *e)
{
	struct pg_args a;

	pg_args_init(&a);
	pg_arg_text(&a, address);
	pg_arg_int(&a, now);
	return run(s, "mail_rate_set", "INSERT INTO mail_rate (address, last) "
	    "VALUES ($1, $2) ON CONFLICT (address) DO UPDATE "
	    "SET last = excluded.last", &a, NULL, e);
}

/* Queue a message, due at once. */
int
pgs_outbox_add(struct store *s, const char *rcpt, const char *data,
    size_t len, int64_t now, struct err *e)
{
	struct pg_args a;

	pg_args_init(&a);
	pg_arg_text(&a, rcpt);
	pg_arg_bytes(&a, data, data != NULL ? len : 0);
	pg_arg_int(&a, now);
	return run(s, "mail_outbox_add", "INSERT INTO outbox (rcpt, data, "
	    "created, next_attempt) VALUES ($1, $2, $3, 0)", &a, NULL, e);
}

/* An unsettled row that no older unsettled row to the same recipient
 * holds back (outbox o): mail to one address goes out in order.  The
 * subquery locks nothing: a row another drain holds still holds back
 * the later ones to its recipient. */
#define PG_OUTBOX_FIRST "o.sent IS NULL AND o.failed IS NULL AND " \
	"NOT EXISTS (SELECT 1 FROM outbox p WHERE p.rcpt = o.rcpt AND " \
	"p.sent IS NULL AND p.failed IS NULL AND p.id < o.id)"

/*
 * Pick (locking them, skipping rows another unit has locked) and lease in
 * one statement; the rows come back oldest first.  A row leased to a node
 * that is gone (store_pg_node.c) is due at once.
 */
static const char sql_outbox_due[] = "WITH due AS (SELECT o.id "
    "FROM outbox o WHERE (o.next_attempt <= $1::bigint OR "
    PG_NODE_GONE("o.leased_by") ") AND "
    PG_OUTBOX_FIRST " ORDER BY o.id LIMIT $2::bigint "
    "FOR UPDATE OF o SKIP LOCKED), "
    "leased AS (UPDATE outbox q SET next_attempt = $3::bigint, "
    "leased_by = $4::text FROM due WHERE q.id = due.id "
    "RETURNING q.id, q.rcpt, q.data, q.attempts) "
    "SELECT id, rcpt, data, attempts FROM leased ORDER BY id";

/*
 * Up to max unsent messages due by now, oldest first and each the oldest
 * of its recipient, each leased to owner until lease_until so a second
 * drain (of this node or another) does not send it too.
 */
int
pgs_outbox_due(struct store *s, int64_t now, int64_t lease_until,
    const char *owner, size_t max, struct store_mail **rows, size_t *n,
    struct err *e)
{
	struct store_mail *m;
	struct pg_args a;
	PGresult *r;
	int i, k;

	*rows = NULL;
	*n = 0;
	pg_args_init(&a);
	pg_arg_int(&a, now);
	pg_arg_int(&a, max > INT64_MAX ? INT64_MAX : (int64_t)max);
	pg_arg_int(&a, lease_until);
	pg_arg_text(&a, owner);
	if (query(s, "mail_outbox_due", sql_outbox_due, &a, &r, e) == -1)
		return -1;
	k = PQntuples(r);
	if (k > 0) {
		*rows = xcalloc((size_t)k, sizeof(**rows));
		for (i = 0; i < k; i++) {
			m = &(*rows)[i];
			m->id = pg_int(r, i, 0);
			pg_cpy(r, i, 1, m->rcpt, sizeof(m->rcpt));
			m->data = bytes_dup(r, i, 2, &m->len);
			m->attempts = (int)pg_int(r, i, 3);
		}
		*n = (size_t)k;
	}
	PQclear(r);
	return 0;
}

/* Mark a message sent and drop its body, which carries a token; 1 if
 * there is no such message. */
int
pgs_outbox_done(struct store *s, int64_t id, int64_t now, struct err *e)
{
	struct pg_args a;

	pg_args_init(&a);
	pg_arg_int(&a, id);
	pg_arg_int(&a, now);
	return update(s, "mail_outbox_done", "UPDATE outbox SET sent = $2, "
	    "data = ''::bytea, leased_by = NULL WHERE id = $1", &a, e);
}

/* Record a failed attempt and when to try again; 1 if no such message. */
int
pgs_outbox_retry(struct store *s, int64_t id, int attempts, int64_t next,
    const char *why, struct err *e)
{
	struct pg_args a;

	pg_args_init(&a);
	pg_arg_int(&a, id);
	pg_arg_int(&a, attempts);
	pg_arg_int(&a, next);
	pg_arg_text(&a, why);
	return update(s, "mail_outbox_retry", "UPDATE outbox SET attempts = "
	    "$2, next_attempt = $3, last_error = $4, leased_by = NULL "
	    "WHERE id = $1", &a, e);
}

/* Give a leased row back, untried: due at `at`. */
int
pgs_outbox_release(struct store *s, int64_t id, int64_t at, struct err *e)
{
	struct pg_args a;

	pg_args_init(&a);
	pg_arg_int(&a, id);
	pg_arg_int(&a, at);
	return update(s, "mail_outbox_release", "UPDATE outbox SET "
	    "next_attempt = $2, leased_by = NULL WHERE id = $1 AND "
	    "sent IS NULL AND failed IS NULL", &a, e);
}

/* End every lease of owner on an unsent row: due again at `at`. */
int
pgs_outbox_reclaim(struct store *s, const char *owner, int64_t at,
    size_t *n, struct err *e)
{
	struct pg_args a;
	int64_t k;

	*n = 0;
	pg_args_init(&a);
	pg_arg_text(&a, owner);
	pg_arg_int(&a, at);
	if (run(s, "mail_outbox_reclaim", "UPDATE outbox SET next_attempt = "
	    "$2, leased_by = NULL WHERE leased_by = $1 AND sent IS NULL AND "
	    "failed IS NULL", &a, &k, e) == -1)
		return -1;
	*n = (size_t)k;
	return 0;
}

/* The server refused the message for good: keep why, never try again,
 * drop the message (it carries a token); 1 if no unsent row has id. */
int
pgs_outbox_fail(struct store *s, int64_t id, int attempts, int64_t now,
    const char *why, struct err *e)
{
	struct pg_args a;

	pg_args_init(&a);
	pg_arg_int(&a, id);
	pg_arg_int(&a, attempts);
	pg_arg_int(&a, now);
	pg_arg_text(&a, why);
	return update(s, "mail_outbox_fail", "UPDATE outbox SET attempts = "
	    "$2, failed = $3, last_error = $4, data = ''::bytea, "
	    "leased_by = NULL WHERE id = $1 AND sent IS NULL AND "
	    "failed IS NULL", &a, e);
}

/* The earliest next_attempt of a mail outbox_due could return (one
 * leased to a node that is gone: when it was queued); 1 when none
 * waits. */
int
pgs_outbox_next(struct store *s, int64_t *when, struct err *e)
{
	PGresult *r;
	int ret = 1;

	*when = 0;
	if (query(s, "mail_outbox_next", "SELECT min(CASE WHEN "
	    PG_NODE_GONE("o.leased_by") " THEN least(o.created, "
	    "o.next_attempt) ELSE o.next_attempt END) "
	    "FROM outbox o WHERE " PG_OUTBOX_FIRST, NULL, &r, e) == -1)
		return -1;
	if (PQntuples(r) > 0 && !pg_null(r, 0, 0)) {
		*when = pg_int(r, 0, 0);
		ret = 0;
	}
	PQclear(r);
	return ret;
}

/* How many rows were sent at or after since, and the earliest of those
 * times (0 when none). */
int
pgs_outbox_sent_since(struct store *s, int64_t since, int64_t *n,
    int64_t *oldest, struct err *e)
{
	struct pg_args a;
	PGresult *r;

	*n = *oldest = 0;
	pg_args_init(&a);
	pg_arg_int(&a, since);
	/* outbox_due's index (sent, next_attempt) holds the range */
	if (query(s, "mail_outbox_sent", "SELECT count(*), min(sent) "
	    "FROM outbox WHERE sent >= $1", &a, &r, e) == -1)
		return -1;
	if (PQntuples(r) > 0) {
		*n = pg_int(r, 0, 0);
		*oldest = pg_int(r, 0, 1);
	}
	PQclear(r);
	return 0;
}

/* Keep data[0..len) as fpr's recovery data, dated now; len 0 deletes
 * it; 1 if there is no such key. */
int
pgs_recovery_put(struct store *s, const char *fpr, const uint8_t *data,
    size_t len, int64_t now, struct err *e)
{
	struct pg_args a;
	int64_t n;

	pg_args_init(&a);
	pg_arg_text(&a, fpr);
	if (len == 0)
		return run(s, "mail_recovery_del", "DELETE FROM recovery WHERE "
		    "cid = (SELECT id FROM certs WHERE fpr = $1)", &a, NULL, e);
	pg_arg_bytes(&a, data, len);
	pg_arg_int(&a, now);
	if (run(s, "mail_recovery_put", "INSERT INTO recovery (cid, data, "
	    "updated) SELECT id, $2::bytea, $3::bigint FROM certs "
	    "WHERE fpr = $1 ON CONFLICT (cid) DO UPDATE SET "
	    "data = excluded.data, updated = excluded.updated", &a, &n,
	    e) == -1)
		return -1;
	return n == 0 ? 1 : 0;
}

/* fpr's recovery data; 1 if none. */
int
pgs_recovery_get(struct store *s, const char *fpr, uint8_t **data,
    size_t *len, int64_t *updated, struct err *e)
{
	struct pg_args a;
	PGresult *r;
	int ret = 1;

	*data = NULL;
	*len = 0;
	pg_args_init(&a);
	pg_arg_text(&a, fpr);
	if (query(s, "mail_recovery_get", "SELECT r.data, r.updated FROM "
	    "recovery r JOIN certs c ON c.id = r.cid WHERE c.fpr = $1", &a, &r,
	    e) == -1)
		return -1;
	if (PQntuples(r) > 0) {
		*data = (uint8_t *)bytes_dup(r, 0, 0, len);
		*updated = pg_int(r, 0, 1);
		ret = 0;
	}
	PQclear(r);
	return ret;
}
