/*
 * client: what the files of the keydir client share.  The client works
 * on the user's own GnuPG keyring and gpg-agent through GPGME (so
 * passphrases go through pinentry and smartcard keys work) and talks to
 * keydird over HTTP with libcurl.  It uses lib/ and nothing of keydird.
 */
#ifndef KEYDIR_CLIENT_H
#define KEYDIR_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"
#include "sizes.h"

/* Exit codes, documented in keydir(1). */
enum {
	KD_OK = 0,
	KD_FAIL = 1,		/* the server refused, or something failed */
	KD_USAGE = 2,		/* a mistake on the command line */
	KD_NOTFOUND = 3		/* an address is not in the directory */
};

struct kd {
	char server[512];	/* base URL, no trailing slash */
	char authority[256];	/* its host[:port] */
	bool dry_run;
	bool accept_new_server_key;
	bool verbose;
	bool kdf_min;		/* --kdf-limits min: for tests only */
};

/* kd_http.c: one request; the body (capped at KEY_MAX) into body, the
 * status into *status, a header's value (when hname) into hval. */
int kd_get(const char *url, struct buf *body, long *status,
    const char *hname, char *hval, size_t hsz, struct err *e);
int kd_post(const char *url, const char *ctype, const void *data,
    size_t len, struct buf *body, long *status, struct err *e);

/* kd_gpg.c: the user's keyring. */
int kd_gpg_init(struct err *e);
/* The fingerprint of the one key that KEY names (fingerprint, key id or
 * address), with its secret part when secret; ERR_NOTFOUND, or
 * ERR_INVALID when it names several. */
int kd_gpg_find(const char *key, bool secret, char fpr[FPR_LEN + 1],
    struct err *e);
/* Whether the keyring has the key fpr. */
bool kd_gpg_has(const char *fpr);
/* What the keyring holds of fpr: its first user ID (uid, "" if none),
 * how many user IDs and subkeys; -1 when it is not there. */
int kd_gpg_shape(const char *fpr, char *uid, size_t sz, size_t *nuids,
    size_t *nsubs);
/* Let the user give fpr's secret key a new passphrase (pinentry). */
int kd_gpg_passwd(const char *fpr, struct err *e);
/* Export fpr armored into out (public). */
int kd_gpg_export(const char *fpr, struct buf *out, struct err *e);
/* Import a key; *fpr_out (when given) the first imported fingerprint. */
int kd_gpg_import(const void *data, size_t len, struct err *e);
/* Sign text with fpr's key and encrypt it to rcpt (always trusted). */
int kd_gpg_sign_encrypt(const char *signer, const char *rcpt,
    const char *text, size_t len, struct buf *out, struct err *e);
/* Whether sig is a good detached signature over text by the key fpr
 * (its primary or a subkey), whatever its owner trust. */
bool kd_gpg_signed_by(const char *text, const char *sig, size_t siglen,
    const char *fpr);
/* Clearsign text with fpr's primary key. */
int kd_gpg_clearsign(const char *signer, const char *text, size_t len,
    struct buf *out, struct err *e);
/* The e-mail addresses of fpr's user IDs that are not revoked. */
int kd_gpg_addresses(const char *fpr, char ***addrs, size_t *n,
    struct err *e);
void kd_strv_free(char **v, size_t n);

/* kd_state.c: what the client remembers between runs. */
/* The directory version of fpr it last fetched (0 when none). */
int64_t kd_seen_get(const char *server, const char *fpr);
void kd_seen_set(const char *server, const char *fpr, int64_t updated);
/* The pinned server key of server into fpr; 1 when none. */
int kd_pin_get(const char *server, char fpr[FPR_LEN + 1]);
int kd_pin_set(const char *server, const char *fpr, struct err *e);

/* The commands. */
int kd_lookup(struct kd *k, char **addrs, size_t n);
int kd_refresh(struct kd *k);
int kd_publish(struct kd *k, const char *key, char **addrs, size_t n,
    const char *recovery, size_t recovery_len);
int kd_recovery_create(struct kd *k, const char *key, const char *answers,
    bool code);
int kd_recovery_restore(struct kd *k, const char *address,
    const char *answers, const char *code, const char *link);
/* Export fpr's secret key (binary) into out, through gpg-agent. */
int kd_gpg_export_secret(const char *fpr, struct buf *out, struct err *e);
int kd_remove(struct kd *k, const char *key, char **addrs, size_t n);

#endif
