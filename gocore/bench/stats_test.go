package bench

import (
	"math"
	"reflect"
	"testing"
	"time"
)

func TestNewFigure(t *testing.T) {
	cases := []struct {
		in               []float64
		median, min, max float64
	}{
		{[]float64{5}, 5, 5, 5},
		{[]float64{3, 1, 2}, 2, 1, 3},
		{[]float64{10, 40, 20, 30}, 25, 10, 40},
		{[]float64{7, 7, 1, 9, 8}, 7, 1, 9},
		{[]float64{2.5, 0.5}, 1.5, 0.5, 2.5},
		{[]float64{100, 90, 95, 80, 85, 99}, 92.5, 80, 100},
	}
	for _, c := range cases {
		in := append([]float64(nil), c.in...)
		f := NewFigure(in)
		if f.Median != c.median || f.Min != c.min || f.Max != c.max {
			t.Errorf("NewFigure(%v) = median %v min %v max %v; want %v %v %v", c.in, f.Median, f.Min, f.Max, c.median, c.min, c.max)
		}
		if !reflect.DeepEqual(f.Trials, c.in) || !reflect.DeepEqual(in, c.in) {
			t.Errorf("NewFigure(%v) trials %v (input now %v): order must be kept", c.in, f.Trials, in)
		}
	}
	if f := NewFigure(nil); f.Median != 0 || f.Trials == nil || len(f.Trials) != 0 {
		t.Errorf("NewFigure(nil) = %+v", f)
	}
}

func TestMeasure(t *testing.T) {
	// 256 prompt tokens, 64 generated; first token at 200 ms, last at 1.46 s.
	f := Measure(256, 64, 200*time.Millisecond, 1460*time.Millisecond, 1<<30)
	near := func(name string, got, want float64) {
		if math.Abs(got-want) > 1e-9*math.Max(1, want) {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	near("e2e", f.E2ETokS, 64/1.46)
	near("ttft", f.TTFTMs, 200)
	near("prefill", f.PrefillTokS, 1280) // 256 / 0.2
	near("decode", f.DecodeTokS, 50)     // 63 / 1.26
	if f.PeakMem != 1<<30 {
		t.Errorf("peak = %d", f.PeakMem)
	}
	// One generated token: no decode span.
	f = Measure(8, 1, time.Second, time.Second, 0)
	near("e2e single", f.E2ETokS, 1)
	near("decode single", f.DecodeTokS, 0)
}
