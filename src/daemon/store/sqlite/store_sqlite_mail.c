/*
 * store_sqlite_mail: what confirmation mail needs kept: token hashes, the
 * per-address send rate and the outbox.  Every call runs on the writer
 * connection and assumes the caller holds store_begin.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store_sqlite_int.h"
#include "xmalloc.h"


/* The writer connection. */
static struct sq_conn *
sq_w(struct store *s)
{
	return sq_conn_for(s);
}

/* Step an UPDATE; 1 if it matched no row. */
static int
sq_update(struct sq_conn *w, sqlite3_stmt *st, int bindrc, struct err *e)
{
	if (sq_run(w, st, bindrc, e) == -1)
		return -1;
	return sqlite3_changes(w->db) == 0 ? 1 : 0;
}

/* Store a new token (only its hash). */
int
sq_token_put(struct store *s, const struct store_token *t, struct err *e)
{
	struct sq_conn *w = sq_w(s);
	sqlite3_stmt *st;
	int rc;

	st = sq_prep(w, SQ_TOKEN_PUT, "INSERT INTO tokens (hash, kind, fpr, "
	    "address, created, expires, used) "
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)", e);
	if (st == NULL)
		return -1;
	rc = sqlite3_bind_blob(st, 1, t->hash, STORE_HASH_LEN, SQLITE_STATIC);
	rc |= sqlite3_bind_int(st, 2, (int)t->kind);
	rc |= sqlite3_bind_text(st, 3, t->fpr, -1, SQLITE_STATIC);
	rc |= sqlite3_bind_text(st, 4, t->address, -1, SQLITE_STATIC);
	rc |= sqlite3_bind_int64(st, 5, t->created);
	rc |= sqlite3_bind_int64(st, 6, t->expires);
	rc |= sqlite3_bind_int64(st, 7, t->used);
	return sq_run(w, st, rc, e);
}

/* The token with this hash, used or expired alike; 1 if none. */
int
sq_token_get(struct store *s, const uint8_t hash[STORE_HASH_LEN],
    struct store_token *out, struct err *e)
{
	struct sq_conn *w = sq_w(s);
	sqlite3_stmt *st;
	int rc, ret = -1;

	memset(out, 0, sizeof(*out));
	st = sq_prep(w, SQ_TOKEN_GET, "SELECT kind, fpr, address, created, "
	    "expires, used FROM tokens WHERE hash = ?1", e);
	if (st == NULL)
		return -1;
	rc = sqlite3_bind_blob(st, 1, hash, STORE_HASH_LEN, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		memcpy(out->hash, hash, STORE_HASH_LEN);
		out->kind = (enum token_kind)sqlite3_column_int(st, 0);
		sq_col_cpy(st, 1, out->fpr, sizeof(out->fpr));
		sq_col_cpy(st, 2, out->address, sizeof(out->address));
		out->created = sqlite3_column_int64(st, 3);
		out->expires = sqlite3_column_int64(st, 4);
		out->used = sqlite3_column_int64(st, 5);
		ret = 0;
	} else if (rc == SQLITE_DONE)
		ret = 1;
	else
		sq_err(w->db, rc, e);
	sqlite3_reset(st);
	return ret;
}

/* Mark the token used at now; 1 if it was already used or is unknown. */
int
sq_token_use(struct store *s, const uint8_t hash[STORE_HASH_LEN],
    int64_t now, struct err *e)
{
	struct sq_conn *w = sq_w(s);
	sqlite3_stmt *st;
	int rc;

	st = sq_prep(w, SQ_TOKEN_USE, "UPDATE tokens SET used = ?2 "
	    "WHERE hash = ?1 AND used = 0", e);
	if (st == NULL)
		return -1;
	rc = sqlite3_bind_blob(st, 1, hash, STORE_HASH_LEN, SQLITE_STATIC);
	rc |= sqlite3_bind_int64(st, 2, now);
	return sq_update(w, st, rc, e);
}

/* Whether a live verification token exists for (fpr, address). */
int
sq_token_pending(struct store *s, const char *fpr, const char *address,
    int64_t now, bool *pending, struct err *e)
{
	struct sq_conn *w = sq_w(s);
	sqlite3_stmt *st;
	int rc;

	*pending = false;
	st = sq_prep(w, SQ_TOKEN_PENDING, "SELECT 1 FROM tokens "
	    "WHERE fpr = ?1 AND address = ?2 AND kind = ?3 AND used = 0 "
	    "AND expires > ?4 LIMIT 1", e);
	if (st == NULL)
		return -1;
	rc = sqlite3_bind_text(st, 1, fpr, -1, SQLITE_STATIC);
	rc |= sqlite3_bind_text(st, 2, address, -1, SQLITE_STATIC);
	rc |= sqlite3_bind_int(st, 3, TOKEN_VERIFY);
	rc |= sqlite3_bind_int64(st, 4, now);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*pending = true;
		rc = SQLITE_DONE;
	}
	if (rc != SQLITE_DONE)
		sq_err(w->db, rc, e);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* When mail last went to address; 1 if never. */
int
sq_rate_get(struct store *s, const char *address, int64_t *last,
    struct err *e)
{
	struct sq_conn *w = sq_w(s);
	sqlite3_stmt *st;
	int rc, ret = -1;

	*last = 0;
	st = sq_prep(w, SQ_RATE_GET,
	    "SELECT last FROM mail_rate WHERE address = ?1", e);
	if (st == NULL)
		return -1;
	rc = sqlite3_bind_text(st, 1, address, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*last = sqlite3_column_int64(st, 0);
		ret = 0;
	} else if (rc == SQLITE_DONE)
		ret = 1;
	else
		sq_err(w->db, rc, e);
	sqlite3_reset(st);
	return ret;
}

/* Record that mail went to address at now. */
int
sq_rate_set(struct store *s, const char *address, int64_t now,
    struct err *e)
{
	struct sq_conn *w = sq_w(s);
	sqlite3_stmt *st;
	int rc;

	st = sq_prep(w, SQ_RATE_SET, "INSERT INTO mail_rate (address, last) "
	    "VALUES (?1, ?2) ON CONFLICT(address) DO UPDATE "
	    "SET last = excluded.last", e);
	if (st == NULL)
		return -1;
	rc = sqlite3_bind_text(st, 1, address, -1, SQLITE_STATIC);
	rc |= sqlite3_bind_int64(st, 2, now);
	return sq_run(w, st, rc, e);
}

/* Queue a message, due at once. */
int
sq_outbox_add(struct store *s, const char *rcpt, const char *data,
    size_t len, int64_t now, struct err *e)
{
	struct sq_conn *w = sq_w(s);
	sqlite3_stmt *st;
	int rc;

	st = sq_prep(w, SQ_OUTBOX_ADD, "INSERT INTO outbox (rcpt, data, "
	    "created, next_attempt) VALUES (?1, ?2, ?3, 0)", e);
	if (st == NULL)
		return -1;
	rc = sqlite3_bind_text(st, 1, rcpt, -1, SQLITE_STATIC);
	rc |= sq_bind_bytes(st, 2, data, len);
	rc |= sqlite3_bind_int64(st, 3, now);
	return sq_run(w, st, rc, e);
}

/* Hold the rows outbox_due returns back from any other drain. */
static int
sq_outbox_lease(struct sq_conn *w, const struct store_mail *rows, size_t n,
    int64_t until, const char *owner, struct err *e)
{
	sqlite3_stmt *st;
	int rc;

	st = sq_prep(w, SQ_OUTBOX_LEASE, "UPDATE outbox "
	    "SET next_attempt = ?2, leased_by = ?3 WHERE id = ?1", e);
	if (st == NULL)
		return -1;
	for (size_t i = 0; i < n; i++) {
		rc = sqlite3_bind_int64(st, 1, rows[i].id);
		rc |= sqlite3_bind_int64(st, 2, until);
		rc |= sqlite3_bind_text(st, 3, owner, -1, SQLITE_STATIC);
		if (sq_run(w, st, rc, e) == -1)
			return -1;
	}
	return 0;
}

/* An unsettled row that no older unsettled row to the same recipient
 * holds back (outbox o): mail to one address goes out in order. */
#define SQ_OUTBOX_FIRST "o.sent IS NULL AND o.failed IS NULL AND " \
	"NOT EXISTS (SELECT 1 FROM outbox p WHERE p.rcpt = o.rcpt AND " \
	"p.sent IS NULL AND p.failed IS NULL AND p.id < o.id)"

/*
 * Up to max unsent messages due by now, oldest first and each the oldest
 * of its recipient, each leased to owner until lease_until so a second
 * drain does not send it too.
 */
int
sq_outbox_due(struct store *s, int64_t now, int64_t lease_until,
    const char *owner, size_t max, struct store_mail **rows, size_t *n,
    struct err *e)
{
	struct sq_conn *w = sq_w(s);
	struct store_mail *m;
	sqlite3_stmt *st;
	size_t cap = 0;
	int rc;

	*rows = NULL;
	*n = 0;
	st = sq_prep(w, SQ_OUTBOX_DUE, "SELECT id, rcpt, data, attempts "
	    "FROM outbox o WHERE o.next_attempt <= ?1 AND " SQ_OUTBOX_FIRST
	    " ORDER BY o.id LIMIT ?2", e);
	if (st == NULL)
		return -1;
	rc = sqlite3_bind_int64(st, 1, now);
	rc |= sqlite3_bind_int64(st, 2, max > INT64_MAX ? INT64_MAX :
	    (int64_t)max);
	while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 8;
			*rows = xrealloc(*rows, cap * sizeof(**rows));
		}
		m = &(*rows)[(*n)++];
		m->id = sqlite3_column_int64(st, 0);
		sq_col_cpy(st, 1, m->rcpt, sizeof(m->rcpt));
		m->data = sq_col_dup(st, 2, &m->len);
		m->attempts = sqlite3_column_int(st, 3);
		rc = SQLITE_OK;
	}
	if (rc != SQLITE_DONE)
		sq_err(w->db, rc, e);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE ||
	    sq_outbox_lease(w, *rows, *n, lease_until, owner, e) == -1) {
		store_mails_free(*rows, *n);
		*rows = NULL;
		*n = 0;
		return -1;
	}
	return 0;
}

/* Mark a message sent and drop its body, which carries a token; 1 if
 * there is no such message. */
int
sq_outbox_done(struct store *s, int64_t id, int64_t now, struct err *e)
{
	struct sq_conn *w = sq_w(s);
	sqlite3_stmt *st;
	int rc;

	st = sq_prep(w, SQ_OUTBOX_DONE, "UPDATE outbox "
	    "SET sent = ?2, data = zeroblob(0), leased_by = NULL WHERE id = ?1", e);
	if (st == NULL)
		return -1;
	rc = sqlite3_bind_int64(st, 1, id);
	rc |= sqlite3_bind_int64(st, 2, now);
	return sq_update(w, st, rc, e);
}

/* Record a failed attempt and when to try again; 1 if no such message. */
int
sq_outbox_retry(struct store *s, int64_t id, int attempts, int64_t next,
    const char *why, struct err *e)
{
	struct sq_conn *w = sq_w(s);
	sqlite3_stmt *st;
	int rc;

	st = sq_prep(w, SQ_OUTBOX_RETRY, "UPDATE outbox SET attempts = ?2, "
	    "next_attempt = ?3, last_error = ?4, leased_by = NULL WHERE id = ?1", e);
	if (st == NULL)
		return -1;
	rc = sqlite3_bind_int64(st, 1, id);
	rc |= sqlite3_bind_int(st, 2, attempts);
	rc |= sqlite3_bind_int64(st, 3, next);
	if (why != NULL)
		rc |= sqlite3_bind_text(st, 4, why, -1, SQLITE_STATIC);
	else
		rc |= sqlite3_bind_null(st, 4);
	return sq_update(w, st, rc, e);
}

/* Give a leased row back, untried: due at `at`. */
int
sq_outbox_release(struct store *s, int64_t id, int64_t at, struct err *e)
{
	struct sq_conn *w = sq_w(s);
	sqlite3_stmt *st;
	int rc;

	st = sq_prep(w, SQ_OUTBOX_RELEASE, "UPDATE outbox SET next_attempt = "
	    "?2, leased_by = NULL WHERE id = ?1 AND sent IS NULL AND "
	    "failed IS NULL", e);
	if (st == NULL)
		return -1;
	rc = sqlite3_bind_int64(st, 1, id);
	rc |= sqlite3_bind_int64(st, 2, at);
	return sq_update(w, st, rc, e);
}

/* End every lease of owner on an unsent row: due again at `at`. */
int
sq_outbox_reclaim(struct store *s, const char *owner, int64_t at, size_t *n,
    struct err *e)
{
	struct sq_conn *w = sq_w(s);
	sqlite3_stmt *st;
	int rc;

	*n = 0;
	st = sq_prep(w, SQ_OUTBOX_RECLAIM, "UPDATE outbox SET next_attempt = "
	    "?2, leased_by = NULL WHERE leased_by = ?1 AND sent IS NULL AND "
	    "failed IS NULL", e);
	if (st == NULL)
		return -1;
	rc = sqlite3_bind_text(st, 1, owner, -1, SQLITE_STATIC);
	rc |= sqlite3_bind_int64(st, 2, at);
	if (sq_run(w, st, rc, e) == -1)
		return -1;
	*n = (size_t)sqlite3_changes(w->db);
	return 0;
}

/* The server refused the message for good: keep why, never try again,
 * drop the message (it carries a token); 1 if no unsent row has id. */
int
sq_outbox_fail(struct store *s, int64_t id, int attempts, int64_t now,
    const char *why, struct err *e)
{
	struct sq_conn *w = sq_w(s);
	sqlite3_stmt *st;
	int rc;

	st = sq_prep(w, SQ_OUTBOX_FAIL, "UPDATE outbox SET attempts = ?2, "
	    "failed = ?3, last_error = ?4, data = zeroblob(0), "
	    "leased_by = NULL WHERE id = ?1 AND sent IS NULL AND "
	    "failed IS NULL", e);
	if (st == NULL)
		return -1;
	rc = sqlite3_bind_int64(st, 1, id);
	rc |= sqlite3_bind_int(st, 2, attempts);
	rc |= sqlite3_bind_int64(st, 3, now);
	if (why != NULL)
		rc |= sqlite3_bind_text(st, 4, why, -1, SQLITE_STATIC);
	else
		rc |= sqlite3_bind_null(st, 4);
	return sq_update(w, st, rc, e);
}

/* The earliest next_attempt of a mail outbox_due could return; 1 when
 * none waits. */
int
sq_outbox_next(struct store *s, int64_t *when, struct err *e)
{
	struct sq_conn *w = sq_w(s);
	sqlite3_stmt *st;
	int rc, found = 0;

	st = sq_prep(w, SQ_OUTBOX_NEXT, "SELECT min(o.next_attempt) "
	    "FROM outbox o WHERE " SQ_OUTBOX_FIRST, e);
	if (st == NULL)
		return -1;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		found = sqlite3_column_type(st, 0) != SQLITE_NULL;
		*when = sqlite3_column_int64(st, 0);
		rc = SQLITE_DONE;
	}
	if (rc != SQLITE_DONE)
		sq_err(w->db, rc, e);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return -1;
	return found ? 0 : 1;
}
