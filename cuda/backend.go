// Package cuda is the GPU backend: it implements gocore/backend.Backend on
// an NVIDIA GPU with kernels compiled at run time by NVRTC (package
// cuda/kernels), through the driver API loaded with purego (package
// cuda/cu), so genbench builds without cgo or a CUDA toolkit.
//
// Threading: all CUDA calls of a Backend run on one goroutine locked to its
// OS thread, with the device's primary context current; the Backend's
// methods hand that thread closures. A decode step can be captured once
// into a CUDA graph (Capture) and replayed, and tokens can be sampled on
// the device (NewSampler) so that only token ids cross to the host.
package cuda

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"unsafe"

	"github.com/genbench/genbench/cuda/cu"
	"github.com/genbench/genbench/cuda/internal/dl"
	"github.com/genbench/genbench/cuda/kernels"
	"github.com/genbench/genbench/cuda/nvrtc"
	"github.com/genbench/genbench/gocore/backend"
)

// Options configure library discovery and the kernel cache.
type Options struct {
	// LibDirs, when non-empty, are the only folders searched for libcuda
	// and libnvrtc (the default searches the loader path, CUDA_HOME,
	// /usr/local/cuda*, and Python environments).
	LibDirs []string
	// DriverLibDirs, when non-empty, are the only folders searched for
	// libcuda (overriding LibDirs for the driver; the tests load an
	// emulated driver this way).
	DriverLibDirs []string
	// KernelCacheDir overrides the compiled-kernel cache folder
	// ($XDG_CACHE_HOME/genbench/kernels or ~/.cache/genbench/kernels);
	// "off" disables the cache.
	KernelCacheDir string
	// Progress, when non-nil, receives human-readable progress lines.
	Progress func(string)
	// NoFusion launches every op on its own (the decode GEMV then absorbs
	// no RMSNorm, residual add or GLU); results are identical either way.
	NoFusion bool
	// PDL launches every kernel with programmatic dependent launch
	// (cuLaunchKernelEx, programmatic stream serialization): on sm_90 and
	// newer with a CUDA 12.4+ driver, a kernel's blocks start while the
	// previous kernel finishes and wait for it inside (griddepcontrol), which
	// hides part of each launch gap. Off by default until measured on a
	// GPU; GENBENCH_CUDA_PDL=1 turns it on too.
	PDL bool
}

func (o Options) libOptions() dl.Options {
	if len(o.LibDirs) > 0 {
		return dl.Options{Dirs: o.LibDirs}
	}
	return dl.Options{Env: dl.SystemEnv()}
}

func (o Options) driverOptions() dl.Options {
	if len(o.DriverLibDirs) > 0 {
		return dl.Options{Dirs: o.DriverLibDirs}
	}
	return o.libOptions()
}

func (o Options) progress(format string, args ...any) {
	if o.Progress != nil {
		o.Progress(fmt.Sprintf(format, args...))
	}
}

// stagingBytes is the size of the page-locked buffer used for copies.
const stagingBytes = 32 << 20

// fns are the loaded kernels.
type fns struct {
	embed, glu, add, softcap, addI32, rmsnorm, rmsnormAdd, gemv, gemm, ropeKV, attention,
	sample, sampleGreedy, sampleScores, sampleGather, markPresence, attnSplitScores, attnSplitPV cu.Function
}

// Backend is the CUDA backend on one GPU. It implements backend.Backend,
// backend.Capturer, backend.DeviceSampler and backend.BandwidthMeter. Use it from one goroutine at
// a time (as backend.Backend requires); Token polling is the exception
// documented on the sampler.
type Backend struct {
	w *worker

	// Owned by the worker thread.
	drv     *cu.Driver
	dev     cu.Device
	ordinal int
	ctx     cu.Context
	stream  cu.Stream
	modules []cu.Module
	k       fns
	staging []byte    // page-locked copy buffer
	errWord cu.DevPtr // device error flag written by kernels
	errHost []byte    // page-locked 4 bytes to read it
	capture bool      // a graph capture is in progress
	pend    pending   // a deferred decode op (see fuse.go)
	pend2   pending   // a second deferred norm (the k norm after the q norm)
	// execPool holds instantiated graphs of freed steps, updated in place
	// by the next capture of the same shape (graph.go).
	execPool                          []cu.GraphExec
	graphInstantiations, graphUpdates int
	attnWS                            cu.DevPtr // split-key attention workspace
	attnWSN                           int64     // its size in bytes
	noFuse                            bool
	pdl                               bool // launches use programmatic dependent launch

	info   backend.Info
	target kernels.Target
	sms    int // streaming multiprocessors
	// sharedOptin is the most shared memory (static + dynamic) a block may
	// use once a kernel's limit is raised
	// (CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN).
	sharedOptin int
	// kinfo holds each loaded kernel's shared-memory figures (worker).
	kinfo map[cu.Function]*funcInfo

	memMu     sync.Mutex
	allocated int64 // bytes currently allocated by this backend
	peak      int64 // high-water mark of allocated
	devPeak   int64 // high-water mark of device-wide used memory (cuMemGetInfo)
	total     int64
}

// Open starts the CUDA backend on GPU ordinal device: it loads the driver
// and NVRTC, makes the primary context current on a dedicated thread,
// compiles (or reads from the cache) every kernel for the GPU, and loads
// them. The error says what is missing when there is no usable GPU.
func Open(ctx context.Context, device int, opts Options) (*Backend, error) {
	if device < 0 {
		return nil, fmt.Errorf("cuda: device index %d must be >= 0", device)
	}
	libOpts := opts.libOptions()
	nvs, err := nvrtc.LoadAll(libOpts)
	if err != nil {
		return nil, fmt.Errorf("cuda: %w", err)
	}
	b := &Backend{ordinal: device, noFuse: opts.NoFusion}
	var cc, driverCUDA int
	w, err := startWorker(func() error {
		drv, err := cu.Load(opts.driverOptions())
		if err != nil {
			return fmt.Errorf("cuda: %w", err)
		}
		b.drv = drv
		if err := drv.Init(); err != nil {
			drv.Close()
			return fmt.Errorf("cuda: no usable GPU: %w", err)
		}
		n, err := drv.DeviceCount()
		if err != nil {
			drv.Close()
			return err
		}
		if device >= n {
			drv.Close()
			return fmt.Errorf("cuda: device %d requested but %d GPU(s) present", device, n)
		}
		gi, err := queryGPU(drv, device)
		if err != nil {
			drv.Close()
			return err
		}
		cc = gi.CCMajor*10 + gi.CCMinor
		if cc < 80 {
			drv.Close()
			return fmt.Errorf("cuda: %s has compute capability %s; the bf16 tensor-core kernels need 8.0 or newer", gi.Name, gi.ComputeCapability())
		}
		b.dev = gi.dev
		b.total = gi.MemoryBytes
		b.sms = gi.SMs
		b.sharedOptin = sharedDefault
		if v, err := drv.DeviceAttribute(gi.dev, cu.AttrMaxSharedMemPerBlockOpt); err == nil && v > 0 {
			b.sharedOptin = v
		}
		dv, _ := drv.DriverVersion()
		driverCUDA = dv
		b.info = backend.Info{
			Kind: "cuda", Index: device, Name: gi.Name, ComputeCapability: gi.ComputeCapability(),
			MemoryBytes: gi.MemoryBytes, DriverVersion: nvidiaDriverVersion(), CUDAVersion: cudaVersionString(dv),
		}
		if opts.PDL || os.Getenv("GENBENCH_CUDA_PDL") == "1" {
			switch {
			case cc < 90:
				opts.progress("cuda: programmatic dependent launch needs sm_90 or newer; off")
			case !drv.HasLaunchKernelEx() || dv < 12040:
				opts.progress("cuda: programmatic dependent launch needs a CUDA 12.4+ driver (cuLaunchKernelEx, graph capture); off")
			default:
				b.pdl = true
				opts.progress("cuda: programmatic dependent launch on")
			}
		}
		if b.ctx, err = drv.PrimaryCtxRetain(b.dev); err != nil {
			drv.Close()
			return err
		}
		if err := drv.CtxSetCurrent(b.ctx); err != nil {
			b.release()
			return err
		}
		if b.stream, err = drv.StreamCreate(cu.StreamNonBlocking); err != nil {
			b.release()
			return err
		}
		if b.staging, err = drv.MemAllocHost(stagingBytes); err != nil {
			b.release()
			return fmt.Errorf("cuda: page-locked staging buffer of %d MiB: %w", stagingBytes>>20, err)
		}
		if b.errHost, err = drv.MemAllocHost(64); err != nil {
			b.release()
			return err
		}
		if b.errWord, err = b.alloc(256, "error word"); err != nil {
			b.release()
			return err
		}
		if err := drv.MemsetD32Async(b.errWord, 0, 1, b.stream); err != nil {
			b.release()
			return err
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	b.w = w
	// The newest NVRTC whose output this driver can load (an NVRTC newer
	// than the driver makes cubins and PTX that cuModuleLoadData refuses).
	nv, cubinOnly, err := nvrtc.Choose(nvs, driverCUDA)
	for _, n := range nvs {
		if n != nv {
			n.Release()
		}
	}
	if err != nil {
		b.Close()
		return nil, fmt.Errorf("cuda: %w", err)
	}
	opts.progress("cuda: NVRTC %s (%s) for a driver of CUDA %s", nv.VersionString(), nv.Path(), cudaVersionString(driverCUDA))
	if err := b.loadKernels(ctx, nv, cc, cubinOnly, opts); err != nil {
		b.Close()
		return nil, err
	}
	return b, nil
}

// loadKernels compiles every module for the GPU and loads it.
func (b *Backend) loadKernels(ctx context.Context, nv *nvrtc.NVRTC, cc int, cubinOnly bool, opts Options) error {
	target, err := kernels.ChooseTarget(cc, nv.SupportedArchs(), nv.HasCUBIN())
	if err != nil {
		return fmt.Errorf("cuda: %w", err)
	}
	if target.PTX && cubinOnly {
		return fmt.Errorf("cuda: NVRTC %s (%s) is newer than the driver's CUDA %s and cannot build a cubin for sm_%d; "+
			"its PTX would not load: install the NVRTC of CUDA %s or older, or a newer NVIDIA driver",
			nv.VersionString(), nv.Path(), b.info.CUDAVersion, cc, b.info.CUDAVersion)
	}
	b.target = target
	cacheDir := opts.KernelCacheDir
	switch cacheDir {
	case "off":
		cacheDir = ""
	case "":
		if d, err := kernels.DefaultCacheDir(); err == nil {
			cacheDir = d
		}
	}
	comp := &kernels.Compiler{NVRTC: nv, Target: target, CacheDir: cacheDir}
	images := make(map[string][]byte)
	for _, m := range kernels.Modules() {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("cuda: loading kernels: %w", err)
		}
		img, err := comp.Compile(m)
		if err != nil {
			return fmt.Errorf("cuda: %w", err)
		}
		how := "compiled"
		if img.Cached {
			how = "cached"
		}
		opts.progress("cuda: kernels %s for %s (%s, NVRTC %s)", m.Name, target, how, nv.VersionString())
		images[m.Name] = img.Data
	}
	return b.w.do(func() error {
		get := map[string]*cu.Function{
			"embed": &b.k.embed, "glu": &b.k.glu, "add": &b.k.add, "softcap": &b.k.softcap,
			"add_i32": &b.k.addI32, "rmsnorm": &b.k.rmsnorm, "rmsnorm_add": &b.k.rmsnormAdd, "gemv": &b.k.gemv, "gemm": &b.k.gemm,
			"rope_kv": &b.k.ropeKV, "attention": &b.k.attention, "sample": &b.k.sample, "sample_greedy": &b.k.sampleGreedy,
			"sample_scores": &b.k.sampleScores, "sample_gather": &b.k.sampleGather,
			"mark_presence": &b.k.markPresence, "attn_split_scores": &b.k.attnSplitScores,
			"attn_split_pv": &b.k.attnSplitPV,
		}
		for _, m := range kernels.Modules() {
			mod, err := b.drv.ModuleLoadData(images[m.Name])
			if err != nil {
				return fmt.Errorf("cuda: load %s (%s): %w", m.Name, target, err)
			}
			b.modules = append(b.modules, mod)
			for _, k := range m.Kernels {
				f, err := b.drv.ModuleGetFunction(mod, k)
				if err != nil {
					return err
				}
				p, ok := get[k]
				if !ok {
					return fmt.Errorf("cuda: kernel %s of %s has no slot", k, m.Name)
				}
				*p = f
			}
		}
		b.kinfo = make(map[cu.Function]*funcInfo, len(get))
		for k, p := range get {
			if *p == 0 {
				return fmt.Errorf("cuda: kernel %s was not loaded", k)
			}
			fi, err := b.readFuncInfo(*p)
			if err != nil {
				return fmt.Errorf("cuda: kernel %s: %w", k, err)
			}
			b.kinfo[*p] = fi
		}
		return nil
	})
}

// funcInfo is a loaded kernel's shared memory, as the driver reports it.
type funcInfo struct {
	static int // bytes of static shared memory (after ptxas padding)
	maxDyn int // the dynamic shared memory a launch may ask for now
}

// readFuncInfo reads a kernel's static shared size and its current
// dynamic limit (worker thread).
func (b *Backend) readFuncInfo(f cu.Function) (*funcInfo, error) {
	st, err := b.drv.FuncGetAttribute(f, cu.FuncAttrSharedSizeBytes)
	if err != nil {
		return nil, err
	}
	dyn, err := b.drv.FuncGetAttribute(f, cu.FuncAttrMaxDynamicSharedSizeBytes)
	if err != nil {
		return nil, err
	}
	return &funcInfo{static: st, maxDyn: dyn}, nil
}

// maxDynamicShared is the dynamic shared memory f may use without raising
// its limit (worker thread).
func (b *Backend) maxDynamicShared(f cu.Function) int {
	if fi := b.kinfo[f]; fi != nil {
		return fi.maxDyn
	}
	return sharedDefault - attnStaticShared
}

// ensureShared raises f's dynamic shared-memory limit to bytes when a
// launch needs more than the default allows, or says clearly that the GPU
// cannot give that much (worker thread).
func (b *Backend) ensureShared(name string, f cu.Function, bytes int) error {
	fi := b.kinfo[f]
	if fi == nil || bytes <= fi.maxDyn {
		return nil
	}
	if fi.static+bytes > b.sharedOptin {
		return fmt.Errorf("cuda: kernel %s needs %d bytes of static and %d of dynamic shared memory; %s allows %d per block",
			name, fi.static, bytes, b.info.Name, b.sharedOptin)
	}
	if err := b.drv.FuncSetAttribute(f, cu.FuncAttrMaxDynamicSharedSizeBytes, bytes); err != nil {
		return fmt.Errorf("cuda: raising the shared-memory limit of %s to %d bytes: %w", name, bytes, err)
	}
	fi.maxDyn = bytes
	return nil
}

// release frees what Open acquired (on the worker thread).
func (b *Backend) release() error {
	var errs []error
	d := b.drv
	if d == nil {
		return nil
	}
	if b.stream != 0 {
		errs = append(errs, d.StreamSynchronize(b.stream))
	}
	for _, ex := range b.execPool {
		errs = append(errs, d.GraphExecDestroy(ex))
	}
	b.execPool = nil
	for _, m := range b.modules {
		errs = append(errs, d.ModuleUnload(m))
	}
	b.modules = nil
	if b.errWord != 0 {
		b.free(b.errWord, 256)
		b.errWord = 0
	}
	if b.attnWS != 0 {
		b.free(b.attnWS, b.attnWSN)
		b.attnWS, b.attnWSN = 0, 0
	}
	if b.staging != nil {
		errs = append(errs, d.MemFreeHost(b.staging))
		b.staging = nil
	}
	if b.errHost != nil {
		errs = append(errs, d.MemFreeHost(b.errHost))
		b.errHost = nil
	}
	if b.stream != 0 {
		errs = append(errs, d.StreamDestroy(b.stream))
		b.stream = 0
	}
	if b.ctx != 0 {
		errs = append(errs, d.PrimaryCtxRelease(b.dev))
		b.ctx = 0
	}
	errs = append(errs, d.Close())
	b.drv = nil
	return errors.Join(errs...)
}

// Close waits for pending work and releases the context, the stream and
// the kernels. Memory still held by buffers, weights and caches is freed
// with the context's last reference. Idempotent.
func (b *Backend) Close() error {
	if b == nil || b.w == nil {
		return nil
	}
	return b.w.stop(b.release)
}

// Info describes the GPU.
func (b *Backend) Info() backend.Info { return b.info }

// Target is the kernel compilation target (e.g. sm_90, or compute_90 PTX).
func (b *Backend) Target() string { return b.target.String() }

// Fusion reports whether the backend fuses op sequences (see fuse.go);
// Options.NoFusion turns it off at Open.
func (b *Backend) Fusion() bool {
	on := false
	_ = b.do(func() error { on = !b.noFuse; return nil })
	return on
}

// SetFusion turns fusion on or off for the ops that follow (any deferred
// op is launched first), so a check can run the same work fused and with
// every op launched on its own.
func (b *Backend) SetFusion(on bool) error {
	return b.do(func() error { b.noFuse = !on; return nil })
}

// do runs f on the CUDA thread after launching any deferred op (see
// fuse.go), so effects keep their order.
func (b *Backend) do(f func() error) error {
	if b == nil || b.w == nil {
		return errClosed
	}
	return b.w.do(func() error {
		if err := b.flush(); err != nil {
			return err
		}
		return f()
	})
}

// doFusable runs f on the CUDA thread without flushing: f decides whether
// to fuse with the deferred op or flush it.
func (b *Backend) doFusable(f func() error) error {
	if b == nil || b.w == nil {
		return errClosed
	}
	return b.w.do(f)
}

// alloc allocates device memory (on the worker thread), turning an
// out-of-memory failure into a clear error.
func (b *Backend) alloc(bytes int64, what string) (cu.DevPtr, error) {
	if bytes <= 0 {
		bytes = 1
	}
	p, err := b.drv.MemAlloc(bytes)
	if err != nil {
		if cu.IsOutOfMemory(err) {
			free, total, _ := b.drv.MemGetInfo()
			return 0, fmt.Errorf("cuda: out of GPU memory allocating %s for %s on %s (%s free of %s; this backend holds %s): %w",
				mib(bytes), what, b.info.Name, mib(free), mib(total), mib(b.allocatedBytes()), err)
		}
		return 0, fmt.Errorf("cuda: allocating %s for %s: %w", mib(bytes), what, err)
	}
	b.memMu.Lock()
	b.allocated += bytes
	b.peak = max(b.peak, b.allocated)
	b.memMu.Unlock()
	if free, total, err := b.drv.MemGetInfo(); err == nil {
		b.memMu.Lock()
		b.devPeak = max(b.devPeak, total-free)
		b.memMu.Unlock()
	}
	return p, nil
}

func (b *Backend) free(p cu.DevPtr, bytes int64) {
	if p == 0 {
		return
	}
	_ = b.drv.MemFree(p)
	b.memMu.Lock()
	b.allocated -= max(bytes, 1)
	b.memMu.Unlock()
}

func (b *Backend) allocatedBytes() int64 {
	b.memMu.Lock()
	defer b.memMu.Unlock()
	return b.allocated
}

func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }

// MemoryStats are the backend's device-memory figures in bytes.
type MemoryStats struct {
	Allocated int64 // held now by this backend
	Peak      int64 // high-water mark of Allocated since the last reset
	// DevicePeak is the high-water mark of device-wide used memory
	// (cuMemGetInfo total - free, sampled at each allocation): it includes
	// the context and other processes.
	DevicePeak int64
	Total      int64
}

// MemoryStats returns the current memory figures.
func (b *Backend) MemoryStats() MemoryStats {
	b.memMu.Lock()
	defer b.memMu.Unlock()
	return MemoryStats{Allocated: b.allocated, Peak: b.peak, DevicePeak: b.devPeak, Total: b.total}
}

// PeakMemory is the allocator's high-water mark in bytes since the last
// ResetPeakMemory.
func (b *Backend) PeakMemory() int64 { return b.MemoryStats().Peak }

// ResetPeakMemory restarts peak tracking from what is allocated now.
func (b *Backend) ResetPeakMemory() {
	b.memMu.Lock()
	b.peak = b.allocated
	b.devPeak = 0
	b.memMu.Unlock()
}

// cudaVersionString turns 12040 into "12.4".
func cudaVersionString(v int) string {
	if v <= 0 {
		return ""
	}
	return fmt.Sprintf("%d.%d", v/1000, (v%1000)/10)
}

// nvidiaDriverVersion reads the kernel module version ("550.54.15"), or "".
func nvidiaDriverVersion() string {
	data, err := os.ReadFile("/proc/driver/nvidia/version")
	if err != nil {
		return ""
	}
	for _, f := range strings.Fields(string(data)) {
		if len(f) > 0 && f[0] >= '0' && f[0] <= '9' && strings.Count(f, ".") >= 1 {
			return f
		}
	}
	return ""
}

// checkDeviceError reads and clears the device error word (worker thread;
// the stream must be synchronised).
func (b *Backend) checkDeviceError() error {
	if err := b.drv.MemcpyDtoHAsync(b.errHost[:4], b.errWord, b.stream); err != nil {
		return err
	}
	if err := b.drv.StreamSynchronize(b.stream); err != nil {
		return err
	}
	code := *(*int32)(unsafe.Pointer(&b.errHost[0]))
	if code == 0 {
		return nil
	}
	if err := b.drv.MemsetD32Async(b.errWord, 0, 1, b.stream); err != nil {
		return err
	}
	return deviceError(code)
}

// deviceError explains a device error code (see kernels/common.cuh).
func deviceError(code int32) error {
	switch code {
	case 1:
		return errors.New("cuda: a token id was outside the vocabulary (embedding lookup)")
	case 2:
		return errors.New("cuda: a position was outside the KV cache or RoPE table (or head_dim > 256)")
	case 4:
		return errors.New("cuda: more tokens were sampled than the sampler's capacity")
	}
	return fmt.Errorf("cuda: device error code %d", code)
}

// sync waits for the stream and reports device errors (worker thread).
func (b *Backend) sync() error {
	if b.capture {
		return errors.New("cuda: cannot wait for results while capturing a graph")
	}
	if err := b.drv.StreamSynchronize(b.stream); err != nil {
		return err
	}
	return b.checkDeviceError()
}

// Sync waits for all enqueued work and returns the first deferred error.
func (b *Backend) Sync() error { return b.do(b.sync) }
