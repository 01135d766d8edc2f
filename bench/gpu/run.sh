#!/usr/bin/env bash
# On a lent GPU machine (root, no registry): unpack the Vulkan loader (.gl/*.deb) and
# .gpu/bundle.tar.xz, both from bench/gpu/pack.sh, then run the
# benchmark suites named as arguments (default: tensor nn tile-probe sgm-check) with PyTorch on the same GPU
# as the second peer, and copy the results from bench/results to $OUT where it is set. A suite is a package (all of
# its benchmarks: tensor's matmul cases beside tfjs, with f16-operand products beside PyTorch's
# f16 ones where the device has shader-f16 (@spine/tensor/node sets Dawn's NVIDIA f16 toggle;
# the deviceInfo line below lists the feature), nn's conv forward and gradients beside tfjs),
# tile-probe (the gpu matmul's tile table timed per size class on this card,
# packages/tensor/bench/gpu-tile-probe.mjs: it prints the table to record), sgm-check (the
# subgroup-matrix matmul against the tiled f16 kernel, both timed at 4096³ and its workgroup
# blocks probed, packages/tensor/bench/subgroup-matrix-check.mjs --tiles, then autocast
# convolutions of DenseNet-121's shapes, plain and as its fused BN-ReLU-convs, on subgroup
# matrices against the tiled f16 kernels, both timed, and their workgroup blocks probed,
# packages/nn/bench/subgroup-matrix-conv-check.mjs --tiles; a failure is printed, the run goes
# on), or package:name for
# one benchmark, e.g. models:densenet-gpu (DenseNet-121 at batch 4 and 32: f32 replayed, mixed,
# inference, the device's share of the step, beside PyTorch CUDA) or models:densenet-peers for
# packages/models/bench/densenet-peers-bench.mjs (DenseNet-121 inference beside ONNX Runtime's
# WebGPU and CPU providers; it exports the ONNX file with this machine's PyTorch first).
#
# Suites run in the order given, so name the most wanted first. With SPINE_GPU_BUDGET_S set, the
# whole run stays within that many seconds: each suite gets what is left and is stopped when it
# runs out (the suites after it are skipped), so a device call with a time limit just above the
# budget always comes back with what finished. With $OUT set (the device machine's folder that
# comes back), the log goes to $OUT/run.log as it is written and the finished suites' results to
# $OUT/results.tar.gz after each suite (one file: a device call returns at most 8).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
start=$SECONDS
budget=${SPINE_GPU_BUDGET_S:-0}
# (Dawn's two warnings per process about dynamic-offset limits are dropped: a device call returns
# only the output's last 12,000 characters.)
if [[ -n ${OUT:-} ]]; then exec > >(grep --line-buffered -v 'artificially reduced' | tee -a "$OUT/run.log") 2>&1; fi
source bench/gpu/setup.sh
# The finished suites' results (real GPUs only: not lavapipe's, not --quick smoke runs), packed
# into $OUT after each suite.
save_results() {
  [[ -n ${OUT:-} ]] || return 0
  local files=()
  for f in bench/results/*.json; do
    case $f in *llvmpipe*|*-quick.json) ;; *) [[ $f -nt $marker ]] && files+=("$f") ;; esac
  done
  ((${#files[@]})) && tar -czf "$OUT/results.tar.gz.tmp" "${files[@]}" && mv "$OUT/results.tar.gz.tmp" "$OUT/results.tar.gz"
  return 0
}
marker=$(mktemp)
# Runs one suite's command within what is left of the budget; a suite that fails or runs out is
# reported and the run goes on (or stops, when the budget is spent).
run_suite() {
  local name=$1
  shift
  local left=0 note=""
  if ((budget > 0)); then
    left=$((budget - (SECONDS - start)))
    if ((left < 20)); then
      echo "== $name: skipped, $left s of the $budget s budget left"
      return 0
    fi
    note=", $left s left"
  fi
  echo "== $name ($((SECONDS - start)) s into the run$note)"
  local rc=0
  if ((left > 0)); then timeout --kill-after=5 "$left" "$@" || rc=$?; else "$@" || rc=$?; fi
  ((rc == 124 || rc == 137)) && echo "== $name: stopped at the budget"
  ((rc != 0 && rc != 124 && rc != 137)) && echo "== $name: failed (exit $rc)"
  save_results
  return 0
}
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
    run_suite "$suite" node packages/tensor/bench/gpu-tile-probe.mjs
  elif [[ $suite == sgm-check ]]; then
    run_suite "$suite (matmul)" node packages/tensor/bench/subgroup-matrix-check.mjs --tiles
    run_suite "$suite (convolutions)" node packages/nn/bench/subgroup-matrix-conv-check.mjs --tiles
  elif [[ $suite == *:* ]]; then
    run_suite "$suite" node "packages/${suite%%:*}/bench/${suite#*:}-bench.mjs"
  else
    # Each package's `bench` script is a plain `node ...` command (no npm on such machines).
    script=$(node -p "require('./packages/$suite/package.json').scripts.bench")
    run_suite "$suite" bash -c "cd packages/$suite && exec $script"
  fi
done
echo "== done in $((SECONDS - start)) s"
