// Package dl finds and loads the NVIDIA shared libraries (the CUDA driver
// and NVRTC) at run time, so that genbench builds without a CUDA toolkit and
// the same binary runs on machines with and without a GPU.
//
// Discovery tries, in order: the names alone (the system loader's path:
// LD_LIBRARY_PATH, the ldconfig cache), $CUDA_HOME and $CUDA_PATH, every
// /usr/local/cuda* toolkit, and the nvidia/*/lib folders of Python
// environments (pip wheels such as nvidia-cuda-nvrtc-cu12). When nothing
// loads, the error lists every path that was tried and why it failed.
package dl

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/ebitengine/purego"
)

// Library describes one shared library to find.
type Library struct {
	// What names it for people ("CUDA driver", "NVRTC").
	What string
	// Sonames are the file names to try, preferred first.
	Sonames []string
	// Glob, when set, also matches versioned files in each searched folder
	// (e.g. "libnvrtc.so.*"), newest version first.
	Glob string
	// Exclude drops globbed names containing this substring.
	Exclude string
	// SearchToolkits says whether toolkit and Python folders are searched
	// (the driver comes with the display driver, not with a toolkit, but
	// toolkit stubs must never be loaded, so it searches the loader only).
	SearchToolkits bool
	// Hint says how to install it.
	Hint string
}

// Driver is the CUDA driver library (installed with the NVIDIA driver).
func Driver() Library {
	return Library{
		What:    "CUDA driver",
		Sonames: []string{"libcuda.so.1", "libcuda.so"},
		Hint:    "install the NVIDIA driver (it provides libcuda.so.1)",
	}
}

// NVRTC is the CUDA run-time compiler.
func NVRTC() Library {
	return Library{
		What: "NVRTC",
		Sonames: []string{"libnvrtc.so", "libnvrtc.so.13", "libnvrtc.so.12",
			"libnvrtc.so.11.2", "libnvrtc.so.11.1", "libnvrtc.so.11.0"},
		Glob:           "libnvrtc.so.*",
		Exclude:        "builtins",
		SearchToolkits: true,
		Hint: "install NVRTC (a CUDA toolkit, `pip install nvidia-cuda-nvrtc-cu12`, " +
			"or Debian's libnvrtc11.2 via scripts/install-deps.sh), or set CUDA_HOME",
	}
}

// Env is the environment discovery reads. The zero value reads nothing; use
// SystemEnv for the real process environment.
type Env struct {
	Getenv func(string) string
	Home   string
	// Roots are the folders globbed for toolkits (default "/usr/local").
	Roots []string
	// PythonPrefixes are Python installation prefixes (a folder holding
	// lib/python3.*/site-packages), e.g. derived from python3 on PATH.
	PythonPrefixes []string
}

// SystemEnv returns the process environment: the real variables and home
// folder, /usr/local, and the prefixes of python3/python on PATH and of
// pyenv versions.
func SystemEnv() Env {
	home, _ := os.UserHomeDir()
	e := Env{Getenv: os.Getenv, Home: home, Roots: []string{"/usr/local"}}
	for _, dir := range filepath.SplitList(os.Getenv("PATH")) {
		for _, name := range []string{"python3", "python"} {
			p := filepath.Join(dir, name)
			if real, err := filepath.EvalSymlinks(p); err == nil {
				e.PythonPrefixes = append(e.PythonPrefixes, filepath.Dir(filepath.Dir(real)))
			}
		}
	}
	if home != "" {
		if m, _ := filepath.Glob(filepath.Join(home, ".pyenv", "versions", "*")); len(m) > 0 {
			e.PythonPrefixes = append(e.PythonPrefixes, m...)
		}
	}
	e.PythonPrefixes = append(e.PythonPrefixes, "/usr", "/usr/local", "/opt/conda")
	return e
}

// Options control discovery.
type Options struct {
	// Dirs, when non-empty, replaces the whole search: only these folders
	// are tried (the library-missing path is tested this way).
	Dirs []string
	// Env is the environment searched when Dirs is empty.
	Env Env
}

// Candidates lists the paths (or bare sonames for the system loader) to try
// for lib, in order, without duplicates. It touches the file system only
// to glob folders.
func Candidates(lib Library, opts Options) []string {
	var out []string
	seen := map[string]bool{}
	add := func(p string) {
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	addDir := func(dir string) {
		if dir == "" {
			return
		}
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			return
		}
		for _, s := range lib.Sonames {
			if fileExists(filepath.Join(dir, s)) {
				add(filepath.Join(dir, s))
			}
		}
		if lib.Glob != "" {
			m, _ := filepath.Glob(filepath.Join(dir, lib.Glob))
			m = filterOut(m, lib.Exclude)
			sortByVersionDesc(m)
			for _, p := range m {
				add(p)
			}
		}
	}
	if len(opts.Dirs) > 0 {
		for _, d := range opts.Dirs {
			for _, s := range lib.Sonames {
				add(filepath.Join(d, s))
			}
			addDir(d)
		}
		return out
	}
	for _, s := range lib.Sonames {
		add(s)
	}
	if !lib.SearchToolkits {
		return out
	}
	for _, dir := range searchDirs(opts.Env) {
		addDir(dir)
	}
	return out
}

// searchDirs lists toolkit and Python library folders in search order.
func searchDirs(env Env) []string {
	var dirs []string
	getenv := env.Getenv
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	libDirs := func(root string) []string {
		return []string{filepath.Join(root, "lib64"), filepath.Join(root, "lib"),
			filepath.Join(root, "targets", "x86_64-linux", "lib"),
			filepath.Join(root, "targets", "sbsa-linux", "lib")}
	}
	for _, v := range []string{"CUDA_HOME", "CUDA_PATH", "CUDA_ROOT"} {
		if root := getenv(v); root != "" {
			dirs = append(dirs, libDirs(root)...)
		}
	}
	for _, root := range env.Roots {
		dirs = append(dirs, libDirs(filepath.Join(root, "cuda"))...)
		m, _ := filepath.Glob(filepath.Join(root, "cuda-*"))
		sortByVersionDesc(m)
		for _, t := range m {
			dirs = append(dirs, libDirs(t)...)
		}
	}
	// Python environments: an active virtualenv/conda env, ./.venv, the
	// user site, and the given prefixes.
	var prefixes []string
	for _, v := range []string{"VIRTUAL_ENV", "CONDA_PREFIX"} {
		if p := getenv(v); p != "" {
			prefixes = append(prefixes, p)
		}
	}
	if wd, err := os.Getwd(); err == nil {
		prefixes = append(prefixes, filepath.Join(wd, ".venv"))
	}
	if env.Home != "" {
		prefixes = append(prefixes, filepath.Join(env.Home, ".local"))
	}
	prefixes = append(prefixes, env.PythonPrefixes...)
	for _, p := range prefixes {
		for _, sp := range []string{"site-packages", "dist-packages"} {
			m, _ := filepath.Glob(filepath.Join(p, "lib", "python3*", sp))
			sortByVersionDesc(m)
			for _, site := range m {
				libs, _ := filepath.Glob(filepath.Join(site, "nvidia", "*", "lib"))
				sort.Strings(libs)
				dirs = append(dirs, libs...)
			}
		}
	}
	return dirs
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}

func filterOut(m []string, sub string) []string {
	if sub == "" {
		return m
	}
	out := m[:0]
	for _, p := range m {
		if !strings.Contains(filepath.Base(p), sub) {
			out = append(out, p)
		}
	}
	return out
}

// versionKey extracts the dotted numbers after the last "so." or "-" of a
// name, for ordering newest first.
func versionKey(p string) []int {
	base := filepath.Base(p)
	i := strings.LastIndex(base, ".so.")
	var s string
	switch {
	case i >= 0:
		s = base[i+4:]
	case strings.LastIndex(base, "-") >= 0:
		s = base[strings.LastIndex(base, "-")+1:]
	default:
		return nil
	}
	var v []int
	for _, f := range strings.Split(s, ".") {
		n, err := strconv.Atoi(f)
		if err != nil {
			break
		}
		v = append(v, n)
	}
	return v
}

func sortByVersionDesc(m []string) {
	sort.SliceStable(m, func(a, b int) bool {
		va, vb := versionKey(m[a]), versionKey(m[b])
		for i := 0; i < len(va) && i < len(vb); i++ {
			if va[i] != vb[i] {
				return va[i] > vb[i]
			}
		}
		if len(va) != len(vb) {
			return len(va) > len(vb)
		}
		return m[a] < m[b]
	})
}

// Handle is a loaded library.
type Handle struct {
	Path string  // what was loaded (a path or a soname)
	h    uintptr // dlopen handle
}

// ErrNotFound is wrapped by Open's error when no candidate loaded.
var ErrNotFound = errors.New("library not found")

// Open loads the first candidate of lib that dlopen accepts. The error,
// when none does, names the library, every candidate with its failure, and
// the install hint.
func Open(lib Library, opts Options) (*Handle, error) {
	cands := Candidates(lib, opts)
	var tried []string
	for _, c := range cands {
		h, err := purego.Dlopen(c, purego.RTLD_NOW|purego.RTLD_GLOBAL)
		if err == nil {
			return &Handle{Path: c, h: h}, nil
		}
		msg := err.Error()
		if strings.Contains(msg, "No such file") || strings.Contains(msg, "cannot open shared object") {
			msg = "not found"
		}
		tried = append(tried, fmt.Sprintf("%s (%s)", c, msg))
	}
	if len(tried) == 0 {
		tried = append(tried, "no candidate paths")
	}
	return nil, fmt.Errorf("cannot load the %s library: %w; tried %s; %s",
		lib.What, ErrNotFound, strings.Join(tried, ", "), lib.Hint)
}

// OpenAll loads every candidate of lib that dlopen accepts, each with
// RTLD_LOCAL so that several versions can sit side by side while the caller
// picks one (and closes the others). Paths that resolve to the same file
// are loaded once. The error, when none loads, is Open's.
func OpenAll(lib Library, opts Options) ([]*Handle, error) {
	var out []*Handle
	var tried []string
	seen := map[string]bool{}
	for _, c := range Candidates(lib, opts) {
		if strings.Contains(c, "/") {
			if real, err := filepath.EvalSymlinks(c); err == nil {
				if seen[real] {
					continue
				}
				seen[real] = true
			}
		}
		h, err := purego.Dlopen(c, purego.RTLD_NOW|purego.RTLD_LOCAL)
		if err == nil {
			out = append(out, &Handle{Path: c, h: h})
			continue
		}
		msg := err.Error()
		if strings.Contains(msg, "No such file") || strings.Contains(msg, "cannot open shared object") {
			msg = "not found"
		}
		tried = append(tried, fmt.Sprintf("%s (%s)", c, msg))
	}
	if len(out) > 0 {
		return out, nil
	}
	if len(tried) == 0 {
		tried = append(tried, "no candidate paths")
	}
	return nil, fmt.Errorf("cannot load the %s library: %w; tried %s; %s",
		lib.What, ErrNotFound, strings.Join(tried, ", "), lib.Hint)
}

// Sym returns the address of a symbol, or an error naming the library and
// symbol.
func (h *Handle) Sym(name string) (uintptr, error) {
	p, err := purego.Dlsym(h.h, name)
	if err != nil || p == 0 {
		return 0, fmt.Errorf("%s: symbol %s not found (library too old?)", h.Path, name)
	}
	return p, nil
}

// OptionalSym returns the address of a symbol, or 0 when it is absent.
func (h *Handle) OptionalSym(name string) uintptr {
	p, err := purego.Dlsym(h.h, name)
	if err != nil {
		return 0
	}
	return p
}

// Close unloads the library.
func (h *Handle) Close() error {
	if h == nil || h.h == 0 {
		return nil
	}
	err := purego.Dlclose(h.h)
	h.h = 0
	return err
}
