/*
 * t_fault: the directory when the SQLite store fails under it.  A fault
 * is injected with a trigger (this is the SQLite backend's own test, so
 * it may touch the file): a store error while a link is used must be
 * reported as the store's error, never as "This link was already used"
 * (a 410 would tell the owner the link is spent when it is not), and the
 * link must still work once the store does.
 */
#include <sqlite3.h>

static char tmp[] = "/tmp/t_fault.XXXXXX";

#include "dirtest.h"

/* Run sql on the directory's database from a second connection. */
static int
inject(struct dt *t, const char *sql)
{
	char path[700];
	sqlite3 *db;
	int rc;

	snprintf(path, sizeof(path), "%s/keydir.db", t->dir);
	if (sqlite3_open(path, &db) != SQLITE_OK)
		return -1;
	sqlite3_busy_timeout(db, 5000);
	rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
	sqlite3_close(db);
	return rc == SQLITE_OK ? 0 : -1;
}

static const char fail_use[] = "CREATE TRIGGER fail_use BEFORE UPDATE OF "
    "used ON tokens BEGIN SELECT RAISE(ABORT, 'injected fault'); END;";
static const char heal[] = "DROP TRIGGER fail_use;";

static void
t_links(void)
{
	char tok[TOKEN_LEN + 1], mtok[TOKEN_LEN + 1];
	struct dir_upload u;
	struct dir_verify v;
	struct dir_link l;
	struct dt t;
	struct err e;
	int rc;

	ok(dt_open(&t, "links") == 0, "a directory");
	rc = dir_upload(&t.d, T0, keys[K_A1].p, keys[K_A1].len, true,
	    DT_CLIENT, &u, &e);
	dir_upload_release(&u);
	ok(rc == 0 && dt_link(&t, A_MAIN, "verify", tok) == 0,
	    "upload: a confirmation link");
	ok(inject(&t, fail_use) == 0, "fault: marking a token used fails");
	rc = dir_verify_confirm(&t.d, T0 + 1, tok, NULL, 0, &v, &e);
	dir_verify_release(&v);
	ok(rc == -1 && e.code == ERR_INTERNAL &&
	    strstr(e.msg, "already used") == NULL,
	    "confirm during the fault: the store's error (%d: %s), not 410",
	    e.code, e.msg);
	is_str(owner(&t, A_MAIN), "", "... nothing published");
	ok(inject(&t, heal) == 0, "the store works again");
	rc = dir_verify_confirm(&t.d, T0 + 2, tok, NULL, 0, &v, &e);
	dir_verify_release(&v);
	ok(rc == 0 && !strcmp(owner(&t, A_MAIN), afpr),
	    "the same link confirms now: it was not spent (%s)",
	    rc ? e.msg : "ok");

	/* a removal link, the same way */
	ok(dir_manage_request(&t.d, T0 + 3, A_MAIN, 0, &e) == 0 &&
	    dt_link(&t, A_MAIN, "manage", mtok) == 0, "a removal link");
	ok(inject(&t, fail_use) == 0, "fault again");
	rc = dir_link_act(&t.d, T0 + 4, TOKEN_MANAGE, mtok, true, &l, &e);
	ok(rc == -1 && e.code == ERR_INTERNAL &&
	    strstr(e.msg, "already used") == NULL,
	    "removal during the fault: the store's error (%d: %s)", e.code,
	    e.msg);
	ok(!strcmp(owner(&t, A_MAIN), afpr), "... still published");
	ok(inject(&t, heal) == 0, "healed");
	ok(dir_link_act(&t.d, T0 + 5, TOKEN_MANAGE, mtok, true, &l, &e) ==
	    0, "the removal link works now");
	is_str(owner(&t, A_MAIN), "", "... the address is unpublished");
	ok(dir_link_act(&t.d, T0 + 6, TOKEN_MANAGE, mtok, true, &l, &e) ==
	    -1 && e.code == ERR_GONE && strstr(e.msg, "already used"),
	    "and once used, it says so (410)");
	dt_close(&t);
}

int
main(void)
{
	static const struct dt_group g[] = { { "links", t_links } };

	return dt_main(g, 1);
}
