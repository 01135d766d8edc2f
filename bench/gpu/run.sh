#!/usr/bin/env bash
# On a lent GPU machine (root, no registry): unpack the Vulkan loader (.gl/*.deb, see the device
# notes in docs/BENCHMARKS.md) and .gpu/bundle.tar.xz from bench/gpu/pack.sh, then run the
# benchmark suites named as arguments (default: tensor nn tile-probe sgm-check) with PyTorch on the same GPU
# as the second peer, and copy the results from bench/results to $OUT where it is set. A suite is a package (all of
# its benchmarks: tensor's matmul cases beside tfjs, with f16-operand products beside PyTorch's
# f16 ones where the device has shader-f16 (@spine/tensor/node sets Dawn's NVIDIA f16 toggle;
# the deviceInfo line below lists the feature), nn's conv forward and gradients beside tfjs),
# tile-probe (the gpu matmul's tile table timed per size class on this card,
# packages/tensor/bench/gpu-tile-probe.mjs: it prints the table to record), sgm-check (the
# subgroup-matrix matmul against the tiled f16 kernel and both timed at 4096³,
# packages/tensor/bench/subgroup-matrix-check.mjs, then autocast convolutions of DenseNet-121's
# shapes on subgroup matrices against the tiled f16 kernels, both timed, and their workgroup blocks
# probed, packages/nn/bench/subgroup-matrix-conv-check.mjs --tiles; a failure is printed, the run
# goes on), or package:name for
# one benchmark, e.g. models:densenet-gpu (DenseNet-121 at batch 4 and 32: f32 replayed, mixed,
# inference, the device's share of the step, beside PyTorch CUDA) or models:densenet-peers for
# packages/models/bench/densenet-peers-bench.mjs (DenseNet-121 inference beside ONNX Runtime's
# WebGPU and CPU providers; it exports the ONNX file with this machine's PyTorch first).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
source bench/gpu/setup.sh
export SPINE_TORCH_PYTHON=${SPINE_TORCH_PYTHON:-python3} SPINE_TORCH_DEVICE=${SPINE_TORCH_DEVICE:-cuda}
# Dawn lists subgroup matrices (tensor cores) only with allow_unsafe_apis: ask for them; each
# process's ready() checks one product against the tiled f16 kernel before routing f16 products there.
export SPINE_SUBGROUP_MATRICES=${SPINE_SUBGROUP_MATRICES:-1}
node -e "import('@spine/tensor/node').then(async T => { await T.ready(); console.log(JSON.stringify({ ...T.deviceInfo(), subgroupMatrices: T.subgroupMatrixStatus() })); process.exit(0); })"
# The same adapter with Dawn's experimental features listed (subgroup matrices, f16 on NVIDIA):
# its features and subgroup-matrix configurations, for the record.
node -e "import('@spine/tensor/node').then(async T => { await T.ready({ dawnFlags: ['enable-dawn-features=allow_unsafe_apis,vulkan_enable_f16_on_nvidia'] }); const i = T.deviceInfo(); console.log(JSON.stringify({ unsafeApis: true, features: i.features, subgroupMatrixConfigs: i.subgroupMatrixConfigs })); process.exit(0); })" || true
suites=("${@:-tensor nn tile-probe sgm-check}")
for suite in ${suites[@]}; do
  if [[ $suite == tile-probe ]]; then
    node packages/tensor/bench/gpu-tile-probe.mjs
    continue
  fi
  if [[ $suite == sgm-check ]]; then
    node packages/tensor/bench/subgroup-matrix-check.mjs || echo "sgm-check (matmul) failed (exit $?)"
    node packages/nn/bench/subgroup-matrix-conv-check.mjs --tiles || echo "sgm-check (convolutions) failed (exit $?)"
    continue
  fi
  if [[ $suite == *:* ]]; then
    node "packages/${suite%%:*}/bench/${suite#*:}-bench.mjs"
    continue
  fi
  # Each package's `bench` script is a plain `node ...` command (no npm on such machines).
  script=$(node -p "require('./packages/$suite/package.json').scripts.bench")
  (cd "packages/$suite" && eval "$script")
done
# The results stay in bench/results; with $OUT (the device machine's folder that comes back)
# they are copied there too.
if [[ -n ${OUT:-} ]]; then
  for f in bench/results/*.json; do
    case $f in *llvmpipe*|*-quick.json) ;; *) cp "$f" "$OUT/" ;; esac
  done
fi
