package safetensors

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/genbench/genbench/gocore/sidefile"
)

// File is one memory-mapped safetensors file.
type File struct {
	Path     string
	Metadata map[string]string

	tensors []TensorInfo // sorted by name
	index   map[string]int
	mapped  []byte // the whole file
	data    []byte // the data section (a slice of mapped)
	dataOff int64  // file offset of the data section
}

// Open maps path and validates its header. The error names the file and,
// where it applies, the tensor.
func Open(path string) (*File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("safetensors: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("safetensors: %w", err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("safetensors: %s: not a regular file", path)
	}
	size := st.Size()
	if size < 8 {
		return nil, fmt.Errorf("safetensors: %s: file is %d bytes, too short for the 8-byte header length", path, size)
	}
	var lenBuf [8]byte
	if _, err := f.ReadAt(lenBuf[:], 0); err != nil {
		return nil, fmt.Errorf("safetensors: %s: reading header length: %w", path, err)
	}
	n := binary.LittleEndian.Uint64(lenBuf[:])
	if n > MaxHeaderSize {
		return nil, fmt.Errorf("safetensors: %s: header length %d exceeds the limit of %d bytes", path, n, MaxHeaderSize)
	}
	if int64(n) > size-8 {
		return nil, fmt.Errorf("safetensors: %s: header length %d exceeds the file size %d", path, n, size)
	}
	mapped, err := unix.Mmap(int(f.Fd()), 0, int(size), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("safetensors: %s: mmap: %w", path, err)
	}
	h, err := ParseHeader(mapped[8:8+n], size-8-int64(n))
	if err != nil {
		_ = unix.Munmap(mapped)
		return nil, fmt.Errorf("safetensors: %s: %w", path, err)
	}
	sf := &File{
		Path:     path,
		Metadata: h.Metadata,
		tensors:  h.Tensors,
		index:    make(map[string]int, len(h.Tensors)),
		mapped:   mapped,
		data:     mapped[8+n:],
		dataOff:  int64(8 + n),
	}
	for i, t := range h.Tensors {
		sf.index[t.Name] = i
	}
	return sf, nil
}

// Names lists the tensor names, sorted.
func (f *File) Names() []string {
	out := make([]string, len(f.tensors))
	for i, t := range f.tensors {
		out[i] = t.Name
	}
	return out
}

// Info describes the named tensor.
func (f *File) Info(name string) (TensorInfo, bool) {
	i, ok := f.index[name]
	if !ok {
		return TensorInfo{}, false
	}
	return f.tensors[i], true
}

// Data returns the named tensor's raw little-endian bytes, a read-only slice
// of the memory map (valid until Close), and their file offset.
func (f *File) Data(name string) ([]byte, int64, error) {
	i, ok := f.index[name]
	if !ok {
		return nil, 0, fmt.Errorf("safetensors: %s: no tensor %q", f.Path, name)
	}
	if f.mapped == nil {
		return nil, 0, fmt.Errorf("safetensors: %s: file is closed", f.Path)
	}
	t := &f.tensors[i]
	return f.data[t.Begin:t.End:t.End], f.dataOff + t.Begin, nil
}

// Close unmaps the file; slices returned by Data become invalid. Close is
// idempotent.
func (f *File) Close() error {
	if f.mapped == nil {
		return nil
	}
	err := unix.Munmap(f.mapped)
	f.mapped, f.data = nil, nil
	if err != nil {
		return fmt.Errorf("safetensors: %s: munmap: %w", f.Path, err)
	}
	return nil
}

// Standard file names of a Hugging Face checkpoint.
const (
	SingleFileName = "model.safetensors"
	IndexFileName  = "model.safetensors.index.json"
)

// Dir is the set of safetensors files of a checkpoint directory, seen as one
// collection of uniquely named tensors.
type Dir struct {
	Path  string
	Files []*File
	owner map[string]*File
	names []string
}

// OpenDir opens dir/model.safetensors or, when that is absent,
// dir/model.safetensors.index.json and every shard it names. A sharded
// checkpoint must be consistent: every tensor in the weight map is in the
// shard it names, every shard tensor is in the weight map, and no name is in
// two shards.
func OpenDir(dir string) (*Dir, error) {
	single := filepath.Join(dir, SingleFileName)
	_, err := os.Stat(single)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		// e.g. a symlink loop or a permission problem: not "absent"
		return nil, fmt.Errorf("safetensors: %w", err)
	}
	if err == nil {
		f, err := Open(single)
		if err != nil {
			return nil, err
		}
		d := &Dir{Path: dir, Files: []*File{f}, owner: map[string]*File{}}
		for _, n := range f.Names() {
			d.owner[n] = f
		}
		d.names = f.Names()
		return d, nil
	}
	indexPath := filepath.Join(dir, IndexFileName)
	raw, err := sidefile.Read(indexPath, sidefile.IndexLimit)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("safetensors: %s: no %s or %s", dir, SingleFileName, IndexFileName)
		}
		return nil, fmt.Errorf("safetensors: %w", err)
	}
	var idx struct {
		WeightMap map[string]string `json:"weight_map"`
	}
	if err := json.Unmarshal(raw, &idx); err != nil {
		return nil, fmt.Errorf("safetensors: %s: malformed JSON: %w", indexPath, err)
	}
	if len(idx.WeightMap) == 0 {
		return nil, fmt.Errorf("safetensors: %s: weight_map is missing or empty", indexPath)
	}
	d := &Dir{Path: dir, owner: map[string]*File{}}
	shards := map[string]*File{}
	var shardNames []string
	for name, shard := range idx.WeightMap {
		if shard == "" || shard != filepath.Base(shard) || shard == "." || shard == ".." || strings.ContainsAny(shard, `/\`) {
			return nil, fmt.Errorf("safetensors: %s: tensor %q maps to %q, want a file name in the same directory", indexPath, name, shard)
		}
		if _, ok := shards[shard]; !ok {
			shards[shard] = nil
			shardNames = append(shardNames, shard)
		}
	}
	slices.Sort(shardNames)
	for _, s := range shardNames {
		f, err := Open(filepath.Join(dir, s))
		if err != nil {
			d.Close()
			return nil, fmt.Errorf("%s: shard: %w", indexPath, err)
		}
		shards[s] = f
		d.Files = append(d.Files, f)
	}
	for name, shard := range idx.WeightMap {
		f := shards[shard]
		if _, ok := f.Info(name); !ok {
			d.Close()
			return nil, fmt.Errorf("safetensors: %s: tensor %q is mapped to %s, which does not contain it", indexPath, name, shard)
		}
		d.owner[name] = f
	}
	for _, f := range d.Files {
		for _, n := range f.Names() {
			if d.owner[n] != f {
				d.Close()
				if other := d.owner[n]; other != nil {
					return nil, fmt.Errorf("safetensors: %s: tensor %q is in both %s and %s", indexPath, n, filepath.Base(f.Path), filepath.Base(other.Path))
				}
				return nil, fmt.Errorf("safetensors: %s: tensor %q of %s is not in the weight map", indexPath, n, filepath.Base(f.Path))
			}
		}
	}
	for n := range d.owner {
		d.names = append(d.names, n)
	}
	slices.Sort(d.names)
	return d, nil
}

// Names lists every tensor name, sorted.
func (d *Dir) Names() []string { return slices.Clone(d.names) }

// Info describes the named tensor.
func (d *Dir) Info(name string) (TensorInfo, bool) {
	f, ok := d.owner[name]
	if !ok {
		return TensorInfo{}, false
	}
	return f.Info(name)
}

// Data returns the named tensor's bytes (see File.Data).
func (d *Dir) Data(name string) ([]byte, int64, error) {
	f, ok := d.owner[name]
	if !ok {
		return nil, 0, fmt.Errorf("safetensors: %s: no tensor %q", d.Path, name)
	}
	return f.Data(name)
}

// Close unmaps every file.
func (d *Dir) Close() error {
	var first error
	for _, f := range d.Files {
		if err := f.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}
