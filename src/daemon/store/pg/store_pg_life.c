/*
 * store_pg_life: deleting a key with everything stored for it, purges of
 * what has run out, export and import (certs_scan, wkd_scan, exact
 * restores), the operator's view (stats, cert_state, outbox_list) and
 * what the abuse limits read and trim (client_keys, client_forget,
 * unconfirmed_room), on the PostgreSQL backend.  Every call runs on the
 * connection of the caller's unit of work (store_begin, or
 * store_begin_read for the reads); the SQLite backend's life, xfer,
 * admin and limits files are the models, row for row.
 *
 * The never-confirmed totals are no counter row here: they are summed
 * over certs WHERE NOT had_address AND NOT revoked (the partial index
 * certs_room), from the unit's own snapshot, so they follow every path
 * that changes a key without a trigger.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store_pg_int.h"
#include "xmalloc.h"

/* Grow *p (elements of sz bytes) so that index n fits. */
static void *
life_grow(void *p, size_t n, size_t *cap, size_t sz)
{
	if (n < *cap)
		return p;
	*cap = *cap ? *cap * 2 : 8;
	return xrealloc(p, *cap * sz);
}

/* A LIMIT: max, at most INT64_MAX. */
static int64_t
life_limit(size_t max)
{
	return max > INT64_MAX ? INT64_MAX : (int64_t)max;
}

/* How many rows a data-changing statement changed. */
static int64_t
life_changed(PGresult *r)
{
	const char *n = PQcmdTuples(r);

	return n[0] != '\0' ? strtoll(n, NULL, 10) : 0;
}

/* Run a data-changing statement; how many rows it changed, or -1. */
static int64_t
life_run(struct pg_conn *c, const char *name, const char *sql,
    const struct pg_args *a, struct err *e)
{
	PGresult *r;
	int64_t n;

	if (pg_exec(c, name, sql, a, &r, e) == -1)
		return -1;
	n = life_changed(r);
	PQclear(r);
	return n;
}

/* Run a statement of one bigint parameter that deletes rows; *n (when
 * not NULL) how many. */
static int
life_purge(struct store *s, const char *name, const char *sql, int64_t v,
    size_t *n, struct err *e)
{
	struct pg_conn *c;
	struct pg_args a;
	int64_t k;

	if (n != NULL)
		*n = 0;
	if ((c = pg_unit(s, e)) == NULL)
		return -1;
	pg_args_init(&a);
	pg_arg_int(&a, v);
	if ((k = life_run(c, name, sql, &a, e)) == -1)
		return -1;
	if (n != NULL)
		*n = (size_t)k;
	return 0;
}

/*
 * Delete the key fpr: its addresses, key ids, WKD forms and recovery
 * data go by cascade, its tokens here, even when the cert is already
 * gone.  1 if there was no such cert.
 */
static const char sql_cert_del[] = "WITH t AS (DELETE FROM tokens "
    "WHERE fpr = $1) DELETE FROM certs WHERE fpr = $1";

int
pgs_cert_del(struct store *s, const char *fpr, struct err *e)
{
	struct pg_conn *c;
	struct pg_args a;
	int64_t n;

	if ((c = pg_unit(s, e)) == NULL)
		return -1;
	pg_args_init(&a);
	pg_arg_text(&a, fpr);
	if ((n = life_run(c, "life_cert_del", sql_cert_del, &a, e)) == -1)
		return -1;
	return n == 0 ? 1 : 0;
}

/*
 * Keys nobody ever confirmed an address for, stored before $1 and not
 * uploaded or mailed about since (no token made since $1), deleted with
 * their tokens in one statement (one snapshot for both).  The address
 * test only guards rows written behind addr_set's back.
 */
static const char sql_purge_unconfirmed[] = "WITH v AS (SELECT id, fpr "
    "FROM certs WHERE NOT had_address AND NOT revoked AND "
    "first_stored < $1::bigint AND NOT EXISTS (SELECT 1 FROM addresses a "
    "WHERE a.cid = certs.id) AND NOT EXISTS (SELECT 1 FROM tokens t "
    "WHERE t.fpr = certs.fpr AND t.created >= $1::bigint)), "
    "t AS (DELETE FROM tokens WHERE fpr IN (SELECT fpr FROM v)) "
    "DELETE FROM certs WHERE id IN (SELECT id FROM v)";

int
pgs_cert_purge_unconfirmed(struct store *s, int64_t before, size_t *n,
    struct err *e)
{
	return life_purge(s, "life_purge_unconfirmed", sql_purge_unconfirmed,
	    before, n, e);
}

/* Delete tokens that expired by now, used or not. */
int
pgs_token_purge(struct store *s, int64_t now, size_t *n, struct err *e)
{
	return life_purge(s, "life_token_purge", "DELETE FROM tokens "
	    "WHERE expires <= $1::bigint", now, n, e);
}

/* Forget the nonces whose `until` has come. */
int
pgs_nonce_purge(struct store *s, int64_t now, struct err *e)
{
	return life_purge(s, "life_nonce_purge", "DELETE FROM nonces "
	    "WHERE until < $1::bigint", now, NULL, e);
}

/* Forget mail sent, or refused for good, before `before`. */
int
pgs_outbox_purge(struct store *s, int64_t before, size_t *n, struct err *e)
{
	return life_purge(s, "life_outbox_purge", "DELETE FROM outbox WHERE "
	    "(sent IS NOT NULL AND sent < $1::bigint) OR "
	    "(failed IS NOT NULL AND failed < $1::bigint)", before, n, e);
}

/* Forget rate marks older than `before`. */
int
pgs_rate_purge(struct store *s, int64_t before, size_t *n, struct err *e)
{
	return life_purge(s, "life_rate_purge", "DELETE FROM mail_rate WHERE "
	    "last < $1::bigint", before, n, e);
}

static const char sql_certs_scan[] = "SELECT fpr, keyid, full_form, etag, "
    "updated, first_stored, had_address FROM certs WHERE fpr > $1 "
    "ORDER BY fpr LIMIT $2::bigint";
/* the addresses of the certs in (after, last], in the unit's snapshot
 * the same certs the scan gave, by cert then address */
static const char sql_scan_addrs[] = "SELECT c.fpr, a.address, "
    "a.published, a.verified, a.asked FROM addresses a JOIN certs c "
    "ON c.id = a.cid WHERE c.fpr > $1 AND c.fpr <= $2 "
    "ORDER BY c.fpr, a.address";

/* Hand the rows of r (sql_scan_addrs) to the certs rows[0..n), both in
 * fpr order. */
static void
scan_addrs(const PGresult *r, struct store_cert *rows, size_t n)
{
	struct store_addr *a;
	size_t k = 0, cap = 0;
	int i;

	for (i = 0; i < PQntuples(r); i++) {
		while (k < n && strcmp(rows[k].fpr, pg_text(r, i, 0)) < 0) {
			k++;
			cap = 0;
		}
		if (k == n)
			break;
		if (strcmp(rows[k].fpr, pg_text(r, i, 0)) != 0)
			continue;
		rows[k].addrs = life_grow(rows[k].addrs, rows[k].naddrs, &cap,
		    sizeof(*rows[k].addrs));
		a = &rows[k].addrs[rows[k].naddrs++];
		memset(a, 0, sizeof(*a));
		pg_cpy(r, i, 1, a->address, sizeof(a->address));
		memcpy(a->fpr, rows[k].fpr, sizeof(a->fpr));
		a->published = pg_int(r, i, 2);
		a->verified = pg_int(r, i, 3);
		a->asked = pg_int(r, i, 4);
	}
}

/* Up to max certs after fpr `after`, in fpr order, with their addresses. */
int
pgs_certs_scan(struct store *s, const char *after, size_t max,
    struct store_cert **rows, size_t *n, struct err *e)
{
	struct store_cert *w;
	struct pg_conn *c;
	struct pg_args a;
	PGresult *r = NULL, *ra = NULL;
	int i, rc = -1;

	*rows = NULL;
	*n = 0;
	if ((c = pg_unit(s, e)) == NULL)
		return -1;
	pg_args_init(&a);
	pg_arg_text(&a, after);
	pg_arg_int(&a, life_limit(max));
	if (pg_exec(c, "life_certs_scan", sql_certs_scan, &a, &r, e) == -1)
		return -1;
	if (PQntuples(r) == 0) {
		PQclear(r);
		return 0;
	}
	*rows = xcalloc((size_t)PQntuples(r), sizeof(**rows));
	for (i = 0; i < PQntuples(r); i++) {
		w = &(*rows)[(*n)++];
		pg_cpy(r, i, 0, w->fpr, sizeof(w->fpr));
		pg_cpy(r, i, 1, w->keyid, sizeof(w->keyid));
		w->full = pg_bytes(r, i, 2, &w->full_len);
		pg_cpy(r, i, 3, w->etag, sizeof(w->etag));
		w->updated = pg_int(r, i, 4);
		w->first_stored = pg_int(r, i, 5);
		w->had_address = pg_bool(r, i, 6);
	}
	pg_args_init(&a);
	pg_arg_text(&a, after);
	pg_arg_text(&a, (*rows)[*n - 1].fpr);
	if (pg_exec(c, "life_scan_addrs", sql_scan_addrs, &a, &ra, e) == -1)
		goto out;
	scan_addrs(ra, *rows, *n);
	rc = 0;
out:
	PQclear(r);
	PQclear(ra);
	if (rc == -1) {
		store_certs_free(*rows, *n);
		*rows = NULL;
		*n = 0;
	}
	return rc;
}

/* the WKD forms of bindings published now (the join), never a row a
 * republish has yet to replace */
static const char sql_wkd_scan[] = "SELECT w.address, w.hu, w.data "
    "FROM wkd w JOIN addresses a ON a.address = w.address AND "
    "a.cid = w.cid WHERE w.hu > $1 ORDER BY w.hu LIMIT $2::bigint";

/* Up to max WKD forms of published bindings after key `after`. */
int
pgs_wkd_scan(struct store *s, const char *after, size_t max,
    struct store_wkd **rows, size_t *n, struct err *e)
{
	struct store_wkd *w;
	struct pg_conn *c;
	struct pg_args a;
	PGresult *r;
	int i;

	*rows = NULL;
	*n = 0;
	if ((c = pg_unit(s, e)) == NULL)
		return -1;
	pg_args_init(&a);
	pg_arg_text(&a, after);
	pg_arg_int(&a, life_limit(max));
	if (pg_exec(c, "life_wkd_scan", sql_wkd_scan, &a, &r, e) == -1)
		return -1;
	if (PQntuples(r) > 0)
		*rows = xcalloc((size_t)PQntuples(r), sizeof(**rows));
	for (i = 0; i < PQntuples(r); i++) {
		w = &(*rows)[(*n)++];
		pg_cpy(r, i, 0, w->address, sizeof(w->address));
		pg_cpy(r, i, 1, w->key, sizeof(w->key));
		w->data = pg_bytes(r, i, 2, &w->len);
	}
	PQclear(r);
	return 0;
}

/*
 * Publish $1 for the key $2 with the dates $3.. (taking the address from
 * any other key), and mark the key as one that has had an address.  No
 * such key: cid is NULL, which the table refuses (-1).
 */
static const char sql_addr_restore[] = "WITH h AS (UPDATE certs "
    "SET had_address = true WHERE fpr = $2 AND NOT had_address) "
    "INSERT INTO addresses (address, cid, published, verified, asked) "
    "VALUES ($1, (SELECT id FROM certs WHERE fpr = $2), $3::bigint, "
    "$4::bigint, $5::bigint) ON CONFLICT (address) DO UPDATE SET "
    "cid = excluded.cid, published = excluded.published, "
    "verified = excluded.verified, asked = excluded.asked";

int
pgs_addr_restore(struct store *s, const struct store_addr *ad, struct err *e)
{
	struct pg_conn *c;
	struct pg_args a;

	if ((c = pg_unit(s, e)) == NULL)
		return -1;
	pg_args_init(&a);
	pg_arg_text(&a, ad->address);
	pg_arg_text(&a, ad->fpr);
	pg_arg_int(&a, ad->published);
	pg_arg_int(&a, ad->verified);
	pg_arg_int(&a, ad->asked);
	return life_run(c, "life_addr_restore", sql_addr_restore, &a, e) ==
	    -1 ? -1 : 0;
}

/* Set fpr's first_stored and had_address as given; 1 if no such cert. */
int
pgs_cert_restore_meta(struct store *s, const char *fpr, int64_t first_stored,
    bool had_address, struct err *e)
{
	struct pg_conn *c;
	struct pg_args a;
	int64_t n;

	if ((c = pg_unit(s, e)) == NULL)
		return -1;
	pg_args_init(&a);
	pg_arg_text(&a, fpr);
	pg_arg_int(&a, first_stored);
	pg_arg_bool(&a, had_address);
	n = life_run(c, "life_cert_meta", "UPDATE certs SET first_stored = "
	    "$2::bigint, had_address = $3::boolean WHERE fpr = $1", &a, e);
	if (n == -1)
		return -1;
	return n == 0 ? 1 : 0;
}

static const char sql_stats[] = "SELECT (SELECT count(*) FROM certs), "
    "(SELECT count(*) FROM addresses), (SELECT count(*) FROM keyids), "
    "(SELECT count(*) FROM nonces), (SELECT count(*) FROM mail_rate), "
    "(SELECT count(*) FROM outbox), "
    "(SELECT count(*) FROM outbox WHERE sent IS NULL AND failed IS NULL), "
    "(SELECT count(*) FROM recovery), u.keys, u.bytes, "
    "(SELECT count(*) FROM outbox WHERE failed IS NOT NULL) "
    "FROM (SELECT count(*) AS keys, "
    "coalesce(sum(bytes), 0)::bigint AS bytes FROM certs "
    "WHERE NOT had_address AND NOT revoked) u";
static const char sql_stats_tokens[] = "SELECT kind, count(*), "
    "count(*) FILTER (WHERE used = 0) FROM tokens GROUP BY kind";

/* Token counts by kind (r: sql_stats_tokens), added to the totals. */
static void
stats_tokens(const PGresult *r, struct store_stats *out)
{
	struct store_count *k;
	int64_t total, unused;
	int i;

	for (i = 0; i < PQntuples(r); i++) {
		total = pg_int(r, i, 1);
		unused = pg_int(r, i, 2);
		out->tokens.total += total;
		out->tokens.unused += unused;
		switch (pg_int(r, i, 0)) {
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
}

/* Row counts of every table that holds state. */
int
pgs_stats(struct store *s, struct store_stats *out, struct err *e)
{
	struct pg_conn *c;
	PGresult *r;
	int64_t v[11];
	int i;

	memset(out, 0, sizeof(*out));
	if ((c = pg_unit(s, e)) == NULL)
		return -1;
	if (pg_exec(c, "life_stats", sql_stats, NULL, &r, e) == -1)
		return -1;
	for (i = 0; i < 11; i++)
		v[i] = PQntuples(r) > 0 ? pg_int(r, 0, i) : 0;
	PQclear(r);
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
	if (pg_exec(c, "life_stats_tokens", sql_stats_tokens, NULL, &r, e) ==
	    -1)
		return -1;
	stats_tokens(r, out);
	PQclear(r);
	return 0;
}

static const char sql_state_cert[] = "SELECT id, fpr, revoked, "
    "first_stored, had_address, updated, etag FROM certs WHERE fpr = $1";
static const char sql_state_keyids[] = "SELECT fpr, keyid FROM keyids "
    "WHERE cert = $1 ORDER BY pos, fpr";
static const char sql_state_addrs[] = "SELECT address, published, "
    "verified, asked FROM addresses WHERE cid = $1::bigint "
    "ORDER BY address";
static const char sql_state_tokens[] = "SELECT kind, address, created, "
    "expires, used FROM tokens WHERE fpr = $1 "
    "ORDER BY created, kind, address, hash";

/* The index entries, addresses and tokens of out->fpr (id cid). */
static int
state_rows(struct pg_conn *c, const char *cid, struct store_cert_state *out,
    struct err *e)
{
	struct store_token_state *t;
	struct store_subkey *k;
	struct store_addr *ad;
	struct pg_args a;
	PGresult *r;
	size_t cap;
	int i;

	pg_args_init(&a);
	pg_arg_text(&a, out->fpr);
	if (pg_exec(c, "life_state_keyids", sql_state_keyids, &a, &r, e) == -1)
		return -1;
	for (i = 0, cap = 0; i < PQntuples(r); i++) {
		out->keyids = life_grow(out->keyids, out->nkeyids, &cap,
		    sizeof(*out->keyids));
		k = &out->keyids[out->nkeyids++];
		pg_cpy(r, i, 0, k->fpr, sizeof(k->fpr));
		pg_cpy(r, i, 1, k->keyid, sizeof(k->keyid));
	}
	PQclear(r);
	pg_args_init(&a);
	pg_arg_text(&a, cid);
	if (pg_exec(c, "life_state_addrs", sql_state_addrs, &a, &r, e) == -1)
		return -1;
	for (i = 0, cap = 0; i < PQntuples(r); i++) {
		out->addrs = life_grow(out->addrs, out->naddrs, &cap,
		    sizeof(*out->addrs));
		ad = &out->addrs[out->naddrs++];
		memset(ad, 0, sizeof(*ad));
		pg_cpy(r, i, 0, ad->address, sizeof(ad->address));
		memcpy(ad->fpr, out->fpr, sizeof(ad->fpr));
		ad->published = pg_int(r, i, 1);
		ad->verified = pg_int(r, i, 2);
		ad->asked = pg_int(r, i, 3);
	}
	PQclear(r);
	pg_args_init(&a);
	pg_arg_text(&a, out->fpr);
	if (pg_exec(c, "life_state_tokens", sql_state_tokens, &a, &r, e) == -1)
		return -1;
	for (i = 0, cap = 0; i < PQntuples(r); i++) {
		out->tokens = life_grow(out->tokens, out->ntokens, &cap,
		    sizeof(*out->tokens));
		t = &out->tokens[out->ntokens++];
		memset(t, 0, sizeof(*t));
		t->kind = (enum token_kind)pg_int(r, i, 0);
		pg_cpy(r, i, 1, t->address, sizeof(t->address));
		t->created = pg_int(r, i, 2);
		t->expires = pg_int(r, i, 3);
		t->used = pg_int(r, i, 4);
	}
	PQclear(r);
	return 0;
}

/* The key fpr with its index entries, addresses and tokens; 1 if none. */
int
pgs_cert_state(struct store *s, const char *fpr, struct store_cert_state *out,
    struct err *e)
{
	struct pg_conn *c;
	struct pg_args a;
	PGresult *r;
	char cid[24];

	memset(out, 0, sizeof(*out));
	if ((c = pg_unit(s, e)) == NULL)
		return -1;
	pg_args_init(&a);
	pg_arg_text(&a, fpr);
	if (pg_exec(c, "life_state_cert", sql_state_cert, &a, &r, e) == -1)
		return -1;
	if (PQntuples(r) == 0) {
		PQclear(r);
		return 1;
	}
	pg_cpy(r, 0, 0, cid, sizeof(cid));
	pg_cpy(r, 0, 1, out->fpr, sizeof(out->fpr));
	out->revoked = pg_bool(r, 0, 2);
	out->first_stored = pg_int(r, 0, 3);
	out->had_address = pg_bool(r, 0, 4);
	out->updated = pg_int(r, 0, 5);
	pg_cpy(r, 0, 6, out->etag, sizeof(out->etag));
	PQclear(r);
	if (state_rows(c, cid, out, e) == -1) {
		store_cert_state_release(out);
		return -1;
	}
	return 0;
}

static const char sql_outbox_list[] = "SELECT id, rcpt, attempts, "
    "next_attempt, created, sent, last_error, leased_by, failed "
    "FROM outbox WHERE id > $1::bigint ORDER BY id LIMIT $2::bigint";

/* Up to max outbox rows after id `after`, in id order, without data. */
int
pgs_outbox_list(struct store *s, int64_t after, size_t max,
    struct store_outbox_row **rows, size_t *n, struct err *e)
{
	struct store_outbox_row *w;
	struct pg_conn *c;
	struct pg_args a;
	PGresult *r;
	int i;

	*rows = NULL;
	*n = 0;
	if ((c = pg_unit(s, e)) == NULL)
		return -1;
	pg_args_init(&a);
	pg_arg_int(&a, after);
	pg_arg_int(&a, life_limit(max));
	if (pg_exec(c, "life_outbox_list", sql_outbox_list, &a, &r, e) == -1)
		return -1;
	if (PQntuples(r) > 0)
		*rows = xcalloc((size_t)PQntuples(r), sizeof(**rows));
	for (i = 0; i < PQntuples(r); i++) {
		w = &(*rows)[(*n)++];
		w->id = pg_int(r, i, 0);
		pg_cpy(r, i, 1, w->rcpt, sizeof(w->rcpt));
		w->attempts = (int)pg_int(r, i, 2);
		w->next_attempt = pg_int(r, i, 3);
		w->created = pg_int(r, i, 4);
		w->sent = pg_int(r, i, 5);
		w->last_error = pg_dup(r, i, 6, NULL);	/* NULL stays NULL */
		pg_cpy(r, i, 7, w->leased_by, sizeof(w->leased_by));
		w->failed = pg_int(r, i, 8);
	}
	PQclear(r);
	return 0;
}

/* Run a statement that answers one row of two integers (NULL reads 0). */
static int
life_two(struct pg_conn *c, const char *name, const char *sql,
    const struct pg_args *a, int64_t *x, int64_t *y, struct err *e)
{
	PGresult *r;

	if (pg_exec(c, name, sql, a, &r, e) == -1)
		return -1;
	if (PQntuples(r) > 0) {
		*x = pg_int(r, 0, 0);
		*y = pg_int(r, 0, 1);
	}
	PQclear(r);
	return 0;
}

/* Keys client stored first since `since` that never had an address. */
int
pgs_client_keys(struct store *s, const char *client, int64_t since,
    int64_t *n, int64_t *oldest, struct err *e)
{
	struct pg_conn *c;
	struct pg_args a;

	*n = *oldest = 0;
	if ((c = pg_unit(s, e)) == NULL)
		return -1;
	/* certs_client covers it */
	pg_args_init(&a);
	pg_arg_text(&a, client);
	pg_arg_int(&a, since);
	return life_two(c, "life_client_keys", "SELECT count(*), "
	    "min(first_stored) FROM certs WHERE client = $1 AND "
	    "NOT had_address AND first_stored >= $2::bigint", &a, n, oldest,
	    e);
}

/* Forget who stored the keys first stored before `before`. */
int
pgs_client_forget(struct store *s, int64_t before, size_t *n,
    struct err *e)
{
	return life_purge(s, "life_client_forget", "UPDATE certs SET client = "
	    "NULL WHERE client IS NOT NULL AND first_stored < $1::bigint",
	    before, n, e);
}

static const char sql_room_total[] = "SELECT count(*), "
    "coalesce(sum(bytes), 0)::bigint FROM certs WHERE NOT had_address AND "
    "NOT revoked";
/*
 * The oldest unconfirmed keys but $1, oldest first_stored first, then
 * in store order, while those before each add up to less than $2 (the
 * bytes to free): the rows SQLite's loop reads, with the running total
 * (run) of the last telling whether they free enough.  The address test
 * only guards rows written behind addr_set's back, as
 * cert_purge_unconfirmed's.
 */
static const char sql_room_pick[] = "SELECT fpr, run FROM (SELECT fpr, "
    "first_stored, id, bytes, sum(bytes) OVER (ORDER BY first_stored, id "
    "ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)::bigint AS run "
    "FROM certs WHERE NOT had_address AND NOT revoked AND fpr <> $1 AND "
    "NOT EXISTS (SELECT 1 FROM addresses a WHERE a.cid = certs.id)) v "
    "WHERE run - bytes < $2::bigint ORDER BY first_stored, id";

/*
 * Whether the unconfirmed keys surely fit max without reading them in
 * the unit.  Summing them in the unit reads the whole range, and every
 * other unit that stores a new key writes into it: under SERIALIZABLE
 * any two uploads at once then fail each other (measured: 34 of 2 233
 * uploads answered 503 after their reruns, 264/s against 718/s without
 * the sum).  So the committed total is read outside the unit, on
 * another connection, at most once a second per node; while it is more
 * than ROOM_SLACK under max, there is room whatever this unit (one
 * upload, at most max_body) and the last second's uploads add.  Near
 * max, the exact sum in the unit decides, as SQLite's does.
 */
#define ROOM_SLACK ((int64_t)64 << 20)
#define ROOM_EVERY_MS 1000

static bool
room_surely(struct store *s, uint64_t max)
{
	struct pg *q = s->impl;
	struct pg_conn *c;
	int64_t now = pg_now_ms(), keys = 0, bytes;
	int rc;

	if (max > (uint64_t)INT64_MAX || (int64_t)max <= ROOM_SLACK)
		return false;
	if (now - atomic_load(&q->room_at) > ROOM_EVERY_MS) {
		if ((c = pg_pool_try(q, NULL)) == NULL)
			return false;
		rc = life_two(c, "life_room_total", sql_room_total, NULL, &keys,
		    &bytes, NULL);
		pg_pool_put(q, c);
		if (rc == -1)
			return false;
		atomic_store(&q->room_bytes, bytes);
		atomic_store(&q->room_at, now);
	}
	return atomic_load(&q->room_bytes) <= (int64_t)max - ROOM_SLACK;
}

/* Delete the oldest unconfirmed keys but keep until the rest fit max. */
int
pgs_unconfirmed_room(struct store *s, uint64_t max, const char *keep,
    size_t *n, struct err *e)
{
	struct pg_conn *c;
	struct pg_args a;
	PGresult *r;
	int64_t keys = 0, bytes = 0, need;
	int i, k, rc = 0;

	*n = 0;
	if ((c = pg_unit(s, e)) == NULL)
		return -1;
	if (room_surely(s, max))
		return 0;
	if (life_two(c, "life_room_total", sql_room_total, NULL, &keys, &bytes,
	    e) == -1)
		return -1;
	if (bytes <= 0 || (uint64_t)bytes <= max)
		return 0;
	/* bytes > max, so max fits an int64_t */
	need = bytes - (int64_t)max;
	pg_args_init(&a);
	pg_arg_text(&a, keep != NULL ? keep : "");
	pg_arg_int(&a, need);
	if (pg_exec(c, "life_room_pick", sql_room_pick, &a, &r, e) == -1)
		return -1;
	k = PQntuples(r);
	if (k == 0 || pg_int(r, k - 1, 1) < need) {
		PQclear(r);
		return 1;
	}
	for (i = 0; rc == 0 && i < k; i++)
		if ((rc = pgs_cert_del(s, pg_text(r, i, 0), e)) == 1)
			rc = err_set(e, ERR_INTERNAL, "key %s vanished",
			    pg_text(r, i, 0));
	if (rc == 0)
		*n = (size_t)k;
	PQclear(r);
	return rc;
}
