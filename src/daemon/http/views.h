/*
 * views: how answers look.  HTML pages (every interpolated value escaped),
 * JSON bodies (jansson) and plain-text errors.
 */
#ifndef KEYDIR_VIEWS_H
#define KEYDIR_VIEWS_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "err.h"
#include "http.h"

struct store_pub;

/* Append s to b with &, <, >, " and ' escaped. */
void view_html_escape(struct buf *b, const char *s);
/* A whole HTML page: title (escaped) and a body already in HTML (a
 * body whose buffer failed makes the response fail: a 500). */
void view_page(struct resp *w, int status, const char *title,
    const struct buf *html);
/* A page in r's language with a title (a msgid, translated) and one
 * escaped paragraph (text as it is) and the way home. */
void view_message(struct resp *w, const struct req *r, int status,
    const char *title, const char *text);
/* {"error": msg} with the status that e's code maps to. */
void view_json_error(struct resp *w, const struct err *e);
/* Serialize a jansson value (stolen) with status. */
struct json_t;
void view_json(struct resp *w, int status, struct json_t *v);
/* The language (lang.h) of a request's "locale" member: a list of
 * locales ("de_CH", "de"; keys.openpgp.org's request-verify) or one;
 * 0 when absent or none has a catalog. */
size_t view_json_lang(const struct json_t *locale);
/* Plain-text error with status. */
void view_text(struct resp *w, int status, const char *text);
#define VIEW_TOKEN_MAX 128

/*
 * The token in the path rest of a link route ("TOKEN" or "TOKEN/suffix")
 * into tok; *suffixed says which.  -1 when it cannot be a token.
 */
int view_link_token(const char *rest, const char *suffix, char *tok,
    size_t sz, bool *suffixed);
/* The page for a link that does not work (404, 410) or failed, in r's
 * language (e->msg translated when the catalog has it). */
void view_link_error(struct resp *w, const struct req *r,
    const struct err *e);
/* Serve a key: armored body, ETag, CORS, If-None-Match → 304.  Several
 * keys chained on p are served in one armor block with an ETag over all. */
void view_key(struct resp *w, const struct req *r,
    const struct store_pub *p);
/* The HKP machine-readable index of p and the keys chained on it. */
void view_hkp_index(struct resp *w, const struct store_pub *p);

#endif
