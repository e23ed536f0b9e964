# Shared by the tests/cli/*.sh scripts: check helpers and the closing result line.
# Usage: . tests/cli/lib.sh; NAME=...; check "what" command...; ...; finish
LL=${LL_BIN:-$PWD/build/linlearn}
TD=${LL_TESTDATA:-$PWD/tests/data}
T=$(mktemp -d /tmp/llcli.XXXXXX)
trap 'rm -rf "$T"' EXIT
pass=0; fail=0; skip=0
check() {
    what=$1; shift
    if "$@" >"$T/.out" 2>&1; then pass=$((pass + 1)); else
        fail=$((fail + 1)); echo "FAIL $NAME: $what"; sed 's/^/    /' "$T/.out" | head -20
    fi
}
# check_fails WHAT EXPECTED_STATUS STDERR_PATTERN command...
check_fails() {
    what=$1; want=$2; pat=$3; shift 3
    "$@" >"$T/.out" 2>"$T/.err"; st=$?
    if [ "$st" -eq "$want" ] && grep -q -- "$pat" "$T/.err"; then pass=$((pass + 1)); else
        fail=$((fail + 1)); echo "FAIL $NAME: $what (exit $st, want $want; stderr:)"; sed 's/^/    /' "$T/.err" | head -10
    fi
}
# skip WHAT WHY: a check that cannot run here is counted as skipped, with the reason
skip() {
    skip=$((skip + 1)); echo "SKIP $NAME: $1 ($2)"
}
# wait_for FILE PATTERN [PID]: polls (up to 20 s) until FILE has a line matching PATTERN;
# gives up early when process PID has exited. Fails if the line never came.
wait_for() {
    i=0
    while [ $i -lt 400 ]; do
        grep -q -- "$2" "$1" 2>/dev/null && return 0
        [ -n "${3:-}" ] && ! kill -0 "$3" 2>/dev/null && { grep -q -- "$2" "$1" 2>/dev/null; return; }
        sleep 0.05; i=$((i + 1))
    done
    return 1
}
finish() {
    echo "[$NAME] $pass passed, $fail failed, $skip skipped"
    [ "$fail" -eq 0 ]
}
