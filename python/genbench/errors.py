"""The exceptions the package raises: GenbenchError and one subclass per
engine status, so callers can catch what they handle::

    try:
        eng = genbench.Engine(model="org/missing")
    except genbench.ModelLoadError as e:
        ...
    except genbench.InvalidArgument as e:   # also a ValueError
        ...
"""

from __future__ import annotations

import re
from typing import Dict, Optional, Type


class GenbenchError(Exception):
    """An error reported by libgen.so (or by loading it).

    ``str(err)`` is the engine's message, which names what was wrong and what
    was expected; ``status`` is the C status code (enum genbench_status) and
    ``status_name`` its description, both None for errors raised before the
    library was loaded.
    """

    def __init__(self, message: str, status: Optional[int] = None, status_name: Optional[str] = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.status_name = status_name

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r})"


class InvalidArgument(GenbenchError, ValueError):
    """A bad value: out of range, unknown name, malformed JSON (also a ValueError)."""


class BadJSON(InvalidArgument):
    """A JSON document the engine could not decode."""


class InvalidHandle(GenbenchError):
    """The engine was closed (or never opened)."""


class ModelLoadError(GenbenchError):
    """The model could not be found, downloaded or loaded."""


class BufferTooSmall(GenbenchError):
    """An internal buffer was too small (retried by the package)."""


class Busy(GenbenchError):
    """The engine is running another call (one call at a time per engine)."""


class Cancelled(GenbenchError):
    """The call was cancelled (a progress or token callback asked to stop)."""


class NoTokenizer(GenbenchError):
    """The model has no tokenizer: pass token ids instead of text."""


class EngineFailure(GenbenchError):
    """Generation or benchmarking failed (e.g. non-finite logits)."""


class InternalError(GenbenchError):
    """A bug in the engine (a recovered panic): please report it."""


class GenbenchTypeError(GenbenchError, TypeError):
    """An argument of the wrong type (also a TypeError)."""


#: The exception class of each C status code (enum genbench_status).
STATUS_ERRORS: Dict[int, Type[GenbenchError]] = {
    1: InvalidArgument,
    2: InvalidHandle,
    3: BadJSON,
    4: ModelLoadError,
    5: BufferTooSmall,
    6: Busy,
    7: Cancelled,
    8: NoTokenizer,
    9: EngineFailure,
    10: InternalError,
}

_C_PREFIX = re.compile(r"^genbench_[a-z_]+: ")


def from_status(message: str, status: int, status_name: Optional[str] = None) -> GenbenchError:
    """The exception for a C status code, its message without the C function's name."""
    cls = STATUS_ERRORS.get(status, GenbenchError)
    return cls(_C_PREFIX.sub("", message), status=status, status_name=status_name)
