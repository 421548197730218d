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
	else if (dir_upload(d, time(NULL), key, len, false, &u, &e) == 0) {
		view_json(w, 200, upload_json(&u));
		dir_upload_release(&u);
		goto out;
	}
	view_json_error(w, &e);
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
	else if (dir_request_verify(d, time(NULL), tok, addrs, n, &u, &e) == 0) {
		view_json(w, 200, upload_json(&u));
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
 * number of confirmation mails sent; a JSON error naming the rule that
 * failed otherwise.
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
	    r->body.len, &u, &e) == -1) {
		view_json_error(w, &e);
		return;
	}
	j = upload_json(&u);
	json_object_set_new(j, "mails", json_integer((json_int_t)u.nmails));
	json_object_set_new(j, "signed", json_true());
	view_json(w, 200, j);
	dir_upload_release(&u);
}

/* POST /pks/add keytext=... (gpg --send-keys, sq, OpenPGP.js) */
void
h_hkp_add(struct daemon *d, struct req *r, struct resp *w, const char *rest)
{
	struct dir_upload u;
	struct err e;
	char *kt;

	(void)rest;
	if ((kt = form_keytext(&r->body)) == NULL) {
		view_text(w, 400, "No keytext field in the form.");
		return;
	}
	if (dir_upload(d, time(NULL), (const uint8_t *)kt, strlen(kt), true, &u, &e) ==
	    -1) {
		view_text(w, http_status(e.code), e.msg);
		free(kt);
		return;
	}
	if (u.nmails)
		view_text(w, 200, "Upload successful. A confirmation request "
		    "was mailed to each address on the key that is not yet "
		    "published.");
	else
		view_text(w, 200, "Upload successful.");
	dir_upload_release(&u);
	free(kt);
}
