"""The exception raised for every engine error."""

from __future__ import annotations

from typing import Optional


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
