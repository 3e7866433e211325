package tokenizer

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// tokenizer.json and tokenizer_config.json that are devices or FIFOs are
// refused at once (they used to grow memory without bound or block).
func TestLoadRefusesSpecialFiles(t *testing.T) {
	for _, tc := range []struct{ file, kind string }{
		{"tokenizer.json", "urandom"},
		{"tokenizer.json", "fifo"},
		{"tokenizer_config.json", "zero"},
		{"tokenizer_config.json", "fifo"},
	} {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "tokenizer.json"), []byte(`{}`), 0o644); err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, tc.file)
		os.Remove(p)
		var err error
		if tc.kind == "fifo" {
			err = syscall.Mkfifo(p, 0o644)
		} else {
			err = os.Symlink("/dev/"+tc.kind, p)
		}
		if err != nil {
			t.Fatal(err)
		}
		_, err = Load(dir)
		if err == nil || !strings.Contains(err.Error(), p+" is not a regular file") || strings.Count(err.Error(), p) != 1 {
			t.Errorf("%s as %s: %v, want it refused as not a regular file, the path named once", tc.file, tc.kind, err)
		}
	}
}
