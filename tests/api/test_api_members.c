/*
 * test_api_members.c - member accounts over HTTP against the real binary:
 * registration (CS-1, CS-2, PD-1), profile and re-verification flag
 * (CS-8), consent to new document versions (CS-38), withdrawal (CS-4),
 * and the audit trail of personal-data changes (PD-8).
 */
#include "common.h"

static struct api_server srv;
static char *op_token;

static int setup(void **state)
{
        if (api_server_start(&srv, NULL) < 0)
                return -1;
        op_token = operator_token(&srv, "op@members.test");
        return 0;
}

static int teardown(void **state)
{
        free(op_token);
        return api_server_stop(&srv) == 0 ? 0 : -1;
}

static void test_CS_1_register_individual(void **state)
{
        struct api_resp r = { 0 };

        assert_int_equal(register_member(&srv, "Taro@Example.jp", "", &r), 201);
        assert_string_equal(r.content_type, "application/json");
        assert_true(api_json_int(r.json, "id", 0) > 0);
        assert_string_equal(api_json_str(r.json, "email"), "Taro@Example.jp");
        assert_string_equal(api_json_str(r.json, "kind"), "individual");
        assert_string_equal(api_json_str(r.json, "status"), "active");
        assert_string_equal(api_json_str(r.json, "phone"), "09012345678");
        assert_string_equal(api_json_str(r.json, "address.prefecture"), "東京都");
        assert_null(api_json_get(r.json, "password"));
        assert_null(api_json_get(r.json, "password_hash"));
        assert_string_equal(r.location, "/api/v1/me");
        /* RFC 3339 with the Tokyo offset */
        assert_non_null(strstr(api_json_str(r.json, "created_at"), "+09:00"));
        api_resp_free(&r);
}

static void test_CS_1_email_unique_case_insensitive(void **state)
{
        struct api_resp r = { 0 };

        assert_int_equal(register_member(&srv, "dup@example.jp", "", NULL), 201);
        assert_int_equal(register_member(&srv, "DUP@Example.JP", "", &r), 409);
        assert_problem(&r, 409, "email_taken");
        assert_true(has_field_error(&r, "email", "taken"));
        api_resp_free(&r);
}

static void test_CS_1_PD_1_registration_needs_current_consents(void **state)
{
        struct api_resp r = { 0 };
        const char *body =
                "{\"kind\":\"individual\",\"email\":\"noconsent@example.jp\",\"password\":\""
                DEFAULT_PASSWORD "\",\"name\":\"A\",\"name_kana\":\"ア\",\"phone\":\"0312345678\","
                "\"birth_date\":\"1980-01-01\",\"address\":{\"postcode\":\"1000001\","
                "\"prefecture\":\"東京都\",\"city\":\"千代田区\",\"line1\":\"1\"},"
                "\"consents\":[{\"document\":\"terms\",\"version\":\"0.9\"}]}";

        assert_int_equal(api_call(&srv, "POST", "/api/v1/members", NULL, body, &r), 0);
        assert_problem(&r, 422, "validation_failed");
        assert_true(has_field_error(&r, "consents.0.version", "not_current"));
        assert_true(has_field_error(&r, "consents", "consent_required"));
        api_resp_free(&r);
}

static void test_PD_1_consents_recorded_per_document_and_version(void **state)
{
        struct api_resp r = { 0 };
        char *tok = member_token(&srv, "consents@example.jp");
        json_t *given;

        assert_int_equal(api_call(&srv, "GET", "/api/v1/me/consents", tok, NULL, &r), 0);
        assert_int_equal(r.status, 200);
        given = api_json_get(r.json, "given");
        assert_int_equal(json_array_size(given), 2);
        assert_non_null(api_json_str(r.json, "given.0.version"));
        assert_non_null(api_json_str(r.json, "given.0.accepted_at"));
        assert_non_null(api_json_str(r.json, "given.1.document"));
        assert_int_equal(json_array_size(api_json_get(r.json, "required")), 0);
        api_resp_free(&r);
        free(tok);
}

static void test_CS_2_minor_needs_guardian_consent(void **state)
{
        struct api_resp r = { 0 };

        /* 10 years old: no guardian -> refused, naming the field */
        assert_int_equal(register_member(&srv, "kid@example.jp",
                                         "\"birth_date\":\"2016-04-01\",", &r), 422);
        assert_problem(&r, 422, "validation_failed");
        assert_true(has_field_error(&r, "guardian", "guardian_consent_required"));
        api_resp_free(&r);
        /* guardian present but not consenting */
        assert_int_equal(register_member(&srv, "kid@example.jp",
                                         "\"birth_date\":\"2016-04-01\",\"guardian\":{\"name\":"
                                         "\"山田 一郎\",\"relationship\":\"父\",\"consent\":false},",
                                         &r), 422);
        assert_true(has_field_error(&r, "guardian.consent", "guardian_consent_required"));
        api_resp_free(&r);
        /* with consent: registered and the consent recorded with time */
        assert_int_equal(register_member(&srv, "kid@example.jp",
                                         "\"birth_date\":\"2016-04-01\",\"guardian\":{\"name\":"
                                         "\"山田 一郎\",\"relationship\":\"父\",\"consent\":true},",
                                         &r), 201);
        assert_string_equal(api_json_str(r.json, "guardian_consent.name"), "山田 一郎");
        assert_non_null(api_json_str(r.json, "guardian_consent.recorded_at"));
        api_resp_free(&r);
}

static void test_CS_2_adult_guardian_not_applicable(void **state)
{
        struct api_resp r = { 0 };

        assert_int_equal(register_member(&srv, "adult@example.jp",
                                         "\"guardian\":{\"name\":\"X\",\"relationship\":\"父\","
                                         "\"consent\":true},", &r), 422);
        assert_true(has_field_error(&r, "guardian", "not_applicable"));
        api_resp_free(&r);
}

static void test_CS_1_register_corporation(void **state)
{
        struct api_resp r = { 0 };
        char *consents = current_consents(&srv);
        char *body = api_printf(
                "{\"kind\":\"corporation\",\"email\":\"corp@example.jp\",\"password\":\"%s\","
                "\"corporate_name\":\"株式会社テスト\",\"contact_person\":\"鈴木 次郎\","
                "\"name_kana\":\"カブシキガイシャテスト\",\"phone\":\"+81 3-1234-5678\","
                "\"address\":{\"postcode\":\"530-0001\",\"prefecture\":\"大阪府\",\"city\":\"大阪市\","
                "\"line1\":\"梅田1-1\"},\"consents\":%s}", DEFAULT_PASSWORD, consents);

        assert_int_equal(api_call(&srv, "POST", "/api/v1/members", NULL, body, &r), 0);
        assert_int_equal(r.status, 201);
        assert_string_equal(api_json_str(r.json, "kind"), "corporation");
        assert_string_equal(api_json_str(r.json, "corporate_name"), "株式会社テスト");
        assert_string_equal(api_json_str(r.json, "phone"), "0312345678");
        assert_true(json_is_null(api_json_get(r.json, "birth_date")));
        api_resp_free(&r);
        free(body);
        free(consents);
}

static void test_register_reports_every_bad_field(void **state)
{
        struct api_resp r = { 0 };
        const char *body =
                "{\"kind\":\"robot\",\"email\":\"not-an-email\",\"password\":\"short\","
                "\"name\":\"\",\"name_kana\":\"abc\",\"phone\":\"12\",\"birth_date\":\"1990-02-30\","
                "\"address\":{\"postcode\":\"12\",\"prefecture\":\"Tokyo\",\"city\":\"x\","
                "\"line1\":\"y\"},\"consents\":[],\"nickname\":\"z\"}";

        assert_int_equal(api_call(&srv, "POST", "/api/v1/members", NULL, body, &r), 0);
        assert_problem(&r, 422, "validation_failed");
        assert_true(has_field_error(&r, "kind", "invalid"));
        assert_true(has_field_error(&r, "email", "invalid"));
        assert_true(has_field_error(&r, "password", "weak_password"));
        assert_true(has_field_error(&r, "name", "required"));
        assert_true(has_field_error(&r, "name_kana", "invalid"));
        assert_true(has_field_error(&r, "phone", "invalid"));
        assert_true(has_field_error(&r, "birth_date", "invalid"));
        assert_true(has_field_error(&r, "address.postcode", "invalid"));
        assert_true(has_field_error(&r, "address.prefecture", "invalid"));
        assert_true(has_field_error(&r, "nickname", "unknown_field"));
        assert_non_null(api_json_str(r.json, "errors.0.pointer"));
        api_resp_free(&r);
}

static void test_me_get_requires_token(void **state)
{
        struct api_resp r = { 0 };

        assert_int_equal(api_call(&srv, "GET", "/api/v1/me", NULL, NULL, &r), 0);
        assert_problem(&r, 401, "unauthorized");
        assert_non_null(strstr(r.www_authenticate, "Bearer"));
        api_resp_free(&r);
}

static void test_CS_8_profile_change_flags_reverification(void **state)
{
        struct api_resp r = { 0 };
        char *tok = member_token(&srv, "reverify@example.jp");

        assert_int_equal(api_call(&srv, "GET", "/api/v1/me", tok, NULL, &r), 0);
        assert_int_equal(r.status, 200);
        assert_false(json_is_true(api_json_get(r.json, "reverification_required")));
        api_resp_free(&r);
        /* phone only: no re-verification */
        assert_int_equal(api_call(&srv, "PATCH", "/api/v1/me", tok,
                                  "{\"phone\":\"080-1111-2222\"}", &r), 0);
        assert_int_equal(r.status, 200);
        assert_string_equal(api_json_str(r.json, "phone"), "08011112222");
        assert_false(json_is_true(api_json_get(r.json, "reverification_required")));
        api_resp_free(&r);
        /* address: re-verification required */
        assert_int_equal(api_call(&srv, "PATCH", "/api/v1/me", tok,
                                  "{\"address\":{\"postcode\":\"060-0001\",\"prefecture\":\"北海道\","
                                  "\"city\":\"札幌市\",\"line1\":\"北1条\"}}", &r), 0);
        assert_int_equal(r.status, 200);
        assert_string_equal(api_json_str(r.json, "address.city"), "札幌市");
        assert_true(json_is_true(api_json_get(r.json, "reverification_required")));
        api_resp_free(&r);
        free(tok);
}

static void test_CS_8_name_change_flags_reverification(void **state)
{
        struct api_resp r = { 0 };
        char *tok = member_token(&srv, "rename@example.jp");

        assert_int_equal(api_call(&srv, "PATCH", "/api/v1/me", tok, "{\"name\":\"山田 次郎\"}",
                                  &r), 0);
        assert_int_equal(r.status, 200);
        assert_string_equal(api_json_str(r.json, "name"), "山田 次郎");
        assert_true(json_is_true(api_json_get(r.json, "reverification_required")));
        api_resp_free(&r);
        free(tok);
}

static void test_patch_email_not_changeable(void **state)
{
        struct api_resp r = { 0 };
        char *tok = member_token(&srv, "fixed@example.jp");

        assert_int_equal(api_call(&srv, "PATCH", "/api/v1/me", tok,
                                  "{\"email\":\"other@example.jp\",\"color\":\"red\"}", &r), 0);
        assert_problem(&r, 422, "validation_failed");
        assert_true(has_field_error(&r, "email", "not_changeable"));
        assert_true(has_field_error(&r, "color", "unknown_field"));
        api_resp_free(&r);
        assert_int_equal(api_call(&srv, "GET", "/api/v1/me", tok, NULL, &r), 0);
        assert_string_equal(api_json_str(r.json, "email"), "fixed@example.jp");
        api_resp_free(&r);
        free(tok);
}

static long publish(const char *kind, const char *version, int requires)
{
        struct api_resp r = { 0 };
        char *body = api_printf("{\"document\":\"%s\",\"version\":\"%s\",\"title\":\"T %s\","
                                "\"body\":\"text\",\"requires_consent\":%s}", kind, version,
                                version, requires ? "true" : "false");
        long status;

        assert_int_equal(api_call(&srv, "POST", "/api/v1/documents", op_token, body, &r), 0);
        status = r.status;
        api_resp_free(&r);
        free(body);
        return status;
}

/* Runs last among the consent-sensitive tests: it publishes new versions. */
static void test_CS_38_new_terms_need_consent_before_acting(void **state)
{
        struct api_resp r = { 0 };
        char *tok = member_token(&srv, "consent38@example.jp");
        char *consents;

        /* an editorial version that needs no consent blocks nobody */
        assert_int_equal(publish("privacy", "1.1", 0), 201);
        assert_int_equal(api_call(&srv, "PATCH", "/api/v1/me", tok, "{\"phone\":\"0311112222\"}",
                                  &r), 0);
        assert_int_equal(r.status, 200);
        api_resp_free(&r);

        assert_int_equal(publish("terms", "2", 1), 201);
        assert_int_equal(publish("terms", "2", 1), 409);      /* versions never replaced */
        assert_int_equal(api_call(&srv, "PATCH", "/api/v1/me", tok, "{\"phone\":\"0311113333\"}",
                                  &r), 0);
        assert_problem(&r, 403, "consent_required");
        assert_string_equal(api_json_str(r.json, "documents.0.version"), "2");
        api_resp_free(&r);
        /* reading one's data and the consents is still allowed */
        assert_int_equal(api_call(&srv, "GET", "/api/v1/me", tok, NULL, &r), 0);
        assert_int_equal(r.status, 200);
        api_resp_free(&r);
        assert_int_equal(api_call(&srv, "GET", "/api/v1/me/consents", tok, NULL, &r), 0);
        assert_string_equal(api_json_str(r.json, "required.0.version"), "2");
        api_resp_free(&r);
        /* accept the current versions, then acting works again */
        consents = current_consents(&srv);
        char *body = api_printf("{\"consents\":%s}", consents);

        assert_int_equal(api_call(&srv, "POST", "/api/v1/me/consents", tok, body, &r), 0);
        assert_int_equal(r.status, 200);
        assert_int_equal(json_array_size(api_json_get(r.json, "required")), 0);
        api_resp_free(&r);
        assert_int_equal(api_call(&srv, "PATCH", "/api/v1/me", tok, "{\"phone\":\"0311113333\"}",
                                  &r), 0);
        assert_int_equal(r.status, 200);
        api_resp_free(&r);
        /* the operator is not blocked by consent */
        assert_int_equal(api_call(&srv, "GET", "/api/v1/members?limit=1", op_token, NULL, &r), 0);
        assert_int_equal(r.status, 200);
        api_resp_free(&r);
        free(body);
        free(consents);
        free(tok);
}

static void test_CS_4_withdrawal_without_blockers(void **state)
{
        struct api_resp r = { 0 };
        char *tok = member_token(&srv, "leaver@example.jp");
        char *body = api_printf("{\"email\":\"leaver@example.jp\",\"password\":\"%s\"}",
                                DEFAULT_PASSWORD);

        assert_int_equal(api_call(&srv, "DELETE", "/api/v1/me", tok, NULL, &r), 0);
        assert_int_equal(r.status, 204);
        api_resp_free(&r);
        /* the session died with the account */
        assert_int_equal(api_call(&srv, "GET", "/api/v1/me", tok, NULL, &r), 0);
        assert_problem(&r, 401, "unauthorized");
        api_resp_free(&r);
        assert_int_equal(api_call(&srv, "POST", "/api/v1/sessions", NULL, body, &r), 0);
        assert_problem(&r, 401, "invalid_credentials");
        api_resp_free(&r);
        /* the email may be used for a new account */
        assert_int_equal(register_member(&srv, "leaver@example.jp", "", NULL), 201);
        free(body);
        free(tok);
}

static void test_PD_8_profile_change_is_audited(void **state)
{
        struct api_resp r = { 0 };
        char *tok = member_token(&srv, "audited@example.jp");
        json_int_t id;
        char *path;

        assert_int_equal(api_call(&srv, "PATCH", "/api/v1/me", tok, "{\"name_kana\":\"ヤマダ\"}",
                                  &r), 0);
        id = api_json_int(r.json, "id", 0);
        api_resp_free(&r);
        path = api_printf("/api/v1/audit?subject_id=%lld", (long long)id);
        assert_int_equal(api_call(&srv, "GET", path, op_token, NULL, &r), 0);
        assert_int_equal(r.status, 200);
        /* newest first: the update, then the creation */
        assert_string_equal(api_json_str(r.json, "items.0.action"), "update");
        assert_string_equal(api_json_str(r.json, "items.0.items"), "name_kana");
        assert_int_equal(api_json_int(r.json, "items.0.actor_id", 0), id);
        assert_string_equal(api_json_str(r.json, "items.0.client_ip"), "127.0.0.1");
        assert_string_equal(api_json_str(r.json, "items.1.action"), "create");
        assert_int_equal(api_json_int(r.json, "items.1.actor_id", 0), id);
        api_resp_free(&r);
        free(path);
        free(tok);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_CS_1_register_individual),
                cmocka_unit_test(test_CS_1_email_unique_case_insensitive),
                cmocka_unit_test(test_CS_1_PD_1_registration_needs_current_consents),
                cmocka_unit_test(test_PD_1_consents_recorded_per_document_and_version),
                cmocka_unit_test(test_CS_2_minor_needs_guardian_consent),
                cmocka_unit_test(test_CS_2_adult_guardian_not_applicable),
                cmocka_unit_test(test_CS_1_register_corporation),
                cmocka_unit_test(test_register_reports_every_bad_field),
                cmocka_unit_test(test_me_get_requires_token),
                cmocka_unit_test(test_CS_8_profile_change_flags_reverification),
                cmocka_unit_test(test_CS_8_name_change_flags_reverification),
                cmocka_unit_test(test_patch_email_not_changeable),
                cmocka_unit_test(test_CS_4_withdrawal_without_blockers),
                cmocka_unit_test(test_PD_8_profile_change_is_audited),
                cmocka_unit_test(test_CS_38_new_terms_need_consent_before_acting),
        };

        return cmocka_run_group_tests(tests, setup, teardown);
}
