/*
 * t_email: address normalisation, one table row per input.
 */
#include <string.h>

#include "email.h"
#include "tap.h"

struct email_case {
	const char *in;
	const char *want;	/* NULL: refused */
};

static const struct email_case norm_cases[] = {
	/* Case folding and bare addresses. */
	{ "alice@example.org", "alice@example.org" },
	{ "Alice@Example.ORG", "alice@example.org" },
	{ "  alice@example.org  ", "alice@example.org" },
	{ "a.b+tag@sub.example.org", "a.b+tag@sub.example.org" },
	{ "o'neil#$&*/=?^_`{|}~@example.org",
	    "o'neil#$&*/=?^_`{|}~@example.org" },
	{ "a-b@ex-ample.org", "a-b@ex-ample.org" },
	{ "x@xn--bcher-kva.example", "x@xn--bcher-kva.example" },
	/* Display forms. */
	{ "Alice <Alice@Example.ORG>", "alice@example.org" },
	{ "Alice Example (work) <alice@example.org>", "alice@example.org" },
	{ "<alice@example.org>", "alice@example.org" },
	{ "Foo <x> <a@b.org>", NULL },
	{ "Alice <alice@example.org>  ", "alice@example.org" },
	{ "Alice < alice@example.org >", "alice@example.org" },
	{ "Alice <alice@example.org> trailing", NULL },
	{ "Alice <alice@example.org", NULL },
	{ "Bank <victim@bank.com> <attacker@evil.com>", NULL },
	{ "Bank <victim@bank.com>> x", NULL },
	{ "a>b <alice@example.org>", NULL },
	{ "alice@example.org>", NULL },
	{ "Alice <alice@example.org>>", NULL },
	{ "Alice <>", NULL },
	{ "alice@example.org>", NULL },
	/* IDNA. */
	{ "user@bücher.example", "user@xn--bcher-kva.example" },
	{ "user@BÜCHER.example", "user@xn--bcher-kva.example" },
	{ "x@ÉXAMPLE.org", "x@xn--xample-9ua.org" },
	{ "x@faß.de", "x@xn--fa-hia.de" },
	{ "x@例え.テスト", "x@xn--r8jz45g.xn--zckzah" },
	{ "x@ex_ample.örg", NULL },
	/* UTF-8 local parts are kept, only ASCII is folded. */
	{ "Jörg@example.org", "jörg@example.org" },
	{ "ÄBC@example.org", "Äbc@example.org" },
	{ "用户@例子.广告", "用户@xn--fsqu00a.xn--4rr70v" },
	/* Refusals. */
	{ "", NULL },
	{ "   ", NULL },
	{ "@example.org", NULL },
	{ "a@", NULL },
	{ "a@@b.org", NULL },
	{ "a@b@c.org", NULL },
	{ "-a@example.org", NULL },
	{ "a b@example.org", NULL },
	{ "a@exa mple.org", NULL },
	{ "a@example.org\r\nBcc: x@y.org", NULL },
	{ "Alice\n <a@example.org>", NULL },
	{ "a\t@example.org", NULL },
	{ "a\x7f@example.org", NULL },
	{ "a@localhost", NULL },
	{ "a@exa_mple.org", NULL },
	{ "\"quoted\"@example.org", NULL },
	{ "a(comment)@example.org", NULL },
	{ "a@[127.0.0.1]", NULL },
	{ "a@127.0.0.1", NULL },
	{ "a..b@example.org", NULL },
	{ ".a@example.org", NULL },
	{ "a.@example.org", NULL },
	{ "a@example..org", NULL },
	{ "a@.example.org", NULL },
	{ "a@example.org.", NULL },
	{ "a@-example.org", NULL },
	{ "a@example-.org", NULL },
	{ "a@example.-org", NULL },
	{ "a@example.org-", NULL },
	{ "a,b@example.org", NULL },
	{ "a;b@example.org", NULL },
	{ "a\\b@example.org", NULL },
	/* Old routing syntax, which some relays still act on. */
	{ "bob%evil.example@example.org", NULL },
	{ "evil.example!bob@example.org", NULL },
	{ "|/bin/sh@example.org", NULL },
	{ "a|b@example.org", "a|b@example.org" },
	/* Invalid UTF-8: stray continuation, truncated, overlong, surrogate,
	 * beyond U+10FFFF, C1 control. */
	{ "a\x80@example.org", NULL },
	{ "a\xc3@example.org", NULL },
	{ "a\xc0\xaf@example.org", NULL },
	{ "a\xe0\x80\xaf@example.org", NULL },
	{ "a\xed\xa0\x80@example.org", NULL },
	{ "a\xf4\x90\x80\x80@example.org", NULL },
	{ "a\xc2\x85@example.org", NULL },
	{ "a@exam\xff" "ple.org", NULL },
};

static const struct email_case uid_cases[] = {
	{ "Alice Example (work) <Alice@Example.ORG>", "alice@example.org" },
	{ "alice@example.org", "alice@example.org" },
	{ "Bob <bob@bücher.example>", "bob@xn--bcher-kva.example" },
	{ "Alice", NULL },
	{ "", NULL },
	{ "Alice <not an address>", NULL },
	{ "Alice <alice@localhost>", NULL },
	{ "Alice <-alice@example.org>", NULL },
	/* The strict form: an address alone or "Name <address>", where
	 * Name holds no '@', '<', '>' or ',' and nothing follows. */
	{ "<alice@example.org>", "alice@example.org" },
	{ "Alice<alice@example.org>", "alice@example.org" },
	{ "bob@x.example <alice@example.org>", NULL },
	{ "bob@x.example, Alice <alice@example.org>", NULL },
	{ "Smith, Alice <alice@example.org>", NULL },
	{ "Alice <alice@example.org> ", NULL },
	{ " alice@example.org", NULL },
	{ "alice@example.org ", NULL },
	{ "alice@example.org (work)", NULL },
	{ "a>b <alice@example.org>", NULL },
	{ "Alice <alice%evil.example@example.org>", NULL },
	{ "Alice <alice!x@example.org>", NULL },
	{ "Alice \"Al\" Example (home) <alice@example.org>",
	    "alice@example.org" },
};

/* A local part of llen 'a's at a domain of dlen bytes (labels of 63). */
static void
long_addr(char *buf, size_t llen, size_t dlen)
{
	size_t i, d;

	memset(buf, 'a', llen);
	buf[llen] = '@';
	for (i = 0, d = llen + 1; i < dlen; i++, d++)
		buf[d] = (i % 64 == 63 || i == dlen - 4) ? '.' : 'b';
	buf[d] = '\0';
	if (dlen >= 3)
		memcpy(buf + d - 3, "org", 3);
}

/* Boundary lengths: EMAIL_MAX passes, one more is refused. */
static void
test_lengths(void)
{
	char in[2048], out[EMAIL_MAX + 1];
	struct err e;

	long_addr(in, 254 - 1 - 100, 100);
	ok(strlen(in) == EMAIL_MAX && email_normalize(in, out, sizeof(out),
	    &e) == 0 && strcmp(in, out) == 0, "address of EMAIL_MAX accepted");
	long_addr(in, 255 - 1 - 100, 100);
	ok(email_normalize(in, out, sizeof(out), &e) == -1,
	    "address of EMAIL_MAX + 1 refused");
	long_addr(in, 3, 250);
	ok(email_normalize(in, out, sizeof(out), &e) == 0,
	    "domain of 250 accepted");
	long_addr(in, 1, 254);
	ok(email_normalize(in, out, sizeof(out), &e) == -1,
	    "domain of 254 refused");
	memcpy(in, "a@", 2);
	memset(in + 2, 'b', 64);
	memcpy(in + 66, ".org", 5);
	ok(email_normalize(in, out, sizeof(out), &e) == -1,
	    "64-byte label refused");
	memset(in, 'a', 1500);
	memcpy(in + 1500, "@example.org", 13);
	ok(email_normalize(in, out, sizeof(out), &e) == -1,
	    "1500-byte local part refused");
	memset(in, 'N', 1500);
	memcpy(in + 1500, " <Bob@Example.org>", 19);
	ok(email_from_uid(in, out, sizeof(out)) == 0 &&
	    strcmp(out, "bob@example.org") == 0, "long display name accepted");
	ok(email_normalize("alice@example.org", out, 10, &e) == -1 &&
	    e.code == ERR_INTERNAL, "short output buffer is an error");
}

/* Run one table through f. */
static void
run_cases(const struct email_case *c, size_t n, int uid)
{
	char out[EMAIL_MAX + 1];
	struct err e;
	size_t i;
	int rc;

	for (i = 0; i < n; i++) {
		err_clear(&e);
		memset(out, 0, sizeof(out));
		rc = uid ? email_from_uid(c[i].in, out, sizeof(out)) :
		    email_normalize(c[i].in, out, sizeof(out), &e);
		if (c[i].want != NULL) {
			is_str(rc == 0 ? out : NULL, c[i].want, "%s \"%s\"",
			    uid ? "uid" : "normalize", c[i].in);
			continue;
		}
		ok(rc == -1 && (uid || (e.code == ERR_INVALID &&
		    strcmp(e.msg, "malformed e-mail address") == 0)),
		    "%s refuses \"%s\"", uid ? "uid" : "normalize", c[i].in);
	}
}

int
main(void)
{
	run_cases(norm_cases, sizeof(norm_cases) / sizeof(norm_cases[0]), 0);
	run_cases(uid_cases, sizeof(uid_cases) / sizeof(uid_cases[0]), 1);
	test_lengths();
	{
		char u[EMAIL_MAX + 1], small[8];

		ok(email_unicode("info@xn--mller-kva.example", u, sizeof(u)) ==
		    0 && !strcmp(u, "info@m\xc3\xbcller.example"),
		    "email_unicode: an IDN domain for people to read");
		ok(email_unicode("a@shop.xn--mller-kva.example", u, sizeof(u)) ==
		    0 && !strcmp(u, "a@shop.m\xc3\xbcller.example"),
		    "... a label past the first");
		ok(email_unicode("alice@example.org", u, sizeof(u)) == -1,
		    "... none without an xn-- label");
		ok(email_unicode("x@xn--zz", u, sizeof(u)) == -1,
		    "... none when the label does not decode");
		ok(email_unicode("a@xn--gro-4q0a.example", u, sizeof(u)) == -1,
		    "... none for a label hiding a right-to-left override");
		ok(email_unicode("a@xn--ab-m1t.example", u, sizeof(u)) == -1,
		    "... none for a label hiding a zero-width joiner");
		ok(email_unicode("info@xn--mller-kva.example", small,
		    sizeof(small)) == -1, "... none when it does not fit");
	}
	return tap_done();
}
