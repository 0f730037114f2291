/*
 * driver.c - a small stand-in for libFuzzer's main() (tests/fuzz), linked
 * with a harness when the compiler cannot link -fsanitize=fuzzer (gcc, the
 * make check build): runs every file of the corpus directories through
 * LLVMFuzzerTestOneInput, then a deterministic pass of random mutations
 * (bit flips, byte and token inserts, deletes, chunk copies, splices of two
 * corpus files) from a fixed seed, under whatever sanitizers the build has.
 *
 *   driver [-runs=N] [-seed=S] [-max_len=L] DIR...   (defaults 20000, 1, 8192)
 *
 * Arguments look like libFuzzer's so meson passes the same ones to both.
 * A harness failure aborts, so the exit status tells the result.
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct driver_input {
        uint8_t *data;
        size_t size;
};

struct driver_corpus {
        struct driver_input *v;
        size_t n, cap;
};

static uint64_t driver_rng;

/* xorshift64*: plenty for picking mutations, identical on every run. */
static uint64_t driver_next(void)
{
        driver_rng ^= driver_rng >> 12;
        driver_rng ^= driver_rng << 25;
        driver_rng ^= driver_rng >> 27;
        return driver_rng * UINT64_C(2685821657736338717);
}

static size_t driver_below(size_t n)
{
        return n ? (size_t)(driver_next() % n) : 0;
}

static void *driver_xrealloc(void *p, size_t n)
{
        void *q = realloc(p, n ? n : 1);

        if (!q) {
                fprintf(stderr, "driver: out of memory\n");
                exit(2);
        }
        return q;
}

static void driver_add(struct driver_corpus *c, uint8_t *data, size_t size)
{
        if (c->n == c->cap) {
                c->cap = c->cap ? c->cap * 2 : 64;
                c->v = driver_xrealloc(c->v, c->cap * sizeof(*c->v));
        }
        c->v[c->n].data = data;
        c->v[c->n].size = size;
        c->n++;
}

static int driver_read_file(const char *path, struct driver_corpus *c)
{
        FILE *f = fopen(path, "rb");
        uint8_t *data = NULL;
        size_t size = 0, cap = 0, got;

        if (!f)
                return -errno;
        for (;;) {
                if (size == cap) {
                        cap = cap ? cap * 2 : 4096;
                        data = driver_xrealloc(data, cap);
                }
                got = fread(data + size, 1, cap - size, f);
                size += got;
                if (got == 0)
                        break;
        }
        fclose(f);
        driver_add(c, data, size);
        return 0;
}

static int driver_name_cmp(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every regular file of dir, in name order (readdir order varies). */
static int driver_read_dir(const char *dir, struct driver_corpus *c)
{
        char **names = NULL, path[4096];
        size_t n = 0, i;
        struct dirent *de;
        struct stat st;
        DIR *d = opendir(dir);

        if (!d)
                return -errno;
        for (;;) {
                de = readdir(d);
                if (!de)
                        break;
                if (de->d_name[0] == '.')
                        continue;
                names = driver_xrealloc(names, (n + 1) * sizeof(*names));
                names[n] = strdup(de->d_name);
                if (!names[n++]) {
                        fprintf(stderr, "driver: out of memory\n");
                        exit(2);
                }
        }
        closedir(d);
        qsort(names, n, sizeof(*names), driver_name_cmp);
        for (i = 0; i < n; i++) {
                snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
                if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && driver_read_file(path, c) < 0)
                        fprintf(stderr, "driver: cannot read %s\n", path);
                free(names[i]);
        }
        free(names);
        return 0;
}

/* Bytes and tokens that matter to the line protocol and JSON grammars. */
static const char driver_bytes[] = ",= \\\"\n\r\t#[]{}:0123456789.-+eEiuxtfn\x7f\x80\xc3\xff";
static const char *const driver_tokens[] = {
        "value=", "channel=", "unit=", "class=0x0287", "epc=0xE0", "instance=1", "circuit=7",
        "name=", "role=purchase", "wrap=1e8", "power,", "energy,", "soc,", "\\ ", "\\,", "\\=",
        "\\\\", "\"x\\\"y\"", "1764720000000000000", "-1", "9223372036854775808", "1e999", "nan",
        "123i", "18446744073709551616u", "true", "\r\n", "# c\n", "\"batch_id\":\"b\"",
        "\"precision\":\"ms\"", "\"series\":[", "\"points\":[", "[0,1,2]",
        "{\"channel\":\"a\",\"quantity\":\"power\"}", "\\u0000", "\\ud83d\\ude00", "\\ud800", "null", "[[[[[[[[",
        "]]]]]]]]", "{\"a\":1,\"a\":2}", "\xe5\x8f\xb0", "\xed\xa0\x80", "0.1e-7",
};

static void driver_insert(uint8_t *buf, size_t *size, size_t max, size_t at, const void *src,
                          size_t n)
{
        if (*size + n > max)
                n = max - *size;
        memmove(buf + at + n, buf + at, *size - at);
        memcpy(buf + at, src, n);
        *size += n;
}

static void driver_mutate_once(uint8_t *buf, size_t *size, size_t max,
                               const struct driver_corpus *c)
{
        const struct driver_input *o;
        size_t at = driver_below(*size + 1), n, from;
        uint8_t b;
        const char *t;

        switch (driver_next() % 7) {
        case 0:         /* bit flip */
                if (*size)
                        buf[driver_below(*size)] ^= (uint8_t)(1u << driver_below(8));
                break;
        case 1:         /* grammar byte */
                b = (uint8_t)driver_bytes[driver_below(sizeof(driver_bytes) - 1)];
                driver_insert(buf, size, max, at, &b, 1);
                break;
        case 2:         /* random byte, overwritten */
                if (*size)
                        buf[driver_below(*size)] = (uint8_t)driver_next();
                break;
        case 3:         /* delete 1..8 bytes */
                if (at < *size) {
                        n = 1 + driver_below(8);
                        if (n > *size - at)
                                n = *size - at;
                        memmove(buf + at, buf + at + n, *size - at - n);
                        *size -= n;
                }
                break;
        case 4:         /* token */
                t = driver_tokens[driver_below(sizeof(driver_tokens) / sizeof(driver_tokens[0]))];
                driver_insert(buf, size, max, at, t, strlen(t));
                break;
        case 5:         /* copy a chunk of itself */
                if (*size) {
                        from = driver_below(*size);
                        n = 1 + driver_below(*size - from);
                        {
                                uint8_t tmp[256];

                                if (n > sizeof(tmp))
                                        n = sizeof(tmp);
                                memcpy(tmp, buf + from, n);
                                driver_insert(buf, size, max, at, tmp, n);
                        }
                }
                break;
        default:        /* splice: our head, another file's tail */
                o = &c->v[driver_below(c->n)];
                from = driver_below(o->size + 1);
                n = o->size - from;
                if (at + n > max)
                        n = max - at;
                memcpy(buf + at, o->data + from, n);
                *size = at + n;
                break;
        }
}

static void driver_mutations(const struct driver_corpus *c, long runs, size_t max)
{
        uint8_t *buf = driver_xrealloc(NULL, max);
        uint8_t *copy = driver_xrealloc(NULL, max);
        const struct driver_input *base;
        size_t size, k, steps;
        long r;

        for (r = 0; r < runs; r++) {
                base = &c->v[driver_below(c->n)];
                size = base->size < max ? base->size : max;
                memcpy(buf, base->data, size);
                steps = 1 + driver_below(8);
                for (k = 0; k < steps; k++)
                        driver_mutate_once(buf, &size, max, c);
                /* An exact-size copy, so reads past the end are caught. */
                copy = driver_xrealloc(copy, size);
                memcpy(copy, buf, size);
                LLVMFuzzerTestOneInput(copy, size);
        }
        free(buf);
        free(copy);
}

int main(int argc, char **argv)
{
        struct driver_corpus c = { 0 };
        long runs = 20000, seed = 1, max_len = 8192;
        size_t i, dirs = 0;
        int a;

        for (a = 1; a < argc; a++) {
                if (sscanf(argv[a], "-runs=%ld", &runs) == 1 || sscanf(argv[a], "-seed=%ld", &seed) == 1 ||
                    sscanf(argv[a], "-max_len=%ld", &max_len) == 1)
                        continue;
                if (argv[a][0] == '-')
                        continue;       /* other libFuzzer flags */
                if (driver_read_dir(argv[a], &c) < 0) {
                        fprintf(stderr, "driver: cannot read directory %s\n", argv[a]);
                        return 2;
                }
                dirs++;
        }
        if (dirs == 0 || c.n == 0 || max_len < 1) {
                fprintf(stderr, "usage: %s [-runs=N] [-seed=S] [-max_len=L] CORPUS_DIR...\n",
                        argv[0]);
                return 2;
        }
        for (i = 0; i < c.n; i++) {
                uint8_t *copy = driver_xrealloc(NULL, c.v[i].size);

                memcpy(copy, c.v[i].data, c.v[i].size);
                LLVMFuzzerTestOneInput(copy, c.v[i].size);
                free(copy);
        }
        driver_rng = (uint64_t)seed * UINT64_C(0x9E3779B97F4A7C15) + 1;
        driver_mutations(&c, runs, (size_t)max_len);
        printf("driver: %zu corpus inputs and %ld mutations (seed %ld) passed\n", c.n, runs, seed);
        for (i = 0; i < c.n; i++)
                free(c.v[i].data);
        free(c.v);
        return 0;
}
