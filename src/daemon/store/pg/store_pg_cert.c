/*
 * store_pg_cert: certs, their key ids, WKD forms and published addresses,
 * the re-verification schedule of those addresses, upload marks and
 * pending confirmations, on the connection of the thread's unit of work
 * (every call here sits inside store_begin or store_begin_read).  The
 * SQL is the SQLite backend's (store_sqlite_cert.c, store_sqlite_life.c),
 * in PostgreSQL's words.
 *
 * Sorting.  Addresses sort as bytes (COLLATE "C"), as SQLite's do,
 * whatever the database's own collation.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "store_pg_int.h"
#include "xmalloc.h"

/* Run a statement whose result does not matter: 0 or -1. */
static int
run(struct pg_conn *c, const char *name, const char *sql,
    const struct pg_args *a, struct err *e)
{
	PGresult *r;

	if (pg_exec(c, name, sql, a, &r, e) == -1)
		return -1;
	PQclear(r);
	return 0;
}

/* Run a data-changing statement: how many rows it changed, or -1. */
static int64_t
changed(struct pg_conn *c, const char *name, const char *sql,
    const struct pg_args *a, struct err *e)
{
	PGresult *r;
	int64_t n;

	if (pg_exec(c, name, sql, a, &r, e) == -1)
		return -1;
	n = strtoll(PQcmdTuples(r), NULL, 10);
	PQclear(r);
	return n;
}

static const char sql_cert_get[] = "SELECT fpr, keyid, algo, bits, "
    "created, expires, revoked, full_form, published, hkp_index, etag, "
    "updated, first_stored, had_address, client FROM certs WHERE fpr = $1";
static const char sql_cert_subs[] = "SELECT fpr, keyid FROM keyids "
    "WHERE cert = $1 AND fpr <> cert ORDER BY pos";

/* Fill out's subkeys in the order cert_put stored them. */
static int
cert_subs(struct pg_conn *c, const char *fpr, struct store_cert *out,
    struct err *e)
{
	struct pg_args a;
	PGresult *r;
	int i, n;

	pg_args_init(&a);
	pg_arg_text(&a, fpr);
	if (pg_exec(c, "cert_subs", sql_cert_subs, &a, &r, e) == -1)
		return -1;
	n = PQntuples(r);
	if (n > 0)
		out->subs = xcalloc((size_t)n, sizeof(*out->subs));
	for (i = 0; i < n; i++) {
		pg_cpy(r, i, 0, out->subs[i].fpr, sizeof(out->subs[i].fpr));
		pg_cpy(r, i, 1, out->subs[i].keyid,
		    sizeof(out->subs[i].keyid));
	}
	out->nsubs = (size_t)n;
	PQclear(r);
	return 0;
}

/* Everything kept about the cert whose primary is fpr; 1 if none. */
int
pgs_cert_get(struct store *s, const char *fpr, struct store_cert *out,
    struct err *e)
{
	struct pg_conn *c;
	struct pg_args a;
	PGresult *r;

	memset(out, 0, sizeof(*out));
	if ((c = pg_unit(s, e)) == NULL)
		return -1;
	pg_args_init(&a);
	pg_arg_text(&a, fpr);
	if (pg_exec(c, "cert_get", sql_cert_get, &a, &r, e) == -1)
		return -1;
	if (PQntuples(r) == 0) {
		PQclear(r);
		return 1;
	}
	pg_cpy(r, 0, 0, out->fpr, sizeof(out->fpr));
	pg_cpy(r, 0, 1, out->keyid, sizeof(out->keyid));
	out->algo = (int)pg_int(r, 0, 2);
	out->bits = (unsigned)pg_int(r, 0, 3);
	out->created = pg_int(r, 0, 4);
	out->expires = pg_int(r, 0, 5);
	out->revoked = pg_bool(r, 0, 6);
	out->full = pg_bytes(r, 0, 7, &out->full_len);
	out->published = pg_dup(r, 0, 8, &out->published_len);
	out->hkp_index = pg_dup(r, 0, 9, NULL);
	pg_cpy(r, 0, 10, out->etag, sizeof(out->etag));
	out->updated = pg_int(r, 0, 11);
	out->first_stored = pg_int(r, 0, 12);
	out->had_address = pg_bool(r, 0, 13);
	pg_cpy(r, 0, 14, out->client, sizeof(out->client));
	PQclear(r);
	if (cert_subs(c, out->fpr, out, e) == -1) {
		store_cert_release(out);
		return -1;
	}
	return 0;
}

/*
 * A new cert is first stored at updated ($12), by client ($13, NULL for
 * none); an update keeps first_stored, had_address and client.  Other
 * bytes than the last upload's: that upload's answer no longer holds.
 */
static const char sql_cert_put[] = "INSERT INTO certs (fpr, keyid, algo, "
    "bits, created, expires, revoked, full_form, published, hkp_index, "
    "etag, updated, first_stored, client, bytes) VALUES ($1, $2, "
    "$3::integer, $4::integer, $5::bigint, $6::bigint, $7::boolean, "
    "$8::bytea, $9::text, $10, $11, $12::bigint, $12::bigint, $13, "
    "$14::bigint) "
    "ON CONFLICT (fpr) DO UPDATE SET keyid = excluded.keyid, "
    "algo = excluded.algo, bits = excluded.bits, "
    "created = excluded.created, expires = excluded.expires, "
    "revoked = excluded.revoked, full_form = excluded.full_form, "
    "published = excluded.published, hkp_index = excluded.hkp_index, "
    "etag = excluded.etag, updated = excluded.updated, "
    "bytes = excluded.bytes, "
    "upload_hash = CASE WHEN certs.full_form = excluded.full_form "
    "THEN certs.upload_hash ELSE NULL END";
static const char sql_keyids_del[] = "DELETE FROM keyids WHERE cert = $1";
/* a cert listing the same subkey twice is not our problem */
static const char sql_keyids_add[] = "INSERT INTO keyids (fpr, keyid, "
    "cert, pos, cid) VALUES ($1, $2, $3, $4::integer, (SELECT id FROM "
    "certs WHERE fpr = $3)) ON CONFLICT DO NOTHING";
static const char sql_wkd_del[] = "DELETE FROM wkd WHERE cid = "
    "(SELECT id FROM certs WHERE fpr = $1)";
static const char sql_wkd_add[] = "INSERT INTO wkd (cid, address, hu, "
    "data) SELECT id, $2::text, $3::text, $4::bytea FROM certs "
    "WHERE fpr = $1";

/* Index one key (primary or subkey) of cert for lookup. */
static int
keyid_add(struct pg_conn *c, const char *fpr, const char *keyid,
    const char *cert, size_t pos, struct err *e)
{
	struct pg_args a;

	pg_args_init(&a);
	pg_arg_text(&a, fpr);
	pg_arg_text(&a, keyid);
	pg_arg_text(&a, cert);
	pg_arg_int(&a, (int64_t)pos);
	return run(c, "cert_keyids_add", sql_keyids_add, &a, e);
}

/* Replace the key index of k: its primary at 0, then every subkey. */
static int
keyids_put(struct pg_conn *c, const struct store_cert *k, struct err *e)
{
	struct pg_args a;
	size_t i;

	pg_args_init(&a);
	pg_arg_text(&a, k->fpr);
	if (run(c, "cert_keyids_del", sql_keyids_del, &a, e) == -1)
		return -1;
	if (keyid_add(c, k->fpr, k->keyid, k->fpr, 0, e) == -1)
		return -1;
	for (i = 0; i < k->nsubs; i++)
		if (keyid_add(c, k->subs[i].fpr, k->subs[i].keyid, k->fpr,
		    i + 1, e) == -1)
			return -1;
	return 0;
}

/* Replace k's WKD forms by k->wkd. */
static int
wkd_put(struct pg_conn *c, const struct store_cert *k, struct err *e)
{
	struct pg_args a;
	size_t i;

	pg_args_init(&a);
	pg_arg_text(&a, k->fpr);
	if (run(c, "cert_wkd_del", sql_wkd_del, &a, e) == -1)
		return -1;
	for (i = 0; i < k->nwkd; i++) {
		pg_args_init(&a);
		pg_arg_text(&a, k->fpr);
		pg_arg_text(&a, k->wkd[i].address);
		pg_arg_text(&a, k->wkd[i].key);
		pg_arg_bytes(&a, k->wkd[i].data, k->wkd[i].len);
		if (run(c, "cert_wkd_add", sql_wkd_add, &a, e) == -1)
			return -1;
	}
	return 0;
}

/* Insert or replace cert k, its key index and its WKD forms. */
int
pgs_cert_put(struct store *s, const struct store_cert *k, struct err *e)
{
	struct pg_conn *c;
	struct pg_args a;
	size_t idx = k->hkp_index != NULL ? strlen(k->hkp_index) : 0;

	if ((c = pg_unit(s, e)) == NULL)
		return -1;
	pg_args_init(&a);
	pg_arg_text(&a, k->fpr);
	pg_arg_text(&a, k->keyid);
	pg_arg_int(&a, k->algo);
	pg_arg_int(&a, k->bits);
	pg_arg_int(&a, k->created);
	pg_arg_int(&a, k->expires);
	pg_arg_bool(&a, k->revoked);
	pg_arg_bytes(&a, k->full, k->full_len);
	/* text sent as its bytes (binary format): published_len counts */
	pg_arg_bytes(&a, k->published, k->published_len);
	pg_arg_text(&a, k->hkp_index != NULL ? k->hkp_index : "");
	pg_arg_text(&a, k->etag);
	pg_arg_int(&a, k->updated);
	pg_arg_text(&a, k->client[0] != '\0' ? k->client : NULL);
	pg_arg_int(&a, (int64_t)(k->full_len + k->published_len + idx));
	if (run(c, "cert_put", sql_cert_put, &a, e) == -1)
		return -1;
	if (keyids_put(c, k, e) == -1)
		return -1;
	return wkd_put(c, k, e);
}

static const char sql_addr_owner[] = "SELECT c.fpr FROM addresses a "
    "JOIN certs c ON c.id = a.cid WHERE a.address = $1";

/* The fingerprint address is published under; 1 if none. */
int
pgs_addr_owner(struct store *s, const char *address, char fpr[FPR_LEN + 1],
    struct err *e)
{
	struct pg_conn *c;
	struct pg_args a;
	PGresult *r;
	int ret = 1;

	if ((c = pg_unit(s, e)) == NULL)
		return -1;
	pg_args_init(&a);
	pg_arg_text(&a, address);
	if (pg_exec(c, "cert_addr_owner", sql_addr_owner, &a, &r, e) == -1)
		return -1;
	if (PQntuples(r) > 0) {
		pg_cpy(r, 0, 0, fpr, FPR_LEN + 1);
		ret = 0;
	}
	PQclear(r);
	return ret;
}

static const char sql_addr_list[] = "SELECT address FROM addresses "
    "WHERE cid = (SELECT id FROM certs WHERE fpr = $1) "
    "ORDER BY address COLLATE \"C\"";

/* The addresses published for fpr, sorted; free with store_addrs_free. */
int
pgs_addr_list(struct store *s, const char *fpr, char ***addrs, size_t *n,
    struct err *e)
{
	struct pg_conn *c;
	struct pg_args a;
	PGresult *r;
	int i, rows;

	*addrs = NULL;
	*n = 0;
	if ((c = pg_unit(s, e)) == NULL)
		return -1;
	pg_args_init(&a);
	pg_arg_text(&a, fpr);
	if (pg_exec(c, "cert_addr_list", sql_addr_list, &a, &r, e) == -1)
		return -1;
	rows = PQntuples(r);
	if (rows > 0)
		*addrs = xcalloc((size_t)rows, sizeof(**addrs));
	for (i = 0; i < rows; i++)
		(*addrs)[i] = pg_dup(r, i, 0, NULL);
	*n = (size_t)rows;
	PQclear(r);
	return 0;
}

/* addresses.address is the primary key: publishing takes the address
 * from any other key; no such key (cid NULL) fails the NOT NULL. */
static const char sql_addr_set[] = "INSERT INTO addresses (address, cid, "
    "published, verified, asked) VALUES ($1, (SELECT id FROM certs "
    "WHERE fpr = $2), $3::bigint, $3::bigint, 0) "
    "ON CONFLICT (address) DO UPDATE SET cid = excluded.cid, "
    "published = excluded.published, verified = excluded.verified, "
    "asked = 0";
static const char sql_addr_had[] = "UPDATE certs SET had_address = true "
    "WHERE fpr = $1 AND NOT had_address";

/*
 * Publish address for fpr, taking it from any other key; it counts as
 * confirmed at now, and fpr as a key that has had an address.
 */
int
pgs_addr_set(struct store *s, const char *address, const char *fpr,
    int64_t now, struct err *e)
{
	struct pg_conn *c;
	struct pg_args a;

	if ((c = pg_unit(s, e)) == NULL)
		return -1;
	pg_args_init(&a);
	pg_arg_text(&a, address);
	pg_arg_text(&a, fpr);
	pg_arg_int(&a, now);
	if (run(c, "cert_addr_set", sql_addr_set, &a, e) == -1)
		return -1;
	pg_args_init(&a);
	pg_arg_text(&a, fpr);
	return run(c, "cert_addr_had", sql_addr_had, &a, e);
}

static const char sql_addr_del[] = "DELETE FROM addresses "
    "WHERE address = $1";

/* Unpublish address; not an error if it was not published. */
int
pgs_addr_del(struct store *s, const char *address, struct err *e)
{
	struct pg_conn *c;
	struct pg_args a;

	if ((c = pg_unit(s, e)) == NULL)
		return -1;
	pg_args_init(&a);
	pg_arg_text(&a, address);
	return run(c, "cert_addr_del", sql_addr_del, &a, e);
}

/* The schedule's rows: columns address, fpr, verified, asked. */
#define ADDR_COLS "SELECT a.address, c.fpr, a.verified, a.asked " \
	"FROM addresses a JOIN certs c ON c.id = a.cid "

static const char sql_addr_get[] = ADDR_COLS "WHERE a.address = $1";
static const char sql_addr_due[] = ADDR_COLS "WHERE a.asked = 0 AND "
    "a.verified < $1::bigint ORDER BY a.verified, a.address COLLATE \"C\" "
    "LIMIT $2::bigint";
static const char sql_addr_stale[] = ADDR_COLS "WHERE a.asked > 0 AND "
    "a.asked < $1::bigint ORDER BY a.asked, a.address COLLATE \"C\" "
    "LIMIT $2::bigint";
static const char sql_addr_confirmed[] = "UPDATE addresses "
    "SET verified = $2::bigint, asked = 0 WHERE address = $1";
static const char sql_addr_asked[] = "UPDATE addresses "
    "SET asked = $2::bigint WHERE address = $1";

/* Fill one schedule row from row i of r. */
static void
addr_row(const PGresult *r, int i, struct store_addr *out)
{
	pg_cpy(r, i, 0, out->address, sizeof(out->address));
	pg_cpy(r, i, 1, out->fpr, sizeof(out->fpr));
	out->verified = pg_int(r, i, 2);
	out->asked = pg_int(r, i, 3);
}

/* One published address and its schedule; 1 if not published. */
int
pgs_addr_get(struct store *s, const char *address, struct store_addr *out,
    struct err *e)
{
	struct pg_conn *c;
	struct pg_args a;
	PGresult *r;
	int ret = 1;

	memset(out, 0, sizeof(*out));
	if ((c = pg_unit(s, e)) == NULL)
		return -1;
	pg_args_init(&a);
	pg_arg_text(&a, address);
	if (pg_exec(c, "cert_addr_get", sql_addr_get, &a, &r, e) == -1)
		return -1;
	if (PQntuples(r) > 0) {
		addr_row(r, 0, out);
		ret = 0;
	}
	PQclear(r);
	return ret;
}

/* Set one address's schedule column to now; 1 if it is not published. */
static int
addr_mark(struct store *s, const char *name, const char *sql,
    const char *address, int64_t now, struct err *e)
{
	struct pg_conn *c;
	struct pg_args a;
	int64_t n;

	if ((c = pg_unit(s, e)) == NULL)
		return -1;
	pg_args_init(&a);
	pg_arg_text(&a, address);
	pg_arg_int(&a, now);
	if ((n = changed(c, name, sql, &a, e)) == -1)
		return -1;
	return n == 0 ? 1 : 0;
}

/* The owner confirmed address at now; 1 if it is not published. */
int
pgs_addr_confirmed(struct store *s, const char *address, int64_t now,
    struct err *e)
{
	return addr_mark(s, "cert_addr_confirmed", sql_addr_confirmed,
	    address, now, e);
}

/* A re-verification mail for address went out at now; 1 if none. */
int
pgs_addr_asked(struct store *s, const char *address, int64_t now,
    struct err *e)
{
	return addr_mark(s, "cert_addr_asked", sql_addr_asked, address, now,
	    e);
}

/*
 * Run a schedule query bound to (before, max) and collect its rows into
 * a heap array (NULL when none); on error nothing is returned.
 */
static int
addr_rows(struct store *s, const char *name, const char *sql,
    int64_t before, size_t max, struct store_addr **rows, size_t *n,
    struct err *e)
{
	struct pg_conn *c;
	struct pg_args a;
	PGresult *r;
	int i, k;

	*rows = NULL;
	*n = 0;
	if ((c = pg_unit(s, e)) == NULL)
		return -1;
	pg_args_init(&a);
	pg_arg_int(&a, before);
	pg_arg_int(&a, max > INT64_MAX ? INT64_MAX : (int64_t)max);
	if (pg_exec(c, name, sql, &a, &r, e) == -1)
		return -1;
	k = PQntuples(r);
	if (k > 0)
		*rows = xcalloc((size_t)k, sizeof(**rows));
	for (i = 0; i < k; i++)
		addr_row(r, i, &(*rows)[i]);
	*n = (size_t)k;
	PQclear(r);
	return 0;
}

/* Up to max addresses not asked about, confirmed before verified_before,
 * longest unconfirmed first. */
int
pgs_addr_due(struct store *s, int64_t verified_before, size_t max,
    struct store_addr **rows, size_t *n, struct err *e)
{
	return addr_rows(s, "cert_addr_due", sql_addr_due, verified_before,
	    max, rows, n, e);
}

/* Up to max addresses asked about before asked_before and not answered,
 * longest waiting first. */
int
pgs_addr_stale(struct store *s, int64_t asked_before, size_t max,
    struct store_addr **rows, size_t *n, struct err *e)
{
	return addr_rows(s, "cert_addr_stale", sql_addr_stale, asked_before,
	    max, rows, n, e);
}

static const char sql_token_pending[] = "SELECT 1 FROM tokens "
    "WHERE fpr = $1 AND address = $2 AND kind = $3::integer AND used = 0 "
    "AND expires > $4::bigint LIMIT 1";

/* Whether a live verification token exists for (fpr, address). */
int
pgs_token_pending(struct store *s, const char *fpr, const char *address,
    int64_t now, bool *pending, struct err *e)
{
	struct pg_conn *c;
	struct pg_args a;
	PGresult *r;

	*pending = false;
	if ((c = pg_unit(s, e)) == NULL)
		return -1;
	pg_args_init(&a);
	pg_arg_text(&a, fpr);
	pg_arg_text(&a, address);
	pg_arg_int(&a, TOKEN_VERIFY);
	pg_arg_int(&a, now);
	if (pg_exec(c, "cert_token_pending", sql_token_pending, &a, &r,
	    e) == -1)
		return -1;
	*pending = PQntuples(r) > 0;
	PQclear(r);
	return 0;
}

static const char sql_upload_mark[] = "UPDATE certs SET upload_hash = "
    "$2::bytea, upload_addrs = $3 WHERE fpr = $1";

/* Remember the hash and the addresses of fpr's last upload. */
int
pgs_upload_mark(struct store *s, const char *fpr,
    const uint8_t hash[STORE_HASH_LEN], const struct store_upload_addr *addrs,
    size_t n, struct err *e)
{
	struct pg_conn *c;
	struct pg_args a;
	struct buf lines;
	size_t i;
	int rc;

	if ((c = pg_unit(s, e)) == NULL)
		return -1;
	/* one a line, '+' live or '-' revoked: upload_view reads it back
	 * (store_pg_read.c) */
	buf_init(&lines, n * (sizeof(((struct store_addr *)0)->address) + 2) +
	    1);
	for (i = 0; i < n; i++)
		buf_printf(&lines, "%c%s\n", addrs[i].live ? '+' : '-',
		    addrs[i].address);
	if (buf_failed(&lines)) {
		buf_release(&lines);
		return err_set(e, ERR_INTERNAL, "upload_mark: addresses too "
		    "long");
	}
	pg_args_init(&a);
	pg_arg_text(&a, fpr);
	pg_arg_bytes(&a, hash, STORE_HASH_LEN);
	pg_arg_text(&a, lines.len ? lines.data : "");
	rc = run(c, "cert_upload_mark", sql_upload_mark, &a, e);
	buf_release(&lines);
	return rc;
}
