package weights

import (
	"fmt"

	"github.com/genbench/genbench/gocore/model"
)

// Checkpoint tensor names (MODELS.md 3).
const (
	EmbedName  = "model.embed_tokens.weight"
	NormName   = "model.norm.weight"
	LMHeadName = "lm_head.weight"
)

// slot binds one checkpoint tensor name and shape to a field of Model.
type slot struct {
	name  string
	shape []int
	norm  bool // an RMSNorm weight vector
	ptr   **Tensor
}

// slots lists every tensor the spec requires, in checkpoint order, bound to
// the fields of m (whose Layers must have spec.NumLayers entries). The LM
// head is included only when the embeddings are not tied.
func slots(spec *model.Spec, m *Model) []slot {
	h, q, kv, inter, hd := spec.HiddenSize, spec.QDim(), spec.KVDim(), spec.IntermediateSize, spec.HeadDim
	out := []slot{{EmbedName, []int{spec.VocabSize, h}, false, &m.Embed}}
	for i := range m.Layers {
		l := &m.Layers[i]
		p := fmt.Sprintf("model.layers.%d.", i)
		out = append(out,
			slot{p + "input_layernorm.weight", []int{h}, true, &l.InputNorm},
			slot{p + "self_attn.q_proj.weight", []int{q, h}, false, &l.Q},
			slot{p + "self_attn.k_proj.weight", []int{kv, h}, false, &l.K},
			slot{p + "self_attn.v_proj.weight", []int{kv, h}, false, &l.V},
			slot{p + "self_attn.o_proj.weight", []int{h, q}, false, &l.O},
		)
		if spec.QKNorm {
			out = append(out,
				slot{p + "self_attn.q_norm.weight", []int{hd}, true, &l.QNorm},
				slot{p + "self_attn.k_norm.weight", []int{hd}, true, &l.KNorm},
			)
		}
		out = append(out, slot{p + "post_attention_layernorm.weight", []int{h}, true, &l.PostAttnNorm})
		if spec.SandwichNorm {
			out = append(out,
				slot{p + "pre_feedforward_layernorm.weight", []int{h}, true, &l.PreFFNorm},
				slot{p + "post_feedforward_layernorm.weight", []int{h}, true, &l.PostFFNorm},
			)
		}
		out = append(out,
			slot{p + "mlp.gate_proj.weight", []int{inter, h}, false, &l.Gate},
			slot{p + "mlp.up_proj.weight", []int{inter, h}, false, &l.Up},
			slot{p + "mlp.down_proj.weight", []int{h, inter}, false, &l.Down},
		)
	}
	out = append(out, slot{NormName, []int{h}, true, &m.Norm})
	if !spec.TieWordEmbeddings {
		out = append(out, slot{LMHeadName, []int{spec.VocabSize, h}, false, &m.LMHead})
	}
	return out
}

func numel(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

func sameShape(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
