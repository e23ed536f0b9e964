#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# bench/python.sh - the Python writers against the SDK-style per-row protobuf writer
# (bench/python_writer.py), in a virtual environment built in a temporary folder from
# Debian's python3 with ./python installed. BENCH_PY_ROWS / BENCH_PY_COLS set the size
# (default 100000 x 100), BENCH_REPS the runs per figure.
set -e
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
case "$BUILD" in /*) ;; *) BUILD="$PWD/$BUILD" ;; esac
T=$(mktemp -d /tmp/llbenchpy.XXXXXX)
trap 'rm -rf "$T"' EXIT
cp -R python "$T/python" && rm -rf "$T/python/build" "$T/python/"*.egg-info
/usr/bin/python3 -m venv --system-site-packages "$T/venv"
LL_ROOT="$PWD" LL_BUILD="$BUILD" "$T/venv/bin/pip" install -q --no-build-isolation --no-index \
    "$T/python" >"$T/pip.log" 2>&1 || { cat "$T/pip.log"; exit 1; }
cd "$T" && "$T/venv/bin/python" "$OLDPWD/bench/python_writer.py" "${BENCH_PY_ROWS:-100000}" \
    "${BENCH_PY_COLS:-100}"
