//go:build !amd64

package cpu

// hasBF16 is false off amd64: the portable Go kernels run. It is a
// variable so that tests can select kernels the same way on every arch.
var hasBF16 = false

func dotBF16Fast(a, b []uint16) float32 { return dotBF16Go(a, b) }

func dot4(w []uint16, k int, x []uint16, out *[tileR]float32) { dot4Go(w, k, x, out) }

func tile(w []uint16, k int, x []uint16, out *[tileR * tileT]float32) { tileGo(w, k, x, out) }

func axpyBF16(acc []float32, a float32, v []uint16) { axpyGo(acc, a, v) }
