// Package safetensors reads and writes the safetensors format
// (https://huggingface.co/docs/safetensors): an 8-byte little-endian header
// length N, N bytes of JSON describing each tensor (dtype, shape,
// data_offsets relative to the data section, optional "__metadata__"), then
// the data section. Files are memory-mapped read-only; tensor bytes are
// returned as slices of the map, not copied.
package safetensors

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
)

// MaxHeaderSize bounds the JSON header (as the reference implementation does).
const MaxHeaderSize = 100_000_000

// DType is a tensor element type.
type DType string

// The element types this package reads.
const (
	BF16 DType = "BF16"
	F16  DType = "F16"
	F32  DType = "F32"
)

// Size is the element size in bytes (0 for an unsupported dtype).
func (d DType) Size() int {
	switch d {
	case BF16, F16:
		return 2
	case F32:
		return 4
	}
	return 0
}

// TensorInfo describes one tensor of a file.
type TensorInfo struct {
	Name  string
	DType DType
	Shape []int
	// Begin and End are byte offsets into the data section.
	Begin, End int64
}

// Numel is the number of elements.
func (t *TensorInfo) Numel() int64 {
	n := int64(1)
	for _, d := range t.Shape {
		n *= int64(d)
	}
	return n
}

// Header is a parsed and validated header.
type Header struct {
	Tensors  []TensorInfo // sorted by name
	Metadata map[string]string
}

type rawEntry struct {
	DType   *string  `json:"dtype"`
	Shape   *[]int64 `json:"shape"`
	Offsets *[]int64 `json:"data_offsets"`
}

// ParseHeader parses the JSON header of a file whose data section has
// dataLen bytes, and validates it: well-formed JSON object, no duplicate
// names, supported dtypes, non-negative shapes, dtype size × element count
// equal to each tensor's byte length, offsets within the data section, and
// the tensors covering the data section exactly, without gaps or overlaps.
func ParseHeader(header []byte, dataLen int64) (*Header, error) {
	if len(header) == 0 || header[0] != '{' {
		return nil, errors.New("header is not a JSON object (must start with '{')")
	}
	dec := json.NewDecoder(bytes.NewReader(header))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, fmt.Errorf("malformed header JSON: %w", err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, errors.New("header is not a JSON object")
	}
	h := &Header{}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("malformed header JSON: %w", err)
		}
		name, ok := tok.(string)
		if !ok {
			return nil, fmt.Errorf("malformed header JSON: unexpected %v", tok)
		}
		if seen[name] {
			return nil, fmt.Errorf("duplicate entry %q in header", name)
		}
		seen[name] = true
		if name == "__metadata__" {
			var md map[string]string
			if err := dec.Decode(&md); err != nil {
				return nil, fmt.Errorf("__metadata__ must map strings to strings: %w", err)
			}
			h.Metadata = md
			continue
		}
		var e rawEntry
		if err := dec.Decode(&e); err != nil {
			return nil, fmt.Errorf("tensor %q: malformed entry: %w", name, err)
		}
		t, err := checkEntry(name, &e, dataLen)
		if err != nil {
			return nil, err
		}
		h.Tensors = append(h.Tensors, t)
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return nil, fmt.Errorf("malformed header JSON: %w", err)
	}
	// Only whitespace may follow (writers pad the header with spaces).
	rest := header[dec.InputOffset():]
	if len(bytes.TrimRight(rest, " \t\r\n\x00")) != 0 {
		return nil, fmt.Errorf("unexpected data after the header JSON object at byte %d", dec.InputOffset())
	}
	if err := checkCoverage(h.Tensors, dataLen); err != nil {
		return nil, err
	}
	slices.SortFunc(h.Tensors, func(a, b TensorInfo) int {
		switch {
		case a.Name < b.Name:
			return -1
		case a.Name > b.Name:
			return 1
		}
		return 0
	})
	return h, nil
}

func checkEntry(name string, e *rawEntry, dataLen int64) (TensorInfo, error) {
	t := TensorInfo{Name: name}
	if e.DType == nil || e.Shape == nil || e.Offsets == nil {
		return t, fmt.Errorf("tensor %q: entry needs dtype, shape and data_offsets", name)
	}
	t.DType = DType(*e.DType)
	if t.DType.Size() == 0 {
		return t, fmt.Errorf("tensor %q: dtype %q is not supported (want BF16, F16 or F32)", name, *e.DType)
	}
	numel := int64(1)
	for _, d := range *e.Shape {
		if d < 0 || d > math.MaxInt32 {
			return t, fmt.Errorf("tensor %q: bad dimension %d in shape %v", name, d, *e.Shape)
		}
		if d != 0 && numel > math.MaxInt64/4/d {
			return t, fmt.Errorf("tensor %q: shape %v is too large", name, *e.Shape)
		}
		numel *= d
		t.Shape = append(t.Shape, int(d))
	}
	if t.Shape == nil {
		t.Shape = []int{}
	}
	if len(*e.Offsets) != 2 {
		return t, fmt.Errorf("tensor %q: data_offsets must be [begin, end], got %v", name, *e.Offsets)
	}
	t.Begin, t.End = (*e.Offsets)[0], (*e.Offsets)[1]
	if t.Begin < 0 || t.End < t.Begin || t.End > dataLen {
		return t, fmt.Errorf("tensor %q: data_offsets [%d, %d] out of range (data section is %d bytes)", name, t.Begin, t.End, dataLen)
	}
	if want := numel * int64(t.DType.Size()); t.End-t.Begin != want {
		return t, fmt.Errorf("tensor %q: %s shape %v needs %d bytes but data_offsets [%d, %d] hold %d", name, t.DType, t.Shape, want, t.Begin, t.End, t.End-t.Begin)
	}
	return t, nil
}

// checkCoverage requires the byte ranges to tile [0, dataLen) exactly.
func checkCoverage(ts []TensorInfo, dataLen int64) error {
	order := make([]int, len(ts))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int {
		ta, tb := &ts[a], &ts[b]
		if ta.Begin != tb.Begin {
			return cmpInt64(ta.Begin, tb.Begin)
		}
		return cmpInt64(ta.End, tb.End)
	})
	var pos int64
	prev := ""
	for _, i := range order {
		t := &ts[i]
		switch {
		case t.Begin < pos:
			return fmt.Errorf("tensor %q: data_offsets [%d, %d] overlap tensor %q", t.Name, t.Begin, t.End, prev)
		case t.Begin > pos:
			return fmt.Errorf("tensor %q: gap in the data section: bytes [%d, %d) belong to no tensor", t.Name, pos, t.Begin)
		}
		pos = t.End
		prev = t.Name
	}
	if pos != dataLen {
		return fmt.Errorf("data section has %d bytes but the tensors cover %d", dataLen, pos)
	}
	return nil
}

func cmpInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// encodeHeader renders the header JSON (names in the given order).
func encodeHeader(ts []TensorInfo, metadata map[string]string) []byte {
	var b bytes.Buffer
	b.WriteByte('{')
	first := true
	if len(metadata) > 0 {
		md, _ := json.Marshal(metadata) // map[string]string always marshals
		b.WriteString(`"__metadata__":`)
		b.Write(md)
		first = false
	}
	for _, t := range ts {
		if !first {
			b.WriteByte(',')
		}
		first = false
		name, _ := json.Marshal(t.Name)
		b.Write(name)
		b.WriteString(`:{"dtype":"`)
		b.WriteString(string(t.DType))
		b.WriteString(`","shape":[`)
		for i, d := range t.Shape {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(strconv.Itoa(d))
		}
		b.WriteString(`],"data_offsets":[`)
		b.WriteString(strconv.FormatInt(t.Begin, 10))
		b.WriteByte(',')
		b.WriteString(strconv.FormatInt(t.End, 10))
		b.WriteString("]}")
	}
	b.WriteByte('}')
	return b.Bytes()
}
