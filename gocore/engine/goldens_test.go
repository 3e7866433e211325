package engine

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io/fs"
	"math"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/genbench/genbench/gocore/bf16"
)

// goldenRoot holds the fixtures written by tools/goldens/make_goldens.py.
const goldenRoot = "testdata/goldens"

type golden struct {
	Arch          string    `json:"arch"`
	Transformers  string    `json:"transformers_version"`
	IDs           []int32   `json:"ids"`
	VocabSize     int       `json:"vocab_size"`
	LogitsBF16    string    `json:"logits_bf16"`
	LogitsF32     string    `json:"logits_f32"`
	GreedyTokens  []int32   `json:"greedy_tokens"`
	GreedyMargins []float64 `json:"greedy_margins"`
}

// readManifest parses "sha256  path" lines and checks every file.
func readManifest(t *testing.T) []string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(goldenRoot, "MANIFEST"))
	if errors.Is(err, fs.ErrNotExist) {
		t.Skip("golden fixtures missing (no " + goldenRoot + "/MANIFEST): generate them where torch and transformers are installed with " +
			"`python3 tools/goldens/make_goldens.py --out gocore/engine/testdata/goldens` and commit the directory")
	}
	if err != nil {
		t.Fatal(err)
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

// TestGoldens compares teacher-forced logits and greedy continuations with
// Hugging Face transformers (MODELS.md §5 criteria against the bf16 SDPA
// run; looser sanity bounds against the float32 run).
func TestGoldens(t *testing.T) {
	files := readManifest(t)
	var archs []string
	for _, f := range files {
		if path.Base(f) == "golden.json" {
			archs = append(archs, path.Dir(f))
		}
	}
	sort.Strings(archs)
	if strings.Join(archs, ",") != "gemma3,llama,qwen3" {
		t.Fatalf("MANIFEST lists fixtures for %v, want gemma3, llama and qwen3", archs)
	}
	for _, arch := range archs {
		t.Run(arch, func(t *testing.T) { checkGolden(t, filepath.Join(goldenRoot, filepath.FromSlash(arch))) })
	}
}

func readBin(t *testing.T, p string, n, size int) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) != n*size {
		t.Fatalf("%s: %d bytes, want %d", p, len(b), n*size)
	}
	return b
}

func checkGolden(t *testing.T, dir string) {
	raw, err := os.ReadFile(filepath.Join(dir, "golden.json"))
	if err != nil {
		t.Fatal(err)
	}
	var g golden
	if err := json.Unmarshal(raw, &g); err != nil {
		t.Fatalf("%s/golden.json: %v", dir, err)
	}
	T, V := len(g.IDs), g.VocabSize
	if T == 0 || V == 0 || len(g.GreedyTokens) == 0 || len(g.GreedyMargins) != len(g.GreedyTokens) {
		t.Fatalf("%s/golden.json: incomplete", dir)
	}
	b16 := readBin(t, filepath.Join(dir, g.LogitsBF16), T*V, 2)
	b32 := readBin(t, filepath.Join(dir, g.LogitsF32), T*V, 4)
	hf16 := make([][]float32, T)
	hf32 := make([][]float32, T)
	for p := 0; p < T; p++ {
		hf16[p] = make([]float32, V)
		hf32[p] = make([]float32, V)
		for i := 0; i < V; i++ {
			k := p*V + i
			hf16[p][i] = bf16.ToFloat32(binary.LittleEndian.Uint16(b16[2*k:]))
			hf32[p][i] = math.Float32frombits(binary.LittleEndian.Uint32(b32[4*k:]))
		}
	}
	// GENBENCH_GOLDEN_DEVICE (the device check sets cuda) compares another
	// device against the same fixtures; the CPU by default.
	device := os.Getenv("GENBENCH_GOLDEN_DEVICE")
	if device == "" {
		device = "cpu"
	}
	e, err := Load(context.Background(), Options{Model: dir, Device: device})
	if err != nil {
		t.Fatalf("loading %s: %v", dir, err)
	}
	defer e.Close()
	if e.Spec().VocabSize != V {
		t.Fatalf("vocab %d, golden %d", e.Spec().VocabSize, V)
	}
	ours, err := e.Forward(context.Background(), g.IDs)
	if err != nil {
		t.Fatal(err)
	}
	st := compareLogits(hf16, ours)
	t.Logf("%s vs HF %s bf16: mean|d| %.4f max|d| %.4f meanKL %.2e top1 mismatches %d (allowed where margin <= 0.25: %d)",
		g.Arch, g.Transformers, st.meanAbs, st.maxAbs, st.meanKL, st.top1Miss, st.top1MissLowMargin)
	if st.meanAbs > 0.05 || st.maxAbs > 0.5 || st.meanKL > 1e-3 || st.top1Miss > st.top1MissLowMargin {
		t.Errorf("logits disagree with HF bf16 beyond MODELS.md §5 (mean|d| <= 0.05, max|d| <= 0.5, KL <= 1e-3, top-1 where margin > 0.25)")
	}
	s32 := compareLogits(hf32, ours)
	t.Logf("%s vs HF float32: mean|d| %.4f max|d| %.4f meanKL %.2e", g.Arch, s32.meanAbs, s32.maxAbs, s32.meanKL)
	if s32.meanAbs > 0.5 || s32.top1MissHighMargin > 0 {
		t.Errorf("logits far from the HF float32 run (mean|d| %.3f > 0.5 or a top-1 mismatch where its margin > 1)", s32.meanAbs)
	}
	res, err := e.Generate(context.Background(), Request{Prompt: g.IDs, MaxNewTokens: len(g.GreedyTokens), Stop: NoStop})
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range g.GreedyTokens {
		if g.GreedyMargins[i] < 0.25 {
			t.Logf("greedy tokens agree up to step %d (HF margin %.3f there)", i, g.GreedyMargins[i])
			break
		}
		if res.Tokens[i] != want {
			t.Fatalf("greedy step %d: token %d, HF %d (HF margin %.3f)", i, res.Tokens[i], want, g.GreedyMargins[i])
		}
	}
}

type logitStats struct {
	meanAbs, maxAbs, meanKL     float64
	top1Miss, top1MissLowMargin int
	top1MissHighMargin          int
}

func compareLogits(ref, ours [][]float32) logitStats {
	var st logitStats
	n := 0
	for p := range ref {
		r, o := ref[p], ours[p]
		for i := range r {
			d := math.Abs(float64(r[i] - o[i]))
			st.meanAbs += d
			st.maxAbs = math.Max(st.maxAbs, d)
			n++
		}
		st.meanKL += kl(r, o)
		best, second := top2(r)
		if argmax(o) != int32(best) {
			st.top1Miss++
			margin := float64(r[best] - r[second])
			if margin <= 0.25 {
				st.top1MissLowMargin++
			}
			if margin > 1 {
				st.top1MissHighMargin++
			}
		}
	}
	st.meanAbs /= float64(n)
	st.meanKL /= float64(len(ref))
	return st
}

func top2(v []float32) (int, int) {
	best, second := 0, -1
	for i := 1; i < len(v); i++ {
		switch {
		case v[i] > v[best]:
			best, second = i, best
		case second < 0 || v[i] > v[second]:
			second = i
		}
	}
	if second < 0 {
		second = best
	}
	return best, second
}

// kl is KL(softmax(p) ‖ softmax(q)) in float64.
func kl(p, q []float32) float64 {
	lp, lq := logSoftmax(p), logSoftmax(q)
	var s float64
	for i := range lp {
		s += math.Exp(lp[i]) * (lp[i] - lq[i])
	}
	return s
}

func logSoftmax(v []float32) []float64 {
	mx := math.Inf(-1)
	for _, x := range v {
		mx = math.Max(mx, float64(x))
	}
	var sum float64
	for _, x := range v {
		sum += math.Exp(float64(x) - mx)
	}
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x) - mx - math.Log(sum)
	}
	return out
}
