package cuda

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/genbench/genbench/cuda/cu"
	"github.com/genbench/genbench/cuda/internal/emudriver"
	"github.com/genbench/genbench/gocore/backend"
	"github.com/genbench/genbench/gocore/backendtest"
	"github.com/genbench/genbench/gocore/bf16"
	"github.com/genbench/genbench/gocore/cpu"
	"github.com/genbench/genbench/gocore/sampling"
)

// These tests run the whole backend — driver bindings, the CUDA thread,
// kernel compilation with the local NVRTC, fusion, graph capture and
// replay, the device sampler's host-mapped token ring — against an
// emulated driver (kernels/emu/fakecuda.cpp: device memory in host memory,
// kernels on the CPU emulation of the same sources). A real GPU runs the
// same checks through `genbench selftest`.

// emulatedDriver is the directory of the emulated libcuda.so.1 (built once).
func emulatedDriver(t *testing.T) string { t.Helper(); return emudriver.Dir(t) }

func openEmulated(t *testing.T) *Backend {
	t.Helper()
	dir := emulatedDriver(t)
	b, err := Open(context.Background(), 0, Options{DriverLibDirs: []string{dir}, KernelCacheDir: filepath.Join(dir, "kernels")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

func TestEmulatedProbeAndOpen(t *testing.T) {
	dir := emulatedDriver(t)
	p := Probe(Options{DriverLibDirs: []string{dir}})
	if !p.Usable() || len(p.GPUs) != 1 || p.GPUs[0].Name != "Emulated GPU" || p.GPUs[0].ComputeCapability() != "9.0" {
		t.Fatalf("probe: %+v (%s)", p, p.Reason())
	}
	b := openEmulated(t)
	if info := b.Info(); info.Kind != "cuda" || info.Name != "Emulated GPU" || info.ComputeCapability != "9.0" || info.CUDAVersion != "12.4" {
		t.Fatalf("info %+v", info)
	}
	if b.Target() != "sm_90" {
		t.Fatalf("target %s, want sm_90", b.Target())
	}
	if _, err := Open(context.Background(), 1, Options{DriverLibDirs: []string{dir}}); err == nil || !strings.Contains(err.Error(), "1 GPU(s) present") {
		t.Fatalf("device 1 of 1: %v", err)
	}
}

// TestEmulatedNVRTCNewerThanDriver: with a driver older than every NVRTC
// found, Open refuses with the driver's CUDA version and the NVRTCs found
// (their output would not load), and Probe says the same.
func TestEmulatedNVRTCNewerThanDriver(t *testing.T) {
	dir := emulatedDriver(t)
	t.Setenv("GENBENCH_FAKE_CUDA_VERSION", "10020")
	_, err := Open(context.Background(), 0, Options{DriverLibDirs: []string{dir}, KernelCacheDir: "off"})
	if err == nil || !strings.Contains(err.Error(), "CUDA 10.2") || !strings.Contains(err.Error(), "found NVRTC") {
		t.Fatalf("Open with a CUDA 10.2 driver: %v", err)
	}
	p := Probe(Options{DriverLibDirs: []string{dir}})
	if p.Usable() || !strings.Contains(p.NVRTCError, "CUDA 10.2") || len(p.NVRTCFound) == 0 {
		t.Fatalf("probe with a CUDA 10.2 driver: %+v", p)
	}
}

// TestEmulatedSampler samples on the device through the token ring,
// captured in a graph, and compares with gocore/sampling.
func TestEmulatedSampler(t *testing.T) {
	b := openEmulated(t)
	for _, p := range []sampling.Params{
		{Temperature: 0.7, TopK: 40, TopP: 0.9, RepetitionPenalty: 1.2, Seed: 3},
		{Temperature: 2, TopK: 40, Seed: 9}, // flat: the draw reaches the k-th candidate
		{},                                  // greedy: the multi-block argmax
		{RepetitionPenalty: 1.3},            // greedy with the penalty
	} {
		t.Run(fmt.Sprintf("%+v", p), func(t *testing.T) { emulatedSampler(t, b, p) })
	}
}

func emulatedSampler(t *testing.T, b *Backend, p sampling.Params) {
	const vocab, steps = 3000, 5
	history := []int32{4, 8, 15}
	ts, err := b.NewSampler(p, vocab, history, steps)
	if err != nil {
		t.Fatal(err)
	}
	defer ts.Free()
	logits, err := b.NewBuffer(backend.BF16, vocab)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Free(logits)
	ids, err := b.NewBuffer(backend.Int32, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Free(ids)
	stp, err := b.Capture(func() error { return ts.Sample(logits, ids) })
	if err != nil {
		t.Fatal(err)
	}
	defer stp.Free()
	ref, _ := sampling.NewSampler(p, vocab)
	rng := rand.New(rand.NewPCG(5, 6))
	hist := append([]int32(nil), history...)
	for i := 0; i < steps; i++ {
		l := make([]uint16, vocab)
		for j := range l {
			l[j] = bf16.FromFloat32(float32(rng.NormFloat64() * 3))
		}
		if err := b.WriteBF16(logits, 0, l); err != nil {
			t.Fatal(err)
		}
		if err := stp.Replay(); err != nil {
			t.Fatal(err)
		}
		got, err := ts.Token(i)
		if err != nil {
			t.Fatal(err)
		}
		f := make([]float32, vocab)
		bf16.ToFloat32Slice(f, l)
		want := ref.Sample(f, hist)
		hist = append(hist, want)
		if got != want {
			t.Fatalf("step %d: device %d, reference %d", i, got, want)
		}
	}
	// One more replay overflows the sampler's capacity: a clear error.
	if err := stp.Replay(); err != nil {
		t.Fatal(err)
	}
	if err := b.Sync(); err == nil || !strings.Contains(err.Error(), "capacity") {
		t.Fatalf("sampling past the capacity: %v", err)
	}
	if _, err := ts.Token(steps); err == nil {
		t.Fatal("Token beyond the capacity succeeded")
	}
}

// TestEmulatedSamplerNonFinite replays a captured sampling step over
// logits rows holding NaN, +Inf or -Inf, greedy and sampled: Token must
// fail naming the first non-finite score and the likely cause (as the CPU
// path of gocore/engine does), and a finite row replayed afterwards must
// sample gocore/sampling's token again.
func TestEmulatedSamplerNonFinite(t *testing.T) {
	b := openEmulated(t)
	const vocab = 3000
	rows := []struct {
		id   int
		bits uint16
		want string // "" for a finite row
	}{
		{-1, 0, ""},
		{1500, 0x7fc0, "score 1500 is NaN"},
		{2, 0x7f80, "score 2 is +Inf"},
		{-1, 0, ""},
		{vocab - 1, 0xff80, "score 2999 is -Inf"},
		{-1, 0, ""},
	}
	for _, p := range []sampling.Params{{}, {Temperature: 0.8, TopK: 50, TopP: 0.9, Seed: 4}} {
		t.Run(fmt.Sprintf("%+v", p), func(t *testing.T) {
			ts, err := b.NewSampler(p, vocab, nil, len(rows))
			if err != nil {
				t.Fatal(err)
			}
			defer ts.Free()
			logits, err := b.NewBuffer(backend.BF16, vocab)
			if err != nil {
				t.Fatal(err)
			}
			defer b.Free(logits)
			ids, err := b.NewBuffer(backend.Int32, 1)
			if err != nil {
				t.Fatal(err)
			}
			defer b.Free(ids)
			stp, err := b.Capture(func() error { return ts.Sample(logits, ids) })
			if err != nil {
				t.Fatal(err)
			}
			defer stp.Free()
			ref, _ := sampling.NewSampler(p, vocab)
			rng := rand.New(rand.NewPCG(7, 8))
			for i, row := range rows {
				l := make([]uint16, vocab)
				for j := range l {
					l[j] = bf16.FromFloat32(float32(rng.NormFloat64() * 3))
				}
				if row.id >= 0 {
					l[row.id] = row.bits
				}
				if err := b.WriteBF16(logits, 0, l); err != nil {
					t.Fatal(err)
				}
				if err := stp.Replay(); err != nil {
					t.Fatal(err)
				}
				got, err := ts.Token(i)
				f := make([]float32, vocab)
				bf16.ToFloat32Slice(f, l)
				want := ref.Sample(f, nil)
				if row.want != "" {
					if err == nil || !strings.Contains(err.Error(), "logits are not finite: "+row.want) || !strings.Contains(err.Error(), "weights likely hold NaN or Inf") {
						t.Fatalf("step %d: token %d, error %v; want the non-finite score named (%s)", i, got, err, row.want)
					}
					continue
				}
				if err != nil {
					t.Fatalf("step %d: %v", i, err)
				}
				if got != want {
					t.Fatalf("step %d: device %d, reference %d", i, got, want)
				}
			}
			if err := b.Sync(); err != nil {
				t.Fatalf("a non-finite row left an error: %v", err)
			}
		})
	}
}

func TestEmulatedErrorsAndMemory(t *testing.T) {
	b := openEmulated(t)
	base := b.MemoryStats().Allocated
	b.ResetPeakMemory()
	x, err := b.NewBuffer(backend.BF16, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if got := b.PeakMemory(); got < base+2<<20 {
		t.Fatalf("peak %d after a 2 MiB buffer on %d", got, base)
	}
	w, err := b.UploadWeight(backend.Matrix{Name: "w", Rows: 4, Cols: 8, Data: make([]uint16, 32)})
	if err != nil {
		t.Fatal(err)
	}
	small, _ := b.NewBuffer(backend.BF16, 2)
	if err := b.Matmul([]backend.Buffer{small}, x, 1, w); err == nil {
		t.Error("a too small Matmul output was accepted")
	}
	if err := b.Matmul([]backend.Buffer{x}, x, 1, w); err == nil {
		t.Error("an aliased Matmul was accepted")
	}
	if _, err := b.UploadWeight(backend.Matrix{Name: "bad", Rows: 4, Cols: 8, Data: make([]uint16, 31)}); err == nil {
		t.Error("a weight with the wrong number of values was accepted")
	}
	if _, err := b.NewBuffer(backend.BF16, 0); err == nil {
		t.Error("an empty buffer was accepted")
	}
	b.Free(x)
	b.Free(x) // freeing twice is a no-op
	b.Free(small)
	b.Free(w)
	if got := b.MemoryStats().Allocated; got != base {
		t.Fatalf("%d bytes still allocated after freeing everything (was %d)", got, base)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal("second Close:", err)
	}
	if _, err := b.NewBuffer(backend.BF16, 4); err == nil {
		t.Fatal("NewBuffer on a closed backend succeeded")
	}
}

// TestEmulatedSharedMemory: the backend sizes shared memory from what the
// loaded kernels report (the emulated driver pads the attention kernel's
// static size and refuses launches over a kernel's dynamic limit, as a real
// driver does), and raises a kernel's limit only up to the GPU's opt-in
// maximum.
func TestEmulatedSharedMemory(t *testing.T) {
	b := openEmulated(t)
	var static, maxDyn int
	_ = b.do(func() error {
		fi := b.kinfo[b.k.attention]
		static, maxDyn = fi.static, fi.maxDyn
		return nil
	})
	if static <= attnStaticShared || maxDyn != sharedDefault-static {
		t.Fatalf("attention: static %d, dynamic limit %d: the driver's (padded) figures were not read", static, maxDyn)
	}
	// Two queries over a 10000-position cache: the score buffer is as large
	// as the default limit allows (the source's own static size would ask
	// for more and fail), and the result matches the reference.
	if d := emulatedAttention(t, b, rand.New(rand.NewPCG(3, 4)), 2, 2, 1, 64, 10000, 9990, 0); d > 1e-3 {
		t.Fatalf("attention over 10000 positions: relative L2 %g", d)
	}
	// Raising a limit: allowed up to the opt-in maximum, then refused.
	err := b.do(func() error { return b.ensureShared("attention", b.k.attention, 100<<10) })
	if err != nil || b.maxDynamicShared(b.k.attention) != 100<<10 {
		t.Fatalf("raising the attention kernel's limit to 100 KiB: %v (limit %d)", err, b.maxDynamicShared(b.k.attention))
	}
	err = b.do(func() error { return b.ensureShared("attention", b.k.attention, 300<<10) })
	if err == nil || !strings.Contains(err.Error(), "shared memory") {
		t.Fatalf("300 KiB of shared memory: %v", err)
	}
	_ = b.do(func() error {
		return b.drv.FuncSetAttribute(b.k.attention, cu.FuncAttrMaxDynamicSharedSizeBytes, maxDyn)
	})
}

// emulatedAttention runs Attention for n queries ending at position last
// over a random cache and returns its relative L2 distance to the
// reference.
func emulatedAttention(t *testing.T, b *Backend, rng *rand.Rand, n, H, KV, D, capacity, last, window int) float64 {
	t.Helper()
	rb := func(n int) []uint16 {
		v := make([]uint16, n)
		for i := range v {
			v[i] = bf16.FromFloat32(float32(rng.NormFloat64()))
		}
		return v
	}
	q, kc, vc := rb(n*H*D), rb(capacity*KV*D), rb(capacity*KV*D)
	pos := make([]int32, n)
	for i := range pos {
		pos[i] = int32(last - n + 1 + i)
	}
	cache, err := b.NewKVCache(1, capacity, KV, D)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Free(cache)
	if err := b.WriteKV(cache, 0, kc, vc); err != nil {
		t.Fatal(err)
	}
	qb, _ := b.NewBuffer(backend.BF16, len(q))
	pb, _ := b.NewBuffer(backend.Int32, n)
	out, _ := b.NewBuffer(backend.BF16, n*H*D)
	defer func() { b.Free(qb); b.Free(pb); b.Free(out) }()
	if err := errors.Join(b.WriteBF16(qb, 0, q), b.WriteInt32(pb, 0, pos)); err != nil {
		t.Fatal(err)
	}
	shape := backend.AttnShape{Heads: H, KVHeads: KV, HeadDim: D, Window: window, Scale: float32(1 / math.Sqrt(float64(D)))}
	if err := b.Attention(out, qb, n, pb, cache, 0, shape); err != nil {
		t.Fatal(err)
	}
	got := make([]uint16, n*H*D)
	if err := b.ReadBF16(got, out, 0); err != nil {
		t.Fatal(err)
	}
	want := make([]uint16, len(got))
	cpu.RefAttention(want, q, n, pos, kc, vc, shape)
	var num, den float64
	for i := range want {
		g, w := float64(bf16.ToFloat32(got[i])), float64(bf16.ToFloat32(want[i]))
		num += (g - w) * (g - w)
		den += w * w
	}
	return math.Sqrt(num / den) // NaN (a failed comparison) when got holds a NaN
}

// TestEmulatedSplitAttention: decode attention split into chunks of keys
// through the backend (workspace layout, completion counters), over
// several shapes sharing one workspace and repeated, as graph replays do.
func TestEmulatedSplitAttention(t *testing.T) {
	b := openEmulated(t)
	rng := rand.New(rand.NewPCG(9, 10))
	for i, c := range []struct{ H, KV, D, capacity, last, window int }{
		{2, 1, 64, 256, 200, 0},  // 4 chunks of 64 (4 emulated SMs)
		{4, 1, 256, 128, 100, 0}, // 2 chunks; a smaller need reuses the workspace
		{2, 1, 64, 256, 250, 0},
		{2, 2, 128, 160, 159, 40}, // sliding window
	} {
		if _, splits, ok := attnSplit(c.capacity, c.H, b.sms); !ok || splits < 2 {
			t.Fatalf("case %d does not split on %d SMs", i, b.sms)
		}
		if d := emulatedAttention(t, b, rng, 1, c.H, c.KV, c.D, c.capacity, c.last, c.window); d > 1e-3 {
			t.Fatalf("split attention %+v: relative L2 %g", c, d)
		}
	}
}

// TestEmulatedGraphReuse: a capture after a freed step of the same shape
// updates the freed step's instantiated graph in place (no new
// instantiation) and runs with the new buffers; another shape instantiates.
func TestEmulatedGraphReuse(t *testing.T) {
	b := openEmulated(t)
	const n = 300
	buf := func(v float32) backend.Buffer {
		x, err := b.NewBuffer(backend.BF16, n)
		if err != nil {
			t.Fatal(err)
		}
		d := make([]uint16, n)
		for i := range d {
			d[i] = bf16.FromFloat32(v + float32(i))
		}
		if err := b.WriteBF16(x, 0, d); err != nil {
			t.Fatal(err)
		}
		return x
	}
	check := func(x backend.Buffer, want func(i int) float32) {
		t.Helper()
		got := make([]float32, n)
		if err := b.ReadBF16AsF32(got, x, 0); err != nil {
			t.Fatal(err)
		}
		for i := range got {
			if w := bf16.ToFloat32(bf16.FromFloat32(want(i))); got[i] != w {
				t.Fatalf("element %d: %g, want %g", i, got[i], w)
			}
		}
	}
	run := func(fn func() error) {
		t.Helper()
		st, err := b.Capture(fn)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.Replay(); err != nil {
			t.Fatal(err)
		}
		if err := b.Sync(); err != nil {
			t.Fatal(err)
		}
		st.Free()
	}
	inst0, upd0 := b.GraphStats()
	a1, c1, o1 := buf(1), buf(2), buf(0)
	run(func() error { return b.Add(o1, a1, c1, n) })
	r := func(x float32) float32 { return bf16.ToFloat32(bf16.FromFloat32(x)) }
	f := func(i int) float32 { return float32(i) }
	check(o1, func(i int) float32 { return r(f(1+i)) + r(f(2+i)) })
	a2, c2, o2 := buf(10), buf(20), buf(0)
	run(func() error { return b.Add(o2, a2, c2, n) })
	check(o2, func(i int) float32 { return r(f(10+i)) + r(f(20+i)) })
	if inst, upd := b.GraphStats(); inst != inst0+1 || upd != upd0+1 {
		t.Fatalf("same shape: %d instantiated, %d updated; want one of each", inst-inst0, upd-upd0)
	}
	run(func() error { return errors.Join(b.Add(o1, a2, c2, n), b.Add(o2, o1, a1, n)) })
	check(o2, func(i int) float32 { return r(r(f(10+i))+r(f(20+i))) + r(f(1+i)) })
	if inst, _ := b.GraphStats(); inst != inst0+2 {
		t.Fatalf("another shape must be instantiated: %d", inst-inst0)
	}
}

// TestEmulatedPDL: on an sm_90 device with a CUDA 12.4 driver, Options.PDL
// launches every kernel through cuLaunchKernelEx with programmatic stream
// serialization (the emulated driver checks the CUlaunchConfig and
// attribute layouts and launches from them); the op table passes that way.
// cuda/selftest runs the decode chain, graph replay and a tiny model so.
func TestEmulatedPDL(t *testing.T) {
	dir := emulatedDriver(t)
	b, err := Open(context.Background(), 0, Options{DriverLibDirs: []string{dir}, KernelCacheDir: filepath.Join(dir, "kernels"), PDL: true})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if !b.pdl {
		t.Fatal("programmatic dependent launch is off on an sm_90 device with a CUDA 12.4 driver")
	}
	for _, r := range backendtest.Run(b, backendtest.Cases(true)[:4], 3) {
		if !r.Pass {
			t.Error(r)
		}
	}
}
