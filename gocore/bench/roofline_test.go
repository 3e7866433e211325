package bench

import (
	"context"
	"math"
	"testing"

	"github.com/genbench/genbench/gocore/engine"
	"github.com/genbench/genbench/gocore/model"
)

// Bytes per decode step against hand arithmetic from the published
// geometries: Llama-3.2-1B has 16 layers of 8 KV heads × 64 dims, so each
// cached token costs 16 × 2 × 8 × 64 × 2 = 32768 bytes; Gemma 3 1B caps
// its sliding layers (5 of every 6) at the 512-key window.
func TestDecodeReadBytes(t *testing.T) {
	llama, ok := model.Builtin("meta-llama/Llama-3.2-1B-Instruct")
	if !ok {
		t.Fatal("no built-in Llama-3.2-1B")
	}
	const w = 2_471_000_000
	if got, want := DecodeReadBytes(llama, w, 288), int64(w+288*32768); got != want {
		t.Errorf("llama at 288: %d, want %d", got, want)
	}
	gemma, ok := model.Builtin("google/gemma-3-1b-it")
	if !ok {
		t.Fatal("no built-in gemma-3-1b")
	}
	sliding, full := 0, 0
	for _, lt := range gemma.LayerTypes {
		if lt == model.SlidingAttention {
			sliding++
		} else {
			full++
		}
	}
	per := int64(2 * gemma.NumKVHeads * gemma.HeadDim * 2)
	ctx := 4000
	want := int64(w) + per*int64(full*ctx+sliding*min(ctx, gemma.SlidingWindow))
	if got := DecodeReadBytes(gemma, w, ctx); got != want || sliding == 0 || gemma.SlidingWindow >= ctx {
		t.Errorf("gemma at %d: %d, want %d (%d sliding layers, window %d)", ctx, got, want, sliding, gemma.SlidingWindow)
	}
}

// A run on a generator with a spec reports the achieved bandwidth: bytes
// per step × each trial's decode tok/s.
func TestRunReportsDecodeBandwidth(t *testing.T) {
	cfg := DefaultRunConfig()
	cfg.Configs = []string{"short"}
	cfg.Warmup, cfg.Trials = 0, 2
	g := &specGen{instantGen: instantGen{}}
	rep, err := Run(context.Background(), g, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	c := rep.Configs[0]
	spec, _ := model.Builtin("tiny-llama")
	wantBytes := DecodeReadBytes(spec, 1000, 64+32)
	if c.DecodeReadBytes != wantBytes || c.DecodeReadGBs == nil {
		t.Fatalf("bytes %d (want %d), GB/s %v", c.DecodeReadBytes, wantBytes, c.DecodeReadGBs)
	}
	for i, v := range c.DecodeTokS.Trials {
		if math.Abs(c.DecodeReadGBs.Trials[i]-float64(wantBytes)*v/1e9) > 1e-12 {
			t.Errorf("trial %d: %v GB/s, decode %v tok/s", i, c.DecodeReadGBs.Trials[i], v)
		}
	}
	data, _ := Marshal(rep)
	if err := Validate(data); err != nil {
		t.Errorf("report with the roofline does not validate: %v", err)
	}
}

// specGen is instantGen with the tiny-llama spec and 1000 weight bytes.
type specGen struct{ instantGen }

func (g *specGen) Spec() *model.Spec {
	s, _ := model.Builtin("tiny-llama")
	return s
}

func (g *specGen) ModelInfo() engine.ModelInfo {
	i := g.instantGen.ModelInfo()
	i.WeightBytes = 1000
	return i
}
