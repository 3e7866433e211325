#!/usr/bin/env bash
# The device check: one script for a GPU machine (no Go, no network needed;
# torch and transformers installed). It uses the artefacts that
# scripts/device-prepare.sh built into device-carry/ and runs, within a time
# budget (default 540 s), these steps in this order, each time-boxed (the
# cap is shown by --dry-run) so that one failure or overrun loses nothing
# before it:
#    1. machine        nvidia-smi, glibc (ldd) against what libgen.so needs,
#                      the CUDA backend's probe (driver, NVRTCs found, GPU);
#    2. bandwidth      device-to-device copy bandwidth (torch; the CUDA
#                      backend's own measurement if torch fails);
#    3. memcheck       compute-sanitizer --tool memcheck on a tiny-model
#                      generate, greedy then sampled (where the toolkit has it);
#    4. selftest quick every GPU op vs the CPU reference, the device sampler,
#                      graph replay, the tiny models (rows streamed);
#    5. selftest models whole-model logits GPU vs CPU, full-size dev models;
#    6. ours <model>   the benchmark suite with our engine, each dev model
#                      (full-size synthetic weights);
#    7. golden         the committed Hugging Face golden fixtures compared
#                      with the CUDA backend (golden.test, TestGoldens,
#                      GENBENCH_GOLDEN_DEVICE=cuda); fixtures are made on
#                      the CPU, never regenerated here;
#   7b. PDL            programmatic dependent launch (GENBENCH_CUDA_PDL=1):
#                      tiny models + the first dev model against the CPU,
#                      then ours on the first dev model;
#    8. python lib     the Python package finds the carried libgen.so
#                      (GENBENCH_LIB);
#    9. hf <model> <config>  Hugging Face transformers on the same card, one
#                      process (and one JSON report) per model and config,
#                      reduced configs (HF_CONFIGS), no warm-up.
# Then a summary table (ours vs HF, decode % of the copy-bandwidth roofline).
#
# Every step writes its own file (NN-name.txt, reports/*.json) under
# $STEPS, and after every step $STEPS is packed again into
# $OUT/steps.tar.gz (atomically), so $OUT stays a handful of files (the
# device tool brings back at most 8): log.txt, steps.tar.gz, bandwidth.json,
# selftest-quick.txt, summary.json.
#
# Usage: scripts/device-check.sh [--dry-run]
#   --dry-run  print the steps with their caps and commands, run nothing.
# Environment (defaults): OUT (/tmp/genbench-device-check), STEPS
# (/tmp/genbench-device-steps), CARRY (device-carry), BUDGET (540 seconds),
# SUITE (standard), WARMUP (1), TRIALS (1), MODELS (the three dev models,
# space-separated), HF_CONFIGS (decode medium), HF_WARMUP (0), HF_TRIALS
# (1), GOLDEN_PKG_DIR (gocore/engine), GOLDEN_RUN (TestGoldens),
# GOLDEN_DEVICE (cuda), PYTHON (python3), SANITIZER (compute-sanitizer on
# PATH or under /usr/local/cuda*/bin).
set -u -o pipefail
cd "$(dirname "$0")/.."

DRY=0
case "${1:-}" in
  --dry-run) DRY=1 ;;
  "") ;;
  *) echo "usage: $0 [--dry-run]" >&2; exit 2 ;;
esac

OUT=${OUT:-/tmp/genbench-device-check}
STEPS=${STEPS:-/tmp/genbench-device-steps}
CARRY=${CARRY:-device-carry}
BUDGET=${BUDGET:-540}
SUITE=${SUITE:-standard}
WARMUP=${WARMUP:-1}
TRIALS=${TRIALS:-1}
read -r -a MODELS <<<"${MODELS:-meta-llama/Llama-3.2-1B-Instruct Qwen/Qwen3-1.7B google/gemma-3-1b-it}"
read -r -a HF_CONFIGS <<<"${HF_CONFIGS:-decode medium}"
HF_WARMUP=${HF_WARMUP:-0}
HF_TRIALS=${HF_TRIALS:-1}
GOLDEN_PKG_DIR=${GOLDEN_PKG_DIR:-gocore/engine}
GOLDEN_RUN=${GOLDEN_RUN:-TestGoldens}
GOLDEN_DEVICE=${GOLDEN_DEVICE:-cuda}
PY=${PYTHON:-python3}
[[ $CARRY == /* ]] || CARRY="$PWD/$CARRY"
# The Python package looks for libgen.so at GENBENCH_LIB first; there is no
# Go on the device to build it.
export GENBENCH_LIB="$CARRY/libgen.so"
export PYTHONUNBUFFERED=1
SANITIZER=${SANITIZER:-$(command -v compute-sanitizer || ls /usr/local/cuda*/bin/compute-sanitizer 2>/dev/null | head -n 1)}
# --dry-run shows the memcheck step as it would run where the toolkit has it.
(( DRY )) && [[ -z $SANITIZER ]] && SANITIZER=compute-sanitizer

start=$(date +%s)
elapsed() { echo $(( $(date +%s) - start )); }
declare -a RESULTS=()
n=0

if (( ! DRY )); then
  rm -rf "$STEPS"
  mkdir -p "$OUT" "$STEPS/reports"
  rm -f "$OUT/steps.tar.gz" "$OUT/summary.json" "$OUT/bandwidth.json" "$OUT/selftest-quick.txt"
  log="$OUT/log.txt"
  : >"$log"
  exec > >(tee -a "$log") 2>&1
fi

# pack refreshes $OUT/steps.tar.gz from $STEPS (atomically).
pack() {
  (( DRY )) && return 0
  tar -czf "$OUT/.steps.tar.gz.tmp" -C "$STEPS" . 2>/dev/null && mv -f "$OUT/.steps.tar.gz.tmp" "$OUT/steps.tar.gz"
}

tag() { echo "$1" | tr '/.:' '___'; }

# step NAME CAP COMMAND: runs COMMAND (a bash string; its output goes to
# the log and to $STEPS/NN-<name>.txt) under timeout, limited to what is
# left of the budget; records its status.
step() {
  local name=$1 cap=$2 cmd=$3
  n=$((n + 1))
  local file
  file=$(printf '%02d-%s.txt' "$n" "$(echo "$name" | tr -c 'A-Za-z0-9._\n-' '_')")
  local left=$(( BUDGET - $(elapsed) - 5 ))
  local t=$(( cap < left ? cap : left ))
  if (( DRY )); then
    printf '%2d. %-44s cap %4ss  %s\n' "$n" "$name" "$cap" "$cmd"
    RESULTS+=("$name: dry-run (cap ${cap}s)")
    return 0
  fi
  if (( t < 10 )); then
    echo "== $name: skipped, budget spent ($(elapsed)s of ${BUDGET}s)" | tee "$STEPS/$file"
    RESULTS+=("$name: skipped (budget)")
    pack
    return 0
  fi
  echo "== $name (cap ${t}s, at $(elapsed)s)"
  local t0 rc status
  t0=$(date +%s)
  timeout -k 5 "$t" bash -o pipefail -c "$cmd" 2>&1 | tee "$STEPS/$file"
  rc=${PIPESTATUS[0]}
  status="ok"
  (( rc == 124 || rc == 137 )) && status="TIMEOUT"
  (( rc != 0 && rc != 124 && rc != 137 )) && status="FAILED (rc $rc)"
  echo "== $name: $status in $(( $(date +%s) - t0 ))s" | tee -a "$STEPS/$file"
  RESULTS+=("$name: $status")
  pack
  return 0
}

# skip NAME WHY: records a step that cannot run.
skip() {
  n=$((n + 1))
  local file
  file=$(printf '%02d-%s.txt' "$n" "$(echo "$1" | tr -c 'A-Za-z0-9._\n-' '_')")
  if (( DRY )); then
    printf '%2d. %-44s skipped: %s\n' "$n" "$1" "$2"
  else
    echo "== $1: skipped: $2" | tee "$STEPS/$file"
    pack
  fi
  RESULTS+=("$1: skipped ($2)")
}

echo "genbench device check: $(date -u +%FT%TZ), budget ${BUDGET}s, suite $SUITE (warmup $WARMUP, trials $TRIALS), HF configs ${HF_CONFIGS[*]} (warmup $HF_WARMUP), carry $CARRY"
for f in genbench cudacheck libgen.so golden.test; do
  [[ -e "$CARRY/$f" ]] || echo "warning: $CARRY/$f is missing (run scripts/device-prepare.sh here and carry $CARRY)"
done

# glibc: libgen.so is a cgo library built on the preparing machine; it
# loads only where glibc is at least the version it was linked against
# (device-prepare.sh records it in libgen.glibc).
GLIBC_NEED=$(cat "$CARRY/libgen.glibc" 2>/dev/null || true)
GLIBC_HAVE=$(ldd --version 2>/dev/null | head -n 1 | grep -oE '[0-9]+\.[0-9]+' | tail -n 1)
LIB_PROBLEM=""
if [[ ! -e "$CARRY/libgen.so" ]]; then
  LIB_PROBLEM="$CARRY/libgen.so is missing"
elif [[ -n $GLIBC_NEED && -n $GLIBC_HAVE ]] && [[ $(printf '%s\n%s\n' "$GLIBC_NEED" "$GLIBC_HAVE" | sort -V | tail -n 1) != "$GLIBC_HAVE" ]]; then
  LIB_PROBLEM="libgen.so needs glibc $GLIBC_NEED, this system has $GLIBC_HAVE: build it on an older system (scripts/device-prepare.sh)"
fi
(( DRY )) || echo "glibc: libgen.so needs ${GLIBC_NEED:-?}, this system has ${GLIBC_HAVE:-?}${LIB_PROBLEM:+ -- $LIB_PROBLEM}"

# 1. The machine.
step "machine" 30 "nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.memory --format=csv; nvidia-smi -L; ldd --version | head -n 1; echo 'libgen.so needs glibc ${GLIBC_NEED:-?}'; '$CARRY/cudacheck' --probe"

# 2. Copy bandwidth (the roofline).
step "bandwidth" 45 "$PY tools/device/bandwidth.py --out '$STEPS/reports/bandwidth.json'"
if (( DRY )) || [[ ! -s "$STEPS/reports/bandwidth.json" ]]; then
  step "bandwidth (cuda backend; if torch failed)" 45 "'$CARRY/cudacheck' --bandwidth-json '$STEPS/reports/bandwidth.json' --models-only --models tiny-llama"
fi
(( DRY )) || cp "$STEPS/reports/bandwidth.json" "$OUT/bandwidth.json" 2>/dev/null

# 3. Memory checker on a tiny model (misaligned and out-of-bounds accesses
# the CPU emulation cannot see).
gen="'$CARRY/genbench' generate --model tiny-llama --device cuda --prompt-ids 1,2,3,4,5,6,7,8,9,10,11 --max-new-tokens 12 --no-stop"
if [[ -n $SANITIZER ]]; then
  step "memcheck tiny generate" 90 "'$SANITIZER' --tool memcheck --error-exitcode 3 --print-limit 20 $gen && '$SANITIZER' --tool memcheck --error-exitcode 3 --print-limit 20 $gen --temperature 0.8 --top-k 20 --top-p 0.9 --repetition-penalty 1.1"
else
  skip "memcheck tiny generate" "no compute-sanitizer (PATH, /usr/local/cuda*/bin)"
fi

# 4-5. CUDA selftest: ops and tiny models first, then the full-size models.
step "selftest quick" 90 "'$CARRY/cudacheck' --quick --seed 42"
(( DRY )) || cp "$STEPS/$(printf '%02d' "$n")-selftest_quick.txt" "$OUT/selftest-quick.txt" 2>/dev/null
step "selftest models" 150 "'$CARRY/cudacheck' --models-only --seed 42"

# 6. Our engine on the three dev models.
common="--suite $SUITE --random-weights --json --no-save --warmup $WARMUP --trials $TRIALS"
for m in "${MODELS[@]}"; do
  step "ours $m" 60 "'$CARRY/genbench' $common --model '$m' --device cuda >'$STEPS/reports/ours-$(tag "$m").json'"
done

# 7. The committed golden fixtures against the CUDA backend.
if [[ -e "$CARRY/golden.test" ]] || (( DRY )); then
  step "golden $GOLDEN_RUN ($GOLDEN_DEVICE)" 120 "cd '$GOLDEN_PKG_DIR' && GENBENCH_GOLDEN_DEVICE='$GOLDEN_DEVICE' '$CARRY/golden.test' -test.run '^$GOLDEN_RUN\$' -test.v -test.count=1"
else
  skip "golden $GOLDEN_RUN ($GOLDEN_DEVICE)" "$CARRY/golden.test missing"
fi

# 7b. Programmatic dependent launch (off by default, GENBENCH_CUDA_PDL=1):
# whole-model logits against the CPU, then the first dev model's suite.
pdlmodels="tiny-llama,tiny-qwen3,tiny-gemma3,${MODELS[0]}"
step "selftest models PDL" 60 "GENBENCH_CUDA_PDL=1 '$CARRY/cudacheck' --models-only --models '$pdlmodels' --seed 42"
step "ours ${MODELS[0]} PDL" 60 "GENBENCH_CUDA_PDL=1 '$CARRY/genbench' $common --model '${MODELS[0]}' --device cuda >'$STEPS/reports/pdl-ours-$(tag "${MODELS[0]}").json'"

# 8-9. Hugging Face on the same card: first check that the package finds
# the carried library, then one process per model and config.
pycheck="import sys; sys.path.insert(0, 'python'); from genbench import _native; print('libgen.so:', _native.find_library())"
if [[ -n $LIB_PROBLEM ]]; then
  skip "python lib" "$LIB_PROBLEM"
else
  step "python lib" 20 "GENBENCH_LIB='$GENBENCH_LIB' $PY -c \"$pycheck\""
fi
PYLIB_OK=1
(( DRY )) || [[ ${RESULTS[-1]} == "python lib: ok" ]] || PYLIB_OK=0
for c in "${HF_CONFIGS[@]}"; do
  for m in "${MODELS[@]}"; do
    if (( ! PYLIB_OK )); then
      skip "hf $m $c" "the Python package cannot load libgen.so${LIB_PROBLEM:+ ($LIB_PROBLEM)}"
      continue
    fi
    step "hf $m $c" 90 "$PY benchmarks/bench_generation.py --engine hf --configs $c --random-weights --json --no-save --warmup $HF_WARMUP --trials $HF_TRIALS --model '$m' --device cuda >'$STEPS/reports/hf-$(tag "$m")--$c.json'"
  done
done

# Summary.
if (( DRY )); then
  echo "summary: $PY tools/device/summarize.py --dir '$STEPS/reports' --out '$OUT/summary.json'"
  echo "budget ${BUDGET}s"
  exit 0
fi
echo
echo "== steps"
printf '   %s\n' "${RESULTS[@]}" | tee "$STEPS/steps.txt"
echo
$PY tools/device/summarize.py --dir "$STEPS/reports" --out "$OUT/summary.json" || echo "summary failed"
pack
echo "device check finished in $(elapsed)s"
