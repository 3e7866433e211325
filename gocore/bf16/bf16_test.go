package bf16

import (
	"math"
	"math/big"
	"testing"
)

// refRound rounds f to bfloat16 with exact big-float arithmetic (nearest,
// ties to even), an independent reference for FromFloat32.
func refRound(f float32) float32 {
	if math.IsInf(float64(f), 0) || f == 0 {
		return f
	}
	x := new(big.Float).SetPrec(8).SetMode(big.ToNearestEven)
	x.SetFloat64(float64(f))
	r, _ := x.Float32()
	return r
}

func TestRoundMatchesExactReference(t *testing.T) {
	// Every 97th bit pattern covers all exponents, signs and tie cases.
	for b := uint64(0); b < 1<<32; b += 97 {
		f := math.Float32frombits(uint32(b))
		if f != f {
			continue
		}
		if a := math.Abs(float64(f)); a > 3.38e38 || a < 1.1754944e-38 {
			continue // overflow to inf and subnormals are checked below
		}
		if got, want := Round(f), refRound(f); got != want && !(got == 0 && want == 0) {
			t.Fatalf("Round(%g [%08x]) = %g, want %g", f, b, got, want)
		}
	}
}

func TestSubnormals(t *testing.T) {
	// bf16 subnormals are float32 subnormals with 7 stored mantissa bits.
	for b := uint32(1); b < 0x00800000; b += 13 {
		f := math.Float32frombits(b)
		got := math.Float32bits(Round(f))
		lo, hi := b&^0xffff, (b&^0xffff)+0x10000
		want := lo
		if d := b - lo; d > 0x8000 || (d == 0x8000 && lo&0x10000 != 0) {
			want = hi
		}
		if got != want {
			t.Fatalf("Round(%08x) = %08x, want %08x", b, got, want)
		}
	}
}

func TestTiesToEven(t *testing.T) {
	cases := []struct {
		in   uint32
		want uint16
	}{
		{0x3f808000, 0x3f80}, // tie, even stays
		{0x3f818000, 0x3f82}, // tie, odd rounds up
		{0x3f808001, 0x3f81}, // above tie
		{0x7f7fffff, 0x7f80}, // max float32 -> inf
	}
	for _, c := range cases {
		if got := FromFloat32(math.Float32frombits(c.in)); got != c.want {
			t.Errorf("FromFloat32(%08x) = %04x, want %04x", c.in, got, c.want)
		}
	}
	if h := FromFloat32(float32(math.NaN())); ToFloat32(h) == ToFloat32(h) {
		t.Errorf("NaN became %04x", h)
	}
}

func TestF16(t *testing.T) {
	cases := map[uint16]float32{
		0x3c00: 1, 0xc000: -2, 0x7bff: 65504, 0x0001: 5.960464477539063e-08,
		0x0400: 6.103515625e-05, 0x3555: 0.333251953125, 0x8000: float32(math.Copysign(0, -1)),
	}
	for h, want := range cases {
		if got := F16ToFloat32(h); got != want || math.Signbit(float64(got)) != math.Signbit(float64(want)) {
			t.Errorf("F16ToFloat32(%04x) = %g, want %g", h, got, want)
		}
	}
	if !math.IsInf(float64(F16ToFloat32(0x7c00)), 1) {
		t.Error("f16 inf")
	}
}
