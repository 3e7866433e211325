// CPU emulation of the small CUDA subset the kernels use, so that the
// kernel sources can be compiled with a C++ compiler and checked against
// the Go reference ops on a machine without a GPU (see emu_test.go).
//
// Every CUDA thread of a block is a coroutine (ucontext); blocks run one
// after another, so function-static variables behave as shared memory.
// __syncthreads waits for every live thread of the block, warp shuffles and
// the tensor-core mma wait for the live lanes of the warp; a barrier that
// can never complete aborts with a message (a deadlock in the kernel).
// It checks logic (indexing, barriers, reductions, fragment layouts as the
// PTX ISA documents them), not timing or memory-model subtleties.
#pragma once

#include <ucontext.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <vector>

using std::max;
using std::min;

struct dim3 {
  unsigned x = 1, y = 1, z = 1;
};
struct uint4 {
  unsigned x, y, z, w;
};
static inline uint4 make_uint4(unsigned x, unsigned y, unsigned z, unsigned w) { return uint4{x, y, z, w}; }

#define __global__
#define __device__
#define __forceinline__ inline
#define __shared__ static
#define __restrict__ __restrict
#define __launch_bounds__(...)
#define __align__(n) __attribute__((aligned(n)))

namespace emu {
enum State { Run, AtBlockBarrier, AtWarpBarrier, Done };
struct Thread {
  ucontext_t ctx;
  dim3 tid;
  State state;
};
inline std::vector<Thread> threads;
inline std::vector<std::vector<char>> stacks;
inline int cur;
inline ucontext_t sched;
inline std::function<void()> body;
inline dim3 blockIdx_, blockDim_, gridDim_;
inline std::vector<char> dynSmem;
inline uint64_t shfl[32][32];
inline uint32_t mmaA[32][32][4], mmaB[32][32][2];

inline void entry() {
  body();
  threads[cur].state = Done;
  swapcontext(&threads[cur].ctx, &sched);
}

inline void yield(State s) {
  threads[cur].state = s;
  swapcontext(&threads[cur].ctx, &sched);
}

// launch runs kernel body f over the grid, block after block.
inline void launch(dim3 grid, dim3 block, size_t dyn, std::function<void()> f) {
  const int n = block.x * block.y * block.z;
  const size_t stackSize = 128 << 10;
  if ((int)stacks.size() < n) stacks.resize(n, std::vector<char>(stackSize));
  dynSmem.assign(dyn + 16, 0x7f);
  gridDim_ = grid;
  blockDim_ = block;
  body = f;
  for (unsigned bz = 0; bz < grid.z; bz++)
    for (unsigned by = 0; by < grid.y; by++)
      for (unsigned bx = 0; bx < grid.x; bx++) {
        blockIdx_ = dim3{bx, by, bz};
        threads.assign(n, Thread{});
        for (int i = 0; i < n; i++) {
          Thread& t = threads[i];
          t.tid = dim3{(unsigned)(i % block.x), (unsigned)((i / block.x) % block.y), (unsigned)(i / (block.x * block.y))};
          t.state = Run;
          getcontext(&t.ctx);
          t.ctx.uc_stack.ss_sp = stacks[i].data();
          t.ctx.uc_stack.ss_size = stackSize;
          t.ctx.uc_link = nullptr;
          makecontext(&t.ctx, entry, 0);
        }
        for (;;) {
          bool ran = false;
          for (int i = 0; i < n; i++) {
            if (threads[i].state != Run) continue;
            cur = i;
            ran = true;
            swapcontext(&sched, &threads[i].ctx);
          }
          if (ran) continue;
          int live = 0, atBlock = 0;
          for (auto& t : threads) {
            if (t.state != Done) live++;
            if (t.state == AtBlockBarrier) atBlock++;
          }
          if (live == 0) break;
          if (atBlock == live) {
            for (auto& t : threads)
              if (t.state == AtBlockBarrier) t.state = Run;
            continue;
          }
          bool released = false;
          for (int w = 0; w * 32 < n; w++) {
            int wl = 0, wa = 0;
            for (int l = w * 32; l < min(n, w * 32 + 32); l++) {
              if (threads[l].state != Done) wl++;
              if (threads[l].state == AtWarpBarrier) wa++;
            }
            if (wl > 0 && wa == wl) {
              for (int l = w * 32; l < min(n, w * 32 + 32); l++) threads[l].state = Run;
              released = true;
            }
          }
          if (!released) {
            fprintf(stderr, "emu: deadlock in block (%u,%u,%u): %d live threads, %d at __syncthreads\n", bx, by, bz, live, atBlock);
            exit(3);
          }
        }
      }
}
}  // namespace emu

#define threadIdx (emu::threads[emu::cur].tid)
#define blockIdx (emu::blockIdx_)
#define blockDim (emu::blockDim_)
#define gridDim (emu::gridDim_)
#define GB_DYNAMIC_SHARED(T, name) T* name = (T*)emu::dynSmem.data()

static inline void __syncthreads() { emu::yield(emu::AtBlockBarrier); }
static inline void emu_warp_sync() { emu::yield(emu::AtWarpBarrier); }
static inline void __threadfence_system() {}
static inline void __threadfence() {}

static inline float __uint_as_float(unsigned u) { float f; memcpy(&f, &u, 4); return f; }
static inline unsigned __float_as_uint(float f) { unsigned u; memcpy(&u, &f, 4); return u; }
static inline float __int_as_float(int i) { float f; memcpy(&f, &i, 4); return f; }

template <class T>
static inline T __ldg(const T* p) { return *p; }

template <class T>
static inline T __shfl_xor_sync(unsigned, T v, int o) {
  int lane = threadIdx.x & 31, w = threadIdx.x >> 5;
  uint64_t bits = 0;
  memcpy(&bits, &v, sizeof(T));
  emu::shfl[w][lane] = bits;
  emu_warp_sync();
  uint64_t ob = emu::shfl[w][lane ^ o];
  emu_warp_sync();
  T r;
  memcpy(&r, &ob, sizeof(T));
  return r;
}

template <class T, class U>
static inline T atomicAdd(T* p, U v) { T old = *p; *p = old + (T)v; return old; }
static inline int atomicCAS(int* p, int cmp, int v) { int old = *p; if (old == cmp) *p = v; return old; }
static inline int atomicMax(int* p, int v) { int old = *p; if (v > old) *p = v; return old; }

// emu_mma_bf16 is mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 for
// the calling warp, with the fragment layouts of the PTX ISA.
static inline void emu_mma_bf16(float* c, unsigned a0, unsigned a1, unsigned a2, unsigned a3, unsigned b0, unsigned b1) {
  int lane = threadIdx.x & 31, w = threadIdx.x >> 5;
  emu::mmaA[w][lane][0] = a0; emu::mmaA[w][lane][1] = a1; emu::mmaA[w][lane][2] = a2; emu::mmaA[w][lane][3] = a3;
  emu::mmaB[w][lane][0] = b0; emu::mmaB[w][lane][1] = b1;
  emu_warp_sync();
  float A[16][16], B[8][16];
  auto lo = [](unsigned x) { return __uint_as_float(x << 16); };
  auto hi = [](unsigned x) { return __uint_as_float(x & 0xffff0000u); };
  for (int l = 0; l < 32; l++) {
    int g = l >> 2, t = l & 3;
    const unsigned* a = emu::mmaA[w][l];
    A[g][2 * t] = lo(a[0]); A[g][2 * t + 1] = hi(a[0]);
    A[g + 8][2 * t] = lo(a[1]); A[g + 8][2 * t + 1] = hi(a[1]);
    A[g][2 * t + 8] = lo(a[2]); A[g][2 * t + 9] = hi(a[2]);
    A[g + 8][2 * t + 8] = lo(a[3]); A[g + 8][2 * t + 9] = hi(a[3]);
    const unsigned* b = emu::mmaB[w][l];
    B[g][2 * t] = lo(b[0]); B[g][2 * t + 1] = hi(b[0]);
    B[g][2 * t + 8] = lo(b[1]); B[g][2 * t + 9] = hi(b[1]);
  }
  emu_warp_sync();
  int g = lane >> 2, t = lane & 3;
  for (int r = 0; r < 4; r++) {
    int row = g + 8 * (r >> 1), col = 2 * t + (r & 1);
    float s = c[r];
    for (int k = 0; k < 16; k++) s += A[row][k] * B[col][k];
    c[r] = s;
  }
}
