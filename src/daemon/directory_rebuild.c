/*
 * directory_rebuild: keydird republish.  Every key's published form, key
 * index and published addresses are computed again from its stored full
 * form by the rules of this keydird, for a directory that an older one
 * filled: subkeys bound without a back-signature leave the index, and
 * addresses that no user ID in the strict form carries any more are
 * unpublished.  Batches of keys, one transaction each.
 */
#include <string.h>

#include "daemon.h"
#include "directory.h"
#include "log.h"
#include "pgp.h"
#include "store.h"
#include "str.h"

#define REBUILD_BATCH 100

/*
 * Rebuild key fpr (inside a transaction).  A key this keydird can no
 * longer read is left as it is and counted: it is logged, not fatal.
 */
static int
rebuild_one(struct daemon *d, const char *fpr, int64_t now,
    struct dir_rebuilt *out, struct err *e)
{
	struct pgp_cert c;
	struct err le;
	int rc;

	memset(&c, 0, sizeof(c));
	if (dir_load(d, fpr, &c, &le) == -1) {
		if (le.code != ERR_INVALID && le.code != ERR_TOOBIG &&
		    le.code != ERR_GONE) {
			*e = le;
			return -1;
		}
		log_warnx("key %s left as it was: %s", fpr, le.msg);
		out->failed++;
		return 0;
	}
	rc = dir_prune(d, &c, e);
	if (rc == 0)
		rc = dir_republish(d, &c, now, e);
	if (rc == 0)
		out->keys++;
	pgp_cert_release(&c);
	return rc;
}

/* Republish every key; see directory.h. */
int
dir_rebuild(struct daemon *d, int64_t now, struct dir_rebuilt *out,
    struct err *e)
{
	struct store_cert *rows = NULL;
	char after[STORE_FPR_LEN + 1] = "";
	size_t n = 0, i;
	int rc;

	memset(out, 0, sizeof(*out));
	do {
		if (store_begin(d->store, e) == -1)
			return -1;
		rc = store_certs_scan(d->store, after, REBUILD_BATCH, &rows, &n,
		    e);
		for (i = 0; rc == 0 && i < n; i++)
			rc = rebuild_one(d, rows[i].fpr, now, out, e);
		if (rc == 0 && n > 0)
			str_lcpy(after, rows[n - 1].fpr, sizeof(after));
		store_certs_free(rows, n);
		if (rc == 0)
			rc = store_commit(d->store, e);
		else
			store_rollback(d->store);
		if (rc == -1)
			return -1;
	} while (n == REBUILD_BATCH);
	return 0;
}
