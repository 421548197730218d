/*
 * http_int: what http.c shares with http_pool.c (the work pool) and
 * http_who.c (who a request is from, and how many connections each
 * client has open).  Private to the http folder.
 */
#ifndef KEYDIR_HTTP_INT_H
#define KEYDIR_HTTP_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include <netinet/in.h>
#include <sys/socket.h>

#include <microhttpd.h>

#include "config.h"
#include "http.h"

struct http_req;

/*
 * The work pool: requests that verify signatures (ROUTE_HEAVY) run on
 * its threads while their connection is suspended, so however many of
 * them come, libmicrohttpd's threads stay free for lookups.  A full
 * queue answers 503 at once.
 */
struct pool {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct http_req *head, *tail;
	unsigned queued, max;
	pthread_t *th;
	unsigned nth;
	bool stop;
};

#define WHO_PROXIES	16
#define WHO_SLOTS	8192	/* > the 4096 connections MHD takes */

/* A client's open connections. */
struct who_slot {
	char client[REQ_CLIENT_MAX];	/* "" when free */
	unsigned n;
};

/* One open connection (libmicrohttpd's socket context). */
struct who_conn {
	struct who_conn *prev, *next;
	char client[REQ_CLIENT_MAX];
	int fd;
	bool waiting;		/* for a request's headers, since phase_ms */
	int64_t phase_ms;
};

/* Who asks: the trusted proxies, and the connections per client. */
struct who {
	struct in6_addr proxy[WHO_PROXIES];	/* IPv4 as ::ffff:a.b.c.d */
	size_t nproxy;
	char header[64];		/* the proxies' header */
	unsigned cap;			/* connections per client; 0: none */
	pthread_mutex_t mu;
	struct who_slot *slot;		/* WHO_SLOTS, when cap */
	struct who_conn *conns;		/* every open connection */
	/* the watchdog: closes a connection whose request's headers take
	 * longer than header_timeout to come */
	int64_t header_ms;		/* 0: none */
	pthread_t dog;
	pthread_cond_t dog_cv;
	bool dog_on, dog_stop;
};

struct http {
	struct MHD_Daemon *mhd;
	struct daemon *d;
	size_t max_body;
	struct limit *lim;	/* NULL: rate_limits off */
	struct pool pool;
	struct who who;
};

struct http_req {
	struct req r;
	bool started;
	int status;
	size_t sent;
	struct timespec t0;
	char method[8];
	unsigned cost;		/* routes_cost */
	struct http *h;
	/* in the work pool: the connection to resume and the answer made */
	struct MHD_Connection *conn;
	struct http_req *next;
	struct resp w;
	bool done;
};

/* A monotonic clock in milliseconds. */
int64_t http_now_ms(void);
/* Dispatch hr (its w filled) and resume its connection: a pool job. */
void http_run(struct http *h, struct http_req *hr);

void pool_start(struct http *h, unsigned n, unsigned max);
/* Queue hr, suspending its connection; -1 when the queue is full or the
 * pool stopping. */
int pool_submit(struct http *h, struct MHD_Connection *conn,
    struct http_req *hr);
/* Finish the jobs running, answer the queued ones 503 unrun, join. */
void pool_stop(struct http *h);
/* After MHD has stopped: free what pool_start made. */
void pool_free(struct http *h);

/* Read c's trusted_proxies, proxy_header and connection cap into w. */
int who_init(struct who *w, const struct config *c, struct err *e);
void who_free(struct who *w);
/* r's client key: the peer's, or through a trusted proxy the address
 * its header names. */
void who_client(const struct who *w, struct MHD_Connection *conn,
    struct req *r);
/* libmicrohttpd's accept policy (cls is the struct who): refuse a client
 * with cap connections open. */
enum MHD_Result who_accept(void *cls, const struct sockaddr *sa,
    socklen_t len);
/* libmicrohttpd's connection notice: count opens and closes. */
void who_notify(void *cls, struct MHD_Connection *conn, void **sock_ctx,
    enum MHD_ConnectionNotificationCode toe);
/* conn's request has all its headers (true) or has ended and the next
 * one's are awaited (false). */
void who_headers(struct who *w, struct MHD_Connection *conn, bool done);
/* Start and stop the watchdog (when header_timeout is set). */
void who_watch(struct who *w);
void who_unwatch(struct who *w);

#endif
