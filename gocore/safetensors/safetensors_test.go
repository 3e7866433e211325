package safetensors

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// rawFile assembles a safetensors file from a header text and data bytes,
// independently of Write.
func rawFile(header string, data []byte) []byte {
	var b bytes.Buffer
	var n [8]byte
	binary.LittleEndian.PutUint64(n[:], uint64(len(header)))
	b.Write(n[:])
	b.WriteString(header)
	b.Write(data)
	return b.Bytes()
}

func writeTemp(t *testing.T, name string, content []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, content, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func f32Bytes(v ...float32) []byte {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return b
}

// A hand-written file: the reader must find exactly these tensors and bytes.
func TestOpenHandWritten(t *testing.T) {
	hdr := `{"__metadata__":{"format":"pt"},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]},"a":{"dtype":"BF16","shape":[1,2],"data_offsets":[0,4]}}  `
	data := append([]byte{1, 2, 3, 4}, f32Bytes(1.5, -2)...)
	f, err := Open(writeTemp(t, "x.safetensors", rawFile(hdr, data)))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if got := f.Names(); len(got) != 2 || got[0] != "a" || got[1] != "b" {
		t.Fatalf("names %v", got)
	}
	if f.Metadata["format"] != "pt" {
		t.Errorf("metadata %v", f.Metadata)
	}
	info, ok := f.Info("a")
	if !ok || info.DType != BF16 || len(info.Shape) != 2 || info.Shape[0] != 1 || info.Shape[1] != 2 {
		t.Errorf("info a: %+v", info)
	}
	a, off, err := f.Data("a")
	if err != nil || !bytes.Equal(a, []byte{1, 2, 3, 4}) || off != int64(8+len(hdr)) {
		t.Errorf("data a: %v %d %v", a, off, err)
	}
	b, _, err := f.Data("b")
	if err != nil || math.Float32frombits(binary.LittleEndian.Uint32(b[4:])) != -2 {
		t.Errorf("data b: %v %v", b, err)
	}
	if _, _, err := f.Data("c"); err == nil || !strings.Contains(err.Error(), `"c"`) {
		t.Errorf("missing tensor: %v", err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

func TestMalformedFiles(t *testing.T) {
	ok := `{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`
	eight := make([]byte, 8)
	huge := make([]byte, 8)
	binary.LittleEndian.PutUint64(huge, 200_000_000)
	beyond := make([]byte, 8)
	binary.LittleEndian.PutUint64(beyond, 1000)
	cases := []struct {
		name    string
		content []byte
		want    []string
	}{
		{"empty file", nil, []string{"too short"}},
		{"header length over limit", append(huge, []byte("{}")...), []string{"header length", "limit"}},
		{"header length over file size", append(beyond, []byte("{}")...), []string{"header length", "file size"}},
		{"not an object", rawFile(`[1,2]`, nil), []string{"JSON object"}},
		{"bad JSON", rawFile(`{"a":{"dtype":"F32",`, eight), []string{"malformed"}},
		{"trailing garbage", rawFile(ok+`xx`, eight), []string{"after the header"}},
		{"unsupported dtype", rawFile(`{"a":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}}`, eight), []string{`"a"`, "I64"}},
		{"missing field", rawFile(`{"a":{"dtype":"F32","shape":[2]}}`, eight), []string{`"a"`, "data_offsets"}},
		{"offset out of range", rawFile(`{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}`, eight), []string{`"a"`, "out of range"}},
		{"reversed offsets", rawFile(`{"a":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}}`, eight), []string{`"a"`, "out of range"}},
		{"dtype/shape mismatch", rawFile(`{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}`, eight), []string{`"a"`, "needs 12 bytes"}},
		{"negative dim", rawFile(`{"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}`, eight), []string{`"a"`, "dimension"}},
		{"overlap", rawFile(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, eight), []string{"overlap"}},
		{"gap", rawFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, eight), []string{"gap"}},
		{"uncovered tail", rawFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, eight), []string{"cover"}},
		{"duplicate name", rawFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, eight), []string{"duplicate", `"a"`}},
		{"bad metadata", rawFile(`{"__metadata__":{"k":1},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, eight), []string{"__metadata__"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := writeTemp(t, "bad.safetensors", tc.content)
			f, err := Open(p)
			if err == nil {
				f.Close()
				t.Fatal("no error")
			}
			msg := err.Error()
			if !strings.Contains(msg, p) {
				t.Errorf("error %q does not name the file", msg)
			}
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not mention %q", msg, w)
				}
			}
		})
	}
	if _, err := Open(filepath.Join(t.TempDir(), "none.safetensors")); err == nil {
		t.Error("missing file: no error")
	}
}

func TestWriteReadRoundTrip(t *testing.T) {
	in := []TensorOut{
		{Name: "z.weight", DType: BF16, Shape: []int{2, 3}, Data: []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}},
		{Name: "a.bias", DType: F32, Shape: []int{1}, Data: f32Bytes(3.25)},
		{Name: "m.half", DType: F16, Shape: []int{3}, Data: []byte{0, 60, 0, 192, 0, 0}},
		{Name: "empty", DType: F32, Shape: []int{0, 4}, Data: []byte{}},
	}
	var buf bytes.Buffer
	if err := Write(&buf, in, map[string]string{"format": "pt"}); err != nil {
		t.Fatal(err)
	}
	raw := buf.Bytes()
	n := binary.LittleEndian.Uint64(raw[:8])
	if n%8 != 0 {
		t.Errorf("header length %d is not a multiple of 8", n)
	}
	// The header is plain JSON that a generic decoder reads.
	var hdr map[string]json.RawMessage
	if err := json.Unmarshal(raw[8:8+n], &hdr); err != nil {
		t.Fatalf("header JSON: %v", err)
	}
	if len(hdr) != 5 {
		t.Errorf("header has %d entries, want 5", len(hdr))
	}
	f, err := Open(writeTemp(t, "rt.safetensors", raw))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, want := range in {
		got, _, err := f.Data(want.Name)
		if err != nil {
			t.Fatal(err)
		}
		info, _ := f.Info(want.Name)
		if !bytes.Equal(got, want.Data) || info.DType != want.DType || len(info.Shape) != len(want.Shape) {
			t.Errorf("%s: got %v %+v", want.Name, got, info)
		}
	}
	// Data section order follows sorted names.
	a, _ := f.Info("a.bias")
	z, _ := f.Info("z.weight")
	if a.Begin != 0 || z.Begin <= a.Begin {
		t.Errorf("layout: a at %d, z at %d", a.Begin, z.Begin)
	}
	for _, bad := range [][]TensorOut{
		{{Name: "x", DType: F32, Shape: []int{2}, Data: []byte{1}}},
		{{Name: "x", DType: "I8", Shape: []int{1}, Data: []byte{1}}},
		{{Name: "x", DType: F32, Shape: []int{1}, Data: f32Bytes(1)}, {Name: "x", DType: F32, Shape: []int{1}, Data: f32Bytes(1)}},
		{{Name: "__metadata__", DType: F32, Shape: []int{1}, Data: f32Bytes(1)}},
	} {
		if err := Write(&bytes.Buffer{}, bad, nil); err == nil {
			t.Errorf("Write accepted %+v", bad)
		}
	}
}

func writeFile(t *testing.T, path string, ts []TensorOut) {
	t.Helper()
	var buf bytes.Buffer
	if err := Write(&buf, ts, nil); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestOpenDirSingleAndSharded(t *testing.T) {
	one := func(name string, v float32) TensorOut {
		return TensorOut{Name: name, DType: F32, Shape: []int{1}, Data: f32Bytes(v)}
	}
	single := t.TempDir()
	writeFile(t, filepath.Join(single, SingleFileName), []TensorOut{one("a", 1), one("b", 2)})
	d, err := OpenDir(single)
	if err != nil {
		t.Fatal(err)
	}
	if names := d.Names(); len(names) != 2 {
		t.Errorf("single: names %v", names)
	}
	d.Close()

	sharded := t.TempDir()
	writeFile(t, filepath.Join(sharded, "model-00001-of-00002.safetensors"), []TensorOut{one("a", 1), one("b", 2)})
	writeFile(t, filepath.Join(sharded, "model-00002-of-00002.safetensors"), []TensorOut{one("c", 3)})
	index := `{"metadata":{"total_size":12},"weight_map":{"a":"model-00001-of-00002.safetensors","b":"model-00001-of-00002.safetensors","c":"model-00002-of-00002.safetensors"}}`
	idxPath := filepath.Join(sharded, IndexFileName)
	if err := os.WriteFile(idxPath, []byte(index), 0o644); err != nil {
		t.Fatal(err)
	}
	d, err = OpenDir(sharded)
	if err != nil {
		t.Fatal(err)
	}
	for i, n := range []string{"a", "b", "c"} {
		b, _, err := d.Data(n)
		if err != nil || math.Float32frombits(binary.LittleEndian.Uint32(b)) != float32(i+1) {
			t.Errorf("%s: %v %v", n, b, err)
		}
	}
	d.Close()

	// Inconsistent indexes.
	for _, tc := range []struct{ index, want string }{
		{`{"weight_map":{"a":"model-00001-of-00002.safetensors","b":"model-00001-of-00002.safetensors","c":"model-00001-of-00002.safetensors"}}`, "does not contain"},
		{`{"weight_map":{"a":"model-00001-of-00002.safetensors","c":"model-00002-of-00002.safetensors"}}`, "not in the weight map"},
		{`{"weight_map":{"a":"../model-00001-of-00002.safetensors"}}`, "same directory"},
		{`{"weight_map":{"a":"missing.safetensors"}}`, "missing.safetensors"},
		{`{"weight_map":{}}`, "weight_map"},
		{`{"weight_map":`, "malformed"},
	} {
		if err := os.WriteFile(idxPath, []byte(tc.index), 0o644); err != nil {
			t.Fatal(err)
		}
		if d, err := OpenDir(sharded); err == nil || !strings.Contains(err.Error(), tc.want) {
			if d != nil {
				d.Close()
			}
			t.Errorf("index %s: error %v, want mention of %q", tc.index, err, tc.want)
		}
	}
	if _, err := OpenDir(t.TempDir()); err == nil || !strings.Contains(err.Error(), SingleFileName) || !strings.Contains(err.Error(), IndexFileName) {
		t.Errorf("empty dir: %v", err)
	}
}

// FuzzParseHeader: the header parser never panics, and whatever it accepts
// is consistent (offsets tile the data section and match dtype × shape).
func FuzzParseHeader(f *testing.F) {
	seeds := []string{
		`{}`,
		`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`,
		`{"__metadata__":{"format":"pt"},"a":{"dtype":"BF16","shape":[2,2],"data_offsets":[0,8]}}`,
		`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F16","shape":[],"data_offsets":[8,10]}}`,
		`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`,
		`{"a":{"dtype":"F32","shape":[9223372036854775807,2],"data_offsets":[0,8]}}`,
		`{"a":{"dtype":"F32","shape":[2],"data_offsets":[-8,0]}}`,
		`{"a":[1,2,3]}`,
		`[`,
		`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}    `,
	}
	for _, s := range seeds {
		f.Add([]byte(s), int64(8))
		f.Add([]byte(s), int64(10))
	}
	f.Fuzz(func(t *testing.T, header []byte, dataLen int64) {
		if dataLen < 0 {
			dataLen = -dataLen
		}
		h, err := ParseHeader(header, dataLen)
		if err != nil {
			return
		}
		var covered int64
		for _, ti := range h.Tensors {
			if ti.Begin < 0 || ti.End > dataLen || ti.End-ti.Begin != ti.Numel()*int64(ti.DType.Size()) {
				t.Fatalf("accepted inconsistent tensor %+v (data %d)", ti, dataLen)
			}
			covered += ti.End - ti.Begin
		}
		if covered != dataLen {
			t.Fatalf("accepted header covering %d of %d bytes", covered, dataLen)
		}
	})
}
