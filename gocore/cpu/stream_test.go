package cpu

import (
	"encoding/binary"
	"math/rand/v2"
	"strings"
	"testing"
)

func TestXorWords(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 3))
	b := make([]byte, 4096+77)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	withKernels(t, func(t *testing.T) {
		for _, n := range []int{0, 7, 8, 255, 256, 263, 1024, 4096 + 77} {
			var want uint64
			for i := 0; i+8 <= n; i += 8 {
				want ^= binary.LittleEndian.Uint64(b[i:])
			}
			if got := XorWords(b[:n]); got != want {
				t.Fatalf("XorWords(%d bytes) = %#x, want %#x", n, got, want)
			}
			if n >= 1 { // unaligned start
				var w1 uint64
				for i := 1; i+8 <= n; i += 8 {
					w1 ^= binary.LittleEndian.Uint64(b[i:])
				}
				if got := XorWords(b[1:n]); got != w1 {
					t.Fatalf("XorWords(b[1:%d]) = %#x, want %#x", n, got, w1)
				}
			}
		}
	})
}

// ReadBandwidth refuses a buffer under 1 MiB or no pass, naming both.
func TestReadBandwidthArgs(t *testing.T) {
	for _, c := range [][2]int{{100, 1}, {1 << 20, 0}} {
		if _, err := ReadBandwidth(1, c[0], c[1]); err == nil || !strings.Contains(err.Error(), ">= 1 MiB and >= 1 pass") {
			t.Errorf("ReadBandwidth(1, %d, %d): %v, want an error naming the limits", c[0], c[1], err)
		}
	}
}
