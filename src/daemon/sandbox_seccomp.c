/*
 * sandbox_seccomp: a deny list, not an allow list.  keydird runs
 * libmicrohttpd, SQLite, librnp, libcurl and OpenSSL, whose system calls
 * change with every release; listing them all would break on an upgrade.
 * What it refuses instead are the calls that turn a bug into more than
 * the process: running programs, tracing other processes, namespaces,
 * mounts, kernel keys, io_uring, BPF, modules.  They fail with EPERM, so
 * a library that tries one gets an error rather than a crash.
 */
#include <sys/prctl.h>
#include <sys/syscall.h>

#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

#ifdef __linux__
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#endif

#include "sandbox.h"

#if defined(__x86_64__) && !defined(__ILP32__)
#define SC_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__) && !defined(__ILP32__)
#define SC_ARCH AUDIT_ARCH_AARCH64
#endif

#if defined(SC_ARCH) && defined(SECCOMP_SET_MODE_FILTER) && \
    defined(SYS_seccomp)

/* ASan's LeakSanitizer stops the threads with ptrace to scan their
 * stacks at exit, and its symbolizer may be a program it runs. */
#if defined(__SANITIZE_ADDRESS__)
#define SC_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SC_SANITIZED 1
#endif
#endif

static const int sc_denied[] = {
#ifndef SC_SANITIZED
	SYS_execve, SYS_execveat, SYS_ptrace,
#endif
	SYS_process_vm_readv, SYS_process_vm_writev, SYS_kcmp,
	SYS_unshare, SYS_setns, SYS_mount, SYS_umount2, SYS_pivot_root,
	SYS_chroot, SYS_open_tree, SYS_move_mount, SYS_fsopen, SYS_fsconfig,
	SYS_fsmount, SYS_fspick, SYS_kexec_load, SYS_kexec_file_load,
	SYS_init_module, SYS_finit_module, SYS_delete_module, SYS_bpf,
	SYS_perf_event_open, SYS_userfaultfd, SYS_keyctl, SYS_add_key,
	SYS_request_key, SYS_io_uring_setup, SYS_io_uring_enter,
	SYS_io_uring_register, SYS_swapon, SYS_swapoff, SYS_reboot,
	SYS_acct, SYS_quotactl, SYS_open_by_handle_at,
	SYS_name_to_handle_at, SYS_syslog, SYS_vhangup, SYS_personality,
	SYS_setuid, SYS_setgid, SYS_setreuid, SYS_setregid, SYS_setresuid,
	SYS_setresgid, SYS_setgroups, SYS_setfsuid, SYS_setfsgid,
#ifdef SYS_iopl
	SYS_iopl, SYS_ioperm,
#endif
};

/* every namespace a clone() could make */
#define SC_CLONE_NS (CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | \
	CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWCGROUP)

#define SC_RET(v) BPF_STMT(BPF_RET | BPF_K, (v))
#define SC_EPERM SC_RET(SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA))
#define SC_NR 8 /* before the list: arch, x32 and clone3 checks */
#define SC_LEN (SC_NR + 2 * sizeof(sc_denied) / sizeof(sc_denied[0]) + 6)

/* See sandbox.h. */
int
sandbox_seccomp(struct err *e)
{
	struct sock_filter f[SC_LEN];
	struct sock_fprog prog;
	size_t i, n = 0;

	f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
	    offsetof(struct seccomp_data, arch));
	f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
	    SC_ARCH, 1, 0);
	/* another ABI's numbers mean other calls (int 0x80 on x86-64) */
	f[n++] = (struct sock_filter)SC_EPERM;
	f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
	    offsetof(struct seccomp_data, nr));
	/* x32 numbers are the x86-64 ones with a high bit set */
	f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K,
	    0x40000000, 0, 1);
	f[n++] = (struct sock_filter)SC_EPERM;
	/* clone3 passes its flags in memory a filter cannot read: ENOSYS
	 * makes glibc fall back to clone, whose flags it can */
	f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
	    SYS_clone3, 0, 1);
	f[n++] = (struct sock_filter)SC_RET(SECCOMP_RET_ERRNO |
	    (ENOSYS & SECCOMP_RET_DATA));
	for (i = 0; i < sizeof(sc_denied) / sizeof(sc_denied[0]); i++) {
		f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ |
		    BPF_K, (unsigned)sc_denied[i], 0, 1);
		f[n++] = (struct sock_filter)SC_EPERM;
	}
	/* clone: threads yes, new namespaces no (flags are its first
	 * argument; the low half on these little-endian machines) */
	f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
	    SYS_clone, 1, 0);
	f[n++] = (struct sock_filter)SC_RET(SECCOMP_RET_ALLOW);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
	    offsetof(struct seccomp_data, args[0]));
	f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K,
	    SC_CLONE_NS, 0, 1);
	f[n++] = (struct sock_filter)SC_EPERM;
	f[n++] = (struct sock_filter)SC_RET(SECCOMP_RET_ALLOW);
	prog.len = (unsigned short)n;
	prog.filter = f;
	/* TSYNC: every thread, should one exist already */
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
	    SECCOMP_FILTER_FLAG_TSYNC, &prog) != 0) {
		/* EPERM: a filter around keydird refuses seccomp() */
		if (errno == EINVAL || errno == ENOSYS || errno == EPERM)
			return 0;
		return err_set(e, ERR_INTERNAL, "seccomp: %s",
		    strerror(errno));
	}
	return 1;
}

#else

/* See sandbox.h. */
int
sandbox_seccomp(struct err *e)
{
	(void)e;
	return 0;
}

#endif
