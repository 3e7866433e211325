package bench

import (
	"fmt"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"
)

// compareFigures are the rows Compare shows per config.
var compareFigures = []struct {
	name string
	get  func(*ConfigResult) float64
	fmt  func(float64) string
}{
	{"E2E tok/s", func(c *ConfigResult) float64 { return c.E2ETokS.Median }, oneDecimal},
	{"TTFT ms", func(c *ConfigResult) float64 { return c.TTFTMs.Median }, oneDecimal},
	{"Prefill tok/s", func(c *ConfigResult) float64 { return c.PrefillTokS.Median }, oneDecimal},
	{"Decode tok/s", func(c *ConfigResult) float64 { return c.DecodeTokS.Median }, oneDecimal},
	{"Peak mem", func(c *ConfigResult) float64 { return c.PeakMem.Median }, func(v float64) string { return FormatBytes(int64(v)) }},
}

func oneDecimal(v float64) string { return fmt.Sprintf("%.1f", v) }

// Compare puts reports side by side: a legend naming each report, notes
// where a report's device, engine, driver, model, dtype, prompt source or
// completeness differ from the first, and a table with the median figures
// of every config (in the order they first appear) and each report's ratio
// to the first (value / first).
func Compare(reports []*Report) string {
	var b strings.Builder
	if len(reports) == 0 {
		return "no reports to compare\n"
	}
	for i, r := range reports {
		fmt.Fprintf(&b, "[%d] %s · %s suite · driver %s · engine %s %s · %s · %s · %s\n",
			i+1, r.CreatedAt, r.Suite, r.Driver, r.Engine, r.EngineVersion, r.Model.ID, deviceLine(r), r.DType)
	}
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
		diff("commit", shortCommit(first.Environment.GitCommit), shortCommit(r.Environment.GitCommit))
	}
	for i, r := range reports {
		if !r.Complete {
			notes = append(notes, fmt.Sprintf("[%d] is incomplete (%d of %d planned configs)", i+1, len(r.Configs), len(r.Planned)))
		}
	}
	for _, n := range notes {
		b.WriteString("note: " + n + "\n")
	}

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
	header := []any{"Config", "Figure", "[1]"}
	align := []tw.Align{tw.AlignLeft, tw.AlignLeft, tw.AlignRight}
	for i := 2; i <= len(reports); i++ {
		header = append(header, fmt.Sprintf("[%d]", i), fmt.Sprintf("[%d]/[1]", i))
		align = append(align, tw.AlignRight, tw.AlignRight)
	}
	t := tablewriter.NewTable(&b,
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithHeaderAlignment(tw.AlignCenter),
		tablewriter.WithRowAlignmentConfig(tw.CellAlignment{PerColumn: align}),
	)
	t.Header(header...)
	for _, k := range keys {
		results := make([]*ConfigResult, len(reports))
		for i, r := range reports {
			results[i] = findConfig(r, k)
		}
		for fi, f := range compareFigures {
			row := []string{"", f.name}
			if fi == 0 {
				row[0] = k
			}
			for i, c := range results {
				if c == nil {
					row = append(row, "-")
				} else {
					row = append(row, f.fmt(f.get(c)))
				}
				if i == 0 {
					continue
				}
				row = append(row, ratio(results[0], c, f.get))
			}
			_ = t.Append(row)
		}
	}
	_ = t.Render()
	if len(reports) > 1 {
		b.WriteString("Ratios are value / [1] (higher is better for tok/s, lower for TTFT and memory).\n")
	}
	return b.String()
}

func findConfig(r *Report, key string) *ConfigResult {
	for i := range r.Configs {
		if r.Configs[i].Key == key {
			return &r.Configs[i]
		}
	}
	return nil
}

func ratio(base, c *ConfigResult, get func(*ConfigResult) float64) string {
	if base == nil || c == nil || get(base) == 0 {
		return "-"
	}
	r := get(c) / get(base)
	if r < 0.1 {
		return fmt.Sprintf("%.3fx", r)
	}
	return fmt.Sprintf("%.2fx", r)
}
