# bench/fanout-setup.sh: sourced by bench/http.sh and bench/ws.sh, which
# measure fan-out with build/tests/ssecheck: the programs, RECORDS records
# of 9 bytes in a scratch directory $W (removed on exit, with every job
# still running), the highest open-file limit, and free_port.
set -eu
cd "$(dirname "$0")/.."
D=build/pipecastd
C=build/tests/ssecheck
RECORDS=${RECORDS:-200000}
W=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$W"' EXIT
mkdir -p build/bench
python3 -c "import sys; sys.stdout.buffer.write(b''.join(b'%08d\n' % i for i in range($RECORDS)))" >"$W/records"
ulimit -n "$(ulimit -Hn)"

# free_port: a TCP port that was free a moment ago.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
