package main

/*
#cgo CFLAGS: -I${SRCDIR}/../capi
#include <stdlib.h>
#include "shim.h"
*/
import "C"

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"reflect"
	"strings"
	"sync"
	"time"
	"unsafe"

	"github.com/genbench/genbench/gocore/bench"
	"github.com/genbench/genbench/gocore/engine"
	"github.com/genbench/genbench/gocore/model"
	"github.com/genbench/genbench/gocore/sampling"
	"github.com/genbench/genbench/gocore/tokenizer"
	"github.com/genbench/genbench/gocore/weights"
)

// abiVersion is GENBENCH_ABI_VERSION of capi/genbench.h.
const abiVersion = 1

// versionString is genbench_version's static string.
var versionString = C.CString(bench.Version)

// statusStrings are genbench_status_string's static strings.
var statusStrings = func() []*C.char {
	out := make([]*C.char, len(statusNames))
	for i, s := range statusNames {
		out[i] = C.CString(s)
	}
	return out
}()

var unknownStatus = C.CString("unknown status")

// genbench_abi_version returns GENBENCH_ABI_VERSION of this build. See capi/genbench.h.
//
//export genbench_abi_version
func genbench_abi_version() C.int { return abiVersion }

// genbench_version returns the engine version as a static string. See capi/genbench.h.
//
//export genbench_version
func genbench_version() *C.char { return versionString }

// genbench_status_string describes a status code (a static string). See capi/genbench.h.
//
//export genbench_status_string
func genbench_status_string(status C.int) *C.char {
	if status < 0 || int(status) >= len(statusStrings) {
		return unknownStatus
	}
	return statusStrings[status]
}

// genbench_last_error copies the handle's (or the global) last error message into buf, snprintf-style. See capi/genbench.h.
//
//export genbench_last_error
func genbench_last_error(p *C.genbench_engine, buf *C.char, size C.size_t) (n C.size_t) {
	defer func() {
		if recover() != nil {
			n = 0
		}
	}()
	msg := C.GoString(C.gb_get_thread_error())
	if p != nil {
		if h, err := lookup(p); err == nil {
			msg = h.err.get()
		}
	}
	if buf != nil && size > 0 {
		room := uint64(size) - 1
		if room > uint64(len(msg)) {
			room = uint64(len(msg))
		}
		out := unsafe.Slice((*byte)(unsafe.Pointer(buf)), int(room)+1)
		copy(out, msg[:room])
		out[room] = 0
	}
	return C.size_t(len(msg))
}

// genbench_free releases a string allocated by the library. See capi/genbench.h.
//
//export genbench_free
func genbench_free(p unsafe.Pointer) {
	if p != nil {
		C.free(p)
	}
}

// setString stores a library-allocated copy of s in *out.
func setString(out **C.char, s string) {
	if out != nil {
		*out = C.CString(s)
	}
}

// clearString sets *out to NULL when out is not NULL.
func clearString(out **C.char) {
	if out != nil {
		*out = nil
	}
}

// decodeJSON decodes a JSON object into v, refusing unknown keys and
// trailing data. what names the argument in errors.
func decodeJSON(data []byte, v any, what, expected string) error {
	if t := bytes.TrimSpace(data); len(t) == 0 || t[0] != '{' {
		return errorf(statusBadJSON, "%s: not a JSON object: expected %s", what, expected)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return errorf(statusBadJSON, "%s: key %q: got a JSON %s, expected %s", what, te.Field, te.Value, jsonKind(te.Type))
		}
		return errorf(statusBadJSON, "%s: %v: expected %s", what, err, expected)
	}
	if dec.More() {
		return errorf(statusBadJSON, "%s: unexpected data after the JSON object: expected one JSON object", what)
	}
	if _, err := dec.Token(); err == nil {
		return errorf(statusBadJSON, "%s: unexpected data after the JSON object: expected one JSON object", what)
	}
	return nil
}

// jsonKind names the JSON value a Go type takes.
func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean (true or false)"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "integer"
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "non-negative integer"
	case reflect.Float32, reflect.Float64:
		return "number"
	case reflect.Slice, reflect.Array:
		return "array of " + jsonKind(t.Elem()) + " values"
	}
	return "object"
}

// maxCount bounds element counts passed in from C (prompt and id lengths).
const maxCount = 1 << 30

// ---- Engines ----

// openExtra are genbench_open's options_json keys.
type openExtra struct {
	RandomWeights bool   `json:"random_weights"`
	WeightSeed    uint64 `json:"weight_seed"`
	Threads       int    `json:"threads"`
}

// envVars are the environment variables a model load reads (hub cache,
// endpoint, token, offline mode; CUDA libraries and kernel cache).
var envVars = []string{"HF_HOME", "HF_HUB_CACHE", "XDG_CACHE_HOME", "HF_ENDPOINT", "HF_TOKEN", "HF_TOKEN_PATH",
	"HF_HUB_OFFLINE", "HOME", "CUDA_HOME", "CUDA_PATH", "CUDA_ROOT", "PATH"}

// syncEnv copies envVars from the C environment into Go's. The Go runtime
// takes its copy of the environment when the process starts, so without
// this a host's setenv (before or after loading the library) would not be
// seen; with it, every load reads the variables as they are now.
func syncEnv() {
	for _, k := range envVars {
		ck := C.CString(k)
		v := C.getenv(ck)
		C.free(unsafe.Pointer(ck))
		if v == nil {
			os.Unsetenv(k)
		} else if s := C.GoString(v); os.Getenv(k) != s {
			os.Setenv(k, s)
		}
	}
}

// logHook is the callback of genbench_set_log_callback.
var logHook struct {
	sync.Mutex
	cb   C.genbench_log_callback
	user unsafe.Pointer
}

// genbench_set_log_callback installs (or with NULL removes) the log callback. See capi/genbench.h.
//
//export genbench_set_log_callback
func genbench_set_log_callback(cb C.genbench_log_callback, user unsafe.Pointer) {
	logHook.Lock()
	logHook.cb, logHook.user = cb, user
	logHook.Unlock()
}

// logLine passes a loading progress line to the log callback, if any (one
// call at a time).
func logLine(s string) {
	logHook.Lock()
	defer logHook.Unlock()
	if logHook.cb == nil {
		return
	}
	cs := C.CString(s)
	defer C.free(unsafe.Pointer(cs))
	C.gb_call_log(logHook.cb, logHook.user, cs)
}

// genbench_open loads a model onto a device and registers a new handle. See capi/genbench.h.
//
//export genbench_open
func genbench_open(modelRef, device, dtype, optionsJSON *C.char, out **C.genbench_engine) C.int {
	return withoutHandle(func() error {
		if out == nil {
			return errorf(statusInvalidArgument, "genbench_open: out_engine is NULL: expected a pointer to receive the handle")
		}
		*out = nil
		o := openOptions{Model: C.GoString(modelRef), Device: "auto", DType: "bfloat16"}
		if device != nil && C.GoString(device) != "" {
			o.Device = C.GoString(device)
		}
		if dtype != nil && C.GoString(dtype) != "" {
			o.DType = C.GoString(dtype)
		}
		if optionsJSON != nil {
			var x openExtra
			if err := decodeJSON([]byte(C.GoString(optionsJSON)), &x, "genbench_open options_json",
				`a JSON object with any of "random_weights" (bool), "weight_seed" (unsigned integer), "threads" (integer)`); err != nil {
				return err
			}
			o.RandomWeights, o.WeightSeed, o.Threads = x.RandomWeights, x.WeightSeed, x.Threads
		}
		if err := engineOptions(o).Validate(); err != nil {
			return errorf(statusInvalidArgument, "genbench_open: %v", err)
		}
		syncEnv()
		opts := engineOptions(o)
		opts.Progress = logLine
		eng, err := engine.Load(context.Background(), opts)
		if err != nil {
			return withStatus(statusLoad, fmt.Errorf("genbench_open: load model %q: %w", engineOptions(o).ModelName(), err))
		}
		h := register(eng, o)
		C.gb_store_handle(out, C.uintptr_t(h.id))
		return nil
	})
}

// engineOptions are the engine's load options of open options.
func engineOptions(o openOptions) engine.Options {
	return engine.Options{Model: o.Model, Device: o.Device, DType: o.DType, RandomWeights: o.RandomWeights, WeightSeed: o.WeightSeed, Threads: o.Threads}
}

// genbench_close releases an engine and retires its handle. See capi/genbench.h.
//
//export genbench_close
func genbench_close(p *C.genbench_engine) C.int {
	if p == nil {
		return statusOK
	}
	return withHandle(p, func(h *handle) error {
		unregister(h)
		if err := h.eng.Close(); err != nil {
			return fmt.Errorf("genbench_close: %w", err)
		}
		return nil
	})
}

// genbench_engine_info describes the engine's model, device, host and options as JSON. See capi/genbench.h.
//
//export genbench_engine_info
func genbench_engine_info(p *C.genbench_engine, out **C.char) C.int {
	clearString(out)
	return withHandle(p, func(h *handle) error {
		if out == nil {
			return errorf(statusInvalidArgument, "genbench_engine_info: out_json is NULL: expected a pointer to receive the JSON")
		}
		dev := h.eng.DeviceInfo()
		b, err := json.Marshal(map[string]any{
			"model":       h.eng.ModelInfo(),
			"device":      dev,
			"environment": bench.HostEnvironment(dev),
			"options":     h.opts,
			"tokens":      tokenInfo(h.eng),
		})
		if err != nil {
			return fmt.Errorf("genbench_engine_info: %w", err)
		}
		setString(out, string(b))
		return nil
	})
}

// tokenInfo is genbench_engine_info's "tokens" entry: the limits generate
// checks and the special ids (-1 = none).
func tokenInfo(e *engine.Engine) map[string]any {
	spec := e.Spec()
	info := map[string]any{
		"context_length": spec.MaxPositionEmbeddings,
		"max_new_tokens": bench.MaxTokens,
		"vocab_size":     spec.VocabSize,
		"tokenizer_size": 0,
		"bos_token_id":   spec.BOSTokenID,
		"eos_token_ids":  nonNil(spec.StopIDs()),
		"pad_token_id":   spec.PadTokenID,
		"tokenizer_bos":  int32(-1),
		"tokenizer_eos":  []int32{},
	}
	if tok := e.Tokenizer(); tok != nil {
		info["tokenizer_size"] = tok.VocabSize()
		if id, ok := tok.BOS(); ok {
			info["tokenizer_bos"] = id
		}
		info["tokenizer_eos"] = nonNil(tok.EOS())
	}
	return info
}

// nonNil keeps an empty id list a JSON array.
func nonNil(ids []int32) []int32 {
	if ids == nil {
		return []int32{}
	}
	return ids
}

// ---- Tokenizer ----

// tokenizerOf returns the handle's tokenizer or a NO_TOKENIZER error.
func tokenizerOf(h *handle, fn string) (*tokenizer.Tokenizer, error) {
	tok := h.eng.Tokenizer()
	if tok == nil {
		return nil, errorf(statusNoTokenizer, "%s: model %q has no tokenizer (no tokenizer.json): pass token ids instead of text", fn, h.eng.ModelInfo().ID)
	}
	return tok, nil
}

// int32s views a C array of n int32 as a Go slice (nil when n is 0).
func int32s(p *C.int32_t, n int) []int32 {
	if n == 0 || p == nil {
		return nil
	}
	return unsafe.Slice((*int32)(unsafe.Pointer(p)), n)
}

// genbench_tokenize encodes text into a caller-owned id buffer. See capi/genbench.h.
//
//export genbench_tokenize
func genbench_tokenize(p *C.genbench_engine, text *C.char, addSpecial C.int, outIDs *C.int32_t, capacity C.size_t, outN *C.size_t) C.int {
	return withHandle(p, func(h *handle) error {
		if text == nil {
			return errorf(statusInvalidArgument, "genbench_tokenize: text is NULL: expected a NUL-terminated UTF-8 string")
		}
		if outN == nil {
			return errorf(statusInvalidArgument, "genbench_tokenize: out_n is NULL: expected a pointer to receive the number of ids")
		}
		if outIDs == nil && capacity > 0 {
			return errorf(statusInvalidArgument, "genbench_tokenize: out_ids is NULL with capacity %d: expected a buffer of capacity ids", capacity)
		}
		tok, err := tokenizerOf(h, "genbench_tokenize")
		if err != nil {
			return err
		}
		ids := tok.Encode(C.GoString(text), addSpecial != 0)
		*outN = C.size_t(len(ids))
		if uint64(len(ids)) > uint64(capacity) {
			return errorf(statusBufferTooSmall, "genbench_tokenize: the text encodes to %d ids but out_ids has room for %d: call again with a larger buffer", len(ids), capacity)
		}
		copy(int32s(outIDs, len(ids)), ids)
		return nil
	})
}

// genbench_detokenize decodes ids into a caller-owned text buffer. See capi/genbench.h.
//
//export genbench_detokenize
func genbench_detokenize(p *C.genbench_engine, ids *C.int32_t, nIDs C.size_t, skipSpecial C.int, buf *C.char, size C.size_t, outLen *C.size_t) C.int {
	return withHandle(p, func(h *handle) error {
		if ids == nil && nIDs > 0 {
			return errorf(statusInvalidArgument, "genbench_detokenize: ids is NULL with n_ids %d: expected an array of n_ids token ids", nIDs)
		}
		if nIDs > maxCount {
			return errorf(statusInvalidArgument, "genbench_detokenize: n_ids %d is too large: expected at most %d", nIDs, maxCount)
		}
		if outLen == nil {
			return errorf(statusInvalidArgument, "genbench_detokenize: out_len is NULL: expected a pointer to receive the text length")
		}
		if buf == nil && size > 0 {
			return errorf(statusInvalidArgument, "genbench_detokenize: buf is NULL with size %d: expected a buffer of size bytes", size)
		}
		tok, err := tokenizerOf(h, "genbench_detokenize")
		if err != nil {
			return err
		}
		in := int32s(ids, int(nIDs))
		if err := checkIDs(in, h.eng.ModelInfo().VocabSize, tok.VocabSize(), "genbench_detokenize: ids"); err != nil {
			return err
		}
		text := tok.Decode(in, skipSpecial != 0)
		*outLen = C.size_t(len(text))
		if uint64(len(text)) >= uint64(size) {
			return errorf(statusBufferTooSmall, "genbench_detokenize: the text is %d bytes but buf has room for %d (with the NUL): call again with a larger buffer", len(text), size)
		}
		out := unsafe.Slice((*byte)(unsafe.Pointer(buf)), len(text)+1)
		copy(out, text)
		out[len(text)] = 0
		return nil
	})
}

// checkIDs checks that ids are in [0, limit), limit being the larger of
// the model's and the tokenizer's vocabulary: an id of either can be
// decoded (one the tokenizer lacks decodes to nothing, as in Hugging Face's
// tokenizers).
func checkIDs(ids []int32, vocab, tokVocab int, what string) error {
	limit := max(vocab, tokVocab)
	for i, id := range ids {
		if id < 0 || int(id) >= limit {
			return errorf(statusInvalidArgument, "%s[%d] = %d is out of range: expected a token id in [0, %d)", what, i, id, limit)
		}
	}
	return nil
}

// ---- Generation ----

// defaultParams are genbench_generate_params_init's values (those of the
// genbench generate command).
func defaultParams() C.genbench_generate_params {
	def := bench.DefaultRunConfig()
	return C.genbench_generate_params{
		max_new_tokens:     128,
		temperature:        0,
		top_k:              C.int32_t(def.TopK),
		top_p:              C.float(def.TopP),
		repetition_penalty: 1,
		seed:               C.uint64_t(def.Seed),
		stop_at_eos:        1,
		add_special:        1,
	}
}

// genbench_generate_params_init fills params with the defaults. See capi/genbench.h.
//
//export genbench_generate_params_init
func genbench_generate_params_init(p *C.genbench_generate_params) {
	if p != nil {
		*p = defaultParams()
	}
}

// errStopped is returned by the token callback wrapper when the C callback
// asks to stop; it is not reported as an error.
var errStopped = errors.New("stopped by the token callback")

// generate runs one generation for genbench_generate(_text).
func generate(h *handle, fn string, prompt []int32, params *C.genbench_generate_params, cb C.genbench_token_callback, user unsafe.Pointer,
	outIDs *C.int32_t, capacity C.size_t, outN *C.size_t, outT *C.genbench_timings) error {
	pr := defaultParams()
	if params != nil {
		pr = *params
	}
	if err := bench.CheckTokenCount(int(pr.max_new_tokens)); err != nil {
		return errorf(statusInvalidArgument, "%s: params: max_new_tokens: %v", fn, err)
	}
	if outIDs != nil && uint64(capacity) < uint64(pr.max_new_tokens) {
		return errorf(statusBufferTooSmall, "%s: out_ids has room for %d ids but max_new_tokens is %d: expected capacity >= max_new_tokens", fn, capacity, pr.max_new_tokens)
	}
	sp := sampling.Params{
		Temperature: float32(pr.temperature), TopK: int(pr.top_k), TopP: float32(pr.top_p),
		RepetitionPenalty: float32(pr.repetition_penalty), Seed: uint64(pr.seed),
	}
	if err := sp.Validate(); err != nil {
		return errorf(statusInvalidArgument, "%s: params: %v", fn, err)
	}
	if len(prompt) == 0 {
		return errorf(statusInvalidArgument, "%s: the prompt is empty: expected at least one token", fn)
	}
	if err := h.eng.ValidatePrompt(prompt, int(pr.max_new_tokens)); err != nil {
		return errorf(statusInvalidArgument, "%s: %s", fn, strings.TrimPrefix(err.Error(), "engine: "))
	}
	var sd *tokenizer.StreamDecoder
	if tok := h.eng.Tokenizer(); tok != nil {
		sd = tok.NewStreamDecoder(true)
	}
	stopped := false
	emit := func(id int32, piece string) error {
		cs := C.CString(piece)
		defer C.free(unsafe.Pointer(cs))
		if C.gb_call_token(cb, user, C.int32_t(id), cs, C.size_t(len(piece))) != 0 {
			stopped = true
			return errStopped
		}
		return nil
	}
	req := engine.Request{
		Prompt:       prompt,
		MaxNewTokens: int(pr.max_new_tokens),
		Sampling:     sp,
		Stop:         engine.NoStop,
	}
	if pr.stop_at_eos != 0 {
		req.Stop = engine.StopOnEOS
	}
	if cb != nil {
		req.OnToken = func(id int32) error {
			piece := ""
			if sd != nil {
				piece = sd.Add(id)
			}
			return emit(id, piece)
		}
	}
	res, err := h.eng.Generate(context.Background(), req)
	if err != nil && !errors.Is(err, errStopped) {
		return fmt.Errorf("%s: %w", fn, err)
	}
	if cb != nil && sd != nil && !stopped {
		if rest := sd.Flush(); rest != "" {
			if err := emit(-1, rest); err != nil && !errors.Is(err, errStopped) {
				return err
			}
		}
	}
	if res == nil {
		return fmt.Errorf("%s: the engine returned no result", fn)
	}
	copy(int32s(outIDs, len(res.Tokens)), res.Tokens)
	if outN != nil {
		*outN = C.size_t(len(res.Tokens))
	}
	if outT != nil {
		f := res.Figures(len(prompt))
		reason := C.int32_t(0)
		switch {
		case stopped:
			reason = 2
		case res.StoppedOnEOS:
			reason = 1
		}
		*outT = C.genbench_timings{
			ttft_ms: C.double(f.TTFTMs), total_ms: C.double(float64(res.Total) / float64(time.Millisecond)),
			prefill_tok_s: C.double(f.PrefillTokS), decode_tok_s: C.double(f.DecodeTokS), e2e_tok_s: C.double(f.E2ETokS),
			n_prompt: C.int32_t(len(prompt)), n_generated: C.int32_t(len(res.Tokens)), stop_reason: reason,
		}
	}
	return nil
}

// genbench_generate generates from prompt ids, streaming tokens to the callback. See capi/genbench.h.
//
//export genbench_generate
func genbench_generate(p *C.genbench_engine, prompt *C.int32_t, nPrompt C.size_t, params *C.genbench_generate_params,
	cb C.genbench_token_callback, user unsafe.Pointer, outIDs *C.int32_t, capacity C.size_t, outN *C.size_t, outT *C.genbench_timings) C.int {
	return withHandle(p, func(h *handle) error {
		if prompt == nil && nPrompt > 0 {
			return errorf(statusInvalidArgument, "genbench_generate: prompt is NULL with n_prompt %d: expected an array of n_prompt token ids", nPrompt)
		}
		if nPrompt > maxCount {
			return errorf(statusInvalidArgument, "genbench_generate: n_prompt %d is too large: expected at most %d", nPrompt, maxCount)
		}
		ids := append([]int32(nil), int32s(prompt, int(nPrompt))...)
		return generate(h, "genbench_generate", ids, params, cb, user, outIDs, capacity, outN, outT)
	})
}

// genbench_generate_text generates from a text prompt, streaming tokens to the callback. See capi/genbench.h.
//
//export genbench_generate_text
func genbench_generate_text(p *C.genbench_engine, prompt *C.char, params *C.genbench_generate_params,
	cb C.genbench_token_callback, user unsafe.Pointer, outIDs *C.int32_t, capacity C.size_t, outN *C.size_t, outT *C.genbench_timings) C.int {
	return withHandle(p, func(h *handle) error {
		if prompt == nil {
			return errorf(statusInvalidArgument, "genbench_generate_text: prompt is NULL: expected a NUL-terminated UTF-8 string")
		}
		tok, err := tokenizerOf(h, "genbench_generate_text")
		if err != nil {
			return err
		}
		addSpecial := true
		if params != nil {
			addSpecial = params.add_special != 0
		}
		ids := tok.Encode(C.GoString(prompt), addSpecial)
		if len(ids) == 0 {
			return errorf(statusInvalidArgument, "genbench_generate_text: the prompt encodes to no tokens: expected a non-empty prompt")
		}
		return generate(h, "genbench_generate_text", ids, params, cb, user, outIDs, capacity, outN, outT)
	})
}

// ---- Benchmark ----

// genbench_flag_specs returns the benchmark flag table as JSON. See capi/genbench.h.
//
//export genbench_flag_specs
func genbench_flag_specs(out **C.char) C.int {
	clearString(out)
	return withoutHandle(func() error {
		if out == nil {
			return errorf(statusInvalidArgument, "genbench_flag_specs: out_json is NULL: expected a pointer to receive the JSON")
		}
		b, err := json.Marshal(bench.FlagSpecs())
		if err != nil {
			return fmt.Errorf("genbench_flag_specs: %w", err)
		}
		setString(out, string(b))
		return nil
	})
}

// parseRunConfig decodes a run configuration over the defaults and
// validates it.
func parseRunConfig(configJSON *C.char, fn string) (bench.RunConfig, error) {
	if configJSON == nil {
		return bench.DefaultRunConfig(), errorf(statusInvalidArgument, "%s: config_json is NULL: expected a JSON object (\"{}\" for the defaults)", fn)
	}
	return decodeRunConfig(C.GoString(configJSON), fn)
}

// decodeRunConfig is parseRunConfig of a Go string.
func decodeRunConfig(doc, fn string) (bench.RunConfig, error) {
	cfg := bench.DefaultRunConfig()
	if err := decodeJSON([]byte(doc), &cfg, fn+": config_json",
		"a JSON object whose keys are the \"field\" names of genbench_flag_specs, or \"driver\""); err != nil {
		return cfg, err
	}
	if cfg.Configs == nil {
		cfg.Configs = []string{}
	}
	// the command line's checks, with the keys given standing for the flags given
	if err := cfg.ValidateGiven(bench.JSONGiven([]byte(doc))); err != nil {
		return cfg, errorf(statusInvalidArgument, "%s: %v", fn, err)
	}
	return cfg, nil
}

// progressFunc turns a C progress callback into a session's progress
// function (nil for a NULL callback); a non-zero return cancels the run,
// and the callback is not called again.
func progressFunc(cb C.genbench_progress_callback, user unsafe.Pointer, cancel context.CancelFunc) func(string) {
	if cb == nil {
		return nil
	}
	var mu sync.Mutex // one call at a time, whichever goroutine reports
	stopped := false
	return func(s string) {
		mu.Lock()
		defer mu.Unlock()
		if stopped {
			return
		}
		cs := C.CString(s)
		defer C.free(unsafe.Pointer(cs))
		if C.gb_call_progress(cb, user, cs) != 0 {
			stopped = true
			cancel()
		}
	}
}

// liveLinePrefix starts every live line given to a progress callback
// (GENBENCH_PROGRESS_LIVE_PREFIX in genbench.h).
const liveLinePrefix = "live: "

// runSession runs a benchmark session and stores the report, its summary
// and the saved path in the out parameters. Unless the configuration's
// progress is "never", the session's progress function also receives the
// live line (bench.Live, prefixed with liveLinePrefix) every
// bench.LiveInterval while a config runs, and never after runSession
// returns.
func runSession(ctx context.Context, s bench.Session, fn string, outReport, outSummary, outPath **C.char) error {
	if s.Progress != nil && s.Config.Progress != bench.ProgressNever {
		live := &bench.Live{}
		ctx = bench.WithLive(ctx, live)
		stop := live.Watch(bench.LiveInterval, func(st bench.LiveState) { s.Progress(liveLinePrefix + st.String()) })
		defer stop()
	}
	out, err := s.Run(ctx)
	if out == nil {
		var le *bench.LoadError
		if errors.As(err, &le) {
			code := statusLoad
			if ctx.Err() != nil {
				code = statusCancelled
			}
			return withStatus(code, fmt.Errorf("%s: %w", fn, err))
		}
		return withStatus(statusOf(err), fmt.Errorf("%s: %w", fn, err))
	}
	data, merr := bench.Marshal(out.Report)
	if merr != nil {
		return fmt.Errorf("%s: %w", fn, merr)
	}
	setString(outReport, string(data))
	setString(outSummary, out.Summary)
	setString(outPath, out.Path)
	if err == nil && ctx.Err() != nil {
		// a stop asked for after the last trial: the promise of
		// genbench.h is GENBENCH_ERR_CANCELLED for any stop request
		err = withStatus(statusCancelled, errors.New("stopped by the progress callback after the last trial (the report is complete)"))
	}
	switch {
	case err != nil:
		return withStatus(statusOf(err), fmt.Errorf("%s: %w", fn, errors.Join(err, out.SaveErr)))
	case out.SaveErr != nil:
		return fmt.Errorf("%s: %w", fn, out.SaveErr)
	case out.RecordErr != nil:
		return fmt.Errorf("%s: %w", fn, out.RecordErr)
	}
	return nil
}

// genbench_bench runs a benchmark as the genbench command does. See capi/genbench.h.
//
//export genbench_bench
func genbench_bench(p *C.genbench_engine, configJSON *C.char, progress C.genbench_progress_callback, progressUser unsafe.Pointer,
	outReport, outSummary, outPath **C.char) C.int {
	clearString(outReport)
	clearString(outSummary)
	clearString(outPath)
	return withOptionalHandle(p, func(h *handle) error {
		const fn = "genbench_bench"
		if outReport == nil {
			return errorf(statusInvalidArgument, "%s: out_report_json is NULL: expected a pointer to receive the report", fn)
		}
		cfg, err := parseRunConfig(configJSON, fn)
		if err != nil {
			return err
		}
		if cfg.Engine != bench.EngineGenbench {
			return errorf(statusInvalidArgument, "%s: engine %q: expected %q (another engine runs through genbench_bench_external)", fn, cfg.Engine, bench.EngineGenbench)
		}
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		syncEnv()
		s := bench.Session{Config: cfg, Progress: progressFunc(progress, progressUser, cancel)}
		if h != nil {
			s.Gen = h.eng
			s.Config.Model, s.Config.Device, s.Config.DType, s.Config.RandomWeights, s.Config.Threads = h.opts.Model, h.opts.Device, h.opts.DType, h.opts.RandomWeights, h.opts.Threads
		}
		return runSession(ctx, s, fn, outReport, outSummary, outPath)
	})
}

// overrides are genbench_bench_external's overrides_json keys.
type overrides struct {
	EngineVersion       string             `json:"engine_version"`
	Device              *engine.DeviceInfo `json:"device"`
	PythonVersion       string             `json:"python_version"`
	TorchVersion        string             `json:"torch_version"`
	TransformersVersion string             `json:"transformers_version"`
}

// externalGen is a bench.Generator whose generations are done by a C
// callback; the model description and tokenizer come from an engine.
type externalGen struct {
	eng  *engine.Engine
	fn   C.genbench_generate_fn
	user unsafe.Pointer
	dev  engine.DeviceInfo
	peak int64
}

// Generate calls the C generate function.
func (g *externalGen) Generate(ctx context.Context, req engine.Request) (*engine.Result, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if len(req.Prompt) == 0 || req.MaxNewTokens < 1 {
		return nil, fmt.Errorf("external engine: empty prompt or no tokens requested")
	}
	params := defaultParams()
	params.max_new_tokens = C.int32_t(req.MaxNewTokens)
	params.temperature = C.float(req.Sampling.Temperature)
	params.top_k = C.int32_t(req.Sampling.TopK)
	params.top_p = C.float(req.Sampling.TopP)
	params.repetition_penalty = C.float(req.Sampling.RepetitionPenalty)
	params.seed = C.uint64_t(req.Sampling.Seed)
	params.stop_at_eos = 0
	if req.Stop == engine.StopOnEOS {
		params.stop_at_eos = 1
	}
	// C memory, so the callback may keep no Go pointers by mistake.
	n := len(req.Prompt)
	cPrompt := (*C.int32_t)(C.malloc(C.size_t(n * 4)))
	defer C.free(unsafe.Pointer(cPrompt))
	copy(int32s(cPrompt, n), req.Prompt)
	cOut := (*C.int32_t)(C.malloc(C.size_t(req.MaxNewTokens * 4)))
	defer C.free(unsafe.Pointer(cOut))
	cParams := (*C.genbench_generate_params)(C.malloc(C.size_t(unsafe.Sizeof(params))))
	defer C.free(unsafe.Pointer(cParams))
	*cParams = params
	res := (*C.gb_gen_out)(C.malloc(C.size_t(unsafe.Sizeof(C.gb_gen_out{}))))
	defer C.free(unsafe.Pointer(res))
	*res = C.gb_gen_out{}
	if rc := C.gb_call_generate(g.fn, g.user, cPrompt, C.size_t(n), cParams, cOut, &res.n, &res.ttft_ms, &res.total_ms, &res.peak_mem); rc != 0 {
		return nil, fmt.Errorf("external engine: generation failed (its generate function returned %d)", int(rc))
	}
	got := int(res.n)
	if got < 0 || got > req.MaxNewTokens {
		return nil, fmt.Errorf("external engine: reported %d tokens, expected at most %d", got, req.MaxNewTokens)
	}
	ms := func(v C.double) time.Duration { return time.Duration(float64(v) * float64(time.Millisecond)) }
	g.peak = max(g.peak, int64(res.peak_mem))
	return &engine.Result{
		Tokens: append([]int32(nil), int32s(cOut, got)...),
		TTFT:   ms(res.ttft_ms),
		Total:  ms(res.total_ms),
	}, nil
}

// ModelInfo describes the model (from the engine holding its spec).
func (g *externalGen) ModelInfo() engine.ModelInfo { return g.eng.ModelInfo() }

// DeviceInfo is the device the other engine runs on.
func (g *externalGen) DeviceInfo() engine.DeviceInfo { return g.dev }

// PeakMemory is the largest peak the generate function reported since the
// last reset.
func (g *externalGen) PeakMemory() int64 { return g.peak }

// ResetPeakMemory restarts peak tracking.
func (g *externalGen) ResetPeakMemory() { g.peak = 0 }

// ReleaseBuffers has nothing to release: the other engine frees its own
// buffers between generations.
func (g *externalGen) ReleaseBuffers() {}

// Tokenizer is the model's tokenizer, for the prompts.
func (g *externalGen) Tokenizer() *tokenizer.Tokenizer { return g.eng.Tokenizer() }

// Spec is the model's spec, for its end-of-sequence ids.
func (g *externalGen) Spec() *model.Spec { return g.eng.Spec() }

// genbench_bench_external runs a benchmark whose generations are done by a C callback. See capi/genbench.h.
//
//export genbench_bench_external
func genbench_bench_external(p *C.genbench_engine, configJSON, overridesJSON *C.char, gen C.genbench_generate_fn, genUser unsafe.Pointer,
	progress C.genbench_progress_callback, progressUser unsafe.Pointer, outReport, outSummary, outPath **C.char) C.int {
	clearString(outReport)
	clearString(outSummary)
	clearString(outPath)
	return withHandle(p, func(h *handle) error {
		const fn = "genbench_bench_external"
		if outReport == nil {
			return errorf(statusInvalidArgument, "%s: out_report_json is NULL: expected a pointer to receive the report", fn)
		}
		if gen == nil {
			return errorf(statusInvalidArgument, "%s: generate is NULL: expected the other engine's generate function", fn)
		}
		cfg, err := parseRunConfig(configJSON, fn)
		if err != nil {
			return err
		}
		if cfg.Engine == bench.EngineGenbench {
			return errorf(statusInvalidArgument, "%s: engine %q runs through genbench_bench: expected the name of the other engine (%q)", fn, cfg.Engine, bench.EngineHF)
		}
		var ov overrides
		if overridesJSON != nil {
			if err := decodeJSON([]byte(C.GoString(overridesJSON)), &ov, fn+": overrides_json",
				`a JSON object with any of "engine_version", "device", "python_version", "torch_version", "transformers_version"`); err != nil {
				return err
			}
		}
		g := &externalGen{eng: h.eng, fn: gen, user: genUser, dev: h.eng.DeviceInfo()}
		if ov.Device != nil {
			g.dev = *ov.Device
		}
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		s := bench.Session{Config: cfg, Gen: g, Progress: progressFunc(progress, progressUser, cancel)}
		s.Amend = func(rep *bench.Report) {
			if ov.EngineVersion != "" {
				rep.EngineVersion = ov.EngineVersion
			}
			rep.Environment.PythonVersion = ov.PythonVersion
			rep.Environment.TorchVersion = ov.TorchVersion
			rep.Environment.TransformersVersion = ov.TransformersVersion
		}
		return runSession(ctx, s, fn, outReport, outSummary, outPath)
	})
}

// genbench_prompt_ids writes the deterministic benchmark prompt for the engine's model. See capi/genbench.h.
//
//export genbench_prompt_ids
func genbench_prompt_ids(p *C.genbench_engine, n C.size_t, seed C.uint64_t, outIDs *C.int32_t, capacity C.size_t, outN *C.size_t) C.int {
	return withHandle(p, func(h *handle) error {
		if outN == nil {
			return errorf(statusInvalidArgument, "genbench_prompt_ids: out_n is NULL: expected a pointer to receive the number of ids")
		}
		if n > 1<<24 {
			return errorf(statusInvalidArgument, "genbench_prompt_ids: n %d is too large: expected at most %d", n, 1<<24)
		}
		*outN = n
		if outIDs == nil && capacity > 0 {
			return errorf(statusInvalidArgument, "genbench_prompt_ids: out_ids is NULL with capacity %d: expected a buffer of capacity ids", capacity)
		}
		if outIDs == nil || capacity < n {
			return errorf(statusBufferTooSmall, "genbench_prompt_ids: out_ids has room for %d ids: expected at least n = %d", capacity, n)
		}
		ids, _ := bench.PromptIDs(h.eng.Tokenizer(), h.eng.ModelInfo().VocabSize, int(n), uint64(seed))
		copy(int32s(outIDs, len(ids)), ids)
		return nil
	})
}

// genbench_validate_report checks a report against the report schema. See capi/genbench.h.
//
//export genbench_validate_report
func genbench_validate_report(reportJSON *C.char) C.int {
	return withoutHandle(func() error {
		if reportJSON == nil {
			return errorf(statusInvalidArgument, "genbench_validate_report: report_json is NULL: expected a JSON report")
		}
		if err := bench.Validate([]byte(C.GoString(reportJSON))); err != nil {
			return withStatus(statusBadJSON, fmt.Errorf("genbench_validate_report: %w", err))
		}
		return nil
	})
}

// genbench_render_summary renders a report's summary table. See capi/genbench.h.
//
//export genbench_render_summary
func genbench_render_summary(reportJSON *C.char, out **C.char) C.int {
	clearString(out)
	return withoutHandle(func() error {
		if reportJSON == nil || out == nil {
			return errorf(statusInvalidArgument, "genbench_render_summary: report_json and out_summary must not be NULL: expected a JSON report and a pointer to receive the table")
		}
		data := []byte(C.GoString(reportJSON))
		if err := bench.Validate(data); err != nil {
			return withStatus(statusBadJSON, fmt.Errorf("genbench_render_summary: %w", err))
		}
		var r bench.Report
		if err := json.Unmarshal(data, &r); err != nil {
			return withStatus(statusBadJSON, fmt.Errorf("genbench_render_summary: %w", err))
		}
		setString(out, bench.RenderSummary(&r))
		return nil
	})
}

// genbench_write_hf writes a built-in spec with synthetic weights as a Hugging Face directory. See capi/genbench.h.
//
//export genbench_write_hf
func genbench_write_hf(modelName *C.char, weightSeed C.uint64_t, dir *C.char) C.int {
	return withoutHandle(func() error {
		if modelName == nil || dir == nil || C.GoString(dir) == "" {
			return errorf(statusInvalidArgument, "genbench_write_hf: model and dir must not be NULL or empty: expected a built-in spec name and a directory")
		}
		name := C.GoString(modelName)
		if name == "" {
			name = engine.DefaultModel
		}
		spec, ok := model.Builtin(name)
		if !ok {
			return errorf(statusInvalidArgument, "genbench_write_hf: unknown built-in model %q: expected one of %s", name, strings.Join(model.BuiltinNames(), ", "))
		}
		m, err := weights.Synthetic(spec, uint64(weightSeed))
		if err != nil {
			return fmt.Errorf("genbench_write_hf: %s: %w", name, err)
		}
		defer m.Close()
		var tokJSON, tokCfg []byte
		if strings.HasPrefix(name, "tiny-") {
			tokJSON, tokCfg = tokenizer.TinyFiles()
		}
		d := C.GoString(dir)
		if err := os.MkdirAll(d, 0o755); err != nil {
			return fmt.Errorf("genbench_write_hf: %w", err)
		}
		if err := weights.WriteHF(d, m, tokJSON, tokCfg); err != nil {
			return fmt.Errorf("genbench_write_hf: %s to %s: %w", name, d, err)
		}
		return nil
	})
}
