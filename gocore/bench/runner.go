package bench

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/genbench/genbench/gocore/engine"
	"github.com/genbench/genbench/gocore/model"
	"github.com/genbench/genbench/gocore/sampling"
)

// Generator is what the runner needs from a loaded engine; *engine.Engine
// implements it.
type Generator interface {
	Generate(ctx context.Context, req engine.Request) (*engine.Result, error)
	ModelInfo() engine.ModelInfo
	DeviceInfo() engine.DeviceInfo
	// PeakMemory is the peak device (or host) memory in bytes since the
	// last ResetPeakMemory.
	PeakMemory() int64
	ResetPeakMemory()
	// ReleaseBuffers frees per-generation buffers (KV cache, scratch).
	ReleaseBuffers()
}

// specGenerator is implemented by generators that expose the model spec
// (for its end-of-sequence ids).
type specGenerator interface {
	Spec() *model.Spec
}

// EventKind says what a progress Event reports.
type EventKind int

// The progress events, in the order they occur for each config.
const (
	EventConfigStart EventKind = iota // a config begins
	EventWarmup                       // a warm-up run finished
	EventTrial                        // a timed trial finished (Figures set)
	EventConfigDone                   // a config finished (Result set)
)

// Event is a progress report from Run.
type Event struct {
	Kind        EventKind
	Config      Config
	ConfigIndex int // 0-based index in the plan
	ConfigCount int
	Run         int // 1-based warm-up or trial number
	Runs        int // warm-ups or trials of the config
	Figures     TrialFigures
	Result      *ConfigResult
}

// Run executes the planned configs on gen: for each, Warmup untimed runs,
// then Trials timed runs, each generating exactly the config's tokens with
// end-of-sequence ignored (engine.NoStop) and the same sampling seed; the
// per-config buffers are released after each config. progress, when not
// nil, receives an Event after each step.
//
// When ctx is cancelled or a generation fails, Run returns the report of
// the configs that finished (Complete false, Error set) together with the
// error, so a driver can still save and show it. A configuration that does
// not validate returns a nil report.
func Run(ctx context.Context, gen Generator, cfg RunConfig, progress func(Event)) (*Report, error) {
	plan, err := cfg.Plan()
	if err != nil {
		return nil, err
	}
	if gen == nil {
		return nil, errors.New("bench: no engine to run on")
	}
	if progress == nil {
		progress = func(Event) {}
	}
	info := gen.ModelInfo()
	enc := encoderOf(gen)
	var eos []int32
	var spec *model.Spec
	if sg, ok := gen.(specGenerator); ok && sg.Spec() != nil {
		spec = sg.Spec()
		eos = spec.EOSTokenIDs
		for _, c := range plan {
			if mp := spec.MaxPositionEmbeddings; mp > 0 && c.PromptTokens+c.GenTokens > mp {
				return nil, fmt.Errorf("config %q: prompt %d + gen %d = %d tokens exceeds the %d positions of model %s (max_position_embeddings)",
					c.Key, c.PromptTokens, c.GenTokens, c.PromptTokens+c.GenTokens, mp, info.ID)
			}
		}
	}
	rep := NewReport(cfg, plan, info, gen.DeviceInfo(), sourceOf(enc))
	// measured (or read from the cache) once, before any timed run
	rep.Environment.Bandwidth = deviceBandwidth(gen, rep.Environment.Device, cfg.RemeasureBandwidth)
	live := liveFrom(ctx)
	if live != nil {
		live.startSuite(plan, cfg)
	}
	for i, c := range plan {
		if err := ctx.Err(); err != nil {
			return stopped(rep, fmt.Errorf("benchmark interrupted before config %q: %w", c.Key, err))
		}
		if live != nil {
			live.startConfig(i, len(plan), c, cfg, plan)
		}
		progress(Event{Kind: EventConfigStart, Config: c, ConfigIndex: i, ConfigCount: len(plan)})
		res, err := runConfig(ctx, gen, cfg, c, enc, info.VocabSize, eos, func(e Event) {
			e.ConfigIndex, e.ConfigCount = i, len(plan)
			progress(e)
		})
		gen.ReleaseBuffers()
		if err != nil {
			if ctxErr := ctx.Err(); ctxErr != nil {
				return stopped(rep, fmt.Errorf("benchmark interrupted during config %q: %w", c.Key, ctxErr))
			}
			return stopped(rep, fmt.Errorf("config %q: %w", c.Key, err))
		}
		res.addRoofline(spec, info.WeightBytes, rep.Environment.Bandwidth)
		rep.Configs = append(rep.Configs, *res)
		progress(Event{Kind: EventConfigDone, Config: c, ConfigIndex: i, ConfigCount: len(plan), Result: res})
	}
	rep.Complete = true
	return rep, nil
}

// stopped marks the report incomplete with the reason.
func stopped(rep *Report, err error) (*Report, error) {
	rep.Complete = false
	rep.Error = err.Error()
	return rep, err
}

// runConfig runs one config's warm-ups and trials.
func runConfig(ctx context.Context, gen Generator, cfg RunConfig, c Config, enc textEncoder, vocab int, eos []int32, progress func(Event)) (*ConfigResult, error) {
	prompt, _ := promptIDs(enc, vocab, c.PromptTokens, cfg.Seed)
	params := c.Sampling
	params.Seed = cfg.Seed
	req := engine.Request{
		Prompt:       prompt,
		MaxNewTokens: c.GenTokens,
		Sampling:     params,
		Stop:         engine.NoStop,
	}
	live := liveFrom(ctx)
	if live != nil {
		req.OnToken = live.onToken // one atomic add per token
	}
	generate := func(phase string, run, runs int) (*engine.Result, error) {
		if live != nil {
			live.startRun(phase, run, runs)
		}
		r, err := gen.Generate(ctx, req)
		if live != nil {
			n := 0
			if r != nil {
				n = len(r.Tokens)
			}
			live.endRun(n)
		}
		if err != nil {
			return nil, err
		}
		if r == nil || len(r.Tokens) != c.GenTokens {
			n := 0
			if r != nil {
				n = len(r.Tokens)
			}
			return nil, fmt.Errorf("the engine generated %d tokens, expected exactly %d (end-of-sequence must not stop a benchmark run)", n, c.GenTokens)
		}
		return r, nil
	}
	for w := 1; w <= cfg.Warmup; w++ {
		if _, err := generate("warm-up", w, cfg.Warmup); err != nil {
			return nil, fmt.Errorf("warm-up %d: %w", w, err)
		}
		progress(Event{Kind: EventWarmup, Config: c, Run: w, Runs: cfg.Warmup})
	}
	trials := make([]TrialRecord, 0, cfg.Trials)
	for t := 1; t <= cfg.Trials; t++ {
		gen.ResetPeakMemory()
		r, err := generate("trial", t, cfg.Trials)
		if err != nil {
			return nil, fmt.Errorf("trial %d: %w", t, err)
		}
		tr := TrialRecord{Tokens: slices.Clone(r.Tokens), TTFT: r.TTFT, Total: r.Total, PeakMem: gen.PeakMemory(), TokenTimes: r.TokenTimes}
		trials = append(trials, tr)
		progress(Event{Kind: EventTrial, Config: c, Run: t, Runs: cfg.Trials,
			Figures: Measure(c.PromptTokens, len(r.Tokens), r.TTFT, r.Total, tr.PeakMem)})
	}
	res := NewConfigResult(c, params, cfg.Warmup, prompt, eos, trials)
	return &res, nil
}

// NewReport starts the report of a run: everything but the config
// results, marked incomplete until the caller sets Complete. Drivers that
// measure another engine (the Python driver's hf engine) use it with
// NewConfigResult to write the same report.
func NewReport(cfg RunConfig, plan []Config, info engine.ModelInfo, dev engine.DeviceInfo, promptSource string) *Report {
	rep := &Report{
		SchemaVersion: SchemaVersion,
		CreatedAt:     time.Now().UTC().Format(time.RFC3339),
		Driver:        cfg.Driver,
		Engine:        cfg.Engine,
		EngineVersion: Version,
		Suite:         cfg.SuiteName(),
		Planned:       []string{},
		StopMode:      StopModeNoStop,
		PromptSource:  promptSource,
		DType:         cfg.DType,
		Environment:   HostEnvironment(dev),
		Model:         info,
		Flags:         cfg,
		Configs:       []ConfigResult{},
	}
	for _, c := range plan {
		rep.Planned = append(rep.Planned, c.Key)
	}
	return rep
}

// TrialRecord is the raw outcome of one timed run.
type TrialRecord struct {
	Tokens  []int32       // generated ids
	TTFT    time.Duration // start of prefill to the first id on the host
	Total   time.Duration // start of prefill to the last id on the host
	PeakMem int64         // peak memory during the run, bytes
	// TokenTimes[i] is when token i was on the host (nil when the engine
	// does not record them).
	TokenTimes []time.Duration
}

// NewConfigResult computes a config's figures from its timed trials:
// per-trial values (Measure) and their median, min and max; whether all
// trials generated the same ids; the hashes of the prompt and of the first
// trial's ids; whether an id of eos was generated. params are the sampling
// parameters used, seed included.
func NewConfigResult(c Config, params sampling.Params, warmup int, prompt []int32, eos []int32, trials []TrialRecord) ConfigResult {
	var e2e, ttft, prefill, decode, peak []float64
	var first []int32
	var times [][]time.Duration
	identical, eosSeen := true, false
	for i, tr := range trials {
		f := Measure(len(prompt), len(tr.Tokens), tr.TTFT, tr.Total, tr.PeakMem)
		e2e = append(e2e, f.E2ETokS)
		ttft = append(ttft, f.TTFTMs)
		prefill = append(prefill, f.PrefillTokS)
		decode = append(decode, f.DecodeTokS)
		peak = append(peak, float64(f.PeakMem))
		if len(tr.TokenTimes) == len(tr.Tokens) {
			times = append(times, tr.TokenTimes)
		}
		if i == 0 {
			first = tr.Tokens
		} else if !slices.Equal(first, tr.Tokens) {
			identical = false
		}
		for _, id := range tr.Tokens {
			if slices.Contains(eos, id) {
				eosSeen = true
			}
		}
	}
	return ConfigResult{
		Key:             c.Key,
		PromptTokens:    c.PromptTokens,
		GenTokens:       c.GenTokens,
		Sampling:        params,
		SamplingLabel:   SamplingLabel(params),
		Warmup:          warmup,
		Trials:          len(trials),
		E2ETokS:         NewFigure(e2e),
		TTFTMs:          NewFigure(ttft),
		PrefillTokS:     NewFigure(prefill),
		DecodeTokS:      NewFigure(decode),
		PeakMem:         NewFigure(peak),
		ITLMs:           InterTokenLatency(times),
		IdenticalTokens: identical,
		PromptSHA256:    hashIDs(prompt),
		TokensSHA256:    hashIDs(first),
		EOSGenerated:    eosSeen,
	}
}

// hashIDs is the hex SHA-256 of ids as int32 little-endian.
func hashIDs(ids []int32) string {
	h := sha256.New()
	var b [4]byte
	for _, id := range ids {
		binary.LittleEndian.PutUint32(b[:], uint32(id))
		h.Write(b[:])
	}
	return hex.EncodeToString(h.Sum(nil))
}
