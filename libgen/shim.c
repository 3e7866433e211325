#include <stdlib.h>
#include <string.h>

#include "shim.h"

int gb_call_token(genbench_token_callback cb, void* user, int32_t id, const char* piece, size_t len) {
    return cb(user, id, piece, len);
}

int gb_call_progress(genbench_progress_callback cb, void* user, const char* line) {
    return cb(user, line);
}

int gb_call_generate(genbench_generate_fn fn, void* user, const int32_t* prompt, size_t n_prompt,
                     const genbench_generate_params* params, int32_t* out_ids, size_t* out_n,
                     double* out_ttft_ms, double* out_total_ms, int64_t* out_peak_mem) {
    return fn(user, prompt, n_prompt, params, out_ids, out_n, out_ttft_ms, out_total_ms, out_peak_mem);
}

/* Handles are table identifiers carried in a pointer-typed value. */
void gb_store_handle(genbench_engine** out, uintptr_t id) {
    *out = (genbench_engine*)id;
}

uintptr_t gb_handle_id(const genbench_engine* engine) {
    return (uintptr_t)engine;
}

/* The last error of the calls without a valid handle, one per thread: the
 * exported Go functions run on the thread that called them, so a call made
 * here from within them lands in the caller's slot. */
static __thread char* gb_thread_error;

void gb_set_thread_error(const char* msg, size_t len) {
    char* s = malloc(len + 1);
    if (s == NULL) {
        return;
    }
    memcpy(s, msg, len);
    s[len] = 0;
    free(gb_thread_error);
    gb_thread_error = s;
}

const char* gb_get_thread_error(void) {
    return gb_thread_error != NULL ? gb_thread_error : "";
}

void gb_call_log(genbench_log_callback cb, void* user, const char* line) {
    cb(user, line);
}
