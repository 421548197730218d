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
#   cluster.sh stop DIR    stop it and remove DIR
#
# As root the cluster runs as PG_USER (default postgres, the account the
# package makes; nobody also works), which must own DIR; otherwise as
# the caller.  PG_PORT picks the socket's port number (default 5432:
# only the socket's file name, no TCP).
set -eu
cmd=${1:?start|stop}
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

case $cmd in
start)
	mkdir -p "$dir"
	[ "$(id -u)" = 0 ] && chown "$user:" "$dir"
	chmod 700 "$dir"
	as_pg "$bin/initdb" -D "$dir/data" -U keydir -A trust -E UTF8 \
	    --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 ||
	    { cat "$dir/initdb.log" >&2; exit 1; }
	# the server must hold none of the caller's descriptors (a test
	# harness waits for its pipes to close)
	as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
	    -o "-c listen_addresses='' -k $dir -p $port -c fsync=off \
	    -c synchronous_commit=off -c full_page_writes=off" start \
	    </dev/null >/dev/null 2>&1 || { cat "$dir/server.log" >&2; exit 1; }
	as_pg "$bin/createdb" -h "$dir" -p "$port" -U keydir keydir >/dev/null
	# the socket directory must be reachable by the tests' account
	chmod 755 "$dir"
	echo "postgresql:///keydir?host=$dir&port=$port&user=keydir"
	;;
stop)
	[ -d "$dir/data" ] &&
	    as_pg "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop \
	    >/dev/null 2>&1 || true
	rm -rf "$dir"
	;;
*)
	echo "usage: cluster.sh start|stop DIR" >&2
	exit 2
	;;
esac
