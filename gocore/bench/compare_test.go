package bench

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"
)

// twoRuns is a pair of reports of the same setup, B's E2E trials chosen so
// the ratio and its uncertainty are known by hand.
func twoRuns(t *testing.T, a, b []float64) (*Report, *Report) {
	t.Helper()
	ra := loadTestReport(t, "report_cpu_quick.json")
	rb := loadTestReport(t, "report_cpu_quick.json")
	rb.CreatedAt = "2026-11-28T00:00:00Z"
	ra.Configs[1].E2ETokS = NewFigure(a)
	rb.Configs[1].E2ETokS = NewFigure(b)
	return ra, rb
}

func TestCompareHeadlineAndUncertainty(t *testing.T) {
	a, b := twoRuns(t, []float64{99, 100, 101}, []float64{130, 132, 134})
	out, _ := CompareWith([]*Report{a, b}, CompareOptions{Figures: []string{"e2e"}})
	// Hand: ratio 132/100; CVs 1/100 and 2/132; uncertainty ratio*hypot.
	r := 1.32
	u := r * math.Hypot(0.01, 2.0/132)
	want := fmt.Sprintf("medium, E2E tok/s: [2] is 1.32× faster than [1] (±%.1f %%)", 100*u/r)
	if !strings.Contains(out, want) {
		t.Errorf("compare lacks %q:\n%s", want, out)
	}
	if !strings.Contains(out, "1.32x ±0.02") {
		t.Errorf("ratio cell with uncertainty missing:\n%s", out)
	}
	if strings.Contains(out, "TTFT") {
		t.Errorf("--figure e2e shows other figures:\n%s", out)
	}
	// Within noise: medians 100 and 101 with 10 % spread.
	a, b = twoRuns(t, []float64{90, 100, 110}, []float64{91, 101, 111})
	out, _ = CompareWith([]*Report{a, b}, CompareOptions{Figures: []string{"e2e"}})
	if !strings.Contains(out, "medium, E2E tok/s: [2] and [1] are within noise (1.01×") {
		t.Errorf("noise not recognised:\n%s", out)
	}
}

func TestCompareNotesEveryDifference(t *testing.T) {
	a, b := twoRuns(t, []float64{1, 1, 1}, []float64{1, 1, 1})
	b.Flags.Warmup, b.Flags.Trials, b.Flags.Seed = 0, 1, 7
	b.Engine, b.EngineVersion = "hf", "4.57.0"
	b.DType = "float16"
	b.PromptSource = PromptRandom
	b.Environment.GitCommit = "0123456789abcdef"
	b.Environment.Device.Name = "other"
	a.Environment.Bandwidth = &DeviceBandwidth{GBs: 9.37, Method: "cpu read", MeasuredAt: "2026-12-03T00:54:36Z"}
	b.Environment.Bandwidth = &DeviceBandwidth{GBs: 7.3, Method: "cpu read", MeasuredAt: "2026-12-03T00:54:44Z", Cached: true}
	out, _ := CompareWith([]*Report{a, b}, CompareOptions{})
	for _, w := range []string{"warm-up differs: [2] 0 runs, [1] 2 runs", "trials differs: [2] 1 trial, [1] 3 trials",
		"seed differs", "engine differs: [2] hf 4.57.0", "dtype differs", "prompt source differs", "commit differs: [2] 0123456789ab", "device differs",
		"device bandwidth (the 100 % of % of BW) differs: [2] 7.30 GB/s measured 2026-12-03T00:54:44Z, [1] 9.37 GB/s measured 2026-12-03T00:54:36Z"} {
		if !strings.Contains(out, w) {
			t.Errorf("compare lacks %q:\n%s", w, out)
		}
	}
}

func TestCompareFailIfSlower(t *testing.T) {
	// 20 % slower with about 1 % noise: fails a 5 % gate, passes a 30 % one.
	a, b := twoRuns(t, []float64{99, 100, 101}, []float64{79, 80, 81})
	_, res := CompareWith([]*Report{a, b}, CompareOptions{Figures: []string{"e2e"}, FailIfSlower: 5})
	if len(res.Regressions) != 1 || !strings.Contains(res.Regressions[0], "medium E2E tok/s: [2] is 20.0 % worse") {
		t.Errorf("regressions %q", res.Regressions)
	}
	if _, res = CompareWith([]*Report{a, b}, CompareOptions{Figures: []string{"e2e"}, FailIfSlower: 30}); len(res.Regressions) != 0 {
		t.Errorf("30 %% gate: %q", res.Regressions)
	}
	// 8 % slower but with 10 % noise: not beyond noise for a 5 % gate.
	a, b = twoRuns(t, []float64{90, 100, 110}, []float64{82, 92, 102})
	if _, res = CompareWith([]*Report{a, b}, CompareOptions{Figures: []string{"e2e"}, FailIfSlower: 5}); len(res.Regressions) != 0 {
		t.Errorf("noisy runs flagged: %q", res.Regressions)
	}
	// Lower is better for TTFT: a 50 % longer TTFT is a regression.
	a, b = twoRuns(t, []float64{1, 1, 1}, []float64{1, 1, 1})
	b.Configs[0].TTFTMs = NewFigure([]float64{915, 915, 915})
	a.Configs[0].TTFTMs = NewFigure([]float64{610, 610, 610})
	_, res = CompareWith([]*Report{a, b}, CompareOptions{Figures: []string{"ttft"}, FailIfSlower: 10})
	if len(res.Regressions) != 1 || !strings.HasPrefix(res.Regressions[0], "short TTFT ms") {
		t.Errorf("TTFT regressions %q", res.Regressions)
	}
}

func TestCompareFormats(t *testing.T) {
	a, b := twoRuns(t, []float64{99, 100, 101}, []float64{130, 132, 134})
	md, _ := CompareWith([]*Report{a, b}, CompareOptions{Format: FormatMarkdown, Figures: []string{"e2e"}})
	header, _, rows := parseMarkdownTable(t, md)
	if strings.Join(header, ",") != "Config,Figure,[1],[2],[2]/[1]" || len(rows) != 2 || rows[1][0] != "medium" || rows[1][3] != "132.0" {
		t.Errorf("markdown %q %q", header, rows)
	}
	js, _ := CompareWith([]*Report{a, b}, CompareOptions{Format: FormatJSON, Figures: []string{"e2e"}})
	var arr []map[string]any
	if err := json.Unmarshal([]byte(js), &arr); err != nil {
		t.Fatal(err)
	}
	if len(arr) != 4 || arr[3]["config"] != "medium" || arr[3]["report"] != 2.0 || math.Abs(arr[3]["ratio"].(float64)-1.32) > 1e-12 {
		t.Errorf("json rows %v", arr)
	}
	if err := ValidateCompareOptions(CompareOptions{Figures: []string{"e2ee"}}); err == nil || !strings.Contains(err.Error(), `did you mean "e2e"`) {
		t.Errorf("bad figure: %v", err)
	}
}

// The regression gate does not count a lower % of BW that comes from a
// higher device figure (a bandwidth measured again on a quiet machine).
func TestCompareGateSkipsPercentOfDifferentBandwidths(t *testing.T) {
	a, b := twoRuns(t, []float64{100, 100, 100}, []float64{100, 100, 100})
	pa, pb := NewFigure([]float64{40, 40, 40}), NewFigure([]float64{20, 20, 20})
	a.Configs[1].DecodeReadPct, b.Configs[1].DecodeReadPct = &pa, &pb
	a.Environment.Bandwidth = &DeviceBandwidth{GBs: 8, Method: "cpu read", MeasuredAt: "2026-12-03T00:54:36Z"}
	b.Environment.Bandwidth = &DeviceBandwidth{GBs: 16, Method: "cpu read", MeasuredAt: "2026-12-03T01:16:03Z"}
	_, res := CompareWith([]*Report{a, b}, CompareOptions{Figures: []string{"bwpct"}, FailIfSlower: 5})
	if len(res.Regressions) != 0 {
		t.Errorf("a halved %% of a doubled device figure failed the gate: %q", res.Regressions)
	}
	// The same device figure: a halved percentage is a regression.
	b.Environment.Bandwidth.GBs = 8
	_, res = CompareWith([]*Report{a, b}, CompareOptions{Figures: []string{"bwpct"}, FailIfSlower: 5})
	if len(res.Regressions) != 1 || !strings.Contains(res.Regressions[0], "medium % of device BW: [2] is 50.0 % worse") {
		t.Errorf("regressions %q", res.Regressions)
	}
}
