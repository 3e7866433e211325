package cuda

import (
	"github.com/genbench/genbench/cuda/cu"
)

// Decode-step fusion. A single-token step is a chain of small launches
// (RMSNorm → GEMV → RoPE → attention → GEMV → add → RMSNorm → GEMV → GLU →
// GEMV → add per layer); the decode GEMV kernel can absorb the RMSNorm
// before it and the residual add or GLU after it, and an RMSNorm can take
// the residual add after it (Gemma 3's post-norms), all with the separate
// ops' roundings. So an RMSNorm and a one-token Matmul are not launched at
// once but kept as the pending op; the next op either fuses with it or
// flushes it first. Every other entry point flushes (Backend.do), so the
// order of effects is unchanged and results are identical to the unfused
// ops.

type pendingKind int

const (
	pendNone pendingKind = iota
	pendNorm             // an RMSNorm
	pendGemv             // a one-token Matmul, maybe with a norm prologue
)

// maxFusedNormCols bounds the norm prologue's shared-memory copy of x.
const maxFusedNormCols = 16 << 10

type pending struct {
	kind pendingKind

	// The norm (pendNorm, or the prologue of pendGemv when normW != 0).
	normOut, normX cu.DevPtr
	normW          cu.DevPtr
	rows, dim      int
	eps            float32
	gemma          int

	// The GEMV.
	w      *weight
	x      cu.DevPtr
	outs   [3]cu.DevPtr
	b1, b2 int
}

// normPlan describes an RMSNorm for deferral.
type normPlan struct {
	out, x, w cu.DevPtr
	dim       int
	eps       float32
	gemma     int
}

// canDeferNorm: a norm narrow enough for the GEMV prologue's shared memory
// (it may still end up launched alone, or fused with a residual add).
func canDeferNorm(rows int, n normPlan) bool {
	return rows >= 1 && n.dim <= maxFusedNormCols
}

// absorbNorm reports whether a pending norm can become the prologue of a
// one-token Matmul reading x with cols columns: one row, not in place (the
// prologue reads the norm's input in every block while block 0 writes the
// output).
func (p *pending) absorbNorm(x cu.DevPtr, cols int) bool {
	return p.kind == pendNorm && p.rows == 1 && p.normOut == x && p.normOut != p.normX && p.dim == cols
}

// fusesNormAdd reports whether Add(out, a, c) over n values can follow the
// pending norm in one kernel, and which operand is the residual: one
// operand is the norm's output, the other (read before the norm's output
// is written) must be another buffer.
func (p *pending) fusesNormAdd(a, c cu.DevPtr, n int) (resid cu.DevPtr, ok bool) {
	if p.kind != pendNorm || n != p.rows*p.dim || a == c {
		return 0, false
	}
	switch p.normOut {
	case c:
		return a, true
	case a:
		return c, true
	}
	return 0, false
}

// reads reports whether the pending GEMV (with its prologue) reads or
// writes ptr other than through its outputs: a fused epilogue must not
// write there while other blocks may still read it.
func (p *pending) touches(ptr cu.DevPtr) bool {
	return ptr == p.x || (p.normW != 0 && (ptr == p.normX || ptr == p.normOut))
}

// fusesAdd reports whether Add(out, a, c) over n values can be the
// epilogue of the pending GEMV: c is its only output, a and out are other
// buffers it does not read.
func (p *pending) fusesAdd(out, a, c cu.DevPtr, n int) bool {
	return p.kind == pendGemv && len(p.w.parts) == 1 && c == p.outs[0] && n == p.w.rows &&
		a != c && out != c && !p.touches(out) && !p.touches(a)
}

// fusesGLU reports whether GLU(out, gate, up, 1, width) can be the
// epilogue of the pending GEMV: gate and up are its two equal parts.
func (p *pending) fusesGLU(out, gate, up cu.DevPtr, n, width int) bool {
	return p.kind == pendGemv && n == 1 && len(p.w.parts) == 2 && p.w.parts[0] == width &&
		p.w.parts[1] == width && gate == p.outs[0] && up == p.outs[1] && out != up && !p.touches(out)
}

// pairsQKNorm reports whether a second norm n (rows, dim) following the
// pending one can be held as the pair of per-head q and k norms that RoPE
// absorbs: both in place, same head dimension, style and eps.
func (p *pending) pairsQKNorm(n normPlan, rows int) bool {
	return p.kind == pendNorm && p.normOut == p.normX && n.out == n.x && n.out != p.normOut &&
		p.dim == n.dim && p.gemma == n.gemma && p.eps == n.eps && rows > 0
}

// fusesQKNorm reports whether RoPE over n tokens of q [n, H, D] and k [n,
// KV, D] can absorb the pending q norm and k norm (b.pend, b.pend2).
func fusesQKNorm(qn, kn *pending, q, k cu.DevPtr, n, H, KV, D int) bool {
	return qn.kind == pendNorm && kn.kind == pendNorm && qn.normOut == q && qn.normX == q &&
		kn.normOut == k && kn.normX == k && qn.rows == n*H && kn.rows == n*KV && qn.dim == D && kn.dim == D &&
		qn.gemma == kn.gemma && qn.eps == kn.eps
}

// flush launches the pending ops, if any, in order (worker thread).
func (b *Backend) flush() error {
	if err := b.flushOne(&b.pend); err != nil {
		b.pend2 = pending{}
		return err
	}
	return b.flushOne(&b.pend2)
}

func (b *Backend) flushOne(pp *pending) error {
	p := *pp
	*pp = pending{}
	switch p.kind {
	case pendNorm:
		return b.launchNorm(p.normOut, p.normX, p.rows, p.dim, p.normW, p.eps, p.gemma)
	case pendGemv:
		return b.launchGemv(&p, 0, 0, -1, 0)
	}
	return nil
}

func (b *Backend) launchNorm(out, x cu.DevPtr, rows, dim int, w cu.DevPtr, eps float32, gemma int) error {
	var p cu.Params
	p.Ptr(out).Ptr(x).I32(rows).I32(dim).Ptr(w).F32(eps).I32(gemma)
	return b.launch("rmsnorm", b.k.rmsnorm, cu.Dim3{X: uint32(rows), Y: 1, Z: 1}, cu.Dim3{X: normBlock(dim), Y: 1, Z: 1}, 0, &p)
}

// launchNormAdd launches the pending norm fused with out = resid + norm.
func (b *Backend) launchNormAdd(p *pending, out, resid cu.DevPtr) error {
	var q cu.Params
	q.Ptr(out).Ptr(resid).Ptr(p.normOut).Ptr(p.normX).I32(p.rows).I32(p.dim).Ptr(p.normW).F32(p.eps).I32(p.gemma)
	return b.launch("rmsnorm_add", b.k.rmsnormAdd, cu.Dim3{X: uint32(p.rows), Y: 1, Z: 1}, cu.Dim3{X: normBlock(p.dim), Y: 1, Z: 1}, 0, &q)
}

// launchGemv launches the decode GEMV of p with its prologue and the given
// epilogue: a residual (resid, residOut) or a GLU (glu >= 0, into gluOut).
func (b *Backend) launchGemv(p *pending, resid, residOut cu.DevPtr, glu int, gluOut cu.DevPtr) error {
	w := p.w
	grid, block := gemvGrid(w.rows)
	rpw := gemvRowsPerWarp(w.rows, b.sms)
	switch {
	case glu >= 0:
		grid.X = uint32(ceilDiv(p.b1, gemvRowsPerBlk/2))
	case rpw == 1:
		grid.X = uint32(ceilDiv(w.rows, gemvRowsPerBlk/2))
	}
	shared := 0
	if p.normW != 0 {
		shared = (w.cols*2 + 15) &^ 15
	}
	x := p.x
	if p.normW != 0 {
		x = p.normX // the kernel normalises the norm's input itself
	}
	var q cu.Params
	q.Ptr(w.ptr).Ptr(x).I32(w.rows).I32(w.cols).Ptr(p.outs[0]).Ptr(p.outs[1]).Ptr(p.outs[2]).I32(p.b1).I32(p.b2).
		Ptr(p.normW).F32(p.eps).I32(p.gemma).Ptr(p.normOut).Ptr(resid).Ptr(residOut).I32(glu).Ptr(gluOut).I32(rpw)
	return b.launch("gemv", b.k.gemv, grid, block, uint32(shared), &q)
}
