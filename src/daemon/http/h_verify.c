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
#include "site.h"
#include "str.h"
#include "views.h"


/* The hex in groups of four, as the items of list in s. */
static void
fours(struct tmpl_scope *s, const char *list, const char *hex)
{
	size_t i, n = strlen(hex);

	for (i = 0; i < n; i += 4)
		tmpl_setf(tmpl_item(s, list), "g", "%.4s", hex + i);
}

/* The confirmation form (web/templates/verify.html); changed says the
 * state moved since the page the user confirmed from. */
static void
verify_page(struct daemon *d, const struct req *r, const char *tok,
    const struct dir_verify *v, bool changed, struct resp *w)
{
	struct tmpl_scope *s = tmpl_new();
	char when[64];
	time_t t = (time_t)v->expires;
	struct tm tm;
	size_t i;

	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M UTC", &tm);
	tmpl_set(s, "changed", changed ? "1" : "");
	tmpl_set(s, "address", v->address);
	fours(s, "groups", v->fpr);
	tmpl_set(s, "prev", v->prev_fpr);
	fours(s, "pgroups", v->prev_fpr);
	tmpl_list(s, "others");
	for (i = 0; i < v->nothers; i++)
		tmpl_set(tmpl_item(s, "others"), "other", v->others[i]);
	tmpl_set(s, "base", d->cfg.base_url);
	tmpl_set(s, "tok", tok);
	tmpl_set(s, "effects", v->effects);
	tmpl_set(s, "when", when);
	site_page(w, r, 200, N_("Confirm your key"), "verify.html", s);
	tmpl_free(s);
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

	if (view_link_token(rest, "reject", tok, sizeof(tok), &reject) == -1) {
		err_set(&e, ERR_NOTFOUND, "%s", N_("This link is not valid. "
		    "Check that you copied all of it."));
		view_link_error(w, r, &e);
		return;
	}
	if (dir_verify_show(d, time(NULL), tok, &v, &e) == -1)
		view_link_error(w, r, &e);
	else
		verify_page(d, r, tok, &v, false, w);
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
		err_set(&e, ERR_NOTFOUND, "%s", N_("This link is not valid. "
		    "Check that you copied all of it."));
		view_link_error(w, r, &e);
		return;
	}
	rc = reject ? dir_verify_reject(d, time(NULL), tok, &v, &e) :
	    dir_verify_confirm(d, time(NULL), tok, posted_effects(r, effects),
	    site_lang(r), &v, &e);
	if (rc == -1)
		view_link_error(w, r, &e);
	else if (v.changed)
		verify_page(d, r, tok, &v, true, w);
	else if (reject) {
		snprintf(msg, sizeof(msg), lang_fmt(site_lang(r),
		    N_("The request to publish a key for %s was discarded. "
		    "Nothing was published.")), v.address);
		view_message(w, r, 200, N_("Request discarded"), msg);
	} else {
		snprintf(msg, sizeof(msg), lang_fmt(site_lang(r),
		    N_("%s is now published with the key %s. Anyone can find "
		    "it by this address.")), v.address, v.fpr);
		view_message(w, r, 200, N_("Key published"), msg);
	}
	dir_verify_release(&v);
}

