/*
 * scheduler: runs dir_maintain every maintain_every seconds inside
 * keydird serve, on its own thread.
 */
#ifndef KEYDIR_SCHEDULER_H
#define KEYDIR_SCHEDULER_H

#include "err.h"

struct daemon;
struct scheduler;

/* Start the thread; the first pass runs at once.  NULL with e set. */
struct scheduler *scheduler_start(struct daemon *d, struct err *e);
/* Stop (a pass in progress finishes first) and free; NULL is a no-op. */
void scheduler_stop(struct scheduler *s);

#endif
