#!/bin/sh
# Installs the Debian packages that building and testing pipecast need, when
# they are missing. As root it runs apt-get; otherwise it prints the command.
set -eu
PKGS="gcc make libc6-dev libev-dev libinih-dev libcmocka-dev python3 socat prometheus systemd mandoc clang-14 libclang-rt-14-dev procps util-linux curl"
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
apt-get update -qq
apt-get install -y -qq --no-install-recommends $missing >/dev/null
