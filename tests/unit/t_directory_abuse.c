/*
 * t_directory_abuse: the abuse limits on mail and storage, on a real
 * SQLite store with keys librnp makes at test time (dirtest.h):
 * confirmation mails per upload and per request-verify
 * (max_mails_per_upload), new keys without a confirmed address per client
 * and day (max_unconfirmed_per_client), the room never-confirmed keys
 * take (max_unconfirmed_bytes), the mailer's global rate
 * (mail_global_rate), and what the HKP and JSON answers say about each
 * address.  Time is always the `now` the rules are given.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <regex.h>

#include "armor.h"
#include "log.h"

static char tmp[] = "/tmp/t_directory_abuse.XXXXXX";

#include "dirtest.h"
#include "mail.h"
#include "reqtest.h"

#define NMANY 12	/* user IDs of the many key: more than the cap */
#define NX 4		/* keys with one user ID each */
#define C1 "192.0.2.1"
#define C2 "2001:db8:1:2::/64"

static struct blob many, xk[NX];
static char mfpr[FPR_LEN + 1], xfpr[NX][FPR_LEN + 1];

/* The address of the many key's user ID i. */
static const char *
maddr(int i)
{
	static char b[8][64];
	static unsigned r;
	char *o = b[r++ % 8];

	snprintf(o, 64, "m%d@many.example", i);
	return o;
}

/* The address of key x[i]. */
static const char *
xaddr(int i)
{
	static char b[4][64];
	static unsigned r;
	char *o = b[r++ % 4];

	snprintf(o, 64, "x%d@extra.example", i);
	return o;
}

/* The many key (NMANY user IDs, m0 first) and the x keys. */
static int
abuse_keys(void)
{
	rnp_ffi_t ffi = NULL;
	rnp_key_handle_t k = NULL;
	char uid[128];
	int i, rc = -1;

	if (rnp_ffi_create(&ffi, "GPG", "GPG") != RNP_SUCCESS)
		return -1;
	if (rnp_gen(ffi, "Many 0 <m0@many.example>", &k) == -1 ||
	    rnp_fpr(k, mfpr) == -1)
		goto out;
	for (i = 1; i < NMANY; i++) {
		snprintf(uid, sizeof(uid), "Many %d <%s>", i, maddr(i));
		if (rnp_key_add_uid(k, uid, "SHA256", 0, 0, false) !=
		    RNP_SUCCESS)
			goto out;
	}
	if (rnp_export_pub(k, &many) == -1)
		goto out;
	for (i = 0; i < NX; i++) {
		rnp_key_handle_destroy(k);
		snprintf(uid, sizeof(uid), "Extra %d <%s>", i, xaddr(i));
		if (rnp_gen(ffi, uid, &k) == -1 || rnp_fpr(k, xfpr[i]) == -1 ||
		    rnp_export_pub(k, &xk[i]) == -1)
			goto out;
	}
	rc = 0;
out:
	rnp_key_handle_destroy(k);
	rnp_ffi_destroy(ffi);
	return rc;
}

/* Upload b from client at now; -1 prints why. */
static int
upb(struct dt *t, const struct blob *b, int64_t now, bool all,
    const char *client, struct dir_upload *u, struct err *e)
{
	int rc;

	err_clear(e);
	rc = dir_upload(&t->d, now, b->p, b->len, all, client, u, e);
	return rc;
}

/* The entry of address in u; NULL when not listed. */
static const struct dir_addr *
uaddr(const struct dir_upload *u, const char *address)
{
	size_t i;

	for (i = 0; i < u->naddrs; i++)
		if (!strcmp(u->addrs[i].address, address))
			return &u->addrs[i];
	return NULL;
}

/* The mail outcomes of the many key's addresses from..to-1 in u, as a
 * string of letters: S sent, R rate limited, C capped, N none, U
 * unmailable, - not listed. */
static const char *
mails(const struct dir_upload *u, int from, int to)
{
	static char b[4][NMANY + 1];
	static unsigned r;
	char *o = b[r++ % 4];
	const struct dir_addr *a;
	int i, n = 0;

	for (i = from; i < to; i++) {
		a = uaddr(u, maddr(i));
		o[n++] = a == NULL ? '-' : "SRCNU"[a->mail == ADDR_MAIL_SENT ?
		    0 : a->mail == ADDR_MAIL_RATE ? 1 : a->mail ==
		    ADDR_MAIL_CAPPED ? 2 : a->mail == ADDR_MAIL_NONE ? 3 : 4];
	}
	o[n] = '\0';
	return o;
}

/* Whether an unseen mail went to each of the many key's addresses
 * from..to-1 (marked seen), as a string: y or n each. */
static const char *
mailed(struct dt *t, int from, int to)
{
	static char b[4][NMANY + 1];
	static unsigned r;
	char *o = b[r++ % 4];
	int i, n = 0;

	for (i = from; i < to; i++)
		o[n++] = dt_mail(t, maddr(i), NULL) != NULL ? 'y' : 'n';
	o[n] = '\0';
	return o;
}

/* The unconfirmed totals of the store: count and bytes ({-1, -1} on
 * error). */
struct totals {
	int64_t n, bytes;
};

static struct totals
unconf(struct dt *t)
{
	struct totals r = { -1, -1 };
	struct store_stats st;
	struct err e;

	memset(&st, 0, sizeof(st));
	if (store_begin_read(t->d.store, &e) == -1)
		return r;
	if (store_stats(t->d.store, &st, &e) == 0) {
		r.n = st.unconfirmed;
		r.bytes = st.unconfirmed_bytes;
	}
	store_rollback(t->d.store);
	return r;
}

/* ---- mails per upload -------------------------------------------------- */

/* HKP: the first max_mails_per_upload not-published addresses, in the
 * key's order; rate-limited ones cost nothing, so an upload again mails
 * the next ones. */
static void
t_fanout(void)
{
	struct dir_upload u;
	struct dt t;
	struct err e;
	const struct dir_addr *a;

	if (dt_open(&t, "fanout") != 0) {
		ok(0, "fanout: a directory");
		return;
	}
	ok(t.d.cfg.max_mails_per_upload == 10, "default: 10 mails per upload");
	ok(upb(&t, &many, T0, true, C1, &u, &e) == 0 && u.nmails == 10 &&
	    u.ncapped == 2, "a key with %d addresses: 10 mailed, 2 capped (%s)",
	    NMANY, e.msg);
	is_str(mails(&u, 0, NMANY), "SSSSSSSSSSCC",
	    "the first ten in the key's order");
	a = uaddr(&u, maddr(11));
	ok(a != NULL && a->status == ADDR_UNPUBLISHED && uaddr(&u,
	    maddr(0))->status == ADDR_PENDING,
	    "capped: unpublished; mailed: pending");
	dir_upload_release(&u);
	is_str(mailed(&t, 0, NMANY), "yyyyyyyyyynn", "exactly those ten mails");
	ok(dt_flush(&t) == 0, "and no other");
	ok(upb(&t, &many, T0 + 1, true, C1, &u, &e) == 0 && u.nmails == 2 &&
	    u.ncapped == 0, "uploaded again: the other two mailed");
	is_str(mails(&u, 0, NMANY), "RRRRRRRRRRSS",
	    "the first ten rate limited: they cost nothing");
	a = uaddr(&u, maddr(3));
	ok(a != NULL && a->retry_at == T0 + t.d.cfg.mail_rate &&
	    a->status == ADDR_PENDING, "rate limited until mail_rate after "
	    "its mail, pending");
	dir_upload_release(&u);
	is_str(mailed(&t, 0, NMANY), "nnnnnnnnnnyy", "those two mails");
	ok(upb(&t, &many, T0 + 2, true, C1, &u, &e) == 0 && u.nmails == 0 &&
	    strcmp(mails(&u, 0, NMANY), "RRRRRRRRRRRR") == 0 &&
	    dt_flush(&t) == 0, "a third time: nothing to mail");
	dir_upload_release(&u);
	ok(upb(&t, &many, T0 + 3, false, C1, &u, &e) == 0 &&
	    strcmp(mails(&u, 0, NMANY), "NNNNNNNNNNNN") == 0 &&
	    dt_flush(&t) == 0, "a VKS upload asks for no mail");
	dir_upload_release(&u);
	dt_close(&t);

	/* off */
	if (dt_open(&t, "fanout_off") != 0)
		return;
	t.d.cfg.max_mails_per_upload = 0;
	ok(upb(&t, &many, T0, true, C1, &u, &e) == 0 &&
	    u.nmails == NMANY && u.ncapped == 0 &&
	    dt_flush(&t) == NMANY, "max_mails_per_upload 0: every address");
	dir_upload_release(&u);
	dt_close(&t);
}

/* Published addresses are not mailed and do not count; request-verify
 * has the same cap per call, in the order asked. */
static void
t_fanout_more(void)
{
	char askb[NMANY][64];
	const char *ask[NMANY];
	struct dir_upload u, r;
	struct dt t;
	struct err e;
	int i;

	if (dt_open(&t, "fanout_pub") != 0) {
		ok(0, "fanout_pub: a directory");
		return;
	}
	t.d.cfg.max_mails_per_upload = 2;
	ok(upb(&t, &many, T0, true, C1, &u, &e) == 0 && u.nmails == 2 &&
	    confirm(&t, maddr(0), T0 + 1) == 0, "cap 2; the first address "
	    "confirmed");
	dir_upload_release(&u);
	dt_flush(&t);
	ok(upb(&t, &many, T0 + 1000, true, C1, &u, &e) == 0 &&
	    u.nmails == 2 && uaddr(&u, maddr(0))->status == ADDR_PUBLISHED,
	    "after mail_rate, again: 2 mailed, the first is published");
	is_str(mails(&u, 0, 5), "NSSCC", "published: no mail, not counted");
	is_str(mailed(&t, 0, 4), "nyyn", "those two mails");
	dir_upload_release(&u);
	dt_close(&t);

	if (dt_open(&t, "fanout_rv") != 0)
		return;
	ok(upb(&t, &many, T0, false, C1, &u, &e) == 0 && u.token != NULL,
	    "VKS upload: a session");
	for (i = 0; i < NMANY; i++) {
		str_lcpy(askb[i], maddr(NMANY - 1 - i), sizeof(askb[i]));
		ask[i] = askb[i];
	}
	ok(dir_request_verify(&t.d, T0 + 1, u.token, ask, NMANY, 0, &r, &e) ==
	    0 && r.nmails == 10 && r.ncapped == 2,
	    "request-verify for all %d: 10 mailed, 2 capped", NMANY);
	is_str(mails(&r, 0, NMANY), "CCSSSSSSSSSS",
	    "the first ten asked (last user IDs first)");
	ok(uaddr(&r, maddr(0))->status == ADDR_UNPUBLISHED,
	    "capped: unpublished, so a client asks again");
	dir_upload_release(&r);
	is_str(mailed(&t, 0, NMANY), "nnyyyyyyyyyy", "exactly those mails");
	ok(dir_request_verify(&t.d, T0 + 2, u.token, ask, NMANY, 0, &r, &e) ==
	    0 && r.nmails == 2 && strcmp(mails(&r, 0, NMANY),
	    "SSRRRRRRRRRR") == 0, "asked again: the other two");
	dir_upload_release(&r);
	is_str(mailed(&t, 0, NMANY), "yynnnnnnnnnn", "those two");
	dir_upload_release(&u);
	dt_close(&t);
}

/* ---- keys per client ---------------------------------------------------- */

static void
t_client(void)
{
	struct store_cert c;
	struct dir_maint m;
	struct dir_upload u;
	struct dt t;
	struct err e;
	int rc;

	if (dt_open(&t, "client") != 0) {
		ok(0, "client: a directory");
		return;
	}
	ok(t.d.cfg.max_unconfirmed_per_client == 100,
	    "default: 100 new keys per client and day");
	t.d.cfg.max_unconfirmed_per_client = 2;
	ok(upb(&t, &xk[0], T0, false, C1, &u, &e) == 0, "key 0 from C1");
	dir_upload_release(&u);
	ok(upb(&t, &xk[1], T0 + 10, true, C1, &u, &e) == 0,
	    "key 1 from C1 (mailed)");
	dir_upload_release(&u);
	rc = upb(&t, &xk[2], T0 + 20, true, C1, &u, &e);
	ok(fails(rc, &e, ERR_RATE, NULL) && strstr(e.msg, "Too many new "
	    "keys from your address") != NULL, "key 2 from C1: refused (%s)",
	    e.msg);
	ok(u.retry_after == 86400 - 20, "retry after: when key 0 is a day "
	    "old (%lld)", (long long)u.retry_after);
	is_str(full_uids(&t, xfpr[2]), "none", "nothing stored");
	ok(dt_mail(&t, xaddr(2), NULL) == NULL, "nothing mailed");
	ok(upb(&t, &xk[2], T0 + 20, false, C2, &u, &e) == 0,
	    "the same key from another client: taken");
	dir_upload_release(&u);
	ok(upb(&t, &xk[0], T0 + 21, true, C1, &u, &e) == 0,
	    "C1 uploads a key it stored before: taken (not a new key)");
	dir_upload_release(&u);
	ok(upb(&t, &many, T0 + 22, false, "", &u, &e) == 0,
	    "no client (\"\"): not counted");
	dir_upload_release(&u);
	ok(confirm(&t, xaddr(1), T0 + 30) == 0, "C1's key 1 confirmed");
	ok(upb(&t, &xk[3], T0 + 40, false, C1, &u, &e) == 0,
	    "a confirmed key counts no more: key 3 from C1 taken");
	dir_upload_release(&u);
	/* key 0 (T0) and key 3 (T0 + 40) count for C1 now */
	ok(store_begin(t.d.store, &e) == 0 &&
	    store_cert_del(t.d.store, xfpr[2], &e) == 0 &&
	    store_commit(t.d.store, &e) == 0, "key 2 deleted, to be new again");
	rc = upb(&t, &xk[2], T0 + 86399, false, C1, &u, &e);
	ok(fails(rc, &e, ERR_RATE, NULL) && u.retry_after == 1,
	    "a second before key 0 is a day old: refused, retry after 1 s");
	ok(upb(&t, &xk[2], T0 + 86400, false, C1, &u, &e) == 0,
	    "a day after key 0: taken");
	dir_upload_release(&u);
	ok(store_begin(t.d.store, &e) == 0 &&
	    store_cert_get(t.d.store, xfpr[3], &c, &e) == 0 &&
	    strcmp(c.client, C1) == 0, "the key remembers its client");
	store_cert_release(&c);
	store_rollback(t.d.store);
	ok(dir_maintain(&t.d, T0 + 41 + 86400, &m, &e) == 0 &&
	    m.clients == 3, "maintenance a day later forgets it, and those "
	    "before it (keys 0, 1, 3)");
	ok(store_begin(t.d.store, &e) == 0 &&
	    store_cert_get(t.d.store, xfpr[3], &c, &e) == 0 &&
	    c.client[0] == '\0', "the client is gone");
	store_cert_release(&c);
	store_rollback(t.d.store);
	dt_close(&t);

	if (dt_open(&t, "client_off") != 0)
		return;
	t.d.cfg.max_unconfirmed_per_client = 0;
	rc = 0;
	for (int i = 0; i < NX; i++) {
		rc |= upb(&t, &xk[i], T0, false, C1, &u, &e);
		if (u.fpr[0])
			dir_upload_release(&u);
	}
	ok(rc == 0, "max_unconfirmed_per_client 0: every key taken");
	dt_close(&t);
}

/* ---- room for unconfirmed keys ------------------------------------------ */

static void
t_room(void)
{
	int64_t sz[NX], prev = 0;
	struct totals u8 = { 0, 0 };
	struct dir_upload u;
	struct dt t;
	struct err e;
	int i, rc;

	/* each key's size, as the store counts it */
	if (dt_open(&t, "room_sizes") != 0) {
		ok(0, "room: a directory");
		return;
	}
	ok(t.d.cfg.max_unconfirmed_bytes == (size_t)1 << 30,
	    "default: 1 GiB for never-confirmed keys");
	for (i = 0; i < NX; i++) {
		if (upb(&t, &xk[i], T0, false, C1, &u, &e) == 0)
			dir_upload_release(&u);
		u8 = unconf(&t);
		sz[i] = u8.bytes - prev;
		prev = u8.bytes;
	}
	ok(u8.n == NX && sz[0] > 0 && sz[3] > 0, "%d keys, %lld bytes", NX,
	    (long long)u8.bytes);
	dt_close(&t);

	if (dt_open(&t, "room") != 0)
		return;
	ok(upb(&t, &xk[0], T0, false, C1, &u, &e) == 0, "key 0 at T0");
	dir_upload_release(&u);
	ok(upb(&t, &xk[1], T0 + 1, true, C1, &u, &e) == 0 &&
	    confirm(&t, xaddr(1), T0 + 2) == 0, "key 1, published");
	dir_upload_release(&u);
	ok(upb(&t, &xk[2], T0 + 3, false, C1, &u, &e) == 0, "key 2");
	dir_upload_release(&u);
	u8 = unconf(&t);
	ok(u8.n == 2 && u8.bytes == sz[0] + sz[2], "unconfirmed: keys 0 and 2");
	t.d.cfg.max_unconfirmed_bytes = (size_t)(sz[0] + sz[2] + sz[3] - 1);
	ok(upb(&t, &xk[3], T0 + 4, false, C1, &u, &e) == 0,
	    "key 3, one byte over: taken");
	dir_upload_release(&u);
	is_str(full_uids(&t, xfpr[0]), "none", "the oldest never-confirmed "
	    "key made room");
	ok(strcmp(full_uids(&t, xfpr[1]), xaddr(1)) == 0 &&
	    strcmp(by_email(&t, xaddr(1)), xfpr[1]) == 0,
	    "the older published key stays, found by address");
	ok(strcmp(full_uids(&t, xfpr[2]), xaddr(2)) == 0 &&
	    strcmp(full_uids(&t, xfpr[3]), xaddr(3)) == 0, "keys 2 and 3 stay");
	u8 = unconf(&t);
	ok(u8.n == 2 && u8.bytes == sz[2] + sz[3], "unconfirmed: keys 2 and 3");
	t.d.cfg.max_unconfirmed_bytes = (size_t)sz[0] - 1;
	rc = upb(&t, &xk[0], T0 + 5, false, C1, &u, &e);
	ok(fails(rc, &e, ERR_TOOBIG, NULL), "a key larger than the room "
	    "alone: 413 (%s)", e.msg);
	u8 = unconf(&t);
	ok(u8.n == 2 && u8.bytes == sz[2] + sz[3] && strcmp(full_uids(&t,
	    xfpr[0]), "none") == 0, "nothing stored, nothing purged");
	t.d.cfg.max_unconfirmed_bytes = 0;
	ok(upb(&t, &xk[0], T0 + 6, false, C1, &u, &e) == 0,
	    "max_unconfirmed_bytes 0: taken");
	dir_upload_release(&u);
	dt_close(&t);
}

/* ---- what the answers say ---------------------------------------------- */

/* One request from client through the routes. */
static struct answer
call(struct dt *t, const char *uri, const char *ctype, const char *body,
    const char *client)
{
	return rq_run(&t->d, &(struct rq){ .method = HTTP_POST, .uri = uri,
	    .ctype = ctype, .body = body, .client = client });
}

/* A form body keytext=<b armored, percent-encoded>; the caller frees. */
static char *
hkp_form(const struct blob *b)
{
	struct buf arm, form;
	size_t i;

	buf_init(&arm, 1 << 20);
	buf_init(&form, 4 << 20);
	armor_encode_keys(b->p, b->len, &arm);
	buf_addstr(&form, "keytext=");
	for (i = 0; i < arm.len; i++)
		if ((arm.data[i] >= 'a' && arm.data[i] <= 'z') ||
		    (arm.data[i] >= 'A' && arm.data[i] <= 'Z') ||
		    (arm.data[i] >= '0' && arm.data[i] <= '9'))
			buf_addch(&form, arm.data[i]);
		else
			buf_printf(&form, "%%%02X", (unsigned char)arm.data[i]);
	buf_release(&arm);
	return buf_detach(&form, NULL);
}

/* Whether s matches the extended regular expression re. */
static bool
matches(const char *s, const char *re)
{
	regex_t rx;
	bool m;

	if (regcomp(&rx, re, REG_EXTENDED | REG_NOSUB) != 0)
		return false;
	m = regexec(&rx, s, 0, NULL, 0) == 0;
	regfree(&rx);
	if (!m)
		printf("# '%s' does not match /%s/\n", s, re);
	return m;
}

/* The line of the answer text that starts with address and ": ". */
static const char *
line_of(const char *text, const char *address)
{
	static char o[4][512];
	static unsigned r;
	char *b = o[r++ % 4], pre[128];
	const char *p = text, *end;

	snprintf(pre, sizeof(pre), "%s: ", address);
	b[0] = '\0';
	while (p != NULL && *p) {
		end = strchr(p, '\n');
		if (!strncmp(p, pre, strlen(pre))) {
			size_t n = end ? (size_t)(end - p) : strlen(p);

			snprintf(b, 512, "%.*s", (int)n, p);
			break;
		}
		p = end ? end + 1 : NULL;
	}
	return b;
}

static void
t_answers(void)
{
	char *form, *form2, want[200], json[300];
	struct answer a;
	struct dt t;

	if (dt_open(&t, "answers") != 0) {
		ok(0, "answers: a directory");
		return;
	}
	form = hkp_form(&many);
	a = call(&t, "/pks/add", "application/x-www-form-urlencoded", form,
	    C1);
	snprintf(want, sizeof(want), "Upload successful: key %s.\n", mfpr);
	ok(a.status == 200 && !strncmp(a.body, want, strlen(want)),
	    "HKP add: 200, the key first");
	ok(matches(line_of(a.body, maddr(0)), "^m0@many.example: a "
	    "confirmation mail is on its way; open the link in it to publish "
	    "this address.$"), "a mailed address says so");
	ok(matches(line_of(a.body, maddr(10)), "^m10@many.example: not "
	    "mailed: at most 10 confirmation mails go out per upload.  Upload "
	    "the key again .* request-verify.$"), "a capped one says why and "
	    "what to do");
	ok(strstr(a.body, "/vks/v1/request-verify within 60 minutes") !=
	    NULL && strstr(a.body, "{\"token\": \"") != NULL,
	    "... with the session token for request-verify");
	ok(count_of(a.body, "\n") == 1 + NMANY + 1 + 1, "one line per "
	    "address (and the token's, and view_text's end)");
	free(a.body);
	a = call(&t, "/pks/add", "application/x-www-form-urlencoded", form,
	    C1);
	ok(matches(line_of(a.body, maddr(0)), "^m0@many.example: not mailed: "
	    "a confirmation mail went to this address a short while ago "
	    "\\(use its link\\), and another can go after "
	    "[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:]{8} UTC.$"),
	    "again: a rate-limited one says until when");
	ok(matches(line_of(a.body, maddr(11)), "on its way"),
	    "the next ones mailed");
	ok(strstr(a.body, "request-verify within") == NULL,
	    "none capped: no token");
	free(a.body);
	ok(confirm(&t, maddr(0), T0) == 0, "m0 confirmed");
	a = call(&t, "/pks/add", "application/x-www-form-urlencoded", form,
	    C1);
	is_str(line_of(a.body, maddr(0)), "m0@many.example: already "
	    "published.", "a published one says so");
	free(a.body);

	/* per client */
	t.d.cfg.max_unconfirmed_per_client = 1;
	form2 = hkp_form(&xk[0]);
	a = call(&t, "/pks/add", "application/x-www-form-urlencoded", form2,
	    C2);
	ok(a.status == 200, "C2's first new key: 200");
	free(a.body);
	free(form2);
	form2 = hkp_form(&xk[1]);
	a = call(&t, "/pks/add", "application/x-www-form-urlencoded", form2,
	    C2);
	ok(a.status == 429 && strtol(a.retry_after, NULL, 10) > 86000 &&
	    strstr(a.body, "Too many new keys from your address") != NULL &&
	    strstr(a.body, "Try again after 2") != NULL,
	    "its second: 429, Retry-After %s, the text says when", a.retry_after);
	free(a.body);
	free(form2);
	{
		char b64[8192], body[8300];

		sodium_bin2base64(b64, sizeof(b64), xk[1].p, xk[1].len,
		    sodium_base64_VARIANT_ORIGINAL);
		snprintf(body, sizeof(body), "{\"keytext\":\"%s\"}", b64);
		a = call(&t, "/vks/v1/upload", "application/json", body, C2);
		ok(a.status == 429 && a.retry_after[0] != '\0' &&
		    strstr(a.body, "{\"error\":\"Too many") == a.body,
		    "VKS upload: 429 in JSON, Retry-After");
		free(a.body);
		a = call(&t, "/vks/v1/upload", "application/json", body, C1);
		ok(a.status == 200, "the same key from C1: 200");
		free(a.body);
	}
	is_str(full_uids(&t, xfpr[1]), xaddr(1), "(stored once)");

	/* request-verify in JSON */
	{
		struct dir_upload u;
		struct err e;

		ok(upb(&t, &xk[2], T0, false, "", &u, &e) == 0, "a session");
		snprintf(json, sizeof(json), "{\"token\":\"%s\",\"addresses\":"
		    "[\"%s\"]}", u.token, xaddr(2));
		dir_upload_release(&u);
	}
	a = call(&t, "/vks/v1/request-verify", "application/json", json, C1);
	ok(a.status == 200 && strstr(a.body, "\"mails\":1") != NULL &&
	    strstr(a.body, "\"mail\":{\"x2@extra.example\":{\"result\":"
	    "\"mailed\"}}") != NULL && strstr(a.body, "\"message\":\"Upload "
	    "successful") != NULL, "request-verify: mails, mail and message "
	    "(%.300s)", a.body);
	free(a.body);
	a = call(&t, "/vks/v1/request-verify", "application/json", json, C1);
	ok(a.status == 200 && strstr(a.body, "\"mails\":0") != NULL &&
	    strstr(a.body, "{\"result\":\"rate_limited\",\"retry_at\":") !=
	    NULL, "again: rate_limited, retry_at");
	free(a.body);
	free(form);
	dt_close(&t);
}

int
main(void)
{
	static const struct dt_group g[] = {
		{ "fanout", t_fanout }, { "fanout_more", t_fanout_more },
		{ "client", t_client }, { "room", t_room },
		{ "answers", t_answers },
	};

	if (sodium_init() < 0 || abuse_keys() == -1) {
		printf("not ok 1 - librnp made the many key\n1..1\n");
		return 1;
	}
	return dt_main(g, sizeof(g) / sizeof(g[0]));
}
