/*
 * lockfile: an flock on DATA_DIR/keydird.lock, held until the process
 * ends.  The kernel drops it with the process, so a crash leaves no stale
 * lock: the file stays, and the pid in it only names the holder for the
 * message a second serve prints.
 */
#include <sys/file.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lockfile.h"
#include "log.h"

/* Take the lock of dir, or say who has it. */
int
lockfile_take(const char *dir, struct err *e)
{
	char path[1100], pid[32];
	ssize_t n;
	int fd, saved;

	if ((size_t)snprintf(path, sizeof(path), "%s/keydird.lock", dir) >=
	    sizeof(path))
		return err_set(e, ERR_INVALID, "data_dir too long");
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) == -1)
		return err_set(e, ERR_INTERNAL, "cannot open '%s': %s", path,
		    strerror(errno));
	if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
		n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
		/* the lock is what counts: a pid not written only makes
		 * another serve's message vaguer */
		if (ftruncate(fd, 0) == -1 ||
		    pwrite(fd, pid, (size_t)n, 0) != n)
			log_warn("cannot write the pid into '%s'", path);
		return fd;
	}
	saved = errno;
	n = saved == EWOULDBLOCK ? pread(fd, pid, sizeof(pid) - 1, 0) : -1;
	close(fd);
	if (saved != EWOULDBLOCK)
		return err_set(e, ERR_INTERNAL, "cannot lock '%s': %s", path,
		    strerror(saved));
	/* the holder may not have written its pid yet */
	pid[n > 0 ? n : 0] = '\0';
	pid[strspn(pid, "0123456789")] = '\0';
	if (pid[0] == '\0')
		return err_set(e, ERR_CONFLICT, "data directory '%s' is in use "
		    "by another keydird serve", dir);
	return err_set(e, ERR_CONFLICT, "data directory '%s' is in use by "
	    "another keydird serve (pid %s)", dir, pid);
}
