/*
 * store_int: what a backend implements (store/sqlite/, later
 * store/postgres/) and nothing else sees.  A backend is a const struct
 * store_ops (OpenSMTPD's queue_backend); store.c dispatches each store_X
 * call of store.h to ops->X and picks the backend from the URL scheme.
 * Every op follows store.h's contract.
 */
#ifndef KEYDIR_STORE_INT_H
#define KEYDIR_STORE_INT_H

#include "store.h"

struct store_ops {
	const char *name;
	int (*open)(struct store *s, const char *path, bool readonly,
	    struct err *e);
	void (*close)(struct store *s);
	int (*serve_lookups)(struct store *s, const char *read_url,
	    size_t cache_bytes, struct err *e);	/* NULL: neither */
	int (*lookup)(struct store *s, enum store_by by, const char *q,
	    struct store_pub *out, struct err *e);
	int (*begin)(struct store *s, struct err *e);
	int (*commit)(struct store *s, struct err *e);
	void (*rollback)(struct store *s);
	int (*cert_get)(struct store *s, const char *fpr, struct store_cert *out,
	    struct err *e);
	int (*cert_put)(struct store *s, const struct store_cert *c,
	    struct err *e);
	int (*addr_owner)(struct store *s, const char *address,
	    char fpr[FPR_LEN + 1], struct err *e);
	int (*addr_list)(struct store *s, const char *fpr, char ***addrs,
	    size_t *n, struct err *e);
	int (*addr_set)(struct store *s, const char *address, const char *fpr,
	    int64_t now, struct err *e);
	int (*addr_del)(struct store *s, const char *address, struct err *e);
	int (*addr_get)(struct store *s, const char *address,
	    struct store_addr *out, struct err *e);
	int (*addr_confirmed)(struct store *s, const char *address, int64_t now,
	    struct err *e);
	int (*addr_asked)(struct store *s, const char *address, int64_t now,
	    struct err *e);
	int (*addr_due)(struct store *s, int64_t verified_before, size_t max,
	    struct store_addr **rows, size_t *n, struct err *e);
	int (*addr_stale)(struct store *s, int64_t asked_before, size_t max,
	    struct store_addr **rows, size_t *n, struct err *e);
	int (*cert_del)(struct store *s, const char *fpr, struct err *e);
	int (*cert_purge_unconfirmed)(struct store *s, int64_t before, size_t *n,
	    struct err *e);
	int (*token_purge)(struct store *s, int64_t now, size_t *n, struct err *e);
	int (*nonce_use)(struct store *s, const char *nonce, int64_t until,
	    struct err *e);
	int (*nonce_purge)(struct store *s, int64_t now, struct err *e);
	int (*outbox_purge)(struct store *s, int64_t before, size_t *n,
	    struct err *e);
	int (*rate_purge)(struct store *s, int64_t before, size_t *n,
	    struct err *e);
	int (*token_put)(struct store *s, const struct store_token *t,
	    struct err *e);
	int (*token_get)(struct store *s, const uint8_t hash[STORE_HASH_LEN],
	    struct store_token *out, struct err *e);
	int (*token_use)(struct store *s, const uint8_t hash[STORE_HASH_LEN],
	    int64_t now, struct err *e);
	int (*token_pending)(struct store *s, const char *fpr, const char *address,
	    int64_t now, bool *pending, struct err *e);
	int (*upload_mark)(struct store *s, const char *fpr,
	    const uint8_t hash[STORE_HASH_LEN],
	    const struct store_upload_addr *addrs, size_t n, struct err *e);
	int (*upload_view)(struct store *s, const uint8_t hash[STORE_HASH_LEN],
	    int64_t now, int64_t rate_since, struct store_upload_view *out,
	    struct err *e);
	int (*rate_get)(struct store *s, const char *address, int64_t *last,
	    struct err *e);
	int (*rate_set)(struct store *s, const char *address, int64_t now,
	    struct err *e);
	int (*outbox_add)(struct store *s, const char *rcpt, const char *data,
	    size_t len, int64_t now, struct err *e);
	int (*outbox_due)(struct store *s, int64_t now, int64_t lease_until,
	    const char *owner, size_t max, struct store_mail **rows, size_t *n,
	    struct err *e);
	int (*outbox_reclaim)(struct store *s, const char *owner, int64_t at,
	    size_t *n, struct err *e);
	int (*outbox_fail)(struct store *s, int64_t id, int attempts,
	    int64_t now, const char *why, struct err *e);
	int (*outbox_done)(struct store *s, int64_t id, int64_t now,
	    struct err *e);
	int (*outbox_retry)(struct store *s, int64_t id, int attempts,
	    int64_t next, const char *why, struct err *e);
	int (*recovery_put)(struct store *s, const char *fpr,
	    const uint8_t *data, size_t len, int64_t now, struct err *e);
	int (*recovery_get)(struct store *s, const char *fpr, uint8_t **data,
	    size_t *len, int64_t *updated, struct err *e);
	int (*outbox_release)(struct store *s, int64_t id, int64_t at,
	    struct err *e);
	int (*outbox_next)(struct store *s, int64_t *when, struct err *e);
	int (*begin_read)(struct store *s, struct err *e);
	int (*certs_scan)(struct store *s, const char *after, size_t max,
	    struct store_cert **rows, size_t *n, struct err *e);
	int (*wkd_scan)(struct store *s, const char *after, size_t max,
	    struct store_wkd **rows, size_t *n, struct err *e);
	int (*addr_restore)(struct store *s, const struct store_addr *a,
	    struct err *e);
	int (*cert_restore_meta)(struct store *s, const char *fpr,
	    int64_t first_stored, bool had_address, struct err *e);
	int (*stats)(struct store *s, struct store_stats *out, struct err *e);
	int (*cert_state)(struct store *s, const char *fpr,
	    struct store_cert_state *out, struct err *e);
	int (*outbox_list)(struct store *s, int64_t after, size_t max,
	    struct store_outbox_row **rows, size_t *n, struct err *e);
	int (*client_keys)(struct store *s, const char *client, int64_t since,
	    int64_t *n, int64_t *oldest, struct err *e);
	int (*client_forget)(struct store *s, int64_t before, size_t *n,
	    struct err *e);
	int (*unconfirmed_room)(struct store *s, uint64_t max,
	    const char *keep, size_t *n, struct err *e);
	int (*outbox_sent_since)(struct store *s, int64_t since, int64_t *n,
	    int64_t *oldest, struct err *e);
};

struct store {
	const struct store_ops *ops;
	void *impl;		/* the backend's */
};

extern const struct store_ops store_sqlite_ops;
extern const struct store_ops store_pg_ops;

#endif
