// Package sampling chooses the next token from a logits vector with Hugging
// Face generate() semantics: repetition penalty, temperature, top-k, top-p,
// softmax and a seeded draw; greedy is argmax with ties to the lowest id.
package sampling

// Params are the sampling parameters of one generation. The zero value is
// greedy decoding with no repetition penalty.
type Params struct {
	// Temperature <= 0 means greedy (do_sample=False); otherwise the logits
	// are divided by it (a value of 1 leaves them unchanged).
	Temperature float32 `json:"temperature"`
	// TopK keeps the K highest scores (and ties with the K-th); 0 disables.
	TopK int `json:"top_k"`
	// TopP keeps the smallest top set whose probability reaches P; values
	// >= 1 (or 0) disable it.
	TopP float32 `json:"top_p"`
	// RepetitionPenalty != 1 penalises every id in prompt+generated tokens
	// (0 is treated as 1, disabled).
	RepetitionPenalty float32 `json:"repetition_penalty"`
	// Seed seeds the draw: the same seed gives the same tokens.
	Seed uint64 `json:"seed"`
}

// Greedy reports whether the params select argmax decoding.
func (p Params) Greedy() bool { return p.Temperature <= 0 }
