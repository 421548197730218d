/*
 * scheduler: the maintenance thread of keydird serve.  It sleeps on a
 * condition variable so that shutdown does not wait out the period.
 * Several nodes on one database run their passes one at a time: a pass
 * runs only when the store gives this node the maintenance turn
 * (store_maint_try), and a node that finds another's pass running skips
 * its own until the next period.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

#include "daemon.h"
#include "directory.h"
#include "log.h"
#include "mail.h"
#include "scheduler.h"
#include "store.h"
#include "xmalloc.h"

struct scheduler {
	struct daemon *d;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stop;
};

/* One pass now if it is this node's turn, then wake the mailer for what
 * it queued. */
static void
scheduler_pass(struct scheduler *s)
{
	struct dir_maint m;
	struct err e;
	bool turn = false;

	if (store_maint_try(s->d->store, &turn, &e) == -1) {
		log_warnx("maintenance: %s", e.msg);
		return;
	}
	if (!turn) {
		log_info("maintenance: another node's pass is running; this "
		    "node's waits for the next period");
		return;
	}
	if (dir_maintain(s->d, time(NULL), &m, &e) == -1)
		log_warnx("maintenance: %s", e.msg);
	else if (m.asked && s->d->mailer)
		mailer_kick(s->d->mailer);
	store_maint_release(s->d->store);
}

/* The thread: a pass, then sleep for the period or until stopped. */
static void *
scheduler_main(void *arg)
{
	struct scheduler *s = arg;
	struct timespec ts;

	pthread_mutex_lock(&s->mu);
	while (!s->stop) {
		pthread_mutex_unlock(&s->mu);
		scheduler_pass(s);
		pthread_mutex_lock(&s->mu);
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += (time_t)s->d->cfg.maintain_every;
		while (!s->stop && pthread_cond_timedwait(&s->cv, &s->mu,
		    &ts) != ETIMEDOUT)
			;
	}
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

/* Start. */
struct scheduler *
scheduler_start(struct daemon *d, struct err *e)
{
	struct scheduler *s = xcalloc(1, sizeof(*s));
	pthread_condattr_t ca;

	s->d = d;
	pthread_mutex_init(&s->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->cv, &ca);
	pthread_condattr_destroy(&ca);
	if (pthread_create(&s->thread, NULL, scheduler_main, s) != 0) {
		pthread_cond_destroy(&s->cv);
		pthread_mutex_destroy(&s->mu);
		free(s);
		err_set(e, ERR_INTERNAL, "cannot start the scheduler thread");
		return NULL;
	}
	return s;
}

/* Stop and free. */
void
scheduler_stop(struct scheduler *s)
{
	if (s == NULL)
		return;
	pthread_mutex_lock(&s->mu);
	s->stop = true;
	pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
	pthread_join(s->thread, NULL);
	pthread_cond_destroy(&s->cv);
	pthread_mutex_destroy(&s->mu);
	free(s);
}
