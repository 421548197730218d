/*
 * submission: read the JSON of a signed submission, strictly: every field
 * of its type, nothing unknown, so that what was signed means one thing.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "str.h"
#include "submission.h"
#include "xmalloc.h"

static const char *const fields[] = { "action", "server", "key",
    "addresses", "recovery" };

/* Every key of o is one we know. */
static int
known_fields(json_t *o, struct err *e)
{
	const char *k;
	json_t *v;
	size_t i;

	json_object_foreach(o, k, v) {
		for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
			if (!strcmp(k, fields[i]))
				break;
		if (i == sizeof(fields) / sizeof(fields[0]))
			return err_set(e, ERR_INVALID, "unknown field \"%.40s\" "
			    "in the submission", k);
	}
	return 0;
}

static int
parse_addrs(json_t *a, struct submission *s, struct err *e)
{
	json_t *v;
	size_t i;

	if (a == NULL)
		return 0;
	if (!json_is_array(a) || json_array_size(a) > SUBMISSION_ADDRS_MAX)
		return err_set(e, ERR_INVALID, "\"addresses\" must be a list of "
		    "at most %d addresses", SUBMISSION_ADDRS_MAX);
	s->addrs = xcalloc(json_array_size(a) + 1, sizeof(*s->addrs));
	json_array_foreach(a, i, v) {
		if (!json_is_string(v) || json_string_length(v) == 0 ||
		    json_string_length(v) > EMAIL_MAX)
			return err_set(e, ERR_INVALID, "\"addresses\" item %zu "
			    "is not an address", i + 1);
		str_lcpy(s->addrs[i], json_string_value(v), EMAIL_MAX + 1);
		s->naddrs++;
	}
	return 0;
}

static int
parse_recovery(json_t *r, struct submission *s, struct err *e)
{
	const char *b64;
	size_t n, max;

	if (r == NULL)
		return 0;
	if (!json_is_string(r))
		return err_set(e, ERR_INVALID, "\"recovery\" must be base64");
	b64 = json_string_value(r);
	n = json_string_length(r);
	if (n / 4 * 3 > SUBMISSION_RECOVERY_MAX + 3)
		return err_set(e, ERR_TOOBIG, "\"recovery\" is over %u KiB",
		    SUBMISSION_RECOVERY_MAX >> 10);
	max = n / 4 * 3 + 3;
	s->recovery = xmalloc(max ? max : 1);
	if (sodium_base642bin(s->recovery, max, b64, n, NULL,
	    &s->recovery_len, NULL, sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    s->recovery_len == 0)
		return err_set(e, ERR_INVALID, "\"recovery\" is not base64");
	if (s->recovery_len > SUBMISSION_RECOVERY_MAX)
		return err_set(e, ERR_TOOBIG, "\"recovery\" is over %u KiB",
		    SUBMISSION_RECOVERY_MAX >> 10);
	return 0;
}

int
submission_parse(const char *text, size_t len, struct submission *s,
    struct err *e)
{
	json_error_t je;
	json_t *o, *v;
	int rc = -1;

	memset(s, 0, sizeof(*s));
	o = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	if (o == NULL || !json_is_object(o)) {
		err_set(e, ERR_INVALID, "the submission is not a JSON object");
		goto out;
	}
	if (known_fields(o, e) == -1)
		goto out;
	v = json_object_get(o, "action");
	if (!json_is_string(v) || strcmp(json_string_value(v), "publish")) {
		err_set(e, ERR_INVALID, "\"action\" must be \"publish\"");
		goto out;
	}
	v = json_object_get(o, "server");
	if (!json_is_string(v) || json_string_length(v) == 0 ||
	    json_string_length(v) >= sizeof(s->server)) {
		err_set(e, ERR_INVALID, "\"server\" must name the directory");
		goto out;
	}
	str_lcpy(s->server, json_string_value(v), sizeof(s->server));
	v = json_object_get(o, "key");
	if (!json_is_string(v) || json_string_length(v) == 0 ||
	    json_string_length(v) > KEY_MAX) {
		err_set(e, ERR_INVALID, "\"key\" must be the armored key");
		goto out;
	}
	s->key_len = json_string_length(v);
	s->key = xmalloc(s->key_len + 1);
	memcpy(s->key, json_string_value(v), s->key_len + 1);
	if (parse_addrs(json_object_get(o, "addresses"), s, e) == -1 ||
	    parse_recovery(json_object_get(o, "recovery"), s, e) == -1)
		goto out;
	rc = 0;
out:
	json_decref(o);
	if (rc == -1)
		submission_release(s);
	return rc;
}

void
submission_release(struct submission *s)
{
	free(s->key);
	free(s->addrs);
	free(s->recovery);
	memset(s, 0, sizeof(*s));
}
