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
check "the shared library exports ll_ symbols" sh -c "nm -D --defined-only $B/liblinlearn.so | grep -q ' T ll_version\$'"
check "the shared library exports only ll_ symbols" sh -c "nm -D --defined-only $B/liblinlearn.so | awk '{print \$NF}' | grep -v '^ll_' | { ! grep .; }"
# A packager's staged install: DESTDIR, PREFIX and LIBDIR as a distribution sets them.
check "make install DESTDIR= PREFIX=/usr LIBDIR=" make -s BUILD="$B" DESTDIR="$T/stage" PREFIX=/usr LIBDIR=/usr/lib/x86_64-linux-gnu install
for f in usr/bin/linlearn usr/lib/x86_64-linux-gnu/liblinlearn.so.0 usr/include/linlearn.h usr/lib/x86_64-linux-gnu/pkgconfig/linlearn.pc; do
    check "staged $f" test -e "$T/stage/$f"
done
check "linlearn.pc names the final paths, not DESTDIR" sh -c "grep -qx 'libdir=/usr/lib/x86_64-linux-gnu' $T/stage/usr/lib/x86_64-linux-gnu/pkgconfig/linlearn.pc && ! grep -q '$T' $T/stage/usr/lib/x86_64-linux-gnu/pkgconfig/linlearn.pc"
check "linlearn.pc carries the header's version" sh -c "grep -qx \"Version: \$(sed -n 's/^#define LL_VERSION \"\\(.*\\)\"/\\1/p' include/linlearn.h)\" $T/stage/usr/lib/x86_64-linux-gnu/pkgconfig/linlearn.pc"
finish
