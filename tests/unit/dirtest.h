/*
 * dirtest: fixtures for t_directory.  Certs made with librnp at test time
 * (dirkeys.h), one directory per test group (a
 * SQLite store and a struct daemon in its own folder under the scratch
 * directory), the outbox read back as mail, and what the store answers.
 * Header-only; the including test defines `static char tmp[]`, its
 * scratch directory, before including this.
 */
#ifndef KEYDIR_DIRTEST_H
#define KEYDIR_DIRTEST_H

#include <sys/stat.h>

#include <dirent.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rnp/rnp.h>
#include <rnp/rnp_err.h>
#include <sodium.h>

#include "config.h"
#include "daemon.h"
#include "directory.h"
#include "log.h"
#include "pgp.h"
#include "store.h"
#include "str.h"
#include "tap.h"
#include "dirkeys.h"

#define FAR 4102444800LL	/* 2100-01-01: every outbox row is due */
#define DT_CLIENT "192.0.2.10"	/* the client every upload comes from */

/* ---- one directory per group ---------------------------------------- */

struct dmail {
	char rcpt[EMAIL_MAX + 1];
	char subject[200];
	char *text;		/* the whole message, quoted-printable decoded */
	bool seen;
};

struct dt {
	const char *name;
	char dir[600];
	struct daemon d;
	struct dmail *m;
	size_t nm;
};

/* Remove path and, if it is a folder, everything in it. */
static void __attribute__((unused))
rm_tree(const char *path)
{
	char sub[1200];
	struct dirent *de;
	struct stat st;
	DIR *dh;

	if (lstat(path, &st) == -1)
		return;
	if (S_ISDIR(st.st_mode) && (dh = opendir(path)) != NULL) {
		while ((de = readdir(dh)) != NULL) {
			if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
				continue;
			snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name);
			rm_tree(sub);
		}
		closedir(dh);
		rmdir(path);
	} else
		unlink(path);
}

/* A fresh directory in tmp/name: store, settings, session key, no mailer. */
static int __attribute__((unused))
dt_open(struct dt *t, const char *name)
{
	char want[1100], key[700];
	struct err e;

	memset(t, 0, sizeof(*t));
	t->name = name;
	snprintf(t->dir, sizeof(t->dir), "%s/%s", tmp, name);
	if (mkdir(t->dir, 0700) == -1)
		return -1;
	config_defaults(&t->d.cfg);
	str_lcpy(t->d.cfg.data_dir, t->dir, sizeof(t->d.cfg.data_dir));
	if (config_finish(&t->d.cfg, &e) == -1) {
		printf("# config_finish: %s\n", e.msg);
		return -1;
	}
	snprintf(want, sizeof(want), "sqlite:%s/keydir.db", t->dir);
	if (strcmp(t->d.cfg.database, want) != 0)
		return -1;
	if ((t->d.store = store_open(want, &e)) == NULL) {
		printf("# store_open: %s\n", e.msg);
		return -1;
	}
	t->d.mailer = NULL;
	snprintf(key, sizeof(key), "%s/session.key", t->dir);
	if (dir_session_key(&t->d, key, &e) == -1) {
		printf("# dir_session_key: %s\n", e.msg);
		return -1;
	}
	return 0;
}

/* ---- the outbox, read as mail --------------------------------------- */

static int __attribute__((unused))
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Quoted-printable decoding of the whole message (soft line breaks
 * joined, =XX decoded); base64 parts pass through. */
static __attribute__((unused)) char *
qp_decode(const char *p, size_t len)
{
	char *o = malloc(len + 1);
	size_t i, n = 0;

	for (i = 0; i < len; i++) {
		if (p[i] == '=' && i + 2 < len && p[i + 1] == '\r' &&
		    p[i + 2] == '\n') {
			i += 2;
			continue;
		}
		if (p[i] == '=' && i + 2 < len && hexval(p[i + 1]) >= 0 &&
		    hexval(p[i + 2]) >= 0) {
			o[n++] = (char)(hexval(p[i + 1]) * 16 + hexval(p[i + 2]));
			i += 2;
			continue;
		}
		o[n++] = p[i];
	}
	o[n] = '\0';
	return o;
}

/* Move every unsent outbox row into t->m, marking the rows sent. */
static void __attribute__((unused))
dt_drain(struct dt *t)
{
	struct store *s = t->d.store;
	struct store_mail *rows = NULL;
	struct dmail *m;
	const char *sj;
	size_t n = 0, i, k;
	struct err e;

	if (store_begin(s, &e) == -1)
		return;
	if (store_outbox_due(s, FAR, FAR + 1, "t", 1000, &rows, &n, &e) == -1) {
		printf("# outbox_due: %s\n", e.msg);
		store_rollback(s);
		return;
	}
	t->m = realloc(t->m, (t->nm + n + 1) * sizeof(*t->m));
	for (i = 0; i < n; i++) {
		m = &t->m[t->nm++];
		memset(m, 0, sizeof(*m));
		str_lcpy(m->rcpt, rows[i].rcpt, sizeof(m->rcpt));
		m->text = qp_decode(rows[i].data, rows[i].len);
		if ((sj = strstr(m->text, "\nSubject: ")) != NULL) {
			sj += 10;
			for (k = 0; sj[k] && sj[k] != '\r' &&
			    k + 1 < sizeof(m->subject); k++)
				m->subject[k] = sj[k];
		}
		store_outbox_done(s, rows[i].id, FAR, &e);
	}
	store_commit(s, &e);
	store_mails_free(rows, n);
}

/* How many mails went out since the last look; all count as seen. */
static size_t __attribute__((unused))
dt_flush(struct dt *t)
{
	size_t i, n = 0;

	dt_drain(t);
	for (i = 0; i < t->nm; i++)
		if (!t->m[i].seen) {
			t->m[i].seen = true;
			n++;
		}
	return n;
}

/* The first unseen mail to rcpt whose subject starts with subject (NULL:
 * any); marked seen. */
static __attribute__((unused)) const struct dmail *
dt_mail(struct dt *t, const char *rcpt, const char *subject)
{
	size_t i;

	dt_drain(t);
	for (i = 0; i < t->nm; i++)
		if (!t->m[i].seen && !strcmp(t->m[i].rcpt, rcpt) &&
		    (subject == NULL || !strncmp(t->m[i].subject, subject,
		    strlen(subject)))) {
			t->m[i].seen = true;
			return &t->m[i];
		}
	return NULL;
}

/* The token of the link BASE/path/TOKEN in text. */
static int __attribute__((unused))
tok_in(const struct dt *t, const char *text, const char *path,
    char tok[TOKEN_LEN + 1])
{
	char pre[400];
	const char *q;
	size_t k;

	tok[0] = '\0';
	snprintf(pre, sizeof(pre), "%s/%s/", t->d.cfg.base_url, path);
	if (text == NULL || (q = strstr(text, pre)) == NULL)
		return -1;
	q += strlen(pre);
	for (k = 0; k < TOKEN_LEN && q[k] && strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789-_", q[k]); k++)
		tok[k] = q[k];
	tok[k] = '\0';
	return k == TOKEN_LEN ? 0 : -1;
}

/* The token of the link BASE/path/TOKEN in the first unseen mail to rcpt
 * that has one; that mail is marked seen. */
static int __attribute__((unused))
dt_link(struct dt *t, const char *rcpt, const char *path,
    char tok[TOKEN_LEN + 1])
{
	size_t i;

	dt_drain(t);
	for (i = 0; i < t->nm; i++)
		if (!t->m[i].seen && !strcmp(t->m[i].rcpt, rcpt) &&
		    tok_in(t, t->m[i].text, path, tok) == 0) {
			t->m[i].seen = true;
			return 0;
		}
	tok[0] = '\0';
	return -1;
}

/* Close the directory and remove its folder. */
static void __attribute__((unused))
dt_close(struct dt *t)
{
	size_t i;

	store_close(t->d.store);
	t->d.store = NULL;
	for (i = 0; i < t->nm; i++)
		free(t->m[i].text);
	free(t->m);
	t->m = NULL;
	t->nm = 0;
	rm_tree(t->dir);
}

/* ---- what the store answers ----------------------------------------- */

/* Append src to the string in dst[sz]. */
static void __attribute__((unused))
scat(char *dst, const char *src, size_t sz)
{
	size_t n = strlen(dst);

	if (n < sz)
		str_lcpy(dst + n, src, sz - n);
}

/* A few rotating buffers, so that several answers fit in one assertion. */
static __attribute__((unused)) char *
ring(void)
{
	static char b[8][1024];
	static unsigned i;

	return b[i++ % 8];
}

/* The key that has address published (store_addr_owner): its
 * fingerprint, "" when none, "error" on error. */
static __attribute__((unused)) const char *
owner(struct dt *t, const char *address)
{
	char *o = ring();
	struct err e;
	int rc;

	if (store_begin(t->d.store, &e) == -1)
		return "error";
	rc = store_addr_owner(t->d.store, address, o, &e);
	store_rollback(t->d.store);
	if (rc == 1)
		o[0] = '\0';
	return rc == -1 ? "error" : o;
}

/* The addresses published for fpr (store_addr_list), comma-separated. */
static __attribute__((unused)) const char *
addrs(struct dt *t, const char *fpr)
{
	char *o = ring(), **v = NULL;
	size_t n = 0, i;
	struct err e;
	int rc;

	o[0] = '\0';
	if (store_begin(t->d.store, &e) == -1)
		return "error";
	rc = store_addr_list(t->d.store, fpr, &v, &n, &e);
	store_rollback(t->d.store);
	if (rc == -1)
		return "error";
	for (i = 0; i < n; i++) {
		if (i)
			scat(o, ",", 1024);
		scat(o, v[i], 1024);
	}
	store_addrs_free(v, n);
	return o;
}

/* The e-mail addresses of the user IDs in an armored or binary cert,
 * comma-separated, "revoked:" first when the key is revoked; "unparsable"
 * when it does not parse. */
static __attribute__((unused)) const char *
cert_uids(const void *p, size_t len)
{
	static const struct pgp_limits lim = { .max_uids = 100,
	    .max_subkeys = 100, .max_certs = 1, .stored = true };
	struct pgp_cert *c = NULL;
	char *o = ring();
	size_t n = 0, i;
	struct err e;

	if (pgp_parse(p, len, &lim, &c, &n, &e) == -1 || n != 1) {
		pgp_certs_free(c, n);
		return "unparsable";
	}
	str_lcpy(o, c->revoked ? "revoked:" : "", 1024);
	for (i = 0; i < c->nuids; i++) {
		if (i)
			scat(o, ",", 1024);
		scat(o, c->uids[i].email, 1024);
		if (c->uids[i].revoked)
			scat(o, "(r)", 1024);
	}
	pgp_certs_free(c, n);
	return o;
}

/* What a lookup by fingerprint serves for fpr, as cert_uids; "none" when
 * there is nothing. */
static __attribute__((unused)) const char *
pub_uids(struct dt *t, const char *fpr)
{
	struct store_pub p;
	struct err e;
	const char *r;

	if (store_lookup(t->d.store, STORE_BY_FPR, fpr, &p, &e) != 0)
		return "none";
	r = cert_uids(p.published, p.published_len);
	store_pub_release(&p);
	return r;
}

/* The stored full form of fpr, as cert_uids; "none" when not stored. */
static __attribute__((unused)) const char *
full_uids(struct dt *t, const char *fpr)
{
	struct store_cert c;
	struct err e;
	const char *r = "none";

	memset(&c, 0, sizeof(c));
	if (store_begin(t->d.store, &e) == -1)
		return "error";
	if (store_cert_get(t->d.store, fpr, &c, &e) == 0)
		r = cert_uids(c.full, c.full_len);
	store_rollback(t->d.store);
	store_cert_release(&c);
	return r;
}

/* The key a lookup by address finds, "" when none. */
static __attribute__((unused)) const char *
by_email(struct dt *t, const char *address)
{
	struct store_pub p;
	struct err e;
	char *o = ring();

	o[0] = '\0';
	if (store_lookup(t->d.store, STORE_BY_EMAIL, address, &p, &e) == 0) {
		str_lcpy(o, p.fpr, 1024);
		if (p.next != NULL)
			scat(o, "+more", 1024);
		store_pub_release(&p);
	}
	return o;
}

/* The ETag a lookup by fingerprint serves, "" when none. */
static __attribute__((unused)) const char *
etag(struct dt *t, const char *fpr)
{
	struct store_pub p;
	struct err e;
	char *o = ring();

	o[0] = '\0';
	if (store_lookup(t->d.store, STORE_BY_FPR, fpr, &p, &e) == 0) {
		str_lcpy(o, p.etag, 1024);
		store_pub_release(&p);
	}
	return o;
}

/* ---- directory calls ------------------------------------------------- */

/* Upload key k. */
static int __attribute__((unused))
up(struct dt *t, int k, int64_t now, bool all, struct dir_upload *u)
{
	struct err e;
	int rc;

	rc = dir_upload(&t->d, now, keys[k].p, keys[k].len, all, DT_CLIENT, u,
	    &e);
	if (rc == -1)
		printf("# upload: %s\n", e.msg);
	return rc;
}

/* The status of address in an upload's answer; -1 when it is not listed. */
static int __attribute__((unused))
ustat(const struct dir_upload *u, const char *address)
{
	size_t i;

	for (i = 0; i < u->naddrs; i++)
		if (!strcmp(u->addrs[i].address, address))
			return (int)u->addrs[i].status;
	return -1;
}

/* Confirm the next confirmation link mailed to address (no page seen). */
static int __attribute__((unused))
confirm(struct dt *t, const char *address, int64_t now)
{
	char tok[TOKEN_LEN + 1];
	struct dir_verify v;
	struct err e;
	int rc;

	if (dt_link(t, address, "verify", tok) == -1)
		return -1;
	rc = dir_verify_confirm(&t->d, now, tok, NULL, 0, &v, &e);
	if (rc == -1)
		printf("# confirm %s: %s\n", address, e.msg);
	dir_verify_release(&v);
	return rc;
}

/* Upload key k with request_all at now and confirm the n addresses at
 * now + 1: a published key. */
static int __attribute__((unused))
publish(struct dt *t, int k, const char *const *a, size_t n, int64_t now)
{
	struct dir_upload u;
	size_t i;

	if (up(t, k, now, true, &u) == -1)
		return -1;
	dir_upload_release(&u);
	for (i = 0; i < n; i++)
		if (confirm(t, a[i], now + 1) == -1)
			return -1;
	return 0;
}

/* The fingerprint in groups of four, as mails show it. */
static __attribute__((unused)) const char *
groups(const char *fpr)
{
	char *o = ring();
	size_t i, n = 0;

	for (i = 0; fpr[i]; i++) {
		if (i && i % 4 == 0)
			o[n++] = ' ';
		o[n++] = fpr[i];
	}
	o[n] = '\0';
	return o;
}

/* How often needle occurs in hay. */
static size_t __attribute__((unused))
count_of(const char *hay, const char *needle)
{
	size_t n = 0;

	while ((hay = strstr(hay, needle)) != NULL) {
		n++;
		hay += strlen(needle);
	}
	return n;
}


/* ---- shared by the groups --------------------------------------------- */

static int64_t T0;		/* the keys were made just before */

static const char link_bad[] = "This link is not valid. Check that you "
    "copied all of it.";
static const char link_used[] = "This link was already used.";
static const char verify_expired[] = "This link has expired. Upload your "
    "key again to get a new one.";

enum act { SHOW, CONFIRM, REJECT };

/* Show, confirm or reject a confirmation link. */
static int __attribute__((unused))
verify(struct dt *t, enum act a, const char *tok, int64_t now,
    const char *effects, struct dir_verify *v, struct err *e)
{
	int rc;

	err_clear(e);
	if (a == SHOW)
		rc = dir_verify_show(&t->d, now, tok, v, e);
	else if (a == CONFIRM)
		rc = dir_verify_confirm(&t->d, now, tok, effects, 0, v, e);
	else
		rc = dir_verify_reject(&t->d, now, tok, v, e);
	return rc;
}

/* rc is -1 with code and, unless msg is NULL, msg. */
static bool __attribute__((unused))
fails(int rc, const struct err *e, enum err_code code, const char *msg)
{
	return rc == -1 && e->code == code && (msg == NULL ||
	    strcmp(e->msg, msg) == 0);
}

/* dir_rebuild changes nothing on a directory the rules made: n keys. */
static void __attribute__((unused))
rebuild_same(struct dt *t, size_t n, int64_t now)
{
	struct dir_rebuilt r;
	struct err e;
	int rc;

	memset(&r, 0, sizeof(r));
	rc = dir_rebuild(&t->d, now, &r, &e);
	ok(rc == 0 && r.seen == n && r.keys == 0 && r.failed == 0,
	    "%s: dir_rebuild changes nothing (%zu seen, %zu written, %zu "
	    "failed)", t->name, r.seen, r.keys, r.failed);
}

struct dt_group {
	const char *name;
	void (*fn)(void);
};

/* Make the keys, check them, run each group, clean up. */
static int __attribute__((unused))
dt_main(const struct dt_group *g, size_t n)
{
	size_t i;
	int before;

	log_set_quiet(1);
	if (sodium_init() < 0 || mkdtemp(tmp) == NULL) {
		ok(0, "scratch directory");
		return tap_done();
	}
	ok(keys_make() == 0, "librnp made the test keys");
	T0 = (int64_t)time(NULL);
	if (tap_fail == 0) {
		is_str(cert_uids(keys[K_A1].p, keys[K_A1].len), A_MAIN,
		    "alice: one user ID");
		is_str(cert_uids(keys[K_A2].p, keys[K_A2].len),
		    A_MAIN "," A_WORK, "alice: a second user ID");
		is_str(cert_uids(keys[K_A3].p, keys[K_A3].len),
		    A_MAIN "," A_WORK "(r)", "alice: the second one revoked");
		is_str(cert_uids(keys[K_AREV].p, keys[K_AREV].len),
		    "revoked:" A_MAIN "," A_WORK, "alice: the key revoked");
		is_str(cert_uids(keys[K_O].p, keys[K_O].len), A_MAIN,
		    "another key, the same address");
		is_str(cert_uids(keys[K_B].p, keys[K_B].len), B_MAIN, "bob");
		ok(strcmp(afpr, ofpr) != 0 && strcmp(afpr, bfpr) != 0 &&
		    strcmp(ofpr, bfpr) != 0, "three different keys");
	}
	if (tap_fail == 0)
		for (i = 0; i < n; i++) {
			before = tap_n;
			g[i].fn();
			printf("# %s: %d assertions\n", g[i].name,
			    tap_n - before);
		}
	keys_free();
	rm_tree(tmp);
	return tap_done();
}

#endif
