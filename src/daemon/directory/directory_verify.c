/*
 * directory_verify: confirmation links.  GET only looks (dir_verify_show);
 * POST confirms or discards.  A token is single use, expires, and is found
 * by its hash; each call re-checks everything inside one transaction.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "daemon.h"
#include "directory_int.h"
#include "lang.h"
#include "log.h"
#include "mail.h"
#include "pgp.h"
#include "store.h"
#include "str.h"
#include "xmalloc.h"

enum verify_act { VERIFY_SHOW, VERIFY_CONFIRM, VERIFY_REJECT };

/* Release what v owns. */
void
dir_verify_release(struct dir_verify *v)
{
	store_addrs_free(v->others, v->nothers);
	v->others = NULL;
	v->nothers = 0;
}

/* Find and check the token; fill v's address, key and expiry. */
static int
verify_token(struct daemon *d, const char *token, int64_t now,
    struct store_token *t, struct dir_verify *v, struct err *e)
{
	if (dir_token(d, token, TOKEN_VERIFY, now, t, e) == -1)
		return -1;
	str_lcpy(v->fpr, t->fpr, sizeof(v->fpr));
	str_lcpy(v->address, t->address, sizeof(v->address));
	v->expires = t->expires;
	return 0;
}

/* The digest of what confirming changes, as hex, into v->effects. */
static void
verify_digest(struct dir_verify *v)
{
	crypto_hash_sha256_state h;
	uint8_t sum[crypto_hash_sha256_BYTES];
	size_t i;

	crypto_hash_sha256_init(&h);
	crypto_hash_sha256_update(&h, (const uint8_t *)v->prev_fpr,
	    strlen(v->prev_fpr) + 1);
	for (i = 0; i < v->nothers; i++)
		crypto_hash_sha256_update(&h, (const uint8_t *)v->others[i],
		    strlen(v->others[i]) + 1);
	crypto_hash_sha256_final(&h, sum);
	str_hex(sum, 16, v->effects);
}

/* What confirming would change: the current key of the address and,
 * with one_address_per_key, the key's other addresses. */
static int
verify_effects(struct daemon *d, struct dir_verify *v, struct err *e)
{
	char **addrs = NULL;
	size_t n = 0, i;
	int rc;

	rc = store_addr_owner(d->store, v->address, v->prev_fpr, e);
	if (rc == -1)
		return -1;
	if (rc == 1 || !strcmp(v->prev_fpr, v->fpr))
		v->prev_fpr[0] = '\0';
	if (d->cfg.one_address_per_key &&
	    store_addr_list(d->store, v->fpr, &addrs, &n, e) == -1)
		return -1;
	for (i = 0; i < n; i++) {
		if (!strcmp(addrs[i], v->address))
			continue;
		v->others = xrealloc(v->others,
		    (v->nothers + 1) * sizeof(*v->others));
		v->others[v->nothers++] = xstrdup(addrs[i]);
	}
	store_addrs_free(addrs, n);
	verify_digest(v);
	return 0;
}

/* Publish v->address for v->fpr, moving it off any other key. */
static int
verify_publish(struct daemon *d, const struct pgp_cert *c,
    struct dir_verify *v, int64_t now, size_t lang, struct err *e)
{
	size_t i;

	for (i = 0; i < v->nothers; i++)
		if (store_addr_del(d->store, v->others[i], e) == -1)
			return -1;
	if (store_addr_set(d->store, v->address, c->fpr, now, e) == -1)
		return -1;
	if (v->prev_fpr[0] && (dir_republish_fpr(d, v->prev_fpr, now,
	    e) == -1 || dir_mail_replaced(d, v->address, c->fpr, v->prev_fpr,
	    now, lang, e) == -1))
		return -1;
	return dir_republish(d, c, now, e);
}

/* One run of a confirmation link's work. */
struct verify_unit {
	enum verify_act want;	/* what was asked */
	enum verify_act act;	/* what was done: SHOW when effects changed */
	const char *token;
	const char *expect;	/* NULL, or expect_buf */
	char expect_buf[sizeof(((struct dir_verify *)0)->effects)];
	int64_t now;
	size_t lang;		/* of the mail a replacement sends */
	struct dir_verify *v;
	struct pgp_cert c;
};

/* Check the token and the key; then use the token and publish. */
static int
verify_unit(struct daemon *d, void *arg, struct err *e)
{
	struct verify_unit *u = arg;
	struct dir_verify *v = u->v;
	struct store_token t;

	/* a run starts over */
	dir_verify_release(v);
	memset(v, 0, sizeof(*v));
	pgp_cert_release(&u->c);
	u->act = u->want;
	if (verify_token(d, u->token, u->now, &t, v, e) == -1)
		return -1;
	if (u->act == VERIFY_REJECT)
		return dir_token_use(d, t.hash, u->now, e);
	if (dir_load(d, v->fpr, &u->c, e) == -1)
		return -1;
	if (u->c.revoked || !dir_uid_live(&u->c, v->address))
		return err_set(e, ERR_GONE, "%s", N_("The key no longer "
		    "carries this address, or it was revoked."));
	if (verify_effects(d, v, e) == -1)
		return -1;
	if (u->act == VERIFY_CONFIRM && u->expect != NULL &&
	    strcmp(u->expect, v->effects) != 0) {
		/* another address may have been confirmed in between */
		v->changed = true;
		u->act = VERIFY_SHOW;
	}
	if (u->act == VERIFY_SHOW)
		return 0;
	if (dir_token_use(d, t.hash, u->now, e) == -1)
		return -1;
	return verify_publish(d, &u->c, v, u->now, u->lang, e);
}

/*
 * Act on the confirmation link.  A confirmation whose page showed other
 * effects (expect) than confirming has now does nothing but say so
 * (v->changed).  Showing the page only reads: a read transaction, never
 * the writer's lock.
 */
static int
verify_act(struct daemon *d, int64_t now, enum verify_act act,
    const char *token, const char *expect, size_t lang, struct dir_verify *v,
    struct err *e)
{
	struct verify_unit u;
	int rc;

	memset(v, 0, sizeof(*v));
	memset(&u, 0, sizeof(u));
	u.want = act;
	u.token = token;
	/* a copy: expect may point into v, which each run clears (one
	 * too long to be a digest cannot, and compares unequal as it is) */
	u.expect = expect;
	if (expect != NULL && strlen(expect) < sizeof(u.expect_buf)) {
		str_lcpy(u.expect_buf, expect, sizeof(u.expect_buf));
		u.expect = u.expect_buf;
	}
	u.now = now;
	u.lang = lang;
	u.v = v;
	if (act == VERIFY_SHOW) {
		if (store_begin_read(d->store, e) == -1)
			return -1;
		rc = verify_unit(d, &u, e);
		store_rollback(d->store);
	} else
		rc = dir_atomic(d, verify_unit, &u, e);
	pgp_cert_release(&u.c);
	act = u.act;
	if (rc == 0 && act == VERIFY_CONFIRM)
		log_info("published %s for %s%s%s", v->address, v->fpr,
		    v->prev_fpr[0] ? ", replacing " : "", v->prev_fpr);
	if (rc == 0 && act == VERIFY_CONFIRM && v->prev_fpr[0] && d->mailer)
		mailer_kick(d->mailer);
	if (rc == 0 && act == VERIFY_REJECT)
		log_info("request to publish %s for %s discarded", v->address,
		    v->fpr);
	return rc;
}

/* GET: look only. */
int
dir_verify_show(struct daemon *d, int64_t now, const char *token,
    struct dir_verify *out, struct err *e)
{
	return verify_act(d, now, VERIFY_SHOW, token, NULL, 0, out, e);
}

/* POST: publish, if what the page showed still holds. */
int
dir_verify_confirm(struct daemon *d, int64_t now, const char *token,
    const char *effects, size_t lang, struct dir_verify *out, struct err *e)
{
	return verify_act(d, now, VERIFY_CONFIRM, token, effects, lang, out,
	    e);
}

/* POST .../reject: discard. */
int
dir_verify_reject(struct daemon *d, int64_t now, const char *token,
    struct dir_verify *out, struct err *e)
{
	return verify_act(d, now, VERIFY_REJECT, token, NULL, 0, out, e);
}
