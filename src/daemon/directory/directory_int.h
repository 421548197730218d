/*
 * directory_int: what the files of directory/ share and nothing outside
 * uses.  Every call here runs inside a store transaction unless it says
 * otherwise.
 */
#ifndef KEYDIR_DIRECTORY_INT_H
#define KEYDIR_DIRECTORY_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "directory.h"
#include "err.h"
#include "pgp.h"
#include "store.h"
#include "token.h"

/* The window of max_unconfirmed_per_client, and how long the client of
 * a key is kept. */
#define DIR_CLIENT_DAY 86400

/* directory_limits.c: a new key from client (""/NULL: not counted);
 * ERR_RATE when client is at max_unconfirmed_per_client, *retry the
 * seconds until it is not.  Then room for the key fpr just stored:
 * never-confirmed keys go, oldest first, while they take more than
 * max_unconfirmed_bytes; ERR_TOOBIG when fpr alone does. */
int dir_client_cap(struct daemon *d, const char *client, int64_t now,
    int64_t *retry, struct err *e);
int dir_room(struct daemon *d, const char *fpr, struct err *e);

/* unpublish addresses the key c no longer carries alive. */
int dir_prune(struct daemon *d, const struct pgp_cert *c, struct err *e);

/*
 * One unit of work: store_begin, unit(d, arg, e), store_commit (or
 * store_rollback when unit fails).  When the store answers ERR_RETRY (it
 * could not serialise the unit: busy, a serialisation failure), nothing
 * of it was kept, and the whole unit runs again, a few times with a short
 * backoff.  So a unit must start from its inputs each time: it resets
 * whatever it fills in arg.  Returns what the last run returned.
 */
typedef int (*dir_unit_fn)(struct daemon *d, void *arg, struct err *e);
int dir_atomic(struct daemon *d, dir_unit_fn unit, void *arg,
    struct err *e);
/* An info line about what a unit did: logged once the unit commits,
 * never for a run rolled back (outside a unit, at once). */
void dir_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Recovery mails (directory_mail.c): the link, and the notice after a
 * hand-out. */
int dir_mail_recovery(struct daemon *d, const char *addr, const char *fpr,
    const char *tok, int64_t now, int64_t expires, size_t lang,
    struct err *e);
int dir_mail_recovery_notice(struct daemon *d, const char *addr,
    const char *fpr, int64_t now, size_t lang, struct err *e);

/* Mark the token with hash used: ERR_GONE only when it already was. */
int dir_token_use(struct daemon *d, const uint8_t hash[TOKEN_HASH_LEN],
    int64_t now, struct err *e);
/* check a link token of kind (inside a transaction). */
int dir_token(struct daemon *d, const char *token, enum token_kind kind,
    int64_t now, struct store_token *t, struct err *e);
/* directory_session.c: seal an upload session over the
 * addresses in out (into out->token); open one, checking it allows
 * address (NULL: only that it is valid). */
int dir_session_seal(struct daemon *d, const char *fpr, int64_t now,
    struct dir_upload *out, struct err *e);
int dir_session_open(struct daemon *d, const char *token, int64_t now,
    char fpr[FPR_LEN + 1], const char *address, struct err *e);

/* reload key fpr and recompute its published form. */
int dir_republish_fpr(struct daemon *d, const char *fpr, int64_t now,
    struct err *e);
/* unpublish address from fpr and republish fpr. */
int dir_unpublish(struct daemon *d, const char *address, const char *fpr,
    int64_t now, struct err *e);

/*
 * The published form of c with the published addresses addrs[0..n), no
 * store access (any thread): fills every field of *out that cert_put
 * stores except updated, which the caller sets.  out->full borrows
 * c->full; free the rest with dir_publish_release.  Errors as
 * pgp_publish.
 */
int dir_publish_build(const struct pgp_cert *c, const char *const *addrs,
    size_t n, struct store_cert *out, struct err *e);
/* The same from a published form already made (pgp_parse_publish):
 * takes pub's contents, leaving it empty.  ERR_TOOBIG when pub or the
 * HKP index did not fit (nothing taken). */
int dir_publish_fill(const struct pgp_cert *c, const char *const *addrs,
    size_t n, struct buf *pub, struct store_cert *out, struct err *e);
/* Free what dir_publish_build allocated (not full). */
void dir_publish_release(struct store_cert *sc);

/* recompute and store key fpr's published form
 * from its parsed full cert c (inside a store transaction). */
int dir_republish(struct daemon *d, const struct pgp_cert *c, int64_t now,
    struct err *e);
/* queue a confirmation mail for a->address (inside a transaction)
 * unless one went out within mail_rate (a->status pending, a->retry_at
 * when one may go) or capped (the upload's max_mails_per_upload are
 * out); a->mail says which.  Returns 1 when a mail was queued (a->status
 * pending), 0 when not (also for an address SMTP cannot carry, which
 * stays unpublished), -1 on error. */
struct dir_upload_opts;
int dir_send_confirm(struct daemon *d, const struct pgp_cert *c,
    struct dir_addr *a, int64_t now, const struct dir_upload_opts *o,
    bool capped, struct err *e);
/* t as people read it: "2026-01-31 12:00 UTC". */
void dir_when_str(int64_t t, char *out, size_t sz);

/* directory_mail.c: compose and queue each kind of mail (inside
 * a transaction).  The confirmation names and attaches the address's
 * current key when another key has it. */
struct store_cert;
void dir_log_link(struct daemon *d, const char *what, const char *addr,
    const char *fpr, const char *path, const char *tok);
int dir_mail_confirm(struct daemon *d, const struct pgp_cert *c,
    const char *addr, const char *tok, int64_t now, int64_t expires,
    bool signed_by_key, size_t lang, struct err *e);
int dir_mail_replaced(struct daemon *d, const char *addr,
    const char *new_fpr, const char *old_fpr, int64_t now, size_t lang,
    struct err *e);
int dir_mail_manage(struct daemon *d, const char *addr, const char *fpr,
    const char *tok, int64_t now, int64_t expires, size_t lang,
    struct err *e);
int dir_mail_wks_request(struct daemon *d, const struct pgp_cert *c,
    const char *addr, const char *tok, int64_t now, int64_t expires,
    struct err *e);
int dir_mail_wks_done(struct daemon *d, const char *addr, const char *fpr,
    int64_t now, struct err *e);
int dir_mail_reverify(struct daemon *d, const char *addr,
    const struct store_cert *c, const char *tok, int64_t now,
    int64_t expires, struct err *e);

/* Inside a transaction: reload c when its stored form changed since it
 * was parsed in a read transaction (parse before begin, re-check
 * inside); ERR_GONE when the key is gone. */
int dir_recheck(struct daemon *d, struct pgp_cert *c, struct err *e);
/* load and parse the stored cert fpr (inside a transaction);
 * ERR_GONE when it is not there. */
int dir_load(struct daemon *d, const char *fpr, struct pgp_cert *c,
    struct err *e);
/* true when c carries address in a user ID that is not revoked. */
bool dir_uid_live(const struct pgp_cert *c, const char *address);

/*
 * Merge c into the stored version old and unpublish what the merged key
 * no longer carries alive (the key revoked, a user ID revoked or gone):
 * the one merge of uploads and imports.  merged is the result.
 */
int dir_merge_stored(struct daemon *d, const struct store_cert *old,
    const struct pgp_cert *c, const struct pgp_limits *lim,
    struct pgp_cert *merged, struct err *e);
/* The limits for uploads (stored false) from d's settings. */
struct pgp_limits dir_limits(const struct daemon *d);

/*
 * What an upload asks for besides storing the key: confirmation mails
 * (every address of the upload, or only want[0..nwant), normalised),
 * whether the key itself signed it (said in the mail), and a nonce that
 * makes it count once (a signed submission: ERR_CONFLICT the second
 * time).
 */
/* The secret keys that decrypt a submission at now (the current server
 * key, and replaced ones in their grace period) into secs/lens, which
 * hold 1 + d->nold entries; how many. */
size_t dir_server_keyring(const struct daemon *d, int64_t now,
    const uint8_t **secs, size_t *lens);

struct dir_upload_opts {
	const char *client;	/* who uploads (struct req's); "" none */
	bool request_all;
	const char (*want)[EMAIL_MAX + 1];
	size_t nwant;
	bool signed_by_key;
	size_t lang;		/* of the mails (lang.h) */
	const char *nonce;
	int64_t nonce_until;
	const uint8_t *recovery;	/* replaces the key's recovery data */
	size_t recovery_len;
};
int dir_upload_with(struct daemon *d, int64_t now, const uint8_t *data,
    size_t len, const struct dir_upload_opts *o, struct dir_upload *out,
    struct err *e);

#endif
