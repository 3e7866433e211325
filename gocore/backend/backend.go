// Package backend defines the operations the decoder is written over. A
// backend (the CPU backend in gocore/cpu, the CUDA backend in cuda/) owns
// device memory and implements each op with exactly the numerics documented
// here, which follow Hugging Face transformers running a bfloat16 model with
// SDPA attention (see MODELS.md §2 and §5).
//
// # Conventions
//
//   - "rnd" means round to bfloat16, round-to-nearest-even (bf16.FromFloat32).
//     Every op computes in float32 and rounds exactly where its doc says so.
//   - Activations are bf16 buffers laid out row-major: a buffer of T rows of
//     width N holds row t at elements [t*N, (t+1)*N).
//   - Weight matrices are bf16 [rows=out, cols=in], y = x·Wᵀ, as in a
//     Hugging Face checkpoint. Vectors (norm weights) are matrices with one row.
//   - Token ids and positions are int32 buffers in backend memory. Ops read
//     them on the device, so a backend can capture a single-token decode step
//     once (e.g. into a CUDA graph) and replay it with new ids/positions
//     written into the same buffers. Attention lengths are derived from the
//     positions on the device (keys 0..pos inclusive), never passed as Go ints.
//   - Ops are enqueued in order; a backend may run them asynchronously. Only
//     Read* calls and Sync block and return results or deferred errors.
//     Invalid arguments (mismatched sizes, wrong dtypes) are programming
//     errors of the caller: a backend reports them from the op or the next
//     Sync/Read as an error, and must not panic.
//   - Backends may fuse ops (e.g. several projections sharing an input) but
//     must never change the semantics documented here.
//   - A Backend is used from one goroutine at a time.
package backend

import (
	"github.com/genbench/genbench/gocore/sampling"
)

// DType is the element type of a Buffer.
type DType int

// Buffer element types.
const (
	BF16  DType = iota // bfloat16 bits in uint16
	Int32              // token ids, positions
	F32                // float32 (scratch, host-visible results)
)

func (d DType) String() string {
	switch d {
	case BF16:
		return "bf16"
	case Int32:
		return "int32"
	case F32:
		return "f32"
	}
	return "unknown"
}

// Buffer is a backend-resident array of Len elements of DType. It is
// created by Backend.NewBuffer and released by Backend.Free.
type Buffer interface {
	Len() int
	DType() DType
}

// Matrix is host-side bf16 data for one weight matrix [Rows, Cols]
// (row-major, row = output feature). Data must hold Rows*Cols values; it may
// point into a memory-mapped file. A host backend may keep referencing it
// until the Weight is freed; a device backend must have copied it when
// UploadWeight returns (the engine then releases the host copy).
type Matrix struct {
	Name       string
	Rows, Cols int
	Data       []uint16
}

// Weight is a backend-resident weight: one matrix, or several matrices with
// the same Cols stacked by rows (a fused projection, see UploadWeight). It is
// read-only after upload.
type Weight interface {
	// Rows is the total number of output rows (sum over parts).
	Rows() int
	// Cols is the input width.
	Cols() int
	// Parts is the row count of each stacked part, in upload order.
	Parts() []int
}

// KVCache is a backend-resident key/value cache for Layers layers, each
// holding up to Capacity positions of KVHeads×HeadDim bf16 keys (after
// k-norm and RoPE) and values (raw). The layout is the backend's choice.
type KVCache interface {
	Layers() int
	Capacity() int
}

// Rope is a backend-resident RoPE table for positions 0..Positions-1 and a
// head dimension HeadDim: for each position p and pair index j < HeadDim/2,
// cos[p][j] = rnd(cos(a)) and sin[p][j] = rnd(sin(a)) where
// a = float32(p) * invFreq[j] computed in float32 (MODELS.md §2.3). The
// tables are computed on the host by the decoder (one source of truth) and
// uploaded with UploadRope.
type Rope interface {
	Positions() int
	HeadDim() int
}

// AttnShape is the geometry of one attention layer.
type AttnShape struct {
	Heads   int // query heads H
	KVHeads int // key/value heads; query head h uses kv head h / (Heads/KVHeads)
	HeadDim int // D
	// Window > 0 restricts a query at position q to keys k with
	// q-Window < k <= q (sliding attention, Window keys including the
	// current one); 0 is full causal attention (k <= q).
	Window int
	// Scale multiplies the q·k scores (in float32).
	Scale float32
}

// Activation selects the GLU activation.
type Activation int

// GLU activations.
const (
	SiLU     Activation = iota // z·σ(z)  (SwiGLU: Llama, Qwen3)
	GELUTanh                   // 0.5·z·(1+tanh(√(2/π)·(z+0.044715·z³)))  (GeGLU: Gemma 3)
)

// NormStyle selects the RMSNorm output rounding.
type NormStyle int

// RMSNorm styles (MODELS.md §2.2).
const (
	// LlamaNorm: y = rnd( w × rnd(n) ) — Llama and Qwen3.
	LlamaNorm NormStyle = iota
	// GemmaNorm: y = rnd( n × (1 + w) ) with one rounding — Gemma 3.
	GemmaNorm
)

// Info describes a backend instance.
type Info struct {
	Kind              string `json:"kind"` // "cpu" or "cuda"
	Index             int    `json:"index"`
	Name              string `json:"name"` // CPU model or GPU name
	ComputeCapability string `json:"compute_capability,omitempty"`
	MemoryBytes       int64  `json:"memory_bytes"`
	DriverVersion     string `json:"driver_version,omitempty"`
	CUDAVersion       string `json:"cuda_version,omitempty"`
	Cores             int    `json:"cores,omitempty"`   // logical CPU cores
	Threads           int    `json:"threads,omitempty"` // worker threads used
}

// Backend is the set of operations the decoder needs. See the package doc
// for the conventions (rounding, layouts, device-side ids and positions).
type Backend interface {
	// Info describes the device.
	Info() Info

	// UploadWeight makes a weight resident on the device. With several
	// parts (all of the same Cols) the result is the row-wise stack of the
	// parts, in order, and Matmul can write each part's outputs to its own
	// buffer; a backend may keep the parts separate or copy them into one
	// fused matrix, with identical results. Matrices of one row are vectors
	// (norm weights).
	UploadWeight(parts ...Matrix) (Weight, error)
	// UploadRope makes a RoPE table resident. cos and sin hold
	// positions*headDim/2 bf16 values each, row p at [p*headDim/2, (p+1)*headDim/2).
	UploadRope(positions, headDim int, cos, sin []uint16) (Rope, error)
	// NewKVCache allocates a zero-filled KV cache.
	NewKVCache(layers, capacity, kvHeads, headDim int) (KVCache, error)
	// NewBuffer allocates a zero-filled buffer of n elements.
	NewBuffer(dt DType, n int) (Buffer, error)
	// Free releases a Weight, Rope, KVCache or Buffer. Freeing nil or an
	// already freed object is a no-op.
	Free(obj any)

	// WriteInt32 copies src into buf[off:off+len(src)] (host to device).
	WriteInt32(buf Buffer, off int, src []int32) error
	// ReadBF16AsF32 copies buf[off:off+len(dst)] (a BF16 buffer) into dst,
	// widening exactly, after all enqueued work is done.
	ReadBF16AsF32(dst []float32, buf Buffer, off int) error
	// ReadInt32 copies buf[off:off+len(dst)] into dst after all enqueued
	// work is done.
	ReadInt32(dst []int32, buf Buffer, off int) error
	// Sync waits for all enqueued work and returns the first deferred error.
	Sync() error

	// Embed gathers rows: for t < n, out[t] = rnd(float32(table[ids[t]]) × scale)
	// (a plain copy when scale == 1). table is a single-part Weight
	// [vocab, hidden]; ids out of range are an error.
	Embed(out Buffer, ids Buffer, n int, table Weight, scale float32) error

	// RMSNorm normalises n rows of width dim: with x32 = float32(x[r]),
	// inv = 1/sqrt(mean(x32²) + eps) in float32, nr = x32 × inv, the output is
	//   LlamaNorm: out[r][i] = rnd( float32(w[i]) × rnd(nr[i]) )
	//   GemmaNorm: out[r][i] = rnd( nr[i] × (1 + float32(w[i])) )
	// w is a vector of dim values. out may equal x (in place). It serves
	// the per-head q/k norm too: n = T×heads rows of width headDim.
	RMSNorm(out, x Buffer, n, dim int, w Weight, eps float32, style NormStyle) error

	// Matmul computes, for t < n and each output row r of w,
	// y[t][r] = rnd( Σ_c float32(x[t][c]) × float32(W[r][c]) ) with float32
	// accumulation (summation order unspecified). outs has one buffer per
	// part of w: part i's rows go to outs[i] with row width Parts()[i]. x has
	// n rows of width w.Cols(). Outputs must not alias x.
	Matmul(outs []Buffer, x Buffer, n int, w Weight) error

	// RopeKV applies RoPE to n tokens at positions pos[0..n-1] and writes
	// the cache: q is [n, Heads, D] and is rotated in place; k [n, KVHeads, D]
	// is rotated (k itself may be left rotated or not) and stored with v
	// [n, KVHeads, D] at layer `layer`, position pos[t] of cache. Rotation
	// uses the rotate_half convention with c = cos[pos][j], s = sin[pos][j]
	// (bf16 values, j < D/2) for each head vector x:
	//   out[j]     = rnd( rnd(x[j]×c)     + rnd(−x[j+D/2]×s) )
	//   out[j+D/2] = rnd( rnd(x[j+D/2]×c) + rnd(x[j]×s) )
	// Positions must be < cache.Capacity() and < rope.Positions().
	RopeKV(q, k, v Buffer, n int, pos Buffer, rope Rope, cache KVCache, layer int, shape AttnShape) error

	// Attention computes, for each of n queries (query t at position
	// pos[t], q [n, Heads, D] already rotated) and each head h with kv head
	// g = h / (Heads/KVHeads), over the cached keys k allowed by the mask
	// (k <= pos[t], and k > pos[t]-Window when Window > 0):
	//   s_k = (Σ_d float32(q[d]) × float32(K[k][d])) × Scale       (float32, not rounded)
	//   e_k = exp(s_k − max_k s_k), l = Σ_k e_k                    (float32)
	//   out[t][h][d] = rnd( (Σ_k rnd(e_k) × float32(V[k][d])) / l ) (float32 accumulation)
	// This is the SDPA (flash) convention of MODELS.md §2.3: scores and
	// softmax in float32, the unnormalised probabilities rounded to bf16
	// for the P·V product, the output normalised and rounded once (a
	// kernel working in key blocks may rescale per block, as flash
	// attention does). out is [n, Heads·D].
	// The cache must already hold every key the queries see (RopeKV of the
	// same tokens precedes it).
	Attention(out, q Buffer, n int, pos Buffer, cache KVCache, layer int, shape AttnShape) error

	// GLU computes, for i < n×width with g = gate, u = up:
	//   out[i] = rnd( rnd(act(float32(g[i]))) × float32(u[i]) )
	// with act in float32 as PyTorch writes it (MODELS.md §2.4):
	//   SiLU:      z / (1 + exp(−z))
	//   GELUTanh:  0.5·z·(1 + tanh(β·(z + κ·z³))), β = √(2/π), κ = 0.044715
	// (1 + tanh loses bits near tanh = −1 in float32, in PyTorch too, so
	// compare such tiny values with an absolute tolerance). out may alias gate.
	GLU(out, gate, up Buffer, n, width int, act Activation) error

	// Add computes out[i] = rnd(float32(a[i]) + float32(b[i])) for i < n.
	// out may alias a or b.
	Add(out, a, b Buffer, n int) error

	// Softcap computes x[i] = rnd(tanh(float32(x[i]) / cap) × cap) in place
	// for i < n (final-logit softcapping; unused by the dev models).
	Softcap(x Buffer, n int, cap float32) error

	// Copy copies n elements from src[srcOff:] to dst[dstOff:] (same dtype).
	Copy(dst Buffer, dstOff int, src Buffer, srcOff int, n int) error

	// AddInt32 adds delta to buf[i] for i < n (advances the position
	// buffer at the end of a decode step, on the device).
	AddInt32(buf Buffer, n int, delta int32) error

	// Close releases everything the backend holds. Idempotent.
	Close() error
}

// Step is a recorded sequence of ops that can be replayed.
type Step interface {
	// Replay enqueues the recorded ops again. Values in the buffers they
	// read (ids, positions) are taken at replay time.
	Replay() error
	// Free releases the recording.
	Free()
}

// KVReader is an optional capability for tests: ReadKV copies one layer
// of a KV cache to the host as keys and values of [Capacity,
// KVHeads·HeadDim] each (position-major), whatever the backend's own
// layout, after all enqueued work is done.
type KVReader interface {
	ReadKV(c KVCache, layer int) (k, v []uint16, err error)
}

// Capturer is an optional Backend capability: record the ops enqueued by
// fn (which must not read results back to the host) once, without running
// them, and replay them later, e.g. as a CUDA graph. The engine captures
// decoder.Step followed by TokenSampler.Sample once per generation and
// replays it for every decode step. A backend without it runs every step
// eagerly.
type Capturer interface {
	Capture(fn func() error) (Step, error)
}

// BandwidthMeter is an optional Backend capability: measure the device's
// memory bandwidth, the roofline a memory-bound decode step is compared
// against. It returns bytes per second and how it was measured (e.g. "cpu
// read, 8 threads, 256 MiB" or "cuda device-to-device copy, 256 MiB"). It
// takes up to about a second; callers measure once per device and cache it.
type BandwidthMeter interface {
	MemoryBandwidth() (bytesPerSecond float64, method string, err error)
}

// DeviceSampler is an optional Backend capability: choose the next token on
// the device so that only the token id crosses to the host. Backends
// without it (the CPU) leave sampling to gocore/sampling on the host.
type DeviceSampler interface {
	// NewSampler prepares sampling for one generation with the given
	// parameters over a vocabulary of vocab ids; history is the prompt
	// (for the repetition penalty) and capacity bounds the number of
	// tokens that will be sampled.
	NewSampler(p sampling.Params, vocab int, history []int32, capacity int) (TokenSampler, error)
}

// TokenSampler samples on the device with Hugging Face semantics
// (MODELS.md §4: repetition penalty over prompt+generated, temperature,
// top-k keeping ties, top-p keeping at least one, greedy argmax with ties to
// the lowest id).
type TokenSampler interface {
	// Sample enqueues: read the bf16 logits (vocab values at logits[0:]),
	// choose a token, append it to the device-side history, and write it
	// to ids[0] (the input of the next decode step). It may be recorded
	// by Capturer.Capture.
	Sample(logits Buffer, ids Buffer) error
	// Token returns the i-th sampled token (0-based), waiting for it.
	Token(i int) (int32, error)
	// Free releases the sampler's device memory.
	Free()
}

// MemoryReporter is an optional Backend capability: the device's peak
// memory use. The engine reports it instead of the process's peak resident
// set when the backend has it (e.g. GPU memory).
type MemoryReporter interface {
	// PeakMemory is the peak device memory in bytes since the last reset.
	PeakMemory() int64
	// ResetPeakMemory restarts peak tracking from the current use.
	ResetPeakMemory()
}
