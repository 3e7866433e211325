/*
 * genbench.h - the C interface of libgen.so, the genbench LLM generation
 * engine and benchmark runner.
 *
 * libgen.so embeds the same engine as the genbench command: it loads a model
 * (a built-in spec with synthetic weights, a local Hugging Face checkpoint
 * directory, or a Hugging Face id resolved through the local cache or a
 * download) onto a device (CPU, or a CUDA GPU when the backend is built in),
 * tokenizes, generates with streaming, and runs the benchmark of BENCH.md,
 * returning the same JSON report and summary table as the genbench command.
 *
 * The header has two parts: the engine (Part 1: versions, errors, engines,
 * tokenizer, generation) and the benchmark harness built on it (Part 2:
 * flag table, benchmark runs, prompts, reports); the conventions below hold
 * for both.
 *
 * Conventions
 * -----------
 * Status.   Every function that can fail returns an int status code: one of
 *           enum genbench_status, GENBENCH_OK (0) on success. A failure also
 *           records a one-line message naming what was wrong and what was
 *           expected; read it with genbench_last_error.
 *
 * Errors.   Failures of a call on a valid engine handle (GENBENCH_ERR_BUSY
 *           included) are recorded on that handle (protected by a lock,
 *           readable from any thread). Failures before a handle exists
 *           (genbench_open), on a NULL, unknown or closed handle, and of the
 *           functions that take no handle are recorded per thread: each
 *           thread reads its own last such error with
 *           genbench_last_error(NULL, ...), so a failing genbench_open on
 *           one thread cannot overwrite the message another thread is about
 *           to read. (The message of a thread lives until its next failing
 *           call; a few hundred bytes stay allocated per thread that failed.)
 *
 * Devices.  A device or dtype string that is malformed (an unknown name,
 *           "cuda:x", "cuda:-1", a dtype other than bfloat16) and a
 *           "threads" option out of range (negative, or above 4 per core)
 *           are GENBENCH_ERR_INVALID_ARGUMENT, found before anything loads.
 *           A well-formed device that cannot be used (no NVIDIA driver,
 *           "cuda:99" on a machine with fewer GPUs, out of device memory)
 *           is GENBENCH_ERR_LOAD, like a model that cannot be loaded.
 *
 * Output.   The library never writes to stdout or stderr: loading progress
 *           goes to the log callback (genbench_set_log_callback), benchmark
 *           progress to the progress callback, errors to the last error.
 *           No download progress bars are drawn.
 *
 * Environment. The Hugging Face variables (HF_HOME, HF_HUB_CACHE,
 *           XDG_CACHE_HOME, HF_ENDPOINT, HF_TOKEN, HF_TOKEN_PATH,
 *           HF_HUB_OFFLINE) and the CUDA ones (CUDA_HOME, CUDA_PATH,
 *           CUDA_ROOT, PATH; XDG_CACHE_HOME for the kernel cache) are read
 *           from the C environment (getenv) at every model load
 *           (genbench_open, genbench_bench without an engine), never cached:
 *           a setenv() of the host, before or after loading the library,
 *           takes effect at the next load.
 *
 * Strings.  Input strings are NUL-terminated UTF-8 and are only read during
 *           the call. Two output rules, stated on every function:
 *             - caller-owned buffer (size-query pattern): the caller passes a
 *               buffer and its capacity; the library reports the size it
 *               needs, and fails with GENBENCH_ERR_BUFFER_TOO_SMALL (writing
 *               nothing) when the capacity is too small, so the caller can
 *               grow the buffer and call again;
 *             - library-allocated: the library stores a malloc'ed,
 *               NUL-terminated string in a char** out parameter; the caller
 *               releases it with genbench_free. On failure the out parameter
 *               is set to NULL unless the function says otherwise.
 *
 * Handles.  genbench_engine is opaque: an identifier the library looks up in
 *           its own table (never a pointer into library memory). A closed
 *           handle stays invalid forever (identifiers are not reused), so
 *           using it is an error (GENBENCH_ERR_INVALID_HANDLE), never a crash.
 *
 * Threads.  Every function may be called from any thread. An engine handle
 *           serves one call at a time: a call on a handle that is already
 *           running another call fails at once with GENBENCH_ERR_BUSY (it
 *           does not block). Different handles may be used concurrently.
 *           Callbacks are called one at a time and only while the call that
 *           was given them runs; they normally run on the calling thread,
 *           but may run on another thread of the library, so they must not
 *           rely on thread-local state. A callback must not call into the
 *           handle it serves (that call fails with GENBENCH_ERR_BUSY).
 *
 * Safety.   NULL pointers where a value is required and invalid handles are
 *           reported as errors. An internal error in the library is caught at
 *           the boundary and reported as GENBENCH_ERR_INTERNAL.
 *
 * Process.  libgen.so contains a Go runtime. Load it into programs written in
 *           C, C++, Python, Rust and the like; a Go program must not load it
 *           (one process cannot host two Go runtimes) and should import the
 *           engine packages instead.
 *
 * JSON.     Structured inputs and outputs (engine options, benchmark
 *           configuration, reports) cross the interface as JSON documents.
 *           Unknown keys in an input document are errors, and so is data
 *           after the object. Outputs are UTF-8 JSON: reports
 *           (genbench_bench, genbench_bench_external) are indented by two
 *           spaces and end with a newline, exactly as the genbench command
 *           saves them; genbench_engine_info and genbench_flag_specs are
 *           compact, on one line, without a trailing newline. Parse them;
 *           do not rely on key order or spacing. The report format is
 *           versioned by its "schema_version" field.
 *
 * Options.  Two styles on purpose: the options of genbench_open (rare,
 *           load-time knobs that grow over versions) and the benchmark
 *           configuration are JSON, so new keys need no ABI change; the
 *           parameters of a generation (set per call, on the hot path) are
 *           a typed struct, initialised by genbench_generate_params_init so
 *           fields added later get their defaults.
 *
 * Example
 * -------
 *   static int print_piece(void* user, int32_t id, const char* piece, size_t len) {
 *       (void)user; (void)id;
 *       fwrite(piece, 1, len, stdout);
 *       return 0;
 *   }
 *
 *   genbench_engine* eng = NULL;
 *   if (genbench_open(NULL, "auto", NULL, NULL, &eng) != GENBENCH_OK) {
 *       char msg[1024];
 *       genbench_last_error(NULL, msg, sizeof msg);
 *       fprintf(stderr, "genbench: %s\n", msg);
 *       return 1;
 *   }
 *   genbench_generate_params params;
 *   genbench_generate_params_init(&params);
 *   params.max_new_tokens = 32;
 *   int rc = genbench_generate_text(eng, "Hello", &params, print_piece, NULL, NULL, 0, NULL, NULL);
 *   if (rc != GENBENCH_OK) {
 *       char msg[1024];
 *       genbench_last_error(eng, msg, sizeof msg);
 *       fprintf(stderr, "genbench: %s (%s)\n", msg, genbench_status_string(rc));
 *   }
 *   genbench_close(eng);
 */
#ifndef GENBENCH_H
#define GENBENCH_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * The version of this interface. It changes whenever a function, type or
 * constant of this header changes in an incompatible way. Compare it with
 * genbench_abi_version() after loading the library.
 */
#define GENBENCH_ABI_VERSION 1

/* ======================================================================== *
 * Part 1: the engine. Load a model, tokenize, generate.                    *
 * ======================================================================== */

/* Status codes returned by the functions of this interface. */
typedef enum genbench_status {
    GENBENCH_OK = 0,
    /* A NULL pointer where a value is required, or a value out of range. */
    GENBENCH_ERR_INVALID_ARGUMENT = 1,
    /* The engine handle is NULL, unknown, or already closed. */
    GENBENCH_ERR_INVALID_HANDLE = 2,
    /* A JSON input is malformed, has an unknown key or a wrong type. */
    GENBENCH_ERR_BAD_JSON = 3,
    /* The model could not be loaded (unknown model, unusable device,
     * missing or malformed checkpoint files). */
    GENBENCH_ERR_LOAD = 4,
    /* A caller-owned output buffer is too small; the size needed is reported. */
    GENBENCH_ERR_BUFFER_TOO_SMALL = 5,
    /* The engine handle is serving another call. */
    GENBENCH_ERR_BUSY = 6,
    /* A callback asked to stop a benchmark run. */
    GENBENCH_ERR_CANCELLED = 7,
    /* The model has no tokenizer (text in or out is not possible). */
    GENBENCH_ERR_NO_TOKENIZER = 8,
    /* Generation, benchmarking or file output failed. */
    GENBENCH_ERR_FAILED = 9,
    /* An internal error of the library (a bug); the message says where. */
    GENBENCH_ERR_INTERNAL = 10
} genbench_status;

/* An engine: a model loaded onto a device. Opaque. */
typedef struct genbench_engine genbench_engine;

/*
 * Parameters of one generation. Initialise with
 * genbench_generate_params_init and change the fields you need, so that
 * fields added in later versions get their defaults.
 */
typedef struct genbench_generate_params {
    /* Maximum number of tokens to generate (>= 1). Default 128. */
    int32_t max_new_tokens;
    /* Sampling temperature; 0 selects greedy decoding. Default 0. */
    float temperature;
    /* Keep the top_k most likely tokens when sampling; 0 disables. Default 50. */
    int32_t top_k;
    /* Nucleus sampling threshold in (0, 1]; 1 disables. Default 0.9. */
    float top_p;
    /* Repetition penalty (> 0); 1 disables. Default 1. */
    float repetition_penalty;
    /* Seed of the sampling draw: the same seed gives the same tokens. Default 42. */
    uint64_t seed;
    /* Non-zero: stop after the model's end-of-sequence token (included in
     * the output). Zero: ignore end-of-sequence and generate exactly
     * max_new_tokens tokens. Default 1. */
    int32_t stop_at_eos;
    /* genbench_generate_text only: non-zero adds the tokenizer's special
     * tokens (BOS) to the prompt. Default 1. */
    int32_t add_special;
} genbench_generate_params;

/* Why a generation ended (genbench_timings.stop_reason). */
typedef enum genbench_stop_reason {
    GENBENCH_STOP_MAX_TOKENS = 0, /* max_new_tokens were generated */
    GENBENCH_STOP_EOS = 1,        /* an end-of-sequence token was generated */
    GENBENCH_STOP_CALLBACK = 2    /* the token callback returned non-zero */
} genbench_stop_reason;

/* What a generation produced and how long it took. */
typedef struct genbench_timings {
    /* Start of prefill to the first generated token on the host, in ms. */
    double ttft_ms;
    /* Start of prefill to the last generated token on the host, in ms. */
    double total_ms;
    /* Prompt tokens / TTFT. */
    double prefill_tok_s;
    /* (generated - 1) / (total - TTFT); 0 with fewer than two tokens. */
    double decode_tok_s;
    /* Generated tokens / total. */
    double e2e_tok_s;
    /* Prompt tokens processed. */
    int32_t n_prompt;
    /* Tokens generated. */
    int32_t n_generated;
    /* A genbench_stop_reason. */
    int32_t stop_reason;
} genbench_timings;

/*
 * Receives each generated token as soon as it is on the host.
 *   user   the pointer given to the generate call
 *   id     the token id
 *   piece  the text this token completes, NUL-terminated, valid only during
 *          the call; it may be empty (a token that ends inside a UTF-8
 *          character, a special token, or a model without a tokenizer). The
 *          pieces of a generation concatenate to
 *          genbench_detokenize(ids, skip_special = 1).
 *   len    strlen(piece)
 * Return 0 to continue, non-zero to stop after this token.
 * When the generation ends with text still held back (a token that ended
 * inside a UTF-8 character), one last call delivers it with id -1: the
 * held bytes as U+FFFD. That call is not made after the callback asked to
 * stop (nor when nothing is held back), and its return value is ignored.
 */
typedef int (*genbench_token_callback)(void* user, int32_t id, const char* piece, size_t len);

/*
 * Receives one line of the library's log (model resolution, downloads,
 * loading and uploading weights), without a trailing newline, valid only
 * during the call. See genbench_set_log_callback.
 */
typedef void (*genbench_log_callback)(void* user, const char* line);

#ifndef GENBENCH_TYPES_ONLY /* defined only by the library's own build */

/* ---- Versions, status, errors, memory ------------------------------------ */

/* The ABI version the loaded library implements (GENBENCH_ABI_VERSION of
 * its build). */
int genbench_abi_version(void);

/* The engine version, e.g. "0.1.0". A static string; do not free it. */
const char* genbench_version(void);

/* A short static description of a status code ("invalid handle", ...);
 * "unknown status" for values outside enum genbench_status. Do not free it. */
const char* genbench_status_string(int status);

/*
 * Copies the last error message into buf (caller-owned, snprintf rules):
 * at most size-1 bytes and a terminating NUL when size > 0. buf may be NULL
 * when size is 0. Returns the full length of the message (excluding the
 * NUL), 0 when there is none; a return value >= size means it was cut.
 * engine NULL (or not a valid handle) reads the calling thread's last error
 * of a call without a valid handle (see Errors above), else the handle's.
 * A successful call does not clear the message.
 */
size_t genbench_last_error(const genbench_engine* engine, char* buf, size_t size);

/*
 * Installs the log callback (NULL removes it), for the whole process, like
 * llama_log_set. It receives the loading lines of genbench_open (resolving
 * a Hugging Face id, downloading, loading and uploading weights), one call
 * at a time, on the thread of the genbench_open call. Benchmark runs report
 * their own loading through their progress callback instead. The library
 * prints nothing when no callback is installed.
 */
void genbench_set_log_callback(genbench_log_callback callback, void* user);

/* Releases a string the library allocated. NULL is ignored. */
void genbench_free(void* p);

/* ---- Engines ------------------------------------------------------------- */

/*
 * Loads a model onto a device and returns a new handle in *out_engine.
 *   model         NULL or "" for the embedded default (a tiny Llama with
 *                 synthetic weights and a tiny tokenizer, vocabulary 512);
 *                 a built-in spec name (tiny-llama, tiny-qwen3, tiny-gemma3,
 *                 or a dev model id with "random_weights"); a local directory
 *                 with config.json and safetensors; or a Hugging Face id.
 *   device        NULL or "auto", "cpu", "cuda", "cuda:N".
 *   dtype         NULL or "bfloat16" (the only supported compute dtype).
 *   options_json  NULL or a JSON object with any of
 *                 {"random_weights": bool, "weight_seed": uint, "threads": int}
 *                 (synthetic weights of the model's spec; their seed; CPU
 *                 worker threads, 0 = all cores, at most 4 per core).
 * Malformed device, dtype or options are GENBENCH_ERR_INVALID_ARGUMENT
 * (GENBENCH_ERR_BAD_JSON for options_json that is not the JSON object
 * above); a device that cannot be used, or a model that cannot be found or
 * read, GENBENCH_ERR_LOAD (see Devices above).
 * On failure *out_engine is set to NULL and the global last error says why.
 * Close the handle with genbench_close.
 */
int genbench_open(const char* model, const char* device, const char* dtype,
                  const char* options_json, genbench_engine** out_engine);

/*
 * Releases the engine's memory. The handle is invalid afterwards. NULL is
 * accepted (GENBENCH_OK); closing a closed handle is
 * GENBENCH_ERR_INVALID_HANDLE.
 */
int genbench_close(genbench_engine* engine);

/*
 * Describes the engine as a JSON object (library-allocated, free with
 * genbench_free): {"model": {...}, "device": {...}, "environment": {...},
 * "options": {...}, "tokens": {...}} with the fields of the report's
 * "model" and "environment" entries, the options the handle was opened
 * with, and in "tokens" what generate checks and which ids are special:
 *   "context_length"   the model's positions (max_position_embeddings):
 *                      n_prompt + max_new_tokens must not exceed it
 *   "max_new_tokens"   the cap on max_new_tokens (1048576)
 *   "vocab_size"       rows of the embedding table: prompt ids must be below
 *                      it, and generated ids are
 *   "tokenizer_size"   ids the tokenizer knows (0 without a tokenizer); it
 *                      may exceed vocab_size (Gemma 3's image token) or fall
 *                      short of it (Qwen3's padded table)
 *   "bos_token_id", "pad_token_id"  the model config's ids, -1 when none
 *   "eos_token_ids"    the ids generation stops on with stop_at_eos
 *   "tokenizer_bos"    the id genbench_tokenize adds with add_special (-1: none)
 *   "tokenizer_eos"    the tokenizer config's end-of-sequence ids
 */
int genbench_engine_info(genbench_engine* engine, char** out_json);

/* ---- Tokenizer ----------------------------------------------------------- */

/*
 * Encodes text with the model's tokenizer. add_special non-zero adds the
 * special tokens the tokenizer adds (BOS). text need not be valid UTF-8:
 * bytes that are not are encoded as they are, with the tokenizer's byte
 * tokens (byte-level BPE, or byte fallback), never refused. Caller-owned buffer: out_ids has
 * room for capacity ids (it may be NULL when capacity is 0); *out_n is set
 * to the number of ids the text encodes to, and when that exceeds capacity
 * nothing is written and GENBENCH_ERR_BUFFER_TOO_SMALL is returned.
 * GENBENCH_ERR_NO_TOKENIZER when the model has none.
 */
int genbench_tokenize(genbench_engine* engine, const char* text, int add_special,
                      int32_t* out_ids, size_t capacity, size_t* out_n);

/*
 * Decodes ids to text. skip_special non-zero leaves special tokens out.
 * Caller-owned buffer: *out_len is set to the length of the text in bytes
 * (excluding the NUL); when size <= *out_len nothing is written and
 * GENBENCH_ERR_BUFFER_TOO_SMALL is returned; otherwise buf holds the text
 * and a NUL. An id outside the vocabulary is GENBENCH_ERR_INVALID_ARGUMENT.
 * The text is always valid UTF-8: bytes that do not form a character (an
 * invalid byte token, or ids that end inside a character) become U+FFFD
 * (EF BF BD), one per invalid sequence. n_ids 0 gives "".
 */
int genbench_detokenize(genbench_engine* engine, const int32_t* ids, size_t n_ids,
                        int skip_special, char* buf, size_t size, size_t* out_len);

/* ---- Generation ---------------------------------------------------------- */

/* Fills *params with the defaults documented on genbench_generate_params.
 * A NULL params is ignored. */
void genbench_generate_params_init(genbench_generate_params* params);

/*
 * Prefills the prompt ids and generates up to params->max_new_tokens tokens.
 *   params       NULL for the defaults
 *   callback     NULL, or called for every generated token (see
 *                genbench_token_callback); non-zero from it stops generation
 *                after that token, which is not an error
 *   out_ids      NULL, or caller-owned room for capacity ids, capacity >=
 *                params->max_new_tokens (checked before generating:
 *                GENBENCH_ERR_BUFFER_TOO_SMALL otherwise)
 *   out_n        NULL, or set to the number of tokens generated
 *   out_timings  NULL, or filled with the timings
 * Prompt ids must be in [0, vocab_size) and the prompt plus
 * max_new_tokens must fit the model's context (context_length; both in
 * genbench_engine_info's "tokens"); max_new_tokens must be in
 * [1, 1048576] (0 is refused, not "nothing to do"); the prompt must not be
 * empty (n_prompt 0) and must not be NULL when n_prompt > 0. Otherwise,
 * and for sampling values out of range (temperature < 0, top_k < 0, top_p
 * outside (0, 1], repetition_penalty <= 0, any of them NaN or infinite),
 * the call fails with GENBENCH_ERR_INVALID_ARGUMENT before generating.
 * A model whose logits are not finite (NaN or Inf weights) fails with
 * GENBENCH_ERR_FAILED naming the likely cause.
 */
int genbench_generate(genbench_engine* engine, const int32_t* prompt, size_t n_prompt,
                      const genbench_generate_params* params,
                      genbench_token_callback callback, void* user,
                      int32_t* out_ids, size_t capacity, size_t* out_n,
                      genbench_timings* out_timings);

/*
 * genbench_generate with a text prompt, encoded with the model's tokenizer
 * (special tokens added when params->add_special is non-zero).
 * GENBENCH_ERR_NO_TOKENIZER when the model has none; GENBENCH_ERR_INVALID_ARGUMENT
 * when the text encodes to no tokens.
 */
int genbench_generate_text(genbench_engine* engine, const char* prompt,
                           const genbench_generate_params* params,
                           genbench_token_callback callback, void* user,
                           int32_t* out_ids, size_t capacity, size_t* out_n,
                           genbench_timings* out_timings);

#endif /* GENBENCH_TYPES_ONLY */

/* ======================================================================== *
 * Part 2: the benchmark harness. The runner, reports and prompts the       *
 * genbench command uses, for drivers in other languages                    *
 * (benchmarks/bench_generation.py).                                        *
 * ======================================================================== */

/*
 * Receives one human-readable progress line of a benchmark run, without a
 * trailing newline, valid only during the call. Two kinds of line:
 *   - event lines: model loading, each config's start, warm-ups, trials,
 *     medians ("[2/7] medium: prompt 256, gen 256, greedy",
 *     "  trial 1/3: 812.4 tok/s (...)"); print each on its own line.
 *   - live lines, which start with GENBENCH_PROGRESS_LIVE_PREFIX: while a
 *     config runs, every 250 ms (4 Hz), the state of the current run
 *     ("live: [2/7] medium · trial 2/3 · 143/256 tok · 12.3 s · ETA 4.0 s
 *     config, 1:10 suite": config k/n, the run, its tokens done of its
 *     total, the config's elapsed time, then the time left for the config
 *     and for the whole run, or "ETA …" before the config's first token).
 *     Each replaces the one before: on a terminal redraw it in place
 *     (e.g. "\r" + text + "\x1b[K", erased before an event line is
 *     printed); in a log print one now and then, or none. They are
 *     delivered unless the run configuration's "progress" is "never", and
 *     come from another thread than the one that called genbench_bench
 *     (never two calls at once, never after genbench_bench returns). Their
 *     counts come from one atomic add per generated token; the timed path
 *     does nothing else for them. (With genbench_bench_external the count
 *     moves when a generation returns: the other engine reports no tokens
 *     on the way.)
 * Return 0 to continue, non-zero to stop the run: the run stops at the
 * next token and the call returns GENBENCH_ERR_CANCELLED, always, with the
 * report of what finished (its "complete" false; or true when the stop came
 * after the last trial had already ended: the report is then whole, and the
 * status still GENBENCH_ERR_CANCELLED). After a non-zero return the
 * callback is not called again.
 */
typedef int (*genbench_progress_callback)(void* user, const char* line);

/* The start of a live progress line (see genbench_progress_callback). */
#define GENBENCH_PROGRESS_LIVE_PREFIX "live: "

/*
 * Runs one generation for genbench_bench_external, on an engine outside
 * libgen.so (for example Hugging Face transformers), so that the benchmark
 * runner measures it exactly as it measures the built-in engine.
 *   prompt, n_prompt  the prompt token ids (valid during the call)
 *   params            the sampling parameters; stop_at_eos is 0: exactly
 *                     params->max_new_tokens tokens must be generated
 *   out_ids           room for params->max_new_tokens ids, to be filled
 *   out_n             set to the number of ids written
 *   out_ttft_ms       start of prefill to the first token on the host
 *   out_total_ms      start of prefill to the last token on the host
 *   out_peak_mem      peak device memory in bytes during the call (0 = unknown)
 * Return 0 on success, non-zero on failure (the run then fails with
 * GENBENCH_ERR_FAILED).
 */
typedef int (*genbench_generate_fn)(void* user, const int32_t* prompt, size_t n_prompt,
                                    const genbench_generate_params* params, int32_t* out_ids,
                                    size_t* out_n, double* out_ttft_ms, double* out_total_ms,
                                    int64_t* out_peak_mem);

#ifndef GENBENCH_TYPES_ONLY /* defined only by the library's own build */

/* ---- Benchmark ----------------------------------------------------------- */

/*
 * The benchmark flags shared by every driver, as a JSON array
 * (library-allocated, free with genbench_free) of
 * {"name", "field", "type", "default", "help", "adhoc"}: "name" is the
 * command-line flag without "--", "field" the key of the run configuration
 * JSON, "type" one of "string", "int", "float", "bool", "strings", and
 * "adhoc" true for a flag that only shapes the ad-hoc run (refused with a
 * suite or a config list).
 */
int genbench_flag_specs(char** out_json);

/*
 * Runs a benchmark (a suite, selected configs, or one ad-hoc run) exactly
 * as the genbench command does.
 *   engine        NULL: the model is loaded from the configuration's model,
 *                 device, dtype, random_weights and threads, and released at
 *                 the end. A handle: the run uses it, and the report names
 *                 the options the handle was opened with.
 *   config_json   the run configuration: a JSON object whose keys are the
 *                 "field" names of genbench_flag_specs (plus "driver", the
 *                 program name written into the report, default "genbench");
 *                 keys left out keep their defaults. "engine" must be
 *                 "genbench" (see genbench_bench_external). It is checked
 *                 as the genbench command checks its flags (the same rules
 *                 and messages): e.g. an ad-hoc field ("prompt_tokens",
 *                 "max_new_tokens", the sampling fields) given with "suite"
 *                 or "configs" is GENBENCH_ERR_INVALID_ARGUMENT, as are
 *                 "output_dir" with "no_save" and "threads" above 4 per
 *                 core. Unless "no_save", the output directory is checked
 *                 to be writable before the run (GENBENCH_ERR_FAILED).
 *   progress      NULL, or receives progress lines; non-zero stops the run
 *   out_report_json  required; library-allocated JSON report. When the run
 *                 fails after it started (a config failed, the progress
 *                 callback stopped it), the partial report (its "complete"
 *                 false, "error" set) is still returned here, with the
 *                 summary and path, together with the error status: free
 *                 them as on success.
 *   out_summary   NULL, or the rendered summary table (library-allocated)
 *   out_report_path  NULL, or the path the report was saved to
 *                 (library-allocated; "" when "no_save" is set). The report
 *                 is saved as the genbench command saves it: into
 *                 "output_dir", or when that is empty into benchmarks/reports
 *                 under the enclosing checkout of the genbench module found
 *                 from the working directory, else ./benchmarks/reports.
 * On failure before a report exists, the output strings are set to NULL.
 */
int genbench_bench(genbench_engine* engine, const char* config_json,
                   genbench_progress_callback progress, void* progress_user,
                   char** out_report_json, char** out_summary, char** out_report_path);

/*
 * Runs a benchmark whose generations are done by generate (another engine),
 * with the runner, prompts, figures, report and summary of genbench_bench.
 * engine (required) supplies the model description and the tokenizer the
 * prompts are built with, so both engines see identical prompt ids.
 *   overrides_json  NULL or a JSON object with any of {"engine_version":
 *                 string, "device": {device fields of the report},
 *                 "python_version", "torch_version", "transformers_version":
 *                 string}, written into the report.
 * The configuration's "engine" names the other engine (e.g. "hf"). The other
 * arguments are those of genbench_bench.
 */
int genbench_bench_external(genbench_engine* engine, const char* config_json,
                            const char* overrides_json,
                            genbench_generate_fn generate, void* generate_user,
                            genbench_progress_callback progress, void* progress_user,
                            char** out_report_json, char** out_summary,
                            char** out_report_path);

/*
 * The deterministic benchmark prompt of n ids for the engine's model, as
 * every benchmark run builds it (the built-in text tokenized by the model's
 * tokenizer, BOS first when the tokenizer adds one, repeated and cut to n;
 * without a tokenizer, ids from a generator seeded with seed). Caller-owned
 * buffer: capacity must be >= n, else GENBENCH_ERR_BUFFER_TOO_SMALL. *out_n
 * is set to n.
 */
int genbench_prompt_ids(genbench_engine* engine, size_t n, uint64_t seed,
                        int32_t* out_ids, size_t capacity, size_t* out_n);

/*
 * Checks a report document against the report schema. GENBENCH_OK when it
 * conforms, else GENBENCH_ERR_BAD_JSON with the first problem in the global
 * last error.
 */
int genbench_validate_report(const char* report_json);

/* Renders a report's summary table (library-allocated, free with
 * genbench_free), as genbench_bench returns it. */
int genbench_render_summary(const char* report_json, char** out_summary);

/*
 * Writes the built-in spec named model ("" for the embedded default,
 * tiny-llama) with synthetic weights (the weights
 * genbench_open gives with {"random_weights": true, "weight_seed": seed}) as
 * a Hugging Face checkpoint directory: config.json, generation_config.json,
 * model.safetensors, and for the tiny models their tokenizer files. The
 * directory is created when missing. For running another engine on the same
 * synthetic model.
 */
int genbench_write_hf(const char* model, uint64_t weight_seed, const char* dir);

#endif /* GENBENCH_TYPES_ONLY */

#ifdef __cplusplus
}
#endif

#endif /* GENBENCH_H */
