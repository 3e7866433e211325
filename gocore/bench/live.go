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
	lastRun             int64 // tokens of the run that ended, shown until the next starts
	ended               bool  // between two runs
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
	l.phase, l.run, l.runs = "trial", 1, cfg.Trials // until the first run starts
	if cfg.Warmup > 0 {
		l.phase, l.run, l.runs = "warm-up", 1, cfg.Warmup
	}
	l.ended, l.lastRun = false, 0
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
	l.ended = false
	l.tokens.Store(0)
}

// endRun adds the finished run's tokens: those counted, or generated when
// none were (an engine that calls no OnToken, e.g. one outside the process).
func (l *Live) endRun(generated int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := l.tokens.Swap(0)
	if n == 0 {
		n = int64(generated)
	}
	l.lastRun, l.ended = n, true
	l.configDone += n
	l.suiteDone += n
}

// onToken is the engine's per-token callback.
func (l *Live) onToken(int32) error {
	l.tokens.Add(1)
	return nil
}

// LiveState is a snapshot of a Live at one moment, as the live line shows it.
type LiveState struct {
	Started      bool   // a config has started (false during loading)
	Index, Count int    // the config's index in the plan (0-based) and the plan's length
	Key          string // the config's key
	Phase        string // "warm-up" or "trial"
	Run, Runs    int    // the run within its phase, 1-based, and the phase's runs
	Tokens, Gen  int64  // tokens generated in the current run (or the run just ended), of Gen
	// Elapsed is the time since the config started.
	Elapsed time.Duration
	// ETAKnown is false until a token of the config has been generated;
	// ETAConfig and ETASuite are the time left for the config and for the
	// suite (this config included).
	ETAKnown            bool
	ETAConfig, ETASuite time.Duration
}

// State is l's snapshot at now.
func (l *Live) State(now time.Time) LiveState {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.started {
		return LiveState{}
	}
	cur := l.tokens.Load()
	s := LiveState{Started: true, Index: l.index, Count: l.count, Key: l.key, Phase: l.phase, Run: l.run, Runs: l.runs,
		Tokens: cur, Gen: int64(l.gen), Elapsed: now.Sub(l.configStart)}
	if l.ended {
		s.Tokens = l.lastRun
	}
	done := l.configDone + cur
	suiteDone := l.suiteDone + cur
	suiteElapsed := now.Sub(l.suiteStart)
	if done > 0 && s.Elapsed > 0 {
		rate := float64(done) / s.Elapsed.Seconds()
		s.ETAKnown = true
		s.ETAConfig = time.Duration(float64(l.configTotal-done) / rate * float64(time.Second))
		s.ETASuite = s.ETAConfig + time.Duration(float64(l.afterConfig)/rate*float64(time.Second))
		if suiteDone > 0 && suiteElapsed > 0 {
			// The suite's average rate covers prefill and earlier configs too.
			suiteRate := float64(suiteDone) / suiteElapsed.Seconds()
			s.ETASuite = s.ETAConfig + time.Duration(float64(l.afterConfig)/suiteRate*float64(time.Second))
		}
	}
	return s
}

// Head is the line's start: "[2/7] medium · trial 2/3".
func (s LiveState) Head() string {
	return fmt.Sprintf("[%d/%d] %s · %s %d/%d", s.Index+1, s.Count, s.Key, s.Phase, s.Run, s.Runs)
}

// Counts is the current run's tokens: "143/256 tok".
func (s LiveState) Counts() string { return fmt.Sprintf("%d/%d tok", s.Tokens, s.Gen) }

// Tail is the line's end: "12.3 s · ETA 4 s config, 1:10 suite" (the
// config's elapsed time, then "ETA …" until a token was generated).
func (s LiveState) Tail() string {
	if !s.ETAKnown {
		return liveDuration(s.Elapsed) + " · ETA …"
	}
	return fmt.Sprintf("%s · ETA %s config, %s suite", liveDuration(s.Elapsed), liveDuration(s.ETAConfig), liveDuration(s.ETASuite))
}

// String is the whole line: "[2/7] medium · trial 2/3 · 143/256 tok ·
// 12.3 s · ETA 4 s config, 1:10 suite" ("" before the first config).
func (s LiveState) String() string {
	if !s.Started {
		return ""
	}
	return s.Head() + " · " + s.Counts() + " · " + s.Tail()
}

// Line renders the state at now (State(now).String()).
func (l *Live) Line(now time.Time) string { return l.State(now).String() }

// LiveInterval is the live line's redraw interval on a terminal (4 Hz),
// and the rate at which the C ABI delivers it.
const LiveInterval = 250 * time.Millisecond

// Watch calls fn with l's state every interval, from its own goroutine,
// once a config has started; it is how every front end draws the live
// line, outside the timed path. stop ends it and returns after fn's last
// call, so fn is never called after stop returns.
func (l *Live) Watch(interval time.Duration, fn func(LiveState)) (stop func()) {
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-quit:
				return
			case <-t.C:
				if s := l.State(time.Now()); s.Started {
					fn(s)
				}
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() { close(quit) })
		<-done
	}
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
// run, in its first trial with done tokens generated, and the time the
// config started, for front ends' tests of their rendering.
func NewLiveForTest(key string, gen, done int) (*Live, time.Time) {
	l := &Live{}
	c := Config{Key: key, GenTokens: gen}
	cfg := RunConfig{Trials: 1}
	l.startSuite([]Config{c}, cfg)
	l.startConfig(0, 1, c, cfg, []Config{c})
	l.startRun("trial", 1, 1)
	l.tokens.Store(int64(done))
	l.suiteStart = l.configStart
	return l, l.configStart
}
