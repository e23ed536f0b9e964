# `make install` puts the binary, both libraries, the header and linlearn.pc under PREFIX, and a
# program built against the installed files with pkg-config works.
. tests/cli/lib.sh
NAME=cli_install
B=${LL_BUILD:-build}
check "make install" make -s BUILD="$B" PREFIX="$T/inst" install
for f in bin/linlearn lib/liblinlearn.a lib/liblinlearn.so lib/liblinlearn.so.0 include/linlearn.h lib/pkgconfig/linlearn.pc; do
    check "installed $f" test -e "$T/inst/$f"
done
export PKG_CONFIG_PATH="$T/inst/lib/pkgconfig"
san=""
case "$B" in *asan*) san="-fsanitize=address,undefined" ;; *tsan*) san="-fsanitize=thread" ;; esac
check "static link via pkg-config" sh -c "cc $san -o $T/rows examples/rows.c \$(pkg-config --cflags linlearn) $T/inst/lib/liblinlearn.a \$(pkg-config --libs --static linlearn | sed 's/-llinlearn//')"
check "the program runs" sh -c "$T/rows examples/data/sample_test.csv | grep -q '200 rows (200 labelled)'"
check "shared link via pkg-config" sh -c "cc $san -o $T/rows_so examples/rows.c \$(pkg-config --cflags --libs linlearn) -Wl,-rpath,$T/inst/lib"
check "the shared build runs" sh -c "$T/rows_so examples/data/sample_test.csv | grep -q '200 rows'"
check "installed CLI runs" sh -c "$T/inst/bin/linlearn --version | grep -q linlearn"
finish
