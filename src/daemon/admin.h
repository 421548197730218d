/*
 * admin: keydird state, the operator's read-only look at a data
 * directory: its row counts, one key, every key or the outbox, as JSON
 * (xfer_state.c) from one snapshot of the store.  It may run while
 * keydird serve does (it takes no lock and writes nothing).
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

#endif
