// Package kernels holds the CUDA C++ sources of every GPU op (embedded in
// the binary) and compiles them with NVRTC for the GPU at hand: a cubin for
// an architecture NVRTC knows, otherwise PTX for the newest architecture it
// supports, which the driver JIT-compiles. Results are cached on disk, keyed
// by a hash of the source, the options, the target and the NVRTC version,
// and written atomically (temporary file + rename).
//
// The sources use no CUDA toolkit headers: common.cuh (prepended to each
// file) defines bf16 helpers on unsigned short and the reductions.
package kernels

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/genbench/genbench/cuda/nvrtc"
)

//go:embed *.cu common.cuh
var sources embed.FS

// Module names one kernel source file (an op family) and the kernels it
// defines.
type Module struct {
	Name    string   // file name, e.g. "matmul.cu"
	Kernels []string // extern "C" entry points
}

// Modules lists every kernel source with its entry points.
func Modules() []Module {
	return []Module{
		{"elementwise.cu", []string{"embed", "glu", "add", "softcap", "add_i32"}},
		{"norm.cu", []string{"rmsnorm", "rmsnorm_add"}},
		{"matmul.cu", []string{"gemv", "gemm"}},
		{"rope.cu", []string{"rope_kv"}},
		{"attention.cu", []string{"attention", "attn_split_scores", "attn_split_pv"}},
		{"sample.cu", []string{"sample", "sample_greedy", "sample_scores", "sample_gather", "mark_presence"}},
	}
}

// Source returns the full text NVRTC compiles for a module: common.cuh
// followed by the module's file.
func Source(name string) (string, error) {
	common, err := sources.ReadFile("common.cuh")
	if err != nil {
		return "", fmt.Errorf("kernels: %w", err)
	}
	body, err := sources.ReadFile(name)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("kernels: no kernel source %q", name)
		}
		return "", fmt.Errorf("kernels: %w", err)
	}
	return string(common) + "\n#line 1 \"" + name + "\"\n" + string(body), nil
}

// Target is what to compile for.
type Target struct {
	// Arch is the compute capability as major*10+minor (90 for sm_90).
	Arch int
	// PTX compiles to PTX for compute_<Arch> instead of a cubin.
	PTX bool
}

func (t Target) String() string {
	if t.PTX {
		return fmt.Sprintf("compute_%d", t.Arch)
	}
	return fmt.Sprintf("sm_%d", t.Arch)
}

// ChooseTarget picks the target for a GPU of compute capability cc given
// the architectures NVRTC supports (ascending; may be empty when unknown):
// a cubin when NVRTC knows cc, else PTX for the newest supported
// architecture not above cc (the driver JIT-compiles it forward).
func ChooseTarget(cc int, supported []int, cubins bool) (Target, error) {
	if len(supported) == 0 {
		// An old NVRTC that cannot list its architectures: trust it for cc.
		return Target{Arch: cc, PTX: !cubins}, nil
	}
	best := 0
	for _, a := range supported {
		if a == cc && cubins {
			return Target{Arch: cc}, nil
		}
		if a <= cc && a > best {
			best = a
		}
	}
	if best == 0 {
		return Target{}, fmt.Errorf("kernels: NVRTC supports sm_%v, none at or below this GPU's sm_%d", supported, cc)
	}
	return Target{Arch: best, PTX: true}, nil
}

// Options are the NVRTC options for a target (no toolkit include paths).
//
// There is deliberately no --restrict: it would declare every kernel
// pointer parameter __restrict__, but several kernels are called with
// aliased pointers on purpose (rmsnorm with out == x, add with out == a,
// glu with out == gate, the decode GEMV's residual epilogue with
// residOut == resid). The sources mark __restrict__ by hand only where no
// caller aliases (weights, caches, tables, inputs never written).
func Options(t Target) []string {
	return []string{
		"--gpu-architecture=" + t.String(),
		"--std=c++17",
		"-default-device",
		"-lineinfo",
	}
}

// CacheKey is the hex SHA-256 of everything that determines the compiled
// image.
func CacheKey(source string, options []string, t Target, nvrtcVersion string) string {
	h := sha256.New()
	write := func(s string) {
		fmt.Fprintf(h, "%d:%s;", len(s), s)
	}
	write("genbench-kernels-v1")
	write(source)
	write(strings.Join(options, "\x00"))
	write(t.String())
	write(nvrtcVersion)
	return hex.EncodeToString(h.Sum(nil))
}

// DefaultCacheDir is $XDG_CACHE_HOME/genbench/kernels, else
// ~/.cache/genbench/kernels.
func DefaultCacheDir() (string, error) {
	if x := os.Getenv("XDG_CACHE_HOME"); x != "" {
		return filepath.Join(x, "genbench", "kernels"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("kernels: no cache folder: set XDG_CACHE_HOME or HOME: %w", err)
	}
	return filepath.Join(home, ".cache", "genbench", "kernels"), nil
}

// WriteAtomic writes data to path via a temporary file in the same folder
// and a rename, so readers never see a partial file.
func WriteAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("kernels: cache folder: %w", err)
	}
	f, err := os.CreateTemp(dir, ".tmp-"+filepath.Base(path)+"-*")
	if err != nil {
		return fmt.Errorf("kernels: cache write: %w", err)
	}
	tmp := f.Name()
	_, werr := f.Write(data)
	serr := f.Sync()
	cerr := f.Close()
	if err := errors.Join(werr, serr, cerr); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("kernels: cache write %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("kernels: cache rename to %s: %w", path, err)
	}
	return nil
}

// Image is a compiled module.
type Image struct {
	Module Module
	Target Target
	Data   []byte // cubin, or NUL-terminated PTX
	Cached bool   // read from the disk cache
	Log    string // compiler warnings
}

// Compiler compiles modules for one target with a disk cache.
type Compiler struct {
	NVRTC    *nvrtc.NVRTC
	Target   Target
	CacheDir string // "" disables the cache
}

// Compile returns the image of one module, from the cache when present.
func (c *Compiler) Compile(m Module) (*Image, error) {
	src, err := Source(m.Name)
	if err != nil {
		return nil, err
	}
	opts := Options(c.Target)
	key := CacheKey(src, opts, c.Target, c.NVRTC.VersionString())
	ext := ".cubin"
	if c.Target.PTX {
		ext = ".ptx"
	}
	var path string
	if c.CacheDir != "" {
		path = filepath.Join(c.CacheDir, strings.TrimSuffix(m.Name, ".cu")+"-"+c.Target.String()+"-"+key[:24]+ext)
		if data, err := os.ReadFile(path); err == nil && len(data) > 0 {
			return &Image{Module: m, Target: c.Target, Data: data, Cached: true}, nil
		}
	}
	out, err := c.NVRTC.Compile(src, m.Name, opts)
	if err != nil {
		return nil, fmt.Errorf("kernels: compile %s for %s with NVRTC %s: %w", m.Name, c.Target, c.NVRTC.VersionString(), err)
	}
	data := out.Image
	if out.PTX && (len(data) == 0 || data[len(data)-1] != 0) {
		data = append(data, 0)
	}
	if path != "" {
		// A cache that cannot be written only costs a recompile next time.
		_ = WriteAtomic(path, data)
	}
	return &Image{Module: m, Target: c.Target, Data: data, Log: out.Log}, nil
}
