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
	out := make(chan string, 1)
	go func() {
		var all []byte
		buf := make([]byte, 4096)
		for {
			n, err := master.Read(buf)
			all = append(all, buf[:n]...)
			if err != nil || bytes.Contains(all, []byte("model.safetensors")) && bytes.Contains(all[bytes.Index(all, []byte("model.safetensors")):], []byte("\n")) {
				out <- string(all)
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
	select {
	case s := <-out:
		for _, want := range []string{"config.json", "model.safetensors", "293.0 KiB / 293.0 KiB", "ETA done"} {
			if !strings.Contains(s, want) {
				t.Errorf("terminal progress lacks %q: %q", want, s)
			}
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no progress on the terminal")
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
