/*
 * pgp_strip: the rules for what of a cert is kept (pgp_strip.c).
 * Internal to pgp.c.
 */
#ifndef KEYDIR_PGP_STRIP_H
#define KEYDIR_PGP_STRIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rnp/rnp.h>

/* Whether uid has a valid certification by the primary keyid; *newest
 * gets the creation time of the newest one. */
bool pgp_uid_selfsig(rnp_uid_handle_t uid, const char *keyid,
    int64_t *newest);

/* Whether subkey sub has a valid binding by keyid that carried a valid
 * back-signature (the sign flag makes librnp check one). */
bool pgp_sub_backsig(rnp_key_handle_t sub, const char *keyid);

/* Strip key in place; emails NULL keeps every self-signed user ID. */
int pgp_strip(rnp_key_handle_t key, const char *keyid,
    const char *const *emails, size_t nemails);

/* Strip key to the primary key and its key revocations. */
int pgp_strip_tombstone(rnp_key_handle_t key);
/* Whether key is what that leaves: revoked, no user ID, no subkey. */
bool pgp_is_tombstone(rnp_key_handle_t key);

#endif
