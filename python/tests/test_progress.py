"""The live progress line: genbench.ProgressPrinter, the engine's live lines
and bench_generation.py's --progress."""

from __future__ import annotations

import io
import os
import pty
import re
import subprocess
import sys
import threading
import time
import unittest
from pathlib import Path
from typing import List

import genbench

REPO = Path(__file__).resolve().parents[2]
DRIVER = REPO / "benchmarks" / "bench_generation.py"

#: Two runs of the tiny model; a live line comes every 0.25 s.
LONG_RUN = {"prompt_tokens": 16, "max_new_tokens": 1500, "warmup": 0, "trials": 2, "no_save": True, "device": "cpu"}

#: The event line that ends the first of the two runs.
FIRST_TRIAL = "  trial 1/2: "

#: How long a progress callback holds the run after its first trial: three
#: live-line intervals, so live lines come whatever the machine's speed (the
#: runs alone may take less than one interval on a fast machine); they show
#: the trial that ended (1500/1500 tok) and are delivered once the callback
#: returns (one callback at a time).
PAUSE = 0.75


def pause_after_first_trial(line: str) -> None:
    """Holds the run between its two trials (see PAUSE)."""
    if line.startswith(FIRST_TRIAL):
        time.sleep(PAUSE)

#: A live line's text: config k/n, the run, tokens done/total, elapsed, ETA.
LIVE_TEXT = re.compile(r"\[1/1\] adhoc · trial [12]/2 · (\d+)/1500 tok · \d+\.\d s · ETA "
                       r"(…|\d+\.\d s config, \d+\.\d s suite)")


#: A live line drawn on a terminal: carriage return, the text, erase to the end.
DRAWN = re.compile(r"\r\[1/1\] adhoc · trial [12]/2 · (\d+)/1500 tok · [^\r\n\x1b]*\x1b\[K")


def assert_erased(t: unittest.TestCase, text: str) -> None:
    """Every live line drawn is redrawn or erased ("\\r\\x1b[K") before anything else
    is printed, and none is left at the end."""
    for m in DRAWN.finditer(text):
        t.assertEqual(text[m.end():m.end() + 1], "\r", repr(text[m.start():m.end() + 80]))
    t.assertTrue(text.endswith("\n") or text.endswith("\r\x1b[K"), repr(text[-200:]))


class FakeTerminal(io.StringIO):
    """A stream that says it is a terminal (of no known size)."""

    def isatty(self) -> bool:
        return True


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class ProgressPrinterTest(unittest.TestCase):
    def test_terminal_redraws_in_place(self) -> None:
        out = FakeTerminal()
        p = genbench.ProgressPrinter(out)
        self.assertTrue(p.show)
        p("[1/1] short: prompt 64, gen 64, greedy")
        p(genbench.LIVE_PREFIX + "[1/1] short · trial 1/1 · 10/64 tok · 0.1 s · ETA …")
        p(genbench.LIVE_PREFIX + "[1/1] short · trial 1/1 · 40/64 tok · 0.4 s · ETA 0.2 s config, 0.2 s suite")
        p("  trial 1/1: 100.0 tok/s")
        p(genbench.LIVE_PREFIX + "x" * 200)  # cut to the width (80 when unknown), minus the last column
        p.close()
        self.assertEqual(out.getvalue(),
                         "[1/1] short: prompt 64, gen 64, greedy\n"
                         "\r[1/1] short · trial 1/1 · 10/64 tok · 0.1 s · ETA …\x1b[K"
                         "\r[1/1] short · trial 1/1 · 40/64 tok · 0.4 s · ETA 0.2 s config, 0.2 s suite\x1b[K"
                         "\r\x1b[K  trial 1/1: 100.0 tok/s\n"
                         "\r" + "x" * 78 + "…\x1b[K"
                         "\r\x1b[K")

    def test_plain_lines_now_and_then(self) -> None:
        out, clock = io.StringIO(), FakeClock()
        p = genbench.ProgressPrinter(out, mode="always", clock=clock)
        for t, n in ((1, 1), (10, 2), (12, 3), (20.5, 4), (25, 5)):
            clock.now = 100 + t
            p(f"{genbench.LIVE_PREFIX}[1/1] short · trial 1/1 · {n}/64 tok")
            if n == 3:
                p("  trial 1/1: 100.0 tok/s")
        p.close()
        self.assertEqual(out.getvalue(), "[1/1] short · trial 1/1 · 2/64 tok\n  trial 1/1: 100.0 tok/s\n"
                                         "[1/1] short · trial 1/1 · 4/64 tok\n")

    def test_modes(self) -> None:
        for stream, mode, quiet, shown in ((io.StringIO(), "auto", False, False), (io.StringIO(), "always", False, True),
                                           (FakeTerminal(), "auto", False, True), (FakeTerminal(), "never", False, False),
                                           (FakeTerminal(), "always", True, False)):
            with self.subTest(tty=stream.isatty(), mode=mode, quiet=quiet):
                p = genbench.ProgressPrinter(stream, mode=mode, quiet=quiet)
                p("[1/1] short: prompt 64, gen 64, greedy")
                p(genbench.LIVE_PREFIX + "[1/1] short · trial 1/1 · 10/64 tok")
                p.close()
                self.assertEqual(p.show, shown)
                self.assertEqual(bool(stream.getvalue()), shown, stream.getvalue())
        stop = [False]
        p = genbench.ProgressPrinter(io.StringIO(), mode="never", stop=lambda: stop[0])
        self.assertFalse(p("x"))
        stop[0] = True
        self.assertTrue(p(genbench.LIVE_PREFIX + "x"))
        with self.assertRaises(ValueError):
            genbench.ProgressPrinter(io.StringIO(), mode="sometimes")


class EngineLiveLinesTest(unittest.TestCase):
    """The engine's live lines during a real run of the tiny model."""

    def test_live_lines_with_token_counts(self) -> None:
        lines: List[str] = []
        out = FakeTerminal()
        printer = genbench.ProgressPrinter(out)

        def progress(line: str) -> bool:
            lines.append(line)
            stop = printer(line)
            pause_after_first_trial(line)
            return stop

        run = genbench.run_bench(LONG_RUN, progress)
        printer.close()
        self.assertTrue(run.report["complete"])
        live = [line for line in lines if line.startswith(genbench.LIVE_PREFIX)]
        counts = []
        for line in live:
            m = LIVE_TEXT.fullmatch(line[len(genbench.LIVE_PREFIX):])
            self.assertIsNotNone(m, line)
            assert m is not None
            counts.append(int(m.group(1)))
        self.assertTrue(any(0 < n <= 1500 for n in counts), lines)
        self.assertIn("[1/1] adhoc: prompt 16, gen 1500, greedy", lines)
        # On the terminal: each live line redrawn in place, erased before
        # the next event line (those drawn in the pause, before the second
        # trial's) and at the end.
        text = out.getvalue()
        self.assertEqual(len(list(DRAWN.finditer(text))), len(live))
        self.assertIn("\r\x1b[K  trial 2/2: ", text)
        assert_erased(self, text)

    def test_never_sends_none(self) -> None:
        lines: List[str] = []
        run = genbench.run_bench({**LONG_RUN, "trials": 1, "progress": "never"}, lambda line: lines.append(line) and False)
        self.assertTrue(run.report["complete"])
        self.assertFalse([line for line in lines if line.startswith(genbench.LIVE_PREFIX)], lines)
        self.assertIn("[1/1] adhoc: prompt 16, gen 1500, greedy", lines)  # the event lines stay


#: Runs bench_generation.py (its path and arguments follow the code) as a
#: script whose progress printer holds the run after the first trial (PAUSE).
DRIVER_HELD = f"""
import runpy, sys, time
sys.path.insert(0, {str(REPO / "python")!r})
import genbench
call = genbench.ProgressPrinter.__call__
def held(self, line):
    stop = call(self, line)
    if line.startswith({FIRST_TRIAL!r}):
        time.sleep({PAUSE!r})
    return stop
genbench.ProgressPrinter.__call__ = held
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
"""


class DriverProgressTest(unittest.TestCase):
    """bench_generation.py on a terminal (a pseudo-terminal as its stderr),
    held between its two runs (DRIVER_HELD) so that live lines come, or would
    come with --progress never, however fast the runs are."""

    def run_on_terminal(self, *flags: str) -> str:
        master, slave = pty.openpty()
        chunks: List[bytes] = []

        def read() -> None:
            while True:
                try:
                    data = os.read(master, 4096)
                except OSError:  # the other end closed
                    return
                if not data:
                    return
                chunks.append(data)

        reader = threading.Thread(target=read)
        reader.start()
        try:
            p = subprocess.run([sys.executable, "-c", DRIVER_HELD, str(DRIVER), "--device", "cpu", "--prompt-tokens", "16",
                                "--max-new-tokens", "1500", "--warmup", "0", "--trials", "2", "--no-save", *flags],
                               cwd=REPO, stdout=subprocess.PIPE, stderr=slave, text=True, timeout=120)
        finally:
            os.close(slave)
            reader.join(timeout=10)
            os.close(master)
        self.assertEqual(p.returncode, 0)
        self.assertIn("adhoc", p.stdout)  # the summary
        return b"".join(chunks).decode("utf-8", "replace")

    def test_live_line_on_terminal(self) -> None:
        err = self.run_on_terminal()
        drawn = [int(m.group(1)) for m in DRAWN.finditer(err)]
        self.assertTrue(any(n > 0 for n in drawn), repr(err))
        self.assertIn("[1/1] adhoc: prompt 16, gen 1500, greedy", err)
        assert_erased(self, err)

    def test_never_on_terminal(self) -> None:
        self.assertEqual(self.run_on_terminal("--progress", "never"), "")


if __name__ == "__main__":
    unittest.main()
