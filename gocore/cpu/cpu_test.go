package cpu

import (
	"math"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/genbench/genbench/gocore/backend"
	"github.com/genbench/genbench/gocore/bf16"
	"github.com/genbench/genbench/gocore/internal/sysinfo"
)

func randBF16(r *rand.Rand, n int, scale float32) []uint16 {
	out := make([]uint16, n)
	for i := range out {
		out[i] = bf16.FromFloat32(float32(r.NormFloat64()) * scale)
	}
	return out
}

func bufOf(u []uint16) *Buf { return &Buf{dt: backend.BF16, U16: append([]uint16(nil), u...)} }
func ints(v []int32) *Buf   { return &Buf{dt: backend.Int32, I32: append([]int32(nil), v...)} }

func mustW(t *testing.T, b *Backend, parts ...backend.Matrix) backend.Weight {
	t.Helper()
	w, err := b.UploadWeight(parts...)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// ulpDiff is the distance in bf16 steps between two finite values of one sign.
func ulpDiff(a, b uint16) int {
	ia, ib := int(int16(a)), int(int16(b))
	if ia < 0 {
		ia = math.MinInt16 - ia
	}
	if ib < 0 {
		ib = math.MinInt16 - ib
	}
	d := ia - ib
	if d < 0 {
		d = -d
	}
	return d
}

// checkSum verifies that got is within the float32-accumulation bound of the
// exact (float64) dot product: |got - exact| <= ulp(exact)/2 + k·2^-23·Σ|terms|.
func checkSum(t *testing.T, what string, got uint16, exact, absSum float64, k int) {
	t.Helper()
	g := float64(bf16.ToFloat32(got))
	e := math.Abs(exact)
	ulp := math.Ldexp(1, math.Ilogb(e)-7)
	if e == 0 {
		ulp = 0
	}
	bound := ulp/2 + float64(k+4)*math.Ldexp(absSum, -23)
	if math.Abs(g-exact) > bound*1.0001 {
		t.Fatalf("%s: got %v, exact %v (bound %v)", what, g, exact, bound)
	}
}

// withKernels runs f with the assembly kernels (when the CPU has them) and
// with the portable Go kernels.
func withKernels(t *testing.T, f func(t *testing.T)) {
	saved, saved512, saved2 := hasBF16, hasAVX512, hasAVX2
	defer func() { hasBF16, hasAVX512, hasAVX2 = saved, saved512, saved2 }()
	if saved {
		t.Run("avx512bf16", f)
	}
	hasBF16, hasAVX512 = false, false
	if saved2 {
		t.Run("avx2", f)
	}
	hasAVX2 = false
	t.Run("go", f)
}

func TestMatmulAgainstReference(t *testing.T) { withKernels(t, testMatmul) }

func testMatmul(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, threads := range []int{1, 3} {
		b := New(threads)
		defer b.Close()
		// odd sizes exercise the row, token and column tails of the kernels.
		for _, sz := range []struct{ n, rows, cols int }{
			{1, 1, 1}, {1, 7, 33}, {1, 12, 64}, {3, 9, 95}, {6, 8, 32}, {7, 13, 129}, {13, 40, 256}, {1, 64, 2048}, {25, 21, 160}, {2, 5, 31}, {13, 36, 4136}, {6, 8, 6144},
		} {
			x := randBF16(r, sz.n*sz.cols, 1)
			w1 := randBF16(r, sz.rows*sz.cols, 0.5)
			w2 := randBF16(r, 3*sz.cols, 0.5)
			w := mustW(t, b, backend.Matrix{Name: "a", Rows: sz.rows, Cols: sz.cols, Data: w1}, backend.Matrix{Name: "b", Rows: 3, Cols: sz.cols, Data: w2})
			o1, _ := b.NewBuffer(backend.BF16, sz.n*sz.rows)
			o2, _ := b.NewBuffer(backend.BF16, sz.n*3)
			if err := b.Matmul([]backend.Buffer{o1, o2}, bufOf(x), sz.n, w); err != nil {
				t.Fatal(err)
			}
			ref1 := make([]uint16, sz.n*sz.rows)
			ref2 := make([]uint16, sz.n*3)
			RefMatmul(ref1, x, sz.n, w1, sz.rows, sz.cols)
			RefMatmul(ref2, x, sz.n, w2, 3, sz.cols)
			for pi, pr := range []struct {
				got, ref, w []uint16
				rows        int
			}{{o1.(*Buf).U16, ref1, w1, sz.rows}, {o2.(*Buf).U16, ref2, w2, 3}} {
				for tk := 0; tk < sz.n; tk++ {
					for row := 0; row < pr.rows; row++ {
						var exact, abs float64
						for c := 0; c < sz.cols; c++ {
							p := float64(bf16.ToFloat32(x[tk*sz.cols+c])) * float64(bf16.ToFloat32(pr.w[row*sz.cols+c]))
							exact += p
							abs += math.Abs(p)
						}
						g := pr.got[tk*pr.rows+row]
						checkSum(t, "matmul", g, exact, abs, sz.cols)
						checkSum(t, "ref matmul", pr.ref[tk*pr.rows+row], exact, abs, sz.cols)
						if d := ulpDiff(g, pr.ref[tk*pr.rows+row]); d > 1 {
							t.Fatalf("part %d %+v token %d row %d: %v vs reference %v", pi, sz, tk, row, bf16.ToFloat32(g), bf16.ToFloat32(pr.ref[tk*pr.rows+row]))
						}
					}
				}
			}
		}
	}
}

// TestMatmulBatchInvariant: a token's outputs have the same bits whether it
// is multiplied alone (decode) or with others (prefill tiles, K panels).
func TestMatmulBatchInvariant(t *testing.T) { withKernels(t, testMatmulBatchInvariant) }

func testMatmulBatchInvariant(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	b := New(2)
	defer b.Close()
	for _, sz := range [][3]int{{13, 40, 4136}, {8, 12, 2048}, {7, 9, 8192}, {12, 36, 100}} {
		n, rows, cols := sz[0], sz[1], sz[2]
		x := randBF16(r, n*cols, 1)
		w := mustW(t, b, backend.Matrix{Name: "w", Rows: rows, Cols: cols, Data: randBF16(r, rows*cols, 0.1)})
		all, _ := b.NewBuffer(backend.BF16, n*rows)
		if err := b.Matmul([]backend.Buffer{all}, bufOf(x), n, w); err != nil {
			t.Fatal(err)
		}
		for tk := 0; tk < n; tk++ {
			one, _ := b.NewBuffer(backend.BF16, rows)
			if err := b.Matmul([]backend.Buffer{one}, bufOf(x[tk*cols:(tk+1)*cols]), 1, w); err != nil {
				t.Fatal(err)
			}
			for i := 0; i < rows; i++ {
				if one.(*Buf).U16[i] != all.(*Buf).U16[tk*rows+i] {
					t.Fatalf("%v: token %d row %d: alone %v, in a batch %v", sz, tk, i, one.(*Buf).U16[i], all.(*Buf).U16[tk*rows+i])
				}
			}
		}
	}
}

func TestOutOfMemoryIsAnError(t *testing.T) {
	if sysinfo.MemInfo("MemAvailable") == 0 {
		t.Skip("no /proc/meminfo: the memory check is Linux-only")
	}
	b := New(1)
	defer b.Close()
	if _, err := b.NewKVCache(64, 1<<24, 64, 256); err == nil {
		t.Fatal("a KV cache of terabytes was allocated")
	}
	if _, err := b.NewBuffer(backend.BF16, 1<<45); err == nil {
		t.Fatal("a buffer of 2^45 elements was allocated")
	}
}

func TestMatmulErrors(t *testing.T) {
	b := New(1)
	defer b.Close()
	w := mustW(t, b, backend.Matrix{Name: "w", Rows: 2, Cols: 4, Data: make([]uint16, 8)})
	x, _ := b.NewBuffer(backend.BF16, 4)
	small, _ := b.NewBuffer(backend.BF16, 1)
	if err := b.Matmul([]backend.Buffer{small}, x, 1, w); err == nil {
		t.Fatal("short output accepted")
	}
	if err := b.Matmul([]backend.Buffer{x, x}, x, 1, w); err == nil {
		t.Fatal("wrong number of outputs accepted")
	}
	if _, err := b.UploadWeight(backend.Matrix{Name: "bad", Rows: 2, Cols: 4, Data: make([]uint16, 7)}); err == nil {
		t.Fatal("short weight accepted")
	}
	if _, err := b.UploadWeight(backend.Matrix{Name: "a", Rows: 1, Cols: 4, Data: make([]uint16, 4)}, backend.Matrix{Name: "b", Rows: 1, Cols: 3, Data: make([]uint16, 3)}); err == nil {
		t.Fatal("parts of different widths accepted")
	}
}

func TestRMSNormStyles(t *testing.T) {
	// Hand-computed: x = [3, 4] → mean square 12.5, inv = 1/sqrt(12.5+eps).
	b := New(2)
	defer b.Close()
	x := []uint16{bf16.FromFloat32(3), bf16.FromFloat32(4)}
	w := []uint16{bf16.FromFloat32(1.5), bf16.FromFloat32(-0.25)}
	wt := mustW(t, b, backend.Matrix{Name: "w", Rows: 1, Cols: 2, Data: w})
	inv := 1 / math.Sqrt(12.5)
	for _, tc := range []struct {
		style backend.NormStyle
		want  [2]float32
	}{
		{backend.LlamaNorm, [2]float32{bf16.Round(1.5 * bf16.Round(float32(3*inv))), bf16.Round(-0.25 * bf16.Round(float32(4*inv)))}},
		{backend.GemmaNorm, [2]float32{bf16.Round(float32(3*inv) * 2.5), bf16.Round(float32(4*inv) * 0.75)}},
	} {
		out := bufOf(make([]uint16, 2))
		if err := b.RMSNorm(out, bufOf(x), 1, 2, wt, 0, tc.style); err != nil {
			t.Fatal(err)
		}
		for i := range 2 {
			if got := bf16.ToFloat32(out.U16[i]); got != tc.want[i] {
				t.Fatalf("style %d elem %d: got %v want %v", tc.style, i, got, tc.want[i])
			}
		}
	}
	// Parallel rows (odd count, odd width, in place) agree with the reference.
	r := rand.New(rand.NewPCG(3, 4))
	for _, sz := range [][2]int{{1, 1}, {5, 7}, {37, 129}, {300, 64}} {
		n, dim := sz[0], sz[1]
		xv := randBF16(r, n*dim, 2)
		wv := randBF16(r, dim, 0.3)
		wt := mustW(t, b, backend.Matrix{Name: "w", Rows: 1, Cols: dim, Data: wv})
		for _, st := range []backend.NormStyle{backend.LlamaNorm, backend.GemmaNorm} {
			got := bufOf(xv)
			if err := b.RMSNorm(got, got, n, dim, wt, 1e-6, st); err != nil {
				t.Fatal(err)
			}
			ref := make([]uint16, n*dim)
			RefRMSNorm(ref, xv, n, dim, wv, 1e-6, st)
			for i := range ref {
				if ref[i] != got.U16[i] {
					t.Fatalf("%v: elem %d: %v vs %v", sz, i, got.U16[i], ref[i])
				}
			}
			// the reference against a float64 computation
			for row := 0; row < n; row++ {
				var ss float64
				for i := 0; i < dim; i++ {
					f := float64(bf16.ToFloat32(xv[row*dim+i]))
					ss += f * f
				}
				inv := 1 / math.Sqrt(ss/float64(dim)+1e-6)
				for i := 0; i < dim; i++ {
					nv := float64(bf16.ToFloat32(xv[row*dim+i])) * inv
					var want float64
					if st == backend.GemmaNorm {
						want = nv * (1 + float64(bf16.ToFloat32(wv[i])))
					} else {
						want = float64(bf16.ToFloat32(wv[i])) * float64(bf16.Round(float32(nv)))
					}
					g := float64(bf16.ToFloat32(ref[row*dim+i]))
					if math.Abs(g-want) > math.Abs(want)*(1.0/128)+1e-30 {
						t.Fatalf("norm %v row %d elem %d: %v vs float64 %v", sz, row, i, g, want)
					}
				}
			}
		}
	}
}

func TestEmbed(t *testing.T) {
	b := New(1)
	defer b.Close()
	r := rand.New(rand.NewPCG(5, 6))
	table := randBF16(r, 10*6, 1)
	w := mustW(t, b, backend.Matrix{Name: "e", Rows: 10, Cols: 6, Data: table})
	out := bufOf(make([]uint16, 3*6))
	if err := b.Embed(out, ints([]int32{9, 0, 4}), 3, w, 34); err != nil {
		t.Fatal(err)
	}
	for ti, id := range []int{9, 0, 4} {
		for i := 0; i < 6; i++ {
			want := bf16.Round(bf16.ToFloat32(table[id*6+i]) * 34)
			if got := bf16.ToFloat32(out.U16[ti*6+i]); got != want {
				t.Fatalf("token %d elem %d: %v want %v", ti, i, got, want)
			}
		}
	}
	if err := b.Embed(out, ints([]int32{10}), 1, w, 1); err == nil {
		t.Fatal("out-of-range id accepted")
	}
	if err := b.Embed(out, ints([]int32{-1}), 1, w, 1); err == nil {
		t.Fatal("negative id accepted")
	}
}

func TestGLUAddSoftcap(t *testing.T) { withKernels(t, testGLUAddSoftcap) }

func testGLUAddSoftcap(t *testing.T) {
	b := New(2)
	defer b.Close()
	r := rand.New(rand.NewPCG(7, 8))
	n := 20011 // odd, several parallel chunks
	g, u := randBF16(r, n, 3), randBF16(r, n, 1)
	for _, act := range []backend.Activation{backend.SiLU, backend.GELUTanh} {
		out := bufOf(make([]uint16, n))
		if err := b.GLU(out, bufOf(g), bufOf(u), 1, n, act); err != nil {
			t.Fatal(err)
		}
		ref := make([]uint16, n)
		RefGLU(ref, g, u, act)
		mismatch := 0
		for i := 0; i < n; i++ {
			z := float64(bf16.ToFloat32(g[i]))
			uu := math.Abs(float64(bf16.ToFloat32(u[i])))
			var a float64
			if act == backend.SiLU {
				a = z / (1 + math.Exp(-z))
			} else {
				a = 0.5 * z * (1 + math.Tanh(math.Sqrt(2/math.Pi)*(z+0.044715*z*z*z)))
			}
			want := float64(bf16.Round(bf16.Round(float32(a)) * bf16.ToFloat32(u[i])))
			// float32 evaluation: one bf16 step, or an absolute error of
			// a few float32 ulps of 1 times |z·u| (1+tanh cancels near -1)
			near := func(got uint16, other float64) bool {
				d := math.Abs(float64(bf16.ToFloat32(got)) - other)
				return d <= math.Abs(other)/128+1e-30 || d <= 2e-7*math.Abs(z)*uu+math.Abs(other)/128
			}
			if !near(ref[i], want) {
				t.Fatalf("reference act %d elem %d (z=%v): %v want %v", act, i, z, bf16.ToFloat32(ref[i]), want)
			}
			if out.U16[i] != ref[i] {
				// below z = -2, 1+tanh loses bits to cancellation in float32
				// (in PyTorch too): only the absolute bound applies there
				if act == backend.SiLU || z > -2 {
					mismatch++
				}
				if !near(out.U16[i], float64(bf16.ToFloat32(ref[i]))) {
					t.Fatalf("act %d elem %d (z=%v): %v, reference %v", act, i, z, bf16.ToFloat32(out.U16[i]), bf16.ToFloat32(ref[i]))
				}
			}
		}
		if mismatch > n/1000 {
			t.Fatalf("act %d: %d of %d values differ from the reference by one bf16 step", act, mismatch, n)
		}
	}
	out := bufOf(make([]uint16, n))
	if err := b.Add(out, bufOf(g), bufOf(u), n); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i++ {
		want := bf16.Round(bf16.ToFloat32(g[i]) + bf16.ToFloat32(u[i]))
		if got := bf16.ToFloat32(out.U16[i]); got != want {
			t.Fatalf("add %d: %v want %v", i, got, want)
		}
	}
	x := bufOf(g)
	if err := b.Softcap(x, n, 2); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i++ {
		want := bf16.Round(float32(math.Tanh(float64(bf16.ToFloat32(g[i]))/2) * 2))
		if got := bf16.ToFloat32(x.U16[i]); got != want {
			t.Fatalf("softcap %d: %v want %v", i, got, want)
		}
	}
}

// ropeTable builds a bf16 table with plain float64 math.
func testRope(positions, d int, base float64) (cos, sin []uint16) {
	half := d / 2
	cos, sin = make([]uint16, positions*half), make([]uint16, positions*half)
	for p := 0; p < positions; p++ {
		for j := 0; j < half; j++ {
			a := float64(float32(p) * float32(1/math.Pow(base, float64(2*j)/float64(d))))
			cos[p*half+j] = bf16.FromFloat32(float32(math.Cos(a)))
			sin[p*half+j] = bf16.FromFloat32(float32(math.Sin(a)))
		}
	}
	return cos, sin
}

func TestRopeKVAndAttention(t *testing.T) { withKernels(t, testRopeKVAndAttention) }

func testRopeKVAndAttention(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	b := New(3)
	defer b.Close()
	for _, shape := range []backend.AttnShape{
		{Heads: 4, KVHeads: 2, HeadDim: 8, Scale: 0.35},
		{Heads: 3, KVHeads: 1, HeadDim: 70, Scale: 0.1},
		{Heads: 4, KVHeads: 1, HeadDim: 64, Scale: 0.125, Window: 5},
		{Heads: 2, KVHeads: 2, HeadDim: 128, Scale: 0.0883883, Window: 1},
	} {
		H, KV, D := shape.Heads, shape.KVHeads, shape.HeadDim
		capn := 23
		cos, sin := testRope(capn, D, 10000)
		rope, err := b.UploadRope(capn, D, cos, sin)
		if err != nil {
			t.Fatal(err)
		}
		cache, _ := b.NewKVCache(2, capn, KV, D)
		refK := make([]uint16, capn*KV*D)
		refV := make([]uint16, capn*KV*D)
		// prefill 9 tokens then decode one at a time, checking each call
		start := 0
		for _, n := range []int{9, 1, 1, 5, 1, 6} {
			pos := make([]int32, n)
			for i := range pos {
				pos[i] = int32(start + i)
			}
			q := randBF16(r, n*H*D, 1)
			k := randBF16(r, n*KV*D, 1)
			v := randBF16(r, n*KV*D, 1)
			qb, kb, vb := bufOf(q), bufOf(k), bufOf(v)
			if err := b.RopeKV(qb, kb, vb, n, ints(pos), rope, cache, 1, shape); err != nil {
				t.Fatal(err)
			}
			RefRope(q, n, H, D, pos, cos, sin)
			RefRope(k, n, KV, D, pos, cos, sin)
			for i := range q {
				if q[i] != qb.U16[i] {
					t.Fatalf("rope q %d differs", i)
				}
			}
			copy(refK[start*KV*D:], k)
			copy(refV[start*KV*D:], v)
			c := cache.(*kvCache)
			for i := range refK[:(start+n)*KV*D] {
				if c.k[1][i] != refK[i] || c.value(1, i/(KV*D), i%(KV*D)) != refV[i] {
					t.Fatalf("cache element %d differs", i)
				}
			}
			out := bufOf(make([]uint16, n*H*D))
			if err := b.Attention(out, qb, n, ints(pos), cache, 1, shape); err != nil {
				t.Fatal(err)
			}
			ref := make([]uint16, n*H*D)
			RefAttention(ref, q, n, pos, refK, refV, shape)
			bound := attnBound(q, n, pos, refK, refV, shape)
			for i := range ref {
				if d := ulpDiff(ref[i], out.U16[i]); d > 1 {
					if diff := math.Abs(float64(bf16.ToFloat32(ref[i]) - bf16.ToFloat32(out.U16[i]))); diff > bound[i] {
						t.Fatalf("%+v: attention element %d: %v vs reference %v (bound %v)", shape, i, bf16.ToFloat32(out.U16[i]), bf16.ToFloat32(ref[i]), bound[i])
					}
				}
			}
			start += n
		}
		if err := b.RopeKV(bufOf(make([]uint16, H*D)), bufOf(make([]uint16, KV*D)), bufOf(make([]uint16, KV*D)), 1, ints([]int32{int32(capn)}), rope, cache, 0, shape); err == nil {
			t.Fatal("position past the cache accepted")
		}
	}
}

// attnBound is, per output element, how far two correct implementations
// may differ: each rounds the probabilities to bf16 (a relative step of
// 2^-8 either way, when float32 scores differ in the last bit) and the
// output to bf16: 2^-7·Σ_k p_k·|V_k| + 2 output steps.
func attnBound(q []uint16, n int, pos []int32, k, v []uint16, shape backend.AttnShape) []float64 {
	H, KV, D := shape.Heads, shape.KVHeads, shape.HeadDim
	out := make([]float64, n*H*D)
	for t := 0; t < n; t++ {
		p := int(pos[t])
		lo := keyLo(p, shape.Window)
		for h := 0; h < H; h++ {
			g := h / (H / KV)
			var w []float64
			mx, sum := math.Inf(-1), 0.0
			for key := lo; key <= p; key++ {
				var s float64
				for d := 0; d < D; d++ {
					s += float64(bf16.ToFloat32(q[(t*H+h)*D+d])) * float64(bf16.ToFloat32(k[(key*KV+g)*D+d]))
				}
				w = append(w, s*float64(shape.Scale))
				mx = math.Max(mx, s*float64(shape.Scale))
			}
			for i := range w {
				w[i] = math.Exp(w[i] - mx)
				sum += w[i]
			}
			for d := 0; d < D; d++ {
				var b, o float64
				for i, key := 0, lo; key <= p; i, key = i+1, key+1 {
					vv := float64(bf16.ToFloat32(v[(key*KV+g)*D+d]))
					b += w[i] / sum * math.Abs(vv)
					o += w[i] / sum * vv
				}
				out[(t*H+h)*D+d] = b/128 + math.Abs(o)/64
			}
		}
	}
	return out
}

// TestRefRopeRotation checks the reference rotation against float64 math
// at a position where the angle is known.
func TestRefRopeRotation(t *testing.T) {
	D := 4
	cos, sin := testRope(3, D, 10000)
	x := []uint16{bf16.FromFloat32(1), bf16.FromFloat32(2), bf16.FromFloat32(3), bf16.FromFloat32(4)}
	RefRope(x, 1, 1, D, []int32{2}, cos, sin)
	// pair (x0, x2) rotates by angle 2 (inv_freq[0] = 1), pair (x1, x3) by 2/100.
	c0, s0 := bf16.ToFloat32(cos[2*2]), bf16.ToFloat32(sin[2*2])
	want0 := bf16.Round(bf16.Round(1*c0) + bf16.Round(-3*s0))
	want2 := bf16.Round(bf16.Round(3*c0) + bf16.Round(1*s0))
	if bf16.ToFloat32(x[0]) != want0 || bf16.ToFloat32(x[2]) != want2 {
		t.Fatalf("rotation: got %v, %v want %v, %v", bf16.ToFloat32(x[0]), bf16.ToFloat32(x[2]), want0, want2)
	}
	if math.Abs(float64(want0)-(math.Cos(2)-3*math.Sin(2))) > 0.05 {
		t.Fatalf("rotation far from exact: %v", want0)
	}
}

// TestRefAttentionExact checks the reference against float64 attention.
func TestRefAttentionExact(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	shape := backend.AttnShape{Heads: 2, KVHeads: 1, HeadDim: 16, Scale: 0.25, Window: 3}
	n, D := 6, 16
	q := randBF16(r, n*2*D, 1)
	k := randBF16(r, n*D, 1)
	v := randBF16(r, n*D, 1)
	pos := []int32{0, 1, 2, 3, 4, 5}
	out := make([]uint16, n*2*D)
	RefAttention(out, q, n, pos, k, v, shape)
	for tk := 0; tk < n; tk++ {
		for h := 0; h < 2; h++ {
			lo := max(0, tk-2)
			var sc []float64
			mx := math.Inf(-1)
			for key := lo; key <= tk; key++ {
				var s float64
				for d := 0; d < D; d++ {
					s += float64(bf16.ToFloat32(q[(tk*2+h)*D+d])) * float64(bf16.ToFloat32(k[key*D+d]))
				}
				s *= 0.25
				sc = append(sc, s)
				mx = math.Max(mx, s)
			}
			var sum float64
			for i := range sc {
				sc[i] = math.Exp(sc[i] - mx)
				sum += sc[i]
			}
			for d := 0; d < D; d++ {
				var o float64
				for i, key := 0, lo; key <= tk; i, key = i+1, key+1 {
					o += sc[i] / sum * float64(bf16.ToFloat32(v[key*D+d]))
				}
				g := float64(bf16.ToFloat32(out[(tk*2+h)*D+d]))
				if math.Abs(g-o) > 0.02*math.Max(1, math.Abs(o)) {
					t.Fatalf("token %d head %d dim %d: %v vs %v", tk, h, d, g, o)
				}
			}
		}
	}
}

func TestExpF32(t *testing.T) { withKernels(t, testExp) }

func testExp(t *testing.T) {
	src := []float32{0, 1, -1, 0.5, -0.3466, 0.3466, 10, -10, 88, -87, -200, 87.5, -1e-8, 3.14159, -50, 20, 7.25}
	for i := 0; i < 100; i++ {
		src = append(src, float32(i)*0.37-20)
	}
	dst := make([]float32, len(src))
	expF32(dst, src)
	for i, x := range src {
		want := math.Exp(float64(x))
		if x < -87 {
			if dst[i] > 1e-37 || dst[i] < 0 {
				t.Fatalf("exp(%v) = %v, want ~0", x, dst[i])
			}
			continue
		}
		if math.Abs(float64(dst[i])-want) > 4e-7*want {
			t.Fatalf("exp(%v) = %v, want %v", x, dst[i], want)
		}
	}
}

func TestKernelsAgainstGo(t *testing.T) { withKernels(t, testKernels) }

func testKernels(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	for _, k := range []int{32, 64, 96, 2048, 33, 1, 100} {
		a, c := randBF16(r, k, 1), randBF16(r, k, 1)
		var exact, abs float64
		for i := range a {
			p := float64(bf16.ToFloat32(a[i])) * float64(bf16.ToFloat32(c[i]))
			exact += p
			abs += math.Abs(p)
		}
		got := dotBF16(a, c)
		if math.Abs(float64(got)-exact) > float64(k+4)*math.Ldexp(abs, -23) {
			t.Fatalf("dot k=%d: %v vs %v", k, got, exact)
		}
	}
}

// A worker count beyond MaxThreads is refused by CheckThreads and lowered
// by New (starting 10^8 goroutines would hang the program).
func TestThreadsCap(t *testing.T) {
	max := MaxThreads()
	if max != ThreadsPerCore*runtime.NumCPU() || max < 1 {
		t.Fatalf("MaxThreads() = %d with %d cores", max, runtime.NumCPU())
	}
	for _, n := range []int{0, 1, max} {
		if err := CheckThreads(n); err != nil {
			t.Errorf("CheckThreads(%d) = %v", n, err)
		}
	}
	for _, n := range []int{-1, max + 1, 100000000} {
		if err := CheckThreads(n); err == nil {
			t.Errorf("CheckThreads(%d) accepted", n)
		}
	}
	b := New(100000000)
	defer b.Close()
	if b.Threads() != max {
		t.Errorf("New(1e8).Threads() = %d, want %d", b.Threads(), max)
	}
}
