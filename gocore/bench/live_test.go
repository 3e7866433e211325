package bench

import (
	"context"
	"strings"
	"testing"
	"time"
)

// The live line's counts and ETA, against figures worked out by hand: a
// config of 2 runs x 100 tokens, 50 tokens done after 10 s (5 tok/s), so
// 150 tokens left = 30 s; the next config has 2 x 50 = 100 tokens, 20 s at
// the suite's rate (also 5 tok/s) -> suite 50 s.
func TestLiveLine(t *testing.T) {
	cfg := DefaultRunConfig()
	cfg.Warmup, cfg.Trials = 1, 1
	plan := []Config{{Key: "a", PromptTokens: 8, GenTokens: 100}, {Key: "b", PromptTokens: 8, GenTokens: 50}}
	l := &Live{}
	if l.Line(time.Now()) != "" {
		t.Error("a line before the first config")
	}
	l.startSuite(plan, cfg)
	l.startConfig(0, 2, plan[0], cfg, plan)
	l.startRun("warm-up", 1, 1)
	for range 50 {
		_ = l.onToken(0)
	}
	start := l.configStart
	l.suiteStart = start
	got := l.Line(start.Add(10 * time.Second))
	want := "[1/2] a · warm-up 1/1 · 50/100 tok · 10.0 s · ETA 30.0 s config, 50.0 s suite"
	if got != want {
		t.Errorf("line\n%q\nwant\n%q", got, want)
	}
	l.endRun()
	l.startRun("trial", 1, 1)
	if got := l.Line(start.Add(10 * time.Second)); !strings.Contains(got, "trial 1/1 · 0/100 tok") {
		t.Errorf("after the warm-up: %q", got)
	}
	if liveDuration(3725*time.Second) != "1:02:05" || liveDuration(70*time.Second) != "1:10" {
		t.Error("liveDuration")
	}
}

// Run counts every generated token into the Live of its context.
func TestRunFeedsLive(t *testing.T) {
	cfg := DefaultRunConfig()
	cfg.Configs = []string{"short"}
	cfg.Warmup, cfg.Trials = 1, 2
	l := &Live{}
	if _, err := Run(WithLive(context.Background(), l), &instantGen{}, cfg, nil); err != nil {
		t.Fatal(err)
	}
	if l.suiteDone != 3*64 || l.suiteAll != 3*64 {
		t.Errorf("tokens counted %d of %d, want %d", l.suiteDone, l.suiteAll, 3*64)
	}
}
