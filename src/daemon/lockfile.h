/*
 * lockfile: one keydird serve per data directory.  Two would each run the
 * scheduled work and drain the outbox; the other commands (maintain,
 * export, import, republish) are made to run beside serve and take no
 * lock.
 */
#ifndef KEYDIR_LOCKFILE_H
#define KEYDIR_LOCKFILE_H

#include "err.h"

/* Lock DIR/keydird.lock (exclusive, not waiting) and write our pid in it;
 * the descriptor, to be left open for the life of the process.  -1 with e
 * set: ERR_CONFLICT naming dir and the holder's pid when another process
 * holds the lock, ERR_INTERNAL when the file cannot be opened. */
int lockfile_take(const char *dir, struct err *e);

#endif
