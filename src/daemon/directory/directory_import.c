/*
 * directory_import: keydird import's rules (xfer/ reads and writes the
 * format).  A worker prepares each key on its own (parse, strip, publish);
 * the writer stores it in the open transaction: a new key as prepared, a
 * key already there merged as an upload would be (dir_merge_stored) and
 * republished; an address another key held moves, and that key is
 * republished.
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "daemon.h"
#include "directory_int.h"
#include "log.h"
#include "pgp.h"
#include "store.h"
#include "xmalloc.h"


struct dir_import {
	const struct store_addr *addrs;	/* the export's, borrowed */
	size_t naddrs;
	int64_t first_stored;
	bool had_address;
	struct pgp_cert c;	/* parsed and stripped */
	struct store_cert sc;	/* published form for addrs; full
				 * borrowed from c */
	const uint8_t *recovery;	/* borrowed; NULL when none */
	size_t recovery_len;
	int64_t recovery_updated;
};

void
dir_import_recovery(struct dir_import *imp, const uint8_t *data, size_t len,
    int64_t updated)
{
	imp->recovery = data;
	imp->recovery_len = len;
	imp->recovery_updated = updated;
}

/* Keep the imported recovery data unless the directory's is newer. */
static int
import_recovery(struct daemon *d, const struct dir_import *it,
    struct err *e)
{
	uint8_t *have = NULL;
	size_t n = 0;
	int64_t when = 0;
	int rc;

	if (it->recovery == NULL)
		return 0;
	if ((rc = store_recovery_get(d->store, it->c.fpr, &have, &n, &when,
	    e)) == -1)
		return -1;
	free(have);
	if (rc == 0 && when >= it->recovery_updated)
		return 0;
	return store_recovery_put(d->store, it->c.fpr, it->recovery,
	    it->recovery_len, it->recovery_updated, e) == 0 ? 0 : -1;
}

static struct pgp_limits
import_limits(const struct daemon *d)
{
	struct pgp_limits lim = dir_limits(d);

	lim.max_certs = 1;
	lim.stored = true;	/* "full" is a stored form */
	return lim;
}

/* Parse, check and publish one exported key; any thread. */
struct dir_import *
dir_import_prepare(const struct daemon *d, const char *fpr,
    const uint8_t *full, size_t full_len, const struct store_addr *addrs,
    size_t naddrs, int64_t first_stored, bool had_address, int64_t updated,
    struct err *e)
{
	struct pgp_limits lim = import_limits(d);
	struct dir_import *imp = xcalloc(1, sizeof(*imp));
	const char **a = xcalloc(naddrs + 1, sizeof(*a));
	struct buf pub;
	size_t i;
	int rc = -1;

	imp->addrs = addrs;
	imp->naddrs = naddrs;
	imp->first_stored = first_stored;
	imp->had_address = had_address;
	for (i = 0; i < naddrs; i++)
		a[i] = addrs[i].address;
	buf_init(&pub, KEY_MAX);
	if ((rc = pgp_parse_publish(full, full_len, &lim, a, naddrs, &imp->c,
	    &pub, e)) != 0) {
		if (rc == 1)	/* max_certs is 1: cannot happen */
			err_set(e, ERR_INVALID, "more than one key");
		rc = -1;
		goto out;
	}
	rc = -1;
	if (strcmp(imp->c.fpr, fpr) != 0) {
		err_set(e, ERR_INVALID, "\"fpr\" is not the fingerprint of "
		    "the key in \"full\" (%s)", imp->c.fpr);
		goto out;
	}
	/* as an upload would: only live user IDs of a live key */
	for (i = 0; i < naddrs; i++)
		if (imp->c.revoked || !dir_uid_live(&imp->c, a[i])) {
			err_set(e, ERR_INVALID, "%s is not a live user ID of "
			    "this key", a[i]);
			goto out;
		}
	if (dir_publish_fill(&imp->c, a, naddrs, &pub, &imp->sc, e) == -1)
		goto out;
	imp->sc.updated = updated;
	rc = 0;
out:
	buf_release(&pub);
	free(a);
	if (rc == -1) {
		dir_import_free(imp);
		return NULL;
	}
	return imp;
}

void
dir_import_free(struct dir_import *imp)
{
	if (imp == NULL)
		return;
	dir_publish_release(&imp->sc);
	pgp_cert_release(&imp->c);
	free(imp);
}

/*
 * Restore the key's addresses; an address another key held moves, and that
 * key is republished without it.
 */
static int
import_put_addrs(struct daemon *d, const struct dir_import *it,
    const struct pgp_cert *live, int64_t now, struct err *e)
{
	struct store *s = d->store;
	char owner[FPR_LEN + 1];
	int rc;

	for (size_t i = 0; i < it->naddrs; i++) {
		const struct store_addr *a = &it->addrs[i];

		if (live->revoked || !dir_uid_live(live, a->address)) {
			/* revoked since the export was made */
			log_warnx("import: %s not restored: no longer a live "
			    "user ID of %s", a->address, live->fpr);
			continue;
		}
		if ((rc = store_addr_owner(s, a->address, owner, e)) == -1 ||
		    store_addr_restore(s, a, e) == -1)
			return -1;
		if (rc == 0 && strcmp(owner, a->fpr) != 0 &&
		    dir_republish_fpr(d, owner, now, e) == -1)
			return -1;
	}
	return 0;
}

/* Whether the store's addresses for the key are exactly it's. */
static bool
import_addrs_same(char **addrs, size_t n, const struct dir_import *it)
{
	if (n != it->naddrs)
		return false;
	for (size_t i = 0; i < n; i++)
		if (strcmp(addrs[i], it->addrs[i].address) != 0)
			return false;
	return true;
}

/* The earlier of two first_stored times; 0 is unknown, not early. */
static int64_t
import_first(int64_t a, int64_t b)
{
	if (a == 0 || (b != 0 && b < a))
		return b;
	return a;
}

/* Store c's published form for the key's addresses now in the store;
 * updated moves only when the bytes served change. */
static int
import_republish(struct daemon *d, const struct pgp_cert *c,
    const struct dir_import *it, const struct store_cert *old, int64_t now,
    struct err *e)
{
	struct store_cert sc;
	char **addrs = NULL;
	size_t n = 0;
	bool built = false, same;
	int rc = -1;

	if (store_addr_list(d->store, c->fpr, &addrs, &n, e) == -1)
		return -1;
	if (c == &it->c && import_addrs_same(addrs, n, it))
		sc = it->sc;	/* the worker built just this */
	else if (dir_publish_build(c, (const char *const *)addrs, n, &sc,
	    e) == 0)
		built = true;
	else
		goto out;
	same = strcmp(sc.etag, old->etag) == 0;
	sc.updated = same ? old->updated : now;
	if (same && c == &it->c)
		rc = 0;		/* same cert, same bytes: nothing to write */
	else
		rc = store_cert_put(d->store, &sc, e);
	if (rc == 0)
		rc = store_cert_restore_meta(d->store, c->fpr,
		    import_first(old->first_stored, it->first_stored),
		    old->had_address || it->had_address || n > 0, e);
	if (built)
		dir_publish_release(&sc);
out:
	store_addrs_free(addrs, n);
	return rc == -1 ? -1 : 0;
}

/*
 * A key the store already has: merge the two (unless they are the same
 * bytes, as when an export is imported again), keep both sets of
 * addresses and the earlier first_stored, and republish.
 */
static int
import_merge(struct daemon *d, const struct dir_import *it,
    struct store_cert *old, int64_t now, struct err *e)
{
	struct pgp_limits lim = import_limits(d);
	struct pgp_cert m;
	int rc;

	if (old->full_len == it->c.full_len &&
	    memcmp(old->full, it->c.full, old->full_len) == 0) {
		if (import_put_addrs(d, it, &it->c, now, e) == -1)
			return -1;
		return import_republish(d, &it->c, it, old, now, e);
	}
	if (dir_merge_stored(d, old, &it->c, &lim, &m, e) == -1)
		return -1;
	rc = import_put_addrs(d, it, &m, now, e);
	if (rc == 0)
		rc = import_republish(d, &m, it, old, now, e);
	pgp_cert_release(&m);
	return rc;
}

/* Store one imported key inside the open transaction; see directory.h. */
int
dir_import_store(struct daemon *d, const struct dir_import *it, int64_t now,
    bool *merged, struct err *e)
{
	struct store *s = d->store;
	struct store_cert old;
	int rc;

	*merged = false;
	if ((rc = store_cert_get(s, it->c.fpr, &old, e)) == -1)
		return -1;
	if (rc == 0) {
		*merged = true;
		rc = import_merge(d, it, &old, now, e);
		store_cert_release(&old);
		return rc == 0 ? import_recovery(d, it, e) : rc;
	}
	if (store_cert_put(s, &it->sc, e) == -1 ||
	    import_put_addrs(d, it, &it->c, now, e) == -1)
		return -1;
	if (store_cert_restore_meta(s, it->c.fpr, it->first_stored,
	    it->had_address || it->naddrs > 0, e) == -1)
		return -1;
	return import_recovery(d, it, e);
}
