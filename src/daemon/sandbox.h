/*
 * sandbox: what keydird serve may still do once it runs as its own
 * account.  On Linux, Landlock confines its files to the data directory
 * (read and write) and the system files it reads later (DNS, CA
 * certificates, time zones, libraries loaded on demand), and a seccomp
 * filter refuses system calls keydird never makes (exec, ptrace, mount,
 * namespaces, kernel keys, io_uring, ...).  Where the kernel has neither,
 * the report says so and nothing else changes.  Who the process runs as
 * is priv.h.
 */
#ifndef KEYDIR_SANDBOX_H
#define KEYDIR_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"

/* What sandbox_enter applied. */
struct sandbox_report {
	int landlock_abi;	/* the kernel's Landlock ABI; 0 if not used */
	bool seccomp;		/* the filter is in place */
	char why[160];		/* why Landlock is not used, or "" */
};

/*
 * Restrict this process for good: no new privileges, then Landlock with
 * the directories rw[0..nrw) readable and writable (a missing one is
 * left out) besides the read-only system files, then the seccomp filter.
 * Call it while the process has one thread: threads made before would
 * stay outside Landlock.  A kernel without Landlock or seccomp is not an
 * error: r says what was applied.  -1 with ERR_INTERNAL when a step the
 * kernel supports fails (the caller must not go on).
 */
int sandbox_enter(const char *const *rw, size_t nrw,
    struct sandbox_report *r, struct err *e);

/*
 * sandbox_enter for keydird serve: the data directory and the directory
 * of db_file (the SQLite database, NULL for none) stay writable, and
 * SQLite's temporary files go to the data directory.  Logs what was
 * applied and what was not.  -1 with e set as sandbox_enter.
 */
int sandbox_serve(const char *data_dir, const char *db_file, struct err *e);

/* The seccomp step alone (sandbox_enter runs it); needs no_new_privs.
 * 1 when the filter is in place, 0 when this kernel or architecture has
 * no seccomp filters or a filter around keydird refuses seccomp(), -1
 * with ERR_INTERNAL. */
int sandbox_seccomp(struct err *e);

#endif
