/*
 * t_multipart: multipart/form-data as browsers send it (a file and a
 * text field), the boundary from Content-Type, and bodies that are not
 * well formed: each refused with a reason, never read past.
 */
#include <stdlib.h>
#include <string.h>

#include "multipart.h"
#include "tap.h"

static struct mp_part parts[4];
static size_t n;

static int
parse(const char *body, const char *b)
{
	struct err e;

	n = 0;
	return mp_parse((const uint8_t *)body, strlen(body), b, parts, 4, &n,
	    &e);
}

static int
field_is(const char *name, const char *want)
{
	const struct mp_part *p = mp_find(parts, n, name);

	return p != NULL && p->len == strlen(want) &&
	    memcmp(p->data, want, p->len) == 0;
}

int
main(void)
{
	static const char chrome[] =
	    "------WebKitFormBoundaryx7\r\n"
	    "Content-Disposition: form-data; name=\"keyfile\"; "
	    "filename=\"alice.asc\"\r\n"
	    "Content-Type: application/pgp-keys\r\n\r\n"
	    "-----BEGIN PGP PUBLIC KEY BLOCK-----\r\n\r\nxjMEZ\r\n"
	    "-----END PGP PUBLIC KEY BLOCK-----\r\n"
	    "\r\n------WebKitFormBoundaryx7\r\n"
	    "Content-Disposition: form-data; name=\"keytext\"\r\n\r\n"
	    "\r\n------WebKitFormBoundaryx7--\r\n";
	char b[MP_BOUNDARY_MAX + 1];
	struct err e;
	const struct mp_part *p;

	ok(mp_boundary("multipart/form-data; boundary=----WebKitFormBoundary"
	    "x7", b) == 0 && !strcmp(b, "----WebKitFormBoundaryx7"),
	    "the boundary of Chromium's Content-Type");
	ok(mp_boundary("Multipart/Form-Data;charset=utf-8; boundary=\"a b\"",
	    b) == 0 && !strcmp(b, "a b"), "quoted, after another parameter");
	ok(mp_boundary("multipart/form-data", b) == -1 &&
	    mp_boundary("application/x-www-form-urlencoded; boundary=x", b) ==
	    -1 && mp_boundary("multipart/form-data; boundary=", b) == -1 &&
	    mp_boundary("multipart/form-data; boundary=\"x", b) == -1 &&
	    mp_boundary(NULL, b) == -1, "none: missing, another type, empty, "
	    "unclosed");
	ok(mp_boundary("multipart/form-data; boundary=0123456789012345678901"
	    "23456789012345678901234567890123456789012345678901", b) == -1,
	    "longer than 70: refused");

	ok(parse(chrome, "----WebKitFormBoundaryx7") == 0 && n == 2,
	    "Chromium's body: two parts (%zu)", n);
	p = mp_find(parts, n, "keyfile");
	ok(p != NULL && !strcmp(p->filename, "alice.asc") && p->len ==
	    strlen("-----BEGIN PGP PUBLIC KEY BLOCK-----\r\n\r\nxjMEZ\r\n"
	    "-----END PGP PUBLIC KEY BLOCK-----\r\n"), "the file, its name, "
	    "its bytes with their own line ends");
	ok(field_is("keytext", "") && mp_find(parts, n, "keytext")->
	    filename[0] == '\0', "an empty text field");
	ok(mp_find(parts, n, "nope") == NULL, "no such field");

	ok(parse("preamble\r\n--B\r\nContent-Disposition: form-data; "
	    "name=\"a\"\r\n\r\n1\r\n--B\r\ncontent-disposition:form-data;"
	    "name=\"b\"\r\n\r\n2--B\r\n\r\n--B--", "B") == 0 && n == 2 &&
	    field_is("a", "1") && field_is("b", "2--B\r\n"),
	    "a preamble, lower-case headers; a delimiter only after CRLF");
	ok(parse("--B\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n"
	    "\r\n--B--", "B") == 0 && n == 1 && field_is("a", ""),
	    "an empty value");
	ok(parse("--B\r\nContent-Disposition: form-data; name=\"a\"\r\n"
	    "\r\n--B--", "B") == 0 && n == 1 && field_is("a", ""),
	    "an empty value whose headers end in the delimiter's CRLF");

	ok(parse("no boundary here", "B") == -1, "no boundary: refused");
	ok(parse("--B\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1",
	    "B") == -1, "not closed: refused");
	ok(parse("--B\r\nContent-Type: text/plain\r\n\r\n1\r\n--B--", "B") ==
	    -1, "a part without a name: refused");
	ok(parse("--B\r\nContent-Disposition: form-data; name=\"\"\r\n\r\n"
	    "1\r\n--B--", "B") == -1, "an empty name: refused (fuzz_multipart)");
	ok(parse("--B\r\nContent-Disposition: attachment; name=\"a\"\r\n\r\n"
	    "1\r\n--B--", "B") == -1, "not form-data: refused");
	ok(parse("--B\r\nContent-Disposition: form-data; name=\"a\"\r\n"
	    "1\r\n--B--", "B") == -1, "headers that do not end before the "
	    "next delimiter: refused");
	ok(parse("--Bx\r\n", "B") == -1, "junk after a delimiter: refused");
	ok(parse("--B\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n"
	    "1\r\n--B\r\nContent-Disposition: form-data; name=\"b\"\r\n\r\n"
	    "2\r\n--B\r\nContent-Disposition: form-data; name=\"c\"\r\n\r\n"
	    "3\r\n--B\r\nContent-Disposition: form-data; name=\"d\"\r\n\r\n"
	    "4\r\n--B\r\nContent-Disposition: form-data; name=\"e\"\r\n\r\n"
	    "5\r\n--B--", "B") == -1 && n == 4, "more parts than room: "
	    "refused");
	ok(parse("--B\r\nContent-Disposition: form-data; name=\"a\r\n\r\n"
	    "1\r\n--B--", "B") == -1, "an unclosed name: refused");
	ok(mp_parse((const uint8_t *)"--B", 3, "", parts, 4, &n, &e) == -1,
	    "an empty boundary: refused");
	return tap_done();
}
