/*
 * t_priv: the plan for each way keydird can be started, account lookup,
 * the data directory check and, when run as root, the switch itself (in
 * a child, which reports back through its exit status).
 */
#define _GNU_SOURCE	/* getresuid */
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "priv.h"
#include "tap.h"

/* A visible TAP skip. */
static void
skip(const char *why)
{
	printf("ok %d # skip %s\n", ++tap_n, why);
}

static const struct {
	uid_t ruid, euid;
	bool given;
	uid_t target;
	enum priv_plan want;
	const char *what;
} plans[] = {
	{ 0, 0, false, 0, PRIV_NO_USER, "root without --user: refused" },
	{ 0, 0, true, 65534, PRIV_DROP, "root with --user: switch" },
	{ 0, 0, true, 0, PRIV_TO_ROOT, "root with --user root: refused" },
	{ 1000, 0, true, 1000, PRIV_DROP, "set-uid root is root: switch" },
	{ 0, 1000, false, 0, PRIV_NO_USER, "real uid 0 is root too" },
	{ 1000, 1000, false, 0, PRIV_KEEP, "not root, no --user: as today" },
	{ 1000, 1000, true, 1000, PRIV_KEEP, "--user naming ourselves" },
	{ 1000, 1000, true, 1001, PRIV_FOREIGN, "--user someone else" },
	{ 1000, 1000, true, 0, PRIV_TO_ROOT, "not root, --user root" },
	{ 1000, 1001, true, 1001, PRIV_FOREIGN, "real and effective differ" },
};

/* Write an empty file. */
static void
touch(const char *path)
{
	FILE *f = fopen(path, "w");

	if (f != NULL)
		fclose(f);
}

/* chown, or a failed test line. */
static void
give(const char *path, uid_t uid, gid_t gid)
{
	if (chown(path, uid, gid) == -1)
		ok(0, "chown %s: %s", path, strerror(errno));
}

/* priv_dir_check on dir as u; the message into msg. */
static int
check(const char *dir, const struct priv_user *u, char *msg, size_t sz)
{
	struct err e;
	int rc;

	err_clear(&e);
	rc = priv_dir_check(dir, u, &e);
	snprintf(msg, sz, "%s", e.msg);
	return rc;
}

/* The data directory check, as whoever runs the test. */
static void
test_dir_check(const struct priv_user *me)
{
	char dir[] = "/tmp/t_priv.XXXXXX", path[256], msg[256];

	if (mkdtemp(dir) == NULL) {
		ok(0, "mkdtemp");
		return;
	}
	ok(check(dir, me, msg, sizeof(msg)) == 0, "an empty directory of ours");
	snprintf(path, sizeof(path), "%s/mail", dir);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/mail/new", dir);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/keydir.db", dir);
	touch(path);
	ok(check(dir, me, msg, sizeof(msg)) == 0, "files and folders of ours");
	snprintf(path, sizeof(path), "%s/link", dir);
	ok(symlink("/etc/hostname", path) == 0 &&
	    check(dir, me, msg, sizeof(msg)) == 0,
	    "a symbolic link is not followed");
	snprintf(path, sizeof(path), "%s/keydir.db", dir);
	ok(check(path, me, msg, sizeof(msg)) == -1 &&
	    strstr(msg, "is not a directory") != NULL, "a file: refused (%s)",
	    msg);
	snprintf(path, sizeof(path), "%s/none", dir);
	ok(check(path, me, msg, sizeof(msg)) == -1 &&
	    strstr(msg, "No such file") != NULL, "a missing one: refused");
	chmod(dir, 0500);
	ok(check(dir, me, msg, sizeof(msg)) == -1 &&
	    strstr(msg, "chmod u+rwx") != NULL, "mode 0500: refused (%s)",
	    msg);
	chmod(dir, 0700);
	if (geteuid() != 0) {
		skip("not root: no files of another owner to make");
		skip("not root: no files of another owner to make");
		skip("not root: no files of another owner to make");
	} else {
		snprintf(path, sizeof(path), "%s/keydir.db", dir);
		give(path, 65534, 65534);
		ok(check(dir, me, msg, sizeof(msg)) == -1 &&
		    strstr(msg, "keydir.db' belongs to uid 65534") != NULL &&
		    strstr(msg, "chown -R") != NULL,
		    "a file of another owner: refused with the chown (%s)",
		    msg);
		give(path, me->uid, me->gid);
		snprintf(path, sizeof(path), "%s/mail/new", dir);
		give(path, 65534, 65534);
		ok(check(dir, me, msg, sizeof(msg)) == -1 &&
		    strstr(msg, "mail/new'") != NULL,
		    "a folder one level down of another owner: refused");
		give(path, me->uid, me->gid);
		snprintf(path, sizeof(path), "%s/mail/new/1.eml", dir);
		touch(path);
		give(path, 65534, 65534);
		ok(check(dir, me, msg, sizeof(msg)) == 0,
		    "mail two levels down is not looked at");
	}
	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	if (system(path) != 0)
		printf("# cannot remove %s\n", dir);
}

/* In a child: switch to nobody and check what priv_drop promises.  The
 * exit status is the first check that failed, 0 when none did. */
static int
child_drop(const struct priv_user *u)
{
	uid_t r, e, s;
	gid_t g[8];
	struct err er;

	if (priv_drop(u, &er) == -1)
		return 1;
	if (getresuid(&r, &e, &s) == -1 || r != u->uid || e != u->uid ||
	    s != u->uid)
		return 2;
	if (setuid(0) != -1 || errno != EPERM)
		return 3;
	if (getgroups(8, g) != u->ngroups)
		return 4;
	if (access("/root", W_OK) == 0)
		return 5;
	return 0;
}

/* The switch itself, only as root. */
static void
test_drop(void)
{
	struct priv_user u;
	struct err e;
	pid_t pid;
	int st;

	if (geteuid() != 0) {
		skip("not root: the switch needs root");
		return;
	}
	if (priv_user_lookup("nobody", &u, &e) == -1) {
		skip("no account 'nobody'");
		return;
	}
	if ((pid = fork()) == 0)
		_exit(child_drop(&u));
	waitpid(pid, &st, 0);
	ok(WIFEXITED(st) && WEXITSTATUS(st) == 0, "root switches to nobody "
	    "for good (check %d)", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
}

int
main(void)
{
	struct priv_user me, u;
	struct passwd *pw;
	struct err e;
	size_t i;

	for (i = 0; i < sizeof(plans) / sizeof(plans[0]); i++)
		ok(priv_plan(plans[i].ruid, plans[i].euid, plans[i].given,
		    plans[i].target) == plans[i].want, "plan: %s",
		    plans[i].what);

	ok(priv_user_lookup("root", &u, &e) == 0 && u.uid == 0 &&
	    u.gid == 0 && u.ngroups >= 1, "lookup: root");
	ok(priv_user_lookup("no-such-keydir-user", &u, &e) == -1 &&
	    e.code == ERR_INVALID && strstr(e.msg, "no such account") != NULL,
	    "lookup: a missing account (%s)", e.msg);

	pw = getpwuid(geteuid());
	if (pw == NULL || priv_user_lookup(pw->pw_name, &me, &e) == -1) {
		ok(0, "lookup: the account running the test");
		return tap_done();
	}
	test_dir_check(&me);
	test_drop();

	/* priv_enter's refusal as root; elsewhere, --user root */
	ok(priv_enter(geteuid() == 0 ? "" : "root", "/nonexistent", false,
	    &e) == -1 && e.code == ERR_INVALID, "priv_enter refuses (%s)",
	    e.msg);
	return tap_done();
}
