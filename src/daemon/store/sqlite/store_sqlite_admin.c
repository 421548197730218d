/*
 * store_sqlite_admin: the operator's view of the SQLite backend (keydird
 * state): row counts, one key with everything stored for it, and the
 * outbox without its messages.  Read-only; every call runs on the
 * connection of the caller's transaction (begin_read's reader, or the
 * writer inside begin).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store_sqlite_int.h"
#include "xmalloc.h"

/* Grow *p (elements of sz bytes) so that index n fits. */
static void *
sq_grow(void *p, size_t n, size_t *cap, size_t sz)
{
	if (n < *cap)
		return p;
	*cap = *cap ? *cap * 2 : 4;
	return xrealloc(p, *cap * sz);
}

/* The counts of one statement's columns into v[0..n-1]. */
static int
sq_counts(struct sq_conn *c, sqlite3_stmt *st, int64_t *v, int n,
    struct err *e)
{
	int rc = sqlite3_step(st);

	if (rc == SQLITE_ROW) {
		for (int i = 0; i < n; i++)
			v[i] = sqlite3_column_int64(st, i);
		rc = sqlite3_step(st);
	}
	if (rc != SQLITE_DONE)
		sq_err(c->db, rc, e);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* Token counts by kind, added to the totals. */
static int
sq_token_counts(struct sq_conn *c, struct store_stats *out, struct err *e)
{
	struct store_count *k;
	sqlite3_stmt *st;
	int64_t total, unused;
	int rc;

	st = sq_prep(c, SQ_STATS_TOKENS, "SELECT kind, count(*), "
	    "sum(used = 0) FROM tokens GROUP BY kind", e);
	if (st == NULL)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		total = sqlite3_column_int64(st, 1);
		unused = sqlite3_column_int64(st, 2);
		out->tokens.total += total;
		out->tokens.unused += unused;
		switch (sqlite3_column_int(st, 0)) {
		case TOKEN_VERIFY:
			k = &out->verify;
			break;
		case TOKEN_MANAGE:
			k = &out->manage;
			break;
		case TOKEN_REVERIFY:
			k = &out->reverify;
			break;
		case TOKEN_RECOVERY:
			k = &out->recovery;
			break;
		default:
			continue;
		}
		k->total += total;
		k->unused += unused;
	}
	if (rc != SQLITE_DONE)
		sq_err(c->db, rc, e);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* Row counts of every table that holds state. */
int
sq_stats(struct store *s, struct store_stats *out, struct err *e)
{
	struct sq_conn *c = sq_conn_for(s);
	sqlite3_stmt *st;
	int64_t v[11];

	memset(out, 0, sizeof(*out));
	st = sq_prep(c, SQ_STATS, "SELECT (SELECT count(*) FROM certs), "
	    "(SELECT count(*) FROM addresses), (SELECT count(*) FROM keyids), "
	    "(SELECT count(*) FROM nonces), (SELECT count(*) FROM mail_rate), "
	    "(SELECT count(*) FROM outbox), "
	    "(SELECT count(*) FROM outbox WHERE sent IS NULL AND "
	    "failed IS NULL), "
	    "(SELECT count(*) FROM recovery), "
	    "(SELECT keys FROM unconfirmed), (SELECT bytes FROM unconfirmed), "
	    "(SELECT count(*) FROM outbox WHERE failed IS NOT NULL)", e);
	if (st == NULL || sq_counts(c, st, v, 11, e) == -1)
		return -1;
	out->keys = v[0];
	out->addresses = v[1];
	out->keyids = v[2];
	out->nonces = v[3];
	out->rate_marks = v[4];
	out->outbox = v[5];
	out->outbox_unsent = v[6];
	out->outbox_failed = v[10];
	out->outbox_sent = v[5] - v[6] - v[10];
	out->recovery_data = v[7];
	out->unconfirmed = v[8];
	out->unconfirmed_bytes = v[9];
	return sq_token_counts(c, out, e);
}

/* The index entries whose cert is out->fpr, primary (pos 0) first. */
static int
sq_state_keyids(struct sq_conn *c, struct store_cert_state *out,
    struct err *e)
{
	struct store_subkey *k;
	sqlite3_stmt *st;
	size_t cap = 0;
	int rc;

	st = sq_prep(c, SQ_STATE_KEYIDS, "SELECT fpr, keyid FROM keyids "
	    "WHERE cert = ?1 ORDER BY pos, fpr", e);
	if (st == NULL)
		return -1;
	rc = sqlite3_bind_text(st, 1, out->fpr, -1, SQLITE_STATIC);
	while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		out->keyids = sq_grow(out->keyids, out->nkeyids, &cap,
		    sizeof(*out->keyids));
		k = &out->keyids[out->nkeyids++];
		sq_col_cpy(st, 0, k->fpr, sizeof(k->fpr));
		sq_col_cpy(st, 1, k->keyid, sizeof(k->keyid));
		rc = SQLITE_OK;
	}
	if (rc != SQLITE_DONE)
		sq_err(c->db, rc, e);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* The addresses published for the cert with id cid, sorted. */
static int
sq_state_addrs(struct sq_conn *c, int64_t cid, struct store_cert_state *out,
    struct err *e)
{
	struct store_addr *a;
	sqlite3_stmt *st;
	size_t cap = 0;
	int rc;

	st = sq_prep(c, SQ_STATE_ADDRS, "SELECT address, published, verified, "
	    "asked FROM addresses WHERE cid = ?1 ORDER BY address", e);
	if (st == NULL)
		return -1;
	rc = sqlite3_bind_int64(st, 1, cid);
	while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		out->addrs = sq_grow(out->addrs, out->naddrs, &cap,
		    sizeof(*out->addrs));
		a = &out->addrs[out->naddrs++];
		memset(a, 0, sizeof(*a));
		sq_col_cpy(st, 0, a->address, sizeof(a->address));
		memcpy(a->fpr, out->fpr, sizeof(a->fpr));
		a->published = sqlite3_column_int64(st, 1);
		a->verified = sqlite3_column_int64(st, 2);
		a->asked = sqlite3_column_int64(st, 3);
		rc = SQLITE_OK;
	}
	if (rc != SQLITE_DONE)
		sq_err(c->db, rc, e);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* The tokens made for out->fpr, without their hashes. */
static int
sq_state_tokens(struct sq_conn *c, struct store_cert_state *out,
    struct err *e)
{
	struct store_token_state *t;
	sqlite3_stmt *st;
	size_t cap = 0;
	int rc;

	st = sq_prep(c, SQ_STATE_TOKENS, "SELECT kind, address, created, "
	    "expires, used FROM tokens WHERE fpr = ?1 "
	    "ORDER BY created, kind, address, hash", e);
	if (st == NULL)
		return -1;
	rc = sqlite3_bind_text(st, 1, out->fpr, -1, SQLITE_STATIC);
	while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		out->tokens = sq_grow(out->tokens, out->ntokens, &cap,
		    sizeof(*out->tokens));
		t = &out->tokens[out->ntokens++];
		memset(t, 0, sizeof(*t));
		t->kind = (enum token_kind)sqlite3_column_int(st, 0);
		sq_col_cpy(st, 1, t->address, sizeof(t->address));
		t->created = sqlite3_column_int64(st, 2);
		t->expires = sqlite3_column_int64(st, 3);
		t->used = sqlite3_column_int64(st, 4);
		rc = SQLITE_OK;
	}
	if (rc != SQLITE_DONE)
		sq_err(c->db, rc, e);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* The key fpr with its index entries, addresses and tokens; 1 if none. */
int
sq_cert_state(struct store *s, const char *fpr, struct store_cert_state *out,
    struct err *e)
{
	struct sq_conn *c = sq_conn_for(s);
	sqlite3_stmt *st;
	int64_t cid = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	st = sq_prep(c, SQ_STATE_CERT, "SELECT id, fpr, revoked, first_stored, "
	    "had_address, updated, etag FROM certs WHERE fpr = ?1", e);
	if (st == NULL)
		return -1;
	rc = sqlite3_bind_text(st, 1, fpr, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		cid = sqlite3_column_int64(st, 0);
		sq_col_cpy(st, 1, out->fpr, sizeof(out->fpr));
		out->revoked = sqlite3_column_int(st, 2) != 0;
		out->first_stored = sqlite3_column_int64(st, 3);
		out->had_address = sqlite3_column_int(st, 4) != 0;
		out->updated = sqlite3_column_int64(st, 5);
		sq_col_cpy(st, 6, out->etag, sizeof(out->etag));
	} else if (rc != SQLITE_DONE)
		sq_err(c->db, rc, e);
	sqlite3_reset(st);
	if (rc != SQLITE_ROW)
		return rc == SQLITE_DONE ? 1 : -1;
	if (sq_state_keyids(c, out, e) == -1 ||
	    sq_state_addrs(c, cid, out, e) == -1 ||
	    sq_state_tokens(c, out, e) == -1) {
		store_cert_state_release(out);
		return -1;
	}
	return 0;
}

/* Up to max outbox rows after id `after`, in id order, without data. */
int
sq_outbox_list(struct store *s, int64_t after, size_t max,
    struct store_outbox_row **rows, size_t *n, struct err *e)
{
	struct sq_conn *c = sq_conn_for(s);
	struct store_outbox_row *r;
	sqlite3_stmt *st;
	size_t cap = 0;
	int rc;

	*rows = NULL;
	*n = 0;
	st = sq_prep(c, SQ_OUTBOX_LIST, "SELECT id, rcpt, attempts, "
	    "next_attempt, created, sent, last_error, leased_by, failed "
	    "FROM outbox "
	    "WHERE id > ?1 ORDER BY id LIMIT ?2", e);
	if (st == NULL)
		return -1;
	rc = sqlite3_bind_int64(st, 1, after);
	rc |= sqlite3_bind_int64(st, 2, max > INT64_MAX ? INT64_MAX :
	    (int64_t)max);
	while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		*rows = sq_grow(*rows, *n, &cap, sizeof(**rows));
		r = &(*rows)[(*n)++];
		memset(r, 0, sizeof(*r));
		r->id = sqlite3_column_int64(st, 0);
		sq_col_cpy(st, 1, r->rcpt, sizeof(r->rcpt));
		r->attempts = sqlite3_column_int(st, 2);
		r->next_attempt = sqlite3_column_int64(st, 3);
		r->created = sqlite3_column_int64(st, 4);
		r->sent = sqlite3_column_int64(st, 5);
		if (sqlite3_column_type(st, 6) != SQLITE_NULL)
			r->last_error = sq_col_dup(st, 6, NULL);
		sq_col_cpy(st, 7, r->leased_by, sizeof(r->leased_by));
		r->failed = sqlite3_column_int64(st, 8);
		rc = SQLITE_OK;
	}
	if (rc != SQLITE_DONE) {
		sq_err(c->db, rc, e);
		store_outbox_rows_free(*rows, *n);
		*rows = NULL;
		*n = 0;
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : -1;
}
