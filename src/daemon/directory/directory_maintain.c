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

/* One batch of a maintenance step: how many rows it took. */
struct maint_unit {
	int64_t now;
	size_t n;
};

/* Unpublish one batch of addresses whose re-verification went
 * unanswered (one unit). */
static int
stale_unit(struct daemon *d, void *arg, struct err *e)
{
	struct maint_unit *u = arg;
	struct store_addr *rows = NULL;
	size_t i;
	int rc;

	u->n = 0;
	rc = store_addr_stale(d->store, u->now - d->cfg.reverify_grace, BATCH,
	    &rows, &u->n, e);
	for (i = 0; rc == 0 && i < u->n; i++) {
		rc = dir_unpublish(d, rows[i].address, rows[i].fpr, u->now, e);
		if (rc == 0)
			dir_note("unpublished %s from %s: no answer to "
			    "re-verification", rows[i].address, rows[i].fpr);
	}
	store_addr_rows_free(rows, u->n);
	return rc;
}

/* Run unit in batches of BATCH rows, at most BATCHES; *count adds up
 * the rows of the batches that committed. */
static int
maint_batches(struct daemon *d, dir_unit_fn unit, int64_t now,
    size_t *count, struct err *e)
{
	struct maint_unit u;
	size_t k = 0;

	do {
		u.now = now;
		u.n = 0;
		if (dir_atomic(d, unit, &u, e) == -1)
			return -1;
		*count += u.n;
	} while (u.n == BATCH && ++k < BATCHES);
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

/* Ask one batch of the addresses that are due (one unit). */
static int
due_unit(struct daemon *d, void *arg, struct err *e)
{
	struct maint_unit *u = arg;
	struct store_addr *rows = NULL;
	size_t i;
	int rc;

	u->n = 0;
	rc = store_addr_due(d->store, u->now - d->cfg.reverify_interval, BATCH,
	    &rows, &u->n, e);
	for (i = 0; rc == 0 && i < u->n; i++)
		rc = maint_ask(d, &rows[i], u->now, e);
	store_addr_rows_free(rows, u->n);
	return rc;
}

struct purge_unit {
	int64_t now;
	struct dir_maint *out;
};

/* Forget what has expired (one unit). */
static int
purge_unit(struct daemon *d, void *arg, struct err *e)
{
	struct purge_unit *u = arg;
	struct dir_maint *out = u->out;
	int64_t now = u->now;
	int rc;

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
	/* who stored a key counts for max_unconfirmed_per_client for a
	 * day; after that it is nobody's business */
	if (rc == 0)
		rc = store_client_forget(d->store, now - DIR_CLIENT_DAY, &out->clients,
		    e);
	return rc;
}

/* One pass of everything scheduled. */
int
dir_maintain(struct daemon *d, int64_t now, struct dir_maint *out,
    struct err *e)
{
	struct purge_unit pu = { now, out };

	memset(out, 0, sizeof(*out));
	if (maint_batches(d, stale_unit, now, &out->expired, e) == -1 ||
	    maint_batches(d, due_unit, now, &out->asked, e) == -1 ||
	    dir_atomic(d, purge_unit, &pu, e) == -1)
		return -1;
	if (out->asked || out->expired || out->tokens || out->certs ||
	    out->mails || out->rates)
		log_info("maintenance: %zu asked, %zu unpublished unanswered, "
		    "%zu tokens, %zu unconfirmed keys, %zu sent mails and %zu "
		    "rate marks deleted", out->asked, out->expired, out->tokens,
		    out->certs, out->mails, out->rates);
	return 0;
}
