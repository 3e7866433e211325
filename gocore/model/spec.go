// Package model describes decoder-only transformer architectures (Llama 3.x,
// Qwen3, Gemma 3) as a Spec parsed from a Hugging Face config.json, plus the
// built-in specs of the dev models and their tiny test variants.
//
// What an architecture means (its config keys and their defaults, norm
// style, activation, RoPE variants, layer pattern and the config.json the
// writer produces) is one entry of the archs table (arch.go); adding an
// architecture of the same shape (Mistral, Qwen2.5, Llama 3.1 8B) is adding
// one entry there.
package model

// Arch is the architecture family; the decoder switches behaviour on the
// Spec's flags, not on Arch, so Arch is informational and for validation.
type Arch string

// The supported architecture families.
const (
	ArchLlama  Arch = "llama"  // LlamaForCausalLM
	ArchQwen3  Arch = "qwen3"  // Qwen3ForCausalLM
	ArchGemma3 Arch = "gemma3" // Gemma3ForCausalLM (gemma3_text)
)

// Activation is the GLU activation, named as config.json names it.
type Activation string

// The supported activations.
const (
	SiLU     Activation = "silu"              // SwiGLU (Llama, Qwen3)
	GELUTanh Activation = "gelu_pytorch_tanh" // GeGLU with the tanh approximation (Gemma 3)
)

// LayerType is the attention kind of one layer.
type LayerType string

// Layer types as Hugging Face names them in config.layer_types.
const (
	FullAttention    LayerType = "full_attention"
	SlidingAttention LayerType = "sliding_attention"
)

// RopeScaling is the llama3 RoPE frequency scaling (rope_type "llama3").
type RopeScaling struct {
	Type                          string  `json:"rope_type"`
	Factor                        float64 `json:"factor"`
	LowFreqFactor                 float64 `json:"low_freq_factor"`
	HighFreqFactor                float64 `json:"high_freq_factor"`
	OriginalMaxPositionEmbeddings int     `json:"original_max_position_embeddings"`
}

// GenerationDefaults are the effective generate() defaults: the values of
// generation_config.json, with HF's global defaults (do_sample false,
// temperature 1, top_k 50, top_p 1, repetition_penalty 1) where a key or the
// whole file is absent.
type GenerationDefaults struct {
	DoSample          bool    `json:"do_sample"`
	Temperature       float64 `json:"temperature"`
	TopK              int     `json:"top_k"`
	TopP              float64 `json:"top_p"`
	RepetitionPenalty float64 `json:"repetition_penalty"`
	EOSTokenIDs       []int32 `json:"eos_token_id"`
	BOSTokenID        int32   `json:"bos_token_id"`
}

// Spec is everything the decoder needs to know about a model's shape and
// numerics. Field comments give the Hugging Face config key.
type Spec struct {
	Name         string `json:"name"`         // a display name (model id or built-in name)
	Arch         Arch   `json:"arch"`         // family
	Architecture string `json:"architecture"` // architectures[0], e.g. "LlamaForCausalLM"
	ModelType    string `json:"model_type"`   // model_type, e.g. "llama", "qwen3", "gemma3_text"

	HiddenSize            int     `json:"hidden_size"`
	IntermediateSize      int     `json:"intermediate_size"`
	NumLayers             int     `json:"num_hidden_layers"`
	NumHeads              int     `json:"num_attention_heads"`
	NumKVHeads            int     `json:"num_key_value_heads"`
	HeadDim               int     `json:"head_dim"`
	VocabSize             int     `json:"vocab_size"`
	RMSNormEps            float64 `json:"rms_norm_eps"`
	MaxPositionEmbeddings int     `json:"max_position_embeddings"`
	TieWordEmbeddings     bool    `json:"tie_word_embeddings"`

	RopeTheta      float64      `json:"rope_theta"`             // base of full-attention layers
	RopeLocalTheta float64      `json:"rope_local_base_freq"`   // base of sliding layers (Gemma 3); 0 = RopeTheta
	RopeScaling    *RopeScaling `json:"rope_scaling,omitempty"` // llama3 scaling, nil = default rope

	// Activation is SiLU or GELUTanh.
	Activation Activation `json:"activation"`
	// QKNorm: per-head RMSNorm of q and k before RoPE (Qwen3, Gemma 3).
	QKNorm bool `json:"qk_norm"`
	// SandwichNorm: Gemma 3's four norms per layer (post-attention and
	// post-feedforward norms applied to the branch output before the residual add).
	SandwichNorm bool `json:"sandwich_norm"`
	// GemmaNorm: RMSNorm computes n*(1+w) in fp32 with one bf16 rounding;
	// otherwise Llama style round(round(n)*w).
	GemmaNorm bool `json:"gemma_norm"`
	// EmbedScale multiplies the gathered embedding row (1 for Llama/Qwen,
	// bf16(sqrt(hidden)) for Gemma 3, see MODELS.md 2.1).
	EmbedScale float32 `json:"embed_scale"`
	// AttnScale is the softmax scale: head_dim^-0.5, or query_pre_attn_scalar^-0.5 (Gemma 3).
	AttnScale float32 `json:"attn_scale"`
	// QueryPreAttnScalar is Gemma 3's query_pre_attn_scalar (AttnScale =
	// QueryPreAttnScalar^-0.5); 0 for the other families.
	QueryPreAttnScalar float64 `json:"query_pre_attn_scalar,omitempty"`
	// SlidingWindow is the window of sliding layers in keys, including the
	// current token (0 when no layer slides).
	SlidingWindow int `json:"sliding_window"`
	// LayerTypes has one entry per layer.
	LayerTypes []LayerType `json:"layer_types"`
	// FinalLogitSoftcap, when > 0, applies tanh(x/cap)*cap to the logits.
	FinalLogitSoftcap float64 `json:"final_logit_softcapping,omitempty"`

	BOSTokenID  int32   `json:"bos_token_id"`
	EOSTokenIDs []int32 `json:"eos_token_ids"`
	PadTokenID  int32   `json:"pad_token_id"` // -1 when the config has none
	TorchDType  string  `json:"torch_dtype"`

	Generation GenerationDefaults `json:"generation"`
}

// QDim is the width of the q projection (heads * head_dim).
func (s *Spec) QDim() int { return s.NumHeads * s.HeadDim }

// KVDim is the width of the k and v projections (kv heads * head_dim).
func (s *Spec) KVDim() int { return s.NumKVHeads * s.HeadDim }
