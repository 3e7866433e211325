package cpu

import (
	"errors"
	"fmt"
	"math"

	"github.com/genbench/genbench/gocore/backend"
	"github.com/genbench/genbench/gocore/bf16"
)

// block is a run of output rows of one part of a weight, the unit of work
// handed to one worker.
type block struct {
	part, r0, r1 int
}

// blocks splits the weight's rows into blocks of about 128 KiB of weights
// (512 KiB, at most 32 rows, when K is split into panels), a multiple of 4
// rows.
func (w *weight) blockList() []block {
	per := (128 << 10) / (2 * w.cols)
	if w.cols > kPanel {
		per = min(tileR*maxPanelTilesAll, (512<<10)/(2*w.cols))
	}
	per = max(4, per&^3)
	var bl []block
	for pi, p := range w.parts {
		for r := 0; r < p.Rows; r += per {
			bl = append(bl, block{pi, r, min(p.Rows, r+per)})
		}
	}
	return bl
}

// Matmul computes y = rnd(x·Wᵀ) for n rows of x, in parallel over blocks of
// output rows.
func (b *Backend) Matmul(outs []backend.Buffer, x backend.Buffer, n int, w backend.Weight) error {
	ww, err := asWeight(w, "Matmul weight")
	if err != nil {
		return err
	}
	if len(outs) != len(ww.parts) {
		return fmt.Errorf("cpu: Matmul: %d outputs for a weight of %d parts", len(outs), len(ww.parts))
	}
	xb, err := asBuf(x, backend.BF16, n*ww.cols, "Matmul x")
	if err != nil {
		return err
	}
	ob := make([][]uint16, len(outs))
	for i, o := range outs {
		bb, err := asBuf(o, backend.BF16, n*ww.parts[i].Rows, "Matmul out")
		if err != nil {
			return err
		}
		if len(bb.U16) > 0 && len(xb.U16) > 0 && &bb.U16[0] == &xb.U16[0] {
			return errors.New("cpu: Matmul: output aliases the input")
		}
		ob[i] = bb.U16
	}
	if n == 0 {
		return nil
	}
	if ww.blocks == nil {
		ww.blocks = ww.blockList()
	}
	blocks := ww.blocks
	xs := xb.U16[:n*ww.cols]
	b.pool.parallel(len(blocks), 1, func(lo, hi int) {
		// a worker's blocks are consecutive rows up to the end of its
		// chunk or of the part: decode prefetches ahead within them
		end, part := 0, -1
		for i, bl := range blocks[lo:hi] {
			if bl.part != part {
				part, end = bl.part, bl.r1
				for _, nb := range blocks[lo+i+1 : hi] {
					if nb.part != part {
						break
					}
					end = nb.r1
				}
			}
			p := ww.parts[bl.part]
			matBlock(ob[bl.part], p.Rows, p.Data, bl.r0, bl.r1, end, p.Cols, xs, n)
		}
	})
	return nil
}

// matBlock computes out[t*ldo + r] for rows r0..r1 of w [*, k] and all n
// tokens of x [n, k]; rows r1..pfEnd are the caller's next (prefetched
// ahead for one token). Tokens go in groups of tileT, each group swept over
// every row tile of the block, so the group's inputs stay in L1 and the
// block's weights in L2.
func matBlock(out []uint16, ldo int, w []uint16, r0, r1, pfEnd, k int, x []uint16, n int) {
	if matBlockPanels(out, ldo, w, r0, r1, k, x, n) {
		return
	}
	if n == 1 {
		r0 = gemv8(out, w, r0, r1, pfEnd, k, x)
	}
	var sums [tileR * tileT]float32
	rt := r0 + (r1-r0)/tileR*tileR // end of the whole row tiles
	t := 0
	for ; t+tileT <= n; t += tileT {
		xt := x[t*k : (t+tileT)*k]
		for r := r0; r < rt; r += tileR {
			tile(w[r*k:(r+tileR)*k], k, xt, k, k, &sums)
			for tt := 0; tt < tileT; tt++ {
				o := out[(t+tt)*ldo+r : (t+tt)*ldo+r+tileR]
				for rr := range o {
					o[rr] = bf16.FromFloat32(sums[tt*tileR+rr])
				}
			}
		}
	}
	for ; t < n; t++ {
		xt := x[t*k : (t+1)*k]
		for r := r0; r < rt; r += tileR {
			var s4 [tileR]float32
			dot4(w[r*k:(r+tileR)*k], k, k, xt, &s4)
			o := out[t*ldo+r : t*ldo+r+tileR]
			for rr := range o {
				o[rr] = bf16.FromFloat32(s4[rr])
			}
		}
	}
	for r := rt; r < r1; r++ {
		wr := w[r*k : (r+1)*k]
		for t := 0; t < n; t++ {
			out[t*ldo+r] = bf16.FromFloat32(dotBF16(wr, x[t*k:(t+1)*k]))
		}
	}
}

// gemmF32 computes out[t*ldo + r] = w[r]·x[t] (float32, not rounded) for
// nr rows of w (row r at w[r*ldw:], k values) and nt tokens of x (token t at
// x[t*ldx:]). Every dot product gets the same bits whichever kernel
// computes it, so results do not depend on nr, nt or the tiling.
func gemmF32(out []float32, ldo int, w []uint16, ldw, nr int, x []uint16, ldx, nt, k int) {
	var sums [tileR * tileT]float32
	r := 0
	for ; r+tileR <= nr; r += tileR {
		wt := w[r*ldw:]
		t := 0
		for ; t+tileT <= nt; t += tileT {
			tile(wt, ldw, x[t*ldx:], ldx, k, &sums)
			for tt := 0; tt < tileT; tt++ {
				copy(out[(t+tt)*ldo+r:(t+tt)*ldo+r+tileR], sums[tt*tileR:(tt+1)*tileR])
			}
		}
		for ; t < nt; t++ {
			var s4 [tileR]float32
			dot4(wt, ldw, k, x[t*ldx:t*ldx+k], &s4)
			copy(out[t*ldo+r:t*ldo+r+tileR], s4[:])
		}
	}
	for ; r < nr; r++ {
		wr := w[r*ldw : r*ldw+k]
		for t := 0; t < nt; t++ {
			out[t*ldo+r] = dotBF16(wr, x[t*ldx:t*ldx+k])
		}
	}
}

// maxPanelTilesAll is the most row tiles per block on the panel path.
const maxPanelTilesAll = 8

// tileR × tileT is the register tile of the GEMM kernel: tileR weight rows
// against tileT tokens.
const (
	tileR = 4
	tileT = 6
)

// dotBF16 is Σ float32(a[i])·float32(b[i]) with float32 accumulation.
func dotBF16(a, b []uint16) float32 {
	if (hasBF16 || hasAVX2) && len(a) >= 32 {
		return dotBF16Fast(a, b)
	}
	return dotBF16Go(a, b)
}

func dotBF16Go(a, b []uint16) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(a); i += 4 {
		s0 += f32(a[i]) * f32(b[i])
		s1 += f32(a[i+1]) * f32(b[i+1])
		s2 += f32(a[i+2]) * f32(b[i+2])
		s3 += f32(a[i+3]) * f32(b[i+3])
	}
	for ; i < len(a); i++ {
		s0 += f32(a[i]) * f32(b[i])
	}
	return (s0 + s1) + (s2 + s3)
}

// dot4Go computes out[r] = w[r]·x[:k] for tileR rows of w, ldw apart.
func dot4Go(w []uint16, ldw, k int, x []uint16, out *[tileR]float32) {
	for r := 0; r < tileR; r++ {
		out[r] = dotBF16Go(w[r*ldw:r*ldw+k], x[:k])
	}
}

// tileGo computes out[t*tileR+r] = w[r]·x[t] for a tileR × tileT tile
// (rows ldw apart, tokens ldx apart, k values each).
func tileGo(w []uint16, ldw int, x []uint16, ldx, k int, out *[tileR * tileT]float32) {
	for t := 0; t < tileT; t++ {
		for r := 0; r < tileR; r++ {
			out[t*tileR+r] = dotBF16Go(w[r*ldw:r*ldw+k], x[t*ldx:t*ldx+k])
		}
	}
}

// expGo is exp in float32 via float64 (the portable path of expF32), with
// the argument clamped to [-87.33654, 88.37626] like the AVX-512 kernel, so
// the result is finite and positive.
func expGo(x float32) float32 {
	x = min(max(x, -87.33654), 88.37626)
	return float32(math.Exp(float64(x)))
}
