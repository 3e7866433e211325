package bench

import (
	"fmt"
	"strings"
)

// RenderSummary renders the summary of a report as a table (Summary with
// FormatTable).
func RenderSummary(r *Report) string { return Summary(r, FormatTable) }

// Summary renders the summary of a report in a format (Formats):
//   - table: a header naming the model, device, dtype and engine version,
//     a table with one row per config (key, prompt, gen, sampling, E2E
//     tok/s median and its CV, TTFT, prefill and decode tok/s, decode read
//     GB/s and its percentage of the device's bandwidth, inter-token
//     latency p50/p99, peak memory), then notes (stop mode, trials,
//     identical tokens, noisy figures, an incomplete run);
//   - md: the same as markdown, ready to paste;
//   - csv, json, jsonl: one row per config with the run's context (model,
//     engine, device, dtype, commit) and every figure's median, spread and
//     CV, for scripts.
func Summary(r *Report, format string) string {
	r.fillSpread()
	switch format {
	case FormatCSV, FormatJSON, FormatJSONL:
		return summaryRows(r).Machine(format)
	}
	t := summaryTable(r)
	var b strings.Builder
	md := format == FormatMarkdown
	line := func(s string) {
		if md {
			b.WriteString(s + "  \n")
		} else {
			b.WriteString(s + "\n")
		}
	}
	line(fmt.Sprintf("%s suite · engine %s %s (commit %s) · driver %s", r.Suite, r.Engine, r.EngineVersion, shortCommit(r.Environment.GitCommit), r.Driver))
	line(fmt.Sprintf("model:  %s", modelLine(r)))
	line(fmt.Sprintf("device: %s", deviceLine(r)))
	if bl := bandwidthLine(r); bl != "" {
		line(bl)
	}
	line(fmt.Sprintf("dtype:  %s · seed %d · %s, %s per config · prompt %s",
		r.DType, r.Flags.Seed, plural(r.Flags.Warmup, "warm-up run"), plural(r.Flags.Trials, "timed trial"), r.PromptSource))
	if md {
		b.WriteString("\n" + t.Markdown() + "\n")
	} else {
		b.WriteString(t.Box())
	}

	if r.Flags.Trials == 1 {
		fmt.Fprintf(&b, "Figures of 1 timed trial; end-of-sequence does not stop generation (%s).\n", r.StopMode)
	} else {
		fmt.Fprintf(&b, "Medians of %d timed trials (± is the coefficient of variation of E2E); end-of-sequence does not stop generation (%s).\n", r.Flags.Trials, r.StopMode)
	}
	var differ []string
	for _, c := range r.Configs {
		if !c.IdenticalTokens {
			differ = append(differ, c.Key)
		}
	}
	switch {
	case len(r.Configs) == 0: // nothing to say about no config
	case len(differ) == 0:
		b.WriteString("Every config generated identical tokens in every trial.\n")
	default:
		fmt.Fprintf(&b, "Tokens differed between trials in: %s.\n", strings.Join(differ, ", "))
	}
	b.WriteString(noiseWarning(r))
	if !r.Complete {
		fmt.Fprintf(&b, "INCOMPLETE: %d of %d planned configs finished (%s).\n", len(r.Configs), len(r.Planned), r.Error)
	}
	return b.String()
}

// summaryTable is the summary's table for people.
func summaryTable(r *Report) *Table {
	t := &Table{Columns: []Column{
		{Title: "Key"}, {Title: "Prompt", Right: true}, {Title: "Gen", Right: true}, {Title: "Sampling"},
		{Title: "E2E tok/s", Right: true}, {Title: "±", Right: true}, {Title: "TTFT ms", Right: true},
		{Title: "Prefill tok/s", Right: true}, {Title: "Decode tok/s", Right: true}, {Title: "Decode GB/s", Right: true},
		{Title: "% of BW", Right: true},
		{Title: "ITL p50/p99 ms", Right: true}, {Title: "Peak mem", Right: true},
	}}
	for _, c := range r.Configs {
		t.add([]string{
			c.Key,
			fmt.Sprint(c.PromptTokens),
			fmt.Sprint(c.GenTokens),
			c.SamplingLabel,
			fmt.Sprintf("%.1f", c.E2ETokS.Median),
			cvText(c.E2ETokS),
			fmt.Sprintf("%.1f", c.TTFTMs.Median),
			fmt.Sprintf("%.1f", c.PrefillTokS.Median),
			fmt.Sprintf("%.1f", c.DecodeTokS.Median),
			gbsText(c.DecodeReadGBs),
			pctText(c.DecodeReadPct),
			itlText(c.ITLMs),
			FormatBytes(int64(c.PeakMem.Median)),
		}, nil)
	}
	return t
}

// cvText is a figure's coefficient of variation as "2.1%", or "-" for a
// single trial.
func cvText(f Figure) string {
	if len(f.Trials) < 2 {
		return "-"
	}
	return fmt.Sprintf("%.1f%%", 100*f.CV)
}

// gbsText is the achieved decode read bandwidth in GB/s, or "-".
func gbsText(f *Figure) string {
	if f == nil {
		return "-"
	}
	return sig3(f.Median)
}

// pctText is the achieved decode read bandwidth as a percentage of the
// device's measured bandwidth ("41%", "3.2%" below 10 %), or "-".
func pctText(f *Figure) string {
	switch {
	case f == nil:
		return "-"
	case f.Median < 9.95:
		return fmt.Sprintf("%.1f%%", f.Median)
	}
	return fmt.Sprintf("%.0f%%", f.Median)
}

// bandwidthLine is the summary's line on the device's measured bandwidth,
// or "" when unknown: the figure, how and when it was measured, and
// whether it came from the cache (then how to measure it again) or
// replaced a cached one.
func bandwidthLine(r *Report) string {
	b := r.Environment.Bandwidth
	if b == nil {
		return ""
	}
	when := "measured " + b.MeasuredAt
	if b.MeasuredAt == MeasuredUnknown || b.MeasuredAt == "" {
		when = "measured at an unknown time"
	}
	how := when + " in this run"
	switch {
	case b.Cached:
		how = "cached, " + when + "; --remeasure-bandwidth measures it again"
	case b.Replaced != nil:
		old := "measured " + b.Replaced.MeasuredAt
		if b.Replaced.MeasuredAt == MeasuredUnknown || b.Replaced.MeasuredAt == "" {
			old = "measured at an unknown time"
		}
		how = fmt.Sprintf("%s, replacing the cached %s GB/s %s", how, sig3(b.Replaced.GBs), old)
	}
	return fmt.Sprintf("bandwidth (what %% of BW is relative to): %s GB/s (%s; %s)", sig3(b.GBs), b.Method, how)
}

// itlText is "p50/p99" in milliseconds, or "-".
func itlText(l *Latency) string {
	if l == nil {
		return "-"
	}
	return fmt.Sprintf("%s/%s", sig3(l.P50), sig3(l.P99))
}

// sig3 prints a positive value with about three significant digits.
func sig3(v float64) string {
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	case v >= 1:
		return fmt.Sprintf("%.2f", v)
	}
	return fmt.Sprintf("%.3f", v)
}

// summaryRows is the summary's table for machines: one row per config
// with the run's context.
func summaryRows(r *Report) *Table {
	t := &Table{}
	col := func(key string) { t.Columns = append(t.Columns, Column{Title: key, Key: key}) }
	for _, k := range []string{"created_at", "model", "engine", "engine_version", "driver", "device", "dtype", "commit", "suite",
		"key", "prompt_tokens", "gen_tokens", "sampling", "warmup", "trials"} {
		col(k)
	}
	figs := []struct {
		key, short string
		get        func(*ConfigResult) Figure
	}{
		{"e2e_tok_s", "e2e", func(c *ConfigResult) Figure { return c.E2ETokS }},
		{"ttft_ms", "ttft", func(c *ConfigResult) Figure { return c.TTFTMs }},
		{"prefill_tok_s", "prefill", func(c *ConfigResult) Figure { return c.PrefillTokS }},
		{"decode_tok_s", "decode", func(c *ConfigResult) Figure { return c.DecodeTokS }},
	}
	for _, f := range figs {
		col(f.key) // the median
		for _, s := range []string{"_min", "_max", "_stddev", "_cv"} {
			col(f.short + s)
		}
	}
	for _, k := range []string{"decode_read_bytes", "decode_read_gb_s", "decode_read_pct", "itl_p50_ms", "itl_p90_ms", "itl_p99_ms", "peak_mem_bytes", "identical_tokens"} {
		col(k)
	}
	for i := range r.Configs {
		c := &r.Configs[i]
		v := []any{r.CreatedAt, r.Model.ID, r.Engine, r.EngineVersion, r.Driver, deviceLine(r), r.DType, r.Environment.GitCommit, r.Suite,
			c.Key, c.PromptTokens, c.GenTokens, c.SamplingLabel, c.Warmup, c.Trials}
		for _, f := range figs {
			fig := f.get(c)
			v = append(v, fig.Median, fig.Min, fig.Max, fig.Stddev, fig.CV)
		}
		if c.DecodeReadGBs != nil {
			v = append(v, c.DecodeReadBytes, c.DecodeReadGBs.Median)
		} else {
			v = append(v, nil, nil)
		}
		if c.DecodeReadPct != nil {
			v = append(v, c.DecodeReadPct.Median)
		} else {
			v = append(v, nil)
		}
		if l := c.ITLMs; l != nil {
			v = append(v, l.P50, l.P90, l.P99)
		} else {
			v = append(v, nil, nil, nil)
		}
		v = append(v, int64(c.PeakMem.Median), c.IdenticalTokens)
		text := make([]string, len(v))
		for j, x := range v {
			if x != nil {
				text[j] = fmt.Sprint(x)
			} else {
				v[j] = "" // no value: an empty CSV cell, "" in JSON
			}
		}
		t.add(text, v)
	}
	return t
}

// modelLine describes the model: id, architecture, size, weights source.
func modelLine(r *Report) string {
	m := r.Model
	src := m.Path
	if m.Synthetic {
		src = "synthetic weights"
	}
	return fmt.Sprintf("%s (%s, %s params, %s of weights, %s)", m.ID, m.Arch, formatCount(m.Params), FormatBytes(m.WeightBytes), src)
}

// deviceLine describes the device the engine computed on.
func deviceLine(r *Report) string {
	d := r.Environment.Device
	switch d.Kind {
	case "cuda":
		s := fmt.Sprintf("cuda:%d %s", d.Index, d.Name)
		var extra []string
		if d.ComputeCapability != "" {
			extra = append(extra, "compute "+d.ComputeCapability)
		}
		if d.MemoryBytes > 0 {
			extra = append(extra, FormatBytes(d.MemoryBytes))
		}
		if d.CUDAVersion != "" {
			extra = append(extra, "CUDA "+d.CUDAVersion)
		}
		if d.DriverVersion != "" {
			extra = append(extra, "driver "+d.DriverVersion)
		}
		if len(extra) > 0 {
			s += " (" + strings.Join(extra, ", ") + ")"
		}
		return s
	default:
		name := d.Name
		if name == "" {
			name = r.Environment.CPUModel
		}
		s := fmt.Sprintf("cpu %s", name)
		cores := d.Cores
		if cores == 0 {
			cores = r.Environment.CPUCores
		}
		if d.Threads > 0 {
			return s + fmt.Sprintf(" (%s, %s)", plural(cores, "core"), plural(d.Threads, "thread"))
		}
		return s + fmt.Sprintf(" (%s)", plural(cores, "core"))
	}
}

// FormatBytes prints a byte count with a binary unit (e.g. "2.30 GiB").
func FormatBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	v, i := float64(n), 0
	units := []string{"B", "KiB", "MiB", "GiB", "TiB", "PiB"}
	for v >= unit && i < len(units)-1 {
		v /= unit
		i++
	}
	return fmt.Sprintf("%.2f %s", v, units[i])
}

// formatCount prints a count with a decimal suffix (e.g. "1.24B", "3.1M").
func formatCount(n int64) string {
	switch {
	case n >= 1e9:
		return fmt.Sprintf("%.2fB", float64(n)/1e9)
	case n >= 1e6:
		return fmt.Sprintf("%.1fM", float64(n)/1e6)
	case n >= 1e3:
		return fmt.Sprintf("%.1fK", float64(n)/1e3)
	}
	return fmt.Sprint(n)
}

func shortCommit(c string) string {
	if len(c) > 12 {
		return c[:12]
	}
	return c
}

// plural prints "1 thing" or "n things".
func plural(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return fmt.Sprintf("%d %ss", n, thing)
}
