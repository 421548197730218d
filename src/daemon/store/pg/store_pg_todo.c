/*
 * store_pg_todo: while the PostgreSQL backend is being written, each op
 * not written yet answers ERR_INTERNAL "not yet" (weak symbols: the real
 * op, once in its file, replaces it).  This file goes when the
 * conformance suite passes on PostgreSQL; the scheme is not offered
 * before.
 */
#include "store_pg_int.h"

#define TODO __attribute__((weak))

TODO int
pgs_lookup(struct store *s, enum store_by by, const char *q, struct store_pub *out, struct err *e)
{
	(void)s;
	(void)by;
	(void)q;
	(void)out;
	return err_set(e, ERR_INTERNAL, "store (postgresql): lookup not yet");
}

TODO int
pgs_upload_view(struct store *s, const uint8_t hash[STORE_HASH_LEN], int64_t now, int64_t rate_since, struct store_upload_view *out, struct err *e)
{
	(void)s;
	(void)hash;
	(void)now;
	(void)rate_since;
	(void)out;
	return err_set(e, ERR_INTERNAL, "store (postgresql): upload_view not yet");
}

TODO int
pgs_cert_get(struct store *s, const char *fpr, struct store_cert *out, struct err *e)
{
	(void)s;
	(void)fpr;
	(void)out;
	return err_set(e, ERR_INTERNAL, "store (postgresql): cert_get not yet");
}

TODO int
pgs_cert_put(struct store *s, const struct store_cert *c, struct err *e)
{
	(void)s;
	(void)c;
	return err_set(e, ERR_INTERNAL, "store (postgresql): cert_put not yet");
}

TODO int
pgs_addr_owner(struct store *s, const char *address, char fpr[FPR_LEN + 1], struct err *e)
{
	(void)s;
	(void)address;
	(void)fpr;
	return err_set(e, ERR_INTERNAL, "store (postgresql): addr_owner not yet");
}

TODO int
pgs_addr_list(struct store *s, const char *fpr, char ***addrs, size_t *n, struct err *e)
{
	(void)s;
	(void)fpr;
	(void)addrs;
	(void)n;
	return err_set(e, ERR_INTERNAL, "store (postgresql): addr_list not yet");
}

TODO int
pgs_addr_set(struct store *s, const char *address, const char *fpr, int64_t now, struct err *e)
{
	(void)s;
	(void)address;
	(void)fpr;
	(void)now;
	return err_set(e, ERR_INTERNAL, "store (postgresql): addr_set not yet");
}

TODO int
pgs_addr_del(struct store *s, const char *address, struct err *e)
{
	(void)s;
	(void)address;
	return err_set(e, ERR_INTERNAL, "store (postgresql): addr_del not yet");
}

TODO int
pgs_addr_get(struct store *s, const char *address, struct store_addr *out, struct err *e)
{
	(void)s;
	(void)address;
	(void)out;
	return err_set(e, ERR_INTERNAL, "store (postgresql): addr_get not yet");
}

TODO int
pgs_addr_confirmed(struct store *s, const char *address, int64_t now, struct err *e)
{
	(void)s;
	(void)address;
	(void)now;
	return err_set(e, ERR_INTERNAL, "store (postgresql): addr_confirmed not yet");
}

TODO int
pgs_addr_asked(struct store *s, const char *address, int64_t now, struct err *e)
{
	(void)s;
	(void)address;
	(void)now;
	return err_set(e, ERR_INTERNAL, "store (postgresql): addr_asked not yet");
}

TODO int
pgs_addr_due(struct store *s, int64_t verified_before, size_t max, struct store_addr **rows, size_t *n, struct err *e)
{
	(void)s;
	(void)verified_before;
	(void)max;
	(void)rows;
	(void)n;
	return err_set(e, ERR_INTERNAL, "store (postgresql): addr_due not yet");
}

TODO int
pgs_addr_stale(struct store *s, int64_t asked_before, size_t max, struct store_addr **rows, size_t *n, struct err *e)
{
	(void)s;
	(void)asked_before;
	(void)max;
	(void)rows;
	(void)n;
	return err_set(e, ERR_INTERNAL, "store (postgresql): addr_stale not yet");
}

TODO int
pgs_token_pending(struct store *s, const char *fpr, const char *address, int64_t now, bool *pending, struct err *e)
{
	(void)s;
	(void)fpr;
	(void)address;
	(void)now;
	(void)pending;
	return err_set(e, ERR_INTERNAL, "store (postgresql): token_pending not yet");
}

TODO int
pgs_upload_mark(struct store *s, const char *fpr, const uint8_t hash[STORE_HASH_LEN], const struct store_upload_addr *addrs, size_t n, struct err *e)
{
	(void)s;
	(void)fpr;
	(void)hash;
	(void)addrs;
	(void)n;
	return err_set(e, ERR_INTERNAL, "store (postgresql): upload_mark not yet");
}

TODO int
pgs_nonce_use(struct store *s, const char *nonce, int64_t until, struct err *e)
{
	(void)s;
	(void)nonce;
	(void)until;
	return err_set(e, ERR_INTERNAL, "store (postgresql): nonce_use not yet");
}

TODO int
pgs_token_put(struct store *s, const struct store_token *t, struct err *e)
{
	(void)s;
	(void)t;
	return err_set(e, ERR_INTERNAL, "store (postgresql): token_put not yet");
}

TODO int
pgs_token_get(struct store *s, const uint8_t hash[STORE_HASH_LEN], struct store_token *out, struct err *e)
{
	(void)s;
	(void)hash;
	(void)out;
	return err_set(e, ERR_INTERNAL, "store (postgresql): token_get not yet");
}

TODO int
pgs_token_use(struct store *s, const uint8_t hash[STORE_HASH_LEN], int64_t now, struct err *e)
{
	(void)s;
	(void)hash;
	(void)now;
	return err_set(e, ERR_INTERNAL, "store (postgresql): token_use not yet");
}

TODO int
pgs_rate_get(struct store *s, const char *address, int64_t *last, struct err *e)
{
	(void)s;
	(void)address;
	(void)last;
	return err_set(e, ERR_INTERNAL, "store (postgresql): rate_get not yet");
}

TODO int
pgs_rate_set(struct store *s, const char *address, int64_t now, struct err *e)
{
	(void)s;
	(void)address;
	(void)now;
	return err_set(e, ERR_INTERNAL, "store (postgresql): rate_set not yet");
}

TODO int
pgs_outbox_add(struct store *s, const char *rcpt, const char *data, size_t len, int64_t now, struct err *e)
{
	(void)s;
	(void)rcpt;
	(void)data;
	(void)len;
	(void)now;
	return err_set(e, ERR_INTERNAL, "store (postgresql): outbox_add not yet");
}

TODO int
pgs_outbox_due(struct store *s, int64_t now, int64_t lease_until, const char *owner, size_t max, struct store_mail **rows, size_t *n, struct err *e)
{
	(void)s;
	(void)now;
	(void)lease_until;
	(void)owner;
	(void)max;
	(void)rows;
	(void)n;
	return err_set(e, ERR_INTERNAL, "store (postgresql): outbox_due not yet");
}

TODO int
pgs_outbox_reclaim(struct store *s, const char *owner, int64_t at, size_t *n, struct err *e)
{
	(void)s;
	(void)owner;
	(void)at;
	(void)n;
	return err_set(e, ERR_INTERNAL, "store (postgresql): outbox_reclaim not yet");
}

TODO int
pgs_outbox_fail(struct store *s, int64_t id, int attempts, int64_t now, const char *why, struct err *e)
{
	(void)s;
	(void)id;
	(void)attempts;
	(void)now;
	(void)why;
	return err_set(e, ERR_INTERNAL, "store (postgresql): outbox_fail not yet");
}

TODO int
pgs_outbox_done(struct store *s, int64_t id, int64_t now, struct err *e)
{
	(void)s;
	(void)id;
	(void)now;
	return err_set(e, ERR_INTERNAL, "store (postgresql): outbox_done not yet");
}

TODO int
pgs_outbox_retry(struct store *s, int64_t id, int attempts, int64_t next, const char *why, struct err *e)
{
	(void)s;
	(void)id;
	(void)attempts;
	(void)next;
	(void)why;
	return err_set(e, ERR_INTERNAL, "store (postgresql): outbox_retry not yet");
}

TODO int
pgs_recovery_put(struct store *s, const char *fpr, const uint8_t *data, size_t len, int64_t now, struct err *e)
{
	(void)s;
	(void)fpr;
	(void)data;
	(void)len;
	(void)now;
	return err_set(e, ERR_INTERNAL, "store (postgresql): recovery_put not yet");
}

TODO int
pgs_recovery_get(struct store *s, const char *fpr, uint8_t **data, size_t *len, int64_t *updated, struct err *e)
{
	(void)s;
	(void)fpr;
	(void)data;
	(void)len;
	(void)updated;
	return err_set(e, ERR_INTERNAL, "store (postgresql): recovery_get not yet");
}

TODO int
pgs_outbox_release(struct store *s, int64_t id, int64_t at, struct err *e)
{
	(void)s;
	(void)id;
	(void)at;
	return err_set(e, ERR_INTERNAL, "store (postgresql): outbox_release not yet");
}

TODO int
pgs_outbox_next(struct store *s, int64_t *when, struct err *e)
{
	(void)s;
	(void)when;
	return err_set(e, ERR_INTERNAL, "store (postgresql): outbox_next not yet");
}

TODO int
pgs_outbox_sent_since(struct store *s, int64_t since, int64_t *n, int64_t *oldest, struct err *e)
{
	(void)s;
	(void)since;
	(void)n;
	(void)oldest;
	return err_set(e, ERR_INTERNAL, "store (postgresql): outbox_sent_since not yet");
}

TODO int
pgs_cert_del(struct store *s, const char *fpr, struct err *e)
{
	(void)s;
	(void)fpr;
	return err_set(e, ERR_INTERNAL, "store (postgresql): cert_del not yet");
}

TODO int
pgs_cert_purge_unconfirmed(struct store *s, int64_t before, size_t *n, struct err *e)
{
	(void)s;
	(void)before;
	(void)n;
	return err_set(e, ERR_INTERNAL, "store (postgresql): cert_purge_unconfirmed not yet");
}

TODO int
pgs_token_purge(struct store *s, int64_t now, size_t *n, struct err *e)
{
	(void)s;
	(void)now;
	(void)n;
	return err_set(e, ERR_INTERNAL, "store (postgresql): token_purge not yet");
}

TODO int
pgs_nonce_purge(struct store *s, int64_t now, struct err *e)
{
	(void)s;
	(void)now;
	return err_set(e, ERR_INTERNAL, "store (postgresql): nonce_purge not yet");
}

TODO int
pgs_outbox_purge(struct store *s, int64_t before, size_t *n, struct err *e)
{
	(void)s;
	(void)before;
	(void)n;
	return err_set(e, ERR_INTERNAL, "store (postgresql): outbox_purge not yet");
}

TODO int
pgs_rate_purge(struct store *s, int64_t before, size_t *n, struct err *e)
{
	(void)s;
	(void)before;
	(void)n;
	return err_set(e, ERR_INTERNAL, "store (postgresql): rate_purge not yet");
}

TODO int
pgs_certs_scan(struct store *s, const char *after, size_t max, struct store_cert **rows, size_t *n, struct err *e)
{
	(void)s;
	(void)after;
	(void)max;
	(void)rows;
	(void)n;
	return err_set(e, ERR_INTERNAL, "store (postgresql): certs_scan not yet");
}

TODO int
pgs_wkd_scan(struct store *s, const char *after, size_t max, struct store_wkd **rows, size_t *n, struct err *e)
{
	(void)s;
	(void)after;
	(void)max;
	(void)rows;
	(void)n;
	return err_set(e, ERR_INTERNAL, "store (postgresql): wkd_scan not yet");
}

TODO int
pgs_addr_restore(struct store *s, const struct store_addr *a, struct err *e)
{
	(void)s;
	(void)a;
	return err_set(e, ERR_INTERNAL, "store (postgresql): addr_restore not yet");
}

TODO int
pgs_cert_restore_meta(struct store *s, const char *fpr, int64_t first_stored, bool had_address, struct err *e)
{
	(void)s;
	(void)fpr;
	(void)first_stored;
	(void)had_address;
	return err_set(e, ERR_INTERNAL, "store (postgresql): cert_restore_meta not yet");
}

TODO int
pgs_stats(struct store *s, struct store_stats *out, struct err *e)
{
	(void)s;
	(void)out;
	return err_set(e, ERR_INTERNAL, "store (postgresql): stats not yet");
}

TODO int
pgs_cert_state(struct store *s, const char *fpr, struct store_cert_state *out, struct err *e)
{
	(void)s;
	(void)fpr;
	(void)out;
	return err_set(e, ERR_INTERNAL, "store (postgresql): cert_state not yet");
}

TODO int
pgs_outbox_list(struct store *s, int64_t after, size_t max, struct store_outbox_row **rows, size_t *n, struct err *e)
{
	(void)s;
	(void)after;
	(void)max;
	(void)rows;
	(void)n;
	return err_set(e, ERR_INTERNAL, "store (postgresql): outbox_list not yet");
}

TODO int
pgs_client_keys(struct store *s, const char *client, int64_t since, int64_t *n, int64_t *oldest, struct err *e)
{
	(void)s;
	(void)client;
	(void)since;
	(void)n;
	(void)oldest;
	return err_set(e, ERR_INTERNAL, "store (postgresql): client_keys not yet");
}

TODO int
pgs_client_forget(struct store *s, int64_t before, size_t *n, struct err *e)
{
	(void)s;
	(void)before;
	(void)n;
	return err_set(e, ERR_INTERNAL, "store (postgresql): client_forget not yet");
}

TODO int
pgs_unconfirmed_room(struct store *s, uint64_t max, const char *keep, size_t *n, struct err *e)
{
	(void)s;
	(void)max;
	(void)keep;
	(void)n;
	return err_set(e, ERR_INTERNAL, "store (postgresql): unconfirmed_room not yet");
}
