"""Unit tests of the torch-free parts of make_goldens.py (run:
python3 -m unittest discover -s tools/goldens)."""

import hashlib
import os
import struct
import tempfile
import unittest

import make_goldens as mg


class GoldensTest(unittest.TestCase):
    def test_sequence_is_fixed_and_in_vocab(self) -> None:
        a = mg.token_sequence(mg.SEED, mg.SEQ_LEN)
        self.assertEqual(a, mg.token_sequence(mg.SEED, mg.SEQ_LEN))
        self.assertEqual(len(a), mg.SEQ_LEN)
        self.assertEqual(a[0], mg.BOS)
        self.assertTrue(all(0 <= t < mg.VOCAB - 4 for t in a[1:]))
        self.assertGreater(len(set(a)), mg.SEQ_LEN // 2)

    def test_packing_is_little_endian(self) -> None:
        self.assertEqual(mg.pack_bf16([0x3F80, 0xBF80]), b"\x80\x3f\x80\xbf")
        self.assertEqual(struct.unpack("<2f", mg.pack_f32([1.5, -2.0])), (1.5, -2.0))

    def test_manifest(self) -> None:
        with tempfile.TemporaryDirectory() as d:
            os.makedirs(os.path.join(d, "llama"))
            with open(os.path.join(d, "llama", "x.bin"), "wb") as f:
                f.write(b"abc")
            path = mg.write_manifest(d)
            with open(path, encoding="utf-8") as f:
                text = f.read()
            self.assertEqual(text, "%s  llama/x.bin\n" % hashlib.sha256(b"abc").hexdigest())

    def test_configs_match_tiny_shapes(self) -> None:
        for arch, cfg in mg.CONFIGS.items():
            self.assertEqual(cfg["vocab_size"], mg.VOCAB, arch)
            self.assertEqual(cfg["num_attention_heads"] % cfg["num_key_value_heads"], 0, arch)
        self.assertLess(mg.CONFIGS["gemma3"]["sliding_window"], mg.SEQ_LEN)


if __name__ == "__main__":
    unittest.main()
