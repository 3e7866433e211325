package bench

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
)

// compareFigure is a figure Compare can show.
type compareFigure struct {
	key    string // the --figure name
	name   string
	higher bool // higher is better
	get    func(*ConfigResult) (Figure, bool)
	fmt    func(float64) string
}

// compareFigureWith maps a figure to the one whose selection brings it
// along: --figure bw shows the percentage of the device's bandwidth too.
var compareFigureWith = map[string]string{"bwpct": "bw"}

// compareFigures are the figures Compare shows per config, in order.
var compareFigures = []compareFigure{
	{"e2e", "E2E tok/s", true, func(c *ConfigResult) (Figure, bool) { return c.E2ETokS, true }, oneDecimal},
	{"ttft", "TTFT ms", false, func(c *ConfigResult) (Figure, bool) { return c.TTFTMs, true }, oneDecimal},
	{"prefill", "Prefill tok/s", true, func(c *ConfigResult) (Figure, bool) { return c.PrefillTokS, true }, oneDecimal},
	{"decode", "Decode tok/s", true, func(c *ConfigResult) (Figure, bool) { return c.DecodeTokS, true }, oneDecimal},
	{"bw", "Decode GB/s", true, func(c *ConfigResult) (Figure, bool) {
		if c.DecodeReadGBs == nil {
			return Figure{}, false
		}
		return *c.DecodeReadGBs, true
	}, sig3},
	{"bwpct", "% of device BW", true, func(c *ConfigResult) (Figure, bool) {
		if c.DecodeReadPct == nil {
			return Figure{}, false
		}
		return *c.DecodeReadPct, true
	}, func(v float64) string { return fmt.Sprintf("%.1f%%", v) }},
	{"itl", "ITL p50 ms", false, func(c *ConfigResult) (Figure, bool) {
		if c.ITLMs == nil {
			return Figure{}, false
		}
		return Figure{Median: c.ITLMs.P50, Min: c.ITLMs.P50, Max: c.ITLMs.P50, Trials: []float64{c.ITLMs.P50}}, true
	}, sig3},
	{"mem", "Peak mem", false, func(c *ConfigResult) (Figure, bool) { return c.PeakMem, true }, func(v float64) string { return FormatBytes(int64(v)) }},
}

// CompareFigureKeys lists the --figure names.
func CompareFigureKeys() []string {
	var out []string
	for _, f := range compareFigures {
		out = append(out, f.key)
	}
	return out
}

func oneDecimal(v float64) string { return fmt.Sprintf("%.1f", v) }

// CompareOptions shape Compare's output.
type CompareOptions struct {
	Format  string   // Formats(); "" = table
	Figures []string // CompareFigureKeys() to show; empty = all
	// FailIfSlower, when positive, is the regression gate in percent: a
	// figure of a report that is worse than the first report's by more
	// than this plus the noise of both (one combined standard deviation)
	// is listed in CompareResult.Regressions.
	FailIfSlower float64
}

// CompareResult is what Compare found beyond its text.
type CompareResult struct {
	// Regressions names each figure that failed the FailIfSlower gate.
	Regressions []string
}

// Ratio is one report's figure relative to the first report's.
type Ratio struct {
	Value float64 // median / first median
	// Uncertainty is the standard deviation of Value propagated from both
	// runs' relative standard deviations (as hyperfine does):
	// Value * sqrt(CV_a² + CV_b²).
	Uncertainty float64
}

// ratioOf compares b to a; ok is false when a figure is missing or zero.
func ratioOf(a, b Figure) (Ratio, bool) {
	if a.Median == 0 || len(a.Trials) == 0 || len(b.Trials) == 0 {
		return Ratio{}, false
	}
	v := b.Median / a.Median
	return Ratio{Value: v, Uncertainty: v * math.Hypot(a.CV, b.CV)}, true
}

// worse is how much worse b is than a as a fraction (positive = worse),
// and the noise of that fraction.
func (f compareFigure) worse(r Ratio) (float64, float64) {
	if f.higher {
		return 1 - r.Value, r.Uncertainty
	}
	return r.Value - 1, r.Uncertainty
}

// ValidateCompareOptions checks the format and figure names.
func ValidateCompareOptions(o CompareOptions) error {
	var errs []error
	if o.Format != "" {
		if err := ValidateFormat(o.Format); err != nil {
			errs = append(errs, fmt.Errorf("--format: %w", err))
		}
	}
	keys := CompareFigureKeys()
	for _, f := range o.Figures {
		if !slices.Contains(keys, f) {
			errs = append(errs, fmt.Errorf("--figure: unknown figure %q%s: expected %s", f, DidYouMean(f, keys), strings.Join(keys, ", ")))
		}
	}
	if math.IsNaN(o.FailIfSlower) || o.FailIfSlower < 0 {
		errs = append(errs, fmt.Errorf("--fail-if-slower: %v: expected a percentage >= 0", o.FailIfSlower))
	}
	return errors.Join(errs...)
}

// Compare puts reports side by side with the default options (a table of
// every figure).
func Compare(reports []*Report) string {
	s, _ := CompareWith(reports, CompareOptions{})
	return s
}

// CompareWith puts reports side by side. The table and md formats show a
// legend naming each report; notes where a report's device, engine,
// driver, model, dtype, prompt source, commit, warm-up, trials, seed or
// threads differ from the first, or it is incomplete; a table with the
// median of each figure per config (in the order configs first appear)
// and each report's ratio to the first with its uncertainty; and a
// headline per config and report saying how much faster or slower it is
// than the first on the first figure shown, or that the difference is
// within noise. The csv, json and jsonl formats give one row per config,
// figure and report. Options must be valid (ValidateCompareOptions).
func CompareWith(reports []*Report, o CompareOptions) (string, CompareResult) {
	var res CompareResult
	if len(reports) == 0 {
		return "no reports to compare\n", res
	}
	for _, r := range reports {
		r.fillSpread()
	}
	figs := compareFigures
	if len(o.Figures) > 0 {
		figs = nil
		for _, f := range compareFigures {
			if slices.Contains(o.Figures, f.key) || slices.Contains(o.Figures, compareFigureWith[f.key]) {
				figs = append(figs, f)
			}
		}
	}
	keys := configKeysOf(reports)
	results := func(k string) []*ConfigResult {
		out := make([]*ConfigResult, len(reports))
		for i, r := range reports {
			out[i] = findConfig(r, k)
		}
		return out
	}

	// The regression gate and the headlines.
	var headlines []string
	for _, k := range keys {
		cs := results(k)
		for fi, f := range figs {
			for i := 1; i < len(reports); i++ {
				r, ok := pairRatio(f, cs[0], cs[i])
				if !ok {
					continue
				}
				if fi == 0 {
					headlines = append(headlines, headline(k, f, i+1, r))
				}
				if f.key == "bwpct" && !sameBandwidth(reports[0], reports[i]) {
					// Percentages of different device figures: not a
					// regression of the engine (the notes say so).
					continue
				}
				if w, noise := f.worse(r); o.FailIfSlower > 0 && w > o.FailIfSlower/100+noise {
					res.Regressions = append(res.Regressions, fmt.Sprintf("%s %s: [%d] is %.1f %% worse than [1] (noise ±%.1f %%, allowed %g %%)",
						k, f.name, i+1, 100*w, 100*noise, o.FailIfSlower))
				}
			}
		}
	}

	if o.Format == FormatCSV || o.Format == FormatJSON || o.Format == FormatJSONL {
		return compareRows(reports, keys, figs, results).Machine(o.Format), res
	}

	var b strings.Builder
	md := o.Format == FormatMarkdown
	for i, r := range reports {
		line := fmt.Sprintf("[%d] %s · %s suite · driver %s · engine %s %s · %s · %s · %s",
			i+1, r.CreatedAt, r.Suite, r.Driver, r.Engine, r.EngineVersion, r.Model.ID, deviceLine(r), r.DType)
		if md {
			line += "  "
		}
		b.WriteString(line + "\n")
	}
	for _, n := range compareNotes(reports) {
		b.WriteString("note: " + n + "\n")
	}

	t := &Table{Columns: []Column{{Title: "Config"}, {Title: "Figure"}, {Title: "[1]", Right: true}}}
	for i := 2; i <= len(reports); i++ {
		t.Columns = append(t.Columns, Column{Title: fmt.Sprintf("[%d]", i), Right: true}, Column{Title: fmt.Sprintf("[%d]/[1]", i), Right: true})
	}
	for _, k := range keys {
		cs := results(k)
		shown := 0
		for _, f := range figs {
			if !anyFigure(f, cs) {
				continue
			}
			row := []string{"", f.name}
			if shown == 0 || md {
				row[0] = k
			}
			for i, c := range cs {
				fig, ok := Figure{}, false
				if c != nil {
					fig, ok = f.get(c)
				}
				if ok {
					row = append(row, f.fmt(fig.Median))
				} else {
					row = append(row, "-")
				}
				if i == 0 {
					continue
				}
				row = append(row, ratioText(f, cs[0], c))
			}
			t.add(row, nil)
			shown++
		}
	}
	if md {
		b.WriteString("\n" + t.Markdown() + "\n")
	} else {
		b.WriteString(t.Box())
	}
	if len(reports) > 1 {
		b.WriteString("Ratios are value / [1] ± one standard deviation from both runs' trials (higher is better for tok/s, lower for ms and memory).\n")
		for _, h := range headlines {
			if md {
				h = "- " + h
			}
			b.WriteString(h + "\n")
		}
	}
	if o.FailIfSlower > 0 {
		if len(res.Regressions) == 0 {
			fmt.Fprintf(&b, "No figure is more than %g %% worse than [1] beyond noise.\n", o.FailIfSlower)
		} else {
			fmt.Fprintf(&b, "REGRESSION (more than %g %% worse than [1] beyond noise):\n", o.FailIfSlower)
			for _, r := range res.Regressions {
				b.WriteString("  " + r + "\n")
			}
		}
	}
	return b.String(), res
}

// anyFigure reports whether any result has figure f.
func anyFigure(f compareFigure, cs []*ConfigResult) bool {
	for _, c := range cs {
		if c != nil {
			if _, ok := f.get(c); ok {
				return true
			}
		}
	}
	return false
}

// pairRatio is c's figure relative to base's.
func pairRatio(f compareFigure, base, c *ConfigResult) (Ratio, bool) {
	if base == nil || c == nil {
		return Ratio{}, false
	}
	a, ok1 := f.get(base)
	b, ok2 := f.get(c)
	if !ok1 || !ok2 {
		return Ratio{}, false
	}
	return ratioOf(a, b)
}

// ratioText is "1.32x ±0.04" or "-".
func ratioText(f compareFigure, base, c *ConfigResult) string {
	r, ok := pairRatio(f, base, c)
	if !ok {
		return "-"
	}
	prec := 2
	if r.Value < 0.1 {
		prec = 3
	}
	s := fmt.Sprintf("%.*fx", prec, r.Value)
	if r.Uncertainty > 0 {
		s += fmt.Sprintf(" ±%.*f", prec, r.Uncertainty)
	}
	return s
}

// headline says in words how report n compares with [1] on a figure.
func headline(key string, f compareFigure, n int, r Ratio) string {
	rel := 0.0
	if r.Value > 0 {
		rel = 100 * r.Uncertainty / r.Value
	}
	noise := fmt.Sprintf("±%.1f %%", rel)
	better := r.Value > 1 == f.higher
	factor := r.Value
	if r.Value < 1 {
		factor = 1 / r.Value
	}
	word := "faster"
	if !better {
		word = "slower"
	}
	if f.key == "mem" {
		word = "less memory"
		if !better {
			word = "more memory"
		}
		word = "uses " + fmt.Sprintf("%.2f× ", factor) + word
	}
	if math.Abs(r.Value-1) <= r.Uncertainty {
		return fmt.Sprintf("%s, %s: [%d] and [1] are within noise (%.2f×, %s)", key, f.name, n, r.Value, noise)
	}
	if f.key == "mem" {
		return fmt.Sprintf("%s, %s: [%d] %s than [1] (%s)", key, f.name, n, word, noise)
	}
	return fmt.Sprintf("%s, %s: [%d] is %.2f× %s than [1] (%s)", key, f.name, n, factor, word, noise)
}

// compareNotes lists the differences between the runs that make a
// comparison less than like-for-like.
func compareNotes(reports []*Report) []string {
	var notes []string
	first := reports[0]
	for i, r := range reports[1:] {
		n := i + 2
		diff := func(what, a, b string) {
			if a != b {
				notes = append(notes, fmt.Sprintf("%s differs: [%d] %s, [1] %s", what, n, b, a))
			}
		}
		diff("device", deviceLine(first), deviceLine(r))
		diff("engine", first.Engine+" "+first.EngineVersion, r.Engine+" "+r.EngineVersion)
		diff("driver", first.Driver, r.Driver)
		diff("model", first.Model.ID+" ("+first.Model.Path+")", r.Model.ID+" ("+r.Model.Path+")")
		diff("dtype", first.DType, r.DType)
		diff("prompt source", first.PromptSource, r.PromptSource)
		diff("commit", commitLabel(first), commitLabel(r))
		diff("warm-up", plural(first.Flags.Warmup, "run"), plural(r.Flags.Warmup, "run"))
		diff("trials", plural(first.Flags.Trials, "trial"), plural(r.Flags.Trials, "trial"))
		diff("seed", fmt.Sprint(first.Flags.Seed), fmt.Sprint(r.Flags.Seed))
		diff("threads", threadsLabel(first), threadsLabel(r))
		diff("device bandwidth (the 100 % of % of BW)", bandwidthLabel(first), bandwidthLabel(r))
		// A key names different work when its parameters differ (a sweep
		// point pN-gM sampled in one run and greedy in the other).
		for _, c := range r.Configs {
			for _, f := range first.Configs {
				if f.Key == c.Key {
					diff("config "+c.Key, configLabel(&f), configLabel(&c))
				}
			}
		}
	}
	for i, r := range reports {
		if !r.Complete {
			notes = append(notes, fmt.Sprintf("[%d] is incomplete (%d of %d planned configs)", i+1, len(r.Configs), len(r.Planned)))
		}
	}
	return notes
}

// bandwidthLabel is the device bandwidth a report's percentages are of:
// "9.37 GB/s measured 2026-12-03T00:54:36Z", or "unknown".
func bandwidthLabel(r *Report) string {
	b := r.Environment.Bandwidth
	if b == nil {
		return "unknown"
	}
	return fmt.Sprintf("%s GB/s measured %s", sig3(b.GBs), b.MeasuredAt)
}

// sameBandwidth reports whether two runs' percentages of the device's
// bandwidth are of the same figure.
func sameBandwidth(a, b *Report) bool {
	ba, bb := a.Environment.Bandwidth, b.Environment.Bandwidth
	return ba != nil && bb != nil && ba.GBs == bb.GBs
}

// configLabel is a config's parameters: "64+128 tokens, greedy".
func configLabel(c *ConfigResult) string {
	return fmt.Sprintf("%d+%d tokens, %s", c.PromptTokens, c.GenTokens, SamplingLabel(c.Sampling))
}

// commitLabel is the short commit, marked when the build was dirty.
func commitLabel(r *Report) string {
	c := shortCommit(r.Environment.GitCommit)
	if r.Environment.GitDirty {
		c += "+dirty"
	}
	return c
}

// threadsLabel is the CPU thread count, "all" for 0.
func threadsLabel(r *Report) string {
	if r.Flags.Threads == 0 {
		return "all"
	}
	return fmt.Sprint(r.Flags.Threads)
}

// configKeysOf lists config keys in the order they first appear.
func configKeysOf(reports []*Report) []string {
	var keys []string
	seen := map[string]bool{}
	for _, r := range reports {
		for _, c := range r.Configs {
			if !seen[c.Key] {
				seen[c.Key] = true
				keys = append(keys, c.Key)
			}
		}
	}
	return keys
}

// compareRows is the comparison for machines: one row per config, figure
// and report.
func compareRows(reports []*Report, keys []string, figs []compareFigure, results func(string) []*ConfigResult) *Table {
	t := &Table{}
	for _, k := range []string{"config", "figure", "report", "created_at", "model", "engine", "device", "commit",
		"median", "min", "max", "stddev", "cv", "ratio", "ratio_stddev"} {
		t.Columns = append(t.Columns, Column{Title: k, Key: k})
	}
	for _, k := range keys {
		cs := results(k)
		for _, f := range figs {
			for i, c := range cs {
				if c == nil {
					continue
				}
				fig, ok := f.get(c)
				if !ok {
					continue
				}
				r := reports[i]
				v := []any{k, f.key, i + 1, r.CreatedAt, r.Model.ID, r.Engine + " " + r.EngineVersion, shortDevice(r), r.Environment.GitCommit,
					fig.Median, fig.Min, fig.Max, fig.Stddev, fig.CV, "", ""}
				if ratio, ok := pairRatio(f, cs[0], c); ok {
					v[13], v[14] = ratio.Value, ratio.Uncertainty
				}
				text := make([]string, len(v))
				for j, x := range v {
					text[j] = fmt.Sprint(x)
				}
				t.add(text, v)
			}
		}
	}
	return t
}

func findConfig(r *Report, key string) *ConfigResult {
	for i := range r.Configs {
		if r.Configs[i].Key == key {
			return &r.Configs[i]
		}
	}
	return nil
}
