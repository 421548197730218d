/*
 * err: the error a call hands back to its caller, hiredis style.  A code
 * says what kind of failure it was (the daemon's http/ maps it to a
 * status; the client to an exit code) and msg says it in words a user
 * can read.  Callers dispatch on the code, never on the words.
 */
#ifndef KEYDIR_ERR_H
#define KEYDIR_ERR_H

enum err_code {
	ERR_OK = 0,
	ERR_INVALID,	/* bad input: 400 */
	ERR_FORBIDDEN,	/* bad or foreign signature: 403 */
	ERR_NOTFOUND,	/* 404 */
	ERR_CONFLICT,	/* replayed request: 409 */
	ERR_GONE,	/* used or expired token: 410 */
	ERR_TOOBIG,	/* over a configured limit: 413 */
	ERR_UNSUPPORTED, /* wrong content type: 415 */
	ERR_RATE,	/* rate limited: 429 */
	ERR_INTERNAL,	/* our fault: 500 */
	ERR_UNAVAIL,	/* shutting down: 503 */
	ERR_RETRY	/* the store could not serialise this unit of work
			 * (busy, serialisation failure): nothing of it was
			 * kept; run it again (dir_atomic); 503 if it stays */
};

struct err {
	enum err_code code;
	char msg[256];
};

/* Set e (which may be NULL) to code and a printf-style message; returns -1. */
int err_set(struct err *e, enum err_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Reset e to ERR_OK with an empty message. */
void err_clear(struct err *e);

#endif
