"""benchmarks/bench_generation.py against the genbench command."""

from __future__ import annotations

import argparse
import copy
import csv
import io
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path
from types import ModuleType
from typing import Any, Dict, List, Optional

import genbench
from genbench import _native

REPO = Path(__file__).resolve().parents[2]
DRIVER = REPO / "benchmarks" / "bench_generation.py"

# Per-config figures: the only values that may differ between two runs of
# the same command (with the report's time stamp and the driver name).
FIGURES = ("e2e_tok_s", "ttft_ms", "prefill_tok_s", "decode_tok_s", "peak_mem_bytes", "itl_ms", "decode_read_gb_s", "decode_read_pct")


def load_driver() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_generation", DRIVER)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


_binary: Optional[Path] = None
_tmp = tempfile.TemporaryDirectory(prefix="genbench-test-")


def genbench_binary() -> Path:
    """The genbench command: GENBENCH_BIN, build/genbench, or built here with go build."""
    global _binary
    if _binary is not None:
        return _binary
    env = os.environ.get("GENBENCH_BIN")
    if env:
        _binary = Path(env)
        return _binary
    built = REPO / "build" / "genbench"
    if built.is_file():
        _binary = built
        return _binary
    go = shutil.which("go")
    if go is None:
        raise AssertionError("no genbench binary (set GENBENCH_BIN or run make genbench) and no Go toolchain to build it")
    out = Path(_tmp.name) / "genbench"
    print(f"building {out} with go build ...", file=sys.stderr, flush=True)
    subprocess.run([go, "build", "-trimpath", "-o", str(out), "./benchmarks/genbench"], cwd=REPO, check=True,
                   env=dict(os.environ, CGO_ENABLED="0"))
    _binary = out
    return _binary


def library_under_test() -> str:
    """The libgen.so these tests load."""
    return genbench.library_path()


def run_driver(args: List[str], env: Optional[Dict[str, str]] = None, cwd: Optional[Path] = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(DRIVER)] + args, cwd=cwd or REPO, env=env or dict(os.environ),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=120)


def strip_timings(report: Dict[str, Any]) -> Dict[str, Any]:
    """The report without what legitimately differs between two runs of
    the same configuration: figures, time stamp, driver name and whether the
    device bandwidth was measured or read from its cache."""
    r = copy.deepcopy(report)
    r.pop("created_at")
    r["environment"].get("device_bandwidth", {}).pop("cached", None)
    r.pop("driver")
    r["flags"].pop("driver")
    for c in r["configs"]:
        for f in FIGURES:
            c.pop(f, None)
    return r


class FlagParityTest(unittest.TestCase):
    """Both drivers take the same flags with the same types and defaults."""

    def test_argparse_matches_flag_specs(self) -> None:
        parser = load_driver().build_parser()
        specs = {s["name"]: s for s in genbench.flag_specs()}
        seen = set()
        for action in parser._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            longs = [o for o in action.option_strings if o.startswith("--")]
            self.assertEqual(len(longs), 1, action.option_strings)
            name = longs[0][2:]
            seen.add(name)
            with self.subTest(flag=name):
                self.assertIn(name, specs, f"--{name} is not a genbench flag")
                spec = specs[name]
                self.assertEqual(action.dest, spec["field"])
                if isinstance(action, argparse._StoreTrueAction):
                    kind = "bool"
                elif isinstance(action, argparse._ExtendAction):
                    kind = "strings"
                else:
                    kind = {int: "int", float: "float", str: "string"}.get(action.type, repr(action.type))  # type: ignore[arg-type]
                self.assertEqual(kind, spec["type"])
                self.assertEqual(action.default, spec["default"])
                self.assertIs(type(action.default), {"bool": bool, "int": int, "float": float, "string": str,
                                                     "strings": list}[spec["type"]])
                self.assertTrue(action.help)
        self.assertEqual(seen, set(specs), "flags only one driver has")

    def test_parsed_defaults_are_the_engine_defaults(self) -> None:
        """With no flags, the driver's namespace equals the flag table's defaults."""
        args = vars(load_driver().build_parser().parse_args([]))
        self.assertEqual(args, {s["field"]: s["default"] for s in genbench.flag_specs()})

    def test_genbench_binary_has_the_same_flags(self) -> None:
        out = subprocess.run([str(genbench_binary()), "bench", "--help"], stdout=subprocess.PIPE, text=True,
                             timeout=60, check=True).stdout
        binary_flags = set(re.findall(r"^\s+(?:-\w, )?--([a-z][a-z0-9-]*)", out, re.MULTILINE))
        binary_flags.discard("help")
        driver_flags = {o[2:] for a in load_driver().build_parser()._actions for o in a.option_strings
                        if o.startswith("--") and o != "--help"}
        self.assertEqual(driver_flags, binary_flags)

    def test_lists_and_config(self) -> None:
        drv = load_driver()
        cfg, _ = drv.parse_config(["--configs", "short,medium", "--configs", "decode", "--seed", "3", "--no-save"])
        self.assertEqual(cfg, {"configs": ["short", "medium", "decode"], "seed": 3, "no_save": True,
                               "driver": "bench_generation.py"})


class SameCommandTest(unittest.TestCase):
    """The same command through both drivers gives the same report."""

    def test_reports_match(self) -> None:
        args = ["--configs", "short,sampled", "--model", "tiny-qwen3", "--device", "cpu", "--warmup", "0",
                "--trials", "2", "--seed", "7", "--no-save", "--json", "--quiet"]
        go = subprocess.run([str(genbench_binary()), "bench"] + args, cwd=REPO, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, timeout=120)
        self.assertEqual(go.returncode, 0, go.stderr)
        py = run_driver(args)
        self.assertEqual(py.returncode, 0, py.stderr)
        self.assertEqual(py.stderr, "")
        a, b = json.loads(go.stdout), json.loads(py.stdout)
        self.assertEqual(a["driver"], "genbench")
        self.assertEqual(b["driver"], "bench_generation.py")
        genbench.validate_report(b)
        self.assertEqual(set(a), set(b))
        self.assertEqual(strip_timings(a), strip_timings(b))
        for ra, rb in zip(a["configs"], b["configs"]):
            for f in FIGURES:
                self.assertEqual(set(ra[f]), set(rb[f]), f)
                if f == "itl_ms":  # every decode interval of both trials
                    self.assertEqual(rb[f]["count"], 2 * (rb["gen_tokens"] - 1))
                else:
                    self.assertEqual(len(rb[f]["trials"]), 2)

    def test_adhoc_run_and_usage_errors_match(self) -> None:
        for args in (["--suite", "quick", "--temperature", "0.5"], ["--trials", "0"], ["--device", "tpu"],
                     ["--bogus-flag"], ["--trials", "three"]):
            with self.subTest(args=args):
                go = subprocess.run([str(genbench_binary()), "bench"] + args, cwd=REPO, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, text=True, timeout=60)
                py = run_driver(args)
                self.assertEqual(go.returncode, 2, go.stderr)
                self.assertEqual(py.returncode, 2, py.stderr)
                self.assertTrue(py.stderr.strip(), "no error message")
                self.assertEqual(py.stdout, "")


class SameErrorTextTest(unittest.TestCase):
    """An invalid value gets the same error text from the genbench command,
    the Python driver and the C ABI, each naming it in its own vocabulary
    (--top-p on a command line, top_p in the C ABI)."""

    @staticmethod
    def after(name: str, message: str) -> str:
        """The text after "<name>: " on the message's line naming it."""
        for line in message.splitlines():
            head, sep, tail = line.partition(name + ": ")
            if sep and (not head or head.endswith(" ")):
                return tail.strip()
        raise AssertionError(f"{name!r} not named in {message!r}")

    def c_abi(self, fn: Any) -> str:
        with self.assertRaises(genbench.GenbenchError) as cm:
            fn()
        self.assertEqual(cm.exception.status, _native.ERR_INVALID_ARGUMENT)
        return str(cm.exception)

    def test_same_text_everywhere(self) -> None:
        # (field, value on a command line, the same value in Python, the text after the name)
        sampling = [("top_p", "0", 0.0, "0 is out of range: expected a value in (0, 1] (1 = disabled), at least 1.4e-45"),
                    ("top_p", "1.5", 1.5, "1.5 is out of range: expected a value in (0, 1] (1 = disabled), at least 1.4e-45"),
                    ("temperature", "-1", -1.0, "-1: expected a finite value >= 0 (0 = greedy), at most 3.403e+38"),
                    ("top_k", "-3", -3, "-3 is negative: expected 0 (disabled) or a positive count"),
                    ("repetition_penalty", "0", 0.0, "0: expected a finite value from 1.4e-45 to 3.403e+38 (1 = disabled)")]
        load = [("device", "tpu", "tpu", 'unknown device "tpu": expected auto, cpu, cuda or cuda:N (N = GPU index)'),
                ("dtype", "float16", "float16", 'unsupported dtype "float16": expected bfloat16'),
                ("threads", "-2", -2, "-2 is negative: expected 0 (all cores) or a positive count")]
        with genbench.Engine("tiny-llama", device="cpu", threads=1) as eng:
            for field, arg, value, want in sampling + load:
                flag = "--" + field.replace("_", "-")
                with self.subTest(field=field, value=arg):
                    got = {}
                    for name, cmd in (("genbench bench", ["bench", flag, arg, "--no-save"]),
                                      ("genbench generate", ["generate", "--prompt", "hi", flag, arg])):
                        r = subprocess.run([str(genbench_binary())] + cmd, cwd=REPO, stdout=subprocess.PIPE,
                                           stderr=subprocess.PIPE, text=True, timeout=60)
                        self.assertEqual(r.returncode, 2, r.stderr)
                        got[name] = self.after(flag, r.stderr)
                    r = run_driver([flag, arg, "--no-save"])
                    self.assertEqual(r.returncode, 2, r.stderr)
                    got["bench_generation.py"] = self.after(flag, r.stderr)
                    got["genbench_bench"] = self.after(flag, self.c_abi(lambda: genbench.run_bench({field: value})))
                    if (field, arg, value, want) in sampling:
                        got["genbench_generate"] = self.after(field, self.c_abi(
                            lambda: eng.generate("hi", max_new_tokens=2, **{field: value})))
                    else:
                        got["genbench_open"] = self.after(field, self.c_abi(lambda: genbench.Engine(**{field: value})))
                    self.assertEqual(got, {k: want for k in got})


class DriverTest(unittest.TestCase):
    def test_quick_suite_prints_summary_and_saves(self) -> None:
        with tempfile.TemporaryDirectory() as out:
            p = run_driver(["--suite", "quick", "--warmup", "0", "--trials", "1", "--output-dir", out])
            self.assertEqual(p.returncode, 0, p.stderr)
            saved = list(Path(out).glob("*.json"))
            self.assertEqual(len(saved), 1)
            self.assertIn(f"Report saved to {saved[0]}", p.stdout)
            report = json.loads(saved[0].read_text())
            genbench.validate_report(report)
            self.assertEqual(report["driver"], "bench_generation.py")
            self.assertEqual(report["suite"], "quick")
            self.assertEqual([c["key"] for c in report["configs"]], ["short", "medium"])
            # The summary on stdout is the engine's rendering of that report.
            self.assertTrue(p.stdout.startswith(genbench.render_summary(report)))
            self.assertIn("short", p.stdout)
            self.assertIn("medium", p.stdout)

    def test_default_report_dir(self) -> None:
        """Without --output-dir the report lands in benchmarks/reports of the checkout."""
        with tempfile.TemporaryDirectory() as tmp:
            # A checkout of the module: go.mod naming it, the report folder made on demand.
            (Path(tmp) / "go.mod").write_text("module github.com/genbench/genbench\n\ngo 1.26\n")
            sub = Path(tmp) / "some" / "dir"
            sub.mkdir(parents=True)
            p = run_driver(["--configs", "short", "--warmup", "0", "--trials", "1"], cwd=sub)
            self.assertEqual(p.returncode, 0, p.stderr)
            saved = list((Path(tmp) / "benchmarks" / "reports").glob("*.json"))
            self.assertEqual(len(saved), 1, p.stdout)
            self.assertIn("tiny-llama_custom", saved[0].name)

    def test_json_output(self) -> None:
        p = run_driver(["--configs", "short", "--warmup", "0", "--trials", "1", "--no-save", "--json"])
        self.assertEqual(p.returncode, 0, p.stderr)
        report = json.loads(p.stdout)
        self.assertEqual(report["configs"][0]["key"], "short")
        self.assertIn("short", p.stderr)  # the summary goes to stderr

    def test_engine_hf_without_torch(self) -> None:
        """--engine hf is a clear error when torch/transformers cannot be imported."""
        with tempfile.TemporaryDirectory() as stub:
            # A torch that fails to import, whatever is installed.
            Path(stub, "torch.py").write_text("raise ImportError('No module named torch (stubbed by the test)')\n")
            env = dict(os.environ, PYTHONPATH=stub + os.pathsep + os.environ.get("PYTHONPATH", ""))
            for args in (["--engine", "hf"], ["--engine", "hf", "--suite", "quick", "--model", "tiny-llama"]):
                with self.subTest(args=args):
                    p = run_driver(args, env=env)
                    self.assertNotEqual(p.returncode, 0)
                    self.assertEqual(p.stdout, "")
                    self.assertIn("--engine hf needs PyTorch and Hugging Face transformers", p.stderr)
                    self.assertIn("stubbed by the test", p.stderr)
                    self.assertIn("--extra hf", p.stderr)
                    self.assertEqual(len(p.stderr.strip().splitlines()), 1, p.stderr)

    def test_unknown_model(self) -> None:
        env = dict(os.environ, HF_HUB_OFFLINE="1")
        p = run_driver(["--model", "no-such-org/no-such-model", "--no-save"], env=env)
        self.assertEqual(p.returncode, 1)
        self.assertEqual(p.stdout, "")
        self.assertIn("no-such-org/no-such-model", p.stderr)
        self.assertEqual(len(p.stderr.strip().splitlines()), 1, p.stderr)

    def test_interrupt_keeps_the_partial_report(self) -> None:
        """A KeyboardInterrupt in a progress callback stops the run; the finished configs are saved."""
        with tempfile.TemporaryDirectory() as out:
            calls = []

            def progress(line: str) -> bool:
                calls.append(line)
                if line.startswith("[2/2]"):
                    raise KeyboardInterrupt
                return False

            with self.assertRaises(KeyboardInterrupt) as cm:
                genbench.run_bench({"suite": "quick", "warmup": 0, "trials": 1, "device": "cpu", "output_dir": out},
                                   progress)
            partial = cm.exception.partial  # type: ignore[attr-defined]
            self.assertFalse(partial.report["complete"])
            self.assertEqual([c["key"] for c in partial.report["configs"]], ["short"])
            self.assertIn("cancel", partial.report["error"])
            self.assertEqual([str(p) for p in Path(out).glob("*.json")], [partial.report_path])

    def test_signals_keep_the_partial_report(self) -> None:
        """SIGINT, SIGTERM and SIGHUP stop a suite as in the genbench command: the finished
        configs are saved and printed, the exit status is 128 + the signal, no traceback.

        The signal goes when stderr (--progress always) says the first config finished,
        not after a fixed time, which could land before the driver is ready on a loaded
        machine or after the whole suite on a fast one; the six configs left run ten
        trials each (seconds anywhere), so it lands mid-suite with one config done."""
        import signal
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            with self.subTest(sig=sig.name), tempfile.TemporaryDirectory() as out:
                p = subprocess.Popen([sys.executable, str(DRIVER), "--device", "cpu", "--suite", "full",
                                      "--warmup", "0", "--trials", "10", "--progress", "always",
                                      "--output-dir", out], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True)
                assert p.stderr is not None
                head = []
                for line in p.stderr:
                    head.append(line)
                    if line.startswith("  short: median "):
                        break
                else:
                    p.wait(timeout=60)
                    self.fail(f"the driver ended before its first config finished: {''.join(head)!r}")
                p.send_signal(sig)
                stdout, rest = p.communicate(timeout=60)
                stderr = "".join(head) + rest
                self.assertEqual(p.returncode, 128 + sig, stderr)
                self.assertNotIn("Traceback", stderr)
                self.assertNotIn("Exception ignored", stderr)
                self.assertIn("INCOMPLETE", stdout)
                reports = list(Path(out).glob("*.json"))
                self.assertEqual(len(reports), 1, stderr)
                report = json.loads(reports[0].read_text())
                self.assertFalse(report["complete"])
                self.assertEqual([c["key"] for c in report["configs"]], ["short"], stderr)

    def test_engine_hf_with_stub_torch(self) -> None:
        """The hf path's wiring, with stand-ins for torch and transformers (tests/stub_hf)."""
        with tempfile.TemporaryDirectory() as tmp:
            log = Path(tmp) / "hf.log"
            env = dict(os.environ, PYTHONPATH=str(Path(__file__).parent / "stub_hf"), STUB_HF_LOG=str(log))
            p = run_driver(["--engine", "hf", "--configs", "short,sampled", "--warmup", "1", "--trials", "2",
                            "--device", "cpu", "--seed", "11", "--json", "--no-save"], env=env)
            self.assertEqual(p.returncode, 0, p.stderr)
            report = json.loads(p.stdout)
            genbench.validate_report(report)
            self.assertEqual((report["engine"], report["engine_version"], report["driver"]),
                             ("hf", "4.57.0-stub", "bench_generation.py"))
            self.assertEqual(report["environment"]["torch_version"], "0.0-stub")
            self.assertEqual(report["environment"]["transformers_version"], "4.57.0-stub")
            self.assertEqual(report["environment"]["device"]["kind"], "cpu")
            self.assertEqual([c["key"] for c in report["configs"]], ["short", "sampled"])
            self.assertTrue(all(c["identical_tokens"] for c in report["configs"]))
            calls = [json.loads(line) for line in log.read_text().splitlines()]
            self.assertEqual(len(calls), 6)  # (1 warm-up + 2 trials) x 2 configs
            with genbench.Engine(device="cpu") as eng:
                self.assertEqual(calls[0]["prompt"], eng.prompt_ids(64, 11))
                self.assertEqual(calls[3]["prompt"], eng.prompt_ids(256, 11))
            for call in calls:
                kw = call["kwargs"]
                self.assertIn("eos_token_id", kw)
                self.assertIsNone(kw["eos_token_id"])
                self.assertEqual(call["seed"], 11)
                self.assertEqual(call["load"], ["dtype"])
                self.assertTrue(Path(call["source"]).name == "model")  # the synthetic checkpoint
            short, sampled = calls[0]["kwargs"], calls[3]["kwargs"]
            self.assertEqual((short["max_new_tokens"], short["do_sample"], short["temperature"]), (64, False, None))
            self.assertEqual((sampled["max_new_tokens"], sampled["do_sample"], sampled["top_k"]), (256, True, 50))
            self.assertAlmostEqual(sampled["temperature"], 0.8, places=6)
            self.assertAlmostEqual(sampled["top_p"], 0.9, places=6)
            self.assertEqual(sampled["repetition_penalty"], 1.0)

    def test_engine_hf_bad_flags_are_usage_errors(self) -> None:
        p = run_driver(["--engine", "hf", "--suite", "quick", "--top-k", "5"])
        self.assertEqual(p.returncode, 2)
        self.assertIn("--top-k", p.stderr)
        p = run_driver(["--engine", "tensorrt"])
        self.assertEqual(p.returncode, 2)
        self.assertIn("tensorrt", p.stderr)
        self.assertIn("hf", p.stderr)

    def test_help(self) -> None:
        p = run_driver(["--help"])
        self.assertEqual(p.returncode, 0)
        for s in genbench.flag_specs():
            self.assertIn("--" + s["name"], p.stdout)


class LibraryDiscoveryTest(unittest.TestCase):
    def _fake_checkout(self, tmp: Path, with_go: bool) -> Dict[str, str]:
        """A checkout holding the package, and a PATH whose go "builds" by copying the real library."""
        shutil.copytree(REPO / "python" / "genbench", tmp / "repo" / "python" / "genbench",
                        ignore=shutil.ignore_patterns("__pycache__", "*.so", "_lib"))
        (tmp / "repo" / "go.mod").write_text("module github.com/genbench/genbench\n")
        (tmp / "repo" / "libgen").mkdir()
        bin_dir = tmp / "bin"
        bin_dir.mkdir()
        if with_go:
            go = bin_dir / "go"
            cp = shutil.which("cp") or "/bin/cp"
            go.write_text('#!/bin/sh\necho "$PWD $@" >> "$FAKE_GO_LOG"\n'
                          f'while [ $# -gt 0 ]; do if [ "$1" = "-o" ]; then shift; {cp} "$REAL_LIB" "$1"; fi; shift; done\n')
            go.chmod(0o755)
        env = {k: v for k, v in os.environ.items() if k != "GENBENCH_LIB"}
        # Only the fake go (or none) is on PATH.
        env.update(PATH=str(bin_dir), PYTHONPATH=str(tmp / "repo" / "python"),
                   FAKE_GO_LOG=str(tmp / "go.log"), REAL_LIB=library_under_test())
        return env

    def _version(self, env: Dict[str, str]) -> subprocess.CompletedProcess:
        cwd = Path(env["PYTHONPATH"]).parent
        code = "import genbench\ntry:\n    print(genbench.version())\nexcept genbench.GenbenchError as e:\n    print('ERROR', e)\n"
        return subprocess.run([sys.executable, "-c", code], env=env, cwd=cwd, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, timeout=60)

    def test_builds_when_missing_and_when_stale(self) -> None:
        with tempfile.TemporaryDirectory() as t:
            tmp = Path(t)
            env = self._fake_checkout(tmp, with_go=True)
            p = self._version(env)
            self.assertRegex(p.stdout, r"^\d+\.\d+\.\d+")
            self.assertIn("libgen.so not found; building it with 'go build -buildmode=c-shared", p.stderr)
            log = (tmp / "go.log").read_text()
            self.assertIn(f"{tmp / 'repo'} build -trimpath -buildmode=c-shared -o {tmp / 'repo' / 'build' / 'libgen.so'} ./libgen",
                          log)
            # Up to date: loaded without building.
            p = self._version(env)
            self.assertEqual(p.stderr, "")
            # A newer engine source: rebuilt.
            src = tmp / "repo" / "libgen" / "main.go"
            src.write_text("package main\n")
            future = (tmp / "repo" / "build" / "libgen.so").stat().st_mtime + 10
            os.utime(src, (future, future))
            p = self._version(env)
            self.assertIn("is older than the engine sources; building it", p.stderr)
            self.assertEqual(len((tmp / "go.log").read_text().splitlines()), 2)

    def test_no_library_and_no_go(self) -> None:
        with tempfile.TemporaryDirectory() as t:
            env = self._fake_checkout(Path(t), with_go=False)
            p = self._version(env)
            self.assertIn("ERROR libgen.so not found", p.stdout)
            self.assertIn("no Go toolchain on PATH", p.stdout)
            self.assertIn("make libgen", p.stdout)

    def test_missing_genbench_lib_is_a_clear_error(self) -> None:
        code = "import genbench\ntry:\n    genbench.version()\nexcept genbench.GenbenchError as e:\n    print(e)\n"
        env = dict(os.environ, GENBENCH_LIB="/nonexistent/libgen.so", PYTHONPATH=str(REPO / "python"))
        p = subprocess.run([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, text=True, timeout=60)
        self.assertIn("GENBENCH_LIB=/nonexistent/libgen.so does not exist", p.stdout)
        self.assertIn("make libgen", p.stdout)

    def test_search_order(self) -> None:
        old = os.environ.pop("GENBENCH_LIB", None)
        try:
            paths = _native.candidate_paths()
        finally:
            if old is not None:
                os.environ["GENBENCH_LIB"] = old
        self.assertEqual(paths[0].parent, Path(_native.__file__).resolve().parent)
        self.assertEqual(paths[-1], REPO / "build" / "libgen.so")


if __name__ == "__main__":
    unittest.main()


class WorkflowTest(unittest.TestCase):
    """Several models, sweeps, --format and --record through the Python driver."""

    def test_expand_runs(self) -> None:
        drv = load_driver()
        self.assertEqual(drv.expand_runs(["--model", "tiny-llama,tiny-qwen3", "--suite", "quick"]),
                         [["--suite", "quick", "--model", "tiny-llama"], ["--suite", "quick", "--model", "tiny-qwen3"]])
        self.assertEqual(drv.expand_runs(["--prompt-tokens", "64,256", "--max-new-tokens=16"]),
                         [["--configs", "p64-g16,p256-g16"]])
        self.assertEqual(drv.expand_runs(["--prompt-tokens", "64"]), [["--prompt-tokens", "64"]])
        with self.assertRaisesRegex(drv.UsageError, "--suite cannot be combined with a sweep"):
            drv.expand_runs(["--prompt-tokens", "64,256", "--suite", "quick"])
        self.assertEqual(drv.expand_runs(["--remeasure-bandwidth", "--model", "tiny-llama,tiny-qwen3"]),
                         [["--remeasure-bandwidth", "--model", "tiny-llama"], ["--model", "tiny-qwen3"]])
        # Sampling flags pass through: they set the sweep points' sampling.
        self.assertEqual(drv.expand_runs(["--prompt-tokens", "64,256", "--temperature", "0.8", "--top-k=50"]),
                         [["--temperature", "0.8", "--top-k=50", "--configs", "p64-g256,p256-g256"]])
        cfg, _ = drv.parse_config(["--temperature", "0.8", "--top-k=50", "--configs", "p64-g256,p256-g256"])
        self.assertEqual((cfg["temperature"], cfg["top_k"], cfg["configs"]), (0.8, 50, ["p64-g256", "p256-g256"]))
        with self.assertRaisesRegex(drv.UsageError, "--temperature sets the sampling .* named configs"):
            drv.parse_config(["--configs", "short,p64-g16", "--temperature", "0.8"])
        with self.assertRaisesRegex(drv.UsageError, "--prompt-tokens sets the ad-hoc run"):
            drv.parse_config(["--configs", "p64-g16", "--prompt-tokens", "8"])
        with self.assertRaisesRegex(drv.UsageError, "listed twice"):
            drv.expand_runs(["--max-new-tokens", "8,8"])
        # A --threads list: each model once per thread count, model after model,
        # the bandwidth measured again in the first model's runs (as genbench).
        self.assertEqual(drv.expand_runs(["--threads", "3", "--model", "tiny-llama,tiny-qwen3", "--threads=1, 2",
                                          "--remeasure-bandwidth", "--configs", "short"]),
                         [["--remeasure-bandwidth", "--configs", "short", "--threads", "1", "--model", "tiny-llama"],
                          ["--remeasure-bandwidth", "--configs", "short", "--threads", "2", "--model", "tiny-llama"],
                          ["--configs", "short", "--threads", "1", "--model", "tiny-qwen3"],
                          ["--configs", "short", "--threads", "2", "--model", "tiny-qwen3"]])
        self.assertEqual(drv.expand_runs(["--threads", "0,1", "--prompt-tokens", "16,32"]),
                         [["--configs", "p16-g256,p32-g256", "--threads", "0"],
                          ["--configs", "p16-g256,p32-g256", "--threads", "1"]])
        self.assertEqual(drv.expand_runs(["--threads", "2"]), [["--threads", "2"]])
        for bad, message in (("1,1", "--threads: 1 is listed twice"), ("1,two", "--threads: 'two' is not a thread count"),
                             ("1,-1", "--threads: -1 is negative")):
            with self.assertRaisesRegex(drv.UsageError, message):
                drv.expand_runs(["--threads", bad])

    def test_threads_list(self) -> None:
        """--threads 1,2 through the driver: one report per thread count, each run with its threads."""
        with tempfile.TemporaryDirectory() as tmp:
            r = run_driver(["--model", "tiny-llama", "--threads", "1,2", "--configs", "short", "--warmup", "0",
                            "--trials", "1", "--output-dir", tmp, "--format", "md"])
            self.assertEqual(r.returncode, 0, r.stderr)
            reports = [json.loads(p.read_text()) for p in sorted(Path(tmp).glob("*.json"))]
            self.assertEqual(len(reports), 2, r.stdout)
            self.assertEqual(sorted(rep["flags"]["threads"] for rep in reports), [1, 2])
            for rep in reports:
                self.assertEqual(rep["environment"]["device"]["threads"], rep["flags"]["threads"])
            self.assertRegex(r.stdout, r"(?s)\(\d+ cores?, 1 thread\).*\(\d+ cores?, 2 threads\)")

    def test_sampled_sweep(self) -> None:
        """A sweep with sampling flags on the tiny model: configs pN-gM, each sampled with the flags."""
        r = run_driver(["--prompt-tokens", "16,32", "--max-new-tokens", "8", "--temperature", "0.8", "--top-k", "50",
                        "--top-p", "0.9", "--repetition-penalty", "1.1", "--warmup", "0", "--trials", "1",
                        "--no-save", "--json"])
        self.assertEqual(r.returncode, 0, r.stderr)
        configs = json.loads(r.stdout)["configs"]
        self.assertEqual([c["key"] for c in configs], ["p16-g8", "p32-g8"])
        for c in configs:
            self.assertEqual(c["sampling"], {"temperature": 0.8, "top_k": 50, "top_p": 0.9, "repetition_penalty": 1.1,
                                             "seed": 42})
            self.assertEqual(c["sampling_label"], "temp=0.8 top_k=50 top_p=0.9 rep=1.1")
        self.assertRegex(r.stderr, r"│ p16-g8 +│ +16 │ +8 │ temp=0\.8 top_k=50 top_p=0\.9 rep=1\.1 │")

    def test_two_models_sweep_csv_and_record(self) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            log = Path(tmp) / "LOG.md"
            r = run_driver(["--model", "tiny-llama,tiny-qwen3", "--prompt-tokens", "16,32", "--max-new-tokens", "8",
                            "--warmup", "0", "--trials", "1", "--no-save", "--format", "csv", "--record", str(log)])
            self.assertEqual(r.returncode, 0, r.stderr)
            # stdout: two CSV tables (one per model), nothing else.
            blocks = [b for b in r.stdout.split("\n\n") if b.strip()]
            self.assertEqual(len(blocks), 2, r.stdout)
            for block, model in zip(blocks, ("tiny-llama", "tiny-qwen3")):
                rows = list(csv.DictReader(io.StringIO(block)))
                self.assertEqual([row["key"] for row in rows], ["p16-g8", "p32-g8"])
                self.assertEqual({row["model"] for row in rows}, {model})
                self.assertGreater(float(rows[0]["e2e_tok_s"]), 0)
            self.assertEqual(r.stderr.count(f"Recorded in {log}"), 2)
            text = log.read_text()
            self.assertIn("## tiny-llama", text)
            self.assertIn("## tiny-qwen3", text)
            self.assertIn("| p16-g8 |", text.replace("  ", " ").replace("  ", " "))
            # The roofline columns, after the tok/s ones, with a percentage in each.
            # (headers are right-aligned over their figures: padded on the left
            # when a figure is wider, e.g. 11979.1 tok/s under "p16-g8")
            self.assertRegex(text, r"\| +p16-g8 \| +p32-g8 \| +p16-g8 %BW \| +p32-g8 %BW \|")
            self.assertRegex(text, r"\| +[0-9.]+% \| +[0-9.]+% \|\n")


    def test_remeasure_bandwidth(self) -> None:
        """The device bandwidth is measured on the first run, read from the cache
        on the next, and measured again (replacing the cache entry) with
        --remeasure-bandwidth; the summary says which."""
        with tempfile.TemporaryDirectory() as tmp:
            env = dict(os.environ, XDG_CACHE_HOME=tmp, HOME=tmp)
            args = ["--configs", "short", "--warmup", "0", "--trials", "1", "--no-save", "--json"]
            bws = []
            for extra in ([], [], ["--remeasure-bandwidth"]):
                r = run_driver(args + extra, env=env)
                self.assertEqual(r.returncode, 0, r.stderr)
                bws.append((json.loads(r.stdout)["environment"]["device_bandwidth"], r.stderr))
            (first, s1), (second, s2), (third, s3) = bws
            self.assertNotIn("cached", first)
            self.assertIn("bandwidth (what % of BW is relative to): ", s1)
            self.assertIn(" in this run)", s1)
            self.assertTrue(second["cached"])
            self.assertEqual((second["gb_s"], second["measured_at"]), (first["gb_s"], first["measured_at"]))
            self.assertIn("--remeasure-bandwidth measures it again", s2)
            self.assertNotIn("cached", third)
            self.assertEqual(third["replaced"], {"gb_s": first["gb_s"], "measured_at": first["measured_at"]})
            self.assertIn("replacing the cached", s3)
            cache = json.loads((Path(tmp) / "genbench" / "bandwidth.json").read_text())
            (entry,) = cache["devices"].values()
            self.assertEqual((entry["gb_s"], entry["measured_at"]), (third["gb_s"], third["measured_at"]))


class HelpTest(unittest.TestCase):
    def test_help_shows_defaults_and_choices(self) -> None:
        r = run_driver(["--help"])
        self.assertEqual(r.returncode, 0, r.stderr)
        text = " ".join(r.stdout.split())
        for want in ("(default: 3)", "(default: 42)", "{table,md,csv,json,jsonl}", "{auto,always,never}"):
            self.assertIn(want, text)
