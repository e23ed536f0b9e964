#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# python.sh - the Python package's tests: builds a virtual environment with Debian's python3
# in a temporary folder, installs ./python into it (no package index), runs python/tests with
# pytest and turns pytest's summary into "[python] N passed, N failed, N skipped".
NAME=python
PY=${LL_PYTHON:-/usr/bin/python3}
BUILDDIR=${LL_BUILD:-build}
case "$BUILDDIR" in /*) ;; *) BUILDDIR="$PWD/$BUILDDIR" ;; esac
result() { echo "[$NAME] $1 passed, $2 failed, $3 skipped"; }
if ! "$PY" -c 'import numpy, scipy, sklearn, pytest, google.protobuf' 2>/dev/null; then
    echo "SKIP $NAME: $PY lacks numpy/scipy/sklearn/pytest/protobuf (scripts/install-deps)"
    result 0 0 1; exit 0
fi
case "$BUILDDIR" in *-asan*|*-ubsan*|*-tsan*|*-fuzz*)
    # a sanitizer-built library cannot be loaded into an uninstrumented python3
    echo "SKIP $NAME: $BUILDDIR is a sanitizer build"; result 0 0 1; exit 0 ;;
esac
if [ ! -f "$BUILDDIR/liblinlearn.a" ]; then
    echo "FAIL $NAME: $BUILDDIR/liblinlearn.a missing (run make first)"; result 0 1 0; exit 1
fi
T=$(mktemp -d /tmp/llpy.XXXXXX)
trap 'rm -rf "$T"' EXIT
# build from a copy so the checkout stays clean (setuptools writes build/ and egg-info)
mkdir -p "$T/src" && cp -R python "$T/src/python" && rm -rf "$T/src/python/build" "$T/src/python/"*.egg-info
if ! "$PY" -m venv --system-site-packages "$T/venv" >"$T/venv.log" 2>&1; then
    cat "$T/venv.log"; echo "FAIL $NAME: $PY -m venv failed (python3-venv missing?)"
    result 0 1 0; exit 1
fi
if ! LL_ROOT="$PWD" LL_BUILD="$BUILDDIR" "$T/venv/bin/pip" install --no-build-isolation \
        --no-index "$T/src/python" >"$T/pip.log" 2>&1; then
    tail -40 "$T/pip.log"; echo "FAIL $NAME: pip install ./python failed"
    result 0 1 0; exit 1
fi
# run from outside the checkout so `import linlearn` is the installed package
cd "$T" && LL_TESTDATA="${LL_TESTDATA:-$OLDPWD/tests/data}" \
    "$T/venv/bin/python" -m pytest -q -rs -p no:cacheprovider "$OLDPWD/python/tests" >"$T/pytest.log" 2>&1
st=$?
cat "$T/pytest.log"
line=$(grep -E '^=* ?[0-9]+ (passed|failed|skipped|error)|no tests ran' "$T/pytest.log" | tail -n 1)
count() { echo "$line" | grep -oE "[0-9]+ $1" | grep -oE '[0-9]+' || echo 0; }
p=$(count passed); f=$(count failed); e=$(count error); k=$(count skipped)
f=$((f + e))
if [ "$st" -eq 5 ]; then f=$((f + 1)); echo "FAIL $NAME: pytest collected no tests"; fi
if [ "$st" -ne 0 ] && [ "$st" -ne 5 ] && [ "$f" -eq 0 ]; then f=1; fi
result "$p" "$f" "$k"
[ "$f" -eq 0 ]
