/*
 * crypto.c - libsodium wrappers (see crypto.h).
 */
#include "util/crypto.h"

#include <errno.h>
#include <pthread.h>
#include <sodium.h>
#include <string.h>

static char dummy_hash[crypto_pwhash_STRBYTES];
static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;

int crypto_init(void)
{
        return sodium_init() < 0 ? -EIO : 0;
}

int crypto_password_hash(const char *password, char out[CRYPTO_PWHASH_MAX])
{
        _Static_assert(CRYPTO_PWHASH_MAX >= crypto_pwhash_STRBYTES, "pwhash buffer");
        if (crypto_pwhash_str_alg(out, password, strlen(password),
                                  crypto_pwhash_OPSLIMIT_INTERACTIVE,
                                  crypto_pwhash_MEMLIMIT_INTERACTIVE,
                                  crypto_pwhash_ALG_ARGON2ID13) != 0)
                return -ENOMEM;
        return 0;
}

bool crypto_password_verify(const char *stored, const char *password)
{
        if (!stored || strncmp(stored, "$argon2id$", 10) != 0)
                return false;
        return crypto_pwhash_str_verify(stored, password, strlen(password)) == 0;
}

static void make_dummy(void)
{
        char pw[33];

        crypto_random_hex(pw, 16);
        if (crypto_password_hash(pw, dummy_hash) < 0)
                dummy_hash[0] = '\0';
}

void crypto_password_burn(const char *password)
{
        pthread_once(&dummy_once, make_dummy);
        (void)crypto_password_verify(dummy_hash, password);
}

void crypto_token_new(const char *prefix, char out[CRYPTO_TOKEN_MAX])
{
        unsigned char raw[32];
        size_t plen = strlen(prefix);

        if (plen > 8)
                plen = 8;
        memcpy(out, prefix, plen);
        randombytes_buf(raw, sizeof(raw));
        sodium_bin2base64(out + plen, CRYPTO_TOKEN_MAX - plen, raw, sizeof(raw),
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING);
        sodium_memzero(raw, sizeof(raw));
}

void crypto_token_hash(const char *token, char out[CRYPTO_HASH_HEX])
{
        unsigned char h[32];

        crypto_generichash(h, sizeof(h), (const unsigned char *)token, strlen(token), NULL, 0);
        sodium_bin2hex(out, CRYPTO_HASH_HEX, h, sizeof(h));
}

void crypto_random_hex(char *out, size_t nbytes)
{
        unsigned char raw[64];

        if (nbytes > sizeof(raw))
                nbytes = sizeof(raw);
        randombytes_buf(raw, nbytes);
        sodium_bin2hex(out, nbytes * 2 + 1, raw, nbytes);
}

void crypto_hmac_sha256_hex(const char *key, const void *a, size_t alen, const void *b,
                            size_t blen, char out[CRYPTO_HMAC_HEX])
{
        crypto_auth_hmacsha256_state st;
        unsigned char mac[crypto_auth_hmacsha256_BYTES];

        crypto_auth_hmacsha256_init(&st, (const unsigned char *)key, strlen(key));
        crypto_auth_hmacsha256_update(&st, a, alen);
        crypto_auth_hmacsha256_update(&st, b, blen);
        crypto_auth_hmacsha256_final(&st, mac);
        sodium_bin2hex(out, CRYPTO_HMAC_HEX, mac, sizeof(mac));
}

bool crypto_streq(const char *a, const char *b)
{
        size_t la = strlen(a), lb = strlen(b);

        if (la != lb)
                return false;
        return sodium_memcmp(a, b, la) == 0;
}
