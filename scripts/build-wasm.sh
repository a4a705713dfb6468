#!/usr/bin/env bash
# Rebuilds the WebAssembly row scanner from its C source (only needed when row-scan.c
# changes; the .wasm is committed, so users and CI need no compiler).
# Needs clang and wasm-ld with the wasm32 target: apt-get install clang-14 lld-14
set -euo pipefail
cd "$(dirname "$0")/../src/io/sources/csv/wasm"
CLANG=${CLANG:-$(command -v clang-14 || command -v clang)}
# 130 pages (8.125 MiB), fixed: room for a 4 MiB read and more, and a memory that never
# grows, so JavaScript views of it stay valid.
"$CLANG" --target=wasm32 -O3 -msimd128 -nostdlib \
  -Wl,--no-entry -Wl,--export=scan -Wl,--export=state_ptr -Wl,--export=input_ptr \
  -Wl,--initial-memory=8519680 -Wl,--max-memory=8519680 \
  -o row-scan.wasm row-scan.c
echo "wrote $(pwd)/row-scan.wasm ($(wc -c < row-scan.wasm) bytes)"
