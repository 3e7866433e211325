package engine

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/genbench/genbench/gocore/model"
	"github.com/genbench/genbench/gocore/sampling"
	"github.com/genbench/genbench/gocore/tokenizer"
	"github.com/genbench/genbench/gocore/weights"
)

var tinyModels = []string{model.TinyLlama, model.TinyQwen3, model.TinyGemma3}

func load(t *testing.T, opts Options) *Engine {
	t.Helper()
	if opts.Device == "" {
		opts.Device = "cpu"
	}
	e, err := Load(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

func argmax(v []float32) int32 {
	best := 0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
	}
	return int32(best)
}

func prompt(n int, seed uint64) []int32 {
	r := rand.New(rand.NewPCG(seed, 1))
	p := make([]int32, n)
	p[0] = 508 // tiny BOS
	for i := 1; i < n; i++ {
		p[i] = int32(r.IntN(500))
	}
	return p
}

// TestGreedyGeneration64: 64 greedy tokens end to end on every tiny model;
// each token is the argmax of the teacher-forced logits of the sequence so
// far (an independent path: one prefill over the whole sequence).
func TestGreedyGeneration64(t *testing.T) {
	for _, name := range tinyModels {
		t.Run(name, func(t *testing.T) {
			e := load(t, Options{Model: name})
			if e.Tokenizer() == nil || e.ModelInfo().Arch == "" || !e.ModelInfo().Synthetic {
				t.Fatalf("model info %+v, tokenizer %v", e.ModelInfo(), e.Tokenizer() != nil)
			}
			p := prompt(12, 1)
			var streamed []int32
			res, err := e.Generate(context.Background(), Request{Prompt: p, MaxNewTokens: 64, Stop: NoStop,
				OnToken: func(id int32) error { streamed = append(streamed, id); return nil }})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Tokens) != 64 || len(res.TokenTimes) != 64 || len(streamed) != 64 {
				t.Fatalf("%d tokens, %d times, %d streamed", len(res.Tokens), len(res.TokenTimes), len(streamed))
			}
			if res.TTFT <= 0 || res.Total < res.TTFT || res.TokenTimes[63] != res.Total {
				t.Fatalf("timings TTFT %v total %v", res.TTFT, res.Total)
			}
			seq := append(append([]int32(nil), p...), res.Tokens...)
			logits, err := e.Forward(context.Background(), seq[:len(seq)-1])
			if err != nil {
				t.Fatal(err)
			}
			for i, tok := range res.Tokens {
				if streamed[i] != tok {
					t.Fatalf("streamed token %d = %d, result %d", i, streamed[i], tok)
				}
				if want := argmax(logits[len(p)-1+i]); want != tok {
					t.Fatalf("token %d = %d, teacher-forced argmax %d", i, tok, want)
				}
			}
			same := true
			for i := range logits[0] {
				same = same && logits[0][i] == logits[len(logits)-1][i]
			}
			if same {
				t.Fatal("logits do not depend on the input")
			}
			// determinism: a second run gives the same tokens
			res2, err := e.Generate(context.Background(), Request{Prompt: p, MaxNewTokens: 64, Stop: NoStop})
			if err != nil {
				t.Fatal(err)
			}
			for i := range res.Tokens {
				if res.Tokens[i] != res2.Tokens[i] {
					t.Fatalf("second run differs at %d", i)
				}
			}
		})
	}
}

func TestSampledGenerationSeeded(t *testing.T) {
	e := load(t, Options{Model: model.TinyQwen3})
	p := prompt(5, 2)
	sp := sampling.Params{Temperature: 0.8, TopK: 40, TopP: 0.95, RepetitionPenalty: 1.1, Seed: 42}
	a, err := e.Generate(context.Background(), Request{Prompt: p, MaxNewTokens: 20, Sampling: sp, Stop: NoStop})
	if err != nil {
		t.Fatal(err)
	}
	e.ReleaseBuffers()
	b, err := e.Generate(context.Background(), Request{Prompt: p, MaxNewTokens: 20, Sampling: sp, Stop: NoStop})
	if err != nil {
		t.Fatal(err)
	}
	for i := range a.Tokens {
		if a.Tokens[i] != b.Tokens[i] {
			t.Fatalf("same seed, different token at %d", i)
		}
	}
}

func TestStopOnEOS(t *testing.T) {
	e := load(t, Options{Model: model.TinyLlama})
	p := prompt(8, 3)
	free, err := e.Generate(context.Background(), Request{Prompt: p, MaxNewTokens: 10, Stop: NoStop})
	if err != nil {
		t.Fatal(err)
	}
	// make the 4th generated token a stop id
	stopID := free.Tokens[3]
	first := -1
	for i, tok := range free.Tokens {
		if tok == stopID {
			first = i
			break
		}
	}
	res, err := e.Generate(context.Background(), Request{Prompt: p, MaxNewTokens: 10, Stop: StopOnEOS, StopIDs: []int32{stopID}})
	if err != nil {
		t.Fatal(err)
	}
	if !res.StoppedOnEOS || len(res.Tokens) != first+1 || res.Tokens[first] != stopID {
		t.Fatalf("stop at %d: got %v (stopped %v), free run %v", first, res.Tokens, res.StoppedOnEOS, free.Tokens)
	}
}

func TestCancelAndCallbackError(t *testing.T) {
	e := load(t, Options{Model: model.TinyLlama})
	ctx, cancel := context.WithCancel(context.Background())
	n := 0
	res, err := e.Generate(ctx, Request{Prompt: prompt(4, 4), MaxNewTokens: 50, Stop: NoStop, OnToken: func(int32) error {
		n++
		if n == 3 {
			cancel()
		}
		return nil
	}})
	if !errors.Is(err, context.Canceled) || res == nil || len(res.Tokens) != 3 {
		t.Fatalf("err %v, result %+v", err, res)
	}
	boom := errors.New("boom")
	_, err = e.Generate(context.Background(), Request{Prompt: prompt(4, 4), MaxNewTokens: 5, OnToken: func(int32) error { return boom }})
	if !errors.Is(err, boom) {
		t.Fatalf("callback error lost: %v", err)
	}
}

func TestBadRequests(t *testing.T) {
	e := load(t, Options{})
	if e.ModelInfo().ID != DefaultModel || e.DeviceInfo().Kind != "cpu" {
		t.Fatalf("default model %+v on %+v", e.ModelInfo(), e.DeviceInfo())
	}
	ctx := context.Background()
	for _, tc := range []struct {
		req  Request
		want string
	}{
		{Request{MaxNewTokens: 4}, "empty prompt"},
		{Request{Prompt: []int32{1}, MaxNewTokens: 0}, "max new tokens"},
		{Request{Prompt: []int32{1, 512}, MaxNewTokens: 4}, "outside the model's vocabulary"},
		{Request{Prompt: []int32{-1}, MaxNewTokens: 4}, "outside the model's vocabulary"},
		{Request{Prompt: []int32{1}, MaxNewTokens: 5000}, "exceeds"},
		{Request{Prompt: []int32{1}, MaxNewTokens: 2, Sampling: sampling.Params{Temperature: -1}}, "temperature"},
	} {
		_, err := e.Generate(ctx, tc.req)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Fatalf("request %+v: error %v, want mention of %q", tc.req, err, tc.want)
		}
	}
}

func TestBadOptions(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		opts Options
		want string
	}{
		{Options{Device: "tpu"}, `unknown device "tpu"`},
		{Options{Device: "cuda:x"}, "cuda:N"},
		{Options{Device: "cuda"}, "CUDA"},
		{Options{DType: "float16"}, "dtype"},
		{Options{Model: t.TempDir()}, "config.json"},
		{Options{Model: "no such model"}, "built-in specs"},
		{Options{Threads: -1}, "threads"},
	} {
		e, err := Load(ctx, tc.opts)
		if err == nil {
			e.Close()
			t.Fatalf("options %+v accepted", tc.opts)
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Fatalf("options %+v: error %q, want mention of %q", tc.opts, err, tc.want)
		}
	}
}

// TestLoadDirectory: a synthetic model written as a Hugging Face directory
// loads through config.json + safetensors and computes the same logits.
func TestLoadDirectory(t *testing.T) {
	for _, name := range tinyModels {
		spec, _ := model.Builtin(name)
		m, err := weights.Synthetic(spec, 5)
		if err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		tj, tc := tokenizer.TinyFiles()
		if err := weights.WriteHF(dir, m, tj, tc); err != nil {
			t.Fatal(err)
		}
		fromDir := load(t, Options{Model: dir, Threads: 1})
		synth := load(t, Options{Model: name, WeightSeed: 5})
		if fromDir.ModelInfo().Synthetic || fromDir.Tokenizer() == nil {
			t.Fatalf("%s: directory model info %+v", name, fromDir.ModelInfo())
		}
		ids := prompt(20, 6)
		a, err := fromDir.Forward(context.Background(), ids)
		if err != nil {
			t.Fatal(err)
		}
		b, err := synth.Forward(context.Background(), ids)
		if err != nil {
			t.Fatal(err)
		}
		for p := range a {
			for i := range a[p] {
				if a[p][i] != b[p][i] {
					t.Fatalf("%s: position %d logit %d: %v from directory, %v synthetic", name, p, i, a[p][i], b[p][i])
				}
			}
		}
	}
}

func TestConcurrentUseAndClose(t *testing.T) {
	e := load(t, Options{Model: model.TinyGemma3})
	started := make(chan struct{})
	release := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		once := false
		_, _ = e.Generate(context.Background(), Request{Prompt: prompt(3, 7), MaxNewTokens: 3, Stop: NoStop, OnToken: func(int32) error {
			if !once {
				once = true
				close(started)
				<-release
			}
			return nil
		}})
	}()
	<-started
	_, err := e.Generate(context.Background(), Request{Prompt: []int32{1}, MaxNewTokens: 1})
	close(release)
	wg.Wait()
	if !errors.Is(err, ErrBusy) {
		t.Fatalf("concurrent Generate: %v, want ErrBusy", err)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if err := e.Close(); err != nil {
		t.Fatal("second Close:", err)
	}
	if _, err := e.Generate(context.Background(), Request{Prompt: []int32{1}, MaxNewTokens: 1}); !errors.Is(err, ErrClosed) {
		t.Fatalf("Generate after Close: %v", err)
	}
}

func TestPeakMemory(t *testing.T) {
	e := load(t, Options{})
	e.ResetPeakMemory()
	if e.PeakMemory() <= 0 {
		t.Skip("VmHWM not available on this system")
	}
	buf := make([]byte, 64<<20)
	for i := range buf {
		buf[i] = 1
	}
	if e.PeakMemory() < 64<<20 {
		t.Fatalf("peak %d below the 64 MiB just touched", e.PeakMemory())
	}
	_ = buf[len(buf)-1]
}

// TestLongPromptChunkedPrefill: a prompt longer than one prefill chunk
// (512) generates the token the teacher-forced logits predict.
func TestLongPromptChunkedPrefill(t *testing.T) {
	e := load(t, Options{Model: model.TinyGemma3})
	p := prompt(prefillChunk+90, 13)
	res, err := e.Generate(context.Background(), Request{Prompt: p, MaxNewTokens: 3, Stop: NoStop})
	if err != nil {
		t.Fatal(err)
	}
	seq := append(append([]int32(nil), p...), res.Tokens[:2]...)
	logits, err := e.Forward(context.Background(), seq)
	if err != nil {
		t.Fatal(err)
	}
	for i, tok := range res.Tokens {
		if want := argmax(logits[len(p)-1+i]); want != tok {
			t.Fatalf("token %d = %d, teacher-forced argmax %d", i, tok, want)
		}
	}
}

// The device grammar and the load options' ranges, each stated once.
func TestParseDeviceAndValidate(t *testing.T) {
	for s, want := range map[string]Device{"auto": {Kind: "auto"}, "cpu": {Kind: "cpu"}, "cuda": {Kind: "cuda"}, "cuda:3": {Kind: "cuda", Index: 3}} {
		if got, err := ParseDevice(s); err != nil || got != want {
			t.Errorf("ParseDevice(%q) = %+v, %v; want %+v", s, got, err, want)
		}
	}
	for _, s := range []string{"", "gpu", "CPU", "cuda:", "cuda:-1", "cuda:x", " cpu"} {
		if _, err := ParseDevice(s); err == nil || err.Error() != fmt.Sprintf("unknown device %q: expected auto, cpu, cuda or cuda:N (N = GPU index)", s) {
			t.Errorf("ParseDevice(%q) error %v", s, err)
		}
	}
	if err := (Options{}).Validate(); err != nil {
		t.Errorf("zero Options: %v", err)
	}
	err := Options{Device: "tpu", DType: "float16", Threads: -2}.ValidateAs(func(f string) string { return "<" + f + ">" })
	want := `<device>: unknown device "tpu": expected auto, cpu, cuda or cuda:N (N = GPU index)` + "\n" +
		`<dtype>: unsupported dtype "float16": expected bfloat16` + "\n" +
		`<threads>: -2 is negative: expected 0 (all cores) or a positive count`
	if err == nil || err.Error() != want {
		t.Errorf("ValidateAs = %v, want %q", err, want)
	}
}

// A generation's figures are BENCH.md's definitions, computed by hand here.
func TestResultFigures(t *testing.T) {
	// 256 prompt tokens, 64 generated; first token at 200 ms, last at 1.46 s.
	r := Result{Tokens: make([]int32, 64), TTFT: 200 * time.Millisecond, Total: 1460 * time.Millisecond}
	want := Figures{E2ETokS: 64 / 1.46, TTFTMs: 200, PrefillTokS: 256 / 0.2, DecodeTokS: 63 / 1.26}
	got := r.Figures(256)
	for _, c := range [][2]float64{{got.E2ETokS, want.E2ETokS}, {got.TTFTMs, want.TTFTMs}, {got.PrefillTokS, want.PrefillTokS}, {got.DecodeTokS, want.DecodeTokS}} {
		if math.Abs(c[0]-c[1]) > 1e-9*c[1] {
			t.Errorf("Figures(256) = %+v, want %+v", got, want)
			break
		}
	}
	if f := (&Result{Tokens: []int32{1}, TTFT: time.Second, Total: time.Second}).Figures(8); f.DecodeTokS != 0 || f.E2ETokS != 1 {
		t.Errorf("one token: %+v, want no decode span and 1 tok/s", f)
	}
}

// A checkpoint whose weights are NaN or Inf makes generation fail with an
// error that names the likely cause, instead of printing token 0 forever.
func TestNonFiniteWeights(t *testing.T) {
	for _, bits := range []uint16{0x7fc0, 0x7f80} { // bf16 NaN, +Inf
		spec, _ := model.Builtin("tiny-llama")
		m, err := weights.Synthetic(spec, 5)
		if err != nil {
			t.Fatal(err)
		}
		for i := range m.Norm.Data {
			m.Norm.Data[i] = bits
		}
		dir := t.TempDir()
		tj, tc := tokenizer.TinyFiles()
		if err := weights.WriteHF(dir, m, tj, tc); err != nil {
			t.Fatal(err)
		}
		e := load(t, Options{Model: dir, Device: "cpu", Threads: 1})
		for _, temp := range []float32{0, 0.8} {
			res, err := e.Generate(context.Background(), Request{Prompt: prompt(8, 1), MaxNewTokens: 4, Sampling: sampling.Params{Temperature: temp}})
			if err == nil || !strings.Contains(err.Error(), "logits are not finite") || !strings.Contains(err.Error(), "weights likely hold NaN or Inf") {
				t.Errorf("norm 0x%04x, temperature %v: %v, want the non-finite logits named", bits, temp, err)
			}
			if res != nil && len(res.Tokens) != 0 {
				t.Errorf("norm 0x%04x: generated %v", bits, res.Tokens)
			}
		}
	}
}

// Load errors name the model directory once, list the built-in specs only
// when the name may have meant one, and refuse a revision for a local
// directory.
func TestLoadErrorMessages(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(`{"architectures":["LlamaForCausalLM"],"hidden_size":0}`), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Load(context.Background(), Options{Model: dir, Device: "cpu"})
	if err == nil || strings.Count(err.Error(), dir) != 1 {
		t.Errorf("bad config: %v, want the directory named once", err)
	}
	_, err = Load(context.Background(), Options{Model: dir, Device: "cpu", Revision: "v1"})
	if err == nil || !strings.Contains(err.Error(), `revision "v1" applies to a Hugging Face id`) {
		t.Errorf("revision with a local directory: %v", err)
	}
	t.Setenv("HF_HUB_CACHE", t.TempDir())
	t.Setenv("HF_HUB_OFFLINE", "")
	t.Setenv("HF_ENDPOINT", "http://127.0.0.1:1") // nothing listens there
	_, err = Load(context.Background(), Options{Model: "acme/some-model", Device: "cpu"})
	if err == nil || strings.Contains(err.Error(), "built-in specs") {
		t.Errorf("unreachable hub: %v, want no list of built-in specs", err)
	}
	t.Setenv("HF_HUB_OFFLINE", "1")
	_, err = Load(context.Background(), Options{Model: "acme/some-model", Device: "cpu"})
	if err == nil || !strings.Contains(err.Error(), "built-in specs") {
		t.Errorf("not cached: %v, want the built-in specs listed", err)
	}
}
