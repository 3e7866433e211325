// Package bench is the benchmark runner shared by every driver (the genbench
// CLI and, through the C ABI, benchmarks/bench_generation.py): the seven
// benchmark configs and three suite tiers of BENCH.md, the run configuration
// and its flags, the timed runs, the JSON report with its schema, the summary
// table and the comparison of reports.
package bench

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/genbench/genbench/gocore/sampling"
)

// Config is one benchmark configuration: a prompt length, a number of
// generated tokens and the sampling parameters.
type Config struct {
	Key          string `json:"key"`
	PromptTokens int    `json:"prompt_tokens"`
	GenTokens    int    `json:"gen_tokens"`
	// Sampling holds every parameter but the seed, which comes from the
	// run configuration.
	Sampling sampling.Params `json:"sampling"`
	Purpose  string          `json:"purpose"`
}

// greedy is the sampling of the greedy configs: argmax, no penalty.
var greedy = sampling.Params{Temperature: 0, TopK: 0, TopP: 1, RepetitionPenalty: 1}

// sampled is the sampling of the "sampled" config.
var sampled = sampling.Params{Temperature: 0.8, TopK: 50, TopP: 0.9, RepetitionPenalty: 1}

// fullPipe is the sampling of the "full-pipe" config (every transform active).
var fullPipe = sampling.Params{Temperature: 0.8, TopK: 50, TopP: 0.9, RepetitionPenalty: 1.1}

// Configs returns the seven benchmark configs of BENCH.md, in their order.
func Configs() []Config {
	return []Config{
		{Key: "short", PromptTokens: 64, GenTokens: 64, Sampling: greedy, Purpose: "Quick Q&A, baseline latency"},
		{Key: "medium", PromptTokens: 256, GenTokens: 256, Sampling: greedy, Purpose: "Standard chat (headline number)"},
		{Key: "prefill", PromptTokens: 1024, GenTokens: 64, Sampling: greedy, Purpose: "Isolates prefill performance"},
		{Key: "decode", PromptTokens: 64, GenTokens: 512, Sampling: greedy, Purpose: "Isolates decode performance"},
		{Key: "long", PromptTokens: 1024, GenTokens: 512, Sampling: greedy, Purpose: "Stress test, longest sequence"},
		{Key: "sampled", PromptTokens: 256, GenTokens: 256, Sampling: sampled, Purpose: "Sampling transform overhead"},
		{Key: "full-pipe", PromptTokens: 256, GenTokens: 256, Sampling: fullPipe, Purpose: "All transforms active"},
	}
}

// ConfigKeys returns the keys of Configs, in order.
func ConfigKeys() []string {
	cs := Configs()
	keys := make([]string, len(cs))
	for i, c := range cs {
		keys[i] = c.Key
	}
	return keys
}

// Suites returns the names of the suite tiers, smallest first.
func Suites() []string { return []string{"quick", "standard", "full"} }

// SuiteKeys returns the config keys of a suite tier, in the order they run.
func SuiteKeys(suite string) ([]string, error) {
	switch suite {
	case "quick":
		return []string{"short", "medium"}, nil
	case "standard":
		return []string{"short", "medium", "prefill", "decode", "sampled"}, nil
	case "full":
		return ConfigKeys(), nil
	}
	return nil, fmt.Errorf("unknown suite %q%s: expected one of %s", suite, DidYouMean(suite, Suites()), strings.Join(Suites(), ", "))
}

// LookupConfig returns the config with the given key.
func LookupConfig(key string) (Config, error) {
	for _, c := range Configs() {
		if c.Key == key {
			return c, nil
		}
	}
	if c, ok := sweepConfig(key); ok {
		return c, nil
	}
	return Config{}, fmt.Errorf("unknown config %q%s: expected one of %s, or pN-gM (a sweep point: N prompt tokens, M generated)", key, DidYouMean(key, ConfigKeys()), strings.Join(ConfigKeys(), ", "))
}

// SamplingLabel describes sampling parameters the way the summary table
// shows them: "greedy", or e.g. "temp=0.8 top_k=50 top_p=0.9 rep=1.1".
// Parameters that are disabled are left out.
func SamplingLabel(p sampling.Params) string {
	var parts []string
	if p.Greedy() {
		parts = append(parts, "greedy")
	} else {
		parts = append(parts, "temp="+fmtFloat(float64(p.Temperature)))
		if p.TopK > 0 {
			parts = append(parts, "top_k="+strconv.Itoa(p.TopK))
		}
		if p.TopP > 0 && p.TopP < 1 {
			parts = append(parts, "top_p="+fmtFloat(float64(p.TopP)))
		}
	}
	if p.RepetitionPenalty != 0 && p.RepetitionPenalty != 1 {
		parts = append(parts, "rep="+fmtFloat(float64(p.RepetitionPenalty)))
	}
	return strings.Join(parts, " ")
}

// fmtFloat prints a float32-derived value with the fewest digits that
// round-trip through float32 (0.8, not 0.800000011920929).
func fmtFloat(v float64) string {
	return strconv.FormatFloat(float64(float32(v)), 'g', -1, 32)
}
