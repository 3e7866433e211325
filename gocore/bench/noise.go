package bench

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"gonum.org/v1/gonum/stat"
)

// NoisyCV is the coefficient of variation above which the summary warns
// that a figure's trials disagree.
const NoisyCV = 0.05

// spread returns the mean, the sample standard deviation (n-1) and the
// coefficient of variation of xs; fewer than two values have no spread.
func spread(xs []float64) (mean, stddev, cv float64) {
	if len(xs) == 0 {
		return 0, 0, 0
	}
	if len(xs) == 1 {
		return xs[0], 0, 0
	}
	mean, stddev = stat.MeanStdDev(xs, nil)
	if mean != 0 {
		cv = stddev / math.Abs(mean)
	}
	return mean, stddev, cv
}

// Latency is a distribution of per-token times in milliseconds.
type Latency struct {
	Count int     `json:"count"` // the number of intervals
	Mean  float64 `json:"mean"`
	P50   float64 `json:"p50"`
	P90   float64 `json:"p90"`
	P99   float64 `json:"p99"`
	Max   float64 `json:"max"`
}

// InterTokenLatency is the distribution of the gaps between consecutive
// generated tokens (decode steps) over every timed trial: times[i] is when
// token i was on the host. The first token (prefill) is not an interval.
// Percentiles are empirical quantiles (the smallest value with at least
// p of the intervals at or below it), as vLLM reports them. It returns nil
// when no trial has two tokens with times.
func InterTokenLatency(trials [][]time.Duration) *Latency {
	var gaps []float64
	for _, times := range trials {
		for i := 1; i < len(times); i++ {
			gaps = append(gaps, float64(times[i]-times[i-1])/float64(time.Millisecond))
		}
	}
	if len(gaps) == 0 {
		return nil
	}
	slices.Sort(gaps)
	q := func(p float64) float64 { return stat.Quantile(p, stat.Empirical, gaps, nil) }
	return &Latency{
		Count: len(gaps),
		Mean:  stat.Mean(gaps, nil),
		P50:   q(0.50),
		P90:   q(0.90),
		P99:   q(0.99),
		Max:   gaps[len(gaps)-1],
	}
}

// noisyFigures lists, for a config, the figures whose trials spread more
// than NoisyCV, as "E2E tok/s (CV 12.3 %)".
func noisyFigures(c *ConfigResult) []string {
	var out []string
	for _, f := range summaryFigures {
		fig := f.figure(c)
		if fig.CV > NoisyCV {
			out = append(out, fmt.Sprintf("%s CV %.1f %%", f.name, 100*fig.CV))
		}
	}
	return out
}

// noiseWarning is the summary's warning about configs with noisy
// figures, or "" when every figure is steady.
func noiseWarning(r *Report) string {
	var lines []string
	for i := range r.Configs {
		if n := noisyFigures(&r.Configs[i]); len(n) > 0 {
			lines = append(lines, fmt.Sprintf("  %s: %s", r.Configs[i].Key, strings.Join(n, ", ")))
		}
	}
	if len(lines) == 0 {
		return ""
	}
	trials := r.Flags.Trials
	return fmt.Sprintf("WARNING: trials disagree by more than %.0f %% (coefficient of variation):\n%s\n"+
		"  The medians above are not reliable to that precision: run more trials (--trials %d), more warm-up (--warmup %d),\n"+
		"  on a quieter machine (close other programs, fix the CPU frequency, or pin --threads below the core count).\n",
		100*NoisyCV, strings.Join(lines, "\n"), max(5, 2*trials), max(2, r.Flags.Warmup+1))
}

// summaryFigures are the timed figures with their names, in table order.
var summaryFigures = []struct {
	name, key string
	figure    func(*ConfigResult) Figure
}{
	{"E2E tok/s", "e2e", func(c *ConfigResult) Figure { return c.E2ETokS }},
	{"TTFT ms", "ttft", func(c *ConfigResult) Figure { return c.TTFTMs }},
	{"Prefill tok/s", "prefill", func(c *ConfigResult) Figure { return c.PrefillTokS }},
	{"Decode tok/s", "decode", func(c *ConfigResult) Figure { return c.DecodeTokS }},
}

// fillSpread computes the mean, standard deviation and CV of every figure
// from its trials where they are missing (reports written before those
// fields existed); the summary, compare and record call it.
func (r *Report) fillSpread() {
	for i := range r.Configs {
		c := &r.Configs[i]
		figs := []*Figure{&c.E2ETokS, &c.TTFTMs, &c.PrefillTokS, &c.DecodeTokS, &c.PeakMem}
		if c.DecodeReadGBs != nil {
			figs = append(figs, c.DecodeReadGBs)
		}
		for _, f := range figs {
			if f.Mean == 0 && len(f.Trials) > 0 {
				f.Mean, f.Stddev, f.CV = spread(f.Trials)
			}
		}
	}
}
