/*
 * t_limit: the per-client token buckets on a clock of our own, the client
 * key of an address, and the rate syntax of the settings.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "http.h"
#include "limit.h"
#include "tap.h"

#define LOOKUP	(1u << LIMIT_LOOKUP)
#define UPLOAD	(1u << LIMIT_UPLOAD)
#define MAIL	(1u << LIMIT_MAIL)

/* is_int: got == want, showing got when it is not */
#define is_int(got, want, ...) do {					\
	long g_ = (long)(got), w_ = (long)(want);			\
	ok(g_ == w_, __VA_ARGS__);					\
	if (g_ != w_)							\
		printf("#   got %ld, want %ld\n", g_, w_);		\
} while (0)

static void
t_buckets(void)
{
	struct config_rate r[LIMIT_KINDS] = { { 5, 60 }, { 2, 3600 }, { 0, 1 } };
	struct limit *l = limit_new(r);
	int64_t t = 1000000;
	unsigned i, got = 0;

	for (i = 0; i < 5; i++)
		got += limit_take(l, "192.0.2.1", LOOKUP, 1, t);
	is_int(got, 0, "5 lookups in a burst of 5: granted");
	is_int(limit_take(l, "192.0.2.1", LOOKUP, 1, t), 12,
	    "the 6th: wait 12 s (5 a minute)");
	is_int(limit_take(l, "192.0.2.2", LOOKUP, 1, t), 0,
	    "another client has its own bucket");
	is_int(limit_take(l, "192.0.2.1", LOOKUP, 1, t + 11900), 1,
	    "11.9 s later: not yet (1 s more)");
	is_int(limit_take(l, "192.0.2.1", LOOKUP, 1, t + 12000), 0,
	    "12 s later: one more");
	is_int(limit_take(l, "192.0.2.1", LOOKUP, 1, t + 12000), 12,
	    "... and only one");
	is_int(limit_take(l, "192.0.2.1", LOOKUP, 1, t + 3600000), 0,
	    "an hour later: granted");
	for (i = 0, got = 0; i < 4; i++)
		got += limit_take(l, "192.0.2.1", LOOKUP, 1, t + 3600000) == 0;
	is_int(got, 4, "... the bucket refilled to 5, not beyond");

	is_int(limit_take(l, "192.0.2.9", UPLOAD | LOOKUP, 1, t), 0, "upload 1");
	is_int(limit_take(l, "192.0.2.9", UPLOAD | LOOKUP, 1, t), 0, "upload 2");
	is_int(limit_take(l, "192.0.2.9", UPLOAD | LOOKUP, 1, t), 1800,
	    "upload 3: wait half an hour (2 an hour)");
	for (i = 0, got = 0; i < 3; i++)
		got += limit_take(l, "192.0.2.9", LOOKUP, 1, t) == 0;
	is_int(got, 3, "a refused request took no token: 3 lookups are left");
	for (i = 0, got = 0; i < 1000; i++)
		got += limit_take(l, "192.0.2.9", MAIL, 1, t);
	is_int(got, 0, "a kind with no rate is never limited");
	is_int(limit_take(l, "", LOOKUP | UPLOAD, 1, t + 1), 0,
	    "nor is an unknown client");
	is_int(limit_take(l, "192.0.2.30", LOOKUP, 5, t), 0,
	    "a batch of 5 lookups takes the whole bucket");
	is_int(limit_take(l, "192.0.2.30", LOOKUP, 1, t), 12,
	    "... and the next waits");
	is_int(limit_take(l, "192.0.2.31", LOOKUP, 6, t), 60,
	    "a batch of 6, more than the bucket holds: wait its whole period");
	is_int(limit_take(l, "192.0.2.31", LOOKUP, 5, t), 0,
	    "... and nothing was taken");
	limit_free(l);
}

/* More clients than slots: memory stays bounded, the newest are tracked */
static void
t_crowd(void)
{
	struct config_rate r[LIMIT_KINDS] = { { 1, 3600 }, { 0, 1 }, { 0, 1 } };
	struct limit *l = limit_new(r);
	char c[32];
	unsigned i, refused = 0;

	for (i = 0; i < 100000; i++) {
		snprintf(c, sizeof(c), "10.%u.%u.%u", i >> 16, (i >> 8) & 255,
		    i & 255);
		limit_take(l, c, LOOKUP, 1, 1000 + i);
	}
	for (i = 99000; i < 100000; i++) {
		snprintf(c, sizeof(c), "10.%u.%u.%u", i >> 16, (i >> 8) & 255,
		    i & 255);
		refused += limit_take(l, c, LOOKUP, 1, 200000) > 0;
	}
	ok(refused > 990, "after 100,000 clients the last 1,000 are still "
	    "tracked (%u of them refused a second lookup)", refused);
	/* the first ones were pushed out, but onto buckets as empty as
	 * theirs: coming back is no way to a fresh one */
	for (i = 0, refused = 0; i < 1000; i++) {
		snprintf(c, sizeof(c), "10.%u.%u.%u", i >> 16, (i >> 8) & 255,
		    i & 255);
		refused += limit_take(l, c, LOOKUP, 1, 200000) > 0;
	}
	is_int(refused, 1000, "... and the first 1,000, pushed out, are "
	    "refused too: no slot was idle to give them a fresh bucket");
	/* an hour later every bucket has refilled: anyone may have a slot */
	is_int(limit_take(l, "192.0.2.200", LOOKUP, 1, 200000 + 3600000), 0,
	    "an hour later, a new client gets a full bucket");
	limit_free(l);
}

static void
t_client_key(void)
{
	struct sockaddr_in s4;
	struct sockaddr_in6 s6;
	char k[REQ_CLIENT_MAX];

	memset(&s4, 0, sizeof(s4));
	s4.sin_family = AF_INET;
	inet_pton(AF_INET, "198.51.100.7", &s4.sin_addr);
	http_client_key((struct sockaddr *)&s4, k, sizeof(k));
	is_str(k, "198.51.100.7", "IPv4: the address");
	memset(&s6, 0, sizeof(s6));
	s6.sin6_family = AF_INET6;
	inet_pton(AF_INET6, "2001:db8:1:2:3:4:5:6", &s6.sin6_addr);
	http_client_key((struct sockaddr *)&s6, k, sizeof(k));
	is_str(k, "2001:db8:1:2::/64", "IPv6: its /64");
	inet_pton(AF_INET6, "::ffff:192.0.2.4", &s6.sin6_addr);
	http_client_key((struct sockaddr *)&s6, k, sizeof(k));
	is_str(k, "192.0.2.4", "IPv4-mapped IPv6: the IPv4 address");
	http_client_key(NULL, k, sizeof(k));
	is_str(k, "", "no address: \"\"");
}

static void
t_rates(void)
{
	struct config_rate r;
	struct config c;
	struct err e;

	ok(config_rate("60/1h", &r) == 0 && r.n == 60 && r.per == 3600,
	    "60/1h");
	ok(config_rate("5/30s", &r) == 0 && r.n == 5 && r.per == 30, "5/30s");
	ok(config_rate("off", &r) == 0 && r.n == 0, "off");
	ok(config_rate("0", &r) == 0 && r.n == 0, "0");
	ok(config_rate("60", &r) == -1 && config_rate("/1h", &r) == -1 &&
	    config_rate("60/", &r) == -1 && config_rate("-1/1h", &r) == -1 &&
	    config_rate("0/1h", &r) == -1 && config_rate("60/1x", &r) == -1,
	    "60, /1h, 60/, -1/1h, 0/1h, 60/1x: refused");
	config_defaults(&c);
	ok(c.rate_limits && c.rate_lookups.n == 1200 &&
	    c.rate_uploads.n == 60 && c.rate_mails.n == 20 &&
	    c.max_client_conns == 32 && c.upload_workers == 2,
	    "the defaults");
	ok(config_set(&c, "rate_mails", "1/1d", &e) == 0 &&
	    c.rate_mails.per == 86400, "rate_mails=1/1d");
	ok(config_set(&c, "rate_mails", "lots", &e) == -1 &&
	    strstr(e.msg, "rate_mails") != NULL, "a bad rate names the key");
	ok(config_set(&c, "trusted_proxies", "127.0.0.1, ::1", &e) == 0 &&
	    config_finish(&c, &e) == 0, "trusted_proxies 127.0.0.1, ::1");
	ok(config_set(&c, "trusted_proxies", "127.0.0.1, proxy.example", &e) ==
	    0 && config_finish(&c, &e) == -1 &&
	    strstr(e.msg, "proxy.example") != NULL,
	    "... a name instead of an address: refused by config_finish");
}

int
main(void)
{
	t_buckets();
	t_crowd();
	t_client_key();
	t_rates();
	return tap_done();
}
