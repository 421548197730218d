/*
 * http: the only includer of <microhttpd.h>.  Turns a libmicrohttpd
 * request into a struct req (method, raw path and query, a capped body)
 * and a struct resp back into a response, so handlers never see MHD.
 */
#ifndef KEYDIR_HTTP_H
#define KEYDIR_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "err.h"

enum http_method { HTTP_GET, HTTP_HEAD, HTTP_POST, HTTP_OTHER };

#define RESP_MAX_HEADERS 16
#define REQ_CLIENT_MAX	64

struct req {
	enum http_method method;
	char *uri;		/* the request target exactly as sent */
	const char *path;	/* uri up to '?', still percent-encoded */
	const char *query;	/* after '?', "" when none */
	struct buf body;	/* capped at max_body */
	bool too_big;		/* the body passed the cap */
	/* the request headers handlers read, copied in by http.c (NULL when
	 * absent), so a handler runs on a struct req alone, without a
	 * socket (tests/unit) */
	const char *content_type;
	const char *if_none_match;
	const char *accept;
	const char *accept_language;
	const char *lang_cookie;	/* the cookie lang=, the site's switch */
	const char *host;	/* Host: read for /.well-known/ only (WKD) */
	/* who asks, for the per-client limits: the peer's IPv4 address or
	 * its IPv6 /64 ("2001:db8:1:2::/64"); behind a trusted proxy, the
	 * address its header names.  "" when unknown (tests/unit). */
	char client[REQ_CLIENT_MAX];
	void *owner;		/* http.c's, for req_charge; NULL in tests */
};

struct resp {
	int status;
	const char *ctype;	/* static string */
	struct buf body;
	const char *hname[RESP_MAX_HEADERS];	/* static strings */
	char *hval[RESP_MAX_HEADERS];
	size_t nhdr;
};

struct daemon;
struct http;

/* Query argument name percent-decoded ('+' stays '+'); the caller frees.
 * NULL when absent or badly encoded. */
char *req_arg(const struct req *r, const char *name);
/* The same as an HTML form sends it: '+' is a space. */
char *req_form_arg(const struct req *r, const char *name);
/* The nth (from 0) field name of a form body (application/x-www-form-
 * urlencoded), decoded; NULL when there are not that many. */
char *req_body_field(const struct req *r, const char *name, size_t nth);

/* Take n more tokens of r's route's buckets for r's client (a batch of
 * lookups is one per address): 0 when granted (or nothing limits r),
 * else the seconds until they would be, and nothing is taken. */
unsigned req_charge(struct req *r, unsigned n);

/* Add a header (value copied). */
void resp_header(struct resp *w, const char *name, const char *value);
/* Set status, type and a formatted body. */
void resp_printf(struct resp *w, int status, const char *ctype,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* A listening socket on addr ("HOST:PORT", an IPv4 address or [IPv6]);
 * -1 with e set, ERR_INVALID for a bad addr, else ERR_INTERNAL saying why
 * ("cannot listen on ADDR: address already in use"). */
int http_listen(const char *addr, struct err *e);
/* Serve on fd from http_listen with n worker threads, dispatching to
 * routes_dispatch; fd is h's from here on (closed also when this fails).
 * NULL with e set. */
struct http *http_start(struct daemon *d, int fd, unsigned n,
    size_t max_body, struct err *e);
/* Stop accepting, let in-flight requests finish (up to wait_s seconds),
 * then stop.  Frees h. */
void http_stop(struct http *h, int wait_s);

struct sockaddr;
/* The client key (struct req's client) of a peer address into out. */
void http_client_key(const struct sockaddr *sa, char *out, size_t outlen);

/* The HTTP status for an error code (the one table). */
int http_status(enum err_code code);

#endif
