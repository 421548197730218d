/*
 * email: normalise an address for lookup and comparison.  The local part
 * is kept as written except that ASCII letters are lower-cased; the domain
 * goes through IDNA (UTS #46) to ASCII.  Validation is deliberately
 * narrower than RFC 5322: dot-atoms or UTF-8 only.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <idn2.h>

#include "email.h"
#include "str.h"

#define EMAIL_SPAN_MAX	1024	/* raw address bytes we look at, pre-IDNA */
#define DOMAIN_MAX	253
#define LABEL_MAX	63

static const char email_refused[] = "malformed e-mail address";

/* Length of the well-formed UTF-8 sequence at p (at most n bytes), or 0. */
static size_t
utf8_len(const unsigned char *p, size_t n)
{
	size_t len, i;
	unsigned long cp;

	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		len = 2;
		cp = p[0] & 0x1f;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		len = 3;
		cp = p[0] & 0x0f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		len = 4;
		cp = p[0] & 0x07;
	} else
		return 0;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	/* Overlong forms, surrogates, beyond U+10FFFF, C1 controls. */
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff ||
	    (cp >= 0x80 && cp <= 0x9f))
		return 0;
	return len;
}

/* True for RFC 5322 atext, ASCII part. */
static bool
is_atext(int c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return true;
	return c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

/* Check a local part of n bytes (dot-atom or UTF-8) and lower-case it. */
static bool
local_ok(char *s, size_t n)
{
	size_t i, k;
	unsigned char c;

	/* '%', '!' and a leading '|' route or pipe on some relays */
	if (n == 0 || s[0] == '-' || s[0] == '.' || s[n - 1] == '.' ||
	    s[0] == '|' || memchr(s, '%', n) || memchr(s, '!', n))
		return false;
	for (i = 0; i < n; i += k) {
		c = (unsigned char)s[i];
		k = 1;
		if (c >= 0x80) {
			if ((k = utf8_len((const unsigned char *)s + i,
			    n - i)) == 0)
				return false;
		} else if (c == '.') {
			if (s[i + 1] == '.')
				return false;
		} else if (!is_atext(c))
			return false;
		else if (c >= 'A' && c <= 'Z')
			s[i] = (char)(c - 'A' + 'a');
	}
	return true;
}

/* Lower-case an ASCII domain and check its LDH labels; true when valid. */
static bool
domain_ok(char *d)
{
	size_t len = 0, label = 0, dots = 0;
	bool numeric = true;
	char *p;

	for (p = d; *p != '\0'; p++, len++) {
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
		if (*p == '.') {
			if (label == 0 || p[-1] == '-')
				return false;
			dots++;
			label = 0;
			numeric = true;
			continue;
		}
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
		    *p == '-'))
			return false;
		if (*p == '-' && label == 0)
			return false;
		if (!(*p >= '0' && *p <= '9'))
			numeric = false;
		if (++label > LABEL_MAX)
			return false;
	}
	/* An all-digit top-level label would make it an IPv4 address. */
	return label > 0 && p[-1] != '-' && dots > 0 && !numeric &&
	    len <= DOMAIN_MAX;
}

/* The domain dom as validated ASCII into out; -1 when refused. */
static int
domain_to_ascii(const char *dom, char *out, size_t outsz)
{
	char *ascii = NULL;
	const char *p;
	size_t n;

	for (p = dom; *p != '\0'; p++)
		if ((unsigned char)*p >= 0x80)
			break;
	if (*p == '\0') {
		if (str_lcpy(out, dom, outsz) >= outsz)
			return -1;
		return domain_ok(out) ? 0 : -1;
	}
	if (idn2_to_ascii_8z(dom, &ascii, IDN2_NONTRANSITIONAL) != IDN2_OK &&
	    idn2_to_ascii_8z(dom, &ascii, IDN2_TRANSITIONAL) != IDN2_OK)
		return -1;
	n = str_lcpy(out, ascii, outsz);
	idn2_free(ascii);
	if (n >= outsz)
		return -1;
	return domain_ok(out) ? 0 : -1;
}

/*
 * Bounds of the address in in: inside the one <...>, or all of it.  More
 * than one bracket pair is refused: "A <victim@x> <me@y>" would publish
 * one address while gpg reads the other.
 */
static bool
addr_span(const char *in, const char **startp, size_t *lenp)
{
	const char *start = in, *end, *lt, *gt;

	if (strchr(in, '<') != strrchr(in, '<') ||
	    strchr(in, '>') != strrchr(in, '>'))
		return false;
	if ((lt = strrchr(in, '<')) == NULL && strchr(in, '>') != NULL)
		return false;
	if (lt != NULL) {
		if (strchr(in, '>') < lt)
			return false;
		if ((gt = strchr(lt, '>')) == NULL)
			return false;
		for (end = gt + 1; *end == ' '; end++)
			;
		if (*end != '\0')
			return false;
		start = lt + 1;
		end = gt;
	} else
		end = in + strlen(in);
	while (start < end && *start == ' ')
		start++;
	while (end > start && end[-1] == ' ')
		end--;
	if (start == end || (size_t)(end - start) > EMAIL_SPAN_MAX)
		return false;
	*startp = start;
	*lenp = (size_t)(end - start);
	return true;
}

/* Normalise a bare or display-form address; see email.h. */
int
email_normalize(const char *in, char *out, size_t outsz, struct err *e)
{
	char addr[EMAIL_SPAN_MAX + 1], dom[DOMAIN_MAX + 2];
	const char *start;
	char *at;
	size_t len, llen, dlen;

	if (in == NULL || str_has_ctl(in, strlen(in)) ||
	    !addr_span(in, &start, &len))
		return err_set(e, ERR_INVALID, "%s", email_refused);
	memcpy(addr, start, len);
	addr[len] = '\0';
	if ((at = strchr(addr, '@')) == NULL || strchr(at + 1, '@') != NULL)
		return err_set(e, ERR_INVALID, "%s", email_refused);
	*at = '\0';
	llen = (size_t)(at - addr);
	if (!local_ok(addr, llen) ||
	    domain_to_ascii(at + 1, dom, sizeof(dom)) == -1)
		return err_set(e, ERR_INVALID, "%s", email_refused);
	dlen = strlen(dom);
	if (llen + 1 + dlen > EMAIL_MAX)
		return err_set(e, ERR_INVALID, "%s", email_refused);
	if (llen + 1 + dlen >= outsz)
		return err_set(e, ERR_INTERNAL, "e-mail buffer too small");
	memcpy(out, addr, llen);
	out[llen] = '@';
	memcpy(out + llen + 1, dom, dlen + 1);
	return 0;
}

/*
 * The address in an OpenPGP user ID, if it holds one in the strict form:
 * the address alone, or a display name without '@', '<', '>' or ','
 * followed by one <address> that ends the user ID.  Mail software reads
 * "bob@x <alice@y>" or "bob@x, Alice <alice@y>" as bob's, so those carry
 * no address here.
 */
int
email_from_uid(const char *uid, char *out, size_t outsz)
{
	const char *lt = strchr(uid, '<');
	size_t n = strlen(uid);

	if (lt == NULL) {
		if (strpbrk(uid, " >,") != NULL)
			return -1;
	} else if (n < 2 || uid[n - 1] != '>' ||
	    strpbrk(lt + 1, "<,") != NULL ||
	    memchr(uid, '@', (size_t)(lt - uid)) != NULL ||
	    memchr(uid, '>', (size_t)(lt - uid)) != NULL ||
	    memchr(uid, ',', (size_t)(lt - uid)) != NULL)
		return -1;
	return email_normalize(uid, out, outsz, NULL);
}

/* See email.h. */
int
email_unicode(const char *addr, char *out, size_t outsz)
{
	const char *at = strrchr(addr, '@');
	char *u = NULL, *back = NULL;
	int rc = -1;

	if (at == NULL || (strncmp(at + 1, "xn--", 4) != 0 &&
	    strstr(at + 1, ".xn--") == NULL))
		return -1;
	/* only a label IDNA 2008 would have made: one that decodes to a
	 * direction override or an invisible joiner is shown as it is */
	if (idn2_to_unicode_8z8z(at + 1, &u, 0) == IDN2_OK &&
	    idn2_to_ascii_8z(u, &back, IDN2_NONTRANSITIONAL) == IDN2_OK &&
	    strcmp(back, at + 1) == 0 &&
	    (size_t)(at - addr) + 1 + strlen(u) < outsz) {
		snprintf(out, outsz, "%.*s@%s", (int)(at - addr), addr, u);
		rc = 0;
	}
	idn2_free(u);
	idn2_free(back);
	return rc;
}
