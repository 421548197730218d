/*
 * conf_life: the store contract for what is kept around keys, one call
 * at a time: tokens, removal nonces, rate marks, upload marks and their
 * view, the outbox, the re-verification schedule and the purges.  Each
 * group opens a fresh store of its own.  Part of the conformance suite
 * (conformance.h).
 */
#ifndef KEYDIR_CONF_LIFE_H
#define KEYDIR_CONF_LIFE_H

#include "conf_fix.h"

/* Tokens: every kind round trips; used once; pending; purged. */
static void
conf_t_tokens(const struct conf_backend *b)
{
	static const enum token_kind kinds[] = { TOKEN_UPLOAD, TOKEN_VERIFY,
	    TOKEN_MANAGE, TOKEN_REVERIFY };
	const char *fa = "A000000000000000000000000000000300000001";
	struct store_token t, g;
	struct store *s;
	struct err e;
	size_t n = 0;
	bool pend = false, good = true;

	if ((s = conf_open(b->fresh_url(), "tokens")) == NULL)
		return;
	ok(store_begin(s, &e) == 0, "begin");
	for (size_t i = 0; i < 4; i++) {
		conf_token(&t, 0x70, (uint8_t)i, kinds[i], fa,
		    kinds[i] == TOKEN_UPLOAD ? "" : CONF_ADDR, 100 + (int)i,
		    200 + (int)i);
		good &= store_token_put(s, &t, &e) == 0;
		good &= store_token_get(s, t.hash, &g, &e) == 0 &&
		    memcmp(g.hash, t.hash, STORE_HASH_LEN) == 0 &&
		    g.kind == kinds[i] && strcmp(g.fpr, fa) == 0 &&
		    strcmp(g.address, t.address) == 0 &&
		    g.created == 100 + (int)i && g.expires == 200 + (int)i &&
		    g.used == 0;
	}
	ok(good, "token_put, token_get: all four kinds, every field");
	conf_hash(t.hash, 0x70, 1);	/* the TOKEN_VERIFY one */
	ok(store_token_pending(s, fa, CONF_ADDR, 150, &pend, &e) == 0 && pend,
	    "pending: a live verification token");
	ok(store_token_pending(s, fa, CONF_ADDR, 201, &pend, &e) == 0 && !pend,
	    "not pending once it expired (expires == now)");
	ok(store_token_pending(s, fa, CONF_BOB, 150, &pend, &e) == 0 && !pend,
	    "not pending for another address");
	ok(store_token_use(s, t.hash, 160, &e) == 0, "token_use: 0");
	ok(store_token_use(s, t.hash, 161, &e) == 1, "token_use again: 1");
	ok(store_token_get(s, t.hash, &g, &e) == 0 && g.used == 160,
	    "token_get returns a used token, used = first use");
	ok(store_token_pending(s, fa, CONF_ADDR, 150, &pend, &e) == 0 && !pend,
	    "not pending once used, though a manage and a reverify token "
	    "for the same pair are live");
	ok(store_commit(s, &e) == 0, "commit");
	ok(store_begin(s, &e) == 0 && store_token_use(s, t.hash, 170, &e) == 1,
	    "used in an earlier unit: still 1");
	conf_hash(t.hash, 0x70, 2);	/* TOKEN_MANAGE, expires 202 */
	ok(store_token_use(s, t.hash, 300, &e) == 0,
	    "token_use does not look at expiry (the caller does)");
	ok(store_token_purge(s, 201, &n, &e) == 0 && n == 2,
	    "token_purge: expires <= now, used or not (%zu)", n);
	conf_hash(t.hash, 0x70, 0);
	ok(store_token_get(s, t.hash, &g, &e) == 1, "purged: gone");
	conf_hash(t.hash, 0x70, 2);
	ok(store_token_get(s, t.hash, &g, &e) == 0, "not yet expired: kept");
	ok(store_token_purge(s, 1000, &n, &e) == 0 && n == 2,
	    "token_purge of the rest");
	ok(store_commit(s, &e) == 0, "commit");
	store_close(s);
}

/* Removal nonces: once each until purged. */
static void
conf_t_nonces(const struct conf_backend *b)
{
	struct store *s;
	struct err e;

	if ((s = conf_open(b->fresh_url(), "nonces")) == NULL)
		return;
	ok(store_begin(s, &e) == 0, "begin");
	ok(store_nonce_use(s, "n1", 100, &e) == 0, "nonce_use: 0");
	ok(store_nonce_use(s, "n1", 500, &e) == 1, "a replay: 1");
	ok(store_nonce_use(s, "n2", 200, &e) == 0, "another nonce: 0");
	ok(store_commit(s, &e) == 0, "commit");
	ok(store_begin(s, &e) == 0 && store_nonce_use(s, "n1", 1, &e) == 1,
	    "a replay in a later unit: 1");
	ok(store_nonce_purge(s, 101, &e) == 0, "nonce_purge");
	ok(store_nonce_use(s, "n1", 150, &e) == 0,
	    "purged: usable again (a replay kept until 100, not 500)");
	/* the boundary the directory relies on (commit 60a2a5d) */
	ok(store_nonce_purge(s, 200, &e) == 0 &&
	    store_nonce_use(s, "n2", 1, &e) == 1,
	    "until == now has not passed: still a replay");
	ok(store_nonce_purge(s, 201, &e) == 0 &&
	    store_nonce_use(s, "n2", 1, &e) == 0, "until < now: forgotten");
	ok(store_commit(s, &e) == 0, "commit");
	store_close(s);
}

/* Rate marks: set, overwritten, purged. */
static void
conf_t_rate(const struct conf_backend *b)
{
	struct store *s;
	struct err e;
	int64_t last = -1;
	size_t n = 0;

	if ((s = conf_open(b->fresh_url(), "rate")) == NULL)
		return;
	ok(store_begin(s, &e) == 0, "begin");
	ok(store_rate_get(s, CONF_ADDR, &last, &e) == 1, "rate_get: none, 1");
	ok(store_rate_set(s, CONF_ADDR, 50, &e) == 0 &&
	    store_rate_get(s, CONF_ADDR, &last, &e) == 0 && last == 50,
	    "rate_set, rate_get");
	ok(store_rate_set(s, CONF_ADDR, 60, &e) == 0 &&
	    store_rate_get(s, CONF_ADDR, &last, &e) == 0 && last == 60,
	    "rate_set again: the new time");
	ok(store_rate_set(s, CONF_BOB, 40, &e) == 0 &&
	    store_rate_get(s, CONF_ADDR, &last, &e) == 0 && last == 60,
	    "one mark per address");
	ok(store_rate_set(s, "c@x.org", 59, &e) == 0, "a third");
	ok(store_commit(s, &e) == 0, "commit");
	ok(store_begin(s, &e) == 0 && store_rate_purge(s, 60, &n, &e) == 0 &&
	    n == 2, "rate_purge: marks set before `before` (%zu)", n);
	ok(store_rate_get(s, CONF_ADDR, &last, &e) == 0 && last == 60 &&
	    store_rate_get(s, CONF_BOB, &last, &e) == 1 &&
	    store_rate_get(s, "c@x.org", &last, &e) == 1,
	    "the one set at `before` stays");
	ok(store_commit(s, &e) == 0, "commit");
	store_close(s);
}

/* Whether v's addresses are exactly want[0..n) with statuses st. */
static bool
conf_view_is(const struct store_upload_view *v, const char *const *want,
    const enum store_addr_status *st, size_t n, size_t nupload)
{
	if (v->naddrs != n || v->nupload != nupload)
		return false;
	for (size_t i = 0; i < n; i++)
		if (strcmp(v->addrs[i].address, want[i]) != 0 ||
		    v->addrs[i].status != st[i])
			return false;
	return true;
}

/* The statuses of the addresses of an upload of u's bytes at now. */
static int
conf_view(struct store *s, const uint8_t *h, int64_t now, int64_t since,
    const char *fpr, const char *const *want,
    const enum store_addr_status *st, size_t n, size_t nupload)
{
	struct store_upload_view v;
	struct err e;
	int good;

	if (store_upload_view(s, h, now, since, &v, &e) != 0)
		return 0;
	good = strcmp(v.fpr, fpr) == 0 && !v.revoked &&
	    conf_view_is(&v, want, st, n, nupload);
	store_upload_view_release(&v);
	return good;
}

/* upload_mark and what upload_view makes of it. */
static void
conf_t_upload(const struct conf_backend *b)
{
	static const char *const addrs[] = { "u1@x.org", "u2@x.org",
	    "u3@x.org", "u4@x.org" };
	const struct store_upload_addr up[] = { { addrs[0], true },
	    { addrs[1], false }, { addrs[2], true } };
	enum store_addr_status st[4];
	struct store_upload_view v;
	struct store_token t;
	struct conf_key u, o;
	uint8_t h[STORE_HASH_LEN], h2[STORE_HASH_LEN];
	struct store *s;
	struct err e;

	if ((s = conf_open(b->fresh_url(), "upload")) == NULL)
		return;
	conf_hash(h, 0x80, 1);
	conf_hash(h2, 0x80, 2);
	conf_key_init(&u, "A000000000000000000000000000000400000001", 100);
	conf_key_init(&o, "B000000000000000000000000000000400000002", 100);
	ok(store_begin(s, &e) == 0 && store_cert_put(s, &u.c, &e) == 0 &&
	    store_cert_put(s, &o.c, &e) == 0 &&
	    store_upload_mark(s, u.c.fpr, h, up, 3, &e) == 0 &&
	    store_commit(s, &e) == 0, "upload_mark");
	st[0] = STORE_UNPUBLISHED;
	st[1] = STORE_REVOKED;
	st[2] = STORE_UNPUBLISHED;
	ok(conf_view(s, h, 150, 0, u.c.fpr, addrs, st, 3, 3),
	    "upload_view: the upload's addresses in order; live ones "
	    "unpublished, the revoked one revoked");
	ok(store_upload_view(s, h2, 150, 0, &v, &e) == 1,
	    "upload_view of other bytes: 1");

	/* pending: a live confirmation token and a mail since rate_since */
	conf_token(&t, 0x81, 1, TOKEN_VERIFY, u.c.fpr, addrs[0], 100, 500);
	ok(store_begin(s, &e) == 0 && store_token_put(s, &t, &e) == 0 &&
	    store_rate_set(s, addrs[0], 120, &e) == 0 &&
	    store_commit(s, &e) == 0, "a confirmation token and its mail");
	st[0] = STORE_PENDING;
	ok(conf_view(s, h, 150, 100, u.c.fpr, addrs, st, 3, 3),
	    "pending: live token, mail after rate_since");
	st[0] = STORE_UNPUBLISHED;
	ok(conf_view(s, h, 150, 120, u.c.fpr, addrs, st, 3, 3),
	    "unpublished: the mail not after rate_since");
	ok(conf_view(s, h, 500, 100, u.c.fpr, addrs, st, 3, 3),
	    "unpublished: the token expired");

	/* published: u3 for the key, u4 published but not in the upload,
	 * u1 published for another key */
	ok(store_begin(s, &e) == 0 &&
	    store_addr_set(s, addrs[2], u.c.fpr, 130, &e) == 0 &&
	    store_addr_set(s, addrs[3], u.c.fpr, 130, &e) == 0 &&
	    store_addr_set(s, addrs[0], o.c.fpr, 130, &e) == 0 &&
	    store_commit(s, &e) == 0, "addresses published");
	st[2] = STORE_PUBLISHED;
	st[3] = STORE_PUBLISHED;
	ok(conf_view(s, h, 150, 120, u.c.fpr, addrs, st, 4, 3),
	    "published for the key: published, and its other published "
	    "address follows; published for another key: not published");

	/* the token used; u1 published nowhere again */
	ok(store_begin(s, &e) == 0 && store_token_use(s, t.hash, 140, &e) == 0 &&
	    store_addr_del(s, addrs[0], &e) == 0 && store_commit(s, &e) == 0,
	    "the token used");
	ok(conf_view(s, h, 150, 100, u.c.fpr, addrs, st, 4, 3),
	    "a used token is not pending");

	/* the same bytes again, revoked: the view says so */
	u.c.revoked = true;
	ok(conf_put(s, &u) == 0 && store_upload_view(s, h, 150, 0, &v, &e) ==
	    0 && v.revoked && strcmp(v.fpr, u.c.fpr) == 0,
	    "a revoked key's view says revoked");
	store_upload_view_release(&v);
	/* a later upload replaces the mark */
	ok(store_begin(s, &e) == 0 &&
	    store_upload_mark(s, u.c.fpr, h2, up, 1, &e) == 0 &&
	    store_commit(s, &e) == 0 &&
	    store_upload_view(s, h, 150, 0, &v, &e) == 1,
	    "a new upload_mark: the old bytes are unknown");
	ok(store_upload_view(s, h2, 150, 0, &v, &e) == 0 && v.nupload == 1 &&
	    strcmp(v.addrs[0].address, addrs[0]) == 0,
	    "the new bytes are known");
	store_upload_view_release(&v);
	/* other bytes stored for the key (a merge): the answer no longer
	 * holds */
	conf_key_init(&u, "A000000000000000000000000000000400000001", 200);
	ok(conf_put(s, &u) == 0 && store_upload_view(s, h2, 150, 0, &v, &e) ==
	    1, "cert_put of other bytes forgets the upload");
	store_close(s);
}

/* The mail outbox: due at once, leases, retry, done, next, purge. */
static void
conf_t_outbox(const struct conf_backend *b)
{
	struct store_mail *rows = NULL;
	int64_t id0 = 0, id1 = 0, when = 0;
	struct store *s;
	struct err e;
	size_t n = 0;

	if ((s = conf_open(b->fresh_url(), "outbox")) == NULL)
		return;
	ok(store_begin(s, &e) == 0 &&
	    store_outbox_add(s, CONF_ADDR, "m1\r\n", 4, 100, &e) == 0 &&
	    store_outbox_add(s, CONF_BOB, "a\0b", 3, 100, &e) == 0 &&
	    store_commit(s, &e) == 0, "outbox_add two, created at 100");
	ok(store_begin(s, &e) == 0 && store_outbox_next(s, &when, &e) == 0 &&
	    when <= 50, "outbox_next: due at once (%lld)", (long long)when);
	ok(store_outbox_due(s, 50, 650, "t", 10, &rows, &n, &e) == 0 && n == 2,
	    "due at 50, before they were made: both");
	if (n == 2) {
		id0 = rows[0].id;
		id1 = rows[1].id;
	}
	ok(n == 2 && id0 < id1 && strcmp(rows[0].rcpt, CONF_ADDR) == 0 &&
	    rows[0].len == 4 && memcmp(rows[0].data, "m1\r\n", 4) == 0 &&
	    rows[0].attempts == 0, "oldest first; rcpt, data, attempts");
	ok(n == 2 && strcmp(rows[1].rcpt, CONF_BOB) == 0 && rows[1].len == 3 &&
	    memcmp(rows[1].data, "a\0b", 3) == 0, "data: binary, length kept");
	store_mails_free(rows, n);
	ok(store_outbox_due(s, 50, 650, "t", 10, &rows, &n, &e) == 0 && n == 0,
	    "leased: a second drain gets none");
	ok(store_outbox_due(s, 649, 1249, "t", 10, &rows, &n, &e) == 0 && n == 0,
	    "none before lease_until");
	ok(store_outbox_next(s, &when, &e) == 0 && when == 650,
	    "outbox_next: the lease's end");
	ok(store_commit(s, &e) == 0, "commit");
	ok(store_begin(s, &e) == 0 &&
	    store_outbox_due(s, 650, 1250, "t", 10, &rows, &n, &e) == 0 && n == 2,
	    "due again at lease_until: an unsettled lease lapses");
	store_mails_free(rows, n);
	ok(store_outbox_retry(s, id0, 1, 800, "421 later", &e) == 0,
	    "outbox_retry");
	ok(store_outbox_done(s, id1, 700, &e) == 0, "outbox_done");
	ok(store_outbox_next(s, &when, &e) == 0 && when == 800,
	    "outbox_next: the retried one's next attempt");
	ok(store_outbox_due(s, 799, 1399, "t", 10, &rows, &n, &e) == 0 && n == 0,
	    "not due before its next attempt; the done one never");
	ok(store_outbox_due(s, 800, 1400, "t", 10, &rows, &n, &e) == 0 && n == 1 &&
	    rows[0].id == id0 && rows[0].attempts == 1 &&
	    rows[0].len == 4 && memcmp(rows[0].data, "m1\r\n", 4) == 0,
	    "due at its next attempt, attempts 1, data intact");
	store_mails_free(rows, n);
	ok(store_outbox_done(s, id0, 900, &e) == 0 &&
	    store_outbox_next(s, &when, &e) == 1, "all done: outbox_next 1");
	ok(store_outbox_due(s, 1000000, 1000600, "t", 10, &rows, &n, &e) == 0 &&
	    n == 0, "sent mail is never due again");
	ok(store_commit(s, &e) == 0, "commit");

	/* max, and purging: sent at 700 and 900; a third stays unsent */
	ok(store_begin(s, &e) == 0 &&
	    store_outbox_add(s, "m3@x.org", "3", 1, 1, &e) == 0 &&
	    store_outbox_add(s, "m4@x.org", "4", 1, 1, &e) == 0 &&
	    store_outbox_add(s, "m5@x.org", "5", 1, 1, &e) == 0,
	    "three more");
	ok(store_outbox_due(s, 2000, 2600, "t", 0, &rows, &n, &e) == 0 && n == 0,
	    "max 0: none");
	ok(store_outbox_due(s, 2000, 2600, "t", 2, &rows, &n, &e) == 0 && n == 2 &&
	    strcmp(rows[0].rcpt, "m3@x.org") == 0 &&
	    strcmp(rows[1].rcpt, "m4@x.org") == 0, "max 2: the two oldest");
	store_mails_free(rows, n);
	ok(store_outbox_due(s, 2000, 2600, "t", 10, &rows, &n, &e) == 0 && n == 1 &&
	    strcmp(rows[0].rcpt, "m5@x.org") == 0, "then the third alone");
	store_mails_free(rows, n);
	ok(store_outbox_purge(s, 700, &n, &e) == 0 && n == 0,
	    "outbox_purge: sent at `before` stays");
	ok(store_outbox_purge(s, 800, &n, &e) == 0 && n == 1,
	    "outbox_purge: sent before `before` goes");
	ok(store_outbox_purge(s, 1000000, &n, &e) == 0 && n == 1,
	    "the other sent one; unsent mail stays however old");
	ok(store_outbox_due(s, 5000, 5600, "t", 10, &rows, &n, &e) == 0 && n == 3,
	    "the unsent ones are all still there");
	store_mails_free(rows, n);
	ok(store_outbox_done(s, id0, 1, &e) == 1,
	    "outbox_done of a purged row: 1");
	ok(store_commit(s, &e) == 0, "commit");
	store_close(s);
}

/* Whether addr_due (or addr_stale) answers exactly want, in order. */
static bool
conf_sched_is(struct store *s, bool stale, int64_t before, size_t max,
    const char *const *want, size_t nwant, const char *fpr)
{
	struct store_addr *rows = NULL;
	struct err e;
	size_t n = 0;
	int rc;
	bool good;

	if (stale)
		rc = store_addr_stale(s, before, max, &rows, &n, &e);
	else
		rc = store_addr_due(s, before, max, &rows, &n, &e);
	if (rc != 0)
		return false;
	good = n == nwant && (n > 0 || rows == NULL);
	for (size_t i = 0; good && i < n; i++)
		good = strcmp(rows[i].address, want[i]) == 0 &&
		    strcmp(rows[i].fpr, fpr) == 0;
	store_addr_rows_free(rows, n);
	return good;
}

/* The re-verification schedule: set, due, asked, stale, confirmed. */
static void
conf_t_schedule(const struct conf_backend *b)
{
	static const char *const all[] = { "s1@x.org", "s2@x.org",
	    "s3@x.org" };
	static const char *const late[] = { "s2@x.org", "s3@x.org" };
	struct store_addr a;
	struct conf_key k;
	struct store *s;
	struct err e;

	if ((s = conf_open(b->fresh_url(), "schedule")) == NULL)
		return;
	conf_key_init(&k, "A000000000000000000000000000000500000001", 50);
	ok(conf_put(s, &k) == 0, "a key");
	ok(store_begin(s, &e) == 0 &&
	    store_addr_set(s, all[2], k.c.fpr, 300, &e) == 0 &&
	    store_addr_set(s, all[1], k.c.fpr, 200, &e) == 0 &&
	    store_addr_set(s, all[0], k.c.fpr, 100, &e) == 0, "three addr_set");
	ok(conf_sched_is(s, false, 200, 10, all, 1, k.c.fpr),
	    "due: verified < before, strictly");
	ok(conf_sched_is(s, false, 301, 10, all, 3, k.c.fpr),
	    "due: longest unconfirmed first, with the key");
	ok(conf_sched_is(s, false, 301, 2, all, 2, k.c.fpr), "due: at most max");
	ok(conf_sched_is(s, false, 100, 10, all, 0, k.c.fpr),
	    "due: none, rows NULL");
	ok(store_addr_asked(s, all[0], 400, &e) == 0, "addr_asked");
	ok(store_addr_get(s, all[0], &a, &e) == 0 && a.asked == 400 &&
	    a.verified == 100, "addr_get: asked set, verified kept");
	ok(conf_sched_is(s, false, 1000, 10, late, 2, k.c.fpr),
	    "due: an asked one is left out");
	ok(conf_sched_is(s, true, 400, 10, all, 0, k.c.fpr),
	    "stale: asked < before, strictly");
	ok(conf_sched_is(s, true, 401, 10, all, 1, k.c.fpr),
	    "stale: the one asked");
	ok(store_addr_asked(s, all[1], 500, &e) == 0 &&
	    conf_sched_is(s, true, 1000, 1, all, 1, k.c.fpr) &&
	    conf_sched_is(s, true, 1000, 5, all, 2, k.c.fpr),
	    "stale: longest waiting first, at most max");
	ok(store_addr_confirmed(s, all[0], 600, &e) == 0 &&
	    store_addr_get(s, all[0], &a, &e) == 0 && a.verified == 600 &&
	    a.asked == 0, "addr_confirmed: verified = now, asked 0");
	ok(conf_sched_is(s, true, 1000, 10, late, 1, k.c.fpr),
	    "stale: a confirmed one no more");
	ok(store_addr_set(s, all[1], k.c.fpr, 700, &e) == 0 &&
	    store_addr_get(s, all[1], &a, &e) == 0 && a.verified == 700 &&
	    a.asked == 0, "addr_set again starts the schedule over");
	ok(store_commit(s, &e) == 0, "commit");
	store_close(s);
}

/* Purging keys nobody confirmed an address for. */
static void
conf_t_purge(const struct conf_backend *b)
{
	struct conf_key x, d, a;
	struct store_token t, tg;
	struct store_cert g;
	struct store *s;
	struct err e;
	size_t n = 0;

	if ((s = conf_open(b->fresh_url(), "purge")) == NULL)
		return;
	conf_key_init(&x, "0000000100000000000000000000000700000001", 1000);
	conf_key_init(&d, "0000000200000000000000000000000700000002", 5000);
	conf_key_init(&a, "0000000300000000000000000000000700000003", 10);
	conf_token(&t, 0xA0, 1, TOKEN_VERIFY, x.c.fpr, CONF_ADDR, 500, 9000);
	ok(store_begin(s, &e) == 0 && store_cert_put(s, &x.c, &e) == 0 &&
	    store_token_put(s, &t, &e) == 0 && store_cert_put(s, &d.c, &e) == 0 &&
	    store_cert_put(s, &a.c, &e) == 0 &&
	    store_addr_set(s, "gone@x.org", a.c.fpr, 20, &e) == 0 &&
	    store_addr_del(s, "gone@x.org", &e) == 0 &&
	    store_commit(s, &e) == 0,
	    "bare keys stored at 1000 and 5000; one at 10 that had an address");
	ok(store_begin(s, &e) == 0 &&
	    store_cert_purge_unconfirmed(s, 3000, &n, &e) == 0 && n == 1,
	    "cert_purge_unconfirmed: the one stored before (%zu)", n);
	ok(store_cert_get(s, x.c.fpr, &g, &e) == 1 &&
	    store_token_get(s, t.hash, &tg, &e) == 1,
	    "it is gone, with its token");
	ok(store_cert_get(s, a.c.fpr, &g, &e) == 0,
	    "a key that had an address stays");
	store_cert_release(&g);
	ok(store_cert_purge_unconfirmed(s, 5000, &n, &e) == 0 && n == 0,
	    "first_stored < before, strictly");
	conf_key_init(&d, "0000000200000000000000000000000700000002", 9000);
	ok(store_cert_put(s, &d.c, &e) == 0 &&
	    store_cert_purge_unconfirmed(s, 5001, &n, &e) == 0 && n == 1,
	    "an update keeps first_stored");
	ok(store_cert_purge_unconfirmed(s, 1000000, &n, &e) == 0 && n == 0,
	    "the key that had an address is never purged");
	ok(store_commit(s, &e) == 0, "commit");
	ok(conf_lookup_rc(s, STORE_BY_FPR, x.c.fpr) == 1,
	    "lookups find a purged key no more");
	store_close(s);
}

/*
 * What cert_purge_unconfirmed does beyond store.h's words, which the
 * directory relies on (commits 60a2a5d and 9245f27): a revoked
 * key is kept (its revocation stays served), and so is a key with a token
 * made at or after `before` (a recent upload or mail).
 */
static void
conf_t_purge_kept(const struct conf_backend *b)
{
	struct conf_key r, y;
	struct store_token t;
	struct store_cert g;
	struct store *s;
	struct err e;
	size_t n = 0;

	if ((s = conf_open(b->fresh_url(), "purge kept")) == NULL)
		return;
	conf_key_init(&r, "0000000100000000000000000000000800000001", 100);
	r.c.revoked = true;
	conf_key_init(&y, "0000000200000000000000000000000800000002", 100);
	conf_token(&t, 0xB0, 1, TOKEN_UPLOAD, y.c.fpr, "", 3000, 9000);
	ok(store_begin(s, &e) == 0 && store_cert_put(s, &r.c, &e) == 0 &&
	    store_cert_put(s, &y.c, &e) == 0 &&
	    store_token_put(s, &t, &e) == 0 &&
	    store_cert_purge_unconfirmed(s, 3000, &n, &e) == 0 && n == 0,
	    "kept: a revoked key, a key with a token made at `before`");
	ok(store_cert_get(s, r.c.fpr, &g, &e) == 0, "the revoked key is there");
	store_cert_release(&g);
	ok(store_cert_purge_unconfirmed(s, 3001, &n, &e) == 0 && n == 1 &&
	    store_cert_get(s, y.c.fpr, &g, &e) == 1,
	    "the token made before `before`: purged");
	ok(store_commit(s, &e) == 0, "commit");
	store_close(s);
}

#endif
