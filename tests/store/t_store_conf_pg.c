/*
 * t_store_conf_pg: the store conformance suite (conformance.h) against
 * the PostgreSQL backend, on a throwaway cluster of its own
 * (tests/pg/cluster.sh: Debian's server, initdb in a temporary
 * directory, a unix socket only), a database per group, all gone at the
 * end.  Without a PostgreSQL server on the machine it says so and fails:
 * make deps-test installs one.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <libpq-fe.h>

#include "log.h"
#include "conformance.h"

static char dir[] = "/tmp/t_store_conf_pg.XXXXXX";
static char base[1024];		/* the cluster's first database */
static char host[700];
static char url[1200];
static int nstores;
static PGconn *admin;

/* A new database in the cluster, and its URL. */
static const char *
fresh_url(void)
{
	char sql[64];
	PGresult *r;

	snprintf(sql, sizeof(sql), "CREATE DATABASE k%d", ++nstores);
	r = PQexec(admin, sql);
	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		printf("# %s: %s", sql, PQerrorMessage(admin));
	PQclear(r);
	snprintf(url, sizeof(url), "postgresql:///k%d?host=%s&port=5432&"
	    "user=keydir", nstores, host);
	return url;
}

/* Break every node's connection (conf_node.h): the server ends their
 * sessions, and this returns once they are gone. */
static void
cut_nodes(void)
{
	PGresult *r = PQexec(admin, "SELECT pg_terminate_backend(pid, 5000) "
	    "FROM pg_stat_activity WHERE application_name = 'keydird-node'");

	if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) == 0)
		printf("# cut_nodes: %s (%d sessions)\n",
		    PQerrorMessage(admin), PQntuples(r));
	PQclear(r);
}

/* Run the cluster script with cmd; its first output line into out. */
static int
cluster(const char *cmd, char *out, size_t sz)
{
	char line[2048];
	FILE *p;
	int rc;

	snprintf(line, sizeof(line), "%s/tests/pg/cluster.sh %s %s/c",
	    SRCDIR, cmd, dir);
	if ((p = popen(line, "r")) == NULL)
		return -1;
	if (out != NULL && fgets(out, (int)sz, p) == NULL)
		out[0] = '\0';
	rc = pclose(p);
	if (out != NULL)
		out[strcspn(out, "\n")] = '\0';
	return rc == 0 ? 0 : -1;
}

/* The cluster goes whatever happens to the suite (an abort too). */
static void
stop_cluster(void)
{
	if (admin != NULL)
		PQfinish(admin);
	admin = NULL;
	cluster("stop", NULL, 0);
	rmdir(dir);
}

static void
on_signal(int sig)
{
	stop_cluster();
	signal(sig, SIG_DFL);
	raise(sig);
}

int
main(void)
{
	struct conf_backend b;
	char bad[900];

	log_set_quiet(1);
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	chmod(dir, 0755);	/* the cluster's account works in it */
	if (cluster("start", base, sizeof(base)) == -1 || base[0] == '\0') {
		ok(0, "a PostgreSQL cluster starts (tests/pg/cluster.sh; make "
		    "deps-test installs the server)");
		rmdir(dir);
		return tap_done();
	}
	ok(1, "a throwaway PostgreSQL cluster: %s", base);
	atexit(stop_cluster);
	signal(SIGSEGV, on_signal);
	signal(SIGABRT, on_signal);
	signal(SIGTERM, on_signal);
	snprintf(host, sizeof(host), "%s/c", dir);
	if ((admin = PQconnectdb(base)) == NULL ||
	    PQstatus(admin) != CONNECTION_OK) {
		ok(0, "connect to it: %s", PQerrorMessage(admin));
		cluster("stop", NULL, 0);
		rmdir(dir);
		return tap_done();
	}
	snprintf(bad, sizeof(bad), "postgresql:///nodb?host=%s&port=5432&"
	    "user=keydir", host);
	memset(&b, 0, sizeof(b));
	b.name = "postgresql";
	b.fresh_url = fresh_url;
	b.bad_url = bad;
	b.busy_ms = 0;	/* writers run at once: a conflict is ERR_RETRY */
	b.nodes = true;
	b.cut_nodes = cut_nodes;
	conf_run(&b);
	PQfinish(admin);
	admin = NULL;
	ok(cluster("stop", NULL, 0) == 0, "the cluster stopped and removed");
	ok(rmdir(dir) == 0, "test directory removed");
	return tap_done();
}
