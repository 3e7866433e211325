package bench

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// The progress lines every front end prints, written out by hand.
func TestEventLine(t *testing.T) {
	short, _ := LookupConfig("short")
	sampled, _ := LookupConfig("sampled")
	for _, c := range []struct {
		e    Event
		want string
	}{
		{Event{Kind: EventConfigStart, Config: short, ConfigIndex: 0, ConfigCount: 2}, "[1/2] short: prompt 64, gen 64, greedy"},
		{Event{Kind: EventConfigStart, Config: sampled, ConfigIndex: 4, ConfigCount: 5}, "[5/5] sampled: prompt 256, gen 256, temp=0.8 top_k=50 top_p=0.9"},
		{Event{Kind: EventWarmup, Config: short, Run: 1, Runs: 2}, "  warm-up 1/2 done"},
		{Event{Kind: EventTrial, Config: short, Run: 3, Runs: 3, Figures: TrialFigures{E2ETokS: 123.456, TTFTMs: 7.25, PrefillTokS: 8827.6, DecodeTokS: 130}},
			"  trial 3/3: 123.5 tok/s (TTFT 7.2 ms, prefill 8827.6 tok/s, decode 130.0 tok/s)"},
		{Event{Kind: EventConfigDone, Config: short, Result: &ConfigResult{E2ETokS: Figure{Median: 99.94}}}, "  short: median 99.9 tok/s"},
		{Event{Kind: EventConfigDone, Config: short}, ""},
	} {
		if got := EventLine(c.e); got != c.want {
			t.Errorf("EventLine(%v %s) = %q, want %q", c.e.Kind, c.e.Config.Key, got, c.want)
		}
	}
}

// A session that fails mid-suite still saves (amended) and renders the
// finished configs, and its error names the saved report.
func TestSessionSavesPartialReport(t *testing.T) {
	dir := t.TempDir()
	cfg := quickConfig()
	cfg.OutputDir = dir
	var lines []string
	out, err := Session{
		Config:   cfg,
		Gen:      &fakeGen{t: t, failAt: 5}, // short takes calls 1-4; medium's first fails
		Progress: func(l string) { lines = append(lines, l) },
		Amend:    func(r *Report) { r.EngineVersion = "amended" },
	}.Run(context.Background())
	if out == nil || err == nil || !strings.Contains(err.Error(), "out of memory") {
		t.Fatalf("Run = %v, %v; want outputs and the generation error", out, err)
	}
	if out.SaveErr != nil || filepath.Dir(out.Path) != dir {
		t.Fatalf("saved to %q (%v), want a file in %s", out.Path, out.SaveErr, dir)
	}
	if want := "(the finished configs are in " + out.Path + ")"; !strings.HasSuffix(err.Error(), want) {
		t.Errorf("error %q does not end with %q", err, want)
	}
	saved, rerr := LoadReport(out.Path)
	if rerr != nil || saved.EngineVersion != "amended" || len(saved.Configs) != 1 || saved.Complete {
		t.Errorf("saved report: %v; engine version %q, %d configs", rerr, saved.EngineVersion, len(saved.Configs))
	}
	if !strings.Contains(out.Summary, "INCOMPLETE: 1 of 2 planned configs finished") {
		t.Errorf("summary does not say the run is incomplete:\n%s", out.Summary)
	}
	want := []string{"[1/2] short: prompt 64, gen 64, greedy", "  warm-up 1/1 done"}
	if len(lines) < 7 || !slices.Equal(lines[:2], want) || !strings.HasPrefix(lines[5], "  short: median ") || lines[6] != "[2/2] medium: prompt 256, gen 256, greedy" {
		t.Errorf("progress lines %q", lines)
	}
}

// A session loads the model its configuration names, says so, and does
// not save with NoSave; a model that cannot load is a LoadError.
func TestSessionLoadsTheModel(t *testing.T) {
	cfg := DefaultRunConfig()
	cfg.Device, cfg.Threads, cfg.Configs, cfg.Warmup, cfg.Trials, cfg.NoSave = "cpu", 1, []string{"short"}, 0, 1, true
	var lines []string
	out, err := Session{Config: cfg, Progress: func(l string) { lines = append(lines, l) }}.Run(context.Background())
	if err != nil || out == nil || out.Path != "" || out.Report.Model.ID != "tiny-llama" {
		t.Fatalf("Run = %+v, %v", out, err)
	}
	if len(lines) < 3 || lines[0] != "loading tiny-llama on cpu ..." || !slices.ContainsFunc(lines, func(l string) bool { return strings.HasPrefix(l, "loaded tiny-llama (llama, 2 layers) on cpu ") }) {
		t.Errorf("progress lines %q", lines)
	}
	cfg.Model = filepath.Join(t.TempDir(), "missing")
	out, err = Session{Config: cfg}.Run(context.Background())
	var le *LoadError
	if out != nil || !errors.As(err, &le) || le.Model != cfg.Model || strings.Count(err.Error(), strconv.Quote(cfg.Model)) != 1 || strings.Contains(err.Error(), "engine: ") {
		t.Errorf("missing model: %v, %v", out, err)
	}
}

// A session whose output directory is unwritable fails before the run; one
// whose save fails after the run still returns the report and its summary.
func TestSessionSaveFailures(t *testing.T) {
	file := filepath.Join(t.TempDir(), "afile")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := quickConfig()
	cfg.OutputDir = filepath.Join(file, "sub")
	gen := &fakeGen{t: t}
	out, err := Session{Config: cfg, Gen: gen}.Run(context.Background())
	if out != nil || err == nil || !strings.Contains(err.Error(), "output directory "+cfg.OutputDir) || gen.calls != 0 {
		t.Errorf("unwritable directory: %v, %v after %d generations; want an error before the run", out, err, gen.calls)
	}
	dir := filepath.Join(t.TempDir(), "reports")
	cfg.OutputDir = dir
	out, err = Session{
		Config: cfg,
		Gen:    &fakeGen{t: t},
		// the directory turns into a file during the run
		Amend: func(*Report) {
			if err := os.Remove(dir); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(dir, nil, 0o644); err != nil {
				t.Fatal(err)
			}
		},
	}.Run(context.Background())
	if err != nil || out == nil || out.SaveErr == nil || out.Path != "" {
		t.Fatalf("save failure: %+v, %v; want outputs with SaveErr", out, err)
	}
	if len(out.Report.Configs) != 2 || out.Summary != RenderSummary(out.Report) {
		t.Errorf("the report and summary are not kept: %d configs, summary %q", len(out.Report.Configs), out.Summary)
	}
}
