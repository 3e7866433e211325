#!/usr/bin/env python3
"""Golden logits from Hugging Face transformers for the engine's decoder test.

For each architecture (Llama, Qwen3, Gemma 3) this builds a tiny model with
transformers' own config and model classes, fills it with seeded random
weights (scaled so that logits span a useful range, norm weights randomised
too), saves it as a Hugging Face directory in bfloat16 (config.json +
model.safetensors), and records with attn_implementation="sdpa":

* teacher-forced logits of a fixed token sequence from the bf16 model
  (logits_bf16.bin: uint16 bf16 bits, little endian, [tokens, vocab]) and
  from the same weights loaded in float32 (logits_f32.bin: float32 LE);
* a 32-token greedy continuation of that sequence (do_sample=False,
  eos_token_id=None, so EOS does not stop it) and the top-1/top-2 logit
  margin at each step;

described by golden.json, and writes OUT/MANIFEST (sha256sum format) over
every file. The Go test gocore/engine/goldens_test.go loads each directory
with the engine's loader and compares (tolerances of MODELS.md §5).

Needs torch and transformers (>= 4.51 for Qwen3); no GPU. Invocation, from
the repository root:

    python3 tools/goldens/make_goldens.py --out gocore/engine/testdata/goldens

Options: --device cpu|cuda (default cpu), --arch llama,qwen3,gemma3.
"""

from __future__ import annotations

import argparse
import hashlib
import inspect
import json
import os
import struct
import sys
from typing import Any, Dict, List, Sequence

SEQ_LEN = 48
GREEDY_NEW = 32
VOCAB = 512
BOS = 508
SEED = 1234

# Tiny configs in Hugging Face config.json terms (the shapes of the
# engine's tiny built-in models; Gemma's window is 16 so that the 48-token
# sequence crosses it).
COMMON: Dict[str, Any] = {
    "vocab_size": VOCAB,
    "hidden_size": 64,
    "intermediate_size": 160,
    "num_attention_heads": 4,
    "head_dim": 24,
    "max_position_embeddings": 2048,
    "tie_word_embeddings": True,
    "bos_token_id": BOS,
    "eos_token_id": [509, 510],
}
CONFIGS: Dict[str, Dict[str, Any]] = {
    "llama": dict(COMMON, model_type="llama", num_hidden_layers=2, num_key_value_heads=2,
                  rms_norm_eps=1e-5, rope_theta=500000.0, hidden_act="silu",
                  rope_scaling={"rope_type": "llama3", "factor": 32.0, "low_freq_factor": 1.0,
                                "high_freq_factor": 4.0, "original_max_position_embeddings": 8192}),
    "qwen3": dict(COMMON, model_type="qwen3", num_hidden_layers=2, num_key_value_heads=2,
                  rms_norm_eps=1e-6, rope_theta=1000000.0, hidden_act="silu",
                  use_sliding_window=False),
    "gemma3": dict(COMMON, model_type="gemma3_text", num_hidden_layers=4, num_key_value_heads=1,
                   rms_norm_eps=1e-6, rope_theta=1000000.0, rope_local_base_freq=10000.0,
                   query_pre_attn_scalar=24, sliding_window=16, sliding_window_pattern=2,
                   hidden_activation="gelu_pytorch_tanh", final_logit_softcapping=None,
                   attn_logit_softcapping=None, pad_token_id=511),
}


def token_sequence(seed: int, n: int) -> List[int]:
    """A fixed pseudo-random id sequence starting with BOS (stdlib LCG)."""
    ids = [BOS]
    state = seed
    while len(ids) < n:
        state = (state * 6364136223846793005 + 1442695040888963407) % (1 << 64)
        ids.append((state >> 33) % (VOCAB - 4))
    return ids


def pack_bf16(bits: Sequence[int]) -> bytes:
    """Little-endian uint16 array."""
    return struct.pack("<%dH" % len(bits), *bits)


def pack_f32(values: Sequence[float]) -> bytes:
    """Little-endian float32 array."""
    return struct.pack("<%df" % len(values), *values)


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


def make_config(arch: str) -> Any:
    """Build the transformers config object for arch."""
    import transformers

    d = dict(CONFIGS[arch])
    model_type = d.pop("model_type")
    cls = transformers.AutoConfig.for_model(model_type).__class__
    params = inspect.signature(cls.__init__).parameters
    if arch == "gemma3":
        pattern = d.pop("sliding_window_pattern")
        n = d["num_hidden_layers"]
        types = ["full_attention" if (i + 1) % pattern == 0 else "sliding_attention" for i in range(n)]
        if "layer_types" in params:
            d["layer_types"] = types
        else:
            d["sliding_window_pattern"] = pattern
    cfg = cls(**d)
    cfg.torch_dtype = "bfloat16"
    return cfg


def randomise(model: Any, arch: str, seed: int) -> None:
    """Seeded weights: linear N(0, 1/in), embedding N(0, 1), norm weights
    1 + 0.1·N (Gemma: 0.1·N, its multiplier being 1 + w)."""
    import torch

    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in sorted(model.named_parameters(), key=lambda kv: kv[0]):
            if p.dim() == 1:
                noise = torch.randn(p.shape, generator=gen) * 0.1
                p.copy_(noise if arch == "gemma3" else 1.0 + noise)
            elif "embed_tokens" in name:
                p.copy_(torch.randn(p.shape, generator=gen))
            else:
                p.copy_(torch.randn(p.shape, generator=gen) / (p.shape[1] ** 0.5))


def load(path: str, dtype: Any, device: str) -> Any:
    import transformers

    cls = transformers.AutoModelForCausalLM
    # v4 takes torch_dtype (an unknown dtype= would silently load float32);
    # v5 prefers dtype= and may drop torch_dtype one day.
    m = cls.from_pretrained(path, torch_dtype=dtype, attn_implementation="sdpa")
    if m.dtype != dtype:
        m = cls.from_pretrained(path, dtype=dtype, attn_implementation="sdpa")
    if m.dtype != dtype:
        raise SystemExit("%s loaded as %s, wanted %s" % (path, m.dtype, dtype))
    return m.to(device).eval()


def make_one(arch: str, out: str, device: str) -> None:
    import torch
    import transformers

    d = os.path.join(out, arch)
    os.makedirs(d, exist_ok=True)
    cfg = make_config(arch)
    torch.manual_seed(SEED)
    model = transformers.AutoModelForCausalLM.from_config(cfg)
    model = model.to(torch.float32)
    randomise(model, arch, SEED)
    model = model.to(torch.bfloat16)
    model.save_pretrained(d, safe_serialization=True)
    for extra in ("generation_config.json",):
        p = os.path.join(d, extra)
        if os.path.exists(p):
            os.remove(p)

    ids = token_sequence(SEED, SEQ_LEN)
    x = torch.tensor([ids], device=device)
    meta: Dict[str, Any] = {
        "arch": arch,
        "transformers_version": transformers.__version__,
        "torch_version": torch.__version__,
        "device": device,
        "attn_implementation": "sdpa",
        "ids": ids,
        "vocab_size": VOCAB,
        "logits_bf16": "logits_bf16.bin",
        "logits_f32": "logits_f32.bin",
    }
    with torch.no_grad():
        m16 = load(d, torch.bfloat16, device)
        lg = m16(x).logits[0]
        if lg.dtype != torch.bfloat16:
            lg = lg.to(torch.bfloat16)
        bits = lg.contiguous().view(torch.int16).to(torch.int32).flatten().cpu().tolist()
        with open(os.path.join(d, "logits_bf16.bin"), "wb") as f:
            f.write(pack_bf16([b & 0xFFFF for b in bits]))
        gen = m16.generate(x, max_new_tokens=GREEDY_NEW, do_sample=False, eos_token_id=None,
                           pad_token_id=0, output_scores=True, return_dict_in_generate=True)
        toks = gen.sequences[0, len(ids):].cpu().tolist()
        margins = []
        for s in gen.scores:
            top = torch.topk(s[0].float(), 2).values.cpu().tolist()
            margins.append(top[0] - top[1])
        if len(toks) != GREEDY_NEW:
            raise SystemExit("%s: greedy run produced %d tokens, want %d" % (arch, len(toks), GREEDY_NEW))
        meta["greedy_tokens"] = toks
        meta["greedy_margins"] = margins
        del m16
        m32 = load(d, torch.float32, device)
        lf = m32(x).logits[0].float().flatten().cpu().tolist()
        with open(os.path.join(d, "logits_f32.bin"), "wb") as f:
            f.write(pack_f32(lf))
    with open(os.path.join(d, "golden.json"), "w", encoding="utf-8") as f:
        json.dump(meta, f, indent=1)
        f.write("\n")
    print("%s: %d tokens, greedy %s" % (arch, len(ids), toks[:8]), file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True, help="fixture root, e.g. gocore/engine/testdata/goldens")
    ap.add_argument("--device", default="cpu", help="torch device (cpu or cuda)")
    ap.add_argument("--arch", default="llama,qwen3,gemma3", help="comma-separated subset")
    args = ap.parse_args(argv)
    archs = [a for a in args.arch.split(",") if a]
    for a in archs:
        if a not in CONFIGS:
            ap.error("unknown arch %r (want %s)" % (a, ", ".join(CONFIGS)))
    os.makedirs(args.out, exist_ok=True)
    for a in archs:
        make_one(a, args.out, args.device)
    print("wrote", write_manifest(args.out), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
