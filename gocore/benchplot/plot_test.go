package benchplot

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"image/png"
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
	panels, err := Panels([]*bench.Report{r})
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

// The PNG decodes, has the size of two panels, and shows both reports'
// colours.
func TestPNGDecodes(t *testing.T) {
	a, b := load(t, "report_cuda_full.json"), load(t, "report_cpu_quick.json")
	panels, err := Panels([]*bench.Report{a, b})
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
	panels, err := Panels([]*bench.Report{r})
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
	panels, err = Panels([]*bench.Report{r})
	if err != nil || len(panels) != len(want) {
		t.Errorf("sampled sweep: %d panels (%v), want %d", len(panels), err, len(want))
	}
	a, b := load(t, "report_cuda_full.json"), load(t, "report_cpu_quick.json")
	l := Labels([]*bench.Report{a, b})
	if l[0] != "genbench · NVIDIA H100 80GB HBM3 · 2026-11-27T03:15:00Z" || l[1] != "genbench (bench_generation.py) · cpu · 2026-11-27T04:02:11Z" {
		t.Errorf("labels %q", l)
	}
	if _, err := FormatOf("x.jpg"); err == nil {
		t.Error("x.jpg accepted")
	}
	if _, err := Panels(nil); err == nil {
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
