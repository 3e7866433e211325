// Elementwise ops on bf16 activations: embedding gather (+scale), GLU
// (SwiGLU / GeGLU-tanh), residual add, softcap, and the int32 add that
// advances positions on the device. All are memory-bound:
//   embed:    n*hidden*(2 read + 2 write) bytes, n*hidden flops
//   glu:      n*3*2 bytes per element (gate, up read; out written), ~20 flops
//   add:      3*2 bytes per element, 1 flop
//   softcap:  2*2 bytes per element, ~20 flops
// Grid-stride loops, so any grid size is correct.

// out[t][i] = rnd(table[ids[t]][i] * scale) (a copy when scale == 1).
extern "C" __global__ void embed(bf16_t* __restrict__ out, const i32* __restrict__ ids, int n,
                                 const bf16_t* __restrict__ table, int vocab, int hidden,
                                 float scale, int* err) {
  pdl_wait();
  pdl_trigger();
  i64 total = (i64)n * hidden;
  for (i64 idx = (i64)blockIdx.x * blockDim.x + threadIdx.x; idx < total;
       idx += (i64)gridDim.x * blockDim.x) {
    int t = (int)(idx / hidden);
    int i = (int)(idx - (i64)t * hidden);
    int id = ids[t];
    if (id < 0 || id >= vocab) {
      if (i == 0) set_error(err, GB_ERR_TOKEN_RANGE);
      out[idx] = 0;
      continue;
    }
    bf16_t v = table[(i64)id * hidden + i];
    out[idx] = scale == 1.0f ? v : f2bf(bf2f(v) * scale);
  }
}

// out[i] = rnd(rnd(act(gate[i])) * up[i]); act 0 = SiLU, 1 = GELU (tanh).
// out may alias gate or up (element i is read, then written, by one thread).
extern "C" __global__ void glu(bf16_t* out, const bf16_t* gate, const bf16_t* up,
                               i64 total, int act) {
  pdl_wait();
  pdl_trigger();
  for (i64 i = (i64)blockIdx.x * blockDim.x + threadIdx.x; i < total;
       i += (i64)gridDim.x * blockDim.x) {
    float g = bf2f(gate[i]);
    float a = act == 1 ? act_gelu_tanh(g) : act_silu(g);
    out[i] = f2bf(rnd(a) * bf2f(up[i]));
  }
}

// out[i] = rnd(a[i] + b[i]); out may alias a or b.
extern "C" __global__ void add(bf16_t* out, const bf16_t* a, const bf16_t* b, i64 total) {
  pdl_wait();
  pdl_trigger();
  for (i64 i = (i64)blockIdx.x * blockDim.x + threadIdx.x; i < total;
       i += (i64)gridDim.x * blockDim.x) {
    out[i] = f2bf(bf2f(a[i]) + bf2f(b[i]));
  }
}

// x[i] = rnd(tanh(x[i] / cap) * cap).
extern "C" __global__ void softcap(bf16_t* x, i64 total, float cap) {
  pdl_wait();
  pdl_trigger();
  for (i64 i = (i64)blockIdx.x * blockDim.x + threadIdx.x; i < total;
       i += (i64)gridDim.x * blockDim.x) {
    x[i] = f2bf(tanhf(bf2f(x[i]) / cap) * cap);
  }
}

// buf[i] += delta for i < n.
extern "C" __global__ void add_i32(i32* buf, int n, int delta) {
  pdl_wait();
  pdl_trigger();
  for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) {
    buf[i] += delta;
  }
}
