package tokenizer

import (
	"bytes"
	"encoding/json"
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

// FuzzEncodeVariants fuzzes the non-byte-level and split variants
// (testdata/variants: chars, the NFD/NFKC/NFKD normalisers, every split
// behaviour, added tokens): Encode never panics and gives ids in range,
// the same ids twice, Decode gives valid UTF-8, and the streamed decode
// equals the whole decode.
func FuzzEncodeVariants(f *testing.F) {
	names := variantNames(f)
	toks := make([]*Tokenizer, len(names))
	for i, n := range names {
		toks[i] = loadNamed(f, n)
	}
	for i, s := range loadCorpus(f) {
		f.Add(uint8(i), s)
	}
	f.Add(uint8(0), "\xff\xfe invalid \xc3")
	f.Add(uint8(3), "ﬁ Å Å ẛ̣ ①")
	f.Fuzz(func(t *testing.T, which uint8, s string) {
		tok := toks[int(which)%len(toks)]
		name := names[int(which)%len(toks)]
		for _, special := range []bool{false, true} {
			ids := tok.Encode(s, special)
			for _, id := range ids {
				if id < 0 || int(id) >= tok.VocabSize() {
					t.Fatalf("%s: Encode(%q) gave id %d outside [0, %d)", name, s, id, tok.VocabSize())
				}
			}
			if again := tok.Encode(s, special); !slicesEqual(again, ids) {
				t.Fatalf("%s: Encode(%q) is not deterministic: %v then %v", name, s, ids, again)
			}
			for _, skip := range []bool{false, true} {
				got := tok.Decode(ids, skip)
				if !utf8.ValidString(got) {
					t.Fatalf("%s: Decode gave invalid UTF-8 %q", name, got)
				}
				d := tok.NewStreamDecoder(skip)
				var sb strings.Builder
				for _, id := range ids {
					sb.WriteString(d.Add(id))
				}
				sb.WriteString(d.Flush())
				// The documented exception: with invalid bytes (U+FFFD in the
				// text) a later byte can turn text already streamed into U+FFFD
				// (ByteFallback decodes an invalid run of bytes so).
				if sb.String() != got && !strings.Contains(got, "\uFFFD") {
					t.Fatalf("%s: streamed decode %q, whole decode %q (of %q)", name, sb.String(), got, s)
				}
			}
		}
	})
}

func slicesEqual(a, b []int32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// FuzzTokenizeStdin fuzzes what "genbench tokenize" reads on stdin, with
// the tiny tokenizer: --jsonl (EncodeJSONL: one JSON string per line, one
// array of ids out per line) and --decode (DecodeJSON: one JSON array of
// ids). No panic; an error has a message; --jsonl output has one line per
// input line, each the ids Encode gives for that string.
func FuzzTokenizeStdin(f *testing.F) {
	for _, s := range []string{"\"hello\"\n\"world\"\n", "\"ok\"\nnot json\n", "", "\"\\u00e9\\ud83d\\ude00\"", "[1,2,3]", "[1,-5,99999999]", "[]", "[1,2] [3]", "{}"} {
		f.Add([]byte(s))
	}
	tok := Tiny()
	f.Fuzz(func(t *testing.T, in []byte) {
		var out bytes.Buffer
		if err := EncodeJSONL(bytes.NewReader(in), &out, tok, true); err != nil {
			if err.Error() == "" {
				t.Fatal("empty error")
			}
		} else {
			inLines := strings.Split(strings.TrimSuffix(strings.ReplaceAll(string(in), "\r\n", "\n"), "\n"), "\n")
			outLines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
			if len(in) > 0 && len(inLines) == len(outLines) {
				for i, l := range inLines {
					var s string
					if json.Unmarshal([]byte(l), &s) != nil {
						continue
					}
					want, _ := json.Marshal(tok.Encode(s, true))
					if outLines[i] != string(want) {
						t.Fatalf("line %d %q: %s, want %s", i+1, l, outLines[i], want)
					}
				}
			}
		}
		out.Reset()
		if err := DecodeJSON(bytes.NewReader(in), &out, tok, false); err != nil && err.Error() == "" {
			t.Fatal("empty error")
		}
	})
}
