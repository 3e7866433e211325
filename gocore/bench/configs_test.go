package bench

import (
	"reflect"
	"strings"
	"testing"

	"github.com/genbench/genbench/gocore/sampling"
)

// The config table of BENCH.md, written out by hand.
func TestConfigsMatchBenchMD(t *testing.T) {
	type row struct {
		key         string
		prompt, gen int
		temp        float32
		topK        int
		topP, rep   float32
		label       string
	}
	want := []row{
		{"short", 64, 64, 0, 0, 1, 1, "greedy"},
		{"medium", 256, 256, 0, 0, 1, 1, "greedy"},
		{"prefill", 1024, 64, 0, 0, 1, 1, "greedy"},
		{"decode", 64, 512, 0, 0, 1, 1, "greedy"},
		{"long", 1024, 512, 0, 0, 1, 1, "greedy"},
		{"sampled", 256, 256, 0.8, 50, 0.9, 1, "temp=0.8 top_k=50 top_p=0.9"},
		{"full-pipe", 256, 256, 0.8, 50, 0.9, 1.1, "temp=0.8 top_k=50 top_p=0.9 rep=1.1"},
	}
	got := Configs()
	if len(got) != len(want) {
		t.Fatalf("%d configs, want %d", len(got), len(want))
	}
	for i, w := range want {
		c := got[i]
		if c.Key != w.key || c.PromptTokens != w.prompt || c.GenTokens != w.gen {
			t.Errorf("config %d = %s %d/%d, want %s %d/%d", i, c.Key, c.PromptTokens, c.GenTokens, w.key, w.prompt, w.gen)
		}
		wp := sampling.Params{Temperature: w.temp, TopK: w.topK, TopP: w.topP, RepetitionPenalty: w.rep}
		if c.Sampling != wp {
			t.Errorf("%s sampling = %+v, want %+v", c.Key, c.Sampling, wp)
		}
		if l := SamplingLabel(c.Sampling); l != w.label {
			t.Errorf("%s label = %q, want %q", c.Key, l, w.label)
		}
		if c.Purpose == "" {
			t.Errorf("%s has no purpose", c.Key)
		}
	}
}

func TestSuiteTiers(t *testing.T) {
	want := map[string][]string{
		"quick":    {"short", "medium"},
		"standard": {"short", "medium", "prefill", "decode", "sampled"},
		"full":     {"short", "medium", "prefill", "decode", "long", "sampled", "full-pipe"},
	}
	if got := Suites(); !reflect.DeepEqual(got, []string{"quick", "standard", "full"}) {
		t.Errorf("Suites() = %v", got)
	}
	for suite, keys := range want {
		got, err := SuiteKeys(suite)
		if err != nil || !reflect.DeepEqual(got, keys) {
			t.Errorf("SuiteKeys(%q) = %v, %v; want %v", suite, got, err, keys)
		}
	}
	_, err := SuiteKeys("huge")
	if err == nil || !strings.Contains(err.Error(), `unknown suite "huge"`) || !strings.Contains(err.Error(), "quick, standard, full") {
		t.Errorf("SuiteKeys(huge) error = %v", err)
	}
}

func TestSamplingLabel(t *testing.T) {
	cases := []struct {
		p    sampling.Params
		want string
	}{
		{sampling.Params{}, "greedy"},
		{sampling.Params{RepetitionPenalty: 1.3}, "greedy rep=1.3"},
		{sampling.Params{Temperature: 1, TopP: 1}, "temp=1"},
		{sampling.Params{Temperature: 0.7, TopK: 40}, "temp=0.7 top_k=40"},
		{sampling.Params{Temperature: 0.5, TopP: 0.95, RepetitionPenalty: 1}, "temp=0.5 top_p=0.95"},
	}
	for _, c := range cases {
		if got := SamplingLabel(c.p); got != c.want {
			t.Errorf("SamplingLabel(%+v) = %q, want %q", c.p, got, c.want)
		}
	}
}
