#!/bin/bash
# bench/http.sh: SSE fan-out against raw fan-out, in the same run (make
# bench-http). For N = 100 and 1,000 clients of one kind at a time, one
# daemon reads RECORDS records of 9 bytes from a FIFO at full speed and the
# checker (build/tests/ssecheck, which verifies every byte) reports when the
# last client has the last record: delivered records/s = N x RECORDS /
# seconds. The ring holds the whole stream, so no client is ever dropped.
# Results: build/bench/http.txt. RECORDS (default 200000) sets the size.
. "$(dirname "$0")/fanout-setup.sh"
OUT=build/bench/http.txt

# run KIND N: one daemon, N clients of KIND (raw or sse); prints records/s.
run() {
	local kind=$1 n=$2 raw http sock pid epoch res secs
	raw=$(free_port); http=$(free_port); sock="$W/stats.sock"
	rm -f "$W/in.fifo" "$sock"
	"$D" -o "source.input=fifo:$W/in.fifo" -o "clients.listen=tcp:127.0.0.1:$raw" \
	     -o "http.listen=tcp:127.0.0.1:$http" -o "stats.socket=$sock" -o http.keepalive=0 \
	     -o clients.buffer=64MiB -o clients.max_clients=5000 -o daemon.log_level=warning \
	     2>>"$W/daemon.log" &
	pid=$!
	for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.1; done
	epoch=$(printf 'show info\n' | socat - "UNIX-CONNECT:$sock" | sed -n 's/^stream_epoch: //p')
	coproc CHK { if [ "$kind" = raw ]; then exec "$C" -p "$raw" -P "$http" -n "$n" -N 0 -r "$RECORDS" -e "$epoch" -t 600
		     else exec "$C" -p "$raw" -P "$http" -n 0 -N "$n" -r "$RECORDS" -e "$epoch" -t 600; fi; }
	read -r _ <&"${CHK[0]}"                     # ready: connected, maybe not accepted
	for _ in $(seq 600); do
		[ "$(printf 'show info\n' | socat - "UNIX-CONNECT:$sock" |
		     sed -n 's/^clients_connected: //p')" = "$n" ] && break
		sleep 0.1
	done
	cat "$W/records" >"$W/in.fifo"
	read -r res <&"${CHK[0]}"
	exec {CHK[1]}>&-
	wait "$CHK_PID" 2>/dev/null || true
	kill "$pid"; wait "$pid" 2>/dev/null || true
	case $res in ok="$n"\ bad=0\ eof=0\ short=0\ *) ;; *) echo "bench/http.sh: $kind N=$n: $res" >&2; return 1;; esac
	secs=${res##*seconds=}
	python3 -c "print('%.0f' % ($n * $RECORDS / max($secs, 1e-6)))"
}

{
	printf 'SSE against raw fan-out: %d records of 9 bytes, delivered records/s (all clients)\n' "$RECORDS"
	printf '%-6s %14s %14s %8s\n' N raw sse 'sse/raw'
	for n in ${NS:-100 1000}; do
		r=$(run raw "$n"); s=$(run sse "$n")
		printf '%-6s %14s %14s %7.0f%%\n' "$n" "$r" "$s" "$(python3 -c "print(100 * $s / $r)")"
	done
} | tee "$OUT"
