/*
 * fuzz_daemon: a keydird for the HTTP targets, without a socket: a data
 * directory under a scratch folder, the fixture server key, and for each
 * input a store as a template is that holds one published key
 * (sam@example.org, fuzz/keys/signer.pub), so that lookups find
 * something and uploads merge with something.  Requests run through
 * routes_dispatch, as http.c runs them.
 */
#ifndef KEYDIR_FUZZ_DAEMON_H
#define KEYDIR_FUZZ_DAEMON_H

#include <stddef.h>

#include "http.h"

struct daemon;

/* Make the daemon (once, from LLVMFuzzerInitialize). */
void fuzz_daemon_init(void);
/* The daemon with a store as the template is (one call per input). */
struct daemon *fuzz_daemon_fresh(void);
/* The end of an input. */
void fuzz_daemon_done(void);

/*
 * Run one request; returns its status.  Aborts when the answer breaks a
 * rule every answer keeps: not a 500 (client input is never our fault),
 * a content type, a body that fit, and valid JSON when it says JSON.
 */
int fuzz_request(struct daemon *d, enum http_method m, const char *uri,
    const char *ctype, const char *inm, const void *body, size_t len);

#endif
