package tokenizer

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"
)

// decoder turns the token strings of a sequence into text pieces (the
// reference's decode_chain); the pieces are then concatenated.
type decoder interface {
	decodeChain(toks []string) []string
}

type byteLevelDecoder struct{}

func (byteLevelDecoder) decodeChain(toks []string) []string {
	var buf []byte
	for _, tok := range toks {
		n := len(buf)
		b, ok := unmapByteLevel(buf, tok)
		if !ok {
			// A character outside the alphabet: the token's own UTF-8.
			b = append(b[:n], tok...)
		}
		buf = b
	}
	return []string{lossyUTF8(buf)}
}

type replaceDecoder struct{ pattern, content string }

func (r replaceDecoder) decodeChain(toks []string) []string {
	out := make([]string, len(toks))
	for i, tok := range toks {
		if r.pattern == "" {
			out[i] = tok
		} else {
			out[i] = strings.ReplaceAll(tok, r.pattern, r.content)
		}
	}
	return out
}

type byteFallbackDecoder struct{}

// fallbackByte parses a <0xNN> token as the reference does (u8::from_str_radix
// on the two characters after "<0x").
func fallbackByte(tok string) (byte, bool) {
	if len(tok) != 6 || !strings.HasPrefix(tok, "<0x") || tok[5] != '>' {
		return 0, false
	}
	h := tok[3:5]
	if h[0] == '+' {
		h = h[1:]
	}
	v := 0
	for i := 0; i < len(h); i++ {
		c := h[i]
		var d int
		switch {
		case c >= '0' && c <= '9':
			d = int(c - '0')
		case c >= 'a' && c <= 'f':
			d = int(c-'a') + 10
		case c >= 'A' && c <= 'F':
			d = int(c-'A') + 10
		default:
			return 0, false
		}
		v = v*16 + d
	}
	return byte(v), true
}

func (byteFallbackDecoder) decodeChain(toks []string) []string {
	out := make([]string, 0, len(toks))
	var pending []byte
	flush := func() {
		if len(pending) == 0 {
			return
		}
		if utf8.Valid(pending) {
			out = append(out, string(pending))
		} else {
			for range pending {
				out = append(out, "\uFFFD")
			}
		}
		pending = pending[:0]
	}
	for _, tok := range toks {
		if b, ok := fallbackByte(tok); ok {
			pending = append(pending, b)
			continue
		}
		flush()
		out = append(out, tok)
	}
	flush()
	return out
}

type fuseDecoder struct{}

func (fuseDecoder) decodeChain(toks []string) []string {
	return []string{strings.Join(toks, "")}
}

type stripDecoder struct {
	content     rune
	start, stop int
}

func (d stripDecoder) decodeChain(toks []string) []string {
	out := make([]string, len(toks))
	for i, tok := range toks {
		rs := []rune(tok)
		a := 0
		for a < len(rs) && a < d.start && rs[a] == d.content {
			a++
		}
		b := 0
		for b < len(rs)-a && b < d.stop && rs[len(rs)-1-b] == d.content {
			b++
		}
		out[i] = string(rs[a : len(rs)-b])
	}
	return out
}

type seqDecoder []decoder

func (q seqDecoder) decodeChain(toks []string) []string {
	for _, d := range q {
		toks = d.decodeChain(toks)
	}
	return toks
}

func parseDecoder(raw json.RawMessage) (decoder, error) {
	typ, err := typed(raw)
	if err != nil {
		return nil, err
	}
	switch typ {
	case "ByteLevel":
		return byteLevelDecoder{}, nil
	case "ByteFallback":
		return byteFallbackDecoder{}, nil
	case "Fuse":
		return fuseDecoder{}, nil
	case "Replace":
		var r struct {
			Pattern patternJSON `json:"pattern"`
			Content *string     `json:"content"`
		}
		if err := json.Unmarshal(raw, &r); err != nil {
			return nil, fmt.Errorf("Replace: %w", err)
		}
		if r.Pattern.String == nil || r.Content == nil {
			if r.Pattern.Regex != nil {
				return nil, fmt.Errorf("Replace with a Regex pattern (%q) is not supported (supported: String patterns)", *r.Pattern.Regex)
			}
			return nil, fmt.Errorf(`Replace needs "pattern": {"String": ...} and "content"`)
		}
		return replaceDecoder{*r.Pattern.String, *r.Content}, nil
	case "Strip":
		var s struct {
			Content string `json:"content"`
			Start   int    `json:"start"`
			Stop    int    `json:"stop"`
		}
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, fmt.Errorf("Strip: %w", err)
		}
		if utf8.RuneCountInString(s.Content) != 1 {
			return nil, fmt.Errorf("Strip content %q must be one character", s.Content)
		}
		r, _ := utf8.DecodeRuneInString(s.Content)
		return stripDecoder{content: r, start: s.Start, stop: s.Stop}, nil
	case "Sequence":
		seq, err := parseSequence(raw, "decoders", func(_, _ int, r json.RawMessage) (decoder, error) {
			return parseDecoder(r)
		})
		return seqDecoder(seq), err
	}
	return nil, fmt.Errorf("type %q is not supported (supported: ByteLevel, Replace, ByteFallback, Fuse, Strip, Sequence)", typ)
}

// lossyUTF8 converts bytes to a string like Rust's String::from_utf8_lossy:
// each maximal invalid subsequence (a truncated but otherwise valid prefix
// of a character, or a single bad byte) becomes one U+FFFD.
func lossyUTF8(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	out := make([]byte, 0, len(b)+8)
	for i := 0; i < len(b); {
		c := b[i]
		if c < utf8.RuneSelf {
			out = append(out, c)
			i++
			continue
		}
		if r, n := utf8.DecodeRune(b[i:]); r != utf8.RuneError || n > 1 {
			out = append(out, b[i:i+n]...)
			i += n
			continue
		}
		i += invalidPrefixLen(b[i:])
		out = append(out, "\uFFFD"...)
	}
	return string(out)
}

// invalidPrefixLen is the length of the maximal prefix of b (which starts
// with an invalid sequence) that could begin a valid character.
func invalidPrefixLen(b []byte) int {
	c := b[0]
	var need int
	lo, hi := byte(0x80), byte(0xBF)
	switch {
	case c >= 0xC2 && c <= 0xDF:
		need = 1
	case c == 0xE0:
		need, lo = 2, 0xA0
	case c >= 0xE1 && c <= 0xEC, c == 0xEE, c == 0xEF:
		need = 2
	case c == 0xED:
		need, hi = 2, 0x9F
	case c == 0xF0:
		need, lo = 3, 0x90
	case c >= 0xF1 && c <= 0xF3:
		need = 3
	case c == 0xF4:
		need, hi = 3, 0x8F
	default:
		return 1
	}
	n := 1
	for k := 0; k < need && n < len(b); k++ {
		x := b[n]
		if k > 0 {
			lo, hi = 0x80, 0xBF
		}
		if x < lo || x > hi {
			break
		}
		n++
	}
	return n
}

// Decode turns ids into text with the file's decoders. Ids that name no
// token are dropped; with skipSpecialTokens, added tokens marked special
// are dropped too.
func (t *Tokenizer) Decode(ids []int32, skipSpecialTokens bool) string {
	if t.rawBytes != nil {
		var buf []byte
		for _, id := range ids {
			if id < 0 || int(id) >= len(t.tokens) || !t.present[id] || (skipSpecialTokens && t.special[id]) {
				continue
			}
			buf = append(buf, t.rawBytes[id]...)
		}
		return lossyUTF8(buf)
	}
	src, dec := t.tokens, t.decoder
	if t.decodeTokens != nil {
		src, dec = t.decodeTokens, t.decodeRest
	}
	toks := make([]string, 0, len(ids))
	for _, id := range ids {
		if id < 0 || int(id) >= len(t.tokens) || !t.present[id] || (skipSpecialTokens && t.special[id]) {
			continue
		}
		toks = append(toks, src[id])
	}
	if dec == nil {
		return strings.Join(toks, " ")
	}
	return strings.Join(dec.decodeChain(toks), "")
}

// parseSequence parses the components of a Sequence (normalizer,
// pre-tokenizer or decoder), listed under key, with parse(i, n, item);
// errors name the failing position.
func parseSequence[T any](raw json.RawMessage, key string, parse func(i, n int, item json.RawMessage) (T, error)) ([]T, error) {
	var q map[string]json.RawMessage
	if err := json.Unmarshal(raw, &q); err != nil {
		return nil, fmt.Errorf("Sequence: %w", err)
	}
	var items []json.RawMessage
	if v, ok := q[key]; ok {
		if err := json.Unmarshal(v, &items); err != nil {
			return nil, fmt.Errorf("Sequence: %s: %w", key, err)
		}
	}
	out := make([]T, 0, len(items))
	for i, r := range items {
		v, err := parse(i, len(items), r)
		if err != nil {
			return nil, fmt.Errorf("Sequence[%d]: %w", i, err)
		}
		out = append(out, v)
	}
	return out, nil
}
