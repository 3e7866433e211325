package tokenizer

import (
	"encoding/json"
	"fmt"
	"strings"

	"golang.org/x/text/unicode/norm"
)

// normalizer rewrites a text segment before pre-tokenization.
type normalizer interface {
	normalize(s string) string
}

type unicodeNorm struct{ form norm.Form }

// cgj is U+034F COMBINING GRAPHEME JOINER, which golang.org/x/text inserts
// after 30 consecutive non-starters (UAX #15 Stream-Safe Text Format) and the
// reference's normalizer (Rust unicode-normalization) does not: there, a run
// of any length is reordered and composed as a whole.
const cgj = "\u034f"

func (u unicodeNorm) normalize(s string) string {
	if u.form.IsNormalString(s) {
		return s
	}
	out := u.form.String(s)
	if strings.Contains(out, cgj) {
		// Possibly a long run of non-starters: redo it without the
		// stream-safe segmentation.
		out = u.exact(s)
	}
	return out
}

// exact normalizes s by the plain UAX #15 algorithm: full decomposition,
// canonical ordering of each run of non-starters, then (for the composed
// forms) canonical composition. It is slow and used only for rare input.
func (u unicodeNorm) exact(s string) string {
	decomp, compose := norm.NFD, false
	switch u.form {
	case norm.NFC:
		compose = true
	case norm.NFKC:
		decomp, compose = norm.NFKD, true
	case norm.NFKD:
		decomp = norm.NFKD
	}
	var rs []rune
	for _, r := range s {
		rs = append(rs, []rune(decomp.String(string(r)))...)
	}
	ccc := func(r rune) uint8 { return norm.NFD.PropertiesString(string(r)).CCC() }
	// Canonical ordering: stable sort of each run of non-starters by class.
	for i := 0; i < len(rs); {
		if ccc(rs[i]) == 0 {
			i++
			continue
		}
		j := i
		for j < len(rs) && ccc(rs[j]) != 0 {
			j++
		}
		run := rs[i:j]
		for a := 1; a < len(run); a++ {
			for b := a; b > 0 && ccc(run[b-1]) > ccc(run[b]); b-- {
				run[b-1], run[b] = run[b], run[b-1]
			}
		}
		i = j
	}
	if !compose || len(rs) == 0 {
		return string(rs)
	}
	// Canonical composition.
	out := rs[:1]
	starter := -1
	last := 256 // class of the last character after the starter
	if ccc(rs[0]) == 0 {
		starter, last = 0, 0
	}
	for _, r := range rs[1:] {
		c := int(ccc(r))
		if starter >= 0 && (last < c || last == 0) {
			if p := []rune(norm.NFC.String(string(out[starter]) + string(r))); len(p) == 1 {
				out[starter] = p[0]
				continue
			}
		}
		if c == 0 {
			starter = len(out)
		}
		last = c
		out = append(out, r)
	}
	return string(out)
}

type replaceNorm struct{ pattern, content string }

func (r replaceNorm) normalize(s string) string {
	if r.pattern == "" {
		return s
	}
	return strings.ReplaceAll(s, r.pattern, r.content)
}

type prependNorm struct{ prefix string }

func (p prependNorm) normalize(s string) string {
	if s == "" {
		return s
	}
	return p.prefix + s
}

type stripNorm struct{ left, right bool }

func (p stripNorm) normalize(s string) string {
	if p.left {
		s = strings.TrimLeftFunc(s, isWhitespace)
	}
	if p.right {
		s = strings.TrimRightFunc(s, isWhitespace)
	}
	return s
}

type seqNorm []normalizer

func (q seqNorm) normalize(s string) string {
	for _, n := range q {
		s = n.normalize(s)
	}
	return s
}

func parseNormalizer(raw json.RawMessage) (normalizer, error) {
	typ, err := typed(raw)
	if err != nil {
		return nil, err
	}
	switch typ {
	case "NFC":
		return unicodeNorm{norm.NFC}, nil
	case "NFD":
		return unicodeNorm{norm.NFD}, nil
	case "NFKC":
		return unicodeNorm{norm.NFKC}, nil
	case "NFKD":
		return unicodeNorm{norm.NFKD}, nil
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
		return replaceNorm{*r.Pattern.String, *r.Content}, nil
	case "Prepend":
		var p struct {
			Prepend *string `json:"prepend"`
		}
		if err := json.Unmarshal(raw, &p); err != nil || p.Prepend == nil {
			return nil, fmt.Errorf(`Prepend needs a string "prepend"`)
		}
		return prependNorm{*p.Prepend}, nil
	case "Strip":
		var p struct {
			Left  bool `json:"strip_left"`
			Right bool `json:"strip_right"`
		}
		if err := json.Unmarshal(raw, &p); err != nil {
			return nil, fmt.Errorf("Strip: %w", err)
		}
		return stripNorm{p.Left, p.Right}, nil
	case "Sequence":
		seq, err := parseSequence(raw, "normalizers", func(_, _ int, r json.RawMessage) (normalizer, error) {
			return parseNormalizer(r)
		})
		return seqNorm(seq), err
	}
	return nil, fmt.Errorf("type %q is not supported (supported: NFC, NFD, NFKC, NFKD, Replace, Prepend, Strip, Sequence)", typ)
}
