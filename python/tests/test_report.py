"""bench() with keyword arguments and the Report / ConfigResult / Figure it returns,
against the embedded tiny model; the references are the flag table
(flag_specs) and the raw JSON report the engine wrote."""

from __future__ import annotations

import contextlib
import dataclasses
import io
import os
import tempfile
import unittest
from typing import Any, Dict

import genbench

FIGURES = ("e2e_tok_s", "ttft_ms", "prefill_tok_s", "decode_tok_s", "peak_mem_bytes")
FAST = {"warmup": 0, "trials": 2, "no_save": True}


class KeywordBenchTest(unittest.TestCase):
    report: genbench.Report

    @classmethod
    def setUpClass(cls) -> None:
        cls.report = genbench.bench(suite="quick", seed=7, **FAST)

    def test_keywords_reach_the_run(self) -> None:
        r = self.report
        self.assertIsInstance(r, genbench.Report)
        flags = r.raw["flags"]
        for name, value in dict(suite="quick", seed=7, **FAST).items():
            self.assertEqual(flags[name], value, name)
        self.assertEqual(r.keys(), ("short", "medium"))
        for cfg in r:
            self.assertEqual((cfg.warmup, cfg.trials), (0, 2))
            self.assertEqual(len(cfg.e2e_tok_s.trials), 2)

    def test_adhoc_keywords(self) -> None:
        r = genbench.bench(prompt_tokens=8, max_new_tokens=5, temperature=0.7, top_k=5, top_p=0.8,
                           repetition_penalty=1.1, threads=1, device="cpu", random_weights=False, **FAST)
        self.assertEqual(len(r), 1)
        cfg = r.configs[0]
        self.assertEqual((cfg.prompt_tokens, cfg.gen_tokens), (8, 5))
        self.assertEqual(cfg.sampling["top_k"], 5)
        self.assertAlmostEqual(cfg.sampling["temperature"], 0.7, places=6)
        self.assertEqual(r.raw["flags"]["threads"], 1)
        self.assertTrue(r.device.startswith("cpu"), r.device)

    def test_defaults_are_the_flag_tables(self) -> None:
        r = genbench.bench(configs="short", **FAST)  # one str is one key
        self.assertEqual(r.keys(), ("short",))
        flags = r.raw["flags"]
        for spec in genbench.flag_specs():
            if spec["field"] in FAST or spec["field"] == "configs":
                continue
            self.assertEqual(flags[spec["field"]], spec["default"], spec["field"])

    def test_fields_equal_the_raw_report(self) -> None:
        r, raw = self.report, self.report.raw
        self.assertEqual(r.model, raw["model"]["id"])
        self.assertEqual(r.model, "tiny-llama")
        dev = raw["environment"]["device"]
        self.assertEqual(r.device, f"{dev['kind']} ({dev['name']})")
        for name in ("suite", "complete", "created_at", "engine", "engine_version", "dtype"):
            self.assertEqual(getattr(r, name), raw[name], name)
        self.assertEqual(list(r.planned_configs), raw["planned_configs"])
        self.assertEqual(len(r.configs), len(raw["configs"]))
        for cfg, d in zip(r.configs, raw["configs"]):
            self.assertIs(cfg.raw, d)
            for name in ("key", "prompt_tokens", "gen_tokens", "sampling_label", "warmup", "trials",
                         "identical_tokens", "prompt_sha256", "tokens_sha256", "eos_generated", "decode_read_bytes"):
                self.assertEqual(getattr(cfg, name), d[name], name)
            self.assertEqual(cfg.sampling, d["sampling"])
            for name in FIGURES + ("decode_read_gb_s",):
                fig = getattr(cfg, name)
                for f in ("median", "min", "max", "mean", "stddev", "cv"):
                    self.assertEqual(getattr(fig, f), d[name][f], f"{cfg.key}.{name}.{f}")
                self.assertEqual(list(fig.trials), d[name]["trials"])
            assert cfg.itl_ms is not None
            for f in ("count", "mean", "p50", "p90", "p99", "max"):
                self.assertEqual(getattr(cfg.itl_ms, f), d["itl_ms"][f], f)

    def test_accessors(self) -> None:
        r = self.report
        self.assertIs(r["medium"], r.config("medium"))
        self.assertEqual(r["medium"].key, "medium")
        self.assertEqual(float(r["medium"].e2e_tok_s), r.raw["configs"][1]["e2e_tok_s"]["median"])
        self.assertIn("short", r)
        self.assertNotIn("long", r)
        with self.assertRaises(KeyError) as cm:
            r["long"]
        self.assertIn("short, medium", str(cm.exception))

    def test_frozen(self) -> None:
        with self.assertRaises(dataclasses.FrozenInstanceError):
            self.report.model = "x"  # type: ignore[misc]
        with self.assertRaises(dataclasses.FrozenInstanceError):
            self.report["short"].e2e_tok_s.median = 1.0  # type: ignore[misc]

    def test_repr_is_readable(self) -> None:
        text = repr(self.report)
        self.assertTrue(text.startswith("Report(model='tiny-llama', device='cpu"), text)
        for cfg in self.report.raw["configs"]:
            self.assertIn(f"'{cfg['key']}': {cfg['e2e_tok_s']['median']:.6g}", text)
        self.assertNotIn("raw", text)
        self.assertLess(len(text), 200)
        med = self.report["medium"]
        text = repr(med)
        self.assertIn("key='medium'", text)
        self.assertIn(f"e2e_tok_s={med.raw['e2e_tok_s']['median']:.6g}", text)
        self.assertIn("median=", repr(med.e2e_tok_s))


class KeywordErrorsTest(unittest.TestCase):
    def test_unknown_keyword(self) -> None:
        with self.assertRaises(TypeError) as cm:
            genbench.bench(suite="quick", trails=3)
        self.assertIsInstance(cm.exception, genbench.GenbenchTypeError)
        self.assertIn("'trails'", str(cm.exception))
        self.assertIn("did you mean 'trials'", str(cm.exception))
        with self.assertRaises(genbench.GenbenchTypeError) as cm:
            genbench.bench(qqqzzz=1)
        self.assertIn("'qqqzzz'", str(cm.exception))
        self.assertIn("prompt_tokens", str(cm.exception))

    def test_wrong_types(self) -> None:
        cases: Dict[str, Any] = {"trials": "3", "warmup": True, "temperature": "0.5", "no_save": 1, "suite": 3,
                                 "configs": ["short", 2], "seed": 1.5}
        for name, value in cases.items():
            with self.subTest(name=name):
                with self.assertRaises(genbench.GenbenchTypeError) as cm:
                    genbench.bench(**{name: value})
                self.assertIsInstance(cm.exception, TypeError)
                self.assertIn(f"'{name}'", str(cm.exception))

    def test_values_are_checked_by_the_engine(self) -> None:
        with self.assertRaises(genbench.InvalidArgument) as cm:
            genbench.bench(warmup=-1, no_save=True)
        self.assertIn("--warmup", str(cm.exception))
        with self.assertRaises(genbench.InvalidArgument) as cm:
            genbench.bench(configs=["short", "gigantic"], no_save=True)
        self.assertIn("gigantic", str(cm.exception))

    def test_dict_and_keywords_together(self) -> None:
        with self.assertRaises(genbench.GenbenchTypeError):
            genbench.bench({"suite": "quick"}, trials=1)


class CompatibilityTest(unittest.TestCase):
    def test_config_dict_still_returns_the_dict(self) -> None:
        raw = genbench.bench({"configs": ["short"], "warmup": 0, "trials": 1, "no_save": True})
        self.assertIsInstance(raw, dict)
        self.assertEqual(genbench.Report.from_dict(raw).keys(), ("short",))

    def test_progress_callback_and_progress_flag(self) -> None:
        lines = []
        r = genbench.bench(progress=lambda line: lines.append(line), configs=["short"], **FAST)
        self.assertTrue(lines)
        self.assertEqual(r.keys(), ("short",))
        r = genbench.bench(progress="never", configs=["short"], **FAST)
        self.assertEqual(r.raw["flags"]["progress"], "never")

    def test_progress_mode_prints_as_the_command_does(self) -> None:
        # A mode string shows what genbench --progress MODE shows, on
        # stderr: "always" also off a terminal (plain lines, no control
        # characters), "never" and "auto" off a terminal nothing.
        for mode, shown in (("always", True), ("never", False), ("auto", False)):
            err = io.StringIO()
            with contextlib.redirect_stderr(err):
                r = genbench.bench(progress=mode, configs=["short"], **FAST)
            self.assertEqual(r.raw["flags"]["progress"], mode)
            text = err.getvalue()
            if shown:
                self.assertIn("[1/1] short", text)
                self.assertIn("trial 2/2", text)
                self.assertNotIn("\r", text)
                self.assertNotIn("\x1b", text)
            else:
                self.assertEqual(text, "", mode)
        with genbench.Engine(threads=1) as eng:
            err = io.StringIO()
            with contextlib.redirect_stderr(err):
                eng.bench(progress="always", configs=["short"], **FAST)
            self.assertIn("[1/1] short", err.getvalue())
        with self.assertRaises(genbench.InvalidArgument) as cm:
            genbench.bench(progress="sometimes", configs=["short"], **FAST)
        self.assertIn("always", str(cm.exception))

    def test_engine_bench_keywords(self) -> None:
        with genbench.Engine(threads=1) as eng:
            r = eng.bench(configs=["short"], **FAST)
            self.assertIsInstance(r, genbench.Report)
            self.assertEqual(r.model, eng.info["model"]["id"])
            self.assertIsInstance(eng.bench({"configs": ["short"], **FAST}), dict)
            with self.assertRaises(genbench.GenbenchTypeError):
                eng.bench(trails=1)

    def test_saved_report_loads_back(self) -> None:
        with tempfile.TemporaryDirectory() as d:
            r = genbench.bench(configs=["short"], warmup=0, trials=1, output_dir=d)
            self.assertTrue(r.report_path.startswith(d) and os.path.isfile(r.report_path), r.report_path)
            self.assertIn("short", r.summary)
            loaded = genbench.Report.load(r.report_path)
            self.assertEqual(loaded, r)
            self.assertEqual(loaded.raw, r.raw)


if __name__ == "__main__":
    unittest.main()
