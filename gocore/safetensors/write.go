package safetensors

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"slices"
	"strings"
)

// TensorOut is a tensor to write: Data holds its little-endian bytes.
type TensorOut struct {
	Name  string
	DType DType
	Shape []int
	Data  []byte
}

// Write writes a safetensors file: tensors sorted by name, laid out in that
// order, the header padded with spaces to a multiple of 8 bytes so the data
// section (and every bf16/f32 tensor in it) stays aligned.
func Write(w io.Writer, tensors []TensorOut, metadata map[string]string) error {
	ts := slices.Clone(tensors)
	slices.SortFunc(ts, func(a, b TensorOut) int { return strings.Compare(a.Name, b.Name) })
	infos := make([]TensorInfo, len(ts))
	var off int64
	for i, t := range ts {
		if t.Name == "" || t.Name == "__metadata__" {
			return fmt.Errorf("safetensors: invalid tensor name %q", t.Name)
		}
		if i > 0 && ts[i-1].Name == t.Name {
			return fmt.Errorf("safetensors: duplicate tensor %q", t.Name)
		}
		if t.DType.Size() == 0 {
			return fmt.Errorf("safetensors: tensor %q: dtype %q is not supported (want BF16, F16 or F32)", t.Name, t.DType)
		}
		n := int64(t.DType.Size())
		for _, d := range t.Shape {
			if d < 0 {
				return fmt.Errorf("safetensors: tensor %q: negative dimension in shape %v", t.Name, t.Shape)
			}
			n *= int64(d)
		}
		if n != int64(len(t.Data)) {
			return fmt.Errorf("safetensors: tensor %q: %s shape %v needs %d bytes, got %d", t.Name, t.DType, t.Shape, n, len(t.Data))
		}
		infos[i] = TensorInfo{Name: t.Name, DType: t.DType, Shape: t.Shape, Begin: off, End: off + n}
		off += n
	}
	hdr := encodeHeader(infos, metadata)
	for len(hdr)%8 != 0 {
		hdr = append(hdr, ' ')
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	var lenBuf [8]byte
	binary.LittleEndian.PutUint64(lenBuf[:], uint64(len(hdr)))
	if _, err := bw.Write(lenBuf[:]); err != nil {
		return fmt.Errorf("safetensors: writing header: %w", err)
	}
	if _, err := bw.Write(hdr); err != nil {
		return fmt.Errorf("safetensors: writing header: %w", err)
	}
	for _, t := range ts {
		if _, err := bw.Write(t.Data); err != nil {
			return fmt.Errorf("safetensors: writing tensor %q: %w", t.Name, err)
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("safetensors: writing: %w", err)
	}
	return nil
}
