/*
 * conf_limits: the store contract for the abuse limits, one call at a
 * time: keys per client (client_keys, client_forget), room for
 * unconfirmed keys (unconfirmed_room and the totals stats reports, on
 * every path that changes a key) and mail sent lately
 * (outbox_sent_since).  Each group opens a fresh store of its own.  Part
 * of the conformance suite (conformance.h).
 */
#ifndef KEYDIR_CONF_LIMITS_H
#define KEYDIR_CONF_LIMITS_H

#include "conf_fix.h"

#define CONF_IP1 "192.0.2.1"
#define CONF_IP2 "2001:db8:1:2::/64"

/* What k takes, as the contract counts it. */
static int64_t
conf_size(const struct conf_key *k)
{
	return (int64_t)(k->c.full_len + k->c.published_len +
	    strlen(k->c.hkp_index));
}

/* client_keys(client, since) as "n@oldest", "error" on failure. */
static const char *
conf_ckeys(struct store *s, const char *client, int64_t since)
{
	static char out[8][48];
	static unsigned r;
	char *o = out[r++ % 8];
	int64_t n = -1, oldest = -1;
	struct err e;

	if (store_client_keys(s, client, since, &n, &oldest, &e) == -1)
		return "error";
	snprintf(o, 48, "%lld@%lld", (long long)n, (long long)oldest);
	return o;
}

/* stats' unconfirmed count and bytes as "keys/bytes". */
static const char *
conf_unconf(struct store *s)
{
	static char out[4][48];
	static unsigned r;
	char *o = out[r++ % 4];
	struct store_stats st;
	struct err e;

	if (store_stats(s, &st, &e) == -1)
		return "error";
	snprintf(o, 48, "%lld/%lld", (long long)st.unconfirmed,
	    (long long)st.unconfirmed_bytes);
	return o;
}

/* "keys/bytes" for n keys of total size b. */
static const char *
conf_kb(int64_t n, int64_t b)
{
	static char out[4][48];
	static unsigned r;
	char *o = out[r++ % 4];

	snprintf(o, 48, "%lld/%lld", (long long)n, (long long)b);
	return o;
}

/* The client cert_get returns for fpr; "none" when there is no key. */
static const char *
conf_client_of(struct store *s, const char *fpr)
{
	static char out[4][STORE_CLIENT_LEN + 1];
	static unsigned r;
	char *o = out[r++ % 4];
	struct store_cert g;
	struct err e;

	if (store_cert_get(s, fpr, &g, &e) != 0)
		return "none";
	str_lcpy(o, g.client, STORE_CLIENT_LEN + 1);
	store_cert_release(&g);
	return o;
}

/* Keys per client: who first stored a key, counted while it never had
 * an address, forgotten on request. */
static void
conf_t_client(const struct conf_backend *b)
{
	struct conf_key a, k2, c, d, r;
	struct store *s;
	struct err e;
	size_t n = 0;

	if ((s = conf_open(b->fresh_url(), "client")) == NULL)
		return;
	conf_key_init(&a, "0000000100000000000000000000000900000001", 1000);
	str_lcpy(a.c.client, CONF_IP1, sizeof(a.c.client));
	conf_key_init(&k2, "0000000200000000000000000000000900000002", 2000);
	str_lcpy(k2.c.client, CONF_IP1, sizeof(k2.c.client));
	conf_key_init(&c, "0000000300000000000000000000000900000003", 2000);
	str_lcpy(c.c.client, CONF_IP2, sizeof(c.c.client));
	conf_key_init(&d, "0000000400000000000000000000000900000004", 2000);
	conf_key_init(&r, "0000000500000000000000000000000900000005", 3000);
	str_lcpy(r.c.client, CONF_IP1, sizeof(r.c.client));
	r.c.revoked = true;
	ok(store_begin(s, &e) == 0 && store_cert_put(s, &a.c, &e) == 0 &&
	    store_cert_put(s, &k2.c, &e) == 0 &&
	    store_cert_put(s, &c.c, &e) == 0 &&
	    store_cert_put(s, &d.c, &e) == 0 &&
	    store_cert_put(s, &r.c, &e) == 0,
	    "five keys: three by one client (one revoked), one by another, "
	    "one by none");
	is_str(conf_ckeys(s, CONF_IP1, 0), "3@1000",
	    "client_keys: the client's three, revoked too; the earliest");
	is_str(conf_ckeys(s, CONF_IP1, 2000), "2@2000",
	    "since: first_stored >= since");
	is_str(conf_ckeys(s, CONF_IP1, 3001), "0@0", "none since: 0, oldest 0");
	is_str(conf_ckeys(s, CONF_IP2, 0), "1@2000", "the other client's one");
	is_str(conf_ckeys(s, "198.51.100.9", 0), "0@0", "an unknown client");
	is_str(conf_client_of(s, a.c.fpr), CONF_IP1, "cert_get: the client");
	is_str(conf_client_of(s, d.c.fpr), "", "cert_get: \"\" for none");
	str_lcpy(a.c.client, CONF_IP2, sizeof(a.c.client));
	a.c.updated = 2500;
	ok(store_cert_put(s, &a.c, &e) == 0, "an update by another client");
	is_str(conf_client_of(s, a.c.fpr), CONF_IP1,
	    "... keeps the first client");
	is_str(conf_ckeys(s, CONF_IP2, 0), "1@2000", "... and counts for it");
	ok(store_addr_set(s, CONF_ADDR, k2.c.fpr, 2600, &e) == 0 &&
	    store_addr_del(s, CONF_ADDR, &e) == 0,
	    "one key had an address (published, then unpublished)");
	is_str(conf_ckeys(s, CONF_IP1, 0), "2@1000",
	    "a key that had an address counts no more");
	ok(store_commit(s, &e) == 0, "commit");
	ok(store_begin(s, &e) == 0 && store_client_forget(s, 2000, &n, &e) ==
	    0 && n == 1, "client_forget: first_stored < before");
	is_str(conf_client_of(s, a.c.fpr), "", "the key's client is gone");
	is_str(conf_ckeys(s, CONF_IP1, 0), "1@3000", "and counts for nobody");
	ok(store_client_forget(s, 2000, &n, &e) == 0 && n == 0,
	    "again: nothing left to forget");
	ok(store_client_forget(s, 3001, &n, &e) == 0 && n == 3,
	    "every client older than before");
	is_str(conf_ckeys(s, CONF_IP1, 0), "0@0", "none left");
	ok(store_commit(s, &e) == 0, "commit");
	store_close(s);
}

/* The totals follow every path that changes a key: put, update, an
 * address, revocation, delete. */
static void
conf_t_unconfirmed(const struct conf_backend *b)
{
	struct conf_key x, y, y2, r;
	struct store *s;
	struct err e;

	if ((s = conf_open(b->fresh_url(), "unconfirmed")) == NULL)
		return;
	conf_key_init(&x, "0000000100000000000000000000000A00000001", 100);
	conf_key_init(&y, "0000000200000000000000000000000A00000002", 200);
	/* a longer version: other sizes */
	conf_key_init(&y2, "0000000200000000000000000000000A00000002",
	    123456789);
	conf_key_init(&r, "0000000300000000000000000000000A00000003", 300);
	r.c.revoked = true;
	ok(store_begin(s, &e) == 0, "begin");
	is_str(conf_unconf(s), "0/0", "empty: none");
	ok(store_cert_put(s, &x.c, &e) == 0 && store_cert_put(s, &y.c, &e) ==
	    0 && store_cert_put(s, &r.c, &e) == 0, "two keys and a revoked one");
	is_str(conf_unconf(s), conf_kb(2, conf_size(&x) + conf_size(&y)),
	    "stats: the two, their sizes added; not the revoked one");
	ok(conf_size(&y2) > conf_size(&y) &&
	    store_cert_put(s, &y2.c, &e) == 0, "an update that grows one");
	is_str(conf_unconf(s), conf_kb(2, conf_size(&x) + conf_size(&y2)),
	    "its new size counts");
	ok(store_addr_set(s, CONF_ADDR, x.c.fpr, 400, &e) == 0,
	    "an address for the other");
	is_str(conf_unconf(s), conf_kb(1, conf_size(&y2)),
	    "a key with an address counts no more");
	ok(store_addr_del(s, CONF_ADDR, &e) == 0, "the address unpublished");
	is_str(conf_unconf(s), conf_kb(1, conf_size(&y2)),
	    "... and it had one: still not");
	ok(store_commit(s, &e) == 0, "commit");
	ok(store_begin(s, &e) == 0, "begin");
	y.c.revoked = true;
	ok(store_cert_put(s, &y.c, &e) == 0, "the grown key revoked");
	is_str(conf_unconf(s), "0/0", "a revoked key counts no more");
	y.c.revoked = false;
	ok(store_cert_put(s, &y.c, &e) == 0 && strcmp(conf_unconf(s),
	    conf_kb(1, conf_size(&y))) == 0,
	    "(a put that is not revoked: it counts again)");
	ok(store_cert_del(s, y.c.fpr, &e) == 0, "cert_del");
	is_str(conf_unconf(s), "0/0", "a deleted key counts no more");
	store_rollback(s);
	ok(store_begin_read(s, &e) == 0, "begin_read");
	is_str(conf_unconf(s), conf_kb(1, conf_size(&y2)),
	    "rolled back: the totals as committed");
	store_rollback(s);
	store_close(s);
}

/* unconfirmed_room: the oldest go first, never keep, a key that had an
 * address or a revoked one; 1 when it cannot be done. */
static void
conf_t_room(const struct conf_backend *b)
{
	struct conf_key k[4], p, r;
	struct store_token t, tg;
	struct store_cert g;
	struct store *s;
	struct err e;
	int64_t sz[4];
	size_t n = 9;
	char fpr[FPR_LEN + 1];
	int i;

	if ((s = conf_open(b->fresh_url(), "room")) == NULL)
		return;
	/* k[0] at 100, k[1] and k[2] both at 200 (k[1] stored first), k[3]
	 * at 300; a published key and a revoked one, both older */
	for (i = 0; i < 4; i++) {
		conf_fpr(fpr, 0xB, 1, (unsigned)(4 - i));
		conf_key_init(&k[i], fpr, i == 0 ? 100 : i == 3 ? 300 : 200);
		sz[i] = conf_size(&k[i]);
	}
	conf_key_init(&p, "0000000100000000000000000000000C00000001", 10);
	conf_key_init(&r, "0000000200000000000000000000000C00000002", 10);
	r.c.revoked = true;
	conf_token(&t, 0xC0, 1, TOKEN_VERIFY, k[0].c.fpr, CONF_ADDR, 100,
	    9000);
	ok(store_begin(s, &e) == 0 && store_cert_put(s, &p.c, &e) == 0 &&
	    store_addr_set(s, CONF_BOB, p.c.fpr, 20, &e) == 0 &&
	    store_cert_put(s, &r.c, &e) == 0, "a published and a revoked key");
	for (i = 0; i < 4; i++)
		ok(store_cert_put(s, &k[i].c, &e) == 0, "key %d stored at %lld",
		    i, (long long)k[i].c.updated);
	ok(store_token_put(s, &t, &e) == 0, "a token for key 0");
	ok(store_unconfirmed_room(s, (uint64_t)(sz[0] + sz[1] + sz[2] + sz[3]),
	    k[3].c.fpr, &n, &e) == 0 && n == 0,
	    "room: everything fits max: nothing goes");
	ok(store_unconfirmed_room(s, (uint64_t)(sz[1] + sz[2] + sz[3]),
	    k[3].c.fpr, &n, &e) == 0 && n == 1, "one too many: one goes");
	ok(store_cert_get(s, k[0].c.fpr, &g, &e) == 1 &&
	    store_token_get(s, t.hash, &tg, &e) == 1,
	    "the oldest, with its token");
	is_str(conf_unconf(s), conf_kb(3, sz[1] + sz[2] + sz[3]),
	    "the totals after it");
	ok(store_unconfirmed_room(s, (uint64_t)sz[3] - 1, k[3].c.fpr, &n, &e) ==
	    1 && n == 0, "keep alone over max: 1");
	is_str(conf_unconf(s), conf_kb(3, sz[1] + sz[2] + sz[3]),
	    "... and nothing went");
	ok(store_unconfirmed_room(s, (uint64_t)(sz[2] + sz[3]), k[3].c.fpr, &n,
	    &e) == 0 && n == 1 && store_cert_get(s, k[1].c.fpr, &g, &e) == 1,
	    "a tie in first_stored: the one stored first goes");
	ok(store_cert_get(s, k[2].c.fpr, &g, &e) == 0,
	    "the other is still there");
	store_cert_release(&g);
	ok(store_unconfirmed_room(s, (uint64_t)sz[3], k[2].c.fpr, &n, &e) == 0 &&
	    n == 1 && store_cert_get(s, k[3].c.fpr, &g, &e) == 1,
	    "keep is never taken, however new: the older one went");
	ok(store_unconfirmed_room(s, 0, NULL, &n, &e) == 0 && n == 1 &&
	    strcmp(conf_unconf(s), "0/0") == 0, "max 0, no keep: all go");
	ok(store_cert_get(s, p.c.fpr, &g, &e) == 0,
	    "the key that had an address stays");
	store_cert_release(&g);
	ok(store_cert_get(s, r.c.fpr, &g, &e) == 0, "the revoked key stays");
	store_cert_release(&g);
	ok(store_unconfirmed_room(s, 0, NULL, &n, &e) == 0 && n == 0,
	    "nothing unconfirmed: 0, nothing goes");
	ok(store_commit(s, &e) == 0, "commit");
	ok(conf_lookup_rc(s, STORE_BY_FPR, k[0].c.fpr) == 1,
	    "lookups find a key that made room no more");
	store_close(s);
}

/* Mail sent lately: counted from the sent times, gone when purged. */
static void
conf_t_sent_since(const struct conf_backend *b)
{
	struct store_mail *rows = NULL;
	int64_t n = -1, oldest = -1, id[4];
	struct store *s;
	struct err e;
	size_t k = 0, i;

	if ((s = conf_open(b->fresh_url(), "sent since")) == NULL)
		return;
	ok(store_begin(s, &e) == 0 &&
	    store_outbox_add(s, "m1@example.org", "1", 1, 1, &e) == 0 &&
	    store_outbox_add(s, "m2@example.org", "2", 1, 1, &e) == 0 &&
	    store_outbox_add(s, "m3@example.org", "3", 1, 1, &e) == 0 &&
	    store_outbox_add(s, "m4@example.org", "4", 1, 1, &e) == 0,
	    "four mails queued, to four addresses (one address's go one "
	    "at a time)");
	ok(store_outbox_sent_since(s, 0, &n, &oldest, &e) == 0 && n == 0 &&
	    oldest == 0, "none sent: 0, oldest 0");
	ok(store_outbox_due(s, 10, 600, "t", 4, &rows, &k, &e) == 0 && k == 4,
	    "four leased");
	for (i = 0; i < k && i < 4; i++)
		id[i] = rows[i].id;
	store_mails_free(rows, k);
	ok(k == 4 && store_outbox_done(s, id[0], 100, &e) == 0 &&
	    store_outbox_done(s, id[1], 160, &e) == 0 &&
	    store_outbox_retry(s, id[2], 1, 700, "421", &e) == 0 &&
	    store_outbox_fail(s, id[3], 1, 150, "550 no such user", &e) == 0,
	    "two sent at 100 and 160, one to be retried, one refused for "
	    "good at 150");
	ok(store_outbox_sent_since(s, 100, &n, &oldest, &e) == 0 && n == 2 &&
	    oldest == 100, "since 100: both (sent >= since)");
	ok(store_outbox_sent_since(s, 101, &n, &oldest, &e) == 0 && n == 1 &&
	    oldest == 160, "since 101: the later one");
	ok(store_outbox_sent_since(s, 161, &n, &oldest, &e) == 0 && n == 0 &&
	    oldest == 0, "since 161: none; unsent and failed never count");
	ok(store_outbox_purge(s, 101, &k, &e) == 0 && k == 1 &&
	    store_outbox_sent_since(s, 0, &n, &oldest, &e) == 0 && n == 1 &&
	    oldest == 160, "a purged row counts no more");
	ok(store_commit(s, &e) == 0, "commit");
	store_close(s);
}

#endif
