package tokenizer

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// fuzzRoundTrip checks that Encode never panics, that every id is in range,
// that decoding never panics, and — for valid UTF-8 and a tokenizer that
// can represent every byte — that decode(encode(s)) == s, also when
// streamed.
func fuzzRoundTrip(f *testing.F, name string, lossless func(s string) bool) {
	for _, s := range loadCorpus(f) {
		f.Add(s)
	}
	f.Add("\xff\xfe invalid \xc3")
	tok := loadNamed(f, name)
	f.Fuzz(func(t *testing.T, s string) {
		for _, special := range []bool{false, true} {
			ids := tok.Encode(s, special)
			for _, id := range ids {
				if id < 0 || int(id) >= tok.VocabSize() {
					t.Fatalf("Encode(%q) gave id %d outside [0, %d)", s, id, tok.VocabSize())
				}
			}
			got := tok.Decode(ids, false)
			if !utf8.ValidString(got) {
				t.Fatalf("Decode gave invalid UTF-8 %q", got)
			}
			if special || !utf8.ValidString(s) || !lossless(s) {
				continue
			}
			if got != s {
				t.Fatalf("Decode(Encode(%q)) = %q", s, got)
			}
			d := tok.NewStreamDecoder(false)
			var sb strings.Builder
			for _, id := range ids {
				sb.WriteString(d.Add(id))
			}
			sb.WriteString(d.Flush())
			if sb.String() != s {
				t.Fatalf("streamed decode of Encode(%q) = %q", s, sb.String())
			}
		}
	})
}

func always(string) bool { return true }

func FuzzEncodeTiny(f *testing.F)   { fuzzRoundTrip(f, "tiny", always) }
func FuzzEncodeLlama3(f *testing.F) { fuzzRoundTrip(f, "llama3", always) }
func FuzzEncodeQwen3(f *testing.F) {
	// NFC changes text that is not already normalized.
	fuzzRoundTrip(f, "qwen3", func(s string) bool { return unicodeNorm{norm.NFC}.normalize(s) == s })
}

// Gemma 3 writes spaces as U+2581 and decodes U+2581 as a space, so a
// literal U+2581 does not round-trip.
func FuzzEncodeGemma3(f *testing.F) {
	fuzzRoundTrip(f, "gemma3", func(s string) bool { return !strings.Contains(s, "\u2581") })
}

// FuzzLoadBytes feeds arbitrary tokenizer.json documents (seeded with the
// tiny and variant files): loading must fail with an error or give a
// tokenizer that encodes and decodes without panicking.
func FuzzLoadBytes(f *testing.F) {
	tj, cj := TinyFiles()
	f.Add(tj, cj)
	for _, name := range variantNames(f) {
		data, err := os.ReadFile(filepath.Join("testdata", "variants", strings.TrimPrefix(name, "variant_"), "tokenizer.json"))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data, []byte(nil))
	}
	f.Add([]byte(`{"model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2}, "merges": ["a b"]}}`), []byte(`{"eos_token": "ab"}`))
	f.Add([]byte(`{"model": {"type": "BPE", "vocab": {"a": 99999999999}, "merges": []}}`), []byte(nil))
	f.Add([]byte(`{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": [["a"]]}}`), []byte(nil))
	f.Add([]byte(`{"added_tokens": [{"id": 5, "content": "x"}], "model": {"type": "BPE", "vocab": {}, "merges": []}, "post_processor": {"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "x"}}, {"Sequence": {"id": "A"}}], "special_tokens": {"x": {"ids": [7]}}}}`), []byte(nil))
	f.Fuzz(func(t *testing.T, tokJSON, cfgJSON []byte) {
		tok, err := LoadBytes(tokJSON, cfgJSON)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error message")
			}
			return
		}
		for _, s := range []string{"", "Hello world", " x  y\n\n", "\xff\x00é😀<|eot_id|>"} {
			ids := tok.Encode(s, true)
			_ = tok.Decode(ids, false)
			_ = tok.Decode(ids, true)
			d := tok.NewStreamDecoder(false)
			for _, id := range ids {
				d.Add(id)
			}
			d.Flush()
		}
		_ = tok.Decode([]int32{-1, 0, 1, 2, 1 << 30}, false)
	})
}
