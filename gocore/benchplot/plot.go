// Package benchplot draws charts of benchmark reports with gonum.org/v1/plot:
// grouped bars of the median E2E tok/s per config (one bar per report, with
// min-max whiskers), for sweeps the E2E tok/s against prompt length and
// against generated length, and the decode tok/s against the mean context
// length of the decode phase (attention cost growing with the context).
// Panels without data (no sweep, a single context length) are left out.
//
// The y axes are linear, or logarithmic when the reports live on different
// scales (one report's fastest config more than ten times another's, e.g. a
// GPU run beside a CPU run, or a tiny model beside a real one), where a
// linear axis would flatten the slower reports to nothing; Options.YScale
// chooses either explicitly.
package benchplot

import (
	"bytes"
	"errors"
	"fmt"
	"image/color"
	"io"
	"math"
	"path/filepath"
	"slices"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"

	"github.com/genbench/genbench/gocore/bench"
	"github.com/genbench/genbench/gocore/suggest"
)

// Panel sizes.
const (
	panelWidth  = 9 * vg.Inch
	panelHeight = 4 * vg.Inch
)

// palette is a colour-blind-safe set (Okabe-Ito), one colour per report.
var palette = []color.RGBA{
	{0, 114, 178, 255},   // blue
	{230, 159, 0, 255},   // orange
	{0, 158, 115, 255},   // bluish green
	{204, 121, 167, 255}, // reddish purple
	{86, 180, 233, 255},  // sky blue
	{213, 94, 0, 255},    // vermillion
	{240, 228, 66, 255},  // yellow
	{0, 0, 0, 255},       // black
}

// The y-axis scales Options.YScale takes.
const (
	ScaleAuto   = "auto"   // log when the reports live on different scales, else linear
	ScaleLinear = "linear" // bars from zero; heights proportional to the values
	ScaleLog    = "log"    // decades; bars from the decade below the smallest value
)

// Scales lists the y-axis scales, the default first.
var Scales = []string{ScaleAuto, ScaleLinear, ScaleLog}

// autoLogRatio is how many times one report's fastest config may be
// faster than another report's before ScaleAuto draws log axes: past it the
// slower report's bars would be under a tenth of the chart's height.
const autoLogRatio = 10

// Options are the choices of a chart.
type Options struct {
	// YScale is one of Scales; "" means ScaleAuto.
	YScale string
}

// CheckScale refuses a y scale that is not one of Scales (or "").
func CheckScale(scale string) error {
	if scale != "" && !slices.Contains(Scales, scale) {
		return fmt.Errorf("--y-scale %q: expected %s%s", scale, strings.Join(Scales, ", "), suggest.DidYouMean(scale, Scales))
	}
	return nil
}

// logScale resolves the options' y scale for the reports: true for log.
func logScale(reports []*bench.Report, opt Options) (bool, error) {
	if err := CheckScale(opt.YScale); err != nil {
		return false, fmt.Errorf("plot: %w", err)
	}
	if opt.YScale != "" && opt.YScale != ScaleAuto {
		return opt.YScale == ScaleLog, nil
	}
	lo, hi := math.Inf(1), 0.0
	for _, r := range reports {
		top := 0.0
		for _, c := range r.Configs {
			top = max(top, c.E2ETokS.Median)
		}
		if top > 0 {
			lo, hi = min(lo, top), max(hi, top)
		}
	}
	return hi > autoLogRatio*lo, nil
}

// yAxis sets a panel's y range to hold values in [lo, hi] with room above
// for a legend of n entries in the top corner: on a log axis from the
// decade at or below lo, labelled at the decades; on a linear axis from
// what the plotters asked for (0 for bars).
func yAxis(p *plot.Plot, log bool, lo, hi float64, n int) {
	if !log {
		p.Y.Max += (p.Y.Max - p.Y.Min) * 0.11 * float64(n)
		p.Y.Tick.Marker = plainTicks{}
		return
	}
	if !(lo > 0) || !(hi >= lo) { // no positive values: any valid range
		lo, hi = 1, 10
	}
	p.Y.Scale = plot.LogScale{}
	p.Y.Tick.Marker = logTicks{}
	p.Y.Min = math.Pow(10, math.Floor(math.Log10(lo)))
	top := max(hi, p.Y.Min*10)
	p.Y.Max = top * math.Pow(top/p.Y.Min, 0.11*float64(n))
	p.Y.Label.Text += " (log scale)"
}

// onAxis keeps a value drawable on a log axis starting at floor (zero or
// less has no place on it); values on a linear axis (floor 0) are kept.
func onAxis(v, floor float64) float64 {
	if floor > 0 && v < floor {
		return floor
	}
	return v
}

// positiveRange is the smallest and largest positive values of vs
// (+Inf, 0 when there is none).
func positiveRange(lo, hi float64, vs ...float64) (float64, float64) {
	for _, v := range vs {
		if v > 0 {
			lo, hi = min(lo, v), max(hi, v)
		}
	}
	return lo, hi
}

// Color is the colour of the i-th report in every panel.
func Color(i int) color.RGBA { return palette[i%len(palette)] }

// Labels names the reports in legends: the model, the engine and driver,
// the device kind, the CPU threads and the date, with only the parts that
// differ between reports (all of them for a single report; the threads
// only for CPU runs).
func Labels(reports []*bench.Report) []string {
	parts := make([][]string, len(reports))
	for i, r := range reports {
		eng := r.Engine
		if r.Driver != bench.DriverGenbench {
			eng += " (" + r.Driver + ")"
		}
		dev := r.Environment.Device.Kind
		if dev == "cuda" {
			dev = r.Environment.Device.Name
		}
		threads := ""
		if r.Environment.Device.Kind == "cpu" {
			threads = fmt.Sprintf("%d threads", r.Environment.Device.Threads)
			if r.Environment.Device.Threads == 1 {
				threads = "1 thread"
			}
		}
		parts[i] = []string{r.Model.ID, eng, dev, threads, r.CreatedAt}
	}
	labels := make([]string, len(reports))
	for i := range reports {
		var keep []string
		for j := range parts[i] {
			differs := len(reports) == 1
			for k := range reports {
				if parts[k][j] != parts[i][j] {
					differs = true
				}
			}
			if differs && parts[i][j] != "" {
				keep = append(keep, parts[i][j])
			}
		}
		if len(keep) == 0 { // identical reports: tell them apart by position
			keep = []string{fmt.Sprintf("[%d] %s", i+1, reports[i].CreatedAt)}
		}
		labels[i] = strings.Join(keep, " · ")
	}
	return labels
}

// Panels builds the charts that have data for the reports.
func Panels(reports []*bench.Report, opt Options) ([]*plot.Plot, error) {
	if len(reports) == 0 {
		return nil, errors.New("plot: no reports")
	}
	log, err := logScale(reports, opt)
	if err != nil {
		return nil, err
	}
	labels := Labels(reports)
	var out []*plot.Plot
	bars, err := barsPanel(reports, labels, log)
	if err != nil {
		return nil, err
	}
	out = append(out, bars)
	sweeps := false
	for _, r := range reports {
		for _, c := range r.Configs {
			if bench.IsSweepKey(c.Key) {
				sweeps = true
			}
		}
	}
	for _, sweep := range []struct {
		title, xlabel string
		x, group      func(bench.ConfigResult) int
		groupName     string
	}{
		{"E2E tok/s against prompt length", "prompt tokens",
			func(c bench.ConfigResult) int { return c.PromptTokens }, func(c bench.ConfigResult) int { return c.GenTokens }, "gen"},
		{"E2E tok/s against generated length", "generated tokens",
			func(c bench.ConfigResult) int { return c.GenTokens }, func(c bench.ConfigResult) int { return c.PromptTokens }, "prompt"},
	} {
		if !sweeps {
			break
		}
		p, err := sweepPanel(reports, labels, log, sweep.title, sweep.xlabel, sweep.x, sweep.group, sweep.groupName)
		if err != nil {
			return nil, err
		}
		if p != nil {
			out = append(out, p)
		}
	}
	ctx, err := contextPanel(reports, labels, log)
	if err != nil {
		return nil, err
	}
	if ctx != nil {
		out = append(out, ctx)
	}
	return out, nil
}

// lengthPoint keeps the configs a line over lengths is drawn through:
// the greedy ones, so that lines compare lengths and not sampling (the
// sampled and full-pipe configs repeat medium's lengths), and the sweep
// points, which all share their run's sampling (--temperature etc.).
func lengthPoint(c bench.ConfigResult) bool {
	return c.Sampling.Temperature == 0 || bench.IsSweepKey(c.Key)
}

// barsPanel is the grouped bar chart of median E2E tok/s per config.
func barsPanel(reports []*bench.Report, labels []string, log bool) (*plot.Plot, error) {
	var keys []string
	for _, r := range reports {
		for _, c := range r.Configs {
			if !slices.Contains(keys, c.Key) {
				keys = append(keys, c.Key)
			}
		}
	}
	p := plot.New()
	p.Title.Text = "Median E2E tok/s per config (whiskers: min-max over the trials)"
	p.Y.Label.Text = "tok/s"
	p.Y.Min = 0
	p.Legend.Top = true
	p.Add(plotter.NewGrid())
	if len(keys) == 0 {
		return nil, errors.New("plot: the reports have no configs")
	}
	n := len(reports)
	width := 0.8 / float64(n)
	lo, hi := math.Inf(1), 0.0
	var all []*bars
	for i, r := range reports {
		b := &bars{color: Color(i), width: width}
		for k, key := range keys {
			for _, c := range r.Configs {
				if c.Key == key {
					b.x = append(b.x, float64(k)-0.4+width*(float64(i)+0.5))
					b.median = append(b.median, c.E2ETokS.Median)
					b.min = append(b.min, c.E2ETokS.Min)
					b.max = append(b.max, c.E2ETokS.Max)
					lo, hi = positiveRange(lo, hi, c.E2ETokS.Median, c.E2ETokS.Min, c.E2ETokS.Max)
				}
			}
		}
		p.Add(b)
		p.Legend.Add(labels[i], b)
		all = append(all, b)
	}
	p.NominalX(keys...)
	p.X.Min, p.X.Max = -0.5, float64(len(keys))-0.5
	yAxis(p, log, lo, hi, n)
	if log {
		for _, b := range all {
			b.base = p.Y.Min
		}
	}
	return p, nil
}

// sweepPanel draws, per report and per value of group (e.g. generated
// length), E2E tok/s against x (e.g. prompt length) over the greedy
// configs; nil when no line has two points.
func sweepPanel(reports []*bench.Report, labels []string, log bool, title, xlabel string, x, group func(bench.ConfigResult) int, groupName string) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = xlabel
	p.Y.Label.Text = "E2E tok/s"
	p.Add(plotter.NewGrid())
	var lines []plotter.XYs
	lo, hi := math.Inf(1), 0.0
	for i, r := range reports {
		byGroup := map[int]plotter.XYs{}
		var groups []int
		for _, c := range r.Configs {
			if !lengthPoint(c) {
				continue
			}
			g := group(c)
			if _, ok := byGroup[g]; !ok {
				groups = append(groups, g)
			}
			byGroup[g] = append(byGroup[g], plotter.XY{X: float64(x(c)), Y: c.E2ETokS.Median})
		}
		slices.Sort(groups)
		for gi, g := range groups {
			pts := byGroup[g]
			if len(pts) < 2 {
				continue
			}
			slices.SortFunc(pts, func(a, b plotter.XY) int { return cmpFloat(a.X, b.X) })
			for _, pt := range pts {
				lo, hi = positiveRange(lo, hi, pt.Y)
			}
			drawn, err := addLine(p, pts, Color(i), gi, fmt.Sprintf("%s, %s %d", labels[i], groupName, g))
			if err != nil {
				return nil, err
			}
			lines = append(lines, drawn...)
		}
	}
	if len(lines) == 0 {
		return nil, nil
	}
	finishLines(p, log, lo, hi, lines)
	return p, nil
}

// contextPanel draws decode tok/s against the mean context length while
// decoding (prompt + half the generated tokens) over the greedy configs
// and sweep points;
// nil when no report has two context lengths.
func contextPanel(reports []*bench.Report, labels []string, log bool) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = "Decode tok/s against context length (mean over the decode phase)"
	p.X.Label.Text = "context tokens (prompt + generated/2)"
	p.Y.Label.Text = "decode tok/s"
	p.Add(plotter.NewGrid())
	var lines []plotter.XYs
	lo, hi := math.Inf(1), 0.0
	for i, r := range reports {
		seen := map[float64]bool{}
		var pts plotter.XYs
		for _, c := range r.Configs {
			ctx := float64(c.PromptTokens) + float64(c.GenTokens)/2
			if !lengthPoint(c) || seen[ctx] || c.DecodeTokS.Median == 0 {
				continue
			}
			seen[ctx] = true
			pts = append(pts, plotter.XY{X: ctx, Y: c.DecodeTokS.Median})
			lo, hi = positiveRange(lo, hi, c.DecodeTokS.Median)
		}
		if len(pts) < 2 {
			continue
		}
		slices.SortFunc(pts, func(a, b plotter.XY) int { return cmpFloat(a.X, b.X) })
		drawn, err := addLine(p, pts, Color(i), 0, labels[i])
		if err != nil {
			return nil, err
		}
		lines = append(lines, drawn...)
	}
	if len(lines) == 0 {
		return nil, nil
	}
	finishLines(p, log, lo, hi, lines)
	return p, nil
}

// finishLines sets the axes of a panel of lines (the points of each line
// and of its markers) whose values lie in [lo, hi]: plain numbers on x, the
// y scale with room for the legend, and on a log axis every point raised to
// the axis floor (a zero has no place on it).
func finishLines(p *plot.Plot, log bool, lo, hi float64, lines []plotter.XYs) {
	p.X.Tick.Marker = plainTicks{}
	yAxis(p, log, lo, hi, len(lines)/2)
	if !log {
		return
	}
	for _, pts := range lines {
		for i := range pts {
			pts[i].Y = onAxis(pts[i].Y, p.Y.Min)
		}
	}
}

// plainTicks are gonum's default ticks labelled with the fewest digits
// ("250", not "250.00"; "7.5", not the tick value's "7.500000000000002").
type plainTicks struct{}

// Ticks implements plot.Ticker.
func (plainTicks) Ticks(min, max float64) []plot.Tick {
	return relabel(plot.DefaultTicks{}.Ticks(min, max))
}

// relabel labels the labelled ticks with their values' shortest decimal.
func relabel(ticks []plot.Tick) []plot.Tick {
	for i := range ticks {
		if ticks[i].Label != "" {
			ticks[i].Label = fmt.Sprintf("%.12g", ticks[i].Value)
		}
	}
	return ticks
}

// logTicks are gonum's log ticks (labelled decades, unlabelled steps
// between them) with plain numbers ("1000000", not "1e+06").
type logTicks struct{}

// Ticks implements plot.Ticker.
func (logTicks) Ticks(min, max float64) []plot.Tick {
	return relabel(plot.LogTicks{}.Ticks(min, max))
}

// addLine adds a line with point markers (dash varies with the group) and
// returns the points the line and the markers draw.
func addLine(p *plot.Plot, pts plotter.XYs, c color.Color, dash int, label string) ([]plotter.XYs, error) {
	l, s, err := plotter.NewLinePoints(pts)
	if err != nil {
		return nil, fmt.Errorf("plot: %w", err)
	}
	l.Color = c
	l.Width = vg.Points(1.5)
	dashes := [][]vg.Length{nil, {vg.Points(6), vg.Points(3)}, {vg.Points(2), vg.Points(2)}, {vg.Points(8), vg.Points(2), vg.Points(2), vg.Points(2)}}
	l.Dashes = dashes[dash%len(dashes)]
	s.Color = c
	s.Shape = draw.CircleGlyph{}
	s.Radius = vg.Points(3)
	p.Add(l, s)
	p.Legend.Add(label, l, s)
	p.Legend.Top = true
	return []plotter.XYs{l.XYs, s.XYs}, nil
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// bars is one report's bars with min-max whiskers, in data coordinates
// (plotter.BarChart offsets bars in canvas units, which whiskers cannot
// follow).
type bars struct {
	x, median, min, max []float64
	width               float64
	base                float64 // where bars start: 0, or a log axis's floor
	color               color.Color
}

// Plot implements plot.Plotter.
func (b *bars) Plot(c draw.Canvas, p *plot.Plot) {
	tx, ty := p.Transforms(&c)
	whisker := draw.LineStyle{Color: color.Black, Width: vg.Points(1)}
	for i, x := range b.x {
		x0, x1 := tx(x-b.width/2*0.9), tx(x+b.width/2*0.9)
		y0, y1 := ty(b.base), ty(onAxis(b.median[i], b.base))
		poly := c.ClipPolygonY([]vg.Point{{X: x0, Y: y0}, {X: x0, Y: y1}, {X: x1, Y: y1}, {X: x1, Y: y0}})
		c.FillPolygon(b.color, poly)
		if b.max[i] > b.min[i] {
			xm, cap := tx(x), (x1-x0)/4
			lo, hi := ty(onAxis(b.min[i], b.base)), ty(onAxis(b.max[i], b.base))
			c.StrokeLine2(whisker, xm, lo, xm, hi)
			c.StrokeLine2(whisker, xm-cap, lo, xm+cap, lo)
			c.StrokeLine2(whisker, xm-cap, hi, xm+cap, hi)
		}
	}
}

// DataRange implements plot.DataRanger.
func (b *bars) DataRange() (xmin, xmax, ymin, ymax float64) {
	xmin, xmax = 0, 0
	for i, x := range b.x {
		if i == 0 || x < xmin {
			xmin = x
		}
		if i == 0 || x > xmax {
			xmax = x
		}
		ymax = max(ymax, b.max[i], b.median[i])
	}
	return xmin, xmax, 0, ymax * 1.05
}

// Thumbnail implements plot.Thumbnailer (the legend's swatch).
func (b *bars) Thumbnail(c *draw.Canvas) {
	c.FillPolygon(b.color, []vg.Point{{X: c.Min.X, Y: c.Min.Y}, {X: c.Min.X, Y: c.Max.Y}, {X: c.Max.X, Y: c.Max.Y}, {X: c.Max.X, Y: c.Min.Y}})
}

// Formats are the file formats Render writes.
var Formats = []string{"svg", "png"}

// FormatOf is the format named by a file's extension (svg or png).
func FormatOf(path string) (string, error) {
	ext := strings.ToLower(strings.TrimPrefix(filepath.Ext(path), "."))
	if !slices.Contains(Formats, ext) {
		return "", fmt.Errorf("plot: %q: expected a file name ending in .svg or .png", path)
	}
	return ext, nil
}

// Render draws the panels one above the other and writes the image in
// format (svg or png) to w.
func Render(w io.Writer, panels []*plot.Plot, format string) error {
	if len(panels) == 0 {
		return errors.New("plot: nothing to draw")
	}
	height := panelHeight * vg.Length(len(panels))
	var c interface {
		vg.CanvasWriterTo
	}
	switch format {
	case "svg":
		c = vgsvg.New(panelWidth, height)
	case "png":
		c = vgimg.PngCanvas{Canvas: vgimg.NewWith(vgimg.UseWH(panelWidth, height), vgimg.UseDPI(110))}
	default:
		return fmt.Errorf("plot: unknown format %q: expected svg or png", format)
	}
	dc := draw.New(c)
	grid := make([][]*plot.Plot, len(panels))
	for i, p := range panels {
		grid[i] = []*plot.Plot{p}
	}
	tiles := draw.Tiles{Rows: len(panels), Cols: 1, PadTop: vg.Points(8), PadBottom: vg.Points(8), PadLeft: vg.Points(8), PadRight: vg.Points(12), PadY: vg.Points(16)}
	canvases := plot.Align(grid, tiles, dc)
	for i, p := range panels {
		p.Draw(canvases[i][0])
	}
	var buf bytes.Buffer
	if _, err := c.WriteTo(&buf); err != nil {
		return fmt.Errorf("plot: encode %s: %w", format, err)
	}
	_, err := w.Write(buf.Bytes())
	return err
}
