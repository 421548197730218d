/*
 * t_http: the handlers on a struct req alone, without a socket or
 * libmicrohttpd (headers are copied into struct req by http.c), over a
 * real directory: routes, statuses, content types, ETag and 304, the
 * body cap, and the error answers of each API.
 */
static char tmp[] = "/tmp/t_http.XXXXXX";

#include "dirtest.h"
#include "reqtest.h"

/* Run one request through the routes; the answer's strings are ours. */
static struct answer
call(struct dt *t, enum http_method m, const char *uri, const char *ctype,
    const char *body, const char *inm)
{
	return rq_run(&t->d, &(struct rq){ .method = m, .uri = uri,
	    .ctype = ctype, .body = body, .inm = inm });
}

static void
t_routes(void)
{
	char uri[200], json[8300], b64[8192], tok[TOKEN_LEN + 1];
	struct answer a, b;
	struct dt t;

	ok(dt_open(&t, "http") == 0, "a directory");
	str_lcpy(t.d.cfg.base_url, "https://keys.example.org",
	    sizeof(t.d.cfg.base_url));

	a = call(&t, HTTP_GET, "/", NULL, NULL, NULL);
	ok(a.status == 200 && !strncmp(a.ctype, "text/html", 9),
	    "GET /: the home page (%d)", a.status);
	ok(strstr(a.csp, "default-src 'none'") && strstr(a.csp,
	    "frame-ancestors 'none'") && strstr(a.csp, "form-action 'self'") &&
	    !strstr(a.csp, "unsafe"), "... a strict Content-Security-Policy "
	    "(%s)", a.csp);
	ok(!strcmp(a.nosniff, "nosniff") && !strcmp(a.referrer,
	    "no-referrer"), "... X-Content-Type-Options and Referrer-Policy");
	ok(strstr(a.csp, "style-src 'self'") != NULL && strstr(a.body,
	    "<style") == NULL && strstr(a.body, "style=") == NULL &&
	    strstr(a.body, "<script") == NULL, "... no inline style or "
	    "script: the stylesheet is a file of this site (t_site)");
	free(a.body);

	snprintf(uri, sizeof(uri), "/vks/v1/by-fingerprint/%s", afpr);
	a = call(&t, HTTP_GET, uri, NULL, NULL, NULL);
	ok(a.status == 404, "by-fingerprint before any upload: 404 (%d)",
	    a.status);
	free(a.body);

	a = call(&t, HTTP_GET, "/vks/v1/by-fingerprint/XYZ", NULL, NULL,
	    NULL);
	ok(a.status == 400, "a malformed fingerprint: 400 (%d: %s)",
	    a.status, a.body);
	free(a.body);

	/* a VKS upload: JSON with the key's binary form in base64 */
	sodium_bin2base64(b64, sizeof(b64), keys[K_A1].p, keys[K_A1].len,
	    sodium_base64_VARIANT_ORIGINAL);
	snprintf(json, sizeof(json), "{\"keytext\":\"%s\"}", b64);
	a = call(&t, HTTP_POST, "/vks/v1/upload", "text/plain", json, NULL);
	ok(a.status == 400,
	    "upload with a content type that is not JSON: refused (%d: %s)",
	    a.status, a.body);
	free(a.body);
	a = call(&t, HTTP_POST, "/vks/v1/upload", "application/json", json,
	    NULL);
	ok(a.status == 200 && strstr(a.body, afpr) != NULL &&
	    strstr(a.body, "\"" A_MAIN "\":\"unpublished\"") != NULL &&
	    !strncmp(a.ctype, "application/json", 16),
	    "upload: 200, JSON with the fingerprint and the address "
	    "unpublished (%s)", a.body);
	free(a.body);

	a = call(&t, HTTP_GET, uri, NULL, NULL, NULL);
	ok(a.status == 200 && strstr(a.body, "BEGIN PGP PUBLIC KEY BLOCK") &&
	    a.etag[0] == '"', "by-fingerprint after it: 200, armored, an ETag");
	b = call(&t, HTTP_GET, uri, NULL, NULL, a.etag);
	ok(b.status == 304 && b.body[0] == '\0',
	    "the same request with If-None-Match: 304, no body (%d)",
	    b.status);
	free(b.body);
	b = call(&t, HTTP_GET, uri, NULL, NULL, "\"0000\"");
	ok(b.status == 200, "with another ETag: 200");
	free(b.body);
	free(a.body);

	a = call(&t, HTTP_GET, "/vks/v1/by-email/" A_MAIN, NULL, NULL, NULL);
	ok(a.status == 404, "by-email before confirmation: 404 (%d)",
	    a.status);
	free(a.body);
	a = call(&t, HTTP_GET, "/vks/v1/by-email/not-an-address", NULL, NULL,
	    NULL);
	ok(a.status == 400, "by-email of something else: 400 (%d)",
	    a.status);
	free(a.body);

	/* HKP add asks for confirmation; the link confirms over POST */
	a = call(&t, HTTP_POST, "/pks/add", "application/x-www-form-urlencoded",
	    "keytext=", NULL);
	ok(a.status == 400, "HKP add of nothing: 400 (%d)", a.status);
	free(a.body);
	ok(dir_manage_request(&t.d, T0, A_MAIN, 0, &(struct err){ 0 }) == 0,
	    "(a removal request for an unpublished address changes nothing)");
	{
		struct dir_upload u;
		struct err e;

		ok(dir_upload(&t.d, T0, keys[K_A1].p, keys[K_A1].len, true,
		    DT_CLIENT, &u, &e) == 0 && dt_link(&t, A_MAIN, "verify", tok) == 0,
		    "a confirmation link");
		dir_upload_release(&u);
	}
	snprintf(uri, sizeof(uri), "/verify/%s", tok);
	a = call(&t, HTTP_GET, uri, NULL, NULL, NULL);
	ok(a.status == 200 && strstr(a.body, A_MAIN) != NULL &&
	    strstr(a.body, "<form") != NULL,
	    "GET on the link: a page naming the address, with a form");
	free(a.body);
	a = call(&t, HTTP_POST, uri, "application/x-www-form-urlencoded", "",
	    NULL);
	ok(a.status == 200, "POST on it: confirmed (%d)", a.status);
	free(a.body);
	a = call(&t, HTTP_POST, uri, "application/x-www-form-urlencoded", "",
	    NULL);
	ok(a.status == 410, "POST again: 410 (%d)", a.status);
	free(a.body);
	a = call(&t, HTTP_GET, "/vks/v1/by-email/" A_MAIN, NULL, NULL, NULL);
	ok(a.status == 200 && strstr(a.body, "BEGIN PGP PUBLIC KEY BLOCK"),
	    "by-email after confirmation: 200");
	free(a.body);
	a = call(&t, HTTP_GET, "/pks/lookup?op=index&options=mr&search="
	    A_MAIN, NULL, NULL, NULL);
	ok(a.status == 200 && !strncmp(a.body, "info:1:1", 8) &&
	    strstr(a.body, afpr) != NULL, "HKP index: info:1:1 and the key");
	ok(strstr(a.body, "\r\nsub:") == NULL && strstr(a.body, "\r\nuid:")
	    != NULL && a.body[strlen(a.body) - 1] == '\n',
	    "... its pub: and uid: lines only, not the site's sub: lines");
	free(a.body);

	/* the batch lookup: identifiers of the published ones only */
	a = call(&t, HTTP_POST, "/api/v1/lookup", "application/json",
	    "{\"addresses\": [\"" A_MAIN "\", \"nobody@example.org\", "
	    "\"not an address\", 5, \"ALICE@EXAMPLE.ORG\"]}", NULL);
	ok(a.status == 200 && strstr(a.body, afpr) != NULL &&
	    strstr(a.body, "nobody") == NULL &&
	    strstr(a.body, "\"keyid\"") != NULL,
	    "POST /api/v1/lookup: the published address's identifiers only "
	    "(%s)", a.body);
	ok(strstr(a.body, afpr) != NULL &&
	    strstr(strstr(a.body, afpr) + 1, afpr) != NULL,
	    "... an address given twice in another case answers twice");
	free(a.body);
	{
		struct buf big;

		buf_init(&big, 64u << 10);
		buf_addstr(&big, "{\"addresses\": [");
		for (int i = 0; i < 1001; i++)
			buf_printf(&big, "%s\"a%d@example.org\"", i ? "," : "",
			    i);
		buf_addstr(&big, "]}");
		a = call(&t, HTTP_POST, "/api/v1/lookup", "application/json",
		    big.data, NULL);
		ok(a.status == 400, "1001 addresses: 400 (%d)", a.status);
		free(a.body);
		buf_release(&big);
	}
	a = call(&t, HTTP_POST, "/api/v1/lookup", "application/json",
	    "not json", NULL);
	ok(a.status == 400, "not JSON: 400 (%d)", a.status);
	free(a.body);

	/* the body cap: a request over max_body is refused whole, never
	 * handed on cut short (a cut effects= would skip the check) */
	{
		struct dir_upload u;
		struct err e;
		char big[300];

		ok(dir_upload(&t.d, T0, keys[K_B].p, keys[K_B].len, true,
		    DT_CLIENT, &u, &e) == 0 && dt_link(&t, B_MAIN, "verify", tok) == 0,
		    "bob's confirmation link");
		dir_upload_release(&u);
		snprintf(uri, sizeof(uri), "/verify/%s", tok);
		memset(big, 'a', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		memcpy(big, "effects=", 8);
		t.d.cfg.max_body = 64;
		a = call(&t, HTTP_POST, uri,
		    "application/x-www-form-urlencoded", big, NULL);
		ok(a.status == 413, "a confirmation POST over max_body: 413 "
		    "(%d)", a.status);
		free(a.body);
		a = call(&t, HTTP_POST, "/api/v1/remove", "text/plain", big,
		    NULL);
		ok(a.status == 413 && strstr(a.body, "\"error\"") != NULL,
		    "a removal over max_body: 413 in JSON (%s)", a.body);
		free(a.body);
		is_str(owner(&t, B_MAIN), "", "... bob's address not published");
		t.d.cfg.max_body = 65536;
		a = call(&t, HTTP_POST, uri,
		    "application/x-www-form-urlencoded", "", NULL);
		ok(a.status == 200 && !strcmp(owner(&t, B_MAIN), bfpr),
		    "the link was not spent: it confirms now (%d)", a.status);
		free(a.body);
	}
	t.d.cfg.max_body = 64;
	a = call(&t, HTTP_POST, "/vks/v1/upload", "application/json", json,
	    NULL);
	ok(a.status == 413, "an upload over max_body: 413 (%d)", a.status);
	free(a.body);

	a = call(&t, HTTP_GET, "/no/such/thing", NULL, NULL, NULL);
	ok(a.status == 404, "an unknown path: 404 (%d)", a.status);
	free(a.body);
	a = call(&t, HTTP_OTHER, "/", NULL, NULL, NULL);
	ok(a.status == 405,
	    "an unknown method: refused (%d)", a.status);
	free(a.body);
	dt_close(&t);
}

int
main(void)
{
	static const struct dt_group g[] = { { "routes", t_routes } };

	return dt_main(g, 1);
}
