/*
 * store: picks a backend from the URL scheme and frees what the store
 * hands out.  No SQL here; each backend is a const struct store_ops in
 * store_<backend>.c.
 */
#include <stdlib.h>
#include <string.h>

#include "store_int.h"
#include "str.h"
#include "xmalloc.h"

/* Length of url's scheme ("sqlite" in "sqlite:x"), 0 if it is a bare path. */
static size_t
store_scheme_len(const char *url)
{
	size_t i;

	if (!((url[0] >= 'a' && url[0] <= 'z') ||
	    (url[0] >= 'A' && url[0] <= 'Z')))
		return 0;
	for (i = 1; url[i] != '\0' && url[i] != ':'; i++)
		if (strchr("abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+.-", url[i]) == NULL)
			return 0;
	return url[i] == ':' ? i : 0;
}

/* The backend for url and the part of url it gets, or -1 with e set. */
static int
store_backend(const char *url, const struct store_ops **ops,
    const char **rest, struct err *e)
{
	size_t n = store_scheme_len(url);

	*ops = &store_sqlite_ops;
	*rest = url;
	if (n == 0)
		return 0;
	*rest = url + n + 1;
	if (n == 6 && strncmp(url, "sqlite", n) == 0)
		return 0;
	if ((n == 8 && strncmp(url, "postgres", n) == 0) ||
	    (n == 10 && strncmp(url, "postgresql", n) == 0)) {
		*ops = &store_pg_ops;
		return 0;
	}
	return err_set(e, ERR_INVALID, "unknown store scheme \"%.*s\"",
	    (int)n, url);
}

/* Open the store named by url, to write or only to look. */
static struct store *
store_open_as(const char *url, bool readonly, struct err *e)
{
	const struct store_ops *ops;
	const char *rest;
	struct store *s;

	if (url == NULL || *url == '\0') {
		err_set(e, ERR_INVALID, "no store given");
		return NULL;
	}
	if (store_backend(url, &ops, &rest, e) == -1)
		return NULL;
	s = xcalloc(1, sizeof(*s));
	s->ops = ops;
	if (ops->open(s, rest, readonly, e) == -1) {
		free(s);
		return NULL;
	}
	return s;
}

/* Open the store named by url; see store.h. */
struct store *
store_open(const char *url, struct err *e)
{
	return store_open_as(url, false, e);
}

struct store *
store_open_readonly(const char *url, struct err *e)
{
	return store_open_as(url, true, e);
}

/* The database file inside url; see store.h. */
const char *
store_file(const char *url)
{
	const struct store_ops *ops;
	const char *rest;

	if (url == NULL || store_backend(url, &ops, &rest, NULL) == -1 ||
	    ops != &store_sqlite_ops || *rest == '\0')
		return NULL;
	return rest;
}

int
store_serve_lookups(struct store *s, const char *read_url,
    size_t cache_bytes, struct err *e)
{
	if (s->ops->serve_lookups != NULL)
		return s->ops->serve_lookups(s, read_url, cache_bytes, e);
	if (read_url != NULL && *read_url != '\0')
		return err_set(e, ERR_INVALID, "database_read needs a "
		    "PostgreSQL database (database = postgresql://...)");
	return 0;
}

/* Close and free; NULL is a no-op. */
void
store_close(struct store *s)
{
	if (s == NULL)
		return;
	s->ops->close(s);
	free(s);
}

/* Free what a cert owns and clear the pointers. */
void
store_cert_release(struct store_cert *c)
{
	if (c == NULL)
		return;
	free(c->full);
	free(c->published);
	free(c->hkp_index);
	free(c->subs);
	free(c->addrs);
	store_wkd_free(c->wkd, c->nwkd);
	c->wkd = NULL;
	c->nwkd = 0;
	c->addrs = NULL;
	c->naddrs = 0;
	c->full = NULL;
	c->published = NULL;
	c->hkp_index = NULL;
	c->subs = NULL;
	c->full_len = c->published_len = c->nsubs = 0;
}

void
store_wkd_free(struct store_wkd *w, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(w[i].data);
	free(w);
}

/* Free what a lookup result owns and clear the pointers. */
void
store_pub_release(struct store_pub *p)
{
	struct store_pub *n;

	if (p == NULL)
		return;
	free(p->published);
	free(p->hkp_index);
	p->published = NULL;
	p->hkp_index = NULL;
	p->published_len = 0;
	while ((n = p->next) != NULL) {
		p->next = n->next;
		free(n->published);
		free(n->hkp_index);
		free(n);
	}
}

/* A quoted ETag from a SHA-256. */
void
store_etag(const uint8_t h[STORE_HASH_LEN], char out[STORE_ETAG_LEN + 1])
{
	out[0] = '"';
	str_hex(h, 16, out + 1);
	out[33] = '"';
	out[34] = '\0';
}

/* Free n outbox rows and the array. */
void
store_mails_free(struct store_mail *rows, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(rows[i].data);
	free(rows);
}

/* Free n addresses and the array. */
void
store_addrs_free(char **addrs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(addrs[i]);
	free(addrs);
}

/* Free what an upload view owns. */
void
store_upload_view_release(struct store_upload_view *v)
{
	free(v->addrs);
	v->addrs = NULL;
	v->naddrs = 0;
}

/* Free an array of address schedule rows; they own nothing else. */
void
store_addr_rows_free(struct store_addr *rows, size_t n)
{
	(void)n;
	free(rows);
}

/* Release n certs from certs_scan and free the array. */
void
store_certs_free(struct store_cert *rows, size_t n)
{
	if (rows == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		store_cert_release(&rows[i]);
	free(rows);
}

/* Free what a key's state owns and clear the pointers. */
void
store_cert_state_release(struct store_cert_state *c)
{
	if (c == NULL)
		return;
	free(c->keyids);
	free(c->addrs);
	free(c->tokens);
	c->keyids = NULL;
	c->addrs = NULL;
	c->tokens = NULL;
	c->nkeyids = c->naddrs = c->ntokens = 0;
}

/* Free n outbox rows from outbox_list and the array. */
void
store_outbox_rows_free(struct store_outbox_row *rows, size_t n)
{
	if (rows == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		free(rows[i].last_error);
	free(rows);
}

/* Dispatch to the backend. */
int
store_lookup(struct store *s, enum store_by by, const char *q,
    struct store_pub *out, struct err *e)
{
	return s->ops->lookup(s, by, q, out, e);
}

int
store_begin(struct store *s, struct err *e)
{
	return s->ops->begin(s, e);
}

int
store_commit(struct store *s, struct err *e)
{
	return s->ops->commit(s, e);
}

void
store_rollback(struct store *s)
{
	s->ops->rollback(s);
}

int
store_cert_get(struct store *s, const char *fpr, struct store_cert *out,
    struct err *e)
{
	return s->ops->cert_get(s, fpr, out, e);
}

int
store_cert_put(struct store *s, const struct store_cert *c, struct err *e)
{
	return s->ops->cert_put(s, c, e);
}

int
store_addr_owner(struct store *s, const char *address,
    char fpr[FPR_LEN + 1], struct err *e)
{
	return s->ops->addr_owner(s, address, fpr, e);
}

int
store_addr_list(struct store *s, const char *fpr, char ***addrs, size_t *n,
    struct err *e)
{
	return s->ops->addr_list(s, fpr, addrs, n, e);
}

int
store_addr_set(struct store *s, const char *address, const char *fpr,
    int64_t now, struct err *e)
{
	return s->ops->addr_set(s, address, fpr, now, e);
}

int
store_addr_del(struct store *s, const char *address, struct err *e)
{
	return s->ops->addr_del(s, address, e);
}

int
store_addr_get(struct store *s, const char *address,
    struct store_addr *out, struct err *e)
{
	return s->ops->addr_get(s, address, out, e);
}

int
store_addr_confirmed(struct store *s, const char *address, int64_t now,
    struct err *e)
{
	return s->ops->addr_confirmed(s, address, now, e);
}

int
store_addr_asked(struct store *s, const char *address, int64_t now,
    struct err *e)
{
	return s->ops->addr_asked(s, address, now, e);
}

int
store_addr_due(struct store *s, int64_t verified_before, size_t max,
    struct store_addr **rows, size_t *n, struct err *e)
{
	return s->ops->addr_due(s, verified_before, max, rows, n, e);
}

int
store_addr_stale(struct store *s, int64_t asked_before, size_t max,
    struct store_addr **rows, size_t *n, struct err *e)
{
	return s->ops->addr_stale(s, asked_before, max, rows, n, e);
}

int
store_cert_del(struct store *s, const char *fpr, struct err *e)
{
	return s->ops->cert_del(s, fpr, e);
}

int
store_cert_purge_unconfirmed(struct store *s, int64_t before, size_t *n,
    struct err *e)
{
	return s->ops->cert_purge_unconfirmed(s, before, n, e);
}

int
store_token_purge(struct store *s, int64_t now, size_t *n, struct err *e)
{
	return s->ops->token_purge(s, now, n, e);
}

int
store_nonce_use(struct store *s, const char *nonce, int64_t until,
    struct err *e)
{
	return s->ops->nonce_use(s, nonce, until, e);
}

int
store_nonce_purge(struct store *s, int64_t now, struct err *e)
{
	return s->ops->nonce_purge(s, now, e);
}

int
store_outbox_purge(struct store *s, int64_t before, size_t *n, struct err *e)
{
	return s->ops->outbox_purge(s, before, n, e);
}

int
store_rate_purge(struct store *s, int64_t before, size_t *n, struct err *e)
{
	return s->ops->rate_purge(s, before, n, e);
}

int
store_token_put(struct store *s, const struct store_token *t,
    struct err *e)
{
	return s->ops->token_put(s, t, e);
}

int
store_token_get(struct store *s, const uint8_t hash[STORE_HASH_LEN],
    struct store_token *out, struct err *e)
{
	return s->ops->token_get(s, hash, out, e);
}

int
store_token_use(struct store *s, const uint8_t hash[STORE_HASH_LEN],
    int64_t now, struct err *e)
{
	return s->ops->token_use(s, hash, now, e);
}

int
store_token_pending(struct store *s, const char *fpr, const char *address,
    int64_t now, bool *pending, struct err *e)
{
	return s->ops->token_pending(s, fpr, address, now, pending, e);
}

int
store_upload_mark(struct store *s, const char *fpr,
    const uint8_t hash[STORE_HASH_LEN],
    const struct store_upload_addr *addrs, size_t n, struct err *e)
{
	return s->ops->upload_mark(s, fpr, hash, addrs, n, e);
}

int
store_upload_view(struct store *s, const uint8_t hash[STORE_HASH_LEN],
    int64_t now, int64_t rate_since, struct store_upload_view *out,
    struct err *e)
{
	return s->ops->upload_view(s, hash, now, rate_since, out, e);
}

int
store_rate_get(struct store *s, const char *address, int64_t *last,
    struct err *e)
{
	return s->ops->rate_get(s, address, last, e);
}

int
store_rate_set(struct store *s, const char *address, int64_t now,
    struct err *e)
{
	return s->ops->rate_set(s, address, now, e);
}

int
store_outbox_add(struct store *s, const char *rcpt, const char *data,
    size_t len, int64_t now, struct err *e)
{
	return s->ops->outbox_add(s, rcpt, data, len, now, e);
}

/* A lease owner names a kind of drain: a short word. */
static bool
owner_ok(const char *owner)
{
	return owner != NULL && *owner != '\0' &&
	    strlen(owner) <= STORE_LEASE_OWNER_MAX;
}

int
store_outbox_due(struct store *s, int64_t now, int64_t lease_until,
    const char *owner, size_t max, struct store_mail **rows, size_t *n,
    struct err *e)
{
	*rows = NULL;
	*n = 0;
	if (!owner_ok(owner))
		return err_set(e, ERR_INVALID, "outbox: bad lease owner");
	return s->ops->outbox_due(s, now, lease_until, owner, max, rows, n,
	    e);
}

int
store_outbox_fail(struct store *s, int64_t id, int attempts, int64_t now,
    const char *why, struct err *e)
{
	return s->ops->outbox_fail(s, id, attempts, now, why, e);
}

int
store_outbox_reclaim(struct store *s, const char *owner, int64_t at,
    size_t *n, struct err *e)
{
	*n = 0;
	if (!owner_ok(owner))
		return err_set(e, ERR_INVALID, "outbox: bad lease owner");
	return s->ops->outbox_reclaim(s, owner, at, n, e);
}

int
store_outbox_done(struct store *s, int64_t id, int64_t now, struct err *e)
{
	return s->ops->outbox_done(s, id, now, e);
}

int
store_outbox_retry(struct store *s, int64_t id, int attempts, int64_t next,
    const char *why, struct err *e)
{
	return s->ops->outbox_retry(s, id, attempts, next, why, e);
}

int
store_recovery_put(struct store *s, const char *fpr, const uint8_t *data,
    size_t len, int64_t now, struct err *e)
{
	return s->ops->recovery_put(s, fpr, data, len, now, e);
}

int
store_recovery_get(struct store *s, const char *fpr, uint8_t **data,
    size_t *len, int64_t *updated, struct err *e)
{
	return s->ops->recovery_get(s, fpr, data, len, updated, e);
}

int
store_outbox_release(struct store *s, int64_t id, int64_t at, struct err *e)
{
	return s->ops->outbox_release(s, id, at, e);
}

int
store_outbox_next(struct store *s, int64_t *when, struct err *e)
{
	return s->ops->outbox_next(s, when, e);
}

int
store_begin_read(struct store *s, struct err *e)
{
	return s->ops->begin_read(s, e);
}

int
store_certs_scan(struct store *s, const char *after, size_t max,
    struct store_cert **rows, size_t *n, struct err *e)
{
	return s->ops->certs_scan(s, after, max, rows, n, e);
}

int
store_wkd_scan(struct store *s, const char *after, size_t max,
    struct store_wkd **rows, size_t *n, struct err *e)
{
	return s->ops->wkd_scan(s, after, max, rows, n, e);
}

int
store_addr_restore(struct store *s, const struct store_addr *a,
    struct err *e)
{
	return s->ops->addr_restore(s, a, e);
}

int
store_cert_restore_meta(struct store *s, const char *fpr,
    int64_t first_stored, bool had_address, struct err *e)
{
	return s->ops->cert_restore_meta(s, fpr, first_stored, had_address, e);
}

int
store_stats(struct store *s, struct store_stats *out, struct err *e)
{
	return s->ops->stats(s, out, e);
}

int
store_cert_state(struct store *s, const char *fpr,
    struct store_cert_state *out, struct err *e)
{
	return s->ops->cert_state(s, fpr, out, e);
}

int
store_outbox_list(struct store *s, int64_t after, size_t max,
    struct store_outbox_row **rows, size_t *n, struct err *e)
{
	return s->ops->outbox_list(s, after, max, rows, n, e);
}

int
store_client_keys(struct store *s, const char *client, int64_t since,
    int64_t *n, int64_t *oldest, struct err *e)
{
	return s->ops->client_keys(s, client, since, n, oldest, e);
}

int
store_client_forget(struct store *s, int64_t before, size_t *n,
    struct err *e)
{
	return s->ops->client_forget(s, before, n, e);
}

int
store_unconfirmed_room(struct store *s, uint64_t max, const char *keep,
    size_t *n, struct err *e)
{
	return s->ops->unconfirmed_room(s, max, keep, n, e);
}

int
store_outbox_sent_since(struct store *s, int64_t since, int64_t *n,
    int64_t *oldest, struct err *e)
{
	return s->ops->outbox_sent_since(s, since, n, oldest, e);
}
