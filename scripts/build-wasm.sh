#!/usr/bin/env bash
# Rebuilds the WebAssembly modules from their C sources (only needed when a .c changes; the
# .wasm files are committed, so users and CI need no compiler):
#   src/io/sources/csv/wasm/row-scan.wasm  the chunker's row scanner (csv/chunker.ts)
#   src/csv/wasm/text-check.wasm           the later-row text check (csv/strict-wasm.ts)
# Each folder's built-from.sha256 records the sources a build was made from; a unit test
# (test/unit/csv/wasm-built.test.ts) fails when a .c changed without a rebuild.
# Needs clang and wasm-ld with the wasm32 target: apt-get install clang-14 lld-14
# (Debian 12's clang 14 rebuilds both byte for byte).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
CLANG=${CLANG:-$(command -v clang-14 || command -v clang)}
FLAGS=(--target=wasm32 -O3 -msimd128 -nostdlib -Wl,--no-entry)

cd "$ROOT/src/io/sources/csv/wasm"
# 130 pages (8.125 MiB), fixed: room for a 4 MiB read and more, and a memory that never
# grows, so JavaScript views of it stay valid.
"$CLANG" "${FLAGS[@]}" -Wl,--export=scan -Wl,--export=state_ptr -Wl,--export=input_ptr \
  -Wl,--initial-memory=8519680 -Wl,--max-memory=8519680 \
  -o row-scan.wasm row-scan.c
sha256sum row-scan.c > built-from.sha256
echo "wrote $(pwd)/row-scan.wasm ($(wc -c < row-scan.wasm) bytes)"

cd "$ROOT/src/csv/wasm"
# A memory that grows (strict-wasm.ts grows it to the window of text, or to a field longer than that, and takes new views after).
"$CLANG" "${FLAGS[@]}" -Wl,--export=run -Wl,--export=state_ptr -Wl,--export=heap_base \
  -o text-check.wasm text-check.c
sha256sum text-check.c > built-from.sha256
echo "wrote $(pwd)/text-check.wasm ($(wc -c < text-check.wasm) bytes)"
