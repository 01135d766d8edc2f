#!/usr/bin/env bash
# On a lent GPU machine (root, no registry): unpack the Vulkan loader (.gl/*.deb, see the device
# notes in docs/BENCHMARKS.md) and .gpu/bundle.tar.xz from bench/gpu/pack.sh, then run the
# benchmark suites named as arguments (default: tensor nn) with PyTorch on the same GPU as the
# second peer, and copy the results to $OUT (or bench/results).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
if compgen -G ".gl/*.deb" >/dev/null; then
  for f in .gl/*.deb; do dpkg -x "$f" /; done
  ldconfig
fi
if [ -z "$(ls /usr/share/vulkan/icd.d/ /etc/vulkan/icd.d/ 2>/dev/null | grep -i nvidia)" ] && [ -f /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json ]; then
  export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
fi
tar -xJf .gpu/bundle.tar.xz -C .
export PATH="$root/.gpu/bin:$PATH"
export SPINE_TORCH_PYTHON=${SPINE_TORCH_PYTHON:-python3} SPINE_TORCH_DEVICE=${SPINE_TORCH_DEVICE:-cuda}
nvidia-smi -L 2>/dev/null || true
node -e "import('@spine/tensor/node').then(async T => { await T.ready(); console.log(JSON.stringify(T.deviceInfo())); process.exit(0); })"
suites=("${@:-tensor nn}")
for suite in ${suites[@]}; do
  # Each package's `bench` script is a plain `node ...` command (no npm on such machines).
  script=$(node -p "require('./packages/$suite/package.json').scripts.bench")
  (cd "packages/$suite" && eval "$script")
done
dest=${OUT:-bench/results}
for f in bench/results/*.json; do
  case $f in *llvmpipe*|*-quick.json) ;; *) cp "$f" "$dest/" ;; esac
done
