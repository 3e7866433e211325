// Package sampling chooses the next token from a logits vector with Hugging
// Face generate() semantics: repetition penalty, temperature, top-k, top-p,
// softmax and a seeded draw; greedy is argmax with ties to the lowest id.
//
// Sampler.Sample does, on the fp32 scores, in this order (MODELS.md 4.3/4.4):
//
//  1. Repetition penalty (if RepetitionPenalty is neither 0 nor 1) over the
//     set of ids in the history: negative scores × penalty, others ÷ penalty.
//  2. Greedy (Temperature == 0): return the first index of the maximum.
//  3. Temperature (if not 1): every score ÷ Temperature.
//  4. Top-k (if TopK > 0): thr = the TopK-th largest score; ids with a score
//     >= thr survive (ties with the k-th are kept). NaN counts as -inf.
//  5. Top-p (if 0 < TopP < 1): survivors sorted by ascending score (equal
//     scores: higher id first), c = running fp32 sum of their softmax
//     probabilities; sorted position j is dropped iff c[j] <= 1-TopP, the
//     highest score is always kept. (With more than 2048 candidates, a low
//     tail holding at most (1-TopP)/2 of the mass is dropped first without
//     sorting; its mass starts the running sum.)
//  6. The survivors, in ascending id order, get weights
//     w = float32(exp(x - max)/Σexp(x - max)) (exp and sum in float64).
//  7. The draw: u = Uniform(Seed, step), where step counts the Sample calls
//     of this Sampler from 0 (greedy calls included), Uniform being
//     u = float32(r>>40)·2⁻²⁴ with r = SplitMix64 output of
//     Seed + (step+1)·0x9E3779B97F4A7C15. With W the fp32 sum of the weights
//     in id order, the chosen id is the first survivor whose fp32 running sum
//     of weights exceeds u·W (DrawInverseCDF).
//
// A GPU kernel that follows steps 1-7 reproduces the same token ids for the
// same logits, seed and step, up to fp32 rounding of the exponentials.
package sampling

import (
	"fmt"
	"math"
)

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

// MaxFloat is the largest value a Params float field can hold (float32).
const MaxFloat = math.MaxFloat32

// CheckFloat checks a value given in float64 (a flag, a JSON number) for a
// Params float field: it must be finite and stay finite in float32, so
// 1e308 is refused here rather than turning into +Inf on the way.
func CheckFloat(v float64) error {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return fmt.Errorf("%v is not a finite number", v)
	}
	if math.Abs(v) > MaxFloat {
		return fmt.Errorf("%g is too large for the float32 the sampler uses (at most %.4g)", v, MaxFloat)
	}
	return nil
}

// Validate checks p: Temperature >= 0 (0 = greedy), TopK >= 0, TopP in
// [0, 1] (0 and 1 disable it) and RepetitionPenalty >= 0 (0 and 1 disable
// it), all finite.
func (p Params) Validate() error {
	switch {
	case !(p.Temperature >= 0) || math.IsInf(float64(p.Temperature), 0):
		return fmt.Errorf("temperature must be a finite number >= 0 (0 = greedy), got %g", p.Temperature)
	case p.TopK < 0:
		return fmt.Errorf("top_k must be >= 0 (0 = disabled), got %d", p.TopK)
	case !(p.TopP >= 0 && p.TopP <= 1):
		return fmt.Errorf("top_p must be in (0, 1] (0 or 1 = disabled), got %g", p.TopP)
	case !(p.RepetitionPenalty >= 0) || math.IsInf(float64(p.RepetitionPenalty), 0):
		return fmt.Errorf("repetition_penalty must be a finite number > 0 (1 = disabled), got %g", p.RepetitionPenalty)
	}
	return nil
}

// Greedy reports whether the params select argmax decoding.
func (p Params) Greedy() bool { return p.Temperature <= 0 }
