package bench

import (
	"os"
	"runtime"
	"strings"

	"github.com/genbench/genbench/gocore/engine"
	"github.com/genbench/genbench/gocore/internal/sysinfo"
	"github.com/genbench/genbench/gocore/sampling"
)

// SchemaVersion is the version of the report format (report.schema.json).
// It changes whenever a field is renamed, removed or changes meaning.
const SchemaVersion = 1

// Version is the engine version reports and the summary name.
const Version = "0.1.0"

// StopModeNoStop is the stop mode of every benchmark run: end-of-sequence
// ids do not stop generation, so exactly the requested tokens are generated.
const StopModeNoStop = "no-stop"

// Report is the result of one benchmark run (a suite or an ad-hoc run).
// Its JSON form is described by report.schema.json.
type Report struct {
	SchemaVersion int    `json:"schema_version"`
	CreatedAt     string `json:"created_at"` // start of the run, RFC 3339, UTC
	// Complete is false when the run stopped before every planned config
	// finished (cancelled or failed); Error then says why.
	Complete      bool     `json:"complete"`
	Error         string   `json:"error,omitempty"`
	Driver        string   `json:"driver"`         // "genbench" or "bench_generation.py"
	Engine        string   `json:"engine"`         // "genbench" or "hf"
	EngineVersion string   `json:"engine_version"` // Version, or the hf library's version
	Suite         string   `json:"suite"`          // RunConfig.SuiteName
	Planned       []string `json:"planned_configs"`
	StopMode      string   `json:"stop_mode"`     // StopModeNoStop
	PromptSource  string   `json:"prompt_source"` // PromptText or PromptRandom
	DType         string   `json:"dtype"`

	Environment Environment      `json:"environment"`
	Model       engine.ModelInfo `json:"model"`
	Flags       RunConfig        `json:"flags"`
	Configs     []ConfigResult   `json:"configs"`
}

// Environment is where the benchmark ran.
type Environment struct {
	OS          string            `json:"os"`           // e.g. "linux (Debian GNU/Linux 12, kernel 6.1.0)"
	Arch        string            `json:"arch"`         // GOARCH
	GoVersion   string            `json:"go_version"`   // runtime.Version of the driver's engine
	CPUModel    string            `json:"cpu_model"`    // from /proc/cpuinfo where available
	CPUCores    int               `json:"cpu_cores"`    // logical cores
	MemoryBytes int64             `json:"memory_bytes"` // host memory (0 when unknown)
	GitCommit   string            `json:"git_commit"`   // vcs.revision of the build, or "unknown"
	GitDirty    bool              `json:"git_dirty"`    // the build had uncommitted changes
	GitSource   string            `json:"git_source"`   // GitFromBuild, GitFromCheckout or GitUnknown
	Device      engine.DeviceInfo `json:"device"`
	// Bandwidth is the device's measured memory bandwidth (nil when the
	// engine cannot measure it).
	Bandwidth *DeviceBandwidth `json:"device_bandwidth,omitempty"`
	// Set by the Python driver (and its hf engine) only.
	PythonVersion       string `json:"python_version,omitempty"`
	TorchVersion        string `json:"torch_version,omitempty"`
	TransformersVersion string `json:"transformers_version,omitempty"`
}

// ConfigResult is one config's measurements.
type ConfigResult struct {
	Key           string          `json:"key"`
	PromptTokens  int             `json:"prompt_tokens"`
	GenTokens     int             `json:"gen_tokens"`
	Sampling      sampling.Params `json:"sampling"`
	SamplingLabel string          `json:"sampling_label"`
	Warmup        int             `json:"warmup"`
	Trials        int             `json:"trials"`

	E2ETokS     Figure `json:"e2e_tok_s"`
	TTFTMs      Figure `json:"ttft_ms"`
	PrefillTokS Figure `json:"prefill_tok_s"`
	DecodeTokS  Figure `json:"decode_tok_s"`
	PeakMem     Figure `json:"peak_mem_bytes"`
	// ITLMs is the inter-token latency over every decode step of every
	// timed trial (nil when the engine does not record per-token times).
	ITLMs *Latency `json:"itl_ms,omitempty"`
	// DecodeReadBytes is what a decode step reads at the config's mean
	// decode context (DecodeReadBytes: weights once plus the KV cache), and
	// DecodeReadGBs the achieved read bandwidth, that × decode tok/s, in
	// GB/s (both absent when the model's geometry is unknown).
	DecodeReadBytes int64   `json:"decode_read_bytes,omitempty"`
	DecodeReadGBs   *Figure `json:"decode_read_gb_s,omitempty"`
	// DecodeReadPct is DecodeReadGBs as a percentage of the device's
	// measured bandwidth (Environment.Bandwidth; absent when unknown).
	DecodeReadPct *Figure `json:"decode_read_pct,omitempty"`

	// IdenticalTokens is true when every timed trial generated the same ids.
	IdenticalTokens bool `json:"identical_tokens"`
	// PromptSHA256 and TokensSHA256 hash the prompt ids and the first
	// trial's generated ids (int32 little-endian), to compare runs.
	PromptSHA256 string `json:"prompt_sha256"`
	TokensSHA256 string `json:"tokens_sha256"`
	// EOSGenerated is true when an end-of-sequence id appeared among the
	// generated ids (generation went on past it).
	EOSGenerated bool `json:"eos_generated"`
}

// HostEnvironment describes the machine this process runs on; the device
// fields come from the engine.
func HostEnvironment(dev engine.DeviceInfo) Environment {
	env := Environment{
		OS:          osDescription(),
		Arch:        runtime.GOARCH,
		GoVersion:   runtime.Version(),
		CPUModel:    sysinfo.CPUModel(),
		CPUCores:    runtime.NumCPU(),
		MemoryBytes: sysinfo.MemInfo("MemTotal"),
		Device:      dev,
	}
	env.GitCommit, env.GitDirty, env.GitSource = gitInfo()
	return env
}

// osDescription is GOOS plus, on Linux, the distribution and kernel.
func osDescription() string {
	desc := runtime.GOOS
	var extra []string
	if b, err := os.ReadFile("/etc/os-release"); err == nil {
		for line := range strings.SplitSeq(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "PRETTY_NAME="); ok {
				extra = append(extra, strings.Trim(v, `"`))
			}
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		extra = append(extra, "kernel "+strings.TrimSpace(string(b)))
	}
	if len(extra) > 0 {
		desc += " (" + strings.Join(extra, ", ") + ")"
	}
	return desc
}
