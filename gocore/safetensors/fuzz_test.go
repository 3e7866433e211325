package safetensors

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// FuzzIndex fuzzes model.safetensors.index.json next to two real shards
// (a, b in the first; c in the second): OpenDir must refuse with an error
// or open a directory whose tensors are exactly the weight map's, each
// readable from the shard the map names.
func FuzzIndex(f *testing.F) {
	dir := f.TempDir()
	one := func(name string, v float32) TensorOut {
		return TensorOut{Name: name, DType: F32, Shape: []int{1}, Data: f32Bytes(v)}
	}
	for name, ts := range map[string][]TensorOut{
		"model-00001-of-00002.safetensors": {one("a", 1), one("b", 2)},
		"model-00002-of-00002.safetensors": {one("c", 3)},
	} {
		var buf bytes.Buffer
		if err := Write(&buf, ts, nil); err != nil {
			f.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), buf.Bytes(), 0o644); err != nil {
			f.Fatal(err)
		}
	}
	for _, s := range []string{
		`{"metadata":{"total_size":12},"weight_map":{"a":"model-00001-of-00002.safetensors","b":"model-00001-of-00002.safetensors","c":"model-00002-of-00002.safetensors"}}`,
		`{"weight_map":{"a":"model-00001-of-00002.safetensors","c":"model-00002-of-00002.safetensors"}}`,
		`{"weight_map":{"a":"../model-00001-of-00002.safetensors"}}`,
		`{"weight_map":{"a":"."}}`, `{"weight_map":{}}`, `{"weight_map":`, `[]`, `{"weight_map":{"a":"model.safetensors.index.json"}}`,
	} {
		f.Add([]byte(s))
	}
	idxPath := filepath.Join(dir, IndexFileName)
	f.Fuzz(func(t *testing.T, index []byte) {
		if err := os.WriteFile(idxPath, index, 0o644); err != nil {
			t.Fatal(err)
		}
		d, err := OpenDir(dir)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error")
			}
			return
		}
		defer d.Close()
		var idx struct {
			WeightMap map[string]string `json:"weight_map"`
		}
		if err := json.Unmarshal(index, &idx); err != nil {
			t.Fatalf("accepted an index that is not JSON: %v", err)
		}
		var want []string
		for n := range idx.WeightMap {
			want = append(want, n)
		}
		slices.Sort(want)
		if got := d.Names(); !slices.Equal(got, want) {
			t.Fatalf("names %v, weight map %v", got, want)
		}
		for _, n := range want {
			if _, _, err := d.Data(n); err != nil {
				t.Fatalf("tensor %s: %v", n, err)
			}
		}
	})
}
