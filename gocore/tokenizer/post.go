package tokenizer

import (
	"encoding/json"
	"fmt"
)

// postProcessor holds what the post-processor adds around a single sequence
// when special tokens are requested (TemplateProcessing's single template).
type postProcessor struct {
	prefix, suffix []int32
	seen           bool // a TemplateProcessing was read
}

func (t *Tokenizer) parsePostProcessor(raw json.RawMessage) error {
	typ, err := typed(raw)
	if err != nil {
		return err
	}
	switch typ {
	case "ByteLevel":
		// Changes offsets only.
		return nil
	case "Sequence":
		var q struct {
			Processors []json.RawMessage `json:"processors"`
		}
		if err := json.Unmarshal(raw, &q); err != nil {
			return fmt.Errorf("Sequence: %w", err)
		}
		for i, r := range q.Processors {
			if err := t.parsePostProcessor(r); err != nil {
				return fmt.Errorf("Sequence[%d]: %w", i, err)
			}
		}
		return nil
	case "TemplateProcessing":
		if t.post.seen {
			return fmt.Errorf("more than one TemplateProcessing is not supported")
		}
		var tp struct {
			Single []struct {
				SpecialToken *struct {
					ID string `json:"id"`
				} `json:"SpecialToken"`
				Sequence *struct {
					ID string `json:"id"`
				} `json:"Sequence"`
			} `json:"single"`
			SpecialTokens map[string]struct {
				IDs []int32 `json:"ids"`
			} `json:"special_tokens"`
		}
		if err := json.Unmarshal(raw, &tp); err != nil {
			return fmt.Errorf("TemplateProcessing: %w", err)
		}
		seq := 0
		for i, p := range tp.Single {
			switch {
			case p.Sequence != nil:
				if p.Sequence.ID != "A" {
					return fmt.Errorf("TemplateProcessing single[%d]: sequence %q, expected \"A\"", i, p.Sequence.ID)
				}
				seq++
			case p.SpecialToken != nil:
				st, ok := tp.SpecialTokens[p.SpecialToken.ID]
				if !ok {
					return fmt.Errorf("TemplateProcessing single[%d]: special token %q is missing from special_tokens", i, p.SpecialToken.ID)
				}
				for _, id := range st.IDs {
					if id < 0 || int(id) >= len(t.tokens) {
						return fmt.Errorf("TemplateProcessing: special token %q has id %d outside the vocabulary (size %d)", p.SpecialToken.ID, id, len(t.tokens))
					}
				}
				if seq == 0 {
					t.post.prefix = append(t.post.prefix, st.IDs...)
				} else {
					t.post.suffix = append(t.post.suffix, st.IDs...)
				}
			default:
				return fmt.Errorf("TemplateProcessing single[%d]: expected SpecialToken or Sequence", i)
			}
		}
		if seq != 1 {
			return fmt.Errorf("TemplateProcessing single template has %d sequences, expected 1", seq)
		}
		t.post.seen = true
		return nil
	}
	return fmt.Errorf("type %q is not supported (supported: ByteLevel, TemplateProcessing, Sequence)", typ)
}
