/*
 * h_wkd: the Web Key Directory (draft-koch-openpgp-webkey-service,
 * "Key Discovery") of the domains in wkd_domains, from the published
 * bindings: a lookup like the others, one indexed read of a form made
 * when the key was published.
 *
 *   advanced  Host openpgpkey.DOMAIN:
 *             /.well-known/openpgpkey/DOMAIN/hu/HASH[?l=LOCAL]
 *             /.well-known/openpgpkey/DOMAIN/policy
 *             /.well-known/openpgpkey/DOMAIN/submission-address
 *   direct    Host DOMAIN:
 *             /.well-known/openpgpkey/hu/HASH[?l=LOCAL]
 *             /.well-known/openpgpkey/policy
 *
 * The advanced path names its domain, so it is believed whatever the
 * Host (a proxy may rewrite it); the direct one takes the domain from
 * Host.  A domain not served answers 404 to everything, policy too, so
 * that clients remember "no WKD here".  submission-address names where
 * the Web Key Service takes mail (keydird receive): the server key's
 * address, whose key WKD serves when its domain is one of these.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "handlers.h"
#include "http.h"
#include "store.h"
#include "str.h"
#include "views.h"
#include "wkd.h"

#define WKD_DOMAIN_MAX 253

/* The domain of a Host header value (no port, lower case) into out. */
static int
host_domain(const char *host, char out[WKD_DOMAIN_MAX + 1])
{
	size_t n, i;

	if (host == NULL || host[0] == '[')
		return -1;
	n = strcspn(host, ":");
	if (n == 0 || n > WKD_DOMAIN_MAX)
		return -1;
	for (i = 0; i < n; i++)
		out[i] = (char)tolower((unsigned char)host[i]);
	out[n] = '\0';
	return 0;
}

/* Whether h is a z-base-32 SHA-1: 32 characters of the alphabet. */
static bool
hash_ok(const char *h)
{
	size_t i;

	for (i = 0; i < WKD_HASH_LEN; i++)
		if (h[i] == '\0' ||
		    strchr("ybndrfg8ejkmcpqxot1uwisza345h769", h[i]) == NULL)
			return false;
	return h[WKD_HASH_LEN] == '\0';
}

static void
not_found(struct resp *w)
{
	view_text(w, 404, "Not found");
}

/* hu/HASH for domain: the key, binary. */
static void
wkd_key_get(struct daemon *d, struct req *r, struct resp *w,
    const char *domain, const char *hash)
{
	char key[WKD_HASH_LEN + WKD_DOMAIN_MAX + 2], lh[WKD_HASH_LEN + 1];
	struct store_pub p;
	struct err e;
	char *l;
	int rc;

	if (!hash_ok(hash)) {
		not_found(w);
		return;
	}
	/* ?l= names the local part the hash is of: one that is not is a
	 * request for some other address */
	if ((l = req_arg(r, "l")) != NULL) {
		wkd_hash(l, strlen(l), lh);
		free(l);
		if (strcmp(lh, hash) != 0) {
			not_found(w);
			return;
		}
	}
	snprintf(key, sizeof(key), "%s@%s", hash, domain);
	rc = store_lookup(d->store, STORE_BY_WKD, key, &p, &e);
	if (rc == -1) {
		view_text(w, 503, "Not now");
		return;
	}
	if (rc == 1) {
		not_found(w);
		return;
	}
	w->status = 200;
	w->ctype = "application/octet-stream";
	buf_reset(&w->body);
	buf_add(&w->body, p.published, p.published_len);
	resp_header(w, "Access-Control-Allow-Origin", "*");
	resp_header(w, "Cache-Control", "no-cache");
	store_pub_release(&p);
}

/* What a served domain has under its openpgpkey folder (rest). */
static void
wkd_domain(struct daemon *d, struct req *r, struct resp *w,
    const char *domain, const char *rest)
{
	if (!config_wkd_domain(&d->cfg, domain, strlen(domain)))
		not_found(w);
	else if (!strncmp(rest, "hu/", 3))
		wkd_key_get(d, r, w, domain, rest + 3);
	else if (!strcmp(rest, "policy")) {
		/* the draft's version and where submissions go;
		 * "mailbox-only" is not said: a key's user IDs keep their
		 * names here, and gpg-wks-client would add a bare one */
		resp_printf(w, 200, "text/plain; charset=utf-8",
		    "protocol-version: 5\nsubmission-address: %s\n",
		    d->cfg.submission_address);
		resp_header(w, "Access-Control-Allow-Origin", "*");
	} else if (!strcmp(rest, "submission-address"))
		view_text(w, 200, d->cfg.submission_address);
	else
		not_found(w);
}

/* GET /.well-known/openpgpkey/... */
void
h_wkd(struct daemon *d, struct req *r, struct resp *w, const char *rest)
{
	char domain[WKD_DOMAIN_MAX + 1];
	const char *slash;
	size_t n;

	if (!strncmp(rest, "hu/", 3) || !strcmp(rest, "policy") ||
	    !strcmp(rest, "submission-address")) {
		if (host_domain(r->host, domain) == -1)
			not_found(w);
		else
			wkd_domain(d, r, w, domain, rest);
		return;
	}
	if ((slash = strchr(rest, '/')) == NULL ||
	    (n = (size_t)(slash - rest)) == 0 || n > WKD_DOMAIN_MAX) {
		not_found(w);
		return;
	}
	memcpy(domain, rest, n);
	domain[n] = '\0';
	for (n = 0; domain[n]; n++)
		domain[n] = (char)tolower((unsigned char)domain[n]);
	wkd_domain(d, r, w, domain, slash + 1);
}
