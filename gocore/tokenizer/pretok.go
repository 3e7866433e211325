package tokenizer

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// preTokenizer cuts a normalized segment into words, calling emit for each
// non-empty word in order.
type preTokenizer interface {
	split(s string, emit func(word string))
}

// Character classes of the Llama 3 / Qwen2 split patterns, with Oniguruma's
// meanings: \s is White_Space ([\t\n\v\f\r\x85\p{Z}]), \p{L} and \p{N} the
// Unicode general categories.
const (
	clOther = iota
	clLetter
	clNumber
	clSpace
)

var asciiClass = func() (tab [utf8.RuneSelf]uint8) {
	for c := 0; c < utf8.RuneSelf; c++ {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
			tab[c] = clLetter
		case c >= '0' && c <= '9':
			tab[c] = clNumber
		case c >= '\t' && c <= '\r', c == ' ':
			tab[c] = clSpace
		default:
			tab[c] = clOther
		}
	}
	return tab
}()

func isWhitespace(r rune) bool {
	if r < utf8.RuneSelf {
		return asciiClass[r] == clSpace
	}
	return r == 0x85 || unicode.In(r, unicode.Zs, unicode.Zl, unicode.Zp)
}

func classOf(r rune) uint8 {
	if r < utf8.RuneSelf {
		return asciiClass[r]
	}
	switch {
	case unicode.IsLetter(r):
		return clLetter
	case unicode.IsNumber(r):
		return clNumber
	case isWhitespace(r):
		return clSpace
	}
	return clOther
}

// next decodes the character at s[i:] and its class.
func next(s string, i int) (rune, int, uint8) {
	c := s[i]
	if c < utf8.RuneSelf {
		return rune(c), 1, asciiClass[c]
	}
	r, n := utf8.DecodeRuneInString(s[i:])
	return r, n, classOf(r)
}

// The exact patterns the hand-written scanner implements.
const (
	patternLlama3 = `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
	patternQwen2  = `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
)

// llamaScanner matches the Llama 3 pattern (maxDigits 3) or the Qwen2
// pattern (maxDigits 1). The pattern matches every character, so the
// matches tile the input.
type llamaScanner struct{ maxDigits int }

// foldEq reports whether r equals the ASCII lower-case letter c under
// Oniguruma's case folding (which also folds U+017F LONG S to 's').
func foldEq(r rune, c byte) bool {
	return r == rune(c) || r == rune(c-'a'+'A') || (c == 's' && r == 0x17F)
}

// contraction returns the end of 's|'t|'re|'ve|'m|'ll|'d (case-insensitive)
// after the apostrophe at s[i-1], or -1.
func contraction(s string, i int) int {
	if i >= len(s) {
		return -1
	}
	r1, n1 := utf8.DecodeRuneInString(s[i:])
	switch {
	case foldEq(r1, 's'), foldEq(r1, 't'), foldEq(r1, 'm'), foldEq(r1, 'd'):
		return i + n1
	}
	if i+n1 >= len(s) {
		return -1
	}
	r2, n2 := utf8.DecodeRuneInString(s[i+n1:])
	switch {
	case foldEq(r1, 'r') && foldEq(r2, 'e'), foldEq(r1, 'v') && foldEq(r2, 'e'), foldEq(r1, 'l') && foldEq(r2, 'l'):
		return i + n1 + n2
	}
	return -1
}

// matchAt returns the end of the pattern's match starting at s[i].
func (sc llamaScanner) matchAt(s string, i int) int {
	r, n, c := next(s, i)
	// (?i:'s|'t|'re|'ve|'m|'ll|'d)
	if r == '\'' {
		if e := contraction(s, i+1); e > 0 {
			return e
		}
	}
	// [^\r\n\p{L}\p{N}]?\p{L}+
	j := -1
	if c == clLetter {
		j = i + n
	} else if c != clNumber && r != '\r' && r != '\n' && i+n < len(s) {
		if _, n2, c2 := next(s, i+n); c2 == clLetter {
			j = i + n + n2
		}
	}
	if j >= 0 {
		for j < len(s) {
			_, n2, c2 := next(s, j)
			if c2 != clLetter {
				break
			}
			j += n2
		}
		return j
	}
	// \p{N}{1,maxDigits}
	if c == clNumber {
		j = i + n
		for k := 1; k < sc.maxDigits && j < len(s); k++ {
			_, n2, c2 := next(s, j)
			if c2 != clNumber {
				break
			}
			j += n2
		}
		return j
	}
	// ` ?[^\s\p{L}\p{N}]+[\r\n]*`
	j = i
	if r == ' ' {
		j = i + 1
	}
	if j < len(s) {
		if _, n2, c2 := next(s, j); c2 == clOther {
			j += n2
			for j < len(s) {
				_, n3, c3 := next(s, j)
				if c3 != clOther {
					break
				}
				j += n3
			}
			for j < len(s) && (s[j] == '\r' || s[j] == '\n') {
				j++
			}
			return j
		}
	}
	// Here s[i] is whitespace. \s*[\r\n]+ matches up to the last line break
	// of the whitespace run; else \s+(?!\S) leaves the run's last character
	// to the next match when a non-space follows; else \s+.
	j = i
	lastBreak, lastStart := -1, i
	for j < len(s) {
		r2, n2, c2 := next(s, j)
		if c2 != clSpace {
			break
		}
		if r2 == '\r' || r2 == '\n' {
			lastBreak = j + n2
		}
		lastStart = j
		j += n2
	}
	switch {
	case lastBreak >= 0:
		return lastBreak
	case j == len(s) || lastStart == i:
		return j
	default:
		return lastStart
	}
}

func (sc llamaScanner) matches(s string, emit func(start, end int)) {
	for i := 0; i < len(s); {
		e := sc.matchAt(s, i)
		emit(i, e)
		i = e
	}
}

// gpt2Scanner matches GPT-2's pattern, which the ByteLevel pre-tokenizer
// splits with when use_regex is true:
// 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
// It too matches every character.
type gpt2Scanner struct{}

func (gpt2Scanner) matchAt(s string, i int) int {
	r, _, _ := next(s, i)
	if r == '\'' && i+1 < len(s) {
		switch s[i+1] {
		case 's', 't', 'm', 'd':
			return i + 2
		case 'r', 'v':
			if i+2 < len(s) && s[i+2] == 'e' {
				return i + 3
			}
		case 'l':
			if i+2 < len(s) && s[i+2] == 'l' {
				return i + 3
			}
		}
	}
	// ` ?\p{L}+`, ` ?\p{N}+`, ` ?[^\s\p{L}\p{N}]+`
	j := i
	if r == ' ' {
		j = i + 1
	}
	if j < len(s) {
		if _, n, c := next(s, j); c != clSpace {
			j += n
			for j < len(s) {
				_, n2, c2 := next(s, j)
				if c2 != c {
					break
				}
				j += n2
			}
			return j
		}
	}
	// Whitespace: \s+(?!\S) leaves the run's last character to the next
	// match when a non-space follows; else \s+.
	j = i
	lastStart := i
	for j < len(s) {
		_, n, c := next(s, j)
		if c != clSpace {
			break
		}
		lastStart = j
		j += n
	}
	if j == len(s) || lastStart == i {
		return j
	}
	return lastStart
}

// byteLevelRegex is the ByteLevel pre-tokenizer with use_regex: an optional
// prefix space, then GPT-2's split.
type byteLevelRegex struct{ prefixSpace bool }

func (b byteLevelRegex) split(s string, emit func(string)) {
	if len(s) == 0 {
		return
	}
	if b.prefixSpace && s[0] != ' ' {
		s = " " + s
	}
	for i := 0; i < len(s); {
		e := gpt2Scanner{}.matchAt(s, i)
		emit(s[i:e])
		i = e
	}
}

// stringPattern matches the non-overlapping occurrences of a literal.
type stringPattern string

func (p stringPattern) matches(s string, emit func(start, end int)) {
	if p == "" {
		return
	}
	for i := 0; ; {
		k := strings.Index(s[i:], string(p))
		if k < 0 {
			return
		}
		emit(i+k, i+k+len(p))
		i += k + len(p)
	}
}

type pattern interface {
	matches(s string, emit func(start, end int))
}

// Split behaviours.
const (
	behRemoved = iota
	behIsolated
	behMergedWithPrevious
	behMergedWithNext
	behContiguous
)

var behaviours = map[string]int{
	"Removed": behRemoved, "Isolated": behIsolated, "MergedWithPrevious": behMergedWithPrevious,
	"MergedWithNext": behMergedWithNext, "Contiguous": behContiguous,
}

// splitPreTok is the Split pre-tokenizer.
type splitPreTok struct {
	pat      pattern
	behavior int
	invert   bool
}

type span struct {
	start, end int
	match      bool
}

func (p *splitPreTok) split(s string, emit func(string)) {
	if len(s) == 0 {
		return
	}
	if p.behavior == behIsolated && !p.invert {
		prev := 0
		p.pat.matches(s, func(a, b int) {
			if a > prev {
				emit(s[prev:a])
			}
			if b > a {
				emit(s[a:b])
			}
			prev = b
		})
		if prev < len(s) {
			emit(s[prev:])
		}
		return
	}
	// The general case: the pieces as (span, is-match), then the behaviour.
	var spans []span
	prev := 0
	p.pat.matches(s, func(a, b int) {
		if a > prev {
			spans = append(spans, span{prev, a, p.invert})
		}
		spans = append(spans, span{a, b, !p.invert})
		prev = b
	})
	if prev < len(s) {
		spans = append(spans, span{prev, len(s), p.invert})
	}
	var out []span
	switch p.behavior {
	case behRemoved:
		for _, sp := range spans {
			if !sp.match {
				out = append(out, sp)
			}
		}
	case behIsolated:
		out = spans
	case behMergedWithPrevious:
		prevMatch := false
		for _, sp := range spans {
			if sp.match && !prevMatch && len(out) > 0 {
				out[len(out)-1].end = sp.end
			} else {
				out = append(out, sp)
			}
			prevMatch = sp.match
		}
	case behMergedWithNext:
		prevMatch := false
		for k := len(spans) - 1; k >= 0; k-- {
			sp := spans[k]
			if sp.match && !prevMatch && len(out) > 0 {
				out[len(out)-1].start = sp.start
			} else {
				out = append(out, sp)
			}
			prevMatch = sp.match
		}
		for a, b := 0, len(out)-1; a < b; a, b = a+1, b-1 {
			out[a], out[b] = out[b], out[a]
		}
	case behContiguous:
		prevMatch := false
		for _, sp := range spans {
			if sp.match == prevMatch && len(out) > 0 {
				out[len(out)-1].end = sp.end
			} else {
				out = append(out, sp)
			}
			prevMatch = sp.match
		}
	}
	for _, sp := range out {
		if sp.end > sp.start {
			emit(s[sp.start:sp.end])
		}
	}
}

// seqPreTok applies pre-tokenizers in turn to every word of the previous.
type seqPreTok []preTokenizer

func (q seqPreTok) split(s string, emit func(string)) {
	q.run(0, s, emit)
}

func (q seqPreTok) run(k int, s string, emit func(string)) {
	if k == len(q) {
		emit(s)
		return
	}
	q[k].split(s, func(w string) { q.run(k+1, w, emit) })
}

// parsePreTokenizer reads a pre-tokenizer. ByteLevel is accepted only as the
// last step (it switches the tokenizer to raw-byte vocabulary keys), so last
// says whether raw is in that position.
func (t *Tokenizer) parsePreTokenizer(raw json.RawMessage, last bool) (preTokenizer, error) {
	typ, err := typed(raw)
	if err != nil {
		return nil, err
	}
	switch typ {
	case "Sequence":
		all, err := parseSequence(raw, "pretokenizers", func(i, n int, r json.RawMessage) (preTokenizer, error) {
			return t.parsePreTokenizer(r, last && i == n-1)
		})
		if err != nil {
			return nil, err
		}
		var seq seqPreTok
		for _, p := range all {
			if p != nil { // a no-op component
				seq = append(seq, p)
			}
		}
		switch len(seq) {
		case 0:
			return nil, nil
		case 1:
			return seq[0], nil
		}
		return seq, nil
	case "Split":
		var sp struct {
			Pattern  patternJSON `json:"pattern"`
			Behavior string      `json:"behavior"`
			Invert   bool        `json:"invert"`
		}
		if err := json.Unmarshal(raw, &sp); err != nil {
			return nil, fmt.Errorf("Split: %w", err)
		}
		beh, ok := behaviours[sp.Behavior]
		if !ok {
			return nil, fmt.Errorf("Split behavior %q is not supported (supported: Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous)", sp.Behavior)
		}
		var pat pattern
		switch {
		case sp.Pattern.String != nil:
			pat = stringPattern(*sp.Pattern.String)
		case sp.Pattern.Regex != nil && *sp.Pattern.Regex == patternLlama3:
			pat = llamaScanner{maxDigits: 3}
		case sp.Pattern.Regex != nil && *sp.Pattern.Regex == patternQwen2:
			pat = llamaScanner{maxDigits: 1}
		case sp.Pattern.Regex != nil:
			return nil, fmt.Errorf("Split regex %q is not supported (supported: the Llama 3 and Qwen2 patterns, and String patterns)", *sp.Pattern.Regex)
		default:
			return nil, fmt.Errorf(`Split needs "pattern": {"String": ...} or {"Regex": ...}`)
		}
		return &splitPreTok{pat: pat, behavior: beh, invert: sp.Invert}, nil
	case "ByteLevel":
		var bl struct {
			AddPrefixSpace bool  `json:"add_prefix_space"`
			UseRegex       *bool `json:"use_regex"`
		}
		if err := json.Unmarshal(raw, &bl); err != nil {
			return nil, fmt.Errorf("ByteLevel: %w", err)
		}
		if !last {
			return nil, fmt.Errorf("ByteLevel is supported only as the last pre-tokenizer")
		}
		t.byteLevel = true
		if bl.UseRegex == nil || *bl.UseRegex {
			// The default is use_regex=true.
			return byteLevelRegex{prefixSpace: bl.AddPrefixSpace}, nil
		}
		t.prefixSpace = bl.AddPrefixSpace
		return nil, nil
	}
	return nil, fmt.Errorf("type %q is not supported (supported: Sequence, Split, ByteLevel)", typ)
}
