/*
 * example.c - the smallest program linked against libgen.so: loads the
 * embedded tiny model and streams a generation to stdout.
 *
 * From any directory inside the checkout (after make libgen):
 *   R=$(git rev-parse --show-toplevel)
 *   cc -std=c11 -I "$R/capi" -o example "$R/capi/example.c" -L "$R/build" -l:libgen.so -Wl,-rpath,"$R/build"
 *   ./example "Once upon a time"
 */
#include "genbench.h"

#include <stdio.h>

static int print_piece(void* user, int32_t id, const char* piece, size_t len) {
    (void)user;
    (void)id;
    fwrite(piece, 1, len, stdout);
    return 0;
}

int main(int argc, char** argv) {
    const char* prompt = argc > 1 ? argv[1] : "The lighthouse keeper";
    if (genbench_abi_version() != GENBENCH_ABI_VERSION) {
        fprintf(stderr, "example: libgen.so implements interface %d, this program needs %d\n",
                genbench_abi_version(), GENBENCH_ABI_VERSION);
        return 1;
    }
    genbench_engine* eng = NULL;
    if (genbench_open(NULL, "cpu", NULL, NULL, &eng) != GENBENCH_OK) {
        char msg[1024];
        genbench_last_error(NULL, msg, sizeof msg);
        fprintf(stderr, "example: %s\n", msg);
        return 1;
    }
    genbench_generate_params params;
    genbench_generate_params_init(&params);
    params.max_new_tokens = 24;
    params.stop_at_eos = 0;
    genbench_timings t;
    int rc = genbench_generate_text(eng, prompt, &params, print_piece, NULL, NULL, 0, NULL, &t);
    if (rc != GENBENCH_OK) {
        char msg[1024];
        genbench_last_error(eng, msg, sizeof msg);
        fprintf(stderr, "example: %s (%s)\n", msg, genbench_status_string(rc));
        genbench_close(eng);
        return 1;
    }
    printf("\n[%d prompt tokens, %d generated, %.1f tok/s]\n", t.n_prompt, t.n_generated, t.e2e_tok_s);
    return genbench_close(eng) == GENBENCH_OK ? 0 : 1;
}
