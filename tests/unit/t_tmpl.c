/*
 * t_tmpl: templates escape every value unless the template says
 * otherwise, sections repeat and nest, names are found outward, and a
 * malformed template fails whole instead of rendering half a page.
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "tap.h"
#include "tmpl.h"

static char out[4096];

/* Whether a render failed with sub in its message. */
static int
failed_with(const char *got, const char *sub)
{
	return !strncmp(got, "ERR: ", 5) && strstr(got, sub) != NULL;
}

/* Render t with s into out; "ERR: msg" when it fails. */
static const char *
r(const char *t, const struct tmpl_scope *s)
{
	struct buf b;
	struct err e;

	buf_init(&b, sizeof(out) - 1);
	if (tmpl_render(&b, t, s, NULL, NULL, &e) == -1)
		snprintf(out, sizeof(out), "ERR: %s", e.msg);
	else
		snprintf(out, sizeof(out), "%s", b.data);
	buf_release(&b);
	return out;
}

/* A translation into "German" for the test: a few fixed words. */
static const char *
tr_de(const void *arg, const char *id)
{
	(void)arg;
	if (!strcmp(id, "Search"))
		return "Suche";
	if (!strcmp(id, "Tom & Jerry"))
		return "Tom & Jerry <de>";
	return id;
}

int
main(void)
{
	struct tmpl_scope *s = tmpl_new(), *it;
	struct buf b;
	struct err e;

	tmpl_set(s, "v", "<a href=\"x\">'&'</a>");
	is_str(r("[{{v}}]", s),
	    "[&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;]",
	    "a value is escaped: & < > \" '");
	is_str(r("[{{{v}}}]", s), "[<a href=\"x\">'&'</a>]",
	    "{{{raw}}} is not");
	is_str(r("a{{nope}}b", s), "ab", "an unset name is empty");
	tmpl_setf(s, "n", "%d keys", 3);
	is_str(r("{{n}}", s), "3 keys", "tmpl_setf");
	tmpl_set(s, "n", NULL);
	is_str(r("[{{n}}]{{#n}}yes{{/n}}{{^n}}no{{/n}}", s), "[]no",
	    "NULL sets \"\"; \"\" is empty for {{#}} and {{^}}");
	tmpl_set(s, "t", "1");
	is_str(r("{{#t}}yes {{v}}{{/t}}{{^t}}no{{/t}}", s),
	    "yes &lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;",
	    "a non-empty string shows {{#}} once, in the same scope");

	tmpl_list(s, "keys");
	is_str(r("{{#keys}}x{{/keys}}{{^keys}}none{{/keys}}", s), "none",
	    "an empty list");
	it = tmpl_item(s, "keys");
	tmpl_set(it, "fpr", "AAAA");
	tmpl_set(tmpl_item(it, "uids"), "addr", "a@<x>");
	tmpl_set(tmpl_item(it, "uids"), "addr", "b@x");
	it = tmpl_item(s, "keys");
	tmpl_set(it, "fpr", "BBBB");
	tmpl_set(s, "sep", ";");
	is_str(r("{{#keys}}{{fpr}}:{{#uids}}{{addr}}/{{fpr}}{{sep}}{{/uids}}"
	    "{{^uids}}-{{/uids}} {{/keys}}", s),
	    "AAAA:a@&lt;x&gt;/AAAA;b@x/AAAA; BBBB:- ",
	    "lists repeat per item, nest, and find names outward");
	is_str(r("{{#keys}}{{#keys}}in{{/keys}}{{/keys}}", s), "inininin",
	    "a section of the same name nests, and finds the outer list "
	    "from inside an item (2 x 2)");
	tmpl_set(s, "keys", "now a string");
	is_str(r("{{#keys}}[{{keys}}]{{/keys}}", s), "[now a string]",
	    "tmpl_set replaces a list");

	is_str(r("{{! a comment }}a{{_ Search}}", s), "aSearch",
	    "comments vanish; {{_ text}} without a translator is the text");
	buf_init(&b, 256);
	ok(tmpl_render(&b, "{{_ Search}} {{_ Tom & Jerry}}", s, tr_de, NULL,
	    &e) == 0 && !strcmp(b.data, "Suche Tom &amp; Jerry &lt;de&gt;"),
	    "{{_ text}} is translated, then escaped");
	buf_release(&b);

	ok(failed_with(r("a{{#t}}b", s), "{{#t}} is not closed"),
	    "an unclosed section fails");
	ok(failed_with(r("a{{/t}}b", s), "closes nothing"), "a stray close fails");
	ok(failed_with(r("a{{v", s), "not ended"), "an unended tag fails");
	ok(failed_with(r("a{{{v}}b", s), "ended by"), "{{{ closed by }} fails");
	ok(failed_with(r("{{a b}}", s), "bad name"), "a name with a space fails");
	ok(failed_with(r("{{}}", s), "bad name"), "an empty name fails");
	is_str(r("{{#a}}{{#a}}{{#a}}{{#a}}{{#a}}{{#a}}{{#a}}{{#a}}{{#a}}{{#a}}"
	    "{{#a}}{{#a}}{{#a}}{{#a}}{{#a}}{{#a}}{{#a}}{{#a}}x{{/a}}{{/a}}"
	    "{{/a}}{{/a}}{{/a}}{{/a}}{{/a}}{{/a}}{{/a}}{{/a}}{{/a}}{{/a}}"
	    "{{/a}}{{/a}}{{/a}}{{/a}}{{/a}}{{/a}}", s), "",
	    "deep sections that do not show cost nothing");
	tmpl_set(s, "a", "1");
	ok(failed_with(r("{{#a}}{{#a}}{{#a}}{{#a}}{{#a}}{{#a}}{{#a}}{{#a}}{{#a}}{{#a}}"
	    "{{#a}}{{#a}}{{#a}}{{#a}}{{#a}}{{#a}}{{#a}}{{#a}}x{{/a}}{{/a}}"
	    "{{/a}}{{/a}}{{/a}}{{/a}}{{/a}}{{/a}}{{/a}}{{/a}}{{/a}}{{/a}}"
	    "{{/a}}{{/a}}{{/a}}{{/a}}{{/a}}{{/a}}", s), "deeper"),
	    "sections nested past the limit fail");

	buf_init(&b, 8);
	ok(tmpl_render(&b, "{{v}}", s, NULL, NULL, &e) == -1 &&
	    strstr(e.msg, "does not fit") != NULL,
	    "a page past its buffer fails, never cut short");
	buf_release(&b);
	tmpl_free(s);
	return tap_done();
}
