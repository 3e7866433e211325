// Matrix products y = x * W^T with bf16 inputs, float32 accumulation and a
// bf16-rounded output. W is [rows, cols] row-major (a Hugging Face Linear
// weight, possibly several projections stacked by rows); its output rows
// are split into up to three parts, each written to its own buffer:
// rows [0, b1) -> out0, [b1, b2) -> out1, [b2, rows) -> out2 (fused QKV and
// gate/up projections read the input once and launch once).
//
// gemv (decode, one token): bytes = rows*cols*2 (every weight read once,
// the whole cost) + cols*2 + rows*2; flops = 2*rows*cols. Built for
// bandwidth: 16-byte loads, two rows per warp, four loads in flight (the
// first ones issued before the fused norm prologue); it can absorb the
// RMSNorm before it and the residual add or GLU after it.
//
// gemm (prefill, n tokens): tensor cores through mma.sync m16n8k16 bf16
// with float32 accumulators; flops = 2*n*rows*cols; ideal bytes =
// (n*cols + rows*cols + n*rows)*2 (tiles are re-read from L2 once per
// 64-token block row).

__device__ __forceinline__ void store_out(float v, int r, i64 t, int rows, bf16_t* out0,
                                          bf16_t* out1, bf16_t* out2, int b1, int b2) {
  bf16_t h = f2bf(v);
  if (r < b1) {
    out0[t * b1 + r] = h;
  } else if (r < b2) {
    out1[t * (b2 - b1) + (r - b1)] = h;
  } else {
    out2[t * (rows - b2) + (r - b2)] = h;
  }
}

#define GEMV_WARPS 8

// Decode GEMV with optional fusions (all off when the pointers are null
// and gluAct < 0), each reproducing the separate ops' roundings exactly:
//  - prologue (normW != null): RMSNorm of x over cols, as rmsnorm does;
//    every block normalises x into shared memory (dynamic, cols*2 bytes),
//    block 0 also writes the normalised row to normOut;
//  - residual epilogue (resid != null, one part): y goes to out0 and
//    residOut[r] = rnd(resid[r] + y[r]);
//  - GLU epilogue (gluAct >= 0, two parts of b1 rows each): a warp computes
//    gate row r and up row b1 + r; gluOut[r] = rnd(rnd(act(gate)) * up),
//    out1[r] = up, and out0[r] = gate unless gluOut == out0.
// Aliasing: gluOut may equal out0 (then each row is stored once, the GLU
// value); residOut may equal resid (each element is read, then written, by
// the same lane). W never aliases anything; x, normW, normOut and the
// outputs are distinct buffers (cuda/fuse.go checks it). Only W is
// __restrict__ (the kernels are compiled without --restrict).
// One warp computes rpw (1 or 2) output rows; a block has GEMV_WARPS warps.
// Grid: ceil(rows / (8 * rpw)) blocks of 256 threads (ceil(b1 / 8) with the
// GLU, where a warp computes a gate row and its up row). One row per warp
// doubles the blocks of a small matrix so that every SM streams weights.
extern "C" __global__ void __launch_bounds__(256) gemv(
    const bf16_t* __restrict__ W, const bf16_t* x, int rows, int cols, bf16_t* out0, bf16_t* out1,
    bf16_t* out2, int b1, int b2, const bf16_t* normW, float eps, int gemma, bf16_t* normOut,
    const bf16_t* resid, bf16_t* residOut, int gluAct, bf16_t* gluOut, int rpw) {
  GB_DYNAMIC_SHARED(uint4, xsv);
  // The rows of this warp, known before x: the first weight loads are
  // issued before the norm prologue (the weights do not depend on x), so
  // the weight stream starts at once; warps without rows still take part
  // in the prologue's barriers.
  int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
  int r0, r1;
  bool two, active;
  if (gluAct >= 0) {
    r0 = blockIdx.x * GEMV_WARPS + warp;
    active = r0 < b1;
    r1 = b1 + r0;
    two = true;
  } else {
    r0 = (blockIdx.x * GEMV_WARPS + warp) * rpw;
    active = r0 < rows;
    two = rpw == 2 && r0 + 1 < rows;
    r1 = two ? r0 + 1 : r0;
  }
  const bool vec = (cols & 7) == 0;
  const int nv = cols >> 3;
  const uint4* w0 = (const uint4*)(W + (i64)r0 * cols);
  const uint4* w1 = (const uint4*)(W + (i64)r1 * cols);
  const uint4 z4 = make_uint4(0, 0, 0, 0);
  uint4 a[8], c[4];
#pragma unroll
  for (int u = 0; u < 8; u++) a[u] = z4;
#pragma unroll
  for (int u = 0; u < 4; u++) c[u] = z4;
  if (active && vec) {
    if (two) {
      if (lane + 96 < nv) {
#pragma unroll
        for (int u = 0; u < 4; u++) {
          a[u] = __ldg(w0 + lane + 32 * u);
          c[u] = __ldg(w1 + lane + 32 * u);
        }
      }
    } else if (lane + 224 < nv) {
#pragma unroll
      for (int u = 0; u < 8; u++) a[u] = __ldg(w0 + lane + 32 * u);
    }
  }
  // Everything below reads what earlier kernels wrote.
  pdl_wait();
  pdl_trigger();
  const bf16_t* xv = x;
  if (normW) {
    __shared__ float nred[32];
    bf16_t* xs = (bf16_t*)xsv;
    float ss = 0.0f;
    for (int i = threadIdx.x; i < cols; i += blockDim.x) {
      float v = bf2f(x[i]);
      ss = fmaf(v, v, ss);
    }
    ss = block_sum(ss, nred);
    float inv = 1.0f / sqrtf(ss / (float)cols + eps);
    for (int i = threadIdx.x; i < cols; i += blockDim.x) {
      float nv = bf2f(x[i]) * inv;
      float wv = bf2f(normW[i]);
      bf16_t h = gemma ? f2bf(nv * (1.0f + wv)) : f2bf(wv * rnd(nv));
      xs[i] = h;
      if (blockIdx.x == 0) normOut[i] = h;
    }
    __syncthreads();
    xv = xs;
  }
  if (!active) return;
  float acc0 = 0.0f, acc1 = 0.0f;
  if (vec) {
    const uint4* xq = (const uint4*)xv;  // global or shared: plain loads
    int i = lane;
    if (two) {
      // Four 16-byte loads per row in flight per lane; each iteration's
      // weights were loaded by the previous one (the first before the
      // prologue).
      for (; i + 96 < nv; i += 128) {
        uint4 x0 = xq[i], x1 = xq[i + 32], x2 = xq[i + 64], x3 = xq[i + 96];
        acc0 = dot8(a[0], x0, acc0); acc0 = dot8(a[1], x1, acc0); acc0 = dot8(a[2], x2, acc0); acc0 = dot8(a[3], x3, acc0);
        acc1 = dot8(c[0], x0, acc1); acc1 = dot8(c[1], x1, acc1); acc1 = dot8(c[2], x2, acc1); acc1 = dot8(c[3], x3, acc1);
        if (i + 128 + 96 < nv) {
#pragma unroll
          for (int u = 0; u < 4; u++) {
            a[u] = __ldg(w0 + i + 128 + 32 * u);
            c[u] = __ldg(w1 + i + 128 + 32 * u);
          }
        }
      }
      for (; i < nv; i += 32) {
        uint4 xx = xq[i];
        acc0 = dot8(__ldg(w0 + i), xx, acc0);
        acc1 = dot8(__ldg(w1 + i), xx, acc1);
      }
    } else {
      // One row: eight 16-byte loads in flight per lane.
      for (; i + 224 < nv; i += 256) {
#pragma unroll
        for (int u = 0; u < 8; u++) acc0 = dot8(a[u], xq[i + 32 * u], acc0);
        if (i + 256 + 224 < nv) {
#pragma unroll
          for (int u = 0; u < 8; u++) a[u] = __ldg(w0 + i + 256 + 32 * u);
        }
      }
      for (; i < nv; i += 32) acc0 = dot8(__ldg(w0 + i), xq[i], acc0);
    }
  } else {
    const bf16_t* ws0 = W + (i64)r0 * cols;
    const bf16_t* ws1 = W + (i64)r1 * cols;
    for (int cc = lane; cc < cols; cc += 32) {
      float xx = bf2f(xv[cc]);
      acc0 = fmaf(bf2f(ws0[cc]), xx, acc0);
      if (two) acc1 = fmaf(bf2f(ws1[cc]), xx, acc1);
    }
  }
  acc0 = warp_sum(acc0);
  acc1 = warp_sum(acc1);
  if (lane != 0) return;
  if (gluAct >= 0) {
    float g = rnd(acc0), u = rnd(acc1);
    float ag = gluAct == 1 ? act_gelu_tanh(g) : act_silu(g);
    // One store per address: with gluOut == out0 the gate row is dead.
    if (gluOut != out0) out0[r0] = f2bf(g);
    out1[r0] = f2bf(u);
    gluOut[r0] = f2bf(rnd(ag) * u);
    return;
  }
  store_out(acc0, r0, 0, rows, out0, out1, out2, b1, b2);
  if (two) store_out(acc1, r1, 0, rows, out0, out1, out2, b1, b2);
  if (resid) {
    residOut[r0] = f2bf(bf2f(resid[r0]) + rnd(acc0));
    if (two) residOut[r1] = f2bf(bf2f(resid[r1]) + rnd(acc1));
  }
}

#define GEMM_BM 64
#define GEMM_BN 64
#define GEMM_BK 32
#define GEMM_PAD 8
#define GEMM_LD (GEMM_BK + GEMM_PAD)

// c += A(16x16, row) * B(16x8, col) on the tensor cores; the fragment
// layouts are those of the PTX ISA for m16n8k16 (GENBENCH_EMU: the CPU
// emulation of the tests).
__device__ __forceinline__ void mma_bf16(float* c, u32 a0, u32 a1, u32 a2, u32 a3, u32 b0, u32 b1) {
#ifdef GENBENCH_EMU
  emu_mma_bf16(c, a0, a1, a2, a3, b0, b1);
#else
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 "
      "{%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
      : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
      : "r"(a0), "r"(a1), "r"(a2), "r"(a3), "r"(b0), "r"(b1));
#endif
}

// Loads a 64 x 32 tile of a row-major [nrows, K] matrix starting at (row0,
// k0) into shared memory, zero-filling outside the matrix.
__device__ __forceinline__ void load_tile(bf16_t (*dst)[GEMM_LD], const bf16_t* __restrict__ src,
                                          int nrows, int K, int row0, int k0, bool vec) {
  for (int c = threadIdx.x; c < GEMM_BM * (GEMM_BK / 8); c += blockDim.x) {
    int r = c >> 2, kc = (c & 3) * 8;
    int gr = row0 + r, gk = k0 + kc;
    uint4 v = make_uint4(0, 0, 0, 0);
    if (gr < nrows) {
      const bf16_t* p = src + (i64)gr * K + gk;
      if (vec && gk + 8 <= K) {
        v = __ldg((const uint4*)p);
      } else {
        bf16_t e[8];
#pragma unroll
        for (int j = 0; j < 8; j++) e[j] = gk + j < K ? p[j] : (bf16_t)0;
        v.x = (u32)e[0] | ((u32)e[1] << 16);
        v.y = (u32)e[2] | ((u32)e[3] << 16);
        v.z = (u32)e[4] | ((u32)e[5] << 16);
        v.w = (u32)e[6] | ((u32)e[7] << 16);
      }
    }
    *(uint4*)&dst[r][kc] = v;
  }
}

// Block tile 64 tokens x 64 output rows, 4 warps of 32x32 each.
// Grid: (ceil(rows/64), ceil(n/64)), 128 threads.
extern "C" __global__ void __launch_bounds__(128) gemm(const bf16_t* __restrict__ X,
                                                       const bf16_t* __restrict__ W, int n,
                                                       int rows, int K, bf16_t* out0,
                                                       bf16_t* out1, bf16_t* out2, int b1, int b2) {
  pdl_wait();
  pdl_trigger();
  __shared__ __align__(16) bf16_t As[GEMM_BM][GEMM_LD];
  __shared__ __align__(16) bf16_t Bs[GEMM_BN][GEMM_LD];
  int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
  int g = lane >> 2, tq = lane & 3;
  int m0 = blockIdx.y * GEMM_BM, n0 = blockIdx.x * GEMM_BN;
  int wm = (warp >> 1) * 32, wn = (warp & 1) * 32;
  bool vec = (K & 7) == 0;
  float acc[2][4][4];
#pragma unroll
  for (int i = 0; i < 2; i++)
#pragma unroll
    for (int j = 0; j < 4; j++)
#pragma unroll
      for (int k = 0; k < 4; k++) acc[i][j][k] = 0.0f;

  for (int k0 = 0; k0 < K; k0 += GEMM_BK) {
    __syncthreads();
    load_tile(As, X, n, K, m0, k0, vec);
    load_tile(Bs, W, rows, K, n0, k0, vec);
    __syncthreads();
#pragma unroll
    for (int kk = 0; kk < GEMM_BK; kk += 16) {
      u32 a[2][4], b[4][2];
#pragma unroll
      for (int mi = 0; mi < 2; mi++) {
        int r = wm + mi * 16 + g;
        a[mi][0] = *(const u32*)&As[r][kk + 2 * tq];
        a[mi][1] = *(const u32*)&As[r + 8][kk + 2 * tq];
        a[mi][2] = *(const u32*)&As[r][kk + 2 * tq + 8];
        a[mi][3] = *(const u32*)&As[r + 8][kk + 2 * tq + 8];
      }
#pragma unroll
      for (int ni = 0; ni < 4; ni++) {
        int c = wn + ni * 8 + g;
        b[ni][0] = *(const u32*)&Bs[c][kk + 2 * tq];
        b[ni][1] = *(const u32*)&Bs[c][kk + 2 * tq + 8];
      }
#pragma unroll
      for (int mi = 0; mi < 2; mi++)
#pragma unroll
        for (int ni = 0; ni < 4; ni++)
          mma_bf16(acc[mi][ni], a[mi][0], a[mi][1], a[mi][2], a[mi][3], b[ni][0], b[ni][1]);
    }
  }
#pragma unroll
  for (int mi = 0; mi < 2; mi++) {
#pragma unroll
    for (int ni = 0; ni < 4; ni++) {
#pragma unroll
      for (int h = 0; h < 2; h++) {
        int t = m0 + wm + mi * 16 + g + h * 8;
        int c = n0 + wn + ni * 8 + 2 * tq;
        if (t < n) {
          if (c < rows) store_out(acc[mi][ni][2 * h], c, t, rows, out0, out1, out2, b1, b2);
          if (c + 1 < rows) store_out(acc[mi][ni][2 * h + 1], c + 1, t, rows, out0, out1, out2, b1, b2);
        }
      }
    }
  }
}
