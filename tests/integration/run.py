#!/usr/bin/env python3
"""Run every pipecastd integration test (tests/integration/test_*.py).

Usage: run.py [-k PATTERN]... [TEST_NAME]...     (PIPECASTD selects the binary)
Prints a last line "integration: N passed, M failed[, K skipped]" and exits
non-zero when anything failed (M counts failures and errors).
"""

import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import pctest  # noqa: E402


def main(argv):
    patterns = []
    names = []
    it = iter(argv)
    for a in it:
        if a == "-k":
            patterns.append(next(it, ""))
        else:
            names.append(a)
    loader = unittest.TestLoader()
    if patterns:
        loader.testNamePatterns = ["*%s*" % p for p in patterns]
    if names:
        suite = loader.loadTestsFromNames(names)
    else:
        suite = loader.discover(HERE, pattern="test_*.py", top_level_dir=HERE)
    exe = pctest.binary()
    print("integration: testing %s" % exe, flush=True)
    if not os.access(exe, os.X_OK):
        print("integration: %s is missing or not executable" % exe, file=sys.stderr)
    runner = unittest.TextTestRunner(verbosity=2, stream=sys.stdout)
    res = runner.run(suite)
    # Count tests, not subtests: a test with several failing subtests is one failure.
    def tid(t):
        return getattr(t, "test_case", t).id()
    failed_ids = {tid(t) for t, _ in res.failures + res.errors}
    failed_ids |= {tid(t) for t in res.unexpectedSuccesses}
    skipped_ids = {tid(t) for t, _ in res.skipped} - failed_ids
    failed = len(failed_ids)
    skipped = len(skipped_ids)
    passed = res.testsRun - failed - skipped - len(res.expectedFailures)
    line = "integration: %d passed, %d failed" % (passed, failed)
    if skipped:
        line += ", %d skipped" % skipped
    print(line, flush=True)
    return 0 if failed == 0 and res.testsRun > 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
