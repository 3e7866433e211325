package bench

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
)

// Flag value types of FlagSpec.Type.
const (
	FlagString  = "string"  // a string
	FlagInt     = "int"     // an integer
	FlagFloat   = "float"   // a floating-point number
	FlagBool    = "bool"    // a switch (no value)
	FlagStrings = "strings" // a comma-separated list of strings
)

// FlagSpec describes one benchmark flag. Every driver builds its flags from
// FlagSpecs, so names, types and defaults are the same everywhere.
type FlagSpec struct {
	Name    string `json:"name"`    // the flag, without the leading "--"
	Field   string `json:"field"`   // the RunConfig JSON field it sets
	Type    string `json:"type"`    // FlagString, FlagInt, FlagFloat, FlagBool or FlagStrings
	Default any    `json:"default"` // DefaultRunConfig's value
	Help    string `json:"help"`
	// Adhoc marks a flag that only shapes the ad-hoc run: with --suite or
	// --configs it would be silently ignored, so drivers refuse it there.
	Adhoc bool `json:"adhoc"`
	// Sampling marks an ad-hoc flag that is a sampling parameter: it also
	// sets the sampling of sweep points (pN-gM), so drivers accept it with
	// --configs listing only sweep points.
	Sampling bool `json:"sampling"`
	// NoValue, when set, is the value the flag takes when it is given
	// without one ("--record" alone means --record=benchmarks/LOG.md).
	NoValue any `json:"no_value,omitempty"`
	// Choices, when set, are the only values the flag accepts.
	Choices []string `json:"choices,omitempty"`
}

// flagTable lists the flags in the order help shows them; defaults come
// from DefaultRunConfig.
var flagTable = []struct {
	name, typ, help string
	adhoc           bool
}{
	{"suite", FlagString, "suite tier to run: quick (short, medium), standard (quick + prefill, decode, sampled) or full (all seven configs); without it, one ad-hoc run from --prompt-tokens, --max-new-tokens and the sampling flags", false},
	{"configs", FlagStrings, "run only these configs (comma-separated keys: short, medium, prefill, decode, long, sampled, full-pipe), from the suite if one is given", false},
	{"model", FlagString, "model: a local directory, a Hugging Face id (e.g. meta-llama/Llama-3.2-1B-Instruct) or a built-in spec name; empty = the embedded tiny-llama with synthetic weights", false},
	{"revision", FlagString, "Hugging Face revision (branch, tag or commit hash) of a model given by id; empty = main", false},
	{"random-weights", FlagBool, "use seeded synthetic weights of the model's architecture instead of reading a checkpoint (--model then names a built-in spec, e.g. meta-llama/Llama-3.2-1B-Instruct or tiny-qwen3)", false},
	{"device", FlagString, "device: auto (the first GPU if one is usable, else the CPU), cpu, cuda or cuda:N", false},
	{"dtype", FlagString, "compute dtype (bfloat16 is the only one supported)", false},
	{"threads", FlagInt, "CPU worker threads (0 = all cores); a comma list (e.g. 1,2,4) runs each model once per count, one report each", false},
	{"prompt-tokens", FlagInt, "prompt length in tokens of the ad-hoc run", true},
	{"max-new-tokens", FlagInt, "tokens to generate in the ad-hoc run (end-of-sequence never stops a benchmark run)", true},
	{"temperature", FlagFloat, "sampling temperature of the ad-hoc run and of sweep points (0 = greedy)", true},
	{"top-k", FlagInt, "top-k of the ad-hoc run and of sweep points when sampling (0 = disabled)", true},
	{"top-p", FlagFloat, "top-p of the ad-hoc run and of sweep points when sampling, in (0, 1] (1 = disabled)", true},
	{"repetition-penalty", FlagFloat, "repetition penalty of the ad-hoc run and of sweep points (1 = disabled)", true},
	{"seed", FlagInt, "seed of sampling and of the prompt ids of a model without a tokenizer", false},
	{"warmup", FlagInt, "warm-up runs per config (not timed)", false},
	{"trials", FlagInt, "timed trials per config (figures are the median, min and max over them)", false},
	{"remeasure-bandwidth", FlagBool, "measure the device's memory bandwidth (what the decode read bandwidth is a percentage of) again and replace the figure cached for it in genbench/bandwidth.json under the user cache directory; without it the figure measured on the device's first run is reused", false},
	{"engine", FlagString, "engine running the configs: genbench, or hf (Hugging Face transformers; bench_generation.py only)", false},
	{"output-dir", FlagString, "directory for the JSON report (empty = benchmarks/reports under the repository root, else ./benchmarks/reports)", false},
	{"no-save", FlagBool, "do not write the JSON report", false},
	{"json", FlagBool, "print the JSON report on stdout and nothing else there (the summary goes to stderr)", false},
	{"quiet", FlagBool, "no progress and no summary on stderr (errors are still printed)", false},
	{"format", FlagString, "summary format: table, md (paste-ready markdown), csv, json or jsonl (one row per config)", false},
	{"progress", FlagString, "progress on stderr: auto (on a terminal: a live line with tokens done and ETA), always (also in logs: plain lines), never", false},
	{"record", FlagString, "add (or update) the run's row in a markdown benchmark log; without a file name, benchmarks/LOG.md of the repository", false},
}

// samplingFields are the ad-hoc fields that are sampling parameters
// (FlagSpec.Sampling).
var samplingFields = []string{"temperature", "top_k", "top_p", "repetition_penalty"}

// FlagSpecs returns the benchmark flags with their types, defaults and help.
func FlagSpecs() []FlagSpec {
	def := DefaultRunConfig()
	out := make([]FlagSpec, len(flagTable))
	for i, f := range flagTable {
		field := strings.ReplaceAll(f.name, "-", "_")
		out[i] = FlagSpec{Name: f.name, Field: field, Type: f.typ, Help: f.help, Adhoc: f.adhoc}
		out[i].Sampling = f.adhoc && slices.Contains(samplingFields, field)
		switch f.name {
		case "record":
			out[i].NoValue = DefaultLogPath
		case "format":
			out[i].Choices = Formats()
		case "progress":
			out[i].Choices = ProgressModes()
		}
		// flagTable and RunConfig are kept in step by the tests.
		if v, ok := fieldByJSON(reflect.ValueOf(&def).Elem(), field); ok {
			out[i].Default = v.Interface()
		}
	}
	return out
}

// FieldPointer returns a pointer to the RunConfig field with the given JSON
// name (*string, *[]string, *bool, *int, *uint64 or *float64), so a driver
// can bind its flags to the fields FlagSpecs name.
func (c *RunConfig) FieldPointer(field string) (any, error) {
	v, ok := fieldByJSON(reflect.ValueOf(c).Elem(), field)
	if !ok {
		return nil, fmt.Errorf("RunConfig has no field %q", field)
	}
	return v.Addr().Interface(), nil
}

// fieldByJSON finds the struct field whose JSON name is name.
func fieldByJSON(v reflect.Value, name string) (reflect.Value, bool) {
	t := v.Type()
	for i := range t.NumField() {
		tag, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if tag == name {
			return v.Field(i), true
		}
	}
	return reflect.Value{}, false
}
