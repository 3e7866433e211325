package main

import (
	"archive/tar"
	"compress/gzip"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// These tests run scripts/device-check.sh without a GPU: --dry-run for the
// plan, and the whole script against a fake carry (shell stand-ins for
// genbench, cudacheck, golden.test, nvidia-smi, compute-sanitizer and the
// torch/transformers parts of Python) that record how they were called.
// The Python package's search for libgen.so runs for real.

const repoRoot = "../../.."

// planSteps are the steps of the device check, in order (A.8 of the
// pre-flight review): probe, memcheck, quick selftest, full selftest, ours,
// golden comparison, HF reduced.
var planSteps = []string{
	"machine",
	"bandwidth",
	"bandwidth (cuda backend; if torch failed)",
	"memcheck tiny generate",
	"selftest quick",
	"selftest models",
	"ours meta-llama/Llama-3.2-1B-Instruct",
	"ours Qwen/Qwen3-1.7B",
	"ours google/gemma-3-1b-it",
	"golden TestGoldens (cuda)",
	"selftest models PDL",
	"ours meta-llama/Llama-3.2-1B-Instruct PDL",
	"python lib",
	"hf meta-llama/Llama-3.2-1B-Instruct decode",
	"hf Qwen/Qwen3-1.7B decode",
	"hf google/gemma-3-1b-it decode",
	"hf meta-llama/Llama-3.2-1B-Instruct medium",
	"hf Qwen/Qwen3-1.7B medium",
	"hf google/gemma-3-1b-it medium",
}

func write(t *testing.T, path, text string, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), mode); err != nil {
		t.Fatal(err)
	}
}

// fakeCarry makes a carry folder, a folder of fake tools and the fake
// python; calls are appended to the returned log file.
func fakeCarry(t *testing.T, glibc string) (carry, bin, python, calls string) {
	t.Helper()
	if _, err := exec.LookPath("bash"); err != nil {
		t.Fatal("bash is needed to run scripts/device-check.sh")
	}
	dir := t.TempDir()
	carry, bin = filepath.Join(dir, "carry"), filepath.Join(dir, "bin")
	calls = filepath.Join(dir, "calls.log")
	for _, d := range []string{carry, bin} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	rec := `echo "$(basename "$0") $* | GENBENCH_LIB=${GENBENCH_LIB:-} GOLDEN_DEVICE=${GENBENCH_GOLDEN_DEVICE:-} PWD=$PWD" >>"$FAKE_CALLS"` + "\n"
	report := `{"model":{"id":"M","weight_bytes":2000000000},"configs":[{"key":"decode","e2e_tok_s":{"median":200},"decode_tok_s":{"median":1300}},{"key":"medium","e2e_tok_s":{"median":150},"decode_tok_s":{"median":1250}}]}`
	write(t, filepath.Join(carry, "genbench"), "#!/usr/bin/env bash\n"+rec+
		`case " $* " in *" --json "*) echo '`+report+`' ;; *) echo "1 2 3" ;; esac`+"\n", 0o755)
	write(t, filepath.Join(carry, "cudacheck"), "#!/usr/bin/env bash\n"+rec+"echo 'check  shape  result  criterion  time  status'\n", 0o755)
	write(t, filepath.Join(carry, "golden.test"), "#!/usr/bin/env bash\n"+rec+"echo PASS\n", 0o755)
	write(t, filepath.Join(carry, "libgen.so"), "", 0o644)
	if glibc != "" {
		write(t, filepath.Join(carry, "libgen.glibc"), glibc+"\n", 0o644)
	}
	write(t, filepath.Join(bin, "nvidia-smi"), "#!/usr/bin/env bash\n"+rec+"echo 'NVIDIA Fake GPU'\n", 0o755)
	write(t, filepath.Join(bin, "compute-sanitizer"), "#!/usr/bin/env bash\n"+rec+
		"while [[ $1 == --* ]]; do shift 2; done\nexec \"$@\"\n", 0o755)
	python = filepath.Join(bin, "fakepython")
	write(t, python, "#!/usr/bin/env bash\n"+rec+`
case "$*" in
  *bandwidth.py*) while [[ $# -gt 0 && $1 != --out ]]; do shift; done
    echo '{"copy_bandwidth_bytes_per_s": 3.0e12, "gpu": "Fake GPU"}' >"$2" ;;
  *bench_generation.py*) c=""; while [[ $# -gt 0 ]]; do [[ $1 == --configs ]] && c=$2; shift; done
    echo '{"model":{"id":"M"},"configs":[{"key":"'$c'","e2e_tok_s":{"median":100}}]}' ;;
  *) exec python3 "$@" ;;
esac
`, 0o755)
	return carry, bin, python, calls
}

func runCheck(t *testing.T, env []string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command("bash", append([]string{filepath.Join(repoRoot, "scripts", "device-check.sh")}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func TestDeviceCheckDryRun(t *testing.T) {
	carry, _, python, _ := fakeCarry(t, "2.17")
	out, err := runCheck(t, []string{"CARRY=" + carry, "PYTHON=" + python, "SANITIZER=/x/compute-sanitizer"}, "--dry-run")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	re := regexp.MustCompile(`(?m)^\s*(\d+)\. (.+?)\s+cap\s+(\d+)s  (.*)$`)
	var names []string
	for _, m := range re.FindAllStringSubmatch(out, -1) {
		names = append(names, m[2])
		if m[3] == "0" {
			t.Errorf("step %s has no cap", m[2])
		}
	}
	if strings.Join(names, "|") != strings.Join(planSteps, "|") {
		t.Fatalf("dry-run steps:\n%s\nwant:\n%s\n\n%s", strings.Join(names, "\n"), strings.Join(planSteps, "\n"), out)
	}
	if strings.Contains(out, "make_goldens") || strings.Contains(out, "goldens.py") {
		t.Fatalf("the device check must not regenerate golden fixtures:\n%s", out)
	}
	if !strings.Contains(out, "--configs decode") || !strings.Contains(out, "--warmup 0") {
		t.Fatalf("HF steps must run reduced configs without warm-up:\n%s", out)
	}
}

func TestDeviceCheckFakeCarry(t *testing.T) {
	carry, bin, python, calls := fakeCarry(t, "2.17")
	dir := t.TempDir()
	outDir, steps := filepath.Join(dir, "out"), filepath.Join(dir, "steps")
	env := []string{"CARRY=" + carry, "PYTHON=" + python, "OUT=" + outDir, "STEPS=" + steps,
		"SANITIZER=" + filepath.Join(bin, "compute-sanitizer"), "FAKE_CALLS=" + calls,
		"PATH=" + bin + string(os.PathListSeparator) + os.Getenv("PATH")}
	out, err := runCheck(t, env)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for _, s := range planSteps {
		if s == "bandwidth (cuda backend; if torch failed)" {
			continue // torch (the fake) measured it
		}
		if !strings.Contains(out, "== "+s+": ok") {
			t.Errorf("step %q did not pass", s)
		}
	}
	if t.Failed() {
		t.Fatal(out)
	}
	// The Python package found the carried library through GENBENCH_LIB.
	if !strings.Contains(out, "libgen.so: "+filepath.Join(carry, "libgen.so")) {
		t.Fatalf("python did not find %s/libgen.so:\n%s", carry, out)
	}
	data, err := os.ReadFile(calls)
	if err != nil {
		t.Fatal(err)
	}
	log := string(data)
	hf, golden := 0, 0
	for _, line := range strings.Split(log, "\n") {
		if strings.Contains(line, "make_goldens") {
			t.Errorf("golden fixtures regenerated: %s", line)
		}
		if strings.Contains(line, "bench_generation.py") {
			hf++
			if !strings.Contains(line, "GENBENCH_LIB="+filepath.Join(carry, "libgen.so")+" ") || !strings.Contains(line, "--warmup 0") {
				t.Errorf("HF step without GENBENCH_LIB or with warm-ups: %s", line)
			}
		}
		if strings.HasPrefix(line, "golden.test ") {
			golden++
			if !strings.Contains(line, "-test.run ^TestGoldens$") || !strings.Contains(line, "GOLDEN_DEVICE=cuda ") ||
				!strings.HasSuffix(line, filepath.Join("gocore", "engine")) {
				t.Errorf("golden comparison: %s", line)
			}
		}
	}
	if hf != 6 || golden != 1 || strings.Count(log, "compute-sanitizer --tool memcheck") != 2 {
		t.Fatalf("%d HF runs, %d golden runs:\n%s", hf, golden, log)
	}
	// $OUT holds a handful of files; every step left its own file in the
	// steps archive.
	ents, err := os.ReadDir(outDir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	if strings.Join(names, " ") != "bandwidth.json log.txt selftest-quick.txt steps.tar.gz summary.json" {
		t.Fatalf("$OUT holds %v", names)
	}
	files := untar(t, filepath.Join(outDir, "steps.tar.gz"))
	stepFiles := 0
	for name := range files {
		if regexp.MustCompile(`^\./\d\d-.*\.txt$`).MatchString(name) {
			stepFiles++
		}
	}
	if stepFiles != len(planSteps)-1 || files["./reports/hf-Qwen_Qwen3-1_7B--medium.json"] == "" || files["./steps.txt"] == "" {
		t.Fatalf("steps archive: %d step files, %v", stepFiles, keys(files))
	}
	var sum struct {
		Rows []struct {
			Model, Config string
			HF            *float64 `json:"hf_e2e_tok_s"`
		} `json:"rows"`
	}
	raw, _ := os.ReadFile(filepath.Join(outDir, "summary.json"))
	if err := json.Unmarshal(raw, &sum); err != nil || len(sum.Rows) != 8 {
		t.Fatalf("summary: %v, %d rows\n%s", err, len(sum.Rows), raw)
	}
	for _, r := range sum.Rows {
		if strings.HasSuffix(r.Model, " PDL") {
			continue // no HF figure beside the PDL rows
		}
		if r.HF == nil || *r.HF != 100 {
			t.Fatalf("summary row without the merged HF figure: %+v", r)
		}
	}
}

// TestDeviceCheckGlibcAndBudget: a libgen.so built against a newer glibc
// than the device's skips the Python steps with that reason, and steps past
// the time budget are skipped, yet every step leaves its file.
func TestDeviceCheckGlibcAndBudget(t *testing.T) {
	carry, bin, python, calls := fakeCarry(t, "99.0")
	dir := t.TempDir()
	outDir, steps := filepath.Join(dir, "out"), filepath.Join(dir, "steps")
	env := []string{"CARRY=" + carry, "PYTHON=" + python, "OUT=" + outDir, "STEPS=" + steps,
		"FAKE_CALLS=" + calls, "BUDGET=14", "MODELS=tiny-llama",
		"PATH=" + bin + string(os.PathListSeparator) + os.Getenv("PATH")}
	out, err := runCheck(t, env)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for _, want := range []string{
		"== machine: skipped, budget spent",
		"== memcheck tiny generate: skipped, budget spent",
		"== ours tiny-llama: skipped, budget spent",
		"== python lib: skipped: libgen.so needs glibc 99.0",
		"== hf tiny-llama decode: skipped: the Python package cannot load libgen.so",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q", want)
		}
	}
	if t.Failed() {
		t.Fatal(out)
	}
	data, _ := os.ReadFile(calls)
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		if line != "" && !strings.Contains(line, "summarize.py") {
			t.Fatalf("a skipped step ran: %s", line)
		}
	}
	files := untar(t, filepath.Join(outDir, "steps.tar.gz"))
	n := 0
	for name, text := range files {
		if regexp.MustCompile(`^\./\d\d-.*\.txt$`).MatchString(name) {
			n++
			if !strings.Contains(text, "skipped") {
				t.Errorf("%s: %q", name, text)
			}
		}
	}
	if n != 13 {
		t.Fatalf("%d step files, want 13: %v", n, keys(files))
	}
}

func untar(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	z, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	tr := tar.NewReader(z)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(tr)
		out[h.Name] = string(b)
	}
}

func keys(m map[string]string) []string {
	var k []string
	for n := range m {
		k = append(k, n)
	}
	return k
}
