/*
 * http_pool: the work pool (http_int.h).  Jobs are requests whose
 * connection libmicrohttpd holds suspended; a worker runs one and resumes
 * its connection, and libmicrohttpd calls the access handler again to
 * send the answer.  On stop, the running jobs finish; the queued ones are
 * answered 503 without running, so a stop never waits for a full queue.
 */
#include <stdlib.h>
#include <string.h>

#include "http_int.h"
#include "log.h"
#include "routes.h"
#include "xmalloc.h"

static void *
pool_main(void *arg)
{
	struct http *h = arg;
	struct pool *p = &h->pool;
	struct http_req *hr;

	for (;;) {
		pthread_mutex_lock(&p->mu);
		while (p->head == NULL && !p->stop)
			pthread_cond_wait(&p->cv, &p->mu);
		if (p->stop) {
			pthread_mutex_unlock(&p->mu);
			return NULL;
		}
		hr = p->head;
		if ((p->head = hr->next) == NULL)
			p->tail = NULL;
		p->queued--;
		pthread_mutex_unlock(&p->mu);
		http_run(h, hr);
	}
}

int
pool_submit(struct http *h, struct MHD_Connection *conn, struct http_req *hr)
{
	struct pool *p = &h->pool;

	pthread_mutex_lock(&p->mu);
	if (p->queued >= p->max || p->stop) {
		pthread_mutex_unlock(&p->mu);
		return -1;
	}
	hr->conn = conn;
	hr->next = NULL;
	MHD_suspend_connection(conn);
	if (p->tail)
		p->tail->next = hr;
	else
		p->head = hr;
	p->tail = hr;
	p->queued++;
	pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->mu);
	return 0;
}

void
pool_start(struct http *h, unsigned n, unsigned max)
{
	struct pool *p = &h->pool;

	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	p->max = max;
	p->th = xcalloc(n ? n : 1, sizeof(*p->th));
	for (p->nth = 0; p->nth < n; p->nth++)
		if (pthread_create(&p->th[p->nth], NULL, pool_main, h) != 0)
			log_fatalx("cannot start the upload workers");
}

void
pool_stop(struct http *h)
{
	struct pool *p = &h->pool;
	struct http_req *hr, *next;
	struct err e;
	unsigned i;

	pthread_mutex_lock(&p->mu);
	p->stop = true;
	hr = p->head;
	p->head = p->tail = NULL;
	p->queued = 0;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	for (i = 0; i < p->nth; i++)
		pthread_join(p->th[i], NULL);
	p->nth = 0;
	err_set(&e, ERR_UNAVAIL, "The server is stopping.");
	for (; hr; hr = next) {
		next = hr->next;
		routes_refuse(&hr->r, &hr->w, &e, 5);
		hr->done = true;
		MHD_resume_connection(hr->conn);
	}
}

void
pool_free(struct http *h)
{
	struct pool *p = &h->pool;

	free(p->th);
	p->th = NULL;
	pthread_cond_destroy(&p->cv);
	pthread_mutex_destroy(&p->mu);
}
