//go:build linux

package tty

import (
	"fmt"
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

// openPTY opens a new pseudo-terminal and returns its slave end; both ends
// are closed when the test ends.
func openPTY(t *testing.T) *os.File {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	if err != nil {
		t.Fatalf("open /dev/ptmx: %v", err)
	}
	t.Cleanup(func() { m.Close() })
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// The slave end of a new pseudo-terminal is a terminal.
func TestPTYIsTerminal(t *testing.T) {
	s := openPTY(t)
	if !IsTerminal(s) {
		t.Error("pty slave not reported as a terminal")
	}
}

// A Console on a terminal draws at the terminal's width.
func TestConsoleTerminalWidth(t *testing.T) {
	s := openPTY(t)
	if w, _, _ := NewConsole(s, 0).GetTermSize(); w != 80 {
		t.Errorf("a terminal without a size: width %d, want 80", w)
	}
	if err := unix.IoctlSetWinsize(int(s.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: 30, Col: 132}); err != nil {
		t.Fatal(err)
	}
	if w, h, _ := NewConsole(s, 0).GetTermSize(); w != 132 || h != 30 {
		t.Errorf("size %dx%d, want 132x30", w, h)
	}
}
