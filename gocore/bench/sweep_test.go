package bench

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/genbench/genbench/gocore/sampling"
)

func TestSweepKeysAndConfigs(t *testing.T) {
	keys := SweepKeys([]int{64, 256, 1024}, []int{128, 512})
	want := []string{"p64-g128", "p64-g512", "p256-g128", "p256-g512", "p1024-g128", "p1024-g512"}
	if !slices.Equal(keys, want) {
		t.Errorf("keys %q, want %q", keys, want)
	}
	c, err := LookupConfig("p1024-g512")
	if err != nil || c.PromptTokens != 1024 || c.GenTokens != 512 || !c.Sampling.Greedy() || c.Sampling.TopK != 0 || c.Sampling.TopP != 1 {
		t.Errorf("p1024-g512 = %+v, %v", c, err)
	}
	for _, bad := range []string{"p0-g5", "p-g5", "p5-g", "p05-g5", "x5-g5", "p5-g5x", "p5-g99999999"} {
		if _, err := LookupConfig(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	// A sweep is a selection of configs: one report, suite "custom".
	cfg := DefaultRunConfig()
	cfg.Configs = keys[:2]
	plan, err := cfg.Plan()
	if err != nil || len(plan) != 2 || plan[1].GenTokens != 512 || cfg.SuiteName() != "custom" {
		t.Errorf("plan %+v, %v, suite %s", plan, err, cfg.SuiteName())
	}
}

func TestParseTokenList(t *testing.T) {
	l, err := ParseTokenList("--prompt-tokens", "64, 256,1024")
	if err != nil || !slices.Equal(l, []int{64, 256, 1024}) {
		t.Errorf("%v %v", l, err)
	}
	for in, msg := range map[string]string{"64,x": `"x" is not a token count`, "64,64": "listed twice", "0": "expected a positive number", "64,": `"" is not a token count`} {
		if _, err := ParseTokenList("--prompt-tokens", in); err == nil || !strings.Contains(err.Error(), msg) || !strings.HasPrefix(err.Error(), "--prompt-tokens: ") {
			t.Errorf("%q: %v, want %q", in, err, msg)
		}
	}
}

// Sweep points take the run's sampling flags: the plan's configs carry
// them (the key stays pN-gM, the purpose names them), and a run records
// them per config with the summary's label; without any they are greedy.
func TestSweepPointsCarryTheSamplingFlags(t *testing.T) {
	cfg := DefaultRunConfig()
	cfg.Configs = SweepKeys([]int{16, 32}, []int{8})
	cfg.Temperature, cfg.TopK, cfg.TopP, cfg.RepetitionPenalty = 0.8, 50, 0.9, 1.1
	plan, err := cfg.Plan()
	if err != nil {
		t.Fatal(err)
	}
	want := sampling.Params{Temperature: 0.8, TopK: 50, TopP: 0.9, RepetitionPenalty: 1.1}
	for i, c := range plan {
		if c.Key != cfg.Configs[i] || c.Sampling != want || c.Purpose != "Sweep point (temp=0.8 top_k=50 top_p=0.9 rep=1.1)" {
			t.Errorf("plan[%d] = %+v, want key %s, sampling %+v", i, c, cfg.Configs[i], want)
		}
	}
	if plan[0].PromptTokens != 16 || plan[1].PromptTokens != 32 || plan[1].GenTokens != 8 {
		t.Errorf("lengths: %+v", plan)
	}
	// The sampling flags are accepted with sweep points only.
	given := func(fields ...string) func(string) bool {
		return func(f string) bool { return slices.Contains(fields, f) }
	}
	if err := cfg.ValidateGiven(given("configs", "temperature", "top_k", "top_p", "repetition_penalty")); err != nil {
		t.Errorf("sampling flags with sweep points: %v", err)
	}
	mixed := cfg
	mixed.Configs = []string{"short", "p16-g8"}
	if err := mixed.ValidateGiven(given("configs", "temperature")); err == nil ||
		!strings.Contains(err.Error(), "--temperature sets the sampling of the ad-hoc run and of sweep points (pN-gM) and cannot be combined with --suite or named configs") {
		t.Errorf("sampling flag with a named config: %v", err)
	}
	suite := cfg
	suite.Configs, suite.Suite = nil, "quick"
	if err := suite.ValidateGiven(given("suite", "top_k")); err == nil || !strings.Contains(err.Error(), "--top-k sets the sampling") {
		t.Errorf("sampling flag with a suite: %v", err)
	}
	if err := cfg.ValidateGiven(given("configs", "prompt_tokens")); err == nil || !strings.Contains(err.Error(), "--prompt-tokens sets the ad-hoc run") {
		t.Errorf("--prompt-tokens with sweep points: %v", err)
	}

	// A run: each config records the sampling it ran with.
	g := &fakeGen{t: t}
	cfg.Warmup, cfg.Trials = 0, 1
	rep, err := Run(context.Background(), g, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range rep.Configs {
		if c.Key != cfg.Configs[i] || c.Sampling.Temperature != 0.8 || c.Sampling.TopK != 50 || c.Sampling.TopP != 0.9 ||
			c.Sampling.RepetitionPenalty != 1.1 || c.Sampling.Seed != 42 || c.SamplingLabel != "temp=0.8 top_k=50 top_p=0.9 rep=1.1" {
			t.Errorf("config %d: %s %+v %q", i, c.Key, c.Sampling, c.SamplingLabel)
		}
	}
	if got := g.requests[0].Sampling; got.Temperature != 0.8 || got.TopK != 50 || got.RepetitionPenalty != 1.1 {
		t.Errorf("the engine was asked for %+v", got)
	}
	_, _, rows := parseMarkdownTable(t, Summary(rep, FormatMarkdown))
	if rows[0][0] != "p16-g8" || rows[0][3] != "temp=0.8 top_k=50 top_p=0.9 rep=1.1" {
		t.Errorf("summary row %q", rows[0])
	}

	// Without sampling flags: greedy, as the named greedy configs.
	def := DefaultRunConfig()
	def.Configs = []string{"p16-g8"}
	plan, _ = def.Plan()
	if plan[0].Sampling != greedy || plan[0].Purpose != "Sweep point (greedy)" {
		t.Errorf("default sweep point %+v", plan[0])
	}

	// compare says when a key ran with other parameters.
	greedyRep, err := Run(context.Background(), &fakeGen{t: t}, func() RunConfig { c := def; c.Configs = cfg.Configs; c.Warmup, c.Trials = 0, 1; return c }(), nil)
	if err != nil {
		t.Fatal(err)
	}
	out, _ := CompareWith([]*Report{greedyRep, rep}, CompareOptions{})
	if !strings.Contains(out, "config p16-g8 differs: [2] 16+8 tokens, temp=0.8 top_k=50 top_p=0.9 rep=1.1, [1] 16+8 tokens, greedy") {
		t.Errorf("compare does not note the sampling:\n%s", out)
	}
}
