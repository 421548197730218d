/*
 * mail_dir: Maildir delivery, the default sink and what tests read.
 * Write to tmp/, fsync, rename into new/ (the Maildir protocol), so a
 * reader never sees half a message.  It does not read or expire mail.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "err.h"
#include "mail.h"

static atomic_ulong mail_dir_counter;

/* Make dir (0700) unless it exists as a directory. */
static int
dir_make(const char *dir, struct err *e)
{
	struct stat st;

	if (mkdir(dir, 0700) == 0)
		return 0;
	if (errno == EEXIST && stat(dir, &st) == 0 && S_ISDIR(st.st_mode))
		return 0;
	return err_set(e, ERR_INTERNAL, "maildir \"%s\": %s", dir,
	    strerror(errno));
}

/* Create maildir and its tmp/, new/ and cur/. */
static int
maildir_make(const char *maildir, struct err *e)
{
	static const char *const subs[] = { "tmp", "new", "cur" };
	char path[PATH_MAX];
	size_t i;
	int n;

	if (dir_make(maildir, e) == -1)
		return -1;
	for (i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
		n = snprintf(path, sizeof(path), "%s/%s", maildir, subs[i]);
		if (n < 0 || (size_t)n >= sizeof(path))
			return err_set(e, ERR_INTERNAL,
			    "maildir path too long");
		if (dir_make(path, e) == -1)
			return -1;
	}
	return 0;
}

/* This host's name with '/' and ':' escaped as the Maildir spec says. */
static void
host_name(char *out, size_t outsz)
{
	char h[256];
	size_t i, o = 0;

	if (gethostname(h, sizeof(h)) == -1)
		h[0] = '\0';
	h[sizeof(h) - 1] = '\0';
	if (h[0] == '\0')
		snprintf(h, sizeof(h), "localhost");
	for (i = 0; h[i] != '\0' && o + 5 < outsz; i++) {
		if (h[i] == '/' || h[i] == ':') {
			snprintf(out + o, outsz - o, "\\%03o",
			    (unsigned char)h[i]);
			o += 4;
		} else
			out[o++] = h[i];
	}
	out[o] = '\0';
}

/* Write all of data to fd and flush it to disk. */
static int
write_all(int fd, const char *data, size_t len)
{
	ssize_t w;

	while (len > 0) {
		w = write(fd, data, len);
		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		data += w;
		len -= (size_t)w;
	}
	return fsync(fd);
}

/* Flush a directory's entries (the rename) to disk. */
static void
dir_sync(const char *dir)
{
	int fd;

	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return;
	(void)fsync(fd);
	close(fd);
}

/* Deliver one message into maildir/new/. */
int
mail_dir_deliver(const char *maildir, const char *data, size_t len,
    struct err *e)
{
	char host[256], name[512], tmp[PATH_MAX], dst[PATH_MAX];
	int fd, n, m;

	if (maildir == NULL || *maildir == '\0')
		return err_set(e, ERR_INTERNAL, "no maildir configured");
	if (maildir_make(maildir, e) == -1)
		return -1;
	host_name(host, sizeof(host));
	snprintf(name, sizeof(name), "%lld.%ld_%lu.%s", (long long)time(NULL),
	    (long)getpid(), atomic_fetch_add(&mail_dir_counter, 1), host);
	n = snprintf(tmp, sizeof(tmp), "%s/tmp/%s", maildir, name);
	m = snprintf(dst, sizeof(dst), "%s/new/%s", maildir, name);
	if (n < 0 || m < 0 || (size_t)n >= sizeof(tmp) ||
	    (size_t)m >= sizeof(dst))
		return err_set(e, ERR_INTERNAL, "maildir path too long");
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd == -1)
		return err_set(e, ERR_INTERNAL, "maildir \"%s\": %s", tmp,
		    strerror(errno));
	if (write_all(fd, data, len) == -1) {
		err_set(e, ERR_INTERNAL, "maildir \"%s\": %s", tmp,
		    strerror(errno));
		close(fd);
		unlink(tmp);
		return -1;
	}
	if (close(fd) == -1 || rename(tmp, dst) == -1) {
		err_set(e, ERR_INTERNAL, "maildir \"%s\": %s", dst,
		    strerror(errno));
		unlink(tmp);
		return -1;
	}
	n = snprintf(tmp, sizeof(tmp), "%s/new", maildir);
	if (n > 0 && (size_t)n < sizeof(tmp))
		dir_sync(tmp);
	return 0;
}
