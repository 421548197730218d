/*
 * directory_mail: the mails the directory sends, composed and put in the
 * outbox inside the caller's transaction.  Each carries what its reader
 * needs to decide: the key (attached as it would be published), the
 * fingerprint in groups of four, and a link whose GET only shows a page.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "daemon.h"
#include "directory_int.h"
#include "lang.h"
#include "log.h"
#include "mail.h"
#include "pgp.h"
#include "store.h"


/* Fingerprint in groups of four, as people compare them. */
static void
fpr_groups(const char *fpr, char *out, size_t sz)
{
	size_t i, o = 0;

	for (i = 0; fpr[i] && o + 2 < sz; i++) {
		if (i && i % 4 == 0)
			out[o++] = ' ';
		out[o++] = fpr[i];
	}
	out[o] = '\0';
}

/* A unix time as people read it. */
void
dir_when_str(int64_t t, char *out, size_t sz)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(out, sz, "%Y-%m-%d %H:%M UTC", &tm);
}

/*
 * Log a queued link.  The link itself is logged only when mail stays on
 * this machine (the default Maildir set-up); with SMTP it exists only in
 * the mail.
 */
void
dir_log_link(struct daemon *d, const char *what, const char *addr,
    const char *fpr, const char *path, const char *tok)
{
	if (d->cfg.smtp_url[0] == '\0')
		dir_note("%s link for %s (key %s): %s/%s/%s", what, addr, fpr,
		    d->cfg.base_url, path, tok);
	else
		dir_note("%s mail for %s (key %s) queued", what, addr, fpr);
}

/* Compose and queue one mail to `to`. */
static int
queue(struct daemon *d, const char *to, const char *subject,
    const struct buf *body, const struct mail_att *atts, size_t natts,
    int64_t now, struct err *e)
{
	struct mail_spec m;
	struct buf msg;
	int rc = -1;

	if (buf_failed(body))
		return err_set(e, ERR_INTERNAL, "mail to %s: the text does not "
		    "fit its buffer", to);

	buf_init(&msg, 3 * KEY_MAX);
	memset(&m, 0, sizeof(m));
	m.from = d->cfg.mail_from;
	m.to = to;
	m.subject = subject;
	m.body = body->data;
	m.atts = atts;
	m.natts = natts;
	m.date = now;
	/* due at once, whatever now is (`keydird maintain --now` may run
	 * ahead of the clock) */
	if (mail_compose(&m, &msg, e) == 0)
		rc = store_outbox_add(d->store, to, msg.data, msg.len, now, e);
	buf_release(&msg);
	return rc;
}

/* The replacement paragraph: the address's current key, named. */
static void
prior_text(const struct store_cert *prev, size_t lang, struct buf *b)
{
	char groups[64], when[64];

	fpr_groups(prev->fpr, groups, sizeof(groups));
	dir_when_str(prev->created, when, sizeof(when));
	buf_printf(b, lang_fmt(lang, N_(
	    "This address is published now with ANOTHER key:\n\n"
	    "  %s\n"
	    "  (created %s, attached as %s.asc)\n\n"
	    "Confirming REPLACES that key with the new one for this\n"
	    "address.  The old key stays findable by its fingerprint,\n"
	    "without this address.\n\n")), groups, when, prev->keyid);
}

/* Mail a confirmation request for address; prev (the current key of the
 * address, looked up here) is named and attached too. */
int
dir_mail_confirm(struct daemon *d, const struct pgp_cert *c,
    const char *addr, const char *tok, int64_t now, int64_t expires,
    bool signed_by_key, size_t lang, struct err *e)
{
	const char *one[1] = { addr };
	char groups[64], when[64], owner[FPR_LEN + 1];
	char fname[2][32];
	struct mail_att att[2];
	struct store_cert prev;
	struct buf key, body;
	size_t natt = 1;
	int rc = -1, has_prev;

	memset(&prev, 0, sizeof(prev));
	buf_init(&key, KEY_MAX);
	buf_init(&body, 64 * 1024);
	has_prev = store_addr_owner(d->store, addr, owner, e);
	if (has_prev == 0 && strcmp(owner, c->fpr) != 0)
		has_prev = store_cert_get(d->store, owner, &prev, e);
	else if (has_prev == 0)
		has_prev = 1;
	if (has_prev == -1 ||
	    pgp_publish(c->full, c->full_len, one, 1, &key, e) == -1)
		goto out;
	fpr_groups(c->fpr, groups, sizeof(groups));
	dir_when_str(expires, when, sizeof(when));
	buf_printf(&body, lang_fmt(lang, N_("Hello,\n\nsomeone asked the "
	    "key directory at %s\nto publish this OpenPGP key for the "
	    "address %s:\n\n  %s\n\nThe key is attached to this mail as it "
	    "would be published\n(%s.asc).\n\n")), d->cfg.base_url, addr,
	    groups, c->keyid);
	if (signed_by_key)
		buf_addstr(&body, lang_tr(lang, N_("The request was signed "
		    "by this key itself and sent encrypted\nto the directory: "
		    "whoever sent it holds the key's secret part.\n\n")));
	if (has_prev == 0)
		prior_text(&prev, lang, &body);
	buf_printf(&body, lang_fmt(lang, N_("If it is yours and you want "
	    "people to find it by\nthis address, open this link and press "
	    "the button there:\n\n%s/verify/%s\n\nNothing is published "
	    "until you press the button.  The link\nworks once and expires "
	    "on %s.\n\nIf this was not you, ignore this mail, or use the "
	    "same page\nto discard the request.\n")), d->cfg.base_url, tok,
	    when);
	snprintf(fname[0], sizeof(fname[0]), "%s.asc", c->keyid);
	att[0] = (struct mail_att){ fname[0], "application/pgp-keys",
	    key.data, key.len };
	if (has_prev == 0) {
		snprintf(fname[1], sizeof(fname[1]), "%s.asc", prev.keyid);
		att[1] = (struct mail_att){ fname[1], "application/pgp-keys",
		    prev.published, prev.published_len };
		natt = 2;
	}
	rc = queue(d, addr, has_prev == 0 ? lang_tr(lang, N_("Confirm the "
	    "new key for this address")) : lang_tr(lang, N_("Confirm your "
	    "key for this address")), &body, att, natt, now, e);
out:
	store_cert_release(&prev);
	buf_release(&key);
	buf_release(&body);
	return rc;
}

/* Tell address that its key changed from old_fpr to new_fpr. */
int
dir_mail_replaced(struct daemon *d, const char *addr, const char *new_fpr,
    const char *old_fpr, int64_t now, size_t lang, struct err *e)
{
	char g_new[64], g_old[64];
	struct buf body;
	int rc;

	fpr_groups(new_fpr, g_new, sizeof(g_new));
	fpr_groups(old_fpr, g_old, sizeof(g_old));
	buf_init(&body, 64 * 1024);
	buf_printf(&body, lang_fmt(lang, N_("Hello,\n\nthe key directory at "
	    "%s now publishes\nthis key for the address %s:\n\n  %s\n\nIt "
	    "was:\n\n  %s\n\nThe change was confirmed from this mailbox.  "
	    "If you did not\ndo this, someone can read your mail: secure the "
	    "mailbox, then\nupload your own key again and confirm it.\n")),
	    d->cfg.base_url, addr, g_new, g_old);
	rc = queue(d, addr, lang_tr(lang, N_("Your key for this address was "
	    "replaced")), &body, NULL, 0, now, e);
	buf_release(&body);
	return rc;
}

/* Mail a link that removes address from its key (lost keys). */
int
dir_mail_manage(struct daemon *d, const char *addr, const char *fpr,
    const char *tok, int64_t now, int64_t expires, size_t lang,
    struct err *e)
{
	char groups[64], when[64];
	struct buf body;
	int rc;

	fpr_groups(fpr, groups, sizeof(groups));
	dir_when_str(expires, when, sizeof(when));
	buf_init(&body, 64 * 1024);
	buf_printf(&body, lang_fmt(lang, N_("Hello,\n\nsomeone asked the "
	    "key directory at %s\nto remove the address %s from the key\n\n"
	    "  %s\n\nTo remove it, open this link and press the button "
	    "there:\n\n%s/manage/%s\n\nThe key stays findable by its "
	    "fingerprint, without this\naddress.  The link works once and "
	    "expires on %s.\n\nIf this was not you, ignore this mail: "
	    "nothing changes.\n")), d->cfg.base_url, addr, groups,
	    d->cfg.base_url, tok, when);
	rc = queue(d, addr, lang_tr(lang, N_("Remove your address from the "
	    "key directory")), &body, NULL, 0, now, e);
	if (rc == 0)
		dir_log_link(d, "removal", addr, fpr, "manage", tok);
	buf_release(&body);
	return rc;
}

/* Ask address whether fpr is still its key. */
int
dir_mail_reverify(struct daemon *d, const char *addr,
    const struct store_cert *c, const char *tok, int64_t now,
    int64_t expires, struct err *e)
{
	char groups[64], when[64], fname[32];
	struct mail_att att;
	struct buf body;
	int rc;

	fpr_groups(c->fpr, groups, sizeof(groups));
	dir_when_str(expires, when, sizeof(when));
	buf_init(&body, 64 * 1024);
	buf_printf(&body, "Hello,\n\nthe key directory at %s publishes\n"
	    "this key for the address %s:\n\n  %s\n\n"
	    "Is it still your valid key?  Answer on this page (it has a\n"
	    "button for yes and one for \"no longer valid\"):\n\n"
	    "%s/reverify/%s\n\nWithout an answer by %s the address is\n"
	    "unpublished; the key stays findable by its fingerprint.\n",
	    d->cfg.base_url, addr, groups, d->cfg.base_url, tok, when);
	snprintf(fname, sizeof(fname), "%s.asc", c->keyid);
	att = (struct mail_att){ fname, "application/pgp-keys", c->published,
	    c->published_len };
	rc = queue(d, addr, "Is this still your key?", &body, &att, 1,
	    now, e);
	if (rc == 0)
		dir_log_link(d, "re-verification", addr, c->fpr, "reverify",
		    tok);
	buf_release(&body);
	return rc;
}

/* A recovery link: the owner of addr asked for fpr's recovery data. */
int
dir_mail_recovery(struct daemon *d, const char *addr, const char *fpr,
    const char *tok, int64_t now, int64_t expires, size_t lang,
    struct err *e)
{
	char groups[64], when[64];
	struct buf body;
	int rc;

	fpr_groups(fpr, groups, sizeof(groups));
	dir_when_str(expires, when, sizeof(when));
	buf_init(&body, 64 * 1024);
	buf_printf(&body, lang_fmt(lang, N_("Hello,\n\nsomeone asked the "
	    "key directory at %s\nfor the key recovery data kept for the key"
	    "\n\n  %s\n\npublished for %s.  To download it, open this link "
	    "and press\nthe button there:\n\n%s/recovery/%s\n\nThe link "
	    "works once and expires on %s.  The data is sealed:\nonly the "
	    "answers or the recovery code chosen when it was made\nopen it."
	    "\n\nIf this was not you, ignore this mail: nothing is handed "
	    "out.\n")), d->cfg.base_url, groups, addr, d->cfg.base_url, tok,
	    when);
	rc = queue(d, addr, lang_tr(lang, N_("Your key recovery data")),
	    &body, NULL, 0, now, e);
	if (rc == 0)
		dir_log_link(d, "recovery", addr, fpr, "recovery", tok);
	buf_release(&body);
	return rc;
}

/* The notice after a hand-out. */
int
dir_mail_recovery_notice(struct daemon *d, const char *addr,
    const char *fpr, int64_t now, size_t lang, struct err *e)
{
	char groups[64], when[64];
	struct buf body;
	int rc;

	fpr_groups(fpr, groups, sizeof(groups));
	dir_when_str(now, when, sizeof(when));
	buf_init(&body, 64 * 1024);
	buf_printf(&body, lang_fmt(lang, N_("Hello,\n\nthe key directory at "
	    "%s handed out the key recovery\ndata of the key\n\n  %s\n\n"
	    "through a link mailed to %s, on %s.\n\nIf this was not you, "
	    "someone can read this mailbox: the data\nis still sealed by your "
	    "answers or recovery code, but change\nyour mail password and "
	    "consider a new key.\n")), d->cfg.base_url, groups, addr, when);
	rc = queue(d, addr, lang_tr(lang, N_("Your key recovery data was "
	    "downloaded")), &body, NULL, 0, now, e);
	buf_release(&body);
	return rc;
}

/*
 * The Web Key Service's confirmation request for address of c (draft-
 * koch-openpgp-webkey-service 4.2): a text for people, and the request
 * itself (sender, address, fingerprint, nonce tok) encrypted to c, so
 * that only the key's holder reads the nonce; the two signed by the
 * server key, as gpg-wks-server sends it.  gpg-wks-client --receive
 * answers it.
 */
int
dir_mail_wks_request(struct daemon *d, const struct pgp_cert *c,
    const char *addr, const char *tok, int64_t now, int64_t expires,
    struct err *e)
{
	char groups[64], when[64], owner[FPR_LEN + 1];
	struct store_cert prev;
	struct buf text, req, payload, entity, sig, msg;
	struct mail_spec m;
	int rc = -1, has_prev;

	memset(&prev, 0, sizeof(prev));
	buf_init(&text, 64 * 1024);
	buf_init(&req, 4096);
	buf_init(&payload, 64 * 1024);
	buf_init(&entity, 256 * 1024);
	buf_init(&sig, 64 * 1024);
	buf_init(&msg, 512 * 1024);
	if (d->server_key == NULL) {
		err_set(e, ERR_INTERNAL, "wks: no server key to sign with");
		goto out;
	}
	has_prev = store_addr_owner(d->store, addr, owner, e);
	if (has_prev == 0 && strcmp(owner, c->fpr) != 0)
		has_prev = store_cert_get(d->store, owner, &prev, e);
	else if (has_prev == 0)
		has_prev = 1;
	if (has_prev == -1)
		goto out;
	fpr_groups(c->fpr, groups, sizeof(groups));
	dir_when_str(expires, when, sizeof(when));
	buf_printf(&text, "Hello,\n\nsomeone asked the key directory at %s\n"
	    "through the Web Key Service to publish this OpenPGP key for\n"
	    "the address %s:\n\n  %s\n\n", d->cfg.base_url, addr, groups);
	if (has_prev == 0) {
		char pg[64], pw[64];

		/* the link mail's paragraph, without its attachment */
		fpr_groups(prev.fpr, pg, sizeof(pg));
		dir_when_str(prev.created, pw, sizeof(pw));
		buf_printf(&text, "This address is published now with ANOTHER "
		    "key:\n\n  %s\n  (created %s)\n\nConfirming REPLACES "
		    "that key with the new one for this\naddress.  The old key "
		    "stays findable by its fingerprint,\nwithout this address."
		    "\n\n", pg, pw);
	}
	buf_printf(&text, "If it is yours, your mail program (gpg-wks-client "
	    "--receive)\nanswers this mail: the request in it is encrypted "
	    "to the key,\nso the answer also proves you hold its secret "
	    "part.  Nothing\nis published before.  The request expires on "
	    "%s.\n\nIf this was not you, ignore this mail.\n", when);
	buf_printf(&req, "type: confirmation-request\nsender: %s\n"
	    "address: %s\nfingerprint: %s\nnonce: %s\n",
	    d->cfg.submission_address, addr, c->fpr, tok);
	if (buf_failed(&text) || buf_failed(&req)) {
		err_set(e, ERR_INTERNAL, "wks: the request does not fit");
		goto out;
	}
	if (pgp_encrypt_to(c->full, c->full_len, (const uint8_t *)req.data,
	    req.len, &payload, e) == -1 || buf_addch(&payload, '\0') == -1 ||
	    mail_wks_entity(text.data, payload.data, &entity, e) == -1 ||
	    buf_addch(&entity, '\0') == -1 ||
	    pgp_serverkey_sign(d->server_key->secret,
	    d->server_key->secret_len, entity.data, &sig, e) == -1 ||
	    buf_addch(&sig, '\0') == -1)
		goto out;
	memset(&m, 0, sizeof(m));
	m.from = d->cfg.submission_address;
	m.to = addr;
	m.subject = has_prev == 0 ? "Confirm the new key for this address" :
	    "Confirm your key publication";
	m.date = now;
	if (mail_compose_signed(&m, "confirm", entity.data, sig.data, &msg,
	    e) == 0)
		rc = store_outbox_add(d->store, addr, msg.data, msg.len, now,
		    e);
out:
	store_cert_release(&prev);
	buf_release(&text);
	buf_release(&req);
	buf_release(&payload);
	buf_release(&entity);
	buf_release(&sig);
	buf_release(&msg);
	return rc;
}

/* After a confirmation through the Web Key Service: it is published. */
int
dir_mail_wks_done(struct daemon *d, const char *addr, const char *fpr,
    int64_t now, struct err *e)
{
	char groups[64];
	struct buf body;
	int rc;

	fpr_groups(fpr, groups, sizeof(groups));
	buf_init(&body, 64 * 1024);
	buf_printf(&body, "Hello,\n\nthe key directory at %s now publishes\n"
	    "this key for the address %s:\n\n  %s\n\nIt is found by this "
	    "address, in the Web Key Directory too.\n", d->cfg.base_url,
	    addr, groups);
	rc = queue(d, addr, "Your key has been published", &body, NULL, 0,
	    now, e);
	buf_release(&body);
	return rc;
}
