/*
 * mailer: drains the store's outbox on its own thread.  A row is marked
 * sent only after delivery succeeded, so a crash in between means the
 * mail goes out twice, never not at all.  Failures back off
 * exponentially; a mail the server refused for good is marked failed and
 * never tried again.  It composes nothing: rows hold finished messages.
 *
 * Several nodes on one database (store.h, "Nodes"): serve's drain leases
 * as its node, "node@" and a digest of host and data directory, and
 * joins the store as that node, so its leases are its own while it lives
 * and any other node's drain takes them over as soon as it dies.  Before
 * each mail it asks the store whether it was alive all along: after a
 * break (its database connection dropped, so others may have taken its
 * leases) it sends none of what it leased and takes back what is still
 * its own.  Such a drain looks at the outbox every MAILER_WATCH seconds
 * even when idle, since another node may die with mail leased.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "err.h"
#include "log.h"
#include "mail.h"
#include "store.h"
#include "xmalloc.h"

#define MAILER_BATCH	8	/* rows per pass */
#define MAILER_LEASE	600	/* seconds a pass holds its rows back from
				 * another drain (keydird maintain) */
/* a whole pass ends within its lease, so no row is sent twice */
_Static_assert(MAILER_BATCH * (MAIL_CONNECT_SECS + MAIL_SEND_SECS) <
    MAILER_LEASE, "a pass of MAILER_BATCH sends outlives the lease");
#define MAILER_POLL	30	/* seconds between passes when idle */
#define MAILER_WATCH	2	/* ... for a node among others: how soon a
				 * dead node's leased mail goes out */

struct mailer {
	struct store *s;
	char *owner;		/* the lease owner: "maintain", "serve" or
				 * "node@" and a digest of NODE */
	char *legacy;		/* "serve@" and a digest of NODE: the owner
				 * before nodes joined; NULL without NODE */
	bool node;		/* owner is a node's (store_node_join) */
	bool watch;		/* the store knows which nodes live: wake
				 * every MAILER_WATCH */
	enum mailer_role role;
	struct mail_config c;	/* strings point at the copies below */
	char *url, *user, *pass, *from, *dir;
	pthread_t thread;
	bool started;
	pthread_mutex_t mu;
	pthread_cond_t cv;	/* on CLOCK_MONOTONIC */
	bool kicked;		/* under mu */
	int64_t next_retry;	/* earliest retry set by us, 0 none; mu */
	int64_t held_until;	/* rate_n holds mail back until then,
				 * 0 if not; the draining thread's */
	atomic_int stop;
};

/* Copy of s, or NULL for NULL. */
static char *
dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

/* Free a string that may hold a secret. */
static void
free_secret(char *s)
{
	if (s != NULL) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

/* True when mail goes to a Maildir rather than over SMTP. */
static bool
use_maildir(const struct mail_config *c)
{
	return c->smtp_url == NULL || *c->smtp_url == '\0';
}

/* A mailer over s with its own copy of c. */
struct mailer *
mailer_new(struct store *s, const struct mail_config *c,
    enum mailer_role role, struct err *e)
{
	struct mailer *m;
	pthread_condattr_t ca;

	if (use_maildir(c) && (c->maildir == NULL || *c->maildir == '\0')) {
		err_set(e, ERR_INVALID, "mail needs an smtp url or a maildir");
		return NULL;
	}
	m = xcalloc(1, sizeof(*m));
	m->s = s;
	m->role = role;
	if (role == MAILER_SERVE && c->node != NULL && c->node[0] != '\0') {
		/* STORE_NODE_PREFIX and 10 hex digits of the node's name:
		 * an owner fits STORE_LEASE_OWNER_MAX; the same name's older
		 * owner had "serve@" and 9 */
		uint8_t h[16];
		char hex[33];
		size_t i;

		crypto_generichash(h, sizeof(h), (const uint8_t *)c->node,
		    strlen(c->node), NULL, 0);
		for (i = 0; i < sizeof(h); i++)
			snprintf(hex + 2 * i, 3, "%02x", h[i]);
		m->owner = xmalloc(STORE_LEASE_OWNER_MAX + 1);
		snprintf(m->owner, STORE_LEASE_OWNER_MAX + 1, "%s%.*s",
		    STORE_NODE_PREFIX, (int)(STORE_LEASE_OWNER_MAX -
		    strlen(STORE_NODE_PREFIX)), hex);
		m->legacy = xmalloc(STORE_LEASE_OWNER_MAX + 1);
		snprintf(m->legacy, STORE_LEASE_OWNER_MAX + 1, "serve@%.9s",
		    hex);
		m->node = true;
	} else
		m->owner = xstrdup(role == MAILER_SERVE ? "serve" : "maintain");
	m->c.smtp_url = m->url = dup_or_null(c->smtp_url);
	m->c.smtp_user = m->user = dup_or_null(c->smtp_user);
	m->c.smtp_pass = m->pass = dup_or_null(c->smtp_pass);
	m->c.smtp_starttls = c->smtp_starttls;
	m->c.mail_from = m->from = dup_or_null(c->mail_from);
	m->c.maildir = m->dir = dup_or_null(c->maildir);
	m->c.retry_min = c->retry_min > 0 ? c->retry_min : 30;
	m->c.retry_max = c->retry_max > 0 ? c->retry_max : 3600;
	m->c.rate_n = c->rate_n;
	m->c.rate_per = c->rate_per > 0 ? c->rate_per : 60;
	if (m->c.retry_max < m->c.retry_min)
		m->c.retry_max = m->c.retry_min;
	pthread_mutex_init(&m->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&m->cv, &ca);
	pthread_condattr_destroy(&ca);
	atomic_init(&m->stop, 0);
	return m;
}

/* Seconds to wait after attempts failures: min(max, min * 2^attempts). */
static int64_t
retry_delay(const struct mail_config *c, int attempts)
{
	int64_t d = c->retry_min;
	int i;

	for (i = 0; i < attempts && d < c->retry_max; i++)
		d *= 2;
	return d < c->retry_max ? d : c->retry_max;
}

/* Hand one message to SMTP or the Maildir. */
static int
deliver(const struct mailer *m, const struct store_mail *r, struct err *e)
{
	if (use_maildir(&m->c))
		return mail_dir_deliver(m->c.maildir, r->data, r->len, e);
	return mail_smtp_send(&m->c, r->rcpt, r->data, r->len, e);
}

/* Remember the earliest retry we scheduled, for the thread's wait. */
static void
note_retry(struct mailer *m, int64_t next)
{
	pthread_mutex_lock(&m->mu);
	if (m->next_retry == 0 || next < m->next_retry)
		m->next_retry = next;
	pthread_mutex_unlock(&m->mu);
}

/* Record the outcome of one attempt (inside begin). */
static int
settle_row(struct mailer *m, const struct store_mail *r, int64_t now,
    bool ok, const struct err *de, int64_t *delay, struct err *e)
{
	if (ok)
		return store_outbox_done(m->s, r->id, now, e);
	/* refused for good: another try would be refused again (and to
	 * the same address mail queued after it would wait behind it) */
	if (de->code == ERR_INVALID)
		return store_outbox_fail(m->s, r->id, r->attempts + 1, now,
		    de->msg, e);
	*delay = retry_delay(&m->c, r->attempts);
	return store_outbox_retry(m->s, r->id, r->attempts + 1, now + *delay,
	    de->msg, e);
}

/* Send one row and record the outcome: 1 sent, 0 not; -1 only on a
 * store error. */
static int
send_row(struct mailer *m, const struct store_mail *r, int64_t now,
    struct err *e)
{
	struct err de;
	int64_t delay = 0;
	bool ok;

	int tries, rc = -1;

	err_clear(&de);
	ok = deliver(m, r, &de) == 0;
	/* the mail went out: its row must say so, or it goes again after
	 * the lease; a unit another node's drain conflicts with is run
	 * again (SERIALIZABLE stores) */
	for (tries = 0; tries < 50; tries++) {
		if (store_begin(m->s, e) == -1)
			rc = -1;
		else if (settle_row(m, r, now, ok, &de, &delay, e) == -1) {
			store_rollback(m->s);
			rc = -1;
		} else
			rc = store_commit(m->s, e);
		if (rc == 0 || e->code != ERR_RETRY)
			break;
		usleep(5000 + randombytes_uniform(20000));
	}
	if (rc == -1)
		return -1;
	if (ok)
		log_info("mail to %s sent (id %lld)", r->rcpt,
		    (long long)r->id);
	else if (de.code == ERR_INVALID)
		log_warnx("mail to %s refused for good, not retried "
		    "(id %lld): %s", r->rcpt, (long long)r->id, de.msg);
	else {
		note_retry(m, now + delay);
		log_warnx("mail to %s failed, retry in %llds: %s", r->rcpt,
		    (long long)delay, de.msg);
	}
	return ok;
}

/* Hand leased rows[0..n) back, due at `at` (they were not tried). */
static void
mailer_release(struct mailer *m, const struct store_mail *rows, size_t n,
    int64_t at)
{
	struct err e;
	size_t i;
	int rc;

	if (store_begin(m->s, &e) == -1) {
		log_warnx("mail outbox: %s (%zu leased mails wait for their "
		    "lease)", e.msg, n);
		return;
	}
	for (i = 0, rc = 0; i < n && rc != -1; i++)
		rc = store_outbox_release(m->s, rows[i].id, at, &e);
	if (rc == -1 || store_commit(m->s, &e) == -1) {
		if (rc == -1)
			store_rollback(m->s);
		log_warnx("mail outbox: %s (%zu leased mails wait for their "
		    "lease)", e.msg, n);
	}
}

/*
 * How many rows this pass may send (inside its unit): MAILER_BATCH, or
 * fewer when rate_n allows only that many more in the last rate_per
 * seconds; none, with m->held_until set to when the window has room
 * again, when it allows none.  The sent times are the outbox's, so serve
 * and maintain share one budget and a restart resets nothing.
 */
static int
mailer_budget(struct mailer *m, int64_t now, size_t *max, struct err *e)
{
	int64_t n = 0, oldest = 0, was = m->held_until;

	*max = MAILER_BATCH;
	m->held_until = 0;
	if (m->c.rate_n == 0)
		return 0;
	if (store_outbox_sent_since(m->s, now - m->c.rate_per + 1, &n,
	    &oldest, e) == -1)
		return -1;
	if (n < (int64_t)m->c.rate_n) {
		if ((size_t)(m->c.rate_n - n) < *max)
			*max = (size_t)(m->c.rate_n - n);
		return 0;
	}
	*max = 0;
	m->held_until = oldest + m->c.rate_per;
	if (was == 0)
		log_info("mail: %lld sent in the last %llds (mail_global_rate "
		    "%u/%llds): the rest wait in the outbox", (long long)n,
		    (long long)m->c.rate_per, m->c.rate_n,
		    (long long)m->c.rate_per);
	return 0;
}

/* Due again at once: the rows owner leased and never settled.  At start,
 * those of the serve drain before us (it was killed mid-pass): it held
 * the lock we hold now (the owner names this node's data directory), so
 * it is gone, and waiting out its lease would hold its mail for minutes.
 * After a break of this node's liveness, those still its own.  Other
 * nodes' drains may be writing the outbox: a conflict is run again. */
static int
mailer_reclaim(struct mailer *m, const char *owner, const char *whose,
    struct err *e)
{
	size_t n = 0;
	int tries, rc = -1;

	for (tries = 0; tries < 20; tries++) {
		if (store_begin(m->s, e) == -1)
			rc = -1;
		else if (store_outbox_reclaim(m->s, owner,
		    (int64_t)time(NULL), &n, e) == -1) {
			store_rollback(m->s);
			rc = -1;
		} else
			rc = store_commit(m->s, e);
		if (rc == 0 || e->code != ERR_RETRY)
			break;
		usleep(10000 * (useconds_t)(tries + 1));
	}
	if (rc == -1)
		return -1;
	if (n > 0)
		log_warnx("mail outbox: %zu mails leased by %s and not "
		    "settled are due again", n, whose);
	return 0;
}

/*
 * Whether this node may act on what it leased (before each mail): 0 yes.
 * Otherwise it leaves the rest of the pass alone, neither sent nor
 * released (another node may have taken it over): 1 after a break of
 * its liveness, alive again, its own leases taken back; -1 not alive.
 */
static int
mailer_alive(struct mailer *m)
{
	struct err e;
	int rc;

	if (!m->node || (rc = store_node_check(m->s, &e)) == 0)
		return 0;
	if (rc == -1) {
		log_warnx("mail: this node is not alive on the database (%s): "
		    "its leased mails are left to the other nodes", e.msg);
		return -1;
	}
	log_warnx("mail: this node's database connection broke: other "
	    "nodes may have taken its leased mails; it sends none of those "
	    "it leased before");
	if (mailer_reclaim(m, m->owner, "this node before the break",
	    &e) == -1)
		log_warnx("mail outbox: %s (its mails wait for their lease)",
		    e.msg);
	return 1;
}

/* One pass; *fetched says how many rows were due.  Sent or -1. */
static int
mailer_pass(struct mailer *m, int64_t now, size_t *fetched, struct err *e)
{
	struct store_mail *rows = NULL;
	size_t n = 0, i, max;
	int sent = 0, r, alive = 0;

	*fetched = 0;
	m->held_until = 0;	/* a failed pass is not held by the rate */

	if (store_begin(m->s, e) == -1)
		return -1;
	if (mailer_budget(m, now, &max, e) == -1 || (max > 0 &&
	    store_outbox_due(m->s, now, now + MAILER_LEASE, m->owner, max,
	    &rows, &n, e) == -1)) {
		store_rollback(m->s);
		return -1;
	}
	if (store_commit(m->s, e) == -1) {
		store_mails_free(rows, n);
		return -1;
	}
	*fetched = n;
	/* stop between messages */
	for (i = 0; i < n && !atomic_load(&m->stop); i++) {
		if ((alive = mailer_alive(m)) != 0)
			break;
		if ((r = send_row(m, &rows[i], now, e)) == -1) {
			sent = -1;
			break;
		}
		sent += r;
	}
	/* the rows not tried go back, due now: leased, they would wait out
	 * the lease after a restart (row i itself was tried when it
	 * failed: it keeps its lease or its retry time) */
	if (sent == -1)
		i++;
	if (i < n && alive == 0)
		mailer_release(m, rows + i, n - i, now);
	if (alive == -1)
		*fetched = 0;	/* wait before the next pass: they would
				 * come back to us, a node not alive */
	store_mails_free(rows, n);
	return sent;
}

/* One pass over what is due at now; the number sent or -1. */
int
mailer_run_once(struct mailer *m, int64_t now, struct err *e)
{
	size_t fetched;

	return mailer_pass(m, now, &fetched, e);
}

/* Wake for the earliest unsent row, including rows a previous process
 * left behind, not only the retries this one scheduled. */
static void
mailer_note_next(struct mailer *m)
{
	struct err e;
	int64_t when = 0;
	int rc;

	if (store_begin_read(m->s, &e) == -1)
		return;
	rc = store_outbox_next(m->s, &when, &e);
	store_rollback(m->s);
	if (rc == 0)
		note_retry(m, when);
}

/* Sleep until kicked, stopped, or the next retry or poll is due. */
static void
mailer_wait(struct mailer *m, int64_t now)
{
	struct timespec ts;
	int64_t wait = MAILER_POLL;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	pthread_mutex_lock(&m->mu);
	if (m->watch)
		wait = MAILER_WATCH;
	/* at least a second, so a row that stays due cannot spin us */
	if (m->next_retry != 0 && m->next_retry - now < wait)
		wait = m->next_retry - now < 1 ? 1 : m->next_retry - now;
	m->next_retry = 0;
	ts.tv_sec += (time_t)wait;
	while (!m->kicked && !atomic_load(&m->stop))
		if (pthread_cond_timedwait(&m->cv, &m->mu, &ts) == ETIMEDOUT)
			break;
	m->kicked = false;
	pthread_mutex_unlock(&m->mu);
}

/* The drain thread. */
static void *
mailer_main(void *arg)
{
	struct mailer *m = arg;
	struct err e;
	int64_t now;
	size_t fetched;
	int sent;

	while (!atomic_load(&m->stop)) {
		now = (int64_t)time(NULL);
		err_clear(&e);
		if ((sent = mailer_pass(m, now, &fetched, &e)) == -1 &&
		    e.code == ERR_RETRY) {
			/* another node's drain wrote the same rows (a
			 * serialization failure): go again soon, at a
			 * random moment, not after a whole poll */
			usleep(20000 + randombytes_uniform(180000));
			continue;
		}
		if (sent == -1) {
			log_warnx("mail outbox: %s", e.msg);
			fetched = 0;
		}
		/* a full batch means more may be due right away, and so does
		 * a sent mail: the next one to its address waited for it;
		 * held back by rate_n, wait for the window (or a stop) */
		if (m->held_until != 0) {
			note_retry(m, m->held_until);
			mailer_wait(m, now);
		} else if (fetched < MAILER_BATCH && sent <= 0) {
			mailer_note_next(m);
			mailer_wait(m, now);
		}
	}
	return NULL;
}

/* Start the drain thread. */
int
mailer_start(struct mailer *m, struct err *e)
{
	int rc;

	if (m->started)
		return err_set(e, ERR_INTERNAL, "mailer already started");
	if (m->role != MAILER_SERVE)
		return err_set(e, ERR_INTERNAL, "mailer: only serve's drains "
		    "on a thread");
	if (m->node) {
		if ((rc = store_node_join(m->s, m->owner, e)) == -1)
			return -1;
		m->watch = rc == 0;
		/* a predecessor of a keydird before nodes, too */
		if (mailer_reclaim(m, m->legacy, "a keydird serve that ended",
		    e) == -1)
			return -1;
	}
	if (mailer_reclaim(m, m->owner, "a keydird serve that ended",
	    e) == -1)
		return -1;
	if ((rc = pthread_create(&m->thread, NULL, mailer_main, m)) != 0)
		return err_set(e, ERR_INTERNAL, "mailer thread: %s",
		    strerror(rc));
	m->started = true;
	return 0;
}

/* Wake the thread: new rows were committed. */
void
mailer_kick(struct mailer *m)
{
	if (m == NULL)
		return;
	pthread_mutex_lock(&m->mu);
	m->kicked = true;
	pthread_cond_signal(&m->cv);
	pthread_mutex_unlock(&m->mu);
}

/* Let the message in flight finish, stop the thread, free m. */
void
mailer_free(struct mailer *m)
{
	if (m == NULL)
		return;
	if (m->started) {
		pthread_mutex_lock(&m->mu);
		atomic_store(&m->stop, 1);
		pthread_cond_signal(&m->cv);
		pthread_mutex_unlock(&m->mu);
		pthread_join(m->thread, NULL);
	}
	pthread_cond_destroy(&m->cv);
	pthread_mutex_destroy(&m->mu);
	free(m->url);
	free(m->user);
	free_secret(m->pass);
	free(m->from);
	free(m->dir);
	free(m->owner);
	free(m->legacy);
	free(m);
}
