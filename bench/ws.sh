#!/bin/bash
# bench/ws.sh: WebSocket fan-out next to SSE and raw, and websocketd (make
# bench-ws). One daemon per measurement reads RECORDS records of 9 bytes
# from a FIFO at full speed; build/tests/ssecheck connects N clients of one
# kind, verifies every byte they receive and reports when the last client
# has the last record: delivered records/s = N x RECORDS / seconds.
#   pipecastd: raw, SSE (/events) and WebSocket (/ws) at N = 100 and 1,000;
#   websocketd --binary=false, one `socat -u TCP:127.0.0.1:RAW -` per client
#     reading pipecastd's raw port (the same stream), at N = 10 and 100.
# Memory per client: the servers' resident memory with N clients connected
# less that with none, over N (for websocketd: itself and its socat
# processes). Results: build/bench/ws.txt. RECORDS (default 200000).
. "$(dirname "$0")/fanout-setup.sh"
OUT=build/bench/ws.txt
# info NAME: one show info value of the daemon under test.
info() { printf 'show info\n' | socat - "UNIX-CONNECT:$W/stats.sock" | sed -n "s/^$1: //p"; }
# rss_kib PID...: resident KiB of these processes and their children.
rss_kib() {
	local pids="$*" kids
	for p in "$@"; do kids=$(pgrep -P "$p" | tr '\n' ' ') || true; pids="$pids $kids"; done
	ps -o rss= -p "$(echo $pids | tr ' ' ',')" | awk '{s += $1} END {print s + 0}'
}

# measure KIND N: prints "records/s bytes-per-client". KIND: raw, sse, ws
# (clients of pipecastd) or websocketd (clients of websocketd).
measure() {
	local kind=$1 n=$2 raw http wsd pid wpid="" flag target base res secs rss
	raw=$(free_port); http=$(free_port); wsd=$(free_port)
	rm -f "$W/in.fifo" "$W/stats.sock"
	"$D" -o "source.input=fifo:$W/in.fifo" -o "clients.listen=tcp:127.0.0.1:$raw" \
	     -o "http.listen=tcp:127.0.0.1:$http" -o "stats.socket=$W/stats.sock" \
	     -o http.keepalive=0 -o clients.buffer=64MiB -o clients.max_clients=5000 \
	     -o daemon.log_level=warning 2>>"$W/daemon.log" &
	pid=$!
	for _ in $(seq 100); do [ -S "$W/stats.sock" ] && break; sleep 0.1; done
	case $kind in
	raw) flag=-n; target=$raw ;;
	sse) flag=-N; target=$http ;;
	ws) flag=-W; target=$http ;;
	websocketd)
		flag=-W; target=$wsd
		websocketd --address=127.0.0.1 --port="$wsd" --binary=false \
			socat -u "TCP:127.0.0.1:$raw" - >>"$W/websocketd.log" 2>&1 &
		wpid=$!
		sleep 0.5 ;;
	esac
	# the WebSocket ring is allocated with its first client: before the base
	[ "$kind" = ws ] && "$C" -P "$http" -W 1 -r 0 -e - -t 5 </dev/null >/dev/null
	base=$(rss_kib $pid $wpid)
	coproc CHK { exec "$C" -p "$target" -P "$target" $flag "$n" -r "$RECORDS" -e "$(info stream_epoch)" -t 600; }
	read -r _ <&"${CHK[0]}"
	for _ in $(seq 600); do          # every client (or its socat) is the daemon's
		[ "$(info clients_connected)" = "$n" ] && break
		sleep 0.1
	done
	sleep 0.5
	rss=$(( ($(rss_kib $pid $wpid) - base) * 1024 / n ))
	cat "$W/records" >"$W/in.fifo"
	read -r res <&"${CHK[0]}"
	exec {CHK[1]}>&-
	wait "$CHK_PID" 2>/dev/null || true
	[ -n "$wpid" ] && { kill "$wpid"; wait "$wpid" 2>/dev/null || true; }
	kill "$pid"; wait "$pid" 2>/dev/null || true
	case $res in ok="$n"\ bad=0\ eof=0\ short=0\ *) ;; *) echo "bench/ws.sh: $kind N=$n: $res" >&2; return 1;; esac
	secs=${res##*seconds=}
	python3 -c "print('%.0f %d' % ($n * $RECORDS / max($secs, 1e-6), $rss))"
}

pct() { python3 -c "print('%.0f%%' % (100 * $1 / $2))"; }

{
	printf 'WebSocket fan-out: %d records of 9 bytes, delivered records/s (all clients),\n' "$RECORDS"
	printf 'and resident memory per connected client\n'
	printf '%-6s %-11s %14s %10s %8s\n' N server records/s B/client 'of raw'
	for n in ${NS:-100 1000}; do
		read -r r rm <<<"$(measure raw "$n")"
		for k in raw sse ws; do
			if [ $k = raw ]; then v=$r; m=$rm; else read -r v m <<<"$(measure $k "$n")"; fi
			printf '%-6s %-11s %14s %10s %8s\n' "$n" "pipecast-$k" "$v" "$m" "$(pct "$v" "$r")"
		done
	done
	for n in ${WNS:-10 100}; do
		read -r r rm <<<"$(measure ws "$n")"
		read -r v m <<<"$(measure websocketd "$n")"
		printf '%-6s %-11s %14s %10s %8s\n' "$n" pipecast-ws "$r" "$rm" ""
		printf '%-6s %-11s %14s %10s %8s\n' "$n" websocketd "$v" "$m" "$(pct "$v" "$r") of ws"
	done
} | tee "$OUT"
