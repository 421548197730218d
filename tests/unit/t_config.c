/*
 * t_config: defaults, durations, the INI file and flags over it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "tap.h"

int
main(void)
{
	struct config c;
	struct err e;
	char path[] = "/tmp/t_config.XXXXXX";
	FILE *f;
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

	config_defaults(&c);
	ok(config_finish(&c, &e) == 0, "defaults pass the final check");
	is_str(c.database, "sqlite:var/keydir.db", "database derived from "
	    "data_dir");
	config_set(&c, "base_url", "ftp://x", &e);
	ok(config_finish(&c, &e) == -1, "base_url must be http(s)");
	return tap_done();
}
