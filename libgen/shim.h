/* Helpers of the libgen.so build: calls through the C function pointers of
 * genbench.h and the conversion of handle identifiers, which Go code cannot
 * express directly. */
#ifndef GENBENCH_SHIM_H
#define GENBENCH_SHIM_H

#define GENBENCH_TYPES_ONLY
#include "genbench.h"

/* What a genbench_generate_fn reported. */
typedef struct gb_gen_out {
    size_t n;
    double ttft_ms;
    double total_ms;
    int64_t peak_mem;
} gb_gen_out;

int gb_call_token(genbench_token_callback cb, void* user, int32_t id, const char* piece, size_t len);
int gb_call_progress(genbench_progress_callback cb, void* user, const char* line);
int gb_call_generate(genbench_generate_fn fn, void* user, const int32_t* prompt, size_t n_prompt,
                     const genbench_generate_params* params, int32_t* out_ids, size_t* out_n,
                     double* out_ttft_ms, double* out_total_ms, int64_t* out_peak_mem);
void gb_store_handle(genbench_engine** out, uintptr_t id);
uintptr_t gb_handle_id(const genbench_engine* engine);
void gb_call_log(genbench_log_callback cb, void* user, const char* line);
void gb_set_thread_error(const char* msg, size_t len);
const char* gb_get_thread_error(void);

#endif
