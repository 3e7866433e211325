package model

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// want holds the MODELS.md section 1 values of one dev model.
type want struct {
	dir                                         string
	builtin                                     string
	arch                                        Arch
	architecture, modelType                     string
	hidden, inter, layers, heads, kvHeads, hdim int
	vocab, maxPos                               int
	eps, theta, localTheta                      float64
	act                                         string
	qkNorm, sandwich, gemmaNorm                 bool
	embedScale, attnScale                       float32
	window                                      int
	bos, pad                                    int32
	eos, genEOS                                 []int32
	doSample                                    bool
	temp                                        float64
	topK                                        int
	topP                                        float64
	params                                      int64
	global                                      []int // full-attention layers
}

var devModels = []want{
	{
		dir: "llama-3.2-1b-instruct", builtin: "meta-llama/Llama-3.2-1B-Instruct",
		arch: ArchLlama, architecture: "LlamaForCausalLM", modelType: "llama",
		hidden: 2048, inter: 8192, layers: 16, heads: 32, kvHeads: 8, hdim: 64, vocab: 128256, maxPos: 131072,
		eps: 1e-5, theta: 500000, act: "silu", embedScale: 1, attnScale: 0.125,
		bos: 128000, pad: -1, eos: []int32{128001, 128008, 128009}, genEOS: []int32{128001, 128008, 128009},
		doSample: true, temp: 0.6, topK: 50, topP: 0.9,
		// 128256*2048 + 16*(2048*2048*2 + 512*2048*2 + 3*8192*2048 + 2*2048) + 2048
		params: 1235814400,
	},
	{
		dir: "qwen3-1.7b", builtin: "Qwen/Qwen3-1.7B",
		arch: ArchQwen3, architecture: "Qwen3ForCausalLM", modelType: "qwen3",
		hidden: 2048, inter: 6144, layers: 28, heads: 16, kvHeads: 8, hdim: 128, vocab: 151936, maxPos: 40960,
		eps: 1e-6, theta: 1e6, act: "silu", qkNorm: true, embedScale: 1, attnScale: 0.08838834764831845,
		bos: 151643, pad: -1, eos: []int32{151645}, genEOS: []int32{151645, 151643},
		doSample: true, temp: 0.6, topK: 20, topP: 0.95,
		// 151936*2048 + 28*(2048*2048*2 + 1024*2048*2 + 3*6144*2048 + 2*2048 + 2*128) + 2048
		params: 151936*2048 + 28*(2048*2048*2+1024*2048*2+3*6144*2048+2*2048+2*128) + 2048,
	},
	{
		dir: "gemma-3-1b-it", builtin: "google/gemma-3-1b-it",
		arch: ArchGemma3, architecture: "Gemma3ForCausalLM", modelType: "gemma3_text",
		hidden: 1152, inter: 6912, layers: 26, heads: 4, kvHeads: 1, hdim: 256, vocab: 262144, maxPos: 32768,
		eps: 1e-6, theta: 1e6, localTheta: 10000, act: "gelu_pytorch_tanh", qkNorm: true, sandwich: true, gemmaNorm: true,
		embedScale: 34, attnScale: 0.0625, window: 512,
		bos: 2, pad: 0, eos: []int32{1, 106}, genEOS: []int32{1, 106},
		doSample: true, temp: 1, topK: 64, topP: 0.95,
		params: 999885952, // keras-hub's published count (MODELS.md 3)
		global: []int{5, 11, 17, 23},
	},
}

func checkWant(t *testing.T, s *Spec, w want) {
	t.Helper()
	type kv struct {
		key       string
		got, want any
	}
	for _, c := range []kv{
		{"arch", s.Arch, w.arch}, {"architecture", s.Architecture, w.architecture}, {"model_type", s.ModelType, w.modelType},
		{"hidden_size", s.HiddenSize, w.hidden}, {"intermediate_size", s.IntermediateSize, w.inter},
		{"num_hidden_layers", s.NumLayers, w.layers}, {"num_attention_heads", s.NumHeads, w.heads},
		{"num_key_value_heads", s.NumKVHeads, w.kvHeads}, {"head_dim", s.HeadDim, w.hdim},
		{"vocab_size", s.VocabSize, w.vocab}, {"max_position_embeddings", s.MaxPositionEmbeddings, w.maxPos},
		{"rms_norm_eps", s.RMSNormEps, w.eps}, {"rope_theta", s.RopeTheta, w.theta},
		{"rope_local_base_freq", s.RopeLocalTheta, w.localTheta}, {"activation", string(s.Activation), w.act},
		{"qk_norm", s.QKNorm, w.qkNorm}, {"sandwich", s.SandwichNorm, w.sandwich}, {"gemma_norm", s.GemmaNorm, w.gemmaNorm},
		{"embed_scale", s.EmbedScale, w.embedScale}, {"attn_scale", s.AttnScale, w.attnScale},
		{"sliding_window", s.SlidingWindow, w.window}, {"tie", s.TieWordEmbeddings, true},
		{"bos", s.BOSTokenID, w.bos}, {"pad", s.PadTokenID, w.pad},
		{"eos", s.EOSTokenIDs, w.eos}, {"generation eos", s.Generation.EOSTokenIDs, w.genEOS},
		{"stop ids", s.StopIDs(), w.genEOS},
		{"do_sample", s.Generation.DoSample, w.doSample}, {"temperature", s.Generation.Temperature, w.temp},
		{"top_k", s.Generation.TopK, w.topK}, {"top_p", s.Generation.TopP, w.topP},
		{"repetition_penalty", s.Generation.RepetitionPenalty, 1.0},
		{"params", s.ParamCount(), w.params}, {"torch_dtype", s.TorchDType, "bfloat16"},
	} {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s: got %v, want %v", c.key, c.got, c.want)
		}
	}
	if len(s.LayerTypes) != w.layers {
		t.Fatalf("layer types: %d entries, want %d", len(s.LayerTypes), w.layers)
	}
	for i, lt := range s.LayerTypes {
		wantType := FullAttention
		if w.arch == ArchGemma3 && !slices.Contains(w.global, i) {
			wantType = SlidingAttention
		}
		if lt != wantType {
			t.Errorf("layer %d: %s, want %s", i, lt, wantType)
		}
	}
	if w.arch == ArchLlama {
		r := s.RopeScaling
		if r == nil || *r != (RopeScaling{Type: "llama3", Factor: 32, LowFreqFactor: 1, HighFreqFactor: 4, OriginalMaxPositionEmbeddings: 8192}) {
			t.Errorf("rope_scaling: got %+v", r)
		}
	} else if s.RopeScaling != nil {
		t.Errorf("rope_scaling: got %+v, want none", *s.RopeScaling)
	}
}

func TestDevModelConfigs(t *testing.T) {
	for _, w := range devModels {
		t.Run(w.dir, func(t *testing.T) {
			s, err := LoadSpec(filepath.Join("testdata", w.dir))
			if err != nil {
				t.Fatal(err)
			}
			checkWant(t, s, w)
			b, ok := Builtin(w.builtin)
			if !ok {
				t.Fatalf("no built-in %q", w.builtin)
			}
			checkWant(t, b, w)
			if b.Name != w.builtin {
				t.Errorf("built-in name %q", b.Name)
			}
		})
	}
}

func TestTinyBuiltins(t *testing.T) {
	for _, name := range []string{TinyLlama, TinyQwen3, TinyGemma3} {
		s, ok := Builtin(name)
		if !ok {
			t.Fatalf("no built-in %q", name)
		}
		if s.VocabSize != 512 || s.BOSTokenID != 508 || !reflect.DeepEqual(s.StopIDs(), []int32{509, 510}) {
			t.Errorf("%s: vocab %d bos %d stop %v", name, s.VocabSize, s.BOSTokenID, s.StopIDs())
		}
		if s.HiddenSize != 64 || s.NumHeads != 4 || s.HeadDim*s.NumHeads == s.HiddenSize || !s.TieWordEmbeddings {
			t.Errorf("%s: hidden %d heads %d head_dim %d tie %v", name, s.HiddenSize, s.NumHeads, s.HeadDim, s.TieWordEmbeddings)
		}
		if s.NumKVHeads >= s.NumHeads {
			t.Errorf("%s: not GQA (%d kv heads)", name, s.NumKVHeads)
		}
	}
	l, _ := Builtin(TinyLlama)
	if l.RopeScaling == nil || l.RopeScaling.Type != "llama3" {
		t.Errorf("tiny-llama lacks llama3 rope scaling")
	}
	g, _ := Builtin(TinyGemma3)
	if !reflect.DeepEqual(g.LayerTypes, []LayerType{SlidingAttention, FullAttention, SlidingAttention, FullAttention}) || g.SlidingWindow != 512 {
		t.Errorf("tiny-gemma3 layer types %v window %d", g.LayerTypes, g.SlidingWindow)
	}
	if g.EmbedScale != 8 {
		t.Errorf("tiny-gemma3 embed scale %g, want bf16(sqrt(64)) = 8", g.EmbedScale)
	}
	if _, ok := Builtin("no-such-model"); ok {
		t.Error("Builtin accepted an unknown name")
	}
	names := BuiltinNames()
	if len(names) != 6 || !slices.IsSorted(names) {
		t.Errorf("BuiltinNames() = %v", names)
	}
}

// Every built-in spec survives ConfigJSON/GenerationConfigJSON → ParseConfig.
func TestConfigJSONRoundTrip(t *testing.T) {
	for _, name := range BuiltinNames() {
		s, _ := Builtin(name)
		cfg, err := s.ConfigJSON()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		gen, err := s.GenerationConfigJSON()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		back, err := ParseConfig(cfg, gen)
		if err != nil {
			t.Fatalf("%s: parsing written config: %v\n%s", name, err, cfg)
		}
		back.Name = s.Name
		if !reflect.DeepEqual(back, s) {
			t.Errorf("%s: round trip differs:\n got %+v\nwant %+v", name, *back, *s)
		}
	}
}

// The Gemma embedding factor is bf16(sqrt(1152)) = 34 (transformers >= 4.51).
func TestGemmaEmbedScale(t *testing.T) {
	s, _ := Builtin("google/gemma-3-1b-it")
	if s.EmbedScale != 34.0 {
		t.Fatalf("embed scale %v, want 34", s.EmbedScale)
	}
}

func readFixture(t *testing.T, dir string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", dir, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestGemmaLayerTypeSources(t *testing.T) {
	// From layer_types (transformers >= 4.53 configs), overriding the pattern.
	c := readFixture(t, "gemma-3-1b-it")
	types := make([]string, 26)
	for i := range types {
		types[i] = "sliding_attention"
	}
	types[0], types[25] = "full_attention", "full_attention"
	c["layer_types"] = types
	s, err := ParseConfig(mustJSON(t, c), nil)
	if err != nil {
		t.Fatal(err)
	}
	for i, lt := range s.LayerTypes {
		if (lt == FullAttention) != (i == 0 || i == 25) {
			t.Errorf("layer_types source: layer %d is %s", i, lt)
		}
	}
	// From sliding_window_pattern.
	c = readFixture(t, "gemma-3-1b-it")
	c["sliding_window_pattern"] = 3
	s, err = ParseConfig(mustJSON(t, c), nil)
	if err != nil {
		t.Fatal(err)
	}
	for i, lt := range s.LayerTypes {
		if (lt == FullAttention) != ((i+1)%3 == 0) {
			t.Errorf("pattern 3: layer %d is %s", i, lt)
		}
	}
	// Neither: the default pattern 6.
	delete(c, "sliding_window_pattern")
	s, err = ParseConfig(mustJSON(t, c), nil)
	if err != nil {
		t.Fatal(err)
	}
	for i, lt := range s.LayerTypes {
		if (lt == FullAttention) != (i == 5 || i == 11 || i == 17 || i == 23) {
			t.Errorf("default pattern: layer %d is %s", i, lt)
		}
	}
	// Generation defaults without a generation config are HF's global ones.
	if g := s.Generation; g.DoSample || g.Temperature != 1 || g.TopK != 50 || g.TopP != 1 || g.RepetitionPenalty != 1 || !reflect.DeepEqual(g.EOSTokenIDs, []int32{1, 106}) {
		t.Errorf("generation defaults without a file: %+v", g)
	}
}

// transformers v5 writes rope_parameters instead of rope_theta/rope_scaling.
func TestRopeParametersV5(t *testing.T) {
	c := readFixture(t, "llama-3.2-1b-instruct")
	delete(c, "rope_theta")
	delete(c, "rope_scaling")
	c["rope_parameters"] = map[string]any{"rope_type": "llama3", "rope_theta": 500000.0, "factor": 32.0,
		"low_freq_factor": 1.0, "high_freq_factor": 4.0, "original_max_position_embeddings": 8192}
	s, err := ParseConfig(mustJSON(t, c), nil)
	if err != nil {
		t.Fatal(err)
	}
	if s.RopeTheta != 500000 || s.RopeScaling == nil || s.RopeScaling.Factor != 32 || s.RopeScaling.OriginalMaxPositionEmbeddings != 8192 {
		t.Errorf("llama rope_parameters: theta %g scaling %+v", s.RopeTheta, s.RopeScaling)
	}

	g := readFixture(t, "gemma-3-1b-it")
	delete(g, "rope_theta")
	delete(g, "rope_local_base_freq")
	delete(g, "rope_scaling")
	g["rope_parameters"] = map[string]any{
		"full_attention":    map[string]any{"rope_type": "default", "rope_theta": 2e6},
		"sliding_attention": map[string]any{"rope_type": "default", "rope_theta": 20000.0},
	}
	s, err = ParseConfig(mustJSON(t, g), nil)
	if err != nil {
		t.Fatal(err)
	}
	if s.RopeTheta != 2e6 || s.RopeLocalTheta != 20000 || s.RopeScaling != nil {
		t.Errorf("gemma rope_parameters: theta %g local %g scaling %+v", s.RopeTheta, s.RopeLocalTheta, s.RopeScaling)
	}
	if s.LayerRopeTheta(0) != 20000 || s.LayerRopeTheta(5) != 2e6 {
		t.Errorf("LayerRopeTheta: %g %g", s.LayerRopeTheta(0), s.LayerRopeTheta(5))
	}

	// The legacy "type" key of rope_scaling.
	c = readFixture(t, "llama-3.2-1b-instruct")
	c["rope_scaling"] = map[string]any{"type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0, "original_max_position_embeddings": 8192}
	s, err = ParseConfig(mustJSON(t, c), nil)
	if err != nil {
		t.Fatal(err)
	}
	if s.RopeScaling == nil || s.RopeScaling.Type != "llama3" || s.RopeScaling.Factor != 8 {
		t.Errorf("legacy type key: %+v", s.RopeScaling)
	}
}

func TestConfigErrors(t *testing.T) {
	type mut struct {
		name    string
		fixture string
		edit    func(c map[string]any)
		wantSub []string
	}
	cases := []mut{
		{"unknown architecture", "llama-3.2-1b-instruct", func(c map[string]any) { c["architectures"] = []string{"MistralForCausalLM"} },
			[]string{"MistralForCausalLM", "LlamaForCausalLM", "Qwen3ForCausalLM", "Gemma3ForCausalLM"}},
		{"no architectures", "llama-3.2-1b-instruct", func(c map[string]any) { delete(c, "architectures") }, []string{"architectures"}},
		{"model_type mismatch", "qwen3-1.7b", func(c map[string]any) { c["model_type"] = "llama" }, []string{"model_type", "qwen3"}},
		{"missing hidden_size", "qwen3-1.7b", func(c map[string]any) { delete(c, "hidden_size") }, []string{"hidden_size"}},
		{"zero layers", "llama-3.2-1b-instruct", func(c map[string]any) { c["num_hidden_layers"] = 0 }, []string{"num_hidden_layers"}},
		{"negative vocab", "gemma-3-1b-it", func(c map[string]any) { c["vocab_size"] = -5 }, []string{"vocab_size"}},
		{"heads not divisible", "llama-3.2-1b-instruct", func(c map[string]any) { c["num_key_value_heads"] = 5 }, []string{"num_key_value_heads"}},
		{"odd head_dim", "llama-3.2-1b-instruct", func(c map[string]any) { c["head_dim"] = 63 }, []string{"head_dim"}},
		{"string dim", "llama-3.2-1b-instruct", func(c map[string]any) { c["hidden_size"] = "2048" }, []string{"hidden_size"}},
		{"zero eps", "llama-3.2-1b-instruct", func(c map[string]any) { c["rms_norm_eps"] = 0 }, []string{"rms_norm_eps"}},
		{"bad rope type", "llama-3.2-1b-instruct", func(c map[string]any) {
			c["rope_scaling"] = map[string]any{"rope_type": "yarn", "factor": 4.0}
		}, []string{"yarn", "llama3"}},
		{"incomplete llama3", "llama-3.2-1b-instruct", func(c map[string]any) {
			c["rope_scaling"] = map[string]any{"rope_type": "llama3", "factor": 32.0}
		}, []string{"low_freq_factor"}},
		{"bad activation", "qwen3-1.7b", func(c map[string]any) { c["hidden_act"] = "relu" }, []string{"relu"}},
		{"bad layer type", "gemma-3-1b-it", func(c map[string]any) {
			lt := make([]string, 26)
			for i := range lt {
				lt[i] = "full_attention"
			}
			lt[3] = "chunked_attention"
			c["layer_types"] = lt
		}, []string{"layer_types[3]", "chunked_attention"}},
		{"layer_types length", "gemma-3-1b-it", func(c map[string]any) { c["layer_types"] = []string{"full_attention"} }, []string{"layer_types", "26"}},
		{"zero window", "gemma-3-1b-it", func(c map[string]any) { c["sliding_window"] = 0 }, []string{"sliding_window"}},
		{"eos outside vocab", "gemma-3-1b-it", func(c map[string]any) { c["eos_token_id"] = []int{1, 999999} }, []string{"eos_token_id", "999999"}},
		{"eos not int", "gemma-3-1b-it", func(c map[string]any) { c["eos_token_id"] = "x" }, []string{"eos_token_id"}},
		{"attention bias", "llama-3.2-1b-instruct", func(c map[string]any) { c["attention_bias"] = true }, []string{"attention_bias"}},
		{"qwen sliding", "qwen3-1.7b", func(c map[string]any) { c["use_sliding_window"] = true }, []string{"use_sliding_window"}},
		{"multimodal gemma", "gemma-3-1b-it", func(c map[string]any) { c["model_type"] = "gemma3" }, []string{"gemma3_text"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := readFixture(t, tc.fixture)
			tc.edit(c)
			_, err := ParseConfig(mustJSON(t, c), nil)
			if err == nil {
				t.Fatal("no error")
			}
			for _, sub := range tc.wantSub {
				if !strings.Contains(err.Error(), sub) {
					t.Errorf("error %q does not mention %q", err, sub)
				}
			}
		})
	}
	if _, err := ParseConfig([]byte(`{"architectures": [`), nil); err == nil || !strings.Contains(err.Error(), "config.json") {
		t.Errorf("malformed JSON: %v", err)
	}
	good, _ := os.ReadFile(filepath.Join("testdata", "qwen3-1.7b", "config.json"))
	for _, gen := range []string{`{"top_p": 1.5}`, `{"temperature": -1}`, `{"top_k": -3}`, `{"repetition_penalty": 0}`, `{"do_sample": tru`} {
		if _, err := ParseConfig(good, []byte(gen)); err == nil || !strings.Contains(err.Error(), "generation_config.json") {
			t.Errorf("generation config %s: %v", gen, err)
		}
	}
}

func TestLoadSpecErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := LoadSpec(dir); err == nil || !strings.Contains(err.Error(), "config.json") {
		t.Errorf("missing config.json: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte("{not json"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadSpec(dir); err == nil || !strings.Contains(err.Error(), "config.json") || !strings.Contains(err.Error(), dir) {
		t.Errorf("malformed config.json: %v", err)
	}
	good, _ := os.ReadFile(filepath.Join("testdata", "qwen3-1.7b", "config.json"))
	if err := os.WriteFile(filepath.Join(dir, "config.json"), good, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "generation_config.json"), []byte("[1,"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadSpec(dir); err == nil || !strings.Contains(err.Error(), "generation_config.json") {
		t.Errorf("malformed generation_config.json: %v", err)
	}
}

func TestValidateCatchesEditedSpecs(t *testing.T) {
	edits := map[string]func(s *Spec){
		"num_key_value_heads":  func(s *Spec) { s.NumKVHeads = 3 },
		"layer_types":          func(s *Spec) { s.LayerTypes = s.LayerTypes[:1] },
		"attention scale":      func(s *Spec) { s.AttnScale = 0 },
		"rope_theta":           func(s *Spec) { s.RopeTheta = -1 },
		"unknown architecture": func(s *Spec) { s.Arch = "mpt" },
	}
	for key, edit := range edits {
		s, _ := Builtin(TinyGemma3)
		edit(s)
		err := s.Validate()
		if err == nil || !strings.Contains(err.Error(), key) {
			t.Errorf("%s: %v", key, err)
		}
	}
}

func TestPadAndActivationKeys(t *testing.T) {
	for _, c := range []struct {
		pad  any
		want int32
	}{{-1, -1}, {nil, -1}, {7, 7}} {
		g := readFixture(t, "gemma-3-1b-it")
		g["pad_token_id"] = c.pad
		s, err := ParseConfig(mustJSON(t, g), nil)
		if err != nil {
			t.Fatal(err)
		}
		if s.PadTokenID != c.want {
			t.Errorf("pad_token_id %v: got %d, want %d", c.pad, s.PadTokenID, c.want)
		}
	}
	g := readFixture(t, "gemma-3-1b-it")
	delete(g, "pad_token_id")
	s, err := ParseConfig(mustJSON(t, g), nil)
	if err != nil || s.PadTokenID != 0 {
		t.Errorf("absent Gemma pad: %v %d, want the class default 0", err, s.PadTokenID)
	}
	// Gemma 3 ignores hidden_act; hidden_activation defaults to gelu_pytorch_tanh.
	g = readFixture(t, "gemma-3-1b-it")
	delete(g, "hidden_activation")
	g["hidden_act"] = "silu"
	s, err = ParseConfig(mustJSON(t, g), nil)
	if err != nil || s.Activation != "gelu_pytorch_tanh" {
		t.Errorf("Gemma hidden_act: %v %q", err, s.Activation)
	}
}

// FuzzParseConfig: no input panics, and every accepted config is valid and
// survives the ConfigJSON round trip.
func FuzzParseConfig(f *testing.F) {
	for _, d := range []string{"llama-3.2-1b-instruct", "qwen3-1.7b", "gemma-3-1b-it"} {
		b, err := os.ReadFile(filepath.Join("testdata", d, "config.json"))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"architectures":["Gemma3ForCausalLM"],"hidden_size":8,"intermediate_size":8,"num_hidden_layers":2,"num_attention_heads":2,"vocab_size":4,"head_dim":2,"layer_types":["full_attention","sliding_attention"]}`))
	f.Add([]byte(`{"architectures":["LlamaForCausalLM"],"hidden_size":8,"intermediate_size":8,"num_hidden_layers":1,"num_attention_heads":2,"vocab_size":4,"rope_parameters":{"rope_type":"llama3","factor":2,"low_freq_factor":1,"high_freq_factor":2,"original_max_position_embeddings":16}}`))
	f.Fuzz(func(t *testing.T, cfg []byte) {
		s, err := ParseConfig(cfg, nil)
		if err != nil {
			return
		}
		if err := s.Validate(); err != nil {
			t.Fatalf("accepted an invalid spec: %v", err)
		}
		out, err := s.ConfigJSON()
		if err != nil {
			t.Fatalf("ConfigJSON of an accepted spec: %v", err)
		}
		gen, err := s.GenerationConfigJSON()
		if err != nil {
			t.Fatal(err)
		}
		back, err := ParseConfig(out, gen)
		if err != nil {
			t.Fatalf("re-parsing written config: %v\n%s", err, out)
		}
		if !reflect.DeepEqual(back, s) {
			t.Fatalf("round trip differs:\n got %+v\nwant %+v", *back, *s)
		}
	})
}

// FuzzParseGenerationConfig fuzzes generation_config.json next to each real
// config.json: no input panics, and an accepted one survives the
// GenerationConfigJSON round trip.
func FuzzParseGenerationConfig(f *testing.F) {
	var cfgs [][]byte
	for _, d := range []string{"llama-3.2-1b-instruct", "qwen3-1.7b", "gemma-3-1b-it"} {
		b, err := os.ReadFile(filepath.Join("testdata", d, "config.json"))
		if err != nil {
			f.Fatal(err)
		}
		cfgs = append(cfgs, b)
		if g, err := os.ReadFile(filepath.Join("testdata", d, "generation_config.json")); err == nil {
			f.Add(uint8(len(cfgs)-1), g)
		}
	}
	f.Add(uint8(0), []byte(`{"bos_token_id": 1, "eos_token_id": [1, 2], "pad_token_id": 0, "do_sample": true, "temperature": 0.6, "top_k": 20, "top_p": 0.95, "repetition_penalty": 1.1}`))
	f.Add(uint8(1), []byte(`{"eos_token_id": -5}`))
	f.Add(uint8(2), []byte(`{"temperature": 1e400}`))
	f.Add(uint8(0), []byte(`null`))
	f.Fuzz(func(t *testing.T, which uint8, gen []byte) {
		s, err := ParseConfig(cfgs[int(which)%len(cfgs)], gen)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error")
			}
			return
		}
		if err := s.Validate(); err != nil {
			t.Fatalf("accepted an invalid spec: %v", err)
		}
		cfg, err := s.ConfigJSON()
		if err != nil {
			t.Fatal(err)
		}
		out, err := s.GenerationConfigJSON()
		if err != nil {
			t.Fatal(err)
		}
		back, err := ParseConfig(cfg, out)
		if err != nil {
			t.Fatalf("re-parsing the written generation config: %v\n%s", err, out)
		}
		if !reflect.DeepEqual(back.Generation, s.Generation) {
			t.Fatalf("generation config round trip differs:\n got %+v\nwant %+v", back.Generation, s.Generation)
		}
	})
}
