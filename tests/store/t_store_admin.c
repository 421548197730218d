/*
 * t_store_admin: what keydird state reads from the store, in a temporary
 * directory: the row counts (stats), one key with its index entries,
 * addresses and tokens (cert_state), the outbox without its messages
 * (outbox_list, in pages), all from one snapshot that a writer elsewhere
 * does not change.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "storetest.h"

/* Put a token whose hash is all b, for FPR_A unless fpr is given. */
static int
tok_put(struct store *s, uint8_t b, enum token_kind kind, const char *fpr,
    const char *addr, int64_t created, int64_t used)
{
	struct store_token t;
	struct err e;

	memset(&t, 0, sizeof(t));
	memset(t.hash, b, sizeof(t.hash));
	t.kind = kind;
	str_lcpy(t.fpr, fpr, sizeof(t.fpr));
	str_lcpy(t.address, addr, sizeof(t.address));
	t.created = created;
	t.expires = created + 100;
	t.used = used;
	return store_token_put(s, &t, &e);
}

/* What every test below reads: two keys, A with two subkeys, two
 * addresses and four tokens, B with one token, nonces, rate marks and
 * three outbox rows (one sent, one failed, one new). */
static int
fill(struct store *s)
{
	struct store_subkey subs[2];
	struct store_mail *rows = NULL;
	struct store_cert c;
	struct err e;
	size_t n = 0;
	int rc = 0;

	str_lcpy(subs[0].fpr, FPR_D, sizeof(subs[0].fpr));
	keyid_of(FPR_D, subs[0].keyid);
	str_lcpy(subs[1].fpr, FPR_C, sizeof(subs[1].fpr));
	keyid_of(FPR_C, subs[1].keyid);
	cert_make(&c, FPR_A, PUB_A, subs, 2);
	if (put(s, &c) == -1)
		return -1;
	cert_make(&c, FPR_B, PUB_A, NULL, 0);
	c.revoked = true;
	if (put(s, &c) == -1 || store_begin(s, &e) == -1)
		return -1;
	rc |= store_addr_set(s, "b@example.org", FPR_A, 300, &e);
	rc |= store_addr_set(s, ADDR, FPR_A, 200, &e);
	rc |= store_addr_asked(s, ADDR, 250, &e);
	rc |= tok_put(s, 1, TOKEN_VERIFY, FPR_A, ADDR, 20, 30);
	rc |= tok_put(s, 2, TOKEN_VERIFY, FPR_A, "b@example.org", 10, 0);
	rc |= tok_put(s, 3, TOKEN_MANAGE, FPR_A, ADDR, 20, 0);
	rc |= tok_put(s, 4, TOKEN_UPLOAD, FPR_A, "", 5, 0);
	rc |= tok_put(s, 5, TOKEN_REVERIFY, FPR_B, ADDR, 40, 50);
	rc |= store_nonce_use(s, "n1", 100, &e) == -1;
	rc |= store_rate_set(s, ADDR, 100, &e);
	rc |= store_rate_set(s, "b@example.org", 100, &e);
	rc |= store_rate_set(s, "c@example.org", 100, &e);
	rc |= store_outbox_add(s, "o1@x.org", "m1", 2, 100, &e);
	rc |= store_outbox_add(s, "o2@x.org", "m2", 2, 100, &e);
	rc |= store_outbox_add(s, "o3@x.org", "m3", 2, 100, &e);
	rc |= store_outbox_due(s, 100, 700, "t", 2, &rows, &n, &e);
	if (rc == 0 && n == 2) {
		rc |= store_outbox_done(s, rows[0].id, 150, &e);
		rc |= store_outbox_retry(s, rows[1].id, 1, 160,
		    "connect: refused \x01\xff", &e);
	} else
		rc = -1;
	store_mails_free(rows, n);
	if (rc != 0) {
		store_rollback(s);
		return -1;
	}
	return store_commit(s, &e);
}

static void
t_stats(struct store *s)
{
	struct store_stats st;
	struct err e;

	memset(&st, 0xff, sizeof(st));
	ok(store_begin_read(s, &e) == 0 && store_stats(s, &st, &e) == 0 &&
	    st.keys == 0 && st.addresses == 0 && st.keyids == 0 &&
	    st.tokens.total == 0 && st.outbox == 0 && st.rate_marks == 0,
	    "stats of an empty store: zeros");
	store_rollback(s);
	ok(fill(s) == 0, "two keys, addresses, tokens, nonces, rates, mail");
	ok(store_begin_read(s, &e) == 0, "begin_read");
	ok(store_stats(s, &st, &e) == 0, "stats");
	ok(st.keys == 2 && st.addresses == 2 && st.keyids == 4,
	    "stats: 2 keys, 2 addresses, 4 key ids (2 primaries, 2 subkeys)");
	ok(st.tokens.total == 5 && st.tokens.unused == 3,
	    "stats: 5 tokens (the old upload one too), 3 unused");
	ok(st.verify.total == 2 && st.verify.unused == 1 &&
	    st.manage.total == 1 && st.manage.unused == 1 &&
	    st.reverify.total == 1 && st.reverify.unused == 0,
	    "stats: tokens per kind, unused per kind");
	ok(st.nonces == 1 && st.rate_marks == 3, "stats: nonces, rate marks");
	ok(st.outbox == 3 && st.outbox_unsent == 2 && st.outbox_sent == 1,
	    "stats: outbox total, unsent, sent");
	store_rollback(s);
}

static void
t_cert_state(struct store *s)
{
	struct store_cert_state c;
	struct err e;
	int rc;

	ok(store_begin_read(s, &e) == 0, "begin_read");
	rc = store_cert_state(s, FPR_A, &c, &e);
	ok(rc == 0 && !strcmp(c.fpr, FPR_A) && !c.revoked &&
	    c.first_stored == 2000 && c.had_address && c.updated == 2000 &&
	    !strcmp(c.etag, "\"0123456789abcdef0123456789abcdef\""),
	    "cert_state A: fpr, revoked, first_stored, had_address, updated, "
	    "etag");
	ok(rc == 0 && c.nkeyids == 3 && !strcmp(c.keyids[0].fpr, FPR_A) &&
	    !strcmp(c.keyids[0].keyid, FPR_A + 24) &&
	    !strcmp(c.keyids[1].fpr, FPR_D) &&
	    !strcmp(c.keyids[2].fpr, FPR_C) &&
	    !strcmp(c.keyids[2].keyid, FPR_C + 24),
	    "cert_state A: key ids, primary first, subkeys as stored");
	ok(rc == 0 && c.naddrs == 2 && !strcmp(c.addrs[0].address, ADDR) &&
	    c.addrs[0].verified == 200 && c.addrs[0].asked == 250 &&
	    c.addrs[0].published == 200 && !strcmp(c.addrs[0].fpr, FPR_A) &&
	    !strcmp(c.addrs[1].address, "b@example.org") &&
	    c.addrs[1].verified == 300 && c.addrs[1].asked == 0,
	    "cert_state A: addresses sorted, with their dates");
	ok(rc == 0 && c.ntokens == 4 && c.tokens[0].kind == TOKEN_UPLOAD &&
	    c.tokens[1].kind == TOKEN_VERIFY && c.tokens[1].created == 10 &&
	    !strcmp(c.tokens[1].address, "b@example.org") &&
	    c.tokens[1].used == 0 && c.tokens[1].expires == 110 &&
	    c.tokens[2].kind == TOKEN_VERIFY && c.tokens[2].used == 30 &&
	    c.tokens[3].kind == TOKEN_MANAGE,
	    "cert_state A: tokens by created, kind, address; used and expiry");
	store_cert_state_release(&c);
	ok(c.keyids == NULL && c.addrs == NULL && c.tokens == NULL &&
	    c.nkeyids + c.naddrs + c.ntokens == 0, "cert_state_release clears");
	rc = store_cert_state(s, FPR_B, &c, &e);
	ok(rc == 0 && c.revoked && !c.had_address && c.nkeyids == 1 &&
	    c.naddrs == 0 && c.addrs == NULL && c.ntokens == 1 &&
	    c.tokens[0].kind == TOKEN_REVERIFY && c.tokens[0].used == 50,
	    "cert_state B: revoked, no address, its one token");
	store_cert_state_release(&c);
	ok(store_cert_state(s, FPR_X, &c, &e) == 1 && c.keyids == NULL,
	    "cert_state of an unknown key: 1");
	store_rollback(s);
	ok(store_begin(s, &e) == 0 && store_cert_state(s, FPR_B, &c, &e) == 0 &&
	    c.revoked, "cert_state inside begin (the writer)");
	store_cert_state_release(&c);
	store_rollback(s);
}

static void
t_outbox(struct store *s)
{
	struct store_outbox_row *rows = NULL, *more = NULL;
	size_t n = 0, m = 0;
	struct err e;

	ok(store_begin_read(s, &e) == 0, "begin_read");
	ok(store_outbox_list(s, 0, 2, &rows, &n, &e) == 0 && n == 2,
	    "outbox_list: the first page of 2");
	ok(n == 2 && !strcmp(rows[0].rcpt, "o1@x.org") &&
	    rows[0].sent == 150 && rows[0].attempts == 0 &&
	    rows[0].created == 100 && rows[0].last_error == NULL,
	    "outbox_list: the sent row");
	ok(n == 2 && !strcmp(rows[1].rcpt, "o2@x.org") && rows[1].sent == 0 &&
	    rows[1].attempts == 1 && rows[1].next_attempt == 160 &&
	    rows[1].last_error != NULL &&
	    !strcmp(rows[1].last_error, "connect: refused \x01\xff"),
	    "outbox_list: the failed row, its attempts, next attempt, error");
	ok(n == 2 && store_outbox_list(s, rows[1].id, 2, &more, &m, &e) == 0 &&
	    m == 1 && !strcmp(more[0].rcpt, "o3@x.org") &&
	    more[0].next_attempt == 0 && more[0].sent == 0,
	    "outbox_list after the page: the last row, due at once");
	store_outbox_rows_free(more, m);
	ok(store_outbox_list(s, INT64_MAX, 2, &more, &m, &e) == 0 && m == 0,
	    "outbox_list past the end: none");
	store_outbox_rows_free(more, m);
	store_outbox_rows_free(rows, n);
	store_rollback(s);
}

/* A writer elsewhere commits while a snapshot is open: the snapshot's
 * counts and key stay as they were. */
static void
t_snapshot(struct store *s, const char *url)
{
	struct store_cert_state c;
	struct store_stats st;
	struct store *w;
	struct err e;

	ok(store_begin_read(s, &e) == 0, "begin_read");
	ok(store_stats(s, &st, &e) == 0 && st.keys == 2, "two keys");
	w = store_open(url, &e);
	ok(w != NULL && store_begin(w, &e) == 0 &&
	    store_addr_del(w, ADDR, &e) == 0 &&
	    store_outbox_add(w, "o4@x.org", "m4", 2, 100, &e) == 0 &&
	    store_commit(w, &e) == 0,
	    "a writer elsewhere unpublishes an address and queues mail");
	ok(store_stats(s, &st, &e) == 0 && st.addresses == 2 &&
	    st.outbox == 3, "the snapshot's counts are as they were");
	ok(store_cert_state(s, FPR_A, &c, &e) == 0 && c.naddrs == 2,
	    "... and so is the key");
	store_cert_state_release(&c);
	store_rollback(s);
	ok(store_begin_read(s, &e) == 0 && store_stats(s, &st, &e) == 0 &&
	    st.addresses == 1 && st.outbox == 4 && st.outbox_unsent == 3,
	    "a new snapshot sees the writes");
	store_rollback(s);
	store_close(w);
}

int
main(void)
{
	char dir[] = "/tmp/t_store_admin.XXXXXX";
	char path[600], url[620];
	const char *sfx[] = { "", "-wal", "-shm" };
	struct store *s;
	struct err e;

	log_set_quiet(1);
	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(path, sizeof(path), "%s/admin.db", dir);
	snprintf(url, sizeof(url), "sqlite:%s", path);
	if ((s = store_open(url, &e)) == NULL) {
		ok(0, "store_open (%s)", e.msg);
		return tap_done();
	}
	t_stats(s);
	t_cert_state(s);
	t_outbox(s);
	t_snapshot(s, url);
	store_close(s);
	for (size_t i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s/admin.db%s", dir, sfx[i]);
		unlink(path);
	}
	rmdir(dir);
	return tap_done();
}
