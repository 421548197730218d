/*
 * reqtest: one request through keydird's routes on a struct req alone,
 * as http.c would hand it over, and the answer's status, headers and
 * body.  Header-only, after dirtest.h.
 */
#ifndef KEYDIR_REQTEST_H
#define KEYDIR_REQTEST_H

#include "http.h"
#include "routes.h"

#include <stddef.h>

/* What to send: only uri is needed (GET by default). */
struct rq {
	enum http_method method;
	const char *uri;		/* path and query */
	const char *ctype;
	const void *body;		/* len bytes, or a string with len 0 */
	size_t len;
	const char *inm;		/* If-None-Match */
	const char *accept;
	const char *al;			/* Accept-Language */
	const char *cookie;		/* the lang cookie */
	const char *host;
	const char *client;
};

struct answer {
	int status;
	char ctype[64];
	char etag[64];
	char csp[256];
	char nosniff[32];
	char referrer[32];
	char cache[128];
	char location[256];
	char cookie[256];
	char clang[16];
	char retry_after[32];
	char cors[8];
	size_t len;			/* of body */
	char *body;			/* the caller frees */
};

static const struct {
	const char *name;
	size_t off, sz;
} rq_hdrs[] = {
#define H(n, f) { n, offsetof(struct answer, f), sizeof(((struct answer *)0)->f) }
	H("ETag", etag), H("Content-Security-Policy", csp),
	H("X-Content-Type-Options", nosniff), H("Referrer-Policy", referrer),
	H("Cache-Control", cache), H("Location", location),
	H("Set-Cookie", cookie), H("Content-Language", clang),
	H("Retry-After", retry_after), H("Access-Control-Allow-Origin", cors),
#undef H
};

static struct answer __attribute__((unused))
rq_run(struct daemon *d, const struct rq *q)
{
	struct answer a;
	struct resp w;
	struct req r;
	size_t i, k;
	char *s;

	memset(&r, 0, sizeof(r));
	r.method = q->method ? q->method : HTTP_GET;
	r.uri = strdup(q->uri);
	r.path = r.uri;
	r.query = "";
	if ((s = strchr(r.uri, '?')) != NULL) {
		*s = '\0';
		r.query = s + 1;
	}
	buf_init(&r.body, d->cfg.max_body);
	if (q->body != NULL && buf_add(&r.body, q->body, q->len ? q->len :
	    strlen(q->body)) == -1)
		r.too_big = true;
	r.content_type = q->ctype;
	r.if_none_match = q->inm;
	r.accept = q->accept;
	r.accept_language = q->al;
	r.lang_cookie = q->cookie;
	r.host = q->host;
	str_lcpy(r.client, q->client ? q->client : "", sizeof(r.client));
	memset(&w, 0, sizeof(w));
	buf_init(&w.body, 16 * 1024 * 1024);
	w.status = 500;
	routes_dispatch(d, &r, &w);
	memset(&a, 0, sizeof(a));
	a.status = buf_failed(&w.body) ? 500 : w.status;
	str_lcpy(a.ctype, w.ctype ? w.ctype : "", sizeof(a.ctype));
	for (i = 0; i < w.nhdr; i++) {
		for (k = 0; k < sizeof(rq_hdrs) / sizeof(rq_hdrs[0]); k++)
			if (!strcmp(w.hname[i], rq_hdrs[k].name))
				str_lcpy((char *)&a + rq_hdrs[k].off,
				    w.hval[i], rq_hdrs[k].sz);
		free(w.hval[i]);
	}
	a.body = buf_detach(&w.body, &a.len);
	free(r.uri);
	buf_release(&r.body);
	return a;
}

#endif
