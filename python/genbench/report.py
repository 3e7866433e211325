"""Typed views of a benchmark report: Report, ConfigResult, Figure, Latency.

``genbench.bench(suite="quick")`` returns a Report; the JSON document it
was read from stays available as ``report.raw``::

    report = genbench.bench(suite="quick", no_save=True)
    print(report)                           # model, device, median E2E tok/s per config
    print(report["medium"].e2e_tok_s.median)
    print(report.raw["environment"]["cpu_model"])
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterator, Mapping, Optional, Tuple, Union


def _fmt(x: float) -> str:
    """A figure for a repr: a few significant digits."""
    return f"{x:.6g}"


@dataclass(frozen=True, repr=False)
class Figure:
    """One measured quantity over the timed trials (the median is the headline)."""

    median: float
    min: float
    max: float
    trials: Tuple[float, ...]  #: per-trial values, in trial order
    mean: float
    stddev: float  #: sample standard deviation (n-1)
    cv: float  #: stddev / mean

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "Figure":
        return cls(median=d["median"], min=d["min"], max=d["max"], trials=tuple(d.get("trials") or ()),
                   mean=d.get("mean", 0.0), stddev=d.get("stddev", 0.0), cv=d.get("cv", 0.0))

    def __float__(self) -> float:
        return float(self.median)

    def __repr__(self) -> str:
        return (f"Figure(median={_fmt(self.median)}, min={_fmt(self.min)}, max={_fmt(self.max)}, "
                f"trials={len(self.trials)})")


@dataclass(frozen=True)
class Latency:
    """Inter-token latency over every decode step of the timed trials, in ms."""

    count: int
    mean: float
    p50: float
    p90: float
    p99: float
    max: float

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "Latency":
        return cls(count=d["count"], mean=d["mean"], p50=d["p50"], p90=d["p90"], p99=d["p99"], max=d["max"])


@dataclass(frozen=True, repr=False)
class ConfigResult:
    """One config's measurements (figures over the timed trials)."""

    key: str  #: short, medium, prefill, decode, long, sampled, full-pipe or adhoc
    prompt_tokens: int
    gen_tokens: int
    sampling_label: str  #: "greedy" or the sampling parameters
    warmup: int
    trials: int
    e2e_tok_s: Figure  #: generated tokens / total time
    ttft_ms: Figure
    prefill_tok_s: Figure
    decode_tok_s: Figure
    peak_mem_bytes: Figure
    itl_ms: Optional[Latency]  #: None when the engine records no per-token times
    decode_read_bytes: int  #: bytes a decode step reads (0 when unknown)
    decode_read_gb_s: Optional[Figure]  #: achieved decode read bandwidth (None when unknown)
    identical_tokens: bool  #: every timed trial generated the same ids
    prompt_sha256: str
    tokens_sha256: str
    eos_generated: bool
    raw: Dict[str, Any] = field(compare=False)  #: the config's JSON object

    @classmethod
    def from_dict(cls, d: Dict[str, Any]) -> "ConfigResult":
        itl = d.get("itl_ms")
        read = d.get("decode_read_gb_s")
        return cls(key=d["key"], prompt_tokens=d["prompt_tokens"], gen_tokens=d["gen_tokens"],
                   sampling_label=d.get("sampling_label", ""), warmup=d["warmup"], trials=d["trials"],
                   e2e_tok_s=Figure.from_dict(d["e2e_tok_s"]), ttft_ms=Figure.from_dict(d["ttft_ms"]),
                   prefill_tok_s=Figure.from_dict(d["prefill_tok_s"]),
                   decode_tok_s=Figure.from_dict(d["decode_tok_s"]),
                   peak_mem_bytes=Figure.from_dict(d["peak_mem_bytes"]),
                   itl_ms=Latency.from_dict(itl) if itl else None,
                   decode_read_bytes=d.get("decode_read_bytes", 0),
                   decode_read_gb_s=Figure.from_dict(read) if read else None,
                   identical_tokens=d.get("identical_tokens", False), prompt_sha256=d.get("prompt_sha256", ""),
                   tokens_sha256=d.get("tokens_sha256", ""), eos_generated=d.get("eos_generated", False), raw=d)

    @property
    def sampling(self) -> Dict[str, Any]:
        """The sampling parameters (temperature, top_k, top_p, repetition_penalty, seed)."""
        return dict(self.raw.get("sampling") or {})

    def __repr__(self) -> str:
        return (f"ConfigResult(key={self.key!r}, prompt_tokens={self.prompt_tokens}, gen_tokens={self.gen_tokens}, "
                f"sampling={self.sampling_label!r}, e2e_tok_s={_fmt(self.e2e_tok_s.median)}, "
                f"ttft_ms={_fmt(self.ttft_ms.median)}, decode_tok_s={_fmt(self.decode_tok_s.median)})")


def _device_name(env: Mapping[str, Any]) -> str:
    """The report's device as "cpu" or "cuda:N", with its name."""
    dev = env.get("device") or {}
    kind = dev.get("kind", "")
    label = f"{kind}:{dev.get('index', 0)}" if kind == "cuda" else kind
    name = dev.get("name", "")
    return f"{label} ({name})" if name else label


@dataclass(frozen=True, repr=False)
class Report:
    """A benchmark run's report: the run, the model, the device and one ConfigResult per config.

    ``report["medium"]`` (or ``report.config("medium")``) is a config's
    result; iterating yields the ConfigResults in run order; ``raw`` is the
    JSON report as a dict (what ``genbench.bench(config_dict)`` returns).
    """

    model: str  #: the model id
    device: str  #: "cpu (...)" or "cuda:N (...)": the device kind and its name
    suite: str  #: quick, standard, full, or "" for an ad-hoc run
    complete: bool  #: False when the run stopped before every planned config finished
    error: str  #: why the run stopped early ("" when complete)
    created_at: str  #: start of the run, RFC 3339, UTC
    engine: str  #: "genbench" or "hf"
    engine_version: str
    dtype: str
    planned_configs: Tuple[str, ...]
    configs: Tuple[ConfigResult, ...]
    raw: Dict[str, Any] = field(compare=False)  #: the JSON report
    summary: str = field(default="", compare=False)  #: the summary table as the benchmark printed it
    report_path: str = field(default="", compare=False)  #: where the report was saved ("" when not saved)

    @classmethod
    def from_dict(cls, d: Dict[str, Any], summary: str = "", report_path: str = "") -> "Report":
        """A Report of a report dict (as bench(config_dict) returns or a saved report holds)."""
        return cls(model=(d.get("model") or {}).get("id", ""), device=_device_name(d.get("environment") or {}),
                   suite=d.get("suite", ""), complete=d.get("complete", False), error=d.get("error", ""),
                   created_at=d.get("created_at", ""), engine=d.get("engine", ""),
                   engine_version=d.get("engine_version", ""), dtype=d.get("dtype", ""),
                   planned_configs=tuple(d.get("planned_configs") or ()),
                   configs=tuple(ConfigResult.from_dict(c) for c in d.get("configs") or ()),
                   raw=d, summary=summary, report_path=report_path)

    @classmethod
    def load(cls, path: Union[str, Path]) -> "Report":
        """Reads a saved JSON report."""
        with open(path, encoding="utf-8") as f:
            return cls.from_dict(json.load(f), report_path=str(path))

    def config(self, key: str) -> ConfigResult:
        """The result of the config named key; KeyError names the configs the report has."""
        for c in self.configs:
            if c.key == key:
                return c
        have = ", ".join(c.key for c in self.configs) or "none"
        raise KeyError(f"no config {key!r} in this report (it has: {have})")

    def __getitem__(self, key: str) -> ConfigResult:
        return self.config(key)

    def __contains__(self, key: object) -> bool:
        return any(c.key == key for c in self.configs)

    def __iter__(self) -> Iterator[ConfigResult]:
        return iter(self.configs)

    def __len__(self) -> int:
        return len(self.configs)

    def __bool__(self) -> bool:  # a report is a report, even with no configs
        return True

    def keys(self) -> Tuple[str, ...]:
        """The config keys, in run order."""
        return tuple(c.key for c in self.configs)

    def __repr__(self) -> str:
        figs = ", ".join(f"{c.key!r}: {_fmt(c.e2e_tok_s.median)}" for c in self.configs)
        extra = "" if self.complete else f", complete=False, error={self.error!r}"
        return (f"Report(model={self.model!r}, device={self.device!r}, suite={self.suite!r}, "
                f"e2e_tok_s_median={{{figs}}}{extra})")
