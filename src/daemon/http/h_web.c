/*
 * h_web: uploading a key in the browser.  GET /upload is the form (a file
 * field and a paste field, multipart/form-data); POST /upload stores the
 * key as the VKS upload does, mailing nobody yet, and lists each address
 * with its state and a checkbox; POST /upload/verify mails the chosen
 * ones, as request-verify does.  Every refusal is shown on the page in
 * words.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "daemon.h"
#include "directory.h"
#include "email.h"
#include "handlers.h"
#include "multipart.h"
#include "site.h"
#include "views.h"
#include "xmalloc.h"

#define UPLOAD_FORM_PARTS 8
#define VERIFY_MAX_ADDRS 100

/* The form again, with why the upload was refused. */
static void
upload_refused(struct resp *w, const struct req *r, const struct err *e,
    int64_t retry_after)
{
	struct tmpl_scope *s = tmpl_new();
	char v[32];

	tmpl_set(s, "error", lang_tr(site_lang(r), e->msg));
	site_page(w, r, http_status(e->code), N_("Upload your key"),
	    "upload.html", s);
	tmpl_free(s);
	if (e->code == ERR_RATE && retry_after > 0) {
		snprintf(v, sizeof(v), "%lld", (long long)retry_after);
		resp_header(w, "Retry-After", v);
	}
}

/* GET /upload */
void
h_upload_page(struct daemon *d, struct req *r, struct resp *w,
    const char *rest)
{
	(void)d;
	(void)rest;
	site_page(w, r, 200, N_("Upload your key"), "upload.html", NULL);
}

/*
 * The key of an upload form: the file if one was chosen, else the pasted
 * text; *owned set when the bytes are ours to free.  NULL with e set.
 */
static const uint8_t *
form_key(const struct req *r, size_t *len, char **owned, struct err *e)
{
	struct mp_part parts[UPLOAD_FORM_PARTS];
	const struct mp_part *p;
	char b[MP_BOUNDARY_MAX + 1];
	size_t n;

	*owned = NULL;
	if (mp_boundary(r->content_type, b) == 0) {
		if (mp_parse((const uint8_t *)r->body.data, r->body.len, b,
		    parts, UPLOAD_FORM_PARTS, &n, e) == -1)
			return NULL;
		if ((p = mp_find(parts, n, "keyfile")) != NULL && p->len > 0) {
			*len = p->len;
			return p->data;
		}
		if ((p = mp_find(parts, n, "keytext")) != NULL && p->len > 0) {
			*len = p->len;
			return p->data;
		}
	} else if ((*owned = req_body_field(r, "keytext", 0)) != NULL &&
	    **owned != '\0') {
		*len = strlen(*owned);
		return (const uint8_t *)*owned;
	}
	free(*owned);
	*owned = NULL;
	err_set(e, ERR_INVALID, N_("Choose a key file or paste a key."));
	return NULL;
}

/* The hex in groups of four, as the items of list "groups". */
static void
fpr_groups(struct tmpl_scope *s, const char *hex)
{
	size_t i, n = strlen(hex);

	for (i = 0; i < n; i += 4)
		tmpl_setf(tmpl_item(s, "groups"), "g", "%.4s", hex + i);
}

/* POST /upload */
void
h_upload_post(struct daemon *d, struct req *r, struct resp *w,
    const char *rest)
{
	struct tmpl_scope *s, *it;
	const uint8_t *key;
	struct dir_upload u;
	struct err e;
	char *owned;
	size_t len = 0, i;
	bool anymail = false;

	(void)rest;
	memset(&u, 0, sizeof(u));
	if ((key = form_key(r, &len, &owned, &e)) == NULL) {
		upload_refused(w, r, &e, 0);
		return;
	}
	if (dir_upload(d, time(NULL), key, len, false, r->client, &u, &e) ==
	    -1) {
		upload_refused(w, r, &e, u.retry_after);
		free(owned);
		return;
	}
	free(owned);
	s = tmpl_new();
	if (u.nfprs > 0)
		tmpl_setf(s, "several", "%zu", u.nfprs);
	tmpl_set(s, "fpr", u.fpr);
	fpr_groups(s, u.fpr);
	tmpl_set(s, "token", u.token);
	tmpl_set(s, "revoked", u.revoked ? "1" : "");
	tmpl_list(s, "addrs");
	tmpl_set(s, "hasaddrs", u.naddrs > 0 ? "1" : "");
	for (i = 0; i < u.naddrs; i++) {
		const struct dir_addr *a = &u.addrs[i];

		it = tmpl_item(s, "addrs");
		tmpl_setf(it, "i", "%zu", i);
		tmpl_set(it, "address", a->address);
		tmpl_set(it, "published", a->status == ADDR_PUBLISHED ? "1" :
		    "");
		tmpl_set(it, "pending", a->status == ADDR_PENDING ? "1" : "");
		tmpl_set(it, "revoked_uid", a->status == ADDR_REVOKED ? "1" :
		    "");
		tmpl_set(it, "unpublished", a->status == ADDR_UNPUBLISHED ?
		    "1" : "");
		if (!u.revoked && (a->status == ADDR_UNPUBLISHED ||
		    a->status == ADDR_PENDING)) {
			tmpl_set(it, "canmail", "1");
			anymail = true;
		} else
			tmpl_set(it, "canmail", "");
	}
	tmpl_set(s, "anymail", anymail ? "1" : "");
	site_page(w, r, 200, N_("Your key is uploaded"), "uploaded.html", s);
	tmpl_free(s);
	dir_upload_release(&u);
}

/* What became of one address asked for, in words. */
static const char *
mailed_what(const struct dir_addr *a)
{
	switch (a->mail) {
	case ADDR_MAIL_SENT:
		return N_("a confirmation mail is on its way");
	case ADDR_MAIL_RATE:
		return N_("not mailed again yet: one went out a short while "
		    "ago; use the link in it");
	case ADDR_MAIL_CAPPED:
		return N_("not mailed: too many at once; ask again for this "
		    "one");
	case ADDR_MAIL_UNMAILABLE:
		return N_("not mailed: this address cannot be mailed");
	case ADDR_MAIL_NONE:
		break;
	}
	if (a->status == ADDR_PUBLISHED)
		return N_("already published");
	if (a->status == ADDR_REVOKED)
		return N_("its user ID is revoked: not published");
	return N_("not mailed");
}

/* A page that says nothing was mailed, and why (a msgid), with the way
 * back to the form. */
static void
verify_refused(struct resp *w, const struct req *r, int status,
    const char *why)
{
	struct tmpl_scope *s = tmpl_new();
	size_t lang = site_lang(r);

	tmpl_set(s, "text", lang_tr(lang, why));
	tmpl_set(s, "back", "/upload");
	tmpl_set(s, "back_text", lang_tr(lang, N_("Upload your key")));
	site_page(w, r, status, N_("Nothing was mailed"), "message.html", s);
	tmpl_free(s);
}

/* POST /upload/verify: token=...&address=...&address=... */
void
h_upload_verify(struct daemon *d, struct req *r, struct resp *w,
    const char *rest)
{
	const char *addrs[VERIFY_MAX_ADDRS];
	char *tok, *a[VERIFY_MAX_ADDRS];
	struct tmpl_scope *s, *it;
	size_t lang = site_lang(r), n, i;
	struct dir_upload u;
	struct err e;

	(void)rest;
	memset(&u, 0, sizeof(u));
	tok = req_body_field(r, "token", 0);
	for (n = 0; n < VERIFY_MAX_ADDRS &&
	    (a[n] = req_body_field(r, "address", n)) != NULL; n++)
		addrs[n] = a[n];
	if (tok == NULL)
		verify_refused(w, r, 400,
		    N_("This form has expired: upload the key again."));
	else if (n == 0)
		verify_refused(w, r, 400,
		    N_("Choose at least one address to confirm."));
	else if (dir_request_verify(d, time(NULL), tok, addrs, n, lang, &u,
	    &e) == -1)
		verify_refused(w, r, http_status(e.code), e.msg);
	else {
		s = tmpl_new();
		tmpl_list(s, "addrs");
		for (i = 0; i < u.naddrs; i++) {
			it = tmpl_item(s, "addrs");
			tmpl_set(it, "address", u.addrs[i].address);
			tmpl_set(it, "what", lang_tr(lang,
			    mailed_what(&u.addrs[i])));
		}
		site_page(w, r, 200, N_("Confirmation mails"), "mailed.html",
		    s);
		tmpl_free(s);
		dir_upload_release(&u);
	}
	for (i = 0; i < n; i++)
		free(a[i]);
	free(tok);
}

/* GET /manage */
void
h_manage_page(struct daemon *d, struct req *r, struct resp *w,
    const char *rest)
{
	(void)d;
	(void)rest;
	site_page(w, r, 200, N_("Manage your addresses"), "manage.html",
	    NULL);
}

/* POST /manage: address=...  The same answer whether the address is
 * published or not, so the page tells nobody which addresses are. */
void
h_manage_post(struct daemon *d, struct req *r, struct resp *w,
    const char *rest)
{
	struct tmpl_scope *s = tmpl_new();
	char *addr = req_body_field(r, "address", 0);
	int status = 200;
	struct err e;

	(void)rest;
	if (addr == NULL || addr[0] == '\0') {
		tmpl_set(s, "error", lang_tr(site_lang(r),
		    N_("Enter your email address.")));
		status = 400;
	} else if (dir_manage_request(d, time(NULL), addr, site_lang(r),
	    &e) == -1) {
		tmpl_set(s, "error", lang_tr(site_lang(r), e.msg));
		status = http_status(e.code);
	} else {
		/* the address, not the display form typed: no one's words
		 * on this page but ours */
		char norm[EMAIL_MAX + 1];

		tmpl_set(s, "sent", email_normalize(addr, norm, sizeof(norm),
		    NULL) == 0 ? norm : "");
	}
	site_page(w, r, status, N_("Manage your addresses"), "manage.html",
	    s);
	tmpl_free(s);
	free(addr);
}
