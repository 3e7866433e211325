package tokenizer

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"
)

// gpt2Bytes is GPT-2's bytes_to_unicode, written out independently of the
// package's table: printable Latin-1 bytes map to themselves, the rest to
// U+0100.. in byte order.
func gpt2Bytes() map[byte]rune {
	m := map[byte]rune{}
	var rest []int
	for b := 0; b < 256; b++ {
		printable := ('!' <= b && b <= '~') || (0xA1 <= b && b <= 0xAC) || (0xAE <= b && b <= 0xFF)
		if printable {
			m[byte(b)] = rune(b)
		} else {
			rest = append(rest, b)
		}
	}
	for i, b := range rest {
		m[byte(b)] = rune(0x100 + i)
	}
	return m
}

func TestTinyLayout(t *testing.T) {
	tok := Tiny()
	if tok.VocabSize() != 512 {
		t.Fatalf("VocabSize = %d, want 512", tok.VocabSize())
	}
	g := gpt2Bytes()
	for b := 0; b < 256; b++ {
		s, ok := tok.TokenString(int32(b))
		if !ok || s != string(g[byte(b)]) {
			t.Errorf("id %d = %q, want the byte token %q", b, s, string(g[byte(b)]))
		}
	}
	seen := map[string]bool{}
	for id := int32(256); id < 508; id++ {
		s, ok := tok.TokenString(id)
		if !ok || utf8.RuneCountInString(s) < 2 || seen[s] {
			t.Errorf("id %d = %q: want a distinct merged token", id, s)
		}
		seen[s] = true
		if tok.IsSpecial(id) {
			t.Errorf("id %d is special", id)
		}
	}
	for i, name := range []string{"<|begin_of_text|>", "<|end_of_text|>", "<|eot_id|>", "<|pad|>"} {
		id := int32(508 + i)
		if s, ok := tok.TokenString(id); !ok || s != name || !tok.IsSpecial(id) {
			t.Errorf("id %d = %q special=%v, want special %q", id, s, tok.IsSpecial(id), name)
		}
		if got, ok := tok.TokenID(name); !ok || got != id {
			t.Errorf("TokenID(%q) = %d, %v; want %d", name, got, ok, id)
		}
	}
	if bos, ok := tok.BOS(); !ok || bos != 508 {
		t.Errorf("BOS = %d, %v; want 508", bos, ok)
	}
	if eos := tok.EOS(); !slices.Equal(eos, []int32{510}) {
		t.Errorf("EOS = %v, want [510]", eos)
	}
	if _, ok := tok.TokenString(512); ok {
		t.Error("TokenString(512) found a token")
	}
	if _, ok := tok.TokenString(-1); ok {
		t.Error("TokenString(-1) found a token")
	}
	// TinyFiles round-trips to the same tokenizer.
	tj, cj := TinyFiles()
	t2, err := LoadBytes(tj, cj)
	if err != nil {
		t.Fatal(err)
	}
	text := "Hello <|eot_id|> world\n\tfunc main() {}"
	if a, b := tok.Encode(text, true), t2.Encode(text, true); !slices.Equal(a, b) {
		t.Errorf("TinyFiles tokenizer encodes %v, Tiny %v", b, a)
	}
	// The files on disk load with Load.
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "tokenizer.json"), tj, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "tokenizer_config.json"), cj, 0o644); err != nil {
		t.Fatal(err)
	}
	t3, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if eos := t3.EOS(); !slices.Equal(eos, []int32{510}) {
		t.Errorf("loaded EOS = %v, want [510]", eos)
	}
}

// edit returns the tiny tokenizer.json with f applied to its decoded form.
func edit(t *testing.T, f func(m map[string]any)) []byte {
	t.Helper()
	tj, _ := TinyFiles()
	var m map[string]any
	if err := json.Unmarshal(tj, &m); err != nil {
		t.Fatal(err)
	}
	f(m)
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestLoadErrors(t *testing.T) {
	model := func(m map[string]any) map[string]any { return m["model"].(map[string]any) }
	cases := []struct {
		name   string
		tokJS  []byte
		cfgJS  []byte
		substr []string
	}{
		{"not json", []byte("{"), nil, []string{"tokenizer.json", "not valid JSON"}},
		{"no model", edit(t, func(m map[string]any) { delete(m, "model") }), nil, []string{"tokenizer.json", `missing "model"`}},
		{"wordpiece", edit(t, func(m map[string]any) { model(m)["type"] = "WordPiece" }), nil,
			[]string{"model", `type "WordPiece" is not supported (supported: BPE)`}},
		{"whitespace pretok", edit(t, func(m map[string]any) { m["pre_tokenizer"] = map[string]any{"type": "Whitespace"} }), nil,
			[]string{`tokenizer.json: pre_tokenizer: type "Whitespace" is not supported (supported: Sequence, Split, ByteLevel)`}},
		{"unknown regex", edit(t, func(m map[string]any) {
			m["pre_tokenizer"] = map[string]any{"type": "Split", "pattern": map[string]any{"Regex": `\w+`}, "behavior": "Isolated", "invert": false}
		}), nil, []string{"pre_tokenizer", `Split regex "\\w+" is not supported`}},
		{"bad behavior", edit(t, func(m map[string]any) {
			m["pre_tokenizer"] = map[string]any{"type": "Split", "pattern": map[string]any{"String": " "}, "behavior": "Sideways"}
		}), nil, []string{"pre_tokenizer", `Split behavior "Sideways"`}},
		{"bytelevel not last", edit(t, func(m map[string]any) {
			m["pre_tokenizer"] = map[string]any{"type": "Sequence", "pretokenizers": []any{
				map[string]any{"type": "ByteLevel", "add_prefix_space": false, "use_regex": false},
				map[string]any{"type": "Split", "pattern": map[string]any{"String": " "}, "behavior": "Isolated"}}}
		}), nil, []string{"pre_tokenizer: Sequence[0]: ByteLevel is supported only as the last pre-tokenizer"}},
		{"lowercase", edit(t, func(m map[string]any) { m["normalizer"] = map[string]any{"type": "Lowercase"} }), nil,
			[]string{"normalizer", `type "Lowercase" is not supported`}},
		{"regex replace", edit(t, func(m map[string]any) {
			m["normalizer"] = map[string]any{"type": "Replace", "pattern": map[string]any{"Regex": " +"}, "content": " "}
		}), nil, []string{"normalizer", "Regex pattern"}},
		{"roberta", edit(t, func(m map[string]any) { m["post_processor"] = map[string]any{"type": "RobertaProcessing"} }), nil,
			[]string{"post_processor", `type "RobertaProcessing" is not supported`}},
		{"template unknown token", edit(t, func(m map[string]any) {
			m["post_processor"] = map[string]any{"type": "TemplateProcessing", "single": []any{
				map[string]any{"SpecialToken": map[string]any{"id": "<s>"}}, map[string]any{"Sequence": map[string]any{"id": "A"}}},
				"special_tokens": map[string]any{}}
		}), nil, []string{"post_processor", `"<s>" is missing from special_tokens`}},
		{"wordpiece decoder", edit(t, func(m map[string]any) { m["decoder"] = map[string]any{"type": "WordPiece"} }), nil,
			[]string{"decoder", `type "WordPiece" is not supported`}},
		{"no type", edit(t, func(m map[string]any) { m["decoder"] = map[string]any{"kind": "ByteLevel"} }), nil,
			[]string{"decoder", `missing "type"`}},
		{"merge out of vocab", edit(t, func(m map[string]any) {
			model(m)["merges"] = append(model(m)["merges"].([]any), []any{"zzz", "q"})
		}), nil, []string{"model", `token "zzz" is not in the vocab`}},
		{"bad merge", edit(t, func(m map[string]any) { model(m)["merges"] = []any{"a b c"} }), nil,
			[]string{"model", "not two tokens"}},
		{"unk missing", edit(t, func(m map[string]any) { model(m)["unk_token"] = "<unk>" }), nil,
			[]string{"model", `unk_token "<unk>" is not in the vocab`}},
		{"sparse ids", edit(t, func(m map[string]any) { model(m)["vocab"].(map[string]any)["Ġzzz"] = 100000000 }), nil,
			[]string{"model", "id 100000000 is too large"}},
		{"dropout", edit(t, func(m map[string]any) { model(m)["dropout"] = 0.1 }), nil, []string{"model", "dropout"}},
		{"truncation", edit(t, func(m map[string]any) { m["truncation"] = map[string]any{"max_length": 8} }), nil,
			[]string{"truncation is not supported"}},
		{"added without id", edit(t, func(m map[string]any) { m["added_tokens"] = []any{map[string]any{"content": "x"}} }), nil,
			[]string{"added_tokens", "has no id"}},
		{"config not json", nil, []byte("{x"), []string{"tokenizer_config.json", "not valid JSON"}},
		{"config unknown eos", nil, []byte(`{"eos_token": "<|nope|>"}`), []string{"tokenizer_config.json", `eos_token "<|nope|>" is not a token`}},
		{"config eos type", nil, []byte(`{"eos_token": 5}`), []string{"tokenizer_config.json", "eos_token"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tj := c.tokJS
			if tj == nil {
				tj, _ = TinyFiles()
			}
			_, err := LoadBytes(tj, c.cfgJS)
			if err == nil {
				t.Fatal("LoadBytes succeeded, want an error")
			}
			for _, s := range c.substr {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not mention %q", err, s)
				}
			}
		})
	}
	// Missing files name the path.
	dir := t.TempDir()
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), filepath.Join(dir, "tokenizer.json")) {
		t.Errorf("Load(empty dir) error = %v, want one naming tokenizer.json", err)
	}
	// The config object form {"content": ...} is accepted.
	tj, _ := TinyFiles()
	tok, err := LoadBytes(tj, []byte(`{"eos_token": {"__type": "AddedToken", "content": "<|end_of_text|>"}}`))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(tok.EOS(), []int32{509}) {
		t.Errorf("EOS = %v, want [509]", tok.EOS())
	}
}

// streamAll decodes ids through a StreamDecoder, checking every piece.
func streamAll(t *testing.T, tok *Tokenizer, ids []int32, skip bool) string {
	t.Helper()
	d := tok.NewStreamDecoder(skip)
	var sb strings.Builder
	for _, id := range ids {
		p := d.Add(id)
		if !utf8.ValidString(p) {
			t.Fatalf("Add returned invalid UTF-8 %q", p)
		}
		sb.WriteString(p)
	}
	sb.WriteString(d.Flush())
	return sb.String()
}

func TestStreamDecoder(t *testing.T) {
	corpus := loadCorpus(t)
	for _, name := range append(goldenNames, variantNames(t)...) {
		t.Run(name, func(t *testing.T) {
			g := loadGolden(t, name)
			tok := loadNamed(t, name)
			bad := 0
			for i, c := range g.Cases {
				for _, skip := range []bool{false, true} {
					want := c.Decoded
					if skip {
						want = c.DecodedSkip
					}
					if got := streamAll(t, tok, c.IDsSpecial, skip); got != want {
						bad++
						if bad <= 5 {
							t.Errorf("case %d %q skip=%v: streamed %q, reference decode %q", i, clip(corpus[i]), skip, got, want)
						}
					}
				}
			}
			// A character split over several byte tokens is held back until
			// complete, and never emitted as U+FFFD.
			ids := tok.Encode("héllo 😀 世界", false)
			d := tok.NewStreamDecoder(false)
			for _, id := range ids {
				if p := d.Add(id); strings.ContainsRune(p, utf8.RuneError) {
					t.Errorf("Add emitted %q", p)
				}
			}
		})
	}
}

func TestJSONL(t *testing.T) {
	corpus := loadCorpus(t)[:200]
	g := loadGolden(t, "tiny")
	tok := Tiny()
	var in bytes.Buffer
	for _, s := range corpus {
		b, _ := json.Marshal(s)
		in.Write(b)
		in.WriteByte('\n')
	}
	for _, special := range []bool{true, false} {
		var out bytes.Buffer
		if err := EncodeJSONL(bytes.NewReader(in.Bytes()), &out, tok, special); err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
		if len(lines) != len(corpus) {
			t.Fatalf("%d output lines for %d inputs", len(lines), len(corpus))
		}
		for i, l := range lines {
			var ids []int32
			if err := json.Unmarshal([]byte(l), &ids); err != nil {
				t.Fatalf("line %d: %v", i+1, err)
			}
			want := g.Cases[i].IDs
			if special {
				want = g.Cases[i].IDsSpecial
			}
			if !slices.Equal(ids, want) && !(len(ids) == 0 && len(want) == 0) {
				t.Errorf("line %d: %v, reference %v", i+1, ids, want)
			}
		}
	}
	for _, bad := range []string{"\"ok\"\n\"ok\"\n[1,2]\n", "\"ok\"\n\"ok\"\n\"unterminated\n", "\"ok\"\n\"ok\"\n\n"} {
		err := EncodeJSONL(strings.NewReader(bad), &bytes.Buffer{}, tok, true)
		if err == nil || !strings.Contains(err.Error(), "line 3") {
			t.Errorf("EncodeJSONL(%q) error = %v, want one naming line 3", bad, err)
		}
	}
	// DecodeJSON against the reference decode.
	for i := 0; i < 50; i++ {
		c := g.Cases[i]
		b, _ := json.Marshal(c.IDsSpecial)
		for _, skip := range []bool{false, true} {
			var out bytes.Buffer
			if err := DecodeJSON(bytes.NewReader(b), &out, tok, skip); err != nil {
				t.Fatal(err)
			}
			want := c.Decoded
			if skip {
				want = c.DecodedSkip
			}
			if out.String() != want {
				t.Errorf("DecodeJSON(%s) = %q, reference %q", b, out.String(), want)
			}
		}
	}
	for _, bad := range []string{"", "[1,", `["a"]`, "[1] [2]", "[512]", "[-1]", "{}"} {
		if err := DecodeJSON(strings.NewReader(bad), &bytes.Buffer{}, tok, false); err == nil {
			t.Errorf("DecodeJSON(%q) succeeded, want an error", bad)
		}
	}
}

func TestConcurrentEncode(t *testing.T) {
	corpus := loadCorpus(t)
	g := loadGolden(t, "tiny")
	tok := Tiny()
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for k := range corpus {
				i := (k*7 + w*131) % len(corpus)
				if got := tok.Encode(corpus[i], true); !slices.Equal(got, g.Cases[i].IDsSpecial) {
					errs <- clip(corpus[i])
					return
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for s := range errs {
		t.Errorf("concurrent Encode(%q) differs from the reference", s)
	}
}
