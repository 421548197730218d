/*
 * directory_maintain: scheduled work, run as if at a given time so that
 * tests and operators never wait for the clock (`keydird maintain --now`).
 * Each batch is its own short transaction.
 */
#include <string.h>

#include "daemon.h"
#include "directory_int.h"
#include "log.h"
#include "mail.h"
#include "store.h"
#include "str.h"

#define BATCH 100
#define BATCHES 10	/* per kind per pass: the rest waits for the next */

/* Unpublish addresses whose re-verification went unanswered. */
static int
maint_stale(struct daemon *d, int64_t now, struct dir_maint *out,
    struct err *e)
{
	struct store_addr *rows = NULL;
	size_t n = 0, i, k = 0;
	int rc;

	do {
		if (store_begin(d->store, e) == -1)
			return -1;
		rc = store_addr_stale(d->store, now - d->cfg.reverify_grace,
		    BATCH, &rows, &n, e);
		for (i = 0; rc == 0 && i < n; i++) {
			rc = dir_unpublish(d, rows[i].address, rows[i].fpr, now,
			    e);
			if (rc == 0)
				log_info("unpublished %s from %s: no answer "
				    "to re-verification", rows[i].address,
				    rows[i].fpr);
		}
		if (rc == 0)
			rc = store_commit(d->store, e);
		else
			store_rollback(d->store);
		store_addr_rows_free(rows, n);
		if (rc == -1)
			return -1;
		out->expired += n;
	} while (n == BATCH && ++k < BATCHES);
	return 0;
}

/* Ask one address whether its key is still valid. */
static int
maint_ask(struct daemon *d, const struct store_addr *a, int64_t now,
    struct err *e)
{
	char tok[TOKEN_LEN + 1];
	struct store_token t;
	struct store_cert c;
	int rc;

	if (!mail_addr_ok(a->address)) {
		/* cannot be asked: it lapses after the grace period */
		log_warnx("cannot mail %s to re-verify it", a->address);
		return store_addr_asked(d->store, a->address, now, e) == 0 ?
		    0 : -1;
	}
	memset(&c, 0, sizeof(c));
	if ((rc = store_cert_get(d->store, a->fpr, &c, e)) != 0)
		return rc == 1 ? err_set(e, ERR_INTERNAL, "address %s points "
		    "at a missing key", a->address) : -1;
	memset(&t, 0, sizeof(t));
	token_new(tok, t.hash);
	t.kind = TOKEN_REVERIFY;
	str_lcpy(t.fpr, a->fpr, sizeof(t.fpr));
	str_lcpy(t.address, a->address, sizeof(t.address));
	t.created = now;
	t.expires = now + d->cfg.reverify_grace;
	rc = store_token_put(d->store, &t, e);
	if (rc == 0)
		rc = dir_mail_reverify(d, a->address, &c, tok, now, t.expires,
		    e);
	if (rc == 0)
		rc = store_addr_asked(d->store, a->address, now, e) == 0 ? 0 :
		    -1;
	store_cert_release(&c);
	return rc;
}

/* Ask every address that is due. */
static int
maint_due(struct daemon *d, int64_t now, struct dir_maint *out,
    struct err *e)
{
	struct store_addr *rows = NULL;
	size_t n = 0, i, k = 0;
	int rc;

	do {
		if (store_begin(d->store, e) == -1)
			return -1;
		rc = store_addr_due(d->store, now - d->cfg.reverify_interval,
		    BATCH, &rows, &n, e);
		for (i = 0; rc == 0 && i < n; i++)
			rc = maint_ask(d, &rows[i], now, e);
		if (rc == 0)
			rc = store_commit(d->store, e);
		else
			store_rollback(d->store);
		store_addr_rows_free(rows, n);
		if (rc == -1)
			return -1;
		out->asked += n;
	} while (n == BATCH && ++k < BATCHES);
	return 0;
}

/* Forget what has expired. */
static int
maint_purge(struct daemon *d, int64_t now, struct dir_maint *out,
    struct err *e)
{
	int rc;

	if (store_begin(d->store, e) == -1)
		return -1;
	rc = store_token_purge(d->store, now, &out->tokens, e);
	if (rc == 0)
		rc = store_nonce_purge(d->store, now, e);
	if (rc == 0)
		rc = store_cert_purge_unconfirmed(d->store,
		    now - d->cfg.unconfirmed_ttl, &out->certs, e);
	/* sent mail is kept sent_mail_ttl for the operator; a rate mark
	 * older than mail_rate no longer limits anything */
	if (rc == 0)
		rc = store_outbox_purge(d->store, now - d->cfg.sent_mail_ttl,
		    &out->mails, e);
	if (rc == 0)
		rc = store_rate_purge(d->store, now - d->cfg.mail_rate,
		    &out->rates, e);
	if (rc == 0)
		return store_commit(d->store, e);
	store_rollback(d->store);
	return -1;
}

/* One pass of everything scheduled. */
int
dir_maintain(struct daemon *d, int64_t now, struct dir_maint *out,
    struct err *e)
{
	memset(out, 0, sizeof(*out));
	if (maint_stale(d, now, out, e) == -1 ||
	    maint_due(d, now, out, e) == -1 ||
	    maint_purge(d, now, out, e) == -1)
		return -1;
	if (out->asked || out->expired || out->tokens || out->certs ||
	    out->mails || out->rates)
		log_info("maintenance: %zu asked, %zu unpublished unanswered, "
		    "%zu tokens, %zu unconfirmed keys, %zu sent mails and %zu "
		    "rate marks deleted", out->asked, out->expired, out->tokens,
		    out->certs, out->mails, out->rates);
	return 0;
}
