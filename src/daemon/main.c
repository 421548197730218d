/*
 * main: keydird's command line.  Fixed order: defaults, config file,
 * flags; then the listening socket, the switch from root (priv.h), the
 * data directory and its lock, the sandbox, the store, the mailer, the
 * server; then wait for SIGTERM or SIGINT and shut down in reverse.
 */
#include <errno.h>
#include <limits.h>
#include <getopt.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "admin.h"
#include "config.h"
#include "daemon.h"
#include "http.h"
#include "lockfile.h"
#include "log.h"
#include "mail.h"
#include "priv.h"
#include "receive.h"
#include "sandbox.h"
#include "scheduler.h"
#include "str.h"
#include "directory.h"
#include "store.h"
#include "xfer.h"

static const char usage_text[] =
    "usage: keydird serve [--config FILE] [--listen ADDR:PORT]\n"
    "                     [--data-dir DIR] [--base-url URL] [--smtp URL]\n"
    "                     [--mail-from ADDR] [--user NAME]\n"
    "                     [--set KEY=VALUE]...\n"
    "       keydird maintain [the same options] [--now RFC3339]\n"
    "       keydird export [the same options] > FILE\n"
    "       keydird import [the same options] [FILE | -]\n"
    "       keydird republish [the same options]\n"
    "       keydird rotate-key [the same options]\n"
    "       keydird state [the same options] [FPR | --keys | --outbox]\n"
    "       keydird receive [the same options] < MAIL\n"
    "       keydird wkd-export [the same options] DIR\n"
    "       keydird --help | --version\n"
    "\n"
    "keydird is a verifying OpenPGP key directory: it publishes an address\n"
    "for a key only after the owner of the address confirms by mail.\n"
    "\n"
    "  --config FILE      INI file with the keys below (flags override it)\n"
    "  --listen ADDR:PORT where to serve HTTP (listen; 127.0.0.1:8080)\n"
    "  --data-dir DIR     database and Maildir (data_dir; ./var)\n"
    "  --base-url URL     public URL used in links (base_url; without it,\n"
    "                     http://LISTEN, a wildcard address as loopback)\n"
    "  --smtp URL         smtp:// or smtps:// server (smtp_url); without\n"
    "                     it mail goes to DATA_DIR/mail, a Maildir\n"
    "  --mail-from ADDR   sender of every mail (mail_from)\n"
    "  --user NAME        as root, switch to the account NAME (user), which\n"
    "                     must own the data directory; root without it is\n"
    "                     refused\n"
    "  --set KEY=VALUE    any other setting: max_body, max_uids,\n"
    "                     max_subkeys, token_ttl, upload_ttl, mail_rate,\n"
    "                     mail_retry_min, mail_retry_max,\n"
    "                     one_address_per_key, threads, smtp_user,\n"
    "                     smtp_pass, smtp_starttls, database,\n"
    "                     reverify_interval, reverify_grace,\n"
    "                     unconfirmed_ttl, sent_mail_ttl, maintain_every,\n"
    "                     submission_address, server_key_ttl,\n"
    "                     server_key_grace, sandbox; the limits:\n"
    "                     max_certs, max_key_bits, max_sig_checks,\n"
    "                     upload_workers, upload_queue, rate_limits,\n"
    "                     rate_lookups, rate_uploads, rate_mails,\n"
    "                     trusted_proxies, proxy_header, max_client_conns,\n"
    "                     conn_timeout, request_timeout, header_timeout,\n"
    "                     max_mails_per_upload, mail_global_rate,\n"
    "                     max_unconfirmed_per_client,\n"
    "                     max_unconfirmed_bytes (README: Limits),\n"
    "                     wkd_domains (README: Web Key Directory)\n"
    "\n";

static const char usage_more[] =
    "keydird serve drops root once the port is bound; then (sandbox, on\n"
    "by default) Landlock keeps its files to the data directory and a\n"
    "seccomp filter refuses exec, ptrace, mounts and namespaces.\n"
    "\n"
    "keydird maintain runs one pass of the scheduled work that serve runs\n"
    "every maintain_every (re-verification, token expiry, clean-up) and\n"
    "delivers the mail it queued, as if at --now (default: now).\n"
    "\n"
    "keydird export writes every key with its confirmed addresses and\n"
    "their dates to stdout (docs/EXPORT.md); keydird import reads such a\n"
    "file (stdin without FILE or with -) into the data directory, empty or\n"
    "not, and prints what it stored.  Both may run while serve does.\n"
    "\n"
    "keydird republish computes every key's published form, key index\n"
    "and published addresses again by this keydird's rules (run it once\n"
    "after an upgrade that changed them); it may run while serve does.\n"
    "\n"
    "keydird receive takes one Web Key Service mail on stdin (an MTA's\n"
    "pipe): exit 0, 65 (EX_DATAERR: refused, why on stderr) or 75\n"
    "(EX_TEMPFAIL: try again later).\n"
    "\n"
    "keydird wkd-export writes the Web Key Directory of wkd_domains into\n"
    "DIR/DOMAIN/ (hu/, policy, submission-address) for a web server.\n"
    "\n"
    "keydird rotate-key makes a new server key; the old one still\n"
    "decrypts submissions for server_key_grace (30 days).  Restart serve\n"
    "to use the new one.\n"
    "\n"
    "keydird state prints what the data directory holds, as JSON, and\n"
    "changes nothing: its row counts; with FPR, that key with its key\n"
    "ids, addresses and tokens (exit 1 if there is none); with --keys,\n"
    "every key so (one a line); with --outbox, every outbox row without\n"
    "its message (one a line).  It may run while serve does.\n";

/*
 * A mistake on the command line: one line that names it and a hint,
 * rather than the whole usage with the mistake above it.  Returns -1.
 */
static int __attribute__((format(printf, 1, 2)))
usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("keydird: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry 'keydird --help'.\n", stderr);
	return -1;
}

/* The option getopt_long stopped at: '?' unknown, ':' without its value. */
static int
bad_option(int ch, char **argv)
{
	const char *opt = argv[optind - 1];

	if (ch == ':')
		return usage_error("option '%s' needs a value", opt);
	/* keydird has no short options; within "-xy" optind is still on
	 * the argument before */
	if (optopt != 0 && strncmp(opt, "--", 2) != 0)
		return usage_error("unknown option '-%c'", optopt);
	return usage_error("unknown option '%.*s'", (int)strcspn(opt, "="),
	    opt);
}

/*
 * Read the command line into c; --now (maintain only) into *now; with
 * file (import, state), at most one operand into *file; with view (state
 * only), what to show (--keys, --outbox, or the key in *file).  -1 after
 * a usage error is printed.
 */
static int
parse_args(int argc, char **argv, struct config *c, int64_t *now,
    const char **file, enum xfer_view *view)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "listen", required_argument, NULL, 'l' },
		{ "data-dir", required_argument, NULL, 'd' },
		{ "base-url", required_argument, NULL, 'b' },
		{ "smtp", required_argument, NULL, 's' },
		{ "mail-from", required_argument, NULL, 'f' },
		{ "user", required_argument, NULL, 'u' },
		{ "set", required_argument, NULL, 'S' },
		{ "now", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ "keys", no_argument, NULL, 'K' },
		{ "outbox", no_argument, NULL, 'O' },
		{ NULL, 0, NULL, 0 }
	};
	static const char *keys[128];
	struct err e;
	char *eq;
	int ch;

	keys['l'] = "listen";
	keys['d'] = "data_dir";
	keys['b'] = "base_url";
	keys['s'] = "smtp_url";
	keys['f'] = "mail_from";
	keys['u'] = "user";
	/* the config file first, wherever --config stands; ':' first in
	 * optstring: getopt_long prints nothing and tells '?' from ':' */
	for (optind = 1; (ch = getopt_long(argc, argv, ":", opts, NULL)) != -1;)
		if (ch == 'c' && config_load(c, optarg, &e) == -1)
			log_fatalx("%s", e.msg);
		else if (ch == '?' || ch == ':')
			return bad_option(ch, argv);
		else if (ch == 'h') {
			fputs(usage_text, stdout);
			fputs(usage_more, stdout);
			exit(0);
		}
	optind = 1;
	while ((ch = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		if (ch == 'c')
			continue;
		if (ch == 'n' && now == NULL)
			return usage_error("'--now' is for keydird maintain");
		if ((ch == 'K' || ch == 'O') && view == NULL)
			return usage_error("'%s' is for keydird state",
			    argv[optind - 1]);
		if (ch == 'K' || ch == 'O') {
			if (*view != XFER_VIEW_COUNTS)
				return usage_error("give one of FPR, --keys "
				    "and --outbox");
			*view = ch == 'K' ? XFER_VIEW_KEYS : XFER_VIEW_OUTBOX;
			continue;
		}
		if (ch == 'n') {
			if ((*now = str_rfc3339(optarg)) == -1)
				log_fatalx("--now wants an RFC 3339 UTC time, "
				    "like 2026-01-31T12:00:00Z");
			continue;
		}
		if (ch == 'S') {
			if ((eq = strchr(optarg, '=')) == NULL)
				log_fatalx("--set wants KEY=VALUE");
			*eq = '\0';
			if (config_set(c, optarg, eq + 1, &e) == -1)
				log_fatalx("%s", e.msg);
			*eq = '=';
		} else if (config_set(c, keys[ch], optarg, &e) == -1)
			log_fatalx("%s", e.msg);
	}
	if (file != NULL && optind + 1 == argc)
		*file = argv[optind++];
	if (view != NULL && file != NULL && *file != NULL) {
		if (*view != XFER_VIEW_COUNTS)
			return usage_error("give one of FPR, --keys and "
			    "--outbox");
		*view = XFER_VIEW_KEY;
	}
	if (optind < argc)
		return usage_error("unexpected argument '%s'", argv[optind]);
	if (config_finish(c, &e) == -1)
		log_fatalx("%s", e.msg);
	return 0;
}

/* The mailer's settings from the config. */
void
mail_config_of(const struct config *c, struct mail_config *mc,
    char *maildir, size_t sz)
{
	snprintf(maildir, sz, "%s/mail", c->data_dir);
	memset(mc, 0, sizeof(*mc));
	mc->smtp_url = c->smtp_url;
	mc->smtp_user = c->smtp_user;
	mc->smtp_pass = c->smtp_pass;
	mc->smtp_starttls = c->smtp_starttls;
	mc->mail_from = c->mail_from;
	mc->maildir = maildir;
	mc->retry_min = c->mail_retry_min;
	mc->retry_max = c->mail_retry_max;
	mc->rate_n = c->mail_global_rate.n;
	mc->rate_per = c->mail_global_rate.per;
}

/* Refuse root without --user, switch to it with (1 when it did); with
 * create, make the data directory (0700) if it is not there. */
static int
drop_root(const struct daemon *d, bool create)
{
	struct err e;
	int rc;

	if ((rc = priv_enter(d->cfg.user, d->cfg.data_dir, create, &e)) == -1)
		log_fatalx("%s", e.msg);
	if (create && mkdir(d->cfg.data_dir, 0700) == -1 && errno != EEXIST)
		log_fatal("cannot create data directory '%s'",
		    d->cfg.data_dir);
	return rc;
}

/* keydird serve */
static int
serve(struct daemon *d)
{
	struct mail_config mc;
	struct scheduler *sched;
	struct http *h;
	struct err e;
	char maildir[1100], keyfile[1100], node[PATH_MAX + 300];
	sigset_t set;
	int fd, dropped, sig = 0;

	/* first, so that a busy port or a data directory in use changes
	 * nothing; the lock is held until the process ends */
	if ((fd = http_listen(d->cfg.listen, &e)) == -1)
		log_fatalx("%s", e.msg);
	/* root was for the port only: every file is opened (and made) by
	 * the account that reopens it later, and in the sandbox, which
	 * comes before the first thread (one made before stays outside) */
	dropped = drop_root(d, true);
	if (lockfile_take(d->cfg.data_dir, &e) == -1)
		log_fatalx("%s", e.msg);
	if (dropped)
		log_info("running as '%s'", d->cfg.user);
	if (!d->cfg.sandbox)
		log_info("sandbox: off (sandbox = off)");
	else if (sandbox_serve(d->cfg.data_dir, store_file(d->cfg.database),
	    &e) == -1)
		log_fatalx("%s", e.msg);
	snprintf(keyfile, sizeof(keyfile), "%s/session.key", d->cfg.data_dir);
	if (dir_session_key(d, keyfile, &e) == -1)
		log_fatalx("%s", e.msg);
	if ((d->store = store_open(d->cfg.database, &e)) == NULL ||
	    store_serve_lookups(d->store, d->cfg.database_read,
	    d->cfg.lookup_cache, &e) == -1)
		log_fatalx("%s", e.msg);
	if (dir_server_key(d, time(NULL), &e) == -1)
		log_fatalx("%s", e.msg);
	mail_config_of(&d->cfg, &mc, maildir, sizeof(maildir));
	/* this node's name for its outbox leases: host and data directory,
	 * one serve each (the lock), however many share the database */
	{
		char host[256], dir[PATH_MAX];

		if (gethostname(host, sizeof(host)) == -1)
			str_lcpy(host, "localhost", sizeof(host));
		host[sizeof(host) - 1] = '\0';
		if (realpath(d->cfg.data_dir, dir) == NULL)
			str_lcpy(dir, d->cfg.data_dir, sizeof(dir));
		snprintf(node, sizeof(node), "%s:%s", host, dir);
		mc.node = node;
	}
	if ((d->mailer = mailer_new(d->store, &mc, MAILER_SERVE, &e)) == NULL)
		log_fatalx("%s", e.msg);
	/* threads inherit the mask: only this one takes the signals */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (mailer_start(d->mailer, &e) == -1)
		log_fatalx("%s", e.msg);
	if ((sched = scheduler_start(d, &e)) == NULL)
		log_fatalx("%s", e.msg);
	h = http_start(d, fd, d->cfg.threads, d->cfg.max_body, &e);
	if (h == NULL)
		log_fatalx("%s", e.msg);
	log_info("serving on http://%s (base url %s, mail %s)", d->cfg.listen,
	    d->cfg.base_url, d->cfg.smtp_url[0] ? d->cfg.smtp_url : maildir);
	sigwait(&set, &sig);
	log_info("signal %d: finishing requests in flight", sig);
	http_stop(h, 10);
	scheduler_stop(sched);
	mailer_free(d->mailer);
	store_close(d->store);
	dir_server_key_free(d);
	sodium_memzero(d->seal_key, sizeof(d->seal_key));
	log_info("stopped");
	return 0;
}

/* keydird maintain: one pass as if at now, then deliver what it queued. */
static int
maintain(struct daemon *d, int64_t now)
{
	struct mail_config mc;
	struct dir_maint m;
	struct err e;
	char maildir[1100];
	int sent, total = 0;

	if ((d->store = store_open(d->cfg.database, &e)) == NULL)
		log_fatalx("%s", e.msg);
	mail_config_of(&d->cfg, &mc, maildir, sizeof(maildir));
	if ((d->mailer = mailer_new(d->store, &mc, MAILER_MAINTAIN, &e)) ==
	    NULL)
		log_fatalx("%s", e.msg);
	if (dir_maintain(d, now, &m, &e) == -1)
		log_fatalx("maintenance: %s", e.msg);
	/* mail is sent as of the real clock: rows a running serve has
	 * leased stay its own */
	while ((sent = mailer_run_once(d->mailer, time(NULL), &e)) > 0)
		total += sent;
	if (sent == -1)
		log_warnx("mail outbox: %s", e.msg);
	printf("asked %zu, unpublished %zu, tokens deleted %zu, "
	    "unconfirmed keys deleted %zu, sent mails deleted %zu, "
	    "rate marks deleted %zu, mails sent %d\n", m.asked, m.expired,
	    m.tokens, m.certs, m.mails, m.rates, total);
	mailer_free(d->mailer);
	store_close(d->store);
	return sent == -1 ? 1 : 0;
}

/* keydird export: the whole directory to stdout. */
static int
export(struct daemon *d)
{
	struct stat sb;
	struct err e;

	/* a mistyped --data-dir must not make an empty backup */
	if (stat(d->cfg.data_dir, &sb) == -1)
		log_fatal("data directory '%s'", d->cfg.data_dir);
	if ((d->store = store_open(d->cfg.database, &e)) == NULL)
		log_fatalx("%s", e.msg);
	setvbuf(stdout, NULL, _IOFBF, 1 << 16);
	if (xfer_export(d, stdout, &e) == -1) {
		log_warnx("export failed: %s", e.msg);
		store_close(d->store);
		return 1;
	}
	store_close(d->store);
	return 0;
}

/* keydird import [FILE]: an export into the directory. */
static int
import(struct daemon *d, const char *file)
{
	struct xfer_report r;
	struct err e;
	FILE *in = stdin;
	int rc;

	if (file != NULL && strcmp(file, "-") != 0 &&
	    (in = fopen(file, "r")) == NULL)
		log_fatal("cannot open '%s'", file);
	drop_root(d, true);
	if ((d->store = store_open(d->cfg.database, &e)) == NULL)
		log_fatalx("%s", e.msg);
	rc = xfer_import(d, in, &r, &e);
	if (rc == -1) {
		log_warnx("import failed: %s", e.msg);
		log_warnx("%zu keys were stored before the error (in committed "
		    "batches); importing the file again after fixing it is "
		    "safe", r.committed);
	} else {
		printf("imported %zu keys, %zu addresses in %.1f s\n", r.keys,
		    r.addrs, r.seconds);
		if (r.merged > 0)
			log_info("%zu of the keys were already in the "
			    "directory and were merged", r.merged);
	}
	store_close(d->store);
	if (in != stdin)
		fclose(in);
	return rc == -1 ? 1 : 0;
}

/* Run the command cmd with the parsed options. */
static int
run(struct daemon *d, const char *cmd, int64_t now, const char *file,
    enum xfer_view view)
{
	/* serve binds its port first, import opens its file first */
	if (strcmp(cmd, "serve") != 0 && strcmp(cmd, "import") != 0)
		drop_root(d, !strcmp(cmd, "maintain"));
	if (!strcmp(cmd, "state"))
		return admin_state(d, view, file);
	if (!strcmp(cmd, "serve"))
		return serve(d);
	if (!strcmp(cmd, "maintain"))
		return maintain(d, now);
	if (!strcmp(cmd, "export"))
		return export(d);
	if (!strcmp(cmd, "rotate-key"))
		return admin_rotate_key(d);
	if (!strcmp(cmd, "republish"))
		return admin_republish(d);
	if (!strcmp(cmd, "receive"))
		return receive_mail(d);
	if (!strcmp(cmd, "wkd-export"))
		return admin_wkd_export(d, file);
	return import(d, file);
}

int
main(int argc, char **argv)
{
	static const char *const cmds[] = { "serve", "maintain", "export",
	    "import", "republish", "state", "rotate-key", "receive",
	    "wkd-export" };
	enum xfer_view view = XFER_VIEW_COUNTS;
	struct daemon d;
	const char *file = NULL;
	int64_t now;
	size_t i;

	/*
	 * Keep freed memory in the process: by default glibc hands the top
	 * of each thread's heap back with madvise() as soon as it is free,
	 * and each of those flushes the TLB of every core (an interrupt to
	 * the other CPU).  Uploads allocate and free a few hundred KB each;
	 * perf showed 2-3 % of the CPU in those flushes.  64 MB kept per
	 * arena at most; allocations up to 4 MB come from the heap.
	 */
	mallopt(M_TRIM_THRESHOLD, 64 * 1024 * 1024);
	mallopt(M_MMAP_THRESHOLD, 4 * 1024 * 1024);

	if (argc >= 2 && !strcmp(argv[1], "--help")) {
		fputs(usage_text, stdout);
		fputs(usage_more, stdout);
		return 0;
	}
	if (argc >= 2 && !strcmp(argv[1], "--version")) {
		printf("keydird %s\n", KEYDIR_VERSION);
		return 0;
	}
	for (i = 0; argc >= 2 && i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(argv[1], cmds[i]))
			break;
	if (argc < 2) {
		usage_error("no command given");
		return 2;
	}
	if (i == sizeof(cmds) / sizeof(cmds[0])) {
		if (argv[1][0] == '-')
			usage_error("no command given before '%s'", argv[1]);
		else
			usage_error("unknown command '%s'", argv[1]);
		return 2;
	}
	if (sodium_init() < 0)
		log_fatalx("libsodium failed to start");
	if (mail_global_init() == -1)
		log_fatalx("libcurl or libsodium failed to start");
	memset(&d, 0, sizeof(d));
	config_defaults(&d.cfg);
	now = time(NULL);
	if (parse_args(argc - 1, argv + 1, &d.cfg,
	    !strcmp(argv[1], "maintain") ? &now : NULL,
	    !strcmp(argv[1], "import") || !strcmp(argv[1], "state") ||
	    !strcmp(argv[1], "wkd-export") ? &file : NULL, !strcmp(argv[1], "state") ? &view : NULL) == -1)
		return 2;
	return run(&d, argv[1], now, file, view);
}
