// RMSNorm over rows of a bf16 matrix, in the Llama/Qwen3 style
// (y = rnd(w * rnd(n))) or the Gemma 3 style (y = rnd(n * (1 + w))), with
// n = x * 1/sqrt(mean(x^2) + eps) in float32 (MODELS.md 2.2). Also serves the
// per-head q/k norms (rows = tokens x heads, dim = head_dim).
// Bytes: rows*dim*(2 read + 2 write) + dim*2 (weights, cached); flops ~4 per
// element. One block per row; x may equal out (each element is read and
// written by the same thread after the reduction).

extern "C" __global__ void rmsnorm(bf16_t* out, const bf16_t* x, int rows, int dim,
                                   const bf16_t* __restrict__ w, float eps, int gemma) {
  pdl_wait();
  pdl_trigger();
  __shared__ float red[32];
  int r = blockIdx.x;
  if (r >= rows) return;
  const bf16_t* xr = x + (i64)r * dim;
  bf16_t* yr = out + (i64)r * dim;
  float ss = 0.0f;
  for (int i = threadIdx.x; i < dim; i += blockDim.x) {
    float v = bf2f(xr[i]);
    ss = fmaf(v, v, ss);
  }
  ss = block_sum(ss, red);
  float inv = 1.0f / sqrtf(ss / (float)dim + eps);
  for (int i = threadIdx.x; i < dim; i += blockDim.x) {
    float nv = bf2f(xr[i]) * inv;
    float wv = bf2f(w[i]);
    yr[i] = gemma ? f2bf(nv * (1.0f + wv)) : f2bf(wv * rnd(nv));
  }
}

// rmsnorm_add is rmsnorm followed by a residual add, in one pass (Gemma 3's
// post-attention and post-feedforward norms): normOut[r] = y, out[r][i] =
// rnd(a[r][i] + y[i]) where y is rmsnorm's output for x[r]. normOut may
// equal x and out may equal a (each element is read and written by one
// thread after the reduction). Bytes: rows*dim*2*(2 read + 2 write).
extern "C" __global__ void rmsnorm_add(bf16_t* out, const bf16_t* a, bf16_t* normOut, const bf16_t* x,
                                       int rows, int dim, const bf16_t* __restrict__ w, float eps,
                                       int gemma) {
  pdl_wait();
  pdl_trigger();
  __shared__ float red[32];
  int r = blockIdx.x;
  if (r >= rows) return;
  const bf16_t* xr = x + (i64)r * dim;
  float ss = 0.0f;
  for (int i = threadIdx.x; i < dim; i += blockDim.x) {
    float v = bf2f(xr[i]);
    ss = fmaf(v, v, ss);
  }
  ss = block_sum(ss, red);
  float inv = 1.0f / sqrtf(ss / (float)dim + eps);
  for (int i = threadIdx.x; i < dim; i += blockDim.x) {
    i64 k = (i64)r * dim + i;
    float nv = bf2f(xr[i]) * inv;
    float wv = bf2f(w[i]);
    bf16_t y = gemma ? f2bf(nv * (1.0f + wv)) : f2bf(wv * rnd(nv));
    float av = bf2f(a[k]);
    normOut[k] = y;
    out[k] = f2bf(av + bf2f(y));
  }
}
