/*
 * limit: per-client token buckets (lookups, uploads, mails) in a fixed,
 * sharded table, so the memory they take is bounded however many clients
 * come.  A client is struct req's client key (an IPv4 address or an IPv6
 * /64).  Thread-safe.
 */
#ifndef KEYDIR_LIMIT_H
#define KEYDIR_LIMIT_H

#include <stdint.h>

#include "config.h"

enum limit_kind { LIMIT_LOOKUP, LIMIT_UPLOAD, LIMIT_MAIL, LIMIT_KINDS };

struct limit;

/* Buckets of rates[k] for each kind k; a rate of n 0 is no limit. */
struct limit *limit_new(const struct config_rate rates[LIMIT_KINDS]);
void limit_free(struct limit *l);
/*
 * Take n tokens from each bucket of client whose kind's bit (1 << kind)
 * is in mask, at now_ms (a monotonic clock): 0 when every one had them,
 * or else the seconds until each would (a bucket's whole period when n is
 * more than it holds), and nothing is taken.  A client of "" is never
 * limited.
 */
unsigned limit_take(struct limit *l, const char *client, unsigned mask,
    unsigned n, int64_t now_ms);

#endif
