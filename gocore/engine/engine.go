package engine

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/genbench/genbench/gocore/backend"
	"github.com/genbench/genbench/gocore/cpu"
	"github.com/genbench/genbench/gocore/decoder"
	"github.com/genbench/genbench/gocore/hub"
	"github.com/genbench/genbench/gocore/model"
	"github.com/genbench/genbench/gocore/sampling"
	"github.com/genbench/genbench/gocore/suggest"
	"github.com/genbench/genbench/gocore/tokenizer"
	"github.com/genbench/genbench/gocore/weights"
)

// DefaultModel is the built-in model loaded when Options.Model is empty:
// synthetic weights with the embedded tiny tokenizer.
const DefaultModel = model.TinyLlama

// prefillChunk bounds the tokens of one prefill forward call (and so the
// scratch memory); longer prompts are prefilled in several calls.
const prefillChunk = 512

// forwardChunk bounds the rows of logits held at once by Forward.
const forwardChunk = 64

// ErrBusy is returned when an Engine is used by two goroutines at once.
var ErrBusy = errors.New("engine: already in use by another call (an Engine is for one goroutine at a time)")

// ErrClosed is returned by calls on a closed Engine.
var ErrClosed = errors.New("engine: closed")

// Engine is a model loaded onto a device. It is safe for use by one
// goroutine at a time; a call made while another is running fails with
// ErrBusy instead of blocking.
type Engine struct {
	mu     sync.Mutex
	closed bool

	opts    Options
	spec    *model.Spec
	weights *weights.Model
	tok     *tokenizer.Tokenizer
	be      backend.Backend
	dec     *decoder.Decoder
	info    ModelInfo
	dev     DeviceInfo

	state  *decoder.State // reused across generations while large enough
	logits []float32
}

func (e *Engine) lock() error {
	if !e.mu.TryLock() {
		return ErrBusy
	}
	if e.closed {
		e.mu.Unlock()
		return ErrClosed
	}
	return nil
}

// Load resolves opts.Model, reads or synthesises its weights and uploads
// them to the chosen device.
//
// Model: "" is the embedded default (DefaultModel); a built-in name
// (model.BuiltinNames) — the tiny-* models always synthetic with
// tokenizer.Tiny(), the dev models' ids synthetic when RandomWeights is
// set; a directory with config.json and safetensors (and tokenizer.json
// when present); otherwise a Hugging Face id resolved through the local
// cache or a download (hub.Resolve). Device is "auto" (the GPU when one is
// usable, else the CPU), "cpu", "cuda" or "cuda:N".
func Load(ctx context.Context, opts Options) (*Engine, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	if err := opts.Validate(); err != nil {
		return nil, fmt.Errorf("engine: %w", err)
	}
	dev, _ := opts.device()
	if dev.Kind == "auto" {
		dev.Kind = "cpu"
		if cudaAvailable() {
			dev.Kind = "cuda"
		}
	}
	progress := opts.Progress
	if progress == nil {
		progress = func(string) {}
	}
	e := &Engine{opts: opts}
	ok := false
	defer func() {
		if !ok {
			e.closeAll()
		}
	}()
	if err := e.loadModel(ctx, opts, progress); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("engine: load: %w", err)
	}
	switch {
	case dev.Kind == "cuda":
		be, err := openCUDA(ctx, dev.Index, progress)
		if err != nil && !autoDevice(opts.Device) {
			return nil, err
		}
		if err != nil {
			progress(fmt.Sprintf("GPU unusable (%v); using the CPU", err))
			e.be = cpu.New(opts.Threads)
		} else {
			e.be = be
		}
	default:
		e.be = cpu.New(opts.Threads)
	}
	e.dev = e.be.Info()
	progress(fmt.Sprintf("uploading %s weights to %s", e.info.ID, e.dev.Kind))
	var err error
	if opts.mutateSpec != nil {
		opts.mutateSpec(e.spec)
	}
	if e.dec, err = decoder.New(e.be, e.weights); err != nil {
		return nil, fmt.Errorf("engine: %s: %w", e.info.ID, err)
	}
	if _, onHost := e.be.(*cpu.Backend); !onHost {
		// the device holds its own copy: drop the host weights (unmap files)
		werr := e.weights.Close()
		e.weights = nil
		if werr != nil {
			return nil, fmt.Errorf("engine: %s: releasing host weights: %w", e.info.ID, werr)
		}
	}
	ok = true
	return e, nil
}

func autoDevice(dev string) bool { return dev == "" || dev == "auto" }

func (e *Engine) loadModel(ctx context.Context, opts Options, progress func(string)) error {
	ref := opts.ModelName()
	e.info.ID = ref
	tinyBuiltin := strings.HasPrefix(ref, "tiny-")
	spec, builtin := model.Builtin(ref)
	var dir string
	switch {
	case builtin && (tinyBuiltin || opts.RandomWeights):
		progress(fmt.Sprintf("synthetic weights for built-in %s (seed %d)", ref, opts.WeightSeed))
		if tinyBuiltin {
			e.tok = tokenizer.Tiny()
		} else if d, err := hub.Resolve(ctx, ref, hubOptions(opts, true, true)); err == nil {
			// The real tokenizer when the cache has it: realistic prompts.
			if e.tok, err = loadTokenizerIfPresent(d); err != nil {
				return fmt.Errorf("engine: model %s: %w", ref, err)
			}
		}
	default:
		d, err := resolveDir(ctx, ref, hubOptions(opts, opts.RandomWeights, false), progress)
		if err != nil {
			return err
		}
		dir = d
		if opts.RandomWeights {
			progress(fmt.Sprintf("synthetic weights (seed %d) with the architecture of %s", opts.WeightSeed, dir))
		}
		// these errors name the directory (the caller names the model)
		if spec, err = model.LoadSpec(dir); err != nil {
			return fmt.Errorf("engine: %w", err)
		}
		spec.Name = ref
		if e.tok, err = loadTokenizerIfPresent(dir); err != nil {
			return fmt.Errorf("engine: %w", err)
		}
	}
	e.spec = spec
	var err error
	if dir == "" || opts.RandomWeights {
		e.weights, err = weights.Synthetic(spec, opts.WeightSeed)
	} else {
		progress(fmt.Sprintf("loading weights from %s", dir))
		e.weights, err = weights.Load(dir, spec)
	}
	if err != nil {
		return fmt.Errorf("engine: model %s: %w", ref, err)
	}
	// A tokenizer may be larger than the embedding table (Gemma 3's
	// <image_soft_token>, id 262144 of a 262144-row table) or smaller
	// (Qwen3's padded table): both load, as in Hugging Face transformers.
	// Only an id that reaches the embedding matters: validateIDs refuses a
	// prompt id past the table, and the logits cover the table only, so
	// nothing past it can be sampled.
	path := dir
	if dir == "" || opts.RandomWeights {
		path = weights.SyntheticSource
	}
	e.info = ModelInfo{
		ID: ref, Path: path, Arch: string(spec.Arch), Architecture: spec.Architecture,
		Params: spec.ParamCount(), WeightBytes: spec.WeightBytes(), VocabSize: spec.VocabSize,
		NumLayers: spec.NumLayers, HasTokenizer: e.tok != nil, Synthetic: path == weights.SyntheticSource,
	}
	return nil
}

// hubOptions are the Hugging Face cache and download options of a load:
// the environment's, the requested revision, opts.DownloadProgress, and
// with skipWeights only the config and tokenizer files (synthetic weights).
func hubOptions(opts Options, skipWeights, offline bool) hub.Options {
	o := hub.OptionsFromEnv()
	o.Revision = opts.Revision
	o.SkipWeights = skipWeights
	o.Offline = o.Offline || offline
	if opts.DownloadProgress != nil {
		o.Progress = opts.DownloadProgress
	}
	return o
}

// loadTokenizerIfPresent loads dir's tokenizer; nil when dir has none. A
// tokenizer file that is there but cannot be read is an error.
func loadTokenizerIfPresent(dir string) (*tokenizer.Tokenizer, error) {
	if _, err := os.Stat(filepath.Join(dir, "tokenizer.json")); err != nil {
		return nil, nil
	}
	return tokenizer.Load(dir)
}

// errorNaming marks an error whose message already names the model, so
// that the wrapping below does not repeat it.
type errorNaming struct{ error }

func (e errorNaming) Unwrap() error { return e.error }

// modelPrefix is "engine: model \"ref\": ", or "engine: " when err names
// the model itself.
func modelPrefix(ref string, err error) string {
	if _, ok := err.(errorNaming); ok {
		return "engine: "
	}
	return fmt.Sprintf("engine: model %q: ", ref)
}

func resolveDir(ctx context.Context, ref string, hopts hub.Options, progress func(string)) (string, error) {
	if fi, err := os.Stat(ref); err == nil && fi.IsDir() {
		if hopts.Revision != "" {
			return "", fmt.Errorf("engine: revision %q applies to a Hugging Face id, but %q is a local directory: drop the revision", hopts.Revision, ref)
		}
		return ref, nil
	}
	progress(fmt.Sprintf("resolving %s", ref))
	dir, err := hub.Resolve(ctx, ref, hopts)
	if err != nil {
		if strings.Contains(err.Error(), strconv.Quote(ref)) {
			// The hub's message names the model already: say it once.
			err = errorNaming{err}
		}
		if _, ok := model.Builtin(ref); ok {
			return "", fmt.Errorf("%s%w (it is a built-in spec too: add --random-weights to run it with synthetic weights)", modelPrefix(ref, err), err)
		}
		if errors.Is(err, hub.ErrBadReference) || errors.Is(err, hub.ErrNotFound) || errors.Is(err, hub.ErrNotCached) {
			// perhaps a built-in name was meant: list them
			return "", fmt.Errorf("%s%w%s (built-in specs, runnable with synthetic weights: %s)", modelPrefix(ref, err), err,
				suggest.DidYouMean(ref, model.BuiltinNames()), strings.Join(model.BuiltinNames(), ", "))
		}
		return "", fmt.Errorf("%s%w", modelPrefix(ref, err), err)
	}
	return dir, nil
}

// Tokenizer is the model's tokenizer, nil when it has none.
func (e *Engine) Tokenizer() *tokenizer.Tokenizer { return e.tok }

// Spec is the model's spec.
func (e *Engine) Spec() *model.Spec { return e.spec }

// ModelInfo describes the loaded model.
func (e *Engine) ModelInfo() ModelInfo { return e.info }

// DeviceInfo describes the device.
func (e *Engine) DeviceInfo() DeviceInfo { return e.dev }

// ErrNoBandwidthMeter is MemoryBandwidth's error on a backend that cannot
// measure its memory bandwidth.
var ErrNoBandwidthMeter = errors.New("engine: the backend cannot measure its memory bandwidth")

// MemoryBandwidth measures the device's memory bandwidth in bytes per
// second (backend.BandwidthMeter) and says how. It takes up to about a
// second: measure once per device, never between timed generations.
func (e *Engine) MemoryBandwidth() (float64, string, error) {
	if e.be == nil {
		return 0, "", errors.New("engine: closed")
	}
	m, ok := e.be.(backend.BandwidthMeter)
	if !ok {
		return 0, "", ErrNoBandwidthMeter
	}
	return m.MemoryBandwidth()
}

func (e *Engine) validate(req *Request) error {
	if req.MaxNewTokens <= 0 {
		return fmt.Errorf("engine: max new tokens %d must be > 0", req.MaxNewTokens)
	}
	return e.validateIDs(req.Prompt, req.MaxNewTokens)
}

// ValidatePrompt checks that ids can be a prompt followed by maxNewTokens
// generated positions: not empty, every id inside the model's vocabulary
// (the error names the token when the tokenizer knows the id), and the
// total within the model's positions.
func (e *Engine) ValidatePrompt(ids []int32, maxNewTokens int) error {
	return e.validateIDs(ids, maxNewTokens)
}

// validateIDs checks a prompt that will be followed by extra positions.
func (e *Engine) validateIDs(ids []int32, extra int) error {
	if len(ids) == 0 {
		return errors.New("engine: empty prompt (need at least one token id)")
	}
	v := e.spec.VocabSize
	for i, id := range ids {
		if id < 0 || int(id) >= v {
			return e.outOfVocab(id, i)
		}
	}
	if mp := e.spec.MaxPositionEmbeddings; mp > 0 && len(ids)+extra > mp {
		return fmt.Errorf("engine: prompt (%d) + new tokens (%d) = %d exceeds the model's %d positions", len(ids), extra, len(ids)+extra, mp)
	}
	return nil
}

// outOfVocab is the error for prompt id at index i outside the embedding
// table; it names the token when the tokenizer has one of that id (a
// tokenizer may be larger than the table: Gemma 3's <image_soft_token>).
func (e *Engine) outOfVocab(id int32, i int) error {
	v := e.spec.VocabSize
	if e.tok != nil {
		if s, ok := e.tok.TokenString(id); ok {
			return fmt.Errorf("engine: prompt token %q (id %d, at index %d) has no embedding: the model's vocabulary is [0, %d) and the tokenizer's %d entries go past it", s, id, i, v, e.tok.VocabSize())
		}
	}
	return fmt.Errorf("engine: prompt token id %d at index %d is outside the model's vocabulary [0, %d)", id, i, v)
}

// stateFor returns a decode state for capacity positions, reusing the
// current one when it is large enough.
func (e *Engine) stateFor(capacity int) (*decoder.State, error) {
	chunk := min(prefillChunk, capacity)
	if st := e.state; st != nil && st.Capacity >= capacity && st.MaxTokens >= chunk && !st.AllLogits {
		return st, nil
	}
	e.releaseState()
	st, err := e.dec.NewState(capacity, chunk, false)
	if err != nil {
		return nil, fmt.Errorf("engine: %w", err)
	}
	e.state = st
	return st, nil
}

func (e *Engine) releaseState() {
	if e.state != nil {
		e.state.Free()
		e.state = nil
	}
}

// prefill runs the prompt in chunks and leaves the last position's logits.
func (e *Engine) prefill(ctx context.Context, st *decoder.State, prompt []int32) error {
	for start := 0; start < len(prompt); start += st.MaxTokens {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("engine: prefill: %w", err)
		}
		end := min(len(prompt), start+st.MaxTokens)
		if err := e.dec.Prefill(st, prompt[start:end], start); err != nil {
			return fmt.Errorf("engine: prefill: %w", err)
		}
	}
	return nil
}

// Generate prefills req.Prompt and generates up to req.MaxNewTokens tokens.
// ctx is checked before every token; on cancellation the tokens generated
// so far are returned with the error.
func (e *Engine) Generate(ctx context.Context, req Request) (*Result, error) {
	if err := e.lock(); err != nil {
		return nil, err
	}
	defer e.mu.Unlock()
	if ctx == nil {
		ctx = context.Background()
	}
	if err := e.validate(&req); err != nil {
		return nil, err
	}
	sampler, err := sampling.NewSampler(req.Sampling, e.spec.VocabSize)
	if err != nil {
		return nil, fmt.Errorf("engine: %w", err)
	}
	stop := map[int32]bool{}
	if req.Stop == StopOnEOS {
		ids := req.StopIDs
		if ids == nil {
			ids = e.spec.StopIDs()
		}
		for _, id := range ids {
			stop[id] = true
		}
	}
	P, N := len(req.Prompt), req.MaxNewTokens
	st, err := e.stateFor(P + N)
	if err != nil {
		return nil, err
	}
	if len(e.logits) != e.spec.VocabSize {
		e.logits = make([]float32, e.spec.VocabSize)
	}
	if ds, ok := e.be.(backend.DeviceSampler); ok {
		return e.generateOnDevice(ctx, &req, st, ds, stop)
	}
	history := make([]int32, P, P+N)
	copy(history, req.Prompt)
	res := &Result{Tokens: make([]int32, 0, N), TokenTimes: make([]time.Duration, 0, N)}

	t0 := time.Now()
	if err := e.prefill(ctx, st, req.Prompt); err != nil {
		return nil, err
	}
	if err := e.dec.SetPosition(st, P); err != nil {
		return nil, fmt.Errorf("engine: %w", err)
	}
	for i := 0; i < N; i++ {
		if i > 0 {
			if err := ctx.Err(); err != nil {
				return res, fmt.Errorf("engine: generate: %w", err)
			}
			if err := e.dec.SetToken(st, res.Tokens[i-1]); err != nil {
				return res, fmt.Errorf("engine: %w", err)
			}
			if err := e.dec.Step(st); err != nil {
				return res, fmt.Errorf("engine: decode step %d: %w", i, err)
			}
		}
		if err := e.be.ReadBF16AsF32(e.logits, st.Logits, 0); err != nil {
			return res, fmt.Errorf("engine: reading logits: %w", err)
		}
		if err := sampling.CheckFinite(e.logits); err != nil {
			return res, fmt.Errorf("engine: token %d: %w: the model's weights likely hold NaN or Inf values (a corrupt or wrongly converted checkpoint)", i, err)
		}
		id := sampler.Sample(e.logits, history)
		history = append(history, id)
		if done, err := res.emit(&req, stop, id, time.Since(t0)); done || err != nil {
			return res, err
		}
	}
	return res, nil
}

// emit records generated token id, on the host el after the start, passes
// it to the stream callback, and reports whether generation ends there (an
// EOS id, or the callback's error).
func (res *Result) emit(req *Request, stop map[int32]bool, id int32, el time.Duration) (bool, error) {
	res.Tokens = append(res.Tokens, id)
	res.TokenTimes = append(res.TokenTimes, el)
	if len(res.Tokens) == 1 {
		res.TTFT = el
	}
	res.Total = el
	if req.OnToken != nil {
		if err := req.OnToken(id); err != nil {
			return true, err
		}
	}
	if stop[id] {
		res.StoppedOnEOS = true
		return true, nil
	}
	return false, nil
}

// generateOnDevice is the generation loop of a backend that samples on
// the device: the step (decode + sample) is captured once when the backend
// can, and step i+1 is enqueued before token i is read back, so the device
// never waits for the host.
func (e *Engine) generateOnDevice(ctx context.Context, req *Request, st *decoder.State, ds backend.DeviceSampler, stop map[int32]bool) (*Result, error) {
	P, N := len(req.Prompt), req.MaxNewTokens
	sampler, err := ds.NewSampler(req.Sampling, e.spec.VocabSize, req.Prompt, N)
	if err != nil {
		return nil, fmt.Errorf("engine: device sampling: %w", err)
	}
	defer sampler.Free()
	step := func() error {
		if err := e.dec.Step(st); err != nil {
			return err
		}
		return sampler.Sample(st.Logits, st.IDs)
	}
	res := &Result{Tokens: make([]int32, 0, N), TokenTimes: make([]time.Duration, 0, N)}
	t0 := time.Now()
	if err := e.prefill(ctx, st, req.Prompt); err != nil {
		return nil, err
	}
	if err := e.dec.SetPosition(st, P); err != nil {
		return nil, fmt.Errorf("engine: %w", err)
	}
	if err := sampler.Sample(st.Logits, st.IDs); err != nil {
		return nil, fmt.Errorf("engine: device sampling: %w", err)
	}
	// Token 0 is read before the decode step is captured, so the time to
	// the first token does not include the capture and instantiation.
	id, err := sampler.Token(0)
	if err != nil {
		return res, fmt.Errorf("engine: token 0: %w", err)
	}
	done, err := res.emit(req, stop, id, time.Since(t0))
	if err != nil {
		return res, err
	}
	if !done && N > 1 {
		if err := ctx.Err(); err != nil {
			return res, fmt.Errorf("engine: generate: %w", err)
		}
		next := step
		if c, ok := e.be.(backend.Capturer); ok {
			rec, err := c.Capture(step)
			if err != nil {
				return nil, fmt.Errorf("engine: capturing the decode step: %w", err)
			}
			defer rec.Free()
			next = rec.Replay
		}
		// The device runs one step ahead of the tokens read.
		if err := next(); err != nil {
			return res, fmt.Errorf("engine: decode step 1: %w", err)
		}
		for i := 1; i < N; i++ {
			if i+1 < N {
				if err := next(); err != nil {
					return res, fmt.Errorf("engine: decode step %d: %w", i+1, err)
				}
			}
			id, err := sampler.Token(i)
			if err != nil {
				return res, fmt.Errorf("engine: token %d: %w", i, err)
			}
			if done, err := res.emit(req, stop, id, time.Since(t0)); err != nil {
				return res, err
			} else if done {
				break
			}
			if err := ctx.Err(); err != nil && i+1 < N {
				return res, fmt.Errorf("engine: generate: %w", err)
			}
		}
	}
	if err := e.be.Sync(); err != nil {
		return res, fmt.Errorf("engine: %w", err)
	}
	return res, nil
}

// Forward returns teacher-forced logits (float32 copies of the bf16
// logits) for every position of ids, computed in chunks.
func (e *Engine) Forward(ctx context.Context, ids []int32) ([][]float32, error) {
	out := make([][]float32, 0, len(ids))
	err := e.ForwardEach(ctx, ids, ForwardOptions{Logits: func(_ int, row []float32) error {
		out = append(out, append([]float32(nil), row...))
		return nil
	}})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ForwardOptions are what ForwardEach reports.
type ForwardOptions struct {
	// Logits, when set, receives each position's logits in order (float32
	// copies of the bf16 logits; the slice is reused between calls).
	Logits func(pos int, logits []float32) error
	// Tap, when set, receives at each of TapPositions the output of every
	// named op of the forward pass (decoder.TapFunc lists them; layer -1 is
	// the embedding, NumLayers the final norm), as float32 copies of the
	// bf16 values (the slice is reused).
	Tap          func(layer int, op string, pos int, values []float32) error
	TapPositions []int
}

// ForwardEach runs ids teacher-forced, in chunks, and reports the logits
// and taps that opts asks for; memory stays bounded by one chunk whatever
// the length.
func (e *Engine) ForwardEach(ctx context.Context, ids []int32, opts ForwardOptions) error {
	if err := e.lock(); err != nil {
		return err
	}
	defer e.mu.Unlock()
	if ctx == nil {
		ctx = context.Background()
	}
	if err := e.validateIDs(ids, 0); err != nil {
		return err
	}
	st, err := e.dec.NewState(len(ids), min(forwardChunk, len(ids)), true)
	if err != nil {
		return fmt.Errorf("engine: %w", err)
	}
	defer st.Free()
	V := e.spec.VocabSize
	row := make([]float32, V)
	start := 0
	if opts.Tap != nil {
		var vals []float32
		st.Tap = func(layer int, op string, buf backend.Buffer, n, width int) error {
			for _, p := range opts.TapPositions {
				if p < start || p >= start+n {
					continue
				}
				vals = slices.Grow(vals[:0], width)[:width]
				if err := e.be.ReadBF16AsF32(vals, buf, (p-start)*width); err != nil {
					return fmt.Errorf("reading %s of layer %d: %w", op, layer, err)
				}
				if err := opts.Tap(layer, op, p, vals); err != nil {
					return err
				}
			}
			return nil
		}
	}
	for ; start < len(ids); start += st.MaxTokens {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("engine: forward: %w", err)
		}
		end := min(len(ids), start+st.MaxTokens)
		if err := e.dec.Prefill(st, ids[start:end], start); err != nil {
			return fmt.Errorf("engine: forward: %w", err)
		}
		if opts.Logits == nil {
			continue
		}
		for r := 0; r < end-start; r++ {
			if err := e.be.ReadBF16AsF32(row, st.Logits, r*V); err != nil {
				return fmt.Errorf("engine: reading logits: %w", err)
			}
			if err := opts.Logits(start+r, row); err != nil {
				return err
			}
		}
	}
	return nil
}

// ReleaseBuffers frees the per-generation buffers (KV cache, scratch);
// the next Generate allocates them again.
func (e *Engine) ReleaseBuffers() {
	if e.lock() != nil {
		return
	}
	defer e.mu.Unlock()
	e.releaseState()
	e.logits = nil
}

// Close releases the device memory, the backend and the weights.
// It is idempotent.
func (e *Engine) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil
	}
	e.closed = true
	return e.closeAll()
}

func (e *Engine) closeAll() error {
	var errs []error
	e.releaseState()
	if e.dec != nil {
		e.dec.Close()
		e.dec = nil
	}
	if e.be != nil {
		errs = append(errs, e.be.Close())
		e.be = nil
	}
	if e.weights != nil {
		errs = append(errs, e.weights.Close())
		e.weights = nil
	}
	return errors.Join(errs...)
}
