/*
 * conf_units: units of work as the store contract has them: a rollback
 * discards all of a unit, a commit keeps it, visible at once to every
 * handle and after a reopen, and nothing uncommitted is ever served.
 * Then export and import: snapshots, scans and exact restores.  Part of
 * the conformance suite (conformance.h).
 */
#ifndef KEYDIR_CONF_UNITS_H
#define KEYDIR_CONF_UNITS_H

#include "conf_fix.h"

/* One of every kind of write, rolled back, then committed; a reopen. */
static void
conf_t_units(const struct conf_backend *b)
{
	const struct store_upload_addr up[] = { { "new@x.org", true } };
	struct conf_key a, nk;
	struct store_token t, t2, t3, g;
	struct store_upload_view v;
	struct store_cert gc;
	struct store_addr ad;
	struct store_mail *rows = NULL;
	struct store *s, *s2;
	struct err e;
	uint8_t h[STORE_HASH_LEN];
	char url[1024], owner[FPR_LEN + 1];
	int64_t last = 0;
	size_t n = 0;
	bool good;

	str_lcpy(url, b->fresh_url(), sizeof(url));
	if ((s = conf_open(url, "units")) == NULL)
		return;
	if ((s2 = conf_open(url, "units, second handle")) == NULL) {
		store_close(s);
		return;
	}
	conf_key_init(&a, "A000000000000000000000000000000900000001", 100);
	conf_key_init(&nk, "B000000000000000000000000000000900000002", 200);
	conf_token(&t, 0xD0, 1, TOKEN_VERIFY, a.c.fpr, "keep@x.org", 1, 9000);
	conf_token(&t2, 0xD0, 2, TOKEN_MANAGE, nk.c.fpr, "new@x.org", 1, 9000);
	conf_token(&t3, 0xD0, 3, TOKEN_REVERIFY, nk.c.fpr, "new@x.org", 1,
	    9000);
	conf_hash(h, 0xD1, 1);
	ok(store_begin(s, &e) == 0 && store_cert_put(s, &a.c, &e) == 0 &&
	    store_addr_set(s, "keep@x.org", a.c.fpr, 10, &e) == 0 &&
	    store_token_put(s, &t, &e) == 0 && store_commit(s, &e) == 0,
	    "committed: key A, its address, a token");

	/* a unit that writes one of everything, then rolls back */
	ok(store_begin(s, &e) == 0, "begin");
	good = store_cert_put(s, &nk.c, &e) == 0 &&
	    store_addr_set(s, "new@x.org", nk.c.fpr, 20, &e) == 0 &&
	    store_addr_asked(s, "keep@x.org", 30, &e) == 0 &&
	    store_addr_set(s, "keep@x.org", nk.c.fpr, 20, &e) == 0 &&
	    store_token_put(s, &t2, &e) == 0 &&
	    store_token_use(s, t.hash, 25, &e) == 0 &&
	    store_nonce_use(s, "rb", 100, &e) == 0 &&
	    store_rate_set(s, "rb@x.org", 5, &e) == 0 &&
	    store_outbox_add(s, "rb@x.org", "m", 1, 5, &e) == 0 &&
	    store_upload_mark(s, a.c.fpr, h, up, 1, &e) == 0 &&
	    store_cert_restore_meta(s, a.c.fpr, 1, false, &e) == 0;
	ok(good, "a unit writes one of everything (%s)", good ? "" : e.msg);
	ok(conf_lookup_rc(s, STORE_BY_FPR, nk.c.fpr) == 1 &&
	    conf_lookup_rc(s2, STORE_BY_FPR, nk.c.fpr) == 1 &&
	    conf_lookup_rc(s, STORE_BY_EMAIL, "new@x.org") == 1,
	    "lookups, this handle's or another's, never see uncommitted rows");
	ok(conf_finds(s, STORE_BY_EMAIL, "keep@x.org", &a),
	    "nor an uncommitted move");
	ok(store_upload_view(s, h, 10, 0, &v, &e) == 1,
	    "nor does upload_view see an uncommitted mark");
	store_rollback(s);
	ok(conf_lookup_rc(s, STORE_BY_FPR, nk.c.fpr) == 1 &&
	    store_upload_view(s, h, 10, 0, &v, &e) == 1,
	    "rolled back: no key, no upload mark");
	ok(store_begin(s, &e) == 0 && store_cert_get(s, nk.c.fpr, &gc, &e) == 1 &&
	    store_addr_owner(s, "new@x.org", owner, &e) == 1,
	    "rolled back: cert_put, addr_set");
	ok(store_addr_get(s, "keep@x.org", &ad, &e) == 0 &&
	    strcmp(ad.fpr, a.c.fpr) == 0 && ad.asked == 0 && ad.verified == 10,
	    "rolled back: the move and addr_asked");
	ok(store_token_get(s, t2.hash, &g, &e) == 1 &&
	    store_token_get(s, t.hash, &g, &e) == 0 && g.used == 0,
	    "rolled back: token_put, token_use");
	ok(store_rate_get(s, "rb@x.org", &last, &e) == 1 &&
	    store_outbox_next(s, &last, &e) == 1, "rolled back: rate_set, "
	    "outbox_add");
	ok(store_cert_get(s, a.c.fpr, &gc, &e) == 0 && gc.first_stored == 100 &&
	    gc.had_address, "rolled back: cert_restore_meta");
	store_cert_release(&gc);
	ok(store_nonce_use(s, "rb", 100, &e) == 0, "rolled back: nonce_use");
	store_rollback(s);

	ok(store_begin(s, &e) == 0 && store_cert_del(s, a.c.fpr, &e) == 0,
	    "cert_del in a unit");
	store_rollback(s);
	ok(conf_finds(s, STORE_BY_FPR, a.c.fpr, &a) &&
	    conf_finds(s, STORE_BY_EMAIL, "keep@x.org", &a) &&
	    store_begin(s, &e) == 0 && store_token_get(s, t.hash, &g, &e) == 0,
	    "rolled back: the key, its address and token are back");
	store_rollback(s);

	/* a lease is part of its unit too */
	ok(store_begin(s, &e) == 0 &&
	    store_outbox_add(s, "m@x.org", "m", 1, 5, &e) == 0 &&
	    store_commit(s, &e) == 0, "a mail");
	ok(store_begin(s, &e) == 0 &&
	    store_outbox_due(s, 10, 610, "t", 10, &rows, &n, &e) == 0 && n == 1,
	    "leased in a unit");
	store_mails_free(rows, n);
	store_rollback(s);
	ok(store_begin(s, &e) == 0 &&
	    store_outbox_due(s, 10, 610, "t", 10, &rows, &n, &e) == 0 && n == 1 &&
	    store_commit(s, &e) == 0, "rolled back: due again at once");
	store_mails_free(rows, n);

	/* committed: kept, and at once visible to every handle */
	ok(store_begin(s, &e) == 0 && store_cert_put(s, &nk.c, &e) == 0 &&
	    store_addr_set(s, "new@x.org", nk.c.fpr, 20, &e) == 0 &&
	    store_token_put(s, &t3, &e) == 0 &&
	    store_nonce_use(s, "c1", 100, &e) == 0 &&
	    store_rate_set(s, "c@x.org", 9, &e) == 0 &&
	    store_upload_mark(s, nk.c.fpr, h, up, 1, &e) == 0 &&
	    store_commit(s, &e) == 0, "commit a unit");
	ok(conf_finds(s, STORE_BY_FPR, nk.c.fpr, &nk) &&
	    conf_finds(s2, STORE_BY_FPR, nk.c.fpr, &nk) &&
	    conf_finds(s2, STORE_BY_EMAIL, "new@x.org", &nk),
	    "committed: lookups on both handles see it");
	ok(store_begin(s2, &e) == 0 &&
	    store_nonce_use(s2, "c1", 100, &e) == 1 &&
	    store_addr_owner(s2, "new@x.org", owner, &e) == 0 &&
	    strcmp(owner, nk.c.fpr) == 0, "and the other handle's units");
	store_rollback(s2);
	store_close(s2);
	store_close(s);

	if ((s = conf_open(url, "units, reopened")) == NULL)
		return;
	ok(conf_finds(s, STORE_BY_FPR, nk.c.fpr, &nk) &&
	    conf_finds(s, STORE_BY_EMAIL, "new@x.org", &nk) &&
	    conf_finds(s, STORE_BY_EMAIL, "keep@x.org", &a),
	    "reopened: keys and addresses kept");
	ok(store_begin(s, &e) == 0 && store_nonce_use(s, "c1", 100, &e) == 1 &&
	    store_rate_get(s, "c@x.org", &last, &e) == 0 && last == 9 &&
	    store_token_get(s, t3.hash, &g, &e) == 0 && g.kind == TOKEN_REVERIFY &&
	    store_token_get(s, t.hash, &g, &e) == 0 && g.used == 0,
	    "reopened: nonce, rate mark, tokens kept");
	ok(store_outbox_due(s, 609, 1209, "t", 10, &rows, &n, &e) == 0 && n == 0 &&
	    store_outbox_due(s, 610, 1210, "t", 10, &rows, &n, &e) == 0 && n == 1 &&
	    strcmp(rows[0].rcpt, "m@x.org") == 0, "reopened: the outbox kept, "
	    "with its lease");
	store_mails_free(rows, n);
	store_rollback(s);
	ok(store_upload_view(s, h, 10, 0, &v, &e) == 0 &&
	    strcmp(v.fpr, nk.c.fpr) == 0, "reopened: the upload mark kept");
	store_upload_view_release(&v);
	store_close(s);
}

/* What the other handle commits during the snapshot. */
static int
conf_snap_fn(struct store *s, void *arg, struct err *e)
{
	struct conf_key *k = arg;

	if (store_addr_del(s, "snap@example.org", e) == -1 ||
	    store_rate_set(s, "snap@example.org", 99, e) == -1 ||
	    store_outbox_add(s, "snap@example.org", "m", 1, 5, e) == -1)
		return -1;
	k->c.updated = 777;
	return store_cert_put(s, &k->c, e);
}

/* A read unit (begin_read) answers every read as of one snapshot, while
 * another handle commits. */
static void
conf_t_snapshot(const struct conf_backend *b)
{
	struct conf_key k;
	struct store_token t, g;
	struct store_cert gc;
	struct store *s, *s2;
	struct err e;
	char url[1024], owner[FPR_LEN + 1], **list = NULL;
	int64_t last = 0, t0;
	size_t n = 0;

	str_lcpy(url, b->fresh_url(), sizeof(url));
	if ((s = conf_open(url, "snapshot")) == NULL)
		return;
	if ((s2 = conf_open(url, "snapshot")) == NULL) {
		store_close(s);
		return;
	}
	conf_key_init(&k, "A000000000000000000000000000000F00000001", 100);
	conf_token(&t, 0xF0, 1, TOKEN_VERIFY, k.c.fpr, "snap@example.org", 1,
	    9000);
	ok(store_begin(s, &e) == 0 && store_cert_put(s, &k.c, &e) == 0 &&
	    store_addr_set(s, "snap@example.org", k.c.fpr, 10, &e) == 0 &&
	    store_rate_set(s, "snap@example.org", 9, &e) == 0 &&
	    store_token_put(s, &t, &e) == 0 && store_commit(s, &e) == 0,
	    "snapshot: a key, its address, a rate mark, a token");
	ok(store_begin_read(s, &e) == 0 &&
	    store_addr_owner(s, "snap@example.org", owner, &e) == 0,
	    "begin_read: reads inside it");
	t0 = conf_ms();
	ok(conf_atomic(s2, conf_snap_fn, &k, NULL, &e) == 0 &&
	    conf_ms() - t0 < 2000, "another handle commits meanwhile, "
	    "without waiting (%lld ms)", (long long)(conf_ms() - t0));
	ok(store_addr_owner(s, "snap@example.org", owner, &e) == 0 &&
	    strcmp(owner, k.c.fpr) == 0 &&
	    store_addr_list(s, k.c.fpr, &list, &n, &e) == 0 && n == 1,
	    "the read unit still sees the address");
	store_addrs_free(list, n);
	ok(store_rate_get(s, "snap@example.org", &last, &e) == 0 && last == 9 &&
	    store_outbox_next(s, &last, &e) == 1, "and the old rate mark, "
	    "and no mail");
	ok(store_cert_get(s, k.c.fpr, &gc, &e) == 0 && gc.updated == 100 &&
	    store_token_get(s, t.hash, &g, &e) == 0, "and the old key");
	store_cert_release(&gc);
	ok(store_commit(s, &e) == 0, "end the read unit");
	ok(store_begin_read(s, &e) == 0 &&
	    store_addr_owner(s, "snap@example.org", owner, &e) == 1 &&
	    store_rate_get(s, "snap@example.org", &last, &e) == 0 &&
	    last == 99 && store_outbox_next(s, &last, &e) == 0 &&
	    store_cert_get(s, k.c.fpr, &gc, &e) == 0 && gc.updated == 777,
	    "a new read unit sees the commit");
	store_cert_release(&gc);
	store_rollback(s);
	store_close(s2);
	store_close(s);
}

/* Certs by fingerprint, in order, as certs_scan gives them; n or -1. */
static int
conf_scan(struct store *s, const char *after, size_t max, char *out,
    size_t sz)
{
	struct store_cert *rows = NULL;
	struct err e;
	size_t n = 0;

	out[0] = '\0';
	if (store_certs_scan(s, after, max, &rows, &n, &e) == -1)
		return -1;
	for (size_t i = 0; i < n; i++) {
		conf_cat(out, sz, rows[i].fpr);
	}
	store_certs_free(rows, n);
	return (int)n;
}

/* Export: snapshots and scans; import: exact restores. */
static void
conf_t_export(const struct conf_backend *b)
{
	struct conf_key ka, kb, kc, kd, ke;
	struct store_cert *rows = NULL, g;
	struct store_addr a, ad;
	struct store *s, *s2;
	struct err e;
	char url[1024], owner[FPR_LEN + 1], seen[400];
	size_t n = 0;
	int64_t t0;

	str_lcpy(url, b->fresh_url(), sizeof(url));
	if ((s = conf_open(url, "export")) == NULL)
		return;
	conf_key_init(&ka, "A000000000000000000000000000000A00000001", 1001);
	conf_key_init(&kb, "B000000000000000000000000000000A00000002", 1002);
	conf_key_init(&kc, "C000000000000000000000000000000A00000003", 1003);
	conf_key_init(&kd, "D000000000000000000000000000000A00000004", 1004);
	conf_key_init(&ke, "E000000000000000000000000000000A00000005", 1005);
	ok(conf_put(s, &kc) == 0 && conf_put(s, &kb) == 0 &&
	    conf_put(s, &ka) == 0, "three keys, stored out of order");

	memset(&a, 0, sizeof(a));
	str_lcpy(a.address, CONF_ADDR, sizeof(a.address));
	str_lcpy(a.fpr, kb.c.fpr, sizeof(a.fpr));
	a.published = a.verified = 1;
	ok(store_begin(s, &e) == 0 && store_addr_restore(s, &a, &e) == 0,
	    "addr_restore for B");
	a.published = 100;
	a.verified = 200;
	a.asked = 300;
	str_lcpy(a.fpr, ka.c.fpr, sizeof(a.fpr));
	ok(store_addr_restore(s, &a, &e) == 0 &&
	    store_addr_owner(s, CONF_ADDR, owner, &e) == 0 &&
	    strcmp(owner, ka.c.fpr) == 0, "addr_restore moves it to A");
	ok(store_addr_get(s, CONF_ADDR, &ad, &e) == 0 && ad.verified == 200 &&
	    ad.asked == 300, "with its exact verified and asked");
	str_lcpy(a.address, "a2@example.org", sizeof(a.address));
	a.published = 110;
	a.verified = 210;
	a.asked = 0;
	ok(store_addr_restore(s, &a, &e) == 0, "a second address for A");
	ok(store_cert_restore_meta(s, ka.c.fpr, 50, true, &e) == 0 &&
	    store_cert_restore_meta(s, kb.c.fpr, 2000, false, &e) == 0,
	    "cert_restore_meta: 0");
	ok(store_cert_restore_meta(s, "F000000000000000000000000000000A00000009",
	    1, true, &e) == 1, "cert_restore_meta of an unknown key: 1");
	str_lcpy(a.address, "c@example.org", sizeof(a.address));
	str_lcpy(a.fpr, kc.c.fpr, sizeof(a.fpr));
	ok(store_addr_restore(s, &a, &e) == 0 && store_addr_del(s,
	    "c@example.org", &e) == 0, "an address restored for C, then gone");
	ok(store_commit(s, &e) == 0, "commit");
	ok(store_begin(s, &e) == 0 && store_cert_get(s, ka.c.fpr, &g, &e) == 0 &&
	    g.first_stored == 50 && g.had_address, "A: exact first_stored, "
	    "had_address");
	store_cert_release(&g);
	ok(store_cert_get(s, kb.c.fpr, &g, &e) == 0 && g.first_stored == 2000 &&
	    !g.had_address, "B: exact, had_address false though it had one");
	store_cert_release(&g);
	ok(store_cert_get(s, kc.c.fpr, &g, &e) == 0 && g.had_address &&
	    g.first_stored == 1003, "C: addr_restore marked it as having had "
	    "an address");
	store_cert_release(&g);
	ok(store_commit(s, &e) == 0, "commit");

	ok(store_begin_read(s, &e) == 0, "begin_read");
	ok(store_certs_scan(s, "", 2, &rows, &n, &e) == 0 && n == 2 &&
	    !strcmp(rows[0].fpr, ka.c.fpr) && !strcmp(rows[1].fpr, kb.c.fpr),
	    "certs_scan: the first 2, in fpr order");
	ok(n == 2 && !strcmp(rows[0].keyid, ka.c.keyid) &&
	    rows[0].full_len == 5 && !memcmp(rows[0].full, ka.full, 5) &&
	    !strcmp(rows[0].etag, ka.c.etag) && rows[0].updated == 1001 &&
	    rows[0].first_stored == 50 && rows[0].had_address &&
	    rows[1].first_stored == 2000 && !rows[1].had_address,
	    "certs_scan: keyid, full, etag, updated, first_stored, "
	    "had_address");
	ok(n == 2 && rows[0].naddrs == 2 &&
	    !strcmp(rows[0].addrs[0].address, "a2@example.org") &&
	    !strcmp(rows[0].addrs[1].address, CONF_ADDR) &&
	    !strcmp(rows[0].addrs[1].fpr, ka.c.fpr) &&
	    rows[0].addrs[1].published == 100 &&
	    rows[0].addrs[1].verified == 200 && rows[0].addrs[1].asked == 300 &&
	    rows[0].addrs[0].published == 110 && rows[1].naddrs == 0,
	    "certs_scan: addresses sorted, with their exact dates");
	store_certs_free(rows, n);

	/* another handle commits during the snapshot, without waiting */
	s2 = conf_open(url, "export, second handle");
	t0 = conf_ms();
	ok(s2 != NULL && conf_put(s2, &kd) == 0 && conf_ms() - t0 < 2000,
	    "another handle commits during the snapshot, at once (%lld ms)",
	    (long long)(conf_ms() - t0));
	ok(conf_scan(s, kb.c.fpr, 2, seen, sizeof(seen)) == 1 &&
	    strncmp(seen, kc.c.fpr, FPR_LEN) == 0,
	    "certs_scan after B: C, n < max: the end; not the new D");
	ok(conf_scan(s, kc.c.fpr, 2, seen, sizeof(seen)) == 0,
	    "certs_scan after the last: none");
	ok(store_commit(s, &e) == 0, "end the snapshot");
	ok(store_begin_read(s, &e) == 0 &&
	    conf_scan(s, kc.c.fpr, 5, seen, sizeof(seen)) == 1 &&
	    strncmp(seen, kd.c.fpr, FPR_LEN) == 0 &&
	    store_commit(s, &e) == 0, "a new snapshot sees D");
	ok(store_begin(s, &e) == 0 && store_cert_put(s, &ke.c, &e) == 0 &&
	    conf_scan(s, kd.c.fpr, 5, seen, sizeof(seen)) == 1 &&
	    strncmp(seen, ke.c.fpr, FPR_LEN) == 0,
	    "certs_scan in a write unit sees the unit's own writes");
	store_rollback(s);
	store_close(s2);
	store_close(s);
}

#endif
