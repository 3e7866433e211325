package benchplot

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"image/png"
	"io"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/genbench/genbench/gocore/bench"
)

func load(t *testing.T, name string) *bench.Report {
	t.Helper()
	r, err := bench.LoadReport(filepath.Join("..", "bench", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// svgShapes parses an SVG: its text contents and, per fill colour, the
// bounding boxes of the filled paths.
func svgShapes(t *testing.T, data []byte) (texts []string, fills map[string][][4]float64) {
	t.Helper()
	fills = map[string][][4]float64{}
	dec := xml.NewDecoder(bytes.NewReader(data))
	inText := false
	for {
		tok, err := dec.Token()
		if err != nil {
			break
		}
		switch e := tok.(type) {
		case xml.StartElement:
			switch e.Name.Local {
			case "text":
				inText = true
			case "path":
				var d, style string
				for _, a := range e.Attr {
					switch a.Name.Local {
					case "d":
						d = a.Value
					case "style":
						style = a.Value
					}
				}
				fill, ok := strings.CutPrefix(style, "fill:")
				if !ok || strings.HasPrefix(fill, "none") {
					continue
				}
				fill, _, _ = strings.Cut(fill, ";")
				fills[fill] = append(fills[fill], bbox(t, d))
			}
		case xml.EndElement:
			if e.Name.Local == "text" {
				inText = false
			}
		case xml.CharData:
			if inText {
				texts = append(texts, string(e))
			}
		}
	}
	return texts, fills
}

// bbox is the bounding box (x0, y0, x1, y1) of a path of M/L commands.
func bbox(t *testing.T, d string) [4]float64 {
	b := [4]float64{math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)}
	for _, seg := range strings.FieldsFunc(d, func(r rune) bool { return r == 'M' || r == 'L' || r == 'Z' }) {
		xs, ys, ok := strings.Cut(seg, ",")
		if !ok {
			continue // arcs of point markers: not bars
		}
		x, err1 := strconv.ParseFloat(strings.TrimSpace(xs), 64)
		y, err2 := strconv.ParseFloat(strings.TrimSpace(ys), 64)
		if err1 != nil || err2 != nil {
			return [4]float64{}
		}
		b[0], b[1], b[2], b[3] = min(b[0], x), min(b[1], y), max(b[2], x), max(b[3], y)
	}
	return b
}

// The bars of the SVG have the heights of the report's medians: the ratio
// of any two bars' heights is the ratio of the two configs' E2E medians.
func TestSVGBarsMatchTheReport(t *testing.T) {
	r := load(t, "report_cuda_full.json")
	panels, err := Panels([]*bench.Report{r}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := Render(&buf, panels, "svg"); err != nil {
		t.Fatal(err)
	}
	texts, fills := svgShapes(t, buf.Bytes())
	for _, want := range append(bench.ConfigKeys(), "Median E2E tok/s per config (whiskers: min-max over the trials)",
		"Decode tok/s against context length (mean over the decode phase)") {
		if !slices.Contains(texts, want) {
			t.Errorf("no text %q in the SVG (texts %q)", want, texts)
		}
	}
	c := Color(0)
	var bars [][4]float64
	for _, b := range fills[fmt.Sprintf("#%02X%02X%02X", c.R, c.G, c.B)] {
		if b[3]-b[1] > 20 && b[2]-b[0] > 10 { // bars, not the legend swatch or markers
			bars = append(bars, b)
		}
	}
	if len(bars) != 7 {
		t.Fatalf("%d bars of the report's colour, want 7: %v", len(bars), bars)
	}
	slices.SortFunc(bars, func(a, b [4]float64) int { return int(a[0] - b[0]) })
	// gonum's SVG flips y (scale(1, -1)): the smallest y is the bottom,
	// the same y = 0 for every bar.
	base := bars[0][1]
	for i, b := range bars {
		if math.Abs(b[1]-base) > 0.01 {
			t.Errorf("bar %d bottom %v, want %v", i, b[1], base)
		}
		want := r.Configs[i].E2ETokS.Median / r.Configs[0].E2ETokS.Median
		got := (b[3] - b[1]) / (bars[0][3] - bars[0][1])
		if math.Abs(got-want) > 0.005 {
			t.Errorf("%s: bar height ratio %.4f, medians ratio %.4f", r.Configs[i].Key, got, want)
		}
	}
}

// barsOf renders the reports' bar panel as SVG and returns, per report,
// its bars (bounding boxes in the SVG's flipped y, left to right) and the
// SVG's texts.
func barsOf(t *testing.T, reports []*bench.Report, opt Options) ([][][4]float64, []string) {
	t.Helper()
	panels, err := Panels(reports, opt)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := Render(&buf, panels[:1], "svg"); err != nil {
		t.Fatal(err)
	}
	texts, fills := svgShapes(t, buf.Bytes())
	// Bars stand on the lowest baseline of the report colours' filled
	// shapes; the legend swatches sit higher, in the top corner.
	base := math.Inf(1)
	for i := range reports {
		c := Color(i)
		for _, b := range fills[fmt.Sprintf("#%02X%02X%02X", c.R, c.G, c.B)] {
			base = min(base, b[1])
		}
	}
	out := make([][][4]float64, len(reports))
	for i := range reports {
		c := Color(i)
		for _, b := range fills[fmt.Sprintf("#%02X%02X%02X", c.R, c.G, c.B)] {
			if math.Abs(b[1]-base) < 0.01 && b[3]-b[1] > 0.5 {
				out[i] = append(out[i], b)
			}
		}
		slices.SortFunc(out[i], func(a, b [4]float64) int { return int(a[0] - b[0]) })
	}
	return out, texts
}

// A GPU run beside a CPU run (410 against 12 tok/s) gets a log axis: every
// bar stands on the floor, the decade below the smallest value (10 tok/s
// here), and its height is log(median / floor), so bar heights compare as
// logarithms across both reports; the axis is labelled at the decades.
// --y-scale linear draws the bars proportional again.
func TestLogScaleForReportsOnDifferentScales(t *testing.T) {
	a, b := load(t, "report_cuda_full.json"), load(t, "report_cpu_quick.json")
	reports := []*bench.Report{a, b}
	for _, opt := range []Options{{}, {YScale: ScaleAuto}, {YScale: ScaleLog}} {
		bars, texts := barsOf(t, reports, opt)
		if !slices.Contains(texts, "tok/s (log scale)") {
			t.Errorf("%+v: the y axis does not say it is logarithmic: %q", opt, texts)
		}
		for _, want := range []string{"10", "100"} {
			if !slices.Contains(texts, want) {
				t.Errorf("%+v: no decade label %q: %q", opt, want, texts)
			}
		}
		if len(bars[0]) != 7 || len(bars[1]) != 2 {
			t.Fatalf("%+v: %d and %d bars, want 7 and 2", opt, len(bars[0]), len(bars[1]))
		}
		ref := bars[0][0][3] - bars[0][0][1]
		refWant := math.Log10(a.Configs[0].E2ETokS.Median / 10)
		for ri, r := range reports {
			for i, bb := range bars[ri] {
				want := math.Log10(r.Configs[i].E2ETokS.Median/10) / refWant
				if got := (bb[3] - bb[1]) / ref; math.Abs(got-want) > 0.005 {
					t.Errorf("%+v: report %d %s: height ratio %.4f, log ratio %.4f", opt, ri, r.Configs[i].Key, got, want)
				}
			}
		}
	}
	bars, texts := barsOf(t, reports, Options{YScale: ScaleLinear})
	if slices.Contains(texts, "tok/s (log scale)") || len(bars[1]) != 2 {
		t.Fatalf("linear: texts %q, %d bars of report 2", texts, len(bars[1]))
	}
	want := b.Configs[0].E2ETokS.Median / a.Configs[0].E2ETokS.Median
	if got := (bars[1][0][3] - bars[1][0][1]) / (bars[0][0][3] - bars[0][0][1]); math.Abs(got-want) > 0.005 {
		t.Errorf("linear: short bars' height ratio %.4f, medians' ratio %.4f", got, want)
	}
}

// Reports within ten times of each other stay on a linear axis under auto;
// a zero on a log axis (a config with no tokens) is drawn at the floor
// instead of failing; an unknown scale is refused with the choices.
func TestScaleChoices(t *testing.T) {
	a, b := load(t, "report_cuda_full.json"), load(t, "report_cuda_full.json")
	for i := range b.Configs {
		b.Configs[i].E2ETokS.Median /= 9
		b.Configs[i].E2ETokS.Min /= 9
		b.Configs[i].E2ETokS.Max /= 9
	}
	if _, texts := barsOf(t, []*bench.Report{a, b}, Options{}); slices.Contains(texts, "tok/s (log scale)") {
		t.Error("9x apart: log axis under auto, want linear")
	}
	b.Configs[0].E2ETokS.Median, b.Configs[0].E2ETokS.Min = 0, 0
	b.Configs[1].DecodeTokS.Median = 0
	for _, f := range Formats {
		panels, err := Panels([]*bench.Report{a, b}, Options{YScale: ScaleLog})
		if err != nil {
			t.Fatal(err)
		}
		if err := Render(io.Discard, panels, f); err != nil {
			t.Errorf("log axis with a zero median, %s: %v", f, err)
		}
	}
	_, err := Panels([]*bench.Report{a}, Options{YScale: "lgo"})
	if err == nil || !strings.Contains(err.Error(), "auto, linear, log") || !strings.Contains(err.Error(), `did you mean "log"`) {
		t.Errorf("unknown scale: %v", err)
	}
}

// The PNG decodes, has the size of two panels, and shows both reports'
// colours.
func TestPNGDecodes(t *testing.T) {
	a, b := load(t, "report_cuda_full.json"), load(t, "report_cpu_quick.json")
	panels, err := Panels([]*bench.Report{a, b}, Options{YScale: ScaleLinear})
	if err != nil {
		t.Fatal(err)
	}
	if len(panels) != 2 {
		t.Errorf("%d panels, want bars and decode-vs-context (no sweep)", len(panels))
	}
	var buf bytes.Buffer
	if err := Render(&buf, panels, "png"); err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if s := img.Bounds().Size(); s.X != 990 || s.Y != 880 {
		t.Errorf("image %v, want 990x880 (9 x 8 inches at 110 dpi)", s)
	}
	count := map[int]int{}
	for y := img.Bounds().Min.Y; y < img.Bounds().Max.Y; y++ {
		for x := img.Bounds().Min.X; x < img.Bounds().Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			for i := 0; i < 2; i++ {
				c := Color(i)
				if r>>8 == uint32(c.R) && g>>8 == uint32(c.G) && bl>>8 == uint32(c.B) {
					count[i]++
				}
			}
		}
	}
	// Report 1's bars are hundreds of pixels tall; report 2's (12 tok/s
	// against 410) a few pixels, plus its legend swatch and line.
	if count[0] < 20000 || count[1] < 200 {
		t.Errorf("pixels of each report's colour: %v", count)
	}
}

func TestSweepPanelsAndLabels(t *testing.T) {
	r := load(t, "report_cpu_quick.json")
	// A sweep: prompt 64 and 256 at gen 32 and 128.
	var cs []bench.ConfigResult
	for _, p := range []int{64, 256} {
		for _, g := range []int{32, 128} {
			c := r.Configs[0]
			c.Key = fmt.Sprintf("p%d-g%d", p, g)
			c.PromptTokens, c.GenTokens = p, g
			cs = append(cs, c)
		}
	}
	r.Configs = cs
	panels, err := Panels([]*bench.Report{r}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var titles []string
	for _, p := range panels {
		titles = append(titles, p.Title.Text)
	}
	want := []string{"Median E2E tok/s per config (whiskers: min-max over the trials)", "E2E tok/s against prompt length",
		"E2E tok/s against generated length", "Decode tok/s against context length (mean over the decode phase)"}
	if !slices.Equal(titles, want) {
		t.Errorf("panels %q, want %q", titles, want)
	}
	// A sampled sweep (--temperature with comma lists) has the same
	// panels: its points share the run's sampling.
	for i := range r.Configs {
		r.Configs[i].Sampling.Temperature, r.Configs[i].Sampling.TopK = 0.8, 50
	}
	panels, err = Panels([]*bench.Report{r}, Options{})
	if err != nil || len(panels) != len(want) {
		t.Errorf("sampled sweep: %d panels (%v), want %d", len(panels), err, len(want))
	}
	a, b := load(t, "report_cuda_full.json"), load(t, "report_cpu_quick.json")
	l := Labels([]*bench.Report{a, b})
	if l[0] != "genbench · NVIDIA H100 80GB HBM3 · 2026-11-27T03:15:00Z" || l[1] != "genbench (bench_generation.py) · cpu · 2 threads · 2026-11-27T04:02:11Z" {
		t.Errorf("labels %q", l)
	}
	if _, err := FormatOf("x.jpg"); err == nil {
		t.Error("x.jpg accepted")
	}
	if _, err := Panels(nil, Options{}); err == nil {
		t.Error("no reports accepted")
	}
}

// Tick labels are the short decimal of the tick, not its float64 noise
// (gonum's ticks between 6.75 and 7.55 are 6.9000000000000001 and the
// like).
func TestPlainTickLabels(t *testing.T) {
	for _, r := range [][2]float64{{6.75, 7.55}, {0, 16000}, {0.1, 0.7}, {2500, 22500}} {
		labels := 0
		for _, tk := range (plainTicks{}).Ticks(r[0], r[1]) {
			if tk.Label == "" {
				continue
			}
			labels++
			want := strconv.FormatFloat(math.Round(tk.Value*1e6)/1e6, 'f', -1, 64)
			if tk.Label != want {
				t.Errorf("range %v: tick %v labelled %q, want %q", r, tk.Value, tk.Label, want)
			}
		}
		if labels < 2 {
			t.Errorf("range %v: %d labelled ticks", r, labels)
		}
	}
}
