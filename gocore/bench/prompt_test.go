package bench

import (
	"reflect"
	"strings"
	"testing"

	"github.com/genbench/genbench/gocore/tokenizer"
)

// wordEncoder is a stand-in tokenizer: one id per word (its length), with
// an optional BOS id added in front.
type wordEncoder struct{ bos int32 }

func (w wordEncoder) Encode(text string, addSpecial bool) []int32 {
	var ids []int32
	if addSpecial && w.bos >= 0 {
		ids = append(ids, w.bos)
	}
	for _, f := range strings.Fields(text) {
		ids = append(ids, int32(len(f)))
	}
	return ids
}

func TestPromptIDsWithTokenizer(t *testing.T) {
	body := wordEncoder{bos: -1}.Encode(PromptTextBody, false)
	if len(body) < 100 {
		t.Fatalf("prompt text has only %d words", len(body))
	}
	// BOS first, then the body, repeated and cut to exactly n.
	ids, src := promptIDs(wordEncoder{bos: 999}, 0, 300, 42)
	if src != PromptText || len(ids) != 300 || ids[0] != 999 {
		t.Fatalf("len %d source %s first %d", len(ids), src, ids[0])
	}
	want := append([]int32{999}, body...)
	want = append(want, body...)
	want = append(want, body...)
	if !reflect.DeepEqual(ids, want[:300]) {
		t.Errorf("ids differ from BOS + repeated body")
	}
	// A tokenizer that adds nothing (like Qwen3's): the body alone.
	ids, _ = promptIDs(wordEncoder{bos: -1}, 0, 5, 0)
	if !reflect.DeepEqual(ids, body[:5]) {
		t.Errorf("no-BOS prompt = %v, want %v", ids, body[:5])
	}
	// n = 1 is just BOS.
	ids, _ = promptIDs(wordEncoder{bos: 7}, 0, 1, 0)
	if !reflect.DeepEqual(ids, []int32{7}) {
		t.Errorf("1-token prompt = %v", ids)
	}
}

func TestPromptIDsSeeded(t *testing.T) {
	a, src := promptIDs(nil, 1000, 64, 42)
	b, _ := promptIDs(nil, 1000, 64, 42)
	c, _ := promptIDs(nil, 1000, 64, 43)
	if src != PromptRandom || len(a) != 64 {
		t.Fatalf("source %s len %d", src, len(a))
	}
	if !reflect.DeepEqual(a, b) {
		t.Error("same seed gave different prompts")
	}
	if reflect.DeepEqual(a, c) {
		t.Error("different seeds gave the same prompt")
	}
	distinct := map[int32]bool{}
	for _, id := range a {
		if id < 0 || id >= 1000 {
			t.Fatalf("id %d outside the vocabulary", id)
		}
		distinct[id] = true
	}
	if len(distinct) < 50 {
		t.Errorf("only %d distinct ids in 64 draws from 1000", len(distinct))
	}
	// A shorter prompt is a prefix of a longer one with the same seed.
	s, _ := promptIDs(nil, 1000, 16, 42)
	if !reflect.DeepEqual(s, a[:16]) {
		t.Error("16-token prompt is not a prefix of the 64-token prompt")
	}
}

func TestSpecialPrefix(t *testing.T) {
	if p := specialPrefix([]int32{1, 5, 6}, []int32{5, 6}); !reflect.DeepEqual(p, []int32{1}) {
		t.Errorf("prefix = %v", p)
	}
	if p := specialPrefix([]int32{5, 6, 2}, []int32{5, 6}); len(p) != 0 {
		t.Errorf("suffix-only prefix = %v", p)
	}
}

// With the embedded tiny tokenizer (Llama 3 style, BOS 508): BOS, then
// ids that decode to the fixed text repeated, cut at a token boundary.
func TestPromptIDsTinyTokenizer(t *testing.T) {
	tok := tokenizer.Tiny()
	for _, n := range []int{1, 2, 64, 1024} {
		ids, src := PromptIDs(tok, 512, n, 42)
		if src != PromptText || len(ids) != n || ids[0] != 508 {
			t.Fatalf("n=%d: source %s len %d first %d", n, src, len(ids), ids[0])
		}
		text := tok.Decode(ids[1:], false)
		if !strings.HasPrefix(strings.Repeat(PromptTextBody, 1+n/32), text) {
			t.Errorf("n=%d: decoded prompt is not a prefix of the repeated text: %q", n, text)
		}
	}
	ids, src := PromptIDs(nil, 512, 8, 42)
	if src != PromptRandom || len(ids) != 8 {
		t.Errorf("nil tokenizer: %s %v", src, ids)
	}
}
