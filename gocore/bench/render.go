package bench

import (
	"fmt"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"
)

// RenderSummary renders the summary of a report: a header naming the
// model, device, dtype and engine version, then a table with one row per
// config (key, prompt, gen, sampling, E2E tok/s median, TTFT, prefill and
// decode tok/s, peak memory), then notes (stop mode, trials, identical
// tokens, an incomplete run).
func RenderSummary(r *Report) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s suite · engine %s %s (commit %s) · driver %s\n", r.Suite, r.Engine, r.EngineVersion, shortCommit(r.Environment.GitCommit), r.Driver)
	fmt.Fprintf(&b, "model:  %s\n", modelLine(r))
	fmt.Fprintf(&b, "device: %s\n", deviceLine(r))
	fmt.Fprintf(&b, "dtype:  %s · seed %d · %s, %s per config · prompt %s\n",
		r.DType, r.Flags.Seed, plural(r.Flags.Warmup, "warm-up run"), plural(r.Flags.Trials, "timed trial"), r.PromptSource)

	t := tablewriter.NewTable(&b,
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithHeaderAlignment(tw.AlignCenter),
		tablewriter.WithRowAlignmentConfig(tw.CellAlignment{PerColumn: []tw.Align{
			tw.AlignLeft, tw.AlignRight, tw.AlignRight, tw.AlignLeft,
			tw.AlignRight, tw.AlignRight, tw.AlignRight, tw.AlignRight, tw.AlignRight,
		}}),
	)
	t.Header("Key", "Prompt", "Gen", "Sampling", "E2E tok/s", "TTFT ms", "Prefill tok/s", "Decode tok/s", "Peak mem")
	for _, c := range r.Configs {
		_ = t.Append([]string{
			c.Key,
			fmt.Sprint(c.PromptTokens),
			fmt.Sprint(c.GenTokens),
			c.SamplingLabel,
			fmt.Sprintf("%.1f", c.E2ETokS.Median),
			fmt.Sprintf("%.1f", c.TTFTMs.Median),
			fmt.Sprintf("%.1f", c.PrefillTokS.Median),
			fmt.Sprintf("%.1f", c.DecodeTokS.Median),
			FormatBytes(int64(c.PeakMem.Median)),
		})
	}
	if len(r.Configs) == 0 {
		_ = t.Append([]string{"(none)", "", "", "", "", "", "", "", ""})
	}
	_ = t.Render()

	if r.Flags.Trials == 1 {
		fmt.Fprintf(&b, "Figures of 1 timed trial; end-of-sequence does not stop generation (%s).\n", r.StopMode)
	} else {
		fmt.Fprintf(&b, "Medians of %d timed trials; end-of-sequence does not stop generation (%s).\n", r.Flags.Trials, r.StopMode)
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
	if !r.Complete {
		fmt.Fprintf(&b, "INCOMPLETE: %d of %d planned configs finished (%s).\n", len(r.Configs), len(r.Planned), r.Error)
	}
	return b.String()
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
			return s + fmt.Sprintf(" (%d cores, %d threads)", cores, d.Threads)
		}
		return s + fmt.Sprintf(" (%d cores)", cores)
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
