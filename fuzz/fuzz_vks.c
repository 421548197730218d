/*
 * fuzz_vks: JSON bodies.  The input is POSTed as application/json to
 * every endpoint that reads JSON: VKS upload ({"keytext"}) and
 * request-verify ({"token", "addresses"}), the batch lookup
 * ({"addresses"}), manage and recovery requests ({"address"}), on one
 * fresh copy of a directory with one published key (fuzz_daemon.h).
 */
#include "fuzz.h"
#include "fuzz_daemon.h"

static const char *const paths[] = { "/vks/v1/upload",
    "/vks/v1/request-verify", "/api/v1/lookup", "/api/v1/manage",
    "/api/v1/recovery/request" };

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_daemon_init();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct daemon *d = fuzz_daemon_fresh();
	size_t i;

	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		fuzz_request(d, HTTP_POST, paths[i], "application/json", NULL,
		    data, size);
	fuzz_daemon_done();
	return 0;
}
