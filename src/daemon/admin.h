/*
 * admin: keydird state, the operator's read-only look at a data
 * directory: its row counts, one key, every key or the outbox, as JSON
 * (xfer_state.c) from one snapshot of the store.  It may run while
 * keydird serve does (it takes no lock and writes nothing).  Also the
 * two one-shot commands republish and rotate-key.
 */
#ifndef KEYDIR_ADMIN_H
#define KEYDIR_ADMIN_H

#include "daemon.h"
#include "xfer.h"

/*
 * Print view v of d's store on stdout; fpr (40 hex digits, any case) for
 * XFER_VIEW_KEY.  Returns the exit status: 0, 1 for an unknown key or an
 * error (one line on stderr), 2 for a malformed fpr.
 */
int admin_state(struct daemon *d, enum xfer_view v, const char *fpr);

/* keydird republish: every key's published form again, by this keydird's
 * rules.  The exit status: 0, 1 when a key failed or on an error. */
int admin_republish(struct daemon *d);

/* keydird wkd-export DIR: a static Web Key Directory of the wkd_domains
 * into DIR (wkd_export.c).  The exit status: 0, 1 on an error, 2 without
 * DIR. */
int admin_wkd_export(struct daemon *d, const char *dir);

/* keydird rotate-key: a new server key; the old one decrypts on for
 * server_key_grace.  The exit status: 0, or 1 on an error. */
int admin_rotate_key(struct daemon *d);

#endif
