package weights

import (
	"fmt"
	"math"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/genbench/genbench/gocore/bf16"
	"github.com/genbench/genbench/gocore/model"
)

// Synthetic weight distribution. Throughput does not depend on weight values,
// but the sampling path does depend on the shape of the logits, so the values
// follow Hugging Face's initialisation with two documented changes.
const (
	// InitStd is the standard deviation of every linear and embedding
	// weight: HF's initializer_range (normal(0, 0.02)).
	InitStd = 0.02
	// NormJitter is the standard deviation of a perturbation added to every
	// RMSNorm weight around its HF initial value (1 for Llama/Qwen3, 0 for
	// Gemma 3's 1+w convention), so that a decoder mixing up the two norm
	// styles or the weight vectors gives visibly different results.
	NormJitter = 0.05
	// LogitStd is the target standard deviation of the synthetic model's
	// logits. A random-init model's logits have a standard deviation of only
	// InitStd*sqrt(hidden) (about 0.9 at hidden 2048), an almost flat
	// distribution. The final norm's multiplier is set to
	// LogitStd/(InitStd*sqrt(hidden)) so the logits spread like a trained
	// model's and top-k/top-p filtering cut the distribution as they do in
	// real use.
	LogitStd = 3.0
)

// SyntheticSource is Model.Source for synthetic weights.
const SyntheticSource = "synthetic"

// Synthetic instantiates spec with deterministic random weights from seed.
//
// Each tensor's values depend only on (seed, tensor name, element index), so
// the result is the same whatever the number of threads. The generator: key =
// mix(seed XOR fnv1a64(name)); for element block b (elements 4b..4b+3) draw r
// = mix(key + (b+1)·0x9E3779B97F4A7C15), where mix is the SplitMix64
// finaliser; element 4b+k takes the 16-bit field u = (r >> 16k) & 0xffff and
// becomes bf16(mean + std·Φ⁻¹((u+0.5)/65536)), an inverse-CDF normal sample
// quantised to 65536 levels (tails truncated at ±4.3 std). See InitStd,
// NormJitter and LogitStd for the means and standard deviations.
func Synthetic(spec *model.Spec, seed uint64) (*Model, error) {
	if spec == nil {
		return nil, fmt.Errorf("synthetic weights: nil spec")
	}
	if err := spec.Validate(); err != nil {
		return nil, fmt.Errorf("synthetic weights for %s: %w", spec.Name, err)
	}
	m := &Model{Spec: spec, Layers: make([]Layer, spec.NumLayers), Source: SyntheticSource}
	ss := slots(spec, m)

	type job struct {
		t     *Tensor
		key   uint64
		table *[65536]uint16
	}
	jobs := make([]job, len(ss))
	tables := map[[2]float64]*[65536]uint16{}
	total := 0
	for _, s := range ss {
		total += numel(s.shape)
	}
	arena, release, err := allocBF16(total)
	if err != nil {
		return nil, fmt.Errorf("synthetic weights for %s: %w", spec.Name, err)
	}
	if release != nil {
		m.closers = append(m.closers, release)
	}
	finalGain := LogitStd / (InitStd * math.Sqrt(float64(spec.HiddenSize)))
	for i, s := range ss {
		mean, std := 0.0, InitStd
		if s.norm {
			mean, std = 1, NormJitter
			if s.name == NormName {
				mean, std = finalGain, NormJitter*finalGain
			}
			if spec.GemmaNorm {
				mean-- // Gemma stores w with an effective multiplier of 1+w
			}
		}
		tb, ok := tables[[2]float64{mean, std}]
		if !ok {
			tb = normalTable(mean, std)
			tables[[2]float64{mean, std}] = tb
		}
		n := numel(s.shape)
		t := &Tensor{Name: s.name, Shape: append([]int(nil), s.shape...), Data: arena[:n:n]}
		arena = arena[n:]
		*s.ptr = t
		jobs[i] = job{t: t, key: mix64(seed ^ fnv1a64(s.name)), table: tb}
	}
	if spec.TieWordEmbeddings {
		m.LMHead = m.Embed
	}

	// Work items: fixed-size chunks of every tensor, claimed by workers.
	const chunkBlocks = 1 << 15 // 128 Ki elements per item
	type item struct{ j, b0, b1 int }
	var items []item
	for j, jb := range jobs {
		blocks := (len(jb.t.Data) + 3) / 4
		for b := 0; b < blocks; b += chunkBlocks {
			items = append(items, item{j, b, min(b+chunkBlocks, blocks)})
		}
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	workers := min(runtime.GOMAXPROCS(0), len(items))
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				k := int(next.Add(1) - 1)
				if k >= len(items) {
					return
				}
				it := items[k]
				jb := jobs[it.j]
				fillBlocks(jb.t.Data, jb.key, jb.table, it.b0, it.b1)
			}
		}()
	}
	wg.Wait()
	return m, nil
}

const golden = 0x9E3779B97F4A7C15

// mix64 is the SplitMix64 output function.
func mix64(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
	z = (z ^ (z >> 27)) * 0x94D049BB133111EB
	return z ^ (z >> 31)
}

func fnv1a64(s string) uint64 {
	h := uint64(0xcbf29ce484222325)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 0x100000001b3
	}
	return h
}

// fillBlocks writes blocks [b0, b1) of 4 elements each.
func fillBlocks(dst []uint16, key uint64, tb *[65536]uint16, b0, b1 int) {
	n := len(dst)
	full := min(b1, n/4)
	for b := b0; b < full; b++ {
		r := mix64(key + uint64(b+1)*golden)
		d := dst[4*b : 4*b+4 : 4*b+4]
		d[0] = tb[uint16(r)]
		d[1] = tb[uint16(r>>16)]
		d[2] = tb[uint16(r>>32)]
		d[3] = tb[uint16(r>>48)]
	}
	for b := max(b0, full); b < b1; b++ { // the partial last block
		r := mix64(key + uint64(b+1)*golden)
		for k := 0; k < 4 && 4*b+k < n; k++ {
			dst[4*b+k] = tb[uint16(r>>(16*k))]
		}
	}
}

// normalTable maps a 16-bit uniform u to bf16(mean + std·Φ⁻¹((u+0.5)/65536)).
func normalTable(mean, std float64) *[65536]uint16 {
	var t [65536]uint16
	for u := range t {
		p := (float64(u) + 0.5) / 65536
		z := math.Sqrt2 * math.Erfinv(2*p-1)
		t[u] = bf16.FromFloat32(float32(mean + std*z))
	}
	return &t
}
