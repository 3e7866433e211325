package main

import (
	"testing"
)

// FuzzConfigJSON fuzzes the JSON inputs of the C ABI through the Go
// functions the exports call: genbench_bench's config_json
// (decodeRunConfig), genbench_open's options_json and
// genbench_bench_external's overrides_json (decodeJSON). No panic; every
// error has a status of genbench.h and a message; an accepted run
// configuration validates and plans.
func FuzzConfigJSON(f *testing.F) {
	for _, s := range []string{
		`{}`, `{"suite": "quick"}`, `{"suite": "quick", "prompt_tokens": 8}`,
		`{"configs": ["short", "decode"], "warmup": 0, "trials": 1, "no_save": true}`,
		`{"threads": 100000000}`, `{"temperature": 1e308}`, `{"top_p": 1e-300}`,
		`{"model": "acme/x", "revision": "v1", "device": "cuda:3", "seed": 18446744073709551615}`,
		`{"output_dir": "x", "no_save": true}`, `{"suite": "quick"} {}`, `[1]`, `{"configs": null}`,
		`{"random_weights": true, "weight_seed": 7, "threads": 2}`,
		`{"engine_version": "4.5", "device": {"kind": "cuda", "name": "X"}, "torch_version": "2"}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, doc string) {
		cfg, err := decodeRunConfig(doc, "f")
		if err != nil {
			if s := statusOf(err); s != statusBadJSON && s != statusInvalidArgument || err.Error() == "" {
				t.Fatalf("config %q: status %d, error %q", doc, s, err)
			}
		} else {
			if err := cfg.Validate(); err != nil {
				t.Fatalf("accepted %q but it does not validate: %v", doc, err)
			}
			if _, err := cfg.Plan(); err != nil {
				t.Fatalf("accepted %q but it does not plan: %v", doc, err)
			}
		}
		var o openExtra
		if err := decodeJSON([]byte(doc), &o, "options_json", "an object"); err != nil && (statusOf(err) != statusBadJSON || err.Error() == "") {
			t.Fatalf("options %q: status %d, error %q", doc, statusOf(err), err)
		}
		var ov overrides
		if err := decodeJSON([]byte(doc), &ov, "overrides_json", "an object"); err != nil && (statusOf(err) != statusBadJSON || err.Error() == "") {
			t.Fatalf("overrides %q: status %d, error %q", doc, statusOf(err), err)
		}
	})
}
