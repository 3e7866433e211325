package main

import (
	"encoding/json"
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/genbench/genbench/gocore/bench"
	"github.com/genbench/genbench/gocore/sampling"
)

func TestExpandRuns(t *testing.T) {
	runs, err := expandRuns([]string{"--model", "tiny-llama,tiny-qwen3", "--suite", "quick", "--model=tiny-gemma3"})
	want := [][]string{
		{"--suite", "quick", "--model", "tiny-llama"},
		{"--suite", "quick", "--model", "tiny-qwen3"},
		{"--suite", "quick", "--model", "tiny-gemma3"},
	}
	if err != nil || !reflect.DeepEqual(runs, want) {
		t.Errorf("models: %q %v", runs, err)
	}
	runs, err = expandRuns([]string{"--prompt-tokens", "64,256", "--max-new-tokens=16", "--trials", "1"})
	if err != nil || !reflect.DeepEqual(runs, [][]string{{"--trials", "1", "--configs", "p64-g16,p256-g16"}}) {
		t.Errorf("sweep: %q %v", runs, err)
	}
	// Several models on one device: the bandwidth is measured again once.
	runs, err = expandRuns([]string{"--remeasure-bandwidth", "--model", "tiny-llama,tiny-qwen3", "--remeasure-bandwidth=true", "--trials", "1"})
	want = [][]string{
		{"--remeasure-bandwidth", "--remeasure-bandwidth=true", "--trials", "1", "--model", "tiny-llama"},
		{"--trials", "1", "--model", "tiny-qwen3"},
	}
	if err != nil || !reflect.DeepEqual(runs, want) {
		t.Errorf("remeasure with two models: %q %v", runs, err)
	}
	// Sampling flags pass through: they set the sweep points' sampling.
	runs, err = expandRuns([]string{"--prompt-tokens", "64,256", "--temperature", "0.8", "--top-k=50", "--max-new-tokens", "16"})
	if err != nil || !reflect.DeepEqual(runs, [][]string{{"--temperature", "0.8", "--top-k=50", "--configs", "p64-g16,p256-g16"}}) {
		t.Errorf("sweep with sampling: %q %v", runs, err)
	}
	if cfg, _, err := parseBench(runs[0]); err != nil || cfg.Temperature != 0.8 || cfg.TopK != 50 {
		t.Errorf("sweep with sampling: %+v %v", cfg, err)
	}
	if _, _, err := parseBench([]string{"--configs", "short,p64-g16", "--temperature", "0.8"}); err == nil || !strings.Contains(err.Error(), "named configs") {
		t.Errorf("--temperature with a named config: %v", err)
	}
	// Without commas the flags pass through unchanged.
	runs, err = expandRuns([]string{"--prompt-tokens", "64", "--max-new-tokens", "16"})
	if err != nil || !reflect.DeepEqual(runs, [][]string{{"--prompt-tokens", "64", "--max-new-tokens", "16"}}) {
		t.Errorf("no sweep: %q %v", runs, err)
	}
	if _, err := expandRuns([]string{"--prompt-tokens", "64,256", "--suite", "quick"}); err == nil || !strings.Contains(err.Error(), "--suite cannot be combined with a sweep") {
		t.Errorf("sweep with suite: %v", err)
	}
	if _, err := expandRuns([]string{"--max-new-tokens", "16,16"}); err == nil || !strings.Contains(err.Error(), "listed twice") {
		t.Errorf("duplicate: %v", err)
	}
	cfg, _, err := parseBench(runs[0])
	if err != nil || cfg.PromptTokens != 64 {
		t.Errorf("parse: %+v %v", cfg, err)
	}
}

// Two models and a sweep in one command: one report per model, each with
// the sweep's configs, both recorded in the log under their own heading.
func TestTwoModelsSweepThroughTheBinary(t *testing.T) {
	dir := t.TempDir()
	logPath := dir + "/LOG.md"
	r := genbench(t, "", "--model", "tiny-llama,tiny-qwen3", "--prompt-tokens", "16,32", "--max-new-tokens", "8",
		"--warmup", "0", "--trials", "1", "--output-dir", dir, "--record", logPath, "--format", "md")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	for _, want := range []string{"model:  tiny-llama", "model:  tiny-qwen3", "| p16-g8 ", "| p32-g8 ", "(added)"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
		}
	}
	if strings.Count(r.stdout, "Report saved to") != 2 {
		t.Errorf("want two reports:\n%s", r.stdout)
	}
	log := readFile(t, logPath)
	for _, want := range []string{"## tiny-llama", "## tiny-qwen3", "p16-g8", "p32-g8"} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
}

// A sweep with sampling flags through the binary: the configs pN-gM of
// the product, each sampled with the flags, shown in the summary's
// sampling column.
func TestSampledSweepThroughTheBinary(t *testing.T) {
	r := genbench(t, "", "--prompt-tokens", "16,32", "--max-new-tokens", "8", "--temperature", "0.8", "--top-k", "50",
		"--top-p", "0.9", "--repetition-penalty", "1.1", "--warmup", "0", "--trials", "1", "--no-save", "--json")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	var rep bench.Report
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("stdout is not the report: %v\n%s", err, r.stdout)
	}
	want := sampling.Params{Temperature: 0.8, TopK: 50, TopP: 0.9, RepetitionPenalty: 1.1, Seed: 42}
	if len(rep.Configs) != 2 || rep.Configs[0].Key != "p16-g8" || rep.Configs[1].Key != "p32-g8" {
		t.Fatalf("configs %+v", rep.Configs)
	}
	for _, c := range rep.Configs {
		if c.Sampling != want || c.SamplingLabel != "temp=0.8 top_k=50 top_p=0.9 rep=1.1" || c.GenTokens != 8 {
			t.Errorf("%s: %+v %q", c.Key, c.Sampling, c.SamplingLabel)
		}
	}
	if !regexp.MustCompile(`│ p16-g8 +│ +16 │ +8 │ temp=0\.8 top_k=50 top_p=0\.9 rep=1\.1 │`).MatchString(r.stderr) {
		t.Errorf("summary lacks the sampling column:\n%s", r.stderr)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
