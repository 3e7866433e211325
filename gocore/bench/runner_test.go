package bench

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/genbench/genbench/gocore/engine"
	"github.com/genbench/genbench/gocore/model"
)

// fakeGen is a Generator with scripted timings: the n-th call (1-based,
// warm-ups included) has TTFT n*100 ms and 10 ms per further token.
type fakeGen struct {
	t        *testing.T
	calls    int
	released int
	resets   int
	peak     int64
	vary     bool  // generated ids change with every call
	short    bool  // stop one token early, as if EOS stopped generation
	failAt   int   // fail this call (0 = never)
	eos      int32 // generated ids are all this id when > 0
	requests []engine.Request
}

func (f *fakeGen) Generate(ctx context.Context, req engine.Request) (*engine.Result, error) {
	f.calls++
	f.requests = append(f.requests, req)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if f.failAt == f.calls {
		return nil, errors.New("out of memory")
	}
	if req.Stop != engine.NoStop {
		f.t.Errorf("request stop mode %v, want NoStop", req.Stop)
	}
	n := req.MaxNewTokens
	if f.short {
		n--
	}
	toks := make([]int32, n)
	for i := range toks {
		toks[i] = int32(i % 7)
		if f.vary {
			toks[i] += int32(f.calls)
		}
		if f.eos > 0 {
			toks[i] = f.eos
		}
	}
	ttft := time.Duration(f.calls) * 100 * time.Millisecond
	f.peak = int64(len(req.Prompt)) * 1000 * int64(f.calls)
	return &engine.Result{
		Tokens: toks,
		TTFT:   ttft,
		Total:  ttft + time.Duration(n-1)*10*time.Millisecond,
	}, nil
}

func (f *fakeGen) ModelInfo() engine.ModelInfo {
	return engine.ModelInfo{ID: "tiny-llama", Path: "synthetic", Arch: "llama", Architecture: "LlamaForCausalLM",
		Params: 1234567, WeightBytes: 2469134, VocabSize: 512, NumLayers: 2, Synthetic: true}
}

func (f *fakeGen) DeviceInfo() engine.DeviceInfo {
	return engine.DeviceInfo{Kind: "cpu", Name: "Test CPU", MemoryBytes: 1 << 34, Cores: 2, Threads: 2}
}
func (f *fakeGen) PeakMemory() int64 { return f.peak }
func (f *fakeGen) ResetPeakMemory()  { f.resets++; f.peak = 0 }
func (f *fakeGen) ReleaseBuffers()   { f.released++ }

// The engine is a Generator whose tokenizer and spec the runner finds.
var (
	_ Generator          = (*engine.Engine)(nil)
	_ tokenizerGenerator = (*engine.Engine)(nil)
	_ specGenerator      = (*engine.Engine)(nil)
)

type fakeSpecGen struct{ *fakeGen }

func (f fakeSpecGen) Spec() *model.Spec {
	return &model.Spec{EOSTokenIDs: []int32{5, 9}, MaxPositionEmbeddings: 1024}
}

func quickConfig() RunConfig {
	c := DefaultRunConfig()
	c.Suite = "quick"
	c.Warmup = 1
	c.Trials = 3
	return c
}

func mustValidate(t *testing.T, r *Report) {
	t.Helper()
	b, err := Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	if err := Validate(b); err != nil {
		t.Fatalf("report does not validate: %v\n%s", err, b)
	}
}

func near(t *testing.T, name string, got, want float64) {
	t.Helper()
	if math.Abs(got-want) > 1e-9*math.Max(1, math.Abs(want)) {
		t.Errorf("%s = %v, want %v", name, got, want)
	}
}

func TestRunQuickSuite(t *testing.T) {
	g := &fakeGen{t: t}
	var events []string
	rep, err := Run(context.Background(), g, quickConfig(), func(e Event) {
		events = append(events, e.Config.Key+":"+[]string{"start", "warmup", "trial", "done"}[e.Kind])
	})
	if err != nil {
		t.Fatal(err)
	}
	mustValidate(t, rep)
	if g.calls != 8 || g.released != 2 || g.resets != 6 {
		t.Errorf("calls %d released %d resets %d; want 8, 2, 6", g.calls, g.released, g.resets)
	}
	wantEvents := "short:start short:warmup short:trial short:trial short:trial short:done " +
		"medium:start medium:warmup medium:trial medium:trial medium:trial medium:done"
	if got := strings.Join(events, " "); got != wantEvents {
		t.Errorf("events:\n%s\nwant\n%s", got, wantEvents)
	}
	if !rep.Complete || rep.Suite != "quick" || rep.StopMode != "no-stop" || rep.PromptSource != PromptRandom ||
		rep.Driver != "genbench" || rep.Engine != "genbench" || len(rep.Configs) != 2 {
		t.Fatalf("report header = %+v", rep)
	}
	// Requests: exact prompt length, gen length, the run's seed.
	for i, req := range g.requests {
		want := []int{64, 64, 64, 64, 256, 256, 256, 256}[i]
		if len(req.Prompt) != want || req.MaxNewTokens != want || req.Sampling.Seed != 42 {
			t.Errorf("request %d: prompt %d gen %d seed %d", i, len(req.Prompt), req.MaxNewTokens, req.Sampling.Seed)
		}
	}
	// short: calls 2..4 are the trials: TTFT 200, 300, 400 ms; 63 more
	// tokens at 10 ms: totals 830, 930, 1030 ms.
	s := rep.Configs[0]
	if s.Key != "short" || s.PromptTokens != 64 || s.GenTokens != 64 || s.SamplingLabel != "greedy" || s.Trials != 3 || s.Warmup != 1 {
		t.Errorf("short = %+v", s)
	}
	near(t, "ttft median", s.TTFTMs.Median, 300)
	near(t, "ttft min", s.TTFTMs.Min, 200)
	near(t, "ttft max", s.TTFTMs.Max, 400)
	near(t, "e2e median", s.E2ETokS.Median, 64/0.93)
	near(t, "e2e min", s.E2ETokS.Min, 64/1.03)
	near(t, "e2e max", s.E2ETokS.Max, 64/0.83)
	near(t, "e2e trial 1", s.E2ETokS.Trials[0], 64/0.83)
	near(t, "prefill median", s.PrefillTokS.Median, 64/0.3)
	near(t, "decode median", s.DecodeTokS.Median, 100) // 63 / 0.63 s
	near(t, "peak median", s.PeakMem.Median, 64*1000*3)
	if !s.IdenticalTokens || s.EOSGenerated || len(s.TokensSHA256) != 64 || len(s.PromptSHA256) != 64 {
		t.Errorf("short flags: identical %v eos %v hashes %q %q", s.IdenticalTokens, s.EOSGenerated, s.TokensSHA256, s.PromptSHA256)
	}
	// medium: trials are calls 6..8.
	near(t, "medium ttft median", rep.Configs[1].TTFTMs.Median, 700)
	near(t, "medium e2e median", rep.Configs[1].E2ETokS.Median, 256/(0.7+2.55))
}

func TestRunDetectsDifferingTokensAndEOS(t *testing.T) {
	g := &fakeGen{t: t, vary: true}
	c := DefaultRunConfig()
	c.Configs, c.Warmup, c.Trials = []string{"sampled"}, 0, 2
	rep, err := Run(context.Background(), g, c, nil)
	if err != nil {
		t.Fatal(err)
	}
	mustValidate(t, rep)
	if rep.Suite != "custom" || rep.Configs[0].IdenticalTokens {
		t.Errorf("suite %q identical %v", rep.Suite, rep.Configs[0].IdenticalTokens)
	}
	if got := rep.Configs[0].Sampling; got.Temperature != 0.8 || got.TopK != 50 || got.Seed != 42 {
		t.Errorf("sampling = %+v", got)
	}
	rep, err = Run(context.Background(), fakeSpecGen{&fakeGen{t: t, eos: 9}}, c, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Configs[0].EOSGenerated || !rep.Configs[0].IdenticalTokens {
		t.Errorf("eos %v identical %v", rep.Configs[0].EOSGenerated, rep.Configs[0].IdenticalTokens)
	}
}

func TestRunShortGenerationIsAnError(t *testing.T) {
	c := DefaultRunConfig()
	c.Warmup, c.Trials = 0, 1
	rep, err := Run(context.Background(), &fakeGen{t: t, short: true}, c, nil)
	if err == nil || !strings.Contains(err.Error(), "generated 255 tokens, expected exactly 256") {
		t.Fatalf("error = %v", err)
	}
	if rep == nil || rep.Complete || len(rep.Configs) != 0 || !strings.Contains(rep.Error, "adhoc") {
		t.Errorf("report = %+v", rep)
	}
	mustValidate(t, rep)
}

func TestRunCancelKeepsFinishedConfigs(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	g := &fakeGen{t: t}
	c := quickConfig()
	c.Suite = "full"
	rep, err := Run(ctx, g, c, func(e Event) {
		if e.Kind == EventConfigDone && e.Config.Key == "medium" {
			cancel()
		}
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error = %v, want context.Canceled", err)
	}
	if rep.Complete || len(rep.Configs) != 2 || len(rep.Planned) != 7 || !strings.Contains(rep.Error, `before config "prefill"`) {
		t.Errorf("complete %v configs %d planned %d error %q", rep.Complete, len(rep.Configs), len(rep.Planned), rep.Error)
	}
	mustValidate(t, rep)
	if !strings.Contains(RenderSummary(rep), "INCOMPLETE: 2 of 7 planned configs finished") {
		t.Error("summary does not say the run is incomplete")
	}
}

func TestRunCancelDuringConfig(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c := quickConfig()
	rep, err := Run(ctx, &fakeGen{t: t}, c, func(e Event) {
		if e.Kind == EventTrial && e.Config.Key == "medium" && e.Run == 1 {
			cancel()
		}
	})
	if !errors.Is(err, context.Canceled) || len(rep.Configs) != 1 || rep.Complete ||
		!strings.Contains(rep.Error, `benchmark interrupted during config "medium"`) {
		t.Errorf("error %v, configs %d, report error %q", err, len(rep.Configs), rep.Error)
	}
	mustValidate(t, rep)
}

func TestRunFailureMidSuite(t *testing.T) {
	g := &fakeGen{t: t, failAt: 5} // the first call of medium
	rep, err := Run(context.Background(), g, quickConfig(), nil)
	if err == nil || !strings.Contains(err.Error(), `config "medium": warm-up 1: out of memory`) {
		t.Fatalf("error = %v", err)
	}
	if len(rep.Configs) != 1 || rep.Complete || g.released != 2 {
		t.Errorf("configs %d complete %v released %d", len(rep.Configs), rep.Complete, g.released)
	}
}

func TestRunRejectsTooLongForTheModel(t *testing.T) {
	c := DefaultRunConfig()
	c.Suite = "full" // long is 1024 + 512 tokens; the fake model has 1024 positions
	g := fakeSpecGen{&fakeGen{t: t}}
	rep, err := Run(context.Background(), g, c, nil)
	want := `config "prefill": prompt 1024 + gen 64 = 1088 tokens exceeds the 1024 positions of model tiny-llama`
	if err == nil || rep != nil || !strings.Contains(err.Error(), want) || g.calls != 0 {
		t.Errorf("Run = %v, %v (%d calls)", rep, err, g.calls)
	}
}

func TestRunRejectsBadConfig(t *testing.T) {
	c := DefaultRunConfig()
	c.TopP = 2
	rep, err := Run(context.Background(), &fakeGen{t: t}, c, nil)
	if err == nil || rep != nil || !strings.Contains(err.Error(), "--top-p") {
		t.Errorf("Run = %v, %v", rep, err)
	}
	if _, err := Run(context.Background(), nil, DefaultRunConfig(), nil); err == nil {
		t.Error("Run with no engine succeeded")
	}
}
