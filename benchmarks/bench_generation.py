#!/usr/bin/env python3
"""Generation benchmark: E2E throughput, TTFT, prefill and decode speed.

    uv run python benchmarks/bench_generation.py --suite full --model meta-llama/Llama-3.2-1B-Instruct
    python3 benchmarks/bench_generation.py --suite quick
    python3 benchmarks/bench_generation.py --model tiny-qwen3 --prompt-tokens 256 --max-new-tokens 256 \\
        --temperature 0.8 --seed 42

The genbench engine runs through libgen.so (the same runner, summary table
and JSON report as the genbench command; reports go to benchmarks/reports/).
``--engine hf`` runs the same configs with Hugging Face transformers on the
same prompt ids and writes the same report schema (needs torch and
transformers: ``uv run --extra hf python benchmarks/bench_generation.py
--engine hf ...``).

Exit status: 0 success, 2 bad usage, 1 any other error.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import re
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "python"))

import genbench  # noqa: E402
from genbench import _native  # noqa: E402

#: The driver name reports carry.
DRIVER = "bench_generation.py"

#: The benchmark log --record writes without a file name (repository-relative).
DEFAULT_LOG = "benchmarks/LOG.md"

#: Status codes that mean the command line was wrong (exit status 2).
USAGE_STATUSES = (_native.ERR_INVALID_ARGUMENT, _native.ERR_BAD_JSON)


class UsageError(Exception):
    """A bad command line (exit status 2)."""


def _csv(value: str) -> List[str]:
    """A comma-separated list (as pflag's string slices parse it)."""
    return [v.strip() for v in value.split(",") if v.strip()]


#: Value placeholders in --help (the flags themselves come from genbench.flag_specs()).
METAVARS = {
    "suite": "TIER", "configs": "KEYS", "model": "ID_OR_PATH", "revision": "REV", "prompt_tokens": "N",
    "max_new_tokens": "N", "temperature": "F", "top_k": "N", "top_p": "F", "repetition_penalty": "F",
    "seed": "N", "warmup": "N", "trials": "N", "output_dir": "DIR",
}

#: argparse value types of the flag table's types.
_TYPES = {"string": str, "int": int, "float": float, "strings": _csv}


def build_parser(suppress_defaults: bool = False) -> argparse.ArgumentParser:
    """The benchmark's flags, built from the engine's flag table (the genbench
    command's flags, with the same names, types, defaults and help).

    With suppress_defaults, flags not given are absent from the result (to
    tell which flags the user set).
    """
    p = argparse.ArgumentParser(
        prog="bench_generation.py",
        description="Single-stream generation benchmark (BENCH.md): a suite with --suite, "
                    "else one ad-hoc run built from the individual flags. Several --model values "
                    "(or --model a,b) run one after the other; comma lists for --prompt-tokens and "
                    "--max-new-tokens run their cartesian product; a comma list for --threads runs each "
                    "model once per thread count.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    for spec in genbench.flag_specs():
        flag, field, kind = "--" + spec["name"], spec["field"], spec["type"]
        default = spec["default"]
        if kind in ("int", "float"):  # JSON writes the float 1.0 as 1
            default = _TYPES[kind](default)
        if suppress_defaults:
            default = argparse.SUPPRESS
        if kind == "bool":
            p.add_argument(flag, dest=field, action="store_true", default=default, help=spec["help"])
        elif kind == "strings":
            p.add_argument(flag, dest=field, type=_csv, action="extend", default=default,
                           metavar=METAVARS.get(field), help=spec["help"])
        else:
            extra: Dict[str, Any] = {}
            if spec.get("choices"):
                extra["choices"] = spec["choices"]
            if spec.get("no_value") is not None:  # "--record" alone
                extra["nargs"] = "?"
                extra["const"] = spec["no_value"]
            p.add_argument(flag, dest=field, type=_TYPES[kind], default=default,
                           metavar=METAVARS.get(field), help=spec["help"], **extra)
    return p


def adhoc_fields() -> List[str]:
    """The fields of the flags that only shape the ad-hoc run."""
    return [s["field"] for s in genbench.flag_specs() if s.get("adhoc")]


def sampling_fields() -> List[str]:
    """The ad-hoc fields that are sampling parameters: they also set the sampling of sweep points."""
    return [s["field"] for s in genbench.flag_specs() if s.get("adhoc") and s.get("sampling")]


#: A sweep point's config key: N prompt tokens, M generated (pN-gM).
SWEEP_KEY = re.compile(r"p[1-9][0-9]*-g[1-9][0-9]*")


def _in_checkout(path: Path) -> bool:
    """Whether path is inside a checkout of the genbench module (a go.mod declaring it)."""
    for d in (path, *path.parents):
        try:
            first = (d / "go.mod").read_text().splitlines()[:1]
        except OSError:
            continue
        if first and first[0].split() == ["module", "github.com/genbench/genbench"]:
            return True
    return False


def parse_config(argv: Sequence[str]) -> Tuple[Dict[str, Any], argparse.Namespace]:
    """Parses the command line into the run configuration the engine takes.

    The configuration holds only the flags given (the engine supplies the
    defaults, the same as the genbench command's) plus the driver name.
    Raises UsageError for flags that cannot go together; argparse exits
    with status 2 for unknown flags and malformed values.
    """
    args = build_parser().parse_args(argv)
    given = vars(build_parser(suppress_defaults=True).parse_args(argv))
    if "configs" in given and not args.configs:
        raise UsageError("--configs: no config key given: expected a comma-separated list of "
                         "short, medium, prefill, decode, long, sampled, full-pipe")
    for name, value in given.items():
        if isinstance(value, float) and not math.isfinite(value):
            flag = "--" + name.replace("_", "-")
            raise UsageError(f"{flag}: {value} is not a finite number")
    if args.suite or args.configs:
        sweep = not args.suite and all(SWEEP_KEY.fullmatch(k) for k in args.configs)
        for name in adhoc_fields():
            if name not in given:
                continue
            flag = "--" + name.replace("_", "-")
            if name in sampling_fields():
                if sweep:
                    continue  # the sampling of the sweep points
                raise UsageError(f"{flag} sets the sampling of the ad-hoc run and of sweep points (pN-gM) and "
                                 "cannot be combined with --suite or named configs (their sampling is fixed)")
            raise UsageError(f"{flag} sets the ad-hoc run and cannot be combined with --suite or --configs "
                             "(their configs fix prompt, length and sampling)")
    config = dict(given)
    config["driver"] = DRIVER
    if config.get("record") == DEFAULT_LOG:
        # The log of this checkout, wherever the driver is run from.
        config["record"] = str(Path(__file__).resolve().parent.parent / DEFAULT_LOG)
    if "output_dir" not in config and not config.get("no_save"):
        # Run from outside the checkout, reports still go to its
        # benchmarks/reports (inside it, the engine finds that folder itself).
        if not _in_checkout(Path.cwd().resolve()):
            repo = Path(__file__).resolve().parent.parent
            config["output_dir"] = str(repo / "benchmarks" / "reports")
    return config, args


#: The signals that stop a run as the genbench command does: the finished
#: configs are saved (marked incomplete) and printed, and the exit status is
#: 128 + the signal number (SIGINT 130, SIGTERM 143, SIGHUP 129).
STOP_SIGNALS = tuple(s for s in (getattr(signal, n, None) for n in ("SIGINT", "SIGTERM", "SIGHUP")) if s is not None)


class SignalStop:
    """Records the first stop signal; the progress callback then asks the
    engine to stop. The handler only records (raising from it could land
    inside a ctypes callback, where the exception is lost); the first signal
    restores the default action, so a second one kills at once."""

    def __init__(self) -> None:
        self.signum: Optional[int] = None

    def install(self) -> None:
        for s in STOP_SIGNALS:
            try:
                signal.signal(s, self._handle)
            except (ValueError, OSError):  # not the main thread, or not settable
                pass

    def _handle(self, signum: int, _frame: Any) -> None:
        if self.signum is None:
            self.signum = signum
        for s in STOP_SIGNALS:
            try:
                signal.signal(s, signal.SIG_DFL)
            except (ValueError, OSError):
                pass


def _progress_printer(args: argparse.Namespace, stop: Optional[SignalStop] = None) -> genbench.ProgressPrinter:
    """Progress on stderr as the genbench command shows it (--progress, --quiet):
    auto shows it on a terminal only, with the live line (config k/n, run,
    tokens done/total, elapsed, ETA) redrawn in place; always also in logs,
    the live line then a plain line every 10 s; never (or --quiet) nothing.

    The callback is installed either way: it gives Python control between
    steps and, through the live line, every 0.25 s during a run, so a stop
    signal (see SignalStop) or Ctrl-C stops the run (the engine cancels it
    and returns the partial report). Close it at the end (erases the line).
    """
    return genbench.ProgressPrinter(sys.stderr, mode=args.progress, quiet=args.quiet,
                                    stop=lambda: stop is not None and stop.signum is not None)


def emit(run: genbench.BenchRun, args: argparse.Namespace, record: str = "") -> None:
    """Prints the summary (or the JSON report) as the genbench command does.

    Notes (report saved, log recorded) go to stderr when stdout carries
    machine output (--json, or a csv/json/jsonl summary).
    """
    machine = args.json or args.format in ("csv", "json", "jsonl")
    notes = sys.stderr if machine else sys.stdout
    if args.json:
        sys.stdout.write(run.report_json)
        sys.stdout.flush()
        if args.quiet:
            return
        sys.stderr.write(run.summary)
    else:
        sys.stdout.write(run.summary)
        sys.stdout.flush()
    if run.report_path:
        print(f"Report saved to {run.report_path}", file=notes)
    if record:
        print(f"Recorded in {record}", file=notes)
    sys.stdout.flush()


# ---- Hugging Face transformers ---------------------------------------------------


def import_hf() -> Tuple[Any, Any]:
    """Imports torch and transformers, or raises a clear error saying how to get them."""
    try:
        import torch  # type: ignore[import-not-found]
        import transformers  # type: ignore[import-not-found]
    except ImportError as e:
        raise RuntimeError(
            f"--engine hf needs PyTorch and Hugging Face transformers, which are not importable ({e}): "
            "install them (uv run --extra hf python benchmarks/bench_generation.py ..., or "
            "pip install torch transformers), or use --engine genbench") from None
    return torch, transformers


def _version_tuple(version: str) -> Tuple[int, ...]:
    """(4, 56, 1) for "4.56.1" (non-numeric suffixes dropped)."""
    parts = []
    for p in version.split(".")[:3]:
        digits = "".join(ch for ch in p if ch.isdigit())
        if not digits:
            break
        parts.append(int(digits))
    return tuple(parts)


def _hf_device(torch: Any, device: str) -> Any:
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise RuntimeError(f"--device {device}: torch sees no CUDA device (torch.cuda.is_available() is False)")
    return torch.device(device)


def _device_info(torch: Any, dev: Any, host: Dict[str, Any]) -> Dict[str, Any]:
    """The report's device entry for the torch device."""
    if dev.type == "cuda":
        index = dev.index if dev.index is not None else torch.cuda.current_device()
        props = torch.cuda.get_device_properties(index)
        return {
            "kind": "cuda",
            "index": index,
            "name": props.name,
            "compute_capability": f"{props.major}.{props.minor}",
            "memory_bytes": int(props.total_memory),
            "cuda_version": str(torch.version.cuda or ""),
        }
    return {
        "kind": "cpu",
        "index": 0,
        "name": host.get("cpu_model") or platform.processor() or platform.machine(),
        "memory_bytes": int(host.get("memory_bytes") or 0),
        "cores": os.cpu_count() or 0,
        "threads": int(torch.get_num_threads()),
    }


class HFRunner:
    """Runs one generation with transformers for the genbench runner."""

    def __init__(self, torch: Any, model: Any, dev: Any) -> None:
        self.torch = torch
        self.model = model
        self.dev = dev
        self.shape: Optional[Tuple[int, int]] = None

    def _sync(self) -> None:
        if self.dev.type == "cuda":
            self.torch.cuda.synchronize(self.dev)

    def __call__(self, prompt: List[int], params: Dict[str, Any]) -> Tuple[List[int], float, float, int]:
        torch = self.torch
        n = int(params["max_new_tokens"])
        shape = (len(prompt), n)
        if shape != self.shape:  # a new config: release the previous one's cached blocks
            self.shape = shape
            if self.dev.type == "cuda":
                torch.cuda.empty_cache()
        do_sample = float(params["temperature"]) > 0
        kwargs: Dict[str, Any] = {
            "max_new_tokens": n,
            "do_sample": do_sample,
            "eos_token_id": None,  # exactly n tokens: end-of-sequence does not stop a benchmark run
            "pad_token_id": 0,
            "use_cache": True,
        }
        if do_sample:
            kwargs.update(temperature=float(params["temperature"]),
                          top_k=int(params["top_k"]) if params["top_k"] > 0 else None,
                          top_p=float(params["top_p"]) if 0 < params["top_p"] < 1 else None)
        else:
            kwargs.update(temperature=None, top_k=None, top_p=None)
        # Always set, so a repetition penalty in the model's generation_config.json does not apply.
        rep = float(params["repetition_penalty"])
        kwargs["repetition_penalty"] = rep if rep not in (0.0, 1.0) else 1.0
        ids = torch.tensor([prompt], dtype=torch.long, device=self.dev)
        mask = torch.ones_like(ids)
        first: List[float] = []

        class FirstToken:
            """A streamer that notes when the first generated id is on the host."""

            calls = 0

            def put(self, value: Any) -> None:
                self.calls += 1
                if self.calls == 2:  # call 1 is the prompt
                    value.cpu()  # waits for the token to reach the host
                    first.append(time.perf_counter())

            def end(self) -> None:
                pass

        torch.manual_seed(int(params["seed"]))
        if self.dev.type == "cuda":
            torch.cuda.reset_peak_memory_stats(self.dev)
        self._sync()
        t0 = time.perf_counter()
        with torch.inference_mode():
            out = self.model.generate(input_ids=ids, attention_mask=mask, streamer=FirstToken(), **kwargs)
        toks = out[0, len(prompt):].tolist()
        self._sync()
        t1 = time.perf_counter()
        if len(toks) != n:
            raise RuntimeError(f"transformers generated {len(toks)} tokens, expected exactly {n}")
        peak = int(torch.cuda.max_memory_allocated(self.dev)) if self.dev.type == "cuda" else 0
        ttft = (first[0] - t0) * 1000 if first else (t1 - t0) * 1000
        return toks, ttft, (t1 - t0) * 1000, peak


def run_hf(config: Dict[str, Any], args: argparse.Namespace, stop: Optional[SignalStop] = None) -> genbench.BenchRun:
    """Runs the configs with transformers through the genbench runner."""
    torch, transformers = import_hf()
    dev = _hf_device(torch, args.device)
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    progress = _progress_printer(args, stop)
    # Our engine supplies the prompt ids (its tokenizer) and the model
    # description; it stays on the CPU.
    tiny = args.model == "" or (args.model.startswith("tiny-") and not Path(args.model).is_dir())
    synthetic = args.random_weights or tiny
    with genbench.Engine(model=args.model, device="cpu", dtype=args.dtype, random_weights=args.random_weights,
                         threads=args.threads) as eng:
        info = eng.info
        with tempfile.TemporaryDirectory(prefix="genbench-hf-") as tmp:
            source = args.model
            if synthetic:
                source = os.path.join(tmp, "model")
                genbench.write_hf(info["model"]["id"], source, weight_seed=0)
            progress(f"loading {source} with transformers {transformers.__version__} on {dev} ...")
            # transformers 4.56 renamed torch_dtype to dtype.
            key = "dtype" if _version_tuple(transformers.__version__) >= (4, 56) else "torch_dtype"
            model = transformers.AutoModelForCausalLM.from_pretrained(source, **{key: torch.bfloat16})
            model.to(dev)
            model.eval()
            overrides = {
                "engine_version": transformers.__version__,
                "device": _device_info(torch, dev, info.get("environment", {})),
                "python_version": platform.python_version(),
                "torch_version": str(torch.__version__),
                "transformers_version": transformers.__version__,
            }
            try:
                return eng.bench_external(config, HFRunner(torch, model, dev), overrides, progress)
            finally:
                progress.close()


# ---- main ------------------------------------------------------------------------


def _flag_value(argv: Sequence[str], i: int, name: str) -> Tuple[str, int]:
    """("VALUE", n) when argv[i] is "--name VALUE" (n=2) or "--name=VALUE" (n=1), else ("", 0)."""
    a = argv[i]
    if a.startswith(f"--{name}="):
        return a[len(name) + 3:], 1
    if a == f"--{name}" and i + 1 < len(argv):
        return argv[i + 1], 2
    return "", 0


def _int_list(flag: str, value: str, what: str, expected: str, example: str, minimum: int,
              below: str) -> List[int]:
    """A comma list of distinct integers >= minimum; the messages name the
    flag, what a value counts, what is expected and an example list."""
    out: List[int] = []
    for f in value.split(","):
        f = f.strip()
        try:
            n = int(f)
        except ValueError:
            raise UsageError(f"{flag}: {f!r} is not {what}: expected {expected} or a comma-separated list of them "
                             f"(e.g. {example})") from None
        if n < minimum:
            raise UsageError(f"{flag}: {n}{below}")
        if n in out:
            raise UsageError(f"{flag}: {n} is listed twice")
        out.append(n)
    return out


def _token_list(flag: str, value: str) -> List[int]:
    """A sweep list: distinct positive token counts."""
    return _int_list(flag, value, "a token count", "a positive integer", "64,256", 1,
                     ": expected a positive number of tokens")


def _thread_list(value: str) -> List[str]:
    """A --threads list: distinct thread counts, 0 meaning all cores (the
    engine checks the upper bound when each run starts)."""
    return [str(n) for n in _int_list("--threads", value, "a thread count", "0 (all cores), a positive integer",
                                      "1,2,4", 0, " is negative: expected 0 (all cores) or a positive count")]


def expand_runs(argv: Sequence[str]) -> List[List[str]]:
    """One command line per model (several --model values, or --model a,b)
    and thread count (a comma list for --threads runs each model once per
    count, model after model; --remeasure-bandwidth only in the first model's
    runs); comma lists for --prompt-tokens / --max-new-tokens become the
    configs of their cartesian product (sweep points pN-gM, sampled as the
    sampling flags given with them say, greedy without any), as genbench
    does."""
    models: List[str] = []
    rest: List[str] = []
    threads: List[str] = []
    lists: Dict[str, List[str]] = {"prompt-tokens": [], "max-new-tokens": []}
    i = 0
    while i < len(argv):
        value, n = _flag_value(argv, i, "model")
        if n:
            models += [m.strip() for m in value.split(",") if m.strip()] or [value]
            i += n
            continue
        value, n = _flag_value(argv, i, "threads")
        if n:
            threads.append(value)
            i += n
            continue
        for name in lists:
            value, n = _flag_value(argv, i, name)
            if n:
                lists[name].append(value)
                break
        if n:
            i += n
            continue
        rest.append(argv[i])
        i += 1
    if any("," in v for vs in lists.values() for v in vs):
        for a in rest:
            for f in ("suite", "configs"):
                if a == f"--{f}" or a.startswith(f"--{f}="):
                    raise UsageError(f"--{f} cannot be combined with a sweep (comma lists for --prompt-tokens "
                                     "or --max-new-tokens run the configs pN-gM of their product)")
        prompts = _token_list("--prompt-tokens", lists["prompt-tokens"][-1]) if lists["prompt-tokens"] else [256]
        gens = _token_list("--max-new-tokens", lists["max-new-tokens"][-1]) if lists["max-new-tokens"] else [256]
        rest += ["--configs", ",".join(f"p{p}-g{g}" for p in prompts for g in gens)]
    else:
        for name, values in lists.items():
            for v in values:
                rest += [f"--{name}", v]
    per_thread: List[List[str]] = [[]]
    if threads:  # the last one wins, as for any flag
        if "," in threads[-1]:
            per_thread = [["--threads", t] for t in _thread_list(threads[-1])]
        else:
            rest += ["--threads", threads[-1]]
    if not models:
        return [rest + t for t in per_thread]
    # The device's bandwidth is measured again once, by the first model's runs
    # (it is cached per thread count); the others read the fresh figure.
    once = [a for a in rest if a != "--remeasure-bandwidth" and not a.startswith("--remeasure-bandwidth=")]
    return [(rest if i == 0 else once) + t + ["--model", m] for i, m in enumerate(models) for t in per_thread]


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Runs the benchmark (once per --model); returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        runs = expand_runs(argv)
    except UsageError as e:
        print(f"bench_generation.py: {e}", file=sys.stderr)
        return 2
    status = 0
    for i, run_argv in enumerate(runs):
        if i > 0:
            print()
        status = max(status, _main_one(run_argv))
        if status >= 128:  # interrupted: stop the remaining models
            break
    return status


def _main_one(argv: List[str]) -> int:
    """Runs one model's benchmark; returns the exit status."""
    try:
        config, args = parse_config(argv)
    except UsageError as e:
        print(f"bench_generation.py: {e}", file=sys.stderr)
        return 2
    stop = SignalStop()
    stop.install()
    try:
        if args.engine == "hf":
            run = run_hf(config, args, stop)
        else:
            progress = _progress_printer(args, stop)
            try:
                run = genbench.run_bench(config, progress)
            finally:
                progress.close()
    except genbench.GenbenchError as e:
        partial = getattr(e, "partial", None)
        if partial is not None:
            emit(partial, args)
        print(f"bench_generation.py: {e}", file=sys.stderr)
        if stop.signum is not None:
            return 128 + stop.signum
        return 2 if e.status in USAGE_STATUSES else 1
    except (RuntimeError, OSError, ValueError) as e:
        print(f"bench_generation.py: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt as e:
        partial = getattr(e, "partial", None)
        if partial is not None:
            emit(partial, args)
        print("bench_generation.py: interrupted", file=sys.stderr)
        return 130
    emit(run, args, config.get("record", ""))  # a signal after the last step: the run is complete
    return 0


if __name__ == "__main__":
    sys.exit(main())
