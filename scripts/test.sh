#!/usr/bin/env bash
# The test suite in three passes (`make test`; arguments go to every pytest call):
#   1. the unit tests (tests/unit, marked `unit` by its conftest), two at a time: pure
#      logic, no stack and no Docker engine, so in CI they run while the Docker side
#      installs (HARNESS_AWAIT_SETUP, below);
#   2. every other test not marked `alone`, three at a time (pytest-xdist, a file's tests
#      on one worker for its module-scoped stacks, the slowest files first): a rehearsal
#      mostly waits on a scaled AWS timeline, so others fit beside it (on 2 cores: 500 s
#      two at a time with the CPU ~35 % idle, 380 s three at a time);
#   3. the `alone` tests (their assertion a busy machine could flip: a recovery time, an
#      ordering of two timings, a latency bound), two at a time with no shared test
#      beside them: two of them together were measured to leave each other's figures
#      alone (76 tests: 787 s one at a time, 420-450 s in pairs, none flipped).
# tests/support/side_by_side.py keeps the two kinds apart even when one pass holds
# both (a selection by hand). Every pass runs even if one before it failed, so one run
# shows every failure; the exit code is the worst of them.
#
# HARNESS_AWAIT_SETUP=FILE (.ci/run): a set-up running in the background writes its exit
# code to FILE when it ends; passes 2 and 3 wait for it, and a failed set-up stops here
# (exit 2) with the end of its log (FILE.log).
set -uo pipefail
cd "$(dirname "$0")/.."
WORKERS=${HARNESS_TEST_WORKERS:-2}
SHARED_WORKERS=${HARNESS_SHARED_WORKERS:-3}
status=0
selected=0
run() {
    .venv/bin/pytest "$@"
    local rc=$?
    # 5: no test selected in this pass (arguments naming only unit tests, say); an
    # error only if no pass selected one
    if [ "$rc" -eq 5 ]; then return 0; fi
    selected=1
    if [ "$rc" -gt "$status" ]; then status=$rc; fi
}
await_setup() {
    local file=${HARNESS_AWAIT_SETUP:-}
    [ -n "$file" ] || return 0
    [ -f "$file" ] || echo "test.sh: waiting for the set-up running beside the unit tests ($file.log)"
    # a set-up killed before it could write its code must not hold the suite until CI's
    # own limit: a fresh set-up takes ~3 min, 30 is a hang
    local waited=0
    while [ ! -f "$file" ]; do
        if [ "$waited" -ge 1800 ]; then
            echo "test.sh: error: no exit code in $file after 30 min (log: $file.log)" >&2
            exit 2
        fi
        sleep 1; waited=$((waited + 1))
    done
    local rc
    rc=$(cat "$file")
    if [ "$rc" != 0 ]; then
        tail -n 30 "$file.log" >&2
        echo "test.sh: error: the set-up beside the unit tests failed (exit $rc; log: $file.log)" >&2
        exit 2
    fi
    tail -n 1 "$file.log"
}
run -n "$WORKERS" -m "unit and not alone" "$@"
await_setup
# --no-loadscope-reorder: xdist keeps the slowest-files-first order (tests/support/slow_first.py)
run -n "$SHARED_WORKERS" --dist loadfile --no-loadscope-reorder -m "not unit and not alone" "$@"
run -n "$WORKERS" --dist loadfile --no-loadscope-reorder -m alone "$@"
[ "$selected" -eq 1 ] || exit 5
exit "$status"
