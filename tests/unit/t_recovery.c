/*
 * t_recovery: the recovery data format (docs/RECOVERY.md).  Answer
 * normalisation; a known-answer vector (every random value derived from a
 * fixed seed, so the blob's bytes are fixed); opening with every set of
 * three answers, with all five, with two (refused), with one wrong,
 * with answers differing only in case and spacing, with the code; and a
 * tampered blob that opens to nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "recovery.h"
#include "tap.h"

#define FPR "0123456789ABCDEF0123456789ABCDEF01234567"
/* SHA-256 of the blob made from the fixed seed below (the vector) */
#define KAT_SHA256 \
    "720162cc6544744aa98ec5df9cbfe01c149cf03e7d66f6c622be52b432aafe45"

static const char *const q[5] = { "First pet?", "Street you grew up on?",
    "Favourite teacher?", "First concert?", "Grandmother's town?" };
static const char *const a[5] = { "Rex the dog", "Elm Street",
    "Mrs. Okafor", "Nina Simone", "Straße" };

static int
open_with(const char *blob, const char *const ans[5], const char *code,
    struct buf *out, struct err *e)
{
	buf_reset(out);
	return recovery_open(blob, strlen(blob), ans, code, out, e);
}

int
main(void)
{
	static const struct {
		const char *in, *want;
	} norm[] = {
		{ "  Rex the  DOG ", "rex the dog" },
		{ "Rex\tthe\ndog", "rex the dog" },
		{ "\xef\xbc\xb2\xef\xbd\x85\xef\xbd\x98", "rex" },	/* fullwidth */
		{ "Stra\xc3\x9f" "e", "strasse" },
		{ "\xe2\x84\xab", "\xc3\xa5" },		/* Angstrom sign */
	};
	uint8_t seed[32], secret[300], sum[32];
	char out[RECOVERY_ANSWER_MAX + 1], code[RECOVERY_CODE_LEN + 1];
	char hex[65], *blob, *bad;
	const char *ans[5];
	struct recovery_in in;
	struct buf b, s;
	struct err e;
	size_t i, j, k, n, opened;

	if (sodium_init() < 0)
		return 1;
	for (i = 0; i < sizeof(norm) / sizeof(norm[0]); i++)
		ok(recovery_norm(norm[i].in, out) == 0 &&
		    !strcmp(out, norm[i].want), "normalised: '%s'", norm[i].want);
	ok(recovery_norm("", out) == -1 && recovery_norm("  \t ", out) == -1,
	    "an empty answer is refused");
	ok(recovery_norm("\xff\xfe", out) == -1, "invalid UTF-8 is refused");

	for (i = 0; i < sizeof(seed); i++)
		seed[i] = (uint8_t)(i + 1);
	for (i = 0; i < sizeof(secret); i++)
		secret[i] = (uint8_t)(i * 7);
	recovery_code_new(seed, code);
	ok(strlen(code) == RECOVERY_CODE_LEN && code[4] == '-',
	    "a recovery code: %s", code);
	memset(&in, 0, sizeof(in));
	in.fpr = FPR;
	in.secret = secret;
	in.secret_len = sizeof(secret);
	memcpy(in.questions, q, sizeof(q));
	memcpy(in.answers, a, sizeof(a));
	in.code = code;
	in.lim.opslimit = crypto_pwhash_OPSLIMIT_MIN;
	in.lim.memlimit = crypto_pwhash_MEMLIMIT_MIN;
	in.seed = seed;
	buf_init(&b, 256 * 1024);
	buf_init(&s, 64 * 1024);
	ok(recovery_seal(&in, &b, &e) == 0, "sealed (%zu bytes)", b.len);
	blob = strdup(b.data);
	crypto_hash_sha256(sum, (const uint8_t *)blob, strlen(blob));
	sodium_bin2hex(hex, sizeof(hex), sum, sizeof(sum));
	if (getenv("RECOVERY_VECTOR") != NULL)
		printf("%s\n", blob);
	ok(strcmp(hex, KAT_SHA256) == 0, "the known-answer vector: %s", hex);
	buf_reset(&b);
	ok(recovery_seal(&in, &b, &e) == 0 && !strcmp(b.data, blob),
	    "the same seed makes the same bytes");

	/* every set of three answers opens it; the rest left out */
	opened = 0;
	for (i = 0; i < 5; i++)
		for (j = i + 1; j < 5; j++)
			for (k = j + 1; k < 5; k++) {
				memset(ans, 0, sizeof(ans));
				ans[i] = a[i];
				ans[j] = a[j];
				ans[k] = a[k];
				if (open_with(blob, ans, NULL, &s, &e) == 0 &&
				    s.len == sizeof(secret) &&
				    !memcmp(s.data, secret, sizeof(secret)))
					opened++;
			}
	ok(opened == 10, "each of the 10 sets of three answers opens it "
	    "(%zu)", opened);
	ok(open_with(blob, a, NULL, &s, &e) == 0 && s.len == sizeof(secret),
	    "all five open it");
	memset(ans, 0, sizeof(ans));
	ans[0] = a[0];
	ans[3] = a[3];
	ok(open_with(blob, ans, NULL, &s, &e) == -1 && e.code == ERR_INVALID,
	    "two answers: refused (%s)", e.msg);
	ans[4] = "Paris";
	ok(open_with(blob, ans, NULL, &s, &e) == -1 && e.code == ERR_FORBIDDEN,
	    "two right and one wrong: does not open (%s)", e.msg);
	ans[4] = "  STRASSE ";
	ok(open_with(blob, ans, NULL, &s, &e) == 0 &&
	    !memcmp(s.data, secret, sizeof(secret)),
	    "answers differing only in case and spacing open it");
	ok(open_with(blob, NULL, code, &s, &e) == 0 &&
	    !memcmp(s.data, secret, sizeof(secret)), "the code opens it");
	{
		char lower[64];

		for (i = n = 0; code[i]; i++)
			if (code[i] != '-')
				lower[n++] = (char)(code[i] >= 'A' &&
				    code[i] <= 'Z' ? code[i] + 32 : code[i]);
		lower[n] = '\0';
		ok(open_with(blob, NULL, lower, &s, &e) == 0,
		    "... also in lower case without dashes");
	}
	ok(open_with(blob, NULL, "AAAA-BBBB-CCCC-DDDD-EEEE-FFFF-GGGG-HHHH",
	    &s, &e) == -1 && e.code == ERR_FORBIDDEN, "a wrong code does not");

	/* a changed byte in the sealed key: opens to nothing */
	bad = strdup(blob);
	{
		char *p = strstr(bad, "\"secret\"");
		char *bx = p ? strstr(p, "\"box\":\"") : NULL;

		if (bx != NULL)
			bx[10] = bx[10] == 'A' ? 'B' : 'A';
	}
	ok(open_with(bad, a, NULL, &s, &e) == -1 && e.code == ERR_FORBIDDEN,
	    "a tampered blob does not open (%s)", e.msg);
	free(bad);
	ok(open_with("{\"format\":\"other\"}", a, NULL, &s, &e) == -1 &&
	    e.code == ERR_INVALID, "another format is refused");
	{
		char qq[5][256], f[FPR_LEN + 1];

		ok(recovery_questions(blob, strlen(blob), qq, f, &e) == 0 &&
		    !strcmp(qq[4], q[4]) && !strcmp(f, FPR),
		    "the questions are read back");
	}
	free(blob);
	buf_release(&b);
	buf_release(&s);
	return tap_done();
}
