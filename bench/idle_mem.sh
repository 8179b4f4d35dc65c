#!/bin/bash
# bench/idle_mem.sh: memory per idle connection of pipecastd for each kind
# of client: raw (the clients port), SSE (GET /events) and WebSocket
# (GET /ws), measured as bench/run.sh measures raw idle clients: the
# daemon's resident memory (VmRSS) once N clients are connected and idle,
# less that before they connected, over N. One client of the same kind
# connects and leaves first, so that what the first client of a kind
# allocates once (the WebSocket ring) is in the figure before (not for raw
# clients: their ring is there from the start). Clients are
# split over load-generator processes of at most 7,500 connections each.
#   bench/idle_mem.sh [OUT]      N=15000 PROTOS="raw sse ws" by default
# Writes one row per kind to OUT (default build/bench/idle-mem.tsv):
#   kind N connected rss_before rss_after allocations_live_before
#   allocations_live_after load1
# and `pipecastd --sizes` (the size of each per-connection structure) to
# OUT's directory as sizes.tsv. Every process started here is stopped on
# exit; every wait is bounded.
set -u
cd "$(dirname "$0")/.."
D=${PIPECASTD:-build/pipecastd}
LG=build/bench/loadgen
OUT=${1:-build/bench/idle-mem.tsv}
N=${N:-15000}
PROTOS=${PROTOS:-raw sse ws}
SETTLE=${SETTLE:-2}
[ -x "$D" ] && [ -x "$LG" ] || { echo "idle_mem: build $D and $LG first" >&2; exit 1; }
T=$(mktemp -d /tmp/pipecast-idle.XXXXXX)
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; sleep 0.2; rm -rf "$T"' EXIT
trap 'exit 130' INT TERM
mkdir -p "$(dirname "$OUT")"
: >"$OUT"

log() { printf '[idle_mem %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
free_port() {
	python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'
}
rss() { awk '/^VmRSS:/{print $2*1024}' "/proc/$1/status" 2>/dev/null || echo 0; }
stat_of() { $LG stat -s "$T/stats.sock" "$@" 2>/dev/null; }
# until_connected N: bounded wait for clients_connected = N; prints it.
until_connected() {
	local i c=-
	for i in $(seq 600); do
		c=$(stat_of clients_connected)
		[ "$c" = "$1" ] && break
		sleep 0.1
	done
	echo "$c"
}
# clients KIND N TAG: N idle clients of KIND in processes of at most 7,500;
# returns once each process has its connections open (bounded).
clients() {
	local kind=$1 n=$2 tag=$3 procs per i x=()
	case $kind in
	raw) x=(-p "$RAWPORT");;
	sse) x=(-p "$HTTPPORT" -x sse -u /events);;
	ws) x=(-p "$HTTPPORT" -x ws -u /ws);;
	esac
	procs=$(( (n + 7499) / 7500 ))
	per=$(( n / procs ))
	for i in $(seq $procs); do
		$LG idle "${x[@]}" -n "$per" -t 300 -w "$T/ready.$tag.$i" >/dev/null &
		PIDS+=($!); CL+=($!)
	done
	for i in $(seq 1800); do       # each process touches its file when ready
		[ "$(find "$T" -name "ready.$tag.*" | wc -l)" = "$procs" ] && return 0
		sleep 0.05
	done
	log "$kind: load generators not ready"
}

# one KIND: a fresh daemon, one client to warm up, then N idle clients.
one() {
	local kind=$1 pid before after ab aa conn p
	RAWPORT=$(free_port); HTTPPORT=$(free_port)
	rm -f "$T/stats.sock"
	$D -o "clients.listen=tcp:127.0.0.1:$RAWPORT" -o "http.listen=tcp:127.0.0.1:$HTTPPORT" \
		-o "stats.socket=$T/stats.sock" -o clients.max_clients=20000 \
		-o 'source.input=exec:sleep 600' -o clients.idle_timeout=10m \
		-o daemon.log_level=notice 2>"$T/daemon-$kind.log" &
	pid=$!; PIDS+=($pid)
	for p in $(seq 100); do [ -S "$T/stats.sock" ] && break; sleep 0.1; done
	CL=()
	if [ "$kind" != raw ]; then     # a raw client that leaves is only half-closed
		clients "$kind" 1 warm
		until_connected 1 >/dev/null
		kill "${CL[@]}" 2>/dev/null; wait "${CL[@]}" 2>/dev/null
		until_connected 0 >/dev/null
	fi
	sleep 1
	before=$(rss $pid); ab=$(stat_of allocations_live)
	CL=()
	clients "$kind" "$N" main
	conn=$(until_connected "$N")
	sleep "$SETTLE"
	after=$(rss $pid); aa=$(stat_of allocations_live)
	kill "${CL[@]}" $pid 2>/dev/null; wait "${CL[@]}" $pid 2>/dev/null
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$kind" "$N" "$conn" "$before" "$after" "$ab" "$aa" \
		"$(cut -d' ' -f1 /proc/loadavg)" >>"$OUT"
	log "$kind n=$N connected=$conn rss before=$before after=$after" \
		"per_conn=$(( (after - before) / N )) allocations_live $ab -> $aa"
}

$D --sizes >"$(dirname "$OUT")/sizes.tsv" 2>/dev/null || rm -f "$(dirname "$OUT")/sizes.tsv"
for k in $PROTOS; do one "$k"; done
