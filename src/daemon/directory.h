/*
 * directory: the rules of the directory, independent of HTTP.  Who may
 * publish what, the state of each address, and which mails go out.  It
 * reads and writes only through the store and asks pgp to parse, merge
 * and strip.  A state change and the mail it causes commit together.
 */
#ifndef KEYDIR_DIRECTORY_H
#define KEYDIR_DIRECTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "email.h"
#include "err.h"
#include "store.h"
#include "token.h"

struct daemon;
struct pgp_cert;

enum addr_status {
	ADDR_UNPUBLISHED,
	ADDR_PENDING,	/* a confirmation mail is out (or rate limited) */
	ADDR_PUBLISHED,
	ADDR_REVOKED
};

struct dir_addr {
	char address[EMAIL_MAX + 1];
	enum addr_status status;
};

/* The outcome of an upload or a verification request. */
struct dir_upload {
	char fpr[41];
	char *token;		/* VKS upload session (sealed) */
	bool revoked;			/* the key is revoked */
	struct dir_addr *addrs;
	size_t naddrs;
	size_t nmails;			/* confirmation mails queued */
	char (*fprs)[41];		/* several certs uploaded at once */
	size_t nfprs;
};

/* A confirmation link, as shown on its page. */
struct dir_verify {
	char fpr[41];
	char address[EMAIL_MAX + 1];
	char prev_fpr[41];	/* the address's current key, "" if none */
	char **others;		/* addresses of this key that confirming
				 * unpublishes (one_address_per_key) */
	size_t nothers;
	int64_t expires;
	char effects[33];	/* digest of prev_fpr and others: the page
				 * carries it, confirming checks it */
	bool changed;		/* confirm: effects differed, nothing done */
};

/* A removal or re-verification link, as shown on its page. */
struct dir_link {
	char fpr[41];
	char address[EMAIL_MAX + 1];
	int64_t expires;
};

/* What a signed removal did. */
struct dir_removed {
	char fpr[41];
	bool all;		/* the whole key was deleted */
	bool tombstone;		/* all, but the key is revoked: its primary
				 * key and revocation stay */
	size_t naddrs;		/* else: this many addresses unpublished */
};

/* What one maintenance pass did. */
struct dir_maint {
	size_t asked;		/* re-verification mails queued */
	size_t expired;		/* addresses unpublished, no answer */
	size_t tokens;		/* expired tokens deleted */
	size_t certs;		/* never-confirmed keys deleted */
};

/* "unpublished", "pending", "published", "revoked". */
const char *addr_status_str(enum addr_status s);

/*
 * Take an uploaded key (armored or binary).  Stores or merges it, keeps
 * published addresses the key still carries, and opens an upload session
 * (out->token).  With request_all, a confirmation mail goes to every
 * address on the key that is not yet published (HKP /pks/add).  Several
 * certs in one upload are stored and listed in out->fprs, with no session.
 */
int dir_upload(struct daemon *d, const uint8_t *data, size_t len,
    bool request_all, struct dir_upload *out, struct err *e);

/*
 * Send confirmation mails for addresses of the key behind an upload
 * session token (VKS request-verify).  ERR_INVALID "Upload session
 * expired. Please try again." for an unknown or expired token.
 */
int dir_request_verify(struct daemon *d, const char *token,
    const char *const *addresses, size_t n, struct dir_upload *out,
    struct err *e);

/* Release what out owns. */
void dir_upload_release(struct dir_upload *out);

/*
 * Look at a confirmation link without changing anything (GET).  Errors:
 * ERR_NOTFOUND for an unknown token, ERR_GONE for a used or expired one.
 */
int dir_verify_show(struct daemon *d, const char *token,
    struct dir_verify *out, struct err *e);
/*
 * Confirm: publish the address for the key (POST).  Same errors.  With
 * effects (the digest the page showed; NULL when the client saw no page)
 * nothing is done when what confirming would change differs from it:
 * out->changed is set and out describes the state now, for a fresh page.
 */
int dir_verify_confirm(struct daemon *d, const char *token,
    const char *effects, struct dir_verify *out, struct err *e);
/* Discard the request ("this was not me").  Same errors. */
int dir_verify_reject(struct daemon *d, const char *token,
    struct dir_verify *out, struct err *e);
void dir_verify_release(struct dir_verify *v);

/*
 * Removal by mail: mail a removal link to address if it is published
 * (rate limited like confirmations).  Returns 0 whether or not a mail
 * went out, so the answer tells nobody which addresses are published.
 */
int dir_manage_request(struct daemon *d, const char *address,
    struct err *e);

/* GET on a removal (TOKEN_MANAGE) or re-verification (TOKEN_REVERIFY)
 * link: ERR_NOTFOUND, ERR_GONE as for confirmation links. */
int dir_link_show(struct daemon *d, enum token_kind kind, const char *token,
    struct dir_link *out, struct err *e);
/* POST on such a link: removal unpublishes; re-verification keeps the
 * address (yes) or unpublishes it (no). */
int dir_link_act(struct daemon *d, enum token_kind kind, const char *token,
    bool yes, struct dir_link *out, struct err *e);

/*
 * A removal request signed with the key (POST /api/v1/remove): msg is the
 * armored clearsigned or inline-signed statement (removal.h).  Errors:
 * ERR_INVALID for a malformed statement, wrong server, stale date or a
 * signature not made within REMOVAL_WINDOW of the statement's date,
 * ERR_NOTFOUND for an unknown key, ERR_FORBIDDEN for a bad signature, one
 * by another key or by a revoked subkey, ERR_CONFLICT for a nonce already
 * used or a key that is already a tombstone.  A revoked key removed
 * whole keeps its tombstone (pgp_tombstone).  Nothing changes on error.
 */
int dir_remove_signed(struct daemon *d, const uint8_t *msg, size_t len,
    struct dir_removed *out, struct err *e);

/*
 * One pass of scheduled work as if at time now: unpublish addresses whose
 * re-verification went unanswered past reverify_grace, ask the addresses
 * due (reverify_interval after their last confirmation), delete expired
 * tokens and nonces, and keys that never had a confirmed address after
 * unconfirmed_ttl.  Mail goes to the outbox.
 */
int dir_maintain(struct daemon *d, int64_t now, struct dir_maint *out,
    struct err *e);

/* What keydird republish did. */
struct dir_rebuilt {
	size_t seen;		/* keys looked at */
	size_t keys;		/* keys whose index, answer or addresses
				 * changed, written again */
	size_t failed;		/* keys this keydird cannot read, left as
				 * they were (each logged) */
};

/*
 * Compute every key's published form, key index and published addresses
 * again from its stored full form (after an upgrade whose rules changed
 * what is published): addresses no live user ID in the strict form
 * carries are unpublished, subkeys without a back-signature leave the
 * index.  Keys that no longer parse are counted in out->failed and left
 * alone.  Errors only from the store.
 */
int dir_rebuild(struct daemon *d, int64_t now, struct dir_rebuilt *out,
    struct err *e);

/* Internal: unpublish addresses the key c no longer carries alive. */
int dir_prune(struct daemon *d, const struct pgp_cert *c, struct err *e);

/* Internal: check a link token of kind (inside a transaction). */
int dir_token(struct daemon *d, const char *token, enum token_kind kind,
    int64_t now, struct store_token *t, struct err *e);
/* Internal, directory_session.c: seal an upload session over the
 * addresses in out (into out->token); open one, checking it allows
 * address (NULL: only that it is valid). */
int dir_session_seal(struct daemon *d, const char *fpr, int64_t now,
    struct dir_upload *out, struct err *e);
int dir_session_open(struct daemon *d, const char *token, int64_t now,
    char fpr[41], const char *address, struct err *e);

/* Internal: reload key fpr and recompute its published form. */
int dir_republish_fpr(struct daemon *d, const char *fpr, int64_t now,
    struct err *e);
/* Internal: unpublish address from fpr and republish fpr. */
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
 * takes pub's contents, leaving it empty. */
void dir_publish_fill(const struct pgp_cert *c, const char *const *addrs,
    size_t n, struct buf *pub, struct store_cert *out);
/* Free what dir_publish_build allocated (not full). */
void dir_publish_release(struct store_cert *sc);

/* Internal to directory*.c: recompute and store key fpr's published form
 * from its parsed full cert c (inside a store transaction). */
int dir_republish(struct daemon *d, const struct pgp_cert *c, int64_t now,
    struct err *e);
/* Internal: queue a confirmation mail for address (inside a transaction)
 * unless one went out within mail_rate; sets *st to pending.  Returns 1
 * when a mail was queued, 0 when not (rate limited, or an address SMTP
 * cannot carry, which stays unpublished), -1 on error. */
int dir_send_confirm(struct daemon *d, const struct pgp_cert *c,
    const char *address, int64_t now, enum addr_status *st, struct err *e);

/* Internal, directory_mail.c: compose and queue each kind of mail (inside
 * a transaction).  The confirmation names and attaches the address's
 * current key when another key has it. */
struct store_cert;
void dir_log_link(struct daemon *d, const char *what, const char *addr,
    const char *fpr, const char *path, const char *tok);
int dir_mail_confirm(struct daemon *d, const struct pgp_cert *c,
    const char *addr, const char *tok, int64_t now, int64_t expires,
    struct err *e);
int dir_mail_replaced(struct daemon *d, const char *addr,
    const char *new_fpr, const char *old_fpr, int64_t now, struct err *e);
int dir_mail_manage(struct daemon *d, const char *addr, const char *fpr,
    const char *tok, int64_t now, int64_t expires, struct err *e);
int dir_mail_reverify(struct daemon *d, const char *addr,
    const struct store_cert *c, const char *tok, int64_t now,
    int64_t expires, struct err *e);

/* Internal: load and parse the stored cert fpr (inside a transaction);
 * ERR_GONE when it is not there. */
int dir_load(struct daemon *d, const char *fpr, struct pgp_cert *c,
    struct err *e);
/* Internal: true when c carries address in a user ID that is not revoked. */
bool dir_uid_live(const struct pgp_cert *c, const char *address);

#endif
