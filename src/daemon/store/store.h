/*
 * store: the one interface to persistent state (certs, published
 * addresses, tokens, rate limits, the mail outbox), and the contract
 * every backend keeps.  struct store is opaque; a backend implements the
 * ops of store_int.h (store/sqlite/; PostgreSQL next), and SQL lives only
 * there.  The URL scheme picks the backend: "sqlite:PATH".
 *
 * Transactions.  Lookups (store_lookup, store_upload_view) run on any
 * thread at once, outside any transaction.  Every other call sits
 * between store_begin (a unit of work that may write) or
 * store_begin_read (one consistent snapshot, read only, never waiting
 * for writers) and store_commit / store_rollback, on the same thread.
 * A unit of work is atomic and serialisable against every other writer,
 * in this process or another: a backend may run writers one at a time
 * (SQLite) or at once (PostgreSQL).  When it cannot keep that promise it
 * fails a call or the commit with ERR_RETRY (busy, a serialisation
 * failure, a deadlock); nothing of the unit was kept, and the caller runs
 * the whole unit again (dir_atomic).  So a check and the write that
 * depends on it (a rate mark then a token, addr_owner then addr_set)
 * belong in one unit.  store_commit returns 0 only once the unit is
 * durable.
 *
 * Return convention: 0 done/found, 1 not found (getters only), -1 error
 * with e set.  Enum values (token kinds, statuses) are this header's;
 * a backend binds them, never writes their numbers into its queries.
 */
#ifndef KEYDIR_STORE_H
#define KEYDIR_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sizes.h"
#include "err.h"
#include "wkd.h"

#define STORE_HASH_LEN 32
#define STORE_ETAG_LEN 34	/* "\"" + 32 hex + "\"" */
#define STORE_CLIENT_LEN 63	/* a client key (http.h REQ_CLIENT_MAX - 1) */

struct store;

struct store_subkey {
	char fpr[FPR_LEN + 1];
	char keyid[KEYID_LEN + 1];
};

/* A key's Web Key Directory form for one of its published addresses:
 * the binary key with that address's user IDs only (pgp_wkd_form), found
 * by key "HASH@domain" (wkd.h). */
struct store_wkd {
	char address[EMAIL_MAX + 1];
	char key[WKD_HASH_LEN + EMAIL_MAX + 2];
	uint8_t *data;
	size_t len;
};

/* Everything kept about one key. */
struct store_cert {
	char fpr[FPR_LEN + 1];	/* upper-case hex */
	char keyid[KEYID_LEN + 1];
	int algo;
	unsigned bits;
	int64_t created;
	int64_t expires;
	bool revoked;
	uint8_t *full;		/* private full cert, binary */
	size_t full_len;
	char *published;	/* armored published form */
	size_t published_len;
	char *hkp_index;	/* HKP op=index answer for this key */
	char etag[STORE_ETAG_LEN + 1];
	int64_t updated;	/* when the published form last changed */
	struct store_subkey *subs;	/* indexed for lookup by subkey */
	size_t nsubs;
	/* cert_put: the WKD forms of the published addresses, replacing
	 * those stored; not filled by cert_get */
	struct store_wkd *wkd;
	size_t nwkd;
	int64_t first_stored;	/* cert_get, certs_scan; not cert_put */
	bool had_address;	/* cert_get, certs_scan; not cert_put */
	/* who first stored it (the per-client limits): cert_put records it
	 * for a new key, "" for none; an update keeps it; cert_get returns
	 * it until client_forget */
	char client[STORE_CLIENT_LEN + 1];
	struct store_addr *addrs; /* certs_scan only: published addresses */
	size_t naddrs;
};

/*
 * What a lookup returns: the bytes to serve, nothing else.  A key id or a
 * subkey fingerprint may belong to several keys: next chains the others
 * (at most STORE_LOOKUP_MAX in all, in fingerprint order).
 */
struct store_pub {
	char fpr[FPR_LEN + 1];
	char keyid[KEYID_LEN + 1];
	char *published;
	size_t published_len;
	char *hkp_index;
	char etag[STORE_ETAG_LEN + 1];
	int64_t updated;
	struct store_pub *next;
};

#define STORE_LOOKUP_MAX 8

/*
 * Lookups by fingerprint or key id answer the keys whose primary key has
 * it; only when there is none, the keys with a subkey that has it (only
 * subkeys bound with a back-signature are indexed).  Every key with a
 * claim of the winning kind is answered, never one picked among them.
 */
enum store_by {
	STORE_BY_FPR,	/* 40 upper-case hex: primary or subkey */
	STORE_BY_KEYID,	/* 16 upper-case hex: primary or subkey */
	STORE_BY_EMAIL,	/* normalised address, published only */
	STORE_BY_WKD	/* "HASH@domain" (wkd.h), published only:
			 * published is then the binary WKD form */
};

enum token_kind {
	TOKEN_UPLOAD = 1,	/* old stored upload sessions (before schema 4;
				 * sessions are sealed now, seal.c) */
	TOKEN_VERIFY = 2,	/* confirm ADDRESS for FPR */
	TOKEN_MANAGE = 3,	/* unpublish ADDRESS (removal by mail) */
	TOKEN_REVERIFY = 4,	/* is FPR still the key for ADDRESS? */
	TOKEN_RECOVERY = 5	/* hand FPR's recovery data to ADDRESS */
};

/* A published address as the re-verification schedule sees it. */
struct store_addr {
	char address[EMAIL_MAX + 1];
	char fpr[FPR_LEN + 1];
	int64_t verified;	/* last confirmed (publication or yes) */
	int64_t asked;		/* re-verification mail sent; 0 if not */
	int64_t published;	/* first published for fpr (certs_scan,
				 * addr_restore; 0 elsewhere) */
};

struct store_token {
	uint8_t hash[STORE_HASH_LEN];
	enum token_kind kind;
	char fpr[FPR_LEN + 1];
	char address[EMAIL_MAX + 1];	/* "" for upload tokens */
	int64_t created;
	int64_t expires;
	int64_t used;		/* 0 while unused */
};

struct store_mail {
	int64_t id;
	char rcpt[EMAIL_MAX + 1];
	char *data;		/* the whole RFC 5322 message */
	size_t len;
	int attempts;
};

/*
 * What a repeated upload of the same bytes sees, without parsing them
 * (upload_view, a read on any thread): the key and the status of each
 * address of that upload and of each address published for the key.
 */
enum store_addr_status {
	STORE_UNPUBLISHED, STORE_PENDING, STORE_PUBLISHED, STORE_REVOKED
};

/* One address of an upload, as upload_mark keeps it: live while the key
 * carries it in a user ID that is not revoked. */
struct store_upload_addr {
	const char *address;
	bool live;
};

struct store_upload_view {
	char fpr[FPR_LEN + 1];
	bool revoked;
	struct {
		char address[EMAIL_MAX + 1];
		enum store_addr_status status;
	} *addrs;
	size_t naddrs;
	size_t nupload;		/* the first nupload are the upload's own */
};

/*
 * The operator's view of the store (keydird state), read inside
 * begin_read: row counts, one key with everything stored for it, the
 * outbox without message bodies.  Nothing here carries a token's hash.
 */
struct store_count {
	int64_t total;
	int64_t unused;		/* tokens: used == 0 (expired or not) */
};

struct store_stats {
	int64_t keys;
	int64_t addresses;	/* published */
	int64_t keyids;		/* index entries: primaries and subkeys */
	struct store_count tokens;	/* every kind, old upload tokens too */
	struct store_count verify, manage, reverify, recovery;
	int64_t recovery_data;	/* keys with recovery data */
	int64_t nonces;
	int64_t rate_marks;
	int64_t outbox, outbox_unsent, outbox_sent;
	int64_t outbox_failed;	/* refused for good; not in unsent */
	int64_t unconfirmed, unconfirmed_bytes;	/* unconfirmed_room's */
};

/* A token as the operator sees it: no hash. */
struct store_token_state {
	enum token_kind kind;
	char address[EMAIL_MAX + 1];
	int64_t created;
	int64_t expires;
	int64_t used;		/* 0 while unused */
};

struct store_cert_state {
	char fpr[FPR_LEN + 1];
	bool revoked;
	int64_t first_stored;
	bool had_address;
	int64_t updated;
	char etag[STORE_ETAG_LEN + 1];
	struct store_subkey *keyids;	/* the ids lookups find it under */
	size_t nkeyids;
	struct store_addr *addrs;	/* published: published, verified,
					 * asked; fpr filled */
	size_t naddrs;
	struct store_token_state *tokens;
	size_t ntokens;
};

#define STORE_LEASE_OWNER_MAX 15

struct store_outbox_row {
	int64_t id;
	char rcpt[EMAIL_MAX + 1];
	int attempts;
	int64_t next_attempt;	/* the lease's end while leased */
	char leased_by[STORE_LEASE_OWNER_MAX + 1]; /* "" when not leased */
	int64_t created;
	int64_t sent;		/* 0 while unsent */
	int64_t failed;		/* refused for good at; 0 if not */
	char *last_error;	/* NULL if no attempt failed */
};



/*
 * Open the store named by url ("sqlite:PATH", or a bare path, which means
 * SQLite).  Creates the database (mode 0600) and runs migrations.  Returns
 * a store to free with store_close, or NULL with e set.
 */
struct store *store_open(const char *url, struct err *e);
/*
 * Open the store at url only to look (keydird state): nothing is created
 * or migrated and nothing runs in the background; only store_begin_read,
 * the reads inside it and lookups work (store_begin fails).  ERR_NOTFOUND
 * when there is no database there, ERR_INVALID when its schema is not
 * this keydird's.
 */
struct store *store_open_readonly(const char *url, struct err *e);
/*
 * How a long-running server answers lookups (keydird serve calls it once,
 * after store_open).  read_url (NULL or "": none) names a streaming
 * replica to read lookups from; cache_bytes (0: none) bounds a memory of
 * lookup answers.  Either is kept from serving what a change committed
 * more than a second before has removed or replaced (the PostgreSQL
 * backend's store_pg_listen.c says how).  SQLite has neither (a local
 * file is read as fast): a read_url is ERR_INVALID, cache_bytes ignored.
 */
int store_serve_lookups(struct store *s, const char *read_url,
    size_t cache_bytes, struct err *e);
/* Close and free; NULL is a no-op. */
void store_close(struct store *s);
/* The file inside url that a store kept in files (SQLite) works in,
 * beside which it makes its -wal and -shm files; NULL for any other
 * (a database server) or a URL store_open refuses. */
const char *store_file(const char *url);

/* An ETag as stored and served: the first 128 bits of the SHA-256 h, in
 * lower-case hex between double quotes. */
void store_etag(const uint8_t h[STORE_HASH_LEN],
    char out[STORE_ETAG_LEN + 1]);

/* Free what a cert, a lookup result, mail rows or an address list own. */
void store_cert_release(struct store_cert *c);
void store_pub_release(struct store_pub *p);
void store_mails_free(struct store_mail *rows, size_t n);
void store_addrs_free(char **addrs, size_t n);
void store_addr_rows_free(struct store_addr *rows, size_t n);
void store_upload_view_release(struct store_upload_view *v);
void store_certs_free(struct store_cert *rows, size_t n);
void store_cert_state_release(struct store_cert_state *c);
void store_wkd_free(struct store_wkd *w, size_t n);
void store_outbox_rows_free(struct store_outbox_row *rows, size_t n);

/*
 * Lifecycle calls (writer side, inside begin/commit):
 *   addr_get        one published address with its schedule; 1 if none
 *   addr_confirmed  the owner said yes: verified = now, asked = 0
 *   addr_asked      a re-verification mail went out at now
 *   addr_due        addresses with verified < verified_before and asked 0
 *   addr_stale      addresses with 0 < asked < asked_before (unanswered)
 *   cert_del        delete a key and everything stored with it (addresses,
 *                   key ids, tokens); 1 if none
 *   cert_purge_unconfirmed  delete keys uploaded before `before` that never
 *                   had a published address; *n how many
 *   token_purge     delete tokens whose expiry has passed; *n how many
 *   nonce_use       record a removal nonce until `until`; 1 if it was
 *                   already recorded (a replay)
 *   nonce_purge     forget nonces whose `until` has passed
 *   outbox_purge    delete mail sent or failed before `before` (unsent
 *                   mail stays, however old); *n how many
 *   rate_purge      delete rate marks set before `before`; *n how many
 *   recovery_put    keep data[0..len) as fpr's recovery data (replacing
 *                   any), dated now; len 0 deletes it; 1 if no such key.
 *                   Deleted with the key (cert_del).
 *   recovery_get    fpr's recovery data (caller frees) and its date; 1 if
 *                   there is none
 *   upload_mark     remember the SHA-256 of the bytes of fpr's last upload
 *                   and that upload's n addresses, each live or revoked
 * upload_view (read side, any thread): for bytes uploaded before, the
 * statuses the upload would report; pending means a live confirmation
 * token and a mail sent after rate_since.  1 for unknown bytes.
 * addr_set also sets verified = now and asked = 0.  cert_put records when
 * a key was first stored; addr_set marks its key as having had an address.
 *
 * Export and import (keydird export / import):
 *   begin_read      a read-only transaction: one snapshot of the whole
 *                   database that does not hold other writers up (WAL);
 *                   end it with commit or rollback
 *   certs_scan      up to max certs with fpr > after ("" for the first),
 *                   in fpr order, with fpr, keyid, full, etag, updated,
 *                   first_stored, had_address and addrs (sorted, with
 *                   published, verified, asked) filled; *n < max at the
 *                   end.  Free with store_certs_free.  Inside begin_read
 *                   or begin.
 *   wkd_scan        up to max WKD forms of published bindings with key
 *                   > after ("" for the first), in key order (keydird
 *                   wkd-export); *n < max at the end.  Free with
 *                   store_wkd_free.  Inside begin_read or begin.
 *   addr_restore    publish a->address for a->fpr with a's exact dates,
 *                   taking it from any other key; marks a->fpr as having
 *                   had an address
 *   cert_restore_meta  set first_stored and had_address of fpr exactly;
 *                   1 if there is no such cert
 *
 * Inspection (keydird state; read-only, inside begin_read or begin):
 *   stats           row counts of every kind of state (struct store_stats)
 *   cert_state      the key fpr with what is stored for it: keyids (the
 *                   index entries whose cert it is, primary first, then
 *                   subkeys in the order stored), addrs (published, sorted
 *                   by address), tokens (made for fpr, by created, kind,
 *                   address; never their hashes); 1 if there is no such
 *                   key.  Release with store_cert_state_release.
 *   outbox_list     up to max outbox rows with id > after (0 for the
 *                   first), in id order, without their messages; *n < max
 *                   at the end.  Free with store_outbox_rows_free.
 * Abuse limits (writer side, inside begin/commit).  An *unconfirmed* key
 * never had a published address and is not revoked (the keys
 * cert_purge_unconfirmed may delete, whenever stored); its size is
 * full_len + published_len + strlen(hkp_index) as last put.
 *   client_keys     how many keys that never had a published address
 *                   (revoked ones too) client stored first at or after
 *                   since, and the first_stored of the earliest of them
 *                   (*oldest, 0 when none)
 *   client_forget   forget the client of keys first stored before
 *                   `before` (they count for nobody since); *n how many
 *   unconfirmed_room  delete unconfirmed keys other than keep, oldest
 *                   first_stored first (then lowest in store order), each
 *                   with its tokens as cert_del does, until the
 *                   unconfirmed keys take at most max bytes; *n how many.
 *                   1, deleting nothing, when even deleting every other
 *                   one would not do
 *   outbox_sent_since  how many outbox rows were sent at or after since
 *                   (*n), and the earliest of those times (*oldest, 0
 *                   when none); rows outbox_purge deleted do not count
 * stats adds unconfirmed, unconfirmed_bytes: the unconfirmed keys and
 * their total size.
 *
 * outbox_add queues a message due at once (created = now).  outbox_due
 * returns up to max unsent messages due by now, oldest first, and leases
 * them to owner until lease_until (their next attempt moves there) so two
 * drains (keydird serve and keydird maintain) never send one row twice.
 * It returns a row only if it is the oldest unsettled (neither sent nor
 * failed) row of its recipient, so mail to one address goes out in the
 * order queued: a later one waits while an earlier one waits for a retry
 * or is leased.  outbox_next is the earliest next attempt of such a row.
 * outbox_retry, outbox_done or outbox_fail (refused for good: failed =
 * now, attempts and why kept, the message dropped, never due again; 1 if
 * no unsent row has that id) then settle each row, or outbox_release
 * hands a leased row not attempted back (due again at `at`, attempts
 * and last error kept; 1 if no unsent row has that id); each of them
 * ends the lease.  owner names a kind of drain (1 to
 * STORE_LEASE_OWNER_MAX bytes, ERR_INVALID otherwise).  outbox_reclaim
 * ends every lease of owner on an unsent row, due again at `at` (attempts
 * and last error kept; *n how many): for a drain of which at most one
 * runs, at its start, when whatever that owner leased was leased by a
 * process that died before settling it.
 */

/* The calls.  Each is the backend's; see the contract above. */
int store_lookup(struct store *s, enum store_by by, const char *q,
    struct store_pub *out, struct err *e);
int store_begin(struct store *s, struct err *e);
int store_commit(struct store *s, struct err *e);
void store_rollback(struct store *s);
int store_cert_get(struct store *s, const char *fpr,
    struct store_cert *out, struct err *e);
int store_cert_put(struct store *s, const struct store_cert *c,
    struct err *e);
int store_addr_owner(struct store *s, const char *address,
    char fpr[FPR_LEN + 1], struct err *e);
int store_addr_list(struct store *s, const char *fpr, char ***addrs,
    size_t *n, struct err *e);
int store_addr_set(struct store *s, const char *address, const char *fpr,
    int64_t now, struct err *e);
int store_addr_del(struct store *s, const char *address, struct err *e);
int store_addr_get(struct store *s, const char *address,
    struct store_addr *out, struct err *e);
int store_addr_confirmed(struct store *s, const char *address, int64_t now,
    struct err *e);
int store_addr_asked(struct store *s, const char *address, int64_t now,
    struct err *e);
int store_addr_due(struct store *s, int64_t verified_before, size_t max,
    struct store_addr **rows, size_t *n, struct err *e);
int store_addr_stale(struct store *s, int64_t asked_before, size_t max,
    struct store_addr **rows, size_t *n, struct err *e);
int store_cert_del(struct store *s, const char *fpr, struct err *e);
int store_cert_purge_unconfirmed(struct store *s, int64_t before,
    size_t *n, struct err *e);
int store_token_purge(struct store *s, int64_t now, size_t *n,
    struct err *e);
int store_nonce_use(struct store *s, const char *nonce, int64_t until,
    struct err *e);
int store_nonce_purge(struct store *s, int64_t now, struct err *e);
int store_outbox_purge(struct store *s, int64_t before, size_t *n,
    struct err *e);
int store_rate_purge(struct store *s, int64_t before, size_t *n,
    struct err *e);
int store_token_put(struct store *s, const struct store_token *t,
    struct err *e);
int store_token_get(struct store *s, const uint8_t hash[STORE_HASH_LEN],
    struct store_token *out, struct err *e);
int store_token_use(struct store *s, const uint8_t hash[STORE_HASH_LEN],
    int64_t now, struct err *e);
int store_token_pending(struct store *s, const char *fpr,
    const char *address, int64_t now, bool *pending, struct err *e);
int store_upload_mark(struct store *s, const char *fpr,
    const uint8_t hash[STORE_HASH_LEN],
    const struct store_upload_addr *addrs, size_t n, struct err *e);
int store_upload_view(struct store *s, const uint8_t hash[STORE_HASH_LEN],
    int64_t now, int64_t rate_since, struct store_upload_view *out,
    struct err *e);
int store_rate_get(struct store *s, const char *address, int64_t *last,
    struct err *e);
int store_rate_set(struct store *s, const char *address, int64_t now,
    struct err *e);
int store_outbox_add(struct store *s, const char *rcpt, const char *data,
    size_t len, int64_t now, struct err *e);
int store_outbox_due(struct store *s, int64_t now, int64_t lease_until,
    const char *owner, size_t max, struct store_mail **rows, size_t *n,
    struct err *e);
int store_outbox_reclaim(struct store *s, const char *owner, int64_t at,
    size_t *n, struct err *e);
int store_outbox_fail(struct store *s, int64_t id, int attempts,
    int64_t now, const char *why, struct err *e);
int store_outbox_done(struct store *s, int64_t id, int64_t now,
    struct err *e);
int store_outbox_retry(struct store *s, int64_t id, int attempts,
    int64_t next, const char *why, struct err *e);
int store_recovery_put(struct store *s, const char *fpr,
    const uint8_t *data, size_t len, int64_t now, struct err *e);
int store_recovery_get(struct store *s, const char *fpr, uint8_t **data,
    size_t *len, int64_t *updated, struct err *e);
int store_outbox_release(struct store *s, int64_t id, int64_t at,
    struct err *e);
int store_outbox_next(struct store *s, int64_t *when, struct err *e);
int store_begin_read(struct store *s, struct err *e);
int store_wkd_scan(struct store *s, const char *after, size_t max,
    struct store_wkd **rows, size_t *n, struct err *e);
int store_certs_scan(struct store *s, const char *after, size_t max,
    struct store_cert **rows, size_t *n, struct err *e);
int store_addr_restore(struct store *s, const struct store_addr *a,
    struct err *e);
int store_cert_restore_meta(struct store *s, const char *fpr,
    int64_t first_stored, bool had_address, struct err *e);
int store_stats(struct store *s, struct store_stats *out, struct err *e);
int store_cert_state(struct store *s, const char *fpr,
    struct store_cert_state *out, struct err *e);
int store_outbox_list(struct store *s, int64_t after, size_t max,
    struct store_outbox_row **rows, size_t *n, struct err *e);
int store_client_keys(struct store *s, const char *client, int64_t since,
    int64_t *n, int64_t *oldest, struct err *e);
int store_client_forget(struct store *s, int64_t before, size_t *n,
    struct err *e);
int store_unconfirmed_room(struct store *s, uint64_t max, const char *keep,
    size_t *n, struct err *e);
int store_outbox_sent_since(struct store *s, int64_t since, int64_t *n,
    int64_t *oldest, struct err *e);


#endif
