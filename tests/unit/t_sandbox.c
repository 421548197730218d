/*
 * t_sandbox: what a sandboxed process can and cannot do.  Each case runs
 * in a child (a sandbox is for good); the child's exit status is the
 * errno of what it tried, 0 for success, so the parent prints the TAP.
 * Where the kernel has no Landlock or seccomp, those cases are skipped
 * visibly.
 */
#define _GNU_SOURCE	/* unshare */
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sandbox.h"
#include "tap.h"

static char in[] = "/tmp/t_sandbox.in.XXXXXX";
static char out[] = "/tmp/t_sandbox.out.XXXXXX";
static struct sandbox_report rep;

/* A visible TAP skip. */
static void
skip(const char *why)
{
	printf("ok %d # skip %s\n", ++tap_n, why);
}

/* Open path with flags (creating 0600), close it; 0 or errno. */
static int
try_open(const char *path, int flags)
{
	int fd = open(path, flags | O_CLOEXEC, 0600);

	if (fd == -1)
		return errno;
	close(fd);
	return 0;
}

/* What a child tries once sandboxed; 0 or errno. */
enum act { A_WRITE_IN, A_RENAME_IN, A_READ_HOSTS, A_WRITE_OUT, A_READ_OUT,
	A_EXEC, A_UNSHARE, A_THREAD };

static void *
idle(void *arg)
{
	(void)arg;
	return NULL;
}

static int
act(enum act a)
{
	char p1[128], p2[128], name[] = "true";
	char *const argv[] = { name, NULL };
	pthread_t t;

	switch (a) {
	case A_WRITE_IN:
		snprintf(p1, sizeof(p1), "%s/tmp/a", in);
		return try_open(p1, O_WRONLY | O_CREAT);
	case A_RENAME_IN:	/* the Maildir move: tmp/ to new/ */
		snprintf(p1, sizeof(p1), "%s/tmp/b", in);
		snprintf(p2, sizeof(p2), "%s/new/b", in);
		if (try_open(p1, O_WRONLY | O_CREAT) != 0)
			return errno;
		return rename(p1, p2) == -1 ? errno : 0;
	case A_READ_HOSTS:
		return try_open("/etc/hosts", O_RDONLY);
	case A_WRITE_OUT:
		snprintf(p1, sizeof(p1), "%s/new", out);
		return try_open(p1, O_WRONLY | O_CREAT);
	case A_READ_OUT:
		snprintf(p1, sizeof(p1), "%s/secret", out);
		return try_open(p1, O_RDONLY);
	case A_EXEC:
		execv("/bin/true", argv);
		return errno;
	case A_UNSHARE:
		return unshare(CLONE_NEWUSER) == -1 ? errno : 0;
	case A_THREAD:	/* threads still start (clone3 turned to clone) */
		if ((errno = pthread_create(&t, NULL, idle, NULL)) != 0)
			return errno;
		pthread_join(t, NULL);
		return 0;
	}
	return -1;
}

/* Sandbox a child, let it try a; its result (0 or an errno), or -1 when
 * the sandbox itself failed. */
static int
run(enum act a)
{
	const char *rw[] = { in };
	struct err e;
	pid_t pid;
	int st;

	fflush(stdout);
	if ((pid = fork()) == 0) {
		if (sandbox_enter(rw, 1, &rep, &e) == -1) {
			fprintf(stderr, "# %s\n", e.msg);
			_exit(255);
		}
		_exit(act(a));
	}
	waitpid(pid, &st, 0);
	if (!WIFEXITED(st) || WEXITSTATUS(st) == 255)
		return -1;
	return WEXITSTATUS(st);
}

/* sandbox_enter in a child with a second thread already running: 0 when
 * it is refused. */
static void *
park(void *arg)
{
	(void)arg;
	pause();
	return NULL;
}

static int
refused_with_threads(void)
{
	const char *rw[] = { in };
	struct sandbox_report r;
	struct err e;
	pthread_t t;
	pid_t pid;
	int st;

	fflush(stdout);
	if ((pid = fork()) == 0) {
		pthread_create(&t, NULL, park, NULL);
		_exit(sandbox_enter(rw, 1, &r, &e) == -1 &&
		    strstr(e.msg, "threads") != NULL ? 0 : 1);
	}
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int
main(void)
{
	struct sandbox_report r;
	const char *rw[] = { in };
	char path[128];
	struct err e;
	pid_t pid;
	int fd, st, rc;

	if (mkdtemp(in) == NULL || mkdtemp(out) == NULL) {
		ok(0, "mkdtemp");
		return tap_done();
	}
	snprintf(path, sizeof(path), "%s/tmp", in);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/new", in);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/secret", out);
	if ((fd = open(path, O_WRONLY | O_CREAT, 0644)) != -1)
		close(fd);

	/* what this kernel offers, learnt in a child */
	fflush(stdout);
	if ((pid = fork()) == 0)
		_exit(sandbox_enter(rw, 1, &r, &e) == -1 ? 255 :
		    r.landlock_abi * 2 + r.seccomp);
	waitpid(pid, &st, 0);
	ok(WIFEXITED(st) && WEXITSTATUS(st) != 255, "sandbox_enter works");
	rep.landlock_abi = WEXITSTATUS(st) / 2;
	rep.seccomp = WEXITSTATUS(st) % 2;
	printf("# Landlock ABI %d, seccomp %s\n", rep.landlock_abi,
	    rep.seccomp ? "on" : "off");

	is_str(strerror(run(A_WRITE_IN)), strerror(0),
	    "a file is made in the writable directory");
	is_str(strerror(run(A_RENAME_IN)), strerror(0),
	    "and moved between its folders (tmp/ to new/)");
	is_str(strerror(run(A_READ_HOSTS)), strerror(0),
	    "/etc/hosts is readable");
	is_str(strerror(run(A_THREAD)), strerror(0), "a thread starts");
	if (rep.landlock_abi > 0) {
		is_str(strerror(run(A_WRITE_OUT)), strerror(EACCES),
		    "no file is made outside (Landlock)");
		is_str(strerror(run(A_READ_OUT)), strerror(EACCES),
		    "a readable file outside is not read (Landlock)");
	} else {
		skip("no Landlock in this kernel");
		skip("no Landlock in this kernel");
	}
	if (rep.seccomp) {
		rc = run(A_UNSHARE);
		ok(rc == EPERM, "no new user namespace (seccomp): %s",
		    strerror(rc));
	} else
		skip("no seccomp filter on this kernel or architecture");
	if (rep.seccomp || rep.landlock_abi > 0) {
		/* seccomp's EPERM, or Landlock's EACCES in sanitizer builds
		 * (whose symbolizer may need exec) */
		rc = run(A_EXEC);
		ok(rc == EPERM || rc == EACCES, "no program runs: %s",
		    strerror(rc));
	} else
		skip("neither Landlock nor seccomp here");
	ok(refused_with_threads() == 0,
	    "refused while another thread runs (it would stay outside)");

	snprintf(path, sizeof(path), "rm -rf '%s' '%s'", in, out);
	if (system(path) != 0)
		printf("# cannot remove %s, %s\n", in, out);
	return tap_done();
}
