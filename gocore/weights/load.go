package weights

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"unsafe"

	"github.com/genbench/genbench/gocore/bf16"
	"github.com/genbench/genbench/gocore/model"
	"github.com/genbench/genbench/gocore/safetensors"
)

// littleEndian reports whether the host stores integers little-endian (then
// bf16 bytes of a file can be used in place as uint16 values).
var littleEndian = func() bool {
	x := uint16(1)
	return *(*byte)(unsafe.Pointer(&x)) == 1
}()

// Load reads the checkpoint in dir (model.safetensors or a sharded
// model.safetensors.index.json) for spec. BF16 tensors alias the read-only
// memory map when their data is 2-byte aligned; F16 and F32 tensors are
// converted to bf16 (F32 with round-to-nearest-even). Every tensor the spec
// needs must be present with the expected shape; any other tensor is an
// error, except lm_head.weight when the embeddings are tied (Hugging Face
// then uses the embedding, and so does Load) and rotary_emb.inv_freq buffers.
// Close the model to release the maps.
func Load(dir string, spec *model.Spec) (*Model, error) {
	if spec == nil {
		return nil, fmt.Errorf("loading weights from %s: nil spec", dir)
	}
	if err := spec.Validate(); err != nil {
		return nil, fmt.Errorf("loading weights from %s: %w", dir, err)
	}
	d, err := safetensors.OpenDir(dir)
	if err != nil {
		return nil, fmt.Errorf("loading weights: %w", err)
	}
	m := &Model{Spec: spec, Layers: make([]Layer, spec.NumLayers), Source: dir}
	m.closers = append(m.closers, d.Close)
	if err := bind(m, d); err != nil {
		_ = m.Close()
		return nil, fmt.Errorf("loading weights from %s: %w", dir, err)
	}
	return m, nil
}

func bind(m *Model, d *safetensors.Dir) error {
	spec := m.Spec
	ss := slots(spec, m)
	want := make(map[string]bool, len(ss))
	var missing []string
	for _, s := range ss {
		want[s.name] = true
		if _, ok := d.Info(s.name); !ok {
			missing = append(missing, s.name)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%d tensor(s) missing from the checkpoint: %s", len(missing), listNames(missing))
	}
	var unexpected []string
	for _, n := range d.Names() {
		if want[n] || (n == LMHeadName && spec.TieWordEmbeddings) || strings.HasSuffix(n, ".rotary_emb.inv_freq") {
			continue
		}
		unexpected = append(unexpected, n)
	}
	if len(unexpected) > 0 {
		return fmt.Errorf("%d unexpected tensor(s) in the checkpoint for %s: %s", len(unexpected), spec.Architecture, listNames(unexpected))
	}
	for _, s := range ss {
		info, _ := d.Info(s.name)
		if !sameShape(info.Shape, s.shape) {
			return fmt.Errorf("tensor %q has shape %v, want %v", s.name, info.Shape, s.shape)
		}
		raw, _, err := d.Data(s.name)
		if err != nil {
			return err
		}
		data, err := toBF16(raw, info.DType)
		if err != nil {
			return fmt.Errorf("tensor %q: %w", s.name, err)
		}
		*s.ptr = &Tensor{Name: s.name, Shape: slices.Clone(info.Shape), Data: data}
	}
	if spec.TieWordEmbeddings {
		m.LMHead = m.Embed
	}
	return nil
}

func listNames(names []string) string {
	const show = 8
	if len(names) <= show {
		return strings.Join(names, ", ")
	}
	return strings.Join(names[:show], ", ") + fmt.Sprintf(", ... (%d more)", len(names)-show)
}

// toBF16 returns bf16 values for little-endian raw bytes of dtype dt,
// aliasing raw when it is bf16, aligned and the host is little-endian.
func toBF16(raw []byte, dt safetensors.DType) ([]uint16, error) {
	switch dt {
	case safetensors.BF16:
		n := len(raw) / 2
		if n == 0 {
			return []uint16{}, nil
		}
		if littleEndian && uintptr(unsafe.Pointer(&raw[0]))%2 == 0 {
			return unsafe.Slice((*uint16)(unsafe.Pointer(&raw[0])), n), nil
		}
		out := make([]uint16, n)
		for i := range out {
			out[i] = binary.LittleEndian.Uint16(raw[2*i:])
		}
		return out, nil
	case safetensors.F16:
		out := make([]uint16, len(raw)/2)
		for i := range out {
			out[i] = bf16.FromFloat32(bf16.F16ToFloat32(binary.LittleEndian.Uint16(raw[2*i:])))
		}
		return out, nil
	case safetensors.F32:
		out := make([]uint16, len(raw)/4)
		for i := range out {
			out[i] = bf16.FromFloat32(math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:])))
		}
		return out, nil
	}
	return nil, fmt.Errorf("dtype %s is not supported (want BF16, F16 or F32)", dt)
}

// bf16Bytes views bf16 values as little-endian bytes (aliasing on a
// little-endian host).
func bf16Bytes(v []uint16) []byte {
	if len(v) == 0 {
		return []byte{}
	}
	if littleEndian {
		return unsafe.Slice((*byte)(unsafe.Pointer(&v[0])), 2*len(v))
	}
	out := make([]byte, 2*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint16(out[2*i:], x)
	}
	return out
}

// WriteHF writes m as a Hugging Face checkpoint directory: config.json,
// generation_config.json and model.safetensors (bf16; no lm_head.weight when
// the embeddings are tied), plus tokenizer.json and tokenizer_config.json when
// given. Each file is written to a temporary name and renamed into place.
func WriteHF(dir string, m *Model, tokenizerJSON, tokenizerConfigJSON []byte) error {
	if m == nil || m.Spec == nil {
		return fmt.Errorf("writing checkpoint %s: nil model", dir)
	}
	cfg, err := m.Spec.ConfigJSON()
	if err != nil {
		return fmt.Errorf("writing checkpoint %s: %w", dir, err)
	}
	gen, err := m.Spec.GenerationConfigJSON()
	if err != nil {
		return fmt.Errorf("writing checkpoint %s: %w", dir, err)
	}
	var outs []safetensors.TensorOut
	if len(m.Layers) != m.Spec.NumLayers {
		return fmt.Errorf("writing checkpoint %s: model has %d layers, spec says %d", dir, len(m.Layers), m.Spec.NumLayers)
	}
	for _, s := range slots(m.Spec, m) { // read-only use of the bindings
		t := *s.ptr
		if t == nil {
			return fmt.Errorf("writing checkpoint %s: tensor %q is missing", dir, s.name)
		}
		if !sameShape(t.Shape, s.shape) || len(t.Data) != numel(s.shape) {
			return fmt.Errorf("writing checkpoint %s: tensor %q has shape %v (%d values), want %v", dir, s.name, t.Shape, len(t.Data), s.shape)
		}
		outs = append(outs, safetensors.TensorOut{Name: s.name, DType: safetensors.BF16, Shape: t.Shape, Data: bf16Bytes(t.Data)})
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("writing checkpoint: %w", err)
	}
	files := []struct {
		name string
		data []byte
	}{{"config.json", cfg}, {"generation_config.json", gen}, {"tokenizer.json", tokenizerJSON}, {"tokenizer_config.json", tokenizerConfigJSON}}
	for _, f := range files {
		if f.data == nil {
			continue
		}
		if err := writeAtomic(filepath.Join(dir, f.name), func(w *os.File) error {
			_, err := w.Write(f.data)
			return err
		}); err != nil {
			return fmt.Errorf("writing checkpoint: %w", err)
		}
	}
	err = writeAtomic(filepath.Join(dir, safetensors.SingleFileName), func(w *os.File) error {
		return safetensors.Write(w, outs, map[string]string{"format": "pt"})
	})
	if err != nil {
		return fmt.Errorf("writing checkpoint: %w", err)
	}
	return nil
}

func writeAtomic(path string, fill func(*os.File) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	if err := fill(tmp); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return nil
}
