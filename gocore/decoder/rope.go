package decoder

import (
	"fmt"
	"math"

	"github.com/genbench/genbench/gocore/bf16"
	"github.com/genbench/genbench/gocore/model"
)

// InvFreq returns the RoPE inverse frequencies of one layer type, computed
// in float32 as Hugging Face does (MODELS.md §2.3): default
// 1/base^(float32(2j)/D), then the llama3 band scaling or linear scaling
// when the spec asks for it. Sliding layers use the local base with
// default (unscaled) RoPE.
func InvFreq(s *model.Spec, lt model.LayerType) ([]float32, error) {
	base := s.RopeTheta
	scaling := s.RopeScaling
	if lt == model.SlidingAttention && s.RopeLocalTheta > 0 {
		base = s.RopeLocalTheta
		scaling = nil
	}
	if !(base > 0) {
		return nil, fmt.Errorf("decoder: rope base %v must be > 0", base)
	}
	D := s.HeadDim
	if D <= 0 || D%2 != 0 {
		return nil, fmt.Errorf("decoder: head dim %d must be even and > 0", D)
	}
	inv := make([]float32, D/2)
	for j := range inv {
		e := float32(2*j) / float32(D)
		p := float32(math.Pow(base, float64(e)))
		inv[j] = 1 / p
	}
	if scaling == nil || scaling.Type == "" || scaling.Type == "default" {
		return inv, nil
	}
	switch scaling.Type {
	case "linear":
		if !(scaling.Factor > 0) {
			return nil, fmt.Errorf("decoder: linear rope scaling factor %v must be > 0", scaling.Factor)
		}
		f := float32(scaling.Factor)
		for j := range inv {
			inv[j] /= f
		}
		return inv, nil
	case "llama3":
		return llama3(inv, scaling)
	}
	return nil, fmt.Errorf("decoder: rope scaling type %q not supported (want default, linear or llama3)", scaling.Type)
}

// llama3 applies _compute_llama3_parameters in float32 arithmetic.
func llama3(inv []float32, sc *model.RopeScaling) ([]float32, error) {
	if !(sc.Factor > 0) || !(sc.HighFreqFactor > sc.LowFreqFactor) || !(sc.LowFreqFactor > 0) || sc.OriginalMaxPositionEmbeddings <= 0 {
		return nil, fmt.Errorf("decoder: bad llama3 rope scaling %+v", *sc)
	}
	factor := float32(sc.Factor)
	lo, hi := float32(sc.LowFreqFactor), float32(sc.HighFreqFactor)
	L := float32(sc.OriginalMaxPositionEmbeddings)
	lowWave := float32(float64(sc.OriginalMaxPositionEmbeddings) / sc.LowFreqFactor)
	highWave := float32(float64(sc.OriginalMaxPositionEmbeddings) / sc.HighFreqFactor)
	twoPi := float32(2 * math.Pi)
	out := make([]float32, len(inv))
	for j, f := range inv {
		wave := twoPi / f
		v := f
		if wave > lowWave {
			v = f / factor
		}
		if !(wave < highWave) && !(wave > lowWave) {
			s := (L/wave - lo) / (hi - lo)
			a := float32(float32(1-s)*v) / factor
			b := float32(s * v)
			v = a + b
		}
		out[j] = v
	}
	return out, nil
}

// RopeTables returns the bf16 cos and sin tables [positions, D/2] for the
// inverse frequencies: angle = float32(p)·inv[j] in float32, cos/sin in
// float32 then rounded to bf16.
func RopeTables(inv []float32, positions int) (cos, sin []uint16) {
	half := len(inv)
	cos = make([]uint16, positions*half)
	sin = make([]uint16, positions*half)
	for p := 0; p < positions; p++ {
		for j, f := range inv {
			a := float32(p) * f
			cos[p*half+j] = bf16.FromFloat32(float32(math.Cos(float64(a))))
			sin[p*half+j] = bf16.FromFloat32(float32(math.Sin(float64(a))))
		}
	}
	return cos, sin
}
