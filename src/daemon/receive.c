/*
 * receive: keydird receive.  The mail goes to the directory through the
 * same store as serve's (SQLite takes writers from several processes);
 * the mail it queues is delivered here, at once, as keydird maintain
 * delivers its own.  Once the mail is read, the process is in serve's
 * sandbox (Landlock, seccomp) before anything parses it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sysexits.h>
#include <time.h>

#include "directory.h"
#include "log.h"
#include "mail.h"
#include "receive.h"
#include "sandbox.h"
#include "store.h"
#include "xmalloc.h"

/* stdin into a buffer of at most RECEIVE_MAX bytes; -1 when longer. */
static char *
read_all(size_t *len)
{
	char *p = xmalloc(RECEIVE_MAX + 1);
	size_t n = 0, k;

	while ((k = fread(p + n, 1, RECEIVE_MAX + 1 - n, stdin)) > 0)
		if ((n += k) > RECEIVE_MAX) {
			free(p);
			return NULL;
		}
	p[n] = '\0';
	*len = n;
	return p;
}

/* The exit status for an error of the directory: what retrying can
 * change is temporary. */
static int
status_of(const struct err *e)
{
	switch (e->code) {
	case ERR_INVALID:
	case ERR_NOTFOUND:
	case ERR_GONE:
	case ERR_FORBIDDEN:
	case ERR_TOOBIG:
	case ERR_CONFLICT:
		return EX_DATAERR;
	default:
		return EX_TEMPFAIL;
	}
}

int
receive_mail(struct daemon *d)
{
	struct mail_config mc;
	struct dir_wks w;
	struct err e;
	char maildir[1100], *msg;
	size_t len = 0;
	int64_t now = time(NULL);
	int rc, sent;

	if ((msg = read_all(&len)) == NULL) {
		fprintf(stderr, "keydird receive: a mail over %d bytes is "
		    "refused\n", RECEIVE_MAX);
		return EX_DATAERR;
	}
	/* anyone's mail is parsed and decrypted next: in serve's sandbox */
	if (d->cfg.sandbox && sandbox_serve(d->cfg.data_dir,
	    store_file(d->cfg.database), &e) == -1) {
		fprintf(stderr, "keydird receive: %s\n", e.msg);
		free(msg);
		return EX_TEMPFAIL;
	}
	if ((d->store = store_open(d->cfg.database, &e)) == NULL) {
		fprintf(stderr, "keydird receive: %s\n", e.msg);
		free(msg);
		return EX_TEMPFAIL;
	}
	mail_config_of(&d->cfg, &mc, maildir, sizeof(maildir));
	if (dir_server_key(d, now, &e) == -1 || (d->mailer = mailer_new(
	    d->store, &mc, MAILER_MAINTAIN, &e)) == NULL) {
		fprintf(stderr, "keydird receive: %s\n", e.msg);
		rc = EX_TEMPFAIL;
		goto out;
	}
	if (dir_wks_receive(d, now, msg, len, &w, &e) == -1) {
		fprintf(stderr, "keydird receive: %s\n", e.msg);
		log_info("wks: mail refused: %s", e.msg);
		rc = status_of(&e);
		goto out;
	}
	if (w.kind == DIR_WKS_SUBMISSION)
		log_info("wks: key %s submitted for %s: %s", w.fpr, w.address,
		    w.mailed ? "confirmation request sent" : "rate limited, "
		    "nothing sent");
	else
		log_info("wks: %s published for %s", w.address, w.fpr);
	rc = 0;
	while ((sent = mailer_run_once(d->mailer, time(NULL), &e)) > 0)
		;
	if (sent == -1)
		log_warnx("mail outbox: %s (a running serve sends it)", e.msg);
out:
	if (d->mailer != NULL)
		mailer_free(d->mailer);
	dir_server_key_free(d);
	store_close(d->store);
	free(msg);
	return rc;
}
