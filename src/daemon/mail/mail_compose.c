/*
 * mail_compose: a strict RFC 5322 + MIME writer.  Every header value is
 * checked before a byte is written: addresses are bare, the subject and
 * file names hold no control bytes.  It writes; it does not send.
 */
#include <stdbool.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "buf.h"
#include "err.h"
#include "mail.h"
#include "str.h"

#define SUBJ_WORD_MAX	42	/* bytes per encoded-word (56 base64) */
#define SUBJ_FOLD_COL	78	/* preferred header line length */
#define SUBJ_CHUNK_MAX	900	/* longer words go as RFC 2047 */
#define ADDR_MAX	254
#define FNAME_MAX	200
#define CTYPE_MAX	100
#define B64_LINE_IN	57	/* 57 bytes make one 76-char base64 line */

/* True for a bare address: one '@', no space, control or specials. */
bool
mail_addr_ok(const char *a)
{
	const char *at = NULL, *p;

	if (a == NULL || *a == '\0' || strlen(a) > ADDR_MAX)
		return false;
	for (p = a; *p; p++) {
		unsigned char c = (unsigned char)*p;

		if (c <= 0x20 || c >= 0x7f || strchr("<>\"'(),;:\\[]", c))
			return false;
		if (c == '@') {
			if (at != NULL)
				return false;
			at = p;
		}
	}
	return at != NULL && at != a && at[1] != '\0';
}

/* True when s is well-formed UTF-8 (no overlongs or surrogates). */
static bool
utf8_ok(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n, i;
	unsigned long cp;

	while (*p) {
		if (*p < 0x80) {
			p++;
			continue;
		}
		if ((*p & 0xe0) == 0xc0) {
			n = 1;
			cp = *p & 0x1f;
		} else if ((*p & 0xf0) == 0xe0) {
			n = 2;
			cp = *p & 0x0f;
		} else if ((*p & 0xf8) == 0xf0) {
			n = 3;
			cp = *p & 0x07;
		} else
			return false;
		for (i = 1; i <= n; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (p[i] & 0x3f);
		}
		if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) ||
		    (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		p += n + 1;
	}
	return true;
}

/* File names are [A-Za-z0-9._-], as mail.h promises. */
static bool
fname_ok(const char *f)
{
	const char *p;

	if (f == NULL || *f == '\0' || strlen(f) > FNAME_MAX)
		return false;
	for (p = f; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr("._-", *p)))
			return false;
	return true;
}

/* A bare "type/subtype" made of RFC 2045 token bytes. */
static bool
ctype_ok(const char *t)
{
	const char *p;
	int slash = 0;

	if (t == NULL || *t == '\0' || *t == '/' || strlen(t) > CTYPE_MAX)
		return false;
	for (p = t; *p; p++) {
		if (*p == '/') {
			if (slash++ || p[1] == '\0')
				return false;
		} else if (!((*p >= 'a' && *p <= 'z') ||
		    (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		    strchr("!#$&^_.+-", *p)))
			return false;
	}
	return slash == 1;
}

/* Check everything that ends up in a header. */
static int
spec_check(const struct mail_spec *m, struct err *e)
{
	size_t i;

	if (!mail_addr_ok(m->from))
		return err_set(e, ERR_INVALID, "malformed sender address");
	if (!mail_addr_ok(m->to))
		return err_set(e, ERR_INVALID, "malformed e-mail address");
	if (m->subject == NULL ||
	    str_has_ctl(m->subject, strlen(m->subject)) ||
	    !utf8_ok(m->subject))
		return err_set(e, ERR_INVALID, "bad mail subject");
	if (m->natts > 0 && m->atts == NULL)
		return err_set(e, ERR_INVALID, "missing attachments");
	for (i = 0; i < m->natts; i++) {
		if (!fname_ok(m->atts[i].filename))
			return err_set(e, ERR_INVALID,
			    "bad attachment file name");
		if (!ctype_ok(m->atts[i].content_type))
			return err_set(e, ERR_INVALID,
			    "bad attachment content type");
		if (m->atts[i].len > 0 && m->atts[i].data == NULL)
			return err_set(e, ERR_INVALID, "missing attachment");
	}
	return 0;
}

/* Base64 of n bytes (n <= 57) appended as one line without CRLF. */
static int
b64_add(struct buf *b, const void *p, size_t n)
{
	char line[sodium_base64_ENCODED_LEN(B64_LINE_IN,
	    sodium_base64_VARIANT_ORIGINAL)];

	sodium_bin2base64(line, sizeof(line), p, n,
	    sodium_base64_VARIANT_ORIGINAL);
	return buf_addstr(b, line);
}

/* Base64 body: 76-char lines joined by CRLF, no CRLF after the last. */
static int
b64_body(struct buf *b, const unsigned char *p, size_t len)
{
	size_t off, n;
	int rc = 0;

	for (off = 0; off < len; off += n) {
		n = len - off < B64_LINE_IN ? len - off : B64_LINE_IN;
		if (off > 0)
			rc |= buf_add(b, "\r\n", 2);
		rc |= b64_add(b, p + off, n);
	}
	return rc;
}

/* Subject as RFC 2047 B encoded-words, split on character boundaries. */
static int
subject_encoded(struct buf *b, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t len = strlen(s), off = 0, n;
	int rc = 0;

	while (off < len) {
		n = len - off < SUBJ_WORD_MAX ? len - off : SUBJ_WORD_MAX;
		/* never split a UTF-8 sequence across two words */
		while (off + n < len && n > 1 && (p[off + n] & 0xc0) == 0x80)
			n--;
		if (off > 0)
			rc |= buf_add(b, "\r\n ", 3);
		rc |= buf_addstr(b, "=?UTF-8?B?");
		rc |= b64_add(b, p + off, n);
		rc |= buf_addstr(b, "?=");
		off += n;
	}
	return rc;
}

/* Length of the run of spaces plus the word that follows them. */
static size_t
chunk_len(const char *p, bool *blank)
{
	size_t j = 0;

	while (p[j] == ' ')
		j++;
	*blank = p[j] == '\0';
	while (p[j] != '\0' && p[j] != ' ')
		j++;
	return j;
}

/* True when an ASCII subject can go out as it is, folded at spaces. */
static bool
subject_plain_ok(const char *s)
{
	const char *p;
	size_t n;
	bool blank;

	if (strstr(s, "=?") != NULL)
		return false;	/* would read as an encoded-word */
	for (p = s; *p; p++)
		if ((unsigned char)*p >= 0x80)
			return false;
	for (p = s; *p; p += n)
		if ((n = chunk_len(p, &blank)) > SUBJ_CHUNK_MAX)
			return false;
	return true;
}

/* The Subject header, folded before a space when a line grows long. */
static int
add_subject(struct buf *b, const char *s)
{
	size_t col, n;
	bool blank;
	int rc;

	rc = buf_addstr(b, "Subject: ");
	if (!subject_plain_ok(s))
		rc |= subject_encoded(b, s);
	else {
		col = strlen("Subject: ");
		for (; *s; s += n) {
			n = chunk_len(s, &blank);
			/* a folded line must hold more than blanks */
			if (col > strlen("Subject: ") && !blank &&
			    col + n > SUBJ_FOLD_COL) {
				rc |= buf_add(b, "\r\n", 2);
				col = 0;
			}
			rc |= buf_add(b, s, n);
			col += n;
		}
	}
	return rc | buf_add(b, "\r\n", 2);
}

/* The Date header in RFC 5322 form, UTC, without locale. */
static int
add_date(struct buf *b, int64_t date, struct err *e)
{
	static const char *const days[] = { "Sun", "Mon", "Tue", "Wed",
	    "Thu", "Fri", "Sat" };
	static const char *const mons[] = { "Jan", "Feb", "Mar", "Apr",
	    "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	time_t t = (time_t)date;
	struct tm tm;

	if (date < 0 || gmtime_r(&t, &tm) == NULL || tm.tm_year > 8099)
		return err_set(e, ERR_INVALID, "bad mail date");
	return buf_printf(b, "Date: %s, %02d %s %04d %02d:%02d:%02d +0000\r\n",
	    days[tm.tm_wday], tm.tm_mday, mons[tm.tm_mon], tm.tm_year + 1900,
	    tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* 128 random bits as 32 lower-case hex digits. */
static void
rand_hex(char out[33])
{
	uint8_t raw[16];

	randombytes_buf(raw, sizeof(raw));
	str_hex(raw, sizeof(raw), out);
}

/* One QP token for byte c; last says it ends the line. */
static size_t
qp_token(unsigned char c, bool last, char tok[3])
{
	static const char hex[] = "0123456789ABCDEF";

	if ((c >= 33 && c <= 126 && c != '=') ||
	    ((c == ' ' || c == '\t') && !last)) {
		tok[0] = (char)c;
		return 1;
	}
	tok[0] = '=';
	tok[1] = hex[c >> 4];
	tok[2] = hex[c & 15];
	return 3;
}

/* One body line as QP, soft-broken so no line passes 76 chars. */
static int
qp_line(struct buf *b, const unsigned char *p, size_t n)
{
	char tok[3];
	size_t i, col = 0, tl;
	bool last;
	int rc = 0;

	for (i = 0; i < n; i++) {
		last = i + 1 == n;
		tl = qp_token(p[i], last, tok);
		/* leave room for the soft break unless the line ends here */
		if (col + tl > (last ? 76u : 75u)) {
			rc |= buf_add(b, "=\r\n", 3);
			col = 0;
		}
		rc |= buf_add(b, tok, tl);
		col += tl;
	}
	return rc;
}

/* The body as QP; LF and CRLF both become CRLF, a lone CR is =0D. */
static int
qp_body(struct buf *b, const char *body)
{
	const char *p = body, *nl;
	size_t n;
	int rc = 0;

	while (*p) {
		nl = strchr(p, '\n');
		n = nl ? (size_t)(nl - p) : strlen(p);
		rc |= qp_line(b, (const unsigned char *)p,
		    nl && n > 0 && p[n - 1] == '\r' ? n - 1 : n);
		if (nl == NULL)
			break;
		rc |= buf_add(b, "\r\n", 2);
		p = nl + 1;
	}
	return rc;
}

/* Headers every message carries, up to MIME-Version. */
static int
add_common(struct buf *b, const struct mail_spec *m, struct err *e)
{
	char id[33];
	int rc;

	if (add_date(b, m->date, e) == -1)
		return -1;
	rand_hex(id);
	rc = buf_printf(b, "From: %s\r\nTo: %s\r\n", m->from, m->to);
	rc |= add_subject(b, m->subject);
	rc |= buf_printf(b, "Message-ID: <%s@%s>\r\n", id,
	    strchr(m->from, '@') + 1);
	rc |= buf_addstr(b, "MIME-Version: 1.0\r\n"
	    "Auto-Submitted: auto-generated\r\n");
	return rc ? err_set(e, ERR_TOOBIG, "mail too large") : 0;
}

/* Text-only message: one quoted-printable part. */
static int
add_single(struct buf *b, const char *body)
{
	int rc;

	rc = buf_addstr(b, "Content-Type: text/plain; charset=utf-8\r\n"
	    "Content-Transfer-Encoding: quoted-printable\r\n\r\n");
	rc |= qp_body(b, body);
	if (*body != '\0' && body[strlen(body) - 1] != '\n')
		rc |= buf_add(b, "\r\n", 2);
	return rc;
}

/* multipart/mixed: the text, then each attachment as base64. */
static int
add_multi(struct buf *b, const struct mail_spec *m, const char *body)
{
	char bnd[64];
	const struct mail_att *a;
	size_t i;
	int rc;

	/* "=_" never occurs in QP or base64 output */
	rand_hex(bnd + strlen("=_keydir_"));
	memcpy(bnd, "=_keydir_", strlen("=_keydir_"));
	rc = buf_printf(b, "Content-Type: multipart/mixed; boundary=\"%s\"\r\n"
	    "\r\n--%s\r\n", bnd, bnd);
	rc |= buf_addstr(b, "Content-Type: text/plain; charset=utf-8\r\n"
	    "Content-Transfer-Encoding: quoted-printable\r\n\r\n");
	rc |= qp_body(b, body);
	for (i = 0; i < m->natts; i++) {
		a = &m->atts[i];
		rc |= buf_printf(b, "\r\n--%s\r\n"
		    "Content-Type: %s; name=\"%s\"\r\n"
		    "Content-Disposition: attachment; filename=\"%s\"\r\n"
		    "Content-Transfer-Encoding: base64\r\n\r\n",
		    bnd, a->content_type, a->filename, a->filename);
		rc |= b64_body(b, a->data, a->len);
	}
	return rc | buf_printf(b, "\r\n--%s--\r\n", bnd);
}

/* Compose into a scratch buffer, then append to out in one piece. */
int
mail_compose(const struct mail_spec *m, struct buf *out, struct err *e)
{
	struct buf tmp;
	const char *body = m->body ? m->body : "";
	int rc = -1;

	if (spec_check(m, e) == -1)
		return -1;
	buf_init(&tmp, out->max - out->len);
	if (add_common(&tmp, m, e) == -1)
		goto out;
	if ((m->natts == 0 ? add_single(&tmp, body) :
	    add_multi(&tmp, m, body)) == -1 || buf_failed(&tmp) ||
	    buf_add(out, tmp.data, tmp.len) == -1) {
		err_set(e, ERR_TOOBIG, "mail too large");
		goto out;
	}
	rc = 0;
out:
	buf_release(&tmp);
	return rc;
}

/*
 * The Web Key Service's confirmation request (draft-koch-openpgp-
 * webkey-service 4.2, as gpg-wks-server writes it): the entity that is
 * signed, a multipart/mixed of the text and the application/vnd.gnupg.wks
 * part (payload, armored: only line breaks and ASCII).
 */
int
mail_wks_entity(const char *text, const char *payload, struct buf *out,
    struct err *e)
{
	const char *p;
	char bnd[64];
	int rc;

	for (p = payload; *p; p++)
		if ((unsigned char)*p > 0x7e || (*p < 0x20 && *p != '\n' &&
		    *p != '\r'))
			return err_set(e, ERR_INVALID, "wks: the payload is not "
			    "armored");
	rand_hex(bnd + strlen("=_keydir_"));
	memcpy(bnd, "=_keydir_", strlen("=_keydir_"));
	rc = buf_printf(out, "Content-Type: multipart/mixed; boundary=\"%s\""
	    "\r\n\r\n--%s\r\n", bnd, bnd);
	rc |= buf_addstr(out, "Content-Type: text/plain; charset=utf-8\r\n"
	    "Content-Transfer-Encoding: quoted-printable\r\n\r\n");
	rc |= qp_body(out, text);
	rc |= buf_printf(out, "\r\n--%s\r\nContent-Type: "
	    "application/vnd.gnupg.wks\r\nContent-Transfer-Encoding: 7bit\r\n"
	    "\r\n", bnd);
	for (p = payload; *p; p++)
		rc |= *p == '\n' ? buf_add(out, "\r\n", 2) : *p == '\r' ? 0 :
		    buf_addch(out, *p);
	return rc | buf_printf(out, "\r\n--%s--\r\n", bnd) ?
	    err_set(e, ERR_TOOBIG, "mail too large") : 0;
}

/* The whole message: m's headers, the Web Key Service's, then
 * multipart/signed of entity and its detached signature sig (armored). */
int
mail_compose_signed(const struct mail_spec *m, const char *wks_phase,
    const char *entity, const char *sig, struct buf *out, struct err *e)
{
	struct buf tmp;
	const char *p;
	char bnd[64];
	int rc;

	if (spec_check(m, e) == -1)
		return -1;
	buf_init(&tmp, out->max - out->len);
	rand_hex(bnd + strlen("=_keydir_s_"));
	memcpy(bnd, "=_keydir_s_", strlen("=_keydir_s_"));
	rc = add_common(&tmp, m, e) == -1;
	rc |= buf_printf(&tmp, "Wks-Draft-Version: 3\r\nWks-Phase: %s\r\n"
	    "Content-Type: multipart/signed; micalg=pgp-sha256; "
	    "protocol=\"application/pgp-signature\"; boundary=\"%s\"\r\n"
	    "\r\n--%s\r\n", wks_phase, bnd, bnd);
	rc |= buf_addstr(&tmp, entity);
	rc |= buf_printf(&tmp, "\r\n--%s\r\nContent-Type: "
	    "application/pgp-signature; name=\"signature.asc\"\r\n\r\n", bnd);
	for (p = sig; *p; p++)
		rc |= *p == '\n' ? buf_add(&tmp, "\r\n", 2) : *p == '\r' ? 0 :
		    buf_addch(&tmp, *p);
	rc |= buf_printf(&tmp, "\r\n--%s--\r\n", bnd);
	if (rc || buf_failed(&tmp) || buf_add(out, tmp.data, tmp.len) == -1) {
		buf_release(&tmp);
		return err_set(e, ERR_TOOBIG, "mail too large");
	}
	buf_release(&tmp);
	return 0;
}
