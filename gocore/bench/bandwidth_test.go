package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/genbench/genbench/gocore/engine"
)

// The cache: the first lookup measures and writes, the second reads it
// back, another device identity (threads, name or index) measures again,
// and a corrupt file is measured again and rewritten.
func TestCachedBandwidthRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "bandwidth.json")
	calls := 0
	measure := func(bps float64) func() (float64, string, error) {
		return func() (float64, string, error) { calls++; return bps, "test read", nil }
	}
	now := time.Date(2026, 12, 2, 21, 0, 0, 0, time.UTC)
	cpu2 := engine.DeviceInfo{Kind: "cpu", Name: "Test CPU", Threads: 2}
	b, err := CachedBandwidth(path, cpu2, measure(12.5e9), now)
	if err != nil || b == nil || calls != 1 || b.Cached || b.GBs != 12.5 || b.Method != "test read" || b.MeasuredAt != "2026-12-02T21:00:00Z" {
		t.Fatalf("first lookup: %+v, %v, %d measurements", b, err, calls)
	}
	b, err = CachedBandwidth(path, cpu2, measure(99e9), now.Add(time.Hour))
	if err != nil || calls != 1 || !b.Cached || b.GBs != 12.5 || b.MeasuredAt != "2026-12-02T21:00:00Z" {
		t.Fatalf("second lookup did not read the cache: %+v, %v, %d measurements", b, err, calls)
	}
	for i, other := range []engine.DeviceInfo{
		{Kind: "cpu", Name: "Test CPU", Threads: 1},
		{Kind: "cpu", Name: "Other CPU", Threads: 2},
		{Kind: "cuda", Name: "Test CPU", Index: 0},
		{Kind: "cuda", Name: "Test CPU", Index: 1},
	} {
		b, err = CachedBandwidth(path, other, measure(float64(i+1)*1e9), now)
		if err != nil || calls != 2+i || b.Cached || b.GBs != float64(i+1) {
			t.Fatalf("%s: %+v, %v, %d measurements (want a new one)", BandwidthKey(other), b, err, calls)
		}
	}
	if b, _ = CachedBandwidth(path, cpu2, measure(1), now); !b.Cached || b.GBs != 12.5 {
		t.Fatalf("the first device's figure was lost: %+v", b)
	}
	if err := os.WriteFile(path, []byte("{not json"), 0o644); err != nil {
		t.Fatal(err)
	}
	calls = 0
	if b, err = CachedBandwidth(path, cpu2, measure(7e9), now); err != nil || calls != 1 || b.GBs != 7 {
		t.Fatalf("corrupt cache: %+v, %v, %d measurements", b, err, calls)
	}
	if b, _ = CachedBandwidth(path, cpu2, measure(1), now); !b.Cached || b.GBs != 7 {
		t.Fatalf("corrupt cache not rewritten: %+v", b)
	}
	if _, err := CachedBandwidth(filepath.Join(t.TempDir(), "x.json"), cpu2, measure(0), now); err == nil || !strings.Contains(err.Error(), "want > 0") {
		t.Errorf("a zero measurement: %v, want an error", err)
	}
}

// The percentage against hand-computed values.
func TestPercentOfBandwidth(t *testing.T) {
	p := percentOfBandwidth(NewFigure([]float64{10, 20, 15}), 40)
	want := []float64{25, 50, 37.5}
	for i := range want {
		if p.Trials[i] != want[i] {
			t.Fatalf("trials %v, want %v", p.Trials, want)
		}
	}
	if p.Median != 37.5 || p.Min != 25 || p.Max != 50 {
		t.Errorf("median/min/max %v/%v/%v, want 37.5/25/50", p.Median, p.Min, p.Max)
	}
}

// bandwidthGen is specGen on a device whose bandwidth is 4 GB/s.
type bandwidthGen struct {
	specGen
	calls int
}

func (g *bandwidthGen) MemoryBandwidth() (float64, string, error) {
	g.calls++
	return 4e9, "test copy", nil
}

// A run on an engine that measures its bandwidth reports it (measured the
// first time, cached the second) and each trial's percentage of it; the
// report validates and the summary, its rows and compare show it.
func TestRunReportsBandwidthPercentage(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", dir)
	t.Setenv("HOME", dir)
	cfg := DefaultRunConfig()
	cfg.Configs = []string{"short"}
	cfg.Warmup, cfg.Trials = 0, 3
	g := &bandwidthGen{}
	var reps []*Report
	for run := 0; run < 2; run++ {
		rep, err := Run(context.Background(), g, cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		b := rep.Environment.Bandwidth
		if b == nil || b.GBs != 4 || b.Cached != (run == 1) || g.calls != 1 {
			t.Fatalf("run %d: bandwidth %+v after %d measurements", run, b, g.calls)
		}
		c := rep.Configs[0]
		if c.DecodeReadPct == nil || c.DecodeReadGBs == nil {
			t.Fatalf("run %d: no percentage (%v, %v)", run, c.DecodeReadGBs, c.DecodeReadPct)
		}
		for i, v := range c.DecodeTokS.Trials {
			// bytes/step × tok/s / 4e9 bytes/s, in percent
			want := float64(c.DecodeReadBytes) * v / 4e9 * 100
			if d := c.DecodeReadPct.Trials[i] - want; d > 1e-9*want || d < -1e-9*want {
				t.Errorf("run %d trial %d: %v%%, want %v%%", run, i, c.DecodeReadPct.Trials[i], want)
			}
		}
		data, err := Marshal(rep)
		if err != nil {
			t.Fatal(err)
		}
		if err := Validate(data); err != nil {
			t.Errorf("report with the device bandwidth does not validate: %v", err)
		}
		f := filepath.Join(dir, fmt.Sprintf("report%d.json", run))
		if err := os.WriteFile(f, data, 0o644); err != nil {
			t.Fatal(err)
		}
		back, err := LoadReport(f)
		if err != nil || back.Environment.Bandwidth == nil || back.Configs[0].DecodeReadPct == nil {
			t.Fatalf("round trip lost the bandwidth: %v", err)
		}
		reps = append(reps, back)
	}
	if _, err := os.Stat(filepath.Join(dir, "genbench", "bandwidth.json")); err != nil {
		t.Errorf("no cache under XDG_CACHE_HOME: %v", err)
	}
	pct := reps[0].Configs[0].DecodeReadPct.Median
	sum := Summary(reps[0], FormatTable)
	for _, want := range []string{"% of BW", "bandwidth: 4.00 GB/s (test copy; measured ", pctText(reps[0].Configs[0].DecodeReadPct)} {
		if !strings.Contains(sum, want) {
			t.Errorf("summary lacks %q:\n%s", want, sum)
		}
	}
	if !strings.Contains(Summary(reps[1], FormatTable), "(test copy; cached, measured ") {
		t.Errorf("second summary does not say the figure was cached")
	}
	if csv := Summary(reps[0], FormatCSV); !strings.Contains(csv, "decode_read_pct") {
		t.Errorf("csv rows lack decode_read_pct:\n%s", csv)
	}
	cmp, _ := CompareWith(reps, CompareOptions{Figures: []string{"bw"}})
	if !strings.Contains(cmp, "% of device BW") || !strings.Contains(cmp, "Decode GB/s") || pct <= 0 {
		t.Errorf("compare --figure bw lacks the percentage:\n%s", cmp)
	}
}
