/*
 * t_site: the web site's frame on a struct req alone: pages in the
 * layout with the strict headers, in the language Accept-Language or
 * the lang cookie asks for, the stylesheet under its hash, the language
 * switch (and that it redirects only within the site), robots.txt and
 * the favicon.
 */
static char tmp[] = "/tmp/t_site.XXXXXX";

#include <ctype.h>

#include "dirtest.h"
#include "reqtest.h"
#include "site.h"

static const char *hdr_accept;	/* the Accept header of run's requests */

/* A request (body: len bytes, NULL for none) with these Accept-Language
 * and lang cookie (NULL: none). */
static struct answer
run(struct dt *t, enum http_method m, const char *uri, const char *ctype,
    const void *body, size_t len, const char *al, const char *cookie)
{
	return rq_run(&t->d, &(struct rq){ .method = m, .uri = uri,
	    .ctype = ctype, .body = body, .len = len, .accept = hdr_accept,
	    .al = al, .cookie = cookie });
}

static struct answer
get(struct dt *t, const char *uri, const char *al, const char *cookie)
{
	return run(t, HTTP_GET, uri, NULL, NULL, 0, al, cookie);
}

static void
t_pages(void)
{
	struct answer a;
	struct dt t;
	char style[128], *p;

	if (dt_open(&t, "site") != 0) {
		ok(0, "a directory");
		return;
	}
	str_lcpy(t.d.cfg.base_url, "https://keys.example.org",
	    sizeof(t.d.cfg.base_url));

	a = get(&t, "/", NULL, NULL);
	ok(a.status == 200 && !strcmp(a.ctype, "text/html; charset=utf-8"),
	    "/: a page (%d)", a.status);
	ok(strstr(a.body, "<html lang=\"en\">") && !strcmp(a.clang, "en") &&
	    strstr(a.body, "<h1>A verifying OpenPGP key directory</h1>"),
	    "... in English by default");
	ok(strstr(a.body, "action=\"/search\"") && strstr(a.body,
	    "<label for=\"q\">") && strstr(a.body, "href=\"/upload\"") &&
	    strstr(a.body, "href=\"/manage\""), "... a labelled search box, "
	    "upload and manage");
	ok(strstr(a.body, "hkps://keys.example.org --send-keys") != NULL,
	    "... gpg's command with this directory's hkps:// address");
	ok(!strcmp(a.csp, "default-src 'none'; style-src 'self'; img-src "
	    "'self'; form-action 'self'; frame-ancestors 'none'; base-uri "
	    "'none'") && !strcmp(a.cache, "no-store"),
	    "... the strict policy, not cached (%s)", a.csp);
	ok(strstr(a.body, "<strong lang=\"en\">English</strong>") &&
	    strstr(a.body, "href=\"/lang/de?next=/\""),
	    "... the language switch: English now, a link to German");
	p = strstr(a.body, "href=\"/static/style.");
	style[0] = '\0';
	if (p != NULL)
		sscanf(p + 6, "%127[^\"]", style);
	ok(!strcmp(style, site_style_path()) && strlen(style) ==
	    strlen("/static/style.0123456789abcdef.css"),
	    "... the stylesheet named by its hash (%s)", style);
	free(a.body);

	a = get(&t, style, NULL, NULL);
	ok(a.status == 200 && !strncmp(a.ctype, "text/css", 8) &&
	    strstr(a.cache, "max-age=31536000") && strstr(a.cache,
	    "immutable") && strstr(a.body, "prefers-color-scheme: dark"),
	    "the stylesheet: CSS cached for a year (%d %s)", a.status,
	    a.cache);
	free(a.body);
	a = get(&t, "/static/style.0000000000000000.css", NULL, NULL);
	ok(a.status == 404, "under another hash: 404 (%d)", a.status);
	free(a.body);
	a = get(&t, "/static/../robots.txt", NULL, NULL);
	ok(a.status == 404, "nothing else under /static/ (%d)", a.status);
	free(a.body);

	a = get(&t, "/", "fr, de-AT;q=0.8, en;q=0.5", NULL);
	ok(a.status == 200 && strstr(a.body, "<html lang=\"de\">") &&
	    !strcmp(a.clang, "de") && strstr(a.body, "<h1>Ein pr\xc3\xbc"
	    "fendes Verzeichnis f\xc3\xbcr OpenPGP-Schl\xc3\xbcssel</h1>") &&
	    strstr(a.body, ">Suchen</button>"),
	    "Accept-Language de-AT: German");
	ok(strstr(a.body, "<strong lang=\"de\">Deutsch</strong>") &&
	    strstr(a.body, "href=\"/lang/en?next=/\""),
	    "... and the switch offers English");
	free(a.body);
	a = get(&t, "/about", "de", "en");
	ok(a.status == 200 && strstr(a.body, "<html lang=\"en\">") &&
	    strstr(a.body, "<h1>About this directory</h1>"),
	    "the lang cookie wins over Accept-Language");
	ok(strstr(a.body, "after this many days:</p>") == NULL &&
	    strstr(a.body, "after this many days: 14.") != NULL,
	    "/about states the settings (unconfirmed keys kept 14 days)");
	free(a.body);
	a = get(&t, "/about", NULL, "xx");
	ok(a.status == 200 && !strcmp(a.clang, "en"),
	    "an unknown cookie: the default");
	free(a.body);

	a = get(&t, "/lang/de?next=/about", NULL, NULL);
	ok(a.status == 303 && !strcmp(a.location, "/about") &&
	    !strcmp(a.cookie, "lang=de; Path=/; Max-Age=31536000; "
	    "SameSite=Lax; HttpOnly; Secure"),
	    "/lang/de: a cookie (Secure behind https), back to the page "
	    "(%d %s %s)", a.status, a.location, a.cookie);
	free(a.body);
	a = get(&t, "/lang/de?next=//evil.example/x", NULL, NULL);
	ok(a.status == 303 && !strcmp(a.location, "/"),
	    "next=//host: home instead (no open redirect)");
	free(a.body);
	a = get(&t, "/lang/de?next=https://evil.example/", NULL, NULL);
	ok(!strcmp(a.location, "/"), "next=https://...: home");
	free(a.body);
	a = get(&t, "/lang/de?next=%2F%2Fevil.example", NULL, NULL);
	ok(!strcmp(a.location, "/"), "next=%%2F%%2Fhost (slashes once decoded): home");
	free(a.body);
	a = get(&t, "/lang/de?next=/%09/evil.example", NULL, NULL);
	ok(!strcmp(a.location, "/"), "next with a tab: home");
	free(a.body);
	a = get(&t, "/lang/de?next=/%5Cevil.example", NULL, NULL);
	ok(!strcmp(a.location, "/"), "next=/\\host: home");
	free(a.body);
	a = get(&t, "/lang/de?next=/x%0d%0aSet-Cookie:%20a=b", NULL, NULL);
	ok(!strcmp(a.location, "/"), "next with CR LF: home");
	free(a.body);
	a = get(&t, "/lang/fr", NULL, NULL);
	ok(a.status == 404 && a.cookie[0] == '\0',
	    "a language there is none of: 404, no cookie");
	free(a.body);

	a = get(&t, "/about/api", NULL, NULL);
	ok(a.status == 200 && strstr(a.body, "<h1>The API</h1>"),
	    "/about/api (%d)", a.status);
	{
		const char *path, *method;
		size_t i, missing = 0;

		/* every route is named on the page (a prefix ending in '/'
		 * is named with what follows it) */
		for (i = 0; (path = routes_nth(i, &method)) != NULL; i++)
			if (strstr(a.body, path) == NULL) {
				printf("# not on /about/api: %s %s\n", method,
				    path);
				missing++;
			}
		ok(missing == 0 && i > 30, "... names every one of the %zu "
		    "routes (%zu missing)", i, missing);
	}
	ok(strstr(a.body, "curl https://keys.example.org/vks/v1/by-email/") &&
	    strstr(a.body, "gpg --keyserver hkps://keys.example.org "),
	    "... with examples for this directory");
	free(a.body);

	hdr_accept = "text/html,application/xhtml+xml,*/*;q=0.8";
	a = get(&t, "/no/such/page", "de", NULL);
	ok(a.status == 404 && !strncmp(a.ctype, "text/html", 9) &&
	    strstr(a.body, "<h1>Seite nicht gefunden</h1>") &&
	    strstr(a.body, ">Zur\xc3\xbc" "ck zum Anfang</a>"),
	    "a browser's 404: a page, in its language, with a way home");
	ok(strstr(a.body, "href=\"/lang/en?next=/no/such/page\"") != NULL,
	    "... whose language switch comes back to it");
	free(a.body);
	a = get(&t, "/verify/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", NULL,
	    NULL);
	ok(strstr(a.body, "?next=/\"") != NULL && strstr(a.body,
	    "next=/verify") == NULL, "a link's page: the switch goes home, "
	    "never carrying the token in a query");
	free(a.body);
	a = get(&t, "/x%26y%22z", NULL, NULL);
	ok(strstr(a.body, "next=/x%2526y%2522z\"") != NULL,
	    "a path's own %%, & and quotes are encoded in the switch's link");
	free(a.body);
	a = run(&t, HTTP_OTHER, "/upload", NULL, NULL, 0, NULL, NULL);
	ok(a.status == 405 && !strncmp(a.ctype, "text/html", 9) &&
	    strstr(a.body, "Not allowed"), "a browser's 405: a page (%d)",
	    a.status);
	free(a.body);
	a = get(&t, "/vks/v1/nothing", NULL, NULL);
	ok(a.status == 404 && strncmp(a.ctype, "text/html", 9) != 0,
	    "under /vks/ a browser still gets the API's answer");
	free(a.body);
	hdr_accept = NULL;
	a = get(&t, "/no/such/page", NULL, NULL);
	ok(a.status == 404 && !strncmp(a.ctype, "text/plain", 10),
	    "without text/html in Accept (curl): text, as before");
	free(a.body);

	a = get(&t, "/robots.txt", NULL, NULL);
	ok(a.status == 200 && !strncmp(a.ctype, "text/plain", 10) &&
	    strstr(a.body, "Disallow: /verify/") && strstr(a.body,
	    "Disallow: /api/"), "robots.txt keeps crawlers off links and APIs");
	free(a.body);
	a = get(&t, "/favicon.svg", NULL, NULL);
	ok(a.status == 200 && !strcmp(a.ctype, "image/svg+xml") &&
	    !strncmp(a.body, "<svg", 4), "the favicon");
	free(a.body);
	dt_close(&t);
}

static void
t_search(void)
{
	static const char *const a[] = { A_MAIN };
	char uri[300], grouped[256];
	struct answer a1;
	struct dt t;
	size_t i, j;

	if (dt_open(&t, "search") != 0 || publish(&t, K_A1, a, 1, T0) != 0) {
		ok(0, "a directory with alice's key published");
		return;
	}
	str_lcpy(t.d.cfg.base_url, "http://keys.example.org",
	    sizeof(t.d.cfg.base_url));
	a1 = get(&t, "/search", NULL, NULL);
	ok(a1.status == 200 && strstr(a1.body, "name=\"q\" value=\"\"") &&
	    !strstr(a1.body, "<section"), "/search alone: the form (%d)",
	    a1.status);
	free(a1.body);

	snprintf(uri, sizeof(uri), "/search?q=%s", A_MAIN);
	a1 = get(&t, uri, NULL, NULL);
	for (i = j = 0; i < FPR_LEN; i += 4)
		j += (size_t)snprintf(grouped + j, sizeof(grouped) - j,
		    "<span>%.4s</span>", afpr + i);
	ok(a1.status == 200 && strstr(a1.body, grouped) != NULL,
	    "by address: the fingerprint in groups of four (%d)", a1.status);
	snprintf(uri, sizeof(uri), "<code>%s</code>", afpr + 24);
	ok(strstr(a1.body, uri) && (strstr(a1.body, "EdDSA, 25") ||
	    strstr(a1.body, "RSA, ")), "... the key id and the algorithm");
	ok(strstr(a1.body, "<div>Alice &lt;" A_MAIN "&gt;</div>") != NULL &&
	    strstr(a1.body, "never") != NULL,
	    "... the published user ID; expires never");
	snprintf(uri, sizeof(uri), "href=\"/vks/v1/by-fingerprint/%s\" "
	    "download=\"%s.asc\"", afpr, afpr);
	ok(strstr(a1.body, uri) != NULL, "... a download link to the key");
	snprintf(uri, sizeof(uri), "gpg --keyserver hkp://keys.example.org:80 "
	    "--recv-keys %s", afpr);
	ok(strstr(a1.body, uri) != NULL, "... and gpg's command for it");
	/* the test keys' Cv25519 subkey has no back-signature (it needs
	 * none): not indexed for lookups, and still listed here */
	ok(strstr(a1.body, "<div class=\"subkey\"><div class=\"fpr\">") &&
	    strstr(a1.body, "ECDH, 255 bits; for encryption; created 20"),
	    "... the encryption subkey: algorithm, use, created");
	free(a1.body);
	snprintf(uri, sizeof(uri), "/search?q=%s", A_MAIN);
	a1 = get(&t, uri, "de", NULL);
	ok(strstr(a1.body, "f\xc3\xbcr Verschl\xc3\xbcsselung; erzeugt 20"),
	    "... in German too");
	free(a1.body);

	snprintf(uri, sizeof(uri), "/search?q=Alice+%%3C%s%%3E", A_MAIN);
	a1 = get(&t, uri, NULL, NULL);
	ok(a1.status == 200 && strstr(a1.body, grouped),
	    "a display form, '+' as a space: found");
	free(a1.body);
	snprintf(uri, sizeof(uri), "/search?q=0x%.4s+%.4s+%.32s", afpr,
	    afpr + 4, afpr + 8);
	a1 = get(&t, uri, NULL, NULL);
	ok(a1.status == 200 && strstr(a1.body, grouped),
	    "a fingerprint with 0x and spaces: found (%d)", a1.status);
	free(a1.body);
	snprintf(uri, sizeof(uri), "/search?q=%s", afpr + 24);
	a1 = get(&t, uri, NULL, NULL);
	ok(a1.status == 200 && strstr(a1.body, grouped),
	    "the long key id: found (%d)", a1.status);
	free(a1.body);
	a1 = get(&t, "/search?q=Call+555-0100+now+%3Cnobody%40example.org%3E",
	    NULL, NULL);
	ok(a1.status == 404 && strstr(a1.body, "No key found for "
	    "nobody@example.org.") && !strstr(a1.body, "for Call"),
	    "a display form not found: the page names the address only");
	free(a1.body);
	a1 = get(&t, "/search?q=nobody%40example.org", NULL, NULL);
	ok(a1.status == 404 && strstr(a1.body, "No key found for") &&
	    strstr(a1.body, "owner has not confirmed") &&
	    strstr(a1.body, "value=\"nobody@example.org\""),
	    "an address nobody published: 404 and why that may be (%d)",
	    a1.status);
	free(a1.body);
	a1 = get(&t, "/search?q=DEADBEEF", NULL, NULL);
	ok(a1.status == 400 && strstr(a1.body, "Short key IDs"),
	    "a short key id: refused, with why (%d)", a1.status);
	free(a1.body);
	a1 = get(&t, "/search?q=%3Cscript%3Ealert(1)%3C/script%3E", NULL,
	    NULL);
	ok(a1.status == 400 && strstr(a1.body, "<script>") == NULL &&
	    strstr(a1.body, "&lt;script&gt;alert(1)&lt;/script&gt;"),
	    "markup in the query: refused, and escaped where shown (%d)",
	    a1.status);
	free(a1.body);
	snprintf(uri, sizeof(uri), "/search?q=%s", A_MAIN);
	a1 = get(&t, uri, "de", NULL);
	ok(strstr(a1.body, "Fingerabdruck") && strstr(a1.body,
	    "Schl\xc3\xbcssel herunterladen"), "in German too");
	free(a1.body);
	dt_close(&t);
}

/* A multipart body with the key as file (or pasted when as_file is
 * false) into b. */
static void
mp_body(struct buf *b, const struct blob *k, bool as_file)
{
	buf_addstr(b, "--XyZ\r\nContent-Disposition: form-data; "
	    "name=\"keyfile\"; filename=\"k.gpg\"\r\n"
	    "Content-Type: application/octet-stream\r\n\r\n");
	if (as_file)
		buf_add(b, k->p, k->len);
	buf_addstr(b, "\r\n--XyZ\r\nContent-Disposition: form-data; "
	    "name=\"keytext\"\r\n\r\n");
	if (!as_file)
		buf_add(b, k->p, k->len);
	buf_addstr(b, "\r\n--XyZ--\r\n");
}

static void
t_upload(void)
{
	static const char mp[] = "multipart/form-data; boundary=XyZ";
	static const char form[] = "application/x-www-form-urlencoded";
	char tok[300], body[600], *p;
	struct answer a;
	struct buf b;
	struct dt t;

	if (dt_open(&t, "upload") != 0) {
		ok(0, "a directory");
		return;
	}
	a = get(&t, "/upload", NULL, NULL);
	ok(a.status == 200 && strstr(a.body, "enctype=\"multipart/form-data\"")
	    && strstr(a.body, "<label for=\"keyfile\">") && strstr(a.body,
	    "<label for=\"keytext\">"), "/upload: the form, a file and a "
	    "paste field, labelled (%d)", a.status);
	free(a.body);

	buf_init(&b, 1024 * 1024);
	mp_body(&b, &keys[K_B], true);
	a = run(&t, HTTP_POST, "/upload", mp, b.data, b.len, NULL, NULL);
	ok(a.status == 200 && strstr(a.body, "<h1>Your key is uploaded</h1>"),
	    "a binary key file uploaded (%d)", a.status);
	snprintf(body, sizeof(body), "name=\"address\" value=\"%s\" checked",
	    B_MAIN);
	ok(strstr(a.body, body) && strstr(a.body, "not published") &&
	    strstr(a.body, "Send confirmation mails"),
	    "... its address, not published, checked to be mailed");
	ok(dt_mail(&t, B_MAIN, NULL) == NULL, "... and nobody mailed yet");
	tok[0] = '\0';
	if ((p = strstr(a.body, "name=\"token\" value=\"")) != NULL)
		sscanf(p + 20, "%299[^\"]", tok);
	ok(tok[0] != '\0', "... a token in the form");
	free(a.body);

	/* a browser encodes '@' as %40 and the token's '+', '/', '=' too */
	{
		size_t j = (size_t)snprintf(body, sizeof(body), "token=");

		for (p = tok; *p && j + 4 < sizeof(body); p++)
			j += (size_t)(isalnum((unsigned char)*p) || *p == '-' ||
			    *p == '_' ? snprintf(body + j, sizeof(body) - j,
			    "%c", *p) : snprintf(body + j, sizeof(body) - j,
			    "%%%02X", (unsigned char)*p));
		snprintf(body + j, sizeof(body) - j, "&address=%s", B_MAIN);
	}
	a = run(&t, HTTP_POST, "/upload/verify", form, body, strlen(body),
	    NULL, NULL);
	ok(a.status == 200 && strstr(a.body, "a confirmation mail is on its "
	    "way"), "the chosen address: mailed (%d)", a.status);
	ok(dt_mail(&t, B_MAIN, NULL) != NULL, "... the mail is there");
	free(a.body);
	a = run(&t, HTTP_POST, "/upload/verify", form, body, strlen(body),
	    NULL, NULL);
	ok(a.status == 200 && strstr(a.body, "not mailed again yet"),
	    "asked again at once: not mailed again, and why");
	free(a.body);

	snprintf(body, sizeof(body), "token=%s", tok);
	a = run(&t, HTTP_POST, "/upload/verify", form, body, strlen(body),
	    NULL, NULL);
	ok(a.status == 400 && strstr(a.body, "Choose at least one address"),
	    "no address chosen: 400, in words (%d)", a.status);
	free(a.body);
	a = run(&t, HTTP_POST, "/upload/verify", form, "address=x%40y.org",
	    17, NULL, NULL);
	ok(a.status == 400 && strstr(a.body, "This form has expired"),
	    "no token: 400, in words");
	free(a.body);
	a = run(&t, HTTP_POST, "/upload/verify", form,
	    "token=forged&address=bob%40example.org", 38, "de", NULL);
	ok(a.status >= 400 && a.status < 500 && strstr(a.body,
	    "Es wurde nichts verschickt") && strstr(a.body, "{") == NULL,
	    "a forged token: refused in a page, never JSON (%d)", a.status);
	free(a.body);

	buf_reset(&b);
	mp_body(&b, &keys[K_A1], false);
	a = run(&t, HTTP_POST, "/upload", mp, b.data, b.len, "de", NULL);
	ok(a.status == 200 && strstr(a.body, "Ihr Schl\xc3\xbcssel ist "
	    "hochgeladen") && strstr(a.body, A_MAIN),
	    "a pasted key (the paste field), in German (%d)", a.status);
	free(a.body);

	buf_reset(&b);
	buf_addstr(&b, "--XyZ\r\nContent-Disposition: form-data; "
	    "name=\"keyfile\"; filename=\"\"\r\n\r\n\r\n--XyZ\r\n"
	    "Content-Disposition: form-data; name=\"keytext\"\r\n\r\n"
	    "\r\n--XyZ--\r\n");
	a = run(&t, HTTP_POST, "/upload", mp, b.data, b.len, NULL, NULL);
	ok(a.status == 400 && strstr(a.body, "Choose a key file or paste a "
	    "key.") && strstr(a.body, "class=\"warn\""),
	    "an empty form: the form again with why (%d)", a.status);
	free(a.body);
	a = run(&t, HTTP_POST, "/upload", mp, "garbage", 7, NULL, NULL);
	ok(a.status == 400 && strstr(a.body, "malformed") &&
	    strstr(a.body, "<form"), "a body that is not multipart: in words "
	    "(%d)", a.status);
	free(a.body);
	a = run(&t, HTTP_POST, "/upload", form, "keytext=hello", 13, NULL,
	    NULL);
	ok(a.status == 400 && strstr(a.body, "Parsing of key data failed") &&
	    strstr(a.body, "{\"error") == NULL,
	    "not a key: refused on the page, not as JSON (%d)", a.status);
	free(a.body);
	buf_release(&b);
	dt_close(&t);
}

static void
t_manage(void)
{
	static const char *const a[] = { A_MAIN };
	static const char form[] = "application/x-www-form-urlencoded";
	struct answer r;
	struct dt t;
	char body[200];

	if (dt_open(&t, "manage") != 0 || publish(&t, K_A1, a, 1, T0) != 0) {
		ok(0, "a directory with alice's key published");
		return;
	}
	r = get(&t, "/manage", NULL, NULL);
	ok(r.status == 200 && strstr(r.body, "action=\"/manage\"") &&
	    strstr(r.body, "<label for=\"address\">"),
	    "/manage: a form for an address, labelled (%d)", r.status);
	free(r.body);
	snprintf(body, sizeof(body), "address=%s", A_MAIN);
	r = run(&t, HTTP_POST, "/manage", form, body, strlen(body), NULL,
	    NULL);
	ok(r.status == 200 && strstr(r.body, "a mail with a link to manage "
	    "it is on its way") && dt_mail(&t, A_MAIN, NULL) != NULL,
	    "a published address: the page, and the mail (%d)", r.status);
	free(r.body);
	r = run(&t, HTTP_POST, "/manage", form, "address=nobody%40example.org",
	    28, NULL, NULL);
	ok(r.status == 200 && strstr(r.body, "a mail with a link to manage "
	    "it is on its way") && dt_mail(&t, "nobody@example.org", NULL) ==
	    NULL, "an address not published: the same page, no mail (%d)",
	    r.status);
	free(r.body);
	r = run(&t, HTTP_POST, "/manage", form, "address=", 8, "de", NULL);
	ok(r.status == 400 && strstr(r.body, "Geben Sie Ihre E-Mail-Adresse "
	    "ein."), "no address: 400, in words (German)");
	free(r.body);
	dt_close(&t);
}

/* The token of an upload through the form, from the page's form. */
static int
form_upload(struct dt *t, int k, char tok[300])
{
	static const char mp[] = "multipart/form-data; boundary=XyZ";
	struct answer a;
	struct buf b;
	char *p;

	tok[0] = '\0';
	buf_init(&b, 1024 * 1024);
	mp_body(&b, &keys[k], true);
	a = run(t, HTTP_POST, "/upload", mp, b.data, b.len, NULL, NULL);
	if ((p = strstr(a.body, "name=\"token\" value=\"")) != NULL)
		sscanf(p + 20, "%299[^\"]", tok);
	free(a.body);
	buf_release(&b);
	return tok[0] != '\0' ? 0 : -1;
}

/* Mails in the language asked (request-verify's locale, the page's),
 * and the pages after a link in the visitor's. */
static void
t_mail_lang(void)
{
	static const char form[] = "application/x-www-form-urlencoded";
	static const char *const a[] = { A_MAIN };
	const struct dmail *m;
	char tok[300], body[600], vt[TOKEN_LEN + 1];
	struct answer r;
	struct dt t;

	if (dt_open(&t, "mail_lang") != 0 || publish(&t, K_A1, a, 1, T0) !=
	    0) {
		ok(0, "a directory with alice's key published");
		return;
	}
	dt_flush(&t);
	snprintf(body, sizeof(body), "address=%s", A_MAIN);
	r = run(&t, HTTP_POST, "/manage", form, body, strlen(body), NULL,
	    "de");
	m = dt_mail(&t, A_MAIN, NULL);
	ok(r.status == 200 && m != NULL && strstr(m->text, "die Adresse "
	    A_MAIN " vom Schl\xc3\xbcssel") && strstr(m->text, "/manage/"),
	    "/manage with the page in German: the removal mail in German "
	    "(%d)", r.status);
	free(r.body);

	if (form_upload(&t, K_B, tok) != 0) {
		ok(0, "bob's key uploaded");
		dt_close(&t);
		return;
	}
	snprintf(body, sizeof(body), "{\"token\":\"%s\",\"addresses\":"
	    "[\"%s\"],\"locale\":[\"fr_FR\",\"de_CH\",\"en\"]}", tok,
	    B_MAIN);
	r = run(&t, HTTP_POST, "/vks/v1/request-verify", "application/json",
	    body, strlen(body), NULL, NULL);
	m = dt_mail(&t, B_MAIN, NULL);
	ok(r.status == 200 && m != NULL && strstr(m->text, "jemand hat das "
	    "Schl\xc3\xbcsselverzeichnis") && strstr(m->text, "Link gilt "
	    "einmal") && strstr(m->text, "/verify/") && strstr(m->subject,
	    "?B?") != NULL, "request-verify with locale [fr_FR, de_CH, en]: "
	    "the mail in German, its subject encoded (%d)", r.status);
	ok(m != NULL && strstr(m->text, "someone asked") == NULL,
	    "... and not in English");
	free(r.body);

	/* the pages after a link, in the visitor's language */
	if (m == NULL || tok_in(&t, m->text, "verify", vt) == -1) {
		ok(0, "a confirmation link in the mail");
		dt_close(&t);
		return;
	}
	snprintf(body, sizeof(body), "/verify/%s", vt);
	r = run(&t, HTTP_POST, body, form, "", 0, NULL, "de");
	ok(r.status == 200 && strstr(r.body, "<h1>Schl\xc3\xbcssel "
	    "ver\xc3\xb6" "ffentlicht</h1>") && strstr(r.body, B_MAIN " ist "
	    "jetzt mit dem Schl\xc3\xbcssel") && strstr(r.body,
	    "Zur\xc3\xbc" "ck zum Anfang"), "confirmed with the page in "
	    "German: the result in German (%d)", r.status);
	free(r.body);
	r = run(&t, HTTP_POST, body, form, "", 0, NULL, "de");
	ok(r.status == 410 && strstr(r.body, "Dieser Link wurde schon "
	    "benutzt.") && strstr(r.body, "Dieser Link funktioniert nicht"),
	    "the link again: why it does not work, in German (%d)", r.status);
	free(r.body);
	r = get(&t, "/verify/not-a-token", "de", NULL);
	ok(r.status == 404 && strstr(r.body, "Dieser Link ist ung\xc3\xbc"
	    "ltig."), "a link that is no link: in German (%d)", r.status);
	free(r.body);
	r = run(&t, HTTP_POST, "/upload", form, "keytext=hello", 13, "de",
	    NULL);
	ok(r.status == 400 && strstr(r.body, "Die Schl\xc3\xbcsseldaten "
	    "lie\xc3\x9f" "en sich nicht lesen."), "an upload of no key: why, "
	    "in German (%d)", r.status);
	free(r.body);

	if (form_upload(&t, K_A2, tok) != 0) {
		ok(0, "alice's key with a second address uploaded");
		dt_close(&t);
		return;
	}
	snprintf(body, sizeof(body), "{\"token\":\"%s\",\"addresses\":"
	    "[\"%s\"],\"locale\":[\"fr_FR\",\"en_US\",\"de\"]}", tok,
	    A_WORK);
	r = run(&t, HTTP_POST, "/vks/v1/request-verify", "application/json",
	    body, strlen(body), NULL, NULL);
	m = dt_mail(&t, A_WORK, "Confirm your key for this address");
	ok(r.status == 200 && m != NULL && strstr(m->text, "someone asked "
	    "the key directory"), "locale [fr_FR, en_US, de]: English, the "
	    "first with a catalog (%d)", r.status);
	free(r.body);
	dt_close(&t);
}

int
main(void)
{
	static const struct dt_group g[] = { { "pages", t_pages },
	    { "search", t_search }, { "upload", t_upload },
	    { "manage", t_manage }, { "mail_lang", t_mail_lang } };

	return dt_main(g, 5);
}
