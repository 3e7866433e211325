package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/genbench/genbench/gocore/benchplot"
)

// plot draws charts of reports into an SVG or PNG file.
func (a *app) plot(_ context.Context, args []string) error {
	fs, help := newFlags("plot")
	out := fs.StringP("output", "o", "", "the image to write: a file name ending in .svg or .png")
	yScale := fs.String("y-scale", benchplot.ScaleAuto, "the y axes: "+strings.Join(benchplot.Scales, ", ")+
		" (auto: log when one report's fastest config is over 10x another's, else linear)")
	if err := a.parseFlags(fs, help, args, "genbench plot REPORT.json ... -o FILE.svg|FILE.png\n\n"+
		"Draws the median E2E tok/s per config (one bar per report, min-max whiskers), E2E tok/s against\n"+
		"prompt and generated length for sweeps, and decode tok/s against context length. Reports on\n"+
		"different scales (a GPU run beside a CPU run) get log axes, which --y-scale linear turns off."); err != nil {
		return err
	}
	if *out == "" {
		return usagef("plot needs an output file: -o FILE.svg or -o FILE.png")
	}
	format, err := benchplot.FormatOf(*out)
	if err != nil {
		return usageError{err}
	}
	if err := benchplot.CheckScale(*yScale); err != nil {
		return usageError{err}
	}
	if fs.NArg() < 1 {
		return usagef("plot needs at least one report file (genbench plot REPORT.json ... -o FILE.svg)")
	}
	reports, err := loadReports(fs.Args())
	if err != nil {
		return err
	}
	panels, err := benchplot.Panels(reports, benchplot.Options{YScale: *yScale})
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := benchplot.Render(&buf, panels, format); err != nil {
		return err
	}
	if err := os.WriteFile(*out, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("plot: write %s: %w", *out, err)
	}
	fmt.Fprintf(a.stdout, "Wrote %s (%d chart(s) of %d report(s))\n", *out, len(panels), len(reports))
	return nil
}
