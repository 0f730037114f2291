/*
 * client.c - thread-safe test HTTP client and PRNG (see client.h).
 */
#include "client.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static size_t client_write(char *p, size_t size, size_t nmemb, void *ud)
{
        struct client *c = ud;
        size_t n = size * nmemb;

        if (c->len + n + 1 > c->cap) {
                size_t ncap = c->cap ? c->cap : 16384;
                char *nb;

                while (ncap < c->len + n + 1)
                        ncap *= 2;
                nb = realloc(c->buf, ncap);
                if (!nb)
                        return 0;
                c->buf = nb;
                c->cap = ncap;
        }
        memcpy(c->buf + c->len, p, n);
        c->len += n;
        c->buf[c->len] = '\0';
        return n;
}

int client_init(struct client *c, const char *base, const char *token, long timeout_ms,
                bool verbose)
{
        char auth[256];

        memset(c, 0, sizeof(*c));
        snprintf(c->base, sizeof(c->base), "%s", base);
        snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
        c->timeout_ms = timeout_ms;
        c->verbose = verbose;
        c->curl = curl_easy_init();
        c->headers = curl_slist_append(NULL, auth);
        c->headers = curl_slist_append(c->headers, "Content-Type: application/json");
        c->headers = curl_slist_append(c->headers, "Expect:");
        return c->curl && c->headers ? 0 : -ENOMEM;
}

void client_free(struct client *c)
{
        curl_easy_cleanup(c->curl);
        curl_slist_free_all(c->headers);
        free(c->buf);
        memset(c, 0, sizeof(*c));
}

long client_call(struct client *c, const char *method, const char *path, const char *body,
                 json_t **out)
{
        char url[512];
        long status = 0;
        CURLcode cc;

        snprintf(url, sizeof(url), "%s%s", c->base, path);
        c->len = 0;
        if (c->buf)
                c->buf[0] = '\0';
        if (out)
                *out = NULL;
        curl_easy_reset(c->curl);
        curl_easy_setopt(c->curl, CURLOPT_URL, url);
        curl_easy_setopt(c->curl, CURLOPT_PROXY, "");
        curl_easy_setopt(c->curl, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(c->curl, CURLOPT_TIMEOUT_MS, c->timeout_ms);
        curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, c->headers);
        curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, client_write);
        curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, c);
        if (body) {
                curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, body);
                curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
        }
        curl_easy_setopt(c->curl, CURLOPT_CUSTOMREQUEST, method);
        cc = curl_easy_perform(c->curl);
        if (cc != CURLE_OK) {
                if (c->verbose)
                        fprintf(stderr, "client: %s %s: %s\n", method, path,
                                curl_easy_strerror(cc));
                return -1;
        }
        curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &status);
        if (out)
                *out = json_loads(c->buf ? c->buf : "", 0, NULL);
        return status;
}

uint64_t rnd_next(uint64_t *s)
{
        uint64_t z;

        *s += 0x9e3779b97f4a7c15ULL;
        z = *s;
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
}

int64_t rnd_range(uint64_t *s, int64_t lo, int64_t hi)
{
        return lo + (int64_t)(rnd_next(s) % (uint64_t)(hi - lo + 1));
}
