/*
 * directory: uploads and verification requests.  Parsing (the costly part)
 * runs before the write transaction; merging with the stored version,
 * re-publishing and queueing mail run inside it.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "daemon.h"
#include "directory_int.h"
#include "buf.h"
#include "lang.h"
#include "log.h"
#include "mail.h"
#include "pgp.h"
#include "store.h"
#include "str.h"
#include "xmalloc.h"

/* Status names as VKS has them. */
const char *
addr_status_str(enum addr_status s)
{
	switch (s) {
	case ADDR_PENDING:
		return "pending";
	case ADDR_PUBLISHED:
		return "published";
	case ADDR_REVOKED:
		return "revoked";
	case ADDR_UNPUBLISHED:
		break;
	}
	return "unpublished";
}

/* Mail outcomes as the JSON answers name them. */
const char *
addr_mail_str(enum addr_mail m)
{
	switch (m) {
	case ADDR_MAIL_SENT:
		return "mailed";
	case ADDR_MAIL_RATE:
		return "rate_limited";
	case ADDR_MAIL_CAPPED:
		return "over_limit";
	case ADDR_MAIL_UNMAILABLE:
		return "unmailable";
	case ADDR_MAIL_NONE:
		break;
	}
	return "none";
}

/* Free what an upload result owns. */
void
dir_upload_release(struct dir_upload *out)
{
	free(out->token);
	free(out->addrs);
	free(out->fprs);
	memset(out, 0, sizeof(*out));
}

struct pgp_limits
dir_limits(const struct daemon *d)
{
	struct pgp_limits lim;

	lim.max_uids = d->cfg.max_uids;
	lim.max_subkeys = d->cfg.max_subkeys;
	lim.max_certs = d->cfg.max_certs;
	lim.stored = false;
	lim.max_key_bits = d->cfg.max_key_bits;
	lim.max_sig_checks = d->cfg.max_sig_checks;
	return lim;
}

/* True if address is on c and not revoked (a uid that is revoked may sit
 * beside one that is not). */
bool
dir_uid_live(const struct pgp_cert *c, const char *address)
{
	size_t i;

	for (i = 0; i < c->nuids; i++)
		if (!strcmp(c->uids[i].email, address) && !c->uids[i].revoked)
			return true;
	return false;
}

/* Unpublish addresses the (merged) key no longer carries alive. */
int
dir_prune(struct daemon *d, const struct pgp_cert *c, struct err *e)
{
	char **addrs = NULL;
	size_t n = 0, i;
	int rc = -1;

	if (store_addr_list(d->store, c->fpr, &addrs, &n, e) == -1)
		return -1;
	for (i = 0; i < n; i++) {
		if (!c->revoked && dir_uid_live(c, addrs[i]))
			continue;
		if (store_addr_del(d->store, addrs[i], e) == -1)
			goto out;
		dir_note("unpublished %s from %s (%s)", addrs[i], c->fpr,
		    c->revoked ? "key revoked" : "user ID gone or revoked");
	}
	rc = 0;
out:
	store_addrs_free(addrs, n);
	return rc;
}

/* Status of one address of c. */
static int
dir_status(struct daemon *d, const struct pgp_cert *c, const char *address,
    int64_t now, enum addr_status *st, struct err *e)
{
	char owner[FPR_LEN + 1];
	bool pending = false;
	int64_t last = 0;
	int rc;

	if (!dir_uid_live(c, address)) {
		*st = ADDR_REVOKED;
		return 0;
	}
	rc = store_addr_owner(d->store, address, owner, e);
	if (rc == -1)
		return -1;
	if (rc == 0 && !strcmp(owner, c->fpr)) {
		*st = ADDR_PUBLISHED;
		return 0;
	}
	/* pending while a live link exists and its mail is recent: after
	 * mail_rate the owner may ask for a new one (the mail got lost) */
	if (store_token_pending(d->store, c->fpr, address, now, &pending,
	    e) == -1 || (rc = store_rate_get(d->store, address, &last, e)) ==
	    -1)
		return -1;
	*st = pending && rc == 0 && now - last < d->cfg.mail_rate ?
	    ADDR_PENDING : ADDR_UNPUBLISHED;
	return 0;
}

/* Append address to out once. */
static struct dir_addr *
dir_add_addr(struct dir_upload *out, const char *address)
{
	size_t i;

	for (i = 0; i < out->naddrs; i++)
		if (!strcmp(out->addrs[i].address, address))
			return &out->addrs[i];
	out->addrs = xrealloc(out->addrs,
	    (out->naddrs + 1) * sizeof(*out->addrs));
	str_lcpy(out->addrs[out->naddrs].address, address, EMAIL_MAX + 1);
	out->addrs[out->naddrs].status = ADDR_UNPUBLISHED;
	out->addrs[out->naddrs].mail = ADDR_MAIL_NONE;
	out->addrs[out->naddrs].retry_at = 0;
	return &out->addrs[out->naddrs++];
}

/* Add the addresses of the key's user IDs to out. */
static void
dir_add_uids(const struct pgp_cert *c, struct dir_upload *out)
{
	size_t i;

	for (i = 0; i < c->nuids; i++)
		if (c->uids[i].email[0] != '\0')
			dir_add_addr(out, c->uids[i].email);
}

/* Add the addresses published for fpr to out. */
static int
dir_add_published(struct daemon *d, const char *fpr, struct dir_upload *out,
    struct err *e)
{
	char **addrs = NULL;
	size_t n = 0, i;

	if (store_addr_list(d->store, fpr, &addrs, &n, e) == -1)
		return -1;
	for (i = 0; i < n; i++)
		dir_add_addr(out, addrs[i]);
	store_addrs_free(addrs, n);
	return 0;
}

/* Whether o asks for a mail to address. */
static bool
dir_wanted(const struct dir_upload_opts *o, const char *address)
{
	size_t i;

	if (o == NULL || !o->request_all)
		return false;
	if (o->want == NULL)
		return true;
	for (i = 0; i < o->nwant; i++)
		if (!strcmp(o->want[i], address))
			return true;
	return false;
}

/*
 * The status of each address in out (a revoked key lists none), then a
 * confirmation for each one that is not published and that o asks a mail
 * for (none when o is NULL), in out's order, until max_mails_per_upload
 * went out: the rest are capped (a rate-limited address costs nothing).
 * out holds only addresses of this upload or request and those already
 * published, never other addresses the stored key carries.
 */
static int
dir_statuses(struct daemon *d, const struct pgp_cert *c,
    const struct dir_upload_opts *o, int64_t now, struct dir_upload *out,
    struct err *e)
{
	size_t cap = d->cfg.max_mails_per_upload;
	struct dir_addr *a;
	size_t i;
	int rc;

	if (c->revoked) {
		out->naddrs = 0;
		return 0;
	}
	for (i = 0; i < out->naddrs; i++) {
		a = &out->addrs[i];
		if (dir_status(d, c, a->address, now, &a->status, e) == -1)
			return -1;
		/* pending: a mail went out within mail_rate, so this one is
		 * rate limited, which says until when */
		if (!dir_wanted(o, a->address) || (a->status !=
		    ADDR_UNPUBLISHED && a->status != ADDR_PENDING))
			continue;
		if ((rc = dir_send_confirm(d, c, a, now, o,
		    cap != 0 && out->nmails >= cap, e)) == -1)
			return -1;
		out->nmails += (size_t)rc;
		out->ncapped += a->mail == ADDR_MAIL_CAPPED;
	}
	if (out->ncapped)
		dir_note("%zu confirmation(s) for %s not mailed: "
		    "max_mails_per_upload (%zu) reached", out->ncapped, c->fpr,
		    cap);
	return 0;
}

/*
 * Merge c with the stored version (if any) and store the result: *res is
 * c for a new key, else merged (which the caller releases); c is left as
 * it was, so a unit that runs again starts from the upload.  pub, when
 * not empty, is c's published form without addresses, made before the
 * transaction: a new key is then stored without calling librnp under the
 * writer lock (taking pub's contents).
 */
static int
dir_store_cert(struct daemon *d, const struct pgp_cert *c, struct buf *pub,
    int64_t now, const char *client, struct pgp_cert *merged,
    const struct pgp_cert **res, int64_t *retry, struct err *e)
{
	struct store_cert old, sc;
	struct pgp_limits lim = dir_limits(d);
	int rc;

	*res = c;
	memset(&old, 0, sizeof(old));
	rc = store_cert_get(d->store, c->fpr, &old, e);
	if (rc == -1)
		return -1;
	if (rc == 1) {
		/* a new key, so no address yet; stored by client */
		if (dir_client_cap(d, client, now, retry, e) == -1)
			return -1;
		if (pub != NULL && pub->len > 0)
			rc = dir_publish_fill(c, NULL, 0, pub, &sc, e);
		else
			rc = dir_publish_build(c, NULL, 0, &sc, e);
		if (rc == -1)
			return -1;
		sc.updated = now;
		str_lcpy(sc.client, client != NULL ? client : "",
		    sizeof(sc.client));
		rc = store_cert_put(d->store, &sc, e);
		dir_publish_release(&sc);
	} else {
		rc = dir_merge_stored(d, &old, c, &lim, merged, e);
		store_cert_release(&old);
		if (rc == -1)
			return -1;
		*res = merged;
		rc = dir_republish(d, *res, now, e);
	}
	return rc == 0 ? dir_room(d, c->fpr, e) : -1;
}

/* Merge with the stored version; prune what the result lost. */
int
dir_merge_stored(struct daemon *d, const struct store_cert *old,
    const struct pgp_cert *c, const struct pgp_limits *lim,
    struct pgp_cert *merged, struct err *e)
{
	memset(merged, 0, sizeof(*merged));
	if (pgp_merge(old->full, old->full_len, c->full, c->full_len, lim,
	    merged, e) == -1)
		return -1;
	if (dir_prune(d, merged, e) == -1) {
		pgp_cert_release(merged);
		return -1;
	}
	return 0;
}

/* Store several certs from one upload: no session, no mail. */
static int
dir_upload_many(struct daemon *d, const struct pgp_cert *certs, size_t n,
    int64_t now, const char *client, struct dir_upload *out,
    int64_t *retry, struct err *e)
{
	size_t i;

	const struct pgp_cert *res;
	struct pgp_cert merged;
	int rc;

	out->fprs = xcalloc(n, sizeof(*out->fprs));
	for (i = 0; i < n; i++) {
		memset(&merged, 0, sizeof(merged));
		rc = dir_store_cert(d, &certs[i], NULL, now, client, &merged,
		    &res, retry, e);
		pgp_cert_release(&merged);
		if (rc == -1)
			return -1;
		str_lcpy(out->fprs[i], certs[i].fpr, sizeof(out->fprs[i]));
	}
	out->nfprs = n;
	return 0;
}

/* Remember the upload's bytes and its own addresses (those in out before
 * published ones are added), each live while the merged key c carries it
 * in a user ID that is not revoked. */
static int
dir_upload_mark(struct daemon *d, const struct pgp_cert *c,
    const uint8_t *hash, const struct dir_upload *out, size_t n,
    struct err *e)
{
	struct store_upload_addr *a = xcalloc(n ? n : 1, sizeof(*a));
	size_t i;
	int rc;

	for (i = 0; i < n; i++) {
		a[i].address = out->addrs[i].address;
		a[i].live = !c->revoked &&
		    dir_uid_live(c, out->addrs[i].address);
	}
	rc = store_upload_mark(d->store, out->fpr, hash, a, n, e);
	free(a);
	return rc;
}

/*
 * The same bytes as the key's last upload: answer from the store without
 * parsing or writing anything.  1 when these bytes are new.
 */
static int
dir_upload_again(struct daemon *d, const uint8_t *hash, int64_t now,
    struct dir_upload *out, struct err *e)
{
	static const enum addr_status map[] = { ADDR_UNPUBLISHED,
	    ADDR_PENDING, ADDR_PUBLISHED, ADDR_REVOKED };
	struct store_upload_view v;
	size_t i;
	int rc;

	rc = store_upload_view(d->store, hash, now, now - d->cfg.mail_rate,
	    &v, e);
	if (rc != 0)
		return rc;
	str_lcpy(out->fpr, v.fpr, sizeof(out->fpr));
	out->revoked = v.revoked;
	/* the session covers the upload's own addresses, as on first upload */
	for (i = 0; i < v.nupload && !v.revoked; i++)
		dir_add_addr(out, v.addrs[i].address)->status =
		    map[v.addrs[i].status];
	rc = dir_session_seal(d, out->fpr, now, out, e);
	for (i = v.nupload; i < v.naddrs && !v.revoked; i++)
		dir_add_addr(out, v.addrs[i].address)->status =
		    map[v.addrs[i].status];
	store_upload_view_release(&v);
	if (rc == -1)
		dir_upload_release(out);
	return rc;
}

/*
 * Parse an upload.  One cert (the usual case) is parsed and published
 * without addresses in one librnp pass, outside any transaction; several
 * certs go through pgp_parse.
 */
static int
dir_parse(const uint8_t *data, size_t len, const struct pgp_limits *lim,
    struct pgp_cert **certs, size_t *n, struct buf *pub, struct err *e)
{
	struct pgp_cert one;

	int rc = pgp_parse_publish(data, len, lim, NULL, 0, &one, pub, e);

	if (rc == 0) {
		*certs = xmalloc(sizeof(**certs));
		**certs = one;
		*n = 1;
		return 0;
	}
	if (rc == -1)
		return -1;
	buf_reset(pub);
	return pgp_parse(data, len, lim, certs, n, e);
}

/* What one run of an upload's unit of work needs and fills. */
struct upload_unit {
	struct pgp_cert *certs;
	size_t n;
	struct buf *pub;
	const uint8_t *hash;
	const struct dir_upload_opts *o;
	int64_t now;
	char (*own)[EMAIL_MAX + 1];	/* the upload's own addresses */
	size_t nown;
	struct dir_upload *out;
	struct pgp_cert merged;	/* this run's merge with the stored key */
	int64_t retry;		/* ERR_RATE: out->retry_after */
};

/* Store the upload and its session, mails and mark (one unit). */
static int
upload_unit(struct daemon *d, void *arg, struct err *e)
{
	struct upload_unit *u = arg;
	struct dir_upload *out = u->out;
	const struct pgp_cert *c;
	size_t i;
	int rc;

	/* a run starts over from the upload: certs and what pub holds are
	 * inputs (pub is used up by the first run that stores a new key; a
	 * later run makes the published form again) */
	dir_upload_release(out);
	pgp_cert_release(&u->merged);
	/* a signed submission counts once, with everything it does */
	if (u->o->nonce != NULL && (rc = store_nonce_use(d->store, u->o->nonce,
	    u->o->nonce_until, e)) != 0)
		return rc == 1 ? err_set(e, ERR_CONFLICT, "This submission was "
		    "already accepted.") : -1;
	if (u->n > 1)
		return dir_upload_many(d, u->certs, u->n, u->now, u->o->client,
		    out, &u->retry, e);
	for (i = 0; i < u->nown; i++)
		dir_add_addr(out, u->own[i]);
	if ((rc = dir_store_cert(d, &u->certs[0], u->pub, u->now,
	    u->o->client, &u->merged, &c, &u->retry, e)) == -1)
		return -1;
	str_lcpy(out->fpr, c->fpr, sizeof(out->fpr));
	out->revoked = c->revoked;
	/* out holds the upload's own addresses until published ones are
	 * added: the session and the mark cover just those */
	rc = dir_session_seal(d, out->fpr, u->now, out, e);
	if (rc == 0)
		rc = dir_add_published(d, out->fpr, out, e);
	if (rc == 0)
		rc = dir_statuses(d, c, u->o, u->now, out, e);
	if (rc == 0)
		rc = dir_upload_mark(d, c, u->hash, out, u->nown, e);
	if (rc == 0 && u->o->recovery != NULL && (rc = store_recovery_put(
	    d->store, c->fpr, u->o->recovery, u->o->recovery_len, u->now,
	    e)) == 1)
		rc = err_set(e, ERR_INTERNAL, "key %s vanished", c->fpr);
	return rc;
}

/* Take an upload. */
int
dir_upload(struct daemon *d, int64_t now, const uint8_t *data, size_t len,
    bool request_all, const char *client, struct dir_upload *out,
    struct err *e)
{
	struct dir_upload_opts o;

	memset(&o, 0, sizeof(o));
	o.client = client;
	o.request_all = request_all;
	return dir_upload_with(d, now, data, len, &o, out, e);
}

/* Take an upload, with what o asks for; see directory_int.h. */
int
dir_upload_with(struct daemon *d, int64_t now, const uint8_t *data,
    size_t len, const struct dir_upload_opts *o, struct dir_upload *out,
    struct err *e)
{
	struct pgp_limits lim = dir_limits(d);
	struct pgp_cert *certs = NULL;
	uint8_t hash[crypto_hash_sha256_BYTES];
	struct upload_unit u;
	struct buf pub;
	size_t n = 0, i;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	crypto_hash_sha256(hash, data, len);
	if (!o->request_all && (rc = dir_upload_again(d, hash, now, out,
	    e)) != 1)
		return rc;
	buf_init(&pub, KEY_MAX);
	if (dir_parse(data, len, &lim, &certs, &n, &pub, e) == -1) {
		buf_release(&pub);
		return -1;
	}
	/* user IDs with line breaks or other control characters were
	 * refused by pgp_parse, before they could reach mail or HKP lines */
	memset(&u, 0, sizeof(u));
	u.certs = certs;
	u.n = n;
	u.pub = &pub;
	u.hash = hash;
	u.o = o;
	u.now = now;
	u.out = out;
	if (n == 1) {
		/* the upload's own addresses, before merging adds others
		 * (a run again starts from the merged key) */
		dir_add_uids(&certs[0], out);
		u.nown = out->naddrs;
		u.own = xcalloc(u.nown ? u.nown : 1, sizeof(*u.own));
		for (i = 0; i < u.nown; i++)
			str_lcpy(u.own[i], out->addrs[i].address,
			    sizeof(u.own[i]));
	}
	rc = dir_atomic(d, upload_unit, &u, e);
	pgp_cert_release(&u.merged);
	free(u.own);
	if (rc == 0 && out->nmails && d->mailer)
		mailer_kick(d->mailer);
	if (rc == 0)
		log_info("upload of %s: %zu address(es), %zu mail(s)",
		    n > 1 ? "several keys" : out->fpr, out->naddrs,
		    out->nmails);
	pgp_certs_free(certs, n);
	buf_release(&pub);
	if (rc == -1) {
		dir_upload_release(out);
		if (e != NULL && e->code == ERR_RATE)
			out->retry_after = u.retry;
	}
	return rc;
}

/* Load and parse the stored cert fpr (inside a transaction). */
int
dir_load(struct daemon *d, const char *fpr, struct pgp_cert *c,
    struct err *e)
{
	struct pgp_limits lim = dir_limits(d);
	struct store_cert sc;
	struct pgp_cert *certs = NULL;
	size_t n = 0;
	int rc;

	memset(&sc, 0, sizeof(sc));
	rc = store_cert_get(d->store, fpr, &sc, e);
	if (rc == 1)
		return err_set(e, ERR_GONE, "%s",
		    N_("This key is no longer here."));
	if (rc == -1)
		return -1;
	lim.max_certs = 1;
	lim.stored = true;
	rc = pgp_parse(sc.full, sc.full_len, &lim, &certs, &n, e);
	store_cert_release(&sc);
	if (rc == -1)
		return -1;
	*c = certs[0];
	free(certs);
	return 0;
}

/* Inside the transaction: reload c if its stored form changed since it
 * was parsed outside (a merge in between). */
int
dir_recheck(struct daemon *d, struct pgp_cert *c, struct err *e)
{
	struct store_cert sc;
	char fpr[FPR_LEN + 1];
	bool same;
	int rc;

	memset(&sc, 0, sizeof(sc));
	rc = store_cert_get(d->store, c->fpr, &sc, e);
	if (rc == 1)
		return err_set(e, ERR_GONE, "%s",
		    N_("This key is no longer here."));
	if (rc == -1)
		return -1;
	same = sc.full_len == c->full_len &&
	    memcmp(sc.full, c->full, sc.full_len) == 0;
	store_cert_release(&sc);
	if (same)
		return 0;
	str_lcpy(fpr, c->fpr, sizeof(fpr));
	pgp_cert_release(c);
	return dir_load(d, fpr, c, e);
}

/* Add the requested addresses, each one the session allows. */
static int
dir_add_requested(struct daemon *d, const char *token,
    const char *const *addresses, size_t n, int64_t now,
    struct dir_upload *out, struct err *e)
{
	char norm[EMAIL_MAX + 1], fpr[FPR_LEN + 1];
	size_t i;

	for (i = 0; i < n; i++) {
		if (email_normalize(addresses[i], norm, sizeof(norm), e) == -1 ||
		    dir_session_open(d, token, now, fpr, norm, e) == -1)
			return -1;
		dir_add_addr(out, norm);
	}
	return 0;
}

/* What one run of request-verify's unit of work needs and fills. */
struct verify_req_unit {
	struct pgp_cert *c;	/* parsed before the transaction */
	const char *token;
	const char *const *addresses;
	size_t n;
	size_t lang;
	int64_t now;
	struct dir_upload *out;
};

/* Re-check the key, then mail each requested address (one unit). */
static int
verify_req_unit(struct daemon *d, void *arg, struct err *e)
{
	struct verify_req_unit *u = arg;
	struct dir_upload *out = u->out;

	dir_upload_release(out);	/* a run starts over */
	if (dir_recheck(d, u->c, e) == -1)
		return -1;
	str_lcpy(out->fpr, u->c->fpr, sizeof(out->fpr));
	out->token = xstrdup(u->token);
	out->revoked = u->c->revoked;
	if (u->c->revoked)
		return err_set(e, ERR_INVALID, "%s",
		    N_("This key is revoked."));
	if (dir_add_requested(d, u->token, u->addresses, u->n, u->now, out,
	    e) == -1 || dir_add_published(d, u->c->fpr, out, e) == -1)
		return -1;
	{
		const struct dir_upload_opts all = { .request_all = true,
		    .lang = u->lang };

		return dir_statuses(d, u->c, &all, u->now, out, e);
	}
}

/* VKS request-verify. */
int
dir_request_verify(struct daemon *d, int64_t now, const char *token,
    const char *const *addresses, size_t n, size_t lang,
    struct dir_upload *out, struct err *e)
{
	struct verify_req_unit u;
	struct pgp_cert c;
	char fpr[FPR_LEN + 1];
	int rc;

	memset(out, 0, sizeof(*out));
	memset(&c, 0, sizeof(c));
	if (dir_session_open(d, token, now, fpr, NULL, e) == -1)
		return -1;
	/* parse in a read transaction, outside the writer's lock; inside,
	 * only check that the key did not change meanwhile */
	if (store_begin_read(d->store, e) == -1)
		return -1;
	rc = dir_load(d, fpr, &c, e);
	store_rollback(d->store);
	if (rc == -1)
		return -1;
	u.c = &c;
	u.token = token;
	u.addresses = addresses;
	u.n = n;
	u.lang = lang;
	u.now = now;
	u.out = out;
	rc = dir_atomic(d, verify_req_unit, &u, e);
	pgp_cert_release(&c);
	if (rc == 0 && out->nmails && d->mailer)
		mailer_kick(d->mailer);
	if (rc == -1)
		dir_upload_release(out);
	return rc;
}
