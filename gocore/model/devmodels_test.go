package model

import (
	"path/filepath"
	"reflect"
	"testing"
)

// The built-in specs of the dev models are what their published
// config.json and generation_config.json (testdata/checkpoints, the values
// of MODELS.md §1) parse to: running a dev model by id with synthetic
// weights and loading its real checkpoint give the same model.
func TestBuiltinDevSpecsMatchTheirCheckpointFiles(t *testing.T) {
	for id, dir := range map[string]string{
		"meta-llama/Llama-3.2-1B-Instruct": "meta-llama--Llama-3.2-1B-Instruct",
		"Qwen/Qwen3-1.7B":                  "Qwen--Qwen3-1.7B",
		"google/gemma-3-1b-it":             "google--gemma-3-1b-it",
	} {
		t.Run(dir, func(t *testing.T) {
			loaded, err := LoadSpec(filepath.Join("..", "..", "testdata", "checkpoints", dir))
			if err != nil {
				t.Fatal(err)
			}
			builtin, ok := Builtin(id)
			if !ok {
				t.Fatalf("%s is not a built-in spec", id)
			}
			loaded.Name, builtin.Name = "", ""
			if !reflect.DeepEqual(loaded, builtin) {
				t.Errorf("built-in spec differs from its checkpoint files:\nfiles:    %+v\nbuilt-in: %+v", *loaded, *builtin)
			}
		})
	}
}
