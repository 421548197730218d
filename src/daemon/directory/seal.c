/*
 * seal: secretbox tokens and the key that seals them.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "seal.h"
#include "xmalloc.h"

/* Read exactly n bytes. */
static int
read_all(int fd, uint8_t *p, size_t n)
{
	ssize_t r;

	while (n > 0) {
		if ((r = read(fd, p, n)) <= 0) {
			if (r == -1 && errno == EINTR)
				continue;
			return -1;
		}
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

/* Load or create the sealing key. */
int
seal_key_load(const char *path, uint8_t key[SEAL_KEY_LEN], struct err *e)
{
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) != -1) {
		if (read_all(fd, key, SEAL_KEY_LEN) == -1) {
			close(fd);
			return err_set(e, ERR_INTERNAL, "session key '%s' is "
			    "unreadable or short", path);
		}
		close(fd);
		return 0;
	}
	if (errno != ENOENT)
		return err_set(e, ERR_INTERNAL, "cannot read '%s': %s", path,
		    strerror(errno));
	randombytes_buf(key, SEAL_KEY_LEN);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd == -1 || write(fd, key, SEAL_KEY_LEN) != SEAL_KEY_LEN ||
	    fsync(fd) == -1) {
		if (fd != -1)
			close(fd);
		return err_set(e, ERR_INTERNAL, "cannot write '%s': %s", path,
		    strerror(errno));
	}
	close(fd);
	return 0;
}

/* nonce || secretbox(text), base64url. */
char *
seal_box(const uint8_t key[SEAL_KEY_LEN], const char *text)
{
	size_t n = strlen(text), blen, tlen;
	uint8_t *box;
	char *tok;

	blen = crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + n;
	box = xmalloc(blen);
	randombytes_buf(box, crypto_secretbox_NONCEBYTES);
	crypto_secretbox_easy(box + crypto_secretbox_NONCEBYTES,
	    (const uint8_t *)text, n, box, key);
	tlen = sodium_base64_ENCODED_LEN(blen,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	tok = xmalloc(tlen);
	sodium_bin2base64(tok, tlen, box, blen,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	free(box);
	return tok;
}

/* Open a token. */
char *
seal_open(const uint8_t key[SEAL_KEY_LEN], const char *token, size_t max)
{
	size_t tlen = strlen(token), blen = 0, over;
	uint8_t *box;
	char *text = NULL;

	over = crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES;
	if (tlen > (max + over) * 4 / 3 + 4)
		return NULL;
	box = xmalloc(tlen);
	if (sodium_base642bin(box, tlen, token, tlen, NULL, &blen, NULL,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 || blen <= over)
		goto out;
	text = xmalloc(blen - over + 1);
	if (crypto_secretbox_open_easy((uint8_t *)text,
	    box + crypto_secretbox_NONCEBYTES, blen -
	    crypto_secretbox_NONCEBYTES, box, key) != 0) {
		free(text);
		text = NULL;
		goto out;
	}
	text[blen - over] = '\0';
	if (strlen(text) != blen - over) {	/* no NUL inside */
		free(text);
		text = NULL;
	}
out:
	free(box);
	return text;
}
