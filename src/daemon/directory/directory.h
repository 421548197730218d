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

/* What became of the confirmation mail an upload or request asked for
 * an address. */
enum addr_mail {
	ADDR_MAIL_NONE,		/* none asked for (or published, revoked) */
	ADDR_MAIL_SENT,		/* queued now */
	ADDR_MAIL_RATE,		/* one went out within mail_rate: not before
				 * retry_at */
	ADDR_MAIL_CAPPED,	/* past max_mails_per_upload: not mailed; ask
				 * again (request-verify, another upload) */
	ADDR_MAIL_UNMAILABLE	/* an address SMTP cannot carry */
};

struct dir_addr {
	char address[EMAIL_MAX + 1];
	enum addr_status status;
	enum addr_mail mail;
	int64_t retry_at;		/* ADDR_MAIL_RATE: when it may go */
};

/* The outcome of an upload or a verification request. */
struct dir_upload {
	char fpr[FPR_LEN + 1];
	char *token;		/* VKS upload session (sealed) */
	bool revoked;			/* the key is revoked */
	struct dir_addr *addrs;
	size_t naddrs;
	size_t nmails;			/* confirmation mails queued */
	size_t ncapped;			/* addresses ADDR_MAIL_CAPPED */
	char (*fprs)[FPR_LEN + 1];		/* several certs uploaded at once */
	size_t nfprs;
	int64_t retry_after;	/* after ERR_RATE (the rest of out empty):
				 * seconds until the client may try again */
};

/* A confirmation link, as shown on its page. */
struct dir_verify {
	char fpr[FPR_LEN + 1];
	char address[EMAIL_MAX + 1];
	char prev_fpr[FPR_LEN + 1];	/* the address's current key, "" if none */
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
	char fpr[FPR_LEN + 1];
	char address[EMAIL_MAX + 1];
	int64_t expires;
};

/* What a signed removal did. */
struct dir_removed {
	char fpr[FPR_LEN + 1];
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
	size_t mails;		/* sent mails deleted (sent_mail_ttl) */
	size_t rates;		/* rate marks past mail_rate deleted */
	size_t clients;		/* keys whose client was forgotten */
};

/* "unpublished", "pending", "published", "revoked". */
const char *addr_status_str(enum addr_status s);
/* "none", "mailed", "rate_limited", "over_limit", "unmailable". */
const char *addr_mail_str(enum addr_mail m);

/*
 * Take an uploaded key (armored or binary) from client (struct req's
 * client key; "" for none, which no per-client limit counts).  Stores or
 * merges it, keeps published addresses the key still carries, and opens
 * an upload session (out->token).  With request_all, a confirmation mail
 * goes to each address on the key that is not yet published, in the
 * key's order, at most max_mails_per_upload (HKP /pks/add); each
 * address's mail says what became of it.  Several certs in one upload
 * are stored and listed in out->fprs, with no session and no mail.
 * Limits, with nothing stored: ERR_RATE when the upload holds a new key
 * and client stored max_unconfirmed_per_client keys that have no
 * confirmed address within 24 hours (out->retry_after says when to try
 * again); ERR_TOOBIG when a new key alone takes more than
 * max_unconfirmed_bytes.  Storing a key first deletes the oldest
 * never-confirmed keys while they take more than max_unconfirmed_bytes.
 */
int dir_upload(struct daemon *d, int64_t now, const uint8_t *data, size_t len,
    bool request_all, const char *client, struct dir_upload *out,
    struct err *e);

/*
 * Send confirmation mails for addresses of the key behind an upload
 * session token (VKS request-verify), in the order asked, at most
 * max_mails_per_upload, in language lang (lang.h).  ERR_INVALID "Upload
 * session expired. Please try again." for an unknown or expired token.
 */
int dir_request_verify(struct daemon *d, int64_t now, const char *token,
    const char *const *addresses, size_t n, size_t lang,
    struct dir_upload *out, struct err *e);

/* Release what out owns. */
void dir_upload_release(struct dir_upload *out);

/* What an inbound Web Key Service mail did (directory_wks.c). */
struct dir_wks {
	enum { DIR_WKS_SUBMISSION = 1, DIR_WKS_RESPONSE } kind;
	char fpr[FPR_LEN + 1];
	char address[EMAIL_MAX + 1];
	bool mailed;		/* submission: a confirmation request went */
	int64_t retry_at;	/* submission rate limited: when it may */
	bool published;		/* response: the address is published */
};

/*
 * One inbound mail of the Web Key Service (msg, len bytes, RFC 5322): a
 * key submission, which is stored and whose sender address is sent a
 * confirmation request, or a confirmation response, which publishes the
 * address as a confirmation link does.  ERR_INVALID (naming the rule) for
 * anything else, and nothing changes; other codes when a later try may
 * work.
 */
int dir_wks_receive(struct daemon *d, int64_t now, const char *msg,
    size_t len, struct dir_wks *out, struct err *e);

/*
 * Look at a confirmation link without changing anything (GET).  Errors:
 * ERR_NOTFOUND for an unknown token, ERR_GONE for a used or expired one.
 */
int dir_verify_show(struct daemon *d, int64_t now, const char *token,
    struct dir_verify *out, struct err *e);
/*
 * Confirm: publish the address for the key (POST).  Same errors.  With
 * effects (the digest the page showed; NULL when the client saw no page)
 * nothing is done when what confirming would change differs from it:
 * out->changed is set and out describes the state now, for a fresh page.
 * The mail a replacement sends the address is in language lang.
 */
int dir_verify_confirm(struct daemon *d, int64_t now, const char *token,
    const char *effects, size_t lang, struct dir_verify *out,
    struct err *e);
/* Discard the request ("this was not me").  Same errors. */
int dir_verify_reject(struct daemon *d, int64_t now, const char *token,
    struct dir_verify *out, struct err *e);
void dir_verify_release(struct dir_verify *v);

/*
 * Removal by mail: mail a removal link to address if it is published
 * (rate limited like confirmations), in language lang.  Returns 0
 * whether or not a mail went out, so the answer tells nobody which
 * addresses are published.
 */
int dir_manage_request(struct daemon *d, int64_t now, const char *address,
    size_t lang, struct err *e);

/* GET on a removal (TOKEN_MANAGE) or re-verification (TOKEN_REVERIFY)
 * link: ERR_NOTFOUND, ERR_GONE as for confirmation links. */
int dir_link_show(struct daemon *d, int64_t now, enum token_kind kind, const char *token,
    struct dir_link *out, struct err *e);
/* POST on such a link: removal unpublishes; re-verification keeps the
 * address (yes) or unpublishes it (no). */
int dir_link_act(struct daemon *d, int64_t now, enum token_kind kind, const char *token,
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
int dir_remove_signed(struct daemon *d, int64_t now, const uint8_t *msg, size_t len,
    struct dir_removed *out, struct err *e);

/*
 * One pass of scheduled work as if at time now: unpublish addresses whose
 * re-verification went unanswered past reverify_grace, ask the addresses
 * due (reverify_interval after their last confirmation), delete expired
 * tokens and nonces, keys that never had a confirmed address after
 * unconfirmed_ttl, mail sent more than sent_mail_ttl ago and rate marks
 * older than mail_rate, and forget the client of keys stored more than a
 * day ago (the per-client limit's window).  Mail goes to the outbox.
 */
int dir_maintain(struct daemon *d, int64_t now, struct dir_maint *out,
    struct err *e);

/*
 * Import (xfer/): a key from an export, made ready on any thread by
 * dir_import_prepare (parse, strip, publish for its addresses, check
 * they are live user IDs of a live key), then stored by
 * dir_import_store inside the writer's transaction.  addrs is borrowed
 * until dir_import_free; updated is when the published form last changed.
 */
struct dir_import;
struct dir_import *dir_import_prepare(const struct daemon *d,
    const char *fpr, const uint8_t *full, size_t full_len,
    const struct store_addr *addrs, size_t naddrs, int64_t first_stored,
    bool had_address, int64_t updated, struct err *e);
/* The key's recovery data (borrowed like addrs), kept on store when
 * the directory has none for the key or older. */
void dir_import_recovery(struct dir_import *imp, const uint8_t *data,
    size_t len, int64_t updated);
/*
 * Store it: a new key as prepared; a key already there is merged with it
 * as an upload is (dir_merge_stored: what the merged key no longer
 * carries alive is unpublished), its addresses are added (an address
 * another key held moves, and that key is republished) and the earlier
 * first_stored kept.  *merged tells which.
 */
int dir_import_store(struct daemon *d, const struct dir_import *imp,
    int64_t now, bool *merged, struct err *e);
void dir_import_free(struct dir_import *imp);

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

/*
 * A signed submission (POST /api/v1/submit): msg is an OpenPGP message
 * encrypted to the server key, integrity-protected and signed by the key
 * it carries; its text is the JSON of lib/submission.h.  Refused, each
 * rule named, with nothing stored or mailed: ERR_INVALID for a message not
 * encrypted to this directory, without an MDC, unsigned, a bad text,
 * another server, a signature older (or newer) than 15 minutes, an
 * address not on the key; ERR_FORBIDDEN for a signature not by the key
 * (or by a subkey that may not sign); ERR_CONFLICT when the same
 * submission was accepted before.  Then as dir_upload with confirmation
 * mails for the addresses listed (every address when none is), which
 * say the key itself signed the request, and its limits.
 */
int dir_submit(struct daemon *d, int64_t now, const uint8_t *msg,
    size_t len, const char *client, struct dir_upload *out, struct err *e);

/*
 * Key recovery data (claim 3), kept only from a signed submission and
 * handed back only to the owner of a published address of its key.
 * dir_recovery_request mails a link to address when it is published and
 * its key has recovery data (rate limited like removal links); it
 * returns 0 either way, so the answer tells nobody whether there is data.
 * dir_recovery_show (GET on the link) looks; dir_recovery_take (POST)
 * uses the link once, hands the sealed data out (*data, caller frees),
 * logs it and mails a notice to the address.  Errors as dir_link_show.
 */
int dir_recovery_request(struct daemon *d, int64_t now, const char *address,
    size_t lang, struct err *e);
int dir_recovery_show(struct daemon *d, int64_t now, const char *token,
    struct dir_link *out, struct err *e);
int dir_recovery_take(struct daemon *d, int64_t now, const char *token,
    size_t lang, struct dir_link *out, uint8_t **data, size_t *len,
    struct err *e);

/*
 * Load the server's own key from DATA_DIR/server-key.pgp, or make one
 * (pgp_serverkey_make: submission_address, server_key_ttl) and keep it
 * there mode 0600; fill d's server_* fields and publish the key under
 * the submission address without a confirmation mail.  A key that
 * cannot be published (an address the directory refuses) is logged and
 * still served.  dir_server_key_free wipes it.
 */
int dir_server_key(struct daemon *d, int64_t now, struct err *e);
void dir_server_key_free(struct daemon *d);
/*
 * keydird rotate-key: make a new server key and keep the current one in
 * DATA_DIR/server-keys/ (it decrypts submissions for server_key_grace
 * more, then a start of serve deletes it).  Files only: the next start of
 * serve loads and publishes the new key.  old and new get the
 * fingerprints.  ERR_NOTFOUND when there is no server key yet.
 */
int dir_server_key_rotate(struct daemon *d, int64_t now,
    char old[FPR_LEN + 1], char new[FPR_LEN + 1], struct err *e);

/* Read the key that seals upload sessions from path into d, or make one
 * (mode 0600) if there is none. */
int dir_session_key(struct daemon *d, const char *path, struct err *e);

#endif
