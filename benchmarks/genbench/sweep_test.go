package main

import (
	"os"
	"reflect"
	"strings"
	"testing"
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

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
