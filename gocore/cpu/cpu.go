// Package cpu is the CPU backend: the numerical reference for every backend
// op (plain versions in ref.go, exported for tests and the CUDA selftest)
// and a fast implementation that reads bf16 weights in place, accumulates in
// float32 and spreads output rows over worker goroutines (with AVX-512 BF16
// kernels where the CPU has them).
package cpu

import (
	"bufio"
	"errors"
	"fmt"
	"math"
	"os"
	"runtime"
	"strings"

	"github.com/genbench/genbench/gocore/backend"
	"github.com/genbench/genbench/gocore/bf16"
)

// Backend implements backend.Backend on the host. Use it from one goroutine
// at a time.
type Backend struct {
	threads int
	pool    *pool
	closed  bool
	scratch []attnScratch // attention scratch, one per slot
	slots   chan int      // free indices into scratch
}

var _ backend.Backend = (*Backend)(nil)

// New returns a CPU backend with the given number of worker threads
// (0 = GOMAXPROCS, normally all usable cores).
func New(threads int) *Backend {
	if threads <= 0 {
		threads = runtime.GOMAXPROCS(0)
	}
	return &Backend{threads: threads, pool: newPool(threads)}
}

// Threads is the number of worker goroutines.
func (b *Backend) Threads() int { return b.threads }

// Info describes the CPU.
func (b *Backend) Info() backend.Info {
	return backend.Info{Kind: "cpu", Name: cpuModel(), MemoryBytes: memTotal(), Cores: runtime.NumCPU(), Threads: b.threads}
}

func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOARCH
}

func memTotal() int64 { return meminfo("MemTotal") }

// meminfo reads a /proc/meminfo field in bytes (0 when unknown).
func meminfo(field string) int64 {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var kb int64
		if n, _ := fmt.Sscanf(sc.Text(), field+": %d kB", &kb); n == 1 {
			return kb * 1024
		}
	}
	return 0
}

// checkAlloc refuses an allocation larger than the memory available, with
// a clear error instead of the runtime's fatal out-of-memory.
func checkAlloc(what string, bytes int64) error {
	if avail := meminfo("MemAvailable"); avail > 0 && bytes > avail {
		return fmt.Errorf("cpu: %s needs %.2f GiB but only %.2f GiB of memory is available", what, float64(bytes)/(1<<30), float64(avail)/(1<<30))
	}
	return nil
}

// Buf is a host buffer; exactly one of its slices is non-nil.
type Buf struct {
	dt  backend.DType
	U16 []uint16
	I32 []int32
	F32 []float32
}

// Len is the number of elements.
func (b *Buf) Len() int {
	switch b.dt {
	case backend.BF16:
		return len(b.U16)
	case backend.Int32:
		return len(b.I32)
	}
	return len(b.F32)
}

// DType is the element type.
func (b *Buf) DType() backend.DType { return b.dt }

type weight struct {
	parts  []backend.Matrix
	rows   int
	cols   int
	prows  []int
	blocks []block // work split, computed on first use
}

func (w *weight) Rows() int    { return w.rows }
func (w *weight) Cols() int    { return w.cols }
func (w *weight) Parts() []int { return w.prows }

// kvCache stores, per layer, keys as [capacity, kvHeads*headDim] and
// values transposed as [kvHeads*headDim, ldv] (ldv = capacity rounded up to
// 32), so that both q·K and P·V read contiguous rows.
type kvCache struct {
	layers, capacity, kvHeads, headDim int
	ldv                                int
	k, v                               [][]uint16
}

// value returns element i (< kvHeads*headDim) of the value at position p.
func (c *kvCache) value(layer, p, i int) uint16 { return c.v[layer][i*c.ldv+p] }

func (c *kvCache) Layers() int   { return c.layers }
func (c *kvCache) Capacity() int { return c.capacity }

type ropeTable struct {
	positions, headDim int
	cos, sin           []uint16
}

func (r *ropeTable) Positions() int { return r.positions }
func (r *ropeTable) HeadDim() int   { return r.headDim }

// UploadWeight keeps references to the parts (no copy: the data is read in
// place, e.g. from the memory-mapped checkpoint).
func (b *Backend) UploadWeight(parts ...backend.Matrix) (backend.Weight, error) {
	if len(parts) == 0 {
		return nil, errors.New("cpu: UploadWeight: no matrices")
	}
	w := &weight{cols: parts[0].Cols}
	for _, p := range parts {
		if p.Rows <= 0 || p.Cols <= 0 {
			return nil, fmt.Errorf("cpu: weight %q: bad shape [%d, %d]", p.Name, p.Rows, p.Cols)
		}
		if p.Cols != w.cols {
			return nil, fmt.Errorf("cpu: weight %q has %d columns, want %d like %q", p.Name, p.Cols, w.cols, parts[0].Name)
		}
		if len(p.Data) < p.Rows*p.Cols {
			return nil, fmt.Errorf("cpu: weight %q: %d values for shape [%d, %d]", p.Name, len(p.Data), p.Rows, p.Cols)
		}
		p.Data = p.Data[:p.Rows*p.Cols]
		w.parts = append(w.parts, p)
		w.rows += p.Rows
		w.prows = append(w.prows, p.Rows)
	}
	return w, nil
}

// UploadRope keeps the tables.
func (b *Backend) UploadRope(positions, headDim int, cos, sin []uint16) (backend.Rope, error) {
	n := positions * headDim / 2
	if positions <= 0 || headDim <= 0 || headDim%2 != 0 || len(cos) < n || len(sin) < n {
		return nil, fmt.Errorf("cpu: UploadRope: bad table (positions %d, head dim %d, %d/%d values)", positions, headDim, len(cos), len(sin))
	}
	return &ropeTable{positions: positions, headDim: headDim, cos: cos[:n], sin: sin[:n]}, nil
}

// NewKVCache allocates layers × capacity × kvHeads × headDim keys and values.
func (b *Backend) NewKVCache(layers, capacity, kvHeads, headDim int) (backend.KVCache, error) {
	if layers <= 0 || capacity <= 0 || kvHeads <= 0 || headDim <= 0 {
		return nil, fmt.Errorf("cpu: NewKVCache: bad geometry (%d layers, %d positions, %d heads, dim %d)", layers, capacity, kvHeads, headDim)
	}
	c := &kvCache{layers: layers, capacity: capacity, kvHeads: kvHeads, headDim: headDim, ldv: (capacity + 31) &^ 31}
	if err := checkAlloc(fmt.Sprintf("a KV cache of %d positions", capacity), int64(layers)*int64(capacity+c.ldv)*int64(kvHeads*headDim)*2); err != nil {
		return nil, err
	}
	for l := 0; l < layers; l++ {
		c.k = append(c.k, make([]uint16, capacity*kvHeads*headDim))
		c.v = append(c.v, make([]uint16, c.ldv*kvHeads*headDim))
	}
	return c, nil
}

// NewBuffer allocates a zeroed host buffer.
func (b *Backend) NewBuffer(dt backend.DType, n int) (backend.Buffer, error) {
	if n < 0 {
		return nil, fmt.Errorf("cpu: NewBuffer: negative size %d", n)
	}
	if err := checkAlloc(fmt.Sprintf("a buffer of %d elements", n), int64(n)*4); err != nil {
		return nil, err
	}
	switch dt {
	case backend.BF16:
		return &Buf{dt: dt, U16: make([]uint16, n)}, nil
	case backend.Int32:
		return &Buf{dt: dt, I32: make([]int32, n)}, nil
	case backend.F32:
		return &Buf{dt: dt, F32: make([]float32, n)}, nil
	}
	return nil, fmt.Errorf("cpu: NewBuffer: unknown dtype %d", dt)
}

// Free drops the references; the garbage collector reclaims the memory.
func (b *Backend) Free(obj any) {
	switch o := obj.(type) {
	case *Buf:
		if o != nil {
			o.U16, o.I32, o.F32 = nil, nil, nil
		}
	case *kvCache:
		if o != nil {
			o.k, o.v = nil, nil
		}
	case *weight:
		if o != nil {
			o.parts = nil
		}
	case *ropeTable:
		if o != nil {
			o.cos, o.sin = nil, nil
		}
	}
}

func asBuf(x backend.Buffer, dt backend.DType, n int, what string) (*Buf, error) {
	bb, ok := x.(*Buf)
	if !ok || bb == nil {
		return nil, fmt.Errorf("cpu: %s: not a CPU buffer", what)
	}
	if bb.dt != dt {
		return nil, fmt.Errorf("cpu: %s: dtype %v, want %v", what, bb.dt, dt)
	}
	if bb.Len() < n {
		return nil, fmt.Errorf("cpu: %s: %d elements, need %d", what, bb.Len(), n)
	}
	return bb, nil
}

func asWeight(w backend.Weight, what string) (*weight, error) {
	ww, ok := w.(*weight)
	if !ok || ww == nil || ww.parts == nil {
		return nil, fmt.Errorf("cpu: %s: not a live CPU weight", what)
	}
	return ww, nil
}

func asVector(w backend.Weight, dim int, what string) ([]uint16, error) {
	ww, err := asWeight(w, what)
	if err != nil {
		return nil, err
	}
	if len(ww.parts) != 1 || ww.rows*ww.cols != dim {
		return nil, fmt.Errorf("cpu: %s: weight of shape [%d, %d], want a vector of %d", what, ww.rows, ww.cols, dim)
	}
	return ww.parts[0].Data, nil
}

// WriteInt32 copies host ids/positions into buf.
func (b *Backend) WriteInt32(buf backend.Buffer, off int, src []int32) error {
	bb, err := asBuf(buf, backend.Int32, off+len(src), "WriteInt32")
	if err != nil {
		return err
	}
	copy(bb.I32[off:], src)
	return nil
}

// ReadBF16AsF32 widens buf[off:off+len(dst)] into dst.
func (b *Backend) ReadBF16AsF32(dst []float32, buf backend.Buffer, off int) error {
	bb, err := asBuf(buf, backend.BF16, off+len(dst), "ReadBF16AsF32")
	if err != nil {
		return err
	}
	bf16.ToFloat32Slice(dst, bb.U16[off:off+len(dst)])
	return nil
}

// ReadInt32 copies buf[off:off+len(dst)] into dst.
func (b *Backend) ReadInt32(dst []int32, buf backend.Buffer, off int) error {
	bb, err := asBuf(buf, backend.Int32, off+len(dst), "ReadInt32")
	if err != nil {
		return err
	}
	copy(dst, bb.I32[off:])
	return nil
}

// Sync is a no-op: CPU ops run eagerly.
func (b *Backend) Sync() error { return nil }

// Embed gathers (and scales) embedding rows.
func (b *Backend) Embed(out, ids backend.Buffer, n int, table backend.Weight, scale float32) error {
	w, err := asWeight(table, "Embed table")
	if err != nil {
		return err
	}
	if len(w.parts) != 1 {
		return errors.New("cpu: Embed: table must be a single matrix")
	}
	hidden, vocab := w.cols, w.rows
	o, err := asBuf(out, backend.BF16, n*hidden, "Embed out")
	if err != nil {
		return err
	}
	ib, err := asBuf(ids, backend.Int32, n, "Embed ids")
	if err != nil {
		return err
	}
	for t, id := range ib.I32[:n] {
		if id < 0 || int(id) >= vocab {
			return fmt.Errorf("cpu: Embed: token %d at %d out of range [0, %d)", id, t, vocab)
		}
	}
	RefEmbed(o.U16, ib.I32[:n], w.parts[0].Data, hidden, scale)
	return nil
}

// RMSNorm normalises rows in parallel.
func (b *Backend) RMSNorm(out, x backend.Buffer, n, dim int, w backend.Weight, eps float32, style backend.NormStyle) error {
	wv, err := asVector(w, dim, "RMSNorm weight")
	if err != nil {
		return err
	}
	o, err := asBuf(out, backend.BF16, n*dim, "RMSNorm out")
	if err != nil {
		return err
	}
	xb, err := asBuf(x, backend.BF16, n*dim, "RMSNorm x")
	if err != nil {
		return err
	}
	b.pool.parallel(n, max(1, 4096/dim), func(lo, hi int) {
		RefRMSNorm(o.U16[lo*dim:hi*dim], xb.U16[lo*dim:hi*dim], hi-lo, dim, wv, eps, style)
	})
	return nil
}

// RopeKV rotates q and k and stores k and v in the cache.
func (b *Backend) RopeKV(q, k, v backend.Buffer, n int, pos backend.Buffer, rope backend.Rope, cache backend.KVCache, layer int, shape backend.AttnShape) error {
	H, KV, D := shape.Heads, shape.KVHeads, shape.HeadDim
	qb, err := asBuf(q, backend.BF16, n*H*D, "RopeKV q")
	if err != nil {
		return err
	}
	kb, err := asBuf(k, backend.BF16, n*KV*D, "RopeKV k")
	if err != nil {
		return err
	}
	vb, err := asBuf(v, backend.BF16, n*KV*D, "RopeKV v")
	if err != nil {
		return err
	}
	pb, err := asBuf(pos, backend.Int32, n, "RopeKV pos")
	if err != nil {
		return err
	}
	rt, ok := rope.(*ropeTable)
	if !ok || rt == nil || rt.cos == nil || rt.headDim != D {
		return fmt.Errorf("cpu: RopeKV: not a live CPU rope table of head dim %d", D)
	}
	c, ok := cache.(*kvCache)
	if !ok || c == nil || c.k == nil || layer < 0 || layer >= c.layers || c.kvHeads != KV || c.headDim != D {
		return fmt.Errorf("cpu: RopeKV: cache does not match layer %d, %d kv heads, head dim %d", layer, KV, D)
	}
	ps := pb.I32[:n]
	for t, p := range ps {
		if p < 0 || int(p) >= c.capacity || int(p) >= rt.positions {
			return fmt.Errorf("cpu: RopeKV: position %d of token %d outside cache (%d) or rope table (%d)", p, t, c.capacity, rt.positions)
		}
	}
	RefRope(qb.U16, n, H, D, ps, rt.cos, rt.sin)
	RefRope(kb.U16, n, KV, D, ps, rt.cos, rt.sin)
	w := KV * D
	vt := c.v[layer]
	for t, p := range ps {
		copy(c.k[layer][int(p)*w:(int(p)+1)*w], kb.U16[t*w:(t+1)*w])
		for i, x := range vb.U16[t*w : (t+1)*w] {
			vt[i*c.ldv+int(p)] = x
		}
	}
	return nil
}

// Attention computes SDPA-convention attention, parallel over (token, head).
func (b *Backend) Attention(out, q backend.Buffer, n int, pos backend.Buffer, cache backend.KVCache, layer int, shape backend.AttnShape) error {
	H, KV, D := shape.Heads, shape.KVHeads, shape.HeadDim
	if H <= 0 || KV <= 0 || H%KV != 0 || D <= 0 {
		return fmt.Errorf("cpu: Attention: bad shape %+v", shape)
	}
	ob, err := asBuf(out, backend.BF16, n*H*D, "Attention out")
	if err != nil {
		return err
	}
	qb, err := asBuf(q, backend.BF16, n*H*D, "Attention q")
	if err != nil {
		return err
	}
	pb, err := asBuf(pos, backend.Int32, n, "Attention pos")
	if err != nil {
		return err
	}
	c, ok := cache.(*kvCache)
	if !ok || c == nil || c.k == nil || layer < 0 || layer >= c.layers || c.kvHeads != KV || c.headDim != D {
		return fmt.Errorf("cpu: Attention: cache does not match layer %d, %d kv heads, head dim %d", layer, KV, D)
	}
	maxP := 0
	for t, p := range pb.I32[:n] {
		if p < 0 || int(p) >= c.capacity {
			return fmt.Errorf("cpu: Attention: position %d of token %d outside cache (%d)", p, t, c.capacity)
		}
		maxP = max(maxP, int(p))
	}
	// scores and probabilities for tileT queries over up to maxP+64 keys
	keys := maxP + 64
	if len(b.scratch) < b.threads+1 || len(b.scratch[0].u) < tileT*keys || len(b.scratch[0].f) < tileT*(keys+D) {
		keys += keys / 4 // grow ahead of the positions
		b.scratch = make([]attnScratch, b.threads+1)
		b.slots = make(chan int, len(b.scratch))
		for i := range b.scratch {
			b.scratch[i] = attnScratch{f: make([]float32, tileT*(keys+D)), u: make([]uint16, tileT*keys)}
			b.slots <- i
		}
	}
	slots := b.slots
	kc, vt := c.k[layer], c.v[layer]
	ps := pb.I32[:n]
	nblk := (n + tileT - 1) / tileT
	b.pool.parallel(H*nblk, 1, func(lo, hi int) {
		s := <-slots
		for it := lo; it < hi; it++ {
			h, blk := it%H, it/H
			t0 := blk * tileT
			t1 := min(n, t0+tileT)
			attendBlock(ob.U16, qb.U16, ps, t0, t1, h, kc, vt, c.ldv, shape, &b.scratch[s])
		}
		slots <- s
	})
	return nil
}

// attnScratch is one worker's attention scratch: float32 scores and
// outputs, bf16 probabilities.
type attnScratch struct {
	f []float32
	u []uint16
}

// attendBlock computes head h of queries t0..t1 (at most tileT) against the
// cache (SDPA convention, see backend.Backend.Attention). Keys are indexed
// from klo, a multiple of 32 below every query's first key, and the bf16
// probabilities are zero outside each query's own keys, so a query gets the
// same bits alone (decode) or in a block (prefill).
func attendBlock(out, q []uint16, pos []int32, t0, t1, h int, kc, vt []uint16, ldv int, shape backend.AttnShape, scr *attnScratch) {
	H, KV, D := shape.Heads, shape.KVHeads, shape.HeadDim
	g := h / (H / KV)
	nt := t1 - t0
	klo, khi := math.MaxInt, 0
	for t := t0; t < t1; t++ {
		p := int(pos[t])
		klo = min(klo, keyLo(p, shape.Window))
		khi = max(khi, p+1)
	}
	klo &^= 31
	span := khi - klo
	kpad := (span + 31) &^ 31
	scores := scr.f[:nt*span]
	acc := scr.f[nt*span : nt*span+nt*D]
	probs := scr.u[:nt*kpad]
	var sums [tileT]float32
	// scores[tt][k-klo] = K[k]·q[t]: keys as rows, queries as tokens
	gemmF32(scores, span, kc[klo*KV*D+g*D:], KV*D, span, q[(t0*H+h)*D:], H*D, nt, D)
	for tt := 0; tt < nt; tt++ {
		p := int(pos[t0+tt])
		lo := keyLo(p, shape.Window)
		row := scores[tt*span : (tt+1)*span]
		seg := row[lo-klo : p-klo+1]
		mx := float32(math.Inf(-1))
		for i, s := range seg {
			s *= shape.Scale
			seg[i] = s
			mx = max(mx, s)
		}
		for i := range seg {
			seg[i] -= mx
		}
		expF32(seg, seg)
		var sum float32
		for _, e := range seg {
			sum += e
		}
		pr := probs[tt*kpad : (tt+1)*kpad]
		clear(pr)
		for k := lo; k <= p; k++ {
			pr[k-klo] = bf16.FromFloat32(row[k-klo])
		}
		sums[tt] = sum
	}
	// acc[tt][d] = Vᵀ[g*D+d][klo:klo+kpad] · probs[tt]
	gemmF32(acc, D, vt[g*D*ldv+klo:], ldv, D, probs, kpad, nt, kpad)
	for tt := 0; tt < nt; tt++ {
		o := out[((t0+tt)*H+h)*D : ((t0+tt)*H+h+1)*D]
		for d := range o {
			o[d] = bf16.FromFloat32(acc[tt*D+d] / sums[tt])
		}
	}
}

// keyLo is the first key a query at position p sees.
func keyLo(p, window int) int {
	if window > 0 && p-window+1 > 0 {
		return p - window + 1
	}
	return 0
}

// GLU applies the gated activation elementwise, in parallel.
func (b *Backend) GLU(out, gate, up backend.Buffer, n, width int, act backend.Activation) error {
	m := n * width
	o, err := asBuf(out, backend.BF16, m, "GLU out")
	if err != nil {
		return err
	}
	g, err := asBuf(gate, backend.BF16, m, "GLU gate")
	if err != nil {
		return err
	}
	u, err := asBuf(up, backend.BF16, m, "GLU up")
	if err != nil {
		return err
	}
	b.pool.parallel(m, 8192, func(lo, hi int) {
		gluFast(o.U16[lo:hi], g.U16[lo:hi], u.U16[lo:hi], act)
	})
	return nil
}

// gluFast is RefGLU with exp computed 256 values at a time and, for
// GELU-tanh, tanh(u) = (e-1)/(e+1) with e = exp(2u), so that 1 + tanh(u)
// loses precision near tanh = -1 the way PyTorch's float32 kernel does.
func gluFast(out, gate, up []uint16, act backend.Activation) {
	const beta, kappa = float32(0.7978845608028654), float32(0.044715)
	var zb, eb [256]float32
	for off := 0; off < len(gate); off += len(zb) {
		m := min(len(zb), len(gate)-off)
		g := gate[off : off+m]
		for i, h := range g {
			z := f32(h)
			zb[i] = z
			if act == backend.GELUTanh {
				cube := z * z * z
				eb[i] = 2 * (beta * (z + kappa*cube))
			} else {
				eb[i] = -z
			}
		}
		expF32(eb[:m], eb[:m])
		o, u := out[off:off+m], up[off:off+m]
		for i := range o {
			z := zb[i]
			var a float32
			if act == backend.GELUTanh {
				e := eb[i]
				t := (e - 1) / (e + 1)
				a = 0.5 * z * (1 + t)
			} else {
				a = z / (1 + eb[i])
			}
			o[i] = bf16.FromFloat32(rnd(a) * f32(u[i]))
		}
	}
}

// Add is the residual add.
func (b *Backend) Add(out, a, c backend.Buffer, n int) error {
	o, err := asBuf(out, backend.BF16, n, "Add out")
	if err != nil {
		return err
	}
	ab, err := asBuf(a, backend.BF16, n, "Add a")
	if err != nil {
		return err
	}
	cb, err := asBuf(c, backend.BF16, n, "Add b")
	if err != nil {
		return err
	}
	RefAdd(o.U16[:n], ab.U16[:n], cb.U16[:n])
	return nil
}

// Softcap caps values in place.
func (b *Backend) Softcap(x backend.Buffer, n int, cap float32) error {
	xb, err := asBuf(x, backend.BF16, n, "Softcap x")
	if err != nil {
		return err
	}
	if !(cap > 0) {
		return fmt.Errorf("cpu: Softcap: cap %v must be > 0", cap)
	}
	RefSoftcap(xb.U16[:n], cap)
	return nil
}

// Copy copies n elements between buffers of one dtype.
func (b *Backend) Copy(dst backend.Buffer, dstOff int, src backend.Buffer, srcOff int, n int) error {
	d, ok1 := dst.(*Buf)
	s, ok2 := src.(*Buf)
	if !ok1 || !ok2 || d == nil || s == nil || d.dt != s.dt {
		return errors.New("cpu: Copy: need two CPU buffers of the same dtype")
	}
	if dstOff < 0 || srcOff < 0 || n < 0 || dstOff+n > d.Len() || srcOff+n > s.Len() {
		return fmt.Errorf("cpu: Copy: range out of bounds (dst %d+%d of %d, src %d+%d of %d)", dstOff, n, d.Len(), srcOff, n, s.Len())
	}
	switch d.dt {
	case backend.BF16:
		copy(d.U16[dstOff:dstOff+n], s.U16[srcOff:])
	case backend.Int32:
		copy(d.I32[dstOff:dstOff+n], s.I32[srcOff:])
	default:
		copy(d.F32[dstOff:dstOff+n], s.F32[srcOff:])
	}
	return nil
}

// AddInt32 adds delta to the first n elements.
func (b *Backend) AddInt32(buf backend.Buffer, n int, delta int32) error {
	bb, err := asBuf(buf, backend.Int32, n, "AddInt32")
	if err != nil {
		return err
	}
	for i := range bb.I32[:n] {
		bb.I32[i] += delta
	}
	return nil
}

// Close stops the workers. Idempotent.
func (b *Backend) Close() error {
	if b.closed {
		return nil
	}
	b.closed = true
	b.pool.close()
	b.scratch = nil
	return nil
}
