/*
 * conf_fix: what the store conformance suite (conformance.h) is built
 * from: the backend description a runner hands in, keys whose every field
 * says which key and which version it is, and units of work run the way
 * the directory runs them.  Only store.h is used, never a backend's
 * internals or its database, so the suite runs unchanged on any backend.
 * Header-only, like storetest.h.
 */
#ifndef KEYDIR_CONF_FIX_H
#define KEYDIR_CONF_FIX_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "err.h"
#include "store.h"
#include "str.h"
#include "tap.h"

/* What a runner (t_store_conf.c, later t_store_conf_pg.c) tells the suite. */
struct conf_backend {
	const char	*name;		/* for the TAP lines */
	/* A URL naming a new, empty store; valid until the next call. */
	const char	*(*fresh_url)(void);
	/* A URL store_open must refuse; NULL if there is none to try. */
	const char	*bad_url;
	/*
	 * What store_begin does while another handle holds a write unit.
	 * 0: the suite accepts any conforming behaviour (wait, or fail the
	 * unit with ERR_RETRY at any call, its commit too).  Otherwise the
	 * backend waits up to about this many ms for that unit to end and
	 * then fails with ERR_RETRY (SQLite's busy timeout), and the suite
	 * asserts exactly that.
	 */
	int		 busy_ms;
	/*
	 * Whether the backend knows which nodes are alive (store.h,
	 * "Nodes"): node_join is 0, a closed handle's leases are taken over
	 * at once, one handle at a time has the maintenance turn
	 * (PostgreSQL).  false: node_join is 1, leases wait for their end,
	 * the turn is every handle's (SQLite).
	 */
	bool		 nodes;
	/*
	 * Break every node's connection from outside, as a restarted
	 * database server or a terminated session would, and return once
	 * they are gone; NULL when the backend has none (conf_node.h).
	 */
	void		(*cut_nodes)(void);
};

#define CONF_ADDR "alice@example.org"
#define CONF_BOB "bob@example.org"
#define CONF_PUB_HEAD "-----BEGIN PGP PUBLIC KEY BLOCK-----\n"
#define CONF_RETRY_MAX 10	/* reruns of a unit before giving up */

/* One key of a test: the cert and the bytes it points into.  Never copy
 * one: c points into it. */
struct conf_key {
	struct store_cert	c;
	struct store_subkey	subs[4];
	char			pub[160];
	char			idx[128];
	uint8_t			full[8];
};

/* Milliseconds on the monotonic clock. */
static int64_t
conf_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A fingerprint: pre, 16 zeros, then grp and n, which make the key id. */
static void
conf_fpr(char out[FPR_LEN + 1], unsigned pre, unsigned grp, unsigned n)
{
	snprintf(out, FPR_LEN + 1, "%08X0000000000000000%08X%08X", pre,
	    grp, n);
}

/* The v4 key id: the last 16 hex digits. */
static void
conf_keyid(const char *fpr, char out[KEYID_LEN + 1])
{
	str_lcpy(out, fpr + FPR_LEN - KEYID_LEN,
	    KEYID_LEN + 1);
}

/* The ETag of key fpr at version ver: one per pair. */
static void
conf_etag(const char *fpr, int64_t ver, char out[STORE_ETAG_LEN + 1])
{
	uint8_t h[STORE_HASH_LEN];

	for (size_t i = 0; i < sizeof(h); i++)
		h[i] = (uint8_t)(fpr[i % FPR_LEN] * 31 + ver * 7 +
		    (int64_t)i);
	store_etag(h, out);
}

/*
 * Key fpr at version ver: published form, index line, ETag, updated and
 * the full bytes all carry fpr and ver, so a field read back from another
 * key or another version shows.  No subkeys yet (conf_key_sub).
 */
static void
conf_key_init(struct conf_key *k, const char *fpr, int64_t ver)
{
	memset(k, 0, sizeof(*k));
	str_lcpy(k->c.fpr, fpr, sizeof(k->c.fpr));
	conf_keyid(fpr, k->c.keyid);
	snprintf(k->pub, sizeof(k->pub), CONF_PUB_HEAD "%s v%lld\n", fpr,
	    (long long)ver);
	snprintf(k->idx, sizeof(k->idx), "info:1:1\npub:%s:22:255:1000::\n"
	    "uid:v%lld\n", k->c.keyid, (long long)ver);
	/* binary, with NULs inside */
	k->full[0] = 0x99;
	k->full[1] = 0x00;
	k->full[2] = (uint8_t)ver;
	k->full[3] = 0x00;
	k->full[4] = (uint8_t)fpr[FPR_LEN - 1];
	k->c.full = k->full;
	k->c.full_len = 5;
	k->c.algo = 22;
	k->c.bits = 255;
	k->c.created = 1000;
	k->c.expires = 0;
	k->c.published = k->pub;
	k->c.published_len = strlen(k->pub);
	k->c.hkp_index = k->idx;
	conf_etag(fpr, ver, k->c.etag);
	k->c.updated = ver;
	k->c.subs = k->subs;
	k->c.nsubs = 0;
}

/* Give k one more subkey. */
static void
conf_key_sub(struct conf_key *k, const char *fpr)
{
	struct store_subkey *sk = &k->subs[k->c.nsubs++];

	str_lcpy(sk->fpr, fpr, sizeof(sk->fpr));
	conf_keyid(fpr, sk->keyid);
}

/* Append fingerprint s and a ',' to the list in out. */
static void
conf_cat(char *out, size_t sz, const char *s)
{
	size_t len = strlen(out);

	if (len < sz)
		snprintf(out + len, sz - len, "%.40s,", s);
}

/* Whether p (and p alone, if alone) is what k publishes. */
static bool
conf_pub_is(const struct store_pub *p, const struct conf_key *k)
{
	return strcmp(p->fpr, k->c.fpr) == 0 &&
	    strcmp(p->keyid, k->c.keyid) == 0 &&
	    p->published != NULL &&
	    p->published_len == k->c.published_len &&
	    memcmp(p->published, k->c.published, p->published_len) == 0 &&
	    p->published[p->published_len] == '\0' &&
	    p->hkp_index != NULL && strcmp(p->hkp_index, k->c.hkp_index) == 0 &&
	    strcmp(p->etag, k->c.etag) == 0 && p->updated == k->c.updated;
}

/* Whether a lookup answers k and nothing else. */
static bool
conf_finds(struct store *s, enum store_by by, const char *q,
    const struct conf_key *k)
{
	struct store_pub p;
	struct err e;
	bool good;

	if (store_lookup(s, by, q, &p, &e) != 0)
		return false;
	good = conf_pub_is(&p, k) && p.next == NULL;
	store_pub_release(&p);
	return good;
}

/* The lookup's return code (0, 1 or -1), nothing kept. */
static int
conf_lookup_rc(struct store *s, enum store_by by, const char *q)
{
	struct store_pub p;
	struct err e;
	int rc;

	rc = store_lookup(s, by, q, &p, &e);
	if (rc == 0)
		store_pub_release(&p);
	return rc;
}

/*
 * The keys a lookup answers, in order, their fingerprints joined by ','
 * into out; -1 on an error, 0 when none.  Each answer must match the key
 * of that fingerprint among keys[0..nkeys) or *bad is set.
 */
static int
conf_chain(struct store *s, enum store_by by, const char *q,
    struct conf_key *const *keys, size_t nkeys, char *out, size_t sz,
    bool *bad)
{
	struct store_pub p;
	const struct store_pub *it;
	struct err e;
	int rc, n = 0;
	size_t i;

	out[0] = '\0';
	if ((rc = store_lookup(s, by, q, &p, &e)) != 0)
		return rc == 1 ? 0 : -1;
	for (it = &p; it != NULL; it = it->next, n++) {
		for (i = 0; i < nkeys; i++)
			if (strcmp(keys[i]->c.fpr, it->fpr) == 0)
				break;
		if (i == nkeys || !conf_pub_is(it, keys[i]))
			*bad = true;
		conf_cat(out, sz, it->fpr);
	}
	store_pub_release(&p);
	return n;
}

/* A unit of work: the calls between begin and commit.  0, or -1 with e
 * set, after which the unit is rolled back. */
typedef int conf_unit_fn(struct store *s, void *arg, struct err *e);

/* Wait before a rerun: 1, 2, 4 ... ms (at most 64), with jitter so two
 * units that collided do not collide again (dir_atomic's backoff). */
static void
conf_backoff(int attempt, unsigned *seed)
{
	long ms = 1L << (attempt < 6 ? attempt : 6);
	struct timespec ts;

	*seed = *seed * 1103515245u + 12345u;
	ms += (long)((*seed >> 16) % (unsigned long)(ms + 1));
	ts.tv_sec = 0;
	ts.tv_nsec = ms * 1000000L;
	nanosleep(&ts, NULL);
}

/*
 * Run fn as one unit, as the directory does (dir_atomic): begin, fn,
 * commit, and the whole unit again, after a backoff, while the store
 * answers ERR_RETRY.  *retries (if not NULL) counts the reruns.  0, or
 * -1 with e set.
 */
static int
conf_atomic(struct store *s, conf_unit_fn *fn, void *arg, int *retries,
    struct err *e)
{
	unsigned seed = (unsigned)(uintptr_t)arg;

	for (int i = 0;; i++) {
		err_clear(e);
		if (store_begin(s, e) == 0) {
			if (fn(s, arg, e) == 0) {
				if (store_commit(s, e) == 0)
					return 0;
			} else
				store_rollback(s);
		}
		if (e->code != ERR_RETRY || i == CONF_RETRY_MAX)
			return -1;
		if (retries != NULL)
			(*retries)++;
		conf_backoff(i, &seed);
	}
}

static int
conf_put_fn(struct store *s, void *arg, struct err *e)
{
	return store_cert_put(s, &((struct conf_key *)arg)->c, e);
}

/* Store k in a unit of its own. */
static int
conf_put(struct store *s, struct conf_key *k)
{
	struct err e;

	return conf_atomic(s, conf_put_fn, k, NULL, &e);
}

/* The token hash that is all b but its first byte, tag. */
static void
conf_hash(uint8_t h[STORE_HASH_LEN], uint8_t tag, uint8_t b)
{
	memset(h, b, STORE_HASH_LEN);
	h[0] = tag;
}

/* A token: hash conf_hash(tag, b), for fpr and address. */
static void
conf_token(struct store_token *t, uint8_t tag, uint8_t b,
    enum token_kind kind, const char *fpr, const char *address,
    int64_t created, int64_t expires)
{
	memset(t, 0, sizeof(*t));
	conf_hash(t->hash, tag, b);
	t->kind = kind;
	str_lcpy(t->fpr, fpr, sizeof(t->fpr));
	str_lcpy(t->address, address, sizeof(t->address));
	t->created = created;
	t->expires = expires;
}

/* Whether an error left e as the contract says: a code and words. */
static bool
conf_err_set(const struct err *e)
{
	return e->code != ERR_OK && e->msg[0] != '\0';
}

/* Open the store at url; NULL after a failed assertion. */
static struct store *
conf_open(const char *url, const char *what)
{
	struct store *s;
	struct err e;

	err_clear(&e);
	s = store_open(url, &e);
	if (s == NULL)
		ok(0, "%s: store_open %s: %s", what, url, e.msg);
	return s;
}

#endif
