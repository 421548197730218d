/*
 * h_keys: key lookups over VKS, HKP and the key-identifier API.  Each is
 * one indexed read of bytes computed when the key last changed; librnp is
 * never called here.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "daemon.h"
#include "email.h"
#include "handlers.h"
#include "store.h"
#include "str.h"
#include "routes.h"
#include "views.h"

/* Look q up and serve the key, or a plain-text miss. */
static void
serve(struct daemon *d, struct req *r, struct resp *w, enum store_by by,
    const char *q, const char *what)
{
	struct store_pub p;
	struct err e;
	char msg[400];
	int rc;

	memset(&p, 0, sizeof(p));
	rc = store_lookup(d->store, by, q, &p, &e);
	if (rc == 0)
		view_key(w, r, &p);
	else if (rc == 1) {
		snprintf(msg, sizeof(msg), "No key found for %s %s", what, q);
		view_text(w, 404, msg);
	} else
		view_text(w, http_status(e.code), e.msg);
	store_pub_release(&p);
}

/* Normalise an upper-case hex id of n digits (optional 0x); -1 if not. */
static int
hex_id(const char *in, size_t n, char *out)
{
	if (in[0] == '0' && (in[1] == 'x' || in[1] == 'X'))
		in += 2;
	if (!str_is_hex(in, n))
		return -1;
	str_lcpy(out, in, n + 1);
	str_upper(out);
	return 0;
}

/* GET /vks/v1/by-fingerprint/FPR */
void
h_vks_by_fpr(struct daemon *d, struct req *r, struct resp *w,
    const char *rest)
{
	char fpr[FPR_LEN + 1];

	if (hex_id(rest, FPR_LEN, fpr) == -1) {
		view_text(w, 400, "malformed fingerprint");
		return;
	}
	serve(d, r, w, STORE_BY_FPR, fpr, "fingerprint");
}

/* GET /vks/v1/by-keyid/KEYID */
void
h_vks_by_keyid(struct daemon *d, struct req *r, struct resp *w,
    const char *rest)
{
	char id[KEYID_LEN + 1];

	if (hex_id(rest, KEYID_LEN, id) == -1) {
		view_text(w, 400, "malformed key id");
		return;
	}
	serve(d, r, w, STORE_BY_KEYID, id, "key id");
}

/* Decode and normalise an address from a path or query; -1 if bad. */
static int
address_arg(const char *raw, char out[EMAIL_MAX + 1])
{
	char *dec = str_pct_decode(raw, strlen(raw));
	int rc;

	if (dec == NULL)
		return -1;
	rc = email_normalize(dec, out, EMAIL_MAX + 1, NULL);
	free(dec);
	return rc;
}

/* GET /vks/v1/by-email/ADDRESS */
void
h_vks_by_email(struct daemon *d, struct req *r, struct resp *w,
    const char *rest)
{
	char addr[EMAIL_MAX + 1];

	if (address_arg(rest, addr) == -1) {
		view_text(w, 400, "malformed e-mail address");
		return;
	}
	serve(d, r, w, STORE_BY_EMAIL, addr, "email address");
}

/* An HKP search string to a lookup; 0, or -1 with w filled. */
static int
hkp_search(const char *s, enum store_by *by, char *q, size_t qsz,
    struct resp *w)
{
	const char *lt = strrchr(s, '<'), *h = s;
	char buf[EMAIL_MAX * 2], alt[EMAIL_MAX * 2];
	size_t n;

	if (lt && strchr(lt, '>')) {
		n = (size_t)(strchr(lt, '>') - lt - 1);
		if (n >= sizeof(buf))
			n = sizeof(buf) - 1;
		memcpy(buf, lt + 1, n);
		buf[n] = '\0';
		s = buf;
	}
	if (strchr(s, '@') != NULL) {
		*by = STORE_BY_EMAIL;
		if (email_normalize(s, q, qsz, NULL) == 0)
			return 0;
		/* gpg --locate-external-keys sends '+' as a space */
		str_lcpy(alt, s, sizeof(alt));
		for (char *p = alt; *p; p++)
			if (*p == ' ')
				*p = '+';
		if (email_normalize(alt, q, qsz, NULL) == 0)
			return 0;
		view_text(w, 400, "Invalid search query!");
		return -1;
	}
	h = s;
	if (h[0] == '0' && (h[1] == 'x' || h[1] == 'X'))
		h += 2;
	n = strlen(h);
	if ((n == 40 || n == 16) && hex_id(h, n, q) == 0) {
		*by = n == 40 ? STORE_BY_FPR : STORE_BY_KEYID;
		return 0;
	}
	if (n == 8 && str_is_hex(h, 8))
		view_text(w, 400, "Search by short key ids is not supported, "
		    "sorry!");
	else
		view_text(w, 400, "Invalid search query!");
	return -1;
}

/* GET /pks/lookup?op=get|index&search=Q */
void
h_hkp_lookup(struct daemon *d, struct req *r, struct resp *w,
    const char *rest)
{
	char *op = req_arg(r, "op"), *search = req_arg(r, "search");
	char q[EMAIL_MAX + 1];
	enum store_by by;
	struct store_pub p;
	struct err e;
	int rc;

	(void)rest;
	memset(&p, 0, sizeof(p));
	if (op == NULL)
		view_text(w, 400, "op parameter required!");
	else if (strcmp(op, "get") && strcmp(op, "index"))
		view_text(w, 501, "operation not implemented");
	else if (search == NULL || *search == '\0')
		view_text(w, 400, "Invalid search query!");
	else if (hkp_search(search, &by, q, sizeof(q), w) == 0) {
		rc = store_lookup(d->store, by, q, &p, &e);
		if (rc == 1)
			view_text(w, 404, "No key found");
		else if (rc == -1)
			view_text(w, http_status(e.code), e.msg);
		else if (!strcmp(op, "get"))
			view_key(w, r, &p);
		else
			view_hkp_index(w, &p);
	}
	store_pub_release(&p);
	free(op);
	free(search);
}

/* GET /api/v1/lookup/ADDRESS: the key identifier, not the key. */
void
h_api_lookup(struct daemon *d, struct req *r, struct resp *w,
    const char *rest)
{
	char addr[EMAIL_MAX + 1], when[32];
	struct store_pub p;
	struct err e;
	struct tm tm;
	time_t t;
	int rc;

	(void)r;
	if (address_arg(rest, addr) == -1) {
		err_set(&e, ERR_INVALID, "malformed e-mail address");
		view_json_error(w, &e);
		return;
	}
	memset(&p, 0, sizeof(p));
	rc = store_lookup(d->store, STORE_BY_EMAIL, addr, &p, &e);
	if (rc == 1)
		err_set(&e, ERR_NOTFOUND, "No key found for email address %s",
		    addr);
	if (rc != 0) {
		view_json_error(w, &e);
		return;
	}
	t = (time_t)p.updated;
	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	view_json(w, 200, json_pack("{s:s,s:s,s:s,s:s}", "address", addr,
	    "fingerprint", p.fpr, "keyid", p.keyid, "updated", when));
	resp_header(w, "Cache-Control", "no-cache");
	store_pub_release(&p);
}

/*
 * GET /api/v1/server-key: the directory's own key, armored, for clients
 * to encrypt submissions to and to pin; its fingerprint in
 * Keydir-Fingerprint, so a client can compare before it parses.
 */
void
h_api_server_key(struct daemon *d, struct req *r, struct resp *w,
    const char *rest)
{
	(void)r;
	(void)rest;
	if (d->server_pub == NULL) {
		view_text(w, 503, "The server key is not loaded.");
		return;
	}
	w->status = 200;
	w->ctype = "application/pgp-keys";
	buf_reset(&w->body);
	buf_add(&w->body, d->server_pub, d->server_pub_len);
	resp_header(w, "Keydir-Fingerprint", d->server_fpr);
	/* the keys it replaced that still decrypt (their grace period) */
	if (d->nold > 0) {
		char list[8 * (FPR_LEN + 2)];
		size_t i, o = 0;

		for (i = 0; i < d->nold && i < 8; i++)
			o += (size_t)snprintf(list + o, sizeof(list) - o,
			    "%s%s", i ? ", " : "", d->old_fpr[i]);
		resp_header(w, "Keydir-Superseded", list);
	}
	resp_header(w, "Access-Control-Allow-Origin", "*");
	resp_header(w, "Access-Control-Expose-Headers", "Keydir-Fingerprint");
	resp_header(w, "Cache-Control", "no-cache");
}

#define LOOKUP_BATCH_MAX 1000

/* One published address's identifier, as GET /api/v1/lookup/ADDRESS
 * gives it; NULL when it is not published. */
static json_t *
lookup_one(struct daemon *d, const char *addr, struct err *e, int *rc)
{
	struct store_pub p;
	char when[32];
	struct tm tm;
	time_t t;
	json_t *o;

	memset(&p, 0, sizeof(p));
	if ((*rc = store_lookup(d->store, STORE_BY_EMAIL, addr, &p, e)) != 0)
		return NULL;
	t = (time_t)p.updated;
	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	o = json_pack("{s:s,s:s,s:s,s:s}", "address", addr, "fingerprint",
	    p.fpr, "keyid", p.keyid, "updated", when);
	store_pub_release(&p);
	return o;
}

/*
 * POST /api/v1/lookup {"addresses": [...]}: the identifiers of those of
 * up to 1000 addresses that are published, in one answer, so a client
 * refreshes a whole keyring and fetches only the keys it lacks.  An
 * address that is not published (or malformed) is left out.
 */
void
h_api_lookup_batch(struct daemon *d, struct req *r, struct resp *w,
    const char *rest)
{
	char addr[EMAIL_MAX + 1];
	json_t *j, *a, *v, *keys, *o;
	struct err e;
	size_t i;
	unsigned retry;
	int rc;

	(void)rest;
	j = json_loadb(r->body.data, r->body.len, JSON_REJECT_DUPLICATES,
	    NULL);
	a = j ? json_object_get(j, "addresses") : NULL;
	if (!json_is_array(a) || json_array_size(a) > LOOKUP_BATCH_MAX) {
		err_set(&e, ERR_INVALID, "Expected {\"addresses\": [...]} with "
		    "at most %d addresses.", LOOKUP_BATCH_MAX);
		view_json_error(w, &e);
		json_decref(j);
		return;
	}
	/* one lookup token for each address past the first (the request
	 * took one), before any is looked up */
	if (json_array_size(a) > 1 &&
	    (retry = req_charge(r, (unsigned)json_array_size(a) - 1)) > 0) {
		err_set(&e, ERR_RATE, "Too many lookups from your address.");
		routes_refuse(r, w, &e, retry);
		json_decref(j);
		return;
	}
	keys = json_array();
	json_array_foreach(a, i, v) {
		if (!json_is_string(v) || email_normalize(json_string_value(v),
		    addr, sizeof(addr), NULL) == -1)
			continue;
		if ((o = lookup_one(d, addr, &e, &rc)) != NULL)
			json_array_append_new(keys, o);
		else if (rc == -1) {
			view_json_error(w, &e);
			json_decref(keys);
			json_decref(j);
			return;
		}
	}
	json_decref(j);
	view_json(w, 200, json_pack("{s:o}", "keys", keys));
	resp_header(w, "Cache-Control", "no-cache");
}

/*
 * GET /api/v1/server-key/transition: the previous server key's detached
 * signature over "keydir server key FPR\n" (FPR the current key), made by
 * keydird rotate-key; 404 when the key was not rotated.
 */
void
h_api_server_key_transition(struct daemon *d, struct req *r,
    struct resp *w, const char *rest)
{
	(void)r;
	(void)rest;
	if (d->server_transition == NULL) {
		view_text(w, 404, "This server key replaced no other.");
		return;
	}
	w->status = 200;
	w->ctype = "application/pgp-signature";
	buf_reset(&w->body);
	buf_add(&w->body, d->server_transition, d->server_transition_len);
	resp_header(w, "Keydir-Fingerprint", d->server_fpr);
	resp_header(w, "Cache-Control", "no-cache");
}
