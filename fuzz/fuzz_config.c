/*
 * fuzz_config: keydird's config file (src/daemon/base/config.c): the
 * input is the INI file config_load reads (through a memfd, so the real
 * file path is taken), then config_finish derives and checks the rest.
 * Beyond the sanitizers: a finished config has a base_url of http(s)://
 * without a trailing slash, an address to submit to and at least one
 * thread; every duration and size it holds is positive.
 */
#define _GNU_SOURCE	/* memfd_create */
#include <sys/mman.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "fuzz.h"

/* What config_finish promises of c. */
static void
config_sound(const struct config *c)
{
	size_t n = strlen(c->base_url);

	FUZZ_CHECK(!strncmp(c->base_url, "http://", 7) ||
	    !strncmp(c->base_url, "https://", 8), "base_url: http(s)");
	FUZZ_CHECK(n > 0 && c->base_url[n - 1] != '/', "no trailing '/'");
	FUZZ_CHECK(strchr(c->submission_address, '@') != NULL,
	    "a submission address");
	FUZZ_CHECK(c->threads >= 1 && c->threads <= 256, "1 to 256 threads");
	FUZZ_CHECK(c->max_body > 0 && c->token_ttl > 0 && c->upload_ttl > 0 &&
	    c->mail_rate > 0 && c->reverify_interval > 0 &&
	    c->server_key_ttl >= 86400, "sizes and durations positive");
	FUZZ_CHECK(c->database[0] != '\0', "a database");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config c;
	struct err e;
	char path[64];
	int fd;

	if ((fd = memfd_create("keydird.conf", MFD_CLOEXEC)) == -1)
		abort();
	if (size > 0 && write(fd, data, size) != (ssize_t)size)
		abort();
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	config_defaults(&c);
	if (config_load(&c, path, &e) == 0 && config_finish(&c, &e) == 0)
		config_sound(&c);
	close(fd);
	return 0;
}
