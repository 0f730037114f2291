/*
 * test_crypto.c - the libsodium wrapper (PD-8): argon2id password hashes,
 * random tokens and their BLAKE2b hashes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "util/crypto.h"

static int setup(void **state)
{
        return crypto_init();
}

static void test_PD_8_password_hash_is_argon2id(void **state)
{
        char h1[CRYPTO_PWHASH_MAX], h2[CRYPTO_PWHASH_MAX];

        assert_int_equal(crypto_password_hash("correct horse battery", h1), 0);
        assert_int_equal(crypto_password_hash("correct horse battery", h2), 0);
        assert_memory_equal(h1, "$argon2id$", 10);
        assert_null(strstr(h1, "correct"));
        assert_string_not_equal(h1, h2);        /* salted */
        assert_true(crypto_password_verify(h1, "correct horse battery"));
        assert_true(crypto_password_verify(h2, "correct horse battery"));
        assert_false(crypto_password_verify(h1, "correct horse batterz"));
        assert_false(crypto_password_verify(h1, ""));
}

static void test_verify_rejects_other_formats(void **state)
{
        assert_false(crypto_password_verify(NULL, "x"));
        assert_false(crypto_password_verify("", "x"));
        assert_false(crypto_password_verify("$argon2i$v=19$m=4096,t=3,p=1$abc$def", "x"));
        assert_false(crypto_password_verify("plaintext", "plaintext"));
        crypto_password_burn("anything");       /* must not crash */
}

static void test_PD_8_tokens_random_and_hashed(void **state)
{
        char a[CRYPTO_TOKEN_MAX], b[CRYPTO_TOKEN_MAX];
        char ha[CRYPTO_HASH_HEX], hb[CRYPTO_HASH_HEX], ha2[CRYPTO_HASH_HEX];

        crypto_token_new("ens_", a);
        crypto_token_new("ens_", b);
        assert_memory_equal(a, "ens_", 4);
        assert_int_equal(strlen(a), 4 + 43);
        assert_string_not_equal(a, b);
        for (const char *p = a + 4; *p; p++)
                assert_true((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
                            (*p >= '0' && *p <= '9') || *p == '-' || *p == '_');
        crypto_token_hash(a, ha);
        crypto_token_hash(a, ha2);
        crypto_token_hash(b, hb);
        assert_int_equal(strlen(ha), 64);
        assert_string_equal(ha, ha2);
        assert_string_not_equal(ha, hb);
        assert_null(strstr(ha, a + 4));
}

static void test_known_blake2b_vector(void **state)
{
        char h[CRYPTO_HASH_HEX];

        /* BLAKE2b-256("abc") */
        crypto_token_hash("abc", h);
        assert_string_equal(h, "bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319");
}

static void test_random_hex_and_streq(void **state)
{
        char a[33], b[33];

        crypto_random_hex(a, 16);
        crypto_random_hex(b, 16);
        assert_int_equal(strlen(a), 32);
        assert_string_not_equal(a, b);
        assert_true(crypto_streq("abc", "abc"));
        assert_false(crypto_streq("abc", "abd"));
        assert_false(crypto_streq("abc", "abcd"));
}

static void test_hmac_sha256_rfc4231(void **state)
{
        char mac[CRYPTO_HMAC_HEX];
        const char *msg = "what do ya want for nothing?";

        /* RFC 4231 test case 2, the message split in two parts */
        crypto_hmac_sha256_hex("Jefe", msg, 10, msg + 10, strlen(msg) - 10, mac);
        assert_string_equal(mac, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_PD_8_password_hash_is_argon2id),
                cmocka_unit_test(test_verify_rejects_other_formats),
                cmocka_unit_test(test_PD_8_tokens_random_and_hashed),
                cmocka_unit_test(test_known_blake2b_vector),
                cmocka_unit_test(test_random_hex_and_streq),
                cmocka_unit_test(test_hmac_sha256_rfc4231),
        };

        return cmocka_run_group_tests(tests, setup, NULL);
}
