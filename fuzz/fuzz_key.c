/*
 * fuzz_key: key uploads (src/daemon/pgp/), armored or binary, the way
 * the directory takes them: pgp_parse_publish (one cert) or pgp_parse
 * (several), then for each cert (at most two) publication for its first
 * address, a merge with itself and with the raw upload (bare revocation
 * signatures take that path), a merge into a stored cert of another key,
 * and the tombstone of a revoked one.  Beyond the sanitizers, the
 * privacy rules: a cert published without addresses has no user ID;
 * published for one address, it has no user ID of another; the full and
 * published forms parse again to the same key; a merge with itself
 * keeps the key; another key never merges.
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "fuzz.h"
#include "pgp.h"

/* The directory's defaults (config.c), as dir_limits hands them on. */
static const struct pgp_limits lim = { 100, 100, 100, false, 8192, 1000 };
static const struct pgp_limits stored = { 100, 100, 1, true, 8192, 1000 };
static struct pgp_cert *other;	/* fuzz/keys/signer.pub, as stored */

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct err e;
	uint8_t *p;
	size_t len, n;

	(void)argc;
	(void)argv;
	p = fuzz_fixture("signer.pub", &len);
	if (pgp_parse(p, len, &lim, &other, &n, &e) == -1 || n != 1)
		abort();
	free(p);
	return 0;
}

/* The armored form pub parses to one cert of fpr with only user IDs of
 * address (none when address is NULL). */
static void
published_sound(const struct buf *pub, const char *fpr, const char *address)
{
	struct pgp_cert *c = NULL;
	struct err e;
	size_t n = 0, i;

	FUZZ_CHECK(pgp_parse((const uint8_t *)pub->data, pub->len, &stored,
	    &c, &n, &e) == 0 && n == 1, "a published form parses");
	FUZZ_CHECK(strcmp(c->fpr, fpr) == 0, "to the same key");
	for (i = 0; i < c->nuids; i++)
		FUZZ_CHECK(address != NULL && !strcmp(c->uids[i].email,
		    address), "with no user ID of another address");
	pgp_certs_free(c, n);
}

/* What the directory does with one parsed cert. */
static void
cert_walk(const struct pgp_cert *c, const uint8_t *data, size_t size)
{
	struct pgp_cert m, *again = NULL;
	const char *addr = NULL;
	struct buf pub;
	struct err e;
	size_t i, n = 0;

	FUZZ_CHECK(pgp_parse(c->full, c->full_len, &stored, &again, &n, &e) ==
	    0 && n == 1, "a full form parses again");
	fuzz_log("again: %zu/%zu user IDs, %zu/%zu subkeys", again->nuids,
	    c->nuids, again->nsubs, c->nsubs);
	FUZZ_CHECK(!strcmp(again->fpr, c->fpr) && again->nuids == c->nuids &&
	    again->nsubs == c->nsubs, "to itself");
	pgp_certs_free(again, n);
	for (i = 0; i < c->nuids && addr == NULL; i++)
		if (c->uids[i].email[0] != '\0' && !c->uids[i].revoked)
			addr = c->uids[i].email;
	buf_init(&pub, KEY_MAX);
	if (addr != NULL && pgp_publish(c->full, c->full_len, &addr, 1, &pub,
	    &e) == 0)
		published_sound(&pub, c->fpr, addr);
	buf_release(&pub);
	FUZZ_CHECK(pgp_merge(c->full, c->full_len, c->full, c->full_len, &lim,
	    &m, &e) == 0 && !strcmp(m.fpr, c->fpr) && m.nuids == c->nuids &&
	    m.nsubs == c->nsubs, "a merge with itself keeps the key");
	pgp_cert_release(&m);
	if (pgp_merge(c->full, c->full_len, data, size, &lim, &m, &e) == 0) {
		FUZZ_CHECK(!strcmp(m.fpr, c->fpr), "a merge keeps the key");
		pgp_cert_release(&m);
	}
	FUZZ_CHECK(strcmp(c->fpr, other->fpr) == 0 || pgp_merge(other->full,
	    other->full_len, c->full, c->full_len, &lim, &m, &e) == -1,
	    "another key never merges");
	if (c->revoked && pgp_tombstone(c->full, c->full_len, &m, &e) == 0) {
		FUZZ_CHECK(m.revoked && m.nuids == 0 && m.nsubs == 0,
		    "a tombstone is a revoked bare key");
		pgp_cert_release(&m);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pgp_cert one, *certs = NULL;
	struct buf pub;
	struct err e;
	size_t i, n = 0;
	int rc;

	buf_init(&pub, KEY_MAX);
	rc = pgp_parse_publish(data, size, &lim, NULL, 0, &one, &pub, &e);
	fuzz_log("parse: %d %s", rc, rc == 0 ? one.fpr : rc == 1 ? "several" :
	    e.msg);
	if (rc == 0) {
		published_sound(&pub, one.fpr, NULL);
		cert_walk(&one, data, size);
		pgp_cert_release(&one);
	} else if (rc == 1 && pgp_parse(data, size, &lim, &certs, &n, &e) ==
	    0) {
		FUZZ_CHECK(n > 1 && n <= lim.max_certs, "several certs");
		for (i = 0; i < n && i < 2; i++)
			cert_walk(&certs[i], data, size);
		pgp_certs_free(certs, n);
	}
	buf_release(&pub);
	return 0;
}
