/*
 * fuzz_daemon: the keydird of the HTTP targets (fuzz_daemon.h).  The
 * template store is made once; each input gets a byte copy of it, so an
 * input sees the same directory whatever ran before it (a crash found
 * after a million inputs replays from its file alone).
 */
#include <sys/stat.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "config.h"
#include "daemon.h"
#include "directory.h"
#include "fuzz.h"
#include "fuzz_daemon.h"
#include "log.h"
#include "pgp.h"
#include "routes.h"
#include "store.h"
#include "str.h"

static struct daemon fd_d;
static char fd_dir[256];
static char fd_tmpl[300], fd_db[300];

/* Write len bytes of p to path, mode 0600. */
static void
file_put(const char *path, const void *p, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd == -1 || write(fd, p, len) != (ssize_t)len || close(fd) != 0) {
		fprintf(stderr, "fuzz: cannot write %s\n", path);
		exit(2);
	}
}

/* Remove the store files of db. */
static void
db_unlink(const char *db)
{
	char p[400];

	unlink(db);
	snprintf(p, sizeof(p), "%s-wal", db);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", db);
	unlink(p);
}

/* Remove the scratch folder. */
static void
fd_cleanup(void)
{
	char p[400];

	store_close(fd_d.store);
	fd_d.store = NULL;
	db_unlink(fd_tmpl);
	db_unlink(fd_db);
	snprintf(p, sizeof(p), "%s/server-key.pgp", fd_dir);
	unlink(p);
	snprintf(p, sizeof(p), "%s/session.key", fd_dir);
	unlink(p);
	snprintf(p, sizeof(p), "%s/keydir.lock", fd_dir);
	unlink(p);
	rmdir(fd_dir);
}

/* Publish the signer's key for sam@example.org in the open store. */
static void
template_fill(struct daemon *d, int64_t now)
{
	struct store_addr a;
	struct dir_import *imp;
	struct pgp_cert *c = NULL;
	struct err e;
	uint8_t *pub;
	size_t len, n = 0;
	bool merged;

	pub = fuzz_fixture("signer.pub", &len);
	memset(&a, 0, sizeof(a));
	str_lcpy(a.address, "sam@example.org", sizeof(a.address));
	a.verified = now;
	/* the fingerprint, as the import checks it */
	if (pgp_parse(pub, len, NULL, &c, &n, &e) == -1 || n != 1)
		goto fail;
	str_lcpy(a.fpr, c->fpr, sizeof(a.fpr));
	if ((imp = dir_import_prepare(d, c->fpr, c->full, c->full_len, &a, 1,
	    now, true, now, &e)) == NULL)
		goto fail;
	if (store_begin(d->store, &e) == -1 ||
	    dir_import_store(d, imp, now, &merged, &e) == -1 ||
	    store_commit(d->store, &e) == -1)
		goto fail;
	dir_import_free(imp);
	pgp_certs_free(c, n);
	free(pub);
	return;
fail:
	fprintf(stderr, "fuzz: template store: %s\n", e.msg);
	exit(2);
}

/* Make the daemon and its template store. */
void
fuzz_daemon_init(void)
{
	const char *tmp = getenv("TMPDIR");
	char path[400], url[400];
	struct stat st;
	struct err e;
	uint8_t *sec;
	size_t len;
	int64_t now = (int64_t)time(NULL);

	if (sodium_init() < 0)
		abort();
	log_set_quiet(1);
	/* a memory file system when there is one: each input writes */
	if (tmp == NULL)
		tmp = stat("/dev/shm", &st) == 0 && access("/dev/shm", W_OK) ==
		    0 ? "/dev/shm" : "/tmp";
	snprintf(fd_dir, sizeof(fd_dir), "%s/keydir-fuzz.XXXXXX", tmp);
	if (mkdtemp(fd_dir) == NULL) {
		fprintf(stderr, "fuzz: cannot make %s\n", fd_dir);
		exit(2);
	}
	atexit(fd_cleanup);
	config_defaults(&fd_d.cfg);
	str_lcpy(fd_d.cfg.data_dir, fd_dir, sizeof(fd_d.cfg.data_dir));
	/* the authority the fixture submissions name */
	config_set(&fd_d.cfg, "base_url", "http://127.0.0.1:8080", &e);
	if (config_finish(&fd_d.cfg, &e) == -1)
		goto fail;
	snprintf(fd_tmpl, sizeof(fd_tmpl), "%s/template.db", fd_dir);
	snprintf(fd_db, sizeof(fd_db), "%s/keydir.db", fd_dir);
	snprintf(url, sizeof(url), "sqlite:%s", fd_tmpl);
	if ((fd_d.store = store_open(url, &e)) == NULL)
		goto fail;
	sec = fuzz_fixture("server.sec", &len);
	snprintf(path, sizeof(path), "%s/server-key.pgp", fd_dir);
	file_put(path, sec, len);
	free(sec);
	snprintf(path, sizeof(path), "%s/session.key", fd_dir);
	if (dir_session_key(&fd_d, path, &e) == -1 ||
	    dir_server_key(&fd_d, now, &e) == -1)
		goto fail;
	template_fill(&fd_d, now);
	/* closed, the template is one self-contained file */
	store_close(fd_d.store);
	fd_d.store = NULL;
	return;
fail:
	fprintf(stderr, "fuzz: daemon: %s\n", e.msg);
	exit(2);
}

/* What the files of db look like: changed once a unit of work wrote
 * (to the WAL, or the checkpointer to the database). */
struct db_look {
	off_t size, wal;
	struct timespec mtime;
};

/* Look at db's files. */
static void
db_look(const char *db, struct db_look *l)
{
	char p[400];
	struct stat st;

	memset(l, 0, sizeof(*l));
	if (stat(db, &st) == 0) {
		l->size = st.st_size;
		l->mtime = st.st_mtim;
	}
	snprintf(p, sizeof(p), "%s-wal", db);
	if (stat(p, &st) == 0)
		l->wal = st.st_size;
}

static struct db_look fd_look;	/* of this input's store, fresh */

/*
 * A fresh copy of the template store, or the one the last input left
 * open if nothing was written to it since it was fresh (lookups and most
 * refusals write nothing): the same directory either way, at a fraction
 * of the cost of a copy.
 */
struct daemon *
fuzz_daemon_fresh(void)
{
	static uint8_t *tmpl;
	static size_t tlen;
	struct db_look now;
	char url[400];
	struct err e;
	FILE *f;

	if (fd_d.store != NULL) {
		db_look(fd_db, &now);
		if (now.size == fd_look.size && now.wal == fd_look.wal &&
		    now.mtime.tv_sec == fd_look.mtime.tv_sec &&
		    now.mtime.tv_nsec == fd_look.mtime.tv_nsec)
			return &fd_d;
		store_close(fd_d.store);
		fd_d.store = NULL;
	}
	if (tmpl == NULL) {
		if ((f = fopen(fd_tmpl, "rb")) == NULL)
			abort();
		fseek(f, 0, SEEK_END);
		tlen = (size_t)ftell(f);
		fseek(f, 0, SEEK_SET);
		if ((tmpl = malloc(tlen)) == NULL ||
		    fread(tmpl, 1, tlen, f) != tlen)
			abort();
		fclose(f);
	}
	db_unlink(fd_db);
	file_put(fd_db, tmpl, tlen);
	snprintf(url, sizeof(url), "sqlite:%s", fd_db);
	if ((fd_d.store = store_open(url, &e)) == NULL) {
		fprintf(stderr, "fuzz: store: %s\n", e.msg);
		abort();
	}
	db_look(fd_db, &fd_look);
	return &fd_d;
}

/* This input is done with the store (kept open for the next). */
void
fuzz_daemon_done(void)
{
}

/* Run one request and check the answer. */
int
fuzz_request(struct daemon *d, enum http_method m, const char *uri,
    const char *ctype, const char *inm, const void *body, size_t len)
{
	struct resp w;
	struct req r;
	json_t *j;
	char *q;
	size_t i;

	memset(&r, 0, sizeof(r));
	r.method = m;
	r.uri = strdup(uri);
	r.path = r.uri;
	r.query = "";
	if ((q = strchr(r.uri, '?')) != NULL) {
		*q = '\0';
		r.query = q + 1;
	}
	buf_init(&r.body, d->cfg.max_body);
	if (buf_add(&r.body, body, len) == -1)
		r.too_big = true;
	r.content_type = ctype;
	r.if_none_match = inm;
	memset(&w, 0, sizeof(w));
	buf_init(&w.body, 16 * 1024 * 1024);
	w.status = 500;
	routes_dispatch(d, &r, &w);
	fuzz_log("%s %.80s: %d %.200s", m == HTTP_GET ? "GET" : m == HTTP_HEAD ?
	    "HEAD" : m == HTTP_POST ? "POST" : "OTHER", uri, w.status,
	    w.body.data);
	FUZZ_CHECK(w.status != 500, "a request is never our fault (500)");
	FUZZ_CHECK(w.ctype != NULL || w.status == 304, "a content type");
	FUZZ_CHECK(!buf_failed(&w.body), "the answer fit its buffer");
	if (w.ctype != NULL && !strncmp(w.ctype, "application/json", 16) &&
	    m != HTTP_HEAD) {
		j = json_loadb(w.body.data, w.body.len, 0, NULL);
		FUZZ_CHECK(j != NULL, "a JSON answer is JSON");
		json_decref(j);
	}
	for (i = 0; i < w.nhdr; i++) {
		FUZZ_CHECK(!str_has_ctl(w.hval[i], strlen(w.hval[i])),
		    "no control character in a header");
		free(w.hval[i]);
	}
	buf_release(&w.body);
	buf_release(&r.body);
	free(r.uri);
	return w.status;
}
