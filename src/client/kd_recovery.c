/*
 * kd_recovery: keydir recovery create and keydir recovery restore.  The
 * secret key is exported through gpg-agent, sealed here (recovery.c)
 * and sent in a signed submission; restoring asks the directory for a
 * link (mailed to the address), downloads the blob, asks the questions
 * (or the code) and imports the secret key into GnuPG.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "client.h"
#include "recovery.h"
#include "str.h"
#include "xmalloc.h"

/* A line from stdin after a prompt on stderr, without its newline. */
static int
ask(const char *prompt, char *out, size_t sz)
{
	fprintf(stderr, "%s", prompt);
	fflush(stderr);
	if (fgets(out, (int)sz, stdin) == NULL)
		return -1;
	out[strcspn(out, "\r\n")] = '\0';
	return 0;
}

/* Questions and answers: from FILE ("QUESTION<TAB>ANSWER" lines; an
 * empty answer is one not known), or asked one by one. */
static int
read_qa(const char *file, char q[RECOVERY_QUESTIONS][256],
    char a[RECOVERY_QUESTIONS][RECOVERY_ANSWER_MAX + 1], bool want_q)
{
	char line[1024], *tab, prompt[400];
	FILE *fp;
	size_t i = 0;

	if (file != NULL) {
		if ((fp = fopen(file, "r")) == NULL) {
			fprintf(stderr, "keydir: %s: cannot read it\n", file);
			return -1;
		}
		while (i < RECOVERY_QUESTIONS && fgets(line, sizeof(line),
		    fp) != NULL) {
			line[strcspn(line, "\r\n")] = '\0';
			if ((tab = strchr(line, '\t')) == NULL)
				continue;
			*tab = '\0';
			if (want_q)
				str_lcpy(q[i], line, 256);
			str_lcpy(a[i], tab + 1, RECOVERY_ANSWER_MAX + 1);
			i++;
		}
		fclose(fp);
		if (i != RECOVERY_QUESTIONS) {
			fprintf(stderr, "keydir: %s: five lines QUESTION<TAB>"
			    "ANSWER wanted\n", file);
			return -1;
		}
		return 0;
	}
	for (i = 0; i < RECOVERY_QUESTIONS; i++) {
		if (want_q) {
			snprintf(prompt, sizeof(prompt), "Question %zu: ", i + 1);
			if (ask(prompt, q[i], 256) == -1)
				return -1;
		}
		snprintf(prompt, sizeof(prompt), "%s%s: ", q[i], want_q ? "" :
		    " (empty if you do not know)");
		if (ask(prompt, a[i], RECOVERY_ANSWER_MAX + 1) == -1)
			return -1;
	}
	return 0;
}

int
kd_recovery_create(struct kd *k, const char *key, const char *answers,
    bool with_code)
{
	char q[RECOVERY_QUESTIONS][256], a[RECOVERY_QUESTIONS]
	    [RECOVERY_ANSWER_MAX + 1], fpr[FPR_LEN + 1];
	char code[RECOVERY_CODE_LEN + 1];
	struct recovery_in in;
	struct buf secret, blob;
	struct err e;
	size_t i;
	int rc = KD_FAIL;

	if (kd_gpg_find(key, true, fpr, &e) == -1) {
		fprintf(stderr, "keydir: %s\n", e.msg);
		return KD_FAIL;
	}
	memset(q, 0, sizeof(q));
	memset(a, 0, sizeof(a));
	if (answers == NULL)
		fprintf(stderr, "Five questions only you can answer; any three "
		    "answers will recover the key.\n");
	if (read_qa(answers, q, a, true) == -1)
		return KD_FAIL;
	memset(&in, 0, sizeof(in));
	in.fpr = fpr;
	for (i = 0; i < RECOVERY_QUESTIONS; i++) {
		in.questions[i] = q[i];
		in.answers[i] = a[i];
	}
	if (with_code) {
		recovery_code_new(NULL, code);
		in.code = code;
	}
	in.lim = recovery_limits_real();
	if (k->kdf_min) {
		in.lim.opslimit = crypto_pwhash_OPSLIMIT_MIN;
		in.lim.memlimit = crypto_pwhash_MEMLIMIT_MIN;
	}
	buf_init(&secret, KEY_MAX);
	buf_init(&blob, (128u << 10));
	if (kd_gpg_export_secret(fpr, &secret, &e) == -1) {
		fprintf(stderr, "keydir: %s\n", e.msg);
		goto out;
	}
	in.secret = (const uint8_t *)secret.data;
	in.secret_len = secret.len;
	fprintf(stderr, "Sealing the secret key under every three of the "
	    "answers (Argon2id, %s)...\n", k->kdf_min ? "test limits" :
	    "a few seconds");
	if (recovery_seal(&in, &blob, &e) == -1) {
		fprintf(stderr, "keydir: %s\n", e.msg);
		goto out;
	}
	if (blob.len > 65536) {
		fprintf(stderr, "keydir: the sealed key is over 64 KiB: the "
		    "directory keeps at most that\n");
		goto out;
	}
	if (with_code)
		printf("Your recovery code (write it down; it is shown only "
		    "once):\n\n    %s\n\n", code);
	rc = kd_publish(k, fpr, NULL, 0, blob.data, blob.len);
	if (rc == KD_OK)
		printf("The recovery data is with the directory.  To get the "
		    "key back: keydir recovery restore ADDRESS.\n");
out:
	sodium_memzero(secret.data, secret.len);
	sodium_memzero(a, sizeof(a));
	sodium_memzero(code, sizeof(code));
	buf_release(&secret);
	buf_release(&blob);
	return rc;
}

int
kd_recovery_restore(struct kd *k, const char *address, const char *answers,
    const char *code, const char *link)
{
	char q[RECOVERY_QUESTIONS][256], a[RECOVERY_QUESTIONS]
	    [RECOVERY_ANSWER_MAX + 1], fpr[FPR_LEN + 1], url[1024];
	char pasted[1024];
	const char *ans[RECOVERY_QUESTIONS];
	struct buf body, secret;
	struct err e;
	json_t *req;
	char *text;
	long st = 0;
	size_t i;
	int rc = KD_FAIL;

	buf_init(&body, (128u << 10));
	buf_init(&secret, KEY_MAX);
	if (link == NULL) {
		req = json_pack("{s:s}", "address", address);
		text = json_dumps(req, JSON_COMPACT);
		json_decref(req);
		snprintf(url, sizeof(url), "%s/api/v1/recovery/request",
		    k->server);
		rc = kd_post(url, "application/json", text, strlen(text),
		    &body, &st, &e);
		free(text);
		if (rc == -1 || st != 200) {
			fprintf(stderr, "keydir: %s\n", rc == -1 ? e.msg :
			    "the directory refused the request");
			rc = KD_FAIL;
			goto out;
		}
		rc = KD_FAIL;
		fprintf(stderr, "If %s has a key with recovery data here, a "
		    "mail with a link is on its way to it.\n", address);
		if (ask("Paste the link from that mail: ", pasted,
		    sizeof(pasted)) == -1)
			goto out;
		link = pasted;
	}
	if (strncmp(link, k->server, strlen(k->server)) != 0 ||
	    strstr(link, "/recovery/") == NULL) {
		fprintf(stderr, "keydir: that is not a recovery link of %s\n",
		    k->server);
		goto out;
	}
	buf_reset(&body);
	if (kd_post(link, "application/x-www-form-urlencoded", "", 0, &body,
	    &st, &e) == -1 || st != 200) {
		fprintf(stderr, "keydir: %s\n", st != 200 && st != 0 ? "the "
		    "link does not work (used or expired?)" : e.msg);
		goto out;
	}
	if (recovery_questions(body.data, body.len, q, fpr, &e) == -1) {
		fprintf(stderr, "keydir: %s\n", e.msg);
		goto out;
	}
	memset(a, 0, sizeof(a));
	if (code == NULL) {
		if (answers == NULL)
			fprintf(stderr, "Answer at least three of the five "
			    "questions of %s.\n", fpr);
		if (read_qa(answers, q, a, false) == -1)
			goto out;
	}
	for (i = 0; i < RECOVERY_QUESTIONS; i++)
		ans[i] = a[i];
	fprintf(stderr, "Opening the recovery data (Argon2id)...\n");
	if (recovery_open(body.data, body.len, ans, code, &secret, &e) == -1) {
		fprintf(stderr, "keydir: %s\n", e.msg);
		goto out;
	}
	if (kd_gpg_import(secret.data, secret.len, &e) == -1) {
		fprintf(stderr, "keydir: %s\n", e.msg);
		goto out;
	}
	printf("The secret key %s is back in your keyring.\n", fpr);
	/* a new passphrase, through pinentry, when someone is there to
	 * type it; scripts are told how */
	if (isatty(STDIN_FILENO) && isatty(STDERR_FILENO)) {
		fprintf(stderr, "Choose a new passphrase for it.\n");
		if (kd_gpg_passwd(fpr, &e) == -1)
			fprintf(stderr, "keydir: %s; later: gpg "
			    "--change-passphrase %s\n", e.msg, fpr);
	} else
		printf("Give it a new passphrase: gpg --change-passphrase %s\n",
		    fpr);
	rc = KD_OK;
out:
	if (secret.len > 0)
		sodium_memzero(secret.data, secret.len);
	sodium_memzero(a, sizeof(a));
	buf_release(&body);
	buf_release(&secret);
	return rc;
}
