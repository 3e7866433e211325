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
