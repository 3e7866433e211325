// Package selftest checks the CUDA backend on a GPU against the CPU
// reference: every op on seeded random inputs, the device sampler against
// gocore/sampling, graph replay against eager execution, and whole models
// (synthetic weights, GPU against CPU). It is `genbench selftest` and
// tools/device/cudacheck. It lives outside package cuda so the backend
// itself depends only on gocore/backend, bf16 and sampling.
package selftest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/genbench/genbench/cuda"
	"github.com/genbench/genbench/cuda/cu"
	"github.com/genbench/genbench/gocore/backend"
	"github.com/genbench/genbench/gocore/bf16"
	"github.com/genbench/genbench/gocore/cpu"
	"github.com/genbench/genbench/gocore/decoder"
	"github.com/genbench/genbench/gocore/model"
	"github.com/genbench/genbench/gocore/sampling"
	"github.com/genbench/genbench/gocore/weights"
)

// Options configure Run.
type Options struct {
	Device  int          // GPU ordinal
	Backend cuda.Options // library discovery, kernel cache
	Seed    uint64       // seeds every random input
	// Models are the built-in spec names checked end to end with synthetic
	// weights, GPU against CPU. Nil means the three tiny models and the
	// three full-size dev models; Quick drops the full-size ones.
	Models []string
	Quick  bool
	// Threads bounds the CPU reference's worker goroutines (0 = all cores).
	Threads int
	// BandwidthBytes is the buffer size of the copy-bandwidth measurement
	// (0 = 1 GiB; negative skips it).
	BandwidthBytes int64
	// SkipOps runs only the whole-model checks (the op, sampler and graph
	// checks ran in an earlier --quick pass).
	SkipOps bool
}

// DefaultModels are the models checked when Models is nil.
func DefaultModels(quick bool) []string {
	m := []string{model.TinyLlama, model.TinyQwen3, model.TinyGemma3}
	if !quick {
		m = append(m, "meta-llama/Llama-3.2-1B-Instruct", "Qwen/Qwen3-1.7B", "google/gemma-3-1b-it")
	}
	return m
}

// checkResult is one row of the selftest table.
type checkResult struct {
	name, shape string
	metric      string // what was measured
	tol         string // the pass criterion
	pass        bool
	err         error
	dur         time.Duration
}

// Run runs every GPU op against the CPU reference op on seeded random
// inputs (odd sizes included), the device sampler against
// gocore/sampling, a captured graph against eager execution, and
// teacher-forced logits of whole models (GPU vs CPU, synthetic weights).
// It writes one line per check to w as soon as the check ends (so a run
// stopped by a time limit keeps every finished row), and returns an error
// when any check fails. A sticky device fault (an illegal or misaligned
// address, after which every CUDA call of the process fails) stops the
// run at the check that caused it.
func Run(ctx context.Context, w io.Writer, opts Options) error {
	b, err := cuda.Open(ctx, opts.Device, opts.Backend)
	if err != nil {
		return err
	}
	defer b.Close()
	info := b.Info()
	driver := info.DriverVersion
	if driver == "" {
		driver = "unknown"
	}
	fmt.Fprintf(w, "genbench selftest: %s (sm %s, %s), CUDA %s, driver %s, kernels %s\n",
		info.Name, info.ComputeCapability, mib(info.MemoryBytes), info.CUDAVersion, driver, b.Target())
	if opts.BandwidthBytes >= 0 {
		size := opts.BandwidthBytes
		if size == 0 {
			size = 1 << 30
		}
		bw, err := b.CopyBandwidth(size, 20)
		if err != nil {
			fmt.Fprintf(w, "copy bandwidth: error: %v\n", err)
		} else {
			fmt.Fprintf(w, "copy bandwidth: %.1f GB/s (device-to-device, %s buffers, read+write bytes, median of 20)\n", bw/1e9, mib(size))
		}
	}
	rng := rand.New(rand.NewPCG(opts.Seed, 0x5e1f7e57))
	st := &selftest{b: b, rng: rng}
	n, failedN := 0, 0
	fmt.Fprintf(w, rowFormat, "check", "shape", "result", "criterion", "time", "status")
	st.emit = func(r checkResult) {
		n++
		status, metric := "ok", r.metric
		if !r.pass || r.err != nil {
			status = "FAIL"
			failedN++
		}
		if r.err != nil {
			metric = "error: " + r.err.Error()
			if stickyError(r.err) && st.fatal == nil {
				st.fatal = fmt.Errorf("check %q (%s): %w", r.name, r.shape, r.err)
			}
		}
		fmt.Fprintf(w, rowFormat, r.name, r.shape, metric, r.tol, r.dur.Round(time.Millisecond).String(), status)
		if f, ok := w.(interface{ Sync() error }); ok {
			_ = f.Sync()
		}
	}
	stop := func() error {
		if err := ctx.Err(); err != nil {
			return err
		}
		if st.fatal != nil {
			fmt.Fprintf(w, "stopped: a sticky device fault ends every later check; the first was in %v\n", st.fatal)
			return fmt.Errorf("cuda selftest: %w", st.fatal)
		}
		return nil
	}
	if !opts.SkipOps {
		for _, c := range []func() []checkResult{
			st.embed, st.rmsnorm, st.matmul, st.ropeKV, st.attention, st.elementwise,
			st.decodeChain, st.sampler, st.graph,
		} {
			if err := stop(); err != nil {
				return err
			}
			c()
		}
	}
	models := opts.Models
	if models == nil {
		models = DefaultModels(opts.Quick)
	}
	for _, name := range models {
		if err := stop(); err != nil {
			return err
		}
		st.emit(st.model(name, opts.Seed, opts.Threads))
		if strings.HasPrefix(name, "tiny-") && b.Fusion() {
			// The same with every op launched on its own, to tell a fusion
			// problem from a kernel problem.
			r := checkResult{name: "model " + name + " (unfused)", err: b.SetFusion(false)}
			if r.err == nil {
				r = st.model(name, opts.Seed, opts.Threads)
				r.name += " (unfused)"
				r.err = errors.Join(r.err, b.SetFusion(true))
			}
			st.emit(r)
		}
	}
	if err := stop(); err != nil {
		return err
	}
	if failedN > 0 {
		return fmt.Errorf("cuda selftest: %d of %d checks failed", failedN, n)
	}
	fmt.Fprintf(w, "all %d checks passed\n", n)
	return nil
}

func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }

// rowFormat is one line of the selftest table.
const rowFormat = "%-28s  %-44s  %-40s  %-28s  %8s  %s\n"

// stickyError reports whether err is a CUDA error after which the context
// is unusable: every later call returns it (CUDA driver API, CUresult:
// "the process must be terminated and relaunched").
func stickyError(err error) bool {
	var e *cu.Error
	if !errors.As(err, &e) {
		return false
	}
	switch e.Code {
	case 700, 702, 714, 715, 716, 717, 718, 719: // illegal address, launch timeout, hardware stack, illegal instruction, misaligned, invalid address space, invalid PC, launch failed
		return true
	}
	return false
}

type selftest struct {
	b   *cuda.Backend
	rng *rand.Rand
	// emit receives each result as soon as its check ends (nil: dropped).
	emit func(checkResult)
	// fatal is the first sticky device fault; later checks are skipped.
	fatal error
}

// randBF16 draws n values ~ N(0, std) rounded to bf16.
func (s *selftest) randBF16(n int, std float64) []uint16 {
	out := make([]uint16, n)
	for i := range out {
		out[i] = bf16.FromFloat32(float32(s.rng.NormFloat64() * std))
	}
	return out
}

// poisoned allocates a bf16 buffer filled with NaN, so unwritten outputs
// fail the comparison.
func (s *selftest) poisoned(n int) (backend.Buffer, error) {
	buf, err := s.b.NewBuffer(backend.BF16, n)
	if err != nil {
		return nil, err
	}
	nan := make([]uint16, n)
	for i := range nan {
		nan[i] = 0x7fc0
	}
	if err := s.b.WriteBF16(buf, 0, nan); err != nil {
		s.b.Free(buf)
		return nil, err
	}
	return buf, nil
}

func (s *selftest) upload(data []uint16) (backend.Buffer, error) {
	buf, err := s.b.NewBuffer(backend.BF16, len(data))
	if err != nil {
		return nil, err
	}
	if err := s.b.WriteBF16(buf, 0, data); err != nil {
		s.b.Free(buf)
		return nil, err
	}
	return buf, nil
}

func (s *selftest) uploadInt32(data []int32) (backend.Buffer, error) {
	buf, err := s.b.NewBuffer(backend.Int32, len(data))
	if err != nil {
		return nil, err
	}
	if err := s.b.WriteInt32(buf, 0, data); err != nil {
		s.b.Free(buf)
		return nil, err
	}
	return buf, nil
}

func (s *selftest) read(buf backend.Buffer, n int) ([]uint16, error) {
	out := make([]uint16, n)
	return out, s.b.ReadBF16(out, buf, 0)
}

// ulpKey maps bf16 bits to an integer that is monotone in value.
func ulpKey(h uint16) int {
	if h&0x8000 != 0 {
		return -int(h & 0x7fff)
	}
	return int(h)
}

// compare measures got against want: the largest difference in bf16 ulps,
// the relative L2 error, and whether any value is NaN.
type comparison struct {
	maxUlp int
	relL2  float64
	nan    bool
	maxAbs float64
}

func compare(got, want []uint16) comparison {
	var c comparison
	var num, den float64
	for i := range want {
		g, r := bf16.ToFloat32(got[i]), bf16.ToFloat32(want[i])
		if g != g || r != r {
			c.nan = true
			continue
		}
		d := ulpKey(got[i]) - ulpKey(want[i])
		if d < 0 {
			d = -d
		}
		c.maxUlp = max(c.maxUlp, d)
		diff := float64(g) - float64(r)
		num += diff * diff
		den += float64(r) * float64(r)
		c.maxAbs = max(c.maxAbs, math.Abs(diff))
	}
	if den > 0 {
		c.relL2 = math.Sqrt(num / den)
	} else if num > 0 {
		c.relL2 = math.Inf(1)
	}
	return c
}

// ulpCheck passes when no value is NaN and every value is within maxUlp.
func ulpCheck(name, shape string, got, want []uint16, maxUlp int) checkResult {
	c := compare(got, want)
	return checkResult{name: name, shape: shape,
		metric: fmt.Sprintf("max %d ulp, rel-L2 %.1e", c.maxUlp, c.relL2),
		tol:    fmt.Sprintf("<= %d ulp", maxUlp),
		pass:   !c.nan && c.maxUlp <= maxUlp}
}

// l2Check passes when no value is NaN and the relative L2 error is small.
func l2Check(name, shape string, got, want []uint16, tol float64) checkResult {
	c := compare(got, want)
	return checkResult{name: name, shape: shape,
		metric: fmt.Sprintf("rel-L2 %.1e, max %d ulp", c.relL2, c.maxUlp),
		tol:    fmt.Sprintf("rel-L2 <= %.0e", tol),
		pass:   !c.nan && c.relL2 <= tol}
}

func failed(name, shape string, err error) checkResult {
	return checkResult{name: name, shape: shape, err: err}
}

// timed runs f, stamps its duration and emits the result; after a sticky
// device fault it runs nothing.
func (s *selftest) timed(f func() checkResult) checkResult {
	if s.fatal != nil {
		return checkResult{}
	}
	t0 := time.Now()
	r := f()
	r.dur = time.Since(t0)
	if s.emit != nil {
		s.emit(r)
	}
	return r
}

// run is a small helper that frees buffers when a check ends.
type run struct {
	s    *selftest
	bufs []any
	err  error
}

func (r *run) keep(x any, err error) any {
	if err != nil && r.err == nil {
		r.err = err
	}
	if x != nil {
		r.bufs = append(r.bufs, x)
	}
	return x
}

func (r *run) done() {
	for _, x := range r.bufs {
		r.s.b.Free(x)
	}
}

func (r *run) buf(data []uint16) backend.Buffer {
	b, err := r.s.upload(data)
	if err != nil {
		r.keep(nil, err)
		return nil
	}
	r.keep(b, nil)
	return b
}

func (r *run) ints(data []int32) backend.Buffer {
	b, err := r.s.uploadInt32(data)
	if err != nil {
		r.keep(nil, err)
		return nil
	}
	r.keep(b, nil)
	return b
}

func (r *run) out(n int) backend.Buffer {
	b, err := r.s.poisoned(n)
	if err != nil {
		r.keep(nil, err)
		return nil
	}
	r.keep(b, nil)
	return b
}

func (r *run) weight(ms ...backend.Matrix) backend.Weight {
	w, err := r.s.b.UploadWeight(ms...)
	if err != nil {
		r.keep(nil, err)
		return nil
	}
	r.keep(w, nil)
	return w
}

func (s *selftest) embed() []checkResult {
	var res []checkResult
	for _, c := range []struct {
		vocab, hidden, n int
		scale            float32
	}{{37, 19, 5, 1}, {1000, 1152, 7, 34}, {300, 2048, 1, 1}} {
		shape := fmt.Sprintf("vocab %d, hidden %d, n %d, scale %g", c.vocab, c.hidden, c.n, c.scale)
		res = append(res, s.timed(func() checkResult {
			r := &run{s: s}
			defer r.done()
			table := s.randBF16(c.vocab*c.hidden, 1)
			ids := make([]int32, c.n)
			for i := range ids {
				ids[i] = int32(s.rng.IntN(c.vocab))
			}
			ids[0] = int32(c.vocab - 1)
			w := r.weight(backend.Matrix{Name: "embed", Rows: c.vocab, Cols: c.hidden, Data: table})
			idb := r.ints(ids)
			out := r.out(c.n * c.hidden)
			if r.err != nil {
				return failed("embed", shape, r.err)
			}
			if err := s.b.Embed(out, idb, c.n, w, c.scale); err != nil {
				return failed("embed", shape, err)
			}
			got, err := s.read(out, c.n*c.hidden)
			if err != nil {
				return failed("embed", shape, err)
			}
			want := make([]uint16, c.n*c.hidden)
			cpu.RefEmbed(want, ids, table, c.hidden, c.scale)
			return ulpCheck("embed", shape, got, want, 0)
		}))
	}
	// An out-of-range id must be reported, not read out of bounds.
	res = append(res, s.timed(func() checkResult {
		r := &run{s: s}
		defer r.done()
		w := r.weight(backend.Matrix{Name: "embed", Rows: 10, Cols: 8, Data: s.randBF16(80, 1)})
		idb := r.ints([]int32{3, 10})
		out := r.out(16)
		if r.err != nil {
			return failed("embed bad id", "id 10 of 10", r.err)
		}
		_ = s.b.Embed(out, idb, 2, w, 1)
		err := s.b.Sync()
		return checkResult{name: "embed bad id", shape: "id 10 of 10", metric: fmt.Sprintf("%v", err),
			tol: "an error", pass: err != nil && strings.Contains(err.Error(), "vocabulary")}
	}))
	return res
}

func (s *selftest) rmsnorm() []checkResult {
	var res []checkResult
	for _, c := range []struct {
		rows, dim int
		style     backend.NormStyle
	}{{3, 19, backend.LlamaNorm}, {5, 2048, backend.LlamaNorm}, {4, 1152, backend.GemmaNorm}, {64, 128, backend.LlamaNorm}, {33, 256, backend.GemmaNorm}} {
		styleName := "llama"
		if c.style == backend.GemmaNorm {
			styleName = "gemma"
		}
		shape := fmt.Sprintf("%d×%d %s", c.rows, c.dim, styleName)
		res = append(res, s.timed(func() checkResult {
			r := &run{s: s}
			defer r.done()
			x := s.randBF16(c.rows*c.dim, 2)
			wd := s.randBF16(c.dim, 0.5)
			w := r.weight(backend.Matrix{Name: "norm", Rows: 1, Cols: c.dim, Data: wd})
			xb := r.buf(x)
			out := r.out(c.rows * c.dim)
			if r.err != nil {
				return failed("rmsnorm", shape, r.err)
			}
			if err := s.b.RMSNorm(out, xb, c.rows, c.dim, w, 1e-6, c.style); err != nil {
				return failed("rmsnorm", shape, err)
			}
			got, err := s.read(out, c.rows*c.dim)
			if err != nil {
				return failed("rmsnorm", shape, err)
			}
			want := make([]uint16, len(x))
			cpu.RefRMSNorm(want, x, c.rows, c.dim, wd, 1e-6, c.style)
			return ulpCheck("rmsnorm", shape, got, want, 2)
		}))
	}
	return res
}

func (s *selftest) matmul() []checkResult {
	var res []checkResult
	for _, c := range []struct {
		n     int
		parts []int
		cols  int
	}{
		{1, []int{37}, 19},               // GEMV, scalar path
		{1, []int{2048, 512, 512}, 2048}, // GEMV, fused QKV (Llama)
		{1, []int{6912, 6912}, 1152},     // GEMV, fused gate/up (Gemma)
		{1, []int{1152}, 6912},           // GEMV, down
		{7, []int{70}, 45},               // GEMM, odd sizes, scalar loads
		{65, []int{128, 24, 24}, 64},     // GEMM, fused parts, partial tiles
		{128, []int{2048}, 8192},         // GEMM, long K
	} {
		rows := 0
		for _, p := range c.parts {
			rows += p
		}
		shape := fmt.Sprintf("n %d, %v×%d", c.n, c.parts, c.cols)
		res = append(res, s.timed(func() checkResult {
			r := &run{s: s}
			defer r.done()
			x := s.randBF16(c.n*c.cols, 1)
			wd := s.randBF16(rows*c.cols, 0.05)
			var ms []backend.Matrix
			off := 0
			for i, p := range c.parts {
				ms = append(ms, backend.Matrix{Name: fmt.Sprintf("w%d", i), Rows: p, Cols: c.cols, Data: wd[off*c.cols : (off+p)*c.cols]})
				off += p
			}
			w := r.weight(ms...)
			xb := r.buf(x)
			var outs []backend.Buffer
			for _, p := range c.parts {
				outs = append(outs, r.out(c.n*p))
			}
			if r.err != nil {
				return failed("matmul", shape, r.err)
			}
			if err := s.b.Matmul(outs, xb, c.n, w); err != nil {
				return failed("matmul", shape, err)
			}
			var got, want []uint16
			off = 0
			for i, p := range c.parts {
				g, err := s.read(outs[i], c.n*p)
				if err != nil {
					return failed("matmul", shape, err)
				}
				got = append(got, g...)
				ref := make([]uint16, c.n*p)
				cpu.RefMatmul(ref, x, c.n, wd[off*c.cols:(off+p)*c.cols], p, c.cols)
				want = append(want, ref...)
				off += p
			}
			return l2Check("matmul", shape, got, want, 1e-3)
		}))
	}
	return res
}

// decodeChain runs one token through RMSNorm → fused gate/up Matmul → GLU
// → down Matmul → post-norm → residual Add, and RMSNorm → Matmul → Add,
// the sequences the backend fuses, against the reference ops.
func (s *selftest) decodeChain() []checkResult {
	var res []checkResult
	for _, c := range []struct {
		hidden, inter int
		style         backend.NormStyle
		act           backend.Activation
	}{{2048, 8192, backend.LlamaNorm, backend.SiLU}, {1152, 6912, backend.GemmaNorm, backend.GELUTanh}, {72, 200, backend.LlamaNorm, backend.SiLU}} {
		res = append(res, s.timed(func() checkResult { return s.decodeChainCase(c.hidden, c.inter, c.style, c.act) }))
	}
	return res
}

func (s *selftest) decodeChainCase(H, I int, style backend.NormStyle, act backend.Activation) checkResult {
	shape := fmt.Sprintf("hidden %d, inter %d", H, I)
	c := struct {
		style backend.NormStyle
		act   backend.Activation
	}{style, act}
	r := &run{s: s}
	defer r.done()
	x := s.randBF16(H, 1)
	nw := s.randBF16(H, 0.3)
	wg, wu, wd := s.randBF16(I*H, 0.03), s.randBF16(I*H, 0.03), s.randBF16(H*I, 0.03)
	wo := s.randBF16(H*H, 0.03)
	normW := r.weight(backend.Matrix{Name: "norm", Rows: 1, Cols: H, Data: nw})
	gateUp := r.weight(backend.Matrix{Name: "gate", Rows: I, Cols: H, Data: wg}, backend.Matrix{Name: "up", Rows: I, Cols: H, Data: wu})
	down := r.weight(backend.Matrix{Name: "down", Rows: H, Cols: I, Data: wd})
	oproj := r.weight(backend.Matrix{Name: "o", Rows: H, Cols: H, Data: wo})
	xb, xn, gb, ub, ob := r.buf(x), r.out(H), r.out(I), r.out(I), r.out(H)
	if r.err != nil {
		return failed("decode chain", shape, r.err)
	}
	err := errors.Join(
		s.b.RMSNorm(xn, xb, 1, H, normW, 1e-6, c.style),
		s.b.Matmul([]backend.Buffer{gb, ub}, xn, 1, gateUp),
		s.b.GLU(gb, gb, ub, 1, I, c.act),
		s.b.Matmul([]backend.Buffer{ob}, gb, 1, down),
		s.b.RMSNorm(ob, ob, 1, H, normW, 1e-6, c.style), // a sandwich post-norm
		s.b.Add(xb, xb, ob, H),
		s.b.RMSNorm(xn, xb, 1, H, normW, 1e-6, c.style),
		s.b.Matmul([]backend.Buffer{ob}, xn, 1, oproj),
		s.b.Add(xb, ob, xb, H),
	)
	if err != nil {
		return failed("decode chain", shape, err)
	}
	got, err := s.read(xb, H)
	if err != nil {
		return failed("decode chain", shape, err)
	}
	// The reference, op by op.
	wxn, g, u := make([]uint16, H), make([]uint16, I), make([]uint16, I)
	cpu.RefRMSNorm(wxn, x, 1, H, nw, 1e-6, c.style)
	cpu.RefMatmul(g, wxn, 1, wg, I, H)
	cpu.RefMatmul(u, wxn, 1, wu, I, H)
	cpu.RefGLU(g, g, u, c.act)
	o := make([]uint16, H)
	cpu.RefMatmul(o, g, 1, wd, H, I)
	cpu.RefRMSNorm(o, o, 1, H, nw, 1e-6, c.style)
	want := make([]uint16, H)
	cpu.RefAdd(want, x, o)
	cpu.RefRMSNorm(wxn, want, 1, H, nw, 1e-6, c.style)
	cpu.RefMatmul(o, wxn, 1, wo, H, H)
	cpu.RefAdd(want, o, want)
	return l2Check("decode chain", shape, got, want, 4e-3)
}

// ropeTables builds bf16 cos/sin tables for the selftest (the decoder's
// own tables are checked by its tests; here any bf16 table will do).
func ropeTables(positions, d int, theta float64) (cos, sin []uint16) {
	half := d / 2
	inv := make([]float32, half)
	for j := range inv {
		inv[j] = float32(1 / math.Pow(theta, float64(2*j)/float64(d)))
	}
	return decoder.RopeTables(inv, positions)
}

func (s *selftest) ropeKV() []checkResult {
	var res []checkResult
	for _, c := range []struct {
		n, H, KV, D, capacity, start int
		qkNorm                       bool
		style                        backend.NormStyle
	}{
		{1, 4, 2, 24, 64, 17, false, backend.LlamaNorm},
		{9, 32, 8, 64, 128, 0, false, backend.LlamaNorm},
		{5, 4, 1, 256, 600, 511, false, backend.LlamaNorm},
		{3, 16, 8, 128, 40, 37, false, backend.LlamaNorm},
		{1, 16, 8, 128, 40, 37, true, backend.LlamaNorm},  // Qwen3 q/k norms (fused)
		{4, 4, 1, 256, 600, 300, true, backend.GemmaNorm}, // Gemma 3 q/k norms (fused)
	} {
		shape := fmt.Sprintf("n %d, H %d, KV %d, D %d, pos %d", c.n, c.H, c.KV, c.D, c.start)
		name := "rope+kv"
		if c.qkNorm {
			name = "q/k norm+rope+kv"
		}
		res = append(res, s.timed(func() checkResult {
			r := &run{s: s}
			defer r.done()
			q := s.randBF16(c.n*c.H*c.D, 1)
			k := s.randBF16(c.n*c.KV*c.D, 1)
			v := s.randBF16(c.n*c.KV*c.D, 1)
			pos := make([]int32, c.n)
			for i := range pos {
				pos[i] = int32(c.start + i)
			}
			cos, sin := ropeTables(c.capacity, c.D, 10000)
			rope, err := s.b.UploadRope(c.capacity, c.D, cos, sin)
			r.keep(rope, err)
			cache, err := s.b.NewKVCache(2, c.capacity, c.KV, c.D)
			r.keep(cache, err)
			qb, kb, vb, pb := r.buf(q), r.buf(k), r.buf(v), r.ints(pos)
			if r.err != nil {
				return failed(name, shape, r.err)
			}
			qn, kn := s.randBF16(c.D, 0.5), s.randBF16(c.D, 0.5)
			qw := r.weight(backend.Matrix{Name: "q_norm", Rows: 1, Cols: c.D, Data: qn})
			kw := r.weight(backend.Matrix{Name: "k_norm", Rows: 1, Cols: c.D, Data: kn})
			if r.err != nil {
				return failed(name, shape, r.err)
			}
			shp := backend.AttnShape{Heads: c.H, KVHeads: c.KV, HeadDim: c.D, Scale: 1}
			if c.qkNorm {
				if err := errors.Join(s.b.RMSNorm(qb, qb, c.n*c.H, c.D, qw, 1e-6, c.style),
					s.b.RMSNorm(kb, kb, c.n*c.KV, c.D, kw, 1e-6, c.style)); err != nil {
					return failed(name, shape, err)
				}
			}
			if err := s.b.RopeKV(qb, kb, vb, c.n, pb, rope, cache, 1, shp); err != nil {
				return failed(name, shape, err)
			}
			gq, err := s.read(qb, len(q))
			if err != nil {
				return failed("rope+kv", shape, err)
			}
			kc, vc, err := s.b.ReadKV(cache, 1)
			if err != nil {
				return failed("rope+kv", shape, err)
			}
			wq := append([]uint16(nil), q...)
			wk := append([]uint16(nil), k...)
			if c.qkNorm {
				cpu.RefRMSNorm(wq, wq, c.n*c.H, c.D, qn, 1e-6, c.style)
				cpu.RefRMSNorm(wk, wk, c.n*c.KV, c.D, kn, 1e-6, c.style)
			}
			cpu.RefRope(wq, c.n, c.H, c.D, pos, cos, sin)
			cpu.RefRope(wk, c.n, c.KV, c.D, pos, cos, sin)
			stride := c.KV * c.D
			gotAll := append([]uint16(nil), gq...)
			wantAll := append([]uint16(nil), wq...)
			gotAll = append(gotAll, kc[c.start*stride:(c.start+c.n)*stride]...)
			wantAll = append(wantAll, wk...)
			gotAll = append(gotAll, vc[c.start*stride:(c.start+c.n)*stride]...)
			wantAll = append(wantAll, v...)
			// Positions not written must still be zero.
			for i, x := range kc {
				if (i < c.start*stride || i >= (c.start+c.n)*stride) && x != 0 {
					return checkResult{name: name, shape: shape, metric: fmt.Sprintf("cache slot %d written", i/stride), tol: "only pos written"}
				}
			}
			if c.qkNorm {
				// A norm value one ulp off (float32 summation order) moves
				// the rotated value slightly.
				return l2Check(name, shape, gotAll, wantAll, 4e-3)
			}
			return ulpCheck(name, shape, gotAll, wantAll, 0)
		}))
	}
	return res
}

func (s *selftest) attention() []checkResult {
	var res []checkResult
	for _, c := range []struct {
		n, H, KV, D, window, capacity, last int
	}{
		{1, 4, 2, 24, 0, 64, 37},        // decode, tiny head (split, scalar loads)
		{1, 4, 1, 256, 0, 512, 383},     // decode, Gemma at a medium context: 16 chunks of 32
		{1, 32, 8, 64, 0, 2048, 1500},   // decode, Llama geometry
		{1, 4, 1, 256, 512, 2048, 1300}, // decode, Gemma sliding window (split)
		{1, 16, 8, 128, 0, 10000, 9990}, // decode, split into 40 chunks of keys
		{3, 8, 2, 64, 0, 10000, 9990},   // queries beyond the shared score buffer
		{1, 8, 8, 64, 0, 600, 0},        // decode at position 0 with mostly empty chunks
		{9, 16, 8, 128, 0, 64, 8},       // prefill from 0
		{17, 4, 1, 256, 5, 64, 40},      // prefill chunk with a small window
		{6, 3, 3, 20, 0, 32, 10},        // odd head_dim (scalar loads), MHA
	} {
		shape := fmt.Sprintf("n %d, H %d/%d, D %d, win %d, pos ..%d", c.n, c.H, c.KV, c.D, c.window, c.last)
		res = append(res, s.timed(func() checkResult {
			r := &run{s: s}
			defer r.done()
			scale := float32(1 / math.Sqrt(float64(c.D)))
			q := s.randBF16(c.n*c.H*c.D, 1)
			kc := s.randBF16(c.capacity*c.KV*c.D, 1)
			vc := s.randBF16(c.capacity*c.KV*c.D, 1)
			pos := make([]int32, c.n)
			for i := range pos {
				pos[i] = int32(c.last - c.n + 1 + i)
			}
			cache, err := s.b.NewKVCache(1, c.capacity, c.KV, c.D)
			r.keep(cache, err)
			qb, pb := r.buf(q), r.ints(pos)
			out := r.out(c.n * c.H * c.D)
			if r.err != nil {
				return failed("attention", shape, r.err)
			}
			if err := s.b.WriteKV(cache, 0, kc, vc); err != nil {
				return failed("attention", shape, err)
			}
			shp := backend.AttnShape{Heads: c.H, KVHeads: c.KV, HeadDim: c.D, Window: c.window, Scale: scale}
			if err := s.b.Attention(out, qb, c.n, pb, cache, 0, shp); err != nil {
				return failed("attention", shape, err)
			}
			got, err := s.read(out, c.n*c.H*c.D)
			if err != nil {
				return failed("attention", shape, err)
			}
			want := make([]uint16, len(got))
			cpu.RefAttention(want, q, c.n, pos, kc, vc, shp)
			return l2Check("attention", shape, got, want, 1e-3)
		}))
	}
	return res
}

func (s *selftest) elementwise() []checkResult {
	var res []checkResult
	for _, act := range []backend.Activation{backend.SiLU, backend.GELUTanh} {
		name := "glu silu"
		if act == backend.GELUTanh {
			name = "glu gelu-tanh"
		}
		n, width := 3, 1001
		res = append(res, s.timed(func() checkResult {
			r := &run{s: s}
			defer r.done()
			g, u := s.randBF16(n*width, 3), s.randBF16(n*width, 1)
			gb, ub := r.buf(g), r.buf(u)
			out := r.out(n * width)
			if r.err != nil {
				return failed(name, "3×1001", r.err)
			}
			if err := s.b.GLU(out, gb, ub, n, width, act); err != nil {
				return failed(name, "3×1001", err)
			}
			got, err := s.read(out, n*width)
			if err != nil {
				return failed(name, "3×1001", err)
			}
			want := make([]uint16, n*width)
			cpu.RefGLU(want, g, u, act)
			return ulpCheck(name, "3×1001", got, want, 2)
		}))
	}
	res = append(res, s.timed(func() checkResult {
		r := &run{s: s}
		defer r.done()
		n := 4099
		a, c := s.randBF16(n, 2), s.randBF16(n, 2)
		ab, cb := r.buf(a), r.buf(c)
		if r.err != nil {
			return failed("add (in place)", "4099", r.err)
		}
		if err := s.b.Add(ab, ab, cb, n); err != nil {
			return failed("add (in place)", "4099", err)
		}
		got, err := s.read(ab, n)
		if err != nil {
			return failed("add (in place)", "4099", err)
		}
		want := make([]uint16, n)
		cpu.RefAdd(want, a, c)
		return ulpCheck("add (in place)", "4099", got, want, 0)
	}))
	res = append(res, s.timed(func() checkResult {
		r := &run{s: s}
		defer r.done()
		n := 1027
		x := s.randBF16(n, 40)
		xb := r.buf(x)
		if r.err != nil {
			return failed("softcap", "1027, cap 30", r.err)
		}
		if err := s.b.Softcap(xb, n, 30); err != nil {
			return failed("softcap", "1027, cap 30", err)
		}
		got, err := s.read(xb, n)
		if err != nil {
			return failed("softcap", "1027, cap 30", err)
		}
		want := append([]uint16(nil), x...)
		cpu.RefSoftcap(want, 30)
		return ulpCheck("softcap", "1027, cap 30", got, want, 1)
	}))
	res = append(res, s.timed(func() checkResult {
		r := &run{s: s}
		defer r.done()
		src := s.randBF16(300, 1)
		sb := r.buf(src)
		db := r.out(300)
		ib := r.ints([]int32{5, -7, 100})
		if r.err != nil {
			return failed("copy+add_i32", "", r.err)
		}
		if err := errors.Join(s.b.Copy(db, 10, sb, 20, 250), s.b.AddInt32(ib, 2, 3)); err != nil {
			return failed("copy+add_i32", "", err)
		}
		got, err := s.read(db, 300)
		if err != nil {
			return failed("copy+add_i32", "", err)
		}
		ints := make([]int32, 3)
		if err := s.b.ReadInt32(ints, ib, 0); err != nil {
			return failed("copy+add_i32", "", err)
		}
		ok := ints[0] == 8 && ints[1] == -4 && ints[2] == 100
		for i := 0; i < 250; i++ {
			ok = ok && got[10+i] == src[20+i]
		}
		ok = ok && got[9] == 0x7fc0 && got[260] == 0x7fc0
		return checkResult{name: "copy+add_i32", shape: "250 of 300; 2 of 3", metric: fmt.Sprintf("ints %v", ints), tol: "exact", pass: ok}
	}))
	return res
}

// sampler compares the device sampler with gocore/sampling over several
// steps of random logits, with planted ties.
func (s *selftest) sampler() []checkResult {
	var res []checkResult
	// exact: the candidate set is small enough for the device to follow
	// the CPU step by step, so every id must match. Otherwise (thousands of
	// survivors) float32 summation order may move a boundary: every id must
	// survive the CPU's warpers and at least 3/4 must match.
	cases := []struct {
		name  string
		vocab int
		p     sampling.Params
		exact bool
		// crowd ids get values in [16, 17.75], above the random logits and
		// within one bin of the top-k first pass's histogram, more than
		// it gathers: the whole-vocabulary path, with a few hundred
		// survivors (ties) drawn exactly.
		crowd int
	}{
		{"greedy", 262144, sampling.Params{}, true, 0},
		{"greedy+penalty", 1000, sampling.Params{RepetitionPenalty: 1.3}, true, 0},
		{"greedy, odd vocabulary", 151937, sampling.Params{}, true, 0},
		{"T->0 limit (greedy)", 128256, sampling.Params{Temperature: 1e-38, Seed: 1}, true, 0},
		{"llama stack", 128256, sampling.Params{Temperature: 0.6, TopK: 50, TopP: 0.9, Seed: 7}, true, 0},
		{"qwen stack+penalty", 151936, sampling.Params{Temperature: 0.6, TopK: 20, TopP: 0.95, RepetitionPenalty: 1.1, Seed: 11}, true, 0},
		{"top-k 1000", 30011, sampling.Params{Temperature: 0.8, TopK: 1000, Seed: 9}, true, 0},
		{"top-k, crowded bin", 128256, sampling.Params{Temperature: 1, TopK: 50, TopP: 0.9, Seed: 15}, true, 5000},
		{"top-p only", 50000, sampling.Params{Temperature: 1.5, TopP: 0.9, Seed: 3}, false, 0},
		{"full softmax", 30011, sampling.Params{Temperature: 1, Seed: 5}, false, 0},
	}
	const steps = 12
	for _, c := range cases {
		shape := fmt.Sprintf("vocab %d, %d steps", c.vocab, steps)
		name := "sampler " + c.name
		res = append(res, s.timed(func() checkResult {
			r := &run{s: s}
			defer r.done()
			history := []int32{1, 5, 5, int32(c.vocab - 1)}
			ts, err := s.b.NewSampler(c.p, c.vocab, history, steps)
			if err != nil {
				return failed(name, shape, err)
			}
			defer ts.Free()
			ref, err := sampling.NewSampler(c.p, c.vocab)
			if err != nil {
				return failed(name, shape, err)
			}
			lb := r.out(c.vocab)
			ib := r.ints([]int32{0})
			if r.err != nil {
				return failed(name, shape, r.err)
			}
			hist := append([]int32(nil), history...)
			same := 0
			for step := 0; step < steps; step++ {
				logits := s.randBF16(c.vocab, 3)
				// Plant a tie at the top to check the lowest-id rule.
				top := 0
				for i := range logits {
					if bf16.ToFloat32(logits[i]) > bf16.ToFloat32(logits[top]) {
						top = i
					}
				}
				logits[s.rng.IntN(c.vocab)] = logits[top]
				for _, i := range s.rng.Perm(c.vocab)[:c.crowd] {
					logits[i] = bf16.FromFloat32(16 + 1.75*float32(s.rng.Float64())) // rounds to at most 17.75
				}
				if err := s.b.WriteBF16(lb, 0, logits); err != nil {
					return failed(name, shape, err)
				}
				if err := ts.Sample(lb, ib); err != nil {
					return failed(name, shape, err)
				}
				got, err := ts.Token(step)
				if err != nil {
					return failed(name, shape, err)
				}
				f := make([]float32, c.vocab)
				bf16.ToFloat32Slice(f, logits)
				kept := survivors(f, hist, c.p)
				want := ref.Sample(f, hist)
				hist = append(hist, want)
				if got == want {
					same++
					continue
				}
				if c.exact || got < 0 || int(got) >= c.vocab || !kept[got] {
					return checkResult{name: name, shape: shape, tol: "identical ids",
						metric: fmt.Sprintf("step %d: device %d, reference %d (device id kept by the CPU: %v)", step, got, want, got >= 0 && int(got) < c.vocab && kept[got])}
				}
			}
			ids := make([]int32, 1)
			if err := s.b.ReadInt32(ids, ib, 0); err != nil {
				return failed(name, shape, err)
			}
			tol := "identical ids"
			pass := same == steps
			if !c.exact {
				tol = "kept by the CPU, >= 3/4 identical"
				pass = 4*same >= 3*steps
			}
			last, _ := ts.Token(steps - 1)
			return checkResult{name: name, shape: shape, metric: fmt.Sprintf("%d/%d identical", same, steps), tol: tol,
				pass: pass && ids[0] == last}
		}))
	}
	return res
}

// survivors marks the ids left finite by the CPU's processors and warpers
// (penalty, temperature, top-k, top-p) for the given history.
func survivors(logits []float32, history []int32, p sampling.Params) []bool {
	f := append([]float32(nil), logits...)
	sampling.ApplyRepetitionPenalty(f, history, p.RepetitionPenalty)
	if !p.Greedy() {
		sampling.ApplyTemperature(f, p.Temperature)
		sampling.ApplyTopK(f, p.TopK)
		sampling.ApplyTopP(f, p.TopP)
	}
	kept := make([]bool, len(f))
	for i, x := range f {
		kept[i] = x > float32(math.Inf(-1))
	}
	return kept
}

// graph checks that a captured sequence replays with values read at replay
// time.
func (s *selftest) graph() []checkResult {
	return []checkResult{s.timed(func() checkResult {
		r := &run{s: s}
		defer r.done()
		const vocab, hidden = 50, 24
		table := s.randBF16(vocab*hidden, 1)
		w := r.weight(backend.Matrix{Name: "embed", Rows: vocab, Cols: hidden, Data: table})
		ids := r.ints([]int32{3})
		out := r.out(hidden)
		if r.err != nil {
			return failed("graph replay", "", r.err)
		}
		stp, err := s.b.Capture(func() error {
			return errors.Join(s.b.Embed(out, ids, 1, w, 1), s.b.AddInt32(ids, 1, 7))
		})
		if err != nil {
			return failed("graph replay", "", err)
		}
		defer stp.Free()
		// Capture records without running: ids is still 3.
		id := int32(3)
		for rep := 0; rep < 5; rep++ {
			if err := stp.Replay(); err != nil {
				return failed("graph replay", "", err)
			}
			got, err := s.read(out, hidden)
			if err != nil {
				return failed("graph replay", "", err)
			}
			want := make([]uint16, hidden)
			cpu.RefEmbed(want, []int32{id}, table, hidden, 1)
			if c := compare(got, want); c.maxUlp != 0 || c.nan {
				return checkResult{name: "graph replay", shape: "embed+add_i32 ×5", metric: fmt.Sprintf("replay %d differs", rep), tol: "exact"}
			}
			id += 7
		}
		return checkResult{name: "graph replay", shape: "embed+add_i32 ×5", metric: "5/5 exact", tol: "exact", pass: true}
	})}
}

// model runs the same synthetic model on the CPU and the GPU: a
// teacher-forced prefill (logits at every position), then decode steps
// replayed from a captured graph, comparing logits with the pass criteria
// of MODELS.md §5.
func (s *selftest) model(name string, seed uint64, threads int) checkResult {
	t0 := time.Now()
	res := func(r checkResult) checkResult { r.dur = time.Since(t0); return r }
	spec, ok := model.Builtin(name)
	if !ok {
		return res(failed("model "+name, "", fmt.Errorf("unknown built-in model %q", name)))
	}
	m, err := weights.Synthetic(spec, seed)
	if err != nil {
		return res(failed("model "+name, "", err))
	}
	defer m.Close()
	const prompt, decode = 12, 4
	shape := fmt.Sprintf("prefill %d + decode %d", prompt, decode)
	ids := make([]int32, prompt+decode)
	for i := range ids {
		ids[i] = int32(s.rng.IntN(spec.VocabSize))
	}
	ids[0] = spec.BOSTokenID
	cb := cpu.New(threads)
	defer cb.Close()
	cpuLogits, err := runModel(cb, m, ids, prompt, nil)
	if err != nil {
		return res(failed("model "+name, shape, fmt.Errorf("cpu: %w", err)))
	}
	gpuLogits, err := runModel(s.b, m, ids, prompt, s.b)
	if err != nil {
		return res(failed("model "+name, shape, fmt.Errorf("gpu: %w", err)))
	}
	st := logitStats(cpuLogits, gpuLogits, spec.VocabSize)
	pass := st.mean <= 0.05 && st.max <= 0.5 && st.top1Disagree == 0 && !st.nan
	return res(checkResult{name: "model " + name, shape: shape,
		metric: fmt.Sprintf("mean|Δ| %.4f, max|Δ| %.3f, top-1 %d/%d (%d within margin)", st.mean, st.max, st.rows-st.top1Disagree, st.rows, st.marginSkips),
		tol:    "mean<=0.05, max<=0.5, top-1",
		pass:   pass})
}

// runModel returns the logits of every position: prefill of the first
// prompt ids (all positions), then one decode step per remaining id. With a
// capturer the decode step is captured once and replayed.
func runModel(be backend.Backend, m *weights.Model, ids []int32, prompt int, capt backend.Capturer) ([][]float32, error) {
	d, err := decoder.New(be, m)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	V := m.Spec.VocabSize
	st, err := d.NewState(len(ids)+1, prompt, true)
	if err != nil {
		return nil, err
	}
	defer st.Free()
	if err := d.Prefill(st, ids[:prompt], 0); err != nil {
		return nil, err
	}
	var out [][]float32
	all := make([]float32, prompt*V)
	if err := be.ReadBF16AsF32(all, st.Logits, 0); err != nil {
		return nil, err
	}
	for i := 0; i < prompt; i++ {
		out = append(out, all[i*V:(i+1)*V])
	}
	if err := d.SetPosition(st, prompt); err != nil {
		return nil, err
	}
	var stp backend.Step
	if capt != nil {
		// Captured once: the token is written before each replay.
		if err := d.SetToken(st, ids[prompt]); err != nil {
			return nil, err
		}
		if stp, err = capt.Capture(func() error { return d.Step(st) }); err != nil {
			return nil, err
		}
		defer stp.Free()
	}
	for i := prompt; i < len(ids); i++ {
		if err := d.SetToken(st, ids[i]); err != nil {
			return nil, err
		}
		if stp != nil {
			err = stp.Replay()
		} else {
			err = d.Step(st)
		}
		if err != nil {
			return nil, err
		}
		row := make([]float32, V)
		if err := be.ReadBF16AsF32(row, st.Logits, 0); err != nil {
			return nil, err
		}
		out = append(out, row)
	}
	return out, nil
}

type logitSummary struct {
	mean, max                       float64
	rows, top1Disagree, marginSkips int
	nan                             bool
}

// logitStats compares GPU logits with the CPU's: mean and max |Δ|, and
// top-1 agreement except where the CPU's top-1/top-2 margin is <= 0.25.
func logitStats(ref, got [][]float32, vocab int) logitSummary {
	var s logitSummary
	var sum float64
	var n int
	for r := range ref {
		s.rows++
		best, second := -1, -1
		for i := 0; i < vocab; i++ {
			a, b := ref[r][i], got[r][i]
			if a != a || b != b {
				s.nan = true
				continue
			}
			d := math.Abs(float64(a - b))
			sum += d
			n++
			s.max = max(s.max, d)
			if best < 0 || a > ref[r][best] {
				best, second = i, best
			} else if second < 0 || a > ref[r][second] {
				second = i
			}
		}
		gbest := 0
		for i := 1; i < vocab; i++ {
			if got[r][i] > got[r][gbest] {
				gbest = i
			}
		}
		if gbest != best {
			if second >= 0 && ref[r][best]-ref[r][second] <= 0.25 {
				s.marginSkips++
			} else {
				s.top1Disagree++
			}
		}
	}
	if n > 0 {
		s.mean = sum / float64(n)
	}
	return s
}
