package model

import (
	"fmt"
	"math"
	"reflect"
	"testing"

	"github.com/genbench/genbench/gocore/bf16"
)

// A config.json with only the geometry keys takes the defaults of the
// transformers configuration class of its architecture (LlamaConfig,
// Qwen3Config, Gemma3TextConfig), written out here by hand; every
// architecture of the table is covered, and its config.json reads back.
func TestArchitectureDefaults(t *testing.T) {
	type want struct {
		modelType                       string
		headDim                         int
		theta, local, eps               float64
		tie                             bool
		bos, pad                        int32
		eos                             []int32
		act                             Activation
		qkNorm, sandwichNorm, gemmaNorm bool
		embedScale, attnScale           float32
		window                          int
		sliding                         []int // sliding layer indices of 8
	}
	full := []int(nil)
	wants := map[string]want{
		"LlamaForCausalLM": {"llama", 512 / 8, 10000, 0, 1e-6, false, 1, -1, []int32{2}, SiLU, false, false, false,
			1, float32(math.Pow(64, -0.5)), 0, full},
		"Qwen3ForCausalLM": {"qwen3", 128, 10000, 0, 1e-6, false, -1, -1, nil, SiLU, true, false, false,
			1, float32(math.Pow(128, -0.5)), 0, full},
		"Gemma3ForCausalLM": {"gemma3_text", 256, 1e6, 10000, 1e-6, true, 2, 0, []int32{1}, GELUTanh, true, true, true,
			bf16.Round(float32(math.Sqrt(512))), float32(math.Pow(256, -0.5)), 4096, []int{0, 1, 2, 3, 4, 6, 7}},
	}
	if len(wants) != len(archs) {
		t.Fatalf("%d architectures in the table, %d here", len(archs), len(wants))
	}
	for _, a := range archs {
		w, ok := wants[a.hfName]
		if !ok {
			t.Fatalf("no expectations for %s", a.hfName)
		}
		cfg := fmt.Sprintf(`{"architectures": [%q], "hidden_size": 512, "intermediate_size": 1024, "num_hidden_layers": 8,
			"num_attention_heads": 8, "vocab_size": 1000}`, a.hfName)
		s, err := ParseConfig([]byte(cfg), nil)
		if err != nil {
			t.Fatalf("%s: %v", a.hfName, err)
		}
		var sliding []int
		for i := range s.LayerTypes {
			if s.IsSliding(i) {
				sliding = append(sliding, i)
			}
		}
		got := want{s.ModelType, s.HeadDim, s.RopeTheta, s.RopeLocalTheta, s.RMSNormEps, s.TieWordEmbeddings, s.BOSTokenID, s.PadTokenID,
			s.EOSTokenIDs, s.Activation, s.QKNorm, s.SandwichNorm, s.GemmaNorm, s.EmbedScale, s.AttnScale, s.SlidingWindow, sliding}
		if !reflect.DeepEqual(got, w) {
			t.Errorf("%s defaults:\n got %+v\nwant %+v", a.hfName, got, w)
		}
		out, err := s.ConfigJSON()
		if err != nil {
			t.Fatalf("%s: ConfigJSON: %v", a.hfName, err)
		}
		back, err := ParseConfig(out, nil)
		if err != nil || !reflect.DeepEqual(back, s) {
			t.Errorf("%s: config.json does not read back: %v\n%s", a.hfName, err, out)
		}
	}
}
