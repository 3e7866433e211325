package bench

import (
	"math"
	"strings"
	"testing"
	"time"
)

// Standard deviation and CV against the textbook formulas, computed here
// by hand: {2, 4, 4, 4, 5, 5, 7, 9} has mean 5, sum of squared deviations
// 32, sample variance 32/7.
func TestFigureSpread(t *testing.T) {
	f := NewFigure([]float64{2, 4, 4, 4, 5, 5, 7, 9})
	wantSD := math.Sqrt(32.0 / 7)
	if f.Mean != 5 || math.Abs(f.Stddev-wantSD) > 1e-12 || math.Abs(f.CV-wantSD/5) > 1e-12 {
		t.Errorf("mean %v stddev %v cv %v; want 5 %v %v", f.Mean, f.Stddev, f.CV, wantSD, wantSD/5)
	}
	one := NewFigure([]float64{7})
	if one.Mean != 7 || one.Stddev != 0 || one.CV != 0 {
		t.Errorf("one trial: %+v", one)
	}
	// The review's example: 1830, 4202, 7594 tok/s.
	n := NewFigure([]float64{1830, 4202, 7594})
	mean := (1830.0 + 4202 + 7594) / 3
	ss := math.Pow(1830-mean, 2) + math.Pow(4202-mean, 2) + math.Pow(7594-mean, 2)
	if math.Abs(n.Stddev-math.Sqrt(ss/2)) > 1e-9 || n.CV < 0.5 {
		t.Errorf("spread of the review's trials: %+v", n)
	}
}

// Inter-token latency against a naive nearest-rank percentile over hand-made
// token times: gaps of 1..100 ms (one trial) and a constant 5 ms (another).
func TestInterTokenLatency(t *testing.T) {
	var a, b []time.Duration
	at := time.Duration(0)
	a = append(a, 10*time.Millisecond)
	at = 10 * time.Millisecond
	for g := 1; g <= 100; g++ {
		at += time.Duration(g) * time.Millisecond
		a = append(a, at)
	}
	for i := 0; i < 11; i++ {
		b = append(b, time.Duration(20+5*i)*time.Millisecond)
	}
	l := InterTokenLatency([][]time.Duration{a, b})
	if l == nil || l.Count != 110 {
		t.Fatalf("latency %+v, want 110 intervals", l)
	}
	// Naive: sort the 110 gaps (ten 5s, and 1..100), nearest rank ceil(p*n).
	var gaps []float64
	for i := 0; i < 10; i++ {
		gaps = append(gaps, 5)
	}
	for g := 1; g <= 100; g++ {
		gaps = append(gaps, float64(g))
	}
	sortFloats(gaps)
	rank := func(p float64) float64 { return gaps[int(math.Ceil(p*float64(len(gaps))))-1] }
	if l.P50 != rank(0.5) || l.P90 != rank(0.9) || l.P99 != rank(0.99) || l.Max != 100 {
		t.Errorf("p50 %v p90 %v p99 %v max %v; want %v %v %v 100", l.P50, l.P90, l.P99, l.Max, rank(0.5), rank(0.9), rank(0.99))
	}
	if math.Abs(l.Mean-(5050.0+50)/110) > 1e-9 {
		t.Errorf("mean %v", l.Mean)
	}
	if InterTokenLatency(nil) != nil || InterTokenLatency([][]time.Duration{{time.Second}}) != nil {
		t.Error("no intervals must give nil")
	}
}

func sortFloats(x []float64) {
	for i := 1; i < len(x); i++ {
		for j := i; j > 0 && x[j] < x[j-1]; j-- {
			x[j], x[j-1] = x[j-1], x[j]
		}
	}
}

// A noisy config gets a warning naming it and suggesting what to do; a
// steady report gets none.
func TestNoiseWarning(t *testing.T) {
	r := loadTestReport(t, "report_cpu_quick.json")
	if s := Summary(r, FormatTable); strings.Contains(s, "WARNING") {
		t.Errorf("steady report warned:\n%s", s)
	}
	r.Configs[1].E2ETokS = NewFigure([]float64{1830, 4202, 7594})
	s := Summary(r, FormatTable)
	for _, want := range []string{"WARNING: trials disagree by more than 5 %", "medium: E2E tok/s CV", "--trials 6", "quieter machine"} {
		if !strings.Contains(s, want) {
			t.Errorf("summary lacks %q:\n%s", want, s)
		}
	}
	if strings.Contains(s, "short: E2E") {
		t.Errorf("steady config named:\n%s", s)
	}
}
