/*
 * views: HTML, JSON and key responses.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "armor.h"
#include "site.h"
#include "store.h"
#include "str.h"
#include "views.h"
#include "xmalloc.h"

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

/* Whole page: the site's layout (site.c), in English until each page
 * has its template. */
void
view_page(struct resp *w, int status, const char *title,
    const struct buf *html)
{
	site_page_html(w, NULL, status, title, html->data);
	if (buf_failed(html))
		buf_fail(&w->body);	/* http.c answers 500 */
}

/* Page with one paragraph and the way home. */
void
view_message(struct resp *w, const struct req *r, int status,
    const char *title, const char *text)
{
	struct tmpl_scope *s = tmpl_new();

	tmpl_set(s, "text", text);
	tmpl_set(s, "back", "/");
	tmpl_set(s, "back_text", lang_tr(site_lang(r),
	    N_("Back to the start")));
	site_page(w, r, status, title, "message.html", s);
	tmpl_free(s);
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

size_t
view_json_lang(const json_t *locale)
{
	const char *v[16];
	size_t n = 0, i;

	if (json_is_string(locale))
		return lang_code(json_string_value(locale));
	if (!json_is_array(locale))
		return 0;
	for (i = 0; i < json_array_size(locale) && n < 16; i++)
		if (json_is_string(json_array_get(locale, i)))
			v[n++] = json_string_value(json_array_get(locale, i));
	return lang_locales(v, n);
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
	const char *lines, *end;
	size_t n = 0;

	for (q = p; q != NULL; q = q->next)
		n++;
	buf_reset(&w->body);
	buf_printf(&w->body, "info:1:%zu\r\n", n);
	for (q = p; q != NULL; q = q->next) {
		/* the pub: and uid: lines; the sub: lines after them are
		 * the site's (clients know only the draft's records) */
		if ((lines = strstr(q->hkp_index, "\r\npub:")) == NULL)
			continue;
		lines += 2;
		if ((end = strstr(lines, "\r\nsub:")) != NULL)
			buf_add(&w->body, lines, (size_t)(end - lines) + 2);
		else
			buf_addstr(&w->body, lines);
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
view_link_error(struct resp *w, const struct req *r, const struct err *e)
{
	view_message(w, r, http_status(e->code),
	    e->code == ERR_NOTFOUND || e->code == ERR_GONE ?
	    N_("This link does not work") : N_("Something went wrong"),
	    lang_tr(site_lang(r), e->msg));
}
