// Token choice on the device, reproducing gocore/sampling.Sampler (Hugging
// Face order: repetition penalty over the ids seen so far -> greedy argmax
// with ties to the lowest id, or temperature -> top-k keeping ties -> top-p
// keeping at least one -> softmax -> one inverse-CDF draw with the
// counter-based SplitMix64 uniform of gocore/sampling.Uniform(seed, step)).
// Only the chosen id leaves the device: it is written to ids[0] (the next
// decode step's input), appended to a host-mapped ring the host polls, and
// marked in the presence table for the repetition penalty. The step
// counter lives in device memory, so the kernel can be captured in a graph.
// Non-finite logits (NaN, +-Inf: broken weights or an overflow) are noted
// on the way through the logits, and the ring slot then holds
// NONFINITE_TOKEN(first such id, kind) instead of the token (ids[0] still
// gets the token, so later steps stay in range); the host turns it into an
// error (cuda/sampler.go).
//
// Three kernels share the work of a sampled step:
// - greedy (temperature 0): sample_greedy alone, a multi-block argmax.
// - top-k (0 < k < V), with or without top-p: sample_scores (multi-block:
//   scores, per-block argmax, a histogram of the scores' leading key bits)
//   -> sample_gather (multi-block: every score in the histogram bins that
//   hold the k largest, at most CAND_MAX) -> sample (one block: the exact
//   draw over those candidates, reading the argmax from the partials).
//   When more than CAND_MAX scores share those bins (heavy ties), sample
//   falls back to its whole-vocabulary path over the scores sample_scores
//   wrote.
// - anything else (top-p alone, plain temperature): sample alone.
// sample is one block of 1024 threads. Up to CAND_MAX candidates (after
// top-k) are sorted in shared memory and drawn exactly as the CPU does;
// more take a radix path (top-p boundary by fixed-point mass) and a
// chunked draw. Bytes alone: V*2 (logits) + V*4 (scores written) + up to
// 10*V*4 more for the radix passes; flops ~ 10*V (the non-finite check is
// one integer test per logit). Greedy reads the logits once.

#define SAMPLE_THREADS 1024
#define CAND_MAX 4096
#define NO_ID 0x7fffffff

// The ring value reporting that logits[i] is not finite; kind 0 NaN, 1
// +Inf, 2 -Inf. Every value is <= -2 (-1 is an unwritten slot).
#define NONFINITE_TOKEN(i, kind) (-2 - 4 * (i) - (kind))

// bf_nonfinite: the bf16 bits h (low 16 bits) are NaN or +-Inf.
__device__ __forceinline__ bool bf_nonfinite(u32 h) { return (h & 0x7f80u) == 0x7f80u; }

// nonfinite_token is NONFINITE_TOKEN for the non-finite logits[i].
__device__ __forceinline__ int nonfinite_token(const bf16_t* logits, int i) {
  const u32 h = logits[i];
  const int kind = (h & 0x7fu) ? 0 : ((h & 0x8000u) ? 2 : 1);
  return NONFINITE_TOKEN(i, kind);
}

// block_min_int is the minimum of v over the block (every thread gets it).
__device__ __forceinline__ int block_min_int(int v, int* redi) {
  int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nw = blockDim.x >> 5;
  for (int o = 16; o > 0; o >>= 1) v = min(v, __shfl_xor_sync(0xffffffffu, v, o));
  __syncthreads();
  if (lane == 0) redi[warp] = v;
  __syncthreads();
  v = lane < nw ? redi[lane] : NO_ID;
  for (int o = 16; o > 0; o >>= 1) v = min(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}

__device__ __forceinline__ u64 mix64(u64 z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// uniform01 is gocore/sampling.Uniform: float32(r>>40) * 2^-24.
__device__ __forceinline__ float uniform01(u64 seed, u64 step) {
  u64 r = mix64(seed + (step + 1ull) * 0x9E3779B97F4A7C15ull);
  return (float)(r >> 40) * (1.0f / 16777216.0f);
}

// Order-preserving map of non-NaN floats to unsigned keys, and back.
__device__ __forceinline__ u32 fkey(float x) {
  u32 b = __float_as_uint(x);
  return (b & 0x80000000u) ? ~b : (b | 0x80000000u);
}
__device__ __forceinline__ float unkey(u32 k) {
  return __uint_as_float((k & 0x80000000u) ? (k & 0x7fffffffu) : ~k);
}

// amax_take folds candidate (x, i) into the running argmax (bx, bi); bi ==
// NO_ID means none yet. NaN never enters. Ties go to the lowest id.
__device__ __forceinline__ void amax_take(float& bx, int& bi, float x, int i) {
  if (i == NO_ID) return;
  if (bi == NO_ID || x > bx || (x == bx && i < bi)) {
    bx = x;
    bi = i;
  }
}

// score_of is logit raw of id i after the repetition penalty (HF order:
// divide positive scores, multiply negative ones).
__device__ __forceinline__ float score_of(bf16_t raw, int i, bool pen, const u8* presence, float penalty) {
  float x = bf2f(raw);
  if (pen && presence[i]) x = x < 0.0f ? x * penalty : x / penalty;
  return x;
}

// Top-k's first pass (sample_scores, sample_gather): TOPK_THREADS threads
// a block; a histogram of TOPK_BIN_BITS leading bits of the score key
// (sign, exponent and three mantissa bits: bins an eighth of an octave
// wide).
#define TOPK_THREADS 256
#define TOPK_BIN_BITS 12
#define TOPK_BINS (1 << TOPK_BIN_BITS)

__device__ __forceinline__ u32 key_bin(float x) { return fkey(x) >> (32 - TOPK_BIN_BITS); }

// pack_amax packs a block's argmax (x, i) as (value key << 32 | ~id), 0
// for none (every key of a non-NaN value is nonzero); unpack_take folds a
// packed winner into a running argmax.
__device__ __forceinline__ u64 pack_amax(float x, int i) {
  return i == NO_ID ? 0ull : (((u64)fkey(x) << 32) | (u64)(~(u32)i));
}
__device__ __forceinline__ void unpack_take(float& bx, int& bi, u64 k) {
  if (k != 0ull) amax_take(bx, bi, unkey((u32)(k >> 32)), (int)(~(u32)k));
}

// scan_score computes the score of id i (penalty, then temperature when
// temp), writes it to scratch[i] and folds it into the running argmaxes of
// the scaled scores (bx, bi) and, when tiny_t, of the unscaled ones (rbx,
// rbi), and notes i in bad if it is the thread's first non-finite logit
// (ids rise within a thread: the first is the least). NaN enters neither
// argmax.
__device__ __forceinline__ float scan_score(const bf16_t* logits, int i, bool pen, const u8* presence, float penalty,
                                            bool temp, bool tiny_t, float temperature, float* scratch, float& bx,
                                            int& bi, float& rbx, int& rbi, int& bad) {
  const bf16_t raw = logits[i];
  if (bad == NO_ID && bf_nonfinite(raw)) bad = i;
  float x = score_of(raw, i, pen, presence, penalty);
  if (tiny_t && x == x) amax_take(rbx, rbi, x, i);
  if (temp) x = x / temperature;
  scratch[i] = x;
  if (x == x) amax_take(bx, bi, x, i);
  return x;
}

__device__ __forceinline__ void block_argmax(float& bx, int& bi, float* redf, int* redi) {
  for (int o = 16; o > 0; o >>= 1) {
    float ox = __shfl_xor_sync(0xffffffffu, bx, o);
    int oi = __shfl_xor_sync(0xffffffffu, bi, o);
    amax_take(bx, bi, ox, oi);
  }
  int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nw = blockDim.x >> 5;
  __syncthreads();
  if (lane == 0) {
    redf[warp] = bx;
    redi[warp] = bi;
  }
  __syncthreads();
  bx = 0.0f;
  bi = NO_ID;
  if (lane < nw) {
    bx = redf[lane];
    bi = redi[lane];
  }
  for (int o = 16; o > 0; o >>= 1) {
    float ox = __shfl_xor_sync(0xffffffffu, bx, o);
    int oi = __shfl_xor_sync(0xffffffffu, bi, o);
    amax_take(bx, bi, ox, oi);
  }
}

__device__ __forceinline__ int block_sum_int(int v, int* redi) {
  int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nw = blockDim.x >> 5;
  v = warp_sum_i(v);
  __syncthreads();
  if (lane == 0) redi[warp] = v;
  __syncthreads();
  int r = lane < nw ? redi[lane] : 0;
  return warp_sum_i(r);
}

__device__ __forceinline__ double block_sum_double(double v, double* redd) {
  int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nw = blockDim.x >> 5;
  v = warp_sum_d(v);
  __syncthreads();
  if (lane == 0) redd[warp] = v;
  __syncthreads();
  double r = lane < nw ? redd[lane] : 0.0;
  return warp_sum_d(r);
}

// radix_kth returns the k-th largest non-NaN value of x[0..V), or -inf when
// there are fewer than k. Four passes of 8-bit histograms (integer atomics,
// so the result is deterministic).
__device__ float radix_kth(const float* x, int V, int k, u32* hist, int* state) {
  u32 prefix = 0, mask = 0;
  int rem = k;
  for (int shift = 24; shift >= 0; shift -= 8) {
    for (int i = threadIdx.x; i < 256; i += blockDim.x) hist[i] = 0;
    if (threadIdx.x == 0 && shift == 24) state[1] = 0;
    __syncthreads();
    for (int i = threadIdx.x; i < V; i += blockDim.x) {
      float v = x[i];
      if (v != v) continue;
      u32 key = fkey(v);
      if ((key & mask) == prefix) atomicAdd(&hist[(key >> shift) & 255u], 1u);
    }
    __syncthreads();
    if (threadIdx.x == 0) {
      int cum = 0, b;
      for (b = 255; b >= 0; b--) {
        if (cum + (int)hist[b] >= rem) break;
        cum += (int)hist[b];
      }
      if (b < 0) {
        state[1] = 1;
        b = 0;
      }
      state[0] = b;
      state[2] = rem - cum;
    }
    __syncthreads();
    prefix |= (u32)state[0] << shift;
    mask |= 255u << shift;
    rem = state[2];
    __syncthreads();
  }
  return state[1] ? GB_NEG_INF : unkey(prefix);
}

// is_cand: a finite score that passes top-k (thr is -inf without top-k).
__device__ __forceinline__ bool is_cand(float x, float thr) { return x >= thr && x > GB_NEG_INF; }

// survives: a candidate kept by top-p (tau = -inf when top-p is off; ties
// at tau are kept up to id idThr).
__device__ __forceinline__ bool survives(float x, int i, float thr, float tau, int idThr) {
  return is_cand(x, thr) && (x > tau || (x == tau && i <= idThr));
}

#define FIXED_ONE 4503599627370496.0  // 2^52

// fixed_mass is the probability exp(x - maxv) / total in units of 2^-52.
__device__ __forceinline__ u64 fixed_mass(float x, float maxv, double total) {
  return (u64)(exp((double)(x - maxv)) / total * FIXED_ONE);
}

// radix_kth_smallest_id returns the k-th smallest id i with x[i] == tau.
__device__ int radix_kth_smallest_id(const float* x, int V, float tau, int k, u32* hist, int* state) {
  u32 prefix = 0, mask = 0;
  int rem = k;
  for (int shift = 24; shift >= 0; shift -= 8) {
    for (int i = threadIdx.x; i < 256; i += blockDim.x) hist[i] = 0;
    __syncthreads();
    for (int i = threadIdx.x; i < V; i += blockDim.x) {
      if (x[i] != tau) continue;
      u32 key = (u32)i;
      if ((key & mask) == prefix) atomicAdd(&hist[(key >> shift) & 255u], 1u);
    }
    __syncthreads();
    if (threadIdx.x == 0) {
      int cum = 0, b;
      for (b = 0; b < 255; b++) {
        if (cum + (int)hist[b] >= rem) break;
        cum += (int)hist[b];
      }
      state[0] = b;
      state[2] = rem - cum;
    }
    __syncthreads();
    prefix |= (u32)state[0] << shift;
    mask |= 255u << shift;
    rem = state[2];
    __syncthreads();
  }
  return (int)prefix;
}

// score order of the top-p sort: ascending value, ties by descending id.
__device__ __forceinline__ bool score_less(float va, int ia, float vb, int ib) {
  return va < vb || (va == vb && ia > ib);
}

// bitonic sorts (val, id)[0..P) ascending, by score order or by id; P is a
// power of two.
__device__ void bitonic(float* val, i32* id, int P, bool byId) {
  for (int k = 2; k <= P; k <<= 1) {
    for (int j = k >> 1; j > 0; j >>= 1) {
      for (int i = threadIdx.x; i < P; i += blockDim.x) {
        int l = i ^ j;
        if (l > i) {
          bool asc = (i & k) == 0;
          float vi = val[i], vl = val[l];
          int ii = id[i], il = id[l];
          bool gt = byId ? (ii > il) : score_less(vl, il, vi, ii);
          if (gt == asc) {
            val[i] = vl; val[l] = vi;
            id[i] = il; id[l] = ii;
          }
        }
      }
      __syncthreads();
    }
  }
}

__device__ __forceinline__ int pow2_at_least(int m) {
  int P = 1;
  while (P < m) P <<= 1;
  return P;
}

// sample's multi-block inputs (nparts > 0): the per-block partials and
// the non-finite word of sample_scores, the candidates of sample_gather
// (cand_cnt of them; more than CAND_MAX means use the whole vocabulary),
// and the histogram, which sample resets with the counters for the next
// replay. With nparts == 0 these pointers are unused (may be null) and
// sample reads the logits itself.
extern "C" __global__ void __launch_bounds__(SAMPLE_THREADS) sample(
    const bf16_t* __restrict__ logits, int V, i32* ids_out, u8* presence, i32* step_ctr,
    i32* ring, int ring_cap, float* scratch, int greedy, float penalty, float temperature,
    int topk, float topp, u64 seed, const u64* partials, int nparts, const i32* cand_id,
    const float* cand_val, int* cand_cnt, u32* khist, int* nfword, int* err) {
  pdl_wait();
  pdl_trigger();
  __shared__ i32 cid[CAND_MAX];
  __shared__ float cval[CAND_MAX];
  __shared__ u32 hist[256];
  __shared__ int state[4];
  __shared__ float redf[32];
  __shared__ int redi[32];
  __shared__ double redd[32];
  __shared__ unsigned long long hist64[256];
  __shared__ int s_count, s_tok;
  __shared__ u64 s_above;

  const int tid = threadIdx.x, bd = blockDim.x;
  const int st = *step_ctr;
  const bool pen = penalty != 1.0f && penalty != 0.0f;
  const bool temp = !greedy && temperature != 1.0f && temperature > 0.0f;

  // Scores: penalty, temperature; the argmax on the way, of the scaled
  // scores and (for the T -> 0 limit below) of the unscaled ones.
  const bool tiny_t = temp && temperature < 1.0f;
  float bx = 0.0f, rbx = 0.0f;
  int bi = NO_ID, rbi = NO_ID, bad = NO_ID;
  const bool multi = nparts > 0;
  int ncand = 0;  // multi: the gathered candidates (> CAND_MAX: use scratch)
  if (multi) {
    // sample_scores did the scan: fold its blocks' winners.
    for (int b = tid; b < nparts; b += bd) {
      unpack_take(bx, bi, partials[b]);
      unpack_take(rbx, rbi, partials[nparts + b]);
    }
    const int nb = *(volatile int*)nfword;
    bad = nb == 0 ? NO_ID : V - nb;
    ncand = *(volatile int*)cand_cnt;
  } else {
    for (int i = tid; i < V; i += bd)
      scan_score(logits, i, pen, presence, penalty, temp, tiny_t, temperature, scratch, bx, bi, rbx, rbi, bad);
  }
  block_argmax(bx, bi, redf, redi);
  bad = block_min_int(bad, redi);
  const int argmax = bi == NO_ID ? 0 : bi;
  const float maxv = bx;
  int tok = argmax;
  // The T -> 0 limit is greedy (gocore/sampling): when the largest unscaled
  // score divided by T overflows to +-Inf (ties among several +Inf would
  // hide the real maximum), the token is the argmax of the unscaled scores,
  // ties to the lowest id, id 0 when every score is -Inf or NaN.
  bool t_limit = false;
  if (tiny_t) {
    block_argmax(rbx, rbi, redf, redi);
    int a = rbi;
    float xa = rbx;
    if (rbi == NO_ID || rbx == GB_NEG_INF) {
      a = 0;
      xa = score_of(logits[0], 0, pen, presence, penalty);
    }
    if (fabsf(xa / temperature) == GB_INF) {
      t_limit = true;
      tok = a;
    }
  }
  __syncthreads();

  if (!greedy && !t_limit && bi != NO_ID && maxv != GB_INF) {
    // The scores to choose from: sample_gather's candidates (a superset of
    // the top k, in no particular order) or the whole vocabulary.
    const bool few = multi && ncand <= CAND_MAX;
    const float* src = few ? cand_val : scratch;
    const int n = few ? ncand : V;
    float thr = GB_NEG_INF;
    if (topk > 0 && topk < V) thr = radix_kth(src, n, topk, hist, state);
    int cnt = 0;
    for (int j = tid; j < n; j += bd) cnt += is_cand(src[j], thr) ? 1 : 0;
    const int C = block_sum_int(cnt, redi);
    const bool topp_on = topp > 0.0f && topp < 1.0f;
    if (C > 0 && C <= CAND_MAX) {
      // Few candidates: gather them into shared memory and follow
      // gocore/sampling step by step (sort for top-p, softmax and draw in
      // id order on one thread).
      double total = 0.0;
      if (topp_on) {
        double part = 0.0;
        for (int j = tid; j < n; j += bd) {
          float x = src[j];
          if (is_cand(x, thr)) part += exp((double)(x - maxv));
        }
        total = block_sum_double(part, redd);
      }
      if (tid == 0) s_count = 0;
      __syncthreads();
      for (int j = tid; j < n; j += bd) {
        float x = src[j];
        if (is_cand(x, thr)) {
          int s = atomicAdd(&s_count, 1);
          if (s < CAND_MAX) {
            cid[s] = few ? cand_id[j] : j;
            cval[s] = x;
          }
        }
      }
      __syncthreads();
      const int m = min(s_count, CAND_MAX);
      const int P = pow2_at_least(m);
      for (int i = m + tid; i < P; i += bd) {
        cval[i] = GB_INF;
        cid[i] = -1;
      }
      __syncthreads();
      if (topp_on) {
        bitonic(cval, cid, P, false);
        if (tid == 0) {
          const float cut = 1.0f - topp;
          float c = 0.0f;
          int first = m - 1;
          for (int j = 0; j < m - 1; j++) {
            c += (float)(exp((double)(cval[j] - maxv)) / total);
            if (c > cut) {
              first = j;
              break;
            }
          }
          state[3] = first;
        }
        __syncthreads();
        const int first = state[3];
        for (int j = tid; j < P; j += bd)
          if (j < first || j >= m) cid[j] = NO_ID;
        __syncthreads();
      } else {
        for (int j = m + tid; j < P; j += bd) cid[j] = NO_ID;
        __syncthreads();
      }
      bitonic(cval, cid, P, true);
      if (tid == 0) {
        int S = 0;
        float mv = GB_NEG_INF;
        while (S < P && cid[S] != NO_ID) {
          mv = fmaxf(mv, cval[S]);
          S++;
        }
        double tot = 0.0;
        for (int j = 0; j < S; j++) {
          double e = exp((double)(cval[j] - mv));
          tot += e;
          cval[j] = (float)e;
        }
        double inv = 1.0 / tot;
        float ftot = 0.0f;
        int last = -1;
        for (int j = 0; j < S; j++) {
          cval[j] = (float)((double)cval[j] * inv);
          if (cval[j] > 0.0f) {
            ftot += cval[j];
            last = j;
          }
        }
        int pick = argmax;
        if (last >= 0) {
          float target = uniform01(seed, (u64)st) * ftot;
          float c = 0.0f;
          int j = 0;
          for (; j < S; j++) {
            if (cval[j] > 0.0f) {
              c += cval[j];
              if (c > target) break;
            }
          }
          pick = cid[j < S ? j : last];
        }
        s_tok = pick;
      }
      __syncthreads();
      tok = s_tok;
    } else if (C > 0) {
      // Many candidates (never from sample_gather's list, which holds at
      // most CAND_MAX). Top-p, when on, finds its boundary value tau by a
      // radix descent over the value keys with fixed-point (2^-52)
      // probability masses (integer atomics: deterministic); ties at tau
      // are kept lowest id first, as gocore/sampling orders them.
      float tau = GB_NEG_INF;
      int idThr = NO_ID;
      if (topp_on) {
        double part = 0.0;
        for (int i = tid; i < V; i += bd) {
          float x = scratch[i];
          if (is_cand(x, thr)) part += exp((double)(x - maxv));
        }
        const double total = block_sum_double(part, redd);
        const u64 Pm = (u64)((double)topp * FIXED_ONE);
        u32 prefix = 0, mask = 0;
        u64 above = 0;
        for (int shift = 24; shift >= 0; shift -= 8) {
          for (int i = tid; i < 256; i += bd) {
            hist64[i] = 0;
            hist[i] = 0;
          }
          __syncthreads();
          for (int i = tid; i < V; i += bd) {
            float x = scratch[i];
            if (!is_cand(x, thr)) continue;
            u32 key = fkey(x);
            if ((key & mask) != prefix) continue;
            u32 bin = (key >> shift) & 255u;
            atomicAdd(&hist64[bin], fixed_mass(x, maxv, total));
            atomicAdd(&hist[bin], 1u);
          }
          __syncthreads();
          if (tid == 0) {
            u64 acc = above;
            int b;
            for (b = 255; b >= 0; b--) {
              if (hist[b] == 0) continue;
              if (acc + hist64[b] >= Pm) break;
              acc += hist64[b];
            }
            if (b < 0) {  // rounding: the boundary is the lowest value
              for (b = 0; b < 255 && hist[b] == 0; b++) {
              }
              acc -= hist64[b];
            }
            state[0] = b;
            s_above = acc;
          }
          __syncthreads();
          prefix |= (u32)state[0] << shift;
          mask |= 255u << shift;
          above = s_above;
          __syncthreads();
        }
        tau = unkey(prefix);
        int nt = 0;
        for (int i = tid; i < V; i += bd) nt += scratch[i] == tau ? 1 : 0;
        nt = block_sum_int(nt, redi);
        const u64 qt = fixed_mass(tau, maxv, total);
        int t = nt;
        if (qt > 0 && Pm > above) {
          u64 need = (Pm - above + qt - 1) / qt;
          t = (int)min((u64)nt, max((u64)1, need));
        } else if (qt > 0) {
          t = 1;
        }
        if (t < nt) idThr = radix_kth_smallest_id(scratch, V, tau, t, hist, state);
      }
      // Softmax over the survivors and a chunked inverse-CDF draw in id
      // order.
      double part = 0.0;
      const int chunk = (V + bd - 1) / bd;
      const int b0 = tid * chunk, e0 = min(V, b0 + chunk);
      for (int i = b0; i < e0; i++) {
        float x = scratch[i];
        if (survives(x, i, thr, tau, idThr)) part += exp((double)(x - maxv));
      }
      const double total = block_sum_double(part, redd);
      const double inv = 1.0 / total;
      float csum = 0.0f;
      int clast = -1;
      for (int i = b0; i < e0; i++) {
        float x = scratch[i];
        float w = 0.0f;
        if (survives(x, i, thr, tau, idThr)) w = (float)((double)(float)exp((double)(x - maxv)) * inv);
        scratch[i] = w;
        if (w > 0.0f) {
          csum += w;
          clast = i;
        }
      }
      __syncthreads();
      cval[tid] = csum;
      cid[tid] = clast;
      __syncthreads();
      if (tid == 0) {
        float ftot = 0.0f;
        int last = -1;
        for (int c = 0; c < bd; c++) {
          ftot += cval[c];
          if (cid[c] >= 0) last = cid[c];
        }
        int pick = last >= 0 ? last : argmax;
        if (last >= 0) {
          float target = uniform01(seed, (u64)st) * ftot;
          float run = 0.0f;
          for (int c = 0; c < bd; c++) {
            if (run + cval[c] > target) {
              const int cb = c * chunk, ce = min(V, cb + chunk);
              for (int i = cb; i < ce; i++) {
                float w = scratch[i];
                if (w > 0.0f) {
                  run += w;
                  if (run > target) {
                    pick = i;
                    break;
                  }
                }
              }
              break;
            }
            run += cval[c];
          }
        }
        s_tok = pick;
      }
      __syncthreads();
      tok = s_tok;
    }
  }
  if (multi) {
    // Zero the histogram and the counters for the next replay (read above,
    // before the barrier).
    __syncthreads();
    for (int b = tid; b < TOPK_BINS; b += bd) khist[b] = 0;
    if (tid == 0) {
      *cand_cnt = 0;
      *nfword = 0;
    }
  }
  if (tid == 0) {
    ids_out[0] = tok;
    if (presence) presence[tok] = 1;
    if (st >= ring_cap) {
      set_error(err, GB_ERR_SAMPLER_STEPS);
    } else {
      ring[st] = bad == NO_ID ? tok : nonfinite_token(logits, bad);
    }
    __threadfence_system();
    *step_ctr = st + 1;
  }
}

// sample_scores is the first pass of a top-k step, spread over the GPU:
// the scores (repetition penalty, temperature) of its grid-stride slice
// written to scratch, the block's argmax of the scaled scores and of the
// unscaled ones (sample's T -> 0 limit) packed into partials[block] and
// partials[gridDim + block] (pack_amax), its first non-finite logit folded
// into nfword (atomicMax of V - id; 0 means none), and a histogram of the
// scores' leading TOPK_BIN_BITS key bits (NaN and -Inf left out: never
// candidates) added into khist. sample resets khist and nfword.
// Grid: B blocks of TOPK_THREADS. Bytes: V*2 (logits) + V*4 (scores) +
// V (presence, with a penalty) + B*(16 + the block's non-empty bins*4);
// flops ~4*V.
extern "C" __global__ void __launch_bounds__(TOPK_THREADS) sample_scores(
    const bf16_t* __restrict__ logits, int V, const u8* __restrict__ presence, float* __restrict__ scratch,
    float penalty, float temperature, u64* __restrict__ partials, u32* __restrict__ khist, int* nfword) {
  pdl_wait();
  pdl_trigger();
  __shared__ u32 bins[TOPK_BINS];
  __shared__ float redf[32];
  __shared__ int redi[32];
  for (int b = threadIdx.x; b < TOPK_BINS; b += blockDim.x) bins[b] = 0;
  __syncthreads();
  const bool pen = presence != nullptr && penalty != 1.0f && penalty != 0.0f;
  const bool temp = temperature != 1.0f && temperature > 0.0f;
  const bool tiny_t = temp && temperature < 1.0f;
  float bx = 0.0f, rbx = 0.0f;
  int bi = NO_ID, rbi = NO_ID, bad = NO_ID;
  for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < V; i += gridDim.x * blockDim.x) {
    const float x = scan_score(logits, i, pen, presence, penalty, temp, tiny_t, temperature, scratch, bx, bi, rbx, rbi, bad);
    if (x == x && x > GB_NEG_INF) atomicAdd(&bins[key_bin(x)], 1u);
  }
  block_argmax(bx, bi, redf, redi);
  block_argmax(rbx, rbi, redf, redi);
  bad = block_min_int(bad, redi);
  if (threadIdx.x == 0) {
    partials[blockIdx.x] = pack_amax(bx, bi);
    partials[gridDim.x + blockIdx.x] = pack_amax(rbx, rbi);
    if (bad != NO_ID) atomicMax(nfword, V - bad);
  }
  for (int b = threadIdx.x; b < TOPK_BINS; b += blockDim.x)
    if (bins[b] != 0) atomicAdd(&khist[b], bins[b]);
}

// sample_gather is the second pass of a top-k step: every block finds,
// from the complete histogram, the lowest bin t such that the bins from t
// up hold at least k scores (bin 0 when fewer than k scores are finite:
// then every one is a candidate), and appends each score of its slice in
// those bins, with its id, to cand_val / cand_id (slots from an atomic
// counter, so in no particular order; sample sorts them). The bins hold
// the k largest scores and whatever shares their last bin; when they hold
// more than CAND_MAX the counter says so and the slots past CAND_MAX are
// not written. Grid: B blocks of TOPK_THREADS. Bytes: V*4 (scores) +
// B*TOPK_BINS*4 (the histogram, from L2) + 8 per candidate; flops ~V.
extern "C" __global__ void __launch_bounds__(TOPK_THREADS) sample_gather(
    const float* __restrict__ scratch, int V, int topk, const u32* __restrict__ khist, i32* __restrict__ cand_id,
    float* __restrict__ cand_val, int* cand_cnt) {
  pdl_wait();
  pdl_trigger();
  __shared__ u32 suf[TOPK_THREADS];
  __shared__ int s_bin;
  const int t = threadIdx.x, per = TOPK_BINS / TOPK_THREADS;
  u32 own = 0;
  for (int j = 0; j < per; j++) own += khist[t * per + j];
  suf[t] = own;
  if (t == 0) s_bin = 0;
  __syncthreads();
  // Suffix sums over the threads' ranges: suf[t] = scores in bins >= t*per.
  for (int off = 1; off < TOPK_THREADS; off <<= 1) {
    const u32 v = t + off < TOPK_THREADS ? suf[t + off] : 0u;
    __syncthreads();
    suf[t] += v;
    __syncthreads();
  }
  const u32 k = (u32)topk;
  const u32 above = t + 1 < TOPK_THREADS ? suf[t + 1] : 0u;
  if (suf[t] >= k && above < k) {  // the k-th largest is in this range
    u32 acc = above;
    for (int j = per - 1; j >= 0; j--) {
      acc += khist[t * per + j];
      if (acc >= k) {
        s_bin = t * per + j;
        break;
      }
    }
  }
  __syncthreads();
  const u32 lo = (u32)s_bin;
  for (int i = blockIdx.x * blockDim.x + t; i < V; i += gridDim.x * blockDim.x) {
    const float x = scratch[i];
    if (x == x && x > GB_NEG_INF && key_bin(x) >= lo) {
      const int slot = atomicAdd(cand_cnt, 1);
      if (slot < CAND_MAX) {
        cand_id[slot] = i;
        cand_val[slot] = x;
      }
    }
  }
}

// sample_greedy is the greedy (temperature 0) path of sample() spread
// over the GPU: each block finds the argmax of its slice of the logits
// (after the repetition penalty, NaN skipped, ties to the lowest id), packs
// it as (order-preserving value key << 32 | ~id) into partials[block], and
// the last block to finish (a ticket on done[0], reset for the next
// replay) picks the largest: the CPU Argmax, id 0 when every score is -Inf
// or NaN. It then does sample()'s bookkeeping (ids_out, presence, the
// host-mapped ring, the step counter). No float scratch is written.
// Non-finite logits: each block notes its first non-finite id and folds
// V - id into done[1] (atomicMax; 0 means none, reset by the last block),
// which reports NONFINITE_TOKEN in the ring as sample() does.
// Grid: B blocks of 256 threads, B <= 1024. Bytes: V*2 (logits) + B*8;
// flops ~V (plus one integer test per logit).
#define GREEDY_THREADS 256

extern "C" __global__ void __launch_bounds__(GREEDY_THREADS) sample_greedy(
    const bf16_t* __restrict__ logits, int V, i32* ids_out, u8* presence, i32* step_ctr, i32* ring,
    int ring_cap, float penalty, u64* partials, int* done, int* err) {
  pdl_wait();
  pdl_trigger();
  __shared__ float redf[32];
  __shared__ int redi[32];
  __shared__ int s_last;
  const bool pen = presence != nullptr && penalty != 1.0f && penalty != 0.0f;
  float bx = 0.0f;
  int bi = NO_ID, bad = NO_ID;
  const int stride = gridDim.x * blockDim.x;
  if ((V & 7) == 0 && !pen) {
    // 16-byte loads of eight logits, ids in order within a thread.
    const uint4* lv = (const uint4*)logits;
    for (int c = blockIdx.x * blockDim.x + threadIdx.x; c < (V >> 3); c += stride) {
      const uint4 w = __ldg(lv + c);
      const u32 ws[4] = {w.x, w.y, w.z, w.w};
#pragma unroll
      for (int k = 0; k < 4; k++) {
        if (bad == NO_ID && (bf_nonfinite(ws[k]) || bf_nonfinite(ws[k] >> 16)))
          bad = 8 * c + 2 * k + (bf_nonfinite(ws[k]) ? 0 : 1);  // ids rise: the first is the least
        const float a = lo_bf(ws[k]), b = hi_bf(ws[k]);
        if (a == a) amax_take(bx, bi, a, 8 * c + 2 * k);
        if (b == b) amax_take(bx, bi, b, 8 * c + 2 * k + 1);
      }
    }
  } else {
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < V; i += stride) {
      const bf16_t raw = logits[i];
      if (bad == NO_ID && bf_nonfinite(raw)) bad = i;
      float x = bf2f(raw);
      if (pen && presence[i]) x = x < 0.0f ? x * penalty : x / penalty;
      if (x == x) amax_take(bx, bi, x, i);
    }
  }
  block_argmax(bx, bi, redf, redi);
  bad = block_min_int(bad, redi);
  if (threadIdx.x == 0) {
    if (bad != NO_ID) atomicMax(&done[1], V - bad);
    partials[blockIdx.x] = (bi == NO_ID || bx == GB_NEG_INF) ? 0ull : (((u64)fkey(bx) << 32) | (u64)(~(u32)bi));
    __threadfence();
    s_last = atomicAdd(done, 1) == (int)gridDim.x - 1;
  }
  __syncthreads();
  if (!s_last) return;
  __threadfence();
  // The blocks' winners, compared as floats (so -0 and +0 tie, as in the
  // CPU Argmax), ties to the lowest id.
  const volatile u64* vp = partials;
  float kx = 0.0f;
  int ki = NO_ID;
  for (int b = threadIdx.x; b < (int)gridDim.x; b += blockDim.x) {
    const u64 k = vp[b];
    if (k != 0ull) amax_take(kx, ki, unkey((u32)(k >> 32)), (int)(~(u32)k));
  }
  block_argmax(kx, ki, redf, redi);
  if (threadIdx.x == 0) {
    const int tok = ki == NO_ID ? 0 : ki;
    const int nb = ((volatile int*)done)[1];
    done[0] = 0;
    done[1] = 0;
    const int st = *step_ctr;
    ids_out[0] = tok;
    if (presence) presence[tok] = 1;
    if (st >= ring_cap) {
      set_error(err, GB_ERR_SAMPLER_STEPS);
    } else {
      ring[st] = nb == 0 ? tok : nonfinite_token(logits, V - nb);
    }
    __threadfence_system();
    *step_ctr = st + 1;
  }
}

// mark_presence sets presence[ids[i]] = 1 for the prompt (ids in range).
extern "C" __global__ void mark_presence(u8* presence, const i32* ids, int n, int V) {
  pdl_wait();
  pdl_trigger();
  for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) {
    int id = ids[i];
    if (id >= 0 && id < V) presence[id] = 1;
  }
}
