/*
 * h_verify: the confirmation link.  GET shows what confirming does and
 * changes nothing (mail scanners follow links); POST to the link publishes,
 * POST to LINK/reject discards.  Also the front page.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "daemon.h"
#include "directory.h"
#include "handlers.h"
#include "str.h"
#include "views.h"


/* The confirmation form; changed says the state moved since the page
 * the user confirmed from. */
static void
verify_page(struct daemon *d, const char *tok, const struct dir_verify *v,
    bool changed, struct resp *w)
{
	struct buf b;
	char when[64];
	time_t t = (time_t)v->expires;
	struct tm tm;
	size_t i;

	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M UTC", &tm);
	buf_init(&b, 256 * 1024);
	if (changed)
		buf_addstr(&b, "<p><strong>Nothing was published: what "
		    "confirming does has changed since the page you "
		    "confirmed from was shown.</strong> Check it again below."
		    "</p>\n");
	buf_addstr(&b, "<p>Publish the OpenPGP key <code>");
	view_html_escape(&b, v->fpr);
	buf_addstr(&b, "</code> for the address <strong>");
	view_html_escape(&b, v->address);
	buf_addstr(&b, "</strong>?</p>\n<p>Once you confirm, anyone can find "
	    "this key by this address, with GnuPG, Sequoia, OpenPGP.js, "
	    "Thunderbird and other clients.</p>\n");
	if (v->prev_fpr[0]) {
		buf_addstr(&b, "<p>This address is now published with the key "
		    "<code>");
		view_html_escape(&b, v->prev_fpr);
		buf_addstr(&b, "</code>. Confirming <strong>replaces</strong> "
		    "that key for this address; it stays findable by its "
		    "fingerprint without this address.</p>\n");
	}
	for (i = 0; i < v->nothers; i++) {
		buf_addstr(&b, "<p>This directory keeps one address per key: "
		    "confirming <strong>unpublishes</strong> ");
		view_html_escape(&b, v->others[i]);
		buf_addstr(&b, " from this key.</p>\n");
	}
	buf_addstr(&b, "<form method=\"post\" action=\"");
	view_html_escape(&b, d->cfg.base_url);
	buf_addstr(&b, "/verify/");
	view_html_escape(&b, tok);
	buf_addstr(&b, "\"><input type=\"hidden\" name=\"effects\" "
	    "value=\"");
	view_html_escape(&b, v->effects);
	buf_addstr(&b, "\"><button type=\"submit\">Confirm and publish"
	    "</button></form>\n<form method=\"post\" action=\"");
	view_html_escape(&b, d->cfg.base_url);
	buf_addstr(&b, "/verify/");
	view_html_escape(&b, tok);
	buf_printf(&b, "/reject\"><button type=\"submit\">This was not me: "
	    "discard the request</button></form>\n<p>The link works once "
	    "and expires on %s.</p>", when);
	view_page(w, 200, "Confirm your key", &b);
	buf_release(&b);
}

/* GET /verify/TOKEN */
void
h_verify_get(struct daemon *d, struct req *r, struct resp *w,
    const char *rest)
{
	struct dir_verify v;
	struct err e;
	char tok[VIEW_TOKEN_MAX];
	bool reject;

	(void)r;
	if (view_link_token(rest, "reject", tok, sizeof(tok), &reject) == -1) {
		err_set(&e, ERR_NOTFOUND, "This confirmation link is not "
		    "valid. Check that you copied all of it.");
		view_link_error(w, &e);
		return;
	}
	if (dir_verify_show(d, time(NULL), tok, &v, &e) == -1)
		view_link_error(w, &e);
	else
		verify_page(d, tok, &v, false, w);
	dir_verify_release(&v);
}

/* The effects digest a confirmation form posted, or NULL (no form). */
static const char *
posted_effects(const struct req *r, char out[33])
{
	const char *p;

	for (p = r->body.data; p && *p; p = strchr(p, '&') ?
	    strchr(p, '&') + 1 : NULL)
		if (!strncmp(p, "effects=", 8)) {
			/* anything but the 32 hex digits we wrote matches
			 * nothing, so it shows a fresh page */
			str_lcpy(out, p + 8, 33);
			out[strcspn(out, "&")] = '\0';
			return out;
		}
	return NULL;
}

/* POST /verify/TOKEN and /verify/TOKEN/reject */
void
h_verify_post(struct daemon *d, struct req *r, struct resp *w,
    const char *rest)
{
	struct dir_verify v;
	struct err e;
	char tok[VIEW_TOKEN_MAX], msg[600], effects[33];
	bool reject;
	int rc;

	memset(&v, 0, sizeof(v));
	if (view_link_token(rest, "reject", tok, sizeof(tok), &reject) == -1) {
		err_set(&e, ERR_NOTFOUND, "This confirmation link is not "
		    "valid. Check that you copied all of it.");
		view_link_error(w, &e);
		return;
	}
	rc = reject ? dir_verify_reject(d, time(NULL), tok, &v, &e) :
	    dir_verify_confirm(d, time(NULL), tok, posted_effects(r, effects), &v, &e);
	if (rc == -1)
		view_link_error(w, &e);
	else if (v.changed)
		verify_page(d, tok, &v, true, w);
	else if (reject) {
		snprintf(msg, sizeof(msg), "The request to publish a key for "
		    "%s was discarded. Nothing was published.", v.address);
		view_message(w, 200, "Request discarded", msg);
	} else {
		snprintf(msg, sizeof(msg), "%s is now published with the key "
		    "%s. Anyone can find it by this address.", v.address,
		    v.fpr);
		view_message(w, 200, "Key published", msg);
	}
	dir_verify_release(&v);
}

