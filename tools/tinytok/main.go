// Command tinytok builds the embedded tiny tokenizer of
// gocore/tokenizer/tiny: a byte-level BPE in the Llama 3 format with exactly
// 512 ids — 0-255 the byte tokens (GPT-2 byte-to-unicode strings, in byte
// order), 256-507 tokens learned by BPE merges, 508 <|begin_of_text|> (BOS),
// 509 <|end_of_text|>, 510 <|eot_id|> (EOS), 511 <|pad|>.
//
// Training is deterministic: words come from the Llama 3 pre-tokenizer over
// the first -bytes of the training text (by default the committed ~1 MB
// English + Go text gocore/tokenizer/testdata/bench.txt.gz); each step merges
// the most frequent adjacent pair, ties broken by the smaller (left, right)
// strings.
//
//	go run ./tools/tinytok [-in FILE] [-bytes N] [-out DIR]
package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/genbench/genbench/gocore/tokenizer"
)

const (
	numMerges = 252
	preRegex  = `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
)

var specials = []string{"<|begin_of_text|>", "<|end_of_text|>", "<|eot_id|>", "<|pad|>"}

func main() {
	in := flag.String("in", "gocore/tokenizer/testdata/bench.txt.gz", "training text (.gz is decompressed)")
	n := flag.Int("bytes", 300000, "train on the first N bytes (cut at a line break)")
	out := flag.String("out", "gocore/tokenizer/tiny", "output directory")
	flag.Parse()
	if err := run(*in, *n, *out); err != nil {
		fmt.Fprintln(os.Stderr, "tinytok:", err)
		os.Exit(1)
	}
}

func readText(path string, n int) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	if strings.HasSuffix(path, ".gz") {
		zr, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			return "", fmt.Errorf("%s: %w", path, err)
		}
		if data, err = io.ReadAll(zr); err != nil {
			return "", fmt.Errorf("%s: %w", path, err)
		}
	}
	if len(data) > n {
		data = data[:n]
		if k := bytes.LastIndexByte(data, '\n'); k > 0 {
			data = data[:k+1]
		}
	}
	return string(data), nil
}

// byteTokens returns GPT-2's byte-to-unicode strings in byte order.
func byteTokens() []string {
	toks := make([]string, 256)
	next := 0
	for b := 0; b < 256; b++ {
		if (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF) {
			toks[b] = string(rune(b))
		} else {
			toks[b] = string(rune(256 + next))
			next++
		}
	}
	return toks
}

type word struct {
	syms  []string
	count int
}

type pair struct{ a, b string }

func train(words []word, have map[string]bool) (merges []pair, newTokens []string) {
	for len(newTokens) < numMerges {
		counts := map[pair]int{}
		for _, w := range words {
			for i := 0; i+1 < len(w.syms); i++ {
				counts[pair{w.syms[i], w.syms[i+1]}] += w.count
			}
		}
		var best pair
		bestN := 0
		for p, c := range counts {
			if c > bestN || (c == bestN && (p.a < best.a || (p.a == best.a && p.b < best.b))) {
				best, bestN = p, c
			}
		}
		if bestN == 0 {
			break
		}
		merged := best.a + best.b
		merges = append(merges, best)
		if !have[merged] {
			have[merged] = true
			newTokens = append(newTokens, merged)
		}
		for wi := range words {
			s := words[wi].syms
			o := s[:0]
			for i := 0; i < len(s); i++ {
				if i+1 < len(s) && s[i] == best.a && s[i+1] == best.b {
					o = append(o, merged)
					i++
				} else {
					o = append(o, s[i])
				}
			}
			words[wi].syms = o
		}
	}
	return merges, newTokens
}

func run(in string, n int, outDir string) error {
	text, err := readText(in, n)
	if err != nil {
		return err
	}
	bt := byteTokens()
	// A merge-less tokenizer with the Llama 3 pre-tokenizer, to cut words.
	vocab := map[string]int{}
	for i, s := range bt {
		vocab[s] = i
	}
	pre, err := tokenizer.LoadBytes(mustJSON(tokenizerFile(vocab, nil, false)), nil)
	if err != nil {
		return err
	}
	freq := map[string]int{}
	for _, w := range pre.PreTokenize(text) {
		freq[w]++
	}
	keys := make([]string, 0, len(freq))
	for w := range freq {
		keys = append(keys, w)
	}
	sort.Strings(keys)
	words := make([]word, 0, len(keys))
	for _, w := range keys {
		var syms []string
		for _, r := range w {
			syms = append(syms, string(r))
		}
		words = append(words, word{syms: syms, count: freq[w]})
	}
	have := map[string]bool{}
	for _, s := range bt {
		have[s] = true
	}
	merges, newTokens := train(words, have)
	if len(newTokens) != numMerges {
		return fmt.Errorf("learned %d tokens, want %d (training text too small)", len(newTokens), numMerges)
	}
	for i, s := range newTokens {
		vocab[s] = 256 + i
	}
	tj := mustJSON(tokenizerFile(vocab, merges, true))
	cj := mustJSON(map[string]any{
		"bos_token":                    specials[0],
		"eos_token":                    specials[2],
		"pad_token":                    specials[3],
		"clean_up_tokenization_spaces": false,
		"model_max_length":             4096,
		"tokenizer_class":              "PreTrainedTokenizerFast",
	})
	if _, err := tokenizer.LoadBytes(tj, cj); err != nil {
		return fmt.Errorf("the built tokenizer does not load: %w", err)
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(outDir, "tokenizer.json"), tj, 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(outDir, "tokenizer_config.json"), cj, 0o644); err != nil {
		return err
	}
	fmt.Printf("tinytok: %d merges, %d tokens + %d special -> %s\n", len(merges), 256+len(newTokens), len(specials), outDir)
	return nil
}

// tokenizerFile is the tokenizer.json document.
func tokenizerFile(vocab map[string]int, merges []pair, withSpecials bool) map[string]any {
	var added []map[string]any
	if withSpecials {
		for i, s := range specials {
			added = append(added, map[string]any{
				"id": 508 + i, "content": s, "single_word": false, "lstrip": false,
				"rstrip": false, "normalized": false, "special": true,
			})
		}
	}
	ms := make([][2]string, len(merges))
	for i, m := range merges {
		ms[i] = [2]string{m.a, m.b}
	}
	doc := map[string]any{
		"version":      "1.0",
		"truncation":   nil,
		"padding":      nil,
		"added_tokens": added,
		"normalizer":   nil,
		"pre_tokenizer": map[string]any{
			"type": "Sequence",
			"pretokenizers": []any{
				map[string]any{"type": "Split", "pattern": map[string]any{"Regex": preRegex}, "behavior": "Isolated", "invert": false},
				map[string]any{"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": false},
			},
		},
		"post_processor": nil,
		"decoder":        map[string]any{"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true},
		"model": map[string]any{
			"type": "BPE", "dropout": nil, "unk_token": nil, "continuing_subword_prefix": nil,
			"end_of_word_suffix": nil, "fuse_unk": false, "byte_fallback": false, "ignore_merges": true,
			"vocab": vocab, "merges": ms,
		},
	}
	if withSpecials {
		doc["post_processor"] = map[string]any{
			"type": "Sequence",
			"processors": []any{
				map[string]any{"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": false, "use_regex": true},
				map[string]any{
					"type":   "TemplateProcessing",
					"single": []any{map[string]any{"SpecialToken": map[string]any{"id": specials[0], "type_id": 0}}, map[string]any{"Sequence": map[string]any{"id": "A", "type_id": 0}}},
					"pair": []any{
						map[string]any{"SpecialToken": map[string]any{"id": specials[0], "type_id": 0}}, map[string]any{"Sequence": map[string]any{"id": "A", "type_id": 0}},
						map[string]any{"SpecialToken": map[string]any{"id": specials[0], "type_id": 1}}, map[string]any{"Sequence": map[string]any{"id": "B", "type_id": 1}},
					},
					"special_tokens": map[string]any{specials[0]: map[string]any{"id": specials[0], "ids": []int{508}, "tokens": []string{specials[0]}}},
				},
			},
		}
	}
	return doc
}

func mustJSON(v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", " ")
	if err := enc.Encode(v); err != nil {
		panic(err)
	}
	return buf.Bytes()
}
