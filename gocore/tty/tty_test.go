package tty

import (
	"bytes"
	"os"
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
