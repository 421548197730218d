/*
 * t_directory: the rules of the directory on a real SQLite store, with
 * keys librnp makes at test time (dirtest.h).  Every group gets its own
 * directory under one scratch folder, removed at the end; mail goes to the
 * outbox (no mailer) and is read back from there.  Time is always the
 * `now` the rules are given, never waited for.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"

static char tmp[] = "/tmp/t_directory.XXXXXX";

#include "dirtest.h"

/* ---- upload ----------------------------------------------------------- */

/* Upload: stored, nothing published; the upload session and VKS
 * request-verify. */
static void
t_upload(void)
{
	const int64_t rate = 600, ttl = 3600;
	static const struct {
		const char *what, *addr;
		int64_t at;		/* after T0 */
		enum err_code code;	/* ERR_OK: succeeds */
		const char *msg;
		size_t mails;
	} rq[] = {
		{ "an address of another key", B_MAIN, 2, ERR_INVALID,
		    B_MAIN " is not an address of the uploaded key.", 0 },
		{ "after upload_ttl", A_MAIN, ttl, ERR_INVALID,
		    "Upload session expired. Please try again.", 0 },
		{ "its own address, any case", "Alice@Example.ORG", 2, ERR_OK,
		    NULL, 1 },
		{ "again within mail_rate", A_MAIN, 3, ERR_OK, NULL, 0 },
		{ "again at mail_rate - 1", A_MAIN, 2 + rate - 1, ERR_OK, NULL,
		    0 },
		{ "again at mail_rate", A_MAIN, 2 + rate, ERR_OK, NULL, 1 },
	};
	const char *one;
	struct dir_upload u, r;
	struct dt t;
	struct err e;
	size_t i;
	int rc;

	rc = dt_open(&t, "upload");
	ok(rc == 0, "upload: a directory in %s", t.dir);
	if (rc != 0)
		return;
	ok(t.d.cfg.mail_rate == rate && t.d.cfg.upload_ttl == ttl,
	    "default mail_rate and upload_ttl");
	ok(up(&t, K_A1, T0, false, &u) == 0 && !strcmp(u.fpr, afpr) &&
	    u.token != NULL && !u.revoked && u.nmails == 0 && u.nfprs == 0,
	    "a new key: its fingerprint and a session, no mail");
	ok(u.naddrs == 1 && ustat(&u, A_MAIN) == ADDR_UNPUBLISHED,
	    "its address is listed unpublished");
	is_str(full_uids(&t, afpr), A_MAIN, "stored, with its user ID");
	is_str(pub_uids(&t, afpr), "", "served by fingerprint, no user ID");
	is_str(by_email(&t, A_MAIN), "", "not found by address");
	is_str(owner(&t, A_MAIN), "", "the address has no key");
	ok(dt_flush(&t) == 0, "no mail");
	ok(up(&t, K_A1, T0 + 1, false, &r) == 0 && !strcmp(r.fpr, afpr) &&
	    r.token != NULL && ustat(&r, A_MAIN) == ADDR_UNPUBLISHED &&
	    r.nmails == 0 && dt_flush(&t) == 0,
	    "the same bytes again: the same answer, no mail");
	dir_upload_release(&r);
	for (i = 0; i < sizeof(rq) / sizeof(rq[0]); i++) {
		one = rq[i].addr;
		err_clear(&e);
		rc = dir_request_verify(&t.d, T0 + rq[i].at, u.token, &one, 1,
		    0, &r, &e);
		if (rq[i].code != ERR_OK)
			ok(fails(rc, &e, rq[i].code, rq[i].msg) &&
			    dt_flush(&t) == 0, "request-verify, %s: refused "
			    "(%s)", rq[i].what, e.msg);
		else
			ok(rc == 0 && r.nmails == rq[i].mails &&
			    ustat(&r, A_MAIN) == ADDR_PENDING &&
			    dt_flush(&t) == rq[i].mails, "request-verify, %s: "
			    "pending, %zu mail(s) (%s)", rq[i].what,
			    rq[i].mails, rc == 0 ? "ok" : e.msg);
		if (rc == 0)
			dir_upload_release(&r);
	}
	is_str(owner(&t, A_MAIN), "", "asking publishes nothing");
	dir_upload_release(&u);
	rebuild_same(&t, 1, T0 + 10);
	dt_close(&t);
}

/* HKP /pks/add: request_all mails every address, within mail_rate once. */
static void
t_upload_hkp(void)
{
	static const struct {
		int64_t rates, plus;	/* at T0 + rates * mail_rate + plus */
		size_t mails;		/* per address */
	} rt[] = {
		{ 0, 1, 0 }, { 1, -1, 0 }, { 1, 0, 1 }, { 1, 1, 0 },
		{ 2, -1, 0 }, { 2, 0, 1 },
	};
	static const char *const both[] = { A_MAIN, A_WORK };
	const struct dmail *m;
	char tok[TOKEN_LEN + 1];
	struct dir_upload u;
	struct dt t;
	struct err e;
	uint8_t *two;
	size_t i, n;
	int64_t at;
	int rc;

	rc = dt_open(&t, "hkp");
	ok(rc == 0, "hkp: a directory");
	if (rc != 0)
		return;
	ok(up(&t, K_A2, T0, true, &u) == 0 && u.nmails == 2 &&
	    u.naddrs == 2 && ustat(&u, A_MAIN) == ADDR_PENDING &&
	    ustat(&u, A_WORK) == ADDR_PENDING,
	    "request_all: two addresses, two mails, both pending");
	dir_upload_release(&u);
	for (i = 0; i < 2; i++) {
		m = dt_mail(&t, both[i], "Confirm your key for this address");
		ok(m != NULL && tok_in(&t, m->text, "verify", tok) == 0 &&
		    strstr(m->text, groups(afpr)) != NULL &&
		    count_of(m->text, "application/pgp-keys") == 1,
		    "one confirmation to %s: link, fingerprint, the key",
		    both[i]);
	}
	ok(dt_flush(&t) == 0, "and no other mail");
	is_str(owner(&t, A_MAIN), "", "nothing published");
	for (i = 0; i < sizeof(rt) / sizeof(rt[0]); i++) {
		at = T0 + rt[i].rates * t.d.cfg.mail_rate + rt[i].plus;
		rc = up(&t, K_A2, at, true, &u);
		n = dt_flush(&t);
		ok(rc == 0 && u.nmails == 2 * rt[i].mails &&
		    ustat(&u, A_MAIN) == ADDR_PENDING &&
		    ustat(&u, A_WORK) == ADDR_PENDING && n == 2 * rt[i].mails,
		    "again at %+lld s: %zu mail(s) out", (long long)(at - T0),
		    n);
		if (rc == 0)
			dir_upload_release(&u);
	}
	/* several keys in one upload: stored, no session, no mail */
	two = malloc(keys[K_O].len + keys[K_B].len);
	memcpy(two, keys[K_O].p, keys[K_O].len);
	memcpy(two + keys[K_O].len, keys[K_B].p, keys[K_B].len);
	rc = dir_upload(&t.d, T0, two, keys[K_O].len + keys[K_B].len, true,
	    DT_CLIENT, &u, &e);
	ok(rc == 0 && u.nfprs == 2 && !strcmp(u.fprs[0], ofpr) &&
	    !strcmp(u.fprs[1], bfpr) && u.token == NULL && u.nmails == 0 &&
	    dt_flush(&t) == 0, "two keys at once: both listed, no session, "
	    "no mail");
	if (rc == 0)
		dir_upload_release(&u);
	free(two);
	is_str(full_uids(&t, bfpr), B_MAIN, "the second one is stored");
	rc = dir_upload(&t.d, T0, (const uint8_t *)"hello", 5, true, DT_CLIENT,
	    &u, &e);
	ok(fails(rc, &e, ERR_INVALID, "Parsing of key data failed."),
	    "garbage refused (%s)", e.msg);
	rebuild_same(&t, 3, T0);
	dt_close(&t);
}

/* ---- confirmation links ------------------------------------------------ */

static void
t_confirm(void)
{
	char te[TOKEN_LEN + 1], tw[TOKEN_LEN + 1], tw2[TOKEN_LEN + 1];
	char e0[33];
	static const char unknown[] = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
	const int64_t ttl = 7 * 86400;
	const struct {
		const char *what;
		enum act a;
		const char *tok;
		int64_t at;
		enum err_code code;
		const char *msg;
	} bad[] = {
		{ "confirm a used link", CONFIRM, te, 20, ERR_GONE, link_used },
		{ "show a used link", SHOW, te, 20, ERR_GONE, link_used },
		{ "reject a used link", REJECT, te, 20, ERR_GONE, link_used },
		{ "an unknown link", SHOW, unknown, 20, ERR_NOTFOUND, link_bad },
		{ "a malformed link", CONFIRM, "abc", 20, ERR_NOTFOUND,
		    link_bad },
		{ "show at token_ttl", SHOW, tw, ttl, ERR_GONE,
		    verify_expired },
		{ "confirm past token_ttl", CONFIRM, tw, ttl + 1, ERR_GONE,
		    verify_expired },
		{ "reject past token_ttl", REJECT, tw, ttl + 1, ERR_GONE,
		    verify_expired },
	};
	struct dir_upload u;
	struct dir_verify v;
	struct dt t;
	struct err e;
	size_t i;
	int rc;

	rc = dt_open(&t, "confirm");
	ok(rc == 0, "confirm: a directory");
	if (rc != 0)
		return;
	ok(t.d.cfg.token_ttl == ttl, "default token_ttl");
	ok(up(&t, K_A2, T0, true, &u) == 0 && u.nmails == 2 &&
	    dt_link(&t, A_MAIN, "verify", te) == 0 &&
	    dt_link(&t, A_WORK, "verify", tw) == 0,
	    "two confirmation links mailed");
	dir_upload_release(&u);
	rc = verify(&t, SHOW, te, T0 + 5, NULL, &v, &e);
	ok(rc == 0 && !strcmp(v.fpr, afpr) && !strcmp(v.address, A_MAIN) &&
	    v.prev_fpr[0] == '\0' && v.nothers == 0 &&
	    v.expires == T0 + ttl && strlen(v.effects) == 32 && !v.changed,
	    "show: key, address, expiry, no other key (%s)",
	    rc ? e.msg : "ok");
	str_lcpy(e0, v.effects, sizeof(e0));
	is_str(owner(&t, A_MAIN), "", "showing publishes nothing");
	rc = verify(&t, CONFIRM, te, T0 + 10, e0, &v, &e);
	ok(rc == 0 && !v.changed && !strcmp(v.address, A_MAIN) &&
	    !strcmp(v.effects, e0), "confirm with the page's effects (%s)",
	    rc ? e.msg : "ok");
	dir_verify_release(&v);
	is_str(owner(&t, A_MAIN), afpr, "the address is the key's");
	is_str(by_email(&t, A_MAIN), afpr, "found by address");
	is_str(addrs(&t, afpr), A_MAIN, "the key's published addresses");
	is_str(pub_uids(&t, afpr), A_MAIN, "served with that user ID only");
	ok(up(&t, K_A2, T0 + 11, false, &u) == 0 &&
	    ustat(&u, A_MAIN) == ADDR_PUBLISHED &&
	    ustat(&u, A_WORK) == ADDR_PENDING && u.nmails == 0,
	    "upload again: published and pending");
	dir_upload_release(&u);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		rc = verify(&t, bad[i].a, bad[i].tok, T0 + bad[i].at, NULL,
		    &v, &e);
		ok(fails(rc, &e, bad[i].code, bad[i].msg), "%s: refused (%s)",
		    bad[i].what, e.msg);
		dir_verify_release(&v);
	}
	is_str(owner(&t, A_WORK), "", "an expired link published nothing");
	/* a fresh link for the second address, discarded */
	ok(up(&t, K_A2, T0 + t.d.cfg.mail_rate, true, &u) == 0 &&
	    u.nmails == 1 && dt_link(&t, A_WORK, "verify", tw2) == 0,
	    "after mail_rate: a new link for %s", A_WORK);
	dir_upload_release(&u);
	rc = verify(&t, REJECT, tw2, T0 + t.d.cfg.mail_rate + 1, NULL, &v,
	    &e);
	ok(rc == 0 && !strcmp(v.address, A_WORK) && !strcmp(v.fpr, afpr),
	    "reject (%s)", rc ? e.msg : "ok");
	rc = verify(&t, CONFIRM, tw2, T0 + t.d.cfg.mail_rate + 2, NULL, &v,
	    &e);
	ok(fails(rc, &e, ERR_GONE, link_used), "a rejected link cannot "
	    "confirm (%s)", e.msg);
	is_str(owner(&t, A_WORK), "", "nothing published");
	is_str(addrs(&t, afpr), A_MAIN, "the first address stays");
	rebuild_same(&t, 1, T0 + 2000);
	dt_close(&t);
}

/* ---- merging uploads ----------------------------------------------------- */

static void
t_merge(void)
{
	static const char *const main1[] = { A_MAIN };
	char tw1[TOKEN_LEN + 1], tw2[TOKEN_LEN + 1];
	const char *one = A_WORK;
	struct dir_upload u, r;
	struct dir_verify v;
	int64_t rate;
	struct dt t;
	struct err e;
	int rc;

	rc = dt_open(&t, "merge");
	ok(rc == 0, "merge: a directory");
	if (rc != 0)
		return;
	rate = t.d.cfg.mail_rate;
	ok(publish(&t, K_A1, main1, 1, T0) == 0, "alice published");
	/* a newer version adds a user ID, not yet its address */
	ok(up(&t, K_A2, T0 + 10, false, &u) == 0 && u.nmails == 0 &&
	    ustat(&u, A_MAIN) == ADDR_PUBLISHED &&
	    ustat(&u, A_WORK) == ADDR_UNPUBLISHED,
	    "second user ID: published and unpublished");
	is_str(full_uids(&t, afpr), A_MAIN "," A_WORK, "merged: both stored");
	is_str(pub_uids(&t, afpr), A_MAIN, "only the confirmed one served");
	/* two links for it: one to confirm, one left over */
	ok(dir_request_verify(&t.d, T0 + 11, u.token, &one, 1, 0, &r, &e) == 0 &&
	    r.nmails == 1 && dt_link(&t, A_WORK, "verify", tw1) == 0,
	    "request-verify mails %s", A_WORK);
	dir_upload_release(&r);
	ok(dir_request_verify(&t.d, T0 + 11 + rate, u.token, &one, 1, 0,
	    &r, &e) == 0 && r.nmails == 1 && dt_link(&t, A_WORK, "verify",
	    tw2) == 0, "and again after mail_rate");
	dir_upload_release(&r);
	dir_upload_release(&u);
	ok(verify(&t, CONFIRM, tw1, T0 + 12 + rate, NULL, &v, &e) == 0,
	    "confirmed");
	is_str(addrs(&t, afpr), A_MAIN "," A_WORK, "both published");
	is_str(pub_uids(&t, afpr), A_MAIN "," A_WORK, "both served");
	/* the second user ID revoked */
	ok(up(&t, K_A3, T0 + 1000, false, &u) == 0 && u.nmails == 0 &&
	    ustat(&u, A_MAIN) == ADDR_PUBLISHED &&
	    ustat(&u, A_WORK) == ADDR_REVOKED,
	    "a revoked user ID: its status is revoked");
	dir_upload_release(&u);
	is_str(addrs(&t, afpr), A_MAIN, "its address is unpublished");
	is_str(owner(&t, A_WORK), "", "nobody has it");
	is_str(pub_uids(&t, afpr), A_MAIN, "served without it");
	is_str(full_uids(&t, afpr), A_MAIN "," A_WORK "(r)",
	    "the revocation is stored");
	rc = verify(&t, CONFIRM, tw2, T0 + 1001, NULL, &v, &e);
	ok(fails(rc, &e, ERR_GONE, "The key no longer carries this address, "
	    "or it was revoked."), "a link for it is dead (%s)", e.msg);
	ok(up(&t, K_A2, T0 + 1002, false, &u) == 0 &&
	    ustat(&u, A_WORK) == ADDR_REVOKED &&
	    ustat(&u, A_MAIN) == ADDR_PUBLISHED,
	    "the older version again: still revoked");
	dir_upload_release(&u);
	is_str(full_uids(&t, afpr), A_MAIN "," A_WORK "(r)",
	    "and still stored revoked");
	is_str(addrs(&t, afpr), A_MAIN, "not republished");
	/* the key revoked: every address goes */
	ok(up(&t, K_AREV, T0 + 1003, false, &u) == 0 && u.revoked &&
	    u.naddrs == 0 && u.nmails == 0, "the revoked key: revoked, no "
	    "address listed");
	is_str(addrs(&t, afpr), "", "no address published");
	is_str(owner(&t, A_MAIN), "", "the first address is free");
	is_str(by_email(&t, A_MAIN), "", "not found by address");
	is_str(pub_uids(&t, afpr), "revoked:", "served revoked, no user ID");
	rc = dir_request_verify(&t.d, T0 + 1004, u.token, main1, 1, 0, &r, &e);
	ok(fails(rc, &e, ERR_INVALID, "This key is revoked."),
	    "request-verify refused (%s)", e.msg);
	dir_upload_release(&u);
	ok(dt_flush(&t) == 0, "no other mail");
	rebuild_same(&t, 1, T0 + 2000);
	dt_close(&t);
}

/* ---- one key per address: replacing ---------------------------------- */

static void
t_replace(void)
{
	static const char *const stale[] = { NULL /* e0 */,
	    "00000000000000000000000000000000", "" };
	char ta[TOKEN_LEN + 1], to[TOKEN_LEN + 1], ta2[TOKEN_LEN + 1];
	char e0[33], e1[33];
	const struct dmail *m;
	struct dir_upload u;
	struct dir_verify v;
	struct dt t;
	struct err e;
	int64_t rate;
	size_t i;
	int rc;

	rc = dt_open(&t, "replace");
	ok(rc == 0, "replace: a directory");
	if (rc != 0)
		return;
	rate = t.d.cfg.mail_rate;
	ok(up(&t, K_A1, T0, true, &u) == 0 && dt_link(&t, A_MAIN, "verify",
	    ta) == 0, "alice asks");
	dir_upload_release(&u);
	ok(up(&t, K_O, T0 + rate, true, &u) == 0 && u.nmails == 1 &&
	    dt_link(&t, A_MAIN, "verify", to) == 0,
	    "another key with the same address asks");
	dir_upload_release(&u);
	ok(verify(&t, SHOW, to, T0 + rate + 1, NULL, &v, &e) == 0 &&
	    v.prev_fpr[0] == '\0', "its page: nobody has the address yet");
	str_lcpy(e0, v.effects, sizeof(e0));
	ok(verify(&t, CONFIRM, ta, T0 + rate + 2, NULL, &v, &e) == 0,
	    "alice confirms first");
	is_str(owner(&t, A_MAIN), afpr, "alice has the address");
	for (i = 0; i < sizeof(stale) / sizeof(stale[0]); i++) {
		rc = verify(&t, CONFIRM, to, T0 + rate + 3, stale[i] ? stale[i] :
		    e0, &v, &e);
		ok(rc == 0 && v.changed && !strcmp(v.prev_fpr, afpr) &&
		    strcmp(v.effects, e0) != 0, "confirming with stale effects "
		    "'%s': changed, names alice (%s)", stale[i] ? stale[i] :
		    "from before", rc ? e.msg : "ok");
		is_str(owner(&t, A_MAIN), afpr, "... and does nothing");
	}
	str_lcpy(e1, v.effects, sizeof(e1));
	ok(verify(&t, SHOW, to, T0 + rate + 4, NULL, &v, &e) == 0 &&
	    !strcmp(v.prev_fpr, afpr) && !strcmp(v.effects, e1),
	    "the link still works: the page names alice");
	ok(verify(&t, CONFIRM, to, T0 + rate + 5, e1, &v, &e) == 0 &&
	    !v.changed, "confirmed with the page's effects");
	is_str(owner(&t, A_MAIN), ofpr, "the new key has the address");
	is_str(by_email(&t, A_MAIN), ofpr, "found by address, alone");
	is_str(addrs(&t, afpr), "", "alice's key has no address");
	is_str(pub_uids(&t, afpr), "", "and is served without it");
	is_str(pub_uids(&t, ofpr), A_MAIN, "the new key is served with it");
	is_str(full_uids(&t, afpr), A_MAIN, "alice's key is still stored");
	m = dt_mail(&t, A_MAIN, "Your key for this address was replaced");
	ok(m != NULL && strstr(m->text, groups(ofpr)) != NULL &&
	    strstr(m->text, groups(afpr)) != NULL,
	    "the address is told, with both keys");
	ok(fails(verify(&t, CONFIRM, to, T0 + rate + 6, NULL, &v, &e), &e,
	    ERR_GONE, link_used), "the link is used");
	/* alice asks back: the mail names and attaches the current key */
	ok(up(&t, K_A1, T0 + 2 * rate + 10, true, &u) == 0 && u.nmails == 1 &&
	    ustat(&u, A_MAIN) == ADDR_PENDING, "alice asks again: pending");
	dir_upload_release(&u);
	m = dt_mail(&t, A_MAIN, "Confirm the new key for this address");
	ok(m != NULL && strstr(m->text, "ANOTHER key") != NULL &&
	    strstr(m->text, groups(ofpr)) != NULL &&
	    count_of(m->text, "application/pgp-keys") == 2 &&
	    tok_in(&t, m->text, "verify", ta2) == 0,
	    "her mail names the current key and attaches both");
	ok(verify(&t, CONFIRM, ta2, T0 + 2 * rate + 11, NULL, &v, &e) == 0 &&
	    !strcmp(v.prev_fpr, ofpr), "confirmed without a page");
	is_str(owner(&t, A_MAIN), afpr, "alice has it back");
	is_str(pub_uids(&t, ofpr), "", "the other key is served without it");
	ok(dt_mail(&t, A_MAIN, "Your key for this address was replaced") !=
	    NULL && dt_flush(&t) == 0, "told again; no other mail");
	rebuild_same(&t, 2, T0 + 3000);
	dt_close(&t);
}

/* ---- one address per key ----------------------------------------------- */

static void
t_one_per_key(void)
{
	char te[TOKEN_LEN + 1], tw[TOKEN_LEN + 1], e0[33];
	struct dir_upload u;
	struct dir_verify v;
	struct dt t;
	struct err e;
	int rc;

	rc = dt_open(&t, "onekey");
	ok(rc == 0, "one_address_per_key: a directory");
	if (rc != 0)
		return;
	t.d.cfg.one_address_per_key = true;
	ok(up(&t, K_A2, T0, true, &u) == 0 && dt_link(&t, A_MAIN, "verify",
	    te) == 0 && dt_link(&t, A_WORK, "verify", tw) == 0,
	    "two links");
	dir_upload_release(&u);
	ok(verify(&t, SHOW, tw, T0 + 1, NULL, &v, &e) == 0 && v.nothers == 0,
	    "the second page: nothing else to unpublish yet");
	str_lcpy(e0, v.effects, sizeof(e0));
	dir_verify_release(&v);
	ok(verify(&t, CONFIRM, te, T0 + 2, NULL, &v, &e) == 0,
	    "the first address confirmed");
	dir_verify_release(&v);
	is_str(addrs(&t, afpr), A_MAIN, "published");
	ok(verify(&t, CONFIRM, tw, T0 + 3, e0, &v, &e) == 0 && v.changed &&
	    v.nothers == 1 && !strcmp(v.others[0], A_MAIN),
	    "stale page: changed, now names %s", A_MAIN);
	is_str(addrs(&t, afpr), A_MAIN, "nothing done");
	str_lcpy(e0, v.effects, sizeof(e0));
	dir_verify_release(&v);
	ok(verify(&t, CONFIRM, tw, T0 + 4, e0, &v, &e) == 0 && !v.changed,
	    "the second address confirmed");
	dir_verify_release(&v);
	is_str(addrs(&t, afpr), A_WORK, "only the second is published");
	is_str(owner(&t, A_MAIN), "", "the first is free");
	is_str(pub_uids(&t, afpr), A_WORK, "served with the second only");
	rebuild_same(&t, 1, T0 + 10);
	dt_close(&t);
}

int
main(void)
{
	static const struct dt_group g[] = {
		{ "upload", t_upload }, { "upload_hkp", t_upload_hkp },
		{ "confirm", t_confirm }, { "merge", t_merge },
		{ "replace", t_replace }, { "one_per_key", t_one_per_key },
	};

	return dt_main(g, sizeof(g) / sizeof(g[0]));
}
