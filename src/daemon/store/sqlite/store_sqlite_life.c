/*
 * store_sqlite_life: the key lifecycle on the writer connection: the
 * re-verification schedule of published addresses, deleting a key with
 * everything stored for it, purges of what has run out, and removal
 * nonces.  Every call assumes the caller holds store_begin.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store_sqlite_int.h"
#include "xmalloc.h"

/*
 * Keys nobody ever confirmed an address for, stored before ?1 and not
 * uploaded or mailed about since (no token made since ?1).  The address
 * test only guards rows written behind addr_set's back.
 */
#define SQ_UNCONFIRMED \
	"had_address = 0 AND revoked = 0 AND first_stored < ?1 AND NOT EXISTS " \
	"(SELECT 1 FROM addresses a WHERE a.cid = certs.id) AND NOT EXISTS " \
	"(SELECT 1 FROM tokens t WHERE t.fpr = certs.fpr AND t.created >= ?1)"

/* The writer connection. */
static struct sq_conn *
sq_w(struct store *s)
{
	return sq_conn_for(s);
}

/* Step a data-changing statement; how many rows it changed, or -1. */
static int64_t
sq_changed(struct sq_conn *w, sqlite3_stmt *st, int bindrc, struct err *e)
{
	if (sq_run(w, st, bindrc, e) == -1)
		return -1;
	return sqlite3_changes64(w->db);
}

/* Fill one schedule row from columns address, fpr, verified, asked. */
static void
sq_addr_row(sqlite3_stmt *st, struct store_addr *a)
{
	sq_col_cpy(st, 0, a->address, sizeof(a->address));
	sq_col_cpy(st, 1, a->fpr, sizeof(a->fpr));
	a->verified = sqlite3_column_int64(st, 2);
	a->asked = sqlite3_column_int64(st, 3);
}

/* One published address and its schedule; 1 if not published. */
int
sq_addr_get(struct store *s, const char *address, struct store_addr *out,
    struct err *e)
{
	struct sq_conn *w = sq_w(s);
	sqlite3_stmt *st;
	int rc, ret = -1;

	memset(out, 0, sizeof(*out));
	st = sq_prep(w, SQ_ADDR_GET, "SELECT a.address, c.fpr, a.verified, "
	    "a.asked FROM addresses a JOIN certs c ON c.id = a.cid "
	    "WHERE a.address = ?1", e);
	if (st == NULL)
		return -1;
	rc = sqlite3_bind_text(st, 1, address, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		sq_addr_row(st, out);
		ret = 0;
	} else if (rc == SQLITE_DONE)
		ret = 1;
	else
		sq_err(w->db, rc, e);
	sqlite3_reset(st);
	return ret;
}

/* The owner confirmed address at now; 1 if it is not published. */
int
sq_addr_confirmed(struct store *s, const char *address, int64_t now,
    struct err *e)
{
	struct sq_conn *w = sq_w(s);
	sqlite3_stmt *st;
	int64_t n;
	int rc;

	st = sq_prep(w, SQ_ADDR_CONFIRMED, "UPDATE addresses "
	    "SET verified = ?2, asked = 0 WHERE address = ?1", e);
	if (st == NULL)
		return -1;
	rc = sqlite3_bind_text(st, 1, address, -1, SQLITE_STATIC);
	rc |= sqlite3_bind_int64(st, 2, now);
	if ((n = sq_changed(w, st, rc, e)) == -1)
		return -1;
	return n == 0 ? 1 : 0;
}

/* A re-verification mail for address went out at now; 1 if none. */
int
sq_addr_asked(struct store *s, const char *address, int64_t now,
    struct err *e)
{
	struct sq_conn *w = sq_w(s);
	sqlite3_stmt *st;
	int64_t n;
	int rc;

	st = sq_prep(w, SQ_ADDR_ASKED, "UPDATE addresses SET asked = ?2 "
	    "WHERE address = ?1", e);
	if (st == NULL)
		return -1;
	rc = sqlite3_bind_text(st, 1, address, -1, SQLITE_STATIC);
	rc |= sqlite3_bind_int64(st, 2, now);
	if ((n = sq_changed(w, st, rc, e)) == -1)
		return -1;
	return n == 0 ? 1 : 0;
}

/*
 * Run a schedule query bound to (before, max) and collect its rows into
 * a heap array; on error nothing is returned.
 */
static int
sq_addr_rows(struct sq_conn *w, sqlite3_stmt *st, int64_t before,
    size_t max, struct store_addr **rows, size_t *n, struct err *e)
{
	size_t cap = 0;
	int rc;

	*rows = NULL;
	*n = 0;
	rc = sqlite3_bind_int64(st, 1, before);
	rc |= sqlite3_bind_int64(st, 2, max > INT64_MAX ? INT64_MAX :
	    (int64_t)max);
	while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 8;
			*rows = xrealloc(*rows, cap * sizeof(**rows));
		}
		sq_addr_row(st, &(*rows)[(*n)++]);
		rc = SQLITE_OK;
	}
	if (rc != SQLITE_DONE) {
		sq_err(w->db, rc, e);
		store_addr_rows_free(*rows, *n);
		*rows = NULL;
		*n = 0;
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* Up to max addresses not asked about, confirmed before verified_before,
 * longest unconfirmed first. */
int
sq_addr_due(struct store *s, int64_t verified_before, size_t max,
    struct store_addr **rows, size_t *n, struct err *e)
{
	struct sq_conn *w = sq_w(s);
	sqlite3_stmt *st;

	*rows = NULL;
	*n = 0;
	st = sq_prep(w, SQ_ADDR_DUE, "SELECT a.address, c.fpr, a.verified, "
	    "a.asked FROM addresses a JOIN certs c ON c.id = a.cid "
	    "WHERE a.asked = 0 AND a.verified < ?1 "
	    "ORDER BY a.verified, a.address LIMIT ?2", e);
	if (st == NULL)
		return -1;
	return sq_addr_rows(w, st, verified_before, max, rows, n, e);
}

/* Up to max addresses asked about before asked_before and not answered,
 * longest waiting first. */
int
sq_addr_stale(struct store *s, int64_t asked_before, size_t max,
    struct store_addr **rows, size_t *n, struct err *e)
{
	struct sq_conn *w = sq_w(s);
	sqlite3_stmt *st;

	*rows = NULL;
	*n = 0;
	st = sq_prep(w, SQ_ADDR_STALE, "SELECT a.address, c.fpr, a.verified, "
	    "a.asked FROM addresses a JOIN certs c ON c.id = a.cid "
	    "WHERE a.asked > 0 AND a.asked < ?1 "
	    "ORDER BY a.asked, a.address LIMIT ?2", e);
	if (st == NULL)
		return -1;
	return sq_addr_rows(w, st, asked_before, max, rows, n, e);
}

/*
 * Delete the key fpr: its addresses and key ids go by cascade, its tokens
 * here, even when the cert is already gone.  1 if there was no such cert.
 */
int
sq_cert_del(struct store *s, const char *fpr, struct err *e)
{
	struct sq_conn *w = sq_w(s);
	sqlite3_stmt *st;
	int64_t n;
	int rc;

	st = sq_prep(w, SQ_CERT_DEL_TOKENS, "DELETE FROM tokens "
	    "WHERE fpr = ?1", e);
	if (st == NULL)
		return -1;
	rc = sqlite3_bind_text(st, 1, fpr, -1, SQLITE_STATIC);
	if (sq_run(w, st, rc, e) == -1)
		return -1;
	st = sq_prep(w, SQ_CERT_DEL, "DELETE FROM certs WHERE fpr = ?1", e);
	if (st == NULL)
		return -1;
	rc = sqlite3_bind_text(st, 1, fpr, -1, SQLITE_STATIC);
	if ((n = sq_changed(w, st, rc, e)) == -1)
		return -1;
	return n == 0 ? 1 : 0;
}

/*
 * Delete the keys stored before `before` that never had a published
 * address, with their tokens; *n how many keys.
 */
int
sq_cert_purge_unconfirmed(struct store *s, int64_t before, size_t *n,
    struct err *e)
{
	struct sq_conn *w = sq_w(s);
	sqlite3_stmt *st;
	int64_t k;
	int rc;

	*n = 0;
	st = sq_prep(w, SQ_PURGE_TOKENS, "DELETE FROM tokens WHERE fpr IN "
	    "(SELECT fpr FROM certs WHERE " SQ_UNCONFIRMED ")", e);
	if (st == NULL)
		return -1;
	rc = sqlite3_bind_int64(st, 1, before);
	if (sq_run(w, st, rc, e) == -1)
		return -1;
	st = sq_prep(w, SQ_PURGE_CERTS, "DELETE FROM certs WHERE "
	    SQ_UNCONFIRMED, e);
	if (st == NULL)
		return -1;
	rc = sqlite3_bind_int64(st, 1, before);
	if ((k = sq_changed(w, st, rc, e)) == -1)
		return -1;
	*n = (size_t)k;
	return 0;
}

/* Delete tokens that expired by now, used or not; *n how many. */
int
sq_token_purge(struct store *s, int64_t now, size_t *n, struct err *e)
{
	struct sq_conn *w = sq_w(s);
	sqlite3_stmt *st;
	int64_t k;
	int rc;

	*n = 0;
	st = sq_prep(w, SQ_TOKEN_PURGE, "DELETE FROM tokens "
	    "WHERE expires <= ?1", e);
	if (st == NULL)
		return -1;
	rc = sqlite3_bind_int64(st, 1, now);
	if ((k = sq_changed(w, st, rc, e)) == -1)
		return -1;
	*n = (size_t)k;
	return 0;
}

/*
 * Record nonce until `until`; 1 if it is already recorded (a replay),
 * whatever its `until`, and then nothing changes.
 */
int
sq_nonce_use(struct store *s, const char *nonce, int64_t until,
    struct err *e)
{
	struct sq_conn *w = sq_w(s);
	sqlite3_stmt *st;
	int64_t n;
	int rc;

	st = sq_prep(w, SQ_NONCE_USE, "INSERT INTO nonces (nonce, until) "
	    "VALUES (?1, ?2) ON CONFLICT(nonce) DO NOTHING", e);
	if (st == NULL)
		return -1;
	rc = sqlite3_bind_text(st, 1, nonce, -1, SQLITE_STATIC);
	rc |= sqlite3_bind_int64(st, 2, until);
	if ((n = sq_changed(w, st, rc, e)) == -1)
		return -1;
	return n == 0 ? 1 : 0;
}

/* Delete rows of what matched: *n how many. */
static int
sq_purge(struct sq_conn *w, enum sq_slot id, const char *sql, int64_t before,
    size_t *n, struct err *e)
{
	sqlite3_stmt *st;
	int64_t k;

	if ((st = sq_prep(w, id, sql, e)) == NULL)
		return -1;
	k = sq_changed(w, st, sqlite3_bind_int64(st, 1, before), e);
	if (k == -1)
		return -1;
	if (n != NULL)
		*n = (size_t)k;
	return 0;
}

/* Forget mail sent, or refused for good, before `before`. */
int
sq_outbox_purge(struct store *s, int64_t before, size_t *n, struct err *e)
{
	return sq_purge(sq_w(s), SQ_OUTBOX_PURGE, "DELETE FROM outbox WHERE "
	    "(sent IS NOT NULL AND sent < ?1) OR "
	    "(failed IS NOT NULL AND failed < ?1)", before, n, e);
}

/* Forget rate marks older than `before`. */
int
sq_rate_purge(struct store *s, int64_t before, size_t *n, struct err *e)
{
	return sq_purge(sq_w(s), SQ_RATE_PURGE, "DELETE FROM mail_rate WHERE "
	    "last < ?1", before, n, e);
}

/* Forget the nonces whose `until` has come. */
int
sq_nonce_purge(struct store *s, int64_t now, struct err *e)
{
	struct sq_conn *w = sq_w(s);
	sqlite3_stmt *st;
	int rc;

	st = sq_prep(w, SQ_NONCE_PURGE, "DELETE FROM nonces WHERE until < ?1",
	    e);
	if (st == NULL)
		return -1;
	rc = sqlite3_bind_int64(st, 1, now);
	return sq_run(w, st, rc, e);
}

/* Keep, replace or (len 0) delete fpr's recovery data. */
int
sq_recovery_put(struct store *s, const char *fpr, const uint8_t *data,
    size_t len, int64_t now, struct err *e)
{
	struct sq_conn *w = sq_w(s);
	sqlite3_stmt *st;
	int64_t n;
	int rc;

	if (len == 0) {
		st = sq_prep(w, SQ_RECOVERY_DEL, "DELETE FROM recovery WHERE "
		    "cid = (SELECT id FROM certs WHERE fpr = ?1)", e);
		if (st == NULL)
			return -1;
		rc = sqlite3_bind_text(st, 1, fpr, -1, SQLITE_STATIC);
		return sq_run(w, st, rc, e);
	}
	st = sq_prep(w, SQ_RECOVERY_PUT, "INSERT INTO recovery (cid, data, "
	    "updated) SELECT id, ?2, ?3 FROM certs WHERE fpr = ?1 "
	    "ON CONFLICT(cid) DO UPDATE SET data = excluded.data, "
	    "updated = excluded.updated", e);
	if (st == NULL)
		return -1;
	rc = sqlite3_bind_text(st, 1, fpr, -1, SQLITE_STATIC);
	rc |= sq_bind_bytes(st, 2, data, len);
	rc |= sqlite3_bind_int64(st, 3, now);
	if ((n = sq_changed(w, st, rc, e)) == -1)
		return -1;
	return n == 0 ? 1 : 0;
}

/* fpr's recovery data; 1 if none. */
int
sq_recovery_get(struct store *s, const char *fpr, uint8_t **data,
    size_t *len, int64_t *updated, struct err *e)
{
	struct sq_conn *w = sq_w(s);
	sqlite3_stmt *st;
	int rc;

	*data = NULL;
	*len = 0;
	st = sq_prep(w, SQ_RECOVERY_GET, "SELECT r.data, r.updated FROM "
	    "recovery r JOIN certs c ON c.id = r.cid WHERE c.fpr = ?1", e);
	if (st == NULL)
		return -1;
	rc = sqlite3_bind_text(st, 1, fpr, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*data = (uint8_t *)sq_col_dup(st, 0, len);
		*updated = sqlite3_column_int64(st, 1);
		sqlite3_reset(st);
		return 0;
	}
	sqlite3_reset(st);
	if (rc == SQLITE_DONE)
		return 1;
	return sq_err(w->db, rc, e);
}
