/*
 * store_sqlite_cert: certs, their key ids and published addresses on the
 * writer connection.  Every call assumes the caller holds store_begin.
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "store_sqlite_int.h"
#include "xmalloc.h"

/* The writer connection. */
static struct sq_conn *
sq_w(struct store *s)
{
	return sq_conn_for(s);
}

/* Fill out's subkeys in the order cert_put stored them. */
static int
sq_cert_subs(struct sq_conn *w, const char *fpr, struct store_cert *out,
    struct err *e)
{
	sqlite3_stmt *st;
	size_t cap = 0;
	int rc;

	st = sq_prep(w, SQ_CERT_SUBS, "SELECT fpr, keyid FROM keyids "
	    "WHERE cert = ?1 AND fpr <> cert ORDER BY pos", e);
	if (st == NULL)
		return -1;
	rc = sqlite3_bind_text(st, 1, fpr, -1, SQLITE_STATIC);
	while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (out->nsubs == cap) {
			cap = cap ? cap * 2 : 4;
			out->subs = xrealloc(out->subs,
			    cap * sizeof(*out->subs));
		}
		sq_col_cpy(st, 0, out->subs[out->nsubs].fpr,
		    sizeof(out->subs[0].fpr));
		sq_col_cpy(st, 1, out->subs[out->nsubs].keyid,
		    sizeof(out->subs[0].keyid));
		out->nsubs++;
		rc = SQLITE_OK;
	}
	if (rc != SQLITE_DONE)
		sq_err(w->db, rc, e);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* Everything kept about the cert whose primary is fpr; 1 if none. */
int
sq_cert_get(struct store *s, const char *fpr, struct store_cert *out,
    struct err *e)
{
	struct sq_conn *w = sq_w(s);
	sqlite3_stmt *st;
	int rc, ret = -1;

	memset(out, 0, sizeof(*out));
	st = sq_prep(w, SQ_CERT_GET, "SELECT fpr, keyid, algo, bits, "
	    "created, expires, revoked, full, published, hkp_index, etag, "
	    "updated, first_stored, had_address, client FROM certs "
	    "WHERE fpr = ?1", e);
	if (st == NULL)
		return -1;
	rc = sqlite3_bind_text(st, 1, fpr, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		sq_col_cpy(st, 0, out->fpr, sizeof(out->fpr));
		sq_col_cpy(st, 1, out->keyid, sizeof(out->keyid));
		out->algo = sqlite3_column_int(st, 2);
		out->bits = (unsigned)sqlite3_column_int64(st, 3);
		out->created = sqlite3_column_int64(st, 4);
		out->expires = sqlite3_column_int64(st, 5);
		out->revoked = sqlite3_column_int(st, 6) != 0;
		out->full = (uint8_t *)sq_col_dup(st, 7, &out->full_len);
		out->published = sq_col_dup(st, 8, &out->published_len);
		out->hkp_index = sq_col_dup(st, 9, NULL);
		sq_col_cpy(st, 10, out->etag, sizeof(out->etag));
		out->updated = sqlite3_column_int64(st, 11);
		out->first_stored = sqlite3_column_int64(st, 12);
		out->had_address = sqlite3_column_int(st, 13) != 0;
		sq_col_cpy(st, 14, out->client, sizeof(out->client));
		ret = 0;
	} else if (rc == SQLITE_DONE)
		ret = 1;
	else
		sq_err(w->db, rc, e);
	sqlite3_reset(st);
	if (ret == 0 && sq_cert_subs(w, out->fpr, out, e) == -1) {
		store_cert_release(out);
		ret = -1;
	}
	return ret;
}

/* Index one key (primary or subkey) of cert for lookup. */
static int
sq_keyid_add(struct sq_conn *w, const char *fpr, const char *keyid,
    const char *cert, size_t pos, struct err *e)
{
	sqlite3_stmt *st;
	int rc;

	/* A cert listing the same subkey twice is not our problem. */
	st = sq_prep(w, SQ_KEYIDS_ADD, "INSERT INTO keyids (fpr, keyid, cert, "
	    "pos, cid) VALUES (?1, ?2, ?3, ?4, (SELECT id FROM certs WHERE "
	    "fpr = ?3)) ON CONFLICT DO NOTHING", e);
	if (st == NULL)
		return -1;
	rc = sqlite3_bind_text(st, 1, fpr, -1, SQLITE_STATIC);
	rc |= sqlite3_bind_text(st, 2, keyid, -1, SQLITE_STATIC);
	rc |= sqlite3_bind_text(st, 3, cert, -1, SQLITE_STATIC);
	rc |= sqlite3_bind_int64(st, 4, (sqlite3_int64)pos);
	return sq_run(w, st, rc, e);
}

/* Replace the key index of c: its primary and every subkey. */
static int
sq_keyids_put(struct sq_conn *w, const struct store_cert *c, struct err *e)
{
	sqlite3_stmt *st;
	int rc;

	st = sq_prep(w, SQ_KEYIDS_DEL, "DELETE FROM keyids WHERE cert = ?1", e);
	if (st == NULL)
		return -1;
	rc = sqlite3_bind_text(st, 1, c->fpr, -1, SQLITE_STATIC);
	if (sq_run(w, st, rc, e) == -1)
		return -1;
	if (sq_keyid_add(w, c->fpr, c->keyid, c->fpr, 0, e) == -1)
		return -1;
	for (size_t i = 0; i < c->nsubs; i++)
		if (sq_keyid_add(w, c->subs[i].fpr, c->subs[i].keyid, c->fpr,
		    i + 1, e) == -1)
			return -1;
	return 0;
}

/* Replace c's WKD forms by c->wkd. */
static int
sq_wkd_put(struct sq_conn *w, const struct store_cert *c, struct err *e)
{
	sqlite3_stmt *st;
	size_t i;
	int rc;

	st = sq_prep(w, SQ_WKD_DEL, "DELETE FROM wkd WHERE cid = "
	    "(SELECT id FROM certs WHERE fpr = ?1)", e);
	if (st == NULL)
		return -1;
	rc = sqlite3_bind_text(st, 1, c->fpr, -1, SQLITE_STATIC);
	if (sq_run(w, st, rc, e) == -1)
		return -1;
	for (i = 0; i < c->nwkd; i++) {
		st = sq_prep(w, SQ_WKD_ADD, "INSERT INTO wkd (cid, address, hu, "
		    "data) SELECT id, ?2, ?3, ?4 FROM certs WHERE fpr = ?1", e);
		if (st == NULL)
			return -1;
		rc = sqlite3_bind_text(st, 1, c->fpr, -1, SQLITE_STATIC);
		rc |= sqlite3_bind_text(st, 2, c->wkd[i].address, -1,
		    SQLITE_STATIC);
		rc |= sqlite3_bind_text(st, 3, c->wkd[i].key, -1,
		    SQLITE_STATIC);
		rc |= sq_bind_bytes(st, 4, c->wkd[i].data, c->wkd[i].len);
		if (sq_run(w, st, rc, e) == -1)
			return -1;
	}
	return 0;
}

/*
 * Insert or replace cert c and its key index.  A new cert is first stored
 * at c->updated, by c->client; an update keeps first_stored, had_address
 * and client.
 */
int
sq_cert_put(struct store *s, const struct store_cert *c, struct err *e)
{
	struct sq_conn *w = sq_w(s);
	sqlite3_stmt *st;
	int rc;

	st = sq_prep(w, SQ_CERT_PUT, "INSERT INTO certs (fpr, keyid, algo, "
	    "bits, created, expires, revoked, full, published, hkp_index, "
	    "etag, updated, first_stored, client, bytes) VALUES (?1, ?2, ?3, "
	    "?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?12, ?13, ?14) "
	    "ON CONFLICT(fpr) DO UPDATE SET keyid = excluded.keyid, "
	    "algo = excluded.algo, bits = excluded.bits, "
	    "created = excluded.created, expires = excluded.expires, "
	    "revoked = excluded.revoked, full = excluded.full, "
	    "published = excluded.published, hkp_index = excluded.hkp_index, "
	    "etag = excluded.etag, updated = excluded.updated, "
	    "bytes = excluded.bytes, "
	    /* other bytes than the last upload's: that upload's answer no
	     * longer holds */
	    "upload_hash = CASE WHEN certs.full = excluded.full "
	    "THEN certs.upload_hash ELSE NULL END", e);
	if (st == NULL)
		return -1;
	rc = sqlite3_bind_text(st, 1, c->fpr, -1, SQLITE_STATIC);
	rc |= sqlite3_bind_text(st, 2, c->keyid, -1, SQLITE_STATIC);
	rc |= sqlite3_bind_int(st, 3, c->algo);
	rc |= sqlite3_bind_int64(st, 4, c->bits);
	rc |= sqlite3_bind_int64(st, 5, c->created);
	rc |= sqlite3_bind_int64(st, 6, c->expires);
	rc |= sqlite3_bind_int(st, 7, c->revoked ? 1 : 0);
	rc |= sq_bind_bytes(st, 8, c->full, c->full_len);
	rc |= sq_bind_bytes(st, 9, c->published, c->published_len);
	rc |= sqlite3_bind_text(st, 10, c->hkp_index != NULL ? c->hkp_index :
	    "", -1, SQLITE_STATIC);
	rc |= sqlite3_bind_text(st, 11, c->etag, -1, SQLITE_STATIC);
	rc |= sqlite3_bind_int64(st, 12, c->updated);
	rc |= c->client[0] != '\0' ? sqlite3_bind_text(st, 13, c->client, -1,
	    SQLITE_STATIC) : sqlite3_bind_null(st, 13);
	rc |= sqlite3_bind_int64(st, 14, (sqlite3_int64)(c->full_len +
	    c->published_len + (c->hkp_index != NULL ? strlen(c->hkp_index) :
	    0)));
	if (sq_run(w, st, rc, e) == -1)
		return -1;
	if (sq_keyids_put(w, c, e) == -1)
		return -1;
	return sq_wkd_put(w, c, e);
}

/* The fingerprint address is published under; 1 if none. */
int
sq_addr_owner(struct store *s, const char *address,
    char fpr[FPR_LEN + 1], struct err *e)
{
	struct sq_conn *w = sq_w(s);
	sqlite3_stmt *st;
	int rc, ret = -1;

	st = sq_prep(w, SQ_ADDR_OWNER,
	    "SELECT c.fpr FROM addresses a JOIN certs c ON c.id = a.cid "
	    "WHERE a.address = ?1", e);
	if (st == NULL)
		return -1;
	rc = sqlite3_bind_text(st, 1, address, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		sq_col_cpy(st, 0, fpr, FPR_LEN + 1);
		ret = 0;
	} else if (rc == SQLITE_DONE)
		ret = 1;
	else
		sq_err(w->db, rc, e);
	sqlite3_reset(st);
	return ret;
}

/* The addresses published for fpr, sorted; free with store_addrs_free. */
int
sq_addr_list(struct store *s, const char *fpr, char ***addrs, size_t *n,
    struct err *e)
{
	struct sq_conn *w = sq_w(s);
	sqlite3_stmt *st;
	size_t cap = 0;
	int rc;

	*addrs = NULL;
	*n = 0;
	st = sq_prep(w, SQ_ADDR_LIST, "SELECT address FROM addresses "
	    "WHERE cid = (SELECT id FROM certs WHERE fpr = ?1) "
	    "ORDER BY address", e);
	if (st == NULL)
		return -1;
	rc = sqlite3_bind_text(st, 1, fpr, -1, SQLITE_STATIC);
	while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 4;
			*addrs = xrealloc(*addrs, cap * sizeof(**addrs));
		}
		(*addrs)[(*n)++] = sq_col_dup(st, 0, NULL);
		rc = SQLITE_OK;
	}
	if (rc != SQLITE_DONE) {
		sq_err(w->db, rc, e);
		store_addrs_free(*addrs, *n);
		*addrs = NULL;
		*n = 0;
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

/*
 * Publish address for fpr, taking it from any other key; it counts as
 * confirmed at now, and fpr as a key that has had an address.
 */
int
sq_addr_set(struct store *s, const char *address, const char *fpr,
    int64_t now, struct err *e)
{
	struct sq_conn *w = sq_w(s);
	sqlite3_stmt *st;
	int rc;

	st = sq_prep(w, SQ_ADDR_SET, "INSERT INTO addresses (address, cid, "
	    "published, verified, asked) VALUES (?1, (SELECT id FROM certs "
	    "WHERE fpr = ?2), ?3, ?3, 0) "
	    "ON CONFLICT(address) DO UPDATE SET cid = excluded.cid, "
	    "published = excluded.published, verified = excluded.verified, "
	    "asked = 0", e);
	if (st == NULL)
		return -1;
	rc = sqlite3_bind_text(st, 1, address, -1, SQLITE_STATIC);
	rc |= sqlite3_bind_text(st, 2, fpr, -1, SQLITE_STATIC);
	rc |= sqlite3_bind_int64(st, 3, now);
	if (sq_run(w, st, rc, e) == -1)
		return -1;
	st = sq_prep(w, SQ_ADDR_HAD, "UPDATE certs SET had_address = 1 "
	    "WHERE fpr = ?1 AND had_address = 0", e);
	if (st == NULL)
		return -1;
	rc = sqlite3_bind_text(st, 1, fpr, -1, SQLITE_STATIC);
	return sq_run(w, st, rc, e);
}

/* Unpublish address; not an error if it was not published. */
int
sq_addr_del(struct store *s, const char *address, struct err *e)
{
	struct sq_conn *w = sq_w(s);
	sqlite3_stmt *st;
	int rc;

	st = sq_prep(w, SQ_ADDR_DEL, "DELETE FROM addresses WHERE address = ?1",
	    e);
	if (st == NULL)
		return -1;
	rc = sqlite3_bind_text(st, 1, address, -1, SQLITE_STATIC);
	return sq_run(w, st, rc, e);
}

/* Remember the hash and the addresses of fpr's last upload. */
int
sq_upload_mark(struct store *s, const char *fpr,
    const uint8_t hash[STORE_HASH_LEN], const struct store_upload_addr *addrs,
    size_t n, struct err *e)
{
	struct sq_conn *w = sq_conn_for(s);
	sqlite3_stmt *st;
	struct buf lines;
	int rc;

	/* the column keeps them one a line, '+' live or '-' revoked (this
	 * backend's encoding; upload_view reads it back) */
	buf_init(&lines, n * (sizeof(((struct store_addr *)0)->address) + 2) +
	    1);
	for (size_t i = 0; i < n; i++)
		buf_printf(&lines, "%c%s\n", addrs[i].live ? '+' : '-',
		    addrs[i].address);
	if (buf_failed(&lines)) {
		buf_release(&lines);
		return err_set(e, ERR_INTERNAL, "upload_mark: addresses too "
		    "long");
	}
	st = sq_prep(w, SQ_UPLOAD_MARK, "UPDATE certs SET upload_hash = ?2, "
	    "upload_addrs = ?3 WHERE fpr = ?1", e);
	if (st == NULL) {
		buf_release(&lines);
		return -1;
	}
	rc = sqlite3_bind_text(st, 1, fpr, -1, SQLITE_STATIC);
	rc |= sq_bind_bytes(st, 2, hash, STORE_HASH_LEN);
	rc |= sqlite3_bind_text(st, 3, lines.len ? lines.data : "", -1,
	    SQLITE_TRANSIENT);
	buf_release(&lines);
	return sq_run(w, st, rc, e);
}
