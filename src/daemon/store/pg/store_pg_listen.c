/*
 * store_pg_listen: what lets a node answer lookups from its cache or
 * from a replica without ever answering, more than a second after a
 * change commits, what the change removed.
 *
 * The listener.  One connection of its own (application_name
 * keydird-listen) LISTENs on keydir_lookup, where schema 2's triggers
 * name every change to certs, keyids and addresses; each name drops
 * what it names from the cache (store_pg_cache.c).  Every PGL_BEAT_MS it
 * also sends a heartbeat: NOTIFY on a channel only this node listens
 * on, in the same query as a sample of the primary's WAL position.
 * PostgreSQL delivers notifications in the order of the notification
 * queue, and a transaction that committed before the heartbeat was sent
 * queued its notifications before the heartbeat's: so when the
 * heartbeat comes back, every change committed before it was sent has
 * been applied.  `proven` is that send time.  The cache is used only
 * while proven is at most PGL_WINDOW_MS old: a lookup at time t hits
 * only if every change committed before t - PGL_WINDOW_MS is applied.
 * When the connection is lost (or a heartbeat is not answered in
 * PGL_LOST_MS), the cache is flushed and unused until a new connection
 * has listened and a heartbeat has come back.
 *
 * The replica watcher.  A second thread asks the replica (its own
 * connection, application_name keydird-read) every PGL_POLL_MS how far it
 * has replayed, and finds the newest WAL sample it has passed (the
 * listener keeps the last PGL_SAMPLES, at least PGL_SAMPLE_MS apart, so
 * that a replica a little behind a busy primary still passes one); the
 * replica then holds every change committed before that sample's
 * heartbeat was sent: `replica_as_of`.
 * Lookups go to the replica only while replica_as_of is at most
 * PGL_WINDOW_MS old, and to the primary otherwise: a replica that lags,
 * has paused replay, was promoted or is gone is not read.
 *
 * So the promise: a change is seen by every lookup of every node that
 * starts PGL_WINDOW_MS after its commit.  tests/e2e/44-nodes-cache.sh and
 * 43-replica.sh measure it.
 *
 * A node's own writes are seen by its cache at once: a client that
 * uploads and then looks up on the same node gets what it uploaded.
 * pgl_settle, after each write unit commits (store_pg.c), counts the
 * commit, wakes the listener, which sends a heartbeat at once, and waits
 * until a heartbeat sent after that commit has come back, so the
 * commit's names are applied before the unit's caller answers (about a
 * round trip).  Should that take PGL_SETTLE_MS, or the cache not be in
 * use at the time, the cache is emptied instead.  The replica is not
 * waited for: a lookup there may miss the node's own change for up to
 * PGL_WINDOW_MS, like any other.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "log.h"
#include "store_pg_int.h"
#include "str.h"
#include "xmalloc.h"

#define PGL_BEAT_MS 100
#define PGL_POLL_MS 100
#define PGL_LOST_MS 5000
#define PGL_SAMPLES 32		/* WAL samples kept: 32 * 20 ms > the window */
#define PGL_SAMPLE_MS 20
#define PGL_SETTLE_MS 100	/* a commit waits this long for its heartbeat */

struct pg_listen {
	char *conninfo;		/* the primary */
	char *read_conninfo;	/* the replica, or NULL */
	struct pg_cache *cache;	/* or NULL */
	pthread_t thread, rthread;
	bool rthread_on;
	atomic_bool stop;
	_Atomic int64_t proven;		/* see above; 0: never */
	_Atomic int64_t replica_as_of;	/* 0: never */
	pthread_mutex_t mu;
	struct {
		int64_t at;		/* a WAL position taken after this */
		uint64_t lsn;
	} sample[PGL_SAMPLES];		/* (mu) a ring; the newest at
					 * (nsample - 1) % PGL_SAMPLES */
	unsigned nsample;
	char chan[32];			/* this node's heartbeat channel */
	/* the node's own commits (pgl_settle) */
	_Atomic uint64_t commits;	/* counted so far */
	uint64_t settled;		/* how many of them the last heartbeat
					 * back was sent after (mu) */
	pthread_cond_t moved;		/* settled moved, or proven went 0 */
	int wake[2];			/* a pipe: a commit wants a heartbeat */
};

static void
notice_quiet(void *arg, const char *msg)
{
	(void)arg;
	(void)msg;
}

int64_t
pg_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

PGconn *
pg_connect_as(const char *conninfo, const char *app, struct err *e)
{
	const char *const keys[] = { "dbname", "application_name", NULL };
	const char *const vals[] = { conninfo, app, NULL };
	PGconn *c = PQconnectdbParams(keys, vals, 1);

	if (PQstatus(c) != CONNECTION_OK) {
		err_set(e, ERR_RETRY, "database: cannot connect: %.*s",
		    (int)strcspn(PQerrorMessage(c), "\n"), PQerrorMessage(c));
		PQfinish(c);
		return NULL;
	}
	PQsetNoticeProcessor(c, notice_quiet, NULL);
	return c;
}

static void
nap(struct pg_listen *l, int ms)
{
	struct timespec ts = { 0, 20 * 1000000 };

	for (; ms > 0 && !atomic_load(&l->stop); ms -= 20)
		nanosleep(&ts, NULL);
}

/* A new listening connection, or NULL (logged once per outage). */
static PGconn *
listen_open(struct pg_listen *l, bool *quiet)
{
	struct err e;
	PGconn *c;
	PGresult *r;
	char sql[96];

	if ((c = pg_connect_as(l->conninfo, "keydird-listen", &e)) == NULL) {
		if (!*quiet)
			log_warnx("lookup cache: off: %s", e.msg);
		*quiet = true;
		return NULL;
	}
	snprintf(sql, sizeof(sql), "LISTEN keydir_lookup; LISTEN %s", l->chan);
	r = PQexec(c, sql);
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		if (!*quiet)
			log_warnx("lookup cache: off: LISTEN: %.*s",
			    (int)strcspn(PQresultErrorMessage(r), "\n"),
			    PQresultErrorMessage(r));
		*quiet = true;
		PQclear(r);
		PQfinish(c);
		return NULL;
	}
	PQclear(r);
	PQsetnonblocking(c, 1);
	/* what was kept may have missed changes while nobody listened */
	if (l->cache != NULL)
		pgc_flush(l->cache, pg_now_ms());
	if (*quiet)
		log_info("lookup cache: listening again");
	*quiet = false;
	return c;
}

/* An LSN as PostgreSQL prints it ("16/B374D848"); false if it is not. */
static bool
lsn_parse(const char *t, uint64_t *out)
{
	unsigned long hi, lo;
	char *end;

	hi = strtoul(t, &end, 16);
	if (end == t || *end != '/' || hi > UINT32_MAX)
		return false;
	t = end + 1;
	lo = strtoul(t, &end, 16);
	if (end == t || *end != '\0' || lo > UINT32_MAX)
		return false;
	*out = (uint64_t)hi << 32 | lo;
	return true;
}

/* Keep the WAL position lsn, taken after at: the newest sample moves
 * on until it is PGL_SAMPLE_MS past the one before it, so the kept ones
 * are that far apart. */
static void
sample_add(struct pg_listen *l, int64_t at, uint64_t lsn)
{
	unsigned n;

	pthread_mutex_lock(&l->mu);
	n = l->nsample;
	if (n >= 2 && l->sample[(n - 1) % PGL_SAMPLES].at -
	    l->sample[(n - 2) % PGL_SAMPLES].at < PGL_SAMPLE_MS)
		n--;		/* the newest moves */
	else
		l->nsample++;
	l->sample[n % PGL_SAMPLES].at = at;
	l->sample[n % PGL_SAMPLES].lsn = lsn;
	pthread_mutex_unlock(&l->mu);
}

/* The newest sample a replica that replayed up to lsn has passed: its
 * time, 0 if none. */
static int64_t
sample_passed(struct pg_listen *l, uint64_t lsn)
{
	int64_t at = 0;
	unsigned i, k;

	pthread_mutex_lock(&l->mu);
	for (i = 0; i < l->nsample && i < PGL_SAMPLES; i++) {
		k = (l->nsample - 1 - i) % PGL_SAMPLES;
		if (l->sample[k].lsn <= lsn) {
			at = l->sample[k].at;
			break;
		}
	}
	pthread_mutex_unlock(&l->mu);
	return at;
}

/* Read what c has: results of the heartbeat query, notifications.
 * -1 when the connection is lost. */
static int
listen_read(struct pg_listen *l, PGconn *c, bool *busy, uint32_t beat,
    int64_t beat_at, uint64_t beat_covers, bool *back)
{
	PGnotify *n;
	PGresult *r;
	uint64_t lsn;

	if (!PQconsumeInput(c))
		return -1;
	while (*busy && !PQisBusy(c)) {
		if ((r = PQgetResult(c)) == NULL) {
			*busy = false;
			break;
		}
		if (PQresultStatus(r) == PGRES_TUPLES_OK &&
		    PQntuples(r) == 1) {
			if (lsn_parse(PQgetvalue(r, 0, 0), &lsn))
				sample_add(l, beat_at, lsn);
		} else if (PQresultStatus(r) != PGRES_COMMAND_OK) {
			log_warnx("lookup cache: heartbeat: %.*s",
			    (int)strcspn(PQresultErrorMessage(r), "\n"),
			    PQresultErrorMessage(r));
			PQclear(r);
			return -1;
		}
		PQclear(r);
	}
	while ((n = PQnotifies(c)) != NULL) {
		if (!strcmp(n->relname, l->chan)) {
			if (strtoul(n->extra, NULL, 10) == beat) {
				atomic_store(&l->proven, beat_at);
				*back = true;
				pthread_mutex_lock(&l->mu);
				if (beat_covers > l->settled)
					l->settled = beat_covers;
				pthread_cond_broadcast(&l->moved);
				pthread_mutex_unlock(&l->mu);
			}
		} else if (l->cache != NULL)
			pgc_inval(l->cache, n->extra, pg_now_ms());
		PQfreemem(n);
	}
	return 0;
}

/* The cache is not used from now on: nobody need wait for it. */
static void
unproven(struct pg_listen *l)
{
	pthread_mutex_lock(&l->mu);
	atomic_store(&l->proven, 0);
	pthread_cond_broadcast(&l->moved);
	pthread_mutex_unlock(&l->mu);
}

static void *
listen_main(void *arg)
{
	struct pg_listen *l = arg;
	PGconn *c = NULL;
	struct pollfd pfd[2];
	bool busy = false, back = true, quiet = false;
	uint32_t beat = 0;
	uint64_t beat_covers = 0;
	int64_t beat_at = 0, now;
	char sql[128], drain[64];

	while (!atomic_load(&l->stop)) {
		if (c == NULL) {
			unproven(l);
			if ((c = listen_open(l, &quiet)) == NULL) {
				nap(l, PGL_BEAT_MS);
				continue;
			}
			busy = false;
			back = true;
		}
		now = pg_now_ms();
		if (back && !busy && (now - beat_at >= PGL_BEAT_MS ||
		    atomic_load(&l->commits) != beat_covers)) {
			/* read before the send: those commits are done, and
			 * their names queued before this heartbeat's */
			beat_covers = atomic_load(&l->commits);
			beat++;
			/* the insert position: a commit is inserted before
			 * it returns, but with synchronous_commit = off may
			 * be written later (pg_current_wal_lsn is the
			 * written one) */
			snprintf(sql, sizeof(sql), "NOTIFY %s, '%" PRIu32 "'; "
			    "SELECT pg_current_wal_insert_lsn()::text", l->chan,
			    beat);
			if (!PQsendQuery(c, sql))
				goto lost;
			beat_at = now;
			busy = true;
			back = false;
		}
		if (!back && now - beat_at > PGL_LOST_MS) {
			log_warnx("lookup cache: no heartbeat for %d ms",
			    PGL_LOST_MS);
			goto lost;
		}
		PQflush(c);
		pfd[0].fd = PQsocket(c);
		pfd[0].events = POLLIN;
		pfd[1].fd = l->wake[0];
		pfd[1].events = POLLIN;
		if (poll(pfd, 2, 20) == -1 || (pfd[0].revents & (POLLERR |
		    POLLHUP | POLLNVAL)))
			goto lost;
		if (pfd[1].revents & POLLIN)
			while (read(l->wake[0], drain, sizeof(drain)) > 0)
				;
		if (listen_read(l, c, &busy, beat, beat_at, beat_covers,
		    &back) == -1)
			goto lost;
		continue;
lost:
		if (!quiet)
			log_warnx("lookup cache: off: the listening "
			    "connection is lost%s%.*s", PQerrorMessage(c)[0] ?
			    ": " : "", (int)strcspn(PQerrorMessage(c), "\n"),
			    PQerrorMessage(c));
		quiet = true;
		unproven(l);
		PQfinish(c);
		c = NULL;
	}
	if (c != NULL)
		PQfinish(c);
	return NULL;
}

static void *
replica_main(void *arg)
{
	struct pg_listen *l = arg;
	PGconn *c = NULL;
	PGresult *r;
	struct err e;
	uint64_t lsn;
	int64_t at;
	bool fresh = false, ok, sampled;

	while (!atomic_load(&l->stop)) {
		nap(l, PGL_POLL_MS);
		pthread_mutex_lock(&l->mu);
		sampled = l->nsample > 0;
		pthread_mutex_unlock(&l->mu);
		if (!sampled)		/* nothing to compare with yet */
			continue;
		if (c == NULL && (c = pg_connect_as(l->read_conninfo,
		    "keydird-read", &e)) == NULL) {
			if (fresh)
				log_warnx("replica: not read: %s", e.msg);
			fresh = false;
			nap(l, PGL_BEAT_MS);
			continue;
		}
		r = PQexec(c, "SELECT pg_last_wal_replay_lsn()::text "
		    "WHERE pg_is_in_recovery()");
		at = 0;
		if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 &&
		    lsn_parse(PQgetvalue(r, 0, 0), &lsn))
			at = sample_passed(l, lsn);
		ok = at != 0 && pg_now_ms() - at <= PGL_WINDOW_MS;
		if (ok && at > atomic_load(&l->replica_as_of))
			atomic_store(&l->replica_as_of, at);
		if (ok != fresh && (ok || pg_now_ms() - atomic_load(
		    &l->replica_as_of) > PGL_WINDOW_MS)) {
			if (ok)
				log_info("replica: read for lookups");
			else
				log_warnx("replica: not read: it is behind, "
				    "paused or not a replica");
			fresh = ok;
		}
		PQclear(r);
		if (PQstatus(c) != CONNECTION_OK) {
			PQfinish(c);
			c = NULL;
		}
	}
	if (c != NULL)
		PQfinish(c);
	return NULL;
}

struct pg_listen *
pgl_start(const char *conninfo, const char *read_conninfo,
    struct pg_cache *cache, struct err *e)
{
	struct pg_listen *l = xcalloc(1, sizeof(*l));
	pthread_condattr_t ca;
	uint8_t rnd[8];
	size_t i;

	l->conninfo = xstrdup(conninfo);
	l->read_conninfo = read_conninfo ? xstrdup(read_conninfo) : NULL;
	l->cache = cache;
	pthread_mutex_init(&l->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&l->moved, &ca);
	pthread_condattr_destroy(&ca);
	if (pipe(l->wake) == -1) {
		err_set(e, ERR_INTERNAL, "store: pipe: %s", strerror(errno));
		l->wake[0] = l->wake[1] = -1;
		goto fail;
	}
	for (i = 0; i < 2; i++) {
		fcntl(l->wake[i], F_SETFL, O_NONBLOCK);
		fcntl(l->wake[i], F_SETFD, FD_CLOEXEC);
	}
	randombytes_buf(rnd, sizeof(rnd));
	str_lcpy(l->chan, "keydir_beat_", sizeof(l->chan));
	for (i = 0; i < sizeof(rnd); i++)
		snprintf(l->chan + 12 + 2 * i, 3, "%02x", rnd[i]);
	if (pthread_create(&l->thread, NULL, listen_main, l) != 0) {
		err_set(e, ERR_INTERNAL, "store: cannot start the listener");
		goto fail;
	}
	if (l->read_conninfo != NULL) {
		if (pthread_create(&l->rthread, NULL, replica_main, l) != 0) {
			atomic_store(&l->stop, true);
			pthread_join(l->thread, NULL);
			err_set(e, ERR_INTERNAL, "store: cannot start the "
			    "replica watcher");
			goto fail;
		}
		l->rthread_on = true;
	}
	return l;
fail:
	if (l->wake[0] != -1) {
		close(l->wake[0]);
		close(l->wake[1]);
	}
	pthread_cond_destroy(&l->moved);
	pthread_mutex_destroy(&l->mu);
	free(l->conninfo);
	free(l->read_conninfo);
	free(l);
	return NULL;
}

void
pgl_settle(struct pg_listen *l)
{
	struct timespec until;
	uint64_t mine;
	bool late;
	int rc = 0;

	if (l == NULL || l->cache == NULL)
		return;
	mine = atomic_fetch_add(&l->commits, 1) + 1;
	/* a cache not in use now (no proof, or an old one: the database is
	 * slow) is not waited for; what it holds goes instead, so that it
	 * answers nothing older than the commit when it is used again */
	if (!pgl_cache_ok(l, pg_now_ms())) {
		pgc_flush(l->cache, pg_now_ms());
		return;
	}
	if (write(l->wake[1], "", 1) == -1) {
		/* full: a wake-up is pending already */
	}
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_nsec += PGL_SETTLE_MS * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&l->mu);
	while (l->settled < mine && atomic_load(&l->proven) != 0 && rc == 0)
		rc = pthread_cond_timedwait(&l->moved, &l->mu, &until);
	late = l->settled < mine;
	pthread_mutex_unlock(&l->mu);
	/* not in time, or the listener lost its connection meanwhile: the
	 * cache may hold what the commit changed, so none of it */
	if (late)
		pgc_flush(l->cache, pg_now_ms());
}

bool
pgl_cache_ok(struct pg_listen *l, int64_t now)
{
	int64_t p = atomic_load(&l->proven);

	return p != 0 && now - p <= PGL_WINDOW_MS;
}

bool
pgl_replica_ok(struct pg_listen *l, int64_t now, int64_t *as_of)
{
	*as_of = atomic_load(&l->replica_as_of);
	return l->read_conninfo != NULL && *as_of != 0 &&
	    now - *as_of <= PGL_WINDOW_MS;
}

void
pgl_stop(struct pg_listen *l)
{
	if (l == NULL)
		return;
	atomic_store(&l->stop, true);
	pthread_join(l->thread, NULL);
	if (l->rthread_on)
		pthread_join(l->rthread, NULL);
	close(l->wake[0]);
	close(l->wake[1]);
	pthread_cond_destroy(&l->moved);
	pthread_mutex_destroy(&l->mu);
	free(l->conninfo);
	free(l->read_conninfo);
	free(l);
}
