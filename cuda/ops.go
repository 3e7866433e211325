package cuda

import (
	"errors"
	"fmt"
	"unsafe"

	"github.com/genbench/genbench/cuda/cu"
	"github.com/genbench/genbench/gocore/backend"
	"github.com/genbench/genbench/gocore/bf16"
)

// Device-resident objects. Their fields are only touched on the worker.

type buffer struct {
	ptr cu.DevPtr
	n   int
	dt  backend.DType
}

func (x *buffer) Len() int             { return x.n }
func (x *buffer) DType() backend.DType { return x.dt }

type weight struct {
	ptr        cu.DevPtr
	rows, cols int
	parts      []int
}

func (w *weight) Rows() int    { return w.rows }
func (w *weight) Cols() int    { return w.cols }
func (w *weight) Parts() []int { return append([]int(nil), w.parts...) }

type kvCache struct {
	k, v                               cu.DevPtr
	layers, capacity, kvHeads, headDim int
}

func (c *kvCache) Layers() int   { return c.layers }
func (c *kvCache) Capacity() int { return c.capacity }

// layerBytes is the size of one layer's keys (or values).
func (c *kvCache) layerBytes() int64 {
	return int64(c.capacity) * int64(c.kvHeads) * int64(c.headDim) * 2
}

type ropeTable struct {
	cos, sin           cu.DevPtr
	positions, headDim int
}

func (r *ropeTable) Positions() int { return r.positions }
func (r *ropeTable) HeadDim() int   { return r.headDim }

func dtSize(dt backend.DType) int64 {
	if dt == backend.BF16 {
		return 2
	}
	return 4
}

func (x *buffer) bytes() int64 { return int64(x.n) * dtSize(x.dt) }

// asBuf checks that b is one of ours, of dtype dt, with at least n elements.
func asBuf(b backend.Buffer, dt backend.DType, n int, what string) (*buffer, error) {
	x, ok := b.(*buffer)
	if !ok || x == nil {
		return nil, fmt.Errorf("cuda: %s is not a CUDA buffer (%T)", what, b)
	}
	if x.ptr == 0 {
		return nil, fmt.Errorf("cuda: %s was freed", what)
	}
	if x.dt != dt {
		return nil, fmt.Errorf("cuda: %s is %s, want %s", what, x.dt, dt)
	}
	if n < 0 || x.n < n {
		return nil, fmt.Errorf("cuda: %s holds %d values, need %d", what, x.n, n)
	}
	return x, nil
}

func asWeight(w backend.Weight, what string) (*weight, error) {
	x, ok := w.(*weight)
	if !ok || x == nil || x.ptr == 0 {
		return nil, fmt.Errorf("cuda: %s is not a live CUDA weight (%T)", what, w)
	}
	return x, nil
}

// asVector checks a norm weight of dim values.
func asVector(w backend.Weight, dim int, what string) (*weight, error) {
	x, err := asWeight(w, what)
	if err != nil {
		return nil, err
	}
	if x.rows*x.cols != dim {
		return nil, fmt.Errorf("cuda: %s has %d values, want %d", what, x.rows*x.cols, dim)
	}
	return x, nil
}

// upload copies host bytes to dst through the page-locked staging buffer
// (worker thread).
func (b *Backend) upload(dst cu.DevPtr, src []byte) error {
	for off := 0; off < len(src); off += len(b.staging) {
		n := min(len(b.staging), len(src)-off)
		copy(b.staging[:n], src[off:off+n])
		if err := b.drv.MemcpyHtoDAsync(dst+cu.DevPtr(off), b.staging[:n], b.stream); err != nil {
			return err
		}
		// The staging buffer is reused next: wait for this copy.
		if err := b.drv.StreamSynchronize(b.stream); err != nil {
			return err
		}
	}
	return nil
}

// download copies device bytes into dst (worker thread; waits for all work).
func (b *Backend) download(dst []byte, src cu.DevPtr) error {
	if b.capture {
		return errors.New("cuda: cannot read results while capturing a graph")
	}
	if err := b.sync(); err != nil {
		return err
	}
	for off := 0; off < len(dst); off += len(b.staging) {
		n := min(len(b.staging), len(dst)-off)
		if err := b.drv.MemcpyDtoHAsync(b.staging[:n], src+cu.DevPtr(off), b.stream); err != nil {
			return err
		}
		if err := b.drv.StreamSynchronize(b.stream); err != nil {
			return err
		}
		copy(dst[off:off+n], b.staging[:n])
	}
	return nil
}

func u16Bytes(s []uint16) []byte {
	if len(s) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(&s[0])), 2*len(s))
}

func i32Bytes(s []int32) []byte {
	if len(s) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(&s[0])), 4*len(s))
}

// UploadWeight copies one matrix, or several with the same Cols stacked by
// rows into one allocation, to the device.
func (b *Backend) UploadWeight(parts ...backend.Matrix) (backend.Weight, error) {
	if len(parts) == 0 {
		return nil, errors.New("cuda: UploadWeight needs at least one matrix")
	}
	cols := parts[0].Cols
	w := &weight{cols: cols}
	for _, m := range parts {
		if m.Rows <= 0 || m.Cols <= 0 {
			return nil, fmt.Errorf("cuda: weight %s has shape [%d, %d]", m.Name, m.Rows, m.Cols)
		}
		if m.Cols != cols {
			return nil, fmt.Errorf("cuda: weight %s has %d columns, the first part %d", m.Name, m.Cols, cols)
		}
		if len(m.Data) != m.Rows*m.Cols {
			return nil, fmt.Errorf("cuda: weight %s has %d values, want %d×%d", m.Name, len(m.Data), m.Rows, m.Cols)
		}
		w.rows += m.Rows
		w.parts = append(w.parts, m.Rows)
	}
	err := b.do(func() error {
		bytes := int64(w.rows) * int64(cols) * 2
		p, err := b.alloc(bytes, "weight "+parts[0].Name)
		if err != nil {
			return err
		}
		off := cu.DevPtr(0)
		for _, m := range parts {
			if err := b.upload(p+off, u16Bytes(m.Data)); err != nil {
				b.free(p, bytes)
				return fmt.Errorf("cuda: upload %s: %w", m.Name, err)
			}
			off += cu.DevPtr(len(m.Data) * 2)
		}
		w.ptr = p
		return nil
	})
	if err != nil {
		return nil, err
	}
	return w, nil
}

// UploadRope copies a RoPE table to the device.
func (b *Backend) UploadRope(positions, headDim int, cos, sin []uint16) (backend.Rope, error) {
	if positions <= 0 || headDim <= 0 || headDim%2 != 0 {
		return nil, fmt.Errorf("cuda: rope table needs positions > 0 and an even head_dim (got %d, %d)", positions, headDim)
	}
	n := positions * headDim / 2
	if len(cos) != n || len(sin) != n {
		return nil, fmt.Errorf("cuda: rope tables hold %d/%d values, want %d", len(cos), len(sin), n)
	}
	r := &ropeTable{positions: positions, headDim: headDim}
	err := b.do(func() error {
		var err error
		if r.cos, err = b.alloc(int64(n)*2, "rope cos"); err != nil {
			return err
		}
		if r.sin, err = b.alloc(int64(n)*2, "rope sin"); err != nil {
			b.free(r.cos, int64(n)*2)
			return err
		}
		if err := errors.Join(b.upload(r.cos, u16Bytes(cos)), b.upload(r.sin, u16Bytes(sin))); err != nil {
			b.free(r.cos, int64(n)*2)
			b.free(r.sin, int64(n)*2)
			return err
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

// NewKVCache allocates a zero-filled cache, laid out [layer][position][kv
// head][head_dim] for keys and for values.
func (b *Backend) NewKVCache(layers, capacity, kvHeads, headDim int) (backend.KVCache, error) {
	if layers <= 0 || capacity <= 0 || kvHeads <= 0 || headDim <= 0 {
		return nil, fmt.Errorf("cuda: KV cache needs positive sizes (got layers %d, capacity %d, kv heads %d, head_dim %d)", layers, capacity, kvHeads, headDim)
	}
	c := &kvCache{layers: layers, capacity: capacity, kvHeads: kvHeads, headDim: headDim}
	bytes := int64(layers) * c.layerBytes()
	err := b.do(func() error {
		var err error
		if c.k, err = b.alloc(bytes, "KV cache keys"); err != nil {
			return err
		}
		if c.v, err = b.alloc(bytes, "KV cache values"); err != nil {
			b.free(c.k, bytes)
			return err
		}
		if err := errors.Join(b.drv.MemsetD8Async(c.k, 0, bytes, b.stream), b.drv.MemsetD8Async(c.v, 0, bytes, b.stream)); err != nil {
			b.free(c.k, bytes)
			b.free(c.v, bytes)
			c.k, c.v = 0, 0
			return err
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// NewBuffer allocates a zero-filled buffer.
func (b *Backend) NewBuffer(dt backend.DType, n int) (backend.Buffer, error) {
	if n <= 0 {
		return nil, fmt.Errorf("cuda: buffer of %d elements", n)
	}
	if dt != backend.BF16 && dt != backend.Int32 && dt != backend.F32 {
		return nil, fmt.Errorf("cuda: unknown dtype %v", dt)
	}
	x := &buffer{n: n, dt: dt}
	err := b.do(func() error {
		p, err := b.alloc(x.bytes(), fmt.Sprintf("a %s buffer of %d", dt, n))
		if err != nil {
			return err
		}
		if err := b.drv.MemsetD8Async(p, 0, x.bytes(), b.stream); err != nil {
			b.free(p, x.bytes())
			return err
		}
		x.ptr = p
		return nil
	})
	if err != nil {
		return nil, err
	}
	return x, nil
}

// Free releases a Weight, Rope, KVCache or Buffer (nil or freed: no-op).
// It waits for pending work that may still use the memory.
func (b *Backend) Free(obj any) {
	_ = b.do(func() error {
		if b.drv == nil {
			return nil
		}
		if !b.capture {
			_ = b.drv.StreamSynchronize(b.stream)
		}
		switch x := obj.(type) {
		case *buffer:
			if x != nil && x.ptr != 0 {
				b.free(x.ptr, x.bytes())
				x.ptr = 0
			}
		case *weight:
			if x != nil && x.ptr != 0 {
				b.free(x.ptr, int64(x.rows)*int64(x.cols)*2)
				x.ptr = 0
			}
		case *kvCache:
			if x != nil && x.k != 0 {
				bytes := int64(x.layers) * x.layerBytes()
				b.free(x.k, bytes)
				b.free(x.v, bytes)
				x.k, x.v = 0, 0
			}
		case *ropeTable:
			if x != nil && x.cos != 0 {
				n := int64(x.positions) * int64(x.headDim)
				b.free(x.cos, n)
				b.free(x.sin, n)
				x.cos, x.sin = 0, 0
			}
		}
		return nil
	})
}

// smallInt32Write is the most values WriteInt32 enqueues as memsets.
const smallInt32Write = 8

// WriteInt32 copies src into buf[off:]. A few values (a position, a token
// id) are enqueued as 4-byte memsets, in stream order and without waiting,
// so that setting the decode position after a prefill does not make the
// host wait for the prefill; longer writes go through the staging buffer
// and wait for the copy.
func (b *Backend) WriteInt32(buf backend.Buffer, off int, src []int32) error {
	x, err := asBuf(buf, backend.Int32, off+len(src), "WriteInt32 destination")
	if err != nil {
		return err
	}
	if off < 0 {
		return fmt.Errorf("cuda: WriteInt32 offset %d", off)
	}
	return b.do(func() error {
		if b.capture {
			return errors.New("cuda: WriteInt32 inside a graph capture")
		}
		if len(src) <= smallInt32Write {
			for i, v := range src {
				if err := b.drv.MemsetD32Async(x.ptr+cu.DevPtr(4*(off+i)), uint32(v), 1, b.stream); err != nil {
					return err
				}
			}
			return nil
		}
		return b.upload(x.ptr+cu.DevPtr(4*off), i32Bytes(src))
	})
}

// ReadBF16AsF32 copies buf[off:off+len(dst)] into dst after all work.
func (b *Backend) ReadBF16AsF32(dst []float32, buf backend.Buffer, off int) error {
	if off < 0 {
		return fmt.Errorf("cuda: ReadBF16AsF32 offset %d", off)
	}
	x, err := asBuf(buf, backend.BF16, off+len(dst), "ReadBF16AsF32 source")
	if err != nil {
		return err
	}
	tmp := make([]uint16, len(dst))
	if err := b.do(func() error { return b.download(u16Bytes(tmp), x.ptr+cu.DevPtr(2*off)) }); err != nil {
		return err
	}
	bf16.ToFloat32Slice(dst, tmp)
	return nil
}

// ReadKV copies one layer of a KV cache to the host (backend.KVReader).
func (b *Backend) ReadKV(c backend.KVCache, layer int) (k, v []uint16, err error) {
	kc, ok := c.(*kvCache)
	if !ok || kc.k == 0 || layer < 0 || layer >= kc.layers {
		return nil, nil, fmt.Errorf("cuda: ReadKV: bad cache or layer %d", layer)
	}
	n := int(kc.layerBytes() / 2)
	k, v = make([]uint16, n), make([]uint16, n)
	off := int64(layer) * kc.layerBytes()
	err = b.do(func() error {
		return errors.Join(b.download(u16Bytes(k), kc.k+devOff(off)), b.download(u16Bytes(v), kc.v+devOff(off)))
	})
	return k, v, err
}

// WriteKV fills one layer of a KV cache from the host: k and v hold the
// whole layer (capacity × KV heads × head dim each), as ReadKV returns it.
// The selftest and tools use it to attend over chosen keys and values.
func (b *Backend) WriteKV(c backend.KVCache, layer int, k, v []uint16) error {
	kc, ok := c.(*kvCache)
	if !ok || kc.k == 0 || layer < 0 || layer >= kc.layers {
		return fmt.Errorf("cuda: WriteKV: bad cache or layer %d", layer)
	}
	if n := kc.layerBytes() / 2; int64(len(k)) != n || len(v) != len(k) {
		return fmt.Errorf("cuda: WriteKV: %d keys and %d values, expected %d each (one whole layer)", len(k), len(v), n)
	}
	off := int64(layer) * kc.layerBytes()
	return b.do(func() error {
		return errors.Join(b.upload(kc.k+devOff(off), u16Bytes(k)), b.upload(kc.v+devOff(off), u16Bytes(v)))
	})
}

// ReadBF16 copies raw bf16 values (selftest and tools).
func (b *Backend) ReadBF16(dst []uint16, buf backend.Buffer, off int) error {
	if off < 0 {
		return fmt.Errorf("cuda: ReadBF16 offset %d", off)
	}
	x, err := asBuf(buf, backend.BF16, off+len(dst), "ReadBF16 source")
	if err != nil {
		return err
	}
	return b.do(func() error { return b.download(u16Bytes(dst), x.ptr+cu.DevPtr(2*off)) })
}

// WriteBF16 copies raw bf16 values into buf[off:] (selftest and tools).
func (b *Backend) WriteBF16(buf backend.Buffer, off int, src []uint16) error {
	if off < 0 {
		return fmt.Errorf("cuda: WriteBF16 offset %d", off)
	}
	x, err := asBuf(buf, backend.BF16, off+len(src), "WriteBF16 destination")
	if err != nil {
		return err
	}
	return b.do(func() error {
		if b.capture {
			return errors.New("cuda: WriteBF16 inside a graph capture")
		}
		return b.upload(x.ptr+cu.DevPtr(2*off), u16Bytes(src))
	})
}

// ReadInt32 copies buf[off:off+len(dst)] into dst after all work.
func (b *Backend) ReadInt32(dst []int32, buf backend.Buffer, off int) error {
	if off < 0 {
		return fmt.Errorf("cuda: ReadInt32 offset %d", off)
	}
	x, err := asBuf(buf, backend.Int32, off+len(dst), "ReadInt32 source")
	if err != nil {
		return err
	}
	return b.do(func() error { return b.download(i32Bytes(dst), x.ptr+cu.DevPtr(4*off)) })
}

// launch enqueues a kernel (worker thread).
func (b *Backend) launch(name string, f cu.Function, grid, block cu.Dim3, shared uint32, p *cu.Params) error {
	if b.drv == nil {
		return errClosed
	}
	if shared > 0 {
		if err := b.ensureShared(name, f, int(shared)); err != nil {
			return err
		}
	}
	if b.pdl {
		return b.drv.LaunchKernelEx(name, f, grid, block, shared, b.stream, p)
	}
	return b.drv.LaunchKernel(name, f, grid, block, shared, b.stream, p)
}

// Embed gathers (and scales) embedding rows.
func (b *Backend) Embed(out, ids backend.Buffer, n int, table backend.Weight, scale float32) error {
	t, err := asWeight(table, "embedding table")
	if err != nil {
		return err
	}
	if len(t.parts) != 1 {
		return errors.New("cuda: embedding table must be a single-part weight")
	}
	o, err := asBuf(out, backend.BF16, n*t.cols, "Embed output")
	if err != nil {
		return err
	}
	id, err := asBuf(ids, backend.Int32, n, "Embed ids")
	if err != nil {
		return err
	}
	if n <= 0 {
		return fmt.Errorf("cuda: Embed of %d tokens", n)
	}
	return b.do(func() error {
		g, bl := elemGrid(n * t.cols)
		var p cu.Params
		p.Ptr(o.ptr).Ptr(id.ptr).I32(n).Ptr(t.ptr).I32(t.rows).I32(t.cols).F32(scale).Ptr(b.errWord)
		return b.launch("embed", b.k.embed, g, bl, 0, &p)
	})
}

// RMSNorm normalises n rows of width dim.
func (b *Backend) RMSNorm(out, x backend.Buffer, n, dim int, w backend.Weight, eps float32, style backend.NormStyle) error {
	if n <= 0 || dim <= 0 {
		return fmt.Errorf("cuda: RMSNorm of %d rows of %d", n, dim)
	}
	o, err := asBuf(out, backend.BF16, n*dim, "RMSNorm output")
	if err != nil {
		return err
	}
	xi, err := asBuf(x, backend.BF16, n*dim, "RMSNorm input")
	if err != nil {
		return err
	}
	wv, err := asVector(w, dim, "RMSNorm weight")
	if err != nil {
		return err
	}
	gemma := 0
	if style == backend.GemmaNorm {
		gemma = 1
	}
	return b.doFusable(func() error {
		np := normPlan{out: o.ptr, x: xi.ptr, w: wv.ptr, dim: dim, eps: eps, gemma: gemma}
		if !b.noFuse && b.pend2.kind == pendNone && b.pend.pairsQKNorm(np, n) {
			b.pend2 = pending{kind: pendNorm, normOut: np.out, normX: np.x, normW: np.w, rows: n, dim: dim, eps: eps, gemma: gemma}
			return nil
		}
		if err := b.flush(); err != nil {
			return err
		}
		if !b.noFuse && canDeferNorm(n, np) {
			b.pend = pending{kind: pendNorm, normOut: np.out, normX: np.x, normW: np.w, rows: n, dim: dim, eps: eps, gemma: gemma}
			return nil
		}
		return b.launchNorm(o.ptr, xi.ptr, n, dim, wv.ptr, eps, gemma)
	})
}

// matmulPlan checks the operands of Matmul and returns the part outputs
// and boundaries (b1, b2) the kernels take.
func matmulPlan(outs []backend.Buffer, x backend.Buffer, n int, w *weight) (xo *buffer, out [3]cu.DevPtr, b1, b2 int, err error) {
	if n <= 0 {
		return nil, out, 0, 0, fmt.Errorf("cuda: Matmul of %d tokens", n)
	}
	if len(outs) != len(w.parts) {
		return nil, out, 0, 0, fmt.Errorf("cuda: Matmul with %d outputs for a weight of %d parts", len(outs), len(w.parts))
	}
	if len(w.parts) > 3 {
		return nil, out, 0, 0, fmt.Errorf("cuda: Matmul supports up to 3 fused parts, got %d", len(w.parts))
	}
	xo, err = asBuf(x, backend.BF16, n*w.cols, "Matmul input")
	if err != nil {
		return nil, out, 0, 0, err
	}
	for i, ob := range outs {
		o, err := asBuf(ob, backend.BF16, n*w.parts[i], fmt.Sprintf("Matmul output %d", i))
		if err != nil {
			return nil, out, 0, 0, err
		}
		if o.ptr == xo.ptr {
			return nil, out, 0, 0, errors.New("cuda: Matmul output aliases its input")
		}
		out[i] = o.ptr
	}
	b1, b2 = w.rows, w.rows
	if len(w.parts) >= 2 {
		b1 = w.parts[0]
	}
	if len(w.parts) == 3 {
		b2 = w.parts[0] + w.parts[1]
	}
	return xo, out, b1, b2, nil
}

// Matmul computes y = x·Wᵀ for n tokens: a bandwidth-bound GEMV for one
// token (deferred, so that it can absorb a preceding one-row RMSNorm and a
// following residual Add or GLU, see fuse.go), tensor-core GEMM otherwise.
func (b *Backend) Matmul(outs []backend.Buffer, x backend.Buffer, n int, w backend.Weight) error {
	wt, err := asWeight(w, "Matmul weight")
	if err != nil {
		return err
	}
	xo, out, b1, b2, err := matmulPlan(outs, x, n, wt)
	if err != nil {
		return err
	}
	return b.doFusable(func() error {
		if n == 1 && !b.noFuse {
			p := pending{kind: pendGemv, w: wt, x: xo.ptr, outs: out, b1: b1, b2: b2}
			if b.pend2.kind == pendNone && b.pend.absorbNorm(xo.ptr, wt.cols) {
				p.normOut, p.normX, p.normW = b.pend.normOut, b.pend.normX, b.pend.normW
				p.dim, p.eps, p.gemma = b.pend.dim, b.pend.eps, b.pend.gemma
			} else if err := b.flush(); err != nil {
				return err
			}
			b.pend = p
			return nil
		}
		if err := b.flush(); err != nil {
			return err
		}
		var p cu.Params
		if n == 1 {
			pl := pending{w: wt, x: xo.ptr, outs: out, b1: b1, b2: b2}
			return b.launchGemv(&pl, 0, 0, -1, 0)
		}
		g, bl := gemmGrid(n, wt.rows)
		p.Ptr(xo.ptr).Ptr(wt.ptr).I32(n).I32(wt.rows).I32(wt.cols).Ptr(out[0]).Ptr(out[1]).Ptr(out[2]).I32(b1).I32(b2)
		return b.launch("gemm", b.k.gemm, g, bl, 0, &p)
	})
}

func checkShape(s backend.AttnShape) error {
	if s.Heads <= 0 || s.KVHeads <= 0 || s.HeadDim <= 0 || s.Heads%s.KVHeads != 0 {
		return fmt.Errorf("cuda: attention shape %d heads / %d kv heads / head_dim %d is invalid", s.Heads, s.KVHeads, s.HeadDim)
	}
	if s.HeadDim%2 != 0 || s.HeadDim > attnMaxHeadDim {
		return fmt.Errorf("cuda: head_dim %d must be even and at most %d", s.HeadDim, attnMaxHeadDim)
	}
	if s.Window < 0 {
		return fmt.Errorf("cuda: sliding window %d", s.Window)
	}
	return nil
}

func asCache(c backend.KVCache, layer int, s backend.AttnShape) (*kvCache, error) {
	kc, ok := c.(*kvCache)
	if !ok || kc == nil || kc.k == 0 {
		return nil, fmt.Errorf("cuda: not a live CUDA KV cache (%T)", c)
	}
	if layer < 0 || layer >= kc.layers {
		return nil, fmt.Errorf("cuda: layer %d outside the cache's %d layers", layer, kc.layers)
	}
	if kc.kvHeads != s.KVHeads || kc.headDim != s.HeadDim {
		return nil, fmt.Errorf("cuda: cache holds %d kv heads of %d, the layer has %d of %d", kc.kvHeads, kc.headDim, s.KVHeads, s.HeadDim)
	}
	return kc, nil
}

// RopeKV rotates q and k and writes k and v into the cache at pos.
func (b *Backend) RopeKV(q, k, v backend.Buffer, n int, pos backend.Buffer, rope backend.Rope, cache backend.KVCache, layer int, shape backend.AttnShape) error {
	if err := checkShape(shape); err != nil {
		return err
	}
	if n <= 0 {
		return fmt.Errorf("cuda: RopeKV of %d tokens", n)
	}
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
	pb, err := asBuf(pos, backend.Int32, n, "RopeKV positions")
	if err != nil {
		return err
	}
	rt, ok := rope.(*ropeTable)
	if !ok || rt == nil || rt.cos == 0 {
		return fmt.Errorf("cuda: not a live CUDA rope table (%T)", rope)
	}
	if rt.headDim != D {
		return fmt.Errorf("cuda: rope table for head_dim %d used with %d", rt.headDim, D)
	}
	kc, err := asCache(cache, layer, shape)
	if err != nil {
		return err
	}
	return b.doFusable(func() error {
		// The per-head q and k norms just before (Qwen3, Gemma 3) run
		// inside the RoPE kernel.
		var qn, kn pending
		if fusesQKNorm(&b.pend, &b.pend2, qb.ptr, kb.ptr, n, H, KV, D) {
			qn, kn = b.pend, b.pend2
			b.pend, b.pend2 = pending{}, pending{}
		} else if err := b.flush(); err != nil {
			return err
		}
		off := cu.DevPtr(int64(layer) * kc.layerBytes())
		var p cu.Params
		p.Ptr(qb.ptr).Ptr(kb.ptr).Ptr(vb.ptr).I32(n).Ptr(pb.ptr).Ptr(rt.cos).Ptr(rt.sin).I32(rt.positions).
			Ptr(kc.k + off).Ptr(kc.v + off).I32(kc.capacity).I32(H).I32(KV).I32(D).Ptr(b.errWord).
			Ptr(qn.normW).Ptr(kn.normW).F32(qn.eps).I32(qn.gemma)
		return b.launch("rope_kv", b.k.ropeKV, cu.Dim3{X: uint32(n), Y: 1, Z: 1}, cu.Dim3{X: ropeThreads, Y: 1, Z: 1}, 0, &p)
	})
}

// Attention attends n queries over the cache (causal, optional window).
func (b *Backend) Attention(out, q backend.Buffer, n int, pos backend.Buffer, cache backend.KVCache, layer int, shape backend.AttnShape) error {
	if err := checkShape(shape); err != nil {
		return err
	}
	if n <= 0 || n > 65535 {
		return fmt.Errorf("cuda: Attention of %d queries (1..65535 per call)", n)
	}
	H, D := shape.Heads, shape.HeadDim
	ob, err := asBuf(out, backend.BF16, n*H*D, "Attention output")
	if err != nil {
		return err
	}
	qb, err := asBuf(q, backend.BF16, n*H*D, "Attention q")
	if err != nil {
		return err
	}
	if ob.ptr == qb.ptr {
		return errors.New("cuda: Attention output aliases q")
	}
	pb, err := asBuf(pos, backend.Int32, n, "Attention positions")
	if err != nil {
		return err
	}
	kc, err := asCache(cache, layer, shape)
	if err != nil {
		return err
	}
	return b.do(func() error {
		off := cu.DevPtr(int64(layer) * kc.layerBytes())
		if chunk, splits, ok := attnSplit(kc.capacity, H, b.sms); ok {
			// Grown in prefill (outside the decode step's capture) too.
			need := attnWorkspaceBytes(H, kc.capacity, D, splits)
			if need > b.attnWSN && !b.capture {
				b.growAttnWorkspace(need)
			}
			if n == 1 && need <= b.attnWSN {
				return b.launchSplitAttention(ob.ptr, qb.ptr, pb.ptr, kc, off, shape, chunk, splits)
			}
		}
		stored := attnStored(kc.capacity, b.maxDynamicShared(b.k.attention))
		var p cu.Params
		p.Ptr(ob.ptr).Ptr(qb.ptr).I32(n).Ptr(pb.ptr).Ptr(kc.k + off).Ptr(kc.v + off).I32(kc.capacity).
			I32(H).I32(shape.KVHeads).I32(D).I32(shape.Window).F32(shape.Scale).I32(stored).Ptr(b.errWord)
		return b.launch("attention", b.k.attention, cu.Dim3{X: uint32(H), Y: uint32(n), Z: 1},
			cu.Dim3{X: attnThreads, Y: 1, Z: 1}, uint32(stored*4), &p)
	})
}

// growAttnWorkspace replaces the split attention's workspace by one of
// need bytes (worker thread, outside captures). Without memory the split
// path is simply not used.
func (b *Backend) growAttnWorkspace(need int64) {
	if err := b.drv.StreamSynchronize(b.stream); err != nil {
		return
	}
	if b.attnWS != 0 {
		b.free(b.attnWS, b.attnWSN)
		b.attnWS, b.attnWSN = 0, 0
	}
	if p, err := b.alloc(need, "attention workspace"); err == nil {
		// The completion counters must start at zero (each head's last
		// block puts its counter back to zero).
		if err := b.drv.MemsetD8Async(p, 0, need, b.stream); err != nil {
			b.free(p, need)
			return
		}
		b.attnWS, b.attnWSN = p, need
	}
}

// launchSplitAttention runs one decode query as chunks of keys (two
// kernels, see kernels/attention.cu).
func (b *Backend) launchSplitAttention(out, q, pos cu.DevPtr, kc *kvCache, off cu.DevPtr, s backend.AttnShape, chunk, splits int) error {
	H, D := s.Heads, s.HeadDim
	done := b.attnWS
	scores := done + 4*attnDoneSlots
	part := scores + cu.DevPtr(4*int64(H)*int64(kc.capacity))
	opart := part + cu.DevPtr(8*int64(H)*int64(splits))
	grid := cu.Dim3{X: uint32(H), Y: uint32(splits), Z: 1}
	block := cu.Dim3{X: attnThreads, Y: 1, Z: 1}
	var p cu.Params
	p.Ptr(q).Ptr(pos).Ptr(kc.k + off).I32(kc.capacity).I32(H).I32(s.KVHeads).I32(D).I32(s.Window).F32(s.Scale).
		I32(chunk).Ptr(scores).Ptr(part).Ptr(b.errWord)
	if err := b.launch("attn_split_scores", b.k.attnSplitScores, grid, block, 0, &p); err != nil {
		return err
	}
	p.Reset().Ptr(pos).Ptr(kc.v + off).I32(kc.capacity).I32(H).I32(s.KVHeads).I32(D).I32(s.Window).I32(chunk).
		Ptr(scores).Ptr(part).Ptr(opart).Ptr(out).Ptr(done)
	return b.launch("attn_split_pv", b.k.attnSplitPV, grid, block, 0, &p)
}

// GLU computes rnd(rnd(act(gate)) × up).
func (b *Backend) GLU(out, gate, up backend.Buffer, n, width int, act backend.Activation) error {
	total := n * width
	if n <= 0 || width <= 0 {
		return fmt.Errorf("cuda: GLU of %d×%d", n, width)
	}
	ob, err := asBuf(out, backend.BF16, total, "GLU output")
	if err != nil {
		return err
	}
	gb, err := asBuf(gate, backend.BF16, total, "GLU gate")
	if err != nil {
		return err
	}
	ub, err := asBuf(up, backend.BF16, total, "GLU up")
	if err != nil {
		return err
	}
	a := 0
	switch act {
	case backend.SiLU:
	case backend.GELUTanh:
		a = 1
	default:
		return fmt.Errorf("cuda: unknown activation %d", act)
	}
	return b.doFusable(func() error {
		if b.pend2.kind == pendNone && b.pend.fusesGLU(ob.ptr, gb.ptr, ub.ptr, n, width) {
			p := b.pend
			b.pend = pending{}
			return b.launchGemv(&p, 0, 0, a, ob.ptr)
		}
		if err := b.flush(); err != nil {
			return err
		}
		g, bl := elemGrid(total)
		var p cu.Params
		p.Ptr(ob.ptr).Ptr(gb.ptr).Ptr(ub.ptr).U64(uint64(total)).I32(a)
		return b.launch("glu", b.k.glu, g, bl, 0, &p)
	})
}

// Add computes out = rnd(a + c).
func (b *Backend) Add(out, a, c backend.Buffer, n int) error {
	if n <= 0 {
		return fmt.Errorf("cuda: Add of %d values", n)
	}
	ob, err := asBuf(out, backend.BF16, n, "Add output")
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
	return b.doFusable(func() error {
		if b.pend2.kind != pendNone {
			if err := b.flush(); err != nil {
				return err
			}
		}
		if resid, ok := b.pend.fusesNormAdd(ab.ptr, cb.ptr, n); ok {
			p := b.pend
			b.pend = pending{}
			return b.launchNormAdd(&p, ob.ptr, resid)
		}
		if b.pend.fusesAdd(ob.ptr, ab.ptr, cb.ptr, n) {
			p := b.pend
			b.pend = pending{}
			return b.launchGemv(&p, ab.ptr, ob.ptr, -1, 0)
		}
		if b.pend.fusesAdd(ob.ptr, cb.ptr, ab.ptr, n) { // the add commutes
			p := b.pend
			b.pend = pending{}
			return b.launchGemv(&p, cb.ptr, ob.ptr, -1, 0)
		}
		if err := b.flush(); err != nil {
			return err
		}
		g, bl := elemGrid(n)
		var p cu.Params
		p.Ptr(ob.ptr).Ptr(ab.ptr).Ptr(cb.ptr).U64(uint64(n))
		return b.launch("add", b.k.add, g, bl, 0, &p)
	})
}

// Softcap computes x = rnd(tanh(x/cap)·cap) in place.
func (b *Backend) Softcap(x backend.Buffer, n int, c float32) error {
	if n <= 0 || !(c > 0) {
		return fmt.Errorf("cuda: Softcap of %d values with cap %g", n, c)
	}
	xb, err := asBuf(x, backend.BF16, n, "Softcap buffer")
	if err != nil {
		return err
	}
	return b.do(func() error {
		g, bl := elemGrid(n)
		var p cu.Params
		p.Ptr(xb.ptr).U64(uint64(n)).F32(c)
		return b.launch("softcap", b.k.softcap, g, bl, 0, &p)
	})
}

// Copy copies n elements between buffers of the same dtype.
func (b *Backend) Copy(dst backend.Buffer, dstOff int, src backend.Buffer, srcOff int, n int) error {
	if n <= 0 || dstOff < 0 || srcOff < 0 {
		return fmt.Errorf("cuda: Copy of %d values at offsets %d, %d", n, dstOff, srcOff)
	}
	s, ok := src.(*buffer)
	if !ok || s == nil {
		return fmt.Errorf("cuda: Copy source is not a CUDA buffer (%T)", src)
	}
	sb, err := asBuf(src, s.dt, srcOff+n, "Copy source")
	if err != nil {
		return err
	}
	db, err := asBuf(dst, s.dt, dstOff+n, "Copy destination")
	if err != nil {
		return err
	}
	sz := dtSize(s.dt)
	return b.do(func() error {
		return b.drv.MemcpyDtoDAsync(db.ptr+cu.DevPtr(int64(dstOff)*sz), sb.ptr+cu.DevPtr(int64(srcOff)*sz), int64(n)*sz, b.stream)
	})
}

// AddInt32 adds delta to buf[0:n] on the device.
func (b *Backend) AddInt32(buf backend.Buffer, n int, delta int32) error {
	if n <= 0 {
		return fmt.Errorf("cuda: AddInt32 of %d values", n)
	}
	x, err := asBuf(buf, backend.Int32, n, "AddInt32 buffer")
	if err != nil {
		return err
	}
	return b.do(func() error {
		g, bl := elemGrid(n)
		var p cu.Params
		p.Ptr(x.ptr).I32(n).I32(int(delta))
		return b.launch("add_i32", b.k.addI32, g, bl, 0, &p)
	})
}

var (
	_ backend.Backend        = (*Backend)(nil)
	_ backend.Capturer       = (*Backend)(nil)
	_ backend.DeviceSampler  = (*Backend)(nil)
	_ backend.MemoryReporter = (*Backend)(nil)
)
