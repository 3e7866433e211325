"""A stand-in for the parts of PyTorch bench_generation.py --engine hf uses (CPU only).

It lets the tests drive the Hugging Face path of the driver without PyTorch:
tensors are nested lists, and nothing is computed.
"""

from __future__ import annotations

import contextlib
from typing import Any, Iterator, List, Optional

__version__ = "0.0-stub"
bfloat16 = "bfloat16"
long = "long"
_threads = 1
seeds: List[int] = []


class version:  # noqa: N801 - mirrors torch.version
    cuda: Optional[str] = None


class device:  # noqa: N801 - mirrors torch.device
    def __init__(self, spec: str) -> None:
        self.type, _, index = spec.partition(":")
        self.index = int(index) if index else None

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"


class Tensor:
    def __init__(self, rows: List[List[int]]) -> None:
        self.rows = rows

    def __getitem__(self, key: Any) -> "Tensor":
        row, cols = key
        return Tensor([self.rows[row][cols]])

    def tolist(self) -> List[int]:
        return list(self.rows[0])

    def cpu(self) -> "Tensor":
        return self


def tensor(rows: List[List[int]], dtype: Any = None, device: Any = None) -> Tensor:
    return Tensor([list(r) for r in rows])


def ones_like(t: Tensor) -> Tensor:
    return Tensor([[1] * len(r) for r in t.rows])


def manual_seed(seed: int) -> None:
    seeds.append(seed)


def get_num_threads() -> int:
    return _threads


def set_num_threads(n: int) -> None:
    global _threads
    _threads = n


@contextlib.contextmanager
def inference_mode() -> Iterator[None]:
    yield


class cuda:  # noqa: N801 - mirrors torch.cuda
    @staticmethod
    def is_available() -> bool:
        return False
