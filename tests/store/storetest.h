/*
 * storetest: fixtures the store tests share (t_store.c, t_store_life.c):
 * fixed fingerprints, a cert maker and lookups.  Header-only.
 */
#ifndef KEYDIR_STORETEST_H
#define KEYDIR_STORETEST_H

#include <sqlite3.h>

#include "store.h"
#include "str.h"
#include "tap.h"

#define FPR_U "EEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEE"
#define FPR_A "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA1"
#define FPR_B "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB2"
#define FPR_C "CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC3"
#define FPR_D "DDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDD4"
#define FPR_X "0123456789ABCDEF0123456789ABCDEF01234567"
#define FPR_V3 "0123456789ABCDEF0123456789ABCDEF"	/* a v3 key's, MD5 */
#define PUB_A "-----BEGIN PGP PUBLIC KEY BLOCK-----\nA\n"
#define PUB_D "-----BEGIN PGP PUBLIC KEY BLOCK-----\nD\n"
#define ADDR "alice@example.org"


/* The v4 key id: the last 16 hex digits. */
static void __attribute__((unused))
keyid_of(const char *fpr, char *keyid)
{
	str_lcpy(keyid, fpr + FPR_LEN - KEYID_LEN,
	    KEYID_LEN + 1);
}

/* A cert with fixed fields; subs point into the caller's array. */
static void __attribute__((unused))
cert_make(struct store_cert *c, const char *fpr, const char *pub,
    struct store_subkey *subs, size_t nsubs)
{
	static uint8_t full[] = { 0x99, 0x00, 0x01, 0x00, 0xfe };

	memset(c, 0, sizeof(*c));
	str_lcpy(c->fpr, fpr, sizeof(c->fpr));
	keyid_of(fpr, c->keyid);
	c->algo = 22;
	c->bits = 255;
	c->created = 1000;
	c->expires = 0;
	c->full = full;
	c->full_len = sizeof(full);
	c->published = (char *)(uintptr_t)pub;
	c->published_len = strlen(pub);
	c->hkp_index = (char *)(uintptr_t)"info:1:1\npub:x\n";
	str_lcpy(c->etag, "\"0123456789abcdef0123456789abcdef\"",
	    sizeof(c->etag));
	c->updated = 2000;
	c->subs = subs;
	c->nsubs = nsubs;
}

/* Put c in its own transaction. */
static int __attribute__((unused))
put(struct store *s, const struct store_cert *c)
{
	struct err e;

	if (store_begin(s, &e) == -1)
		return -1;
	if (store_cert_put(s, c, &e) == -1) {
		store_rollback(s);
		return -1;
	}
	return store_commit(s, &e);
}

/* Whether a lookup finds cert A's published bytes. */
static int __attribute__((unused))
finds(struct store *s, enum store_by by, const char *q, const char *fpr,
    const char *pub)
{
	struct store_pub p;
	struct err e;
	int rc, good;

	if ((rc = store_lookup(s, by, q, &p, &e)) != 0)
		return 0;
	good = strcmp(p.fpr, fpr) == 0 && p.published_len == strlen(pub) &&
	    memcmp(p.published, pub, p.published_len) == 0 &&
	    p.published[p.published_len] == '\0' &&
	    strncmp(p.hkp_index, "info:", 5) == 0 && p.updated == 2000;
	store_pub_release(&p);
	return good;
}

/* The first column of the first row sql gives on a second handle; -1 if
 * none. */
static int64_t __attribute__((unused))
db_int(const char *path, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	int64_t v = -1;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) ==
	    SQLITE_OK && sqlite3_prepare_v2(db, sql, -1, &st, NULL) ==
	    SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW)
			v = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
	}
	sqlite3_close(db);
	return v;
}

#endif
