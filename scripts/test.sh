#!/usr/bin/env bash
# The test suite in two passes (`make test`; arguments go to both pytest calls):
#   1. every test not marked `alone`, two at a time (pytest-xdist, a file's tests on one
#      worker for its module-scoped stacks): a rehearsal mostly waits on a scaled AWS
#      timeline, so a second one fits beside it;
#   2. the `alone` tests, one at a time with nothing beside them (their assertion a busy
#      machine could flip: a recovery time, an ordering of two timings, a latency bound).
# Mixed in one xdist session, tests/support/side_by_side.py keeps an alone test alone,
# but each one then first waits for the other worker's current test to end: ~4 min of
# a ~26 min suite measured idle that way. Both passes run even if the first fails, so
# one run shows every failure; the exit code is the worse of the two.
set -uo pipefail
cd "$(dirname "$0")/.."
WORKERS=${HARNESS_TEST_WORKERS:-2}
status=0
selected=0
run() {
    .venv/bin/pytest "$@"
    local rc=$?
    # 5: no test selected in this pass (arguments naming only unit tests, say); an
    # error only if neither pass selected one
    if [ "$rc" -eq 5 ]; then return 0; fi
    selected=1
    if [ "$rc" -gt "$status" ]; then status=$rc; fi
}
# --no-loadscope-reorder: xdist keeps the slowest-files-first order (tests/support/slow_first.py)
run -n "$WORKERS" --dist loadfile --no-loadscope-reorder -m "not alone" "$@"
run -m alone -p no:xdist "$@"
[ "$selected" -eq 1 ] || exit 5
exit "$status"
