/*
 * store_sqlite_limits: what the abuse limits read and trim on the SQLite
 * backend: keys per client, room for unconfirmed keys (the totals the
 * triggers of migration 8 keep in the unconfirmed table) and mail sent
 * lately.  Every call runs on the connection of the caller's transaction.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store_sqlite_int.h"
#include "xmalloc.h"

/* One victim of unconfirmed_room. */
struct sq_victim {
	char fpr[FPR_LEN + 1];
};

/* Step a statement that returns one row of two integers into a, b (a
 * NULL column reads 0). */
static int
sq_two(struct sq_conn *c, sqlite3_stmt *st, int bindrc, int64_t *a,
    int64_t *b, struct err *e)
{
	int rc = bindrc == SQLITE_OK ? sqlite3_step(st) : bindrc;

	if (rc == SQLITE_ROW) {
		*a = sqlite3_column_int64(st, 0);
		*b = sqlite3_column_int64(st, 1);
		rc = SQLITE_DONE;
	}
	if (rc != SQLITE_DONE)
		sq_err(c->db, rc, e);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* Keys client stored first since `since` that never had an address. */
int
sq_client_keys(struct store *s, const char *client, int64_t since,
    int64_t *n, int64_t *oldest, struct err *e)
{
	struct sq_conn *c = sq_conn_for(s);
	sqlite3_stmt *st;
	int rc;

	*n = *oldest = 0;
	/* certs_client covers it: no cert row (nor its blobs) is read */
	st = sq_prep(c, SQ_CLIENT_KEYS, "SELECT count(*), min(first_stored) "
	    "FROM certs WHERE client = ?1 AND had_address = 0 AND "
	    "first_stored >= ?2", e);
	if (st == NULL)
		return -1;
	rc = sqlite3_bind_text(st, 1, client, -1, SQLITE_STATIC);
	rc |= sqlite3_bind_int64(st, 2, since);
	return sq_two(c, st, rc, n, oldest, e);
}

/* Forget who stored the keys first stored before `before`. */
int
sq_client_forget(struct store *s, int64_t before, size_t *n,
    struct err *e)
{
	struct sq_conn *c = sq_conn_for(s);
	sqlite3_stmt *st;
	int rc;

	*n = 0;
	st = sq_prep(c, SQ_CLIENT_FORGET, "UPDATE certs SET client = NULL "
	    "WHERE client IS NOT NULL AND first_stored < ?1", e);
	if (st == NULL)
		return -1;
	rc = sqlite3_bind_int64(st, 1, before);
	if (sq_run(c, st, rc, e) == -1)
		return -1;
	*n = (size_t)sqlite3_changes64(c->db);
	return 0;
}

/* The unconfirmed keys' count and total size (the triggers' row). */
static int
sq_room_total(struct sq_conn *c, int64_t *keys, int64_t *bytes,
    struct err *e)
{
	sqlite3_stmt *st;

	st = sq_prep(c, SQ_ROOM_TOTAL, "SELECT keys, bytes FROM unconfirmed "
	    "WHERE id = 1", e);
	if (st == NULL)
		return -1;
	return sq_two(c, st, SQLITE_OK, keys, bytes, e);
}

/*
 * The oldest unconfirmed keys but keep whose sizes add up to at least
 * need, into *v (caller frees); 1 when all of them add up to less.
 */
static int
sq_room_pick(struct sq_conn *c, int64_t need, const char *keep,
    struct sq_victim **v, size_t *nv, struct err *e)
{
	sqlite3_stmt *st;
	size_t cap = 0;
	int64_t got = 0;
	int rc;

	*v = NULL;
	*nv = 0;
	/* certs_room holds the order and each size, so no row is read
	 * past its blobs (bytes is the last column), only fpr at its
	 * start; the address test only guards rows written behind
	 * addr_set's back, as cert_purge_unconfirmed's */
	st = sq_prep(c, SQ_ROOM_SCAN, "SELECT fpr, bytes FROM certs "
	    "INDEXED BY certs_room WHERE had_address = 0 AND revoked = 0 AND "
	    "fpr <> ?1 AND NOT EXISTS (SELECT 1 FROM addresses a WHERE "
	    "a.cid = certs.id) ORDER BY first_stored, id", e);
	if (st == NULL)
		return -1;
	rc = sqlite3_bind_text(st, 1, keep != NULL ? keep : "", -1,
	    SQLITE_STATIC);
	while (rc == SQLITE_OK && got < need &&
	    (rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (*nv == cap) {
			cap = cap ? cap * 2 : 16;
			*v = xrealloc(*v, cap * sizeof(**v));
		}
		sq_col_cpy(st, 0, (*v)[*nv].fpr, sizeof((*v)[0].fpr));
		(*nv)++;
		got += sqlite3_column_int64(st, 1);
		rc = SQLITE_OK;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_OK && rc != SQLITE_DONE) {
		free(*v);
		*v = NULL;
		return sq_err(c->db, rc, e);
	}
	return got >= need ? 0 : 1;
}

/* Delete the oldest unconfirmed keys but keep until the rest fit max. */
int
sq_unconfirmed_room(struct store *s, uint64_t max, const char *keep,
    size_t *n, struct err *e)
{
	struct sq_conn *c = sq_conn_for(s);
	struct sq_victim *v = NULL;
	int64_t keys, bytes;
	size_t nv = 0, i;
	int rc;

	*n = 0;
	if (sq_room_total(c, &keys, &bytes, e) == -1)
		return -1;
	if (bytes <= 0 || (uint64_t)bytes <= max)
		return 0;
	/* bytes > max, so max fits an int64_t */
	rc = sq_room_pick(c, bytes - (int64_t)max, keep, &v, &nv, e);
	for (i = 0; rc == 0 && i < nv; i++)
		if ((rc = sq_cert_del(s, v[i].fpr, e)) == 1)
			rc = err_set(e, ERR_INTERNAL, "key %s vanished",
			    v[i].fpr);
	if (rc == 0)
		*n = nv;
	free(v);
	return rc;
}

/* Rows sent at or after since: how many, and the earliest time. */
int
sq_outbox_sent_since(struct store *s, int64_t since, int64_t *n,
    int64_t *oldest, struct err *e)
{
	struct sq_conn *c = sq_conn_for(s);
	sqlite3_stmt *st;
	int rc;

	*n = *oldest = 0;
	/* outbox_due's index (sent, next_attempt) holds the range */
	st = sq_prep(c, SQ_OUTBOX_SENT, "SELECT count(*), min(sent) "
	    "FROM outbox WHERE sent >= ?1", e);
	if (st == NULL)
		return -1;
	rc = sqlite3_bind_int64(st, 1, since);
	return sq_two(c, st, rc, n, oldest, e);
}
