/*
 * multipart: a strict, small reader of multipart/form-data.
 *
 * The body is "--B" CRLF headers CRLF CRLF data, then CRLF "--B" and
 * either CRLF and the next part's headers, or "--" and the end (RFC
 * 2046, 5.1.1).  Bytes before the first delimiter (a preamble) and after
 * the last are ignored.  Nothing is copied but names.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "multipart.h"
#include "str.h"

/* The first n-byte needle in [p, p + len), or NULL. */
static const uint8_t *
find(const uint8_t *p, size_t len, const char *needle, size_t n)
{
	const uint8_t *q, *end;

	if (n == 0 || len < n)
		return NULL;
	end = p + len - n;
	for (q = p; q <= end; q++) {
		q = memchr(q, needle[0], (size_t)(end - q) + 1);
		if (q == NULL)
			return NULL;
		if (memcmp(q, needle, n) == 0)
			return q;
	}
	return NULL;
}

/* See multipart.h. */
int
mp_boundary(const char *ctype, char *out)
{
	const char *p, *b;
	size_t n;

	if (ctype == NULL || strncasecmp(ctype, "multipart/form-data", 19) != 0)
		return -1;
	for (p = ctype + 19; (p = strchr(p, ';')) != NULL; ) {
		p++;
		while (*p == ' ' || *p == '\t')
			p++;
		if (strncasecmp(p, "boundary=", 9) != 0)
			continue;
		b = p + 9;
		if (*b == '"') {
			b++;
			n = strcspn(b, "\"");
			if (b[n] != '"')
				return -1;
		} else
			n = strcspn(b, "; \t");
		if (n == 0 || n > MP_BOUNDARY_MAX ||
		    str_has_ctl(b, n))
			return -1;
		memcpy(out, b, n);
		out[n] = '\0';
		return 0;
	}
	return -1;
}

/* The value of parameter key ("name", "filename") in a Content-Disposition
 * line [p, end) into out; -1 when absent, not quoted, or too long. */
static int
disp_param(const char *p, const char *end, const char *key, char *out,
    size_t outsz)
{
	size_t kl = strlen(key), n;
	const char *q;

	for (q = p; q + kl + 2 <= end; q++) {
		if ((q != p && q[-1] != ';' && q[-1] != ' ' && q[-1] != '\t') ||
		    strncasecmp(q, key, kl) != 0 || q[kl] != '=' ||
		    q[kl + 1] != '"')
			continue;
		q += kl + 2;
		for (n = 0; q + n < end && q[n] != '"'; n++)
			;
		if (q + n >= end || n >= outsz || str_has_ctl(q, n))
			return -1;
		memcpy(out, q, n);
		out[n] = '\0';
		return 0;
	}
	return -1;
}

/* A part's headers [h, end): its name and filename into part. */
static int
part_headers(const char *h, const char *end, struct mp_part *part)
{
	const char *line, *eol;
	bool named = false;

	part->name[0] = part->filename[0] = '\0';
	for (line = h; line < end; line = eol + 2) {
		eol = (const char *)find((const uint8_t *)line,
		    (size_t)(end - line), "\r\n", 2);
		if (eol == NULL)
			eol = end;
		if ((size_t)(eol - line) > 20 && strncasecmp(line,
		    "Content-Disposition:", 20) == 0) {
			const char *v = line + 20;

			while (v < eol && (*v == ' ' || *v == '\t'))
				v++;
			if ((size_t)(eol - v) < 9 ||
			    strncasecmp(v, "form-data", 9) != 0)
				return -1;
			if (disp_param(v + 9, eol, "name", part->name,
			    sizeof(part->name)) == -1 || part->name[0] == '\0')
				return -1;	/* no name, or name="" */
			named = true;
			if (disp_param(v + 9, eol, "filename", part->filename,
			    sizeof(part->filename)) == -1)
				part->filename[0] = '\0';
		}
		if (eol == end)
			break;
	}
	return named ? 0 : -1;
}

/* See multipart.h. */
int
mp_parse(const uint8_t *body, size_t len, const char *boundary,
    struct mp_part *parts, size_t max, size_t *n, struct err *e)
{
	char delim[MP_BOUNDARY_MAX + 5];
	const uint8_t *p, *end = body + len, *hend, *next;
	size_t dl;

	*n = 0;
	dl = (size_t)snprintf(delim, sizeof(delim), "\r\n--%s", boundary);
	if (dl >= sizeof(delim) || boundary[0] == '\0')
		return err_set(e, ERR_INVALID, "the form's boundary is bad");
	/* the first delimiter may open the body, without its CRLF */
	if (len >= dl - 2 && memcmp(body, delim + 2, dl - 2) == 0)
		p = body + dl - 2;
	else if ((p = find(body, len, delim, dl)) != NULL)
		p += dl;
	else
		return err_set(e, ERR_INVALID, "the form's data is malformed "
		    "(no boundary)");
	for (;;) {
		if (end - p >= 2 && p[0] == '-' && p[1] == '-')
			return 0;	/* the closing delimiter */
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;	/* transport padding */
		if (end - p < 2 || p[0] != '\r' || p[1] != '\n')
			return err_set(e, ERR_INVALID, "the form's data is "
			    "malformed (after a boundary)");
		p += 2;
		if (*n == max)
			return err_set(e, ERR_INVALID, "the form has more than "
			    "%zu fields", max);
		if ((next = find(p, (size_t)(end - p), delim, dl)) == NULL)
			return err_set(e, ERR_INVALID, "the form's data is "
			    "malformed (it does not end)");
		/* the headers end inside the part: CRLF CRLF, or a part
		 * with no data whose last header's CRLF is the delimiter's */
		if ((hend = find(p, (size_t)(next + 2 - p), "\r\n\r\n", 4)) ==
		    NULL)
			return err_set(e, ERR_INVALID, "the form's data is "
			    "malformed (a part's headers do not end)");
		if (part_headers((const char *)p, (const char *)hend,
		    &parts[*n]) == -1)
			return err_set(e, ERR_INVALID, "the form's data is "
			    "malformed (a part has no form-data name)");
		p = hend + 4 <= next ? hend + 4 : next;
		parts[*n].data = p;
		parts[*n].len = (size_t)(next - p);
		(*n)++;
		p = next + dl;
	}
}

/* See multipart.h. */
const struct mp_part *
mp_find(const struct mp_part *parts, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(parts[i].name, name))
			return &parts[i];
	return NULL;
}
