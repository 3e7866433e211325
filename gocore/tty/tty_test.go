package tty

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

// /dev/null is a character device but not a terminal; nor are pipes,
// regular files and plain writers.
func TestNotTerminals(t *testing.T) {
	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer null.Close()
	fi, _ := null.Stat()
	if fi.Mode()&os.ModeCharDevice == 0 {
		t.Fatalf("%s is not a character device here", os.DevNull)
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	f, err := os.CreateTemp(t.TempDir(), "x")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for name, wr := range map[string]any{"/dev/null": null, "pipe": w, "file": f, "buffer": &bytes.Buffer{}} {
		if IsTerminal(wr.(interface{ Write([]byte) (int, error) })) {
			t.Errorf("%s reported as a terminal", name)
		}
	}
}

// A Console redraws in place: each flush after the first is preceded by
// cursor up over the lines drawn and an erase. Its width is the columns
// asked for, else 80 on a writer without a terminal size.
func TestConsole(t *testing.T) {
	var b bytes.Buffer
	c := NewConsole(&b, 0)
	if w, _, err := c.GetTermSize(); err != nil || w != 80 || !c.IsTerminal() {
		t.Errorf("size %d, %v; terminal %v", w, err, c.IsTerminal())
	}
	if w, _, _ := NewConsole(&b, 120).GetTermSize(); w != 120 {
		t.Errorf("fixed width %d", w)
	}
	for _, frame := range []string{"one\n", "two\nthree\n", "four\n"} {
		c.WriteString(frame)
		if err := c.Flush(strings.Count(frame, "\n")); err != nil {
			t.Fatal(err)
		}
	}
	if want := "one\n\x1b[1A\x1b[Jtwo\nthree\n\x1b[2A\x1b[Jfour\n"; b.String() != want {
		t.Errorf("got %q\nwant %q", b.String(), want)
	}
}
