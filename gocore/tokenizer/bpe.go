package tokenizer

import (
	"strings"
	"unicode/utf8"
)

// mergeMap maps a pair of token ids to the merge's rank and the merged id.
// It is an open-addressing hash table keyed by the packed pair, with key and
// value side by side so that a lookup touches one cache line.
type mergeMap struct {
	slots []mergeSlot
	shift uint
}

type mergeSlot struct {
	key uint64 // left<<32 | right, plus 1 so that 0 marks an empty slot
	val mergeVal
}

type mergeVal struct {
	rank  uint32
	newID int32
}

// newMergeMap sizes the table for n merges at a load factor of at most 0.6.
func newMergeMap(n int) mergeMap {
	size, shift := 16, uint(60)
	for size*3 < 5*n {
		size <<= 1
		shift--
	}
	return mergeMap{slots: make([]mergeSlot, size), shift: shift}
}

func pairKey(a, b int32) uint64 { return (uint64(uint32(a))<<32 | uint64(uint32(b))) + 1 }

func (m *mergeMap) slot(k uint64) int { return int((k * 0x9E3779B97F4A7C15) >> m.shift) }

// put stores a merge; a later merge of the same pair replaces an earlier one.
func (m *mergeMap) put(a, b int32, rank uint32, newID int32) {
	k := pairKey(a, b)
	mask := len(m.slots) - 1
	for i := m.slot(k); ; i = (i + 1) & mask {
		if m.slots[i].key == 0 || m.slots[i].key == k {
			m.slots[i] = mergeSlot{k, mergeVal{rank, newID}}
			return
		}
	}
}

func (m *mergeMap) get(a, b int32) (mergeVal, bool) {
	if len(m.slots) == 0 {
		return mergeVal{}, false
	}
	k := pairKey(a, b)
	mask := len(m.slots) - 1
	for i := m.slot(k); ; i = (i + 1) & mask {
		switch m.slots[i].key {
		case k:
			return m.slots[i].val, true
		case 0:
			return mergeVal{}, false
		}
	}
}

// symbol is one element of a word being merged, in a doubly linked list
// over the word's initial characters.
type symbol struct {
	id         int32
	prev, next int32
	size       int32 // bytes covered; 0 once merged into its left neighbour
}

// mergeItem is a candidate merge of the symbol at pos with its right
// neighbour. The queue pops the lowest rank first, then the lowest pos.
type mergeItem struct {
	rank        uint32
	pos         int32
	newID       int32
	left, right int32 // the pair when queued
}

func (a mergeItem) less(b mergeItem) bool {
	return a.rank < b.rank || (a.rank == b.rank && a.pos < b.pos)
}

type mergeHeap []mergeItem

func (h *mergeHeap) push(it mergeItem) {
	*h = append(*h, it)
	q := *h
	i := len(q) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !q[i].less(q[p]) {
			break
		}
		q[i], q[p] = q[p], q[i]
		i = p
	}
}

// init orders an unordered slice into a heap in linear time. Pop order
// does not depend on the heap's shape: (rank, pos) orders the entries
// totally, and entries equal in both are the same merge.
func (h mergeHeap) init() {
	for i := len(h)/2 - 1; i >= 0; i-- {
		h.down(i)
	}
}

func (h *mergeHeap) pop() mergeItem {
	q := *h
	top := q[0]
	n := len(q) - 1
	q[0] = q[n]
	q = q[:n]
	q.down(0)
	*h = q
	return top
}

func (h mergeHeap) down(i int) {
	q := h
	n := len(q)
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		m := l
		if r := l + 1; r < n && q[r].less(q[l]) {
			m = r
		}
		if !q[m].less(q[i]) {
			break
		}
		q[i], q[m] = q[m], q[i]
		i = m
	}
}

// addChar appends the symbols of one character (or, for byte-level models,
// one byte) of a word, with the reference's handling of characters missing
// from the vocabulary: byte fallback to <0xNN> tokens when every byte has
// one, else the unknown token (consecutive unknowns fused when fuse_unk),
// else nothing.
func (t *Tokenizer) addChar(st *encState, ch string, id int32) {
	if id >= 0 {
		if st.unkSize > 0 {
			st.addSymbol(t.unkID, st.unkSize)
			st.unkSize = 0
		}
		st.addSymbol(id, int32(len(ch)))
		return
	}
	if t.byteFallback {
		ok := true
		for i := 0; i < len(ch); i++ {
			if t.fallbackIDs[ch[i]] < 0 {
				ok = false
				break
			}
		}
		if ok {
			for i := 0; i < len(ch); i++ {
				st.addSymbol(t.fallbackIDs[ch[i]], 1)
			}
			return
		}
	}
	if t.unkID >= 0 {
		if st.unkSize > 0 && !t.fuseUnk {
			st.addSymbol(t.unkID, st.unkSize)
			st.unkSize = 0
		}
		st.unkSize += int32(len(ch))
	}
}

func (st *encState) addSymbol(id, size int32) {
	n := int32(len(st.syms))
	st.syms = append(st.syms, symbol{id: id, prev: n - 1, next: n + 1, size: size})
}

// bpeWord appends the ids of one pre-tokenized word.
func (t *Tokenizer) bpeWord(st *encState, word string) {
	if len(word) == 0 {
		return
	}
	// The cache (which also remembers ignore_merges hits) is consulted
	// first: it is small and hot, the vocabulary is not.
	cacheable := len(word) < maxCachedWord
	if cacheable {
		if ids, ok := st.cache[word]; ok {
			st.ids = append(st.ids, ids...)
			return
		}
	}
	if t.ignoreMerges {
		if id, ok := t.vocab[word]; ok {
			st.ids = append(st.ids, id)
			if cacheable {
				t.remember(st, word, st.ids[len(st.ids)-1:])
			}
			return
		}
	}
	st.syms = st.syms[:0]
	st.unkSize = 0
	if t.byteLevel {
		for i := 0; i < len(word); i++ {
			t.addChar(st, word[i:i+1], t.byteIDs[word[i]])
		}
	} else {
		for i := 0; i < len(word); {
			c := word[i]
			if c < utf8.RuneSelf {
				t.addChar(st, word[i:i+1], t.asciiIDs[c])
				i++
				continue
			}
			r, n := utf8.DecodeRuneInString(word[i:])
			ch := word[i : i+n]
			var id int32
			if r < rune(len(t.bmpIDs)) && n > 1 {
				id = t.bmpIDs[r]
			} else if v, ok := t.vocab[ch]; ok {
				id = v
			} else {
				id = -1
			}
			t.addChar(st, ch, id)
			i += n
		}
	}
	if st.unkSize > 0 {
		st.addSymbol(t.unkID, st.unkSize)
		st.unkSize = 0
	}
	if len(st.syms) > 0 {
		st.syms[len(st.syms)-1].next = -1
	}
	t.mergeSymbols(st)
	start := len(st.ids)
	for _, s := range st.syms {
		if s.size != 0 {
			st.ids = append(st.ids, s.id)
		}
	}
	if cacheable {
		t.remember(st, word, st.ids[start:])
	}
}

// remember caches the ids of a word, emptying a full cache first. The key
// is copied so that the cache never pins the caller's text.
func (t *Tokenizer) remember(st *encState, word string, ids []int32) {
	if len(st.cache) >= maxCacheEntries {
		clear(st.cache)
	}
	st.cache[strings.Clone(word)] = append([]int32(nil), ids...)
}

// mergeSymbols applies the merges in the reference order: lowest rank
// first, ties to the leftmost position; a queued merge is stale (dropped)
// when its pair no longer produces the same id.
func (t *Tokenizer) mergeSymbols(st *encState) {
	syms := st.syms
	if len(syms) < 2 {
		return
	}
	h := st.heap[:0]
	for i := 0; i+1 < len(syms); i++ {
		if m, ok := t.merges.get(syms[i].id, syms[i+1].id); ok {
			h = append(h, mergeItem{rank: m.rank, pos: int32(i), newID: m.newID, left: syms[i].id, right: syms[i+1].id})
		}
	}
	h.init()
	for len(h) > 0 {
		top := h.pop()
		cur := &syms[top.pos]
		if cur.size == 0 || cur.next < 0 {
			continue
		}
		nextPos := cur.next
		right := syms[nextPos]
		if cur.id != top.left || right.id != top.right {
			// The pair changed since it was queued: the entry still
			// applies if the new pair merges to the same id.
			if m, ok := t.merges.get(cur.id, right.id); !ok || m.newID != top.newID {
				continue
			}
		}
		cur.id = top.newID
		cur.size += right.size
		cur.next = right.next
		syms[nextPos].size = 0
		if right.next >= 0 {
			syms[right.next].prev = top.pos
		}
		if cur.prev >= 0 {
			l := syms[cur.prev].id
			if m, ok := t.merges.get(l, cur.id); ok {
				h.push(mergeItem{rank: m.rank, pos: cur.prev, newID: m.newID, left: l, right: cur.id})
			}
		}
		if cur.next >= 0 {
			r := syms[cur.next].id
			if m, ok := t.merges.get(cur.id, r); ok {
				h.push(mergeItem{rank: m.rank, pos: top.pos, newID: m.newID, left: cur.id, right: r})
			}
		}
	}
	st.heap = h
}
