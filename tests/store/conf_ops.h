/*
 * conf_ops: the store contract for keys and addresses, one call at a
 * time: what each call answers on an empty store and when it fails, what
 * it keeps and gives back, which rows it touches.  Each group opens a
 * fresh store of its own.  Part of the conformance suite (conformance.h).
 */
#ifndef KEYDIR_CONF_OPS_H
#define KEYDIR_CONF_OPS_H

#include "conf_fix.h"

/* store_open, store_close and store_etag, which need no rows. */
static void
conf_t_open(const struct conf_backend *b)
{
	uint8_t h[STORE_HASH_LEN];
	char tag[STORE_ETAG_LEN + 1];
	struct store *s;
	struct err e;

	s = conf_open(b->fresh_url(), "open");
	ok(s != NULL, "store_open of a fresh store");
	store_close(s);
	store_close(NULL);
	if (b->bad_url != NULL) {
		err_clear(&e);
		ok(store_open(b->bad_url, &e) == NULL && conf_err_set(&e),
		    "store_open of a store that cannot be: NULL, e set (%s)",
		    e.msg);
	}
	err_clear(&e);
	ok(store_open("", &e) == NULL && conf_err_set(&e),
	    "store_open of no URL: NULL, e set");
	for (size_t i = 0; i < sizeof(h); i++)
		h[i] = (uint8_t)(i * 17);
	store_etag(h, tag);
	is_str(tag, "\"00112233445566778899aabbccddeeff\"",
	    "store_etag: 128 bits of the hash, lower-case hex, quoted");
}

/* Every getter says "none" with 1, and every call that settles one row
 * says so with 1 when there is no such row; lists come back empty. */
static void
conf_t_empty(const struct conf_backend *b)
{
	uint8_t h[STORE_HASH_LEN];
	char fpr[FPR_LEN + 1], kid[KEYID_LEN + 1], owner[FPR_LEN + 1];
	struct store_upload_view v;
	struct store_cert c, *certs = NULL;
	struct store_token t;
	struct store_addr a, *rows = NULL;
	struct store_mail *mails = NULL;
	struct store *s;
	struct err e;
	char **list = NULL;
	size_t n = 7;
	int64_t when = 0;
	bool pend = true;

	if ((s = conf_open(b->fresh_url(), "empty")) == NULL)
		return;
	conf_fpr(fpr, 0xE, 1, 1);
	conf_keyid(fpr, kid);
	conf_hash(h, 0xE, 1);
	ok(conf_lookup_rc(s, STORE_BY_FPR, fpr) == 1 &&
	    conf_lookup_rc(s, STORE_BY_KEYID, kid) == 1 &&
	    conf_lookup_rc(s, STORE_BY_EMAIL, CONF_ADDR) == 1,
	    "lookup by fpr, key id, email: 1");
	ok(store_upload_view(s, h, 1, 0, &v, &e) == 1, "upload_view: 1");
	ok(store_begin(s, &e) == 0, "begin");
	ok(store_cert_get(s, fpr, &c, &e) == 1, "cert_get: 1");
	ok(store_addr_owner(s, CONF_ADDR, owner, &e) == 1, "addr_owner: 1");
	ok(store_addr_get(s, CONF_ADDR, &a, &e) == 1, "addr_get: 1");
	ok(store_addr_list(s, fpr, &list, &n, &e) == 0 && n == 0 &&
	    list == NULL, "addr_list: 0, empty");
	ok(store_token_get(s, h, &t, &e) == 1, "token_get: 1");
	ok(store_token_use(s, h, 5, &e) == 1, "token_use: 1");
	ok(store_token_pending(s, fpr, CONF_ADDR, 5, &pend, &e) == 0 && !pend,
	    "token_pending: 0, not pending");
	ok(store_rate_get(s, CONF_ADDR, &when, &e) == 1, "rate_get: 1");
	ok(store_outbox_next(s, &when, &e) == 1, "outbox_next: 1");
	n = 7;
	ok(store_outbox_due(s, 1000, 1600, "t", 10, &mails, &n, &e) == 0 &&
	    n == 0, "outbox_due: 0, none");
	store_mails_free(mails, n);
	ok(store_outbox_done(s, 1, 5, &e) == 1, "outbox_done: 1");
	ok(store_outbox_retry(s, 1, 1, 5, "x", &e) == 1, "outbox_retry: 1");
	n = 7;
	ok(store_addr_due(s, 1000, 10, &rows, &n, &e) == 0 && n == 0 &&
	    rows == NULL, "addr_due: 0, none");
	n = 7;
	ok(store_addr_stale(s, 1000, 10, &rows, &n, &e) == 0 && n == 0 &&
	    rows == NULL, "addr_stale: 0, none");
	ok(store_addr_confirmed(s, CONF_ADDR, 5, &e) == 1 &&
	    store_addr_asked(s, CONF_ADDR, 5, &e) == 1,
	    "addr_confirmed, addr_asked: 1");
	ok(store_addr_del(s, CONF_ADDR, &e) == 0,
	    "addr_del of an unpublished address: 0 (not a getter)");
	ok(store_cert_del(s, fpr, &e) == 1, "cert_del: 1");
	ok(store_cert_restore_meta(s, fpr, 1, true, &e) == 1,
	    "cert_restore_meta: 1");
	n = 7;
	ok(store_cert_purge_unconfirmed(s, 1000000, &n, &e) == 0 && n == 0,
	    "cert_purge_unconfirmed: 0, none");
	n = 7;
	ok(store_token_purge(s, 1000000, &n, &e) == 0 && n == 0,
	    "token_purge: 0, none");
	n = 7;
	ok(store_outbox_purge(s, 1000000, &n, &e) == 0 && n == 0,
	    "outbox_purge: 0, none");
	n = 7;
	ok(store_rate_purge(s, 1000000, &n, &e) == 0 && n == 0,
	    "rate_purge: 0, none");
	ok(store_nonce_purge(s, 1000000, &e) == 0, "nonce_purge: 0");
	n = 7;
	ok(store_certs_scan(s, "", 10, &certs, &n, &e) == 0 && n == 0,
	    "certs_scan in a write unit: 0, none");
	store_certs_free(certs, n);
	ok(store_commit(s, &e) == 0, "commit a unit that changed nothing");
	ok(store_begin_read(s, &e) == 0, "begin_read");
	n = 7;
	ok(store_certs_scan(s, "", 10, &certs, &n, &e) == 0 && n == 0,
	    "certs_scan in a read unit: 0, none");
	store_certs_free(certs, n);
	ok(store_commit(s, &e) == 0, "commit ends the read unit");
	ok(store_begin_read(s, &e) == 0, "begin_read again");
	store_rollback(s);
	ok(store_begin(s, &e) == 0, "rollback ended it: begin works");
	store_rollback(s);
	store_close(s);
}

/* Calls that fail: -1, e set, and the unit rolled back keeps nothing. */
static void
conf_t_errors(const struct conf_backend *b)
{
	struct conf_key k;
	struct store_token t, g;
	struct store_addr a;
	struct store *s;
	struct err e;
	char nokey[FPR_LEN + 1], owner[FPR_LEN + 1];
	int64_t last;

	if ((s = conf_open(b->fresh_url(), "errors")) == NULL)
		return;
	conf_fpr(nokey, 0xF, 9, 9);
	conf_key_init(&k, "F000000000000000000000000000000100000001", 100);
	conf_token(&t, 0xF, 1, TOKEN_VERIFY, k.c.fpr, CONF_ADDR, 1, 9000);
	ok(store_begin(s, &e) == 0 && store_cert_put(s, &k.c, &e) == 0 &&
	    store_token_put(s, &t, &e) == 0 && store_commit(s, &e) == 0,
	    "a key and a token");

	ok(store_begin(s, &e) == 0 &&
	    store_rate_set(s, "before@x.org", 7, &e) == 0, "a unit writes");
	err_clear(&e);
	ok(store_addr_set(s, CONF_ADDR, nokey, 10, &e) == -1 &&
	    conf_err_set(&e), "addr_set for a key not stored: -1, e set (%s)",
	    e.msg);
	store_rollback(s);
	ok(store_begin(s, &e) == 0 &&
	    store_addr_owner(s, CONF_ADDR, owner, &e) == 1 &&
	    store_rate_get(s, "before@x.org", &last, &e) == 1,
	    "rolled back: no address, nor what the unit wrote before");
	store_rollback(s);

	memset(&a, 0, sizeof(a));
	str_lcpy(a.address, CONF_ADDR, sizeof(a.address));
	str_lcpy(a.fpr, nokey, sizeof(a.fpr));
	a.published = a.verified = 5;
	err_clear(&e);
	ok(store_begin(s, &e) == 0 && store_addr_restore(s, &a, &e) == -1 &&
	    conf_err_set(&e), "addr_restore for a key not stored: -1, e set");
	store_rollback(s);

	t.kind = TOKEN_MANAGE;
	t.expires = 1;
	err_clear(&e);
	ok(store_begin(s, &e) == 0 && store_token_put(s, &t, &e) == -1 &&
	    conf_err_set(&e), "token_put of a hash already stored: -1, e set");
	store_rollback(s);
	ok(store_begin(s, &e) == 0 && store_token_get(s, t.hash, &g, &e) == 0 &&
	    g.kind == TOKEN_VERIFY && g.expires == 9000,
	    "the stored token is unchanged");
	ok(store_commit(s, &e) == 0, "the handle works on after errors");
	store_close(s);
}

/* cert_put and cert_get: every field, upserts, subkeys in order. */
static void
conf_t_certs(const struct conf_backend *b)
{
	char sb[FPR_LEN + 1], sc[FPR_LEN + 1], sd[FPR_LEN + 1];
	char kid[KEYID_LEN + 1];
	struct conf_key k;
	struct store_cert g;
	struct store *s;
	struct err e;

	if ((s = conf_open(b->fresh_url(), "certs")) == NULL)
		return;
	conf_fpr(sb, 0xB, 1, 2);
	conf_fpr(sc, 0xC, 1, 3);
	conf_fpr(sd, 0xD, 1, 4);
	conf_key_init(&k, "A000000000000000000000000000000100000001", 1000);
	/* subkeys out of fingerprint order: they keep the order given */
	conf_key_sub(&k, sc);
	conf_key_sub(&k, sb);
	k.c.expires = 77777;
	ok(conf_put(s, &k) == 0, "cert_put");
	ok(conf_put(s, &k) == 0, "cert_put of the same key again (upsert)");
	memset(&g, 0, sizeof(g));
	ok(store_begin(s, &e) == 0 && store_cert_get(s, k.c.fpr, &g, &e) == 0,
	    "cert_get");
	ok(strcmp(g.fpr, k.c.fpr) == 0 && strcmp(g.keyid, k.c.keyid) == 0 &&
	    g.algo == 22 && g.bits == 255 && g.created == 1000 &&
	    g.expires == 77777 && !g.revoked, "cert_get: fpr, keyid, algo, "
	    "bits, created, expires, revoked");
	ok(g.full_len == 5 && g.full != NULL &&
	    memcmp(g.full, k.full, 5) == 0, "cert_get: full, binary with NULs");
	ok(g.published_len == k.c.published_len && g.published != NULL &&
	    memcmp(g.published, k.pub, g.published_len) == 0 &&
	    g.hkp_index != NULL && strcmp(g.hkp_index, k.idx) == 0,
	    "cert_get: published and hkp_index");
	ok(strcmp(g.etag, k.c.etag) == 0 && g.updated == 1000,
	    "cert_get: etag and updated");
	ok(g.nsubs == 2 && strcmp(g.subs[0].fpr, sc) == 0 &&
	    strcmp(g.subs[1].fpr, sb) == 0 &&
	    strcmp(g.subs[1].keyid, k.subs[1].keyid) == 0,
	    "cert_get: subkeys in the order cert_put gave them");
	ok(g.first_stored == 1000 && !g.had_address,
	    "cert_get: first_stored is the first put's updated; no address");
	store_cert_release(&g);
	ok(store_cert_get(s, sb, &g, &e) == 1,
	    "cert_get by a subkey's fingerprint: 1 (primaries only)");
	ok(store_commit(s, &e) == 0, "commit");

	/* a new version replaces every field and the subkeys */
	conf_key_init(&k, "A000000000000000000000000000000100000001", 2000);
	conf_key_sub(&k, sd);
	k.c.revoked = true;
	k.c.bits = 4096;
	k.c.algo = 1;
	k.c.created = 1500;
	k.c.expires = 88888;
	ok(conf_put(s, &k) == 0, "cert_put of a new version");
	ok(store_begin(s, &e) == 0 && store_cert_get(s, k.c.fpr, &g, &e) == 0 &&
	    g.revoked && g.bits == 4096 && g.algo == 1 && g.created == 1500 &&
	    g.expires == 88888 && g.updated == 2000 &&
	    strcmp(g.etag, k.c.etag) == 0 && g.full[2] == (uint8_t)2000 &&
	    strcmp(g.hkp_index, k.idx) == 0, "every field replaced");
	ok(g.nsubs == 1 && strcmp(g.subs[0].fpr, sd) == 0,
	    "the subkeys replaced");
	ok(g.first_stored == 1000, "first_stored kept from the first put");
	store_cert_release(&g);
	ok(store_commit(s, &e) == 0, "commit");
	ok(conf_finds(s, STORE_BY_FPR, k.c.fpr, &k),
	    "lookup answers the new version, etag and updated too");
	conf_keyid(sb, kid);
	ok(conf_lookup_rc(s, STORE_BY_FPR, sb) == 1 &&
	    conf_lookup_rc(s, STORE_BY_KEYID, kid) == 1,
	    "a dropped subkey finds the key no more");
	ok(conf_finds(s, STORE_BY_FPR, sd, &k), "the new subkey finds it");
	store_close(s);
}

/* Lookups by every kind of key, and chains of keys sharing one. */
static void
conf_t_lookup(const struct conf_backend *b)
{
	struct conf_key x[10], p[3], q, r, w, *all[16];
	char sub[FPR_LEN + 1], kid[KEYID_LEN + 1], got[600], want[600];
	char w1[FPR_LEN + 1], w2[FPR_LEN + 1], qsub[FPR_LEN + 1], qsub2[FPR_LEN + 1];
	struct store *s;
	size_t nall = 0;
	bool bad = false;
	int n, i;

	if ((s = conf_open(b->fresh_url(), "lookup")) == NULL)
		return;
	/* ten keys share subkey `sub`; stored highest fingerprint first */
	conf_fpr(sub, 0x5, 5, 5);
	for (i = 9; i >= 0; i--) {
		char fpr[FPR_LEN + 1];

		conf_fpr(fpr, 0x100 + (unsigned)i, 0xA, (unsigned)i);
		conf_key_init(&x[i], fpr, 3000 + i);
		conf_key_sub(&x[i], sub);
		if (conf_put(s, &x[i]) == -1)
			bad = true;
		all[nall++] = &x[i];
	}
	ok(!bad, "ten keys with one subkey in common");
	want[0] = '\0';
	for (i = 0; i < STORE_LOOKUP_MAX; i++) {
		conf_cat(want, sizeof(want), x[i].c.fpr);
	}
	n = conf_chain(s, STORE_BY_FPR, sub, all, nall, got, sizeof(got), &bad);
	ok(n == STORE_LOOKUP_MAX && strcmp(got, want) == 0 && !bad,
	    "by that subkey's fpr: the first %d keys in fpr order (%d)",
	    STORE_LOOKUP_MAX, n);
	conf_keyid(sub, kid);
	n = conf_chain(s, STORE_BY_KEYID, kid, all, nall, got, sizeof(got),
	    &bad);
	ok(n == STORE_LOOKUP_MAX && strcmp(got, want) == 0 && !bad,
	    "by that subkey's key id: the same %d", n);
	ok(conf_finds(s, STORE_BY_FPR, x[9].c.fpr, &x[9]) &&
	    conf_finds(s, STORE_BY_KEYID, x[9].c.keyid, &x[9]),
	    "by primary fpr and key id: that key alone");

	/* three primaries with one key id; q has a subkey with it too */
	want[0] = '\0';
	for (i = 0; i < 3; i++) {
		char fpr[FPR_LEN + 1];

		conf_fpr(fpr, 0x300 - (unsigned)i, 0xB, 1);
		conf_key_init(&p[i], fpr, 4000 + i);
		conf_put(s, &p[i]);
		all[nall++] = &p[i];
	}
	for (i = 2; i >= 0; i--) {
		conf_cat(want, sizeof(want), p[i].c.fpr);
	}
	conf_fpr(qsub, 0x50, 0xB, 1);
	conf_fpr(qsub2, 0x51, 0xC, 9);
	conf_key_init(&q, "0000000100000000000000000000000C00000002", 5000);
	conf_key_sub(&q, qsub);
	conf_key_sub(&q, qsub2);
	conf_put(s, &q);
	all[nall++] = &q;
	n = conf_chain(s, STORE_BY_KEYID, p[0].c.keyid, all, nall, got,
	    sizeof(got), &bad);
	ok(n == 3 && strcmp(got, want) == 0 && !bad,
	    "colliding key ids: every primary with it, in fpr order, not the "
	    "key with a subkey with it (%s)", got);
	ok(conf_finds(s, STORE_BY_FPR, qsub, &q) &&
	    conf_finds(s, STORE_BY_KEYID, q.subs[1].keyid, &q),
	    "a subkey no primary has: its key");

	/* r claims p[0]'s primary as a subkey: the primary wins */
	conf_key_init(&r, "0000000200000000000000000000000D00000003", 6000);
	conf_key_sub(&r, p[0].c.fpr);
	conf_put(s, &r);
	all[nall++] = &r;
	ok(conf_finds(s, STORE_BY_FPR, p[0].c.fpr, &p[0]),
	    "a primary beats a subkey with its fingerprint");

	/* w lists one subkey twice, and two subkeys with one key id */
	conf_fpr(w1, 0x60, 0xE, 1);
	conf_fpr(w2, 0x61, 0xE, 1);
	conf_key_init(&w, "0000000300000000000000000000000F00000004", 7000);
	conf_key_sub(&w, w1);
	conf_key_sub(&w, w2);
	conf_key_sub(&w, w1);
	ok(conf_put(s, &w) == 0, "a key listing a subkey twice");
	all[nall++] = &w;
	ok(conf_finds(s, STORE_BY_FPR, w1, &w) &&
	    conf_finds(s, STORE_BY_KEYID, w.subs[0].keyid, &w),
	    "each key answered once, however many of its keys match");
	ok(conf_lookup_rc(s, STORE_BY_EMAIL, "nobody@example.org") == 1,
	    "an unknown address: 1");
	store_close(s);
}

/* One key per address: addr_set takes it, addr_owner, addr_list and
 * addr_del see it, lookups follow it. */
static void
conf_t_addrs(const struct conf_backend *b)
{
	struct conf_key a, d;
	struct store_cert g;
	struct store_addr ad;
	struct store *s;
	struct err e;
	char owner[FPR_LEN + 1], **list = NULL;
	size_t n = 0;

	if ((s = conf_open(b->fresh_url(), "addresses")) == NULL)
		return;
	conf_key_init(&a, "A000000000000000000000000000000200000001", 100);
	conf_key_init(&d, "D000000000000000000000000000000200000002", 200);
	ok(conf_put(s, &a) == 0 && conf_put(s, &d) == 0, "two keys");
	ok(store_begin(s, &e) == 0 &&
	    store_addr_set(s, CONF_BOB, a.c.fpr, 10, &e) == 0 &&
	    store_addr_set(s, CONF_ADDR, a.c.fpr, 10, &e) == 0 &&
	    store_commit(s, &e) == 0, "addr_set two addresses for A");
	ok(conf_finds(s, STORE_BY_EMAIL, CONF_ADDR, &a) &&
	    conf_finds(s, STORE_BY_EMAIL, CONF_BOB, &a), "by email: A");
	ok(store_begin(s, &e) == 0 &&
	    store_addr_list(s, a.c.fpr, &list, &n, &e) == 0 && n == 2 &&
	    strcmp(list[0], CONF_ADDR) == 0 && strcmp(list[1], CONF_BOB) == 0,
	    "addr_list: sorted");
	store_addrs_free(list, n);
	ok(store_addr_owner(s, CONF_ADDR, owner, &e) == 0 &&
	    strcmp(owner, a.c.fpr) == 0, "addr_owner: A");
	ok(store_addr_set(s, CONF_ADDR, d.c.fpr, 11, &e) == 0 &&
	    store_addr_owner(s, CONF_ADDR, owner, &e) == 0 &&
	    strcmp(owner, d.c.fpr) == 0, "addr_set to D moves it");
	ok(store_addr_list(s, a.c.fpr, &list, &n, &e) == 0 && n == 1 &&
	    strcmp(list[0], CONF_BOB) == 0, "A lists it no more");
	store_addrs_free(list, n);
	ok(store_addr_list(s, d.c.fpr, &list, &n, &e) == 0 && n == 1 &&
	    strcmp(list[0], CONF_ADDR) == 0, "D lists it");
	store_addrs_free(list, n);
	ok(store_addr_get(s, CONF_ADDR, &ad, &e) == 0 &&
	    strcmp(ad.address, CONF_ADDR) == 0 && strcmp(ad.fpr, d.c.fpr) == 0 &&
	    ad.verified == 11 && ad.asked == 0 && ad.published == 0,
	    "addr_get: owner, verified = now, asked 0, published 0");
	ok(store_commit(s, &e) == 0, "commit");
	ok(conf_finds(s, STORE_BY_EMAIL, CONF_ADDR, &d),
	    "by email: D, A no more");
	ok(store_begin(s, &e) == 0 && store_addr_del(s, CONF_BOB, &e) == 0 &&
	    store_addr_owner(s, CONF_BOB, owner, &e) == 1 &&
	    store_commit(s, &e) == 0, "addr_del");
	ok(conf_lookup_rc(s, STORE_BY_EMAIL, CONF_BOB) == 1,
	    "by email after addr_del: 1");
	ok(conf_finds(s, STORE_BY_FPR, a.c.fpr, &a), "the key stays");
	ok(store_begin(s, &e) == 0 && store_cert_get(s, a.c.fpr, &g, &e) == 0 &&
	    g.had_address, "A had an address, though it has none now");
	store_cert_release(&g);
	ok(store_addr_list(s, a.c.fpr, &list, &n, &e) == 0 && n == 0 &&
	    list == NULL, "A lists none");
	ok(store_cert_get(s, d.c.fpr, &g, &e) == 0 && g.had_address,
	    "D had an address");
	store_cert_release(&g);
	ok(store_commit(s, &e) == 0, "commit");
	store_close(s);
}

/* cert_del takes the key with its addresses, key ids and tokens. */
static void
conf_t_cert_del(const struct conf_backend *b)
{
	char sub[FPR_LEN + 1], own[FPR_LEN + 1], kid[KEYID_LEN + 1], owner[FPR_LEN + 1];
	struct conf_key c, o, *both[2];
	struct store_token t, g;
	struct store *s;
	struct err e;
	char got[200], **list = NULL;
	size_t n = 0;
	bool bad = false, good = true;

	if ((s = conf_open(b->fresh_url(), "cert_del")) == NULL)
		return;
	conf_fpr(sub, 0x5, 6, 1);
	conf_fpr(own, 0x6, 6, 2);
	conf_key_init(&c, "C000000000000000000000000000000600000003", 10);
	conf_key_sub(&c, sub);
	conf_key_sub(&c, own);
	conf_key_init(&o, "0000000700000000000000000000000600000004", 10);
	conf_key_sub(&o, sub);
	both[0] = &c;
	both[1] = &o;
	ok(store_begin(s, &e) == 0 && store_cert_put(s, &c.c, &e) == 0 &&
	    store_cert_put(s, &o.c, &e) == 0 &&
	    store_addr_set(s, "dave@x.org", c.c.fpr, 10, &e) == 0 &&
	    store_addr_set(s, "erin@x.org", o.c.fpr, 10, &e) == 0,
	    "two keys sharing a subkey, each with an address");
	for (uint8_t i = 1; i <= 4; i++) {
		conf_token(&t, 0x90, i, (enum token_kind)i, c.c.fpr,
		    i == TOKEN_UPLOAD ? "" : "dave@x.org", 1, 9000);
		good &= store_token_put(s, &t, &e) == 0;
	}
	conf_token(&t, 0x91, 1, TOKEN_VERIFY, o.c.fpr, "erin@x.org", 1, 9000);
	good &= store_token_put(s, &t, &e) == 0;
	ok(good && store_commit(s, &e) == 0, "tokens of every kind for C");
	ok(conf_chain(s, STORE_BY_FPR, sub, both, 2, got, sizeof(got), &bad) ==
	    2 && !bad, "the shared subkey finds both");
	ok(store_begin(s, &e) == 0 && store_cert_del(s, c.c.fpr, &e) == 0,
	    "cert_del: 0");
	ok(store_cert_del(s, c.c.fpr, &e) == 1, "cert_del again: 1");
	good = true;
	for (uint8_t i = 1; i <= 4; i++) {
		conf_hash(t.hash, 0x90, i);
		good &= store_token_get(s, t.hash, &g, &e) == 1;
	}
	ok(good, "its tokens of every kind are gone");
	conf_hash(t.hash, 0x91, 1);
	ok(store_token_get(s, t.hash, &g, &e) == 0, "another key's token stays");
	ok(store_addr_owner(s, "dave@x.org", owner, &e) == 1 &&
	    store_addr_list(s, c.c.fpr, &list, &n, &e) == 0 && n == 0,
	    "its address is gone");
	ok(store_addr_owner(s, "erin@x.org", owner, &e) == 0 &&
	    strcmp(owner, o.c.fpr) == 0, "the other key's address stays");
	ok(store_commit(s, &e) == 0, "commit");
	conf_keyid(own, kid);
	ok(conf_lookup_rc(s, STORE_BY_FPR, c.c.fpr) == 1 &&
	    conf_lookup_rc(s, STORE_BY_KEYID, c.c.keyid) == 1 &&
	    conf_lookup_rc(s, STORE_BY_FPR, own) == 1 &&
	    conf_lookup_rc(s, STORE_BY_KEYID, kid) == 1 &&
	    conf_lookup_rc(s, STORE_BY_EMAIL, "dave@x.org") == 1,
	    "no lookup finds it: fpr, key id, subkey, address");
	ok(conf_finds(s, STORE_BY_FPR, sub, &o),
	    "the shared subkey finds the other key alone");
	store_close(s);
}

#endif
