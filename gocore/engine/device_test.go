package engine

import (
	"context"
	"errors"
	"testing"

	"github.com/genbench/genbench/gocore/backend"
	"github.com/genbench/genbench/gocore/cpu"
	"github.com/genbench/genbench/gocore/decoder"
	"github.com/genbench/genbench/gocore/model"
	"github.com/genbench/genbench/gocore/sampling"
)

// deviceCPU is the CPU backend with the optional capabilities of a GPU
// backend: "device" sampling (host sampling behind the TokenSampler
// interface) and capture (recording fn, replaying it later).
type deviceCPU struct {
	*cpu.Backend
	captured, replays int
}

type hostTokenSampler struct {
	be      *cpu.Backend
	s       *sampling.Sampler
	history []int32
	prompt  int
	logits  []float32
}

func (d *deviceCPU) NewSampler(p sampling.Params, vocab int, history []int32, capacity int) (backend.TokenSampler, error) {
	s, err := sampling.NewSampler(p, vocab)
	if err != nil {
		return nil, err
	}
	h := append(make([]int32, 0, len(history)+capacity), history...)
	return &hostTokenSampler{be: d.Backend, s: s, history: h, prompt: len(history), logits: make([]float32, vocab)}, nil
}

func (h *hostTokenSampler) Sample(logits, ids backend.Buffer) error {
	if err := h.be.ReadBF16AsF32(h.logits, logits, 0); err != nil {
		return err
	}
	id := h.s.Sample(h.logits, h.history)
	h.history = append(h.history, id)
	return h.be.WriteInt32(ids, 0, []int32{id})
}

func (h *hostTokenSampler) Token(i int) (int32, error) {
	if h.prompt+i >= len(h.history) {
		return 0, errors.New("token not sampled yet")
	}
	return h.history[h.prompt+i], nil
}

func (h *hostTokenSampler) Free() {}

type replayStep struct {
	d  *deviceCPU
	fn func() error
}

func (r *replayStep) Replay() error { r.d.replays++; return r.fn() }
func (r *replayStep) Free()         {}

func (d *deviceCPU) Capture(fn func() error) (backend.Step, error) {
	d.captured++
	return &replayStep{d: d, fn: fn}, nil
}

// TestDeviceSamplingPath runs the pipelined device-sampling loop (capture,
// replay, step i+1 enqueued before token i is read) and checks it produces
// the same tokens as the host loop.
func TestDeviceSamplingPath(t *testing.T) {
	host := load(t, Options{Model: model.TinyQwen3})
	dev := load(t, Options{Model: model.TinyQwen3})
	fake := &deviceCPU{Backend: cpu.New(2)}
	dec, err := decoder.New(fake, dev.weights)
	if err != nil {
		t.Fatal(err)
	}
	dev.dec.Close()
	dev.be.Close()
	dev.be, dev.dec = fake, dec
	for _, sp := range []sampling.Params{{}, {Temperature: 0.9, TopK: 50, TopP: 0.9, RepetitionPenalty: 1.2, Seed: 3}} {
		req := Request{Prompt: prompt(7, 11), MaxNewTokens: 24, Sampling: sp, Stop: NoStop}
		a, err := host.Generate(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		b, err := dev.Generate(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		if len(a.Tokens) != len(b.Tokens) {
			t.Fatalf("%d vs %d tokens", len(a.Tokens), len(b.Tokens))
		}
		for i := range a.Tokens {
			if a.Tokens[i] != b.Tokens[i] {
				t.Fatalf("params %+v: token %d: host %d, device path %d", sp, i, a.Tokens[i], b.Tokens[i])
			}
		}
	}
	if fake.captured != 2 || fake.replays != 2*23 {
		t.Fatalf("captured %d times, replayed %d times", fake.captured, fake.replays)
	}
	// stop on EOS in the pipelined loop
	free, _ := host.Generate(context.Background(), Request{Prompt: prompt(7, 12), MaxNewTokens: 10, Stop: NoStop})
	res, err := dev.Generate(context.Background(), Request{Prompt: prompt(7, 12), MaxNewTokens: 10, Stop: StopOnEOS, StopIDs: []int32{free.Tokens[2]}})
	if err != nil {
		t.Fatal(err)
	}
	if !res.StoppedOnEOS || res.Tokens[len(res.Tokens)-1] != free.Tokens[2] || len(res.Tokens) > 3 {
		t.Fatalf("stop: %v vs free %v", res.Tokens, free.Tokens)
	}
}
