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
	"errors"
	"fmt"
	"math"
	"strconv"
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

// Greedy reports whether the params select argmax decoding.
func (p Params) Greedy() bool { return p.Temperature <= 0 }

// Resolved returns p with the zero value's unset fields given their
// meaning: a TopP or RepetitionPenalty of 0 becomes 1 (disabled). It is
// what NewSampler validates, so a Params literal that leaves them out is
// valid; a value a user typed is checked as given (Validate).
func (p Params) Resolved() Params {
	if p.TopP == 0 {
		p.TopP = 1
	}
	if p.RepetitionPenalty == 0 {
		p.RepetitionPenalty = 1
	}
	return p
}

// Validate checks p against the one set of ranges every front end uses
// (CheckValues). Each bad value is one line "<field>: <value and what was
// expected>", the field by its JSON name ("top_p").
func (p Params) Validate() error { return p.ValidateAs(nil) }

// ValidateAs is Validate with the fields named by name (given the JSON
// name), so a front end reports the same text in its own vocabulary, e.g.
// "--top-p" for a command-line flag. A nil name keeps the JSON names.
func (p Params) ValidateAs(name func(field string) string) error {
	return checkValues(float64(p.Temperature), p.TopK, float64(p.TopP), float64(p.RepetitionPenalty), 32, name)
}

// CheckValues checks sampling values as a front end reads them (float64
// flags or JSON numbers), before they are narrowed to Params' float32:
// Temperature finite, >= 0 (0 = greedy) and at most MaxFloat; TopK >= 0
// (0 = disabled); TopP in (0, 1] (1 = disabled) and not 0 in float32;
// RepetitionPenalty > 0 (1 = disabled), neither 0 nor infinite in float32.
// Fields are named as in ValidateAs.
func CheckValues(temperature float64, topK int, topP, repetitionPenalty float64, name func(field string) string) error {
	return checkValues(temperature, topK, topP, repetitionPenalty, 64, name)
}

// checkValues is CheckValues, printing values with the precision of bits.
func checkValues(temperature float64, topK int, topP, repetitionPenalty float64, bits int, name func(string) string) error {
	if name == nil {
		name = func(f string) string { return f }
	}
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", name(field), fmt.Sprintf(format, args...)))
	}
	num := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, bits) }
	if CheckFloat(temperature) != nil || temperature < 0 {
		bad("temperature", "%s: expected a finite value >= 0 (0 = greedy), at most %.4g", num(temperature), MaxFloat)
	}
	if topK < 0 {
		bad("top_k", "%d is negative: expected 0 (disabled) or a positive count", topK)
	}
	if !(topP > 0 && topP <= 1) || float32(topP) == 0 {
		bad("top_p", "%s is out of range: expected a value in (0, 1] (1 = disabled), at least %.2g", num(topP), math.SmallestNonzeroFloat32)
	}
	if CheckFloat(repetitionPenalty) != nil || repetitionPenalty <= 0 || float32(repetitionPenalty) == 0 {
		bad("repetition_penalty", "%s: expected a finite value from %.2g to %.4g (1 = disabled)", num(repetitionPenalty), math.SmallestNonzeroFloat32, MaxFloat)
	}
	return errors.Join(errs...)
}
