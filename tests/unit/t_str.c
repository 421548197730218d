/*
 * t_str: the string helpers in lib/str.c.
 */
#include <stdlib.h>
#include <string.h>

#include "str.h"
#include "tap.h"

struct decode_case {
	const char *in;
	const char *pct;	/* str_pct_decode result, NULL: refused */
	const char *form;	/* str_form_decode result, NULL: refused */
};

static const struct decode_case decode_cases[] = {
	{ "", "", "" },
	{ "plain", "plain", "plain" },
	{ "a+b", "a+b", "a b" },
	{ "alice%40example.org", "alice@example.org", "alice@example.org" },
	{ "a%2Bb", "a+b", "a+b" },
	{ "%2b%2B", "++", "++" },
	{ "%20+%20", " + ", "   " },
	{ "%C3%BC", "\xc3\xbc", "\xc3\xbc" },
	{ "end%41", "endA", "endA" },
	{ "%4", NULL, NULL },
	{ "%", NULL, NULL },
	{ "a%", NULL, NULL },
	{ "%zz", NULL, NULL },
	{ "%4g", NULL, NULL },
	{ "%g4", NULL, NULL },
	{ "%00", NULL, NULL },
	{ "a%00b", NULL, NULL },
	{ "%%41", NULL, NULL },
};

/* Both decoders over the table, plus the length argument. */
static void
test_decode(void)
{
	const struct decode_case *c;
	char *got;
	size_t i;

	for (i = 0; i < sizeof(decode_cases) / sizeof(decode_cases[0]); i++) {
		c = &decode_cases[i];
		got = str_pct_decode(c->in, strlen(c->in));
		is_str(got, c->pct, "pct_decode \"%s\"", c->in);
		free(got);
		got = str_form_decode(c->in, strlen(c->in));
		is_str(got, c->form, "form_decode \"%s\"", c->in);
		free(got);
	}
	/* Only the first n bytes count, even when the rest is bad. */
	got = str_pct_decode("ab%zz", 2);
	is_str(got, "ab", "pct_decode honours n");
	free(got);
	got = str_pct_decode("%41%4", 3);
	is_str(got, "A", "pct_decode stops at n after an escape");
	free(got);
	got = str_pct_decode("%41", 2);
	is_str(got, NULL, "pct_decode escape cut by n is refused");
	free(got);
}

/* str_is_hex, str_hex, str_lower, str_upper. */
static void
test_hex_case(void)
{
	const uint8_t bytes[] = { 0x00, 0x7f, 0xab, 0xff };
	char buf[32];

	ok(str_is_hex("0123456789abcdefABCDEF", 22), "is_hex all digits");
	ok(!str_is_hex("0123", 3), "is_hex wrong length (longer)");
	ok(!str_is_hex("012", 4), "is_hex wrong length (shorter)");
	ok(!str_is_hex("01g3", 4), "is_hex non-hex");
	ok(!str_is_hex("01 3", 4), "is_hex space");
	ok(!str_is_hex("0x12", 4), "is_hex 0x prefix");
	ok(str_is_hex("", 0), "is_hex empty with n 0");
	str_hex(bytes, sizeof(bytes), buf);
	is_str(buf, "007fabff", "str_hex");
	str_lcpy(buf, "MiXeD \xc3\x9c", sizeof(buf));
	str_lower(buf);
	is_str(buf, "mixed \xc3\x9c", "str_lower leaves non-ASCII");
	str_upper(buf);
	is_str(buf, "MIXED \xc3\x9c", "str_upper leaves non-ASCII");
}

/* str_ct_equal and str_has_ctl. */
static void
test_cmp_ctl(void)
{
	ok(str_ct_equal("abcdef", "abcdef", 6), "ct_equal equal");
	ok(!str_ct_equal("abcdef", "abcdeg", 6), "ct_equal last byte");
	ok(!str_ct_equal("xbcdef", "abcdef", 6), "ct_equal first byte");
	ok(str_ct_equal("abcX", "abcY", 3), "ct_equal only n bytes");
	ok(str_ct_equal("a", "b", 0), "ct_equal n 0");
	ok(!str_ct_equal("\x80", "\x00", 1), "ct_equal high bit");
	ok(!str_has_ctl("plain text \xc3\xbc~", 14), "has_ctl none");
	ok(str_has_ctl("a\r\nb", 4), "has_ctl CR LF");
	ok(str_has_ctl("a\tb", 3), "has_ctl tab");
	ok(str_has_ctl("a\x7f", 2), "has_ctl DEL");
	ok(str_has_ctl("ab\0c", 4), "has_ctl NUL within n");
	ok(!str_has_ctl("ab\nc", 2), "has_ctl only n bytes");
	ok(!str_has_ctl("\x80\xff", 2), "has_ctl high bytes are not ctl");
	ok(str_has_ctl("a\xc2\x85" "b", 4) && str_ctl_at("a\xc2\x85" "b", 4) == 1,
	    "has_ctl C1 (NEL) in UTF-8, at its lead byte");
	ok(!str_has_ctl("\xc2\xa0\xc2\x7f", 2) && !str_has_ctl("a\xc2", 2),
	    "has_ctl U+00A0 and a lone 0xC2 are not C1");
	ok(str_ctl_at("abc", 3) == 3, "ctl_at: n when there is none");
}

/* str_lcpy truncation and return value. */
static void
test_lcpy(void)
{
	char buf[8];

	memset(buf, 'x', sizeof(buf));
	ok(str_lcpy(buf, "abc", sizeof(buf)) == 3 && strcmp(buf, "abc") == 0,
	    "lcpy fits");
	ok(str_lcpy(buf, "abcdefg", sizeof(buf)) == 7 &&
	    strcmp(buf, "abcdefg") == 0, "lcpy exactly sz - 1");
	ok(str_lcpy(buf, "abcdefghijk", sizeof(buf)) == 11 &&
	    strcmp(buf, "abcdefg") == 0, "lcpy truncates, returns strlen");
	ok(str_lcpy(buf, "", sizeof(buf)) == 0 && buf[0] == '\0',
	    "lcpy empty");
	buf[0] = 'z';
	ok(str_lcpy(buf, "abc", 0) == 3 && buf[0] == 'z', "lcpy sz 0");
	ok(str_lcpy(buf, "abc", 1) == 3 && buf[0] == '\0', "lcpy sz 1");
}

int
main(void)
{
	test_decode();
	test_hex_case();
	test_cmp_ctl();
	test_lcpy();
	return tap_done();
}
