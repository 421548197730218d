/*
 * sandbox: Landlock, through the raw system calls (glibc has no
 * wrappers), then the seccomp filter of sandbox_seccomp.c.  Landlock is
 * a list of rules: each names a file or directory (by an O_PATH
 * descriptor) and what may be done beneath it; everything the ruleset
 * handles and no rule allows is refused, for root too.
 */
#define _GNU_SOURCE	/* O_PATH */
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef __linux__
#include <linux/landlock.h>
#endif

#include "log.h"
#include "sandbox.h"
#include "str.h"

#if defined(SYS_landlock_create_ruleset) && \
    defined(LANDLOCK_CREATE_RULESET_VERSION)
#define HAVE_LANDLOCK 1
#endif

/* Under ASan the runtime reads /proc/self/maps and the binary itself to
 * symbolize a report, and LeakSanitizer lists /proc/self/task at exit. */
#if defined(__SANITIZE_ADDRESS__)
#define SANDBOX_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANDBOX_SANITIZED 1
#endif
#endif

#ifdef HAVE_LANDLOCK
/* Newer than Debian 12's header (kernel 6.1). */
#ifndef LANDLOCK_ACCESS_FS_REFER
#define LANDLOCK_ACCESS_FS_REFER (1ULL << 13)
#endif
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)
#endif

#define LL_READ (LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR)
#define LL_WRITE (LANDLOCK_ACCESS_FS_WRITE_FILE | \
	LANDLOCK_ACCESS_FS_REMOVE_DIR | LANDLOCK_ACCESS_FS_REMOVE_FILE | \
	LANDLOCK_ACCESS_FS_MAKE_DIR | LANDLOCK_ACCESS_FS_MAKE_REG | \
	LANDLOCK_ACCESS_FS_REFER | LANDLOCK_ACCESS_FS_TRUNCATE)
/* the rights that apply to a file rather than a directory */
#define LL_FILE (LANDLOCK_ACCESS_FS_EXECUTE | \
	LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_READ_FILE | \
	LANDLOCK_ACCESS_FS_TRUNCATE)

/*
 * What keydird reads after it starts, besides the data directory: the
 * resolver's files (libcurl resolves the SMTP host on each connection),
 * CA certificates for smtps:// and STARTTLS (the files in /etc/ssl/certs
 * are links into /usr/share/ca-certificates), OpenSSL's configuration,
 * time zones, the number of CPUs (sysconf), and the libraries glibc and
 * OpenSSL load on demand (NSS modules, gconv, OpenSSL providers): reading
 * those is harmless.  A missing one is skipped.
 */
static const char *const sandbox_ro[] = {
	"/etc/hosts", "/etc/resolv.conf", "/etc/host.conf", "/etc/gai.conf",
	"/etc/nsswitch.conf", "/etc/services", "/etc/protocols",
	"/etc/ld.so.cache", "/etc/localtime", "/usr/share/zoneinfo",
	"/etc/ssl", "/usr/lib/ssl", "/usr/share/ca-certificates",
	"/usr/local/share/ca-certificates", "/etc/pki",
	"/etc/gnutls", "/usr/lib", "/usr/lib64", "/lib", "/lib64",
	"/sys/devices/system/cpu", "/dev/urandom", "/dev/null",
#ifdef SANDBOX_SANITIZED
	"/proc",
#endif
};

/* Landlock's ABI version, or -1 with errno (ENOSYS, EOPNOTSUPP). */
static int
ll_abi(void)
{
	return (int)syscall(SYS_landlock_create_ruleset, NULL, 0,
	    LANDLOCK_CREATE_RULESET_VERSION);
}

/* Allow access (masked by what the ruleset handles) beneath path.
 * 0, also when path is missing; -1 with e set. */
static int
ll_allow(int ruleset, const char *path, __u64 access, __u64 handled,
    struct err *e)
{
	struct landlock_path_beneath_attr pb;
	struct stat sb;
	int fd, rc;

	if ((fd = open(path, O_PATH | O_CLOEXEC)) == -1) {
		if (errno == ENOENT || errno == ENOTDIR || errno == EACCES)
			return 0;
		return err_set(e, ERR_INTERNAL, "landlock: '%s': %s", path,
		    strerror(errno));
	}
	memset(&pb, 0, sizeof(pb));
	pb.parent_fd = fd;
	pb.allowed_access = access & handled;
	if (fstat(fd, &sb) == 0 && !S_ISDIR(sb.st_mode))
		pb.allowed_access &= LL_FILE;
	rc = (int)syscall(SYS_landlock_add_rule, ruleset,
	    LANDLOCK_RULE_PATH_BENEATH, &pb, 0);
	close(fd);
	if (rc == -1)
		return err_set(e, ERR_INTERNAL, "landlock: rule for '%s': %s",
		    path, strerror(errno));
	return 0;
}

/* Build the ruleset and restrict this thread (and the threads it makes
 * from now on) to it. */
static int
ll_enter(int abi, const char *const *rw, size_t nrw, struct err *e)
{
	struct landlock_ruleset_attr attr;
	char self[4096];
	ssize_t n;
	size_t i;
	int fd, rc = -1;

	memset(&attr, 0, sizeof(attr));
	/* every right of ABI 1 (bits 0-12), and REFER and TRUNCATE when
	 * the kernel knows them */
	attr.handled_access_fs = (LANDLOCK_ACCESS_FS_MAKE_SYM << 1) - 1;
	if (abi >= 2)
		attr.handled_access_fs |= LANDLOCK_ACCESS_FS_REFER;
	if (abi >= 3)
		attr.handled_access_fs |= LANDLOCK_ACCESS_FS_TRUNCATE;
	fd = (int)syscall(SYS_landlock_create_ruleset, &attr, sizeof(attr),
	    0);
	if (fd == -1)
		return err_set(e, ERR_INTERNAL, "landlock: ruleset: %s",
		    strerror(errno));
	for (i = 0; i < nrw; i++)
		if (ll_allow(fd, rw[i], LL_READ | LL_WRITE,
		    attr.handled_access_fs, e) == -1)
			goto out;
	for (i = 0; i < sizeof(sandbox_ro) / sizeof(sandbox_ro[0]); i++)
		if (ll_allow(fd, sandbox_ro[i], LL_READ,
		    attr.handled_access_fs, e) == -1)
			goto out;
#ifdef SANDBOX_SANITIZED
	if ((n = readlink("/proc/self/exe", self, sizeof(self) - 1)) > 0) {
		self[n] = '\0';
		if (ll_allow(fd, self, LL_READ, attr.handled_access_fs, e) ==
		    -1)
			goto out;
	}
#else
	(void)self;
	(void)n;
#endif
	if (syscall(SYS_landlock_restrict_self, fd, 0) == -1) {
		err_set(e, ERR_INTERNAL, "landlock: restrict: %s",
		    strerror(errno));
		goto out;
	}
	rc = 0;
out:
	close(fd);
	return rc;
}
#endif /* HAVE_LANDLOCK */

/* The number of threads of this process, from /proc; 0 if unknown. */
static int
sandbox_threads(void)
{
	char line[256];
	FILE *f;
	int n = 0;

	if ((f = fopen("/proc/self/status", "re")) == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "Threads: %d", &n) == 1)
			break;
	fclose(f);
	return n;
}

/* Landlock, if the kernel has it; r->why when not. */
static int
sandbox_landlock(const char *const *rw, size_t nrw,
    struct sandbox_report *r, struct err *e)
{
#ifdef HAVE_LANDLOCK
	int abi;

	if ((abi = ll_abi()) == -1) {
		/* EPERM: a seccomp filter around keydird refuses the call
		 * (systemd's SystemCallFilter without landlock_*) */
		snprintf(r->why, sizeof(r->why), "%s", errno == ENOSYS ?
		    "the kernel has no Landlock" : errno == EOPNOTSUPP ?
		    "Landlock is turned off at boot (lsm=)" : errno == EPERM ?
		    "a seccomp filter around keydird refuses it" :
		    strerror(errno));
		return 0;
	}
	/* ABI 1 refuses every rename between directories: Maildir
	 * delivery (tmp/ to new/) and key replacement need them */
	if (abi < 2) {
		snprintf(r->why, sizeof(r->why), "the kernel's Landlock (ABI "
		    "%d) cannot allow renames between directories", abi);
		return 0;
	}
	if (ll_enter(abi, rw, nrw, e) == -1)
		return -1;
	r->landlock_abi = abi;
	return 0;
#else
	(void)rw;
	(void)nrw;
	(void)e;
	snprintf(r->why, sizeof(r->why), "built without Landlock");
	return 0;
#endif
}

/* See sandbox.h. */
int
sandbox_enter(const char *const *rw, size_t nrw, struct sandbox_report *r,
    struct err *e)
{
	int n;

	memset(r, 0, sizeof(*r));
	if ((n = sandbox_threads()) > 1)
		return err_set(e, ERR_INTERNAL, "sandbox: %d threads already "
		    "run; they would stay outside it", n);
#ifdef PR_SET_NO_NEW_PRIVS
	/* Landlock and seccomp both need it; it also makes set-user-ID
	 * programs powerless, were one ever run */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		return err_set(e, ERR_INTERNAL, "no_new_privs: %s",
		    strerror(errno));
#endif
	if (sandbox_landlock(rw, nrw, r, e) == -1)
		return -1;
	if ((n = sandbox_seccomp(e)) == -1)
		return -1;
	r->seccomp = n == 1;
	return 0;
}

/* Whether a and b name the same directory. */
static bool
sandbox_same_dir(const char *a, const char *b)
{
	struct stat sa, sb;

	return stat(a, &sa) == 0 && stat(b, &sb) == 0 &&
	    sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/* See sandbox.h. */
int
sandbox_serve(const char *data_dir, const char *db_file, struct err *e)
{
	struct sandbox_report r;
	const char *rw[2] = { data_dir, NULL };
	char dbdir[4096], *slash;

	if (db_file != NULL) {
		if (str_lcpy(dbdir, db_file, sizeof(dbdir)) >= sizeof(dbdir))
			return err_set(e, ERR_INVALID, "database path too long");
		if ((slash = strrchr(dbdir, '/')) == NULL)
			str_lcpy(dbdir, ".", sizeof(dbdir));
		else
			slash[slash == dbdir ? 1 : 0] = '\0';
		if (!sandbox_same_dir(dbdir, data_dir))
			rw[1] = dbdir;
	}
	/* SQLite's temporary files (statement journals that outgrow memory,
	 * large sorts) would go to /var/tmp or /tmp, outside the rules */
	if (setenv("SQLITE_TMPDIR", data_dir, 1) == -1)
		return err_set(e, ERR_INTERNAL, "setenv: %s", strerror(errno));
	if (sandbox_enter(rw, rw[1] != NULL ? 2 : 1, &r, e) == -1)
		return -1;
	if (r.landlock_abi > 0)
		log_info("sandbox: Landlock (ABI %d): files writable only in "
		    "'%s'%s%s%s, a few system files readable; seccomp filter "
		    "%s", r.landlock_abi, data_dir, rw[1] ? " and '" : "",
		    rw[1] ? rw[1] : "", rw[1] ? "'" : "",
		    r.seccomp ? "on" : "not available");
	else
		log_warnx("sandbox: Landlock not used: %s; seccomp filter %s",
		    r.why, r.seccomp ? "on" : "not available");
	return 0;
}
