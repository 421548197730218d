/*
 * t_store_conf: the store conformance suite (conformance.h) against the
 * SQLite backend: each group gets a database of its own in a temporary
 * directory, which goes at the end.
 */
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "conformance.h"

static char dir[] = "/tmp/t_store_conf.XXXXXX";
static char url[700];
static int nstores;

/* A new database file in the test directory. */
static const char *
fresh_url(void)
{
	snprintf(url, sizeof(url), "sqlite:%s/k%d.db", dir, ++nstores);
	return url;
}

/* Remove the test directory and every file in it (databases, -wal,
 * -shm). */
static void
cleanup(void)
{
	struct dirent *de;
	char path[800];
	DIR *d;

	if ((d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		unlink(path);
	}
	closedir(d);
	ok(rmdir(dir) == 0, "test directory removed");
}

int
main(void)
{
	struct conf_backend b;
	char bad[700];

	log_set_quiet(1);
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(bad, sizeof(bad), "sqlite:%s/nodir/x.db", dir);
	memset(&b, 0, sizeof(b));
	b.name = "sqlite";
	b.fresh_url = fresh_url;
	b.bad_url = bad;
	/*
	 * SQLite's begin is BEGIN IMMEDIATE under a busy timeout of 5 s
	 * (SQ_BUSY_MS): while another handle holds a write unit it waits
	 * for it, and only gives up with ERR_RETRY once 5 s have passed.
	 * The suite asserts both: the wait, and ERR_RETRY after it.
	 */
	b.busy_ms = 5000;
	conf_run(&b);
	cleanup();
	return tap_done();
}
