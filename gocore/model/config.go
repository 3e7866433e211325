package model

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"

	"github.com/genbench/genbench/gocore/sidefile"
)

// HF generate() global defaults (MODELS.md 1.2), used where
// generation_config.json lacks a key.
const (
	DefaultTemperature       = 1.0
	DefaultTopK              = 50
	DefaultTopP              = 1.0
	DefaultRepetitionPenalty = 1.0
)

// rawConfig mirrors the config.json keys this package reads. Pointers tell
// "absent" from zero.
type rawConfig struct {
	Architectures         []string        `json:"architectures"`
	ModelType             *string         `json:"model_type"`
	HiddenSize            *int            `json:"hidden_size"`
	IntermediateSize      *int            `json:"intermediate_size"`
	NumHiddenLayers       *int            `json:"num_hidden_layers"`
	NumAttentionHeads     *int            `json:"num_attention_heads"`
	NumKeyValueHeads      *int            `json:"num_key_value_heads"`
	HeadDim               *int            `json:"head_dim"`
	VocabSize             *int            `json:"vocab_size"`
	RMSNormEps            *float64        `json:"rms_norm_eps"`
	MaxPositionEmbeddings *int            `json:"max_position_embeddings"`
	TieWordEmbeddings     *bool           `json:"tie_word_embeddings"`
	RopeTheta             *float64        `json:"rope_theta"`
	RopeLocalBaseFreq     *float64        `json:"rope_local_base_freq"`
	RopeScaling           json.RawMessage `json:"rope_scaling"`
	RopeParameters        json.RawMessage `json:"rope_parameters"`
	HiddenAct             *string         `json:"hidden_act"`
	HiddenActivation      *string         `json:"hidden_activation"`
	SlidingWindow         *int            `json:"sliding_window"`
	SlidingWindowPattern  *int            `json:"sliding_window_pattern"`
	UseSlidingWindow      *bool           `json:"use_sliding_window"`
	LayerTypes            []string        `json:"layer_types"`
	QueryPreAttnScalar    *float64        `json:"query_pre_attn_scalar"`
	FinalLogitSoftcapping *float64        `json:"final_logit_softcapping"`
	AttnLogitSoftcapping  *float64        `json:"attn_logit_softcapping"`
	AttentionBias         *bool           `json:"attention_bias"`
	MLPBias               *bool           `json:"mlp_bias"`
	BOSTokenID            json.RawMessage `json:"bos_token_id"`
	EOSTokenID            json.RawMessage `json:"eos_token_id"`
	PadTokenID            json.RawMessage `json:"pad_token_id"`
	TorchDType            *string         `json:"torch_dtype"`
	DType                 *string         `json:"dtype"`
}

type rawGeneration struct {
	DoSample          *bool           `json:"do_sample"`
	Temperature       *float64        `json:"temperature"`
	TopK              *int            `json:"top_k"`
	TopP              *float64        `json:"top_p"`
	RepetitionPenalty *float64        `json:"repetition_penalty"`
	BOSTokenID        json.RawMessage `json:"bos_token_id"`
	EOSTokenID        json.RawMessage `json:"eos_token_id"`
}

// rawRope is one rope_scaling / rope_parameters object.
type rawRope struct {
	RopeType                      *string  `json:"rope_type"`
	Type                          *string  `json:"type"` // legacy key
	RopeTheta                     *float64 `json:"rope_theta"`
	Factor                        *float64 `json:"factor"`
	LowFreqFactor                 *float64 `json:"low_freq_factor"`
	HighFreqFactor                *float64 `json:"high_freq_factor"`
	OriginalMaxPositionEmbeddings *int     `json:"original_max_position_embeddings"`
}

func (r *rawRope) kind() string {
	switch {
	case r.RopeType != nil:
		return *r.RopeType
	case r.Type != nil:
		return *r.Type
	}
	return "default"
}

// isNull reports whether a raw JSON value is absent or null.
func isNull(m json.RawMessage) bool {
	t := bytes.TrimSpace(m)
	return len(t) == 0 || string(t) == "null"
}

// parseIDs reads a token id that may be an integer, a list of integers or null.
func parseIDs(key string, m json.RawMessage) ([]int32, error) {
	if isNull(m) {
		return nil, nil
	}
	var one int64
	if err := json.Unmarshal(m, &one); err == nil {
		if one < 0 || one > math.MaxInt32 {
			return nil, fmt.Errorf("%s: %d out of range", key, one)
		}
		return []int32{int32(one)}, nil
	}
	var many []int64
	if err := json.Unmarshal(m, &many); err != nil {
		return nil, fmt.Errorf("%s: want an integer or a list of integers, got %s", key, string(m))
	}
	if len(many) == 0 {
		return nil, nil
	}
	out := make([]int32, len(many))
	for i, v := range many {
		if v < 0 || v > math.MaxInt32 {
			return nil, fmt.Errorf("%s[%d]: %d out of range", key, i, v)
		}
		out[i] = int32(v)
	}
	return out, nil
}

// parseOneID reads a single token id: def when the key is absent, -1 when
// it is null.
func parseOneID(key string, m json.RawMessage, def int32) (int32, error) {
	if m == nil {
		return def, nil
	}
	ids, err := parseIDs(key, m)
	if err != nil {
		return 0, err
	}
	switch len(ids) {
	case 0:
		return -1, nil
	case 1:
		return ids[0], nil
	}
	return 0, fmt.Errorf("%s: want one id, got %d", key, len(ids))
}

func decodeStrict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("trailing data after the JSON object")
	}
	return nil
}

func intOr(p *int, def int) int {
	if p != nil {
		return *p
	}
	return def
}

func floatOr(p *float64, def float64) float64 {
	if p != nil {
		return *p
	}
	return def
}

func need[T any](key string, p *T) (T, error) {
	var zero T
	if p == nil {
		return zero, fmt.Errorf("missing required key %q", key)
	}
	return *p, nil
}

// ParseConfig builds a Spec from the text of a Hugging Face config.json and,
// when generationConfigJSON is non-nil, generation_config.json.
//
// Keys absent from config.json take the transformers class default of the
// architecture, except the geometry keys (hidden_size, intermediate_size,
// num_hidden_layers, num_attention_heads, vocab_size), which are required.
// Spec.Generation holds the effective generate() defaults: the values of
// generation_config.json, with HF's global defaults (temperature 1, top_k 50,
// top_p 1, repetition_penalty 1, do_sample false) for absent keys, and the
// config.json bos/eos ids when the generation config has none.
func ParseConfig(configJSON, generationConfigJSON []byte) (*Spec, error) {
	var rc rawConfig
	if err := decodeStrict(configJSON, &rc); err != nil {
		return nil, fmt.Errorf("config.json: malformed JSON: %w", err)
	}
	s, err := specFromRaw(&rc)
	if err != nil {
		return nil, fmt.Errorf("config.json: %w", err)
	}
	if err := s.parseGeneration(generationConfigJSON); err != nil {
		return nil, fmt.Errorf("generation_config.json: %w", err)
	}
	if err := s.Validate(); err != nil {
		return nil, fmt.Errorf("config.json: %w", err)
	}
	return s, nil
}

func specFromRaw(rc *rawConfig) (*Spec, error) {
	if len(rc.Architectures) == 0 {
		return nil, fmt.Errorf("missing required key \"architectures\" (supported: %s)", supportedNames())
	}
	def, err := archByName(rc.Architectures[0])
	if err != nil {
		return nil, err
	}
	s := &Spec{Arch: def.arch, Architecture: def.hfName, PadTokenID: -1, BOSTokenID: -1}
	if s.ModelType, err = def.modelType(rc); err != nil {
		return nil, err
	}

	if s.HiddenSize, err = need("hidden_size", rc.HiddenSize); err != nil {
		return nil, err
	}
	if s.IntermediateSize, err = need("intermediate_size", rc.IntermediateSize); err != nil {
		return nil, err
	}
	if s.NumLayers, err = need("num_hidden_layers", rc.NumHiddenLayers); err != nil {
		return nil, err
	}
	if s.NumHeads, err = need("num_attention_heads", rc.NumAttentionHeads); err != nil {
		return nil, err
	}
	if s.VocabSize, err = need("vocab_size", rc.VocabSize); err != nil {
		return nil, err
	}
	for _, kv := range []struct {
		key string
		v   int
	}{{"hidden_size", s.HiddenSize}, {"intermediate_size", s.IntermediateSize}, {"num_hidden_layers", s.NumLayers}, {"num_attention_heads", s.NumHeads}, {"vocab_size", s.VocabSize}} {
		if kv.v <= 0 {
			return nil, fmt.Errorf("%s must be positive, got %d", kv.key, kv.v)
		}
	}
	if err := checkLimits(s.HiddenSize, s.IntermediateSize, s.VocabSize, s.NumLayers, s.NumHeads); err != nil {
		return nil, err
	}
	if rc.AttentionBias != nil && *rc.AttentionBias {
		return nil, errors.New("attention_bias true is not supported (want false)")
	}
	if rc.MLPBias != nil && *rc.MLPBias {
		return nil, errors.New("mlp_bias true is not supported (want false)")
	}
	if rc.AttnLogitSoftcapping != nil {
		return nil, errors.New("attn_logit_softcapping is not supported (want null)")
	}

	s.NumKVHeads = intOr(rc.NumKeyValueHeads, s.NumHeads)
	s.MaxPositionEmbeddings = intOr(rc.MaxPositionEmbeddings, 2048)
	s.TorchDType = "bfloat16"
	if rc.TorchDType != nil {
		s.TorchDType = *rc.TorchDType
	} else if rc.DType != nil {
		s.TorchDType = *rc.DType
	}
	if s.TorchDType == "" {
		s.TorchDType = "bfloat16"
	}
	if rc.FinalLogitSoftcapping != nil {
		s.FinalLogitSoftcap = *rc.FinalLogitSoftcapping
	}

	// The architecture's defaults (transformers configuration classes).
	s.HeadDim = def.headDim(s)
	s.Activation = def.activation
	s.QKNorm, s.SandwichNorm, s.GemmaNorm = def.qkNorm, def.sandwichNorm, def.gemmaNorm
	if rc.HeadDim != nil {
		s.HeadDim = *rc.HeadDim
	}
	if s.HeadDim <= 0 || s.HeadDim > maxHeadDim {
		return nil, fmt.Errorf("head_dim must be in [1, %d], got %d", maxHeadDim, s.HeadDim)
	}
	s.RMSNormEps = floatOr(rc.RMSNormEps, def.eps)
	s.TieWordEmbeddings = def.tie
	if rc.TieWordEmbeddings != nil {
		s.TieWordEmbeddings = *rc.TieWordEmbeddings
	}
	if act := def.activationOf(rc); act != nil {
		s.Activation = Activation(*act)
	}

	if s.BOSTokenID, err = parseOneID("bos_token_id", rc.BOSTokenID, def.bos); err != nil {
		return nil, err
	}
	if s.EOSTokenIDs, err = parseIDs("eos_token_id", rc.EOSTokenID); err != nil {
		return nil, err
	}
	if rc.EOSTokenID == nil && def.eos >= 0 {
		s.EOSTokenIDs = []int32{def.eos}
	}
	// Some configs write pad_token_id -1 for "none".
	var pad int64
	if rc.PadTokenID == nil {
		s.PadTokenID = def.pad
	} else if isNull(rc.PadTokenID) {
		s.PadTokenID = -1
	} else if err := json.Unmarshal(rc.PadTokenID, &pad); err == nil && pad < 0 {
		s.PadTokenID = -1
	} else if s.PadTokenID, err = parseOneID("pad_token_id", rc.PadTokenID, -1); err != nil {
		return nil, err
	}

	if err := s.parseRope(rc, def); err != nil {
		return nil, err
	}

	// Attention scale, embedding scale and layer types of full attention;
	// the architecture's own keys may change them.
	s.AttnScale = float32(math.Pow(float64(s.HeadDim), -0.5))
	s.EmbedScale = 1
	s.LayerTypes = make([]LayerType, s.NumLayers)
	for i := range s.LayerTypes {
		s.LayerTypes[i] = FullAttention
	}
	if def.finish != nil {
		if err := def.finish(rc, s); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// slidingLayerTypes reads layer_types, or derives them from
// sliding_window_pattern (every pattern-th layer is full).
func (s *Spec) slidingLayerTypes(rc *rawConfig) error {
	if len(rc.LayerTypes) > 0 {
		if len(rc.LayerTypes) != s.NumLayers {
			return fmt.Errorf("layer_types has %d entries, want num_hidden_layers = %d", len(rc.LayerTypes), s.NumLayers)
		}
		for i, t := range rc.LayerTypes {
			lt := LayerType(t)
			if lt != FullAttention && lt != SlidingAttention {
				return fmt.Errorf("layer_types[%d] = %q, want %q or %q", i, t, FullAttention, SlidingAttention)
			}
			s.LayerTypes[i] = lt
		}
		return nil
	}
	pattern := intOr(rc.SlidingWindowPattern, 6)
	if pattern <= 0 {
		return fmt.Errorf("sliding_window_pattern must be positive, got %d", pattern)
	}
	for i := range s.LayerTypes {
		if (i+1)%pattern == 0 {
			s.LayerTypes[i] = FullAttention
		} else {
			s.LayerTypes[i] = SlidingAttention
		}
	}
	return nil
}

// parseRope reads rope_theta / rope_scaling / rope_local_base_freq, or the
// transformers v5 rope_parameters (one object, or one per layer type).
func (s *Spec) parseRope(rc *rawConfig, def *archDef) error {
	s.RopeTheta = floatOr(rc.RopeTheta, def.ropeTheta)
	if def.ropeLocal > 0 {
		s.RopeLocalTheta = floatOr(rc.RopeLocalBaseFreq, def.ropeLocal)
	}
	if !isNull(rc.RopeScaling) {
		var r rawRope
		if err := json.Unmarshal(rc.RopeScaling, &r); err != nil {
			return fmt.Errorf("rope_scaling: want an object: %w", err)
		}
		if err := s.applyRope("rope_scaling", &r, false); err != nil {
			return err
		}
	}
	if isNull(rc.RopeParameters) {
		return nil
	}
	var perType map[string]json.RawMessage
	if err := json.Unmarshal(rc.RopeParameters, &perType); err != nil {
		return fmt.Errorf("rope_parameters: want an object: %w", err)
	}
	_, hasFull := perType[string(FullAttention)]
	_, hasSliding := perType[string(SlidingAttention)]
	if !hasFull && !hasSliding {
		var r rawRope
		if err := json.Unmarshal(rc.RopeParameters, &r); err != nil {
			return fmt.Errorf("rope_parameters: %w", err)
		}
		return s.applyRope("rope_parameters", &r, false)
	}
	for key, raw := range perType {
		var r rawRope
		if err := json.Unmarshal(raw, &r); err != nil {
			return fmt.Errorf("rope_parameters.%s: %w", key, err)
		}
		switch LayerType(key) {
		case FullAttention:
			if err := s.applyRope("rope_parameters.full_attention", &r, false); err != nil {
				return err
			}
		case SlidingAttention:
			if err := s.applyRope("rope_parameters.sliding_attention", &r, true); err != nil {
				return err
			}
		default:
			return fmt.Errorf("rope_parameters: unknown layer type %q (want %q or %q)", key, FullAttention, SlidingAttention)
		}
	}
	return nil
}

func (s *Spec) applyRope(key string, r *rawRope, local bool) error {
	if r.RopeTheta != nil {
		if local {
			s.RopeLocalTheta = *r.RopeTheta
		} else {
			s.RopeTheta = *r.RopeTheta
		}
	}
	switch kind := r.kind(); kind {
	case "default":
		return nil
	case "llama3":
		if local {
			return fmt.Errorf("%s: llama3 scaling on sliding layers is not supported", key)
		}
		if r.Factor == nil || r.LowFreqFactor == nil || r.HighFreqFactor == nil || r.OriginalMaxPositionEmbeddings == nil {
			return fmt.Errorf("%s: llama3 scaling needs factor, low_freq_factor, high_freq_factor and original_max_position_embeddings", key)
		}
		s.RopeScaling = &RopeScaling{
			Type:                          "llama3",
			Factor:                        *r.Factor,
			LowFreqFactor:                 *r.LowFreqFactor,
			HighFreqFactor:                *r.HighFreqFactor,
			OriginalMaxPositionEmbeddings: *r.OriginalMaxPositionEmbeddings,
		}
		return nil
	default:
		return fmt.Errorf("%s: rope type %q is not supported (supported: default, llama3)", key, kind)
	}
}

func (s *Spec) parseGeneration(data []byte) error {
	g := GenerationDefaults{
		Temperature:       DefaultTemperature,
		TopK:              DefaultTopK,
		TopP:              DefaultTopP,
		RepetitionPenalty: DefaultRepetitionPenalty,
		BOSTokenID:        s.BOSTokenID,
		EOSTokenIDs:       append([]int32(nil), s.EOSTokenIDs...),
	}
	if data != nil {
		var rg rawGeneration
		if err := decodeStrict(data, &rg); err != nil {
			return fmt.Errorf("malformed JSON: %w", err)
		}
		if rg.DoSample != nil {
			g.DoSample = *rg.DoSample
		}
		if rg.Temperature != nil {
			g.Temperature = *rg.Temperature
		}
		if rg.TopK != nil {
			g.TopK = *rg.TopK
		}
		if rg.TopP != nil {
			g.TopP = *rg.TopP
		}
		if rg.RepetitionPenalty != nil {
			g.RepetitionPenalty = *rg.RepetitionPenalty
		}
		var err error
		if g.BOSTokenID, err = parseOneID("bos_token_id", rg.BOSTokenID, g.BOSTokenID); err != nil {
			return err
		}
		if rg.EOSTokenID != nil {
			if g.EOSTokenIDs, err = parseIDs("eos_token_id", rg.EOSTokenID); err != nil {
				return err
			}
		}
	}
	switch {
	case g.Temperature < 0 || math.IsNaN(g.Temperature):
		return fmt.Errorf("temperature must be >= 0, got %g", g.Temperature)
	case g.TopK < 0:
		return fmt.Errorf("top_k must be >= 0, got %d", g.TopK)
	case !(g.TopP >= 0 && g.TopP <= 1):
		return fmt.Errorf("top_p must be in [0, 1], got %g", g.TopP)
	case !(g.RepetitionPenalty > 0):
		return fmt.Errorf("repetition_penalty must be > 0, got %g", g.RepetitionPenalty)
	}
	s.Generation = g
	return nil
}

// StopIDs is the set generate() stops on: the generation config's
// eos_token_id list, else config.json's.
func (s *Spec) StopIDs() []int32 {
	if len(s.Generation.EOSTokenIDs) > 0 {
		return s.Generation.EOSTokenIDs
	}
	return s.EOSTokenIDs
}

// LoadSpec reads dir/config.json and, when present, dir/generation_config.json.
func LoadSpec(dir string) (*Spec, error) {
	cfgPath := filepath.Join(dir, "config.json")
	cfg, err := sidefile.Read(cfgPath, sidefile.ConfigLimit)
	if err != nil {
		return nil, fmt.Errorf("reading model config: %w", err)
	}
	genPath := filepath.Join(dir, "generation_config.json")
	gen, err := sidefile.Read(genPath, sidefile.ConfigLimit)
	if err != nil {
		if !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("reading generation config: %w", err)
		}
		gen = nil
	}
	s, err := ParseConfig(cfg, gen)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	s.Name = dir
	return s, nil
}
