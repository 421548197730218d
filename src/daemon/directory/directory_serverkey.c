/*
 * directory_serverkey: the directory's own key.  Made on first start
 * (pgp_serverkey_make) and kept in DATA_DIR/server-key.pgp, mode 0600;
 * served at /api/v1/server-key and published like any key under the
 * submission address, without a confirmation mail (the directory is
 * that address's owner).
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "buf.h"
#include "daemon.h"
#include "directory_int.h"
#include "email.h"
#include "log.h"
#include "pgp.h"
#include "store.h"
#include "str.h"
#include "xmalloc.h"

/* The whole file at path (at most KEY_MAX bytes); 1 if there is none. */
static int
sk_read(const char *path, uint8_t **p, size_t *len, struct err *e)
{
	struct stat sb;
	ssize_t r;
	size_t got = 0;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		if (errno == ENOENT)
			return 1;
		return err_set(e, ERR_INTERNAL, "%s: %s", path,
		    strerror(errno));
	}
	if (fstat(fd, &sb) == -1 || sb.st_size <= 0 ||
	    (size_t)sb.st_size > KEY_MAX) {
		close(fd);
		return err_set(e, ERR_INTERNAL, "%s: not a server key", path);
	}
	if (sb.st_mode & 077)
		log_warnx("%s is readable by others: it is the server's "
		    "secret key (chmod 600)", path);
	*p = xmalloc((size_t)sb.st_size);
	while (got < (size_t)sb.st_size) {
		r = read(fd, *p + got, (size_t)sb.st_size - got);
		if (r <= 0) {
			if (r == -1 && errno == EINTR)
				continue;
			close(fd);
			free(*p);
			return err_set(e, ERR_INTERNAL, "%s: short read", path);
		}
		got += (size_t)r;
	}
	close(fd);
	*len = got;
	return 0;
}

/* Write p to path, mode 0600, whole or not at all (a temporary file
 * renamed over it once on disk). */
static int
sk_write(const char *path, const uint8_t *p, size_t len, struct err *e)
{
	char tmp[1200];
	size_t put = 0;
	ssize_t w;
	bool ok;
	int fd;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	unlink(tmp);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) ==
	    -1)
		return err_set(e, ERR_INTERNAL, "%s: %s", tmp,
		    strerror(errno));
	while (put < len) {
		if ((w = write(fd, p + put, len - put)) <= 0) {
			if (w == -1 && errno == EINTR)
				continue;
			break;
		}
		put += (size_t)w;
	}
	ok = put == len && fsync(fd) == 0;
	if (close(fd) == -1)
		ok = false;
	if (!ok) {
		unlink(tmp);
		return err_set(e, ERR_INTERNAL, "%s: cannot write it", tmp);
	}
	if (rename(tmp, path) == -1) {
		unlink(tmp);
		return err_set(e, ERR_INTERNAL, "%s: %s", path,
		    strerror(errno));
	}
	return 0;
}

struct own_unit {
	const struct store_cert *sc;
	const char *address;
	int64_t now;
	bool published;		/* the address was set now */
};

/* Store the key if it is not there, and its address if another key (or
 * none) has it. */
static int
own_unit(struct daemon *d, void *arg, struct err *e)
{
	struct own_unit *u = arg;
	struct store_cert old;
	char owner[FPR_LEN + 1];
	int rc;

	u->published = false;
	memset(&old, 0, sizeof(old));
	if ((rc = store_cert_get(d->store, u->sc->fpr, &old, e)) == -1)
		return -1;
	store_cert_release(&old);
	if (rc == 1 && store_cert_put(d->store, u->sc, e) == -1)
		return -1;
	if ((rc = store_addr_owner(d->store, u->address, owner, e)) == -1)
		return -1;
	if (rc == 0 && strcmp(owner, u->sc->fpr) == 0)
		return 0;
	if (store_addr_set(d->store, u->address, u->sc->fpr, u->now, e) ==
	    -1 || (rc == 0 && dir_republish_fpr(d, owner, u->now, e) == -1))
		return -1;
	u->published = true;
	return 0;
}

/* Publish the server key under the submission address, no mail. */
static int
sk_publish(struct daemon *d, const struct pgp_serverkey *k, int64_t now,
    struct err *e)
{
	struct pgp_limits lim = dir_limits(d);
	struct store_cert sc;
	struct pgp_cert c;
	struct own_unit u;
	char addr[EMAIL_MAX + 1];
	const char *a[1] = { addr };
	struct buf pub;
	int rc;

	if (email_normalize(d->cfg.submission_address, addr, sizeof(addr),
	    e) == -1)
		return -1;
	buf_init(&pub, KEY_MAX);
	rc = pgp_parse_publish((const uint8_t *)k->public, k->public_len,
	    &lim, a, 1, &c, &pub, e);
	if (rc != 0) {
		buf_release(&pub);
		return rc == 1 ? err_set(e, ERR_INTERNAL, "server key: "
		    "several keys") : -1;
	}
	if (!dir_uid_live(&c, addr)) {
		err_set(e, ERR_INTERNAL, "the server key's user ID is not %s",
		    addr);
		rc = -1;
	} else if ((rc = dir_publish_fill(&c, a, 1, &pub, &sc, e)) == 0) {
		sc.updated = now;
		u = (struct own_unit){ &sc, addr, now, false };
		rc = dir_atomic(d, own_unit, &u, e);
		if (rc == 0 && u.published)
			log_info("server key %s published for %s", k->fpr,
			    addr);
		dir_publish_release(&sc);
	}
	pgp_cert_release(&c);
	buf_release(&pub);
	return rc;
}

/*
 * Keys replaced by keydird rotate-key stay in DATA_DIR/server-keys/ as
 * superseded-WHEN-FPR.pgp: they decrypt submissions for server_key_grace
 * after WHEN (a client may have fetched the old key just before), then
 * they are deleted.
 */
#define OLD_DIR "server-keys"

/* Load the replaced keys still in their grace period; delete the rest. */
static int
sk_load_old(struct daemon *d, int64_t now, struct err *e)
{
	char dir[1100], path[1400];
	struct dirent *de;
	long long since;
	uint8_t *sec;
	size_t len;
	char fpr[FPR_LEN + 1];
	DIR *dh;
	int n;

	snprintf(dir, sizeof(dir), "%s/" OLD_DIR, d->cfg.data_dir);
	if ((dh = opendir(dir)) == NULL)
		return errno == ENOENT ? 0 : err_set(e, ERR_INTERNAL, "%s: %s",
		    dir, strerror(errno));
	while ((de = readdir(dh)) != NULL) {
		n = 0;
		if (sscanf(de->d_name, "superseded-%lld-%40[0-9A-F].pgp%n",
		    &since, fpr, &n) != 2 || de->d_name[n] != '\0')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (now - since >= d->cfg.server_key_grace) {
			if (unlink(path) == 0)
				log_info("server key %s deleted: replaced more "
				    "than server_key_grace ago", fpr);
			continue;
		}
		if (sk_read(path, &sec, &len, e) != 0)
			continue;
		d->old_keys = xrealloc(d->old_keys, (d->nold + 1) *
		    sizeof(*d->old_keys));
		d->old_since = xrealloc(d->old_since, (d->nold + 1) *
		    sizeof(*d->old_since));
		d->old_fpr = xrealloc(d->old_fpr, (d->nold + 1) *
		    sizeof(*d->old_fpr));
		if (pgp_serverkey_load(sec, len, &d->old_keys[d->nold], e) ==
		    0) {
			str_lcpy(d->old_fpr[d->nold], d->old_keys[d->nold].fpr,
			    sizeof(d->old_fpr[0]));
			d->old_since[d->nold++] = since;
			log_info("server key %s superseded: still decrypts "
			    "until %lld", fpr,
			    since + (long long)d->cfg.server_key_grace);
		} else
			log_warnx("%s: %s", path, e->msg);
		sodium_memzero(sec, len);
		free(sec);
	}
	closedir(dh);
	return 0;
}

/* The keys that decrypt a submission at now: the current one and the
 * replaced ones still in their grace period.  secs and lens hold
 * 1 + d->nold entries. */
size_t
dir_server_keyring(const struct daemon *d, int64_t now, const uint8_t **secs,
    size_t *lens)
{
	size_t i, n = 0;

	if (d->server_key != NULL) {
		secs[n] = d->server_key->secret;
		lens[n++] = d->server_key->secret_len;
	}
	for (i = 0; i < d->nold; i++)
		if (now - d->old_since[i] < d->cfg.server_key_grace) {
			secs[n] = d->old_keys[i].secret;
			lens[n++] = d->old_keys[i].secret_len;
		}
	return n;
}

/*
 * keydird rotate-key: a new server key; the current one moves to
 * server-keys/ and decrypts for server_key_grace more.  Only files: the
 * next start of serve loads the new key and publishes it under the
 * submission address (the old one is republished without it).
 */
int
dir_server_key_rotate(struct daemon *d, int64_t now, char old[FPR_LEN + 1],
    char new[FPR_LEN + 1], struct err *e)
{
	struct pgp_serverkey cur, k;
	char path[1100], dir[1100], keep[1400], tpath[1100], text[128];
	struct buf sig;
	uint8_t *sec = NULL;
	size_t len = 0;
	int rc;

	err_clear(e);
	snprintf(path, sizeof(path), "%s/server-key.pgp", d->cfg.data_dir);
	if ((rc = sk_read(path, &sec, &len, e)) == 1)
		return err_set(e, ERR_NOTFOUND, "no server key in %s yet: "
		    "keydird serve makes one on its first start",
		    d->cfg.data_dir);
	if (rc == -1)
		return -1;
	rc = pgp_serverkey_load(sec, len, &cur, e);
	sodium_memzero(sec, len);
	free(sec);
	if (rc == -1)
		return -1;
	if (pgp_serverkey_make(d->cfg.submission_address,
	    d->cfg.server_key_ttl, &k, e) == -1) {
		pgp_serverkey_release(&cur);
		return -1;
	}
	snprintf(dir, sizeof(dir), "%s/" OLD_DIR, d->cfg.data_dir);
	snprintf(keep, sizeof(keep), "%s/superseded-%lld-%s.pgp", dir,
	    (long long)now, cur.fpr);
	/* the old key vouches for the new one, so that a client that
	 * pinned it takes the new key without asking its user */
	snprintf(text, sizeof(text), DIR_TRANSITION_TEXT "%s\n", k.fpr);
	snprintf(tpath, sizeof(tpath), "%s/server-key-transition.asc",
	    d->cfg.data_dir);
	buf_init(&sig, 64 * 1024);
	/* the old key is kept before the new one replaces it: a crash in
	 * between leaves both, never neither */
	if ((mkdir(dir, 0700) == -1 && errno != EEXIST) ||
	    pgp_serverkey_sign(cur.secret, cur.secret_len, text, &sig,
	    e) == -1 ||
	    sk_write(keep, cur.secret, cur.secret_len, e) == -1 ||
	    sk_write(tpath, (const uint8_t *)sig.data, sig.len, e) == -1 ||
	    sk_write(path, k.secret, k.secret_len, e) == -1) {
		if (e->code == ERR_OK)
			err_set(e, ERR_INTERNAL, "%s: %s", dir,
			    strerror(errno));
		rc = -1;
	} else {
		str_lcpy(old, cur.fpr, FPR_LEN + 1);
		str_lcpy(new, k.fpr, FPR_LEN + 1);
		rc = 0;
	}
	buf_release(&sig);
	pgp_serverkey_release(&cur);
	pgp_serverkey_release(&k);
	return rc;
}

/* The old key's signature over the current one, when rotate-key made
 * it for this key; served so that clients that pinned the old key take
 * the new one. */
static void
sk_load_transition(struct daemon *d)
{
	char path[1100];
	uint8_t *p = NULL;
	size_t len = 0;
	struct err e;

	snprintf(path, sizeof(path), "%s/server-key-transition.asc",
	    d->cfg.data_dir);
	if (sk_read(path, &p, &len, &e) != 0)
		return;
	d->server_transition = (char *)xrealloc(p, len + 1);
	d->server_transition[len] = '\0';
	d->server_transition_len = len;
}

int
dir_server_key(struct daemon *d, int64_t now, struct err *e)
{
	struct pgp_serverkey *k = xcalloc(1, sizeof(*k));
	char path[1100];
	uint8_t *sec = NULL;
	size_t len = 0;
	int rc;

	snprintf(path, sizeof(path), "%s/server-key.pgp", d->cfg.data_dir);
	if ((rc = sk_read(path, &sec, &len, e)) == -1)
		goto fail;
	if (rc == 0) {
		rc = pgp_serverkey_load(sec, len, k, e);
		sodium_memzero(sec, len);
		free(sec);
		if (rc == -1)
			goto fail;
	} else {
		if (pgp_serverkey_make(d->cfg.submission_address,
		    d->cfg.server_key_ttl, k, e) == -1 ||
		    sk_write(path, k->secret, k->secret_len, e) == -1)
			goto fail;
		log_info("server key %s made for %s (%s)", k->fpr,
		    d->cfg.submission_address, path);
	}
	if (k->expires != 0 && k->expires <= now)
		log_warnx("the server key %s has expired: clients will not "
		    "encrypt to it (keydird rotate-key)", k->fpr);
	d->server_key = k;
	sk_load_transition(d);
	if (sk_load_old(d, now, e) == -1)
		log_warnx("replaced server keys: %s", e->msg);
	str_lcpy(d->server_fpr, k->fpr, sizeof(d->server_fpr));
	d->server_pub = k->public;
	d->server_pub_len = k->public_len;
	if (sk_publish(d, k, now, e) == -1)
		log_warnx("server key not published under %s: %s",
		    d->cfg.submission_address, e->msg);
	return 0;
fail:
	pgp_serverkey_release(k);
	free(k);
	return -1;
}

void
dir_server_key_free(struct daemon *d)
{
	size_t i;

	free(d->server_transition);
	d->server_transition = NULL;
	d->server_transition_len = 0;
	for (i = 0; i < d->nold; i++)
		pgp_serverkey_release(&d->old_keys[i]);
	free(d->old_keys);
	free(d->old_since);
	free(d->old_fpr);
	d->old_fpr = NULL;
	d->old_keys = NULL;
	d->old_since = NULL;
	d->nold = 0;
	if (d->server_key == NULL)
		return;
	pgp_serverkey_release(d->server_key);
	free(d->server_key);
	d->server_key = NULL;
	d->server_pub = NULL;
	d->server_pub_len = 0;
}
