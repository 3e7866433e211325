#!/usr/bin/env python3
"""Summarise a device check: our engine vs Hugging Face per model and config.

Usage: python3 tools/device/summarize.py --dir DIR [--out FILE]

Reads from DIR: bandwidth.json (tools/device/bandwidth.py), and the JSON
reports ours-<n>.json / hf-<n>.json written by the benchmark drivers with
--json; Hugging Face runs may also be split into one report per config,
hf-<n>--<config>.json (scripts/device-check.sh), whose configs are merged. Prints one table (model, config, our E2E tok/s, HF E2E tok/s,
ratio, our decode tok/s, decode % of the copy-bandwidth roofline) and writes
everything to --out as one JSON document.

Decode roofline: a batch-1 decode step reads every weight once, so the best
possible decode rate is bandwidth / weight_bytes; "decode %" is our decode
tok/s over that rate.
"""
import argparse
import glob
import json
import os
import sys


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        return {"error": f"{path}: {e}"}


def configs(report):
    return {c.get("key"): c for c in report.get("configs", []) if isinstance(c, dict)}


def med(cfg, name):
    v = (cfg or {}).get(name) or {}
    return v.get("median") if isinstance(v, dict) else None


def merge_hf(d, tag):
    """The Hugging Face report of one model: hf-<tag>.json, or the configs of
    every hf-<tag>--<config>.json merged into the first one's document."""
    paths = [os.path.join(d, f"hf-{tag}.json")] + sorted(glob.glob(os.path.join(d, f"hf-{tag}--*.json")))
    doc, errors = None, []
    for p in paths:
        if not os.path.exists(p):
            continue
        r = load(p)
        if r.get("error"):
            errors.append(r["error"])
            continue
        if doc is None:
            doc = dict(r)
            doc["configs"] = list(r.get("configs", []))
        else:
            doc["configs"] += [c for c in r.get("configs", []) if isinstance(c, dict)]
    if doc is None:
        return {"error": "; ".join(errors) or f"no hf-{tag}*.json report"}
    if errors:
        doc["partial_errors"] = errors
    return doc


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--out", default="")
    a = ap.parse_args()
    bw_doc = load(os.path.join(a.dir, "bandwidth.json"))
    bw = bw_doc.get("copy_bandwidth_bytes_per_s")
    rows, models = [], {}
    for path in sorted(glob.glob(os.path.join(a.dir, "ours-*.json"))):
        tag = os.path.basename(path)[len("ours-"):-len(".json")]
        ours = load(path)
        hf = merge_hf(a.dir, tag)
        models[tag] = {"ours": ours, "hf": hf}
        model = (ours.get("model") or {}).get("id") or tag
        wbytes = (ours.get("model") or {}).get("weight_bytes") or 0
        oc, hc = configs(ours), configs(hf)
        for key in list(oc) + [k for k in hc if k not in oc]:
            o, h = med(oc.get(key), "e2e_tok_s"), med(hc.get(key), "e2e_tok_s")
            od = med(oc.get(key), "decode_tok_s")
            roof = bw / wbytes if bw and wbytes else None
            rows.append({
                "model": model, "config": key,
                "ours_e2e_tok_s": o, "hf_e2e_tok_s": h,
                "ratio": (o / h) if o and h else None,
                "ours_decode_tok_s": od,
                "decode_roofline_tok_s": roof,
                "decode_pct_of_roofline": (100 * od / roof) if od and roof else None,
            })
        for name, doc in (("ours", ours), ("hf", hf)):
            if doc.get("error"):
                print(f"{tag} {name}: {doc['error']}", file=sys.stderr)

    # Our engine with programmatic dependent launch (pdl-ours-<n>.json).
    for path in sorted(glob.glob(os.path.join(a.dir, "pdl-ours-*.json"))):
        doc = load(path)
        model = (doc.get("model") or {}).get("id") or os.path.basename(path)
        wbytes = (doc.get("model") or {}).get("weight_bytes") or 0
        roof = bw / wbytes if bw and wbytes else None
        for key, c in configs(doc).items():
            od = med(c, "decode_tok_s")
            rows.append({
                "model": model + " PDL", "config": key,
                "ours_e2e_tok_s": med(c, "e2e_tok_s"), "hf_e2e_tok_s": None, "ratio": None,
                "ours_decode_tok_s": od, "decode_roofline_tok_s": roof,
                "decode_pct_of_roofline": (100 * od / roof) if od and roof else None,
            })

    def f(v, fmt):
        return fmt.format(v) if isinstance(v, (int, float)) else "-"

    gpu = bw_doc.get("gpu", "?")
    print(f"GPU {gpu}; copy bandwidth {f(bw and bw / 1e9, '{:.0f}')} GB/s")
    head = f"{'model':34} {'config':9} {'ours tok/s':>10} {'HF tok/s':>9} {'ratio':>6} {'decode':>8} {'% roof':>7}"
    print(head)
    print("-" * len(head))
    for r in rows:
        print(f"{r['model'][:34]:34} {str(r['config'])[:9]:9} {f(r['ours_e2e_tok_s'], '{:.1f}'):>10} "
              f"{f(r['hf_e2e_tok_s'], '{:.1f}'):>9} {f(r['ratio'], '{:.2f}'):>6} "
              f"{f(r['ours_decode_tok_s'], '{:.1f}'):>8} {f(r['decode_pct_of_roofline'], '{:.1f}'):>7}")
    if a.out:
        with open(a.out, "w") as fh:
            json.dump({"bandwidth": bw_doc, "rows": rows, "reports": models}, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
