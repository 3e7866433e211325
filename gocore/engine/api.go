// Package engine is the generation API every frontend uses (the genbench CLI,
// the benchmark runner, the C ABI): load a model onto a device, generate
// tokens from prompt ids with sampling, streaming and timings, close.
package engine

import (
	"time"

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
	// Device is "auto", "cpu", "cuda" or "cuda:N".
	Device string
	// DType is the compute dtype; "bfloat16" is the only supported value.
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

// DeviceInfo describes the device the engine computes on.
type DeviceInfo struct {
	Kind              string `json:"kind"` // "cpu" or "cuda"
	Index             int    `json:"index"`
	Name              string `json:"name"` // GPU name or CPU model
	ComputeCapability string `json:"compute_capability,omitempty"`
	MemoryBytes       int64  `json:"memory_bytes"`
	DriverVersion     string `json:"driver_version,omitempty"`
	CUDAVersion       string `json:"cuda_version,omitempty"`
	Cores             int    `json:"cores,omitempty"`   // CPU cores (logical)
	Threads           int    `json:"threads,omitempty"` // worker goroutines used
}
