/*
 * routes: method and path prefix to handler.  First match wins; a path
 * that matches no row is a 404, a known path with the wrong method a 405.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "daemon.h"
#include "handlers.h"
#include "site.h"
#include "str.h"
#include "views.h"

struct route {
	enum http_method method;	/* HTTP_GET also answers HEAD */
	const char *prefix;
	bool exact;			/* the path is the prefix, no rest */
	route_fn fn;
	unsigned cost;			/* ROUTE_ flags */
};

#define LOOKUP	ROUTE_LOOKUP
#define UPLOAD	(ROUTE_UPLOAD | ROUTE_HEAVY)
/* a link page parses the stored key: the upload bucket, the work pool */
#define LINK	(ROUTE_UPLOAD | ROUTE_HEAVY)

static const struct route routes[] = {
	{ HTTP_GET, "/vks/v1/by-fingerprint/", false, h_vks_by_fpr, LOOKUP },
	{ HTTP_GET, "/vks/v1/by-keyid/", false, h_vks_by_keyid, LOOKUP },
	{ HTTP_GET, "/vks/v1/by-email/", false, h_vks_by_email, LOOKUP },
	{ HTTP_POST, "/vks/v1/upload", true, h_vks_upload, UPLOAD },
	{ HTTP_POST, "/vks/v1/request-verify", true,
	    h_vks_request_verify, ROUTE_MAIL | ROUTE_HEAVY },
	{ HTTP_GET, "/pks/lookup", true, h_hkp_lookup, LOOKUP },
	{ HTTP_POST, "/pks/add", true, h_hkp_add, UPLOAD | ROUTE_MAIL },
	{ HTTP_GET, "/.well-known/openpgpkey/", false, h_wkd, LOOKUP },
	{ HTTP_GET, "/api/v1/lookup/", false, h_api_lookup, LOOKUP },
	{ HTTP_POST, "/api/v1/lookup", true, h_api_lookup_batch, LOOKUP },
	{ HTTP_GET, "/api/v1/server-key", true, h_api_server_key, LOOKUP },
	{ HTTP_GET, "/api/v1/server-key/transition", true,
	    h_api_server_key_transition, LOOKUP },
	{ HTTP_POST, "/api/v1/submit", true,
	    h_api_submit, UPLOAD | ROUTE_MAIL },
	{ HTTP_POST, "/api/v1/recovery/request", true,
	    h_api_recovery_request, ROUTE_MAIL },
	{ HTTP_GET, "/recovery/", false, h_recovery_link, 0 },
	{ HTTP_POST, "/recovery/", false, h_recovery_link, ROUTE_MAIL },
	{ HTTP_GET, "/verify/", false, h_verify_get, LINK },
	{ HTTP_POST, "/verify/", false, h_verify_post, LINK },
	{ HTTP_POST, "/api/v1/remove", true, h_api_remove, UPLOAD },
	{ HTTP_POST, "/api/v1/manage", true, h_api_manage, ROUTE_MAIL },
	{ HTTP_GET, "/manage/", false, h_manage_link, 0 },
	{ HTTP_POST, "/manage/", false, h_manage_link, LINK },
	{ HTTP_GET, "/reverify/", false, h_reverify_link, 0 },
	{ HTTP_POST, "/reverify/", false, h_reverify_link, LINK },
	{ HTTP_GET, "/about", true, h_about, 0 },
	{ HTTP_GET, "/about/api", true, h_about_api, 0 },
	{ HTTP_GET, "/search", true, h_search, LOOKUP },
	{ HTTP_GET, "/upload", true, h_upload_page, 0 },
	{ HTTP_GET, "/manage", true, h_manage_page, 0 },
	{ HTTP_POST, "/manage", true, h_manage_post, ROUTE_MAIL },
	{ HTTP_POST, "/upload", true, h_upload_post, UPLOAD },
	{ HTTP_POST, "/upload/verify", true, h_upload_verify,
	    ROUTE_MAIL | ROUTE_HEAVY },
	{ HTTP_GET, "/static/", false, h_static, 0 },
	{ HTTP_GET, "/favicon.svg", true, h_favicon, 0 },
	{ HTTP_GET, "/robots.txt", true, h_robots, 0 },
	{ HTTP_GET, "/lang/", false, h_lang, 0 },
	{ HTTP_GET, "/", true, h_index, 0 },
};

/* The route r runs, or NULL; *get and *post say which methods its path
 * has (for a 405). */
static const struct route *
routes_find(const struct req *r, bool *get, bool *post)
{
	enum http_method m = r->method == HTTP_HEAD ? HTTP_GET : r->method;
	size_t i, n;

	*get = *post = false;
	for (i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		const struct route *rt = &routes[i];

		n = strlen(rt->prefix);
		if (strncmp(r->path, rt->prefix, n) != 0 ||
		    (rt->exact && r->path[n] != '\0'))
			continue;
		if (rt->method == m)
			return rt;
		*get |= rt->method == HTTP_GET;
		*post |= rt->method == HTTP_POST;
	}
	return NULL;
}

unsigned
routes_cost(const struct req *r)
{
	bool get, post;
	const struct route *rt = routes_find(r, &get, &post);

	return rt ? rt->cost : 0;
}

void
routes_refuse(const struct req *r, struct resp *w, const struct err *e,
    unsigned retry_after)
{
	char msg[sizeof(e->msg) + 64], secs[16];

	if (retry_after > 0) {
		snprintf(msg, sizeof(msg), "%s Retry in %u second%s.", e->msg,
		    retry_after, retry_after == 1 ? "" : "s");
		snprintf(secs, sizeof(secs), "%u", retry_after);
	} else
		str_lcpy(msg, e->msg, sizeof(msg));
	if (!strncmp(r->path, "/vks/", 5) || !strncmp(r->path, "/api/", 5)) {
		struct err je = *e;

		str_lcpy(je.msg, msg, sizeof(je.msg));
		view_json_error(w, &je);
	} else if (!strncmp(r->path, "/pks/", 5))
		view_text(w, http_status(e->code), msg);
	else {
		struct tmpl_scope *s = tmpl_new();

		tmpl_set(s, "text", msg);
		site_page(w, r, http_status(e->code), e->code == ERR_RATE ?
		    N_("Too many requests") : N_("Not now"), "message.html",
		    s);
		tmpl_free(s);
	}
	if (retry_after > 0)
		resp_header(w, "Retry-After", secs);
}

const char *
routes_nth(size_t i, const char **method)
{
	if (i >= sizeof(routes) / sizeof(routes[0]))
		return NULL;
	*method = routes[i].method == HTTP_GET ? "GET" : "POST";
	return routes[i].prefix;
}

/* Run the handler for r. */
void
routes_dispatch(struct daemon *d, struct req *r, struct resp *w)
{
	bool get, post;
	const struct route *rt = routes_find(r, &get, &post);
	size_t n;

	if (rt != NULL) {
		n = strlen(rt->prefix);
		/* a body past max_body is never handed on cut short: the
		 * VKS API answers in JSON, the rest in text */
		if (r->too_big) {
			struct err e;

			err_set(&e, ERR_TOOBIG, "The request is larger than "
			    "%zu bytes.", d->cfg.max_body);
			if (!strncmp(r->path, "/vks/", 5) ||
			    !strncmp(r->path, "/api/", 5))
				view_json_error(w, &e);
			else if (site_wants_html(r))
				site_error(w, r, 413, N_("Too large"),
				    N_("What was sent is larger than this "
				    "directory takes."));
			else
				view_text(w, 413, e.msg);
			return;
		}
		rt->fn(d, r, w, r->path + n);
		return;
	}
	if (get || post) {
		if (site_wants_html(r))
			site_error(w, r, 405, N_("Not allowed"),
			    N_("This page cannot be used that way."));
		else
			view_text(w, 405, "Method not allowed");
		resp_header(w, "Allow", get && post ? "GET, HEAD, POST" :
		    get ? "GET, HEAD" : "POST");
	} else if (site_wants_html(r))
		site_error(w, r, 404, N_("Page not found"),
		    N_("There is no page at this address."));
	else
		view_text(w, 404, "Not found");
}
