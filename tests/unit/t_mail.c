/*
 * t_mail: mail_compose (headers, refusals, QP, RFC 2047, base64, MIME as
 * Python's email package reads it) and Maildir delivery.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "buf.h"
#include "err.h"
#include "mail.h"
#include "tap.h"

#define T_DATE 1700000000	/* Tue, 14 Nov 2023 22:13:20 +0000 */

static char tmpdir[] = "/tmp/t_mail.XXXXXX";

/* A spec with sane defaults. */
static struct mail_spec
spec(const char *subject, const char *body)
{
	struct mail_spec m = { "keys@example.org", "alice@example.net",
	    subject, body, NULL, 0, T_DATE };

	return m;
}

/* Every line ends in CRLF, no bare CR or LF, none longer than max. */
static bool
lines_ok(const char *p, size_t len, size_t max)
{
	size_t i, col = 0;

	for (i = 0; i < len; i++) {
		if (p[i] == '\r') {
			if (i + 1 >= len || p[i + 1] != '\n' || col > max)
				return false;
			i++;
			col = 0;
		} else if (p[i] == '\n')
			return false;
		else
			col++;
	}
	return col == 0;
}

/* The unfolded value of header name (into out), or false. */
static bool
header(const char *msg, const char *name, char *out, size_t outsz)
{
	const char *p = msg, *end = strstr(msg, "\r\n\r\n");
	size_t nl = strlen(name), o = 0;

	while (p != NULL && p < end) {
		if (strncmp(p, name, nl) == 0 && p[nl] == ':') {
			p += nl + 1;
			while (*p == ' ')
				p++;
			for (; p < end + 2; p++) {
				if (p[0] == '\r' && p[2] != ' ' && p[2] != '\t')
					break;
				if (*p != '\r' && *p != '\n' && o + 1 < outsz)
					out[o++] = *p;
			}
			out[o] = '\0';
			return true;
		}
		p = strstr(p, "\r\n");
		p = p ? p + 2 : NULL;
	}
	return false;
}

/* Decode quoted-printable; CRLF comes out as LF. */
static void
qp_decode(const char *p, size_t len, struct buf *out)
{
	size_t i;
	unsigned v;

	for (i = 0; i < len; i++) {
		if (p[i] == '=' && i + 2 < len && p[i + 1] == '\r' &&
		    p[i + 2] == '\n')
			i += 2;
		else if (p[i] == '=' && i + 2 < len &&
		    sscanf(p + i + 1, "%2X", &v) == 1) {
			buf_addch(out, (int)v);
			i += 2;
		} else if (p[i] == '\r' && i + 1 < len && p[i + 1] == '\n') {
			buf_addch(out, '\n');
			i++;
		} else
			buf_addch(out, p[i]);
	}
}

/* Decode one base64 text (CRLF ignored) into out; length or -1. */
static long
b64_decode(const char *p, size_t len, unsigned char *out, size_t outsz)
{
	size_t n;

	if (sodium_base642bin(out, outsz, p, len, "\r\n", &n, NULL,
	    sodium_base64_VARIANT_ORIGINAL) != 0)
		return -1;
	return (long)n;
}

/* Decode "=?UTF-8?B?...?=" words separated by folding white space. */
static bool
rfc2047_decode(const char *v, char *out, size_t outsz)
{
	const char *p = v, *q;
	size_t o = 0;
	long n;

	while (*p) {
		while (*p == ' ')
			p++;
		if (strncmp(p, "=?UTF-8?B?", 10) != 0 ||
		    (q = strstr(p + 10, "?=")) == NULL || q - p > 75)
			return false;
		n = b64_decode(p + 10, (size_t)(q - p - 10),
		    (unsigned char *)out + o, outsz - o - 1);
		if (n < 0)
			return false;
		o += (size_t)n;
		p = q + 2;
	}
	out[o] = '\0';
	return true;
}

/* Body of a single-part message decoded from QP. */
static void
single_body(const struct buf *b, struct buf *out)
{
	const char *p = strstr(b->data, "\r\n\r\n") + 4;

	qp_decode(p, b->len - (size_t)(p - b->data), out);
}

/* Headers, dates, ids and line shape of a plain message. */
static void
t_headers(void)
{
	struct mail_spec m = spec("Confirm your address", "Hello.\n");
	struct err e;
	struct buf b;
	char v[1024];

	buf_init(&b, 1 << 20);
	ok(mail_compose(&m, &b, &e) == 0, "plain mail composes");
	ok(header(b.data, "Date", v, sizeof(v)) &&
	    strcmp(v, "Tue, 14 Nov 2023 22:13:20 +0000") == 0,
	    "Date in RFC 5322 form (%s)", v);
	ok(header(b.data, "From", v, sizeof(v)) &&
	    strcmp(v, "keys@example.org") == 0, "From");
	ok(header(b.data, "To", v, sizeof(v)) &&
	    strcmp(v, "alice@example.net") == 0, "To");
	ok(header(b.data, "Subject", v, sizeof(v)) &&
	    strcmp(v, "Confirm your address") == 0, "Subject as is");
	ok(header(b.data, "Message-ID", v, sizeof(v)) && strlen(v) == 46 &&
	    v[0] == '<' && strspn(v + 1, "0123456789abcdef") == 32 &&
	    strcmp(v + 33, "@example.org>") == 0, "Message-ID %s", v);
	ok(header(b.data, "MIME-Version", v, sizeof(v)) &&
	    strcmp(v, "1.0") == 0, "MIME-Version");
	ok(header(b.data, "Auto-Submitted", v, sizeof(v)) &&
	    strcmp(v, "auto-generated") == 0, "Auto-Submitted");
	ok(header(b.data, "Content-Type", v, sizeof(v)) &&
	    strcmp(v, "text/plain; charset=utf-8") == 0, "Content-Type");
	ok(header(b.data, "Content-Transfer-Encoding", v, sizeof(v)) &&
	    strcmp(v, "quoted-printable") == 0, "QP transfer encoding");
	ok(!header(b.data, "Bcc", v, sizeof(v)), "no Bcc");
	ok(lines_ok(b.data, b.len, 998), "CRLF everywhere, lines <= 998");
	buf_release(&b);
}

/* Bad input is refused and leaves out as it was. */
static void
t_refusals(void)
{
	static const char *const bad_to[] = { "a@b\r\nBcc: x@y", "a@b\n",
	    "a b@c", "<a@b>", "\"a\"@b", "a@b@c", "ab", "@b", "a@", "",
	    "a@b,c@d" };
	struct mail_att att = { "k.asc", "application/pgp-keys", "x", 1 };
	struct mail_spec m;
	struct err e;
	struct buf b;
	size_t i;

	buf_init(&b, 1 << 20);
	buf_addstr(&b, "KEEP");
	m = spec("Hi\r\nBcc: x@y", "body\n");
	ok(mail_compose(&m, &b, &e) == -1 && e.code == ERR_INVALID &&
	    strcmp(b.data, "KEEP") == 0, "subject with CRLF refused");
	m = spec("tab\there", "body\n");
	ok(mail_compose(&m, &b, &e) == -1 && e.code == ERR_INVALID,
	    "subject with a tab refused");
	m = spec("bad \xc3\x28 utf8", "body\n");
	ok(mail_compose(&m, &b, &e) == -1 && e.code == ERR_INVALID,
	    "subject with broken UTF-8 refused");
	for (i = 0; i < sizeof(bad_to) / sizeof(bad_to[0]); i++) {
		m = spec("s", "b\n");
		m.to = bad_to[i];
		ok(mail_compose(&m, &b, &e) == -1 && e.code == ERR_INVALID &&
		    strcmp(b.data, "KEEP") == 0, "to #%zu refused", i);
	}
	m = spec("s", "b\n");
	m.from = "keys.example.org";
	ok(mail_compose(&m, &b, &e) == -1 && e.code == ERR_INVALID,
	    "from without @ refused");
	m.from = "keys@example.org";
	m.atts = &att;
	m.natts = 1;
	att.filename = "k\r\n.asc";
	ok(mail_compose(&m, &b, &e) == -1 && e.code == ERR_INVALID,
	    "file name with CRLF refused");
	att.filename = "k\".asc";
	ok(mail_compose(&m, &b, &e) == -1 && e.code == ERR_INVALID,
	    "file name with a quote refused");
	att.filename = "k.asc";
	att.content_type = "text/plain\r\nX: y";
	ok(mail_compose(&m, &b, &e) == -1 && e.code == ERR_INVALID &&
	    strcmp(b.data, "KEEP") == 0, "content type with CRLF refused");
	m = spec("s", "b\n");
	b.max = b.len + 100;
	ok(mail_compose(&m, &b, &e) == -1 && e.code == ERR_TOOBIG &&
	    strcmp(b.data, "KEEP") == 0, "over the cap: ERR_TOOBIG");
	buf_release(&b);
}

/* Subjects: RFC 2047 for non-ASCII, folding for long ASCII. */
static void
t_subjects(void)
{
	const char *utf = "Best\xc3\xa4tigen Sie Ihre Adresse \xe2\x9c\x93";
	char lng[600], v[2048], d[2048];
	struct mail_spec m;
	struct err e;
	struct buf b;
	size_t i;

	buf_init(&b, 1 << 20);
	m = spec(utf, "x\n");
	ok(mail_compose(&m, &b, &e) == 0, "non-ASCII subject composes");
	ok(header(b.data, "Subject", v, sizeof(v)) &&
	    strncmp(v, "=?UTF-8?B?", 10) == 0 &&
	    rfc2047_decode(v, d, sizeof(d)) && strcmp(d, utf) == 0,
	    "non-ASCII subject is RFC 2047 and decodes back");
	for (i = 0; i < 300; i++)
		lng[i] = "\xc3\xa4"[i % 2];	/* 150 x U+00E4 */
	lng[i] = '\0';
	buf_reset(&b);
	m = spec(lng, "x\n");
	ok(mail_compose(&m, &b, &e) == 0 && lines_ok(b.data, b.len, 78) &&
	    header(b.data, "Subject", v, sizeof(v)) &&
	    rfc2047_decode(v, d, sizeof(d)) && strcmp(d, lng) == 0,
	    "long UTF-8 subject: folded words, lines <= 78, decodes back");
	for (i = 0; i + 1 < sizeof(lng); i++)
		lng[i] = i % 7 == 6 ? ' ' : 'a';
	lng[i] = '\0';
	buf_reset(&b);
	m = spec(lng, "x\n");
	ok(mail_compose(&m, &b, &e) == 0 && lines_ok(b.data, b.len, 78) &&
	    header(b.data, "Subject", v, sizeof(v)) && strcmp(v, lng) == 0,
	    "long ASCII subject folds at spaces and unfolds back");
	buf_reset(&b);
	m = spec("=?UTF-8?B?QUJD?= trick", "x\n");
	ok(mail_compose(&m, &b, &e) == 0 &&
	    header(b.data, "Subject", v, sizeof(v)) &&
	    rfc2047_decode(v, d, sizeof(d)) &&
	    strcmp(d, "=?UTF-8?B?QUJD?= trick") == 0,
	    "ASCII subject that looks encoded is encoded");
	buf_release(&b);
}

/* Quoted-printable body survives the round trip. */
static void
t_qp(void)
{
	struct buf b, d, want;
	struct mail_spec m;
	struct err e;
	char body[1024];
	size_t i, l;
	const char *p;
	bool clean = true;

	buf_init(&want, 4096);
	for (i = 0; i < 200; i++)
		buf_addch(&want, 'a' + (int)(i % 26));
	buf_addstr(&want, "\n.leading dot\n.\nx = 1 \ntab\t\n\n"
	    "Gr\xc3\xbc\xc3\x9f\x65 \xe2\x82\xac\n");
	for (i = 0; i < 100; i++)
		buf_addstr(&want, "\xc3\xa4");
	buf_addstr(&want, "\nFrom here\nend\n");
	snprintf(body, sizeof(body), "%s", want.data);
	buf_init(&b, 1 << 20);
	buf_init(&d, 1 << 20);
	m = spec("qp", body);
	ok(mail_compose(&m, &b, &e) == 0, "QP mail composes");
	single_body(&b, &d);
	is_str(d.data, want.data, "QP body decodes back to the input");
	p = strstr(b.data, "\r\n\r\n") + 4;
	ok(lines_ok(p, b.len - (size_t)(p - b.data), 76),
	    "QP lines <= 76 with CRLF");
	for (; *p; p = strstr(p, "\r\n") + 2) {
		l = strcspn(p, "\r");
		if (l > 0 && (p[l - 1] == ' ' || p[l - 1] == '\t'))
			clean = false;
	}
	ok(clean, "no QP line ends in white space");
	buf_reset(&b);
	buf_reset(&d);
	m = spec("crlf", "one\r\ntwo\rthree");
	ok(mail_compose(&m, &b, &e) == 0, "CRLF and lone CR compose");
	single_body(&b, &d);
	is_str(d.data, "one\ntwo\rthree\n", "CRLF kept, lone CR encoded");
	buf_release(&b);
	buf_release(&d);
	buf_release(&want);
}

/* Write n bytes to path. */
static void
put_file(const char *path, const void *p, size_t n)
{
	FILE *f = fopen(path, "wb");

	if (f != NULL) {
		fwrite(p, 1, n, f);
		fclose(f);
	}
}

/* Python's email package must read the mail the way we meant it. */
static const char pycheck[] =
    "import email, email.policy, sys\n"
    "d = sys.argv[1]\n"
    "m = email.message_from_binary_file(open(d + '/mail', 'rb'),"
    " policy=email.policy.default)\n"
    "att = open(d + '/att', 'rb').read()\n"
    "body = open(d + '/body', 'rb').read().decode().replace('\\n','\\r\\n')\n"
    "subj = open(d + '/subj', 'rb').read().decode()\n"
    "assert not m.defects, m.defects\n"
    "assert m.get_content_type() == 'multipart/mixed'\n"
    "assert str(m['subject']) == subj, m['subject']\n"
    "assert m['to'].addresses[0].addr_spec == 'alice@example.net'\n"
    "p = list(m.iter_parts())\n"
    "assert len(p) == 2, len(p)\n"
    "assert all(not x.defects for x in p)\n"
    "t = p[0].get_payload(decode=True).decode('utf-8')\n"
    "assert t.replace('\\r\\n', '\\n') == body.replace('\\r\\n', '\\n'),"
    " repr(t)\n"
    "assert p[1].get_content_type() == 'application/pgp-keys'\n"
    "assert p[1].get_filename() == '0xABCDEF.asc'\n"
    "assert p[1].get_content_disposition() == 'attachment'\n"
    "assert p[1].get_payload(decode=True) == att\n";

/* Multipart: base64 attachment bytes, and Python's view of it all. */
static void
t_attach(void)
{
	unsigned char bin[1000], dec[1100];
	const char *subj = "Schl\xc3\xbcssel f\xc3\xbcr alice@example.net";
	const char *body = "Here is your key.\n.dot line\n";
	struct mail_att att = { "0xABCDEF.asc", "application/pgp-keys", bin,
	    sizeof(bin) };
	struct mail_spec m = spec(subj, body);
	char path[256], cmd[512], *p, *q;
	struct err e;
	struct buf b;
	long n;
	size_t i;

	for (i = 0; i < sizeof(bin); i++)
		bin[i] = (unsigned char)(i * 7 + 3);
	m.atts = &att;
	m.natts = 1;
	buf_init(&b, 1 << 20);
	ok(mail_compose(&m, &b, &e) == 0, "mail with attachment composes");
	ok(lines_ok(b.data, b.len, 998), "multipart: CRLF, lines <= 998");
	p = strstr(b.data, "Content-Transfer-Encoding: base64\r\n\r\n");
	q = p ? strstr(p, "\r\n--=_keydir_") : NULL;
	ok(p && q, "base64 part found");
	if (p && q) {
		p += strlen("Content-Transfer-Encoding: base64\r\n\r\n");
		ok(lines_ok(p, (size_t)(q - p) + 2, 76), "base64 lines <= 76");
		n = b64_decode(p, (size_t)(q - p), dec, sizeof(dec));
		ok(n == (long)sizeof(bin) && memcmp(dec, bin, sizeof(bin)) == 0,
		    "attachment decodes to the exact bytes");
	}
	snprintf(path, sizeof(path), "%s/mail", tmpdir);
	put_file(path, b.data, b.len);
	snprintf(path, sizeof(path), "%s/att", tmpdir);
	put_file(path, bin, sizeof(bin));
	snprintf(path, sizeof(path), "%s/body", tmpdir);
	put_file(path, body, strlen(body));
	snprintf(path, sizeof(path), "%s/subj", tmpdir);
	put_file(path, subj, strlen(subj));
	snprintf(path, sizeof(path), "%s/check.py", tmpdir);
	put_file(path, pycheck, strlen(pycheck));
	snprintf(cmd, sizeof(cmd), "/usr/bin/python3 %s/check.py %s",
	    tmpdir, tmpdir);
	ok(system(cmd) == 0, "python email parser agrees");
	buf_release(&b);
}

/* Names of the entries in dir (not . or ..); returns how many. */
static int
dir_list(const char *dir, char *first, size_t firstsz)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (n++ == 0)
			snprintf(first, firstsz, "%s", de->d_name);
	}
	closedir(d);
	return n;
}

/* Maildir delivery: one file in new/, the bytes intact, modes tight. */
static void
t_maildir(void)
{
	static const char msg[] = "Subject: x\r\n\r\nhello\r\n";
	char md[256], sub[512], name[256], path[1024], got[64];
	struct stat st;
	struct err e;
	FILE *f;
	size_t n = 0;

	snprintf(md, sizeof(md), "%s/Maildir", tmpdir);
	ok(mail_dir_deliver(md, msg, sizeof(msg) - 1, &e) == 0,
	    "maildir delivery");
	snprintf(sub, sizeof(sub), "%s/new", md);
	ok(dir_list(sub, name, sizeof(name)) == 1, "one file in new/");
	snprintf(path, sizeof(path), "%s/%s", sub, name);
	if ((f = fopen(path, "rb")) != NULL) {
		n = fread(got, 1, sizeof(got), f);
		fclose(f);
	}
	ok(n == sizeof(msg) - 1 && memcmp(got, msg, n) == 0,
	    "file holds the bytes");
	ok(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600,
	    "message is 0600");
	ok(stat(md, &st) == 0 && (st.st_mode & 0777) == 0700,
	    "maildir is 0700");
	snprintf(sub, sizeof(sub), "%s/tmp", md);
	ok(dir_list(sub, name, sizeof(name)) == 0, "tmp/ left empty");
	snprintf(sub, sizeof(sub), "%s/cur", md);
	ok(dir_list(sub, name, sizeof(name)) == 0, "cur/ exists");
	ok(mail_dir_deliver(md, msg, sizeof(msg) - 1, &e) == 0,
	    "second delivery");
	snprintf(sub, sizeof(sub), "%s/new", md);
	ok(dir_list(sub, name, sizeof(name)) == 2, "two distinct files");
	ok(mail_dir_deliver("/proc/nonexistent/md", msg, 3, &e) == -1,
	    "unwritable maildir fails: %s", e.msg);
}

int
main(void)
{
	char cmd[300];

	if (sodium_init() < 0 || mkdtemp(tmpdir) == NULL)
		return 1;
	t_headers();
	t_refusals();
	t_subjects();
	t_qp();
	t_attach();
	t_maildir();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	if (system(cmd) != 0)
		return 1;
	return tap_done();
}
