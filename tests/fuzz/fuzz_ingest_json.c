/*
 * fuzz_ingest_json.c - libFuzzer harness of the JSON batch parser
 * (src/domain/ingest_json.c): any input parses without a crash, sanitizer
 * report or leak; a batch it returns satisfies fuzz_check.h, also after the
 * time window. Differential check against jansson (json_loadb with
 * JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL): a body we accept jansson reads
 * too, except where jansson has limits of its own (integers beyond 64 bits,
 * reals beyond a double, NUL in member names); a body we call malformed
 * (other than past our nesting limit) jansson refuses.
 */
#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "domain/ingest_json.h"
#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* jansson's verdict; on failure *why is its message. */
static bool jansson_reads(const uint8_t *data, size_t size, char *why, size_t why_size)
{
        json_error_t jerr;
        json_t *root = json_loadb((const char *)data, size,
                                  JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL | JSON_DECODE_ANY, &jerr);

        if (!root) {
                snprintf(why, why_size, "%s", jerr.text);
                return false;
        }
        json_decref(root);
        return true;
}

/* Where jansson is stricter than JSON (RFC 8259) and we are not. */
static bool jansson_own_limit(const char *why)
{
        return strstr(why, "too big") || strstr(why, "overflow") || strstr(why, "NUL");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static const struct ingest_limits lim = { .max_points = 500, .max_series = 40 };
        struct ingest_batch b;
        struct ingest_error err;
        char why[JSON_ERROR_TEXT_LENGTH + 1];
        bool ok;
        int rc;

        ingest_batch_init(&b);
        rc = ingest_json_parse((const char *)data, size, &lim, &b, &err);
        if (rc < 0) {
                fuzz_check_error(rc, &err);
                FUZZ_CHECK(err.line == 0);
                FUZZ_CHECK(err.pointer[0] == '\0' || err.pointer[0] == '/');
        } else {
                FUZZ_CHECK(rc == 0);
                FUZZ_CHECK(ingest_id_valid(b.batch_id, strlen(b.batch_id)));
                fuzz_check_batch(&b, &lim, false);
                fuzz_check_window(&b, &lim, false, 0, INT64_C(1800000000000));
        }
        ingest_batch_free(&b);
        if (rc == 0) {
                ok = jansson_reads(data, size, why, sizeof(why));
                if (!ok && !jansson_own_limit(why))
                        fprintf(stderr, "accepted, but jansson: %s\n", why);
                FUZZ_CHECK(ok || jansson_own_limit(why));
        } else if (strcmp(err.code, "malformed_json") == 0 && !strstr(err.message, "deep") &&
                   !memchr(data, '\0', size)) {
                /* (jansson takes a NUL byte for the end of its input) */
                ok = jansson_reads(data, size, why, sizeof(why));
                if (ok)
                        fprintf(stderr, "malformed (%s), but jansson reads it\n", err.message);
                FUZZ_CHECK(!ok);
        }
        return 0;
}
