package model

import (
	"fmt"
	"sort"
)

// Built-in spec names of the tiny test models. They share one embedded tiny
// tokenizer: vocabulary 512, BOS 508, EOS 509 and 510.
const (
	TinyLlama  = "tiny-llama"
	TinyQwen3  = "tiny-qwen3"
	TinyGemma3 = "tiny-gemma3"
)

// The dev models' config.json and generation_config.json as published
// (MODELS.md 1.1 and 1.2). Built-in specs are parsed from these texts, so
// they follow exactly the same rules as a downloaded checkpoint.
const (
	llama32Config = `{
  "architectures": ["LlamaForCausalLM"],
  "attention_bias": false,
  "attention_dropout": 0.0,
  "bos_token_id": 128000,
  "eos_token_id": [128001, 128008, 128009],
  "head_dim": 64,
  "hidden_act": "silu",
  "hidden_size": 2048,
  "initializer_range": 0.02,
  "intermediate_size": 8192,
  "max_position_embeddings": 131072,
  "mlp_bias": false,
  "model_type": "llama",
  "num_attention_heads": 32,
  "num_hidden_layers": 16,
  "num_key_value_heads": 8,
  "pretraining_tp": 1,
  "rms_norm_eps": 1e-05,
  "rope_scaling": {
    "factor": 32.0,
    "high_freq_factor": 4.0,
    "low_freq_factor": 1.0,
    "original_max_position_embeddings": 8192,
    "rope_type": "llama3"
  },
  "rope_theta": 500000.0,
  "tie_word_embeddings": true,
  "torch_dtype": "bfloat16",
  "transformers_version": "4.45.0.dev0",
  "use_cache": true,
  "vocab_size": 128256
}`
	llama32Generation = `{
  "bos_token_id": 128000,
  "do_sample": true,
  "eos_token_id": [128001, 128008, 128009],
  "temperature": 0.6,
  "top_p": 0.9,
  "transformers_version": "4.45.0.dev0"
}`
	qwen3Config = `{
  "architectures": ["Qwen3ForCausalLM"],
  "attention_bias": false,
  "attention_dropout": 0.0,
  "bos_token_id": 151643,
  "eos_token_id": 151645,
  "head_dim": 128,
  "hidden_act": "silu",
  "hidden_size": 2048,
  "initializer_range": 0.02,
  "intermediate_size": 6144,
  "max_position_embeddings": 40960,
  "max_window_layers": 28,
  "model_type": "qwen3",
  "num_attention_heads": 16,
  "num_hidden_layers": 28,
  "num_key_value_heads": 8,
  "rms_norm_eps": 1e-06,
  "rope_scaling": null,
  "rope_theta": 1000000,
  "sliding_window": null,
  "tie_word_embeddings": true,
  "torch_dtype": "bfloat16",
  "transformers_version": "4.51.0",
  "use_cache": true,
  "use_sliding_window": false,
  "vocab_size": 151936
}`
	qwen3Generation = `{
  "bos_token_id": 151643,
  "do_sample": true,
  "eos_token_id": [151645, 151643],
  "pad_token_id": 151643,
  "temperature": 0.6,
  "top_k": 20,
  "top_p": 0.95,
  "transformers_version": "4.51.0"
}`
	gemma3Config = `{
  "architectures": ["Gemma3ForCausalLM"],
  "attention_bias": false,
  "attention_dropout": 0.0,
  "attn_logit_softcapping": null,
  "bos_token_id": 2,
  "cache_implementation": "hybrid",
  "eos_token_id": [1, 106],
  "final_logit_softcapping": null,
  "head_dim": 256,
  "hidden_activation": "gelu_pytorch_tanh",
  "hidden_size": 1152,
  "initializer_range": 0.02,
  "intermediate_size": 6912,
  "max_position_embeddings": 32768,
  "model_type": "gemma3_text",
  "num_attention_heads": 4,
  "num_hidden_layers": 26,
  "num_key_value_heads": 1,
  "pad_token_id": 0,
  "query_pre_attn_scalar": 256,
  "rms_norm_eps": 1e-06,
  "rope_local_base_freq": 10000,
  "rope_scaling": null,
  "rope_theta": 1000000,
  "sliding_window": 512,
  "sliding_window_pattern": 6,
  "torch_dtype": "bfloat16",
  "transformers_version": "4.50.0.dev0",
  "use_cache": true,
  "vocab_size": 262144
}`
	gemma3Generation = `{
  "bos_token_id": 2,
  "cache_implementation": "hybrid",
  "do_sample": true,
  "eos_token_id": [1, 106],
  "pad_token_id": 0,
  "top_k": 64,
  "top_p": 0.95,
  "transformers_version": "4.50.0.dev0"
}`

	// Tiny variants: vocabulary 512 (BOS 508, EOS 509/510), hidden 64,
	// GQA, head_dim 24 (not hidden/heads), the families' numerics.
	tinyLlamaConfig = `{
  "architectures": ["LlamaForCausalLM"],
  "model_type": "llama",
  "hidden_size": 64,
  "intermediate_size": 160,
  "num_hidden_layers": 2,
  "num_attention_heads": 4,
  "num_key_value_heads": 2,
  "head_dim": 24,
  "vocab_size": 512,
  "rms_norm_eps": 1e-05,
  "max_position_embeddings": 2048,
  "rope_theta": 500000.0,
  "rope_scaling": {"rope_type": "llama3", "factor": 32.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0, "original_max_position_embeddings": 8192},
  "hidden_act": "silu",
  "tie_word_embeddings": true,
  "bos_token_id": 508,
  "eos_token_id": [509, 510],
  "torch_dtype": "bfloat16"
}`
	tinyQwen3Config = `{
  "architectures": ["Qwen3ForCausalLM"],
  "model_type": "qwen3",
  "hidden_size": 64,
  "intermediate_size": 160,
  "num_hidden_layers": 2,
  "num_attention_heads": 4,
  "num_key_value_heads": 2,
  "head_dim": 24,
  "vocab_size": 512,
  "rms_norm_eps": 1e-06,
  "max_position_embeddings": 2048,
  "rope_theta": 1000000,
  "hidden_act": "silu",
  "use_sliding_window": false,
  "tie_word_embeddings": true,
  "bos_token_id": 508,
  "eos_token_id": [509, 510],
  "torch_dtype": "bfloat16"
}`
	tinyGemma3Config = `{
  "architectures": ["Gemma3ForCausalLM"],
  "model_type": "gemma3_text",
  "hidden_size": 64,
  "intermediate_size": 160,
  "num_hidden_layers": 4,
  "num_attention_heads": 4,
  "num_key_value_heads": 1,
  "head_dim": 24,
  "vocab_size": 512,
  "rms_norm_eps": 1e-06,
  "max_position_embeddings": 2048,
  "rope_theta": 1000000,
  "rope_local_base_freq": 10000,
  "query_pre_attn_scalar": 24,
  "sliding_window": 512,
  "sliding_window_pattern": 2,
  "hidden_activation": "gelu_pytorch_tanh",
  "tie_word_embeddings": true,
  "bos_token_id": 508,
  "eos_token_id": [509, 510],
  "pad_token_id": 511,
  "torch_dtype": "bfloat16"
}`
	tinyLlamaGeneration  = `{"bos_token_id": 508, "eos_token_id": [509, 510], "do_sample": true, "temperature": 0.6, "top_p": 0.9}`
	tinyQwen3Generation  = `{"bos_token_id": 508, "eos_token_id": [509, 510], "do_sample": true, "temperature": 0.6, "top_k": 20, "top_p": 0.95}`
	tinyGemma3Generation = `{"bos_token_id": 508, "eos_token_id": [509, 510], "pad_token_id": 511, "do_sample": true, "top_k": 64, "top_p": 0.95}`
)

var builtins = map[string][2]string{
	"meta-llama/Llama-3.2-1B-Instruct": {llama32Config, llama32Generation},
	"Qwen/Qwen3-1.7B":                  {qwen3Config, qwen3Generation},
	"google/gemma-3-1b-it":             {gemma3Config, gemma3Generation},
	TinyLlama:                          {tinyLlamaConfig, tinyLlamaGeneration},
	TinyQwen3:                          {tinyQwen3Config, tinyQwen3Generation},
	TinyGemma3:                         {tinyGemma3Config, tinyGemma3Generation},
}

// Builtin returns a fresh copy of the built-in spec with the given name (a
// dev model's Hugging Face id or a tiny model name).
func Builtin(name string) (*Spec, bool) {
	texts, ok := builtins[name]
	if !ok {
		return nil, false
	}
	s, err := ParseConfig([]byte(texts[0]), []byte(texts[1]))
	if err != nil {
		// The texts are constants checked by the package tests.
		panic(fmt.Sprintf("model: built-in spec %s: %v", name, err))
	}
	s.Name = name
	return s, true
}

// BuiltinNames lists the built-in spec names, sorted.
func BuiltinNames() []string {
	names := make([]string, 0, len(builtins))
	for n := range builtins {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
