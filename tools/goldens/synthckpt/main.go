// Command synthckpt writes the checkpoints of the real-shape golden
// fixtures: for each entry of tools/goldens/real.json, the dev model's
// published config.json (testdata/checkpoints) with num_hidden_layers cut
// to the entry's layer count, and the engine's synthetic weights of the
// entry's seed (gocore/weights.Synthetic) as model.safetensors. Hugging Face
// transformers then runs them (tools/goldens/make_goldens.py --real-src),
// and the engine's golden test regenerates the same weights from the seed.
//
//	go run ./tools/goldens/synthckpt -out build/goldens-src
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/genbench/genbench/gocore/model"
	"github.com/genbench/genbench/gocore/weights"
)

type entry struct {
	Checkpoint string `json:"checkpoint"`
	Layers     int    `json:"layers"`
	Seed       uint64 `json:"seed"`
}

func main() {
	out := flag.String("out", "build/goldens-src", "directory to write one checkpoint folder per fixture into")
	list := flag.String("real", "tools/goldens/real.json", "the real-shape fixture list")
	ckpts := flag.String("checkpoints", "testdata/checkpoints", "the dev models' side files")
	flag.Parse()
	if err := run(*out, *list, *ckpts); err != nil {
		fmt.Fprintln(os.Stderr, "synthckpt:", err)
		os.Exit(1)
	}
}

func run(out, list, ckpts string) error {
	raw, err := os.ReadFile(list)
	if err != nil {
		return err
	}
	var entries map[string]entry
	if err := json.Unmarshal(raw, &entries); err != nil {
		return fmt.Errorf("%s: %w", list, err)
	}
	names := make([]string, 0, len(entries))
	for n := range entries {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		e := entries[name]
		cfg, err := TruncatedConfig(filepath.Join(ckpts, e.Checkpoint, "config.json"), e.Layers)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		dir := filepath.Join(out, name)
		if err := write(dir, cfg, e.Seed); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		fmt.Fprintf(os.Stderr, "synthckpt: %s (%d layers, seed %d)\n", dir, e.Layers, e.Seed)
	}
	return nil
}

// TruncatedConfig is the config.json at path with num_hidden_layers set to
// layers, every other key as it is.
func TruncatedConfig(path string, layers int) ([]byte, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var cfg map[string]any
	if err := json.Unmarshal(raw, &cfg); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	cfg["num_hidden_layers"] = layers
	return json.MarshalIndent(cfg, "", "  ")
}

func write(dir string, cfg []byte, seed uint64) error {
	spec, err := model.ParseConfig(cfg, nil)
	if err != nil {
		return err
	}
	m, err := weights.Synthetic(spec, seed)
	if err != nil {
		return err
	}
	defer m.Close()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := weights.WriteHF(dir, m, nil, nil); err != nil {
		return err
	}
	// the published config, not the engine's rendering of the spec, and no
	// generation_config.json (the published one is not part of the fixture)
	if err := os.Remove(filepath.Join(dir, "generation_config.json")); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "config.json"), append(cfg, '\n'), 0o644)
}
