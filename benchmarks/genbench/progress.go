package main

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/genbench/genbench/gocore/bench"
)

// Rates of the live progress line.
const (
	liveTTYInterval   = 250 * time.Millisecond // redraw on a terminal (4 Hz)
	livePlainInterval = 10 * time.Second       // a plain line in a log (--progress always)
)

// progressOutput shows a benchmark's progress on w: event lines (loading,
// each config, warm-up and trial) and a live line (tokens done, elapsed,
// ETA for the config and the suite) drawn by its own goroutine from a
// bench.Live. On a terminal the live line is redrawn in place; elsewhere
// it is a plain line every livePlainInterval.
type progressOutput struct {
	w        io.Writer
	tty      bool
	live     *bench.Live
	mu       sync.Mutex // one writer at a time
	drawn    bool       // a live line is on the terminal
	stop     chan struct{}
	done     chan struct{}
	interval time.Duration
}

// startProgress begins showing progress per mode (auto, always, never);
// it returns nil when nothing is shown.
func startProgress(w io.Writer, tty bool, mode string, quiet bool) *progressOutput {
	if quiet || mode == bench.ProgressNever || (mode == bench.ProgressAuto && !tty) {
		return nil
	}
	p := &progressOutput{w: w, tty: tty, live: &bench.Live{}, stop: make(chan struct{}), done: make(chan struct{}), interval: livePlainInterval}
	if tty {
		p.interval = liveTTYInterval
	}
	go p.loop()
	return p
}

// context attaches the live state to ctx for the runner.
func (p *progressOutput) context(ctx context.Context) context.Context {
	if p == nil {
		return ctx
	}
	return bench.WithLive(ctx, p.live)
}

// line prints an event line above the live line.
func (p *progressOutput) line(s string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clear()
	fmt.Fprintln(p.w, s)
}

// clear erases the live line on a terminal.
func (p *progressOutput) clear() {
	if p.tty && p.drawn {
		fmt.Fprint(p.w, "\r\x1b[K")
		p.drawn = false
	}
}

// loop draws the live line until close.
func (p *progressOutput) loop() {
	defer close(p.done)
	t := time.NewTicker(p.interval)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case now := <-t.C:
			p.mu.Lock()
			s := p.live.Line(now)
			if s == "" {
				p.mu.Unlock()
				continue
			}
			if p.tty {
				fmt.Fprint(p.w, "\r"+s+"\x1b[K")
				p.drawn = true
			} else {
				fmt.Fprintln(p.w, s)
			}
			p.mu.Unlock()
		}
	}
}

// close stops the live line and erases it.
func (p *progressOutput) close() {
	if p == nil {
		return
	}
	close(p.stop)
	<-p.done
	p.mu.Lock()
	p.clear()
	p.mu.Unlock()
}
