#!/usr/bin/env bash
# selftest.sh - prove that the VM harness reports results faithfully:
#   1. a passing test passes through vmexec (exit 0, "ok" in the output);
#   2. a test failing on purpose fails through vmexec (exit != 0, and its
#      message SELFTEST-INTENDED-FAILURE is in the output);
#   3. vm.sh run returns the guest command's exit code (7);
#   4. a VM that times out makes vm.sh run exit 124.
# Exits non-zero if any check fails.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root" || exit 1

failures=0
pass() { printf 'selftest: PASS: %s\n' "$*"; }
fail() {
	printf 'selftest: FAIL: %s\n' "$*"
	failures=$((failures + 1))
}

gotest() {
	go test -tags vmtest -exec "$here/vmexec" -count=1 -timeout 15m -v ./test/vm/selftest 2>&1
}

"$here/vm.sh" prepare || {
	echo "selftest: vm.sh prepare failed"
	exit 1
}

out=$(
	unset HOSTNETD_VM_SELFTEST
	gotest
)
rc=$?
printf '%s\n' "$out" | sed 's/^/  | /'
if [[ $rc -eq 0 ]] && grep -q '^ok ' <<<"$out" && grep -q -- '--- PASS: TestHarness' <<<"$out"; then
	pass "passing test: exit 0 with ok"
else
	fail "passing test: exit $rc, expected 0 with an ok line"
fi

out=$(HOSTNETD_VM_SELFTEST=fail gotest)
rc=$?
printf '%s\n' "$out" | sed 's/^/  | /'
if [[ $rc -ne 0 ]] && grep -q 'SELFTEST-INTENDED-FAILURE' <<<"$out" && grep -q '^FAIL' <<<"$out"; then
	pass "failing test: exit $rc with SELFTEST-INTENDED-FAILURE in the output"
else
	fail "failing test: exit $rc, expected non-zero with SELFTEST-INTENDED-FAILURE in the output"
fi

out=$("$here/vm.sh" run -- sh -c 'echo guest-says-hello; exit 7' 2>&1)
rc=$?
printf '%s\n' "$out" | sed 's/^/  | /'
if [[ $rc -eq 7 ]] && grep -q guest-says-hello <<<"$out"; then
	pass "vm.sh run -- sh -c 'exit 7': exit 7 with the guest's output"
else
	fail "vm.sh run -- sh -c 'exit 7': exit $rc, expected 7"
fi

out=$("$here/vm.sh" run --timeout 2 -- sleep 600 2>&1)
rc=$?
printf '%s\n' "$out" | tail -n 3 | sed 's/^/  | /'
if [[ $rc -eq 124 ]] && grep -q 'timed out' <<<"$out"; then
	pass "vm.sh run --timeout 2 -- sleep 600: exit 124 with a timeout message"
else
	fail "vm.sh run --timeout 2 -- sleep 600: exit $rc, expected 124"
fi

if [[ $failures -ne 0 ]]; then
	echo "selftest: $failures check(s) failed"
	exit 1
fi
echo "selftest: all checks passed"
