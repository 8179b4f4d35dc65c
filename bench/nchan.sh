#!/bin/sh
# nchan.sh: an nchan server (Debian's nginx-light with libnginx-mod-nchan),
# the peer of pipecastd's /events and /ws in the benchmarks' browser fan-out
# rows. One nginx master and one worker, in the foreground, everything
# under DIR, listening on 127.0.0.1:PORT:
#   POST /pub   publishes the request body as one message (nchan_publisher)
#   GET  /sub   subscribes as an EventSource or a WebSocket (nchan_subscriber)
# both on the one channel "bench".
#
#   bench/nchan.sh install          installs the packages when missing
#                                   (tests/deps.sh nchan: as root, under a
#                                   policy-rc.d that keeps services stopped)
#   bench/nchan.sh run DIR PORT     writes DIR/nginx.conf and execs nginx (its pid
#                                   is the master's; stop it with SIGTERM)
#   bench/nchan.sh wait PORT        waits (at most 10 s) until /pub answers
#   bench/nchan.sh worker PID       prints the worker of the master PID (RSS is
#                                   measured there)
set -eu
MODULE=/usr/lib/nginx/modules/ngx_nchan_module.so

# The packages, by the one script that installs packages (and keeps a
# service it installs stopped).
install() {
	"${0%/*}/../tests/deps.sh" nchan
}

conf() {
	d=$1 port=$2
	mkdir -p "$d/tmp" "$d/logs"
	cat >"$d/nginx.conf" <<CONF
load_module $MODULE;
daemon off;
master_process on;
worker_processes 1;
worker_rlimit_nofile 20000;
pid $d/nginx.pid;
error_log $d/logs/error.log warn;
events {
	worker_connections 19000;
	multi_accept on;
}
http {
	access_log off;
	client_body_temp_path $d/tmp/body;
	proxy_temp_path $d/tmp/proxy;
	fastcgi_temp_path $d/tmp/fastcgi;
	uwsgi_temp_path $d/tmp/uwsgi;
	scgi_temp_path $d/tmp/scgi;
	keepalive_requests 100000000;
	nchan_shared_memory_size 256M;
	server {
		listen 127.0.0.1:$port backlog=4096;
		location = /pub {
			nchan_publisher;
			nchan_channel_id bench;
			nchan_message_buffer_length 1000;
		}
		location = /sub {
			nchan_subscriber eventsource websocket;
			nchan_subscriber_first_message newest;
			nchan_channel_id bench;
		}
	}
}
CONF
}

case "${1:-}" in
install) install ;;
run)
	conf "$2" "$3"
	exec nginx -c "$2/nginx.conf" -p "$2/" ;;
wait)
	i=0
	while [ $i -lt 200 ]; do
		curl -s -o /dev/null -m 1 "http://127.0.0.1:$2/pub" && exit 0
		sleep 0.05
		i=$((i + 1))
	done
	echo "nchan.sh: no answer on port $2" >&2
	exit 1 ;;
worker) pgrep -P "$2" | head -1 ;;
*) sed -n '2,17p' "$0" >&2; exit 2 ;;
esac
