package safetensors

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A model.safetensors symlink loop is reported as such, not as a missing
// file; an index that is a device is refused as not a regular file.
func TestOpenDirSpecialFiles(t *testing.T) {
	dir := t.TempDir()
	single := filepath.Join(dir, SingleFileName)
	if err := os.Symlink(single, single); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenDir(dir); err == nil || !strings.Contains(err.Error(), "too many levels of symbolic links") {
		t.Errorf("symlink loop: %v", err)
	}
	dir = t.TempDir()
	index := filepath.Join(dir, IndexFileName)
	if err := os.Symlink("/dev/zero", index); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenDir(dir); err == nil || !strings.Contains(err.Error(), index+" is not a regular file (a character device)") {
		t.Errorf("index is /dev/zero: %v", err)
	}
}
