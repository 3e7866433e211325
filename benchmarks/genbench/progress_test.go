package main

import (
	"bytes"
	"errors"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/genbench/genbench/gocore/bench"
	"github.com/genbench/genbench/gocore/tty"
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
	var b lockedBuffer
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
		if p != nil && p.tty != c.tty {
			t.Errorf("tty %v mode %s: drawn as a bar %v", c.tty, c.mode, p.tty)
		}
		p.close()
	}
}

// frameConsole is a console that tells when a frame was written, so a test
// sees each frame drawn before it goes on.
type frameConsole struct {
	*tty.Console
	frames chan struct{}
}

func newFrameConsole(w *lockedBuffer, columns int) frameConsole {
	return frameConsole{tty.NewConsole(w, columns), make(chan struct{}, 64)}
}

func (c frameConsole) Flush(lines int) error {
	err := c.Console.Flush(lines)
	c.frames <- struct{}{}
	return err
}

// eraseLine is what the console writes before redrawing a one-line bar:
// cursor up one line, erase to the end of the screen.
const eraseLine = "\x1b[1A\x1b[J"

// escapes matches the console's control sequences.
var escapes = regexp.MustCompile(`\x1b\[[0-9]*[A-Za-z]`)

// On a terminal the live line is a bar redrawn in place at the width of
// the terminal; event lines print above it, and it is erased at the end.
// The text is checked against a state worked out by hand: 32 of 64 tokens
// of the only run after 10 s, so 10 s left for the config and the suite.
func TestProgressBarOnTerminal(t *testing.T) {
	var b lockedBuffer
	console := newFrameConsole(&b, 100)
	p := newProgress(&b, console, &bench.Live{}, time.Hour) // the test draws
	p.line("[1/1] short: prompt 64, gen 64, greedy")
	live, start := bench.NewLiveForTest("short", 64, 32)
	p.draw(live.State(start.Add(10 * time.Second)))
	<-console.frames
	p.line("  trial 1/1: 3.2 tok/s (TTFT 1.0 ms, prefill 64.0 tok/s, decode 3.1 tok/s)")
	<-console.frames
	live2, start2 := bench.NewLiveForTest("short", 64, 64)
	p.draw(live2.State(start2.Add(20 * time.Second)))
	<-console.frames
	p.close()
	out := b.String()

	if !strings.HasPrefix(out, "[1/1] short: prompt 64, gen 64, greedy\n") {
		t.Errorf("the event line before the bar is not printed as it is: %q", out)
	}
	bar := regexp.MustCompile(`\[1/1\] short · trial 1/1 \[(=*)>?(-*)\] 32/64 tok · 10\.0 s · ETA 10\.0 s config, 10\.0 s suite\n`)
	m := bar.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no bar with the state's text: %q", out)
	}
	if filled, empty := len(m[1])+1, len(m[2]); filled+empty != liveBarWidth-2 || filled != (liveBarWidth-2)/2 {
		t.Errorf("bar %q: %d filled of %d, want half of %d", m[0], filled, filled+empty, liveBarWidth-2)
	}
	if !strings.Contains(out, "] 64/64 tok · 20.0 s · ETA 0.0 s config, 0.0 s suite\n") {
		t.Errorf("the redrawn bar lacks the second state: %q", out)
	}
	// The event line replaces the bar's line, and the bar is drawn below it.
	if !regexp.MustCompile(regexp.QuoteMeta(eraseLine+"  trial 1/1: 3.2 tok/s (TTFT 1.0 ms, prefill 64.0 tok/s, decode 3.1 tok/s)\n") +
		`\[1/1\] short · trial 1/1 \[`).MatchString(out) {
		t.Errorf("the event line is not printed above the bar: %q", out)
	}
	if !strings.HasSuffix(out, "\n"+eraseLine) {
		t.Errorf("the bar is not erased at the end: %q", out)
	}
	for _, l := range strings.Split(escapes.ReplaceAllString(out, ""), "\n") {
		if n := utf8.RuneCountInString(l); n > 100 {
			t.Errorf("a line of %d columns on a terminal of 100: %q", n, l)
		}
	}
}

// On a narrow terminal the bar gives way first, then the text is cut.
func TestProgressBarNarrowTerminal(t *testing.T) {
	var b lockedBuffer
	p := newProgress(&b, newFrameConsole(&b, 40), &bench.Live{}, time.Hour)
	live, start := bench.NewLiveForTest("medium", 256, 100)
	p.draw(live.State(start.Add(5 * time.Second)))
	p.close()
	lines := strings.Split(escapes.ReplaceAllString(b.String(), ""), "\n")
	found := false
	for _, l := range lines {
		if n := utf8.RuneCountInString(l); n > 40 {
			t.Errorf("a line of %d columns on a terminal of 40: %q", n, l)
		}
		if strings.HasPrefix(l, "[1/1] medium · trial 1/1") && strings.HasSuffix(l, "…") {
			found = true
		}
	}
	if !found {
		t.Errorf("no cut live line: %q", b.String())
	}
}

// Without a terminal (--progress always in a log) the live line is a
// plain line now and then, with no control characters.
func TestProgressPlainLines(t *testing.T) {
	var b lockedBuffer
	live, _ := bench.NewLiveForTest("short", 64, 7)
	p := newProgress(&b, nil, live, 10*time.Millisecond)
	p.line("[1/1] short: prompt 64, gen 64, greedy")
	deadline := time.Now().Add(5 * time.Second)
	for strings.Count(b.String(), "\n") < 3 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	p.line("  trial 1/1: 1.0 tok/s")
	p.close()
	out := b.String()
	if strings.ContainsAny(out, "\r\x1b") {
		t.Errorf("control characters in plain progress: %q", out)
	}
	// The ticker runs on its own goroutine, so on a loaded machine a live
	// line may come before the first event line or between the second and
	// close: the event lines must each come once, whole and in order, every
	// other line must be a live line, and at least two live lines must
	// precede the second event (the test waited for three lines).
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	first := slices.Index(lines, "[1/1] short: prompt 64, gen 64, greedy")
	second := slices.Index(lines, "  trial 1/1: 1.0 tok/s")
	if first < 0 || second < first || second < 3 {
		t.Fatalf("event lines missing, out of order or with fewer than two live lines before the second: %q", lines)
	}
	for i, l := range lines {
		if i == first || i == second {
			continue
		}
		if !strings.HasPrefix(l, "[1/1] short · trial 1/1 · 7/64 tok · ") || !strings.Contains(l, " · ETA ") {
			t.Errorf("live line %q", l)
		}
	}
}

// failWriter fails every write, like a terminal that went away.
type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("terminal gone") }

// A terminal that fails to take the bar ends the bar, never the run:
// event lines, ticks and close return.
func TestProgressBarWriteFailure(t *testing.T) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		var b lockedBuffer
		p := newProgress(&b, tty.NewConsole(failWriter{}, 80), &bench.Live{}, time.Hour)
		live, start := bench.NewLiveForTest("short", 64, 1)
		for i := range 3 {
			p.draw(live.State(start.Add(time.Duration(i) * time.Second)))
			p.line("  trial 1/1: 1.0 tok/s")
		}
		p.close()
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("progress hangs after a failed write to the terminal")
	}
}
