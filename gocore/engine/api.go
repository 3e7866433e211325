// Package engine is the generation API every frontend uses (the genbench CLI,
// the benchmark runner, the C ABI): load a model onto a device, generate
// tokens from prompt ids with sampling, streaming and timings, close.
package engine

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/genbench/genbench/gocore/backend"
	"github.com/genbench/genbench/gocore/cpu"
	"github.com/genbench/genbench/gocore/model"
	"github.com/genbench/genbench/gocore/sampling"
)

// Options select what to load and where.
type Options struct {
	// Model is a local directory, a Hugging Face id, or "" for the embedded
	// default tiny model. A built-in spec name (see model.Builtin) with
	// RandomWeights instantiates synthetic weights.
	Model string
	// Revision is the Hugging Face revision (branch, tag or commit) used
	// when Model is a Hugging Face id; "" = "main".
	Revision string
	// Device is "auto" (or ""), "cpu", "cuda" or "cuda:N" (see ParseDevice).
	Device string
	// DType is the compute dtype; "bfloat16" (or "") is the only supported
	// value.
	DType string
	// RandomWeights uses seeded synthetic weights of the model's spec
	// instead of reading safetensors.
	RandomWeights bool
	// WeightSeed seeds the synthetic weights.
	WeightSeed uint64
	// Threads bounds CPU worker goroutines (0 = all cores).
	Threads int
	// Progress, when non-nil, receives human-readable loading progress lines.
	Progress func(msg string)
	// DownloadProgress, when it is a terminal, shows a progress bar per
	// downloaded file (nil: none; the engine never writes to stderr by
	// itself).
	DownloadProgress io.Writer

	// mutateSpec, when set, changes the spec after the weights are bound
	// and before the decoder is built: the golden tests' negative controls.
	mutateSpec func(*model.Spec)
}

// ModelName is the model Load loads: Model, or DefaultModel when Model is
// empty.
func (o Options) ModelName() string {
	if o.Model == "" {
		return DefaultModel
	}
	return o.Model
}

// Validate checks Device, DType and Threads (cpu.CheckThreads); each bad value is one line
// "<field>: <value and what was expected>", the field by its JSON name in
// the C ABI ("device", "dtype", "threads").
func (o Options) Validate() error { return o.ValidateAs(nil) }

// ValidateAs is Validate with the fields named by name (given the JSON
// name), so a front end reports the same text in its own vocabulary, e.g.
// "--device" for a command-line flag. A nil name keeps the JSON names.
func (o Options) ValidateAs(name func(field string) string) error {
	if name == nil {
		name = func(f string) string { return f }
	}
	var errs []error
	if _, err := o.device(); err != nil {
		errs = append(errs, fmt.Errorf("%s: %w", name("device"), err))
	}
	if o.DType != "" && o.DType != "bfloat16" {
		errs = append(errs, fmt.Errorf("%s: unsupported dtype %q: expected bfloat16", name("dtype"), o.DType))
	}
	if err := cpu.CheckThreads(o.Threads); err != nil {
		errs = append(errs, fmt.Errorf("%s: %w", name("threads"), err))
	}
	return errors.Join(errs...)
}

// device parses Device; "" (the zero value) is "auto".
func (o Options) device() (Device, error) {
	if o.Device == "" {
		return Device{Kind: "auto"}, nil
	}
	return ParseDevice(o.Device)
}

// Device is a parsed device name.
type Device struct {
	Kind  string // "auto", "cpu" or "cuda"
	Index int    // the GPU index of "cuda:N" (0 otherwise)
}

// ParseDevice parses a device name: "auto" (the first usable GPU, else
// the CPU), "cpu", "cuda" (GPU 0) or "cuda:N" (GPU N).
func ParseDevice(s string) (Device, error) {
	switch s {
	case "auto", "cpu", "cuda":
		return Device{Kind: s}, nil
	}
	if n, ok := strings.CutPrefix(s, "cuda:"); ok {
		if i, err := strconv.Atoi(n); err == nil && i >= 0 {
			return Device{Kind: "cuda", Index: i}, nil
		}
	}
	return Device{}, fmt.Errorf("unknown device %q: expected auto, cpu, cuda or cuda:N (N = GPU index)", s)
}

// StopMode says how end-of-sequence tokens are treated.
type StopMode int

const (
	// StopOnEOS ends generation after the first EOS id (included in the output).
	StopOnEOS StopMode = iota
	// NoStop ignores EOS ids: logits untouched, generation runs to MaxNewTokens
	// (MODELS.md 4.5 mode b, "no-stop"; what the benchmark uses).
	NoStop
)

// Request is one generation.
type Request struct {
	Prompt       []int32
	MaxNewTokens int
	Sampling     sampling.Params
	Stop         StopMode
	// StopIDs overrides the model's EOS set when non-nil.
	StopIDs []int32
	// OnToken, when non-nil, is called with each generated id as soon as it
	// is on the host; returning an error stops generation with that error.
	OnToken func(id int32) error
}

// Result is what a generation produced and how long it took.
type Result struct {
	Tokens []int32 // generated ids (prompt excluded)
	// TTFT is from the start of prefill to the first generated id on the host.
	TTFT time.Duration
	// Total is from the start of prefill to the last generated id on the host.
	Total time.Duration
	// TokenTimes[i] is when token i was on the host, relative to the start.
	TokenTimes []time.Duration
	// StoppedOnEOS is true when an EOS id ended generation early.
	StoppedOnEOS bool
}

// Figures are the speeds of one generation as BENCH.md defines them.
type Figures struct {
	E2ETokS     float64 // generated tokens / Total
	TTFTMs      float64 // TTFT in milliseconds
	PrefillTokS float64 // prompt tokens / TTFT
	DecodeTokS  float64 // (generated - 1) / (Total - TTFT)
}

// Figures measures the generation of r from a prompt of promptTokens.
func (r *Result) Figures(promptTokens int) Figures {
	return Measure(promptTokens, len(r.Tokens), r.TTFT, r.Total)
}

// Measure computes the Figures of a generation of genTokens tokens from a
// prompt of promptTokens. A speed whose time span is zero (the decode of a
// single token) is 0.
func Measure(promptTokens, genTokens int, ttft, total time.Duration) Figures {
	return Figures{
		E2ETokS:     rate(genTokens, total),
		TTFTMs:      float64(ttft) / float64(time.Millisecond),
		PrefillTokS: rate(promptTokens, ttft),
		DecodeTokS:  rate(genTokens-1, total-ttft),
	}
}

// rate is n per second over d, or 0 when d is not positive or n is zero.
func rate(n int, d time.Duration) float64 {
	if d <= 0 || n <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}

// ModelInfo describes the loaded model for reports.
type ModelInfo struct {
	ID           string `json:"id"`           // what the user asked for (id, path or built-in name)
	Path         string `json:"path"`         // resolved directory, or "synthetic"
	Arch         string `json:"arch"`         // llama, qwen3, gemma3
	Architecture string `json:"architecture"` // e.g. LlamaForCausalLM
	Params       int64  `json:"params"`       // parameter count (tied embedding counted once)
	WeightBytes  int64  `json:"weight_bytes"` // bytes of weights as computed with (bf16)
	VocabSize    int    `json:"vocab_size"`
	NumLayers    int    `json:"num_layers"`
	HasTokenizer bool   `json:"has_tokenizer"`
	Synthetic    bool   `json:"synthetic"`
}

// DeviceInfo describes the device the engine computes on (the backend's
// Info).
type DeviceInfo = backend.Info
