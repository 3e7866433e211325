package kernels

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"testing"

	"github.com/genbench/genbench/gocore/backend"
	"github.com/genbench/genbench/gocore/bf16"
	"github.com/genbench/genbench/gocore/cpu"
	"github.com/genbench/genbench/gocore/decoder"
	"github.com/genbench/genbench/gocore/sampling"
)

// The kernels run here on a CPU emulation of CUDA (emu/emu.h: one
// coroutine per thread, real barriers, warp shuffles and the m16n8k16
// fragment layouts), compiled with the system C++ compiler, and are
// compared with the Go reference ops of gocore/cpu and gocore/sampling.
// This checks their logic on machines without a GPU; `genbench selftest`
// checks the same on a GPU.

var harnessOnce struct {
	sync.Once
	path string
	err  error
}

// harness builds emu/harness.cpp once. A missing C++ compiler fails the
// test when GENBENCH_TESTDATA is set (make test and CI) and skips it
// otherwise.
func harness(t *testing.T) string {
	t.Helper()
	harnessOnce.Do(func() {
		cxx := os.Getenv("CXX")
		if cxx == "" {
			cxx = "g++"
		}
		if _, err := exec.LookPath(cxx); err != nil {
			harnessOnce.err = fmt.Errorf("no C++ compiler (%s) to build the kernel emulation: install g++ (scripts/install-deps.sh)", cxx)
			return
		}
		dir, err := os.MkdirTemp("", "genbench-emu-")
		if err != nil {
			harnessOnce.err = err
			return
		}
		out := filepath.Join(dir, "harness")
		cmd := exec.Command(cxx, "-std=c++17", "-O1", "-o", out, filepath.Join("emu", "harness.cpp"))
		if msg, err := cmd.CombinedOutput(); err != nil {
			harnessOnce.err = fmt.Errorf("building the kernel emulation: %v\n%s", err, msg)
			return
		}
		harnessOnce.path = out
	})
	if harnessOnce.err != nil {
		if os.Getenv("GENBENCH_TESTDATA") != "" {
			t.Fatal(harnessOnce.err)
		}
		t.Skip(harnessOnce.err)
	}
	return harnessOnce.path
}

type emuRun struct {
	t   *testing.T
	dir string
}

func newRun(t *testing.T) *emuRun { return &emuRun{t: t, dir: t.TempDir()} }

func (r *emuRun) put(name string, data any) {
	r.t.Helper()
	f, err := os.Create(filepath.Join(r.dir, name+".bin"))
	if err != nil {
		r.t.Fatal(err)
	}
	defer f.Close()
	if err := binary.Write(f, binary.LittleEndian, data); err != nil {
		r.t.Fatal(err)
	}
}

func (r *emuRun) run(op string, args ...any) {
	r.t.Helper()
	argv := []string{op, r.dir}
	for _, a := range args {
		argv = append(argv, fmt.Sprint(a))
	}
	cmd := exec.Command(harness(r.t), argv...)
	if msg, err := cmd.CombinedOutput(); err != nil {
		r.t.Fatalf("harness %v: %v\n%s", argv, err, msg)
	}
}

func (r *emuRun) u16(name string) []uint16 {
	r.t.Helper()
	b, err := os.ReadFile(filepath.Join(r.dir, name+".out"))
	if err != nil {
		r.t.Fatal(err)
	}
	out := make([]uint16, len(b)/2)
	for i := range out {
		out[i] = binary.LittleEndian.Uint16(b[2*i:])
	}
	return out
}

func (r *emuRun) i32(name string) []int32 {
	r.t.Helper()
	b, err := os.ReadFile(filepath.Join(r.dir, name+".out"))
	if err != nil {
		r.t.Fatal(err)
	}
	out := make([]int32, len(b)/4)
	for i := range out {
		out[i] = int32(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return out
}

func randBF16(rng *rand.Rand, n int, std float64) []uint16 {
	out := make([]uint16, n)
	for i := range out {
		out[i] = bf16.FromFloat32(float32(rng.NormFloat64() * std))
	}
	return out
}

func ulpKey(h uint16) int {
	if h&0x8000 != 0 {
		return -int(h & 0x7fff)
	}
	return int(h)
}

// checkULP fails when any value is NaN or further than maxUlp from want.
func checkULP(t *testing.T, what string, got, want []uint16, maxUlp int) {
	t.Helper()
	if len(got) < len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	worst, at := 0, -1
	for i := range want {
		if g := bf16.ToFloat32(got[i]); g != g {
			t.Fatalf("%s: value %d is NaN (not written?)", what, i)
		}
		d := ulpKey(got[i]) - ulpKey(want[i])
		if d < 0 {
			d = -d
		}
		if d > worst {
			worst, at = d, i
		}
	}
	if worst > maxUlp {
		t.Fatalf("%s: value %d is %v, want %v (%d ulp > %d)", what, at, bf16.ToFloat32(got[at]), bf16.ToFloat32(want[at]), worst, maxUlp)
	}
}

// checkL2 fails on NaN or a relative L2 error above tol.
func checkL2(t *testing.T, what string, got, want []uint16, tol float64) {
	t.Helper()
	var num, den float64
	for i := range want {
		g, w := float64(bf16.ToFloat32(got[i])), float64(bf16.ToFloat32(want[i]))
		if g != g {
			t.Fatalf("%s: value %d is NaN (not written?)", what, i)
		}
		num += (g - w) * (g - w)
		den += w * w
	}
	if rel := math.Sqrt(num / den); !(rel <= tol) {
		t.Fatalf("%s: relative L2 error %.2e > %.0e", what, rel, tol)
	}
}

func TestEmuEmbed(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, c := range []struct {
		vocab, hidden, n int
		scale            float32
	}{{37, 19, 5, 1}, {300, 1152, 3, 34}} {
		r := newRun(t)
		table := randBF16(rng, c.vocab*c.hidden, 1)
		ids := make([]int32, c.n)
		for i := range ids {
			ids[i] = int32(rng.IntN(c.vocab))
		}
		r.put("table", table)
		r.put("ids", ids)
		r.run("embed", c.vocab, c.hidden, c.n, c.scale)
		want := make([]uint16, c.n*c.hidden)
		cpu.RefEmbed(want, ids, table, c.hidden, c.scale)
		checkULP(t, fmt.Sprintf("embed %+v", c), r.u16("out"), want, 0)
	}
	// An out-of-range id sets the error word and writes zeros.
	r := newRun(t)
	r.put("table", randBF16(rng, 80, 1))
	r.put("ids", []int32{3, 10})
	r.run("embed", 10, 8, 2, 1)
	if e := r.i32("err"); e[0] != 1 {
		t.Fatalf("embed of id 10 of 10: error word %d, want 1", e[0])
	}
}

func TestEmuRMSNorm(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, c := range []struct {
		rows, dim int
		style     backend.NormStyle
	}{{3, 19, backend.LlamaNorm}, {2, 2048, backend.LlamaNorm}, {4, 1152, backend.GemmaNorm}, {5, 24, backend.GemmaNorm}} {
		r := newRun(t)
		x := randBF16(rng, c.rows*c.dim, 2)
		w := randBF16(rng, c.dim, 0.5)
		r.put("x", x)
		r.put("w", w)
		gemma := 0
		if c.style == backend.GemmaNorm {
			gemma = 1
		}
		r.run("rmsnorm", c.rows, c.dim, 1e-6, gemma)
		want := make([]uint16, len(x))
		cpu.RefRMSNorm(want, x, c.rows, c.dim, w, 1e-6, c.style)
		checkULP(t, fmt.Sprintf("rmsnorm %+v", c), r.u16("out"), want, 2)
	}
}

func TestEmuRMSNormAdd(t *testing.T) {
	rng := rand.New(rand.NewPCG(19, 20))
	for _, c := range []struct {
		rows, dim int
		style     backend.NormStyle
		inPlace   int
	}{{1, 1152, backend.GemmaNorm, 1}, {3, 45, backend.LlamaNorm, 0}, {2, 2048, backend.GemmaNorm, 0}} {
		r := newRun(t)
		x, a, w := randBF16(rng, c.rows*c.dim, 2), randBF16(rng, c.rows*c.dim, 2), randBF16(rng, c.dim, 0.5)
		r.put("x", x)
		r.put("a", a)
		r.put("w", w)
		gemma := 0
		if c.style == backend.GemmaNorm {
			gemma = 1
		}
		r.run("rmsnormadd", c.rows, c.dim, 1e-6, gemma, c.inPlace)
		y := make([]uint16, len(x))
		cpu.RefRMSNorm(y, x, c.rows, c.dim, w, 1e-6, c.style)
		got := r.u16("normout")
		checkULP(t, fmt.Sprintf("norm %+v", c), got, y, 2)
		want := make([]uint16, len(x))
		cpu.RefAdd(want, a, got) // exact given the kernel's norm output
		checkULP(t, fmt.Sprintf("add %+v", c), r.u16("out"), want, 0)
	}
}

func TestEmuMatmul(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, c := range []struct {
		n     int
		parts []int
		cols  int
	}{
		{1, []int{37}, 19},           // GEMV, scalar loads
		{1, []int{64, 24, 24}, 64},   // GEMV, fused parts
		{1, []int{300}, 1000},        // GEMV, unrolled 16-byte loop + remainder
		{1, []int{17}, 2056},         // GEMV, long rows (one row per warp below)
		{7, []int{70}, 45},           // GEMM, odd sizes
		{65, []int{128, 24, 24}, 64}, // GEMM, fused parts, partial tiles
		{3, []int{160, 160}, 72},     // GEMM, gate/up
	} {
		rows := 0
		for _, p := range c.parts {
			rows += p
		}
		b1, b2 := rows, rows
		if len(c.parts) >= 2 {
			b1 = c.parts[0]
		}
		if len(c.parts) == 3 {
			b2 = c.parts[0] + c.parts[1]
		}
		r := newRun(t)
		x := randBF16(rng, c.n*c.cols, 1)
		w := randBF16(rng, rows*c.cols, 0.1)
		r.put("x", x)
		r.put("w", w)
		rpws := []int{2}
		if c.n == 1 {
			rpws = []int{2, 1} // the decode GEMV with two rows and with one row per warp
		}
		for _, rpw := range rpws {
			r.run("matmul", c.n, rows, c.cols, b1, b2, rpw)
			off := 0
			for i, p := range c.parts {
				want := make([]uint16, c.n*p)
				cpu.RefMatmul(want, x, c.n, w[off*c.cols:(off+p)*c.cols], p, c.cols)
				checkL2(t, fmt.Sprintf("matmul %+v rows/warp %d part %d", c, rpw, i), r.u16("out"+strconv.Itoa(i)), want, 1e-3)
				off += p
			}
		}
	}
}

// TestEmuGemvFused checks the decode GEMV's fused prologue (RMSNorm) and
// epilogues (residual add, GLU) against the separate reference ops.
func TestEmuGemvFused(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 16))
	for _, c := range []struct {
		name       string
		rows, cols int
		parts      []int
		norm       bool
		style      backend.NormStyle
		resid      bool
		glu        int
	}{
		{"norm+qkv", 96, 64, []int{64, 16, 16}, true, backend.LlamaNorm, false, -1},
		{"gemma norm, odd cols", 40, 45, []int{40}, true, backend.GemmaNorm, false, -1},
		{"residual", 64, 160, []int{64}, false, backend.LlamaNorm, true, -1},
		{"norm+gate/up+silu", 320, 64, []int{160, 160}, true, backend.LlamaNorm, false, 0},
		{"gate/up+gelu, odd", 2 * 37, 1000, []int{37, 37}, false, backend.GemmaNorm, false, 1},
		// Wide rows: the weight loads issued before the prologue and the
		// ones each iteration issues for the next (both row counts).
		{"norm+wide", 24, 4800, []int{24}, true, backend.LlamaNorm, false, -1},
		{"norm+gate/up+silu, wide", 2 * 20, 4800, []int{20, 20}, true, backend.LlamaNorm, false, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := newRun(t)
			x := randBF16(rng, c.cols, 2)
			w := randBF16(rng, c.rows*c.cols, 0.1)
			nw := randBF16(rng, c.cols, 0.5)
			resid := randBF16(rng, c.rows, 1)
			r.put("x", x)
			r.put("w", w)
			r.put("normw", nw)
			r.put("resid", resid)
			b1, b2 := c.rows, c.rows
			if len(c.parts) >= 2 {
				b1 = c.parts[0]
			}
			if len(c.parts) == 3 {
				b2 = c.parts[0] + c.parts[1]
			}
			gemma, norm, res := 0, 0, 0
			if c.style == backend.GemmaNorm {
				gemma = 1
			}
			if c.norm {
				norm = 1
			}
			if c.resid {
				res = 1
			}
			for _, rpw := range []int{1, 2} { // the result must not depend on rows per warp
				r.run("gemvfused", c.rows, c.cols, b1, b2, norm, gemma, 1e-6, res, c.glu, rpw)
				gemvFusedCheck(t, r, c.rows, c.cols, c.parts, c.norm, c.style, c.resid, c.glu, x, w, nw, resid, b1)
			}
			if c.glu >= 0 {
				// In place (gluOut == out0, as the decoder's GLU(gate, gate,
				// up)): out0 must end up holding exactly the GLU of the
				// separate run, and out1 the up rows.
				glu, up := r.u16("gluout"), r.u16("out1")
				r.run("gemvfused", c.rows, c.cols, b1, b2, norm, gemma, 1e-6, res, c.glu, 2, 1)
				checkULP(t, "glu in place", r.u16("out0"), glu, 0)
				checkULP(t, "up beside an in-place glu", r.u16("out1"), up, 0)
			}
		})
	}
}

// gemvFusedCheck compares the outputs of one gemvfused run with the
// separate reference ops.
func gemvFusedCheck(t *testing.T, r *emuRun, rows, cols int, parts []int, norm bool, style backend.NormStyle, withResid bool, glu int, x, w, nw, resid []uint16, b1 int) {
	t.Helper()
	xin := x
	if norm {
		xn := make([]uint16, cols)
		cpu.RefRMSNorm(xn, x, 1, cols, nw, 1e-6, style)
		checkULP(t, "norm output", r.u16("normout"), xn, 2)
		xin = xn
	}
	y := make([]uint16, rows)
	cpu.RefMatmul(y, xin, 1, w, rows, cols)
	off := 0
	for i, p := range parts {
		checkL2(t, fmt.Sprintf("part %d", i), r.u16("out"+strconv.Itoa(i)), y[off:off+p], 4e-3)
		off += p
	}
	if withResid {
		// The add of the kernel's own matmul output must be exact.
		want := make([]uint16, rows)
		cpu.RefAdd(want, resid, r.u16("out0")[:rows])
		checkULP(t, "residual", r.u16("residout"), want, 0)
	}
	if glu >= 0 {
		want := make([]uint16, b1)
		cpu.RefGLU(want, r.u16("out0")[:b1], r.u16("out1")[:b1], backend.Activation(glu))
		checkULP(t, "glu", r.u16("gluout"), want, 2)
	}
}

func TestEmuRopeKV(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, c := range []struct {
		n, H, KV, D, capacity, start int
		qkNorm                       bool
		style                        backend.NormStyle
	}{
		{1, 4, 2, 24, 40, 17, false, backend.LlamaNorm},
		{5, 4, 1, 256, 20, 11, false, backend.LlamaNorm},
		{3, 8, 8, 64, 8, 5, false, backend.LlamaNorm},
		{2, 16, 8, 128, 40, 30, true, backend.LlamaNorm}, // Qwen3: q/k norm fused
		{3, 4, 1, 256, 20, 0, true, backend.GemmaNorm},   // Gemma 3
		{1, 6, 2, 20, 8, 7, true, backend.GemmaNorm},     // odd head_dim/32
	} {
		r := newRun(t)
		q := randBF16(rng, c.n*c.H*c.D, 1)
		k := randBF16(rng, c.n*c.KV*c.D, 1)
		v := randBF16(rng, c.n*c.KV*c.D, 1)
		pos := make([]int32, c.n)
		for i := range pos {
			pos[i] = int32(c.start + i)
		}
		half := c.D / 2
		inv := make([]float32, half)
		for j := range inv {
			inv[j] = float32(1 / math.Pow(10000, float64(2*j)/float64(c.D)))
		}
		cos, sin := decoder.RopeTables(inv, c.capacity)
		for _, kv := range []struct {
			name string
			data any
		}{{"q", q}, {"k", k}, {"v", v}, {"pos", pos}, {"cos", cos}, {"sin", sin}} {
			r.put(kv.name, kv.data)
		}
		qn, kn := randBF16(rng, c.D, 0.5), randBF16(rng, c.D, 0.5)
		r.put("qnorm", qn)
		r.put("knorm", kn)
		qk, gemma := 0, 0
		if c.qkNorm {
			qk = 1
		}
		if c.style == backend.GemmaNorm {
			gemma = 1
		}
		r.run("rope", c.n, c.H, c.KV, c.D, c.capacity, c.capacity, qk, gemma, 1e-6)
		wq, wk := append([]uint16(nil), q...), append([]uint16(nil), k...)
		if c.qkNorm {
			cpu.RefRMSNorm(wq, wq, c.n*c.H, c.D, qn, 1e-6, c.style)
			cpu.RefRMSNorm(wk, wk, c.n*c.KV, c.D, kn, 1e-6, c.style)
		}
		cpu.RefRope(wq, c.n, c.H, c.D, pos, cos, sin)
		cpu.RefRope(wk, c.n, c.KV, c.D, pos, cos, sin)
		// Exact without the norm; with it, a norm value one ulp off moves
		// the rotated value by at most a few ulp.
		tol := 0
		if c.qkNorm {
			tol = 4
		}
		checkULP(t, "rope q", r.u16("q"), wq, tol)
		checkULP(t, "rope k", r.u16("k"), wk, tol)
		stride := c.KV * c.D
		kc, vc := r.u16("kc"), r.u16("vc")
		checkULP(t, "cache k", kc[c.start*stride:(c.start+c.n)*stride], r.u16("k"), 0)
		checkULP(t, "cache k vs reference", kc[c.start*stride:(c.start+c.n)*stride], wk, tol)
		checkULP(t, "cache v", vc[c.start*stride:(c.start+c.n)*stride], v, 0)
		for i := range kc {
			if (i < c.start*stride || i >= (c.start+c.n)*stride) && (kc[i] != 0 || vc[i] != 0) {
				t.Fatalf("cache position %d written", i/stride)
			}
		}
	}
	// A position beyond the cache sets the error word.
	r := newRun(t)
	for _, name := range []string{"q", "k", "v", "cos", "sin"} {
		r.put(name, make([]uint16, 64))
	}
	r.put("pos", []int32{8})
	r.put("qnorm", make([]uint16, 8))
	r.put("knorm", make([]uint16, 8))
	r.run("rope", 1, 1, 1, 8, 8, 8, 0, 0, 1e-6)
	if e := r.i32("err"); e[0] != 2 {
		t.Fatalf("position 8 of 8: error word %d, want 2", e[0])
	}
}

func TestEmuAttention(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for _, c := range []struct{ n, H, KV, D, window, capacity, last, stored int }{
		{1, 4, 2, 24, 0, 64, 37, 64},    // decode, scores in shared memory
		{1, 4, 1, 256, 16, 64, 50, 64},  // decode, sliding window, head_dim 256
		{1, 8, 2, 64, 0, 300, 290, 100}, // decode, scores recomputed (beyond the buffer)
		{9, 4, 2, 64, 0, 32, 8, 32},     // prefill from 0, causal
		{17, 4, 1, 32, 5, 64, 40, 64},   // prefill chunk, window 5
		{6, 3, 3, 20, 0, 32, 10, 32},    // odd head_dim (scalar loads)
	} {
		r := newRun(t)
		scale := float32(1 / math.Sqrt(float64(c.D)))
		q := randBF16(rng, c.n*c.H*c.D, 1)
		kc := randBF16(rng, c.capacity*c.KV*c.D, 1)
		vc := randBF16(rng, c.capacity*c.KV*c.D, 1)
		pos := make([]int32, c.n)
		for i := range pos {
			pos[i] = int32(c.last - c.n + 1 + i)
		}
		r.put("q", q)
		r.put("pos", pos)
		r.put("kc", kc)
		r.put("vc", vc)
		r.run("attention", c.n, c.H, c.KV, c.D, c.window, scale, c.capacity, c.stored)
		shape := backend.AttnShape{Heads: c.H, KVHeads: c.KV, HeadDim: c.D, Window: c.window, Scale: scale}
		want := make([]uint16, c.n*c.H*c.D)
		cpu.RefAttention(want, q, c.n, pos, kc, vc, shape)
		checkL2(t, fmt.Sprintf("attention %+v", c), r.u16("out"), want, 1e-3)
	}
}

// TestEmuAttentionSplit checks the split-key decode attention (three
// kernels) against the reference, including chunks past the visible keys.
func TestEmuAttentionSplit(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 18))
	for _, c := range []struct{ H, KV, D, window, capacity, last, chunk int }{
		{4, 1, 256, 0, 700, 650, 128},  // Gemma global layer
		{4, 1, 256, 16, 700, 650, 128}, // Gemma sliding layer: one or two chunks used
		{4, 1, 256, 0, 256, 200, 32},   // Gemma at a short context: chunks of 32
		{8, 2, 64, 0, 300, 0, 64},      // the first position
		{8, 2, 64, 0, 256, 183, 64},    // head_dim 64 (Llama): 8 lanes per row
		{4, 2, 128, 0, 192, 150, 32},   // head_dim 128 (Qwen3): 16 lanes per row
		{6, 3, 20, 0, 100, 99, 32},     // odd head_dim (scalar loads), every chunk full
		{4, 2, 24, 5, 96, 70, 32},      // head_dim 24: 3 lanes per row do not divide a warp (scalar)
	} {
		r := newRun(t)
		scale := float32(1 / math.Sqrt(float64(c.D)))
		q := randBF16(rng, c.H*c.D, 1)
		kc := randBF16(rng, c.capacity*c.KV*c.D, 1)
		vc := randBF16(rng, c.capacity*c.KV*c.D, 1)
		pos := []int32{int32(c.last)}
		r.put("q", q)
		r.put("pos", pos)
		r.put("kc", kc)
		r.put("vc", vc)
		r.run("attnsplit", c.H, c.KV, c.D, c.window, scale, c.capacity, c.chunk)
		shape := backend.AttnShape{Heads: c.H, KVHeads: c.KV, HeadDim: c.D, Window: c.window, Scale: scale}
		want := make([]uint16, c.H*c.D)
		cpu.RefAttention(want, q, 1, pos, kc, vc, shape)
		checkL2(t, fmt.Sprintf("split attention %+v", c), r.u16("out"), want, 1e-3)
	}
}

func TestEmuElementwise(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	const n = 3001
	for act, name := range map[backend.Activation]string{backend.SiLU: "silu", backend.GELUTanh: "gelu"} {
		r := newRun(t)
		g, u := randBF16(rng, n, 3), randBF16(rng, n, 1)
		r.put("gate", g)
		r.put("up", u)
		r.run("glu", n, int(act))
		want := make([]uint16, n)
		cpu.RefGLU(want, g, u, act)
		checkULP(t, "glu "+name, r.u16("out"), want, 2)
	}
	r := newRun(t)
	a, b := randBF16(rng, n, 2), randBF16(rng, n, 2)
	r.put("a", a)
	r.put("b", b)
	r.run("add", n)
	want := make([]uint16, n)
	cpu.RefAdd(want, a, b)
	checkULP(t, "add", r.u16("out"), want, 0)

	r = newRun(t)
	x := randBF16(rng, n, 40)
	r.put("x", x)
	r.run("softcap", n, 30)
	want = append([]uint16(nil), x...)
	cpu.RefSoftcap(want, 30)
	checkULP(t, "softcap", r.u16("out"), want, 1)
}

// TestEmuSample runs the device sampler over several steps and compares
// every token with gocore/sampling.Sampler fed the same logits.
func TestEmuSample(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	// tied gives logits where `tied` ids share the top value, so the top-p
	// boundary falls inside the tie (kept lowest id first).
	tied := func(tied int) func(vocab int) []uint16 {
		return func(vocab int) []uint16 {
			l := make([]uint16, vocab)
			for i := range l {
				l[i] = bf16.FromFloat32(-4 + float32(rng.NormFloat64()))
			}
			for _, i := range rng.Perm(vocab)[:tied] {
				l[i] = bf16.FromFloat32(2)
			}
			return l
		}
	}
	// zeros gives negative logits with a maximum of zero held by +0 and -0
	// in different blocks' slices: the CPU takes the first (they compare
	// equal).
	zeros := func(vocab int) []uint16 {
		l := make([]uint16, vocab)
		for i := range l {
			l[i] = bf16.FromFloat32(-1 - float32(rng.Float64()))
		}
		l[rng.IntN(vocab/2)] = 0x8000 // -0
		l[vocab/2+rng.IntN(vocab/2)] = 0
		return l
	}
	// negative gives logits well below zero with a unique maximum.
	negative := func(vocab int) []uint16 {
		l := make([]uint16, vocab)
		for i := range l {
			l[i] = bf16.FromFloat32(-8 - 3*float32(rng.Float64()))
		}
		l[rng.IntN(vocab)] = bf16.FromFloat32(-7)
		return l
	}
	// overflow gives logits where the history's ids hold -3e38, which the
	// repetition penalty (x * 2) takes to -Inf: fewer finite scores than a
	// top-k of V-1 asks for.
	overflow := func(vocab int) []uint16 {
		l := randBF16(rng, vocab, 3)
		for _, i := range []int{1, 5, vocab - 1} {
			l[i] = bf16.FromFloat32(-3e38)
		}
		return l
	}
	// crowded gives logits where n ids hold values in [2, 2.2], inside one bin
	// of the top-k first pass's histogram: top-k 50 keeps a few hundred
	// (ties included), but the first pass gathers all n.
	crowded := func(n int) func(vocab int) []uint16 {
		return func(vocab int) []uint16 {
			l := make([]uint16, vocab)
			for i := range l {
				l[i] = bf16.FromFloat32(-4 + float32(rng.NormFloat64()))
			}
			for _, i := range rng.Perm(vocab)[:n] {
				l[i] = bf16.FromFloat32(2 + 0.2*float32(rng.Float64())) // rounds to at most 2.203125
			}
			return l
		}
	}
	// minSame < steps: thousands of survivors, where float32 summation
	// order (the CPU's) may move the top-p boundary or a draw boundary by
	// one id; every device token must then still be kept by the exact
	// (float64) top-p rule, and at least minSame tokens must match.
	const steps = 6
	for _, c := range []struct {
		name    string
		vocab   int
		p       sampling.Params
		minSame int
		logits  func(vocab int) []uint16
		// oneBlock runs top-k on the one-block kernel alone (its
		// whole-vocabulary path) instead of the multi-block first pass.
		oneBlock bool
	}{
		{"tie at the top-p boundary", 200, sampling.Params{Temperature: 1, TopP: 0.5, Seed: 21}, steps, tied(10), false},
		// The CPU's float32 cumulative sum over ~3000 equal masses lands
		// the cut an id or so away from the exact one: only the rule holds.
		{"tie at the top-p boundary, many", 9000, sampling.Params{Temperature: 1, TopP: 0.5, Seed: 22}, 0, tied(6000), false},
		{"greedy", 5000, sampling.Params{}, steps, nil, false},
		{"greedy, odd vocabulary", 4099, sampling.Params{}, steps, nil, false},
		{"greedy, negative zero ties", 9000, sampling.Params{}, steps, zeros, false},
		{"greedy+penalty", 700, sampling.Params{RepetitionPenalty: 1.3}, steps, nil, false},
		{"stack", 5000, sampling.Params{Temperature: 0.6, TopK: 50, TopP: 0.9, Seed: 7}, steps, nil, false},
		{"stack, one block", 5000, sampling.Params{Temperature: 0.6, TopK: 50, TopP: 0.9, Seed: 7}, steps, nil, true},
		{"stack, large vocabulary", 40000, sampling.Params{Temperature: 0.8, TopK: 50, TopP: 0.9, Seed: 12}, steps, nil, false},
		// Fewer finite scores than k: every finite one is a candidate.
		{"top-k past the finite scores", 3000, sampling.Params{Temperature: 0.8, TopK: 2999, TopP: 0.9, RepetitionPenalty: 2, Seed: 13}, steps, overflow, false},
		// 6000 ids tie at the top: top-k keeps them all, more than the
		// first pass gathers, so the one-block kernel takes the whole
		// vocabulary.
		{"top-k ties past the candidate list", 9000, sampling.Params{Temperature: 1, TopK: 5000, TopP: 0.5, Seed: 14}, 0, tied(6000), false},
		// 5000 scores in the k-th value's bin: more than the first pass
		// keeps, so the one-block kernel scans the whole vocabulary, and
		// the few hundred survivors are drawn exactly.
		{"top-k, crowded bin past the candidate list", 9000, sampling.Params{Temperature: 1, TopK: 50, TopP: 0.9, Seed: 15}, steps, crowded(5000), false},
		{"stack+penalty", 3000, sampling.Params{Temperature: 0.8, TopK: 20, TopP: 0.95, RepetitionPenalty: 1.1, Seed: 11}, steps, nil, false},
		{"top-k only", 3000, sampling.Params{Temperature: 0.8, TopK: 300, Seed: 9}, steps, nil, false},
		{"top-p only, few", 3000, sampling.Params{Temperature: 0.7, TopP: 0.8, Seed: 4}, steps, nil, false},
		{"top-p only, many", 9000, sampling.Params{Temperature: 1.5, TopP: 0.9, Seed: 3}, 4, nil, false},
		{"full softmax", 6000, sampling.Params{Temperature: 1, Seed: 5}, 4, nil, false},
		// T -> 0: logits/T overflows to +Inf for many ids (and to -Inf
		// for all of them when every logit is negative); the token must be
		// the real (greedy) argmax, not the first id that overflowed.
		{"tiny temperature", 3000, sampling.Params{Temperature: 1e-38, Seed: 5}, steps, nil, false},
		{"tiny temperature+top-k+penalty", 3000, sampling.Params{Temperature: 1e-38, TopK: 40, TopP: 0.9, RepetitionPenalty: 1.2, Seed: 6}, steps, nil, false},
		{"tiny temperature, all negative", 800, sampling.Params{Temperature: 1e-38, Seed: 8}, steps, negative, false},
		{"tiny temperature, no overflow", 800, sampling.Params{Temperature: 0.01, Seed: 9}, steps, nil, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := newRun(t)
			history := []int32{1, 5, 5, int32(c.vocab - 1)}
			logits := make([]uint16, 0, steps*c.vocab)
			for s := 0; s < steps; s++ {
				if c.logits != nil {
					logits = append(logits, c.logits(c.vocab)...)
					continue
				}
				l := randBF16(rng, c.vocab, 3)
				top := 0
				for i := range l {
					if bf16.ToFloat32(l[i]) > bf16.ToFloat32(l[top]) {
						top = i
					}
				}
				l[rng.IntN(c.vocab)] = l[top] // a tie at the top
				logits = append(logits, l...)
			}
			presence := make([]uint8, c.vocab)
			for _, id := range history {
				presence[id] = 1
			}
			r.put("logits", logits)
			r.put("presence", presence)
			greedy := 0
			if c.p.Greedy() {
				greedy = 1
			}
			// Greedy runs on the multi-block kernel (sample_greedy, 7 blocks
			// here), top-k on the multi-block first pass (7 blocks) and
			// the one-block sampler, everything else on the one-block
			// sampler.
			blocks := 7
			if c.oneBlock {
				blocks = 0
			}
			r.run("sample", c.vocab, steps, greedy, c.p.RepetitionPenalty, c.p.Temperature, c.p.TopK, c.p.TopP, c.p.Seed, blocks)
			got := r.i32("tokens")
			counts := r.i32("counts")
			multi := blocks > 0 && !c.p.Greedy() && c.p.TopK > 0 && c.p.TopK < c.vocab
			if multi != (len(counts) == steps) || !multi && len(counts) != 0 {
				t.Fatalf("%d candidate counts over %d steps; the top-k first pass should run: %v", len(counts), steps, multi)
			}
			ref, err := sampling.NewSampler(c.p, c.vocab)
			if err != nil {
				t.Fatal(err)
			}
			hist := append([]int32(nil), history...)
			same, maxGathered := 0, 0
			for s := 0; s < steps; s++ {
				f := make([]float32, c.vocab)
				bf16.ToFloat32Slice(f, logits[s*c.vocab:(s+1)*c.vocab])
				if multi {
					n := checkGathered(t, s, counts[s], f, hist, c.p)
					maxGathered = max(maxGathered, n)
				}
				allowed := exactTopP(f, hist, c.p)
				want := ref.Sample(f, hist)
				if got[s] == want {
					same++
				} else if c.minSame == steps {
					t.Fatalf("step %d: device %d, reference %d", s, got[s], want)
				}
				if got[s] < 0 || int(got[s]) >= c.vocab || !allowed[got[s]] {
					t.Fatalf("step %d: device token %d is not kept by the exact top-p rule", s, got[s])
				}
				// The device's history holds its own tokens.
				hist = append(hist, got[s])
			}
			if multi {
				t.Logf("top-k first pass: at most %d candidates gathered (whole-vocabulary path past %d)", maxGathered, candMax)
			}
			if same < c.minSame {
				t.Fatalf("only %d/%d tokens identical, want >= %d", same, steps, c.minSame)
			}
			if ids := r.i32("ids"); ids[0] != got[steps-1] {
				t.Fatalf("ids[0] = %d, want the last token %d", ids[0], got[steps-1])
			}
			if e := r.i32("err"); e[0] != 0 {
				t.Fatalf("error word %d", e[0])
			}
		})
	}
}

// TestEmuSampleNonFinite feeds logits rows holding NaN, +Inf and -Inf to
// the greedy (multi-block, both load paths) and the sampled kernel: the
// ring slot must name the first non-finite id and its kind (the
// NONFINITE_TOKEN encoding decoded by cuda/sampler.go), finite rows around
// them must still give gocore/sampling's token, and the multi-block
// kernel's non-finite word must be reset for the next step.
func TestEmuSampleNonFinite(t *testing.T) {
	const (
		nan    = 0x7fc1 // a NaN with a payload
		posInf = 0x7f80
		negInf = 0xff80
	)
	// Rows: finite; NaN (two of them); +Inf below a later NaN in another
	// block's slice; -Inf alone at the last id; finite again.
	type bad struct{ id, kind int }
	rows := []struct {
		set  map[int]uint16
		want *bad
	}{
		{nil, nil},
		{map[int]uint16{37: nan, 38: nan}, &bad{37, 0}},
		{map[int]uint16{-3: nan, 1234: posInf}, &bad{1234, 1}},
		{map[int]uint16{-1: negInf}, &bad{-1, 2}},
		{nil, nil},
	}
	rng := rand.New(rand.NewPCG(31, 32))
	for _, c := range []struct {
		name  string
		vocab int
		p     sampling.Params
	}{
		{"greedy, vector loads", 5000, sampling.Params{}},
		{"greedy, odd vocabulary", 4099, sampling.Params{}},
		{"greedy+penalty", 3000, sampling.Params{RepetitionPenalty: 1.3}},
		{"sampled", 5000, sampling.Params{Temperature: 0.7, TopK: 40, TopP: 0.9, Seed: 3}},
		{"sampled, full softmax", 4099, sampling.Params{Temperature: 1, Seed: 8}},
	} {
		t.Run(c.name, func(t *testing.T) {
			steps := len(rows)
			logits := make([]uint16, 0, steps*c.vocab)
			for _, row := range rows {
				l := randBF16(rng, c.vocab, 3)
				for id, bits := range row.set {
					if id < 0 {
						id += c.vocab
					}
					l[id] = bits
				}
				logits = append(logits, l...)
			}
			r := newRun(t)
			r.put("logits", logits)
			r.put("presence", make([]uint8, c.vocab))
			greedy := 0
			if c.p.Greedy() {
				greedy = 1
			}
			r.run("sample", c.vocab, steps, greedy, c.p.RepetitionPenalty, c.p.Temperature, c.p.TopK, c.p.TopP, c.p.Seed, 7)
			got := r.i32("tokens")
			ref, err := sampling.NewSampler(c.p, c.vocab)
			if err != nil {
				t.Fatal(err)
			}
			for s, row := range rows {
				f := make([]float32, c.vocab)
				bf16.ToFloat32Slice(f, logits[s*c.vocab:(s+1)*c.vocab])
				want := ref.Sample(f, nil) // keeps the reference's draw counter in step
				if row.want != nil {
					id := row.want.id
					if id < 0 {
						id += c.vocab
					}
					if code := -2 - 4*id - row.want.kind; got[s] != int32(code) {
						t.Fatalf("step %d: ring %d, want %d (id %d, kind %d)", s, got[s], code, id, row.want.kind)
					}
					if sampling.CheckFinite(f) == nil {
						t.Fatalf("step %d: the reference finds the row finite", s)
					}
					continue
				}
				if got[s] < 0 || int(got[s]) >= c.vocab {
					t.Fatalf("step %d: token %d outside the vocabulary", s, got[s])
				}
				// With the penalty the device's presence table holds the
				// tokens chosen at the non-finite steps too; without it
				// the token is the reference's.
				if c.p.RepetitionPenalty == 0 && got[s] != want {
					t.Fatalf("step %d: device %d, reference %d", s, got[s], want)
				}
			}
			if ids := r.i32("ids"); ids[0] < 0 || int(ids[0]) >= c.vocab {
				t.Fatalf("ids[0] = %d outside the vocabulary", ids[0])
			}
			if e := r.i32("err"); e[0] != 0 {
				t.Fatalf("error word %d", e[0])
			}
		})
	}
}

// candMax is CAND_MAX of kernels/sample.cu: the most candidates the
// top-k first pass gathers.
const candMax = 4096

// checkGathered checks the top-k first pass's candidate count at one
// step against a count from the step's logits and history: the scores
// (gocore/sampling's penalty and temperature), the k-th largest finite
// one, and every finite score whose leading TOPK_BIN_BITS key bits (the
// kernel's histogram bin) are at least that one's; every finite score
// when no more than k are finite. It returns the count.
func checkGathered(t *testing.T, step int, count int32, logits []float32, history []int32, p sampling.Params) int {
	t.Helper()
	f := append([]float32(nil), logits...)
	sampling.ApplyRepetitionPenalty(f, history, p.RepetitionPenalty)
	sampling.ApplyTemperature(f, p.Temperature)
	var fin []float32
	for _, x := range f {
		if x > float32(math.Inf(-1)) { // NaN and -Inf are never candidates
			fin = append(fin, x)
		}
	}
	want := len(fin)
	if len(fin) > p.TopK {
		sorted := append([]float32(nil), fin...)
		sort.Slice(sorted, func(a, b int) bool { return sorted[a] > sorted[b] })
		lo := keyBin(sorted[p.TopK-1])
		want = 0
		for _, x := range fin {
			if keyBin(x) >= lo {
				want++
			}
		}
	}
	if int(count) != want {
		t.Fatalf("step %d: the first pass gathered %d candidates, want %d", step, count, want)
	}
	return want
}

// keyBin is the top-k histogram bin of a score: the leading 12 bits of
// its order-preserving key (fkey in kernels/sample.cu).
func keyBin(x float32) uint32 {
	b := math.Float32bits(x)
	if b&0x80000000 != 0 {
		b = ^b
	} else {
		b |= 0x80000000
	}
	return b >> 20
}

// exactTopP marks the ids a sampler may return: finite after the
// penalty, temperature and top-k of gocore/sampling, and, with top-p, whose
// probability mass ranked strictly above them (descending value, ties by
// ascending id), computed in float64, is below p plus 1e-4 of slack for
// float32 summation.
func exactTopP(logits []float32, history []int32, p sampling.Params) []bool {
	f := append([]float32(nil), logits...)
	sampling.ApplyRepetitionPenalty(f, history, p.RepetitionPenalty)
	kept := make([]bool, len(f))
	if p.Greedy() {
		kept[sampling.Argmax(f)] = true
		return kept
	}
	if a := sampling.Argmax(f); p.Temperature < 1 && math.IsInf(float64(f[a]/p.Temperature), 0) {
		kept[a] = true // the T -> 0 limit: greedy
		return kept
	}
	sampling.ApplyTemperature(f, p.Temperature)
	sampling.ApplyTopK(f, p.TopK)
	var ids []int
	maxv := math.Inf(-1)
	for i, x := range f {
		if x > float32(math.Inf(-1)) {
			ids = append(ids, i)
			maxv = math.Max(maxv, float64(x))
		}
	}
	if !(p.TopP > 0 && p.TopP < 1) {
		for _, i := range ids {
			kept[i] = true
		}
		return kept
	}
	sort.Slice(ids, func(a, b int) bool {
		if f[ids[a]] != f[ids[b]] {
			return f[ids[a]] > f[ids[b]]
		}
		return ids[a] < ids[b]
	})
	var total float64
	for _, i := range ids {
		total += math.Exp(float64(f[i]) - maxv)
	}
	above := 0.0
	for _, i := range ids {
		if above >= float64(p.TopP)+1e-4 {
			break
		}
		kept[i] = true
		above += math.Exp(float64(f[i])-maxv) / total
	}
	return kept
}
