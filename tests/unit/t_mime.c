/*
 * t_mime: the bounded MIME reader of inbound mail: headers (folded, any
 * case), Content-Type and its boundary, the parts of a multipart (the
 * line break before a delimiter is the delimiter's), nested parts,
 * base64 and quoted-printable bodies, and the refusals: no boundary, a
 * multipart never closed, too many parts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mime.h"
#include "tap.h"

/* a literal entity, its length counted */
#define ENT(lit, out, e) mime_entity(lit, sizeof(lit) - 1, out, e)

static const char mail[] =
    "From: Carol <carol@example.org>\r\n"
    "To: key-submission@example.org\r\n"
    "Subject: a folded\r\n"
    "  subject\r\n"
    "Content-Type: Multipart/Encrypted;\r\n"
    "\tprotocol=\"application/pgp-encrypted\"; boundary=\"b=1\"\r\n"
    "\r\n"
    "preamble\r\n"
    "--b=1\r\n"
    "Content-Type: application/pgp-encrypted\r\n"
    "\r\n"
    "Version: 1\r\n"
    "--b=1\r\n"
    "Content-Type: application/octet-stream\r\n"
    "Content-Transfer-Encoding: base64\r\n"
    "\r\n"
    "aGVsbG8s\r\n"
    "IHdvcmxk\r\n"
    "--b=1--\r\n"
    "epilogue\r\n";

int
main(void)
{
	struct mime_ent top, parts[MIME_PARTS_MAX], in[2];
	struct buf b, many;
	struct err e;
	char v[128];
	size_t n, i;

	ok(mime_entity(mail, strlen(mail), &top, &e) == 0, "a mail parses");
	is_str(top.ctype, "multipart/encrypted", "its type, lower case");
	is_str(top.boundary, "b=1", "the quoted boundary, from a folded "
	    "header");
	ok(mime_header(&top, "subject", v, sizeof(v)) == 0 &&
	    !strcmp(v, "a folded  subject"), "a folded header, any case "
	    "(%s)", v);
	ok(mime_header(&top, "From", v, sizeof(v)) == 0 &&
	    !strcmp(v, "Carol <carol@example.org>"), "From");
	ok(mime_header(&top, "X-None", v, sizeof(v)) == 1, "no such header");
	ok(mime_parts(&top, parts, MIME_PARTS_MAX, &n, &e) == 0 && n == 2,
	    "two parts (%zu)", n);
	is_str(parts[0].ctype, "application/pgp-encrypted", "the first");
	ok(parts[0].body_len == 10 && !memcmp(parts[0].body, "Version: 1", 10),
	    "its body without the line break before the delimiter");
	buf_init(&b, 1024);
	ok(mime_body(&parts[1], &b, &e) == 0 && b.len == 12 &&
	    !memcmp(b.data, "hello, world", 12), "base64 across lines");
	buf_reset(&b);

	ok(ENT("Content-Transfer-Encoding: quoted-printable\n\n"
	    "caf=C3=A9 =\nsoft", &in[0], &e) == 0 &&
	    mime_body(&in[0], &b, &e) == 0 && b.len == 10 &&
	    !memcmp(b.data, "caf\xc3\xa9 soft", 10),
	    "quoted-printable: =XX and a soft break, LF line ends");
	buf_reset(&b);
	ok(ENT("no headers at all", &in[0], &e) == 0 &&
	    !strcmp(in[0].ctype, "text/plain"), "no Content-Type: text/plain");

	ok(ENT("Content-Type: multipart/mixed\n\nx", &in[0],
	    &e) == -1 && e.code == ERR_INVALID, "a multipart without "
	    "boundary: refused");
	ok(ENT("Content-Type: multipart/mixed; boundary=x\n\n--x\n"
	    "never closed\n", &in[0], &e) == 0 && mime_parts(&in[0],
	    parts, MIME_PARTS_MAX, &n, &e) == -1 && e.code == ERR_INVALID,
	    "a multipart never closed: refused");

	buf_init(&many, 64 * 1024);
	buf_addstr(&many, "Content-Type: multipart/mixed; boundary=z\n\n");
	for (i = 0; i < MIME_PARTS_MAX + 1; i++)
		buf_addstr(&many, "--z\n\npart\n");
	buf_addstr(&many, "--z--\n");
	ok(mime_entity(many.data, many.len, &in[0], &e) == 0 &&
	    mime_parts(&in[0], parts, MIME_PARTS_MAX, &n, &e) == -1 &&
	    e.code == ERR_TOOBIG, "%d parts: refused (at most %d)",
	    MIME_PARTS_MAX + 1, MIME_PARTS_MAX);
	ok(mime_parts(&in[0], parts, 2, &n, &e) == -1 && e.code == ERR_TOOBIG,
	    "the caller's smaller bound holds too");

	ok(ENT("Content-Type: multipart/mixed; boundary=o\n\n--o\n"
	    "Content-Type: multipart/alternative; boundary=i\n\n--i\n\ninner\n"
	    "--i--\n--o--\n", &in[0], &e) == 0 && mime_parts(&in[0],
	    parts, MIME_PARTS_MAX, &n, &e) == 0 && n == 1 &&
	    mime_parts(&parts[0], &in[1], 1, &n, &e) == 0 && n == 1 &&
	    in[1].body_len == 5 && !memcmp(in[1].body, "inner", 5),
	    "a multipart in a multipart");
	buf_release(&b);
	buf_release(&many);
	return tap_done();
}
