# shellcheck shell=bash
# bench/pg.sh: the STORE=pg parts of bench/run.sh, which sources it.
# docs/PERFORMANCE.md ("PostgreSQL") says what each row means.
#
#   pg_start DIR      a PostgreSQL cluster of the bench's own in DIR
#   node2_start       a second keydird on the large directory's database
#   two_node_lookups  wrk on both nodes at once: T_{fpr,email,hkp}
#   removals          removal to 404 on both nodes: RM_RES
#   two_node_uploads  uploads through both nodes at once: UP2_RES
#   pg_rows, pg_notes the report's rows for the above
#
# Knobs (environment), besides run.sh's:
#   BENCH_RM_KEYS  keys removed for the removal-to-404 rows (20)
#   BENCH_PG_OPTS  more server settings, "-c name=value ..." (none)

RM_KEYS=${BENCH_RM_KEYS:-20}
# Debian's defaults but for these: two nodes with pools of up to 64
# connections each, the import's and psql's (max_connections 100 would
# refuse some), and shared_buffers of 512 MB (128 MB by default).  Unlike
# tests/pg/cluster.sh (fsync off, for speed), commits are durable: a
# PostgreSQL COMMIT is on disk before keydird answers, as SQLite's is.
PG_SETTINGS="-c max_connections=300 -c shared_buffers=512MB ${BENCH_PG_OPTS:-}"
PG_BIN=
PORT2=${BENCH_PORT:+$((BENCH_PORT + 3))}
URL2=
KD2_PID=

# as_pg CMD...: as the cluster's account (postgres) when we are root.
as_pg() {
	if [ "$(id -u)" = 0 ]; then
		setpriv --reuid="$(id -u postgres)" --regid="$(id -g postgres)" \
		    --clear-groups -- "$@"
	else
		"$@"
	fi
}

# pg_start DIR: initdb in DIR, the server on a unix socket in DIR only;
# prints the database URL.  tests/pg/cluster.sh stop DIR stops it.
pg_start() {
	local dir=$1
	PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
	[ -x "$PG_BIN/initdb" ] || die "no PostgreSQL server (make deps-test)"
	mkdir -p "$dir"
	[ "$(id -u)" = 0 ] && chown postgres: "$dir"
	chmod 700 "$dir"
	as_pg "$PG_BIN/initdb" -D "$dir/data" -U keydir -A trust -E UTF8 \
	    --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 ||
	    die "initdb failed: $(cat "$dir/initdb.log")"
	# shellcheck disable=SC2086
	as_pg "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
	    -o "-c listen_addresses='' -k $dir -p 5432 $PG_SETTINGS" start \
	    </dev/null >/dev/null 2>&1 || die "PostgreSQL did not start, see $dir/server.log"
	as_pg "$PG_BIN/createdb" -h "$dir" -p 5432 -U keydir keydir >/dev/null
	chmod 755 "$dir"
	echo "postgresql:///keydir?host=$dir&port=5432&user=keydir"
}

# The server's version and the settings that differ from initdb's.
pg_describe() {
	psql -XAtq "$PG_URL" -c 'SHOW server_version' 2>/dev/null |
		sed 's/^/PostgreSQL /'
	psql -XAtq "$PG_URL" -c "SELECT string_agg(name || '=' ||
	    current_setting(name), ' ' ORDER BY name) FROM pg_settings WHERE name IN
	    ('fsync', 'synchronous_commit', 'full_page_writes', 'shared_buffers',
	    'max_connections', 'wal_level')" 2>/dev/null
}

# node2_start: keydird on $WORK/large2 with the large directory's
# database and its server and session keys (README, "Several nodes").
node2_start() {
	local d=$WORK/large2 fpr save=$KD_PID
	PORT2=${PORT2:-$(free_port)}
	URL2=http://127.0.0.1:$PORT2
	mkdir -p "$d"
	cp -p "$WORK/large/server-key.pgp" "$WORK/large/session.key" "$d/"
	kd_own "$d"
	fpr=$(head -1 "$WORK/large.txt" | cut -d' ' -f1)
	KD_DB=large kd_start "$d" "$fpr" "$PORT2"
	KD2_PID=$KD_PID KD_PID=$save
}

node2_stop() {
	[ -n "$KD2_PID" ] && kd_kill "$KD2_PID"
	KD2_PID=
	return 0
}

# two_node_lookups: for each lookup kind, REPEAT times, wrk on both nodes
# at once for DUR seconds, one wrk thread and CONNS connections each (the
# one-node rows: two threads, CONNS connections); both on the large
# directory's sample.  T_k: "rps p50 p99 errors" of node 1 then of node
# 2, from the run with the median sum.
two_node_lookups() {
	local k i p1 p2 runs
	for k in fpr email hkp; do
		warmup "$URL" "$WORK/large-$k.paths"
		warmup "$URL2" "$WORK/large-$k.paths"
		log "wrk on two nodes at once, $k"
		runs=
		for i in $(seq 1 "$REPEAT"); do
			WRK_T=1 run_wrk "kd2-n1-$k.$i" "$URL" bench/paths.lua \
			    "$WORK/large-$k.paths" >"$WORK/two.1" &
			p1=$!
			WRK_T=1 run_wrk "kd2-n2-$k.$i" "$URL2" bench/paths.lua \
			    "$WORK/large-$k.paths" >"$WORK/two.2" &
			p2=$!
			wait "$p1" "$p2"
			runs+=$(paste -d' ' "$WORK/two.1" "$WORK/two.2" |
			    awk '{ print $1 + $5, $0 }')$'\n'
		done
		printf -v "T_$k" '%s' "$(printf '%s' "$runs" | sort -n -k1,1 |
		    awk '{ line[NR] = $0; e1 += $5; e2 += $9 }
		    END { split(line[int((NR + 1) / 2)], f, " ")
		    print f[2], f[3], f[4], e1, f[6], f[7], f[8], e2 }')"
	done
}

# removals: RM_KEYS addresses of the large sample (not the first key,
# node2_start's) removed through manage links, alternately through node
# 1 and node 2, with both nodes' caches warm (bench/rm404.py).  RM_RES:
# its last line.
removals() {
	sed -n "2,$((RM_KEYS + 1))p" "$WORK/large.txt" | cut -d' ' -f2 \
		>"$WORK/rm.addrs"
	log "removal to 404 on both nodes, $RM_KEYS keys"
	python3 bench/rm404.py "$WORK/rm.addrs" "$URL" "$URL2" \
		"$WORK/large/mail" "$WORK/large2/mail" >"$WORK/rm404.txt" \
		2>>"$WORK/rm404.err" || true
	RM_RES=$(grep '^k=' "$WORK/rm404.txt" || echo 'k=0 failed=all')
}

# two_node_uploads: the upload certs that bench/upload did not reach
# through node 1, half through each node at once, CONNS in flight each,
# for DUR seconds.  UP2_RES: "rps p50 p99 errors" of node 1, node 2.
two_node_uploads() {
	local up=$1 used n p1 p2
	used=$(sed -n 's/^requests=\([0-9]*\).*/\1/p' "$WORK/upload.txt")
	n=$(($(wc -l <"$up") - ${used:-0}))
	UP2_RES=
	[ "$n" -ge 2 ] || return 0
	tail -n "+$((${used:-0} + 1))" "$up" | awk -v w="$WORK" \
	    '{ print > (w "/up2." (NR % 2 + 1) ".jsonl") }'
	log "uploads through two nodes at once ($n certs left)"
	"$BIN/upload" "$URL/vks/v1/upload" "$WORK/up2.1.jsonl" "$CONNS" \
	    "$DUR" >"$WORK/upload2-n1.txt" 2>>"$WORK/upload2.err" &
	p1=$!
	"$BIN/upload" "$URL2/vks/v1/upload" "$WORK/up2.2.jsonl" "$CONNS" \
	    "$DUR" >"$WORK/upload2-n2.txt" 2>>"$WORK/upload2.err" &
	p2=$!
	wait "$p1" "$p2" || true
	UP2_RES="$(up_fields "$WORK/upload2-n1.txt") $(up_fields "$WORK/upload2-n2.txt")"
}

# kv KEY LINE: the value of KEY=VALUE in LINE.
kv() { printf '%s\n' "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"; }

# pg_lookup_rows NGINX_FPR NGINX_EMAIL NGINX_HKP: the two-node lookup
# rows of the main table.
pg_lookup_rows() {
	local nf=$1 ne=$2 nh=$3 k t n s name ref a b
	for k in fpr email hkp; do
		t=T_$k
		set -- ${!t}
		case $k in
		fpr) name="keydird VKS by-fingerprint" ref=$nf ;;
		email) name="keydird VKS by-email" ref=$ne ;;
		hkp) name="keydird HKP op=get" ref=$nh ;;
		esac
		s=$(($1 + $5))
		echo "| $name, 2 nodes, sum | $N_LARGE | $s | - | - | $(($4 + $8)) | $(ratio "$s" "$ref") × nginx | ² |"
		for n in 1 2; do
			if [ "$n" = 1 ]; then a="$1 $2 $3 $4"; else a="$5 $6 $7 $8"; fi
			b=${a%% *}
			trow "$name, 2 nodes, node $n" "$N_LARGE" "$a" \
			    "$(ratio "$b" "$ref") × nginx" \
			    "≥ 0.5²: $(verdict "$b" "$ref" 0.5)"
		done
	done
}

# pg_upload_rows CEIL: the two-node upload rows.
pg_upload_rows() {
	local ceil=$1 s
	if [ -z "$UP2_RES" ]; then
		echo "| keydird uploads, new certs, 2 nodes | $N_LARGE | - | - | - | - | not measured: the one-node row used every upload cert (BENCH_UPLOADS) | ² |"
		return 0
	fi
	set -- $UP2_RES
	s=$(($1 + $5))
	echo "| keydird uploads, new certs, 2 nodes, sum | $N_LARGE | $s | - | - | $(($4 + $8)) | $(ratio "$s" "$ceil") × librnp | ² |"
	trow "keydird uploads, new certs, 2 nodes, node 1" "$N_LARGE" \
		"$1 $2 $3 $4" "$(ratio "$1" "$ceil") × librnp" ""
	trow "keydird uploads, new certs, 2 nodes, node 2" "$N_LARGE" \
		"$5 $6 $7 $8" "$(ratio "$5" "$ceil") × librnp" ""
}

# pg_values: the removal rows of the second table.
pg_values() {
	local r=$RM_RES
	echo "| removal to 404 on both nodes, from the POST sent: median / max of $(kv k "$r") keys ($(kv failed "$r") failed) | $(kv median_ms "$r") / $(kv max_ms "$r") ms | < 1000 ms: $(verdict 1000 "$(kv max_ms "$r")" 1) |"
	echo "| the same from the POST's answer (the commit done) | $(kv answer_median_ms "$r") / $(kv answer_max_ms "$r") ms | |"
	echo "| the removal's POST itself, median | $(kv post_median_ms "$r") ms | |"
}

pg_notes() {
	echo
	echo "² Two nodes: two keydird on the large directory's database, each with its own data directory, wrk (one thread, $CONNS connections) on each at once for ${DUR}s, both on the same sample; the row with the median sum of $REPEAT runs.  This machine has $(nproc) cores: both nodes, PostgreSQL, the two wrk and nginx's reference before them share them, so a node's rate is what is left to it, not what a node on its own cores would do.  Uploads: the certs the one-node row did not reach, half to each node, $CONNS in flight each."
	echo
	echo "Lookup cache: $LOOKUP_CACHE.  Removal to 404: bench/rm404.py, each key's address looked up on both nodes first (200, three times each), its manage link POSTed through node 1 or node 2 in turn, both nodes polled every 5 ms on keep-alive connections."
}
