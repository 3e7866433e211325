// Package bf16 converts between IEEE float32 and bfloat16 (the upper 16 bits
// of a float32), rounding to nearest-even exactly as PyTorch does.
package bf16

import "math"

// FromFloat32 rounds f to the nearest bfloat16 (ties to even). NaN stays NaN
// (quiet), infinities stay infinite.
func FromFloat32(f float32) uint16 {
	b := math.Float32bits(f)
	if b&0x7fffffff > 0x7f800000 { // NaN: keep sign, force a quiet payload
		return uint16(b>>16) | 0x0040
	}
	b += 0x7fff + ((b >> 16) & 1)
	return uint16(b >> 16)
}

// ToFloat32 widens a bfloat16 to float32 (exact).
func ToFloat32(h uint16) float32 {
	return math.Float32frombits(uint32(h) << 16)
}

// Round returns f rounded to the nearest bfloat16 value, as a float32.
func Round(f float32) float32 {
	return ToFloat32(FromFloat32(f))
}

// ToFloat32Slice converts src into dst (len(dst) must be >= len(src)).
func ToFloat32Slice(dst []float32, src []uint16) {
	dst = dst[:len(src)]
	for i, h := range src {
		dst[i] = ToFloat32(h)
	}
}

// F16ToFloat32 widens an IEEE half-precision value to float32 (exact).
func F16ToFloat32(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	man := uint32(h) & 0x3ff
	switch {
	case exp == 0 && man == 0:
		return math.Float32frombits(sign)
	case exp == 0: // subnormal: normalise
		e := uint32(127 - 15 + 1)
		for man&0x400 == 0 {
			man <<= 1
			e--
		}
		man &= 0x3ff
		return math.Float32frombits(sign | e<<23 | man<<13)
	case exp == 0x1f:
		return math.Float32frombits(sign | 0x7f800000 | man<<13)
	default:
		return math.Float32frombits(sign | (exp+127-15)<<23 | man<<13)
	}
}
