// Common definitions prepended to every kernel source: fixed-width types,
// bfloat16 helpers on unsigned short (no CUDA toolkit headers), warp
// reductions, and the device error word.
//
// bfloat16 is the upper half of an IEEE float32; rounding is to nearest,
// ties to even, NaN kept quiet, exactly as gocore/bf16.FromFloat32.

// A dynamically sized shared-memory array (a macro so that the CPU
// emulation used by the tests can provide it).
#ifndef GB_DYNAMIC_SHARED
#define GB_DYNAMIC_SHARED(T, name) extern __shared__ T name[]
#endif

typedef unsigned short bf16_t;
typedef unsigned char u8;
typedef unsigned int u32;
typedef int i32;
typedef unsigned long long u64;
typedef long long i64;

#define GB_INF __int_as_float(0x7f800000)
#define GB_NEG_INF __int_as_float(0xff800000)

// Device error codes, reported by the host after a sync (see cuda/errors.go).
#define GB_ERR_TOKEN_RANGE 1    // a token id outside the vocabulary
#define GB_ERR_POS_RANGE 2      // a position outside the KV cache or RoPE table
#define GB_ERR_SAMPLER_STEPS 4  // more tokens sampled than the sampler's capacity

__device__ __forceinline__ float bf2f(bf16_t h) { return __uint_as_float(((u32)h) << 16); }

__device__ __forceinline__ bf16_t f2bf(float f) {
  u32 x = __float_as_uint(f);
  if ((x & 0x7fffffffu) > 0x7f800000u) return (bf16_t)((x >> 16) | 0x40u);
  x += 0x7fffu + ((x >> 16) & 1u);
  return (bf16_t)(x >> 16);
}

// rnd rounds a float32 to the nearest bfloat16 value.
__device__ __forceinline__ float rnd(float f) { return bf2f(f2bf(f)); }

// The two bf16 halves of a 32-bit word, as floats.
__device__ __forceinline__ float lo_bf(u32 w) { return __uint_as_float(w << 16); }
__device__ __forceinline__ float hi_bf(u32 w) { return __uint_as_float(w & 0xffff0000u); }

// dot8 is the float32 dot product of two vectors of 8 bf16 (16 bytes).
__device__ __forceinline__ float dot8(uint4 a, uint4 b, float acc) {
  acc = fmaf(lo_bf(a.x), lo_bf(b.x), acc); acc = fmaf(hi_bf(a.x), hi_bf(b.x), acc);
  acc = fmaf(lo_bf(a.y), lo_bf(b.y), acc); acc = fmaf(hi_bf(a.y), hi_bf(b.y), acc);
  acc = fmaf(lo_bf(a.z), lo_bf(b.z), acc); acc = fmaf(hi_bf(a.z), hi_bf(b.z), acc);
  acc = fmaf(lo_bf(a.w), lo_bf(b.w), acc); acc = fmaf(hi_bf(a.w), hi_bf(b.w), acc);
  return acc;
}

// GLU activations in float32 (MODELS.md 2.4): SiLU and GELU (tanh form).
__device__ __forceinline__ float act_silu(float z) { return z / (1.0f + expf(-z)); }

__device__ __forceinline__ float act_gelu_tanh(float z) {
  const float beta = 0.7978845608028654f;  // sqrt(2/pi)
  return 0.5f * z * (1.0f + tanhf(beta * (z + 0.044715f * z * z * z)));
}

__device__ __forceinline__ float warp_sum(float v) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}

__device__ __forceinline__ double warp_sum_d(double v) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}

__device__ __forceinline__ float warp_max(float v) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}

__device__ __forceinline__ int warp_sum_i(int v) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}

// block_sum / block_max reduce over the whole block (blockDim.x a multiple
// of 32, at most 1024); every thread gets the result. red must hold 32
// floats of shared memory; the call contains two barriers.
__device__ __forceinline__ float block_sum(float v, float* red) {
  int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nw = blockDim.x >> 5;
  v = warp_sum(v);
  __syncthreads();
  if (lane == 0) red[warp] = v;
  __syncthreads();
  float r = lane < nw ? red[lane] : 0.0f;
  return warp_sum(r);
}

__device__ __forceinline__ float block_max(float v, float* red) {
  int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nw = blockDim.x >> 5;
  v = warp_max(v);
  __syncthreads();
  if (lane == 0) red[warp] = v;
  __syncthreads();
  float r = lane < nw ? red[lane] : GB_NEG_INF;
  return warp_max(r);
}

// Programmatic dependent launch (sm_90 and newer; the backend launches
// with it only when asked, see cuda/backend.go): pdl_wait() blocks until
// the previous kernel of the stream has completed and its writes are
// visible, pdl_trigger() lets the next kernel be scheduled (its blocks then
// run up to their own pdl_wait()). Every kernel calls pdl_wait() before it
// touches memory another kernel writes; only the decode GEMV reads its
// weights (never written) before it. Without a programmatic dependency
// (a normal launch) both return at once; below sm_90 they are empty.
#if defined(__CUDA_ARCH__) && (__CUDA_ARCH__ >= 900) && !defined(GENBENCH_EMU)
__device__ __forceinline__ void pdl_wait() { asm volatile("griddepcontrol.wait;" ::: "memory"); }
__device__ __forceinline__ void pdl_trigger() { asm volatile("griddepcontrol.launch_dependents;" ::: "memory"); }
#else
__device__ __forceinline__ void pdl_wait() {}
__device__ __forceinline__ void pdl_trigger() {}
#endif

// set_error records the first error code in the device error word.
__device__ __forceinline__ void set_error(int* err, int code) {
  if (err) atomicCAS(err, 0, code);
}
