// Runs one kernel of cuda/kernels on the CPU emulation (emu.h) with inputs
// read from files and outputs written to files, for emu_test.go:
//
//   harness OP DIR ARGS...
//
// Inputs DIR/<name>.bin are raw little-endian arrays; outputs are written as
// DIR/<name>.out. The launch geometry mirrors cuda/geometry.go.
#define GENBENCH_EMU 1
#include "emu.h"

// The kernel sources, as NVRTC sees them (common.cuh first).
#include "../common.cuh"
#include "../elementwise.cu"
#include "../norm.cu"
#include "../matmul.cu"
#include "../rope.cu"
#include "../attention.cu"
#include "../sample.cu"

#include <string>

static std::string dir;

template <class T>
static std::vector<T> in(const char* name) {
  std::string p = dir + "/" + name + ".bin";
  FILE* f = fopen(p.c_str(), "rb");
  if (!f) {
    fprintf(stderr, "harness: cannot open %s\n", p.c_str());
    exit(2);
  }
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  std::vector<T> v(n / sizeof(T) + 1);
  if (n > 0 && fread(v.data(), 1, n, f) != (size_t)n) exit(2);
  fclose(f);
  v.resize(n / sizeof(T));
  return v;
}

template <class T>
static void out(const char* name, const std::vector<T>& v) {
  std::string p = dir + "/" + name + ".out";
  FILE* f = fopen(p.c_str(), "wb");
  if (!f || fwrite(v.data(), sizeof(T), v.size(), f) != v.size()) {
    fprintf(stderr, "harness: cannot write %s\n", p.c_str());
    exit(2);
  }
  fclose(f);
}

static int ceil_div(int a, int b) { return (a + b - 1) / b; }
static dim3 d1(int x) { dim3 d; d.x = x; return d; }
static dim3 elem_grid(long total) { return d1((int)std::max(1L, std::min((total + 255) / 256, 65535L))); }

int main(int argc, char** argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: harness OP DIR ARGS...\n");
    return 2;
  }
  std::string op = argv[1];
  dir = argv[2];
  auto I = [&](int i) { return atoi(argv[3 + i]); };
  auto F = [&](int i) { return (float)atof(argv[3 + i]); };
  int err = 0;
  if (op == "embed") {  // vocab hidden n scale
    int vocab = I(0), hidden = I(1), n = I(2);
    float scale = F(3);
    auto table = in<bf16_t>("table");
    auto ids = in<i32>("ids");
    std::vector<bf16_t> o(n * hidden, 0xffff);
    emu::launch(elem_grid((long)n * hidden), d1(256), 0, [&] { embed(o.data(), ids.data(), n, table.data(), vocab, hidden, scale, &err); });
    out("out", o);
  } else if (op == "rmsnorm") {  // rows dim eps gemma
    int rows = I(0), dim = I(1), gemma = I(3);
    float eps = F(2);
    auto x = in<bf16_t>("x");
    auto w = in<bf16_t>("w");
    std::vector<bf16_t> o(x.size(), 0xffff);
    int bs = std::max(32, std::min(ceil_div(dim, 32) * 32, 256));
    emu::launch(d1(rows), d1(bs), 0, [&] { rmsnorm(o.data(), x.data(), rows, dim, w.data(), eps, gemma); });
    out("out", o);
  } else if (op == "rmsnormadd") {  // rows dim eps gemma inplace
    int rows = I(0), dim = I(1), gemma = I(3), inplace = I(4);
    float eps = F(2);
    auto x = in<bf16_t>("x");
    auto a = in<bf16_t>("a");
    auto w = in<bf16_t>("w");
    std::vector<bf16_t> no(x.size(), 0xffff);
    bf16_t* normOut = inplace ? x.data() : no.data();
    int bs = std::max(32, std::min(ceil_div(dim, 32) * 32, 256));
    emu::launch(d1(rows), d1(bs), 0, [&] { rmsnorm_add(a.data(), a.data(), normOut, x.data(), rows, dim, w.data(), eps, gemma); });
    out("out", a);
    out("normout", inplace ? x : no);
  } else if (op == "matmul") {  // n rows cols b1 b2 [rpw]
    int n = I(0), rows = I(1), cols = I(2), b1 = I(3), b2 = I(4);
    auto x = in<bf16_t>("x");
    auto w = in<bf16_t>("w");
    std::vector<bf16_t> o0((size_t)n * b1, 0xffff), o1((size_t)n * std::max(1, b2 - b1), 0xffff), o2((size_t)n * std::max(1, rows - b2), 0xffff);
    if (n == 1) {
      int rpw = I(5);
      emu::launch(d1(ceil_div(rows, 8 * rpw)), d1(256), 0, [&] {
        gemv(w.data(), x.data(), rows, cols, o0.data(), o1.data(), o2.data(), b1, b2, nullptr, 0.0f, 0, nullptr, nullptr, nullptr, -1, nullptr, rpw);
      });
    } else {
      dim3 g;
      g.x = ceil_div(rows, 64);
      g.y = ceil_div(n, 64);
      emu::launch(g, d1(128), 0, [&] { gemm(x.data(), w.data(), n, rows, cols, o0.data(), o1.data(), o2.data(), b1, b2); });
    }
    out("out0", o0);
    out("out1", o1);
    out("out2", o2);
  } else if (op == "gemvfused") {  // rows cols b1 b2 norm gemma eps resid glu rpw [gluInPlace]
    int rows = I(0), cols = I(1), b1 = I(2), b2 = I(3), norm = I(4), gemma = I(5), resid = I(7), glu = I(8), rpw = I(9);
    int inplace = argc > 3 + 10 ? I(10) : 0;  // gluOut == out0, as the decoder calls it
    float eps = F(6);
    auto x = in<bf16_t>("x");
    auto w = in<bf16_t>("w");
    std::vector<bf16_t> nw, r;
    if (norm) nw = in<bf16_t>("normw");
    if (resid) r = in<bf16_t>("resid");
    std::vector<bf16_t> o0(b1, 0xffff), o1(std::max(1, b2 - b1), 0xffff), o2(std::max(1, rows - b2), 0xffff);
    std::vector<bf16_t> xn(cols, 0xffff), ro(rows, 0xffff), go(b1, 0xffff);
    int blocks = glu >= 0 ? ceil_div(b1, 8) : ceil_div(rows, 8 * rpw);
    emu::launch(d1(blocks), d1(256), norm ? cols * 2 : 0, [&] {
      gemv(w.data(), x.data(), rows, cols, o0.data(), o1.data(), o2.data(), b1, b2, norm ? nw.data() : nullptr, eps, gemma,
           xn.data(), resid ? r.data() : nullptr, ro.data(), glu, inplace ? o0.data() : go.data(), rpw);
    });
    out("out0", o0);
    out("out1", o1);
    out("out2", o2);
    out("normout", xn);
    out("residout", ro);
    out("gluout", go);
  } else if (op == "rope") {  // n H KV D capacity ropePositions qknorm gemma eps
    int n = I(0), H = I(1), KV = I(2), D = I(3), cap = I(4), rp = I(5), qknorm = I(6), gemma = I(7);
    float eps = F(8);
    std::vector<bf16_t> qw, kw;
    if (qknorm) {
      qw = in<bf16_t>("qnorm");
      kw = in<bf16_t>("knorm");
    }
    auto q = in<bf16_t>("q");
    auto k = in<bf16_t>("k");
    auto v = in<bf16_t>("v");
    auto pos = in<i32>("pos");
    auto cs = in<bf16_t>("cos");
    auto sn = in<bf16_t>("sin");
    std::vector<bf16_t> kc((size_t)cap * KV * D, 0), vc((size_t)cap * KV * D, 0);
    emu::launch(d1(n), d1(128), 0, [&] {
      rope_kv(q.data(), k.data(), v.data(), n, pos.data(), cs.data(), sn.data(), rp, kc.data(), vc.data(), cap, H, KV, D, &err,
              qknorm ? qw.data() : nullptr, qknorm ? kw.data() : nullptr, eps, gemma);
    });
    out("q", q);
    out("k", k);
    out("kc", kc);
    out("vc", vc);
  } else if (op == "attention") {  // n H KV D window scale capacity maxStored
    int n = I(0), H = I(1), KV = I(2), D = I(3), window = I(4), cap = I(6), stored = I(7);
    float scale = F(5);
    auto q = in<bf16_t>("q");
    auto pos = in<i32>("pos");
    auto kc = in<bf16_t>("kc");
    auto vc = in<bf16_t>("vc");
    std::vector<bf16_t> o((size_t)n * H * D, 0xffff);
    dim3 g;
    g.x = H;
    g.y = n;
    emu::launch(g, d1(256), stored * 4, [&] { attention(o.data(), q.data(), n, pos.data(), kc.data(), vc.data(), cap, H, KV, D, window, scale, stored, &err); });
    out("out", o);
  } else if (op == "attnsplit") {  // H KV D window scale capacity chunk (one query)
    int H = I(0), KV = I(1), D = I(2), window = I(3), cap = I(5), chunk = I(6);
    float scale = F(4);
    auto q = in<bf16_t>("q");
    auto pos = in<i32>("pos");
    auto kc = in<bf16_t>("kc");
    auto vc = in<bf16_t>("vc");
    int S = ceil_div(cap, chunk);
    std::vector<float> scores((size_t)H * cap, NAN), part((size_t)H * S * 2, NAN), opart((size_t)H * S * D, NAN);
    std::vector<int> done(H, 0);
    std::vector<bf16_t> o((size_t)H * D, 0xffff);
    dim3 g;
    g.x = H;
    g.y = S;
    // Twice, as a replayed graph runs it: the completion counters must be
    // back at zero after each step.
    for (int rep = 0; rep < 2; rep++) {
      std::fill(o.begin(), o.end(), 0xffff);
      emu::launch(g, d1(256), 0, [&] { attn_split_scores(q.data(), pos.data(), kc.data(), cap, H, KV, D, window, scale, chunk, scores.data(), part.data(), &err); });
      emu::launch(g, d1(256), 0, [&] { attn_split_pv(pos.data(), vc.data(), cap, H, KV, D, window, chunk, scores.data(), part.data(), opart.data(), o.data(), done.data()); });
      for (int h = 0; h < H; h++)
        if (done[h] != 0) {
          fprintf(stderr, "harness: completion counter of head %d left at %d\n", h, done[h]);
          exit(3);
        }
    }
    out("out", o);
  } else if (op == "glu") {  // total act
    long total = I(0);
    int act = I(1);
    auto g = in<bf16_t>("gate");
    auto u = in<bf16_t>("up");
    std::vector<bf16_t> o(total, 0xffff);
    emu::launch(elem_grid(total), d1(256), 0, [&] { glu(o.data(), g.data(), u.data(), total, act); });
    out("out", o);
  } else if (op == "add") {  // total
    long total = I(0);
    auto a = in<bf16_t>("a");
    auto b = in<bf16_t>("b");
    emu::launch(elem_grid(total), d1(256), 0, [&] { add(a.data(), a.data(), b.data(), total); });
    out("out", a);
  } else if (op == "softcap") {  // total cap
    long total = I(0);
    float cap = F(1);
    auto x = in<bf16_t>("x");
    emu::launch(elem_grid(total), d1(256), 0, [&] { softcap(x.data(), total, cap); });
    out("out", x);
  } else if (op == "sample") {  // V steps greedy penalty temperature topk topp seed [blocks]
    int V = I(0), steps = I(1), greedy = I(2), topk = I(5);
    float penalty = F(3), temperature = F(4), topp = F(6);
    u64 seed = strtoull(argv[3 + 7], nullptr, 10);
    auto logits = in<bf16_t>("logits");  // steps x V
    auto presence = in<u8>("presence");
    std::vector<float> scratch(V);
    std::vector<i32> ring(steps + 1, -1), ids(1, -1);
    i32 step = 0;
    bool pen = penalty != 1.0f && penalty != 0.0f;
    // blocks > 0: greedy on the multi-block kernel, top-k (0 < k < V) on
    // the multi-block first pass (sample_scores, sample_gather), with that
    // many blocks; everything else on the one-block sampler.
    int gb = argc > 3 + 8 ? I(8) : 0;
    bool multi = gb > 0 && !greedy && topk > 0 && topk < V;
    std::vector<u64> partials(2 * std::max(gb, 1), 0);
    std::vector<u32> khist(TOPK_BINS, 0);
    std::vector<i32> cid(CAND_MAX, -1);
    std::vector<float> cval(CAND_MAX, 0.0f);
    int cnt = 0, nfword = 0;
    int done[2] = {0, 0};  // the ticket, then the non-finite word
    std::vector<int> counts;  // multi: candidates gathered per step
    for (int s = 0; s < steps; s++) {
      const bf16_t* row = logits.data() + (size_t)s * V;
      u8* pres = pen ? presence.data() : nullptr;
      if (greedy && gb > 0) {
        emu::launch(d1(gb), d1(256), 0, [&] {
          sample_greedy(row, V, ids.data(), pres, &step, ring.data(), steps, penalty, partials.data(), done, &err);
        });
        if (done[0] != 0 || done[1] != 0) {
          fprintf(stderr, "harness: greedy ticket left at %d, non-finite word at %d\n", done[0], done[1]);
          exit(3);
        }
        continue;
      }
      if (multi) {
        emu::launch(d1(gb), d1(TOPK_THREADS), 0, [&] {
          sample_scores(row, V, pres, scratch.data(), penalty, temperature, partials.data(), khist.data(), &nfword);
        });
        emu::launch(d1(gb), d1(TOPK_THREADS), 0, [&] {
          sample_gather(scratch.data(), V, topk, khist.data(), cid.data(), cval.data(), &cnt);
        });
        counts.push_back(cnt);
      }
      emu::launch(d1(1), d1(1024), 0, [&] {
        sample(row, V, ids.data(), pres, &step, ring.data(), steps, scratch.data(), greedy, penalty, temperature, topk, topp,
               seed, multi ? partials.data() : nullptr, multi ? gb : 0, cid.data(), cval.data(), &cnt, khist.data(), &nfword,
               &err);
      });
      if (multi) {
        bool clean = cnt == 0 && nfword == 0;
        for (u32 h : khist) clean = clean && h == 0;
        if (!clean) {
          fprintf(stderr, "harness: top-k histogram or counters not reset (count %d, non-finite word %d)\n", cnt, nfword);
          exit(3);
        }
      }
    }
    out("counts", counts);
    ring.resize(steps);
    out("tokens", ring);
    out("ids", ids);
  } else {
    fprintf(stderr, "harness: unknown op %s\n", op.c_str());
    return 2;
  }
  std::vector<i32> e(1, err);
  out("err", e);
  return 0;
}
