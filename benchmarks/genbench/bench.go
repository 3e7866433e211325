package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/spf13/pflag"

	"github.com/genbench/genbench/gocore/bench"
	"github.com/genbench/genbench/gocore/engine"
)

// benchFlags builds the benchmark's flag set from bench.FlagSpecs, bound
// to cfg's fields.
func benchFlags(name string, cfg *bench.RunConfig) (*pflag.FlagSet, error) {
	fs := pflag.NewFlagSet(name, pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.SortFlags = false
	for _, s := range bench.FlagSpecs() {
		p, err := cfg.FieldPointer(s.Field)
		if err != nil {
			return nil, fmt.Errorf("flag --%s: %w", s.Name, err)
		}
		switch v := p.(type) {
		case *string:
			fs.StringVar(v, s.Name, *v, s.Help)
		case *[]string:
			fs.StringSliceVar(v, s.Name, *v, s.Help)
		case *bool:
			fs.BoolVar(v, s.Name, *v, s.Help)
		case *int:
			fs.IntVar(v, s.Name, *v, s.Help)
		case *uint64:
			fs.Uint64Var(v, s.Name, *v, s.Help)
		case *float64:
			fs.Float64Var(v, s.Name, *v, s.Help)
		default:
			return nil, fmt.Errorf("flag --%s: unsupported field type %T", s.Name, p)
		}
	}
	return fs, nil
}

// parseBench parses the benchmark command line into a validated RunConfig.
func parseBench(args []string) (bench.RunConfig, *pflag.FlagSet, error) {
	cfg := bench.DefaultRunConfig()
	fs, err := benchFlags("genbench bench", &cfg)
	if err != nil {
		return cfg, nil, err
	}
	help := fs.BoolP("help", "h", false, "show this help")
	if err := fs.Parse(args); err != nil {
		return cfg, fs, usagef("%v (run genbench bench --help for the flags)", err)
	}
	if *help {
		return cfg, fs, errHelp
	}
	if fs.NArg() > 0 {
		return cfg, fs, usagef("unexpected argument %q: the benchmark takes only flags (run genbench bench --help)", fs.Arg(0))
	}
	// "--configs 'short, medium'" means the same as "--configs short,medium".
	keys := cfg.Configs[:0]
	for _, k := range cfg.Configs {
		if k = strings.TrimSpace(k); k != "" {
			keys = append(keys, k)
		}
	}
	cfg.Configs = keys
	if fs.Changed("configs") && len(keys) == 0 {
		return cfg, fs, usagef("--configs: no config key given: expected a comma-separated list of %s", strings.Join(bench.ConfigKeys(), ", "))
	}
	if err := cfg.ValidateGiven(func(f string) bool { return fs.Changed(strings.ReplaceAll(f, "_", "-")) }); err != nil {
		return cfg, fs, usageError{err}
	}
	if cfg.Engine != bench.EngineGenbench {
		return cfg, fs, usagef("--engine %s runs Hugging Face transformers and is available only in benchmarks/bench_generation.py; genbench runs --engine genbench", cfg.Engine)
	}
	return cfg, fs, nil
}

// bench runs the benchmark command.
func (a *app) bench(ctx context.Context, args []string) error {
	cfg, fs, err := parseBench(args)
	if errors.Is(err, errHelp) {
		fmt.Fprintf(a.stdout, "Usage: genbench [bench] [flags]\n\nRuns a benchmark suite (--suite) or one ad-hoc run built from the individual flags.\nOther commands: generate, tokenize, compare, env, selftest (see genbench help).\n\nFlags:\n%s", fs.FlagUsages())
		return err
	}
	if err != nil {
		return err
	}
	cfg.Driver = bench.DriverGenbench
	showProgress := a.stderrTTY && !cfg.Quiet
	logf := func(format string, args ...any) {
		if showProgress {
			fmt.Fprintf(a.stderr, format+"\n", args...)
		}
	}

	opts := cfg.EngineOptions()
	if showProgress { // also shows download progress on the terminal
		opts.Progress = func(msg string) { logf("%s", msg) }
	}
	logf("loading %s on %s ...", opts.Model, opts.Device)
	eng, err := engine.Load(ctx, opts)
	if err != nil {
		return fmt.Errorf("load model %q: %w", opts.Model, err)
	}
	defer eng.Close()
	info, dev := eng.ModelInfo(), eng.DeviceInfo()
	logf("loaded %s (%s, %d layers) on %s %s", info.ID, info.Arch, info.NumLayers, dev.Kind, dev.Name)

	rep, runErr := bench.Run(ctx, eng, cfg, func(e bench.Event) {
		if showProgress {
			printEvent(a.stderr, e)
		}
	})
	if rep == nil {
		return runErr
	}
	var saved string
	if !cfg.NoSave {
		dir := cfg.OutputDir
		if dir == "" {
			dir = defaultReportDir()
		}
		p, err := bench.Save(rep, dir)
		if err != nil {
			return errors.Join(runErr, err)
		}
		saved = p
	}
	summary := bench.RenderSummary(rep)
	if cfg.JSON {
		data, err := bench.Marshal(rep)
		if err != nil {
			return errors.Join(runErr, err)
		}
		if _, err := a.stdout.Write(data); err != nil {
			return errors.Join(runErr, fmt.Errorf("write report: %w", err))
		}
		if !cfg.Quiet {
			fmt.Fprint(a.stderr, summary)
			if saved != "" {
				fmt.Fprintf(a.stderr, "Report saved to %s\n", saved)
			}
		}
	} else {
		fmt.Fprint(a.stdout, summary)
		if saved != "" {
			fmt.Fprintf(a.stdout, "Report saved to %s\n", saved)
		}
	}
	if runErr != nil {
		if saved != "" {
			return fmt.Errorf("%w (the finished configs are in %s)", runErr, saved)
		}
		return runErr
	}
	return nil
}

// printEvent writes one progress line.
func printEvent(w io.Writer, e bench.Event) {
	c := e.Config
	switch e.Kind {
	case bench.EventConfigStart:
		fmt.Fprintf(w, "[%d/%d] %s: prompt %d, gen %d, %s\n", e.ConfigIndex+1, e.ConfigCount, c.Key, c.PromptTokens, c.GenTokens, bench.SamplingLabel(c.Sampling))
	case bench.EventWarmup:
		fmt.Fprintf(w, "  warm-up %d/%d done\n", e.Run, e.Runs)
	case bench.EventTrial:
		f := e.Figures
		fmt.Fprintf(w, "  trial %d/%d: %.1f tok/s (TTFT %.1f ms, prefill %.1f tok/s, decode %.1f tok/s)\n", e.Run, e.Runs, f.E2ETokS, f.TTFTMs, f.PrefillTokS, f.DecodeTokS)
	case bench.EventConfigDone:
		fmt.Fprintf(w, "  %s: median %.1f tok/s\n", c.Key, e.Result.E2ETokS.Median)
	}
}

// defaultReportDir is benchmarks/reports under the root of this module's
// checkout (found by walking up from the working directory to its go.mod),
// else ./benchmarks/reports.
func defaultReportDir() string {
	rel := filepath.Join("benchmarks", "reports")
	if root := bench.ModuleRoot(); root != "" {
		return filepath.Join(root, rel)
	}
	return rel
}
