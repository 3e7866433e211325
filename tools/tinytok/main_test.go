package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestReproducible rebuilds the tiny tokenizer and checks that it equals the
// committed files byte for byte.
func TestReproducible(t *testing.T) {
	root := filepath.Join("..", "..")
	out := t.TempDir()
	if err := run(filepath.Join(root, "gocore/tokenizer/testdata/bench.txt.gz"), 300000, out); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"tokenizer.json", "tokenizer_config.json"} {
		got, err := os.ReadFile(filepath.Join(out, f))
		if err != nil {
			t.Fatal(err)
		}
		want, err := os.ReadFile(filepath.Join(root, "gocore/tokenizer/tiny", f))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("rebuilt %s differs from gocore/tokenizer/tiny/%s (run go run ./tools/tinytok and regenerate the goldens)", f, f)
		}
	}
}

func TestTooLittleText(t *testing.T) {
	in := filepath.Join(t.TempDir(), "small.txt")
	if err := os.WriteFile(in, []byte("tiny text\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := run(in, 1000, t.TempDir()); err == nil {
		t.Fatal("training on 10 bytes succeeded, want an error")
	}
}
