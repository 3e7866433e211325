package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/genbench/genbench/cuda"
	"github.com/genbench/genbench/gocore/bench"
	"github.com/genbench/genbench/gocore/tokenizer"
)

// binary is the genbench executable built by TestMain.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "genbench-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "genbench")
	build := exec.Command("go", "build", "-o", binary, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "go build genbench: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type result struct {
	code           int
	stdout, stderr string
}

// genbench runs the real binary with no network access to a model hub:
// an empty Hugging Face cache and offline mode.
func genbench(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cache := t.TempDir()
	cmd.Env = append(os.Environ(), "HF_HUB_OFFLINE=1", "HF_HUB_CACHE="+cache, "HF_HOME="+cache)
	cmd.Dir = t.TempDir()
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run genbench: %v", err)
	}
	return result{code, out.String(), errb.String()}
}

// The defaults of BENCH.md, read back from the parsed command line.
func TestBenchFlagDefaults(t *testing.T) {
	cfg, _, err := parseBench(nil)
	if err != nil {
		t.Fatal(err)
	}
	want := bench.RunConfig{
		Configs: []string{}, Device: "auto", DType: "bfloat16", PromptTokens: 256, MaxNewTokens: 256,
		TopK: 50, TopP: 0.9, RepetitionPenalty: 1, Seed: 42, Warmup: 2, Trials: 3,
		Engine: "genbench", Format: "table", Progress: "auto", Driver: "genbench",
	}
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("defaults =\n%+v\nwant\n%+v", cfg, want)
	}
}

// Every flag, set on the command line, lands in its field.
func TestBenchFlagsParse(t *testing.T) {
	cfg, _, err := parseBench([]string{
		"--model", "meta-llama/Llama-3.2-1B-Instruct", "--random-weights", "--device", "cuda:1",
		"--dtype", "bfloat16", "--threads", "3", "--prompt-tokens", "128", "--max-new-tokens", "64",
		"--temperature", "0.8", "--top-k", "20", "--top-p", "0.5", "--repetition-penalty", "1.2",
		"--seed", "7", "--warmup", "0", "--trials", "5", "--engine", "genbench",
		"--output-dir", "/tmp/r", "--json", "--quiet", "--format", "md", "--progress", "never", "--record", "x.md",
	})
	if err != nil {
		t.Fatal(err)
	}
	want := bench.RunConfig{
		Configs: []string{}, Model: "meta-llama/Llama-3.2-1B-Instruct", RandomWeights: true, Device: "cuda:1",
		DType: "bfloat16", Threads: 3, PromptTokens: 128, MaxNewTokens: 64, Temperature: 0.8, TopK: 20,
		TopP: 0.5, RepetitionPenalty: 1.2, Seed: 7, Warmup: 0, Trials: 5, Engine: "genbench",
		OutputDir: "/tmp/r", JSON: true, Quiet: true, Format: "md", Progress: "never", Record: "x.md", Driver: "genbench",
	}
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("parsed =\n%+v\nwant\n%+v", cfg, want)
	}
	if cfg, _, err := parseBench([]string{"--no-save"}); err != nil || !cfg.NoSave {
		t.Errorf("--no-save: %+v, %v", cfg, err)
	}
	if _, _, err := parseBench([]string{"--no-save", "--output-dir", "/tmp/r"}); err == nil || !strings.Contains(err.Error(), "is not used with --no-save") {
		t.Errorf("--no-save with --output-dir: %v", err)
	}
	cfg, _, err = parseBench([]string{"--suite", "standard", "--configs", "decode, short"})
	if err != nil || cfg.Suite != "standard" || !reflect.DeepEqual(cfg.Configs, []string{"decode", "short"}) {
		t.Errorf("suite+configs = %+v, %v", cfg, err)
	}
	// The seed's commands, unchanged.
	cfg, _, err = parseBench([]string{"--suite", "full", "--model", "meta-llama/Llama-3.2-1B-Instruct"})
	if err != nil || cfg.Suite != "full" || cfg.Model != "meta-llama/Llama-3.2-1B-Instruct" {
		t.Errorf("seed command 1: %+v, %v", cfg, err)
	}
	cfg, _, err = parseBench(strings.Fields("--model meta-llama/Llama-3.2-1B-Instruct --prompt-tokens 256 --max-new-tokens 256 --temperature 0.8 --seed 42"))
	if err != nil || cfg.Suite != "" || cfg.PromptTokens != 256 || cfg.Temperature != 0.8 || cfg.Seed != 42 {
		t.Errorf("seed command 2: %+v, %v", cfg, err)
	}
}

// Bad command lines: exit status 2 (1 for a model that cannot be found),
// one line on stderr naming the problem, nothing on stdout.
func TestBadUsage(t *testing.T) {
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--prompt-tokens", "-5"}, 2, "--prompt-tokens: -5: expected a positive number of tokens"},
		{[]string{"--max-new-tokens", "0"}, 2, "--max-new-tokens: 0"},
		{[]string{"--suite", "huge"}, 2, `unknown suite "huge": expected one of quick, standard, full`},
		{[]string{"--configs", "short,tiny"}, 2, `unknown config "tiny"`},
		{[]string{"--suite", "quick", "--configs", "long"}, 2, `"long" is not in suite "quick"`},
		{[]string{"--top-p", "1.5"}, 2, "--top-p: 1.5 is out of range: expected a value in (0, 1]"},
		{[]string{"--top-p", "0"}, 2, "--top-p: 0 is out of range"},
		{[]string{"--device", "tpu"}, 2, `unknown device "tpu": expected auto, cpu, cuda or cuda:N`},
		{[]string{"--dtype", "float32"}, 2, `unsupported dtype "float32": expected bfloat16`},
		{[]string{"--trials", "0"}, 2, "--trials: 0"},
		{[]string{"--seed", "-1"}, 2, "--seed"},
		{[]string{"--warmpu", "1"}, 2, "unknown flag: --warmpu"},
		{[]string{"--suite", "quick", "--prompt-tokens", "64"}, 2, "--prompt-tokens sets the ad-hoc run and cannot be combined with --suite"},
		{[]string{"--engine", "hf"}, 2, "available only in benchmarks/bench_generation.py"},
		{[]string{"frobnicate"}, 2, `unknown command "frobnicate"`},
		{[]string{"--model", "/nonexistent/model/dir", "--no-save"}, 1, `"/nonexistent/model/dir"`},
		{[]string{"--model", "acme/not-a-model", "--no-save"}, 1, "acme/not-a-model"},
		{[]string{"compare"}, 2, "compare needs at least one report file"},
		{[]string{"compare", "/nonexistent.json"}, 1, "/nonexistent.json"},
		{[]string{"tokenize", "--text", "hi"}, 2, "--model is required"},
		{[]string{"tokenize", "--model", "tiny-llama"}, 2, "exactly one of --jsonl, --text STRING and --decode"},
		{[]string{"generate", "--prompt", "hi", "--top-p", "2"}, 2, "--top-p: 2 is out of range"},
		{[]string{"--threads", "100000", "--no-save"}, 2, "--threads: 100000 is too many"},
		{[]string{"generate", "--prompt", "hi", "--threads", "100000"}, 2, "--threads: 100000 is too many"},
		{[]string{"--temperature", "1e308", "--no-save"}, 2, "--temperature: 1e+308: expected a finite value >= 0 (0 = greedy), at most 3.403e+38"},
		{[]string{"generate", "--prompt", "hi", "--temperature", "1e308"}, 2, "--temperature: 1e+308"},
		{[]string{"generate", "--prompt", "hi", "--repetition-penalty", "1e308"}, 2, "--repetition-penalty: 1e+308"},
	}
	for _, c := range cases {
		r := genbench(t, "", c.args...)
		if r.code != c.code || !strings.Contains(r.stderr, c.want) || r.stdout != "" {
			t.Errorf("genbench %s: exit %d, stdout %q, stderr %q; want exit %d and %q", strings.Join(c.args, " "), r.code, r.stdout, r.stderr, c.code, c.want)
		}
		if n := strings.Count(strings.TrimRight(r.stderr, "\n"), "\n"); n != 0 {
			t.Errorf("genbench %s: %d lines on stderr, want one: %q", strings.Join(c.args, " "), n+1, r.stderr)
		}
	}
}

// The quick suite on the embedded default model, end to end.
func TestQuickSuiteJSON(t *testing.T) {
	r := genbench(t, "", "--suite", "quick", "--no-save", "--json", "--warmup", "1", "--trials", "1")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if err := bench.Validate([]byte(r.stdout)); err != nil {
		t.Fatalf("report does not validate: %v\n%s", err, r.stdout)
	}
	var rep bench.Report
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatal(err)
	}
	if !rep.Complete || rep.Suite != "quick" || len(rep.Configs) != 2 || rep.Configs[0].Key != "short" ||
		rep.Configs[1].Key != "medium" || rep.Driver != "genbench" || rep.Model.ID != "tiny-llama" || !rep.Model.Synthetic ||
		rep.PromptSource != bench.PromptText {
		t.Errorf("report = %+v", rep)
	}
	for _, c := range rep.Configs {
		if len(c.E2ETokS.Trials) != 1 || c.E2ETokS.Median <= 0 || c.TTFTMs.Median <= 0 || !c.IdenticalTokens {
			t.Errorf("%s figures: %+v", c.Key, c)
		}
	}
	// Summary on stderr; no progress since stderr is not a terminal.
	if !strings.Contains(r.stderr, "Key") || strings.Contains(r.stderr, "trial 1/1") {
		t.Errorf("stderr = %q", r.stderr)
	}
}

// A saved report lands in --output-dir under a time-sorted name, and the
// summary goes to stdout.
func TestSavedReport(t *testing.T) {
	dir := t.TempDir()
	r := genbench(t, "", "--configs", "short", "--warmup", "0", "--trials", "2", "--output-dir", dir, "--model", "tiny-qwen3")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	if len(files) != 1 || !regexp.MustCompile(`^\d{8}T\d{6}Z_tiny-qwen3_custom\.json$`).MatchString(filepath.Base(files[0])) {
		t.Fatalf("report files = %v", files)
	}
	rep, err := bench.LoadReport(files[0])
	if err != nil {
		t.Fatal(err)
	}
	if rep.Model.Arch != "qwen3" || len(rep.Configs) != 1 || len(rep.Configs[0].TTFTMs.Trials) != 2 {
		t.Errorf("report = %+v", rep)
	}
	for _, want := range []string{"custom suite", "tiny-qwen3", "short", "Report saved to " + files[0]} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
		}
	}
	// compare through the binary: the report against itself is 1.00x.
	c := genbench(t, "", "compare", files[0], files[0])
	if c.code != 0 || !strings.Contains(c.stdout, "1.00x") {
		t.Errorf("compare: exit %d\n%s%s", c.code, c.stdout, c.stderr)
	}
}

func TestCompareStoredReports(t *testing.T) {
	a, _ := filepath.Abs("../../gocore/bench/testdata/report_cuda_full.json")
	b, _ := filepath.Abs("../../gocore/bench/testdata/report_cpu_quick.json")
	r := genbench(t, "", "compare", a, b)
	want, err := os.ReadFile("../../gocore/bench/testdata/compare.golden")
	if err != nil {
		t.Fatal(err)
	}
	if r.code != 0 || r.stdout != string(want) {
		t.Errorf("exit %d, stdout:\n%s\nwant:\n%s", r.code, r.stdout, want)
	}
}

func TestTokenize(t *testing.T) {
	tok := tokenizer.Tiny()
	text := "Hello world, the lighthouse!"
	ids := tok.Encode(text, true)
	idsJSON, _ := json.Marshal(ids)
	r := genbench(t, "", "tokenize", "--model", "tiny-llama", "--text", text)
	if r.code != 0 || r.stdout != string(idsJSON)+"\n" {
		t.Errorf("--text: exit %d stdout %q stderr %q; want %s", r.code, r.stdout, r.stderr, idsJSON)
	}
	plain, _ := json.Marshal(tok.Encode(text, false))
	r = genbench(t, `"Hello world, the lighthouse!"`+"\n\"\"\n", "tokenize", "--model", "tiny-llama", "--jsonl", "--no-special")
	if r.code != 0 || r.stdout != string(plain)+"\n[]\n" {
		t.Errorf("--jsonl: exit %d stdout %q stderr %q", r.code, r.stdout, r.stderr)
	}
	r = genbench(t, string(plain), "tokenize", "--model", "tiny-llama", "--decode")
	if r.code != 0 || r.stdout != text+"\n" {
		t.Errorf("--decode: exit %d stdout %q stderr %q", r.code, r.stdout, r.stderr)
	}
	r = genbench(t, "not json", "tokenize", "--model", "tiny-llama", "--decode")
	if r.code != 1 || !strings.Contains(r.stderr, "expected a JSON array of token ids") {
		t.Errorf("bad --decode input: exit %d stderr %q", r.code, r.stderr)
	}
}

func TestGenerate(t *testing.T) {
	r := genbench(t, "", "generate", "--prompt", "The lighthouse keeper", "--max-new-tokens", "12", "--no-stop")
	if r.code != 0 || !strings.Contains(r.stderr, "generated 12 (max-new-tokens reached)") || !strings.HasSuffix(r.stdout, "\n") {
		t.Errorf("exit %d stdout %q stderr %q", r.code, r.stdout, r.stderr)
	}
	r = genbench(t, "", "generate", "--prompt-ids", "1,2,3", "--max-new-tokens", "4", "--no-stop", "--model", "tiny-gemma3")
	if r.code != 0 || !strings.Contains(r.stderr, "prompt 3 tokens, generated 4") {
		t.Errorf("--prompt-ids: exit %d stdout %q stderr %q", r.code, r.stdout, r.stderr)
	}
}

func TestEnvAndHelp(t *testing.T) {
	r := genbench(t, "", "env")
	for _, want := range []string{"genbench " + bench.Version, "cpu:", "memory:", "gpus:"} {
		if r.code != 0 || !strings.Contains(r.stdout, want) {
			t.Errorf("env: exit %d, stdout lacks %q:\n%s", r.code, want, r.stdout)
		}
	}
	r = genbench(t, "", "--help")
	if r.code != 0 || !strings.Contains(r.stdout, "--suite") || !strings.Contains(r.stdout, "--random-weights") {
		t.Errorf("--help: exit %d\n%s", r.code, r.stdout)
	}
	r = genbench(t, "", "bench", "--help")
	if r.code != 0 || !strings.Contains(r.stdout, "--prompt-tokens") {
		t.Errorf("bench --help: exit %d\n%s", r.code, r.stdout)
	}
	r = genbench(t, "", "help")
	if r.code != 0 || !strings.Contains(r.stdout, "genbench compare") {
		t.Errorf("help: exit %d\n%s", r.code, r.stdout)
	}
	// Bool flags read "--json", not pflag's "--json[=true|false]", and
	// still stand alone or take =false.
	for _, args := range [][]string{{"--help"}, {"generate", "--help"}, {"tokenize", "--help"}} {
		r = genbench(t, "", args...)
		if r.code != 0 || strings.Contains(r.stdout, "[=true|false]") || !strings.Contains(r.stdout, "--no-s") {
			t.Errorf("%v: exit %d, bool flags shown with [=true|false] or missing:\n%s", args, r.code, r.stdout)
		}
	}
	r = genbench(t, "", "tokenize", "--no-special", "--skip-special=false", "--help")
	if r.code != 0 {
		t.Errorf("bool flags alone and with =false: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

func TestDefaultReportDir(t *testing.T) {
	root, _ := filepath.Abs("../..")
	if got := bench.DefaultReportDir(); got != filepath.Join(root, "benchmarks", "reports") {
		t.Errorf("in the repository: %s", got)
	}
	t.Chdir(t.TempDir()) // restored when the test ends; no parallel test may run meanwhile
	if got := bench.DefaultReportDir(); got != filepath.Join("benchmarks", "reports") {
		t.Errorf("outside: %s", got)
	}
}

// cancelWriter cancels a context once the text written to it contains a
// marker (a progress line), like Ctrl-C pressed at that moment.
type cancelWriter struct {
	buf    bytes.Buffer
	marker string
	cancel context.CancelFunc
}

func (w *cancelWriter) Write(p []byte) (int, error) {
	w.buf.Write(p)
	if strings.Contains(w.buf.String(), w.marker) {
		w.cancel()
	}
	return len(p), nil
}

// Ctrl-C during the second config keeps the first: the report is saved,
// marked incomplete, and the exit status is 1.
func TestInterruptKeepsFinishedConfigs(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dir := t.TempDir()
	var stdout bytes.Buffer
	stderr := &cancelWriter{marker: "[2/2] medium", cancel: cancel}
	a := &app{stdin: strings.NewReader(""), stdout: &stdout, stderr: stderr, stderrTTY: true}
	code := a.run(ctx, []string{"--suite", "quick", "--warmup", "0", "--trials", "1", "--output-dir", dir})
	if code != 1 {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr.buf.String())
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*_tiny-llama_quick.json"))
	if len(files) != 1 {
		t.Fatalf("reports: %v", files)
	}
	rep, err := bench.LoadReport(files[0])
	if err != nil {
		t.Fatal(err)
	}
	if rep.Complete || len(rep.Configs) != 1 || rep.Configs[0].Key != "short" || !strings.Contains(rep.Error, "interrupted") {
		t.Errorf("complete %v configs %d error %q", rep.Complete, len(rep.Configs), rep.Error)
	}
	if !strings.Contains(stdout.String(), "INCOMPLETE: 1 of 2 planned configs finished") ||
		!strings.Contains(stderr.buf.String(), "genbench: benchmark interrupted") {
		t.Errorf("stdout:\n%s\nstderr:\n%s", stdout.String(), stderr.buf.String())
	}
}

func TestSelftestArguments(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"selftest", "--device", "tpu"}, `--device: "tpu": expected cuda or cuda:N`},
		{[]string{"selftest", "--models", "gpt-2"}, `unknown built-in model "gpt-2"`},
		{[]string{"selftest", "extra"}, `unexpected argument "extra"`},
	} {
		r := genbench(t, "", c.args...)
		if r.code != 2 || !strings.Contains(r.stderr, c.want) {
			t.Errorf("genbench %s: exit %d stderr %q, want 2 and %q", strings.Join(c.args, " "), r.code, r.stderr, c.want)
		}
	}
	// Without a usable GPU, selftest fails with one clear line.
	if p := cuda.Probe(cuda.Options{}); !p.Usable() {
		r := genbench(t, "", "selftest", "--quick")
		if r.code != 1 || !strings.HasPrefix(r.stderr, "genbench: selftest: ") || strings.Count(r.stderr, "\n") != 1 {
			t.Errorf("selftest without a GPU: exit %d stderr %q", r.code, r.stderr)
		}
	}
}

// An output directory that cannot be written is refused before the run.
func TestUnwritableOutputDirBeforeRun(t *testing.T) {
	file := filepath.Join(t.TempDir(), "afile")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := genbench(t, "", "--suite", "quick", "--output-dir", filepath.Join(file, "sub"))
	if r.code != 1 || r.stdout != "" || !strings.Contains(r.stderr, "output directory "+filepath.Join(file, "sub")) ||
		!strings.Contains(r.stderr, "not a directory") || strings.Contains(r.stderr, "trial") {
		t.Errorf("exit %d, stdout %q, stderr %q; want exit 1 and the directory named before any run", r.code, r.stdout, r.stderr)
	}
}

// When saving fails after the run, the summary (or with --json the report)
// is still printed, then the error.
func TestSaveFailureKeepsFigures(t *testing.T) {
	data, err := os.ReadFile("../../gocore/bench/testdata/report_cpu_quick.json")
	if err != nil {
		t.Fatal(err)
	}
	summary, err := os.ReadFile("../../gocore/bench/testdata/summary_cpu_quick.golden")
	if err != nil {
		t.Fatal(err)
	}
	var rep bench.Report
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "afile")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, asJSON := range []bool{false, true} {
		var out, errb bytes.Buffer
		a := &app{stdout: &out, stderr: &errb}
		cfg := bench.DefaultRunConfig()
		cfg.JSON, cfg.Quiet = asJSON, true
		_, saveErr := bench.Save(&rep, filepath.Join(file, "sub"))
		err := a.printBench(cfg, &bench.Outputs{Report: &rep, Summary: bench.RenderSummary(&rep), SaveErr: saveErr}, nil)
		if err == nil || !strings.Contains(err.Error(), "save report") || !strings.Contains(err.Error(), "printed above") {
			t.Errorf("json %v: error %v, want the save error", asJSON, err)
		}
		want := string(summary)
		if asJSON {
			if want, _ := bench.Marshal(&rep); out.String() != string(want) {
				t.Errorf("json: stdout is not the report: %.200q", out.String())
			}
		} else if out.String() != want {
			t.Errorf("stdout %q, want the summary %q", out.String(), want)
		}
	}
}

// SIGINT, SIGTERM and SIGHUP stop a suite the same way: the finished
// configs are saved (marked incomplete) and printed, and the exit status is
// 128 + the signal number. The signal is sent once stderr (--progress
// always) says the first config finished, not after a fixed time: a fixed
// time can land before the model is loaded on a loaded machine, or after the
// whole suite on a fast one. From that line on, the six configs left run ten
// trials each (seconds even on a fast machine, the signal follows within
// milliseconds), so it lands mid-suite with exactly one config finished.
func TestSignalsSavePartialReport(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP} {
		dir := t.TempDir()
		cmd := exec.Command(binary, "--device", "cpu", "--suite", "full", "--warmup", "0", "--trials", "10",
			"--progress", "always", "--output-dir", dir)
		var out bytes.Buffer
		cmd.Stdout = &out
		stderr, err := cmd.StderrPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		var errb bytes.Buffer // written by the reader until done is closed
		firstDone, done := make(chan struct{}), make(chan struct{})
		go func() {
			defer close(done)
			closed := false
			sc := bufio.NewScanner(stderr)
			for sc.Scan() {
				errb.WriteString(sc.Text() + "\n")
				if strings.HasPrefix(sc.Text(), "  short: median ") && !closed {
					close(firstDone)
					closed = true
				}
			}
			io.Copy(io.Discard, stderr)
		}()
		select {
		case <-firstDone:
		case <-done:
			cmd.Wait()
			t.Fatalf("%v: genbench ended before its first config finished: stderr %q", sig, errb.String())
		case <-time.After(2 * time.Minute):
			cmd.Process.Kill()
			<-done
			cmd.Wait()
			t.Fatalf("%v: no config finished in 2 minutes: stderr %q", sig, errb.String())
		}
		if err := cmd.Process.Signal(sig); err != nil {
			t.Fatal(err)
		}
		<-done
		err = cmd.Wait()
		code := cmd.ProcessState.ExitCode()
		if ee := new(exec.ExitError); !errors.As(err, &ee) || code != 128+int(sig) {
			t.Errorf("%v: %v, exit %d; want exit %d", sig, err, code, 128+int(sig))
		}
		files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
		if len(files) != 1 {
			t.Fatalf("%v: reports %v, want one (stderr %q)", sig, files, errb.String())
		}
		rep, lerr := bench.LoadReport(files[0])
		if lerr != nil || rep.Complete || !strings.Contains(errb.String(), "interrupted") || !strings.Contains(out.String(), "INCOMPLETE") {
			t.Errorf("%v: report %v complete=%v; stderr %q; stdout %q", sig, lerr, rep != nil && rep.Complete, errb.String(), out.String())
		}
		if lerr == nil {
			var keys []string
			for _, c := range rep.Configs {
				keys = append(keys, c.Key)
			}
			if !slices.Equal(keys, []string{"short"}) {
				t.Errorf("%v: configs saved %q, want the one finished before the signal, short", sig, keys)
			}
		}
	}
}

// --remeasure-bandwidth reaches the run configuration (a switch, off by
// default).
func TestRemeasureBandwidthFlag(t *testing.T) {
	for _, c := range []struct {
		args []string
		want bool
	}{{nil, false}, {[]string{"--remeasure-bandwidth"}, true}, {[]string{"--suite", "quick", "--remeasure-bandwidth"}, true}} {
		cfg, _, err := parseBench(c.args)
		if err != nil || cfg.RemeasureBandwidth != c.want {
			t.Errorf("%q: remeasure %v, err %v; want %v", c.args, cfg.RemeasureBandwidth, err, c.want)
		}
	}
}

// Measuring the CPU's bandwidth in the run (an empty cache) streams a
// 256 MiB buffer; the peak memory the report gives for the tiny model
// must not include it (the buffer goes back to the OS before the trials,
// whose peak starts from the resident set).
func TestPeakMemoryLeavesOutTheBandwidthBuffer(t *testing.T) {
	cmd := exec.Command(binary, "--configs", "short", "--warmup", "0", "--trials", "1", "--no-save", "--json", "--quiet")
	cmd.Env = append(os.Environ(), "XDG_CACHE_HOME="+t.TempDir(), "HF_HUB_OFFLINE=1")
	cmd.Dir = t.TempDir()
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("genbench: %v", err)
	}
	var rep bench.Report
	if err := json.Unmarshal(out, &rep); err != nil {
		t.Fatalf("stdout is not a report: %v", err)
	}
	if bw := rep.Environment.Bandwidth; bw == nil || bw.Cached {
		t.Fatalf("the bandwidth was not measured in this run: %+v", bw)
	}
	const buffer = 256 << 20
	if peak := rep.Configs[0].PeakMem.Median; peak <= 0 || peak >= buffer/2 {
		t.Errorf("peak memory %.0f MiB for the tiny model: the %d MiB bandwidth buffer is still resident", peak/(1<<20), buffer>>20)
	}
}
