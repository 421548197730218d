/*
 * t_directory_life: the directory's rules after publication, on a real
 * SQLite store with keys librnp makes at test time (dirtest.h): removal by
 * mail, re-verification deadlines, clean-up, import merges and rebuild.
 * Time is always the `now` the rules are given, never waited for.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static char tmp[] = "/tmp/t_directory_life.XXXXXX";

#include "dirtest.h"

/* dir_link_show or dir_link_act. */
static int
link_do(struct dt *t, bool act, enum token_kind kind, const char *tok,
    int64_t now, bool yes, struct dir_link *l, struct err *e)
{
	err_clear(e);
	if (act)
		return dir_link_act(&t->d, now, kind, tok, yes, l, e);
	return dir_link_show(&t->d, now, kind, tok, l, e);
}

/* One pass of dir_maintain at now. */
static int
maintain(struct dt *t, int64_t now, struct dir_maint *m)
{
	struct err e;
	int rc;

	memset(m, 0, sizeof(*m));
	rc = dir_maintain(&t->d, now, m, &e);
	if (rc == -1)
		printf("# dir_maintain: %s\n", e.msg);
	return rc;
}

/* The schedule of a published address: verified and asked. */
static int
sched(struct dt *t, const char *address, int64_t *verified, int64_t *asked)
{
	struct store_addr a;
	struct err e;
	int rc;

	*verified = *asked = -1;
	if (store_begin(t->d.store, &e) == -1)
		return -1;
	rc = store_addr_get(t->d.store, address, &a, &e);
	store_rollback(t->d.store);
	if (rc == 0) {
		*verified = a.verified;
		*asked = a.asked;
	}
	return rc;
}

/* ---- removal by mail ---------------------------------------------------- */

static void
t_manage(void)
{
	static const char *const main1[] = { A_MAIN };
	static const struct {
		const char *what, *addr;
		int64_t at;
		enum err_code code;	/* ERR_OK: returns 0 */
		size_t mails;
	} rq[] = {
		{ "an address nobody published", "nobody@example.org", 10,
		    ERR_OK, 0 },
		{ "a malformed address", "not an address", 10, ERR_INVALID,
		    0 },
		{ "the published address, any case", "Alice@EXAMPLE.org", 10,
		    ERR_OK, 1 },
		{ "again within mail_rate", A_MAIN, 11, ERR_OK, 0 },
	};
	char tok[TOKEN_LEN + 1], t2[TOKEN_LEN + 1], got[TOKEN_LEN + 1];
	struct dir_verify v;
	struct dir_link l;
	struct dt t;
	struct err e;
	int64_t rate, t1;
	size_t i, n;
	int rc;

	rc = dt_open(&t, "manage");
	ok(rc == 0, "manage: a directory");
	if (rc != 0)
		return;
	rate = t.d.cfg.mail_rate;
	ok(publish(&t, K_A1, main1, 1, T0) == 0, "alice published");
	tok[0] = '\0';
	for (i = 0; i < sizeof(rq) / sizeof(rq[0]); i++) {
		err_clear(&e);
		rc = dir_manage_request(&t.d, T0 + rq[i].at, rq[i].addr, 0, &e);
		n = 0;
		if (dt_link(&t, A_MAIN, "manage", got) == 0) {
			n++;
			str_lcpy(tok, got, sizeof(tok));
		}
		n += dt_flush(&t);
		ok((rq[i].code == ERR_OK ? rc == 0 : fails(rc, &e, rq[i].code,
		    NULL)) && n == rq[i].mails, "removal request, %s: %s, "
		    "%zu mail(s)", rq[i].what, rc == 0 ? "ok" : e.msg, n);
	}
	rc = link_do(&t, false, TOKEN_MANAGE, tok, T0 + 20, false, &l, &e);
	ok(rc == 0 && !strcmp(l.fpr, afpr) && !strcmp(l.address, A_MAIN) &&
	    l.expires == T0 + 10 + t.d.cfg.token_ttl,
	    "its page: key, address, expiry (%s)", rc ? e.msg : "ok");
	rc = link_do(&t, false, TOKEN_REVERIFY, tok, T0 + 20, false, &l, &e);
	ok(fails(rc, &e, ERR_NOTFOUND, link_bad),
	    "not a re-verification link");
	ok(fails(verify(&t, SHOW, tok, T0 + 20, NULL, &v, &e), &e,
	    ERR_NOTFOUND, link_bad), "not a confirmation link");
	is_str(owner(&t, A_MAIN), afpr, "looking removes nothing");
	rc = link_do(&t, true, TOKEN_MANAGE, tok, T0 + 21, true, &l, &e);
	ok(rc == 0 && !strcmp(l.address, A_MAIN), "removed (%s)",
	    rc ? e.msg : "ok");
	is_str(owner(&t, A_MAIN), "", "the address is free");
	is_str(addrs(&t, afpr), "", "the key has no address");
	is_str(pub_uids(&t, afpr), "", "it is served without it");
	is_str(full_uids(&t, afpr), A_MAIN, "and still stored whole");
	rc = link_do(&t, true, TOKEN_MANAGE, tok, T0 + 22, true, &l, &e);
	ok(fails(rc, &e, ERR_GONE, link_used), "the link is used");
	/* a removal link for an address another key took since */
	t1 = T0 + rate + 100;
	ok(publish(&t, K_A1, main1, 1, t1) == 0 &&
	    dir_manage_request(&t.d, t1 + 2, A_MAIN, 0, &e) == 0 &&
	    dt_link(&t, A_MAIN, "manage", t2) == 0,
	    "published again, a new removal link");
	ok(publish(&t, K_O, main1, 1, t1 + rate) == 0, "another key takes "
	    "the address");
	is_str(owner(&t, A_MAIN), ofpr, "it has it");
	rc = link_do(&t, true, TOKEN_MANAGE, t2, t1 + rate + 5, true, &l, &e);
	ok(fails(rc, &e, ERR_GONE, "The address of this link is no longer "
	    "published with this key."), "the old link cannot remove it (%s)",
	    e.msg);
	is_str(owner(&t, A_MAIN), ofpr, "the new key keeps it");
	rebuild_same(&t, 2, t1 + rate + 10);
	dt_close(&t);
}

/* ---- re-verification ---------------------------------------------------- */

static void
t_reverify(void)
{
	static const char *const both[] = { A_MAIN, A_WORK };
	static const char *const bob[] = { B_MAIN };
	char te[TOKEN_LEN + 1], tw[TOKEN_LEN + 1], tb[TOKEN_LEN + 1];
	struct dir_maint m;
	struct dir_link l;
	int64_t iv, gr, ta, ask, v, a;
	struct dt t;
	struct err e;
	int rc;

	rc = dt_open(&t, "reverify");
	ok(rc == 0, "reverify: a directory");
	if (rc != 0)
		return;
	iv = t.d.cfg.reverify_interval;
	gr = t.d.cfg.reverify_grace;
	ok(iv == 180 * 86400 && gr == 14 * 86400, "default interval and grace");
	ok(publish(&t, K_A2, both, 2, T0) == 0 &&
	    publish(&t, K_B, bob, 1, T0) == 0,
	    "three addresses confirmed at T0 + 1");
	ok(sched(&t, A_MAIN, &v, &a) == 0 && v == T0 + 1 && a == 0,
	    "verified at confirmation, not asked");
	ok(maintain(&t, T0 + 1 + iv, &m) == 0 && m.asked == 0 &&
	    dt_flush(&t) == 0, "at the interval exactly: nobody asked");
	ask = T0 + 2 + iv;
	rc = maintain(&t, ask, &m);
	ok(rc == 0 && m.asked == 3 && m.expired == 0,
	    "a second later: all three asked (%zu)", m.asked);
	ok(dt_link(&t, A_MAIN, "reverify", te) == 0 &&
	    dt_link(&t, A_WORK, "reverify", tw) == 0 &&
	    dt_link(&t, B_MAIN, "reverify", tb) == 0 && dt_flush(&t) == 0,
	    "one re-verification link each");
	ok(sched(&t, A_MAIN, &v, &a) == 0 && a == ask, "asked is recorded");
	ok(maintain(&t, ask + 1, &m) == 0 && m.asked == 0 && m.expired == 0 &&
	    dt_flush(&t) == 0, "not asked twice");
	rc = link_do(&t, false, TOKEN_REVERIFY, te, ask + 5, false, &l, &e);
	ok(rc == 0 && !strcmp(l.fpr, afpr) && !strcmp(l.address, A_MAIN) &&
	    l.expires == ask + gr, "its page: key, address, the deadline");
	ok(fails(link_do(&t, false, TOKEN_MANAGE, te, ask + 5, false, &l, &e),
	    &e, ERR_NOTFOUND, link_bad), "not a removal link");
	ta = ask + 10;
	rc = link_do(&t, true, TOKEN_REVERIFY, te, ta, true, &l, &e);
	ok(rc == 0, "yes (%s)", rc ? e.msg : "ok");
	ok(sched(&t, A_MAIN, &v, &a) == 0 && v == ta && a == 0,
	    "yes: verified now, no longer asked");
	rc = link_do(&t, true, TOKEN_REVERIFY, tw, ta, false, &l, &e);
	ok(rc == 0, "no (%s)", rc ? e.msg : "ok");
	is_str(owner(&t, A_WORK), "", "no: unpublished at once");
	is_str(addrs(&t, afpr), A_MAIN, "the key keeps the other address");
	is_str(pub_uids(&t, afpr), A_MAIN, "and is served with it only");
	ok(fails(link_do(&t, true, TOKEN_REVERIFY, te, ta + 1, true, &l, &e),
	    &e, ERR_GONE, link_used), "a link answers once");
	/* bob does not answer */
	ok(maintain(&t, ask + gr, &m) == 0 && m.expired == 0,
	    "at the deadline exactly: still published");
	is_str(owner(&t, B_MAIN), bfpr, "bob still has it");
	rc = maintain(&t, ask + gr + 1, &m);
	ok(rc == 0 && m.expired == 1 && m.asked == 0,
	    "a second later: one unpublished (%zu)", m.expired);
	is_str(owner(&t, B_MAIN), "", "bob's address is gone");
	is_str(pub_uids(&t, bfpr), "", "his key is served without it");
	is_str(full_uids(&t, bfpr), B_MAIN, "and still stored");
	is_str(owner(&t, A_MAIN), afpr, "the answered address stays");
	rc = link_do(&t, true, TOKEN_REVERIFY, tb, ask + gr + 2, true, &l, &e);
	ok(rc == -1 && (e.code == ERR_GONE || e.code == ERR_NOTFOUND),
	    "a late yes does nothing (%s)", e.msg);
	is_str(owner(&t, B_MAIN), "", "bob's address stays unpublished");
	/* a yes restarts the interval */
	ok(maintain(&t, ta + iv, &m) == 0 && m.asked == 0,
	    "an interval after the yes: not yet");
	ok(maintain(&t, ta + iv + 1, &m) == 0 && m.asked == 1 &&
	    dt_link(&t, A_MAIN, "reverify", te) == 0 && dt_flush(&t) == 0,
	    "a second later: asked again");
	rebuild_same(&t, 2, ta + iv + 2);
	dt_close(&t);
}

/* ---- clean-up ------------------------------------------------------------ */

static void
t_cleanup(void)
{
	static const char *const main1[] = { A_MAIN };
	static const struct {
		int64_t at;		/* after T0 */
		size_t tokens, certs;
	} pass[] = {
		{ 7 * 86400 - 1, 0, 0 },	/* token_ttl - 1 */
		{ 7 * 86400, 2, 0 },		/* two links expire */
		{ 7 * 86400 + 3, 1, 0 },	/* the removal link */
		{ 14 * 86400, 0, 0 },		/* unconfirmed_ttl */
		{ 14 * 86400 + 1, 0, 1 },	/* bob's key */
		{ 14 * 86400 + 2, 0, 0 },
	};
	char tb[TOKEN_LEN + 1], tm[TOKEN_LEN + 1];
	struct dir_verify v;
	struct dir_upload u;
	struct dir_maint m;
	struct dir_link l;
	struct dt t;
	struct err e;
	size_t i;
	int rc;

	rc = dt_open(&t, "cleanup");
	ok(rc == 0, "cleanup: a directory");
	if (rc != 0)
		return;
	ok(t.d.cfg.token_ttl == 7 * 86400 &&
	    t.d.cfg.unconfirmed_ttl == 14 * 86400,
	    "default token_ttl and unconfirmed_ttl");
	/* O: confirmed, then removed by mail; bob: never confirmed; alice:
	 * revoked, never confirmed */
	ok(publish(&t, K_O, main1, 1, T0) == 0, "a key confirmed");
	ok(dir_manage_request(&t.d, T0 + 2, A_MAIN, 0, &e) == 0 &&
	    dt_link(&t, A_MAIN, "manage", tm) == 0 &&
	    link_do(&t, true, TOKEN_MANAGE, tm, T0 + 3, true, &l, &e) == 0,
	    "and removed by mail");
	ok(up(&t, K_B, T0, true, &u) == 0 && dt_link(&t, B_MAIN, "verify",
	    tb) == 0, "a key never confirmed");
	dir_upload_release(&u);
	ok(up(&t, K_AREV, T0, false, &u) == 0 && u.revoked,
	    "a revoked key never confirmed");
	dir_upload_release(&u);
	ok(dt_flush(&t) == 0, "no other mail");
	for (i = 0; i < sizeof(pass) / sizeof(pass[0]); i++) {
		rc = maintain(&t, T0 + pass[i].at, &m);
		ok(rc == 0 && m.tokens == pass[i].tokens &&
		    m.certs == pass[i].certs && m.asked == 0 && m.expired == 0,
		    "maintenance at %+lld s: %zu token(s), %zu key(s) deleted "
		    "(%zu, %zu)", (long long)pass[i].at, pass[i].tokens,
		    pass[i].certs, m.tokens, m.certs);
	}
	is_str(full_uids(&t, bfpr), "none", "the unconfirmed key is gone");
	is_str(pub_uids(&t, bfpr), "none", "and not served");
	rc = verify(&t, SHOW, tb, T0 + 14 * 86400 + 3, NULL, &v, &e);
	ok(fails(rc, &e, ERR_NOTFOUND, link_bad), "its link is gone too");
	is_str(full_uids(&t, afpr), "revoked:" A_MAIN "," A_WORK,
	    "the revoked key stays");
	is_str(pub_uids(&t, afpr), "revoked:", "served revoked");
	is_str(full_uids(&t, ofpr), A_MAIN, "the once confirmed key stays");
	is_str(owner(&t, A_MAIN), "", "without its address");
	rebuild_same(&t, 2, T0 + 14 * 86400 + 5);
	dt_close(&t);
}

/* ---- import ---------------------------------------------------------------- */

/* An exported address row for fpr. */
static struct store_addr
xaddr(const char *address, const char *fpr, int64_t when)
{
	struct store_addr a;

	memset(&a, 0, sizeof(a));
	str_lcpy(a.address, address, sizeof(a.address));
	str_lcpy(a.fpr, fpr, sizeof(a.fpr));
	a.verified = a.published = when;
	return a;
}

/* dir_import_prepare and dir_import_store of key k in one transaction:
 * 0, or -1 with the error in e; *merged as dir_import_store says. */
static int
import(struct dt *t, int k, const char *fpr, const struct store_addr *a,
    size_t n, int64_t now, bool *merged, struct err *e)
{
	struct dir_import *imp;
	int rc;

	*merged = false;
	err_clear(e);
	imp = dir_import_prepare(&t->d, fpr, keys[k].p, keys[k].len, a, n,
	    T0 - 100, n > 0, now, e);
	if (imp == NULL)
		return -1;
	if ((rc = store_begin(t->d.store, e)) == 0) {
		rc = dir_import_store(&t->d, imp, now, merged, e);
		if (rc == 0)
			rc = store_commit(t->d.store, e);
		else
			store_rollback(t->d.store);
	}
	dir_import_free(imp);
	return rc;
}

static void
t_import(void)
{
	static const char *const both[] = { A_MAIN, A_WORK };
	struct store_addr am, aw, ao;
	const struct {
		const char *what;
		int k;
		const char *fpr;
		const struct store_addr *a;
		size_t n;
		const char *msg;	/* NULL: any */
	} bad[] = {
		{ "a revoked key listing an address", K_AREV, afpr, &am, 1,
		    A_MAIN " is not a live user ID of this key" },
		{ "a revoked user ID listed", K_A3, afpr, &aw, 1,
		    A_WORK " is not a live user ID of this key" },
		{ "an address the key does not carry", K_B, bfpr, &am, 1,
		    A_MAIN " is not a live user ID of this key" },
		{ "a fingerprint that is not the key's", K_A1, ofpr, NULL, 0,
		    NULL },
	};
	char tag[64];
	bool merged;
	struct dt t;
	struct err e;
	size_t i;
	int rc;

	rc = dt_open(&t, "import");
	ok(rc == 0, "import: a directory");
	if (rc != 0)
		return;
	am = xaddr(A_MAIN, afpr, T0 + 1);
	aw = xaddr(A_WORK, afpr, T0 + 1);
	ao = xaddr(A_MAIN, ofpr, T0 + 50);
	ok(publish(&t, K_A2, both, 2, T0) == 0, "alice published, both "
	    "addresses");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		rc = import(&t, bad[i].k, bad[i].fpr, bad[i].a, bad[i].n,
		    T0 + 10, &merged, &e);
		ok(fails(rc, &e, ERR_INVALID, bad[i].msg),
		    "import of %s refused (%s)", bad[i].what, e.msg);
	}
	is_str(addrs(&t, afpr), A_MAIN "," A_WORK, "nothing changed");
	/* a version with a revoked user ID, as its export lists it */
	rc = import(&t, K_A3, afpr, &am, 1, T0 + 20, &merged, &e);
	ok(rc == 0 && merged, "the revoked user ID's version merged (%s)",
	    rc ? e.msg : "ok");
	is_str(addrs(&t, afpr), A_MAIN, "its address is unpublished");
	is_str(owner(&t, A_WORK), "", "nobody has it");
	is_str(pub_uids(&t, afpr), A_MAIN, "served without it");
	is_str(full_uids(&t, afpr), A_MAIN "," A_WORK "(r)",
	    "the revocation is stored");
	/* a new key that holds the address in the export */
	rc = import(&t, K_O, ofpr, &ao, 1, T0 + 30, &merged, &e);
	ok(rc == 0 && !merged, "a new key imported (%s)", rc ? e.msg : "ok");
	is_str(owner(&t, A_MAIN), ofpr, "the address moved to it");
	is_str(addrs(&t, afpr), "", "alice's key has none left");
	is_str(pub_uids(&t, afpr), "", "and is served without it");
	is_str(pub_uids(&t, ofpr), A_MAIN, "the new key is served with it");
	str_lcpy(tag, etag(&t, ofpr), sizeof(tag));
	rc = import(&t, K_O, ofpr, &ao, 1, T0 + 40, &merged, &e);
	ok(rc == 0 && merged, "the same export again: merged");
	is_str(etag(&t, ofpr), tag, "nothing served changed");
	is_str(owner(&t, A_MAIN), ofpr, "the address stays");
	rebuild_same(&t, 2, T0 + 50);
	dt_close(&t);
}

/*
 * Regression: keydird import of a revoked version of a published key left
 * its addresses published.  An import merges as an upload does.
 */
static void
t_import_revoked(void)
{
	static const char *const both[] = { A_MAIN, A_WORK };
	struct dir_upload u;
	bool merged;
	struct dt t;
	struct err e;
	int rc;

	rc = dt_open(&t, "import-revoked");
	ok(rc == 0, "import-revoked: a directory");
	if (rc != 0)
		return;
	ok(publish(&t, K_A2, both, 2, T0) == 0, "alice published, both "
	    "addresses");
	rc = import(&t, K_AREV, afpr, NULL, 0, T0 + 10, &merged, &e);
	ok(rc == 0 && merged, "the revoked version merged (%s)",
	    rc ? e.msg : "ok");
	is_str(addrs(&t, afpr), "", "no address left published");
	is_str(owner(&t, A_MAIN), "", A_MAIN " is free");
	is_str(owner(&t, A_WORK), "", A_WORK " is free");
	is_str(by_email(&t, A_MAIN), "", "not found by address");
	is_str(pub_uids(&t, afpr), "revoked:", "served revoked, no user ID");
	is_str(full_uids(&t, afpr), "revoked:" A_MAIN "," A_WORK,
	    "stored revoked");
	/* what an upload of it answers now */
	ok(up(&t, K_AREV, T0 + 20, false, &u) == 0 && u.revoked &&
	    u.naddrs == 0, "an upload of it: revoked, no address");
	dir_upload_release(&u);
	rebuild_same(&t, 1, T0 + 30);
	dt_close(&t);
}

/* ---- rebuild --------------------------------------------------------------- */

static void
t_rebuild(void)
{
	static const char *const main1[] = { A_MAIN };
	static const char *const bob[] = { B_MAIN };
	const char *const fprs[] = { afpr, ofpr, bfpr };
	char before[3][STORE_ETAG_LEN + 1];
	struct dir_upload u;
	struct dir_rebuilt r;
	struct dt t;
	struct err e;
	size_t i;
	int rc, same, run;

	rc = dt_open(&t, "rebuild");
	ok(rc == 0, "rebuild: a directory");
	if (rc != 0)
		return;
	/* published, revoked user ID; uploaded only; published */
	ok(publish(&t, K_A2, main1, 1, T0) == 0 &&
	    up(&t, K_A3, T0 + 5, false, &u) == 0, "alice: published, then "
	    "her second user ID revoked");
	dir_upload_release(&u);
	ok(up(&t, K_O, T0, false, &u) == 0, "another key, never confirmed");
	dir_upload_release(&u);
	ok(publish(&t, K_B, bob, 1, T0) == 0, "bob published");
	for (i = 0; i < 3; i++)
		str_lcpy(before[i], etag(&t, fprs[i]), sizeof(before[i]));
	for (run = 1; run <= 2; run++) {
		memset(&r, 0, sizeof(r));
		rc = dir_rebuild(&t.d, T0 + 100 * run, &r, &e);
		ok(rc == 0 && r.seen == 3 && r.keys == 0 && r.failed == 0,
		    "run %d: 3 keys seen, none written, none failed "
		    "(%zu %zu %zu)", run, r.seen, r.keys, r.failed);
		for (same = 1, i = 0; i < 3; i++)
			same &= strcmp(before[i], etag(&t, fprs[i])) == 0 &&
			    before[i][0] != '\0';
		ok(same, "run %d: every key serves the same bytes", run);
	}
	is_str(addrs(&t, afpr), A_MAIN, "alice keeps her address");
	is_str(addrs(&t, bfpr), B_MAIN, "bob keeps his");
	is_str(addrs(&t, ofpr), "", "the other key has none");
	dt_close(&t);
}

int
main(void)
{
	static const struct dt_group g[] = {
		{ "manage", t_manage }, { "reverify", t_reverify },
		{ "cleanup", t_cleanup }, { "import", t_import },
		{ "import_revoked", t_import_revoked },
		{ "rebuild", t_rebuild },
	};

	return dt_main(g, sizeof(g) / sizeof(g[0]));
}
