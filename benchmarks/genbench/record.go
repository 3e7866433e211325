package main

import (
	"context"
	"fmt"
	"io"

	"github.com/genbench/genbench/gocore/bench"
)

// record adds report rows to the markdown benchmark log.
func (a *app) record(_ context.Context, args []string) error {
	fs, help := newFlags("record")
	logPath := fs.String("log", bench.DefaultLogPath, "the markdown log to update (benchmarks/LOG.md is taken relative to the repository root)")
	if err := a.parseFlags(fs, help, args, "genbench record REPORT.json ... [--log FILE]\n\n"+
		"Adds each report's median E2E tok/s per config as a row of its model's table in the log;\n"+
		"a report recorded again updates its row, and the rest of the file is left as it is."); err != nil {
		return err
	}
	if fs.NArg() < 1 {
		return usagef("record needs at least one report file (genbench record REPORT.json ... [--log FILE])")
	}
	reports, err := loadReports(fs.Args())
	if err != nil {
		return err
	}
	return recordReports(a.stdout, *logPath, reports...)
}

// recordReports records reports into the log named by the --record or
// --log value and says what it did.
func recordReports(w io.Writer, logPath string, reports ...*bench.Report) error {
	path := bench.ResolveLogPath(logPath)
	actions, err := bench.RecordFile(path, reports...)
	if err != nil {
		return err
	}
	for i, r := range reports {
		fmt.Fprintln(w, bench.RecordedLine(path, r, actions[i]))
	}
	return nil
}

// loadReports reads and checks report files.
func loadReports(paths []string) ([]*bench.Report, error) {
	var reports []*bench.Report
	for _, p := range paths {
		r, err := bench.LoadReport(p)
		if err != nil {
			return nil, err
		}
		reports = append(reports, r)
	}
	return reports, nil
}
