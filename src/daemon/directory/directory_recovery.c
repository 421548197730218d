/*
 * directory_recovery: handing key recovery data (claim 3) back to the
 * proven owner of a published address, and to nobody else.  A request
 * mails a link to the address (the same answer whether or not there is
 * data, rate-limited per address); the link, used once, hands the sealed
 * blob out, logs it and mails a notice to the address.  The data stays
 * sealed by the client's answers or code: nothing here opens it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "directory_int.h"
#include "email.h"
#include "lang.h"
#include "log.h"
#include "mail.h"
#include "store.h"
#include "str.h"

struct rq_unit {
	const char *address;	/* normalised */
	int64_t now;
	size_t lang;		/* of the mail */
	bool mail;
};

/* A link for the owner of a published address with recovery data. */
static int
rq_unit(struct daemon *d, void *arg, struct err *e)
{
	struct rq_unit *u = arg;
	char bucket[EMAIL_MAX + 10], tok[TOKEN_LEN + 1];
	struct store_token t;
	struct store_addr a;
	uint8_t *data = NULL;
	size_t len = 0;
	int64_t last = 0, updated = 0;
	int rc;

	u->mail = false;
	/* its own rate bucket, as removal links have theirs */
	snprintf(bucket, sizeof(bucket), "recovery %s", u->address);
	if ((rc = store_addr_get(d->store, u->address, &a, e)) != 0)
		return rc == 1 ? 0 : -1;
	if ((rc = store_recovery_get(d->store, a.fpr, &data, &len, &updated,
	    e)) != 0)
		return rc == 1 ? 0 : -1;
	free(data);
	if ((rc = store_rate_get(d->store, bucket, &last, e)) == -1)
		return -1;
	if (rc == 0 && u->now - last < d->cfg.mail_rate) {
		dir_note("recovery link for %s rate limited", u->address);
		return 0;
	}
	memset(&t, 0, sizeof(t));
	token_new(tok, t.hash);
	t.kind = TOKEN_RECOVERY;
	str_lcpy(t.fpr, a.fpr, sizeof(t.fpr));
	str_lcpy(t.address, a.address, sizeof(t.address));
	t.created = u->now;
	t.expires = u->now + d->cfg.token_ttl;
	if (store_token_put(d->store, &t, e) == -1 ||
	    dir_mail_recovery(d, a.address, a.fpr, tok, u->now, t.expires,
	    u->lang, e) == -1 || store_rate_set(d->store, bucket, u->now, e) == -1)
		return -1;
	u->mail = true;
	return 0;
}

int
dir_recovery_request(struct daemon *d, int64_t now, const char *address,
    size_t lang, struct err *e)
{
	char norm[EMAIL_MAX + 1];
	struct rq_unit u;

	if (email_normalize(address, norm, sizeof(norm), e) == -1)
		return -1;
	u = (struct rq_unit){ norm, now, lang, false };
	if (dir_atomic(d, rq_unit, &u, e) == -1)
		return -1;
	if (u.mail && d->mailer)
		mailer_kick(d->mailer);
	return 0;
}

/* The token of a recovery link, the address still published with its
 * key, and the data: into out (and *data when asked). */
static int
rl_check(struct daemon *d, const char *token, int64_t now,
    struct store_token *t, struct dir_link *out, uint8_t **data,
    size_t *len, struct err *e)
{
	struct store_addr a;
	int64_t updated = 0;
	uint8_t *p = NULL;
	size_t n = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	if (dir_token(d, token, TOKEN_RECOVERY, now, t, e) == -1)
		return -1;
	str_lcpy(out->fpr, t->fpr, sizeof(out->fpr));
	str_lcpy(out->address, t->address, sizeof(out->address));
	out->expires = t->expires;
	if ((rc = store_addr_get(d->store, t->address, &a, e)) == -1)
		return -1;
	if (rc == 1 || strcmp(a.fpr, t->fpr) != 0)
		return err_set(e, ERR_GONE, "%s", N_("The address of this "
		    "link is no longer published with this key."));
	if ((rc = store_recovery_get(d->store, t->fpr, &p, &n, &updated,
	    e)) == -1)
		return -1;
	if (rc == 1)
		return err_set(e, ERR_GONE, "%s", N_("This key has no "
		    "recovery data any more."));
	if (data != NULL) {
		*data = p;
		*len = n;
	} else
		free(p);
	return 0;
}

int
dir_recovery_show(struct daemon *d, int64_t now, const char *token,
    struct dir_link *out, struct err *e)
{
	struct store_token t;
	int rc;

	if (store_begin_read(d->store, e) == -1)
		return -1;
	rc = rl_check(d, token, now, &t, out, NULL, NULL, e);
	store_rollback(d->store);
	return rc;
}

struct take_unit {
	const char *token;
	int64_t now;
	size_t lang;
	struct dir_link *out;
	uint8_t *data;
	size_t len;
};

/* Use the link, take the data, queue the notice (one unit). */
static int
take_unit(struct daemon *d, void *arg, struct err *e)
{
	struct take_unit *u = arg;
	struct store_token t;

	free(u->data);
	u->data = NULL;
	u->len = 0;
	if (rl_check(d, u->token, u->now, &t, u->out, &u->data, &u->len,
	    e) == -1 || dir_token_use(d, t.hash, u->now, e) == -1 ||
	    dir_mail_recovery_notice(d, u->out->address, u->out->fpr, u->now,
	    u->lang, e) == -1)
		return -1;
	dir_note("recovery data of %s handed out through a link mailed to "
	    "%s", u->out->fpr, u->out->address);
	return 0;
}

int
dir_recovery_take(struct daemon *d, int64_t now, const char *token,
    size_t lang, struct dir_link *out, uint8_t **data, size_t *len,
    struct err *e)
{
	struct take_unit u = { token, now, lang, out, NULL, 0 };

	*data = NULL;
	*len = 0;
	if (dir_atomic(d, take_unit, &u, e) == -1) {
		free(u.data);
		return -1;
	}
	if (d->mailer)
		mailer_kick(d->mailer);
	*data = u.data;
	*len = u.len;
	return 0;
}
