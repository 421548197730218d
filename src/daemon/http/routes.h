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

/* What a request costs us, for the limits (docs/RELIABILITY.md). */
enum {
	ROUTE_LOOKUP = 1 << 0,	/* answers a lookup: the lookup bucket */
	ROUTE_UPLOAD = 1 << 1,	/* brings key material: the upload bucket */
	ROUTE_MAIL = 1 << 2,	/* may send mail: the mail bucket */
	ROUTE_HEAVY = 1 << 3,	/* verifies signatures: the work pool */
};
/* The ROUTE_ flags of the route r would run (0: none, or no route). */
unsigned routes_cost(const struct req *r);
/* Refuse r with e in the form its clients read: JSON for /vks/ and
 * /api/, an HTML page for the link pages and /, text for HKP; a
 * retry_after of more than 0 seconds is sent as Retry-After and said. */
void routes_refuse(const struct req *r, struct resp *w, const struct err *e,
    unsigned retry_after);

/* Route i's path prefix and method ("GET", "POST"); NULL past the last.
 * For the API page's test: every route is documented. */
const char *routes_nth(size_t i, const char **method);

#endif
