#!/usr/bin/env bash
# Builds (with Go) everything scripts/device-check.sh needs on a GPU machine
# that has no Go toolchain and no network, into the ignored folder
# device-carry/:
#   genbench      the static benchmark driver (CGO_ENABLED=0)
#   cudacheck     the CUDA selftest and bandwidth probe (tools/device/cudacheck)
#   libgen.so     the C ABI library (for the Python driver's genbench engine)
#   libgen.glibc  the newest glibc symbol version libgen.so needs (cgo links
#                 it against this machine's glibc; the device check compares
#                 it with the device's `ldd --version` before the HF steps)
#   golden.test   the golden-logit comparison test binary (GOLDEN_PKG)
# Then copy the repository with device-carry/ to the GPU machine and run
# scripts/device-check.sh there from the repository root.
#
# Usage: scripts/device-prepare.sh
# Environment: GOLDEN_PKG (default ./gocore/engine), GO (default go).
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
GOLDEN_PKG=${GOLDEN_PKG:-./gocore/engine}
out=device-carry
mkdir -p "$out"
ldflags="-s -w"

echo "device-prepare: genbench"
CGO_ENABLED=0 "$GO" build -trimpath -ldflags="$ldflags" -o "$out/genbench" ./benchmarks/genbench
echo "device-prepare: cudacheck"
CGO_ENABLED=0 "$GO" build -trimpath -ldflags="$ldflags" -o "$out/cudacheck" ./tools/device/cudacheck
echo "device-prepare: libgen.so"
CGO_ENABLED=1 "$GO" build -trimpath -ldflags="$ldflags" -buildmode=c-shared -o "$out/libgen.so" ./libgen
rm -f "$out/libgen.h"
# The newest GLIBC_x.y symbol version libgen.so references.
need=""
if command -v objdump >/dev/null; then
  need=$(objdump -T "$out/libgen.so" | grep -oE 'GLIBC_[0-9]+(\.[0-9]+)+' | sed 's/GLIBC_//' | sort -uV | tail -n 1)
elif command -v readelf >/dev/null; then
  need=$(readelf -V "$out/libgen.so" | grep -oE 'GLIBC_[0-9]+(\.[0-9]+)+' | sed 's/GLIBC_//' | sort -uV | tail -n 1)
fi
if [[ -n $need ]]; then
  echo "$need" >"$out/libgen.glibc"
  echo "device-prepare: libgen.so needs glibc >= $need (this machine: $(ldd --version | head -n 1)); the device must have at least that"
else
  rm -f "$out/libgen.glibc"
  echo "device-prepare: warning: no objdump/readelf to read the glibc version libgen.so needs" >&2
fi
echo "device-prepare: golden.test ($GOLDEN_PKG)"
if ! CGO_ENABLED=0 "$GO" test -c -trimpath -ldflags="$ldflags" -o "$out/golden.test" "$GOLDEN_PKG"; then
  echo "device-prepare: warning: no golden test binary from $GOLDEN_PKG; the check will skip the comparison" >&2
fi
du -sh "$out"/* | sed 's/^/device-prepare: /'
total=$(du -sk "$out" | cut -f1)
if (( total > 60 * 1024 )); then
  echo "device-prepare: error: $out is ${total} KiB; keep it under 60 MiB so the repository and its artefacts travel light" >&2
  exit 1
fi
echo "device-prepare: done; carry $out with scripts/device-check.sh"
