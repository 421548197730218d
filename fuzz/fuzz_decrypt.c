/*
 * fuzz_decrypt: signed submissions (POST /api/v1/submit), as
 * directory_submit.c reads them: decrypted with the server key
 * (fuzz/keys/server.sec) whoever signed (pgp_decrypt_signed), the
 * submission JSON in it (submission_parse), then the signature checked
 * against the submitted key (pgp_verify_encrypted with
 * fuzz/keys/signer.pub, the key of the seed submissions).  Beyond the
 * sanitizers: what verifies is exactly the text that was decrypted.
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "fuzz.h"
#include "pgp.h"
#include "submission.h"

static struct pgp_cert *signer;
static const uint8_t *sec[1];
static size_t seclen[1];
static struct pgp_keyring keys = { sec, seclen, 1 };

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
	sec[0] = fuzz_fixture("server.sec", &seclen[0]);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct submission s;
	struct pgp_signer who;
	struct buf text, again;
	struct err e;
	int dec;

	buf_init(&text, 64u << 10);
	buf_init(&again, 64u << 10);
	dec = pgp_decrypt_signed(&keys, data, size, &text, &e);
	if (dec == 0 && submission_parse(text.data, text.len, &s, &e) == 0)
		submission_release(&s);
	fuzz_log("decrypt: %s", dec == 0 ? "ok" : e.msg);
	if (pgp_verify_encrypted(&keys, data, size, signer->full,
	    signer->full_len, &again, &who, &e) == 0)
		FUZZ_CHECK(dec == 0 && again.len == text.len &&
		    memcmp(again.data, text.data, text.len) == 0,
		    "the verified text is the text decrypted");
	else {
		fuzz_log("verify: %s", e.msg);
		FUZZ_CHECK(again.len == 0, "a refused message leaves no text");
	}
	buf_release(&again);
	buf_release(&text);
	return 0;
}
