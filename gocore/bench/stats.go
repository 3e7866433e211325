package bench

import (
	"slices"
	"time"

	"github.com/genbench/genbench/gocore/engine"
)

// Figure is one measured quantity over the timed trials.
type Figure struct {
	Median float64   `json:"median"`
	Min    float64   `json:"min"`
	Max    float64   `json:"max"`
	Trials []float64 `json:"trials"` // per-trial values, in trial order
	// Mean and Stddev (sample standard deviation, n-1) of the trials, and
	// CV = Stddev / Mean (0 for one trial or a zero mean). Reports written
	// before these existed have zeros here.
	Mean   float64 `json:"mean"`
	Stddev float64 `json:"stddev"`
	CV     float64 `json:"cv"`
}

// NewFigure summarises per-trial values: the median (the mean of the two
// middle values for an even count), min, max, mean, sample standard
// deviation and coefficient of variation. No values give zeros.
func NewFigure(trials []float64) Figure {
	f := Figure{Trials: slices.Clone(trials)}
	if f.Trials == nil {
		f.Trials = []float64{}
	}
	if len(trials) == 0 {
		return f
	}
	s := slices.Clone(trials)
	slices.Sort(s)
	n := len(s)
	f.Min, f.Max = s[0], s[n-1]
	if n%2 == 1 {
		f.Median = s[n/2]
	} else {
		f.Median = (s[n/2-1] + s[n/2]) / 2
	}
	f.Mean, f.Stddev, f.CV = spread(trials)
	return f
}

// TrialFigures are the figures of one timed run.
type TrialFigures struct {
	E2ETokS     float64 `json:"e2e_tok_s"`
	TTFTMs      float64 `json:"ttft_ms"`
	PrefillTokS float64 `json:"prefill_tok_s"`
	DecodeTokS  float64 `json:"decode_tok_s"`
	PeakMem     int64   `json:"peak_mem_bytes"`
}

// Measure computes the figures of BENCH.md from one run (engine.Measure)
// with its peak memory.
func Measure(promptTokens, genTokens int, ttft, total time.Duration, peakMem int64) TrialFigures {
	f := engine.Measure(promptTokens, genTokens, ttft, total)
	return TrialFigures{E2ETokS: f.E2ETokS, TTFTMs: f.TTFTMs, PrefillTokS: f.PrefillTokS, DecodeTokS: f.DecodeTokS, PeakMem: peakMem}
}
