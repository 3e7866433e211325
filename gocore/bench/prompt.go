package bench

import (
	"math/rand/v2"
)

// Prompt sources a report can name.
const (
	PromptText   = "builtin-text"  // PromptTextBody tokenized with the model's tokenizer
	PromptRandom = "seeded-random" // ids drawn from a seeded generator (no tokenizer)
)

// PromptTextBody is the fixed text benchmark prompts are made of. It is
// tokenized once and its ids are repeated until the prompt is long enough.
const PromptTextBody = `The lighthouse keeper kept a ledger of every ship that passed the point, ` +
	`writing down the hour, the direction of the wind and the colour of the sea. ` +
	`Over forty winters the ledger grew into eleven volumes, and a reader who ` +
	`turns their pages today can follow the slow change of trade along the coast: ` +
	`sailing barges carrying grain and timber give way to steamers, steamers to ` +
	`diesel freighters, and the freighters in turn to the small ferries that still ` +
	`cross to the islands twice a day. Between the entries are short notes about ` +
	`storms, a broken lens that took three weeks to replace, a seal that slept on ` +
	`the landing for most of one summer, and the names of visitors who climbed the ` +
	`one hundred and twelve steps to look at the view. Read together, the notes ` +
	`describe a working life measured in small, careful observations, each one ` +
	`made in the same steady hand. `

// textEncoder is what the prompt builder needs from a tokenizer.
type textEncoder interface {
	Encode(text string, addSpecial bool) []int32
}

// promptIDs builds a deterministic prompt of exactly n ids. With a
// tokenizer, the ids are PromptTextBody's tokens (without special tokens)
// repeated and truncated after the special tokens the tokenizer adds in
// front (BOS, when the model's tokenizer adds one). Without one (enc nil),
// the ids are drawn uniformly from [0, vocab) by a PCG generator seeded with
// seed. The second result names the source (PromptText or PromptRandom).
func promptIDs(enc textEncoder, vocab, n int, seed uint64) ([]int32, string) {
	if n <= 0 {
		return []int32{}, sourceOf(enc)
	}
	if enc == nil {
		ids := make([]int32, n)
		if vocab <= 0 {
			return ids, PromptRandom
		}
		r := rand.New(rand.NewPCG(seed, 0x67656e62656e6368)) // "genbench"
		for i := range ids {
			ids[i] = int32(r.IntN(vocab))
		}
		return ids, PromptRandom
	}
	body := enc.Encode(PromptTextBody, false)
	full := enc.Encode(PromptTextBody, true)
	prefix := specialPrefix(full, body)
	ids := make([]int32, 0, n)
	ids = append(ids, prefix[:min(len(prefix), n)]...)
	for len(ids) < n && len(body) > 0 {
		ids = append(ids, body[:min(len(body), n-len(ids))]...)
	}
	for len(ids) < n { // a tokenizer that yields nothing for the text
		ids = append(ids, 0)
	}
	return ids, PromptText
}

// specialPrefix returns the ids a tokenizer adds before the text: full
// (encoded with special tokens) minus the body (encoded without) and
// whatever follows it.
func specialPrefix(full, body []int32) []int32 {
	if len(body) == 0 {
		return full
	}
	for p := 0; p+len(body) <= len(full); p++ {
		match := true
		for i, id := range body {
			if full[p+i] != id {
				match = false
				break
			}
		}
		if match {
			return full[:p]
		}
	}
	return nil
}

func sourceOf(enc textEncoder) string {
	if enc == nil {
		return PromptRandom
	}
	return PromptText
}
