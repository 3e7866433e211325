// Attention over the KV cache for n queries, causal with an optional
// sliding window, grouped-query heads, in the SDPA (flash) convention of
// MODELS.md 2.3 and gocore/backend: scores s = q.k * scale in float32 (not
// rounded), e = exp(s - max) and l = sum(e) in float32, the unnormalised
// e rounded to bf16 for P.V with float32 accumulation, the output divided
// by l and rounded once. Positions are read from device memory.
//
// One block per (head, query). Per query and head: bytes = L*D*2*2 (keys
// and values of the L visible positions; keys are read twice when L exceeds
// the shared-memory score buffer) + D*2*2; flops = 4*L*D.
//
// Phase 1: each thread scores whole keys (16-byte loads of the key row),
// keeping the scores in shared memory when they fit. Phase 2: the block
// reduces the maximum and the sum of exponentials. Phase 3: warps split the
// keys, lanes split the head dimension, and accumulate rnd(e) * v; the sum
// over warps is divided by l.

#define ATT_THREADS 256
#define ATT_MAXD 256

__device__ __forceinline__ float att_score(const float* qs, const bf16_t* __restrict__ krow, int D,
                                           float scale) {
  float s = 0.0f;
  if ((D & 7) == 0) {
    const uint4* kv = (const uint4*)krow;
    for (int i = 0; i < (D >> 3); i++) {
      uint4 w = __ldg(kv + i);
      const float* qq = qs + i * 8;
      s = fmaf(qq[0], lo_bf(w.x), s); s = fmaf(qq[1], hi_bf(w.x), s);
      s = fmaf(qq[2], lo_bf(w.y), s); s = fmaf(qq[3], hi_bf(w.y), s);
      s = fmaf(qq[4], lo_bf(w.z), s); s = fmaf(qq[5], hi_bf(w.z), s);
      s = fmaf(qq[6], lo_bf(w.w), s); s = fmaf(qq[7], hi_bf(w.w), s);
    }
  } else {
    for (int d = 0; d < D; d++) s = fmaf(qs[d], bf2f(krow[d]), s);
  }
  return s * scale;
}

// Dynamic shared memory: maxStored floats of scores.
extern "C" __global__ void __launch_bounds__(ATT_THREADS) attention(
    bf16_t* __restrict__ out, const bf16_t* __restrict__ q, int n, const i32* __restrict__ pos,
    const bf16_t* __restrict__ kc, const bf16_t* __restrict__ vc, int capacity, int H, int KV,
    int D, int window, float scale, int maxStored, int* err) {
  GB_DYNAMIC_SHARED(float, sc);
  __shared__ float qs[ATT_MAXD];
  __shared__ float red[32];
  __shared__ float accs[ATT_THREADS / 32][ATT_MAXD];
  int h = blockIdx.x, t = blockIdx.y;
  if (h >= H || t >= n) return;
  int p = pos[t];
  bf16_t* o = out + ((i64)t * H + h) * D;
  if (p < 0 || p >= capacity || D > ATT_MAXD) {
    if (threadIdx.x == 0) set_error(err, GB_ERR_POS_RANGE);
    return;
  }
  int lo = 0;
  if (window > 0 && p - window + 1 > 0) lo = p - window + 1;
  int L = p + 1 - lo;
  int g = h / (H / KV);
  const bf16_t* qv = q + ((i64)t * H + h) * D;
  for (int d = threadIdx.x; d < D; d += blockDim.x) qs[d] = bf2f(qv[d]);
  __syncthreads();
  const i64 kstride = (i64)KV * D;
  const bf16_t* kbase = kc + (i64)g * D;
  const bf16_t* vbase = vc + (i64)g * D;
  bool stored = L <= maxStored;

  // Phase 1: scores and their maximum.
  float mx = GB_NEG_INF;
  for (int j = threadIdx.x; j < L; j += blockDim.x) {
    float s = att_score(qs, kbase + (i64)(lo + j) * kstride, D, scale);
    if (stored) sc[j] = s;
    mx = fmaxf(mx, s);
  }
  mx = block_max(mx, red);
  // Phase 2: the sum of exponentials.
  float sum = 0.0f;
  for (int j = threadIdx.x; j < L; j += blockDim.x) {
    float s = stored ? sc[j] : att_score(qs, kbase + (i64)(lo + j) * kstride, D, scale);
    float e = expf(s - mx);
    if (stored) sc[j] = e;
    sum += e;
  }
  sum = block_sum(sum, red);  // its barriers also publish sc[]
  // Phase 3: P.V, warps over keys, lanes over the head dimension.
  int warp = threadIdx.x >> 5, lane = threadIdx.x & 31, nw = blockDim.x >> 5;
  float acc[ATT_MAXD / 32];
#pragma unroll
  for (int i = 0; i < ATT_MAXD / 32; i++) acc[i] = 0.0f;
  // Four keys per warp per iteration: their value rows are loaded before
  // any is used, so four loads per lane are in flight.
  for (int j0 = warp; j0 < L; j0 += 4 * nw) {
    float pr[4];
    float vv[4][ATT_MAXD / 32];
#pragma unroll
    for (int u = 0; u < 4; u++) {
      const int j = j0 + u * nw;  // warp-uniform
      pr[u] = 0.0f;
#pragma unroll
      for (int i = 0; i < ATT_MAXD / 32; i++) vv[u][i] = 0.0f;
      if (j < L) {
        float e;
        if (stored) {
          e = sc[j];
        } else {
          // Recompute the score with the whole warp.
          const bf16_t* krow = kbase + (i64)(lo + j) * kstride;
          float s = 0.0f;
          for (int d = lane; d < D; d += 32) s = fmaf(qs[d], bf2f(krow[d]), s);
          s = warp_sum(s) * scale;
          e = expf(s - mx);
        }
        pr[u] = rnd(e);
        const bf16_t* vrow = vbase + (i64)(lo + j) * kstride;
#pragma unroll
        for (int i = 0; i < ATT_MAXD / 32; i++) {
          int d = lane + 32 * i;
          if (d < D) vv[u][i] = bf2f(vrow[d]);
        }
      }
    }
#pragma unroll
    for (int u = 0; u < 4; u++)
#pragma unroll
      for (int i = 0; i < ATT_MAXD / 32; i++) acc[i] = fmaf(pr[u], vv[u][i], acc[i]);
  }
#pragma unroll
  for (int i = 0; i < ATT_MAXD / 32; i++) {
    int d = lane + 32 * i;
    if (d < D) accs[warp][d] = acc[i];
  }
  __syncthreads();
  for (int d = threadIdx.x; d < D; d += blockDim.x) {
    float s = 0.0f;
    for (int w = 0; w < nw; w++) s += accs[w][d];
    o[d] = f2bf(s / sum);
  }
}

// Split-key decode attention (one query): the visible keys are cut into
// chunks of `chunk` positions, one block per (head, chunk), so that a
// decode step with few heads still fills the GPU. Same numerics as
// attention() up to float32 summation order: scores in float32, the global
// maximum M (over the chunks' maxima), rnd(exp(s - M)) * v summed per
// chunk in float32; attn_split_combine adds the chunks, divides by
// L = sum over chunks of l_c * exp(m_c - M) and rounds once.
// Workspace: scores [H][capacity], part [H][S][2], opart [H][S][D] floats.

// attn_split_scores: grid (H, S), 256 threads.
extern "C" __global__ void __launch_bounds__(ATT_THREADS) attn_split_scores(
    const bf16_t* __restrict__ q, const i32* __restrict__ pos, const bf16_t* __restrict__ kc,
    int capacity, int H, int KV, int D, int window, float scale, int chunk, float* scores,
    float* part, int* err) {
  __shared__ float qs[ATT_MAXD];
  __shared__ float red[32];
  const int h = blockIdx.x, s = blockIdx.y, S = gridDim.y;
  const int p = pos[0];
  if (p < 0 || p >= capacity || D > ATT_MAXD) {
    if (threadIdx.x == 0 && s == 0) set_error(err, GB_ERR_POS_RANGE);
    return;
  }
  int lo = 0;
  if (window > 0 && p - window + 1 > 0) lo = p - window + 1;
  const int L = p + 1 - lo;
  const int j0 = s * chunk, j1 = min(L, j0 + chunk);
  const int g = h / (H / KV);
  const bf16_t* qv = q + (i64)h * D;
  for (int d = threadIdx.x; d < D; d += blockDim.x) qs[d] = bf2f(qv[d]);
  __syncthreads();
  const i64 kstride = (i64)KV * D;
  const bf16_t* kbase = kc + (i64)g * D;
  float* sc = scores + (i64)h * capacity;
  float mx = GB_NEG_INF;
  for (int j = j0 + threadIdx.x; j < j1; j += blockDim.x) {
    float v = att_score(qs, kbase + (i64)(lo + j) * kstride, D, scale);
    sc[j] = v;
    mx = fmaxf(mx, v);
  }
  mx = block_max(mx, red);
  float sum = 0.0f;
  for (int j = j0 + threadIdx.x; j < j1; j += blockDim.x) sum += expf(sc[j] - mx);
  sum = block_sum(sum, red);
  if (threadIdx.x == 0) {
    part[((i64)h * S + s) * 2] = mx;
    part[((i64)h * S + s) * 2 + 1] = sum;
  }
}

// attn_split_pv: grid (H, S), 256 threads.
extern "C" __global__ void __launch_bounds__(ATT_THREADS) attn_split_pv(
    const i32* __restrict__ pos, const bf16_t* __restrict__ vc, int capacity, int H, int KV, int D,
    int window, int chunk, const float* __restrict__ scores, const float* __restrict__ part,
    float* opart) {
  __shared__ float accs[ATT_THREADS / 32][ATT_MAXD];
  const int h = blockIdx.x, s = blockIdx.y, S = gridDim.y;
  const int p = pos[0];
  if (p < 0 || p >= capacity || D > ATT_MAXD) return;
  int lo = 0;
  if (window > 0 && p - window + 1 > 0) lo = p - window + 1;
  const int L = p + 1 - lo;
  const int j0 = s * chunk, j1 = min(L, j0 + chunk);
  const int g = h / (H / KV);
  // The global maximum over the chunks.
  float M = GB_NEG_INF;
  for (int i = 0; i < S; i++) M = fmaxf(M, part[((i64)h * S + i) * 2]);
  const i64 kstride = (i64)KV * D;
  const bf16_t* vbase = vc + (i64)g * D;
  const float* sc = scores + (i64)h * capacity;
  int warp = threadIdx.x >> 5, lane = threadIdx.x & 31, nw = blockDim.x >> 5;
  float acc[ATT_MAXD / 32];
#pragma unroll
  for (int i = 0; i < ATT_MAXD / 32; i++) acc[i] = 0.0f;
  for (int jb = j0 + warp; jb < j1; jb += 4 * nw) {
    float pr[4];
    float vv[4][ATT_MAXD / 32];
#pragma unroll
    for (int u = 0; u < 4; u++) {
      const int j = jb + u * nw;
      pr[u] = 0.0f;
#pragma unroll
      for (int i = 0; i < ATT_MAXD / 32; i++) vv[u][i] = 0.0f;
      if (j < j1) {
        pr[u] = rnd(expf(sc[j] - M));
        const bf16_t* vrow = vbase + (i64)(lo + j) * kstride;
#pragma unroll
        for (int i = 0; i < ATT_MAXD / 32; i++) {
          int d = lane + 32 * i;
          if (d < D) vv[u][i] = bf2f(vrow[d]);
        }
      }
    }
#pragma unroll
    for (int u = 0; u < 4; u++)
#pragma unroll
      for (int i = 0; i < ATT_MAXD / 32; i++) acc[i] = fmaf(pr[u], vv[u][i], acc[i]);
  }
#pragma unroll
  for (int i = 0; i < ATT_MAXD / 32; i++) {
    int d = lane + 32 * i;
    if (d < D) accs[warp][d] = acc[i];
  }
  __syncthreads();
  for (int d = threadIdx.x; d < D; d += blockDim.x) {
    float v = 0.0f;
    for (int w = 0; w < nw; w++) v += accs[w][d];
    opart[((i64)h * S + s) * D + d] = v;
  }
}

// attn_split_combine: grid (H), 256 threads: out = rnd(sum of the chunks
// / L), with M and L combined from the chunks in chunk order.
extern "C" __global__ void attn_split_combine(bf16_t* out, const float* __restrict__ opart,
                                              const float* __restrict__ part, int D, int S) {
  const int h = blockIdx.x;
  float M = GB_NEG_INF;
  for (int i = 0; i < S; i++) M = fmaxf(M, part[((i64)h * S + i) * 2]);
  float sum = 0.0f;
  for (int i = 0; i < S; i++) {
    float m = part[((i64)h * S + i) * 2];
    if (m > GB_NEG_INF) sum += part[((i64)h * S + i) * 2 + 1] * expf(m - M);
  }
  for (int d = threadIdx.x; d < D; d += blockDim.x) {
    float v = 0.0f;
    for (int i = 0; i < S; i++) v += opart[((i64)h * S + i) * D + d];
    out[(i64)h * D + d] = f2bf(v / sum);
  }
}
