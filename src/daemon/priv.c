/*
 * priv: the switch from root to the --user account, OpenBSD style
 * (setgroups, setresgid, setresuid, then a check that it held), and the
 * check that the data directory belongs to that account.  keydird opens
 * its files only after the switch, so each is created by and belongs to
 * the account that reopens it later.
 */
#define _GNU_SOURCE	/* setresuid, getresuid */
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef __linux__
#include <linux/capability.h>
#endif

#include "log.h"
#include "priv.h"
#include "str.h"

/* See priv.h. */
enum priv_plan
priv_plan(uid_t ruid, uid_t euid, bool user_given, uid_t target)
{
	if (user_given && target == 0)
		return PRIV_TO_ROOT;
	if (ruid == 0 || euid == 0)
		return user_given ? PRIV_DROP : PRIV_NO_USER;
	if (user_given && (target != euid || target != ruid))
		return PRIV_FOREIGN;
	return PRIV_KEEP;
}

/* See priv.h. */
int
priv_user_lookup(const char *name, struct priv_user *u, struct err *e)
{
	struct passwd *pw;

	memset(u, 0, sizeof(*u));
	if ((pw = getpwnam(name)) == NULL)
		return err_set(e, ERR_INVALID, "user '%s': no such account",
		    name);
	if (str_lcpy(u->name, name, sizeof(u->name)) >= sizeof(u->name))
		return err_set(e, ERR_INVALID, "user '%s': name too long",
		    name);
	u->uid = pw->pw_uid;
	u->gid = pw->pw_gid;
	u->ngroups = PRIV_MAX_GROUPS;
	if (getgrouplist(name, u->gid, u->groups, &u->ngroups) == -1)
		return err_set(e, ERR_INVALID, "user '%s' is in more than %d "
		    "groups", name, PRIV_MAX_GROUPS);
	return 0;
}

/* The owner and mode check of one path (already lstat'ed into sb). */
static int
priv_owned(const char *path, const struct stat *sb, const char *top,
    const struct priv_user *u, struct err *e)
{
	if (sb->st_uid != u->uid)
		return err_set(e, ERR_INVALID, "'%s' belongs to uid %lu, not "
		    "to '%s' (uid %lu) that keydird runs as: "
		    "chown -R %s: '%s'", path, (unsigned long)sb->st_uid,
		    u->name, (unsigned long)u->uid, u->name, top);
	if (S_ISDIR(sb->st_mode) && (sb->st_mode & S_IRWXU) != S_IRWXU)
		return err_set(e, ERR_INVALID, "'%s' is mode %03o: '%s' needs "
		    "to read, write and enter it: chmod u+rwx '%s'", path,
		    (unsigned)(sb->st_mode & 07777), u->name, path);
	return 0;
}

/* Check the entries of dir, and of its subdirectories while depth > 0. */
static int
priv_dir_walk(const char *dir, int depth, const char *top,
    const struct priv_user *u, struct err *e)
{
	char path[PATH_MAX];
	struct dirent *de;
	struct stat sb;
	DIR *dh;
	int rc = 0;

	if ((dh = opendir(dir)) == NULL)
		return err_set(e, ERR_INVALID, "data directory '%s': %s", dir,
		    strerror(errno));
	while (rc == 0 && (de = readdir(dh)) != NULL) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir,
		    de->d_name) >= sizeof(path))
			rc = err_set(e, ERR_INVALID, "'%s': path too long",
			    dir);
		else if (lstat(path, &sb) == -1)
			/* gone meanwhile: nothing to open later */
			continue;
		else if (S_ISLNK(sb.st_mode))
			continue;
		else if ((rc = priv_owned(path, &sb, top, u, e)) == 0 &&
		    S_ISDIR(sb.st_mode) && depth > 0)
			rc = priv_dir_walk(path, depth - 1, top, u, e);
	}
	closedir(dh);
	return rc;
}

/* See priv.h. */
int
priv_dir_check(const char *dir, const struct priv_user *u, struct err *e)
{
	struct stat sb;

	if (stat(dir, &sb) == -1)
		return err_set(e, ERR_INVALID, "data directory '%s': %s", dir,
		    strerror(errno));
	if (!S_ISDIR(sb.st_mode))
		return err_set(e, ERR_INVALID, "data directory '%s' is not a "
		    "directory", dir);
	if (priv_owned(dir, &sb, dir, u, e) == -1)
		return -1;
	if (sb.st_mode & (S_IWGRP | S_IWOTH))
		log_warnx("data directory '%s' is writable by others than "
		    "'%s' (mode %03o)", dir, u->name,
		    (unsigned)(sb.st_mode & 07777));
	return priv_dir_walk(dir, 1, dir, u, e);
}

/* Whether the process's groups are exactly u's. */
static bool
priv_groups_are(const struct priv_user *u)
{
	gid_t now[PRIV_MAX_GROUPS];
	int i, j, n;

	if ((n = getgroups(PRIV_MAX_GROUPS, now)) == -1 || n != u->ngroups)
		return false;
	for (i = 0; i < n; i++) {
		for (j = 0; j < u->ngroups && now[i] != u->groups[j]; j++)
			;
		if (j == u->ngroups)
			return false;
	}
	return true;
}

/* See priv.h. */
int
priv_drop(const struct priv_user *u, struct err *e)
{
	uid_t ru, eu, su;
	gid_t rg, eg, sg;

	if (setgroups((size_t)u->ngroups, u->groups) == -1)
		return err_set(e, ERR_INTERNAL, "setgroups for '%s': %s",
		    u->name, strerror(errno));
	if (setresgid(u->gid, u->gid, u->gid) == -1)
		return err_set(e, ERR_INTERNAL, "setresgid %lu: %s",
		    (unsigned long)u->gid, strerror(errno));
	if (setresuid(u->uid, u->uid, u->uid) == -1)
		return err_set(e, ERR_INTERNAL, "setresuid %lu: %s",
		    (unsigned long)u->uid, strerror(errno));
	/* trust nothing: read every id back, then try the way back */
	if (getresuid(&ru, &eu, &su) == -1 || getresgid(&rg, &eg, &sg) == -1 ||
	    ru != u->uid || eu != u->uid || su != u->uid || rg != u->gid ||
	    eg != u->gid || sg != u->gid || !priv_groups_are(u))
		return err_set(e, ERR_INTERNAL, "the switch to '%s' did not "
		    "hold", u->name);
	if (setuid(0) != -1 || setgid(0) != -1 || seteuid(0) != -1)
		return err_set(e, ERR_INTERNAL, "could become root again after "
		    "the switch to '%s'", u->name);
	return 0;
}

/*
 * Drop the capabilities a process not started as root may still hold
 * (systemd's AmbientCapabilities=CAP_NET_BIND_SERVICE for a low port):
 * they were for the bind, done by now.
 */
#ifdef __linux__
static int
priv_caps_clear(struct err *e)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &h, d) == -1)
		return err_set(e, ERR_INTERNAL, "capget: %s", strerror(errno));
	if ((d[0].permitted | d[1].permitted | d[0].inheritable |
	    d[1].inheritable) == 0)
		return 0;
	memset(d, 0, sizeof(d));
	/* ambient ones go with their permitted bit; cleared first anyway */
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) == -1 ||
	    syscall(SYS_capset, &h, d) == -1)
		return err_set(e, ERR_INTERNAL, "cannot drop capabilities: %s",
		    strerror(errno));
	return 0;
}
#else
static int
priv_caps_clear(struct err *e)
{
	(void)e;
	return 0;
}
#endif

/* Make dir (0700) for u if it is missing: a root-owned parent such as
 * /var/lib lets only root make it. */
static int
priv_dir_make(const char *dir, const struct priv_user *u, struct err *e)
{
	if (mkdir(dir, 0700) == -1) {
		if (errno == EEXIST)
			return 0;
		return err_set(e, ERR_INVALID, "cannot create data directory "
		    "'%s': %s", dir, strerror(errno));
	}
	if (geteuid() == 0 && chown(dir, u->uid, u->gid) == -1)
		return err_set(e, ERR_INTERNAL, "cannot give '%s' to '%s': %s",
		    dir, u->name, strerror(errno));
	return 0;
}

/*
 * After the switch: can the account reach abs, the data directory's full
 * path?  SQLite opens the database by its full path, so every directory
 * above must let the account in, not only the data directory itself (a
 * checkout in root's 0700 home is the usual case).  -1 naming the first
 * directory that keeps it out.
 */
static int
priv_dir_reach(const char *abs, const struct priv_user *u, struct err *e)
{
	char part[PATH_MAX];
	size_t i;

	if (access(abs, R_OK | W_OK | X_OK) == 0)
		return 0;
	for (i = 1; abs[i - 1] != '\0'; i++) {
		if (abs[i] != '/' && abs[i] != '\0')
			continue;
		memcpy(part, abs, i);
		part[i] = '\0';
		if (access(part, X_OK) == -1)
			return err_set(e, ERR_INVALID, "'%s' cannot reach the "
			    "data directory '%s': it may not enter '%s' (%s); "
			    "put data_dir where the account can reach it",
			    u->name, abs, part, strerror(errno));
	}
	return err_set(e, ERR_INVALID, "'%s' cannot use the data directory "
	    "'%s': %s", u->name, abs, strerror(errno));
}

/* See priv.h. */
int
priv_enter(const char *user, const char *dir, bool create, struct err *e)
{
	enum priv_plan plan;
	struct priv_user u;
	struct stat sb;
	char abs[PATH_MAX];
	bool given = user[0] != '\0';

	if (given && priv_user_lookup(user, &u, e) == -1)
		return -1;
	plan = priv_plan(getuid(), geteuid(), given, given ? u.uid : 0);
	if (plan == PRIV_NO_USER)
		return err_set(e, ERR_INVALID, "refusing to run as root: give "
		    "--user NAME (or user = NAME in the config), the account "
		    "keydird switches to and that owns the data directory");
	if (plan == PRIV_TO_ROOT)
		return err_set(e, ERR_INVALID, "--user '%s' is root: name an "
		    "account of its own for keydird", user);
	if (plan == PRIV_FOREIGN)
		return err_set(e, ERR_INVALID, "--user '%s': only root can "
		    "switch users, and keydird runs as uid %lu", user,
		    (unsigned long)geteuid());
	if (plan == PRIV_KEEP && priv_caps_clear(e) == -1)
		return -1;
	if (!given)
		return 0;
	if (create && priv_dir_make(dir, &u, e) == -1)
		return -1;
	if ((create || stat(dir, &sb) == 0) && priv_dir_check(dir, &u, e) == -1)
		return -1;
	if (plan == PRIV_KEEP)
		return 0;
	if (realpath(dir, abs) == NULL)
		abs[0] = '\0';	/* not made yet: the command says so */
	if (priv_drop(&u, e) == -1)
		return -1;
	if (abs[0] != '\0' && priv_dir_reach(abs, &u, e) == -1)
		return -1;
	return 1;
}
