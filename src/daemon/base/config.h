/*
 * config: keydird's settings.  Embedded defaults, then an INI file, then
 * command-line flags, all through config_set with the same key names.
 */
#ifndef KEYDIR_CONFIG_H
#define KEYDIR_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* A token bucket: n requests per per seconds, n at once; n 0 = none. */
struct config_rate {
	unsigned n;
	int64_t per;
};

struct config {
	char listen[128];	/* ADDR:PORT */
	char data_dir[1024];
	char database[1100];	/* store URL; default sqlite:DATA_DIR/keydir.db */
	char database_read[1100];	/* a replica for lookups (PostgreSQL) */
	size_t lookup_cache;	/* bytes of lookup answers kept (PostgreSQL) */
	char base_url[256];	/* scheme://authority, no trailing slash */
	bool base_url_set;	/* given; else config_finish derives it */
	char smtp_url[256];	/* "" = Maildir under DATA_DIR/mail */
	char smtp_user[128];
	char smtp_pass[128];
	bool smtp_starttls;
	char mail_from[256];
	size_t max_body;	/* bytes of one request body */
	size_t max_uids;
	size_t max_subkeys;
	size_t max_certs;	/* certs in one upload */
	size_t max_key_bits;	/* RSA modulus, ElGamal prime */
	size_t max_sig_checks;	/* self-signature verifications per upload */
	int64_t token_ttl;	/* confirmation links, seconds */
	int64_t upload_ttl;	/* VKS upload sessions, seconds */
	int64_t mail_rate;	/* one confirmation mail per address per this */
	/* abuse limits on mail and unconfirmed storage; 0 turns each off */
	size_t max_mails_per_upload;	/* confirmation mails per upload or
				 * request-verify; the rest wait for another */
	struct config_rate mail_global_rate; /* at most n mails sent in any
				 * per seconds, all told; the rest wait
				 * in the outbox */
	size_t max_unconfirmed_per_client; /* keys without a confirmed address
				 * one client may store per 24 hours */
	size_t max_unconfirmed_bytes;	/* bytes of never-confirmed keys; past
				 * it the oldest go */
	int64_t mail_retry_min;	/* first SMTP retry delay */
	int64_t mail_retry_max;	/* backoff ceiling */
	int64_t reverify_interval; /* ask each address again after this */
	int64_t reverify_grace;	/* unpublish when no yes within this */
	int64_t unconfirmed_ttl; /* keep never-confirmed keys this long */
	int64_t sent_mail_ttl;	/* keep sent mail (the outbox) this long */
	char submission_address[256];	/* the server key's user ID; ""
				 * = key-submission@ + base_url's host */
	int64_t server_key_ttl;	/* a new server key expires after this */
	int64_t server_key_grace; /* a replaced key still decrypts this long */
	int64_t maintain_every;	/* scheduler period inside serve */
	bool one_address_per_key;
	unsigned threads;	/* HTTP worker threads */
	/* the per-client limits (docs/RELIABILITY.md) */
	bool rate_limits;	/* off: no bucket at all (benchmarks) */
	struct config_rate rate_lookups, rate_uploads, rate_mails;
	char trusted_proxies[256]; /* peers whose proxy_header is believed */
	/* the mail domains whose Web Key Directory this server is (their
	 * DNS points openpgpkey.DOMAIN or DOMAIN here): names separated by
	 * commas or spaces, lower case; "" none */
	char wkd_domains[1024];
	char proxy_header[64];	/* the client's address, rightmost entry */
	unsigned max_client_conns; /* open connections per client address */
	int64_t conn_timeout;	/* a connection idle this long is closed */
	int64_t request_timeout; /* a request (its body) takes at most this */
	int64_t header_timeout;	/* a request's headers come within this */
	unsigned upload_workers; /* threads that verify uploads */
	unsigned upload_queue;	/* uploads waiting for one; more: 503 */
	char user[64];		/* the account to drop to when run as root */
	bool sandbox;		/* Landlock and seccomp in serve */
};

/* Embedded defaults. */
void config_defaults(struct config *c);
/* Set key to value; ERR_INVALID naming the key for unknown keys or bad
 * values. */
int config_set(struct config *c, const char *key, const char *value,
    struct err *e);
/* Read an INI file (keys in any section or none). */
int config_load(struct config *c, const char *path, struct err *e);
/* Fill values derived from others (database from data_dir; base_url from
 * listen unless it was set, a wildcard address becoming loopback); check.
 * ERR_INVALID naming the setting at fault. */
int config_finish(struct config *c, struct err *e);
/* Parse "N/DURATION" ("60/1h"), or "0" or "off" for no limit. */
int config_rate(const char *s, struct config_rate *out);
/* Parse "90", "90s", "10m", "2h", "7d" into seconds; -1 when malformed. */
int64_t config_duration(const char *s);

/* Whether domain (len bytes, any case) is one of c's wkd_domains. */
bool config_wkd_domain(const struct config *c, const char *domain,
    size_t len);

#endif
