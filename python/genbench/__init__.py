"""genbench: Python binding of the genbench LLM generation engine.

The engine lives in libgen.so (the Go engine built as a C shared library,
interface in capi/genbench.h); this package loads it with ctypes and needs
nothing outside the standard library.

    import genbench
    with genbench.Engine() as eng:            # the embedded tiny model
        res = eng.generate("Hello", max_new_tokens=16)
        print(res.text, res.token_ids, res.timings.e2e_tok_s)
        for piece in eng.stream("Hello", max_new_tokens=16):
            print(piece.text, end="")
    report = genbench.bench(suite="quick", no_save=True)   # a Report
    print(report, report["medium"].e2e_tok_s.median, report.raw["flags"])
    # progress as the genbench command shows it (a live line on a terminal):
    printer = genbench.ProgressPrinter(sys.stderr)
    report = genbench.bench(suite="quick", progress=printer)
    printer.close()

The library is found through GENBENCH_LIB, then next to this package, then
in the checkout's build/ folder; when it is nowhere and Go is on PATH it is
built into build/. Errors raise GenbenchError with the engine's message: a
subclass per engine status (InvalidArgument, which is also a ValueError,
ModelLoadError, Busy, Cancelled, NoTokenizer, ...) and GenbenchTypeError
(also a TypeError) for arguments of the wrong type.
"""

from __future__ import annotations

import ctypes
import json
from typing import Any, Dict, List, Union

from . import _native
from .engine import BenchRun, Engine, GenerationResult, Timings, TokenPiece, bench, run_bench
from .progress import LIVE_PREFIX, ProgressPrinter
from .report import ConfigResult, Figure, Latency, Report
from .errors import (BadJSON, BufferTooSmall, Busy, Cancelled, EngineFailure, GenbenchError, GenbenchTypeError,
                     InternalError, InvalidArgument, InvalidHandle, ModelLoadError, NoTokenizer)

#: The package version (the engine it binds reports its own with version()).
__version__ = "0.1.0"

__all__ = [
    "BadJSON",
    "BenchRun",
    "BufferTooSmall",
    "Busy",
    "Cancelled",
    "ConfigResult",
    "EngineFailure",
    "Figure",
    "GenbenchTypeError",
    "InternalError",
    "InvalidArgument",
    "InvalidHandle",
    "LIVE_PREFIX",
    "Latency",
    "ModelLoadError",
    "NoTokenizer",
    "ProgressPrinter",
    "Report",
    "__version__",
    "Engine",
    "GenbenchError",
    "GenerationResult",
    "Timings",
    "TokenPiece",
    "abi_version",
    "bench",
    "flag_specs",
    "library_path",
    "render_summary",
    "run_bench",
    "validate_report",
    "version",
    "write_hf",
]


def version() -> str:
    """The engine version of the loaded library."""
    return _native.lib().genbench_version().decode()


def abi_version() -> int:
    """The C interface version of the loaded library."""
    return int(_native.lib().genbench_abi_version())


def library_path() -> str:
    """The path of the libgen.so this package loads."""
    _native.lib()
    return str(_native.find_library())


def flag_specs() -> List[Dict[str, Any]]:
    """The benchmark flags shared by both drivers: dicts with name, field, type, default, help."""
    out = ctypes.c_void_p()
    _native.check(_native.lib().genbench_flag_specs(ctypes.byref(out)))
    return json.loads(_native.take_string(out) or "[]")


def _report_bytes(report: Union[str, Dict[str, Any]]) -> bytes:
    if isinstance(report, dict):
        return json.dumps(report).encode()
    if isinstance(report, str):
        return report.encode()
    raise GenbenchTypeError(f"report must be a dict or a JSON string, not {type(report).__name__}")


def validate_report(report: Union[str, Dict[str, Any]]) -> None:
    """Checks a report against the report schema; raises GenbenchError naming the first problem."""
    _native.check(_native.lib().genbench_validate_report(_report_bytes(report)))


def render_summary(report: Union[str, Dict[str, Any]]) -> str:
    """The summary table of a report, as the benchmark prints it."""
    out = ctypes.c_void_p()
    _native.check(_native.lib().genbench_render_summary(_report_bytes(report), ctypes.byref(out)))
    return _native.take_string(out) or ""


def write_hf(model: str, directory: str, weight_seed: int = 0) -> None:
    """Writes a built-in spec with synthetic weights as a Hugging Face checkpoint directory.

    The weights are those Engine(model, random_weights=True, weight_seed=...) uses.
    """
    _native.check(_native.lib().genbench_write_hf(model.encode(), weight_seed, str(directory).encode()))
