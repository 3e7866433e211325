#!/usr/bin/env bash
# Installs the system packages the build and tests need on a Debian machine:
# python3, a C compiler, git (reference for the commit a report records),
# node/npm (test data), and NVIDIA's NVRTC from
# non-free (compiles the CUDA kernels in tests; no GPU needed).
# Idempotent and quiet; needs root (or sudo) only when something is missing.
set -euo pipefail
need=()
command -v python3 >/dev/null || need+=(python3)
command -v cc >/dev/null || need+=(gcc libc6-dev)
command -v g++ >/dev/null || need+=(g++)
command -v make >/dev/null || need+=(make)
command -v git >/dev/null || need+=(git)
command -v npm >/dev/null || need+=(nodejs npm)
ldconfig -p 2>/dev/null | grep -q 'libnvrtc\.so' || need+=(libnvrtc11.2)
[ ${#need[@]} -eq 0 ] && exit 0
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
if [[ " ${need[*]} " == *" libnvrtc11.2 "* ]]; then
  # NVRTC lives in Debian's contrib/non-free components.
  for f in /etc/apt/sources.list.d/debian.sources /etc/apt/sources.list; do
    [ -f "$f" ] || continue
    if grep -q '^Components: main$' "$f"; then
      $sudo sed -i 's/^Components: main$/Components: main contrib non-free/' "$f"
    elif grep -qE '^deb .* main$' "$f"; then
      $sudo sed -i -E 's/^(deb .* main)$/\1 contrib non-free/' "$f"
    fi
  done
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq >/dev/null
$sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
