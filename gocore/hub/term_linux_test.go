//go:build linux

package hub

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/genbench/genbench/gocore/tty"
)

// openPTY returns the two ends of a new pseudo-terminal.
func openPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	must(t, err)
	t.Cleanup(func() { m.Close() })
	must(t, unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0))
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	must(t, err)
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	must(t, err)
	t.Cleanup(func() { s.Close() })
	return m, s
}

func TestProgressOnTerminalOnly(t *testing.T) {
	master, slave := openPTY(t)
	if !tty.IsTerminal(slave) {
		t.Fatal("pty slave not reported as a terminal")
	}
	// The bars are read from the other end as they are drawn.
	var got syncBuffer
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := master.Read(buf)
			got.Write(buf[:n])
			if err != nil {
				return
			}
		}
	}()
	f := newFakeHub(t)
	f.addRepo(testRepo, testCommit, singleFileModel())
	opts := testOptions(f, t.TempDir())
	opts.Progress = slave
	if _, err := Resolve(context.Background(), testRepo, opts); err != nil {
		t.Fatalf("Resolve: %v", err)
	}
	weightsDone := func(s string) bool {
		i := strings.LastIndex(s, "model.safetensors")
		return i >= 0 && strings.Contains(s[i:], "ETA done")
	}
	for deadline := time.Now().Add(5 * time.Second); !weightsDone(got.String()) && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	s := got.String()
	for _, want := range []string{"config.json", "tokenizer.json", "model.safetensors [", "] 293.0 KiB / 293.0 KiB  ", "/s  ETA done"} {
		if !strings.Contains(s, want) {
			t.Errorf("terminal progress lacks %q: %q", want, s)
		}
	}
	if !weightsDone(s) {
		t.Errorf("the weights' bar does not end done: %q", s)
	}

	// The same download with a non-terminal writer writes nothing.
	var buf bytes.Buffer
	opts = testOptions(f, t.TempDir())
	opts.Progress = &buf
	if _, err := Resolve(context.Background(), testRepo, opts); err != nil {
		t.Fatalf("Resolve: %v", err)
	}
	if buf.Len() != 0 {
		t.Errorf("progress written to a non-terminal: %q", buf.String())
	}
}
