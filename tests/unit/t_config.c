/*
 * t_config: defaults, durations, the INI file and flags over it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "tap.h"

/* base_url without one given: where listen is, wildcards on loopback */
static const struct {
	const char *listen, *base_url;
} follows[] = {
	{ "127.0.0.1:8080", "http://127.0.0.1:8080" },
	{ "127.0.0.1:9000", "http://127.0.0.1:9000" },
	{ "192.0.2.7:80", "http://192.0.2.7:80" },
	{ "0.0.0.0:9000", "http://127.0.0.1:9000" },
	{ "[::1]:9001", "http://[::1]:9001" },
	{ "[::]:9002", "http://[::1]:9002" },
	{ "[0:0::0]:9003", "http://[::1]:9003" },
	{ "[2001:db8::1]:443", "http://[2001:db8::1]:443" },
};

/* listen values config_finish refuses */
static const char *const bad_listen[] = {
	"", "127.0.0.1", "127.0.0.1:", ":8080", "127.0.0.1:0",
	"127.0.0.1:65536", "127.0.0.1:80x", "127.0.0.1:-80", "127.0.0.1: 80",
	"localhost:8080", "[::1:8080", "::1:8080", "[]:8080", "1.2.3:8080",
};

int
main(void)
{
	struct config c;
	struct err e;
	char path[] = "/tmp/t_config.XXXXXX", path2[] = "/tmp/t_config.XXXXXX";
	FILE *f;
	size_t i;
	int fd;

	config_defaults(&c);
	is_str(c.listen, "127.0.0.1:8080", "default listen");
	ok(c.token_ttl == 7 * 86400, "default token lifetime is 7 days");
	ok(c.max_body == 1024 * 1024, "default body cap is 1 MiB");
	ok(c.max_uids == 100 && c.max_subkeys == 100, "default key limits");
	ok(!c.one_address_per_key, "one_address_per_key off by default");
	ok(config_duration("90") == 90, "plain seconds");
	ok(config_duration("10m") == 600, "minutes");
	ok(config_duration("7d") == 604800, "days");
	ok(config_duration("2h") == 7200, "hours");
	ok(config_duration("x") == -1 && config_duration("5y") == -1 &&
	    config_duration("-3") == -1 && config_duration("5mm") == -1,
	    "malformed durations refused");

	fd = mkstemp(path);
	f = fdopen(fd, "w");
	fprintf(f, "; keydird\n[server]\nlisten = 127.0.0.1:9999\n"
	    "one_address_per_key = yes\nmail_rate = 1h\nmax_body = 64k\n");
	fclose(f);
	ok(config_load(&c, path, &e) == 0, "INI file loads");
	is_str(c.listen, "127.0.0.1:9999", "listen from the file");
	ok(c.one_address_per_key, "bool from the file");
	ok(c.mail_rate == 3600, "duration from the file");
	ok(c.max_body == 65536, "size with suffix from the file");
	ok(config_set(&c, "listen", "127.0.0.1:7000", &e) == 0 &&
	    !strcmp(c.listen, "127.0.0.1:7000"), "a flag overrides the file");

	f = fopen(path, "w");
	fprintf(f, "no_such_key = 1\n");
	fclose(f);
	ok(config_load(&c, path, &e) == -1 && strstr(e.msg, "no_such_key"),
	    "unknown key refused, named: %s", e.msg);
	ok(config_set(&c, "max_uids", "many", &e) == -1, "bad number refused");
	ok(config_set(&c, "one_address_per_key", "perhaps", &e) == -1,
	    "bad bool refused");
	ok(config_load(&c, "/nonexistent/keydird.ini", &e) == -1,
	    "missing file refused");
	unlink(path);

	/* the abuse limits: on by default, 0 turns each off */
	config_defaults(&c);
	ok(c.max_mails_per_upload == 10 && c.mail_global_rate.n == 60 &&
	    c.mail_global_rate.per == 60 &&
	    c.max_unconfirmed_per_client == 100 &&
	    c.max_unconfirmed_bytes == (size_t)1 << 30,
	    "abuse limits on by default: 10, 60/1m, 100, 1 GiB");
	ok(config_set(&c, "max_mails_per_upload", "0", &e) == 0 &&
	    c.max_mails_per_upload == 0 &&
	    config_set(&c, "mail_global_rate", "0", &e) == 0 &&
	    c.mail_global_rate.n == 0 &&
	    config_set(&c, "max_unconfirmed_per_client", "0", &e) == 0 &&
	    c.max_unconfirmed_per_client == 0 &&
	    config_set(&c, "max_unconfirmed_bytes", "0", &e) == 0 &&
	    c.max_unconfirmed_bytes == 0, "each off with 0");
	ok(config_set(&c, "max_unconfirmed_bytes", "2G", &e) == 0 &&
	    c.max_unconfirmed_bytes == (size_t)2 << 30 &&
	    config_set(&c, "max_unconfirmed_bytes", "512M", &e) == 0 &&
	    c.max_unconfirmed_bytes == (size_t)512 << 20 &&
	    config_set(&c, "mail_global_rate", "120/1h", &e) == 0 &&
	    c.mail_global_rate.n == 120 && c.mail_global_rate.per == 3600 &&
	    config_set(&c, "max_mails_per_upload", "25", &e) == 0 &&
	    c.max_mails_per_upload == 25, "sizes with k, M, G; a rate; counts");
	ok(config_set(&c, "max_mails_per_upload", "-1", &e) == -1 &&
	    config_set(&c, "mail_global_rate", "60", &e) == -1 &&
	    config_set(&c, "max_unconfirmed_bytes", "1T", &e) == -1 &&
	    config_set(&c, "max_unconfirmed_bytes", "99999999999G", &e) == -1 &&
	    c.mail_global_rate.n == 120 && c.max_mails_per_upload == 25,
	    "negative, a rate without its duration, other suffixes and "
	    "overflow refused, the values kept");
	ok(config_set(&c, "max_body", "0", &e) == -1,
	    "(a size that is not a limit still refuses 0)");

	config_defaults(&c);
	ok(config_finish(&c, &e) == 0, "defaults pass the final check");
	is_str(c.database, "sqlite:var/keydir.db", "database derived from "
	    "data_dir");
	ok(config_set(&c, "wkd_domains", " Example.ORG, example.net  ", &e) ==
	    0 && config_finish(&c, &e) == 0 && config_wkd_domain(&c,
	    "example.org", 11) && config_wkd_domain(&c, "EXAMPLE.NET", 11) &&
	    !config_wkd_domain(&c, "example.co", 10) &&
	    !config_wkd_domain(&c, "ample.org", 9), "wkd_domains: a list, "
	    "any case, exact names only");
	ok(config_set(&c, "wkd_domains", "example.org, bad_name.org", &e) ==
	    0 && config_finish(&c, &e) == -1 && strstr(e.msg, "bad_name.org"),
	    "wkd_domains: a name that is not a DNS name is refused, named");
	ok(config_set(&c, "wkd_domains", "localhost", &e) == 0 &&
	    config_finish(&c, &e) == -1, "wkd_domains: a name without a dot "
	    "is refused");
	config_set(&c, "wkd_domains", "", &e);
	config_set(&c, "base_url", "ftp://x", &e);
	ok(config_finish(&c, &e) == -1, "base_url must be http(s)");

	for (i = 0; i < sizeof(follows) / sizeof(follows[0]); i++) {
		config_defaults(&c);
		ok(config_set(&c, "listen", follows[i].listen, &e) == 0 &&
		    config_finish(&c, &e) == 0, "listen %s accepted",
		    follows[i].listen);
		is_str(c.base_url, follows[i].base_url, "no base_url, listen "
		    "%s: base_url follows it", follows[i].listen);
	}
	for (i = 0; i < sizeof(bad_listen) / sizeof(bad_listen[0]); i++) {
		config_defaults(&c);
		config_set(&c, "listen", bad_listen[i], &e);
		ok(config_finish(&c, &e) == -1 && strstr(e.msg, "listen") &&
		    strstr(e.msg, bad_listen[i]), "listen '%s' refused: %s",
		    bad_listen[i], e.msg);
	}
	config_defaults(&c);
	config_set(&c, "base_url", "https://keys.example.org/", &e);
	config_set(&c, "listen", "127.0.0.1:9000", &e);
	ok(config_finish(&c, &e) == 0, "base_url and listen both given");
	is_str(c.base_url, "https://keys.example.org", "a base_url given is "
	    "kept (less its trailing slash)");
	config_defaults(&c);
	config_set(&c, "base_url", "http://127.0.0.1:8080", &e);
	config_set(&c, "listen", "127.0.0.1:9000", &e);
	config_finish(&c, &e);
	is_str(c.base_url, "http://127.0.0.1:8080", "a base_url given equal "
	    "to the default is kept too");
	config_defaults(&c);
	config_set(&c, "base_url", "", &e);
	ok(config_finish(&c, &e) == -1, "an empty base_url given is refused, "
	    "not derived");

	/* mkstemp filled path in: a fresh template */
	if ((fd = mkstemp(path2)) == -1 || (f = fdopen(fd, "w")) == NULL) {
		perror("t_config: mkstemp");
		return 1;
	}
	fprintf(f, "base_url = http://keys.example.net\n");
	fclose(f);
	config_defaults(&c);
	ok(config_load(&c, path2, &e) == 0, "INI file with base_url loads");
	config_set(&c, "listen", "127.0.0.1:9000", &e);
	ok(config_finish(&c, &e) == 0 &&
	    !strcmp(c.base_url, "http://keys.example.net"), "base_url from "
	    "the file is kept when --listen moves the server");
	unlink(path2);

	/* the server key's user ID: key-submission@ and base_url's host */
	{
		static const struct {
			const char *base_url, *want;
		} sub[] = {
			{ "https://keys.example.org", "key-submission@keys.example.org" },
			{ "http://keys.example.org:8080/x", "key-submission@keys.example.org" },
			{ "http://[::1]:8080", "key-submission@::1" },
		};

		for (size_t j = 0; j < sizeof(sub) / sizeof(sub[0]); j++) {
			config_defaults(&c);
			config_set(&c, "base_url", sub[j].base_url, &e);
			ok(config_finish(&c, &e) == 0, "base_url %s",
			    sub[j].base_url);
			is_str(c.submission_address, sub[j].want, "... gives "
			    "the submission address %s", sub[j].want);
		}
	}
	config_defaults(&c);
	config_set(&c, "submission_address", "keys@example.org", &e);
	ok(config_finish(&c, &e) == 0 &&
	    !strcmp(c.submission_address, "keys@example.org"),
	    "a submission_address given is kept");
	config_defaults(&c);
	config_set(&c, "submission_address", "no-at-sign", &e);
	ok(config_finish(&c, &e) == -1, "a submission_address without @ is "
	    "refused");
	config_defaults(&c);
	ok(c.server_key_ttl == 3 * 365 * 86400, "server_key_ttl: three years "
	    "by default");
	ok(c.server_key_grace == 30 * 86400, "server_key_grace: 30 days by "
	    "default");
	config_set(&c, "server_key_ttl", "1h", &e);
	ok(config_finish(&c, &e) == -1, "a server_key_ttl under a day is "
	    "refused");
	return tap_done();
}
