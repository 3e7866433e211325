// Package weights holds a model's parameters as bfloat16 tensors, loaded from
// Hugging Face safetensors checkpoints (memory-mapped, not copied, where the
// file is already bf16) or generated synthetically from a spec with a seeded
// random number generator, and writes models back out as Hugging Face
// directories.
package weights

import (
	"github.com/genbench/genbench/gocore/model"
)

// Tensor is one parameter tensor in bfloat16. Data holds the raw bf16 bits in
// row-major order; matrices are [out, in] as in Hugging Face checkpoints.
// Data may alias a read-only memory map: never write to it.
type Tensor struct {
	Name  string
	Shape []int
	Data  []uint16
}

// Rows is the first dimension (1 for a vector).
func (t *Tensor) Rows() int {
	if len(t.Shape) < 2 {
		return 1
	}
	return t.Shape[0]
}

// Cols is the last dimension.
func (t *Tensor) Cols() int {
	if len(t.Shape) == 0 {
		return 1
	}
	return t.Shape[len(t.Shape)-1]
}

// Numel is the number of elements.
func (t *Tensor) Numel() int {
	n := 1
	for _, d := range t.Shape {
		n *= d
	}
	return n
}

// Layer is one decoder block's parameters.
type Layer struct {
	// InputNorm is input_layernorm, applied before attention.
	InputNorm *Tensor
	// PostAttnNorm is post_attention_layernorm: for Llama/Qwen3 it is the norm
	// before the MLP; for Gemma 3 it is applied to the attention output.
	PostAttnNorm *Tensor
	// PreFFNorm is pre_feedforward_layernorm (Gemma 3 only, before the MLP).
	PreFFNorm *Tensor
	// PostFFNorm is post_feedforward_layernorm (Gemma 3 only, on the MLP output).
	PostFFNorm *Tensor

	Q, K, V, O *Tensor // self_attn.{q,k,v,o}_proj

	// QNorm and KNorm are self_attn.{q,k}_norm, nil when the model has none.
	QNorm, KNorm *Tensor

	Gate, Up, Down *Tensor // mlp.{gate,up,down}_proj
}

// Model is a full set of decoder weights for a spec.
type Model struct {
	Spec   *model.Spec
	Embed  *Tensor // model.embed_tokens.weight [vocab, hidden]
	Layers []Layer
	Norm   *Tensor // model.norm.weight
	// LMHead is the output projection [vocab, hidden]; it is the same pointer
	// as Embed when the embeddings are tied.
	LMHead *Tensor
	// Source is the checkpoint directory, or "synthetic".
	Source string

	closers []func() error
}

// Close releases the memory maps backing the tensors (if any). The model's
// tensors must not be used afterwards. Close is idempotent.
func (m *Model) Close() error {
	var first error
	for _, c := range m.closers {
		if err := c(); err != nil && first == nil {
			first = err
		}
	}
	m.closers = nil
	return first
}

// Tensors lists every distinct tensor of the model (a tied LM head once),
// in checkpoint order: embedding, layers, final norm, untied LM head.
func (m *Model) Tensors() []*Tensor {
	var out []*Tensor
	add := func(t *Tensor) {
		if t != nil {
			out = append(out, t)
		}
	}
	add(m.Embed)
	for i := range m.Layers {
		l := &m.Layers[i]
		for _, t := range []*Tensor{l.InputNorm, l.Q, l.K, l.V, l.O, l.QNorm, l.KNorm, l.PostAttnNorm, l.PreFFNorm, l.PostFFNorm, l.Gate, l.Up, l.Down} {
			add(t)
		}
	}
	add(m.Norm)
	if m.LMHead != m.Embed {
		add(m.LMHead)
	}
	return out
}

// Params is the number of parameters held (a tied LM head counted once).
func (m *Model) Params() int64 {
	var n int64
	for _, t := range m.Tensors() {
		n += int64(t.Numel())
	}
	return n
}

// Bytes is the size of the weights in bfloat16 (a tied LM head counted once).
func (m *Model) Bytes() int64 { return 2 * m.Params() }
