package main

import (
	"context"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"

	"github.com/genbench/genbench/gocore/bench"
	"github.com/genbench/genbench/gocore/tty"
)

// livePlainInterval is the rate of the live line as plain lines in a log
// (--progress always without a terminal); on a terminal it is redrawn
// every bench.LiveInterval.
const livePlainInterval = 10 * time.Second

// liveBarWidth is the width of the token bar on a terminal (narrower when
// the terminal is).
const liveBarWidth = 20

// progressOutput shows a benchmark's progress on w: event lines (loading,
// each config, warm-up and trial) and a live line (config k/n, run, tokens
// done, elapsed, ETA for the config and the suite) from a bench.Live.
//
// On a terminal the live line is a progress bar (github.com/vbauerster/mpb)
// redrawn in place every bench.LiveInterval, with the event lines printed
// above it; it appears once the first config starts, so download bars and
// loading lines come before it undisturbed. Elsewhere the live line is a
// plain line every livePlainInterval, without control characters.
type progressOutput struct {
	w       io.Writer
	tty     bool
	console mpb.ConsoleWriter // what the bar draws on (a terminal)
	live    *bench.Live
	stop    func() // ends the watcher

	mu       sync.Mutex // event lines, and the bar's creation and end
	bars     *mpb.Progress
	bar      *mpb.Bar
	refresh  chan any // a frame of bars: the watcher's ticks, event lines
	shutdown chan any // closed when the bars end (also on a write error)
	state    atomic.Pointer[bench.LiveState]
}

// startProgress begins showing progress per mode (auto, always, never);
// it returns nil when nothing is shown.
func startProgress(w io.Writer, isTTY bool, mode string, quiet bool) *progressOutput {
	if quiet || mode == bench.ProgressNever || (mode == bench.ProgressAuto && !isTTY) {
		return nil
	}
	var console mpb.ConsoleWriter
	if isTTY {
		console = tty.NewConsole(w, 0)
	}
	return newProgress(w, console, &bench.Live{}, livePlainInterval)
}

// newProgress shows progress on w: a bar on console when it is not nil,
// else plain lines every plain.
func newProgress(w io.Writer, console mpb.ConsoleWriter, live *bench.Live, plain time.Duration) *progressOutput {
	p := &progressOutput{w: w, tty: console != nil, console: console, live: live, refresh: make(chan any), shutdown: make(chan any)}
	if p.tty {
		p.stop = live.Watch(bench.LiveInterval, p.draw)
	} else {
		p.stop = live.Watch(plain, func(s bench.LiveState) { p.line(s.String()) })
	}
	return p
}

// context attaches the live state to ctx for the runner.
func (p *progressOutput) context(ctx context.Context) context.Context {
	if p == nil {
		return ctx
	}
	return bench.WithLive(ctx, p.live)
}

// line prints an event line (above the bar on a terminal).
func (p *progressOutput) line(s string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bars == nil {
		fmt.Fprintln(p.w, s)
		return
	}
	// shown at the next frame: draw one now, with the state as it is now
	fmt.Fprintln(p.bars, s)
	if st := p.live.State(time.Now()); st.Started {
		p.set(st)
	}
	p.frame()
}

// draw shows s on the bar (the watcher's tick), starting the bar at the
// first tick.
func (p *progressOutput) draw(s bench.LiveState) {
	p.mu.Lock()
	if p.bars == nil {
		p.state.Store(&s)
		p.bars = mpb.New(mpb.WithConsoleWriter(p.console), mpb.WithManualRefresh(p.refresh), mpb.WithShutdownNotifier(p.shutdown))
		p.bar = p.bars.New(0, mpb.BarStyle(), mpb.BarWidth(liveBarWidth),
			mpb.PrependDecorators(decor.Any(func(decor.Statistics) string { return p.text(bench.LiveState.Head) })),
			mpb.AppendDecorators(decor.Any(func(decor.Statistics) string {
				return p.text(func(s bench.LiveState) string { return s.Counts() + " · " + s.Tail() })
			})))
	}
	p.set(s)
	p.mu.Unlock()
	p.frame()
}

// frame draws a frame now (nothing once the bars ended, e.g. after a
// failed write to the terminal).
func (p *progressOutput) frame() {
	select {
	case p.refresh <- time.Now():
	case <-p.shutdown:
	}
}

// set makes s the state the next frame shows (p.mu held).
func (p *progressOutput) set(s bench.LiveState) {
	p.state.Store(&s)
	p.bar.SetTotal(s.Gen, false)
	p.bar.SetCurrent(s.Tokens)
}

// text renders part of the last state drawn.
func (p *progressOutput) text(part func(bench.LiveState) string) string {
	if s := p.state.Load(); s != nil {
		return part(*s)
	}
	return ""
}

// close stops the live line and erases the bar.
func (p *progressOutput) close() {
	if p == nil {
		return
	}
	p.stop()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bars != nil {
		p.bar.Abort(true)
		p.bars.Wait()
		p.bars, p.bar = nil, nil
	}
}
