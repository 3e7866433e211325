package tokenizer

import (
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/genbench/genbench/internal/testdata"
)

// golden is the file tools/tokgoldens/gen.js writes from the reference.
type golden struct {
	Tokenizer string `json:"tokenizer"`
	Reference string `json:"reference"`
	VocabSize int    `json:"vocab_size"`
	Cases     []struct {
		IDs         []int32  `json:"ids"`
		IDsSpecial  []int32  `json:"ids_special"`
		PreTokens   []string `json:"pretokens"`
		Decoded     string   `json:"decoded"`
		DecodedSkip string   `json:"decoded_skip"`
	} `json:"cases"`
	Decodes []struct {
		IDs         []int32 `json:"ids"`
		Decoded     string  `json:"decoded"`
		DecodedSkip string  `json:"decoded_skip"`
	} `json:"decodes"`
	Bench *struct {
		IDs           []int32 `json:"ids"`
		DecodedSHA256 string  `json:"decoded_sha256"`
	} `json:"bench"`
}

func readGzip(tb testing.TB, path string) []byte {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatalf("%v (regenerate with node tools/tokgoldens/gen.js)", err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		tb.Fatalf("%s: %v", path, err)
	}
	var data []byte
	buf := make([]byte, 1<<16)
	for {
		n, err := zr.Read(buf)
		data = append(data, buf[:n]...)
		if err != nil {
			break
		}
	}
	return data
}

func loadGolden(tb testing.TB, name string) *golden {
	tb.Helper()
	var g golden
	if err := json.Unmarshal(readGzip(tb, filepath.Join("testdata", "goldens", name+".json.gz")), &g); err != nil {
		tb.Fatalf("goldens %s: %v", name, err)
	}
	return &g
}

func loadCorpus(tb testing.TB) []string {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "corpus.json"))
	if err != nil {
		tb.Fatal(err)
	}
	var c []string
	if err := json.Unmarshal(data, &c); err != nil {
		tb.Fatalf("corpus.json: %v", err)
	}
	return c
}

func benchText(tb testing.TB) string {
	tb.Helper()
	return string(readGzip(tb, filepath.Join("testdata", "bench.txt.gz")))
}

var (
	loadedMu sync.Mutex
	loaded   = map[string]*Tokenizer{}
)

// loadNamed loads a real tokenizer (llama3, qwen3, gemma3) or the tiny one,
// once per test binary.
func loadNamed(tb testing.TB, name string) *Tokenizer {
	tb.Helper()
	if name == "tiny" {
		return Tiny()
	}
	var dir string
	if v, ok := strings.CutPrefix(name, "variant_"); ok {
		dir = filepath.Join("testdata", "variants", v)
	} else {
		dir = testdata.TokenizerDir(tb, name)
	}
	loadedMu.Lock()
	defer loadedMu.Unlock()
	if t, ok := loaded[name]; ok {
		return t
	}
	t, err := Load(dir)
	if err != nil {
		tb.Fatalf("load %s: %v", name, err)
	}
	loaded[name] = t
	return t
}

// goldenNames are the tokenizers with a bench golden.
var goldenNames = []string{"llama3", "qwen3", "gemma3", "tiny"}

// variantNames lists the synthetic files of tools/tokgoldens/variants.js.
func variantNames(tb testing.TB) []string {
	tb.Helper()
	ents, err := os.ReadDir(filepath.Join("testdata", "variants"))
	if err != nil {
		tb.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, "variant_"+e.Name())
	}
	if len(names) < 12 {
		tb.Fatalf("found %d variants in testdata/variants, want 12", len(names))
	}
	return names
}

func TestGoldens(t *testing.T) {
	corpus := loadCorpus(t)
	if len(corpus) < 400 {
		t.Fatalf("corpus has %d strings, want at least 400", len(corpus))
	}
	for _, name := range append(goldenNames, variantNames(t)...) {
		t.Run(name, func(t *testing.T) {
			g := loadGolden(t, name)
			if len(g.Cases) != len(corpus) {
				t.Fatalf("goldens have %d cases for %d corpus strings (regenerate with node tools/tokgoldens/gen.js)", len(g.Cases), len(corpus))
			}
			tok := loadNamed(t, name)
			if tok.VocabSize() != g.VocabSize {
				t.Errorf("VocabSize = %d, reference %d", tok.VocabSize(), g.VocabSize)
			}
			fails := map[string]int{}
			report := func(kind string, i int, format string, args ...any) {
				fails[kind]++
				if fails[kind] <= 5 {
					t.Errorf("%s case %d %q: %s", kind, i, clip(corpus[i]), fmt.Sprintf(format, args...))
				}
			}
			for i, c := range g.Cases {
				text := corpus[i]
				if got := tok.Encode(text, false); !slices.Equal(got, c.IDs) {
					report("encode", i, "got %v, reference %v", got, c.IDs)
				}
				if got := tok.Encode(text, true); !slices.Equal(got, c.IDsSpecial) {
					report("encode+special", i, "got %v, reference %v", got, c.IDsSpecial)
				}
				if c.PreTokens != nil {
					if got := tok.PreTokenize(text); !slices.Equal(got, c.PreTokens) {
						report("pretokenize", i, "got %q, reference %q", got, c.PreTokens)
					}
				}
				if got := tok.Decode(c.IDsSpecial, false); got != c.Decoded {
					report("decode", i, "got %q, reference %q", got, c.Decoded)
				}
				if got := tok.Decode(c.IDsSpecial, true); got != c.DecodedSkip {
					report("decode+skip", i, "got %q, reference %q", got, c.DecodedSkip)
				}
			}
			for i, d := range g.Decodes {
				if got := tok.Decode(d.IDs, false); got != d.Decoded {
					fails["decode-ids"]++
					if fails["decode-ids"] <= 5 {
						t.Errorf("decode %v: got %q, reference %q", d.IDs, got, d.Decoded)
					}
				}
				if got := tok.Decode(d.IDs, true); got != d.DecodedSkip {
					fails["decode-ids+skip"]++
					if fails["decode-ids+skip"] <= 5 {
						t.Errorf("decode %d %v skipping special: got %q, reference %q", i, d.IDs, got, d.DecodedSkip)
					}
				}
			}
			for k, n := range fails {
				t.Errorf("%s: %d failures", k, n)
			}
		})
	}
}

func TestGoldenBench(t *testing.T) {
	text := benchText(t)
	for _, name := range goldenNames {
		t.Run(name, func(t *testing.T) {
			g := loadGolden(t, name)
			if g.Bench == nil {
				t.Fatal("goldens have no bench ids")
			}
			tok := loadNamed(t, name)
			got := tok.Encode(text, false)
			if !slices.Equal(got, g.Bench.IDs) {
				i := 0
				for i < len(got) && i < len(g.Bench.IDs) && got[i] == g.Bench.IDs[i] {
					i++
				}
				lo := max(0, i-3)
				t.Fatalf("bench: %d tokens, reference %d; first difference at token %d: got %v, reference %v",
					len(got), len(g.Bench.IDs), i, got[lo:min(len(got), i+5)], g.Bench.IDs[lo:min(len(g.Bench.IDs), i+5)])
			}
			sum := sha256.Sum256([]byte(tok.Decode(got, false)))
			if h := hex.EncodeToString(sum[:]); h != g.Bench.DecodedSHA256 {
				t.Errorf("bench decode sha256 %s, reference %s", h, g.Bench.DecodedSHA256)
			}
		})
	}
}

func clip(s string) string {
	r := []rune(s)
	if len(r) > 40 {
		return string(r[:40]) + "..."
	}
	return s
}
