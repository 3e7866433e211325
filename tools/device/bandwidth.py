#!/usr/bin/env python3
"""Measure a GPU's device-to-device copy bandwidth with torch.

Usage: python3 tools/device/bandwidth.py [--bytes N] [--reps N] [--out FILE]

Copies a buffer of --bytes (default 1 GiB) of non-zero data --reps times,
each timed with CUDA events, and reports the median of
(bytes read + bytes written) / time. Independent of genbench, so the decode
roofline does not rest on the code it judges.
"""
import argparse
import json
import statistics
import sys


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bytes", type=int, default=1 << 30)
    ap.add_argument("--reps", type=int, default=20)
    ap.add_argument("--out", default="")
    a = ap.parse_args()
    import torch

    if not torch.cuda.is_available():
        print("bandwidth: torch sees no CUDA device", file=sys.stderr)
        return 1
    n = a.bytes // 4
    src = torch.rand(n, device="cuda", dtype=torch.float32) + 1.0
    dst = torch.empty_like(src)
    dst.copy_(src)  # warm-up
    torch.cuda.synchronize()
    times = []
    for _ in range(a.reps):
        s = torch.cuda.Event(enable_timing=True)
        e = torch.cuda.Event(enable_timing=True)
        s.record()
        dst.copy_(src)
        e.record()
        e.synchronize()
        times.append(s.elapsed_time(e) / 1e3)
    med = statistics.median(times)
    bw = 2 * n * 4 / med
    props = torch.cuda.get_device_properties(0)
    res = {
        "gpu": props.name,
        "compute_capability": f"{props.major}.{props.minor}",
        "memory_bytes": props.total_memory,
        "bytes": n * 4,
        "reps": a.reps,
        "median_s": med,
        "copy_bandwidth_bytes_per_s": bw,
        "method": "torch copy_ of float32, CUDA events, median, read+write bytes",
    }
    print(f"copy bandwidth: {bw / 1e9:.1f} GB/s on {props.name}")
    if a.out:
        with open(a.out, "w") as f:
            json.dump(res, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
