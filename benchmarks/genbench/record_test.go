package main

import (
	"encoding/csv"
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/genbench/genbench/gocore/bench"
)

// --record alone means the repository's log; "--record FILE" and
// "--record=FILE" name one.
func TestRecordFlagForms(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--suite", "quick", "--record"}, bench.DefaultLogPath},
		{[]string{"--record", "--suite", "quick"}, bench.DefaultLogPath},
		{[]string{"--record", "my.md", "--suite", "quick"}, "my.md"},
		{[]string{"--record=my.md"}, "my.md"},
		{[]string{"--suite", "quick"}, ""},
	} {
		cfg, _, err := parseBench(c.args)
		if err != nil || cfg.Record != c.want {
			t.Errorf("%q: record %q err %v, want %q", c.args, cfg.Record, err, c.want)
		}
	}
	if _, _, err := parseBench([]string{"--trails", "2"}); err == nil || !strings.Contains(err.Error(), `unknown flag: --trails (did you mean "trials"?)`) {
		t.Errorf("--trails: %v", err)
	}
	if _, _, err := parseBench([]string{"--configs", "sohrt"}); err == nil || !strings.Contains(err.Error(), `did you mean "short"?`) {
		t.Errorf("--configs sohrt: %v", err)
	}
	if _, _, err := parseBench([]string{"--format", "markdown"}); err == nil || !strings.Contains(err.Error(), "expected table, md, csv, json, jsonl") {
		t.Errorf("--format markdown: %v", err)
	}
}

// A suite run with --record and --format csv: CSV on stdout (parsable,
// nothing else), the notes on stderr, the log row written; recording the
// saved report again updates the same row; compare's gate fails on a
// slowed-down copy.
func TestRecordFormatAndGateThroughTheBinary(t *testing.T) {
	dir := t.TempDir()
	logPath := filepath.Join(dir, "LOG.md")
	r := genbench(t, "", "--suite", "quick", "--warmup", "0", "--trials", "2", "--output-dir", dir,
		"--format", "csv", "--record", logPath)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	recs, err := csv.NewReader(strings.NewReader(r.stdout)).ReadAll()
	if err != nil || len(recs) != 3 || recs[1][9] != "short" || recs[2][9] != "medium" {
		t.Fatalf("stdout is not the CSV summary (%v):\n%s", err, r.stdout)
	}
	if !strings.Contains(r.stderr, "Recorded in "+logPath) || !strings.Contains(r.stderr, "(added)") {
		t.Errorf("stderr: %s", r.stderr)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	if len(files) != 1 {
		t.Fatalf("reports %v", files)
	}
	rec := genbench(t, "", "record", files[0], "--log", logPath)
	if rec.code != 0 || !strings.Contains(rec.stdout, "(updated)") {
		t.Errorf("record again: exit %d %s %s", rec.code, rec.stdout, rec.stderr)
	}
	data, _ := os.ReadFile(logPath)
	// one row: one date cell (a figure such as 2058.9 also starts with "| 20")
	if n := len(regexp.MustCompile(`\| \d{4}-\d{2}-\d{2}T`).FindAllString(string(data), -1)); n != 1 || !strings.Contains(string(data), "## tiny-llama") {
		t.Errorf("log:\n%s", data)
	}
	// The roofline columns: the decode read bandwidth as a percentage of the
	// device's, a number in each.
	if !regexp.MustCompile(`\| short %BW \| medium %BW \|\n\|[-:|]+\n\|.*\| +\d+(\.\d)?% \| +\d+(\.\d)?% \|\n`).Match(data) {
		t.Errorf("log without the %%BW columns:\n%s", data)
	}

	// A copy 50 % slower on every figure fails a 10 % gate.
	rep, err := bench.LoadReport(files[0])
	if err != nil {
		t.Fatal(err)
	}
	for i := range rep.Configs {
		tr := rep.Configs[i].E2ETokS.Trials
		for j := range tr {
			tr[j] /= 2
		}
		rep.Configs[i].E2ETokS = bench.NewFigure(tr)
	}
	slow := filepath.Join(dir, "slow.json")
	data, _ = bench.Marshal(rep)
	if err := os.WriteFile(slow, data, 0o644); err != nil {
		t.Fatal(err)
	}
	g := genbench(t, "", "compare", "--figure", "e2e", "--fail-if-slower", "10", files[0], slow)
	if g.code != 1 || !strings.Contains(g.stdout, "2.00× slower than [1]") || !strings.Contains(g.stderr, "worse than [1] beyond noise") {
		t.Errorf("gate: exit %d\n%s\n%s", g.code, g.stdout, g.stderr)
	}
	ok := genbench(t, "", "compare", "--figure", "e2e", "--fail-if-slower", "10", files[0], files[0])
	if ok.code != 0 {
		t.Errorf("same report: exit %d %s", ok.code, ok.stderr)
	}
	// plot writes a PNG that decodes; a wrong extension is a usage error.
	img := filepath.Join(dir, "chart.png")
	if p := genbench(t, "", "plot", files[0], slow, "-o", img); p.code != 0 || !strings.Contains(p.stdout, "Wrote "+img) {
		t.Errorf("plot: exit %d %s %s", p.code, p.stdout, p.stderr)
	}
	if f, err := os.Open(img); err != nil {
		t.Error(err)
	} else if _, err := png.Decode(f); err != nil {
		t.Errorf("chart.png: %v", err)
	}
	if p := genbench(t, "", "plot", files[0], "-o", filepath.Join(dir, "chart.jpg")); p.code != 2 || !strings.Contains(p.stderr, ".svg or .png") {
		t.Errorf("plot .jpg: exit %d %s", p.code, p.stderr)
	}
	svg := filepath.Join(dir, "chart.svg")
	if p := genbench(t, "", "plot", "--y-scale", "log", files[0], slow, "-o", svg); p.code != 0 {
		t.Errorf("plot --y-scale log: exit %d %s", p.code, p.stderr)
	} else if b, err := os.ReadFile(svg); err != nil || !strings.Contains(string(b), "tok/s (log scale)") {
		t.Errorf("plot --y-scale log: the chart's axis does not say log scale (%v)", err)
	}
	if p := genbench(t, "", "plot", "--y-scale", "lgo", files[0], "-o", svg); p.code != 2 || !strings.Contains(p.stderr, `expected auto, linear, log (did you mean "log"?)`) {
		t.Errorf("plot --y-scale lgo: exit %d %s", p.code, p.stderr)
	}
	bad := genbench(t, "", "compare", "--figure", "e2f", files[0])
	if bad.code != 2 || !strings.Contains(bad.stderr, `did you mean "e2e"`) {
		t.Errorf("bad figure: exit %d %s", bad.code, bad.stderr)
	}
}
