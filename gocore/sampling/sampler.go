package sampling

import (
	"fmt"
	"math"
	"slices"
)

const golden = 0x9E3779B97F4A7C15

// mix64 is the SplitMix64 output function.
func mix64(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
	z = (z ^ (z >> 27)) * 0x94D049BB133111EB
	return z ^ (z >> 31)
}

// Uniform is the draw of the given step for seed: the SplitMix64 output
// r = mix64(seed + (step+1)·0x9E3779B97F4A7C15), turned into a float32 in
// [0, 1) as float32(r>>40)·2⁻²⁴ (exact).
func Uniform(seed, step uint64) float32 {
	r := mix64(seed + (step+1)*golden)
	return float32(r>>40) * (1.0 / (1 << 24))
}

// DrawInverseCDF picks an index from non-negative weights (not necessarily
// normalised): with total the fp32 sum of the weights in index order, it
// returns the first i whose fp32 running sum (in index order) exceeds
// u·total, or the last index of positive weight if rounding leaves none. It
// returns -1 when no weight is positive.
func DrawInverseCDF(weights []float32, u float32) int32 {
	var total float32
	last := int32(-1)
	for i, w := range weights {
		if w > 0 {
			total += w
			last = int32(i)
		}
	}
	if last < 0 {
		return -1
	}
	target := u * total
	var c float32
	for i, w := range weights {
		if w > 0 {
			c += w
			if c > target {
				return int32(i)
			}
		}
	}
	return last
}

// CheckFinite returns an error naming the first score that is NaN or
// ±Inf: such logits come from a broken model, and sampling them would
// silently give garbage (argmax of all-NaN scores is token 0). One pass
// without branches: x*0 is 0 for a finite x and NaN otherwise, and a NaN
// sticks in the sums.
func CheckFinite(logits []float32) error {
	var a, b, c, d float32
	n4 := len(logits) &^ 3
	for i := 0; i < n4; i += 4 {
		s := logits[i : i+4 : i+4]
		a += s[0] * 0
		b += s[1] * 0
		c += s[2] * 0
		d += s[3] * 0
	}
	for _, x := range logits[n4:] {
		a += x * 0
	}
	if a+b+c+d == 0 {
		return nil
	}
	for i, x := range logits {
		if x-x != 0 { // NaN for NaN and ±Inf, 0 for every finite x
			n := 0
			for _, y := range logits[i:] {
				if y-y != 0 {
					n++
				}
			}
			return fmt.Errorf("logits are not finite: score %d is %v (%d of %d scores are NaN or Inf)", i, x, n, len(logits))
		}
	}
	return nil
}

// Sampler draws tokens for one generation. It is not safe for concurrent use.
type Sampler struct {
	p     Params
	vocab int
	step  uint64

	seen    []uint64  // repetition-penalty bitset, kept all-zero between calls
	cands   []int32   // candidate ids
	weights []float32 // softmax weights of the candidates
	scratch []float32 // selection scratch for large top-k
	keys    []uint64  // top-p sorting scratch
}

// NewSampler validates p (its Resolved form: a zero TopP or
// RepetitionPenalty means disabled) and prepares a sampler for a
// vocabulary of the given size.
func NewSampler(p Params, vocab int) (*Sampler, error) {
	if vocab <= 0 {
		return nil, fmt.Errorf("sampling: vocabulary size must be positive, got %d", vocab)
	}
	if err := p.Resolved().Validate(); err != nil {
		return nil, fmt.Errorf("sampling: %w", err)
	}
	s := &Sampler{p: p, vocab: vocab}
	if s.penalised() {
		s.seen = make([]uint64, (vocab+63)/64)
	}
	return s, nil
}

func (s *Sampler) penalised() bool {
	return s.p.RepetitionPenalty != 1 && s.p.RepetitionPenalty != 0
}

// Sample chooses the next token from logits (len == vocabulary size) given
// history (prompt + generated ids), modifying logits in place. See the
// package documentation for the exact procedure. Scores beyond the
// vocabulary size are ignored.
func (s *Sampler) Sample(logits []float32, history []int32) int32 {
	if len(logits) > s.vocab {
		logits = logits[:s.vocab]
	}
	step := s.step
	s.step++
	if s.penalised() {
		if len(s.seen) < (len(logits)+63)/64 {
			s.seen = make([]uint64, (len(logits)+63)/64)
		}
		applyPenalty(logits, history, s.p.RepetitionPenalty, s.seen)
	}
	if s.p.Greedy() {
		return Argmax(logits)
	}
	if t := s.p.Temperature; t < 1 {
		// Dividing by a tiny temperature can overflow the largest score to
		// ±Inf (and ties among several +Inf would hide the real maximum).
		// The limit T -> 0 is greedy, so take the argmax of the unscaled
		// scores then.
		if a := Argmax(logits); math.IsInf(float64(logits[a]/t), 0) {
			return a
		}
	}
	ApplyTemperature(logits, s.p.Temperature)

	// Candidates: ids with a finite score (NaN counts as -inf) that pass top-k.
	thr := negInf
	if k := s.p.TopK; k > 0 && k < len(logits) {
		if cap(s.scratch) < len(logits) && k > 256 {
			s.scratch = make([]float32, len(logits))
		}
		thr = kthLargest(logits, k, s.scratch)
	}
	cands := s.cands[:0]
	for i, x := range logits {
		if x >= thr && x > negInf {
			cands = append(cands, int32(i))
		}
	}
	s.cands = cands
	if len(cands) == 0 {
		return Argmax(logits)
	}
	if p := s.p.TopP; p > 0 && p < 1 {
		kept := topP(logits, cands, p, &s.keys)
		if len(kept) <= 256 {
			slices.Sort(kept)
			cands = kept
		} else {
			// The survivors are the ids ranked at or above kept[0]; collect
			// them in id order with one pass instead of a sort.
			lo := packedKey(logits[kept[0]], kept[0])
			cands = cands[:0]
			for i, x := range logits {
				if x >= thr && x > negInf && packedKey(x, int32(i)) >= lo {
					cands = append(cands, int32(i))
				}
			}
		}
	}

	// Softmax over the survivors (in id order) and the inverse-CDF draw.
	maxv := negInf
	for _, id := range cands {
		maxv = max(maxv, logits[id])
	}
	if math.IsInf(float64(maxv), 1) {
		return Argmax(logits)
	}
	w := s.weights[:0]
	var total float64
	for _, id := range cands {
		e := math.Exp(float64(logits[id] - maxv))
		total += e
		w = append(w, float32(e))
	}
	inv := 1 / total
	for i := range w {
		w[i] = float32(float64(w[i]) * inv)
	}
	s.weights = w
	i := DrawInverseCDF(w, Uniform(s.p.Seed, step))
	if i < 0 {
		return Argmax(logits)
	}
	return cands[i]
}
