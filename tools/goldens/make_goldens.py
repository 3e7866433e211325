#!/usr/bin/env python3
"""Golden logits from Hugging Face transformers for the engine's decoder test.

Two sets of fixtures, each a directory with config.json and golden.json:

* tiny: seeded tiny models of the three architectures (vocabulary 512,
  hidden 64), made with transformers' own config and model classes (see
  initialise: unit-variance q and k so that attention is not uniform, norm
  weights jittered, logits with sigma ~ 3 so that greedy continuations
  vary). Their weights are committed
  (model.safetensors, bf16). tiny-llama has an untied LM head; tiny-gemma3
  uses the real window of 512 and query_pre_attn_scalar != head_dim.
* real: the three dev models' real config.json (testdata/checkpoints)
  truncated to a few layers (Gemma 3: 6, so that layer 5 is a global one),
  every other value as published: hidden size, heads, head_dim, vocabulary,
  llama3 rope scaling, Gemma's local/global rope bases, query scaling.
  Their weights are the engine's synthetic weights (seeded, written by
  `go run ./tools/goldens/synthckpt`), too large to commit: the Go test
  regenerates them and checks their sha256 first.

For each fixture, on a fixed id sequence of SEQ_LEN positions (> 512, so
Gemma's sliding window is crossed), this records with
attn_implementation="sdpa":

* from the float32 model (the primary reference, stable across torch
  versions) and the bf16 model: per position the top-K logits of the f32 run
  (ids, f32 values, the bf16 run's values at those ids) and the row's
  log-sum-exp, mean, std and top-1/top-2 margin in both runs;
* a greedy continuation of GREEDY_NEW tokens of the prompt from the bf16
  model (generate(), eos disabled, min_new_tokens = max_new_tokens) with its
  margin at each step; the teacher-forced sequence above is the prompt
  followed by that continuation, so its last rows are the greedy steps;
* layer taps: the output of every named op of every layer (the ones
  gocore/decoder reports, see TAPS) at a few positions from the f32 run, and
  for each tap the relative RMS difference between the bf16 and f32 runs
  (the bf16 noise floor the Go test scales its bounds by).

Binary files are little-endian: topk_ids.i32 [T, K] int32, topk_f32.f32 and
topk_bf16.f32 [T, K] float32, rows.f32 [T, 8] float32 (lse, mean, std,
margin of the f32 run, then of the bf16 run), taps.f32 (the tap rows in the
order golden.json lists them). OUT/MANIFEST (sha256sum format) lists every
file. The output is written to a temporary directory beside OUT and moved
into place only when complete.

Needs torch and transformers (>= 4.51); no GPU. From the repository root
(`make goldens` does all of it, in the tools/hf-reference environment):

    go run ./tools/goldens/synthckpt -out build/goldens-src
    python3 tools/goldens/make_goldens.py --out gocore/engine/testdata/goldens --real-src build/goldens-src
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import os
import shutil
import struct
import sys
import tempfile
from typing import Any, Dict, List, Optional, Sequence, Tuple

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))

SEQ_LEN = 600
GREEDY_NEW = 32
TOPK = 64
SEED = 1234
TINY_VOCAB = 512
TINY_BOS = 508
INIT_STD = 0.02
NORM_JITTER = 0.05
LOGIT_STD = 3.0

TINY_COMMON: Dict[str, Any] = {
    "vocab_size": TINY_VOCAB,
    "hidden_size": 64,
    "intermediate_size": 160,
    "num_attention_heads": 4,
    "head_dim": 24,
    "max_position_embeddings": 131072,
    "tie_word_embeddings": True,
    "bos_token_id": TINY_BOS,
    "eos_token_id": [509, 510],
}

# Tiny configs in Hugging Face config.json terms.
TINY: Dict[str, Dict[str, Any]] = {
    "tiny-llama": dict(TINY_COMMON, model_type="llama", num_hidden_layers=2, num_key_value_heads=2,
                       rms_norm_eps=1e-5, rope_theta=500000.0, hidden_act="silu", tie_word_embeddings=False,
                       rope_scaling={"rope_type": "llama3", "factor": 32.0, "low_freq_factor": 1.0,
                                     "high_freq_factor": 4.0, "original_max_position_embeddings": 8192}),
    "tiny-qwen3": dict(TINY_COMMON, model_type="qwen3", num_hidden_layers=2, num_key_value_heads=2,
                       rms_norm_eps=1e-6, rope_theta=1000000.0, hidden_act="silu", use_sliding_window=False),
    "tiny-gemma3": dict(TINY_COMMON, model_type="gemma3_text", num_hidden_layers=4, num_key_value_heads=1,
                        rms_norm_eps=1e-6, rope_theta=1000000.0, rope_local_base_freq=10000.0,
                        query_pre_attn_scalar=32, sliding_window=512, sliding_window_pattern=2,
                        hidden_activation="gelu_pytorch_tanh", final_logit_softcapping=None,
                        attn_logit_softcapping=None, pad_token_id=0, bos_token_id=2, eos_token_id=[1, 106]),
}

# Real shapes: the dev model's published config.json (testdata/checkpoints),
# truncated to `layers`, with the engine's synthetic weights of `seed`
# (real.json is read by tools/goldens/synthckpt too).
with open(os.path.join(HERE, "real.json"), encoding="utf-8") as _f:
    REAL: Dict[str, Dict[str, Any]] = json.load(_f)

# Tap points in the order gocore/decoder runs them. Each maps to the
# Hugging Face module whose output (or, marked "in:", whose input) it is;
# "layer" is the decoder layer's own output, "embed" and "norm" the model's.
TAPS_LLAMA = [("attn_norm", "input_layernorm"), ("q", "self_attn.q_proj"), ("k", "self_attn.k_proj"),
              ("v", "self_attn.v_proj"), ("q_norm", "self_attn.q_norm"), ("k_norm", "self_attn.k_norm"),
              ("attn", "in:self_attn.o_proj"), ("attn_out", "self_attn.o_proj"),
              ("ffn_norm", "post_attention_layernorm"), ("glu", "in:mlp.down_proj"),
              ("mlp_out", "mlp.down_proj"), ("layer_out", "layer")]
TAPS_GEMMA = [("attn_norm", "input_layernorm"), ("q", "self_attn.q_proj"), ("k", "self_attn.k_proj"),
              ("v", "self_attn.v_proj"), ("q_norm", "self_attn.q_norm"), ("k_norm", "self_attn.k_norm"),
              ("attn", "in:self_attn.o_proj"), ("attn_out", "self_attn.o_proj"),
              ("post_attn_norm", "post_attention_layernorm"), ("ffn_norm", "pre_feedforward_layernorm"),
              ("glu", "in:mlp.down_proj"), ("mlp_out", "mlp.down_proj"),
              ("post_ffn_norm", "post_feedforward_layernorm"), ("layer_out", "layer")]


# ---- torch-free helpers (tested by test_make_goldens.py) ---------------------

def token_sequence(seed: int, n: int, vocab: int, bos: int) -> List[int]:
    """A fixed pseudo-random id sequence starting with bos (stdlib LCG)."""
    ids = [bos]
    state = seed
    while len(ids) < n:
        state = (state * 6364136223846793005 + 1442695040888963407) % (1 << 64)
        ids.append((state >> 33) % vocab)
    return ids


def tap_positions(n: int) -> List[int]:
    """Positions whose layer outputs are recorded: the second, the middle
    and the last (past Gemma's window of 512 when n > 512)."""
    return sorted({1, n // 2, n - 1})


def pack(fmt: str, values: Sequence[Any]) -> bytes:
    """Little-endian array of one struct format letter."""
    return struct.pack("<%d%s" % (len(values), fmt), *values)


def sha256_file(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def write_manifest(out: str) -> str:
    """Write OUT/MANIFEST: "sha256  relative/path" for every file under out."""
    lines = []
    for root, _, files in os.walk(out):
        for name in files:
            path = os.path.join(root, name)
            rel = os.path.relpath(path, out).replace(os.sep, "/")
            if rel == "MANIFEST":
                continue
            lines.append("%s  %s" % (sha256_file(path), rel))
    lines.sort(key=lambda l: l.split("  ", 1)[1])
    path = os.path.join(out, "MANIFEST")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    return path


def real_config(name: str) -> Dict[str, Any]:
    """The dev model's published config.json with num_hidden_layers cut."""
    spec = REAL[name]
    with open(os.path.join(REPO, "testdata", "checkpoints", spec["checkpoint"], "config.json"), encoding="utf-8") as f:
        cfg = json.load(f)
    cfg["num_hidden_layers"] = spec["layers"]
    return cfg


def safetensors_digest(path: str) -> str:
    """sha256 over the tensors of a safetensors file in name order: for each,
    the name, a NUL, then its raw little-endian bytes. gocore's test computes
    the same over the synthetic weights it regenerates."""
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        base = 8 + n
        h = hashlib.sha256()
        for name in sorted(k for k in header if k != "__metadata__"):
            a, b = header[name]["data_offsets"]
            f.seek(base + a)
            h.update(name.encode() + b"\0")
            h.update(f.read(b - a))
    return h.hexdigest()


# ---- torch ---------------------------------------------------------------------

def tiny_config(name: str) -> Any:
    """The transformers config object of a tiny fixture."""
    import inspect
    import transformers

    d = dict(TINY[name])
    model_type = d.pop("model_type")
    cls = transformers.AutoConfig.for_model(model_type).__class__
    params = inspect.signature(cls.__init__).parameters
    if model_type == "gemma3_text":
        pattern = d.pop("sliding_window_pattern")
        n = d["num_hidden_layers"]
        types = ["full_attention" if (i + 1) % pattern == 0 else "sliding_attention" for i in range(n)]
        if "layer_types" in params:
            d["layer_types"] = types
        else:
            d["sliding_window_pattern"] = pattern
    cfg = cls(**d)
    if hasattr(cfg, "dtype"):
        cfg.dtype = "bfloat16"
    else:
        cfg.torch_dtype = "bfloat16"
    return cfg


def initialise(model: Any, gemma: bool, seed: int) -> None:
    """Seeded tiny weights: every linear N(0, 1/in) so that q and k have unit
    variance and attention is far from uniform (RoPE, scale and window
    matter), embedding N(0, INIT_STD); norm weights 1 + N(0, NORM_JITTER)
    (Gemma: N(0, NORM_JITTER), its multiplier being 1 + w); the final norm's
    multiplier scaled so that the logits have a standard deviation of about
    LOGIT_STD (a trained model's spread: top-k/top-p and greedy margins
    behave as in real use)."""
    import torch

    gen = torch.Generator().manual_seed(seed)
    hidden = model.config.hidden_size
    head = model.lm_head.weight if not model.config.tie_word_embeddings else model.model.embed_tokens.weight
    head_std = INIT_STD if head is model.model.embed_tokens.weight else hidden ** -0.5
    gain = LOGIT_STD / (head_std * hidden ** 0.5)
    with torch.no_grad():
        for name, p in sorted(model.named_parameters(), key=lambda kv: kv[0]):
            noise = torch.randn(p.shape, generator=gen)
            if p.dim() == 1:
                mean, std = 1.0, NORM_JITTER
                if name == "model.norm.weight":
                    mean, std = gain, NORM_JITTER * gain
                if gemma:
                    mean -= 1.0
                p.copy_(mean + std * noise)
            elif "embed_tokens" in name:
                p.copy_(INIT_STD * noise)
            else:
                p.copy_(noise / p.shape[1] ** 0.5)


def load(path: str, dtype: Any, device: str) -> Any:
    """from_pretrained with dtype= (transformers >= 4.56 and 5.x), falling
    back to torch_dtype= on older versions; refuses a silent float32 load."""
    import transformers

    cls = transformers.AutoModelForCausalLM
    try:
        m = cls.from_pretrained(path, dtype=dtype, attn_implementation="sdpa")
    except TypeError:
        m = cls.from_pretrained(path, torch_dtype=dtype, attn_implementation="sdpa")
    if m.dtype != dtype:
        m = cls.from_pretrained(path, torch_dtype=dtype, attn_implementation="sdpa")
    if m.dtype != dtype:
        raise SystemExit("%s loaded as %s, wanted %s" % (path, m.dtype, dtype))
    return m.to(device).eval()


def taps_of(model: Any, gemma: bool) -> List[Tuple[int, str, Any, bool]]:
    """(layer, tap name, module, from input) in the decoder's order."""
    inner = model.model
    out: List[Tuple[int, str, Any, bool]] = [(-1, "embed", inner.embed_tokens, False)]
    table = TAPS_GEMMA if gemma else TAPS_LLAMA
    for i, layer in enumerate(inner.layers):
        for tap, path in table:
            use_input = path.startswith("in:")
            path = path[3:] if use_input else path
            mod: Any = layer
            if path != "layer":
                for part in path.split("."):
                    mod = getattr(mod, part, None)
                    if mod is None:
                        break
            if mod is not None:
                out.append((i, tap, mod, use_input))
    out.append((len(inner.layers), "final_norm", inner.norm, False))
    return out


def ordered(keys: Any, gemma: bool) -> List[Tuple[int, str]]:
    """Tap keys in the decoder's order: by layer, then as TAPS_* list them."""
    names = ["embed"] + [t for t, _ in (TAPS_GEMMA if gemma else TAPS_LLAMA)] + ["final_norm"]
    return sorted(keys, key=lambda k: (k[0], names.index(k[1])))


def run(model: Any, ids: List[int], positions: List[int], gemma: bool, device: str) -> Tuple[Any, Dict[Tuple[int, str], Any]]:
    """Teacher-forced float32 logits [T, V] and the taps at positions."""
    import torch

    taps: Dict[Tuple[int, str], Any] = {}
    hooks = []
    n = len(ids)
    pos = torch.tensor(positions)

    def keep(key: Tuple[int, str], t: Any) -> None:
        if isinstance(t, (tuple, list)):
            t = t[0]
        if t.dim() == 4 and t.shape[1] != n and t.shape[2] == n:
            t = t.transpose(1, 2)  # [B, heads, T, D] (Gemma's q/k norm) -> [B, T, heads, D]
        t = t.reshape(t.shape[0], t.shape[1], -1)[0]  # [T, width]
        taps[key] = t[pos.to(t.device)].float().cpu()

    for layer, name, mod, use_input in taps_of(model, gemma):
        key = (layer, name)
        if use_input:
            hooks.append(mod.register_forward_pre_hook(lambda m, a, key=key: keep(key, a[0])))
        else:
            hooks.append(mod.register_forward_hook(lambda m, a, o, key=key: keep(key, o)))
    try:
        with torch.no_grad():
            logits = model(torch.tensor([ids], device=device)).logits[0].float().cpu()
    finally:
        for h in hooks:
            h.remove()
    return logits, taps


def row_stats(logits: Any) -> Any:
    """[T, 4]: log-sum-exp, mean, std (population) and top-1/top-2 margin."""
    import torch

    top2 = torch.topk(logits, 2, dim=-1).values
    return torch.stack([torch.logsumexp(logits.double(), dim=-1).float(), logits.mean(-1),
                        logits.std(-1, unbiased=False), top2[:, 0] - top2[:, 1]], dim=-1)


def greedy(model: Any, ids: List[int], device: str) -> Tuple[List[int], List[float]]:
    """GREEDY_NEW greedy tokens after ids and the top-1/top-2 margin at each."""
    import torch

    model.generation_config.eos_token_id = None
    with torch.no_grad():
        out = model.generate(torch.tensor([ids], device=device), max_new_tokens=GREEDY_NEW, min_new_tokens=GREEDY_NEW,
                             do_sample=False, eos_token_id=None, pad_token_id=0, output_scores=True,
                             return_dict_in_generate=True, temperature=None, top_k=None, top_p=None)
    toks = out.sequences[0, len(ids):].cpu().tolist()
    margins = []
    for s in out.scores:
        top = torch.topk(s[0].float(), 2).values.cpu().tolist()
        margins.append(top[0] - top[1])
    if len(toks) != GREEDY_NEW:
        raise SystemExit("greedy run produced %d tokens, want %d" % (len(toks), GREEDY_NEW))
    return toks, margins


def make_fixture(name: str, src: str, d: str, meta: Dict[str, Any], device: str) -> None:
    """Record the golden data of the checkpoint in src into d."""
    import torch
    import transformers

    with open(os.path.join(src, "config.json"), encoding="utf-8") as f:
        cfg = json.load(f)
    gemma = cfg["model_type"].startswith("gemma3")
    vocab = cfg["vocab_size"]
    bos = cfg["bos_token_id"]
    prompt = token_sequence(SEED, SEQ_LEN, vocab, bos)
    m16 = load(src, torch.bfloat16, device)
    toks, margins = greedy(m16, prompt, device)
    # teacher-forced over the prompt and HF's greedy continuation: the rows
    # from SEQ_LEN-1 on are the greedy steps, compared like every other row
    ids = prompt + toks[:-1]
    positions = tap_positions(len(prompt))
    l16, t16 = run(m16, ids, positions, gemma, device)
    del m16
    m32 = load(src, torch.float32, device)
    l32, t32 = run(m32, ids, positions, gemma, device)
    del m32

    top = torch.topk(l32, TOPK, dim=-1)
    top_ids = top.indices
    rows = torch.cat([row_stats(l32), row_stats(l16)], dim=-1)
    with open(os.path.join(d, "topk_ids.i32"), "wb") as f:
        f.write(pack("i", top_ids.flatten().tolist()))
    with open(os.path.join(d, "topk_f32.f32"), "wb") as f:
        f.write(pack("f", top.values.flatten().tolist()))
    with open(os.path.join(d, "topk_bf16.f32"), "wb") as f:
        f.write(pack("f", torch.gather(l16, 1, top_ids).flatten().tolist()))
    with open(os.path.join(d, "rows.f32"), "wb") as f:
        f.write(pack("f", rows.flatten().tolist()))

    # noise floor of the logits: HF bf16 against HF f32 on the same entries
    d16 = (torch.gather(l16, 1, top_ids) - top.values).abs()
    taps = []
    with open(os.path.join(d, "taps.f32"), "wb") as f:
        for layer, tap in ordered(t32.keys(), gemma):
            ref, other = t32[(layer, tap)], t16[(layer, tap)]
            floor = ((other - ref).norm() / ref.norm().clamp_min(1e-30)).item()
            f.write(pack("f", ref.flatten().tolist()))
            taps.append({"layer": layer, "op": tap, "width": ref.shape[1], "bf16_rel_rms": floor})
    meta.update({
        "name": name,
        "architecture": cfg.get("architectures", [""])[0] or type(transformers.AutoModelForCausalLM).__name__,
        "model_type": cfg["model_type"],
        "transformers_version": transformers.__version__,
        "torch_version": torch.__version__,
        "python_version": sys.version.split()[0],
        "device": device,
        "attn_implementation": "sdpa",
        "ids": ids,
        "prompt_len": len(prompt),
        "vocab_size": vocab,
        "topk": TOPK,
        "tap_positions": positions,
        "taps": taps,
        "bf16_vs_f32": {"topk_mean_abs": d16.mean().item(), "topk_max_abs": d16.max().item(),
                        "top1_agree": int((l16.argmax(-1) == l32.argmax(-1)).sum().item())},
        "greedy_tokens": toks,
        "greedy_margins": margins,
    })
    with open(os.path.join(d, "golden.json"), "w", encoding="utf-8") as f:
        json.dump(meta, f, indent=1)
        f.write("\n")
    print("%s: %d positions, greedy %s" % (name, len(ids), toks[:12]), file=sys.stderr)


def make_tiny(name: str, d: str, device: str) -> None:
    import torch
    import transformers

    cfg = tiny_config(name)
    torch.manual_seed(SEED)
    model = transformers.AutoModelForCausalLM.from_config(cfg).to(torch.float32)
    initialise(model, name == "tiny-gemma3", SEED)
    model.to(torch.bfloat16).save_pretrained(d, safe_serialization=True)
    p = os.path.join(d, "generation_config.json")
    if os.path.exists(p):
        os.remove(p)
    make_fixture(name, d, d, {"set": "tiny", "weights": "model.safetensors"}, device)


def make_real(name: str, real_src: str, d: str, device: str) -> None:
    src = os.path.join(real_src, name)
    want = real_config(name)
    with open(os.path.join(src, "config.json"), encoding="utf-8") as f:
        got = json.load(f)
    if got != want:
        raise SystemExit("%s/config.json is not the truncated real config: rerun go run ./tools/goldens/synthckpt" % src)
    shutil.copyfile(os.path.join(src, "config.json"), os.path.join(d, "config.json"))
    meta = {"set": "real", "checkpoint": REAL[name]["checkpoint"], "layers": REAL[name]["layers"],
            "weights": "synthetic", "weight_seed": REAL[name]["seed"],
            "weights_sha256": safetensors_digest(os.path.join(src, "model.safetensors"))}
    make_fixture(name, src, d, meta, device)


def main(argv: Optional[Sequence[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True, help="fixture root, e.g. gocore/engine/testdata/goldens (replaced when done)")
    ap.add_argument("--real-src", default="", help="synthetic real-shape checkpoints from tools/goldens/synthckpt")
    ap.add_argument("--device", default="cpu", help="torch device (cpu or cuda)")
    ap.add_argument("--only", default="", help="comma-separated fixture names (default: all)")
    args = ap.parse_args(argv)
    names = [n for n in args.only.split(",") if n] or list(TINY) + list(REAL)
    for n in names:
        if n not in TINY and n not in REAL:
            ap.error("unknown fixture %r (want %s)" % (n, ", ".join(list(TINY) + list(REAL))))
    if any(n in REAL for n in names) and not args.real_src:
        ap.error("the real-shape fixtures need --real-src (go run ./tools/goldens/synthckpt -out DIR)")
    out = os.path.abspath(args.out)
    parent = os.path.dirname(out)
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=".goldens-", dir=parent)
    try:
        for n in names:
            d = os.path.join(tmp, n)
            os.makedirs(d)
            if n in TINY:
                make_tiny(n, d, args.device)
            else:
                make_real(n, args.real_src, d, args.device)
        write_manifest(tmp)
        if os.path.exists(out):
            old = tempfile.mkdtemp(prefix=".goldens-old-", dir=parent)
            os.rename(out, os.path.join(old, "goldens"))
            os.rename(tmp, out)
            shutil.rmtree(old)
        else:
            os.rename(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    print("wrote", os.path.join(out, "MANIFEST"), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
