/*
 * store_sqlite_xfer: what keydird export and import need from the SQLite
 * backend: a snapshot read transaction, every cert in fingerprint order
 * with its published addresses, and writing an address or a cert's
 * lifecycle marks back with their exact dates.  The writer connection.
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

/* Fill c->addrs with the addresses published for c->fpr, sorted. */
static int
sq_scan_addrs(struct sq_conn *w, struct store_cert *c, struct err *e)
{
	struct store_addr *a;
	sqlite3_stmt *st;
	size_t cap = 0;
	int rc;

	st = sq_prep(w, SQ_SCAN_ADDRS, "SELECT address, published, verified, "
	    "asked FROM addresses WHERE cid = (SELECT id FROM certs WHERE "
	    "fpr = ?1) ORDER BY address", e);
	if (st == NULL)
		return -1;
	rc = sqlite3_bind_text(st, 1, c->fpr, -1, SQLITE_STATIC);
	while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (c->naddrs == cap) {
			cap = cap ? cap * 2 : 2;
			c->addrs = xrealloc(c->addrs, cap * sizeof(*c->addrs));
		}
		a = &c->addrs[c->naddrs++];
		memset(a, 0, sizeof(*a));
		sq_col_cpy(st, 0, a->address, sizeof(a->address));
		memcpy(a->fpr, c->fpr, sizeof(a->fpr));
		a->published = sqlite3_column_int64(st, 1);
		a->verified = sqlite3_column_int64(st, 2);
		a->asked = sqlite3_column_int64(st, 3);
		rc = SQLITE_OK;
	}
	if (rc != SQLITE_DONE)
		sq_err(w->db, rc, e);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* Fill one scanned cert from the columns of SQ_CERTS_SCAN. */
static void
sq_scan_row(sqlite3_stmt *st, struct store_cert *c)
{
	memset(c, 0, sizeof(*c));
	sq_col_cpy(st, 0, c->fpr, sizeof(c->fpr));
	sq_col_cpy(st, 1, c->keyid, sizeof(c->keyid));
	c->full = (uint8_t *)sq_col_dup(st, 2, &c->full_len);
	sq_col_cpy(st, 3, c->etag, sizeof(c->etag));
	c->updated = sqlite3_column_int64(st, 4);
	c->first_stored = sqlite3_column_int64(st, 5);
	c->had_address = sqlite3_column_int(st, 6) != 0;
}

/* Up to max certs after fpr `after`, in fpr order, with their addresses. */
int
sq_certs_scan(struct store *s, const char *after, size_t max,
    struct store_cert **rows, size_t *n, struct err *e)
{
	struct sq_conn *w = sq_w(s);
	sqlite3_stmt *st;
	size_t cap = 0, i;
	int rc;

	*rows = NULL;
	*n = 0;
	st = sq_prep(w, SQ_CERTS_SCAN, "SELECT fpr, keyid, full, etag, "
	    "updated, first_stored, had_address FROM certs WHERE fpr > ?1 "
	    "ORDER BY fpr LIMIT ?2", e);
	if (st == NULL)
		return -1;
	rc = sqlite3_bind_text(st, 1, after, -1, SQLITE_STATIC);
	rc |= sqlite3_bind_int64(st, 2, max > INT64_MAX ? INT64_MAX :
	    (int64_t)max);
	while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			*rows = xrealloc(*rows, cap * sizeof(**rows));
		}
		sq_scan_row(st, &(*rows)[(*n)++]);
		rc = SQLITE_OK;
	}
	if (rc != SQLITE_DONE)
		sq_err(w->db, rc, e);
	sqlite3_reset(st);
	for (i = 0; rc == SQLITE_DONE && i < *n; i++)
		if (sq_scan_addrs(w, &(*rows)[i], e) == -1)
			rc = SQLITE_ERROR;
	if (rc != SQLITE_DONE) {
		store_certs_free(*rows, *n);
		*rows = NULL;
		*n = 0;
		return -1;
	}
	return 0;
}

/* Up to max WKD forms of published bindings after key `after`. */
int
sq_wkd_scan(struct store *s, const char *after, size_t max,
    struct store_wkd **rows, size_t *n, struct err *e)
{
	struct sq_conn *w = sq_w(s);
	struct store_wkd *r;
	sqlite3_stmt *st;
	size_t cap = 0;
	int rc;

	*rows = NULL;
	*n = 0;
	st = sq_prep(w, SQ_WKD_SCAN, "SELECT w.address, w.hu, w.data "
	    "FROM wkd w JOIN addresses a ON a.address = w.address AND "
	    "a.cid = w.cid WHERE w.hu > ?1 ORDER BY w.hu LIMIT ?2", e);
	if (st == NULL)
		return -1;
	rc = sqlite3_bind_text(st, 1, after, -1, SQLITE_STATIC);
	rc |= sqlite3_bind_int64(st, 2, max > INT64_MAX ? INT64_MAX :
	    (int64_t)max);
	while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			*rows = xrealloc(*rows, cap * sizeof(**rows));
		}
		r = &(*rows)[(*n)++];
		memset(r, 0, sizeof(*r));
		sq_col_cpy(st, 0, r->address, sizeof(r->address));
		sq_col_cpy(st, 1, r->key, sizeof(r->key));
		r->data = (uint8_t *)sq_col_dup(st, 2, &r->len);
		rc = SQLITE_OK;
	}
	if (rc != SQLITE_DONE)
		sq_err(w->db, rc, e);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		store_wkd_free(*rows, *n);
		*rows = NULL;
		*n = 0;
		return -1;
	}
	return 0;
}

/*
 * Publish a->address for a->fpr with a's dates, taking it from any other
 * key, and mark a->fpr as a key that has had an address.
 */
int
sq_addr_restore(struct store *s, const struct store_addr *a, struct err *e)
{
	struct sq_conn *w = sq_w(s);
	sqlite3_stmt *st;
	int rc;

	st = sq_prep(w, SQ_ADDR_RESTORE, "INSERT INTO addresses (address, "
	    "cid, published, verified, asked) VALUES (?1, (SELECT id FROM "
	    "certs WHERE fpr = ?2), ?3, ?4, ?5) "
	    "ON CONFLICT(address) DO UPDATE SET cid = excluded.cid, "
	    "published = excluded.published, verified = excluded.verified, "
	    "asked = excluded.asked", e);
	if (st == NULL)
		return -1;
	rc = sqlite3_bind_text(st, 1, a->address, -1, SQLITE_STATIC);
	rc |= sqlite3_bind_text(st, 2, a->fpr, -1, SQLITE_STATIC);
	rc |= sqlite3_bind_int64(st, 3, a->published);
	rc |= sqlite3_bind_int64(st, 4, a->verified);
	rc |= sqlite3_bind_int64(st, 5, a->asked);
	if (sq_run(w, st, rc, e) == -1)
		return -1;
	st = sq_prep(w, SQ_ADDR_HAD, "UPDATE certs SET had_address = 1 "
	    "WHERE fpr = ?1 AND had_address = 0", e);
	if (st == NULL)
		return -1;
	rc = sqlite3_bind_text(st, 1, a->fpr, -1, SQLITE_STATIC);
	return sq_run(w, st, rc, e);
}

/* Set fpr's first_stored and had_address as given; 1 if no such cert. */
int
sq_cert_restore_meta(struct store *s, const char *fpr, int64_t first_stored,
    bool had_address, struct err *e)
{
	struct sq_conn *w = sq_w(s);
	sqlite3_stmt *st;
	int rc;

	st = sq_prep(w, SQ_CERT_META, "UPDATE certs SET first_stored = ?2, "
	    "had_address = ?3 WHERE fpr = ?1", e);
	if (st == NULL)
		return -1;
	rc = sqlite3_bind_text(st, 1, fpr, -1, SQLITE_STATIC);
	rc |= sqlite3_bind_int64(st, 2, first_stored);
	rc |= sqlite3_bind_int(st, 3, had_address ? 1 : 0);
	if (sq_run(w, st, rc, e) == -1)
		return -1;
	return sqlite3_changes64(w->db) == 0 ? 1 : 0;
}
