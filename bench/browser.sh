# shellcheck shell=bash
# bench/browser.sh: browser fan-out, sourced by bench/run.sh (which defines
# bg, stop, piped, wait_files, wait_pids, wait_clients, free_port, kv, cpu,
# cores, load1, daemon_args, sub_totals, $LG, $D, $T, $RAW, MEAS, RATE, REPS, QUICK).
#
# The same 64-byte timestamped records, fanned out by pipecastd to raw TCP
# clients, EventSource clients (GET /events) and WebSocket clients (GET /ws),
# by nchan (bench/nchan.sh) to EventSource and WebSocket subscribers, and by
# websocketd (--binary=false, one `socat -u TCP:127.0.0.1:RAW -` per client
# reading pipecastd's raw port, so the same stream) to WebSocket clients, up
# to BROWSER_WSD_MAX clients (it runs a process per client). Two modes:
#   sat   the producer as fast as it can (pipecastd: overflow = skip and a
#         64 MiB ring, as in the raw fan-out rows of run.sh): delivered
#         records/s and bytes/s;
#   rate  RATE records/s offered, every record's latency (p50, p99, max).
# For each N, repetition and mode the kinds run back to back: pipecastd's raw
# clients (at saturation; their latency at RATE is the raw fan-out part's),
# raw clients again with a heartbeat (100 ms) that reached every one of them
# before the stream began (rawhb: each socket has carried a small write
# before the burst, as an HTTP response head has on an SSE or WebSocket one,
# which changes what a pacing congestion control such as bbr does with it),
# then each protocol's nchan run right before pipecastd's, and websocketd
# right after pipecastd's WebSocket run. A kind whose protocol ends in @CC
# (raw@cubic, ws@cubic) runs the daemon and its receivers in a network
# namespace of their own whose congestion control is CC (its loopback as the
# host's; skipped where namespaces or CC are not available): the same
# comparison without a pacing congestion control, two alternating pairs in
# each repetition.
# One row per run in $RAW/browser.tsv (columns: see browser_fan); memory per
# idle nchan subscriber in $RAW/nchan-idle.tsv; websocketd's memory in
# $RAW/websocketd-mem.tsv, a row per websocketd run: N, the resident bytes
# of websocketd and its processes before the clients connected and with
# all N connected (before the stream), load1. bench/report_browser.py
# reads them.

BROWSER_NS=${BROWSER_NS:-$([ "$QUICK" = 1 ] && echo 100 || echo "100 1000")}
# KIND:MODE pairs of one repetition, in the order they run (QUICK: each
# server and protocol once, each server in both modes)
if [ "$QUICK" = 1 ]; then
	d_browser="nchan-sse:sat pipecastd-sse:sat pipecastd-ws:rate nchan-ws:rate"
else
	d_browser="pipecastd-raw:sat pipecastd-rawhb:sat nchan-sse:sat pipecastd-sse:sat nchan-ws:sat pipecastd-ws:sat websocketd-ws:sat"
	d_browser="$d_browser pipecastd-raw@cubic:sat pipecastd-ws@cubic:sat"
	d_browser="$d_browser pipecastd-raw@cubic:sat pipecastd-ws@cubic:sat"
	d_browser="$d_browser nchan-sse:rate pipecastd-sse:rate nchan-ws:rate pipecastd-ws:rate"
	d_browser="$d_browser websocketd-ws:rate"
fi
BROWSER_RUNS=${BROWSER_RUNS:-$d_browser}
BROWSER_WSD_MAX=${BROWSER_WSD_MAX:-100}
# websocketd's own N (at most BROWSER_WSD_MAX): those not in BROWSER_NS get a
# pipecastd WebSocket run and a websocketd run at saturation, REPS times
BROWSER_WSD_NS=${BROWSER_WSD_NS:-$([ "$QUICK" = 1 ] && echo "" || echo "10 100")}
NCHAN_IDLE_NS=${NCHAN_IDLE_NS:-$([ "$QUICK" = 1 ] && echo 1000 || echo 5000)}   # REPS runs each
NCHAN_IDLE_PROTOS=${NCHAN_IDLE_PROTOS:-$([ "$QUICK" = 1 ] && echo sse || echo "sse ws")}

# free_ports N: N distinct TCP ports that were free a moment ago.
free_ports() {
	python3 -c 'import socket, sys
s = [socket.socket() for _ in range(int(sys.argv[1]))]
for x in s: x.bind(("127.0.0.1", 0))
print(" ".join(str(x.getsockname()[1]) for x in s))' "$1"
}
# nchan_start: a fresh nchan on a free port; sets NCHAN_PORT and NCHAN_PID.
nchan_start() {
	NCHAN_PORT=$(free_port)
	rm -rf "$T/nchan"
	bg bench/nchan.sh run "$T/nchan" "$NCHAN_PORT"
	NCHAN_PID=$!
	bench/nchan.sh wait "$NCHAN_PORT" || return 1
}
# nchan_subscribers PORT: active subscribers of the bench channel.
nchan_subscribers() {
	curl -s -m 2 "http://127.0.0.1:$1/pub" | sed -n 's/^active subscribers: //p' | tr -d '\r'
}
# websocketd_start RAWPORT: websocketd on a free port, a socat per client
# reading pipecastd's raw port; sets WSD_PORT and WSD_PID.
websocketd_start() {
	local i
	WSD_PORT=$(free_port)
	bg websocketd --address=127.0.0.1 --port="$WSD_PORT" --binary=false --loglevel=error \
		socat -u "TCP:127.0.0.1:$1" - 2>>"$RAW/websocketd.log"
	WSD_PID=$!
	for i in $(seq 100); do
		curl -s -o /dev/null -m 1 "http://127.0.0.1:$WSD_PORT/" && return 0
		sleep 0.05
	done
	log "websocketd did not start"
	return 1
}
# rss_tree PID: resident bytes of a process and its children (websocketd and
# the program it runs for each client).
rss_tree() {
	local p t=0
	for p in "$1" $(pgrep -P "$1"); do t=$((t + $(rss "$p"))); done
	echo "$t"
}
# browser_wait SERVER N: bounded wait until the server has its N subscribers
# (websocketd: its N socat clients are pipecastd's).
browser_wait() {
	local i
	if [ "$1" != nchan ]; then wait_clients "$2"; return; fi
	for i in $(seq 100); do
		[ "$(nchan_subscribers "$NCHAN_PORT")" = "$2" ] && return 0
		sleep 0.05
	done
	log "nchan has $(nchan_subscribers "$NCHAN_PORT") subscribers, not $2"
}

# browser_heartbeat: bounded wait until a heartbeat went out after the last
# client connected (clients are caught up, so it is written to each at once).
browser_heartbeat() {
	local i h0 h
	h0=$($LG stat -s "$T/stats.sock" heartbeats_total 2>/dev/null)
	for i in $(seq 100); do
		sleep 0.05
		h=$($LG stat -s "$T/stats.sock" heartbeats_total 2>/dev/null)
		[ -n "$h" ] && [ -n "$h0" ] && [ "$h" -gt "$h0" ] && { sleep 0.2; return 0; }
	done
	log "no heartbeat went out before the stream"
}

# netns_up CC: a network namespace (its loopback up) whose TCP congestion
# control is CC; sets NS and NSX (the prefix that runs a command in it).
netns_up() {
	NS=pcbench.$$
	NSX=(ip netns exec "$NS")
	ip netns add "$NS" 2>/dev/null && ip -n "$NS" link set lo up &&
		"${NSX[@]}" sysctl -qw "net.ipv4.tcp_congestion_control=$1" && return 0
	log "no network namespace with congestion control $1: its runs are left out"
	ip netns del "$NS" 2>/dev/null
	return 1
}

# browser_fan SERVER PROTO N MODE: one run; SERVER pipecastd, nchan or
# websocketd, PROTO raw or rawhb (pipecastd only), sse or ws, MODE sat or rate;
# PROTO@CC (pipecastd only): in a namespace with congestion control CC.
# Appends one row to $RAW/browser.tsv: server proto N mode records/s bytes/s
# bytes-per-record p50 p99 max (us) closed misaligned skipped load1
# server-cores receivers-cores.
browser_fan() {
	local srv=$1 proto=$2 n=$3 mode=$4 tag go port path="" pid prod procs per i
	local rflag lat extra=() xs=() subs=() ready=() bpr bps rate closed bad subcores skipped=-
	local row=$2 NSX=() wsd_rss=-
	tag="browser-$srv-$proto-$n-$mode.$(date +%s%N)"
	if [ "$proto" != "${proto%@*}" ]; then
		netns_up "${proto#*@}" || return 0
		proto=${proto%@*}
	fi
	go=$T/go.$tag
	case $mode in rate) rflag=(-r $RATE); lat=full;; *) rflag=(-r 0); lat=sample;; esac
	if [ "$srv" = nchan ]; then
		nchan_start || return 0
		port=$NCHAN_PORT; pid=$(bench/nchan.sh worker "$NCHAN_PID"); path=/sub
	else
		local hport
		read -r port hport < <(free_ports 2)
		rm -f "$T/stats.sock"
		[ "$mode" = sat ] && extra=(-o clients.overflow=skip -o clients.buffer=64MiB)
		[ "$proto" = rawhb ] && extra+=(-o clients.heartbeat=100ms)
		ERR=$RAW/$tag.log
		piped "${rflag[@]}" -t $((${MEAS%.*} + 30)) -w "$go" -- "${NSX[@]}" $D $(daemon_args "$port") \
			-o "http.listen=tcp:127.0.0.1:$hport" -o http.keepalive=0 "${extra[@]}"
		pid=$SRV; prod=$PROD
		wait_stats
		case $srv-$proto in
		pipecastd-sse) port=$hport; path=/events;;
		pipecastd-ws) port=$hport; path=/ws;;
		websocketd-ws) websocketd_start "$port" || { stop "$pid" "$prod"; return 0; }
			port=$WSD_PORT; path=/; pid=$WSD_PID; wsd_rss=$(rss_tree "$WSD_PID");;
		esac
	fi
	case $proto in raw|rawhb) ;; *) xs=(-x "$proto" -u "$path");; esac
	procs=1; [ "$n" -ge 100 ] && procs=2
	per=$((n / procs))
	for i in $(seq $procs); do
		bg "${NSX[@]}" $LG sub -p "$port" -n "$per" -t "$MEAS" -L $lat "${xs[@]}" -w "$T/ready.$tag.$i" \
			-H "$RAW/$tag.hist.$i" >"$RAW/$tag.sub.$i"
		subs+=($!); ready+=("$T/ready.$tag.$i")
	done
	if ! wait_files 60 "${ready[@]}"; then
		if [ "$srv" = nchan ]; then stop "${subs[@]}" "$NCHAN_PID"; else stop "${subs[@]}" "$pid" "$SRV" "$prod"; fi
		[ ${#NSX[@]} = 0 ] || ip netns del "$NS"
		return 0
	fi
	browser_wait "$srv" "$n"
	[ "$proto" = rawhb ] && browser_heartbeat
	if [ "$srv" = websocketd ]; then   # N clients connected, none fed yet
		sleep 0.5
		printf '%s\t%s\t%s\t%s\n' "$n" "$wsd_rss" "$(rss_tree "$WSD_PID")" "$(load1)" \
			>>"$RAW/websocketd-mem.tsv"
	fi
	if [ "$srv" = nchan ]; then
		bg $LG produce "${rflag[@]}" -t $((${MEAS%.*} + 30)) -N "$NCHAN_PORT" -w "$go" 2>/dev/null
		prod=$!
	fi
	local c0 c1 t0 t1
	c0=$(cpu "$pid"); t0=$(date +%s%N)
	touch "$go"
	sleep "$(awk "BEGIN{print $MEAS * 0.9}")"
	c1=$(cpu "$pid"); t1=$(date +%s%N)
	wait_pids $((${MEAS%.*} + 25)) "${subs[@]}"
	if [ "$srv" = websocketd ]; then
		stop "$WSD_PID" "$SRV" "$prod"
	elif [ "$srv" = pipecastd ]; then
		skipped=$($LG stat -s "$T/stats.sock" clients_skipped_bytes_total 2>/dev/null || echo -)
		stop "$pid" "$prod"
	else
		stop "$prod" "$NCHAN_PID"
	fi
	[ ${#NSX[@]} = 0 ] || ip netns del "$NS"
	read -r rate bps bpr closed bad subcores < <(sub_totals "$RAW/$tag".sub.*)
	subcores=$(awk -v c="$subcores" -v m="$MEAS" 'BEGIN{printf "%.2f", c / m}')
	local h; h=$($LG hist "$RAW/$tag".hist.*)
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$srv" "$row" "$n" "$mode" \
		"$rate" "$bps" "$bpr" \
		"$(echo "$h" | kv p50_us)" "$(echo "$h" | kv p99_us)" "$(echo "$h" | kv max_us)" \
		"$closed" "$bad" "$skipped" "$(load1)" "$(cores "$c0" "$c1" "$t0" "$t1")" "$subcores" \
		>>"$RAW/browser.tsv"
	log "browser $tag: rate=$rate bytes/s=$bps $h closed=$closed misaligned=$bad skipped=$skipped"
}

# nchan_idle PROTO N: the worker's RSS before and after N idle subscribers
# (PROTO sse or ws); one row of $RAW/nchan-idle.tsv: proto N subscribed
# RSS-before RSS-after load1.
nchan_idle() {
	local proto=$1 n=$2 w before after procs per i ids=() ready=() conn=-
	nchan_start || return 0
	w=$(bench/nchan.sh worker "$NCHAN_PID")
	curl -s -m 2 -X POST -d warm "http://127.0.0.1:$NCHAN_PORT/pub" >/dev/null
	sleep 1
	before=$(rss "$w")
	procs=$(( (n + 7499) / 7500 )); [ "$n" -ge 5000 ] && [ $procs -lt 2 ] && procs=2
	per=$((n / procs))
	for i in $(seq $procs); do
		bg $LG idle -p "$NCHAN_PORT" -n "$per" -t 120 -x "$proto" -u /sub \
			-w "$T/ready.nidle.$proto.$n.$i" >/dev/null
		ids+=($!); ready+=("$T/ready.nidle.$proto.$n.$i")
	done
	wait_files 90 "${ready[@]}"
	for i in $(seq 100); do
		conn=$(nchan_subscribers "$NCHAN_PORT")
		[ "$conn" = "$((per * procs))" ] && break
		sleep 0.1
	done
	sleep "$SETTLE"
	after=$(rss "$w")
	stop "${ids[@]}" "$NCHAN_PID"
	printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$proto" "$((per * procs))" "$conn" "$before" "$after" "$(load1)" \
		>>"$RAW/nchan-idle.tsv"
	log "nchan idle $proto n=$((per * procs)) subscribed=$conn rss before=$before after=$after per_conn=$(( (after - before) / (per * procs) ))"
}

# browser_wsd_run: pipecastd's WebSocket clients and websocketd's at each N
# of BROWSER_WSD_NS that BROWSER_NS has not run, REPS times, back to back.
browser_wsd_run() {
	local n r
	command -v websocketd >/dev/null || return 0
	for n in $BROWSER_WSD_NS; do
		case " $BROWSER_NS " in *" $n "*) continue;; esac
		[ "$n" -le "$BROWSER_WSD_MAX" ] || continue
		for r in $(seq "$REPS"); do
			browser_fan pipecastd ws "$n" sat
			browser_fan websocketd ws "$n" sat
		done
	done
}

# browser_run: every run of BROWSER_RUNS for each N and repetition, then the
# idle nchan subscribers, REPS times.
browser_run() {
	local n r run kind proto
	: >"$RAW/browser.tsv"
	: >"$RAW/nchan-idle.tsv"
	: >"$RAW/websocketd-mem.tsv"
	bench/nchan.sh install || log "nchan not installed: its rows are left out"
	for n in $BROWSER_NS; do
		for r in $(seq "$REPS"); do
			for run in $BROWSER_RUNS; do
				kind=${run%%:*}
				case $kind in
				nchan-*) [ -x /usr/sbin/nginx ] || continue;;
				websocketd-*) [ "$n" -le "$BROWSER_WSD_MAX" ] && command -v websocketd >/dev/null ||
					continue;;
				esac
				browser_fan "${kind%%-*}" "${kind#*-}" "$n" "${run#*:}"
			done
		done
	done
	browser_wsd_run
	[ -x /usr/sbin/nginx ] || return 0
	for _ in $(seq "$REPS"); do
		for proto in $NCHAN_IDLE_PROTOS; do
			for n in $NCHAN_IDLE_NS; do nchan_idle "$proto" "$n"; done
		done
	done
}
