/*
 * directory_limits: the abuse limits on what uploads store: keys without
 * a confirmed address per client and day (max_unconfirmed_per_client)
 * and the room all never-confirmed keys take (max_unconfirmed_bytes).
 * The limits on mail are in dir_statuses (per upload) and the mailer
 * (mail_global_rate).  Each call runs inside the upload's unit.
 */
#include <stdint.h>

#include "daemon.h"
#include "directory_int.h"
#include "log.h"
#include "store.h"

/*
 * A new key from client: refused with ERR_RATE when client stored
 * max_unconfirmed_per_client keys that have no confirmed address within
 * the last day; *retry is then the seconds until the oldest of them
 * leaves that day.
 */
int
dir_client_cap(struct daemon *d, const char *client, int64_t now,
    int64_t *retry, struct err *e)
{
	size_t max = d->cfg.max_unconfirmed_per_client;
	int64_t n = 0, oldest = 0;
	char when[64];

	if (max == 0 || client == NULL || *client == '\0')
		return 0;
	if (store_client_keys(d->store, client, now - DIR_CLIENT_DAY + 1, &n,
	    &oldest, e) == -1)
		return -1;
	if ((uint64_t)n < max)
		return 0;
	*retry = oldest + DIR_CLIENT_DAY - now;
	if (*retry < 1)
		*retry = 1;
	dir_when_str(now + *retry, when, sizeof(when));
	log_info("upload from %s refused: %lld new keys without a confirmed "
	    "address within a day (max_unconfirmed_per_client %zu)", client,
	    (long long)n, max);
	return err_set(e, ERR_RATE, "Too many new keys from your address: at "
	    "most %zu keys that have no confirmed address are taken from one "
	    "address in 24 hours.  Try again after %s, or confirm an address "
	    "of the keys you uploaded.", max, when);
}

/* Make room for the key fpr just stored: the oldest never-confirmed keys
 * go while they take more than max_unconfirmed_bytes. */
int
dir_room(struct daemon *d, const char *fpr, struct err *e)
{
	size_t max = d->cfg.max_unconfirmed_bytes, n = 0;
	int rc;

	if (max == 0)
		return 0;
	if ((rc = store_unconfirmed_room(d->store, max, fpr, &n, e)) == -1)
		return -1;
	if (rc == 1)
		return err_set(e, ERR_TOOBIG, "This key is larger than the "
		    "%zu bytes this directory keeps for keys without a "
		    "confirmed address.", max);
	if (n)
		dir_note("%zu never-confirmed key(s) deleted, oldest first, to "
		    "make room for %s (max_unconfirmed_bytes)", n, fpr);
	return 0;
}
