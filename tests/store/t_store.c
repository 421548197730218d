/*
 * t_store: the SQLite store end to end in a temporary directory: lookups
 * by every key, one key per address enforced by the database itself,
 * tokens, rate limits, the outbox, transactions, reopening and lookups
 * racing a writer.  The lifecycle and export calls: t_store_life.c.
 */
#include <sys/stat.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "log.h"
#include "store.h"
#include "str.h"
#include "tap.h"

#include "storetest.h"

static char dbpath[512];

/* File modes of the database and its WAL files. */
static void
t_modes(void)
{
	const char *sfx[] = { "", "-wal", "-shm" };
	char path[600];
	struct stat sb;

	for (size_t i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s%s", dbpath, sfx[i]);
		if (stat(path, &sb) == -1)
			sb.st_mode = 0;
		ok((sb.st_mode & 0777) == 0600,
		    "file%s mode 0600 (%o)", sfx[i],
		    (unsigned)(sb.st_mode & 0777));
	}
}

/* Lookup by every key of a cert with two subkeys, and cert_get. */
static void
t_lookup(struct store *s)
{
	struct store_subkey subs[2];
	struct store_cert c, g;
	struct store_pub p;
	struct err e;
	char kid[KEYID_LEN + 1];

	str_lcpy(subs[0].fpr, FPR_B, sizeof(subs[0].fpr));
	keyid_of(FPR_B, subs[0].keyid);
	str_lcpy(subs[1].fpr, FPR_C, sizeof(subs[1].fpr));
	keyid_of(FPR_C, subs[1].keyid);
	cert_make(&c, FPR_A, PUB_A, subs, 2);
	ok(put(s, &c) == 0, "cert_put");
	ok(put(s, &c) == 0, "cert_put again (upsert)");

	ok(finds(s, STORE_BY_FPR, FPR_A, FPR_A, PUB_A), "by primary fpr");
	ok(finds(s, STORE_BY_FPR, FPR_C, FPR_A, PUB_A), "by subkey fpr");
	keyid_of(FPR_B, kid);
	ok(finds(s, STORE_BY_KEYID, kid, FPR_A, PUB_A), "by subkey keyid");
	keyid_of(FPR_A, kid);
	ok(finds(s, STORE_BY_KEYID, kid, FPR_A, PUB_A), "by primary keyid");
	ok(store_lookup(s, STORE_BY_FPR, FPR_X, &p, &e) == 1,
	    "unknown fpr: 1");
	ok(store_lookup(s, STORE_BY_EMAIL, ADDR, &p, &e) == 1,
	    "unpublished address: 1");

	ok(store_begin(s, &e) == 0, "begin");
	ok(store_cert_get(s, FPR_A, &g, &e) == 0 && g.nsubs == 2 &&
	    strcmp(g.subs[0].fpr, FPR_B) == 0 &&
	    strcmp(g.subs[1].keyid, subs[1].keyid) == 0 &&
	    g.full_len == c.full_len &&
	    memcmp(g.full, c.full, c.full_len) == 0 && g.bits == 255 &&
	    g.algo == 22 && !g.revoked && strcmp(g.etag, c.etag) == 0,
	    "cert_get round trip, subkeys in order");
	store_cert_release(&g);
	ok(store_cert_get(s, FPR_B, &g, &e) == 1, "cert_get by subkey: 1");
	store_commit(s, &e);

	/* D claims A's primary and C as subkeys: a primary beats a
	 * subkey, and of two certs with the same subkey the lower wins */
	str_lcpy(subs[0].fpr, FPR_A, sizeof(subs[0].fpr));
	keyid_of(FPR_A, subs[0].keyid);
	cert_make(&c, FPR_D, PUB_A, subs, 2);
	ok(put(s, &c) == 0, "cert D with A and C as subkeys");
	ok(finds(s, STORE_BY_FPR, FPR_A, FPR_A, PUB_A), "primary beats subkey");
	ok(finds(s, STORE_BY_FPR, FPR_C, FPR_A, PUB_A), "lower cert wins");
	ok(store_begin(s, &e) == 0 && store_cert_del(s, FPR_D, &e) == 0 &&
	    store_commit(s, &e) == 0, "cert D deleted");
	ok(finds(s, STORE_BY_FPR, FPR_C, FPR_A, PUB_A), "A still found by C");
}

/* A second handle cannot give an address to a second key. */
static void
t_addr_db(void)
{
	sqlite3 *db;
	int rc = SQLITE_ERROR;

	if (sqlite3_open_v2(dbpath, &db, SQLITE_OPEN_READWRITE, NULL) ==
	    SQLITE_OK) {
		sqlite3_busy_timeout(db, 5000);
		rc = sqlite3_exec(db, "INSERT INTO addresses (address, cid, "
		    "published) VALUES ('" ADDR "', (SELECT id FROM certs "
		    "WHERE fpr = '" FPR_A "'), 1)",
		    NULL, NULL, NULL);
	}
	ok((rc & 0xff) == SQLITE_CONSTRAINT,
	    "duplicate address refused by the database (%d)", rc);
	sqlite3_close(db);
}

/* Publishing, moving and listing addresses. */
static void
t_addr(struct store *s)
{
	struct store_cert d;
	struct err e;
	char fpr[FPR_LEN + 1], **list;
	size_t n;

	cert_make(&d, FPR_D, PUB_D, NULL, 0);
	ok(put(s, &d) == 0, "second cert");
	ok(store_begin(s, &e) == 0 &&
	    store_addr_set(s, ADDR, FPR_A, 10, &e) == 0 &&
	    store_addr_set(s, "bob@example.org", FPR_A, 10, &e) == 0 &&
	    store_commit(s, &e) == 0, "addr_set");
	ok(finds(s, STORE_BY_EMAIL, ADDR, FPR_A, PUB_A), "by email");
	t_addr_db();

	store_begin(s, &e);
	ok(store_addr_list(s, FPR_A, &list, &n, &e) == 0 && n == 2 &&
	    strcmp(list[0], ADDR) == 0 &&
	    strcmp(list[1], "bob@example.org") == 0, "addr_list sorted");
	store_addrs_free(list, n);
	ok(store_addr_set(s, ADDR, FPR_D, 11, &e) == 0, "addr_set moves");
	ok(store_addr_owner(s, ADDR, fpr, &e) == 0, "addr_owner");
	is_str(fpr, FPR_D, "addr_owner is the new key");
	ok(store_addr_list(s, FPR_D, &list, &n, &e) == 0 && n == 1,
	    "new key lists it");
	store_addrs_free(list, n);
	ok(store_addr_list(s, FPR_X, &list, &n, &e) == 0 && n == 0 &&
	    list == NULL, "empty list");
	ok(store_addr_del(s, "bob@example.org", &e) == 0 &&
	    store_addr_owner(s, "bob@example.org", fpr, &e) == 1,
	    "addr_del");
	ok(store_commit(s, &e) == 0, "commit");
	ok(finds(s, STORE_BY_EMAIL, ADDR, FPR_D, PUB_D),
	    "by email finds the new key");
}

/* Token life: put, get, use once, pending. */
static void
t_tokens(struct store *s)
{
	struct store_token t, g;
	struct store_upload_view v;
	const struct store_upload_addr up[] = { { ADDR, true },
	    { "old@example.org", false } };
	struct store_cert ca;
	struct err e;
	bool pend;

	cert_make(&ca, FPR_U, PUB_A, NULL, 0);

	memset(&t, 0, sizeof(t));
	memset(t.hash, 0x42, sizeof(t.hash));
	t.kind = TOKEN_VERIFY;
	str_lcpy(t.fpr, FPR_A, sizeof(t.fpr));
	str_lcpy(t.address, ADDR, sizeof(t.address));
	t.created = 100;
	t.expires = 200;
	store_begin(s, &e);
	ok(store_token_put(s, &t, &e) == 0, "token_put");
	ok(store_token_get(s, t.hash, &g, &e) == 0 &&
	    g.kind == TOKEN_VERIFY && strcmp(g.address, ADDR) == 0 &&
	    g.expires == 200 && g.used == 0, "token_get");
	ok(store_token_pending(s, FPR_A, ADDR, 150, &pend, &e) == 0 && pend,
	    "pending before use");
	ok(store_token_pending(s, FPR_A, ADDR, 200, &pend, &e) == 0 && !pend,
	    "not pending once expired");
	ok(store_token_use(s, t.hash, 160, &e) == 0, "token_use");
	ok(store_token_use(s, t.hash, 161, &e) == 1, "second use: 1");
	ok(store_token_get(s, t.hash, &g, &e) == 0 && g.used == 160,
	    "get returns a used token");
	ok(store_token_pending(s, FPR_A, ADDR, 150, &pend, &e) == 0 && !pend,
	    "not pending after use");
	t.hash[0] = 0;
	ok(store_token_get(s, t.hash, &g, &e) == 1, "unknown token: 1");
	ok(store_token_use(s, t.hash, 1, &e) == 1, "use unknown token: 1");
	/* a repeated upload: its hash, addresses and their statuses */
	ok(store_cert_put(s, &ca, &e) == 0 && store_upload_mark(s, FPR_U,
	    t.hash, up, 2, &e) == 0, "upload_mark");
	store_commit(s, &e);
	ok(store_upload_view(s, t.hash, 150, 0, &v, &e) == 0 &&
	    !strcmp(v.fpr, FPR_U) && v.naddrs == 2 &&
	    !strcmp(v.addrs[0].address, ADDR) &&
	    v.addrs[0].status == STORE_UNPUBLISHED &&
	    v.addrs[1].status == STORE_REVOKED, "upload_view");
	store_upload_view_release(&v);
	t.hash[2] = 7;
	ok(store_upload_view(s, t.hash, 150, 0, &v, &e) == 1,
	    "upload_view of other bytes: 1");
	t.hash[2] = 0x42;
	/* the key changes (a merge): that upload's answer no longer holds */
	ca.full_len = 4;
	store_begin(s, &e);
	ok(store_cert_put(s, &ca, &e) == 0, "cert_put with other bytes");
	store_commit(s, &e);
	ok(store_upload_view(s, t.hash, 150, 0, &v, &e) == 1,
	    "upload_view after the key changed: 1");
	store_begin(s, &e);
	store_commit(s, &e);
}

/* Rate limits and the outbox. */
static void
t_mail(struct store *s)
{
	struct store_mail *rows;
	struct err e;
	int64_t last;
	size_t n;

	store_begin(s, &e);
	ok(store_rate_get(s, ADDR, &last, &e) == 1, "rate: none yet");
	ok(store_rate_set(s, ADDR, 50, &e) == 0 &&
	    store_rate_set(s, ADDR, 60, &e) == 0 &&
	    store_rate_get(s, ADDR, &last, &e) == 0 && last == 60, "rate set");

	ok(store_outbox_add(s, ADDR, "m1\r\n", 4, 100, &e) == 0 &&
	    store_outbox_add(s, "b@x.org", "m2", 2, 100, &e) == 0,
	    "outbox_add");
	/* a new message is due at once, whatever its created time (a
	 * maintenance run ahead of the clock queues mail for now) */
	ok(store_outbox_due(s, 50, 650, "t", 10, &rows, &n, &e) == 0 && n == 2 &&
	    rows[0].id < rows[1].id && strcmp(rows[0].rcpt, ADDR) == 0 &&
	    rows[0].len == 4 && strcmp(rows[0].data, "m1\r\n") == 0 &&
	    rows[0].attempts == 0, "both due at once, in order");
	ok(store_outbox_retry(s, rows[0].id, 1, 160, "421 later", &e) == 0,
	    "outbox_retry");
	ok(store_outbox_done(s, rows[1].id, 101, &e) == 0, "outbox_done");
	store_mails_free(rows, n);
	ok(store_outbox_due(s, 159, 759, "t", 10, &rows, &n, &e) == 0 && n == 0,
	    "retried not due before next, done never");
	ok(store_outbox_due(s, 160, 760, "t", 10, &rows, &n, &e) == 0 && n == 1 &&
	    rows[0].attempts == 1, "retried due at next");
	store_mails_free(rows, n);
	ok(store_outbox_due(s, 1000, 1600, "t", 0, &rows, &n, &e) == 0 && n == 0,
	    "max 0");
	ok(store_outbox_done(s, 999, 1, &e) == 1, "done unknown id: 1");
	store_commit(s, &e);
}

/* A rollback leaves nothing behind. */
static void
t_rollback(struct store *s)
{
	struct store_cert c;
	struct err e;
	char fpr[FPR_LEN + 1];
	int64_t last;

	cert_make(&c, FPR_X, PUB_A, NULL, 0);
	store_begin(s, &e);
	store_cert_put(s, &c, &e);
	store_addr_set(s, "carol@example.org", FPR_X, 1, &e);
	store_rate_set(s, "carol@example.org", 1, &e);
	store_rollback(s);
	ok(!finds(s, STORE_BY_FPR, FPR_X, FPR_X, PUB_A), "rolled back cert");
	store_begin(s, &e);
	ok(store_addr_owner(s, "carol@example.org", fpr, &e) == 1 &&
	    store_rate_get(s, "carol@example.org", &last, &e) == 1,
	    "rolled back address and rate");
	store_commit(s, &e);
}

/* The schema version a second handle sees. */
static int
user_version(void)
{
	return (int)db_int(dbpath, "PRAGMA user_version");
}

struct reader {
	struct store *s;
	int errors;
};

/* 2000 lookups by every kind of key; counts wrong answers. */
static void *
reader_run(void *arg)
{
	struct reader *r = arg;
	char kid[KEYID_LEN + 1];

	keyid_of(FPR_B, kid);
	for (int i = 0; i < 2000; i++) {
		switch (i % 3) {
		case 0:
			r->errors += !finds(r->s, STORE_BY_FPR, FPR_C, FPR_A,
			    PUB_A);
			break;
		case 1:
			r->errors += !finds(r->s, STORE_BY_KEYID, kid, FPR_A,
			    PUB_A);
			break;
		default:
			r->errors += !finds(r->s, STORE_BY_EMAIL, ADDR, FPR_D,
			    PUB_D);
			break;
		}
	}
	return NULL;
}

/* Two reader threads against a busy writer. */
static void
t_threads(struct store *s)
{
	struct reader r[2] = { { s, 0 }, { s, 0 } };
	pthread_t th[2];
	struct store_cert c;
	struct err e;
	int werr = 0;

	cert_make(&c, FPR_X, PUB_A, NULL, 0);
	for (int i = 0; i < 2; i++)
		pthread_create(&th[i], NULL, reader_run, &r[i]);
	for (int i = 0; i < 200; i++) {
		c.updated = i;
		if (store_begin(s, &e) == -1) {
			werr++;
			continue;
		}
		if (store_cert_put(s, &c, &e) == -1 ||
		    store_rate_set(s, ADDR, i, &e) == -1) {
			werr++;
			store_rollback(s);
			continue;
		}
		werr += store_commit(s, &e) == -1;
	}
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	ok(werr == 0, "writer: no errors");
	ok(r[0].errors == 0 && r[1].errors == 0,
	    "2 x 2000 concurrent lookups right (%d, %d wrong)",
	    r[0].errors, r[1].errors);
}

/* URL schemes. */
static void
t_urls(const char *dir)
{
	struct store *s;
	struct err e;
	char url[600];

	ok(store_open("postgresql:///nodb?host=/nonexistent&connect_timeout=2",
	    &e) == NULL && e.code == ERR_RETRY && strstr(e.msg,
	    "cannot connect") != NULL, "postgresql: the PostgreSQL backend, "
	    "which says when it cannot connect (%s)", e.msg);
	ok(store_open("mysql:x", &e) == NULL && e.code == ERR_INVALID,
	    "unknown scheme refused: %s", e.msg);
	ok(store_open("sqlite:", &e) == NULL, "empty path refused");
	snprintf(url, sizeof(url), "%s/bare.db", dir);
	s = store_open(url, &e);
	ok(s != NULL, "bare path opens");
	store_close(s);
	snprintf(url, sizeof(url), "sqlite:%s/nodir/x.db", dir);
	ok(store_open(url, &e) == NULL && e.code == ERR_INTERNAL,
	    "missing directory: %s", e.msg);
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

int
main(void)
{
	char dir[] = "/tmp/t_store.XXXXXX", url[600];
	struct store *s;
	struct err e;

	log_set_quiet(1);
	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(dbpath, sizeof(dbpath), "%s/k.db", dir);
	snprintf(url, sizeof(url), "sqlite:%s", dbpath);
	s = store_open(url, &e);
	ok(s != NULL, "store_open (%s)", s ? "ok" : e.msg);
	if (s == NULL)
		return tap_done();
	t_modes();
	ok(user_version() == 11, "schema version 11");
	t_lookup(s);
	t_addr(s);
	t_tokens(s);
	t_mail(s);
	t_rollback(s);
	store_close(s);

	s = store_open(url, &e);
	ok(s != NULL, "reopen");
	ok(user_version() == 11, "reopen keeps the schema version");
	ok(finds(s, STORE_BY_FPR, FPR_B, FPR_A, PUB_A) &&
	    finds(s, STORE_BY_EMAIL, ADDR, FPR_D, PUB_D), "data kept");
	t_threads(s);
	store_close(s);
	store_close(NULL);
	t_urls(dir);
	cleanup(dir);
	return tap_done();
}
