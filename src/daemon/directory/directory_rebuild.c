/*
 * directory_rebuild: keydird republish.  Every key's published form, key
 * index and published addresses are computed again from its stored full
 * form by the rules of this keydird, for a directory that an older one
 * filled: subkeys bound without a back-signature leave the index, and
 * addresses that no user ID in the strict form carries any more are
 * unpublished.  The librnp work of a batch runs outside any transaction;
 * then one short transaction writes the keys whose answer changed, each
 * only if nobody changed it meanwhile.  Keys that come out the same are
 * not written, so a second run changes nothing.
 */
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "directory_int.h"
#include "log.h"
#include "pgp.h"
#include "store.h"
#include "str.h"
#include "xmalloc.h"

#define REBUILD_BATCH 100

/* One key of a batch: as stored, and as this keydird would store it. */
struct rebuild_key {
	struct store_cert *row;	/* from certs_scan (full, etag, addrs) */
	struct pgp_cert c;	/* parsed; c.full NULL when it did not */
	struct store_cert sc;	/* built for the addresses c still carries */
	size_t nlive;		/* how many of row's addresses those are */
};

/* The published addresses of row that c still carries alive. */
static const char **
live_addrs(const struct store_cert *row, const struct pgp_cert *c,
    size_t *n)
{
	const char **v = xcalloc(row->naddrs + 1, sizeof(*v));
	size_t i;

	*n = 0;
	for (i = 0; i < row->naddrs; i++)
		if (!c->revoked && dir_uid_live(c, row->addrs[i].address))
			v[(*n)++] = row->addrs[i].address;
	return v;
}

/* Parse and build k outside any transaction; a key that no longer parses
 * is logged and counted, and left as it is. */
static void
rebuild_build(struct daemon *d, struct rebuild_key *k,
    struct dir_rebuilt *out)
{
	struct pgp_limits lim = dir_limits(d);
	struct pgp_cert *certs = NULL;
	const char **addrs;
	struct err e;
	size_t n = 0;

	lim.max_certs = 1;
	lim.stored = true;

	if (pgp_parse(k->row->full, k->row->full_len, &lim, &certs, &n,
	    &e) == -1) {
		log_warnx("key %s left as it was: %s", k->row->fpr, e.msg);
		out->failed++;
		return;
	}
	k->c = certs[0];
	free(certs);
	addrs = live_addrs(k->row, &k->c, &k->nlive);
	if (dir_publish_build(&k->c, addrs, k->nlive, &k->sc, &e) == -1) {
		log_warnx("key %s left as it was: %s", k->row->fpr, e.msg);
		out->failed++;
		pgp_cert_release(&k->c);
	}
	free(addrs);
}

/* Whether the index, answer and addresses k would get are the ones
 * stored (cur, read in the transaction). */
static bool
rebuild_same(const struct rebuild_key *k, const struct store_cert *cur)
{
	size_t i;

	if (k->nlive != k->row->naddrs || cur->nsubs != k->sc.nsubs ||
	    strcmp(cur->etag, k->sc.etag) != 0 || cur->hkp_index == NULL ||
	    strcmp(cur->hkp_index, k->sc.hkp_index) != 0 ||
	    cur->full_len != k->sc.full_len ||
	    memcmp(cur->full, k->sc.full, cur->full_len) != 0)
		return false;
	for (i = 0; i < cur->nsubs; i++)
		if (strcmp(cur->subs[i].fpr, k->sc.subs[i].fpr) != 0)
			return false;
	return true;
}

/* Write k if it changed and nobody changed it meanwhile (inside the
 * transaction). */
static int
rebuild_write(struct daemon *d, struct rebuild_key *k, int64_t now,
    struct dir_rebuilt *out, struct err *e)
{
	struct store_cert cur;
	int rc;

	memset(&cur, 0, sizeof(cur));
	if ((rc = store_cert_get(d->store, k->row->fpr, &cur, e)) != 0)
		return rc == 1 ? 0 : -1;	/* deleted meanwhile */
	if (strcmp(cur.etag, k->row->etag) != 0 || rebuild_same(k, &cur)) {
		/* changed meanwhile (and so already republished), or the
		 * same: nothing to write */
		store_cert_release(&cur);
		return 0;
	}
	store_cert_release(&cur);
	k->sc.updated = now;
	if (dir_prune(d, &k->c, e) == -1 ||
	    store_cert_put(d->store, &k->sc, e) == -1)
		return -1;
	out->keys++;
	return 0;
}

/* Free what a batch holds. */
static void
rebuild_free(struct rebuild_key *ks, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (ks[i].c.full != NULL)
			dir_publish_release(&ks[i].sc);
		pgp_cert_release(&ks[i].c);
	}
	free(ks);
}

struct rebuild_unit {
	struct rebuild_key *ks;
	size_t n;
	int64_t now;
	struct dir_rebuilt *out;
	size_t keys;		/* out->keys before the batch */
};

/* Write the keys of a batch that changed (one unit). */
static int
rebuild_unit(struct daemon *d, void *arg, struct err *e)
{
	struct rebuild_unit *u = arg;
	size_t i;

	u->out->keys = u->keys;		/* a run starts over */
	for (i = 0; i < u->n; i++)
		if (u->ks[i].c.full != NULL &&
		    rebuild_write(d, &u->ks[i], u->now, u->out, e) == -1)
			return -1;
	return 0;
}

/* Rebuild one batch of rows. */
static int
rebuild_batch(struct daemon *d, struct store_cert *rows, size_t n,
    int64_t now, struct dir_rebuilt *out, struct err *e)
{
	struct rebuild_key *ks = xcalloc(n ? n : 1, sizeof(*ks));
	size_t i;
	int rc = 0;

	for (i = 0; i < n; i++) {
		ks[i].row = &rows[i];
		rebuild_build(d, &ks[i], out);
	}
	out->seen += n;
	{
		struct rebuild_unit u = { ks, n, now, out, out->keys };

		rc = dir_atomic(d, rebuild_unit, &u, e);
	}
	rebuild_free(ks, n);
	return rc;
}

/* Republish every key; see directory.h. */
int
dir_rebuild(struct daemon *d, int64_t now, struct dir_rebuilt *out,
    struct err *e)
{
	struct store_cert *rows = NULL;
	char after[FPR_LEN + 1] = "";
	size_t n = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	do {
		if (store_begin_read(d->store, e) == -1)
			return -1;
		rc = store_certs_scan(d->store, after, REBUILD_BATCH, &rows, &n,
		    e);
		store_rollback(d->store);
		if (rc == -1)
			return -1;
		if (n > 0)
			str_lcpy(after, rows[n - 1].fpr, sizeof(after));
		rc = rebuild_batch(d, rows, n, now, out, e);
		store_certs_free(rows, n);
		if (rc == -1)
			return -1;
	} while (n == REBUILD_BATCH);
	return 0;
}
