package tokenizer

import (
	"strings"
	"sync"
	"testing"

	"github.com/genbench/genbench/internal/testdata"
)

// BenchmarkEncode encodes the ~1 MB bench text (testdata/bench.txt.gz) in
// one call per iteration, with a cold word cache each time; it reports MB/s
// and tokens/s.
func BenchmarkEncode(b *testing.B) {
	text := benchText(b)
	for _, name := range goldenNames {
		b.Run(name, func(b *testing.B) {
			tok := loadNamed(b, name)
			n := 0
			b.SetBytes(int64(len(text)))
			b.ResetTimer()
			for b.Loop() {
				tok.states = sync.Pool{} // cold: no cached words
				n = len(tok.Encode(text, false))
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "tokens/s")
		})
	}
}

// BenchmarkDecode decodes the bench text's ids in one call per iteration.
func BenchmarkDecode(b *testing.B) {
	text := benchText(b)
	for _, name := range goldenNames {
		b.Run(name, func(b *testing.B) {
			tok := loadNamed(b, name)
			ids := tok.Encode(text, false)
			b.SetBytes(int64(len(text)))
			b.ResetTimer()
			for b.Loop() {
				_ = tok.Decode(ids, false)
			}
			b.ReportMetric(float64(len(ids))*float64(b.N)/b.Elapsed().Seconds(), "tokens/s")
		})
	}
}

// BenchmarkLoad reads and parses each real tokenizer directory.
func BenchmarkLoad(b *testing.B) {
	for _, name := range []string{"llama3", "qwen3", "gemma3"} {
		b.Run(name, func(b *testing.B) {
			dir := testdata.TokenizerDir(b, name)
			for b.Loop() {
				if _, err := Load(dir); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkEncodeLines encodes the bench text one line per call (warm
// cache after the first iteration), the pattern of `genbench tokenize
// --jsonl`.
func BenchmarkEncodeLines(b *testing.B) {
	lines := strings.SplitAfter(benchText(b), "\n")
	for _, name := range goldenNames {
		b.Run(name, func(b *testing.B) {
			tok := loadNamed(b, name)
			n, size := 0, 0
			for _, l := range lines {
				size += len(l)
			}
			b.SetBytes(int64(size))
			b.ResetTimer()
			for b.Loop() {
				n = 0
				for _, l := range lines {
					n += len(tok.Encode(l, true))
				}
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "tokens/s")
		})
	}
}
