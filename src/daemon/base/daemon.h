/*
 * daemon: the one struct that holds keydird's state (httpd's httpd_env),
 * passed down explicitly to every handler.
 */
#ifndef KEYDIR_DAEMON_H
#define KEYDIR_DAEMON_H

#include <stdint.h>

#include "config.h"
#include "sizes.h"

#define DAEMON_SEAL_KEY_LEN 32	/* seal.h SEAL_KEY_LEN */
/* What the previous server key signs when rotate-key replaces it: this
 * text, the new fingerprint and a newline. */
#define DIR_TRANSITION_TEXT "keydir server key "

struct store;
struct mailer;
struct pgp_serverkey;

struct daemon {
	struct config cfg;
	struct store *store;
	struct mailer *mailer;
	uint8_t seal_key[DAEMON_SEAL_KEY_LEN];	/* upload sessions */
	/* the server's own key (dir_server_key): its secret stays in
	 * directory/ and pgp/; http serves the public form */
	struct pgp_serverkey *server_key;
	struct pgp_serverkey *old_keys;	/* replaced, still decrypting */
	int64_t *old_since;		/* when each was replaced */
	char (*old_fpr)[FPR_LEN + 1];	/* their fingerprints (http) */
	size_t nold;
	char server_fpr[FPR_LEN + 1];
	const char *server_pub;		/* armored */
	size_t server_pub_len;
	char *server_transition;	/* the previous key's signature over
					 * DIR_TRANSITION_TEXT FPR, or NULL */
	size_t server_transition_len;
};

#endif
