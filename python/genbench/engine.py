"""The Engine class: a model loaded onto a device, through libgen.so."""

from __future__ import annotations

import ctypes
import difflib
import json
import queue
import sys
import threading
from dataclasses import dataclass
from typing import Any, Callable, Dict, Iterator, List, NamedTuple, Optional, Sequence, Union, overload

from . import _native as N
from .errors import GenbenchError, GenbenchTypeError, InvalidArgument
from .progress import PROGRESS_MODES, ProgressPrinter
from .report import Report

#: A progress function: receives one line, returns True to stop the run.
#: Lines that start with LIVE_PREFIX ("live: ") are the live line, sent
#: every 0.25 s while a config runs unless the progress flag is "never";
#: each replaces the one before (ProgressPrinter shows them as the genbench
#: command does). The others are events, one line each.
ProgressFn = Callable[[str], Optional[bool]]

_STOP_REASONS = {0: "max_new_tokens", 1: "eos", 2: "callback"}


@dataclass(frozen=True)
class Timings:
    """How long a generation took (the benchmark's definitions)."""

    ttft_ms: float  #: start of prefill to the first token on the host
    total_ms: float  #: start of prefill to the last token on the host
    prefill_tok_s: float  #: prompt tokens / TTFT
    decode_tok_s: float  #: (generated - 1) / (total - TTFT)
    e2e_tok_s: float  #: generated tokens / total
    n_prompt: int  #: prompt tokens
    n_generated: int  #: generated tokens
    stop_reason: str  #: "max_new_tokens", "eos" or "callback"


@dataclass(frozen=True)
class GenerationResult:
    """What generate() produced."""

    text: str  #: the generated text (special tokens left out)
    token_ids: List[int]  #: the generated ids (prompt excluded)
    timings: Timings


class TokenPiece(NamedTuple):
    """One streamed token: its id and the text it completes (may be empty).

    A final piece with token_id -1 carries text held back at the end (an
    incomplete UTF-8 sequence), when there is any.
    """

    token_id: int
    text: str


@dataclass(frozen=True)
class BenchRun:
    """A benchmark's outputs."""

    report: Dict[str, Any]  #: the JSON report
    summary: str  #: the rendered summary table
    report_path: str  #: where the report was saved ("" when not saved)
    report_json: str  #: the report document as the engine wrote it


#: Runs one generation of another engine for bench_external: given the prompt
#: ids and the sampling parameters, returns (ids, ttft_ms, total_ms, peak_mem_bytes).
ExternalGenerate = Callable[[List[int], Dict[str, Any]], "tuple[List[int], float, float, int]"]


def _progress_callback(progress: Optional[ProgressFn], errors: List[BaseException]) -> Any:
    """A PROGRESS_CALLBACK calling progress (None: a NULL callback)."""
    if progress is None:
        return N.PROGRESS_CALLBACK()

    def cb(_user: Optional[int], line: bytes) -> int:
        try:
            return 1 if progress(line.decode("utf-8", "replace")) else 0
        except BaseException as e:  # noqa: BLE001 - re-raised after the call
            errors.append(e)
            return 1

    return N.PROGRESS_CALLBACK(cb)


def _bench_result(status: int, handle: Optional[int], report: ctypes.c_void_p, summary: ctypes.c_void_p,
                  path: ctypes.c_void_p, errors: List[BaseException]) -> BenchRun:
    """Collects a benchmark's outputs; raises on failure (the partial report,
    if any, is attached to the exception as .partial)."""
    report_json = N.take_string(report)
    summary_text = N.take_string(summary) or ""
    saved = N.take_string(path) or ""
    run = None
    if report_json is not None:
        run = BenchRun(report=json.loads(report_json), summary=summary_text, report_path=saved, report_json=report_json)
    if errors:  # raised by a callback (KeyboardInterrupt included): it stopped the run
        err = errors[0]
        try:
            err.partial = run  # type: ignore[attr-defined]
        except AttributeError:
            pass
        raise err
    try:
        N.check(status, handle)
    except GenbenchError as e:
        e.partial = run  # type: ignore[attr-defined]
        raise
    if run is None:
        raise GenbenchError("the benchmark returned no report")
    return run


def _config_json(config: Optional[Dict[str, Any]]) -> bytes:
    if config is None:
        config = {}
    if not isinstance(config, dict):
        raise GenbenchTypeError(f"config must be a dict of run configuration fields, not {type(config).__name__}")
    return json.dumps(config).encode()


def run_bench(config: Optional[Dict[str, Any]] = None, progress: Optional[ProgressFn] = None,
              engine: Optional["Engine"] = None) -> BenchRun:
    """Runs a benchmark as the genbench command does and returns its outputs.

    config holds run configuration fields (the "field" names of flag_specs(),
    plus "driver"); fields left out keep their defaults. Without an engine,
    the model named by the configuration is loaded for the run.
    """
    lb = N.lib()
    handle = engine._live_handle() if engine is not None else None
    errors: List[BaseException] = []
    cb = _progress_callback(progress, errors)
    report, summary, path = ctypes.c_void_p(), ctypes.c_void_p(), ctypes.c_void_p()
    status = lb.genbench_bench(handle, _config_json(config), cb, None, ctypes.byref(report),
                               ctypes.byref(summary), ctypes.byref(path))
    return _bench_result(status, handle, report, summary, path, errors)


def _flag_types() -> Dict[str, str]:
    """The run configuration fields the engine accepts as keywords, and their types."""
    out = ctypes.c_void_p()
    N.check(N.lib().genbench_flag_specs(ctypes.byref(out)))
    return {s["field"]: s["type"] for s in json.loads(N.take_string(out) or "[]")}


def _type_ok(kind: str, value: Any) -> bool:
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "float":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind == "string":
        return isinstance(value, str)
    if kind == "strings":
        return isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value)
    return True  # a type this package does not know: the engine checks it


_TYPE_NAMES = {"bool": "a bool", "int": "an int", "float": "a float", "string": "a str",
               "strings": "a list of str (or one str)"}


def keyword_config(func: str, options: Dict[str, Any]) -> Dict[str, Any]:
    """The run configuration of keyword arguments named as the flag table's fields.

    An unknown keyword raises GenbenchTypeError naming it (with the closest
    field); a value of the wrong type raises GenbenchTypeError; values are
    checked by the engine when the run starts.
    """
    types = _flag_types()
    config: Dict[str, Any] = {}
    for name, value in options.items():
        if name not in types:
            close = difflib.get_close_matches(name, list(types), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else f"; expected one of {', '.join(types)}"
            raise GenbenchTypeError(f"{func}() got an unexpected keyword argument {name!r}{hint}")
        kind = types[name]
        if kind == "strings" and isinstance(value, str):
            value = [value]
        if not _type_ok(kind, value):
            raise GenbenchTypeError(f"{func}() argument {name!r} must be {_TYPE_NAMES.get(kind, kind)}, "
                                    f"not {type(value).__name__} ({value!r})")
        config[name] = list(value) if kind == "strings" else value
    return config


def _progress_keyword(progress: Any, options: Dict[str, Any]) -> Optional[ProgressFn]:
    """progress is the callback; a str there is the mode of the genbench
    command's --progress flag (auto, always, never): the run's flag, and a
    ProgressPrinter on stderr showing what that mode shows (the caller
    closes it). An unknown mode is left to the engine, which names the
    choices."""
    if isinstance(progress, str):
        options["progress"] = progress
        if progress not in PROGRESS_MODES:
            return None
        return ProgressPrinter(sys.stderr, progress, quiet=bool(options.get("quiet", False)))
    if progress is not None and not callable(progress):
        raise GenbenchTypeError(f"bench() argument 'progress' must be a callable or a str, not "
                                f"{type(progress).__name__}")
    return progress


def _close_printer(progress: Optional[ProgressFn]) -> None:
    """Erases the live line of a ProgressPrinter made by _progress_keyword."""
    if isinstance(progress, ProgressPrinter):
        progress.close()


def _dict_only(options: Dict[str, Any]) -> None:
    if options:
        raise GenbenchTypeError("bench() takes a config dict or keyword arguments, not both "
                                f"(got the dict and {', '.join(options)})")


def _report(run: BenchRun) -> Report:
    return Report.from_dict(run.report, summary=run.summary, report_path=run.report_path)


@overload
def bench(config: Dict[str, Any], progress: Optional[ProgressFn] = None) -> Dict[str, Any]: ...


@overload
def bench(config: None = None, progress: Union[ProgressFn, str, None] = None, **options: Any) -> Report: ...


def bench(config: Optional[Dict[str, Any]] = None, progress: Union[ProgressFn, str, None] = None,
          **options: Any) -> Union[Report, Dict[str, Any]]:
    """Runs a benchmark.

    With keyword arguments (the "field" names of flag_specs(): suite,
    configs, model, prompt_tokens, max_new_tokens, temperature, top_k,
    top_p, repetition_penalty, seed, warmup, trials, device, threads,
    random_weights, output_dir, no_save, ...), or none, it returns a Report;
    a keyword left out keeps the flag's default::

        report = genbench.bench(suite="quick", no_save=True)
        report["medium"].e2e_tok_s.median

    With a config dict (see run_bench) it returns the report as a dict.
    """
    progress = _progress_keyword(progress, options)
    try:
        if config is not None:
            _dict_only(options)
            return run_bench(config, progress).report
        return _report(run_bench(keyword_config("bench", options), progress))
    finally:
        _close_printer(progress)


class Engine:
    """A model loaded onto a device.

    ``Engine()`` loads the embedded tiny model (synthetic weights, tiny
    tokenizer). Use it as a context manager, or call close(). One call at a
    time: a call made while another runs on the same engine raises
    GenbenchError (status ERR_BUSY).
    """

    def __init__(self, model: str = "", device: str = "auto", dtype: str = "bfloat16",
                 random_weights: bool = False, weight_seed: int = 0, threads: int = 0) -> None:
        self._handle: Optional[int] = None
        for name, value in (("model", model), ("device", device), ("dtype", dtype)):
            if not isinstance(value, str):
                raise GenbenchTypeError(f"{name} must be a string, not {type(value).__name__}")
        options = json.dumps({"random_weights": bool(random_weights), "weight_seed": int(weight_seed),
                              "threads": int(threads)})
        lb = N.lib()
        out = ctypes.c_void_p()
        status = lb.genbench_open(model.encode(), device.encode(), dtype.encode(), options.encode(), ctypes.byref(out))
        N.check(status)
        self._handle = out.value
        self._closed = False

    # ---- lifetime ----

    def close(self) -> None:
        """Releases the engine. Further calls raise GenbenchError; closing twice is harmless."""
        if self._handle is not None and not self._closed:
            self._closed = True
            N.check(N.lib().genbench_close(self._handle), self._handle)

    def __enter__(self) -> "Engine":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            if getattr(self, "_handle", None) is not None and not self._closed:
                self.close()
        except Exception:  # noqa: BLE001 - interpreter shutdown
            pass

    def _live_handle(self) -> Optional[int]:
        # A closed handle is passed on: the library reports it as closed.
        return self._handle

    # ---- description ----

    @property
    def info(self) -> Dict[str, Any]:
        """The model, device, host environment and open options, as the report names them."""
        out = ctypes.c_void_p()
        N.check(N.lib().genbench_engine_info(self._handle, ctypes.byref(out)), self._handle)
        return json.loads(N.take_string(out) or "{}")

    # ---- tokenizer ----

    def tokenize(self, text: str, add_special: bool = True) -> List[int]:
        """Encodes text with the model's tokenizer (add_special: add BOS etc.)."""
        if not isinstance(text, str):
            raise GenbenchTypeError(f"text must be a str, not {type(text).__name__}")
        lb = N.lib()
        data = text.encode()
        n = ctypes.c_size_t()
        status = lb.genbench_tokenize(self._handle, data, int(add_special), None, 0, ctypes.byref(n))
        if status != N.ERR_BUFFER_TOO_SMALL:
            N.check(status, self._handle)
            return []
        buf = (ctypes.c_int32 * n.value)()
        N.check(lb.genbench_tokenize(self._handle, data, int(add_special), buf, n.value, ctypes.byref(n)), self._handle)
        return list(buf[: n.value])

    def detokenize(self, ids: Sequence[int], skip_special: bool = True) -> str:
        """Decodes ids to text (skip_special: leave special tokens out)."""
        arr = _ids_array(ids, "ids")
        lb = N.lib()
        n = ctypes.c_size_t()
        status = lb.genbench_detokenize(self._handle, arr, len(arr), int(skip_special), None, 0, ctypes.byref(n))
        if status != N.ERR_BUFFER_TOO_SMALL:
            N.check(status, self._handle)
            return ""
        buf = ctypes.create_string_buffer(n.value + 1)
        N.check(lb.genbench_detokenize(self._handle, arr, len(arr), int(skip_special), buf, n.value + 1,
                                       ctypes.byref(n)), self._handle)
        return buf.raw[: n.value].decode("utf-8", "replace")

    def prompt_ids(self, n: int, seed: int = 42) -> List[int]:
        """The benchmark's deterministic prompt of n ids for this model."""
        if n < 0:
            raise InvalidArgument(f"n must be >= 0, not {n}")
        buf = (ctypes.c_int32 * max(n, 1))()
        got = ctypes.c_size_t()
        N.check(N.lib().genbench_prompt_ids(self._handle, n, seed, buf, n, ctypes.byref(got)), self._handle)
        return list(buf[: got.value])

    # ---- generation ----

    def generate(self, prompt: Union[str, Sequence[int]], max_new_tokens: int = 128, temperature: float = 0.0,
                 top_k: int = 50, top_p: float = 0.9, repetition_penalty: float = 1.0, seed: int = 42,
                 stop_at_eos: bool = True, add_special: bool = True,
                 on_token: Optional[Callable[[TokenPiece], Optional[bool]]] = None) -> GenerationResult:
        """Generates from a text prompt (encoded with add_special) or prompt ids.

        temperature 0 is greedy decoding; stop_at_eos False generates exactly
        max_new_tokens tokens. on_token, when given, receives each TokenPiece
        as it is generated and may return True to stop.
        """
        params = self._params(max_new_tokens, temperature, top_k, top_p, repetition_penalty, seed, stop_at_eos,
                              add_special)
        pieces: List[str] = []
        errors: List[BaseException] = []

        def cb(_user: Optional[int], token_id: int, piece: Optional[int], length: int) -> int:
            try:
                text = ctypes.string_at(piece, length).decode("utf-8", "replace") if length else ""
                pieces.append(text)
                if on_token is not None and on_token(TokenPiece(token_id, text)):
                    return 1
                return 0
            except BaseException as e:  # noqa: BLE001 - re-raised after the call
                errors.append(e)
                return 1

        callback = N.TOKEN_CALLBACK(cb)
        out = (ctypes.c_int32 * max_new_tokens)()
        n = ctypes.c_size_t()
        t = N.Timings()
        lb = N.lib()
        if isinstance(prompt, str):
            status = lb.genbench_generate_text(self._handle, prompt.encode(), ctypes.byref(params), callback, None,
                                               out, max_new_tokens, ctypes.byref(n), ctypes.byref(t))
        else:
            arr = _ids_array(prompt, "prompt")
            status = lb.genbench_generate(self._handle, arr, len(arr), ctypes.byref(params), callback, None,
                                          out, max_new_tokens, ctypes.byref(n), ctypes.byref(t))
        if errors:
            raise errors[0]
        N.check(status, self._handle)
        timings = Timings(ttft_ms=t.ttft_ms, total_ms=t.total_ms, prefill_tok_s=t.prefill_tok_s,
                          decode_tok_s=t.decode_tok_s, e2e_tok_s=t.e2e_tok_s, n_prompt=t.n_prompt,
                          n_generated=t.n_generated, stop_reason=_STOP_REASONS.get(t.stop_reason, str(t.stop_reason)))
        return GenerationResult(text="".join(pieces), token_ids=list(out[: n.value]), timings=timings)

    def stream(self, prompt: Union[str, Sequence[int]], max_new_tokens: int = 128, temperature: float = 0.0,
               top_k: int = 50, top_p: float = 0.9, repetition_penalty: float = 1.0, seed: int = 42,
               stop_at_eos: bool = True, add_special: bool = True) -> Iterator[TokenPiece]:
        """Like generate(), yielding a TokenPiece per token as it is generated.

        Leaving the loop early stops the generation.
        """
        # Validate before starting the worker, so bad arguments raise here.
        self._params(max_new_tokens, temperature, top_k, top_p, repetition_penalty, seed, stop_at_eos, add_special)
        items: "queue.Queue[Any]" = queue.Queue()
        stop = threading.Event()
        done = object()

        def on_token(piece: TokenPiece) -> bool:
            items.put(piece)
            return stop.is_set()

        def work() -> None:
            try:
                self.generate(prompt, max_new_tokens, temperature, top_k, top_p, repetition_penalty, seed,
                              stop_at_eos, add_special, on_token=on_token)
                items.put(done)
            except BaseException as e:  # noqa: BLE001 - handed to the consumer
                items.put(e)

        worker = threading.Thread(target=work, name="genbench-stream", daemon=True)
        worker.start()
        try:
            while True:
                item = items.get()
                if item is done:
                    return
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            stop.set()
            worker.join()

    def _params(self, max_new_tokens: int, temperature: float, top_k: int, top_p: float, repetition_penalty: float,
                seed: int, stop_at_eos: bool, add_special: bool) -> N.GenerateParams:
        if isinstance(max_new_tokens, bool) or not isinstance(max_new_tokens, int) or not 1 <= max_new_tokens < 2**31:
            raise InvalidArgument(f"max_new_tokens {max_new_tokens!r}: expected an integer >= 1")
        if not isinstance(seed, int) or not 0 <= seed < 2**64:
            raise InvalidArgument(f"seed {seed!r}: expected an integer in [0, 2**64)")
        p = N.GenerateParams()
        N.lib().genbench_generate_params_init(ctypes.byref(p))
        p.max_new_tokens = max_new_tokens
        p.temperature = float(temperature)
        p.top_k = int(top_k)
        p.top_p = float(top_p)
        p.repetition_penalty = float(repetition_penalty)
        p.seed = seed
        p.stop_at_eos = int(bool(stop_at_eos))
        p.add_special = int(bool(add_special))
        return p

    # ---- benchmark ----

    @overload
    def bench(self, config: Dict[str, Any], progress: Optional[ProgressFn] = None) -> Dict[str, Any]: ...

    @overload
    def bench(self, config: None = None, progress: Union[ProgressFn, str, None] = None, **options: Any) -> Report: ...

    def bench(self, config: Optional[Dict[str, Any]] = None, progress: Union[ProgressFn, str, None] = None,
              **options: Any) -> Union[Report, Dict[str, Any]]:
        """Runs a benchmark on this engine.

        The report names the model, device, dtype and threads the engine was
        opened with; the other fields apply as in genbench.bench(): keyword
        arguments (or none) return a Report, a config dict returns the
        report as a dict.
        """
        progress = _progress_keyword(progress, options)
        try:
            if config is not None:
                _dict_only(options)
                return run_bench(config, progress, engine=self).report
            return _report(run_bench(keyword_config("bench", options), progress, engine=self))
        finally:
            _close_printer(progress)

    def bench_external(self, config: Dict[str, Any], generate: ExternalGenerate,
                       overrides: Optional[Dict[str, Any]] = None,
                       progress: Optional[ProgressFn] = None) -> BenchRun:
        """Benchmarks another engine with the genbench runner.

        generate(prompt_ids, params) runs one generation and returns
        (ids, ttft_ms, total_ms, peak_mem_bytes); params has the keys of
        genbench_generate_params. This engine supplies the prompts (its
        tokenizer) and the model description; overrides may set
        "engine_version", "device", "python_version", "torch_version" and
        "transformers_version" of the report.
        """
        errors: List[BaseException] = []

        def fn(_user: Optional[int], prompt: Any, n_prompt: int, params: Any, out_ids: Any, out_n: Any,
               out_ttft: Any, out_total: Any, out_peak: Any) -> int:
            try:
                p = params.contents
                d = {name: getattr(p, name) for name, _ in N.GenerateParams._fields_}
                ids, ttft_ms, total_ms, peak = generate(list(prompt[:n_prompt]), d)
                if len(ids) > p.max_new_tokens:
                    raise GenbenchError(f"the external engine returned {len(ids)} tokens, more than "
                                        f"max_new_tokens {p.max_new_tokens}")
                for i, v in enumerate(ids):
                    out_ids[i] = int(v)
                out_n[0] = len(ids)
                out_ttft[0] = float(ttft_ms)
                out_total[0] = float(total_ms)
                out_peak[0] = int(peak)
                return 0
            except BaseException as e:  # noqa: BLE001 - re-raised after the call
                errors.append(e)
                return 1

        gen_cb = N.GENERATE_FN(fn)
        prog_cb = _progress_callback(progress, errors)
        report, summary, path = ctypes.c_void_p(), ctypes.c_void_p(), ctypes.c_void_p()
        ov = json.dumps(overrides).encode() if overrides is not None else None
        status = N.lib().genbench_bench_external(self._handle, _config_json(config), ov, gen_cb, None, prog_cb, None,
                                                 ctypes.byref(report), ctypes.byref(summary), ctypes.byref(path))
        return _bench_result(status, self._handle, report, summary, path, errors)


def _ids_array(ids: Sequence[int], what: str) -> "ctypes.Array[ctypes.c_int32]":
    """ids as a C int32 array, refusing non-integers and values outside int32."""
    if isinstance(ids, (str, bytes)):
        raise GenbenchTypeError(f"{what} must be a sequence of token ids, not {type(ids).__name__}")
    vals = list(ids)
    for i, v in enumerate(vals):
        if isinstance(v, bool) or not isinstance(v, int) or not -(2**31) <= v < 2**31:
            raise GenbenchTypeError(f"{what}[{i}] = {v!r}: expected an integer token id")
    return (ctypes.c_int32 * len(vals))(*vals)
