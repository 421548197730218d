/*
 * h_search: GET /search?q=, the keys for an address, a fingerprint or a
 * key ID as a page.  What it shows comes from what lookups serve: the
 * HKP index stored with the key (algorithm, size, dates, the published
 * user IDs) and the ids it is indexed under (its subkeys); librnp is not
 * called, so a search costs what a lookup does.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon.h"
#include "email.h"
#include "handlers.h"
#include "site.h"
#include "store.h"
#include "str.h"
#include "views.h"

enum query { Q_OK, Q_INVALID, Q_SHORTID };

/*
 * What q asks for: an address (a display form "Name <addr>" too), or a
 * fingerprint or long key ID in hex, with or without 0x and spaces (as
 * gpg prints fingerprints).
 */
static enum query
search_query(const char *q, enum store_by *by, char *out, size_t outsz)
{
	char hex[64];
	size_t n = 0;

	if (strchr(q, '@') != NULL) {
		char plus[EMAIL_MAX * 2];
		char *p;

		*by = STORE_BY_EMAIL;
		if (email_normalize(q, out, outsz, NULL) == 0)
			return Q_OK;
		/* a '+' typed into the URL arrives as a space */
		if (strlen(q) >= sizeof(plus))
			return Q_INVALID;
		memcpy(plus, q, strlen(q) + 1);
		for (p = plus; *p != '\0'; p++)
			if (*p == ' ')
				*p = '+';
		return email_normalize(plus, out, outsz, NULL) == 0 ? Q_OK :
		    Q_INVALID;
	}
	if (q[0] == '0' && (q[1] == 'x' || q[1] == 'X'))
		q += 2;
	for (; *q != '\0'; q++) {
		if (*q == ' ')
			continue;
		if (!isxdigit((unsigned char)*q) || n + 1 >= sizeof(hex))
			return Q_INVALID;
		hex[n++] = (char)toupper((unsigned char)*q);
	}
	hex[n] = '\0';
	if (n == 8)
		return Q_SHORTID;
	if ((n != FPR_LEN && n != KEYID_LEN) || n >= outsz)
		return Q_INVALID;
	*by = n == FPR_LEN ? STORE_BY_FPR : STORE_BY_KEYID;
	memcpy(out, hex, n + 1);
	return Q_OK;
}

/* hex in groups of four, as items of list in s. */
static void
groups(struct tmpl_scope *s, const char *list, const char *hex)
{
	size_t i, n = strlen(hex);

	for (i = 0; i < n; i += 4)
		tmpl_setf(tmpl_item(s, list), "g", "%.4s", hex + i);
}

/* A time as a date, UTC ("" for 0). */
static void
set_date(struct tmpl_scope *s, const char *name, const char *secs)
{
	time_t t = (time_t)strtoll(secs, NULL, 10);
	struct tm tm;
	char d[32];

	if (t <= 0 || gmtime_r(&t, &tm) == NULL)
		return;
	strftime(d, sizeof(d), "%Y-%m-%d", &tm);
	tmpl_set(s, name, d);
}

/* The OpenPGP algorithm id with its size, for people. */
static void
set_algo(struct tmpl_scope *s, int algo, const char *bits)
{
	const char *name;

	switch (algo) {
	case 1: case 2: case 3:
		name = "RSA";
		break;
	case 16: case 20:
		name = "ElGamal";
		break;
	case 17:
		name = "DSA";
		break;
	case 18:
		name = "ECDH";
		break;
	case 19:
		name = "ECDSA";
		break;
	case 22:
		name = "EdDSA";
		break;
	case 27:
		name = "Ed25519";
		break;
	case 28:
		name = "Ed448";
		break;
	default:
		name = NULL;
	}
	if (name != NULL)
		tmpl_setf(s, "algo", "%s, %s bits", name, bits);
	else
		tmpl_setf(s, "algo", "algorithm %d, %s bits", algo, bits);
}

/* One user ID of an index line (percent-encoded) into item it. */
static void
set_uid(struct tmpl_scope *it, const char *enc, size_t len)
{
	char *text = str_pct_decode(enc, len), addr[EMAIL_MAX + 1];
	char uni[EMAIL_MAX * 4 + 1];

	if (text == NULL)
		return;
	tmpl_set(it, "text", text);
	if (email_from_uid(text, addr, sizeof(addr)) == 0 &&
	    email_unicode(addr, uni, sizeof(uni)) == 0)
		tmpl_set(it, "unicode", uni);
	free(text);
}

/* A line's fields, split at ':' (at most max; the last keeps the rest). */
struct field {
	const char *p;
	size_t len;
};

static size_t
split(const char *line, size_t len, struct field *f, size_t max)
{
	size_t n = 0;
	const char *c, *end = line + len;

	while (n < max) {
		c = n + 1 < max ? memchr(line, ':', (size_t)(end - line)) :
		    NULL;
		f[n].p = line;
		f[n].len = (size_t)((c != NULL ? c : end) - line);
		n++;
		if (c == NULL)
			break;
		line = c + 1;
	}
	return n;
}

/* "pub:"/"sub:" fields from algo on (algo, bits, created, expires,
 * flags) into k. */
static void
key_fields(struct tmpl_scope *k, const struct field *f)
{
	char v[3][24];
	size_t i;

	for (i = 0; i < 3; i++)	/* bits, created, expires */
		snprintf(v[i], sizeof(v[i]), "%.*s", (int)(f[1 + i].len < 20 ?
		    f[1 + i].len : 20), f[1 + i].p);
	set_algo(k, (int)strtol(f[0].p, NULL, 10), v[0]);
	set_date(k, "created", v[1]);
	set_date(k, "expires", v[2]);
	if (f[4].len > 0 && memchr(f[4].p, 'r', f[4].len))
		tmpl_set(k, "revoked", "1");
}

/* What a subkey may do ("sea"), in words of lang. */
static void
set_usage(struct tmpl_scope *s, const struct field *f, size_t lang)
{
	static const struct {
		char c;
		const char *what;
	} use[] = { { 's', N_("signing") }, { 'e', N_("encryption") },
	    { 'a', N_("authentication") } };
	char out[128];
	size_t i, o = 0;
	int k;

	out[0] = '\0';
	for (i = 0; i < sizeof(use) / sizeof(use[0]); i++)
		if (memchr(f->p, use[i].c, f->len) != NULL && o < sizeof(out) &&
		    (k = snprintf(out + o, sizeof(out) - o, "%s%s",
		    o ? ", " : "", lang_tr(lang, use[i].what))) > 0)
			o += (size_t)k;
	if (out[0] != '\0')
		tmpl_set(s, "usage", out);
}

/*
 * The fields of key k from its stored HKP index: "pub:FPR:algo:bits:
 * created:expires:flags", "uid:TEXT:created::" and the site's
 * "sub:FPR:algo:bits:created:expires:flags:usage" lines.
 */
static void
key_from_index(struct tmpl_scope *k, const char *idx, size_t lang)
{
	struct tmpl_scope *it;
	struct field f[9];
	const char *line, *end;
	char fpr[FPR_LEN + 1];
	size_t n, len;

	tmpl_list(k, "uids");
	tmpl_list(k, "subkeys");
	for (line = idx; *line != '\0'; line = *end ? end + 1 : end) {
		end = line + strcspn(line, "\n");
		len = (size_t)(end - line);
		if (len > 0 && line[len - 1] == '\r')
			len--;
		n = split(line, len, f, 9);
		if (n >= 7 && f[0].len == 3 && !memcmp(f[0].p, "pub", 3))
			key_fields(k, &f[2]);
		else if (n >= 2 && f[0].len == 3 && !memcmp(f[0].p, "uid", 3))
			set_uid(tmpl_item(k, "uids"), f[1].p, f[1].len);
		else if (n >= 8 && f[0].len == 3 && !memcmp(f[0].p, "sub", 3) &&
		    f[1].len == FPR_LEN) {
			it = tmpl_item(k, "subkeys");
			memcpy(fpr, f[1].p, FPR_LEN);
			fpr[FPR_LEN] = '\0';
			groups(it, "sgroups", fpr);
			key_fields(it, &f[2]);
			set_usage(it, &f[7], lang);
		}
	}
}

/* GET /search?q= */
void
h_search(struct daemon *d, struct req *r, struct resp *w, const char *rest)
{
	struct tmpl_scope *s = tmpl_new(), *k;
	char *q = req_form_arg(r, "q"), key[EMAIL_MAX + 1];
	const struct store_pub *it;
	struct store_pub p;
	enum store_by by;
	struct err e;
	int rc = 1, status = 200;

	(void)rest;
	site_keyserver(d->cfg.base_url, s);
	memset(&p, 0, sizeof(p));
	if (q == NULL || q[0] == '\0') {
		site_page(w, r, 200, N_("Search"), "search.html", s);
		goto out;
	}
	tmpl_set(s, "q", q);
	switch (search_query(q, &by, key, sizeof(key))) {
	case Q_INVALID:
		tmpl_set(s, "invalid", "1");
		status = 400;
		break;
	case Q_SHORTID:
		tmpl_set(s, "shortid", "1");
		status = 400;
		break;
	case Q_OK:
		rc = store_lookup(d->store, by, key, &p, &e);
		if (rc == -1) {
			site_error(w, r, http_status(e.code),
			    N_("Not now"), e.msg);
			goto out;
		}
		if (rc == 1) {
			/* what was looked up, not what was typed: a display
			 * form's name would put anyone's words on the page */
			tmpl_set(s, "notfound", key);
			status = 404;
		}
		for (it = rc == 0 ? &p : NULL; it != NULL; it = it->next) {
			k = tmpl_item(s, "keys");
			tmpl_set(k, "fpr", it->fpr);
			tmpl_set(k, "keyid", it->keyid);
			groups(k, "groups", it->fpr);
			key_from_index(k, it->hkp_index != NULL ?
			    it->hkp_index : "", site_lang(r));
		}
	}
	site_page(w, r, status, N_("Search"), "search.html", s);
out:
	store_pub_release(&p);
	tmpl_free(s);
	free(q);
}
