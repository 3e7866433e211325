// Package nvrtc binds NVIDIA's run-time CUDA C++ compiler (libnvrtc),
// loaded at run time through purego. It compiles kernel sources to a cubin
// for a real architecture (sm_XY) or to PTX for a virtual one
// (compute_XY), which the driver JIT-compiles for newer GPUs.
//
// An NVRTC value may be used from any goroutine, one call at a time per
// value (calls are serialised by a mutex). The library stays loaded for the
// life of the process: unloading NVRTC (or the driver) is not safe.
package nvrtc

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"unsafe"

	"github.com/ebitengine/purego"
	"github.com/genbench/genbench/cuda/internal/dl"
	"github.com/genbench/genbench/cuda/internal/hostmem"
)

// NVRTC is a loaded libnvrtc.
type NVRTC struct {
	mu  sync.Mutex
	lib *dl.Handle

	version, getNumSupportedArchs, getSupportedArchs, createProgram,
	compileProgram, getProgramLogSize, getProgramLog, getCUBINSize, getCUBIN,
	getPTXSize, getPTX, destroyProgram, getErrorString uintptr

	major, minor int
	archs        []int
}

// Load opens libnvrtc (see dl.Options for where it looks) and reads its
// version and supported architectures.
func Load(opts dl.Options) (*NVRTC, error) {
	lib, err := dl.Open(dl.NVRTC(), opts)
	if err != nil {
		return nil, err
	}
	return bind(lib)
}

// LoadAll opens every NVRTC the search finds (see dl.Options), each one
// once, for Choose. The error, when none loads, lists every path tried.
func LoadAll(opts dl.Options) ([]*NVRTC, error) {
	libs, err := dl.OpenAll(dl.NVRTC(), opts)
	if err != nil {
		return nil, err
	}
	var out []*NVRTC
	var errs []string
	for _, lib := range libs {
		n, err := bind(lib)
		if err != nil {
			errs = append(errs, err.Error())
			continue
		}
		out = append(out, n)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("nvrtc: no usable NVRTC: %s", strings.Join(errs, "; "))
	}
	return out, nil
}

// Release unloads an NVRTC that was never used to compile (one Choose
// passed over).
func (n *NVRTC) Release() {
	if n != nil && n.lib != nil {
		_ = n.lib.Close()
	}
}

// Choose picks, among loaded NVRTCs (in search order), the one to use with
// a driver that supports CUDA driverVersion (cuDriverGetVersion, e.g. 12080
// for 12.8; <= 0 when unknown: the first one). A driver loads cubins and
// PTX from an NVRTC of its own CUDA version or older, so the newest of
// those is taken. Only when there is none, an NVRTC of the same major
// version but a newer minor one is accepted with cubinOnly set: the CUDA
// minor-version compatibility rules let the driver load its cubins but not
// JIT-compile its PTX. Otherwise the error names the driver's CUDA version
// and every NVRTC found.
func Choose(libs []*NVRTC, driverVersion int) (chosen *NVRTC, cubinOnly bool, err error) {
	vs := make([][2]int, len(libs))
	for i, n := range libs {
		vs[i] = [2]int{n.major, n.minor}
	}
	i, cubinOnly, err := ChooseVersion(vs, driverVersion)
	if err != nil {
		var found []string
		for _, n := range libs {
			found = append(found, fmt.Sprintf("NVRTC %s (%s)", n.VersionString(), n.Path()))
		}
		return nil, false, fmt.Errorf("%w; found %s", err, strings.Join(found, ", "))
	}
	return libs[i], cubinOnly, nil
}

// ChooseVersion is Choose on (major, minor) pairs: the index to use.
func ChooseVersion(versions [][2]int, driverVersion int) (int, bool, error) {
	if len(versions) == 0 {
		return -1, false, fmt.Errorf("nvrtc: no NVRTC found")
	}
	if driverVersion <= 0 {
		return 0, false, nil
	}
	dv := [2]int{driverVersion / 1000, (driverVersion % 1000) / 10}
	less := func(a, b [2]int) bool { return a[0] < b[0] || (a[0] == b[0] && a[1] < b[1]) }
	best := -1
	for i, v := range versions {
		if !less(dv, v) && (best < 0 || less(versions[best], v)) {
			best = i
		}
	}
	if best >= 0 {
		return best, false, nil
	}
	for i, v := range versions {
		if v[0] == dv[0] && (best < 0 || less(v, versions[best])) {
			best = i
		}
	}
	if best >= 0 {
		return best, true, nil
	}
	return -1, false, fmt.Errorf("nvrtc: every NVRTC found is newer than the driver, which supports CUDA %d.%d: "+
		"its cubins and PTX would not load; install the NVRTC of CUDA %d.%d or older "+
		"(pip install nvidia-cuda-nvrtc-cu%d, or a toolkit under CUDA_HOME), or a newer NVIDIA driver",
		dv[0], dv[1], dv[0], dv[1], dv[0])
}

// bind resolves NVRTC's entry points in lib and reads its version.
func bind(lib *dl.Handle) (*NVRTC, error) {
	n := &NVRTC{lib: lib}
	req := []struct {
		p    *uintptr
		name string
	}{
		{&n.version, "nvrtcVersion"},
		{&n.createProgram, "nvrtcCreateProgram"},
		{&n.compileProgram, "nvrtcCompileProgram"},
		{&n.getProgramLogSize, "nvrtcGetProgramLogSize"},
		{&n.getProgramLog, "nvrtcGetProgramLog"},
		{&n.getPTXSize, "nvrtcGetPTXSize"},
		{&n.getPTX, "nvrtcGetPTX"},
		{&n.destroyProgram, "nvrtcDestroyProgram"},
		{&n.getErrorString, "nvrtcGetErrorString"},
	}
	for _, r := range req {
		p, err := lib.Sym(r.name)
		if err != nil {
			lib.Close()
			return nil, fmt.Errorf("nvrtc: %w", err)
		}
		*r.p = p
	}
	// Present from NVRTC 11.1/11.2 on.
	n.getCUBINSize = lib.OptionalSym("nvrtcGetCUBINSize")
	n.getCUBIN = lib.OptionalSym("nvrtcGetCUBIN")
	n.getNumSupportedArchs = lib.OptionalSym("nvrtcGetNumSupportedArchs")
	n.getSupportedArchs = lib.OptionalSym("nvrtcGetSupportedArchs")

	if err := n.readVersion(); err != nil {
		lib.Close()
		return nil, err
	}
	return n, nil
}

// Path is the loaded library's path or soname.
func (n *NVRTC) Path() string { return n.lib.Path }

// Version returns NVRTC's major and minor version.
func (n *NVRTC) Version() (major, minor int) { return n.major, n.minor }

// VersionString is "major.minor".
func (n *NVRTC) VersionString() string { return fmt.Sprintf("%d.%d", n.major, n.minor) }

// SupportedArchs returns the sm numbers NVRTC can build cubins for (e.g.
// 80, 86, 90), ascending. It is empty when this NVRTC cannot say.
func (n *NVRTC) SupportedArchs() []int { return append([]int(nil), n.archs...) }

// HasCUBIN reports whether NVRTC can emit cubins (11.1+).
func (n *NVRTC) HasCUBIN() bool { return n.getCUBIN != 0 && n.getCUBINSize != 0 }

func (n *NVRTC) readVersion() error {
	a, err := hostmem.NewArena(4096)
	if err != nil {
		return err
	}
	defer a.Free()
	o, _ := a.Alloc(8, 8)
	if err := n.call("nvrtcVersion", n.version, hostmem.Addr(o), hostmem.Addr(o[4:])); err != nil {
		return err
	}
	n.major, n.minor = int(hostmem.I32At(o)), int(hostmem.I32At(o[4:]))
	if n.getNumSupportedArchs != 0 && n.getSupportedArchs != 0 {
		if err := n.call("nvrtcGetNumSupportedArchs", n.getNumSupportedArchs, hostmem.Addr(o)); err != nil {
			return err
		}
		cnt := int(hostmem.I32At(o))
		if cnt > 0 && cnt < 256 {
			arr, err := a.Alloc(4*cnt, 8)
			if err != nil {
				return err
			}
			if err := n.call("nvrtcGetSupportedArchs", n.getSupportedArchs, hostmem.Addr(arr)); err != nil {
				return err
			}
			for i := 0; i < cnt; i++ {
				n.archs = append(n.archs, int(hostmem.I32At(arr[4*i:])))
			}
			sort.Ints(n.archs)
		}
	}
	return nil
}

// Error is a failed NVRTC call.
type Error struct {
	Op   string
	Code int
	Msg  string
	Log  string // the compiler log, for compile errors
}

func (e *Error) Error() string {
	s := fmt.Sprintf("nvrtc: %s: %s (%d)", e.Op, e.Msg, e.Code)
	if e.Log != "" {
		s += "\n" + e.Log
	}
	return s
}

func (n *NVRTC) call(op string, fn uintptr, args ...uintptr) error {
	r, _, _ := purego.SyscallN(fn, args...)
	if code := int(int32(uint32(r))); code != 0 {
		return &Error{Op: op, Code: code, Msg: n.errorString(code)}
	}
	return nil
}

func (n *NVRTC) errorString(code int) string {
	r, _, _ := purego.SyscallN(n.getErrorString, uintptr(code))
	// r is a pointer to a static C string; read it through a slot so no
	// uintptr becomes a pointer in Go code.
	slot := [1]uintptr{r}
	return hostmem.GoString(*(*unsafe.Pointer)(unsafe.Pointer(&slot[0])))
}

// Output is what a compile produced.
type Output struct {
	Image []byte // cubin, or NUL-terminated PTX
	PTX   bool   // Image is PTX text
	Log   string // compiler log (warnings)
}

// Compile compiles src (named name in messages) with the given options.
// When an option "--gpu-architecture=sm_XY" is present and cubins are
// supported, the result is a cubin; with "compute_XY" it is PTX. A compile
// error returns *Error with the log.
func (n *NVRTC) Compile(src, name string, options []string) (*Output, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	size := len(src) + len(name) + 64
	for _, o := range options {
		size += len(o) + 1 + 8
	}
	a, err := hostmem.NewArena(size + 4096)
	if err != nil {
		return nil, err
	}
	defer a.Free()
	csrc, err := a.CString(src)
	if err != nil {
		return nil, err
	}
	cname, err := a.CString(name)
	if err != nil {
		return nil, err
	}
	prog, err := a.Alloc(8, 8)
	if err != nil {
		return nil, err
	}
	if err := n.call("nvrtcCreateProgram("+name+")", n.createProgram, hostmem.Addr(prog), hostmem.Addr(csrc), hostmem.Addr(cname), 0, 0, 0); err != nil {
		return nil, err
	}
	p := uintptr(hostmem.U64At(prog))
	defer purego.SyscallN(n.destroyProgram, hostmem.Addr(prog))

	var optArr uintptr
	if len(options) > 0 {
		arr, err := a.Alloc(8*len(options), 8)
		if err != nil {
			return nil, err
		}
		for i, o := range options {
			co, err := a.CString(o)
			if err != nil {
				return nil, err
			}
			*(*uintptr)(unsafe.Pointer(&arr[8*i])) = hostmem.Addr(co)
		}
		optArr = hostmem.Addr(arr)
	}
	compileErr := n.call("nvrtcCompileProgram("+name+")", n.compileProgram, p, uintptr(len(options)), optArr)
	log := n.programLog(p)
	if compileErr != nil {
		if e, ok := compileErr.(*Error); ok {
			e.Log = log
		}
		return nil, compileErr
	}
	wantPTX := true
	for _, o := range options {
		if strings.HasPrefix(o, "--gpu-architecture=sm_") || strings.HasPrefix(o, "-arch=sm_") {
			wantPTX = false
		}
	}
	if !wantPTX && !n.HasCUBIN() {
		return nil, fmt.Errorf("nvrtc %s cannot emit cubins; use a compute_XY architecture", n.VersionString())
	}
	sizeFn, getFn, what := n.getPTXSize, n.getPTX, "PTX"
	if !wantPTX {
		sizeFn, getFn, what = n.getCUBINSize, n.getCUBIN, "CUBIN"
	}
	sz, err := a.Alloc(8, 8)
	if err != nil {
		return nil, err
	}
	if err := n.call("nvrtcGet"+what+"Size", sizeFn, p, hostmem.Addr(sz)); err != nil {
		return nil, err
	}
	imgLen := int(hostmem.U64At(sz))
	if imgLen <= 0 {
		return nil, fmt.Errorf("nvrtc: %s of %s is empty", what, name)
	}
	img, err := hostmem.NewArena(imgLen)
	if err != nil {
		return nil, err
	}
	defer img.Free()
	ib, err := img.Alloc(imgLen, 16)
	if err != nil {
		return nil, err
	}
	if err := n.call("nvrtcGet"+what, getFn, p, hostmem.Addr(ib)); err != nil {
		return nil, err
	}
	return &Output{Image: append([]byte(nil), ib...), PTX: wantPTX, Log: log}, nil
}

func (n *NVRTC) programLog(p uintptr) string {
	a, err := hostmem.NewArena(8)
	if err != nil {
		return ""
	}
	defer a.Free()
	sz, _ := a.Alloc(8, 8)
	if n.call("nvrtcGetProgramLogSize", n.getProgramLogSize, p, hostmem.Addr(sz)) != nil {
		return ""
	}
	size := int(hostmem.U64At(sz))
	if size <= 1 {
		return ""
	}
	la, err := hostmem.NewArena(size + 1)
	if err != nil {
		return ""
	}
	defer la.Free()
	lb, _ := la.Alloc(size+1, 8)
	if n.call("nvrtcGetProgramLog", n.getProgramLog, p, hostmem.Addr(lb)) != nil {
		return ""
	}
	return strings.TrimRight(hostmem.GoString(unsafe.Pointer(&lb[0])), "\n\x00 ")
}
