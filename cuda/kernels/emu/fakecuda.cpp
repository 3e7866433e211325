// An emulated CUDA driver (libcuda.so.1) for checking the Go backend's host
// code without a GPU: every driver entry point the backend uses, with
// device memory in host memory, one in-order synchronous stream, graph
// capture recorded and replayed, and kernels run on the CPU emulation
// (emu.h) from the same sources NVRTC compiles (the module images are
// ignored). Build:
//
//   g++ -std=c++17 -O1 -shared -fPIC -o DIR/libcuda.so.1 fakecuda.cpp
//
// then point cuda.Options.LibDirs at DIR (with libnvrtc there too).
#define GENBENCH_EMU 1
#include "emu.h"

#include "../common.cuh"
#include "../elementwise.cu"
#include "../norm.cu"
#include "../matmul.cu"
#include "../rope.cu"
#include "../attention.cu"
#include "../sample.cu"

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>

namespace {

// A kernel: its parameter sizes and a call taking pointers to their values.
struct Kernel {
  std::vector<size_t> sizes;
  std::function<void(void**)> call;
  int staticShared = 0;  // CU_FUNC_ATTRIBUTE_SHARED_SIZE_BYTES
  int maxDynamic = -1;   // CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES (-1: the default)
};

// The shared-memory limits of a CUDA 12/13 driver on an sm_90 GPU: static
// + dynamic <= 48 KiB unless the kernel's dynamic limit is raised, up to
// the opt-in maximum of 227 KiB per block.
const int kSharedDefault = 48 << 10;
const int kSharedOptin = 232448;

// Static shared memory as a real GPU reports it after loading: the sizes
// the sources declare, some with padding, so the backend must read them
// rather than assume its own figures.
int static_shared(const std::string& name) {
  if (name == "attention") return 9344 + 256;  // qs + red + accs, padded
  if (name == "attn_split_scores") return 1024 + 128;
  if (name == "attn_split_pv") return 8192;
  if (name == "gemm") return 2 * 64 * 40 * 2;
  if (name == "sample") return 36352;
  if (name == "sample_scores") return 4096 * 4 + 256;
  if (name == "sample_gather") return 256 * 4 + 16;
  if (name == "gemv" || name == "rmsnorm" || name == "rmsnorm_add") return 128;
  return 0;
}

template <class... A, size_t... I>
void invoke(void (*f)(A...), void** p, std::index_sequence<I...>) {
  f(*(std::remove_cv_t<std::remove_reference_t<A>>*)p[I]...);
}

template <class... A>
Kernel wrap(void (*f)(A...)) {
  Kernel k;
  k.sizes = {sizeof(A)...};
  k.call = [f](void** p) { invoke(f, p, std::index_sequence_for<A...>{}); };
  return k;
}

std::map<std::string, Kernel>& registry() {
  static std::map<std::string, Kernel> r = [] {
    std::map<std::string, Kernel> m = {
      {"embed", wrap(embed)},
      {"glu", wrap(glu)},
      {"add", wrap(add)},
      {"softcap", wrap(softcap)},
      {"add_i32", wrap(add_i32)},
      {"rmsnorm", wrap(rmsnorm)},
      {"rmsnorm_add", wrap(rmsnorm_add)},
      {"gemv", wrap(gemv)},
      {"gemm", wrap(gemm)},
      {"rope_kv", wrap(rope_kv)},
      {"attention", wrap(attention)},
      {"attn_split_scores", wrap(attn_split_scores)},
      {"attn_split_pv", wrap(attn_split_pv)},
      {"sample", wrap(sample)},
      {"sample_greedy", wrap(sample_greedy)},
      {"sample_scores", wrap(sample_scores)},
      {"sample_gather", wrap(sample_gather)},
      {"mark_presence", wrap(mark_presence)},
    };
    for (auto& [name, k] : m) k.staticShared = static_shared(name);
    return m;
  }();
  return r;
}

using Op = std::function<void()>;
bool capturing = false;
std::vector<Op> captured;

// enqueue runs op now, or records it while a capture is on.
void enqueue(Op op) {
  if (capturing) {
    captured.push_back(std::move(op));
  } else {
    op();
  }
}

struct Graph {
  std::vector<Op> ops;
};

}  // namespace

typedef unsigned long long CUdeviceptr;
#define OK 0

extern "C" {

int cuInit(unsigned) { return OK; }
// The CUDA version the driver supports: 12.4, or GENBENCH_FAKE_CUDA_VERSION
// (e.g. 10020) to test the choice of NVRTC.
int cuDriverGetVersion(int* v) {
  const char* e = getenv("GENBENCH_FAKE_CUDA_VERSION");
  *v = e && *e ? atoi(e) : 12040;
  return OK;
}
int cuDeviceGetCount(int* n) { *n = 1; return OK; }
int cuDeviceGet(int* d, int ordinal) { if (ordinal != 0) return 101; *d = 0; return OK; }
int cuDeviceGetName(char* name, int len, int) { snprintf(name, len, "Emulated GPU"); return OK; }
int cuDeviceGetAttribute(int* v, int attr, int) {
  switch (attr) {
    case 75: *v = 9; break;   // compute capability 9.0
    case 76: *v = 0; break;
    case 16: *v = 4; break;   // SMs
    case 97: *v = kSharedOptin; break;  // shared memory per block, opt-in
    default: *v = 0;
  }
  return OK;
}
int cuDeviceTotalMem_v2(size_t* b, int) { *b = 8ull << 30; return OK; }
int cuDevicePrimaryCtxRetain(void** ctx, int) { static int c; *ctx = &c; return OK; }
int cuDevicePrimaryCtxRelease_v2(int) { return OK; }
int cuCtxSetCurrent(void*) { return OK; }
int cuCtxSynchronize() { return OK; }

int cuMemAlloc_v2(CUdeviceptr* p, size_t n) {
  void* m = aligned_alloc(256, (n + 255) / 256 * 256);
  if (!m) return 2;  // CUDA_ERROR_OUT_OF_MEMORY
  memset(m, 0xa5, n);  // device memory is not zeroed
  *p = (CUdeviceptr)m;
  return OK;
}
int cuMemFree_v2(CUdeviceptr p) { free((void*)p); return OK; }
int cuMemAllocHost_v2(void** p, size_t n) { *p = aligned_alloc(64, (n + 63) / 64 * 64); return *p ? OK : 2; }
int cuMemHostAlloc(void** p, size_t n, unsigned) { return cuMemAllocHost_v2(p, n); }
int cuMemHostGetDevicePointer_v2(CUdeviceptr* d, void* p, unsigned) { *d = (CUdeviceptr)p; return OK; }
int cuMemFreeHost(void* p) { free(p); return OK; }
int cuMemcpyHtoDAsync_v2(CUdeviceptr dst, const void* src, size_t n, void*) {
  std::vector<char> copy((const char*)src, (const char*)src + n);  // the host buffer may change before a replay
  enqueue([=] { memcpy((void*)dst, copy.data(), n); });
  return OK;
}
int cuMemcpyDtoHAsync_v2(void* dst, CUdeviceptr src, size_t n, void*) {
  enqueue([=] { memcpy(dst, (const void*)src, n); });
  return OK;
}
int cuMemcpyDtoDAsync_v2(CUdeviceptr dst, CUdeviceptr src, size_t n, void*) {
  enqueue([=] { memmove((void*)dst, (const void*)src, n); });
  return OK;
}
int cuMemsetD8Async(CUdeviceptr p, unsigned char v, size_t n, void*) {
  enqueue([=] { memset((void*)p, v, n); });
  return OK;
}
int cuMemsetD32Async(CUdeviceptr p, unsigned v, size_t n, void*) {
  enqueue([=] {
    unsigned* q = (unsigned*)p;
    for (size_t i = 0; i < n; i++) q[i] = v;
  });
  return OK;
}
int cuMemGetInfo_v2(size_t* fr, size_t* total) { *fr = 6ull << 30; *total = 8ull << 30; return OK; }

int cuStreamCreate(void** s, unsigned) { static int st; *s = &st; return OK; }
int cuStreamDestroy_v2(void*) { return OK; }
int cuStreamSynchronize(void*) { return capturing ? 901 : OK; }  // CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED
int cuStreamQuery(void*) { return OK; }
int cuStreamBeginCapture_v2(void*, int) {
  if (capturing) return 900;
  capturing = true;
  captured.clear();
  return OK;
}
int cuStreamEndCapture(void*, void** g) {
  if (!capturing) return 900;
  capturing = false;
  *g = new Graph{std::move(captured)};
  captured.clear();
  return OK;
}
int cuGraphInstantiateWithFlags(void** exec, void* g, unsigned long long) {
  *exec = new Graph{((Graph*)g)->ops};
  return OK;
}
// cuGraphExecUpdate_v2: same topology (here: the same number of operations)
// or CUDA_ERROR_GRAPH_EXEC_UPDATE_FAILURE (910), exec left unchanged.
int cuGraphExecUpdate_v2(void* exec, void* g, void*) {
  if (((Graph*)exec)->ops.size() != ((Graph*)g)->ops.size()) return 910;
  ((Graph*)exec)->ops = ((Graph*)g)->ops;
  return OK;
}
int cuGraphLaunch(void* exec, void*) {
  Graph* g = (Graph*)exec;
  enqueue([g] {
    for (auto& op : g->ops) op();
  });
  return OK;
}
int cuGraphExecDestroy(void* exec) { delete (Graph*)exec; return OK; }
int cuGraphDestroy(void* g) { delete (Graph*)g; return OK; }

int cuModuleLoadData(void** m, const void*) { static int mod; *m = &mod; return OK; }
int cuModuleUnload(void*) { return OK; }
int cuModuleGetFunction(void** f, void*, const char* name) {
  auto it = registry().find(name);
  if (it == registry().end()) return 500;  // CUDA_ERROR_NOT_FOUND
  *f = &it->second;
  return OK;
}
static int max_dynamic(Kernel* k) { return k->maxDynamic >= 0 ? k->maxDynamic : kSharedDefault - k->staticShared; }
int cuFuncGetAttribute(int* v, int attr, void* f) {
  Kernel* k = (Kernel*)f;
  switch (attr) {
    case 1: *v = k->staticShared; return OK;
    case 8: *v = max_dynamic(k); return OK;
  }
  return 1;  // CUDA_ERROR_INVALID_VALUE
}
int cuFuncSetAttribute(void* f, int attr, int v) {
  Kernel* k = (Kernel*)f;
  if (attr != 8) return 1;
  if (v < 0 || k->staticShared + v > kSharedOptin) return 1;
  k->maxDynamic = v;
  return OK;
}

int cuLaunchKernel(void* f, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz,
                   unsigned shared, void*, void** params, void**) {
  Kernel* k = (Kernel*)f;
  // A real driver refuses more dynamic shared memory than the kernel's limit.
  if ((int)shared > max_dynamic(k)) return 1;  // CUDA_ERROR_INVALID_VALUE
  // Copy the parameter values now, as the driver does.
  auto vals = std::make_shared<std::vector<std::vector<char>>>();
  for (size_t i = 0; i < k->sizes.size(); i++) vals->emplace_back((char*)params[i], (char*)params[i] + k->sizes[i]);
  dim3 grid, block;
  grid.x = gx; grid.y = gy; grid.z = gz;
  block.x = bx; block.y = by; block.z = bz;
  enqueue([k, vals, grid, block, shared] {
    std::vector<void*> p;
    for (auto& v : *vals) p.push_back(v.data());
    emu::launch(grid, block, shared, [&] { k->call(p.data()); });
  });
  return OK;
}

// cuLaunchKernelEx with the CUDA 12/13 layouts of CUlaunchConfig and
// CUlaunchAttribute; the only attribute accepted is programmatic stream
// serialization (6) set to 1, which changes nothing on this in-order
// stream (the kernels' griddepcontrol is a no-op in the emulation).
struct LaunchAttr {
  unsigned id;
  char pad[4];
  union {
    int programmatic;
    char bytes[64];
  } value;
};
struct LaunchConfig {
  unsigned gx, gy, gz, bx, by, bz, shared;
  void* stream;
  LaunchAttr* attrs;
  unsigned numAttrs;
};
static_assert(sizeof(LaunchAttr) == 72 && sizeof(LaunchConfig) == 56, "cuda.h layouts");
int cuLaunchKernelEx(const LaunchConfig* c, void* f, void** params, void** extra) {
  if (c->numAttrs != 1 || !c->attrs || c->attrs[0].id != 6 || c->attrs[0].value.programmatic != 1) return 1;
  return cuLaunchKernel(f, c->gx, c->gy, c->gz, c->bx, c->by, c->bz, c->shared, c->stream, params, extra);
}

struct Event {
  std::chrono::steady_clock::time_point t;
};
int cuEventCreate(void** e, unsigned) { *e = new Event; return OK; }
int cuEventRecord(void* e, void*) {
  enqueue([e] { ((Event*)e)->t = std::chrono::steady_clock::now(); });
  return OK;
}
int cuEventSynchronize(void*) { return OK; }
int cuEventElapsedTime(float* ms, void* a, void* b) {
  *ms = std::chrono::duration<float, std::milli>(((Event*)b)->t - ((Event*)a)->t).count();
  if (*ms <= 0) *ms = 1e-3f;
  return OK;
}
int cuEventDestroy_v2(void* e) { delete (Event*)e; return OK; }

int cuGetErrorName(int code, const char** s) {
  static char buf[64];
  snprintf(buf, sizeof buf, "CUDA_ERROR_EMULATED_%d", code);
  *s = buf;
  return OK;
}
int cuGetErrorString(int, const char** s) { *s = "emulated driver error"; return OK; }

}  // extern "C"
