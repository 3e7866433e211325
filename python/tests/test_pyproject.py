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

    def test_requires_python(self) -> None:
        # torch and transformers need 3.10 or newer: a lower bound would fork the lock.
        self.assertEqual(self.doc["project"]["requires-python"], ">=3.10")

    def test_uv_schema(self) -> None:
        """tool.uv as uv's settings reference documents it (docs.astral.sh/uv/reference/settings/):
        known keys only; each [[tool.uv.index]] has a unique name and an http(s) url,
        explicit is a boolean; each [tool.uv.sources] entry is a table or a list of tables
        with exactly one source kind, an optional PEP 508 marker, and an index that exists."""
        uv = self.doc["tool"]["uv"]
        known = {"package", "sources", "index", "dev-dependencies", "default-groups", "managed", "environments",
                 "required-environments", "conflicts", "override-dependencies", "constraint-dependencies",
                 "index-strategy", "python-preference", "python-downloads", "cache-dir", "workspace"}
        self.assertLessEqual(set(uv), known)
        indexes = uv["index"]
        self.assertIsInstance(indexes, list)
        names = [ix["name"] for ix in indexes]
        self.assertEqual(len(names), len(set(names)), "index names must be unique")
        for ix in indexes:
            self.assertLessEqual(set(ix), {"name", "url", "explicit", "default", "format", "authenticate",
                                           "ignore-error-codes", "publish-url"})
            self.assertRegex(ix["name"], r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
            self.assertRegex(ix["url"], r"^https?://")
            self.assertIsInstance(ix.get("explicit", False), bool)
        kinds = {"index", "git", "url", "path", "workspace"}
        marker = re.compile(r"^(sys_platform|platform_system|platform_machine|python_version|os_name|implementation_name)"
                            r"\s*(==|!=|<=|>=|<|>)\s*'[^']*'(\s+(and|or)\s+(sys_platform|platform_system|platform_machine|"
                            r"python_version|os_name|implementation_name)\s*(==|!=|<=|>=|<|>)\s*'[^']*')*$")
        for pkg, entries in uv["sources"].items():
            for entry in entries if isinstance(entries, list) else [entries]:
                with self.subTest(source=pkg):
                    self.assertIsInstance(entry, dict)
                    self.assertEqual(len(kinds & set(entry)), 1, entry)
                    self.assertLessEqual(set(entry) - kinds, {"marker", "extra", "group", "branch", "tag", "rev",
                                                              "subdirectory", "editable"})
                    if "marker" in entry:
                        self.assertRegex(entry["marker"], marker)
                    if "index" in entry:
                        self.assertIn(entry["index"], names)

    def test_torch_from_cuda_128_on_linux(self) -> None:
        uv = self.doc["tool"]["uv"]
        (src,) = uv["sources"]["torch"]
        self.assertEqual(src, {"index": "pytorch-cu128", "marker": "sys_platform == 'linux'"})
        (ix,) = [i for i in uv["index"] if i["name"] == "pytorch-cu128"]
        self.assertEqual(ix["url"], "https://download.pytorch.org/whl/cu128")
        self.assertIs(ix["explicit"], True)  # only torch comes from it

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
