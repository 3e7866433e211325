package bench

import (
	"slices"
	"strings"
	"testing"
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
