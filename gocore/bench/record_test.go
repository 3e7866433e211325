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

// oldFormatLog is a log as it was written before the roofline columns: two
// model sections, old rows only, prose around them.
const oldFormatLog = `# Generation Benchmark Log

Some prose a person wrote.

## meta-llama/Llama-3.2-1B-Instruct

| Date                 | Commit       | Engine                 | Device                      | DType    | short | medium | prefill | decode | long | sampled | full-pipe |
|----------------------|--------------|------------------------|-----------------------------|----------|------:|-------:|--------:|-------:|-----:|--------:|----------:|
| 2026-11-20T10:00:00Z | 0123456789ab | genbench 0.1.0         | cuda NVIDIA GeForce RTX 5080 | bfloat16 | 398.0 |  391.5 |   350.2 |  401.0 | 340.9 |  380.3 |     377.7 |

A note under the first table.

## Qwen/Qwen3-1.7B

| Date                 | Commit       | Engine         | Device                       | DType    | short | medium |
|----------------------|--------------|----------------|------------------------------|----------|------:|-------:|
| 2026-11-21T10:00:00Z | 89abcdef0123 | genbench 0.1.0 | cuda NVIDIA GeForce RTX 5080 | bfloat16 | 250.0 |  245.1 |

---
Closing words.
`

// withPct gives every config of r a decode_read_pct from trials.
func withPct(r *Report, trials ...[]float64) {
	for i := range r.Configs {
		f := NewFigure(trials[i%len(trials)])
		r.Configs[i].DecodeReadPct = &f
	}
}

func TestRecordRooflineColumnsRoundTrip(t *testing.T) {
	gpu := loadTestReport(t, "report_cuda_full.json")
	withPct(gpu, []float64{40, 41, 43}, []float64{5.2, 5.3, 5.4})
	text, act, err := RecordText(oldFormatLog, gpu)
	if err != nil || act != "added" {
		t.Fatalf("record into an old-format log: %s %v", act, err)
	}
	// Everything outside the first table is as it was.
	tableOf := func(s, heading string) (before, table, after string) {
		t.Helper()
		h := strings.Index(s, heading)
		start := h + strings.Index(s[h:], "\n|") + 1
		end := start + strings.Index(s[start:], "\n\n") + 1
		return s[:start], s[start:end], s[end:]
	}
	oldBefore, _, oldAfter := tableOf(oldFormatLog, "## meta-llama/Llama-3.2-1B-Instruct")
	before, table, after := tableOf(text, "## meta-llama/Llama-3.2-1B-Instruct")
	if before != oldBefore || after != oldAfter {
		t.Errorf("text outside the table changed:\n%s", text)
	}
	header, align, rows := parseMarkdownTable(t, table)
	want := "Date,Commit,Engine,Device,DType,short,medium,prefill,decode,long,sampled,full-pipe," +
		"short %BW,medium %BW,prefill %BW,decode %BW,long %BW,sampled %BW,full-pipe %BW"
	if strings.Join(header, ",") != want {
		t.Fatalf("columns %q, want %s", header, want)
	}
	if align[12] != strings.Repeat("-", len(align[12])-1)+":" {
		t.Errorf("the %%BW columns are numbers, right-aligned: %q", align[12])
	}
	if len(rows) != 2 {
		t.Fatalf("%d rows, want the old one and the new one", len(rows))
	}
	// The old row keeps its cells and has none in the new columns.
	old := rows[0]
	if old[0] != "2026-11-20T10:00:00Z" || old[3] != "cuda NVIDIA GeForce RTX 5080" || old[5] != "398.0" || old[11] != "377.7" {
		t.Errorf("old row %q", old)
	}
	for i := 12; i < len(old); i++ {
		if old[i] != "" {
			t.Errorf("old row has %q in %s", old[i], header[i])
		}
	}
	// The new row: medians, as percentages (one decimal below 10 %).
	row := rows[1]
	if row[5] != "410.2" || row[12] != "41%" || row[13] != "5.3%" || row[14] != "41%" || row[18] != "41%" {
		t.Errorf("new row %q", row)
	}

	// Recording the run again replaces its row, and only it.
	withPct(gpu, []float64{60, 61, 62})
	gpu.Configs[0].E2ETokS = NewFigure([]float64{500, 500, 500})
	again, act, err := RecordText(text, gpu)
	if err != nil || act != "updated" {
		t.Fatalf("second record: %s %v", act, err)
	}
	oldLines, newLines := strings.Split(text, "\n"), strings.Split(again, "\n")
	if len(oldLines) != len(newLines) {
		t.Fatalf("the update changed the number of lines:\n%s", again)
	}
	for i := range oldLines {
		if oldLines[i] == newLines[i] {
			continue
		}
		if !strings.HasPrefix(oldLines[i], "| 2026-11-27T03:15:00Z") {
			t.Errorf("line %d changed:\n%s\n%s", i+1, oldLines[i], newLines[i])
		}
	}
	section := func(s string) string {
		from := strings.Index(s, "## meta-llama")
		return s[from : from+strings.Index(s[from:], "A note")]
	}
	_, _, rows2 := parseMarkdownTable(t, section(again))
	if len(rows2) != 2 || rows2[1][5] != "500.0" || rows2[1][12] != "61%" || rows2[1][13] != "61%" || rows2[0][5] != "398.0" {
		t.Errorf("rows after the update %q", rows2)
	}

	// A run without a measured bandwidth (e.g. --engine hf) leaves its
	// roofline cells empty; the new-format table takes it as it is.
	hf := loadTestReport(t, "report_cpu_quick.json")
	hf.Model.ID = gpu.Model.ID
	third, act, err := RecordText(again, hf)
	if err != nil || act != "added" {
		t.Fatalf("third record: %s %v", act, err)
	}
	header3, _, rows3 := parseMarkdownTable(t, section(third))
	if strings.Join(header3, ",") != want || len(rows3) != 3 || rows3[2][5] != "12.1" || rows3[2][12] != "" {
		t.Errorf("third record: %q %q", header3, rows3)
	}
	if !strings.HasSuffix(third, oldAfter) {
		t.Errorf("the rest of the file changed")
	}
}

func TestRecordRooflineNewKeysGoBeforeThePctColumns(t *testing.T) {
	r := loadTestReport(t, "report_cpu_quick.json")
	r.Model.ID = "tiny-llama"
	withPct(r, []float64{2, 2, 2})
	text, _, err := RecordText("", r)
	if err != nil {
		t.Fatal(err)
	}
	sweep := loadTestReport(t, "report_cpu_quick.json")
	sweep.Model.ID = "tiny-llama"
	sweep.CreatedAt = "2026-12-01T00:00:00Z"
	sweep.Configs = sweep.Configs[:1]
	sweep.Configs[0].Key = "p64-g32"
	withPct(sweep, []float64{3, 3, 3})
	text, _, err = RecordText(text, sweep)
	if err != nil {
		t.Fatal(err)
	}
	header, _, rows := parseMarkdownTable(t, text)
	got := strings.Join(header[5:], ",")
	want := "short,medium,prefill,decode,long,sampled,full-pipe,p64-g32,short %BW,medium %BW,p64-g32 %BW"
	if got != want {
		t.Errorf("columns %s, want %s", got, want)
	}
	if rows[0][13] != "2.0%" || rows[0][15] != "" || rows[1][12] != "12.1" || rows[1][15] != "3.0%" {
		t.Errorf("rows %q", rows)
	}
}
