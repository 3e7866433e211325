package bench

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/genbench/genbench/gocore/engine"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata (review the diff)")

// golden compares got with testdata/name (or rewrites it with -update).
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("golden file: %v", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s:\n--- got ---\n%s\n--- want ---\n%s", path, got, want)
	}
}

func loadTestReport(t *testing.T, name string) *Report {
	t.Helper()
	r, err := LoadReport(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestStoredReportsValidate(t *testing.T) {
	r := loadTestReport(t, "report_cuda_full.json")
	if len(r.Configs) != 7 || r.Configs[1].Key != "medium" || r.Configs[1].E2ETokS.Median != 405.0 ||
		r.Environment.Device.ComputeCapability != "9.0" || r.Model.Params != 1235814400 {
		t.Errorf("decoded report = %+v", r)
	}
	c := loadTestReport(t, "report_cpu_quick.json")
	if c.Driver != "bench_generation.py" || c.Environment.PythonVersion != "3.11.7" {
		t.Errorf("driver %q python %q", c.Driver, c.Environment.PythonVersion)
	}
}

func TestSummaryGolden(t *testing.T) {
	golden(t, "summary_cuda_full.golden", RenderSummary(loadTestReport(t, "report_cuda_full.json")))
	golden(t, "summary_cpu_quick.golden", RenderSummary(loadTestReport(t, "report_cpu_quick.json")))
}

func TestCompareGolden(t *testing.T) {
	a := loadTestReport(t, "report_cuda_full.json")
	b := loadTestReport(t, "report_cpu_quick.json")
	out := Compare([]*Report{a, b})
	golden(t, "compare.golden", out)
	// Hand-computed ratios: medium E2E 10.2 / 405.0, TTFT 2440 / 6.1.
	for _, want := range []string{"0.025x", "400.00x", "device differs", "driver differs: [2] bench_generation.py, [1] genbench"} {
		if !strings.Contains(out, want) {
			t.Errorf("compare output lacks %q", want)
		}
	}
	if Compare(nil) != "no reports to compare\n" {
		t.Error("Compare(nil)")
	}
}

func TestSaveAndLoadRoundTrip(t *testing.T) {
	r := loadTestReport(t, "report_cuda_full.json")
	dir := filepath.Join(t.TempDir(), "reports")
	p1, err := Save(r, dir)
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(p1) != "20261127T031500Z_meta-llama--Llama-3.2-1B-Instruct_full.json" {
		t.Errorf("file name %s", filepath.Base(p1))
	}
	p2, err := Save(r, dir)
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(p2) != "20261127T031500Z_meta-llama--Llama-3.2-1B-Instruct_full_2.json" {
		t.Errorf("second file name %s", filepath.Base(p2))
	}
	back, err := LoadReport(p1)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, r) {
		t.Errorf("round trip changed the report")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("%d files in the report directory, want 2 (no temporaries left)", len(entries))
	}
	// The stored file is the document Marshal produces.
	data, _ := os.ReadFile(p1)
	want, _ := Marshal(r)
	if !bytes.Equal(data, want) {
		t.Error("saved bytes differ from Marshal")
	}
	// A directory that cannot be created is a clear error.
	if _, err := Save(r, filepath.Join(p1, "sub")); err == nil || !strings.Contains(err.Error(), "save report") {
		t.Errorf("Save under a file: %v", err)
	}
}

func TestFileNames(t *testing.T) {
	cases := []struct{ id, suite, want string }{
		{"meta-llama/Llama-3.2-1B-Instruct", "quick", "20261127T031500Z_meta-llama--Llama-3.2-1B-Instruct_quick.json"},
		{"tiny-llama", "adhoc", "20261127T031500Z_tiny-llama_adhoc.json"},
		{"/data/models/My Model", "custom", "20261127T031500Z_My-Model_custom.json"},
		{"./ckpt", "full", "20261127T031500Z_ckpt_full.json"},
	}
	for _, c := range cases {
		r := &Report{CreatedAt: "2026-11-27T03:15:00Z", Suite: c.suite, Model: modelInfo(c.id)}
		if got := FileName(r); got != c.want {
			t.Errorf("FileName(%s, %s) = %s, want %s", c.id, c.suite, got, c.want)
		}
	}
}

func TestLoadReportErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := LoadReport(filepath.Join(dir, "missing.json")); err == nil || !strings.Contains(err.Error(), "missing.json") {
		t.Errorf("missing file: %v", err)
	}
	bad := filepath.Join(dir, "bad.json")
	_ = os.WriteFile(bad, []byte(`{"schema_version": 1`), 0o644)
	if _, err := LoadReport(bad); err == nil || !strings.Contains(err.Error(), "not valid JSON") {
		t.Errorf("truncated file: %v", err)
	}
	_ = os.WriteFile(bad, []byte(`{"schema_version": 2}`), 0o644)
	if _, err := LoadReport(bad); err == nil || !strings.Contains(err.Error(), "$.schema_version: 2 is not 1") {
		t.Errorf("wrong version: %v", err)
	}
}

func TestValidateRejects(t *testing.T) {
	orig, err := os.ReadFile(filepath.Join("testdata", "report_cuda_full.json"))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		mod  func(m map[string]any)
		want string
	}{
		{"missing field", func(m map[string]any) { delete(m, "model") }, `$: missing required field "model"`},
		{"extra field", func(m map[string]any) { m["colour"] = "red" }, `$: unexpected field "colour"`},
		{"wrong type", func(m map[string]any) { m["complete"] = "yes" }, "$.complete: expected boolean, got string"},
		{"bad enum", func(m map[string]any) { m["driver"] = "other" }, `$.driver: "other" is not one of`},
		{"negative figure", func(m map[string]any) {
			cfg(m, 0)["e2e_tok_s"].(map[string]any)["median"] = -1
		}, "$.configs[0].e2e_tok_s.median: -1 is below the minimum 0"},
		{"no trials", func(m map[string]any) {
			cfg(m, 2)["ttft_ms"].(map[string]any)["trials"] = []any{}
		}, "$.configs[2].ttft_ms.trials: 0 items, expected at least 1"},
		{"fractional integer", func(m map[string]any) { cfg(m, 1)["gen_tokens"] = 2.5 }, "$.configs[1].gen_tokens: expected integer, got number"},
		{"top-p zero", func(m map[string]any) { m["flags"].(map[string]any)["top_p"] = 0 }, "$.flags.top_p: 0 must be greater than 0"},
		{"short hash", func(m map[string]any) { cfg(m, 0)["tokens_sha256"] = "abc" }, "$.configs[0].tokens_sha256: string of length 3 violates minLength 64"},
		{"figure missing key", func(m map[string]any) { delete(cfg(m, 6)["decode_tok_s"].(map[string]any), "max") }, `$.configs[6].decode_tok_s: missing required field "max"`},
	}
	for _, c := range cases {
		var m map[string]any
		if err := json.Unmarshal(orig, &m); err != nil {
			t.Fatal(err)
		}
		c.mod(m)
		b, _ := json.Marshal(m)
		err := Validate(b)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want it to contain %q", c.name, err, c.want)
		}
	}
	if err := Validate([]byte(`{} {}`)); err == nil {
		t.Error("two documents accepted")
	}
}

// The validator refuses schema keywords it does not implement.
func TestValidatorUnsupportedKeyword(t *testing.T) {
	schema, _ := parseJSON([]byte(`{"type": "string", "pattern": "^a"}`))
	doc, _ := parseJSON([]byte(`"abc"`))
	if err := ValidateAgainst(schema, doc); err == nil || !strings.Contains(err.Error(), `unsupported keyword "pattern"`) {
		t.Errorf("error = %v", err)
	}
	schema, _ = parseJSON([]byte(`{"$ref": "#/$defs/nope"}`))
	if err := ValidateAgainst(schema, doc); err == nil || !strings.Contains(err.Error(), "no such definition") {
		t.Errorf("error = %v", err)
	}
	schema, _ = parseJSON([]byte(`{"type": ["integer", "null"], "maximum": 3}`))
	for doc, ok := range map[string]bool{`null`: true, `3`: true, `4`: false, `1.5`: false, `"x"`: false} {
		d, _ := parseJSON([]byte(doc))
		if err := ValidateAgainst(schema, d); (err == nil) != ok {
			t.Errorf("%s: error %v, want ok=%v", doc, err, ok)
		}
	}
}

func cfg(m map[string]any, i int) map[string]any {
	return m["configs"].([]any)[i].(map[string]any)
}

func modelInfo(id string) engine.ModelInfo { return engine.ModelInfo{ID: id} }

// A JSON document that is not a report (a model's config.json, say) gets
// one line saying so, not a list of schema violations.
func TestValidateNotAReport(t *testing.T) {
	for _, doc := range []string{`{"architectures": ["LlamaForCausalLM"], "hidden_size": 64}`, `[]`, `"x"`} {
		err := Validate([]byte(doc))
		if err == nil || !strings.Contains(err.Error(), "not a genbench report") || strings.Contains(err.Error(), "\n") {
			t.Errorf("Validate(%s) = %v, want one line saying it is not a genbench report", doc, err)
		}
	}
}

func TestCheckOutputDir(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "new", "reports")
	if err := CheckOutputDir(dir); err != nil {
		t.Fatalf("fresh directory: %v", err)
	}
	if ents, err := os.ReadDir(dir); err != nil || len(ents) != 0 {
		t.Errorf("left behind %v (%v)", ents, err)
	}
	file := filepath.Join(root, "afile")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{file, filepath.Join(file, "sub")} {
		if err := CheckOutputDir(d); err == nil || !strings.Contains(err.Error(), "output directory "+d) {
			t.Errorf("CheckOutputDir(%s) = %v, want an error naming it", d, err)
		}
	}
}

// A report with no finished config says nothing about identical tokens.
func TestSummaryWithoutConfigs(t *testing.T) {
	r := loadTestReport(t, "report_cpu_quick.json")
	r.Configs, r.Complete, r.Error = nil, false, "benchmark interrupted before config \"short\": context canceled"
	s := RenderSummary(r)
	if strings.Contains(s, "identical tokens") || !strings.Contains(s, "INCOMPLETE: 0 of 2 planned configs finished") {
		t.Errorf("summary of a run with no finished config:\n%s", s)
	}
}
