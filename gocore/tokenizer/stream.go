package tokenizer

import (
	"strings"
	"unicode/utf8"
)

// maxPendingIDs bounds how many ids the stream decoder holds back waiting
// for a character to complete; beyond it the text is emitted as decoded
// (an invalid sequence never completes).
const maxPendingIDs = 8

// StreamDecoder turns ids into text incrementally, in the manner of the
// reference's DecodeStream: it re-decodes a small window of ids and emits
// text only once the window no longer ends in an incomplete character.
// The concatenation of everything Add and Flush return equals Decode of all
// ids, except that a window is emitted as-is once it holds more than a few
// ids that still end in U+FFFD. A StreamDecoder is not safe for concurrent
// use.
type StreamDecoder struct {
	t           *Tokenizer
	skip        bool
	ids         []int32
	prefix      string
	prefixIndex int
}

// NewStreamDecoder returns a streaming decoder (skipSpecialTokens as in
// Decode).
func (t *Tokenizer) NewStreamDecoder(skipSpecialTokens bool) *StreamDecoder {
	return &StreamDecoder{t: t, skip: skipSpecialTokens}
}

// Add appends one id and returns the newly completed text ("" when the id
// completes nothing yet). The returned text is always valid UTF-8.
func (d *StreamDecoder) Add(id int32) string {
	d.ids = append(d.ids, id)
	s := d.t.Decode(d.ids, d.skip)
	if len(s) <= len(d.prefix) {
		return ""
	}
	if strings.HasSuffix(s, "\uFFFD") && len(d.ids)-d.prefixIndex <= maxPendingIDs {
		return ""
	}
	return d.advance(s)
}

func (d *StreamDecoder) advance(s string) string {
	var out string
	if strings.HasPrefix(s, d.prefix) {
		out = s[len(d.prefix):]
	} else {
		// A decoder that rewrites earlier text: emit the new text from the
		// first difference on a character boundary.
		k := 0
		for k < len(s) && k < len(d.prefix) && s[k] == d.prefix[k] {
			k++
		}
		for k > 0 && !utf8.RuneStart(s[k]) {
			k--
		}
		out = s[k:]
	}
	newPrefixIndex := len(d.ids) - d.prefixIndex
	d.ids = append(d.ids[:0], d.ids[d.prefixIndex:]...)
	d.prefix = d.t.Decode(d.ids, d.skip)
	d.prefixIndex = newPrefixIndex
	return out
}

// Flush returns any text still held back (an incomplete character becomes
// U+FFFD) and resets the decoder.
func (d *StreamDecoder) Flush() string {
	s := d.t.Decode(d.ids, d.skip)
	out := ""
	if len(s) > len(d.prefix) {
		out = d.advance(s)
	}
	d.ids, d.prefix, d.prefixIndex = d.ids[:0], "", 0
	return out
}
