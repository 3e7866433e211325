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
  pdl_wait();
  pdl_trigger();
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
// decode step with few heads or a short cache still fills the GPU (the
// backend splits whenever heads x chunks would leave SMs idle; chunks of
// 32-256 keys). Same numerics as attention() up to float32 summation
// order: scores in float32, the global maximum M (over the chunks' maxima),
// rnd(exp(s - M)) * v summed per chunk in float32, the sum of the chunks
// divided by L = sum over chunks of l_c * exp(m_c - M) and rounded once.
// Two kernels: attn_split_scores (scores and each chunk's max and sum),
// attn_split_pv (P.V of each chunk; the last block of a head to finish
// combines the chunks and writes the output, so no third launch).
// Bytes per head: L*D*2 (keys) + L*D*2 (values) + L*4*2 (scores written,
// read) + S*D*4*2 (partial outputs); flops 4*L*D.
// Workspace: scores [H][capacity], part [H][S][2], opart [H][S][D] floats,
// then done [H] ints (zero; each head's last block resets its counter).
//
// Loads: with D a multiple of 8 and D/8 dividing 32 (D = 64, 128, 256), a
// key or value row is read by G = D/8 lanes with one 16-byte load each, so
// a warp covers 32/G rows per load and every lane keeps four loads in
// flight; other head sizes take a scalar path.

// split_groups returns G (lanes per row) for 16-byte row loads, or 0.
__device__ __forceinline__ int split_groups(int D) {
  if ((D & 7) != 0) return 0;
  int G = D >> 3;
  return (G <= 32 && (32 % G) == 0) ? G : 0;
}

// attn_split_scores: grid (H, S), 256 threads.
extern "C" __global__ void __launch_bounds__(ATT_THREADS) attn_split_scores(
    const bf16_t* __restrict__ q, const i32* __restrict__ pos, const bf16_t* __restrict__ kc,
    int capacity, int H, int KV, int D, int window, float scale, int chunk, float* scores,
    float* part, int* err) {
  pdl_wait();
  pdl_trigger();
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
  const i64 kstride = (i64)KV * D;
  const bf16_t* kbase = kc + (i64)g * D;
  float* sc = scores + (i64)h * capacity;
  float mx = GB_NEG_INF;
  const int G = split_groups(D);
  if (G > 0) {
    // G lanes per key, one 16-byte slice of q and k each.
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31, nw = blockDim.x >> 5;
    const int kpw = 32 / G, sub = lane / G, sl = lane % G;
    const uint4 qq = *((const uint4*)qv + sl);
    for (int jb = j0 + warp * kpw; jb < j1; jb += nw * kpw * 4) {
      uint4 kk[4];
#pragma unroll
      for (int u = 0; u < 4; u++) {
        const int j = jb + u * nw * kpw + sub;
        kk[u] = j < j1 ? __ldg((const uint4*)(kbase + (i64)(lo + j) * kstride) + sl) : make_uint4(0, 0, 0, 0);
      }
#pragma unroll
      for (int u = 0; u < 4; u++) {
        const int j = jb + u * nw * kpw + sub;
        float d = dot8(kk[u], qq, 0.0f);
        for (int o = G >> 1; o > 0; o >>= 1) d += __shfl_xor_sync(0xffffffffu, d, o);
        if (sl == 0 && j < j1) {
          const float v = d * scale;
          sc[j] = v;
          mx = fmaxf(mx, v);
        }
      }
    }
  } else {
    for (int d = threadIdx.x; d < D; d += blockDim.x) qs[d] = bf2f(qv[d]);
    __syncthreads();
    for (int j = j0 + threadIdx.x; j < j1; j += blockDim.x) {
      float v = att_score(qs, kbase + (i64)(lo + j) * kstride, D, scale);
      sc[j] = v;
      mx = fmaxf(mx, v);
    }
  }
  mx = block_max(mx, red);  // its barriers also publish sc[]
  float sum = 0.0f;
  for (int j = j0 + threadIdx.x; j < j1; j += blockDim.x) sum += expf(sc[j] - mx);
  sum = block_sum(sum, red);
  if (threadIdx.x == 0) {
    part[((i64)h * S + s) * 2] = mx;
    part[((i64)h * S + s) * 2 + 1] = sum;
  }
}

// attn_split_pv: grid (H, S), 256 threads. Writes out (bf16 [H][D]) from
// the last block of each head.
extern "C" __global__ void __launch_bounds__(ATT_THREADS) attn_split_pv(
    const i32* __restrict__ pos, const bf16_t* __restrict__ vc, int capacity, int H, int KV, int D,
    int window, int chunk, const float* __restrict__ scores, const float* __restrict__ part,
    float* opart, bf16_t* out, int* done) {
  pdl_wait();
  pdl_trigger();
  __shared__ float accs[ATT_THREADS / 32][ATT_MAXD];
  __shared__ int s_last;
  const int h = blockIdx.x, s = blockIdx.y, S = gridDim.y;
  const int p = pos[0];
  if (p < 0 || p >= capacity || D > ATT_MAXD) return;  // uniform: no block takes a ticket
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
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31, nw = blockDim.x >> 5;
  const int G = split_groups(D);
  if (G > 0) {
    // G lanes per value row (8 dimensions each), 32/G rows per warp-step,
    // four steps' loads in flight.
    const int rpw = 32 / G, sub = lane / G, sl = lane % G;
    float acc[8];
#pragma unroll
    for (int i = 0; i < 8; i++) acc[i] = 0.0f;
    for (int jb = j0 + warp * rpw; jb < j1; jb += nw * rpw * 4) {
      uint4 vv[4];
      float pr[4];
#pragma unroll
      for (int u = 0; u < 4; u++) {
        const int j = jb + u * nw * rpw + sub;
        pr[u] = 0.0f;
        vv[u] = make_uint4(0, 0, 0, 0);
        if (j < j1) {
          pr[u] = rnd(expf(sc[j] - M));
          vv[u] = __ldg((const uint4*)(vbase + (i64)(lo + j) * kstride) + sl);
        }
      }
#pragma unroll
      for (int u = 0; u < 4; u++) {
        acc[0] = fmaf(pr[u], lo_bf(vv[u].x), acc[0]); acc[1] = fmaf(pr[u], hi_bf(vv[u].x), acc[1]);
        acc[2] = fmaf(pr[u], lo_bf(vv[u].y), acc[2]); acc[3] = fmaf(pr[u], hi_bf(vv[u].y), acc[3]);
        acc[4] = fmaf(pr[u], lo_bf(vv[u].z), acc[4]); acc[5] = fmaf(pr[u], hi_bf(vv[u].z), acc[5]);
        acc[6] = fmaf(pr[u], lo_bf(vv[u].w), acc[6]); acc[7] = fmaf(pr[u], hi_bf(vv[u].w), acc[7]);
      }
    }
    // Sum the warp's row groups: lanes with the same slice.
#pragma unroll
    for (int i = 0; i < 8; i++)
      for (int o = G; o < 32; o <<= 1) acc[i] += __shfl_xor_sync(0xffffffffu, acc[i], o);
    if (sub == 0) {
#pragma unroll
      for (int i = 0; i < 8; i++) accs[warp][sl * 8 + i] = acc[i];
    }
  } else {
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
  }
  __syncthreads();
  for (int d = threadIdx.x; d < D; d += blockDim.x) {
    float v = 0.0f;
    for (int w = 0; w < nw; w++) v += accs[w][d];
    opart[((i64)h * S + s) * D + d] = v;
  }
  // The last block of head h to finish combines the chunks (the pattern of
  // the CUDA programming guide's memory-fence example: write, fence, take a
  // ticket; the last ticket reads every block's writes).
  __threadfence();
  __syncthreads();
  if (threadIdx.x == 0) s_last = atomicAdd(&done[h], 1) == S - 1;
  __syncthreads();
  if (!s_last) return;
  __threadfence();
  const volatile float* vp = part + (i64)h * S * 2;
  const volatile float* vo = opart + (i64)h * S * D;
  float Lsum = 0.0f;
  for (int i = 0; i < S; i++) {
    float m = vp[2 * i];
    if (m > GB_NEG_INF) Lsum += vp[2 * i + 1] * expf(m - M);
  }
  for (int d = threadIdx.x; d < D; d += blockDim.x) {
    float v = 0.0f;
    for (int i = 0; i < S; i++) v += vo[(i64)i * D + d];
    out[(i64)h * D + d] = f2bf(v / Lsum);
  }
  if (threadIdx.x == 0) done[h] = 0;  // ready for the next step (graph replay)
}
