#!/bin/sh
# The two-command promise on a minimal Debian 12 (make check-minimal; run by
# hand as root, with access to a Debian mirror; not part of make test):
# mmdebstrap makes a minbase bookworm chroot, a clean copy of this tree
# (git archive HEAD) goes into it, `make` is installed (minbase has none),
# and `make run` must install the rest, build, and serve the demo, which a
# client on the host then reads. Prints "minimal image: ok" and exits 0, or
# says what failed and exits 1.
set -eu
cd "$(dirname "$0")/.."
PORT=${PORT:-7171}
MIRROR=${MIRROR:-http://deb.debian.org/debian}
command -v mmdebstrap >/dev/null || { echo "needs mmdebstrap (apt-get install mmdebstrap)"; exit 1; }
root=$(mktemp -d /tmp/pipecast-minimal.XXXXXX)
pid=
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null || true
	umount "$root/proc" 2>/dev/null || true
	rm -rf "$root"
}
trap cleanup EXIT
echo "minimal image: building a minbase bookworm chroot in $root"
mmdebstrap --quiet --variant=minbase bookworm "$root" "$MIRROR"
mkdir "$root/src"
git archive HEAD | tar -x -C "$root/src"
mount -t proc proc "$root/proc"
chroot "$root" sh -c 'apt-get update -qq && apt-get install -y -qq make >/dev/null'
chroot "$root" sh -c "cd /src && exec make run PORT=$PORT" >"$root/run.log" 2>&1 &
pid=$!
i=0
while [ $i -lt 600 ]; do
	if python3 - "$PORT" <<'PY' 2>/dev/null; then
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=2)
s.settimeout(5)
data = b""
while data.count(b"\n") < 3:
    chunk = s.recv(4096)
    if not chunk:
        break
    data += chunk
sys.exit(0 if b"demo record" in data else 1)
PY
		echo "minimal image: ok (make run built and served the demo on port $PORT)"
		exit 0
	fi
	kill -0 "$pid" 2>/dev/null || break
	sleep 1
	i=$((i + 1))
done
echo "minimal image: FAILED; make run said:"
tail -30 "$root/run.log"
exit 1
