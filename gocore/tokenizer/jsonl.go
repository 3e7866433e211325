package tokenizer

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
)

// EncodeJSONL reads one JSON string per line from r and writes, per line,
// the JSON array of its token ids to w. Empty lines are errors, as is any
// line that is not a JSON string; errors name the line number.
func EncodeJSONL(r io.Reader, w io.Writer, t *Tokenizer, addSpecial bool) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1<<30)
	bw := bufio.NewWriter(w)
	var out []byte
	line := 0
	for sc.Scan() {
		line++
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 || b[0] != '"' {
			return fmt.Errorf("jsonl line %d: expected a JSON string, got %q", line, truncate(b))
		}
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return fmt.Errorf("jsonl line %d: expected a JSON string: %w", line, err)
		}
		out = appendIDs(out[:0], t.Encode(s, addSpecial))
		out = append(out, '\n')
		if _, err := bw.Write(out); err != nil {
			return fmt.Errorf("jsonl: write: %w", err)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("jsonl: read after line %d: %w", line, err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("jsonl: write: %w", err)
	}
	return nil
}

// DecodeJSON reads one JSON array of token ids from r and writes the decoded
// text to w (no newline is added).
func DecodeJSON(r io.Reader, w io.Writer, t *Tokenizer, skipSpecial bool) error {
	dec := json.NewDecoder(r)
	var ids []int64
	if err := dec.Decode(&ids); err != nil {
		return fmt.Errorf("decode: expected a JSON array of token ids: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Errorf("decode: expected a single JSON array of token ids, found more input")
	}
	ids32 := make([]int32, len(ids))
	for i, id := range ids {
		if id < 0 || id >= int64(t.VocabSize()) {
			return fmt.Errorf("decode: id %d at index %d is outside the vocabulary [0, %d)", id, i, t.VocabSize())
		}
		ids32[i] = int32(id)
	}
	if _, err := io.WriteString(w, t.Decode(ids32, skipSpecial)); err != nil {
		return fmt.Errorf("decode: write: %w", err)
	}
	return nil
}

func appendIDs(dst []byte, ids []int32) []byte {
	dst = append(dst, '[')
	for i, id := range ids {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = strconv.AppendInt(dst, int64(id), 10)
	}
	return append(dst, ']')
}

func truncate(b []byte) string {
	if len(b) > 40 {
		return string(b[:40]) + "..."
	}
	return string(b)
}
