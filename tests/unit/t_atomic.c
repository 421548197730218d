/*
 * t_atomic: dir_atomic on a real SQLite store.  A unit of work commits
 * whole; a unit the store could not serialise (ERR_RETRY) leaves nothing
 * and runs again; other errors are not retried; a unit that keeps
 * failing with ERR_RETRY is given up after a few runs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"
#include "directory_int.h"
#include "store.h"
#include "tap.h"

struct probe {
	int runs;		/* how many times the unit ran */
	int retry_first;	/* answer ERR_RETRY on this many first runs */
	enum err_code fail;	/* else fail with this (ERR_OK: succeed) */
};

/* Each run marks "run-N@x.org", then fails or succeeds as told. */
static int
probe_unit(struct daemon *d, void *arg, struct err *e)
{
	struct probe *p = arg;
	char addr[64];

	p->runs++;
	snprintf(addr, sizeof(addr), "run-%d@x.org", p->runs);
	if (store_rate_set(d->store, addr, 100 + p->runs, e) == -1)
		return -1;
	if (p->runs <= p->retry_first)
		return err_set(e, ERR_RETRY, "database busy (run %d)",
		    p->runs);
	if (p->fail != ERR_OK)
		return err_set(e, p->fail, "refused");
	return 0;
}

/* Whether run N's mark was kept. */
static int
kept(struct daemon *d, int n)
{
	char addr[64];
	int64_t last = 0;
	struct err e;
	int rc;

	snprintf(addr, sizeof(addr), "run-%d@x.org", n);
	if (store_begin_read(d->store, &e) == -1)
		return -1;
	rc = store_rate_get(d->store, addr, &last, &e);
	store_rollback(d->store);
	return rc == 0 && last == 100 + n;
}

/* Forget every mark, for the next case. */
static void
forget(struct daemon *d)
{
	struct err e;
	size_t n;

	if (store_begin(d->store, &e) == 0 &&
	    store_rate_purge(d->store, INT64_MAX, &n, &e) == 0)
		store_commit(d->store, &e);
}

int
main(void)
{
	char dir[] = "/tmp/t_atomic.XXXXXX", url[128], cmd[160];
	struct daemon d;
	struct probe p;
	struct err e;

	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(url, sizeof(url), "sqlite:%s/keydir.db", dir);
	memset(&d, 0, sizeof(d));
	if ((d.store = store_open(url, &e)) == NULL) {
		printf("Bail out! %s\n", e.msg);
		return 1;
	}

	p = (struct probe){ 0, 0, ERR_OK };
	ok(dir_atomic(&d, probe_unit, &p, &e) == 0 && p.runs == 1 &&
	    kept(&d, 1) == 1, "a unit that succeeds runs once and commits");
	forget(&d);

	p = (struct probe){ 0, 2, ERR_OK };
	ok(dir_atomic(&d, probe_unit, &p, &e) == 0 && p.runs == 3,
	    "ERR_RETRY twice: the unit runs three times and succeeds");
	ok(kept(&d, 1) == 0 && kept(&d, 2) == 0 && kept(&d, 3) == 1,
	    "only the last run's writes are kept");
	forget(&d);

	p = (struct probe){ 0, 0, ERR_INVALID };
	ok(dir_atomic(&d, probe_unit, &p, &e) == -1 && p.runs == 1 &&
	    e.code == ERR_INVALID && kept(&d, 1) == 0,
	    "another error: one run, nothing kept, its error returned");

	p = (struct probe){ 0, 1000, ERR_OK };
	ok(dir_atomic(&d, probe_unit, &p, &e) == -1 && p.runs == 6 &&
	    e.code == ERR_RETRY && kept(&d, 6) == 0,
	    "ERR_RETRY every time: given up after 6 runs, nothing kept");

	store_close(d.store);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", dir);
	return tap_done();
}
