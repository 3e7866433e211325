// Package cu binds the CUDA driver API (libcuda.so.1), loaded at run time
// through purego, so that it builds with and without cgo and needs no CUDA
// toolkit. It uses the versioned symbols (cuMemAlloc_v2, ...), checks every
// return code and turns failures into *Error values that carry the
// operation, the error name and the driver's description.
//
// A Driver is not safe for concurrent use. Calls that need a context must
// be made on the OS thread where that context is current (see package
// cuda, which owns one such thread per device). Out-parameters and strings
// pass through an mmap'd arena outside the Go heap.
package cu

import (
	"errors"
	"fmt"
	"unsafe"

	"github.com/ebitengine/purego"
	"github.com/genbench/genbench/cuda/internal/dl"
	"github.com/genbench/genbench/cuda/internal/hostmem"
)

// Handles are the driver's opaque pointers.
type (
	Device    int32   // CUdevice
	Context   uintptr // CUcontext
	Stream    uintptr // CUstream
	Module    uintptr // CUmodule
	Function  uintptr // CUfunction
	Graph     uintptr // CUgraph
	GraphExec uintptr // CUgraphExec
	Event     uintptr // CUevent
	DevPtr    uint64  // CUdeviceptr
)

// Result codes used by name.
const (
	Success        = 0
	ErrOutOfMemory = 2
	ErrNoDevice    = 100
	ErrNotReady    = 600
)

// Device attributes (CUdevice_attribute).
const (
	AttrMaxThreadsPerBlock      = 1
	AttrMultiprocessorCount     = 16
	AttrCanMapHostMemory        = 19
	AttrMemoryClockRate         = 36
	AttrGlobalMemoryBusWidth    = 37
	AttrL2CacheSize             = 38
	AttrUnifiedAddressing       = 41
	AttrComputeCapabilityMajor  = 75
	AttrComputeCapabilityMinor  = 76
	AttrMaxSharedMemPerBlockOpt = 97
)

// Function attributes (CUfunction_attribute, cuda.h):
// FuncAttrSharedSizeBytes is the statically allocated shared memory of a
// kernel as loaded (after ptxas padding); FuncAttrMaxDynamicSharedSizeBytes
// is the most dynamic shared memory a launch may ask for: 48 KiB minus the
// static size by default, raised with cuFuncSetAttribute up to
// CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN minus the static
// size. A launch asking for more fails with CUDA_ERROR_INVALID_VALUE.
const (
	FuncAttrSharedSizeBytes           = 1
	FuncAttrMaxDynamicSharedSizeBytes = 8
)

// Flags.
const (
	StreamNonBlocking       = 1
	EventDefault            = 0
	EventDisableTiming      = 2
	CaptureModeThreadLocal  = 1
	CaptureModeRelaxed      = 2
	MemHostAllocPortable    = 1
	MemHostAllocDeviceMap   = 2
	GraphInstantiateDefault = 0
)

// Error is a failed driver call.
type Error struct {
	Op   string // the call and what it was for
	Code int    // CUresult
	Name string // e.g. CUDA_ERROR_OUT_OF_MEMORY
	Desc string // the driver's description
}

func (e *Error) Error() string {
	return fmt.Sprintf("cuda: %s: %s (%d): %s", e.Op, e.Name, e.Code, e.Desc)
}

// IsOutOfMemory reports whether err is (or wraps) CUDA_ERROR_OUT_OF_MEMORY.
func IsOutOfMemory(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == ErrOutOfMemory
}

// Driver holds the loaded library and its entry points.
type Driver struct {
	lib   *dl.Handle
	arena *hostmem.Arena

	cuInit, cuDriverGetVersion, cuDeviceGetCount, cuDeviceGet, cuDeviceGetName,
	cuDeviceGetAttribute, cuDeviceTotalMem, cuDevicePrimaryCtxRetain,
	cuDevicePrimaryCtxRelease, cuCtxSetCurrent, cuCtxSynchronize,
	cuMemAlloc, cuMemFree, cuMemAllocHost, cuMemHostAlloc, cuMemHostGetDevicePointer,
	cuMemFreeHost, cuMemcpyHtoDAsync, cuMemcpyDtoHAsync, cuMemcpyDtoDAsync,
	cuMemsetD8Async, cuMemsetD32Async, cuMemGetInfo, cuStreamCreate, cuStreamDestroy,
	cuStreamSynchronize, cuStreamQuery, cuStreamBeginCapture, cuStreamEndCapture,
	cuGraphInstantiateWithFlags, cuGraphLaunch, cuGraphExecDestroy, cuGraphDestroy,
	cuModuleLoadData, cuModuleUnload, cuModuleGetFunction, cuFuncSetAttribute,
	cuFuncGetAttribute, cuLaunchKernel, cuEventCreate, cuEventRecord, cuEventSynchronize,
	cuEventElapsedTime, cuEventDestroy, cuGetErrorName, cuGetErrorString uintptr
	// Optional (0 when the driver lacks them).
	cuGraphExecUpdate, cuLaunchKernelEx uintptr
}

// Load opens the driver library (see dl.Options for where it looks) and
// resolves every entry point. It does not call cuInit.
func Load(opts dl.Options) (*Driver, error) {
	lib, err := dl.Open(dl.Driver(), opts)
	if err != nil {
		return nil, err
	}
	d := &Driver{lib: lib}
	syms := []struct {
		p    *uintptr
		name []string // first found wins
	}{
		{&d.cuInit, []string{"cuInit"}},
		{&d.cuDriverGetVersion, []string{"cuDriverGetVersion"}},
		{&d.cuDeviceGetCount, []string{"cuDeviceGetCount"}},
		{&d.cuDeviceGet, []string{"cuDeviceGet"}},
		{&d.cuDeviceGetName, []string{"cuDeviceGetName"}},
		{&d.cuDeviceGetAttribute, []string{"cuDeviceGetAttribute"}},
		{&d.cuDeviceTotalMem, []string{"cuDeviceTotalMem_v2"}},
		{&d.cuDevicePrimaryCtxRetain, []string{"cuDevicePrimaryCtxRetain"}},
		{&d.cuDevicePrimaryCtxRelease, []string{"cuDevicePrimaryCtxRelease_v2", "cuDevicePrimaryCtxRelease"}},
		{&d.cuCtxSetCurrent, []string{"cuCtxSetCurrent"}},
		{&d.cuCtxSynchronize, []string{"cuCtxSynchronize"}},
		{&d.cuMemAlloc, []string{"cuMemAlloc_v2"}},
		{&d.cuMemFree, []string{"cuMemFree_v2"}},
		{&d.cuMemAllocHost, []string{"cuMemAllocHost_v2"}},
		{&d.cuMemHostAlloc, []string{"cuMemHostAlloc"}},
		{&d.cuMemHostGetDevicePointer, []string{"cuMemHostGetDevicePointer_v2"}},
		{&d.cuMemFreeHost, []string{"cuMemFreeHost"}},
		{&d.cuMemcpyHtoDAsync, []string{"cuMemcpyHtoDAsync_v2"}},
		{&d.cuMemcpyDtoHAsync, []string{"cuMemcpyDtoHAsync_v2"}},
		{&d.cuMemcpyDtoDAsync, []string{"cuMemcpyDtoDAsync_v2"}},
		{&d.cuMemsetD8Async, []string{"cuMemsetD8Async"}},
		{&d.cuMemsetD32Async, []string{"cuMemsetD32Async"}},
		{&d.cuMemGetInfo, []string{"cuMemGetInfo_v2"}},
		{&d.cuStreamCreate, []string{"cuStreamCreate"}},
		{&d.cuStreamDestroy, []string{"cuStreamDestroy_v2"}},
		{&d.cuStreamSynchronize, []string{"cuStreamSynchronize"}},
		{&d.cuStreamQuery, []string{"cuStreamQuery"}},
		{&d.cuStreamBeginCapture, []string{"cuStreamBeginCapture_v2"}},
		{&d.cuStreamEndCapture, []string{"cuStreamEndCapture"}},
		{&d.cuGraphInstantiateWithFlags, []string{"cuGraphInstantiateWithFlags"}},
		{&d.cuGraphLaunch, []string{"cuGraphLaunch"}},
		{&d.cuGraphExecDestroy, []string{"cuGraphExecDestroy"}},
		{&d.cuGraphDestroy, []string{"cuGraphDestroy"}},
		{&d.cuModuleLoadData, []string{"cuModuleLoadData"}},
		{&d.cuModuleUnload, []string{"cuModuleUnload"}},
		{&d.cuModuleGetFunction, []string{"cuModuleGetFunction"}},
		{&d.cuFuncSetAttribute, []string{"cuFuncSetAttribute"}},
		{&d.cuFuncGetAttribute, []string{"cuFuncGetAttribute"}},
		{&d.cuLaunchKernel, []string{"cuLaunchKernel"}},
		{&d.cuEventCreate, []string{"cuEventCreate"}},
		{&d.cuEventRecord, []string{"cuEventRecord"}},
		{&d.cuEventSynchronize, []string{"cuEventSynchronize"}},
		{&d.cuEventElapsedTime, []string{"cuEventElapsedTime_v2", "cuEventElapsedTime"}},
		{&d.cuEventDestroy, []string{"cuEventDestroy_v2"}},
		{&d.cuGetErrorName, []string{"cuGetErrorName"}},
		{&d.cuGetErrorString, []string{"cuGetErrorString"}},
	}
	for _, s := range syms {
		for _, n := range s.name {
			if p := lib.OptionalSym(n); p != 0 {
				*s.p = p
				break
			}
		}
		if *s.p == 0 {
			lib.Close()
			return nil, fmt.Errorf("cuda: %s lacks %s: the NVIDIA driver is too old (need CUDA 11.4 or newer)", lib.Path, s.name[0])
		}
	}
	// CUDA 12's signature (exec, graph, CUgraphExecUpdateResultInfo*).
	d.cuGraphExecUpdate = lib.OptionalSym("cuGraphExecUpdate_v2")
	d.cuLaunchKernelEx = lib.OptionalSym("cuLaunchKernelEx") // CUDA 12.0+
	arena, err := hostmem.NewArena(1 << 20)
	if err != nil {
		lib.Close()
		return nil, err
	}
	d.arena = arena
	return d, nil
}

// Path is the loaded library's path or soname.
func (d *Driver) Path() string { return d.lib.Path }

// Close releases the arena and unloads nothing (the driver stays mapped
// for the life of the process, as unloading libcuda is unsafe).
func (d *Driver) Close() error {
	if d == nil {
		return nil
	}
	return d.arena.Free()
}

// call runs fn with args and converts a non-zero CUresult into *Error.
func (d *Driver) call(op string, fn uintptr, args ...uintptr) error {
	r, _, _ := purego.SyscallN(fn, args...)
	if code := int(int32(uint32(r))); code != Success {
		return d.errorFor(op, code)
	}
	return nil
}

func (d *Driver) errorFor(op string, code int) error {
	e := &Error{Op: op, Code: code, Name: fmt.Sprintf("CUresult %d", code), Desc: "unknown error"}
	mark := d.arena.Mark()
	defer d.arena.Release(mark)
	if out, err := d.arena.Alloc(8, 8); err == nil {
		if r, _, _ := purego.SyscallN(d.cuGetErrorName, uintptr(code), hostmem.Addr(out)); r == 0 {
			e.Name = hostmem.GoString(hostmem.PtrAt(out))
		}
		if r, _, _ := purego.SyscallN(d.cuGetErrorString, uintptr(code), hostmem.Addr(out)); r == 0 {
			e.Desc = hostmem.GoString(hostmem.PtrAt(out))
		}
	}
	return e
}

// out allocates an 8-byte out-parameter slot.
func (d *Driver) out() ([]byte, error) { return d.arena.Alloc(8, 8) }

// Init calls cuInit(0).
func (d *Driver) Init() error { return d.call("cuInit", d.cuInit, 0) }

// DriverVersion returns the CUDA version the driver supports (e.g. 12040).
func (d *Driver) DriverVersion() (int, error) {
	m := d.arena.Mark()
	defer d.arena.Release(m)
	o, err := d.out()
	if err != nil {
		return 0, err
	}
	if err := d.call("cuDriverGetVersion", d.cuDriverGetVersion, hostmem.Addr(o)); err != nil {
		return 0, err
	}
	return int(hostmem.I32At(o)), nil
}

// DeviceCount returns the number of CUDA devices.
func (d *Driver) DeviceCount() (int, error) {
	m := d.arena.Mark()
	defer d.arena.Release(m)
	o, err := d.out()
	if err != nil {
		return 0, err
	}
	if err := d.call("cuDeviceGetCount", d.cuDeviceGetCount, hostmem.Addr(o)); err != nil {
		return 0, err
	}
	return int(hostmem.I32At(o)), nil
}

// DeviceGet returns the device of an ordinal.
func (d *Driver) DeviceGet(ordinal int) (Device, error) {
	m := d.arena.Mark()
	defer d.arena.Release(m)
	o, err := d.out()
	if err != nil {
		return 0, err
	}
	if err := d.call(fmt.Sprintf("cuDeviceGet(%d)", ordinal), d.cuDeviceGet, hostmem.Addr(o), uintptr(ordinal)); err != nil {
		return 0, err
	}
	return Device(hostmem.I32At(o)), nil
}

// DeviceName returns the device's marketing name.
func (d *Driver) DeviceName(dev Device) (string, error) {
	m := d.arena.Mark()
	defer d.arena.Release(m)
	b, err := d.arena.Alloc(256, 8)
	if err != nil {
		return "", err
	}
	if err := d.call("cuDeviceGetName", d.cuDeviceGetName, hostmem.Addr(b), 255, uintptr(dev)); err != nil {
		return "", err
	}
	return hostmem.GoString(unsafe.Pointer(&b[0])), nil
}

// DeviceAttribute returns one attribute of a device.
func (d *Driver) DeviceAttribute(dev Device, attr int) (int, error) {
	m := d.arena.Mark()
	defer d.arena.Release(m)
	o, err := d.out()
	if err != nil {
		return 0, err
	}
	if err := d.call(fmt.Sprintf("cuDeviceGetAttribute(%d)", attr), d.cuDeviceGetAttribute, hostmem.Addr(o), uintptr(attr), uintptr(dev)); err != nil {
		return 0, err
	}
	return int(hostmem.I32At(o)), nil
}

// DeviceTotalMem returns the device memory size in bytes.
func (d *Driver) DeviceTotalMem(dev Device) (int64, error) {
	m := d.arena.Mark()
	defer d.arena.Release(m)
	o, err := d.out()
	if err != nil {
		return 0, err
	}
	if err := d.call("cuDeviceTotalMem_v2", d.cuDeviceTotalMem, hostmem.Addr(o), uintptr(dev)); err != nil {
		return 0, err
	}
	return int64(hostmem.U64At(o)), nil
}

// PrimaryCtxRetain retains the device's primary context.
func (d *Driver) PrimaryCtxRetain(dev Device) (Context, error) {
	m := d.arena.Mark()
	defer d.arena.Release(m)
	o, err := d.out()
	if err != nil {
		return 0, err
	}
	if err := d.call("cuDevicePrimaryCtxRetain", d.cuDevicePrimaryCtxRetain, hostmem.Addr(o), uintptr(dev)); err != nil {
		return 0, err
	}
	return Context(hostmem.U64At(o)), nil
}

// PrimaryCtxRelease releases the primary context.
func (d *Driver) PrimaryCtxRelease(dev Device) error {
	return d.call("cuDevicePrimaryCtxRelease", d.cuDevicePrimaryCtxRelease, uintptr(dev))
}

// CtxSetCurrent binds ctx to the calling OS thread.
func (d *Driver) CtxSetCurrent(ctx Context) error {
	return d.call("cuCtxSetCurrent", d.cuCtxSetCurrent, uintptr(ctx))
}

// CtxSynchronize waits for all work of the current context.
func (d *Driver) CtxSynchronize() error {
	return d.call("cuCtxSynchronize", d.cuCtxSynchronize)
}

// MemAlloc allocates device memory.
func (d *Driver) MemAlloc(bytes int64) (DevPtr, error) {
	m := d.arena.Mark()
	defer d.arena.Release(m)
	o, err := d.out()
	if err != nil {
		return 0, err
	}
	if err := d.call(fmt.Sprintf("cuMemAlloc_v2(%d bytes)", bytes), d.cuMemAlloc, hostmem.Addr(o), uintptr(bytes)); err != nil {
		return 0, err
	}
	return DevPtr(hostmem.U64At(o)), nil
}

// MemFree frees device memory.
func (d *Driver) MemFree(p DevPtr) error {
	return d.call("cuMemFree_v2", d.cuMemFree, uintptr(p))
}

// MemAllocHost allocates page-locked host memory and returns it as a byte
// slice outside the Go heap.
func (d *Driver) MemAllocHost(bytes int) ([]byte, error) {
	m := d.arena.Mark()
	defer d.arena.Release(m)
	o, err := d.out()
	if err != nil {
		return nil, err
	}
	if err := d.call(fmt.Sprintf("cuMemAllocHost_v2(%d bytes)", bytes), d.cuMemAllocHost, hostmem.Addr(o), uintptr(bytes)); err != nil {
		return nil, err
	}
	return unsafe.Slice((*byte)(hostmem.PtrAt(o)), bytes), nil
}

// MemHostAllocMapped allocates page-locked host memory mapped into the
// device address space and returns it with its device address.
func (d *Driver) MemHostAllocMapped(bytes int) ([]byte, DevPtr, error) {
	m := d.arena.Mark()
	defer d.arena.Release(m)
	o, err := d.out()
	if err != nil {
		return nil, 0, err
	}
	if err := d.call(fmt.Sprintf("cuMemHostAlloc(%d bytes, DEVICEMAP)", bytes), d.cuMemHostAlloc,
		hostmem.Addr(o), uintptr(bytes), MemHostAllocDeviceMap|MemHostAllocPortable); err != nil {
		return nil, 0, err
	}
	host := unsafe.Slice((*byte)(hostmem.PtrAt(o)), bytes)
	o2, err := d.out()
	if err != nil {
		return nil, 0, err
	}
	if err := d.call("cuMemHostGetDevicePointer_v2", d.cuMemHostGetDevicePointer, hostmem.Addr(o2), hostmem.Addr(host), 0); err != nil {
		_ = d.MemFreeHost(host)
		return nil, 0, err
	}
	return host, DevPtr(hostmem.U64At(o2)), nil
}

// MemFreeHost frees memory from MemAllocHost or MemHostAllocMapped.
func (d *Driver) MemFreeHost(b []byte) error {
	if len(b) == 0 {
		return nil
	}
	return d.call("cuMemFreeHost", d.cuMemFreeHost, hostmem.Addr(b))
}

// MemcpyHtoDAsync copies from page-locked host memory src to dst.
func (d *Driver) MemcpyHtoDAsync(dst DevPtr, src []byte, s Stream) error {
	if len(src) == 0 {
		return nil
	}
	return d.call("cuMemcpyHtoDAsync_v2", d.cuMemcpyHtoDAsync, uintptr(dst), hostmem.Addr(src), uintptr(len(src)), uintptr(s))
}

// MemcpyDtoHAsync copies from src into page-locked host memory dst.
func (d *Driver) MemcpyDtoHAsync(dst []byte, src DevPtr, s Stream) error {
	if len(dst) == 0 {
		return nil
	}
	return d.call("cuMemcpyDtoHAsync_v2", d.cuMemcpyDtoHAsync, hostmem.Addr(dst), uintptr(src), uintptr(len(dst)), uintptr(s))
}

// MemcpyDtoDAsync copies bytes between device buffers.
func (d *Driver) MemcpyDtoDAsync(dst, src DevPtr, bytes int64, s Stream) error {
	if bytes == 0 {
		return nil
	}
	return d.call("cuMemcpyDtoDAsync_v2", d.cuMemcpyDtoDAsync, uintptr(dst), uintptr(src), uintptr(bytes), uintptr(s))
}

// MemsetD8Async sets bytes.
func (d *Driver) MemsetD8Async(p DevPtr, v byte, n int64, s Stream) error {
	if n == 0 {
		return nil
	}
	return d.call("cuMemsetD8Async", d.cuMemsetD8Async, uintptr(p), uintptr(v), uintptr(n), uintptr(s))
}

// MemsetD32Async sets n 32-bit words.
func (d *Driver) MemsetD32Async(p DevPtr, v uint32, n int64, s Stream) error {
	if n == 0 {
		return nil
	}
	return d.call("cuMemsetD32Async", d.cuMemsetD32Async, uintptr(p), uintptr(v), uintptr(n), uintptr(s))
}

// MemGetInfo returns free and total device memory of the current context.
func (d *Driver) MemGetInfo() (free, total int64, err error) {
	m := d.arena.Mark()
	defer d.arena.Release(m)
	o1, err := d.out()
	if err != nil {
		return 0, 0, err
	}
	o2, err := d.out()
	if err != nil {
		return 0, 0, err
	}
	if err := d.call("cuMemGetInfo_v2", d.cuMemGetInfo, hostmem.Addr(o1), hostmem.Addr(o2)); err != nil {
		return 0, 0, err
	}
	return int64(hostmem.U64At(o1)), int64(hostmem.U64At(o2)), nil
}

// StreamCreate creates a stream.
func (d *Driver) StreamCreate(flags uint) (Stream, error) {
	m := d.arena.Mark()
	defer d.arena.Release(m)
	o, err := d.out()
	if err != nil {
		return 0, err
	}
	if err := d.call("cuStreamCreate", d.cuStreamCreate, hostmem.Addr(o), uintptr(flags)); err != nil {
		return 0, err
	}
	return Stream(hostmem.U64At(o)), nil
}

// StreamDestroy destroys a stream.
func (d *Driver) StreamDestroy(s Stream) error {
	return d.call("cuStreamDestroy_v2", d.cuStreamDestroy, uintptr(s))
}

// StreamSynchronize waits for a stream.
func (d *Driver) StreamSynchronize(s Stream) error {
	return d.call("cuStreamSynchronize", d.cuStreamSynchronize, uintptr(s))
}

// StreamQuery reports whether all work on s is done (false, nil while
// work is pending; an error when work failed).
func (d *Driver) StreamQuery(s Stream) (bool, error) {
	r, _, _ := purego.SyscallN(d.cuStreamQuery, uintptr(s))
	switch code := int(int32(uint32(r))); code {
	case Success:
		return true, nil
	case ErrNotReady:
		return false, nil
	default:
		return false, d.errorFor("cuStreamQuery", code)
	}
}

// StreamBeginCapture starts recording s into a graph.
func (d *Driver) StreamBeginCapture(s Stream, mode int) error {
	return d.call("cuStreamBeginCapture_v2", d.cuStreamBeginCapture, uintptr(s), uintptr(mode))
}

// StreamEndCapture ends recording and returns the graph.
func (d *Driver) StreamEndCapture(s Stream) (Graph, error) {
	m := d.arena.Mark()
	defer d.arena.Release(m)
	o, err := d.out()
	if err != nil {
		return 0, err
	}
	if err := d.call("cuStreamEndCapture", d.cuStreamEndCapture, uintptr(s), hostmem.Addr(o)); err != nil {
		return 0, err
	}
	return Graph(hostmem.U64At(o)), nil
}

// GraphInstantiate makes an executable graph.
func (d *Driver) GraphInstantiate(g Graph) (GraphExec, error) {
	m := d.arena.Mark()
	defer d.arena.Release(m)
	o, err := d.out()
	if err != nil {
		return 0, err
	}
	if err := d.call("cuGraphInstantiateWithFlags", d.cuGraphInstantiateWithFlags, hostmem.Addr(o), uintptr(g), GraphInstantiateDefault); err != nil {
		return 0, err
	}
	return GraphExec(hostmem.U64At(o)), nil
}

// ErrGraphExecUpdateUnsupported is returned by GraphExecUpdate when the
// driver has no cuGraphExecUpdate_v2 (older than CUDA 12).
var ErrGraphExecUpdateUnsupported = errors.New("cuda: cuGraphExecUpdate_v2 is not available")

// GraphExecUpdate updates an instantiated graph in place to the kernel
// parameters of g, which must have the same topology (a failure leaves
// exec unchanged: instantiate g instead). Much cheaper than instantiating.
func (d *Driver) GraphExecUpdate(exec GraphExec, g Graph) error {
	if d.cuGraphExecUpdate == 0 {
		return ErrGraphExecUpdateUnsupported
	}
	m := d.arena.Mark()
	defer d.arena.Release(m)
	info, err := d.arena.Alloc(32, 8) // CUgraphExecUpdateResultInfo (24 bytes)
	if err != nil {
		return err
	}
	return d.call("cuGraphExecUpdate", d.cuGraphExecUpdate, uintptr(exec), uintptr(g), hostmem.Addr(info))
}

// GraphLaunch enqueues an executable graph on s.
func (d *Driver) GraphLaunch(g GraphExec, s Stream) error {
	return d.call("cuGraphLaunch", d.cuGraphLaunch, uintptr(g), uintptr(s))
}

// GraphExecDestroy destroys an executable graph.
func (d *Driver) GraphExecDestroy(g GraphExec) error {
	return d.call("cuGraphExecDestroy", d.cuGraphExecDestroy, uintptr(g))
}

// GraphDestroy destroys a graph.
func (d *Driver) GraphDestroy(g Graph) error {
	return d.call("cuGraphDestroy", d.cuGraphDestroy, uintptr(g))
}

// ModuleLoadData loads a cubin or NUL-terminated PTX image (the driver JIT
// compiles PTX for the current device).
func (d *Driver) ModuleLoadData(image []byte) (Module, error) {
	if len(image) == 0 {
		return 0, fmt.Errorf("cuda: cuModuleLoadData: empty image")
	}
	// The image is copied to memory outside the Go heap for the call.
	buf, err := hostmem.NewArena(len(image) + 1)
	if err != nil {
		return 0, err
	}
	defer buf.Free()
	b, err := buf.Alloc(len(image)+1, 16)
	if err != nil {
		return 0, err
	}
	copy(b, image)
	m := d.arena.Mark()
	defer d.arena.Release(m)
	o, err := d.out()
	if err != nil {
		return 0, err
	}
	if err := d.call("cuModuleLoadData", d.cuModuleLoadData, hostmem.Addr(o), hostmem.Addr(b)); err != nil {
		return 0, err
	}
	return Module(hostmem.U64At(o)), nil
}

// ModuleUnload unloads a module.
func (d *Driver) ModuleUnload(mod Module) error {
	return d.call("cuModuleUnload", d.cuModuleUnload, uintptr(mod))
}

// ModuleGetFunction looks up a kernel (an extern "C" name).
func (d *Driver) ModuleGetFunction(mod Module, name string) (Function, error) {
	m := d.arena.Mark()
	defer d.arena.Release(m)
	o, err := d.out()
	if err != nil {
		return 0, err
	}
	cs, err := d.arena.CString(name)
	if err != nil {
		return 0, err
	}
	if err := d.call("cuModuleGetFunction("+name+")", d.cuModuleGetFunction, hostmem.Addr(o), uintptr(mod), hostmem.Addr(cs)); err != nil {
		return 0, err
	}
	return Function(hostmem.U64At(o)), nil
}

// FuncSetAttribute sets a kernel attribute.
func (d *Driver) FuncSetAttribute(f Function, attr, value int) error {
	return d.call("cuFuncSetAttribute", d.cuFuncSetAttribute, uintptr(f), uintptr(attr), uintptr(value))
}

// FuncGetAttribute reads a kernel attribute.
func (d *Driver) FuncGetAttribute(f Function, attr int) (int, error) {
	m := d.arena.Mark()
	defer d.arena.Release(m)
	o, err := d.out()
	if err != nil {
		return 0, err
	}
	if err := d.call(fmt.Sprintf("cuFuncGetAttribute(%d)", attr), d.cuFuncGetAttribute, hostmem.Addr(o), uintptr(attr), uintptr(f)); err != nil {
		return 0, err
	}
	return int(hostmem.I32At(o)), nil
}

// Dim3 is a launch dimension.
type Dim3 struct{ X, Y, Z uint32 }

// LaunchAttrProgrammaticStreamSerialization is
// CU_LAUNCH_ATTRIBUTE_PROGRAMMATIC_STREAM_SERIALIZATION (CUlaunchAttributeID).
const LaunchAttrProgrammaticStreamSerialization = 6

// HasLaunchKernelEx reports whether the driver has cuLaunchKernelEx.
func (d *Driver) HasLaunchKernelEx() bool { return d.cuLaunchKernelEx != 0 }

// packParams copies p's values into the arena and returns the void** array
// the launch calls take (0 for no parameters).
func (d *Driver) packParams(p *Params) (uintptr, error) {
	n := len(p.vals)
	if n == 0 {
		return 0, nil
	}
	vals, err := d.arena.Alloc(8*n, 16)
	if err != nil {
		return 0, err
	}
	arr, err := d.arena.Alloc(8*n, 16)
	if err != nil {
		return 0, err
	}
	for i, v := range p.vals {
		*(*uint64)(unsafe.Pointer(&vals[8*i])) = v
		*(*uintptr)(unsafe.Pointer(&arr[8*i])) = hostmem.Addr(vals[8*i:])
	}
	return hostmem.Addr(arr), nil
}

// LaunchKernelEx enqueues f like LaunchKernel through cuLaunchKernelEx
// with programmatic stream serialization allowed: the kernel may start
// before the previous kernel of the stream has finished, and must wait for
// it itself (griddepcontrol.wait, kernels/common.cuh). Layouts of cuda.h
// 12/13: CUlaunchConfig {6 x u32 grid/block, u32 sharedMemBytes, CUstream
// at 32, CUlaunchAttribute* at 40, u32 numAttrs at 48} (56 bytes);
// CUlaunchAttribute {u32 id, 4 pad, 64-byte value union} (72 bytes).
func (d *Driver) LaunchKernelEx(op string, f Function, grid, block Dim3, shared uint32, s Stream, p *Params) error {
	if d.cuLaunchKernelEx == 0 {
		return fmt.Errorf("cuda: launch %s: cuLaunchKernelEx is not available (driver older than CUDA 12)", op)
	}
	if err := p.Check(); err != nil {
		return fmt.Errorf("cuda: launch %s: %w", op, err)
	}
	m := d.arena.Mark()
	defer d.arena.Release(m)
	ptrs, err := d.packParams(p)
	if err != nil {
		return err
	}
	attr, err := d.arena.Alloc(72, 16)
	if err != nil {
		return err
	}
	clear(attr)
	*(*uint32)(unsafe.Pointer(&attr[0])) = LaunchAttrProgrammaticStreamSerialization
	*(*int32)(unsafe.Pointer(&attr[8])) = 1 // programmaticStreamSerializationAllowed
	cfg, err := d.arena.Alloc(56, 16)
	if err != nil {
		return err
	}
	clear(cfg)
	for i, v := range []uint32{grid.X, grid.Y, grid.Z, block.X, block.Y, block.Z, shared} {
		*(*uint32)(unsafe.Pointer(&cfg[4*i])) = v
	}
	*(*uint64)(unsafe.Pointer(&cfg[32])) = uint64(s)
	*(*uintptr)(unsafe.Pointer(&cfg[40])) = hostmem.Addr(attr)
	*(*uint32)(unsafe.Pointer(&cfg[48])) = 1
	return d.call("cuLaunchKernelEx("+op+")", d.cuLaunchKernelEx, hostmem.Addr(cfg), uintptr(f), ptrs, 0)
}

// LaunchKernel enqueues f with the packed parameter block p on s. The
// driver copies the parameter values during the call.
func (d *Driver) LaunchKernel(op string, f Function, grid, block Dim3, shared uint32, s Stream, p *Params) error {
	if err := p.Check(); err != nil {
		return fmt.Errorf("cuda: launch %s: %w", op, err)
	}
	m := d.arena.Mark()
	defer d.arena.Release(m)
	ptrs, err := d.packParams(p)
	if err != nil {
		return err
	}
	return d.call("cuLaunchKernel("+op+")", d.cuLaunchKernel, uintptr(f),
		uintptr(grid.X), uintptr(grid.Y), uintptr(grid.Z),
		uintptr(block.X), uintptr(block.Y), uintptr(block.Z),
		uintptr(shared), uintptr(s), ptrs, 0)
}

// EventCreate creates an event.
func (d *Driver) EventCreate(flags uint) (Event, error) {
	m := d.arena.Mark()
	defer d.arena.Release(m)
	o, err := d.out()
	if err != nil {
		return 0, err
	}
	if err := d.call("cuEventCreate", d.cuEventCreate, hostmem.Addr(o), uintptr(flags)); err != nil {
		return 0, err
	}
	return Event(hostmem.U64At(o)), nil
}

// EventRecord records e on s.
func (d *Driver) EventRecord(e Event, s Stream) error {
	return d.call("cuEventRecord", d.cuEventRecord, uintptr(e), uintptr(s))
}

// EventSynchronize waits for e.
func (d *Driver) EventSynchronize(e Event) error {
	return d.call("cuEventSynchronize", d.cuEventSynchronize, uintptr(e))
}

// EventElapsedTime returns milliseconds between two recorded events.
func (d *Driver) EventElapsedTime(start, end Event) (float32, error) {
	m := d.arena.Mark()
	defer d.arena.Release(m)
	o, err := d.out()
	if err != nil {
		return 0, err
	}
	if err := d.call("cuEventElapsedTime", d.cuEventElapsedTime, hostmem.Addr(o), uintptr(start), uintptr(end)); err != nil {
		return 0, err
	}
	return hostmem.F32At(o), nil
}

// EventDestroy destroys an event.
func (d *Driver) EventDestroy(e Event) error {
	return d.call("cuEventDestroy_v2", d.cuEventDestroy, uintptr(e))
}
