package tokenizer

import (
	"sort"
	"unicode"
	"unicode/utf8"
)

// addedToken is an entry of tokenizer.json's added_tokens that the matcher
// looks for.
type addedToken struct {
	id         int32
	content    string
	singleWord bool
	lstrip     bool
	rstrip     bool
}

// addedVocab holds the added tokens: raw ones (normalized=false) are matched
// on the input text, normalized ones on each normalized segment.
type addedVocab struct {
	byContent map[string]int32
	raw       *trie
	norm      *trie
}

// trie is a byte trie over added-token contents for leftmost-longest
// matching. Node 0 is the root; the root's children are a direct table.
type trie struct {
	root   [256]int32 // child of the root per byte, 0 = none
	nodes  []trieNode
	edges  []trieEdge // children of every non-root node, sorted by byte per node
	tokens []addedToken
}

type trieNode struct {
	first, n int32 // children: edges[first : first+n]
	token    int32 // index into tokens, -1 when no token ends here
}

type trieEdge struct {
	b    byte
	node int32
}

func newTrie(toks []addedToken) *trie {
	if len(toks) == 0 {
		return nil
	}
	// Build with maps, then flatten.
	type bnode struct {
		kids  map[byte]int
		token int
	}
	b := []bnode{{kids: map[byte]int{}, token: -1}}
	tr := &trie{}
	for _, tok := range toks {
		cur := 0
		for i := 0; i < len(tok.content); i++ {
			c := tok.content[i]
			nx, ok := b[cur].kids[c]
			if !ok {
				nx = len(b)
				b = append(b, bnode{kids: map[byte]int{}, token: -1})
				b[cur].kids[c] = nx
			}
			cur = nx
		}
		// A later duplicate replaces an earlier one, as in a map.
		if b[cur].token >= 0 {
			tr.tokens[b[cur].token] = tok
		} else {
			b[cur].token = len(tr.tokens)
			tr.tokens = append(tr.tokens, tok)
		}
	}
	tr.nodes = make([]trieNode, len(b))
	for i, n := range b {
		keys := make([]int, 0, len(n.kids))
		for k := range n.kids {
			keys = append(keys, int(k))
		}
		sort.Ints(keys)
		tr.nodes[i] = trieNode{first: int32(len(tr.edges)), n: int32(len(keys)), token: int32(n.token)}
		for _, k := range keys {
			tr.edges = append(tr.edges, trieEdge{b: byte(k), node: int32(n.kids[byte(k)])})
		}
	}
	for _, e := range tr.edges[tr.nodes[0].first : tr.nodes[0].first+tr.nodes[0].n] {
		tr.root[e.b] = e.node
	}
	return tr
}

func (tr *trie) child(node int32, c byte) int32 {
	n := tr.nodes[node]
	es := tr.edges[n.first : n.first+n.n]
	lo, hi := 0, len(es)
	for lo < hi {
		m := (lo + hi) / 2
		if es[m].b < c {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo < len(es) && es[lo].b == c {
		return es[lo].node
	}
	return 0
}

// longest returns the longest token that starts at s[i:], as (index, end).
func (tr *trie) longest(s string, i int) (int32, int) {
	node := tr.root[s[i]]
	best, end := int32(-1), 0
	for j := i + 1; ; j++ {
		if t := tr.nodes[node].token; t >= 0 {
			best, end = t, j
		}
		if j >= len(s) {
			break
		}
		node = tr.child(node, s[j])
		if node == 0 {
			break
		}
	}
	return best, end
}

// segment is a piece of the input: an added token (id >= 0) or text.
type segment struct {
	start, end int
	id         int32
}

// split cuts s into added tokens and the text between them, with the
// reference's semantics: leftmost-longest matches, scanning on after each
// match; single_word matches are dropped unless surrounded by non-word
// characters; lstrip/rstrip absorb neighbouring whitespace. It calls emit
// for each piece in order; text pieces have id -1.
func (tr *trie) split(s string, emit func(seg segment)) {
	if tr == nil || len(s) == 0 {
		emit(segment{0, len(s), -1})
		return
	}
	startOffset := 0
	for i := 0; i < len(s); {
		if tr.root[s[i]] == 0 {
			i++
			continue
		}
		ti, stop := tr.longest(s, i)
		if ti < 0 {
			i++
			continue
		}
		tok := &tr.tokens[ti]
		start := i
		i = stop
		if tok.singleWord {
			startSpace := start == 0 || !endsWithWord(s[:start])
			stopSpace := stop == len(s) || !startsWithWord(s[stop:])
			if !startSpace || !stopSpace {
				continue
			}
		}
		if tok.lstrip {
			ns := start
			for ns > 0 {
				r, n := utf8.DecodeLastRuneInString(s[:ns])
				if !isWhitespace(r) {
					break
				}
				ns -= n
			}
			start = max(ns, startOffset)
		}
		if tok.rstrip {
			for stop < len(s) {
				r, n := utf8.DecodeRuneInString(s[stop:])
				if !isWhitespace(r) {
					break
				}
				stop += n
			}
		}
		// As in the reference, scanning goes on from the end of the match,
		// not of the stripped whitespace, so a later match may overlap it.
		if startOffset < start {
			emit(segment{startOffset, start, -1})
		}
		emit(segment{start, stop, tok.id})
		startOffset = stop
	}
	if startOffset != len(s) {
		emit(segment{startOffset, len(s), -1})
	}
}

func isAlnum(r rune) bool { return unicode.IsLetter(r) || unicode.IsNumber(r) }

func endsWithWord(s string) bool {
	r, _ := utf8.DecodeLastRuneInString(s)
	return len(s) > 0 && isAlnum(r)
}

func startsWithWord(s string) bool {
	r, _ := utf8.DecodeRuneInString(s)
	return len(s) > 0 && isAlnum(r)
}
