/*
 * views: HTML, JSON and key responses.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "armor.h"
#include "store.h"
#include "str.h"
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

/*
 * The pages' Content-Security-Policy: nothing may load or run but the
 * page's own style sheet (allowed by its hash, so no inline script can
 * ride along), forms post only here, and no other site may frame it.
 */
static char page_csp[256];
static pthread_once_t page_csp_once = PTHREAD_ONCE_INIT;

static void
page_csp_make(void)
{
	uint8_t h[crypto_hash_sha256_BYTES];
	char b64[sodium_base64_ENCODED_LEN(crypto_hash_sha256_BYTES,
	    sodium_base64_VARIANT_ORIGINAL)];

	crypto_hash_sha256(h, (const uint8_t *)page_style, strlen(page_style));
	sodium_bin2base64(b64, sizeof(b64), h, sizeof(h),
	    sodium_base64_VARIANT_ORIGINAL);
	snprintf(page_csp, sizeof(page_csp), "default-src 'none'; style-src "
	    "'sha256-%s'; form-action 'self'; frame-ancestors 'none'; "
	    "base-uri 'none'", b64);
}

/* Whole page. */
void
view_page(struct resp *w, int status, const char *title,
    const struct buf *html)
{
	const char *body_html = html->data;

	w->status = status;
	w->ctype = "text/html; charset=utf-8";
	buf_reset(&w->body);
	if (buf_failed(html))
		buf_fail(&w->body);	/* http.c answers 500 */
	buf_printf(&w->body, "<!doctype html>\n<html lang=\"en\"><head>"
	    "<meta charset=\"utf-8\"><meta name=\"viewport\" "
	    "content=\"width=device-width\"><title>");
	view_html_escape(&w->body, title);
	buf_printf(&w->body, "</title><style>%s</style></head><body>\n<h1>",
	    page_style);
	view_html_escape(&w->body, title);
	buf_printf(&w->body, "</h1>\n%s\n</body></html>\n", body_html);
	pthread_once(&page_csp_once, page_csp_make);
	resp_header(w, "Cache-Control", "no-store");
	resp_header(w, "X-Frame-Options", "DENY");
	resp_header(w, "Content-Security-Policy", page_csp);
	resp_header(w, "X-Content-Type-Options", "nosniff");
	resp_header(w, "Referrer-Policy", "no-referrer");
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
	view_page(w, status, title, &b);
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
	view_json(w, http_status(e->code),
	    json_pack("{s:s}", "error", e->msg));
}

/* Plain text. */
void
view_text(struct resp *w, int status, const char *text)
{
	resp_printf(w, status, "text/plain; charset=utf-8", "%s\n", text);
	resp_header(w, "Access-Control-Allow-Origin", "*");
}

/* The ETag of the keys p chains: a digest of theirs. */
static void
view_keys_etag(const struct store_pub *p, char etag[STORE_ETAG_LEN + 1])
{
	crypto_hash_sha256_state h;
	uint8_t sum[crypto_hash_sha256_BYTES];

	crypto_hash_sha256_init(&h);
	for (; p != NULL; p = p->next)
		crypto_hash_sha256_update(&h, (const uint8_t *)p->etag,
		    strlen(p->etag));
	crypto_hash_sha256_final(&h, sum);
	store_etag(sum, etag);
}

/*
 * The keys p chains joined into one armor block (clients read one block
 * most reliably); -1 when a stored form does not decode, which would be
 * our fault, or the keys pass the body's cap.
 */
static int
view_keys_join(const struct store_pub *p, struct buf *body)
{
	struct buf bin;
	int rc = 0;

	buf_init(&bin, body->max);
	for (; p != NULL && rc == 0; p = p->next)
		rc = armor_decode(p->published, p->published_len, &bin);
	if (rc == 0)
		rc = armor_encode_keys((const uint8_t *)bin.data, bin.len,
		    body);
	buf_release(&bin);
	return rc;
}

/* Serve a key, or all the keys p chains in one block. */
void
view_key(struct resp *w, const struct req *r, const struct store_pub *p)
{
	const char *inm = r->if_none_match;
	char disp[80], etag[STORE_ETAG_LEN + 1];

	buf_reset(&w->body);
	if (p->next != NULL)
		view_keys_etag(p, etag);
	else
		str_lcpy(etag, p->etag, sizeof(etag));
	resp_header(w, "Access-Control-Allow-Origin", "*");
	resp_header(w, "Cache-Control", "no-cache");
	resp_header(w, "ETag", etag);
	if (inm && strstr(inm, etag) != NULL) {
		w->status = 304;
		w->ctype = NULL;
		return;
	}
	if (p->next != NULL && view_keys_join(p, &w->body) == -1) {
		view_text(w, 500, "cannot join the stored keys");
		return;
	}
	w->status = 200;
	w->ctype = "application/pgp-keys";
	snprintf(disp, sizeof(disp), "attachment; filename=\"%s.asc\"",
	    p->fpr);
	resp_header(w, "Content-Disposition", disp);
	if (p->next == NULL)
		buf_add(&w->body, p->published, p->published_len);
}

/* The HKP index of p and the keys it chains: one info line, then each
 * key's pub and uid lines. */
void
view_hkp_index(struct resp *w, const struct store_pub *p)
{
	const struct store_pub *q;
	const char *lines;
	size_t n = 0;

	for (q = p; q != NULL; q = q->next)
		n++;
	buf_reset(&w->body);
	buf_printf(&w->body, "info:1:%zu\r\n", n);
	for (q = p; q != NULL; q = q->next) {
		lines = strstr(q->hkp_index, "\r\npub:");
		buf_addstr(&w->body, lines ? lines + 2 : "");
	}
	w->status = 200;
	w->ctype = "text/plain; charset=utf-8";
	resp_header(w, "Access-Control-Allow-Origin", "*");
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
	view_message(w, http_status(e->code),
	    e->code == ERR_NOTFOUND || e->code == ERR_GONE ?
	    "This link does not work" : "Something went wrong", e->msg);
}
