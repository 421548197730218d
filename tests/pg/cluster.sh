#!/bin/sh
# tests/pg/cluster.sh: a throwaway PostgreSQL cluster for the tests, with
# Debian's postgresql: initdb in a temporary directory, run as an
# unprivileged account, listening only on a unix socket in that
# directory, stopped and removed at the end.  No mock, nothing of the
# machine's own clusters touched.
#
#   cluster.sh start DIR   make and start the cluster in DIR (made if
#                          missing); prints the database URL, e.g.
#                          postgresql:///keydir?host=DIR&port=5432&user=keydir
#   cluster.sh stop DIR    stop it and remove DIR (a primary or a replica)
#   cluster.sh replica PRIMARY DIR
#                          a streaming replica of the running cluster in
#                          PRIMARY (pg_basebackup -R over PRIMARY's
#                          socket), made in DIR and started, a hot standby
#                          on a socket in DIR; prints its URL (the same
#                          database, keydir)
#   cluster.sh down DIR    stop the server in DIR (fast shutdown), keep DIR
#   cluster.sh up DIR      start it again, as it was started; waits until
#                          it accepts connections
#   cluster.sh url DIR     print DIR's database URL
#
# Every cluster streams its WAL to replicas (wal_level=replica,
# max_wal_senders, a replication line for the unix socket in
# pg_hba.conf), so `replica` works on any cluster `start` made.
#
# As root the cluster runs as PG_USER (default postgres, the account the
# package makes; nobody also works), which must own DIR; otherwise as
# the caller.  PG_PORT picks the socket's port number (default 5432:
# only the socket's file name, no TCP); a replica takes its primary's.
set -eu
cmd=${1:?start|stop|replica|down|up|url}
dir=${2:?DIR}
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -x "$bin/initdb" ] || { echo "cluster.sh: no PostgreSQL server (make deps-test)" >&2; exit 1; }
port=${PG_PORT:-5432}
user=${PG_USER:-postgres}

as_pg() {
	if [ "$(id -u)" = 0 ]; then
		setpriv --reuid="$(id -u "$user")" --regid="$(id -g "$user")" \
		    --clear-groups -- "$@"
	else
		"$@"
	fi
}

# mkdir_pg D: D made (if missing) for the server's account alone
mkdir_pg() {
	mkdir -p "$1"
	[ "$(id -u)" = 0 ] && chown "$user:" "$1"
	chmod 700 "$1"
}

url_of() {
	echo "postgresql:///keydir?host=$1&port=$(cat "$1/port")&user=keydir"
}

# server D: start the server of D/data on the socket D/.s.PGSQL.PORT
server() {
	# the server must hold none of the caller's descriptors (a test
	# harness waits for its pipes to close)
	as_pg "$bin/pg_ctl" -D "$1/data" -l "$1/server.log" -w -t 60 \
	    -o "-c listen_addresses='' -k $1 -p $(cat "$1/port") -c fsync=off \
	    -c synchronous_commit=off -c full_page_writes=off \
	    -c wal_level=replica -c max_wal_senders=8 -c hot_standby=on" \
	    start </dev/null >/dev/null 2>&1 || { cat "$1/server.log" >&2; exit 1; }
	# the socket directory must be reachable by the tests' account
	chmod 755 "$1"
}

case $cmd in
start)
	mkdir_pg "$dir"
	echo "$port" >"$dir/port"
	as_pg "$bin/initdb" -D "$dir/data" -U keydir -A trust -E UTF8 \
	    --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 ||
	    { cat "$dir/initdb.log" >&2; exit 1; }
	# replication connections over the socket (initdb -A trust writes
	# one; a template without it gets it here)
	grep -Eq '^local[[:space:]]+replication[[:space:]]' \
	    "$dir/data/pg_hba.conf" ||
	    echo 'local replication all trust' >>"$dir/data/pg_hba.conf"
	server "$dir"
	as_pg "$bin/createdb" -h "$dir" -p "$port" -U keydir keydir >/dev/null
	url_of "$dir"
	;;
replica)
	primary=$dir
	dir=${3:?REPLICA_DIR}
	[ -f "$primary/port" ] ||
	    { echo "cluster.sh: no cluster in $primary" >&2; exit 1; }
	mkdir_pg "$dir"
	cp "$primary/port" "$dir/port"
	[ "$(id -u)" = 0 ] && chown "$user:" "$dir/port"
	# -R: standby.signal and primary_conninfo (the primary's socket);
	# -X stream: the WAL written meanwhile comes along; -c fast: no
	# wait for the primary's next checkpoint
	as_pg "$bin/pg_basebackup" -h "$primary" -p "$(cat "$primary/port")" \
	    -U keydir -D "$dir/data" -R -X stream -c fast \
	    >"$dir/basebackup.log" 2>&1 ||
	    { cat "$dir/basebackup.log" >&2; exit 1; }
	# the primary's own settings came along; the standby's socket is DIR
	server "$dir"
	url_of "$dir"
	;;
stop)
	[ -d "$dir/data" ] &&
	    as_pg "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop \
	    >/dev/null 2>&1 || true
	rm -rf "$dir"
	;;
down)
	as_pg "$bin/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null
	;;
up)
	server "$dir"
	;;
url)
	url_of "$dir"
	;;
*)
	echo "usage: cluster.sh start|stop|down|up|url DIR, cluster.sh replica PRIMARY DIR" >&2
	exit 2
	;;
esac
