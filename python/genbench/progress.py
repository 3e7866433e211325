"""Showing a benchmark's progress lines as the genbench command does."""

from __future__ import annotations

import os
import time
from typing import Callable, Optional, TextIO

#: The start of a live progress line (GENBENCH_PROGRESS_LIVE_PREFIX in
#: genbench.h): while a config runs, the engine sends one every 0.25 s with
#: config k/n, the run, tokens done/total, elapsed time and the ETA of the
#: config and the suite; each replaces the one before. Other lines are
#: events (loading, a config's start, a warm-up or trial done).
LIVE_PREFIX = "live: "

#: Progress modes (the --progress flag).
PROGRESS_MODES = ("auto", "always", "never")

#: Seconds between two live lines printed as plain lines (not a terminal).
PLAIN_INTERVAL = 10.0


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError, OSError):
        return False


def _columns(stream: TextIO) -> int:
    """The terminal's width (80 when it cannot tell)."""
    try:
        columns = os.get_terminal_size(stream.fileno()).columns
    except (AttributeError, ValueError, OSError):
        return 80
    return columns if columns > 0 else 80


class ProgressPrinter:
    """A progress function (for bench(), run_bench(), Engine.bench...) that
    shows the lines on stream, with the genbench command's --progress modes:

    - auto: on a terminal only; always: also elsewhere (plain lines for
      logs); never (or quiet): nothing.
    - On a terminal the live line is redrawn in place ("\\r", erase to the
      end of the line), cut to the terminal's width; event lines are
      printed above it. Elsewhere a live line is printed as a plain line
      every plain_interval seconds, with no control characters.

    Call close() at the end to erase the live line. It returns stop() from
    each call (False when not given): True asks the engine to stop the run.
    """

    def __init__(self, stream: TextIO, mode: str = "auto", quiet: bool = False,
                 stop: Optional[Callable[[], bool]] = None, plain_interval: float = PLAIN_INTERVAL,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if mode not in PROGRESS_MODES:
            raise ValueError(f"progress mode {mode!r}: expected one of {', '.join(PROGRESS_MODES)}")
        self.stream = stream
        self.tty = _isatty(stream)
        self.show = not quiet and (mode == "always" or (mode == "auto" and self.tty))
        self._stop = stop
        self._interval = plain_interval
        self._clock = clock
        self._last_plain = clock()
        self._drawn = False

    def __call__(self, line: str) -> bool:
        if self.show:
            if line.startswith(LIVE_PREFIX):
                self._live(line[len(LIVE_PREFIX):])
            else:
                self._erase()
                self.stream.write(line + "\n")
                self.stream.flush()
        return self._stop() if self._stop is not None else False

    def _live(self, text: str) -> None:
        if self.tty:
            width = _columns(self.stream) - 1  # the last column would wrap on some terminals
            if len(text) > width:
                text = text[:max(width - 1, 0)] + "…"
            self.stream.write("\r" + text + "\x1b[K")
            self.stream.flush()
            self._drawn = True
            return
        now = self._clock()
        if now - self._last_plain >= self._interval:
            self._last_plain = now
            self.stream.write(text + "\n")
            self.stream.flush()

    def _erase(self) -> None:
        if self._drawn:
            self.stream.write("\r\x1b[K")
            self._drawn = False

    def close(self) -> None:
        """Erases the live line (on a terminal)."""
        if self._drawn:
            self._erase()
            self.stream.flush()
