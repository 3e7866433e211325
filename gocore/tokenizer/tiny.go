package tokenizer

import (
	_ "embed"
	"fmt"
	"sync"
)

// The embedded tiny tokenizer: a byte-level BPE in the Llama 3 format with
// 512 ids (256 bytes, 252 merges, 4 special tokens), built by tools/tinytok.
var (
	//go:embed tiny/tokenizer.json
	tinyTokenizerJSON []byte
	//go:embed tiny/tokenizer_config.json
	tinyConfigJSON []byte

	tinyOnce sync.Once
	tinyTok  *Tokenizer
)

// Tiny returns the embedded tiny tokenizer (vocabulary 512: ids 0-255 the
// bytes, 256-507 merges, 508 <|begin_of_text|> (BOS), 509 <|end_of_text|>,
// 510 <|eot_id|> (EOS), 511 <|pad|>). It is loaded once and shared.
func Tiny() *Tokenizer {
	tinyOnce.Do(func() {
		t, err := LoadBytes(tinyTokenizerJSON, tinyConfigJSON)
		if err != nil {
			panic(fmt.Sprintf("tokenizer: embedded tiny tokenizer is invalid: %v", err))
		}
		tinyTok = t
	})
	return tinyTok
}

// TinyFiles returns copies of the tiny tokenizer's tokenizer.json and
// tokenizer_config.json, to write a tiny model out as a Hugging Face
// directory.
func TinyFiles() (tokenizerJSON, configJSON []byte) {
	return append([]byte(nil), tinyTokenizerJSON...), append([]byte(nil), tinyConfigJSON...)
}
