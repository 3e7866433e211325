package weights

import (
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/genbench/genbench/gocore/bf16"
	"github.com/genbench/genbench/gocore/model"
	"github.com/genbench/genbench/gocore/safetensors"
)

func tiny(t *testing.T, name string) *model.Spec {
	t.Helper()
	s, ok := model.Builtin(name)
	if !ok {
		t.Fatalf("no built-in %s", name)
	}
	return s
}

func synth(t *testing.T, s *model.Spec, seed uint64) *Model {
	t.Helper()
	m, err := Synthetic(s, seed)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

var tinyNames = []string{model.TinyLlama, model.TinyQwen3, model.TinyGemma3}

// refValue recomputes one synthetic element from the documented generator,
// written out naively.
func refValue(seed uint64, name string, i int, mean, std float64) uint16 {
	h := uint64(14695981039346656037)
	for _, c := range []byte(name) {
		h = (h ^ uint64(c)) * 1099511628211
	}
	splitmix := func(z uint64) uint64 {
		z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
		z = (z ^ (z >> 27)) * 0x94D049BB133111EB
		return z ^ (z >> 31)
	}
	key := splitmix(seed ^ h)
	r := splitmix(key + uint64(i/4+1)*0x9E3779B97F4A7C15)
	u := (r >> (16 * uint(i%4))) & 0xffff
	p := (float64(u) + 0.5) / 65536
	return bf16.FromFloat32(float32(mean + std*math.Sqrt2*math.Erfinv(2*p-1)))
}

func TestSyntheticMatchesDocumentedGenerator(t *testing.T) {
	for _, name := range tinyNames {
		s := tiny(t, name)
		m := synth(t, s, 42)
		gain := LogitStd / (InitStd * math.Sqrt(float64(s.HiddenSize)))
		normMean := 1.0
		if s.GemmaNorm {
			normMean = 0
		}
		checks := []struct {
			t         *Tensor
			mean, std float64
		}{
			{m.Embed, 0, InitStd},
			{m.Layers[1].Down, 0, InitStd},
			{m.Layers[0].InputNorm, normMean, NormJitter},
			{m.Norm, gain - 1 + normMean, NormJitter * gain},
		}
		if s.QKNorm {
			checks = append(checks, struct {
				t         *Tensor
				mean, std float64
			}{m.Layers[1].KNorm, normMean, NormJitter})
		}
		for _, c := range checks {
			for _, i := range []int{0, 1, 2, 3, 4, 7, len(c.t.Data) - 1} {
				if got, want := c.t.Data[i], refValue(42, c.t.Name, i, c.mean, c.std); got != want {
					t.Errorf("%s %s[%d] = %#04x, want %#04x", name, c.t.Name, i, got, want)
				}
			}
		}
	}
}

func TestSyntheticDeterministic(t *testing.T) {
	s := tiny(t, model.TinyGemma3)
	a := synth(t, s, 7)
	prev := runtime.GOMAXPROCS(1)
	b := synth(t, s, 7)
	runtime.GOMAXPROCS(prev)
	c := synth(t, s, 8)
	ta, tb, tc := a.Tensors(), b.Tensors(), c.Tensors()
	if len(ta) != len(tb) {
		t.Fatal("tensor counts differ")
	}
	same := 0
	for i := range ta {
		if !slices.Equal(ta[i].Data, tb[i].Data) {
			t.Errorf("%s differs between runs with the same seed", ta[i].Name)
		}
		if slices.Equal(ta[i].Data, tc[i].Data) {
			same++
		}
	}
	if same > 0 {
		t.Errorf("%d tensors are identical for seeds 7 and 8", same)
	}
}

func TestSyntheticStatistics(t *testing.T) {
	s := tiny(t, model.TinyQwen3)
	m := synth(t, s, 1)
	if m.LMHead != m.Embed || m.Source != SyntheticSource {
		t.Error("tied head or source not set")
	}
	if m.Params() != s.ParamCount() || m.Bytes() != 2*s.ParamCount() {
		t.Errorf("Params %d, spec %d", m.Params(), s.ParamCount())
	}
	var sum, sq float64
	for _, v := range m.Embed.Data {
		x := float64(bf16.ToFloat32(v))
		sum += x
		sq += x * x
	}
	n := float64(len(m.Embed.Data))
	mean, std := sum/n, math.Sqrt(sq/n-(sum/n)*(sum/n))
	if math.Abs(mean) > 0.001 || math.Abs(std-InitStd) > 0.001 {
		t.Errorf("embedding mean %g std %g, want 0 and %g", mean, std, InitStd)
	}
}

// The logits of a synthetic model spread with a standard deviation near
// LogitStd: final norm applied to a random unit-RMS hidden state, times the
// tied embedding, computed naively in float64.
func TestSyntheticLogitSpread(t *testing.T) {
	for _, name := range tinyNames {
		s := tiny(t, name)
		m := synth(t, s, 3)
		hsz := s.HiddenSize
		rng := uint64(99)
		var stds []float64
		for trial := 0; trial < 8; trial++ {
			h := make([]float64, hsz)
			var ms float64
			for i := range h {
				rng = rng*6364136223846793005 + 1442695040888963407
				h[i] = float64(int64(rng>>11))/float64(1<<52) - 1
				ms += h[i] * h[i]
			}
			r := 1 / math.Sqrt(ms/float64(hsz))
			for i := range h {
				w := float64(bf16.ToFloat32(m.Norm.Data[i]))
				if s.GemmaNorm {
					w++
				}
				h[i] *= r * w
			}
			var sum, sq float64
			for v := 0; v < s.VocabSize; v++ {
				var l float64
				for i := 0; i < hsz; i++ {
					l += h[i] * float64(bf16.ToFloat32(m.LMHead.Data[v*hsz+i]))
				}
				sum += l
				sq += l * l
			}
			n := float64(s.VocabSize)
			stds = append(stds, math.Sqrt(sq/n-(sum/n)*(sum/n)))
		}
		var avg float64
		for _, x := range stds {
			avg += x / float64(len(stds))
		}
		if avg < 0.7*LogitStd || avg > 1.3*LogitStd {
			t.Errorf("%s: logit std %.3f, want about %g", name, avg, LogitStd)
		}
	}
}

func TestSyntheticRejectsBadSpec(t *testing.T) {
	if _, err := Synthetic(nil, 1); err == nil {
		t.Error("nil spec accepted")
	}
	s := tiny(t, model.TinyLlama)
	s.NumKVHeads = 3
	if _, err := Synthetic(s, 1); err == nil || !strings.Contains(err.Error(), "num_key_value_heads") {
		t.Errorf("bad spec: %v", err)
	}
}

func equalModels(t *testing.T, a, b *Model) {
	t.Helper()
	ta, tb := a.Tensors(), b.Tensors()
	if len(ta) != len(tb) {
		t.Fatalf("%d tensors vs %d", len(ta), len(tb))
	}
	for i := range ta {
		if ta[i].Name != tb[i].Name || !slices.Equal(ta[i].Shape, tb[i].Shape) || !slices.Equal(ta[i].Data, tb[i].Data) {
			t.Errorf("tensor %s differs", ta[i].Name)
		}
	}
}

func TestWriteHFLoadRoundTrip(t *testing.T) {
	for _, name := range tinyNames {
		t.Run(name, func(t *testing.T) {
			s := tiny(t, name)
			m := synth(t, s, 11)
			dir := filepath.Join(t.TempDir(), "ckpt")
			tok := []byte(`{"version":"1.0"}`)
			if err := WriteHF(dir, m, tok, nil); err != nil {
				t.Fatal(err)
			}
			if b, err := os.ReadFile(filepath.Join(dir, "tokenizer.json")); err != nil || !bytes.Equal(b, tok) {
				t.Errorf("tokenizer.json: %v", err)
			}
			if _, err := os.Stat(filepath.Join(dir, "tokenizer_config.json")); err == nil {
				t.Error("tokenizer_config.json written though nil")
			}
			spec, err := model.LoadSpec(dir)
			if err != nil {
				t.Fatal(err)
			}
			loaded, err := Load(dir, spec)
			if err != nil {
				t.Fatal(err)
			}
			defer loaded.Close()
			if loaded.LMHead != loaded.Embed || loaded.Source != dir {
				t.Error("tied head or source not set")
			}
			equalModels(t, m, loaded)
			if err := loaded.Close(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// checkpoint writes tensors as dir/model.safetensors.
func checkpoint(t *testing.T, ts []safetensors.TensorOut) string {
	t.Helper()
	dir := t.TempDir()
	var buf bytes.Buffer
	if err := safetensors.Write(&buf, ts, nil); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, safetensors.SingleFileName), buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func outs(m *Model) []safetensors.TensorOut {
	var o []safetensors.TensorOut
	for _, t := range m.Tensors() {
		o = append(o, safetensors.TensorOut{Name: t.Name, DType: safetensors.BF16, Shape: t.Shape, Data: bf16Bytes(t.Data)})
	}
	return o
}

func TestLoadErrors(t *testing.T) {
	s := tiny(t, model.TinyQwen3)
	m := synth(t, s, 5)
	base := outs(m)
	edit := func(f func([]safetensors.TensorOut) []safetensors.TensorOut) string {
		return checkpoint(t, f(slices.Clone(base)))
	}
	cases := []struct {
		name string
		dir  string
		want []string
	}{
		{"missing tensor", edit(func(o []safetensors.TensorOut) []safetensors.TensorOut {
			return slices.DeleteFunc(o, func(x safetensors.TensorOut) bool { return x.Name == "model.layers.1.self_attn.k_norm.weight" })
		}), []string{"missing", "model.layers.1.self_attn.k_norm.weight"}},
		{"unexpected tensor", edit(func(o []safetensors.TensorOut) []safetensors.TensorOut {
			return append(o, safetensors.TensorOut{Name: "model.layers.3.mlp.foo.weight", DType: safetensors.BF16, Shape: []int{1}, Data: []byte{0, 0}})
		}), []string{"unexpected", "model.layers.3.mlp.foo.weight"}},
		{"wrong shape", edit(func(o []safetensors.TensorOut) []safetensors.TensorOut {
			for i := range o {
				if o[i].Name == "model.layers.0.self_attn.o_proj.weight" {
					o[i].Shape = []int{o[i].Shape[1], o[i].Shape[0]}
				}
			}
			return o
		}), []string{"model.layers.0.self_attn.o_proj.weight", "shape"}},
		{"no checkpoint", t.TempDir(), []string{safetensors.SingleFileName}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Load(tc.dir, s)
			if err == nil {
				got.Close()
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
	if _, err := Load(t.TempDir(), nil); err == nil {
		t.Error("nil spec accepted")
	}
}

func TestLoadTiedAndUntiedHead(t *testing.T) {
	// Tied: an lm_head.weight in the file is ignored; the embedding is used.
	s := tiny(t, model.TinyLlama)
	m := synth(t, s, 5)
	o := outs(m)
	junk := make([]uint16, len(m.Embed.Data))
	o = append(o, safetensors.TensorOut{Name: LMHeadName, DType: safetensors.BF16, Shape: m.Embed.Shape, Data: bf16Bytes(junk)})
	got, err := Load(checkpoint(t, o), s)
	if err != nil {
		t.Fatal(err)
	}
	if got.LMHead != got.Embed || !slices.Equal(got.LMHead.Data, m.Embed.Data) {
		t.Error("tied model did not use the embedding as LM head")
	}
	got.Close()

	// Untied: lm_head.weight is required and used.
	u := s.Clone()
	u.TieWordEmbeddings = false
	um := synth(t, u, 6)
	if um.LMHead == um.Embed {
		t.Fatal("untied synthetic model shares the head")
	}
	dir := filepath.Join(t.TempDir(), "untied")
	if err := WriteHF(dir, um, nil, nil); err != nil {
		t.Fatal(err)
	}
	spec, err := model.LoadSpec(dir)
	if err != nil || spec.TieWordEmbeddings {
		t.Fatalf("untied spec: %v", err)
	}
	got, err = Load(dir, spec)
	if err != nil {
		t.Fatal(err)
	}
	equalModels(t, um, got)
	if got.Params() != u.ParamCount() {
		t.Errorf("untied params %d, spec %d", got.Params(), u.ParamCount())
	}
	got.Close()
	withoutHead := slices.DeleteFunc(outs(um), func(x safetensors.TensorOut) bool { return x.Name == LMHeadName })
	if _, err := Load(checkpoint(t, withoutHead), u); err == nil || !strings.Contains(err.Error(), LMHeadName) {
		t.Errorf("untied model without lm_head: %v", err)
	}
}

// F32 and F16 checkpoints are converted to bf16 with round-to-nearest-even.
func TestLoadConvertsF32AndF16(t *testing.T) {
	s := tiny(t, model.TinyLlama)
	m := synth(t, s, 5)
	o := outs(m)
	// Hand-computed bf16 results (ulp 2^-7 at 1).
	f32In := []float32{1 + 1.0/256, 1 + 3.0/256, -2.5, 0}
	f32Want := []uint16{0x3F80, 0x3F82, 0xC020, 0x0000}
	f16In := []uint16{0x3E00, 0xC000, 0x0001} // 1.5, -2, 2^-24
	f16Want := []uint16{0x3FC0, 0xC000, 0x3380}
	for i := range o {
		switch o[i].Name {
		case "model.norm.weight":
			v := make([]float32, s.HiddenSize)
			copy(v, f32In)
			b := make([]byte, 4*len(v))
			for j, x := range v {
				binary.LittleEndian.PutUint32(b[4*j:], math.Float32bits(x))
			}
			o[i].DType, o[i].Data = safetensors.F32, b
		case "model.layers.0.input_layernorm.weight":
			b := make([]byte, 2*s.HiddenSize)
			for j, x := range f16In {
				binary.LittleEndian.PutUint16(b[2*j:], x)
			}
			o[i].DType, o[i].Data = safetensors.F16, b
		}
	}
	got, err := Load(checkpoint(t, o), s)
	if err != nil {
		t.Fatal(err)
	}
	defer got.Close()
	if !slices.Equal(got.Norm.Data[:4], f32Want) {
		t.Errorf("F32 → bf16: %#04x, want %#04x", got.Norm.Data[:4], f32Want)
	}
	if !slices.Equal(got.Layers[0].InputNorm.Data[:3], f16Want) {
		t.Errorf("F16 → bf16: %#04x, want %#04x", got.Layers[0].InputNorm.Data[:3], f16Want)
	}
}

func TestLoadSharded(t *testing.T) {
	s := tiny(t, model.TinyGemma3)
	m := synth(t, s, 9)
	o := outs(m)
	dir := t.TempDir()
	half := len(o) / 2
	shards := [][]safetensors.TensorOut{o[:half], o[half:]}
	index := `{"metadata":{},"weight_map":{`
	for k, sh := range shards {
		name := []string{"model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"}[k]
		var buf bytes.Buffer
		if err := safetensors.Write(&buf, sh, nil); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		for j, x := range sh {
			if k > 0 || j > 0 {
				index += ","
			}
			index += `"` + x.Name + `":"` + name + `"`
		}
	}
	index += "}}"
	if err := os.WriteFile(filepath.Join(dir, safetensors.IndexFileName), []byte(index), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := Load(dir, s)
	if err != nil {
		t.Fatal(err)
	}
	defer got.Close()
	equalModels(t, m, got)
}

func BenchmarkSyntheticLlama32_1B(b *testing.B) {
	s, _ := model.Builtin("meta-llama/Llama-3.2-1B-Instruct")
	for b.Loop() {
		m, err := Synthetic(s, 1)
		if err != nil {
			b.Fatal(err)
		}
		m.Close()
	}
	b.ReportMetric(float64(s.ParamCount())/1e9, "Gparams")
}

// Unaligned or big-endian data is copied; the values must be the same.
func TestToBF16Unaligned(t *testing.T) {
	buf := make([]byte, 7)
	raw := buf[1:7]
	copy(raw, []byte{0x80, 0x3F, 0x20, 0xC0, 0x00, 0x00})
	got, err := toBF16(raw, safetensors.BF16)
	if err != nil {
		t.Fatal(err)
	}
	if want := []uint16{0x3F80, 0xC020, 0}; !slices.Equal(got, want) {
		t.Errorf("got %#04x, want %#04x", got, want)
	}
	if _, err := toBF16(raw, "I8"); err == nil {
		t.Error("unsupported dtype accepted")
	}
}

// A spec whose weights cannot fit in memory is a clear error, not a crash.
func TestSyntheticOutOfMemory(t *testing.T) {
	s := tiny(t, model.TinyLlama)
	s.VocabSize = 4 << 20
	s.HiddenSize = 1 << 16
	s.NumHeads, s.NumKVHeads, s.HeadDim = 64, 64, 1024
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	m, err := Synthetic(s, 1)
	if err == nil {
		m.Close()
		t.Fatal("a 0.5 TiB model was allocated")
	}
	if !strings.Contains(err.Error(), "GiB") {
		t.Errorf("error %q does not say how much memory was needed", err)
	}
}
