package engine

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/genbench/genbench/gocore/model"
	"github.com/genbench/genbench/gocore/weights"
)

// goldenRoot holds the fixtures written by tools/goldens/make_goldens.py
// (`make goldens`): Hugging Face transformers' own computation of tiny
// seeded models and of the dev models' real shapes cut to a few layers.
var goldenRoot = cmpOr(os.Getenv("GENBENCH_GOLDENS"), "testdata/goldens")

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// goldenMeta is a fixture's golden.json.
type goldenMeta struct {
	Set           string      `json:"set"`
	Name          string      `json:"name"`
	Transformers  string      `json:"transformers_version"`
	Torch         string      `json:"torch_version"`
	IDs           []int32     `json:"ids"`        // the prompt, then HF's greedy tokens but the last
	PromptLen     int         `json:"prompt_len"` // the prompt's length
	VocabSize     int         `json:"vocab_size"`
	TopK          int         `json:"topk"`
	TapPositions  []int       `json:"tap_positions"`
	Taps          []goldenTap `json:"taps"`
	GreedyTokens  []int32     `json:"greedy_tokens"`
	GreedyMargins []float64   `json:"greedy_margins"`
	WeightSeed    uint64      `json:"weight_seed"`
	WeightsSHA256 string      `json:"weights_sha256"`
}

type goldenTap struct {
	Layer      int     `json:"layer"`
	Op         string  `json:"op"`
	Width      int     `json:"width"`
	BF16RelRMS float64 `json:"bf16_rel_rms"` // HF bf16 against HF f32: the noise floor
}

// fixture is one golden directory, loaded.
type fixture struct {
	dir  string
	meta goldenMeta
	// [T*K]: the f32 run's top-K ids and values, the bf16 run's values there
	topIDs       []int32
	top32, top16 []float32
	// [T*8]: lse, mean, std, top-1/top-2 margin of the f32 then the bf16 run
	rows []float32
	taps [][]float32 // per meta.Taps entry: [len(TapPositions)*Width], f32 run
}

const rowStats = 8

// readManifest parses "sha256  path" lines and checks every file: the
// fixtures are required (CI runs this test), so a missing MANIFEST fails.
func readManifest(t *testing.T) []string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(goldenRoot, "MANIFEST"))
	if err != nil {
		t.Fatalf("golden fixtures: %v (regenerate them with `make goldens`, see tools/hf-reference/README.md)", err)
	}
	var files []string
	sc := bufio.NewScanner(strings.NewReader(string(data)))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		sum, name, ok := strings.Cut(line, "  ")
		if !ok || len(sum) != 64 {
			t.Fatalf("MANIFEST: malformed line %q (want \"<sha256>  <path>\")", line)
		}
		b, err := os.ReadFile(filepath.Join(goldenRoot, filepath.FromSlash(name)))
		if err != nil {
			t.Fatalf("golden fixture %s listed in MANIFEST: %v", name, err)
		}
		h := sha256.Sum256(b)
		if hex.EncodeToString(h[:]) != sum {
			t.Fatalf("golden fixture %s does not match its MANIFEST checksum", name)
		}
		files = append(files, name)
	}
	return files
}

// goldenNames are the fixtures the MANIFEST must list.
var goldenNames = []string{"gemma-3-1b", "llama-3.2-1b", "qwen3-1.7b", "tiny-gemma3", "tiny-llama", "tiny-qwen3"}

func loadFixtures(t *testing.T) map[string]*fixture {
	t.Helper()
	files := readManifest(t)
	out := map[string]*fixture{}
	var names []string
	for _, f := range files {
		if path.Base(f) == "golden.json" {
			names = append(names, path.Dir(f))
		}
	}
	sort.Strings(names)
	if !slices.Equal(names, goldenNames) {
		t.Fatalf("MANIFEST lists fixtures %v, want %v", names, goldenNames)
	}
	for _, n := range names {
		out[n] = loadFixture(t, filepath.Join(goldenRoot, n))
	}
	return out
}

func readLE[T int32 | float32](t *testing.T, p string, n int) []T {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) != 4*n {
		t.Fatalf("%s: %d bytes, want %d", p, len(b), 4*n)
	}
	out := make([]T, n)
	for i := range out {
		u := binary.LittleEndian.Uint32(b[4*i:])
		switch p := any(&out[i]).(type) {
		case *int32:
			*p = int32(u)
		case *float32:
			*p = math.Float32frombits(u)
		}
	}
	return out
}

func loadFixture(t *testing.T, dir string) *fixture {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, "golden.json"))
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{dir: dir}
	if err := json.Unmarshal(raw, &f.meta); err != nil {
		t.Fatalf("%s/golden.json: %v", dir, err)
	}
	m := &f.meta
	T, K := len(m.IDs), m.TopK
	if T == 0 || K == 0 || m.VocabSize == 0 || len(m.GreedyTokens) == 0 || len(m.GreedyMargins) != len(m.GreedyTokens) ||
		len(m.Taps) == 0 || m.PromptLen+len(m.GreedyTokens)-1 != T {
		t.Fatalf("%s/golden.json: incomplete", dir)
	}
	f.topIDs = readLE[int32](t, filepath.Join(dir, "topk_ids.i32"), T*K)
	f.top32 = readLE[float32](t, filepath.Join(dir, "topk_f32.f32"), T*K)
	f.top16 = readLE[float32](t, filepath.Join(dir, "topk_bf16.f32"), T*K)
	f.rows = readLE[float32](t, filepath.Join(dir, "rows.f32"), T*rowStats)
	n := 0
	for _, tp := range m.Taps {
		n += len(m.TapPositions) * tp.Width
	}
	all := readLE[float32](t, filepath.Join(dir, "taps.f32"), n)
	for _, tp := range m.Taps {
		k := len(m.TapPositions) * tp.Width
		f.taps = append(f.taps, all[:k:k])
		all = all[k:]
	}
	return f
}

// ours is what the engine computes for a fixture.
type ours struct {
	top          []float32 // [T*K]: our logits at the fixture's top-K ids
	lse          []float64 // per position
	argmax       []int32   // per position
	taps         map[string][]float32
	greedy       []int32
	weightDigest string
}

func tapKey(layer int, op string) string { return fmt.Sprintf("%d/%s", layer, op) }

// run loads the fixture with the engine (mutate, when set, changes the
// spec first: a negative control) and computes what the fixture holds.
func (f *fixture) run(t *testing.T, device string, mutate func(*model.Spec)) *ours {
	t.Helper()
	opts := Options{Model: f.dir, Device: device, mutateSpec: mutate}
	if f.meta.Set == "real" {
		opts.RandomWeights, opts.WeightSeed = true, f.meta.WeightSeed
	}
	e, err := Load(context.Background(), opts)
	if err != nil {
		t.Fatalf("loading %s: %v", f.dir, err)
	}
	defer e.Close()
	m := &f.meta
	if e.Spec().VocabSize != m.VocabSize {
		t.Fatalf("vocab %d, golden %d", e.Spec().VocabSize, m.VocabSize)
	}
	o := &ours{taps: map[string][]float32{}}
	if m.Set == "real" {
		w := e.weights
		if w == nil { // a device backend keeps no host copy: make them again
			if w, err = weights.Synthetic(e.Spec(), m.WeightSeed); err != nil {
				t.Fatal(err)
			}
			defer w.Close()
		}
		o.weightDigest = weightDigest(w)
	}
	// One teacher-forced pass over the prompt and HF's greedy continuation
	// (the fixture's ids): row PromptLen-1+i is greedy step i.
	T, K := len(m.IDs), m.TopK
	o.top = make([]float32, T*K)
	o.lse = make([]float64, T)
	o.argmax = make([]int32, T)
	err = e.ForwardEach(context.Background(), m.IDs, ForwardOptions{
		Logits: func(p int, row []float32) error {
			o.argmax[p] = argmax(row)
			for k := 0; k < K; k++ {
				o.top[p*K+k] = row[f.topIDs[p*K+k]]
			}
			o.lse[p] = logSumExp(row)
			return nil
		},
		TapPositions: m.TapPositions,
		Tap: func(layer int, op string, p int, v []float32) error {
			key := tapKey(layer, op)
			i := slices.Index(m.TapPositions, p)
			buf := o.taps[key]
			if buf == nil {
				buf = make([]float32, len(m.TapPositions)*len(v))
				o.taps[key] = buf
			}
			copy(buf[i*len(v):], v)
			return nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.Generate(context.Background(), Request{Prompt: m.IDs[:m.PromptLen], MaxNewTokens: len(m.GreedyTokens), Stop: NoStop})
	if err != nil {
		t.Fatal(err)
	}
	o.greedy = res.Tokens
	return o
}

// weightDigest is sha256 over the tensors in name order: name, NUL, raw
// little-endian bf16 bytes (make_goldens.py's safetensors_digest).
func weightDigest(m *weights.Model) string {
	ts := m.Tensors()
	sort.Slice(ts, func(i, j int) bool { return ts[i].Name < ts[j].Name })
	h := sha256.New()
	buf := make([]byte, 0, 1<<16)
	for i, t := range ts {
		if i > 0 && t.Name == ts[i-1].Name { // a tied head is listed once
			continue
		}
		h.Write(append([]byte(t.Name), 0))
		for j := 0; j < len(t.Data); {
			buf = buf[:0]
			for ; j < len(t.Data) && len(buf) < cap(buf); j++ {
				buf = binary.LittleEndian.AppendUint16(buf, t.Data[j])
			}
			h.Write(buf)
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

// logitStats compares a run's values at the reference's top-K ids.
type logitStats struct {
	meanAbs, maxAbs float64 // |Δ| over the top-K entries of every position
	lseAbs          float64 // mean |Δ log-sum-exp|
	kl              float64 // mean KL(ref ‖ run), top-K entries + the rest as one outcome (a lower bound of the full KL)
}

func compareTopK(f *fixture, ref []float32, refLSE func(p int) float64, run []float32, runLSE func(p int) float64) logitStats {
	var st logitStats
	T, K := len(f.meta.IDs), f.meta.TopK
	for p := 0; p < T; p++ {
		lr, lo := refLSE(p), runLSE(p)
		st.lseAbs += math.Abs(lr - lo)
		var pr, po, kl float64
		for k := 0; k < K; k++ {
			r, o := float64(ref[p*K+k]), float64(run[p*K+k])
			d := math.Abs(r - o)
			st.meanAbs += d
			st.maxAbs = math.Max(st.maxAbs, d)
			a, b := r-lr, o-lo // log-probabilities
			kl += math.Exp(a) * (a - b)
			pr += math.Exp(a)
			po += math.Exp(b)
		}
		if rest := 1 - pr; rest > 1e-12 {
			kl += rest * math.Log(rest/math.Max(1-po, 1e-300))
		}
		st.kl += kl
	}
	st.meanAbs /= float64(T * K)
	st.lseAbs /= float64(T)
	st.kl /= float64(T)
	return st
}

// verdict is the comparison of one run with one fixture.
type verdict struct {
	f32, bf16, floor  logitStats
	top1Miss, top1Low int    // misses where the HF f32 margin is above / at most the bound
	greedyMatch       int    // free-running greedy tokens equal to HF's, from the first
	greedyCompared    int    // steps before HF's first margin that bf16 noise could flip
	firstDivergence   string // the first tap (in forward order) beyond its bound
	failures          []string
}

func (v *verdict) failf(format string, args ...any) {
	v.failures = append(v.failures, fmt.Sprintf(format, args...))
}

// judge applies the pass criteria. Primary: Hugging Face's float32 run
// (stable across torch versions; MODELS.md §5), with bounds scaled by how
// far HF's own bf16 run is from it on the same entries (the bf16 noise
// floor). Secondary: HF's bf16 run, with MODELS.md §5's absolute bounds.
// Then greedy tokens and every layer tap.
func judge(f *fixture, o *ours) *verdict {
	m := &f.meta
	v := &verdict{}
	T, K := len(m.IDs), m.TopK
	row := func(p, i int) float64 { return float64(f.rows[p*rowStats+i]) }
	lse32 := func(p int) float64 { return row(p, 0) }
	lse16 := func(p int) float64 { return row(p, 4) }
	oursLSE := func(p int) float64 { return o.lse[p] }
	v.floor = compareTopK(f, f.top32, lse32, f.top16, lse16)
	v.f32 = compareTopK(f, f.top32, lse32, o.top, oursLSE)
	v.bf16 = compareTopK(f, f.top16, lse16, o.top, oursLSE)
	if m.WeightsSHA256 != "" && o.weightDigest != m.WeightsSHA256 {
		v.failf("synthetic weights (seed %d) have sha256 %s, the fixture was made from %s: gocore/weights changed; regenerate with `make goldens`",
			m.WeightSeed, o.weightDigest, m.WeightsSHA256)
	}

	if b := 1.5*v.floor.meanAbs + 0.01; v.f32.meanAbs > b {
		v.failf("vs HF f32: mean |Δ| %.4f > %.4f (1.5 × HF bf16's %.4f + 0.01)", v.f32.meanAbs, b, v.floor.meanAbs)
	}
	if b := 2*v.floor.maxAbs + 0.125; v.f32.maxAbs > b {
		v.failf("vs HF f32: max |Δ| %.4f > %.4f (2 × HF bf16's %.4f + 0.125)", v.f32.maxAbs, b, v.floor.maxAbs)
	}
	if b := 2*v.floor.lseAbs + 0.01; v.f32.lseAbs > b {
		v.failf("vs HF f32: mean |Δ log-sum-exp| %.4f > %.4f", v.f32.lseAbs, b)
	}
	if b := 3*v.floor.kl + 1e-5; v.f32.kl > b {
		v.failf("vs HF f32: mean KL %.2e > %.2e (3 × HF bf16's %.2e + 1e-5)", v.f32.kl, b, v.floor.kl)
	}
	// top-1 against HF f32, allowed to flip only where bf16 noise can flip it
	flip := math.Max(0.25, 2*v.floor.maxAbs)
	for p := 0; p < T; p++ {
		if o.argmax[p] != f.topIDs[p*K] {
			if row(p, 3) > flip {
				v.top1Miss++
			} else {
				v.top1Low++
			}
		}
	}
	if v.top1Miss > 0 {
		v.failf("top-1 differs from HF f32 at %d positions where its margin exceeds %.3f", v.top1Miss, flip)
	}
	if v.bf16.meanAbs > 0.05 || v.bf16.maxAbs > 0.5 {
		v.failf("vs HF bf16: mean |Δ| %.4f, max |Δ| %.4f (MODELS.md §5: ≤ 0.05, ≤ 0.5)", v.bf16.meanAbs, v.bf16.maxAbs)
	}

	// Greedy, free-running from the prompt: equal to HF's tokens up to the
	// first step whose margin (HF's generate() or its f32 teacher-forced
	// run) bf16 noise could flip; after it the two may part legitimately.
	// (Teacher-forced, the greedy steps are rows of the top-1 check above.)
	for i, want := range m.GreedyTokens {
		if math.Min(m.GreedyMargins[i], row(m.PromptLen-1+i, 3)) <= flip {
			break
		}
		v.greedyCompared++
		if o.greedy[i] != want {
			v.failf("greedy step %d (free-running): token %d, HF %d, with every HF margin so far above %.3f", i, o.greedy[i], want, flip)
			break
		}
	}
	for i := range m.GreedyTokens {
		if o.greedy[i] != m.GreedyTokens[i] {
			break
		}
		v.greedyMatch++
	}

	for i, tp := range m.Taps {
		got, ok := o.taps[tapKey(tp.Layer, tp.Op)]
		if !ok {
			v.failf("tap %s of layer %d: the engine does not report it", tp.Op, tp.Layer)
			continue
		}
		rel := relRMS(f.taps[i], got)
		if b := 3*tp.BF16RelRMS + 0.01; rel > b {
			v.failf("layer %d %s: relative RMS difference %.4f from HF f32 > %.4f (3 × HF bf16's %.4f + 0.01)", tp.Layer, tp.Op, rel, b, tp.BF16RelRMS)
			if v.firstDivergence == "" {
				v.firstDivergence = fmt.Sprintf("layer %d %s", tp.Layer, tp.Op)
			}
		}
	}
	return v
}

func relRMS(ref, got []float32) float64 {
	var num, den float64
	for i := range ref {
		d := float64(got[i]) - float64(ref[i])
		num += d * d
		den += float64(ref[i]) * float64(ref[i])
	}
	return math.Sqrt(num / math.Max(den, 1e-300))
}

func logSumExp(v []float32) float64 {
	mx := math.Inf(-1)
	for _, x := range v {
		mx = math.Max(mx, float64(x))
	}
	var s float64
	for _, x := range v {
		s += math.Exp(float64(x) - mx)
	}
	return mx + math.Log(s)
}

// goldenDevice is the device the golden tests run on: the CPU, or what
// GENBENCH_GOLDEN_DEVICE names (the device check sets cuda).
func goldenDevice() string {
	if d := os.Getenv("GENBENCH_GOLDEN_DEVICE"); d != "" {
		return d
	}
	return "cpu"
}

// TestGoldens compares the engine with Hugging Face transformers on every
// fixture: logits at every position, greedy tokens and every layer's ops.
func TestGoldens(t *testing.T) {
	fx := loadFixtures(t)
	for _, name := range goldenNames {
		f := fx[name]
		t.Run(name, func(t *testing.T) {
			v := judge(f, f.run(t, goldenDevice(), nil))
			m := &f.meta
			t.Logf("%s (%s set; transformers %s, torch %s; %d positions, top-%d):", name, m.Set, m.Transformers, m.Torch, len(m.IDs), m.TopK)
			t.Logf("  vs HF f32:  mean|Δ| %.4f  max|Δ| %.4f  |Δlse| %.4f  KL %.2e  top-1 misses %d (+%d at low margin)",
				v.f32.meanAbs, v.f32.maxAbs, v.f32.lseAbs, v.f32.kl, v.top1Miss, v.top1Low)
			t.Logf("  vs HF bf16: mean|Δ| %.4f  max|Δ| %.4f  |Δlse| %.4f  KL %.2e", v.bf16.meanAbs, v.bf16.maxAbs, v.bf16.lseAbs, v.bf16.kl)
			t.Logf("  HF bf16 vs HF f32 (floor): mean|Δ| %.4f  max|Δ| %.4f  |Δlse| %.4f  KL %.2e", v.floor.meanAbs, v.floor.maxAbs, v.floor.lseAbs, v.floor.kl)
			t.Logf("  greedy, free-running: the first %d of %d tokens equal HF's (required: the first %d, before HF's first margin under the flip bound)",
				v.greedyMatch, len(m.GreedyTokens), v.greedyCompared)
			for _, msg := range v.failures {
				t.Error(msg)
			}
			if v.firstDivergence != "" {
				t.Errorf("first divergence from Hugging Face: %s", v.firstDivergence)
			}
		})
	}
}

// TestGoldenNegativeControls changes one thing at a time in the spec the
// engine runs and checks that the golden comparison fails, and where: a
// comparison that cannot fail proves nothing.
func TestGoldenNegativeControls(t *testing.T) {
	fx := loadFixtures(t)
	full := func(s *model.Spec) {
		s.LayerTypes = slices.Repeat([]model.LayerType{model.FullAttention}, len(s.LayerTypes))
	}
	for _, c := range []struct {
		fixture, what string
		mutate        func(*model.Spec)
		firstTap      string // the first layer tap that must diverge ("" = none: only the logits can)
	}{
		{"tiny-llama", "rope theta 10000 instead of 500000", func(s *model.Spec) { s.RopeTheta = 10000 }, "layer 0 attn"},
		// the scaled frequencies are the low ones: the change shows in the residual after attention
		{"tiny-llama", "llama3 rope scaling off", func(s *model.Spec) { s.RopeScaling = nil }, "layer 0 ffn_norm"},
		{"llama-3.2-1b", "llama3 rope scaling off", func(s *model.Spec) { s.RopeScaling = nil }, "layer 0 ffn_norm"},
		{"tiny-llama", "tied LM head on an untied checkpoint", func(s *model.Spec) { s.TieWordEmbeddings = true }, ""},
		{"tiny-llama", "attention scale ×1.25", func(s *model.Spec) { s.AttnScale *= 1.25 }, "layer 0 attn"},
		{"tiny-qwen3", "q/k norm off", func(s *model.Spec) { s.QKNorm = false }, "layer 0 attn"},
		{"tiny-gemma3", "RMSNorm w instead of (1 + w)", func(s *model.Spec) { s.GemmaNorm = false }, "layer 0 attn_norm"},
		{"tiny-gemma3", "no embedding scale", func(s *model.Spec) { s.EmbedScale = 1 }, "layer -1 embed"},
		{"tiny-gemma3", "sliding window off", full, "layer 0 attn"},
		{"tiny-gemma3", "attention scale head_dim^-0.5 instead of query_pre_attn_scalar^-0.5",
			func(s *model.Spec) { s.AttnScale = float32(1 / math.Sqrt(float64(s.HeadDim))) }, "layer 0 attn"},
		{"tiny-gemma3", "final logit softcap 30", func(s *model.Spec) { s.FinalLogitSoftcap = 30 }, ""},
		{"tiny-gemma3", "local rope base = global", func(s *model.Spec) { s.RopeLocalTheta = s.RopeTheta }, "layer 0 attn"},
	} {
		t.Run(c.fixture+"/"+c.what, func(t *testing.T) {
			f := fx[c.fixture]
			v := judge(f, f.run(t, goldenDevice(), c.mutate))
			if len(v.failures) == 0 {
				t.Fatalf("the golden comparison passes with %s: it cannot tell (f32 mean|Δ| %.4f max %.4f, KL %.2e)",
					c.what, v.f32.meanAbs, v.f32.maxAbs, v.f32.kl)
			}
			t.Logf("fails as it must: %d checks; first: %s; first divergent tap: %q", len(v.failures), v.failures[0], v.firstDivergence)
			if v.firstDivergence != c.firstTap {
				t.Errorf("first divergent tap %q, want %q", v.firstDivergence, c.firstTap)
			}
		})
	}
}
