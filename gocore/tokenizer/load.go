package tokenizer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"
)

// fileJSON is the top level of tokenizer.json.
type fileJSON struct {
	Truncation    json.RawMessage  `json:"truncation"`
	Padding       json.RawMessage  `json:"padding"`
	AddedTokens   []addedTokenJSON `json:"added_tokens"`
	Normalizer    json.RawMessage  `json:"normalizer"`
	PreTokenizer  json.RawMessage  `json:"pre_tokenizer"`
	PostProcessor json.RawMessage  `json:"post_processor"`
	Decoder       json.RawMessage  `json:"decoder"`
	Model         *bpeJSON         `json:"model"`
}

type addedTokenJSON struct {
	ID         *int32 `json:"id"`
	Content    string `json:"content"`
	SingleWord bool   `json:"single_word"`
	LStrip     bool   `json:"lstrip"`
	RStrip     bool   `json:"rstrip"`
	Normalized bool   `json:"normalized"`
	Special    bool   `json:"special"`
}

// bpeJSON is the model section. Its fields fit any model type, so that an
// unsupported type is reported as such; vocab and merges are parsed once the
// type is known to be BPE.
type bpeJSON struct {
	Type                    *string         `json:"type"`
	Dropout                 *float64        `json:"dropout"`
	UnkToken                *string         `json:"unk_token"`
	ContinuingSubwordPrefix *string         `json:"continuing_subword_prefix"`
	EndOfWordSuffix         *string         `json:"end_of_word_suffix"`
	FuseUnk                 bool            `json:"fuse_unk"`
	ByteFallback            bool            `json:"byte_fallback"`
	IgnoreMerges            bool            `json:"ignore_merges"`
	Vocab                   json.RawMessage `json:"vocab"`
	Merges                  json.RawMessage `json:"merges"`
}

// mergeJSON is one merge, written either "a b" or ["a", "b"].
type mergeJSON struct{ a, b string }

// jsonParser reads the merges array of an already validated JSON document
// without the cost of encoding/json per element.
type jsonParser struct {
	b []byte
	p int
}

func (q *jsonParser) ws() {
	for q.p < len(q.b) && (q.b[q.p] == ' ' || q.b[q.p] == '\t' || q.b[q.p] == '\n' || q.b[q.p] == '\r') {
		q.p++
	}
}

func (q *jsonParser) expect(c byte) error {
	q.ws()
	if q.p >= len(q.b) || q.b[q.p] != c {
		return fmt.Errorf("expected %q at byte %d", c, q.p)
	}
	q.p++
	return nil
}

func (q *jsonParser) peek() byte {
	q.ws()
	if q.p >= len(q.b) {
		return 0
	}
	return q.b[q.p]
}

// str reads a JSON string; strings with escapes go through encoding/json.
func (q *jsonParser) str() (string, error) {
	if err := q.expect('"'); err != nil {
		return "", err
	}
	start := q.p
	escaped := false
	for q.p < len(q.b) {
		switch q.b[q.p] {
		case '\\':
			escaped = true
			q.p += 2
			continue
		case '"':
			q.p++
			if !escaped {
				return string(q.b[start : q.p-1]), nil
			}
			var s string
			if err := json.Unmarshal(q.b[start-1:q.p], &s); err != nil {
				return "", err
			}
			return s, nil
		}
		q.p++
	}
	return "", errors.New("unterminated string")
}

// parseMerges reads the merges array: strings "a b" or pairs ["a", "b"].
func parseMerges(raw json.RawMessage) ([]mergeJSON, error) {
	if isNull(raw) {
		return nil, nil
	}
	q := &jsonParser{b: raw}
	if err := q.expect('['); err != nil {
		return nil, err
	}
	var out []mergeJSON
	if q.peek() == ']' {
		return out, nil
	}
	for i := 0; ; i++ {
		var m mergeJSON
		switch q.peek() {
		case '"':
			s, err := q.str()
			if err != nil {
				return nil, fmt.Errorf("merge %d: %w", i, err)
			}
			a, b, ok := strings.Cut(s, " ")
			if !ok || strings.Contains(b, " ") {
				return nil, fmt.Errorf("merge %d: %q is not two tokens separated by one space", i, s)
			}
			m = mergeJSON{a, b}
		case '[':
			q.p++
			a, err := q.str()
			if err == nil {
				err = q.expect(',')
			}
			var b string
			if err == nil {
				b, err = q.str()
			}
			if err == nil {
				err = q.expect(']')
			}
			if err != nil {
				return nil, fmt.Errorf("merge %d: expected a pair of strings: %w", i, err)
			}
			m = mergeJSON{a, b}
		default:
			return nil, fmt.Errorf("merge %d: expected a string \"a b\" or a pair [\"a\", \"b\"]", i)
		}
		out = append(out, m)
		switch q.peek() {
		case ',':
			q.p++
		case ']':
			return out, nil
		default:
			return nil, fmt.Errorf("merges: expected ',' or ']' after merge %d", i)
		}
	}
}

// typed reads the "type" field of a component.
func typed(raw json.RawMessage) (string, error) {
	var h struct {
		Type *string `json:"type"`
	}
	if err := json.Unmarshal(raw, &h); err != nil {
		return "", err
	}
	if h.Type == nil {
		return "", errors.New(`missing "type"`)
	}
	return *h.Type, nil
}

// patternJSON is {"String": "..."} or {"Regex": "..."}.
type patternJSON struct {
	String *string `json:"String"`
	Regex  *string `json:"Regex"`
}

func isNull(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) == 0 || string(raw) == "null"
}

// LoadBytes builds a tokenizer from the contents of tokenizer.json and
// tokenizer_config.json (configJSON may be nil).
func LoadBytes(tokenizerJSON, configJSON []byte) (*Tokenizer, error) {
	t, err := loadTokenizerJSON(tokenizerJSON)
	if err != nil {
		return nil, fmt.Errorf("tokenizer.json: %w", err)
	}
	if len(bytes.TrimSpace(configJSON)) > 0 {
		if err := t.loadConfig(configJSON); err != nil {
			return nil, fmt.Errorf("tokenizer_config.json: %w", err)
		}
	}
	return t, nil
}

func loadTokenizerJSON(data []byte) (*Tokenizer, error) {
	var f fileJSON
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("not valid JSON: %w", err)
	}
	if f.Model == nil {
		return nil, errors.New(`missing "model"`)
	}
	if !isNull(f.Truncation) {
		return nil, errors.New(`"truncation" is set; truncation is not supported (expected null)`)
	}
	if !isNull(f.Padding) {
		return nil, errors.New(`"padding" is set; padding is not supported (expected null)`)
	}
	t := &Tokenizer{unkID: -1}
	var err error
	// The pre-tokenizer decides whether vocabulary keys are raw bytes.
	if !isNull(f.PreTokenizer) {
		if t.pretok, err = t.parsePreTokenizer(f.PreTokenizer, true); err != nil {
			return nil, fmt.Errorf("pre_tokenizer: %w", err)
		}
	}
	if !isNull(f.Normalizer) {
		if t.normalizer, err = parseNormalizer(f.Normalizer); err != nil {
			return nil, fmt.Errorf("normalizer: %w", err)
		}
	}
	for i, a := range f.AddedTokens {
		if a.ID == nil {
			return nil, fmt.Errorf("added_tokens: entry %d (%q) has no id", i, a.Content)
		}
	}
	if err := t.loadModel(f.Model, f.AddedTokens); err != nil {
		return nil, fmt.Errorf("model: %w", err)
	}
	if !isNull(f.PostProcessor) {
		if err := t.parsePostProcessor(f.PostProcessor); err != nil {
			return nil, fmt.Errorf("post_processor: %w", err)
		}
	}
	if !isNull(f.Decoder) {
		if t.decoder, err = parseDecoder(f.Decoder); err != nil {
			return nil, fmt.Errorf("decoder: %w", err)
		}
	}
	t.prepareDecode()
	return t, nil
}

func (t *Tokenizer) loadModel(mj *bpeJSON, added []addedTokenJSON) error {
	if mj.Type == nil {
		return errors.New(`missing "type"`)
	}
	if *mj.Type != "BPE" {
		return fmt.Errorf("type %q is not supported (supported: BPE)", *mj.Type)
	}
	m := struct {
		*bpeJSON
		Vocab  map[string]int32
		Merges []mergeJSON
	}{bpeJSON: mj}
	if isNull(mj.Vocab) {
		return errors.New(`BPE has no "vocab"`)
	}
	if err := json.Unmarshal(mj.Vocab, &m.Vocab); err != nil {
		return fmt.Errorf("BPE vocab: %w", err)
	}
	var err error
	if m.Merges, err = parseMerges(mj.Merges); err != nil {
		return fmt.Errorf("BPE merges: %w", err)
	}
	if m.Dropout != nil && *m.Dropout != 0 {
		return fmt.Errorf("BPE dropout %v is not supported (expected null)", *m.Dropout)
	}
	if m.ContinuingSubwordPrefix != nil && *m.ContinuingSubwordPrefix != "" {
		return fmt.Errorf("BPE continuing_subword_prefix %q is not supported (expected null or \"\")", *m.ContinuingSubwordPrefix)
	}
	if m.EndOfWordSuffix != nil && *m.EndOfWordSuffix != "" {
		return fmt.Errorf("BPE end_of_word_suffix %q is not supported (expected null or \"\")", *m.EndOfWordSuffix)
	}
	t.ignoreMerges, t.byteFallback, t.fuseUnk = m.IgnoreMerges, m.ByteFallback, m.FuseUnk

	maxID := int32(-1)
	for tok, id := range m.Vocab {
		if id < 0 {
			return fmt.Errorf("vocab token %q has negative id %d", tok, id)
		}
		maxID = max(maxID, id)
	}
	av := assignAdded(added, m.Vocab)
	for id := range av.byID {
		maxID = max(maxID, id)
	}
	// Ids index dense tables: allow holes, but not ids far beyond the number
	// of tokens (a corrupt file must not allocate gigabytes).
	if limit := 2*(len(m.Vocab)+len(av.byID)) + 1024; int(maxID) >= limit {
		return fmt.Errorf("id %d is too large for %d tokens (expected ids below %d)", maxID, len(m.Vocab)+len(av.byID), limit)
	}
	n := int(maxID) + 1
	t.tokens = make([]string, n)
	t.present = make([]bool, n)
	for tok, id := range m.Vocab {
		if t.present[id] {
			return fmt.Errorf("vocab id %d is used by both %q and %q", id, t.tokens[id], tok)
		}
		t.tokens[id], t.present[id] = tok, true
	}

	// Vocabulary keyed for encoding.
	if t.byteLevel {
		t.vocab = make(map[string]int32, len(m.Vocab))
		buf := make([]byte, 0, 64)
		for tok, id := range m.Vocab {
			if b, ok := unmapByteLevel(buf[:0], tok); ok {
				buf = b
				t.vocab[string(b)] = id
			}
		}
	} else {
		t.vocab = m.Vocab
	}
	for i := range t.byteIDs {
		t.byteIDs[i] = -1
		t.fallbackIDs[i] = -1
	}
	for i := range t.asciiIDs {
		t.asciiIDs[i] = -1
	}
	if t.byteLevel {
		for b := 0; b < 256; b++ {
			if id, ok := t.vocab[string([]byte{byte(b)})]; ok {
				t.byteIDs[b] = id
			}
		}
	} else {
		for c := 0; c < 128; c++ {
			if id, ok := t.vocab[string(rune(c))]; ok {
				t.asciiIDs[c] = id
			}
		}
		// Single-character tokens of the Basic Multilingual Plane.
		t.bmpIDs = make([]int32, 0x10000)
		for i := range t.bmpIDs {
			t.bmpIDs[i] = -1
		}
		for tok, id := range t.vocab {
			if r, n := utf8.DecodeRuneInString(tok); n == len(tok) && r < 0x10000 && n > 1 {
				t.bmpIDs[r] = id
			}
		}
	}
	if m.ByteFallback {
		for b := 0; b < 256; b++ {
			if id, ok := m.Vocab[fmt.Sprintf("<0x%02X>", b)]; ok {
				t.fallbackIDs[b] = id
			}
		}
	}
	if m.UnkToken != nil {
		id, ok := m.Vocab[*m.UnkToken]
		if !ok {
			return fmt.Errorf("BPE unk_token %q is not in the vocab", *m.UnkToken)
		}
		t.unkID = id
	}

	if err := t.setAdded(av); err != nil {
		return fmt.Errorf("added_tokens: %w", err)
	}

	var ok bool
	if t.merges, ok = newMergeMap(len(m.Merges), maxID); !ok {
		return fmt.Errorf("BPE: %d merges over ids up to %d do not fit the merge table", len(m.Merges), maxID)
	}
	for rank, mg := range m.Merges {
		a, okA := m.Vocab[mg.a]
		b, okB := m.Vocab[mg.b]
		if !okA || !okB {
			missing := mg.a
			if okA {
				missing = mg.b
			}
			return fmt.Errorf("merge %d (%q %q): token %q is not in the vocab", rank, mg.a, mg.b, missing)
		}
		c, ok := m.Vocab[mg.a+mg.b]
		if !ok {
			return fmt.Errorf("merge %d (%q %q): merged token %q is not in the vocab", rank, mg.a, mg.b, mg.a+mg.b)
		}
		t.merges.put(a, b, uint32(rank), c)
	}
	return nil
}

// assignedAdded is the added vocabulary as the reference builds it from
// tokenizer.json: the "id" fields are not used; each token, in file order,
// takes the id of an existing token with its content (added or model), else
// the next free id after the model vocabulary and the added tokens. A token
// whose content and options repeat an earlier one is ignored; once special,
// a content stays special.
type assignedAdded struct {
	byID      map[int32]addedTokenJSON
	byContent map[string]int32
	special   map[string]bool
}

func assignAdded(added []addedTokenJSON, vocab map[string]int32) assignedAdded {
	av := assignedAdded{byID: map[int32]addedTokenJSON{}, byContent: map[string]int32{}, special: map[string]bool{}}
	next := int32(len(vocab))
	for _, a := range added {
		if a.Content == "" {
			continue
		}
		if id, ok := av.byContent[a.Content]; ok {
			if prev, ok := av.byID[id]; ok && prev == a {
				continue
			}
		}
		id, ok := av.byContent[a.Content]
		if !ok {
			id, ok = vocab[a.Content]
		}
		if !ok {
			id = next
			next++
		}
		av.byContent[a.Content] = id
		if a.Special {
			av.special[a.Content] = true
		}
		av.byID[id] = a
		next = max(next, id+1)
	}
	return av
}

func (t *Tokenizer) setAdded(av assignedAdded) error {
	t.added.byContent = av.byContent
	var raw, norm []addedToken
	ids := make([]int32, 0, len(av.byID))
	for id := range av.byID {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		a := av.byID[id]
		at := addedToken{id: id, content: a.Content, singleWord: a.SingleWord, lstrip: a.LStrip, rstrip: a.RStrip}
		if a.Normalized {
			if t.normalizer != nil {
				at.content = t.normalizer.normalize(a.Content)
			}
			norm = append(norm, at)
		} else {
			raw = append(raw, at)
		}
		// Decoding shows the (normalized) content.
		t.tokens[id], t.present[id] = at.content, true
	}
	t.special = make([]bool, len(t.tokens))
	for id, s := range t.tokens {
		t.special[id] = t.present[id] && av.special[s]
	}
	t.added.raw = newTrie(raw)
	t.added.norm = newTrie(norm)
	return nil
}

// lookupToken finds the id of a token written as in tokenizer.json.
func (t *Tokenizer) lookupToken(token string) (int32, bool) {
	if id, ok := t.added.byContent[token]; ok {
		return id, true
	}
	key := token
	if t.byteLevel {
		b, ok := unmapByteLevel(nil, token)
		if !ok {
			return -1, false
		}
		key = string(b)
	}
	id, ok := t.vocab[key]
	if ok && t.tokens[id] == token {
		return id, true
	}
	return -1, false
}

// configJSON is the part of tokenizer_config.json the engine uses.
type configJSON struct {
	EOSToken json.RawMessage `json:"eos_token"`
}

// tokenName reads a special token entry: a string, null, or an object with
// a "content" field.
func tokenName(raw json.RawMessage) (string, bool, error) {
	if isNull(raw) {
		return "", false, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return s, true, nil
	}
	var o struct {
		Content *string `json:"content"`
	}
	if err := json.Unmarshal(raw, &o); err != nil || o.Content == nil {
		return "", false, fmt.Errorf("expected a string or an object with \"content\", got %s", raw)
	}
	return *o.Content, true, nil
}

func (t *Tokenizer) loadConfig(data []byte) error {
	var c configJSON
	if err := json.Unmarshal(data, &c); err != nil {
		return fmt.Errorf("not valid JSON: %w", err)
	}
	name, ok, err := tokenName(c.EOSToken)
	if err != nil {
		return fmt.Errorf("eos_token: %w", err)
	}
	if ok {
		id, found := t.lookupToken(name)
		if !found {
			return fmt.Errorf("eos_token %q is not a token of tokenizer.json", name)
		}
		t.eos = []int32{id}
	}
	return nil
}

// prepareDecode precomputes per-id decoding work: the raw bytes when the
// decoder is a single ByteLevel decoder; otherwise the tokens as rewritten
// by the per-token Replace decoders that start the chain.
func (t *Tokenizer) prepareDecode() {
	if seq, ok := t.decoder.(seqDecoder); ok {
		k := 0
		for k < len(seq) {
			if _, ok := seq[k].(replaceDecoder); !ok {
				break
			}
			k++
		}
		if k == 0 {
			return
		}
		t.decodeTokens = make([]string, len(t.tokens))
		for id, s := range t.tokens {
			if t.present[id] {
				t.decodeTokens[id] = seq[:k].decodeChain([]string{s})[0]
			}
		}
		t.decodeRest = seq[k:]
		return
	}
	if _, ok := t.decoder.(byteLevelDecoder); !ok {
		return
	}
	t.rawBytes = make([]string, len(t.tokens))
	buf := make([]byte, 0, 64)
	for id, s := range t.tokens {
		if !t.present[id] {
			continue
		}
		if b, ok := unmapByteLevel(buf[:0], s); ok {
			buf = b
			t.rawBytes[id] = string(b)
		} else {
			t.rawBytes[id] = s
		}
	}
}
