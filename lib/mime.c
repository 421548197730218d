/*
 * mime: a header block is the lines up to the first empty one (CRLF or
 * LF); a continuation line starts with a space or a tab.  A multipart
 * body is split at lines that are "--" boundary (the CRLF before such a
 * line belongs to it, RFC 2046 5.1.1), up to the close "--" boundary
 * "--".
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "mime.h"
#include "str.h"
#include "xmalloc.h"

/* The end of the header block at p (len bytes) and where the body
 * starts. */
static void
split_head(const char *p, size_t len, size_t *head_len, size_t *body_off)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (p[i] != '\n')
			continue;
		if (i + 1 < len && p[i + 1] == '\n') {
			*head_len = i + 1;
			*body_off = i + 2;
			return;
		}
		if (i + 2 < len && p[i + 1] == '\r' && p[i + 2] == '\n') {
			*head_len = i + 1;
			*body_off = i + 3;
			return;
		}
	}
	if (len > 0 && p[0] != '\n' && p[0] != '\r') {
		*head_len = len;
		*body_off = len;
	} else {	/* no headers at all: the body starts at once */
		*head_len = 0;
		*body_off = len > 0 && p[0] == '\n' ? 1 : len > 1 &&
		    p[1] == '\n' ? 2 : 0;
	}
}

int
mime_header(const struct mime_ent *m, const char *name, char *out,
    size_t sz)
{
	const char *p = m->head, *end = m->head + m->head_len, *eol;
	size_t nl = strlen(name), o = 0;
	bool in = false;

	if (sz == 0)
		return 1;
	out[0] = '\0';
	for (; p < end; p = eol + 1) {
		if ((eol = memchr(p, '\n', (size_t)(end - p))) == NULL)
			eol = end;
		if (*p == ' ' || *p == '\t') {
			if (!in)
				continue;
		} else if (in)
			break;
		else if ((size_t)(eol - p) > nl && p[nl] == ':' &&
		    strncasecmp(p, name, nl) == 0) {
			in = true;
			p += nl + 1;
		} else
			continue;
		for (; p < eol && o + 1 < sz; p++)
			if (*p != '\r')
				out[o++] = *p == '\t' ? ' ' : *p;
		if (eol == end)
			break;
	}
	if (!in)
		return 1;
	while (o > 0 && out[o - 1] == ' ')
		o--;
	out[o] = '\0';
	o = strspn(out, " ");
	memmove(out, out + o, strlen(out + o) + 1);
	return 0;
}

/* Parameter name of a header value v ("type; a=b; c=\"d\""), into out. */
static void
param(const char *v, const char *name, char *out, size_t sz)
{
	const char *p = strchr(v, ';');
	size_t nl = strlen(name), o = 0;

	out[0] = '\0';
	while (p != NULL) {
		p++;
		p += strspn(p, " ");
		if (strncasecmp(p, name, nl) == 0 && p[nl] == '=') {
			p += nl + 1;
			if (*p == '"') {
				for (p++; *p && *p != '"' && o + 1 < sz; p++)
					out[o++] = *p;
			} else
				for (; *p && *p != ';' && *p != ' ' &&
				    o + 1 < sz; p++)
					out[o++] = *p;
			out[o] = '\0';
			return;
		}
		p = strchr(p, ';');
	}
}

int
mime_entity(const char *p, size_t len, struct mime_ent *out, struct err *e)
{
	char v[512];
	size_t hl, bo, i;

	memset(out, 0, sizeof(*out));
	split_head(p, len, &hl, &bo);
	out->head = p;
	out->head_len = hl;
	out->body = p + bo;
	out->body_len = len - bo;
	str_lcpy(out->ctype, "text/plain", sizeof(out->ctype));
	if (mime_header(out, "Content-Type", v, sizeof(v)) == 0) {
		for (i = 0; v[i] && v[i] != ';' && v[i] != ' ' &&
		    i + 1 < sizeof(out->ctype); i++)
			out->ctype[i] = (char)tolower((unsigned char)v[i]);
		out->ctype[i] = '\0';
		if (!strncmp(out->ctype, "multipart/", 10)) {
			param(v, "boundary", out->boundary,
			    sizeof(out->boundary));
			if (out->boundary[0] == '\0' ||
			    strlen(out->boundary) > 70)
				return err_set(e, ERR_INVALID, "mime: a "
				    "multipart without a usable boundary");
		}
	}
	if (mime_header(out, "Content-Transfer-Encoding", v, sizeof(v)) == 0)
		for (i = 0; v[i] && i + 1 < sizeof(out->cte); i++)
			out->cte[i] = (char)tolower((unsigned char)v[i]);
	return 0;
}

/* Whether a delimiter line "--b" (and "--b--" when *close) starts at
 * q, which is at the start of a line. */
static bool
delim_at(const char *q, const char *end, const char *b, size_t bl,
    bool *close)
{
	if ((size_t)(end - q) < bl + 2 || q[0] != '-' || q[1] != '-' ||
	    memcmp(q + 2, b, bl) != 0)
		return false;
	q += 2 + bl;
	*close = end - q >= 2 && q[0] == '-' && q[1] == '-';
	return true;
}

int
mime_parts(const struct mime_ent *m, struct mime_ent *parts, size_t max,
    size_t *n, struct err *e)
{
	const char *p = m->body, *end = m->body + m->body_len, *start = NULL;
	const char *line, *eol, *stop;
	size_t bl = strlen(m->boundary);
	bool close = false;

	*n = 0;
	if (max > MIME_PARTS_MAX)
		max = MIME_PARTS_MAX;
	if (bl == 0)
		return err_set(e, ERR_INVALID, "mime: not a multipart");
	for (line = p; line < end; line = eol + 1) {
		if ((eol = memchr(line, '\n', (size_t)(end - line))) == NULL)
			eol = end;
		if (!delim_at(line, end, m->boundary, bl, &close))
			continue;
		if (start != NULL) {
			/* the line break before the delimiter is its own */
			stop = line;
			if (stop > start && stop[-1] == '\n')
				stop--;
			if (stop > start && stop[-1] == '\r')
				stop--;
			if (*n == max)
				return err_set(e, ERR_TOOBIG, "mime: more than "
				    "%zu parts", max);
			if (mime_entity(start, (size_t)(stop - start),
			    &parts[*n], e) == -1)
				return -1;
			(*n)++;
		}
		if (close)
			return 0;
		start = eol < end ? eol + 1 : end;
		if (eol == end)
			break;
	}
	return err_set(e, ERR_INVALID, "mime: the multipart is not closed");
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int
mime_body(const struct mime_ent *m, struct buf *out, struct err *e)
{
	const char *p = m->body;
	size_t n = m->body_len, i, got = 0;
	uint8_t *bin;

	if (!strcmp(m->cte, "base64")) {
		bin = xmalloc(n / 4 * 3 + 3);
		if (sodium_base642bin(bin, n / 4 * 3 + 3, p, n, " \t\r\n",
		    &got, NULL, sodium_base64_VARIANT_ORIGINAL) != 0) {
			free(bin);
			return err_set(e, ERR_INVALID, "mime: bad base64");
		}
		i = (size_t)buf_add(out, bin, got);
		free(bin);
		return i == 0 ? 0 : err_set(e, ERR_TOOBIG, "mime: too big");
	}
	if (!strcmp(m->cte, "quoted-printable")) {
		for (i = 0; i < n; i++) {
			if (p[i] == '=' && i + 1 < n && p[i + 1] == '\n') {
				i++;
				continue;
			}
			if (p[i] == '=' && i + 2 < n && p[i + 1] == '\r' &&
			    p[i + 2] == '\n') {
				i += 2;
				continue;
			}
			if (p[i] == '=' && i + 2 < n && hexval(p[i + 1]) >= 0 &&
			    hexval(p[i + 2]) >= 0) {
				buf_addch(out, (char)(hexval(p[i + 1]) * 16 +
				    hexval(p[i + 2])));
				i += 2;
				continue;
			}
			buf_addch(out, p[i]);
		}
		return buf_failed(out) ? err_set(e, ERR_TOOBIG, "mime: too "
		    "big") : 0;
	}
	return buf_add(out, p, n) == 0 ? 0 : err_set(e, ERR_TOOBIG,
	    "mime: too big");
}
