/*
 * recovery: seal and open key recovery data (docs/RECOVERY.md).  Never a
 * box under fewer than three answers: whoever holds the blob must guess
 * three together, one Argon2id run per guess.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>
#include <unicase.h>
#include <uninorm.h>
#include <unistr.h>

#include "recovery.h"
#include "str.h"
#include "xmalloc.h"

#define AD_PREFIX "keydir-recovery 1 "
#define SALT_LEN crypto_pwhash_SALTBYTES
#define NONCE_LEN crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define KEY_LEN crypto_aead_xchacha20poly1305_ietf_KEYBYTES

/* The 10 sets of three of five, in order. */
static const unsigned char sets[10][3] = {
	{ 0, 1, 2 }, { 0, 1, 3 }, { 0, 1, 4 }, { 0, 2, 3 }, { 0, 2, 4 },
	{ 0, 3, 4 }, { 1, 2, 3 }, { 1, 2, 4 }, { 1, 3, 4 }, { 2, 3, 4 },
};

struct recovery_limits
recovery_limits_real(void)
{
	struct recovery_limits l = { crypto_pwhash_OPSLIMIT_MODERATE,
	    crypto_pwhash_MEMLIMIT_MODERATE };

	return l;
}

int
recovery_norm(const char *in, char out[RECOVERY_ANSWER_MAX + 1])
{
	uint8_t *f;
	size_t n = 0, i, o = 0;
	bool space = false;

	if (u8_check((const uint8_t *)in, strlen(in)) != NULL)
		return -1;
	/* case folding with NFKC normalisation, in one libunistring call */
	f = u8_casefold((const uint8_t *)in, strlen(in), NULL, UNINORM_NFKC,
	    NULL, &n);
	if (f == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		if (f[i] == ' ' || f[i] == '\t' || f[i] == '\n' ||
		    f[i] == '\r' || f[i] == '\v' || f[i] == '\f') {
			space = o > 0;
			continue;
		}
		if (space) {
			if (o >= RECOVERY_ANSWER_MAX)
				break;
			out[o++] = ' ';
			space = false;
		}
		if (o >= RECOVERY_ANSWER_MAX)
			break;
		out[o++] = (char)f[i];
	}
	free(f);
	out[o] = '\0';
	return o == 0 || i < n ? -1 : 0;
}

/* n bytes of the stream for (seed, label), or random ones. */
static void
det(const uint8_t *seed, const char *label, uint8_t *out, size_t n)
{
	if (seed == NULL) {
		randombytes_buf(out, n);
		return;
	}
	/* BLAKE2b keyed by the seed over the label, up to 64 bytes */
	crypto_generichash(out, n, (const uint8_t *)label, strlen(label),
	    seed, 32);
}

void
recovery_code_new(const uint8_t *seed, char code[RECOVERY_CODE_LEN + 1])
{
	static const char b32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
	uint8_t r[20];
	size_t i, o = 0;

	/* 160 random bits (at least the 128 promised) as 32 base32 digits:
	 * digit i is bits 5i..5i+4, most significant first */
	det(seed, "code", r, sizeof(r));
	for (i = 0; i < 32; i++) {
		unsigned bit = (unsigned)i * 5, v;

		v = ((unsigned)r[bit / 8] << 8 | (bit / 8 + 1 < sizeof(r) ?
		    r[bit / 8 + 1] : 0)) >> (11 - bit % 8);
		if (i > 0 && i % 4 == 0)
			code[o++] = '-';
		code[o++] = b32[v & 0x1f];
	}
	code[o] = '\0';
}

/* The code as it is derived from: without spaces and dashes, upper. */
static int
code_norm(const char *in, char *out, size_t sz)
{
	size_t o = 0;

	for (; *in; in++) {
		if (*in == ' ' || *in == '-')
			continue;
		if (o + 1 >= sz)
			return -1;
		out[o++] = (char)(*in >= 'a' && *in <= 'z' ? *in - 32 : *in);
	}
	out[o] = '\0';
	return o == 0 ? -1 : 0;
}

static char *
b64(const uint8_t *p, size_t n)
{
	size_t sz = sodium_base64_ENCODED_LEN(n,
	    sodium_base64_VARIANT_ORIGINAL);
	char *s = xmalloc(sz);

	sodium_bin2base64(s, sz, p, n, sodium_base64_VARIANT_ORIGINAL);
	return s;
}

/* Base64 field name of o into out (exactly n bytes, or up to *len). */
static int
unb64(json_t *o, const char *name, uint8_t *out, size_t max, size_t *len)
{
	json_t *j = json_object_get(o, name);
	size_t got = 0;

	if (!json_is_string(j) || sodium_base642bin(out, max,
	    json_string_value(j), json_string_length(j), NULL, &got, NULL,
	    sodium_base64_VARIANT_ORIGINAL) != 0)
		return -1;
	*len = got;
	return 0;
}

/* Argon2id of what into key. */
static int
kdf(const char *what, size_t n, const uint8_t salt[SALT_LEN],
    const struct recovery_limits *l, uint8_t key[KEY_LEN])
{
	return crypto_pwhash(key, KEY_LEN, what, n, salt, l->opslimit,
	    l->memlimit, crypto_pwhash_ALG_ARGON2ID13);
}

/* The secret of three answers: n(a) 0x00 n(b) 0x00 n(c). */
static size_t
three(const char a[][RECOVERY_ANSWER_MAX + 1], const unsigned char *s,
    char *out)
{
	size_t o = 0, i, l;

	for (i = 0; i < 3; i++) {
		if (i > 0)
			out[o++] = '\0';
		l = strlen(a[s[i]]);
		memcpy(out + o, a[s[i]], l);
		o += l;
	}
	return o;
}

/* A box {salt, nonce, box} of K under the key of what. */
static json_t *
seal_box(const uint8_t *seed, const char *label, const char *what, size_t n,
    const struct recovery_limits *l, const uint8_t K[KEY_LEN],
    const char *ad)
{
	uint8_t salt[SALT_LEN], nonce[NONCE_LEN], key[KEY_LEN];
	uint8_t box[KEY_LEN + crypto_aead_xchacha20poly1305_ietf_ABYTES];
	char lab[64];
	char *s1, *s2, *s3;
	json_t *o;

	snprintf(lab, sizeof(lab), "%s salt", label);
	det(seed, lab, salt, sizeof(salt));
	snprintf(lab, sizeof(lab), "%s nonce", label);
	det(seed, lab, nonce, sizeof(nonce));
	if (kdf(what, n, salt, l, key) != 0)
		return NULL;
	crypto_aead_xchacha20poly1305_ietf_encrypt(box, NULL, K, KEY_LEN,
	    (const uint8_t *)ad, strlen(ad), NULL, nonce, key);
	sodium_memzero(key, sizeof(key));
	s1 = b64(salt, sizeof(salt));
	s2 = b64(nonce, sizeof(nonce));
	s3 = b64(box, sizeof(box));
	o = json_pack("{s:s,s:s,s:s}", "salt", s1, "nonce", s2, "box", s3);
	free(s1);
	free(s2);
	free(s3);
	return o;
}

int
recovery_seal(const struct recovery_in *in, struct buf *out, struct err *e)
{
	char a[RECOVERY_QUESTIONS][RECOVERY_ANSWER_MAX + 1];
	char secret[3 * (RECOVERY_ANSWER_MAX + 1)], ad[128], code[64];
	uint8_t K[KEY_LEN], nonce[NONCE_LEN], *sbox;
	json_t *o, *qs, *shares, *box;
	char *s1, *s2, *text;
	size_t i, n;
	int rc = -1;

	for (i = 0; i < RECOVERY_QUESTIONS; i++)
		if (in->questions[i] == NULL || *in->questions[i] == '\0' ||
		    in->answers[i] == NULL || recovery_norm(in->answers[i],
		    a[i]) == -1)
			return err_set(e, ERR_INVALID, "question %zu or its "
			    "answer is empty or not text", i + 1);
	det(in->seed, "data key", K, sizeof(K));
	qs = json_array();
	for (i = 0; i < RECOVERY_QUESTIONS; i++)
		json_array_append_new(qs, json_string(in->questions[i]));
	shares = json_array();
	for (i = 0; i < 10; i++) {
		char lab[32];

		n = three((const char (*)[RECOVERY_ANSWER_MAX + 1])a, sets[i],
		    secret);
		snprintf(ad, sizeof(ad), AD_PREFIX "%s %u%u%u", in->fpr,
		    sets[i][0], sets[i][1], sets[i][2]);
		snprintf(lab, sizeof(lab), "share %zu", i);
		box = seal_box(in->seed, lab, secret, n, &in->lim, K, ad);
		if (box == NULL)
			goto fail;
		json_object_set_new(box, "answers", json_pack("[i,i,i]",
		    sets[i][0], sets[i][1], sets[i][2]));
		json_array_append_new(shares, box);
	}
	sodium_memzero(secret, sizeof(secret));
	/* the secret key under K */
	det(in->seed, "secret nonce", nonce, sizeof(nonce));
	sbox = xmalloc(in->secret_len +
	    crypto_aead_xchacha20poly1305_ietf_ABYTES);
	snprintf(ad, sizeof(ad), AD_PREFIX "%s", in->fpr);
	crypto_aead_xchacha20poly1305_ietf_encrypt(sbox, NULL, in->secret,
	    in->secret_len, (const uint8_t *)ad, strlen(ad), NULL, nonce, K);
	s1 = b64(nonce, sizeof(nonce));
	s2 = b64(sbox, in->secret_len +
	    crypto_aead_xchacha20poly1305_ietf_ABYTES);
	free(sbox);
	o = json_pack("{s:s,s:i,s:s,s:{s:s,s:I,s:I},s:o,s:o,s:{s:s,s:s}}",
	    "format", "keydir-recovery", "version", 1, "fpr", in->fpr, "kdf",
	    "alg", "argon2id13", "opslimit", (json_int_t)in->lim.opslimit,
	    "memlimit", (json_int_t)in->lim.memlimit, "questions", qs,
	    "shares", shares, "secret", "nonce", s1, "box", s2);
	free(s1);
	free(s2);
	if (o != NULL && in->code != NULL) {
		snprintf(ad, sizeof(ad), AD_PREFIX "%s code", in->fpr);
		if (code_norm(in->code, code, sizeof(code)) == -1 ||
		    (box = seal_box(in->seed, "code", code, strlen(code),
		    &in->lim, K, ad)) == NULL) {
			json_decref(o);
			o = NULL;
		} else
			json_object_set_new(o, "code", box);
	}
	if (o == NULL)
		goto out;
	text = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	if (text != NULL && buf_addstr(out, text) == 0)
		rc = 0;
	free(text);
out:
	sodium_memzero(K, sizeof(K));
	sodium_memzero(a, sizeof(a));
	if (rc == -1)
		err_set(e, ERR_INTERNAL, "cannot seal the recovery data (out "
		    "of memory?)");
	return rc;
fail:
	json_decref(qs);
	json_decref(shares);
	goto out;
}

/* Try one box: K when it opens. */
static int
try_box(json_t *bx, const char *what, size_t n, const struct recovery_limits
    *l, const char *ad, uint8_t K[KEY_LEN])
{
	uint8_t salt[SALT_LEN], nonce[NONCE_LEN], key[KEY_LEN];
	uint8_t box[KEY_LEN + crypto_aead_xchacha20poly1305_ietf_ABYTES];
	unsigned long long kl = 0;
	size_t sl, nl, bl;
	int rc;

	if (unb64(bx, "salt", salt, sizeof(salt), &sl) == -1 ||
	    sl != sizeof(salt) || unb64(bx, "nonce", nonce, sizeof(nonce),
	    &nl) == -1 || nl != sizeof(nonce) || unb64(bx, "box", box,
	    sizeof(box), &bl) == -1 || bl != sizeof(box) ||
	    kdf(what, n, salt, l, key) != 0)
		return -1;
	rc = crypto_aead_xchacha20poly1305_ietf_decrypt(K, &kl, NULL, box, bl,
	    (const uint8_t *)ad, strlen(ad), nonce, key);
	sodium_memzero(key, sizeof(key));
	return rc == 0 && kl == KEY_LEN ? 0 : -1;
}

int
recovery_open(const char *blob, size_t len,
    const char *const answers[RECOVERY_QUESTIONS], const char *code,
    struct buf *secret, struct err *e)
{
	char a[RECOVERY_QUESTIONS][RECOVERY_ANSWER_MAX + 1];
	char what[3 * (RECOVERY_ANSWER_MAX + 1)], ad[128], c[64];
	bool have[RECOVERY_QUESTIONS] = { false };
	struct recovery_limits l;
	uint8_t K[KEY_LEN], nonce[NONCE_LEN], *sbox = NULL, *plain = NULL;
	unsigned long long pl = 0;
	json_t *o, *shares, *bx, *kdfo, *sec;
	const char *fpr;
	size_t i, nl, sl, n, known = 0;
	int rc = -1, opened = -1;

	o = json_loadb(blob, len, JSON_REJECT_DUPLICATES, NULL);
	kdfo = o ? json_object_get(o, "kdf") : NULL;
	fpr = o ? json_string_value(json_object_get(o, "fpr")) : NULL;
	shares = o ? json_object_get(o, "shares") : NULL;
	sec = o ? json_object_get(o, "secret") : NULL;
	if (o == NULL || fpr == NULL || !json_is_array(shares) ||
	    !json_is_object(sec) || !json_is_object(kdfo) ||
	    json_integer_value(json_object_get(o, "version")) != 1 ||
	    strcmp(json_string_value(json_object_get(o, "format")) ?
	    json_string_value(json_object_get(o, "format")) : "",
	    "keydir-recovery") != 0) {
		err_set(e, ERR_INVALID, "not keydir recovery data (version 1)");
		goto out;
	}
	l.opslimit = (unsigned long long)json_integer_value(
	    json_object_get(kdfo, "opslimit"));
	l.memlimit = (size_t)json_integer_value(json_object_get(kdfo,
	    "memlimit"));
	if (code != NULL) {
		snprintf(ad, sizeof(ad), AD_PREFIX "%s code", fpr);
		if (code_norm(code, c, sizeof(c)) == 0 &&
		    json_is_object(bx = json_object_get(o, "code")))
			opened = try_box(bx, c, strlen(c), &l, ad, K);
	} else {
		for (i = 0; i < RECOVERY_QUESTIONS; i++)
			if (answers[i] != NULL && *answers[i] != '\0' &&
			    recovery_norm(answers[i], a[i]) == 0) {
				have[i] = true;
				known++;
			}
		if (known < RECOVERY_NEEDED) {
			err_set(e, ERR_INVALID, "three answers at least are "
			    "needed");
			goto out;
		}
		for (i = 0; i < json_array_size(shares) && opened == -1; i++) {
			json_t *ix = json_object_get(json_array_get(shares, i),
			    "answers");
			unsigned char s[3];
			size_t k;

			for (k = 0; k < 3; k++)
				s[k] = (unsigned char)json_integer_value(
				    json_array_get(ix, k));
			if (s[0] >= RECOVERY_QUESTIONS || s[1] >=
			    RECOVERY_QUESTIONS || s[2] >= RECOVERY_QUESTIONS ||
			    !have[s[0]] || !have[s[1]] || !have[s[2]])
				continue;
			n = three((const char (*)[RECOVERY_ANSWER_MAX + 1])a,
			    s, what);
			snprintf(ad, sizeof(ad), AD_PREFIX "%s %u%u%u", fpr,
			    s[0], s[1], s[2]);
			opened = try_box(json_array_get(shares, i), what, n,
			    &l, ad, K);
		}
	}
	if (opened == -1) {
		err_set(e, ERR_FORBIDDEN, code ? "the recovery code does not "
		    "open it" : "these answers do not open it");
		goto out;
	}
	sbox = xmalloc(len);
	if (unb64(sec, "nonce", nonce, sizeof(nonce), &nl) == -1 ||
	    nl != sizeof(nonce) || unb64(sec, "box", sbox, len, &sl) == -1 ||
	    sl < crypto_aead_xchacha20poly1305_ietf_ABYTES) {
		err_set(e, ERR_INVALID, "the sealed key is malformed");
		goto out;
	}
	plain = xmalloc(sl);
	snprintf(ad, sizeof(ad), AD_PREFIX "%s", fpr);
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(plain, &pl, NULL, sbox,
	    sl, (const uint8_t *)ad, strlen(ad), nonce, K) != 0) {
		err_set(e, ERR_FORBIDDEN, "the sealed key does not open: the "
		    "data was changed");
		goto out;
	}
	if (buf_add(secret, plain, (size_t)pl) == -1) {
		err_set(e, ERR_TOOBIG, "the secret key is too large");
		goto out;
	}
	rc = 0;
out:
	if (plain != NULL)
		sodium_memzero(plain, pl);
	free(plain);
	free(sbox);
	sodium_memzero(K, sizeof(K));
	sodium_memzero(a, sizeof(a));
	json_decref(o);
	return rc;
}

int
recovery_questions(const char *blob, size_t len,
    char q[RECOVERY_QUESTIONS][256], char fpr[FPR_LEN + 1], struct err *e)
{
	json_t *o = json_loadb(blob, len, 0, NULL), *qs;
	const char *f;
	size_t i;

	qs = o ? json_object_get(o, "questions") : NULL;
	f = o ? json_string_value(json_object_get(o, "fpr")) : NULL;
	if (!json_is_array(qs) || json_array_size(qs) != RECOVERY_QUESTIONS ||
	    f == NULL) {
		json_decref(o);
		return err_set(e, ERR_INVALID, "not keydir recovery data");
	}
	for (i = 0; i < RECOVERY_QUESTIONS; i++)
		str_lcpy(q[i], json_string_value(json_array_get(qs, i)) ?
		    json_string_value(json_array_get(qs, i)) : "", 256);
	str_lcpy(fpr, f, FPR_LEN + 1);
	json_decref(o);
	return 0;
}
