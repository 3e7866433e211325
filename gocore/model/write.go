package model

import (
	"encoding/json"
	"fmt"
)

// idsJSON renders an id list as HF does: one id as an integer, none as null.
func idsJSON(ids []int32) any {
	switch len(ids) {
	case 0:
		return nil
	case 1:
		return ids[0]
	}
	return ids
}

// idJSON renders an optional id (-1 = none) as an integer or null.
func idJSON(id int32) any {
	if id < 0 {
		return nil
	}
	return id
}

// ConfigJSON renders the spec as a Hugging Face config.json that ParseConfig
// (and transformers) read back into the same spec. Keys are sorted, as
// transformers' save_pretrained writes them.
func (s *Spec) ConfigJSON() ([]byte, error) {
	if err := s.Validate(); err != nil {
		return nil, fmt.Errorf("config.json: %w", err)
	}
	c := map[string]any{
		"architectures":           []string{s.Architecture},
		"model_type":              s.ModelType,
		"hidden_size":             s.HiddenSize,
		"intermediate_size":       s.IntermediateSize,
		"num_hidden_layers":       s.NumLayers,
		"num_attention_heads":     s.NumHeads,
		"num_key_value_heads":     s.NumKVHeads,
		"head_dim":                s.HeadDim,
		"vocab_size":              s.VocabSize,
		"rms_norm_eps":            s.RMSNormEps,
		"max_position_embeddings": s.MaxPositionEmbeddings,
		"tie_word_embeddings":     s.TieWordEmbeddings,
		"rope_theta":              s.RopeTheta,
		"attention_bias":          false,
		"attention_dropout":       0.0,
		"torch_dtype":             s.TorchDType,
		"initializer_range":       0.02,
		"use_cache":               true,
	}
	if s.TorchDType == "" {
		c["torch_dtype"] = "bfloat16"
	}
	c["bos_token_id"] = idJSON(s.BOSTokenID)
	c["eos_token_id"] = idsJSON(s.EOSTokenIDs)
	c["pad_token_id"] = idJSON(s.PadTokenID)
	if s.RopeScaling != nil {
		c["rope_scaling"] = map[string]any{
			"rope_type":                        s.RopeScaling.Type,
			"factor":                           s.RopeScaling.Factor,
			"low_freq_factor":                  s.RopeScaling.LowFreqFactor,
			"high_freq_factor":                 s.RopeScaling.HighFreqFactor,
			"original_max_position_embeddings": s.RopeScaling.OriginalMaxPositionEmbeddings,
		}
	} else {
		c["rope_scaling"] = nil
	}
	def := archOf(s.Arch)
	if !def.describes(s) {
		return nil, fmt.Errorf("config.json: spec flags do not describe %s", s.Architecture)
	}
	c[def.activationKey] = s.Activation
	def.write(s, c)
	if s.FinalLogitSoftcap > 0 {
		c["final_logit_softcapping"] = s.FinalLogitSoftcap
	}
	out, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("config.json: %w", err)
	}
	return append(out, '\n'), nil
}

// slidingPattern returns p when layer i is full iff (i+1)%p == 0, else 0.
func (s *Spec) slidingPattern() int {
	for p := 1; p <= len(s.LayerTypes); p++ {
		ok := true
		for i, t := range s.LayerTypes {
			if ((i+1)%p == 0) != (t == FullAttention) {
				ok = false
				break
			}
		}
		if ok {
			return p
		}
	}
	return 0
}

// GenerationConfigJSON renders Spec.Generation as a generation_config.json.
func (s *Spec) GenerationConfigJSON() ([]byte, error) {
	g := s.Generation
	c := map[string]any{
		"do_sample":          g.DoSample,
		"temperature":        g.Temperature,
		"top_k":              g.TopK,
		"top_p":              g.TopP,
		"repetition_penalty": g.RepetitionPenalty,
	}
	c["bos_token_id"] = idJSON(g.BOSTokenID)
	c["eos_token_id"] = idsJSON(g.EOSTokenIDs)
	c["pad_token_id"] = idJSON(s.PadTokenID)
	out, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("generation_config.json: %w", err)
	}
	return append(out, '\n'), nil
}
