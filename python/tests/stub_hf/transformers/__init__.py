"""A stand-in for transformers' AutoModelForCausalLM (see ../torch)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import torch

__version__ = "4.57.0-stub"


class _Model:
    def __init__(self, source: str, kwargs: dict) -> None:
        self.source = source
        self.load_kwargs = kwargs

    def to(self, dev: Any) -> "_Model":
        return self

    def eval(self) -> "_Model":
        return self

    def generate(self, input_ids: Any, attention_mask: Any, streamer: Any, **kw: Any) -> Any:
        prompt = input_ids.rows[0]
        n = kw["max_new_tokens"]
        toks = [(len(prompt) * 31 + i * 7) % 500 for i in range(n)]
        streamer.put(input_ids)
        for t in toks:
            streamer.put(torch.tensor([[t]]))
        streamer.end()
        log = os.environ.get("STUB_HF_LOG")
        if log:
            entry = {"source": self.source, "load": sorted(self.load_kwargs), "prompt": prompt,
                     "kwargs": {k: v for k, v in kw.items()}, "seed": torch.seeds[-1] if torch.seeds else None}
            with open(log, "a") as f:
                f.write(json.dumps(entry) + "\n")
        return torch.Tensor([prompt + toks])


class AutoModelForCausalLM:
    @staticmethod
    def from_pretrained(source: str, **kwargs: Any) -> _Model:
        if not Path(source, "config.json").is_file():
            raise OSError(f"{source} has no config.json")
        return _Model(source, kwargs)
