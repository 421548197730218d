/*
 * receive: keydird receive, one inbound mail of the Web Key Service on
 * standard input, as an MTA's pipe transport (Postfix pipe(8), Exim's
 * pipe transport, a .forward or procmail) delivers it.
 */
#ifndef KEYDIR_RECEIVE_H
#define KEYDIR_RECEIVE_H

#include "daemon.h"

/* The largest mail read; a longer one is refused (EX_DATAERR). */
#define RECEIVE_MAX (1024 * 1024)

/*
 * Read the mail from stdin and hand it to the directory (dir_wks_receive),
 * then deliver what it queued.  The exit status is the MTA's (sysexits):
 * 0 taken, EX_DATAERR (65) a mail that is not a Web Key Service mail or
 * breaks a rule, which nothing retrying would change (the reason on
 * stderr, for the bounce), EX_TEMPFAIL (75) when a later delivery may
 * work (the store busy or full).
 */
int receive_mail(struct daemon *d);

struct mail_config;
/* The mailer's settings from d's config (main.c); maildir holds the
 * Maildir's path. */
void mail_config_of(const struct config *c, struct mail_config *mc,
    char *maildir, size_t sz);

#endif
