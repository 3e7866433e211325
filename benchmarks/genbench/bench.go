package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/pflag"

	"github.com/genbench/genbench/gocore/bench"
	"github.com/genbench/genbench/gocore/suggest"
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
		if s.NoValue != nil {
			fs.Lookup(s.Name).NoOptDefVal = fmt.Sprint(s.NoValue)
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
	if err := fs.Parse(joinOptionalValues(fs, args)); err != nil {
		hint := ""
		if name, ok := strings.CutPrefix(err.Error(), "unknown flag: --"); ok {
			var names []string
			fs.VisitAll(func(f *pflag.Flag) { names = append(names, f.Name) })
			hint = suggest.DidYouMean(name, names)
		}
		return cfg, fs, usagef("%v%s (run genbench bench --help for the flags)", err, hint)
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
	if err := cfg.ValidateGiven(func(f string) bool { return fs.Changed(bench.FlagName(f)[2:]) }); err != nil {
		return cfg, fs, usageError{err}
	}
	if cfg.Engine != bench.EngineGenbench {
		return cfg, fs, usagef("--engine %s runs Hugging Face transformers and is available only in benchmarks/bench_generation.py; genbench runs --engine genbench", cfg.Engine)
	}
	return cfg, fs, nil
}

// joinOptionalValues rewrites "--flag VALUE" as "--flag=VALUE" for flags
// whose value is optional (--record), since the benchmark takes no
// positional arguments that VALUE could be.
func joinOptionalValues(fs *pflag.FlagSet, args []string) []string {
	out := make([]string, 0, len(args))
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			return append(out, args[i:]...)
		}
		if name, ok := strings.CutPrefix(a, "--"); ok && i+1 < len(args) && !strings.HasPrefix(args[i+1], "-") {
			if f := fs.Lookup(name); f != nil && f.NoOptDefVal != "" {
				out = append(out, a+"="+args[i+1])
				i++
				continue
			}
		}
		out = append(out, a)
	}
	return out
}

// bench runs the benchmark command.
func (a *app) bench(ctx context.Context, args []string) error {
	runs, err := expandRuns(args)
	if err != nil {
		return err
	}
	var errs []error
	for i, runArgs := range runs {
		if ctx.Err() != nil {
			break
		}
		cfg, fs, err := parseBench(runArgs)
		if errors.Is(err, errHelp) {
			fmt.Fprintf(a.stdout, "Usage: genbench [bench] [flags]\n\nRuns a benchmark suite (--suite) or one ad-hoc run built from the individual flags.\n"+
				"Several --model values (or --model a,b) run one after the other, each loaded once and released, one report each;\n"+
				"comma lists for --prompt-tokens and --max-new-tokens run their cartesian product as configs pN-gM (sampled as the sampling flags say, greedy without them);\n"+
				"a comma list for --threads runs each model once per thread count, one report each.\n"+
				"Other commands: generate, tokenize, compare, record, plot, env, selftest (see genbench help).\n\nFlags:\n%s", flagUsages(fs))
			return err
		}
		if err != nil {
			return err
		}
		if len(runs) > 1 && i > 0 {
			fmt.Fprintln(a.stdout)
		}
		cfg.Driver = bench.DriverGenbench
		session := bench.Session{Config: cfg}
		prog := startProgress(a.stderr, a.stderrTTY, cfg.Progress, cfg.Quiet)
		if prog != nil {
			session.Progress = prog.line
			session.DownloadProgress = a.stderr // bars only on a terminal
		}
		out, err := session.Run(prog.context(ctx))
		prog.close()
		if out == nil {
			errs = append(errs, err)
			continue
		}
		if err := a.printBench(cfg, out, err); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// printBench prints a session's outputs: the summary on stdout, or with
// --json the report on stdout and the summary on stderr (unless --quiet).
// A failed save loses nothing: the figures are printed first, then the
// save error is returned (joined to err, the run's own error).
func (a *app) printBench(cfg bench.RunConfig, out *bench.Outputs, err error) error {
	saveErr := out.SaveErr
	if saveErr != nil {
		saveErr = fmt.Errorf("%w (the figures are printed above)", saveErr)
	}
	// Notes go to stderr when stdout carries machine output.
	notes := a.stdout
	switch {
	case cfg.JSON:
		notes = a.stderr
		if cfg.Quiet {
			notes = io.Discard
		}
	case cfg.Format == bench.FormatCSV || cfg.Format == bench.FormatJSON || cfg.Format == bench.FormatJSONL:
		notes = a.stderr
	}
	if cfg.JSON {
		data, merr := bench.Marshal(out.Report)
		if merr != nil {
			return errors.Join(err, saveErr, merr)
		}
		if _, werr := a.stdout.Write(data); werr != nil {
			return errors.Join(err, saveErr, fmt.Errorf("write report: %w", werr))
		}
		if !cfg.Quiet {
			fmt.Fprint(a.stderr, out.Summary)
		}
	} else {
		fmt.Fprint(a.stdout, out.Summary)
	}
	if out.Path != "" {
		fmt.Fprintf(notes, "Report saved to %s\n", out.Path)
	}
	if out.RecordErr != nil {
		return errors.Join(err, out.RecordErr)
	}
	if out.Recorded != "" {
		fmt.Fprintln(notes, out.Recorded)
	}
	return errors.Join(err, saveErr)
}
