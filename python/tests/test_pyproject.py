"""pyproject.toml lets `uv run python benchmarks/bench_generation.py` work without a build backend."""

from __future__ import annotations

import ast
import re
import unittest
from pathlib import Path

try:
    import tomllib
except ImportError:  # Python < 3.11
    tomllib = None  # type: ignore[assignment]

REPO = Path(__file__).resolve().parents[2]


@unittest.skipIf(tomllib is None, "reading pyproject.toml needs tomllib (Python >= 3.11)")
class PyprojectTest(unittest.TestCase):
    def setUp(self) -> None:
        assert tomllib is not None
        with open(REPO / "pyproject.toml", "rb") as f:
            self.doc = tomllib.load(f)

    def test_project(self) -> None:
        project = self.doc["project"]
        self.assertEqual(project["name"], "genbench")
        self.assertRegex(project["version"], r"^\d+\.\d+\.\d+$")
        # The default path needs nothing from a package index.
        self.assertEqual(project["dependencies"], [])
        self.assertTrue(project["requires-python"].startswith(">="))

    def test_hf_extra(self) -> None:
        extra = self.doc["project"]["optional-dependencies"]["hf"]
        names = {re.split(r"[<>=!~ \\[]", req, maxsplit=1)[0] for req in extra}
        self.assertEqual(names, {"torch", "transformers"})
        # from_pretrained(..., dtype=...) needs transformers >= 4.56 (older ones get torch_dtype).
        self.assertTrue(any(req.startswith("transformers>=4.") for req in extra), extra)

    def test_no_build_backend(self) -> None:
        # uv must not build or install the project: no backend download.
        self.assertIs(self.doc["tool"]["uv"]["package"], False)
        self.assertNotIn("build-system", self.doc)

    def test_requires_python_covers_the_code(self) -> None:
        """The minimum version parses every module of the package and the driver."""
        m = re.match(r"^>=\s*3\.(\d+)$", self.doc["project"]["requires-python"])
        self.assertIsNotNone(m, self.doc["project"]["requires-python"])
        minor = int(m.group(1)) if m else 0
        files = sorted((REPO / "python" / "genbench").glob("*.py")) + [REPO / "benchmarks" / "bench_generation.py"]
        for path in files:
            with self.subTest(file=path.name):
                ast.parse(path.read_text(), filename=str(path), feature_version=(3, minor))


if __name__ == "__main__":
    unittest.main()
