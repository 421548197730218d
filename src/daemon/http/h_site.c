/*
 * h_site: the site's own pages (the front page, about), each a template
 * in web/templates rendered in the visitor's language (site.c).
 */
#include <string.h>

#include "daemon.h"
#include "handlers.h"
#include "site.h"
#include "views.h"

/* GET / */
void
h_index(struct daemon *d, struct req *r, struct resp *w, const char *rest)
{
	struct tmpl_scope *s;

	if (*rest) {
		view_text(w, 404, "Not found");
		return;
	}
	s = tmpl_new();
	site_keyserver(d->cfg.base_url, s);
	site_page(w, r, 200, N_("A verifying OpenPGP key directory"),
	    "index.html", s);
	tmpl_free(s);
}

/* GET /about */
void
h_about(struct daemon *d, struct req *r, struct resp *w, const char *rest)
{
	struct tmpl_scope *s = tmpl_new();

	(void)rest;
	tmpl_setf(s, "unconfirmed_days", "%lld",
	    (long long)(d->cfg.unconfirmed_ttl / 86400));
	tmpl_setf(s, "reverify_days", "%lld",
	    (long long)(d->cfg.reverify_interval / 86400));
	tmpl_setf(s, "grace_days", "%lld",
	    (long long)(d->cfg.reverify_grace / 86400));
	site_page(w, r, 200, N_("About this directory"), "about.html", s);
	tmpl_free(s);
}

/* GET /about/api */
void
h_about_api(struct daemon *d, struct req *r, struct resp *w,
    const char *rest)
{
	struct tmpl_scope *s = tmpl_new();

	(void)rest;
	tmpl_set(s, "base", d->cfg.base_url);
	site_keyserver(d->cfg.base_url, s);
	site_page(w, r, 200, N_("The API"), "api.html", s);
	tmpl_free(s);
}
