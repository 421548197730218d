/*
 * routes: method and path prefix to handler.  First match wins; a path
 * that matches no row is a 404, a known path with the wrong method a 405.
 */
#include <stdbool.h>
#include <string.h>

#include "daemon.h"
#include "handlers.h"
#include "views.h"

struct route {
	enum http_method method;	/* HTTP_GET also answers HEAD */
	const char *prefix;
	bool exact;			/* the path is the prefix, no rest */
	route_fn fn;
};

static const struct route routes[] = {
	{ HTTP_GET, "/vks/v1/by-fingerprint/", false, h_vks_by_fpr },
	{ HTTP_GET, "/vks/v1/by-keyid/", false, h_vks_by_keyid },
	{ HTTP_GET, "/vks/v1/by-email/", false, h_vks_by_email },
	{ HTTP_POST, "/vks/v1/upload", true, h_vks_upload },
	{ HTTP_POST, "/vks/v1/request-verify", true, h_vks_request_verify },
	{ HTTP_GET, "/pks/lookup", true, h_hkp_lookup },
	{ HTTP_POST, "/pks/add", true, h_hkp_add },
	{ HTTP_GET, "/api/v1/lookup/", false, h_api_lookup },
	{ HTTP_POST, "/api/v1/lookup", true, h_api_lookup_batch },
	{ HTTP_GET, "/api/v1/server-key", true, h_api_server_key },
	{ HTTP_GET, "/api/v1/server-key/transition", true,
	    h_api_server_key_transition },
	{ HTTP_POST, "/api/v1/submit", true, h_api_submit },
	{ HTTP_POST, "/api/v1/recovery/request", true, h_api_recovery_request },
	{ HTTP_GET, "/recovery/", false, h_recovery_link },
	{ HTTP_POST, "/recovery/", false, h_recovery_link },
	{ HTTP_GET, "/verify/", false, h_verify_get },
	{ HTTP_POST, "/verify/", false, h_verify_post },
	{ HTTP_POST, "/api/v1/remove", true, h_api_remove },
	{ HTTP_POST, "/api/v1/manage", true, h_api_manage },
	{ HTTP_GET, "/manage/", false, h_manage_link },
	{ HTTP_POST, "/manage/", false, h_manage_link },
	{ HTTP_GET, "/reverify/", false, h_reverify_link },
	{ HTTP_POST, "/reverify/", false, h_reverify_link },
	{ HTTP_GET, "/", true, h_index },
};

/* Run the handler for r. */
void
routes_dispatch(struct daemon *d, struct req *r, struct resp *w)
{
	enum http_method m = r->method == HTTP_HEAD ? HTTP_GET : r->method;
	bool get = false, post = false;
	size_t i, n;

	for (i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		const struct route *rt = &routes[i];

		n = strlen(rt->prefix);
		if (strncmp(r->path, rt->prefix, n) != 0 ||
		    (rt->exact && r->path[n] != '\0'))
			continue;
		if (rt->method != m) {
			get |= rt->method == HTTP_GET;
			post |= rt->method == HTTP_POST;
			continue;
		}
		/* a body past max_body is never handed on cut short: the
		 * VKS API answers in JSON, the rest in text */
		if (r->too_big) {
			struct err e;

			err_set(&e, ERR_TOOBIG, "The request is larger than "
			    "%zu bytes.", d->cfg.max_body);
			if (!strncmp(r->path, "/vks/", 5) ||
			    !strncmp(r->path, "/api/", 5))
				view_json_error(w, &e);
			else
				view_text(w, 413, e.msg);
			return;
		}
		rt->fn(d, r, w, r->path + n);
		return;
	}
	if (get || post) {
		view_text(w, 405, "Method not allowed");
		resp_header(w, "Allow", get && post ? "GET, HEAD, POST" :
		    get ? "GET, HEAD" : "POST");
	} else
		view_text(w, 404, "Not found");
}
