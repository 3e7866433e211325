package sampling

import (
	"math"
	"slices"
)

var negInf = float32(math.Inf(-1))

// ApplyRepetitionPenalty penalises every id in the set of ids of history
// (duplicates count once): a negative score is multiplied by penalty, any
// other score (including 0) is divided by it, as Hugging Face's
// RepetitionPenaltyLogitsProcessor does. Ids outside logits are ignored.
// penalty 1 (or 0) leaves the scores unchanged.
func ApplyRepetitionPenalty(logits []float32, history []int32, penalty float32) {
	if penalty == 1 || penalty == 0 || len(history) == 0 {
		return
	}
	seen := make([]uint64, (len(logits)+63)/64)
	applyPenalty(logits, history, penalty, seen)
}

// applyPenalty is ApplyRepetitionPenalty with a caller-provided, all-zero
// bitset of len(logits) bits, which it leaves all-zero again.
func applyPenalty(logits []float32, history []int32, penalty float32, seen []uint64) {
	n := int32(len(logits))
	for _, id := range history {
		if id < 0 || id >= n {
			continue
		}
		w, b := id>>6, uint64(1)<<(id&63)
		if seen[w]&b != 0 {
			continue
		}
		seen[w] |= b
		if x := logits[id]; x < 0 {
			logits[id] = x * penalty
		} else {
			logits[id] = x / penalty
		}
	}
	for _, id := range history {
		if id >= 0 && id < n {
			seen[id>>6] = 0
		}
	}
}

// ApplyTemperature divides every score by t (fp32 division, as HF's
// TemperatureLogitsWarper). t 1 (or <= 0) leaves the scores unchanged.
func ApplyTemperature(logits []float32, t float32) {
	if t == 1 || t <= 0 {
		return
	}
	for i, x := range logits {
		logits[i] = x / t
	}
}

// ApplyTopK keeps the scores >= the k-th largest score (so ties with the
// k-th are kept and more than k ids can survive) and sets the others to -inf,
// as HF's TopKLogitsWarper. k <= 0 or k >= len(logits) keeps everything.
func ApplyTopK(logits []float32, k int) {
	if k <= 0 || k >= len(logits) {
		return
	}
	thr := kthLargest(logits, k, nil)
	for i, x := range logits {
		if x < thr {
			logits[i] = negInf
		}
	}
}

// kthLargest returns the k-th largest value of x (1 <= k <= len(x)), NaN
// ordered below -inf. scratch, when large enough, avoids an allocation for
// large k.
func kthLargest(x []float32, k int, scratch []float32) float32 {
	if k <= 256 {
		// A min-heap of the k largest values seen so far.
		var buf [256]float32
		h := buf[:0]
		for _, v := range x {
			if v != v { // NaN
				continue
			}
			if len(h) < k {
				h = append(h, v)
				siftUp(h, len(h)-1)
			} else if v > h[0] {
				h[0] = v
				siftDown(h, 0)
			}
		}
		if len(h) < k {
			return negInf
		}
		return h[0]
	}
	if cap(scratch) < len(x) {
		scratch = make([]float32, len(x))
	}
	s := scratch[:0]
	for _, v := range x {
		if v == v {
			s = append(s, v)
		}
	}
	if len(s) < k {
		return negInf
	}
	return quickselectDesc(s, k-1)
}

func siftUp(h []float32, i int) {
	for i > 0 {
		p := (i - 1) / 2
		if h[p] <= h[i] {
			return
		}
		h[p], h[i] = h[i], h[p]
		i = p
	}
}

func siftDown(h []float32, i int) {
	n := len(h)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		m := l
		if r := l + 1; r < n && h[r] < h[l] {
			m = r
		}
		if h[i] <= h[m] {
			return
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
}

// quickselectDesc returns the value of rank r (0 = largest) of s, reordering s.
func quickselectDesc(s []float32, r int) float32 {
	lo, hi := 0, len(s)-1
	seed := uint64(len(s))
	for lo < hi {
		seed = mix64(seed + golden)
		p := s[lo+int(seed%uint64(hi-lo+1))]
		// Three-way partition: > p, == p, < p.
		i, lt, gt := lo, lo, hi
		for i <= gt {
			switch {
			case s[i] > p:
				s[i], s[lt] = s[lt], s[i]
				i++
				lt++
			case s[i] < p:
				s[i], s[gt] = s[gt], s[i]
				gt--
			default:
				i++
			}
		}
		switch {
		case r < lt:
			hi = lt - 1
		case r > gt:
			lo = gt + 1
		default:
			return p
		}
	}
	return s[r]
}

// ApplyTopP keeps the smallest set of highest scores whose probability mass
// reaches p (always at least the top score) and sets the others to -inf, as
// HF's TopPLogitsWarper: with the finite scores sorted ascending and c their
// fp32 cumulative softmax probabilities, sorted position j is removed iff
// c[j] <= 1-p, except the last (highest) one. Equal scores are ordered by
// descending id in the ascending sort, so among ties the lowest ids are kept
// first. p >= 1 or p <= 0 keeps everything.
func ApplyTopP(logits []float32, p float32) {
	if p >= 1 || p <= 0 {
		return
	}
	var cands []int32
	for i, x := range logits {
		if x > negInf {
			cands = append(cands, int32(i))
		}
	}
	var keys []uint64
	keep := topP(logits, cands, p, &keys)
	keepSet := make(map[int32]bool, len(keep))
	for _, id := range keep {
		keepSet[id] = true
	}
	for i, x := range logits {
		if x > negInf && !keepSet[int32(i)] {
			logits[i] = negInf
		}
	}
}

// largeTopP is the candidate count above which topP first drops, without
// sorting, a low tail that certainly falls under the top-p cut.
const largeTopP = 2048

// topP returns the ids of cands (finite scores) that survive top-p, reusing
// cands' storage.
//
// With many candidates, the scores are bucketed by (max - x) in steps of
// 1/16; the highest buckets whose mass reaches p + (1-p)/2 are kept for the
// exact procedure, and every id below them (at most (1-p)/2 of the mass, so
// each has an ascending cumulative probability well under 1-p) is removed
// without sorting; their mass starts the running sum.
func topP(logits []float32, cands []int32, p float32, keys *[]uint64) []int32 {
	if len(cands) <= 1 {
		return cands
	}
	maxv := negInf
	for _, id := range cands {
		maxv = max(maxv, logits[id])
	}
	cut := 1 - p
	var total float64
	var tail float32 // probability mass already removed
	if len(cands) > largeTopP {
		const buckets, perUnit = 1024, 16
		var hist [buckets]float64
		bucket := func(x float32) int {
			return int(min(float64(maxv-x)*perUnit, buckets-1))
		}
		for _, id := range cands {
			x := logits[id]
			w := math.Exp(float64(x - maxv))
			hist[bucket(x)] += w
			total += w
		}
		target := (float64(p) + float64(cut)/2) * total
		last, acc := buckets-1, 0.0
		for b := range hist {
			acc += hist[b]
			if acc >= target {
				last = b
				break
			}
		}
		var removed float64
		kept := cands[:0]
		for _, id := range cands {
			x := logits[id]
			if bucket(x) <= last {
				kept = append(kept, id)
			} else {
				removed += math.Exp(float64(x - maxv))
			}
		}
		cands = kept
		tail = float32(removed / total)
	} else {
		for _, id := range cands {
			total += math.Exp(float64(logits[id] - maxv))
		}
	}
	// Sort ascending by score, equal scores by descending id, through packed
	// keys: order-preserving score bits above the complemented id.
	ks := (*keys)[:0]
	for _, id := range cands {
		ks = append(ks, packedKey(logits[id], id))
	}
	slices.Sort(ks)
	for j, k := range ks {
		cands[j] = int32(^uint32(k))
	}
	*keys = ks
	c := tail
	first := len(cands) - 1
	for j, id := range cands[:len(cands)-1] {
		c += float32(math.Exp(float64(logits[id]-maxv)) / total)
		if c > cut {
			first = j
			break
		}
	}
	return cands[first:]
}

// Softmax replaces the scores by their softmax probabilities (fp32 output;
// exp and the sum in float64). -inf scores get probability 0. If every
// score is -inf (or NaN) the result is all zeros.
func Softmax(logits []float32) {
	maxv := negInf
	for _, x := range logits {
		if x > maxv {
			maxv = x
		}
	}
	switch {
	case maxv == negInf:
		clear(logits)
		return
	case math.IsInf(float64(maxv), 1): // the +inf scores share all the mass
		n := 0
		for _, x := range logits {
			if x == maxv {
				n++
			}
		}
		for i, x := range logits {
			if x == maxv {
				logits[i] = 1 / float32(n)
			} else {
				logits[i] = 0
			}
		}
		return
	}
	var sum float64
	for i, x := range logits {
		e := 0.0
		if x == x {
			e = math.Exp(float64(x - maxv))
		}
		logits[i] = float32(e)
		sum += e
	}
	inv := 1 / sum
	for i, e := range logits {
		logits[i] = float32(float64(e) * inv)
	}
}

// Argmax returns the index of the largest score; ties go to the lowest id
// (torch.argmax). NaN scores are skipped; an all -inf/NaN (or empty) vector
// gives 0.
func Argmax(logits []float32) int32 {
	best, bi := negInf, 0
	for i, x := range logits {
		if x > best {
			best, bi = x, i
		}
	}
	return int32(bi)
}

// orderedBits maps a float32 to a uint32 with the same order (for non-NaN).
func orderedBits(f float32) uint32 {
	b := math.Float32bits(f)
	if b&0x80000000 != 0 {
		return ^b
	}
	return b | 0x80000000
}

// packedKey orders (score ascending, id descending) as one integer.
func packedKey(x float32, id int32) uint64 {
	return uint64(orderedBits(x))<<32 | uint64(^uint32(id))
}
