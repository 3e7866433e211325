// RoPE (rotate_half convention, bf16 cos/sin tables, three roundings as in
// Hugging Face eager PyTorch, MODELS.md 2.3) applied to q and k in place,
// and the KV-cache write of the rotated k and the raw v at each token's
// position, read from device memory (so a decode step can be replayed).
// Per token: bytes = (H + 2*KV)*D*2 read + (H + 3*KV)*D*2 written + D*2
// (cos/sin); flops ~ 6*(H+KV)*D/2. One block per token.
//
// Cache layout (one layer): [capacity][KV][D] for keys and values.

//
// Optional per-head q/k RMSNorm before the rotation (Qwen3, Gemma 3), when
// qNormW / kNormW are not null: each head vector is normalised over D in
// place exactly as rmsnorm does (style gemma), one warp per head.
extern "C" __global__ void rope_kv(bf16_t* q, bf16_t* k, const bf16_t* __restrict__ v, int n,
                                   const i32* __restrict__ pos, const bf16_t* __restrict__ cosT,
                                   const bf16_t* __restrict__ sinT, int ropePositions,
                                   bf16_t* kc, bf16_t* vc, int capacity, int H, int KV, int D,
                                   int* err, const bf16_t* __restrict__ qNormW,
                                   const bf16_t* __restrict__ kNormW, float eps, int gemma) {
  pdl_wait();
  pdl_trigger();
  int t = blockIdx.x;
  if (t >= n) return;
  if (qNormW || kNormW) {
    int warp = threadIdx.x >> 5, lane = threadIdx.x & 31, nw = blockDim.x >> 5;
    for (int hv = warp; hv < H + KV; hv += nw) {
      const bf16_t* w = hv < H ? qNormW : kNormW;
      if (!w) continue;
      bf16_t* x = hv < H ? q + ((i64)t * H + hv) * D : k + ((i64)t * KV + (hv - H)) * D;
      float ss = 0.0f;
      for (int d = lane; d < D; d += 32) {
        float f = bf2f(x[d]);
        ss = fmaf(f, f, ss);
      }
      ss = warp_sum(ss);
      float inv = 1.0f / sqrtf(ss / (float)D + eps);
      for (int d = lane; d < D; d += 32) {
        float nv = bf2f(x[d]) * inv;
        float wv = bf2f(w[d]);
        x[d] = gemma ? f2bf(nv * (1.0f + wv)) : f2bf(wv * rnd(nv));
      }
    }
    __syncthreads();
  }
  int p = pos[t];
  if (p < 0 || p >= capacity || p >= ropePositions) {
    if (threadIdx.x == 0) set_error(err, GB_ERR_POS_RANGE);
    return;
  }
  int half = D >> 1;
  const bf16_t* cs = cosT + (i64)p * half;
  const bf16_t* sn = sinT + (i64)p * half;
  for (int i = threadIdx.x; i < (H + KV) * half; i += blockDim.x) {
    int h = i / half, j = i - h * half;
    bf16_t* x = h < H ? q + ((i64)t * H + h) * D : k + ((i64)t * KV + (h - H)) * D;
    float c = bf2f(cs[j]), s = bf2f(sn[j]);
    float a = bf2f(x[j]), b = bf2f(x[j + half]);
    bf16_t o1 = f2bf(rnd(a * c) + rnd(-b * s));
    bf16_t o2 = f2bf(rnd(b * c) + rnd(a * s));
    x[j] = o1;
    x[j + half] = o2;
    if (h >= H) {
      bf16_t* dst = kc + ((i64)p * KV + (h - H)) * D;
      dst[j] = o1;
      dst[j + half] = o2;
    }
  }
  for (int i = threadIdx.x; i < KV * D; i += blockDim.x) {
    vc[(i64)p * KV * D + i] = v[(i64)t * KV * D + i];
  }
}
