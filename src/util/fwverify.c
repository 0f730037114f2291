/*
 * fwverify.c - `enemane firmware verify IMAGE MANIFEST PUBKEY` (HE-14):
 * the check a gateway makes before it installs, as a command a gateway
 * vendor can run or copy. It reads the three files, verifies the
 * manifest's Ed25519 signature with the pinned public key and the image's
 * size and SHA-256 against the manifest (fwsign.c), and prints the
 * outcome: exit 0 verified, 1 not verified, 2 usage or file error.
 *
 * MANIFEST is either JSON holding "manifest" and "signature" strings (the
 * server's offer, GET /api/v1/gateway/firmware, as saved: the object
 * itself or the answer with its "update" member; or an image of
 * GET /api/v1/firmware/{id}), or the manifest text followed by one line
 * "signature=<base64>". PUBKEY is the answer of
 * GET /api/v1/firmware/public-key (JSON with "public_key") or the key alone
 * as base64 or hex.
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/fwsign.h"

#define FILE_MAX (64 * 1024)

static void usage(FILE *f)
{
        fprintf(f,
                "Usage: enemane firmware verify IMAGE MANIFEST PUBKEY\n\n"
                "Checks a firmware image as a gateway does before installing it (HE-14):\n"
                "the manifest's Ed25519 signature with the pinned public key, then the\n"
                "image's size and SHA-256 against the manifest.\n\n"
                "  IMAGE     the firmware image as downloaded\n"
                "  MANIFEST  JSON with \"manifest\" and \"signature\" (the server's offer or\n"
                "            image answer), or the manifest text and a last line\n"
                "            \"signature=<base64>\"\n"
                "  PUBKEY    JSON with \"public_key\" (GET /api/v1/firmware/public-key), or\n"
                "            the key as base64 or hex\n\n"
                "Exit status: 0 verified, 1 not verified, 2 usage or file error.\n");
}

/* Reads a small file whole (NUL-terminated): 0 or negative errno. */
static int read_small(const char *path, char **out, size_t *len)
{
        FILE *f = fopen(path, "rb");
        char *buf;
        size_t n;

        *out = NULL;
        if (!f)
                return -errno;
        buf = malloc(FILE_MAX + 1);
        if (!buf) {
                fclose(f);
                return -ENOMEM;
        }
        n = fread(buf, 1, FILE_MAX + 1, f);
        fclose(f);
        if (n > FILE_MAX) {
                free(buf);
                return -EFBIG;
        }
        buf[n] = '\0';
        *out = buf;
        *len = n;
        return 0;
}

static bool looks_json(const char *s)
{
        while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
                s++;
        return *s == '{';
}

/* The manifest and signature of a JSON file (copies, caller frees). */
static int manifest_from_json(const char *text, size_t len, char **manifest, char **sig)
{
        json_t *root = json_loadb(text, len, 0, NULL), *o;
        const char *m, *s;
        int r = -EINVAL;

        o = root;
        if (o && json_is_object(json_object_get(o, "update")))
                o = json_object_get(o, "update");
        m = json_string_value(json_object_get(o, "manifest"));
        s = json_string_value(json_object_get(o, "signature"));
        if (m && s) {
                *manifest = strdup(m);
                *sig = strdup(s);
                r = *manifest && *sig ? 0 : -ENOMEM;
        }
        json_decref(root);
        return r;
}

/* The text form: the manifest, then a last line "signature=<base64>". */
static int manifest_from_text(const char *text, size_t len, char **manifest, char **sig)
{
        static const char key[] = "\nsignature=";
        const char *at = NULL, *p = strstr(text, key), *v, *e;

        while (p) {
                at = p;
                p = strstr(p + 1, key);
        }
        if (!at)
                return -EINVAL;
        v = at + strlen(key);
        e = text + len;
        while (e > v && (e[-1] == '\n' || e[-1] == '\r' || e[-1] == ' '))
                e--;
        *manifest = strndup(text, (size_t)(at - text) + 1);     /* keeps its last LF */
        *sig = strndup(v, (size_t)(e - v));
        return *manifest && *sig ? 0 : -ENOMEM;
}

static int read_manifest(const char *path, char **manifest, char **sig)
{
        char *text = NULL;
        size_t len = 0;
        int r = read_small(path, &text, &len);

        *manifest = NULL;
        *sig = NULL;
        if (r < 0)
                return r;
        if (looks_json(text))
                r = manifest_from_json(text, len, manifest, sig);
        else
                r = manifest_from_text(text, len, manifest, sig);
        free(text);
        return r;
}

static int read_pubkey(const char *path, unsigned char pk[FWSIGN_PK_BYTES])
{
        char *text = NULL;
        size_t len = 0;
        int r = read_small(path, &text, &len);

        if (r < 0)
                return r;
        if (looks_json(text)) {
                json_t *root = json_loadb(text, len, 0, NULL);
                const char *k = json_string_value(json_object_get(root, "public_key"));

                r = k ? fwsign_pk_parse(k, pk) : -EINVAL;
                json_decref(root);
        } else {
                r = fwsign_pk_parse(text, pk);
        }
        free(text);
        return r;
}

static int verify(const char *image, const char *manifest_path, const char *pubkey_path)
{
        unsigned char pk[FWSIGN_PK_BYTES];
        char sha[FWSIGN_SHA256_HEX], kid[FWSIGN_KEY_ID_HEX];
        char *manifest = NULL, *sig = NULL;
        struct fwsign_manifest m;
        enum fwsign_check chk;
        uint64_t size = 0;
        int r;

        r = read_pubkey(pubkey_path, pk);
        if (r < 0) {
                fprintf(stderr, "enemane: %s: not a public key (%s)\n", pubkey_path,
                        strerror(-r));
                return 2;
        }
        r = read_manifest(manifest_path, &manifest, &sig);
        if (r < 0) {
                fprintf(stderr, "enemane: %s: no manifest and signature (%s)\n", manifest_path,
                        strerror(-r));
                free(manifest);
                free(sig);
                return 2;
        }
        r = fwsign_sha256_file(image, sha, &size);
        if (r < 0) {
                fprintf(stderr, "enemane: %s: %s\n", image, strerror(-r));
                free(manifest);
                free(sig);
                return 2;
        }
        chk = fwsign_check_image(pk, manifest, strlen(manifest), sig, size, sha, &m);
        free(manifest);
        free(sig);
        fwsign_key_id(pk, kid);
        if (chk != FWSIGN_OK) {
                printf("NOT VERIFIED: %s (key %s, image %llu bytes, sha256 %s)\n",
                       fwsign_check_text(chk), kid, (unsigned long long)size, sha);
                return 1;
        }
        printf("verified: model=%s version=%s size=%llu sha256=%s key=%s\n", m.model, m.version,
               (unsigned long long)m.size, m.sha256, kid);
        return 0;
}

int fwverify_main(int argc, char **argv)
{
        if (argc >= 1 && (strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0 ||
                          strcmp(argv[0], "help") == 0)) {
                usage(stdout);
                return 0;
        }
        if (argc == 2 && strcmp(argv[0], "verify") == 0 &&
            (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
                usage(stdout);
                return 0;
        }
        if (argc != 4 || strcmp(argv[0], "verify") != 0) {
                usage(stderr);
                return 2;
        }
        return verify(argv[1], argv[2], argv[3]);
}
