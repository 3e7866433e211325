"""Loading libgen.so and declaring the C interface of capi/genbench.h."""

from __future__ import annotations

import ctypes
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path
from typing import Optional

from .errors import GenbenchError, from_status

#: The C interface version this binding is written for (GENBENCH_ABI_VERSION).
ABI_VERSION = 1

#: Status codes of enum genbench_status.
OK = 0
ERR_INVALID_ARGUMENT = 1
ERR_INVALID_HANDLE = 2
ERR_BAD_JSON = 3
ERR_LOAD = 4
ERR_BUFFER_TOO_SMALL = 5
ERR_BUSY = 6
ERR_CANCELLED = 7
ERR_NO_TOKENIZER = 8
ERR_FAILED = 9
ERR_INTERNAL = 10

_LIB_NAME = "libgen.so"
_PACKAGE_DIR = Path(__file__).resolve().parent
#: The repository root when the package runs from a checkout.
REPO_ROOT = _PACKAGE_DIR.parent.parent


class GenerateParams(ctypes.Structure):
    """struct genbench_generate_params."""

    _fields_ = [
        ("max_new_tokens", ctypes.c_int32),
        ("temperature", ctypes.c_float),
        ("top_k", ctypes.c_int32),
        ("top_p", ctypes.c_float),
        ("repetition_penalty", ctypes.c_float),
        ("seed", ctypes.c_uint64),
        ("stop_at_eos", ctypes.c_int32),
        ("add_special", ctypes.c_int32),
    ]


class Timings(ctypes.Structure):
    """struct genbench_timings."""

    _fields_ = [
        ("ttft_ms", ctypes.c_double),
        ("total_ms", ctypes.c_double),
        ("prefill_tok_s", ctypes.c_double),
        ("decode_tok_s", ctypes.c_double),
        ("e2e_tok_s", ctypes.c_double),
        ("n_prompt", ctypes.c_int32),
        ("n_generated", ctypes.c_int32),
        ("stop_reason", ctypes.c_int32),
    ]


#: genbench_token_callback
TOKEN_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_int32, ctypes.c_void_p, ctypes.c_size_t)
#: genbench_progress_callback
PROGRESS_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_char_p)
#: genbench_generate_fn
GENERATE_FN = ctypes.CFUNCTYPE(
    ctypes.c_int,
    ctypes.c_void_p,
    ctypes.POINTER(ctypes.c_int32),
    ctypes.c_size_t,
    ctypes.POINTER(GenerateParams),
    ctypes.POINTER(ctypes.c_int32),
    ctypes.POINTER(ctypes.c_size_t),
    ctypes.POINTER(ctypes.c_double),
    ctypes.POINTER(ctypes.c_double),
    ctypes.POINTER(ctypes.c_int64),
)

_c_int32_p = ctypes.POINTER(ctypes.c_int32)
_c_size_t_p = ctypes.POINTER(ctypes.c_size_t)
_c_void_p_p = ctypes.POINTER(ctypes.c_void_p)
_c_char_p = ctypes.c_char_p
_c_void_p = ctypes.c_void_p
_c_int = ctypes.c_int
_c_size_t = ctypes.c_size_t

# name: (restype, argtypes)
_PROTOTYPES = {
    "genbench_abi_version": (_c_int, []),
    "genbench_version": (_c_char_p, []),
    "genbench_status_string": (_c_char_p, [_c_int]),
    "genbench_last_error": (_c_size_t, [_c_void_p, _c_char_p, _c_size_t]),
    "genbench_free": (None, [_c_void_p]),
    "genbench_open": (_c_int, [_c_char_p, _c_char_p, _c_char_p, _c_char_p, _c_void_p_p]),
    "genbench_close": (_c_int, [_c_void_p]),
    "genbench_engine_info": (_c_int, [_c_void_p, _c_void_p_p]),
    "genbench_tokenize": (_c_int, [_c_void_p, _c_char_p, _c_int, _c_int32_p, _c_size_t, _c_size_t_p]),
    "genbench_detokenize": (_c_int, [_c_void_p, _c_int32_p, _c_size_t, _c_int, _c_char_p, _c_size_t, _c_size_t_p]),
    "genbench_generate_params_init": (None, [ctypes.POINTER(GenerateParams)]),
    "genbench_generate": (
        _c_int,
        [_c_void_p, _c_int32_p, _c_size_t, ctypes.POINTER(GenerateParams), TOKEN_CALLBACK, _c_void_p,
         _c_int32_p, _c_size_t, _c_size_t_p, ctypes.POINTER(Timings)],
    ),
    "genbench_generate_text": (
        _c_int,
        [_c_void_p, _c_char_p, ctypes.POINTER(GenerateParams), TOKEN_CALLBACK, _c_void_p,
         _c_int32_p, _c_size_t, _c_size_t_p, ctypes.POINTER(Timings)],
    ),
    "genbench_flag_specs": (_c_int, [_c_void_p_p]),
    "genbench_bench": (
        _c_int,
        [_c_void_p, _c_char_p, PROGRESS_CALLBACK, _c_void_p, _c_void_p_p, _c_void_p_p, _c_void_p_p],
    ),
    "genbench_bench_external": (
        _c_int,
        [_c_void_p, _c_char_p, _c_char_p, GENERATE_FN, _c_void_p, PROGRESS_CALLBACK, _c_void_p,
         _c_void_p_p, _c_void_p_p, _c_void_p_p],
    ),
    "genbench_prompt_ids": (_c_int, [_c_void_p, _c_size_t, ctypes.c_uint64, _c_int32_p, _c_size_t, _c_size_t_p]),
    "genbench_validate_report": (_c_int, [_c_char_p]),
    "genbench_render_summary": (_c_int, [_c_char_p, _c_void_p_p]),
    "genbench_write_hf": (_c_int, [_c_char_p, ctypes.c_uint64, _c_char_p]),
}

_lock = threading.Lock()
_lib: Optional[ctypes.CDLL] = None


def candidate_paths() -> list[Path]:
    """The places searched for libgen.so, in order (GENBENCH_LIB first)."""
    paths = []
    env = os.environ.get("GENBENCH_LIB")
    if env:
        paths.append(Path(env))
    paths += [
        _PACKAGE_DIR / _LIB_NAME,
        _PACKAGE_DIR / "_lib" / _LIB_NAME,
        REPO_ROOT / "build" / _LIB_NAME,
    ]
    return paths


def _build(target: Path, reason: str) -> None:
    """Builds libgen.so from the checkout with the Go toolchain."""
    go = shutil.which("go")
    assert go is not None
    print(f"genbench: {reason}; building it with "
          f"'go build -buildmode=c-shared -o {target} ./libgen' in {REPO_ROOT} "
          "(needs a C compiler; this takes a few minutes the first time)...", file=sys.stderr, flush=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, CGO_ENABLED="1")
    proc = subprocess.run(
        [go, "build", "-trimpath", "-buildmode=c-shared", "-o", str(target), "./libgen"],
        cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    if proc.returncode != 0:
        raise GenbenchError(
            f"building {target} failed (go build exit status {proc.returncode}): {proc.stdout.strip()}; "
            "build it with 'make libgen' and set GENBENCH_LIB to its path")
    header = target.with_name(f"{target.stem}.h")
    if header.exists():  # cgo's generated header; capi/genbench.h is the documented one
        header.unlink()
    print(f"genbench: built {target}", file=sys.stderr, flush=True)


def _stale(lib_path: Path) -> bool:
    """Whether a source file of the checkout's engine is newer than lib_path."""
    built = lib_path.stat().st_mtime
    roots = [REPO_ROOT / d for d in ("gocore", "cuda", "libgen", "capi")]
    files = [REPO_ROOT / "go.mod", REPO_ROOT / "go.sum"]
    for root in roots:
        if root.is_dir():
            files += [f for f in root.rglob("*") if f.suffix in (".go", ".cu", ".cuh", ".h", ".c", ".s", ".json")]
    for f in files:
        try:
            if f.stat().st_mtime > built:
                return True
        except OSError:
            continue
    return False


def find_library() -> Path:
    """Returns the path of libgen.so, building it when it is nowhere and Go is available.

    Raises GenbenchError naming the places searched and how to build it.
    """
    env = os.environ.get("GENBENCH_LIB")
    if env:
        p = Path(env)
        if not p.is_file():
            raise GenbenchError(f"GENBENCH_LIB={env} does not exist: expected the path of libgen.so "
                                "(build it with 'make libgen', which writes build/libgen.so)")
        return p
    target = REPO_ROOT / "build" / _LIB_NAME
    can_build = shutil.which("go") is not None and (REPO_ROOT / "go.mod").is_file() and (REPO_ROOT / "libgen").is_dir()
    for p in candidate_paths():
        if p.is_file():
            if p == target and can_build and _stale(p):
                try:
                    _build(target, f"{p} is older than the engine sources")
                except GenbenchError as e:
                    print(f"genbench: {e}; using the existing {p}", file=sys.stderr, flush=True)
            return p
    if can_build:
        _build(target, f"{_LIB_NAME} not found")
        return target
    searched = ", ".join(str(p) for p in candidate_paths())
    raise GenbenchError(
        f"{_LIB_NAME} not found (looked in {searched}) and no Go toolchain on PATH to build it: "
        "install Go and a C compiler and run 'make libgen' in the genbench checkout, "
        "or set GENBENCH_LIB to the path of libgen.so")


def _declare(lib: ctypes.CDLL) -> None:
    for name, (restype, argtypes) in _PROTOTYPES.items():
        try:
            fn = getattr(lib, name)
        except AttributeError:
            raise GenbenchError(f"{lib._name} does not export {name}: rebuild it with 'make libgen'") from None
        fn.restype = restype
        fn.argtypes = argtypes


def lib() -> ctypes.CDLL:
    """The loaded library (loaded and checked on first use)."""
    global _lib
    with _lock:
        if _lib is None:
            path = find_library()
            try:
                loaded = ctypes.CDLL(str(path))
            except OSError as e:
                raise GenbenchError(f"cannot load {path}: {e}") from None
            _declare(loaded)
            got = loaded.genbench_abi_version()
            if got != ABI_VERSION:
                raise GenbenchError(f"{path} implements C interface version {got}, this package needs "
                                    f"{ABI_VERSION}: rebuild it with 'make libgen'")
            _lib = loaded
        return _lib


def last_error(handle: Optional[int]) -> str:
    """The last error message of a handle (None: the global one)."""
    lb = lib()
    n = lb.genbench_last_error(handle, None, 0)
    buf = ctypes.create_string_buffer(n + 1)
    lb.genbench_last_error(handle, buf, n + 1)
    return buf.value.decode("utf-8", "replace")


def status_name(status: int) -> str:
    """genbench_status_string."""
    return lib().genbench_status_string(status).decode()


def check(status: int, handle: Optional[int] = None) -> None:
    """Raises GenbenchError for a non-OK status, with the library's message."""
    if status == OK:
        return
    on_handle = handle is not None and status != ERR_INVALID_HANDLE
    msg = last_error(handle if on_handle else None)
    raise from_status(msg or status_name(status), status, status_name(status))


def take_string(p: ctypes.c_void_p) -> Optional[str]:
    """Reads and frees a library-allocated string (None for NULL)."""
    if not p.value:
        return None
    try:
        return ctypes.string_at(p.value).decode("utf-8", "replace")
    finally:
        lib().genbench_free(p)
        p.value = None
