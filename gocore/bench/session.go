package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/genbench/genbench/gocore/engine"
)

// Session is one benchmark as every front end runs it (the genbench
// command, the C ABI and through it the Python driver): load the model
// unless a generator is given, run the configs with progress lines, save
// the report and render its summary.
type Session struct {
	// Config is the validated run configuration.
	Config RunConfig
	// Gen runs the configs; nil loads Config's model for the session (and
	// closes it at the end).
	Gen Generator
	// Progress, when non-nil, receives progress lines: loading, then one
	// line per event (EventLine). It is also the engine's load progress.
	Progress func(line string)
	// DownloadProgress is the engine's (progress bars of downloads, drawn
	// only on a terminal; nil = none).
	DownloadProgress io.Writer
	// Amend, when non-nil, edits the report before it is saved.
	Amend func(*Report)
}

// Outputs is what a session produced.
type Outputs struct {
	Report  *Report
	Summary string // Summary of Report in Config.Format
	Path    string // where the report was saved; "" when not saved
	// SaveErr says why the report could not be saved (nil when it was,
	// or when Config.NoSave).
	SaveErr error
	// Recorded says where the run was recorded (Config.Record), e.g.
	// "Recorded in benchmarks/LOG.md: ... (added)"; RecordErr says why it
	// could not be.
	Recorded  string
	RecordErr error
}

// LoadError is a session's failure to load its model.
type LoadError struct {
	Model string // the model as the user named it (or engine.DefaultModel)
	Err   error
}

// Error states the problem once: the engine's message alone when it names
// the model already, else "load model "X": " and the message.
func (e *LoadError) Error() string {
	msg := strings.TrimPrefix(e.Err.Error(), "engine: ")
	if strings.Contains(msg, strconv.Quote(e.Model)) {
		return msg
	}
	return fmt.Sprintf("load model %q: %s", e.Model, msg)
}

func (e *LoadError) Unwrap() error { return e.Err }

// Run runs the session. It returns nil Outputs when no report was made
// (the output directory is not writable, the model did not load, or the
// configuration did not validate), with the error. Otherwise the outputs
// hold the report (partial when the run failed or was cancelled) and its
// summary, even when saving failed (SaveErr), and the error is the run's,
// naming the saved report when there is one.
func (s Session) Run(ctx context.Context) (*Outputs, error) {
	line := s.Progress
	if line == nil {
		line = func(string) {}
	}
	if !s.Config.NoSave {
		// an unwritable directory is found now, not after an hour-long run
		if err := CheckOutputDir(s.reportDir()); err != nil {
			return nil, err
		}
	}
	gen := s.Gen
	if gen == nil {
		opts := s.Config.EngineOptions()
		opts.Progress = s.Progress
		opts.DownloadProgress = s.DownloadProgress
		name := opts.ModelName()
		line(fmt.Sprintf("loading %s on %s ...", name, opts.Device))
		eng, err := engine.Load(ctx, opts)
		if err != nil {
			return nil, &LoadError{Model: name, Err: err}
		}
		defer eng.Close()
		info, dev := eng.ModelInfo(), eng.DeviceInfo()
		line(fmt.Sprintf("loaded %s (%s, %d layers) on %s %s", info.ID, info.Arch, info.NumLayers, dev.Kind, dev.Name))
		gen = eng
	}
	var events func(Event)
	if s.Progress != nil {
		events = func(e Event) {
			if l := EventLine(e); l != "" {
				line(l)
			}
		}
	}
	rep, runErr := Run(ctx, gen, s.Config, events)
	if rep == nil {
		if runErr == nil {
			runErr = errors.New("the runner returned no report")
		}
		return nil, runErr
	}
	if s.Amend != nil {
		s.Amend(rep)
	}
	out := &Outputs{Report: rep, Summary: Summary(rep, s.Config.Format)}
	if !s.Config.NoSave {
		out.Path, out.SaveErr = Save(rep, s.reportDir())
	}
	out.record(s.Config.Record)
	if runErr != nil && out.Path != "" {
		runErr = fmt.Errorf("%w (the finished configs are in %s)", runErr, out.Path)
	}
	return out, runErr
}

// reportDir is where the report is saved: Config.OutputDir, else
// DefaultReportDir.
func (s Session) reportDir() string {
	if s.Config.OutputDir != "" {
		return s.Config.OutputDir
	}
	return DefaultReportDir()
}

// EventLine is the progress line of an event, as every front end shows it
// ("" for an event without one).
func EventLine(e Event) string {
	c := e.Config
	switch e.Kind {
	case EventConfigStart:
		return fmt.Sprintf("[%d/%d] %s: prompt %d, gen %d, %s", e.ConfigIndex+1, e.ConfigCount, c.Key, c.PromptTokens, c.GenTokens, SamplingLabel(c.Sampling))
	case EventWarmup:
		return fmt.Sprintf("  warm-up %d/%d done", e.Run, e.Runs)
	case EventTrial:
		f := e.Figures
		return fmt.Sprintf("  trial %d/%d: %.1f tok/s (TTFT %.1f ms, prefill %.1f tok/s, decode %.1f tok/s)", e.Run, e.Runs, f.E2ETokS, f.TTFTMs, f.PrefillTokS, f.DecodeTokS)
	case EventConfigDone:
		if e.Result != nil {
			return fmt.Sprintf("  %s: median %.1f tok/s", c.Key, e.Result.E2ETokS.Median)
		}
	}
	return ""
}

// DefaultReportDir is where a report is saved when no output directory is
// given: benchmarks/reports under the root of the genbench checkout that
// holds the working directory (ModuleRoot), else ./benchmarks/reports.
func DefaultReportDir() string {
	rel := filepath.Join("benchmarks", "reports")
	if root := ModuleRoot(); root != "" {
		return filepath.Join(root, rel)
	}
	return rel
}
