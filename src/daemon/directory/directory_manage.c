/*
 * directory_manage: links that act on a published address.  Removal by
 * mail (for an owner who lost the key) and the answers to periodic
 * re-verification.  GET shows (dir_link_show); POST acts (dir_link_act).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon.h"
#include "directory_int.h"
#include "lang.h"
#include "log.h"
#include "mail.h"
#include "pgp.h"
#include "store.h"
#include "str.h"

static const char *const link_bad = N_("This link is not valid. Check that you "
    "copied all of it.");

/* Find a token of kind and check it is unused and unexpired. */
int
dir_token(struct daemon *d, const char *token, enum token_kind kind,
    int64_t now, struct store_token *t, struct err *e)
{
	uint8_t hash[TOKEN_HASH_LEN];
	int rc;

	if (token_hash(token, hash) == -1)
		return err_set(e, ERR_NOTFOUND, "%s", link_bad);
	rc = store_token_get(d->store, hash, t, e);
	if (rc == -1)
		return -1;
	if (rc == 1 || t->kind != kind ||
	    !str_ct_equal(t->hash, hash, sizeof(hash)))
		return err_set(e, ERR_NOTFOUND, "%s", link_bad);
	if (t->used)
		return err_set(e, ERR_GONE, "%s",
		    N_("This link was already used."));
	if (t->expires <= now)
		return err_set(e, ERR_GONE, "%s", kind == TOKEN_VERIFY ?
		    N_("This link has expired. Upload your key again to get "
		    "a new one.") : N_("This link has expired."));
	return 0;
}

/* Mark a token used: only a token already used says so; a store error
 * stays the store's error. */
int
dir_token_use(struct daemon *d, const uint8_t hash[TOKEN_HASH_LEN],
    int64_t now, struct err *e)
{
	int rc = store_token_use(d->store, hash, now, e);

	if (rc == 1)
		return err_set(e, ERR_GONE, "%s",
		    N_("This link was already used."));
	return rc;
}

/* Reload key fpr and recompute its published form. */
int
dir_republish_fpr(struct daemon *d, const char *fpr, int64_t now,
    struct err *e)
{
	struct pgp_cert c;
	int rc;

	memset(&c, 0, sizeof(c));
	if (dir_load(d, fpr, &c, e) == -1)
		return -1;
	rc = dir_republish(d, &c, now, e);
	pgp_cert_release(&c);
	return rc;
}

/* Remove address from key fpr and republish the key. */
int
dir_unpublish(struct daemon *d, const char *address, const char *fpr,
    int64_t now, struct err *e)
{
	if (store_addr_del(d->store, address, e) == -1)
		return -1;
	return dir_republish_fpr(d, fpr, now, e);
}

/* Queue the removal link for published address a (in a transaction). */
static int
manage_queue(struct daemon *d, const struct store_addr *a,
    const char *bucket, int64_t now, size_t lang, struct err *e)
{
	char tok[TOKEN_LEN + 1];
	struct store_token t;

	memset(&t, 0, sizeof(t));
	token_new(tok, t.hash);
	t.kind = TOKEN_MANAGE;
	str_lcpy(t.fpr, a->fpr, sizeof(t.fpr));
	str_lcpy(t.address, a->address, sizeof(t.address));
	t.created = now;
	t.expires = now + d->cfg.token_ttl;
	if (store_token_put(d->store, &t, e) == -1 ||
	    dir_mail_manage(d, a->address, a->fpr, tok, now, t.expires,
	    lang, e) == -1 || store_rate_set(d->store, bucket, now, e) == -1)
		return -1;
	return 0;
}

/*
 * POST /api/v1/manage: mail a removal link to a published address.  The
 * answer is the same whether or not the address is published (no
 * enumeration) or rate limited.
 */
struct manage_unit {
	const char *address;	/* normalised */
	int64_t now;
	size_t lang;		/* of the mail */
	bool mail;		/* a mail was queued */
};

/* The rate check and the mail it allows, in one unit. */
static int
manage_unit(struct daemon *d, void *arg, struct err *e)
{
	struct manage_unit *u = arg;
	char bucket[EMAIL_MAX + 8];
	struct store_addr a;
	int64_t last = 0;
	int rc;

	u->mail = false;
	/* its own rate bucket: confirmations and removal links must not
	 * starve each other */
	snprintf(bucket, sizeof(bucket), "manage %s", u->address);
	rc = store_addr_get(d->store, u->address, &a, e);
	if (rc == 0 && (rc = store_rate_get(d->store, bucket, &last, e)) != -1)
		u->mail = rc == 1 || u->now - last >= d->cfg.mail_rate;
	if (rc != -1 && u->mail)
		rc = manage_queue(d, &a, bucket, u->now, u->lang, e);
	return rc == -1 ? -1 : 0;
}

int
dir_manage_request(struct daemon *d, int64_t now, const char *address,
    size_t lang, struct err *e)
{
	char norm[EMAIL_MAX + 1];
	struct manage_unit u;

	if (email_normalize(address, norm, sizeof(norm), e) == -1)
		return -1;
	u.address = norm;
	u.now = now;
	u.lang = lang;
	u.mail = false;
	if (dir_atomic(d, manage_unit, &u, e) == -1)
		return -1;
	if (u.mail && d->mailer)
		mailer_kick(d->mailer);
	return 0;
}

/* Check a manage or re-verify link: token, and the address still
 * published with the token's key. */
static int
link_check(struct daemon *d, enum token_kind kind, const char *token,
    int64_t now, struct store_token *t, struct dir_link *out, struct err *e)
{
	struct store_addr a;
	int rc;

	memset(out, 0, sizeof(*out));
	if (dir_token(d, token, kind, now, t, e) == -1)
		return -1;
	str_lcpy(out->fpr, t->fpr, sizeof(out->fpr));
	str_lcpy(out->address, t->address, sizeof(out->address));
	out->expires = t->expires;
	rc = store_addr_get(d->store, t->address, &a, e);
	if (rc == -1)
		return -1;
	if (rc == 1 || strcmp(a.fpr, t->fpr) != 0)
		return err_set(e, ERR_GONE, "%s", N_("The address of this "
		    "link is no longer published with this key."));
	return 0;
}

/* GET on a manage or re-verify link: look only. */
int
dir_link_show(struct daemon *d, int64_t now, enum token_kind kind,
    const char *token, struct dir_link *out, struct err *e)
{
	struct store_token t;
	int rc;

	/* a read transaction: a page view never waits for writers */
	if (store_begin_read(d->store, e) == -1)
		return -1;
	rc = link_check(d, kind, token, now, &t, out, e);
	store_rollback(d->store);
	return rc;
}

/*
 * POST on a link.  TOKEN_MANAGE: unpublish.  TOKEN_REVERIFY: yes keeps the
 * address and restarts its interval; no unpublishes it at once.
 */
struct link_unit {
	enum token_kind kind;
	const char *token;
	bool yes;
	int64_t now;
	struct dir_link *out;
};

/* Use the link and act on it, in one unit. */
static int
link_unit(struct daemon *d, void *arg, struct err *e)
{
	struct link_unit *u = arg;
	struct dir_link *out = u->out;
	struct store_token t;

	if (link_check(d, u->kind, u->token, u->now, &t, out, e) == -1 ||
	    dir_token_use(d, t.hash, u->now, e) == -1)
		return -1;
	if (u->kind == TOKEN_REVERIFY && u->yes)
		return store_addr_confirmed(d->store, out->address, u->now,
		    e) == 0 ? 0 : -1;
	return dir_unpublish(d, out->address, out->fpr, u->now, e);
}

int
dir_link_act(struct daemon *d, int64_t now, enum token_kind kind,
    const char *token, bool yes, struct dir_link *out, struct err *e)
{
	struct link_unit u = { kind, token, yes, now, out };
	int rc;

	rc = dir_atomic(d, link_unit, &u, e);
	if (rc == 0)
		log_info("%s %s for %s", kind == TOKEN_REVERIFY && yes ?
		    "re-verified" : "unpublished", out->address, out->fpr);
	return rc;
}
