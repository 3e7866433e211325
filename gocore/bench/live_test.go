package bench

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/genbench/genbench/gocore/engine"
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
	l.endRun(100) // counted tokens win over the run's result
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
	// An engine that reports no tokens on the way (another process's) is
	// counted by what each run returned.
	l = &Live{}
	if _, err := Run(WithLive(context.Background(), l), noTokenGen{&instantGen{}}, cfg, nil); err != nil {
		t.Fatal(err)
	}
	if s := l.State(time.Now()); l.suiteDone != 3*64 || s.Tokens != 64 || !s.ETAKnown {
		t.Errorf("without OnToken: tokens counted %d, want %d; state %+v", l.suiteDone, 3*64, s)
	}
}

// noTokenGen generates without calling OnToken.
type noTokenGen struct{ *instantGen }

func (g noTokenGen) Generate(ctx context.Context, req engine.Request) (*engine.Result, error) {
	req.OnToken = nil
	return g.instantGen.Generate(ctx, req)
}

// Watch reports nothing before the first config, then the state at each
// tick, and never after stop returns.
func TestLiveWatch(t *testing.T) {
	l := &Live{}
	var mu sync.Mutex
	var got []LiveState
	stop := l.Watch(5*time.Millisecond, func(s LiveState) {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, s)
	})
	time.Sleep(30 * time.Millisecond)
	mu.Lock()
	before := len(got)
	mu.Unlock()
	if before != 0 {
		t.Errorf("%d states before the first config", before)
	}
	cfg := DefaultRunConfig()
	cfg.Warmup, cfg.Trials = 0, 2
	plan := []Config{{Key: "a", PromptTokens: 8, GenTokens: 10}}
	l.startSuite(plan, cfg)
	l.startConfig(0, 1, plan[0], cfg, plan)
	l.startRun("trial", 2, 2)
	_ = l.onToken(0)
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		mu.Lock()
		n := len(got)
		mu.Unlock()
		if n >= 2 || time.Now().After(deadline) {
			break
		}
	}
	stop()
	mu.Lock()
	n := len(got)
	mu.Unlock()
	time.Sleep(20 * time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	if n < 2 || len(got) != n {
		t.Fatalf("%d states, %d after stop", n, len(got))
	}
	s := got[n-1]
	if !s.Started || s.Key != "a" || s.Phase != "trial" || s.Run != 2 || s.Runs != 2 || s.Tokens != 1 || s.Gen != 10 || !s.ETAKnown {
		t.Errorf("state %+v", s)
	}
	if !strings.HasPrefix(s.String(), "[1/1] a · trial 2/2 · 1/10 tok · ") {
		t.Errorf("line %q", s.String())
	}
	stop() // a second stop is harmless
}
