package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/genbench/genbench/gocore/bench"
	"github.com/genbench/genbench/gocore/model"
	"github.com/genbench/genbench/gocore/tokenizer"
	"github.com/genbench/genbench/gocore/weights"
)

// hubCache lays out a Hugging Face checkpoint the way huggingface_hub's
// cache does (https://huggingface.co/docs/huggingface_hub/guides/manage-cache):
// models--{org}--{name}/blobs/{hash}, snapshots/{commit}/{file} as relative
// symlinks to the blobs, refs/main holding the commit.
func hubCache(t *testing.T, cache, repo, commit, src string) {
	t.Helper()
	root := filepath.Join(cache, "models--"+strings.ReplaceAll(repo, "/", "--"))
	snap := filepath.Join(root, "snapshots", commit)
	for _, d := range []string{filepath.Join(root, "blobs"), snap, filepath.Join(root, "refs")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(data)
		blob := hex.EncodeToString(sum[:])
		if err := os.WriteFile(filepath.Join(root, "blobs", blob), data, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(filepath.Join("..", "..", "blobs", blob), filepath.Join(snap, e.Name())); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(root, "refs", "main"), []byte(commit), 0o644); err != nil {
		t.Fatal(err)
	}
}

// A model given by Hugging Face id resolves from a cache in
// huggingface_hub's layout with no network (offline mode), and the
// benchmark runs on its real files: weights and tokenizer.
func TestModelFromHubCacheOffline(t *testing.T) {
	spec, ok := model.Builtin(model.TinyQwen3)
	if !ok {
		t.Fatal("no tiny-qwen3 built-in")
	}
	m, err := weights.Synthetic(spec, 7)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	src := t.TempDir()
	tj, tc := tokenizer.TinyFiles()
	if err := weights.WriteHF(src, m, tj, tc); err != nil {
		t.Fatal(err)
	}
	cache := t.TempDir()
	const commit = "0123456789abcdef0123456789abcdef01234567"
	hubCache(t, cache, "acme/tiny-qwen3", commit, src)

	cmd := exec.Command(binary, "--model", "acme/tiny-qwen3", "--suite", "quick", "--warmup", "0", "--trials", "1", "--no-save", "--json")
	cmd.Env = append(os.Environ(), "HF_HUB_OFFLINE=1", "HF_HUB_CACHE="+cache, "HF_HOME="+t.TempDir(), "HF_ENDPOINT=http://127.0.0.1:9")
	cmd.Dir = t.TempDir()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("genbench: %v\n%s", err, errb.String())
	}
	if err := bench.Validate(out.Bytes()); err != nil {
		t.Fatalf("report does not validate: %v", err)
	}
	var rep bench.Report
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatal(err)
	}
	wantPath := filepath.Join(cache, "models--acme--tiny-qwen3", "snapshots", commit)
	if rep.Model.ID != "acme/tiny-qwen3" || rep.Model.Path != wantPath || rep.Model.Synthetic ||
		rep.Model.Arch != "qwen3" || rep.PromptSource != bench.PromptText || !rep.Complete {
		t.Errorf("model = %+v, prompt source %q, complete %v; want id acme/tiny-qwen3 at %s from real files",
			rep.Model, rep.PromptSource, rep.Complete, wantPath)
	}

	// Without the snapshot, the same command fails offline and says where it looked.
	if err := os.RemoveAll(filepath.Join(cache, "models--acme--tiny-qwen3")); err != nil {
		t.Fatal(err)
	}
	cmd = exec.Command(binary, "--model", "acme/tiny-qwen3", "--suite", "quick", "--no-save")
	cmd.Env = append(os.Environ(), "HF_HUB_OFFLINE=1", "HF_HUB_CACHE="+cache, "HF_HOME="+t.TempDir())
	errb.Reset()
	cmd.Stderr = &errb
	err = cmd.Run()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || !strings.Contains(errb.String(), cache) {
		t.Errorf("missing model offline: err %v, stderr %q; want exit 1 naming %s", err, errb.String(), cache)
	}
}
