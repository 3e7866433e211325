package main

import (
	"strings"
	"testing"

	"github.com/genbench/genbench/gocore/bench"
)

// A run configuration arrives as JSON: fields left out keep the defaults,
// malformed documents are BAD_JSON and bad values INVALID_ARGUMENT, with
// the flag named as the genbench command names it.
func TestDecodeRunConfig(t *testing.T) {
	c, err := decodeRunConfig(`{"suite": "standard", "seed": 7, "driver": "bench_generation.py"}`, "f")
	if err != nil || c.Suite != "standard" || c.Seed != 7 || c.Trials != 3 || c.Driver != bench.DriverPython || c.Configs == nil {
		t.Errorf("decodeRunConfig = %+v, %v", c, err)
	}
	for doc, want := range map[string]struct {
		status int
		text   string
	}{
		`{"suit": "quick"}`: {statusBadJSON, `unknown field "suit"`},
		`{"trials": "3"}`:   {statusBadJSON, `key "trials": got a JSON string, expected integer`},
		`{"top_p": 0}`:      {statusInvalidArgument, "f: --top-p: 0 is out of range: expected a value in (0, 1] (1 = disabled)"},
		// the rule the command line applies to its flags
		`{"suite": "quick", "prompt_tokens": 8}`:     {statusInvalidArgument, "--prompt-tokens sets the ad-hoc run and cannot be combined with --suite"},
		`{"configs": ["short"], "temperature": 0.5}`: {statusInvalidArgument, "--temperature sets the sampling of the ad-hoc run and of sweep points"},
		`{"threads": 100000000}`:                     {statusInvalidArgument, "--threads: 100000000 is too many"},
		`{"temperature": 1e308}`:                     {statusInvalidArgument, "--temperature: 1e+308"},
		`[1]`:                                        {statusBadJSON, "not a JSON object"},
		`{"suite": "quick"}x`:                        {statusBadJSON, "unexpected data after the JSON object"},
	} {
		_, err := decodeRunConfig(doc, "f")
		if err == nil || statusOf(err) != want.status || !strings.Contains(err.Error(), want.text) {
			t.Errorf("decodeRunConfig(%s): status %d, error %v; want status %d and %q", doc, statusOf(err), err, want.status, want.text)
		}
	}
}
