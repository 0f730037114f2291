/*
 * fuzz_lineproto.c - libFuzzer harness of the InfluxDB line protocol parser
 * (src/domain/lineproto.c): any input parses without a crash, sanitizer
 * report or leak, and a batch it returns satisfies fuzz_check.h (counts,
 * index partition, valid series, finite values), also after the time window.
 * The precision comes from the input length, so every one gets exercised;
 * small limits make the whole-batch errors reachable.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "domain/lineproto.h"
#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static const struct ingest_limits lim = { .max_points = 500, .max_series = 40 };
        enum lp_precision prec = (enum lp_precision)(size % 6);
        struct ingest_batch b;
        struct ingest_error err;
        int rc;

        ingest_batch_init(&b);
        rc = lineproto_parse((const char *)data, size, prec, INT64_C(1764720000000), &lim, &b, &err);
        if (rc < 0) {
                fuzz_check_error(rc, &err);
                FUZZ_CHECK(err.pointer[0] == '\0');
                FUZZ_CHECK(err.line >= 1);
        } else {
                FUZZ_CHECK(rc == 0);
                FUZZ_CHECK(b.batch_id[0] == '\0');
                fuzz_check_batch(&b, &lim, true);
                fuzz_check_window(&b, &lim, true, INT64_C(1000000000000), INT64_C(1800000000000));
        }
        ingest_batch_free(&b);
        return 0;
}
