/*
 * views: HTML, JSON and key responses.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "store.h"
#include "views.h"
#include "xmalloc.h"

static const char page_style[] =
    "body{font-family:sans-serif;max-width:42em;margin:2em auto;"
    "padding:0 1em;line-height:1.5}code{word-break:break-all}"
    "button{font-size:1em;padding:.4em 1em;margin:.3em .3em .3em 0}";

/* HTML-escape. */
void
view_html_escape(struct buf *b, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&':
			buf_addstr(b, "&amp;");
			break;
		case '<':
			buf_addstr(b, "&lt;");
			break;
		case '>':
			buf_addstr(b, "&gt;");
			break;
		case '"':
			buf_addstr(b, "&quot;");
			break;
		case '\'':
			buf_addstr(b, "&#39;");
			break;
		default:
			buf_addch(b, *s);
		}
	}
}

/* Whole page. */
void
view_page(struct resp *w, int status, const char *title,
    const char *body_html)
{
	w->status = status;
	w->ctype = "text/html; charset=utf-8";
	buf_reset(&w->body);
	buf_printf(&w->body, "<!doctype html>\n<html lang=\"en\"><head>"
	    "<meta charset=\"utf-8\"><meta name=\"viewport\" "
	    "content=\"width=device-width\"><title>");
	view_html_escape(&w->body, title);
	buf_printf(&w->body, "</title><style>%s</style></head><body>\n<h1>",
	    page_style);
	view_html_escape(&w->body, title);
	buf_printf(&w->body, "</h1>\n%s\n</body></html>\n", body_html);
	resp_header(w, "Cache-Control", "no-store");
	resp_header(w, "X-Frame-Options", "DENY");
}

/* Page with one paragraph. */
void
view_message(struct resp *w, int status, const char *title,
    const char *text)
{
	struct buf b;

	buf_init(&b, 64 * 1024);
	buf_addstr(&b, "<p>");
	view_html_escape(&b, text);
	buf_addstr(&b, "</p>");
	view_page(w, status, title, b.data);
	buf_release(&b);
}

/* JSON body. */
void
view_json(struct resp *w, int status, json_t *v)
{
	char *s = json_dumps(v, JSON_COMPACT);

	json_decref(v);
	w->status = status;
	w->ctype = "application/json";
	buf_reset(&w->body);
	buf_addstr(&w->body, s ? s : "{}");
	free(s);
	resp_header(w, "Access-Control-Allow-Origin", "*");
}

/* {"error": ...}. */
void
view_json_error(struct resp *w, const struct err *e)
{
	view_json(w, err_http_status(e->code),
	    json_pack("{s:s}", "error", e->msg));
}

/* Plain text. */
void
view_text(struct resp *w, int status, const char *text)
{
	resp_printf(w, status, "text/plain; charset=utf-8", "%s\n", text);
	resp_header(w, "Access-Control-Allow-Origin", "*");
}

/* Serve a key. */
void
view_key(struct resp *w, const struct req *r, const struct store_pub *p)
{
	const char *inm = req_header(r, "If-None-Match");
	char disp[80];

	resp_header(w, "Access-Control-Allow-Origin", "*");
	resp_header(w, "Cache-Control", "no-cache");
	resp_header(w, "ETag", p->etag);
	if (inm && strstr(inm, p->etag) != NULL) {
		w->status = 304;
		w->ctype = NULL;
		buf_reset(&w->body);
		return;
	}
	w->status = 200;
	w->ctype = "application/pgp-keys";
	snprintf(disp, sizeof(disp), "attachment; filename=\"%s.asc\"",
	    p->fpr);
	resp_header(w, "Content-Disposition", disp);
	buf_reset(&w->body);
	buf_add(&w->body, p->published, p->published_len);
}

/* The token of a link path. */
int
view_link_token(const char *rest, const char *suffix, char *tok, size_t sz,
    bool *suffixed)
{
	const char *slash = strchr(rest, '/');
	size_t n = slash ? (size_t)(slash - rest) : strlen(rest);

	*suffixed = slash && !strcmp(slash + 1, suffix);
	if (n == 0 || n >= sz || (slash && !*suffixed))
		return -1;
	memcpy(tok, rest, n);
	tok[n] = '\0';
	return 0;
}

/* A link that does not work. */
void
view_link_error(struct resp *w, const struct err *e)
{
	view_message(w, err_http_status(e->code),
	    e->code == ERR_NOTFOUND || e->code == ERR_GONE ?
	    "This link does not work" : "Something went wrong", e->msg);
}
