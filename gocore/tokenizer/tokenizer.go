// Package tokenizer is a pure-Go implementation of the Hugging Face
// `tokenizers` pipeline for the byte-level BPE (Llama 3, Qwen3) and
// byte-fallback BPE (Gemma 3) tokenizers, read from a model's tokenizer.json
// and tokenizer_config.json.
//
// Encoding follows the reference pipeline exactly: added tokens are matched
// first (leftmost-longest, on the raw text), the text between them is
// normalized, pre-tokenized and run through the BPE model, and the
// post-processor adds the template's special tokens. Decoding runs the
// decoders of the file (ByteLevel with lossy UTF-8, Replace, ByteFallback,
// Fuse, Strip). Components that the package does not implement are load
// errors naming the component, never silent approximations.
//
// Supported components: normalizers NFC, NFD, NFKC, NFKD, Replace (string
// pattern), Prepend, Strip, Sequence; pre-tokenizers Split (string
// patterns with every behaviour and invert; regex patterns: exactly the
// Llama 3 and Qwen2 patterns, by a hand-written scanner with Oniguruma's
// character classes and lookahead), ByteLevel (last; with or without
// GPT-2's split), Sequence; model BPE (merges as strings or pairs,
// ignore_merges, byte_fallback, unk_token, fuse_unk); post-processors
// TemplateProcessing, ByteLevel, Sequence; decoders ByteLevel, Replace
// (string pattern), ByteFallback, Fuse, Strip, Sequence. Added tokens honour
// special, normalized, lstrip, rstrip and single_word, and take their ids as
// the reference assigns them.
//
// A Tokenizer is immutable after loading and safe for concurrent use.
package tokenizer

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/genbench/genbench/gocore/sidefile"
)

// Tokenizer encodes text to token ids and decodes ids to text.
type Tokenizer struct {
	// model (BPE)
	vocab        map[string]int32 // key: raw bytes for byte-level models, token text otherwise
	tokens       []string         // id -> token string as written in the file ("" for holes)
	present      []bool           // id -> whether the id names a token
	merges       mergeMap
	byteLevel    bool       // vocabulary keys are raw bytes (ByteLevel pre-tokenizer)
	prefixSpace  bool       // ByteLevel add_prefix_space
	byteIDs      [256]int32 // byte-level: the id of each single byte, -1 when absent
	asciiIDs     [128]int32 // non-byte-level: the id of each ASCII character, -1 when absent
	bmpIDs       []int32    // non-byte-level: the id of each BMP character, -1 when absent
	fallbackIDs  [256]int32 // byte_fallback: the id of <0xNN>, -1 when absent
	ignoreMerges bool
	byteFallback bool
	fuseUnk      bool
	unkID        int32 // -1 when no unk token

	added      addedVocab
	normalizer normalizer    // nil: none
	pretok     preTokenizer  // nil: the whole segment is one word
	post       postProcessor // template ids added with addSpecialTokens
	decoder    decoder       // nil: tokens joined with " "

	// decoding
	rawBytes     []string   // byte-level ByteLevel-only decoder: id -> raw bytes of the token
	decodeTokens []string   // id -> token after the chain's leading Replace decoders
	decodeRest   seqDecoder // the decoders after those
	special      []bool     // id -> added token with special=true

	eos []int32

	states sync.Pool // *encState
}

// Load reads dir/tokenizer.json and, when present, dir/tokenizer_config.json.
func Load(dir string) (*Tokenizer, error) {
	tokPath := filepath.Join(dir, "tokenizer.json")
	tj, err := sidefile.Read(tokPath, sidefile.TokenizerLimit)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %w (expected a Hugging Face tokenizer.json)", err)
	}
	cfgPath := filepath.Join(dir, "tokenizer_config.json")
	cj, err := sidefile.Read(cfgPath, sidefile.ConfigLimit)
	if err != nil {
		if !os.IsNotExist(err) {
			return nil, fmt.Errorf("tokenizer: %w", err)
		}
		cj = nil
	}
	t, err := LoadBytes(tj, cj)
	if err != nil {
		return nil, fmt.Errorf("tokenizer %s: %w", dir, err)
	}
	return t, nil
}

// VocabSize is the number of ids: the highest id of the model vocabulary and
// the added tokens, plus one.
func (t *Tokenizer) VocabSize() int { return len(t.tokens) }

// TokenString returns the token of id as written in tokenizer.json (for
// byte-level models, in the byte-to-unicode alphabet, e.g. "Ġthe").
func (t *Tokenizer) TokenString(id int32) (string, bool) {
	if id < 0 || int(id) >= len(t.tokens) || !t.present[id] {
		return "", false
	}
	return t.tokens[id], true
}

// TokenID returns the id of a token written as in tokenizer.json (an added
// token's content or a vocabulary entry).
func (t *Tokenizer) TokenID(token string) (int32, bool) {
	return t.lookupToken(token)
}

// IsSpecial reports whether id is an added token marked special (the tokens
// Decode drops when skipping special tokens).
func (t *Tokenizer) IsSpecial(id int32) bool {
	return id >= 0 && int(id) < len(t.special) && t.special[id]
}

// BOS returns the beginning-of-sequence id that Encode prepends when
// addSpecialTokens is true (from the post-processor's template), if any.
func (t *Tokenizer) BOS() (int32, bool) {
	if len(t.post.prefix) == 1 {
		return t.post.prefix[0], true
	}
	return -1, false
}

// EOS returns the end-of-sequence ids named by tokenizer_config.json's
// eos_token (empty when there is none).
func (t *Tokenizer) EOS() []int32 {
	return append([]int32(nil), t.eos...)
}
