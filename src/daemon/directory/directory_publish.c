/*
 * directory_publish: what gets served and what gets mailed.  The published
 * form, its HKP index and its ETag are computed here, once per change, so
 * that a lookup is one indexed read.  Also the start of a confirmation:
 * token, rate limit and the mail (directory_mail.c), in one transaction.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "buf.h"
#include "daemon.h"
#include "directory_int.h"
#include "log.h"
#include "mail.h"
#include "pgp.h"
#include "store.h"
#include "str.h"
#include "xmalloc.h"


/* Percent-encode a uid for an HKP index line. */
static void
hkp_uid_escape(struct buf *b, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c <= 0x20 || c >= 0x7f || c == ':' || c == '%')
			buf_printf(b, "%%%02X", c);
		else
			buf_addch(b, c);
	}
}

/*
 * The HKP machine-readable index for c with its published addresses,
 * and after them a line per subkey for the site's page,
 * "sub:FPR:algo:bits:created:expires:flags:usage" (flags "r": revoked;
 * usage "s", "e", "a"), which HKP's op=index leaves out.
 */
static void
hkp_index(const struct pgp_cert *c, const char *const *addrs, size_t n,
    struct buf *b)
{
	size_t i, j;

	buf_printf(b, "info:1:1\r\npub:%s:%d:%u:%lld:", c->fpr, c->algo,
	    c->bits, (long long)c->created);
	if (c->expires)
		buf_printf(b, "%lld", (long long)c->expires);
	buf_printf(b, ":%s\r\n", c->revoked ? "r" : "");
	for (i = 0; i < c->nuids; i++) {
		const struct pgp_uid *u = &c->uids[i];
		bool pub = false;

		for (j = 0; j < n && !u->revoked; j++)
			if (!strcmp(u->email, addrs[j]))
				pub = true;
		if (!pub)
			continue;
		buf_addstr(b, "uid:");
		hkp_uid_escape(b, u->text);
		buf_printf(b, ":%lld::\r\n", (long long)u->created);
	}
	for (i = 0; i < c->nsubs; i++) {
		const struct pgp_subkey *s = &c->subs[i];

		buf_printf(b, "sub:%s:%d:%u:%lld:", s->fpr, s->algo, s->bits,
		    (long long)s->created);
		if (s->expires)
			buf_printf(b, "%lld", (long long)s->expires);
		buf_printf(b, ":%s:%s\r\n", s->revoked ? "r" : "", s->usage);
	}
}

/* Quoted ETag from the bytes served. */
static void
dir_etag(const char *p, size_t len, char out[STORE_ETAG_LEN + 1])
{
	uint8_t h[crypto_hash_sha256_BYTES];

	crypto_hash_sha256(h, (const unsigned char *)p, len);
	store_etag(h, out);
}

/* Copy c's key fields and its lookup subkeys into out. */
static void
dir_publish_ids(const struct pgp_cert *c, struct store_cert *out)
{
	size_t i;

	str_lcpy(out->fpr, c->fpr, sizeof(out->fpr));
	str_lcpy(out->keyid, c->keyid, sizeof(out->keyid));
	out->algo = c->algo;
	out->bits = c->bits;
	out->created = c->created;
	out->expires = c->expires;
	out->revoked = c->revoked;
	out->full = c->full;
	out->full_len = c->full_len;
	/* only subkeys that signed their own binding (a back-signature)
	 * are found by their ids: anyone may bind someone else's key as a
	 * subkey, with any key flags, but only its holder can sign back */
	out->subs = xcalloc(c->nsubs ? c->nsubs : 1, sizeof(*out->subs));
	for (i = 0; i < c->nsubs; i++) {
		if (!c->subs[i].backsig)
			continue;
		str_lcpy(out->subs[out->nsubs].fpr, c->subs[i].fpr,
		    FPR_LEN + 1);
		str_lcpy(out->subs[out->nsubs].keyid, c->subs[i].keyid,
		    KEYID_LEN + 1);
		out->nsubs++;
	}
}

/* The WKD form of out's published key for each of addrs. */
static int
wkd_forms(const char *const *addrs, size_t n, struct store_cert *out,
    struct err *e)
{
	struct store_wkd *w;
	struct buf b;
	size_t i;

	out->wkd = xcalloc(n ? n : 1, sizeof(*out->wkd));
	for (i = 0; i < n; i++) {
		w = &out->wkd[out->nwkd];
		if (wkd_key(addrs[i], w->key, sizeof(w->key)) == -1)
			continue;	/* no address of ours: not served */
		str_lcpy(w->address, addrs[i], sizeof(w->address));
		buf_init(&b, KEY_MAX);
		if (pgp_wkd_form(out->published, out->published_len, addrs[i],
		    &b, e) == -1) {
			buf_release(&b);
			return -1;
		}
		w->data = (uint8_t *)buf_detach(&b, &w->len);
		out->nwkd++;
	}
	return 0;
}

/* Fill out for c from its published form pub, which it takes. */
int
dir_publish_fill(const struct pgp_cert *c, const char *const *addrs,
    size_t n, struct buf *pub, struct store_cert *out, struct err *e)
{
	struct buf idx;

	memset(out, 0, sizeof(*out));
	buf_init(&idx, KEY_MAX);
	hkp_index(c, addrs, n, &idx);
	if (buf_failed(&idx) || buf_failed(pub)) {
		buf_release(&idx);
		return err_set(e, ERR_TOOBIG, "published key too large");
	}
	dir_publish_ids(c, out);
	dir_etag(pub->data, pub->len, out->etag);
	out->published = buf_detach(pub, &out->published_len);
	out->hkp_index = buf_detach(&idx, NULL);
	buf_release(&idx);
	if (wkd_forms(addrs, n, out, e) == -1) {
		dir_publish_release(out);
		return -1;
	}
	return 0;
}

/* Build c's published form for addrs; see directory.h. */
int
dir_publish_build(const struct pgp_cert *c, const char *const *addrs,
    size_t n, struct store_cert *out, struct err *e)
{
	struct buf pub;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	buf_init(&pub, KEY_MAX);
	if (pgp_publish(c->full, c->full_len, addrs, n, &pub, e) == 0)
		rc = dir_publish_fill(c, addrs, n, &pub, out, e);
	buf_release(&pub);
	return rc;
}

/* Free what dir_publish_build made; full stays the pgp_cert's. */
void
dir_publish_release(struct store_cert *sc)
{
	free(sc->published);
	free(sc->hkp_index);
	free(sc->subs);
	store_wkd_free(sc->wkd, sc->nwkd);
	sc->wkd = NULL;
	sc->nwkd = 0;
	sc->published = sc->hkp_index = NULL;
	sc->subs = NULL;
	sc->published_len = sc->nsubs = 0;
	sc->full = NULL;
	sc->full_len = 0;
}

/* Recompute and store c's published form. */
int
dir_republish(struct daemon *d, const struct pgp_cert *c, int64_t now,
    struct err *e)
{
	struct store_cert sc;
	char **addrs = NULL;
	size_t n = 0;
	int rc = -1;

	if (store_addr_list(d->store, c->fpr, &addrs, &n, e) == -1)
		return -1;
	if (dir_publish_build(c, (const char *const *)addrs, n, &sc, e) == 0) {
		sc.updated = now;
		rc = store_cert_put(d->store, &sc, e);
		dir_publish_release(&sc);
	}
	store_addrs_free(addrs, n);
	return rc;
}

/* Queue a confirmation for a->address unless one went out within
 * mail_rate or the upload's mails are out; 1 when a mail was queued. */
int
dir_send_confirm(struct daemon *d, const struct pgp_cert *c,
    struct dir_addr *a, int64_t now, const struct dir_upload_opts *o,
    bool capped, struct err *e)
{
	struct store_token t;
	char tok[TOKEN_LEN + 1];
	int64_t last = 0;
	int rc;

	if (!mail_addr_ok(a->address)) {
		log_warnx("no mail to %s: the address cannot be mailed "
		    "(non-ASCII or special characters)", a->address);
		a->mail = ADDR_MAIL_UNMAILABLE;
		return 0;
	}
	rc = store_rate_get(d->store, a->address, &last, e);
	if (rc == -1)
		return -1;
	if (rc == 0 && now - last < d->cfg.mail_rate) {
		dir_note("confirmation for %s rate limited", a->address);
		a->status = ADDR_PENDING;
		a->mail = ADDR_MAIL_RATE;
		a->retry_at = last + d->cfg.mail_rate;
		return 0;
	}
	if (capped) {
		a->mail = ADDR_MAIL_CAPPED;
		return 0;
	}
	memset(&t, 0, sizeof(t));
	token_new(tok, t.hash);
	t.kind = TOKEN_VERIFY;
	str_lcpy(t.fpr, c->fpr, sizeof(t.fpr));
	str_lcpy(t.address, a->address, sizeof(t.address));
	t.created = now;
	t.expires = now + d->cfg.token_ttl;
	if (store_token_put(d->store, &t, e) == -1 ||
	    dir_mail_confirm(d, c, a->address, tok, now, t.expires,
	    o->signed_by_key, o->lang, e) == -1 ||
	    store_rate_set(d->store, a->address, now, e) == -1)
		return -1;
	dir_log_link(d, "confirmation", a->address, c->fpr, "verify", tok);
	a->status = ADDR_PENDING;
	a->mail = ADDR_MAIL_SENT;
	return 1;
}
