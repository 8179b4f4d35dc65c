#!/bin/bash
# pipecast benchmarks: pipecastd against the seed's Go loops, Redis pub/sub,
# `ncat -l -k`, a raw fan-out ceiling and the pipe relay ceiling, and its SSE
# and WebSocket clients against nchan and websocketd (bench/browser.sh), all
# on loopback. Run by `make bench`
# (QUICK=1 for the reduced version). Writes bench/results/RESULTS.md, the
# README's headline tables (bench/results/HEADLINE.md), PNG plots
# and raw data under bench/results/raw/ (not committed); BENCH_OUT=DIR writes
# them under DIR instead, PIPECASTD=PATH measures another build of the daemon.
# Every process started here is stopped by the EXIT trap; every wait is bounded.
set -u
cd "$(dirname "$0")/.."
QUICK=${QUICK:-0}
[ "$QUICK" = 1 ] || QUICK=0
BIN=build/bench
D=${PIPECASTD:-build/pipecastd}
LG=$BIN/loadgen
RES=${BENCH_OUT:-$PWD/bench/results}
RAW=$RES/raw
T=$(mktemp -d /tmp/pipecast-bench.XXXXXX)
PIDS=()
mkdir -p "$RAW"
PARTIAL=${ONLY:+1}                    # ONLY=...: some parts, added to the earlier raw data
[ -n "$PARTIAL" ] || rm -f "$RAW"/*

cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	sleep 0.2
	for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
	[ -z "${NS:-}" ] || ip netns del "$NS" 2>/dev/null   # bench/browser.sh's, if left
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { printf '[bench %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
bg() { "$@" & PIDS+=($!); }          # start in the background, remember the pid
stop() {                               # stop pids started here, bounded
	local p i
	for p in "$@"; do kill "$p" 2>/dev/null; done
	for i in $(seq 50); do
		local alive=0
		for p in "$@"; do kill -0 "$p" 2>/dev/null && alive=1; done
		[ $alive = 0 ] && return 0
		sleep 0.1
	done
	for p in "$@"; do kill -9 "$p" 2>/dev/null; done
	return 0
}
wait_files() {                         # wait_files SECS FILE...
	local secs=$1 i f ok; shift
	for i in $(seq $((secs * 20))); do
		ok=1
		for f in "$@"; do [ -e "$f" ] || ok=0; done
		[ $ok = 1 ] && return 0
		sleep 0.05
	done
	log "timeout waiting for $*"
	return 1
}
wait_pids() {                          # wait_pids SECS PID...: bounded wait
	local secs=$1 i p alive; shift
	for i in $(seq $((secs * 10))); do
		alive=0
		for p in "$@"; do kill -0 "$p" 2>/dev/null && alive=1; done
		[ $alive = 0 ] && return 0
		sleep 0.1
	done
	log "timeout waiting for pids $*; stopping them"
	stop "$@"
}
# piped PRODUCER_ARGS -- SERVER...: producer | server through a FIFO, both in the
# background; sets PROD and SRV to their pids. The server's stderr goes to $ERR.
piped() {
	local a=() f
	while [ "$1" != -- ]; do a+=("$1"); shift; done
	shift
	f=$(mktemp -u "$T/fifo.XXXXXX")
	mkfifo "$f"
	(exec $LG produce "${a[@]}" >"$f") &
	PROD=$!
	PIDS+=($PROD)
	(exec "$@" <"$f" 2>"${ERR:-/dev/null}") &
	SRV=$!
	PIDS+=($SRV)
}
free_port() {
	python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'
}
rss() { awk '/^VmRSS:/{print $2*1024}' "/proc/$1/status" 2>/dev/null || echo 0; }
cpu() { awk '{print $14 + $15}' "/proc/${1:-0}/stat" 2>/dev/null || echo 0; }   # clock ticks
cores() {            # cores TICKS0 TICKS1 NS0 NS1: CPU seconds per second between them
	awk "BEGIN{printf \"%.2f\", ($2 - $1) / $(getconf CLK_TCK) / (($4 - $3) / 1e9)}"
}
kv() { tr ' ' '\n' | sed -n "s/^$1=//p" | head -1; }   # kv NAME < "a=1 b=2"
# sub_totals FILE...: what `loadgen sub` processes printed, summed in one pass:
# records/s, bytes/s (each one's bytes over its own window), bytes per
# record, closed, misaligned, CPU seconds.
sub_totals() {
	awk '{ split("", k); for (i = 1; i <= NF; i++) { split($i, a, "="); k[a[1]] = a[2] }
	       rate += k["rate"]; recs += k["records"]; bytes += k["bytes"]
	       closed += k["closed"]; bad += k["misaligned"]; cpu += k["cpu_s"]
	       if (k["secs"] > 0) bps += k["bytes"] / k["secs"] }
	     END { printf "%.0f %.0f %.1f %d %d %.3f\n", rate, bps, (recs > 0 ? bytes / recs : 0),
	           closed, bad, cpu }' "$@"
}

# ---- peers: Debian packages ----
install_peers() {
	local need="" p
	for p in golang-1.19-go redis-server ncat gnuplot-nox valgrind python3 websocketd socat curl; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
			need="$need $p"
	done
	[ -z "$need" ] && return 0
	if [ "$(id -u)" -ne 0 ]; then
		log "missing packages; install them with: sudo apt-get install -y$need"
		exit 1
	fi
	log "installing$need"
	DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $need >/dev/null ||
		exit 1
}
install_peers
GO=/usr/lib/go-1.19/bin/go
for p in leak fixed; do       # built again only when a source is newer than it
	[ -z "$(find bench/seed/$p -newer "$BIN/seed-$p" 2>/dev/null)" ] && [ -x "$BIN/seed-$p" ] && continue
	(cd bench/seed/$p && GOCACHE="$T/gocache" GOPATH="$T/gopath" GOFLAGS= GOPROXY=off \
		GOTOOLCHAIN=local "$GO" build -o "../../../$BIN/seed-$p" .) || exit 1
done
[ -x "$D" ] && [ -x "$LG" ] && [ -x "$BIN/raw_ceiling" ] && [ -x "$BIN/pipe_relay" ] ||
	{ log "build first: make bench"; exit 1; }

# Sizes of the runs; each may be overridden from the environment.
if [ $QUICK = 1 ]; then
	d_seed=5; d_ns="1 100"; d_meas=1.5; d_reps=1; d_idle="1000"; d_churn=2000; d_cgc=10; d_cgr=50000
	d_servers="raw relay pipecastd ncat redis"
else
	d_seed=30; d_ns="1 10 100 1000"; d_meas=3; d_reps=3; d_idle="1000 5000 15000"; d_churn=10000
	d_cgc=100; d_cgr=200000; d_servers="raw relay pipecastd ncat redis"
fi
SEED_SECS=${SEED_SECS:-$d_seed}; FAN_NS=${FAN_NS:-$d_ns}; MEAS=${MEAS:-$d_meas}
IDLE_NS=${IDLE_NS:-$d_idle}; CHURN_N=${CHURN_N:-$d_churn}
CG_CLIENTS=${CG_CLIENTS:-$d_cgc}; CG_RECORDS=${CG_RECORDS:-$d_cgr}
# callgrind runs beside the raw clients' (part 5); QUICK: WebSocket only, no base
CG_PROTOS=${CG_PROTOS:-$([ $QUICK = 1 ] && echo ws || echo "sse ws")}
CG_BUFFER=${CG_BUFFER:-$([ $QUICK = 1 ] && echo 8MiB || echo 64MiB)}   # holds CG_RECORDS
SETTLE=$([ $QUICK = 1 ] && echo 1 || echo 2)
REPS=${REPS:-$d_reps}   # repetitions of the pipecastd, ceiling and seed runs (medians)
FAN_SERVERS=${FAN_SERVERS:-$d_servers}; FAN_MODES=${FAN_MODES:-"rate sat stall match"}
# pipecastd's ring at saturation (clients.buffer); a smaller one shows what a cold
# 64 MiB history costs the fan-out path against the relay's one hot buffer
FAN_BUFFER=${FAN_BUFFER:-64MiB}
RATE=10000
LEAK_CAP=$((4 * 1024 * 1024 * 1024))
START_EPOCH=$(date -u '+%Y-%m-%d %H:%M UTC')
log "QUICK=$QUICK; raw data in $RAW"
# Other work on the machine skews every figure: note it.
{ echo "start $(cut -d' ' -f1-3 /proc/loadavg)"
  ps -eo pcpu=,comm= --sort=-pcpu | awk '$1 >= 10 {print "busy", $1, $2}' | head -5; } >"$RAW/load.txt.new"
[ -n "$PARTIAL" ] || mv "$RAW/load.txt.new" "$RAW/load.txt"

# pipecastd with a stats socket in $T; extra -o options follow.
daemon_args() {
	echo -o clients.listen=tcp:127.0.0.1:$1 -o stats.socket=$T/stats.sock \
		-o clients.max_clients=20000 -o daemon.log_level=notice -o daemon.shutdown_timeout=2s
}
wait_stats() { wait_files 10 "$T/stats.sock"; }
wait_clients() {     # wait_clients N: the daemon has accepted N clients (bounded)
	local i c
	for i in $(seq 200); do
		c=$($LG stat -s "$T/stats.sock" clients_connected 2>/dev/null)
		[ "$c" = "$1" ] && return 0
		sleep 0.05
	done
	log "daemon has ${c:-?} clients, not $1"
}
load1() { cut -d' ' -f1 /proc/loadavg; }

# ==== 1. the seed's workload ====
# seed_run NAME: producer | program, one client, per-second records and RSS.
seed_run() {
	local name=$1 port pid sub rssp go=$T/go.$1 pa
	port=$(free_port)
	rm -f "$T/stats.sock"
	pa=(-m seed -t $((SEED_SECS + 20)) -w "$go")
	ERR=$RAW/seed-$name.log
	case $name in
	pipecastd)
		piped "${pa[@]}" -- $D $(daemon_args $port) -o source.idle_timeout=3m -o clients.idle_timeout=3m \
			-o clients.overflow=skip
		wait_stats;;
	go-*)
		piped "${pa[@]}" -- $BIN/seed-${name#go-} 127.0.0.1:$port
		sleep 0.3;;
	esac
	pid=$SRV
	bg $LG sub -p "$port" -n 1 -t "$SEED_SECS" -L none -F 6 -w "$T/ready.$name" -S "$RAW/seed-$name.rate" \
		>"$RAW/seed-$name.sub"
	sub=$!
	wait_files 10 "$T/ready.$name"
	[ $name = pipecastd ] && wait_clients 1
	bg $LG rss -P "$pid" -t "$SEED_SECS" -c $LEAK_CAP -o "$RAW/seed-$name.rss"
	rssp=$!
	touch "$go"
	wait_pids $((SEED_SECS + 15)) "$sub" "$rssp"
	[ $name = pipecastd ] && $LG stat -s "$T/stats.sock" clients_skipped_bytes_total clients_dropped_overflow_total \
		>"$RAW/seed-$name.skipped"
	stop "$pid" "$PROD"
	printf '%s %s\n' "$(kv rate <"$RAW/seed-$name.sub")" "$(load1)" >>"$RAW/seed-$name.reps"
	log "seed $name: $(cat "$RAW/seed-$name.sub")"
}

# ==== 2. fan-out ====
REDIS_PORT=
start_redis() {      # start_redis: fresh redis-server on a free port, no persistence
	REDIS_PORT=$(free_port)
	bg redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no \
		--maxclients 19000 --daemonize no --logfile "$RAW/redis.log" --dir "$T"
	REDIS_PID=$!
	for i in $(seq 100); do
		redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && return 0
		sleep 0.05
	done
	log "redis did not start"; return 1
}

# fan SERVER N MODE STALL: one run; appends one row to $RAW/fanout.tsv
fan() {
	local srv=$1 n=$2 mode=$3 stall=$4 port tag go ready=() subs=() procs per i rate=0 lat
	local srvpid="" idlepid="" prodpid="" extra=() rflag=() ptotal
	tag="$srv-$n-$mode-$stall.$(date +%s%N)"
	go=$T/go.$tag
	case $mode in
	rate) rflag=(-r $RATE); lat=full;;
	sat) rflag=(-r 0); lat=sample;;
	match) rflag=(-r $RAW_SRC_RATE); lat=sample;;   # the raw ceiling's source rate
	esac
	ptotal=$((n + stall))
	rm -f "$T/stats.sock"
	local pa=("${rflag[@]}" -t $((${MEAS%.*} + 30)) -w "$go")
	ERR=$RAW/$tag.log
	case $srv in
	pipecastd)
		port=$(free_port)
		[ "$mode" != rate ] && extra=(-o clients.overflow=skip -o clients.buffer=$FAN_BUFFER)
		piped "${pa[@]}" -- $D $(daemon_args $port) "${extra[@]}"
		srvpid=$SRV; prodpid=$PROD
		wait_stats;;
	raw)
		port=$(free_port)
		piped "${pa[@]}" -- $BIN/raw_ceiling $port $ptotal
		srvpid=$SRV; prodpid=$PROD;;
	relay)
		port=$(free_port)
		piped "${pa[@]}" -- $BIN/pipe_relay $port $ptotal
		srvpid=$SRV; prodpid=$PROD;;
	ncat)
		port=$(free_port)
		piped "${pa[@]}" -- ncat -l -k -m 20000 --send-only 127.0.0.1 $port
		srvpid=$SRV; prodpid=$PROD
		sleep 0.3;;
	redis)
		port=$REDIS_PORT;;
	esac
	procs=1; [ "$n" -ge 100 ] && procs=2
	per=$((n / procs))
	local xr=(); [ "$srv" = redis ] && xr=(-x redis)
	for i in $(seq $procs); do
		bg $LG sub -p "$port" -n "$per" -t "$MEAS" -L $lat "${xr[@]}" -w "$T/ready.$tag.$i" \
			-H "$RAW/$tag.hist.$i" >"$RAW/$tag.sub.$i"
		subs+=($!)
		ready+=("$T/ready.$tag.$i")
	done
	if [ "$stall" = 1 ]; then
		bg $LG idle -p "$port" -n 1 -t $((${MEAS%.*} + 40)) "${xr[@]}" -w "$T/ready.$tag.idle" >/dev/null
		idlepid=$!
		ready+=("$T/ready.$tag.idle")
	fi
	# ncat accepts slowly (1,000 clients take about 20 s here)
	wait_files 90 "${ready[@]}" || { stop $srvpid $prodpid $idlepid "${subs[@]}"; return 0; }
	[ "$srv" = pipecastd ] && wait_clients $ptotal
	if [ "$srv" = redis ]; then
		bg $LG produce "${rflag[@]}" -t $((${MEAS%.*} + 30)) -R "$port" -w "$go" 2>/dev/null
		prodpid=$!
	fi
	# CPU of the server and the producer over 90 % of the receivers' window
	# (a relay exits with its clients), in cores: CPU seconds per second
	local c0s c0p c1s c1p t0 t1
	c0s=$(cpu $srvpid); c0p=$(cpu $prodpid); t0=$(date +%s%N)
	touch "$go"
	sleep "$(awk "BEGIN{print $MEAS * 0.9}")"
	c1s=$(cpu $srvpid); c1p=$(cpu $prodpid); t1=$(date +%s%N)
	wait_pids $((${MEAS%.*} + 25)) "${subs[@]}"
	local skipped="-"
	if [ "$srv" = pipecastd ]; then
		skipped=$($LG stat -s "$T/stats.sock" clients_skipped_bytes_total 2>/dev/null || echo -)
	fi
	stop $srvpid $prodpid $idlepid
	local closed bad subcpu
	read -r rate _ _ closed bad subcpu < <(sub_totals "$RAW/$tag".sub.*)
	local h; h=$($LG hist "$RAW/$tag".hist.*)
	# the cores used by the server, the producer and the receivers
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$srv" "$n" "$mode" "$stall" \
		"$rate" "$(echo "$h" | kv p50_us)" "$(echo "$h" | kv p99_us)" "$(echo "$h" | kv max_us)" \
		"$closed" "$bad" "$skipped" "$(load1)" "$(cores $c0s $c1s $t0 $t1)" \
		"$(cores $c0p $c1p $t0 $t1)" "$(awk "BEGIN{printf \"%.2f\", $subcpu / $MEAS}")" >>"$RAW/fanout.tsv"
	[ "$srv" = raw ] && [ "$mode" = sat ] && [ "$stall" = 0 ] && RAW_SRC_RATE=$((rate / n))
	log "fan $tag: rate=$rate $h closed=$closed misaligned=$bad skipped=$skipped"
}

# ==== 3. idle connections ====
idle_run() {       # idle_run SERVER N
	local srv=$1 n=$2 port pid before after procs per i ids=() ready=() src
	rm -f "$T/stats.sock"
	if [ "$srv" = pipecastd ]; then
		port=$(free_port)
		bg $D $(daemon_args $port) -o 'source.input=exec:sleep 600' -o clients.idle_timeout=10m 2>"$RAW/idle-$n.log"
		pid=$!
		wait_stats
	else
		start_redis || return
		port=$REDIS_PORT; pid=$REDIS_PID
	fi
	sleep 1
	before=$(rss $pid)
	procs=$(( (n + 7499) / 7500 )); [ "$n" -ge 5000 ] && [ $procs -lt 2 ] && procs=2
	per=$((n / procs))
	local xr=(); [ "$srv" = redis ] && xr=(-x redis)
	for i in $(seq $procs); do
		bg $LG idle -p "$port" -n "$per" -t 120 "${xr[@]}" -w "$T/ready.idle.$srv.$n.$i" >/dev/null
		ids+=($!); ready+=("$T/ready.idle.$srv.$n.$i")
	done
	wait_files 90 "${ready[@]}"
	local conn=-
	for i in $(seq 50); do
		if [ "$srv" = pipecastd ]; then
			conn=$($LG stat -s "$T/stats.sock" clients_connected)
		else
			conn=$(redis-cli -p "$port" info clients | tr -d '\r' | sed -n 's/^connected_clients://p')
			conn=$((conn - 1))   # redis-cli itself
		fi
		[ "$conn" = "$((per * procs))" ] && break
		sleep 0.1
	done
	sleep $SETTLE
	after=$(rss $pid)
	local statrss=-
	[ "$srv" = pipecastd ] && statrss=$($LG stat -s "$T/stats.sock" memory_rss_bytes)
	stop "${ids[@]}" $pid
	printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$srv" "$((per * procs))" "$conn" "$before" "$after" "$statrss" >>"$RAW/idle.tsv"
	log "idle $srv n=$((per * procs)) connected=$conn rss before=$before after=$after per_conn=$(( (after - before) / (per * procs) ))"
}

# ==== 4. timer churn ====
churn_run() {
	local n=$1 port pid i ids=() ready=() probe per
	per=$((n / 2))
	rm -f "$T/stats.sock"
	port=$(free_port)
	bg $D $(daemon_args $port) -o 'source.input=exec:sleep 600' -o clients.idle_timeout=1s 2>"$RAW/churn.log"
	pid=$!
	wait_stats
	sleep 0.5
	$LG stat -s "$T/stats.sock" timers_live timers_client_live clients_connected >"$RAW/churn.before"
	bg $LG probe -s "$T/stats.sock" -t 30 -i 10 -H "$RAW/churn.probe.hist" >"$RAW/churn.probe"
	probe=$!
	for i in 1 2; do
		bg $LG churn -p "$port" -n "$per" -t 30 -e 1000 -w "$T/ready.churn.$i" -H "$RAW/churn.hist.$i" >"$RAW/churn.$i"
		ids+=($!); ready+=("$T/ready.churn.$i")
	done
	wait_pids 40 "${ids[@]}"
	stop "$probe"
	sleep 0.3
	$LG stat -s "$T/stats.sock" timers_live timers_client_live clients_connected \
		clients_closed_idle_total timer_expirations_total >"$RAW/churn.after"
	stop $pid
	log "churn: $(cat "$RAW/churn.1") / $(cat "$RAW/churn.probe") / before $(cat "$RAW/churn.before") after $(cat "$RAW/churn.after")"
}

# ==== 5. instructions per delivered record ====
callgrind_one() {    # callgrind_one TAG RECORDS [DAEMON [PROTO]]: one run under callgrind
	local tag=$1 recs=$2 daemon=${3:-$D} proto=${4:-raw} port pid sub go=$T/go.$1 hport xs=() http=()
	rm -f "$T/stats.sock"
	port=$(free_port)
	if [ "$proto" != raw ]; then      # the clients read /events or /ws
		hport=$(free_port)
		http=(-o "http.listen=tcp:127.0.0.1:$hport" -o http.keepalive=0)
		xs=(-x "$proto" -u "$([ "$proto" = sse ] && echo /events || echo /ws)")
	fi
	ERR=$RAW/$tag.log
	piped -n "$recs" -t 300 -w "$go" -- valgrind --tool=callgrind \
		--callgrind-out-file="$RAW/$tag.out" $daemon $(daemon_args $port) -o daemon.shutdown_timeout=30s \
		-o clients.buffer=$CG_BUFFER "${http[@]}"
	pid=$SRV
	wait_files 60 "$T/stats.sock"
	bg $LG sub -p "${hport:-$port}" -n "$CG_CLIENTS" -t 300 -L none "${xs[@]}" -w "$T/ready.$tag" >"$RAW/$tag.sub"
	sub=$!
	wait_files 60 "$T/ready.$tag"
	wait_clients "$CG_CLIENTS"
	touch "$go"
	wait_pids 300 "$sub" "$pid"
	stop $pid $PROD
	callgrind_annotate "$RAW/$tag.out" 2>/dev/null | head -45 >"$RAW/$tag.top"
	log "$tag: $(cat "$RAW/$tag.sub")"
}
# The workload, then the same start-up and shutdown with no record, to subtract,
# for raw clients (tags callgrind, callgrind-base) and for each protocol of
# CG_PROTOS (callgrind-sse, callgrind-sse-base, ...; QUICK: no base);
# the ring (CG_BUFFER) holds the whole stream, so that no client is dropped
# however the machine's load slows the receivers;
# CG_BEFORE=BINARY measures another build (an earlier commit) the same way.
callgrind_run() {
	local p
	callgrind_one callgrind "$CG_RECORDS"
	callgrind_one callgrind-base 0
	for p in $CG_PROTOS; do
		callgrind_one "callgrind-$p" "$CG_RECORDS" "$D" "$p"
		[ "$QUICK" = 1 ] || callgrind_one "callgrind-$p-base" 0 "$D" "$p"
	done
	if [ -n "${CG_BEFORE:-}" ]; then
		callgrind_one callgrind-before "$CG_RECORDS" "$CG_BEFORE"
		callgrind_one callgrind-before-base 0 "$CG_BEFORE"
	fi
}

# ==== 6. browser fan-out: SSE, WebSocket and nchan (bench/browser.sh) ====
. bench/browser.sh

# ---- run everything (ONLY="seed fan idle churn callgrind browser redis relay" selects parts) ----
ONLY=${ONLY:-seed fan idle churn callgrind browser redis relay}
selected() { case " $ONLY " in *" $1 "*) return 0;; esac; return 1; }
# want PART: the part is selected; notes the load average as it starts
want() {
	selected "$1" || return 1
	sed -i "/^part $1 /d" "$RAW/load.txt" 2>/dev/null
	echo "part $1 $(cut -d' ' -f1-3 /proc/loadavg)" >>"$RAW/load.txt"
}
selected fan && : >"$RAW/fanout.tsv"
selected idle && : >"$RAW/idle.tsv"
# Seed: pipecastd and the fixed Go loop back to back in each repetition.
if want seed; then
	rm -f "$RAW"/seed-*.reps
	for r in $(seq $REPS); do
		for s in pipecastd go-fixed; do seed_run $s; done
	done
	seed_run go-leak
fi
# Fan-out: within a repetition every server runs one mode after the other,
# so that pipecastd and its ceilings run back to back for each row.
if want fan; then
	start_redis || exit 1
	for n in $FAN_NS; do
		for r in $(seq $REPS); do
			RAW_SRC_RATE=
			for m in $FAN_MODES; do
				for s in $FAN_SERVERS; do
					case $s in pipecastd|raw|relay) ;; *) [ $r = 1 ] || continue;; esac
					# QUICK: the other peers at saturation only, pipecastd alone stalled
					[ $QUICK = 1 ] && case $s in ncat|redis) [ $m = sat ] || continue;; raw)
						[ $m = stall ] && continue;; esac
					case $m in
					rate) [ $s = relay ] || fan $s "$n" rate 0;;
					sat) fan $s "$n" sat 0;;
					stall) case $s in raw) [ $r != 1 ];; relay) true;; *) false;; esac ||
						fan $s "$n" sat 1;;
					match) [ $s = pipecastd ] && [ -n "$RAW_SRC_RATE" ] &&
						fan $s "$n" match 0 && fan $s "$n" match 1;;
					esac
				done
			done
		done
	done
	stop "$REDIS_PID"
fi
if want idle; then
	for n in $IDLE_NS; do idle_run pipecastd "$n"; idle_run redis "$n"; done
	# raw, SSE and WebSocket clients at the largest N, and the struct sizes
	PIPECASTD=$D N=${IDLE_NS##* } bench/idle_mem.sh "$RAW/idle-kinds.tsv"
fi
want churn && churn_run "$CHURN_N"
want callgrind && callgrind_run
want browser && browser_run
want redis && { python3 bench/redis_edge.py $([ $QUICK = 1 ] && echo 100000 3) \
	>"$RAW/redis-edge.txt" && cat "$RAW/redis-edge.txt" >&2; }
want relay && { python3 bench/relay_latency.py $([ $QUICK = 1 ] && echo 3) \
	>"$RAW/relay-latency.txt" && cat "$RAW/relay-latency.txt" >&2; }
[ -n "$PARTIAL" ] || echo "end $(cut -d' ' -f1-3 /proc/loadavg)" >>"$RAW/load.txt"
log "writing $RES/RESULTS.md"
START_EPOCH="$START_EPOCH" QUICK=$QUICK SEED_SECS=$SEED_SECS MEAS=$MEAS RATE=$RATE \
	CHURN_N=$CHURN_N CG_CLIENTS=$CG_CLIENTS CG_RECORDS=$CG_RECORDS CG_BUFFER=$CG_BUFFER LEAK_CAP=$LEAK_CAP REPS=$REPS \
	CG_BEFORE_LABEL="${CG_BEFORE_LABEL:-${CG_BEFORE:-}}" \
	BENCH_OUT=$RES python3 bench/report.py && log "done: $RES/RESULTS.md"
