/*
 * str: string helpers.
 */
#define _XOPEN_SOURCE 700	/* strptime */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "str.h"
#include "xmalloc.h"

/* strlcpy. */
size_t
str_lcpy(char *dst, const char *src, size_t sz)
{
	size_t len = strlen(src);

	if (sz) {
		size_t n = len < sz - 1 ? len : sz - 1;
		memcpy(dst, src, n);
		dst[n] = '\0';
	}
	return len;
}

/* Lower-case hex. */
void
str_hex(const uint8_t *p, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * n] = '\0';
}

/* ASCII upper-case in place. */
void
str_upper(char *s)
{
	for (; *s; s++)
		*s = (char)toupper((unsigned char)*s);
}

/* ASCII lower-case in place. */
void
str_lower(char *s)
{
	for (; *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s - 'A' + 'a');
}

/* Exactly n hex digits. */
bool
str_is_hex(const char *s, size_t n)
{
	size_t i;

	if (strlen(s) != n)
		return false;
	for (i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]))
			return false;
	return true;
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static char *
pct_decode(const char *in, size_t n, bool plus_is_space)
{
	char *out = xmalloc(n + 1), *o = out;
	size_t i;

	for (i = 0; i < n; i++) {
		int c = (unsigned char)in[i];
		if (c == '%') {
			int hi, lo;
			if (i + 2 >= n)
				goto bad;
			hi = hexval(in[i + 1]);
			lo = hexval(in[i + 2]);
			if (hi < 0 || lo < 0)
				goto bad;
			c = hi * 16 + lo;
			i += 2;
		} else if (c == '+' && plus_is_space)
			c = ' ';
		if (c == 0)
			goto bad;
		*o++ = (char)c;
	}
	*o = '\0';
	return out;
bad:
	free(out);
	return NULL;
}

/* Percent-decode, '+' literal. */
char *
str_pct_decode(const char *in, size_t n)
{
	return pct_decode(in, n, false);
}

/* Form-decode, '+' is a space. */
char *
str_form_decode(const char *in, size_t n)
{
	return pct_decode(in, n, true);
}

/* Constant-time compare. */
bool
str_ct_equal(const void *a, const void *b, size_t n)
{
	const volatile unsigned char *x = a, *y = b;
	unsigned char d = 0;
	size_t i;

	for (i = 0; i < n; i++)
		d |= (unsigned char)(x[i] ^ y[i]);
	return d == 0;
}

/* Where the first control character of s[0..n) is, or n. */
size_t
str_ctl_at(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] < 0x20 || p[i] == 0x7f || (p[i] == 0xc2 &&
		    i + 1 < n && p[i + 1] >= 0x80 && p[i + 1] <= 0x9f))
			return i;
	return n;
}

/* Whether s[0..n) holds a control character. */
bool
str_has_ctl(const char *s, size_t n)
{
	return str_ctl_at(s, n) < n;
}

/* RFC 3339 UTC. */
int64_t
str_rfc3339(const char *s)
{
	struct tm tm;
	const char *end;

	memset(&tm, 0, sizeof(tm));
	if (strlen(s) != 20)
		return -1;
	end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (end == NULL || *end != '\0')
		return -1;
	return (int64_t)timegm(&tm);
}
