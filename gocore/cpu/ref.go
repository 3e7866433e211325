package cpu

import (
	"math"

	"github.com/genbench/genbench/gocore/backend"
	"github.com/genbench/genbench/gocore/bf16"
)

// This file holds the plain reference implementations of every backend op
// on slices: straightforward loops that follow the semantics documented in
// gocore/backend exactly. They are the yardstick the fast CPU kernels and
// the CUDA selftest are compared against.

func rnd(f float32) float32 { return bf16.Round(f) }

func f32(h uint16) float32 { return bf16.ToFloat32(h) }

// RefEmbed writes out[t*hidden:(t+1)*hidden] = rnd(table[ids[t]] × scale)
// for every t (a plain copy when scale == 1). table is [vocab, hidden].
func RefEmbed(out []uint16, ids []int32, table []uint16, hidden int, scale float32) {
	for t, id := range ids {
		row := table[int(id)*hidden : (int(id)+1)*hidden]
		dst := out[t*hidden : (t+1)*hidden]
		for i, v := range row {
			if scale == 1 {
				dst[i] = v
			} else {
				dst[i] = bf16.FromFloat32(f32(v) * scale)
			}
		}
	}
}

// RefRMSNorm normalises n rows of width dim of x into out with weight w in
// the given style (see backend.Backend.RMSNorm).
func RefRMSNorm(out, x []uint16, n, dim int, w []uint16, eps float32, style backend.NormStyle) {
	for r := 0; r < n; r++ {
		row := x[r*dim : (r+1)*dim]
		var ss float32
		for _, v := range row {
			f := f32(v)
			ss += f * f
		}
		inv := float32(1 / math.Sqrt(float64(ss/float32(dim)+eps)))
		dst := out[r*dim : (r+1)*dim]
		for i, v := range row {
			nv := f32(v) * inv
			if style == backend.GemmaNorm {
				dst[i] = bf16.FromFloat32(nv * (1 + f32(w[i])))
			} else {
				dst[i] = bf16.FromFloat32(f32(w[i]) * rnd(nv))
			}
		}
	}
}

// RefMatmul computes out[t][r] = rnd(Σ_c x[t][c]·w[r][c]) for n rows of x
// [n, cols] and w [rows, cols], with float32 accumulation.
func RefMatmul(out, x []uint16, n int, w []uint16, rows, cols int) {
	for t := 0; t < n; t++ {
		xr := x[t*cols : (t+1)*cols]
		for r := 0; r < rows; r++ {
			wr := w[r*cols : (r+1)*cols]
			var s float32
			for c := range xr {
				s += f32(xr[c]) * f32(wr[c])
			}
			out[t*rows+r] = bf16.FromFloat32(s)
		}
	}
}

// RefRope rotates n tokens of x [n, heads, d] in place at positions pos
// with the bf16 tables cos/sin [positions, d/2] (rotate_half convention,
// three roundings, see backend.Backend.RopeKV).
func RefRope(x []uint16, n, heads, d int, pos []int32, cos, sin []uint16) {
	half := d / 2
	for t := 0; t < n; t++ {
		p := int(pos[t])
		for h := 0; h < heads; h++ {
			v := x[(t*heads+h)*d : (t*heads+h+1)*d]
			for j := 0; j < half; j++ {
				c, s := f32(cos[p*half+j]), f32(sin[p*half+j])
				a, b := f32(v[j]), f32(v[j+half])
				v[j] = bf16.FromFloat32(rnd(a*c) + rnd(-b*s))
				v[j+half] = bf16.FromFloat32(rnd(b*c) + rnd(a*s))
			}
		}
	}
}

// RefAttention computes SDPA-convention attention for n queries q [n, H, D]
// at positions pos over the caches k, v [capacity, KVHeads, D] of one layer,
// writing out [n, H·D] (see backend.Backend.Attention).
func RefAttention(out, q []uint16, n int, pos []int32, k, v []uint16, shape backend.AttnShape) {
	H, KV, D := shape.Heads, shape.KVHeads, shape.HeadDim
	rep := H / KV
	for t := 0; t < n; t++ {
		p := int(pos[t])
		lo := 0
		if shape.Window > 0 && p-shape.Window+1 > 0 {
			lo = p - shape.Window + 1
		}
		for h := 0; h < H; h++ {
			g := h / rep
			qv := q[(t*H+h)*D : (t*H+h+1)*D]
			scores := make([]float32, p+1-lo)
			mx := float32(math.Inf(-1))
			for key := lo; key <= p; key++ {
				kv := k[(key*KV+g)*D : (key*KV+g+1)*D]
				var s float32
				for d := 0; d < D; d++ {
					s += f32(qv[d]) * f32(kv[d])
				}
				s *= shape.Scale
				scores[key-lo] = s
				if s > mx {
					mx = s
				}
			}
			var sum float32
			for i, s := range scores {
				e := float32(math.Exp(float64(s - mx)))
				scores[i] = e
				sum += e
			}
			acc := make([]float32, D)
			for key := lo; key <= p; key++ {
				pk := rnd(scores[key-lo])
				vv := v[(key*KV+g)*D : (key*KV+g+1)*D]
				for d := 0; d < D; d++ {
					acc[d] += pk * f32(vv[d])
				}
			}
			o := out[(t*H+h)*D : (t*H+h+1)*D]
			for d := range o {
				o[d] = bf16.FromFloat32(acc[d] / sum)
			}
		}
	}
}

// Act applies the activation to z in float32 the way PyTorch's CPU
// kernels write it: SiLU z/(1+exp(-z)); GELU-tanh 0.5·z·(1+tanh(β·(z+κ·z³)))
// with β = √(2/π), κ = 0.044715, every operation rounded to float32 (exp
// and tanh correctly rounded).
func Act(z float32, act backend.Activation) float32 {
	if act == backend.GELUTanh {
		const beta, kappa = float32(0.7978845608028654), float32(0.044715)
		cube := z * z * z
		inner := beta * (z + kappa*cube)
		t := float32(math.Tanh(float64(inner)))
		return 0.5 * z * (1 + t)
	}
	e := float32(math.Exp(float64(-z)))
	return z / (1 + e)
}

// RefGLU computes out[i] = rnd(rnd(act(gate[i])) × up[i]).
func RefGLU(out, gate, up []uint16, act backend.Activation) {
	for i := range gate {
		out[i] = bf16.FromFloat32(rnd(Act(f32(gate[i]), act)) * f32(up[i]))
	}
}

// RefAdd computes out[i] = rnd(a[i] + b[i]).
func RefAdd(out, a, b []uint16) {
	for i := range a {
		out[i] = bf16.FromFloat32(f32(a[i]) + f32(b[i]))
	}
}

// RefSoftcap computes x[i] = rnd(tanh(x[i]/cap)·cap) in place.
func RefSoftcap(x []uint16, cap float32) {
	for i, v := range x {
		x[i] = bf16.FromFloat32(float32(math.Tanh(float64(f32(v)/cap))) * cap)
	}
}
