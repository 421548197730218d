/*
 * admin: keydird state, republish and rotate-key.  state opens the store
 * as every command does, reads one snapshot (store_begin_read, rolled
 * back at the end: nothing is written) and prints it with xfer_state.  No
 * data-directory lock: serve may run.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "admin.h"
#include "directory.h"
#include "log.h"
#include "store.h"

/* fpr in upper case into out; -1 unless it is 40 hex digits. */
static int
admin_fpr(const char *fpr, char out[FPR_LEN + 1])
{
	size_t i;

	if (strlen(fpr) != FPR_LEN)
		return -1;
	for (i = 0; i < FPR_LEN; i++) {
		if (!isxdigit((unsigned char)fpr[i]))
			return -1;
		out[i] = (char)toupper((unsigned char)fpr[i]);
	}
	out[i] = '\0';
	return 0;
}

/* See admin.h. */
int
admin_state(struct daemon *d, enum xfer_view v, const char *fpr)
{
	char key[FPR_LEN + 1] = "";
	struct stat sb;
	struct err e;
	int rc;

	if (v == XFER_VIEW_KEY && admin_fpr(fpr, key) == -1) {
		log_warnx("state: '%s' is not a fingerprint (40 hex digits)",
		    fpr);
		return 2;
	}
	/* a mistyped --data-dir must not show an empty directory */
	if (stat(d->cfg.data_dir, &sb) == -1) {
		log_warn("state: data directory '%s'", d->cfg.data_dir);
		return 1;
	}
	if ((d->store = store_open_readonly(d->cfg.database, &e)) == NULL) {
		log_warnx("state: %s", e.msg);
		return 1;
	}
	if (store_begin_read(d->store, &e) == -1) {
		log_warnx("state: %s", e.msg);
		store_close(d->store);
		return 1;
	}
	rc = xfer_state(d->store, v, key, stdout, &e);
	store_rollback(d->store);
	store_close(d->store);
	d->store = NULL;
	if (rc == 1) {
		log_warnx("state: no key %s in the directory", key);
		return 1;
	}
	if (rc == 0 && fflush(stdout) == EOF)
		rc = err_set(&e, ERR_INTERNAL, "state: write error");
	if (rc == -1) {
		log_warnx("state: %s", e.msg);
		return 1;
	}
	return 0;
}

/* See admin.h. */
int
admin_republish(struct daemon *d)
{
	struct dir_rebuilt r;
	struct err e;

	if ((d->store = store_open(d->cfg.database, &e)) == NULL)
		log_fatalx("%s", e.msg);
	if (dir_rebuild(d, time(NULL), &r, &e) == -1) {
		log_warnx("republish failed: %s", e.msg);
		store_close(d->store);
		return 1;
	}
	printf("looked at %zu keys: %zu republished, %zu left as they "
	    "were\n", r.seen, r.keys, r.failed);
	store_close(d->store);
	return r.failed > 0 ? 1 : 0;
}

/* See admin.h. */
int
admin_rotate_key(struct daemon *d)
{
	char old[FPR_LEN + 1], new[FPR_LEN + 1];
	struct err e;

	if (dir_server_key_rotate(d, time(NULL), old, new, &e) == -1) {
		log_warnx("rotate-key: %s", e.msg);
		return 1;
	}
	printf("new server key %s; %s is superseded and decrypts for %lld "
	    "more days; restart keydird serve to use the new one\n", new,
	    old, (long long)(d->cfg.server_key_grace / 86400));
	return 0;
}
