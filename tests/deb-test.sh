#!/bin/bash
# Installs the built Debian package on THIS machine, checks it, and purges
# it again: the layout, the conffile, the system user, the units (verify,
# security), `pipecastd -t` with the installed configuration, the smoke
# test (debian/tests/smoke), then that `dpkg -r` leaves only the conffile
# and `dpkg -P` leaves nothing. Run by `make deb-test` and by CI; refuses
# to touch a pipecast package that is already installed. A pipecast user
# that did not exist before is removed at the end, so the machine is left
# as it was found. Ends with "deb-test: N passed, M failed".
# Usage: tests/deb-test.sh PACKAGE.deb   (as root)
set -u
cd "$(dirname "$0")/.."
DEB=$1
CONFFILE=/etc/pipecast/pipecast.conf
UNITS="pipecast.service pipecast.socket pipecast-stats.socket pipecast@.service pipecast@.socket"
passed=0
failed=0

ok() { passed=$((passed + 1)); echo "ok $*"; }
fail() { failed=$((failed + 1)); echo "deb-test: FAIL: $*"; }
# check DESCRIPTION COMMAND...: one result from a command's exit status.
check() { local what=$1; shift; if "$@"; then ok "$what"; else fail "$what"; fi; }

[ "$(id -u)" -eq 0 ] || { echo "deb-test: needs root (it installs the package)"; exit 1; }
if dpkg-query -W -f='${db:Status-Status}' pipecast 2>/dev/null | grep -qv '^not-installed$'; then
	echo "deb-test: a pipecast package is already on this machine; not touching it"
	exit 1
fi
had_user=false
id -u pipecast >/dev/null 2>&1 && had_user=true

# Whatever happens, the machine is left as it was found.
cleanup() {
	dpkg -P pipecast >/dev/null 2>&1
	if ! $had_user && id -u pipecast >/dev/null 2>&1; then
		userdel pipecast
	fi
	rm -f "${LIST:-}"
}
trap cleanup EXIT

# Files (not directories) the package installed, from dpkg's list.
package_files() {
	local f
	while read -r f; do [ -d "$f" ] || printf '%s\n' "$f"; done <"$LIST"
}

# Whether no file of the package but the conffile (if $1 says so) exists.
only_left() {
	local keep=$1 f bad=0
	while read -r f; do
		[ "$f" = "$keep" ] && continue
		if [ -e "$f" ] || [ -L "$f" ]; then echo "  left behind: $f"; bad=1; fi
	done <"$LIST"
	return $bad
}

# The enablement links deb-systemd-helper made, and its state files.
enable_state() {
	find /etc/systemd/system /var/lib/systemd/deb-systemd-helper-enabled \
		/var/lib/systemd/deb-systemd-helper-masked -name '*pipecast*' 2>/dev/null
}

# Overall exposure of an installed unit, at most 2.0.
exposure_ok() {
	local level
	level=$(systemd-analyze security --offline=yes "/lib/systemd/system/$1" 2>/dev/null |
		sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
	echo "  $1: exposure $level"
	[ -n "$level" ] && awk -v l="$level" 'BEGIN { exit !(l <= 2.0) }'
}

# `systemd-analyze verify` prints nothing for the units and an instance.
verify_quiet() {
	local out
	out=$(cd /lib/systemd/system && systemd-analyze verify --man=no $UNITS \
		pipecast@web.service pipecast@web.socket 2>&1) || { echo "$out"; return 1; }
	[ -z "$out" ] || { echo "$out"; return 1; }
}

check "dpkg -i $DEB" dpkg -i "$DEB"
LIST=$(mktemp)
dpkg -L pipecast >"$LIST.all" && mv "$LIST.all" "$LIST"
package_files >"$LIST.files" && mv "$LIST.files" "$LIST"
echo "package files:"; sed 's/^/  /' "$LIST"
check "pipecastd in /usr/sbin" test -x /usr/sbin/pipecastd
check "pipecastctl in /usr/bin" test -x /usr/bin/pipecastctl
for m in man1/pipecastctl.1 man5/pipecast.conf.5 man8/pipecastd.8; do
	check "man page $m" test -f "/usr/share/man/$m.gz"
done
for u in $UNITS; do check "unit /lib/systemd/system/$u" test -f "/lib/systemd/system/$u"; done
check "no unit under /usr/lib/systemd" sh -c "! grep -q '^/usr/lib/systemd/system/' '$LIST'"
check "$CONFFILE is a conffile" \
	sh -c "dpkg-query -W -f='\${Conffiles}' pipecast | grep -q '^ $CONFFILE '"
check "the system user pipecast exists" id -u pipecast >/dev/null
check "the services and sockets are enabled" test -L \
	/etc/systemd/system/multi-user.target.wants/pipecast.service -a -L \
	/etc/systemd/system/sockets.target.wants/pipecast.socket -a -L \
	/etc/systemd/system/sockets.target.wants/pipecast-stats.socket
check "no instance is enabled" sh -c "! ls /etc/systemd/system/*/pipecast@* 2>/dev/null"
check "pipecastd -t -c $CONFFILE" sh -c \
	"/usr/sbin/pipecastd -t -c $CONFFILE | head -1 | grep -qx 'pipecastd: configuration OK'"
check "systemd-analyze verify: the units and an instance" verify_quiet
check "exposure of pipecast.service" exposure_ok pipecast.service
check "exposure of pipecast@.service" exposure_ok pipecast@.service
debian/tests/smoke
case $? in
0) ok "smoke test" ;;
77) echo "deb-test: smoke test skipped" ;;
*) fail "smoke test" ;;
esac

check "dpkg -r pipecast" dpkg -r pipecast
check "dpkg -r leaves the conffile" test -f "$CONFFILE"
check "dpkg -r leaves no other file of the package" only_left "$CONFFILE"
echo "after dpkg -r, kept until purge (enablement state):"; enable_state | sed 's/^/  /'
check "dpkg -P pipecast" dpkg -P pipecast
check "dpkg -P removes the conffile and /etc/pipecast" test ! -e /etc/pipecast
check "dpkg -P leaves no file of the package" only_left ""
check "dpkg -P leaves no enablement state" sh -c '[ -z "$(find /etc/systemd/system /var/lib/systemd/deb-systemd-helper-enabled /var/lib/systemd/deb-systemd-helper-masked -name "*pipecast*" 2>/dev/null)" ]'
check "dpkg knows no pipecast any more" sh -c \
	"! dpkg-query -W -f='\${db:Status-Status}' pipecast 2>/dev/null | grep -qv '^not-installed$'"

echo "deb-test: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
