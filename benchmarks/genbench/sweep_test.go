package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
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
	// A --threads list runs each model once per thread count, model after
	// model; the bandwidth is measured again in the first model's runs.
	runs, err = expandRuns([]string{"--threads", "3", "--model", "tiny-llama,tiny-qwen3", "--threads=1, 2", "--remeasure-bandwidth", "--configs", "short"})
	want = [][]string{
		{"--remeasure-bandwidth", "--configs", "short", "--threads", "1", "--model", "tiny-llama"},
		{"--remeasure-bandwidth", "--configs", "short", "--threads", "2", "--model", "tiny-llama"},
		{"--configs", "short", "--threads", "1", "--model", "tiny-qwen3"},
		{"--configs", "short", "--threads", "2", "--model", "tiny-qwen3"},
	}
	if err != nil || !reflect.DeepEqual(runs, want) {
		t.Errorf("threads list: %q %v", runs, err)
	}
	runs, err = expandRuns([]string{"--threads", "0,1", "--prompt-tokens", "16,32"})
	want = [][]string{{"--configs", "p16-g256,p32-g256", "--threads", "0"}, {"--configs", "p16-g256,p32-g256", "--threads", "1"}}
	if err != nil || !reflect.DeepEqual(runs, want) {
		t.Errorf("threads list with a sweep, default model: %q %v", runs, err)
	}
	if runs, err := expandRuns([]string{"--threads", "2"}); err != nil || !reflect.DeepEqual(runs, [][]string{{"--threads", "2"}}) {
		t.Errorf("one thread count: %q %v", runs, err)
	}
	for _, bad := range []struct{ list, want string }{
		{"1,1", "--threads: 1 is listed twice"},
		{"1,two", `--threads: "two" is not a thread count`},
		{"1,-1", "--threads: -1 is negative"},
		{"1,100000", "--threads: 100000 is too many"},
	} {
		if _, err := expandRuns([]string{"--threads", bad.list}); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("--threads %s: %v, want %q", bad.list, err, bad.want)
		}
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

// A --threads list through the binary: one report per thread count, each
// run with its threads (the report's flags and its CPU's thread count), a
// log row each (the device cell names the threads), and a chart whose
// legend tells them apart by their threads.
func TestThreadsListThroughTheBinary(t *testing.T) {
	dir := t.TempDir()
	logPath := dir + "/LOG.md"
	r := genbench(t, "", "--model", "tiny-llama", "--threads", "1,2", "--configs", "short", "--warmup", "0", "--trials", "1",
		"--output-dir", dir, "--record", logPath, "--format", "md")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil || len(files) != 2 {
		t.Fatalf("reports %v %v:\n%s", files, err, r.stdout)
	}
	var threads []int
	for _, f := range files {
		rep, err := bench.LoadReport(f)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Flags.Threads != rep.Environment.Device.Threads {
			t.Errorf("%s: flags.threads %d, device threads %d", f, rep.Flags.Threads, rep.Environment.Device.Threads)
		}
		threads = append(threads, rep.Flags.Threads)
	}
	slices.Sort(threads)
	if !slices.Equal(threads, []int{1, 2}) {
		t.Errorf("threads of the reports %v, want [1 2]", threads)
	}
	if !regexp.MustCompile(`(?s)\(\d+ cores?, 1 thread\).*\(\d+ cores?, 2 threads\)`).MatchString(r.stdout) {
		t.Errorf("the summaries do not show 1 then 2 threads:\n%s", r.stdout)
	}
	log := readFile(t, logPath)
	if !regexp.MustCompile(`(?s)×1 \|.*×2 \|`).MatchString(log) {
		t.Errorf("log rows do not name the threads:\n%s", log)
	}
	img := filepath.Join(dir, "threads.svg")
	if p := genbench(t, "", append([]string{"plot", "-o", img}, files...)...); p.code != 0 {
		t.Fatalf("plot: exit %d %s", p.code, p.stderr)
	}
	svg := readFile(t, img)
	for _, want := range []string{">1 thread<", ">2 threads<"} {
		if !strings.Contains(svg, want) {
			t.Errorf("the chart's legend lacks %q", want)
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
