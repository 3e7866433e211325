// Package backendtest checks a backend's ops against the CPU reference
// (the plain loops of gocore/cpu/ref.go), as llama.cpp's test-backend-ops
// does: the cases are data, a table of {op, shape, tolerance}, and any
// backend.Backend runs them. The CPU backend's fast kernels and the CUDA
// backend (on a GPU, and on the emulated driver in its tests) use it.
//
// Inputs are seeded random bf16 values. They reach the backend as a weight
// copied out with Embed at scale 1 (a plain copy, itself the first case,
// checked to the bit), and results come back with ReadBF16AsF32 (exact), so
// the package needs nothing beyond the backend interface, except KVReader
// to read the cache RopeKV wrote.
package backendtest

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/genbench/genbench/gocore/backend"
	"github.com/genbench/genbench/gocore/bf16"
	"github.com/genbench/genbench/gocore/cpu"
)

// The ops a Case can check.
const (
	OpEmbed     = "embed"        // Embed: Vocab × Width table, N ids, Scale
	OpRMSNorm   = "rmsnorm"      // RMSNorm: N rows of Width, Style
	OpMatmul    = "matmul"       // Matmul: N rows of Width into Parts (output rows per part)
	OpGLU       = "glu"          // GLU: N rows of Width, Act
	OpAdd       = "add"          // Add, in place: N × Width elements
	OpSoftcap   = "softcap"      // Softcap: N × Width elements, cap Scale
	OpRopeKV    = "ropekv"       // RopeKV: N tokens from position Pos, Heads/KVHeads × HeadDim
	OpAttention = "attention"    // Attention: N queries ending at position Pos, Heads/KVHeads × HeadDim, Window
	OpCopy      = "copy"         // Copy of N elements between offsets Pos and Width, then AddInt32 of 3 to 2 of 3 ints
	OpEmbedBad  = "embed bad id" // Embed of id Vocab from a Vocab × Width table: an error, not a read out of bounds
	// OpChain is one decode token through RMSNorm, fused gate/up Matmul
	// (Inter rows each), GLU (Act), down Matmul, post-norm, residual Add,
	// then RMSNorm, Matmul, Add: the sequences a backend may fuse, against
	// the reference ops one by one. Width is the hidden size.
	OpChain = "decode chain"
)

// Case is one check: an op, its shape and the tolerance against the
// reference. Fields an op does not use are zero.
type Case struct {
	Op                      string
	N, Width                int
	Vocab                   int     // embed
	Parts                   []int   // matmul
	Scale                   float32 // embed scale, softcap cap
	Style                   backend.NormStyle
	Act                     backend.Activation
	Heads, KVHeads, HeadDim int     // ropekv, attention
	QKNorm                  bool    // ropekv: RMSNorm (Style) of q and k per head first, as Qwen3 and Gemma 3 do
	Pos, Window             int     // ropekv: first position; attention: last position, window
	Inter                   int     // decode chain: intermediate size
	MaxULP                  int     // pass when every value is within MaxULP bf16 ulps ...
	RelL2                   float64 // ... or, when > 0, when the relative L2 error is at most RelL2
	Abs                     float64 // values this close pass the ulp test (GELU: 1+tanh cancels near -1 in float32)
	Large                   bool    // a size a device is for; Cases(true) leaves it out
}

// Cases is the table, in the order to run it. quick leaves out the large
// shapes (for an emulated device, or a quick pass).
func Cases(quick bool) []Case {
	var out []Case
	for _, c := range table {
		if quick && c.Large {
			continue
		}
		out = append(out, c)
	}
	return out
}

// table holds the shapes of the dev models (Llama 3.2 1B, Qwen3 1.7B,
// Gemma 3 1B) and odd sizes that exercise scalar tails and partial tiles.
var table = []Case{
	{Op: OpEmbed, Vocab: 37, Width: 19, N: 5, Scale: 1},
	{Op: OpEmbed, Vocab: 1000, Width: 1152, N: 7, Scale: 34},
	{Op: OpEmbedBad, Vocab: 10, Width: 8},
	{Op: OpRMSNorm, N: 3, Width: 19, Style: backend.LlamaNorm, MaxULP: 2},
	{Op: OpRMSNorm, N: 5, Width: 2048, Style: backend.LlamaNorm, MaxULP: 2},
	{Op: OpRMSNorm, N: 33, Width: 256, Style: backend.GemmaNorm, MaxULP: 2},
	{Op: OpMatmul, N: 1, Parts: []int{37}, Width: 19, RelL2: 1e-3},
	{Op: OpMatmul, N: 1, Parts: []int{2048, 512, 512}, Width: 2048, RelL2: 1e-3, Large: true},
	{Op: OpMatmul, N: 1, Parts: []int{6912, 6912}, Width: 1152, RelL2: 1e-3, Large: true},
	{Op: OpMatmul, N: 7, Parts: []int{70}, Width: 45, RelL2: 1e-3},
	{Op: OpMatmul, N: 65, Parts: []int{128, 24, 24}, Width: 64, RelL2: 1e-3},
	{Op: OpGLU, N: 3, Width: 1001, Act: backend.SiLU, MaxULP: 2},
	{Op: OpGLU, N: 3, Width: 1001, Act: backend.GELUTanh, MaxULP: 2, Abs: 1e-5},
	{Op: OpAdd, N: 1, Width: 4099},
	{Op: OpSoftcap, N: 1, Width: 1027, Scale: 30, MaxULP: 1},
	{Op: OpRopeKV, N: 1, Heads: 4, KVHeads: 2, HeadDim: 24, Pos: 17},
	{Op: OpRopeKV, N: 9, Heads: 32, KVHeads: 8, HeadDim: 64},
	{Op: OpRopeKV, N: 5, Heads: 4, KVHeads: 1, HeadDim: 256, Pos: 511, Large: true},
	// A norm value one ulp off (float32 summation order) moves the rotated value slightly.
	{Op: OpRopeKV, N: 1, Heads: 16, KVHeads: 8, HeadDim: 128, Pos: 37, QKNorm: true, RelL2: 4e-3},
	{Op: OpRopeKV, N: 4, Heads: 4, KVHeads: 1, HeadDim: 256, Pos: 300, QKNorm: true, Style: backend.GemmaNorm, RelL2: 4e-3},
	{Op: OpAttention, N: 1, Heads: 4, KVHeads: 2, HeadDim: 24, Pos: 37, RelL2: 1e-3},
	{Op: OpAttention, N: 1, Heads: 32, KVHeads: 8, HeadDim: 64, Pos: 1500, RelL2: 1e-3, Large: true},
	{Op: OpAttention, N: 1, Heads: 4, KVHeads: 1, HeadDim: 256, Pos: 1300, Window: 512, RelL2: 1e-3, Large: true},
	{Op: OpAttention, N: 9, Heads: 16, KVHeads: 8, HeadDim: 128, Pos: 8, RelL2: 1e-3},
	{Op: OpAttention, N: 17, Heads: 4, KVHeads: 1, HeadDim: 256, Pos: 40, Window: 5, RelL2: 1e-3},
	{Op: OpAttention, N: 6, Heads: 3, KVHeads: 3, HeadDim: 20, Pos: 10, RelL2: 1e-3},
	{Op: OpCopy, N: 250, Pos: 20, Width: 10},
	{Op: OpChain, Width: 2048, Inter: 8192, Style: backend.LlamaNorm, Act: backend.SiLU, RelL2: 4e-3, Large: true},
	{Op: OpChain, Width: 1152, Inter: 6912, Style: backend.GemmaNorm, Act: backend.GELUTanh, RelL2: 4e-3, Large: true},
	{Op: OpChain, Width: 72, Inter: 200, Style: backend.LlamaNorm, Act: backend.SiLU, RelL2: 4e-3},
	{Op: OpChain, Width: 72, Inter: 200, Style: backend.GemmaNorm, Act: backend.GELUTanh, RelL2: 4e-3},
}

// Name is the op and its shape, for a report line.
func (c Case) Name() string {
	switch c.Op {
	case OpEmbed:
		return fmt.Sprintf("embed vocab %d, hidden %d, n %d, scale %g", c.Vocab, c.Width, c.N, c.Scale)
	case OpRMSNorm:
		style := "llama"
		if c.Style == backend.GemmaNorm {
			style = "gemma"
		}
		return fmt.Sprintf("rmsnorm %d×%d %s", c.N, c.Width, style)
	case OpMatmul:
		return fmt.Sprintf("matmul n %d, %v×%d", c.N, c.Parts, c.Width)
	case OpGLU:
		act := "silu"
		if c.Act == backend.GELUTanh {
			act = "gelu-tanh"
		}
		return fmt.Sprintf("glu %s %d×%d", act, c.N, c.Width)
	case OpRopeKV, OpAttention:
		norm := ""
		if c.QKNorm {
			norm = " q/k norm"
		}
		return fmt.Sprintf("%s%s n %d, H %d/%d, D %d, pos %d, win %d", c.Op, norm, c.N, c.Heads, c.KVHeads, c.HeadDim, c.Pos, c.Window)
	case OpCopy:
		return fmt.Sprintf("copy %d from %d to %d, add_i32", c.N, c.Pos, c.Width)
	case OpEmbedBad:
		return fmt.Sprintf("embed bad id %d of %d", c.Vocab, c.Vocab)
	case OpChain:
		style, act := "llama", "silu"
		if c.Style == backend.GemmaNorm {
			style = "gemma"
		}
		if c.Act == backend.GELUTanh {
			act = "gelu-tanh"
		}
		return fmt.Sprintf("decode chain hidden %d, inter %d, %s norm, %s", c.Width, c.Inter, style, act)
	}
	return fmt.Sprintf("%s %d×%d", c.Op, c.N, c.Width)
}

// Result is the outcome of one case.
type Result struct {
	Case   Case
	Metric string // what was measured, e.g. "max 1 ulp, rel-L2 3.1e-04"
	Pass   bool
	Err    error // the backend failed the op (Pass is false)
}

func (r Result) String() string {
	switch {
	case r.Err != nil:
		return fmt.Sprintf("FAIL %s: %v", r.Case.Name(), r.Err)
	case !r.Pass:
		return fmt.Sprintf("FAIL %s: %s (tolerance %s)", r.Case.Name(), r.Metric, r.Case.tolerance())
	}
	return fmt.Sprintf("ok   %s: %s", r.Case.Name(), r.Metric)
}

func (c Case) tolerance() string {
	if c.Op == OpEmbedBad {
		return "an error"
	}
	if c.RelL2 > 0 {
		return fmt.Sprintf("rel-L2 <= %.0e", c.RelL2)
	}
	if c.Abs > 0 {
		return fmt.Sprintf("<= %d ulp or <= %.0e", c.MaxULP, c.Abs)
	}
	return fmt.Sprintf("<= %d ulp", c.MaxULP)
}

// Run checks every case on b with inputs seeded by seed.
func Run(b backend.Backend, cases []Case, seed uint64) []Result {
	out := make([]Result, len(cases))
	for i, c := range cases {
		out[i] = RunCase(b, c, seed+uint64(i))
	}
	return out
}

// RunCase checks one case on b.
func RunCase(b backend.Backend, c Case, seed uint64) Result {
	r := &runner{b: b, rng: rand.New(rand.NewPCG(seed, 0x6765_6e62_656e_6368))}
	defer r.free()
	var got, want []uint16
	var err error
	switch c.Op {
	case OpEmbed:
		got, want, err = r.embed(c)
	case OpRMSNorm:
		got, want, err = r.rmsnorm(c)
	case OpMatmul:
		got, want, err = r.matmul(c)
	case OpGLU, OpAdd, OpSoftcap:
		got, want, err = r.elementwise(c)
	case OpRopeKV:
		got, want, err = r.ropeKV(c)
	case OpAttention:
		got, want, err = r.attention(c)
	case OpCopy:
		got, want, err = r.copyAddInt32(c)
	case OpEmbedBad:
		return r.embedBad(c)
	case OpChain:
		got, want, err = r.chain(c)
	default:
		err = fmt.Errorf("backendtest: unknown op %q", c.Op)
	}
	if err == nil {
		err = b.Sync()
	}
	if err != nil {
		return Result{Case: c, Err: err}
	}
	return compare(c, got, want)
}

// runner holds one case's backend objects.
type runner struct {
	b    backend.Backend
	rng  *rand.Rand
	objs []any
}

func (r *runner) free() {
	for i := len(r.objs) - 1; i >= 0; i-- {
		r.b.Free(r.objs[i])
	}
}

func (r *runner) keep(x any) { r.objs = append(r.objs, x) }

// rand returns n bf16 values of a normal distribution with deviation std.
func (r *runner) rand(n int, std float64) []uint16 {
	out := make([]uint16, n)
	for i := range out {
		out[i] = bf16.FromFloat32(float32(r.rng.NormFloat64() * std))
	}
	return out
}

// weight uploads data as a one-part weight of rows × cols.
func (r *runner) weight(name string, rows, cols int, data []uint16) (backend.Weight, error) {
	w, err := r.b.UploadWeight(backend.Matrix{Name: name, Rows: rows, Cols: cols, Data: data})
	if err != nil {
		return nil, err
	}
	r.keep(w)
	return w, nil
}

// ints uploads int32 values into a new buffer.
func (r *runner) ints(v []int32) (backend.Buffer, error) {
	buf, err := r.b.NewBuffer(backend.Int32, len(v))
	if err != nil {
		return nil, err
	}
	r.keep(buf)
	return buf, r.b.WriteInt32(buf, 0, v)
}

// out allocates a bf16 buffer of n elements.
func (r *runner) out(n int) (backend.Buffer, error) {
	buf, err := r.b.NewBuffer(backend.BF16, n)
	if err != nil {
		return nil, err
	}
	r.keep(buf)
	return buf, nil
}

// buf puts data (rows of width) into a new bf16 buffer through Embed at
// scale 1, a plain copy.
func (r *runner) buf(data []uint16, width int) (backend.Buffer, error) {
	rows := len(data) / width
	w, err := r.weight("input", rows, width, data)
	if err != nil {
		return nil, err
	}
	ids := make([]int32, rows)
	for i := range ids {
		ids[i] = int32(i)
	}
	idb, err := r.ints(ids)
	if err != nil {
		return nil, err
	}
	out, err := r.out(len(data))
	if err != nil {
		return nil, err
	}
	return out, r.b.Embed(out, idb, rows, w, 1)
}

// read copies n bf16 values back (widened to float32 and narrowed again,
// both exact).
func (r *runner) read(buf backend.Buffer, n int) ([]uint16, error) {
	f := make([]float32, n)
	if err := r.b.ReadBF16AsF32(f, buf, 0); err != nil {
		return nil, err
	}
	out := make([]uint16, n)
	for i, v := range f {
		out[i] = bf16.FromFloat32(v)
	}
	return out, nil
}

func (r *runner) embed(c Case) (got, want []uint16, err error) {
	table := r.rand(c.Vocab*c.Width, 1)
	ids := make([]int32, c.N)
	for i := range ids {
		ids[i] = int32(r.rng.IntN(c.Vocab))
	}
	ids[0] = int32(c.Vocab - 1)
	w, err := r.weight("embed", c.Vocab, c.Width, table)
	if err != nil {
		return nil, nil, err
	}
	idb, err := r.ints(ids)
	if err != nil {
		return nil, nil, err
	}
	out, err := r.out(c.N * c.Width)
	if err != nil {
		return nil, nil, err
	}
	if err := r.b.Embed(out, idb, c.N, w, c.Scale); err != nil {
		return nil, nil, err
	}
	want = make([]uint16, c.N*c.Width)
	cpu.RefEmbed(want, ids, table, c.Width, c.Scale)
	got, err = r.read(out, len(want))
	return got, want, err
}

func (r *runner) rmsnorm(c Case) (got, want []uint16, err error) {
	x, wd := r.rand(c.N*c.Width, 2), r.rand(c.Width, 0.5)
	w, err := r.weight("norm", 1, c.Width, wd)
	if err != nil {
		return nil, nil, err
	}
	xb, err := r.buf(x, c.Width)
	if err != nil {
		return nil, nil, err
	}
	out, err := r.out(len(x))
	if err != nil {
		return nil, nil, err
	}
	if err := r.b.RMSNorm(out, xb, c.N, c.Width, w, 1e-6, c.Style); err != nil {
		return nil, nil, err
	}
	want = make([]uint16, len(x))
	cpu.RefRMSNorm(want, x, c.N, c.Width, wd, 1e-6, c.Style)
	got, err = r.read(out, len(want))
	return got, want, err
}

func (r *runner) matmul(c Case) (got, want []uint16, err error) {
	rows := 0
	for _, p := range c.Parts {
		rows += p
	}
	x, wd := r.rand(c.N*c.Width, 1), r.rand(rows*c.Width, 0.05)
	var ms []backend.Matrix
	off := 0
	for i, p := range c.Parts {
		ms = append(ms, backend.Matrix{Name: fmt.Sprintf("w%d", i), Rows: p, Cols: c.Width, Data: wd[off*c.Width : (off+p)*c.Width]})
		off += p
	}
	w, err := r.b.UploadWeight(ms...)
	if err != nil {
		return nil, nil, err
	}
	r.keep(w)
	xb, err := r.buf(x, c.Width)
	if err != nil {
		return nil, nil, err
	}
	outs := make([]backend.Buffer, len(c.Parts))
	for i, p := range c.Parts {
		if outs[i], err = r.out(c.N * p); err != nil {
			return nil, nil, err
		}
	}
	if err := r.b.Matmul(outs, xb, c.N, w); err != nil {
		return nil, nil, err
	}
	off = 0
	for i, p := range c.Parts {
		g, err := r.read(outs[i], c.N*p)
		if err != nil {
			return nil, nil, err
		}
		got = append(got, g...)
		ref := make([]uint16, c.N*p)
		cpu.RefMatmul(ref, x, c.N, wd[off*c.Width:(off+p)*c.Width], p, c.Width)
		want = append(want, ref...)
		off += p
	}
	return got, want, nil
}

// elementwise runs GLU, Add (in place) or Softcap (in place).
func (r *runner) elementwise(c Case) (got, want []uint16, err error) {
	n := c.N * c.Width
	std := 2.0
	switch c.Op {
	case OpGLU:
		std = 3
	case OpSoftcap:
		std = 40
	}
	a, b := r.rand(n, std), r.rand(n, 1)
	ab, err := r.buf(a, c.Width)
	if err != nil {
		return nil, nil, err
	}
	bb, err := r.buf(b, c.Width)
	if err != nil {
		return nil, nil, err
	}
	out := ab
	want = make([]uint16, n)
	switch c.Op {
	case OpGLU:
		if out, err = r.out(n); err != nil {
			return nil, nil, err
		}
		err = r.b.GLU(out, ab, bb, c.N, c.Width, c.Act)
		cpu.RefGLU(want, a, b, c.Act)
	case OpAdd:
		err = r.b.Add(ab, ab, bb, n)
		cpu.RefAdd(want, a, b)
	case OpSoftcap:
		err = r.b.Softcap(ab, n, c.Scale)
		copy(want, a)
		cpu.RefSoftcap(want, c.Scale)
	}
	if err != nil {
		return nil, nil, err
	}
	got, err = r.read(out, n)
	return got, want, err
}

// ropeTables are the RoPE cos/sin tables of base theta.
func ropeTables(positions, d int, theta float64) (cos, sin []uint16) {
	half := d / 2
	cos, sin = make([]uint16, positions*half), make([]uint16, positions*half)
	for p := 0; p < positions; p++ {
		for j := 0; j < half; j++ {
			inv := float32(1 / math.Pow(theta, float64(2*j)/float64(d)))
			a := float32(p) * inv
			cos[p*half+j] = bf16.FromFloat32(float32(math.Cos(float64(a))))
			sin[p*half+j] = bf16.FromFloat32(float32(math.Sin(float64(a))))
		}
	}
	return cos, sin
}

// ropeKV rotates q and k of N tokens from position Pos, writes the cache
// (layer 1 of 2), and compares the rotated q and the cache: the written
// positions hold rotated k and raw v, the others stay zero.
func (r *runner) ropeKV(c Case) (got, want []uint16, err error) {
	kr, ok := r.b.(backend.KVReader)
	if !ok {
		return nil, nil, errors.New("backendtest: the backend cannot read its KV cache back (backend.KVReader)")
	}
	capacity := c.Pos + c.N + 7
	q, k, v := r.rand(c.N*c.Heads*c.HeadDim, 1), r.rand(c.N*c.KVHeads*c.HeadDim, 1), r.rand(c.N*c.KVHeads*c.HeadDim, 1)
	pos := make([]int32, c.N)
	for i := range pos {
		pos[i] = int32(c.Pos + i)
	}
	cos, sin := ropeTables(capacity, c.HeadDim, 10000)
	rope, err := r.b.UploadRope(capacity, c.HeadDim, cos, sin)
	if err != nil {
		return nil, nil, err
	}
	r.keep(rope)
	cache, err := r.b.NewKVCache(2, capacity, c.KVHeads, c.HeadDim)
	if err != nil {
		return nil, nil, err
	}
	r.keep(cache)
	qb, err := r.buf(q, c.HeadDim)
	if err != nil {
		return nil, nil, err
	}
	kb, err := r.buf(k, c.HeadDim)
	if err != nil {
		return nil, nil, err
	}
	vb, err := r.buf(v, c.HeadDim)
	if err != nil {
		return nil, nil, err
	}
	pb, err := r.ints(pos)
	if err != nil {
		return nil, nil, err
	}
	want = append([]uint16(nil), q...)
	wk := append([]uint16(nil), k...)
	if c.QKNorm {
		qn, kn := r.rand(c.HeadDim, 0.5), r.rand(c.HeadDim, 0.5)
		qw, err := r.weight("q_norm", 1, c.HeadDim, qn)
		if err != nil {
			return nil, nil, err
		}
		kw, err := r.weight("k_norm", 1, c.HeadDim, kn)
		if err != nil {
			return nil, nil, err
		}
		if err := errors.Join(r.b.RMSNorm(qb, qb, c.N*c.Heads, c.HeadDim, qw, 1e-6, c.Style),
			r.b.RMSNorm(kb, kb, c.N*c.KVHeads, c.HeadDim, kw, 1e-6, c.Style)); err != nil {
			return nil, nil, err
		}
		cpu.RefRMSNorm(want, want, c.N*c.Heads, c.HeadDim, qn, 1e-6, c.Style)
		cpu.RefRMSNorm(wk, wk, c.N*c.KVHeads, c.HeadDim, kn, 1e-6, c.Style)
	}
	shape := backend.AttnShape{Heads: c.Heads, KVHeads: c.KVHeads, HeadDim: c.HeadDim, Scale: 1}
	if err := r.b.RopeKV(qb, kb, vb, c.N, pb, rope, cache, 1, shape); err != nil {
		return nil, nil, err
	}
	if got, err = r.read(qb, len(q)); err != nil {
		return nil, nil, err
	}
	kc, vc, err := kr.ReadKV(cache, 1)
	if err != nil {
		return nil, nil, err
	}
	cpu.RefRope(want, c.N, c.Heads, c.HeadDim, pos, cos, sin)
	cpu.RefRope(wk, c.N, c.KVHeads, c.HeadDim, pos, cos, sin)
	stride := c.KVHeads * c.HeadDim
	wantK, wantV := make([]uint16, capacity*stride), make([]uint16, capacity*stride)
	copy(wantK[c.Pos*stride:], wk)
	copy(wantV[c.Pos*stride:], v)
	got = append(append(got, kc...), vc...)
	want = append(append(want, wantK...), wantV...)
	return got, want, nil
}

// attention fills a cache with random keys and values through RopeKV at
// the identity rotation (cos 1, sin 0, exact), then attends N queries
// ending at position Pos.
func (r *runner) attention(c Case) (got, want []uint16, err error) {
	capacity := c.Pos + 1
	D, stride := c.HeadDim, c.KVHeads*c.HeadDim
	q := r.rand(c.N*c.Heads*D, 1)
	kc, vc := r.rand(capacity*stride, 1), r.rand(capacity*stride, 1)
	half := D / 2
	one, zero := make([]uint16, capacity*half), make([]uint16, capacity*half)
	for i := range one {
		one[i] = bf16.FromFloat32(1)
	}
	rope, err := r.b.UploadRope(capacity, D, one, zero)
	if err != nil {
		return nil, nil, err
	}
	r.keep(rope)
	cache, err := r.b.NewKVCache(1, capacity, c.KVHeads, D)
	if err != nil {
		return nil, nil, err
	}
	r.keep(cache)
	all := make([]int32, capacity)
	for i := range all {
		all[i] = int32(i)
	}
	fill := backend.AttnShape{Heads: c.KVHeads, KVHeads: c.KVHeads, HeadDim: D, Scale: 1}
	kb, err := r.buf(kc, D)
	if err != nil {
		return nil, nil, err
	}
	vb, err := r.buf(vc, D)
	if err != nil {
		return nil, nil, err
	}
	scratch, err := r.buf(make([]uint16, capacity*stride), D)
	if err != nil {
		return nil, nil, err
	}
	allb, err := r.ints(all)
	if err != nil {
		return nil, nil, err
	}
	if err := r.b.RopeKV(scratch, kb, vb, capacity, allb, rope, cache, 0, fill); err != nil {
		return nil, nil, err
	}
	pos := make([]int32, c.N)
	for i := range pos {
		pos[i] = int32(c.Pos - c.N + 1 + i)
	}
	qb, err := r.buf(q, D)
	if err != nil {
		return nil, nil, err
	}
	pb, err := r.ints(pos)
	if err != nil {
		return nil, nil, err
	}
	out, err := r.out(c.N * c.Heads * D)
	if err != nil {
		return nil, nil, err
	}
	shape := backend.AttnShape{Heads: c.Heads, KVHeads: c.KVHeads, HeadDim: D, Window: c.Window, Scale: float32(1 / math.Sqrt(float64(D)))}
	if err := r.b.Attention(out, qb, c.N, pb, cache, 0, shape); err != nil {
		return nil, nil, err
	}
	want = make([]uint16, c.N*c.Heads*D)
	cpu.RefAttention(want, q, c.N, pos, kc, vc, shape)
	got, err = r.read(out, len(want))
	return got, want, err
}

// ulpKey maps bf16 bits to an integer that is monotone in value.
func ulpKey(h uint16) int {
	if h&0x8000 != 0 {
		return -int(h & 0x7fff)
	}
	return int(h)
}

// compare measures got against want: the largest difference in bf16 ulps
// and the relative L2 error; a NaN in either fails.
func compare(c Case, got, want []uint16) Result {
	var maxULP int
	var num, den float64
	nan := len(got) != len(want)
	for i := range want {
		if nan {
			break
		}
		g, w := bf16.ToFloat32(got[i]), bf16.ToFloat32(want[i])
		if g != g || w != w {
			nan = true
			break
		}
		diff := float64(g) - float64(w)
		if d := ulpKey(got[i]) - ulpKey(want[i]); math.Abs(diff) > c.Abs {
			maxULP = max(maxULP, max(d, -d))
		}
		num += diff * diff
		den += float64(w) * float64(w)
	}
	relL2 := 0.0
	if den > 0 {
		relL2 = math.Sqrt(num / den)
	} else if num > 0 {
		relL2 = math.Inf(1)
	}
	res := Result{Case: c, Metric: fmt.Sprintf("max %d ulp, rel-L2 %.1e", maxULP, relL2)}
	switch {
	case nan:
		res.Metric = "NaN or missing values"
	case c.RelL2 > 0:
		res.Pass = relL2 <= c.RelL2
	default:
		res.Pass = maxULP <= c.MaxULP
	}
	return res
}

// copyAddInt32 copies N values from offset Pos of a source into offset
// Width of a destination holding other values, and adds 3 to the first two
// of three ints: the copied span must match and nothing else change.
func (r *runner) copyAddInt32(c Case) (got, want []uint16, err error) {
	n := c.Pos + c.N + 30
	src, dst := r.rand(n, 1), r.rand(n, 1)
	sb, err := r.buf(src, n)
	if err != nil {
		return nil, nil, err
	}
	db, err := r.buf(dst, n)
	if err != nil {
		return nil, nil, err
	}
	ib, err := r.ints([]int32{5, -7, 100})
	if err != nil {
		return nil, nil, err
	}
	if err := errors.Join(r.b.Copy(db, c.Width, sb, c.Pos, c.N), r.b.AddInt32(ib, 2, 3)); err != nil {
		return nil, nil, err
	}
	ints := make([]int32, 3)
	if err := r.b.ReadInt32(ints, ib, 0); err != nil {
		return nil, nil, err
	}
	if ints[0] != 8 || ints[1] != -4 || ints[2] != 100 {
		return nil, nil, fmt.Errorf("AddInt32 of 3 to 2 of [5 -7 100] gave %v, want [8 -4 100]", ints)
	}
	want = append([]uint16(nil), dst...)
	copy(want[c.Width:c.Width+c.N], src[c.Pos:c.Pos+c.N])
	got, err = r.read(db, n)
	return got, want, err
}

// embedBad looks up ids 3 and Vocab (one past the end) in a Vocab × Width
// table: Embed or the Sync after it must fail.
func (r *runner) embedBad(c Case) Result {
	res := Result{Case: c}
	w, err := r.weight("embed", c.Vocab, c.Width, r.rand(c.Vocab*c.Width, 1))
	if err != nil {
		res.Err = err
		return res
	}
	idb, err := r.ints([]int32{3, int32(c.Vocab)})
	if err != nil {
		res.Err = err
		return res
	}
	out, err := r.out(2 * c.Width)
	if err != nil {
		res.Err = err
		return res
	}
	if err = r.b.Embed(out, idb, 2, w, 1); err == nil {
		err = r.b.Sync()
	}
	if err == nil {
		res.Metric = "no error"
		return res
	}
	res.Metric, res.Pass = "error: "+err.Error(), true
	return res
}

// chain runs OpChain on the backend and the same ops one by one on the
// reference loops.
func (r *runner) chain(c Case) (got, want []uint16, err error) {
	H, I := c.Width, c.Inter
	x, nw := r.rand(H, 1), r.rand(H, 0.3)
	wg, wu, wd, wo := r.rand(I*H, 0.03), r.rand(I*H, 0.03), r.rand(H*I, 0.03), r.rand(H*H, 0.03)
	normW, err := r.weight("norm", 1, H, nw)
	if err != nil {
		return nil, nil, err
	}
	gateUp, err := r.b.UploadWeight(backend.Matrix{Name: "gate", Rows: I, Cols: H, Data: wg}, backend.Matrix{Name: "up", Rows: I, Cols: H, Data: wu})
	if err != nil {
		return nil, nil, err
	}
	r.keep(gateUp)
	down, err := r.weight("down", H, I, wd)
	if err != nil {
		return nil, nil, err
	}
	oproj, err := r.weight("o", H, H, wo)
	if err != nil {
		return nil, nil, err
	}
	xb, err := r.buf(x, H)
	if err != nil {
		return nil, nil, err
	}
	var bufs [4]backend.Buffer
	for i, n := range []int{H, I, I, H} {
		if bufs[i], err = r.out(n); err != nil {
			return nil, nil, err
		}
	}
	xn, gb, ub, ob := bufs[0], bufs[1], bufs[2], bufs[3]
	err = errors.Join(
		r.b.RMSNorm(xn, xb, 1, H, normW, 1e-6, c.Style),
		r.b.Matmul([]backend.Buffer{gb, ub}, xn, 1, gateUp),
		r.b.GLU(gb, gb, ub, 1, I, c.Act),
		r.b.Matmul([]backend.Buffer{ob}, gb, 1, down),
		r.b.RMSNorm(ob, ob, 1, H, normW, 1e-6, c.Style), // a sandwich post-norm
		r.b.Add(xb, xb, ob, H),
		r.b.RMSNorm(xn, xb, 1, H, normW, 1e-6, c.Style),
		r.b.Matmul([]backend.Buffer{ob}, xn, 1, oproj),
		r.b.Add(xb, ob, xb, H),
	)
	if err != nil {
		return nil, nil, err
	}
	wxn, g, u, o := make([]uint16, H), make([]uint16, I), make([]uint16, I), make([]uint16, H)
	cpu.RefRMSNorm(wxn, x, 1, H, nw, 1e-6, c.Style)
	cpu.RefMatmul(g, wxn, 1, wg, I, H)
	cpu.RefMatmul(u, wxn, 1, wu, I, H)
	cpu.RefGLU(g, g, u, c.Act)
	cpu.RefMatmul(o, g, 1, wd, H, I)
	cpu.RefRMSNorm(o, o, 1, H, nw, 1e-6, c.Style)
	want = make([]uint16, H)
	cpu.RefAdd(want, x, o)
	cpu.RefRMSNorm(wxn, want, 1, H, nw, 1e-6, c.Style)
	cpu.RefMatmul(o, wxn, 1, wo, H, H)
	cpu.RefAdd(want, o, want)
	got, err = r.read(xb, H)
	return got, want, err
}
