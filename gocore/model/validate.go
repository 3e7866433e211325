package model

import (
	"fmt"
	"math"
)

// Validate checks that the spec is internally consistent and that the
// decoder supports it. The error names the offending config key.
func (s *Spec) Validate() error {
	if archOf(s.Arch) == nil {
		return fmt.Errorf("unknown architecture family %q (want %q, %q or %q)", s.Arch, ArchLlama, ArchQwen3, ArchGemma3)
	}
	pos := []struct {
		key string
		v   int
	}{
		{"hidden_size", s.HiddenSize}, {"intermediate_size", s.IntermediateSize},
		{"num_hidden_layers", s.NumLayers}, {"num_attention_heads", s.NumHeads},
		{"num_key_value_heads", s.NumKVHeads}, {"head_dim", s.HeadDim},
		{"vocab_size", s.VocabSize}, {"max_position_embeddings", s.MaxPositionEmbeddings},
	}
	for _, p := range pos {
		if p.v <= 0 {
			return fmt.Errorf("%s must be positive, got %d", p.key, p.v)
		}
	}
	if s.NumHeads%s.NumKVHeads != 0 {
		return fmt.Errorf("num_attention_heads (%d) must be a multiple of num_key_value_heads (%d)", s.NumHeads, s.NumKVHeads)
	}
	if s.HeadDim%2 != 0 {
		return fmt.Errorf("head_dim must be even for rotary embeddings, got %d", s.HeadDim)
	}
	if !(s.RMSNormEps > 0) || math.IsInf(s.RMSNormEps, 0) {
		return fmt.Errorf("rms_norm_eps must be a positive number, got %g", s.RMSNormEps)
	}
	if !(s.RopeTheta > 0) || math.IsInf(s.RopeTheta, 0) {
		return fmt.Errorf("rope_theta must be a positive number, got %g", s.RopeTheta)
	}
	if s.RopeLocalTheta < 0 || math.IsNaN(s.RopeLocalTheta) || math.IsInf(s.RopeLocalTheta, 0) {
		return fmt.Errorf("rope_local_base_freq must be a positive number, got %g", s.RopeLocalTheta)
	}
	if r := s.RopeScaling; r != nil {
		if r.Type != "llama3" {
			return fmt.Errorf("rope_scaling: rope type %q is not supported (want llama3)", r.Type)
		}
		if !(r.Factor > 0) || !(r.LowFreqFactor > 0) || !(r.HighFreqFactor > r.LowFreqFactor) || r.OriginalMaxPositionEmbeddings <= 0 {
			return fmt.Errorf("rope_scaling: want factor > 0, 0 < low_freq_factor < high_freq_factor and original_max_position_embeddings > 0, got %+v", *r)
		}
	}
	switch s.Activation {
	case SiLU, GELUTanh:
	default:
		return fmt.Errorf("hidden activation %q is not supported (want silu or gelu_pytorch_tanh)", s.Activation)
	}
	if len(s.LayerTypes) != s.NumLayers {
		return fmt.Errorf("layer_types has %d entries, want num_hidden_layers = %d", len(s.LayerTypes), s.NumLayers)
	}
	sliding := false
	for i, t := range s.LayerTypes {
		switch t {
		case FullAttention:
		case SlidingAttention:
			sliding = true
		default:
			return fmt.Errorf("layer_types[%d] = %q, want %q or %q", i, t, FullAttention, SlidingAttention)
		}
	}
	if sliding && s.SlidingWindow <= 0 {
		return fmt.Errorf("sliding_window must be positive when layers slide, got %d", s.SlidingWindow)
	}
	if s.SlidingWindow < 0 {
		return fmt.Errorf("sliding_window must be >= 0, got %d", s.SlidingWindow)
	}
	if !(s.EmbedScale > 0) || math.IsInf(float64(s.EmbedScale), 0) {
		return fmt.Errorf("embedding scale must be a positive number, got %g", s.EmbedScale)
	}
	if !(s.AttnScale > 0) || math.IsInf(float64(s.AttnScale), 0) {
		return fmt.Errorf("attention scale must be a positive number, got %g", s.AttnScale)
	}
	if s.FinalLogitSoftcap < 0 || math.IsNaN(s.FinalLogitSoftcap) {
		return fmt.Errorf("final_logit_softcapping must be >= 0, got %g", s.FinalLogitSoftcap)
	}
	if s.BOSTokenID >= int32(s.VocabSize) {
		return fmt.Errorf("bos_token_id %d is outside the vocabulary (vocab_size %d)", s.BOSTokenID, s.VocabSize)
	}
	for _, id := range s.EOSTokenIDs {
		if id < 0 || id >= int32(s.VocabSize) {
			return fmt.Errorf("eos_token_id %d is outside the vocabulary (vocab_size %d)", id, s.VocabSize)
		}
	}
	for _, id := range s.Generation.EOSTokenIDs {
		if id < 0 || id >= int32(s.VocabSize) {
			return fmt.Errorf("generation eos_token_id %d is outside the vocabulary (vocab_size %d)", id, s.VocabSize)
		}
	}
	if s.PadTokenID >= int32(s.VocabSize) {
		return fmt.Errorf("pad_token_id %d is outside the vocabulary (vocab_size %d)", s.PadTokenID, s.VocabSize)
	}
	switch s.TorchDType {
	case "", "bfloat16", "float16", "float32":
	default:
		return fmt.Errorf("torch_dtype %q is not supported (want bfloat16, float16 or float32)", s.TorchDType)
	}
	if err := checkLimits(s.HiddenSize, s.IntermediateSize, s.VocabSize, s.NumLayers, s.NumHeads); err != nil {
		return err
	}
	if s.HeadDim > maxHeadDim {
		return fmt.Errorf("head_dim must be in [1, %d], got %d", maxHeadDim, s.HeadDim)
	}
	return nil
}

// Upper bounds on dimensions, far above any real model, so that a corrupt
// config cannot make the loader allocate absurd amounts of memory.
const (
	maxHidden       = 1 << 16
	maxIntermediate = 1 << 18
	maxVocab        = 1 << 22
	maxLayers       = 1024
	maxHeads        = 1024
	maxHeadDim      = 1024
)

func checkLimits(hidden, inter, vocab, layers, heads int) error {
	for _, c := range []struct {
		key    string
		v, max int
	}{
		{"hidden_size", hidden, maxHidden}, {"intermediate_size", inter, maxIntermediate},
		{"vocab_size", vocab, maxVocab}, {"num_hidden_layers", layers, maxLayers},
		{"num_attention_heads", heads, maxHeads},
	} {
		if c.v > c.max {
			return fmt.Errorf("%s %d is implausibly large (limit %d)", c.key, c.v, c.max)
		}
	}
	return nil
}

// ParamCount is the number of parameters (a tied embedding counted once).
func (s *Spec) ParamCount() int64 {
	h, q, kv := int64(s.HiddenSize), int64(s.QDim()), int64(s.KVDim())
	perLayer := h*q + 2*h*kv + q*h + 3*h*int64(s.IntermediateSize) + 2*h
	if s.SandwichNorm {
		perLayer += 2 * h
	}
	if s.QKNorm {
		perLayer += 2 * int64(s.HeadDim)
	}
	n := int64(s.VocabSize)*h + int64(s.NumLayers)*perLayer + h
	if !s.TieWordEmbeddings {
		n += int64(s.VocabSize) * h
	}
	return n
}

// WeightBytes is the size of the weights in bfloat16 (2 bytes per parameter).
func (s *Spec) WeightBytes() int64 { return 2 * s.ParamCount() }

// IsSliding reports whether layer i uses the sliding-window mask.
func (s *Spec) IsSliding(i int) bool {
	return i >= 0 && i < len(s.LayerTypes) && s.LayerTypes[i] == SlidingAttention
}

// LayerRopeTheta is the RoPE base of layer i: RopeLocalTheta for sliding
// layers when set, else RopeTheta.
func (s *Spec) LayerRopeTheta(i int) float64 {
	if s.IsSliding(i) && s.RopeLocalTheta > 0 {
		return s.RopeLocalTheta
	}
	return s.RopeTheta
}

// Clone returns a deep copy.
func (s *Spec) Clone() *Spec {
	c := *s
	if s.RopeScaling != nil {
		r := *s.RopeScaling
		c.RopeScaling = &r
	}
	c.LayerTypes = append([]LayerType(nil), s.LayerTypes...)
	c.EOSTokenIDs = append([]int32(nil), s.EOSTokenIDs...)
	c.Generation.EOSTokenIDs = append([]int32(nil), s.Generation.EOSTokenIDs...)
	return &c
}
