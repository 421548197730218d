/*
 * t_pgp: parse, merge and publish on keys made at test time by gpg (and
 * sq when installed), in a throw-away GNUPGHOME that is removed at the end.
 * gpg itself checks what we publish.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pgp.h"
#include "tap.h"

#define GPG "gpg --batch --quiet --no-tty --pinentry-mode loopback " \
	"--passphrase '' "

static char tmp[] = "/tmp/t_pgp.XXXXXX";
static char afpr[FPR_LEN + 1], bfpr[FPR_LEN + 1];
static const struct pgp_limits lim = { .max_uids = 100, .max_subkeys = 100,
    .max_certs = 10, .max_key_bits = 8192, .max_sig_checks = 1000 };
static int nhomes;

#include "shtest.h"

/* Write p to tmp/name. */
static void
spill(const char *name, const void *p, size_t len)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmp, name);
	if ((f = fopen(path, "wb")) == NULL)
		return;
	fwrite(p, 1, len, f);
	fclose(f);
}

/* pgp_parse on tmp/name. */
static int
parse_file(const char *name, const struct pgp_limits *l,
    struct pgp_cert **c, size_t *n, struct err *e)
{
	uint8_t *p;
	size_t len = 0;
	int rc;

	err_clear(e);
	if ((p = slurp(name, &len)) == NULL) {
		*c = NULL;
		*n = 0;
		return err_set(e, ERR_INTERNAL, "no file %s", name);
	}
	rc = pgp_parse(p, len, l, c, n, e);
	free(p);
	return rc;
}

/* pgp_parse on a memory buffer, expecting exactly one cert. */
static int
parse_one(const void *p, size_t len, struct pgp_cert *c)
{
	struct pgp_cert *v;
	struct err e;
	size_t n;

	memset(c, 0, sizeof(*c));
	if (pgp_parse(p, len, &lim, &v, &n, &e) == -1)
		return -1;
	if (n != 1) {
		pgp_certs_free(v, n);
		return -1;
	}
	*c = v[0];
	free(v);
	return 0;
}

/*
 * Import tmp/name into a fresh gpg home and check its signatures: *nuid
 * gets the uid records, *bad the sig/rev records that are not good
 * self-signatures by keyid.  Returns gpg's count of imported keys.
 */
static int
gpg_check(const char *name, const char *keyid, int *nuid, int *bad)
{
	char home[256], line[64];

	snprintf(home, sizeof(home), "%s/h%d", tmp, nhomes++);
	mkdir(home, 0700);
	sh_line(line, sizeof(line), "gpg --homedir %s --batch --status-fd 1 "
	    "--import %s/%s 2>/dev/null | grep -c IMPORT_OK", home, tmp, name);
	sh_line(line + 16, 16, "gpg --homedir %s --with-colons --check-sigs "
	    "2>/dev/null | grep -c '^uid:'", home);
	*nuid = (int)strtol(line + 16, NULL, 10);
	sh_line(line + 32, 16, "gpg --homedir %s --with-colons --check-sigs "
	    "2>/dev/null | awk -F: '($1==\"sig\"||$1==\"rev\") && "
	    "!($2==\"!\" && $5==\"%s\")' | wc -l", home, keyid);
	*bad = (int)strtol(line + 32, NULL, 10);
	sh("GNUPGHOME=%s gpgconf --kill all", home);
	return (int)strtol(line, NULL, 10);
}

/* Index of the uid whose email is addr, or -1. */
static int
uid_find(const struct pgp_cert *c, const char *addr)
{
	size_t i;

	for (i = 0; i < c->nuids; i++)
		if (strcmp(c->uids[i].email, addr) == 0)
			return (int)i;
	return -1;
}

/* Make the test keys with gpg. */
static int
setup(void)
{
	char gh[128];

	if (mkdtemp(tmp) == NULL)
		return -1;
	snprintf(gh, sizeof(gh), "%s/gh", tmp);
	mkdir(gh, 0700);
	setenv("GNUPGHOME", gh, 1);
	sh(GPG "--quick-gen-key 'Alice <alice@example.org>' future-default "
	    "default never");
	sh_line(afpr, sizeof(afpr), "gpg --with-colons --list-keys "
	    "alice@example.org | awk -F: '/^fpr/{print $10; exit}'");
	sh(GPG "--export %s > %s/alice_old.pgp", afpr, tmp);
	sh(GPG "--quick-add-uid %s 'Alice Work <alice@work.example>'", afpr);
	sh(GPG "--quick-add-uid %s 'Alice Old <alice@old.example>'", afpr);
	sh(GPG "--quick-revoke-uid %s 'Alice Old <alice@old.example>'", afpr);
	sh(GPG "--quick-gen-key 'Bob <bob@example.net>' future-default "
	    "default never");
	sh_line(bfpr, sizeof(bfpr), "gpg --with-colons --list-keys "
	    "bob@example.net | awk -F: '/^fpr/{print $10; exit}'");
	sh(GPG "-u %s --quick-sign-key %s >/dev/null", bfpr, afpr);
	sh(GPG "--quick-add-key %s cv25519 encr never", afpr);
	sh(GPG "--export %s > %s/alice.pgp", afpr, tmp);
	sh(GPG "--armor --export %s > %s/alice.asc", afpr, tmp);
	sh(GPG "--armor --export %s > %s/bob.asc", bfpr, tmp);
	sh(GPG "--export %s %s > %s/both.pgp", afpr, bfpr, tmp);
	sh("cat %s/alice.asc %s/bob.asc > %s/both.asc", tmp, tmp, tmp);
	sh(GPG "--armor --export-secret-keys %s > %s/alice_sec.asc", afpr,
	    tmp);
	sh("sed 's/^:-----/-----/' %s/openpgp-revocs.d/%s.rev > %s/bob.rev",
	    gh, bfpr, tmp);
	sh(GPG "--import %s/bob.rev", tmp);
	sh(GPG "--export %s > %s/bob_revoked.pgp", bfpr, tmp);
	sh(GPG "--faked-system-time 20200101T000000! --quick-gen-key "
	    "'Dave <dave@example.org>' future-default default 1d 2>/dev/null");
	sh(GPG "--export dave@example.org > %s/dave.pgp", tmp);
	return strlen(afpr) == FPR_LEN && strlen(bfpr) == FPR_LEN ?
	    0 : -1;
}

/* Parsing gpg's armored and binary exports of alice. */
static void
t_parse(void)
{
	struct pgp_cert *a = NULL, *b = NULL;
	struct err e;
	size_t na = 0, nb = 0;
	int i;

	ok(parse_file("alice.asc", &lim, &a, &na, &e) == 0 && na == 1,
	    "armored alice parses (%s)", e.msg);
	ok(parse_file("alice.pgp", &lim, &b, &nb, &e) == 0 && nb == 1,
	    "binary alice parses (%s)", e.msg);
	if (na != 1 || nb != 1)
		goto out;
	is_str(a->fpr, afpr, "armored fpr");
	is_str(b->fpr, afpr, "binary fpr");
	is_str(a->keyid, afpr + 24, "keyid is the fpr's tail");
	ok(a->full_len == b->full_len &&
	    memcmp(a->full, b->full, a->full_len) == 0, "same full form");
	ok(a->algo == 22 && a->bits == 255, "EdDSA 255 (%d %u)", a->algo,
	    a->bits);
	ok(a->created > 1600000000 && a->expires == 0 && !a->revoked,
	    "created, no expiry, not revoked");
	ok(a->nsubs == 2 && strlen(a->subs[1].fpr) == FPR_LEN &&
	    strlen(a->subs[1].keyid) == KEYID_LEN, "two subkeys");
	ok(a->nuids == 3, "three user IDs (%zu)", a->nuids);
	i = uid_find(a, "alice@example.org");
	ok(i >= 0 && !a->uids[i].revoked && a->uids[i].created >= a->created,
	    "alice@example.org valid");
	if (i >= 0)
		is_str(a->uids[i].text, "Alice <alice@example.org>", "uid text");
	i = uid_find(a, "alice@old.example");
	ok(i >= 0 && a->uids[i].revoked, "alice@old.example revoked");
out:
	pgp_certs_free(a, na);
	pgp_certs_free(b, nb);
}

/* Each refusal with its message. */
static void
t_refuse(void)
{
	static const char *const garbage[] = { "", "hello world\n",
	    "\x80\x01\x02", "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nzz!\n" };
	struct pgp_limits small = lim;
	struct pgp_cert *c;
	struct err e;
	size_t n, i;

	ok(parse_file("alice_sec.asc", &lim, &c, &n, &e) == -1 &&
	    e.code == ERR_INVALID, "secret key refused");
	is_str(e.msg, "Whoops, please don't upload secret keys!", "secret msg");
	for (i = 0; i < sizeof(garbage) / sizeof(garbage[0]); i++) {
		err_clear(&e);
		ok(pgp_parse((const uint8_t *)garbage[i], strlen(garbage[i]),
		    &lim, &c, &n, &e) == -1 && c == NULL && n == 0,
		    "garbage %zu refused", i);
		is_str(e.msg, "Parsing of key data failed.", "garbage msg");
	}
	ok(parse_file("bob.rev", &lim, &c, &n, &e) == -1, "bare rev refused");
	is_str(e.msg, "No key uploaded.", "bare revocation: no key");
	small.max_uids = 1;
	ok(parse_file("alice.pgp", &small, &c, &n, &e) == -1 &&
	    e.code == ERR_TOOBIG, "too many uids refused");
	is_str(e.msg, "too many user IDs (3, at most 1)", "uid limit msg");
	small = lim;
	small.max_subkeys = 1;
	ok(parse_file("alice.asc", &small, &c, &n, &e) == -1 &&
	    e.code == ERR_TOOBIG, "too many subkeys refused");
	is_str(e.msg, "too many subkeys (2, at most 1)", "subkey limit msg");
	small = lim;
	small.max_certs = 1;
	ok(parse_file("both.asc", &small, &c, &n, &e) == -1 &&
	    e.code == ERR_TOOBIG, "too many certs refused (%s)", e.msg);
}

/* Several certs in one upload, binary and concatenated armor. */
static void
t_multi(void)
{
	struct pgp_cert *c;
	struct err e;
	size_t n;

	ok(parse_file("both.pgp", &lim, &c, &n, &e) == 0 && n == 2,
	    "binary alice+bob gives 2 (%s)", e.msg);
	pgp_certs_free(c, n);
	ok(parse_file("both.asc", &lim, &c, &n, &e) == 0 && n == 2,
	    "two armor blocks give 2 (%s)", e.msg);
	if (n == 2) {
		is_str(c[0].fpr, afpr, "first is alice");
		is_str(c[1].fpr, bfpr, "second is bob");
	}
	pgp_certs_free(c, n);
}

/* The full form has no third-party certification; gpg agrees. */
static void
t_full(void)
{
	struct pgp_cert *c;
	struct err e;
	size_t n;
	int imp, nuid, bad;

	imp = gpg_check("alice.pgp", afpr + 24, &nuid, &bad);
	ok(imp == 1 && bad > 0, "gpg's export has bob's certifications (%d)",
	    bad);
	if (parse_file("alice.pgp", &lim, &c, &n, &e) == -1)
		return;
	spill("alice_full.pgp", c->full, c->full_len);
	imp = gpg_check("alice_full.pgp", c->keyid, &nuid, &bad);
	ok(imp == 1, "gpg imports the full form");
	ok(bad == 0 && nuid == 3, "full: 3 uids, only good self-sigs (%d %d)",
	    nuid, bad);
	pgp_certs_free(c, n);
}

/* Publish with emails[0..n) from alice's full form; re-parsed into pub. */
static int
publish(const struct pgp_cert *full, const char *const *emails, size_t n,
    const char *file, struct pgp_cert *pub)
{
	struct buf out;
	struct err e;
	int rc;

	buf_init(&out, 1 << 20);
	memset(pub, 0, sizeof(*pub));
	rc = pgp_publish(full->full, full->full_len, emails, n, &out, &e);
	if (rc == 0) {
		rc = strncmp(out.data, "-----BEGIN PGP PUBLIC KEY BLOCK-----",
		    36) == 0 ? 0 : -1;
		if (file)
			spill(file, out.data, out.len);
		if (rc == 0)
			rc = parse_one(out.data, out.len, pub);
	} else
		printf("# publish: %s\n", e.msg);
	buf_release(&out);
	return rc;
}

/* The published form keeps only listed, unrevoked user IDs. */
static void
t_publish(void)
{
	static const char *const one[] = { "Alice@Example.ORG" };
	static const char *const old[] = { "alice@old.example",
	    "alice@example.org" };
	struct pgp_cert *c, p;
	struct err e;
	size_t n;
	int imp, nuid, bad;

	if (parse_file("alice.asc", &lim, &c, &n, &e) == -1)
		return;
	ok(publish(c, one, 1, "alice_pub.asc", &p) == 0 && p.nuids == 1 &&
	    uid_find(&p, "alice@example.org") == 0 && p.nsubs == 2,
	    "one email: one uid, both subkeys");
	is_str(p.fpr, afpr, "published fpr");
	pgp_cert_release(&p);
	imp = gpg_check("alice_pub.asc", c->keyid, &nuid, &bad);
	ok(imp == 1 && nuid == 1 && bad == 0,
	    "gpg: 1 uid, only good self-sigs (%d %d)", nuid, bad);
	ok(publish(c, NULL, 0, NULL, &p) == 0 && p.nuids == 0 &&
	    p.nsubs == 2, "no email: no uid, still exports");
	pgp_cert_release(&p);
	ok(publish(c, old, 2, NULL, &p) == 0 && p.nuids == 1 &&
	    uid_find(&p, "alice@example.org") == 0,
	    "revoked uid not published");
	pgp_cert_release(&p);
	pgp_certs_free(c, n);
}

/* Merging an old export with a newer one; refusing a different key. */
static void
t_merge(void)
{
	struct pgp_cert *old, *cur, m;
	struct err e;
	size_t no, nc;
	uint8_t *rev;
	size_t rlen = 0;

	if (parse_file("alice_old.pgp", &lim, &old, &no, &e) == -1 ||
	    parse_file("alice.pgp", &lim, &cur, &nc, &e) == -1) {
		ok(0, "parse for merge (%s)", e.msg);
		return;
	}
	ok(old->nsubs == 1 && old->nuids == 1, "old export: 1 subkey, 1 uid");
	ok(pgp_merge(old->full, old->full_len, cur->full, cur->full_len, &lim,
	    &m, &e) == 0 && m.nsubs == 2 && m.nuids == 3,
	    "merge takes the new subkey and uids (%s)", e.msg);
	is_str(m.fpr, afpr, "merged fpr");
	pgp_cert_release(&m);
	pgp_certs_free(cur, nc);
	parse_file("both.pgp", &lim, &cur, &nc, &e);
	ok(nc == 2 && pgp_merge(old->full, old->full_len, cur[1].full,
	    cur[1].full_len, &lim, &m, &e) == -1 && e.code == ERR_INVALID,
	    "merge with bob refused");
	is_str(e.msg, "not the same key", "different key msg");
	rev = slurp("bob.rev", &rlen);
	ok(nc == 2 && rev && pgp_merge(cur[1].full, cur[1].full_len, rev,
	    rlen, &lim, &m, &e) == 0 && m.revoked,
	    "bare revocation merged: bob revoked");
	pgp_cert_release(&m);
	free(rev);
	pgp_certs_free(cur, nc);
	pgp_certs_free(old, no);
}

/* A revoked subkey survives publishing, revoked. */
static void
t_subrev(void)
{
	static const char *const one[] = { "alice@example.org" };
	struct pgp_cert *c, p;
	struct err e;
	size_t n;
	int imp, nuid, bad;
	char line[16];

	sh("printf 'key 1\\nrevkey\\ny\\n0\\n\\ny\\nsave\\n' | " GPG
	    "--command-fd 0 --edit-key %s >/dev/null 2>&1", afpr);
	sh(GPG "--export %s > %s/alice_subrev.pgp", afpr, tmp);
	if (parse_file("alice_subrev.pgp", &lim, &c, &n, &e) == -1) {
		ok(0, "alice with a revoked subkey parses (%s)", e.msg);
		return;
	}
	ok(publish(c, one, 1, "alice_subrev.asc", &p) == 0 && p.nsubs == 2,
	    "revoked subkey kept");
	pgp_cert_release(&p);
	imp = gpg_check("alice_subrev.asc", c->keyid, &nuid, &bad);
	sh_line(line, sizeof(line), "gpg --homedir %s/h%d --with-colons "
	    "--list-keys 2>/dev/null | grep -c '^sub:r:'", tmp, nhomes - 1);
	ok(imp == 1 && bad == 0 && strcmp(line, "1") == 0,
	    "gpg sees one revoked subkey, only good sigs (%s)", line);
	pgp_certs_free(c, n);
}

/* A revoked key stays revoked through publishing. */
static void
t_revoked(void)
{
	struct pgp_cert *c, p;
	struct err e;
	size_t n;
	int imp, nuid, bad;

	if (parse_file("bob_revoked.pgp", &lim, &c, &n, &e) == -1) {
		ok(0, "revoked bob parses (%s)", e.msg);
		return;
	}
	ok(c->revoked && c->nuids == 1, "bob revoked, uid kept in full");
	ok(publish(c, NULL, 0, "bob_pub.asc", &p) == 0 && p.revoked,
	    "published bob still revoked");
	pgp_cert_release(&p);
	imp = gpg_check("bob_pub.asc", c->keyid, &nuid, &bad);
	ok(imp >= 0 && bad == 0, "no bad sigs on revoked bob (%d)", bad);
	pgp_certs_free(c, n);
	t_subrev();
	if (parse_file("dave.pgp", &lim, &c, &n, &e) == -1) {
		ok(0, "expired dave parses (%s)", e.msg);
		return;
	}
	ok(c->expires == c->created + 86400 && c->nuids == 1,
	    "expired dave: expiry and uid kept (%lld %zu)",
	    (long long)(c->expires - c->created), c->nuids);
	pgp_certs_free(c, n);
}

/* A cert made by sq, if sq is installed. */
static void
t_sq(void)
{
	static const char *const carol[] = { "carol@example.org" };
	struct pgp_cert *c, p;
	struct err e;
	size_t n;

	if (sh("sq --version >/dev/null 2>&1") != 0) {
		printf("# sq not installed, skipped\n");
		return;
	}
	sh("sq key generate --userid '<carol@example.org>' --export "
	    "%s/carol.key 2>/dev/null", tmp);
	sh("sq key extract-cert %s/carol.key > %s/carol.asc", tmp, tmp);
	ok(parse_file("carol.key", &lim, &c, &n, &e) == -1 &&
	    strcmp(e.msg, "Whoops, please don't upload secret keys!") == 0,
	    "sq secret key refused");
	ok(parse_file("carol.asc", &lim, &c, &n, &e) == 0 && n == 1 &&
	    c->nuids == 1 && uid_find(c, "carol@example.org") == 0 &&
	    c->nsubs == 3, "sq cert parses (%s)", e.msg);
	if (n != 1)
		return;
	ok(publish(c, carol, 1, NULL, &p) == 0 && p.nuids == 1,
	    "sq cert publishes");
	pgp_cert_release(&p);
	pgp_certs_free(c, n);
	/* bob's subkey with bob's binding, glued onto alice */
	sh("mkdir %s/sp && sq packet split --prefix %s/sp/b- %s/bob.asc "
	    "2>/dev/null && cat %s/alice.pgp %s/sp/b-3--PublicSubkey "
	    "%s/sp/b-4--Signature > %s/hijack.pgp", tmp, tmp, tmp, tmp, tmp,
	    tmp, tmp);
	ok(parse_file("hijack.pgp", &lim, &c, &n, &e) == 0 && n == 1 &&
	    c->nsubs == 2, "a subkey without a valid binding is dropped");
	if (n == 1)
		spill("hijack_full.pgp", c->full, c->full_len);
	pgp_certs_free(c, n);
	ok(parse_file("hijack_full.pgp", &lim, &c, &n, &e) == 0 && n == 1 &&
	    c->nsubs == 2, "and is not in the full form");
	pgp_certs_free(c, n);
}

#define CRAFT "PYTHONDONTWRITEBYTECODE=1 /usr/bin/python3 " \
    "tests/e2e/pgpcraft.py "

/* Whether c has a subkey fpr and, if so, its backsig flag into *bs. */
static bool
sub_find(const struct pgp_cert *c, const char *fpr, bool *bs)
{
	size_t i;

	for (i = 0; i < c->nsubs; i++)
		if (!strcmp(c->subs[i].fpr, fpr)) {
			*bs = c->subs[i].backsig;
			return true;
		}
	return false;
}

/*
 * Crafted certs (tests/e2e/pgpcraft.py): v3 keys are refused, a subkey
 * counts as back-signed only with a valid back-signature on a binding
 * with the sign flag, and a revoked key's tombstone is its primary key
 * and revocation only.
 */
static void
t_crafted(void)
{
	static const char *const specs[] = { "none:no", "01:no", "02:no",
	    "02:bad", "0c:no", "02:yes" };
	struct pgp_cert *c, t;
	struct err e;
	char cfpr[FPR_LEN + 1];
	size_t n, i;
	bool bs;

	if (sh(CRAFT "v3 --keyid 0123456789ABCDEF > %s/v3.asc", tmp) != 0) {
		ok(0, "pgpcraft.py runs (python3-cryptography)");
		return;
	}
	ok(parse_file("v3.asc", &lim, &c, &n, &e) == -1 &&
	    e.code == ERR_INVALID, "a v3 key is refused");
	is_str(e.msg, "v3 (PGP 2) keys are not accepted: only OpenPGP v4 "
	    "keys are", "... saying so");
	sh_line(cfpr, sizeof(cfpr), CRAFT "fpr --seed carol");
	for (i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
		sh(CRAFT "cert --seed mal --uid 'Mal <mal@example.org>' "
		    "--sub carol:%s > %s/mal.asc", specs[i], tmp);
		bs = false;
		ok(parse_file("mal.asc", &lim, &c, &n, &e) == 0 && n == 1 &&
		    (!sub_find(c, cfpr, &bs) || bs == (i == 5)),
		    "Carol's primary bound as Mal's subkey, %s: %s", specs[i],
		    i == 5 ? "back-signed" : "not back-signed");
		pgp_certs_free(c, n);
	}
	sh(CRAFT "cert --seed rev --uid 'Rev <rev@example.org>' --sub "
	    "revsub:02:yes --revoked > %s/rev.asc", tmp);
	ok(parse_file("rev.asc", &lim, &c, &n, &e) == 0 && n == 1 &&
	    c->revoked && c->nuids == 1 && c->nsubs == 1, "a revoked key");
	if (n != 1)
		return;
	ok(pgp_tombstone(c->full, c->full_len, &t, &e) == 0 && t.revoked &&
	    t.nuids == 0 && t.nsubs == 0 && !strcmp(t.fpr, c->fpr),
	    "its tombstone: the primary, revoked, no user ID, no subkey");
	spill("tomb.pgp", t.full, t.full_len);
	pgp_cert_release(&t);
	pgp_certs_free(c, n);
	ok(parse_file("tomb.pgp", &lim, &c, &n, &e) == 0 && n == 1 &&
	    c->revoked, "the tombstone parses again, revoked");
	pgp_certs_free(c, n);
	sh(CRAFT "cert --seed live --uid 'Live <live@example.org>' > "
	    "%s/live.asc", tmp);
	ok(parse_file("live.asc", &lim, &c, &n, &e) == 0 && n == 1 &&
	    pgp_tombstone(c->full, c->full_len, &t, &e) == -1 &&
	    !strcmp(e.msg, "the key is not revoked"),
	    "a live key has no tombstone");
	pgp_certs_free(c, n);
}

/* A key cannot grow past the limits by uploads each within them. */
static void
t_cost_merge(void)
{
	struct pgp_cert *c, m;
	struct err e;
	uint8_t *b;
	size_t n, blen;

	sh(CRAFT "flood --valid --sigs 600 > %s/g1.asc", tmp);
	sh(CRAFT "flood --valid --sigs 600 --created 1700001000 > %s/g2.asc",
	    tmp);
	sh(CRAFT "flood --valid --sigs 300 --created 1700002000 > %s/g3.asc",
	    tmp);
	if (parse_file("g1.asc", &lim, &c, &n, &e) == -1 || n != 1) {
		ok(0, "600 good self-signatures parse: %s", e.msg);
		return;
	}
	ok(c->nuids == 1, "600 good self-signatures on one user ID: taken");
	b = slurp("g3.asc", &blen);
	ok(b && pgp_merge(c->full, c->full_len, b, blen, &lim, &m, &e) == 0,
	    "300 more merged in: 900 within 1000");
	free(b);
	pgp_cert_release(&m);
	b = slurp("g2.asc", &blen);
	ok(b && pgp_merge(c->full, c->full_len, b, blen, &lim, &m, &e) == -1 &&
	    e.code == ERR_TOOBIG && strstr(e.msg, "with what the directory "
	    "holds of this key"), "600 more (1200 in all): refused: %s",
	    e.msg);
	free(b);
	pgp_certs_free(c, n);
}

/*
 * What a verifier's work may cost, refused on the raw packets before
 * librnp verifies anything (docs/RELIABILITY.md): the numbers of the key
 * and the self-signatures' checks and hashed bytes.
 */
static void
t_cost(void)
{
	struct pgp_limits l = lim;
	struct pgp_cert *c;
	struct err e;
	size_t n;

	sh(CRAFT "flood --bits 2048 --ebits 33 > %s/fe.asc", tmp);
	ok(parse_file("fe.asc", &lim, &c, &n, &e) == -1 &&
	    e.code == ERR_INVALID && strstr(e.msg, "exponent of 33 bits"),
	    "an RSA exponent of 33 bits is refused: %s", e.msg);
	sh(CRAFT "flood --bits 2048 --ebits 32 > %s/fe32.asc", tmp);
	ok(parse_file("fe32.asc", &lim, &c, &n, &e) == 0,
	    "... one of 32 bits is not");
	pgp_certs_free(c, n);
	sh(CRAFT "flood --bits 8200 > %s/fn.asc", tmp);
	ok(parse_file("fn.asc", &lim, &c, &n, &e) == -1 &&
	    e.code == ERR_TOOBIG && strstr(e.msg, "RSA key of 8200 bits"),
	    "an RSA modulus over max_key_bits is refused: %s", e.msg);
	l.max_key_bits = 0;
	ok(parse_file("fn.asc", &l, &c, &n, &e) == 0,
	    "... taken with max_key_bits 0 (no limit)");
	pgp_certs_free(c, n);

	/* a 2048-bit check is 1, an 8192-bit one 12: 83 fit in 1000 */
	sh(CRAFT "flood --bits 8192 --uids 1 --sigs 83 > %s/f83.asc", tmp);
	sh(CRAFT "flood --bits 8192 --uids 1 --sigs 84 > %s/f84.asc", tmp);
	ok(parse_file("f83.asc", &lim, &c, &n, &e) == 0 && n == 1 &&
	    c->nuids == 0, "83 garbage self-signatures by an 8192-bit key: "
	    "checked (and none is good)");
	pgp_certs_free(c, n);
	ok(parse_file("f84.asc", &lim, &c, &n, &e) == -1 &&
	    e.code == ERR_TOOBIG && strstr(e.msg, "more to check than 1000"),
	    "84: refused before any is checked: %s", e.msg);
	sh(CRAFT "flood --bits 2048 --uids 4 --sigs 250 > %s/f1000.asc", tmp);
	sh(CRAFT "flood --bits 2048 --uids 1 --sigs 1001 > %s/f1001.asc",
	    tmp);
	ok(parse_file("f1000.asc", &lim, &c, &n, &e) == 0,
	    "1000 self-signatures by a 2048-bit key over 4 user IDs: checked");
	pgp_certs_free(c, n);
	ok(parse_file("f1001.asc", &lim, &c, &n, &e) == -1 &&
	    e.code == ERR_TOOBIG, "1001: refused");
	l = lim;
	l.stored = true;
	ok(parse_file("f1001.asc", &l, &c, &n, &e) == 0,
	    "... but not in a stored form, which passed when it came");
	pgp_certs_free(c, n);
	/* a third party's certifications cost nothing: never checked */
	ok(parse_file("alice.pgp", &lim, &c, &n, &e) == 0,
	    "Alice's key with Bob's certification parses");
	pgp_certs_free(c, n);
	/* her self-signatures: 3 user IDs, 1 user ID revocation, 2 subkey
	 * bindings; Bob's certification is not hers */
	l = lim;
	l.max_sig_checks = 6;
	ok(parse_file("alice.pgp", &l, &c, &n, &e) == 0,
	    "... within a budget of 6: her 6 self-signatures count, not "
	    "Bob's certification");
	pgp_certs_free(c, n);
	l.max_sig_checks = 5;
	ok(parse_file("alice.pgp", &l, &c, &n, &e) == -1 &&
	    e.code == ERR_TOOBIG, "... and not within 5");

	/* revocations are checked whoever they name as issuer, or none */
	sh(CRAFT "flood --bits 8192 --sigs 84 --sig-type 30 --no-issuer > "
	    "%s/frv.asc", tmp);
	ok(parse_file("frv.asc", &lim, &c, &n, &e) == -1 &&
	    e.code == ERR_TOOBIG, "84 user ID revocations by an 8192-bit key "
	    "that name no issuer: counted, refused");
	sh(CRAFT "flood --bits 8192 --sigs 84 --sig-type 20 --no-issuer > "
	    "%s/frk.asc", tmp);
	ok(parse_file("frk.asc", &lim, &c, &n, &e) == -1 &&
	    e.code == ERR_TOOBIG, "... key revocations too");
	t_cost_merge();

	/* each self-signature hashes its user ID: 300 x 200 kB is 60 MB */
	sh(CRAFT "flood --bits 2048 --sigs 300 --uid-len 200000 > "
	    "%s/fh.asc", tmp);
	sh(CRAFT "flood --bits 2048 --sigs 400 --uid-len 200000 > "
	    "%s/fh2.asc", tmp);
	ok(parse_file("fh.asc", &lim, &c, &n, &e) == 0,
	    "300 self-signatures over a 200 kB user ID: checked");
	pgp_certs_free(c, n);
	ok(parse_file("fh2.asc", &lim, &c, &n, &e) == -1 &&
	    e.code == ERR_TOOBIG && strstr(e.msg, "64 MiB"),
	    "400 (80 MB to hash): refused: %s", e.msg);
}

int
main(void)
{
	ok(setup() == 0, "gpg made the test keys in %s", tmp);
	if (tap_n == tap_fail)
		goto out;
	t_parse();
	t_refuse();
	t_multi();
	t_full();
	t_publish();
	t_merge();
	t_revoked();
	t_sq();
	t_crafted();
	t_cost();
out:
	sh("gpgconf --kill all");
	sh("rm -rf %s", tmp);
	return tap_done();
}
