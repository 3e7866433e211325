#!/usr/bin/env bash
# The device check: one script for a GPU machine (no Go, no network needed;
# torch and transformers installed). It uses the artefacts that
# scripts/device-prepare.sh built into device-carry/ and, within a time
# budget (default 470 s), with every step time-boxed so that one failure
# does not eat the rest:
#   1. records the machine (nvidia-smi, what the CUDA backend's probe finds);
#   2. measures the GPU's device-to-device copy bandwidth (torch; the CUDA
#      backend's own measurement if torch fails);
#   3. runs the CUDA selftest (every GPU op vs the CPU reference, device
#      sampling, graph replay, whole-model logits GPU vs CPU);
#   4. runs the benchmark suite on the three dev models with full-size
#      synthetic weights with our engine, then
#   5. with Hugging Face transformers on the same configs and card;
#   6. runs the golden-logit script (tools/goldens/*.py) into the fixture
#      folder, then our comparison test against those fixtures;
#   7. prints a table: per model and config our tok/s, HF tok/s, ratio, and
#      decode % of the bandwidth roofline.
# Files land in $OUT (a handful, kept small): log.txt,
# selftest.txt, bandwidth.json, golden-test.txt, goldens.tar.gz,
# reports.tar.gz (every JSON report), summary.json.
#
# Usage: scripts/device-check.sh [--dry-run]
#   --dry-run  print the plan and the commands without running them.
# Environment (defaults): OUT (/tmp/genbench-device-check), CARRY
# (device-carry), BUDGET (470 seconds), SUITE (standard), WARMUP (1),
# TRIALS (1), MODELS (the three dev models, space-separated), GOLDEN_SCRIPT
# (the first tools/goldens/*.py), GOLDEN_DIR (gocore/engine/testdata/goldens),
# GOLDEN_PKG_DIR (gocore/engine), GOLDEN_RUN (TestGoldens), GOLDEN_DEVICE
# (cuda: exported as GENBENCH_GOLDEN_DEVICE for the comparison test).
set -u -o pipefail
cd "$(dirname "$0")/.."

DRY=0
case "${1:-}" in
  --dry-run) DRY=1 ;;
  "") ;;
  *) echo "usage: $0 [--dry-run]" >&2; exit 2 ;;
esac

OUT=${OUT:-/tmp/genbench-device-check}
CARRY=${CARRY:-device-carry}
BUDGET=${BUDGET:-470}
SUITE=${SUITE:-standard}
WARMUP=${WARMUP:-1}
TRIALS=${TRIALS:-1}
read -r -a MODELS <<<"${MODELS:-meta-llama/Llama-3.2-1B-Instruct Qwen/Qwen3-1.7B google/gemma-3-1b-it}"
GOLDEN_SCRIPT=${GOLDEN_SCRIPT:-$(ls tools/goldens/*.py 2>/dev/null | head -n 1)}
GOLDEN_DIR=${GOLDEN_DIR:-gocore/engine/testdata/goldens}
GOLDEN_PKG_DIR=${GOLDEN_PKG_DIR:-gocore/engine}
GOLDEN_RUN=${GOLDEN_RUN:-TestGoldens}
GOLDEN_DEVICE=${GOLDEN_DEVICE:-cuda}
PY=${PYTHON:-python3}

start=$(date +%s)
mkdir -p "$OUT" "$OUT/reports"
log="$OUT/log.txt"
: >"$log"
exec > >(tee -a "$log") 2>&1
export PYTHONUNBUFFERED=1

elapsed() { echo $(( $(date +%s) - start )); }

declare -a RESULTS=()

# step NAME LIMIT COMMAND: runs COMMAND (a bash string) under timeout,
# limited to what is left of the budget; records its exit status.
step() {
  local name=$1 limit=$2 cmd=$3
  local left=$(( BUDGET - $(elapsed) - 5 ))
  local t=$(( limit < left ? limit : left ))
  if (( t < 10 )); then
    echo "== $name: skipped, budget spent ($(elapsed)s of ${BUDGET}s)"
    RESULTS+=("$name: skipped (budget)")
    return 0
  fi
  echo "== $name (limit ${t}s, at $(elapsed)s)"
  if (( DRY )); then
    echo "   $cmd"
    RESULTS+=("$name: dry-run")
    return 0
  fi
  local t0=$(date +%s)
  timeout -k 5 "$t" bash -o pipefail -c "$cmd"
  local rc=$?
  local status="ok"
  (( rc == 124 || rc == 137 )) && status="TIMEOUT"
  (( rc != 0 && rc != 124 && rc != 137 )) && status="FAILED (rc $rc)"
  echo "== $name: $status in $(( $(date +%s) - t0 ))s"
  RESULTS+=("$name: $status")
  return 0
}

tag() { echo "$1" | tr '/.:' '___'; }

echo "genbench device check: $(date -u +%FT%TZ), budget ${BUDGET}s, suite $SUITE (warmup $WARMUP, trials $TRIALS)"
for f in genbench cudacheck libgen.so golden.test; do
  if [[ ! -e "$CARRY/$f" ]]; then
    echo "warning: $CARRY/$f is missing (run scripts/device-prepare.sh here and carry $CARRY)"
  fi
done

# 1. The machine.
step "machine" 30 "nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.memory --format=csv; nvidia-smi -L; '$CARRY/cudacheck' --probe"

# 2. Copy bandwidth (the roofline).
step "bandwidth (torch)" 60 "$PY tools/device/bandwidth.py --out '$OUT/reports/bandwidth.json'"
if (( ! DRY )) && [[ ! -s "$OUT/reports/bandwidth.json" ]]; then
  step "bandwidth (cuda backend)" 60 "'$CARRY/cudacheck' --bandwidth-json '$OUT/reports/bandwidth.json' --models tiny-llama --quick"
fi
[[ -s "$OUT/reports/bandwidth.json" ]] && cp "$OUT/reports/bandwidth.json" "$OUT/bandwidth.json"

# 3. CUDA selftest.
step "cuda selftest" 120 "'$CARRY/cudacheck' --seed 42 2>&1 | tee '$OUT/selftest.txt'"

# 4-5. The benchmark suite: ours, then Hugging Face, on the same card.
common="--suite $SUITE --random-weights --json --no-save --warmup $WARMUP --trials $TRIALS"
for m in "${MODELS[@]}"; do
  step "ours $m" 90 "'$CARRY/genbench' $common --model '$m' --device cuda >'$OUT/reports/ours-$(tag "$m").json'"
done
for m in "${MODELS[@]}"; do
  step "hf $m" 110 "$PY benchmarks/bench_generation.py --engine hf $common --model '$m' --device cuda >'$OUT/reports/hf-$(tag "$m").json'"
done

# 6. Golden logits and our comparison against them (last: the benchmark
# table matters most within the budget).
if [[ -n "$GOLDEN_SCRIPT" ]]; then
  step "golden logits ($GOLDEN_SCRIPT)" 90 "$PY '$GOLDEN_SCRIPT' --out '$GOLDEN_DIR'"
  if [[ -e "$CARRY/golden.test" ]]; then
    step "golden comparison" 45 "cd '$GOLDEN_PKG_DIR' && GENBENCH_GOLDEN_DEVICE='$GOLDEN_DEVICE' '$PWD/$CARRY/golden.test' -test.run '$GOLDEN_RUN' -test.v -test.count=1 2>&1 | tee '$OUT/golden-test.txt'"
  else
    echo "== golden comparison: skipped ($CARRY/golden.test missing)"
    RESULTS+=("golden comparison: skipped (no binary)")
  fi
  (( DRY )) || tar -czf "$OUT/goldens.tar.gz" "$GOLDEN_DIR" 2>/dev/null || true
else
  echo "== golden logits: skipped (no tools/goldens/*.py)"
  RESULTS+=("golden logits: skipped (no script)")
fi

# 7. Summary.
if (( ! DRY )); then
  tar -czf "$OUT/reports.tar.gz" -C "$OUT" reports 2>/dev/null || true
  echo
  echo "== steps"
  printf '   %s\n' "${RESULTS[@]}"
  echo
  $PY tools/device/summarize.py --dir "$OUT/reports" --out "$OUT/summary.json" || echo "summary failed"
  rm -rf "$OUT/reports"
else
  echo "== summary: $PY tools/device/summarize.py --dir '$OUT/reports' --out '$OUT/summary.json'"
  printf '   %s\n' "${RESULTS[@]}"
  rm -rf "$OUT/reports"
fi
echo "device check finished in $(elapsed)s"
