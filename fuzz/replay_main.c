/* SPDX-License-Identifier: Apache-2.0 */
/*
 * replay_main.c - a main() for fuzz targets built without libFuzzer: replays every file of the
 * target's corpus (fuzz/corpus/<target>/, or the paths given), then runs a fixed number of
 * deterministic mutations of them (bit flips, truncations, splices), so `make test` exercises
 * each target under the sanitizers without clang's fuzzer runtime.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

typedef struct {
    uint8_t *p;
    size_t n;
} blob;

static blob *corpus;
static size_t n_corpus, cap_corpus;

static void add_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return;
    size_t cap = 4096, n = 0;
    uint8_t *p = malloc(cap);
    size_t k;
    while ((k = fread(p + n, 1, cap - n, f)) > 0) {
        n += k;
        if (n == cap)
            p = realloc(p, cap *= 2);
    }
    fclose(f);
    if (n_corpus == cap_corpus)
        corpus = realloc(corpus, (cap_corpus = cap_corpus ? cap_corpus * 2 : 64) * sizeof *corpus);
    corpus[n_corpus++] = (blob){p, n};
}

static int cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void add_path(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return;
    if (!S_ISDIR(st.st_mode)) {
        add_file(path);
        return;
    }
    DIR *d = opendir(path);
    if (!d)
        return;
    char **names = NULL;
    size_t nn = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        names = realloc(names, (nn + 1) * sizeof *names);
        size_t l = strlen(path) + strlen(e->d_name) + 2;
        names[nn] = malloc(l);
        snprintf(names[nn], l, "%s/%s", path, e->d_name);
        nn++;
    }
    closedir(d);
    qsort(names, nn, sizeof *names, cmp);
    for (size_t i = 0; i < nn; i++) {
        add_path(names[i]);
        free(names[i]);
    }
    free(names);
}

int main(int argc, char **argv)
{
    const char *base = strrchr(argv[0], '/');
    base = base ? base + 1 : argv[0];
    if (argc > 1) {
        for (int i = 1; i < argc; i++)
            add_path(argv[i]);
    } else {
        char dir[512];
        snprintf(dir, sizeof dir, "fuzz/corpus/%s", base);
        add_path(dir);
    }
    long iters = getenv("FUZZ_REPLAY_ITERS") ? atol(getenv("FUZZ_REPLAY_ITERS")) : 20000;
    /* each input goes in a buffer of exactly its size, as libFuzzer does, so that the
     * sanitizers see any read past its end */
    for (size_t i = 0; i < n_corpus; i++) {
        uint8_t *exact = malloc(corpus[i].n ? corpus[i].n : 1);
        memcpy(exact, corpus[i].p, corpus[i].n);
        LLVMFuzzerTestOneInput(exact, corpus[i].n);
        free(exact);
    }
    uint8_t *buf = malloc(1 << 20);
    for (long it = 0; it < iters && n_corpus; it++) {
        blob *s = &corpus[next() % n_corpus];
        size_t n = s->n > (1 << 19) ? (1 << 19) : s->n;
        memcpy(buf, s->p, n);
        int kind = (int)(next() % 5);
        if (kind == 0 && n) { /* bit flips */
            int flips = 1 + (int)(next() % 4);
            for (int k = 0; k < flips; k++)
                buf[next() % n] ^= (uint8_t)(1u << (next() % 8));
        } else if (kind == 1 && n) { /* truncate */
            n = next() % n;
        } else if (kind == 2 && n) { /* random bytes */
            int k = 1 + (int)(next() % 8);
            for (int j = 0; j < k; j++)
                buf[next() % n] = (uint8_t)next();
        } else if (kind == 3) { /* splice with another entry */
            blob *t = &corpus[next() % n_corpus];
            size_t cut = n ? next() % (n + 1) : 0;
            size_t from = t->n ? next() % t->n : 0;
            size_t add = t->n - from;
            if (cut + add > (1 << 20))
                add = (1 << 20) - cut;
            memcpy(buf + cut, t->p + from, add);
            n = cut + add;
        } else if (n) { /* duplicate a slice */
            size_t a = next() % n, l = next() % (n - a + 1);
            if (n + l <= (1 << 20)) {
                memmove(buf + a + l, buf + a, n - a);
                n += l;
            }
        }
        uint8_t *exact = malloc(n ? n : 1);
        memcpy(exact, buf, n);
        LLVMFuzzerTestOneInput(exact, n);
        free(exact);
    }
    free(buf);
    printf("%s: replayed %zu corpus files and %ld mutations\n", base, n_corpus,
           n_corpus ? iters : 0);
    printf("[%s] %d passed, %d failed, 0 skipped\n", base, n_corpus ? 1 : 0, n_corpus ? 0 : 1);
    for (size_t i = 0; i < n_corpus; i++)
        free(corpus[i].p);
    free(corpus);
    return n_corpus ? 0 : 1;
}
