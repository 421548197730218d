/*
 * xfer_import: keydird import as a pipeline.  The calling thread reads
 * lines; one worker per core decodes, parses and strips each key and
 * builds its published form (librnp, one ffi per call); one writer stores
 * the results (dir_import_store) in transactions of XFER_BATCH keys.  The
 * threads share nothing but the two bounded queues and a stop flag.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"
#include "directory.h"
#include "log.h"
#include "str.h"
#include "xfer.h"
#include "xmalloc.h"

#define XFER_BATCH 1000		/* keys per write transaction */
#define XFER_QLEN 256		/* items per queue */
#define XFER_MAXW 16		/* worker threads at most */
#define XFER_PROGRESS 100000	/* log every this many keys */

/* A bounded blocking FIFO of pointers. */
struct xq {
	pthread_mutex_t mu;
	pthread_cond_t more, room;
	void *v[XFER_QLEN];
	size_t head, n;
};

/* A line for a worker; text NULL marks the end. */
struct xjob {
	size_t line;
	char *text;
	size_t len;
};

/* A worker's answer for one line; end marks a worker that finished. */
struct xres {
	size_t line;
	bool end;
	bool failed;
	struct err err;
	struct xfer_key k;	/* full freed once prepared; addrs kept */
	struct dir_import *imp;
};

struct ximp {
	struct daemon *d;
	int64_t now;		/* the import's clock */
	struct xq jobs, results;
	size_t nworkers;
	atomic_bool stop;
	struct xfer_report *r;
	struct err err;		/* the writer's first error */
	bool failed;
};

/* Start an empty queue. */
static void
xq_init(struct xq *q)
{
	memset(q, 0, sizeof(*q));
	pthread_mutex_init(&q->mu, NULL);
	pthread_cond_init(&q->more, NULL);
	pthread_cond_init(&q->room, NULL);
}

/* Free a queue's locks (it must be empty). */
static void
xq_release(struct xq *q)
{
	pthread_cond_destroy(&q->room);
	pthread_cond_destroy(&q->more);
	pthread_mutex_destroy(&q->mu);
}

/* Append p, waiting for room. */
static void
xq_push(struct xq *q, void *p)
{
	pthread_mutex_lock(&q->mu);
	while (q->n == XFER_QLEN)
		pthread_cond_wait(&q->room, &q->mu);
	q->v[(q->head + q->n++) % XFER_QLEN] = p;
	pthread_cond_signal(&q->more);
	pthread_mutex_unlock(&q->mu);
}

/* Take the oldest item, waiting for one. */
static void *
xq_pop(struct xq *q)
{
	void *p;

	pthread_mutex_lock(&q->mu);
	while (q->n == 0)
		pthread_cond_wait(&q->more, &q->mu);
	p = q->v[q->head];
	q->head = (q->head + 1) % XFER_QLEN;
	q->n--;
	pthread_cond_signal(&q->room);
	pthread_mutex_unlock(&q->mu);
	return p;
}

/* Free a result and what it owns. */
static void
xres_free(struct xres *x)
{
	dir_import_free(x->imp);
	xfer_key_release(&x->k);
	free(x);
}

/*
 * When the published form last changed, as far as the export tells: the
 * latest of the first upload and the publication of each address.
 */
static int64_t
xres_updated(const struct xfer_key *k)
{
	int64_t t = k->first_stored;

	for (size_t i = 0; i < k->naddrs; i++)
		if (k->addrs[i].published > t)
			t = k->addrs[i].published;
	return t;
}

/* The expensive part of one line: decode, parse, strip, publish. */
static int
xres_build(struct ximp *x, const struct xjob *j, struct xres *res)
{
	struct xfer_key *k = &res->k;

	if (xfer_key_parse(j->text, j->len, k, &res->err) == -1)
		return -1;
	res->imp = dir_import_prepare(x->d, k->fpr, k->full, k->full_len,
	    k->addrs, k->naddrs, k->first_stored, k->had_address,
	    xres_updated(k), &res->err);
	if (res->imp != NULL && k->recovery != NULL)
		dir_import_recovery(res->imp, k->recovery, k->recovery_len,
		    k->recovery_updated);
	free(k->full);
	k->full = NULL;
	return res->imp == NULL ? -1 : 0;
}

/* Worker thread: jobs in, results out, until the end marker. */
static void *
xfer_worker(void *arg)
{
	struct ximp *x = arg;
	struct xjob *j;
	struct xres *res;

	while ((j = xq_pop(&x->jobs))->text != NULL) {
		if (atomic_load(&x->stop)) {
			free(j->text);
			free(j);
			continue;
		}
		res = xcalloc(1, sizeof(*res));
		res->line = j->line;
		res->failed = xres_build(x, j, res) == -1;
		free(j->text);
		free(j);
		xq_push(&x->results, res);
	}
	free(j);
	res = xcalloc(1, sizeof(*res));
	res->end = true;
	xq_push(&x->results, res);
	return NULL;
}

/* Take one result: store it, opening and committing batches. */
static int
xfer_take(struct ximp *x, const struct xres *res, size_t *inbatch,
    struct err *e)
{
	bool merged = false;

	if (res->failed) {
		x->r->line = res->line;
		return err_set(e, res->err.code, "%s", res->err.msg);
	}
	if (*inbatch == 0 && store_begin(x->d->store, e) == -1)
		return -1;
	(*inbatch)++;
	if (dir_import_store(x->d, res->imp, x->now, &merged, e) == -1) {
		x->r->line = res->line;
		return -1;
	}
	x->r->keys++;
	x->r->addrs += res->k.naddrs;
	x->r->merged += merged;
	if (*inbatch < XFER_BATCH)
		return 0;
	*inbatch = 0;
	if (store_commit(x->d->store, e) == -1)
		return -1;
	x->r->committed = x->r->keys;
	if (x->r->committed % XFER_PROGRESS == 0)
		log_info("import: %zu keys stored", x->r->committed);
	return 0;
}

/* Writer thread: results in batches until every worker has ended. */
static void *
xfer_writer(void *arg)
{
	struct ximp *x = arg;
	struct xres *res;
	size_t ended = 0, inbatch = 0;

	while (ended < x->nworkers) {
		res = xq_pop(&x->results);
		if (res->end)
			ended++;
		else if (!x->failed && xfer_take(x, res, &inbatch,
		    &x->err) == -1) {
			x->failed = true;
			atomic_store(&x->stop, true);
			if (inbatch > 0)
				store_rollback(x->d->store);
			inbatch = 0;
		}
		xres_free(res);
	}
	if (inbatch > 0 && store_commit(x->d->store, &x->err) == -1)
		x->failed = true;
	else if (!x->failed)
		x->r->committed = x->r->keys;
	return NULL;
}

/* Worker threads: one per online core, within 1..XFER_MAXW. */
static size_t
xfer_nworkers(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	if (n < 1)
		return 1;
	return n > XFER_MAXW ? XFER_MAXW : (size_t)n;
}

/* Read the header line; ERR_INVALID when it is not ours. */
static int
xfer_read_header(FILE *in, char **line, size_t *cap, struct err *e)
{
	struct err he;
	ssize_t len;

	if ((len = getline(line, cap, in)) <= 0)
		return err_set(e, ERR_INVALID,
		    "line 1: empty input, no header");
	if ((*line)[len - 1] == '\n')
		len--;
	if (xfer_header_check(*line, (size_t)len, &he) == -1)
		return err_set(e, ERR_INVALID, "line 1: %s", he.msg);
	return 0;
}

/*
 * Hand every further line of in to the workers until the end or a stop;
 * then one end marker per worker.  -1 with e set (and *bad the line) for
 * a line that is too long or unreadable input.
 */
static int
xfer_feed(struct ximp *x, FILE *in, char **line, size_t *cap, size_t *bad,
    struct err *e)
{
	struct xjob *j;
	size_t lineno = 1;
	ssize_t len;
	int rc = 0;

	while (!atomic_load(&x->stop) && (len = getline(line, cap, in)) > 0) {
		lineno++;
		if ((*line)[len - 1] == '\n')
			len--;
		if ((size_t)len > XFER_LINE_MAX) {
			*bad = lineno;
			rc = err_set(e, ERR_INVALID, "line too long");
			break;
		}
		j = xmalloc(sizeof(*j));
		j->line = lineno;
		j->text = xmemdup(*line, (size_t)len + 1);
		j->len = (size_t)len;
		xq_push(&x->jobs, j);
	}
	if (rc == 0 && ferror(in))
		rc = err_set(e, ERR_INTERNAL, "read error after line %zu",
		    lineno);
	if (rc == -1)
		atomic_store(&x->stop, true);
	for (size_t i = 0; i < x->nworkers; i++)
		xq_push(&x->jobs, xcalloc(1, sizeof(struct xjob)));
	return rc;
}

/* Run the pipeline over the lines after the header. */
static int
xfer_run(struct ximp *x, FILE *in, char **line, size_t *cap, struct err *e)
{
	pthread_t w[XFER_MAXW], wr;
	char msg[sizeof(e->msg)];
	size_t i, bad = 0;
	int rc;

	xq_init(&x->jobs);
	xq_init(&x->results);
	for (i = 0; i < x->nworkers; i++)
		if (pthread_create(&w[i], NULL, xfer_worker, x) != 0)
			log_fatalx("import: cannot start a worker thread");
	if (pthread_create(&wr, NULL, xfer_writer, x) != 0)
		log_fatalx("import: cannot start the writer thread");
	rc = xfer_feed(x, in, line, cap, &bad, e);
	for (i = 0; i < x->nworkers; i++)
		pthread_join(w[i], NULL);
	pthread_join(wr, NULL);
	xq_release(&x->jobs);
	xq_release(&x->results);
	if (x->failed) {
		/* a line the writer refused stopped the reader */
		*e = x->err;
		rc = -1;
	} else if (rc == -1)
		x->r->line = bad;
	if (rc == -1 && x->r->line > 0) {
		str_lcpy(msg, e->msg, sizeof(msg));
		err_set(e, e->code, "line %zu: %s", x->r->line, msg);
	}
	return rc;
}

/* Import an export; see xfer.h. */
int
xfer_import(struct daemon *d, FILE *in, struct xfer_report *r,
    struct err *e)
{
	struct ximp *x;
	struct timespec t0, t1;
	char *line = NULL;
	size_t cap = 0;
	int rc = -1;

	memset(r, 0, sizeof(*r));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (xfer_read_header(in, &line, &cap, e) == -1) {
		r->line = 1;
		goto out;
	}
	x = xcalloc(1, sizeof(*x));
	x->d = d;
	x->now = time(NULL);
	x->nworkers = xfer_nworkers();
	x->r = r;
	atomic_init(&x->stop, false);
	rc = xfer_run(x, in, &line, &cap, e);
	free(x);
out:
	free(line);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	r->seconds = (double)(t1.tv_sec - t0.tv_sec) +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	return rc;
}
