/*
 * directory_wks: the Web Key Service (draft-koch-openpgp-webkey-service,
 * as gpg-wks-client 2.2 speaks it), one inbound mail at a time.
 *
 *   submission  PGP/MIME encrypted to the server key; inside, a MIME
 *               entity application/pgp-keys holding the key.  The key is
 *               stored like an upload, and its From address (which must
 *               be on the key, in wkd_domains) is sent a confirmation
 *               request encrypted to the key, whose nonce is a
 *               confirmation token.
 *   response    encrypted to the server key; inside, application/
 *               vnd.gnupg.wks "type: confirmation-response", sender,
 *               address, nonce.  The nonce is used as a confirmation
 *               link is: the same rules, replacement and notices.
 *
 * What is not one of these, or breaks a rule, changes nothing.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "daemon.h"
#include "directory_int.h"
#include "email.h"
#include "log.h"
#include "mail.h"
#include "mime.h"
#include "pgp.h"
#include "store.h"
#include "str.h"
#include "token.h"
#include "xmalloc.h"

#define WKS_TEXT_MAX (64 * 1024)	/* the decrypted entity */

/* The first armored OpenPGP message in entity m or its parts (depth
 * levels at most), decoded, into out. */
static int
find_message(const struct mime_ent *m, int depth, struct buf *out,
    struct err *e)
{
	struct mime_ent parts[MIME_PARTS_MAX];
	size_t n, i;
	size_t before = out->len;

	if (m->boundary[0] != '\0') {
		if (depth >= MIME_DEPTH_MAX)
			return err_set(e, ERR_INVALID, "wks: MIME nested too "
			    "deep");
		if (mime_parts(m, parts, MIME_PARTS_MAX, &n, e) == -1)
			return -1;
		for (i = 0; i < n; i++)
			if (find_message(&parts[i], depth + 1, out, e) == 0)
				return 0;
		return err_set(e, ERR_INVALID, "wks: no encrypted part");
	}
	if (mime_body(m, out, e) == -1)
		return -1;
	if (buf_addch(out, '\0') == -1)
		return err_set(e, ERR_TOOBIG, "wks: the mail is too big");
	out->len--;
	if (strstr(out->data + before, "-----BEGIN PGP MESSAGE-----") !=
	    NULL)
		return 0;
	out->len = before;
	return err_set(e, ERR_INVALID, "wks: no encrypted part");
}

/* The address of a From header value ("Name <a@b>" or "a@b"). */
static int
from_address(const struct mime_ent *top, char out[EMAIL_MAX + 1],
    struct err *e)
{
	char v[1024];

	if (mime_header(top, "From", v, sizeof(v)) != 0 ||
	    email_from_uid(v, out, EMAIL_MAX + 1) == -1)
		return err_set(e, ERR_INVALID, "wks: no From address");
	return 0;
}

/* Whether address's domain is one of the wkd_domains. */
static bool
in_wkd(const struct daemon *d, const char *address)
{
	const char *at = strrchr(address, '@');

	return at != NULL && config_wkd_domain(&d->cfg, at + 1,
	    strlen(at + 1));
}

struct req_unit {
	const struct pgp_cert *c;
	const char *address;
	int64_t now;
	bool mailed;
	int64_t retry_at;
};

/* The token and the request mail, unless one went out within mail_rate
 * (one unit). */
static int
req_unit(struct daemon *d, void *arg, struct err *e)
{
	struct req_unit *u = arg;
	struct store_token t;
	char tok[TOKEN_LEN + 1];
	int64_t last = 0;
	int rc;

	u->mailed = false;
	if ((rc = store_rate_get(d->store, u->address, &last, e)) == -1)
		return -1;
	if (rc == 0 && u->now - last < d->cfg.mail_rate) {
		u->retry_at = last + d->cfg.mail_rate;
		return 0;
	}
	memset(&t, 0, sizeof(t));
	token_new(tok, t.hash);
	t.kind = TOKEN_VERIFY;
	str_lcpy(t.fpr, u->c->fpr, sizeof(t.fpr));
	str_lcpy(t.address, u->address, sizeof(t.address));
	t.created = u->now;
	t.expires = u->now + d->cfg.token_ttl;
	if (store_token_put(d->store, &t, e) == -1 ||
	    dir_mail_wks_request(d, u->c, u->address, tok, u->now, t.expires,
	    e) == -1 || store_rate_set(d->store, u->address, u->now, e) == -1)
		return -1;
	u->mailed = true;
	return 0;
}

/* Whether c has a live key that may encrypt (the request must reach its
 * holder, and only its holder). */
static bool
can_encrypt(const struct pgp_cert *c, int64_t now)
{
	size_t i;

	if (c->revoked || (c->expires != 0 && c->expires <= now))
		return false;
	for (i = 0; i < c->nsubs; i++)
		if (strchr(c->subs[i].usage, 'e') != NULL &&
		    !c->subs[i].revoked && (c->subs[i].expires == 0 ||
		    c->subs[i].expires > now))
			return true;
	/* a primary of an algorithm that encrypts (RSA, ElGamal, ECDH) */
	return c->algo == 1 || c->algo == 2 || c->algo == 16 ||
	    c->algo == 18 || c->algo == 20;
}

/* Whether a request went to address within mail_rate (*until: when the
 * next may go). */
static int
rate_limited(struct daemon *d, const char *address, int64_t now,
    int64_t *until, struct err *e)
{
	int64_t last = 0;
	int rc;

	if (store_begin_read(d->store, e) == -1)
		return -1;
	rc = store_rate_get(d->store, address, &last, e);
	store_rollback(d->store);
	if (rc == -1)
		return -1;
	*until = last + d->cfg.mail_rate;
	return rc == 0 && now - last < d->cfg.mail_rate;
}

/* A submission: key (binary or armored) from address. */
static int
wks_submission(struct daemon *d, int64_t now, const uint8_t *key,
    size_t len, const char *address, struct dir_wks *out, struct err *e)
{
	struct dir_upload_opts o;
	struct pgp_limits lim = dir_limits(d);
	struct pgp_cert *certs = NULL, c;
	struct dir_upload u;
	struct req_unit ru;
	char client[STORE_CLIENT_LEN + 1];
	size_t n = 0, i;
	bool has = false, enc;
	int rc;

	if (!in_wkd(d, address))
		return err_set(e, ERR_INVALID, "wks: %s is not in a domain "
		    "this directory serves (wkd_domains)", address);
	if (pgp_parse(key, len, &lim, &certs, &n, e) == -1)
		return -1;
	if (n != 1) {
		pgp_certs_free(certs, n);
		return err_set(e, ERR_INVALID, "wks: a submission holds one "
		    "key");
	}
	for (i = 0; i < certs[0].nuids; i++)
		if (!certs[0].uids[i].revoked &&
		    !strcmp(certs[0].uids[i].email, address))
			has = true;
	str_lcpy(out->fpr, certs[0].fpr, sizeof(out->fpr));
	enc = can_encrypt(&certs[0], now);
	pgp_certs_free(certs, n);
	/* everything that would refuse the request is checked before the
	 * key is stored: a refused mail leaves nothing behind */
	if (!has)
		return err_set(e, ERR_INVALID, "wks: the key has no user ID "
		    "with the sender's address %s", address);
	if (!enc)
		return err_set(e, ERR_INVALID, "wks: the key has no live key "
		    "that may encrypt: the request could not reach its "
		    "holder");
	if (!mail_addr_ok(address))
		return err_set(e, ERR_INVALID, "wks: %s cannot be mailed",
		    address);
	if ((rc = rate_limited(d, address, now, &out->retry_at, e)) != 0)
		return rc == -1 ? -1 : 0;	/* taken, nothing sent */
	/* the mail path is one client: anyone can forge a sender, so the
	 * never-confirmed keys of all WKS mail together meet
	 * max_unconfirmed_per_client (an MTA limits by sending host) */
	str_lcpy(client, "wks", sizeof(client));
	memset(&o, 0, sizeof(o));
	o.client = client;
	if (dir_upload_with(d, now, key, len, &o, &u, e) == -1)
		return -1;
	dir_upload_release(&u);
	/* the stored key, merged: what the request is encrypted to */
	memset(&c, 0, sizeof(c));
	if (store_begin_read(d->store, e) == -1)
		return -1;
	rc = dir_load(d, out->fpr, &c, e);
	store_rollback(d->store);
	if (rc == -1)
		return -1;
	if (c.revoked) {
		pgp_cert_release(&c);
		return err_set(e, ERR_INVALID, "wks: the key is revoked");
	}
	ru = (struct req_unit){ &c, address, now, false, 0 };
	rc = dir_atomic(d, req_unit, &ru, e);
	pgp_cert_release(&c);
	if (rc == -1)
		return -1;
	out->mailed = ru.mailed;
	out->retry_at = ru.retry_at;
	if (ru.mailed && d->mailer)
		mailer_kick(d->mailer);
	return 0;
}

/* The value of field name in a "name: value" text. */
static int
field(const char *text, const char *name, char *out, size_t sz)
{
	const char *p = text, *eol;
	size_t nl = strlen(name), n;

	for (; *p; p = *eol ? eol + 1 : eol) {
		eol = p + strcspn(p, "\n");
		if ((size_t)(eol - p) > nl && !strncasecmp(p, name, nl) &&
		    p[nl] == ':') {
			p += nl + 1;
			p += strspn(p, " \t");
			n = (size_t)(eol - p);
			while (n > 0 && (p[n - 1] == '\r' || p[n - 1] == ' '))
				n--;
			if (n >= sz || str_has_ctl(p, n))
				return -1;
			memcpy(out, p, n);
			out[n] = '\0';
			return 0;
		}
	}
	return -1;
}

/* A confirmation response (its decoded text). */
static int
wks_response(struct daemon *d, int64_t now, const char *text,
    struct dir_wks *out, struct err *e)
{
	char type[64], sender[EMAIL_MAX + 1], addr[EMAIL_MAX + 1];
	char raw[EMAIL_MAX + 1], nonce[128];
	struct dir_verify v;

	if (field(text, "type", type, sizeof(type)) == -1 ||
	    strcmp(type, "confirmation-response") != 0)
		return err_set(e, ERR_INVALID, "wks: not a confirmation "
		    "response");
	if (field(text, "sender", sender, sizeof(sender)) == -1 ||
	    field(text, "address", raw, sizeof(raw)) == -1 ||
	    field(text, "nonce", nonce, sizeof(nonce)) == -1 ||
	    email_normalize(raw, addr, sizeof(addr), NULL) == -1)
		return err_set(e, ERR_INVALID, "wks: a response needs sender, "
		    "address and nonce");
	if (strcasecmp(sender, d->cfg.submission_address) != 0)
		return err_set(e, ERR_INVALID, "wks: the response is for "
		    "another server (%s)", sender);
	if (!in_wkd(d, addr))
		return err_set(e, ERR_INVALID, "wks: %s is not in a domain "
		    "this directory serves (wkd_domains)", addr);
	/* the nonce is a confirmation token: look, check, then use it */
	if (dir_verify_show(d, now, nonce, &v, e) == -1)
		return -1;
	if (strcmp(v.address, addr) != 0) {
		dir_verify_release(&v);
		return err_set(e, ERR_INVALID, "wks: the nonce is not for %s",
		    addr);
	}
	dir_verify_release(&v);
	if (dir_verify_confirm(d, now, nonce, NULL, 0, &v, e) == -1)
		return -1;
	str_lcpy(out->fpr, v.fpr, sizeof(out->fpr));
	str_lcpy(out->address, v.address, sizeof(out->address));
	dir_verify_release(&v);
	out->published = true;
	{
		struct err e2;

		/* the notice is a courtesy: the address is published */
		if (store_begin(d->store, &e2) == -1 ||
		    dir_mail_wks_done(d, addr, out->fpr, now, &e2) == -1 ||
		    store_commit(d->store, &e2) == -1) {
			store_rollback(d->store);
			log_warnx("wks: no notice to %s: %s", addr, e2.msg);
		}
	}
	if (d->mailer)
		mailer_kick(d->mailer);
	return 0;
}

int
dir_wks_receive(struct daemon *d, int64_t now, const char *msg, size_t len,
    struct dir_wks *out, struct err *e)
{
	struct mime_ent top, inner;
	struct pgp_keyring keys;
	const uint8_t **secs;
	size_t *lens;
	struct buf armored, plain, body;
	char from[EMAIL_MAX + 1];
	int rc = -1;

	memset(out, 0, sizeof(*out));
	buf_init(&armored, len + 1);
	buf_init(&plain, WKS_TEXT_MAX);
	buf_init(&body, WKS_TEXT_MAX);
	secs = xcalloc(1 + d->nold, sizeof(*secs));
	lens = xcalloc(1 + d->nold, sizeof(*lens));
	keys = (struct pgp_keyring){ secs, lens, dir_server_keyring(d, now,
	    secs, lens) };
	if (mime_entity(msg, len, &top, e) == -1 ||
	    find_message(&top, 0, &armored, e) == -1)
		goto out;
	if (pgp_decrypt(&keys, (const uint8_t *)armored.data, armored.len,
	    &plain, e) == -1 || mime_entity(plain.data, plain.len, &inner,
	    e) == -1 || mime_body(&inner, &body, e) == -1 ||
	    buf_addch(&body, '\0') == -1)
		goto out;
	body.len--;
	if (!strcmp(inner.ctype, "application/pgp-keys")) {
		out->kind = DIR_WKS_SUBMISSION;
		if (from_address(&top, from, e) == 0) {
			str_lcpy(out->address, from, sizeof(out->address));
			rc = wks_submission(d, now, (const uint8_t *)body.data,
			    body.len, from, out, e);
		}
	} else if (!strcmp(inner.ctype, "application/vnd.gnupg.wks")) {
		out->kind = DIR_WKS_RESPONSE;
		rc = wks_response(d, now, body.data, out, e);
	} else
		err_set(e, ERR_INVALID, "wks: the encrypted part is neither a "
		    "key (application/pgp-keys) nor a confirmation response "
		    "(application/vnd.gnupg.wks) but %s",
		    str_has_ctl(inner.ctype, strlen(inner.ctype)) ? "?" :
		    inner.ctype);
out:
	free(secs);
	free(lens);
	buf_release(&armored);
	buf_release(&plain);
	buf_release(&body);
	return rc;
}
