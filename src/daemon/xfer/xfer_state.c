/*
 * xfer_state: keydird state, the operator's view of what the store holds,
 * as JSON: the row counts, one key with everything stored for it, every
 * key, or the outbox (no message bodies, no token hashes).  Reads in the
 * caller's transaction (begin_read), so one run sees one snapshot.  The
 * format is in README.md ("Inspecting a directory").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "xfer.h"
#include "xmalloc.h"

#define XFER_STATE_SCAN 256	/* keys or outbox rows read at once */

/* Write o as one compact line and free it; -1 with e set on failure. */
static int
xfer_state_put(FILE *out, json_t *o, struct err *e)
{
	int rc;

	if (o == NULL)
		return err_set(e, ERR_INTERNAL, "state: cannot build JSON");
	rc = json_dumpf(o, out, JSON_COMPACT);
	json_decref(o);
	if (rc == -1 || putc('\n', out) == EOF)
		return err_set(e, ERR_INTERNAL, "state: write error");
	return 0;
}

static json_t *
xfer_count(const struct store_count *c)
{
	return json_pack("{s:I,s:I}", "total", (json_int_t)c->total,
	    "unused", (json_int_t)c->unused);
}

/* The counts object. */
static json_t *
xfer_stats_json(const struct store_stats *st)
{
	json_t *tok;

	tok = json_pack("{s:I,s:I,s:o,s:o,s:o,s:o}",
	    "total", (json_int_t)st->tokens.total,
	    "unused", (json_int_t)st->tokens.unused,
	    "verify", xfer_count(&st->verify),
	    "manage", xfer_count(&st->manage),
	    "reverify", xfer_count(&st->reverify),
	    "recovery", xfer_count(&st->recovery));
	if (tok == NULL)
		return NULL;
	return json_pack("{s:I,s:I,s:I,s:I,s:o,s:I,s:I,s:{s:I,s:I,s:I,s:I},"
	    "s:{s:I,s:I}}",
	    "keys", (json_int_t)st->keys,
	    "recovery_data", (json_int_t)st->recovery_data,
	    "addresses", (json_int_t)st->addresses,
	    "keyids", (json_int_t)st->keyids,
	    "tokens", tok,
	    "nonces", (json_int_t)st->nonces,
	    "rate_marks", (json_int_t)st->rate_marks,
	    "outbox", "total", (json_int_t)st->outbox,
	    "unsent", (json_int_t)st->outbox_unsent,
	    "sent", (json_int_t)st->outbox_sent,
	    "failed", (json_int_t)st->outbox_failed,
	    "unconfirmed", "keys", (json_int_t)st->unconfirmed,
	    "bytes", (json_int_t)st->unconfirmed_bytes);
}

static const char *
xfer_kind(enum token_kind k)
{
	switch (k) {
	case TOKEN_UPLOAD:
		return "upload";
	case TOKEN_VERIFY:
		return "verify";
	case TOKEN_MANAGE:
		return "manage";
	case TOKEN_REVERIFY:
		return "reverify";
	case TOKEN_RECOVERY:
		return "recovery";
	}
	return "unknown";
}

static json_t *xfer_error_json(const char *why);

/* A stored string as JSON: as it is when it is UTF-8, else with every
 * byte outside printable ASCII as '?' (jansson takes UTF-8 only). */
static json_t *
xfer_str(const char *s)
{
	json_t *j = json_string(s);

	return j != NULL ? j : xfer_error_json(s);
}

/* Append o to arr; a NULL o (no memory) makes *bad. */
static void
xfer_append(json_t *arr, json_t *o, bool *bad)
{
	if (o == NULL || json_array_append_new(arr, o) == -1)
		*bad = true;
}

/* One key's object; NULL when it cannot be made. */
static json_t *
xfer_cert_json(const struct store_cert_state *c)
{
	json_t *ids, *addrs, *toks, *o;
	bool bad = false;
	size_t i;

	ids = json_array();
	for (i = 0; i < c->nkeyids; i++)
		xfer_append(ids, json_pack("{s:s,s:s}", "fpr",
		    c->keyids[i].fpr, "keyid", c->keyids[i].keyid), &bad);
	addrs = json_array();
	for (i = 0; i < c->naddrs; i++)
		xfer_append(addrs, json_pack("{s:o,s:I,s:I,s:I}",
		    "address", xfer_str(c->addrs[i].address),
		    "published", (json_int_t)c->addrs[i].published,
		    "verified", (json_int_t)c->addrs[i].verified,
		    "asked", (json_int_t)c->addrs[i].asked), &bad);
	toks = json_array();
	for (i = 0; i < c->ntokens; i++)
		xfer_append(toks, json_pack("{s:s,s:o,s:I,s:I,s:I}",
		    "kind", xfer_kind(c->tokens[i].kind),
		    "address", xfer_str(c->tokens[i].address),
		    "created", (json_int_t)c->tokens[i].created,
		    "expires", (json_int_t)c->tokens[i].expires,
		    "used", (json_int_t)c->tokens[i].used), &bad);
	o = json_pack("{s:s,s:b,s:I,s:b,s:I,s:s,s:o,s:o,s:o}",
	    "fpr", c->fpr, "revoked", c->revoked,
	    "first_stored", (json_int_t)c->first_stored,
	    "had_address", c->had_address,
	    "updated", (json_int_t)c->updated, "etag", c->etag,
	    "keyids", ids, "addresses", addrs, "tokens", toks);
	if (bad && o != NULL) {
		json_decref(o);
		o = NULL;
	}
	return o;
}

/* The line of key fpr; 1 if there is none. */
static int
xfer_state_key(struct store *s, const char *fpr, FILE *out, struct err *e)
{
	struct store_cert_state c;
	int rc;

	if ((rc = store_cert_state(s, fpr, &c, e)) != 0)
		return rc;
	rc = xfer_state_put(out, xfer_cert_json(&c), e);
	store_cert_state_release(&c);
	return rc;
}

/* A line for every key, in fingerprint order. */
static int
xfer_state_keys(struct store *s, FILE *out, struct err *e)
{
	struct store_cert *rows;
	char after[FPR_LEN + 1] = "";
	size_t n, i;
	int rc = 0;

	do {
		if (store_certs_scan(s, after, XFER_STATE_SCAN, &rows, &n,
		    e) == -1)
			return -1;
		for (i = 0; i < n && rc == 0; i++)
			/* 1: deleted since the scan, impossible in a snapshot */
			if ((rc = xfer_state_key(s, rows[i].fpr, out, e)) == 1)
				rc = err_set(e, ERR_INTERNAL, "state: key %s "
				    "vanished from the snapshot", rows[i].fpr);
		if (n > 0)
			memcpy(after, rows[n - 1].fpr, sizeof(after));
		store_certs_free(rows, n);
	} while (rc == 0 && n == XFER_STATE_SCAN);
	return rc;
}

/* An error text as a JSON string: it may hold whatever bytes a mail
 * server answered, so only printable ASCII is kept ('?' for the rest). */
static json_t *
xfer_error_json(const char *why)
{
	json_t *j;
	char *t;
	size_t i;

	if (why == NULL)
		return json_null();
	t = xstrdup(why);
	for (i = 0; t[i] != '\0'; i++)
		if (t[i] < 0x20 || t[i] > 0x7e)
			t[i] = '?';
	j = json_string(t);
	free(t);
	return j;
}

/* A line for every outbox row, in id order. */
static int
xfer_state_outbox(struct store *s, FILE *out, struct err *e)
{
	struct store_outbox_row *rows;
	const struct store_outbox_row *r;
	int64_t after = 0;
	size_t n, i;
	json_t *o;
	int rc = 0;

	do {
		if (store_outbox_list(s, after, XFER_STATE_SCAN, &rows, &n,
		    e) == -1)
			return -1;
		for (i = 0; i < n && rc == 0; i++) {
			r = &rows[i];
			o = json_pack("{s:I,s:o,s:i,s:I,s:o,s:I,s:o,s:o,s:o}",
			    "id", (json_int_t)r->id, "rcpt", xfer_str(r->rcpt),
			    "attempts", r->attempts,
			    "next_attempt", (json_int_t)r->next_attempt,
			    "leased_by", r->leased_by[0] != '\0' ?
			    xfer_str(r->leased_by) : json_null(),
			    "created", (json_int_t)r->created,
			    "sent", r->sent != 0 ?
			    json_integer((json_int_t)r->sent) : json_null(),
			    "failed", r->failed != 0 ?
			    json_integer((json_int_t)r->failed) : json_null(),
			    "last_error", xfer_error_json(r->last_error));
			rc = xfer_state_put(out, o, e);
		}
		if (n > 0)
			after = rows[n - 1].id;
		store_outbox_rows_free(rows, n);
	} while (rc == 0 && n == XFER_STATE_SCAN);
	return rc;
}

/* See xfer.h. */
int
xfer_state(struct store *s, enum xfer_view v, const char *fpr, FILE *out,
    struct err *e)
{
	struct store_stats st;

	switch (v) {
	case XFER_VIEW_COUNTS:
		if (store_stats(s, &st, e) == -1)
			return -1;
		return xfer_state_put(out, xfer_stats_json(&st), e);
	case XFER_VIEW_KEY:
		return xfer_state_key(s, fpr, out, e);
	case XFER_VIEW_KEYS:
		return xfer_state_keys(s, out, e);
	case XFER_VIEW_OUTBOX:
		return xfer_state_outbox(s, out, e);
	}
	return err_set(e, ERR_INVALID, "state: unknown view");
}
