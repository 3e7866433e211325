package tokenizer

import (
	"strings"
	"unicode/utf8"
)

// mergeMap maps a pair of token ids to the merge's rank, and a rank to the
// merged id. The pairs are in an open-addressing hash table of 8-byte slots,
// each the pair packed with its rank (plus one, so that 0 marks an empty
// slot): the table of a large vocabulary is half the size it would be with
// the merged id alongside, and lookups miss the cache less often.
type mergeMap struct {
	slots    []uint64
	shift    uint    // 64 - log2(len(slots))
	idBits   uint    // bits of one id in the packed pair
	rankBits uint    // low bits of a slot holding rank+1
	newIDs   []int32 // rank -> merged id
}

// newMergeMap sizes the table for n merges of ids below maxID+1 at a load
// factor of at most 0.6; ok is false when a pair and a rank do not fit in
// 64 bits.
func newMergeMap(n int, maxID int32) (m mergeMap, ok bool) {
	for m.idBits = 1; m.idBits < 32 && int64(1)<<m.idBits <= int64(maxID); m.idBits++ {
	}
	if 2*m.idBits >= 64 {
		return m, false
	}
	m.rankBits = 64 - 2*m.idBits
	if uint64(n)+1 >= uint64(1)<<m.rankBits {
		return m, false
	}
	size, shift := 16, uint(60)
	for size*3 < 5*n {
		size <<= 1
		shift--
	}
	m.slots, m.shift = make([]uint64, size), shift
	m.newIDs = make([]int32, n)
	return m, true
}

func (m *mergeMap) pair(a, b int32) uint64 { return uint64(uint32(a))<<m.idBits | uint64(uint32(b)) }

func (m *mergeMap) slot(p uint64) int { return int(((p + 1) * 0x9E3779B97F4A7C15) >> m.shift) }

// put stores a merge (ids within the map's maxID, rank below its n); a later
// merge of the same pair replaces an earlier one.
func (m *mergeMap) put(a, b int32, rank uint32, newID int32) {
	p := m.pair(a, b)
	v := p<<m.rankBits | (uint64(rank) + 1)
	mask := len(m.slots) - 1
	for i := m.slot(p); ; i = (i + 1) & mask {
		if s := m.slots[i]; s == 0 || s>>m.rankBits == p {
			m.slots[i] = v
			m.newIDs[rank] = newID
			return
		}
	}
}

// rank returns the rank of the merge of a and b.
func (m *mergeMap) rank(a, b int32) (uint32, bool) {
	if len(m.slots) == 0 {
		return 0, false
	}
	p := m.pair(a, b)
	return m.probe(p, m.slot(p))
}

// probe looks for pair p from slot i on.
func (m *mergeMap) probe(p uint64, i int) (uint32, bool) {
	mask := len(m.slots) - 1
	for ; ; i = (i + 1) & mask {
		s := m.slots[i]
		if s == 0 {
			return 0, false
		}
		if s>>m.rankBits == p {
			return uint32(s&(1<<m.rankBits-1)) - 1, true
		}
	}
}

// rank2 looks up two pairs at once, so that their first probes, which
// usually miss the cache, overlap.
func (m *mergeMap) rank2(a, b, c, d int32) (r1 uint32, ok1 bool, r2 uint32, ok2 bool) {
	if len(m.slots) == 0 {
		return
	}
	p, q := m.pair(a, b), m.pair(c, d)
	i, j := m.slot(p), m.slot(q)
	s, t := m.slots[i], m.slots[j]
	mask := len(m.slots) - 1
	if s != 0 {
		if s>>m.rankBits == p {
			r1, ok1 = uint32(s&(1<<m.rankBits-1))-1, true
		} else {
			r1, ok1 = m.probe(p, (i+1)&mask)
		}
	}
	if t != 0 {
		if t>>m.rankBits == q {
			r2, ok2 = uint32(t&(1<<m.rankBits-1))-1, true
		} else {
			r2, ok2 = m.probe(q, (j+1)&mask)
		}
	}
	return
}

// symbol is one element of a word being merged, in a doubly linked list
// over the word's initial characters.
type symbol struct {
	id         int32
	prev, next int32
	size       int32  // bytes covered; 0 once merged into its left neighbour
	gen        uint32 // bumped whenever the pair starting here changes
}

// mergeItem is a candidate merge of the symbol at pos with its right
// neighbour; key is rank<<32 | pos, so the queue pops the lowest rank
// first, then the lowest pos. gen is the symbol's gen when queued.
type mergeItem struct {
	key uint64
	gen uint32
}

func (it mergeItem) rank() uint32 { return uint32(it.key >> 32) }

func (it mergeItem) pos() int32 { return int32(uint32(it.key)) }

type mergeHeap []mergeItem

func (h *mergeHeap) push(it mergeItem) {
	*h = append(*h, it)
	q := *h
	i := len(q) - 1
	for i > 0 {
		p := (i - 1) / 2
		if it.key >= q[p].key {
			break
		}
		q[i] = q[p]
		i = p
	}
	q[i] = it
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
	if i >= n {
		return
	}
	it := q[i]
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		m := l
		if r := l + 1; r < n && q[r].key < q[l].key {
			m = r
		}
		if q[m].key >= it.key {
			break
		}
		q[i] = q[m]
		i = m
	}
	q[i] = it
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
	mm := &t.merges
	h := st.heap[:0]
	for i := 0; i+1 < len(syms); i++ {
		if r, ok := mm.rank(syms[i].id, syms[i+1].id); ok {
			h = append(h, mergeItem{key: uint64(r)<<32 | uint64(i)})
		}
	}
	h.init()
	for len(h) > 0 {
		top := h.pop()
		pos := top.pos()
		cur := &syms[pos]
		if cur.size == 0 || cur.next < 0 {
			continue
		}
		nextPos := cur.next
		right := syms[nextPos]
		newID := mm.newIDs[top.rank()]
		if cur.gen != top.gen {
			// The pair changed since it was queued: the entry still
			// applies if the new pair merges to the same id.
			if r, ok := mm.rank(cur.id, right.id); !ok || mm.newIDs[r] != newID {
				continue
			}
		}
		cur.id = newID
		cur.size += right.size
		cur.next = right.next
		cur.gen++
		syms[nextPos].size = 0
		if right.next >= 0 {
			syms[right.next].prev = pos
		}
		switch {
		case cur.prev >= 0 && cur.next >= 0:
			p := &syms[cur.prev]
			p.gen++
			rl, okl, rr, okr := mm.rank2(p.id, cur.id, cur.id, syms[cur.next].id)
			if okl {
				h.push(mergeItem{key: uint64(rl)<<32 | uint64(uint32(cur.prev)), gen: p.gen})
			}
			if okr {
				h.push(mergeItem{key: uint64(rr)<<32 | uint64(uint32(pos)), gen: cur.gen})
			}
		case cur.prev >= 0:
			p := &syms[cur.prev]
			p.gen++
			if r, ok := mm.rank(p.id, cur.id); ok {
				h.push(mergeItem{key: uint64(r)<<32 | uint64(uint32(cur.prev)), gen: p.gen})
			}
		case cur.next >= 0:
			if r, ok := mm.rank(cur.id, syms[cur.next].id); ok {
				h.push(mergeItem{key: uint64(r)<<32 | uint64(uint32(pos)), gen: cur.gen})
			}
		}
	}
	st.heap = h
}
