/*
 * daemon: the one struct that holds keydird's state (httpd's httpd_env),
 * passed down explicitly to every handler.
 */
#ifndef KEYDIR_DAEMON_H
#define KEYDIR_DAEMON_H

#include "config.h"

struct store;
struct mailer;

struct daemon {
	struct config cfg;
	struct store *store;
	struct mailer *mailer;
};

#endif
