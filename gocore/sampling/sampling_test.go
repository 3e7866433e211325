package sampling

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"testing"
)

var inf = float32(math.Inf(1))

func eq(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestRepetitionPenalty(t *testing.T) {
	l := []float32{2, -2, 0, 1, 5}
	// id 0 three times, an out-of-range id: each id of the set is penalised once.
	ApplyRepetitionPenalty(l, []int32{0, 1, 2, 0, 0, 99, -1}, 2)
	if want := []float32{1, -4, 0, 1, 5}; !eq(l, want) {
		t.Errorf("penalty 2: %v, want %v", l, want)
	}
	l = []float32{2, -2}
	ApplyRepetitionPenalty(l, []int32{0, 1}, 0.5) // < 1 rewards
	if want := []float32{4, -1}; !eq(l, want) {
		t.Errorf("penalty 0.5: %v, want %v", l, want)
	}
	l = []float32{2, -2}
	ApplyRepetitionPenalty(l, []int32{0, 1}, 1)
	if want := []float32{2, -2}; !eq(l, want) {
		t.Errorf("penalty 1: %v", l)
	}
}

func TestTemperature(t *testing.T) {
	l := []float32{1, -3, 0.5, negInf}
	ApplyTemperature(l, 0.5)
	if want := []float32{2, -6, 1, negInf}; !eq(l, want) {
		t.Errorf("got %v, want %v", l, want)
	}
	// fp32 division, not multiplication by the reciprocal.
	l = []float32{1}
	ApplyTemperature(l, 0.6)
	if l[0] != float32(1)/float32(0.6) {
		t.Errorf("1/0.6 = %v", l[0])
	}
}

func TestTopK(t *testing.T) {
	cases := []struct {
		in   []float32
		k    int
		want []float32
	}{
		{[]float32{1, 3, 3, 2, 0}, 2, []float32{negInf, 3, 3, negInf, negInf}},
		{[]float32{1, 3, 3, 2, 0}, 3, []float32{negInf, 3, 3, 2, negInf}},
		{[]float32{5, 4, 4, 4, 1}, 2, []float32{5, 4, 4, 4, negInf}}, // ties with the k-th kept
		{[]float32{5, 4, 4, 4, 1}, 1, []float32{5, negInf, negInf, negInf, negInf}},
		{[]float32{1, 2}, 0, []float32{1, 2}},
		{[]float32{1, 2}, 5, []float32{1, 2}},
		{[]float32{negInf, 1, negInf, 0}, 3, []float32{negInf, 1, negInf, 0}}, // fewer finite than k
	}
	for _, c := range cases {
		l := slices.Clone(c.in)
		ApplyTopK(l, c.k)
		if !eq(l, c.want) {
			t.Errorf("top-%d of %v: %v, want %v", c.k, c.in, l, c.want)
		}
	}
	// Large k (the quickselect path) against a full sort.
	rng := uint64(5)
	x := make([]float32, 5000)
	for i := range x {
		rng = mix64(rng + golden)
		x[i] = float32(int(rng%200)) / 8 // many ties
	}
	for _, k := range []int{1, 7, 256, 257, 1000, 4999} {
		s := slices.Clone(x)
		sort.Slice(s, func(i, j int) bool { return s[i] > s[j] })
		thr := s[k-1]
		l := slices.Clone(x)
		ApplyTopK(l, k)
		for i := range l {
			want := x[i]
			if x[i] < thr {
				want = negInf
			}
			if l[i] != want {
				t.Fatalf("k=%d: id %d = %v, want %v", k, i, l[i], want)
			}
		}
	}
}

func logs(p ...float64) []float32 {
	out := make([]float32, len(p))
	for i, x := range p {
		out[i] = float32(math.Log(x))
	}
	return out
}

func finite(l []float32) []int {
	var ids []int
	for i, x := range l {
		if x > negInf {
			ids = append(ids, i)
		}
	}
	return ids
}

func TestTopP(t *testing.T) {
	cases := []struct {
		in   []float32
		p    float32
		keep []int
	}{
		// probabilities 0.5, 0.3, 0.15, 0.05: ascending cumsum 0.05, 0.2, 0.5, 1
		{logs(0.5, 0.3, 0.15, 0.05), 0.75, []int{0, 1}},
		{logs(0.5, 0.3, 0.15, 0.05), 0.9, []int{0, 1, 2}},
		{logs(0.5, 0.3, 0.15, 0.05), 0.4, []int{0}},
		{logs(0.05, 0.15, 0.5, 0.3), 0.75, []int{2, 3}}, // id order does not matter
		{logs(0.5, 0.3, 0.15, 0.05), 0.01, []int{0}},    // the top token always survives
		{[]float32{0, 0, 0, 0}, 0.1, []int{0}},          // ties: the lowest id ranks highest
		{[]float32{0, 0, 0, 0}, 0.6, []int{0, 1, 2}},    // cumsum .25 .5 .75 1; cut 0.4
		{logs(0.5, 0.3, 0.15, 0.05), 1, []int{0, 1, 2, 3}},
		{[]float32{negInf, 2, negInf}, 0.5, []int{1}},
	}
	for _, c := range cases {
		l := slices.Clone(c.in)
		ApplyTopP(l, c.p)
		if got := finite(l); !slices.Equal(got, c.keep) {
			t.Errorf("top-p %g of %v keeps %v, want %v", c.p, c.in, got, c.keep)
		}
		for _, id := range c.keep {
			if l[id] != c.in[id] {
				t.Errorf("top-p changed kept score %d", id)
			}
		}
	}
}

// naiveTopP: kept iff the float64 mass of strictly higher-ranked ids < p.
func naiveTopP(x []float32, p float64) []int {
	ids := make([]int, len(x))
	for i := range ids {
		ids[i] = i
	}
	sort.SliceStable(ids, func(a, b int) bool { return x[ids[a]] > x[ids[b]] })
	m := math.Inf(-1)
	for _, v := range x {
		m = math.Max(m, float64(v))
	}
	var z float64
	for _, v := range x {
		z += math.Exp(float64(v) - m)
	}
	var above float64
	var keep []int
	for _, id := range ids {
		if above < p {
			keep = append(keep, id)
		}
		above += math.Exp(float64(x[id])-m) / z
	}
	sort.Ints(keep)
	return keep
}

// The large-vocabulary path (tail pre-filter) agrees with the naive rule.
func TestTopPLargeVocabulary(t *testing.T) {
	rng := uint64(17)
	for trial := 0; trial < 4; trial++ {
		x := make([]float32, 20000)
		for i := range x {
			rng = mix64(rng + golden)
			x[i] = 3 * float32(int64(rng>>11)%20000-10000) / 10000 * float32(trial+1)
		}
		for _, p := range []float32{0.5, 0.9, 0.95} {
			l := slices.Clone(x)
			ApplyTopP(l, p)
			if got, want := finite(l), naiveTopP(x, float64(p)); !slices.Equal(got, want) {
				t.Errorf("trial %d p %g: kept %d ids, naive %d", trial, p, len(got), len(want))
			}
		}
	}
}

func TestSoftmaxArgmax(t *testing.T) {
	l := []float32{0, float32(math.Log(3)), negInf}
	Softmax(l)
	if math.Abs(float64(l[0])-0.25) > 1e-7 || math.Abs(float64(l[1])-0.75) > 1e-7 || l[2] != 0 {
		t.Errorf("softmax: %v", l)
	}
	l = []float32{negInf, negInf}
	Softmax(l)
	if l[0] != 0 || l[1] != 0 {
		t.Errorf("all -inf: %v", l)
	}
	l = []float32{inf, 1, inf}
	Softmax(l)
	if !eq(l, []float32{0.5, 0, 0.5}) {
		t.Errorf("+inf: %v", l)
	}
	for _, c := range []struct {
		in   []float32
		want int32
	}{
		{[]float32{1, 3, 3}, 1},
		{[]float32{negInf, negInf}, 0},
		{[]float32{float32(math.NaN()), 1, 2}, 2},
		{[]float32{-5, -1, -1, -7}, 1},
		{nil, 0},
	} {
		if got := Argmax(c.in); got != c.want {
			t.Errorf("Argmax(%v) = %d, want %d", c.in, got, c.want)
		}
	}
}

func TestUniformAndDraw(t *testing.T) {
	var sum float64
	for i := uint64(0); i < 10000; i++ {
		u := Uniform(123, i)
		if u < 0 || u >= 1 {
			t.Fatalf("Uniform out of [0,1): %v", u)
		}
		sum += float64(u)
	}
	if math.Abs(sum/10000-0.5) > 0.01 {
		t.Errorf("uniform mean %g", sum/10000)
	}
	// Reference value of the documented generator: SplitMix64 of seed 0,
	// first output 0xE220A8397B1DCDAF (the published test vector).
	if got, want := Uniform(0, 0), float32(0xE220A8397B1DCDAF>>40)/(1<<24); got != want {
		t.Errorf("Uniform(0, 0) = %v, want %v", got, want)
	}
	w := []float32{0, 1, 0, 3}
	for _, c := range []struct {
		u    float32
		want int32
	}{{0, 1}, {0.2, 1}, {0.25, 3}, {0.9999, 3}} {
		if got := DrawInverseCDF(w, c.u); got != c.want {
			t.Errorf("DrawInverseCDF(%v, %v) = %d, want %d", w, c.u, got, c.want)
		}
	}
	if DrawInverseCDF([]float32{0, 0}, 0.5) != -1 {
		t.Error("no positive weight should give -1")
	}
}

func TestNewSamplerValidation(t *testing.T) {
	for _, c := range []struct {
		p    Params
		v    int
		want string
	}{
		{Params{Temperature: -1}, 10, "temperature"},
		{Params{Temperature: float32(math.NaN())}, 10, "temperature"},
		{Params{Temperature: 1, TopK: -1}, 10, "top_k"},
		{Params{Temperature: 1, TopP: 1.5}, 10, "top_p"},
		{Params{Temperature: 1, TopP: -0.1}, 10, "top_p"},
		{Params{Temperature: 1, RepetitionPenalty: -1}, 10, "repetition_penalty"},
		{Params{}, 0, "vocabulary"},
	} {
		if _, err := NewSampler(c.p, c.v); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v vocab %d: %v", c.p, c.v, err)
		}
	}
}

func TestGreedySampler(t *testing.T) {
	s, err := NewSampler(Params{RepetitionPenalty: 4}, 4)
	if err != nil {
		t.Fatal(err)
	}
	// The penalty turns 8 into 2, so id 2 (3.0) wins over id 0.
	if got := s.Sample([]float32{8, 1, 3, 3}, []int32{0}); got != 2 {
		t.Errorf("greedy with penalty: %d, want 2", got)
	}
	if got := s.Sample([]float32{1, 5, 5}, nil); got != 1 {
		t.Errorf("greedy tie: %d, want 1", got)
	}
}

// reference computes the intended distribution of Sample naively in float64:
// penalty, temperature, top-k with ties, top-p (mass of strictly
// higher-ranked ids < p), softmax.
func reference(logits []float32, history []int32, p Params) []float64 {
	x := make([]float64, len(logits))
	for i, v := range logits {
		x[i] = float64(v)
	}
	seen := map[int32]bool{}
	for _, id := range history {
		if !seen[id] && p.RepetitionPenalty != 0 {
			seen[id] = true
			if x[id] < 0 {
				x[id] *= float64(p.RepetitionPenalty)
			} else {
				x[id] /= float64(p.RepetitionPenalty)
			}
		}
	}
	for i := range x {
		x[i] /= float64(p.Temperature)
	}
	keep := make([]bool, len(x))
	sorted := slices.Clone(x)
	sort.Sort(sort.Reverse(sort.Float64Slice(sorted)))
	for i := range x {
		keep[i] = p.TopK == 0 || x[i] >= sorted[p.TopK-1]
	}
	prob := func() []float64 {
		out := make([]float64, len(x))
		var z float64
		for i := range x {
			if keep[i] {
				out[i] = math.Exp(x[i])
				z += out[i]
			}
		}
		for i := range out {
			out[i] /= z
		}
		return out
	}
	if p.TopP > 0 && p.TopP < 1 {
		pr := prob()
		next := make([]bool, len(x))
		for i := range x {
			if !keep[i] {
				continue
			}
			var above float64
			for j := range x {
				if keep[j] && (x[j] > x[i] || (x[j] == x[i] && j < i)) {
					above += pr[j]
				}
			}
			next[i] = above < float64(p.TopP)
		}
		keep = next
	}
	return prob()
}

// χ² goodness of fit of Sample's draws against the reference distribution.
func TestSamplerDistributionChiSquare(t *testing.T) {
	logits := []float32{1.0, 2.5, 0.3, 2.5, -1, 1.7, 0.9, 3.1, -0.5, 2.0, 0.0, 1.2}
	history := []int32{7, 0, 7}
	params := []Params{
		{Temperature: 1, Seed: 1},
		{Temperature: 0.7, TopK: 6, Seed: 2},
		{Temperature: 1.3, TopP: 0.8, Seed: 3},
		{Temperature: 0.6, TopK: 8, TopP: 0.9, RepetitionPenalty: 1.3, Seed: 4},
	}
	const draws = 40000
	for _, p := range params {
		want := reference(logits, history, p)
		s, err := NewSampler(p, len(logits))
		if err != nil {
			t.Fatal(err)
		}
		counts := make([]int, len(logits))
		buf := make([]float32, len(logits))
		for i := 0; i < draws; i++ {
			copy(buf, logits)
			counts[s.Sample(buf, history)]++
		}
		var chi2 float64
		df := -1
		for i, pr := range want {
			if pr == 0 {
				if counts[i] != 0 {
					t.Errorf("%+v: filtered id %d drawn %d times", p, i, counts[i])
				}
				continue
			}
			e := pr * draws
			chi2 += (float64(counts[i]) - e) * (float64(counts[i]) - e) / e
			df++
		}
		// 0.1% critical values of χ² for df 1..11.
		crit := []float64{0, 10.83, 13.82, 16.27, 18.47, 20.52, 22.46, 24.32, 26.12, 27.88, 29.59, 31.26}[df]
		if chi2 > crit {
			t.Errorf("%+v: χ² = %.2f with %d df exceeds %.2f; counts %v, want probs %v", p, chi2, df, crit, counts, want)
		}
	}
}

func TestSamplerDeterminism(t *testing.T) {
	logits := make([]float32, 1000)
	for i := range logits {
		logits[i] = float32(math.Sin(float64(i))) * 4
	}
	run := func(seed uint64) []int32 {
		s, err := NewSampler(Params{Temperature: 0.8, TopK: 100, TopP: 0.95, Seed: seed}, len(logits))
		if err != nil {
			t.Fatal(err)
		}
		var out []int32
		buf := make([]float32, len(logits))
		for i := 0; i < 64; i++ {
			copy(buf, logits)
			out = append(out, s.Sample(buf, out))
		}
		return out
	}
	a, b, c := run(5), run(5), run(6)
	if !slices.Equal(a, b) {
		t.Error("same seed gave different tokens")
	}
	if slices.Equal(a, c) {
		t.Error("different seeds gave the same 64 tokens")
	}
}

func TestSampleDoesNotAllocate(t *testing.T) {
	const vocab = 4096
	logits := make([]float32, vocab)
	for i := range logits {
		logits[i] = float32(math.Cos(float64(i)*0.37)) * 5
	}
	history := []int32{1, 2, 3, 4000}
	for _, p := range []Params{
		{Temperature: 0.6, TopK: 50, TopP: 0.9, RepetitionPenalty: 1.1},
		{Temperature: 1, TopP: 0.95},
		{Temperature: 1, TopK: 1000},
		{RepetitionPenalty: 1.2},
	} {
		s, err := NewSampler(p, vocab)
		if err != nil {
			t.Fatal(err)
		}
		buf := make([]float32, vocab)
		copy(buf, logits)
		s.Sample(buf, history) // first call may size scratch
		allocs := testing.AllocsPerRun(20, func() {
			copy(buf, logits)
			s.Sample(buf, history)
		})
		if allocs != 0 {
			t.Errorf("%+v: %v allocations per Sample", p, allocs)
		}
	}
}

func benchSample(b *testing.B, p Params) {
	const vocab = 262144
	logits := make([]float32, vocab)
	rng := uint64(1)
	for i := range logits {
		rng = mix64(rng + golden)
		logits[i] = float32(int64(rng>>40)-1<<23) / (1 << 23) * 8
	}
	s, err := NewSampler(p, vocab)
	if err != nil {
		b.Fatal(err)
	}
	buf := make([]float32, vocab)
	history := make([]int32, 512)
	for i := range history {
		history[i] = int32(i * 97 % vocab)
	}
	for b.Loop() {
		copy(buf, logits)
		s.Sample(buf, history)
	}
}

func BenchmarkSample262k_Greedy(b *testing.B) { benchSample(b, Params{}) }
func BenchmarkSample262k_TopK64TopP95(b *testing.B) {
	benchSample(b, Params{Temperature: 1, TopK: 64, TopP: 0.95})
}
func BenchmarkSample262k_T06TopK50TopP09Penalty(b *testing.B) {
	benchSample(b, Params{Temperature: 0.6, TopK: 50, TopP: 0.9, RepetitionPenalty: 1.1})
}
func BenchmarkSample262k_TopP95Only(b *testing.B) { benchSample(b, Params{Temperature: 1, TopP: 0.95}) }

// Sample equals the documented procedure spelled out with the exported
// processors, on a vocabulary large enough for every internal fast path.
func TestSampleFollowsDocumentedProcedure(t *testing.T) {
	const vocab = 6000
	logits := make([]float32, vocab)
	rng := uint64(3)
	for i := range logits {
		rng = mix64(rng + golden)
		logits[i] = float32(int64(rng>>40)-1<<23) / (1 << 23) * 2
	}
	history := []int32{5, 17, 5, 4000}
	for _, p := range []Params{
		{Temperature: 0.9, TopP: 0.9, Seed: 1},                       // many survivors
		{Temperature: 0.5, TopK: 40, TopP: 0.8, Seed: 2},             // few survivors
		{Temperature: 1, TopK: 400, RepetitionPenalty: 1.3, Seed: 3}, // large k
		{Temperature: 1.5, Seed: 4},
	} {
		s, err := NewSampler(p, vocab)
		if err != nil {
			t.Fatal(err)
		}
		for step := uint64(0); step < 20; step++ {
			got := s.Sample(slices.Clone(logits), history)
			ref := slices.Clone(logits)
			ApplyRepetitionPenalty(ref, history, p.RepetitionPenalty)
			ApplyTemperature(ref, p.Temperature)
			ApplyTopK(ref, p.TopK)
			ApplyTopP(ref, p.TopP)
			Softmax(ref)
			want := DrawInverseCDF(ref, Uniform(p.Seed, step))
			if got != want {
				t.Fatalf("%+v step %d: Sample gave %d, documented procedure %d", p, step, got, want)
			}
		}
	}
}

// TestTinyTemperatureIsGreedy: as T -> 0 sampling tends to greedy decoding.
// A temperature so small that the scaled scores overflow float32 must still
// give the argmax of the (penalised) scores, lowest id on ties, computed here
// by a naive loop.
func TestTinyTemperatureIsGreedy(t *testing.T) {
	naiveArgmax := func(x []float32) int32 {
		best := int32(0)
		for i := range x {
			if x[i] > x[best] {
				best = int32(i)
			}
		}
		return best
	}
	cases := [][]float32{
		{5, 9, 7},       // 5/T and 9/T both +Inf: the first +Inf is not the max
		{-5, -2, -9},    // every scaled score is -Inf
		{1, 2, 3, 4},    // the review's case: 3 and 4 overflow
		{0.5, 4, 4, 1},  // a tie at the maximum goes to the lower id
		{-1, 0, -3, -2}, // the maximum is 0, the rest -Inf
	}
	for seed := uint64(0); seed < 20; seed++ {
		x := make([]float32, 1000)
		for i := range x {
			x[i] = 40 * (Uniform(seed+100, uint64(i)) - 0.5)
		}
		cases = append(cases, x)
	}
	for _, temp := range []float32{1e-45, 1e-40, 1e-38, 1e-30, 1e-20} {
		for ci, c := range cases {
			if ci == 3 && !math.IsInf(float64(4/temp), 0) {
				continue // an exact tie that does not overflow is drawn between the tied ids
			}
			for _, p := range []Params{
				{Temperature: temp, Seed: 7},
				{Temperature: temp, TopK: 2, TopP: 0.9, Seed: 7},
				{Temperature: temp, RepetitionPenalty: 1.3, Seed: 7},
			} {
				hist := []int32{1, 2}
				want := slices.Clone(c)
				if p.RepetitionPenalty != 0 {
					ApplyRepetitionPenalty(want, hist, p.RepetitionPenalty)
				}
				s, err := NewSampler(p, len(c))
				if err != nil {
					t.Fatal(err)
				}
				if got, w := s.Sample(slices.Clone(c), hist), naiveArgmax(want); got != w {
					t.Errorf("T=%g case %d %+v: sampled %d, want the argmax %d", temp, ci, p, got, w)
				}
			}
		}
	}
}

// One set of ranges, one text per bad value, named in the caller's
// vocabulary; a Params literal that leaves TopP and RepetitionPenalty out
// is valid once Resolved.
func TestParamsValidate(t *testing.T) {
	for _, c := range []struct {
		p    Params
		want string
	}{
		{Params{Temperature: 0.7, TopK: 50, TopP: 0.9, RepetitionPenalty: 1.1}, ""},
		{Params{TopP: 1, RepetitionPenalty: 1}, ""},
		{Params{Temperature: -0.5, TopP: 1, RepetitionPenalty: 1}, "temperature: -0.5: expected a finite value >= 0 (0 = greedy), at most 3.403e+38"},
		{Params{Temperature: float32(math.Inf(1)), TopP: 1, RepetitionPenalty: 1}, "temperature: +Inf: expected a finite value >= 0 (0 = greedy), at most 3.403e+38"},
		{Params{TopK: -3, TopP: 1, RepetitionPenalty: 1}, "top_k: -3 is negative: expected 0 (disabled) or a positive count"},
		{Params{TopP: 0, RepetitionPenalty: 1}, "top_p: 0 is out of range: expected a value in (0, 1] (1 = disabled), at least 1.4e-45"},
		{Params{TopP: 1.5, RepetitionPenalty: 1}, "top_p: 1.5 is out of range: expected a value in (0, 1] (1 = disabled), at least 1.4e-45"},
		{Params{TopP: float32(math.NaN()), RepetitionPenalty: 1}, "top_p: NaN is out of range: expected a value in (0, 1] (1 = disabled), at least 1.4e-45"},
		{Params{TopP: 1, RepetitionPenalty: 0}, "repetition_penalty: 0: expected a finite value from 1.4e-45 to 3.403e+38 (1 = disabled)"},
		{Params{Temperature: -1, TopK: -1, TopP: 2, RepetitionPenalty: -1}, "temperature: -1: expected a finite value >= 0 (0 = greedy), at most 3.403e+38\n" +
			"top_k: -1 is negative: expected 0 (disabled) or a positive count\n" +
			"top_p: 2 is out of range: expected a value in (0, 1] (1 = disabled), at least 1.4e-45\n" +
			"repetition_penalty: -1: expected a finite value from 1.4e-45 to 3.403e+38 (1 = disabled)"},
	} {
		err := c.p.Validate()
		if got := fmt.Sprint(err); (err == nil) != (c.want == "") || (err != nil && got != c.want) {
			t.Errorf("%+v: Validate() = %v, want %q", c.p, err, c.want)
		}
	}
	flag := func(f string) string { return "--" + strings.ReplaceAll(f, "_", "-") }
	if err := (Params{TopP: 0}).ValidateAs(flag); err == nil || !strings.Contains(err.Error(), "--top-p: 0 is out of range") ||
		!strings.Contains(err.Error(), "--repetition-penalty: 0:") {
		t.Errorf("ValidateAs: %v", err)
	}
	// Values read as float64 are checked before they narrow to float32.
	err := CheckValues(1e308, 0, 1e-300, 1e39, flag)
	want := "--temperature: 1e+308: " + "expected a finite value >= 0 (0 = greedy), at most 3.403e+38" + "\n--top-p: 1e-300 is out of range: " + "expected a value in (0, 1] (1 = disabled), at least 1.4e-45" +
		"\n--repetition-penalty: 1e+39: " + "expected a finite value from 1.4e-45 to 3.403e+38 (1 = disabled)"
	if err == nil || err.Error() != want {
		t.Errorf("CheckValues = %v, want %q", err, want)
	}
	if err := CheckValues(3.4e38, 0, 0.9, 3.4e38, nil); err != nil {
		t.Errorf("CheckValues of the largest float32 values: %v", err)
	}
	if err := (Params{}).Resolved().Validate(); err != nil {
		t.Errorf("the zero Params, resolved: %v", err)
	}
	if r := (Params{Temperature: 1, TopP: 0.5, RepetitionPenalty: 1.2}).Resolved(); r.TopP != 0.5 || r.RepetitionPenalty != 1.2 {
		t.Errorf("Resolved changed given values: %+v", r)
	}
}

func TestCheckFinite(t *testing.T) {
	nan := float32(math.NaN())
	if err := CheckFinite([]float32{0, -3.5, 1e38, -1e38, math.SmallestNonzeroFloat32}); err != nil {
		t.Errorf("finite scores: %v", err)
	}
	for _, c := range []struct {
		x    []float32
		want string
	}{
		{[]float32{1, nan, 2, nan}, "score 1 is NaN (2 of 4 scores"},
		{[]float32{inf, 0}, "score 0 is +Inf (1 of 2"},
		{[]float32{0, 0, -inf}, "score 2 is -Inf (1 of 3"},
	} {
		if err := CheckFinite(c.x); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("CheckFinite(%v) = %v, want %q", c.x, err, c.want)
		}
	}
}

func BenchmarkCheckFinite262k(b *testing.B) {
	x := make([]float32, 262144)
	for i := range x {
		x[i] = float32(i%1000) - 500
	}
	b.SetBytes(int64(4 * len(x)))
	for b.Loop() {
		if CheckFinite(x) != nil {
			b.Fatal("finite scores refused")
		}
	}
}
