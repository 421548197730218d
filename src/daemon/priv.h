/*
 * priv: who keydird runs as.  Started as root, it switches to the --user
 * account (its groups, then its gid and uid, real, effective and saved)
 * once the port is bound, and checks that root cannot come back; it never
 * works on a data directory as root.  Landlock and seccomp are sandbox.h.
 */
#ifndef KEYDIR_PRIV_H
#define KEYDIR_PRIV_H

#include <sys/types.h>

#include <stdbool.h>

#include "err.h"

#define PRIV_MAX_GROUPS 256

/* What priv_enter does, from who runs keydird and what --user names. */
enum priv_plan {
	PRIV_KEEP,	/* not root: run as we are */
	PRIV_DROP,	/* root with --user: switch to it */
	PRIV_NO_USER,	/* root without --user: refuse */
	PRIV_TO_ROOT,	/* --user names uid 0: refuse */
	PRIV_FOREIGN	/* not root, --user names someone else: cannot */
};

/* The account --user names, looked up before anything is dropped. */
struct priv_user {
	char name[64];
	uid_t uid;
	gid_t gid;
	gid_t groups[PRIV_MAX_GROUPS];	/* its groups, gid among them */
	int ngroups;
};

/* The plan for a process with real uid ruid and effective uid euid
 * (root if either is 0), with --user naming target (user_given). */
enum priv_plan priv_plan(uid_t ruid, uid_t euid, bool user_given,
    uid_t target);

/* Look name up (passwd, then its groups).  -1 with ERR_INVALID when there
 * is no such account or it is in too many groups. */
int priv_user_lookup(const char *name, struct priv_user *u, struct err *e);

/*
 * Check that dir can be the data directory of u: a directory u owns and
 * may read, write and enter; and that u owns every entry in it and in its
 * subdirectories (one level down: the Maildir's folders, superseded
 * keys), since keydird opens them after the drop.  Symbolic links are not
 * followed below dir.  -1 with ERR_INVALID naming the first path at fault
 * and the chown that fixes it.
 */
int priv_dir_check(const char *dir, const struct priv_user *u,
    struct err *e);

/* Switch to u: supplementary groups, gid, uid, all three ids each; then
 * check the ids and that setuid(0) and setgid(0) fail.  -1 with
 * ERR_INTERNAL when a step fails (the caller must then exit). */
int priv_drop(const struct priv_user *u, struct err *e);

/*
 * The whole step for a command working on dir with user (the --user
 * setting, "" when not given): refuse root without a user, switch as root
 * with one.  As root, a missing dir is made (0700) and given to the user
 * when create is set; with a user, dir must then pass priv_dir_check (a
 * missing dir is left to the command when create is not set).  Returns 1
 * after switching, 0 when it kept the process as it was, -1 with e set
 * (ERR_INVALID: a setting or the directory is wrong).
 */
int priv_enter(const char *user, const char *dir, bool create,
    struct err *e);

#endif
