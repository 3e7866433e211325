/*
 * test_genbench.c - exercises the C interface of libgen.so end to end on the
 * embedded tiny model: versions, tokenizer round trip, streaming generation,
 * a benchmark run, an external-engine benchmark, and the bad-input cases.
 *
 *   cc -std=c11 -Wall -Wextra -Werror -o capi_test test_genbench.c -ldl
 *   ./capi_test path/to/libgen.so
 *
 * The library is loaded with dlopen, so the program also checks that every
 * function of genbench.h is exported. The last line is "N passed, N failed";
 * the exit status is non-zero when a check failed.
 */
#define _POSIX_C_SOURCE 200809L
#include "genbench.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ---- The library's functions, resolved with dlsym ------------------------ */

#define GB_FUNCS(X)                 \
    X(genbench_abi_version)         \
    X(genbench_version)             \
    X(genbench_status_string)       \
    X(genbench_last_error)          \
    X(genbench_free)                \
    X(genbench_open)                \
    X(genbench_close)               \
    X(genbench_engine_info)         \
    X(genbench_tokenize)            \
    X(genbench_detokenize)          \
    X(genbench_generate_params_init) \
    X(genbench_generate)            \
    X(genbench_generate_text)       \
    X(genbench_flag_specs)          \
    X(genbench_bench)               \
    X(genbench_bench_external)      \
    X(genbench_prompt_ids)          \
    X(genbench_validate_report)     \
    X(genbench_render_summary)      \
    X(genbench_write_hf)            \
    X(genbench_set_log_callback)

#define GB_DECLARE(name) static __typeof__(name)* p_##name;
GB_FUNCS(GB_DECLARE)

/* ---- Checks -------------------------------------------------------------- */

static int passed, failed;

#define CHECK(cond, ...)                                          \
    do {                                                          \
        if (cond) {                                               \
            passed++;                                             \
        } else {                                                  \
            failed++;                                             \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);  \
            fprintf(stderr, __VA_ARGS__);                         \
            fprintf(stderr, "\n");                                \
        }                                                         \
    } while (0)

/* The last error of engine (or the global one) in a static buffer. */
static const char* last_error(const genbench_engine* engine) {
    static char buf[2048];
    p_genbench_last_error(engine, buf, sizeof buf);
    return buf;
}

/* Checks that a call returned want and that the error message mentions
 * every one of the NULL-terminated words. */
static void check_error(int got, int want, const genbench_engine* engine, const char* what, ...);

#include <stdarg.h>
static void check_error(int got, int want, const genbench_engine* engine, const char* what, ...) {
    CHECK(got == want, "%s: status %d (%s), want %d (%s); message: %s", what, got,
          p_genbench_status_string(got), want, p_genbench_status_string(want), last_error(engine));
    if (got != want) {
        return;
    }
    const char* msg = last_error(engine);
    va_list ap;
    va_start(ap, what);
    for (const char* word = va_arg(ap, const char*); word != NULL; word = va_arg(ap, const char*)) {
        CHECK(strstr(msg, word) != NULL, "%s: message %s does not mention \"%s\"", what, msg, word);
    }
    va_end(ap);
}

/* ---- Callbacks ----------------------------------------------------------- */

/* Collects a streamed generation. */
typedef struct stream {
    int32_t ids[512];
    size_t n;
    char text[8192];
    size_t text_len;
    int stop_after;          /* stop once n reaches it (0 = never) */
    genbench_engine* engine; /* when set, call tokenize from the callback */
    int nested_status;
    int nested_close_status;
} stream;

static int on_token(void* user, int32_t id, const char* piece, size_t len) {
    stream* s = user;
    if (id >= 0 && s->n < sizeof s->ids / sizeof s->ids[0]) {
        s->ids[s->n++] = id;
    }
    if (len != strlen(piece)) {
        s->text_len = (size_t)-1; /* flags a length mismatch */
        return 1;
    }
    if (s->text_len + len < sizeof s->text) {
        memcpy(s->text + s->text_len, piece, len);
        s->text_len += len;
        s->text[s->text_len] = 0;
    }
    if (s->engine != NULL) {
        size_t n = 0;
        s->nested_status = p_genbench_tokenize(s->engine, "x", 0, NULL, 0, &n);
        s->nested_close_status = p_genbench_close(s->engine);
        s->engine = NULL;
    }
    return s->stop_after > 0 && (int)s->n >= s->stop_after;
}

static int progress_lines;

static int on_progress(void* user, const char* line) {
    (void)user;
    (void)line;
    progress_lines++;
    return 0;
}

static int on_progress_cancel(void* user, const char* line) {
    (void)user;
    (void)line;
    return 1;
}

/* A stand-in for another engine: records the prompts it is given and
 * generates prompt[i % n_prompt] for token i. */
typedef struct external {
    int calls;
    int32_t first_prompt[64];
    size_t first_n;
    int wrong_stop;
} external;

static int external_generate(void* user, const int32_t* prompt, size_t n_prompt,
                             const genbench_generate_params* params, int32_t* out_ids,
                             size_t* out_n, double* out_ttft_ms, double* out_total_ms,
                             int64_t* out_peak_mem) {
    external* x = user;
    if (x->calls == 0) {
        x->first_n = n_prompt < 64 ? n_prompt : 64;
        memcpy(x->first_prompt, prompt, x->first_n * sizeof(int32_t));
    }
    if (params->stop_at_eos != 0) {
        x->wrong_stop = 1;
    }
    x->calls++;
    for (int32_t i = 0; i < params->max_new_tokens; i++) {
        out_ids[i] = prompt[(size_t)i % n_prompt];
    }
    *out_n = (size_t)params->max_new_tokens;
    *out_ttft_ms = 2.0;
    *out_total_ms = 2.0 + (double)params->max_new_tokens;
    *out_peak_mem = 1000 + x->calls;
    return 0;
}

static int failing_generate(void* user, const int32_t* prompt, size_t n_prompt,
                            const genbench_generate_params* params, int32_t* out_ids,
                            size_t* out_n, double* out_ttft_ms, double* out_total_ms,
                            int64_t* out_peak_mem) {
    (void)user, (void)prompt, (void)n_prompt, (void)params, (void)out_ids;
    (void)out_n, (void)out_ttft_ms, (void)out_total_ms, (void)out_peak_mem;
    return 7;
}

/* ---- Tests --------------------------------------------------------------- */

static void test_versions(void) {
    CHECK(p_genbench_abi_version() == GENBENCH_ABI_VERSION, "abi version %d, header %d",
          p_genbench_abi_version(), GENBENCH_ABI_VERSION);
    const char* v = p_genbench_version();
    CHECK(v != NULL && strlen(v) >= 5 && strchr(v, '.') != NULL, "version %s", v ? v : "(null)");
    CHECK(strcmp(p_genbench_status_string(GENBENCH_OK), "ok") == 0, "status string of OK");
    CHECK(strcmp(p_genbench_status_string(GENBENCH_ERR_INVALID_HANDLE), "invalid handle") == 0,
          "status string of INVALID_HANDLE");
    CHECK(strcmp(p_genbench_status_string(999), "unknown status") == 0, "status string of 999");
    CHECK(strcmp(p_genbench_status_string(-1), "unknown status") == 0, "status string of -1");
}

static void test_tokenizer(genbench_engine* e) {
    const char* text = "The lighthouse keeper wrote: caf\xc3\xa9, 42 ships!";
    size_t n = 0;
    int rc = p_genbench_tokenize(e, text, 1, NULL, 0, &n);
    CHECK(rc == GENBENCH_ERR_BUFFER_TOO_SMALL && n > 2, "size query: rc %d n %zu", rc, n);
    int32_t ids[256];
    size_t n2 = 0;
    rc = p_genbench_tokenize(e, text, 1, ids, n - 1, &n2);
    CHECK(rc == GENBENCH_ERR_BUFFER_TOO_SMALL && n2 == n, "one too small: rc %d n %zu", rc, n2);
    rc = p_genbench_tokenize(e, text, 1, ids, sizeof ids / sizeof ids[0], &n2);
    CHECK(rc == GENBENCH_OK && n2 == n, "tokenize: rc %d n %zu (%s)", rc, n2, last_error(e));
    /* The tiny tokenizer's BOS is 508 (model.TinyLlama). */
    CHECK(n2 > 0 && ids[0] == 508, "first id %d, want BOS 508", n2 > 0 ? ids[0] : -1);
    size_t n3 = 0;
    int32_t plain[256];
    rc = p_genbench_tokenize(e, text, 0, plain, 256, &n3);
    CHECK(rc == GENBENCH_OK && n3 == n2 - 1 && memcmp(plain, ids + 1, n3 * sizeof(int32_t)) == 0,
          "without special tokens: rc %d n %zu", rc, n3);

    size_t len = 0;
    rc = p_genbench_detokenize(e, ids, n2, 1, NULL, 0, &len);
    CHECK(rc == GENBENCH_ERR_BUFFER_TOO_SMALL && len == strlen(text), "detokenize size query: rc %d len %zu", rc, len);
    char buf[512];
    rc = p_genbench_detokenize(e, ids, n2, 1, buf, len, &len);
    CHECK(rc == GENBENCH_ERR_BUFFER_TOO_SMALL, "no room for the NUL: rc %d", rc);
    rc = p_genbench_detokenize(e, ids, n2, 1, buf, sizeof buf, &len);
    CHECK(rc == GENBENCH_OK && strcmp(buf, text) == 0, "round trip: rc %d got \"%s\"", rc, buf);
    rc = p_genbench_detokenize(e, ids, n2, 0, buf, sizeof buf, &len);
    CHECK(rc == GENBENCH_OK && len > strlen(text) && strcmp(buf + len - strlen(text), text) == 0,
          "with special tokens: rc %d got \"%s\"", rc, buf);
    rc = p_genbench_detokenize(e, NULL, 0, 1, buf, sizeof buf, &len);
    CHECK(rc == GENBENCH_OK && len == 0 && buf[0] == 0, "empty: rc %d len %zu", rc, len);

    int32_t bad[2] = {5, 512};
    check_error(p_genbench_detokenize(e, bad, 2, 1, buf, sizeof buf, &len), GENBENCH_ERR_INVALID_ARGUMENT, e,
                "detokenize id 512", "512", "[0, 512)", NULL);
    bad[1] = -3;
    check_error(p_genbench_detokenize(e, bad, 2, 1, buf, sizeof buf, &len), GENBENCH_ERR_INVALID_ARGUMENT, e,
                "detokenize id -3", "-3", NULL);
    check_error(p_genbench_tokenize(e, NULL, 1, ids, 256, &n), GENBENCH_ERR_INVALID_ARGUMENT, e,
                "tokenize NULL text", "text is NULL", NULL);
    check_error(p_genbench_tokenize(e, text, 1, ids, 256, NULL), GENBENCH_ERR_INVALID_ARGUMENT, e,
                "tokenize NULL out_n", "out_n is NULL", NULL);
    check_error(p_genbench_tokenize(e, text, 1, NULL, 10, &n), GENBENCH_ERR_INVALID_ARGUMENT, e,
                "tokenize NULL out_ids", "out_ids is NULL", NULL);
    check_error(p_genbench_detokenize(e, ids, n2, 1, buf, sizeof buf, NULL), GENBENCH_ERR_INVALID_ARGUMENT, e,
                "detokenize NULL out_len", "out_len is NULL", NULL);
}

static void test_generate(genbench_engine* e) {
    genbench_generate_params params;
    p_genbench_generate_params_init(&params);
    CHECK(params.max_new_tokens == 128 && params.temperature == 0.0f && params.top_k == 50 &&
              params.seed == 42 && params.stop_at_eos == 1 && params.add_special == 1,
          "defaults: max %d temp %g top_k %d seed %llu", params.max_new_tokens, (double)params.temperature,
          params.top_k, (unsigned long long)params.seed);
    params.max_new_tokens = 24;
    params.stop_at_eos = 0;

    int32_t prompt[64];
    size_t np = 0;
    int rc = p_genbench_tokenize(e, "Between the entries are short notes about storms", 1, prompt, 64, &np);
    CHECK(rc == GENBENCH_OK && np > 3, "prompt: rc %d", rc);

    stream s;
    memset(&s, 0, sizeof s);
    int32_t out[64];
    size_t n = 0;
    genbench_timings t;
    memset(&t, 0, sizeof t);
    rc = p_genbench_generate(e, prompt, np, &params, on_token, &s, out, 64, &n, &t);
    CHECK(rc == GENBENCH_OK, "generate: rc %d (%s)", rc, last_error(e));
    CHECK(n == 24, "generated %zu tokens, want exactly 24 (stop_at_eos 0)", n);
    CHECK(s.n == n && memcmp(s.ids, out, n * sizeof(int32_t)) == 0, "streamed %zu ids, returned %zu", s.n, n);
    char text[8192];
    size_t len = 0;
    rc = p_genbench_detokenize(e, out, n, 1, text, sizeof text, &len);
    CHECK(rc == GENBENCH_OK && s.text_len == len && strcmp(s.text, text) == 0,
          "streamed pieces \"%s\" != detokenized \"%s\"", s.text, text);
    CHECK(t.n_prompt == (int32_t)np && t.n_generated == 24 && t.stop_reason == GENBENCH_STOP_MAX_TOKENS,
          "timings: n_prompt %d n_generated %d stop %d", t.n_prompt, t.n_generated, t.stop_reason);
    CHECK(t.ttft_ms > 0 && t.total_ms >= t.ttft_ms && t.e2e_tok_s > 0 && t.decode_tok_s > 0 && t.prefill_tok_s > 0,
          "timings: ttft %g total %g", t.ttft_ms, t.total_ms);
    CHECK(t.e2e_tok_s > 0.99 * 24 / (t.total_ms / 1000) && t.e2e_tok_s < 1.01 * 24 / (t.total_ms / 1000),
          "e2e %g is not 24 / total", t.e2e_tok_s);

    /* Greedy decoding is deterministic, and the text entry point encodes
     * the same way as genbench_tokenize. */
    int32_t out2[64];
    size_t n2 = 0;
    rc = p_genbench_generate_text(e, "Between the entries are short notes about storms", &params, NULL, NULL, out2, 64, &n2, NULL);
    CHECK(rc == GENBENCH_OK && n2 == n && memcmp(out, out2, n * sizeof(int32_t)) == 0,
          "generate_text differs from generate: rc %d n %zu", rc, n2);

    /* Seeded sampling repeats with the same seed. */
    params.temperature = 0.8f;
    params.top_k = 50;
    params.top_p = 0.9f;
    params.repetition_penalty = 1.1f;
    params.seed = 7;
    int32_t a[64], b[64];
    size_t na = 0, nb = 0;
    int rca = p_genbench_generate(e, prompt, np, &params, NULL, NULL, a, 64, &na, NULL);
    int rcb = p_genbench_generate(e, prompt, np, &params, NULL, NULL, b, 64, &nb, NULL);
    CHECK(rca == GENBENCH_OK && rcb == GENBENCH_OK && na == 24 && nb == 24 && memcmp(a, b, sizeof(int32_t) * 24) == 0,
          "sampling with the same seed differs");

    /* A non-zero callback return stops generation after that token. */
    memset(&s, 0, sizeof s);
    s.stop_after = 3;
    rc = p_genbench_generate(e, prompt, np, &params, on_token, &s, out, 64, &n, &t);
    CHECK(rc == GENBENCH_OK && n == 3 && s.n == 3 && t.stop_reason == GENBENCH_STOP_CALLBACK,
          "stop from callback: rc %d n %zu stop %d", rc, n, t.stop_reason);

    /* A call on the handle from inside its own callback is refused. */
    memset(&s, 0, sizeof s);
    s.engine = e;
    s.stop_after = 1;
    rc = p_genbench_generate(e, prompt, np, &params, on_token, &s, out, 64, &n, NULL);
    CHECK(rc == GENBENCH_OK && s.nested_status == GENBENCH_ERR_BUSY && s.nested_close_status == GENBENCH_ERR_BUSY,
          "nested call: rc %d nested %d close %d", rc, s.nested_status, s.nested_close_status);
    CHECK(strstr(last_error(e), "one call at a time") != NULL, "busy message on the handle: %s", last_error(e));

    /* Bad generation input. */
    params.max_new_tokens = 0;
    check_error(p_genbench_generate(e, prompt, np, &params, NULL, NULL, out, 64, &n, NULL), GENBENCH_ERR_INVALID_ARGUMENT, e,
                "max_new_tokens 0", "max_new_tokens", NULL);
    params.max_new_tokens = 100;
    check_error(p_genbench_generate(e, prompt, np, &params, NULL, NULL, out, 64, &n, NULL), GENBENCH_ERR_BUFFER_TOO_SMALL, e,
                "capacity < max_new_tokens", "capacity", NULL);
    params.max_new_tokens = 4;
    params.top_p = 1.5f;
    check_error(p_genbench_generate(e, prompt, np, &params, NULL, NULL, out, 64, &n, NULL), GENBENCH_ERR_INVALID_ARGUMENT, e,
                "top_p 1.5", "top_p", NULL);
    params.top_p = 0.9f;
    int32_t bad_prompt[2] = {1, 9999};
    check_error(p_genbench_generate(e, bad_prompt, 2, &params, NULL, NULL, out, 64, &n, NULL), GENBENCH_ERR_INVALID_ARGUMENT, e,
                "prompt id 9999", "9999", NULL);
    check_error(p_genbench_generate(e, NULL, 0, &params, NULL, NULL, out, 64, &n, NULL), GENBENCH_ERR_INVALID_ARGUMENT, e,
                "empty prompt", "empty", NULL);
    check_error(p_genbench_generate(e, NULL, 3, &params, NULL, NULL, out, 64, &n, NULL), GENBENCH_ERR_INVALID_ARGUMENT, e,
                "NULL prompt", "prompt is NULL", NULL);
    check_error(p_genbench_generate_text(e, NULL, &params, NULL, NULL, out, 64, &n, NULL), GENBENCH_ERR_INVALID_ARGUMENT, e,
                "NULL text prompt", "prompt is NULL", NULL);
    params.add_special = 0;
    check_error(p_genbench_generate_text(e, "", &params, NULL, NULL, out, 64, &n, NULL), GENBENCH_ERR_INVALID_ARGUMENT, e,
                "empty text prompt", "no tokens", NULL);
    /* With the defaults (params NULL) and no output buffer. */
    rc = p_genbench_generate_text(e, "Read together", NULL, NULL, NULL, NULL, 0, &n, NULL);
    CHECK(rc == GENBENCH_OK && n >= 1 && n <= 128, "defaults: rc %d n %zu (%s)", rc, n, last_error(e));
}

/* Returns 1 when json contains needle. */
static int has(const char* json, const char* needle) {
    return json != NULL && strstr(json, needle) != NULL;
}

/* Counts occurrences of needle in s. */
static int count(const char* s, const char* needle) {
    int k = 0;
    for (const char* p = s; p != NULL && (p = strstr(p, needle)) != NULL; p += strlen(needle)) {
        k++;
    }
    return k;
}

/* Counts event and live progress lines; checks each live line's form. */
typedef struct live_count {
    int events, live, live_with_tokens, malformed;
} live_count;

static int on_progress_live(void* user, const char* line) {
    live_count* c = user;
    const size_t np = strlen(GENBENCH_PROGRESS_LIVE_PREFIX);
    if (strncmp(line, GENBENCH_PROGRESS_LIVE_PREFIX, np) != 0) {
        c->events++;
        if (strncmp(line, "  trial 1/2: ", 13) == 0) {
            /* Hold the run between its two trials for three live-line
             * intervals (750 ms): the live line's ticks fall in the pause
             * whatever the machine's speed, and show the trial that ended,
             * 1500/1500 tok (delivered when this call returns). */
            struct timespec pause = {0, 750 * 1000 * 1000};
            while (nanosleep(&pause, &pause) != 0 && errno == EINTR) {
            }
        }
        return 0;
    }
    c->live++;
    /* "live: [1/1] custom · trial 1/2 · 412/1500 tok · 0.3 s · ETA ..." */
    const char* tok = strstr(line, "/1500 tok · ");
    const char* digits = tok;
    while (digits != NULL && digits > line && digits[-1] >= '0' && digits[-1] <= '9') {
        digits--;
    }
    if (strncmp(line + np, "[1/1] ", 6) != 0 || strstr(line, " · trial ") == NULL || tok == NULL || digits == tok ||
        strstr(line, " · ETA ") == NULL || strchr(line, '\n') != NULL || strchr(line, '\r') != NULL) {
        c->malformed++;
        fprintf(stderr, "malformed live line: %s\n", line);
        return 0;
    }
    if (atoi(digits) > 0) {
        c->live_with_tokens++;
    }
    return 0;
}

/* Live lines come every 250 ms while a config runs, with the tokens done
 * (the callback pauses between the two runs so that some come however fast
 * the runs are); none with "progress": "never", which keeps the event
 * lines. */
static void test_live_lines(genbench_engine* e) {
    live_count c = {0};
    char* report = NULL;
    int rc = p_genbench_bench(e, "{\"prompt_tokens\": 16, \"max_new_tokens\": 1500, \"warmup\": 0, \"trials\": 2, \"no_save\": true}",
                              on_progress_live, &c, &report, NULL, NULL);
    CHECK(rc == GENBENCH_OK, "live run: rc %d (%s)", rc, last_error(e));
    CHECK(c.live > 0 && c.live_with_tokens > 0 && c.malformed == 0 && c.events >= 3,
          "live lines %d (%d with tokens, %d malformed), event lines %d", c.live, c.live_with_tokens, c.malformed, c.events);
    p_genbench_free(report);
    live_count never = {0};
    report = NULL;
    rc = p_genbench_bench(e, "{\"prompt_tokens\": 16, \"max_new_tokens\": 1500, \"warmup\": 0, \"trials\": 2, \"no_save\": true, \"progress\": \"never\"}",
                          on_progress_live, &never, &report, NULL, NULL);
    CHECK(rc == GENBENCH_OK && never.live == 0 && never.events >= 3, "progress never: rc %d, live lines %d, event lines %d", rc,
          never.live, never.events);
    p_genbench_free(report);
}

static void test_bench(genbench_engine* e) {
    char* report = NULL;
    char* summary = NULL;
    char* path = NULL;
    progress_lines = 0;
    int rc = p_genbench_bench(NULL,
                              "{\"suite\": \"quick\", \"device\": \"cpu\", \"warmup\": 1, \"trials\": 1, \"no_save\": true}",
                              on_progress, NULL, &report, &summary, &path);
    CHECK(rc == GENBENCH_OK, "bench: rc %d (%s)", rc, last_error(NULL));
    CHECK(report != NULL && summary != NULL && path != NULL, "bench outputs missing");
    if (report != NULL && summary != NULL && path != NULL) {
        CHECK(p_genbench_validate_report(report) == GENBENCH_OK, "report does not validate: %s", last_error(NULL));
        CHECK(has(report, "\"schema_version\": 1") && has(report, "\"complete\": true") &&
                  has(report, "\"suite\": \"quick\"") && has(report, "\"driver\": \"genbench\"") &&
                  has(report, "\"engine\": \"genbench\"") && has(report, "\"stop_mode\": \"no-stop\""),
              "report header fields missing");
        CHECK(has(report, "\"key\": \"short\"") && has(report, "\"key\": \"medium\"") &&
                  !has(report, "\"key\": \"prefill\""),
              "report configs are not short and medium");
        CHECK(count(report, "\"e2e_tok_s\"") == 2 && count(report, "\"ttft_ms\"") == 2 &&
                  count(report, "\"prefill_tok_s\"") == 2 && count(report, "\"decode_tok_s\"") == 2 &&
                  count(report, "\"peak_mem_bytes\"") == 2,
              "report figures missing");
        CHECK(has(report, "\"id\": \"tiny-llama\"") && has(report, "\"prompt_source\": \"builtin-text\""),
              "report model/prompt source");
        CHECK(has(summary, "short") && has(summary, "medium") && has(summary, "tiny-llama"), "summary: %s", summary);
        CHECK(path[0] == 0, "no_save wrote %s", path);
        /* 2 configs x (start, warm-up, trial, done) plus loading lines. */
        CHECK(progress_lines >= 8, "progress lines %d", progress_lines);
        char* again = NULL;
        rc = p_genbench_render_summary(report, &again);
        CHECK(rc == GENBENCH_OK && again != NULL && strcmp(again, summary) == 0, "render_summary differs");
        p_genbench_free(again);
    }
    p_genbench_free(report);
    p_genbench_free(summary);
    p_genbench_free(path);

    /* On an open handle, saving the report into a directory. */
    char dir[] = "/tmp/genbench_capi_XXXXXX";
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    char cfg[512];
    snprintf(cfg, sizeof cfg,
             "{\"configs\": [\"short\"], \"warmup\": 0, \"trials\": 2, \"output_dir\": \"%s\", \"seed\": 5}", dir);
    rc = p_genbench_bench(e, cfg, NULL, NULL, &report, NULL, &path);
    CHECK(rc == GENBENCH_OK && report != NULL && path != NULL, "bench on a handle: rc %d (%s)", rc, last_error(e));
    if (rc == GENBENCH_OK && report != NULL && path != NULL) {
        CHECK(strncmp(path, dir, strlen(dir)) == 0 && strstr(path, ".json") != NULL, "saved to %s", path);
        FILE* f = fopen(path, "r");
        CHECK(f != NULL, "report file %s missing", path);
        if (f != NULL) {
            char head[64] = {0};
            CHECK(fread(head, 1, sizeof head - 1, f) > 0 && head[0] == '{', "report file is not JSON");
            fclose(f);
            unlink(path);
        }
        CHECK(has(report, "\"suite\": \"custom\"") && has(report, "\"identical_tokens\": true") &&
                  has(report, "\"seed\": 5"),
              "custom run report");
    }
    p_genbench_free(report);
    p_genbench_free(path);
    rmdir(dir);

    /* The benchmark's prompt is genbench_prompt_ids', for another engine too. */
    int32_t ids[64];
    size_t n = 0;
    rc = p_genbench_prompt_ids(e, 64, 42, ids, 64, &n);
    CHECK(rc == GENBENCH_OK && n == 64 && ids[0] == 508, "prompt ids: rc %d n %zu first %d", rc, n, ids[0]);
    int32_t body[64];
    size_t nb = 0;
    rc = p_genbench_tokenize(e, "The lighthouse keeper kept a ledger", 0, body, 64, &nb);
    CHECK(rc == GENBENCH_OK && nb > 3 && memcmp(ids + 1, body, (nb - 1) * sizeof(int32_t)) == 0,
          "prompt ids do not start with BOS + the built-in text");
    check_error(p_genbench_prompt_ids(e, 64, 42, ids, 10, &n), GENBENCH_ERR_BUFFER_TOO_SMALL, e,
                "prompt ids capacity", "64", NULL);

    external x;
    memset(&x, 0, sizeof x);
    rc = p_genbench_bench_external(e, "{\"configs\": [\"short\"], \"warmup\": 1, \"trials\": 2, \"engine\": \"hf\", \"no_save\": true}",
                                   "{\"engine_version\": \"transformers 9.9\", \"python_version\": \"3.x\", "
                                   "\"device\": {\"kind\": \"cuda\", \"index\": 0, \"name\": \"Test GPU\", \"memory_bytes\": 1024}}",
                                   external_generate, &x, NULL, NULL, &report, &summary, NULL);
    CHECK(rc == GENBENCH_OK && report != NULL, "bench_external: rc %d (%s)", rc, last_error(e));
    CHECK(x.calls == 3 && x.wrong_stop == 0, "external engine called %d times (want 1 warm-up + 2 trials)", x.calls);
    CHECK(x.first_n == 64 && memcmp(x.first_prompt, ids, 64 * sizeof(int32_t)) == 0,
          "the external engine's prompt differs from genbench_prompt_ids");
    if (report != NULL) {
        CHECK(p_genbench_validate_report(report) == GENBENCH_OK, "external report does not validate: %s", last_error(NULL));
        CHECK(has(report, "\"engine\": \"hf\"") && has(report, "\"engine_version\": \"transformers 9.9\"") &&
                  has(report, "\"name\": \"Test GPU\"") && has(report, "\"python_version\": \"3.x\""),
              "external report fields");
        /* ttft 2 ms for every trial; 64 tokens in 66 ms. */
        CHECK(has(report, "\"median\": 2,"), "external ttft median");
        CHECK(has(report, "\"median\": 1002.5,"), "external peak memory");
        CHECK(has(summary, "Test GPU") || has(summary, "hf"), "external summary: %s", summary);
    }
    p_genbench_free(report);
    p_genbench_free(summary);
    rc = p_genbench_bench_external(e, "{\"configs\": [\"short\"], \"warmup\": 0, \"trials\": 1, \"engine\": \"hf\", \"no_save\": true}",
                                   NULL, failing_generate, NULL, NULL, NULL, &report, NULL, NULL);
    CHECK(rc == GENBENCH_ERR_FAILED && has(last_error(e), "returned 7"), "failing external engine: rc %d (%s)", rc, last_error(e));
    CHECK(report != NULL && has(report, "\"complete\": false"), "partial report of a failed run");
    p_genbench_free(report);
    check_error(p_genbench_bench_external(e, "{\"engine\": \"genbench\"}", NULL, external_generate, &x, NULL, NULL, &report, NULL, NULL),
                GENBENCH_ERR_INVALID_ARGUMENT, e, "external with engine genbench", "genbench_bench", NULL);
    check_error(p_genbench_bench_external(e, "{\"engine\": \"hf\"}", NULL, NULL, NULL, NULL, NULL, &report, NULL, NULL),
                GENBENCH_ERR_INVALID_ARGUMENT, e, "external without generate", "generate is NULL", NULL);
    check_error(p_genbench_bench_external(e, "{\"engine\": \"hf\"}", "{\"gpu\": 1}", external_generate, &x, NULL, NULL, &report, NULL, NULL),
                GENBENCH_ERR_BAD_JSON, e, "external bad overrides", "gpu", NULL);

    /* Bad benchmark input. */
    check_error(p_genbench_bench(NULL, "{\"suite\": \"quick\",", NULL, NULL, &report, NULL, NULL), GENBENCH_ERR_BAD_JSON, NULL,
                "truncated config", "config_json", NULL);
    CHECK(report == NULL, "report set on failure");
    check_error(p_genbench_bench(NULL, "{\"suite\": \"quick\", \"bogus\": 1}", NULL, NULL, &report, NULL, NULL), GENBENCH_ERR_BAD_JSON,
                NULL, "unknown config key", "bogus", NULL);
    check_error(p_genbench_bench(NULL, "{\"trials\": \"three\"}", NULL, NULL, &report, NULL, NULL), GENBENCH_ERR_BAD_JSON, NULL,
                "wrong type", "\"trials\"", "got a JSON string, expected integer", NULL);
    check_error(p_genbench_bench(NULL, "[1, 2]", NULL, NULL, &report, NULL, NULL), GENBENCH_ERR_BAD_JSON, NULL,
                "not an object", "not a JSON object", NULL);
    check_error(p_genbench_bench(NULL, "{\"seed\": 1} {}", NULL, NULL, &report, NULL, NULL), GENBENCH_ERR_BAD_JSON, NULL,
                "trailing data", "after the JSON object", NULL);
    check_error(p_genbench_bench(NULL, "{\"suite\": \"huge\"}", NULL, NULL, &report, NULL, NULL), GENBENCH_ERR_INVALID_ARGUMENT,
                NULL, "unknown suite", "huge", "quick", NULL);
    check_error(p_genbench_bench(NULL, "{\"trials\": 0, \"device\": \"tpu\"}", NULL, NULL, &report, NULL, NULL),
                GENBENCH_ERR_INVALID_ARGUMENT, NULL, "two bad values", "--trials", "tpu", NULL);
    check_error(p_genbench_bench(NULL, "{\"engine\": \"hf\"}", NULL, NULL, &report, NULL, NULL), GENBENCH_ERR_INVALID_ARGUMENT, NULL,
                "engine hf", "genbench_bench_external", NULL);
    check_error(p_genbench_bench(NULL, NULL, NULL, NULL, &report, NULL, NULL), GENBENCH_ERR_INVALID_ARGUMENT, NULL,
                "NULL config", "config_json is NULL", NULL);
    check_error(p_genbench_bench(NULL, "{}", NULL, NULL, NULL, NULL, NULL), GENBENCH_ERR_INVALID_ARGUMENT, NULL,
                "NULL out_report_json", "out_report_json", NULL);
    check_error(p_genbench_bench(NULL, "{\"model\": \"no-such-org/no-such-model\", \"no_save\": true}", NULL, NULL, &report, NULL, NULL),
                GENBENCH_ERR_LOAD, NULL, "bench unknown model", "no-such-org/no-such-model", NULL);
    check_error(p_genbench_bench(NULL, "{\"configs\": [\"short\"], \"warmup\": 0, \"trials\": 1, \"no_save\": true}",
                                 on_progress_cancel, NULL, &report, NULL, NULL),
                GENBENCH_ERR_CANCELLED, NULL, "cancelled run", "cancel", NULL);
    p_genbench_free(report);
    check_error(p_genbench_validate_report("{\"schema_version\": 1}"), GENBENCH_ERR_BAD_JSON, NULL, "invalid report", "report", NULL);
    char* out = NULL;
    check_error(p_genbench_render_summary("[1,2", &out), GENBENCH_ERR_BAD_JSON, NULL, "render bad JSON", "report", NULL);
    CHECK(out == NULL, "render_summary output set on failure");

    char* flags = NULL;
    rc = p_genbench_flag_specs(&flags);
    CHECK(rc == GENBENCH_OK && has(flags, "\"name\":\"suite\"") && has(flags, "\"name\":\"no-save\"") &&
              has(flags, "\"name\":\"prompt-tokens\",\"field\":\"prompt_tokens\",\"type\":\"int\",\"default\":256"),
          "flag specs: %s", flags ? flags : "(null)");
    p_genbench_free(flags);
    check_error(p_genbench_flag_specs(NULL), GENBENCH_ERR_INVALID_ARGUMENT, NULL, "flag specs NULL", "NULL", NULL);
}

static void test_write_hf(void) {
    char dir[] = "/tmp/genbench_hf_XXXXXX";
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    char sub[256];
    snprintf(sub, sizeof sub, "%s/tiny", dir);
    int rc = p_genbench_write_hf("tiny-qwen3", 0, sub);
    CHECK(rc == GENBENCH_OK, "write_hf: rc %d (%s)", rc, last_error(NULL));
    const char* files[] = {"config.json", "generation_config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char p[512];
        snprintf(p, sizeof p, "%s/%s", sub, files[i]);
        struct stat st;
        CHECK(stat(p, &st) == 0 && st.st_size > 0, "write_hf: %s missing", files[i]);
        unlink(p);
    }
    rmdir(sub);
    rmdir(dir);
    check_error(p_genbench_write_hf("gpt-17", 0, "/tmp/x"), GENBENCH_ERR_INVALID_ARGUMENT, NULL, "write_hf unknown model",
                "gpt-17", "tiny-llama", NULL);
    check_error(p_genbench_write_hf("tiny-llama", 0, NULL), GENBENCH_ERR_INVALID_ARGUMENT, NULL, "write_hf NULL dir", "dir", NULL);

    /* The written checkpoint loads as a model directory, with the same
     * weights as the built-in spec. */
    char dir2[] = "/tmp/genbench_hf_XXXXXX";
    CHECK(mkdtemp(dir2) != NULL, "mkdtemp");
    rc = p_genbench_write_hf("tiny-llama", 0, dir2);
    CHECK(rc == GENBENCH_OK, "write_hf tiny-llama: rc %d", rc);
    genbench_engine* a = NULL;
    genbench_engine* b = NULL;
    rc = p_genbench_open(dir2, "cpu", NULL, NULL, &a);
    CHECK(rc == GENBENCH_OK, "open written checkpoint: rc %d (%s)", rc, last_error(NULL));
    rc = p_genbench_open("tiny-llama", "cpu", NULL, "{\"weight_seed\": 0}", &b);
    CHECK(rc == GENBENCH_OK, "open tiny-llama: rc %d (%s)", rc, last_error(NULL));
    if (a != NULL && b != NULL) {
        genbench_generate_params params;
        p_genbench_generate_params_init(&params);
        params.max_new_tokens = 12;
        params.stop_at_eos = 0;
        int32_t prompt[4] = {508, 40, 41, 42};
        int32_t oa[12], ob[12];
        size_t na = 0, nb = 0;
        int ra = p_genbench_generate(a, prompt, 4, &params, NULL, NULL, oa, 12, &na, NULL);
        int rb = p_genbench_generate(b, prompt, 4, &params, NULL, NULL, ob, 12, &nb, NULL);
        CHECK(ra == GENBENCH_OK && rb == GENBENCH_OK && na == 12 && nb == 12 && memcmp(oa, ob, sizeof oa) == 0,
              "written checkpoint generates differently from the built-in model");
    }
    p_genbench_close(a);
    p_genbench_close(b);
    const char* files2[] = {"config.json", "generation_config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"};
    for (size_t i = 0; i < sizeof files2 / sizeof files2[0]; i++) {
        char p[512];
        snprintf(p, sizeof p, "%s/%s", dir2, files2[i]);
        unlink(p);
    }
    rmdir(dir2);
}

static void test_bad_handles(void) {
    genbench_engine* e = (genbench_engine*)&passed; /* overwritten below */
    size_t n = 0;
    int32_t ids[8];
    check_error(p_genbench_tokenize(NULL, "x", 1, ids, 8, &n), GENBENCH_ERR_INVALID_HANDLE, NULL, "NULL handle", "NULL", NULL);
    check_error(p_genbench_generate(NULL, ids, 1, NULL, NULL, NULL, NULL, 0, NULL, NULL), GENBENCH_ERR_INVALID_HANDLE, NULL,
                "generate NULL handle", "NULL", NULL);
    char* out = (char*)"sentinel";
    check_error(p_genbench_engine_info(NULL, &out), GENBENCH_ERR_INVALID_HANDLE, NULL, "info NULL handle", "NULL", NULL);
    CHECK(out == NULL, "engine_info output not cleared on failure");
    genbench_engine* bogus = (genbench_engine*)(uintptr_t)0x7fff1234;
    check_error(p_genbench_tokenize(bogus, "x", 1, ids, 8, &n), GENBENCH_ERR_INVALID_HANDLE, NULL, "unknown handle", "unknown", NULL);
    CHECK(p_genbench_close(NULL) == GENBENCH_OK, "close(NULL)");

    check_error(p_genbench_open(NULL, "cpu", NULL, NULL, NULL), GENBENCH_ERR_INVALID_ARGUMENT, NULL, "open NULL out", "out_engine", NULL);
    check_error(p_genbench_open(NULL, "tpu", NULL, NULL, &e), GENBENCH_ERR_INVALID_ARGUMENT, NULL, "unknown device", "tpu", "cuda:N", NULL);
    CHECK(e == NULL, "out_engine not cleared on failure");
    check_error(p_genbench_open(NULL, "cpu", "float16", NULL, &e), GENBENCH_ERR_INVALID_ARGUMENT, NULL, "unknown dtype", "float16", "bfloat16", NULL);
    check_error(p_genbench_open(NULL, "cpu", NULL, "{\"random_weights\": tru", &e), GENBENCH_ERR_BAD_JSON, NULL, "bad options JSON", "options_json", NULL);
    check_error(p_genbench_open(NULL, "cpu", NULL, "{\"layers\": 3}", &e), GENBENCH_ERR_BAD_JSON, NULL, "unknown option", "layers", NULL);
    check_error(p_genbench_open(NULL, "cpu", NULL, "{\"threads\": -2}", &e), GENBENCH_ERR_INVALID_ARGUMENT, NULL, "negative threads", "threads", NULL);
    check_error(p_genbench_open("no-such-org/no-such-model", "cpu", NULL, NULL, &e), GENBENCH_ERR_LOAD, NULL, "unknown model",
                "no-such-org/no-such-model", NULL);
    check_error(p_genbench_open("/nonexistent/genbench/model", "cpu", NULL, NULL, &e), GENBENCH_ERR_LOAD, NULL, "missing directory",
                "/nonexistent/genbench/model", NULL);

    /* The global message is cut and NUL-terminated like snprintf. */
    size_t full = p_genbench_last_error(NULL, NULL, 0);
    char small[8];
    size_t got = p_genbench_last_error(NULL, small, sizeof small);
    CHECK(full > 8 && got == full && strlen(small) == 7, "last_error truncation: full %zu got %zu", full, got);
    char big[4096];
    memset(big, 'x', sizeof big);
    got = p_genbench_last_error(NULL, big, (size_t)-1); /* a size larger than the buffer is never used beyond the message */
    CHECK(got == full && strlen(big) == full, "last_error with a huge size: %zu", got);
    int32_t one = 1;
    check_error(p_genbench_detokenize(NULL, &one, 1, 1, big, sizeof big, &n), GENBENCH_ERR_INVALID_HANDLE, NULL,
                "detokenize NULL handle", "NULL", NULL);

    /* A closed handle stays invalid. */
    int rc = p_genbench_open("tiny-gemma3", "cpu", NULL, "{\"threads\": 1}", &e);
    CHECK(rc == GENBENCH_OK && e != NULL, "open tiny-gemma3: rc %d (%s)", rc, last_error(NULL));
    char* info = NULL;
    rc = p_genbench_engine_info(e, &info);
    CHECK(rc == GENBENCH_OK && has(info, "\"arch\":\"gemma3\"") && has(info, "\"vocab_size\":512") && has(info, "\"threads\":1"),
          "tiny-gemma3 info: %s", info ? info : "(null)");
    p_genbench_free(info);
    check_error(p_genbench_engine_info(e, NULL), GENBENCH_ERR_INVALID_ARGUMENT, e, "info NULL out", "out_json", NULL);
    CHECK(p_genbench_close(e) == GENBENCH_OK, "close");
    check_error(p_genbench_close(e), GENBENCH_ERR_INVALID_HANDLE, NULL, "double close", "closed", NULL);
    check_error(p_genbench_tokenize(e, "x", 1, ids, 8, &n), GENBENCH_ERR_INVALID_HANDLE, NULL, "closed handle", "closed", NULL);
    check_error(p_genbench_generate(e, ids, 1, NULL, NULL, NULL, NULL, 0, NULL, NULL), GENBENCH_ERR_INVALID_HANDLE, NULL,
                "generate on closed handle", "closed", NULL);
    check_error(p_genbench_bench(e, "{}", NULL, NULL, &out, NULL, NULL), GENBENCH_ERR_INVALID_HANDLE, NULL,
                "bench on closed handle", "closed", NULL);
}

/* ---- What genbench.h promises an embedder -------------------------------- */

/* Stops at the first progress line that starts with stop_prefix; counts the
 * calls made after that. */
typedef struct stopper {
    const char* stop_prefix;
    int stopped;
    int calls_after_stop;
} stopper;

static int on_progress_stop(void* user, const char* line) {
    stopper* s = user;
    if (s->stopped) {
        s->calls_after_stop++;
        return 1;
    }
    if (strncmp(line, s->stop_prefix, strlen(s->stop_prefix)) == 0) {
        s->stopped = 1;
        return 1;
    }
    return 0;
}

typedef struct flush_count {
    int tokens, flushes, stop_after;
} flush_count;

static int on_token_count(void* user, int32_t id, const char* piece, size_t len) {
    (void)piece;
    (void)len;
    flush_count* f = user;
    if (id < 0) {
        f->flushes++;
        return 0;
    }
    f->tokens++;
    return f->stop_after > 0 && f->tokens >= f->stop_after;
}

static int log_lines;
static void on_log(void* user, const char* line) {
    (void)user;
    (void)line;
    log_lines++;
}

/* Two threads fail genbench_open with different devices; each reads its
 * own message although the other failed in between. */
typedef struct err_thread {
    const char* device;
    pthread_barrier_t* failed_a;
    pthread_barrier_t* failed_b;
    int first;
    char msg[512];
} err_thread;

static void* thread_error(void* arg) {
    err_thread* t = arg;
    genbench_engine* e = NULL;
    if (!t->first) {
        pthread_barrier_wait(t->failed_a);
    }
    p_genbench_open(NULL, t->device, NULL, NULL, &e);
    if (t->first) {
        pthread_barrier_wait(t->failed_a);
        pthread_barrier_wait(t->failed_b); /* the other thread has failed too */
    } else {
        pthread_barrier_wait(t->failed_b);
    }
    p_genbench_last_error(NULL, t->msg, sizeof t->msg);
    return NULL;
}

/* A JSON integer field of doc ("key": N), or -999 when absent. */
static long json_int(const char* doc, const char* key) {
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\":", key);
    const char* p = doc != NULL ? strstr(doc, pat) : NULL;
    return p != NULL ? strtol(p + strlen(pat), NULL, 10) : -999;
}

static void test_header_promises(void) {
    /* The global (handle-less) last error is per thread. */
    pthread_barrier_t a, b;
    pthread_barrier_init(&a, NULL, 2);
    pthread_barrier_init(&b, NULL, 2);
    err_thread t1 = {.device = "tpu-one", .failed_a = &a, .failed_b = &b, .first = 1};
    err_thread t2 = {.device = "tpu-two", .failed_a = &a, .failed_b = &b, .first = 0};
    pthread_t h1, h2;
    pthread_create(&h1, NULL, thread_error, &t1);
    pthread_create(&h2, NULL, thread_error, &t2);
    pthread_join(h1, NULL);
    pthread_join(h2, NULL);
    CHECK(strstr(t1.msg, "tpu-one") != NULL && strstr(t2.msg, "tpu-two") != NULL,
          "per-thread errors: %s | %s", t1.msg, t2.msg);

    /* Device status rule: malformed -> INVALID_ARGUMENT, unusable -> LOAD. */
    genbench_engine* e = NULL;
    check_error(p_genbench_open(NULL, "cuda:x", NULL, NULL, &e), GENBENCH_ERR_INVALID_ARGUMENT, NULL, "cuda:x", "cuda:x", NULL);
    check_error(p_genbench_open(NULL, "cuda:99", NULL, NULL, &e), GENBENCH_ERR_LOAD, NULL, "cuda:99", NULL);
    check_error(p_genbench_open(NULL, "cpu", NULL, "{\"threads\": 100000000}", &e), GENBENCH_ERR_INVALID_ARGUMENT, NULL,
                "threads cap", "100000000 is too many", NULL);

    /* Environment variables are read at every load. */
    char c1[] = "/tmp/genbench_env1_XXXXXX", c2[] = "/tmp/genbench_env2_XXXXXX";
    CHECK(mkdtemp(c1) != NULL && mkdtemp(c2) != NULL, "mkdtemp");
    setenv("HF_HUB_CACHE", c1, 1);
    check_error(p_genbench_open("acme/env-model", "cpu", NULL, NULL, &e), GENBENCH_ERR_LOAD, NULL, "env 1", c1, NULL);
    setenv("HF_HUB_CACHE", c2, 1);
    check_error(p_genbench_open("acme/env-model", "cpu", NULL, NULL, &e), GENBENCH_ERR_LOAD, NULL, "env 2", c2, NULL);
    unsetenv("HF_HUB_CACHE");
    rmdir(c1);
    rmdir(c2);

    /* The library never writes to stdout or stderr (log and progress go to
     * the callbacks); the log callback gets the loading lines. */
    fflush(stdout);
    fflush(stderr);
    char quiet[] = "/tmp/genbench_quiet_XXXXXX";
    int qfd = mkstemp(quiet);
    int out1 = dup(1), out2 = dup(2);
    dup2(qfd, 1);
    dup2(qfd, 2);
    log_lines = 0;
    p_genbench_set_log_callback(on_log, NULL);
    int rc = p_genbench_open("tiny-qwen3", "cpu", NULL, "{\"threads\": 1}", &e);
    int logged = log_lines;
    p_genbench_set_log_callback(NULL, NULL);
    genbench_engine* e2 = NULL;
    int rc2 = p_genbench_open("tiny-qwen3", "cpu", NULL, "{\"threads\": 1}", &e2);
    int logged_after = log_lines;
    char* report = NULL;
    char* summary = NULL;
    stopper st = {.stop_prefix = "  trial 1/1"};
    int brc = GENBENCH_ERR_INTERNAL;
    if (rc == GENBENCH_OK) {
        /* Stop asked for at the last trial line: CANCELLED, never called again. */
        brc = p_genbench_bench(e, "{\"configs\": [\"short\"], \"warmup\": 0, \"trials\": 1, \"no_save\": true}",
                               on_progress_stop, &st, &report, &summary, NULL);
    }
    fflush(stdout);
    fflush(stderr);
    dup2(out1, 1);
    dup2(out2, 2);
    close(out1);
    close(out2);
    struct stat sb;
    CHECK(fstat(qfd, &sb) == 0 && sb.st_size == 0, "the library wrote %lld bytes to stdout/stderr", (long long)sb.st_size);
    close(qfd);
    unlink(quiet);
    CHECK(rc == GENBENCH_OK && rc2 == GENBENCH_OK, "open tiny-qwen3: %d %d", rc, rc2);
    CHECK(logged > 0 && logged_after == logged, "log lines %d, %d after removing the callback", logged, logged_after);
    p_genbench_close(e2);
    CHECK(brc == GENBENCH_ERR_CANCELLED && st.stopped && st.calls_after_stop == 0,
          "stop at the last trial: rc %d (%s), stopped %d, %d calls after", brc, last_error(e), st.stopped, st.calls_after_stop);
    CHECK(report != NULL && has(report, "\"complete\": true"), "report of a run stopped after its last trial");
    /* Output JSON formats: reports indented with a final newline; info compact. */
    CHECK(report != NULL && report[strlen(report) - 1] == '\n' && has(report, "\n  \"schema_version\": 1,\n"),
          "report formatting");
    p_genbench_free(report);
    p_genbench_free(summary);
    if (rc != GENBENCH_OK) {
        return;
    }

    /* Engine info: context length, special ids, vocabulary vs tokenizer. */
    char* info = NULL;
    rc = p_genbench_engine_info(e, &info);
    long ctx = json_int(info, "context_length");
    CHECK(rc == GENBENCH_OK && info != NULL && strchr(info, '\n') == NULL, "info is one compact line");
    CHECK(ctx > 8 && json_int(info, "max_new_tokens") == 1048576 && json_int(info, "vocab_size") == 512 &&
              json_int(info, "tokenizer_size") > 0 && json_int(info, "pad_token_id") != -999 &&
              json_int(info, "bos_token_id") != -999 && has(info, "\"eos_token_ids\":[") &&
              json_int(info, "tokenizer_bos") != -999 && has(info, "\"tokenizer_eos\":["),
          "info tokens: %s", info ? info : "(null)");
    p_genbench_free(info);

    /* The limits generate checks, as documented. */
    genbench_generate_params params;
    p_genbench_generate_params_init(&params);
    int32_t one = 1;
    params.max_new_tokens = 0;
    check_error(p_genbench_generate(e, &one, 1, &params, NULL, NULL, NULL, 0, NULL, NULL), GENBENCH_ERR_INVALID_ARGUMENT, e,
                "max_new_tokens 0", "max_new_tokens", NULL);
    params.max_new_tokens = 1048577;
    check_error(p_genbench_generate(e, &one, 1, &params, NULL, NULL, NULL, 0, NULL, NULL), GENBENCH_ERR_INVALID_ARGUMENT, e,
                "max_new_tokens over the cap", "1048576", NULL);
    params.max_new_tokens = 4;
    check_error(p_genbench_generate(e, &one, 0, &params, NULL, NULL, NULL, 0, NULL, NULL), GENBENCH_ERR_INVALID_ARGUMENT, e,
                "n_prompt 0", "empty", NULL);
    if (ctx > 8 && ctx < 100000) {
        int32_t* prompt = calloc((size_t)ctx, sizeof *prompt);
        for (long i = 0; i < ctx; i++) {
            prompt[i] = (int32_t)(1 + i % 500);
        }
        params.stop_at_eos = 0;
        params.max_new_tokens = 4;
        size_t n = 0;
        rc = p_genbench_generate(e, prompt, (size_t)ctx - 4, &params, NULL, NULL, NULL, 0, &n, NULL);
        CHECK(rc == GENBENCH_OK && n == 4, "prompt + new = context_length: rc %d (%s)", rc, last_error(e));
        params.max_new_tokens = 5;
        check_error(p_genbench_generate(e, prompt, (size_t)ctx - 4, &params, NULL, NULL, NULL, 0, NULL, NULL),
                    GENBENCH_ERR_INVALID_ARGUMENT, e, "prompt + new > context_length", "exceeds", NULL);
        free(prompt);
    }

    /* The -1 flush call never follows a callback-requested stop. */
    p_genbench_generate_params_init(&params);
    params.max_new_tokens = 8;
    params.stop_at_eos = 0;
    flush_count fc = {.stop_after = 1};
    rc = p_genbench_generate_text(e, "hello", &params, on_token_count, &fc, NULL, 0, NULL, NULL);
    CHECK(rc == GENBENCH_OK && fc.tokens == 1 && fc.flushes == 0, "stop after 1: rc %d, %d tokens, %d flushes", rc, fc.tokens, fc.flushes);

    /* Invalid UTF-8 in: encoded as bytes. Out: U+FFFD, also for a cut character. */
    int32_t ids[16];
    size_t n = 0;
    rc = p_genbench_tokenize(e, "a\xff" "b", 0, ids, 16, &n);
    char text[64];
    size_t len = 0;
    CHECK(rc == GENBENCH_OK && n >= 3, "tokenize invalid UTF-8: rc %d n %zu", rc, n);
    rc = p_genbench_detokenize(e, ids, n, 1, text, sizeof text, &len);
    CHECK(rc == GENBENCH_OK && strcmp(text, "a\xef\xbf\xbd" "b") == 0, "detokenize invalid UTF-8: %s", text);
    rc = p_genbench_tokenize(e, "\xe2\x82\xac", 0, ids, 16, &n); /* the euro sign */
    CHECK(rc == GENBENCH_OK && n >= 1, "tokenize euro");
    if (rc == GENBENCH_OK && n > 1) {
        rc = p_genbench_detokenize(e, ids, 1, 1, text, sizeof text, &len);
        CHECK(rc == GENBENCH_OK && strcmp(text, "\xef\xbf\xbd") == 0, "a cut character: %s", text);
    }

    /* One validation for all front ends; the output directory is checked first. */
    char* out = NULL;
    check_error(p_genbench_bench(NULL, "{\"suite\": \"quick\", \"prompt_tokens\": 8}", NULL, NULL, &out, NULL, NULL),
                GENBENCH_ERR_INVALID_ARGUMENT, NULL, "suite + prompt_tokens", "cannot be combined with --suite", NULL);
    check_error(p_genbench_bench(NULL, "{\"no_save\": true, \"output_dir\": \"x\"}", NULL, NULL, &out, NULL, NULL),
                GENBENCH_ERR_INVALID_ARGUMENT, NULL, "no_save + output_dir", "no-save", NULL);
    check_error(p_genbench_bench(e, "{\"configs\": [\"short\"], \"output_dir\": \"/proc/genbench-no\"}", NULL, NULL, &out, NULL, NULL),
                GENBENCH_ERR_FAILED, e, "unwritable output_dir", "output directory /proc/genbench-no", NULL);
    CHECK(out == NULL, "no report for a run that did not start");
    p_genbench_close(e);
}

int main(int argc, char** argv) {
    const char* lib = argc > 1 ? argv[1] : getenv("GENBENCH_LIB");
    if (lib == NULL) {
        fprintf(stderr, "usage: %s path/to/libgen.so (or set GENBENCH_LIB)\n", argv[0]);
        return 2;
    }
    /* No network: an unknown model id must fail from the local cache. */
    setenv("HF_HUB_OFFLINE", "1", 1);
    void* so = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
    if (so == NULL) {
        fprintf(stderr, "dlopen %s: %s\n0 passed, 1 failed\n", lib, dlerror());
        return 1;
    }
#define GB_LOAD(name)                                                     \
    *(void**)(&p_##name) = dlsym(so, #name);                              \
    if (p_##name == NULL) {                                               \
        fprintf(stderr, "%s does not export %s\n0 passed, 1 failed\n", lib, #name); \
        return 1;                                                         \
    }
    GB_FUNCS(GB_LOAD)

    test_versions();
    test_bad_handles();
    test_header_promises();

    genbench_engine* e = NULL;
    int rc = p_genbench_open("", "cpu", "bfloat16", "{}", &e);
    CHECK(rc == GENBENCH_OK && e != NULL, "open default model: rc %d (%s)", rc, last_error(NULL));
    if (e != NULL) {
        char* info = NULL;
        rc = p_genbench_engine_info(e, &info);
        CHECK(rc == GENBENCH_OK && has(info, "\"id\":\"tiny-llama\"") && has(info, "\"vocab_size\":512") &&
                  has(info, "\"synthetic\":true") && has(info, "\"kind\":\"cpu\""),
              "default model info: %s", info ? info : "(null)");
        p_genbench_free(info);
        test_tokenizer(e);
        test_generate(e);
        test_bench(e);
        test_live_lines(e);
        CHECK(p_genbench_close(e) == GENBENCH_OK, "close default model");
    }
    test_write_hf();

    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
