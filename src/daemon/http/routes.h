/*
 * routes: the table from method and path to handler (tmux's cmd_entry).
 * A new endpoint is one row plus one handler.
 */
#ifndef KEYDIR_ROUTES_H
#define KEYDIR_ROUTES_H

#include "http.h"

struct daemon;

/* Handler: rest is the path after the route's prefix (still encoded). */
typedef void (*route_fn)(struct daemon *d, struct req *r, struct resp *w,
    const char *rest);

/* Find the handler for r and run it, filling w. */
void routes_dispatch(struct daemon *d, struct req *r, struct resp *w);

#endif
