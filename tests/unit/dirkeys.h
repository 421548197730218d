/*
 * dirkeys: the test keys of the directory tests, made with librnp at
 * test time (Ed25519 primary, Cv25519 subkey); a revoked user ID's
 * signature is made with libsodium from the exported secret key, as
 * librnp 0.16 has no call for it.  Header-only, for dirtest.h.
 */
#ifndef KEYDIR_DIRKEYS_H
#define KEYDIR_DIRKEYS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rnp/rnp.h>
#include <rnp/rnp_err.h>
#include <sodium.h>

#include "pgp.h"
#include "str.h"

#define A_MAIN "alice@example.org"
#define A_WORK "alice@work.example"
#define B_MAIN "bob@example.net"

struct blob {
	uint8_t *p;
	size_t len;
};

/*
 * The test keys, binary.  Alice's key in four versions: one user ID; a
 * second user ID added; that second user ID revoked; the key revoked.
 * Another key with Alice's address, and Bob's key.
 */
enum { K_A1, K_A2, K_A3, K_AREV, K_O, K_B, K_N };
static struct blob keys[K_N];
static char afpr[FPR_LEN + 1], ofpr[FPR_LEN + 1],
    bfpr[FPR_LEN + 1];

/* ---- making keys -------------------------------------------------- */

/* Generate an Ed25519 + Cv25519 key with user ID uid in ffi. */
static int __attribute__((unused))
rnp_gen(rnp_ffi_t ffi, const char *uid, rnp_key_handle_t *key)
{
	char json[512];
	char *res = NULL;

	*key = NULL;
	snprintf(json, sizeof(json), "{\"primary\": {\"type\": \"EDDSA\", "
	    "\"userid\": \"%s\", \"expiration\": 0, \"usage\": [\"sign\", "
	    "\"certify\"]}, \"sub\": {\"type\": \"ECDH\", \"curve\": "
	    "\"Curve25519\", \"expiration\": 0, \"usage\": [\"encrypt\"]}}",
	    uid);
	if (rnp_generate_key_json(ffi, json, &res) != RNP_SUCCESS)
		return -1;
	rnp_buffer_destroy(res);
	if (rnp_locate_key(ffi, "userid", uid, key) != RNP_SUCCESS ||
	    *key == NULL)
		return -1;
	return 0;
}

/* Export key (binary) with flags into b. */
static int __attribute__((unused))
rnp_export(rnp_key_handle_t key, uint32_t flags, struct blob *b)
{
	rnp_output_t out = NULL;
	uint8_t *p = NULL;
	size_t len = 0;
	int rc = -1;

	if (rnp_output_to_memory(&out, 0) != RNP_SUCCESS)
		return -1;
	if (rnp_key_export(key, out, flags) == RNP_SUCCESS &&
	    rnp_output_memory_get_buf(out, &p, &len, false) == RNP_SUCCESS &&
	    len > 0) {
		b->p = malloc(len);
		memcpy(b->p, p, len);
		b->len = len;
		rc = 0;
	}
	rnp_output_destroy(out);
	return rc;
}

static int __attribute__((unused))
rnp_export_pub(rnp_key_handle_t key, struct blob *b)
{
	return rnp_export(key, RNP_KEY_EXPORT_PUBLIC | RNP_KEY_EXPORT_SUBKEYS,
	    b);
}

/* The fingerprint of key into fpr. */
static int __attribute__((unused))
rnp_fpr(rnp_key_handle_t key, char fpr[FPR_LEN + 1])
{
	char *s = NULL;

	if (rnp_key_get_fprint(key, &s) != RNP_SUCCESS)
		return -1;
	str_lcpy(fpr, s, FPR_LEN + 1);
	rnp_buffer_destroy(s);
	return strlen(fpr) == FPR_LEN ? 0 : -1;
}

/* The packet at p[off..len): tag, header and body lengths; -1 when it is
 * malformed or has a partial length (never in an exported key). */
static int __attribute__((unused))
pkt_at(const uint8_t *p, size_t len, size_t off, int *tag, size_t *hlen,
    size_t *blen)
{
	const uint8_t *h = p + off;

	if (off + 2 > len || !(h[0] & 0x80))
		return -1;
	if (h[0] & 0x40) {
		*tag = h[0] & 0x3f;
		if (h[1] < 192) {
			*hlen = 2;
			*blen = h[1];
		} else if (h[1] < 224 && off + 3 <= len) {
			*hlen = 3;
			*blen = ((size_t)(h[1] - 192) << 8) + h[2] + 192;
		} else if (h[1] == 255 && off + 6 <= len) {
			*hlen = 6;
			*blen = (size_t)h[2] << 24 | (size_t)h[3] << 16 |
			    (size_t)h[4] << 8 | h[5];
		} else
			return -1;
	} else {
		*tag = (h[0] >> 2) & 0x0f;
		switch (h[0] & 3) {
		case 0:
			*hlen = 2;
			*blen = h[1];
			break;
		case 1:
			if (off + 3 > len)
				return -1;
			*hlen = 3;
			*blen = (size_t)h[1] << 8 | h[2];
			break;
		case 2:
			if (off + 5 > len)
				return -1;
			*hlen = 5;
			*blen = (size_t)h[1] << 24 | (size_t)h[2] << 16 |
			    (size_t)h[3] << 8 | h[4];
			break;
		default:
			return -1;
		}
	}
	return off + *hlen + *blen <= len ? 0 : -1;
}

/* Read an MPI at b[*o..n) right-aligned into out[sz]. */
static int __attribute__((unused))
mpi_read(const uint8_t *b, size_t n, size_t *o, uint8_t *out, size_t sz)
{
	size_t bits, bytes;

	if (*o + 2 > n)
		return -1;
	bits = (size_t)b[*o] << 8 | b[*o + 1];
	bytes = (bits + 7) / 8;
	if (bytes > sz || *o + 2 + bytes > n)
		return -1;
	memset(out, 0, sz);
	memcpy(out + sz - bytes, b + *o + 2, bytes);
	*o += 2 + bytes;
	return 0;
}

/* Append the MPI of the big-endian number v[0..n) to b. */
static void __attribute__((unused))
mpi_put(struct blob *b, const uint8_t *v, size_t n)
{
	size_t bits;
	int top;

	while (n > 0 && v[0] == 0) {
		v++;
		n--;
	}
	for (top = 8; n > 0 && !(v[0] & (1 << (top - 1))); top--)
		;
	bits = n ? (n - 1) * 8 + (size_t)top : 0;
	b->p[b->len++] = (uint8_t)(bits >> 8);
	b->p[b->len++] = (uint8_t)bits;
	memcpy(b->p + b->len, v, n);
	b->len += n;
}

/*
 * The Ed25519 seed of an unprotected EdDSA secret key export, checked
 * against its public point.
 */
static int __attribute__((unused))
ed_seed(const struct blob *sec, uint8_t seed[32])
{
	uint8_t pt[33], pk[32], sk[64];
	size_t hl, bl, o;
	int tag;

	if (pkt_at(sec->p, sec->len, 0, &tag, &hl, &bl) == -1 || tag != 5)
		return -1;
	o = hl;
	if (sec->p[o] != 4 || sec->p[o + 5] != 22)
		return -1;
	o += 6;
	o += 1 + sec->p[o];		/* curve OID */
	if (mpi_read(sec->p, hl + bl, &o, pt, sizeof(pt)) == -1 ||
	    pt[0] != 0x40 || o >= hl + bl || sec->p[o++] != 0 ||
	    mpi_read(sec->p, hl + bl, &o, seed, 32) == -1)
		return -1;
	crypto_sign_seed_keypair(pk, sk, seed);
	sodium_memzero(sk, sizeof(sk));
	return memcmp(pk, pt + 1, 32) == 0 ? 0 : -1;
}

/*
 * librnp 0.16 cannot revoke a user ID, so the revocation (a 0x30
 * signature by the primary key) is made here: out is pub with it after
 * the user ID uid and that user ID's signatures.
 */
static int __attribute__((unused))
uid_revoke(const struct blob *pub, const uint8_t seed[32],
    const char *fpr, const char *uid, struct blob *out)
{
	static const char why[] = "no longer used";
	crypto_hash_sha256_state h;
	uint8_t fb[20], dig[32], pk[32], sk[64], sig[64], hdr[5];
	struct blob s;
	size_t off, hl, bl, ulen = strlen(uid), keylen = 0, ins = 0, hsl;
	size_t key = 0, i;
	uint32_t now = (uint32_t)time(NULL);
	int tag;

	if (sodium_hex2bin(fb, sizeof(fb), fpr, strlen(fpr), NULL, NULL,
	    NULL) != 0)
		return -1;
	/* find the primary key packet and where the signature goes */
	for (off = 0; off < pub->len; off += hl + bl) {
		if (pkt_at(pub->p, pub->len, off, &tag, &hl, &bl) == -1)
			return -1;
		if (tag == 6) {
			key = off + hl;
			keylen = bl;
		}
		if (tag == 13 && bl == ulen && !memcmp(pub->p + off + hl, uid,
		    ulen))
			ins = off + hl + bl;
		else if (ins == off && tag == 2)
			ins = off + hl + bl;
	}
	if (keylen == 0 || ins == 0)
		return -1;
	/* the hashed part: v4, 0x30, EdDSA, SHA-256, subpackets */
	s.p = calloc(1, 512);
	s.len = 0;
	memcpy(s.p, "\x04\x30\x16\x08\x00\x00", 6);
	s.len = 6;
	s.p[s.len++] = 5;
	s.p[s.len++] = 2;			/* creation time */
	s.p[s.len++] = (uint8_t)(now >> 24);
	s.p[s.len++] = (uint8_t)(now >> 16);
	s.p[s.len++] = (uint8_t)(now >> 8);
	s.p[s.len++] = (uint8_t)now;
	s.p[s.len++] = 22;
	s.p[s.len++] = 33;			/* issuer fingerprint */
	s.p[s.len++] = 4;
	memcpy(s.p + s.len, fb, 20);
	s.len += 20;
	s.p[s.len++] = (uint8_t)(2 + sizeof(why) - 1);
	s.p[s.len++] = 29;			/* reason: uid no longer valid */
	s.p[s.len++] = 32;
	memcpy(s.p + s.len, why, sizeof(why) - 1);
	s.len += sizeof(why) - 1;
	hsl = s.len;
	s.p[4] = (uint8_t)((hsl - 6) >> 8);
	s.p[5] = (uint8_t)(hsl - 6);
	/* digest: key, user ID, hashed part, trailer */
	crypto_hash_sha256_init(&h);
	hdr[0] = 0x99;
	hdr[1] = (uint8_t)(keylen >> 8);
	hdr[2] = (uint8_t)keylen;
	crypto_hash_sha256_update(&h, hdr, 3);
	crypto_hash_sha256_update(&h, pub->p + key, keylen);
	hdr[0] = 0xb4;
	for (i = 0; i < 4; i++)
		hdr[1 + i] = (uint8_t)(ulen >> (24 - 8 * i));
	crypto_hash_sha256_update(&h, hdr, 5);
	crypto_hash_sha256_update(&h, (const uint8_t *)uid, ulen);
	crypto_hash_sha256_update(&h, s.p, hsl);
	hdr[0] = 0x04;
	hdr[1] = 0xff;
	crypto_hash_sha256_update(&h, hdr, 2);
	for (i = 0; i < 4; i++)
		hdr[i] = (uint8_t)(hsl >> (24 - 8 * i));
	crypto_hash_sha256_update(&h, hdr, 4);
	crypto_hash_sha256_final(&h, dig);
	crypto_sign_seed_keypair(pk, sk, seed);
	crypto_sign_detached(sig, NULL, dig, sizeof(dig), sk);
	sodium_memzero(sk, sizeof(sk));
	/* unhashed: the issuer key id; then the digest's first two octets
	 * and R, S */
	memcpy(s.p + s.len, "\x00\x0a\x09\x10", 4);
	s.len += 4;
	memcpy(s.p + s.len, fb + 12, 8);
	s.len += 8;
	s.p[s.len++] = dig[0];
	s.p[s.len++] = dig[1];
	mpi_put(&s, sig, 32);
	mpi_put(&s, sig + 32, 32);
	/* out: pub with the packet spliced in */
	out->p = malloc(pub->len + s.len + 3);
	memcpy(out->p, pub->p, ins);
	out->len = ins;
	out->p[out->len++] = 0xc2;
	if (s.len < 192)
		out->p[out->len++] = (uint8_t)s.len;
	else {
		out->p[out->len++] = (uint8_t)(((s.len - 192) >> 8) + 192);
		out->p[out->len++] = (uint8_t)(s.len - 192);
	}
	memcpy(out->p + out->len, s.p, s.len);
	out->len += s.len;
	memcpy(out->p + out->len, pub->p + ins, pub->len - ins);
	out->len += pub->len - ins;
	free(s.p);
	return 0;
}

/* Make every test key.  Each key gets its own ffi. */
static int __attribute__((unused))
keys_make(void)
{
	rnp_ffi_t ffi = NULL;
	rnp_key_handle_t k = NULL;
	struct blob sec = { NULL, 0 };
	uint8_t seed[32];
	int rc = -1;

	/* Alice: four versions of one key */
	if (rnp_ffi_create(&ffi, "GPG", "GPG") != RNP_SUCCESS)
		return -1;
	if (rnp_gen(ffi, "Alice <" A_MAIN ">", &k) == -1 ||
	    rnp_fpr(k, afpr) == -1 || rnp_export_pub(k, &keys[K_A1]) == -1 ||
	    rnp_key_add_uid(k, "Alice Work <" A_WORK ">", "SHA256", 0, 0,
	    false) != RNP_SUCCESS || rnp_export_pub(k, &keys[K_A2]) == -1 ||
	    rnp_export(k, RNP_KEY_EXPORT_SECRET, &sec) == -1 ||
	    ed_seed(&sec, seed) == -1 ||
	    uid_revoke(&keys[K_A2], seed, afpr, "Alice Work <" A_WORK ">",
	    &keys[K_A3]) == -1 ||
	    rnp_key_revoke(k, 0, "SHA256", "retired", "test") != RNP_SUCCESS ||
	    rnp_export_pub(k, &keys[K_AREV]) == -1)
		goto out;
	rnp_key_handle_destroy(k);
	rnp_ffi_destroy(ffi);
	k = NULL;
	/* another key for Alice's address; Bob */
	if (rnp_ffi_create(&ffi, "GPG", "GPG") != RNP_SUCCESS)
		goto out;
	if (rnp_gen(ffi, "Alice New <" A_MAIN ">", &k) == -1 ||
	    rnp_fpr(k, ofpr) == -1 || rnp_export_pub(k, &keys[K_O]) == -1)
		goto out;
	rnp_key_handle_destroy(k);
	k = NULL;
	if (rnp_gen(ffi, "Bob <" B_MAIN ">", &k) == -1 ||
	    rnp_fpr(k, bfpr) == -1 || rnp_export_pub(k, &keys[K_B]) == -1)
		goto out;
	rc = 0;
out:
	sodium_memzero(seed, sizeof(seed));
	if (sec.p)
		sodium_memzero(sec.p, sec.len);
	free(sec.p);
	rnp_key_handle_destroy(k);
	rnp_ffi_destroy(ffi);
	return rc;
}

static void __attribute__((unused))
keys_free(void)
{
	size_t i;

	for (i = 0; i < K_N; i++)
		free(keys[i].p);
}

#endif
