#!/bin/bash
# Runs every test: the cmocka unit tests and the integration suite, each
# against the plain build and the ASan/UBSan build, the documentation check,
# the fuzz smoke runs, and the package's smoke test when `make deb` built
# one. Prints one closing line "N passed, M failed" and exits non-zero on
# any failure.
# Usage: tests/run-all.sh UNIT_TEST_NAME...
set -u
cd "$(dirname "$0")/.."
passed=0
failed=0
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:exitcode=86"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"

# The one summing function: adds one part's passed and failed counts to the
# totals and prints its line; a part that failed (status RC) without a
# failing test counts as one failure.
tally() {
	local name=$1 p=${2:-0} f=${3:-0} rc=$4
	[ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && f=1
	passed=$((passed + p))
	failed=$((failed + f))
	printf '%-40s %s passed, %s failed\n' "$name" "$p" "$f"
}

# The counts of a "WHAT: N passed, M failed" line.
counts() {
	sed -n 's/^[a-z]*: \([0-9]*\) passed, \([0-9]*\) failed.*/\1 \2/p' | tail -1
}

# A cmocka binary.
unit() {
	local bin=$1 out rc p f
	out=$("$bin" 2>&1); rc=$?
	printf '%s\n' "$out" | grep -E '^\[  (FAILED|ERROR) |^\[   LINE' || true
	p=$(printf '%s\n' "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p')
	f=$(printf '%s\n' "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p')
	[ "$rc" -ne 0 ] && [ -z "$f" ] && printf '%s\n' "$out" | tail -20
	tally "$bin" "$p" "$f" "$rc"
}

# One integration run, with a progress line per test file.
integration() {
	local bin=$1 log rc c
	log=$(mktemp)
	PIPECASTD=$bin python3 tests/integration/run.py 2>&1 | tee "$log" |
		awk -v b="$bin" '/ \(test_[a-z_]+\./ { m = $2; sub(/^\(/, "", m); sub(/\..*/, "", m)
			if (m != last) { printf "  integration (%s): %s\n", b, m; last = m; fflush() } }'
	rc=${PIPESTATUS[0]}
	[ "$rc" -ne 0 ] && cat "$log"
	c=$(counts <"$log")
	# shellcheck disable=SC2086
	tally "integration ($bin)" ${c:-0 0} "$rc"
	rm -f "$log"
}

# The documentation check (man pages lint-clean and complete).
docs() {
	local out rc c
	out=$(PIPECASTD=build/pipecastd tests/docs.sh 2>&1); rc=$?
	[ "$rc" -ne 0 ] && printf '%s\n' "$out" | grep -v '^ok ' | tail -30
	c=$(printf '%s\n' "$out" | counts)
	# shellcheck disable=SC2086
	tally "documentation" ${c:-0 0} "$rc"
}

# The libFuzzer smoke runs (make fuzz-smoke): each target is one test.
fuzz() {
	local out rc
	out=$(make --no-print-directory fuzz-smoke 2>&1); rc=$?
	[ "$rc" -ne 0 ] && printf '%s\n' "$out" | grep -vE '^fuzz: fuzz_[a-z_]+ (for|ok)' | tail -40
	tally "fuzz-smoke" "$(printf '%s\n' "$out" | grep -cE '^fuzz: fuzz_[a-z_]+ ok')" \
		"$(printf '%s\n' "$out" | grep -cE '^fuzz: fuzz_[a-z_]+ FAILED')" "$rc"
}

# Adds the package's smoke test (debian/tests/smoke) run against the files
# of the package `make deb` built, unpacked, not installed; without such a
# package (or without root), says it was skipped and counts nothing.
deb_smoke() {
	local deb dir out rc
	deb=$(ls build/deb/pipecast_*.deb 2>/dev/null | head -1)
	if [ -z "$deb" ]; then
		printf '%-40s %s\n' "package smoke test" "skipped (no package; run make deb)"
		return
	fi
	dir=$(mktemp -d) && chmod 0755 "$dir" && dpkg-deb -x "$deb" "$dir"
	out=$(PIPECASTD=$dir/usr/sbin/pipecastd PIPECASTCTL=$dir/usr/bin/pipecastctl \
	      PIPECAST_CONF=$dir/etc/pipecast/pipecast.conf debian/tests/smoke 2>&1)
	rc=$?
	rm -rf "$dir"
	case $rc in
	0) passed=$((passed + 1)); printf '%-40s %s\n' "package smoke test ($deb)" "passed" ;;
	77) printf '%-40s %s\n' "package smoke test ($deb)" "skipped (${out#smoke: SKIP: })" ;;
	*) failed=$((failed + 1)); printf '%s\n' "$out" | tail -30
	   printf '%-40s %s\n' "package smoke test ($deb)" "FAILED" ;;
	esac
}

for t in "$@"; do
	unit "build/tests/$t"
	unit "build/san/tests/$t"
done
docs
if [ -f tests/integration/run.py ]; then
	integration build/pipecastd
	integration build/san/pipecastd
fi
fuzz
deb_smoke
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
