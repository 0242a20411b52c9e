#!/usr/bin/env bash
# Builds and runs Benchmarks/kernels/linear-kernels.c against the system's OpenBLAS (Debian's
# libopenblas-dev) with clang, into a temporary folder.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
include=$(dirname "$(find /usr/include -name cblas.h -path '*openblas*' | head -1)")
clang -O2 -I "$here/Sources/CVector/include" -I "$include" "$here/Benchmarks/kernels/linear-kernels.c" \
  "$here/Sources/CVector/gemm.c" -lopenblas -lm -o "$work/linear-kernels"
"$work/linear-kernels"
