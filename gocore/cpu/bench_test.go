package cpu

import (
	"math/rand/v2"
	"testing"

	"github.com/genbench/genbench/gocore/backend"
)

// Kernel benchmarks on Llama-3.2-1B shapes:
//
//	go test -run '^$' -bench . ./gocore/cpu
//
// GEMV reports the weight bytes streamed per second (bandwidth bound);
// GEMM reports multiply-adds per second (compute bound).
func benchMatmul(b *testing.B, n, rows, cols int) {
	r := rand.New(rand.NewPCG(1, 1))
	be := New(0)
	defer be.Close()
	w, err := be.UploadWeight(backend.Matrix{Name: "w", Rows: rows, Cols: cols, Data: randBF16(r, rows*cols, 0.02)})
	if err != nil {
		b.Fatal(err)
	}
	x := bufOf(randBF16(r, n*cols, 1))
	out, _ := be.NewBuffer(backend.BF16, n*rows)
	outs := []backend.Buffer{out}
	b.SetBytes(int64(2 * rows * cols))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := be.Matmul(outs, x, n, w); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)*float64(rows)*float64(cols)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GMAC/s")
}

func BenchmarkGEMV8192x2048(b *testing.B)     { benchMatmul(b, 1, 8192, 2048) }
func BenchmarkGEMV2048x8192(b *testing.B)     { benchMatmul(b, 1, 2048, 8192) }
func BenchmarkGEMM256x8192x2048(b *testing.B) { benchMatmul(b, 256, 8192, 2048) }
func BenchmarkGEMM256x2048x8192(b *testing.B) { benchMatmul(b, 256, 2048, 8192) }

func BenchmarkAttentionPrefill256(b *testing.B) {
	r := rand.New(rand.NewPCG(2, 2))
	be := New(0)
	defer be.Close()
	shape := backend.AttnShape{Heads: 32, KVHeads: 8, HeadDim: 64, Scale: 0.125}
	n := 256
	cache, _ := be.NewKVCache(1, n, 8, 64)
	c := cache.(*kvCache)
	copy(c.k[0], randBF16(r, n*8*64, 1))
	copy(c.v[0], randBF16(r, len(c.v[0]), 1))
	pos := make([]int32, n)
	for i := range pos {
		pos[i] = int32(i)
	}
	q := bufOf(randBF16(r, n*32*64, 1))
	out := bufOf(make([]uint16, n*32*64))
	pb := ints(pos)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := be.Attention(out, q, n, pb, cache, 0, shape); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGEMVLlama1B runs the 65 matmuls of one Llama-3.2-1B decode step
// (16 layers of qkv, o, gate/up and down, then the 128256-row LM head) on
// weights of 2.47 GB in all, so that every weight comes from memory:
// decode's matmul bandwidth without attention and the other ops.
func BenchmarkGEMVLlama1B(b *testing.B) {
	be := New(0)
	defer be.Close()
	const H, I, V = 2048, 8192, 128256
	type op struct {
		w    backend.Weight
		outs []backend.Buffer
		x    backend.Buffer
	}
	var ops []op
	var bytes int64
	add := func(cols int, rows ...int) {
		var parts []backend.Matrix
		var outs []backend.Buffer
		for _, r := range rows {
			d := make([]uint16, r*cols)
			for i := range d {
				d[i] = 0x3c00 + uint16(i&127) // small values, every page written
			}
			parts = append(parts, backend.Matrix{Name: "w", Rows: r, Cols: cols, Data: d})
			o, _ := be.NewBuffer(backend.BF16, r)
			outs = append(outs, o)
			bytes += int64(2 * r * cols)
		}
		w, err := be.UploadWeight(parts...)
		if err != nil {
			b.Fatal(err)
		}
		ops = append(ops, op{w, outs, bufOf(make([]uint16, cols))})
	}
	for l := 0; l < 16; l++ {
		add(H, 2048, 512, 512)
		add(H, 2048)
		add(H, I, I)
		add(I, 2048)
	}
	add(H, V)
	step := func() {
		for _, o := range ops {
			if err := be.Matmul(o.outs, o.x, 1, o.w); err != nil {
				b.Fatal(err)
			}
		}
	}
	step()
	b.SetBytes(bytes)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		step()
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tok/s")
}

// BenchmarkReadBandwidth measures ReadBandwidth, the figure the benchmark
// reports' decode_read_pct is a percentage of, with all threads.
func BenchmarkReadBandwidth(b *testing.B) {
	var bw float64
	for i := 0; i < b.N; i++ {
		var err error
		if bw, err = ReadBandwidth(0, BandwidthBytes, 4); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(bw/1e9, "GB/s")
}
