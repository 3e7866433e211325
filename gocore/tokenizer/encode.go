package tokenizer

// HF caches the BPE of words shorter than 256 bytes, up to 10,000 words.
const (
	maxCachedWord   = 256
	maxCacheEntries = 10000
)

// encState is the scratch space of one Encode call, pooled per tokenizer so
// that concurrent calls never share one.
type encState struct {
	ids     []int32
	syms    []symbol
	heap    mergeHeap
	unkSize int32
	cache   map[string][]int32
	buf     []byte // byte-level prefix-space words
}

func (t *Tokenizer) getState() *encState {
	if st, ok := t.states.Get().(*encState); ok {
		return st
	}
	return &encState{cache: make(map[string][]int32, 1024)}
}

// Encode turns text into token ids. With addSpecialTokens the
// post-processor's template tokens (e.g. BOS) are added; added tokens
// written in the text are recognized either way.
func (t *Tokenizer) Encode(text string, addSpecialTokens bool) []int32 {
	st := t.getState()
	st.ids = st.ids[:0]
	if addSpecialTokens {
		st.ids = append(st.ids, t.post.prefix...)
	}
	t.added.raw.split(text, func(seg segment) {
		if seg.id >= 0 {
			st.ids = append(st.ids, seg.id)
			return
		}
		t.encodeText(st, text[seg.start:seg.end])
	})
	if addSpecialTokens {
		st.ids = append(st.ids, t.post.suffix...)
	}
	out := make([]int32, len(st.ids))
	copy(out, st.ids)
	if cap(st.ids) > 1<<20 {
		st.ids = nil
	}
	t.states.Put(st)
	return out
}

// encodeText encodes a piece of text that holds no raw added token.
func (t *Tokenizer) encodeText(st *encState, s string) {
	if len(s) == 0 {
		return
	}
	if t.normalizer != nil {
		s = t.normalizer.normalize(s)
	}
	if t.added.norm != nil {
		t.added.norm.split(s, func(seg segment) {
			if seg.id >= 0 {
				st.ids = append(st.ids, seg.id)
				return
			}
			t.preTokenize(st, s[seg.start:seg.end])
		})
		return
	}
	t.preTokenize(st, s)
}

func (t *Tokenizer) preTokenize(st *encState, s string) {
	if len(s) == 0 {
		return
	}
	word := func(w string) { t.bpeWord(st, w) }
	if t.prefixSpace {
		word = func(w string) {
			if w[0] != ' ' {
				st.buf = append(append(st.buf[:0], ' '), w...)
				w = string(st.buf)
			}
			t.bpeWord(st, w)
		}
	}
	if t.pretok == nil {
		word(s)
		return
	}
	t.pretok.split(s, word)
}

// PreTokenize returns the words the pre-tokenizer cuts text into, spelled
// as the reference's pre_tokenize_str does (byte-level models: in the
// byte-to-unicode alphabet). Normalization and added tokens are not applied.
func (t *Tokenizer) PreTokenize(text string) []string {
	var out []string
	emit := func(w string) {
		if t.byteLevel {
			if t.prefixSpace && w[0] != ' ' {
				w = " " + w
			}
			w = string(mapByteLevel(nil, w))
		}
		out = append(out, w)
	}
	if t.pretok == nil {
		if text != "" {
			emit(text)
		}
		return out
	}
	t.pretok.split(text, emit)
	return out
}
