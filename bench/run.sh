#!/bin/bash
# bench/run.sh (make bench): keydird against nginx serving the same bytes,
# and uploads against librnp alone, in one run.  docs/PERFORMANCE.md says
# what each row means.  Everything listens on 127.0.0.1 only.
#
# Knobs (environment):
#   BENCH_N_SMALL  keys in the small directory      (1000)
#   BENCH_N_LARGE  keys in the large directory      (1000000)
#   BENCH_UPLOADS  distinct new certs to upload     (30000)
#   BENCH_DURATION seconds per wrk run / upload run (10)
#   BENCH_CONNS    connections (wrk -c, uploads)    (64)
#   BENCH_SAMPLE   keys looked up at random         (1000)
#   BENCH_REPEAT   wrk runs per lookup row; the median counts (3)
#   BENCH_PORT     keydird port (large); nginx +1, keydird (small) +2
#   BENCH_NO_BUILD=1  use build/keydird as it is
#   BENCH_KEEP=1   keep the work directory (data dirs, logs)
#   BENCH_KEYDIRD  the keydird binary               (build/keydird)
#   BENCH_CACHE    where generated certs are kept   (bench/cache)
#   BENCH_KD_SET   more keydird settings, "KEY=VALUE ..." (none)
#   STORE=pg       keydird's store in PostgreSQL: a throwaway cluster
#                  (bench/pg.sh) in the work directory, a database per
#                  data directory; adds the rows of two nodes on one
#                  database and of removal to 404     (sqlite)
#
# Test certs: the issue asks for Ed25519 certs made with gpg or sq.  At
# 10^6 keys those take hours, so bench/gen.c makes the same kind of cert
# with librnp (Ed25519 certify+sign primary, Curve25519 encryption subkey,
# one user ID, no expiry), one thread per core.  They are cached in
# bench/cache/ by count and made again only when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

N_SMALL=${BENCH_N_SMALL:-1000}
N_LARGE=${BENCH_N_LARGE:-1000000}
UPLOADS=${BENCH_UPLOADS:-30000}
DUR=${BENCH_DURATION:-10}
CONNS=${BENCH_CONNS:-64}
SAMPLE=${BENCH_SAMPLE:-1000}
REPEAT=${BENCH_REPEAT:-3}
# two free loopback ports unless BENCH_PORT says which (nginx: +1)
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
PORT=${BENCH_PORT:-$(free_port)}
NPORT=${BENCH_PORT:+$((BENCH_PORT + 1))}
NPORT=${NPORT:-$(free_port)}
SPORT=${BENCH_PORT:+$((BENCH_PORT + 2))}
SPORT=${SPORT:-$(free_port)}
KEYDIRD=${BENCH_KEYDIRD:-$ROOT/build/keydird}
BIN=$ROOT/build/bench
CACHE=${BENCH_CACHE:-$ROOT/bench/cache}
RESULTS=$ROOT/bench/results
URL=http://127.0.0.1:$PORT	# keydird, large directory
SURL=http://127.0.0.1:$SPORT	# keydird, small directory
NURL=http://127.0.0.1:$NPORT
UPLOAD_FIRST=1000000000	# upload certs are numbered apart from the directory's

KD_SET=()
for kv in ${BENCH_KD_SET:-}; do KD_SET+=(--set "$kv"); done

# shellcheck source=bench/pg.sh
. bench/pg.sh

log() { printf '== %s\n' "$*" >&2; }
die() { printf 'bench: %s\n' "$*" >&2; exit 1; }

# --- packages, only those missing (as scripts/deps.sh) ---------------------
deps() {
	local missing='' p
	for p in wrk nginx curl; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
			grep -q 'ok installed' || missing="$missing $p"
	done
	command -v python3 >/dev/null || missing="$missing python3"
	[ -z "$missing" ] && return 0
	log "installing:$missing"
	local sudo=
	[ "$(id -u)" -eq 0 ] || sudo=sudo
	$sudo apt-get update -q
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q \
		--no-install-recommends $missing
}

# --- tools ------------------------------------------------------------------
CFLAGS_B="-O2 -g -std=c17 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -Wall
-Wextra -Wpedantic -Wshadow -Wstrict-prototypes -Wmissing-prototypes
-Wdeclaration-after-statement -pthread"
build_tools() {
	mkdir -p "$BIN"
	local t libs
	for t in gen:"librnp libsodium" rnpbench:librnp upload:libcurl; do
		libs=${t#*:}
		t=${t%%:*}
		if [ ! -x "$BIN/$t" ] || [ "bench/$t.c" -nt "$BIN/$t" ]; then
			# shellcheck disable=SC2046,SC2086
			cc $CFLAGS_B -o "$BIN/$t" "bench/$t.c" \
				$(pkg-config --cflags --libs $libs)
		fi
	done
}

# --- cached certs -------------------------------------------------------------
# keys-N.jsonl: N export body lines sorted by fingerprint (no header).  A
# smaller set is the head of a larger one: the first n lines of a sorted
# random set are another random set, still sorted.
keys_file() {
	local n=$1 f=$CACHE/keys-$1.jsonl big
	if [ ! -s "$f" ]; then
		big=$(ls "$CACHE"/keys-*.jsonl 2>/dev/null |
			sed 's/.*keys-\([0-9]*\)\.jsonl/\1/' |
			awk -v n="$n" '$1 > n' | sort -n | head -1)
		if [ -n "$big" ]; then
			head -n "$n" "$CACHE/keys-$big.jsonl" >"$f.tmp"
		else
			log "generating $n certs (cached in $f)"
			"$BIN/gen" export "$n" 0 "$f.unsorted" 2>&1 |
				tail -1 | tee -a "$WORK/gen.txt" >&2
			LC_ALL=C sort -S 25% -T "$CACHE" "$f.unsorted" >"$f.tmp"
			rm -f "$f.unsorted"
		fi
		mv "$f.tmp" "$f"
	fi
	echo "$f"
}

uploads_file() {
	local f=$CACHE/uploads-$UPLOADS.jsonl
	if [ ! -s "$f" ]; then
		log "generating $UPLOADS upload certs (cached in $f)"
		"$BIN/gen" upload "$UPLOADS" "$UPLOAD_FIRST" "$f.tmp" 2>&1 |
			tail -1 | tee -a "$WORK/gen.txt" >&2
		mv "$f.tmp" "$f"
	fi
	echo "$f"
}

# --- processes ----------------------------------------------------------------
KD_PID=
KDS_PID=
NGX_PID=
cleanup() {
	[ -n "$KD_PID" ] && kd_kill "$KD_PID"
	[ -n "$KDS_PID" ] && kd_kill "$KDS_PID"
	[ -n "$KD2_PID" ] && kd_kill "$KD2_PID"
	[ -n "$NGX_PID" ] && kill "$NGX_PID" 2>/dev/null && wait "$NGX_PID" 2>/dev/null
	[ -n "$PG_URL" ] && tests/pg/cluster.sh stop "$WORK/pg" >/dev/null 2>&1
	if [ "${BENCH_KEEP:-0}" = 1 ]; then
		log "work directory kept: $WORK"
	else
		rm -rf "$WORK"
	fi
}

now_ms() { date +%s%3N; }

# kd_kill PID: SIGTERM, and SIGKILL if keydird has not ended 20 s later
# (it lets requests in flight finish, for 10 s at most); a SIGKILL is
# noted in the results (KILLED).
KILLED=
kd_kill() {
	local t0
	kill "$1" 2>/dev/null || return 0
	t0=$(now_ms)
	while kill -0 "$1" 2>/dev/null; do
		if [ $(($(now_ms) - t0)) -gt 20000 ]; then
			kill -KILL "$1" 2>/dev/null
			KILLED="$KILLED $1"
			log "keydird $1 still running 20 s after SIGTERM: killed"
			break
		fi
		sleep 0.1
	done
	wait "$1" 2>/dev/null || true
}

# The --set database=... of data directory $1 into DBA (empty: SQLite in
# the directory); STORE=pg: a database of its own, made on first use,
# or KD_DB's (a second node on a directory's database).
PG_URL=
DBA=()
kd_db() {
	local db
	DBA=()
	[ "${STORE:-sqlite}" = pg ] || return 0
	db=b$(basename "${KD_DB:-$1}" | tr -c 'a-z0-9\n' '_')
	psql -q "$PG_URL" -c "CREATE DATABASE $db" >/dev/null 2>&1 || true
	DBA=(--set "database=${PG_URL/\/\/\/keydir/\/\/\/$db}")
}

# Start keydird on data dir $1 and port $3 (default PORT); sets KD_PID and
# COLD_MS, the time from exec to the first 200 on a by-fingerprint lookup
# of $2.
kd_start() {
	local dir=$1 fpr=$2 port=${3:-$PORT} t0 code
	t0=$(now_ms)
	kd_db "$dir"
	"$KEYDIRD" serve "${KD_USER[@]}" "${DBA[@]}" --data-dir "$dir" \
		--listen "127.0.0.1:$port" \
		--base-url "http://127.0.0.1:$port" --set mail_rate=1s \
		--set rate_limits=off --set max_unconfirmed_per_client=0 \
		"${KD_SET[@]}" 2>>"$dir.log" &
	KD_PID=$!
	while :; do
		code=$(curl -s -m 10 -o /dev/null -w '%{http_code}' \
			"http://127.0.0.1:$port/vks/v1/by-fingerprint/$fpr" \
			2>/dev/null || true)
		[ "$code" = 200 ] && break
		kill -0 "$KD_PID" 2>/dev/null || die "keydird died, see $dir.log"
		[ $(($(now_ms) - t0)) -gt 120000 ] &&
			die "keydird not serving after 120 s (last answer: ${code:-none}), see $dir.log"
	done
	COLD_MS=$(($(now_ms) - t0))
}

kd_stop() {
	kd_kill "$KD_PID"
	KD_PID=
}

# kd_rss [PID]: VmRSS in MB of keydird (default KD_PID).
kd_rss() { awk '/^VmRSS/ {printf "%.0f", $2 / 1024}' "/proc/${1:-$KD_PID}/status"; }

# kd_own DIR: DIR (and the export beside it) readable and writable by
# the account keydird switches to, when it switches.
kd_own() {
	[ ${#KD_USER[@]} -eq 0 ] && return 0
	mkdir -p "$1"
	chown -R nobody "$1"
	[ -e "$1.export" ] && chmod a+r "$1.export"
	return 0
}

# A data directory holding the keys of body file $2, by keydird import.
import_dir() {
	local dir=$1 body=$2
	{
		printf '{"format":"keydir-export","version":1,"exported":"%s"}\n' \
			"$(date -u +%Y-%m-%dT%H:%M:%SZ)"
		cat "$body"
	} >"$dir.export"
	kd_own "$dir"
	kd_db "$dir"
	if "$KEYDIRD" --help 2>&1 | grep -q 'import.*FILE'; then
		"$KEYDIRD" import "${KD_USER[@]}" "${DBA[@]}" --data-dir "$dir" \
		    "$dir.export" 2>>"$dir.log"
	else
		"$KEYDIRD" import "${KD_USER[@]}" "${DBA[@]}" --data-dir "$dir" \
		    <"$dir.export" 2>>"$dir.log"
	fi
	rm -f "$dir.export"
}

# kd_start waits for a 200, which an empty directory never gives; this
# variant waits for any answer.
kd_start_empty() {
	local dir=$1
	kd_own "$dir"
	kd_db "$dir"
	"$KEYDIRD" serve "${KD_USER[@]}" "${DBA[@]}" --data-dir "$dir" \
		--listen "127.0.0.1:$PORT" \
		--base-url "$URL" --set mail_rate=1s --set rate_limits=off \
		--set max_unconfirmed_per_client=0 "${KD_SET[@]}" \
		2>>"$dir.log" &
	KD_PID=$!
	until curl -s -o /dev/null "$URL/"; do
		kill -0 "$KD_PID" 2>/dev/null || die "keydird died, see $dir.log"
		sleep 0.05
	done
}

populate() {
	local dir=$1 body=$2 t0
	mkdir -p "$dir"
	t0=$(now_ms)
	import_dir "$dir" "$body"
	IMPORT_HOW="keydird import"
	IMPORT_MS=$(($(now_ms) - t0))
}

# --- nginx ------------------------------------------------------------------------
ngx_start() {
	local d=$WORK/nginx
	mkdir -p "$d/logs"
	cat >"$d/nginx.conf" <<EOF
# The reference: Debian's stock http settings, static files, access log on.
daemon off;
worker_processes auto;
pid $d/nginx.pid;
error_log $d/logs/error.log;
events { worker_connections 1024; }
http {
	sendfile on;
	tcp_nopush on;
	types_hash_max_size 2048;
	default_type application/pgp-keys;
	access_log $d/logs/access.log;
	client_body_temp_path $d/body;
	proxy_temp_path $d/proxy;
	fastcgi_temp_path $d/fastcgi;
	uwsgi_temp_path $d/uwsgi;
	scgi_temp_path $d/scgi;
	server {
		listen 127.0.0.1:$NPORT;
		root $WORK/www;
		location = /pks/lookup { try_files /hkp/\$arg_search =404; }
	}
}
EOF
	nginx -p "$d" -c "$d/nginx.conf" -e "$d/logs/error.log" &
	NGX_PID=$!
	until curl -s -o /dev/null "$NURL/"; do
		kill -0 "$NGX_PID" 2>/dev/null || die "nginx died, see $d/logs"
		sleep 0.05
	done
}

# --- measurements ---------------------------------------------------------------
# run_wrk NAME URL LUA ARG: one wrk run (WRK_T threads, default 2);
# prints "rps p50 p99 errors".
run_wrk() {
	local name=$1 url=$2 lua=$3 arg=$4 out=$WORK/wrk-$1.txt
	wrk -t"${WRK_T:-2}" -c"$CONNS" -d"${DUR}s" --latency -s "$lua" "$url" -- "$arg" \
		>"$out" 2>&1 || true
	awk '
	function ms(v) {
		if (v ~ /us$/) return v / 1000
		if (v ~ /ms$/) return v + 0
		if (v ~ /m$/) return v * 60000
		if (v ~ /s$/) return v * 1000
		return v
	}
	/Requests\/sec:/ { rps = $2 }
	/^ +50%/ { p50 = ms($2) }
	/^ +99%/ { p99 = ms($2) }
	/Non-2xx or 3xx responses:/ { err += $5 }
	/Socket errors:/ { gsub(/,/, ""); err += $4 + $6 + $8 + $10 }
	END { printf "%.0f %.2f %.2f %d\n", rps, p50, p99, err }' "$out"
}

# up_fields FILE: bench/upload's line as "rps p50 p99 errors" (non-2xx
# answers and transport errors added).
up_fields() {
	sed -n 's/.*ok=\([0-9]*\) non2xx=\([0-9]*\) errors=\([0-9]*\).* rps=\([0-9]*\) p50_ms=\([0-9.]*\) p99_ms=\([0-9.]*\).*/\4 \5 \6 \2 \3/p' "$1" |
		awk '{ print $1, $2, $3, $4 + $5 }'
}

# median_wrk NAME URL LUA ARG: REPEAT runs of run_wrk; prints the run with
# the median req/s, with the errors of all runs added up.  One 10 s run
# on a shared 2-core machine moves by 10 % or more; the median of three
# does not swing a ratio on one bad run.
median_wrk() {
	local name=$1 i
	for i in $(seq 1 "$REPEAT"); do
		run_wrk "$name.$i" "$2" "$3" "$4"
	done | median_of
}

# median_of: of run_wrk lines on stdin, the one with the median req/s,
# with the errors of all added up.
median_of() {
	sort -n -k1,1 | awk '
		{ line[NR] = $0; err += $4 }
		END {
			split(line[int((NR + 1) / 2)], f, " ")
			printf "%s %s %s %d\n", f[1], f[2], f[3], err
		}'
}

ROWS=
row() { ROWS="$ROWS$*"$'\n'; }

# warmup BASE PATHS: the same 2 s for every server: caches hold the sample.
warmup() {
	wrk -t2 -c"$CONNS" -d2s -s bench/paths.lua "$1" -- "$2" \
		>/dev/null 2>&1 || true
}

# lookups NAME BASE SAMPLE: the three lookup kinds against one server;
# results in R_fpr, R_email, R_hkp.
lookups() {
	local tag=$1 base=$2 smp=$3 k
	for k in fpr email hkp; do
		warmup "$base" "$WORK/$smp-$k.paths"
		log "wrk $tag $k"
		printf -v "R_$k" '%s' "$(median_wrk "$tag-$k" "$base" \
			bench/paths.lua "$WORK/$smp-$k.paths")"
	done
}

# paired_lookups: keydird on the small and on the large directory, both
# running, measured in turns (small, large, small, large, ...), so that a
# change in the machine's speed during the run (a shared VM) hits both
# alike; results in S_* and L_*.
paired_lookups() {
	local k i s l
	for k in fpr email hkp; do
		warmup "$SURL" "$WORK/small-$k.paths"
		warmup "$URL" "$WORK/large-$k.paths"
		log "wrk kd-small and kd-large $k, in turns"
		s= l=
		for i in $(seq 1 "$REPEAT"); do
			s+=$(run_wrk "kd-small-$k.$i" "$SURL" bench/paths.lua \
			    "$WORK/small-$k.paths")$'\n'
			l+=$(run_wrk "kd-large-$k.$i" "$URL" bench/paths.lua \
			    "$WORK/large-$k.paths")$'\n'
		done
		printf -v "S_$k" '%s' "$(printf '%s' "$s" | median_of)"
		printf -v "L_$k" '%s' "$(printf '%s' "$l" | median_of)"
	done
}

# sample BODY TAG: random lookup paths for SAMPLE keys of BODY, in
# TAG.txt ("fpr address" lines) and TAG-{fpr,email,hkp}.paths.
sample() {
	local body=$1 t=$WORK/$2
	shuf -n "$SAMPLE" --random-source=<(yes) "$body" |
		sed 's/^{"fpr":"\([0-9A-F]*\)".*"address":"\([^"]*\)".*/\1 \2/' \
		>"$t.txt"
	awk '{print "/vks/v1/by-fingerprint/" $1}' "$t.txt" >"$t-fpr.paths"
	awk '{print "/vks/v1/by-email/" $2}' "$t.txt" >"$t-email.paths"
	awk '{print "/pks/lookup?op=get&options=mr&search=0x" $1}' \
		"$t.txt" >"$t-hkp.paths"
}

# The bytes keydird publishes for the sample, as files for nginx.
fetch_www() {
	local w=$WORK/www
	mkdir -p "$w/vks/v1/by-fingerprint" "$w/vks/v1/by-email" "$w/hkp"
	awk -v u="$SURL" -v w="$w" '{
		print "url = \"" u "/vks/v1/by-fingerprint/" $1 "\""
		print "output = \"" w "/vks/v1/by-fingerprint/" $1 "\""
		print "url = \"" u "/vks/v1/by-email/" $2 "\""
		print "output = \"" w "/vks/v1/by-email/" $2 "\""
		print "url = \"" u "/pks/lookup?op=get&options=mr&search=0x" $1 "\""
		print "output = \"" w "/hkp/0x" $1 "\""
	}' "$WORK/small.txt" >"$WORK/fetch.cfg"
	curl -s --fail -K "$WORK/fetch.cfg" || die "fetching the sample failed"
}

# per_s N MS: N in MS milliseconds, per second.
per_s() { awk -v n="$1" -v t="$2" 'BEGIN { printf "%.0f", (t > 0) ? n * 1000 / t : 0 }'; }
# ratio A B: A/B with two decimals.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0) ? a / b : 0 }'; }
# verdict A B MIN: OK if A/B >= MIN.
verdict() { awk -v a="$1" -v b="$2" -v m="$3" 'BEGIN { print ((b > 0 && a / b >= m) ? "ok" : "MISS") }'; }

# ---------------------------------------------------------------------------------
main() {
	local body_s body_l up t_s fpr_l cold_s cold_l rss_s rss_l rss_u
	local imp_s imp_l how_l up_res ceil reup dc
	deps
	if [ "${BENCH_NO_BUILD:-0}" != 1 ]; then
		scripts/deps.sh run
		make -s all
	fi
	[ -x "$KEYDIRD" ] || die "no $KEYDIRD"
	mkdir -p "$CACHE" "$RESULTS"
	WORK=$(mktemp -d "${TMPDIR:-/tmp}/keydir-bench.XXXXXX")
	chmod 755 "$WORK"	# nginx workers run as nobody
	# keydird refuses to run as root without an account to switch to
	KD_USER=()
	[ "$(id -u)" -eq 0 ] && KD_USER=(--user nobody)
	if [ "${STORE:-sqlite}" = pg ]; then
		PG_URL=$(pg_start "$WORK/pg") || die "a PostgreSQL cluster"
		chmod 755 "$WORK"
	fi
	trap cleanup EXIT
	trap 'exit 130' INT TERM
	build_tools

	body_l=$(keys_file "$N_LARGE")
	body_s=$(keys_file "$N_SMALL")
	up=$(uploads_file)

	log "small directory: $N_SMALL keys"
	populate "$WORK/small" "$body_s"
	imp_s=$IMPORT_MS
	log "large directory: $N_LARGE keys"
	populate "$WORK/large" "$body_l"
	imp_l=$IMPORT_MS how_l=$IMPORT_HOW
	# the import's writes reach the disk before anything is measured
	sync

	# --- nginx: the small sample's bytes, as files
	sample "$body_s" small
	t_s=$(head -1 "$WORK/small.txt" | cut -d' ' -f1)
	kd_start "$WORK/small" "$t_s" "$SPORT"
	cold_s=$COLD_MS KDS_PID=$KD_PID KD_PID=
	fetch_www
	ngx_start
	lookups nginx "$NURL" small
	N_fpr=$R_fpr N_email=$R_email N_hkp=$R_hkp
	kill "$NGX_PID"; wait "$NGX_PID" 2>/dev/null || true; NGX_PID=

	# --- large: cold start (page cache dropped if we may)
	sample "$body_l" large
	fpr_l=$(head -1 "$WORK/large.txt" | cut -d' ' -f1)
	dc=no
	# dropping the page cache affects the whole machine: only when asked
	if [ "${BENCH_DROP_CACHES:-0}" = 1 ] && sync &&
	    echo 3 2>/dev/null >/proc/sys/vm/drop_caches; then dc=yes; fi
	kd_start "$WORK/large" "$fpr_l"
	cold_l=$COLD_MS

	# --- small and large in turns, then uploads on the large one
	paired_lookups
	rss_s=$(kd_rss "$KDS_PID")
	rss_l=$(kd_rss)
	kd_kill "$KDS_PID"; KDS_PID=
	if [ "${STORE:-sqlite}" = pg ]; then
		node2_start
		two_node_lookups
		removals
	fi

	log "librnp ceiling"
	ceil=$("$BIN/rnpbench" "$up" "$DUR" | tee "$WORK/rnpbench.txt" |
		sed 's/.* ops=\([0-9]*\).*/\1/')
	log "uploads of $UPLOADS distinct new certs"
	"$BIN/upload" "$URL/vks/v1/upload" "$up" "$CONNS" "$DUR" \
		>"$WORK/upload.txt" 2>>"$WORK/upload.err" || true
	up_res=$(up_fields "$WORK/upload.txt")
	[ "${STORE:-sqlite}" = pg ] && two_node_uploads "$up"
	head -1 "$up" >"$WORK/reupload.json"
	log "re-upload of one unchanged cert"
	reup=$(run_wrk reupload "$URL/vks/v1/upload" bench/post.lua "$WORK/reupload.json")
	rss_u=$(kd_rss)
	grep -ciE 'warn|error|fail' "$WORK/large.log" >"$WORK/kd-warnings.txt" || true
	kd_stop
	node2_stop

	LOOKUP_CACHE="none in this build"
	if [[ " ${BENCH_KD_SET:-} " == *" lookup_cache="* ]]; then
		LOOKUP_CACHE=${BENCH_KD_SET#*lookup_cache=}
		LOOKUP_CACHE="lookup_cache=${LOOKUP_CACHE%% *}"
	elif grep -qa lookup_cache "$KEYDIRD"; then
		LOOKUP_CACHE="lookup_cache at keydird's default (64 MB)"
	fi
	report "$cold_s" "$cold_l" "$rss_s" "$rss_l" "$rss_u" "$imp_s" "$imp_l" \
		"$how_l" "$ceil" "$up_res" "$reup" "$dc"
}

# One table row from "rps p50 p99 errors" plus ratio text.
trow() {
	local name=$1 n=$2 r=$3 ratio=$4 tgt=$5
	set -- $r
	printf '| %s | %s | %s | %s | %s | %s | %s | %s |\n' \
		"$name" "$n" "$1" "$2" "$3" "$4" "$ratio" "$tgt"
}

report() {
	local cold_s=$1 cold_l=$2 rss_s=$3 rss_l=$4 rss_u=$5 imp_s=$6 imp_l=$7
	local how=$8 ceil=$9 up_res=${10} reup=${11} dc=${12}
	local out stamp f r
	stamp=$(date +%Y-%m-%d-%H%M)
	out=$RESULTS/$stamp.md
	{
	echo "# keydir benchmark, $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo
	echo "STORE=${STORE:-sqlite} N_SMALL=$N_SMALL N_LARGE=$N_LARGE UPLOADS=$UPLOADS wrk -t2 -c$CONNS -d${DUR}s (lookups: median of $REPEAT runs), sample of $SAMPLE keys; directories filled by $how; keydird settings beyond the defaults: mail_rate=1s rate_limits=off max_unconfirmed_per_client=0 ${BENCH_KD_SET:-}"
	if [ "${STORE:-sqlite}" = pg ]; then
		echo
		echo "$(pg_describe | tr '\n' ' ')(bench/pg.sh); lookup cache: $LOOKUP_CACHE"
	fi
	echo
	echo '| test | keys | req/s | p50 ms | p99 ms | errors | ratio | target |'
	echo '|---|---|---|---|---|---|---|---|'
	trow "nginx static, by-fingerprint path" "-" "$N_fpr" "1.00" "reference"
	trow "nginx static, by-email path" "-" "$N_email" "1.00" "reference"
	trow "nginx static, HKP path" "-" "$N_hkp" "1.00" "reference"
	f=${N_fpr%% *}
	r=${S_fpr%% *}; trow "keydird VKS by-fingerprint" "$N_SMALL" "$S_fpr" "$(ratio "$r" "$f") × nginx" "≥ 0.5: $(verdict "$r" "$f" 0.5)"
	r=${S_email%% *}; trow "keydird VKS by-email" "$N_SMALL" "$S_email" "$(ratio "$r" "${N_email%% *}") × nginx" "≥ 0.5: $(verdict "$r" "${N_email%% *}" 0.5)"
	r=${S_hkp%% *}; trow "keydird HKP op=get" "$N_SMALL" "$S_hkp" "$(ratio "$r" "${N_hkp%% *}") × nginx" "≥ 0.5: $(verdict "$r" "${N_hkp%% *}" 0.5)"
	r=${L_fpr%% *}; trow "keydird VKS by-fingerprint" "$N_LARGE" "$L_fpr" "$(ratio "$r" "${S_fpr%% *}") × small, $(ratio "$r" "$f") × nginx" "≥ 0.8 × small: $(verdict "$r" "${S_fpr%% *}" 0.8)"
	r=${L_email%% *}; trow "keydird VKS by-email" "$N_LARGE" "$L_email" "$(ratio "$r" "${S_email%% *}") × small, $(ratio "$r" "${N_email%% *}") × nginx" "≥ 0.8 × small: $(verdict "$r" "${S_email%% *}" 0.8)"
	r=${L_hkp%% *}; trow "keydird HKP op=get" "$N_LARGE" "$L_hkp" "$(ratio "$r" "${S_hkp%% *}") × small, $(ratio "$r" "${N_hkp%% *}") × nginx" "≥ 0.8 × small: $(verdict "$r" "${S_hkp%% *}" 0.8)"
	[ "${STORE:-sqlite}" = pg ] && pg_lookup_rows "$f" "${N_email%% *}" "${N_hkp%% *}"
	echo "| librnp import+validate alone (ceiling) | - | $ceil | - | - | - | 1.00 | reference |"
	r=${up_res%% *}; trow "keydird uploads, new certs" "$N_LARGE" "$up_res" "$(ratio "$r" "$ceil") × librnp" "≥ 0.5: $(verdict "$r" "$ceil" 0.5)"
	[ "${STORE:-sqlite}" = pg ] && pg_upload_rows "$ceil"
	r=${reup%% *}; trow "keydird re-upload, unchanged cert" "$N_LARGE" "$reup" "-" "≥ 10000/s: $(verdict "$r" 10000 1)"
	echo
	echo '| keydird | value | target |'
	echo '|---|---|---|'
	echo "| cold start to first 200, $N_SMALL keys | $cold_s ms | |"
	echo "| cold start to first 200, $N_LARGE keys (page cache dropped: $dc) | $cold_l ms | < 1000 ms: $(verdict 1000 "$cold_l" 1) |"
	echo "| RSS after lookups, $N_SMALL keys | $rss_s MB | |"
	echo "| RSS after lookups, $N_LARGE keys | $rss_l MB | < 200 MB: $(verdict 200 "$rss_l" 1) |"
	echo "| RSS after uploads and re-uploads, $N_LARGE keys | $rss_u MB | < 200 MB: $(verdict 200 "$rss_u" 1) |"
	echo "| filling the $N_SMALL / $N_LARGE-key directories | $imp_s / $imp_l ms ($(per_s "$N_SMALL" "$imp_s") / $(per_s "$N_LARGE" "$imp_l") keys/s) | |"
	[ "${STORE:-sqlite}" = pg ] && pg_values && pg_notes
	echo
	echo '## Machine'
	echo
	echo '```'
	echo "nproc: $(nproc)"
	grep -m1 'model name' /proc/cpuinfo
	free -h
	echo "load average before/after: $LOAD0 / $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "keydird: $("$KEYDIRD" --version 2>&1 | head -1)"
	echo "nginx: $(nginx -v 2>&1)"
	echo "wrk: $(wrk -v 2>&1 | head -1)"
	echo "librnp: $(pkg-config --modversion librnp)"
	cat "$WORK/gen.txt" 2>/dev/null || true
	echo '```'
	echo
	echo '## Raw output'
	echo
	echo '```'
	for f in "$WORK"/wrk-*.txt "$WORK"/rnpbench.txt "$WORK"/upload.txt \
	    "$WORK"/upload.err "$WORK"/upload2-n1.txt "$WORK"/upload2-n2.txt \
	    "$WORK"/upload2.err "$WORK"/rm404.txt "$WORK"/rm404.err; do
		[ -s "$f" ] || continue
		echo "--- $(basename "$f")"
		cat "$f"
	done
	echo "--- warning/error lines in keydird's log (large): $(cat "$WORK/kd-warnings.txt" 2>/dev/null)"
	[ -z "$KILLED" ] || echo "--- keydird did not end on SIGTERM within 20 s, killed: pids$KILLED"
	echo '```'
	} >"$out.tmp"
	mv "$out.tmp" "$out"
	cat "$out"
	log "written to $out"
}

LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
main "$@"
