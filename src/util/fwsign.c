/*
 * fwsign.c - signed firmware manifests (HE-14): canonical manifest text,
 * SHA-256, Ed25519 sign and verify, the key file, and the check a gateway
 * makes before it installs. libc and libsodium only; see fwsign.h.
 */
#include "util/fwsign.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define READ_CHUNK (64 * 1024)
#define KEY_FILE_MAX 256

bool fwsign_field_ok(const char *s)
{
        size_t n = s ? strlen(s) : 0;

        if (n == 0 || n > FWSIGN_FIELD_MAX)
                return false;
        for (size_t i = 0; i < n; i++) {
                char ch = s[i];

                if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
                      (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '+' ||
                      ch == '-'))
                        return false;
        }
        return true;
}

static bool sha256_hex_ok(const char *s)
{
        if (strlen(s) != FWSIGN_SHA256_HEX - 1)
                return false;
        for (const char *p = s; *p; p++)
                if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
                        return false;
        return true;
}

int fwsign_manifest_format(const struct fwsign_manifest *m, char *out, size_t len)
{
        int n;

        if (!fwsign_field_ok(m->model) || !fwsign_field_ok(m->version) ||
            !sha256_hex_ok(m->sha256))
                return -EINVAL;
        n = snprintf(out, len, FWSIGN_MAGIC "\nmodel=%s\nversion=%s\nsize=%" PRIu64
                     "\nsha256=%s\n", m->model, m->version, m->size, m->sha256);
        if (n < 0 || (size_t)n >= len)
                return -ENOSPC;
        return n;
}

/* Copies the value of line "<key>=<value>\n" at *p into out (max bytes
 * with the NUL) and moves *p past it: 0 or -EINVAL. */
static int manifest_line(const char **p, const char *end, const char *key, char *out,
                         size_t max)
{
        size_t kl = strlen(key);
        const char *nl, *v;

        if ((size_t)(end - *p) <= kl || memcmp(*p, key, kl) != 0 || (*p)[kl] != '=')
                return -EINVAL;
        v = *p + kl + 1;
        nl = memchr(v, '\n', (size_t)(end - v));
        if (!nl || (size_t)(nl - v) >= max)
                return -EINVAL;
        memcpy(out, v, (size_t)(nl - v));
        out[nl - v] = '\0';
        *p = nl + 1;
        return 0;
}

int fwsign_manifest_parse(const char *text, size_t len, struct fwsign_manifest *m)
{
        const char *p = text, *end = text + len;
        char size[24], again[FWSIGN_MANIFEST_MAX];
        size_t ml = strlen(FWSIGN_MAGIC);
        char *e = NULL;
        int n;

        memset(m, 0, sizeof(*m));
        if (len > FWSIGN_MANIFEST_MAX || len <= ml || memcmp(p, FWSIGN_MAGIC, ml) != 0 ||
            p[ml] != '\n')
                return -EINVAL;
        p += ml + 1;
        if (manifest_line(&p, end, "model", m->model, sizeof(m->model)) < 0 ||
            manifest_line(&p, end, "version", m->version, sizeof(m->version)) < 0 ||
            manifest_line(&p, end, "size", size, sizeof(size)) < 0 ||
            manifest_line(&p, end, "sha256", m->sha256, sizeof(m->sha256)) < 0 || p != end)
                return -EINVAL;
        if (size[0] < '0' || size[0] > '9')
                return -EINVAL;
        errno = 0;
        m->size = strtoull(size, &e, 10);
        if (errno || *e)
                return -EINVAL;
        /* Only the canonical text: formatting the values must give it back. */
        n = fwsign_manifest_format(m, again, sizeof(again));
        if (n < 0 || (size_t)n != len || memcmp(again, text, len) != 0)
                return -EINVAL;
        return 0;
}

void fwsign_sha256_hex(const void *data, size_t len, char out[FWSIGN_SHA256_HEX])
{
        unsigned char h[crypto_hash_sha256_BYTES];

        crypto_hash_sha256(h, data, len);
        sodium_bin2hex(out, FWSIGN_SHA256_HEX, h, sizeof(h));
}

int fwsign_sha256_file(const char *path, char out[FWSIGN_SHA256_HEX], uint64_t *size)
{
        crypto_hash_sha256_state st;
        unsigned char h[crypto_hash_sha256_BYTES];
        unsigned char *chunk = malloc(READ_CHUNK);
        FILE *f = fopen(path, "rb");
        size_t n;
        int r = 0;

        *size = 0;
        if (!chunk || !f) {
                r = chunk ? -errno : -ENOMEM;
                goto out;
        }
        crypto_hash_sha256_init(&st);
        for (;;) {
                n = fread(chunk, 1, READ_CHUNK, f);
                if (n == 0)
                        break;
                crypto_hash_sha256_update(&st, chunk, n);
                *size += n;
        }
        if (ferror(f)) {
                r = -EIO;
                goto out;
        }
        crypto_hash_sha256_final(&st, h);
        sodium_bin2hex(out, FWSIGN_SHA256_HEX, h, sizeof(h));
out:
        if (f)
                fclose(f);
        free(chunk);
        return r;
}

void fwsign_sign(const unsigned char sk[FWSIGN_SK_BYTES], const void *msg, size_t len,
                 char sig_b64[FWSIGN_SIG_B64])
{
        unsigned char sig[FWSIGN_SIG_BYTES];

        crypto_sign_detached(sig, NULL, msg, len, sk);
        sodium_bin2base64(sig_b64, FWSIGN_SIG_B64, sig, sizeof(sig),
                          sodium_base64_VARIANT_ORIGINAL);
}

int fwsign_verify(const unsigned char pk[FWSIGN_PK_BYTES], const void *msg, size_t len,
                  const char *sig_b64)
{
        unsigned char sig[FWSIGN_SIG_BYTES];
        size_t n = 0;

        if (!sig_b64 || sodium_base642bin(sig, sizeof(sig), sig_b64, strlen(sig_b64), NULL, &n,
                                          NULL, sodium_base64_VARIANT_ORIGINAL) != 0 ||
            n != sizeof(sig))
                return -EBADMSG;
        return crypto_sign_verify_detached(sig, msg, len, pk) == 0 ? 0 : -EBADMSG;
}

void fwsign_pk_b64(const unsigned char pk[FWSIGN_PK_BYTES], char out[FWSIGN_PK_B64])
{
        sodium_bin2base64(out, FWSIGN_PK_B64, pk, FWSIGN_PK_BYTES,
                          sodium_base64_VARIANT_ORIGINAL);
}

int fwsign_pk_parse(const char *text, unsigned char pk[FWSIGN_PK_BYTES])
{
        const char *s = text, *e;
        size_t n = 0, len;

        while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
                s++;
        e = s + strlen(s);
        while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n'))
                e--;
        len = (size_t)(e - s);
        if (len == 2 * FWSIGN_PK_BYTES &&
            sodium_hex2bin(pk, FWSIGN_PK_BYTES, s, len, NULL, &n, NULL) == 0 &&
            n == FWSIGN_PK_BYTES)
                return 0;
        if (len == FWSIGN_PK_B64 - 1 &&
            sodium_base642bin(pk, FWSIGN_PK_BYTES, s, len, NULL, &n, NULL,
                              sodium_base64_VARIANT_ORIGINAL) == 0 && n == FWSIGN_PK_BYTES)
                return 0;
        return -EINVAL;
}

void fwsign_key_id(const unsigned char pk[FWSIGN_PK_BYTES], char out[FWSIGN_KEY_ID_HEX])
{
        unsigned char h[32];

        crypto_generichash(h, sizeof(h), pk, FWSIGN_PK_BYTES, NULL, 0);
        sodium_bin2hex(out, FWSIGN_KEY_ID_HEX, h, (FWSIGN_KEY_ID_HEX - 1) / 2);
}

int fwsign_key_path(const char *configured, const char *db_path, char *out, size_t len)
{
        int n;

        if (configured && *configured)
                n = snprintf(out, len, "%s", configured);
        else
                n = snprintf(out, len, "%s.fwkey", db_path ? db_path : "enemane.db");
        return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* Reads the seed of an open key file: 0, -EPERM, -EINVAL or -errno. */
static int key_read(int fd, unsigned char seed[crypto_sign_SEEDBYTES])
{
        char text[KEY_FILE_MAX + 1];
        struct stat sb;
        size_t n = 0, len;
        ssize_t got;

        if (fstat(fd, &sb) < 0)
                return -errno;
        if (!S_ISREG(sb.st_mode) || (sb.st_mode & 077))
                return -EPERM;
        len = 0;
        while (len < KEY_FILE_MAX) {
                got = read(fd, text + len, KEY_FILE_MAX - len);
                if (got < 0 && errno == EINTR)
                        continue;
                if (got < 0)
                        return -errno;
                if (got == 0)
                        break;
                len += (size_t)got;
        }
        text[len] = '\0';
        while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r'))
                text[--len] = '\0';
        if (len != 2 * crypto_sign_SEEDBYTES ||
            sodium_hex2bin(seed, crypto_sign_SEEDBYTES, text, len, NULL, &n, NULL) != 0 ||
            n != crypto_sign_SEEDBYTES) {
                sodium_memzero(text, sizeof(text));
                return -EINVAL;
        }
        sodium_memzero(text, sizeof(text));
        return 0;
}

/* Writes a new random seed to path (which must not exist): 0, -EEXIST or
 * -errno. */
static int key_create(const char *path, unsigned char seed[crypto_sign_SEEDBYTES])
{
        char text[2 * crypto_sign_SEEDBYTES + 2];
        size_t len = 2 * crypto_sign_SEEDBYTES + 1, off = 0;
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
        int r = 0;

        if (fd < 0)
                return -errno;
        randombytes_buf(seed, crypto_sign_SEEDBYTES);
        sodium_bin2hex(text, sizeof(text), seed, crypto_sign_SEEDBYTES);
        text[len - 1] = '\n';
        while (off < len && r == 0) {
                ssize_t w = write(fd, text + off, len - off);

                if (w < 0 && errno != EINTR)
                        r = -errno;
                else if (w > 0)
                        off += (size_t)w;
        }
        if (r == 0 && fsync(fd) < 0)
                r = -errno;
        close(fd);
        sodium_memzero(text, sizeof(text));
        if (r < 0)
                unlink(path);   /* a half-written key must not be found later */
        return r;
}

int fwsign_key_load(const char *path, unsigned char pk[FWSIGN_PK_BYTES],
                    unsigned char sk[FWSIGN_SK_BYTES])
{
        unsigned char seed[crypto_sign_SEEDBYTES], skbuf[FWSIGN_SK_BYTES];
        int r = -ENOENT;

        for (int attempt = 0; attempt < 2 && r == -ENOENT; attempt++) {
                int fd = open(path, O_RDONLY | O_CLOEXEC);   /* a symlink to a secret is fine */

                if (fd >= 0) {
                        r = key_read(fd, seed);
                        close(fd);
                } else if (errno == ENOENT) {
                        r = key_create(path, seed);
                        if (r == -EEXIST)
                                r = -ENOENT;    /* another process made it: read it */
                } else {
                        r = -errno;
                }
        }
        if (r == 0) {
                crypto_sign_seed_keypair(pk, skbuf, seed);
                if (sk)
                        memcpy(sk, skbuf, sizeof(skbuf));
        }
        sodium_memzero(seed, sizeof(seed));
        sodium_memzero(skbuf, sizeof(skbuf));
        return r;
}

enum fwsign_check fwsign_check_image(const unsigned char pk[FWSIGN_PK_BYTES],
                                     const char *manifest, size_t manifest_len,
                                     const char *sig_b64, uint64_t image_size,
                                     const char *image_sha256, struct fwsign_manifest *m)
{
        memset(m, 0, sizeof(*m));
        if (fwsign_verify(pk, manifest, manifest_len, sig_b64) < 0)
                return FWSIGN_BAD_SIGNATURE;
        if (fwsign_manifest_parse(manifest, manifest_len, m) < 0)
                return FWSIGN_BAD_MANIFEST;
        if (m->size != image_size)
                return FWSIGN_WRONG_SIZE;
        if (sodium_memcmp(m->sha256, image_sha256, FWSIGN_SHA256_HEX - 1) != 0)
                return FWSIGN_WRONG_HASH;
        return FWSIGN_OK;
}

const char *fwsign_check_text(enum fwsign_check c)
{
        switch (c) {
        case FWSIGN_OK:
                return "verified";
        case FWSIGN_BAD_SIGNATURE:
                return "the manifest's signature does not verify with this public key";
        case FWSIGN_BAD_MANIFEST:
                return "the signed text is not a firmware manifest";
        case FWSIGN_WRONG_SIZE:
                return "the image's size differs from the manifest's";
        case FWSIGN_WRONG_HASH:
                return "the image's SHA-256 differs from the manifest's";
        }
        return "unknown";
}
