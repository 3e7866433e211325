package bench

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// Live is the state of a running benchmark for a live progress line. The
// runner updates it between runs under a lock and, inside a run, only
// adds one to an atomic counter per generated token (the engine's OnToken
// callback, after the token's time is taken); another goroutine renders
// it (Line) at a low rate, outside the timed path.
type Live struct {
	tokens atomic.Int64 // tokens generated in the current run

	mu                  sync.Mutex
	started             bool
	index, count        int
	key                 string
	phase               string // "warm-up" or "trial"
	run, runs           int
	gen                 int
	configStart         time.Time
	configDone          int64 // tokens of the config's finished runs
	configTotal         int64 // tokens of every run of the config
	afterConfig         int64 // tokens of the configs after this one
	suiteStart          time.Time
	suiteDone, suiteAll int64
}

// Progress modes (RunConfig.Progress).
const (
	ProgressAuto   = "auto"
	ProgressAlways = "always"
	ProgressNever  = "never"
)

// ProgressModes lists the --progress values.
func ProgressModes() []string { return []string{ProgressAuto, ProgressAlways, ProgressNever} }

type liveKey struct{}

// WithLive returns a context under which Run reports to l.
func WithLive(ctx context.Context, l *Live) context.Context {
	return context.WithValue(ctx, liveKey{}, l)
}

// liveFrom is the Live of ctx, or nil.
func liveFrom(ctx context.Context) *Live {
	l, _ := ctx.Value(liveKey{}).(*Live)
	return l
}

// startSuite records the plan's total tokens.
func (l *Live) startSuite(plan []Config, cfg RunConfig) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.suiteStart = time.Now()
	l.suiteAll = 0
	for _, c := range plan {
		l.suiteAll += int64((cfg.Warmup + cfg.Trials) * c.GenTokens)
	}
}

// startConfig begins config i of n.
func (l *Live) startConfig(i, n int, c Config, cfg RunConfig, plan []Config) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.started = true
	l.index, l.count, l.key, l.gen = i, n, c.Key, c.GenTokens
	l.configStart = time.Now()
	l.configDone = 0
	l.configTotal = int64((cfg.Warmup + cfg.Trials) * c.GenTokens)
	l.afterConfig = 0
	for _, p := range plan[i+1:] {
		l.afterConfig += int64((cfg.Warmup + cfg.Trials) * p.GenTokens)
	}
}

// startRun begins a warm-up or trial run.
func (l *Live) startRun(phase string, run, runs int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.phase, l.run, l.runs = phase, run, runs
	l.tokens.Store(0)
}

// endRun adds the finished run's tokens.
func (l *Live) endRun() {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := l.tokens.Swap(0)
	l.configDone += n
	l.suiteDone += n
}

// onToken is the engine's per-token callback.
func (l *Live) onToken(int32) error {
	l.tokens.Add(1)
	return nil
}

// Line renders the state at now: "[2/7] medium · trial 2/3 · 143/256 tok ·
// 12.3 s · ETA 4 s config, 1:10 suite" ("" before the first config).
func (l *Live) Line(now time.Time) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.started {
		return ""
	}
	cur := l.tokens.Load()
	done := l.configDone + cur
	elapsed := now.Sub(l.configStart)
	s := fmt.Sprintf("[%d/%d] %s · %s %d/%d · %d/%d tok · %s", l.index+1, l.count, l.key, l.phase, l.run, l.runs, cur, l.gen, liveDuration(elapsed))
	suiteDone := l.suiteDone + cur
	suiteElapsed := now.Sub(l.suiteStart)
	switch {
	case done > 0 && elapsed > 0:
		rate := float64(done) / elapsed.Seconds()
		eta := time.Duration(float64(l.configTotal-done) / rate * float64(time.Second))
		suite := eta + time.Duration(float64(l.afterConfig)/rate*float64(time.Second))
		if suiteDone > 0 && suiteElapsed > 0 {
			// The suite's average rate covers prefill and earlier configs too.
			suiteRate := float64(suiteDone) / suiteElapsed.Seconds()
			suite = eta + time.Duration(float64(l.afterConfig)/suiteRate*float64(time.Second))
		}
		s += fmt.Sprintf(" · ETA %s config, %s suite", liveDuration(eta), liveDuration(suite))
	default:
		s += " · ETA …"
	}
	return s
}

// liveDuration prints 4.2 s, 1:10 or 1:02:05.
func liveDuration(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	if d < time.Minute {
		return fmt.Sprintf("%.1f s", d.Seconds())
	}
	s := int(d.Round(time.Second).Seconds())
	if s < 3600 {
		return fmt.Sprintf("%d:%02d", s/60, s%60)
	}
	return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
}

// NewLiveForTest returns a Live in config key of 1 with gen tokens per
// run, in its first trial, for front ends' tests of their rendering.
func NewLiveForTest(key string, gen int) *Live {
	l := &Live{}
	c := Config{Key: key, GenTokens: gen}
	cfg := RunConfig{Trials: 1}
	l.startSuite([]Config{c}, cfg)
	l.startConfig(0, 1, c, cfg, []Config{c})
	l.startRun("trial", 1, 1)
	return l
}
