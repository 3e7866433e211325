package bench

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The seed's log: everything above and below the tables must survive.
const seedLog = `# Generation Benchmark Log

E2E throughput (tok/s, median of 3 trials). Higher is better.

| Key       | Prompt |  Gen | Sampling |
|-----------|-------:|-----:|----------|
| short     |     64 |   64 | greedy   |

**Recording results**: After running the full suite, copy the median E2E throughput.

---
`

func TestRecordAddsUpdatesAndKeepsTheRest(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "LOG.md")
	if err := os.WriteFile(path, []byte(seedLog), 0o600); err != nil {
		t.Fatal(err)
	}
	gpu := loadTestReport(t, "report_cuda_full.json")
	cpu := loadTestReport(t, "report_cpu_quick.json")
	acts, err := RecordFile(path, gpu, cpu)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(acts, ",") != "added,added" {
		t.Errorf("actions %v", acts)
	}
	data, _ := os.ReadFile(path)
	text := string(data)
	if !strings.HasPrefix(text, seedLog) {
		t.Fatalf("the seed's text changed:\n%s", text)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want the file's 0600 kept", fi.Mode().Perm())
	}
	section := text[strings.Index(text, "## meta-llama/Llama-3.2-1B-Instruct"):]
	header, _, rows := parseMarkdownTable(t, section)
	wantCols := "Date,Commit,Engine,Device,DType,short,medium,prefill,decode,long,sampled,full-pipe"
	if strings.Join(header, ",") != wantCols {
		t.Errorf("columns %q, want %s", header, wantCols)
	}
	if len(rows) != 2 {
		t.Fatalf("%d rows, want 2", len(rows))
	}
	// The medians of the stored reports, by column.
	if rows[0][0] != "2026-11-27T03:15:00Z" || rows[0][5] != "410.2" || rows[0][6] != "405.0" || rows[0][11] != "390.5" ||
		rows[0][3] != "cuda NVIDIA H100 80GB HBM3" {
		t.Errorf("GPU row %q", rows[0])
	}
	if rows[1][5] != "12.1" || rows[1][6] != "10.2" || rows[1][7] != "" || !strings.Contains(rows[1][2], "bench_generation.py") {
		t.Errorf("CPU row %q", rows[1])
	}

	// Recording the same run again updates its row in place; a note a
	// person wrote below the table stays.
	withNote := text + "\nA note under the table.\n"
	if err := os.WriteFile(path, []byte(withNote), 0o600); err != nil {
		t.Fatal(err)
	}
	cpu.Configs[0].E2ETokS = NewFigure([]float64{13, 13, 13})
	acts, err = RecordFile(path, cpu)
	if err != nil || acts[0] != "updated" {
		t.Fatalf("second record: %v %v", acts, err)
	}
	data, _ = os.ReadFile(path)
	again := string(data)
	if strings.Count(again, "2026-11-27T04:02:11Z") != 1 || !strings.Contains(again, " 13.0 |") {
		t.Errorf("the row was not updated in place:\n%s", again)
	}
	if want := strings.Replace(withNote, "12.1", "13.0", 1); again != want {
		t.Errorf("more than the row changed:\n--- got ---\n%s\n--- want ---\n%s", again, want)
	}
}

func TestRecordNewFileAndNewKeys(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "LOG.md")
	r := loadTestReport(t, "report_cpu_quick.json")
	r.Model.ID = "tiny-llama"
	r.Configs[0].Key = "p64-g32"
	if _, err := RecordFile(path, r); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	if !strings.HasPrefix(string(data), "# Generation Benchmark Log") || !strings.Contains(string(data), "## tiny-llama\n\n| Date") {
		t.Errorf("new log:\n%s", data)
	}
	header, _, rows := parseMarkdownTable(t, string(data))
	if header[len(header)-1] != "p64-g32" || rows[0][len(header)-1] != "12.1" {
		t.Errorf("an unknown key gets its own column: %q %q", header, rows)
	}
}

func TestRecordRejectsForeignTable(t *testing.T) {
	text := "## tiny-llama\n\n| a | b |\n|---|---|\n| 1 | 2 |\n"
	r := loadTestReport(t, "report_cpu_quick.json")
	r.Model.ID = "tiny-llama"
	_, _, err := RecordText(text, r)
	if err == nil || !strings.Contains(err.Error(), `no "Date" column`) {
		t.Errorf("err %v", err)
	}
	// A heading with text but no table gets a table under the heading.
	out, act, err := RecordText("## tiny-llama\nSome words.\n", r)
	if err != nil || act != "added" || !strings.HasPrefix(out, "## tiny-llama\n\n| Date") || !strings.HasSuffix(out, "\nSome words.\n") {
		t.Errorf("%q %s %v", out, act, err)
	}
}

func TestResolveLogPath(t *testing.T) {
	if got := ResolveLogPath("x/LOG.md"); got != "x/LOG.md" {
		t.Errorf("explicit path changed: %s", got)
	}
	got := ResolveLogPath(DefaultLogPath)
	if root := ModuleRoot(); root != "" && got != filepath.Join(root, "benchmarks", "LOG.md") {
		t.Errorf("default log %s, root %s", got, root)
	}
}
