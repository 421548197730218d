/*
 * pgp_wks: encryption to a submitted key, for the Web Key Service's
 * confirmation request (draft-koch-openpgp-webkey-service, 4.2): the
 * nonce inside reaches only the holder of the key's secret part.
 */
#include <string.h>

#include <rnp/rnp.h>
#include <rnp/rnp_err.h>

#include "pgp.h"

#define ENC_MAX (256 * 1024)	/* a request is a few hundred bytes */

int
pgp_encrypt_to(const uint8_t *full, size_t full_len, const uint8_t *data,
    size_t len, struct buf *out, struct err *e)
{
	rnp_ffi_t ffi = NULL;
	rnp_input_t in = NULL, keyin = NULL;
	rnp_output_t o = NULL;
	rnp_op_encrypt_t op = NULL;
	rnp_key_handle_t key = NULL;
	uint8_t *p;
	size_t n;
	bool can = false;
	int rc = -1;

	if (rnp_ffi_create(&ffi, RNP_KEYSTORE_GPG, RNP_KEYSTORE_GPG) !=
	    RNP_SUCCESS)
		return err_set(e, ERR_INTERNAL, "rnp ffi creation failed");
	if (rnp_input_from_memory(&keyin, full, full_len, false) !=
	    RNP_SUCCESS || rnp_import_keys(ffi, keyin,
	    RNP_LOAD_SAVE_PUBLIC_KEYS, NULL) !=
	    RNP_SUCCESS) {
		err_set(e, ERR_INVALID, "wks: the key does not load");
		goto out;
	}
	/* the first primary of the cert: full holds one */
	{
		rnp_identifier_iterator_t it = NULL;
		const char *id = NULL;

		if (rnp_identifier_iterator_create(ffi, &it, "fingerprint") ==
		    RNP_SUCCESS && rnp_identifier_iterator_next(it, &id) ==
		    RNP_SUCCESS && id != NULL)
			rnp_locate_key(ffi, "fingerprint", id, &key);
		rnp_identifier_iterator_destroy(it);
	}
	if (key == NULL || rnp_key_allows_usage(key, "encrypt", &can) !=
	    RNP_SUCCESS)
		can = false;
	if (key != NULL && !can) {
		/* librnp picks an encryption subkey of a primary that may
		 * not encrypt itself: ask whether there is one */
		size_t i, ns = 0;
		rnp_key_handle_t sub;

		rnp_key_get_subkey_count(key, &ns);
		for (i = 0; i < ns && !can; i++) {
			sub = NULL;
			if (rnp_key_get_subkey_at(key, i, &sub) == RNP_SUCCESS &&
			    rnp_key_allows_usage(sub, "encrypt", &can) !=
			    RNP_SUCCESS)
				can = false;
			rnp_key_handle_destroy(sub);
		}
	}
	if (!can) {
		err_set(e, ERR_INVALID, "wks: the key has no key that may "
		    "encrypt");
		goto out;
	}
	if (rnp_input_from_memory(&in, data, len, false) != RNP_SUCCESS ||
	    rnp_output_to_memory(&o, ENC_MAX) != RNP_SUCCESS ||
	    rnp_op_encrypt_create(&op, ffi, in, o) != RNP_SUCCESS ||
	    rnp_op_encrypt_add_recipient(op, key) != RNP_SUCCESS ||
	    rnp_op_encrypt_set_cipher(op, "AES256") != RNP_SUCCESS ||
	    rnp_op_encrypt_set_armor(op, true) != RNP_SUCCESS ||
	    rnp_op_encrypt_execute(op) != RNP_SUCCESS ||
	    rnp_output_memory_get_buf(o, &p, &n, false) != RNP_SUCCESS) {
		err_set(e, ERR_INVALID, "wks: cannot encrypt to the key (it "
		    "may have expired)");
		goto out;
	}
	rc = buf_add(out, p, n) == 0 ? 0 : err_set(e, ERR_TOOBIG,
	    "wks: the message does not fit");
out:
	rnp_op_encrypt_destroy(op);
	rnp_output_destroy(o);
	rnp_input_destroy(in);
	rnp_input_destroy(keyin);
	rnp_key_handle_destroy(key);
	rnp_ffi_destroy(ffi);
	return rc;
}
