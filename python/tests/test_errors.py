"""The exception hierarchy: a class per engine status, Python's own bases
where they apply, no C function names in messages."""

from __future__ import annotations

import unittest
from pathlib import Path

import genbench
from genbench import _native, errors


class ErrorsTest(unittest.TestCase):
    def test_hierarchy(self) -> None:
        self.assertTrue(issubclass(genbench.InvalidArgument, ValueError))
        self.assertTrue(issubclass(genbench.InvalidArgument, genbench.GenbenchError))
        self.assertTrue(issubclass(genbench.BadJSON, genbench.InvalidArgument))
        self.assertTrue(issubclass(genbench.GenbenchTypeError, TypeError))
        # Every status of the C header has its class.
        codes = {v for k, v in vars(_native).items() if k.startswith("ERR_")}
        self.assertEqual(set(errors.STATUS_ERRORS), codes)

    def test_from_status_strips_the_c_name(self) -> None:
        e = errors.from_status('genbench_bench: --trials: 0: expected at least 1 timed trial', _native.ERR_INVALID_ARGUMENT)
        self.assertIsInstance(e, genbench.InvalidArgument)
        self.assertEqual(str(e), "--trials: 0: expected at least 1 timed trial")
        self.assertEqual(repr(e), "InvalidArgument('--trials: 0: expected at least 1 timed trial')")

    def test_engine_errors(self) -> None:
        with self.assertRaises(ValueError) as cm:  # InvalidArgument is a ValueError
            genbench.bench({"trials": 0, "no_save": True})
        self.assertIsInstance(cm.exception, genbench.InvalidArgument)
        self.assertNotIn("genbench_", str(cm.exception))
        with self.assertRaises(genbench.ModelLoadError) as cm2:
            genbench.Engine(model="/nonexistent/model")
        self.assertNotIn("genbench_", str(cm2.exception))
        with self.assertRaises(TypeError):
            genbench.bench(["suite", "quick"])  # type: ignore[arg-type]
        with genbench.Engine() as eng:
            with self.assertRaises(TypeError):
                eng.generate(42)  # type: ignore[arg-type]

    def test_version_and_typed(self) -> None:
        self.assertRegex(genbench.__version__, r"^\d+\.\d+\.\d+$")
        self.assertEqual(genbench.__version__, genbench.version())
        self.assertTrue((Path(genbench.__file__).parent / "py.typed").is_file())


if __name__ == "__main__":
    unittest.main()
