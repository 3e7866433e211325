package model

import (
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/genbench/genbench/gocore/bf16"
)

// archDef is everything one architecture means here, read by ParseConfig
// (config.json keys and their transformers defaults), Spec.ConfigJSON (the
// config.json the Hugging Face writer produces) and, through the Spec's
// flags, the checkpoint tensor names (weights) and the forward pass
// (decoder). Adding an architecture that fits these shapes (Mistral,
// Qwen2.5, Llama 3.1 8B) is adding one entry to archs.
type archDef struct {
	arch       Arch
	hfName     string   // config.json architectures[0]
	modelTypes []string // accepted model_type values; the first is written
	// refusedTypes are model_type values of a related model this package
	// does not run, with why.
	refusedTypes map[string]string

	// The transformers configuration class defaults.
	headDim       func(s *Spec) int // head_dim when the key is absent
	ropeTheta     float64           // rope_theta
	eps           float64           // rms_norm_eps
	ropeLocal     float64           // rope_local_base_freq of sliding layers (0: no such key)
	tie           bool              // tie_word_embeddings
	bos, eos, pad int32             // default token ids (-1: none)
	activation    Activation        // the GLU activation
	activationKey string            // the config key that names it

	// The numerics of the forward pass (the Spec's flags).
	qkNorm, sandwichNorm, gemmaNorm bool
	scaledEmbed                     bool // EmbedScale is not 1
	sliding                         bool // layers may use a sliding window

	// finish reads the keys only this architecture has, after the common
	// ones (nil: none).
	finish func(rc *rawConfig, s *Spec) error
	// write adds the keys only this architecture has to a config.json.
	write func(s *Spec, c map[string]any)
}

// archs are the supported architectures.
var archs = []*archDef{&llamaArch, &qwen3Arch, &gemma3Arch}

// Llama 3.x: LlamaConfig (MODELS.md 2).
var llamaArch = archDef{
	arch: ArchLlama, hfName: "LlamaForCausalLM", modelTypes: []string{"llama"},
	headDim:   func(s *Spec) int { return s.HiddenSize / s.NumHeads },
	ropeTheta: 10000, eps: 1e-6, bos: 1, eos: 2, pad: -1,
	activation: SiLU, activationKey: "hidden_act",
	finish: fullAttentionOnly,
	write: func(s *Spec, c map[string]any) {
		c["mlp_bias"] = false
		c["pretraining_tp"] = 1
	},
}

// Qwen3: Qwen3Config, q/k norm (MODELS.md 2).
var qwen3Arch = archDef{
	arch: ArchQwen3, hfName: "Qwen3ForCausalLM", modelTypes: []string{"qwen3"},
	headDim:   func(*Spec) int { return 128 },
	ropeTheta: 10000, eps: 1e-6, bos: -1, eos: -1, pad: -1,
	activation: SiLU, activationKey: "hidden_act",
	qkNorm: true,
	finish: func(rc *rawConfig, s *Spec) error {
		if rc.UseSlidingWindow != nil && *rc.UseSlidingWindow {
			return errors.New("use_sliding_window true is not supported for Qwen3 (want false)")
		}
		return fullAttentionOnly(rc, s)
	},
	write: func(s *Spec, c map[string]any) {
		c["use_sliding_window"] = false
		c["sliding_window"] = nil
		c["max_window_layers"] = s.NumLayers
	},
}

// Gemma 3 (text): Gemma3TextConfig, sandwich norms, (1+w) norms, scaled
// embeddings, sliding layers with their own RoPE base (MODELS.md 2).
var gemma3Arch = archDef{
	arch: ArchGemma3, hfName: "Gemma3ForCausalLM", modelTypes: []string{"gemma3_text"},
	refusedTypes: map[string]string{"gemma3": "model_type \"gemma3\" is the multimodal Gemma 3; only the text model (gemma3_text) is supported"},
	headDim:      func(*Spec) int { return 256 },
	ropeTheta:    1e6, eps: 1e-6, ropeLocal: 10000, tie: true, bos: 2, eos: 1, pad: 0,
	// Gemma 3 reads hidden_activation only (hidden_act is a legacy key it ignores).
	activation: GELUTanh, activationKey: "hidden_activation",
	qkNorm: true, sandwichNorm: true, gemmaNorm: true, scaledEmbed: true, sliding: true,
	finish: func(rc *rawConfig, s *Spec) error {
		q := floatOr(rc.QueryPreAttnScalar, 256)
		if q <= 0 {
			return fmt.Errorf("query_pre_attn_scalar must be positive, got %g", q)
		}
		s.QueryPreAttnScalar = q
		s.AttnScale = float32(math.Pow(q, -0.5))
		// transformers >= 4.51: the scale is cast to the weight dtype (bf16).
		s.EmbedScale = bf16.Round(float32(math.Sqrt(float64(s.HiddenSize))))
		s.SlidingWindow = intOr(rc.SlidingWindow, 4096)
		return s.slidingLayerTypes(rc)
	},
	write: func(s *Spec, c map[string]any) {
		c["rope_local_base_freq"] = s.RopeLocalTheta
		c["sliding_window"] = s.SlidingWindow
		c["layer_types"] = s.LayerTypes
		if p := s.slidingPattern(); p > 0 {
			c["sliding_window_pattern"] = p
		}
		c["query_pre_attn_scalar"] = s.QueryPreAttnScalar
		c["final_logit_softcapping"] = nil
		c["attn_logit_softcapping"] = nil
		c["cache_implementation"] = "hybrid"
	},
}

// archByName is the architecture of a config.json architectures[0].
func archByName(hfName string) (*archDef, error) {
	for _, a := range archs {
		if a.hfName == hfName {
			return a, nil
		}
	}
	return nil, fmt.Errorf("unsupported architecture %q (supported: %s)", hfName, supportedNames())
}

// archOf is the definition of a family (nil when unknown).
func archOf(arch Arch) *archDef {
	for _, a := range archs {
		if a.arch == arch {
			return a
		}
	}
	return nil
}

// supportedNames lists the architectures[0] values ParseConfig accepts.
func supportedNames() string {
	names := make([]string, len(archs))
	for i, a := range archs {
		names[i] = a.hfName
	}
	return strings.Join(names, ", ")
}

// modelType checks config.json's model_type against the architecture.
func (a *archDef) modelType(rc *rawConfig) (string, error) {
	if rc.ModelType == nil {
		return a.modelTypes[0], nil
	}
	t := *rc.ModelType
	if why, ok := a.refusedTypes[t]; ok {
		return "", errors.New(why)
	}
	for _, ok := range a.modelTypes {
		if t == ok {
			return t, nil
		}
	}
	return "", fmt.Errorf("model_type %q does not match architecture %s (want %q)", t, a.hfName, a.modelTypes[0])
}

// activationOf reads the architecture's activation key (nil when absent).
func (a *archDef) activationOf(rc *rawConfig) *string {
	if a.activationKey == "hidden_activation" {
		return rc.HiddenActivation
	}
	return rc.HiddenAct
}

// fullAttentionOnly checks that a listed layer_types (transformers >= 4.53
// configs) has only full-attention layers.
func fullAttentionOnly(rc *rawConfig, s *Spec) error {
	if len(rc.LayerTypes) == 0 {
		return nil
	}
	if len(rc.LayerTypes) != s.NumLayers {
		return fmt.Errorf("layer_types has %d entries, want num_hidden_layers = %d", len(rc.LayerTypes), s.NumLayers)
	}
	for i, t := range rc.LayerTypes {
		if LayerType(t) != FullAttention {
			return fmt.Errorf("layer_types[%d] = %q is not supported for %s (want %q)", i, t, s.Architecture, FullAttention)
		}
	}
	return nil
}

// describes reports whether the spec's flags are those of the architecture.
func (a *archDef) describes(s *Spec) bool {
	return s.Architecture == a.hfName && s.QKNorm == a.qkNorm && s.SandwichNorm == a.sandwichNorm &&
		s.GemmaNorm == a.gemmaNorm && (a.scaledEmbed || s.EmbedScale == 1)
}
