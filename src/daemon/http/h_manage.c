/*
 * h_manage: taking addresses and keys off the directory, and answering
 * re-verification.  POST /api/v1/remove (signed with the key),
 * POST /api/v1/manage (a removal link by mail, for a lost key), and the
 * pages behind /manage/TOKEN and /reverify/TOKEN (GET shows, POST acts).
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "buf.h"
#include "daemon.h"
#include "directory.h"
#include "handlers.h"
#include "site.h"
#include "str.h"
#include "views.h"
#include "xmalloc.h"

/* POST /api/v1/remove: the body is the armored signed statement. */
void
h_api_remove(struct daemon *d, struct req *r, struct resp *w,
    const char *rest)
{
	struct dir_removed out;
	struct err e;

	(void)rest;
	if (dir_remove_signed(d, time(NULL), (const uint8_t *)r->body.data, r->body.len,
	    &out, &e) == -1) {
		view_json_error(w, &e);
		return;
	}
	if (out.tombstone)
		view_json(w, 200, json_pack("{s:s,s:s,s:s}", "fingerprint",
		    out.fpr, "removed", "all", "kept", "revocation"));
	else if (out.all)
		view_json(w, 200, json_pack("{s:s,s:s}", "fingerprint",
		    out.fpr, "removed", "all"));
	else
		view_json(w, 200, json_pack("{s:s,s:I}", "fingerprint",
		    out.fpr, "removed", (json_int_t)out.naddrs));
}

/* The address of a manage request: JSON {"address", "locale"} (*lang
 * from locale) or a form field. */
static char *
manage_address(const struct req *r, size_t *lang)
{
	const char *ct = r->content_type, *a = NULL, *p;
	char *res = NULL;
	json_t *j;

	*lang = 0;
	if (ct && !strncasecmp(ct, "application/json", 16)) {
		j = json_loadb(r->body.data, r->body.len, 0, NULL);
		if (j && json_unpack(j, "{s:s}", "address", &a) == 0) {
			res = xstrdup(a);
			*lang = view_json_lang(json_object_get(j, "locale"));
		}
		json_decref(j);
		return res;
	}
	for (p = r->body.data; p && *p; p = strchr(p, '&') ? strchr(p, '&') +
	    1 : NULL)
		if (!strncmp(p, "address=", 8))
			return str_form_decode(p + 8, strcspn(p + 8, "&"));
	return NULL;
}

/* POST /api/v1/manage */
void
h_api_manage(struct daemon *d, struct req *r, struct resp *w,
    const char *rest)
{
	struct err e;
	size_t lang;
	char *addr;

	(void)rest;
	if ((addr = manage_address(r, &lang)) == NULL) {
		err_set(&e, ERR_INVALID, "Expected an address: JSON "
		    "{\"address\": ...} or the form field address.");
		view_json_error(w, &e);
		return;
	}
	if (dir_manage_request(d, time(NULL), addr, lang, &e) == -1)
		view_json_error(w, &e);
	else
		view_json(w, 200, json_pack("{s:s}", "status", "If this "
		    "address is published here, a mail with a link to remove "
		    "it is on its way."));
	free(addr);
}

/* The page behind a manage or re-verify link (web/templates/link.html). */
static void
link_page(struct daemon *d, const struct req *r, enum token_kind kind,
    const char *tok, const struct dir_link *l, struct resp *w)
{
	struct tmpl_scope *s = tmpl_new();
	size_t i, n = strlen(l->fpr);

	tmpl_set(s, kind == TOKEN_MANAGE ? "manage" : "reverify", "1");
	tmpl_set(s, "base", d->cfg.base_url);
	tmpl_set(s, "tok", tok);
	tmpl_set(s, "address", l->address);
	for (i = 0; i < n; i += 4)
		tmpl_setf(tmpl_item(s, "groups"), "g", "%.4s", l->fpr + i);
	site_page(w, r, 200, kind == TOKEN_MANAGE ? N_("Remove your address") :
	    N_("Is this still your key?"), "link.html", s);
	tmpl_free(s);
}

/* GET or POST on a manage or re-verify link. */
static void
link_handle(struct daemon *d, enum token_kind kind, struct req *r,
    struct resp *w, const char *rest)
{
	struct dir_link l;
	struct err e;
	char tok[VIEW_TOKEN_MAX], msg[600];
	bool no = false;

	memset(&l, 0, sizeof(l));
	if (view_link_token(rest, kind == TOKEN_REVERIFY ? "no" : "",
	    tok, sizeof(tok), &no) == -1) {
		err_set(&e, ERR_NOTFOUND, "%s", N_("This link is not valid. "
		    "Check that you copied all of it."));
		view_link_error(w, r, &e);
	} else if (r->method != HTTP_POST) {
		if (dir_link_show(d, time(NULL), kind, tok, &l, &e) == -1)
			view_link_error(w, r, &e);
		else
			link_page(d, r, kind, tok, &l, w);
	} else if (dir_link_act(d, time(NULL), kind, tok, !no, &l, &e) == -1)
		view_link_error(w, r, &e);
	else {
		size_t lang = site_lang(r);

		snprintf(msg, sizeof(msg), kind == TOKEN_REVERIFY && !no ?
		    lang_fmt(lang, N_("Thank you: %s stays published with "
		    "the key %s.")) : lang_fmt(lang, N_("%s is no longer "
		    "published with the key %s.")), l.address, l.fpr);
		view_message(w, r, 200, kind == TOKEN_REVERIFY && !no ?
		    N_("Key confirmed") : N_("Address removed"), msg);
	}
}

/* /manage/TOKEN */
void
h_manage_link(struct daemon *d, struct req *r, struct resp *w,
    const char *rest)
{
	link_handle(d, TOKEN_MANAGE, r, w, rest);
}

/* /reverify/TOKEN and /reverify/TOKEN/no */
void
h_reverify_link(struct daemon *d, struct req *r, struct resp *w,
    const char *rest)
{
	link_handle(d, TOKEN_REVERIFY, r, w, rest);
}

/* POST /api/v1/recovery/request: {"address"} or the form field. */
void
h_api_recovery_request(struct daemon *d, struct req *r, struct resp *w,
    const char *rest)
{
	struct err e;
	size_t lang;
	char *addr;

	(void)rest;
	if ((addr = manage_address(r, &lang)) == NULL) {
		err_set(&e, ERR_INVALID, "Expected an address: JSON "
		    "{\"address\": ...} or the form field address.");
		view_json_error(w, &e);
		return;
	}
	if (dir_recovery_request(d, time(NULL), addr, lang, &e) == -1)
		view_json_error(w, &e);
	else
		view_json(w, 200, json_pack("{s:s}", "status", "If a key with "
		    "recovery data is published for this address, a mail with "
		    "a link to it is on its way."));
	free(addr);
}

/*
 * /recovery/TOKEN: GET shows a page with a button; POST uses the link
 * and answers the sealed data itself (application/octet-stream).
 */
void
h_recovery_link(struct daemon *d, struct req *r, struct resp *w,
    const char *rest)
{
	char tok[VIEW_TOKEN_MAX], disp[80];
	struct tmpl_scope *s;
	struct dir_link l;
	struct err e;
	uint8_t *data = NULL;
	size_t len = 0, i;
	bool no = false;

	if (view_link_token(rest, "", tok, sizeof(tok), &no) == -1) {
		err_set(&e, ERR_NOTFOUND, "This link is not valid. Check that "
		    "you copied all of it.");
		view_link_error(w, r, &e);
		return;
	}
	if (r->method != HTTP_POST) {
		if (dir_recovery_show(d, time(NULL), tok, &l, &e) == -1) {
			view_link_error(w, r, &e);
			return;
		}
		s = tmpl_new();
		tmpl_set(s, "tok", tok);
		tmpl_set(s, "address", l.address);
		for (i = 0; i < FPR_LEN; i += 4)
			tmpl_setf(tmpl_item(s, "groups"), "g", "%.4s",
			    l.fpr + i);
		site_page(w, r, 200, N_("Key recovery data"), "recovery.html",
		    s);
		tmpl_free(s);
		return;
	}
	if (dir_recovery_take(d, time(NULL), tok, site_lang(r), &l, &data,
	    &len, &e) == -1) {
		view_link_error(w, r, &e);
		return;
	}
	w->status = 200;
	w->ctype = "application/octet-stream";
	buf_reset(&w->body);
	buf_add(&w->body, data, len);
	snprintf(disp, sizeof(disp), "attachment; filename=\"recovery-%.16s"
	    ".bin\"", l.fpr + FPR_LEN - 16);
	resp_header(w, "Content-Disposition", disp);
	resp_header(w, "Cache-Control", "no-store");
	free(data);
}
