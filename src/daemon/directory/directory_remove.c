/*
 * directory_remove: removal requests signed with the key itself.  The
 * statement is read twice: once without trust, only to find which key to
 * check the signature with, and once from librnp's verified output, which
 * is the only text acted on.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "daemon.h"
#include "directory_int.h"
#include "log.h"
#include "pgp.h"
#include "removal.h"
#include "store.h"
#include "str.h"

#define TEXT_MAX (64 * 1024)

/* The fingerprint the (untrusted) statement names. */
static int
claimed_fpr(const uint8_t *msg, size_t len, char fpr[FPR_LEN + 1], struct err *e)
{
	struct removal r;
	struct buf text;
	int rc;

	buf_init(&text, TEXT_MAX);
	rc = pgp_signed_text(msg, len, &text, e);
	if (rc == 0)
		rc = removal_parse(text.data, &r, e);
	if (rc == 0) {
		str_lcpy(fpr, r.fpr, 41);
		removal_release(&r);
	}
	buf_release(&text);
	return rc;
}

/* A copy of the stored key fpr, from a read transaction. */
static int
load_cert(struct daemon *d, const char *fpr, struct store_cert *sc,
    struct err *e)
{
	int rc;

	if (store_begin_read(d->store, e) == -1)
		return -1;
	rc = store_cert_get(d->store, fpr, sc, e);
	store_rollback(d->store);
	if (rc == 1)
		return err_set(e, ERR_NOTFOUND, "No key found for fingerprint "
		    "%s", fpr);
	return rc;
}

/*
 * Verify msg with the stored key fpr and parse what it signed.  The
 * signature check runs outside any transaction (it is the costly part);
 * *etag says which version of the key checked it.  A revoked key that
 * asks to be removed whole gets its tombstone made here too (*tomb).
 */
static int
verified_statement(struct daemon *d, const uint8_t *msg, size_t len,
    const char *fpr, struct removal *r, struct pgp_signer *who,
    char etag[STORE_ETAG_LEN + 1], struct pgp_cert *tomb, struct err *e)
{
	struct store_cert sc;
	struct buf text;
	int rc;

	memset(&sc, 0, sizeof(sc));
	if (load_cert(d, fpr, &sc, e) == -1)
		return -1;
	str_lcpy(etag, sc.etag, STORE_ETAG_LEN + 1);
	buf_init(&text, TEXT_MAX);
	rc = pgp_verify_signed(msg, len, sc.full, sc.full_len, &text, who, e);
	if (rc == 0)
		rc = removal_parse(text.data, r, e);
	if (rc == 0 && strcmp(r->fpr, fpr) != 0) {
		removal_release(r);
		rc = err_set(e, ERR_FORBIDDEN, "not signed by this key");
	}
	if (rc == 0 && r->all && who->revoked &&
	    (rc = pgp_tombstone(sc.full, sc.full_len, tomb, e)) == -1)
		removal_release(r);
	buf_release(&text);
	store_cert_release(&sc);
	return rc;
}

/*
 * The signature must be made when the statement says (a backdated one
 * would let an expired key sign, as rnp judges a key at the signature's
 * own time), and the statement within the window of now.
 */
static int
statement_check(const struct removal *r, const struct pgp_signer *who,
    const char *auth, int64_t now, struct err *e)
{
	if (removal_check(r, auth, now, e) == -1)
		return -1;
	if (who->created < r->date - REMOVAL_WINDOW ||
	    who->created > r->date + REMOVAL_WINDOW)
		return err_set(e, ERR_INVALID, "The signature was not made "
		    "when the request says (its date and the signature's "
		    "must be within %d minutes of each other).",
		    REMOVAL_WINDOW / 60);
	return 0;
}

/*
 * A revoked key asked to be removed whole: its addresses go, and its
 * tombstone (the primary key with its revocations) stays, findable by
 * fingerprint and key id, so that nobody can hide that it was revoked.
 */
static int
remove_to_tombstone(struct daemon *d, const struct pgp_cert *tomb,
    int64_t now, struct err *e)
{
	/* the key is revoked: prune unpublishes every address; its
	 * recovery data goes with the rest of the key */
	if (dir_prune(d, tomb, e) == -1 ||
	    store_recovery_put(d->store, tomb->fpr, NULL, 0, now, e) == -1)
		return -1;
	return dir_republish(d, tomb, now, e);
}

/* Inside the transaction: the key is still the version that checked the
 * signature. */
static int
still_same(struct daemon *d, const char *fpr, const char *etag,
    struct err *e)
{
	struct store_cert sc;
	int rc;

	memset(&sc, 0, sizeof(sc));
	rc = store_cert_get(d->store, fpr, &sc, e);
	if (rc == 0 && strcmp(sc.etag, etag) != 0)
		rc = err_set(e, ERR_UNAVAIL, "The key changed meanwhile. "
		    "Send the request again.");
	else if (rc == 1)
		rc = err_set(e, ERR_NOTFOUND, "No key found for fingerprint "
		    "%s", fpr);
	store_cert_release(&sc);
	return rc;
}

/* Unpublish the listed addresses; each must be published on fpr. */
static int
remove_addrs(struct daemon *d, const struct removal *r, int64_t now,
    struct err *e)
{
	char owner[FPR_LEN + 1];
	size_t i;
	int rc;

	for (i = 0; i < r->naddrs; i++) {
		rc = store_addr_owner(d->store, r->addrs[i], owner, e);
		if (rc == -1)
			return -1;
		if (rc == 1 || strcmp(owner, r->fpr) != 0)
			return err_set(e, ERR_INVALID, "%s is not published "
			    "for this key", r->addrs[i]);
		if (store_addr_del(d->store, r->addrs[i], e) == -1)
			return -1;
	}
	return dir_republish_fpr(d, r->fpr, now, e);
}

/* Act on a verified, checked statement (inside the transaction). */
static int
remove_apply(struct daemon *d, const struct removal *r,
    const struct pgp_cert *tomb, int64_t now, struct dir_removed *out,
    struct err *e)
{
	int64_t until = (r->date > now ? r->date : now) + REMOVAL_WINDOW;
	int rc;

	rc = store_nonce_use(d->store, r->nonce, until, e);
	if (rc == 1)
		return err_set(e, ERR_CONFLICT, "This request was already used "
		    "(its nonce was seen before). Sign a new one.");
	if (rc == -1)
		return -1;
	str_lcpy(out->fpr, r->fpr, sizeof(out->fpr));
	out->all = r->all;
	out->naddrs = r->naddrs;
	out->tombstone = tomb->full != NULL;
	if (out->tombstone)
		return remove_to_tombstone(d, tomb, now, e);
	if (r->all)
		return store_cert_del(d->store, r->fpr, e) == -1 ? -1 : 0;
	return remove_addrs(d, r, now, e);
}

struct remove_unit {
	const char *fpr;
	const char *etag;	/* of the key the signature was checked on */
	const struct removal *r;
	const struct pgp_cert *tomb;
	int64_t now;
	struct dir_removed *out;
};

/* The key is still the one checked; remove (one unit). */
static int
remove_unit(struct daemon *d, void *arg, struct err *e)
{
	struct remove_unit *u = arg;

	memset(u->out, 0, sizeof(*u->out));
	if (still_same(d, u->fpr, u->etag, e) == -1)
		return -1;
	return remove_apply(d, u->r, u->tomb, u->now, u->out, e);
}

/* POST /api/v1/remove */
int
dir_remove_signed(struct daemon *d, int64_t now, const uint8_t *msg,
    size_t len, struct dir_removed *out, struct err *e)
{
	char fpr[FPR_LEN + 1], auth[256], etag[STORE_ETAG_LEN + 1];
	struct pgp_signer who;
	struct pgp_cert tomb;
	struct removal r;
	int rc;

	memset(out, 0, sizeof(out[0]));
	memset(&r, 0, sizeof(r));
	memset(&tomb, 0, sizeof(tomb));
	if (removal_authority(d->cfg.base_url, auth, sizeof(auth)) == -1)
		return err_set(e, ERR_INTERNAL, "bad base_url");
	if (claimed_fpr(msg, len, fpr, e) == -1 ||
	    verified_statement(d, msg, len, fpr, &r, &who, etag, &tomb,
	    e) == -1)
		return -1;
	rc = statement_check(&r, &who, auth, now, e);
	if (rc == 0) {
		struct remove_unit u = { fpr, etag, &r, &tomb, now, out };

		rc = dir_atomic(d, remove_unit, &u, e);
	}
	if (rc == 0)
		log_info("signed removal of %s: %s", fpr, out->tombstone ?
		    "revoked key kept as its revocation" : r.all ?
		    "whole key deleted" : "addresses unpublished");
	pgp_cert_release(&tomb);
	removal_release(&r);
	return rc;
}
