/*
 * http: libmicrohttpd glue.  A thread pool with epoll; each request gets a
 * struct req made in the URI-log callback (which sees the raw target, so
 * '+' and '%2B' stay distinct) and freed when MHD reports it completed.
 * One log line per request.
 */
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <microhttpd.h>

#include "daemon.h"
#include "http_int.h"
#include "limit.h"
#include "log.h"
#include "routes.h"
#include "str.h"
#include "xmalloc.h"

/* The raw value of query argument name: 1 with *v, *len set, or 0. */
static int
query_find(const struct req *r, const char *name, const char **v,
    size_t *vlen)
{
	size_t nlen = strlen(name);
	const char *p = r->query;

	while (*p) {
		const char *end = strchr(p, '&');
		size_t len = end ? (size_t)(end - p) : strlen(p);

		if (len >= nlen && !strncmp(p, name, nlen) &&
		    (len == nlen || p[nlen] == '=')) {
			*v = len == nlen ? p + len : p + nlen + 1;
			*vlen = len == nlen ? 0 : len - nlen - 1;
			return 1;
		}
		p += len;
		if (*p == '&')
			p++;
	}
	return 0;
}

/* See http.h. */
char *
req_arg(const struct req *r, const char *name)
{
	const char *v;
	size_t len;

	return query_find(r, name, &v, &len) ? str_pct_decode(v, len) : NULL;
}

/* See http.h. */
char *
req_body_field(const struct req *r, const char *name, size_t nth)
{
	size_t nlen = strlen(name);
	const char *p = r->body.data;

	while (*p) {
		const char *end = strchr(p, '&');
		size_t len = end ? (size_t)(end - p) : strlen(p);

		if (len > nlen && !strncmp(p, name, nlen) && p[nlen] == '=' &&
		    nth-- == 0)
			return str_form_decode(p + nlen + 1, len - nlen - 1);
		p += len;
		if (*p == '&')
			p++;
	}
	return NULL;
}

/* See http.h. */
char *
req_form_arg(const struct req *r, const char *name)
{
	const char *v;
	size_t len;

	return query_find(r, name, &v, &len) ? str_form_decode(v, len) : NULL;
}

/* Add a response header. */
void
resp_header(struct resp *w, const char *name, const char *value)
{
	if (w->nhdr == RESP_MAX_HEADERS)
		log_fatalx("too many response headers");
	w->hname[w->nhdr] = name;
	w->hval[w->nhdr++] = xstrdup(value);
}

/* Status, type and formatted body. */
void
resp_printf(struct resp *w, int status, const char *ctype, const char *fmt,
    ...)
{
	va_list ap;

	w->status = status;
	w->ctype = ctype;
	buf_reset(&w->body);
	va_start(ap, fmt);
	if (buf_vprintf(&w->body, fmt, ap) == -1)
		log_warnx("response body over its cap");
	va_end(ap);
}

/* MHD hands us the raw target before anything else: make the request. */
static void *
http_uri_cb(void *cls, const char *uri, struct MHD_Connection *conn)
{
	struct http *h = cls;
	struct http_req *hr = xcalloc(1, sizeof(*hr));
	char *q;

	(void)conn;
	hr->h = h;
	hr->r.owner = hr;
	hr->r.uri = xstrdup(uri);
	q = strchr(hr->r.uri, '?');
	hr->r.path = hr->r.uri;
	if (q) {
		*q = '\0';
		hr->r.query = q + 1;
	} else
		hr->r.query = "";
	buf_init(&hr->r.body, h->max_body);
	clock_gettime(CLOCK_MONOTONIC, &hr->t0);
	return hr;
}

/* The path as logged: the tokens of link paths are secrets. */
static const char *
http_log_path(const char *path)
{
	static const char *const links[] = { "/verify/", "/manage/",
	    "/reverify/", "/recovery/" };
	size_t i;

	for (i = 0; i < sizeof(links) / sizeof(links[0]); i++)
		if (!strncmp(path, links[i], strlen(links[i])))
			return links[i];
	return path;
}

/* Log and free a finished request. */
static void
http_done_cb(void *cls, struct MHD_Connection *conn, void **req_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct http_req *hr = *req_cls;
	struct timespec t1;
	long us;

	(void)cls;
	(void)conn;
	if (hr == NULL)
		return;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	us = (t1.tv_sec - hr->t0.tv_sec) * 1000000L +
	    (t1.tv_nsec - hr->t0.tv_nsec) / 1000;
	/* confirmation tokens are secrets: never in the log */
	log_info("http %s %.200s%s%.200s %d %zu %ldus%s", hr->method,
	    http_log_path(hr->r.path),
	    *hr->r.query ? "?" : "", hr->r.query, hr->status, hr->sent, us,
	    toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " (aborted)");
	/* a kept-alive connection now waits for the next headers */
	who_headers(&hr->h->who, conn, false);
	buf_release(&hr->r.body);
	free(hr->r.uri);
	free(hr);
	*req_cls = NULL;
}

static enum http_method
http_method_of(const char *m)
{
	if (!strcmp(m, "GET"))
		return HTTP_GET;
	if (!strcmp(m, "HEAD"))
		return HTTP_HEAD;
	if (!strcmp(m, "POST"))
		return HTTP_POST;
	return HTTP_OTHER;
}

/* Hand w to MHD. */
static enum MHD_Result
http_queue(struct MHD_Connection *conn, struct http_req *hr, struct resp *w)
{
	struct MHD_Response *mr;
	enum MHD_Result ret;
	size_t len, i;
	char *body;
	bool hdr_ok = true;

	/* the one check of every append to the body (buf.h): a response
	 * that did not fit is never sent truncated */
	if (buf_failed(&w->body)) {
		log_warnx("%s %s: the response did not fit its buffer",
		    hr->method, http_log_path(hr->r.path));
		for (i = 0; i < w->nhdr; i++)
			free(w->hval[i]);
		w->nhdr = 0;
		resp_printf(w, 500, "text/plain; charset=utf-8", "%s\n",
		    "Internal error: the answer is too large.");
	}
	body = buf_detach(&w->body, &len);
	mr = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	if (mr == NULL) {
		free(body);
		for (i = 0; i < w->nhdr; i++)
			free(w->hval[i]);
		return MHD_NO;
	}
	if (w->ctype)
		hdr_ok = MHD_add_response_header(mr,
		    MHD_HTTP_HEADER_CONTENT_TYPE, w->ctype) == MHD_YES;
	for (i = 0; i < w->nhdr; i++) {
		if (MHD_add_response_header(mr, w->hname[i], w->hval[i]) !=
		    MHD_YES)
			hdr_ok = false;
		free(w->hval[i]);
	}
	if (!hdr_ok) {
		/* a header libmicrohttpd refused: no answer beats a wrong
		 * one (a lookup without its ETag or content type) */
		log_warnx("%s %s: a response header was refused", hr->method,
		    http_log_path(hr->r.path));
		MHD_destroy_response(mr);
		return MHD_NO;
	}
	hr->status = w->status;
	hr->sent = len;
	ret = MHD_queue_response(conn, (unsigned)w->status, mr);
	MHD_destroy_response(mr);
	return ret;
}

int64_t
http_now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

void
http_run(struct http *h, struct http_req *hr)
{
	routes_dispatch(h->d, &hr->r, &hr->w);
	hr->done = true;
	MHD_resume_connection(hr->conn);
}

/* The limit buckets a route's cost draws on. */
static unsigned http_buckets(unsigned cost);

unsigned
req_charge(struct req *r, unsigned n)
{
	struct http_req *hr = r->owner;

	if (hr == NULL || hr->h->lim == NULL)
		return 0;
	return limit_take(hr->h->lim, r->client, http_buckets(hr->cost), n,
	    http_now_ms());
}

/* The limit buckets a route's cost draws on. */
static unsigned
http_buckets(unsigned cost)
{
	return ((cost & ROUTE_LOOKUP) ? 1u << LIMIT_LOOKUP : 0) |
	    ((cost & ROUTE_UPLOAD) ? 1u << LIMIT_UPLOAD : 0) |
	    ((cost & ROUTE_MAIL) ? 1u << LIMIT_MAIL : 0);
}

/* Answer at once with e (and Retry-After when retry > 0). */
static enum MHD_Result
http_refuse(struct MHD_Connection *conn, struct http_req *hr,
    const struct err *e, unsigned retry)
{
	struct resp w;

	memset(&w, 0, sizeof(w));
	buf_init(&w.body, 64 * 1024);
	routes_refuse(&hr->r, &w, e, retry);
	return http_queue(conn, hr, &w);
}

/* Refuse a body that announces more than the cap, before reading it. */
static bool
http_too_long(struct MHD_Connection *conn, size_t max)
{
	const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_CONTENT_LENGTH);

	return cl && strtoull(cl, NULL, 10) > max;
}

/*
 * The first call, with the headers: who asks, and whether their buckets
 * allow it (refused before any body is read).  MHD_YES to go on reading;
 * else the answer is queued and *ret is what to return.
 */
static bool
http_begin(struct http *h, struct MHD_Connection *conn, struct http_req *hr,
    const char *method, enum MHD_Result *ret)
{
	unsigned retry;
	struct err e;

	hr->started = true;
	str_lcpy(hr->method, method, sizeof(hr->method));
	hr->r.method = http_method_of(method);
	hr->r.content_type = MHD_lookup_connection_value(conn,
	    MHD_HEADER_KIND, "Content-Type");
	hr->r.if_none_match = MHD_lookup_connection_value(conn,
	    MHD_HEADER_KIND, "If-None-Match");
	/* what only pages read: not looked up for the APIs' lookups, the
	 * hot path */
	if (strncmp(hr->r.path, "/vks/", 5) != 0 &&
	    strncmp(hr->r.path, "/pks/", 5) != 0 &&
	    strncmp(hr->r.path, "/api/", 5) != 0) {
		hr->r.accept = MHD_lookup_connection_value(conn,
		    MHD_HEADER_KIND, "Accept");
		hr->r.accept_language = MHD_lookup_connection_value(conn,
		    MHD_HEADER_KIND, "Accept-Language");
		hr->r.lang_cookie = MHD_lookup_connection_value(conn,
		    MHD_COOKIE_KIND, "lang");
		if (strncmp(hr->r.path, "/.well-known/", 13) == 0)
			hr->r.host = MHD_lookup_connection_value(conn,
			    MHD_HEADER_KIND, "Host");
	}
	who_headers(&h->who, conn, true);
	who_client(&h->who, conn, &hr->r);
	hr->cost = routes_cost(&hr->r);
	if (h->lim && http_buckets(hr->cost) &&
	    (retry = limit_take(h->lim, hr->r.client, http_buckets(hr->cost),
	    1, http_now_ms())) > 0) {
		log_info("http %s %.200s from %s: over its rate limit",
		    hr->method, http_log_path(hr->r.path), hr->r.client);
		err_set(&e, ERR_RATE, "Too many requests from your address.");
		*ret = http_refuse(conn, hr, &e, retry);
		return false;
	}
	return true;
}

/* The access handler, re-entered as the body arrives. */
static enum MHD_Result
http_access_cb(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_data_size, void **req_cls)
{
	struct http *h = cls;
	struct http_req *hr = *req_cls;
	enum MHD_Result ret;
	struct resp w;
	struct err e;

	(void)url;
	(void)version;
	if (hr->done)		/* back from the work pool */
		return http_queue(conn, hr, &hr->w);
	if (!hr->started) {
		if (!http_begin(h, conn, hr, method, &ret))
			return ret;
		if (!http_too_long(conn, h->max_body))
			return MHD_YES;
		hr->r.too_big = true;
	} else if (*upload_data_size) {
		/* a body trickled in slower than request_timeout allows:
		 * drop the connection (idle ones conn_timeout closes) */
		if (http_now_ms() - (int64_t)hr->t0.tv_sec * 1000 -
		    hr->t0.tv_nsec / 1000000 > h->d->cfg.request_timeout * 1000) {
			log_info("http %s %.200s from %s: body too slow, "
			    "dropped", hr->method, http_log_path(hr->r.path),
			    hr->r.client);
			return MHD_NO;
		}
		if (buf_add(&hr->r.body, upload_data, *upload_data_size) == -1)
			hr->r.too_big = true;
		*upload_data_size = 0;
		return MHD_YES;
	}
	if ((hr->cost & ROUTE_HEAVY) && !hr->r.too_big && h->pool.nth > 0) {
		memset(&hr->w, 0, sizeof(hr->w));
		buf_init(&hr->w.body, 16 * 1024 * 1024);
		hr->w.status = 500;
		if (pool_submit(h, conn, hr) == 0)
			return MHD_YES;
		buf_release(&hr->w.body);
		log_warnx("http %s %.200s from %s: the upload queue is full",
		    hr->method, http_log_path(hr->r.path), hr->r.client);
		err_set(&e, ERR_UNAVAIL, "The server is busy checking other "
		    "uploads.");
		return http_refuse(conn, hr, &e, 5);
	}
	memset(&w, 0, sizeof(w));
	buf_init(&w.body, 16 * 1024 * 1024);
	w.status = 500;
	routes_dispatch(h->d, &hr->r, &w);
	return http_queue(conn, hr, &w);
}

/* Parse "HOST:PORT" (IPv4 or [IPv6]). */
static int
http_parse_addr(const char *addr, struct sockaddr_storage *ss,
    struct err *e)
{
	char host[128];
	const char *colon = strrchr(addr, ':');
	long port;
	size_t hl;

	memset(ss, 0, sizeof(*ss));
	if (colon == NULL || (hl = (size_t)(colon - addr)) >= sizeof(host))
		return err_set(e, ERR_INVALID, "bad listen address '%s'", addr);
	port = strtol(colon + 1, NULL, 10);
	if (port <= 0 || port > 65535)
		return err_set(e, ERR_INVALID, "bad port in '%s'", addr);
	memcpy(host, addr, hl);
	host[hl] = '\0';
	if (host[0] == '[' && hl > 2 && host[hl - 1] == ']') {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
		host[hl - 1] = '\0';
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		if (inet_pton(AF_INET6, host + 1, &s6->sin6_addr) == 1)
			return 0;
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		if (inet_pton(AF_INET, host, &s4->sin_addr) == 1)
			return 0;
	}
	return err_set(e, ERR_INVALID, "bad listen address '%s'", addr);
}

/*
 * Bind here rather than in libmicrohttpd: its error names the port it was
 * given (0 with a socket address) and we would not learn errno.  Options
 * as libmicrohttpd sets them: a restart need not wait out TIME_WAIT, and
 * [::] is IPv6 only.
 */
int
http_listen(const char *addr, struct err *e)
{
	struct sockaddr_storage ss;
	socklen_t len;
	char why[128];
	int fd, on = 1, saved;

	if (http_parse_addr(addr, &ss, e) == -1)
		return -1;
	len = ss.ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) :
	    sizeof(struct sockaddr_in);
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd != -1 &&
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) == 0 &&
	    (ss.ss_family != AF_INET6 || setsockopt(fd, IPPROTO_IPV6,
	    IPV6_V6ONLY, &on, sizeof(on)) == 0) &&
	    bind(fd, (struct sockaddr *)&ss, len) == 0 && listen(fd, 1024) == 0)
		return fd;
	saved = errno;
	if (fd != -1)
		close(fd);
	/* "address already in use", in the case of our other messages */
	str_lcpy(why, strerror(saved), sizeof(why));
	why[0] = (char)tolower((unsigned char)why[0]);
	return err_set(e, ERR_INTERNAL, "cannot listen on %s: %s", addr, why);
}

/* Start the server on fd, which h owns from here on. */
struct http *
http_start(struct daemon *d, int fd, unsigned n, size_t max_body,
    struct err *e)
{
	const struct config *c = &d->cfg;
	struct http *h;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG |
	    MHD_USE_ITC | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME;
	struct config_rate rates[LIMIT_KINDS];

	h = xcalloc(1, sizeof(*h));
	h->d = d;
	h->max_body = max_body;
	if (who_init(&h->who, c, e) == -1) {
		free(h);
		close(fd);
		return NULL;
	}
	if (c->rate_limits) {
		rates[LIMIT_LOOKUP] = c->rate_lookups;
		rates[LIMIT_UPLOAD] = c->rate_uploads;
		rates[LIMIT_MAIL] = c->rate_mails;
		h->lim = limit_new(rates);
	}
	pool_start(h, c->upload_workers, c->upload_queue);
	h->mhd = MHD_start_daemon(flags, 0, who_accept, &h->who,
	    http_access_cb, h,
	    MHD_OPTION_LISTEN_SOCKET, fd,
	    MHD_OPTION_THREAD_POOL_SIZE, n,
	    MHD_OPTION_URI_LOG_CALLBACK, http_uri_cb, h,
	    MHD_OPTION_NOTIFY_COMPLETED, http_done_cb, h,
	    MHD_OPTION_NOTIFY_CONNECTION, who_notify, &h->who,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)c->conn_timeout,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)4096,
	    MHD_OPTION_END);
	if (h->mhd == NULL) {
		pool_stop(h);
		pool_free(h);
		who_free(&h->who);
		limit_free(h->lim);
		free(h);
		close(fd);
		err_set(e, ERR_INTERNAL, "cannot start the HTTP server");
		return NULL;
	}
	who_watch(&h->who);
	return h;
}

/* Stop: no new connections, wait for the open ones, then stop. */
void
http_stop(struct http *h, int wait_s)
{
	const union MHD_DaemonInfo *info;
	MHD_socket fd;
	int i;

	if (h == NULL)
		return;
	fd = MHD_quiesce_daemon(h->mhd);
	for (i = 0; i < wait_s * 20; i++) {
		info = MHD_get_daemon_info(h->mhd,
		    MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
		if (info == NULL || info->num_connections == 0)
			break;
		usleep(50000);
	}
	/* the running uploads finish, the queued ones are answered 503 */
	pool_stop(h);
	who_unwatch(&h->who);
	MHD_stop_daemon(h->mhd);
	pool_free(h);
	limit_free(h->lim);
	who_free(&h->who);
	/* a quiesced daemon leaves its listening socket to the caller */
	if (fd != MHD_INVALID_SOCKET)
		close(fd);
	free(h);
}

/* The one table from error codes to HTTP statuses. */
int
http_status(enum err_code code)
{
	switch (code) {
	case ERR_OK:
		return 200;
	case ERR_INVALID:
		return 400;
	case ERR_FORBIDDEN:
		return 403;
	case ERR_NOTFOUND:
		return 404;
	case ERR_CONFLICT:
		return 409;
	case ERR_GONE:
		return 410;
	case ERR_TOOBIG:
		return 413;
	case ERR_UNSUPPORTED:
		return 415;
	case ERR_RATE:
		return 429;
	case ERR_UNAVAIL:
	case ERR_RETRY:
		return 503;
	case ERR_INTERNAL:
		break;
	}
	return 500;
}
