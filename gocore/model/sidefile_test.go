package model

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// config.json and generation_config.json that are devices or FIFOs are
// refused at once (they used to grow memory without bound or block).
func TestLoadSpecRefusesSpecialFiles(t *testing.T) {
	for _, tc := range []struct{ file, kind string }{
		{"config.json", "zero"},
		{"config.json", "fifo"},
		{"generation_config.json", "urandom"},
		{"generation_config.json", "fifo"},
	} {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(`{"architectures":["LlamaForCausalLM"]}`), 0o644); err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, tc.file)
		os.Remove(p)
		var err error
		switch tc.kind {
		case "fifo":
			err = syscall.Mkfifo(p, 0o644)
		default:
			err = os.Symlink("/dev/"+tc.kind, p)
		}
		if err != nil {
			t.Fatal(err)
		}
		_, err = LoadSpec(dir)
		if err == nil || !strings.Contains(err.Error(), p+" is not a regular file") {
			t.Errorf("%s as %s: %v, want it refused as not a regular file", tc.file, tc.kind, err)
		}
	}
}
