/*
 * keydir: the client of a keydir directory.  Lookups that fetch only
 * what the keyring lacks, signed submissions, signed removals; on the
 * user's own GnuPG keyring.  See keydir(1).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <sodium.h>

#include "client.h"
#include "removal.h"
#include "str.h"
#include "xmalloc.h"

static const char usage_text[] =
    "usage: keydir [--server URL] COMMAND [OPTIONS] [ARGS]\n"
    "\n"
    "  lookup ADDRESS...         find the key of each address; fetch it\n"
    "                            only if your keyring lacks it or an\n"
    "                            older version (--dry-run: only say)\n"
    "  refresh                   the same for every address in your\n"
    "                            keyring, in one request\n"
    "  publish KEY [--address A]...\n"
    "                            send KEY, signed by itself and encrypted\n"
    "                            to the directory; each address gets a\n"
    "                            confirmation mail\n"
    "  remove KEY [--address A]...\n"
    "                            remove the addresses (all without\n"
    "                            --address), by a request KEY signs\n"
    "  recovery create KEY [--answers FILE] [--with-code]\n"
    "                            seal KEY's secret key under five\n"
    "                            questions (any three answers open it)\n"
    "                            and a recovery code; send it\n"
    "  recovery restore ADDRESS [--answers FILE | --code CODE]\n"
    "                           [--link URL]\n"
    "                            get the sealed key back through a link\n"
    "                            mailed to ADDRESS; import it\n"
    "\n"
    "The server: --server URL, else $KEYDIR_SERVER, else the line\n"
    "'server = URL' in ~/.config/keydir/config.\n"
    "Exit status: 0 done, 1 refused or failed, 2 a usage mistake,\n"
    "3 an address is not in the directory.  man keydir for more.\n";

/* keydir COMMAND --help */
static const struct {
	const char *cmd, *text;
} command_help[] = {
	{ "lookup", "usage: keydir lookup [--dry-run] ADDRESS...\n\n"
	    "Ask the directory for the key of each address.  It answers the\n"
	    "key's fingerprint and when it last changed; the key is fetched\n"
	    "and imported only if your keyring lacks it or has an older\n"
	    "version.  --dry-run only says what would be fetched.\n"
	    "Exit status 3 when an address is not in the directory.\n" },
	{ "refresh", "usage: keydir refresh [--dry-run]\n\n"
	    "lookup for every address in your keyring, in one request; then\n"
	    "how many keys were unchanged, updated, new, and how many\n"
	    "addresses are not in the directory.\n" },
	{ "publish", "usage: keydir publish [--address A]... "
	    "[--accept-new-server-key] KEY\n\n"
	    "Send KEY, signed by itself and encrypted to the directory's key\n"
	    "(pinned on first use).  A confirmation mail goes to each address\n"
	    "of KEY, or to those given; an address is published when its\n"
	    "owner opens the link.\n" },
	{ "remove", "usage: keydir remove [--address A]... KEY\n\n"
	    "Remove the addresses given, or the whole key, by a request KEY's\n"
	    "primary key signs.\n" },
	{ "recovery", "usage: keydir recovery create [--answers FILE] "
	    "[--with-code] KEY\n"
	    "       keydir recovery restore [--answers FILE | --code CODE]\n"
	    "                               [--link URL] ADDRESS\n\n"
	    "create seals KEY's secret key under five questions (any three\n"
	    "answers open it) and, with --with-code, a recovery code shown\n"
	    "once, and sends it to the directory in a signed submission.\n"
	    "FILE: five lines QUESTION<TAB>ANSWER.  restore gets it back\n"
	    "through a link the directory mails to ADDRESS and imports it.\n" },
};

/* Print cmd's help, or the whole usage. */
static int
help(const char *cmd)
{
	size_t i;

	for (i = 0; cmd && i < sizeof(command_help) / sizeof(command_help[0]);
	    i++)
		if (!strcmp(cmd, command_help[i].cmd)) {
			fputs(command_help[i].text, stdout);
			return KD_OK;
		}
	fputs(usage_text, stdout);
	return KD_OK;
}

static int
usage_error(const char *what, const char *arg)
{
	fprintf(stderr, "keydir: %s%s%s\nTry 'keydir --help'.\n", what,
	    arg ? " " : "", arg ? arg : "");
	return KD_USAGE;
}

/* The server from --server, $KEYDIR_SERVER or the config file. */
static int
find_server(struct kd *k, const char *opt)
{
	const char *v = opt ? opt : getenv("KEYDIR_SERVER"), *home;
	char path[1024], line[1024], *p;
	FILE *fp;
	size_t n;

	k->server[0] = '\0';
	if (v != NULL)
		str_lcpy(k->server, v, sizeof(k->server));
	else if ((home = getenv("XDG_CONFIG_HOME")) != NULL || (home =
	    getenv("HOME")) != NULL) {
		snprintf(path, sizeof(path), getenv("XDG_CONFIG_HOME") ?
		    "%s/keydir/config" : "%s/.config/keydir/config", home);
		if ((fp = fopen(path, "r")) != NULL) {
			while (fgets(line, sizeof(line), fp) != NULL)
				if (sscanf(line, " server = %1023s", path) == 1)
					str_lcpy(k->server, path,
					    sizeof(k->server));
			fclose(fp);
		}
	}
	if (k->server[0] == '\0')
		return usage_error("no server: give --server URL or set "
		    "KEYDIR_SERVER", NULL);
	if (strncmp(k->server, "http://", 7) && strncmp(k->server,
	    "https://", 8))
		return usage_error("the server must be an http:// or https:// "
		    "URL:", k->server);
	n = strlen(k->server);
	while (n > 0 && k->server[n - 1] == '/')
		k->server[--n] = '\0';
	if ((p = strchr(k->server + 8, '/')) != NULL)
		*p = '\0';	/* the directory lives at the root */
	if (removal_authority(k->server, k->authority,
	    sizeof(k->authority)) == -1)
		return usage_error("no host in", k->server);
	return KD_OK;
}

/* What the options say. */
struct opts {
	struct kd k;
	const char *server, *answers, *code, *link;
	bool with_code;
	char **addrs;
	size_t naddrs;
};

/*
 * Read options up to the first operand (getopt's "+"): before the
 * command (cmd NULL) or after it.  -1 to go on, else the exit status
 * (help, version, a usage mistake).
 */
static int
read_opts(int argc, char **argv, const struct option *opts, struct opts *o,
    const char *cmd)
{
	int ch;

	while ((ch = getopt_long(argc, argv, "+:", opts, NULL)) != -1)
		switch (ch) {
		case 's':
			o->server = optarg;
			break;
		case 'a':
			o->addrs = xrealloc(o->addrs, (o->naddrs + 1) *
			    sizeof(*o->addrs));
			o->addrs[o->naddrs++] = optarg;
			break;
		case 'n':
			o->k.dry_run = true;
			break;
		case 'A':
			o->k.accept_new_server_key = true;
			break;
		case 'F':
			o->answers = optarg;
			break;
		case 'W':
			o->with_code = true;
			break;
		case 'C':
			o->code = optarg;
			break;
		case 'L':
			o->link = optarg;
			break;
		case 'K':
			if (strcmp(optarg, "min") && strcmp(optarg, "moderate"))
				return usage_error("--kdf-limits is min or "
				    "moderate, not", optarg);
			o->k.kdf_min = !strcmp(optarg, "min");
			break;
		case 'h':
			return help(cmd);
		case 'V':
			printf("keydir %s\n", KEYDIR_VERSION);
			return KD_OK;
		default:
			return usage_error(ch == ':' ? "a value is missing "
			    "after" : "unknown option", argv[optind - 1]);
		}
	return -1;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "server", required_argument, NULL, 's' },
		{ "address", required_argument, NULL, 'a' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "accept-new-server-key", no_argument, NULL, 'A' },
		{ "answers", required_argument, NULL, 'F' },
		{ "with-code", no_argument, NULL, 'W' },
		{ "code", required_argument, NULL, 'C' },
		{ "link", required_argument, NULL, 'L' },
		{ "kdf-limits", required_argument, NULL, 'K' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	struct opts o;
	struct kd *kp;
	struct err e;
	const char *cmd = NULL, *sub = NULL;
	int rc;

	memset(&o, 0, sizeof(o));
	kp = &o.k;
	/* options before the command, then after it */
	if ((rc = read_opts(argc, argv, opts, &o, NULL)) != -1)
		return rc;
	if (optind >= argc)
		return usage_error("no command", NULL);
	cmd = argv[optind++];
	if (!strcmp(cmd, "recovery")) {
		if (optind < argc && !strcmp(argv[optind], "--help"))
			return help(cmd);
		if (optind >= argc || (strcmp(argv[optind], "create") &&
		    strcmp(argv[optind], "restore")))
			return usage_error("recovery wants create or restore",
			    NULL);
		sub = argv[optind++];
	}
	if ((rc = read_opts(argc, argv, opts, &o, cmd)) != -1)
		return rc;
	if (strcmp(cmd, "lookup") && strcmp(cmd, "refresh") &&
	    strcmp(cmd, "publish") && strcmp(cmd, "remove") &&
	    strcmp(cmd, "recovery"))
		return usage_error("unknown command", cmd);
	if (sub != NULL && optind + 1 != argc)
		return usage_error("recovery", !strcmp(sub, "create") ?
		    "create wants one KEY" : "restore wants one ADDRESS");
	if (sub != NULL && o.answers != NULL && o.code != NULL)
		return usage_error("give --answers or --code, not both", NULL);
	if (!strcmp(cmd, "lookup") && optind >= argc)
		return usage_error("lookup wants at least one address", NULL);
	if ((!strcmp(cmd, "publish") || !strcmp(cmd, "remove")) &&
	    optind + 1 != argc)
		return usage_error(cmd, "wants one KEY (a fingerprint, key id "
		    "or address of your secret key)");
	if (!strcmp(cmd, "refresh") && optind != argc)
		return usage_error("refresh takes no arguments", NULL);
	if ((rc = find_server(kp, o.server)) != KD_OK)
		return rc;
	if (sodium_init() < 0 || curl_global_init(CURL_GLOBAL_DEFAULT) != 0 ||
	    kd_gpg_init(&e) == -1) {
		fprintf(stderr, "keydir: %s\n", sodium_init() < 0 ?
		    "libsodium failed to start" : e.msg);
		return KD_FAIL;
	}
	if (!strcmp(cmd, "lookup"))
		rc = kd_lookup(kp, argv + optind, (size_t)(argc - optind));
	else if (!strcmp(cmd, "refresh"))
		rc = kd_refresh(kp);
	else if (!strcmp(cmd, "publish"))
		rc = kd_publish(kp, argv[optind], o.addrs, o.naddrs, NULL, 0);
	else if (sub != NULL && !strcmp(sub, "create"))
		rc = kd_recovery_create(kp, argv[optind], o.answers,
		    o.with_code);
	else if (sub != NULL)
		rc = kd_recovery_restore(kp, argv[optind], o.answers,
		    o.code, o.link);
	else
		rc = kd_remove(kp, argv[optind], o.addrs, o.naddrs);
	free(o.addrs);
	curl_global_cleanup();
	return rc;
}
