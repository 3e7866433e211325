package bench

import (
	"context"
	"testing"
	"time"

	"github.com/genbench/genbench/gocore/engine"
	"github.com/genbench/genbench/gocore/tokenizer"
)

// instantGen generates instantly, so a benchmark of Run measures the
// harness's own cost (prompt building, hashing, statistics, the report).
type instantGen struct{ toks []int32 }

func (g *instantGen) Generate(_ context.Context, req engine.Request) (*engine.Result, error) {
	if len(g.toks) < req.MaxNewTokens {
		g.toks = make([]int32, req.MaxNewTokens)
	}
	if req.OnToken != nil {
		for _, id := range g.toks[:req.MaxNewTokens] {
			if err := req.OnToken(id); err != nil {
				return nil, err
			}
		}
	}
	return &engine.Result{Tokens: g.toks[:req.MaxNewTokens], TTFT: time.Millisecond, Total: 2 * time.Millisecond}, nil
}
func (g *instantGen) ModelInfo() engine.ModelInfo {
	return engine.ModelInfo{ID: "x", Path: "synthetic", Arch: "llama", VocabSize: 512, NumLayers: 1}
}
func (g *instantGen) DeviceInfo() engine.DeviceInfo   { return engine.DeviceInfo{Kind: "cpu"} }
func (g *instantGen) PeakMemory() int64               { return 0 }
func (g *instantGen) ResetPeakMemory()                {}
func (g *instantGen) ReleaseBuffers()                 {}
func (g *instantGen) Tokenizer() *tokenizer.Tokenizer { return tokenizer.Tiny() }

// BenchmarkRunFullSuiteOverhead is the harness's cost for a full suite
// (7 configs, 2 warm-ups and 3 trials each) around an instant engine.
func BenchmarkRunFullSuiteOverhead(b *testing.B) {
	cfg := DefaultRunConfig()
	cfg.Suite = "full"
	g := &instantGen{}
	for b.Loop() {
		if _, err := Run(context.Background(), g, cfg, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRunFullSuiteOverheadWithLive is the same with the live progress
// line's per-token counter attached (what --progress adds to a run; the
// line itself is drawn by another goroutine).
func BenchmarkRunFullSuiteOverheadWithLive(b *testing.B) {
	cfg := DefaultRunConfig()
	cfg.Suite = "full"
	g := &instantGen{}
	ctx := WithLive(context.Background(), &Live{})
	for b.Loop() {
		if _, err := Run(ctx, g, cfg, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLiveOnToken is the cost the live line adds to each generated
// token inside the timed path: one atomic add.
func BenchmarkLiveOnToken(b *testing.B) {
	l := &Live{}
	for b.Loop() {
		_ = l.onToken(1)
	}
}

// BenchmarkPromptIDs1024 builds the 1024-token prompt with the tiny tokenizer.
func BenchmarkPromptIDs1024(b *testing.B) {
	tok := tokenizer.Tiny()
	for b.Loop() {
		PromptIDs(tok, 512, 1024, 42)
	}
}
