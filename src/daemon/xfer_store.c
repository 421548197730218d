/*
 * xfer_store: the writer's side of keydird import: one parsed key into
 * the open store transaction.  A new key is stored as the worker built
 * it; a key already there is merged and republished; an address another
 * key held moves, and that key is republished.
 */
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "directory.h"
#include "log.h"
#include "pgp.h"
#include "store.h"
#include "xfer.h"

/*
 * Restore the key's addresses; an address another key held moves, and that
 * key is republished without it.
 */
static int
xfer_put_addrs(const struct xfer_ctx *x, const struct xfer_item *it,
    const struct pgp_cert *live, struct err *e)
{
	struct store *s = x->d->store;
	char owner[STORE_FPR_LEN + 1];
	int rc;

	for (size_t i = 0; i < it->k.naddrs; i++) {
		const struct store_addr *a = &it->k.addrs[i];

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
		    dir_republish_fpr(x->d, owner, x->now, e) == -1)
			return -1;
	}
	return 0;
}

/* Whether the store's addresses for the key are exactly it's. */
static bool
xfer_addrs_same(char **addrs, size_t n, const struct xfer_item *it)
{
	if (n != it->k.naddrs)
		return false;
	for (size_t i = 0; i < n; i++)
		if (strcmp(addrs[i], it->k.addrs[i].address) != 0)
			return false;
	return true;
}

/* The earlier of two first_stored times; 0 is unknown, not early. */
static int64_t
xfer_first(int64_t a, int64_t b)
{
	if (a == 0 || (b != 0 && b < a))
		return b;
	return a;
}

/* Store c's published form for the key's addresses now in the store;
 * updated moves only when the bytes served change. */
static int
xfer_republish(const struct xfer_ctx *x, const struct pgp_cert *c,
    const struct xfer_item *it, const struct store_cert *old, struct err *e)
{
	struct store_cert sc;
	char **addrs = NULL;
	size_t n = 0;
	bool built = false, same;
	int rc = -1;

	if (store_addr_list(x->d->store, c->fpr, &addrs, &n, e) == -1)
		return -1;
	if (c == &it->c && xfer_addrs_same(addrs, n, it))
		sc = it->sc;	/* the worker built just this */
	else if (dir_publish_build(c, (const char *const *)addrs, n, &sc,
	    e) == 0)
		built = true;
	else
		goto out;
	same = strcmp(sc.etag, old->etag) == 0;
	sc.updated = same ? old->updated : x->now;
	if (same && c == &it->c)
		rc = 0;		/* same cert, same bytes: nothing to write */
	else
		rc = store_cert_put(x->d->store, &sc, e);
	if (rc == 0)
		rc = store_cert_restore_meta(x->d->store, c->fpr,
		    xfer_first(old->first_stored, it->k.first_stored),
		    old->had_address || it->k.had_address || n > 0, e);
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
xfer_merge(const struct xfer_ctx *x, const struct xfer_item *it,
    struct store_cert *old, struct err *e)
{
	struct pgp_cert m;
	int rc;

	if (old->full_len == it->c.full_len &&
	    memcmp(old->full, it->c.full, old->full_len) == 0) {
		if (xfer_put_addrs(x, it, &it->c, e) == -1)
			return -1;
		return xfer_republish(x, &it->c, it, old, e);
	}
	if (pgp_merge(old->full, old->full_len, it->c.full, it->c.full_len,
	    &x->lim, &m, e) == -1)
		return -1;
	/* as an upload does: a merge that revokes the key or a user ID
	 * unpublishes what it no longer carries alive */
	rc = dir_prune(x->d, &m, e);
	if (rc == 0)
		rc = xfer_put_addrs(x, it, &m, e);
	if (rc == 0)
		rc = xfer_republish(x, &m, it, old, e);
	pgp_cert_release(&m);
	return rc;
}

/* Store one imported key inside the open transaction; see xfer.h. */
int
xfer_store(const struct xfer_ctx *x, const struct xfer_item *it,
    bool *merged, struct err *e)
{
	struct store *s = x->d->store;
	struct store_cert old;
	int rc;

	*merged = false;
	if ((rc = store_cert_get(s, it->c.fpr, &old, e)) == -1)
		return -1;
	if (rc == 0) {
		*merged = true;
		rc = xfer_merge(x, it, &old, e);
		store_cert_release(&old);
		return rc;
	}
	if (store_cert_put(s, &it->sc, e) == -1 ||
	    xfer_put_addrs(x, it, &it->c, e) == -1)
		return -1;
	return store_cert_restore_meta(s, it->c.fpr, it->k.first_stored,
	    it->k.had_address || it->k.naddrs > 0, e) == -1 ? -1 : 0;
}
