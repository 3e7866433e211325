//go:build !amd64

package cpu

// hasBF16 is false off amd64: the portable Go kernels run. It is a
// variable so that tests can select kernels the same way on every arch.
var hasBF16 = false

// hasAVX512 is false off amd64 (see hasBF16).
var hasAVX512 = false

// hasAVX2 is false off amd64 (see hasBF16).
var hasAVX2 = false

func dotBF16Fast(a, b []uint16) float32 { return dotBF16Go(a, b) }

func dot4(w []uint16, ldw, k int, x []uint16, out *[tileR]float32) { dot4Go(w, ldw, k, x, out) }

func tile(w []uint16, ldw int, x []uint16, ldx, k int, out *[tileR * tileT]float32) {
	tileGo(w, ldw, x, ldx, k, out)
}

// expF32 sets dst[i] = exp(src[i]) in float32 (dst may equal src).
func expF32(dst, src []float32) {
	for i, x := range src[:len(dst)] {
		dst[i] = expGo(x)
	}
}

// kPanel is the K length above which blocks get more rows (see amd64).
const kPanel = 2048

func matBlockPanels(out []uint16, ldo int, w []uint16, r0, r1, k int, x []uint16, n int) bool {
	return false
}

func gemv8(out []uint16, w []uint16, r0, r1, pfEnd, k int, x []uint16) int { return r0 }

func xorWordsFast(b []byte, s *uint64) int { return 0 }
