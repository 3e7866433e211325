"""The ctypes binding against the embedded tiny model (libgen.so)."""

from __future__ import annotations

import json
import tempfile
import threading
import unittest
from pathlib import Path
from typing import List

import genbench
from genbench import _native

# The tiny tokenizer's special ids (gocore/model: vocabulary 512, BOS 508,
# EOS 509 and 510).
BOS = 508
VOCAB = 512

# The benchmark prompt's built-in text starts with these words
# (gocore/bench.PromptTextBody).
PROMPT_TEXT_START = "The lighthouse keeper kept a ledger of every ship that passed the point"


class EngineTest(unittest.TestCase):
    eng: genbench.Engine

    @classmethod
    def setUpClass(cls) -> None:
        cls.eng = genbench.Engine(device="cpu")

    @classmethod
    def tearDownClass(cls) -> None:
        cls.eng.close()

    def test_versions(self) -> None:
        self.assertEqual(genbench.abi_version(), _native.ABI_VERSION)
        self.assertRegex(genbench.version(), r"^\d+\.\d+\.\d+")
        self.assertTrue(Path(genbench.library_path()).is_file())

    def test_info(self) -> None:
        info = self.eng.info
        self.assertEqual(info["model"]["id"], "tiny-llama")
        self.assertEqual(info["model"]["vocab_size"], VOCAB)
        self.assertTrue(info["model"]["synthetic"])
        self.assertEqual(info["device"]["kind"], "cpu")
        self.assertEqual(info["options"]["device"], "cpu")

    def test_tokenize_round_trip(self) -> None:
        texts = ["Hello world", "caf\u00e9 \u2014 na\u00efve r\u00e9sum\u00e9 \U0001f600", "  spaces\tand\nnewlines  ", ""]
        for text in texts:
            with self.subTest(text=text):
                ids = self.eng.tokenize(text)
                self.assertEqual(ids[0], BOS)
                self.assertTrue(all(0 <= i < VOCAB for i in ids))
                self.assertEqual(self.eng.detokenize(ids), text)
                plain = self.eng.tokenize(text, add_special=False)
                self.assertEqual(plain, ids[1:])
        # Byte-level BPE: every character of the text is covered, so a longer
        # text never encodes to fewer ids than a prefix of it.
        self.assertLessEqual(len(self.eng.tokenize("abc", False)), len(self.eng.tokenize("abcdef", False)))
        with_special = self.eng.detokenize([BOS] + self.eng.tokenize("hi", False), skip_special=False)
        self.assertTrue(with_special.endswith("hi") and len(with_special) > 2)

    def test_generate_greedy(self) -> None:
        prompt = self.eng.tokenize("Between the entries are short notes")
        res = self.eng.generate(prompt, max_new_tokens=20, stop_at_eos=False)
        self.assertEqual(len(res.token_ids), 20)
        self.assertEqual(res.timings.n_generated, 20)
        self.assertEqual(res.timings.n_prompt, len(prompt))
        self.assertEqual(res.timings.stop_reason, "max_new_tokens")
        self.assertGreater(res.timings.ttft_ms, 0)
        self.assertGreaterEqual(res.timings.total_ms, res.timings.ttft_ms)
        self.assertAlmostEqual(res.timings.e2e_tok_s, 20 / (res.timings.total_ms / 1000), delta=0.01 * res.timings.e2e_tok_s)
        self.assertEqual(res.text, self.eng.detokenize(res.token_ids))
        # Greedy is deterministic, and a text prompt is encoded as tokenize() does.
        again = self.eng.generate("Between the entries are short notes", max_new_tokens=20, stop_at_eos=False)
        self.assertEqual(again.token_ids, res.token_ids)

    def test_generate_sampled_seeded(self) -> None:
        kw = dict(max_new_tokens=16, temperature=0.8, top_k=50, top_p=0.9, repetition_penalty=1.1, stop_at_eos=False)
        a = self.eng.generate("Read together, the notes", seed=3, **kw)
        b = self.eng.generate("Read together, the notes", seed=3, **kw)
        self.assertEqual(a.token_ids, b.token_ids)
        self.assertEqual(len(a.token_ids), 16)

    def test_stream(self) -> None:
        res = self.eng.generate("Over forty winters", max_new_tokens=12, stop_at_eos=False)
        pieces = list(self.eng.stream("Over forty winters", max_new_tokens=12, stop_at_eos=False))
        ids = [p.token_id for p in pieces if p.token_id >= 0]
        self.assertEqual(ids, res.token_ids)
        self.assertEqual("".join(p.text for p in pieces), res.text)

    def test_stream_stops_early(self) -> None:
        got: List[int] = []
        for piece in self.eng.stream("Over forty winters", max_new_tokens=50, stop_at_eos=False):
            got.append(piece.token_id)
            if len(got) == 3:
                break
        self.assertEqual(len(got), 3)
        # The engine is free again once the loop is left.
        self.assertEqual(len(self.eng.generate([BOS, 5], max_new_tokens=2, stop_at_eos=False).token_ids), 2)

    def test_on_token_stop(self) -> None:
        seen: List[int] = []
        res = self.eng.generate("a", max_new_tokens=30, stop_at_eos=False,
                                on_token=lambda p: seen.append(p.token_id) or len(seen) >= 4)
        self.assertEqual(len(res.token_ids), 4)
        self.assertEqual(res.timings.stop_reason, "callback")
        self.assertEqual(seen, res.token_ids)

    def test_callback_exception_propagates(self) -> None:
        def boom(_: genbench.TokenPiece) -> bool:
            raise ValueError("from the callback")

        with self.assertRaisesRegex(ValueError, "from the callback"):
            self.eng.generate("a", max_new_tokens=5, on_token=boom)

    def test_busy(self) -> None:
        errors: List[genbench.GenbenchError] = []

        def nested(_: genbench.TokenPiece) -> bool:
            try:
                self.eng.tokenize("x")
            except genbench.GenbenchError as e:
                errors.append(e)
            return True

        self.eng.generate("a", max_new_tokens=3, on_token=nested)
        self.assertEqual(len(errors), 1)
        self.assertEqual(errors[0].status, _native.ERR_BUSY)
        self.assertIn("one call at a time", str(errors[0]))

    def test_prompt_ids(self) -> None:
        ids = self.eng.prompt_ids(100, seed=42)
        self.assertEqual(len(ids), 100)
        body = self.eng.tokenize(PROMPT_TEXT_START, add_special=False)
        self.assertEqual(ids[0], BOS)
        self.assertEqual(ids[1:len(body)], body[:-1])  # the last word may merge with what follows

    def test_bench_on_engine(self) -> None:
        lines: List[str] = []
        report = self.eng.bench({"configs": ["short"], "warmup": 1, "trials": 2, "no_save": True, "seed": 9},
                                progress=lambda line: lines.append(line) and False)
        genbench.validate_report(report)
        self.assertEqual(report["suite"], "custom")
        self.assertEqual(report["flags"]["device"], "cpu")
        self.assertEqual(report["flags"]["seed"], 9)
        self.assertEqual([c["key"] for c in report["configs"]], ["short"])
        c = report["configs"][0]
        self.assertEqual((c["prompt_tokens"], c["gen_tokens"], c["trials"], c["warmup"]), (64, 64, 2, 1))
        self.assertEqual(len(c["e2e_tok_s"]["trials"]), 2)
        self.assertTrue(c["identical_tokens"])
        self.assertTrue(any(line.startswith("[1/1] short") for line in lines), lines)

    def test_bench_external_same_prompt(self) -> None:
        prompts: List[List[int]] = []

        def fake(prompt: List[int], params: dict) -> tuple:
            prompts.append(prompt)
            n = params["max_new_tokens"]
            self.assertEqual(params["stop_at_eos"], 0)
            return [prompt[i % len(prompt)] for i in range(n)], 1.5, 1.5 + n, 4096

        run = self.eng.bench_external({"configs": ["short"], "warmup": 0, "trials": 3, "engine": "hf", "no_save": True},
                                      fake, {"engine_version": "4.99", "torch_version": "9.0"})
        self.assertEqual(len(prompts), 3)
        self.assertEqual(prompts[0], self.eng.prompt_ids(64, 42))
        rep = run.report
        genbench.validate_report(run.report_json)
        self.assertEqual(rep["engine"], "hf")
        self.assertEqual(rep["engine_version"], "4.99")
        self.assertEqual(rep["environment"]["torch_version"], "9.0")
        c = rep["configs"][0]
        self.assertEqual(c["ttft_ms"]["median"], 1.5)
        self.assertAlmostEqual(c["e2e_tok_s"]["median"], 64 / 0.0655, places=6)
        self.assertAlmostEqual(c["decode_tok_s"]["median"], 63 / 0.064, places=6)
        self.assertEqual(c["peak_mem_bytes"]["median"], 4096)
        self.assertIn("short", run.summary)

    def test_bench_external_error_propagates(self) -> None:
        def broken(prompt: List[int], params: dict) -> tuple:
            raise RuntimeError("CUDA out of memory (simulated)")

        with self.assertRaisesRegex(RuntimeError, "simulated"):
            self.eng.bench_external({"configs": ["short"], "warmup": 0, "trials": 1, "engine": "hf", "no_save": True},
                                    broken)

    def test_errors(self) -> None:
        cases = [
            (lambda: self.eng.generate([BOS, VOCAB + 5], max_new_tokens=2), _native.ERR_INVALID_ARGUMENT, str(VOCAB + 5)),
            (lambda: self.eng.generate([], max_new_tokens=2), _native.ERR_INVALID_ARGUMENT, "empty"),
            (lambda: self.eng.generate("a", max_new_tokens=2, top_p=2.0), _native.ERR_INVALID_ARGUMENT, "top_p"),
            (lambda: self.eng.generate("a", max_new_tokens=2, temperature=-1), _native.ERR_INVALID_ARGUMENT, "temperature"),
            (lambda: self.eng.generate("a", max_new_tokens=0), None, "max_new_tokens"),
            (lambda: self.eng.generate("a", max_new_tokens=1_000_000), _native.ERR_INVALID_ARGUMENT, "positions"),
            (lambda: self.eng.detokenize([1, -4]), _native.ERR_INVALID_ARGUMENT, "-4"),
            (lambda: self.eng.detokenize(["x"]), None, "integer token id"),  # type: ignore[list-item]
            (lambda: self.eng.bench({"suite": "quick", "nope": 1}), _native.ERR_BAD_JSON, "nope"),
            (lambda: self.eng.bench({"warmup": -1}), _native.ERR_INVALID_ARGUMENT, "--warmup"),
            (lambda: genbench.bench({"configs": ["short", "gigantic"]}), _native.ERR_INVALID_ARGUMENT, "gigantic"),
            (lambda: genbench.bench({"suite": "quick", "prompt_tokens": 8}), _native.ERR_INVALID_ARGUMENT, "cannot be combined with --suite"),
            (lambda: genbench.bench({"threads": 100000000}), _native.ERR_INVALID_ARGUMENT, "--threads: 100000000 is too many"),
            (lambda: genbench.bench({"temperature": 1e308}), _native.ERR_INVALID_ARGUMENT, "--temperature: 1e+308"),
            (lambda: genbench.validate_report({"schema_version": 1}), _native.ERR_BAD_JSON, "report"),
            (lambda: genbench.render_summary("not json"), _native.ERR_BAD_JSON, "report"),
            (lambda: genbench.write_hf("gpt-17", "/tmp/nowhere"), _native.ERR_INVALID_ARGUMENT, "gpt-17"),
        ]
        for fn, status, needle in cases:
            with self.subTest(needle=needle):
                with self.assertRaises(genbench.GenbenchError) as cm:
                    fn()
                self.assertEqual(cm.exception.status, status)
                self.assertIn(needle, str(cm.exception))


class OpenCloseTest(unittest.TestCase):
    def test_open_errors(self) -> None:
        cases = [
            (dict(device="tpu"), _native.ERR_INVALID_ARGUMENT, "tpu"),
            (dict(dtype="float16"), _native.ERR_INVALID_ARGUMENT, "bfloat16"),
            (dict(threads=-1), _native.ERR_INVALID_ARGUMENT, "threads"),
            (dict(threads=100000000), _native.ERR_INVALID_ARGUMENT, "100000000 is too many"),
            (dict(model="/nonexistent/genbench-model"), _native.ERR_LOAD, "/nonexistent/genbench-model"),
        ]
        for kw, status, needle in cases:
            with self.subTest(kw=kw):
                with self.assertRaises(genbench.GenbenchError) as cm:
                    genbench.Engine(**kw)  # type: ignore[arg-type]
                self.assertEqual(cm.exception.status, status)
                self.assertIn(needle, str(cm.exception))

    def test_context_manager_and_closed_handle(self) -> None:
        with genbench.Engine("tiny-qwen3", device="cpu", threads=1) as eng:
            self.assertEqual(eng.info["model"]["arch"], "qwen3")
            self.assertEqual(len(eng.generate("hi", max_new_tokens=3, stop_at_eos=False).token_ids), 3)
        with self.assertRaises(genbench.GenbenchError) as cm:
            eng.tokenize("hi")
        self.assertEqual(cm.exception.status, _native.ERR_INVALID_HANDLE)
        self.assertIn("closed", str(cm.exception))
        eng.close()  # closing twice is harmless

    def test_concurrent_engines(self) -> None:
        """Different engines may be used from different threads at once."""
        results: List[List[int]] = [[], []]
        errors: List[BaseException] = []

        def work(i: int) -> None:
            try:
                with genbench.Engine("tiny-llama", device="cpu", threads=1) as eng:
                    results[i] = eng.generate([BOS, 7, 8, 9], max_new_tokens=10, stop_at_eos=False).token_ids
            except BaseException as e:  # noqa: BLE001
                errors.append(e)

        threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(errors, [])
        self.assertEqual(len(results[0]), 10)
        self.assertEqual(results[0], results[1])

    def test_write_hf_loads_back(self) -> None:
        """A checkpoint written for another engine holds the built-in synthetic weights."""
        with tempfile.TemporaryDirectory() as tmp:
            genbench.write_hf("tiny-gemma3", tmp)
            cfg = json.loads(Path(tmp, "config.json").read_text())
            self.assertEqual(cfg["architectures"], ["Gemma3ForCausalLM"])
            self.assertEqual(cfg["vocab_size"], VOCAB)
            for name in ("model.safetensors", "tokenizer.json", "generation_config.json"):
                self.assertTrue(Path(tmp, name).is_file(), name)
            prompt = [BOS, 40, 41, 42, 43]
            with genbench.Engine(tmp, device="cpu") as a, genbench.Engine("tiny-gemma3", device="cpu") as b:
                self.assertEqual(a.generate(prompt, max_new_tokens=8, stop_at_eos=False).token_ids,
                                 b.generate(prompt, max_new_tokens=8, stop_at_eos=False).token_ids)


if __name__ == "__main__":
    unittest.main()
