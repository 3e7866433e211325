package main

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/genbench/genbench/gocore/bench"
)

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestProgressModes(t *testing.T) {
	var b bytes.Buffer
	for _, c := range []struct {
		tty   bool
		mode  string
		quiet bool
		shown bool
	}{
		{true, "auto", false, true}, {false, "auto", false, false}, {false, "always", false, true},
		{true, "never", false, false}, {true, "always", true, false},
	} {
		p := startProgress(&b, c.tty, c.mode, c.quiet)
		if (p != nil) != c.shown {
			t.Errorf("tty %v mode %s quiet %v: shown %v, want %v", c.tty, c.mode, c.quiet, p != nil, c.shown)
		}
		p.close()
	}
}

// On a terminal the live line is redrawn in place (\r ... \x1b[K) and
// erased before an event line and at the end.
func TestProgressLiveLineOnTerminal(t *testing.T) {
	var b lockedBuffer
	p := startProgress(&b, true, "auto", false)
	p.line("[1/1] short: prompt 64, gen 64, greedy")
	p.mu.Lock()
	p.live = liveForTest()
	p.mu.Unlock()
	time.Sleep(3 * liveTTYInterval)
	p.line("  trial 1/1: 1.0 tok/s")
	p.close()
	out := b.String()
	if !strings.Contains(out, "\r[1/1] short · trial 1/1 · 0/64 tok") || !strings.Contains(out, "\x1b[K") {
		t.Errorf("no live line drawn: %q", out)
	}
	if !strings.Contains(out, "\r\x1b[K  trial 1/1: 1.0 tok/s\n") {
		t.Errorf("the live line is not erased before an event line: %q", out)
	}
}

func liveForTest() *bench.Live { return bench.NewLiveForTest("short", 64) }
