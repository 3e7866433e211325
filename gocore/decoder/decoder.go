// Package decoder is the one definition of the decoder-only transformer
// forward pass shared by Llama 3.x, Qwen3 and Gemma 3 (MODELS.md §2),
// written over the ops of gocore/backend. Architectures differ only by the
// Spec's flags: q/k norm, sandwich norms, norm style, activation, embedding
// scale, sliding-window layers and RoPE variants.
package decoder

import (
	"errors"
	"fmt"

	"github.com/genbench/genbench/gocore/backend"
	"github.com/genbench/genbench/gocore/model"
	"github.com/genbench/genbench/gocore/weights"
)

// Decoder holds a model's weights resident on a backend. It is used from
// one goroutine at a time.
type Decoder struct {
	be     backend.Backend
	spec   *model.Spec
	embed  backend.Weight
	lmHead backend.Weight
	norm   backend.Weight
	layers []layer
	style  backend.NormStyle
	act    backend.Activation
	eps    float32
	// inverse RoPE frequencies of full and sliding layers
	invFull, invLocal []float32
	owned             []backend.Weight
}

type layer struct {
	inNorm, postAttnNorm, preFFNorm, postFFNorm backend.Weight
	qkv, o, qNorm, kNorm, gateUp, down          backend.Weight
	sliding                                     bool
	shape                                       backend.AttnShape
}

// New checks the weights' shapes against their spec (validated when the
// weights were made: weights.Load, weights.Synthetic) and uploads them.
func New(be backend.Backend, m *weights.Model) (*Decoder, error) {
	if m == nil || m.Spec == nil {
		return nil, errors.New("decoder: no model")
	}
	s := m.Spec // validated when the weights were made (weights.Load, weights.Synthetic)
	d := &Decoder{be: be, spec: s, eps: float32(s.RMSNormEps)}
	if s.GemmaNorm {
		d.style = backend.GemmaNorm
	}
	switch s.Activation {
	case model.SiLU:
		d.act = backend.SiLU
	case model.GELUTanh:
		d.act = backend.GELUTanh
	default:
		return nil, fmt.Errorf("decoder: activation %q not supported (want %s or %s)", s.Activation, model.SiLU, model.GELUTanh)
	}
	var err error
	if d.invFull, err = InvFreq(s, model.FullAttention); err != nil {
		return nil, err
	}
	if d.invLocal, err = InvFreq(s, model.SlidingAttention); err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			d.Close()
		}
	}()
	H, V := s.HiddenSize, s.VocabSize
	if d.embed, err = d.upload(m.Embed, V, H); err != nil {
		return nil, err
	}
	if m.LMHead == nil || m.LMHead == m.Embed || s.TieWordEmbeddings {
		d.lmHead = d.embed
	} else if d.lmHead, err = d.upload(m.LMHead, V, H); err != nil {
		return nil, err
	}
	if d.norm, err = d.upload(m.Norm, 1, H); err != nil {
		return nil, err
	}
	if len(m.Layers) != s.NumLayers {
		return nil, fmt.Errorf("decoder: %d layers of weights, spec has %d", len(m.Layers), s.NumLayers)
	}
	for i := range m.Layers {
		l, err := d.uploadLayer(i, &m.Layers[i])
		if err != nil {
			return nil, err
		}
		d.layers = append(d.layers, l)
	}
	ok = true
	return d, nil
}

func (d *Decoder) upload(t *weights.Tensor, rows, cols int) (backend.Weight, error) {
	w, err := d.uploadParts(rows, cols, t)
	return w, err
}

// uploadParts uploads tensors stacked by rows; rows is the expected total.
func (d *Decoder) uploadParts(rows, cols int, ts ...*weights.Tensor) (backend.Weight, error) {
	parts := make([]backend.Matrix, 0, len(ts))
	total := 0
	for _, t := range ts {
		if t == nil {
			return nil, errors.New("decoder: missing weight tensor")
		}
		r, c := t.Rows(), t.Cols()
		if c != cols || len(t.Data) != r*c {
			return nil, fmt.Errorf("decoder: tensor %s has shape %v (%d values), want %d columns", t.Name, t.Shape, len(t.Data), cols)
		}
		total += r
		parts = append(parts, backend.Matrix{Name: t.Name, Rows: r, Cols: c, Data: t.Data})
	}
	if total != rows {
		return nil, fmt.Errorf("decoder: tensor %s: %d rows, want %d", ts[0].Name, total, rows)
	}
	w, err := d.be.UploadWeight(parts...)
	if err != nil {
		return nil, fmt.Errorf("decoder: upload %s: %w", ts[0].Name, err)
	}
	d.owned = append(d.owned, w)
	return w, nil
}

func (d *Decoder) uploadLayer(i int, w *weights.Layer) (layer, error) {
	s := d.spec
	H, Q, KV, I, D := s.HiddenSize, s.QDim(), s.KVDim(), s.IntermediateSize, s.HeadDim
	var l layer
	var err error
	wrap := func(e error) error { return fmt.Errorf("decoder: layer %d: %w", i, e) }
	if l.inNorm, err = d.upload(w.InputNorm, 1, H); err != nil {
		return l, wrap(err)
	}
	if l.postAttnNorm, err = d.upload(w.PostAttnNorm, 1, H); err != nil {
		return l, wrap(err)
	}
	if s.SandwichNorm {
		if l.preFFNorm, err = d.upload(w.PreFFNorm, 1, H); err != nil {
			return l, wrap(err)
		}
		if l.postFFNorm, err = d.upload(w.PostFFNorm, 1, H); err != nil {
			return l, wrap(err)
		}
	}
	if w.Q == nil || w.K == nil || w.V == nil {
		return l, wrap(errors.New("missing q/k/v projection"))
	}
	if w.Q.Rows() != Q || w.K.Rows() != KV || w.V.Rows() != KV {
		return l, wrap(fmt.Errorf("q/k/v projections have %d/%d/%d rows, want %d/%d/%d", w.Q.Rows(), w.K.Rows(), w.V.Rows(), Q, KV, KV))
	}
	if l.qkv, err = d.uploadParts(Q+2*KV, H, w.Q, w.K, w.V); err != nil {
		return l, wrap(err)
	}
	if l.o, err = d.upload(w.O, H, Q); err != nil {
		return l, wrap(err)
	}
	if s.QKNorm {
		if l.qNorm, err = d.upload(w.QNorm, 1, D); err != nil {
			return l, wrap(err)
		}
		if l.kNorm, err = d.upload(w.KNorm, 1, D); err != nil {
			return l, wrap(err)
		}
	}
	if w.Gate == nil || w.Up == nil || w.Gate.Rows() != I || w.Up.Rows() != I {
		return l, wrap(fmt.Errorf("gate/up projections missing or not %d rows", I))
	}
	if l.gateUp, err = d.uploadParts(2*I, H, w.Gate, w.Up); err != nil {
		return l, wrap(err)
	}
	if l.down, err = d.upload(w.Down, H, I); err != nil {
		return l, wrap(err)
	}
	l.sliding = len(s.LayerTypes) > 0 && s.LayerTypes[i] == model.SlidingAttention
	l.shape = backend.AttnShape{Heads: s.NumHeads, KVHeads: s.NumKVHeads, HeadDim: D, Scale: s.AttnScale}
	if l.sliding {
		l.shape.Window = s.SlidingWindow
	}
	return l, nil
}

// Spec is the model's spec.
func (d *Decoder) Spec() *model.Spec { return d.spec }

// Backend is the backend the weights live on.
func (d *Decoder) Backend() backend.Backend { return d.be }

// Close frees the uploaded weights. Idempotent.
func (d *Decoder) Close() {
	for _, w := range d.owned {
		d.be.Free(w)
	}
	d.owned = nil
	d.layers = nil
}

// State is the per-generation memory: the KV cache for Capacity positions,
// RoPE tables, and scratch buffers for up to MaxTokens tokens per forward
// call. IDs and Pos are the device-side inputs of a decode step and Logits
// its output (bf16, VocabSize values per row).
type State struct {
	d         *Decoder
	Capacity  int
	MaxTokens int
	// AllLogits: Logits holds MaxTokens rows (every position of a
	// forward call) instead of only the last position.
	AllLogits bool

	KV                               backend.KVCache
	ropeFull, ropeLocal              backend.Rope
	IDs, Pos                         backend.Buffer
	x, xn, q, k, v, att, o, gate, up backend.Buffer
	last, lastN                      backend.Buffer
	Logits                           backend.Buffer
	bufs                             []backend.Buffer
	posScratch                       []int32
	// Tap, when set, is called after each named op of a Prefill (see
	// TapFunc); decode steps never call it.
	Tap TapFunc
	// Matmul output lists, built once (no allocation per step)
	qkvOut, oOut, gateUpOut, logitsOut []backend.Buffer
}

// NewState allocates a state for capacity positions and forward calls of
// up to maxTokens tokens (allLogits: logits for every position).
func (d *Decoder) NewState(capacity, maxTokens int, allLogits bool) (*State, error) {
	s := d.spec
	if capacity <= 0 || maxTokens <= 0 {
		return nil, fmt.Errorf("decoder: state needs capacity and tokens > 0 (got %d, %d)", capacity, maxTokens)
	}
	if s.MaxPositionEmbeddings > 0 && capacity > s.MaxPositionEmbeddings {
		return nil, fmt.Errorf("decoder: %d positions exceed the model's maximum of %d", capacity, s.MaxPositionEmbeddings)
	}
	maxTokens = min(maxTokens, capacity)
	st := &State{d: d, Capacity: capacity, MaxTokens: maxTokens, AllLogits: allLogits}
	ok := false
	defer func() {
		if !ok {
			st.Free()
		}
	}()
	var err error
	if st.KV, err = d.be.NewKVCache(s.NumLayers, capacity, s.NumKVHeads, s.HeadDim); err != nil {
		return nil, fmt.Errorf("decoder: KV cache for %d positions: %w", capacity, err)
	}
	cos, sin := RopeTables(d.invFull, capacity)
	if st.ropeFull, err = d.be.UploadRope(capacity, s.HeadDim, cos, sin); err != nil {
		return nil, fmt.Errorf("decoder: rope table: %w", err)
	}
	st.ropeLocal = st.ropeFull
	if s.RopeLocalTheta > 0 && hasSliding(s) {
		cos, sin := RopeTables(d.invLocal, capacity)
		if st.ropeLocal, err = d.be.UploadRope(capacity, s.HeadDim, cos, sin); err != nil {
			return nil, fmt.Errorf("decoder: rope table: %w", err)
		}
	}
	T := maxTokens
	alloc := func(dt backend.DType, n int) backend.Buffer {
		if err != nil {
			return nil
		}
		var b backend.Buffer
		b, err = d.be.NewBuffer(dt, n)
		if err == nil {
			st.bufs = append(st.bufs, b)
		}
		return b
	}
	st.IDs = alloc(backend.Int32, T)
	st.Pos = alloc(backend.Int32, T)
	st.x = alloc(backend.BF16, T*s.HiddenSize)
	st.xn = alloc(backend.BF16, T*s.HiddenSize)
	st.q = alloc(backend.BF16, T*s.QDim())
	st.k = alloc(backend.BF16, T*s.KVDim())
	st.v = alloc(backend.BF16, T*s.KVDim())
	st.att = alloc(backend.BF16, T*s.QDim())
	st.o = alloc(backend.BF16, T*s.HiddenSize)
	st.gate = alloc(backend.BF16, T*s.IntermediateSize)
	st.up = alloc(backend.BF16, T*s.IntermediateSize)
	st.last = alloc(backend.BF16, s.HiddenSize)
	st.lastN = alloc(backend.BF16, s.HiddenSize)
	rows := 1
	if allLogits {
		rows = T
	}
	st.Logits = alloc(backend.BF16, rows*s.VocabSize)
	if err != nil {
		return nil, fmt.Errorf("decoder: scratch buffers for %d tokens: %w", T, err)
	}
	st.posScratch = make([]int32, T)
	st.qkvOut = []backend.Buffer{st.q, st.k, st.v}
	st.oOut = []backend.Buffer{st.o}
	st.gateUpOut = []backend.Buffer{st.gate, st.up}
	st.logitsOut = []backend.Buffer{st.Logits}
	ok = true
	return st, nil
}

func hasSliding(s *model.Spec) bool {
	for _, lt := range s.LayerTypes {
		if lt == model.SlidingAttention {
			return true
		}
	}
	return false
}

// Free releases the state's backend memory. Idempotent.
func (st *State) Free() {
	be := st.d.be
	for _, b := range st.bufs {
		be.Free(b)
	}
	st.bufs = nil
	be.Free(st.KV)
	if st.ropeLocal != st.ropeFull {
		be.Free(st.ropeLocal)
	}
	be.Free(st.ropeFull)
	st.KV, st.ropeFull, st.ropeLocal = nil, nil, nil
}

// Prefill runs ids at positions start, start+1, … (at most MaxTokens of
// them), filling the KV cache. It leaves the logits of the last position
// in Logits (every position's when AllLogits).
func (d *Decoder) Prefill(st *State, ids []int32, start int) error {
	n := len(ids)
	if n == 0 || n > st.MaxTokens {
		return fmt.Errorf("decoder: %d tokens per forward call, want 1..%d", n, st.MaxTokens)
	}
	if start < 0 || start+n > st.Capacity {
		return fmt.Errorf("decoder: positions %d..%d exceed the state's capacity of %d", start, start+n-1, st.Capacity)
	}
	if st.KV == nil {
		return errors.New("decoder: state was freed")
	}
	for i, id := range ids {
		if id < 0 || int(id) >= d.spec.VocabSize {
			return fmt.Errorf("decoder: token id %d at index %d out of range [0, %d)", id, i, d.spec.VocabSize)
		}
	}
	pos := st.posScratch[:n]
	for i := range pos {
		pos[i] = int32(start + i)
	}
	if err := d.be.WriteInt32(st.IDs, 0, ids); err != nil {
		return err
	}
	if err := d.be.WriteInt32(st.Pos, 0, pos); err != nil {
		return err
	}
	return d.forward(st, n, st.Tap)
}

// SetPosition writes the position of the next decode step (host to device).
func (d *Decoder) SetPosition(st *State, pos int) error {
	if pos < 0 || pos >= st.Capacity {
		return fmt.Errorf("decoder: position %d outside the state's capacity of %d", pos, st.Capacity)
	}
	st.posScratch[0] = int32(pos)
	return d.be.WriteInt32(st.Pos, 0, st.posScratch[:1])
}

// SetToken writes the input token of the next decode step (host to device).
func (d *Decoder) SetToken(st *State, id int32) error {
	if id < 0 || int(id) >= d.spec.VocabSize {
		return fmt.Errorf("decoder: token id %d out of range [0, %d)", id, d.spec.VocabSize)
	}
	st.posScratch[0] = id
	return d.be.WriteInt32(st.IDs, 0, st.posScratch[:1])
}

// Step is one decode step entirely on the device: it runs token IDs[0] at
// position Pos[0], leaves its logits in Logits and advances Pos[0] by one.
// It reads nothing back, so a backend can capture it once and replay it.
func (d *Decoder) Step(st *State) error {
	if st.KV == nil {
		return errors.New("decoder: state was freed")
	}
	if err := d.forward(st, 1, nil); err != nil {
		return err
	}
	return d.be.AddInt32(st.Pos, 1, 1)
}

// TapFunc receives the output of a named op of a Prefill: layer (-1 for
// "embed", NumLayers for "final_norm"), the op's name and the buffer holding
// rows n × width (bf16) of the call's tokens. It is for diagnostics (the
// golden test locates the first op where the engine leaves Hugging Face's
// path); the names and the Hugging Face module each corresponds to:
//
//	embed          embed_tokens (×embedding scale)
//	attn_norm      input_layernorm
//	q, k, v        self_attn.{q,k,v}_proj
//	q_norm, k_norm self_attn.{q,k}_norm (Qwen3, Gemma 3)
//	attn           the input of self_attn.o_proj (attention output)
//	attn_out       self_attn.o_proj
//	post_attn_norm post_attention_layernorm (Gemma 3's sandwich norm)
//	ffn_norm       post_attention_layernorm (Llama, Qwen3) or pre_feedforward_layernorm (Gemma 3)
//	glu            the input of mlp.down_proj (act(gate) ⊙ up)
//	mlp_out        mlp.down_proj
//	post_ffn_norm  post_feedforward_layernorm (Gemma 3)
//	layer_out      the decoder layer's output (residual stream)
//	final_norm     norm (all positions; AllLogits states only)
//
// An error from the tap stops the forward pass.
type TapFunc func(layer int, op string, buf backend.Buffer, n, width int) error

// forward runs the n tokens already in IDs/Pos through every layer. Ops
// are enqueued in order; the first error is returned (later ops of the
// same layer may still have been enqueued, harmlessly).
func (d *Decoder) forward(st *State, n int, taps TapFunc) error {
	s, be := d.spec, d.be
	H, I := s.HiddenSize, s.IntermediateSize
	eps, style := d.eps, d.style
	var err error
	do := func(e error) {
		if err == nil && e != nil {
			err = e
		}
	}
	tap := func(layer int, op string, b backend.Buffer, width int) {
		if taps != nil && err == nil {
			do(taps(layer, op, b, n, width))
		}
	}
	scale := s.EmbedScale
	if scale == 0 {
		scale = 1
	}
	if err := be.Embed(st.x, st.IDs, n, d.embed, scale); err != nil {
		return fmt.Errorf("decoder: embed: %w", err)
	}
	tap(-1, "embed", st.x, H)
	for li := range d.layers {
		l := &d.layers[li]
		rope := st.ropeFull
		if l.sliding {
			rope = st.ropeLocal
		}
		// attention block
		do(be.RMSNorm(st.xn, st.x, n, H, l.inNorm, eps, style))
		tap(li, "attn_norm", st.xn, H)
		do(be.Matmul(st.qkvOut, st.xn, n, l.qkv))
		tap(li, "q", st.q, s.QDim())
		tap(li, "k", st.k, s.KVDim())
		tap(li, "v", st.v, s.KVDim())
		if s.QKNorm {
			do(be.RMSNorm(st.q, st.q, n*s.NumHeads, s.HeadDim, l.qNorm, eps, style))
			do(be.RMSNorm(st.k, st.k, n*s.NumKVHeads, s.HeadDim, l.kNorm, eps, style))
			tap(li, "q_norm", st.q, s.QDim())
			tap(li, "k_norm", st.k, s.KVDim())
		}
		do(be.RopeKV(st.q, st.k, st.v, n, st.Pos, rope, st.KV, li, l.shape))
		do(be.Attention(st.att, st.q, n, st.Pos, st.KV, li, l.shape))
		tap(li, "attn", st.att, s.QDim())
		do(be.Matmul(st.oOut, st.att, n, l.o))
		tap(li, "attn_out", st.o, H)
		ffNorm := l.postAttnNorm
		if s.SandwichNorm {
			do(be.RMSNorm(st.o, st.o, n, H, l.postAttnNorm, eps, style))
			tap(li, "post_attn_norm", st.o, H)
			ffNorm = l.preFFNorm
		}
		do(be.Add(st.x, st.x, st.o, n*H))
		// MLP block
		do(be.RMSNorm(st.xn, st.x, n, H, ffNorm, eps, style))
		tap(li, "ffn_norm", st.xn, H)
		do(be.Matmul(st.gateUpOut, st.xn, n, l.gateUp))
		do(be.GLU(st.gate, st.gate, st.up, n, I, d.act))
		tap(li, "glu", st.gate, I)
		do(be.Matmul(st.oOut, st.gate, n, l.down))
		tap(li, "mlp_out", st.o, H)
		if s.SandwichNorm {
			do(be.RMSNorm(st.o, st.o, n, H, l.postFFNorm, eps, style))
			tap(li, "post_ffn_norm", st.o, H)
		}
		do(be.Add(st.x, st.x, st.o, n*H))
		tap(li, "layer_out", st.x, H)
		if err != nil {
			return fmt.Errorf("decoder: layer %d: %w", li, err)
		}
	}
	rows := n
	if st.AllLogits {
		do(be.RMSNorm(st.xn, st.x, n, H, d.norm, eps, style))
		tap(len(d.layers), "final_norm", st.xn, H)
		do(be.Matmul(st.logitsOut, st.xn, n, d.lmHead))
	} else {
		// the LM head runs on the last position only
		rows = 1
		do(be.Copy(st.last, 0, st.x, (n-1)*H, H))
		do(be.RMSNorm(st.lastN, st.last, 1, H, d.norm, eps, style))
		do(be.Matmul(st.logitsOut, st.lastN, 1, d.lmHead))
	}
	if s.FinalLogitSoftcap > 0 {
		do(be.Softcap(st.Logits, rows*s.VocabSize, float32(s.FinalLogitSoftcap)))
	}
	if err != nil {
		return fmt.Errorf("decoder: output head: %w", err)
	}
	return nil
}
