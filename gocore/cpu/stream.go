package cpu

import "encoding/binary"

// XorWords returns the XOR of the little-endian 64-bit words of
// b[:len(b)&^7]. It reads b once, front to back, as fast as the CPU can
// stream it (AVX-512 loads where available), which makes it a measure of
// the memory read bandwidth that bounds decoding.
func XorWords(b []byte) uint64 {
	n := len(b) &^ 7
	var s uint64
	i := xorWordsFast(b[:n], &s)
	for ; i < n; i += 8 {
		s ^= binary.LittleEndian.Uint64(b[i:])
	}
	return s
}
