/*
 * fwsign.h - signed firmware manifests (HE-14): the manifest's canonical
 * text, SHA-256 of an image, Ed25519 signatures (libsodium), the operator's
 * key file, and the verification a gateway does before it installs.
 *
 * Self-contained on purpose: fwsign.c needs only libc and libsodium, so a
 * gateway vendor can take fwsign.c/.h as they are (the command-line
 * wrapper, `enemane firmware verify`, is fwverify.c).
 *
 * Manifest (the exact bytes that are signed), ASCII, LF line ends, these
 * five lines in this order and nothing else:
 *
 *     enemane-firmware-manifest-v1
 *     model=<model>
 *     version=<version>
 *     size=<decimal bytes, no leading zeros>
 *     sha256=<64 lowercase hex digits>
 *
 * Model and version are 1 to 64 characters of A-Z a-z 0-9 . _ + -, so the
 * text has one form only. The signature is Ed25519 (RFC 8032, pure) over
 * those bytes, sent as standard base64 (88 characters); the public key is
 * 32 bytes, sent as standard base64 (44 characters). Its key id is the hex
 * of the first 8 bytes of BLAKE2b-256 of the public key.
 *
 * Key file: one line, the 64 hex digits of the 32-byte Ed25519 seed. It is
 * created with mode 0600 on first use (O_EXCL: two processes starting at
 * once agree on one key) and refused when what it names (a symlink is
 * followed) is not a regular file or group or others may read it.
 */
#ifndef ENEMANE_UTIL_FWSIGN_H
#define ENEMANE_UTIL_FWSIGN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FWSIGN_FIELD_MAX 64
#define FWSIGN_MANIFEST_MAX 512         /* the longest manifest is ~240 bytes */
#define FWSIGN_MAGIC "enemane-firmware-manifest-v1"
#define FWSIGN_PK_BYTES 32
#define FWSIGN_SK_BYTES 64
#define FWSIGN_SIG_BYTES 64
#define FWSIGN_SHA256_HEX 65            /* 64 hex digits + NUL */
#define FWSIGN_SIG_B64 89               /* 88 base64 characters + NUL */
#define FWSIGN_PK_B64 45                /* 44 base64 characters + NUL */
#define FWSIGN_KEY_ID_HEX 17            /* 16 hex digits + NUL */

struct fwsign_manifest {
        char model[FWSIGN_FIELD_MAX + 1];
        char version[FWSIGN_FIELD_MAX + 1];
        uint64_t size;
        char sha256[FWSIGN_SHA256_HEX];
};

/* 1 to 64 characters of A-Z a-z 0-9 . _ + - */
bool fwsign_field_ok(const char *s);

/* The canonical text of m into out (NUL-terminated); its length, or
 * -EINVAL (a field not allowed) / -ENOSPC. */
int fwsign_manifest_format(const struct fwsign_manifest *m, char *out, size_t len);
/* Reads a manifest; accepts only the canonical text (what format would
 * write for the values read): 0 or -EINVAL. */
int fwsign_manifest_parse(const char *text, size_t len, struct fwsign_manifest *m);

/* SHA-256 of a buffer, lowercase hex. */
void fwsign_sha256_hex(const void *data, size_t len, char out[FWSIGN_SHA256_HEX]);
/* SHA-256 and size of a file, read in pieces: 0 or negative errno. */
int fwsign_sha256_file(const char *path, char out[FWSIGN_SHA256_HEX], uint64_t *size);

/* Detached Ed25519 signature of msg, base64. */
void fwsign_sign(const unsigned char sk[FWSIGN_SK_BYTES], const void *msg, size_t len,
                 char sig_b64[FWSIGN_SIG_B64]);
/* 0 when sig_b64 is a valid signature of msg under pk, -EBADMSG when not
 * (also for a malformed signature). */
int fwsign_verify(const unsigned char pk[FWSIGN_PK_BYTES], const void *msg, size_t len,
                  const char *sig_b64);

void fwsign_pk_b64(const unsigned char pk[FWSIGN_PK_BYTES], char out[FWSIGN_PK_B64]);
/* A public key as 44 base64 characters or 64 hex digits (surrounding
 * whitespace ignored): 0 or -EINVAL. */
int fwsign_pk_parse(const char *text, unsigned char pk[FWSIGN_PK_BYTES]);
void fwsign_key_id(const unsigned char pk[FWSIGN_PK_BYTES], char out[FWSIGN_KEY_ID_HEX]);

/* The key file's path: configured when not empty, else "<db_path>.fwkey".
 * 0 or -ENAMETOOLONG. */
int fwsign_key_path(const char *configured, const char *db_path, char *out, size_t len);
/* Loads the key pair from path, creating the file (0600) with a new random
 * seed when it does not exist. 0; -EPERM when the file is readable by group
 * or others or is not a regular file; -EINVAL when it does not hold a key;
 * another negative errno from the file system. sk may be NULL (public key
 * only). */
int fwsign_key_load(const char *path, unsigned char pk[FWSIGN_PK_BYTES],
                    unsigned char sk[FWSIGN_SK_BYTES]);

/* What a gateway checks before it installs. */
enum fwsign_check {
        FWSIGN_OK = 0,
        FWSIGN_BAD_SIGNATURE,           /* the manifest is not signed by the key */
        FWSIGN_BAD_MANIFEST,            /* signed, but not a manifest */
        FWSIGN_WRONG_SIZE,              /* the image's size is not the manifest's */
        FWSIGN_WRONG_HASH,              /* the image's SHA-256 is not the manifest's */
};
/* Checks the signature of manifest under pk, then the image (size,
 * sha256) against it; *m gets the manifest when it parsed. */
enum fwsign_check fwsign_check_image(const unsigned char pk[FWSIGN_PK_BYTES],
                                     const char *manifest, size_t manifest_len,
                                     const char *sig_b64, uint64_t image_size,
                                     const char *image_sha256, struct fwsign_manifest *m);
const char *fwsign_check_text(enum fwsign_check c);

/* `enemane firmware verify IMAGE MANIFEST PUBKEY` (fwverify.c): argv[0] is
 * "verify". Prints the outcome; exit status 0 verified, 1 not verified,
 * 2 usage or file error. */
int fwverify_main(int argc, char **argv);

#endif
