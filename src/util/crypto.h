/*
 * crypto.h - the few cryptographic operations enemane needs, on libsodium.
 *
 *  - passwords: argon2id with libsodium's "interactive" limits, stored as
 *    the self-describing $argon2id$... string;
 *  - opaque tokens: 32 random bytes, base64url without padding, with a
 *    short prefix that says what the token is ("ens_" session);
 *  - token hashes: BLAKE2b-256 of the token, hex; only the hash is stored.
 *
 * crypto_init() must run once before any thread uses these.
 */
#ifndef ENEMANE_UTIL_CRYPTO_H
#define ENEMANE_UTIL_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>

#define CRYPTO_PWHASH_MAX 128   /* crypto_pwhash_STRBYTES */
#define CRYPTO_TOKEN_MAX 64     /* prefix + 43 chars + NUL */
#define CRYPTO_HASH_HEX 65      /* 64 hex digits + NUL */

int crypto_init(void);

/* 0, -ENOMEM (memory limit could not be allocated). */
int crypto_password_hash(const char *password, char out[CRYPTO_PWHASH_MAX]);
/* true when password matches the stored hash. */
bool crypto_password_verify(const char *stored, const char *password);
/* Verifies against a fixed dummy hash: costs the same time as a real
 * check, so unknown emails are not distinguishable by timing. */
void crypto_password_burn(const char *password);

/* New random token "<prefix><43 base64url chars>". */
void crypto_token_new(const char *prefix, char out[CRYPTO_TOKEN_MAX]);
/* BLAKE2b-256 hex of any string. */
void crypto_token_hash(const char *token, char out[CRYPTO_HASH_HEX]);
/* n random bytes as 2n lowercase hex digits + NUL into out. */
void crypto_random_hex(char *out, size_t nbytes);
/* HMAC-SHA256 of the concatenation a || b under key, as 64 lowercase hex
 * digits + NUL. */
#define CRYPTO_HMAC_HEX 65
void crypto_hmac_sha256_hex(const char *key, const void *a, size_t alen, const void *b,
                            size_t blen, char out[CRYPTO_HMAC_HEX]);

/* Constant-time string equality (lengths leak). */
bool crypto_streq(const char *a, const char *b);

#endif
