package sidefile

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestRead(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "config.json")
	if err := os.WriteFile(good, []byte(`{"a":1}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if b, err := Read(good, 7); err != nil || string(b) != `{"a":1}` {
		t.Errorf("Read(7-byte file, 7) = %q, %v", b, err)
	}
	if _, err := Read(good, 6); err == nil || !strings.Contains(err.Error(), "is 7 bytes, over the limit of 6 bytes") {
		t.Errorf("over the limit: %v", err)
	}
	link := filepath.Join(dir, "link.json")
	if err := os.Symlink(good, link); err != nil {
		t.Fatal(err)
	}
	if b, err := Read(link, 100); err != nil || string(b) != `{"a":1}` {
		t.Errorf("through a symlink: %q, %v", b, err)
	}
	if _, err := Read(filepath.Join(dir, "missing.json"), 100); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v, want ErrNotExist", err)
	}
	fifo := filepath.Join(dir, "fifo.json")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	zero := filepath.Join(dir, "zero.json")
	if err := os.Symlink("/dev/zero", zero); err != nil {
		t.Fatal(err)
	}
	loop := filepath.Join(dir, "loop.json")
	if err := os.Symlink(loop, loop); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{
		fifo: "is not a regular file (a FIFO)",
		zero: "is not a regular file (a character device)",
		dir:  "is not a regular file (a directory)",
		loop: "too many levels of symbolic links",
	} {
		if _, err := Read(path, 1<<30); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Read(%s) = %v, want %q", path, err, want)
		}
	}
}
