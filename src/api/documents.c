/*
 * documents.c - the versioned terms of use and privacy policy (CS-38,
 * PD-1): anyone reads the current versions; the operator publishes new
 * ones. A version published with requires_consent makes every member's
 * other calls answer 403 consent_required until they accept it.
 */
#include "api/api.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/validate.h"
#include "store/store_document.h"

json_t *api_document_json(const struct store_document *d)
{
        return json_pack("{s:I, s:s, s:s, s:s, s:s, s:b, s:o}", "id", (json_int_t)d->id,
                         "document", d->kind, "version", d->version, "title", d->title,
                         "url", d->url, "requires_consent", d->requires_consent,
                         "published_at", api_time(d->published_at));
}

static void list_cb(const struct store_document *d, void *ud)
{
        json_array_append_new(ud, api_document_json(d));
}

void api_documents_list(struct api_ctx *c)
{
        struct store_document cur[STORE_DOC_KINDS];
        _Bool all = false;
        char *v = NULL;
        json_t *items = json_array();
        int n;

        if (http_query_get(c->req->query, "all", &v) > 0)
                all = strcmp(v, "true") == 0 || strcmp(v, "1") == 0;
        free(v);
        if (all) {
                n = store_document_list(c->app->st, list_cb, items);
        } else {
                n = store_document_current(c->app->st, cur, STORE_DOC_KINDS);
                for (int i = 0; i < n; i++)
                        json_array_append_new(items, api_document_json(&cur[i]));
        }
        if (n < 0) {
                json_decref(items);
                api_store_error(c, n, "document");
                return;
        }
        api_json(c, 200, json_pack("{s:o}", "items", items));
}

void api_document_get(struct api_ctx *c)
{
        struct store_document d;
        char *body = NULL;
        int64_t id = api_param_id(c, "id");
        json_t *o;
        int r;

        if (!id)
                return;
        r = store_document_get(c->app->st, id, &d, &body);
        if (r < 0) {
                api_store_error(c, r, "document");
                return;
        }
        o = api_document_json(&d);
        json_object_set_new(o, "body", json_string(body ? body : ""));
        free(body);
        api_json(c, 200, o);
}

void api_document_publish(struct api_ctx *c)
{
        static const char *const allowed[] = { "document", "version", "title", "url", "body",
                                               "requires_consent", NULL };
        struct store_document d;
        const char *kind, *version, *title, *url, *text;
        struct jv v;
        json_t *body;
        int64_t id = 0;
        int r;

        if (api_body_object(c->req, c->res, &body) < 0)
                return;
        memset(&d, 0, sizeof(d));
        jv_init(&v);
        jv_unknown(&v, body, NULL, allowed);
        kind = jv_str(&v, body, NULL, "document", true, 16);
        if (kind && strcmp(kind, "terms") != 0 && strcmp(kind, "privacy") != 0)
                jv_error(&v, NULL, "document", "invalid", "document must be terms or privacy.");
        version = jv_str(&v, body, NULL, "version", true, sizeof(d.version) - 1);
        title = jv_str(&v, body, NULL, "title", true, sizeof(d.title) - 1);
        url = jv_str(&v, body, NULL, "url", false, sizeof(d.url) - 1);
        text = jv_str(&v, body, NULL, "body", false, 512 * 1024);
        d.requires_consent = jv_bool(&v, body, NULL, "requires_consent", false, true);
        if (!url && !text)
                jv_error(&v, NULL, "body", "required", "Give the text (body) or a url.");
        if (!jv_ok(&v)) {
                jv_render(&v, c->res);
                json_decref(body);
                return;
        }
        snprintf(d.kind, sizeof(d.kind), "%s", kind);
        snprintf(d.version, sizeof(d.version), "%s", version);
        snprintf(d.title, sizeof(d.title), "%s", title);
        snprintf(d.url, sizeof(d.url), "%s", url ? url : "");
        r = store_document_publish(c->app->st, &d, text ? text : "", c->member_id, c->now, &id);
        json_decref(body);
        if (r == -EEXIST) {
                problem_respond(c->res, 409, "conflict",
                                "%s version '%s' exists already; versions are never replaced.",
                                d.kind, d.version);
                return;
        }
        if (r == 0)
                r = store_document_get(c->app->st, id, &d, NULL);
        if (r < 0) {
                api_store_error(c, r, "document");
                return;
        }
        api_json(c, 201, api_document_json(&d));
}
