"""Unit tests of the torch-free parts of make_goldens.py (run:
python3 -m unittest discover -s tools/goldens)."""

import hashlib
import json
import os
import struct
import tempfile
import unittest

import make_goldens as mg


class GoldensTest(unittest.TestCase):
    def test_sequence_is_fixed_and_in_vocab(self) -> None:
        a = mg.token_sequence(mg.SEED, mg.SEQ_LEN, 512, 508)
        self.assertEqual(a, mg.token_sequence(mg.SEED, mg.SEQ_LEN, 512, 508))
        self.assertEqual(len(a), mg.SEQ_LEN)
        self.assertEqual(a[0], 508)
        self.assertTrue(all(0 <= t < 512 for t in a))
        self.assertGreater(len(set(a)), 300)
        big = mg.token_sequence(mg.SEED, mg.SEQ_LEN, 262144, 2)
        self.assertGreater(max(big), 512)
        self.assertTrue(all(0 <= t < 262144 for t in big))

    def test_sequences_cross_gemmas_window(self) -> None:
        self.assertGreater(mg.SEQ_LEN, 512)
        self.assertEqual(mg.TINY["tiny-gemma3"]["sliding_window"], 512)
        self.assertGreater(max(mg.tap_positions(mg.SEQ_LEN)), 512)

    def test_packing_is_little_endian(self) -> None:
        self.assertEqual(mg.pack("H", [0x3F80, 0xBF80]), b"\x80\x3f\x80\xbf")
        self.assertEqual(struct.unpack("<2f", mg.pack("f", [1.5, -2.0])), (1.5, -2.0))
        self.assertEqual(struct.unpack("<2i", mg.pack("i", [7, -1])), (7, -1))

    def test_manifest(self) -> None:
        with tempfile.TemporaryDirectory() as d:
            os.makedirs(os.path.join(d, "tiny-llama"))
            with open(os.path.join(d, "tiny-llama", "x.bin"), "wb") as f:
                f.write(b"abc")
            path = mg.write_manifest(d)
            with open(path, encoding="utf-8") as f:
                text = f.read()
            self.assertEqual(text, "%s  tiny-llama/x.bin\n" % hashlib.sha256(b"abc").hexdigest())

    def test_safetensors_digest(self) -> None:
        # two tensors written out of name order; the digest is over name order
        header = {"b": {"dtype": "BF16", "shape": [1], "data_offsets": [0, 2]},
                  "a": {"dtype": "BF16", "shape": [2], "data_offsets": [2, 6]},
                  "__metadata__": {"format": "pt"}}
        h = json.dumps(header).encode()
        with tempfile.TemporaryDirectory() as d:
            p = os.path.join(d, "model.safetensors")
            with open(p, "wb") as f:
                f.write(struct.pack("<Q", len(h)) + h + b"\x01\x02" + b"\x03\x04\x05\x06")
            want = hashlib.sha256(b"a\0\x03\x04\x05\x06" + b"b\0\x01\x02").hexdigest()
            self.assertEqual(mg.safetensors_digest(p), want)

    def test_tiny_configs(self) -> None:
        for name, cfg in mg.TINY.items():
            self.assertEqual(cfg["vocab_size"], mg.TINY_VOCAB, name)
            self.assertEqual(cfg["num_attention_heads"] % cfg["num_key_value_heads"], 0, name)
        self.assertFalse(mg.TINY["tiny-llama"]["tie_word_embeddings"])
        g = mg.TINY["tiny-gemma3"]
        self.assertNotEqual(g["query_pre_attn_scalar"], g["head_dim"])

    def test_real_configs_are_the_published_ones_cut(self) -> None:
        self.assertEqual(set(mg.REAL), {"llama-3.2-1b", "qwen3-1.7b", "gemma-3-1b"})
        for name, spec in mg.REAL.items():
            cfg = mg.real_config(name)
            self.assertEqual(cfg["num_hidden_layers"], spec["layers"])
            with open(os.path.join(mg.REPO, "testdata", "checkpoints", spec["checkpoint"], "config.json")) as f:
                full = json.load(f)
            self.assertGreater(full["num_hidden_layers"], spec["layers"])
            full["num_hidden_layers"] = spec["layers"]
            self.assertEqual(cfg, full)
        # Gemma 3: layer 5 is the first global layer of the 1-in-6 pattern
        self.assertGreaterEqual(mg.REAL["gemma-3-1b"]["layers"], mg.real_config("gemma-3-1b")["sliding_window_pattern"])

    def test_tap_order_is_the_decoders(self) -> None:
        keys = [(0, "layer_out"), (-1, "embed"), (1, "q"), (0, "attn_norm"), (2, "final_norm")]
        self.assertEqual(mg.ordered(keys, False),
                         [(-1, "embed"), (0, "attn_norm"), (0, "layer_out"), (1, "q"), (2, "final_norm")])


if __name__ == "__main__":
    unittest.main()
