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

# Adds a cmocka binary's results to the totals.
unit() {
	local bin=$1 out rc p f
	out=$("$bin" 2>&1); rc=$?
	printf '%s\n' "$out" | grep -E '^\[  (FAILED|ERROR) |^\[   LINE' || true
	p=$(printf '%s\n' "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p')
	f=$(printf '%s\n' "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p')
	passed=$((passed + ${p:-0}))
	failed=$((failed + ${f:-0}))
	if [ "$rc" -ne 0 ] && [ -z "$f" ]; then
		printf '%s\n' "$out" | tail -20
		failed=$((failed + 1))
	fi
	printf '%-40s %s passed, %s failed\n' "$bin" "${p:-0}" "${f:-0}"
}

# Adds an integration run's results to the totals.
integration() {
	local bin=$1 log line p f
	log=$(mktemp)
	PIPECASTD=$bin python3 tests/integration/run.py >"$log" 2>&1
	local rc=$?
	line=$(grep -E '^integration: [0-9]+ passed, [0-9]+ failed' "$log" | tail -1)
	if [ "$rc" -ne 0 ] || [ -z "$line" ]; then
		cat "$log"
	fi
	p=$(printf '%s' "$line" | sed -n 's/^integration: \([0-9]*\) passed.*/\1/p')
	f=$(printf '%s' "$line" | sed -n 's/.* \([0-9]*\) failed.*/\1/p')
	passed=$((passed + ${p:-0}))
	failed=$((failed + ${f:-0}))
	[ "$rc" -ne 0 ] && [ "${f:-0}" -eq 0 ] && failed=$((failed + 1))
	printf '%-40s %s\n' "integration ($bin)" "${line:-no result}"
	rm -f "$log"
}

# Adds the documentation check (man pages lint-clean and complete).
docs() {
	local out line p f
	out=$(PIPECASTD=build/pipecastd tests/docs.sh 2>&1)
	local rc=$?
	line=$(printf '%s\n' "$out" | grep -E '^docs: [0-9]+ passed, [0-9]+ failed' | tail -1)
	[ "$rc" -ne 0 ] && printf '%s\n' "$out" | grep -v '^ok ' | tail -30
	p=$(printf '%s' "$line" | sed -n 's/^docs: \([0-9]*\) passed.*/\1/p')
	f=$(printf '%s' "$line" | sed -n 's/.* \([0-9]*\) failed.*/\1/p')
	passed=$((passed + ${p:-0}))
	failed=$((failed + ${f:-0}))
	[ "$rc" -ne 0 ] && [ "${f:-0}" -eq 0 ] && failed=$((failed + 1))
	printf '%-40s %s\n' "documentation" "${line:-no result}"
}

# Adds the libFuzzer smoke runs (make fuzz-smoke): each target is one test.
fuzz() {
	local out p f
	out=$(make --no-print-directory fuzz-smoke 2>&1)
	local rc=$?
	p=$(printf '%s\n' "$out" | grep -cE '^fuzz: fuzz_[a-z_]+ ok')
	f=$(printf '%s\n' "$out" | grep -cE '^fuzz: fuzz_[a-z_]+ FAILED')
	[ "$rc" -ne 0 ] && printf '%s\n' "$out" | grep -vE '^fuzz: fuzz_[a-z_]+ (for|ok)' | tail -40
	passed=$((passed + p))
	failed=$((failed + f))
	[ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && failed=$((failed + 1))
	printf '%-40s %s passed, %s failed\n' "fuzz-smoke" "$p" "$f"
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
