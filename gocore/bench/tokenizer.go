package bench

import "github.com/genbench/genbench/gocore/tokenizer"

// tokenizerGenerator is implemented by generators that have a tokenizer
// (*engine.Engine does; its Tokenizer is nil when the model has none).
type tokenizerGenerator interface {
	Tokenizer() *tokenizer.Tokenizer
}

// encoderOf returns the generator's tokenizer, or nil when it has none.
func encoderOf(gen Generator) textEncoder {
	if tg, ok := gen.(tokenizerGenerator); ok {
		if tok := tg.Tokenizer(); tok != nil {
			return tok
		}
	}
	return nil
}

// PromptIDs builds the deterministic benchmark prompt of exactly n ids for
// a model: with a tokenizer, PromptTextBody tokenized by it (the special
// tokens it adds, such as BOS, in front) repeated and truncated to n; with
// tok nil, ids drawn from [0, vocab) by a generator seeded with seed. The
// second result is the prompt source the report names (PromptText or
// PromptRandom). Every driver and engine uses it, so prompts are identical.
func PromptIDs(tok *tokenizer.Tokenizer, vocab, n int, seed uint64) ([]int32, string) {
	if tok == nil {
		return promptIDs(nil, vocab, n, seed)
	}
	return promptIDs(tok, vocab, n, seed)
}
