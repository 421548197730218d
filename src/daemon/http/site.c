/*
 * site: the frame of every page, the language, and the static files.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "assets.h"
#include "daemon.h"
#include "handlers.h"
#include "i18n.h"
#include "log.h"
#include "site.h"
#include "str.h"
#include "views.h"


/*
 * What no page may do: load or run anything but the stylesheet and the
 * favicon from here, post a form elsewhere, be framed, move its base.
 */
static const char page_csp[] = "default-src 'none'; style-src 'self'; "
    "img-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'";

static char style_path[96];
static pthread_once_t site_once = PTHREAD_ONCE_INIT;

/* Name the stylesheet by its hash, once. */
static void
site_init(void)
{
	uint8_t h[crypto_hash_sha256_BYTES];
	char hex[2 * sizeof(h) + 1];
	struct asset a;

	if (asset_get("style.css", &a) == -1)
		a.len = 0;
	crypto_hash_sha256(h, a.data, a.len);
	str_hex(h, 8, hex);
	snprintf(style_path, sizeof(style_path), "/static/style.%s.css", hex);
}

const char *
site_style_path(void)
{
	pthread_once(&site_once, site_init);
	return style_path;
}

size_t
site_lang(const struct req *r)
{
	size_t i;

	if (r == NULL)
		return 0;
	if (r->lang_cookie != NULL)
		for (i = 0; i < LANG_N; i++)
			if (!strcmp(r->lang_cookie, lang_codes[i]))
				return i;
	return lang_accept(r->accept_language);
}

static const char *
tr_cb(const void *arg, const char *msgid)
{
	return i18n_get(arg, msgid);
}

/* The strict headers of every page. */
static void
page_headers(struct resp *w, size_t lang)
{
	resp_header(w, "Cache-Control", "no-store");
	resp_header(w, "Content-Security-Policy", page_csp);
	resp_header(w, "X-Frame-Options", "DENY");
	resp_header(w, "X-Content-Type-Options", "nosniff");
	resp_header(w, "Referrer-Policy", "no-referrer");
	resp_header(w, "Content-Language", lang_codes[lang]);
}

/*
 * Where the language switch returns to: the page itself for a GET of a
 * page, percent-encoded (a path is what the client sent); "/" after a
 * POST (a GET of it would be a 405) and for the pages of links, whose
 * token must not travel on in a query string (the log hides tokens in
 * link paths only).
 */
static void
switch_next(const struct req *r, struct buf *b)
{
	static const char *const links[] = { "/verify/", "/manage/",
	    "/reverify/", "/recovery/" };
	const char *p;
	size_t i;

	if (r == NULL || r->method == HTTP_POST || r->path[0] != '/' ||
	    r->path[1] == '/') {
		buf_addch(b, '/');
		return;
	}
	for (i = 0; i < sizeof(links) / sizeof(links[0]); i++)
		if (!strncmp(r->path, links[i], strlen(links[i]))) {
			buf_addch(b, '/');
			return;
		}
	for (p = r->path; *p != '\0'; p++)
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr("/-._~", *p) != NULL)
			buf_addch(b, *p);
		else
			buf_printf(b, "%%%02X", (unsigned char)*p);
}

/* The layout around html, in lang, into w. */
static void
layout(struct resp *w, const struct req *r, size_t lang, int status,
    const char *title, const char *html)
{
	struct tmpl_scope *s = tmpl_new(), *it;
	struct buf next;
	struct err e;
	size_t i;

	tmpl_set(s, "lang", lang_codes[lang]);
	tmpl_set(s, "title", title);
	tmpl_set(s, "site", "keydir");
	tmpl_set(s, "style", site_style_path());
	tmpl_set(s, "content", html);
	buf_init(&next, 4096);
	switch_next(r, &next);
	for (i = 0; i < LANG_N; i++) {
		it = tmpl_item(s, "langs");
		tmpl_set(it, "code", lang_codes[i]);
		tmpl_set(it, "name", lang_names[i]);
		tmpl_set(it, "current", i == lang ? "1" : "");
		tmpl_set(it, "next", buf_failed(&next) ? "/" : next.data);
	}
	buf_release(&next);
	w->status = status;
	w->ctype = "text/html; charset=utf-8";
	buf_reset(&w->body);
	if (tmpl_render(&w->body, asset_text("layout.html"), s, tr_cb,
	    lang_cat(lang), &e) == -1) {
		log_warnx("site: %s", e.msg);
		buf_fail(&w->body);	/* http.c answers 500 */
	}
	tmpl_free(s);
	page_headers(w, lang);
}

void
site_page_html(struct resp *w, const struct req *r, int status,
    const char *title, const char *html)
{
	layout(w, r, site_lang(r), status, title, html);
}

void
site_page(struct resp *w, const struct req *r, int status,
    const char *title, const char *content, struct tmpl_scope *s)
{
	struct tmpl_scope *empty = NULL;
	size_t lang = site_lang(r);
	struct buf b;
	struct err e;
	int rc;

	if (s == NULL)
		s = empty = tmpl_new();
	buf_init(&b, 1024 * 1024);
	rc = tmpl_render(&b, asset_text(content), s, tr_cb,
	    lang_cat(lang), &e);
	tmpl_free(empty);
	if (rc == -1) {
		log_warnx("site: %s: %s", content, e.msg);
		buf_release(&b);
		w->status = 500;
		buf_reset(&w->body);
		buf_fail(&w->body);
		return;
	}
	layout(w, r, lang, status, lang_tr(lang, title), b.data);
	buf_release(&b);
}

bool
site_wants_html(const struct req *r)
{
	if (!strncmp(r->path, "/vks/", 5) || !strncmp(r->path, "/api/", 5) ||
	    !strncmp(r->path, "/pks/", 5))
		return false;
	return r->accept != NULL && strstr(r->accept, "text/html") != NULL;
}

void
site_error(struct resp *w, const struct req *r, int status,
    const char *title, const char *text)
{
	struct tmpl_scope *s = tmpl_new();
	size_t lang = site_lang(r);

	tmpl_set(s, "text", lang_tr(lang, text));
	tmpl_set(s, "back", "/");
	tmpl_set(s, "back_text", lang_tr(lang, N_("Back to the start")));
	site_page(w, r, status, title, "message.html", s);
	tmpl_free(s);
}

/*
 * The gpg --keyserver URL of base_url as "keyserver" in s: hkps:// for
 * https (gpg speaks TLS only to hkps://), and for http a port said
 * outright, since to gpg hkp:// alone means port 11371, not 80.
 */
void
site_keyserver(const char *base_url, struct tmpl_scope *s)
{
	const char *auth = strstr(base_url, "://") + 3;
	const char *br = strrchr(auth, ']');
	bool tls = strncmp(base_url, "https://", 8) == 0;

	tmpl_setf(s, "keyserver", "%s%s%s", tls ? "hkps://" : "hkp://", auth,
	    !tls && strpbrk(br != NULL ? br : auth, ":/") == NULL ? ":80" : "");
}

/* A static asset with its type and how long it may be cached. */
static void
serve_asset(struct resp *w, const char *name, const char *ctype,
    const char *cache)
{
	struct asset a;

	if (asset_get(name, &a) == -1) {
		view_text(w, 404, "Not found");
		return;
	}
	w->status = 200;
	w->ctype = ctype;
	buf_reset(&w->body);
	buf_add(&w->body, a.data, a.len);
	resp_header(w, "Cache-Control", cache);
	resp_header(w, "X-Content-Type-Options", "nosniff");
}

/* GET /static/style.HASH.css: only under its current hash, cached for a
 * year (a new stylesheet has a new name). */
void
h_static(struct daemon *d, struct req *r, struct resp *w, const char *rest)
{
	(void)d;
	(void)r;
	if (strcmp(site_style_path() + strlen("/static/"), rest) != 0) {
		view_text(w, 404, "Not found");
		return;
	}
	serve_asset(w, "style.css", "text/css; charset=utf-8",
	    "public, max-age=31536000, immutable");
}

/* GET /favicon.svg */
void
h_favicon(struct daemon *d, struct req *r, struct resp *w, const char *rest)
{
	(void)d;
	(void)r;
	(void)rest;
	serve_asset(w, "favicon.svg", "image/svg+xml", "public, max-age=86400");
}

/* GET /robots.txt */
void
h_robots(struct daemon *d, struct req *r, struct resp *w, const char *rest)
{
	(void)d;
	(void)r;
	(void)rest;
	serve_asset(w, "robots.txt", "text/plain; charset=utf-8",
	    "public, max-age=86400");
}

/*
 * GET /lang/CODE?next=PATH: remember the language in a cookie and go back
 * to PATH, a path of this site only ("/x", never "//host" or a scheme:
 * no open redirect).
 */
void
h_lang(struct daemon *d, struct req *r, struct resp *w, const char *rest)
{
	char cookie[128], *next;
	const char *to = "/";
	size_t i;

	for (i = 0; i < LANG_N; i++)
		if (!strcmp(rest, lang_codes[i]))
			break;
	if (i == LANG_N) {
		view_text(w, 404, "Not found");
		return;
	}
	next = req_arg(r, "next");
	if (next != NULL && next[0] == '/' && next[1] != '/' &&
	    next[1] != '\\' && !str_has_ctl(next, strlen(next)))
		to = next;
	snprintf(cookie, sizeof(cookie), "lang=%s; Path=/; Max-Age=31536000; "
	    "SameSite=Lax; HttpOnly%s", lang_codes[i],
	    !strncmp(d->cfg.base_url, "https:", 6) ? "; Secure" : "");
	w->status = 303;
	w->ctype = "text/plain; charset=utf-8";
	buf_reset(&w->body);
	buf_printf(&w->body, "See %s\n", to);
	resp_header(w, "Location", to);
	resp_header(w, "Set-Cookie", cookie);
	resp_header(w, "Cache-Control", "no-store");
	free(next);
}
