/*
 * h_upload: key submissions over VKS (JSON) and HKP (form), and VKS
 * request-verify.  The answer is sent only after the store committed.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <sodium.h>

#include "buf.h"
#include "daemon.h"
#include "directory.h"
#include "handlers.h"
#include "str.h"
#include "views.h"
#include "xmalloc.h"

/* The VKS answer: {key_fpr, status, token}, or an array of fingerprints. */
static json_t *
upload_json(const struct dir_upload *u)
{
	json_t *st, *arr;
	size_t i;

	if (u->nfprs) {
		arr = json_array();
		for (i = 0; i < u->nfprs; i++)
			json_array_append_new(arr, json_string(u->fprs[i]));
		return arr;
	}
	st = json_object();
	for (i = 0; i < u->naddrs; i++)
		json_object_set_new(st, u->addrs[i].address,
		    json_string(addr_status_str(u->addrs[i].status)));
	return json_pack("{s:s,s:o,s:s}", "key_fpr", u->fpr, "status", st,
	    "token", u->token);
}

/* A unix time as people read it, to the second. */
static void
upload_when(int64_t t, char *out, size_t sz)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(out, sz, "%Y-%m-%d %H:%M:%S UTC", &tm);
}

/* What became of one address, in words (one line, no newline). */
static void
upload_addr_text(const struct daemon *d, const struct dir_addr *a,
    struct buf *b)
{
	char when[64];

	buf_printf(b, "%s: ", a->address);
	switch (a->mail) {
	case ADDR_MAIL_SENT:
		buf_addstr(b, "a confirmation mail is on its way; open the "
		    "link in it to publish this address.");
		return;
	case ADDR_MAIL_RATE:
		upload_when(a->retry_at, when, sizeof(when));
		buf_printf(b, "not mailed: a confirmation mail went to this "
		    "address a short while ago (use its link), and another "
		    "can go after %s.", when);
		return;
	case ADDR_MAIL_CAPPED:
		buf_printf(b, "not mailed: at most %zu confirmation mails go "
		    "out per upload.  Upload the key again to have the next "
		    "ones mailed, or ask for this address with "
		    "request-verify.", d->cfg.max_mails_per_upload);
		return;
	case ADDR_MAIL_UNMAILABLE:
		buf_addstr(b, "not mailed: this address cannot be mailed "
		    "(non-ASCII or special characters).");
		return;
	case ADDR_MAIL_NONE:
		break;
	}
	if (a->status == ADDR_PUBLISHED)
		buf_addstr(b, "already published.");
	else if (a->status == ADDR_REVOKED)
		buf_addstr(b, "its user ID is revoked: not published.");
	else if (a->status == ADDR_PENDING)
		buf_addstr(b, "a confirmation mail went out; open the link in "
		    "it to publish this address.");
	else
		buf_addstr(b, "not published; no mail asked for.");
}

/*
 * What an upload did, in plain text (HKP answers, and the message of the
 * JSON answers that mail): the key, then one line per address.
 */
static void
upload_text(const struct daemon *d, const struct dir_upload *u,
    struct buf *b)
{
	size_t i;

	if (u->nfprs) {
		buf_printf(b, "Upload successful: %zu keys stored.  No "
		    "confirmation mail goes out for several keys uploaded at "
		    "once: upload each alone to have its addresses mailed.\n",
		    u->nfprs);
		return;
	}
	buf_printf(b, "Upload successful: key %s.\n", u->fpr);
	if (u->revoked) {
		buf_addstr(b, "The key is revoked: none of its addresses is "
		    "published.\n");
		return;
	}
	if (u->naddrs == 0)
		buf_addstr(b, "No user ID of the key carries an address: "
		    "there is nothing to confirm.\n");
	for (i = 0; i < u->naddrs; i++) {
		upload_addr_text(d, &u->addrs[i], b);
		buf_addch(b, '\n');
	}
	if (u->ncapped && u->token != NULL)
		buf_printf(b, "To ask for the addresses not mailed, POST "
		    "{\"token\": \"%s\", \"addresses\": [...]} to "
		    "%s/vks/v1/request-verify within %lld minutes.\n", u->token,
		    d->cfg.base_url, (long long)(d->cfg.upload_ttl / 60));
}

/* The JSON answer of an upload that mailed: the upload answer plus how
 * many mails went out, what became of each asked for, and the text. */
static json_t *
upload_json_mail(const struct daemon *d, const struct dir_upload *u)
{
	json_t *j = upload_json(u), *m = json_object(), *one;
	struct buf text;
	size_t i;

	for (i = 0; i < u->naddrs; i++) {
		if (u->addrs[i].mail == ADDR_MAIL_NONE)
			continue;
		one = json_pack("{s:s}", "result",
		    addr_mail_str(u->addrs[i].mail));
		if (u->addrs[i].mail == ADDR_MAIL_RATE)
			json_object_set_new(one, "retry_at",
			    json_integer((json_int_t)u->addrs[i].retry_at));
		json_object_set_new(m, u->addrs[i].address, one);
	}
	buf_init(&text, 256 * 1024);
	upload_text(d, u, &text);
	json_object_set_new(j, "mails", json_integer((json_int_t)u->nmails));
	json_object_set_new(j, "mail", m);
	json_object_set_new(j, "message", json_string(text.data));
	buf_release(&text);
	return j;
}

/* An upload refused: e's status and words (JSON or text), and when the
 * client is to wait, Retry-After. */
static void
upload_refused(struct resp *w, const struct err *e, int64_t retry_after,
    bool json)
{
	char v[32];

	if (json)
		view_json_error(w, e);
	else
		view_text(w, http_status(e->code), e->msg);
	if (e->code == ERR_RATE && retry_after > 0) {
		snprintf(v, sizeof(v), "%lld", (long long)retry_after);
		resp_header(w, "Retry-After", v);
	}
}

/* True if the request's Content-Type is type (parameters ignored). */
static bool
ctype_is(const struct req *r, const char *type)
{
	const char *ct = r->content_type;
	size_t n = strlen(type);

	return ct && !strncasecmp(ct, type, n) && (ct[n] == '\0' ||
	    ct[n] == ';' || ct[n] == ' ');
}

/* keytext as bytes: armored as is, or base64 of the binary form. */
static uint8_t *
keytext_bytes(const char *kt, size_t *len)
{
	size_t n = strlen(kt), out = 0;
	uint8_t *bin;

	if (strstr(kt, "-----BEGIN PGP") != NULL) {
		*len = n;
		return xmemdup(kt, n + 1);
	}
	bin = xmalloc(n + 1);
	if (sodium_base642bin(bin, n + 1, kt, n, " \t\r\n", &out, NULL,
	    sodium_base64_VARIANT_ORIGINAL) != 0 || out == 0) {
		free(bin);
		return NULL;
	}
	*len = out;
	return bin;
}

/* POST /vks/v1/upload {"keytext": ...} */
void
h_vks_upload(struct daemon *d, struct req *r, struct resp *w,
    const char *rest)
{
	struct dir_upload u;
	struct err e;
	json_t *j = NULL;
	const char *kt = NULL;
	uint8_t *key = NULL;
	size_t len = 0;

	(void)rest;
	memset(&u, 0, sizeof(u));
	if (!ctype_is(r, "application/json")) {
		err_set(&e, ERR_INVALID, "expected application/json data. "
		    "see %s/about/api for api docs.", d->cfg.base_url);
		view_json_error(w, &e);
		return;
	}
	j = json_loadb(r->body.data, r->body.len, JSON_REJECT_DUPLICATES,
	    NULL);
	if (j == NULL || !json_is_object(j) ||
	    json_unpack(j, "{s:s}", "keytext", &kt) != 0 || *kt == '\0')
		err_set(&e, ERR_INVALID, "No key uploaded.");
	else if ((key = keytext_bytes(kt, &len)) == NULL)
		err_set(&e, ERR_INVALID, "Parsing of key data failed.");
	else if (dir_upload(d, time(NULL), key, len, false, r->client, &u,
	    &e) == 0) {
		view_json(w, 200, upload_json(&u));
		dir_upload_release(&u);
		goto out;
	}
	upload_refused(w, &e, u.retry_after, true);
out:
	free(key);
	json_decref(j);
}

/* The addresses array of a request-verify body; NULL if malformed. */
static const char **
json_addresses(json_t *arr, size_t *n)
{
	const char **v;
	size_t i;

	if (!json_is_array(arr) || json_array_size(arr) == 0 ||
	    json_array_size(arr) > 100)
		return NULL;
	*n = json_array_size(arr);
	v = xcalloc(*n, sizeof(*v));
	for (i = 0; i < *n; i++) {
		if (!json_is_string(json_array_get(arr, i))) {
			free(v);
			return NULL;
		}
		v[i] = json_string_value(json_array_get(arr, i));
	}
	return v;
}

/* POST /vks/v1/request-verify {"token", "addresses", "locale"} */
void
h_vks_request_verify(struct daemon *d, struct req *r, struct resp *w,
    const char *rest)
{
	struct dir_upload u;
	struct err e;
	json_t *j = NULL, *arr = NULL;
	const char *tok = NULL, **addrs = NULL;
	size_t n = 0;

	(void)rest;
	if (!ctype_is(r, "application/json")) {
		err_set(&e, ERR_INVALID, "expected application/json data. "
		    "see %s/about/api for api docs.", d->cfg.base_url);
		view_json_error(w, &e);
		return;
	}
	j = json_loadb(r->body.data, r->body.len, JSON_REJECT_DUPLICATES,
	    NULL);
	if (j == NULL || json_unpack(j, "{s:s,s:o}", "token", &tok,
	    "addresses", &arr) != 0 || (addrs = json_addresses(arr, &n)) ==
	    NULL)
		err_set(&e, ERR_INVALID, "Expected a JSON object with a token "
		    "and a non-empty list of addresses.");
	else if (dir_request_verify(d, time(NULL), tok, addrs, n,
	    view_json_lang(json_object_get(j, "locale")), &u, &e) == 0) {
		view_json(w, 200, upload_json_mail(d, &u));
		dir_upload_release(&u);
		goto out;
	}
	view_json_error(w, &e);
out:
	free(addrs);
	json_decref(j);
}

/* The keytext field of a form body, decoded; NULL if absent. */
static char *
form_keytext(const struct buf *body)
{
	const char *p = body->data;

	while (p && *p) {
		const char *end = strchr(p, '&');
		size_t len = end ? (size_t)(end - p) : strlen(p);

		if (len > 8 && !strncmp(p, "keytext=", 8))
			return str_form_decode(p + 8, len - 8);
		p = end ? end + 1 : NULL;
	}
	return NULL;
}

/*
 * POST /api/v1/submit: a signed submission, the OpenPGP message as the
 * body (armored or binary).  200 with what an upload answers plus the
 * number of confirmation mails sent and what became of each; a JSON
 * error naming the rule that failed otherwise.
 */
void
h_api_submit(struct daemon *d, struct req *r, struct resp *w,
    const char *rest)
{
	struct dir_upload u;
	struct err e;
	json_t *j;

	(void)rest;
	if (dir_submit(d, time(NULL), (const uint8_t *)r->body.data,
	    r->body.len, r->client, &u, &e) == -1) {
		upload_refused(w, &e, u.retry_after, true);
		return;
	}
	j = upload_json_mail(d, &u);
	json_object_set_new(j, "signed", json_true());
	view_json(w, 200, j);
	dir_upload_release(&u);
}

/* POST /pks/add keytext=... (gpg --send-keys, sq, OpenPGP.js) */
void
h_hkp_add(struct daemon *d, struct req *r, struct resp *w, const char *rest)
{
	struct dir_upload u;
	struct buf text;
	struct err e;
	char *kt;

	(void)rest;
	if ((kt = form_keytext(&r->body)) == NULL) {
		view_text(w, 400, "No keytext field in the form.");
		return;
	}
	if (dir_upload(d, time(NULL), (const uint8_t *)kt, strlen(kt), true,
	    r->client, &u, &e) == -1) {
		upload_refused(w, &e, u.retry_after, false);
		free(kt);
		return;
	}
	/* gpg shows this only when an upload fails; curl and people read
	 * it: what was mailed, and why the rest was not */
	buf_init(&text, 256 * 1024);
	upload_text(d, &u, &text);
	view_text(w, 200, buf_failed(&text) ? "Upload successful." :
	    text.data);
	buf_release(&text);
	dir_upload_release(&u);
	free(kt);
}
