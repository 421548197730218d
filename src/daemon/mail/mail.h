/*
 * mail: composing messages and getting them out.  mail_compose is a
 * strict RFC 5322/MIME writer: header values never carry CR or LF from
 * input, addresses are checked, the body is quoted-printable UTF-8 and
 * attachments are base64.  The mailer drains the store's outbox on its own
 * thread, through SMTP (mail_smtp.c, the only libcurl user) or into a
 * Maildir (mail_dir.c), retrying with exponential backoff.
 */
#ifndef KEYDIR_MAIL_H
#define KEYDIR_MAIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"

struct store;

struct mail_att {
	const char *filename;	/* e.g. "0xFPR.asc"; [A-Za-z0-9._-] only */
	const char *content_type; /* e.g. "application/pgp-keys" */
	const void *data;
	size_t len;
};

struct mail_spec {
	const char *from;	/* bare address */
	const char *to;		/* bare address */
	const char *subject;	/* UTF-8; encoded as RFC 2047 when not ASCII */
	const char *body;	/* UTF-8 text, LF line ends */
	const struct mail_att *atts;
	size_t natts;
	int64_t date;		/* unix time for the Date header */
};

/*
 * Write the complete message (CRLF line ends) to out.  ERR_INVALID when
 * an address is malformed or a header value or file name holds a control
 * byte; out is then unchanged.
 */
int mail_compose(const struct mail_spec *m, struct buf *out, struct err *e);
/*
 * The Web Key Service's confirmation request: mail_wks_entity writes the
 * part to sign (text, then the application/vnd.gnupg.wks part holding
 * payload, an armored message), CRLF line ends; mail_compose_signed the
 * whole mail (Wks-Draft-Version 3, Wks-Phase wks_phase) with entity and
 * its detached armored signature sig as multipart/signed.
 */
int mail_wks_entity(const char *text, const char *payload, struct buf *out,
    struct err *e);
int mail_compose_signed(const struct mail_spec *m, const char *wks_phase,
    const char *entity, const char *sig, struct buf *out, struct err *e);
/* True when a can be a recipient: plain ASCII, one '@', no specials. */
bool mail_addr_ok(const char *a);

struct mail_config {
	const char *smtp_url;	/* smtp://, smtps://; NULL or "" = Maildir */
	const char *smtp_user;	/* optional AUTH */
	const char *smtp_pass;
	int smtp_starttls;	/* 1: require STARTTLS on smtp:// */
	const char *mail_from;	/* envelope sender */
	const char *maildir;	/* DIR with tmp/ new/ cur/, made if missing */
	int64_t retry_min;	/* first retry delay, seconds (default 30) */
	int64_t retry_max;	/* backoff ceiling, seconds (default 3600) */
	const char *node;	/* serve's lease owner is "node@" and a
				 * digest of NODE (one per data directory
				 * and host: several nodes share a
				 * database; mailer.c); NULL: "serve" */
	unsigned rate_n;	/* at most this many sent in any rate_per
				 * seconds, all told (the outbox's sent
				 * times); 0 = any number */
	int64_t rate_per;
};

/*
 * Once at startup, before any thread: curl_global_init and sodium_init.
 * Returns 0 or -1.
 */
int mail_global_init(void);

/*
 * Deliver one message now (SMTP or Maildir).  -1 with e set on failure:
 * ERR_INVALID when retrying cannot help (the SMTP server refused the
 * recipient or the message for good, with its reply in e; a malformed
 * envelope), any other code when a later attempt may work.
 */
int mail_smtp_send(const struct mail_config *c, const char *rcpt,
    const char *data, size_t len, struct err *e);
int mail_dir_deliver(const char *maildir, const char *data, size_t len,
    struct err *e);

struct mailer;

/*
 * Who drains the outbox.  keydird serve holds the data directory's lock,
 * so one serve drain at most is alive: rows a serve drain had leased when
 * a new one starts were leased by a serve that died, and go out again at
 * once.  keydird maintain drains beside it, any number at a time, and
 * waits out the leases of the others.
 */
enum mailer_role {
	MAILER_SERVE,
	MAILER_MAINTAIN
};

/* A mailer over store s in role; copies c's strings.  NULL with e set. */
struct mailer *mailer_new(struct store *s, const struct mail_config *c,
    enum mailer_role role, struct err *e);
/* Start the drain thread (MAILER_SERVE): first take back the rows a
 * serve drain that died had leased.  -1 with e set. */
int mailer_start(struct mailer *m, struct err *e);
/* Wake the thread: new rows were committed. */
void mailer_kick(struct mailer *m);
/* Finish the message in flight, stop the thread and free m. */
void mailer_free(struct mailer *m);
/*
 * One pass over the outbox as of now (no thread needed): send what is
 * due, as much as rate_n leaves, mark sent rows, reschedule failures.
 * Returns the number sent (0 also when rate_n holds the rest back), or
 * -1 on a store error.
 */
int mailer_run_once(struct mailer *m, int64_t now, struct err *e);

/* The longest one SMTP send may take (connect, then the whole exchange):
 * mail_smtp.c gives libcurl these timeouts. */
#define MAIL_CONNECT_SECS 10
#define MAIL_SEND_SECS 60

#endif
