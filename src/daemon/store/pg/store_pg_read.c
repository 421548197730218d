/*
 * store_pg_read: lookups and the upload answer, outside any unit of
 * work, on a pooled connection (never the thread's unit's: a lookup does
 * not see a unit's uncommitted writes).  A lookup is one statement, one
 * round trip (a fingerprint that is no primary's falls back to subkeys
 * inside it).  In serve, a lookup is answered from the cache, else from
 * the replica, else from the primary, each only while the listener
 * proves it current (store_pg_listen.c); what the database answers is
 * kept in the cache (store_pg_cache.c).
 */
#include <stdlib.h>
#include <string.h>

#include "store_pg_int.h"
#include "str.h"
#include "xmalloc.h"

#define PUB_COLS "SELECT c.fpr, c.keyid, c.published, c.hkp_index, " \
	"c.etag, c.updated "

/* the primary first; subkeys' rows only count without one (more()) */
static const char sql_by_fpr[] = "SELECT * FROM (" PUB_COLS ", true AS p "
    "FROM certs c WHERE c.fpr = $1 UNION ALL " PUB_COLS ", false FROM "
    "keyids k JOIN certs c ON c.id = k.cid WHERE k.fpr = $1 AND "
    "k.fpr <> k.cert) x ORDER BY p DESC, fpr LIMIT 64";
static const char sql_by_keyid[] = PUB_COLS ", k.fpr = k.cert FROM keyids "
    "k JOIN certs c ON c.id = k.cid WHERE k.keyid = $1 "
    "ORDER BY k.fpr = k.cert DESC, k.cert LIMIT 64";
static const char sql_by_email[] = PUB_COLS ", true FROM addresses a "
    "JOIN certs c ON c.id = a.cid WHERE a.address = $1";
/* the WKD form of a binding published now (the join), never a row a
 * republish has yet to replace */
static const char sql_by_wkd[] = "SELECT c.fpr, c.keyid, "
    "encode(w.data, 'hex'), NULL, c.etag, c.updated, true FROM wkd w "
    "JOIN addresses a ON a.address = w.address AND a.cid = w.cid "
    "JOIN certs c ON c.id = w.cid WHERE w.hu = $1 ORDER BY c.fpr";

/* Row i of r into p; the WKD form (hex) decoded into published. */
static void
pub_row(const PGresult *r, int i, bool hex, struct store_pub *p)
{
	const char *h;
	size_t n, k;

	pg_cpy(r, i, 0, p->fpr, sizeof(p->fpr));
	pg_cpy(r, i, 1, p->keyid, sizeof(p->keyid));
	if (!hex)
		p->published = pg_dup(r, i, 2, &p->published_len);
	else {
		h = pg_text(r, i, 2);
		n = strlen(h) / 2;
		p->published = xmalloc(n + 1);
		for (k = 0; k < n; k++) {
			unsigned v;

			v = (unsigned)(h[2 * k] <= '9' ? h[2 * k] - '0' :
			    h[2 * k] - 'a' + 10) << 4;
			v |= (unsigned)(h[2 * k + 1] <= '9' ? h[2 * k + 1] -
			    '0' : h[2 * k + 1] - 'a' + 10);
			p->published[k] = (char)v;
		}
		p->published[n] = '\0';
		p->published_len = n;
	}
	p->hkp_index = pg_dup(r, i, 3, NULL);
	pg_cpy(r, i, 4, p->etag, sizeof(p->etag));
	p->updated = pg_int(r, i, 5);
}

/* The rows after the first of r: only of the first's kind (primary or
 * subkey), each key once, at most STORE_LOOKUP_MAX. */
static void
more(const PGresult *r, struct store_pub *out)
{
	struct store_pub **tail = &out->next, *p;
	bool primary = pg_bool(r, 0, 6);
	int i, n = 1;

	for (i = 1; i < PQntuples(r) && n < STORE_LOOKUP_MAX; i++) {
		if (pg_bool(r, i, 6) != primary)
			return;
		if (!strcmp(pg_text(r, i, 0), pg_text(r, i - 1, 0)))
			continue;
		p = xcalloc(1, sizeof(*p));
		pub_row(r, i, false, p);
		*tail = p;
		tail = &p->next;
		n++;
	}
}

/* The lookup on c: 0 found, 1 not, -1 error. */
static int
lookup_db(struct pg_conn *c, enum store_by by, const char *key,
    struct store_pub *out, struct err *e)
{
	static const struct {
		const char *name, *sql;
	} st[] = {
		[STORE_BY_FPR] = { "by_fpr", sql_by_fpr },
		[STORE_BY_KEYID] = { "by_keyid", sql_by_keyid },
		[STORE_BY_EMAIL] = { "by_email", sql_by_email },
		[STORE_BY_WKD] = { "by_wkd", sql_by_wkd },
	};
	struct pg_args a;
	PGresult *r;
	int ret = 1;

	pg_args_init(&a);
	pg_arg_text(&a, key);
	if (pg_exec(c, st[by].name, st[by].sql, &a, &r, e) == -1)
		return -1;
	if (PQntuples(r) > 0) {
		pub_row(r, 0, by == STORE_BY_WKD, out);
		if (by == STORE_BY_KEYID || by == STORE_BY_FPR)
			more(r, out);
		ret = 0;
	}
	PQclear(r);
	return ret;
}

/* The lookup on a connection of q's pool. */
static int
lookup_on(struct pg *q, enum store_by by, const char *key,
    struct store_pub *out, struct err *e)
{
	struct pg_conn *c;
	int rc;

	if ((c = pg_pool_take(q, e)) == NULL)
		return -1;
	rc = lookup_db(c, by, key, out, e);
	pg_pool_put(q, c);
	return rc;
}

int
pgs_lookup(struct store *s, enum store_by by, const char *key,
    struct store_pub *out, struct err *e)
{
	struct pg *q = s->impl;
	struct pg_conn *c;
	struct err re;
	bool cached, replica = false;
	int64_t now, as_of = 0;
	uint64_t gen = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	if (by != STORE_BY_FPR && by != STORE_BY_KEYID && by != STORE_BY_EMAIL &&
	    by != STORE_BY_WKD)
		return err_set(e, ERR_INTERNAL, "store: bad lookup kind %d",
		    (int)by);
	if (q->listen == NULL) {
		/* not serve, or neither cache nor replica: a connection that
		 * is not this thread's unit's */
		if ((c = pg_take_free(s, e)) == NULL)
			return -1;
		rc = lookup_db(c, by, key, out, e);
		pg_put(s, c);
		return rc;
	}
	now = pg_now_ms();
	cached = q->cache != NULL && by != STORE_BY_WKD &&
	    pgl_cache_ok(q->listen, now);
	if (cached) {
		if ((rc = pgc_get(q->cache, by, key, out)) >= 0)
			return rc;
		gen = pgc_gen(q->cache);
	}
	if (q->read != NULL && pgl_replica_ok(q->listen, now, &as_of)) {
		if ((rc = lookup_on(q->read, by, key, out, &re)) >= 0)
			replica = true;
		else {
			store_pub_release(out);	/* the primary answers */
			memset(out, 0, sizeof(*out));
		}
	}
	if (!replica && (rc = lookup_on(q, by, key, out, e)) == -1)
		return -1;
	if (cached)
		pgc_put(q->cache, gen, replica, as_of, by, key,
		    rc == 0 ? out : NULL);
	return rc;
}

static const char sql_by_upload[] = "SELECT fpr, revoked, upload_addrs "
    "FROM certs WHERE upload_hash = $1 LIMIT 1";
static const char sql_pub_addrs[] = "SELECT address FROM addresses WHERE "
    "cid = (SELECT id FROM certs WHERE fpr = $1) ORDER BY address";
/* $5.. the statuses and the token kind, bound: the enums' values live
 * only in store.h */
static const char sql_addr_status[] = "SELECT CASE WHEN EXISTS (SELECT 1 "
    "FROM addresses a JOIN certs c ON c.id = a.cid WHERE a.address = $2 "
    "AND c.fpr = $1) THEN $6::int WHEN EXISTS (SELECT 1 FROM tokens "
    "WHERE fpr = $1 AND address = $2 AND kind = $5::int AND used = 0 AND "
    "expires > $3::bigint) AND EXISTS (SELECT 1 FROM mail_rate WHERE "
    "address = $2 AND last > $4::bigint) THEN $7::int ELSE $8::int END";

/* Add address to v once, with its status. */
static int
view_add(struct pg_conn *c, struct store_upload_view *v,
    const char *address, bool revoked, int64_t now, int64_t rate_since,
    struct err *e)
{
	struct pg_args a;
	PGresult *r;
	size_t i;

	for (i = 0; i < v->naddrs; i++)
		if (!strcmp(v->addrs[i].address, address))
			return 0;
	v->addrs = xrealloc(v->addrs, (v->naddrs + 1) * sizeof(*v->addrs));
	str_lcpy(v->addrs[v->naddrs].address, address,
	    sizeof(v->addrs[0].address));
	v->addrs[v->naddrs].status = STORE_REVOKED;
	if (!revoked) {
		pg_args_init(&a);
		pg_arg_text(&a, v->fpr);
		pg_arg_text(&a, address);
		pg_arg_int(&a, now);
		pg_arg_int(&a, rate_since);
		pg_arg_int(&a, TOKEN_VERIFY);
		pg_arg_int(&a, STORE_PUBLISHED);
		pg_arg_int(&a, STORE_PENDING);
		pg_arg_int(&a, STORE_UNPUBLISHED);
		if (pg_exec(c, "addr_status", sql_addr_status, &a, &r, e) == -1)
			return -1;
		v->addrs[v->naddrs].status =
		    (enum store_addr_status)pg_int(r, 0, 0);
		PQclear(r);
	}
	v->naddrs++;
	return 0;
}

int
pgs_upload_view(struct store *s, const uint8_t hash[STORE_HASH_LEN],
    int64_t now, int64_t rate_since, struct store_upload_view *out,
    struct err *e)
{
	struct pg_conn *c;
	struct pg_args a;
	PGresult *r = NULL, *pa = NULL;
	const char *p, *nl;
	char addr[EMAIL_MAX + 2], *lines = NULL;
	bool snap = false;
	int ret = -1, i;

	memset(out, 0, sizeof(*out));
	if ((c = pg_take_free(s, e)) == NULL)
		return -1;
	/* the key and each address's status from one snapshot */
	if (!c->in_txn) {
		if (pg_exec_plain(c, "BEGIN ISOLATION LEVEL REPEATABLE READ "
		    "READ ONLY", e) == -1)
			goto out;
		snap = true;
	}
	pg_args_init(&a);
	pg_arg_bytes(&a, hash, STORE_HASH_LEN);
	if (pg_exec(c, "by_upload", sql_by_upload, &a, &r, e) == -1)
		goto out;
	if (PQntuples(r) == 0) {
		ret = 1;
		goto out;
	}
	pg_cpy(r, 0, 0, out->fpr, sizeof(out->fpr));
	out->revoked = pg_bool(r, 0, 1);
	lines = pg_dup(r, 0, 2, NULL);
	/* the upload's own addresses ("+addr" / "-addr" lines), then the
	 * published ones */
	for (p = lines; p != NULL && *p; p = nl ? nl + 1 : p + strlen(p)) {
		nl = strchr(p, '\n');
		if ((size_t)(nl ? nl - p : (long)strlen(p)) < 2)
			continue;
		str_lcpy(addr, p + 1, sizeof(addr));
		addr[strcspn(addr, "\n")] = '\0';
		if (view_add(c, out, addr, *p == '-', now, rate_since, e) == -1)
			goto out;
	}
	out->nupload = out->naddrs;
	if (!out->revoked) {
		pg_args_init(&a);
		pg_arg_text(&a, out->fpr);
		if (pg_exec(c, "pub_addrs", sql_pub_addrs, &a, &pa, e) == -1)
			goto out;
		for (i = 0; i < PQntuples(pa); i++)
			if (view_add(c, out, pg_text(pa, i, 0), false, now,
			    rate_since, e) == -1)
				goto out;
	}
	ret = 0;
out:
	PQclear(r);
	PQclear(pa);
	free(lines);
	if (ret == -1)
		store_upload_view_release(out);
	if (snap)
		pg_exec_plain(c, ret == -1 ? "ROLLBACK" : "COMMIT", NULL);
	pg_put(s, c);
	return ret;
}
