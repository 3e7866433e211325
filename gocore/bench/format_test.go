package bench

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"
)

// parseMarkdownTable reads a markdown table the way a renderer would: the
// header, an alignment line of dashes, then rows of the same width.
func parseMarkdownTable(t *testing.T, s string) (header []string, align []string, rows [][]string) {
	t.Helper()
	var lines []string
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, "|") {
			lines = append(lines, l)
		}
	}
	if len(lines) < 2 {
		t.Fatalf("no markdown table in:\n%s", s)
	}
	header = splitRow(lines[0])
	align = splitRow(lines[1])
	for _, a := range align {
		if strings.Trim(a, "-:") != "" || !strings.Contains(a, "---") {
			t.Fatalf("alignment cell %q in %q", a, lines[1])
		}
	}
	for _, l := range lines[2:] {
		r := splitRow(l)
		if len(r) != len(header) {
			t.Fatalf("row %q has %d cells, header %d", l, len(r), len(header))
		}
		rows = append(rows, r)
	}
	return header, align, rows
}

func TestSummaryMarkdown(t *testing.T) {
	r := loadTestReport(t, "report_cuda_full.json")
	s := Summary(r, FormatMarkdown)
	header, align, rows := parseMarkdownTable(t, s)
	if header[0] != "Key" || header[4] != "E2E tok/s" || len(rows) != 7 {
		t.Fatalf("header %q, %d rows", header, len(rows))
	}
	if !strings.HasSuffix(align[4], ":") || strings.HasSuffix(align[0], ":") {
		t.Errorf("numbers must be right-aligned, text left: %q", align)
	}
	// The medians of the stored report, row by row.
	want := map[string]string{"short": "410.2", "medium": "405.0", "long": "380.0", "full-pipe": "390.5"}
	for _, row := range rows {
		if w, ok := want[row[0]]; ok && row[4] != w {
			t.Errorf("%s: E2E %q, want %q", row[0], row[4], w)
		}
	}
	if strings.ContainsAny(s, "┌│└") {
		t.Error("markdown output has box-drawing characters")
	}
}

func TestSummaryCSVAndJSON(t *testing.T) {
	r := loadTestReport(t, "report_cpu_quick.json")
	recs, err := csv.NewReader(strings.NewReader(Summary(r, FormatCSV))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 3 {
		t.Fatalf("%d CSV records, want header + 2", len(recs))
	}
	col := map[string]int{}
	for i, k := range recs[0] {
		col[k] = i
	}
	if recs[2][col["key"]] != "medium" || recs[2][col["e2e_tok_s"]] != "10.2" || recs[1][col["model"]] != "meta-llama/Llama-3.2-1B-Instruct" {
		t.Errorf("CSV rows %q", recs[1:])
	}
	var arr []map[string]any
	if err := json.Unmarshal([]byte(Summary(r, FormatJSON)), &arr); err != nil {
		t.Fatal(err)
	}
	if len(arr) != 2 || arr[0]["key"] != "short" || arr[0]["e2e_tok_s"] != 12.1 || arr[1]["prompt_tokens"] != 256.0 {
		t.Errorf("JSON rows %v", arr)
	}
	// CV is stddev / mean of the stored trials, recomputed on load.
	f := r.Configs[0].E2ETokS
	if cv := arr[0]["e2e_cv"].(float64); cv != f.CV || cv <= 0 {
		t.Errorf("e2e_cv %v, figure %+v", cv, f)
	}
	sc := bufio.NewScanner(strings.NewReader(Summary(r, FormatJSONL)))
	n := 0
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("line %d: %v", n+1, err)
		}
		if m["key"] != r.Configs[n].Key {
			t.Errorf("line %d key %v", n+1, m["key"])
		}
		n++
	}
	if n != 2 {
		t.Errorf("%d JSONL lines, want 2", n)
	}
}

func TestMarkdownEscapesPipes(t *testing.T) {
	tb := &Table{Columns: []Column{{Title: "a|b"}, {Title: "n", Right: true}}}
	tb.add([]string{"x|y", "1"}, nil)
	h, _, rows := parseMarkdownTable(t, tb.Markdown())
	if h[0] != "a|b" || rows[0][0] != "x|y" || rows[0][1] != "1" {
		t.Errorf("header %q rows %q", h, rows)
	}
}

func TestValidateFormatAndDidYouMean(t *testing.T) {
	for _, f := range Formats() {
		if err := ValidateFormat(f); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	err := ValidateFormat("markdown")
	if err == nil || !strings.Contains(err.Error(), "table, md, csv, json, jsonl") {
		t.Errorf("markdown: %v", err)
	}
	cases := []struct{ in, want string }{
		{"jsnl", `"jsonl"`}, {"sohrt", `"short"`}, {"medum", `"medium"`}, {"ful", `"full"`}, {"zzzzzz", ""},
	}
	choices := append(ConfigKeys(), "quick", "standard", "full", "jsonl")
	for _, c := range cases {
		got := DidYouMean(c.in, choices)
		if (c.want == "") != (got == "") || !strings.Contains(got, c.want) {
			t.Errorf("DidYouMean(%q) = %q, want %s", c.in, got, c.want)
		}
	}
}
