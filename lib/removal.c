/*
 * removal: parsing and checking the statement of a signed removal request.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "removal.h"
#include "str.h"
#include "xmalloc.h"

enum { F_REQUEST, F_SERVER, F_FPR, F_ADDRS, F_NONCE, F_DATE, F_N };

static const char *const field_names[F_N] = {
	"keydir-request", "server", "fingerprint", "addresses", "nonce", "date"
};

/* Free what r owns. */
void
removal_release(struct removal *r)
{
	free(r->addrs);
	r->addrs = NULL;
	r->naddrs = 0;
}

/* True if address is already among the first naddrs of r. */
static bool
seen_before(const struct removal *r, const char *address)
{
	size_t i;

	for (i = 0; i < r->naddrs; i++)
		if (!strcmp(r->addrs[i], address))
			return true;
	return false;
}

/* "all" or a comma-separated list of addresses. */
static int
parse_addrs(const char *v, struct removal *r, struct err *e)
{
	char *copy, *p, *tok, *save = NULL;
	int rc = 0;

	if (!strcmp(v, "all")) {
		r->all = true;
		return 0;
	}
	copy = xstrdup(v);
	for (p = copy; (tok = strtok_r(p, ",", &save)) != NULL; p = NULL) {
		if (r->naddrs == REMOVAL_MAX_ADDRS) {
			rc = err_set(e, ERR_INVALID, "too many addresses");
			break;
		}
		r->addrs = xrealloc(r->addrs,
		    (r->naddrs + 1) * sizeof(*r->addrs));
		if (email_normalize(tok, r->addrs[r->naddrs], EMAIL_MAX + 1,
		    NULL) == -1) {
			rc = err_set(e, ERR_INVALID, "addresses: malformed "
			    "e-mail address");
			break;
		}
		if (!seen_before(r, r->addrs[r->naddrs]))
			r->naddrs++;
	}
	free(copy);
	if (rc == 0 && r->naddrs == 0)
		rc = err_set(e, ERR_INVALID, "addresses: give 'all' or a list");
	return rc;
}

/* Store one field's value. */
static int
set_field(int f, const char *v, struct removal *r, struct err *e)
{
	size_t n = strlen(v), i;

	switch (f) {
	case F_REQUEST:
		if (strcmp(v, "remove"))
			return err_set(e, ERR_INVALID, "keydir-request: only "
			    "'remove' is known");
		return 0;
	case F_SERVER:
		if (n == 0 || str_lcpy(r->server, v, sizeof(r->server)) >=
		    sizeof(r->server))
			return err_set(e, ERR_INVALID, "server: malformed");
		return 0;
	case F_FPR:
		if (!str_is_hex(v, 40))
			return err_set(e, ERR_INVALID, "fingerprint: want 40 "
			    "hex digits");
		str_lcpy(r->fpr, v, sizeof(r->fpr));
		str_upper(r->fpr);
		return 0;
	case F_ADDRS:
		return parse_addrs(v, r, e);
	case F_NONCE:
		for (i = 0; i < n; i++)
			if (!isgraph((unsigned char)v[i]))
				break;
		if (n < 16 || n >= sizeof(r->nonce) || i < n)
			return err_set(e, ERR_INVALID, "nonce: want 16 to 128 "
			    "printable characters");
		str_lcpy(r->nonce, v, sizeof(r->nonce));
		return 0;
	case F_DATE:
		if ((r->date = str_rfc3339(v)) == -1)
			return err_set(e, ERR_INVALID, "date: want RFC 3339 "
			    "UTC, like 2026-01-31T12:00:00Z");
		return 0;
	}
	return -1;
}

/* One "name: value" line. */
static int
parse_line(char *line, bool seen[F_N], struct removal *r, struct err *e)
{
	char *colon = strchr(line, ':'), *v;
	size_t n;
	int f;

	if (colon == NULL)
		return err_set(e, ERR_INVALID, "not a 'name: value' line");
	*colon = '\0';
	for (v = colon + 1; *v == ' ' || *v == '\t'; v++)
		;
	n = strlen(v);
	while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
		v[--n] = '\0';
	for (f = 0; f < F_N; f++)
		if (!strcmp(line, field_names[f]))
			break;
	if (f == F_N)
		return err_set(e, ERR_INVALID, "unknown field '%.40s'", line);
	if (seen[f])
		return err_set(e, ERR_INVALID, "field '%s' given twice",
		    field_names[f]);
	seen[f] = true;
	return set_field(f, v, r, e);
}

/* Parse the statement. */
int
removal_parse(const char *text, struct removal *r, struct err *e)
{
	bool seen[F_N] = { false };
	char *copy = xstrdup(text), *p = copy, *nl;
	int f, rc = 0;

	memset(r, 0, sizeof(*r));
	while (rc == 0 && p && *p) {
		nl = strchr(p, '\n');
		if (nl)
			*nl = '\0';
		if (nl > p && nl[-1] == '\r')
			nl[-1] = '\0';
		if (*p != '\0')
			rc = parse_line(p, seen, r, e);
		p = nl ? nl + 1 : NULL;
	}
	for (f = 0; rc == 0 && f < F_N; f++)
		if (!seen[f])
			rc = err_set(e, ERR_INVALID, "field '%s' is missing",
			    field_names[f]);
	free(copy);
	if (rc == -1)
		removal_release(r);
	return rc;
}

/* The authority part of url. */
int
removal_authority(const char *url, char *out, size_t sz)
{
	const char *p = strstr(url, "://"), *end;
	size_t n;

	if (p == NULL)
		return -1;
	p += 3;
	end = p + strcspn(p, "/?#");
	n = (size_t)(end - p);
	if (n == 0 || n >= sz)
		return -1;
	memcpy(out, p, n);
	out[n] = '\0';
	return 0;
}

/* Server and time. */
int
removal_check(const struct removal *r, const char *authority, int64_t now,
    struct err *e)
{
	if (strcmp(r->server, authority) != 0)
		return err_set(e, ERR_INVALID, "wrong server: this is %s",
		    authority);
	if (r->date < now - REMOVAL_WINDOW || r->date > now + REMOVAL_WINDOW)
		return err_set(e, ERR_INVALID, "stale date: the request must "
		    "be signed within %d minutes of now", REMOVAL_WINDOW / 60);
	return 0;
}
