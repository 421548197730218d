/*
 * daemon: the one struct that holds keydird's state (httpd's httpd_env),
 * passed down explicitly to every handler.
 */
#ifndef KEYDIR_DAEMON_H
#define KEYDIR_DAEMON_H

#include <stdint.h>

#include "config.h"

#define DAEMON_SEAL_KEY_LEN 32	/* seal.h SEAL_KEY_LEN */

struct store;
struct mailer;

struct daemon {
	struct config cfg;
	struct store *store;
	struct mailer *mailer;
	uint8_t seal_key[DAEMON_SEAL_KEY_LEN];	/* upload sessions */
};

#endif
