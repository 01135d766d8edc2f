#!/usr/bin/env bash
# On a lent GPU machine (root, no registry): unpack the Vulkan loader (.gl/*.deb, see the device
# notes in docs/BENCHMARKS.md) and .gpu/bundle.tar.xz from bench/gpu/pack.sh, then run the
# benchmark suites named as arguments (default: tensor nn) with PyTorch on the same GPU as the
# second peer, and copy the results to $OUT (or bench/results). A suite is a package (all of its
# benchmarks) or package:name for one of them, e.g. models:densenet-peers for
# packages/models/bench/densenet-peers-bench.mjs (DenseNet-121 inference beside ONNX Runtime's
# WebGPU and CPU providers; it exports the ONNX file with this machine's PyTorch first).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
source bench/gpu/setup.sh
export SPINE_TORCH_PYTHON=${SPINE_TORCH_PYTHON:-python3} SPINE_TORCH_DEVICE=${SPINE_TORCH_DEVICE:-cuda}
node -e "import('@spine/tensor/node').then(async T => { await T.ready(); console.log(JSON.stringify(T.deviceInfo())); process.exit(0); })"
suites=("${@:-tensor nn}")
for suite in ${suites[@]}; do
  if [[ $suite == *:* ]]; then
    node "packages/${suite%%:*}/bench/${suite#*:}-bench.mjs"
    continue
  fi
  # Each package's `bench` script is a plain `node ...` command (no npm on such machines).
  script=$(node -p "require('./packages/$suite/package.json').scripts.bench")
  (cd "packages/$suite" && eval "$script")
done
dest=${OUT:-bench/results}
for f in bench/results/*.json; do
  case $f in *llvmpipe*|*-quick.json) ;; *) cp "$f" "$dest/" ;; esac
done
