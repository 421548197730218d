/*
 * tmpl: pages from templates, every value HTML-escaped unless the
 * template says otherwise.  A template is trusted text (a file of the
 * source tree, compiled in) with tags:
 *
 *   {{name}}                 the value of name, HTML-escaped
 *   {{{name}}}               the value as it is: only for HTML the code
 *                            made itself, never for anything from outside
 *   {{#name}}...{{/name}}    the inside once for each item of the list
 *                            name (in the item's scope), or once when name
 *                            is a non-empty string
 *   {{^name}}...{{/name}}    the inside when name is unset, "" or an empty
 *                            list
 *   {{_ text}}               text translated (the tmpl_tr given), escaped
 *   {{! comment}}            nothing
 *
 * A name is looked up in the innermost scope, then outward; an unset name
 * is "".  Whitespace inside a tag is not allowed around the name.  A
 * template that is wrong (a section not closed, a tag not ended) makes
 * tmpl_render fail instead of serving half a page: templates are tested.
 */
#ifndef KEYDIR_TMPL_H
#define KEYDIR_TMPL_H

#include "buf.h"
#include "err.h"

/* A set of names, each a string or a list of scopes. */
struct tmpl_scope;

/* A new empty top scope.  Never NULL (xmalloc). */
struct tmpl_scope *tmpl_new(void);
/* Free a top scope and everything in it. */
void tmpl_free(struct tmpl_scope *s);
/* Set name to a copy of value (NULL: ""), replacing what it was. */
void tmpl_set(struct tmpl_scope *s, const char *name, const char *value);
/* Set name to a formatted string. */
void tmpl_setf(struct tmpl_scope *s, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Append a new item (a scope inside s) to the list name and return it;
 * it belongs to s.  name becomes a list if it was not one. */
struct tmpl_scope *tmpl_item(struct tmpl_scope *s, const char *name);
/* Make name an empty list (so {{^name}} shows, {{#name}} does not). */
void tmpl_list(struct tmpl_scope *s, const char *name);

/* Translate msgid, or return it; arg is the caller's (the language). */
typedef const char *(*tmpl_tr)(const void *arg, const char *msgid);

/*
 * Render the NUL-terminated template t with the names of s, appended to
 * out; tr (NULL: none) translates {{_ text}}.  -1 with ERR_INTERNAL
 * naming the fault when t is malformed or out fails.
 */
int tmpl_render(struct buf *out, const char *t, const struct tmpl_scope *s,
    tmpl_tr tr, const void *arg, struct err *e);

/* Append s to b with &, <, >, " and ' escaped. */
void tmpl_escape(struct buf *b, const char *s);

#endif
