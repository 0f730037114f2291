/*
 * harness.c - black-box API test helpers (see harness.h): process control
 * for the enemane server and CLI, HTTP over one shared libcurl handle, and
 * JSON path lookups.
 */
#include "harness.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <curl/curl.h>

#define API_START_TIMEOUT_MS    15000   /* ASan builds start slowly */
#define API_STOP_TIMEOUT_MS     15000
#define API_CLI_TIMEOUT_MS      60000
#define API_REQUEST_TIMEOUT_MS  30000L
#define API_POLL_TIMEOUT_MS     2000L   /* one /readyz probe */
#define API_MAX_BODY            (64u * 1024 * 1024)
#define API_MAX_CLI_OUTPUT      (16u * 1024 * 1024)
#define API_LOG_TAIL_BYTES      16384   /* room for a sanitizer report */
#define API_MAX_ARGS            64
#define API_MAX_LIVE            16

/* ---- small utilities ------------------------------------------------ */

static int64_t now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
        struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

/* Copies src into dst (size n), always NUL-terminated, truncating. */
static void copy_trunc(char *dst, size_t n, const char *src, size_t len)
{
        if (n == 0)
                return;
        if (len >= n)
                len = n - 1;
        memcpy(dst, src, len);
        dst[len] = '\0';
}

char *api_printf(const char *fmt, ...)
{
        va_list ap;
        char *s = NULL;
        int n;

        va_start(ap, fmt);
        n = vasprintf(&s, fmt, ap);
        va_end(ap);
        if (n < 0)
                return NULL;
        return s;
}

/* Growable byte buffer for bodies and captured output (the harness is not
 * linked with the core library, so it has its own). */
struct hbuf {
        char *data;
        size_t len;
        size_t cap;
        size_t max;
};

static int hbuf_append(struct hbuf *b, const void *p, size_t n)
{
        size_t ncap;
        char *nd;

        if (n == 0)
                return 0;
        if (n > b->max || b->len > b->max - n)
                return -E2BIG;
        if (!b->data || b->len + n + 1 > b->cap) {
                ncap = b->cap ? b->cap : 4096;
                while (ncap < b->len + n + 1)
                        ncap *= 2;
                nd = realloc(b->data, ncap);
                if (!nd)
                        return -ENOMEM;
                b->data = nd;
                b->cap = ncap;
        }
        memcpy(b->data + b->len, p, n);
        b->len += n;
        b->data[b->len] = '\0';
        return 0;
}

/* Hands out the data, "" when nothing was appended (caller frees). */
static char *hbuf_steal(struct hbuf *b)
{
        char *d = b->data;

        if (!d)
                d = strdup("");
        b->data = NULL;
        b->len = 0;
        b->cap = 0;
        return d;
}

static int status_from_wait(int st)
{
        if (WIFEXITED(st))
                return WEXITSTATUS(st);
        if (WIFSIGNALED(st))
                return 128 + WTERMSIG(st);
        return 255;
}

/* Prints the last API_LOG_TAIL_BYTES of a file to stderr. */
static void print_log_tail(const char *path, const char *why)
{
        char buf[API_LOG_TAIL_BYTES + 1];
        struct stat st;
        ssize_t n;
        off_t off = 0;
        int fd;

        fprintf(stderr, "---- %s: tail of %s ----\n", why, path);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
                fprintf(stderr, "(cannot open: %s)\n", strerror(errno));
                return;
        }
        if (fstat(fd, &st) == 0 && st.st_size > API_LOG_TAIL_BYTES)
                off = st.st_size - API_LOG_TAIL_BYTES;
        n = pread(fd, buf, API_LOG_TAIL_BYTES, off);
        close(fd);
        if (n < 0)
                n = 0;
        buf[n] = '\0';
        fprintf(stderr, "%s%s---- end of log ----\n", buf,
                (n > 0 && buf[n - 1] != '\n') ? "\n" : "");
}

/* Does the file mention a taken address? (the lead's server prints
 * strerror(EADDRINUSE), "Address already in use", when bind fails) */
static int log_says_addr_in_use(const char *path)
{
        char buf[API_LOG_TAIL_BYTES + 1];
        ssize_t n;
        int fd;

        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return 0;
        n = read(fd, buf, API_LOG_TAIL_BYTES);
        close(fd);
        if (n <= 0)
                return 0;
        buf[n] = '\0';
        return strcasestr(buf, "in use") != NULL || strstr(buf, "EADDRINUSE") != NULL;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
        remove(path);
        return 0;
}

static void remove_tree(const char *dir)
{
        if (dir[0] == '\0')
                return;
        nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static int keep_dirs(void)
{
        const char *k = getenv("ENEMANE_KEEP_TEST_DIRS");

        return k && *k;
}

/* Binds 127.0.0.1:0, reads the port the kernel chose, closes. Another
 * process may take it before the server binds; api_server_start retries. */
static int pick_free_port(void)
{
        struct sockaddr_in a;
        socklen_t alen = sizeof(a);
        int fd, port = -1;

        fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        memset(&a, 0, sizeof(a));
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        a.sin_port = 0;
        if (bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
            getsockname(fd, (struct sockaddr *)&a, &alen) == 0)
                port = ntohs(a.sin_port);
        else
                port = -errno;
        close(fd);
        return port;
}

/* ---- live server registry (atexit cleanup) --------------------------- */

/*
 * Copies, not pointers: a test's struct api_server often lives on the stack
 * of a test function that a failed assertion left long ago.
 */
static struct {
        pid_t pid;
        char dir[256];
} live[API_MAX_LIVE];
static int atexit_registered;

static void curl_shared_drop(void);

static void live_cleanup_all(void)
{
        int st;

        for (int i = 0; i < API_MAX_LIVE; i++) {
                if (live[i].pid <= 0)
                        continue;
                kill(live[i].pid, SIGKILL);
                while (waitpid(live[i].pid, &st, 0) < 0 && errno == EINTR)
                        ;
                if (keep_dirs())
                        fprintf(stderr, "harness: kept %s\n", live[i].dir);
                else
                        remove_tree(live[i].dir);
                live[i].pid = 0;
        }
        curl_shared_drop();
}

static void live_add(pid_t pid, const char *dir)
{
        if (!atexit_registered) {
                atexit(live_cleanup_all);
                atexit_registered = 1;
        }
        for (int i = 0; i < API_MAX_LIVE; i++) {
                if (live[i].pid <= 0) {
                        live[i].pid = pid;
                        copy_trunc(live[i].dir, sizeof(live[i].dir), dir, strlen(dir));
                        return;
                }
        }
        /* Full: that server is only covered by PR_SET_PDEATHSIG. */
}

/* Returns how many are still live. */
static int live_remove(pid_t pid)
{
        int n = 0;

        for (int i = 0; i < API_MAX_LIVE; i++) {
                if (live[i].pid == pid)
                        live[i].pid = 0;
                if (live[i].pid > 0)
                        n++;
        }
        return n;
}

/* ---- the shared curl handle ------------------------------------------ */

static CURL *curl_shared;

static CURL *curl_shared_get(void)
{
        static int global_done;

        if (!global_done) {
                if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
                        return NULL;
                global_done = 1;
        }
        if (!curl_shared)
                curl_shared = curl_easy_init();
        return curl_shared;
}

/* Drops the handle and with it the kept-alive connections. */
static void curl_shared_drop(void)
{
        curl_easy_cleanup(curl_shared);
        curl_shared = NULL;
}

/* ---- HTTP ------------------------------------------------------------ */

void api_resp_free(struct api_resp *r)
{
        if (!r)
                return;
        free(r->body);
        json_decref(r->json);
        memset(r, 0, sizeof(*r));
}

static size_t write_cb(char *ptr, size_t size, size_t nmemb, void *userdata)
{
        struct hbuf *b = userdata;
        size_t n = size * nmemb;

        if (hbuf_append(b, ptr, n) < 0)
                return 0;       /* curl fails the transfer: CURLE_WRITE_ERROR */
        return n;
}

/* If line is "Name: value" with the given name, copies the trimmed value. */
static void header_pick(const char *line, size_t len, const char *name,
                        char *dst, size_t dstlen)
{
        size_t nl = strlen(name);
        const char *v, *end;

        if (len <= nl || line[nl] != ':' || strncasecmp(line, name, nl) != 0)
                return;
        v = line + nl + 1;
        end = line + len;
        while (v < end && (*v == ' ' || *v == '\t'))
                v++;
        while (end > v && (end[-1] == '\r' || end[-1] == '\n' ||
                           end[-1] == ' ' || end[-1] == '\t'))
                end--;
        copy_trunc(dst, dstlen, v, (size_t)(end - v));
}

static size_t header_cb(char *line, size_t size, size_t nitems, void *userdata)
{
        struct api_resp *r = userdata;
        size_t len = size * nitems;

        /* A new status line (after a 100 Continue, say) starts over. */
        if (len >= 5 && strncmp(line, "HTTP/", 5) == 0) {
                r->content_type[0] = '\0';
                r->request_id[0] = '\0';
                r->retry_after[0] = '\0';
                r->allow[0] = '\0';
                r->location[0] = '\0';
                r->www_authenticate[0] = '\0';
                r->cache_control[0] = '\0';
                return len;
        }
        header_pick(line, len, "Content-Type", r->content_type, sizeof(r->content_type));
        header_pick(line, len, "X-Request-Id", r->request_id, sizeof(r->request_id));
        header_pick(line, len, "Retry-After", r->retry_after, sizeof(r->retry_after));
        header_pick(line, len, "Allow", r->allow, sizeof(r->allow));
        header_pick(line, len, "Location", r->location, sizeof(r->location));
        header_pick(line, len, "WWW-Authenticate", r->www_authenticate,
                    sizeof(r->www_authenticate));
        header_pick(line, len, "Cache-Control", r->cache_control, sizeof(r->cache_control));
        return len;
}

static int has_header(const char *const *headers, const char *name)
{
        size_t nl = strlen(name);

        for (size_t i = 0; headers && headers[i]; i++) {
                if (strncasecmp(headers[i], name, nl) == 0 &&
                    (headers[i][nl] == ':' || headers[i][nl] == ';'))
                        return 1;
        }
        return 0;
}

/*
 * The one place a request is made. timeout_ms bounds the whole transfer.
 * quiet: do not print transport errors (readiness polling expects them).
 */
static int do_request(const char *base_url, const char *method, const char *path,
                      const char *const *headers, const char *body, size_t body_len,
                      long timeout_ms, int quiet, struct api_resp *out)
{
        struct curl_slist *hl = NULL, *tmp;
        struct hbuf b = { .max = API_MAX_BODY };
        char errbuf[CURL_ERROR_SIZE] = "";
        CURLcode cc;
        char *url;
        CURL *c;
        int r = 0;

        memset(out, 0, sizeof(*out));
        if (!method || !path || path[0] != '/')
                return -EINVAL;
        c = curl_shared_get();
        if (!c)
                return -ENOMEM;
        url = api_printf("%s%s", base_url, path);
        if (!url)
                return -ENOMEM;

        for (size_t i = 0; headers && headers[i]; i++) {
                tmp = curl_slist_append(hl, headers[i]);
                if (!tmp) {
                        r = -ENOMEM;
                        goto out;
                }
                hl = tmp;
        }
        /* "Name:" with no value tells curl not to send its own default. */
        if (!has_header(headers, "Content-Type")) {
                tmp = curl_slist_append(hl, "Content-Type:");
                if (!tmp) {
                        r = -ENOMEM;
                        goto out;
                }
                hl = tmp;
        }
        if (!has_header(headers, "Expect")) {
                tmp = curl_slist_append(hl, "Expect:");
                if (!tmp) {
                        r = -ENOMEM;
                        goto out;
                }
                hl = tmp;
        }

        /* reset keeps the connection cache, so keep-alive survives. */
        curl_easy_reset(c);
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_PROXY, "");         /* ignore http_proxy */
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(c, CURLOPT_PATH_AS_IS, 1L);
        curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
        curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write_cb);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
        curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, header_cb);
        curl_easy_setopt(c, CURLOPT_HEADERDATA, out);
        curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);

        if (strcmp(method, "HEAD") == 0) {
                curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
        } else if (strcmp(method, "GET") == 0 && !body) {
                curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
        } else {
                if (body || strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0 ||
                    strcmp(method, "PATCH") == 0) {
                        /* POSTFIELDS with an explicit size: binary-safe,
                         * and a zero-length body still sends
                         * Content-Length: 0. */
                        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body ? body : "");
                        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
                                         (curl_off_t)(body ? body_len : 0));
                }
                curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
        }

        cc = curl_easy_perform(c);
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
        if (cc != CURLE_OK) {
                if (!quiet)
                        fprintf(stderr, "harness: %s %s: curl: %s\n", method, url,
                                errbuf[0] ? errbuf : curl_easy_strerror(cc));
                r = -EIO;
        }

        out->len = b.len;
        out->body = hbuf_steal(&b);
        if (!out->body) {
                r = -ENOMEM;
                goto out;
        }
        if (out->len > 0)
                out->json = json_loadb(out->body, out->len, JSON_DECODE_ANY, NULL);

out:
        /* The handle must not keep pointers to what is freed here. */
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
        curl_easy_setopt(c, CURLOPT_ERRORBUFFER, NULL);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, NULL);
        curl_slist_free_all(hl);
        free(b.data);
        free(url);
        return r;
}

int api_call_raw(struct api_server *s, const char *method, const char *path,
                 const char *const *headers, const char *body, size_t body_len,
                 struct api_resp *out)
{
        return do_request(s->base_url, method, path, headers, body, body_len,
                          API_REQUEST_TIMEOUT_MS, 0, out);
}

int api_call(struct api_server *s, const char *method, const char *path,
             const char *token, const char *json_body, struct api_resp *out)
{
        const char *headers[3];
        char *auth = NULL;
        int n = 0, r;

        memset(out, 0, sizeof(*out));
        if (token) {
                auth = api_printf("Authorization: Bearer %s", token);
                if (!auth)
                        return -ENOMEM;
                headers[n++] = auth;
        }
        if (json_body)
                headers[n++] = "Content-Type: application/json";
        headers[n] = NULL;

        r = do_request(s->base_url, method, path, headers, json_body,
                       json_body ? strlen(json_body) : 0, API_REQUEST_TIMEOUT_MS, 0, out);
        free(auth);
        return r;
}

/* ---- processes ------------------------------------------------------- */

static const char *enemane_bin(void)
{
        const char *bin = getenv("ENEMANE_BIN");

        if (!bin || !*bin) {
                fprintf(stderr, "harness: ENEMANE_BIN is not set\n");
                return NULL;
        }
        return bin;
}

/* Waits for pid up to timeout_ms. Returns the status from status_from_wait
 * or -ETIMEDOUT (the child still runs). */
static int wait_timeout(pid_t pid, int64_t timeout_ms)
{
        int64_t deadline = now_ms() + timeout_ms;
        pid_t w;
        int st;

        for (;;) {
                w = waitpid(pid, &st, WNOHANG);
                if (w == pid)
                        return status_from_wait(st);
                if (w < 0 && errno != EINTR)
                        return -errno;
                if (now_ms() >= deadline)
                        return -ETIMEDOUT;
                sleep_ms(20);
        }
}

/*
 * fork + exec with stdin from /dev/null and stdout+stderr to out_fd. Only
 * async-signal-safe calls between fork and exec: argv and fds are ready
 * before. The child gets SIGTERM if the test process dies.
 */
static pid_t spawn(const char *bin, char *const argv[], int out_fd)
{
        pid_t parent = getpid();
        pid_t pid;
        int null_fd;

        null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (null_fd < 0)
                return -errno;
        fflush(stdout);
        fflush(stderr);
        pid = fork();
        if (pid < 0) {
                close(null_fd);
                return -errno;
        }
        if (pid == 0) {
                prctl(PR_SET_PDEATHSIG, SIGTERM);
                if (getppid() != parent)
                        _exit(126);
                dup2(null_fd, STDIN_FILENO);
                dup2(out_fd, STDOUT_FILENO);
                dup2(out_fd, STDERR_FILENO);
                /* libcurl's kept-alive sockets are not close-on-exec. */
                close_range(3, ~0U, 0);
                execv(bin, argv);
                _exit(127);
        }
        close(null_fd);
        return pid;
}

/* Starts one server process on s->port and waits for /readyz.
 * Returns 0 ready, -EADDRINUSE (exited, log says so), -1 other failure. */
static int server_launch(struct api_server *s, const char *bin, const char *const *extra_args)
{
        char port_str[16];
        const char *argv[API_MAX_ARGS];
        struct api_resp resp;
        int64_t deadline;
        size_t n = 0;
        pid_t w;
        int fd, st, r;

        snprintf(port_str, sizeof(port_str), "%d", s->port);
        snprintf(s->base_url, sizeof(s->base_url), "http://127.0.0.1:%d", s->port);
        argv[n++] = bin;
        argv[n++] = "serve";
        argv[n++] = "--listen-host";
        argv[n++] = "127.0.0.1";
        argv[n++] = "--listen-port";
        argv[n++] = port_str;
        argv[n++] = "--db-path";
        argv[n++] = s->db_path;
        argv[n++] = "--log-level";
        argv[n++] = "info";
        for (size_t i = 0; extra_args && extra_args[i]; i++) {
                if (n >= API_MAX_ARGS - 1) {
                        fprintf(stderr, "harness: too many extra args\n");
                        return -1;
                }
                argv[n++] = extra_args[i];
        }
        argv[n] = NULL;

        /* Appending: a retry keeps the first attempt's output for reading. */
        fd = open(s->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (fd < 0) {
                fprintf(stderr, "harness: %s: %s\n", s->log_path, strerror(errno));
                return -1;
        }
        s->pid = spawn(bin, (char *const *)argv, fd);
        close(fd);
        if (s->pid < 0) {
                fprintf(stderr, "harness: cannot start %s: %s\n", bin, strerror(-s->pid));
                s->pid = 0;
                return -1;
        }

        deadline = now_ms() + API_START_TIMEOUT_MS;
        for (;;) {
                w = waitpid(s->pid, &st, WNOHANG);
                if (w == s->pid) {
                        s->pid = 0;
                        if (log_says_addr_in_use(s->log_path))
                                return -EADDRINUSE;
                        fprintf(stderr, "harness: %s exited with status %d before it was ready\n",
                                bin, status_from_wait(st));
                        return -1;
                }
                r = do_request(s->base_url, "GET", "/readyz", NULL, NULL, 0,
                               API_POLL_TIMEOUT_MS, 1, &resp);
                if (r == 0 && resp.status == 200) {
                        api_resp_free(&resp);
                        return 0;
                }
                api_resp_free(&resp);
                if (now_ms() >= deadline)
                        break;
                sleep_ms(50);
        }

        fprintf(stderr, "harness: %s not ready on %s/readyz within %d ms\n",
                bin, s->base_url, API_START_TIMEOUT_MS);
        kill(s->pid, SIGKILL);
        while (waitpid(s->pid, &st, 0) < 0 && errno == EINTR)
                ;
        s->pid = 0;
        return -1;
}

/* Starts on the existing s->dir (db and log there): fresh port, one retry. */
static int server_start_in_dir(struct api_server *s, const char *const *extra_args)
{
        const char *bin = enemane_bin();
        int r = -1;

        if (!bin)
                return -1;
        if (access(bin, X_OK) < 0) {
                fprintf(stderr, "harness: ENEMANE_BIN=%s: %s\n", bin, strerror(errno));
                return -1;
        }
        for (int attempt = 0; attempt < 2; attempt++) {
                s->port = pick_free_port();
                if (s->port < 0) {
                        fprintf(stderr, "harness: no free port: %s\n", strerror(-s->port));
                        return -1;
                }
                r = server_launch(s, bin, extra_args);
                if (r != -EADDRINUSE)
                        break;
                fprintf(stderr, "harness: port %d was taken, retrying\n", s->port);
        }
        if (r < 0) {
                print_log_tail(s->log_path, "enemane failed to start");
                return -1;
        }
        live_add(s->pid, s->dir);
        return 0;
}

int api_server_start(struct api_server *s, const char *const *extra_args)
{
        memset(s, 0, sizeof(*s));
        snprintf(s->dir, sizeof(s->dir), "/tmp/enemane-test-XXXXXX");
        if (!mkdtemp(s->dir)) {
                fprintf(stderr, "harness: mkdtemp: %s\n", strerror(errno));
                s->dir[0] = '\0';
                return -1;
        }
        snprintf(s->db_path, sizeof(s->db_path), "%s/enemane.db", s->dir);
        snprintf(s->log_path, sizeof(s->log_path), "%s/server.log", s->dir);

        if (server_start_in_dir(s, extra_args) < 0) {
                if (keep_dirs())
                        fprintf(stderr, "harness: kept %s\n", s->dir);
                else
                        remove_tree(s->dir);
                return -1;
        }
        return 0;
}

/* SIGTERM, wait, SIGKILL. Returns the status (see harness.h). */
static int server_terminate(struct api_server *s)
{
        int status, st;

        if (s->pid <= 0)
                return -ESRCH;
        kill(s->pid, SIGTERM);
        status = wait_timeout(s->pid, API_STOP_TIMEOUT_MS);
        if (status == -ETIMEDOUT) {
                fprintf(stderr, "harness: enemane (pid %d) ignored SIGTERM for %d ms, killing\n",
                        (int)s->pid, API_STOP_TIMEOUT_MS);
                kill(s->pid, SIGKILL);
                while (waitpid(s->pid, &st, 0) < 0 && errno == EINTR)
                        ;
                status = 128 + SIGKILL;
        }
        if (status != 0)
                print_log_tail(s->log_path, "enemane exited non-zero");
        if (live_remove(s->pid) == 0)
                curl_shared_drop();
        s->pid = 0;
        return status;
}

int api_server_stop(struct api_server *s)
{
        int status = server_terminate(s);

        if (status == -ESRCH)
                return status;
        if (keep_dirs())
                fprintf(stderr, "harness: kept %s\n", s->dir);
        else
                remove_tree(s->dir);
        return status;
}

int api_server_restart(struct api_server *s, const char *const *extra_args, int *old_status)
{
        int status = server_terminate(s);

        if (old_status)
                *old_status = status;
        if (status == -ESRCH)
                return status;
        if (server_start_in_dir(s, extra_args) < 0) {
                if (!keep_dirs())
                        remove_tree(s->dir);
                return -1;
        }
        return 0;
}

int api_cli(const char *const *args, char **out_stdout)
{
        const char *argv[API_MAX_ARGS];
        const char *bin = enemane_bin();
        struct hbuf b = { .max = API_MAX_CLI_OUTPUT };
        char chunk[4096];
        struct pollfd pfd;
        int64_t deadline;
        int pipefd[2];
        size_t n = 0;
        ssize_t got;
        pid_t pid;
        int status, st, timed_out = 0;

        if (out_stdout)
                *out_stdout = NULL;
        if (!bin)
                return -EINVAL;
        argv[n++] = bin;
        for (size_t i = 0; args && args[i]; i++) {
                if (n >= API_MAX_ARGS - 1)
                        return -E2BIG;
                argv[n++] = args[i];
        }
        argv[n] = NULL;

        if (pipe2(pipefd, O_CLOEXEC) < 0)
                return -errno;
        pid = spawn(bin, (char *const *)argv, pipefd[1]);
        close(pipefd[1]);
        if (pid < 0) {
                close(pipefd[0]);
                return pid;
        }

        /* Read until EOF (every writer gone) or the deadline. Output past
         * the cap is drained and dropped so the child never blocks. */
        deadline = now_ms() + API_CLI_TIMEOUT_MS;
        pfd.fd = pipefd[0];
        pfd.events = POLLIN;
        for (;;) {
                int64_t left = deadline - now_ms();
                int pr;

                if (left <= 0) {
                        timed_out = 1;
                        break;
                }
                pr = poll(&pfd, 1, (int)(left > 1000 ? 1000 : left));
                if (pr < 0 && errno == EINTR)
                        continue;
                if (pr < 0)
                        break;
                if (pr == 0)
                        continue;
                got = read(pipefd[0], chunk, sizeof(chunk));
                if (got < 0 && errno == EINTR)
                        continue;
                if (got <= 0)
                        break;
                (void)hbuf_append(&b, chunk, (size_t)got);
        }
        close(pipefd[0]);

        if (timed_out) {
                fprintf(stderr, "harness: %s %s: no exit within %d ms, killing\n",
                        bin, args && args[0] ? args[0] : "", API_CLI_TIMEOUT_MS);
                kill(pid, SIGKILL);
        }
        while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
                ;
        status = timed_out ? -ETIMEDOUT : status_from_wait(st);

        if (out_stdout) {
                *out_stdout = hbuf_steal(&b);
                if (!*out_stdout)
                        return -ENOMEM;
        } else {
                free(b.data);
        }
        return status;
}

/* ---- JSON ------------------------------------------------------------ */

json_t *api_json_get(json_t *j, const char *dotted_path)
{
        const char *p = dotted_path, *dot;
        char seg[256];
        size_t len;

        if (!dotted_path)
                return NULL;
        while (j && *p) {
                dot = strchr(p, '.');
                len = dot ? (size_t)(dot - p) : strlen(p);
                if (len >= sizeof(seg))
                        return NULL;
                memcpy(seg, p, len);
                seg[len] = '\0';

                if (json_is_array(j)) {
                        char *end;
                        unsigned long idx;

                        if (len == 0 || !isdigit((unsigned char)seg[0]))
                                return NULL;
                        errno = 0;
                        idx = strtoul(seg, &end, 10);
                        if (*end != '\0' || errno != 0)
                                return NULL;
                        j = json_array_get(j, idx);
                } else if (json_is_object(j)) {
                        j = json_object_get(j, seg);
                } else {
                        return NULL;
                }
                p += len;
                if (*p == '.')
                        p++;
        }
        return j;
}

const char *api_json_str(json_t *j, const char *dotted_path)
{
        return json_string_value(api_json_get(j, dotted_path));
}

json_int_t api_json_int(json_t *j, const char *dotted_path, json_int_t dflt)
{
        json_t *v = api_json_get(j, dotted_path);

        if (!json_is_integer(v))
                return dflt;
        return json_integer_value(v);
}
