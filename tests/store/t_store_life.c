/*
 * t_store_life: the store's key-lifecycle and export calls in a temporary
 * directory: the upgrade to the current schema, re-verification schedule,
 * key deletion, purges, nonces, outbox leases, snapshot scans and exact
 * restores.
 */
#include <sys/stat.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "log.h"
#include "storetest.h"

/* The version 1 and 2 schema as shipped, for the upgrade test. */
static const char v2_schema[] =
	"CREATE TABLE certs (fpr TEXT PRIMARY KEY NOT NULL,"
	" keyid TEXT NOT NULL, algo INTEGER NOT NULL, bits INTEGER NOT NULL,"
	" created INTEGER NOT NULL, expires INTEGER NOT NULL,"
	" revoked INTEGER NOT NULL, full BLOB NOT NULL,"
	" published BLOB NOT NULL, hkp_index TEXT NOT NULL,"
	" etag TEXT NOT NULL, updated INTEGER NOT NULL);"
	"CREATE TABLE keyids (fpr TEXT NOT NULL, keyid TEXT NOT NULL,"
	" cert TEXT NOT NULL REFERENCES certs(fpr) ON DELETE CASCADE,"
	" PRIMARY KEY (fpr, cert));"
	"CREATE INDEX keyids_keyid ON keyids(keyid);"
	"CREATE INDEX keyids_cert ON keyids(cert);"
	"CREATE TABLE addresses (address TEXT PRIMARY KEY NOT NULL,"
	" fpr TEXT NOT NULL REFERENCES certs(fpr) ON DELETE CASCADE,"
	" published INTEGER NOT NULL);"
	"CREATE INDEX addresses_fpr ON addresses(fpr);"
	"CREATE TABLE tokens (hash BLOB PRIMARY KEY NOT NULL"
	" CHECK (length(hash) = 32), kind INTEGER NOT NULL,"
	" fpr TEXT NOT NULL, address TEXT NOT NULL, created INTEGER NOT NULL,"
	" expires INTEGER NOT NULL, used INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX tokens_fpr_address ON tokens(fpr, address);"
	"CREATE TABLE mail_rate (address TEXT PRIMARY KEY NOT NULL,"
	" last INTEGER NOT NULL);"
	"CREATE TABLE outbox (id INTEGER PRIMARY KEY, rcpt TEXT NOT NULL,"
	" data BLOB NOT NULL, created INTEGER NOT NULL,"
	" attempts INTEGER NOT NULL DEFAULT 0, next_attempt INTEGER NOT NULL,"
	" sent INTEGER, last_error TEXT);"
	"CREATE INDEX outbox_due ON outbox(sent, next_attempt);"
	"CREATE TABLE token_addrs (hash BLOB NOT NULL"
	" REFERENCES tokens(hash) ON DELETE CASCADE, address TEXT NOT NULL,"
	" PRIMARY KEY (hash, address));"
	"PRAGMA user_version = 2;"
	"INSERT INTO certs VALUES ('" FPR_A "', 'x', 22, 255, 1, 0, 0, x'99',"
	" 'p', 'i', 'e', 2000);"
	"INSERT INTO certs VALUES ('" FPR_D "', 'x', 22, 255, 1, 0, 0, x'99',"
	" 'p', 'i', 'e', 3000);"
	"INSERT INTO addresses VALUES ('" ADDR "', '" FPR_A "', 123);"
	"INSERT INTO keyids VALUES ('" FPR_A "', 'x', '" FPR_A "');"
	/* subkeys in an order that is not the fingerprints' order */
	"INSERT INTO keyids VALUES ('" FPR_C "', 'C3', '" FPR_A "');"
	"INSERT INTO keyids VALUES ('" FPR_B "', 'B2', '" FPR_A "');"
	/* a v3 key, as keydird stored them before schema 6 */
	"INSERT INTO certs VALUES ('" FPR_V3 "', 'x', 1, 2048, 1, 0, 0,"
	" x'99', 'p', 'i', 'e', 4000);"
	"INSERT INTO addresses VALUES ('v3@x.org', '" FPR_V3 "', 124);"
	"INSERT INTO keyids VALUES ('" FPR_V3 "', '0123456789ABCDEF', '"
	FPR_V3 "');"
	"INSERT INTO keyids VALUES ('" FPR_V3 "', 'V3SUB', '" FPR_D "');"
	"INSERT INTO tokens VALUES (zeroblob(32), 2, '" FPR_V3 "', "
	" 'v3@x.org', 1, 2, 0);";

/* A version 2 database made by hand gains the lifecycle columns. */
static void
t_upgrade(const char *dir)
{
	struct store_cert c;
	struct store_addr a;
	struct store *s;
	struct err e;
	sqlite3 *db;
	char path[600], url[620];
	int rc = SQLITE_ERROR;

	snprintf(path, sizeof(path), "%s/v2.db", dir);
	snprintf(url, sizeof(url), "sqlite:%s", path);
	if (sqlite3_open(path, &db) == SQLITE_OK)
		rc = sqlite3_exec(db, v2_schema, NULL, NULL, NULL);
	sqlite3_close(db);
	ok(rc == SQLITE_OK, "version 2 database made by hand");
	s = store_open(url, &e);
	ok(s != NULL, "store_open upgrades it (%s)", s ? "ok" : e.msg);
	if (s == NULL)
		return;
	ok(db_int(path, "PRAGMA user_version") == 11, "upgraded to 11");
	ok(db_int(path, "SELECT count(*) FROM certs WHERE fpr = '" FPR_V3
	    "'") == 0 && db_int(path, "SELECT count(*) FROM tokens") == 0 &&
	    db_int(path, "SELECT count(*) FROM addresses") == 1,
	    "the v3 key went with its address, key id and token");
	ok(db_int(path, "SELECT count(*) FROM keyids WHERE length(fpr) <> "
	    "40") == 0, "so did a v3 subkey's index row");
	ok(db_int(path, "SELECT count(*) FROM pragma_table_list WHERE wr = 1 "
	    "AND name IN ('addresses', 'keyids')") == 2,
	    "addresses and keyids are WITHOUT ROWID");
	ok(db_int(path, "SELECT count(*) FROM keyids") == 3 &&
	    db_int(path, "SELECT count(*) FROM pragma_index_list('keyids') "
	    "WHERE name IN ('keyids_keyid', 'keyids_cert')") == 2 &&
	    db_int(path, "SELECT count(*) FROM pragma_index_list('addresses') "
	    "WHERE name IN ('addresses_cid', 'addresses_schedule')") == 2,
	    "rows and indexes carried over");
	ok(db_int(path, "SELECT verified FROM addresses") == 123 &&
	    db_int(path, "SELECT asked FROM addresses") == 0,
	    "verified = published, asked 0");
	ok(db_int(path, "SELECT first_stored * 10 + had_address FROM certs "
	    "WHERE fpr = '" FPR_A "'") == 20001, "addressed cert: had_address");
	ok(db_int(path, "SELECT first_stored * 10 + had_address FROM certs "
	    "WHERE fpr = '" FPR_D "'") == 30001, "bare cert: first_stored, counted as confirmed");
	ok(db_int(path, "SELECT count(*) FROM nonces") == 0, "nonces table");
	store_begin(s, &e);
	ok(store_addr_get(s, ADDR, &a, &e) == 0 && a.verified == 123 &&
	    a.asked == 0 && strcmp(a.fpr, FPR_A) == 0,
	    "addr_get after upgrade");
	ok(store_cert_get(s, FPR_A, &c, &e) == 0 && c.nsubs == 2 &&
	    strcmp(c.subs[0].fpr, FPR_C) == 0 &&
	    strcmp(c.subs[1].fpr, FPR_B) == 0,
	    "subkeys keep their stored order");
	store_cert_release(&c);
	store_commit(s, &e);
	store_close(s);
}

/* A database as schema 7 left it, for the upgrade to 8: a fresh one
 * with what migrations 8 to 11 added taken out, and keys of every kind. */
static const char v7_back[] =
	"DROP TABLE wkd;"
	"DROP INDEX outbox_rcpt; ALTER TABLE outbox DROP COLUMN failed;"
	"ALTER TABLE outbox DROP COLUMN leased_by;"
	"DROP TRIGGER unconfirmed_ins; DROP TRIGGER unconfirmed_del;"
	"DROP TRIGGER unconfirmed_upd; DROP TABLE unconfirmed;"
	"DROP INDEX certs_client; DROP INDEX certs_room;"
	"ALTER TABLE certs DROP COLUMN client;"
	"ALTER TABLE certs DROP COLUMN bytes;"
	"PRAGMA user_version = 7;"
	/* never confirmed: 2 + 3 + 3 bytes (the index is UTF-8: i, e acute) */
	"INSERT INTO certs (fpr, keyid, algo, bits, created, expires, revoked,"
	" full, published, hkp_index, etag, updated, first_stored, had_address)"
	" VALUES ('" FPR_A "', 'x', 22, 255, 1, 0, 0, x'9900', 'pub',"
	" 'i' || char(233), 'e', 10, 10, 0),"
	/* never confirmed: 3 bytes */
	" ('" FPR_B "', 'x', 22, 255, 1, 0, 0, x'99', 'p', 'i', 'e', 20, 20, 0),"
	/* confirmed once; revoked: neither counts */
	" ('" FPR_C "', 'x', 22, 255, 1, 0, 0, x'99', 'p', 'i', 'e', 30, 30, 1),"
	" ('" FPR_D "', 'x', 22, 255, 1, 0, 1, x'99', 'p', 'i', 'e', 40, 40, 0);";

/* Schema 7 to 8: each key's size, the totals of the never-confirmed
 * ones, and triggers that keep them. */
static void
t_upgrade8(const char *dir)
{
	struct store_stats st;
	struct store *s;
	struct err e;
	sqlite3 *db;
	char path[600], url[620];
	int rc = SQLITE_ERROR;

	snprintf(path, sizeof(path), "%s/v7.db", dir);
	snprintf(url, sizeof(url), "sqlite:%s", path);
	if ((s = store_open(url, &e)) == NULL) {
		ok(0, "a fresh database: %s", e.msg);
		return;
	}
	store_close(s);
	if (sqlite3_open(path, &db) == SQLITE_OK)
		rc = sqlite3_exec(db, v7_back, NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		printf("# %s\n", sqlite3_errmsg(db));
	sqlite3_close(db);
	ok(rc == SQLITE_OK && db_int(path, "PRAGMA user_version") == 7,
	    "a version 7 database with four keys");
	s = store_open(url, &e);
	ok(s != NULL, "store_open upgrades it (%s)", s ? "ok" : e.msg);
	if (s == NULL)
		return;
	ok(db_int(path, "PRAGMA user_version") == 11, "upgraded to 11");
	ok(db_int(path, "SELECT bytes FROM certs WHERE fpr = '" FPR_A "'") ==
	    8 && db_int(path, "SELECT bytes FROM certs WHERE fpr = '" FPR_C
	    "'") == 3, "each key's size in bytes, UTF-8 counted as bytes");
	ok(db_int(path, "SELECT count(*) FROM certs WHERE client IS NULL") ==
	    4, "nobody's client");
	ok(store_begin_read(s, &e) == 0 && store_stats(s, &st, &e) == 0 &&
	    st.unconfirmed == 2 && st.unconfirmed_bytes == 11,
	    "the never-confirmed, unrevoked two: 11 bytes");
	store_rollback(s);
	ok(store_begin(s, &e) == 0 && store_cert_del(s, FPR_A, &e) == 0 &&
	    store_addr_set(s, ADDR, FPR_B, 50, &e) == 0 &&
	    store_stats(s, &st, &e) == 0 && st.unconfirmed == 0 &&
	    st.unconfirmed_bytes == 0 && store_commit(s, &e) == 0,
	    "the triggers follow a delete and a confirmation");
	store_close(s);
}

/* Whether rows are exactly the addresses in want, in order. */
static int
rows_are(const struct store_addr *rows, size_t n, const char *const *want,
    size_t nwant)
{
	if (n != nwant)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (strcmp(rows[i].address, want[i]) != 0)
			return 0;
	return 1;
}

/* addr_due or addr_stale (stale) matches exactly want. */
static int
sched_is(struct store *s, bool stale, int64_t before, size_t max,
    const char *const *want, size_t nwant)
{
	struct store_addr *rows;
	struct err e;
	size_t n;
	int rc, good;

	if (stale)
		rc = store_addr_stale(s, before, max, &rows, &n, &e);
	else
		rc = store_addr_due(s, before, max, &rows, &n, &e);
	if (rc != 0)
		return 0;
	good = rows_are(rows, n, want, nwant) && (n > 0 || rows == NULL);
	store_addr_rows_free(rows, n);
	return good;
}

/* The re-verification schedule: set, due, asked, stale, confirmed. */
static void
t_schedule(struct store *s)
{
	const char *const all[] = { ADDR, "bob@example.org", "carol@x.org" };
	const char *const late[] = { "bob@example.org", "carol@x.org" };
	struct store_addr a;
	struct err e;

	store_begin(s, &e);
	ok(store_addr_set(s, ADDR, FPR_A, 100, &e) == 0 &&
	    store_addr_set(s, all[1], FPR_A, 200, &e) == 0 &&
	    store_addr_set(s, all[2], FPR_A, 300, &e) == 0, "three addr_set");
	ok(store_addr_get(s, ADDR, &a, &e) == 0 && a.verified == 100 &&
	    a.asked == 0 && strcmp(a.fpr, FPR_A) == 0 &&
	    strcmp(a.address, ADDR) == 0, "addr_set: verified = now, asked 0");
	ok(store_addr_get(s, "nobody@x.org", &a, &e) == 1, "addr_get none: 1");
	ok(sched_is(s, false, 200, 10, all, 1), "due: verified < before only");
	ok(sched_is(s, false, 301, 10, all, 3), "due: oldest first");
	ok(sched_is(s, false, 301, 2, all, 2), "due: at most max");
	ok(sched_is(s, false, 100, 10, all, 0), "due: none, rows NULL");
	ok(store_addr_asked(s, ADDR, 400, &e) == 0, "addr_asked");
	ok(store_addr_asked(s, "nobody@x.org", 400, &e) == 1,
	    "addr_asked none: 1");
	ok(sched_is(s, false, 1000, 10, late, 2), "due: asked ones left out");
	ok(sched_is(s, true, 400, 10, all, 0), "stale: asked < before only");
	ok(sched_is(s, true, 401, 10, all, 1), "stale: the one asked");
	ok(store_addr_get(s, ADDR, &a, &e) == 0 && a.asked == 400 &&
	    a.verified == 100, "addr_get: asked");
	ok(store_addr_confirmed(s, ADDR, 500, &e) == 0 &&
	    store_addr_get(s, ADDR, &a, &e) == 0 && a.verified == 500 &&
	    a.asked == 0, "addr_confirmed: verified = now, asked 0");
	ok(store_addr_confirmed(s, "nobody@x.org", 1, &e) == 1,
	    "addr_confirmed none: 1");
	ok(sched_is(s, true, 1000, 10, all, 0), "stale: none once confirmed");
	ok(store_addr_asked(s, late[0], 600, &e) == 0 &&
	    store_addr_set(s, late[0], FPR_A, 700, &e) == 0 &&
	    store_addr_get(s, late[0], &a, &e) == 0 && a.verified == 700 &&
	    a.asked == 0, "addr_set again resets the schedule");
	ok(store_commit(s, &e) == 0, "commit schedule");
}

/* Put a token whose hash is all b. */
static int
tok_put(struct store *s, uint8_t b, enum token_kind kind, const char *fpr,
    int64_t expires)
{
	struct store_token t;
	struct err e;

	memset(&t, 0, sizeof(t));
	memset(t.hash, b, sizeof(t.hash));
	t.kind = kind;
	str_lcpy(t.fpr, fpr, sizeof(t.fpr));
	str_lcpy(t.address, kind == TOKEN_UPLOAD ? "" : ADDR,
	    sizeof(t.address));
	t.created = 1;
	t.expires = expires;
	return store_token_put(s, &t, &e);
}

/* token_get for the token whose hash is all b. */
static int
tok_get(struct store *s, uint8_t b)
{
	uint8_t hash[STORE_HASH_LEN];
	struct store_token t;
	struct err e;

	memset(hash, b, sizeof(hash));
	return store_token_get(s, hash, &t, &e);
}

/* cert_del takes the key, its key ids, addresses and tokens. */
static void
t_cert_del(struct store *s, const char *path)
{
	struct store_subkey sub;
	struct store_cert c;
	struct store_pub p;
	struct err e;
	uint8_t hash[STORE_HASH_LEN];
	char kid[KEYID_LEN + 1];

	str_lcpy(sub.fpr, FPR_B, sizeof(sub.fpr));
	keyid_of(FPR_B, sub.keyid);
	cert_make(&c, FPR_C, PUB_A, &sub, 1);
	memset(hash, 0x12, sizeof(hash));
	store_begin(s, &e);
	ok(store_cert_put(s, &c, &e) == 0 &&
	    store_addr_set(s, "dave@x.org", FPR_C, 10, &e) == 0 &&
	    tok_put(s, 0x11, TOKEN_VERIFY, FPR_C, 9000) == 0 &&
	    tok_put(s, 0x12, TOKEN_UPLOAD, FPR_C, 9000) == 0 &&
	    tok_put(s, 0x13, TOKEN_VERIFY, FPR_A, 9000) == 0 &&
	    store_commit(s, &e) == 0, "cert with address, subkey, tokens");
	ok(finds(s, STORE_BY_FPR, FPR_B, FPR_C, PUB_A), "found before");
	store_begin(s, &e);
	ok(store_cert_del(s, FPR_C, &e) == 0, "cert_del");
	ok(store_cert_del(s, FPR_C, &e) == 1, "cert_del again: 1");
	ok(tok_get(s, 0x11) == 1 && tok_get(s, 0x12) == 1,
	    "its tokens are gone");
	ok(tok_get(s, 0x13) == 0, "another key's token stays");
	ok(store_commit(s, &e) == 0, "commit cert_del");
	keyid_of(FPR_B, kid);
	ok(store_lookup(s, STORE_BY_FPR, FPR_C, &p, &e) == 1 &&
	    store_lookup(s, STORE_BY_FPR, FPR_B, &p, &e) == 1 &&
	    store_lookup(s, STORE_BY_KEYID, kid, &p, &e) == 1 &&
	    store_lookup(s, STORE_BY_EMAIL, "dave@x.org", &p, &e) == 1,
	    "no lookup finds it");
	ok(db_int(path, "SELECT count(*) FROM keyids WHERE cert = '" FPR_C
	    "'") == 0, "no keyids rows left");
}

/* Purging unconfirmed keys and expired tokens. */
static void
t_purge(struct store *s)
{
	struct store_cert c;
	struct err e;
	size_t n;

	store_begin(s, &e);
	cert_make(&c, FPR_X, PUB_A, NULL, 0);
	c.updated = 1000;
	ok(store_cert_put(s, &c, &e) == 0 &&
	    tok_put(s, 0x21, TOKEN_UPLOAD, FPR_X, 9000) == 0,
	    "old bare cert with a token");
	cert_make(&c, FPR_D, PUB_D, NULL, 0);
	c.updated = 5000;
	ok(store_cert_put(s, &c, &e) == 0, "new bare cert");
	ok(store_addr_set(s, "erin@x.org", FPR_A, 10, &e) == 0 &&
	    store_addr_del(s, "erin@x.org", &e) == 0 &&
	    store_addr_del(s, ADDR, &e) == 0 &&
	    store_addr_del(s, "bob@example.org", &e) == 0 &&
	    store_addr_del(s, "carol@x.org", &e) == 0, "A loses its addresses");
	ok(store_cert_purge_unconfirmed(s, 3000, &n, &e) == 0 && n == 1,
	    "purge: one old bare cert");
	ok(store_cert_get(s, FPR_X, &c, &e) == 1 && tok_get(s, 0x21) == 1,
	    "purged cert and its token gone");
	ok(store_cert_get(s, FPR_A, &c, &e) == 0, "once-addressed cert kept");
	store_cert_release(&c);
	ok(store_cert_purge_unconfirmed(s, 5000, &n, &e) == 0 && n == 0,
	    "purge: first_stored < before, strictly");
	cert_make(&c, FPR_D, PUB_D, NULL, 0);
	c.updated = 9000;
	ok(store_cert_put(s, &c, &e) == 0 &&
	    store_cert_purge_unconfirmed(s, 5001, &n, &e) == 0 && n == 1,
	    "an update keeps first_stored");
	ok(store_cert_purge_unconfirmed(s, 1000000, &n, &e) == 0 && n == 0,
	    "A never purged");

	ok(tok_put(s, 0x22, TOKEN_VERIFY, FPR_A, 300) == 0 &&
	    tok_put(s, 0x23, TOKEN_VERIFY, FPR_A, 301) == 0 &&
	    tok_put(s, 0x24, TOKEN_MANAGE, FPR_A, 200) == 0, "three tokens");
	ok(store_token_purge(s, 300, &n, &e) == 0 && n == 2,
	    "token_purge: expires <= now");
	ok(tok_get(s, 0x22) == 1 && tok_get(s, 0x24) == 1 &&
	    tok_get(s, 0x23) == 0, "only expired tokens gone");
	ok(store_token_purge(s, 300, &n, &e) == 0 && n == 0, "purge again: 0");
	ok(store_commit(s, &e) == 0, "commit purges");

}

static void t_recovery(struct store *s);

/* Sent mail and rate marks go after their retention; unsent mail stays. */
static void
t_purge_mail(struct store *s)
{
	struct store_mail *rows = NULL;
	struct err e;
	size_t n = 9, n2 = 9;
	int64_t last = 0;

	ok(store_begin(s, &e) == 0 &&
	    store_outbox_add(s, "p1@x.org", "a", 1, 100, &e) == 0 &&
	    store_outbox_add(s, "p2@x.org", "b", 1, 100, &e) == 0 &&
	    store_outbox_add(s, "p3@x.org", "c", 1, 100, &e) == 0 &&
	    store_outbox_due(s, 100, 700, "t", 10, &rows, &n, &e) == 0 && n >= 3,
	    "three mails queued and leased");
	/* the first sent at 200, the second at 400, the third never */
	ok(n >= 3 && store_outbox_done(s, rows[n - 3].id, 200, &e) == 0 &&
	    store_outbox_done(s, rows[n - 2].id, 400, &e) == 0, "two sent");
	store_mails_free(rows, n);
	ok(store_outbox_purge(s, 300, &n, &e) == 0 && n == 1,
	    "outbox_purge: only mail sent before `before` (%zu)", n);
	ok(store_outbox_purge(s, 1000000, &n, &e) == 0 && n == 1,
	    "then the other sent one; the unsent one stays");
	ok(store_outbox_due(s, 100000, 100600, "t", 10, &rows, &n2, &e) == 0 &&
	    n2 >= 1 && strcmp(rows[n2 - 1].rcpt, "p3@x.org") == 0,
	    "the unsent mail is still due");
	/* leased until 100600; handed back untried, due again at once */
	ok(store_outbox_release(s, rows[n2 - 1].id, 100001, &e) == 0 &&
	    store_outbox_release(s, 999999, 100001, &e) == 1,
	    "outbox_release: 0 for a leased row, 1 for no such row");
	store_mails_free(rows, n2);
	ok(store_outbox_due(s, 100001, 100601, "t", 10, &rows, &n2, &e) == 0 &&
	    n2 >= 1 && strcmp(rows[n2 - 1].rcpt, "p3@x.org") == 0 &&
	    rows[n2 - 1].attempts == 0,
	    "a released row is due again before its lease ended, untried");
	store_mails_free(rows, n2);
	ok(store_rate_set(s, "r1@x.org", 100, &e) == 0 &&
	    store_rate_set(s, "r2@x.org", 500, &e) == 0 &&
	    store_rate_purge(s, 300, &n, &e) == 0 && n >= 1 &&
	    store_rate_get(s, "r1@x.org", &last, &e) == 1 &&
	    store_rate_get(s, "r2@x.org", &last, &e) == 0 && last == 500,
	    "rate_purge: marks set before `before` go, later ones stay");
	ok(store_commit(s, &e) == 0, "commit mail purges");
}

/* Removal nonces: once each until purged. */
static void
t_nonce(struct store *s)
{
	struct err e;

	store_begin(s, &e);
	ok(store_nonce_use(s, "n1", 100, &e) == 0, "nonce_use");
	ok(store_nonce_use(s, "n1", 500, &e) == 1, "replay: 1");
	ok(store_nonce_use(s, "n2", 200, &e) == 0, "second nonce");
	ok(store_nonce_purge(s, 101, &e) == 0, "nonce_purge");
	ok(store_nonce_use(s, "n1", 150, &e) == 0, "purged nonce usable");
	ok(store_nonce_use(s, "n2", 1, &e) == 1, "live nonce still a replay");
	ok(store_commit(s, &e) == 0, "commit nonces");
}

/* Due rows of the outbox for now, in a transaction of their own; -1 on
 * error. */
static int
drain(struct store *s, int64_t now, int64_t *id)
{
	struct store_mail *rows;
	struct err e;
	size_t n;

	if (store_begin(s, &e) == -1)
		return -1;
	if (store_outbox_due(s, now, now + 600, "t", 10, &rows, &n, &e) == -1) {
		store_rollback(s);
		return -1;
	}
	if (n > 0 && id != NULL)
		*id = rows[0].id;
	store_mails_free(rows, n);
	return store_commit(s, &e) == -1 ? -1 : (int)n;
}

/* outbox_due leases its rows, also against a second store handle. */
static void
t_lease(struct store *s, const char *url)
{
	struct store *s2;
	struct err e;
	int64_t id = 0;

	store_begin(s, &e);
	ok(store_outbox_add(s, ADDR, "m", 1, 1000, &e) == 0 &&
	    store_commit(s, &e) == 0, "outbox_add");
	s2 = store_open(url, &e);
	ok(s2 != NULL, "second handle (another keydird)");
	ok(drain(s, 1000, &id) == 1, "first drain gets the row");
	ok(drain(s, 1000, NULL) == 0, "second drain gets nothing");
	ok(s2 != NULL && drain(s2, 1599, NULL) == 0,
	    "nor does the other process");
	store_begin(s, &e);
	ok(store_outbox_retry(s, id, 1, 1100, "421", &e) == 0 &&
	    store_commit(s, &e) == 0, "outbox_retry settles it");
	ok(drain(s, 1099, NULL) == 0, "not due before its next time");
	ok(drain(s, 1100, NULL) == 1, "due again at its next time");
	ok(s2 != NULL && drain(s2, 1699, NULL) == 0 &&
	    drain(s2, 1700, NULL) == 1, "an unsettled lease lapses");
	store_begin(s, &e);
	ok(store_outbox_done(s, id, 1701, &e) == 0 &&
	    store_commit(s, &e) == 0 && drain(s, 99999, NULL) == 0,
	    "outbox_done: never again");
	store_close(s2);
}

/* The lifecycle calls on a fresh database of their own. */
static void
t_life(const char *dir)
{
	struct store_cert c;
	struct store *s;
	struct err e;
	char path[600], url[620];

	snprintf(path, sizeof(path), "%s/life.db", dir);
	snprintf(url, sizeof(url), "sqlite:%s", path);
	s = store_open(url, &e);
	ok(s != NULL, "lifecycle store (%s)", s ? "ok" : e.msg);
	if (s == NULL)
		return;
	cert_make(&c, FPR_A, PUB_A, NULL, 0);
	ok(put(s, &c) == 0, "cert A");
	t_schedule(s);
	ok(db_int(path, "SELECT first_stored * 10 + had_address FROM certs "
	    "WHERE fpr = '" FPR_A "'") == 20001,
	    "first_stored = updated, had_address set");
	t_cert_del(s, path);
	t_purge(s);
	t_purge_mail(s);
	t_recovery(s);
	t_nonce(s);
	t_lease(s, url);
	store_close(s);
}

/* Scan fpr order from after; the fingerprints seen, joined by ','. */
static size_t
scan(struct store *s, const char *after, size_t max, char *seen, size_t sz)
{
	struct store_cert *rows;
	struct err e;
	size_t n = 0;

	seen[0] = '\0';
	if (store_certs_scan(s, after, max, &rows, &n, &e) == -1)
		return (size_t)-1;
	for (size_t i = 0; i < n; i++) {
		strncat(seen, rows[i].fpr, sz - strlen(seen) - 1);
		strncat(seen, ",", sz - strlen(seen) - 1);
	}
	store_certs_free(rows, n);
	return n;
}

/* The rows for export, in a snapshot that writers do not wait for. */
static void
t_scan(struct store *s, const char *url)
{
	struct store_cert *rows = NULL, c;
	struct store *w;
	struct err e;
	char seen[256];
	size_t n = 0;

	ok(store_begin_read(s, &e) == 0, "begin_read");
	ok(store_certs_scan(s, "", 2, &rows, &n, &e) == 0 && n == 2 &&
	    !strcmp(rows[0].fpr, FPR_A) && !strcmp(rows[1].fpr, FPR_B),
	    "certs_scan: the first 2 in fpr order");
	ok(n == 2 && rows[0].naddrs == 2 &&
	    !strcmp(rows[0].addrs[0].address, "a2@example.org") &&
	    !strcmp(rows[0].addrs[1].address, ADDR) &&
	    rows[0].addrs[1].published == 100 &&
	    rows[0].addrs[1].verified == 200 && rows[0].addrs[1].asked == 300,
	    "certs_scan: addresses sorted, with their dates");
	ok(n == 2 && rows[0].first_stored == 50 && rows[0].had_address &&
	    rows[0].full_len == 5 && rows[0].full[0] == 0x99 &&
	    rows[1].naddrs == 0 && rows[1].first_stored == 2000 &&
	    !rows[1].had_address, "certs_scan: full, first_stored, had_address");
	store_certs_free(rows, n);
	w = store_open(url, &e);
	cert_make(&c, FPR_D, PUB_D, NULL, 0);
	ok(w != NULL && put(w, &c) == 0,
	    "a writer elsewhere commits during the snapshot");
	ok(scan(s, FPR_B, 2, seen, sizeof(seen)) == 1 &&
	    !strcmp(seen, FPR_C ","), "certs_scan after B: C, not the new D");
	ok(scan(s, FPR_C, 2, seen, sizeof(seen)) == 0, "certs_scan: the end");
	ok(store_commit(s, &e) == 0, "end the snapshot");
	store_close(w);
	ok(store_begin_read(s, &e) == 0 &&
	    scan(s, FPR_C, 5, seen, sizeof(seen)) == 1 &&
	    store_commit(s, &e) == 0, "a new snapshot sees D");
}

/* Restoring addresses and lifecycle marks with their exact values. */
static void
t_xfer(const char *dir)
{
	struct store_addr a;
	struct store_cert c;
	struct store *s;
	struct err e;
	char path[600], url[620], fpr[FPR_LEN + 1];

	snprintf(path, sizeof(path), "%s/xfer.db", dir);
	snprintf(url, sizeof(url), "sqlite:%s", path);
	if ((s = store_open(url, &e)) == NULL) {
		ok(0, "xfer store (%s)", e.msg);
		return;
	}
	cert_make(&c, FPR_C, PUB_A, NULL, 0);
	put(s, &c);
	cert_make(&c, FPR_B, PUB_A, NULL, 0);
	put(s, &c);
	cert_make(&c, FPR_A, PUB_A, NULL, 0);
	put(s, &c);
	memset(&a, 0, sizeof(a));
	str_lcpy(a.address, ADDR, sizeof(a.address));
	str_lcpy(a.fpr, FPR_B, sizeof(a.fpr));
	a.published = 1;
	store_begin(s, &e);
	ok(store_addr_restore(s, &a, &e) == 0, "addr_restore for B");
	a.published = 100;
	a.verified = 200;
	a.asked = 300;
	str_lcpy(a.fpr, FPR_A, sizeof(a.fpr));
	ok(store_addr_restore(s, &a, &e) == 0 &&
	    store_addr_owner(s, ADDR, fpr, &e) == 0 && !strcmp(fpr, FPR_A),
	    "addr_restore moves the address from B to A");
	str_lcpy(a.address, "a2@example.org", sizeof(a.address));
	ok(store_addr_restore(s, &a, &e) == 0, "a second address for A");
	ok(store_cert_restore_meta(s, FPR_A, 50, true, &e) == 0,
	    "cert_restore_meta");
	ok(store_cert_restore_meta(s, FPR_B, 2000, false, &e) == 0 &&
	    store_cert_restore_meta(s, FPR_X, 1, true, &e) == 1,
	    "cert_restore_meta: exact values; 1 for an unknown key");
	ok(store_commit(s, &e) == 0, "commit");
	ok(db_int(path, "SELECT verified * 1000 + asked FROM addresses WHERE "
	    "address = '" ADDR "'") == 200300, "addr_restore keeps the dates");
	store_begin(s, &e);
	ok(store_cert_get(s, FPR_A, &c, &e) == 0 && c.first_stored == 50 &&
	    c.had_address, "cert_get has first_stored and had_address");
	store_cert_release(&c);
	store_rollback(s);
	t_scan(s, url);
	store_close(s);
}

/* Remove the test directory. */
static void
cleanup(const char *dir)
{
	const char *names[] = { "k.db", "bare.db", "life.db", "v2.db",
	    "xfer.db" };
	const char *sfx[] = { "", "-wal", "-shm" };
	char path[600];

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		for (size_t j = 0; j < 3; j++) {
			snprintf(path, sizeof(path), "%s/%s%s", dir, names[i],
			    sfx[j]);
			unlink(path);
		}
	rmdir(dir);
}

/* Recovery data: one blob per key, replaced, deleted, gone with the key. */
static void
t_recovery(struct store *s)
{
	struct store_cert c;
	struct err e;
	uint8_t *p = NULL;
	size_t n = 0;
	int64_t when = 0;

	cert_make(&c, FPR_D, PUB_D, NULL, 0);
	ok(store_begin(s, &e) == 0 && store_cert_put(s, &c, &e) == 0 &&
	    store_recovery_get(s, FPR_D, &p, &n, &when, &e) == 1,
	    "recovery_get of a key without data: 1");
	ok(store_recovery_put(s, FPR_X, (const uint8_t *)"x", 1, 5, &e) == 1,
	    "recovery_put for no such key: 1");
	ok(store_recovery_put(s, FPR_D, (const uint8_t *)"one", 3, 10, &e) ==
	    0 && store_recovery_put(s, FPR_D, (const uint8_t *)"two!", 4, 20,
	    &e) == 0 && store_recovery_get(s, FPR_D, &p, &n, &when, &e) == 0 &&
	    n == 4 && !memcmp(p, "two!", 4) && when == 20,
	    "a newer blob replaces the older");
	free(p);
	ok(store_recovery_put(s, FPR_D, NULL, 0, 30, &e) == 0 &&
	    store_recovery_get(s, FPR_D, &p, &n, &when, &e) == 1,
	    "length 0 deletes it");
	ok(store_recovery_put(s, FPR_D, (const uint8_t *)"three", 5, 40,
	    &e) == 0 && store_cert_del(s, FPR_D, &e) == 0 &&
	    store_cert_put(s, &c, &e) == 0 &&
	    store_recovery_get(s, FPR_D, &p, &n, &when, &e) == 1,
	    "deleting the key deletes its data (a key stored again has none)");
	ok(store_cert_del(s, FPR_D, &e) == 0 && store_commit(s, &e) == 0,
	    "commit");
}

/* A store opened only to look creates nothing and writes nothing. */
static void
t_readonly(const char *dir)
{
	char url[700], path[600];
	struct store *s;
	struct err e;
	struct stat sb;

	snprintf(path, sizeof(path), "%s/none.db", dir);
	snprintf(url, sizeof(url), "sqlite:%s", path);
	s = store_open_readonly(url, &e);
	ok(s == NULL && e.code == ERR_NOTFOUND && stat(path, &sb) == -1,
	    "read-only open of no database: ERR_NOTFOUND, no file made (%s)",
	    s ? "opened" : e.msg);
	store_close(s);
	snprintf(url, sizeof(url), "sqlite:%s/life.db", dir);
	s = store_open_readonly(url, &e);
	ok(s != NULL, "read-only open of a database (%s)", s ? "ok" : e.msg);
	if (s == NULL)
		return;
	{
		char owner[FPR_LEN + 1];
		int rc = store_begin_read(s, &e);

		ok(rc == 0 && store_addr_owner(s, "nobody@x.org", owner, &e) ==
		    1, "... reads work");
		if (rc == 0)
			store_rollback(s);
	}
	ok(store_begin(s, &e) == -1 && e.code == ERR_INTERNAL,
	    "... a unit of work is refused (%s)", e.msg);
	store_close(s);
}

int
main(void)
{
	char dir[] = "/tmp/t_store_life.XXXXXX";

	log_set_quiet(1);
	if (mkdtemp(dir) == NULL)
		return 1;
	t_upgrade(dir);
	t_upgrade8(dir);
	t_life(dir);
	t_xfer(dir);
	t_readonly(dir);
	cleanup(dir);
	return tap_done();
}
