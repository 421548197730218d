/*
 * config: defaults, INI file (inih) and flags.  A table of keys keeps the
 * file and the command line in step.
 */
#include <arpa/inet.h>
#include <netinet/in.h>

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <ini.h>

#include "config.h"
#include "str.h"

enum cfg_type { CFG_STR, CFG_SIZE, CFG_DURATION, CFG_BOOL, CFG_UINT,
    CFG_RATE, CFG_LIMIT };

struct cfg_key {
	const char *name;
	enum cfg_type type;
	size_t off;
	size_t len;	/* for strings */
};

#define S(f) CFG_STR, offsetof(struct config, f), sizeof(((struct config *)0)->f)
#define N(t, f) t, offsetof(struct config, f), 0

static const struct cfg_key cfg_keys[] = {
	{ "listen", S(listen) },
	{ "data_dir", S(data_dir) },
	{ "database", S(database) },
	{ "database_read", S(database_read) },
	{ "lookup_cache", N(CFG_LIMIT, lookup_cache) },
	{ "base_url", S(base_url) },
	{ "smtp_url", S(smtp_url) },
	{ "smtp_user", S(smtp_user) },
	{ "smtp_pass", S(smtp_pass) },
	{ "smtp_starttls", N(CFG_BOOL, smtp_starttls) },
	{ "mail_from", S(mail_from) },
	{ "max_body", N(CFG_SIZE, max_body) },
	{ "max_uids", N(CFG_SIZE, max_uids) },
	{ "max_subkeys", N(CFG_SIZE, max_subkeys) },
	{ "max_certs", N(CFG_SIZE, max_certs) },
	{ "max_key_bits", N(CFG_SIZE, max_key_bits) },
	{ "max_sig_checks", N(CFG_SIZE, max_sig_checks) },
	{ "token_ttl", N(CFG_DURATION, token_ttl) },
	{ "upload_ttl", N(CFG_DURATION, upload_ttl) },
	{ "mail_rate", N(CFG_DURATION, mail_rate) },
	{ "max_mails_per_upload", N(CFG_LIMIT, max_mails_per_upload) },
	{ "mail_global_rate", N(CFG_RATE, mail_global_rate) },
	{ "max_unconfirmed_per_client", N(CFG_LIMIT,
	    max_unconfirmed_per_client) },
	{ "max_unconfirmed_bytes", N(CFG_LIMIT, max_unconfirmed_bytes) },
	{ "mail_retry_min", N(CFG_DURATION, mail_retry_min) },
	{ "mail_retry_max", N(CFG_DURATION, mail_retry_max) },
	{ "reverify_interval", N(CFG_DURATION, reverify_interval) },
	{ "reverify_grace", N(CFG_DURATION, reverify_grace) },
	{ "unconfirmed_ttl", N(CFG_DURATION, unconfirmed_ttl) },
	{ "sent_mail_ttl", N(CFG_DURATION, sent_mail_ttl) },
	{ "submission_address", S(submission_address) },
	{ "server_key_ttl", N(CFG_DURATION, server_key_ttl) },
	{ "server_key_grace", N(CFG_DURATION, server_key_grace) },
	{ "maintain_every", N(CFG_DURATION, maintain_every) },
	{ "one_address_per_key", N(CFG_BOOL, one_address_per_key) },
	{ "threads", N(CFG_UINT, threads) },
	{ "rate_limits", N(CFG_BOOL, rate_limits) },
	{ "rate_lookups", N(CFG_RATE, rate_lookups) },
	{ "rate_uploads", N(CFG_RATE, rate_uploads) },
	{ "rate_mails", N(CFG_RATE, rate_mails) },
	{ "trusted_proxies", S(trusted_proxies) },
	{ "wkd_domains", S(wkd_domains) },
	{ "proxy_header", S(proxy_header) },
	{ "max_client_conns", N(CFG_UINT, max_client_conns) },
	{ "conn_timeout", N(CFG_DURATION, conn_timeout) },
	{ "request_timeout", N(CFG_DURATION, request_timeout) },
	{ "header_timeout", N(CFG_DURATION, header_timeout) },
	{ "upload_workers", N(CFG_UINT, upload_workers) },
	{ "upload_queue", N(CFG_UINT, upload_queue) },
	{ "user", S(user) },
	{ "sandbox", N(CFG_BOOL, sandbox) },
};

/* Embedded defaults: everything local, nothing to set up. */
void
config_defaults(struct config *c)
{
	memset(c, 0, sizeof(*c));
	str_lcpy(c->listen, "127.0.0.1:8080", sizeof(c->listen));
	str_lcpy(c->data_dir, "var", sizeof(c->data_dir));
	str_lcpy(c->base_url, "http://127.0.0.1:8080", sizeof(c->base_url));
	str_lcpy(c->mail_from, "keydir@localhost.localdomain",
	    sizeof(c->mail_from));
	c->max_body = 1024 * 1024;
	c->max_uids = 100;
	c->max_subkeys = 100;
	c->max_certs = 100;
	c->max_key_bits = 8192;
	c->max_sig_checks = 1000;
	c->token_ttl = 7 * 86400;
	c->upload_ttl = 3600;
	c->mail_rate = 600;
	/* abuse limits (docs/RELIABILITY.md, "Mail and storage") */
	c->max_mails_per_upload = 10;
	c->mail_global_rate = (struct config_rate){ 60, 60 };
	c->max_unconfirmed_per_client = 100;
	c->max_unconfirmed_bytes = (size_t)1 << 30;
	c->mail_retry_min = 30;
	c->mail_retry_max = 3600;
	c->reverify_interval = 180 * 86400;
	c->reverify_grace = 14 * 86400;
	c->unconfirmed_ttl = 14 * 86400;
	c->sent_mail_ttl = 30 * 86400;
	c->server_key_ttl = 3 * 365 * 86400;
	c->server_key_grace = 30 * 86400;
	c->maintain_every = 600;
	c->threads = 8;
	c->rate_limits = true;
	c->rate_lookups = (struct config_rate){ 1200, 60 };
	c->rate_uploads = (struct config_rate){ 60, 3600 };
	c->rate_mails = (struct config_rate){ 20, 3600 };
	str_lcpy(c->proxy_header, "X-Forwarded-For", sizeof(c->proxy_header));
	c->max_client_conns = 32;
	c->conn_timeout = 30;
	c->request_timeout = 60;
	c->header_timeout = 15;
	c->upload_workers = 2;
	c->upload_queue = 64;
	c->lookup_cache = (size_t)64 << 20;
	c->sandbox = true;
}

int
config_rate(const char *s, struct config_rate *out)
{
	char *end;
	unsigned long n;
	int64_t per;

	if (!strcmp(s, "0") || !strcmp(s, "off")) {
		out->n = 0;
		out->per = 1;
		return 0;
	}
	errno = 0;
	n = strtoul(s, &end, 10);
	if (errno || end == s || *s == '-' || n == 0 || n > 1000000 ||
	    *end != '/' || (per = config_duration(end + 1)) <= 0 ||
	    per > 366 * 86400)
		return -1;
	out->n = (unsigned)n;
	out->per = per;
	return 0;
}

/* Seconds from "N[smhd]". */
int64_t
config_duration(const char *s)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	/* up to 100 years, so that no caller's arithmetic overflows */
	if (errno || end == s || v < 0 || v > 100LL * 366 * 86400)
		return -1;
	switch (*end) {
	case '\0':
	case 's':
		break;
	case 'm':
		v *= 60;
		break;
	case 'h':
		v *= 3600;
		break;
	case 'd':
		v *= 86400;
		break;
	default:
		return -1;
	}
	if (*end && end[1] != '\0')
		return -1;
	return v;
}

/* Size with optional k/M suffix. */
static int
parse_size(const char *s, size_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *s == '-')
		return -1;
	if (*end == 'k' || *end == 'K')
		v *= 1024, end++;
	else if (*end == 'M')
		v *= 1024 * 1024, end++;
	if (*end != '\0' || v == 0)
		return -1;
	*out = (size_t)v;
	return 0;
}

/* A limit: a count or a size with k/M/G suffix; 0 (off) allowed. */
static int
parse_limit(const char *s, size_t *out)
{
	char *end;
	unsigned long long v, mul = 1;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *s == '-')
		return -1;
	if (*end == 'k' || *end == 'K')
		mul = 1024, end++;
	else if (*end == 'M')
		mul = 1024 * 1024, end++;
	else if (*end == 'G')
		mul = 1024 * 1024 * 1024, end++;
	if (*end != '\0' || v > SIZE_MAX / mul)
		return -1;
	*out = (size_t)(v * mul);
	return 0;
}

static int
parse_bool(const char *s, bool *out)
{
	if (!strcmp(s, "1") || !strcmp(s, "yes") || !strcmp(s, "true") ||
	    !strcmp(s, "on"))
		*out = true;
	else if (!strcmp(s, "0") || !strcmp(s, "no") ||
	    !strcmp(s, "false") || !strcmp(s, "off"))
		*out = false;
	else
		return -1;
	return 0;
}

/* Set one key. */
int
config_set(struct config *c, const char *key, const char *value,
    struct err *e)
{
	const struct cfg_key *k = NULL;
	char *p;
	size_t i, sz;
	int64_t d;

	for (i = 0; i < sizeof(cfg_keys) / sizeof(cfg_keys[0]); i++)
		if (!strcmp(cfg_keys[i].name, key))
			k = &cfg_keys[i];
	if (k == NULL)
		return err_set(e, ERR_INVALID, "unknown setting '%s'", key);
	p = (char *)c + k->off;
	switch (k->type) {
	case CFG_STR:
		if (str_lcpy(p, value, k->len) >= k->len)
			return err_set(e, ERR_INVALID, "'%s' is too long", key);
		if (k->off == offsetof(struct config, base_url))
			c->base_url_set = true;
		return 0;
	case CFG_SIZE:
		if (parse_size(value, &sz) == -1)
			break;
		*(size_t *)(void *)p = sz;
		return 0;
	case CFG_DURATION:
		if ((d = config_duration(value)) <= 0)
			break;
		*(int64_t *)(void *)p = d;
		return 0;
	case CFG_BOOL:
		if (parse_bool(value, (bool *)(void *)p) == -1)
			break;
		return 0;
	case CFG_UINT:
		/* 0 is a count here: no workers, no cap */
		if (!strcmp(value, "0"))
			sz = 0;
		else if (parse_size(value, &sz) == -1 || sz > 4096)
			break;
		*(unsigned *)(void *)p = (unsigned)sz;
		return 0;
	case CFG_RATE:
		if (config_rate(value, (struct config_rate *)(void *)p) == -1)
			break;
		return 0;
	case CFG_LIMIT:
		if (parse_limit(value, &sz) == -1)
			break;
		*(size_t *)(void *)p = sz;
		return 0;
	}
	return err_set(e, ERR_INVALID, "bad value '%s' for '%s'", value, key);
}

struct ini_ctx {
	struct config *c;
	struct err *e;
	int failed;
};

static int
ini_cb(void *arg, const char *section, const char *name, const char *value)
{
	struct ini_ctx *x = arg;

	(void)section;
	if (x->failed)
		return 0;
	if (config_set(x->c, name, value, x->e) == -1) {
		x->failed = 1;
		return 0;
	}
	return 1;
}

/* trusted_proxies: IPv4 or IPv6 addresses, separated by commas or
 * spaces. */
static int
config_proxies_check(const char *list, struct err *e)
{
	char one[64];
	unsigned char a[16];
	const char *p = list;
	size_t n;

	while (*p) {
		n = strcspn(p, ", ");
		if (n > 0) {
			if (n >= sizeof(one))
				return err_set(e, ERR_INVALID, "bad address in "
				    "trusted_proxies");
			memcpy(one, p, n);
			one[n] = '\0';
			if (inet_pton(AF_INET, one, a) != 1 &&
			    inet_pton(AF_INET6, one, a) != 1)
				return err_set(e, ERR_INVALID, "bad address "
				    "'%s' in trusted_proxies", one);
		}
		p += n;
		p += strspn(p, ", ");
	}
	return 0;
}

/* wkd_domains: DNS names (ASCII; an IDN as its A-labels), lower-cased
 * here, separated by commas or spaces. */
static int
config_wkd_check(char *list, struct err *e)
{
	char *p;
	size_t n, i;

	for (p = list; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	for (p = list + strspn(list, ", "); *p; p += strspn(p, ", ")) {
		n = strcspn(p, ", ");
		for (i = 0; i < n; i++)
			if (!isalnum((unsigned char)p[i]) && p[i] != '-' &&
			    p[i] != '.')
				break;
		if (i < n || n == 0 || n > 253 || p[0] == '.' || p[0] == '-' ||
		    p[n - 1] == '.' || memchr(p, '.', n) == NULL)
			return err_set(e, ERR_INVALID, "bad domain '%.*s' in "
			    "wkd_domains", (int)(n < 64 ? n : 64), p);
		p += n;
	}
	return 0;
}

bool
config_wkd_domain(const struct config *c, const char *domain, size_t len)
{
	const char *p;
	size_t n;

	for (p = c->wkd_domains; *p; p += n) {
		p += strspn(p, ", ");
		n = strcspn(p, ", ");
		if (n > 0 && n == len && strncasecmp(p, domain, n) == 0)
			return true;
	}
	return false;
}

/* Read an INI file. */
int
config_load(struct config *c, const char *path, struct err *e)
{
	struct ini_ctx x = { c, e, 0 };
	int rc;

	rc = ini_parse(path, ini_cb, &x);
	if (rc == -1)
		return err_set(e, ERR_INVALID, "cannot open config '%s'", path);
	if (x.failed)
		return -1;
	if (rc > 0)
		return err_set(e, ERR_INVALID, "config '%s': syntax error on "
		    "line %d", path, rc);
	return 0;
}

/*
 * The base URL that reaches listen ("HOST:PORT", HOST an IPv4 address or
 * [IPv6]) from this machine, into url.  A wildcard address is nowhere to
 * connect to, so it becomes the loopback address of its family.
 */
static int
config_url_of_listen(const char *listen, char *url, size_t sz,
    struct err *e)
{
	struct in6_addr a6;
	struct in_addr a4;
	const char *colon = strrchr(listen, ':');
	char host[128], *end;
	size_t hl;
	long port;

	if (colon == NULL || (hl = (size_t)(colon - listen)) == 0 ||
	    hl >= sizeof(host))
		goto bad;
	memcpy(host, listen, hl);
	host[hl] = '\0';
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	if (colon[1] < '0' || colon[1] > '9' || *end != '\0' || errno ||
	    port < 1 || port > 65535)
		return err_set(e, ERR_INVALID, "bad port in listen '%s': "
		    "1 to 65535 wanted", listen);
	if (host[0] == '[' && hl > 2 && host[hl - 1] == ']') {
		host[hl - 1] = '\0';
		if (inet_pton(AF_INET6, host + 1, &a6) != 1)
			goto bad;
		if (IN6_IS_ADDR_UNSPECIFIED(&a6))
			str_lcpy(host, "[::1]", sizeof(host));
		else
			host[hl - 1] = ']';
	} else if (inet_pton(AF_INET, host, &a4) != 1)
		goto bad;
	else if (a4.s_addr == htonl(INADDR_ANY))
		str_lcpy(host, "127.0.0.1", sizeof(host));
	if ((size_t)snprintf(url, sz, "http://%s:%ld", host, port) >= sz)
		goto bad;
	return 0;
bad:
	return err_set(e, ERR_INVALID, "bad listen '%s': HOST:PORT wanted, "
	    "HOST an IPv4 address or an IPv6 one in brackets", listen);
}

/* key-submission@ and the host of base_url (no port, no brackets). */
static int
config_submission_default(struct config *c, struct err *e)
{
	const char *h = strstr(c->base_url, "://");
	size_t n;

	if (h == NULL)
		return err_set(e, ERR_INVALID, "bad base_url '%s'",
		    c->base_url);
	h += 3;
	if (*h == '[') {
		h++;
		n = strcspn(h, "]");
	} else
		n = strcspn(h, ":/?#");
	if (n == 0 || (size_t)snprintf(c->submission_address,
	    sizeof(c->submission_address), "key-submission@%.*s", (int)n, h) >=
	    sizeof(c->submission_address))
		return err_set(e, ERR_INVALID, "no host in base_url '%s' for "
		    "submission_address", c->base_url);
	return 0;
}

/* Derive and check. */
int
config_finish(struct config *c, struct err *e)
{
	char url[sizeof(c->base_url)];
	size_t n;

	if (c->database[0] == '\0') {
		n = (size_t)snprintf(c->database, sizeof(c->database),
		    "sqlite:%s/keydir.db", c->data_dir);
		if (n >= sizeof(c->database))
			return err_set(e, ERR_INVALID, "data_dir too long");
	}
	/* checked for every command, so that a bad listen in a config file
	 * shared by serve and maintain is found by either */
	if (config_url_of_listen(c->listen, url, sizeof(url), e) == -1)
		return -1;
	/* the links in mail and on pages must reach this server: without a
	 * base_url, they point where it listens */
	if (!c->base_url_set)
		str_lcpy(c->base_url, url, sizeof(c->base_url));
	n = strlen(c->base_url);
	while (n > 0 && c->base_url[n - 1] == '/')
		c->base_url[--n] = '\0';
	if (strncmp(c->base_url, "http://", 7) &&
	    strncmp(c->base_url, "https://", 8))
		return err_set(e, ERR_INVALID, "base_url must start with "
		    "http:// or https://");
	if (c->submission_address[0] == '\0' &&
	    config_submission_default(c, e) == -1)
		return -1;
	if (strchr(c->submission_address, '@') == NULL ||
	    str_has_ctl(c->submission_address,
	    strlen(c->submission_address)))
		return err_set(e, ERR_INVALID, "bad submission_address '%s'",
		    c->submission_address);
	if (c->server_key_ttl < 86400)
		return err_set(e, ERR_INVALID, "server_key_ttl must be a day "
		    "or more");
	if (strchr(c->mail_from, '@') == NULL ||
	    str_has_ctl(c->mail_from, strlen(c->mail_from)))
		return err_set(e, ERR_INVALID, "bad mail_from '%s'",
		    c->mail_from);
	if (c->threads == 0)
		c->threads = 1;
	if (c->threads > 256 || c->upload_workers > 64)
		return err_set(e, ERR_INVALID, "threads (at most 256) or "
		    "upload_workers (at most 64) is too large");
	if (c->upload_queue == 0)
		c->upload_queue = 1;
	if (config_proxies_check(c->trusted_proxies, e) == -1 ||
	    config_wkd_check(c->wkd_domains, e) == -1)
		return -1;
	return 0;
}
