/*
 * fuzz_signed: signed removal requests (POST /api/v1/remove), as
 * directory_remove.c reads them: the text unverified first, to learn the
 * key (pgp_signed_text), its statement (removal_parse), then the check
 * against the stored key (pgp_verify_signed; fuzz/keys/signer.pub, as
 * stored).  Beyond the sanitizers: what verifies is exactly the text
 * that was read unverified (the statement acted on is the one signed).
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "fuzz.h"
#include "pgp.h"
#include "removal.h"

static struct pgp_cert *signer;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct err e;
	uint8_t *p;
	size_t len, n;

	(void)argc;
	(void)argv;
	p = fuzz_fixture("signer.pub", &len);
	if (pgp_parse(p, len, NULL, &signer, &n, &e) == -1 || n != 1)
		abort();
	free(p);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pgp_signer who;
	struct removal r;
	struct buf text, vtext;
	struct err e;
	int read;

	buf_init(&text, 1 << 20);
	buf_init(&vtext, 1 << 20);
	read = pgp_signed_text(data, size, &text, &e);
	if (read == 0) {
		FUZZ_CHECK(text.len <= 64 * 1024 &&
		    memchr(text.data, '\0', text.len) == NULL,
		    "a signed text: at most 64 KiB, no NUL");
		if (removal_parse(text.data, &r, &e) == 0)
			removal_release(&r);
	}
	fuzz_log("signed text: %s", read == 0 ? "ok" : e.msg);
	if (pgp_verify_signed(data, size, signer->full, signer->full_len,
	    &vtext, &who, &e) == 0)
		FUZZ_CHECK(read == 0 && vtext.len == text.len &&
		    memcmp(vtext.data, text.data, text.len) == 0,
		    "the verified text is the text read");
	else {
		fuzz_log("verify: %s", e.msg);
		FUZZ_CHECK(vtext.len == 0, "a refused message leaves no text");
	}
	buf_release(&vtext);
	buf_release(&text);
	return 0;
}
