#!/bin/sh
# Installs the Debian packages pipecast needs, when they are missing. As
# root it runs apt-get; otherwise it prints the command.
#   tests/deps.sh build   what `make` and `make run` need: the compiler and
#                         the two libraries (libev, inih)
#   tests/deps.sh test    that, plus what `make test` needs
#   tests/deps.sh deb     that, plus what `make deb` needs
#   tests/deps.sh nchan   nginx-light with libnginx-mod-nchan, the nchan
#                         server the benchmarks compare with (bench/nchan.sh)
set -eu
BUILD="gcc make libc6-dev libev-dev libinih-dev libssl-dev"
# cmocka: unit tests; python3: integration tests; socat, prometheus
# (promtool), systemd (systemd-analyze, systemd-socket-activate), mandoc:
# checks; clang-14, libclang-rt-14-dev: fuzzing; procps (vmstat, kill),
# util-linux (setpriv, unshare, nsenter), iproute2 and nftables (a dead
# peer in a network namespace): integration tests; chromium and
# python3-websockets: the live page's tests in a real browser;
# redis-server: pipecastctl publish against a real Redis; curl: the
# HTTP tests fetch /metrics with it; haproxy and openssl: the TLS recipe
# of pipecastd(8), tested as written.
TEST="libcmocka-dev python3 socat prometheus systemd mandoc clang-14 libclang-rt-14-dev procps util-linux iproute2 nftables chromium python3-websockets redis-server curl haproxy openssl"
# debhelper, lintian and the rest: `make deb`.
DEB="build-essential dpkg-dev debhelper lintian git"
# nginx with the nchan module: the benchmarks' peer (make bench).
NCHAN="nginx-light libnginx-mod-nchan"
# Packages that ship a service: installing them must not start it (the
# tests start their own servers on free loopback ports).
SERVICES="redis-server haproxy nginx-light libnginx-mod-nchan"
case "${1:-test}" in
build) PKGS=$BUILD ;;
test) PKGS="$BUILD $TEST" ;;
deb) PKGS="$BUILD $TEST $DEB" ;;
nchan) PKGS=$NCHAN ;;
*) echo "usage: tests/deps.sh build|test|deb|nchan" >&2; exit 2 ;;
esac
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
	echo "pipecast: missing packages; install them with:" >&2
	echo "  sudo apt-get install -y$missing" >&2
	exit 1
fi
echo "pipecast: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
# A policy-rc.d that exits 101 keeps invoke-rc.d from starting services;
# one made here is removed again when this script ends.
for p in $SERVICES; do
	case " $missing " in *" $p "*) service=1 ;; esac
done
if [ -n "${service:-}" ] && [ ! -e /usr/sbin/policy-rc.d ]; then
	trap 'rm -f /usr/sbin/policy-rc.d' EXIT
	printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
	chmod 0755 /usr/sbin/policy-rc.d
fi
apt-get update -qq
apt-get install -y -qq -o DPkg::Lock::Timeout=600 --no-install-recommends $missing >/dev/null
