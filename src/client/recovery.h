/*
 * recovery: the key recovery data of docs/RECOVERY.md, made and opened
 * on the client only.  A random key K seals the secret key; K is sealed
 * under Argon2id of every set of three of five normalised answers (10
 * copies) and, optionally, of a recovery code.  No I/O: the caller gets
 * the secret key from GnuPG and sends the blob in a signed submission.
 */
#ifndef KEYDIR_RECOVERY_H
#define KEYDIR_RECOVERY_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"
#include "sizes.h"

#define RECOVERY_QUESTIONS 5
#define RECOVERY_NEEDED 3
#define RECOVERY_ANSWER_MAX 256		/* bytes of a normalised answer */
#define RECOVERY_CODE_LEN 39		/* 8 groups of 4 and 7 dashes */

struct recovery_limits {
	unsigned long long opslimit;
	size_t memlimit;
};

/* What recovery_seal takes. */
struct recovery_in {
	const char *fpr;
	const uint8_t *secret;		/* the transferable secret key */
	size_t secret_len;
	const char *questions[RECOVERY_QUESTIONS];
	const char *answers[RECOVERY_QUESTIONS];
	const char *code;		/* a recovery code, or NULL */
	struct recovery_limits lim;	/* Argon2id; at least MODERATE for
					 * real use (recovery_limits_real) */
	const uint8_t *seed;		/* 32 bytes: every random value
					 * derived from it (known-answer
					 * tests); NULL: random */
};

/* libsodium's MODERATE limits: what keydir recovery create uses. */
struct recovery_limits recovery_limits_real(void);

/*
 * Normalise an answer: Unicode NFKC, case-folded, white space trimmed and
 * every inner run made one space.  -1 for invalid UTF-8 or an empty or
 * too long result.
 */
int recovery_norm(const char *in, char out[RECOVERY_ANSWER_MAX + 1]);

/* A new recovery code (from seed when given) into code. */
void recovery_code_new(const uint8_t *seed, char code[RECOVERY_CODE_LEN + 1]);

/* Seal: the JSON blob appended to out. */
int recovery_seal(const struct recovery_in *in, struct buf *out,
    struct err *e);

/*
 * Open a blob with the answers given (NULL or "" for those not known; at
 * least three) or, when code is not NULL, with the code.  The secret key
 * appended to secret.  ERR_INVALID for a blob not of this format,
 * ERR_FORBIDDEN when no set of answers (or the code) opens it.
 */
int recovery_open(const char *blob, size_t len,
    const char *const answers[RECOVERY_QUESTIONS], const char *code,
    struct buf *secret, struct err *e);

/* The questions of a blob, copied into q (each at most 255 bytes). */
int recovery_questions(const char *blob, size_t len,
    char q[RECOVERY_QUESTIONS][256], char fpr[FPR_LEN + 1], struct err *e);

#endif
