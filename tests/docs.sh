#!/bin/bash
# Checks that the documentation says what the code has: the man pages are
# clean under mandoc's linter; every configuration key of lib/config-table.c's key
# table is an item of its section in man/pipecast.conf.5; every `show info`
# name of lib/statfmt.c and every stats command of lib/statcmd.c is in
# man/pipecastd.8; the exit statuses of both programs are in their EXIT
# STATUS sections; and conf/pipecast.conf passes `pipecastd -t`.
# The names are extracted from the sources, and an extraction that finds
# fewer than the known minimum counts as a failure, so the check cannot
# pass vacuously. Ends with "docs: N passed, M failed"; exits 1 on failure.
# Usage: tests/docs.sh   (PIPECASTD=path/to/pipecastd, default build/pipecastd)
set -u
cd "$(dirname "$0")/.."

PIPECASTD=${PIPECASTD:-build/pipecastd}
CONF5=man/pipecast.conf.5
D8=man/pipecastd.8
CTL1=man/pipecastctl.1
# The manuals fix 28 keys, 36 show-info names, 10 stats commands, exit statuses
# 0-3 (pipecastd) and 0-2 (pipecastctl); more may come, none may go.
KEYS_MIN=28
NAMES_MIN=36
COMMANDS_MIN=10

passed=0
failed=0

ok() { passed=$((passed + 1)); }
fail() { failed=$((failed + 1)); printf 'docs: FAIL: %s\n' "$*"; }
# check DESCRIPTION COMMAND...: one result from a command's exit status.
check() { local what=$1; shift; if "$@"; then ok; else fail "$what"; fi; }

# The .It items of one mdoc section (.Sh) or subsection (.Ss) of a page.
section_items() {
	local page=$1 macro=$2 title=$3
	awk -v m=".$macro" -v t="$title" '
		$1 == ".Sh" || ($1 == ".Ss" && m == ".Ss") {
			on = (($1 == m) && substr($0, length(m) + 2) == t); next }
		on && $1 == ".It" { print }' "$page"
}

# Whole-line match of a fixed string among lines on standard input.
has_line() { grep -qxF -- "$1"; }

# ---- man pages exist and are lint-clean --------------------------------
for page in "$CONF5" "$D8" "$CTL1"; do
	check "$page exists" test -s "$page"
done
if command -v mandoc >/dev/null 2>&1; then
	if out=$(mandoc -Tlint -Wwarning man/*.[158] 2>&1); then
		ok
	else
		fail "mandoc -Tlint -Wwarning man/*.[158]:"
		printf '%s\n' "$out"
	fi
else
	fail "mandoc is not installed (apt-get install mandoc)"
fi

# ---- configuration keys: lib/config-table.c's table -> pipecast.conf(5) ------
# Table rows look like:  [K_MAX_LINE] = { SEC_SOURCE, "max_line",
keys=$(sed -n 's/^[[:space:]]*\[K_[A-Z0-9_]*\][[:space:]]*=[[:space:]]*{[[:space:]]*SEC_\([A-Z]*\),[[:space:]]*"\([a-z0-9_]*\)".*/\1 \2/p' lib/config-table.c |
	tr 'A-Z' 'a-z')
nkeys=$(printf '%s\n' "$keys" | grep -c .)
check "lib/config-table.c: extracted $nkeys keys, expected at least $KEYS_MIN" \
	test "$nkeys" -ge "$KEYS_MIN"
while read -r sec key; do
	[ -n "$key" ] || continue
	if section_items "$CONF5" Ss "[$sec]" | grep -qE "^\.It Ic $key( |$)"; then
		ok
	else
		fail "$CONF5: no '.It Ic $key' in '.Ss [$sec]'"
	fi
done <<<"$keys"

# ---- show info names: lib/statfmt.c's statfmt_info_fields -> pipecastd(8) ------
# Rows look like:  COUNTER(source_records_total, "Records read ..."),
names=$(sed -n '/statfmt_info_fields\[\] = {/,/^};/p' lib/statfmt.c |
	sed -n -e 's/^[[:space:]]*\(LABEL\|INFO_LABEL\|GAUGE\|COUNTER\|SECONDS\|BY_KIND\|REG\|REG_AS\|CLOSED\)(\([a-z0-9_]*\),.*/\2/p' \
	       -e 's/^[[:space:]]*REASON(\([a-z0-9_]*\),.*/access_refused_\1_total/p' \
	       -e 's/^[[:space:]]*CLASS(\([a-z0-9_]*\),.*/http_requests_\1_total/p')
nnames=$(printf '%s\n' "$names" | grep -c .)
check "lib/statfmt.c: extracted $nnames show-info names, expected at least $NAMES_MIN" \
	test "$nnames" -ge "$NAMES_MIN"
items=$(section_items "$D8" Sh "SHOW INFO NAMES")
for name in $names; do
	check "$D8: no '.It Va $name' in SHOW INFO NAMES" has_line ".It Va $name" <<<"$items"
done
# ... and in the order of the table.
order=$(sed -n 's/^\.It Va //p' <<<"$items" | grep -xF -f <(printf '%s\n' $names))
check "$D8: SHOW INFO NAMES not in the order of lib/statfmt.c" \
	test "$order" = "$(printf '%s\n' $names)"

# ---- stats commands: lib/statcmd.c's table -> pipecastd(8) -------------
# Rows look like:  X(STATCMD_SHOW_INFO, "show", "info", ARGS_JSON, false, \
commands=$(sed -n 's/^[[:space:]]*X(STATCMD_[A-Z_]*,[[:space:]]*"\([a-z]*\)",[[:space:]]*\(NULL\|"\([a-z]*\)"\),.*/\1 \3/p' lib/statcmd.c |
	sed 's/ $//')
ncommands=$(printf '%s\n' "$commands" | grep -c .)
check "lib/statcmd.c: extracted $ncommands commands, expected at least $COMMANDS_MIN" \
	test "$ncommands" -ge "$COMMANDS_MIN"
items=$(section_items "$D8" Sh "STATS SOCKET")
while read -r cmd; do
	[ -n "$cmd" ] || continue
	if grep -qE "^\.It Ic $cmd( |$)" <<<"$items"; then
		ok
	else
		fail "$D8: no '.It Ic $cmd' in STATS SOCKET"
	fi
done <<<"$commands"

# ---- exit statuses: the code's enums -> EXIT STATUS sections -----------
# pipecastd: enum { EXIT_OK = 0, EXIT_USAGE = 1, ... } in daemon/daemon.h
statuses=$(grep -o 'EXIT_[A-Z]* = [0-9]*' daemon/daemon.h | sed 's/.* = //')
check "daemon/daemon.h: extracted $(echo $statuses | wc -w) exit statuses, expected 4" \
	test "$(echo $statuses)" = "0 1 2 3"
items=$(section_items "$D8" Sh "EXIT STATUS")
for s in $statuses; do
	check "$D8: exit status $s not in EXIT STATUS" has_line ".It $s" <<<"$items"
done
# pipecastctl: CTL_EXIT_* in ctl/ctl.h
statuses=$(grep -o 'CTL_EXIT_[A-Z]* = [0-9]*' ctl/ctl.h | sed 's/.* = //')
check "ctl/ctl.h: extracted $(echo $statuses | wc -w) exit statuses, expected 3" \
	test "$(echo $statuses)" = "0 1 2"
items=$(section_items "$CTL1" Sh "EXIT STATUS")
for s in $statuses; do
	check "$CTL1: exit status $s not in EXIT STATUS" has_line ".It $s" <<<"$items"
done

# ---- the example configuration passes pipecastd -t ---------------------
if [ -x "$PIPECASTD" ]; then
	if out=$("$PIPECASTD" -t -c conf/pipecast.conf 2>&1); then
		ok
	else
		fail "$PIPECASTD -t -c conf/pipecast.conf:"
		printf '%s\n' "$out"
	fi
else
	fail "$PIPECASTD not found or not executable (run make, or set PIPECASTD)"
fi
# Every key appears in the example, set or commented out with its default.
while read -r sec key; do
	[ -n "$key" ] || continue
	if awk -v s="[$sec]" -v k="$key" '
		/^\[/ { on = ($1 == s); next }
		on && $0 ~ ("^#?" k " =") { found = 1 }
		END { exit !found }' conf/pipecast.conf; then
		ok
	else
		fail "conf/pipecast.conf: key $key missing from [$sec]"
	fi
done <<<"$keys"

echo "docs: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
