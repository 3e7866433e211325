package cuda

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/genbench/genbench/cuda/cu"
	"github.com/genbench/genbench/gocore/backend"
)

func TestOpenWithoutLibraries(t *testing.T) {
	empty := t.TempDir()
	_, err := Open(context.Background(), 0, Options{LibDirs: []string{empty}})
	if err == nil {
		t.Fatal("Open succeeded with no libraries")
	}
	if !strings.Contains(err.Error(), "NVRTC") || !strings.Contains(err.Error(), empty) {
		t.Fatalf("error should name the missing library and where it looked: %v", err)
	}
	if _, err := Open(context.Background(), -1, Options{}); err == nil {
		t.Fatal("Open(-1) succeeded")
	}
}

func TestProbeWithoutLibraries(t *testing.T) {
	empty := t.TempDir()
	r := Probe(Options{LibDirs: []string{empty}})
	if r.Usable() {
		t.Fatal("probe of an empty folder is usable")
	}
	if !strings.Contains(r.DriverError, "libcuda.so.1") || !strings.Contains(r.NVRTCError, "NVRTC") {
		t.Fatalf("probe errors should name the libraries: driver %q, nvrtc %q", r.DriverError, r.NVRTCError)
	}
	if r.Reason() == "" {
		t.Fatal("no reason given")
	}
}

func TestProbeResultUsable(t *testing.T) {
	r := &ProbeResult{GPUs: []GPU{{Name: "old", CCMajor: 7, CCMinor: 5}}}
	if r.Usable() || !strings.Contains(r.Reason(), "8.0") {
		t.Fatalf("a 7.5 GPU must not be usable: %q", r.Reason())
	}
	r.GPUs = append(r.GPUs, GPU{Name: "H100", CCMajor: 9})
	if !r.Usable() || r.Reason() != "" {
		t.Fatalf("an sm_90 GPU must be usable: %q", r.Reason())
	}
	if g := (GPU{MemoryClockKHz: 2619000, MemoryBusBits: 5120}); g.TheoreticalBandwidth() < 3.3e12 || g.TheoreticalBandwidth() > 3.4e12 {
		t.Fatalf("H100 SXM bandwidth %g", g.TheoreticalBandwidth())
	}
}

func TestWorker(t *testing.T) {
	w, err := startWorker(func() error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for i := 0; i < 10; i++ {
		if err := w.do(func() error { n++; return nil }); err != nil {
			t.Fatal(err)
		}
	}
	if n != 10 {
		t.Fatalf("ran %d closures, want 10", n)
	}
	want := errors.New("boom")
	if err := w.do(func() error { return want }); err != want {
		t.Fatalf("error not passed through: %v", err)
	}
	err = w.do(func() error {
		var m map[string]int
		m["x"] = 1 // panics
		return nil
	})
	if err == nil || !strings.Contains(err.Error(), "internal error") {
		t.Fatalf("a panic was not turned into an error: %v", err)
	}
	ran := false
	if err := w.stop(func() error { ran = true; return nil }); err != nil || !ran {
		t.Fatalf("stop: %v, ran %v", err, ran)
	}
	if err := w.do(func() error { return nil }); err != errClosed {
		t.Fatalf("do after stop: %v, want errClosed", err)
	}
	if err := w.stop(func() error { return nil }); err != nil {
		t.Fatal("second stop should be a no-op")
	}
	if _, err := startWorker(func() error { return want }); err != want {
		t.Fatalf("failed init: %v", err)
	}
}

func TestGeometry(t *testing.T) {
	g, b := gemvGrid(2048 + 2*512)
	if g.X != 192 || b.X != 256 {
		t.Fatalf("gemv grid %v block %v", g, b)
	}
	if gemvRowsPerWarp(1152, 132) != 1 || gemvRowsPerWarp(16384, 132) != 2 || gemvRowsPerWarp(4224, 132) != 2 {
		t.Error("gemvRowsPerWarp: one row per warp only below two blocks per SM")
	}
	if g, _ := gemvGrid(17); g.X != 2 {
		t.Fatalf("gemv of 17 rows: %d blocks", g.X)
	}
	g, b = gemmGrid(100, 130)
	if g.X != 3 || g.Y != 2 || b.X != 128 {
		t.Fatalf("gemm grid %v block %v", g, b)
	}
	if g, _ := elemGrid(1); g.X != 1 {
		t.Fatalf("elem grid of 1: %v", g)
	}
	if g, _ := elemGrid(1 << 40); g.X != maxElemBlocks {
		t.Fatalf("elem grid is not capped: %v", g)
	}
	for dim, want := range map[int]uint32{1: 32, 33: 64, 128: 128, 2048: 256} {
		if got := normBlock(dim); got != want {
			t.Errorf("normBlock(%d) = %d, want %d", dim, got, want)
		}
	}
	if attnStaticShared != 9344 {
		t.Fatalf("attention static shared memory %d bytes; update it with kernels/attention.cu", attnStaticShared)
	}
	if s := attnStored(1<<20, sharedDefault-attnStaticShared); s*4+attnStaticShared > sharedDefault || s < 8192 {
		t.Fatalf("attention stores %d scores", s)
	}
	for _, c := range []struct{ capacity, heads, sms, chunk, splits int }{
		{512, 4, 132, 32, 16},     // Gemma 3 1B, medium: 64 blocks instead of 4
		{512, 32, 132, 64, 8},     // Llama 3.2 1B: 256 blocks
		{512, 16, 132, 32, 16},    // Qwen3 1.7B
		{1600, 32, 132, 192, 9},   // enough chunks for two blocks per SM
		{10000, 16, 132, 256, 40}, // long caches: chunks of at most 256 keys
		{131072, 32, 132, 2048, 64},
		{64, 4, 4, 32, 2},
	} {
		chunk, splits, ok := attnSplit(c.capacity, c.heads, c.sms)
		if !ok || chunk != c.chunk || splits != c.splits || chunk%splitMinChunk != 0 || chunk*splits < c.capacity {
			t.Errorf("attnSplit(%d, %d heads, %d SMs) = %d x %d, %v; want %d x %d", c.capacity, c.heads, c.sms, chunk, splits, ok, c.chunk, c.splits)
		}
	}
	if _, _, ok := attnSplit(32, 4, 132); ok {
		t.Error("a 32-position cache should not split")
	}
	if _, _, ok := attnSplit(256, 128, 32); ok {
		t.Error("128 heads already fill 32 SMs: no split below 256 keys")
	}
	if got := attnWorkspaceBytes(4, 1000, 256, 4); got != 4*(attnDoneSlots+4000+32+4096) {
		t.Errorf("workspace %d bytes", got)
	}
	if s := attnStored(1<<20, sharedDefault-attnStaticShared-256); s*4+attnStaticShared+256 > sharedDefault {
		t.Fatalf("with 256 bytes of padding the attention stores %d scores: over the limit", s)
	}
	if attnStored(100, sharedDefault-attnStaticShared) != 100 {
		t.Fatal("attention should store all scores of a small cache")
	}
}

func TestMatmulPlan(t *testing.T) {
	w := &weight{ptr: 1, rows: 12, cols: 8, parts: []int{8, 2, 2}}
	x := &buffer{ptr: 100, n: 16, dt: backend.BF16}
	q := &buffer{ptr: 200, n: 16, dt: backend.BF16}
	k := &buffer{ptr: 300, n: 4, dt: backend.BF16}
	v := &buffer{ptr: 400, n: 4, dt: backend.BF16}
	_, out, b1, b2, err := matmulPlan([]backend.Buffer{q, k, v}, x, 2, w)
	if err != nil {
		t.Fatal(err)
	}
	if out != [3]cu.DevPtr{200, 300, 400} || b1 != 8 || b2 != 10 {
		t.Fatalf("plan out %v b1 %d b2 %d", out, b1, b2)
	}
	single := &weight{ptr: 1, rows: 8, cols: 8, parts: []int{8}}
	if _, _, b1, b2, err := matmulPlan([]backend.Buffer{q}, x, 2, single); err != nil || b1 != 8 || b2 != 8 {
		t.Fatalf("single part: b1 %d b2 %d err %v", b1, b2, err)
	}
	bad := []struct {
		name string
		outs []backend.Buffer
		x    backend.Buffer
		n    int
	}{
		{"too few outputs", []backend.Buffer{q, k}, x, 2},
		{"small output", []backend.Buffer{q, k, v}, x, 3},
		{"aliasing", []backend.Buffer{x, k, v}, x, 2},
		{"int32 input", []backend.Buffer{q, k, v}, &buffer{ptr: 9, n: 16, dt: backend.Int32}, 2},
		{"zero tokens", []backend.Buffer{q, k, v}, x, 0},
	}
	for _, c := range bad {
		if _, _, _, _, err := matmulPlan(c.outs, c.x, c.n, w); err == nil {
			t.Errorf("%s: no error", c.name)
		}
	}
}

func TestFusionRules(t *testing.T) {
	w1 := &weight{ptr: 1, rows: 64, cols: 32, parts: []int{64}}
	w2 := &weight{ptr: 2, rows: 2 * 80, cols: 32, parts: []int{80, 80}}
	const (
		x, xn, o, g, u, att cu.DevPtr = 100, 200, 300, 400, 500, 600
	)
	if !canDeferNorm(1, normPlan{out: xn, x: x, dim: 2048}) {
		t.Error("a one-row norm should be deferred")
	}
	if canDeferNorm(1, normPlan{out: xn, x: x, dim: maxFusedNormCols + 1}) {
		t.Error("a norm too wide for the prologue was deferred")
	}
	norm := pending{kind: pendNorm, normOut: xn, normX: x, normW: 7, rows: 1, dim: 32}
	if !norm.absorbNorm(xn, 32) || norm.absorbNorm(x, 32) || norm.absorbNorm(xn, 33) {
		t.Error("absorbNorm: wrong decision")
	}
	inPlace := pending{kind: pendNorm, normOut: o, normX: o, normW: 7, rows: 1, dim: 64}
	if inPlace.absorbNorm(o, 64) {
		t.Error("an in-place norm must not become a GEMV prologue")
	}
	twoRows := pending{kind: pendNorm, normOut: xn, normX: x, normW: 7, rows: 2, dim: 32}
	if twoRows.absorbNorm(xn, 32) {
		t.Error("a two-row norm must not become a GEMV prologue")
	}
	// Gemma's post-norm: RMSNorm(o, o) then Add(x, x, o) or Add(x, o, x).
	if r, ok := inPlace.fusesNormAdd(x, o, 64); !ok || r != x {
		t.Errorf("norm+add: %v %v", r, ok)
	}
	if r, ok := inPlace.fusesNormAdd(o, x, 64); !ok || r != x {
		t.Errorf("norm+add commuted: %v %v", r, ok)
	}
	if _, ok := inPlace.fusesNormAdd(o, o, 64); ok {
		t.Error("o+o must not fuse (the residual would be read after the norm wrote it)")
	}
	if _, ok := inPlace.fusesNormAdd(x, o, 63); ok {
		t.Error("a size mismatch fused")
	}
	plain := pending{kind: pendGemv, w: w1, x: att, outs: [3]cu.DevPtr{o}}
	if !plain.fusesAdd(x, x, o, 64) {
		t.Error("o-proj + residual add should fuse")
	}
	for _, c := range []struct {
		out, a, c cu.DevPtr
		n         int
	}{{x, x, o, 63}, {x, x, g, 64}, {o, x, o, 64}, {att, x, o, 64}, {x, o, o, 64}} {
		if plain.fusesAdd(c.out, c.a, c.c, c.n) {
			t.Errorf("fusesAdd(%+v) should be false", c)
		}
	}
	// With a norm prologue the epilogue must not write the norm's input.
	pro := pending{kind: pendGemv, w: w1, x: xn, outs: [3]cu.DevPtr{o}, normW: 7, normX: x, normOut: xn}
	if pro.fusesAdd(x, x, o, 64) {
		t.Error("an add writing the prologue's input must not fuse")
	}
	gu := pending{kind: pendGemv, w: w2, x: xn, outs: [3]cu.DevPtr{g, u}, normW: 7, normX: x, normOut: xn}
	if !gu.fusesGLU(g, g, u, 1, 80) {
		t.Error("gate/up + GLU should fuse")
	}
	for _, c := range []struct {
		out, gate, up cu.DevPtr
		n, width      int
	}{{g, g, u, 2, 80}, {g, g, u, 1, 79}, {u, g, u, 1, 80}, {x, g, u, 1, 80}, {g, u, g, 1, 80}} {
		if gu.fusesGLU(c.out, c.gate, c.up, c.n, c.width) {
			t.Errorf("fusesGLU(%+v) should be false", c)
		}
	}
	// Qwen3/Gemma 3: RMSNorm(q, q) and RMSNorm(k, k) pair up for RoPE.
	const q, k cu.DevPtr = 700, 800
	qn := pending{kind: pendNorm, normOut: q, normX: q, normW: 1, rows: 2 * 16, dim: 128, eps: 1e-6}
	kp := normPlan{out: k, x: k, w: 2, dim: 128, eps: 1e-6}
	if !qn.pairsQKNorm(kp, 2*8) {
		t.Error("the k norm should pair with the q norm")
	}
	if qn.pairsQKNorm(normPlan{out: xn, x: x, dim: 128, eps: 1e-6}, 1) || qn.pairsQKNorm(normPlan{out: k, x: k, dim: 64, eps: 1e-6}, 16) {
		t.Error("a norm that is not in place, or of another width, must not pair")
	}
	kn := pending{kind: pendNorm, normOut: k, normX: k, normW: 2, rows: 2 * 8, dim: 128, eps: 1e-6}
	if !fusesQKNorm(&qn, &kn, q, k, 2, 16, 8, 128) {
		t.Error("RoPE should absorb the q/k norms")
	}
	if fusesQKNorm(&qn, &kn, q, k, 1, 16, 8, 128) || fusesQKNorm(&kn, &qn, q, k, 2, 16, 8, 128) || fusesQKNorm(&qn, &pending{}, q, k, 2, 16, 8, 128) {
		t.Error("RoPE absorbed norms that do not match")
	}
	if (&pending{}).fusesAdd(x, x, o, 64) || (&pending{}).fusesGLU(g, g, u, 1, 80) {
		t.Error("nothing pending: nothing fuses")
	}
}
