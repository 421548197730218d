/*
 * fuzz_recovery: key recovery data as the client downloads it from the
 * server (src/client/recovery.c): recovery_questions, then recovery_open
 * with five answers and with a recovery code.  The blob names its own
 * Argon2id cost; a run is made only when that cost is tiny (the seeds'
 * and the fuzzer's) or past anything an honest blob asks for, which the
 * client must refuse before it starts; in between a run takes seconds
 * and is left out.  Seeds: KEYDIR_FUZZ_SEEDS=DIR fuzz_recovery writes
 * blobs sealed with the answers and code below into DIR, then exits.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "fuzz.h"
#include "recovery.h"

static const char *const answers[RECOVERY_QUESTIONS] = { "Rex", "Elm",
    "Okafor", "Simone", "Stra\303\237e" };
static const char *const questions[RECOVERY_QUESTIONS] = { "Pet?",
    "Street?", "Teacher?", "Concert?", "Town?" };
static const char code[] = "ABCD-EFGH-IJKL-MNOP-QRST-UVWX-YZ23-4567";

/* Write the seed blobs into dir. */
static void
seeds_write(const char *dir)
{
	struct recovery_in in;
	struct buf b;
	struct err e;
	uint8_t seed[32], secret[100];
	char path[4096];
	size_t i;
	FILE *f;

	for (i = 0; i < 3; i++) {
		memset(&in, 0, sizeof(in));
		memset(seed, (int)i + 1, sizeof(seed));
		memset(secret, 'k', sizeof(secret));
		in.fpr = "0123456789ABCDEF0123456789ABCDEF01234567";
		in.secret = secret;
		in.secret_len = 10 + 40 * i;
		memcpy(in.questions, questions, sizeof(questions));
		memcpy(in.answers, answers, sizeof(answers));
		in.code = i == 1 ? NULL : code;
		in.lim.opslimit = crypto_pwhash_OPSLIMIT_MIN;
		in.lim.memlimit = crypto_pwhash_MEMLIMIT_MIN;
		in.seed = seed;
		buf_init(&b, 1 << 20);
		if (recovery_seal(&in, &b, &e) == -1)
			abort();
		snprintf(path, sizeof(path), "%s/sealed-%zu.json", dir, i);
		if ((f = fopen(path, "w")) == NULL ||
		    fwrite(b.data, 1, b.len, f) != b.len || fclose(f) != 0)
			abort();
		buf_release(&b);
	}
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *dir = getenv("KEYDIR_FUZZ_SEEDS");

	(void)argc;
	(void)argv;
	if (sodium_init() < 0)
		abort();
	if (dir != NULL) {
		seeds_write(dir);
		exit(0);
	}
	return 0;
}

/*
 * Whether opening blob runs Argon2id at a cost worth running here: tiny,
 * or beyond libsodium's SENSITIVE limits (refused before any run).
 */
static int
cost_ok(const uint8_t *data, size_t size)
{
	json_t *o = json_loadb((const char *)data, size, 0, NULL), *k;
	json_int_t ops, mem;
	int ok;

	k = json_object_get(o, "kdf");
	ops = json_integer_value(json_object_get(k, "opslimit"));
	mem = json_integer_value(json_object_get(k, "memlimit"));
	ok = (ops <= 2 && mem <= 64 * 1024) ||
	    ops < 0 || mem < 0 ||
	    (unsigned long long)ops > crypto_pwhash_OPSLIMIT_SENSITIVE ||
	    (unsigned long long)mem > crypto_pwhash_MEMLIMIT_SENSITIVE;
	json_decref(o);
	return ok;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char q[RECOVERY_QUESTIONS][256], fpr[FPR_LEN + 1];
	const char *none[RECOVERY_QUESTIONS] = { NULL };
	struct buf secret;
	struct err e;
	size_t i;

	if (recovery_questions((const char *)data, size, q, fpr, &e) == 0)
		for (i = 0; i < RECOVERY_QUESTIONS; i++)
			FUZZ_CHECK(strlen(q[i]) < 256, "a question fits");
	if (!cost_ok(data, size))
		return 0;
	buf_init(&secret, 1 << 20);
	if (recovery_open((const char *)data, size, answers, NULL, &secret,
	    &e) == -1)
		FUZZ_CHECK(secret.len == 0, "nothing when it does not open");
	buf_reset(&secret);
	recovery_open((const char *)data, size, none, code, &secret, &e);
	buf_reset(&secret);
	FUZZ_CHECK(recovery_open((const char *)data, size, none, NULL,
	    &secret, &e) == -1 && secret.len == 0, "no answers open nothing");
	buf_release(&secret);
	return 0;
}
