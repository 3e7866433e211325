package bench

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/genbench/genbench/gocore/engine"
	"github.com/genbench/genbench/gocore/sampling"
)

// Drivers and engines a report can name.
const (
	DriverGenbench = "genbench"            // the native Go driver
	DriverPython   = "bench_generation.py" // the Python driver
	EngineGenbench = "genbench"            // this engine
	EngineHF       = "hf"                  // Hugging Face transformers (Python driver only)
)

// MaxTokens bounds --prompt-tokens and --max-new-tokens (far above the
// context of any supported model; the model's own limit is checked when it
// is loaded).
const MaxTokens = 1 << 20

// AdhocKey is the config key of a run built from the individual flags
// (no --suite, no --configs).
const AdhocKey = "adhoc"

// RunConfig is everything a benchmark run is asked to do. Its JSON names
// are the command-line flag names with underscores; the C ABI takes it as a
// JSON document (fields left out keep DefaultRunConfig's values).
type RunConfig struct {
	// Suite is "quick", "standard", "full", or "" for a run built from
	// Configs or, when that is empty too, from the individual flags.
	Suite string `json:"suite"`
	// Configs selects configs by key: from the suite when one is given,
	// else from all seven.
	Configs []string `json:"configs"`
	// Model is a local directory, a Hugging Face id, a built-in spec name,
	// or "" for the engine's default (engine.DefaultModel).
	Model string `json:"model"`
	// Revision is the Hugging Face revision (branch, tag or commit hash)
	// of a model given by id; "" = main.
	Revision string `json:"revision"`
	// RandomWeights instantiates the model's spec with synthetic weights.
	RandomWeights bool   `json:"random_weights"`
	Device        string `json:"device"`
	DType         string `json:"dtype"`
	// Threads bounds CPU worker goroutines (0 = all cores).
	Threads int `json:"threads"`

	// The ad-hoc run (used only when neither Suite nor Configs is set);
	// the sampling fields also set the sampling of sweep points (pN-gM).
	PromptTokens      int     `json:"prompt_tokens"`
	MaxNewTokens      int     `json:"max_new_tokens"`
	Temperature       float64 `json:"temperature"`
	TopK              int     `json:"top_k"`
	TopP              float64 `json:"top_p"`
	RepetitionPenalty float64 `json:"repetition_penalty"`

	// Seed seeds sampling (every trial uses the same seed) and the prompt
	// ids of a model without a tokenizer.
	Seed   uint64 `json:"seed"`
	Warmup int    `json:"warmup"`
	Trials int    `json:"trials"`
	// RemeasureBandwidth measures the device's memory bandwidth again
	// instead of reusing the cached figure, and replaces it in the cache.
	RemeasureBandwidth bool `json:"remeasure_bandwidth"`

	// Engine names the engine that runs the configs: "genbench", or "hf"
	// (Hugging Face transformers, only in the Python driver).
	Engine string `json:"engine"`

	// Output handling (used by the drivers, not by Run).
	OutputDir string `json:"output_dir"`
	NoSave    bool   `json:"no_save"`
	JSON      bool   `json:"json"`
	Quiet     bool   `json:"quiet"`
	// Format is the summary's format (Formats: table, md, csv, json, jsonl).
	Format string `json:"format"`
	// Progress says when to show progress on stderr: auto (on a
	// terminal: event lines and a live line with ETA), always (also when
	// stderr is a file or pipe: event lines and a plain live line every
	// 10 s), never.
	Progress string `json:"progress"`
	// Record is the markdown benchmark log to add the run's row to ("" =
	// none; DefaultLogPath is resolved against the repository root).
	Record string `json:"record"`

	// Driver names the program that ran the benchmark ("genbench" or
	// "bench_generation.py"); it is not a flag.
	Driver string `json:"driver"`
}

// DefaultRunConfig returns the defaults of BENCH.md: seed 42, bfloat16,
// 2 warm-up runs, 3 timed trials, automatic device choice; an ad-hoc run is
// 256 prompt tokens and 256 new tokens, greedy (top-k 50 and top-p 0.9 take
// effect once a temperature is given).
func DefaultRunConfig() RunConfig {
	return RunConfig{
		Suite:             "",
		Configs:           []string{},
		Model:             "",
		Device:            "auto",
		DType:             "bfloat16",
		PromptTokens:      256,
		MaxNewTokens:      256,
		Temperature:       0,
		TopK:              50,
		TopP:              0.9,
		RepetitionPenalty: 1,
		Seed:              42,
		Warmup:            2,
		Trials:            3,
		Engine:            EngineGenbench,
		Format:            FormatTable,
		Progress:          ProgressAuto,
		Driver:            DriverGenbench,
	}
}

// Validate checks every field and returns one error naming each bad value
// and what was expected.
func (c *RunConfig) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if c.Suite != "" {
		if _, err := SuiteKeys(c.Suite); err != nil {
			bad("--suite: %w", err)
		}
	}
	seen := map[string]bool{}
	for _, k := range c.Configs {
		if _, err := LookupConfig(k); err != nil {
			bad("--configs: %w", err)
			continue
		}
		if seen[k] {
			bad("--configs: %q is listed twice", k)
		}
		seen[k] = true
	}
	if c.Suite != "" && len(errs) == 0 {
		keys, _ := SuiteKeys(c.Suite)
		for _, k := range c.Configs {
			if !slices.Contains(keys, k) {
				bad("--configs: %q is not in suite %q (it has %s); drop --suite to choose from all configs", k, c.Suite, strings.Join(keys, ", "))
			}
		}
	}
	if err := c.EngineOptions().ValidateAs(FlagName); err != nil {
		errs = append(errs, err)
	}
	if err := CheckTokenCount(c.PromptTokens); err != nil {
		bad("--prompt-tokens: %w", err)
	}
	if err := CheckTokenCount(c.MaxNewTokens); err != nil {
		bad("--max-new-tokens: %w", err)
	}
	if err := sampling.CheckValues(c.Temperature, c.TopK, c.TopP, c.RepetitionPenalty, FlagName); err != nil {
		errs = append(errs, err)
	}
	if c.Warmup < 0 {
		bad("--warmup: %d is negative: expected 0 or more warm-up runs", c.Warmup)
	}
	if c.Trials < 1 {
		bad("--trials: %d: expected at least 1 timed trial", c.Trials)
	}
	if c.Engine != EngineGenbench && c.Engine != EngineHF {
		bad("--engine: unknown engine %q: expected %s or %s", c.Engine, EngineGenbench, EngineHF)
	}
	if err := ValidateFormat(c.Format); err != nil {
		bad("--format: %w", err)
	}
	if !slices.Contains(ProgressModes(), c.Progress) {
		bad("--progress: unknown mode %q%s: expected auto, always or never", c.Progress, DidYouMean(c.Progress, ProgressModes()))
	}
	if c.Driver == "" {
		bad("driver: empty: expected the name of the program running the benchmark")
	}
	if c.NoSave && c.OutputDir != "" {
		bad("--output-dir: %q is not used with --no-save: give only one of them", c.OutputDir)
	}
	return errors.Join(errs...)
}

// CheckGiven refuses ad-hoc fields (FlagSpec.Adhoc) given together with a
// suite or a config list, except the sampling flags (FlagSpec.Sampling)
// with a list of sweep points only, whose sampling they set. given reports
// whether a field (JSON name) was set explicitly (a flag on the command
// line, a key in a JSON configuration), so every front end applies the
// same rule.
func (c *RunConfig) CheckGiven(given func(field string) bool) error {
	if c.Suite == "" && len(c.Configs) == 0 {
		return nil
	}
	sweep := c.onlySweepPoints()
	for _, f := range FlagSpecs() {
		if !f.Adhoc || !given(f.Field) || (f.Sampling && sweep) {
			continue
		}
		if f.Sampling {
			return fmt.Errorf("--%s sets the sampling of the ad-hoc run and of sweep points (pN-gM) and cannot be combined with --suite or named configs (their sampling is fixed)", f.Name)
		}
		return fmt.Errorf("--%s sets the ad-hoc run and cannot be combined with --suite or --configs (their configs fix prompt, length and sampling)", f.Name)
	}
	return nil
}

// ValidateGiven is Validate followed by CheckGiven: the checks every front
// end (command line, C ABI, Python) applies to a run configuration.
func (c *RunConfig) ValidateGiven(given func(field string) bool) error {
	if err := c.Validate(); err != nil {
		return err
	}
	return c.CheckGiven(given)
}

// JSONGiven reports the top-level keys of a JSON object, as CheckGiven's
// given (nothing for a document that is not an object).
func JSONGiven(data []byte) func(field string) bool {
	var keys map[string]json.RawMessage
	if json.Unmarshal(data, &keys) != nil {
		keys = nil
	}
	return func(f string) bool { _, ok := keys[f]; return ok }
}

// CheckTokenCount checks a prompt or generation length: 1 to MaxTokens.
func CheckTokenCount(n int) error {
	if n < 1 || n > MaxTokens {
		return fmt.Errorf("%d: expected a positive number of tokens, at most %d", n, MaxTokens)
	}
	return nil
}

// FlagName is the command-line flag of a RunConfig (or engine option,
// or sampling parameter) JSON field: "top_p" is --top-p.
func FlagName(field string) string { return "--" + strings.ReplaceAll(field, "_", "-") }

// SuiteName names the run for reports and file names: the suite tier,
// "custom" for a selection of configs, or "adhoc".
func (c *RunConfig) SuiteName() string {
	switch {
	case c.Suite != "":
		return c.Suite
	case len(c.Configs) > 0:
		return "custom"
	}
	return AdhocKey
}

// Plan returns the configs the run executes, in order.
func (c *RunConfig) Plan() ([]Config, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	var keys []string
	switch {
	case c.Suite != "":
		keys, _ = SuiteKeys(c.Suite)
		if len(c.Configs) > 0 {
			keys = filter(keys, c.Configs)
		}
	case len(c.Configs) > 0:
		keys = filter(ConfigKeys(), c.Configs)
		for _, k := range c.Configs { // sweep points, in the order given
			if _, ok := sweepConfig(k); ok {
				keys = append(keys, k)
			}
		}
	default:
		return []Config{{
			Key:          AdhocKey,
			PromptTokens: c.PromptTokens,
			GenTokens:    c.MaxNewTokens,
			Sampling:     c.adhocSampling(),
			Purpose:      "Ad-hoc run from the individual flags",
		}}, nil
	}
	plan := make([]Config, len(keys))
	for i, k := range keys {
		plan[i], _ = LookupConfig(k)
		if IsSweepKey(k) {
			// A sweep point is sampled as the sampling flags say.
			plan[i].Sampling = c.adhocSampling()
			plan[i].Purpose = "Sweep point (" + SamplingLabel(plan[i].Sampling) + ")"
		}
	}
	return plan, nil
}

// onlySweepPoints reports whether the run is a list of sweep points (no
// suite, every config a pN-gM key): the sampling flags then set their
// sampling.
func (c *RunConfig) onlySweepPoints() bool {
	if c.Suite != "" || len(c.Configs) == 0 {
		return false
	}
	for _, k := range c.Configs {
		if !IsSweepKey(k) {
			return false
		}
	}
	return true
}

// adhocSampling converts the individual sampling flags.
func (c *RunConfig) adhocSampling() sampling.Params {
	p := sampling.Params{
		Temperature:       float32(c.Temperature),
		TopK:              c.TopK,
		TopP:              float32(c.TopP),
		RepetitionPenalty: float32(c.RepetitionPenalty),
	}
	if p.Greedy() {
		// Greedy ignores the filters; record them as disabled.
		p.TopK, p.TopP = 0, 1
	}
	return p
}

// EngineOptions maps the run configuration to the engine's load options,
// so that every driver loads the same model the same way.
func (c *RunConfig) EngineOptions() engine.Options {
	return engine.Options{
		Model:         c.Model,
		Revision:      c.Revision,
		Device:        c.Device,
		DType:         c.DType,
		RandomWeights: c.RandomWeights,
		Threads:       c.Threads,
	}
}

// filter keeps the keys that are in sel, in the order of keys.
func filter(keys, sel []string) []string {
	var out []string
	for _, k := range keys {
		if slices.Contains(sel, k) {
			out = append(out, k)
		}
	}
	return out
}
