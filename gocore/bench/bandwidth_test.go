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
	b, err := CachedBandwidth(path, cpu2, measure(12.5e9), now, false)
	if err != nil || b == nil || calls != 1 || b.Cached || b.GBs != 12.5 || b.Method != "test read" || b.MeasuredAt != "2026-12-02T21:00:00Z" {
		t.Fatalf("first lookup: %+v, %v, %d measurements", b, err, calls)
	}
	b, err = CachedBandwidth(path, cpu2, measure(99e9), now.Add(time.Hour), false)
	if err != nil || calls != 1 || !b.Cached || b.GBs != 12.5 || b.MeasuredAt != "2026-12-02T21:00:00Z" {
		t.Fatalf("second lookup did not read the cache: %+v, %v, %d measurements", b, err, calls)
	}
	for i, other := range []engine.DeviceInfo{
		{Kind: "cpu", Name: "Test CPU", Threads: 1},
		{Kind: "cpu", Name: "Other CPU", Threads: 2},
		{Kind: "cuda", Name: "Test CPU", Index: 0},
		{Kind: "cuda", Name: "Test CPU", Index: 1},
	} {
		b, err = CachedBandwidth(path, other, measure(float64(i+1)*1e9), now, false)
		if err != nil || calls != 2+i || b.Cached || b.GBs != float64(i+1) {
			t.Fatalf("%s: %+v, %v, %d measurements (want a new one)", BandwidthKey(other), b, err, calls)
		}
	}
	if b, _ = CachedBandwidth(path, cpu2, measure(1), now, false); !b.Cached || b.GBs != 12.5 {
		t.Fatalf("the first device's figure was lost: %+v", b)
	}
	if err := os.WriteFile(path, []byte("{not json"), 0o644); err != nil {
		t.Fatal(err)
	}
	calls = 0
	if b, err = CachedBandwidth(path, cpu2, measure(7e9), now, false); err != nil || calls != 1 || b.GBs != 7 {
		t.Fatalf("corrupt cache: %+v, %v, %d measurements", b, err, calls)
	}
	if b, _ = CachedBandwidth(path, cpu2, measure(1), now, false); !b.Cached || b.GBs != 7 {
		t.Fatalf("corrupt cache not rewritten: %+v", b)
	}
	if _, err := CachedBandwidth(filepath.Join(t.TempDir(), "x.json"), cpu2, measure(0), now, false); err == nil || !strings.Contains(err.Error(), "want > 0") {
		t.Errorf("a zero measurement: %v, want an error", err)
	}
}

// --remeasure-bandwidth: a cached device is measured again and its entry
// replaced; the other devices' entries stay; the old figure is named.
func TestCachedBandwidthRemeasure(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bandwidth.json")
	calls := 0
	measure := func(bps float64) func() (float64, string, error) {
		return func() (float64, string, error) { calls++; return bps, "test read", nil }
	}
	t0 := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	cpu2 := engine.DeviceInfo{Kind: "cpu", Name: "Test CPU", Threads: 2}
	gpu := engine.DeviceInfo{Kind: "cuda", Name: "Test GPU"}
	if _, err := CachedBandwidth(path, cpu2, measure(3e9), t0, false); err != nil { // measured on a loaded machine
		t.Fatal(err)
	}
	if _, err := CachedBandwidth(path, gpu, measure(900e9), t0, false); err != nil {
		t.Fatal(err)
	}
	// Re-measuring a device not in the cache is a plain first measurement.
	cpu1 := engine.DeviceInfo{Kind: "cpu", Name: "Test CPU", Threads: 1}
	if b, err := CachedBandwidth(path, cpu1, measure(6e9), t0, true); err != nil || b.Replaced != nil || b.Cached || calls != 3 {
		t.Fatalf("remeasure of an uncached device: %+v %v", b, err)
	}
	t1 := t0.Add(26 * time.Hour)
	b, err := CachedBandwidth(path, cpu2, measure(12e9), t1, true)
	if err != nil || calls != 4 || b.Cached || b.GBs != 12 || b.MeasuredAt != "2026-12-02T10:00:00Z" ||
		b.Replaced == nil || b.Replaced.GBs != 3 || b.Replaced.MeasuredAt != "2026-12-01T08:00:00Z" {
		t.Fatalf("remeasure: %+v (replaced %+v), %v, %d measurements", b, b.Replaced, err, calls)
	}
	// The next plain run reads the new figure; the GPU's is untouched.
	b, _ = CachedBandwidth(path, cpu2, measure(1), t1.Add(time.Hour), false)
	if !b.Cached || b.GBs != 12 || b.MeasuredAt != "2026-12-02T10:00:00Z" || b.Replaced != nil || calls != 4 {
		t.Fatalf("after remeasure: %+v, %d measurements", b, calls)
	}
	b, _ = CachedBandwidth(path, gpu, measure(1), t1, false)
	if !b.Cached || b.GBs != 900 || b.MeasuredAt != "2026-12-01T08:00:00Z" {
		t.Fatalf("another device's entry changed: %+v", b)
	}
	data, _ := os.ReadFile(path)
	if strings.Contains(string(data), "replaced") || strings.Contains(string(data), "cached") {
		t.Errorf("the cache stores only figures, method and time:\n%s", data)
	}
}

// A cache file written before --remeasure-bandwidth existed is read as it
// is; an entry stored without its time says so rather than failing.
func TestCachedBandwidthOldFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bandwidth.json")
	old := `{
  "devices": {
    "cpu|Test CPU|0|2 threads": {
      "gb_s": 10.65,
      "method": "cpu read, 2 threads, 256 MiB",
      "measured_at": "2026-12-02T22:10:31Z"
    },
    "cuda|Test GPU|0|0 threads": {
      "gb_s": 850,
      "method": "cuda device-to-device copy"
    }
  }
}
`
	if err := os.WriteFile(path, []byte(old), 0o644); err != nil {
		t.Fatal(err)
	}
	never := func() (float64, string, error) { return 0, "", fmt.Errorf("measured although cached") }
	b, err := CachedBandwidth(path, engine.DeviceInfo{Kind: "cpu", Name: "Test CPU", Threads: 2}, never, time.Now(), false)
	if err != nil || !b.Cached || b.GBs != 10.65 || b.MeasuredAt != "2026-12-02T22:10:31Z" {
		t.Fatalf("old cache entry: %+v %v", b, err)
	}
	b, err = CachedBandwidth(path, engine.DeviceInfo{Kind: "cuda", Name: "Test GPU"}, never, time.Now(), false)
	if err != nil || !b.Cached || b.GBs != 850 || b.MeasuredAt != MeasuredUnknown {
		t.Fatalf("entry without a time: %+v %v", b, err)
	}
	r := &Report{}
	r.Environment.Bandwidth = b
	if got, want := bandwidthLine(r), "bandwidth (what % of BW is relative to): 850 GB/s (cuda device-to-device copy; cached, measured at an unknown time; --remeasure-bandwidth measures it again)"; got != want {
		t.Errorf("summary line\n%s\nwant\n%s", got, want)
	}
	if data, _ := os.ReadFile(path); string(data) != old {
		t.Errorf("reading the cache rewrote it:\n%s", data)
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
	for _, want := range []string{"% of BW", "bandwidth (what % of BW is relative to): 4.00 GB/s (test copy; measured ", pctText(reps[0].Configs[0].DecodeReadPct)} {
		if !strings.Contains(sum, want) {
			t.Errorf("summary lacks %q:\n%s", want, sum)
		}
	}
	if !strings.Contains(sum, "bandwidth (what % of BW is relative to): ") || !strings.Contains(sum, " in this run)") {
		t.Errorf("first summary does not say the figure was measured in this run:\n%s", sum)
	}
	if s := Summary(reps[1], FormatTable); !strings.Contains(s, "(test copy; cached, measured ") || !strings.Contains(s, "--remeasure-bandwidth measures it again") {
		t.Errorf("second summary does not say the figure was cached and how to measure it again:\n%s", s)
	}
	// --remeasure-bandwidth: measured again although cached, the cache
	// entry replaced, the old figure named.
	cfg.RemeasureBandwidth = true
	rep, err := Run(context.Background(), g, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	b := rep.Environment.Bandwidth
	if g.calls != 2 || b == nil || b.Cached || b.Replaced == nil || b.Replaced.GBs != 4 || b.Replaced.MeasuredAt != reps[0].Environment.Bandwidth.MeasuredAt {
		t.Fatalf("--remeasure-bandwidth: %+v after %d measurements", b, g.calls)
	}
	if data, err := Marshal(rep); err != nil || Validate(data) != nil {
		t.Errorf("report of a re-measurement does not validate: %v %v", err, Validate(data))
	}
	if s := Summary(rep, FormatTable); !strings.Contains(s, "in this run, replacing the cached 4.00 GB/s measured "+b.Replaced.MeasuredAt) {
		t.Errorf("summary of a re-measurement:\n%s", s)
	}
	if csv := Summary(reps[0], FormatCSV); !strings.Contains(csv, "decode_read_pct") {
		t.Errorf("csv rows lack decode_read_pct:\n%s", csv)
	}
	cmp, _ := CompareWith(reps, CompareOptions{Figures: []string{"bw"}})
	if !strings.Contains(cmp, "% of device BW") || !strings.Contains(cmp, "Decode GB/s") || pct <= 0 {
		t.Errorf("compare --figure bw lacks the percentage:\n%s", cmp)
	}
}
