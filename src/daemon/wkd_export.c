/*
 * wkd_export: keydird wkd-export DIR, a static Web Key Directory of the
 * wkd_domains for a web server to serve, laid out as gpg-wks-server's
 * is: DIR/DOMAIN/hu/HASH, DIR/DOMAIN/policy, DIR/DOMAIN/submission-
 * address.  From one snapshot of the store; each domain's folder is
 * made beside the old one and exchanged with it in one step
 * (renameat2 RENAME_EXCHANGE), so a web server never serves half an
 * export nor none, and an address no longer published has no file left
 * behind.
 */
#define _GNU_SOURCE	/* renameat2 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "admin.h"
#include "config.h"
#include "log.h"
#include "store.h"

#define PAGE 1000

/* Write n bytes of p to path (0644); -1 with errno. */
static int
put_file(const char *path, const void *p, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	ssize_t w;

	if (fd == -1)
		return -1;
	w = write(fd, p, n);
	if (close(fd) == -1 || w != (ssize_t)n)
		return -1;
	return 0;
}

/* Remove a domain folder as this command makes it (files, hu/ and its
 * files); a missing one is fine. */
static void
rm_domain(const char *path)
{
	char sub[4500], f[4800];
	struct dirent *de;
	DIR *dp;

	snprintf(sub, sizeof(sub), "%s/hu", path);
	if ((dp = opendir(sub)) != NULL) {
		while ((de = readdir(dp)) != NULL)
			if (de->d_name[0] != '.') {
				snprintf(f, sizeof(f), "%s/%s", sub,
				    de->d_name);
				unlink(f);
			}
		closedir(dp);
		rmdir(sub);
	}
	snprintf(f, sizeof(f), "%s/policy", path);
	unlink(f);
	snprintf(f, sizeof(f), "%s/submission-address", path);
	unlink(f);
	rmdir(path);
}

/* The next domain of the list at *p into out; 0 at the end. */
static int
next_domain(const char **p, char *out, size_t sz)
{
	size_t n;

	*p += strspn(*p, ", ");
	if ((n = strcspn(*p, ", ")) == 0 || n >= sz)
		return 0;
	memcpy(out, *p, n);
	out[n] = '\0';
	*p += n;
	return 1;
}

/* The new folders under tmp: each domain's, and every published form. */
static int
fill(struct daemon *d, const char *tmp, size_t *nkeys)
{
	char dom[256], path[4400], text[320];
	char after[sizeof(((struct store_wkd *)0)->key)];
	const char *p = d->cfg.wkd_domains, *at;
	struct store_wkd *rows;
	struct err e;
	size_t n, i;
	int rc = 0;

	while (next_domain(&p, dom, sizeof(dom))) {
		snprintf(path, sizeof(path), "%s/%s", tmp, dom);
		if (mkdir(path, 0755) == -1)
			return -1;
		snprintf(path, sizeof(path), "%s/%s/hu", tmp, dom);
		if (mkdir(path, 0755) == -1)
			return -1;
		snprintf(path, sizeof(path), "%s/%s/policy", tmp, dom);
		snprintf(text, sizeof(text), "protocol-version: 5\n"
		    "submission-address: %s\n", d->cfg.submission_address);
		if (put_file(path, text, strlen(text)) == -1)
			return -1;
		snprintf(path, sizeof(path), "%s/%s/submission-address", tmp,
		    dom);
		snprintf(text, sizeof(text), "%s\n",
		    d->cfg.submission_address);
		if (put_file(path, text, strlen(text)) == -1)
			return -1;
	}
	if (store_begin_read(d->store, &e) == -1) {
		log_warnx("wkd-export: %s", e.msg);
		errno = EIO;
		return -1;
	}
	after[0] = '\0';
	do {
		if (store_wkd_scan(d->store, after, PAGE, &rows, &n, &e) == -1) {
			log_warnx("wkd-export: %s", e.msg);
			errno = EIO;
			rc = -1;
			break;
		}
		for (i = 0; i < n && rc == 0; i++) {
			at = strchr(rows[i].key, '@');
			if (at == NULL || !config_wkd_domain(&d->cfg, at + 1,
			    strlen(at + 1)))
				continue;
			snprintf(path, sizeof(path), "%s/%s/hu/%.*s", tmp,
			    at + 1, (int)(at - rows[i].key), rows[i].key);
			if (put_file(path, rows[i].data, rows[i].len) == -1)
				rc = -1;
			else
				(*nkeys)++;
		}
		if (n > 0)
			snprintf(after, sizeof(after), "%s", rows[n - 1].key);
		store_wkd_free(rows, n);
	} while (rc == 0 && n == PAGE);
	store_rollback(d->store);
	return rc;
}

int
admin_wkd_export(struct daemon *d, const char *dir)
{
	char tmp[4096], old[4400], path[4400], dom[256];
	const char *p;
	struct err e;
	size_t nkeys = 0, ndom = 0;
	int rc = 1;

	if (dir == NULL) {
		fprintf(stderr, "keydird wkd-export: give the folder to write "
		    "into\n");
		return 2;
	}
	if (d->cfg.wkd_domains[strspn(d->cfg.wkd_domains, ", ")] == '\0') {
		fprintf(stderr, "keydird wkd-export: wkd_domains names no "
		    "domain\n");
		return 1;
	}
	if (mkdir(dir, 0755) == -1 && errno != EEXIST)
		log_fatal("wkd-export: %s", dir);
	snprintf(tmp, sizeof(tmp), "%s/.wkd-export.%ld", dir, (long)getpid());
	if (mkdir(tmp, 0755) == -1)
		log_fatal("wkd-export: %s", tmp);
	if ((d->store = store_open(d->cfg.database, &e)) == NULL)
		log_fatalx("%s", e.msg);
	if (fill(d, tmp, &nkeys) == -1) {
		log_warn("wkd-export: writing into %s", tmp);
		goto out;
	}
	/* each domain's new folder takes the old one's place in one step;
	 * the old one is then where the new one was, and goes below */
	for (p = d->cfg.wkd_domains; next_domain(&p, dom, sizeof(dom));
	    ndom++) {
		snprintf(path, sizeof(path), "%s/%s", dir, dom);
		snprintf(old, sizeof(old), "%s/%s", tmp, dom);
		if (renameat2(AT_FDCWD, old, AT_FDCWD, path,
		    RENAME_EXCHANGE) == 0)
			continue;
		if (errno == ENOENT && rename(old, path) == 0)
			continue;	/* the first export */
		log_warn("wkd-export: %s", path);
		goto out;
	}
	printf("%zu keys for %zu domains in %s\n", nkeys, ndom, dir);
	rc = 0;
out:
	for (p = d->cfg.wkd_domains; next_domain(&p, dom, sizeof(dom));) {
		snprintf(old, sizeof(old), "%s/%s", tmp, dom);
		rm_domain(old);
	}
	rmdir(tmp);
	store_close(d->store);
	return rc;
}
