/*
 * site: the web site's frame.  Every HTML page is its own template
 * rendered into web/templates/layout.html, in the visitor's language
 * (a lang cookie set by the footer's switch, else Accept-Language),
 * with the strict headers of every page; and the static files beside
 * it: the stylesheet under a name that holds its hash (so it may be
 * cached for a year), the favicon and robots.txt.
 */
#ifndef KEYDIR_SITE_H
#define KEYDIR_SITE_H

#include <stdbool.h>

#include "http.h"
#include "lang.h"
#include "tmpl.h"

/* The language for r (lang.h): the lang cookie's, else
 * Accept-Language's; 0 for r NULL. */
size_t site_lang(const struct req *r);

/*
 * A whole page: content (a template's name, rendered with s, which may
 * be NULL) in the layout, in r's language (r NULL: the default), with
 * title (a msgid, translated) and status.  A template that fails is a
 * 500, never half a page.
 */
void site_page(struct resp *w, const struct req *r, int status,
    const char *title, const char *content, struct tmpl_scope *s);
/* The same with content already HTML (the older pages' bodies), title
 * as it is. */
void site_page_html(struct resp *w, const struct req *r, int status,
    const char *title, const char *html);

/* Whether r is a browser's, to be answered with a page: not an API path
 * (/vks/, /api/, /pks/ keep their JSON or text) and text/html accepted. */
bool site_wants_html(const struct req *r);
/* An error page: title and text are msgids, translated; a link home. */
void site_error(struct resp *w, const struct req *r, int status,
    const char *title, const char *text);

/* "keyserver" in s: the hkp:// or hkps:// address of base_url for gpg. */
void site_keyserver(const char *base_url, struct tmpl_scope *s);

/* The stylesheet's path, "/static/style.HASH.css". */
const char *site_style_path(void);
#endif
