/*
 * xfer: the export side of keydird export/import and the parsing of the
 * format's lines (docs/EXPORT.md).  The import pipeline, its threads and
 * its writer are in xfer_import.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <sodium.h>

#include "daemon.h"
#include "email.h"
#include "log.h"
#include "str.h"
#include "xfer.h"
#include "xmalloc.h"

#define XFER_SCAN 1000		/* certs read per certs_scan */

/* The header line's object, stamped with now. */
static json_t *
xfer_header(time_t now)
{
	struct tm tm;
	char ts[32];

	gmtime_r(&now, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return json_pack("{s:s,s:i,s:s}", "format", XFER_FORMAT, "version",
	    XFER_VERSION, "exported", ts);
}

/* p[0..len) in base64; the caller frees it. */
static char *
xfer_b64(const uint8_t *p, size_t len)
{
	size_t sz = sodium_base64_ENCODED_LEN(len,
	    sodium_base64_VARIANT_ORIGINAL);
	char *b64 = xmalloc(sz);

	sodium_bin2base64(b64, sz, p, len, sodium_base64_VARIANT_ORIGINAL);
	return b64;
}

/* The key line's object for one scanned cert, with its recovery data
 * (rec, NULL when none). */
static json_t *
xfer_key_json(const struct store_cert *c, const uint8_t *rec, size_t rlen,
    int64_t rupdated)
{
	json_t *o, *addrs;
	char *b64;
	size_t i;

	b64 = xfer_b64(c->full, c->full_len);
	addrs = json_array();
	for (i = 0; i < c->naddrs; i++)
		json_array_append_new(addrs, json_pack("{s:s,s:I,s:I,s:I}",
		    "address", c->addrs[i].address,
		    "published", (json_int_t)c->addrs[i].published,
		    "verified", (json_int_t)c->addrs[i].verified,
		    "asked", (json_int_t)c->addrs[i].asked));
	o = json_pack("{s:s,s:I,s:b,s:s,s:o}", "fpr", c->fpr,
	    "first_stored", (json_int_t)c->first_stored,
	    "had_address", c->had_address, "full", b64, "addresses", addrs);
	free(b64);
	if (o != NULL && rec != NULL) {
		b64 = xfer_b64(rec, rlen);
		if (json_object_set_new(o, "recovery", json_pack("{s:s,s:I}",
		    "data", b64, "updated", (json_int_t)rupdated)) == -1) {
			json_decref(o);
			o = NULL;
		}
		free(b64);
	}
	return o;
}

/* Write o as one compact line; -1 on a write error. */
static int
xfer_put(FILE *out, json_t *o)
{
	int rc;

	if (o == NULL)
		return -1;
	rc = json_dumpf(o, out, JSON_COMPACT);
	json_decref(o);
	if (rc == -1 || putc('\n', out) == EOF)
		return -1;
	return 0;
}

/* Write every cert of the open snapshot to out; *n counts them. */
static int
xfer_export_certs(struct store *s, FILE *out, size_t *n, struct err *e)
{
	struct store_cert *rows;
	char after[FPR_LEN + 1] = "";
	uint8_t *rec;
	size_t nrows, i, rlen;
	int64_t rupd;
	int rc;

	*n = 0;
	do {
		if (store_certs_scan(s, after, XFER_SCAN, &rows, &nrows, e) ==
		    -1)
			return -1;
		for (i = 0; i < nrows; i++) {
			rec = NULL;
			rlen = 0;
			rupd = 0;
			if ((rc = store_recovery_get(s, rows[i].fpr, &rec, &rlen,
			    &rupd, e)) == -1) {
				store_certs_free(rows, nrows);
				return -1;
			}
			rc = xfer_put(out, xfer_key_json(&rows[i], rec, rlen,
			    rupd));
			free(rec);
			if (rc == -1)
				break;
		}
		if (nrows > 0)
			str_lcpy(after, rows[nrows - 1].fpr, sizeof(after));
		store_certs_free(rows, nrows);
		if (i < nrows)
			return err_set(e, ERR_INTERNAL, "export: write error");
		*n += nrows;
	} while (nrows == XFER_SCAN);
	return 0;
}

/* Export the whole directory; see xfer.h. */
int
xfer_export(struct daemon *d, FILE *out, struct err *e)
{
	size_t n = 0;
	int rc;

	if (store_begin_read(d->store, e) == -1)
		return -1;
	if (xfer_put(out, xfer_header(time(NULL))) == -1)
		rc = err_set(e, ERR_INTERNAL, "export: write error");
	else
		rc = xfer_export_certs(d->store, out, &n, e);
	store_rollback(d->store);
	if (rc == 0 && fflush(out) == EOF)
		rc = err_set(e, ERR_INTERNAL, "export: write error");
	if (rc == 0)
		log_info("exported %zu keys", n);
	return rc;
}

/* Check the header line: our format, a version we know. */
int
xfer_header_check(const char *line, size_t len, struct err *e)
{
	json_t *o, *f, *v;
	int rc = 0;

	if ((o = json_loadb(line, len, 0, NULL)) == NULL || !json_is_object(o))
		rc = err_set(e, ERR_INVALID, "not a keydir export (the first "
		    "line is not a JSON object)");
	else if ((f = json_object_get(o, "format")) == NULL ||
	    !json_is_string(f) || strcmp(json_string_value(f), XFER_FORMAT))
		rc = err_set(e, ERR_INVALID, "not a keydir export (format "
		    "is not \"%s\")", XFER_FORMAT);
	else if ((v = json_object_get(o, "version")) == NULL ||
	    !json_is_integer(v))
		rc = err_set(e, ERR_INVALID, "the header has no version");
	else if (json_integer_value(v) != XFER_VERSION)
		rc = err_set(e, ERR_INVALID, "export format version %lld is "
		    "not one this keydird reads (%d)",
		    (long long)json_integer_value(v), XFER_VERSION);
	json_decref(o);
	return rc;
}

/* An integer member of o that is >= 0 into *v; -1 if not there. */
static int
xfer_int(json_t *o, const char *name, int64_t *v, struct err *e)
{
	json_t *j = json_object_get(o, name);

	if (!json_is_integer(j) || json_integer_value(j) < 0)
		return err_set(e, ERR_INVALID, "\"%s\" is not a number >= 0",
		    name);
	*v = json_integer_value(j);
	return 0;
}

/* One member of "addresses" into a (a->fpr is the caller's). */
static int
xfer_addr(json_t *o, struct store_addr *a, struct err *e)
{
	json_t *j = json_object_get(o, "address");
	char norm[EMAIL_MAX + 1];

	if (!json_is_object(o) || !json_is_string(j))
		return err_set(e, ERR_INVALID,
		    "an address without \"address\"");
	if (email_normalize(json_string_value(j), norm, sizeof(norm),
	    NULL) == -1 || strcmp(norm, json_string_value(j)) != 0)
		return err_set(e, ERR_INVALID, "address \"%.100s\" is not "
		    "a normalised address", json_string_value(j));
	str_lcpy(a->address, norm, sizeof(a->address));
	if (xfer_int(o, "published", &a->published, e) == -1 ||
	    xfer_int(o, "verified", &a->verified, e) == -1 ||
	    xfer_int(o, "asked", &a->asked, e) == -1)
		return -1;
	return 0;
}

/* "full": standard base64 into k->full. */
static int
xfer_full(json_t *o, struct xfer_key *k, struct err *e)
{
	json_t *j = json_object_get(o, "full");
	const char *s;
	size_t len;

	if (!json_is_string(j) || json_string_length(j) == 0)
		return err_set(e, ERR_INVALID, "\"full\" is not a string");
	s = json_string_value(j);
	len = json_string_length(j);
	k->full = xmalloc(len / 4 * 3 + 3);
	if (sodium_base642bin(k->full, len / 4 * 3 + 3, s, len, NULL,
	    &k->full_len, NULL, sodium_base64_VARIANT_ORIGINAL) != 0)
		return err_set(e, ERR_INVALID, "\"full\" is not base64");
	return 0;
}

/* The key's recovery data, when the line has it. */
static int
xfer_recovery(json_t *r, struct xfer_key *k, struct err *e)
{
	json_t *j;
	const char *s;
	size_t len;

	if (r == NULL)
		return 0;
	if (!json_is_object(r) || !json_is_string(j = json_object_get(r,
	    "data")))
		return err_set(e, ERR_INVALID, "\"recovery\" is not "
		    "{\"data\", \"updated\"}");
	if (xfer_int(r, "updated", &k->recovery_updated, e) == -1)
		return -1;
	s = json_string_value(j);
	len = json_string_length(j);
	if (len / 4 * 3 > 65536 + 3)
		return err_set(e, ERR_INVALID, "\"recovery\" is over 64 KiB");
	k->recovery = xmalloc(len / 4 * 3 + 3);
	if (sodium_base642bin(k->recovery, len / 4 * 3 + 3, s, len, NULL,
	    &k->recovery_len, NULL, sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    k->recovery_len == 0 || k->recovery_len > 65536)
		return err_set(e, ERR_INVALID, "\"recovery\" data is not "
		    "base64 of 1 to 65536 bytes");
	return 0;
}

/* The members of a key object but its addresses into k. */
static int
xfer_key_fields(json_t *o, struct xfer_key *k, struct err *e)
{
	json_t *j = json_object_get(o, "fpr");

	if (!json_is_string(j) || json_string_length(j) != FPR_LEN ||
	    !str_is_hex(json_string_value(j), FPR_LEN))
		return err_set(e, ERR_INVALID, "\"fpr\" is not 40 hex digits");
	str_lcpy(k->fpr, json_string_value(j), sizeof(k->fpr));
	str_upper(k->fpr);
	if (xfer_int(o, "first_stored", &k->first_stored, e) == -1)
		return -1;
	if (!json_is_boolean(j = json_object_get(o, "had_address")))
		return err_set(e, ERR_INVALID, "\"had_address\" is not "
		    "true or false");
	k->had_address = json_is_true(j);
	if (xfer_full(o, k, e) == -1)
		return -1;
	return xfer_recovery(json_object_get(o, "recovery"), k, e);
}

/* Parse one key line; unknown members are ignored. */
int
xfer_key_parse(const char *line, size_t len, struct xfer_key *k,
    struct err *e)
{
	json_error_t je;
	json_t *o, *a;
	size_t i;
	int rc = -1;

	memset(k, 0, sizeof(*k));
	if ((o = json_loadb(line, len, 0, &je)) == NULL)
		return err_set(e, ERR_INVALID, "not JSON: %s", je.text);
	if (!json_is_object(o)) {
		err_set(e, ERR_INVALID, "not a JSON object");
		goto out;
	}
	if (xfer_key_fields(o, k, e) == -1)
		goto out;
	if (!json_is_array(a = json_object_get(o, "addresses"))) {
		err_set(e, ERR_INVALID, "\"addresses\" is not an array");
		goto out;
	}
	k->addrs = xcalloc(json_array_size(a) + 1, sizeof(*k->addrs));
	for (i = 0; i < json_array_size(a); i++, k->naddrs++) {
		str_lcpy(k->addrs[i].fpr, k->fpr, sizeof(k->addrs[i].fpr));
		if (xfer_addr(json_array_get(a, i), &k->addrs[i], e) == -1)
			goto out;
	}
	rc = 0;
out:
	json_decref(o);
	if (rc == -1)
		xfer_key_release(k);
	return rc;
}

/* Free what a parsed key line owns. */
void
xfer_key_release(struct xfer_key *k)
{
	free(k->full);
	free(k->addrs);
	free(k->recovery);
	k->full = NULL;
	k->addrs = NULL;
	k->recovery = NULL;
	k->full_len = k->naddrs = k->recovery_len = 0;
}
