/*
 * tmpl: a small subset of mustache, escaping by default (tmpl.h).
 *
 * A scope is a singly linked list of names; a list name holds an array
 * of item scopes, each pointing back at the scope it is in, which is how
 * a lookup walks outward.  The template is read as it is rendered: pages
 * are a few kilobytes and no lookup renders one.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tmpl.h"
#include "xmalloc.h"

#define TMPL_NAME_MAX 64
#define TMPL_DEPTH_MAX 16

struct tmpl_var {
	struct tmpl_var *next;
	char *name;
	char *str;			/* a string, or NULL for a list */
	struct tmpl_scope **items;
	size_t nitems;
};

struct tmpl_scope {
	const struct tmpl_scope *up;	/* NULL for a top scope */
	struct tmpl_var *vars;
};

struct tmpl_scope *
tmpl_new(void)
{
	return xcalloc(1, sizeof(struct tmpl_scope));
}

static void
var_clear(struct tmpl_var *v)
{
	size_t i;

	free(v->str);
	v->str = NULL;
	for (i = 0; i < v->nitems; i++)
		tmpl_free(v->items[i]);
	free(v->items);
	v->items = NULL;
	v->nitems = 0;
}

void
tmpl_free(struct tmpl_scope *s)
{
	struct tmpl_var *v, *next;

	if (s == NULL)
		return;
	for (v = s->vars; v != NULL; v = next) {
		next = v->next;
		var_clear(v);
		free(v->name);
		free(v);
	}
	free(s);
}

/* The variable name of s itself (not of the scopes around it), made
 * when missing. */
static struct tmpl_var *
var_own(struct tmpl_scope *s, const char *name)
{
	struct tmpl_var *v;

	for (v = s->vars; v != NULL; v = v->next)
		if (!strcmp(v->name, name))
			return v;
	v = xcalloc(1, sizeof(*v));
	v->name = xstrdup(name);
	v->next = s->vars;
	s->vars = v;
	return v;
}

void
tmpl_set(struct tmpl_scope *s, const char *name, const char *value)
{
	struct tmpl_var *v = var_own(s, name);

	var_clear(v);
	v->str = xstrdup(value != NULL ? value : "");
}

void
tmpl_setf(struct tmpl_scope *s, const char *name, const char *fmt, ...)
{
	struct tmpl_var *v = var_own(s, name);
	struct buf b;
	va_list ap;

	buf_init(&b, 64 * 1024);
	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	var_clear(v);
	v->str = buf_detach(&b, NULL);
}

void
tmpl_list(struct tmpl_scope *s, const char *name)
{
	struct tmpl_var *v = var_own(s, name);

	if (v->str != NULL || v->nitems != 0)
		var_clear(v);
}

struct tmpl_scope *
tmpl_item(struct tmpl_scope *s, const char *name)
{
	struct tmpl_var *v = var_own(s, name);
	struct tmpl_scope *it;

	if (v->str != NULL)
		var_clear(v);
	v->items = xrealloc(v->items, (v->nitems + 1) * sizeof(*v->items));
	it = tmpl_new();
	it->up = s;
	v->items[v->nitems++] = it;
	return it;
}

/* name in s or a scope around it; NULL when unset. */
static const struct tmpl_var *
var_find(const struct tmpl_scope *s, const char *name)
{
	const struct tmpl_var *v;

	for (; s != NULL; s = s->up)
		for (v = s->vars; v != NULL; v = v->next)
			if (!strcmp(v->name, name))
				return v;
	return NULL;
}

void
tmpl_escape(struct buf *b, const char *s)
{
	const char *run = s;

	for (; *s; s++) {
		const char *rep;

		switch (*s) {
		case '&':
			rep = "&amp;";
			break;
		case '<':
			rep = "&lt;";
			break;
		case '>':
			rep = "&gt;";
			break;
		case '"':
			rep = "&quot;";
			break;
		case '\'':
			rep = "&#39;";
			break;
		default:
			continue;
		}
		buf_add(b, run, (size_t)(s - run));
		buf_addstr(b, rep);
		run = s + 1;
	}
	buf_add(b, run, (size_t)(s - run));
}

/* One tag: its kind ('\0' a value, '{' raw, '#', '^', '/', '_', '!'),
 * its text (name or words) and where the text after it starts. */
struct tag {
	char kind;
	const char *text;
	size_t len;
	const char *end;
};

/* The next tag at or after p, before lim: *open set to its "{{", or NULL
 * when there is none.  -1 when a tag is not ended or its name is bad. */
static int
tag_next(const char *p, const char *lim, const char **open, struct tag *t,
    struct err *e)
{
	const char *q, *close;
	size_t i;

	*open = NULL;
	for (q = p; q + 1 < lim; q++)
		if (q[0] == '{' && q[1] == '{')
			break;
	if (q + 1 >= lim)
		return 0;
	*open = q;
	q += 2;
	t->kind = '\0';
	if (q < lim && strchr("{#^/_!", *q) != NULL)
		t->kind = *q++;
	close = NULL;
	for (i = 0; q + i + 1 < lim; i++)
		if (q[i] == '}' && q[i + 1] == '}') {
			close = q + i;
			break;
		}
	if (close == NULL)
		return err_set(e, ERR_INTERNAL, "template: a tag is not ended "
		    "(%.20s)", *open);
	t->end = close + 2;
	if (t->kind == '{') {
		if (close + 2 >= lim || close[2] != '}')
			return err_set(e, ERR_INTERNAL, "template: {{{ ended "
			    "by }} (%.20s)", *open);
		t->end = close + 3;
	}
	if (t->kind == '_' || t->kind == '!') {
		while (q < close && *q == ' ')
			q++;
		t->text = q;
		t->len = (size_t)(close - q);
		return 0;
	}
	t->text = q;
	t->len = (size_t)(close - q);
	if (t->len == 0 || t->len >= TMPL_NAME_MAX)
		return err_set(e, ERR_INTERNAL, "template: a bad name in "
		    "%.20s", *open);
	for (i = 0; i < t->len; i++)
		if (!(q[i] == '_' || q[i] == '.' || q[i] == '-' ||
		    (q[i] >= 'a' && q[i] <= 'z') ||
		    (q[i] >= 'A' && q[i] <= 'Z') ||
		    (q[i] >= '0' && q[i] <= '9')))
			return err_set(e, ERR_INTERNAL, "template: a bad name "
			    "in %.20s", *open);
	return 0;
}

/* Where the section opened by t (name) closes: *inner_end at its
 * "{{/name}}", *after past it.  Sections of the same name nest. */
static int
section_end(const struct tag *t, const char *lim, const char **inner_end,
    const char **after, struct err *e)
{
	const char *p = t->end, *open;
	struct tag u;
	int depth = 1;

	for (;;) {
		if (tag_next(p, lim, &open, &u, e) == -1)
			return -1;
		if (open == NULL)
			return err_set(e, ERR_INTERNAL, "template: {{%c%.*s}} "
			    "is not closed", t->kind, (int)t->len, t->text);
		p = u.end;
		if ((u.kind != '#' && u.kind != '^' && u.kind != '/') ||
		    u.len != t->len || memcmp(u.text, t->text, t->len) != 0)
			continue;
		if (u.kind != '/')
			depth++;
		else if (--depth == 0) {
			*inner_end = open;
			*after = u.end;
			return 0;
		}
	}
}

struct render {
	struct buf *out;
	tmpl_tr tr;
	const void *arg;
	struct err *e;
};

static int render(struct render *r, const char *p, const char *lim,
    const struct tmpl_scope *s, int depth);

/* A section's inside for t in scope s. */
static int
render_section(struct render *r, const struct tag *t, const char *in,
    const char *in_end, const struct tmpl_scope *s, int depth)
{
	char name[TMPL_NAME_MAX];
	const struct tmpl_var *v;
	bool empty;
	size_t i;

	memcpy(name, t->text, t->len);
	name[t->len] = '\0';
	v = var_find(s, name);
	empty = v == NULL || (v->str != NULL ? v->str[0] == '\0' :
	    v->nitems == 0);
	if (t->kind == '^')
		return empty ? render(r, in, in_end, s, depth + 1) : 0;
	if (empty)
		return 0;
	if (v->str != NULL)
		return render(r, in, in_end, s, depth + 1);
	for (i = 0; i < v->nitems; i++)
		if (render(r, in, in_end, v->items[i], depth + 1) == -1)
			return -1;
	return 0;
}

/* Render [p, lim) in scope s. */
static int
render(struct render *r, const char *p, const char *lim,
    const struct tmpl_scope *s, int depth)
{
	char name[TMPL_NAME_MAX], *words;
	const struct tmpl_var *v;
	const char *open, *in_end = NULL, *after = NULL;
	struct tag t;

	if (depth > TMPL_DEPTH_MAX)
		return err_set(r->e, ERR_INTERNAL, "template: sections nest "
		    "deeper than %d", TMPL_DEPTH_MAX);
	while (p < lim) {
		if (tag_next(p, lim, &open, &t, r->e) == -1)
			return -1;
		if (open == NULL) {
			buf_add(r->out, p, (size_t)(lim - p));
			break;
		}
		buf_add(r->out, p, (size_t)(open - p));
		p = t.end;
		switch (t.kind) {
		case '!':
			break;
		case '/':
			return err_set(r->e, ERR_INTERNAL, "template: {{/%.*s}} "
			    "closes nothing", (int)t.len, t.text);
		case '#':
		case '^':
			if (section_end(&t, lim, &in_end, &after, r->e) == -1 ||
			    render_section(r, &t, t.end, in_end, s, depth) ==
			    -1)
				return -1;
			p = after;
			break;
		case '_':
			words = xstrndup(t.text, t.len);
			tmpl_escape(r->out, r->tr != NULL ?
			    r->tr(r->arg, words) : words);
			free(words);
			break;
		default:
			memcpy(name, t.text, t.len);
			name[t.len] = '\0';
			v = var_find(s, name);
			if (v == NULL || v->str == NULL)
				break;
			if (t.kind == '{')
				buf_addstr(r->out, v->str);
			else
				tmpl_escape(r->out, v->str);
		}
	}
	return 0;
}

int
tmpl_render(struct buf *out, const char *t, const struct tmpl_scope *s,
    tmpl_tr tr, const void *arg, struct err *e)
{
	struct render r = { out, tr, arg, e };

	if (render(&r, t, t + strlen(t), s, 0) == -1)
		return -1;
	if (buf_failed(out))
		return err_set(e, ERR_INTERNAL, "template: the page does not "
		    "fit");
	return 0;
}
